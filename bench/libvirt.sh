#!/bin/sh
# libvirt.sh - deploying to a libvirt host: time from the command to the
# guest's first console byte, on a private libvirtd (tests/libvirt/lvlib.sh),
# for the 64 MiB sample and for a 4 GiB appliance holding 2 GiB of
# incompressible data, against the manual path (tar -x, qemu-img convert,
# virsh vol-create + vol-upload, define, start).
#
# Ours uploads each disk as stored (the compressed streamOptimized VMDK) and
# gives the instance a qcow2 overlay; the manual path extracts, converts and
# uploads the converted image.  A second deployment of the same package to
# the same pool reuses the uploaded base, so it should cost about what the
# small appliance costs.  "ours, first" verifies the package (--reverify),
# as a first deploy does; "verified before" uses the remembered verdict.
# virt-v2v is not measured (not installed here; it also needs a guest OS it
# recognises, which the sample is not).
#
# Usage: bench/libvirt.sh [WORKDIR]   (root; needs ~10 GiB free; not a test)
# RUNS=N: runs per figure (default 3 for the sample, 1 for the big appliance).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
O=$top/ovfdeploy
[ -x "$O" ] || { echo "build ovfdeploy first" >&2; exit 1; }
work=${1:-$top/bench/out/deploy}
mkdir -p "$work"
work=$(cd "$work" && pwd)
T_TMP=$(mktemp -d)
top_srcdir=$top
skip() { echo "libvirt.sh: cannot run: $*" >&2; exit 1; }
fail() { echo "libvirt.sh: $*" >&2; }
ok() { :; }
done_testing() { :; }
. "$top/tests/libvirt/lvlib.sh"
now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{printf "%.2f", $1 - $2}'; }
wait_byte() { # wait until FILE is non-empty
	i=0
	while [ ! -s "$1" ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i + 1)); done
}

echo "== building the appliances (cached in $work)"
OVFDEPLOY=$O sh "$top/samples/pack-tiny.sh" "$work" >/dev/null || exit 1
if [ ! -f "$work/big.ova" ]; then
	sh "$top/samples/build-tiny.sh" --disk-mib 4096 --fill-mib 2048 --output big.raw "$work" >/dev/null || exit 1
	rm -rf "$work/bigpkg"; mkdir "$work/bigpkg"
	"$O" -q convert -O vmdk -o subformat=streamOptimized "$work/big.raw" "$work/bigpkg/tiny-disk1.vmdk"
	sed 's/ovf:capacity="64"/ovf:capacity="4096"/' "$top/samples/tiny.ovf" >"$work/bigpkg/tiny.ovf"
	"$O" -q pack "$work/bigpkg/tiny.ovf" -o "$work/big.ova"
	rm -rf "$work/bigpkg" "$work/big.raw"
fi
lv_skip_unless_possible
trap 'lv_stop; rm -rf "$T_TMP"' EXIT
lv_start
U=$LV_URI

