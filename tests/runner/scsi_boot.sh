#!/bin/sh
# scsi_boot.sh - SeaBIOS (the 256 KiB build, which has the PVSCSI and MPT
# drivers) boots disks on the runner's SCSI controllers, unmodified firmware
# driving our PVSCSI rings and our LSI Logic 53C1030's message FIFOs:
#   - a boot sector (rw_mbr.S) that writes sector 1, reads it back and sums
#     sectors 0-63 through INT 13h; the test checks the sum and the written
#     sector against the image file, raw and qcow2 (qemu-img check clean),
#     with a CD-ROM on target 1 that SeaBIOS must see as a CD; the same on
#     the LSI Logic controller (raw);
#   - a syslinux disk, whose banner shows an unmodified boot loader reading
#     through PVSCSI (as in boot_disk.sh, the banner is as far as this host
#     goes).
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
need_kvm
BIOS=/usr/share/seabios/bios-256k.bin
[ -r $BIOS ] || skip "$BIOS missing (Debian package seabios)"
command -v python3 >/dev/null || skip "python3 missing"
command -v gcc >/dev/null && command -v ld >/dev/null || skip "gcc or ld missing"
d=$T_TMP
gcc -m32 -c -o "$d/rw.o" "$top_srcdir/tests/runner/rw_mbr.S" &&
	ld -m elf_i386 -T "$top_srcdir/tests/runner/mbr.ld" -o "$d/rw.bin" "$d/rw.o" ||
	skip "cannot build the boot sector (gcc -m32, ld -m elf_i386)"

# sum FILE: the sum of the first 8192 little-endian dwords, as the guest prints it
sum() {
	python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read(32768)
print("%08X" % (sum(struct.unpack("<8192I", d)) & 0xffffffff))' "$1"
}
# pattern_at_1 FILE: true if sector 1 holds the guest's pattern
pattern_at_1() {
	python3 -c 'import sys
f = open(sys.argv[1], "rb"); f.seek(512)
sys.exit(0 if f.read(512) == bytes(i & 0xff ^ 0xa5 for i in range(512)) else 1)' "$1"
}

head -c 1048576 /dev/urandom >"$d/disk.raw"
dd if="$d/rw.bin" of="$d/disk.raw" conv=notrunc status=none
head -c 1048576 /dev/urandom >"$d/cd.iso"
cp "$d/disk.raw" "$d/orig.raw"

# run NAME DISK-ARG...: boot; console in $d/NAME.out, firmware log $d/NAME.log
run() {
	name=$1
	shift
	args=
	for a in "$@"; do args="$args --disk $a"; done
	# shellcheck disable=SC2086 # one word per disk argument
	"$OVFDEPLOY" run --memory 64M --firmware $BIOS $args --console "file:$d/$name.out" \
		--firmware-log "$d/$name.log" --timeout 150 2>"$d/$name.err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q DONE "$d/$name.out"; then ok "$name: the boot sector ran to its end (reset)"; else
		fail "$name: exit $rc"; cat "$d/$name.out" "$d/$name.err" | sed 's/^/  | /'
	fi
	expect_grep 'RW PASS' "$d/$name.out" "$name: INT 13h write of sector 1 read back the same"
}

run raw "$d/disk.raw,if=pvscsi" "$d/cd.iso,if=pvscsi,media=cdrom"
expect_grep "SUM $(sum "$d/disk.raw")" "$d/raw.out" "raw: sectors 0-63 sum in the guest as in the file"
pattern_at_1 "$d/disk.raw" && ok "raw: the guest's write is in the file" || fail "raw: sector 1 of the file"
expect_grep 'found pvscsi at' "$d/raw.log" "SeaBIOS found the PVSCSI adapter"
expect_grep "pvscsi [0-9a-f:.]+ 0:0 vendor='OVFDEPLY' product='VIRTUAL-DISK' rev='1.0' type=0" "$d/raw.log" \
	"target 0 is a disk (INQUIRY)"
