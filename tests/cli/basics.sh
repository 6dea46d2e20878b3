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

# Options may follow the operands, as in qemu-img (`check disk.qcow2 --json`);
# `--` ends the options.
if command -v qemu-img >/dev/null; then
	qemu-img create -q -f qcow2 "$T_TMP/x.qcow2" 1M
	for c in check info; do
		expect_exit 0 "$c IMAGE --json" -- "$OVFDEPLOY" $c "$T_TMP/x.qcow2" --json
		expect_grep '"format": "qcow2"' "$T_TMP/out" "$c: --json after the image is honoured"
	done
	expect_exit 0 "compare A B -q" -- "$OVFDEPLOY" compare "$T_TMP/x.qcow2" "$T_TMP/x.qcow2" -q
	expect_exit 0 "convert SRC DST -O raw" -- "$OVFDEPLOY" convert "$T_TMP/x.qcow2" "$T_TMP/x.raw" -O raw
	expect_exit 0 "the output is raw" -- "$OVFDEPLOY" info "$T_TMP/x.raw" --json
	expect_grep '"format": "raw"' "$T_TMP/out" "convert: -O after the operands is honoured"
	expect_exit 2 "-- ends the options" -- "$OVFDEPLOY" check -- "$T_TMP/x.qcow2" --json
fi
expect_exit 0 "inspect FILE --json" -- "$OVFDEPLOY" inspect "$top_srcdir/samples/tiny.ovf" --json
expect_grep '^[{]' "$T_TMP/out" "inspect: --json after the file is honoured"
expect_exit 0 "validate FILE -q" -- "$OVFDEPLOY" validate "$top_srcdir/samples/tiny.ovf" -q
done_testing
