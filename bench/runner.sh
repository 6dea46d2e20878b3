#!/bin/sh
# runner.sh - the embedded runner against QEMU (-accel kvm) on this host,
# with the same firmware files:
#   1. exec to first serial byte: a 64 KiB test guest (tests/runner/guest.S,
#      T_SERIAL) prints PASS and resets, which ends both VMMs; the whole
#      run is timed, so the figure includes start-up and tear-down
#   1b. direct PVH boot: a stand-in vmlinux (tests/runner/pvh_guest.S)
#      with an initrd checks its start_info, prints and powers off; whole
#      run, against qemu -kernel (which goes through SeaBIOS and its
#      PVH option ROM)
#   2. exec to the SeaBIOS banner on the serial console (polled every 2 ms),
#      and exec to the boot loader's banner booting a syslinux disk
#   3. VMM memory overhead: RSS of a VM whose guest halts at once (so it
#      touches almost no RAM), 256 MiB of guest RAM
#   4. virtio-blk device throughput with 64 KiB requests driven from fake
#      guest memory, without KVM: raw, qcow2, and streamOptimized VMDK twice,
#      once of random data (deflate stores it: the read path's overhead) and
#      once of this host's /usr files (real inflating, what a deployed
#      appliance disk costs); with the runner's readahead workers, or RA=n
#      of them (RA=0: inflate inline, as before disk_readahead_start)
#   5. nested: the sample appliance on real KVM in the nested test bed,
#      embedded against QEMU with KVM (bench/nested.sh)
# Usage: bench/runner.sh [BUILDDIR]   (default: the source tree)
# Not a test: it prints figures and takes a minute or so.  Needs python3 (timer).
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src}
OVFDEPLOY=$build/ovfdeploy
BIOS=/usr/share/seabios/bios.bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
runs=${RUNS:-5}


gcc -m32 -c -DT_SERIAL -o "$tmp/g.o" "$src/tests/runner/guest.S" &&
	ld -m elf_i386 -T "$src/tests/runner/guest.ld" -o "$tmp/serial.bin" "$tmp/g.o" || exit 1
gcc -m32 -c -DT_HALT -o "$tmp/h.o" "$src/tests/runner/guest.S" &&
	ld -m elf_i386 -T "$src/tests/runner/guest.ld" -o "$tmp/halt.bin" "$tmp/h.o" || exit 1

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# whole_run RUNS PATTERN FILE CMD...: the median wall time of RUNS runs of
# CMD whose FILE then matches PATTERN.  Timed by python3 around the child
# alone: stamping the time with `date` processes before and after, as the
# rest of this script does, adds 2-4 ms of their start-up to each figure,
# which is most of ours here.
whole_run() {
	python3 - "$@" <<'PY'
import os, re, statistics, subprocess, sys, time
runs, pattern, out, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
times = []
for _ in range(runs):
    if os.path.exists(out):
        os.unlink(out)
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t = time.perf_counter() - t
    if os.path.exists(out) and re.search(pattern, open(out, errors='replace').read()):
        times.append(t * 1000)
print('%.1f ms' % statistics.median(times) if times else 'no run printed %s' % pattern)
PY
}

echo "== first serial byte (whole run, median of $runs) =="
echo "ovfdeploy: $(whole_run $runs PASS "$tmp/o" "$OVFDEPLOY" run --memory 64M --firmware "$tmp/serial.bin" \
	--console "file:$tmp/o" --timeout 20)"
echo "qemu: $(whole_run $runs PASS "$tmp/o" qemu-system-x86_64 -accel kvm -m 64 -nodefaults -display none -no-reboot \
	-bios "$tmp/serial.bin" -serial "file:$tmp/o")"

