#!/bin/sh
# snapshot.sh - `ovfdeploy snapshot/snapshots/revert/snapshot rm` on a
# stopped instance: the disk as it was at a snapshot comes back after
# writes (read through QEMU's and our own qcow2 reader, over chains three
# snapshots deep); removal refuses what others depend on; a damaged
# metadata file (truncated, a flipped byte, another version, a running
# machine's) is refused and the instance left as it was; a snapshot killed
# before its rename is never listed and one killed after it is repaired;
# a running instance is refused.
. "${top_srcdir:-.}/tests/deploy/imglib.sh"
export OVFDEPLOY_HOME="$T_TMP/home"
cd "$T_TMP" || exit 1
holder=
cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	for n in s1 q1; do "$O" stop --timeout 1 "$n" >/dev/null 2>&1; done
	rm -rf "$T_TMP"
}
trap cleanup EXIT

make_tiny_app 16M
expect_exit 0 "deploy an instance" -- "$O" -q deploy tiny.ova --accept-eula --name s1
inst=$OVFDEPLOY_HOME/instances/s1
d=$inst/disk0.qcow2
snaps=$inst/snapshots

# sum: the disk as the guest sees it, read by QEMU and by our own reader;
# prints one checksum, or "mismatch" when the two readers disagree.
sum() {
	rm -f q.raw o.raw
	qemu-img convert -O raw "$d" q.raw 2>qerr || { echo "qemu-img-failed"; return; }
	"$O" -q convert -O raw "$d" o.raw 2>oerr || { echo "convert-failed"; return; }
	a=$(sha256sum <q.raw | cut -c1-64); b=$(sha256sum <o.raw | cut -c1-64)
	[ "$a" = "$b" ] && echo "$a" || echo mismatch
}
write() { qemu-io -f qcow2 -c "write -P $1 $2 64K" "$d" >/dev/null || fail "qemu-io write $1 at $2"; }

expect_exit 0 "snapshot --help" -- "$O" snapshot --help
expect_grep "Usage: ovfdeploy snapshot" "$T_TMP/out" "snapshot --help prints its usage"
expect_exit 0 "revert --help" -- "$O" revert --help
expect_exit 0 "snapshots --help" -- "$O" snapshots --help
expect_exit 2 "no instance name is a usage error" -- "$O" snapshot
expect_exit 2 "a bad tag is a usage error" -- "$O" snapshot s1 ../x
expect_exit 2 "a missing instance" -- "$O" snapshot nosuch t
expect_exit 0 "no snapshots yet" -- "$O" --json snapshots s1
expect_grep '"snapshots": ?\[\]' "$T_TMP/out" "the list is empty"

write 0x11 1M
A=$(sum)
expect_exit 0 "snapshot 'first'" -- "$O" --json snapshot s1 first
expect_grep '"tag": ?"first"' "$T_TMP/out" "--json names the tag"
[ "$(sum)" = "$A" ] && ok "the disk reads the same after the snapshot" || fail "the snapshot changed the disk"
[ ! -w "$snaps/first/disk0.qcow2" ] || [ "$(id -u)" = 0 ] && ok "the frozen disk is read-only" ||
	fail "the frozen disk is writable"
write 0x22 1M
write 0x22 5M
B=$(sum)
[ "$B" != "$A" ] && ok "writes after the snapshot change the disk" || fail "the writes did not show"
expect_exit 0 "snapshot with a default tag" -- "$O" snapshot s1
def=$(ls "$snaps" | grep '^snap-') && ok "the default tag is snap-DATE ($def)" || fail "no snap-* tag: $(ls "$snaps")"
write 0x33 1M
write 0x33 9M
C=$(sum)
expect_exit 0 "snapshot 'third'" -- "$O" snapshot s1 third
expect_exit 2 "a tag taken already" -- "$O" snapshot s1 third
write 0x44 2M

expect_exit 0 "list with --json" -- "$O" --json snapshots s1
python3 - "$T_TMP/out" "$def" <<'PY' && ok "the list: three disk snapshots, oldest first, with date and size" || fail "the list is wrong: $(cat "$T_TMP/out")"
import json, sys
d = json.load(open(sys.argv[1]))
s = d["snapshots"]
tags = sorted([x["tag"] for x in s])
assert tags == sorted(["first", sys.argv[2], "third"]), tags
assert s[0]["tag"] == "first", s
for x in s:
    assert x["kind"] == "disk" and x["bytes"] > 0 and x["date"].endswith("Z"), x
