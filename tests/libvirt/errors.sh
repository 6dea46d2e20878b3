#!/bin/sh
# errors.sh - what `--connect` says when something fails, and that a failure
# leaves nothing a later deploy would trust: an unreachable URI, no such
# pool, a name taken, too little space, a domain that cannot start (and one
# on a bridge the host lacks, whose error names it), an
# upload killed half way, and the daemon going away mid-deploy (then a
# deploy after its restart converts with --convert qcow2 and is exact).
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/libvirt/lvlib.sh"
O=$OVFDEPLOY
lv_skip_unless_possible
lv_sample
command -v qemu-img >/dev/null || skip "qemu-img not installed (qemu-utils)"
MNT=
trap '[ -n "$MNT" ] && umount "$MNT" 2>/dev/null; lv_stop; rm -rf "$T_TMP"' EXIT
lv_start
U=$LV_URI
cd "$T_TMP" || exit 1

expect_exit 3 "an unreachable URI fails" -- "$O" deploy --connect "qemu+unix:///session?socket=$T_TMP/nosock" --accept-eula "$LV_OVA"
expect_grep "cannot connect to the libvirt host" "$T_TMP/err" "and says it cannot connect"
expect_exit 3 "list on an unreachable URI fails too" -- "$O" list --connect "qemu+unix:///session?socket=$T_TMP/nosock"
expect_exit 2 "--pool without --connect is a usage error" -- env -u OVFDEPLOY_CONNECT "$O" deploy --pool x --accept-eula "$LV_OVA"
expect_exit 2 "no such pool" -- "$O" deploy --connect "$U" --pool nosuch --accept-eula "$LV_OVA"
expect_grep "no storage pool 'nosuch'" "$T_TMP/err" "and names it"
expect_exit 2 "no such network" -- "$O" deploy --connect "$U" --network nosuch --accept-eula "$LV_OVA"
# --bridge: the adapters join a host bridge; one that is not there (or that
# this unprivileged daemon may not use) fails at start, naming it
expect_exit 2 "--network and --bridge exclude each other" -- "$O" deploy --connect "$U" --network default --bridge br0 --accept-eula "$LV_OVA"
expect_exit 0 "deploy --bridge" -- "$O" deploy --connect "$U" --bridge odnobr0 --accept-eula --name br1 "$LV_OVA"
lv_virsh dumpxml br1 >br1.xml
expect_grep "<interface type='bridge'>" br1.xml "the adapter is on a bridge"
expect_grep "<source bridge='odnobr0'/>" br1.xml "... the one named"
expect_exit 3 "starting it without that bridge fails" -- "$O" start --connect "$U" br1
expect_grep "odnobr0" "$T_TMP/err" "... naming the bridge"
expect_exit 0 "rm it" -- "$O" rm --connect "$U" br1
# Verify, EULA and properties come first: nothing reaches the host before.
cp "$LV_OVA" bad.ova && printf 'X' | dd of=bad.ova bs=1 seek=300000 conv=notrunc 2>/dev/null
expect_exit 1 "a package that does not verify is refused" -- "$O" deploy --connect "$U" --accept-eula --reverify bad.ova
expect_exit 1 "so is a declined EULA (no terminal, no --accept-eula)" -- "$O" deploy --connect "$U" "$LV_OVA"
expect_exit 1 "and a property value of the wrong type" -- "$O" deploy --connect "$U" --accept-eula --prop appliance.http_port=notaport "$LV_OVA"
expect_exit 2 "and a name that would escape" -- "$O" deploy --connect "$U" --accept-eula --name ../x "$LV_OVA"
[ -z "$(lv_pool_files)" ] && ok "none of them touched the pool" || fail "left: $(lv_pool_files | tr '\n' ' ')"
expect_exit 0 "deploy e1" -- "$O" deploy --connect "$U" --accept-eula --name e1 "$LV_OVA"
expect_exit 2 "the name is taken" -- "$O" deploy --connect "$U" --accept-eula --name e1 "$LV_OVA"
expect_grep "'e1' exists already" "$T_TMP/err" "and says so"
expect_exit 2 "start of an unknown instance" -- "$O" start --connect "$U" nosuch
expect_grep "no instance 'nosuch'" "$T_TMP/err" "names it"

# A domain that cannot start: its overlay vanished behind libvirt's back.
rm -f "$LV_POOL_DIR/e1-disk0.qcow2"
expect_exit 3 "a domain that fails to start" -- "$O" start --connect "$U" e1
expect_grep "domain 'e1' failed to start" "$T_TMP/err" "says which and why"
expect_exit 0 "rm e1 with a volume already gone" -- "$O" rm --connect "$U" e1
[ -z "$(lv_pool_files)" ] && ok "the pool is empty again" || { fail "left in the pool: $(lv_pool_files | tr '\n' ' ')"; }

# A big appliance (256 MiB of random data in a sparse VMDK) for uploads
# that take long enough to be interrupted.
mkdir app && head -c 256M /dev/urandom >d.raw &&
	"$O" -q convert -O vmdk -o subformat=monolithicSparse d.raw app/tiny-disk1.vmdk &&
	cp "$top_srcdir/samples/tiny.ovf" app/ && "$O" -q pack app/tiny.ovf -o big.ova ||
	{ fail "making the big appliance"; done_testing; exit 1; }
