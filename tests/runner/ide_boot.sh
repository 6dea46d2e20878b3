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
mbr_build rw
mbr_build cd -DCDROM

head -c 1048576 /dev/urandom >"$d/disk.raw"
dd if="$d/rw.bin" of="$d/disk.raw" conv=notrunc status=none
head -c 1048576 /dev/urandom >"$d/cd.iso"
cp "$d/disk.raw" "$d/orig.raw"

run() { mbr_run "$@"; }
run raw "$d/disk.raw,if=ide" "$d/cd.iso,if=ide,media=cdrom"
expect_grep 'RW PASS' "$d/raw.out" "raw: INT 13h write of sector 1 read back the same"
expect_grep "SUM $(mbr_sum "$d/disk.raw")" "$d/raw.out" "raw: sectors 0-63 sum in the guest as in the file"
mbr_pattern_at_1 "$d/disk.raw" && ok "raw: the guest's write is in the file" || fail "raw: sector 1 of the file"
expect_grep 'ATA controller 1 at 1f0/3f4' "$d/raw.log" "SeaBIOS found the primary channel"
expect_grep 'ata0-0: OVFDEPLOY VIRTUAL-DISK ATA-7 Hard-Disk \(1 MiBytes\)' "$d/raw.log" \
	"the primary master is an ATA disk of 1 MiB (IDENTIFY)"
expect_grep 'DVD/CD \[ata0-1: OVFDEPLOY VIRTUAL-CDROM ATAPI-4 DVD/CD\]' "$d/raw.log" \
	"the primary slave is an ATAPI CD-ROM (IDENTIFY PACKET DEVICE)"

mbr_qcow2 "$d/orig.raw" ide

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
expect_grep "SUM $(mbr_sum "$d/boot.iso")" "$d/cdboot.out" "CD boot: the first 32 KiB of the disc sum in the guest as in the file"
expect_grep 'Booting from DVD/CD' "$d/cdboot.out" "CD boot: SeaBIOS booted the ATAPI CD-ROM"

# an unmodified boot loader: syslinux (stopped at its banner)
syslinux_boot sl ide

# five IDE disks do not fit its four units
expect_exit 2 "a fifth IDE unit is refused" -- "$OVFDEPLOY" run --disk "$d/cd.iso,if=ide,readonly" \
	--disk "$d/cd.iso,if=ide,readonly" --disk "$d/cd.iso,if=ide,readonly" --disk "$d/cd.iso,if=ide,readonly" \
	--disk "$d/cd.iso,if=ide,readonly" --timeout 5
done_testing