PY
expect_exit 0 "list as text" -- "$O" snapshots s1
expect_grep "^first +[0-9-]+T[0-9:]+Z +disk" "$T_TMP/out" "the text list shows tag, date and kind"

expect_exit 0 "revert to 'first'" -- "$O" revert s1 first
[ "$(sum)" = "$A" ] && ok "after revert the disk is as at 'first'" || fail "revert to first: the disk differs"
expect_exit 0 "revert to the default-tagged snapshot" -- "$O" revert s1 "$def"
[ "$(sum)" = "$B" ] && ok "the disk is as at the second snapshot" || fail "revert to $def: the disk differs"
expect_exit 0 "revert to 'third' (a chain three snapshots deep)" -- "$O" --json revert s1 third
[ "$(sum)" = "$C" ] && ok "the disk is as at 'third'" || fail "revert to third: the disk differs"
write 0x55 3M
expect_exit 0 "revert again to 'third'" -- "$O" revert s1 third
[ "$(sum)" = "$C" ] && ok "a second revert to the same snapshot discards the new writes" || fail "second revert differs"

# removal of a snapshot nothing depends on
expect_exit 0 "revert to the second snapshot" -- "$O" revert s1 "$def"
expect_exit 0 "rm 'third' (nothing depends on it now)" -- "$O" --json snapshot rm s1 third
[ ! -e "$snaps/third" ] && ok "its directory is gone" || fail "third is still there"
expect_exit 2 "rm of a snapshot that is not there" -- "$O" snapshot rm s1 third
[ "$(sum)" = "$B" ] && ok "the disk is untouched by the removal" || fail "rm changed the disk"

# damaged metadata: each refused, the instance left as it was
meta=$snaps/first/snapshot.meta
cp "$meta" meta.good
chmod u+w "$meta"
damage() { cp meta.good "$meta"; chmod u+w "$meta"; python3 - "$meta" "$1" <<'PY'
import struct, sys
p, how = sys.argv[1], sys.argv[2]
b = bytearray(open(p, "rb").read())
def crc32c(data):
    c = 0xffffffff
    for x in data:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82f63b78 if c & 1 else 0)
    return c ^ 0xffffffff
if how == "truncate":
    b = b[:len(b) - 10]
elif how == "flip":
    b[40] ^= 0x20
elif how == "version":
    struct.pack_into("<I", b, 8, 2); struct.pack_into("<I", b, 24, crc32c(b[:24]))
elif how == "backend":
    # a whole, well-formed file of a running machine on another backend
    n = struct.unpack_from("<I", b, 32)[0]
    t = bytes(b[40:40 + n]).replace(b"kind=disk", b"kind=full")
    t = b"".join(l + b"\n" for l in t.split(b"\n") if l and not l.startswith(b"backend="))
    t += b"backend=embedded\nstate.file=state.mig\nstate.bytes=1\nstate.crc32c=00000000\n"
    b = b[:28] + struct.pack("<III", 1, len(t), crc32c(t)) + t
    struct.pack_into("<Q", b, 16, len(b)); struct.pack_into("<I", b, 24, crc32c(b[:24]))
open(p, "wb").write(b)
PY
}
for how in truncate flip version backend; do
	damage $how
	expect_exit 1 "revert to a snapshot with damaged metadata ($how) is refused" -- "$O" revert s1 first
	[ "$(sum)" = "$B" ] && ok "the instance is as it was ($how)" || fail "a refused revert changed the disk ($how)"
