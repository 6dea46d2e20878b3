#!/bin/sh
# guests.sh - tiny freestanding guests (tests/runner/guest.S) started with
# --firmware, each checking one device from inside a real KVM guest.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
need_kvm

run_guest() { # NAME: build and run, console in $T_TMP/NAME.out
	build_guest "$1"
	"$OVFDEPLOY" run --memory 16M --firmware "$T_TMP/$1.bin" --console "file:$T_TMP/$1.out" --timeout 20 \
		2>"$T_TMP/$1.err"
}

for g in SERIAL PCI FWCFG; do
	run_guest $g
	rc=$?
	if [ $rc -eq 0 ] && grep -q PASS "$T_TMP/$g.out"; then ok "guest $g: PASS, then reset through 0xCF9 ends the run"
	else fail "guest $g (exit $rc)"; cat "$T_TMP/$g.out" "$T_TMP/$g.err" | sed 's/^/  | /'; fi
done

# the guest starts its second vCPU with INIT and STARTUP IPIs; with one
# vCPU nobody answers (the control)
if gcc -m32 -c -o "$T_TMP/smp.o" "$top_srcdir/tests/runner/smp_guest.S" &&
	ld -m elf_i386 -T "$top_srcdir/tests/runner/guest.ld" -o "$T_TMP/smp.bin" "$T_TMP/smp.o"; then
	for cpus in 2 1; do
		"$OVFDEPLOY" run --cpus $cpus --memory 16M --firmware "$T_TMP/smp.bin" --console "file:$T_TMP/smp$cpus.out" \
			--timeout 30 2>"$T_TMP/smp.err"
		echo "rc=$?" >>"$T_TMP/smp$cpus.out"
	done
	grep -q 'SMP PASS' "$T_TMP/smp2.out" && grep -q 'rc=0' "$T_TMP/smp2.out" && grep -q 'SMP FAIL' "$T_TMP/smp1.out" &&
		ok "INIT/SIPI from the guest starts the second vCPU (and finds none with --cpus 1)" ||
		{ fail "second vCPU"; cat "$T_TMP/smp2.out" "$T_TMP/smp1.out" "$T_TMP/smp.err"; }
else
	echo "# cannot build smp_guest.S: SMP start-up not tested"
fi

# the i8042 reset command ends the run with status 0
run_guest I8042_RESET
rc=$?
if [ $rc -eq 0 ] && grep -q RESETTING "$T_TMP/I8042_RESET.out"; then ok "i8042 reset (0xFE) ends the run"
else fail "i8042 reset (exit $rc)"; fi

# run -v says how a reset came about: the guest's own request (0xCF9, the
# i8042), or a triple fault, with where the vCPU was
"$OVFDEPLOY" run -v --memory 16M --firmware "$T_TMP/SERIAL.bin" --console "file:$T_TMP/s2.out" --timeout 20 2>"$T_TMP/s2.err"
expect_grep "the machine ended: reset \(reset control register \(port 0xcf9\)\)" "$T_TMP/s2.err" \
	"run -v: a reset through 0xCF9 says so"
"$OVFDEPLOY" run -v --memory 16M --firmware "$T_TMP/I8042_RESET.bin" --console "file:$T_TMP/i2.out" --timeout 20 2>"$T_TMP/i2.err"
expect_grep "the machine ended: reset \(i8042 pulsed the reset line\)" "$T_TMP/i2.err" "run -v: ... through the i8042"
if gcc -m32 -c -o "$T_TMP/triple.o" "$top_srcdir/tests/runner/triple_guest.S" &&
	ld -m elf_i386 -T "$top_srcdir/tests/runner/guest.ld" -o "$T_TMP/triple.bin" "$T_TMP/triple.o"; then
	"$OVFDEPLOY" run -v --memory 16M --firmware "$T_TMP/triple.bin" --console "file:$T_TMP/t.out" --timeout 20 \
		2>"$T_TMP/t.err"
	rc=$?
	if grep -q "KVM internal error" "$T_TMP/t.err" && [ -e /sys/module/kvm_pvm ]; then
		# PVM's instruction emulator gives up on the double fault
		# instead of shutting down: tests/nested/boots.sh checks it
		echo "# PVM: a triple fault is an emulation failure here (checked on real KVM in tests/nested/boots.sh)"
	elif [ $rc -eq 0 ] && grep -q TRIPLE "$T_TMP/t.out"; then
		ok "a triple fault ends the run as a reset (exit 0)"
		expect_grep "the machine ended: reset \(triple fault on vCPU 0( at 0008:[0-9a-f]+ \(cr0 [0-9a-f]+\))?\)$" "$T_TMP/t.err" \
			"run -v: ... saying so (and where the vCPU was, where KVM keeps it: not on AMD)"
	else
		fail "triple fault (exit $rc)"; cat "$T_TMP/t.out" "$T_TMP/t.err" | sed 's/^/  | /'
	fi
