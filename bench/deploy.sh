#!/bin/sh
# deploy.sh - time from "deploy" to the guest's first instruction, for the
# 64 MiB sample and for a 4 GiB appliance holding 2 GiB of data, against
# the obvious alternative (extract the disk, qemu-img convert it, start
# QEMU).  Ours reads disks in place, so it should barely grow with the data;
# the alternative grows with it.
#
# "First instruction" is measured as the first byte on the serial console
# (SeaBIOS writes one within its first instructions), the same probe for
# both.  Verification hashes the whole package and so does grow with the
# data; it is reported separately (deploy --skip-verify vs deploy
# --reverify), and so is a deploy of a package that verified before (the
# verdict is remembered per unchanged file, see verify_cache.c).
#
# Usage: bench/deploy.sh [WORKDIR]     (needs ~8 GiB free; not a test)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
O=$top/ovfdeploy
[ -x "$O" ] || { echo "build ovfdeploy first" >&2; exit 1; }
work=${1:-$top/bench/out/deploy}
mkdir -p "$work"
work=$(cd "$work" && pwd)
export OVFDEPLOY_HOME=$work/home
now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{printf "%.2f", $1 - $2}'; }
wait_byte() { # wait until FILE is non-empty
	i=0
	while [ ! -s "$1" ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done
}

echo "== building the appliances (cached)"
OVFDEPLOY=$O sh "$top/samples/pack-tiny.sh" "$work" >/dev/null
if [ ! -f "$work/big.ova" ]; then
	sh "$top/samples/build-tiny.sh" --disk-mib 4096 --fill-mib 2048 --output big.raw "$work" >/dev/null
	rm -rf "$work/bigpkg"; mkdir "$work/bigpkg"
	"$O" -q convert -O vmdk -o subformat=streamOptimized "$work/big.raw" "$work/bigpkg/tiny-disk1.vmdk"
	sed 's/ovf:capacity="64"/ovf:capacity="4096"/' "$top/samples/tiny.ovf" >"$work/bigpkg/tiny.ovf"
	"$O" -q pack "$work/bigpkg/tiny.ovf" -o "$work/big.ova"
	rm -rf "$work/bigpkg" "$work/big.raw"
fi

ours() { # OVA [extra deploy options]: seconds from deploy to the first console byte
	ova=$1; shift
	"$O" -q rm bench 2>/dev/null || true
	t0=$(now)
	"$O" -q deploy "$ova" --accept-eula --backend qemu --name bench "$@" >/dev/null
	"$O" -q start bench
	wait_byte "$OVFDEPLOY_HOME/instances/bench/console.log"
	t=$(since "$t0")
	"$O" -q stop --timeout 0 bench >/dev/null 2>&1 || true
	"$O" -q rm bench
	echo "$t"
}
alternative() { # OVA: extract, convert to qcow2, start QEMU
	ova=$1
	d=$work/alt; rm -rf "$d"; mkdir -p "$d"
	t0=$(now)
	tar -xf "$ova" -C "$d" tiny-disk1.vmdk
	qemu-img convert -O qcow2 "$d/tiny-disk1.vmdk" "$d/disk.qcow2"
	qemu-system-x86_64 -nodefaults -machine pc,accel=tcg -m 256M -nographic \
		-drive file="$d/disk.qcow2",if=virtio,format=qcow2 \
		-chardev file,id=c0,path="$d/console.log" -serial chardev:c0 -daemonize -pidfile "$d/pid"
	wait_byte "$d/console.log"
	t=$(since "$t0")
	kill "$(cat "$d/pid")" 2>/dev/null || true
	rm -rf "$d"
	echo "$t"
}
best() { # run a command 3 times, print the smallest time
	b=
	for _ in 1 2 3; do
		t=$("$@")
		if [ -z "$b" ] || awk "BEGIN{exit !($t < $b)}"; then b=$t; fi
	done
	echo "$b"
}
echo "== measuring (best of 3)"
s_ours=$(best ours "$work/tiny.ova" --skip-verify 2>/dev/null)
b_ours=$(best ours "$work/big.ova" --skip-verify 2>/dev/null)
s_ver=$(best ours "$work/tiny.ova" --reverify)
b_ver=$(best ours "$work/big.ova" --reverify)
# (the runs above leave each package's verdict remembered)
s_cac=$(best ours "$work/tiny.ova")
b_cac=$(best ours "$work/big.ova")
s_alt=$(best alternative "$work/tiny.ova")
b_alt=$(best alternative "$work/big.ova")
printf '%-44s %10s %10s %8s\n' "time to the guest's first instruction (s)" "64 MiB" "4 GiB/2 GiB" "growth"
row() { printf '%-44s %10s %10s %7.0f%%\n' "$1" "$2" "$3" "$(echo "$2 $3" | awk '{print ($2 / $1 - 1) * 100}')"; }
row "ovfdeploy deploy+start (--skip-verify)" "$s_ours" "$b_ours"
row "ovfdeploy deploy+start (verified)" "$s_ver" "$b_ver"
row "ovfdeploy deploy+start (verified before)" "$s_cac" "$b_cac"
row "tar -x + qemu-img convert + qemu" "$s_alt" "$b_alt"
