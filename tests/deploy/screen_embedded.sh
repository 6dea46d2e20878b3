#!/bin/sh
# screen_embedded.sh - 'deploy --vnc ADDR:PORT' on the embedded runner
# (issue 17): the instance's screen on TCP with the password generated at
# deploy time, beside the UNIX socket; 'screenshot --tcp' gets the same
# picture as through the socket, and is refused once the password it reads
# is not the runner's.  The appliance has a blank disk: SeaBIOS's text on
# the VGA is the screen.  The address must be loopback unless --vnc-remote.
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/deploy/deploylib.sh"
. "$top_srcdir/tests/runner/lib.sh"
need_kvm
[ -r /usr/share/seabios/vgabios-stdvga.bin ] || skip "vgabios-stdvga.bin missing (Debian package seabios)"
command -v python3 >/dev/null || skip "python3 not installed"
O=$OVFDEPLOY
export OVFDEPLOY_HOME="$T_TMP/home"
cleanup() {
	"$O" stop --timeout 1 emb >/dev/null 2>&1
	rm -rf "$T_TMP"
}
trap cleanup EXIT
cd "$T_TMP" || exit 1
make_tiny_app 1M
port=$(python3 -c 'import socket
for p in range(6200, 6400):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError: pass')

expect_exit 2 "--vnc on a non-loopback address needs --vnc-remote" -- "$O" deploy --accept-eula --backend embedded --vnc "0.0.0.0:$port" tiny.ova
expect_grep "not a loopback address" "$T_TMP/err" "... and says so"
expect_exit 2 "--vnc-remote alone is a usage error" -- "$O" deploy --accept-eula --backend embedded --vnc-remote tiny.ova
expect_exit 0 "deploy --backend embedded --vnc 127.0.0.1:$port" -- "$O" deploy --accept-eula --backend embedded --name emb --vnc "127.0.0.1:$port" tiny.ova
idir=$OVFDEPLOY_HOME/instances/emb
expect_exit 0 "start" -- "$O" start emb
expect_grep '^embedded' "$idir/running-backend" "it runs on the embedded runner"
if grep -q "serves the screen on" "$T_TMP/err"; then fail "start still warns that TCP is not served"; else ok "no warning about the screen on TCP"; fi
i=0
until grep -q 'No bootable device' "$idir/console.log" 2>/dev/null || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
grep -q 'No bootable device' "$idir/console.log" || fail "SeaBIOS did not get to 'No bootable device': $(tail -3 "$idir/console.log")"
expect_exit 0 "screenshot --tcp: over TCP with the instance's password" -- "$O" screenshot --tcp emb -o "$T_TMP/tcp.ppm"
expect_exit 0 "screenshot through the UNIX socket" -- "$O" screenshot emb -o "$T_TMP/unix.ppm"
python3 - "$T_TMP/tcp.ppm" >"$T_TMP/cmp" 2>&1 <<'PY'
import sys
d = open(sys.argv[1], "rb").read(); parts = d.split(b"\n", 3); w, h = map(int, parts[1].split()); px = parts[3]
print("size %dx%d" % (w, h))
print("lit rows %d" % sum(1 for y in range(h) if px[y * w * 3:(y + 1) * w * 3].strip(b"\0")))
PY
expect_grep '^size 720x400$' "$T_TMP/cmp" "the TCP picture is the 80x25 text screen"
expect_grep '^lit rows ([3-9][0-9]|[1-9][0-9][0-9])$' "$T_TMP/cmp" "... with SeaBIOS's text on it"
cmp -s "$T_TMP/tcp.ppm" "$T_TMP/unix.ppm" && ok "the same picture on both ways in" || fail "the TCP and UNIX pictures differ"
# the runner keeps the password it started with: a client reading another
# one is refused
cp "$idir/vnc-password" "$T_TMP/pw.saved"
printf 'XXXXXXXX' >"$idir/vnc-password"
expect_exit 3 "a wrong password is refused" -- "$O" screenshot --tcp emb -o "$T_TMP/bad.ppm"
cp "$T_TMP/pw.saved" "$idir/vnc-password"
sleep 0.3
expect_exit 0 "... and the right one still works" -- "$O" screenshot --tcp emb -o "$T_TMP/tcp2.ppm"
# a second instance on the same port: start says why it cannot
expect_exit 0 "deploy a second instance on the same port" -- "$O" deploy --accept-eula --backend embedded --name emb2 --vnc "127.0.0.1:$port" tiny.ova
expect_exit 3 "... which cannot start while the port is taken" -- "$O" start emb2
expect_grep "did not start: VNC on 127.0.0.1:$port: .*in use" "$T_TMP/err" "... and says why, not only where the log is"
expect_exit 0 "stop" -- "$O" stop --timeout 2 emb
done_testing
