#!/bin/sh
# vmware-hw.sh - unmodified VMware-style appliances boot on the QEMU backend
# with the hardware their descriptor names (issue 15).
#
# Two test appliances are built here from the sample's build: their
# initramfs loads no virtio driver (A) or no virtio disk driver (B), only
# the drivers a kernel built on VMware would carry.
#   A: VirtualSCSI (PVSCSI) + VmxNet3 + an IDE CD-ROM, deployed and run with
#      one command: it boots from its SCSI disk (SeaBIOS 256k's PVSCSI
#      driver), reads its OVF environment from the IDE CD, gets a DHCP lease
#      on VMXNET3 and serves HTTP through --forward.
#   B: one boot with every other controller and NIC: boots from NVMe
#      (SeaBIOS 256k), data disks on IDE, lsilogicsas (stand-in PVSCSI:
#      Linux's mptsas sees no disk on QEMU's SAS 1068), buslogic (stand-in
#      53C895A), SATA/AHCI and lsilogic (QEMU has no 53C1030: stand-in
#      PVSCSI), the environment CD on SATA; NICs E1000,
#      E1000e, PCNet32, VmxNet2 (stand-in E1000) and VirtIO.  The guest
#      checksums each disk (compared with the file), writes and flushes a
#      marker to each data disk (found in the overlay, qemu-img check clean)
#      and gets a lease on every adapter.
#   C: SCSI only (PVSCSI boot disk, a virtio-scsi data disk, no CD-ROM drive):
#      the environment CD becomes a SCSI CD-ROM on the PVSCSI.
. "${top_srcdir:-.}/tests/cli/lib.sh"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (qemu-system-x86)"
command -v qemu-img >/dev/null || skip "qemu-img not installed (qemu-utils)"
command -v python3 >/dev/null || skip "python3 not installed"
O=$OVFDEPLOY
BOOT_TIMEOUT=${TINY_BOOT_TIMEOUT:-240}
cd "$T_TMP" || exit 1
export OVFDEPLOY_HOME="$T_TMP/home"
apid=
cleanup() {
	[ -n "$apid" ] && kill "$apid" 2>/dev/null
	for n in a b c; do "$O" stop --timeout 1 "$n" >/dev/null 2>&1; done
	[ -n "${VMHW_KEEP:-}" ] && cp -r "$T_TMP" "$VMHW_KEEP"
	rm -rf "$T_TMP"
}
trap cleanup EXIT

. "$top_srcdir/tests/deploy/vmware-ovf.sh"
build outa "vmw_pvscsi vmxnet3 ata_piix ahci"
build outb "vmw_pvscsi sym53c8xx ata_piix ahci nvme e1000 e1000e pcnet32 virtio_pci virtio_net virtio_scsi"
for f in outa.log outb.log; do
	grep -q virtio_blk "$f" && fail "$f: a virtio disk driver slipped in"
done

sha1m() { dd if="$1" bs=1M count=1 2>/dev/null | sha256sum | cut -d' ' -f1; }

# A: PVSCSI + VMXNET3 + IDE CD
mkdir a && cd a || exit 1
cp ../outa/tiny-disk.raw disk0.raw && vmdk disk0
{
	ctrl 3 "SCSI controller 0" 6 VirtualSCSI 0
	ctrl 4 "IDE 0" 5 "" 0
	ctrl 5 "IDE 1" 5 "" 1
	disk 6 "Hard disk 1" disk0 3 0
	cd_ 7 5 0
	nic 8 VmxNet3
} | devices=2 ovf a disk0 >a.ovf
"$O" -q pack a.ovf -o ../a.ova || fail "pack a"
cd .. || exit 1

# B: every other controller and NIC, data disks of 4 MiB of random bytes
mkdir b && cd b || exit 1
cp ../outb/tiny-disk.raw disk0.raw && vmdk disk0
for d in d1 d2 d3 d4 d5; do
	head -c 4194304 /dev/urandom >$d.raw && vmdk $d
