#!/bin/sh
# snapshot.sh - how fast `ovfdeploy snapshot` and `ovfdeploy revert` are,
# against QEMU's own snapshots in the same run, on the same images.
#
#  - stopped: an instance over a 1 GiB qcow2 base with 100 MiB written to
#    its overlay.  Ours: snapshot (the overlay frozen, a fresh one over it)
#    and revert (fresh overlays over the frozen ones), the CLI's wall time.
#    QEMU's: `qemu-img snapshot -c` and `-a` (internal snapshots) on a copy
#    of that overlay.
#  - running, on QEMU (TCG here), guests of 256 MiB and 2 GiB (the counting
#    guest, tests/runner/count_guest.S, as firmware: it touches little of
#    its RAM, so these are the figures of a mostly empty machine).  Ours:
#    `ovfdeploy snapshot` (stop, migration to a file, the overlays copied,
#    cont) and `ovfdeploy revert` (QEMU restarted with -incoming), each the
#    CLI's wall time, and for revert also until the guest's next console
#    byte.  QEMU's: savevm and loadvm (HMP over QMP) on the same machine,
#    until their reply and, for loadvm, the next console byte.
#    Snapshot sizes on disk: ours from `ovfdeploy snapshots --json`, QEMU's
#    the overlay's growth.
# Medians of ROUNDS each; the last column of a pair is QEMU/ours (above 1:
# ours is faster).
#
# Usage: bench/snapshot.sh [ROUNDS]     (not a test; a few minutes)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
O=$top/ovfdeploy
[ -x "$O" ] || { echo "build ovfdeploy first" >&2; exit 1; }
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null && command -v qemu-system-x86_64 >/dev/null ||
	{ echo "needs qemu-img, qemu-io and qemu-system-x86_64" >&2; exit 1; }
