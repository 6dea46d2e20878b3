#!/bin/sh
# seabios.sh - the runner boots Debian's unmodified SeaBIOS: its banner on
# the serial console proves that PCI (the i440FX it looks for), fw_cfg
# (etc/sercon-port), CMOS and the UART work together; with two vCPUs it
# also starts the second one.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
need_kvm
BIOS=/usr/share/seabios/bios.bin
[ -r $BIOS ] || skip "$BIOS missing (Debian package seabios)"

out=$T_TMP/console.txt
log=$T_TMP/fw.log
"$OVFDEPLOY" run --cpus 2 --memory 64M --firmware $BIOS --console "file:$out" --firmware-log "$log" --timeout 60 \
	2>"$T_TMP/err" &
pid=$!
# The banner is all we wait for: boot attempts are boot_disk.sh's.
wait_for 'SeaBIOS \(version [^)]+\)' "$out" 60 $pid
wait_for 'e820 map has' "$log" 20 $pid
kill $pid 2>/dev/null
wait $pid 2>/dev/null
expect_grep 'SeaBIOS \(version [^)]+\)' "$out" "SeaBIOS banner on the serial console"
expect_grep 'Running on QEMU \(i440fx\)' "$log" "SeaBIOS recognises the i440FX host bridge"
expect_grep 'QEMU fw_cfg DMA interface supported' "$log" "fw_cfg DMA interface found"
expect_grep 'sercon: using ioport 0x3f8' "$log" "serial console from etc/sercon-port"
expect_grep 'e820 map has' "$log" "e820 map built"
expect_grep 'Found 2 cpu\(s\)' "$log" "the second vCPU started (INIT/SIPI through the in-kernel LAPIC)"
done_testing
