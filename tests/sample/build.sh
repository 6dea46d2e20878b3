#!/bin/sh
# build.sh - samples/build-tiny.sh makes a bootable-looking, reproducible
# disk: two builds at different times give the same bytes; the MBR, the
# partition, the FAT files, the initramfs and its module order are as /init
# and syslinux expect; the disk has the capacity samples/tiny.ovf declares.
. "${top_srcdir:-.}/tests/cli/lib.sh"
export MTOOLS_SKIP_CHECK=1
unset SOURCE_DATE_EPOCH	# the fixed default, checked below
for t in mcopy sfdisk; do
	command -v $t >/dev/null 2>&1 || skip "$t not found (Debian packages mtools, fdisk)"
done

# Share the kernel cache of the boot tests and `make sample`.
TINY_CACHE=${top_builddir:-$top_srcdir}/samples/out/cache
export TINY_CACHE
build() {
	s=$(date +%s)
	sh "$top_srcdir/samples/build-tiny.sh" "$1" >"$1.log" 2>&1
	rc=$?
	[ $rc -eq 3 ] && { tail -3 "$1.log"; skip "the kernel package could not be obtained (offline?)"; }
	if [ $rc -eq 0 ]; then ok "build into $(basename "$1") ($(($(date +%s) - s)) s)"
	else fail "build-tiny.sh failed (exit $rc)"; sed 's/^/  | /' "$1.log" | tail -20; done_testing; exit 1; fi
}
build "$T_TMP/a"
sleep 2	# so that anything taking the clock shows up as a difference
s=$(date +%s)
build "$T_TMP/b"
[ $(($(date +%s) - s)) -lt 60 ] && ok "a cached build takes under a minute" || fail "a cached build took over a minute"
disk=$T_TMP/a/tiny-disk.raw
if cmp -s "$disk" "$T_TMP/b/tiny-disk.raw"; then ok "two builds give identical disks"
else fail "two builds differ: $(cmp "$disk" "$T_TMP/b/tiny-disk.raw" 2>&1 | head -1)"; fi
grep -q "^build-tiny: $T_TMP/a/tiny-disk.raw" "$T_TMP/a.log" && ok "the output is named" || fail "build-tiny.sh does not say where the disk is"

mib=$(tr '\n' ' ' <"$top_srcdir/samples/tiny.ovf" | sed -n 's/.*ovf:capacity="\([0-9]*\)" *ovf:capacityAllocationUnits="byte \* 2^20".*/\1/p')
size=$(stat -c %s "$disk")
[ -n "$mib" ] && [ "$size" -eq $((mib * 1048576)) ] && ok "the disk has the descriptor's capacity ($mib MiB)" ||
	fail "the disk has $size bytes, the descriptor says ${mib:-?} MiB"

sfdisk -d "$disk" >"$T_TMP/table" 2>&1
expect_grep "start= *2048, size= *129024, type=e, bootable" "$T_TMP/table" "one active FAT16 partition from 1 MiB to the end"
[ "$(od -An -tx1 -j510 -N2 "$disk" | tr -d ' ')" = 55aa ] && ok "the MBR has its signature" || fail "no 55aa at the end of the MBR"
head -c 440 /usr/lib/syslinux/mbr/mbr.bin >"$T_TMP/mbr.want"
head -c 440 "$disk" >"$T_TMP/mbr.got"
cmp -s "$T_TMP/mbr.want" "$T_TMP/mbr.got" && ok "the MBR boot code is syslinux's mbr.bin" || fail "the MBR boot code is not mbr.bin"

p="$disk@@1M"
mdir -a -b -i "$p" ::/ >"$T_TMP/files" 2>&1
for f in ldlinux.sys ldlinux.c32 syslinux.cfg vmlinuz initrd.gz; do
	expect_grep "^::/$f\$" "$T_TMP/files" "the partition holds $f"
done
mcopy -i "$p" ::/syslinux.cfg ::/initrd.gz "$T_TMP/" 2>"$T_TMP/err" || fail "cannot read the partition: $(cat "$T_TMP/err")"
expect_grep "APPEND .*console=ttyS0" "$T_TMP/syslinux.cfg" "the kernel console is the serial port"
expect_grep "INITRD /initrd.gz" "$T_TMP/syslinux.cfg" "syslinux loads the initramfs"

