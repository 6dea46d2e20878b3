#!/bin/sh
# vmware.sh - VMware-style appliances on the embedded runner under real
# hardware-assisted KVM (issue 15): their kernels carry one of VMware's disk
# drivers only (no virtio at all).
# - vmw: its disk on a PVSCSI (VirtualSCSI), an IDE CD-ROM drive and a
#   VmxNet3 NIC (vmw_pvscsi, ata_piix and vmxnet3 in its initramfs); one
#   `ovfdeploy APP.ova --backend embedded` boots it from the PVSCSI with
#   SeaBIOS's 256 KiB build, the guest finds its disk through vmw_pvscsi,
#   writes it, reads its OVF environment from the CD on the runner's PIIX3
#   IDE through ata_piix, and gets a DHCP lease on the runner's VMXNET3; a second instance serves a page larger than one
#   TCP segment through --forward (the guest's TSO packets cut up intact).
# - ide: vmw's kernel run directly with its disk and a CD-ROM on the
#   runner's IDE: ata_piix finds an ATA disk and an ATAPI CD-ROM, sets DMA
#   modes, and the appliance gets to READY from the IDE disk.
# - lsi: the same build with mptspi in place of vmw_pvscsi, its kernel run
#   directly (`run --kernel`) with the disk on the runner's LSI Logic
#   53C1030: mptbase/mptspi bring the IOC up, scan the bus, find the disk
#   and the appliance gets to READY.  (Deploy still gives lsilogic as a
#   PVSCSI on the embedded runner: a kernel SYSLINUX loads through
#   SeaBIOS's MPT driver comes out with 56 bytes zeroed: SeaBIOS 1.16's 16-bit
#   MPT code writes through a stale ES; see src/deploy/hwplan.c.)
# - lsi-bios: that disk with edd=off on its kernel line boots through
#   SeaBIOS's MPT driver on the LSI Logic to READY: the loads are right.
# app NAME MODULE SUBTYPE: the appliance OD_HOST_TMP/NAME.ova
app() {
	build "$T_TMP/$1" "$2"
	if grep -q virtio "$T_TMP/$1.log"; then echo "a virtio driver slipped into the appliance"; return 1; fi
	mkdir -p "$T_TMP/app-$1" && cd "$T_TMP/app-$1" || return 1
	cp "../$1/tiny-disk.raw" disk0.raw && vmdk disk0 || return 1
	{
		ctrl 3 "SCSI controller 0" 6 "$3" 0
		ctrl 4 "IDE 0" 5 "" 0
		ctrl 5 "IDE 1" 5 "" 1
		disk 6 "Hard disk 1" disk0 3 0
		cd_ 7 5 0
		nic 8 VmxNet3
	} | devices=2 ovf "$1" disk0 >"$1.ovf" && "$O" -q pack "$1.ovf" -o "../$1.ova"
	rc=$?
	cd - >/dev/null
	return $rc
}
nested_host_prepare() {
	command -v mcopy >/dev/null || return 1
	O=$OVFDEPLOY
	app vmw "vmw_pvscsi vmxnet3 ata_piix" VirtualSCSI || return 1
	mcopy -o -i "$T_TMP/vmw/tiny-disk.raw@@1048576" ::/vmlinuz ::/initrd.gz "$T_TMP/vmw/" || return 1
	build "$T_TMP/lsi" mptspi
	if grep -q virtio "$T_TMP/lsi.log"; then echo "a virtio driver slipped into the appliance"; return 1; fi
	# the kernel and initramfs from its boot partition (at 1 MiB)
	mcopy -o -i "$T_TMP/lsi/tiny-disk.raw@@1048576" ::/vmlinuz ::/initrd.gz ::/syslinux.cfg "$T_TMP/lsi/" || return 1
	# the same disk with edd=off on the kernel line, for the SeaBIOS boot
	# through the LSI Logic below
	cp "$T_TMP/lsi/tiny-disk.raw" "$T_TMP/lsi/bios-disk.raw" &&
		sed -i 's/^\( *APPEND .*\)$/\1 edd=off/' "$T_TMP/lsi/syslinux.cfg" &&
		grep -q 'APPEND .*edd=off' "$T_TMP/lsi/syslinux.cfg" &&
		mcopy -o -i "$T_TMP/lsi/bios-disk.raw@@1048576" "$T_TMP/lsi/syslinux.cfg" ::/syslinux.cfg
}
. "${top_srcdir:-.}/tests/deploy/vmware-ovf.sh"
. "${top_srcdir:-.}/tests/nested/lib.sh"

