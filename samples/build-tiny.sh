#!/bin/sh
# build-tiny.sh - build the disk image of the tiny sample appliance.
#
# Usage: samples/build-tiny.sh [--disk-mib N] [--fill-mib M] [--output NAME] [--vmware-tools] [--modules LIST] [OUTDIR]
#   OUTDIR        default samples/out
#   --output      the disk's file name in OUTDIR (default tiny-disk.raw)
#   --disk-mib    the disk's capacity (default 64, what tiny.ovf declares)
#   --fill-mib    M MiB of incompressible data in a second partition: a big
#                 appliance for the deploy benchmark (the guest ignores it)
#   --vmware-tools  put open-vm-tools' vmware-rpctool (with its libraries) in
#                 the initramfs: /init then reads the OVF environment from
#                 guestinfo.ovfEnv when no environment CD is found
#   --modules     the kernel modules the initramfs loads, instead of the
#                 sample's set: e.g. VMware's drivers only, for a test appliance
#                 as built on VMware, with no virtio driver at all
#
# Makes OUTDIR/tiny-disk.raw: a 64 MiB MBR disk (the capacity samples/tiny.ovf
# declares) with one active FAT partition holding syslinux, the Debian kernel
# and a busybox initramfs whose /init is samples/tiny/init.  Everything comes
# from Debian packages and nothing needs root: the partition is made as a file
# with mkfs.fat and filled with mtools, and the initramfs is written by our own
# cpio writer, which can describe /dev/console without mknod.
#
# The kernel package is fetched once with `apt-get download` and unpacked into
# OUTDIR/cache (or $TINY_CACHE); later builds reuse it, without the network.
# The output is reproducible: fixed timestamps (SOURCE_DATE_EPOCH, default the
# date below), fixed volume and disk ids, sorted file lists.
#
# Exit status: 0 built, 1 error, 3 the kernel package could not be obtained
# (tests skip on 3: it usually means no Debian mirror is reachable).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: build-tiny.sh [--disk-mib N] [--fill-mib M] [--output NAME] [--vmware-tools] [--modules LIST] [OUTDIR]" >&2; exit 2; }
vmware_tools=no
modules=
disk_mib=64		# = ovf:capacity of disk1 in samples/tiny.ovf
fill_mib=0
name=tiny-disk.raw
while [ $# -gt 0 ]; do
	case $1 in
	--disk-mib) [ $# -ge 2 ] || usage; disk_mib=$2; shift 2 ;;
	--fill-mib) [ $# -ge 2 ] || usage; fill_mib=$2; shift 2 ;;
	--output) [ $# -ge 2 ] || usage; name=$2; shift 2 ;;
	--vmware-tools) vmware_tools=yes; shift ;;
	--modules) [ $# -ge 2 ] || usage; modules=$2; shift 2 ;;
	-*) usage ;;
	*) [ -z "${out:-}" ] || usage; out=$1; shift ;;
	esac
done
for n in "$disk_mib" "$fill_mib"; do
	case $n in '' | *[!0-9]*) echo "build-tiny: sizes are whole MiB, not '$n'" >&2; exit 2 ;; esac
