#!/bin/sh
# pvscsi_linux.sh - the path of a VMware appliance whose only disk driver
# is vmw_pvscsi: SeaBIOS (bios-256k.bin) boots syslinux from a disk on the
# runner's PVSCSI adapter, syslinux loads Debian's kernel and an initramfs
# through INT 13h (SeaBIOS's pvscsi driver on our rings), and Linux, with
# vmw_pvscsi, sd_mod and sr_mod and no virtio driver at all, finds the disk
# and a CD-ROM, reads both whole (md5 against the files), writes a sector
# with O_DIRECT and fsync and powers off.  Linux does not boot on this
# project's PVM /dev/kvm: the run happens in the nested test bed
# (tests/nested/run-in-guest), and the test skips where that is missing.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
. "$top_srcdir/tests/runner/initramfs.sh"
plain_pass_only "the PVSCSI Linux boot"
bed=${OVFDEPLOY_NESTED_BED:-$top_srcdir/tests/nested/run-in-guest}
[ -x "$bed" ] || skip "no nested test bed ($bed)"
command -v python3 >/dev/null || skip "python3 missing"
BB=/bin/busybox
[ -x $BB ] && $BB --list 2>/dev/null | grep -qx insmod || skip "busybox-static is missing"
cache=${TINY_CACHE:-${top_builddir:-.}/samples/out/cache}
# make check runs tests in parallel: the sample's build may not have filled
# the kernel cache yet, so fill it here (build-tiny.sh takes turns on it)
if ! ls -d "$cache"/linux-image-*-amd64_*/.unpacked >/dev/null 2>&1; then
	TINY_CACHE=$cache sh "$top_srcdir/samples/build-tiny.sh" --output pvscsi-linux-unused.raw "$T_TMP" >"$T_TMP/build.log" 2>&1
	rc=$?
	[ $rc -eq 3 ] && skip "the sample's kernel package could not be obtained (offline?)"
	[ $rc -eq 0 ] || { tail "$T_TMP/build.log"; echo "FAIL - samples/build-tiny.sh (exit $rc)"; exit 1; }
fi
kdir=$(ls -d "$cache"/linux-image-*-amd64_*/ 2>/dev/null | LC_ALL=C sort | tail -n 1)
kdir=${kdir%/}
[ -n "$kdir" ] && [ -e "$kdir/.unpacked" ] || skip "no unpacked kernel package in $cache (make sample, or set TINY_CACHE)"
kver=$(ls "$kdir/lib/modules" | head -n 1)
kernel=$kdir/boot/vmlinuz-$kver
moddir=$kdir/lib/modules/$kver/kernel
d=$T_TMP

BIOS=/usr/share/seabios/bios-256k.bin
MBR=/usr/lib/syslinux/mbr/mbr.bin
[ -r $BIOS ] || skip "$BIOS missing (Debian package seabios)"
[ -r $MBR ] || skip "$MBR missing (Debian package syslinux)"
for t in mkfs.fat syslinux sfdisk mcopy; do
	command -v $t >/dev/null || skip "$t missing"
done

# an initramfs: busybox, the SCSI modules (each after those it uses), /init
mods="scsi_common scsi_mod vmw_pvscsi crct10dif_common crc-t10dif crc64 crc64_rocksoft_generic crc64-rocksoft t10-pi
sd_mod cdrom sr_mod"
# shellcheck disable=SC2086 # one word a module
initramfs_mods "$moddir" "$d/mods" $mods || skip "module $initramfs_missing is not in $kdir"
cat >"$d/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod /lib/modules/$m.ko || echo "INSMOD FAIL $m"; done </modules
n=0
while { [ ! -b /dev/sda ] || [ ! -b /dev/sr0 ]; } && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
echo "SDA $(md5sum </dev/sda | cut -d' ' -f1) $(blockdev --getsize64 /dev/sda)"
echo "SR0 $(md5sum </dev/sr0 | cut -d' ' -f1) $(blockdev --getsize64 /dev/sr0)"
echo "MODEL $(cat /sys/block/sda/device/vendor) $(cat /sys/block/sda/device/model) $(cat /sys/block/sr0/device/model)"
printf 'written by linux on pvscsi\n' | dd of=/dev/sda bs=512 seek=1 conv=sync,fsync oflag=direct 2>/dev/null &&
	echo "WRITE OK"
dmesg | grep -i -E 'pvscsi|sd 0:|sr 0:' | sed 's/^/DMESG /'
echo DONE
poweroff -f
EOF
initramfs_build "$d/initrd" "$BB" "$d/init" "$d/mods" || fail "initramfs"

# the boot disk: syslinux, the kernel and the initramfs on a FAT partition
# from sector 2048 of 48 MiB; and a 2 MiB "disc" of random bytes
printf 'DEFAULT linux\nSERIAL 0 115200\nLABEL linux\n KERNEL vmlinuz\n APPEND initrd=initrd console=ttyS0 loglevel=4\n' \
	>"$d/syslinux.cfg"
bootdisk_build "$d/disk.raw" "$kernel" "$d/initrd" "$d/syslinux.cfg" $MBR || skip "could not make the boot disk"
head -c 2097152 /dev/urandom >"$d/cd.iso"
disk_md5=$(md5sum <"$d/disk.raw" | cut -d' ' -f1)
cd_md5=$(md5sum <"$d/cd.iso" | cut -d' ' -f1)

cat >"$d/in.sh" <<EOF
rm -f "$d/console.txt"
"$OVFDEPLOY" run --memory 256M --firmware $BIOS \
	--disk "$d/disk.raw,if=pvscsi" --disk "$d/cd.iso,if=pvscsi,media=cdrom" \
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
expect_grep "SYSLINUX [0-9.]+ .*Copyright" "$c.n" "SeaBIOS booted syslinux from the PVSCSI disk"
expect_grep "SDA $disk_md5 50331648" "$c.n" "Linux reads the PVSCSI disk whole, as in the file"
expect_grep "SR0 $cd_md5 2097152" "$c.n" "Linux reads the PVSCSI CD-ROM whole, as in the file"
expect_grep "MODEL OVFDEPLY +VIRTUAL-DISK +VIRTUAL-CDROM" "$c.n" "sd and sr see our INQUIRY data"
expect_grep "WRITE OK" "$c.n" "a synchronous write succeeds"
python3 -c 'import sys
f = open(sys.argv[1], "rb"); f.seek(512)
sys.exit(0 if f.read(27) == b"written by linux on pvscsi\n" else 1)' "$d/disk.raw" &&
	ok "the guest's write is in the file" || fail "sector 1 of the file"
expect_grep "DMESG .*VMware PVSCSI rev" "$c.n" "vmw_pvscsi probed the adapter"
expect_grep "DMESG .*vmw_pvscsi: using MSI" "$c.n" "vmw_pvscsi uses our MSI"
grep '^DMESG' "$c.n" | sed 's/^/# /'
done_testing
