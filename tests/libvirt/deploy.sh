#!/bin/sh
# deploy.sh - `ovfdeploy deploy --connect` to a real (private) libvirtd: the
# sample boots to APPLIANCE READY with our property from the CD, two
# instances share one uploaded base and none of each other's writes, a
# second client over TCP lists both, stop is the ACPI power button and
# start keeps what the guest wrote, the console stream shows the boot and
# detaches on Ctrl-A x, and rm leaves the pool as it was.  Two TCG boots.
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/libvirt/lvlib.sh"
O=$OVFDEPLOY
BOOT=${TINY_BOOT_TIMEOUT:-120}
lv_skip_unless_possible
lv_sample
LV_TCP_PORT=$(lv_free_port)
trap 'lv_stop; rm -rf "$T_TMP"' EXIT
lv_start
U=$LV_URI
TCP="qemu+tcp://127.0.0.1:$LV_TCP_PORT/session"
cd "$T_TMP" || exit 1
before=$(lv_pool_files)

# 1. Deploy twice from one package: one base, two overlays.
expect_exit 0 "deploy a1 to the libvirt host" -- "$O" deploy --connect "$U" --accept-eula --name a1 \
	--prop appliance.greeting="hello libvirt $$" "$LV_OVA"
nbase=$(lv_pool_files | grep -c '^od-base-.*\.vmdk$')
[ "$nbase" -eq 1 ] && ok "the VMDK is uploaded as it is stored, as one base volume" || fail "$nbase VMDK bases in the pool"
base=$(lv_pool_files | grep '^od-base-.*\.vmdk$')
lv_pool_files | grep -q "^$base.complete$" && ok "the base is marked complete" || fail "no completion marker"
head -c 4 "$LV_POOL_DIR/$base" | grep -q KDM && ok "the base is the package's VMDK, not converted" || fail "the base is not a VMDK"
ino=$(stat -c %i "$LV_POOL_DIR/$base")
# The one-command form: deploy and start (no terminal: no console attached).
expect_exit 0 "ovfdeploy APP.ova --connect deploys and starts a2" -- "$O" "$LV_OVA" --connect "$U" --accept-eula --name a2
expect_grep "Started a2" "$T_TMP/out" "and says how to attach"
[ "$(stat -c %i "$LV_POOL_DIR/$base")" = "$ino" ] && ok "the second deploy reuses the base (no upload)" || fail "the base was uploaded again"
lv_virsh vol-dumpxml --pool default a2-disk0.qcow2 >vol.xml 2>&1
expect_grep "$base" vol.xml "a2's overlay is backed by the shared base"
lv_virsh dumpxml a1 >a1.xml
expect_grep "ovfdeploy.invalid/xmlns/libvirt-instance" a1.xml "the domain carries our metadata"
expect_grep "<acpi/>" a1.xml "ACPI is on"

# 2. a2 was started by the one-command form; a client over TCP (another URI
#    form) lists both; a2 is then stopped hard before its guest could
#    write anything (its boot would cost a TCG boot: a1's is enough).
"$O" list --connect "$TCP" >list.txt 2>&1
expect_grep "^a1 +stopped" list.txt "a client over TCP lists a1 (stopped)"
expect_grep "^a2 +running" list.txt "and a2 (running)"
"$O" list --json --connect "$TCP" >list.json 2>&1
expect_grep '"backend": "libvirt"' list.json "list --json names the backend"
expect_exit 0 "stop a2 hard at once" -- "$O" stop --connect "$U" --timeout 0 a2
expect_exit 0 "start a1" -- "$O" start --connect "$U" a1
"$O" list --connect "$TCP" >list.txt 2>&1
expect_grep "^a1 +running" list.txt "the TCP client sees a1 running"
"$O" list >local.txt 2>&1
grep -q "^a1 " local.txt && fail "a libvirt instance shows in the local list" || ok "the local list stays local"

# 3. a1 boots with our property and counts its first boot.
l1=$LV_POOL_DIR/a1.console.log
if lv_wait_log "$l1" "APPLIANCE READY" $BOOT; then
	ok "a1 reaches APPLIANCE READY"
	expect_grep "property appliance.greeting=hello libvirt $$" "$l1" "the property reached the guest through the CD"
	expect_grep "boot count 1" "$l1" "a1: first boot"
