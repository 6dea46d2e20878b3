# Unit tests of src/util and end-to-end tests of the CLI skeleton.  Each area
# (src/ovf, src/disk, src/runner) lists its own tests in its local.mk.
# check_run.h: the runner every Check test's main() shares.
EXTRA_DIST += tests/check_run.h
check_PROGRAMS += tests/util/test_util
tests_util_test_util_SOURCES = tests/util/test_util.c
tests_util_test_util_CFLAGS = $(TEST_CFLAGS)
tests_util_test_util_LDADD = src/util/libodutil.a $(TEST_LIBS)
TESTS += tests/util/test_util

TESTS += tests/cli/basics.sh
EXTRA_DIST += tests/cli/basics.sh tests/cli/lib.sh
# which outputs are durable: --sync for bulk output, always for instance state (issue 13)
TESTS += tests/cli/sync.sh
EXTRA_DIST += tests/cli/sync.sh
# errors that say how to fix (issue 13)
TESTS += tests/cli/errors.sh
EXTRA_DIST += tests/cli/errors.sh
# no call cycles among a driver's files (issue 13)
TESTS += tests/cli/layers.sh
EXTRA_DIST += tests/cli/layers.sh scripts/layers

TESTS += tests/fuzz/fuzz-script.sh
EXTRA_DIST += tests/fuzz/fuzz-script.sh scripts/fuzz tests/fuzz/fuzz_net.c tests/fuzz/fuzz_vmxnet3.c tests/fuzz/net_fuzz.h tests/fuzz/vmm_stubs.c tests/fuzz/README.md \
	tests/fuzz/fuzz_kernel.c tests/fuzz/fuzz_guestrpc.c tests/fuzz/fuzz_pvscsi.c tests/fuzz/fuzz_lsi.c tests/fuzz/fuzz_ide.c tests/fuzz/fuzz_vga.c
include tests/hardening/local.mk

# ---- the runner's sandbox (issues #5 and #7): seccomp, --user, hostile
# guest memory and I/O.  ovfdeploy_hook is ovfdeploy with the test hook of
# src/runner/hw/misc.c compiled in (OD_SANDBOX_TEST_HOOK): check_PROGRAMS
# only, never installed; its misc.o takes the place of librunner.a's.
check_PROGRAMS += tests/runner/ovfdeploy_hook
tests_runner_ovfdeploy_hook_SOURCES = $(ovfdeploy_SOURCES) src/runner/hw/misc.c
tests_runner_ovfdeploy_hook_CFLAGS = $(AM_CFLAGS) $(XML_CFLAGS) -DOD_SANDBOX_TEST_HOOK
tests_runner_ovfdeploy_hook_LDADD = $(ovfdeploy_LDADD)
check_PROGRAMS += tests/runner/sandbox_io
tests_runner_sandbox_io_SOURCES = tests/runner/sandbox_io.c tests/runner/fakeio.h
tests_runner_sandbox_io_CFLAGS = $(TEST_CFLAGS)
tests_runner_sandbox_io_LDADD = $(RUNNER_LIBS) $(TEST_LIBS)
check_PROGRAMS += tests/runner/sandbox_net
tests_runner_sandbox_net_SOURCES = tests/runner/sandbox_net.c tests/runner/fakeio.h
tests_runner_sandbox_net_CFLAGS = $(TEST_CFLAGS) $(SLIRP_CFLAGS)
tests_runner_sandbox_net_LDADD = $(RUNNER_LIBS) $(TEST_LIBS)
TESTS += tests/runner/sandbox_net tests/runner/sandbox_io tests/runner/sandbox-seccomp.sh tests/runner/sandbox-reaper.sh tests/runner/sandbox-user.sh tests/runner/net-dhcp.sh
EXTRA_DIST += tests/runner/sandbox-seccomp.sh tests/runner/sandbox-user.sh tests/runner/sandbox-reaper.sh tests/runner/sandbox_guest.S \
	tests/runner/net-dhcp.sh tests/runner/dhcp_guest.S
# ---- end of the sandbox block

# ---- deploying to libvirt hosts (issue #18): a private libvirtd per script
include tests/libvirt/local.mk

# vSphere import (govmomi's simulator), issue 16
TESTS += tests/vsphere/import.sh
EXTRA_DIST += tests/vsphere/import.sh tests/vsphere/import.go
CLEANFILES += tests/vsphere/import-sim

# ---- real hardware-assisted KVM through a nested-SVM test bed (issue #14)
include tests/nested/local.mk
