#!/bin/sh
# vmware-hw.sh - an unmodified VMware-style appliance deployed to a real
# (private) libvirtd boots with the hardware its descriptor names (issues 15
# and 18): its initramfs has no virtio driver at all, only vmw_pvscsi,
# vmxnet3, ata_piix and ahci (samples/build-tiny.sh --modules).  Declared
# with VirtualSCSI + VmxNet3 + an IDE CD-ROM, its domain gets a vmpvscsi
# controller, a VMXNET3 and the environment CD on the IDE secondary master;
# the guest boots from its PVSCSI disk to APPLIANCE READY, reads its OVF
# environment from the IDE CD and gets a lease on VMXNET3.  One TCG boot.
# Then every other controller, as libvirt's QEMU driver makes it (no boot).
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/libvirt/lvlib.sh"
O=$OVFDEPLOY
BOOT=${TINY_BOOT_TIMEOUT:-240}
lv_skip_unless_possible
command -v python3 >/dev/null || skip "python3 not installed"
trap 'lv_stop; rm -rf "$T_TMP"' EXIT
cd "$T_TMP" || exit 1

. "$top_srcdir/tests/deploy/vmware-ovf.sh"
build outa "vmw_pvscsi vmxnet3 ata_piix ahci"
grep -q virtio_blk outa.log && fail "a virtio disk driver slipped into the initramfs"

mkdir a && cd a || exit 1
cp ../outa/tiny-disk.raw disk0.raw
vmdk disk0
{
	ctrl 3 "SCSI controller 0" 6 VirtualSCSI 0
	ctrl 4 "IDE 0" 5 "" 0
	ctrl 5 "IDE 1" 5 "" 1
	disk 6 "Hard disk 1" disk0 3 0
	cd_ 7 5 0
	nic 8 VmxNet3
} | devices=2 ovf libvirt disk0 >a.ovf
"$O" -q pack a.ovf -o ../a.ova || fail "pack"
cd .. || exit 1

lv_start
U=$LV_URI
expect_exit 0 "deploy the VMware-style appliance to the libvirt host" -- "$O" deploy --connect "$U" --accept-eula --name vm a.ova
grep -q 'virtio' "$T_TMP/err" && fail "a virtio stand-in was announced: $(grep virtio "$T_TMP/err" | head -2)"
lv_virsh dumpxml vm >vm.xml
expect_grep "<controller type='scsi' index='0' model='vmpvscsi'" vm.xml "the domain has a PVSCSI controller"
expect_grep "<model type='vmxnet3'/>" vm.xml "and a VMXNET3"
tr -d '\n' <vm.xml | sed 's#</disk>#</disk>\n#g' >disks.txt
expect_grep "device='disk'.*bus='scsi'.*<boot order='1'/>.*controller='0' bus='0' target='0' unit='0'" disks.txt \
	"the boot disk on PVSCSI target 0, first in the boot order"
expect_grep "device='cdrom'.*vm-env.iso.*bus='ide'.*controller='0' bus='1' target='0' unit='0'" disks.txt \
	"the environment CD on the IDE secondary master, as described"
if command -v virt-xml-validate >/dev/null; then
	virt-xml-validate vm.xml domain >val.txt 2>&1 && ok "libvirt's schema accepts the domain" || fail "virt-xml-validate: $(tail -2 val.txt)"
fi

expect_exit 0 "start it" -- "$O" start --connect "$U" vm
l=$LV_POOL_DIR/vm.console.log
if lv_wait_log "$l" "APPLIANCE READY" $BOOT; then
	ok "the guest reaches APPLIANCE READY from its PVSCSI disk"
	expect_grep 'hwtest disk sda driver vmw_pvscsi' "$l" "its root disk is on vmw_pvscsi"
	expect_grep 'OVF environment found on /dev/sr0' "$l" "it read the OVF environment from the CD"
	expect_grep 'hwtest disk sr0 driver ata_piix ' "$l" "the CD is on the PIIX3 IDE"
	expect_grep 'property appliance.greeting=hello from libvirt' "$l" "the property arrived"
	expect_grep 'hwtest nic eth0 driver vmxnet3 ' "$l" "the NIC is driven by vmxnet3"
	expect_grep 'network eth0 address 10\.0\.2\.' "$l" "and got a DHCP lease"
else
	fail "the guest did not become ready"; tail -15 "$l"
fi
"$O" stop --connect "$U" --timeout 0 vm >/dev/null 2>&1
expect_exit 0 "rm" -- "$O" rm --connect "$U" vm

# --hardware virtio: today's paravirtual machine, for guests known to have it.
expect_exit 0 "deploy it with --hardware virtio" -- "$O" deploy --connect "$U" --accept-eula --hardware virtio --name vv a.ova
lv_virsh dumpxml vv >vv.xml
expect_grep "<target dev='vda' bus='virtio'/>" vv.xml "--hardware virtio: the disk is virtio-blk"
expect_grep "<model type='virtio'/>" vv.xml "--hardware virtio: the NIC is virtio-net"
grep -q "vmpvscsi\|vmxnet3" vv.xml && fail "--hardware virtio still has VMware devices" || ok "--hardware virtio: no VMware device"
expect_exit 0 "rm vv" -- "$O" rm --connect "$U" vv

