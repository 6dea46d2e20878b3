#!/bin/sh
# crash.sh - crash consistency: 'convert', 'pack', 'unpack' and 'deploy' are
# killed with SIGKILL at random moments spread over their normal run time.
# After each kill the destination either does not exist or is complete and
# checks out (qemu-img compare, verify, list/rm/redeploy), and no temporary
# file is left in the destination directory -- or, if one is (nothing can
# clean up after SIGKILL), the next run to the same destination removes it.
#
# HARDEN_KILLS (default 20) sets the number of kills per command.
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/hardening/lib.sh"
command -v qemu-img >/dev/null 2>&1 || skip "qemu-img is not installed (qemu-utils)"
O=$OVFDEPLOY
KILLS=${HARDEN_KILLS:-20}
cd "$T_TMP" || exit 1
export OVFDEPLOY_HOME="$T_TMP/home"

# The input: 20 MiB of random data with holes and zero runs in a 40 MiB
# disk, so that every writer has real work (and compression takes a while:
# the slowest command runs for about a second).
truncate -s 40M src.raw
head -c 10M /dev/urandom | dd of=src.raw bs=1M seek=1 conv=notrunc status=none
head -c 10M /dev/urandom | dd of=src.raw bs=1M seek=20 conv=notrunc status=none
yes 'crash consistency line' | head -c 2M | dd of=src.raw bs=1M seek=36 conv=notrunc status=none
"$O" -q convert -O qcow2 src.raw src.qcow2 || { fail "convert the source to qcow2"; done_testing; exit 1; }

# kill_once DESC -- CMD...: start CMD, SIGKILL it after a random delay in
# [0, 1.2 x its measured duration $DUR_MS], reap it.  Sets KILLED=1 when it
# was still running (it may have finished first: that must be fine too).
kill_once() {
	desc=$1; shift 2
	d=$(rand_delay "$DUR_MS")
	"$@" >/dev/null 2>"$T_TMP/kill.err" &
	pid=$!
	sleep "$d"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	LAST_DELAY=$d
	KILLED=0
	case $rc in
	137) KILLED=1 ;;
	0) ;;
	*) fail "$desc exited $rc by itself (before the kill after ${d}s)"; sed 's/^/  | /' "$T_TMP/kill.err" | head -5 ;;
	esac
}

# leftovers DIR PATTERN: names in DIR (hidden ones included) matching the
# extended regex PATTERN, on one line.
leftovers() { ls -A "$1" 2>/dev/null | grep -E -- "$2" | tr '\n' ' '; }

# after_kill DESC DIR PATTERN -- CMD...: when a temporary was left in DIR,
# the next complete run of CMD must remove it.
after_kill() {
	desc=$1; dir=$2; pat=$3; shift 4
	left=$(leftovers "$dir" "$pat")
	[ -z "$left" ] && return 0
	LEFT_SEEN=$((LEFT_SEEN + 1))
	"$@" >/dev/null 2>"$T_TMP/err"
	rc=$?
	left2=$(leftovers "$dir" "$pat")
	if [ $rc -eq 0 ] && [ -z "$left2" ]; then CLEANED=$((CLEANED + 1)); else
		fail "$desc: the next run (exit $rc) did not remove the leftover temporaries: $left2"
		sed 's/^/  | /' "$T_TMP/err" | head -5
	fi
}

summary() {
	[ "$T_FAILS" -eq "$FAILS0" ] || return 0
	ok "$1: $KILLS kills ($KILLED_N while running), $BAD bad destinations, temporaries left by $LEFT_SEEN kills, removed by the next run $CLEANED times"
}

# ---- the clean-up rule, deterministically ----------------------------------
# Beside the destination: a temporary whose writer died, one whose writer is
# alive (it holds the lock, here flock(1)), and a user's files that merely
# look similar.  The next convert removes the first only.
mkdir rule
for f in .out.AAAAAA.tmp .out.BBBBBB.tmp .out.notours.tmp .out.CCCCCC.tmp.keep out.DDDDDD.tmp; do echo x > "rule/$f"; done
mkdir rule/.out.EEEEEE.tmp
if command -v flock >/dev/null 2>&1; then
	flock rule/.out.BBBBBB.tmp sleep 30 &
	holder=$!
	sleep 0.2
	expect_exit 0 "convert beside stale temporaries" -- "$O" convert -O qcow2 src.qcow2 rule/out
	[ ! -e rule/.out.AAAAAA.tmp ] && [ ! -e rule/.out.EEEEEE.tmp ] && ok "the dead writers' temporaries are removed" \
		|| fail "stale temporaries left: $(ls -A rule | tr '\n' ' ')"
	[ -e rule/.out.BBBBBB.tmp ] && ok "a live writer's temporary is kept" || fail "a locked temporary was removed"
	[ -e rule/.out.notours.tmp ] && [ -e rule/.out.CCCCCC.tmp.keep ] && [ -e rule/out.DDDDDD.tmp ] \
		&& ok "files not named like our temporaries are kept" || fail "a user's file was removed: $(ls -A rule | tr '\n' ' ')"
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
else
	echo "# flock(1) missing: the clean-up rule is only exercised by the kills below"