digest=$(sed -n 's/^SHA256(tiny-disk1.vmdk)= *//p' app/tiny.mf 2>/dev/null)
[ -n "$digest" ] || digest=$(tar -xOf big.ova tiny.mf | sed -n 's/^SHA256(tiny-disk1.vmdk)= *//p')

# Not enough space: a 64 MiB pool.
# (in LV_DIR: the daemon's user cannot enter T_TMP)
mkdir "$LV_DIR/small"
if mount -t tmpfs -o size=64m tmpfs "$LV_DIR/small" 2>/dev/null; then
	MNT=$LV_DIR/small
	chown "$LV_USER:" "$MNT"
	lv_virsh pool-create-as small dir --target "$MNT" >/dev/null 2>&1
	expect_exit 3 "a pool without room for the disk" -- "$O" deploy --connect "$U" --pool small --accept-eula --name s1 big.ova
	expect_grep "not enough space in storage pool 'small'" "$T_TMP/err" "says so with the sizes"
	[ -z "$(ls -A "$MNT")" ] && ok "and uploads nothing" || fail "left in the small pool: $(ls "$MNT")"
	lv_virsh pool-destroy small >/dev/null 2>&1
	umount "$MNT"; MNT=
else
	ok "# SKIP not enough space: cannot mount a tmpfs here"
fi

# An upload killed half way leaves a base no deploy trusts.
"$O" deploy --connect "$U" --accept-eula --name k1 big.ova >k1.out 2>&1 &
kpid=$!
i=0
while [ $i -lt 300 ]; do
	b=$(ls "$LV_POOL_DIR" | grep '^od-base-.*\.vmdk$')
	[ -n "$b" ] && [ "$(stat -c %b "$LV_POOL_DIR/$b")" -gt 40000 ] && break
	sleep 0.05; i=$((i + 1))
done
kill -9 $kpid 2>/dev/null; wait $kpid 2>/dev/null
base=$(ls "$LV_POOL_DIR" | grep '^od-base-.*\.vmdk$')
if [ -n "$base" ] && [ ! -e "$LV_POOL_DIR/$base.complete" ]; then
	ok "the killed upload left a base without its completion marker"
else
	fail "no partial base to test with (upload finished before the kill?)"
fi
lv_virsh list --all --name | grep -q k1 && fail "a domain was defined for the killed deploy" || ok "no domain for the killed deploy"
# Even with a completion marker beside it (two deploys racing could leave
# one), a base that is visibly short is not trusted.
[ -n "$base" ] && : >"$LV_POOL_DIR/$base.complete" && chown "$LV_USER:" "$LV_POOL_DIR/$base.complete"
expect_exit 0 "a later deploy of the package" -- "$O" deploy --connect "$U" --accept-eula --name k2 big.ova
[ -e "$LV_POOL_DIR/$base.complete" ] && ok "uploads the base again and marks it complete" || fail "no completion marker"
[ "$(sha256sum <"$LV_POOL_DIR/$base" | cut -d' ' -f1)" = "$digest" ] &&
	ok "the base is exactly the package's disk (manifest digest)" || fail "the base differs from the package's disk"
expect_exit 0 "rm k2" -- "$O" rm --connect "$U" k2

# The daemon goes away mid-deploy; after a restart the same deploy works.
"$O" deploy --connect "$U" --accept-eula --convert qcow2 --name d1 big.ova >d1.out 2>&1 &
dpid=$!
i=0
while [ $i -lt 400 ]; do
	b=$(ls "$LV_POOL_DIR" | grep '^od-base-.*\.qcow2$')
	[ -n "$b" ] && [ "$(stat -c %b "$LV_POOL_DIR/$b")" -gt 40000 ] && break
	sleep 0.05; i=$((i + 1))
done
kill -9 "$LV_PID"; wait "$LV_PID" 2>/dev/null
wait $dpid
rc=$?
[ $rc -eq 3 ] && ok "the deploy fails when the daemon goes away (exit 3)" || { fail "exit $rc"; cat d1.out; }
grep -q "$U" d1.out && ok "and names the host" || { fail "no URI in the error"; cat d1.out; }
lv_daemon || { fail "the daemon did not restart"; done_testing; exit 1; }
expect_exit 0 "deploy --convert qcow2 after the restart" -- "$O" deploy --connect "$U" --accept-eula --convert qcow2 --name d2 big.ova
qb=$(ls "$LV_POOL_DIR" | grep '^od-base-.*\.qcow2$')
[ -n "$qb" ] && [ -e "$LV_POOL_DIR/$qb.complete" ] && ok "a qcow2 base, complete" || fail "no complete qcow2 base"
qemu-img compare -q -f raw -F qcow2 d.raw "$LV_POOL_DIR/$qb" && ok "--convert qcow2 holds the disk's content" || fail "the converted base differs"
lv_virsh list --all --name | grep -q d1 && fail "the interrupted deploy defined a domain" || ok "the interrupted deploy defined nothing"
expect_exit 0 "rm d2" -- "$O" rm --connect "$U" d2
left=$(lv_pool_files | grep -v "^$base" | grep -v '^$')
[ -z "$left" ] && ok "only the complete VMDK base of the first package stays" || fail "left: $left"
done_testing
