#!/bin/sh
# basics.sh - the CLI skeleton: help, version, usage errors, exit codes.
. "${top_srcdir:-.}/tests/cli/lib.sh"

expect_exit 0 "--help exits 0" -- "$OVFDEPLOY" --help
expect_grep "convert" "$T_TMP/out" "--help lists commands"
expect_exit 0 "--version exits 0" -- "$OVFDEPLOY" --version
expect_grep "^ovfdeploy [0-9]" "$T_TMP/out" "--version prints the version"
expect_exit 2 "no arguments is a usage error" -- "$OVFDEPLOY"
expect_exit 2 "unknown command is a usage error" -- "$OVFDEPLOY" frobnicate
expect_grep "unknown command" "$T_TMP/err" "unknown command is named"
for c in inspect validate verify pack unpack convert check info compare run deploy; do
	expect_exit 0 "$c --help exits 0" -- "$OVFDEPLOY" $c --help
done
done_testing
