#!/bin/sh
# vmware.sh - an appliance as VMware exports them, on the embedded runner
# under real hardware-assisted KVM (issue 15): its kernel carries VMware's
# disk and NIC drivers only (vmw_pvscsi, vmxnet3; no virtio at all), its
# descriptor puts the disk on an LSI Logic SCSI controller (VMware's
# default) and has an IDE CD-ROM drive and a VmxNet3 NIC.  One `ovfdeploy APP.ova --backend embedded`
# boots it from PVSCSI (standing in for the LSI Logic, with a warning naming
# vmw_pvscsi) with SeaBIOS's 256 KiB build; the guest finds its disk through
# vmw_pvscsi, writes it, and reads its OVF environment from the CD, which
# joins the disk on the PVSCSI because the runner has no IDE; it gets a DHCP
# lease on the runner's VMXNET3.
nested_host_prepare() {
	command -v mcopy >/dev/null || return 1
	O=$OVFDEPLOY
	build "$T_TMP/vmw" "vmw_pvscsi vmxnet3"
	if grep -q virtio "$T_TMP/vmw.log"; then echo "a virtio driver slipped into the appliance"; return 1; fi
	mkdir -p "$T_TMP/app" && cd "$T_TMP/app" || return 1
	cp ../vmw/tiny-disk.raw disk0.raw && vmdk disk0 || return 1
	{
		ctrl 3 "SCSI controller 0" 6 lsilogic 0
		ctrl 4 "IDE 0" 5 "" 0
		ctrl 5 "IDE 1" 5 "" 1
		disk 6 "Hard disk 1" disk0 3 0
		cd_ 7 5 0
		nic 8 VmxNet3
	} | devices=2 ovf vmw disk0 >vmw.ovf && "$O" -q pack vmw.ovf -o ../vmw.ova
	rc=$?
	cd - >/dev/null
	return $rc
}
. "${top_srcdir:-.}/tests/deploy/vmware-ovf.sh"
. "${top_srcdir:-.}/tests/nested/lib.sh"

OVA=$OD_HOST_TMP/vmw.ova
s=$(date +%s)
timeout "$BOOT_TIMEOUT" "$O" "$OVA" --accept-eula --backend embedded --name vmw --prop appliance.oneshot=true \
	--prop "appliance.greeting=from the CD on PVSCSI" </dev/null >vmw.log 2>vmw.err
rc=$?
if reset_fault vmw.log vmw.err; then
	echo "# the deploy's boot reset in SYSLINUX (issue 14's known fault); its console, then one more start:"
	console vmw.log
	timeout "$BOOT_TIMEOUT" "$O" start -f vmw </dev/null >vmw.log 2>>vmw.err
	rc=$?
fi
echo "# deploy to power-off: $(($(date +%s) - s)) s"
[ $rc -eq 0 ] && grep -aq "APPLIANCE READY" vmw.log && ok "the VMware-style appliance: READY, power-off, exit 0" ||
	{ fail "the VMware-style appliance (exit $rc)"; console vmw.log; sed 's/^/  err| /' vmw.err; }
expect_grep "embedded" vmw.err "the embedded runner was used"
expect_grep "lsilogic.*pvscsi.*vmw_pvscsi" vmw.err "a warning says PVSCSI stands in for the LSI Logic and names vmw_pvscsi"
check_line vmw.log "hwtest disk sda driver vmw_pvscsi" "the guest finds its disk through vmw_pvscsi"
check_line vmw.log "hwtest disk sr0 driver vmw_pvscsi" "the environment CD is a SCSI CD-ROM on the PVSCSI"
check_line vmw.log "property appliance.greeting=from the CD on PVSCSI" "the guest reads its OVF environment from that CD"
check_line vmw.log "boot count 1" "the guest writes its disk through vmw_pvscsi"
check_line vmw.log "network eth0 address 10.0.2.15" "a DHCP lease"
check_line vmw.log "hwtest nic eth0 driver vmxnet3" "... on VMXNET3"
if grep -aq "virtio" vmw.err; then fail "a virtio device was mentioned: $(grep virtio vmw.err | head -2)"; else ok "no virtio stand-in"; fi
if grep -aq "hwtest disk vd" vmw.log; then fail "a virtio disk showed up"; else ok "no virtio disk"; fi

# HTTP through --forward on VMXNET3, with a page larger than one segment:
# the guest's TCP hands the NIC TSO packets that the runner cuts up
port=$(free_port)
big=$(python3 -c 'print("".join("vmxnet3-%05d." % i for i in range(2000)))')
trap '"$O" stop --timeout 5 web >/dev/null 2>&1' EXIT
expect_exit 0 "deploy a second one with a forwarded port" -- "$O" -q deploy "$OVA" --accept-eula --backend embedded \
	--name web --prop "appliance.greeting=$big" --forward "$port:80"
expect_exit 0 "start it in the background" -- "$O" start web
log=$OVFDEPLOY_HOME/instances/web/console.log
wait_log "$log" "APPLIANCE READY|the machine ended" "$BOOT_TIMEOUT"
if reset_fault "$log"; then
	echo "# the first start reset in SYSLINUX (issue 14's known fault); one more start"
	"$O" stop --timeout 5 web >/dev/null 2>&1
	expect_exit 0 "start it once more" -- "$O" start web
fi
if wait_log "$log" "APPLIANCE READY" "$BOOT_TIMEOUT"; then
	s=$(date +%s.%N)
	if http_get "http://127.0.0.1:$port/greeting.txt" >page.txt 2>err.txt; then
		echo "# GET of $(wc -c <page.txt) bytes: $(echo "$(date +%s.%N) - $s" | bc) s"
		[ "$(cat page.txt)" = "$big" ] && ok "HTTP through --forward on VMXNET3: the $(wc -c <page.txt)-byte page intact" ||
			fail "the page came back different ($(wc -c <page.txt) bytes)"
	else fail "GET through --forward: $(cat err.txt)"; fi
else
	fail "the forwarded instance is not ready within $BOOT_TIMEOUT s"; console "$log"
fi
done_testing