echo "== direct PVH boot to power-off (whole run, median of $runs) =="
if gcc -c -I"$src/tests/runner" -o "$tmp/p.o" "$src/tests/runner/pvh_guest.S" &&
	ld -T "$src/tests/runner/pvh.ld" -o "$tmp/vmlinux" "$tmp/p.o"; then
	printf 'INITRD-OK\r\n\0' >"$tmp/initrd"
	echo "ovfdeploy: $(whole_run $runs 'START INFO PASS' "$tmp/o" "$OVFDEPLOY" run --memory 64M \
		--kernel "$tmp/vmlinux" --initrd "$tmp/initrd" --console "file:$tmp/o" --timeout 60)"
	echo "qemu: $(whole_run $runs 'START INFO PASS' "$tmp/o" qemu-system-x86_64 -accel kvm -m 64 -nodefaults \
		-display none -no-reboot -kernel "$tmp/vmlinux" -initrd "$tmp/initrd" -serial "file:$tmp/o")"
else
	echo "skipped: cannot build the stand-in vmlinux"
fi

# Exec to a line on the serial console: WHO PATTERN [DISK].  Both VMMs get
# the same firmware, 128 MiB and (with DISK) the disk as virtio-blk; QEMU
# is told the SeaBIOS console port through fw_cfg, which our runner always
# gives.  python3 starts the VMM, reads the console file every 2 ms (a
# shell loop of grep and sleep processes would take CPU from the VMM on a
# small machine) and kills the VMM once the line is there.
until_console() {
	if [ $1 = ovfdeploy ]; then
		set -- "$2" "$OVFDEPLOY" run --memory 128M --firmware $BIOS ${3:+--disk "$3,readonly"} \
			--console "file:$tmp/b" --timeout 60
	else
		set -- "$2" qemu-system-x86_64 -accel kvm -m 128 -nodefaults -display none -bios $BIOS \
			-serial "file:$tmp/b" -fw_cfg name=etc/sercon-port,file="$tmp/port" \
			${3:+-drive file="$3",if=none,id=hd,format=raw,readonly=on -device virtio-blk-pci,drive=hd}
	fi
	python3 - "$tmp/b" "$@" <<'PY'
import os, subprocess, sys, time
out, pattern, cmd = sys.argv[1], sys.argv[2].encode(), sys.argv[3:]
open(out, 'wb').close()
t = time.perf_counter()
vmm = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
seen = False
with open(out, 'rb') as f:
    data = b''
    while time.perf_counter() - t < 60 and vmm.poll() is None:
        data += f.read()
        if pattern in data:
            seen = True
            break
        time.sleep(0.002)
took = (time.perf_counter() - t) * 1000
vmm.kill()
vmm.wait()
if seen:
    print(round(took))
else:
    print("no '%s' after 60 s" % pattern.decode(), file=sys.stderr)
PY
}
printf '\370\003' >"$tmp/port" # 0x3f8, for QEMU's SeaBIOS console on COM1

# A disk with a real boot loader, made as tests/runner/boot_disk.sh makes
# it, without root: a syslinux MBR and FAT partition.
syslinux_disk() {
	MBR=/usr/lib/syslinux/mbr/mbr.bin
	[ -r $MBR ] && command -v mkfs.fat >/dev/null && command -v syslinux >/dev/null &&
		command -v sfdisk >/dev/null || return 1
	truncate -s 15M "$tmp/part.img" && mkfs.fat -n BOOT "$tmp/part.img" >/dev/null &&
		syslinux --install "$tmp/part.img" &&
		truncate -s 16M "$tmp/boot.img" &&
		echo 'start=2048, type=6, bootable' | sfdisk -q "$tmp/boot.img" &&
		dd if="$tmp/part.img" of="$tmp/boot.img" bs=512 seek=2048 conv=notrunc status=none &&
		dd if=$MBR of="$tmp/boot.img" bs=440 count=1 conv=notrunc status=none
}

