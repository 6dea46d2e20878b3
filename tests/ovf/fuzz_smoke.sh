#!/bin/sh
# fuzz_smoke.sh - the fuzz harness, built with the project's compiler, over
# the sample and the real-world corpus with deterministic mutations.
. "${top_srcdir:-.}/tests/cli/lib.sh"
smoke=${top_builddir:-.}/tests/fuzz/fuzz_smoke
set -- "$top_srcdir/samples/tiny.ovf"
if [ -n "$SHARED" ] && [ -d "$SHARED/corpus/real-world" ]; then
	for f in "$SHARED"/corpus/real-world/*.ovf; do set -- "$@" "$f"; done
fi
expect_exit 0 "fuzz harness over $# inputs and their mutations" -- "$smoke" "$@"
cat "$T_TMP/out"
done_testing