done
damage version
"$O" revert s1 first 2>err.txt
expect_grep "version 2, this ovfdeploy reads version 1" err.txt "the version error names both versions"
damage backend
"$O" revert s1 first 2>err.txt
expect_grep "from backend 'embedded'" err.txt "a snapshot from another backend is refused as such"
damage flip
"$O" revert s1 first 2>err.txt
expect_grep "damaged .*checksum" err.txt "a flipped byte is reported as a checksum mismatch"
expect_exit 0 "the list still works with a damaged snapshot" -- "$O" --json snapshots s1
expect_grep '"kind": ?"damaged"' "$T_TMP/out" "it is listed as damaged"
cp meta.good "$meta"
expect_exit 0 "revert works again with the metadata restored" -- "$O" revert s1 first
[ "$(sum)" = "$A" ] && ok "the disk is as at 'first'" || fail "the disk differs after the restored revert"
# a truncated frozen disk (the current disk reads through it too, so it is
# put back afterwards)
cp "$snaps/first/disk0.qcow2" frozen.good
chmod u+w "$snaps/first/disk0.qcow2"
truncate -s -1 "$snaps/first/disk0.qcow2"
expect_exit 1 "a truncated frozen disk is refused" -- "$O" revert s1 first
expect_grep "damaged" "$T_TMP/err" "the error says the disk is damaged"
cat frozen.good >"$snaps/first/disk0.qcow2"
[ "$(sum)" = "$A" ] && ok "the instance is as it was" || fail "the refused revert changed the disk"

# kills: before the rename the snapshot never appears; after it, the next
# command repairs the instance (its disk was the frozen file)
expect_exit 0 "revert to the second snapshot" -- "$O" revert s1 "$def"
OVFDEPLOY_TEST_SNAPSHOT_KILL=before-rename "$O" snapshot s1 killed >/dev/null 2>&1
[ $? -ne 0 ] && ok "the killed snapshot did not succeed" || fail "the kill hook did nothing"
"$O" --json snapshots s1 >list.json
grep -q killed list.json && fail "a killed snapshot is listed" || ok "a killed snapshot is not listed"
grep -q '"first"' list.json && grep -q "\"$def\"" list.json && ok "earlier snapshots are intact" ||
	fail "earlier snapshots went missing: $(cat list.json)"
[ "$(sum)" = "$B" ] && ok "the instance's disk is as before the killed snapshot" || fail "the killed snapshot changed the disk"
ls -a "$snaps" | grep -q '^\.tmp-' && ok "the killed snapshot left its temporary" || fail "no temporary left (was the kill early?)"
OVFDEPLOY_TEST_SNAPSHOT_KILL=after-rename "$O" snapshot s1 late >/dev/null 2>&1
[ $? -ne 0 ] && ok "the late-killed snapshot did not report success" || fail "the after-rename hook did nothing"
expect_exit 0 "the next snapshot command repairs and works" -- "$O" snapshot s1 next
ls -a "$snaps" | grep -q '^\.tmp-' && fail "the temporary was not cleaned" || ok "the old temporary is cleaned"
[ "$(sum)" = "$B" ] && ok "the disk is as before" || fail "the disk differs after the repair"
write 0x66 1M
expect_exit 0 "revert to the late-killed snapshot" -- "$O" revert s1 late
[ "$(sum)" = "$B" ] && ok "the late snapshot holds the disk as it was" || fail "the late snapshot differs"
write 0x77 1M
D=$(sum)
expect_exit 0 "snapshot after revert" -- "$O" snapshot s1 after
[ "$(stat -c %i "$d")" != "$(stat -c %i "$snaps/after/disk0.qcow2")" ] && ok "the instance has its own overlay" ||
	fail "the instance's disk is the frozen file"

