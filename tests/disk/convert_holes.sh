#!/bin/sh
# convert_holes.sh - convert reads a window's data runs into a reused
# buffer and zeroes only the holes that share an output granule with data
# (src/disk/convert.c, read_window); granules without data are skipped
# unread.  Stale bytes from an earlier window must never reach the output:
# fill every buffer slot with random data first, then convert windows whose
# granules mix small data runs and holes, at granule starts, middles and
# ends, into every output kind, and compare with the source.
. "${top_srcdir:-.}/tests/cli/lib.sh"
command -v qemu-img >/dev/null 2>&1 || skip "qemu-img is not installed"
O=$OVFDEPLOY
cd "$T_TMP" || exit 1

M=1048576
truncate -s $((24 * M)) src.raw
# windows 0-7 (2 MiB each): random, so that every slot holds garbage
head -c $((16 * M)) /dev/urandom | dd of=src.raw conv=notrunc status=none
# windows 8-11: 4 KiB data runs inside mostly empty granules
for off in $((16 * M + 72 * 1024)) $((17 * M - 4096)) $((17 * M + 65536)) \
           $((18 * M + 200 * 1024)) $((20 * M + 4096)) $((22 * M - 4096)) $((23 * M + 500000))
do
	head -c 4096 /dev/urandom | dd of=src.raw bs=4096 seek=$((off / 4096)) conv=notrunc status=none
done
# the last byte, in a short data run at the end of the image
printf 'z' | dd of=src.raw bs=1 seek=$((24 * M - 1)) conv=notrunc status=none
used=$(du -k src.raw | cut -f1)
if [ "$used" -gt $((17 * 1024)) ]; then
	echo "note: this filesystem does not keep holes (${used} KiB used); every run reads as data"
fi

n=0
for opts in "-O raw" "-t unsafe -O raw" "-O qcow2" "-O qcow2 -o cluster_size=2M" "-O qcow2 -o cluster_size=4096" \
            "-O qcow2 -c" "-O qcow2 -c -o cluster_size=2M"; do
	n=$((n + 1))
	ext=${opts##*-O }; ext=${ext%% *}
	expect_exit 0 "convert $opts" -- "$O" convert $opts src.raw out$n.$ext
	expect_exit 0 "qemu-img compare agrees ($opts)" -- qemu-img compare -f raw -F "$ext" src.raw out$n.$ext
	if [ "$ext" = qcow2 ]; then
		expect_exit 0 "qemu-img check accepts ($opts)" -- qemu-img check out$n.qcow2
	fi
done
expect_exit 0 "raw output is byte-identical" -- cmp src.raw out1.raw

# A qcow2 source with 4 KiB clusters maps holes at 4 KiB too.
expect_exit 0 "qemu-img makes a 4 KiB-cluster source" -- qemu-img convert -f raw -O qcow2 -o cluster_size=4096 src.raw small.qcow2
expect_exit 0 "4 KiB-cluster qcow2 -> raw" -- "$O" convert -O raw small.qcow2 back.raw
expect_exit 0 "round trip is byte-identical" -- cmp src.raw back.raw
expect_exit 0 "4 KiB-cluster qcow2 -> qcow2" -- "$O" convert -O qcow2 small.qcow2 back.qcow2
expect_exit 0 "qemu-img compare agrees (qcow2 -> qcow2)" -- qemu-img compare -f raw -F qcow2 src.raw back.qcow2
done_testing
