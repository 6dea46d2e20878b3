# deploylib.sh - helpers for the deploy tests (sourced after tests/cli/lib.sh).

# make_tiny_app SIZE: in the current directory, the sample descriptor around
# a SIZE disk (truncate's units) holding a marker: d.raw, the unpacked
# appliance in app/ and the package tiny.ova.  Exits the test on failure.
make_tiny_app() {
	mkdir app
	truncate -s "$1" d.raw
	printf 'ovfdeploy-marker' | dd of=d.raw conv=notrunc 2>/dev/null
	"$OVFDEPLOY" -q convert -O vmdk -o subformat=streamOptimized d.raw app/tiny-disk1.vmdk &&
		cp "$top_srcdir/samples/tiny.ovf" app/ &&
		"$OVFDEPLOY" -q pack app/tiny.ovf -o tiny.ova || { fail "making the test appliance"; done_testing; exit 1; }
}
