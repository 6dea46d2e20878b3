#!/bin/sh
# vnc_tcp.sh - the embedded runner's screen on TCP and its PS/2 mouse
# (issue 17).  'run --vnc tcp:ADDR:PORT --vnc-password-file FILE' serves the
# screen with VNC authentication beside the password-free UNIX socket:
# a real VNC client (Debian's vncsnapshot) gets the SeaBIOS screen with the
# password and is refused without it; the TCP socket offers nothing but VNC
# authentication; the run ends at its timeout, not killed by the screen
# thread's seccomp filter.  Then a VNC client's pointer moves the PS/2
# mouse: a guest that enables it reads the packets at port 0x60.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
need_kvm
[ -r /usr/share/seabios/vgabios-stdvga.bin ] || skip "vgabios-stdvga.bin missing (Debian package seabios)"
command -v python3 >/dev/null || skip "python3 not installed"
RPID=
cleanup() {
	[ -z "$RPID" ] || kill "$RPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T_TMP"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket
for p in range(5990, 6200):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError: pass'
}
port=$(free_port)
truncate -s 1M "$T_TMP/blank.img"
printf 'Tr7kq2Zx\n' >"$T_TMP/pw"
R="$OVFDEPLOY run --disk $T_TMP/blank.img,readonly"

# --- options -------------------------------------------------------------------
expect_exit 2 "--vnc tcp: on an address other machines reach is refused" -- $R --vnc tcp:0.0.0.0:$port --vnc-password-file "$T_TMP/pw"
expect_grep "not a loopback address.*--vnc-remote" "$T_TMP/err" "... and the message says why and how"
expect_exit 2 "--vnc tcp: without a password file is a usage error" -- $R --vnc tcp:127.0.0.1:$port
expect_exit 2 "--vnc tcp: below port 5900 is a usage error" -- $R --vnc tcp:127.0.0.1:80 --vnc-password-file "$T_TMP/pw"
expect_exit 2 "--vnc-password-file without --vnc tcp: is a usage error" -- $R --vnc-password-file "$T_TMP/pw"
: >"$T_TMP/empty"
expect_exit 2 "an empty password is refused" -- $R --vnc tcp:127.0.0.1:$port --vnc-password-file "$T_TMP/empty"

# --- the screen on TCP ------------------------------------------------------------
$R --vnc "unix:$T_TMP/vnc.sock" --vnc "tcp:127.0.0.1:$port" --vnc-password-file "$T_TMP/pw" \
	--console "file:$T_TMP/console.txt" --timeout 40 2>"$T_TMP/run.err" &
RPID=$!
wait_for 'No bootable device' "$T_TMP/console.txt" 30 "$RPID" || fail "SeaBIOS did not get to 'No bootable device'"
expect_exit 3 "a second runner on the same port fails (exit 3)" -- $R --vnc "tcp:127.0.0.1:$port" --vnc-password-file "$T_TMP/pw" --timeout 5
expect_grep "VNC on 127.0.0.1:$port: .*in use" "$T_TMP/err" "... saying the address is in use"

# what the TCP socket offers: VNC authentication (2) and nothing else
python3 - "$port" >"$T_TMP/sec" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
print(s.recv(12).decode().strip())
s.sendall(b"RFB 003.008\n")
n = s.recv(1)[0]
print("types", list(s.recv(n)))
PY
expect_grep '^types \[2\]$' "$T_TMP/sec" "the TCP socket offers VNC authentication only"

if command -v vncsnapshot >/dev/null && command -v openssl >/dev/null; then
	# vncpasswd's format: the password DES-encrypted with VNC's fixed key
	vncpw() { printf '%s' "$1" | openssl enc -des-ecb -K e84ad660c4721ae0 -nopad -nosalt -provider legacy -provider default; }
	vncpw Tr7kq2Zx >"$T_TMP/vncpasswd"
	vncpw Tr7kq2Zy >"$T_TMP/wrongpasswd"
	d=$((port - 5900))
	expect_exit 0 "vncsnapshot gets the screen over TCP with the password" -- \
		timeout 20 vncsnapshot -passwd "$T_TMP/vncpasswd" "127.0.0.1:$d" "$T_TMP/snap.jpg"
	python3 - "$T_TMP/snap.jpg" >"$T_TMP/jpg" 2>&1 <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
