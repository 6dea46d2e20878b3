#!/bin/sh
# sync.sh - which outputs are durable (issue 13).  Bulk outputs that can be
# made again (convert, pack, unpack) are written to a temporary file and
# renamed into place, but fsynced only with --sync, as qemu-img convert and
# tar; instance state (the instance configuration, the verify cache) is
# fsynced always.  A writer killed at any moment leaves nothing at the
# destination.
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/pkg/pkglib.sh"
. "$top_srcdir/tests/deploy/deploylib.sh"
need() { for c in "$@"; do command -v "$c" >/dev/null || skip "$c not installed"; done; }
need openssl qemu-img strace
strace -f -o /dev/null true 2>/dev/null || skip "strace cannot trace here"
case $OVFDEPLOY in /*) O=$OVFDEPLOY ;; *) O=$PWD/$OVFDEPLOY ;; esac
top_srcdir=$(cd "$top_srcdir" && pwd)
cd "$T_TMP" || exit 1

# fsyncs CMD...: how many fsync/fdatasync calls CMD makes (its output to
# $T_TMP/out); -1 when CMD fails, so that no count passes by accident.
fsyncs() {
	# LeakSanitizer cannot run under ptrace: leaks are other tests' business.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -y -e trace=fsync,fdatasync -o "$T_TMP/trace" "$@" >"$T_TMP/out" 2>&1 || {
		sed 's/^/  | /' "$T_TMP/out" >&2; echo -1; return; }
	grep -c 'sync(' "$T_TMP/trace"
}
no_tmp() { [ -z "$(ls -A . | grep '^\.')" ]; }

head -c 3145728 /dev/urandom > src.raw
truncate -s 8M src.raw

# convert
n=$(fsyncs "$O" convert -O qcow2 src.raw a.qcow2)
[ "$n" = 0 ] && ok "convert: no fsync by default" || fail "convert made $n fsyncs by default"
n=$(fsyncs "$O" convert --sync -O qcow2 src.raw b.qcow2)
[ "$n" -ge 2 ] && ok "convert --sync: file and directory fsynced ($n)" || fail "convert --sync made $n fsyncs"
expect_exit 0 "convert's default output is whole" -- qemu-img compare a.qcow2 src.raw
n=$(fsyncs "$O" convert -O vmdk -c src.raw c.vmdk)
[ "$n" = 0 ] && ok "convert to streamOptimized: no fsync by default" || fail "convert -c vmdk made $n fsyncs"

# pack and unpack
make_appliance app app d1.img:2000000
n=$(fsyncs "$O" pack app -o app.ova)
[ "$n" = 0 ] && ok "pack: no fsync by default" || fail "pack made $n fsyncs by default"
n=$(fsyncs "$O" pack --sync app -o app2.ova)
[ "$n" -ge 2 ] && ok "pack --sync: file and directory fsynced ($n)" || fail "pack --sync made $n fsyncs"
n=$(fsyncs "$O" pack --no-sync app -o app3.ova)
[ "$n" = 0 ] && ok "pack --no-sync (compatibility) is the default" || fail "pack --no-sync made $n fsyncs"
n=$(fsyncs "$O" unpack app.ova out1)
[ "$n" = 0 ] && ok "unpack: no fsync by default" || fail "unpack made $n fsyncs by default"
cmp -s app/d1.img out1/d1.img && ok "unpack's default output is whole" || fail "unpack output differs"
n=$(fsyncs "$O" unpack --sync app.ova out2)
# the files (app.ovf, app.mf, d1.img), the directory, its parent
[ "$n" -ge 5 ] && ok "unpack --sync: files and directories fsynced ($n)" || fail "unpack --sync made $n fsyncs"
n=$(fsyncs "$O" unpack --no-sync app.ova out3)
[ "$n" = 0 ] && ok "unpack --no-sync (compatibility) is the default" || fail "unpack --no-sync made $n fsyncs"
n=$(fsyncs "$O" pack --from-disk src.raw --name fd -o fd.ova)
[ "$n" = 0 ] && ok "pack --from-disk: no fsync by default (nor of its temporaries)" || fail "pack --from-disk made $n fsyncs"
n=$(fsyncs "$O" pack --sync --from-disk src.raw --name fd -o fd2.ova)
[ "$n" -eq 2 ] && ok "pack --sync --from-disk: only the OVA and its directory are fsynced" || fail "pack --sync --from-disk made $n fsyncs"
no_tmp && ok "no temporaries left" || fail "temporaries left: $(ls -A | grep '^\.')"

# Instance state stays durable whatever the bulk default: deploy (without
# starting) fsyncs the instance configuration and the verify cache.
export OVFDEPLOY_HOME="$T_TMP/home"
mkdir tiny && (cd tiny && OVFDEPLOY=$O make_tiny_app 16M)
n=$(fsyncs "$O" deploy tiny/tiny.ova --name keep --accept-eula)
[ "$n" -ge 2 ] && ok "deploy fsyncs the instance's state ($n)" || fail "deploy made $n fsyncs"
grep -q 'fsync(.*instances/keep/\.' "$T_TMP/trace" && ok "deploy fsyncs the instance's configuration" ||
	{ fail "deploy did not fsync a file of the instance"; sed 's/^/  | /' "$T_TMP/trace" | grep sync; }
grep -q 'fsync(.*verified' "$T_TMP/trace" && ok "deploy fsyncs the verify cache entry" ||
	{ fail "deploy did not fsync the verify cache"; sed 's/^/  | /' "$T_TMP/trace" | grep sync; }

# Killed writers leave nothing at the destination (and nothing beside it
# once the next writer to it has run).
head -c 67108864 /dev/urandom > big.raw
bad=0 empty=0
for i in 1 2 3 4 5 6; do
	"$O" -q convert -O qcow2 big.raw k.qcow2 & pid=$!
	sleep "0.0$i"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
	if [ -e k.qcow2 ]; then
		qemu-img compare -q k.qcow2 big.raw || bad=$((bad + 1))
		rm -f k.qcow2
	else
		empty=$((empty + 1))
	fi
done
[ $bad = 0 ] && ok "a killed convert left nothing ($empty times) or a whole image at the destination" ||
	fail "a killed convert left a partial image $bad times in 6"
"$O" -q convert -O qcow2 src.raw k.qcow2 && no_tmp && ok "the next convert removed the killed one's temporary" ||
	fail "temporaries left after the next convert: $(ls -A | grep '^\.')"
make_appliance kapp kapp kd.img:33554432
"$O" -q pack kapp -o kapp.ova || fail "pack kapp"
bad=0 empty=0
for i in 1 2 3 4 5 6; do
	"$O" -q unpack kapp.ova kout & pid=$!
	sleep "0.0$i"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
	if [ -e kout ]; then
		cmp -s kapp/kd.img kout/kd.img || bad=$((bad + 1))
		rm -rf kout
	else
		empty=$((empty + 1))
	fi
done
[ $bad = 0 ] && ok "a killed unpack left nothing ($empty times) or a whole tree at the destination" ||
	fail "a killed unpack left a partial tree $bad times in 6"
"$O" -q unpack kapp.ova kout && no_tmp && ok "the next unpack removed the killed one's temporary" ||
	fail "temporaries left after the next unpack: $(ls -A | grep '^\.')"
done_testing
