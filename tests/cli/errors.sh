#!/bin/sh
# errors.sh - errors a new user meets say what is wrong and what to do
# (issue 13).  Each case names the file, the problem, and the way out.
. "${top_srcdir:-.}/tests/cli/lib.sh"
case $OVFDEPLOY in /*) O=$OVFDEPLOY ;; *) O=$PWD/$OVFDEPLOY ;; esac
top_srcdir=$(cd "$top_srcdir" && pwd)
. "$top_srcdir/tests/deploy/deploylib.sh"
cd "$T_TMP" || exit 1

# A file named .ova that is not a tar is called that, by every command
# that reads packages (not "NUL byte in the descriptor").
head -c 102400 /dev/urandom > random.ova
: > empty.ova
head -c 4096 /dev/zero > zeros.ova
head -c 100 /dev/urandom > short.ova
printf '<?xml version="1.0"?>\n<Envelope/>\n' > desc.ova
for c in inspect validate verify; do
	expect_exit 1 "$c of random bytes named .ova fails" -- "$O" $c random.ova
	expect_grep "^ovfdeploy: random.ova: not a tar archive \(OVA packages are tar files\)" "$T_TMP/err" \
		"$c: random bytes are 'not a tar archive'"
done
expect_exit 1 "unpack of random bytes named .ova fails" -- "$O" unpack random.ova out
expect_grep "random.ova: not a tar archive \(OVA packages are tar files\)" "$T_TMP/err" "unpack says so too"
expect_exit 1 "deploy of random bytes named .ova fails" -- "$O" deploy random.ova --accept-eula
expect_grep "random.ova: not a tar archive \(OVA packages are tar files\)" "$T_TMP/err" "deploy says so too"
expect_exit 1 "an empty .ova" -- "$O" inspect empty.ova
expect_grep "empty.ova: not a tar archive \(OVA packages are tar files\): an empty file" "$T_TMP/err" "an empty .ova is named so"
expect_exit 1 "an .ova of zeros" -- "$O" inspect zeros.ova
expect_grep "zeros.ova: not a tar archive .*no members" "$T_TMP/err" "an .ova of zeros is not a tar"
expect_exit 1 "a short .ova" -- "$O" inspect short.ova
expect_grep "short.ova: not a tar archive .*100 bytes.*download" "$T_TMP/err" "a short .ova: less than a header, download?"
expect_exit 1 "a descriptor named .ova" -- "$O" inspect desc.ova
expect_grep "desc.ova: not a tar archive .*XML.*name it \.ovf" "$T_TMP/err" "a descriptor named .ova: name it .ovf"
# A tar with a bad header further on is corrupt, not "not a tar".
mkdir t && echo hi > t/a && head -c 2000 /dev/urandom > t/b && (cd t && tar cf ../t.ova a b)
printf 'garbage!' | dd of=t.ova bs=1 seek=1024 conv=notrunc 2>/dev/null
expect_exit 1 "a damaged tar" -- "$O" verify t.ova
expect_grep "t.ova: corrupt tar: bad header checksum at offset 1024" "$T_TMP/err" "a damaged tar is called corrupt, with the offset"

# Deploying with an unusable TMPDIR: the environment CD's writer keeps its
# temporary file in the instance directory, so the deploy works.
if command -v qemu-img >/dev/null; then
	export OVFDEPLOY_HOME="$T_TMP/home"
	OVFDEPLOY=$O make_tiny_app 16M
	TMPDIR="$T_TMP/no-such-dir" expect_exit 0 "deploy with a TMPDIR that does not exist" -- \
		"$O" deploy tiny.ova --accept-eula --name tmpless
	[ -s "$OVFDEPLOY_HOME/instances/tmpless/env.iso" ] && ok "the environment CD was written" || fail "no env.iso"
	[ -z "$(ls -A "$OVFDEPLOY_HOME/instances/tmpless" | grep -i libarchive)" ] && ok "no temporary left in the instance" ||
		fail "temporaries left: $(ls -A "$OVFDEPLOY_HOME/instances/tmpless")"
	# The package an instance reads its disks from was moved: start says
	# so and how to recover, before anything runs (not QEMU's "Could not
	# open backing file").
	mv tiny.ova moved.ova
	expect_exit 1 "start after the package moved fails" -- "$O" start tmpless
	expect_grep "instance 'tmpless': its disks read the package .*/tiny.ova, which is gone.*put it back.*ovfdeploy rm tmpless" \
		"$T_TMP/err" "the error names the package and the ways out"
	mv moved.ova tiny.ova
	mkdir full && touch full/f
	expect_exit 2 "unpack into a directory with files" -- "$O" unpack tiny.ova full
	expect_grep "full: already exists and is not an empty directory: give a new or empty DIR" "$T_TMP/err" \
		"unpack says what DIR it needs"
	# A wrong OVFDEPLOY_QEMU is named as the culprit, not a missing package.
	"$O" -q deploy tiny.ova --accept-eula --name viaqemu --backend qemu >/dev/null 2>&1 || fail "deploy viaqemu"
	OVFDEPLOY_QEMU="$T_TMP/no-qemu" expect_exit 3 "start with OVFDEPLOY_QEMU naming nothing fails" -- "$O" start viaqemu
	expect_grep "cannot run $T_TMP/no-qemu: .*OVFDEPLOY_QEMU names it: correct it, or unset it" "$T_TMP/err" \
		"the error blames OVFDEPLOY_QEMU and says what to do"
	expect_exit 3 "deploy with a missing --props-file" -- "$O" deploy tiny.ova --accept-eula --props-file nofile
	expect_grep "^ovfdeploy: --props-file: nofile: No such file" "$T_TMP/err" "the error names the option"
