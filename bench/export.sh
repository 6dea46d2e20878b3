#!/bin/sh
# export.sh - `ovfdeploy export` against qemu-img doing the core of the same
# job: reading the instance's disk (the qcow2 overlay over its base inside
# the OVA) and writing it as a streamOptimized VMDK:
#
#   qemu-img convert -O vmdk -o subformat=streamOptimized disk0.qcow2 out.vmdk
#
# Ours does that and more: the descriptor rewrite, the SHA256 manifest and
# the tar (the VMDK is read back once to be packed and hashed).  Also shown:
# qemu-img from a raw copy of the flattened disk (no backing chain).
#
# Two appliances: the 64 MiB sample and a 1 GiB one with 256 MiB of
# incompressible data (build-tiny.sh --fill-mib); each instance gets 16 MiB
# of changes written into its overlay with qemu-io first.  Best of 3 runs,
# all in this run; the ratio is ours / qemu-img (below 1: ours is faster).
#
# Usage: bench/export.sh [WORKDIR]     (needs ~3 GiB free; not a test)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
O=$top/ovfdeploy
[ -x "$O" ] || { echo "build ovfdeploy first" >&2; exit 1; }
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || { echo "needs qemu-img and qemu-io (qemu-utils)" >&2; exit 1; }
work=${1:-$top/bench/out/export}
mkdir -p "$work"
work=$(cd "$work" && pwd)
export OVFDEPLOY_HOME=$work/home
RUNS=${RUNS:-3}
now() { date +%s.%N; }

echo "== building the appliances (cached)"
OVFDEPLOY=$O sh "$top/samples/pack-tiny.sh" "$work" >/dev/null
if [ ! -f "$work/mid.ova" ]; then
	sh "$top/samples/build-tiny.sh" --disk-mib 1024 --fill-mib 256 --output mid.raw "$work" >/dev/null
	rm -rf "$work/midpkg"; mkdir "$work/midpkg"
	"$O" -q convert -O vmdk -o subformat=streamOptimized "$work/mid.raw" "$work/midpkg/tiny-disk1.vmdk"
	sed 's/ovf:capacity="64"/ovf:capacity="1024"/' "$top/samples/tiny.ovf" >"$work/midpkg/tiny.ovf"
	"$O" -q pack "$work/midpkg/tiny.ovf" -o "$work/mid.ova"
	rm -rf "$work/midpkg" "$work/mid.raw"
fi

# best SECONDS... -> the smallest
best() { printf '%s\n' "$@" | sort -g | head -n 1; }
# timed CMD...: seconds CMD took (its output discarded)
timed() {
	t0=$(now)
	"$@" >/dev/null 2>&1
	echo "$(now) $t0" | awk '{printf "%.3f", $1 - $2}'
}

bench_one() { # LABEL OVA
	label=$1 ova=$2
	"$O" -q rm bx 2>/dev/null || true
	"$O" -q deploy "$ova" --accept-eula --backend qemu --name bx --prop appliance.greeting="exported by the bench"
	ov=$(sed -n 's/^disk\.0\.path=//p' "$OVFDEPLOY_HOME/instances/bx/instance.conf")
	qemu-io -f qcow2 -c 'write -P 0x5a 40M 16M' "$ov" >/dev/null
	qemu-img convert -O raw "$ov" "$work/flat.raw"
	o=; q=; r=
	i=0
	while [ $i -lt "$RUNS" ]; do
		rm -f "$work/x.ova" "$work/q.vmdk" "$work/r.vmdk"
		o="$o $(timed "$O" -q export bx -o "$work/x.ova")"
		q="$q $(timed qemu-img convert -O vmdk -o subformat=streamOptimized "$ov" "$work/q.vmdk")"
		r="$r $(timed qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$work/flat.raw" "$work/r.vmdk")"
		i=$((i + 1))
	done
	[ -s "$work/x.ova" ] || { echo "export failed" >&2; exit 1; }
	bo=$(best $o) bq=$(best $q) br=$(best $r)
	size_o=$(stat -c %s "$work/x.ova") size_q=$(stat -c %s "$work/q.vmdk")
	echo "$label: ovfdeploy export ${bo}s (OVA $((size_o / 1024)) KiB); qemu-img convert of the overlay ${bq}s (VMDK $((size_q / 1024)) KiB); of the flattened raw ${br}s"
	echo "$bo $bq $br" | awk -v l="$label" '{printf "%s: ratio ours/qemu-img = %.2f (overlay), %.2f (flattened raw)\n", l, $1 / $2, $1 / $3}'
	"$O" -q rm bx
	rm -f "$work/x.ova" "$work/q.vmdk" "$work/r.vmdk" "$work/flat.raw"
}

echo "== export vs qemu-img convert -O vmdk -o subformat=streamOptimized (best of $RUNS)"
bench_one "sample (64 MiB disk)" "$work/tiny.ova"
bench_one "1 GiB disk, 256 MiB incompressible" "$work/mid.ova"
