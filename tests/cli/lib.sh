# lib.sh - shared helpers for the shell tests (sourced, not run).
# Each test prints "ok"/"FAIL" lines and exits 0 (pass), 1 (fail) or 77 (skip).
set -u
: "${OVFDEPLOY:=${top_builddir:-.}/ovfdeploy}"
: "${top_srcdir:=.}"
T_FAILS=0
T_COUNT=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/od-test.XXXXXX")
trap 'rm -rf "$T_TMP"' EXIT

# SHARED: the read-only ../shared folder beside the checkout, when present.
SHARED=${OVFDEPLOY_SHARED:-$top_srcdir/../shared}
[ -d "$SHARED" ] || SHARED=

ok()   { T_COUNT=$((T_COUNT + 1)); echo "ok - $*"; }
fail() { T_COUNT=$((T_COUNT + 1)); T_FAILS=$((T_FAILS + 1)); echo "FAIL - $*"; }
skip() { echo "SKIP: $*"; exit 77; }

# expect_exit CODE DESCRIPTION -- COMMAND...: run COMMAND, compare its exit code.
expect_exit() {
	want=$1; desc=$2; shift 3
	"$@" >"$T_TMP/out" 2>"$T_TMP/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$desc"; else
		fail "$desc (exit $got, expected $want)"; sed 's/^/  | /' "$T_TMP/err" | head -20
	fi
}
# expect_grep PATTERN FILE DESCRIPTION
expect_grep() {
	if grep -Eq -- "$1" "$2"; then ok "$3"; else fail "$3 (no '$1' in output)"; sed 's/^/  | /' "$2" | head -20; fi
}
done_testing() {
	echo "$((T_COUNT - T_FAILS)) passed, $T_FAILS failed"
	[ "$T_FAILS" -eq 0 ]
}

# Slow nested-KVM boots: the sanitizer pass runs a representative few of
# them (tests/nested/boots.sh and lifecycle.sh in their short form) to keep
# the whole CI run within its time; the others run in the plain pass.
# OVFDEPLOY_NESTED_FEW=0 runs them in a sanitizer build too.
plain_pass_only() {
	if [ "${OVFDEPLOY_NESTED_FEW:-}" != 0 ] &&
		grep -q -e '--enable-sanitizers' "${top_builddir:-.}/config.status" 2>/dev/null; then
		skip "sanitizer build: $1 runs in the plain pass (this pass boots a representative few in tests/nested)"
	fi
}
