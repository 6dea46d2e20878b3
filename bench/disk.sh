#!/bin/sh
# disk.sh - time ovfdeploy's disk engine against qemu-img on a realistic
# image, side by side, and print the ratios the issue sets as goals.
#
# The input is a 1 GiB raw disk holding an ext4 filesystem made with
# `mkfs.ext4 -d` from a copy of part of /usr (about half full).  Every case
# runs ours and qemu-img on the same input, each RUNS times (default 3, the
# best counts), with /usr/bin/time for wall time and peak RSS.  Not a test:
# it takes minutes.
#
# Defaults against defaults: qemu-img convert writes its output through the
# page cache (cache=unsafe) and never syncs it; so does ours since issue 13
# (temporary file renamed into place, no fsync).  The "(both synced)" rows
# run ours with --sync (file and directory fsynced) against qemu-img -t
# writeback (flushed at close).  The "floor" line times a plain durable
# write of the same bytes (dd, then fsync): what any synced converter pays
# on this machine before doing any work at all.
# Usage: bench/disk.sh [WORKDIR]   (default: a temporary directory, removed)
#        OVFDEPLOY=path/to/ovfdeploy to choose the binary;
#        SIZE_MIB=N for a smaller (or larger) image than 1024 MiB, half full.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
OD=${OVFDEPLOY:-$here/ovfdeploy}
[ -x "$OD" ] || { echo "build ovfdeploy first ($OD not found)" >&2; exit 1; }
for t in qemu-img mkfs.ext4 /usr/bin/time; do
	command -v "$t" >/dev/null 2>&1 || { echo "$t is required" >&2; exit 1; }
done
if [ $# -ge 1 ]; then W=$1; mkdir -p "$W"; keep=1; else W=$(mktemp -d "${TMPDIR:-/tmp}/od-bench.XXXXXX"); keep=0; fi
[ $keep -eq 1 ] || trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1

# ---- the input image ---------------------------------------------------------
if [ ! -f in.raw ]; then
	echo "making a ${SIZE_MIB:-1024} MiB ext4 image from a copy of /usr ..."
	mkdir -p tree
	budget=$((${SIZE_MIB:-1024} * 15 / 32 * 1024)) # KiB of files: about half of the filesystem
	for d in /usr/bin /usr/share/doc /usr/share/man /usr/share/locale /usr/lib/python3; do
		[ -d "$d" ] || continue
		used=$(du -sk tree | cut -f1)
		[ "$used" -ge "$budget" ] && break
		mkdir -p "tree$(dirname "$d")"
		cp -a "$d" "tree$d" 2>/dev/null
	done
	# trim to the budget: a 1 GiB filesystem must not overflow
	used=$(du -sk tree | cut -f1)
	if [ "$used" -gt $((budget + budget / 5)) ]; then
		# drop files (last names first) until the excess is gone
		find tree -type f -printf '%k %p\n' | sort -r -k2 |
			awk -v over=$((used - budget)) '{ if (acc >= over) exit; acc += $1; print substr($0, index($0, " ") + 1) }' |
			while read -r f; do rm -f "$f"; done
	fi
	truncate -s "${SIZE_MIB:-1024}M" in.raw
	mkfs.ext4 -q -F -d tree in.raw >/dev/null || { echo "mkfs.ext4 failed" >&2; exit 1; }
	rm -rf tree
fi
echo "input: $(du -k in.raw | cut -f1) KiB allocated of ${SIZE_MIB:-1024} MiB"

# ---- timing ------------------------------------------------------------------
# run NAME CMD...: prints "wall_seconds peak_rss_kib" on success, "fail" otherwise
run() {
	name=$1; shift
	sync
	if /usr/bin/time -f '%e %M' -o "$W/time.$name" "$@" >"$W/log.$name" 2>&1; then
		cat "$W/time.$name" | tail -1
	else
		echo fail
	fi
}

# load: the 1-minute load average after the case (a shared machine's other
# work slows both sides, not always alike)
printf '%-38s %9s %9s %7s %9s %9s %11s %11s %5s\n' case "ours(s)" "qemu(s)" speedup "ours-MiB" "qemu-MiB" "ours-size" "qemu-size" load
# best NAME CMD...: run CMD $RUNS times (default 3), removing its output (the
# last argument) before each run; prints the best "wall_seconds peak_rss_kib"
# (the largest RSS seen), or "fail".  Page-cache and writeback state make a
# single run of a second or less swing by tens of percent.
RUNS=${RUNS:-3}
best() {
	name=$1; shift
	bt= brss=0 k=0
	while [ $k -lt "$RUNS" ]; do
		for last in "$@"; do :; done
		rm -f "$last"
		r=$(run "$name" "$@")
		[ "$r" = fail ] && { echo fail; return; }
		t=${r% *} rss=${r#* }
		[ "$rss" -gt "$brss" ] && brss=$rss
		if [ -z "$bt" ] || awk -v t="$t" -v b="$bt" 'BEGIN { exit !(t < b) }'; then bt=$t; fi
		k=$((k + 1))
	done
	echo "$bt $brss"
}
# case LABEL OURS_OUT QEMU_OUT "our args" "qemu args" : both write OUT files
bench() {
	label=$1; oo=$2; qo=$3; oargs=$4; qargs=$5; ref=${6:-}
	rm -f "$oo" "$qo"
	# shellcheck disable=SC2086
	o=$(best ours $OD convert $oargs "$oo")
	# shellcheck disable=SC2086
	q=$(best qemu qemu-img convert $qargs "$qo")
	if [ "$o" = fail ] || [ "$q" = fail ]; then
		printf '%-38s %s\n' "$label" "ours: $o ($(head -c 200 "$W/log.ours" | tr '\n' ' ')) qemu: $q"
		return
	fi
	set -- $o; ot=$1; orss=$2
	set -- $q; qt=$1; qrss=$2
	os=$(stat -c %s "$oo"); qs=$(stat -c %s "$qo")
	awk -v l="$label" -v ot="$ot" -v qt="$qt" -v orss="$orss" -v qrss="$qrss" -v os="$os" -v qs="$qs" \
		-v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
		sp = (ot > 0) ? qt / ot : 0
		printf "%-38s %9.2f %9.2f %6.2fx %9.1f %9.1f %11d %11d %5s\n", l, ot, qt, sp, orss / 1024, qrss / 1024, os, qs, load }'
	if [ -n "$ref" ]; then
		# name the output's format: probing would read a VMDK in a .raw as VMDK
		qemu-img compare -q -f "${oo##*.}" -F raw "$oo" "$ref" || echo "  !! $label: our output differs from the input"
	fi
}

bench "raw -> qcow2" o.qcow2 q.qcow2 "-O qcow2 in.raw" "-O qcow2 in.raw" in.raw
# the floor: write q.qcow2's bytes (cached by now) durably, nothing else
floor=$(run floor dd if=q.qcow2 of=floor.bin bs=2M conv=fsync status=none)
rm -f floor.bin
set -- $floor
[ "$floor" = fail ] || awk -v t="$1" -v s="$(stat -c %s q.qcow2)" 'BEGIN {
	printf "%-38s %9.2f   (%d MB durable: %.0f MB/s)\n", "floor: dd + fsync", t, s / 1e6, s / 1e6 / t }'