else
	fail "cannot build triple_guest.S"
fi

# --reboot: the SERIAL guest resets after PASS, so it boots again and again
"$OVFDEPLOY" run --reboot --memory 16M --firmware "$T_TMP/SERIAL.bin" --console "file:$T_TMP/rb.out" --timeout 2 \
	2>"$T_TMP/rb.err"
rc=$?
n=$(grep -c PASS "$T_TMP/rb.out")
[ $rc -eq 1 ] && [ "$n" -ge 2 ] && ok "--reboot: a reset boots again ($n boots in 2 s)" ||
	fail "--reboot (exit $rc, $n boots)"

# a halted guest runs until the timeout, which is exit status 1
build_guest HALT
start=$(date +%s)
"$OVFDEPLOY" run --memory 16M --firmware "$T_TMP/HALT.bin" --console "file:$T_TMP/HALT.out" --timeout 1 2>"$T_TMP/HALT.err"
rc=$?
took=$(($(date +%s) - start))
if [ $rc -eq 1 ] && grep -q HALTING "$T_TMP/HALT.out" && grep -q "timed out" "$T_TMP/HALT.err" && [ $took -lt 10 ]
then ok "--timeout stops a halted guest (exit 1)"; else fail "timeout (exit $rc after ${took}s)"; fi

# SIGTERM presses the ACPI power button; a guest that powers off ends the run with 0
build_guest POWERBTN
"$OVFDEPLOY" run --memory 16M --firmware "$T_TMP/POWERBTN.bin" --console "file:$T_TMP/pb.out" --timeout 30 \
	2>"$T_TMP/pb.err" &
pid=$!
wait_for READY "$T_TMP/pb.out" 20 $pid
kill -TERM $pid
wait $pid
rc=$?
if [ $rc -eq 0 ] && grep -q BUTTON "$T_TMP/pb.out" && ! grep -q FAIL "$T_TMP/pb.out"
then ok "SIGTERM: ACPI power button, then power-off (exit 0)"; else fail "power button (exit $rc)"; cat "$T_TMP/pb.out"; fi

# a guest that ignores the button is stopped after --shutdown-timeout
"$OVFDEPLOY" run --memory 16M --firmware "$T_TMP/HALT.bin" --console "file:$T_TMP/h2.out" --timeout 30 \
	--shutdown-timeout 1 2>"$T_TMP/h2.err" &
pid=$!
wait_for HALTING "$T_TMP/h2.out" 20 $pid
start=$(date +%s)
kill -TERM $pid
wait $pid
rc=$?
took=$(($(date +%s) - start))
if [ $rc -eq 1 ] && grep -q "stopped" "$T_TMP/h2.err" && [ $took -lt 10 ]
then ok "SIGTERM: a guest that ignores the button is stopped (exit 1)"; else fail "hard stop (exit $rc, ${took}s)"; fi

# console input: from stdin (a pipe), through the UART's receive side
build_guest ECHO
printf 'abc1q' | "$OVFDEPLOY" run --memory 16M --firmware "$T_TMP/ECHO.bin" --timeout 20 >"$T_TMP/echo.out" 2>"$T_TMP/echo.err"
rc=$?
[ $rc -eq 0 ] && [ "$(cat "$T_TMP/echo.out")" = "ABC1" ] && ok "stdin reaches the guest through COM1" ||
	{ fail "stdin console (exit $rc, output '$(cat "$T_TMP/echo.out")')"; cat "$T_TMP/echo.err"; }

