#!/bin/sh
# deploy-sample.sh - the product's main job, end to end: `ovfdeploy tiny.ova`
# on the real sample appliance (Linux under QEMU, TCG here).  The guest must
# print the property we set and APPLIANCE READY, serve the greeting through
# the forwarded port, keep what it writes across stop and start, see the
# large option's CPUs and memory, and power off with exit 0.
. "${top_srcdir:-.}/tests/cli/lib.sh"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (qemu-system-x86)"
command -v python3 >/dev/null || skip "python3 not installed"
O=$OVFDEPLOY
BOOT_TIMEOUT=${TINY_BOOT_TIMEOUT:-240}
out=${top_builddir:-$top_srcdir}/samples/out
OVFDEPLOY=$O sh "$top_srcdir/samples/pack-tiny.sh" "$out" >"$T_TMP/pack.log" 2>&1
rc=$?
[ $rc -eq 3 ] && skip "the sample's kernel package could not be obtained (offline?)"
if [ $rc -ne 0 ]; then
	fail "samples/pack-tiny.sh failed (exit $rc)"; sed 's/^/  | /' "$T_TMP/pack.log" | tail -20
	done_testing; exit 1
fi
ova=$(cd "$out" && pwd)/tiny.ova
cd "$T_TMP" || exit 1
export OVFDEPLOY_HOME="$T_TMP/home"
cleanup() {
	for n in s2; do "$O" stop --timeout 1 "$n" >/dev/null 2>&1; done
	rm -rf "$T_TMP"
}
trap cleanup EXIT
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_log FILE PATTERN SECONDS: wait until the pattern shows in the file.
wait_log() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -aq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
http_get() {
	python3 -c 'import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode())' "$1"
}

# 1. One command, oneshot: the guest prints our value, READY, and powers off.
greeting="Hello from test $$"
timeout $BOOT_TIMEOUT "$O" "$ova" --accept-eula --backend qemu --name s1 \
	--prop appliance.greeting="$greeting" --prop appliance.oneshot=true </dev/null >s1.out 2>s1.err
rc=$?
[ $rc -eq 0 ] && ok "ovfdeploy tiny.ova runs and ends with exit 0 at power-off" || { fail "exit $rc"; tail -5 s1.err; }
expect_grep "property appliance.greeting=$greeting" s1.out "the guest prints the property we set"
expect_grep "APPLIANCE READY" s1.out "the guest reaches APPLIANCE READY"
expect_grep "cpus=1 " s1.out "the small (default) option gives 1 CPU"
expect_grep "QEMU" s1.err "the backend and why are printed"

# 2. In the background with a forwarded port: HTTP, then stop and start.
port=$(free_port)
expect_exit 0 "deploy a second instance with a forward" -- "$O" -q deploy "$ova" --accept-eula --backend qemu --name s2 \
	--prop appliance.greeting="$greeting (http)" --forward "$port:80"
expect_exit 0 "start it in the background" -- "$O" start s2
log=$OVFDEPLOY_HOME/instances/s2/console.log
if wait_log "$log" "APPLIANCE READY" $BOOT_TIMEOUT; then
	ok "s2 is ready"
	http_get "http://127.0.0.1:$port/" >page.html 2>&1
	expect_grep "$greeting \\(http\\)" page.html "the forwarded port serves the greeting"
	expect_grep "boot count 1" "$log" "first boot counted"
	expect_exit 0 "stop asks the guest to power off" -- "$O" stop --timeout 60 s2
	if grep -q "stopped hard" "$T_TMP/err"; then fail "the guest ignored the power button"; else ok "the guest powered off on the ACPI power button"; fi
	expect_exit 0 "start it again" -- "$O" start s2
	if wait_log "$log" "APPLIANCE READY" $BOOT_TIMEOUT; then
		expect_grep "boot count 2" "$log" "what the guest wrote survived stop and start"
		http_get "http://127.0.0.1:$port/cgi-bin/poweroff" >/dev/null 2>&1
		i=0; while [ $i -lt 600 ] && "$O" list | grep -q '^s2 *running'; do sleep 0.1; i=$((i + 1)); done
		"$O" list >list.txt
		expect_grep '^s2 +stopped' list.txt "the power-off URL ends the run"
	else
		fail "s2 did not become ready after restart"; tail -5 "$log"
	fi
else
	fail "s2 did not become ready"; tail -20 "$log"
fi

# 3. The large option: the guest sees 2 CPUs and about 512 MiB.
timeout $BOOT_TIMEOUT "$O" "$ova" --accept-eula --backend qemu --name s3 --deployment-option large \
	--prop appliance.oneshot=true </dev/null >s3.out 2>s3.err
expect_grep "cpus=2 " s3.out "large: the guest sees 2 CPUs"
mem=$(sed -n 's/.*memory_kib=\([0-9]*\).*/\1/p' s3.out | head -n 1)
[ -n "$mem" ] && [ "$mem" -gt 400000 ] && [ "$mem" -le 524288 ] && ok "large: the guest sees ${mem} KiB (512 MiB less the kernel's share)" \
	|| fail "large: memory_kib=$mem"
# 4. The embedded runner boots the same appliance where the CPU has hardware
# virtualization (on PVM hosts guest kernel code is emulated and Linux never
# finishes booting, so this part runs only with vmx or svm).
if grep -qwE 'vmx|svm' /proc/cpuinfo && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	timeout $BOOT_TIMEOUT "$O" "$ova" --accept-eula --backend embedded --name e1 \
		--prop appliance.greeting="$greeting (embedded)" --prop appliance.oneshot=true </dev/null >e1.out 2>e1.err
	rc=$?
	[ $rc -eq 0 ] && ok "the embedded runner runs the appliance to power-off" || fail "embedded: exit $rc"
	expect_grep "property appliance.greeting=$greeting \(embedded\)" e1.out "embedded: the guest gets its properties"
	expect_grep "APPLIANCE READY" e1.out "embedded: APPLIANCE READY"
else
	echo "# no vmx/svm in /proc/cpuinfo: the embedded runner's full boot is not tested on this host"
fi
done_testing
