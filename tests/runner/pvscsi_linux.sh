#!/bin/sh
# pvscsi_linux.sh - the path of a VMware appliance whose only disk driver
# is vmw_pvscsi (linux_disks.sh): SeaBIOS (bios-256k.bin) boots syslinux
# from a disk on the runner's PVSCSI adapter, and Linux with vmw_pvscsi
# reads it and a CD-ROM beside it whole, and writes the disk.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
. "$top_srcdir/tests/runner/initramfs.sh"
. "$top_srcdir/tests/runner/linux_disks.sh"
linux_disks pvscsi PVSCSI /usr/share/seabios/bios-256k.bin 'pvscsi|sd 0:|sr 0:' vmw_pvscsi
expect_grep "MODEL OVFDEPLY +VIRTUAL-DISK +VIRTUAL-CDROM" "$c.n" "sd and sr see our INQUIRY data"
expect_grep "DMESG .*VMware PVSCSI rev" "$c.n" "vmw_pvscsi probed the adapter"
expect_grep "DMESG .*vmw_pvscsi: using MSI" "$c.n" "vmw_pvscsi uses our MSI"
done_testing
