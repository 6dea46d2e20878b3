#!/bin/sh
# sandbox-seccomp.sh - issue #7 (a): a system call outside the vCPU thread's
# seccomp filter kills the whole runner, shown from a real KVM guest.
#
# The guest (sandbox_guest.S) drives a test hook, port 0x5E0, that makes
# its vCPU thread attempt one system call.  The hook exists only in
# tests/runner/ovfdeploy_hook, a build of the CLI with OD_SANDBOX_TEST_HOOK
# that is never installed; the shipped ovfdeploy is checked not to have it.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
need_kvm
HOOK=$top_builddir/tests/runner/ovfdeploy_hook
[ -x "$HOOK" ] || skip "tests/runner/ovfdeploy_hook not built"
grep -q kill_process /proc/sys/kernel/seccomp/actions_avail 2>/dev/null ||
	skip "this kernel has no SECCOMP_RET_KILL_PROCESS"
command -v gcc >/dev/null && command -v ld >/dev/null || skip "gcc or ld missing"

sandbox_guest() { # N: the guest asking for attempt N, in $T_TMP/hookN.bin
	gcc -m32 -c -DHOOK="$1" -o "$T_TMP/hook$1.o" "$top_srcdir/tests/runner/sandbox_guest.S" &&
		ld -m elf_i386 -T "$top_srcdir/tests/runner/guest.ld" -o "$T_TMP/hook$1.bin" "$T_TMP/hook$1.o" ||
		skip "cannot build 32-bit test guests (gcc -m32, ld -m elf_i386)"
}

# run_hook N [OPTIONS...]: run the guest for attempt N; $rc, console in $out
run_hook() {
	n=$1
	shift
	sandbox_guest "$n"
	out=$T_TMP/hook$n.out
	"$HOOK" run --memory 16M --firmware "$T_TMP/hook$n.bin" --console "file:$out" --timeout 20 \
		--firmware-log "$T_TMP/hook$n.log" "$@" 2>"$T_TMP/hook$n.err"
	rc=$?
}

# SIGSYS is signal 31 on x86: a shell reports a death by it as 128 + 31
SIGSYS_RC=159
for attempt in "1 socket()" "2 execve()" "3 ioctl(KVM_CREATE_VCPU)" "4 mmap(PROT_EXEC)"; do
	n=${attempt%% *}
	what=${attempt#* }
	run_hook "$n"
	if [ $rc -eq $SIGSYS_RC ] && grep -q READY "$out" && ! grep -Eq 'ALLOWED|REFUSED' "$out"; then
		ok "vCPU thread: $what kills the runner (SIGSYS)"
	else
		fail "vCPU thread: $what: exit $rc, console '$(tr -d '\r' <"$out" | tr '\n' ' ')'"
		sed 's/^/  | /' "$T_TMP/hook$n.err"
	fi
done

# the same forbidden call with --no-sandbox goes through: the kill above
# is the filter's doing, not something else going wrong
run_hook 1 --no-sandbox
[ $rc -eq 0 ] && grep -q ALLOWED "$out" && ok "--no-sandbox: the same socket() succeeds (control)" ||
	fail "--no-sandbox control: exit $rc"

# opening a host file is refused without a kill (glibc's malloc may try
# one), and the guest goes on; sanitizer builds allow opens (see sandbox.c)
run_hook 5
if [ $rc -eq 0 ] && grep -q REFUSED "$out"; then ok "vCPU thread: open() is refused (EACCES), the run goes on"
elif [ $rc -eq 0 ] && grep -q ALLOWED "$out" && grep -q __asan_init "$HOOK"; then ok "open() allowed in a sanitizer build"
else fail "vCPU thread: open(): exit $rc, console '$(tr -d '\r' <"$out" | tr '\n' ' ')'"; fi

# what a vCPU thread legitimately does (write to the firmware log) passes
run_hook 6
[ $rc -eq 0 ] && grep -q ALLOWED "$out" && grep -q "OD sandbox test hook" "$T_TMP/hook6.log" &&
	ok "vCPU thread: a write to its own log is allowed, the run ends normally" ||
	fail "vCPU thread: allowed write: exit $rc"

# the hook is not in the shipped binary
if grep -q "OD sandbox test hook" "$HOOK" && ! grep -q "OD sandbox test hook" "$OVFDEPLOY"; then
	ok "the test hook is in the test build only, not in ovfdeploy"
else
	fail "the test hook marker: test build and shipped binary do not differ as expected"
fi
done_testing
