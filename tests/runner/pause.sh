#!/bin/sh
# pause.sh - 'ovfdeploy pause' and 'resume' on a running instance, on the
# embedded runner and on QEMU: a guest counting on its serial console
# (count_guest.S, as the instance's firmware) stops counting while paused
# and goes on from the next number after the resume (no reset); 'list'
# shows it paused; the guest's kvmclock does not jump over the pause
# (embedded runner); the errors (pause twice, resume a running instance,
# either on a stopped one) exit non-zero with a message.
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
. "$top_srcdir/tests/deploy/deploylib.sh"
command -v qemu-img >/dev/null || skip "qemu-img not installed (qemu-utils)"
command -v gcc >/dev/null && command -v ld >/dev/null || skip "gcc or ld missing"
export OVFDEPLOY_HOME="$T_TMP/home"
O=$OVFDEPLOY
cd "$T_TMP"
gcc -m32 -c -o count.o "$top_srcdir/tests/runner/count_guest.S" &&
	ld -m elf_i386 -T "$top_srcdir/tests/runner/guest.ld" -o count.bin count.o &&
	gcc -m32 -DKVMCLOCK -c -o countk.o "$top_srcdir/tests/runner/count_guest.S" &&
	ld -m elf_i386 -T "$top_srcdir/tests/runner/guest.ld" -o countk.bin countk.o ||
	skip "cannot build 32-bit test guests (gcc -m32, ld -m elf_i386)"
make_tiny_app 16M

# the counts of FILE are 0, 1, 2, ... with no gap, no repeat, no restart.
# Only whole lines count: the guest writes a byte at a time, so the file's
# last line may be caught half written ("C=0000001" read as 1 before the
# "2" lands); a garbled line in the middle still shows as a gap.
COUNT_LINE='^C=[0-9A-F]\{8\}\( T=[0-9A-F]\{16\}\)\{0,1\}$'
counts_in_order() {
	grep -a "$COUNT_LINE" "$1" | cut -c3-10 | awk '{ v = sprintf("%d", "0x" $1) + 0; if (NR - 1 != v) { bad = 1 } } END { exit bad }'
}
# the last complete count in FILE, as a decimal number ("" when none)
last_count() { grep -a "$COUNT_LINE" "$1" | tail -1 | cut -c3-10 | { read -r h && echo $((0x$h)); }; }
# wait until FILE's count exceeds $2 (10 s at most)
wait_count_above() {
	w=0
	while [ $w -lt 100 ]; do
		c=$(last_count "$1")
		[ -n "$c" ] && [ "$c" -gt "$2" ] && return 0
		sleep 0.1
		w=$((w + 1))
	done
	return 1
}

PIDS=
cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T_TMP"
}
trap cleanup EXIT

# the guest's kvmclock (ns) on the line of count $2 in FILE $1
clock_at() { grep -a "^C=$(printf %08X "$2") T=" "$1" | head -1 | cut -c14- | { read -r h && echo $((0x$h)); }; }