done
{
	ctrl 3 "SCSI controller 0" 6 lsilogic 0
	ctrl 4 "IDE 0" 5 "" 0
	ctrl 5 "SCSI controller 1" 6 lsilogicsas 1
	ctrl 6 "SCSI controller 2" 6 buslogic 2
	ctrl 7 "SATA controller 0" 20 vmware.sata.ahci 0
	ctrl 8 "NVME controller 0" 20 vmware.nvme.controller 0
	disk 10 "Hard disk 1" disk0 8 0
	disk 11 "Hard disk 2" d1 4 0
	disk 12 "Hard disk 3" d2 5 0
	disk 13 "Hard disk 4" d3 6 0
	disk 14 "Hard disk 5" d4 7 1
	disk 15 "Hard disk 6" d5 3 0
	cd_ 16 7 0
	nic 20 E1000
	nic 21 E1000e
	nic 22 PCNet32
	nic 23 VmxNet2
	nic 24 VirtIO
} | devices=7 ovf b disk0 d1 d2 d3 d4 d5 >b.ovf
"$O" -q pack b.ovf -o ../b.ova || fail "pack b"
cd .. || exit 1

# C: SCSI only
mkdir c && cd c || exit 1
cp ../b/disk0.raw ../b/disk0.vmdk ../b/d1.raw ../b/d1.vmdk . || fail "copy c's disks"
{
	ctrl 3 "SCSI controller 0" 6 VirtualSCSI 0
	ctrl 4 "SCSI controller 1" 6 virtio-scsi 1
	disk 5 "Hard disk 1" disk0 3 0
	disk 6 "Hard disk 2" d1 4 2
	nic 7 VirtIO
} | devices=3 ovf c disk0 d1 >c.ovf
"$O" -q pack c.ovf -o ../c.ova || fail "pack c"
cd .. || exit 1

# inspect shows the plan and each backend's choices
"$O" inspect a.ova >inspect-a.txt 2>&1
expect_grep 'disk Hard disk 1 on pvscsi 0 target 0, boot disk' inspect-a.txt "inspect: the boot disk on PVSCSI target 0"
expect_grep 'cdrom CD/DVD drive 1 on IDE secondary master, the OVF environment CD' inspect-a.txt "inspect: the environment CD in the described IDE drive"
expect_grep 'on QEMU: pvscsi exact; ide exact; vmxnet3 exact' inspect-a.txt "inspect: everything exact on QEMU"
expect_grep 'on the embedded runner: pvscsi exact; ide exact; vmxnet3 exact' inspect-a.txt \
	"inspect: the embedded runner's PVSCSI and IDE are exact"
expect_grep 'on libvirt: pvscsi exact; ide exact; vmxnet3 exact' inspect-a.txt "inspect: everything exact on libvirt"
"$O" --json inspect b.ova >inspect-b.json 2>&1
python3 - inspect-b.json >plan-b.txt <<'EOF' || fail "inspect --json b"
import json, sys
d = json.load(open(sys.argv[1]))
p = d["virtual_systems"][0]["hardware"][0]["plan"]
for c in p["controllers"]:
    print("ctrl", c["model"], c["qemu"]["device"], c["qemu"]["exact"], c["qemu"]["driver"])
    print("lvctrl", c["model"], c["libvirt"]["device"], c["libvirt"]["exact"], c["libvirt"]["driver"])
for n in p["nics"]:
    print("nic", n["model"], n["qemu"]["device"], n["qemu"]["exact"], n["qemu"]["driver"])
for k in p["disks"]:
    print("disk", k["controller"], k["unit"], k["cdrom"], k["boot"], k["environment"])
EOF
expect_grep '^ctrl lsilogic pvscsi False vmw_pvscsi$' plan-b.txt "inspect --json: lsilogic is substituted on QEMU, naming the guest's driver"
expect_grep '^ctrl ide piix3-ide True ata_piix$' plan-b.txt "inspect --json: IDE is exact on QEMU"
expect_grep '^lvctrl nvme vmpvscsi False vmw_pvscsi$' plan-b.txt "inspect --json: libvirt's NVMe stand-in, naming the guest's driver"
expect_grep '^lvctrl buslogic lsilogic False sym53c8xx$' plan-b.txt "inspect --json: libvirt's 'lsilogic' (53C895A) for BusLogic"
expect_grep '^nic vmxnet2 e1000 False e1000$' plan-b.txt "inspect --json: VMXNET2 is substituted by E1000"
expect_grep '^disk 4 0 True False True$' plan-b.txt "inspect --json: the environment CD on SATA port 0"