fi

# ---- convert ----------------------------------------------------------------
mkdir conv
set -- "-O qcow2" "-O qcow2 -c -j 1" "-O vmdk -c" "-O raw"
nvar=$#
i=0 KILLED_N=0 BAD=0 LEFT_SEEN=0 CLEANED=0 INCOMPLETE=0 FAILS0=$T_FAILS
for opts in "$@"; do
	measure "$O" convert $opts src.qcow2 conv/probe
	eval "dur_$i=\$DUR_MS"
	rm -f conv/probe
	i=$((i + 1))
done
echo "# convert durations (ms): $dur_0 $dur_1 $dur_2 $dur_3"
k=0
while [ $k -lt "$KILLS" ]; do
	v=$((k % nvar))
	eval "opts=\${$((v + 1))}; DUR_MS=\$dur_$v"
	rm -f conv/out
	kill_once "convert $opts" -- "$O" convert $opts src.qcow2 conv/out
	KILLED_N=$((KILLED_N + KILLED))
	if [ -e conv/out ]; then
		if ! qemu-img compare -q src.raw conv/out 2>/dev/null || ! "$O" compare src.raw conv/out >/dev/null 2>&1; then
			BAD=$((BAD + 1)); fail "convert $opts killed after ${LAST_DELAY}s: conv/out exists and differs from the source"
		fi
	fi
	after_kill "convert $opts" conv '^\.' -- "$O" convert $opts src.qcow2 conv/out
	k=$((k + 1))
done
summary "convert"

# ---- pack -------------------------------------------------------------------
mkdir app packs
"$O" -q convert -O vmdk -c src.raw app/tiny-disk1.vmdk || fail "make the appliance disk"
cp "$top_srcdir/samples/tiny.ovf" app/
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out key.crt -days 2 -subj /CN=crash >/dev/null 2>&1 \
	&& cat key.crt >> key.pem && sign="--sign key.pem" || sign=
set -- "" "--compress" "--chunk-size 4M $sign"
nvar=$#
i=0 KILLED_N=0 BAD=0 LEFT_SEEN=0 CLEANED=0 INCOMPLETE=0 FAILS0=$T_FAILS
for opts in "$@"; do
	measure "$O" pack $opts app/tiny.ovf -o packs/probe.ova
	eval "dur_$i=\$DUR_MS"
	rm -f packs/probe.ova
	i=$((i + 1))
done
echo "# pack durations (ms): $dur_0 $dur_1 $dur_2"
k=0
while [ $k -lt "$KILLS" ]; do
	v=$((k % nvar))
	eval "opts=\${$((v + 1))}; DUR_MS=\$dur_$v"
	rm -f packs/out.ova
	kill_once "pack $opts" -- "$O" pack $opts app/tiny.ovf -o packs/out.ova
	KILLED_N=$((KILLED_N + KILLED))
	if [ -e packs/out.ova ] && ! "$O" verify --ca-file key.crt packs/out.ova >/dev/null 2>&1; then
		BAD=$((BAD + 1)); fail "pack $opts killed after ${LAST_DELAY}s: packs/out.ova exists and does not verify"
	fi
	after_kill "pack $opts" packs '^\.' -- "$O" pack $opts app/tiny.ovf -o packs/out.ova
	k=$((k + 1))
done
summary "pack"

# ---- unpack -----------------------------------------------------------------
"$O" -q pack app/tiny.ovf -o plain.ova && "$O" -q pack --compress app/tiny.ovf -o gz.ova || fail "pack the inputs"
mkdir un
set -- plain.ova gz.ova
nvar=$#
i=0 KILLED_N=0 BAD=0 LEFT_SEEN=0 CLEANED=0 INCOMPLETE=0 FAILS0=$T_FAILS
for ova in "$@"; do
	measure "$O" unpack "$ova" un/probe
	eval "dur_$i=\$DUR_MS"
	rm -rf un/probe
	i=$((i + 1))
