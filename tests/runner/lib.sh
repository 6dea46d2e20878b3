# lib.sh - helpers of the runner's shell tests (sourced after tests/cli/lib.sh).

# Skip unless /dev/kvm opens read-write.
need_kvm() {
	( exec 3<>/dev/kvm ) 2>/dev/null || skip "/dev/kvm cannot be opened read-write"
}

# build_guest NAME: assemble tests/runner/guest.S with -DT_NAME into
# $T_TMP/NAME.bin, a flat 64 KiB firmware image.
build_guest() {
	command -v gcc >/dev/null && command -v ld >/dev/null || skip "gcc or ld missing"
	gcc -m32 -c -DT_$1 -o "$T_TMP/$1.o" "$top_srcdir/tests/runner/guest.S" &&
		ld -m elf_i386 -T "$top_srcdir/tests/runner/guest.ld" -o "$T_TMP/$1.bin" "$T_TMP/$1.o" ||
		skip "cannot build 32-bit test guests (gcc -m32, ld -m elf_i386)"
}

# start_input_guest NAME READY: assemble tests/runner/NAME_guest.S (a flat
# firmware linked by guest.ld) and run it in the background with a screen
# on the UNIX socket $T_TMP/NAME.sock, its console in $T_TMP/NAME.txt; $RPID
# is the runner.  False when it cannot be built (no gcc -m32) or READY does
# not show up on its console.
start_input_guest() {
	gcc -m32 -c -I"$top_srcdir/tests/runner" -o "$T_TMP/$1.o" "$top_srcdir/tests/runner/$1_guest.S" &&
		ld -m elf_i386 -T "$top_srcdir/tests/runner/guest.ld" -o "$T_TMP/$1.bin" "$T_TMP/$1.o" || return 1
	"$OVFDEPLOY" run --firmware "$T_TMP/$1.bin" --vnc "unix:$T_TMP/$1.sock" --console "file:$T_TMP/$1.txt" \
		--timeout 60 2>"$T_TMP/$1.err" &
	RPID=$!
	wait_for "$2" "$T_TMP/$1.txt" 30 "$RPID" || { fail "the $1 guest did not start"; return 0; }
}

# wait_for PATTERN FILE SECONDS PID: wait until FILE matches PATTERN, PID
# exits or SECONDS pass; true if the pattern showed up.
wait_for() {
	n=0
	while [ $n -lt $(($3 * 10)) ]; do
		grep -Eq -- "$1" "$2" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || break
		sleep 0.1
		n=$((n + 1))
	done
	grep -Eq -- "$1" "$2" 2>/dev/null
}