gzip -dc "$T_TMP/initrd.gz" >"$T_TMP/initrd.cpio" && ok "the initramfs is gzip" || fail "the initramfs is not gzip"
(cd "$T_TMP" && mkdir x && cd x && busybox cpio -i -d <../initrd.cpio 2>/dev/null)
busybox cpio -t -v <"$T_TMP/initrd.cpio" >"$T_TMP/list" 2>/dev/null
# /dev/console: a character device 5,1 (newc header fields mode and rdev).
hdr=$(grep -ao '070701[0-9A-F]\{104\}dev/console' "$T_TMP/initrd.cpio" | head -n 1)
if [ "$(echo "$hdr" | cut -c15-22)" = 00002180 ] &&
	[ "$(echo "$hdr" | cut -c79-94)" = 0000000500000001 ]; then ok "the initramfs has /dev/console (c 5 1)"
else fail "the initramfs has no /dev/console device (header: $hdr)"; fi
expect_grep '^-rwxr-xr-x 0/0 .* init$' "$T_TMP/list" "the initramfs has an executable /init"
expect_grep '^lrwxrwxrwx .* bin/sh -> busybox$' "$T_TMP/list" "/bin/sh is busybox"
if grep -qv ' 2026-01-01 00:00:00 ' "$T_TMP/list"; then fail "some entries do not have the fixed mtime"
else ok "every entry has the fixed mtime"; fi
cmp -s "$T_TMP/x/init" "$top_srcdir/samples/tiny/init" && ok "/init is samples/tiny/init" || fail "/init differs from samples/tiny/init"

# Every module the guest needs is there, each after the modules it uses.
order=$T_TMP/x/lib/modules/load.order
for m in virtio_pci virtio_blk virtio_net sr_mod cdrom isofs ata_piix vfat nls_cp437 button evdev; do
	grep -qx "$m" "$order" && [ -f "$T_TMP/x/lib/modules/$m.ko" ] && ok "module $m is included" ||
		fail "module $m is missing"
done
before() { a=$(grep -nx "$1" "$order" | cut -d: -f1); b=$(grep -nx "$2" "$order" | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] && ok "$1 loads before $2" || fail "$1 does not load before $2"; }
before virtio virtio_blk
before virtio_ring virtio_pci
before scsi_mod sr_mod
before cdrom isofs
before libata ata_piix
before fat vfat

# The big variant for the deploy benchmark: a second partition with data.
sh "$top_srcdir/samples/build-tiny.sh" --disk-mib 128 --fill-mib 8 --output big.raw "$T_TMP/a" >"$T_TMP/big.log" 2>&1 &&
	ok "a bigger disk with data builds" || { fail "the bigger disk does not build"; sed 's/^/  | /' "$T_TMP/big.log"; }
big=$T_TMP/a/big.raw
[ "$(stat -c %s "$big" 2>/dev/null)" = 134217728 ] && ok "it has the capacity asked for" || fail "the bigger disk has the wrong size"
sfdisk -d "$big" >"$T_TMP/table2" 2>&1
expect_grep "start= *131072, size= *131072, type=da" "$T_TMP/table2" "the data partition follows the boot partition"
used=$(du -k "$big" | cut -f1)
[ "$used" -gt $((8 * 1024)) ] && ok "the data takes space (${used} KiB)" || fail "the data is not there (${used} KiB used)"
gzip -c "$big" | wc -c >"$T_TMP/gz"
[ "$(cat "$T_TMP/gz")" -gt $((8 * 1048576)) ] && ok "the data does not compress" || fail "the data compresses to $(cat "$T_TMP/gz") bytes"
expect_exit 2 "a fill that does not fit is refused" -- sh "$top_srcdir/samples/build-tiny.sh" --disk-mib 100 --fill-mib 40 "$T_TMP/c"
expect_grep "does not fit" "$T_TMP/err" "the refusal says why"
done_testing