rounds=${1:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/od-bench-snap.XXXXXX")
export OVFDEPLOY_HOME=$work/home
cleanup() {
	for n in r256 r2048; do "$O" stop --timeout 1 "$n" >/dev/null 2>&1 || true; done
	rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

us() { echo $(($(date +%s%N) / 1000)); }
med() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }
row() { printf '%-34s %12s %12s %8s\n' "$1" "$2" "$3" "$(ratio "$3" "$2")"; }

gcc -m32 -c -o count.o "$top/tests/runner/count_guest.S"
ld -m elf_i386 -T "$top/tests/runner/guest.ld" -o count.bin count.o
# a qcow2 base (QEMU's vmdk driver blocks migration), under the .vmdk name
# the descriptor gives it (formats are probed)
mkdir app
truncate -s 1G d.raw
qemu-img convert -O qcow2 d.raw app/tiny-disk1.vmdk
truncate -s %512 app/tiny-disk1.vmdk # the package keeps it whole sectors
cp "$top/samples/tiny.ovf" app/
"$O" -q pack app/tiny.ovf -o tiny.ova

printf '%-34s %12s %12s %8s\n' "median of $rounds, microseconds" ours qemu qemu/ours

# ---- stopped ----------------------------------------------------------------
"$O" -q deploy tiny.ova --accept-eula --name st >/dev/null
d=$OVFDEPLOY_HOME/instances/st/disk0.qcow2
qemu-io -f qcow2 -c "write -P 0x5a 0 100M" "$d" >/dev/null
cp "$d" q.qcow2
snap= rev= qsnap= qrev=
for r in $(seq "$rounds"); do
	t0=$(us); "$O" -q snapshot st "s$r"; t1=$(us)
	qemu-io -f qcow2 -c "write -P 0x11 200M 1M" "$d" >/dev/null
	t2=$(us); "$O" -q revert st "s$r"; t3=$(us)
	snap="$snap $((t1 - t0))"; rev="$rev $((t3 - t2))"
	t0=$(us); qemu-img snapshot -c "s$r" q.qcow2; t1=$(us)
	qemu-io -f qcow2 -c "write -P 0x11 200M 1M" q.qcow2 >/dev/null
	t2=$(us); qemu-img snapshot -a "s$r" q.qcow2; t3=$(us)
	qsnap="$qsnap $((t1 - t0))"; qrev="$qrev $((t3 - t2))"
done
row "stopped: snapshot" "$(echo "$snap" | med)" "$(echo "$qsnap" | med)"
row "stopped: revert" "$(echo "$rev" | med)" "$(echo "$qrev" | med)"

# ---- running, on QEMU -------------------------------------------------------
# qmp SOCKET LOG CMD...: each HMP command over QMP; prints per command the
# microseconds to its reply and, with "+run", to the next console byte
qmp() {
	python3 - "$@" <<'PY'
import json, os, socket, sys, time
path, log, cmds = sys.argv[1], sys.argv[2], sys.argv[3:]
s = socket.socket(socket.AF_UNIX); s.connect(path)
f = s.makefile('rwb', buffering=0)
def reply():
    while True:
        l = json.loads(f.readline())
        if "return" in l or "error" in l:
            return l
f.readline()
f.write(b'{"execute": "qmp_capabilities"}\n'); reply()
for c in cmds:
    run = c.endswith("+run")
    c = c[:-4] if run else c
    size = os.path.getsize(log)
    t0 = time.perf_counter()
    f.write(json.dumps({"execute": "human-monitor-command", "arguments": {"command-line": c}}).encode() + b"\n")
    r = reply()
    t1 = time.perf_counter()
    if "error" in r or r.get("return"):
        sys.exit("%s: %s" % (c, r))
    while run and os.path.getsize(log) == size and time.perf_counter() - t0 < 30:
        time.sleep(0.0005)
    print("%d %d" % ((t1 - t0) * 1e6, (time.perf_counter() - t0) * 1e6))
PY
}
# wait_growth LOG SIZE: until LOG grows past SIZE (some seconds at most)
wait_growth() {
	i=0
	while [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -le "$2" ] && [ $i -lt 20000 ]; do i=$((i + 1)); done
}

for mem in 256 2048; do
	n=r$mem
	"$O" -q deploy tiny.ova --accept-eula --name "$n" >/dev/null
	dir=$OVFDEPLOY_HOME/instances/$n
	sed -i "s/^backend=.*/backend=qemu/; s/^memory=.*/memory=$((mem << 20))/" "$dir/instance.conf"
	echo "firmware=$work/count.bin" >>"$dir/instance.conf"
	qemu-io -f qcow2 -c "write -P 0x5a 0 100M" "$dir/disk0.qcow2" >/dev/null
	"$O" -q start "$n"
	i=0
	while [ $i -lt 100 ] && ! grep -q 'C=00000005' "$dir/console.log" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	snap= rev= run= qsnap= qrev= qrun=
	for r in $(seq "$rounds"); do
		t0=$(us); "$O" -q snapshot "$n" "s$r"; t1=$(us)
		sleep 0.2
		log=$dir/console.log
		t2=$(us); "$O" -q revert "$n" "s$r"; t3=$(us)
		# the revert starts a fresh console log: its first byte is the guest's
		wait_growth "$log" 0; t4=$(us)
		snap="$snap $((t1 - t0))"; rev="$rev $((t3 - t2))"; run="$run $((t4 - t2))"
	done
	size=$("$O" --json snapshots "$n" | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshots"][0]["bytes"])')
	before=$(stat -c %b "$dir/disk0.qcow2")
	for r in $(seq "$rounds"); do
		set -- $(qmp "$dir/control.sock" "$dir/console.log" "savevm q$r")
		qsnap="$qsnap $1"
		sleep 0.2
		set -- $(qmp "$dir/control.sock" "$dir/console.log" "loadvm q$r+run")
		qrev="$qrev $1"; qrun="$qrun $2"
	done
	qsize=$((($(stat -c %b "$dir/disk0.qcow2") - before) * 512 / rounds))
	"$O" stop --timeout 1 "$n" >/dev/null 2>&1 || true
	row "running ${mem} MiB: snapshot" "$(echo "$snap" | med)" "$(echo "$qsnap" | med)"
	row "running ${mem} MiB: revert (command)" "$(echo "$rev" | med)" "$(echo "$qrev" | med)"
	row "running ${mem} MiB: revert to running" "$(echo "$run" | med)" "$(echo "$qrun" | med)"
	printf '%-34s %12s %12s\n' "running ${mem} MiB: size, bytes" "$size" "$qsize"
done