# Ctrl-A Ctrl-A gives the guest one Ctrl-A; Ctrl-A x quits the machine
(printf 'ab\001\001x'; sleep 1; printf '\001x') |
	"$OVFDEPLOY" run -v --memory 16M --firmware "$T_TMP/ECHO.bin" --timeout 20 >"$T_TMP/quit.out" 2>"$T_TMP/quit.err"
rc=$?
[ $rc -eq 0 ] && [ "$(cat "$T_TMP/quit.out")" = "$(printf 'AB\001X')" ] && grep -q 'ended: quit' "$T_TMP/quit.err" &&
	ok "Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A x quits (exit 0)" ||
	{ fail "Ctrl-A x (exit $rc, output '$(od -c "$T_TMP/quit.out" | head -2)')"; cat "$T_TMP/quit.err"; }

# --console unix:PATH: a client gets output and sends input
if command -v python3 >/dev/null; then
	sock=$T_TMP/console.sock
	"$OVFDEPLOY" run --memory 16M --firmware "$T_TMP/ECHO.bin" --console "unix:$sock" --timeout 20 2>"$T_TMP/sock.err" &
	pid=$!
	got=$(python3 - "$sock" <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); break
    except OSError:
        time.sleep(0.1)
s.settimeout(15)
s.sendall(b"hi")
data = b""
while len(data) < 2:
    chunk = s.recv(16)
    if not chunk: break
    data += chunk
s.sendall(b"q")
print(data.decode())
PY
)
	wait $pid
	rc=$?
	[ $rc -eq 0 ] && [ "$got" = "HI" ] && [ ! -e "$sock" ] && ok "unix socket console: output, input, socket removed" ||
		{ fail "unix console (exit $rc, got '$got')"; cat "$T_TMP/sock.err"; }
else
	echo "# python3 missing: unix socket console not tested"
fi

# --net user with a host port forward: the runner listens on the host port
# (DHCP through slirp is checked by test_net without KVM)
if command -v python3 >/dev/null; then
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$OVFDEPLOY" run --memory 16M --firmware "$T_TMP/HALT.bin" --console "file:$T_TMP/n.out" --timeout 20 \
		--shutdown-timeout 1 --net "user,hostfwd=tcp:127.0.0.1:$port-:80" 2>"$T_TMP/n.err" &
	pid=$!
	wait_for HALTING "$T_TMP/n.out" 20 $pid
	if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 5).close()" $port
	then ok "--net user,hostfwd: the host port accepts connections"; else fail "hostfwd port $port not listening"; cat "$T_TMP/n.err"; fi
	kill -TERM $pid
	wait $pid
	rc=$?
	# The guest halts and ignores the power button, so the runner stops it
	# after --shutdown-timeout (exit 1); a signal death (a seccomp kill is
	# 128 + SIGSYS) means a thread broke its filter while serving the NIC.
	if [ $rc -lt 128 ]; then ok "--net user,hostfwd: the runner ends normally (exit $rc)"
	else fail "--net user,hostfwd: the runner died (exit $rc)"; cat "$T_TMP/n.err"; fi
fi
expect_exit 2 "--net with a bad hostfwd is a usage error" -- "$OVFDEPLOY" run --net user,hostfwd=tcp:1.2.3:80-:80
expect_exit 2 "--net other than user is a usage error" -- "$OVFDEPLOY" run --net tap

# --user: started as root, the VMM runs the guest as another user
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	"$OVFDEPLOY" run --user nobody --memory 16M --firmware "$T_TMP/HALT.bin" --console "file:$T_TMP/u.out" \
		--timeout 20 --shutdown-timeout 1 2>"$T_TMP/u.err" &
	pid=$!
	wait_for HALTING "$T_TMP/u.out" 20 $pid
	uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/$pid/status 2>/dev/null)
	kill -TERM $pid
	wait $pid
	want=$(id -u nobody)
	[ "$uids" = "$want $want $want $want" ] && ok "--user nobody: the running VMM has no root uid left" ||
		fail "--user: uids '$uids', expected $want"