ours() { # OVA NAME [options]: deploy+start, to the first console byte
	ova=$1; name=$2; shift 2
	t0=$(now)
	"$O" -q "$ova" --connect "$U" --accept-eula --name "$name" "$@" >/dev/null 2>"$T_TMP/err" || { cat "$T_TMP/err" >&2; echo 0; return; }
	wait_byte "$LV_POOL_DIR/$name.console.log"
	since "$t0"
	"$O" -q stop --connect "$U" --timeout 0 "$name" >/dev/null 2>&1
}
manual() { # OVA NAME
	ova=$1; name=$2
	d=$T_TMP/manual; rm -rf "$d"; mkdir -p "$d"
	t0=$(now)
	tar -xf "$ova" -C "$d" tiny-disk1.vmdk
	qemu-img convert -O qcow2 "$d/tiny-disk1.vmdk" "$d/disk.qcow2"
	size=$(stat -c %s "$d/disk.qcow2")
	lv_virsh vol-create-as default "$name.qcow2" "$size" --format qcow2 >/dev/null
	lv_virsh vol-upload --pool default "$name.qcow2" "$d/disk.qcow2"
	cat >"$d/dom.xml" <<XML
<domain type='qemu'><name>$name</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/></features>
<devices><disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='default' volume='$name.qcow2'/><target dev='vda' bus='virtio'/></disk>
<serial type='pty'><log file='$LV_POOL_DIR/$name.console.log' append='off'/><target port='0'/></serial></devices></domain>
XML
	lv_virsh define "$d/dom.xml" >/dev/null
	lv_virsh start "$name" >/dev/null
	wait_byte "$LV_POOL_DIR/$name.console.log"
	since "$t0"
	lv_virsh destroy "$name" >/dev/null 2>&1
	lv_virsh undefine "$name" >/dev/null 2>&1
	lv_virsh vol-delete --pool default "$name.qcow2" >/dev/null 2>&1
	lv_virsh pool-refresh default >/dev/null 2>&1
	lv_virsh vol-delete --pool default "$name.console.log" >/dev/null 2>&1
	rm -rf "$d"
}
best() { # N command...: the smallest of N runs
	n=$1; shift
	b=
	k=0
	while [ $k -lt "$n" ]; do
		t=$("$@" "r$k")
		if [ -z "$b" ] || awk "BEGIN{exit !($t < $b)}"; then b=$t; fi
		k=$((k + 1))
	done
	echo "$b"
}
first_v() { # OVA NAME: a first deployment (no base yet) that verifies, then rm
	t=$(ours "$1" "$2" --reverify)
	"$O" -q rm --connect "$U" "$2" >/dev/null 2>&1
	echo "$t"
}
first_c() { # OVA NAME: the same with the verdict remembered
	t=$(ours "$1" "$2")
	"$O" -q rm --connect "$U" "$2" >/dev/null 2>&1
	echo "$t"
}
second() { # OVA NAME: with the base left by a kept instance "keep"
	t=$(ours "$1" "$2")
	"$O" -q rm --connect "$U" "$2" >/dev/null 2>&1
	echo "$t"
}
man_run() { manual "$1" "$2"; }
small_runs=${RUNS:-3}
big_runs=${RUNS:-1}
echo "== measuring (best of $small_runs for the sample, $big_runs for the big appliance)"
s_first=$(best "$small_runs" first_v "$work/tiny.ova")
s_cached=$(best "$small_runs" first_c "$work/tiny.ova")
"$O" -q deploy --connect "$U" --accept-eula --name keep "$work/tiny.ova"
s_second=$(best "$small_runs" second "$work/tiny.ova")
"$O" -q rm --connect "$U" keep
s_man=$(best "$small_runs" man_run "$work/tiny.ova")
b_first=$(best "$big_runs" first_v "$work/big.ova")
b_cached=$(best "$big_runs" first_c "$work/big.ova")
"$O" -q deploy --connect "$U" --accept-eula --name keep "$work/big.ova"
b_second=$(best "$big_runs" second "$work/big.ova")
"$O" -q rm --connect "$U" keep
b_man=$(best "$big_runs" man_run "$work/big.ova")
printf '%-46s %10s %12s\n' "to the first console byte (s)" "64 MiB" "4 GiB/2 GiB"
row() { printf '%-46s %10s %12s\n' "$1" "$2" "$3"; }
row "ovfdeploy --connect, first (verifies)" "$s_first" "$b_first"
row "ovfdeploy --connect, first (verified before)" "$s_cached" "$b_cached"
row "ovfdeploy --connect, base already uploaded" "$s_second" "$b_second"
row "manual: tar, qemu-img convert, vol-upload" "$s_man" "$b_man"
awk -v m="$b_man" -v o="$b_first" -v c="$b_cached" 'BEGIN{printf "big appliance: manual / ours = %.1fx (first, verifying), %.1fx (verified before); goal >= 5x\n", m / o, m / c}'
awk -v s="$s_cached" -v b="$b_second" 'BEGIN{printf "second deployment of the big appliance vs the sample: %+.0f%% (goal within 20%%)\n", (b / s - 1) * 100}'
