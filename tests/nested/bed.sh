#!/bin/sh
# bed.sh - the nested test bed itself (tests/nested/run-in-guest): in one
# boot, the command finds a working /dev/kvm (KVM_GET_API_VERSION answers 12,
# KVM_CREATE_VM gives a VM), the module options asked for, its working
# directory, environment and arguments; its output and exit status come back,
# and what it writes in a --rw directory is here afterwards.  A timeout kills
# the guest and leaves no QEMU behind.  A hung bed (no heartbeat) is seen as
# hung, and with --retry-stalled the command runs once more in a fresh one.
. "${top_srcdir:-.}/tests/cli/lib.sh"
BED=$top_srcdir/tests/nested/run-in-guest
command -v python3 >/dev/null || skip "python3 missing"
cat >"$T_TMP/probe.py" <<'PY'
import fcntl, os, sys
fd = os.open('/dev/kvm', os.O_RDWR)
print('api', fcntl.ioctl(fd, 0xae00))          # KVM_GET_API_VERSION
vm = fcntl.ioctl(fd, 0xae01, 0)                # KVM_CREATE_VM
print('vm', 'ok' if vm >= 0 else 'failed')
PY
export OD_BED_VAR="a 'quoted' value"
"$BED" --timeout 300 --rw "$T_TMP" --modprobe-opt 'kvm enable_vmware_backdoor=1' -- \
	sh -c 'python3 "$1/probe.py"; echo "mode=$OVFDEPLOY_NESTED var=$OD_BED_VAR arg=$2 pwd=$(pwd)";
		echo "backdoor=$(cat /sys/module/kvm/parameters/enable_vmware_backdoor)";
		echo written >"$1/from-guest"; touch "$TMPDIR/x" && echo tmp-writable; echo to-stderr >&2; exit 7' \
	sh "$T_TMP" "two words" >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
[ $rc -eq 77 ] && { cat "$T_TMP/err"; skip "$(tail -n 1 "$T_TMP/err")"; }
[ $rc -eq 7 ] && ok "the command's exit status comes back" || { fail "exit status $rc, not 7"; cat "$T_TMP/err"; }
expect_grep '^api 12$' "$T_TMP/out" "/dev/kvm answers KVM_GET_API_VERSION"
expect_grep '^vm ok$' "$T_TMP/out" "a VM can be created"
expect_grep "^mode=(guest|direct) var=a 'quoted' value arg=two words pwd=$(pwd -P)\$" "$T_TMP/out" \
	"environment, arguments and working directory are ours"
if grep -q mode=guest "$T_TMP/out"; then
	expect_grep '^backdoor=Y$' "$T_TMP/out" "kvm got the module option asked for"
fi
expect_grep '^tmp-writable$' "$T_TMP/out" "TMPDIR is writable"
expect_grep '^to-stderr$' "$T_TMP/err" "standard error comes back apart"
[ "$(cat "$T_TMP/from-guest" 2>/dev/null)" = written ] && ok "a --rw directory is written through" ||
	fail "nothing written in the --rw directory"

if grep -q mode=guest "$T_TMP/out"; then
	# A lock of its own: waiting for other tests' boots behind the shared
	# lock is not part of the timeout (it counts from the boot) and took
	# minutes on a busy machine, failing "promptly" for the wrong reason.
	s=$(date +%s)
	OVFDEPLOY_NESTED_LOCK=$T_TMP/own.lock TMPDIR=$T_TMP "$BED" --timeout 2 -- sleep 600 >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	[ $rc -eq 124 ] && ok "a timeout ends the test bed (exit 124)" || fail "a timeout gave exit $rc"
	[ $(($(date +%s) - s)) -lt 60 ] && ok "... promptly" || fail "the timeout took $(($(date +%s) - s)) s"
	expect_grep 'timeout after 2 s' "$T_TMP/err" "the timeout is reported"
	pgrep -f "qemu-system-x86_64 .*$T_TMP" >/dev/null && fail "a QEMU is left behind" || ok "no QEMU is left behind"

	# A hung bed, made by stopping its heartbeat and going quiet: the first
	# run stops the heartbeat (a marker in the --rw directory says it did),
	# the second, in a fresh bed, finds the marker and ends.  (Plain pass
	# only: the bed is the same script in both builds.)
	if [ "${OVFDEPLOY_NESTED_FEW:-}" != 0 ] &&
		grep -q -e '--enable-sanitizers' "${top_builddir:-.}/config.status" 2>/dev/null; then
		echo "# sanitizer build: the hung and panicked beds are left to the plain pass"
		done_testing; exit
	fi
	{
		mkdir -p "$T_TMP/hang"
		s=$(date +%s)
		OVFDEPLOY_NESTED_LOCK=$T_TMP/own.lock "$BED" --timeout 300 --stall 40 --retry-stalled --rw "$T_TMP/hang" -- \
			sh -c 'if [ -e "$1/first" ]; then echo second; exit 0; fi; echo first; : >"$1/first";
				pkill -STOP -x sleep; sleep 200' sh "$T_TMP/hang" >"$T_TMP/out" 2>"$T_TMP/err"
		rc=$?
		t=$(($(date +%s) - s))
		[ $rc -eq 0 ] && ok "a hung bed is run once more and the second run's status comes back (${t} s)" ||
			{ fail "a hung bed with --retry-stalled gave exit $rc"; sed 's/^/  | /' "$T_TMP/err"; }
		expect_grep 'the test bed is hung \(nothing changed for 40 s\); once more' "$T_TMP/err" "the hang is reported"
		expect_grep '^# hung bed\| first$' "$T_TMP/out" "the first run's output comes back marked"
		expect_grep '^second$' "$T_TMP/out" "then the second run's"
		[ $t -lt 200 ] && ok "the hang is seen before the command's own 200 s" || fail "the hang took $t s to see"
		pgrep -f "qemu-system-x86_64 .*$T_TMP" >/dev/null && fail "a QEMU is left behind" || ok "no QEMU is left behind"
	}
	# A bed whose kernel panics (sysrq's crash, as root): once more as well.
	if [ "$(id -u)" = 0 ]; then
		mkdir -p "$T_TMP/panic"
		OVFDEPLOY_NESTED_LOCK=$T_TMP/own.lock "$BED" --timeout 300 --retry-stalled --rw "$T_TMP/panic" -- \
			sh -c 'if [ -e "$1/first" ]; then echo second; exit 0; fi; echo first; : >"$1/first"; sync;
				echo c >/proc/sysrq-trigger; sleep 100' sh "$T_TMP/panic" >"$T_TMP/out" 2>"$T_TMP/err"
		rc=$?
		[ $rc -eq 0 ] && ok "a bed whose kernel panicked is run once more" ||
			{ fail "a panicked bed with --retry-stalled gave exit $rc"; sed 's/^/  | /' "$T_TMP/err" | tail -20; }
		expect_grep "the test bed's kernel panicked; once more" "$T_TMP/err" "the panic is reported"
		expect_grep '^  panic\| .*Kernel panic' "$T_TMP/err" "with the start of the panic message"
		expect_grep '^second$' "$T_TMP/out" "then the second run's output"
	fi
fi
done_testing