else
	echo "# not root or no user nobody: --user not tested"
fi
expect_exit 2 "--user with an unknown user is a usage error" -- "$OVFDEPLOY" run --user no-such-user-xyz

# direct Linux boot: a stand-in bzImage (kernel.S) entered in 64-bit mode
if command -v objcopy >/dev/null && gcc -c -o "$T_TMP/k.o" "$top_srcdir/tests/runner/kernel.S" &&
	objcopy -O binary -j .text "$T_TMP/k.o" "$T_TMP/bzImage"; then
	printf 'INITRD-OK\r\n\0' >"$T_TMP/initrd"
	"$OVFDEPLOY" run --memory 64M --kernel "$T_TMP/bzImage" --initrd "$T_TMP/initrd" --append "console=ttyS0 od=1" \
		--console "file:$T_TMP/k.out" --timeout 20 2>"$T_TMP/k.err"
	rc=$?
	[ $rc -eq 0 ] && grep -q 'cmdline: console=ttyS0 od=1' "$T_TMP/k.out" && grep -q INITRD-OK "$T_TMP/k.out" &&
		grep -q 'BOOT PARAMS PASS' "$T_TMP/k.out" &&
		ok "--kernel/--initrd/--append: 64-bit entry with boot_params, then power-off" ||
		{ fail "direct kernel boot (exit $rc)"; cat "$T_TMP/k.out" "$T_TMP/k.err"; }
	expect_exit 1 "a file that is no bzImage is refused" -- "$OVFDEPLOY" run --kernel "$T_TMP/SERIAL.bin" --timeout 5
	# corrupted headers are refused with an error, never a crash or a boot
	for mut in "0x1f1 255" "0x201 255" "0x260 0xffffffff" "0x206 0x0200" "0x236 0"; do
		python3 - "$T_TMP/bzImage" "$T_TMP/bad" $mut <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
off, val = int(sys.argv[3], 0), int(sys.argv[4], 0)
size = 4 if val > 0xffff else (2 if val > 0xff or off in (0x206, 0x236) else 1)
d[off:off + size] = val.to_bytes(size, 'little')
open(sys.argv[2], 'wb').write(d)
PY
		"$OVFDEPLOY" run --memory 16M --kernel "$T_TMP/bad" --console "file:$T_TMP/bad.out" --timeout 5 2>"$T_TMP/bad.err"
		rc=$?
		if [ $rc -ge 1 ] && [ $rc -le 3 ] && ! grep -q PASS "$T_TMP/bad.out"; then ok "bzImage with $mut refused"
		else fail "bzImage with $mut: exit $rc"; cat "$T_TMP/bad.err"; fi
	done
	expect_exit 2 "--kernel with --firmware is a usage error" -- \
		"$OVFDEPLOY" run --kernel "$T_TMP/bzImage" --firmware "$T_TMP/SERIAL.bin"
else
	echo "# cannot build the stand-in kernel: direct boot not tested"
fi

# bad firmware images are refused before the guest starts
printf 'short' >"$T_TMP/short.bin"
expect_exit 1 "firmware not a multiple of 4 KiB is refused" -- "$OVFDEPLOY" run --firmware "$T_TMP/short.bin" --timeout 1
expect_exit 3 "missing firmware is an I/O error" -- "$OVFDEPLOY" run --firmware "$T_TMP/none.bin" --timeout 1
expect_exit 2 "--memory below 16 MiB is a usage error" -- "$OVFDEPLOY" run --memory 1M --firmware "$T_TMP/SERIAL.bin"
expect_exit 2 "--disk with an unknown option is a usage error" -- "$OVFDEPLOY" run --disk "$T_TMP/SERIAL.bin,fast"
expect_exit 2 "--disk readonly with an overlay is a usage error" -- \
	"$OVFDEPLOY" run --disk "$T_TMP/SERIAL.bin,readonly,overlay=$T_TMP/o.qcow2"
expect_exit 2 "--cpus 0 is a usage error" -- "$OVFDEPLOY" run --cpus 0
expect_exit 2 "--console with an unknown kind is a usage error" -- "$OVFDEPLOY" run --console tcp:1
done_testing