# The two VMMs take turns, run by run, so that a change in the load of a
# shared machine hits both alike.
banners() { # TITLE PATTERN [DISK]
	for i in $(seq $banner_runs); do
		echo "ovfdeploy $(until_console ovfdeploy "$2" ${3:+"$3"})"
		echo "qemu $(until_console qemu "$2" ${3:+"$3"})"
	done >"$tmp/times"
	o=$(awk '$1 == "ovfdeploy" && NF == 2 {print $2}' "$tmp/times" | median)
	q=$(awk '$1 == "qemu" && NF == 2 {print $2}' "$tmp/times" | median)
	echo "$1: ovfdeploy ${o:-?} ms, qemu ${q:-?} ms"
}

banner_runs=${BANNER_RUNS:-5}
echo "== exec to banners on the serial console (median of $banner_runs, runs alternating) =="
banners "SeaBIOS banner, no disk" 'SeaBIOS (version'
if syslinux_disk; then
	banners "syslinux banner, syslinux disk" 'SYSLINUX' "$tmp/boot.img"
else
	echo "syslinux banner: skipped (needs syslinux, its mbr.bin, mkfs.fat, sfdisk)"
fi

echo "== RSS with 256 MiB of guest RAM, guest halted =="
rss() { awk '/VmRSS/ {print $2}' /proc/$1/status; }
"$OVFDEPLOY" run --memory 256M --firmware "$tmp/halt.bin" --console "file:$tmp/h1" --timeout 30 2>/dev/null &
p1=$!
qemu-system-x86_64 -accel kvm -m 256 -nodefaults -display none -bios "$tmp/halt.bin" -serial "file:$tmp/h2" 2>/dev/null &
p2=$!
sleep 3
echo "ovfdeploy: $(rss $p1) KiB"
echo "qemu: $(rss $p2) KiB"
kill $p1 $p2 2>/dev/null
wait $p1 $p2 2>/dev/null