# export reads the chain (four snapshots deep) as the guest sees it
expect_exit 0 "export the instance" -- "$O" -q export s1 -o ex.ova
"$O" -q unpack ex.ova ex || fail "unpack the export"
vm=$(ls ex/*.vmdk | head -1)
qemu-img convert -O raw "$vm" ex.raw && [ "$(sha256sum <ex.raw | cut -c1-64)" = "$D" ] &&
	ok "the export holds the disk as it is now" || fail "the exported disk differs"

# removal of snapshots others depend on: their data is merged into the
# dependants (the instance's disk, later snapshots), which read the same
expect_exit 0 "rm the snapshot the instance's disk is based on" -- "$O" snapshot rm s1 after
[ ! -e "$snaps/after" ] && ok "it is gone" || fail "'after' is still there"
[ "$(sum)" = "$D" ] && ok "the instance's disk reads the same after the merge" || fail "the merge changed the disk"
qemu-img check "$d" >/dev/null 2>&1 && ok "the merged disk checks clean (qemu-img check)" || fail "qemu-img check of the merged disk"
expect_exit 0 "rm 'first', which '$def' is based on" -- "$O" snapshot rm s1 first
expect_exit 0 "revert to '$def'" -- "$O" revert s1 "$def"
[ "$(sum)" = "$B" ] && ok "'$def' reads as it did, merged with 'first'" || fail "'$def' changed in the merge"
expect_exit 0 "rm '$def', which the disk and 'late' are based on" -- "$O" --json snapshot rm s1 "$def"
[ "$(sum)" = "$B" ] && ok "the disk reads the same" || fail "the disk changed"
expect_exit 0 "revert to 'late'" -- "$O" revert s1 late
[ "$(sum)" = "$B" ] && ok "'late' reads as it did" || fail "'late' changed in the merge"
"$O" --json snapshots s1 >list.json
python3 -c 'import json,sys; t=sorted(x["tag"] for x in json.load(open(sys.argv[1]))["snapshots"]); assert t==["late","next"], t' list.json &&
	ok "the list holds the two left" || fail "the list: $(cat list.json)"
D=$B
OVFDEPLOY_TEST_SNAPSHOT_KILL=merging "$O" snapshot rm s1 late >/dev/null 2>&1
[ $? -ne 0 ] && ok "an rm killed while merging did not succeed" || fail "the merging kill hook did nothing"
[ -e "$snaps/late" ] && [ "$(sum)" = "$D" ] && ok "the snapshot and the disk are as they were" ||
	fail "a killed merge changed something"
expect_exit 0 "revert to 'late' after the killed rm" -- "$O" revert s1 late
[ "$(sum)" = "$D" ] && ok "'late' reads as it did" || fail "'late' changed"
# 'next' is based on 'late': rm merges 'late' into it, its file and the size
# its metadata records changing together.  Killed with the merged copy
# beside it (merge-recorded) or just after the copy took its place (merged),
# 'next' still validates and reads as it did, and the next command settles
# its metadata.
nmeta=$snaps/next/snapshot.meta
for k in merge-recorded merged; do
	OVFDEPLOY_TEST_SNAPSHOT_KILL=$k "$O" snapshot rm s1 late >/dev/null 2>&1
	[ $? -ne 0 ] && ok "an rm killed at '$k' did not succeed" || fail "the '$k' kill hook did nothing"
	grep -aq '^disk\.0\.merged=' "$nmeta" && ok "'next' records the merged size as its alternative ($k)" ||
		fail "no alternative size in next's metadata at '$k'"
	"$O" --json snapshots s1 >list.json
	grep -q damaged list.json && fail "a snapshot reads as damaged after the '$k' kill: $(cat list.json)" ||
		ok "no snapshot reads as damaged after the '$k' kill"
	expect_exit 0 "revert to 'next' after the '$k' kill" -- "$O" revert s1 next
	[ "$(sum)" = "$B" ] && ok "'next' reads as it did ($k)" || fail "'next' changed in the '$k' kill"
	grep -aq '^disk\.0\.merged=' "$nmeta" && fail "the next command left the alternative size ($k)" ||
		ok "the next command settled next's metadata ($k)"
	ls -a "$snaps/next" | grep -q '^\.merge-' && fail "a merged copy is left beside next's disk ($k)" ||
		ok "no merged copy is left ($k)"
	expect_exit 0 "revert to 'late' after the '$k' kill" -- "$O" revert s1 late
	[ "$(sum)" = "$D" ] && ok "'late' reads as it did ($k)" || fail "'late' changed ($k)"
done
expect_exit 0 "rm 'late' after the killed ones" -- "$O" snapshot rm s1 late
expect_exit 0 "revert to 'next'" -- "$O" revert s1 next
[ "$(sum)" = "$B" ] && ok "'next' reads as it did after the rm" || fail "'next' changed in the rm"
D=$B

# a running instance: whoever runs it holds a write lock on its pid file
hold_pidfile "$inst/pid" ex
echo embedded >"$inst/running-backend"
expect_exit 2 "a running embedded instance is refused" -- "$O" snapshot s1 r
expect_grep "running embedded instance are not supported yet: stop it first, or use --backend qemu" "$T_TMP/err" \
	"the error says what to do"
expect_exit 2 "revert of a running instance is refused" -- "$O" revert s1 next
expect_exit 2 "rm of the snapshot a running instance's disk is based on is refused" -- "$O" snapshot rm s1 next
expect_grep "is running: stop it first" "$T_TMP/err" "... saying it is running"
[ -e "$snaps/next" ] && ok "the snapshot stays" || fail "the refused rm removed it"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; holder=
rm -f "$inst/running-backend"
[ "$(sum)" = "$D" ] && ok "refusals left the disk alone" || fail "a refusal changed the disk"

# ---- a revert of two disks is all or nothing: killed before its journal
# (revert-made) neither disk changed; killed with the journal written
# (revert-journaled) or after the first disk's switch (revert-switching),
# the next command finishes it: both disks as at the snapshot.
mkdir app3 && cp app/tiny-disk1.vmdk app3/ && ovf_add_disk2 app/tiny.ovf app3/tiny.ovf &&
	"$O" -q pack app3/tiny.ovf -o two.ova || fail "making the two-disk appliance"
expect_exit 0 "deploy a two-disk instance" -- "$O" -q deploy two.ova --accept-eula --name m2
m2=$OVFDEPLOY_HOME/instances/m2
d0=$(sed -n 's/^disk\.0\.path=//p' "$m2/instance.conf")
d1=$(sed -n 's/^disk\.1\.path=//p' "$m2/instance.conf")
[ -n "$d1" ] && ok "it has two disks" || fail "no second disk: $(ls "$m2")"
sumof() { _d=$d; d=$1; sum; d=$_d; }
for f in "$d0" "$d1"; do qemu-io -f qcow2 -c "write -P 0x21 1M 64K" "$f" >/dev/null || fail "write $f"; done
S0=$(sumof "$d0"); S1=$(sumof "$d1")
expect_exit 0 "snapshot the two disks" -- "$O" snapshot m2 two
for k in revert-made revert-journaled revert-switching; do
	for f in "$d0" "$d1"; do qemu-io -f qcow2 -c "write -P 0x43 1M 64K" "$f" >/dev/null || fail "write $f"; done
	N0=$(sumof "$d0"); N1=$(sumof "$d1")
	OVFDEPLOY_TEST_SNAPSHOT_KILL=$k "$O" revert m2 two >/dev/null 2>&1
	[ $? -ne 0 ] && ok "a revert killed at '$k' did not succeed" || fail "the '$k' kill hook did nothing"
	expect_exit 0 "the next command after the '$k' kill" -- "$O" snapshot m2 "after-$k"
	a0=$(sumof "$d0"); a1=$(sumof "$d1")
	if [ $k = revert-made ]; then
		[ "$a0" = "$N0" ] && [ "$a1" = "$N1" ] && ok "killed before its journal, the revert changed neither disk" ||
			fail "a revert killed at '$k' changed a disk"
	else
		[ "$a0" = "$S0" ] && [ "$a1" = "$S1" ] && ok "killed at '$k', the revert is finished: both disks as at the snapshot" ||
			fail "after a revert killed at '$k' the disks are not both as at the snapshot ($a0 $a1)"
	fi
	ls -a "$m2" "$m2/snapshots" | grep -q '^\.revert' && fail "a revert temporary or journal is left ($k)" ||
		ok "no revert temporary or journal is left ($k)"
done
# start finishes an interrupted switch too, before anything reads the disks
for f in "$d0" "$d1"; do qemu-io -f qcow2 -c "write -P 0x65 1M 64K" "$f" >/dev/null || fail "write $f"; done
OVFDEPLOY_TEST_SNAPSHOT_KILL=revert-switching "$O" revert m2 two >/dev/null 2>&1
[ -e "$m2/snapshots/.revert" ] && ok "the killed switch left its journal" || fail "no journal after the killed switch"
# (on QEMU, named by OVFDEPLOY_QEMU as a program that fails: nothing boots)
sed -i "s/^backend=.*/backend=qemu/" "$m2/instance.conf"
OVFDEPLOY_QEMU=/bin/false "$O" start m2 >/dev/null 2>&1
[ ! -e "$m2/snapshots/.revert" ] && [ "$(sumof "$d0")" = "$S0" ] && [ "$(sumof "$d1")" = "$S1" ] &&
	ok "start finished the switch: both disks as at the snapshot" || fail "start did not finish the interrupted revert"
expect_exit 0 "rm the two-disk instance" -- "$O" rm m2

# ---- a running machine on QEMU: the counting guest (count_guest.S) as its
# firmware.  QEMU's vmdk driver blocks migration, so this instance's base
# is a qcow2 image (the package holds it under the .vmdk name; formats are
# probed, not named).
if ! { gcc -m32 -c -o count.o "$top_srcdir/tests/runner/count_guest.S" &&
	ld -m elf_i386 -T "$top_srcdir/tests/runner/guest.ld" -o count.bin count.o; } 2>/dev/null; then
	echo "# no 32-bit toolchain (gcc -m32, ld -m elf_i386): the running-machine part is left out"
	expect_exit 0 "rm the instance with its snapshots" -- "$O" rm s1
	done_testing; exit
fi
COUNT_LINE='^C=[0-9A-F]\{8\}$'
last_count() { grep -a "$COUNT_LINE" "$1" | tail -1 | cut -c3-10 | { read -r h && echo $((0x$h)); }; }
first_count() { grep -a "$COUNT_LINE" "$1" | head -1 | cut -c3-10 | { read -r h && echo $((0x$h)); }; }
wait_count_above() {
	w=0
	while [ $w -lt 150 ]; do
		c=$(last_count "$1")
		[ -n "$c" ] && [ "$c" -gt "$2" ] && return 0
		sleep 0.1; w=$((w + 1))
	done
	return 1
}
qemu_fw() { sed -i "s/^backend=.*/backend=qemu/" "$1"; echo "firmware=$T_TMP/count.bin" >>"$1"; }

# a VMDK-based instance: refused, with the reason, and left running
qemu_fw "$inst/instance.conf"
expect_exit 0 "start the VMDK-based instance on QEMU" -- "$O" start s1
wait_count_above "$inst/console.log" 3 || fail "s1 does not count"
expect_exit 3 "a running snapshot over a VMDK base is refused" -- "$O" snapshot s1 live
expect_grep "VMDK base .*stop the instance" "$T_TMP/err" "the error says why and what to do"
n0=$(last_count "$inst/console.log")
wait_count_above "$inst/console.log" $((n0 + 2)) && ok "s1 runs on after the refusal" || fail "s1 stopped after the refusal"
"$O" --json snapshots s1 | grep -q '"live"' && fail "the refused snapshot is listed" || ok "the refused snapshot is not listed"
"$O" stop --timeout 1 s1 >/dev/null 2>&1
expect_exit 0 "rm the instance with its snapshots" -- "$O" rm s1

mkdir app2 && cp app/tiny.ovf app2/ && qemu-img convert -O qcow2 d.raw app2/tiny-disk1.vmdk &&
	"$O" -q pack app2/tiny.ovf -o q.ova || fail "making the qcow2-based appliance"
expect_exit 0 "deploy a qcow2-based instance" -- "$O" -q deploy q.ova --accept-eula --name q1
qi=$OVFDEPLOY_HOME/instances/q1
qemu_fw "$qi/instance.conf"
expect_exit 0 "start it on QEMU" -- "$O" start q1
log=$qi/console.log
wait_count_above "$log" 5 || fail "q1 does not count"
before=$(last_count "$log")
expect_exit 0 "snapshot the running machine" -- "$O" snapshot q1 live
after=$(last_count "$log")
wait_count_above "$log" $((after + 2)) && ok "it runs on after the snapshot ($before..$after at the snapshot)" ||
	fail "it does not run on after the snapshot"
"$O" --json snapshots q1 >list.json
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["snapshots"]; assert len(s)==1 and s[0]["kind"]=="full" and s[0]["backend"]=="qemu", s' list.json &&
	ok "it is listed as a full snapshot" || fail "the list: $(cat list.json)"
# a snapshot killed while QEMU is stopped for it (just after the stop, and
# with the state saved): its watchdog resumes the machine at once, and the
# killed snapshot is never listed
stalled() { n=$(last_count "$log"); sleep 1; [ "$(last_count "$log")" = "$n" ]; }
for k in stopped saved; do
	OVFDEPLOY_TEST_SNAPSHOT_KILL=$k "$O" snapshot q1 "killed-$k" >/dev/null 2>&1
	[ $? -ne 0 ] && ok "a running snapshot killed at '$k' did not succeed" || fail "the '$k' kill hook did nothing"
	n=$(last_count "$log")
	wait_count_above "$log" $((n + 2)) && ok "the watchdog resumed the machine after the '$k' kill" ||
		fail "the machine stays paused after the '$k' kill"
	[ ! -e "$qi/snapshots/.paused" ] && ok "the pause record is gone ($k)" || fail "the pause record is left ($k)"
	"$O" --json snapshots q1 | grep -q "killed-$k" && fail "the killed snapshot is listed" ||
		ok "the killed snapshot is not listed ($k)"
done
# the watchdog killed too: the machine stays paused until the next command
# (a snapshot, which without the record would take the machine for one its
# user paused and leave it so; a listing) notices and resumes it
for k in stopped saved; do
	OVFDEPLOY_TEST_SNAPSHOT_KILL=$k,watchdog "$O" snapshot q1 "killed2-$k" >/dev/null 2>&1
	[ $? -ne 0 ] && ok "a running snapshot killed at '$k' with its watchdog did not succeed" ||
		fail "the '$k,watchdog' kill hook did nothing"
	stalled && ok "the kill at '$k' left the machine paused" || fail "the machine counts on after the '$k,watchdog' kill"
	if [ $k = saved ]; then
		expect_exit 0 "list after the '$k' kill" -- "$O" --json snapshots q1
	else
		expect_exit 0 "snapshot after the '$k' kill" -- "$O" --json snapshot q1 "after-$k"
		"$O" --json snapshots q1 >"$T_TMP/out"
	fi
	grep -q "killed2-$k" "$T_TMP/out" && fail "the killed snapshot is listed" || ok "the killed snapshot is not listed ($k)"
	n=$(last_count "$log")
	wait_count_above "$log" $((n + 2)) && ok "the next command resumed the machine ($k)" ||
		fail "the machine stays paused after the next command ($k)"
	[ ! -e "$qi/snapshots/.paused" ] && ok "the pause record is gone ($k)" || fail "the pause record is left ($k)"
done
python3 -c 'import json,sys; t=sorted(x["tag"] for x in json.load(open(sys.argv[1]))["snapshots"]); assert t==["after-stopped","live"], t' "$T_TMP/out" &&
	ok "the list holds 'live' and the one after the kill" || fail "the list: $(cat "$T_TMP/out")"
# the user's pause or resume after such a kill is the user's choice: a
# machine they keep paused is not resumed by the next snapshot command
OVFDEPLOY_TEST_SNAPSHOT_KILL=saved,watchdog "$O" snapshot q1 killed-again >/dev/null 2>&1
expect_exit 2 "pause after the kill: the machine is paused already" -- "$O" pause q1
expect_exit 0 "list after the user's pause" -- "$O" snapshots q1
stalled && ok "the machine the user keeps paused stays paused" || fail "the listing resumed a machine the user paused"
expect_exit 0 "the user resumes it" -- "$O" resume q1
n=$(last_count "$log")
wait_count_above "$log" $((n + 2)) && ok "it runs after the user's resume" || fail "it does not run after resume"
wait_count_above "$log" $((after + 30)) || fail "q1 does not count on"
later=$(last_count "$log")
expect_exit 0 "revert the running machine" -- "$O" revert q1 live
wait_count_above "$log" 0 || fail "no count after the revert"
first=$(first_count "$log")
[ -n "$first" ] && [ "$first" -ge $((before > 0 ? before - 1 : 0)) ] && [ "$first" -le $((after + 2)) ] &&
	ok "after the revert it counts on from the snapshot ($first; $before..$after at the snapshot, $later before the revert)" ||
	fail "after the revert the count starts at '$first' (snapshot at $before..$after, $later before the revert)"
n1=$(last_count "$log")
wait_count_above "$log" $((n1 + 2)) && ok "and runs on" || fail "it does not run after the revert"
# a damaged state file: refused, the machine left running
st=$qi/snapshots/live/state.mig
chmod u+w "$st"
printf '\001' | dd of="$st" bs=1 seek=100 conv=notrunc 2>/dev/null
expect_exit 1 "a damaged state file is refused" -- "$O" revert q1 live
expect_grep "state.mig: damaged" "$T_TMP/err" "the error names the state file"
n2=$(last_count "$log")
wait_count_above "$log" $((n2 + 2)) && ok "the machine runs on after the refusal" || fail "the refusal stopped the machine"
"$O" stop --timeout 1 q1 >/dev/null 2>&1
expect_exit 0 "rm the QEMU instance" -- "$O" rm q1
done_testing
