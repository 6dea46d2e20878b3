#!/bin/sh
# sandbox-reaper.sh - the child that holds the VM's file so the kernel's
# slow VM teardown happens after the runner exits (vm_spawn_reaper in
# src/runner/vm.c) keeps nothing a guest could use: seccomp strict mode,
# exactly two descriptors (its pipe and the VM), no guest RAM mapped; and
# it goes away when the runner ends, or dies.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
need_kvm
build_guest HALT

reaper_of() { # PID: the reaper child's pid, or nothing
	for c in /proc/[0-9]*; do
		[ "$(awk '/^PPid:/ {print $2}' "$c/status" 2>/dev/null)" = "$1" ] &&
			[ "$(cat "$c/comm" 2>/dev/null)" = ovfdeploy-reap ] && basename "$c"
	done
}
gone_within() { # PID SECONDS
	n=0
	while [ $n -lt $(($2 * 10)) ]; do
		kill -0 "$1" 2>/dev/null || return 0
		# a zombie is gone as far as we care
		[ "$(awk '/^State:/ {print $2}' /proc/"$1"/status 2>/dev/null)" = Z ] && return 0
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

for how in TERM KILL; do
	"$OVFDEPLOY" run --memory 64M --firmware "$T_TMP/HALT.bin" --console "file:$T_TMP/r$how.out" --timeout 30 \
		--shutdown-timeout 1 2>"$T_TMP/r$how.err" &
	pid=$!
	wait_for HALTING "$T_TMP/r$how.out" 20 $pid || fail "the guest did not start"
	r=$(reaper_of $pid)
	if [ -z "$r" ]; then
		fail "no reaper child under the runner ($how)"
		kill -KILL $pid
		wait $pid
		continue
	fi
	if [ $how = TERM ]; then
		st=/proc/$r/status
		fds=$(ls /proc/$r/fd | wc -l)
		kvm=$(ls -l /proc/$r/fd | grep -c 'anon_inode:kvm-vm')
		rss=$(awk '/^VmRSS:/ {print $2}' $st)
		[ "$(awk '/^Seccomp:/ {print $2}' $st)" = 1 ] && ok "reaper: seccomp strict mode" ||
			fail "reaper: seccomp mode $(awk '/^Seccomp:/ {print $2}' $st)"
		[ "$fds" -eq 2 ] && [ "$kvm" -eq 1 ] && ok "reaper: two descriptors, one of them the VM" ||
			{ fail "reaper: $fds descriptors, $kvm VM"; ls -l /proc/$r/fd; }
		# 64 MiB of guest RAM: no mapping that large in the child (ASan's
		# shadow memory is larger still: sanitizer builds check RSS only)
		big=0
		grep -q __asan_init "$OVFDEPLOY" ||
			while read -r range _; do
				[ $((0x${range#*-} - 0x${range%-*})) -ge $((64 * 1048576)) ] && big=$((big + 1))
			done </proc/$r/maps
		[ "$big" -eq 0 ] && [ "${rss:-0}" -lt 16384 ] && ok "reaper: no guest RAM mapped (RSS ${rss} KiB)" ||
			fail "reaper: $big large mappings, RSS $rss KiB"
	fi
	kill -$how $pid
	wait $pid
	gone_within "$r" 10 && ok "reaper exits after the runner ends (SIG$how)" || fail "reaper $r still there after SIG$how"
done
done_testing
