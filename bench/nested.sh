#!/bin/sh
# nested.sh - the embedded runner against QEMU with KVM where both get real
# hardware-assisted KVM: inside the nested test bed (tests/nested/README.md),
# `ovfdeploy tiny.ova --prop appliance.oneshot=true` with --backend embedded
# and --backend qemu, alternating, ROUNDS rounds (default 3), best of each:
# command -> first console byte, -> APPLIANCE READY, -> exit (power-off),
# and the peak RSS (VmHWM) of the VMM process (the largest in the deploy's
# process tree).  Both guests are the same appliance with the same 256 MiB.
# Usage: bench/nested.sh [BUILDDIR]  (also run by bench/runner.sh).  Minutes.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
OVFDEPLOY=$build/ovfdeploy sh "$src/samples/pack-tiny.sh" "$build/samples/out" >"$tmp/pack.log" 2>&1 ||
	{ echo "nested: cannot build the sample (samples/pack-tiny.sh):"; tail -3 "$tmp/pack.log"; exit 1; }
: "${TINY_CACHE:=$build/samples/out/cache}"
export TINY_CACHE
cat >"$tmp/bench.py" <<'PY'
import os, subprocess, sys, time
ova, ovfdeploy, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
env = dict(os.environ, OVFDEPLOY_HOME='/tmp/bench-home')

def tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir('/proc/%d/task' % p):
                with open('/proc/%d/task/%s/children' % (p, t)) as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out

def hwm(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for l in f:
                if l.startswith('VmHWM:'):
                    return int(l.split()[1])
    except OSError:
        pass
    return 0

def one(backend, n):
    name = 'b%s%d' % (backend[0], n)
    t0 = time.monotonic()
    p = subprocess.Popen([ovfdeploy, ova, '--accept-eula', '--backend', backend, '--name', name,
                          '--prop', 'appliance.oneshot=true'], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    os.set_blocking(p.stdout.fileno(), False)
    first = ready = None
    buf = b''
    peak = {}
    while True:
        try:
            chunk = p.stdout.read()
        except BlockingIOError:
            chunk = None
        now = time.monotonic() - t0
        if chunk:
            if first is None:
                first = now
            buf += chunk
            if ready is None and b'APPLIANCE READY' in buf:
                ready = now
        for q in tree(p.pid):
            v = hwm(q)
            if v:
                peak[q] = max(peak.get(q, 0), v)
        if p.poll() is not None and not chunk:
            break
        time.sleep(0.01)
    end = time.monotonic() - t0
    subprocess.run([ovfdeploy, 'rm', name], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p.returncode, first, ready, end, max(peak.values()) if peak else 0

res = {'embedded': [], 'qemu': []}
for n in range(rounds):
    for b in ('embedded', 'qemu'):
        r = one(b, n)
        print('# round %d %-8s exit %d  first byte %.2f s  READY %s s  exit %.2f s  peak RSS %.1f MiB' % (
            n + 1, b, r[0], r[1] or -1, '%.2f' % r[2] if r[2] else 'never', r[3], r[4] / 1024), flush=True)
        if r[0] == 0 and r[2]:
            res[b].append(r)
if not res['embedded'] or not res['qemu']:
    print('nested: a backend never reached APPLIANCE READY')
    sys.exit(1)
best = {b: [min(x[i] for x in res[b]) for i in (1, 2, 3, 4)] for b in res}
e, q = best['embedded'], best['qemu']
print('%-28s %10s %10s %7s' % ('nested (best of %d)' % rounds, 'embedded', 'qemu-kvm', 'ratio'))
for i, what in enumerate(('to first console byte (s)', 'to APPLIANCE READY (s)', 'to exit (s)')):
    print('%-28s %10.2f %10.2f %7.2f' % (what, e[i], q[i], e[i] / q[i]))
print('%-28s %10.1f %10.1f %+7.1f MiB' % ('VMM peak RSS (MiB)', e[3] / 1024, q[3] / 1024, (e[3] - q[3]) / 1024))
print('goals: READY ratio <= 0.70: %s; RSS difference <= 8 MiB: %s' % (
    'met' if e[1] / q[1] <= 0.7 else 'NOT met', 'met' if (e[3] - q[3]) / 1024 <= 8 else 'NOT met'))
PY
echo "== nested: embedded vs QEMU with KVM on real (nested SVM) KVM"
"$src/tests/nested/run-in-guest" --timeout 1500 --rw "$tmp" -- \
	python3 "$tmp/bench.py" "$build/samples/out/tiny.ova" "$build/ovfdeploy" "${ROUNDS:-3}"
rc=$?
[ $rc -eq 77 ] && echo "nested: skipped (no KVM can be had here)"
exit $rc
