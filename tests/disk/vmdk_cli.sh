#!/bin/sh
# vmdk_cli.sh - VMDK through 'ovfdeploy convert', 'check', 'info' and
# 'compare', with qemu-img as the oracle in both directions.
. "${top_srcdir:-.}/tests/cli/lib.sh"
command -v qemu-img >/dev/null 2>&1 || skip "qemu-img is not installed"
O=$OVFDEPLOY
cd "$T_TMP" || exit 1

# 6 MiB: random data, text, explicit zeros, holes, data in the last sector.
head -c 1500000 /dev/urandom > src.raw
yes 'ovfdeploy vmdk test line' | head -c 700000 | dd of=src.raw bs=64k seek=32 conv=notrunc status=none
head -c 300000 /dev/zero | dd of=src.raw bs=64k seek=50 conv=notrunc status=none
printf 'end' | dd of=src.raw bs=1 seek=6291000 conv=notrunc status=none
truncate -s 6291456 src.raw

# our writers, judged by qemu-img
for sub in streamOptimized monolithicSparse; do
	expect_exit 0 "convert to $sub" -- "$O" convert -O vmdk -o subformat=$sub -j 2 src.raw $sub.vmdk
	expect_exit 0 "qemu-img check accepts $sub" -- qemu-img check $sub.vmdk
	expect_exit 0 "qemu-img compare agrees ($sub)" -- qemu-img compare src.raw $sub.vmdk
	expect_exit 0 "our check accepts $sub" -- "$O" check --deep $sub.vmdk
	expect_exit 0 "our compare agrees ($sub)" -- "$O" compare src.raw $sub.vmdk
done
# a stream larger than the writer's 2 MiB output stage (random data does
# not compress): written in several aligned pieces plus an unaligned rest
head -c 5000000 /dev/urandom > big.raw
truncate -s 6291456 big.raw
expect_exit 0 "convert 5 MB of noise to a stream" -- "$O" convert -O vmdk -o subformat=streamOptimized big.raw big.vmdk
expect_exit 0 "qemu-img check accepts the large stream" -- qemu-img check big.vmdk
expect_exit 0 "qemu-img compare agrees (large stream)" -- qemu-img compare big.raw big.vmdk
expect_exit 0 "convert -c to vmdk" -- "$O" convert -O vmdk -c -o adapter_type=ide src.raw c.vmdk
expect_exit 0 "qemu-img compare agrees (-c)" -- qemu-img compare src.raw c.vmdk
expect_exit 0 "info of our stream" -- "$O" info c.vmdk
expect_grep "streamOptimized" "$T_TMP/out" "info shows the subformat"
expect_grep 'ddb.adapterType = "ide"' "$T_TMP/out" "info shows the descriptor (adapter from -o)"

# qemu-img's writers, read by ours
for sub in monolithicSparse monolithicFlat twoGbMaxExtentSparse twoGbMaxExtentFlat streamOptimized; do
	qemu-img convert -O vmdk -o subformat=$sub src.raw q-$sub.vmdk
	expect_exit 0 "compare qemu-img's $sub" -- "$O" compare src.raw q-$sub.vmdk
	expect_exit 0 "check qemu-img's $sub" -- "$O" check --deep q-$sub.vmdk
	expect_exit 0 "convert qemu-img's $sub to raw" -- "$O" convert -O raw q-$sub.vmdk back-$sub.raw
	expect_exit 0 "round trip of $sub" -- cmp src.raw back-$sub.raw
done

# vmdk -> qcow2 -> vmdk
expect_exit 0 "stream -> qcow2" -- "$O" convert -O qcow2 streamOptimized.vmdk x.qcow2
expect_exit 0 "qcow2 -> stream" -- "$O" convert -O vmdk -o subformat=streamOptimized x.qcow2 y.vmdk
expect_exit 0 "qemu-img compare after two conversions" -- qemu-img compare src.raw y.vmdk

# damage is reported with check's corruption exit code
cp streamOptimized.vmdk bad.vmdk
printf '\377\377\377\377' | dd of=bad.vmdk bs=1 seek=$((65536 + 8)) conv=notrunc status=none
expect_exit 2 "check finds a grain claiming too much" -- "$O" check bad.vmdk
"$O" compare src.raw bad.vmdk >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
[ $rc -ne 0 ] && [ $rc -lt 128 ] && ok "compare of a damaged image fails cleanly (exit $rc)" ||
	fail "compare of a damaged image: exit $rc"
expect_grep "more than two grains" "$T_TMP/err" "the error names the problem"
done_testing