done
echo "# unpack durations (ms): $dur_0 $dur_1"
k=0
while [ $k -lt "$KILLS" ]; do
	v=$((k % nvar))
	eval "ova=\${$((v + 1))}; DUR_MS=\$dur_$v"
	rm -rf un/out
	kill_once "unpack $ova" -- "$O" unpack "$ova" un/out
	KILLED_N=$((KILLED_N + KILLED))
	if [ -e un/out ]; then
		# Complete: every file there, and the manifest checks.
		if ! [ -f un/out/tiny.ovf ] || ! [ -f un/out/tiny.mf ] || ! [ -f un/out/tiny-disk1.vmdk ] ||
		   ! "$O" verify un/out >/dev/null 2>&1; then
			BAD=$((BAD + 1)); fail "unpack $ova killed after ${LAST_DELAY}s: un/out is incomplete: $(ls -A un/out | tr '\n' ' ')"
		fi
	fi
	rm -rf un/out
	after_kill "unpack $ova" un '^\.' -- "$O" unpack "$ova" un/out
	k=$((k + 1))
done
summary "unpack"

# ---- deploy -----------------------------------------------------------------
# 'deploy' without --start only makes the instance: nothing boots.  The
# compressed package makes it do real work (the disk becomes a base image).
inst=$OVFDEPLOY_HOME/instances
set -- plain.ova gz.ova
nvar=$#
i=0 KILLED_N=0 BAD=0 LEFT_SEEN=0 CLEANED=0 INCOMPLETE=0 FAILS0=$T_FAILS
for ova in "$@"; do
	measure "$O" deploy --accept-eula --name probe "$ova"
	eval "dur_$i=\$DUR_MS"
	"$O" -q rm probe || fail "rm probe"
	i=$((i + 1))
done
echo "# deploy durations (ms): $dur_0 $dur_1"
k=0
while [ $k -lt "$KILLS" ]; do
	v=$((k % nvar))
	eval "ova=\${$((v + 1))}; DUR_MS=\$dur_$v"
	partial=0
	kill_once "deploy $ova" -- "$O" deploy --accept-eula --name c1 "$ova"
	KILLED_N=$((KILLED_N + KILLED))
	what="deploy $ova killed after ${LAST_DELAY}s"
	"$O" list >list.out 2>list.err
	rc=$?
	if [ -e "$inst/c1" ]; then
		# Complete (stopped), or left incomplete by the kill: either way
		# list says so without failing.
		if [ $rc -ne 0 ] || ! grep -Eq '^c1 +(stopped|incomplete) ' list.out; then
			BAD=$((BAD + 1)); fail "$what: list (exit $rc) does not show c1 stopped or incomplete: $(cat list.out list.err)"
		fi
		partial=0
		grep -Eq '^c1 +incomplete ' list.out && partial=1 && INCOMPLETE=$((INCOMPLETE + 1))
		# Every other incomplete one is left for the redeploy below to
		# replace; the others must go with rm.
		if [ $partial -eq 1 ] && [ $((INCOMPLETE % 2)) -eq 0 ]; then :
		elif ! "$O" rm c1 >/dev/null 2>"$T_TMP/err"; then
			BAD=$((BAD + 1)); fail "$what: rm c1 fails: $(cat "$T_TMP/err")"
		fi
	elif [ $rc -ne 0 ] || grep -q c1 list.out; then
		BAD=$((BAD + 1)); fail "$what: no instance, yet list (exit $rc) says: $(cat list.out list.err)"
	fi
	if [ -e "$inst/c1" ] && ! { [ $partial -eq 1 ] && [ $((INCOMPLETE % 2)) -eq 0 ]; }; then
		BAD=$((BAD + 1)); fail "$what: the instance directory is still there after rm"
		rm -rf "$inst/c1"
	fi
	after_kill "deploy $ova" "$inst" '^\.' -- "$O" deploy --accept-eula --name c2 "$ova"
	"$O" -q rm c2 2>/dev/null
	# A redeploy under the same name works and gives a usable instance.
	if "$O" -q deploy --accept-eula --name c1 "$ova" >/dev/null 2>"$T_TMP/err" &&
	   "$O" compare "$inst/c1/disk0.qcow2" src.raw >/dev/null 2>&1; then :; else
		BAD=$((BAD + 1)); fail "$what: redeploying c1 fails: $(head -3 "$T_TMP/err")"
	fi
	"$O" -q rm c1 2>/dev/null
	k=$((k + 1))
done
summary "deploy"
echo "# deploy: $INCOMPLETE kills left an incomplete instance (listed as such, removed by rm or replaced by a redeploy)"
left=$(ls -A "$inst")
[ -z "$left" ] && ok "no instance and nothing else is left in the instances directory" || fail "left in instances: $left"
done_testing
