# vmware-ovf.sh - VMware-style test appliances: their disks and descriptors
# (sourced by tests/deploy/vmware-hw.sh, tests/libvirt/vmware-hw.sh and
# tests/nested/vmware.sh; needs $O, fail, skip and done_testing).
#
# build OUTDIR MODULES: the sample's disk (OUTDIR/tiny-disk.raw, the log in
# OUTDIR.log) with an initramfs that loads only MODULES and the base below
# (no virtio unless asked for); skips when the kernel cannot be had.
#
# ovf NAME DISK...: the envelope around the hardware items on stdin, for the
# disks DISK.raw (capacity) / DISK.vmdk (the file); $devices is the number of
# disks and CDs the guest's hardware self-test waits for.  ctrl, disk, cd_
# and nic write the items; vmdk DISK converts DISK.raw to DISK.vmdk.
base="sd_mod sr_mod cdrom isofs vfat nls_cp437 nls_ascii nls_utf8 button evdev"
build() {
	sh "$top_srcdir/samples/build-tiny.sh" --modules "$2 $base" "$1" >"$1.log" 2>&1
	rc=$?
	[ $rc -eq 3 ] && skip "the sample's kernel package could not be obtained (offline?)"
	[ $rc -eq 0 ] || { fail "build-tiny.sh $1 (exit $rc)"; tail -5 "$1.log"; done_testing; exit 1; }
}
ovf() {
	name=$1; shift
	cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
  xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData">
  <References>
EOF
	for d in "$@"; do echo "    <File ovf:id=\"f$d\" ovf:href=\"$d.vmdk\"/>"; done
	echo '  </References>'
	echo '  <DiskSection><Info>disks</Info>'
	for d in "$@"; do
		echo "    <Disk ovf:diskId=\"$d\" ovf:fileRef=\"f$d\" ovf:capacity=\"$(($(stat -c %s "$d.raw") / 1048576))\" ovf:capacityAllocationUnits=\"byte * 2^20\" ovf:format=\"http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized\"/>"
	done
	cat <<EOF
  </DiskSection>
  <NetworkSection><Info>nets</Info><Network ovf:name="VM Network"><Description>lan</Description></Network></NetworkSection>
  <VirtualSystem ovf:id="$name">
    <Info>$name</Info>
    <ProductSection ovf:class="appliance"><Info>p</Info><Product>$name</Product>
      <Property ovf:key="greeting" ovf:type="string" ovf:userConfigurable="true" ovf:value="hello from $name"/>
      <Property ovf:key="oneshot" ovf:type="boolean" ovf:userConfigurable="true" ovf:value="false"/>
      <Property ovf:key="hwtest" ovf:type="boolean" ovf:value="true"/>
      <Property ovf:key="hwtest_devices" ovf:type="uint8" ovf:value="$devices"/>
    </ProductSection>
    <VirtualHardwareSection ovf:transport="iso">
      <Info>hw</Info>
      <System><vssd:ElementName>Virtual Hardware Family</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID><vssd:VirtualSystemType>vmx-19</vssd:VirtualSystemType></System>
      <Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ElementName>1 CPU</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>256 MB</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>256</rasd:VirtualQuantity></Item>
EOF
	cat
	cat <<EOF
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
EOF
}
ctrl() {	# ID NAME TYPE SUBTYPE ADDRESS
	echo "      <Item><rasd:Address>$5</rasd:Address><rasd:ElementName>$2</rasd:ElementName><rasd:InstanceID>$1</rasd:InstanceID>${4:+<rasd:ResourceSubType>$4</rasd:ResourceSubType>}<rasd:ResourceType>$3</rasd:ResourceType></Item>"
}
disk() {	# ID NAME DISKID PARENT ADDRESS
	echo "      <Item><rasd:AddressOnParent>$5</rasd:AddressOnParent><rasd:ElementName>$2</rasd:ElementName><rasd:HostResource>ovf:/disk/$3</rasd:HostResource><rasd:InstanceID>$1</rasd:InstanceID><rasd:Parent>$4</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>"
}
cd_() {	# ID PARENT ADDRESS
	echo "      <Item ovf:required=\"false\"><rasd:AddressOnParent>$3</rasd:AddressOnParent><rasd:AutomaticAllocation>false</rasd:AutomaticAllocation><rasd:ElementName>CD/DVD drive 1</rasd:ElementName><rasd:InstanceID>$1</rasd:InstanceID><rasd:Parent>$2</rasd:Parent><rasd:ResourceType>15</rasd:ResourceType></Item>"
}
nic() {	# ID SUBTYPE
	echo "      <Item><rasd:AutomaticAllocation>true</rasd:AutomaticAllocation><rasd:Connection>VM Network</rasd:Connection><rasd:ElementName>Network adapter $1</rasd:ElementName><rasd:InstanceID>$1</rasd:InstanceID><rasd:ResourceSubType>$2</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>"
}
vmdk() { "$O" -q convert -O vmdk -o subformat=streamOptimized "$1.raw" "$1.vmdk" || fail "convert $1"; }
