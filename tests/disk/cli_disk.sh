#!/bin/sh
# cli_disk.sh - 'ovfdeploy convert', 'check', 'info' and 'compare' end to
# end, with qemu-img as the oracle for every image we write.
. "${top_srcdir:-.}/tests/cli/lib.sh"
command -v qemu-img >/dev/null 2>&1 || skip "qemu-img is not installed"
O=$OVFDEPLOY
cd "$T_TMP" || exit 1

# A 6 MiB source with random data, text, explicit zeros and holes, and a
# size that is not a multiple of the cluster size.
head -c 1500000 /dev/urandom > src.raw
yes 'ovfdeploy disk test line' | head -c 700000 | dd of=src.raw bs=64k seek=32 conv=notrunc status=none
head -c 300000 /dev/zero | dd of=src.raw bs=64k seek=50 conv=notrunc status=none
printf 'end' | dd of=src.raw bs=1 seek=6291000 conv=notrunc status=none
truncate -s 6291456 src.raw

n=0
for opts in "-O qcow2" "-O qcow2 -c" "-O qcow2 -c -o compression_type=zstd -j 1" \
            "-O qcow2 -o compat=0.10,cluster_size=512" "-O qcow2 -c -o cluster_size=2M -p"; do
	n=$((n + 1))
	expect_exit 0 "convert $opts" -- "$O" convert $opts src.raw out$n.qcow2
	expect_exit 0 "qemu-img check accepts ($opts)" -- qemu-img check out$n.qcow2
	expect_exit 0 "qemu-img compare agrees ($opts)" -- qemu-img compare src.raw out$n.qcow2
	expect_exit 0 "our check accepts ($opts)" -- "$O" check out$n.qcow2
	expect_exit 0 "our compare agrees ($opts)" -- "$O" compare src.raw out$n.qcow2
done
expect_grep "Images are identical" "$T_TMP/out" "compare says identical"
expect_exit 0 "qcow2 -> raw" -- "$O" convert -O raw out2.qcow2 back.raw
expect_exit 0 "round trip is identical" -- cmp src.raw back.raw
blocks=$(du -k back.raw | cut -f1)
[ "$blocks" -lt 5000 ] && ok "raw output is sparse (${blocks} KiB used)" || fail "raw output is not sparse (${blocks} KiB)"
expect_exit 0 "default output format is raw" -- "$O" convert out1.qcow2 back2.raw
expect_exit 0 "raw -> raw identical" -- cmp src.raw back2.raw

# compressed output is smaller than plain output
s1=$(stat -c %s out1.qcow2); s2=$(stat -c %s out2.qcow2)
[ "$s2" -lt "$s1" ] && ok "-c makes a smaller image ($s2 < $s1)" || fail "-c did not compress ($s2 >= $s1)"

# VMDK output goes through the VMDK driver's writer; checked only where
# that writer exists
if "$O" convert -O vmdk src.raw probe.vmdk >/dev/null 2>&1; then
	for sub in monolithicSparse streamOptimized; do
		expect_exit 0 "convert -O vmdk subformat=$sub" -- "$O" convert -O vmdk -o subformat=$sub out2.qcow2 o-$sub.vmdk
		expect_exit 0 "qemu-img compare agrees (vmdk $sub)" -- qemu-img compare -f vmdk -F raw o-$sub.vmdk src.raw
		expect_exit 0 "our compare agrees (vmdk $sub)" -- "$O" compare o-$sub.vmdk src.raw
		expect_exit 0 "vmdk $sub -> qcow2" -- "$O" convert -O qcow2 o-$sub.vmdk o-$sub.qcow2
		expect_exit 0 "qemu-img check accepts (from vmdk $sub)" -- qemu-img check o-$sub.qcow2
		expect_exit 0 "qemu-img compare agrees (from vmdk $sub)" -- qemu-img compare o-$sub.qcow2 src.raw
	done
else
	echo "# no VMDK writer in this build: vmdk output not tested here"
fi

# info
expect_exit 0 "info" -- "$O" info out2.qcow2
expect_grep "file format: qcow2" "$T_TMP/out" "info names the format"
expect_grep "compressed: yes" "$T_TMP/out" "info sees compression"
qemu-img create -q -f qcow2 -b out1.qcow2 -F qcow2 top.qcow2
expect_exit 0 "info --json with a backing chain" -- "$O" --json info top.qcow2
if command -v python3 >/dev/null 2>&1; then
	cp "$T_TMP/out" info.json
	expect_exit 0 "info --json parses and shows the chain" -- python3 -c '
import json,sys
d=json.load(open("info.json"))
assert d["format"]=="qcow2" and d["virtual-size"]==6291456, d
assert d["backing-filename"]=="out1.qcow2"
assert d["backing-chain"][0]["format"]=="qcow2"'
fi

# check exit codes, as qemu-img's
expect_exit 63 "check of a raw image: no check for the format" -- "$O" check src.raw
expect_exit 1 "check of a missing file" -- "$O" check nosuch.qcow2
cp out1.qcow2 leak.qcow2
rt=$(od -An -tx8 --endian=big -j48 -N8 leak.qcow2 | tr -d ' ')
rb=$(od -An -tx8 --endian=big -j$((0x$rt)) -N8 leak.qcow2 | tr -d ' ')
printf '\000\002' | dd of=leak.qcow2 bs=1 seek=$((0x$rb)) conv=notrunc status=none
expect_exit 3 "check finds a leak (exit 3)" -- "$O" check leak.qcow2
expect_grep "Leaked cluster 0" "$T_TMP/out" "the leak is named"
expect_exit 3 "qemu-img agrees it is a leak" -- qemu-img check leak.qcow2
cp out1.qcow2 bad.qcow2
printf '\000\000' | dd of=bad.qcow2 bs=1 seek=$((0x$rb + 2)) conv=notrunc status=none
expect_exit 2 "check finds corruption (exit 2)" -- "$O" check bad.qcow2
expect_exit 2 "qemu-img agrees it is corrupt" -- qemu-img check bad.qcow2
expect_exit 2 "check --json on corruption" -- "$O" check --json bad.qcow2
expect_grep '"corruptions": [1-9]' "$T_TMP/out" "json counts corruptions"

