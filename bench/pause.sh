#!/bin/sh
# pause.sh - how fast a running instance pauses and resumes: the embedded
# runner (vCPUs kicked out of KVM_RUN and parked) against QEMU's stop/cont
# over QMP, in the same run, on the same guest (tests/runner/count_guest.S,
# a firmware-sized guest counting on COM1, as each instance's firmware).
#
# Three figures per backend, medians of ROUNDS pause/resume cycles:
#  - stop: from sending QMP "stop" on the control socket to its reply.  Both
#    reply only once every vCPU has stopped, so this is "pause asked ->
#    guest stopped".  The same client (below) talks to both backends.
#  - cont: from "cont" to its reply (the vCPUs are let go).
#  - run:  from "cont" to the guest's next byte on the console log: the
#    guest really running again.  Its TSC ran on while paused, so its delay
#    loop ends at once and it prints straight away.
#  - and the CLI's wall time for 'ovfdeploy pause' and 'ovfdeploy resume'
#    (process start, instance load, QMP connect, state check, command).
#
# Usage: bench/pause.sh [ROUNDS]       (not a test; ~1 minute)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
O=$top/ovfdeploy
[ -x "$O" ] || { echo "build ovfdeploy first" >&2; exit 1; }
rounds=${1:-20}
work=$(mktemp -d "${TMPDIR:-/tmp}/od-bench-pause.XXXXXX")
export OVFDEPLOY_HOME=$work/home
pids=
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

gcc -m32 -c -o count.o "$top/tests/runner/count_guest.S"
ld -m elf_i386 -T "$top/tests/runner/guest.ld" -o count.bin count.o
mkdir app
truncate -s 16M d.raw
"$O" -q convert -O vmdk -o subformat=streamOptimized d.raw app/tiny-disk1.vmdk
cp "$top/samples/tiny.ovf" app/
"$O" -q pack app/tiny.ovf -o tiny.ova

for b in embedded qemu; do
	"$O" -q deploy tiny.ova --accept-eula --name "p-$b" >/dev/null
	conf=$OVFDEPLOY_HOME/instances/p-$b/instance.conf
	sed -i "s/^backend=.*/backend=$b/" "$conf"
	grep -q '^firmware=' "$conf" && sed -i "s|^firmware=.*|firmware=$work/count.bin|" "$conf" ||
		echo "firmware=$work/count.bin" >>"$conf"
done

ms() { date +%s%N; }
# measure SOCKET LOG LABEL CLI_PAUSE CLI_RESUME: the control socket's
# figures (one line of results.txt)
measure() {
	python3 - "$1" "$2" "$rounds" "$3" "$4" "$5" >>results.txt <<'PY'
import os, socket, statistics, sys, time
path, log, rounds, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
cli_p = [int(x) for x in sys.argv[5].split()]
cli_r = [int(x) for x in sys.argv[6].split()]
s = socket.socket(socket.AF_UNIX); s.connect(path)
f = s.makefile('rwb', buffering=0)
def line():
    while True:
        l = f.readline()
        if b'"event"' in l and b'"return"' not in l:
            continue
        return l
line()  # greeting
def cmd(c):
    f.write(b'{"execute": "%s"}\n' % c.encode())
    r = line()
    assert b'"return"' in r, r
cmd("qmp_capabilities")
stop, cont, run = [], [], []
for _ in range(rounds):
    t0 = time.perf_counter(); cmd("stop"); stop.append(time.perf_counter() - t0)
    time.sleep(0.05)
    size = os.path.getsize(log)
    t0 = time.perf_counter(); cmd("cont"); t1 = time.perf_counter()
    cont.append(t1 - t0)
    while os.path.getsize(log) == size and time.perf_counter() - t0 < 5:
        pass
    run.append(time.perf_counter() - t0)
    time.sleep(0.05)
med = lambda v: statistics.median(v) * 1e6
sys.stderr.write("# %s: cont-to-run min %.0f us, max %.0f us\n" % (label, min(run) * 1e6, max(run) * 1e6))
print("%s %.0f %.0f %.0f %.0f %.0f" % (label.replace(' ', '_'), med(stop), med(cont), med(run),
      statistics.median(cli_p), statistics.median(cli_r)))
PY
}

for b in embedded qemu; do
	n=p-$b
	dir=$OVFDEPLOY_HOME/instances/$n
	"$O" -q start "$n"
	pids="$pids $(cat "$dir/pid")"
	i=0
	while [ $i -lt 100 ] && ! grep -q 'C=00000005' "$dir/console.log" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	on=$("$O" list | awk -v n="$n" '$1 == n { print $3 }')
	# the CLI, end to end
	cli_p= cli_r=
	for r in $(seq 5); do
		t0=$(ms); "$O" -q pause "$n"; t1=$(ms); "$O" -q resume "$n"; t2=$(ms)
		cli_p="$cli_p $(((t1 - t0) / 1000))"; cli_r="$cli_r $(((t2 - t1) / 1000))"
		sleep 0.05
	done
	# the control socket, same client for both
	measure "$dir/control.sock" "$dir/console.log" "$b ($on)" "$cli_p" "$cli_r"
	"$O" -q stop --timeout 1 "$n" || true
done

# QEMU with KVM too, started by hand (the QEMU backend picks TCG on a host
# without vmx/svm, like this PVM one), if KVM accepts it: the fairest
# competitor for stop/cont, its vCPUs leaving KVM_RUN as ours do.
qemu-system-x86_64 -accel kvm -bios count.bin -m 16 -nodefaults -no-user-config -display none -no-reboot \
	-serial file:qk.log -qmp unix:$work/qk.sock,server=on,wait=off -pidfile qk.pid -daemonize 2>qk.err &&
	pids="$pids $(cat qk.pid)" && {
	i=0
	while [ $i -lt 100 ] && ! grep -q 'C=00000005' qk.log 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	measure "$work/qk.sock" qk.log "qemu-kvm (by hand)" "0" "0"
	kill "$(cat qk.pid)"
} || echo "# QEMU with -accel kvm did not start: $(head -1 qk.err)"

echo "pause/resume, medians of $rounds cycles (microseconds)"
printf '%-22s %10s %10s %10s %12s %12s\n' backend stop cont cont-to-run "cli pause" "cli resume"
while read -r l s c r p q; do
	printf '%-22s %10s %10s %10s %12s %12s\n' "$l" "$s" "$c" "$r" "$p" "$q"
done <results.txt
awk 'NR == 1 { for (i = 2; i <= 6; i++) a[i] = $i } NR > 1 { printf "%-22s %10.1f %10.1f %10.1f", "ratio " $1 "/ours", $2 / a[2], $3 / a[3], $4 / a[4];
	if ($5 > 0) printf " %12.2f %12.2f", $5 / a[5], $6 / a[6]; printf "\n" }' results.txt
exit 0
