samplesdir = $(pkgdatadir)/samples
dist_samples_DATA = samples/tiny.ovf

# The sample appliance: `make sample` builds its disk image and packs
# samples/out/tiny.ova with our own convert and pack.  It downloads a kernel package on first use, so neither
# `make` nor `make check` runs it; the boot tests build it themselves (cached)
# and skip when the kernel package cannot be obtained.
sample_tiny_files = samples/build-tiny.sh samples/build-tiny-efi.sh samples/pack-tiny.sh samples/tiny/init samples/tiny/shutdown \
	samples/tiny/udhcpc.script samples/tiny/poweroff.cgi samples/tiny/index.cgi \
	samples/tiny/acpi-power samples/tiny/syslinux.cfg
EXTRA_DIST += $(sample_tiny_files) samples/README.md

.PHONY: sample
sample: ovfdeploy
	OVFDEPLOY=$(abs_top_builddir)/ovfdeploy $(SHELL) $(abs_top_srcdir)/samples/pack-tiny.sh $(abs_top_builddir)/samples/out

# The sample: its build, the environment parser of its /init, and boots
# under QEMU (TCG).
TESTS += tests/sample/build.sh tests/sample/init-env.sh tests/sample/boot-oneshot.sh tests/sample/boot-http.sh
TESTS += tests/sample/guestinfo.sh
EXTRA_DIST += tests/sample/guestinfo.sh
EXTRA_DIST += tests/sample/lib.sh tests/sample/build.sh tests/sample/init-env.sh \
	tests/sample/boot-oneshot.sh tests/sample/boot-http.sh

# The sample's output and its kernel cache (tests/sample/build.sh) are made
# in the build tree; `make clean` keeps the cache (a download), distclean
# returns the tree to what was unpacked.
distclean-local:
	rm -rf samples/out