# boot NAME DRIVER CD-DRIVER: deploy and boot NAME.ova, check it used
# DRIVER for its disk and CD-DRIVER for the environment CD
boot() {
	OVA=$OD_HOST_TMP/$1.ova
	s=$(date +%s)
	timeout "$BOOT_TIMEOUT" "$O" "$OVA" --accept-eula --backend embedded --name "$1" --prop appliance.oneshot=true \
		--prop "appliance.greeting=from the CD on $2" </dev/null >"$1.log" 2>"$1.err"
	rc=$?
	if reset_fault "$1.log" "$1.err"; then
		echo "# the deploy's boot reset in SYSLINUX (issue 14's known fault); its console, then one more start:"
		console "$1.log"
		timeout "$BOOT_TIMEOUT" "$O" start -f "$1" </dev/null >"$1.log" 2>>"$1.err"
		rc=$?
	fi
	echo "# $1: deploy to power-off: $(($(date +%s) - s)) s"
	[ $rc -eq 0 ] && grep -aq "APPLIANCE READY" "$1.log" && ok "$1: READY, power-off, exit 0" ||
		{ fail "$1: the VMware-style appliance (exit $rc)"; console "$1.log"; sed 's/^/  err| /' "$1.err"; }
	expect_grep "embedded" "$1.err" "$1: the embedded runner was used"
	check_line "$1.log" "hwtest disk sda driver $2" "$1: the guest finds its disk through $2"
	check_line "$1.log" "hwtest disk sr0 driver $3" "$1: the environment CD is on $3"
	check_line "$1.log" "property appliance.greeting=from the CD on $2" "$1: the guest reads its OVF environment from that CD"
	check_line "$1.log" "boot count 1" "$1: the guest writes its disk through $2"
	if grep -aq "hwtest disk vd" "$1.log"; then fail "$1: a virtio disk showed up"; else ok "$1: no virtio disk"; fi
	check_line "$1.log" "network eth0 address 10.0.2.15" "$1: a DHCP lease"
	check_line "$1.log" "hwtest nic eth0 driver vmxnet3" "$1: ... on VMXNET3"
	if grep -aq "virtio" "$1.err"; then fail "$1: a virtio device was mentioned: $(grep virtio "$1.err" | head -2)"; else ok "$1: no virtio stand-in"; fi
	if grep -aiq "warning:.*controller" "$1.err"; then fail "$1: a controller was substituted"; sed 's/^/  err| /' "$1.err"; else ok "$1: the controller is exact"; fi
}
boot vmw vmw_pvscsi ata_piix

# HTTP through --forward on VMXNET3, with a page larger than one segment:
# the guest's TCP hands the NIC TSO packets that the runner cuts up
port=$(free_port)
big=$(python3 -c 'print("".join("vmxnet3-%05d." % i for i in range(2000)))')
trap '"$O" stop --timeout 5 web >/dev/null 2>&1' EXIT
expect_exit 0 "deploy a second one with a forwarded port" -- "$O" -q deploy "$OD_HOST_TMP/vmw.ova" --accept-eula --backend embedded \
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

"$O" stop --timeout 5 web >/dev/null 2>&1

# direct NAME BUILD DISK-ARG...: BUILD's kernel and initramfs run directly
# with the disks, the console in NAME.log; the appliance has no OVF
# environment there, so it does not power off: READY is enough
direct() {
	name=$1 kdir=$OD_HOST_TMP/$2
	shift 2
	args=
	for a in "$@"; do args="$args --disk $a"; done
	s=$(date +%s)
	# shellcheck disable=SC2086 # one word per disk argument
	timeout "$BOOT_TIMEOUT" "$O" run --kernel "$kdir/vmlinuz" --initrd "$kdir/initrd.gz" \
		--append "console=ttyS0 loglevel=7" $args --memory 256M \
		--console "file:$PWD/$name.log" --timeout 60 </dev/null >"$name.out" 2>&1
	echo "# $name: run to READY and the timeout: $(($(date +%s) - s)) s"
	grep -aq "APPLIANCE READY" "$name.log" && ok "$name: READY" ||
		{ fail "$name: no READY"; console "$name.log"; sed 's/^/  out| /' "$name.out"; }
}

