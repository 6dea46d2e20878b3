#!/bin/sh
# screen.sh - what the screen costs: CPU of the VMM process while SeaBIOS
# sits at "No bootable device" (an idle text screen), with nobody watching
# and with a VNC viewer connected that asks for updates continuously (as
# viewers do), for the embedded runner (run --vnc unix:PATH) and for QEMU
# (-device VGA -vnc unix:PATH, KVM when usable, else TCG), in the same run.
# Also the cost of one full screenshot through our RFB client.
#
# The machine's own idle cost is measured without a screen first: the
# screen's cost is the difference.
#
# Usage: bench/screen.sh [SECONDS]     (default 10; not a test)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
O=$top/ovfdeploy
[ -x "$O" ] || { echo "build ovfdeploy first" >&2; exit 1; }
secs=${1:-10}
tmp=$(mktemp -d)
truncate -s 1M "$tmp/blank.img" # nothing to boot: SeaBIOS says so and waits
pids=
trap 'for p in $pids; do kill $p 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
hz=$(getconf CLK_TCK)
cpu() { awk -v hz="$hz" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }

# viewer SOCKET SECONDS: an RFB client that keeps asking for incremental updates
viewer() {
	python3 - "$1" "$2" <<'PY'
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.recv(12); s.sendall(b"RFB 003.008\n")
n = s.recv(1)[0]; s.recv(n); s.sendall(b"\x01"); s.recv(4); s.sendall(b"\x01")
hdr = s.recv(24); w, h = struct.unpack(">HH", hdr[:4]); s.recv(struct.unpack(">I", hdr[20:24])[0])
end = time.time() + float(sys.argv[2]); s.settimeout(0.05)
while time.time() < end:
    s.sendall(struct.pack(">BBHHHH", 3, 1, 0, 0, w, h))
    try:
        while s.recv(65536): pass
    except socket.timeout:
        pass
PY
}

measure() { # NAME PID SOCKET
	sleep 1
	a=$(cpu "$2"); sleep "$secs"; b=$(cpu "$2")
	idle=$(echo "$a $b $secs" | awk '{printf "%.2f", 100 * ($2 - $1) / $3}')
	a=$(cpu "$2"); viewer "$3" "$secs"; b=$(cpu "$2")
	watched=$(echo "$a $b $secs" | awk '{printf "%.2f", 100 * ($2 - $1) / $3}')
	t0=$(date +%s%N); "$O" -q screenshot --socket "$3" -o "$tmp/s.png"; t1=$(date +%s%N)
	shot=$(( (t1 - t0) / 1000000 ))
	echo "$1: idle screen ${idle}% of a core unwatched, ${watched}% with a viewer polling; screenshot ${shot} ms"
	eval "${1}_idle=$idle ${1}_watched=$watched"
}

# the same idle machine without a screen: what the screen adds is the difference
"$O" run --disk "$tmp/blank.img,readonly" --console "file:$tmp/base.txt" --timeout $((secs + 30)) >/dev/null 2>&1 &
p=$!; pids="$pids $p"
i=0; until grep -q 'No bootable' "$tmp/base.txt" 2>/dev/null || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1; a=$(cpu "$p"); sleep "$secs"; b=$(cpu "$p")
echo "ours without a screen: $(echo "$a $b $secs" | awk '{printf "%.2f", 100 * ($2 - $1) / $3}')% of a core (the idle machine itself)"
kill "$p" 2>/dev/null || true

"$O" run --disk "$tmp/blank.img,readonly" --vnc "unix:$tmp/ours.sock" --console "file:$tmp/ours.txt" --timeout $((secs * 3 + 30)) >/dev/null 2>&1 &
p=$!; pids="$pids $p"
i=0; until grep -q 'No bootable' "$tmp/ours.txt" 2>/dev/null || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
measure ours "$p" "$tmp/ours.sock"
kill "$p" 2>/dev/null || true

accel=tcg
( exec 3<>/dev/kvm ) 2>/dev/null && grep -Eq 'vmx|svm' /proc/cpuinfo && accel=kvm
qemu-system-x86_64 -nodefaults -machine "pc,accel=$accel" -m 512 -device VGA -vnc "unix:$tmp/q.sock" \
	-serial "file:$tmp/q.txt" -display none -no-reboot >/dev/null 2>&1 &
p=$!; pids="$pids $p"
i=0; until grep -q 'No bootable' "$tmp/q.txt" 2>/dev/null || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
measure qemu "$p" "$tmp/q.sock"
kill "$p" 2>/dev/null || true
echo "QEMU ran with $accel.  Ratios ours/QEMU: unwatched $(echo "$ours_idle $qemu_idle" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "n/a" }'), watched $(echo "$ours_watched $qemu_watched" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "n/a" }')"