echo "== virtio-blk 64 KiB reads through the virtqueue, no KVM =="
cat >"$tmp/blk.c" <<'EOF'
#include "config.h"
#include "runner/virtio.h"
#include "disk/disk.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static int rd(void *c, void *b, size_t l, uint64_t o, od_err *e) { return disk_pread(c, b, l, o, e); }
int main(int argc, char **argv)
{
	od_err e;
	disk *d = disk_open(argv[1], DISK_RDONLY, &e);
	if (!d) { fprintf(stderr, "%s\n", e.msg); return 1; }
	if (argc > 2 && strcmp(disk_format(d), argv[2]) != 0) {
		printf("%s: read as %s, not %s: this build's disk library lacks the driver\n", argv[1], disk_format(d), argv[2]);
		return 0;
	}
	/* readahead workers as virtio_blk_add starts them (RA=0: none) */
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned nra = getenv("RA") ? (unsigned)atoi(getenv("RA")) : cpus > 4 ? 4 : cpus > 1 ? (unsigned)cpus - 1 : 0;
	if (nra && disk_readahead_start(d, nra, NULL, NULL, &e) < 0) { fprintf(stderr, "%s\n", e.msg); return 1; }
	struct vm *vm = vm_new_fake(64 << 20, &e);
	vm->pci = pci_new(vm, &e);
	struct blk_backend be = { d, disk_size(d), rd, NULL, NULL };
	struct virtio_blk *b = virtio_blk_new(vm, &be, true, &e);
	uint8_t *ram = vm->ram[0].hva;
	struct virtq q = { .max_size = 128, .size = 128, .desc_gpa = 0x1000, .avail_gpa = 0x2000, .used_gpa = 0x3000 };
	virtq_enable(vm, &q, &e);
	const uint32_t req = 64 << 10;
	uint64_t total = 0, size = disk_size(d);
	struct timespec t0, t1, c0, c1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	uint16_t idx = 0;
	struct virtq_chain *c = malloc(sizeof *c);
	for (uint64_t off = 0; off + req <= size; off += req) {
		uint32_t type = 0; uint64_t sector = off / 512;
		memcpy(ram + 0x4000, &type, 4); memcpy(ram + 0x4008, &sector, 8);
		uint64_t a[3] = { 0x4000, 0x100000, 0x5000 }; uint32_t l[3] = { 16, req, 1 };
		uint16_t f[3] = { 1, 3, 2 };
		for (int i = 0; i < 3; i++) {
			uint16_t n = i + 1;
			memcpy(ram + 0x1000 + 16 * i, &a[i], 8); memcpy(ram + 0x1008 + 16 * i, &l[i], 4);
			memcpy(ram + 0x100c + 16 * i, &f[i], 2); memcpy(ram + 0x100e + 16 * i, &n, 2);
		}
		uint16_t head = 0;
		memcpy(ram + 0x2004 + 2 * (idx % 128), &head, 2);
		idx++;
		memcpy(ram + 0x2002, &idx, 2);
		if (virtq_pop(vm, &q, c, &e) != 1) { fprintf(stderr, "pop: %s\n", e.msg); return 1; }
		uint32_t w = virtio_blk_request(b, c);
		if (ram[0x5000] != 0) { fprintf(stderr, "I/O error at %llu\n", (unsigned long long)off); return 1; }
		virtq_push(&q, c->head, w);
		total += req;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	double cpu = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
	/* on a shared machine the wall-clock figure is mostly other load: the
	 * CPU-time one says what the code costs */
	printf("%s (%s, %u readahead workers): %.0f MB/s, %.0f MB/s of CPU time\n", argv[1], disk_format(d), nra,
	       total / s / 1e6, total / cpu / 1e6);
	return 0;
}
EOF
# the runner library also needs libslirp and libseccomp: take the link
# flags configure found, from the build's Makefile
mkvar() { sed -n "s/^$1 = //p" "$build/Makefile"; }
gcc -O2 -std=gnu11 -I"$src/src" -I"$build" -o "$tmp/blk" "$tmp/blk.c" "$build/src/runner/librunner.a" \
	"$build/src/disk/libdisk.a" "$build/src/util/libodutil.a" $(mkvar DEFLATE_LIBS) $(mkvar ZLIB_LIBS) \
	$(mkvar ZSTD_LIBS) $(mkvar SLIRP_LIBS) $(mkvar SECCOMP_LIBS) -pthread || exit 1
head -c 256M /dev/urandom >"$tmp/disk.raw"
qemu-img convert -O qcow2 "$tmp/disk.raw" "$tmp/disk.qcow2"
cat "$tmp/disk.raw" "$tmp/disk.qcow2" >/dev/null # page cache
"$tmp/blk" "$tmp/disk.raw"
"$tmp/blk" "$tmp/disk.qcow2"
if qemu-img convert -O vmdk -o subformat=streamOptimized "$tmp/disk.raw" "$tmp/disk.vmdk" 2>/dev/null; then
	cat "$tmp/disk.vmdk" >/dev/null
	printf 'random data, '
	"$tmp/blk" "$tmp/disk.vmdk" vmdk
	# compressible data: files of this host, 256 MiB of them
	find /usr/lib /usr/share -type f -size +10k 2>/dev/null | head -20000 | xargs cat 2>/dev/null |
		head -c 256M >"$tmp/real.raw"
	if [ "$(stat -c %s "$tmp/real.raw")" -eq 268435456 ] &&
		qemu-img convert -O vmdk -o subformat=streamOptimized "$tmp/real.raw" "$tmp/real.vmdk" 2>/dev/null; then
		cat "$tmp/real.vmdk" >/dev/null
		printf '/usr files (%s MiB compressed), ' $(($(stat -c %s "$tmp/real.vmdk") >> 20))
		"$tmp/blk" "$tmp/real.vmdk" vmdk
	fi
fi

# 5. nested: the sample appliance end to end, embedded vs QEMU with KVM, on
# real hardware-assisted KVM inside the nested test bed (bench/nested.sh;
# NESTED=0 leaves it out: it takes minutes)
if [ "${NESTED:-1}" != 0 ]; then
	sh "$src/bench/nested.sh" "$build"
fi