# one instance per backend: NAME BACKEND CPUS FIRMWARE
exercise() {
	name=$1 backend=$2 cpus=$3 fw=$4
	"$O" -q deploy tiny.ova --accept-eula --name "$name" >/dev/null 2>"$T_TMP/err" ||
		{ fail "$name: deploy"; cat "$T_TMP/err"; return; }
	dir=$OVFDEPLOY_HOME/instances/$name
	conf=$dir/instance.conf
	sed -i "s/^backend=.*/backend=$backend/; s/^cpus=.*/cpus=$cpus/" "$conf"
	grep -q '^firmware=' "$conf" && sed -i "s|^firmware=.*|firmware=$T_TMP/$fw|" "$conf" ||
		echo "firmware=$T_TMP/$fw" >>"$conf"
	expect_exit 2 "$name: pausing a stopped instance is refused" -- "$O" pause "$name"
	expect_grep "is not running" "$T_TMP/err" "$name: ... saying it is not running"
	expect_exit 2 "$name: resuming a stopped instance is refused" -- "$O" resume "$name"
	expect_exit 0 "$name: start ($backend, $cpus vCPUs)" -- "$O" start "$name"
	pid=$(cat "$dir/pid" 2>/dev/null || true)
	[ -n "$pid" ] && PIDS="$PIDS $pid"
	log=$dir/console.log
	wait_count_above "$log" 5 || { fail "$name: the guest does not count"; sed 's/^/  | /' "$log" | tail -5; return; }
	expect_exit 2 "$name: resuming a running instance is refused" -- "$O" resume "$name"
	expect_grep "is not paused" "$T_TMP/err" "$name: ... saying it is not paused"

	expect_exit 0 "$name: pause" -- "$O" pause "$name"
	before=$(wc -c <"$log")
	n=$(last_count "$log")
	sleep 2
	after=$(wc -c <"$log")
	[ "$before" -eq "$after" ] && ok "$name: no output for 2 s while paused (count $n)" ||
		fail "$name: the guest went on while paused ($before -> $after bytes)"
	"$O" list >list.txt
	expect_grep "^$name +paused " list.txt "$name: list shows it paused"
	"$O" --json list >list.json
	python3 -c 'import json,sys; d=[i for i in json.load(open(sys.argv[1])) if i["name"]==sys.argv[2]][0]; assert d["state"]=="paused", d' \
		list.json "$name" && ok "$name: list --json says paused" || fail "$name: list --json: $(cat list.json)"
	expect_exit 2 "$name: pausing twice is refused" -- "$O" pause "$name"
	expect_grep "paused already" "$T_TMP/err" "$name: ... saying it is paused already"

	expect_exit 0 "$name: resume --json" -- "$O" --json resume "$name"
	expect_grep '"state": *"running"' "$T_TMP/out" "$name: resume --json says running"
	if wait_count_above "$log" $((n + 3)); then
		counts_in_order "$log" && ok "$name: it counts on from $n + 1, no reset (now $(last_count "$log"))" ||
			{ fail "$name: the counts are not in order"; grep -a '^C=' "$log" | tail -8 | sed 's/^/  | /'; }
	else
		fail "$name: no count after the resume"
	fi
	# kvmclock (the KVMCLOCK guest): the pause of 2 s and more must not
	# show; one line's wait (~30 ms) and the resume's latency may
	if [ "$fw" = countk.bin ]; then
		t0=$(clock_at "$log" "$n") t1=$(clock_at "$log" $((n + 1)))
		if [ -n "$t0" ] && [ -n "$t1" ]; then
			gap=$(((t1 - t0) / 1000000))
			[ "$gap" -ge 0 ] && [ "$gap" -lt 500 ] &&
				ok "$name: the guest's kvmclock did not jump over the pause (+$gap ms)" ||
				fail "$name: the guest's kvmclock jumped $gap ms over the pause"
		else
			fail "$name: no kvmclock reading around the pause"
		fi
	fi
	"$O" list >list.txt
	expect_grep "^$name +running " list.txt "$name: list shows it running again"

	# 50 pause/resume cycles back to back on the control socket (a resume
	# at once followed by a pause): the guest still counts in order
	c0=$(last_count "$log")
	if python3 - "$dir/control.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile('rwb', buffering=0)
def cmd(c):
    f.write(b'{"execute": "%s"}\n' % c)
    while True:
        l = f.readline()
        if l.startswith(b'{"return"'):
            return
        assert not l.startswith(b'{"error"') and l, l
f.readline()
cmd(b"qmp_capabilities")
for _ in range(50):
    cmd(b"stop"); cmd(b"cont")
PY
	then
		wait_count_above "$log" $((c0 + 3)) && counts_in_order "$log" &&
			ok "$name: 50 quick pause/resume cycles, the count still in order" ||
			fail "$name: the count after 50 quick cycles"
	else
		fail "$name: 50 quick pause/resume cycles on the control socket"
	fi

	# stop works on a paused instance too (it is resumed for the power button)
	"$O" -q pause "$name"
	expect_exit 0 "$name: stop a paused instance" -- "$O" stop --timeout 1 "$name"
	"$O" list >list.txt
	expect_grep "^$name +stopped " list.txt "$name: stopped"
	if [ "$backend" = embedded ]; then
		n=0
		while [ $n -lt 30 ] && [ -e "$dir/control.sock" ]; do sleep 0.1; n=$((n + 1)); done
		[ ! -e "$dir/control.sock" ] && ok "$name: the runner removes its control socket" ||
			fail "$name: control.sock left behind"
	fi
	expect_exit 0 "$name: rm" -- "$O" rm "$name"
}

expect_exit 2 "pause without a name is a usage error" -- "$O" pause
expect_exit 0 "pause --help" -- "$O" pause --help
expect_exit 2 "pausing an unknown instance is refused" -- "$O" pause nosuch

if ( exec 3<>/dev/kvm ) 2>/dev/null; then
	exercise emb embedded 2 countk.bin
	# start --foreground: the same control socket, the console on stdout
	"$O" -q deploy tiny.ova --accept-eula --name fg >/dev/null 2>&1
	conf=$OVFDEPLOY_HOME/instances/fg/instance.conf
	sed -i "s/^backend=.*/backend=embedded/" "$conf"
	echo "firmware=$T_TMP/count.bin" >>"$conf"
	"$O" start -f fg </dev/null >fg.out 2>fg.err &
	fgpid=$!
	PIDS="$PIDS $fgpid"
	if wait_count_above fg.out 3; then
		expect_exit 0 "fg: pause a foreground instance" -- "$O" pause fg
		"$O" list >list.txt
		expect_grep "^fg +paused " list.txt "fg: list shows it paused"
		b1=$(wc -c <fg.out); sleep 1; b2=$(wc -c <fg.out)
		[ "$b1" -eq "$b2" ] && ok "fg: no output while paused" || fail "fg: output while paused"
		expect_exit 0 "fg: resume" -- "$O" resume fg
		c=$(last_count fg.out)
		wait_count_above fg.out $((c + 2)) && counts_in_order fg.out && ok "fg: counts on in order" ||
			{ fail "fg: the count after resume"; grep -a '^C=' fg.out | tail -8 | sed 's/^/  | /'; }
	else
		fail "fg: the foreground guest does not count"; cat fg.err
	fi
	"$O" -q stop --timeout 1 fg
	wait $fgpid
	# killed by SIGTERM, it may leave its socket: harmless, as the pid file
	expect_exit 2 "fg: after the stop, pause says it is not running" -- "$O" pause fg
	"$O" -q rm fg
else
	echo "# /dev/kvm not usable: the embedded runner is not exercised"
fi
if command -v qemu-system-x86_64 >/dev/null; then
	exercise qm qemu 1 count.bin
else
	echo "# qemu-system-x86_64 missing: the QEMU backend is not exercised"
fi
done_testing
