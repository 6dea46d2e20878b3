#!/bin/sh
# boot_disk.sh - SeaBIOS boots a disk carrying a real boot loader through
# virtio-blk: a syslinux MBR and FAT partition, made here without root.
# "Booting from Hard Disk" and the SYSLINUX banner on the serial console
# prove PCI, fw_cfg, CMOS, the UART and virtio-blk with unmodified firmware
# and an unmodified boot loader.  (Under PVM syslinux stops right after its
# banner with an emulation failure, under QEMU too; the banner is as far as
# this host goes.)
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
need_kvm
BIOS=/usr/share/seabios/bios.bin
MBR=/usr/lib/syslinux/mbr/mbr.bin
[ -r $BIOS ] || skip "$BIOS missing (Debian package seabios)"
[ -r $MBR ] || skip "$MBR missing (Debian package syslinux)"
for t in mkfs.fat syslinux sfdisk; do
	command -v $t >/dev/null || skip "$t missing"
done

d=$T_TMP
truncate -s 15M "$d/part.img" && mkfs.fat -n BOOT "$d/part.img" >/dev/null &&
	syslinux --install "$d/part.img" &&
	truncate -s 16M "$d/disk.img" &&
	echo 'start=2048, type=6, bootable' | sfdisk -q "$d/disk.img" &&
	dd if="$d/part.img" of="$d/disk.img" bs=512 seek=2048 conv=notrunc status=none &&
	dd if=$MBR of="$d/disk.img" bs=440 count=1 conv=notrunc status=none ||
	skip "could not make the syslinux disk"

# The timeouts are generous because firmware code is emulated under PVM and
# a loaded two-core host slows it several times; on an idle host each boot
# reaches the banner in about 5 s and the run is stopped right then.
# Both forms boot at once: each run is mostly emulated firmware code, one
# vCPU each, so two runs take the time of one on an idle two-core host.
start() { # NAME DISK-ARG: boot in the background, console in $d/NAME.out
	"$OVFDEPLOY" run --memory 64M --firmware $BIOS --disk "$2" --console "file:$d/$1.out" --timeout 150 \
		2>"$d/$1.err" &
	eval "pid_$1=$!"
}
finish() { # NAME: wait for the whole syslinux banner line, stop, check
	eval "pid=\$pid_$1"
	wait_for 'Peter Anvin' "$d/$1.out" 150 $pid
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	expect_grep 'SeaBIOS \(version' "$d/$1.out" "$1: SeaBIOS banner"
	expect_grep 'Booting from Hard Disk' "$d/$1.out" "$1: SeaBIOS boots the virtio disk"
	expect_grep 'SYSLINUX [0-9.]+ .*Copyright' "$d/$1.out" "$1: the syslinux banner"
}

md5_before=$(md5sum <"$d/disk.img")
start raw "$d/disk.img"
forms=raw
if command -v qemu-img >/dev/null; then
	qemu-img convert -O qcow2 "$d/disk.img" "$d/disk.qcow2"
	start qcow2 "$d/disk.qcow2,readonly"
	forms="raw qcow2"
else
	echo "# qemu-img missing: qcow2 form not tested"
fi
for f in $forms; do finish $f; done
# The form an OVA carries: a streamOptimized VMDK, made by our convert and
# booted as it is (read-only, no conversion back).
if "$OVFDEPLOY" -q convert -O vmdk -o subformat=streamOptimized "$d/disk.img" "$d/disk.vmdk"; then
	start vmdk "$d/disk.vmdk,readonly"
	finish vmdk
else
	fail "convert to streamOptimized VMDK"
fi
[ "$(md5sum <"$d/disk.img")" = "$md5_before" ] && ok "the raw image is intact" || fail "the raw image changed"
done_testing
