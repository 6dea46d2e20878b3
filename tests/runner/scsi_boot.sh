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
mbr_build rw

head -c 1048576 /dev/urandom >"$d/disk.raw"
dd if="$d/rw.bin" of="$d/disk.raw" conv=notrunc status=none
head -c 1048576 /dev/urandom >"$d/cd.iso"
cp "$d/disk.raw" "$d/orig.raw"

# run NAME DISK-ARG...: mbr_run, and the INT 13h write read back
run() {
	mbr_run "$@"
	expect_grep 'RW PASS' "$d/$1.out" "$1: INT 13h write of sector 1 read back the same"
}

run raw "$d/disk.raw,if=pvscsi" "$d/cd.iso,if=pvscsi,media=cdrom"
expect_grep "SUM $(mbr_sum "$d/disk.raw")" "$d/raw.out" "raw: sectors 0-63 sum in the guest as in the file"
mbr_pattern_at_1 "$d/disk.raw" && ok "raw: the guest's write is in the file" || fail "raw: sector 1 of the file"
expect_grep 'found pvscsi at' "$d/raw.log" "SeaBIOS found the PVSCSI adapter"
expect_grep "pvscsi [0-9a-f:.]+ 0:0 vendor='OVFDEPLY' product='VIRTUAL-DISK' rev='1.0' type=0" "$d/raw.log" \
	"target 0 is a disk (INQUIRY)"
expect_grep "pvscsi [0-9a-f:.]+ 0:0 blksize=512 sectors=2048" "$d/raw.log" "its size from READ CAPACITY"
expect_grep "pvscsi [0-9a-f:.]+ 1:0 vendor='OVFDEPLY' product='VIRTUAL-CDROM' rev='1.0' type=5 removable=1" \
	"$d/raw.log" "target 1 is a removable CD-ROM"

cp "$d/orig.raw" "$d/lsi.raw"
run lsilogic "$d/lsi.raw,if=lsilogic" "$d/cd.iso,if=lsilogic,media=cdrom"
expect_grep "SUM $(mbr_sum "$d/lsi.raw")" "$d/lsilogic.out" "lsilogic: sectors 0-63 sum in the guest as in the file"
mbr_pattern_at_1 "$d/lsi.raw" && ok "lsilogic: the guest's write is in the file" || fail "lsilogic: sector 1 of the file"
expect_grep 'found mpt-scsi\(0030\)' "$d/lsilogic.log" "SeaBIOS found the LSI 53C1030"
expect_grep "mpt [0-9a-f:.]+ 0:0 vendor='OVFDEPLY' product='VIRTUAL-DISK' rev='1.0' type=0" "$d/lsilogic.log" \
	"lsilogic: target 0 is a disk"
expect_grep "mpt [0-9a-f:.]+ 1:0 vendor='OVFDEPLY' product='VIRTUAL-CDROM' rev='1.0' type=5 removable=1" \
	"$d/lsilogic.log" "lsilogic: target 1 is a removable CD-ROM"

mbr_qcow2 "$d/orig.raw" pvscsi

# an unmodified boot loader: syslinux (stopped at its banner)
syslinux_boot sl pvscsi

# a CD-ROM needs a SCSI or IDE bus
expect_exit 2 "media=cdrom on virtio-blk is refused" -- "$OVFDEPLOY" run --disk "$d/cd.iso,media=cdrom"
done_testing
