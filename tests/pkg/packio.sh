#!/bin/sh
# packio.sh - how pack writes the OVA: O_DIRECT with several writes in
# flight where the file system takes it (durable, --sync), buffered
# where it does not (forced here with OVFDEPLOY_TEST_NO_DIRECT, and tmpfs
# whatever it takes), buffered without fsync by default (--no-sync is the
# same); members of 0 bytes and with tails that are not a multiple of 512
# or 4096; the default replacing an existing package by exchanging the names.
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/pkg/pkglib.sh"
need openssl tar
mkdir "$T_TMP/w" && cd "$T_TMP/w" || exit 1
O=$OVFDEPLOY

# 5 MiB + 3 crosses the writer's 4 MiB buffers; the package's own end is
# then not a multiple of 4096 either.
make_appliance src app empty.img:0 one.img:1 b511.img:511 b4097.img:4097 four.img:4194304 big.img:5242883
members="app.ovf app.mf empty.img one.img b511.img b4097.img four.img big.img"

# check_ova FILE DESC: it verifies, and tar extracts every member as made.
check_ova() {
	expect_exit 0 "$2: verifies" -- "$O" verify "$1"
	rm -rf x && mkdir x && (cd x && tar xf "../$1") || { fail "$2: tar cannot extract it"; return; }
	same=1
	for f in $members; do cmp -s "src/$f" "x/$f" || { same=0; echo "  | $f differs"; }; done
	[ $same = 1 ] && ok "$2: tar extracts every member byte for byte" || fail "$2: members differ"
	[ -z "$(ls -A . | grep '^\.')" ] && ok "$2: no temporary left" || fail "$2: temporaries left: $(ls -A . | grep '^\.')"
}

expect_exit 0 "pack --sync (durable)" -- "$O" pack --sync src -o durable.ova
check_ova durable.ova "durable"
size=$(stat -c %s durable.ova)
[ $((size % 512)) -eq 0 ] && ok "the package is whole 512-byte blocks ($size bytes)" || fail "odd package size $size"
OVFDEPLOY_TEST_NO_DIRECT=1 expect_exit 0 "pack --sync with O_DIRECT refused" -- "$O" pack --sync src -o buffered.ova
check_ova buffered.ova "buffered fallback"
cmp -s durable.ova buffered.ova && ok "the fallback writes the same bytes" || fail "the fallback wrote other bytes"
expect_exit 0 "pack (default, unsynced)" -- "$O" pack src -o nosync.ova
check_ova nosync.ova "default"
cmp -s durable.ova nosync.ova && ok "the default writes the same bytes as --sync" || fail "the default wrote other bytes"
expect_exit 0 "pack --no-sync (the default, still accepted)" -- "$O" pack --no-sync src -o nosync2.ova
cmp -s durable.ova nosync2.ova && ok "--no-sync writes the same bytes" || fail "--no-sync wrote other bytes"

# Only empty members: nothing but headers and the end blocks.
make_appliance zsrc z z1.img:0 z2.img:0
expect_exit 0 "pack a package of empty members" -- "$O" pack zsrc -o z.ova
expect_exit 0 "it verifies" -- "$O" verify z.ova
[ "$(tar tf z.ova | tr '\n' ' ')" = "z.ovf z.mf z1.img z2.img " ] && ok "tar lists its members" || fail "tar lists: $(tar tf z.ova | tr '\n' ' ')"

# Replacing an existing package: the result is the new one, whole.
cp nosync.ova old.ova
expect_exit 0 "pack --no-sync over an existing package" -- "$O" pack --no-sync src -o nosync.ova
check_ova nosync.ova "--no-sync over an existing package"
expect_exit 0 "pack --sync over an existing package" -- "$O" pack --sync src -o durable.ova
check_ova durable.ova "durable over an existing package"
mkdir adir
expect_exit 3 "pack --no-sync onto a directory fails" -- "$O" pack --no-sync src -o adir
[ -d adir ] && [ -z "$(ls -A . | grep '^\.')" ] && ok "the directory is left alone, no temporary left" || fail "directory or temporaries disturbed"

# tmpfs: whichever way it takes O_DIRECT, the package must be right.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	shm=$(mktemp -d /dev/shm/od-packio.XXXXXX)
	expect_exit 0 "pack --sync onto tmpfs" -- "$O" pack --sync src -o "$shm/app.ova"
	cmp -s durable.ova "$shm/app.ova" && ok "tmpfs: the same bytes" || fail "tmpfs: other bytes"
	expect_exit 0 "pack --no-sync onto tmpfs" -- "$O" pack --no-sync src -o "$shm/app.ova"
	cmp -s durable.ova "$shm/app.ova" && ok "tmpfs --no-sync: the same bytes" || fail "tmpfs --no-sync: other bytes"
	rm -rf "$shm"
