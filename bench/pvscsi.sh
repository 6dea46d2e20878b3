#!/bin/sh
# pvscsi.sh - sequential reads in a Linux guest, in the nested test bed
# (tests/nested/run-in-guest: real hardware-assisted KVM under QEMU/TCG):
#   ours-pvscsi   the embedded runner, the data disk on our PVSCSI
#   ours-virtio   the embedded runner, the data disk on our virtio-blk
#   qemu-pvscsi   QEMU with -accel kvm, the data disk on QEMU's pvscsi
# Each guest boots the same way (SeaBIOS bios-256k.bin, syslinux, Debian's
# kernel from a boot disk on the same controller as the data disk: SeaBIOS
# boots the first disk it finds), loads vmw_pvscsi, sd_mod and virtio_blk,
# then reads the whole 256 MiB data disk with dd bs=64k from the raw device
# RUNS times (the guest's page cache dropped before each; the images sit in
# the bed guest's tmpfs) and prints the time of each pass; the figures are
# MB/s of the median pass.
# Usage: bench/pvscsi.sh [BUILDDIR]   Env: RUNS (default 3), MIB (256),
# TINY_CACHE (the kernel), OVFDEPLOY_NESTED_BED (run-in-guest).
# Not a test: it prints figures and takes several minutes.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src}
OVFDEPLOY=$(cd "$build" && pwd)/ovfdeploy
bed=${OVFDEPLOY_NESTED_BED:-$src/tests/nested/run-in-guest}
runs=${RUNS:-3}
mib=${MIB:-256}
BIOS=/usr/share/seabios/bios-256k.bin
MBR=/usr/lib/syslinux/mbr/mbr.bin
die() { echo "pvscsi.sh: $*" >&2; exit 1; }
[ -x "$bed" ] || die "no nested test bed at $bed"
. "$src/tests/runner/initramfs.sh"
cache=${TINY_CACHE:-$build/samples/out/cache}
initramfs_kernel "$cache" || die "no unpacked kernel in $cache (make sample, or set TINY_CACHE)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-pvscsi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

mods="scsi_common scsi_mod vmw_pvscsi crct10dif_common crc-t10dif crc64 crc64_rocksoft_generic crc64-rocksoft t10-pi
sd_mod virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk"
# shellcheck disable=SC2086 # one word a module
initramfs_mods "$moddir" "$tmp/mods" $mods || die "module $initramfs_missing is not in $kdir"
cat >"$tmp/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod /lib/modules/\$m.ko 2>/dev/null; done </modules
want=$((mib * 2048))
dev=
n=0
while [ -z "\$dev" ] && [ \$n -lt 300 ]; do
	for s in /sys/block/*/size; do [ "\$(cat \$s)" = \$want ] && dev=\${s%/size} && dev=\${dev##*/}; done
	[ -n "\$dev" ] || sleep 0.1
	n=\$((n + 1))
done
echo "DEV \$dev"
[ -n "\$dev" ] || poweroff -f
for i in \$(seq $runs); do
	echo 3 >/proc/sys/vm/drop_caches
	t0=\$(cut -d' ' -f1 /proc/uptime)
	dd if=/dev/\$dev of=/dev/null bs=64k 2>/dev/null
	t1=\$(cut -d' ' -f1 /proc/uptime)
	echo "PASS \$t0 \$t1"
done
poweroff -f
EOF
initramfs_build "$tmp/initrd" /bin/busybox "$tmp/init" "$tmp/mods" || die "initramfs"
printf 'DEFAULT linux\nLABEL linux\n KERNEL vmlinuz\n APPEND initrd=initrd console=ttyS0 loglevel=3\n' >"$tmp/syslinux.cfg"
bootdisk_build "$tmp/boot.raw" "$kdir/boot/vmlinuz-$kver" "$tmp/initrd" "$tmp/syslinux.cfg" $MBR ||
	die "could not make the boot disk"
head -c $((mib << 20)) /dev/urandom >"$tmp/data.raw"

# the images go to the test-bed guest's tmpfs first: all three VMMs then
# read from memory, not through the bed's 9p share
cat >"$tmp/in.sh" <<EOF
mkdir -p /tmp/img && cp "$tmp/boot.raw" "$tmp/data.raw" /tmp/img/ && cd /tmp/img || exit 1
"$OVFDEPLOY" run --memory 512M --firmware $BIOS --no-rng --disk boot.raw,if=pvscsi,readonly \\
	--disk data.raw,if=pvscsi,readonly --console file:$tmp/ours-pvscsi.txt --timeout 600
"$OVFDEPLOY" run --memory 512M --firmware $BIOS --no-rng --disk boot.raw,readonly \\
	--disk data.raw,readonly --console file:$tmp/ours-virtio.txt --timeout 600
timeout 600 qemu-system-x86_64 -accel kvm -m 512M -bios $BIOS -nodefaults -display none -no-reboot \\
	-serial file:$tmp/qemu-pvscsi.txt -device pvscsi,id=s0 \\
	-drive if=none,id=b,file=boot.raw,format=raw,readonly=on \\
	-device scsi-hd,drive=b,bus=s0.0,scsi-id=0,bootindex=0 \\
	-drive if=none,id=d,file=data.raw,format=raw,readonly=on -device scsi-hd,drive=d,bus=s0.0,scsi-id=1
EOF
echo "pvscsi.sh: $runs passes of dd bs=64k over $mib MiB in each guest (this takes minutes)"
"$bed" --rw "$tmp" --timeout 1500 -- sh "$tmp/in.sh" >"$tmp/bed.out" 2>&1 || {
	tail -n 20 "$tmp/bed.out"
	die "the nested run failed"
}
for v in ours-pvscsi ours-virtio qemu-pvscsi; do
	tr -d '\r' <"$tmp/$v.txt" 2>/dev/null | grep -E '^(DEV|PASS) ' | sed "s/^/# $v: /"
done
for v in ours-pvscsi ours-virtio qemu-pvscsi; do
	tr -d '\r' <"$tmp/$v.txt" | awk -v v=$v -v mib=$mib '
		/^PASS / { t[++n] = $3 - $2 }
		END {
			if (!n) { printf "%-12s no figures\n", v; exit }
			s = ""; for (i = 1; i <= n; i++) s = s sprintf(" %.2fs", t[i])
			# median
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (t[j] < t[i]) { x = t[i]; t[i] = t[j]; t[j] = x }
			m = t[int((n + 1) / 2)]
			printf "%-12s %7.1f MB/s  (passes:%s)\n", v, (m > 0 ? mib * 1.048576 / m : 0), s
		}' | tee -a "$tmp/figures"
done
awk '{ r[$1] = $2 } END {
	if (r["qemu-pvscsi"] > 0) printf "ours-pvscsi / qemu-pvscsi = %.2f (goal >= 1)\n", r["ours-pvscsi"] / r["qemu-pvscsi"]
	if (r["ours-virtio"] > 0) printf "ours-pvscsi / ours-virtio = %.2f (goal >= 0.7)\n", r["ours-pvscsi"] / r["ours-virtio"]
}' "$tmp/figures"