# deploy keeps the plan in instance.conf; --hardware virtio is today's machine
expect_exit 0 "deploy A without starting it" -- "$O" -q deploy a.ova --accept-eula --name a-plan
conf=$OVFDEPLOY_HOME/instances/a-plan/instance.conf
expect_grep '^ctrl\.0\.model=pvscsi$' "$conf" "instance.conf: the PVSCSI controller"
expect_grep '^disk\.0\.ctrl=0$' "$conf" "instance.conf: the disk on it"
expect_grep '^cdrom\.ctrl=2$' "$conf" "instance.conf: the environment CD on the secondary IDE channel"
expect_grep '^nic\.0\.model=vmxnet3$' "$conf" "instance.conf: the VMXNET3"
expect_exit 0 "deploy A with --hardware virtio" -- "$O" -q deploy a.ova --accept-eula --name a-virtio --hardware virtio
conf=$OVFDEPLOY_HOME/instances/a-virtio/instance.conf
if grep -q '^ctrl\.\|^disk\.0\.ctrl\|^cdrom\.ctrl' "$conf"; then fail "--hardware virtio still placed devices on controllers"
else ok "--hardware virtio: every disk is its own virtio-blk"; fi
expect_grep '^nic\.0\.model=virtio-net$' "$conf" "--hardware virtio: the NIC is virtio-net"
expect_exit 2 "--hardware with an unknown mode is a usage error" -- "$O" deploy a.ova --accept-eula --hardware vmware
expect_grep 'described or virtio' "$T_TMP/err" "... naming the modes"

# --- A: one command, HTTP through --forward ---------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start=$(date +%s)
"$O" a.ova --accept-eula --backend qemu --name a --forward "$port:80" </dev/null >a.out 2>a.err &
apid=$!
i=0
while [ $i -lt $((BOOT_TIMEOUT * 10)) ] && ! grep -aq "APPLIANCE READY" a.out && kill -0 $apid 2>/dev/null; do
	sleep 0.1; i=$((i + 1))
done
if grep -aq "APPLIANCE READY" a.out; then
	ok "A: the VMware-style appliance is ready in $(($(date +%s) - start)) s"
	python3 -c 'import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode())' \
		"http://127.0.0.1:$port/greeting.txt" >a.page 2>&1
	expect_grep '^hello from a$' a.page "A: HTTP through --forward serves the greeting"
	python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=20).read()' \
		"http://127.0.0.1:$port/cgi-bin/poweroff" >/dev/null 2>&1
	i=0; while [ $i -lt 600 ] && kill -0 $apid 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	wait $apid
	rc=$?
	apid=
	[ $rc -eq 0 ] && ok "A: powered off, exit 0" || fail "A: exit $rc"
else
	fail "A did not become ready"; tail -25 a.out; tail -5 a.err
fi
expect_grep 'OVF environment found on /dev/sr0' a.out "A: the OVF environment read from the CD"
expect_grep 'hwtest disk sr0 driver ata_piix ' a.out "A: the CD is on the PIIX3 IDE"
expect_grep "hwtest disk sda driver vmw_pvscsi sha256 $(sha1m outa/tiny-disk.raw)" a.out \
	"A: the boot disk is on PVSCSI and reads back as the file"
expect_grep 'network eth0 address 10\.0\.2\.15' a.out "A: a DHCP lease"
expect_grep 'hwtest nic eth0 driver vmxnet3 ' a.out "A: ... on VMXNET3"
expect_grep 'boot count 1' a.out "A: wrote its boot count"
grep -q 'virtio' a.err && fail "A: a virtio device was mentioned: $(grep virtio a.err | head -2)"
qemu-img check "$OVFDEPLOY_HOME/instances/a/disk0.qcow2" >a.check 2>&1 && ok "A: qemu-img check: the overlay is clean" ||
	{ fail "A: qemu-img check"; cat a.check; }

# --- B: every other controller and NIC in one boot ---------------------------------
start=$(date +%s)
timeout $BOOT_TIMEOUT "$O" b.ova --accept-eula --backend qemu --name b --prop appliance.oneshot=true \
	</dev/null >b.out 2>b.err
