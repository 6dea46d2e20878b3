#!/bin/sh
# vmware.sh - an appliance as VMware exports them, on the embedded runner
# under real hardware-assisted KVM (issue 15): its kernel carries VMware's
# disk driver only (vmw_pvscsi; no virtio at all), its descriptor puts the
# disk on an LSI Logic SCSI controller (VMware's default) and has an IDE
# CD-ROM drive and a VmxNet3 NIC.  One `ovfdeploy APP.ova --backend embedded`
# boots it from PVSCSI (standing in for the LSI Logic, with a warning naming
# vmw_pvscsi) with SeaBIOS's 256 KiB build; the guest finds its disk through
# vmw_pvscsi, writes it, and reads its OVF environment from the CD, which
# joins the disk on the PVSCSI because the runner has no IDE.
nested_host_prepare() {
	command -v mcopy >/dev/null || return 1
	O=$OVFDEPLOY
	build "$T_TMP/vmw" vmw_pvscsi
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
if grep -aq "hwtest disk vd" vmw.log; then fail "a virtio disk showed up"; else ok "no virtio disk"; fi
done_testing
