# lib.sh - helpers of the hardening tests (sourced after tests/cli/lib.sh).

# now_ms: wall-clock milliseconds.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# measure CMD...: run CMD to completion (it must succeed); DUR_MS is its
# wall-clock duration in milliseconds (at least 1).
measure() {
	t0=$(now_ms)
	"$@" >/dev/null 2>"$T_TMP/measure.err" || { fail "measure: $* failed"; sed 's/^/  | /' "$T_TMP/measure.err" | head -5; }
	DUR_MS=$(( $(now_ms) - t0 ))
	[ "$DUR_MS" -gt 0 ] || DUR_MS=1
}

# rand_u16: a random number in 0..65535.
rand_u16() { od -An -N2 -tu2 /dev/urandom | tr -d ' '; }

# rand_delay MS: a random delay in seconds (for sleep) in [0, 1.2 x MS],
# so that some kills land after a normal run would have ended.
rand_delay() {
	ms=$(( $(rand_u16) * $1 * 12 / 10 / 65535 ))
	printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}

# sanitizer_build: true when the binary was built with ASan (it reserves
# terabytes of virtual memory, so 'ulimit -v' cannot apply to it).
sanitizer_build() {
	grep -q -- '--enable-sanitizers' "${top_builddir:-.}/config.log" 2>/dev/null && return 0
	nm -D "$OVFDEPLOY" 2>/dev/null | grep -q '__asan_init' && return 0
	nm "$OVFDEPLOY" 2>/dev/null | grep -q '__asan_init'
}