rc=$?
[ $rc -eq 0 ] && ok "B: booted from NVMe, ready and off in $(($(date +%s) - start)) s" ||
	{ fail "B: exit $rc"; tail -30 b.out; tail -5 b.err; }
expect_grep 'is given as pvscsi on QEMU: QEMU has no LSI Logic 53C1030.*vmw_pvscsi driver' b.err \
	"B: the lsilogic stand-in is a warning naming the driver"
expect_grep 'OVF environment found on /dev/sr0' b.out "B: the OVF environment read from the CD"
expect_grep 'hwtest disk sr0 driver ahci ' b.out "B: the CD is on SATA/AHCI"
n=0
for d in d1:ata_piix d2:vmw_pvscsi d3:sym53c8xx d4:ahci d5:vmw_pvscsi; do
	f=${d%%:*}; drv=${d#*:}
	sum=$(sha1m b/$f.raw)
	dev=$(sed -n "s/.*hwtest disk \([a-z0-9]*\) driver $drv sha256 $sum.*/\1/p" b.out | head -n 1)
	if [ -n "$dev" ]; then
		ok "B: $f reads back as the file through $drv ($dev)"
	else
		fail "B: no disk reads as $f through $drv"; grep 'hwtest disk' b.out | head
	fi
	k=$(echo "$f" | tr -d d)
	ov=$OVFDEPLOY_HOME/instances/b/disk$k.qcow2
	qemu-img check "$ov" >b.check 2>&1 && ok "B: qemu-img check $f's overlay: clean" || { fail "B: qemu-img check $f"; cat b.check; }
	qemu-img convert -O raw "$ov" b.raw >b.convert 2>&1 || { fail "qemu-img convert $f's overlay"; cat b.convert; }
	m=hwtest-wrote-$dev
	if [ -n "$dev" ] && [ "$(dd if=b.raw bs=512 skip=4096 count=1 2>/dev/null | head -c ${#m})" = "$m" ]; then
		ok "B: the guest's write through $drv is in $f's overlay"
	else
		fail "B: no write in $f's overlay"
	fi
done
expect_grep 'boot count 1' b.out "B: the boot disk's FAT is written"
expect_grep "hwtest disk nvme0n1 driver nvme sha256 $(sha1m outb/tiny-disk.raw)" b.out "B: the boot disk is on NVMe and reads back as the file"
for drv in e1000 e1000e pcnet32 virtio_net; do
	expect_grep "hwtest nic eth[0-9] driver $drv lease 10\.0\.2\.15" b.out "B: a lease on $drv"
done
[ "$(grep -c 'hwtest nic eth[0-9] driver e1000 lease 10\.0\.2\.15' b.out)" -eq 2 ] &&
	ok "B: E1000 and the VMXNET2 stand-in both get leases" || fail "B: not two E1000 leases"
qemu-img check "$OVFDEPLOY_HOME/instances/b/disk0.qcow2" >b.check 2>&1 && ok "B: the boot disk's overlay is clean" ||
	{ fail "B: qemu-img check boot disk"; cat b.check; }

# --- C: SCSI only: the environment on a SCSI CD-ROM ----------------------------------
start=$(date +%s)
timeout $BOOT_TIMEOUT "$O" c.ova --accept-eula --backend qemu --name c --prop appliance.oneshot=true \
	</dev/null >c.out 2>c.err
rc=$?
[ $rc -eq 0 ] && ok "C: ready and off in $(($(date +%s) - start)) s" || { fail "C: exit $rc"; tail -30 c.out; tail -5 c.err; }
expect_grep 'OVF environment found on /dev/sr0' c.out "C: the OVF environment read from the CD"
expect_grep 'hwtest disk sr0 driver vmw_pvscsi ' c.out "C: ... a SCSI CD-ROM on the PVSCSI"
expect_grep "hwtest disk sd[a-z] driver virtio_scsi sha256 $(sha1m b/d1.raw)" c.out "C: the virtio-scsi disk reads back as the file"
expect_grep 'hwtest nic eth0 driver virtio_net lease 10\.0\.2\.15' c.out "C: a lease on virtio-net"
done_testing