bench "qcow2 -> raw" o.raw q.raw "-O raw q.qcow2" "-O raw q.qcow2" in.raw
# both synced: ours --sync, qemu-img -t writeback (a flush at close)
bench "raw -> qcow2 (both synced)" o.qcow2 q2.qcow2 "--sync -O qcow2 in.raw" "-t writeback -O qcow2 in.raw" in.raw
bench "qcow2 -> raw (both synced)" o.raw q.raw "--sync -O raw q.qcow2" "-t writeback -O raw q.qcow2" in.raw
rm -f o.raw q.raw o.qcow2 q2.qcow2
bench "raw -> qcow2 compressed" oc.qcow2 qc.qcow2 "-O qcow2 -c in.raw" "-O qcow2 -c in.raw" in.raw
bench "compressed qcow2 -> raw" o.raw q.raw "-O raw qc.qcow2" "-O raw qc.qcow2" in.raw
bench "compressed qcow2 -> raw (both synced)" o.raw q.raw "--sync -O raw qc.qcow2" "-t writeback -O raw qc.qcow2" in.raw
rm -f o.raw q.raw oc.qcow2
bench "raw -> qcow2 zstd" oz.qcow2 qz.qcow2 "-O qcow2 -c -o compression_type=zstd in.raw" \
	"-O qcow2 -c -o compression_type=zstd in.raw" in.raw
rm -f oz.qcow2 qz.qcow2
bench "raw -> vmdk streamOptimized" o.vmdk q.vmdk "-O vmdk -o subformat=streamOptimized in.raw" \
	"-O vmdk -o subformat=streamOptimized in.raw" in.raw
bench "vmdk streamOptimized -> raw" o.raw q.raw "-O raw q.vmdk" "-O raw q.vmdk" in.raw
bench "vmdk stream -> raw (both synced)" o.raw q.raw "--sync -O raw q.vmdk" "-t writeback -O raw q.vmdk" in.raw
rm -f o.raw q.raw o.vmdk
echo "goals: stream VMDK >= 4x and <= 2% larger; qcow2 -c >= 3x; VMDK/qcow2-c -> raw >= 1.5x;"
echo "       raw <-> qcow2 >= 1x; our peak RSS <= 64 MiB everywhere"