done
case $name in '' | */*) echo "build-tiny: --output is a file name in OUTDIR" >&2; exit 2 ;; esac
# The boot partition always spans the first 64 MiB; a bigger disk gets the
# rest as a data partition, which must hold the fill.
if [ "$disk_mib" -lt 64 ]; then
	echo "build-tiny: the disk needs at least 64 MiB" >&2; exit 2
elif [ "$fill_mib" -gt 0 ] && [ "$fill_mib" -gt $((disk_mib - 64)) ]; then
	echo "build-tiny: --fill-mib $fill_mib does not fit beside the 64 MiB boot partition of a $disk_mib MiB disk" >&2
	exit 2
fi
out=${out:-$here/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cache=${TINY_CACHE:-$out/cache}
mkdir -p "$cache"
: "${SOURCE_DATE_EPOCH:=1767225600}"	# 2026-01-01 00:00:00 UTC
export SOURCE_DATE_EPOCH
export LC_ALL=C TZ=UTC

die() { echo "build-tiny: $*" >&2; exit 1; }
for tool in busybox dpkg-deb apt-get apt-cache mkfs.fat mcopy mmd syslinux sfdisk gzip; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (install: busybox-static syslinux syslinux-common mtools dosfstools fdisk)"
done
busybox=/bin/busybox
[ -x "$busybox" ] || die "$busybox not found (install busybox-static)"
mbr=/usr/lib/syslinux/mbr/mbr.bin
[ -r "$mbr" ] || die "$mbr not found (install syslinux-common)"

# Builds sharing a kernel cache (tests running in parallel) would trip over
# each other's downloads and unpacking: take turns.  The lock is held on a
# descriptor of this shell, so it ends with the build however that ends.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$cache/.lock"
	flock 9
fi

start=$(date +%s)
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# --- The kernel ------------------------------------------------------------
# linux-image-amd64 is a metapackage; the kernel is the versioned package it
# depends on.  A .deb already in the cache wins, so a cached build neither
# needs the network nor changes when the archive moves to a newer kernel.
deb=$(ls "$cache"/linux-image-*-amd64_*.deb 2>/dev/null | LC_ALL=C sort | tail -n 1 || true)
if [ -z "$deb" ]; then
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
	if [ -z "$pkg" ]; then
		echo "build-tiny: cannot resolve the kernel package behind linux-image-amd64 (apt-get update?)" >&2
		exit 3
	fi
	echo "build-tiny: downloading $pkg"
	if ! (cd "$tmp" && apt-get download "$pkg") >"$tmp/apt.log" 2>&1; then
		sed 's/^/  | /' "$tmp/apt.log" >&2
		echo "build-tiny: apt-get download $pkg failed" >&2
		exit 3
	fi
	mv "$tmp"/linux-image-*.deb "$cache/"
	deb=$(ls "$cache"/linux-image-*-amd64_*.deb | LC_ALL=C sort | tail -n 1)
fi
kdir=$cache/$(basename "$deb" .deb)
if [ ! -e "$kdir/.unpacked" ]; then
	echo "build-tiny: unpacking $(basename "$deb")"
	rm -rf "$kdir" "$kdir.tmp"	# leftovers of an interrupted unpacking
	dpkg-deb -x "$deb" "$kdir.tmp"
	touch "$kdir.tmp/.unpacked"
	mv "$kdir.tmp" "$kdir"
fi
kver=$(ls "$kdir/lib/modules" | head -n 1)
moddir=$kdir/lib/modules/$kver
vmlinuz=$kdir/boot/vmlinuz-$kver
[ -r "$vmlinuz" ] || die "no kernel image in $deb"

# --- Kernel modules --------------------------------------------------------
# What the guest needs: the virtio PCI transport, disks (virtio-blk,
# virtio-scsi, IDE/SATA), the environment CD (sr_mod + cdrom + isofs), the
# FAT partition for persistent data, the NICs (virtio-net, e1000), and the
# ACPI power button with evdev so acpid can turn a button press into a clean
# power-off.  The package carries no modules.dep (depmod runs at install), so
# the dependencies come from each module's own "depends=" field, which is what
# modprobe would follow; we order them so that each loads after its deps.
wanted="virtio_pci virtio_blk virtio_scsi virtio_net e1000
	ata_piix ahci sd_mod sr_mod cdrom isofs vfat nls_cp437 nls_ascii nls_utf8
	button evdev"
find "$moddir/kernel" -name '*.ko' | LC_ALL=C sort >"$tmp/allmods"
modpath() {	# name -> file, with - and _ equivalent as in module names
	n=$(echo "$1" | tr - _)
	awk -v n="$n" '{ b = $0; sub(/.*\//, "", b); sub(/\.ko$/, "", b); gsub(/-/, "_", b);
		if (b == n) { print; exit } }' "$tmp/allmods"
}
: >"$tmp/order"
visit() {
	grep -qx "$1" "$tmp/order" && return 0
	f=$(modpath "$1")
	if [ -z "$f" ]; then
		# Built into this kernel: nothing to load.
		grep -q "/$1\.ko\$" "$moddir/modules.builtin" 2>/dev/null && return 0
		die "module $1 not found in $kver"
	fi
	deps=$(tr '\0' '\n' <"$f" | sed -n 's/^depends=//p' | head -n 1 | tr ',' ' ')
	for d in $deps; do visit "$d"; done
	grep -qx "$1" "$tmp/order" || echo "$1" >>"$tmp/order"
}
# VMware's NIC and paravirtual SCSI, which samples/tiny.ovf declares so that
# vSphere imports it (a module named twice is loaded once)
wanted="$wanted vmxnet3 vmw_pvscsi"
[ -z "$modules" ] || wanted=$modules	# --modules: exactly these
for m in $wanted; do visit "$m"; done

# --- The initramfs ---------------------------------------------------------
root=$tmp/root
mkdir -p "$root/bin" "$root/lib/modules" "$root/etc/acpi/PWRF" "$root/www/cgi-bin" \
	"$root/www/poweroff" "$root/proc" "$root/sys" "$root/dev" "$root/mnt/env" \
	"$root/data" "$root/run" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
t=$here/tiny
install -m 0755 "$t/init" "$root/init"
install -m 0755 "$t/shutdown" "$root/bin/appliance-shutdown"
install -m 0755 "$t/udhcpc.script" "$root/etc/udhcpc.script"
install -m 0755 "$t/poweroff.cgi" "$root/www/cgi-bin/poweroff"
install -m 0755 "$t/index.cgi" "$root/www/cgi-bin/index.cgi"
install -m 0755 "$t/acpi-power" "$root/etc/acpi/PWRF/00000080"
while read -r m; do
	cp "$(modpath "$m")" "$root/lib/modules/$m.ko"
done <"$tmp/order"
cp "$tmp/order" "$root/lib/modules/load.order"
# efivarfs, loaded by /init only when booted by UEFI firmware (the UEFI
# variant of the sample, build-tiny-efi.sh, counts its boots in a variable).
f=$(modpath efivarfs)
if [ -n "$f" ]; then
	mkdir -p "$root/lib/modules/efi"
	cp "$f" "$root/lib/modules/efi/efivarfs.ko"
fi
if [ "$vmware_tools" = yes ]; then
	# vmware-rpctool needs only libc: the binary, then each library and
	# the ELF interpreter ldd names, at the same paths
	rpctool=$(command -v vmware-rpctool) || die "--vmware-tools: vmware-rpctool not found (install open-vm-tools)"
	cp "$rpctool" "$root/bin/vmware-rpctool"
	ldd "$rpctool" | sed -n -e 's|.*=> \(/[^ ]*\) .*|\1|p' -e 's|^[[:space:]]*\(/[^ ]*\) (.*|\1|p' >"$tmp/libs"
	[ -s "$tmp/libs" ] || die "--vmware-tools: ldd names no libraries for $rpctool"
	while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done <"$tmp/libs"
fi
echo "$kver" >"$root/etc/kernel-release"

# cpio_newc DIR >ARCHIVE: write DIR as a cpio "newc" archive (what the kernel
# unpacks as an initramfs), plus /dev/console.  Every entry gets uid/gid 0,
# mtime $SOURCE_DATE_EPOCH and a sequential inode number, so the bytes depend
# only on the tree's contents.  Only the modes 0755/0644 are kept.
pad4() {	# NUL bytes up to the next multiple of 4 after $1 bytes
	case $(($1 % 4)) in
	1) printf '\0\0\0' ;; 2) printf '\0\0' ;; 3) printf '\0' ;;
	esac
}
cpio_entry() {	# ino mode size rdevmajor rdevminor name [file|-linktarget]
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		"$1" "$2" 0 0 1 "$SOURCE_DATE_EPOCH" "$3" 0 0 "$4" "$5" $((${#6} + 1)) 0
	printf '%s\0' "$6"
	pad4 $((110 + ${#6} + 1))
	if [ "$3" -gt 0 ]; then
		case $7 in
		-*) printf '%s' "${7#-}" ;;
		*) cat "$7" ;;
		esac
		pad4 "$3"
	fi
}
cpio_newc() {
	ino=1
	(cd "$1" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort) >"$tmp/files"
	{ cat "$tmp/files"; echo dev/console; } | LC_ALL=C sort | while IFS= read -r p; do
		ino=$((ino + 1))
		f=$1/$p
		if [ "$p" = dev/console ]; then
			cpio_entry $ino $((0020600)) 0 5 1 "$p"
		elif [ -L "$f" ]; then
			l=$(readlink "$f")
			cpio_entry $ino $((0120777)) ${#l} 0 0 "$p" "-$l"
		elif [ -d "$f" ]; then
			cpio_entry $ino $((0040755)) 0 0 0 "$p"
		else
			mode=0100644
			[ -x "$f" ] && mode=0100755
			cpio_entry $ino $((mode)) "$(stat -c %s "$f")" 0 0 "$p" "$f"
		fi
	done
	cpio_entry 0 0 0 0 0 'TRAILER!!!'
}
cpio_newc "$root" | gzip -9 -n >"$tmp/initrd.gz"

# --- The FAT partition and the disk ------------------------------------------
part_start=2048		# sectors: the usual 1 MiB alignment
part_sectors=$((64 * 2048 - part_start))
part=$tmp/part.img
cp "$vmlinuz" "$tmp/vmlinuz"
cp "$t/syslinux.cfg" "$tmp/syslinux.cfg"
touch -d "@$SOURCE_DATE_EPOCH" "$tmp/vmlinuz" "$tmp/initrd.gz" "$tmp/syslinux.cfg"
# --invariant fixes the volume id and the timestamps mkfs.fat would take from
# the clock; -h records where the partition starts, which the syslinux boot
# sector needs to find its own files.
mkfs.fat --invariant -F 16 -n TINYBOOT -h $part_start -C "$part" $((part_sectors / 2)) >/dev/null
syslinux --install "$part"
# mtools stamps what it writes with the clock unless told otherwise: -m keeps
# the (fixed) mtime of the source files.
export MTOOLS_SKIP_CHECK=1
mcopy -m -i "$part" "$tmp/syslinux.cfg" "$tmp/vmlinuz" "$tmp/initrd.gz" ::/

raw=$tmp/tiny-disk.raw
truncate -s "${disk_mib}M" "$raw"
# A fixed disk identifier keeps the MBR reproducible; type 0e is FAT16 (LBA).
sfdisk -q --no-reread --no-tell-kernel "$raw" >/dev/null <<EOF
label: dos
label-id: 0x0df0df00
unit: sectors

start=$part_start, size=$part_sectors, type=e, bootable
EOF
if [ "$disk_mib" -gt 64 ]; then
	# The data partition (type da: non-filesystem data).
	echo "start=$((64 * 2048)), type=da" |
		sfdisk -q --no-reread --no-tell-kernel --append "$raw" >/dev/null
fi
if [ "$fill_mib" -gt 0 ]; then
	# AES-CTR of zeros with a fixed key: incompressible, so the data really
	# has to be stored and copied, yet the same at every build.
	command -v openssl >/dev/null 2>&1 || die "--fill-mib needs openssl"
	openssl enc -aes-128-ctr -nosalt -K 0df0df0df0df0df0df0df0df0df0df00 \
		-iv 00000000000000000000000000000000 </dev/zero 2>/dev/null |
		dd of="$raw" bs=1M seek=64 count="$fill_mib" iflag=fullblock conv=notrunc status=none
fi
dd if="$mbr" of="$raw" bs=440 count=1 conv=notrunc status=none
dd if="$part" of="$raw" bs=512 seek=$part_start conv=notrunc,sparse status=none
mv "$raw" "$out/$name"

end=$(date +%s)
echo "build-tiny: kernel $kver ($(basename "$deb")), $(wc -l <"$tmp/order") modules, initramfs $(stat -c %s "$tmp/initrd.gz") bytes"
fill=
[ "$fill_mib" -gt 0 ] && fill=", $fill_mib MiB of data"
echo "build-tiny: $out/$name (${disk_mib} MiB raw disk$fill), sha256 $(sha256sum "$out/$name" | cut -d' ' -f1)"
echo "build-tiny: kernel package cache: $cache; built in $((end - start)) s"
