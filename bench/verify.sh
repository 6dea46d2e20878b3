#!/bin/sh
# verify.sh - how fast are verify and pack against the obvious tools?
#
#   verify: `ovfdeploy verify app.ova` against `openssl dgst -sha256 app.ova`
#           on the same 1 GiB OVA (goal: at most 1.1x: one pass at hash speed)
#   pack:   `ovfdeploy pack DIR -o app.ova` against `tar -cf` followed by
#           `openssl dgst -sha256` of the disk (goal: at most 0.7x: one read,
#           hashed while written).  Defaults against defaults: neither
#           syncs (issue 13); then both synced: `pack --sync` against tar,
#           sync of the OVA, and the digest.
#
# Everything is made at bench time in a scratch directory (BENCH_DIR, default
# bench/out), which is removed at the end.  Each command runs RUNS times
# (default 3) and the best time counts, so a cold first read does not decide.
# Usage: bench/verify.sh [SIZE_MIB]   (default 1024)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
OVFDEPLOY=${OVFDEPLOY:-$here/ovfdeploy}
[ -x "$OVFDEPLOY" ] || { echo "build ovfdeploy first (make)"; exit 1; }
size=${1:-1024}
runs=${RUNS:-3}
dir=${BENCH_DIR:-$here/bench/out}
rm -rf "$dir"; mkdir -p "$dir/src"
trap 'rm -rf "$dir"' EXIT
cd "$dir"

now() { date +%s.%N; }
# SECONDS one run of the command takes
timed() {
	t0=$(now); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }'
}
min() { awk -v t="$1" -v b="$2" 'BEGIN { if (b == "" || t < b) print t; else print b }'; }
# best SECONDS of `runs` runs of a command that only reads
best() {
	b=
	i=0
	while [ $i -lt "$runs" ]; do
		t=$(timed "$@")
		b=$(min "$t" "$b")
		i=$((i + 1))
	done
	printf '%.3f' "$b"
}
# Every writer starts from the same state, outside the timing: no output
# from an earlier run (replacing a file costs ext4 a flush of the new one,
# auto_da_alloc, for rename over it as for tar's O_TRUNC, and freeing the
# old one's blocks) and no dirty data left for the disk to write meanwhile.
# Without this, tar's first run (no tar.ova yet) was its best, while every
# unsynced pack renamed over the app.ova the durable runs had left and
# waited for its own 1 GiB to be written: 3.51 s against 2.60 s synced.
fresh() { rm -f tar.ova app.ova dd.out dd2.out; sync; }
echo "making a ${size} MiB disk member..."
# Random data: compressible input would flatter nobody here, but keep it honest.
head -c $((size * 1024 * 1024)) /dev/urandom > src/disk1.vmdk
cat > src/app.ovf <<XML
<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References>
    <File ovf:id="file1" ovf:href="disk1.vmdk" ovf:size="$((size * 1024 * 1024))"/>
  </References>
  <DiskSection>
    <Info>Virtual disks</Info>
    <Disk ovf:diskId="disk1" ovf:fileRef="file1" ovf:capacity="$((size * 2))" ovf:capacityAllocationUnits="byte * 2^20"/>
  </DiskSection>
  <VirtualSystem ovf:id="vm"><Info>bench</Info></VirtualSystem>
</Envelope>
XML

tar_then_dgst() { (cd src && tar -cf ../tar.ova app.ovf disk1.vmdk) && openssl dgst -sha256 src/disk1.vmdk src/app.ovf; }
# The same, made as durable as pack --sync (which fsyncs the OVA and its
# directory before reporting success).
tar_sync_then_dgst() { (cd src && tar -cf ../tar.ova app.ovf disk1.vmdk && sync ../tar.ova) && openssl dgst -sha256 src/disk1.vmdk src/app.ovf; }
disk_write() { dd if=src/disk1.vmdk of=dd.out bs=8M oflag=direct 2>/dev/null; }
# The same with an fsync at the end: on a disk with a write-back cache
# (virtio disks usually: /sys/block/*/queue/write_cache), O_DIRECT data is
# not durable until the cache is flushed, and that flush can take seconds.
# This, not the row above, is the floor for pack --sync.
disk_write_sync() { dd if=src/disk1.vmdk of=dd.out bs=8M oflag=direct conv=fsync 2>/dev/null; }
# Two O_DIRECT writers, each writing half of the member to a file of its
# own, then fsync: a disk that needs several requests in flight to reach
# its speed shows it here.
disk_write2() {
	half=$((size / 2))
	dd if=src/disk1.vmdk of=dd.out bs=8M count=$((half / 8)) oflag=direct conv=fsync 2>/dev/null &
	dd if=src/disk1.vmdk of=dd2.out bs=8M skip=$((half / 8)) oflag=direct conv=fsync 2>/dev/null
	wait $!
}
pack_ours() { "$OVFDEPLOY" -q pack src -o app.ova; }
pack_sync() { "$OVFDEPLOY" -q pack --sync src -o app.ova; }

# The writers take turns, round after round (best of `runs` each), so that
# a disk that slows down for a while (shared machines) hurts them all alike.
t_tar= t_tarsync= t_disk= t_disksync= t_disk2= t_pack= t_sync=
i=0
while [ $i -lt "$runs" ]; do
	fresh; t=$(timed tar_then_dgst); t_tar=$(min "$t" "$t_tar")
	fresh; t=$(timed tar_sync_then_dgst); t_tarsync=$(min "$t" "$t_tarsync")
	fresh; t=$(timed disk_write); t_disk=$(min "$t" "$t_disk")
	fresh; t=$(timed disk_write_sync); t_disksync=$(min "$t" "$t_disksync")
	fresh; t=$(timed disk_write2); t_disk2=$(min "$t" "$t_disk2")
	fresh; t=$(timed pack_ours); t_pack=$(min "$t" "$t_pack")
	fresh; t=$(timed pack_sync); t_sync=$(min "$t" "$t_sync")
	i=$((i + 1))
done
for v in t_tar t_tarsync t_disk t_disksync t_disk2 t_pack t_sync; do eval "$v=\$(printf '%.3f' \"\$$v\")"; done
"$OVFDEPLOY" -q verify app.ova || { echo "the packed OVA does not verify" >&2; exit 1; }
t_dgst=$(best openssl dgst -sha256 app.ova)
t_verify=$(best "$OVFDEPLOY" -q verify app.ova)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "size: ${size} MiB, best of $runs runs, $(nproc) CPUs, $(openssl version | cut -d' ' -f1-2), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "verify:  ovfdeploy verify ${t_verify}s   openssl dgst -sha256 ${t_dgst}s   ratio $(ratio "$t_verify" "$t_dgst") (goal <= 1.1)"
echo "pack:    ovfdeploy pack ${t_pack}s   tar -cf + openssl dgst ${t_tar}s   ratio $(ratio "$t_pack" "$t_tar") (goal <= 0.7; defaults, neither syncs)"
echo "         both synced: ovfdeploy pack --sync ${t_sync}s   tar -cf + sync + openssl dgst ${t_tarsync}s   ratio $(ratio "$t_sync" "$t_tarsync")"
echo "         the disk alone: writing the member with O_DIRECT takes ${t_disk}s, + fsync ${t_disksync}s, two writers + fsync ${t_disk2}s"
echo "         (the fsynced ones are floors for any synced pack: ratio $(ratio "$t_sync" "$t_disksync") to the first)"