else
	echo "# no writable /dev/shm: tmpfs not checked"
fi

# Killed while replacing an existing package with --no-sync (between the
# exchange and the removal of the old file, say): the destination is at
# every moment the old package or the new one, whole, and what a kill
# leaves beside it the next run removes.
make_appliance ksrc k kdisk.img:20971520
"$O" -q pack --no-sync ksrc -o k.ova || fail "pack the first k.ova"
start=$(date +%s%N); "$O" -q pack --no-sync ksrc -o k.ova; ms=$((($(date +%s%N) - start) / 1000000))
bad=0 killed=0 left=0
for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
	d=$(awk -v ms="$ms" -v n="$n" 'BEGIN { srand(n); printf "%.3f", rand() * ms * 1.2 / 1000 }')
	"$O" -q pack --no-sync ksrc -o k.ova & pid=$!
	sleep "$d"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null && : || killed=$((killed + 1))
	"$O" -q verify k.ova >/dev/null 2>&1 || { bad=$((bad + 1)); echo "  | k.ova does not verify after a kill at ${d}s"; }
	[ -n "$(ls -A . | grep '^\.k\.ova\.')" ] && left=$((left + 1))
	"$O" -q pack --no-sync ksrc -o k.ova || bad=$((bad + 1))
	[ -z "$(ls -A . | grep '^\.k\.ova\.')" ] || { bad=$((bad + 1)); echo "  | the next run left $(ls -A . | grep '^\.k')"; }
done
[ $bad = 0 ] && ok "--no-sync replace killed 12 times ($killed while running, $left left a temporary): always a whole package" ||
	fail "--no-sync replace: $bad bad outcomes in 12 kills"

# Which path each mode takes, seen in its system calls.
if command -v strace >/dev/null 2>&1 && strace -f -o /dev/null true 2>/dev/null; then
	direct_ok=0
	dd if=/dev/zero of=probe bs=4096 count=1 oflag=direct 2>/dev/null && direct_ok=1
	rm -f probe
	# trace OUT [OPTION]: pack src to a fresh OUT, the calls in $T_TMP/trace
	trace() { rm -f "$1"; strace -f -e trace=fcntl,fsync,rename,renameat2 -o "$T_TMP/trace" "$O" pack ${2:-} src -o "$1" >/dev/null 2>&1; }
	trace t1.ova --sync
	if [ $direct_ok = 1 ]; then
		grep -q 'F_SETFL.*O_DIRECT' "$T_TMP/trace" && ok "pack --sync writes with O_DIRECT" || fail "pack --sync did not use O_DIRECT"
	fi
	[ "$(grep -c 'fsync(' "$T_TMP/trace")" -ge 2 ] && ok "pack --sync fsyncs the OVA and its directory" || fail "pack --sync did not fsync twice"
	OVFDEPLOY_TEST_NO_DIRECT=1 trace t2.ova --sync
	grep -q 'F_SETFL.*O_DIRECT' "$T_TMP/trace" && fail "the forced fallback still used O_DIRECT" || ok "the forced fallback does not use O_DIRECT"
	trace t3.ova
	grep -qE 'O_DIRECT([^O]|$)|fsync\(' "$T_TMP/trace" && fail "the default used O_DIRECT or fsync" || ok "the default: neither O_DIRECT nor fsync"
	grep -qE 'rename.*t3\.ova' "$T_TMP/trace" && ok "the default still renames a temporary into place" || fail "the default did not rename into place"
	trace t4.ova --no-sync
	grep -qE 'O_DIRECT([^O]|$)|fsync\(' "$T_TMP/trace" && fail "--no-sync used O_DIRECT or fsync" || ok "--no-sync: neither O_DIRECT nor fsync"
	# Over an existing file: exchanged, never rename() over it (ext4
	# then writes the whole new file out inside the rename).
	strace -f -e trace=rename,renameat,renameat2 -o "$T_TMP/trace" "$O" pack src -o t3.ova >/dev/null 2>&1
	grep -q 'RENAME_EXCHANGE' "$T_TMP/trace" && ok "the default replaces an existing package by exchange" ||
		fail "the default did not exchange: $(cat "$T_TMP/trace" | grep rename)"
	check_ova t3.ova "default exchanged"
else
	echo "# strace cannot run here: the paths taken are not checked"
fi
done_testing
