#!/bin/sh
# screen.sh - the screen of a QEMU instance (issue 17): a standard VGA
# adapter served by VNC on a UNIX socket in the instance directory (and on
# TCP with a generated password when asked), 'display', 'screenshot' through
# our own RFB client, and 'sendkeys'.  The appliance is the sample with
# console=ttyS0 taken off its command line, so that its text is on tty0
# only: our picture must equal QEMU's own screendump of the same screen, and
# keys typed through VNC must be echoed by the guest's tty.
. "${top_srcdir:-.}/tests/cli/lib.sh"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (qemu-system-x86)"
command -v python3 >/dev/null || skip "python3 not installed"
command -v mcopy >/dev/null || skip "mtools not installed"
O=$OVFDEPLOY
BOOT_TIMEOUT=${TINY_BOOT_TIMEOUT:-240}
out=${top_builddir:-$top_srcdir}/samples/out
sh "$top_srcdir/samples/build-tiny.sh" "$out" >"$T_TMP/build.log" 2>&1
rc=$?
[ $rc -eq 3 ] && skip "the sample's kernel package could not be obtained (offline?)"
if [ $rc -ne 0 ]; then
	fail "samples/build-tiny.sh failed (exit $rc)"; sed 's/^/  | /' "$T_TMP/build.log" | tail -20
	done_testing; exit 1
fi
export OVFDEPLOY_HOME="$T_TMP/home" MTOOLS_SKIP_CHECK=1
cleanup() {
	"$O" stop --timeout 1 scr >/dev/null 2>&1
	rm -rf "$T_TMP"
}
trap cleanup EXIT

# The sample without a serial console.
mkdir "$T_TMP/pkg"
cp "$out/tiny-disk.raw" "$T_TMP/disk.raw"
mcopy -i "$T_TMP/disk.raw@@1M" ::/syslinux.cfg "$T_TMP/syslinux.cfg"
sed -i 's/ console=ttyS0[^ ]*//' "$T_TMP/syslinux.cfg"
grep -q 'APPEND console=tty0 ' "$T_TMP/syslinux.cfg" || fail "the sample's command line changed: $(grep APPEND "$T_TMP/syslinux.cfg")"
mcopy -o -i "$T_TMP/disk.raw@@1M" "$T_TMP/syslinux.cfg" ::/syslinux.cfg
"$O" -q convert -O vmdk -o subformat=streamOptimized "$T_TMP/disk.raw" "$T_TMP/pkg/tiny-disk1.vmdk"
cp "$top_srcdir/samples/tiny.ovf" "$T_TMP/pkg/tiny.ovf"
"$O" -q pack "$T_TMP/pkg/tiny.ovf" -o "$T_TMP/noserial.ova" || { fail "pack"; done_testing; exit 1; }

# --- Options --------------------------------------------------------------------
expect_exit 2 "--vnc without a port is a usage error" -- "$O" deploy --accept-eula --vnc 127.0.0.1 "$T_TMP/noserial.ova"
expect_exit 2 "--vnc with a host name is a usage error" -- "$O" deploy --accept-eula --vnc localhost:5901 "$T_TMP/noserial.ova"
expect_exit 2 "--vnc below 5900 is a usage error" -- "$O" deploy --accept-eula --vnc 127.0.0.1:80 "$T_TMP/noserial.ova"
expect_exit 2 "--vnc with --no-screen is a usage error" -- "$O" deploy --accept-eula --no-screen --vnc 127.0.0.1:5901 "$T_TMP/noserial.ova"
expect_exit 0 "deploy --no-screen" -- "$O" deploy --accept-eula --name blind --no-screen "$T_TMP/noserial.ova"
expect_exit 2 "... has no screen to show" -- "$O" display blind
expect_grep "no screen" "$T_TMP/err" "... and says so"

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
hport=$(free_port)
vport=$(free_port)
[ "$vport" -ge 5900 ] || vport=$((vport + 5900))
expect_exit 0 "deploy with --vnc 127.0.0.1:$vport" -- "$O" deploy --accept-eula --name scr --forward "$hport:80" --vnc "127.0.0.1:$vport" "$T_TMP/noserial.ova"
idir=$OVFDEPLOY_HOME/instances/scr
pw=$idir/vnc-password
if [ "$(stat -c %a "$pw")" = 600 ] && [ "$(wc -c <"$pw")" -eq 8 ] && grep -Eq '^[A-Za-z0-9]{8}$' "$pw"; then
	ok "a generated 8-character password, mode 0600, in the instance directory"
