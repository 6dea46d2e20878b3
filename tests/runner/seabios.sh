#!/bin/sh
# seabios.sh - the runner boots Debian's unmodified SeaBIOS with two vCPUs
# and a virtio disk whose boot sector (acpi_mbr.S) checks the ACPI tables
# and the SMBIOS entry point SeaBIOS installed from our fw_cfg files and
# powers off through PM1a.
# 4 GiB of RAM puts 1 GiB above the PCI hole.
# The banner on the serial console proves PCI (the i440FX SeaBIOS looks
# for), fw_cfg (etc/sercon-port), CMOS and the UART; the boot sector's PASS
# proves virtio-blk and the ACPI tables; exit status 0 proves power-off.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
need_kvm
BIOS=/usr/share/seabios/bios.bin
[ -r $BIOS ] || skip "$BIOS missing (Debian package seabios)"
command -v gcc >/dev/null && command -v ld >/dev/null || skip "gcc or ld missing"
gcc -m32 -c -o "$T_TMP/mbr.o" "$top_srcdir/tests/runner/acpi_mbr.S" &&
	ld -m elf_i386 -T "$top_srcdir/tests/runner/mbr.ld" -o "$T_TMP/mbr.bin" "$T_TMP/mbr.o" ||
	skip "cannot build the 32-bit boot sector (gcc -m32, ld -m elf_i386)"
truncate -s 1M "$T_TMP/disk.img"
dd if="$T_TMP/mbr.bin" of="$T_TMP/disk.img" conv=notrunc status=none

out=$T_TMP/console.txt
log=$T_TMP/fw.log
"$OVFDEPLOY" run --cpus 2 --memory 4G --firmware $BIOS --disk "$T_TMP/disk.img,overlay=$T_TMP/overlay.qcow2" \
	--console "file:$out" --firmware-log "$log" --timeout 150 2>"$T_TMP/err"
rc=$?
[ $rc -eq 0 ] && ok "ACPI power-off ends the run with status 0" ||
	{ fail "exit status $rc, expected 0 (power-off)"; sed 's/^/  | /' "$T_TMP/err"; }
expect_grep 'SeaBIOS \(version [^)]+\)' "$out" "SeaBIOS banner on the serial console"
expect_grep 'ACPI PASS' "$out" "the boot sector found checksummed RSDP, RSDT, FADT and DSDT"
expect_grep 'SMBIOS PASS' "$out" "SeaBIOS installed our SMBIOS tables (a checksummed 2.8 entry point)"
expect_grep 'Running on QEMU \(i440fx\)' "$log" "SeaBIOS recognises the i440FX host bridge"
expect_grep 'QEMU fw_cfg DMA interface supported' "$log" "fw_cfg DMA interface found"
expect_grep 'Copying SMBIOS' "$log" "SeaBIOS copied the SMBIOS tables"
expect_grep 'sercon: using ioport 0x3f8' "$log" "serial console from etc/sercon-port"
expect_grep 'qemu/e820: addr 0x0000000100000000 len 0x0000000040000000' "$log" \
	"4 GiB: 3 GiB below the PCI hole, 1 GiB above 4 GiB (guest RAM is mapped lazily)"
expect_grep 'found virtio-blk' "$log" "SeaBIOS found the virtio-blk device"
expect_grep 'Found 2 cpu\(s\)' "$log" "the second vCPU started (INIT/SIPI through the in-kernel LAPIC)"
expect_grep 'PS2 keyboard initialized' "$log" "the i8042 keyboard (PNP0303 in the DSDT)"
if command -v qemu-img >/dev/null; then
	qemu-img info "$T_TMP/overlay.qcow2" >"$T_TMP/info" 2>&1
	expect_grep "backing file: $T_TMP/disk.img" "$T_TMP/info" "--disk ...,overlay=: a qcow2 overlay over the disk"
fi
done_testing
