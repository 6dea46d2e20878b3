# initramfs.sh - what the Linux boots of the runner's tests and benchmarks
# (tests/runner/pvscsi_linux.sh, bench/pvscsi.sh) hand Debian's kernel: an
# initramfs with busybox, kernel modules and an /init, and a boot disk with
# syslinux, the kernel and that initramfs.  Sourced by sh; defines these
# functions and nothing else (their scratch variables start with ir_).

# initramfs_kernel CACHE: the newest Debian kernel package unpacked in the
# sample's kernel cache CACHE: sets kdir (the package), kver, kernel (its
# bzImage) and moddir (its modules' kernel/ tree).  Status 1 when none.
initramfs_kernel() {
	kdir=$(ls -d "$1"/linux-image-*-amd64_*/ 2>/dev/null | LC_ALL=C sort | tail -n 1)
	kdir=${kdir%/}
	[ -n "$kdir" ] || return 1
	kver=$(ls "$kdir/lib/modules" | head -n 1)
	kernel=$kdir/boot/vmlinuz-$kver
	moddir=$kdir/lib/modules/$kver/kernel
}

# initramfs_mods MODDIR OUT MODULE...: a line "MODULE PATH" in OUT for each
# module, found by name under MODDIR, in the order given (each after those
# it uses).  Status 1, the module in $initramfs_missing, when one is not
# there.
initramfs_mods() {
	ir_moddir=$1 ir_out=$2
	shift 2
	: >"$ir_out" || return 1
	for ir_m in "$@"; do
		ir_f=$(find "$ir_moddir" -name "$ir_m.ko" | head -n 1)
		if [ -z "$ir_f" ]; then
			initramfs_missing=$ir_m
			return 1
		fi
		echo "$ir_m $ir_f" >>"$ir_out" || return 1
	done
}

# initramfs_build OUT BUSYBOX INIT MODS: a cpio archive (newc) in OUT with
# the directories /bin /dev /proc /sys /lib/modules, BUSYBOX as
# /bin/busybox, INIT as /init, each module of MODS (as initramfs_mods
# writes it) as /lib/modules/NAME.ko and their names, in order, in
# /modules for the init to load.
initramfs_build() {
	python3 - "$@" <<'PY'
import sys
out, bb, init, mods = sys.argv[1:]
buf = bytearray()
ino = [1]
def entry(name, mode, data=b''):
    hdr = '070701' + ''.join('%08x' % v for v in (ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0))
    ino[0] += 1
    buf.extend(hdr.encode() + name.encode() + b'\0')
    buf.extend(b'\0' * (-len(buf) % 4))
    buf.extend(data)
    buf.extend(b'\0' * (-len(buf) % 4))
for dname in ('bin', 'dev', 'proc', 'sys', 'lib', 'lib/modules'):
    entry(dname, 0o040755)
entry('bin/busybox', 0o100755, open(bb, 'rb').read())
entry('init', 0o100755, open(init, 'rb').read())
names = []
for line in open(mods):
    m, f = line.split()
    entry('lib/modules/%s.ko' % m, 0o100644, open(f, 'rb').read())
    names.append(m + '\n')
entry('modules', 0o100644, ''.join(names).encode())
entry('TRAILER!!!', 0)
open(out, 'wb').write(buf)
PY
}

# bootdisk_build OUT KERNEL INITRD CFG MBR: a 48 MiB disk image in OUT:
# the boot code of MBR (syslinux's mbr.bin) and one bootable FAT partition
# from sector 2048 with syslinux, KERNEL as /vmlinuz, INITRD as /initrd
# and CFG as /syslinux.cfg.  The partition is made in OUT.part, removed
# after.  Status non-zero when a step fails (mkfs.fat, syslinux, mtools,
# sfdisk).
bootdisk_build() {
	ir_part=$1.part
	truncate -s 47M "$ir_part" && mkfs.fat -n BOOT "$ir_part" >/dev/null &&
		syslinux --install "$ir_part" &&
		mcopy -i "$ir_part" "$2" ::/vmlinuz && mcopy -i "$ir_part" "$3" ::/initrd &&
		mcopy -i "$ir_part" "$4" ::/syslinux.cfg &&
		truncate -s 48M "$1" &&
		echo 'start=2048, type=6, bootable' | sfdisk -q "$1" &&
		dd if="$ir_part" of="$1" bs=512 seek=2048 conv=notrunc status=none &&
		dd if="$5" of="$1" bs=440 count=1 conv=notrunc status=none
	ir_rc=$?
	rm -f "$ir_part"
	return $ir_rc
}
