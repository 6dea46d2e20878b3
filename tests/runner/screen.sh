#!/bin/sh
# screen.sh - the embedded runner's screen (issue 17): 'run --vnc unix:PATH'
# gives the machine a standard VGA whose BIOS (Debian's vgabios-stdvga.bin)
# SeaBIOS runs, served by our VNC server on a private UNIX socket.  The
# first text line SeaBIOS prints must look, pixel for pixel, as it does on
# QEMU's own VGA (QMP screendump of the same SeaBIOS banner); the run ends
# cleanly (its screen thread confined by seccomp, the socket removed).
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
need_kvm
[ -r /usr/share/seabios/vgabios-stdvga.bin ] || skip "vgabios-stdvga.bin missing (Debian package seabios)"
command -v python3 >/dev/null || skip "python3 not installed"
sock=$T_TMP/vnc.sock
QPID=
RPID=
cleanup() {
	[ -z "$QPID" ] || kill "$QPID" 2>/dev/null
	[ -z "$RPID" ] || kill "$RPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T_TMP"
}
trap cleanup EXIT

truncate -s 1M "$T_TMP/blank.img" # nothing to boot: SeaBIOS says so and waits
"$OVFDEPLOY" run --disk "$T_TMP/blank.img,readonly" --vnc "unix:$sock" --console "file:$T_TMP/console.txt" \
	--timeout 40 2>"$T_TMP/run.err" &
RPID=$!
wait_for 'No bootable device' "$T_TMP/console.txt" 30 "$RPID" || fail "SeaBIOS did not get to 'No bootable device'"
if [ -S "$sock" ] && [ "$(stat -c %a "$sock")" = 600 ]; then ok "the VNC socket is there, mode 0600"; else fail "VNC socket $(ls -l "$sock" 2>&1)"; fi
expect_exit 0 "screenshot through our VNC server" -- "$OVFDEPLOY" screenshot --socket "$sock" -o "$T_TMP/ours.ppm"
"$OVFDEPLOY" screenshot --socket "$sock" -o "$T_TMP/ours.png" >/dev/null || fail "PNG screenshot"
# a second client at the same time, then both gone: the server keeps going
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print(s.recv(12).decode().strip())' "$sock" >"$T_TMP/hello" 2>&1
expect_grep '^RFB 003\.008$' "$T_TMP/hello" "it speaks RFB 3.8"
printf 'RFB 003.008\n\377\377\377garbage' | python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.recv(12); s.sendall(sys.stdin.buffer.read()); s.close()' "$sock"
expect_exit 0 "... and still serves after a client sent garbage" -- "$OVFDEPLOY" screenshot --socket "$sock" -o "$T_TMP/again.ppm"

