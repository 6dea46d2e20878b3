# linux_disks.sh - the Linux boot that pvscsi_linux.sh and ide_linux.sh
# share (sourced after tests/cli/lib.sh, tests/runner/lib.sh and
# tests/runner/initramfs.sh): SeaBIOS boots syslinux from a disk on one of
# the runner's controllers, syslinux loads Debian's kernel and an initramfs
# through INT 13h (SeaBIOS's driver on our device), and Linux, with only
# that controller's driver, sd_mod and sr_mod and no virtio driver at all,
# finds the disk and a CD-ROM on the same controller, reads both whole (md5
# against the files), writes a sector with O_DIRECT and fsync and powers
# off.  Linux does not boot on this project's PVM /dev/kvm: the run happens
# in the nested test bed (tests/nested/run-in-guest), and the test skips
# where that is missing.

# linux_disks BUS NAME BIOS DMESG-RE MODULE...: the boot with the disk and
# CD on --disk ...,if=BUS (NAME in the messages), firmware BIOS, the
# controller's MODULEs (each after those it uses) before sd_mod and sr_mod;
# the kernel's lines matching DMESG-RE come out as "DMESG ...", the disks'
# vendor and models as "MODEL ...", libata's transfer modes as "XFER ...", in $c.n ($T_TMP/console.txt.n),
# for the caller's own checks.
linux_disks() {
	ld_bus=$1 ld_name=$2 BIOS=$3 ld_re=$4
	shift 4
	plain_pass_only "the $ld_name Linux boot"
	bed=${OVFDEPLOY_NESTED_BED:-$top_srcdir/tests/nested/run-in-guest}
	[ -x "$bed" ] || skip "no nested test bed ($bed)"
	command -v python3 >/dev/null || skip "python3 missing"
	BB=/bin/busybox
	[ -x $BB ] && $BB --list 2>/dev/null | grep -qx insmod || skip "busybox-static is missing"
	cache=${TINY_CACHE:-${top_builddir:-.}/samples/out/cache}
	# make check runs tests in parallel: the sample's build may not have
	# filled the kernel cache yet, so fill it here (build-tiny.sh takes
	# turns on it)
	if ! ls -d "$cache"/linux-image-*-amd64_*/.unpacked >/dev/null 2>&1; then
		TINY_CACHE=$cache sh "$top_srcdir/samples/build-tiny.sh" --output linux-disks-unused.raw "$T_TMP" \
			>"$T_TMP/build.log" 2>&1
		rc=$?
		[ $rc -eq 3 ] && skip "the sample's kernel package could not be obtained (offline?)"
		[ $rc -eq 0 ] || { tail "$T_TMP/build.log"; echo "FAIL - samples/build-tiny.sh (exit $rc)"; exit 1; }
	fi
	initramfs_kernel "$cache" && [ -e "$kdir/.unpacked" ] ||
		skip "no unpacked kernel package in $cache (make sample, or set TINY_CACHE)"
	d=$T_TMP
	MBR=/usr/lib/syslinux/mbr/mbr.bin
	[ -r "$BIOS" ] || skip "$BIOS missing (Debian package seabios)"
	[ -r $MBR ] || skip "$MBR missing (Debian package syslinux)"
	for t in mkfs.fat syslinux sfdisk mcopy; do
		command -v $t >/dev/null || skip "$t missing"
	done

	# an initramfs: busybox, the modules (each after those it uses), /init
	# shellcheck disable=SC2086 # one word a module
	initramfs_mods "$moddir" "$d/mods" scsi_common scsi_mod "$@" crct10dif_common crc-t10dif crc64 \
		crc64_rocksoft_generic crc64-rocksoft t10-pi sd_mod cdrom sr_mod ||
		skip "module $initramfs_missing is not in $kdir"
	cat >"$d/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod /lib/modules/\$m.ko || echo "INSMOD FAIL \$m"; done </modules
n=0
while { [ ! -b /dev/sda ] || [ ! -b /dev/sr0 ]; } && [ \$n -lt 300 ]; do sleep 0.1; n=\$((n + 1)); done
echo "SDA \$(md5sum </dev/sda | cut -d' ' -f1) \$(blockdev --getsize64 /dev/sda)"
echo "SR0 \$(md5sum </dev/sr0 | cut -d' ' -f1) \$(blockdev --getsize64 /dev/sr0)"
echo "MODEL \$(cat /sys/block/sda/device/vendor) \$(cat /sys/block/sda/device/model) \$(cat /sys/block/sr0/device/model)"
printf 'written by linux on $ld_bus\n' | dd of=/dev/sda bs=512 seek=1 conv=sync,fsync oflag=direct 2>/dev/null &&
	echo "WRITE OK"
dmesg | grep -i -E '$ld_re' | sed 's/^/DMESG /'
for f in /sys/class/ata_device/*/xfer_mode /sys/class/ata_device/*/dma_mode; do
	[ -e "\$f" ] && echo "XFER \$f \$(cat "\$f")"
done
echo DONE
sleep 1 # the console's last lines out of the UART before the power goes
poweroff -f
EOF
	initramfs_build "$d/initrd" "$BB" "$d/init" "$d/mods" || fail "initramfs"

	# the boot disk: syslinux, the kernel and the initramfs on a FAT
	# partition from sector 2048 of 48 MiB; and a 2 MiB "disc" of random bytes
	printf 'DEFAULT linux\nSERIAL 0 115200\nLABEL linux\n KERNEL vmlinuz\n APPEND initrd=initrd console=ttyS0 loglevel=4\n' \
		>"$d/syslinux.cfg"
	bootdisk_build "$d/disk.raw" "$kernel" "$d/initrd" "$d/syslinux.cfg" $MBR || skip "could not make the boot disk"
	head -c 2097152 /dev/urandom >"$d/cd.iso"
	disk_md5=$(md5sum <"$d/disk.raw" | cut -d' ' -f1)
	cd_md5=$(md5sum <"$d/cd.iso" | cut -d' ' -f1)

	cat >"$d/in.sh" <<EOF
rm -f "$d/console.txt"
"$OVFDEPLOY" run --memory 256M --firmware $BIOS \
	--disk "$d/disk.raw,if=$ld_bus" --disk "$d/cd.iso,if=$ld_bus,media=cdrom" \
	--console "file:$d/console.txt" --timeout 400
EOF
	"$bed" --rw "$d" --timeout 600 --retry-stalled -- sh "$d/in.sh" >"$d/bed.out" 2>&1
	rc=$?
	[ $rc -eq 77 ] && skip "no KVM for the nested tests: $(tail -n 1 "$d/bed.out")"
	if [ $rc -eq 0 ]; then ok "the guest powered off (exit 0)"; else
		fail "exit $rc"; tail -n 30 "$d/bed.out" "$d/console.txt" 2>/dev/null | sed 's/^/  | /'
	fi
	c=$d/console.txt
	tr -d '\r' <"$c" >"$c.n" 2>/dev/null
	expect_grep "SYSLINUX [0-9.]+ .*Copyright" "$c.n" "SeaBIOS booted syslinux from the $ld_name disk"
	expect_grep "SDA $disk_md5 50331648" "$c.n" "Linux reads the $ld_name disk whole, as in the file"
	expect_grep "SR0 $cd_md5 2097152" "$c.n" "Linux reads the $ld_name CD-ROM whole, as in the file"
	expect_grep "WRITE OK" "$c.n" "a synchronous write succeeds"
	python3 -c 'import sys
f = open(sys.argv[1], "rb"); f.seek(512)
want = ("written by linux on %s\n" % sys.argv[2]).encode()
sys.exit(0 if f.read(len(want)) == want else 1)' "$d/disk.raw" "$ld_bus" &&
		ok "the guest's write is in the file" || fail "sector 1 of the file"
	grep '^DMESG\|^XFER' "$c.n" | sed 's/^/# /'
}
