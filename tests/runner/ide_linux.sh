#!/bin/sh
# ide_linux.sh - the path of a VMware appliance whose disk is on IDE
# (linux_disks.sh): the stock SeaBIOS boots syslinux from the primary
# master of the runner's PIIX3 IDE through its ATA driver, and Linux with
# ata_piix (libata) and no other disk driver finds the ATA disk and the
# ATAPI CD-ROM on the primary slave, sets a DMA mode, reads both whole
# through bus-master DMA and writes the disk.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
. "$top_srcdir/tests/runner/initramfs.sh"
. "$top_srcdir/tests/runner/linux_disks.sh"
linux_disks ide IDE /usr/share/seabios/bios.bin 'ata[0-9]|scsi [0-9]|sd 0:|sr 0:' libata ata_piix
expect_grep "MODEL ATA +OVFDEPLOY VIRTUA +VIRTUAL-CDROM" "$c.n" \
	"sd sees our IDENTIFY model (libata's INQUIRY: 16 characters), sr our SCSI layer's INQUIRY"
expect_grep "DMESG .*ata1: PATA max .* bmdma 0x[0-9a-f]+ irq 14" "$c.n" "ata_piix took the primary channel with its bus master, IRQ 14"
expect_grep "DMESG .*ata1\.00: ATA-7: OVFDEPLOY VIRTUAL-DISK" "$c.n" "libata: an ATA-7 disk"
expect_grep "DMESG .*ata1\.00: [0-9]+ sectors, multi 0: LBA48" "$c.n" "... with LBA48"
expect_grep "DMESG .*ata1\.01: ATAPI: OVFDEPLOY VIRTUAL-CDROM" "$c.n" "libata: an ATAPI CD-ROM"
expect_grep "XFER .*/dev1\.0/xfer_mode XFER_MW_DMA_2" "$c.n" "the disk runs multiword DMA 2 (SET FEATURES)"
expect_grep "XFER .*/dev1\.1/xfer_mode XFER_MW_DMA_2" "$c.n" "the CD-ROM too"
if grep -q "DMESG .*\(exception Emask\|failed command\|timeout\|BMDMA stat\)" "$c.n"; then
	fail "libata reported an error"; grep "DMESG .*ata" "$c.n" | sed 's/^/  | /'
else ok "no exception, timeout or failed command from libata"; fi
done_testing
