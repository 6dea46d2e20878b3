#!/bin/sh
# sandbox-user.sh - issue #7 (b): started as root with --user, the runner
# has given up root before the guest runs.  While a test guest runs (it
# printed HALTING, so guest code has run), every thread of the process
# shows the user's uids and gids, the user's group only, no capabilities,
# no_new_privs and a seccomp filter; the process is not dumpable (its
# /proc files stay root's).  With --net, the network thread is among them.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
need_kvm
[ "$(id -u)" -eq 0 ] || skip "not root: --user needs a root start"
id nobody >/dev/null 2>&1 || skip "no user nobody"
build_guest HALT
uid=$(id -u nobody)
gid=$(id -g nobody)

check_tasks() { # PID NTHREADS LABEL
	pid=$1
	bad=
	n=0
	for st in /proc/$pid/task/*/status; do
		n=$((n + 1))
		line=$(awk -v u="$uid" -v g="$gid" '
			/^Uid:/ { if ($2 != u || $3 != u || $4 != u || $5 != u) print "uid " $2 "," $3 "," $4 "," $5 }
			/^Gid:/ { if ($2 != g || $3 != g || $4 != g || $5 != g) print "gid " $2 "," $3 "," $4 "," $5 }
			/^Groups:/ { if (NF > 2 || (NF == 2 && $2 != g)) print "groups" substr($0, 8) }
			/^Cap(Inh|Prm|Eff|Amb):/ { if ($2 !~ /^0+$/) print $1 " " $2 }
			/^NoNewPrivs:/ { if ($2 != 1) print "no_new_privs " $2 }
			/^Seccomp:/ { if ($2 != 2) print "seccomp mode " $2 }
		' "$st" 2>/dev/null | tr '\n' ' ')
		[ -n "$line" ] && bad="$bad [$(basename "$(dirname "$st")"): $line]"
	done
	if [ -z "$bad" ] && [ $n -ge $2 ]; then ok "$3: $n threads, all uid/gid $uid/$gid, no groups or caps, filtered"
	else fail "$3: $n threads (want >= $2):$bad"; fi
}

# one vCPU, then two vCPUs and a network thread
for opts in "1" "2 --net user"; do
	cpus=${opts%% *}
	extra=${opts#"$cpus"}
	# shellcheck disable=SC2086
	"$OVFDEPLOY" run --user nobody --cpus "$cpus" --memory 16M --firmware "$T_TMP/HALT.bin" $extra \
		--console "file:$T_TMP/u$cpus.out" --timeout 30 --shutdown-timeout 1 2>"$T_TMP/u$cpus.err" &
	pid=$!
	if wait_for HALTING "$T_TMP/u$cpus.out" 20 $pid; then
		want=$((cpus + 1))
		[ -n "$extra" ] && want=$((want + 1))
		check_tasks $pid $want "--user nobody --cpus $cpus$extra"
		# not dumpable: /proc/PID files belong to root, not to the user
		owner=$(stat -c %u /proc/$pid/mem 2>/dev/null)
		[ "$owner" = 0 ] && ok "--user: the process is not dumpable (/proc/PID/mem is root's)" ||
			fail "--user: /proc/$pid/mem owned by '$owner'"
	else
		fail "--user --cpus $cpus: the guest did not start"
		cat "$T_TMP/u$cpus.err"
	fi
	kill -TERM $pid 2>/dev/null
	wait $pid
	rc=$?
	[ $rc -eq 1 ] && grep -q stopped "$T_TMP/u$cpus.err" && ok "--user --cpus $cpus$extra: stopped on SIGTERM (exit 1)" ||
		fail "--user --cpus $cpus: exit $rc"
done
done_testing
