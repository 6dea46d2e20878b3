#!/bin/sh
# fuzz-script.sh - scripts/fuzz builds every libFuzzer harness and runs each
# for 2 seconds without a finding, and it does fail when a harness crashes.
# Skipped (77) without clang or libFuzzer's runtime.
. "${top_srcdir:-.}/tests/cli/lib.sh"
: "${top_builddir:=.}"

command -v "${CLANG:-clang}" >/dev/null 2>&1 || skip "clang is not installed (Debian: clang libclang-rt-14-dev)"
cat >"$T_TMP/probe.c" <<'C'
int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
{
	if (n > 1 && d[0] == 'Z') { volatile int *p = 0; *p = 1; } /* a crash to find */
	return 0;
}
C
"${CLANG:-clang}" -g -fsanitize=fuzzer,address,undefined -o "$T_TMP/crasher" "$T_TMP/probe.c" >"$T_TMP/probe.log" 2>&1 ||
	skip "clang cannot link a libFuzzer program (Debian: libclang-rt-14-dev): $(head -1 "$T_TMP/probe.log")"

# In a source-tree build the binaries and grown corpora stay in
# tests/fuzz/out for the next run; in a separate build tree (distcheck)
# they go to a scratch directory, which is removed.
if [ "$(cd "$top_builddir" && pwd)" = "$(cd "$top_srcdir" && pwd)" ]; then
	out=$top_builddir/tests/fuzz/out
else
	out=$T_TMP/fuzz-out
fi
fuzz() { FUZZ_BUILDDIR=$top_builddir sh "$top_srcdir/scripts/fuzz" "$@"; }

FUZZ_OUT=$out
export FUZZ_OUT
expect_exit 0 "every harness builds and runs 2 s without a finding" -- fuzz 2
sed 's/^/  /' "$T_TMP/out"
expect_grep '^[1-9][0-9]* passed, 0 failed$' "$T_TMP/out" "a summary line"
n=$(grep -c ': ok, [0-9][0-9]* executions' "$T_TMP/out")
want=$(fuzz --list | wc -w)
if [ "$n" -eq "$want" ]; then ok "an execution count for each harness"; else
	fail "$n execution counts for $want harnesses"
fi

# A harness that crashes on an input starting with Z, seeded with one:
# scripts/fuzz must say so, keep the input and exit 1.
mkdir -p "$T_TMP/bad/bin"
cp "$T_TMP/crasher" "$T_TMP/bad/bin/fuzz_blk"
touch "$T_TMP/bad/bin/fuzz_blk" # newer than the sources: not rebuilt
mkdir -p "$T_TMP/bad/corpus/blk"
printf 'ZZZZ' >"$T_TMP/bad/corpus/blk/z"
FUZZ_OUT=$T_TMP/bad
expect_exit 1 "a crashing harness fails the run" -- fuzz 2 blk
expect_grep '^0 passed, 1 failed$' "$T_TMP/out" "the summary counts it"
expect_grep 'input kept: .*/artifacts/blk/crash-' "$T_TMP/out" "the crashing input is kept"
done_testing