else
	echo "# qemu-img missing: deploy with a bad TMPDIR not tried"
fi

# Outputs into a directory that does not exist: the output is named, not
# our temporary, and so is the missing directory.
truncate -s 1M s.raw
expect_exit 3 "convert into a missing directory" -- "$O" convert s.raw nodir/x.qcow2
expect_grep "^ovfdeploy: nodir/x.qcow2: cannot be written: the directory nodir does not exist$" "$T_TMP/err" \
	"convert names the output and the missing directory"
expect_exit 3 "pack --from-disk into a missing directory" -- "$O" pack --from-disk s.raw --name x -o nodir/x.ova
expect_grep "^ovfdeploy: nodir/x.ova: cannot be written: the directory nodir does not exist$" "$T_TMP/err" \
	"pack --from-disk names the output, not its working directory"
if [ -f tiny.ova ]; then
	expect_exit 3 "unpack into a missing directory" -- "$O" unpack tiny.ova nodir/x
	expect_grep "^ovfdeploy: nodir/x: cannot be made: the directory nodir does not exist$" "$T_TMP/err" \
		"unpack names the destination and the missing directory"
fi
# --ca-file naming nothing is caught even when the package is unsigned.
for c in verify unpack deploy; do
	expect_exit 2 "$c --ca-file naming nothing is a usage error" -- "$O" $c --ca-file nocerts.pem random.ova x
	expect_grep "ovfdeploy $c: --ca-file nocerts.pem: No such file" "$T_TMP/err" "$c: the error names the option and the file"
done
expect_exit 2 "convert -f with an unknown format" -- "$O" convert -f vhd s.raw x.raw
expect_grep "s.raw: unknown or unsupported image format 'vhd' \(raw, qcow2 and vmdk are known\)" "$T_TMP/err" \
	"convert -f names the formats it knows"
expect_exit 2 "run with nothing to boot is refused (not SeaBIOS's endless 'No bootable device')" -- "$O" run
expect_grep "nothing to boot: give --disk FILE .* or --kernel FILE" "$T_TMP/err" "and says what to give"
done_testing
