#!/bin/sh
# full_boot.sh - a small Linux appliance boots to a marker line and powers
# off, through direct kernel boot (the bzImage, and the ELF vmlinux inside
# it through its PVH entry point) and through SeaBIOS from a disk.  Only on
# hosts with hardware virtualization (vmx or svm): under PVM a kernel's
# boot takes hours, so elsewhere the script runs itself in the nested test
# bed (tests/nested/run-in-guest, real KVM on emulated SVM).  The kernel is
# $OVFDEPLOY_TEST_KERNEL, else the sample's (Debian's, from its kernel
# cache) in the test bed, else the host's /boot/vmlinuz-*; the initramfs is
# busybox-static with an /init that prints the marker and powers off (S5).
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
plain_pass_only "the full Linux boots"
if [ -z "${OVFDEPLOY_NESTED:-}" ] && ! grep -qw -e vmx -e svm /proc/cpuinfo; then
	# the sample's build fills the kernel cache the test bed boots from
	sh "$top_srcdir/samples/build-tiny.sh" "${top_builddir:-$top_srcdir}/samples/out" >"$T_TMP/build.log" 2>&1
	rc=$?
	[ $rc -eq 3 ] && skip "no vmx/svm, and the sample's kernel package could not be obtained for the test bed"
	[ $rc -eq 0 ] || { fail "samples/build-tiny.sh (exit $rc)"; tail -5 "$T_TMP/build.log"; done_testing; exit 1; }
	: "${TINY_CACHE:=${top_builddir:-$top_srcdir}/samples/out/cache}"
	export TINY_CACHE
	top_srcdir=$(cd "$top_srcdir" && pwd -P) && export top_srcdir
	top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd -P) && export top_builddir
	case $OVFDEPLOY in /*) ;; *) OVFDEPLOY=$(pwd -P)/$OVFDEPLOY; export OVFDEPLOY ;; esac
	"$top_srcdir/tests/nested/run-in-guest" --timeout 600 --retry-stalled -- sh "$0"
	exit $?
fi
grep -qw -e vmx -e svm /proc/cpuinfo || skip "no vmx/svm: a full Linux boot is too slow here (PVM)"
need_kvm
[ "${OVFDEPLOY_NESTED:-}" = guest ] && [ -z "${OVFDEPLOY_TEST_KERNEL:-}" ] &&
	OVFDEPLOY_TEST_KERNEL=$(ls "$TINY_CACHE"/linux-image-*-amd64_*/boot/vmlinuz-* | LC_ALL=C sort | tail -n 1)
kernel=${OVFDEPLOY_TEST_KERNEL:-$(ls /boot/vmlinuz-* 2>/dev/null | tail -n 1)}
[ -n "$kernel" ] && [ -r "$kernel" ] || skip "no kernel (set OVFDEPLOY_TEST_KERNEL)"
BB=/bin/busybox
[ -x $BB ] && $BB --list 2>/dev/null | grep -qx poweroff || skip "busybox-static missing"
command -v python3 >/dev/null || skip "python3 missing (writes the cpio archive)"

# the initramfs, as a newc cpio written by python (no cpio tool needed)
python3 - "$T_TMP/initrd" $BB <<'PY'
import os, sys
out = open(sys.argv[1], 'wb')
ino = [1]
def entry(name, mode, data=b'', target=None):
    body = target.encode() if target else data
    hdr = '070701' + ''.join('%08x' % v for v in (
        ino[0], mode, 0, 0, 1, 0, len(body), 0, 0, 0, 0, len(name) + 1, 0))
    ino[0] += 1
    out.write(hdr.encode() + name.encode() + b'\0')
    out.write(b'\0' * ((4 - (110 + len(name) + 1) % 4) % 4))
    out.write(body)
    out.write(b'\0' * ((4 - len(body) % 4) % 4))
for d in ('bin', 'dev', 'proc', 'sys'):
    entry(d, 0o040755)
entry('bin/busybox', 0o100755, open(sys.argv[2], 'rb').read())
for a in ('sh', 'echo', 'poweroff', 'mount'):
    entry('bin/' + a, 0o120777, target='busybox')
entry('init', 0o100755, b'#!/bin/sh\n/bin/busybox mount -t proc proc /proc\n'
      b'echo OVFDEPLOY-APPLIANCE-UP\n/bin/busybox poweroff -f\n')
entry('TRAILER!!!', 0)
PY

# boots NAME DESCRIPTION RUN-ARGS...: the appliance comes up and powers off
boots() {
	name=$1 desc=$2
	shift 2
	"$OVFDEPLOY" run --memory 256M "$@" --console "file:$T_TMP/$name.out" --timeout 120 2>"$T_TMP/$name.err"
	rc=$?
	[ $rc -eq 0 ] && grep -q OVFDEPLOY-APPLIANCE-UP "$T_TMP/$name.out" &&
		ok "$desc: the appliance came up and powered off" ||
		{ fail "$desc (exit $rc)"; tail -20 "$T_TMP/$name.out"; cat "$T_TMP/$name.err"; }
}
cmdline="console=ttyS0 panic=-1 quiet"
boots direct "direct boot" --kernel "$kernel" --initrd "$T_TMP/initrd" --append "$cmdline"
# the vmlinux inside the bzImage, through its PVH entry point
if python3 "$top_srcdir/tests/runner/extract-vmlinux.py" "$kernel" "$T_TMP/vmlinux" 2>"$T_TMP/x.err"; then
	boots pvh "PVH boot of the vmlinux" --kernel "$T_TMP/vmlinux" --initrd "$T_TMP/initrd" --append "$cmdline"
else
	echo "# no vmlinux from $kernel ($(cat "$T_TMP/x.err")): PVH boot not tested"
fi
# the same appliance from a disk: SeaBIOS, syslinux, kernel and initrd
MBR=/usr/lib/syslinux/mbr/mbr.bin
if [ -r $MBR ] && command -v mkfs.fat >/dev/null && command -v syslinux >/dev/null && command -v mcopy >/dev/null &&
	command -v sfdisk >/dev/null; then
	d=$T_TMP
	printf 'DEFAULT linux\nLABEL linux\n KERNEL vmlinuz\n INITRD initrd\n APPEND console=ttyS0 panic=-1 quiet\n' >"$d/syslinux.cfg"
	truncate -s 63M "$d/part.img" && mkfs.fat -n BOOT "$d/part.img" >/dev/null &&
		syslinux --install "$d/part.img" &&
		mcopy -i "$d/part.img" "$kernel" ::vmlinuz && mcopy -i "$d/part.img" "$d/initrd" ::initrd &&
		mcopy -i "$d/part.img" "$d/syslinux.cfg" ::syslinux.cfg &&
		truncate -s 64M "$d/disk.img" &&
		echo 'start=2048, type=6, bootable' | sfdisk -q "$d/disk.img" &&
		dd if="$d/part.img" of="$d/disk.img" bs=512 seek=2048 conv=notrunc status=none &&
		dd if=$MBR of="$d/disk.img" bs=440 count=1 conv=notrunc status=none || fail "could not make the disk"
	boots disk "SeaBIOS + syslinux boot" --disk "$d/disk.img"
else
	echo "# syslinux, mtools or dosfstools missing: disk boot not tested"
fi
done_testing
