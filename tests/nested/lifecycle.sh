#!/bin/sh
# lifecycle.sh - a deployed instance on the embedded runner under real
# hardware-assisted KVM (tests/nested/README.md): in the background, its
# HTTP server answers through --forward; `console` attaches and sees it
# power off when `stop` presses the ACPI power button; what it wrote
# survives stop and start; `run --reboot` boots it again after a guest
# reset; and its vCPU threads run under the seccomp filter, which kills the
# runner on a forbidden system call (tests/runner/sandbox-seccomp.sh, here).
. "${top_srcdir:-.}/tests/nested/lib.sh"
cleanup_nested() { "$O" stop --timeout 5 web >/dev/null 2>&1; [ -n "${CPID:-}" ] && kill "$CPID" 2>/dev/null; rm -rf "$T_TMP"; }
trap cleanup_nested EXIT

port=$(free_port)
greeting="nested $$"
expect_exit 0 "deploy with a forwarded port" -- "$O" -q deploy "$OVA" --accept-eula --backend embedded --name web \
	--prop "appliance.greeting=$greeting" --forward "$port:80"
expect_exit 0 "start it in the background" -- "$O" start web
log=$OVFDEPLOY_HOME/instances/web/console.log
wait_log "$log" "APPLIANCE READY|the machine ended" "$BOOT_TIMEOUT"
if reset_fault "$log"; then
	echo "# the first start reset in SYSLINUX (issue 14's known fault); its console, then one more start:"
	console "$log"
	"$O" stop --timeout 5 web >/dev/null 2>&1
	expect_exit 0 "start it once more" -- "$O" start web
fi
if ! wait_log "$log" "APPLIANCE READY" "$BOOT_TIMEOUT"; then
	fail "the instance is not ready within $BOOT_TIMEOUT s"; console "$log"; done_testing; exit 1
fi
ok "the background instance is ready"
check_line "$log" "boot count 1" "the first boot is counted"
if http_get "http://127.0.0.1:$port/" >page.html 2>err.txt; then
	expect_grep "<h1>$greeting</h1>" page.html "the appliance's page answers through --forward"
else fail "GET through --forward: $(cat err.txt)"; fi

# seccomp: every vCPU thread of the runner is filtered (mode 2)
pid=$("$O" --json list | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("instances",d) if isinstance(d,dict) else d; print([i.get("pid",0) for i in d if i["name"]=="web"][0])' 2>/dev/null)
if [ -n "$pid" ] && [ "$pid" != 0 ] && [ -d "/proc/$pid" ]; then
	n=0 f=0
	for t in /proc/$pid/task/*; do
		n=$((n + 1))
		[ "$(sed -n 's/^Seccomp:[[:space:]]*//p' "$t/status")" = 2 ] && f=$((f + 1))
	done
	[ $f -ge 1 ] && ok "the runner's threads run under seccomp filters ($f of $n threads)" ||
		fail "no thread of the runner (pid $pid) has a seccomp filter"
else fail "cannot find the runner's pid (list says '$pid')"; fi

# pause and resume on real KVM: a paused guest does not answer, and after
# resume it does again, without a reboot (issue 19)
expect_exit 0 "pause the running instance" -- "$O" pause web
"$O" list >list.txt
expect_grep '^web +paused' list.txt "list shows it paused"
if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=3)' "http://127.0.0.1:$port/" 2>/dev/null; then
	fail "a paused guest answered HTTP"
else ok "a paused guest does not answer HTTP"; fi
expect_exit 0 "resume it" -- "$O" resume web
if http_get "http://127.0.0.1:$port/" >page2.html 2>err.txt; then
	expect_grep "<h1>$greeting</h1>" page2.html "after resume the appliance answers again"
else fail "GET after resume: $(cat err.txt)"; fi
check_line "$log" "boot count 1" "no reboot across pause and resume"
if grep -aq "boot count 2" "$log"; then fail "the guest rebooted across pause and resume"; fi

# console attaches and sees the power-off that stop asks for
"$O" console web </dev/null >attach.out 2>attach.err &
CPID=$!
sleep 1
expect_exit 0 "stop presses the power button; the guest powers off" -- "$O" stop --timeout 60 web
grep -q "stopped hard" "$T_TMP/err" && fail "the guest ignored the power button"
i=0; while kill -0 "$CPID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null; CPID=
check_line attach.out "powering off (ACPI power button)" "console attached to the running instance and saw the power button's effect"
check_line "$log" "powering off (ACPI power button)" "the console log has it too (it keeps all the output, attached or not)"

if ! few; then
	expect_exit 0 "start it again" -- "$O" start web
	booted2() { wait_log "$log" "boot count 2" "$BOOT_TIMEOUT" && wait_log "$log" "APPLIANCE READY.*" 10; }
	# Known intermittent fault (issue 14's note, as in boots.sh): the guest
	# may reset right after SYSLINUX's banner.  Show it, stop hard, start
	# once more; the boot that failed wrote nothing, so the count is still 2.
	if ! booted2; then
		echo "# the second start did not boot; its console, then one more start:"
		console "$log"
		"$O" stop --timeout 5 web >/dev/null 2>&1
		expect_exit 0 "start it once more" -- "$O" start web
	fi
	if booted2; then
		ok "what the guest wrote survived stop and start (boot count 2)"
	else fail "no second boot count"; console "$log"; fi
	http_get "http://127.0.0.1:$port/cgi-bin/poweroff" >/dev/null 2>&1
	i=0; while [ $i -lt 300 ] && "$O" list | grep -q '^web *running'; do sleep 0.1; i=$((i + 1)); done
	"$O" list >list.txt
	expect_grep '^web +stopped' list.txt "the power-off URL ends the run"

	# run --reboot: the first boot resets the machine, the second powers off
	cp "$DISK" rb.img
	env_iso rb.iso appliance.reboot_once=true appliance.oneshot=true
	"$O" run --memory 256M --reboot --disk rb.img --disk rb.iso,readonly --console "file:$T_TMP/rb.log" \
		--timeout "$BOOT_TIMEOUT" >rb.out 2>&1
	rc=$?
	[ $rc -eq 0 ] && ok "run --reboot ends at the power-off after the reboot" || { fail "run --reboot: exit $rc"; cat rb.out; }
	check_line rb.log "tiny: rebooting" "the guest reset the machine"
	check_line rb.log "boot count 2" "the machine booted again after the reset"
	[ "$(grep -ac 'APPLIANCE READY' rb.log)" = 2 ] && ok "READY twice" || fail "READY $(grep -ac 'APPLIANCE READY' rb.log) times"
fi

# the seccomp tests of tests/runner, under real KVM
sh "$top_srcdir/tests/runner/sandbox-seccomp.sh" >seccomp.out 2>&1
rc=$?
sed 's/^/  seccomp| /' seccomp.out
[ $rc -eq 0 ] && ok "tests/runner/sandbox-seccomp.sh passes under real KVM" || fail "sandbox-seccomp.sh under real KVM: exit $rc"
done_testing
