#!/bin/sh
# crash.sh - crash consistency: 'convert', 'pack', 'unpack', 'export' and 'deploy' are
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

# A campaign kills one command many times.  The command is a template, $tmpl,
# evaluated with $v (the variant under test) and $dest (the destination) set.
# kill_once: start $tmpl, SIGKILL it after a random delay in [0, 1.2 x its
# measured duration $DUR_MS], reap it.  Sets KILLED=1 when it was still
# running (it may have finished first: that must be fine too) and $what to
# the words that name this kill in failures.
kill_once() {
	d=$(rand_delay "$DUR_MS")
	what="$name $v killed after ${d}s"
	# exec: the pid killed is the command's own, not that of a shell around it.
	eval "exec $tmpl" >/dev/null 2>"$T_TMP/kill.err" &
	pid=$!
	sleep "$d"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	KILLED=0
	case $rc in
	137) KILLED=1 ;;
	0) ;;
	*) fail "$name $v exited $rc by itself (before the kill after ${d}s)"; sed 's/^/  | /' "$T_TMP/kill.err" | head -5 ;;
	esac
}

# bad WORDS: the kill left a destination that is neither absent nor complete.
bad() { BAD=$((BAD + 1)); fail "$what: $*"; }

# leftovers DIR PATTERN: names in DIR (hidden ones included) matching the
# extended regex PATTERN, on one line.
leftovers() { ls -A "$1" 2>/dev/null | grep -E -- "$2" | tr '\n' ' '; }

# after_kill DIR PATTERN: when a temporary was left in DIR, the next complete
# run of $tmpl must remove it.
after_kill() {
	dir=$1; pat=$2
	left=$(leftovers "$dir" "$pat")
	[ -z "$left" ] && return 0
	LEFT_SEEN=$((LEFT_SEEN + 1))
	eval "$tmpl" >/dev/null 2>"$T_TMP/err"
	rc=$?
	left2=$(leftovers "$dir" "$pat")
	if [ $rc -eq 0 ] && [ -z "$left2" ]; then CLEANED=$((CLEANED + 1)); else
		fail "$what: the next run (exit $rc) did not remove the leftover temporaries: $left2"
		sed 's/^/  | /' "$T_TMP/err" | head -5
	fi
}