# QEMU's VGA showing the same SeaBIOS
qemu=
if command -v qemu-system-x86_64 >/dev/null; then
	qemu-system-x86_64 -nodefaults -machine pc,accel=tcg -m 64 -device VGA -display none \
		-qmp "unix:$T_TMP/qmp.sock,server=on,wait=off" -serial "file:$T_TMP/q.txt" -no-reboot &
	QPID=$!
	i=0
	until grep -aq 'No bootable device' "$T_TMP/q.txt" 2>/dev/null || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
	python3 - "$T_TMP/qmp.sock" "$T_TMP/qemu.ppm" <<'PY' && qemu=yes
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(sys.argv[1]); f = s.makefile("rw")
f.readline()
for cmd in ({"execute": "qmp_capabilities"}, {"execute": "screendump", "arguments": {"filename": sys.argv[2]}}):
    f.write(json.dumps(cmd) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r: break
        if "error" in r: sys.exit(1)
PY
	kill "$QPID" 2>/dev/null
	wait "$QPID" 2>/dev/null
	QPID=
fi
python3 - "$T_TMP/ours.ppm" "$T_TMP/ours.png" "${qemu:+$T_TMP/qemu.ppm}" <<'PY' >"$T_TMP/cmp" 2>&1
import struct, sys, zlib
def ppm(p):
    d = open(p, "rb").read(); parts = d.split(b"\n", 3); w, h = map(int, parts[1].split()); return w, h, parts[3]
w, h, px = ppm(sys.argv[1])
print("size %dx%d" % (w, h))
rows = [y for y in range(h) if px[y * w * 3:(y + 1) * w * 3].strip(b"\0")]
print("lit rows %d, first %d" % (len(rows), rows[0] if rows else -1))
d = open(sys.argv[2], "rb").read()
print("png", d[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", d[16:24]) == (w, h))
if len(sys.argv) > 3 and sys.argv[3]:
    qw, qh, q = ppm(sys.argv[3])
    line = lambda p, W: p[:16 * W * 3]
    print("first line equal", (qw, qh) == (w, h) and line(q, qw) == line(px, w))
PY
expect_grep '^size 720x400$' "$T_TMP/cmp" "the screen is 80x25 text mode (720x400)"
expect_grep '^lit rows ([5-9][0-9]|[1-9][0-9][0-9]), first [0-3]$' "$T_TMP/cmp" "it shows text from the first line on"
expect_grep '^png True$' "$T_TMP/cmp" "the PNG has the screen's size"
if [ -n "$qemu" ]; then
	expect_grep '^first line equal True$' "$T_TMP/cmp" "SeaBIOS's banner line is pixel for pixel what QEMU's VGA shows"
else
	echo "# no QEMU screendump to compare with"
fi
wait "$RPID"
rc=$?
RPID=
[ $rc -eq 1 ] && ok "the run ends at its timeout (exit 1), not killed by seccomp" || { fail "run exit status $rc"; sed 's/^/  | /' "$T_TMP/run.err"; }
[ -e "$sock" ] && fail "the VNC socket is left behind" || ok "the VNC socket is removed at the end"

# A VBE graphics mode, set through the VGA BIOS (INT 10h 4F02, mode 0x101)
# by a boot sector that paints through the banked window (vbe_mbr.S): the
# whole frame must equal QEMU's picture of the same boot sector.
if gcc -m32 -c -o "$T_TMP/vbe.o" "$top_srcdir/tests/runner/vbe_mbr.S" &&
	ld -m elf_i386 -T "$top_srcdir/tests/runner/mbr.ld" -o "$T_TMP/vbe.bin" "$T_TMP/vbe.o"; then
	truncate -s 1M "$T_TMP/vbe.img"
	dd if="$T_TMP/vbe.bin" of="$T_TMP/vbe.img" conv=notrunc status=none
	"$OVFDEPLOY" run --disk "$T_TMP/vbe.img,readonly" --vnc "unix:$T_TMP/v.sock" --console "file:$T_TMP/vbe.txt" \
		--timeout 60 2>"$T_TMP/vbe.err" &
	RPID=$!
	if wait_for 'VBE (OK|FAIL)' "$T_TMP/vbe.txt" 40 "$RPID" && grep -q 'VBE OK' "$T_TMP/vbe.txt"; then
		ok "the VGA BIOS set VBE mode 0x101 on our adapter"
		"$OVFDEPLOY" screenshot --socket "$T_TMP/v.sock" -o "$T_TMP/vbe-ours.ppm" >/dev/null || fail "VBE screenshot"
	else
		fail "VBE mode set: $(tr -d '\r' <"$T_TMP/vbe.txt" | tail -1)"
	fi
	kill "$RPID" 2>/dev/null
	wait "$RPID" 2>/dev/null
	RPID=
	if [ -n "$qemu" ]; then
		qemu-system-x86_64 -nodefaults -machine pc,accel=tcg -m 64 -device VGA -display none \
			-drive "file=$T_TMP/vbe.img,format=raw,if=none,id=d0,readonly=on" -device virtio-blk-pci,drive=d0 \
			-qmp "unix:$T_TMP/qmp2.sock,server=on,wait=off" -serial "file:$T_TMP/q2.txt" -no-reboot &
		QPID=$!
		i=0
		until grep -aq 'VBE OK' "$T_TMP/q2.txt" 2>/dev/null || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
		python3 - "$T_TMP/qmp2.sock" "$T_TMP/vbe-qemu.ppm" <<'PY' || fail "QMP screendump of the VBE mode"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(sys.argv[1]); f = s.makefile("rw")
f.readline()
for cmd in ({"execute": "qmp_capabilities"}, {"execute": "screendump", "arguments": {"filename": sys.argv[2]}}):
    f.write(json.dumps(cmd) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r: break
        if "error" in r: sys.exit(1)
PY
		kill "$QPID" 2>/dev/null
		wait "$QPID" 2>/dev/null
		QPID=
		if cmp -s "$T_TMP/vbe-ours.ppm" "$T_TMP/vbe-qemu.ppm" && [ "$(head -c 15 "$T_TMP/vbe-ours.ppm" | sed -n 2p)" = "640 480" ]; then
			ok "the 640x480 256-colour frame equals QEMU's pixel for pixel"
		else
			fail "VBE frame differs from QEMU's: ours $(head -c 15 "$T_TMP/vbe-ours.ppm" | sed -n 2p), QEMU's $(head -c 15 "$T_TMP/vbe-qemu.ppm" 2>/dev/null | sed -n 2p)"
		fi
	fi
fi

# Keys: a guest that prints what it reads from the i8042 (kbd_guest.S).
if start_input_guest kbd 'KBD READY'; then
	# 40 keys at once, more than the i8042's 16-byte queue holds
	expect_exit 0 "sendkeys through our VNC server" -- "$OVFDEPLOY" sendkeys --socket "$T_TMP/kbd.sock" \
		'aB\n0123456789012345678901234567890123456q'
	wait "$RPID"
	rc=$?
	RPID=
	[ $rc -eq 0 ] && ok "the guest read every key up to 'q' and reset (exit 0)" || { fail "keyboard guest: exit $rc"; sed 's/^/  | /' "$T_TMP/kbd.err"; }
	expect_grep '^1E 9E 2A 30 B0 AA 1C 9C ' "$T_TMP/kbd.txt" "a, Shift+b, Return arrive as set-1 make and break codes"
	n=$(tr ' ' '\n' <"$T_TMP/kbd.txt" | grep -c '^[0-9A-F][0-9A-F]$')
	[ "$n" -eq 84 ] && ok "none lost or doubled while the guest was slower than the typist (84 codes)" || fail "$n scan codes, expected 84"
else
	echo "# cannot build the 32-bit keyboard guest (gcc -m32, ld -m elf_i386)"
fi
done_testing