else
	fail "a1 did not become ready"; tail -5 "$l1"
fi
# pause and resume on the libvirt host: the domain's state follows, --json says it
expect_exit 0 "pause a1 on the libvirt host" -- "$O" --json pause --connect "$U" a1
expect_grep '"state": *"paused"' "$T_TMP/out" "pause --json says paused"
lv_virsh domstate a1 >state.txt 2>&1
expect_grep '^paused' state.txt "libvirt has the domain paused"
expect_exit 2 "pausing it again is refused" -- "$O" pause --connect "$U" a1
expect_exit 0 "resume a1" -- "$O" resume --connect "$U" a1
lv_virsh domstate a1 >state.txt 2>&1
expect_grep '^running' state.txt "libvirt has the domain running again"
# 5. rm refuses a running instance; stop presses the power button; start
#    again keeps what the guest wrote.
expect_exit 2 "rm refuses a running instance" -- "$O" rm --connect "$U" a1
expect_grep "stop it first" "$T_TMP/err" "and says to stop it"
expect_exit 0 "stop a1 (ACPI power button)" -- "$O" stop --connect "$U" --timeout 60 a1
grep -q "stopped hard" "$T_TMP/err" && fail "a1 ignored the power button" || ok "a1 powered off on the power button"
# The base is shared, the writes are not: a1's disk (flushed at power-off)
# differs from the base now, a2's still shows exactly the base.
if command -v qemu-img >/dev/null; then
	qemu-img compare -q -U "$LV_POOL_DIR/a1-disk0.qcow2" "$LV_POOL_DIR/$base"
	[ $? -eq 1 ] && ok "a1's writes went to its overlay" || fail "a1's disk does not differ from the base"
	qemu-img compare -q -U "$LV_POOL_DIR/a2-disk0.qcow2" "$LV_POOL_DIR/$base" && ok "a2 sees none of a1's writes" ||
		fail "a2's disk differs from the base"
fi
: >"$l1"
expect_exit 0 "start a1 again" -- "$O" start --connect "$U" a1
# The console stream shows the boot (within 15 s even on a loaded machine
# under the sanitizer build, where 4 s showed nothing); Ctrl-A x detaches.
(sleep 15; printf '\001x') | timeout 45 "$O" console --connect "$U" a1 >console.out 2>console.err
[ $? -eq 0 ] && ok "console detaches on Ctrl-A x" || { fail "console did not detach"; cat console.err; }
grep -aq "SYSLINUX\|Linux\|tiny:" console.out && ok "the console stream shows the guest's output" || { fail "nothing on the console"; head -c 300 console.out; }
if lv_wait_log "$l1" "APPLIANCE READY" $BOOT; then
	expect_grep "boot count 2" "$l1" "what a1 wrote survived stop and start"
else
	fail "a1 did not come back"; tail -5 "$l1"
fi
expect_exit 0 "stop with a zero timeout destroys" -- "$O" stop --connect "$U" --timeout 0 a1
expect_grep "stopped hard" "$T_TMP/err" "and says so"

# 6. rm: the shared base stays while a2 uses it; the last rm empties the pool.
expect_exit 0 "rm a1" -- "$O" rm --connect "$U" a1
lv_pool_files | grep -q "^$base$" && ok "the base stays while a2 uses it" || fail "rm a1 deleted a2's base"
lv_pool_files | grep -q "^a1" && fail "a1's volumes are left" || ok "a1's volumes and log are gone"
expect_exit 0 "rm a2" -- "$O" rm --connect "$U" a2
[ "$(lv_pool_files)" = "$before" ] && ok "rm leaves the pool as it was" || { fail "the pool differs"; lv_pool_files; }
lv_virsh list --all --name >doms.txt
[ -s doms.txt ] && [ -n "$(tr -d ' \n' <doms.txt)" ] && fail "domains are left: $(cat doms.txt)" || ok "no domain is left"
done_testing