# campaign NAME TEMPLATE VARIANT...: each variant runs once to $probe to
# measure it (then ${NAME}_reset removes the probe), then $KILLS runs to $out,
# over the variants in turn, are killed at random moments; before each,
# ${NAME}_reset clears $out, after each ${NAME}_check judges what the kill
# left (and calls after_kill).
campaign() {
	name=$1; tmpl=$2; shift 2
	nvar=$# KILLED_N=0 BAD=0 LEFT_SEEN=0 CLEANED=0 INCOMPLETE=0 FAILS0=$T_FAILS
	i=0 durs=
	for v in "$@"; do
		dest=$probe
		measure eval "$tmpl"
		eval "dur_$i=\$DUR_MS"
		durs="$durs $DUR_MS"
		"${name}_reset"
		i=$((i + 1))
	done
	echo "# $name durations (ms):$durs"
	k=0
	while [ $k -lt "$KILLS" ]; do
		j=$((k % nvar))
		eval "v=\${$((j + 1))}; DUR_MS=\$dur_$j"
		dest=$out
		"${name}_reset"
		kill_once
		KILLED_N=$((KILLED_N + KILLED))
		"${name}_check"
		k=$((k + 1))
	done
	summary "$name"
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
convert_reset() { rm -f "$dest"; }
convert_check() {
	if [ -e "$dest" ] && { ! qemu-img compare -q src.raw "$dest" 2>/dev/null || ! "$O" compare src.raw "$dest" >/dev/null 2>&1; }; then
		bad "$dest exists and differs from the source"
	fi
	after_kill conv '^\.'
}
probe=conv/probe; out=conv/out
campaign convert '"$O" convert $v src.qcow2 "$dest"' "-O qcow2" "-O qcow2 -c -j 1" "-O vmdk -c" "-O raw"

# ---- pack -------------------------------------------------------------------
mkdir app packs
"$O" -q convert -O vmdk -c src.raw app/tiny-disk1.vmdk || fail "make the appliance disk"
cp "$top_srcdir/samples/tiny.ovf" app/
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out key.crt -days 2 -subj /CN=crash >/dev/null 2>&1 \
	&& cat key.crt >> key.pem && sign="--sign key.pem" || sign=
pack_reset() { rm -f "$dest"; }
pack_check() {
	if [ -e "$dest" ] && ! "$O" verify --ca-file key.crt "$dest" >/dev/null 2>&1; then
		bad "$dest exists and does not verify"
	fi
	after_kill packs '^\.'
}
probe=packs/probe.ova; out=packs/out.ova
campaign pack '"$O" pack $v app/tiny.ovf -o "$dest"' "" "--compress" "--chunk-size 4M $sign"

# ---- unpack -----------------------------------------------------------------
"$O" -q pack app/tiny.ovf -o plain.ova && "$O" -q pack --compress app/tiny.ovf -o gz.ova || fail "pack the inputs"
mkdir un
unpack_reset() { rm -rf "$dest"; }
unpack_check() {
	# Complete: every file there, and the manifest checks.
	if [ -e "$dest" ] && { ! [ -f "$dest/tiny.ovf" ] || ! [ -f "$dest/tiny.mf" ] || ! [ -f "$dest/tiny-disk1.vmdk" ] ||
	   ! "$O" verify "$dest" >/dev/null 2>&1; }; then
		bad "$dest is incomplete: $(ls -A "$dest" | tr '\n' ' ')"
	fi
	rm -rf "$dest"
	after_kill un '^\.'
}
probe=un/probe; out=un/out
campaign unpack '"$O" unpack "$v" "$dest"' plain.ova gz.ova

# ---- export ------------------------------------------------------------------
# A deployed instance (base from the compressed package, one change in its
# overlay) back into an OVA: each kill leaves no OVA or one that verifies,
# and the instance stays usable (not taken for running, exports again).
"$O" -q deploy --accept-eula --name ex gz.ova && "$O" -q compare "$OVFDEPLOY_HOME/instances/ex/disk0.qcow2" src.raw ||
	fail "deploy the instance to export"
mkdir exp
export_reset() { rm -f "$dest"; }
export_check() {
	if [ -e "$dest" ] && ! "$O" verify --ca-file key.crt "$dest" >/dev/null 2>&1; then
		bad "$dest exists and does not verify"
	fi
	"$O" list >list.out 2>&1
	grep -Eq '^ex +stopped ' list.out || bad "the instance is not listed as stopped: $(cat list.out)"
	after_kill exp '^\.'
}
probe=exp/probe.ova; out=exp/out.ova
campaign export '"$O" export ex $v -o "$dest"' "" "$sign"
"$O" -q export ex -o exp/last.ova && tar xOf exp/last.ova ex-disk1.vmdk >exp/last.vmdk &&
	"$O" -q compare exp/last.vmdk src.raw && ok "after the kills the instance exports whole" ||
	fail "after the kills the instance does not export whole"
"$O" -q rm ex || fail "rm the exported instance"

# ---- deploy -----------------------------------------------------------------
# 'deploy' without --start only makes the instance: nothing boots.  The
# compressed package makes it do real work (the disk becomes a base image).
inst=$OVFDEPLOY_HOME/instances
deploy_reset() {
	[ -e "$inst/$dest" ] || return 0
	"$O" -q rm "$dest" || fail "rm $dest"
}
deploy_check() {
	"$O" list >list.out 2>list.err
	rc=$?
	partial=0
	if [ -e "$inst/$dest" ]; then
		# Complete (stopped), or left incomplete by the kill: either way
		# list says so without failing.
		if [ $rc -ne 0 ] || ! grep -Eq "^$dest +(stopped|incomplete) " list.out; then
			bad "list (exit $rc) does not show $dest stopped or incomplete: $(cat list.out list.err)"
		fi
		grep -Eq "^$dest +incomplete " list.out && partial=1 && INCOMPLETE=$((INCOMPLETE + 1))
		# Every other incomplete one is left for the redeploy below to
		# replace; the others must go with rm.
		if [ $partial -eq 1 ] && [ $((INCOMPLETE % 2)) -eq 0 ]; then :
		elif ! "$O" rm "$dest" >/dev/null 2>"$T_TMP/err"; then
			bad "rm $dest fails: $(cat "$T_TMP/err")"
		fi
	elif [ $rc -ne 0 ] || grep -q "$dest" list.out; then
		bad "no instance, yet list (exit $rc) says: $(cat list.out list.err)"
	fi
	if [ -e "$inst/$dest" ] && ! { [ $partial -eq 1 ] && [ $((INCOMPLETE % 2)) -eq 0 ]; }; then
		bad "the instance directory is still there after rm"
		rm -rf "${inst:?}/$dest"
	fi
	# The next deploy, under another name, removes what the kill left.
	dest=c2
	after_kill "$inst" '^\.'
	"$O" -q rm c2 2>/dev/null
	dest=$out
	# A redeploy under the same name works and gives a usable instance.
	if "$O" -q deploy --accept-eula --name "$dest" "$v" >/dev/null 2>"$T_TMP/err" &&
	   "$O" compare "$inst/$dest/disk0.qcow2" src.raw >/dev/null 2>&1; then :; else
		bad "redeploying $dest fails: $(head -3 "$T_TMP/err")"
	fi
	"$O" -q rm "$dest" 2>/dev/null
}
probe=probe; out=c1
campaign deploy '"$O" deploy --accept-eula --name "$dest" "$v"' plain.ova gz.ova
echo "# deploy: $INCOMPLETE kills left an incomplete instance (listed as such, removed by rm or replaced by a redeploy)"
left=$(ls -A "$inst")
[ -z "$left" ] && ok "no instance and nothing else is left in the instances directory" || fail "left in instances: $left"
done_testing
