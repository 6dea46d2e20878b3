#!/bin/sh
# pack-tiny.sh - the sample appliance as an OVA, made with our own tools.
#
# Usage: samples/pack-tiny.sh [OUTDIR]      (default: samples/out)
#
# Builds the disk with build-tiny.sh (cached), turns it into a
# streamOptimized VMDK with `ovfdeploy convert`, and packs it with
# samples/tiny.ovf into OUTDIR/tiny.ova with `ovfdeploy pack`.  The OVA is
# remade only when the disk, the descriptor or ovfdeploy changed.
#
# Exit status: 0 built, 1 error, 3 the kernel package could not be obtained.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
ovfdeploy=${OVFDEPLOY:-$here/../ovfdeploy}
[ -x "$ovfdeploy" ] || { echo "pack-tiny: $ovfdeploy not found: build ovfdeploy first (make)" >&2; exit 1; }

rc=0
sh "$here/build-tiny.sh" "$out" || rc=$?
[ $rc -eq 0 ] || exit $rc

ova=$out/tiny.ova
if [ -f "$ova" ] && [ "$ova" -nt "$out/tiny-disk.raw" ] && [ "$ova" -nt "$here/tiny.ovf" ] &&
	[ "$ova" -nt "$ovfdeploy" ]; then
	echo "pack-tiny: $ova is up to date"
	exit 0
fi
stage=$(mktemp -d "$out/.pack.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM
"$ovfdeploy" -q convert -O vmdk -o subformat=streamOptimized "$out/tiny-disk.raw" "$stage/tiny-disk1.vmdk"
cp "$here/tiny.ovf" "$stage/tiny.ovf"
"$ovfdeploy" -q pack "$stage/tiny.ovf" -o "$ova"
echo "pack-tiny: wrote $ova ($(du -k "$ova" | cut -f1) KiB)"
