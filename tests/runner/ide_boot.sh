#!/bin/sh
# ide_boot.sh - SeaBIOS (its stock 128 KiB build) boots from the runner's
# PIIX3 IDE, unmodified firmware driving our task-file registers:
#   - a boot sector (rw_mbr.S) on the primary master that writes sector 1,
#     reads it back and sums sectors 0-63 through INT 13h, raw and qcow2,
#     with a CD-ROM on the primary slave that SeaBIOS must see as ATAPI;
#   - a CD-ROM alone (secondary master): SeaBIOS's El Torito boot reads the
#     boot catalog and a no-emulation image through ATAPI packets, and the
#     image sums the first 32 KiB of the disc through INT 13h;
#   - a syslinux disk, whose banner shows an unmodified boot loader reading
#     through IDE.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
need_kvm
BIOS=/usr/share/seabios/bios.bin
[ -r $BIOS ] || skip "$BIOS missing (Debian package seabios)"
command -v python3 >/dev/null || skip "python3 missing"
command -v gcc >/dev/null && command -v ld >/dev/null || skip "gcc or ld missing"
d=$T_TMP
for v in rw cd; do
	def=
	[ $v = cd ] && def=-DCDROM
	gcc -m32 -c $def -o "$d/$v.o" "$top_srcdir/tests/runner/rw_mbr.S" &&
		ld -m elf_i386 -T "$top_srcdir/tests/runner/mbr.ld" -o "$d/$v.bin" "$d/$v.o" ||
		skip "cannot build the boot sector (gcc -m32, ld -m elf_i386)"
done

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
}

run raw "$d/disk.raw,if=ide" "$d/cd.iso,if=ide,media=cdrom"
expect_grep 'RW PASS' "$d/raw.out" "raw: INT 13h write of sector 1 read back the same"
expect_grep "SUM $(sum "$d/disk.raw")" "$d/raw.out" "raw: sectors 0-63 sum in the guest as in the file"
pattern_at_1 "$d/disk.raw" && ok "raw: the guest's write is in the file" || fail "raw: sector 1 of the file"
expect_grep 'ATA controller 1 at 1f0/3f4' "$d/raw.log" "SeaBIOS found the primary channel"
expect_grep 'ata0-0: OVFDEPLOY VIRTUAL-DISK ATA-7 Hard-Disk \(1 MiBytes\)' "$d/raw.log" \
	"the primary master is an ATA disk of 1 MiB (IDENTIFY)"
expect_grep 'DVD/CD \[ata0-1: OVFDEPLOY VIRTUAL-CDROM ATAPI-4 DVD/CD\]' "$d/raw.log" \
	"the primary slave is an ATAPI CD-ROM (IDENTIFY PACKET DEVICE)"

if command -v qemu-img >/dev/null; then
	qemu-img convert -O qcow2 "$d/orig.raw" "$d/disk.qcow2"
	run qcow2 "$d/disk.qcow2,if=ide"
	qemu-img check -q "$d/disk.qcow2" && ok "qcow2: qemu-img check is clean after the guest's write" ||
		fail "qcow2: qemu-img check"
	qemu-img convert -O raw "$d/disk.qcow2" "$d/back.raw"
	expect_grep "SUM $(sum "$d/back.raw")" "$d/qcow2.out" "qcow2: the guest's sum matches the image"
	pattern_at_1 "$d/back.raw" && ok "qcow2: the guest's write is in the image" || fail "qcow2: sector 1"
else
	echo "# qemu-img missing: qcow2 form not tested"
fi

# A bootable CD: 16 random system-area sectors, a primary volume descriptor,
# the El Torito boot record, the terminator, the boot catalog (sector 19)
# and the no-emulation image (sector 20, four 512-byte sectors loaded).
python3 - "$d/cd.bin" "$d/boot.iso" <<'PY'
import os, struct, sys
img = open(sys.argv[1], "rb").read()
iso = bytearray(os.urandom(16 * 2048)) + bytearray(32 * 2048)
def sector(n, data):
    iso[n * 2048:n * 2048 + len(data)] = data
sector(16, b"\x01CD001\x01")
sector(17, b"\x00CD001\x01EL TORITO SPECIFICATION" + bytes(0x47 - 30) + struct.pack("<I", 19))
sector(18, b"\xffCD001\x01")
val = bytearray(32)
val[0] = 1
val[30:32] = b"\x55\xaa"
val[28:30] = struct.pack("<H", -sum(struct.unpack("<16H", bytes(val))) & 0xffff)
entry = struct.pack("<BBHBBHI", 0x88, 0, 0, 0, 0, 4, 20)
sector(19, bytes(val) + entry)
sector(20, img)
open(sys.argv[2], "wb").write(iso)
PY
run cdboot "$d/boot.iso,if=ide,media=cdrom"
expect_grep "SUM $(sum "$d/boot.iso")" "$d/cdboot.out" "CD boot: the first 32 KiB of the disc sum in the guest as in the file"
expect_grep 'Booting from DVD/CD' "$d/cdboot.out" "CD boot: SeaBIOS booted the ATAPI CD-ROM"

# an unmodified boot loader: syslinux (stopped at its banner)
MBR=/usr/lib/syslinux/mbr/mbr.bin
if [ -r $MBR ] && command -v mkfs.fat >/dev/null && command -v syslinux >/dev/null && command -v sfdisk >/dev/null &&
	truncate -s 15M "$d/part.img" && mkfs.fat -n BOOT "$d/part.img" >/dev/null &&
	syslinux --install "$d/part.img" && truncate -s 16M "$d/sl.img" &&
	echo 'start=2048, type=6, bootable' | sfdisk -q "$d/sl.img" &&
	dd if="$d/part.img" of="$d/sl.img" bs=512 seek=2048 conv=notrunc status=none &&
	dd if=$MBR of="$d/sl.img" bs=440 count=1 conv=notrunc status=none; then
	"$OVFDEPLOY" run --memory 64M --firmware $BIOS --disk "$d/sl.img,if=ide" --console "file:$d/sl.out" \
		--timeout 150 2>"$d/sl.err" &
	pid=$!
	wait_for 'Peter Anvin' "$d/sl.out" 150 $pid
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	expect_grep 'Booting from Hard Disk' "$d/sl.out" "syslinux: SeaBIOS boots the IDE disk"
	expect_grep 'SYSLINUX [0-9.]+ .*Copyright' "$d/sl.out" "syslinux: its banner"
else
	echo "# syslinux tools missing: the syslinux boot not tested"
fi

# five IDE disks do not fit its four units; a CD-ROM is fine there
expect_exit 2 "a fifth IDE unit is refused" -- "$OVFDEPLOY" run --disk "$d/cd.iso,if=ide,readonly" \
	--disk "$d/cd.iso,if=ide,readonly" --disk "$d/cd.iso,if=ide,readonly" --disk "$d/cd.iso,if=ide,readonly" \
	--disk "$d/cd.iso,if=ide,readonly" --timeout 5
done_testing
