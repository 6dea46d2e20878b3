#!/bin/sh
# build-tiny-efi.sh - the UEFI variant of the tiny sample appliance.
#
# Usage: samples/build-tiny-efi.sh [OUTDIR]        (default samples/out)
#
# Makes OUTDIR/tiny-efi-disk.raw: a 64 MiB GPT disk whose one partition is an
# EFI system partition (FAT16) holding systemd-boot (Debian's
# systemd-boot-efi) as the removable-media loader \EFI\BOOT\BOOTX64.EFI, one
# loader entry, and the very kernel and initramfs of the BIOS sample, taken
# from the disk build-tiny.sh makes (built first, cached).  The entry's
# command line is the APPEND line of samples/tiny/syslinux.cfg, so both
# variants print the same on the serial console and the screen.
#
# When ovfdeploy is built ($OVFDEPLOY, else ../ovfdeploy beside this
# directory) it also packs OUTDIR/tiny-efi.ova: samples/tiny.ovf declaring
# EFI firmware the way VMware does (<vmw:Config vmw:key="firmware"
# vmw:value="efi"/> in the VirtualHardwareSection).
#
# Reproducible like build-tiny.sh: fixed GUIDs, volume id and timestamps.
# Exit status: 0 built, 1 error, 3 the kernel package could not be obtained.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
: "${SOURCE_DATE_EPOCH:=1767225600}"
export SOURCE_DATE_EPOCH LC_ALL=C TZ=UTC MTOOLS_SKIP_CHECK=1

die() { echo "build-tiny-efi: $*" >&2; exit 1; }
boot=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
[ -r "$boot" ] || die "$boot not found (install systemd-boot-efi)"
for tool in mkfs.fat mcopy mmd sfdisk; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (install mtools dosfstools fdisk)"
done

rc=0
sh "$here/build-tiny.sh" "$out" >/dev/null || rc=$?
[ $rc -eq 0 ] || exit $rc
bios=$out/tiny-disk.raw

tmp=$(mktemp -d "$out/.build-efi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# The kernel, the initramfs and syslinux.cfg from the BIOS disk's FAT
# partition (it starts at 1 MiB).
mcopy -m -i "$bios@@1M" ::/vmlinuz ::/initrd.gz ::/syslinux.cfg "$tmp/"
append=$(sed -n 's/^ *APPEND  *//p' "$tmp/syslinux.cfg" | head -n 1)
[ -n "$append" ] || die "no APPEND line in the sample's syslinux.cfg"

mkdir -p "$tmp/loader/entries"
printf 'default tiny.conf\ntimeout 0\n' >"$tmp/loader/loader.conf"
cat >"$tmp/loader/entries/tiny.conf" <<EOC
title ovfdeploy tiny appliance (UEFI)
linux /vmlinuz
initrd /initrd.gz
options $append
EOC
cp "$boot" "$tmp/BOOTX64.EFI"
touch -d "@$SOURCE_DATE_EPOCH" "$tmp/loader/loader.conf" "$tmp/loader/entries/tiny.conf" "$tmp/BOOTX64.EFI"

# The EFI system partition: sectors 2048 .. 2048 + part_sectors - 1, clear
# of the backup GPT at the end of the 64 MiB disk.
part_start=2048
part_sectors=$((61 * 2048))
part=$tmp/esp.img
mkfs.fat --invariant -F 16 -n TINYEFI -h $part_start -C "$part" $((part_sectors / 2)) >/dev/null
mmd -i "$part" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries
mcopy -m -i "$part" "$tmp/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
mcopy -m -i "$part" "$tmp/loader/loader.conf" ::/loader/loader.conf
mcopy -m -i "$part" "$tmp/loader/entries/tiny.conf" ::/loader/entries/tiny.conf
# syslinux.cfg too: the appliance counts its boots on the partition that has it.
mcopy -m -i "$part" "$tmp/vmlinuz" "$tmp/initrd.gz" "$tmp/syslinux.cfg" ::/

raw=$tmp/tiny-efi-disk.raw
truncate -s 64M "$raw"
sfdisk -q --no-reread --no-tell-kernel "$raw" >/dev/null <<EOC
label: gpt
label-id: 6F766664-6570-6C6F-7900-74696E790000
unit: sectors
first-lba: 2048

start=$part_start, size=$part_sectors, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=6F766664-6570-6C6F-7900-74696E790002, name="EFI system partition"
EOC
dd if="$part" of="$raw" bs=512 seek=$part_start conv=notrunc,sparse status=none
mv "$raw" "$out/tiny-efi-disk.raw"
echo "build-tiny-efi: $out/tiny-efi-disk.raw (64 MiB GPT disk, EFI system partition, systemd-boot), sha256 $(sha256sum "$out/tiny-efi-disk.raw" | cut -d' ' -f1)"

# --- The package ---------------------------------------------------------------
ovfdeploy=${OVFDEPLOY:-$here/../ovfdeploy}
if [ ! -x "$ovfdeploy" ]; then
	echo "build-tiny-efi: ovfdeploy not built: no OVA packed"
	exit 0
fi
stage=$tmp/pack
mkdir "$stage"
vmwns='xmlns:vmw="http://www.vmware.com/schema/ovf" '
grep -q 'xmlns:vmw=' "$here/tiny.ovf" && vmwns=
sed -e "s|^<Envelope |<Envelope $vmwns|" \
	-e 's|<Info>The tiny sample appliance</Info>|<Info>The tiny sample appliance, UEFI variant</Info>|' \
	-e 's|^\( *\)</VirtualHardwareSection>|\1  <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>\n\1</VirtualHardwareSection>|' \
	"$here/tiny.ovf" >"$stage/tiny.ovf"
grep -q 'vmw:key="firmware"' "$stage/tiny.ovf" || die "could not declare the firmware in the descriptor"
"$ovfdeploy" -q convert -O vmdk -o subformat=streamOptimized "$out/tiny-efi-disk.raw" "$stage/tiny-disk1.vmdk"
"$ovfdeploy" -q pack "$stage/tiny.ovf" -o "$out/tiny-efi.ova"
echo "build-tiny-efi: wrote $out/tiny-efi.ova"