# ide: the disk and a CD on the PIIX3 IDE (primary master and slave)
cp "$OD_HOST_TMP/vmw/tiny-disk.raw" ide-disk.raw
head -c 1048576 /dev/urandom >ide-cd.iso
direct ide vmw ide-disk.raw,if=ide ide-cd.iso,if=ide,media=cdrom
check_line ide.log "ATA-7: OVFDEPLOY VIRTUAL-DISK" "ide: ata_piix found the ATA disk (IDENTIFY)"
check_line ide.log "ATAPI: OVFDEPLOY VIRTUAL-CDROM" "ide: ... and the ATAPI CD-ROM (IDENTIFY PACKET DEVICE)"
check_line ide.log "ata1: PATA max MWDMA2 cmd 0x1f0 ctl 0x3f6 bmdma" "ide: ata_piix took the primary channel with its bus master"
check_line ide.log "[sda] Attached SCSI disk" "ide: sd attached the disk"
check_line ide.log "[sr0] scsi3-mmc drive" "ide: sr took the CD-ROM"
if grep -aq "ata[0-9].*\(exception Emask\|failed command\|timeout\)\|BMDMA stat" ide.log; then
	fail "ide: libata reported an error"; grep -a "ata[0-9]" ide.log | sed 's/^/  | /' | head -30
else ok "ide: no exception, timeout or failed command from libata"; fi

if few; then
	echo "# sanitizer build: the mptspi boot on the LSI Logic is left to the plain pass"
	done_testing; exit
fi

# lsi: the disk on the LSI Logic
cp "$OD_HOST_TMP/lsi/tiny-disk.raw" lsi-disk.raw
direct lsi lsi lsi-disk.raw,if=lsilogic
check_line lsi.log "ioc0: LSI53C1030" "lsi: mptbase brought the IOC up"
check_line lsi.log "Direct-Access     OVFDEPLY" "lsi: mptspi's bus scan found the disk"
check_line lsi.log "[sda] Attached SCSI disk" "lsi: sd attached it through mptspi"
if grep -aq "mptbase.*\(timeout\|fault\|FAILED\)\|mpt_config failed\|handshake failed" lsi.log; then
	fail "lsi: mptbase reported a fault"; grep -a "mpt" lsi.log | sed 's/^/  | /'
else ok "lsi: no fault, timeout or failed handshake from mptbase"; fi

# lsi-bios: SeaBIOS's MPT driver boots SYSLINUX and the kernel from the LSI
# Logic.  The kernel line has edd=off: SeaBIOS 1.16's 16-bit MPT code zeroes
# 56 bytes just above 1 MiB on every INT 13h (see src/deploy/hwplan.c), and
# the kernel's EDD probe is the one call made after the kernel is in place.
# If SeaBIOS's loads themselves were wrong, XZ would say so here too.
cp "$OD_HOST_TMP/lsi/bios-disk.raw" lsib.raw
s=$(date +%s)
"$O" run --firmware /usr/share/seabios/bios-256k.bin --disk lsib.raw,if=lsilogic --memory 256M \
	--console "file:$PWD/lsib.log" --timeout "$BOOT_TIMEOUT" </dev/null >lsib.out 2>&1 &
pid=$!
wait_log lsib.log "APPLIANCE READY|System halted|Kernel panic" "$BOOT_TIMEOUT"
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
echo "# lsi-bios: run to READY: $(($(date +%s) - s)) s"
grep -aq "APPLIANCE READY" lsib.log && ok "lsi-bios: SeaBIOS's MPT driver loads SYSLINUX, the kernel and initramfs intact; READY" ||
	{ fail "lsi-bios: no READY"; console lsib.log; sed 's/^/  out| /' lsib.out; }
check_line lsib.log "boot count 1" "lsi-bios: the booted appliance finds and writes its disk through mptspi"
done_testing