i = 2
while i < len(d) and d[:2] == b"\xff\xd8":
    m, ln = d[i + 1], struct.unpack(">H", d[i + 2:i + 4])[0]
    if m in (0xc0, 0xc1, 0xc2):
        h, w = struct.unpack(">HH", d[i + 5:i + 9]); print("jpeg %dx%d" % (w, h)); break
    i += 2 + ln
PY
	expect_grep '^jpeg 720x400$' "$T_TMP/jpg" "... a 720x400 picture (80x25 text)"
	expect_exit 1 "vncsnapshot with a wrong password is refused" -- \
		timeout 20 vncsnapshot -passwd "$T_TMP/wrongpasswd" "127.0.0.1:$d" "$T_TMP/bad.jpg"
	expect_grep "uthentication failed" "$T_TMP/err" "... by VNC authentication"
	sleep 0.3 # the pause after a failed client
	expect_exit 0 "... and the right password still works after a wrong one" -- \
		timeout 20 vncsnapshot -passwd "$T_TMP/vncpasswd" "127.0.0.1:$d" "$T_TMP/snap2.jpg"
else
	echo "# vncsnapshot or openssl missing: no real VNC client over TCP (Debian package vncsnapshot)"
fi
# the UNIX socket still asks no password
expect_exit 0 "the UNIX socket serves without a password beside TCP" -- "$OVFDEPLOY" screenshot --socket "$T_TMP/vnc.sock" -o "$T_TMP/unix.ppm"
wait "$RPID"
rc=$?
RPID=
[ $rc -eq 1 ] && ok "the run ends at its timeout (exit 1), not killed by seccomp" || { fail "run exit status $rc"; sed 's/^/  | /' "$T_TMP/run.err"; }

# --- TCP alone: a screen without the UNIX socket -----------------------------------
if command -v vncsnapshot >/dev/null && command -v openssl >/dev/null; then
	$R --vnc "tcp:127.0.0.1:$port" --vnc-password-file "$T_TMP/pw" --console "file:$T_TMP/tcponly.txt" --timeout 30 \
		2>"$T_TMP/tcponly.err" &
	RPID=$!
	wait_for 'No bootable device' "$T_TMP/tcponly.txt" 20 "$RPID" || fail "SeaBIOS did not start with a TCP-only screen"
	expect_exit 0 "--vnc tcp: alone gives the machine its screen" -- \
		timeout 20 vncsnapshot -passwd "$T_TMP/vncpasswd" "127.0.0.1:$d" "$T_TMP/tcponly.jpg"
	kill "$RPID" 2>/dev/null
	wait "$RPID" 2>/dev/null
	RPID=
fi

# --- the pointer moves the PS/2 mouse ----------------------------------------------
if start_input_guest mouse 'MOUSE READY'; then
	# an RFB client without a password (the UNIX socket): to (100,100),
	# to (110,95) with the left button down, released there, then one step
	# of the wheel up (button 4 pressed and released)
	python3 - "$T_TMP/mouse.sock" >"$T_TMP/ptr" 2>&1 <<'PY'
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
def rd(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: sys.exit("closed")
        b += c
    return b
rd(12); s.sendall(b"RFB 003.008\n")
types = rd(rd(1)[0]); assert 1 in types, types
s.sendall(b"\x01"); assert rd(4) == b"\0\0\0\0"
s.sendall(b"\x01"); rd(20); rd(struct.unpack(">I", rd(4))[0])
for mask, x, y in ((0, 100, 100), (1, 110, 95), (0, 110, 95), (8, 110, 95), (0, 110, 95)):
    s.sendall(struct.pack(">BBHH", 5, mask, x, y)); time.sleep(0.3)
print("sent")
PY
	expect_grep '^sent$' "$T_TMP/ptr" "pointer events sent over VNC"
	wait_for 'mFF $' "$T_TMP/mouse.txt" 10 "$RPID"
	expect_grep '^(mFA ){7}m09 m0A m05 m00 m08 m00 m00 m00 m08 m00 m00 mFF $' "$T_TMP/mouse.txt" \
		"the guest reads 7 ACKs, then 10 right and 5 up with the left button, the release, a wheel step up, as 4-byte AUX packets"
	kill "$RPID" 2>/dev/null
	wait "$RPID" 2>/dev/null
	RPID=
else
	echo "# cannot build the 32-bit mouse guest (gcc -m32, ld -m elf_i386)"
fi
done_testing