else
	fail "VNC password file: mode $(stat -c %a "$pw" 2>/dev/null), $(wc -c <"$pw" 2>/dev/null) bytes"
fi
expect_exit 0 "start" -- "$O" start scr
"$O" display scr >"$T_TMP/display"
expect_grep "UNIX socket $idir/vnc.sock" "$T_TMP/display" "display names the UNIX socket"
expect_grep "VNC on 127.0.0.1:$vport, password in $pw" "$T_TMP/display" "display names the TCP address and the password file"
"$O" --json display scr >"$T_TMP/display.json"
expect_grep "\"vnc_socket\": ?\"$idir/vnc.sock\"" "$T_TMP/display.json" "display --json"

# Ready when it serves HTTP (it prints APPLIANCE READY right after).
i=0
until python3 -c 'import sys, urllib.request; urllib.request.urlopen("http://127.0.0.1:%s/greeting.txt" % sys.argv[1], timeout=3)' "$hport" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -ge "$BOOT_TIMEOUT" ]; then fail "the appliance did not come up in $BOOT_TIMEOUT s"; done_testing; exit 1; fi
	sleep 1
done
ok "the appliance without a serial console is up"
if grep -aq 'APPLIANCE READY' "$idir/console.log"; then fail "the guest printed on the serial port"; else ok "nothing of the guest's on the serial port"; fi