expect_grep "pvscsi [0-9a-f:.]+ 0:0 blksize=512 sectors=2048" "$d/raw.log" "its size from READ CAPACITY"
expect_grep "pvscsi [0-9a-f:.]+ 1:0 vendor='OVFDEPLY' product='VIRTUAL-CDROM' rev='1.0' type=5 removable=1" \
	"$d/raw.log" "target 1 is a removable CD-ROM"

cp "$d/orig.raw" "$d/lsi.raw"
run lsilogic "$d/lsi.raw,if=lsilogic" "$d/cd.iso,if=lsilogic,media=cdrom"
expect_grep "SUM $(sum "$d/lsi.raw")" "$d/lsilogic.out" "lsilogic: sectors 0-63 sum in the guest as in the file"
pattern_at_1 "$d/lsi.raw" && ok "lsilogic: the guest's write is in the file" || fail "lsilogic: sector 1 of the file"
expect_grep 'found mpt-scsi\(0030\)' "$d/lsilogic.log" "SeaBIOS found the LSI 53C1030"
expect_grep "mpt [0-9a-f:.]+ 0:0 vendor='OVFDEPLY' product='VIRTUAL-DISK' rev='1.0' type=0" "$d/lsilogic.log" \
	"lsilogic: target 0 is a disk"
expect_grep "mpt [0-9a-f:.]+ 1:0 vendor='OVFDEPLY' product='VIRTUAL-CDROM' rev='1.0' type=5 removable=1" \
	"$d/lsilogic.log" "lsilogic: target 1 is a removable CD-ROM"

if command -v qemu-img >/dev/null; then
	qemu-img convert -O qcow2 "$d/orig.raw" "$d/disk.qcow2"
	run qcow2 "$d/disk.qcow2,if=pvscsi"
	qemu-img check -q "$d/disk.qcow2" && ok "qcow2: qemu-img check is clean after the guest's write" ||
		fail "qcow2: qemu-img check"
	qemu-img convert -O raw "$d/disk.qcow2" "$d/back.raw"
	expect_grep "SUM $(sum "$d/back.raw")" "$d/qcow2.out" "qcow2: the guest's sum matches the image"
	pattern_at_1 "$d/back.raw" && ok "qcow2: the guest's write is in the image" || fail "qcow2: sector 1"
else
	echo "# qemu-img missing: qcow2 form not tested"
fi

# an unmodified boot loader: syslinux (stopped at its banner)
MBR=/usr/lib/syslinux/mbr/mbr.bin
if [ -r $MBR ] && command -v mkfs.fat >/dev/null && command -v syslinux >/dev/null && command -v sfdisk >/dev/null &&
	truncate -s 15M "$d/part.img" && mkfs.fat -n BOOT "$d/part.img" >/dev/null &&
	syslinux --install "$d/part.img" && truncate -s 16M "$d/sl.img" &&
	echo 'start=2048, type=6, bootable' | sfdisk -q "$d/sl.img" &&
	dd if="$d/part.img" of="$d/sl.img" bs=512 seek=2048 conv=notrunc status=none &&
	dd if=$MBR of="$d/sl.img" bs=440 count=1 conv=notrunc status=none; then
	"$OVFDEPLOY" run --memory 64M --firmware $BIOS --disk "$d/sl.img,if=pvscsi" --console "file:$d/sl.out" \
		--timeout 150 2>"$d/sl.err" &
	pid=$!
	wait_for 'Peter Anvin' "$d/sl.out" 150 $pid
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	expect_grep 'Booting from Hard Disk' "$d/sl.out" "syslinux: SeaBIOS boots the PVSCSI disk"
	expect_grep 'SYSLINUX [0-9.]+ .*Copyright' "$d/sl.out" "syslinux: its banner"
else
	echo "# syslinux tools missing: the syslinux boot not tested"
fi

# a CD-ROM needs a SCSI bus
expect_exit 2 "media=cdrom on virtio-blk is refused" -- "$OVFDEPLOY" run --disk "$d/cd.iso,media=cdrom"
done_testing