# --deep inflates every compressed cluster: a damaged one is corruption
cp out2.qcow2 deep.qcow2
expect_exit 0 "check --deep of a good compressed image" -- "$O" check --deep deep.qcow2
l1=$(od -An -tx8 --endian=big -j40 -N8 deep.qcow2 | tr -d ' ')
l2=$(od -An -tx8 --endian=big -j$((0x$l1)) -N8 deep.qcow2 | tr -d ' ')
# drop the top hex digit (flag bits) as text: dash saturates values
# above 2^63 instead of wrapping
l2=$(( 0x$(echo "$l2" | cut -c2-) & 0x00fffffffffffe00 ))
found=0
for i in $(seq 0 200); do
	ent=$(od -An -tx8 --endian=big -j$((l2 + 8 * i)) -N8 deep.qcow2 | tr -d ' ')
	case $ent in [4567]*) compressed=1 ;; *) compressed=0 ;; esac
	if [ $compressed -eq 1 ]; then
		host=$(( 0x$ent & ((1 << 54) - 1) ))
		printf '\377\377\377\377\377\377\377\377' | dd of=deep.qcow2 bs=1 seek=$host conv=notrunc status=none
		found=1
		break
	fi
done
[ $found -eq 1 ] && ok "found a compressed cluster to damage" || fail "no compressed cluster in out2.qcow2"
expect_exit 0 "check without --deep does not inflate" -- "$O" check deep.qcow2
expect_exit 2 "check --deep finds the damaged cluster" -- "$O" check --deep deep.qcow2
expect_grep "ERROR reading guest offset" "$T_TMP/out" "--deep names the offset"

# compare: a difference and its offset
cp src.raw diff.raw
printf 'Z' | dd of=diff.raw bs=1 seek=4000000 conv=notrunc status=none
expect_exit 1 "compare finds a difference" -- "$O" compare out2.qcow2 diff.raw
expect_grep "offset 4000000" "$T_TMP/out" "compare names the first differing offset"
expect_exit 3 "compare with a missing image" -- "$O" compare src.raw nosuch.raw

# failures leave nothing behind
cp out1.qcow2 hostile.qcow2
l1=$(od -An -tx8 --endian=big -j40 -N8 hostile.qcow2 | tr -d ' ')
printf '\200\000\000\100\000\000\000\000' | dd of=hostile.qcow2 bs=1 seek=$((0x$l1)) conv=notrunc status=none
expect_exit 1 "converting a hostile image fails" -- "$O" convert -O qcow2 hostile.qcow2 never.qcow2
expect_grep "past the end" "$T_TMP/err" "the error says what is wrong"
[ ! -e never.qcow2 ] && ok "no output after a failure" || fail "output exists after a failure"
ls -a | grep -q '\.tmp$' && fail "a temporary file was left behind" || ok "no temporary file left behind"

# usage errors
expect_exit 2 "convert without arguments" -- "$O" convert
expect_exit 2 "convert to an unknown format" -- "$O" convert -O foo src.raw x
expect_exit 2 "an unknown -o option" -- "$O" convert -O qcow2 -o bogus=1 src.raw x
expect_exit 2 "a bad cluster size" -- "$O" convert -O qcow2 -o cluster_size=1000 src.raw x
expect_exit 2 "check without an image" -- "$O" check

# -t: unsafe (the default, as qemu-img's) does not fsync; writeback, the same
# as --sync, fsyncs the output and its directory; all write the same image.
expect_exit 0 "convert -t unsafe" -- "$O" convert -t unsafe -O qcow2 src.raw unsafe.qcow2
expect_exit 0 "-t unsafe writes the same content" -- qemu-img compare unsafe.qcow2 src.raw
expect_exit 0 "-t unsafe writes a clean image" -- qemu-img check unsafe.qcow2
expect_exit 2 "an unsupported -t mode" -- "$O" convert -t directsync src.raw x
if command -v strace >/dev/null; then
	n=$(strace -f -e trace=fsync,fdatasync "$O" convert -t unsafe -O qcow2 src.raw u2.qcow2 2>&1 | grep -c 'fsync(')
	[ "$n" -eq 0 ] && ok "-t unsafe does not fsync" || fail "-t unsafe made $n fsync calls"
	n=$(strace -f -e trace=fsync,fdatasync "$O" convert -O qcow2 src.raw d2.qcow2 2>&1 | grep -c 'fsync(')
	[ "$n" -eq 0 ] && ok "the default does not fsync" || fail "the default made $n fsync calls"
	n=$(strace -f -e trace=fsync,fdatasync "$O" convert -t writeback -O qcow2 src.raw w2.qcow2 2>&1 | grep -c 'fsync(')
	[ "$n" -ge 2 ] && ok "-t writeback fsyncs the output and its directory ($n calls)" || fail "-t writeback made $n fsync calls"
	n=$(strace -f -e trace=fsync,fdatasync "$O" convert --sync -O qcow2 src.raw s2.qcow2 2>&1 | grep -c 'fsync(')
	[ "$n" -ge 2 ] && ok "--sync fsyncs the output and its directory ($n calls)" || fail "--sync made $n fsync calls"
	expect_exit 0 "--sync writes the same content" -- qemu-img compare s2.qcow2 src.raw
fi
done_testing