# --- Screenshots ------------------------------------------------------------------
sleep 1
expect_exit 0 "screenshot --stable (waits out the text, ignores the cursor)" -- "$O" screenshot scr --stable 1500 -o "$T_TMP/a.ppm"
expect_exit 0 "screenshot as PNG" -- "$O" screenshot scr -o "$T_TMP/a.png"
# QEMU's own picture of the same screen, through its QMP socket.
qmp() {
	python3 - "$idir/control.sock" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(sys.argv[1]); f = s.makefile("rw")
f.readline()
for cmd in ({"execute": "qmp_capabilities"}, {"execute": "screendump", "arguments": {"filename": sys.argv[2]}}):
    f.write(json.dumps(cmd) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r: break
        if "error" in r: sys.exit(r["error"]["desc"])
PY
}
qmp "$T_TMP/qemu.ppm" || fail "QMP screendump"
"$O" screenshot scr -o "$T_TMP/b.ppm" >/dev/null
# compare A B [MAXW MAXH]: the pixels that differ fit in a MAXWxMAXH box
# (a blinking cursor: 16x16); prints the box.  PNG is decoded here (zlib
# and the five PNG filters), so the PNG writer is checked pixel by pixel.
cat >"$T_TMP/img.py" <<'PY'
import struct, sys, zlib
def load(p):
    d = open(p, "rb").read()
    if d[:2] == b"P6":
        parts = d.split(b"\n", 3)
        w, h = map(int, parts[1].split())
        return w, h, parts[3]
    assert d[:8] == b"\x89PNG\r\n\x1a\n", p + ": not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(d):
        n, t = struct.unpack(">I4s", d[pos:pos + 8]); c = d[pos + 8:pos + 8 + n]
        assert zlib.crc32(t + c) == struct.unpack(">I", d[pos + 8 + n:pos + 12 + n])[0], "PNG CRC"
        if t == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", c[:10]); assert (depth, ctype) == (8, 2)
        elif t == b"IDAT":
            idat += c
        pos += 12 + n
    raw, out, prev, stride = zlib.decompress(idat), bytearray(), bytearray(w * 3), w * 3
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0; b = prev[i]; c = prev[i - 3] if i >= 3 else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line; prev = line
    return w, h, bytes(out)
cmd = sys.argv[1]
if cmd == "lit":   # rows of text: pixel rows that are not all black
    w, h, px = load(sys.argv[2])
    print(sum(1 for y in range(h) if px[y * w * 3:(y + 1) * w * 3].strip(b"\0")))
    sys.exit(0)
(wa, ha, a), (wb, hb, b) = load(sys.argv[2]), load(sys.argv[3])
if (wa, ha) != (wb, hb): print("sizes %dx%d %dx%d" % (wa, ha, wb, hb)); sys.exit(1)
xs, ys = [], []
for y in range(ha):
    ra, rb = a[y * wa * 3:(y + 1) * wa * 3], b[y * wa * 3:(y + 1) * wa * 3]
    if ra != rb:
        for x in range(wa):
            if ra[x * 3:x * 3 + 3] != rb[x * 3:x * 3 + 3]: xs.append(x); ys.append(y)
if not xs: print("same"); sys.exit(0)
box = (min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1)
print("box x=%d y=%d w=%d h=%d" % box)
sys.exit(0 if box[2] <= int(sys.argv[4]) and box[3] <= int(sys.argv[5]) else 1)
PY
img() { python3 "$T_TMP/img.py" "$@"; }
if r=$(img diff "$T_TMP/qemu.ppm" "$T_TMP/b.ppm" 16 16); then
	ok "our screenshot equals QEMU's screendump of the same screen ($r; 720x400 text mode: $(head -c 20 "$T_TMP/b.ppm" | sed -n 2p))"
else
	fail "screenshot vs QEMU screendump: $r"
fi
if r=$(img diff "$T_TMP/a.png" "$T_TMP/a.ppm" 16 16); then ok "the PNG decodes to the same picture ($r)"; else fail "PNG vs PPM: $r"; fi
rows=$(img lit "$T_TMP/b.ppm")
if [ "$rows" -ge 100 ]; then ok "the screen shows text ($rows lit pixel rows: firmware, boot and appliance lines)"; else fail "screen nearly blank ($rows lit rows)"; fi

# --- Keys ------------------------------------------------------------------------
expect_exit 0 "sendkeys types through VNC" -- "$O" sendkeys scr 'Hello VNC!'
sleep 2
"$O" screenshot scr --stable 1000 -o "$T_TMP/c.ppm" >/dev/null
r=$(img diff "$T_TMP/b.ppm" "$T_TMP/c.ppm" 0 0)
w=$(echo "$r" | sed -n 's/.* w=\([0-9]*\) h=\([0-9]*\)/\1/p'); h=$(echo "$r" | sed -n 's/.* h=\([0-9]*\)/\1/p')
# 10 characters of 9 pixels echoed on one 16-pixel text row
if [ -n "$w" ] && [ "$w" -ge 80 ] && [ "$w" -le 110 ] && [ "$h" -le 16 ]; then
	ok "the guest's tty echoes them: one text row changed, 10 characters wide ($r)"
else
	fail "echo of the typed keys: $r"
fi
"$O" sendkeys scr '\b\b\b\b\b\b\b\b\b\b' >/dev/null
sleep 2
"$O" screenshot scr --stable 1000 -o "$T_TMP/d.ppm" >/dev/null
if r=$(img diff "$T_TMP/b.ppm" "$T_TMP/d.ppm" 16 16); then ok "ten BackSpaces erase them again ($r)"; else fail "after BackSpace: $r"; fi
expect_exit 2 "sendkeys refuses what a US keyboard cannot type" -- "$O" sendkeys scr "$(printf 'caf\303\251')"

# --- VNC on TCP --------------------------------------------------------------------
types=$(python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10); s.recv(12); s.sendall(b"RFB 003.008\n")
n = s.recv(1)[0]; print(list(s.recv(n)))' "$vport")
if [ "$types" = "[2]" ]; then ok "VNC on TCP asks for the password (security types $types)"; else fail "TCP security types $types"; fi
expect_exit 0 "screenshot --tcp authenticates with the instance's password" -- "$O" screenshot scr --tcp -o "$T_TMP/t.ppm"
if r=$(img diff "$T_TMP/d.ppm" "$T_TMP/t.ppm" 16 16); then ok "... and sees the same screen"; else fail "TCP picture: $r"; fi
cp "$pw" "$T_TMP/pw.saved"
printf 'wrongpw1' >"$pw"
expect_exit 3 "a wrong password is refused" -- "$O" screenshot scr --tcp -o "$T_TMP/x.ppm"
expect_grep "authentication failed" "$T_TMP/err" "... as an authentication failure"
cp "$T_TMP/pw.saved" "$pw"
expect_exit 0 "stop" -- "$O" stop scr
done_testing