# Every other controller, as libvirt's QEMU driver makes it (no boot):
# empty disks on NVMe (the boot disk), BusLogic, lsilogic, lsilogicsas, the
# CD on SATA; no NIC (domxml-to-native would open a tap for one).
it() { echo "<Item>$1<rasd:ElementName>$2</rasd:ElementName><rasd:InstanceID>$3</rasd:InstanceID>$4</Item>"; }
c() { it "<rasd:Address>0</rasd:Address>" "$2" "$1" "<rasd:ResourceSubType>$3</rasd:ResourceSubType><rasd:ResourceType>$4</rasd:ResourceType>"; }
d() { it "<rasd:AddressOnParent>$4</rasd:AddressOnParent>" "$2" "$1" "<rasd:HostResource>ovf:/disk/$2</rasd:HostResource><rasd:Parent>$3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType>"; }
{
	echo '<?xml version="1.0" encoding="UTF-8"?>'
	echo '<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"'
	echo '  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">'
	echo '<References/><DiskSection><Info>disks</Info>'
	for n in e0 e1 e2 e3; do
		echo "<Disk ovf:diskId=\"$n\" ovf:capacity=\"16\" ovf:capacityAllocationUnits=\"byte * 2^20\" ovf:format=\"http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized\"/>"
	done
	echo '</DiskSection><VirtualSystem ovf:id="others"><Info>o</Info><VirtualHardwareSection><Info>hw</Info>'
	c 1 nvme vmware.nvme.controller 20
	c 2 bus buslogic 6
	c 3 sata vmware.sata.ahci 20
	c 4 lsi lsilogic 6
	c 5 sas lsilogicsas 6
	d 10 e0 1 0
	d 11 e1 2 3
	d 12 e2 4 2
	d 13 e3 5 9
	it "<rasd:AddressOnParent>1</rasd:AddressOnParent>" cd 14 "<rasd:Parent>3</rasd:Parent><rasd:ResourceType>15</rasd:ResourceType>"
	echo '</VirtualHardwareSection></VirtualSystem></Envelope>'
} >others.ovf
expect_exit 0 "deploy an appliance with every other controller" -- "$O" deploy --connect "$U" --accept-eula --name others others.ovf
expect_grep "nvme.*vmpvscsi.*NVMe.*vmw_pvscsi driver" "$T_TMP/err" "NVMe: PVSCSI stands in, warned with the guest's driver"
expect_grep "lsilogic\).*53C1030.*vmw_pvscsi driver" "$T_TMP/err" "LSI Logic: PVSCSI stands in, warned"
expect_grep "lsilogicsas.*mptsas.*vmw_pvscsi driver" "$T_TMP/err" "LSI SAS: PVSCSI stands in, warned"
expect_grep "buslogic.*53C895A.*sym53c8xx driver" "$T_TMP/err" "BusLogic: the 53C895A stands in, warned"
lv_virsh dumpxml others >others.xml
if command -v virt-xml-validate >/dev/null; then
	virt-xml-validate others.xml domain >val.txt 2>&1 && ok "libvirt's schema accepts it" || fail "virt-xml-validate: $(tail -2 val.txt)"
fi
lv_virsh domxml-to-native qemu-argv --domain others 2>&1 | tr ' ' '\n' >argv.txt
expect_grep '"driver":"pvscsi","id":"scsi0"' argv.txt "QEMU gets a pvscsi for the NVMe"
expect_grep '"driver":"lsi","id":"scsi1"' argv.txt "an LSI 53C895A for the BusLogic"
expect_grep '"driver":"ahci"' argv.txt "an AHCI"
expect_grep '"driver":"scsi-hd","bus":"scsi0.0","channel":0,"scsi-id":0,.*"bootindex":1' argv.txt "the boot disk first, on the NVMe's stand-in"
expect_grep '"driver":"scsi-hd","bus":"scsi1.0","scsi-id":3,' argv.txt "the BusLogic disk at SCSI id 3"
expect_grep '"driver":"scsi-hd","bus":"scsi2.0","channel":0,"scsi-id":2,' argv.txt "the lsilogic disk at SCSI id 2"
expect_grep '"driver":"scsi-hd","bus":"scsi3.0","channel":0,"scsi-id":9,' argv.txt "the lsilogicsas disk at SCSI id 9"
expect_grep '"driver":"ide-cd","bus":"sata0.1"' argv.txt "the environment CD on SATA port 1"
grep -q 'virtio' argv.txt && fail "a virtio device: $(grep virtio argv.txt | head -2)" || ok "no virtio device"
expect_exit 0 "rm it" -- "$O" rm --connect "$U" others
done_testing
