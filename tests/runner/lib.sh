# lib.sh - helpers of the runner's shell tests (sourced after tests/cli/lib.sh).

# Skip unless /dev/kvm opens read-write.
need_kvm() {
	( exec 3<>/dev/kvm ) 2>/dev/null || skip "/dev/kvm cannot be opened read-write"
}

# build_guest NAME: assemble tests/runner/guest.S with -DT_NAME into
# $T_TMP/NAME.bin, a flat 64 KiB firmware image.
build_guest() {
	command -v gcc >/dev/null && command -v ld >/dev/null || skip "gcc or ld missing"
	gcc -m32 -c -DT_$1 -o "$T_TMP/$1.o" "$top_srcdir/tests/runner/guest.S" &&
		ld -m elf_i386 -T "$top_srcdir/tests/runner/guest.ld" -o "$T_TMP/$1.bin" "$T_TMP/$1.o" ||
		skip "cannot build 32-bit test guests (gcc -m32, ld -m elf_i386)"
}

# start_input_guest NAME READY: assemble tests/runner/NAME_guest.S (a flat
# firmware linked by guest.ld) and run it in the background with a screen
# on the UNIX socket $T_TMP/NAME.sock, its console in $T_TMP/NAME.txt; $RPID
# is the runner.  False when it cannot be built (no gcc -m32) or READY does
# not show up on its console.
start_input_guest() {
	gcc -m32 -c -I"$top_srcdir/tests/runner" -o "$T_TMP/$1.o" "$top_srcdir/tests/runner/$1_guest.S" &&
		ld -m elf_i386 -T "$top_srcdir/tests/runner/guest.ld" -o "$T_TMP/$1.bin" "$T_TMP/$1.o" || return 1
	"$OVFDEPLOY" run --firmware "$T_TMP/$1.bin" --vnc "unix:$T_TMP/$1.sock" --console "file:$T_TMP/$1.txt" \
		--timeout 60 2>"$T_TMP/$1.err" &
	RPID=$!
	wait_for "$2" "$T_TMP/$1.txt" 30 "$RPID" || { fail "the $1 guest did not start"; return 0; }
}

# wait_for PATTERN FILE SECONDS PID: wait until FILE matches PATTERN, PID
# exits or SECONDS pass; true if the pattern showed up.
wait_for() {
	n=0
	while [ $n -lt $(($3 * 10)) ]; do
		grep -Eq -- "$1" "$2" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || break
		sleep 0.1
		n=$((n + 1))
	done
	grep -Eq -- "$1" "$2" 2>/dev/null
}

# ---- a boot sector and syslinux under SeaBIOS (scsi_boot.sh, ide_boot.sh) ----

# mbr_build NAME [CPP-FLAG...]: tests/runner/rw_mbr.S as the boot sector
# $T_TMP/NAME.bin.
mbr_build() {
	n=$1
	shift
	command -v gcc >/dev/null && command -v ld >/dev/null || skip "gcc or ld missing"
	gcc -m32 -c "$@" -o "$T_TMP/$n.o" "$top_srcdir/tests/runner/rw_mbr.S" &&
		ld -m elf_i386 -T "$top_srcdir/tests/runner/mbr.ld" -o "$T_TMP/$n.bin" "$T_TMP/$n.o" ||
		skip "cannot build the boot sector (gcc -m32, ld -m elf_i386)"
}

# mbr_sum FILE: the sum of the first 8192 little-endian dwords, as the
# boot sector prints it.
mbr_sum() {
	python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read(32768)
print("%08X" % (sum(struct.unpack("<8192I", d)) & 0xffffffff))' "$1"
}

# mbr_pattern_at_1 FILE: true if sector 1 holds the boot sector's pattern.
mbr_pattern_at_1() {
	python3 -c 'import sys
f = open(sys.argv[1], "rb"); f.seek(512)
sys.exit(0 if f.read(512) == bytes(i & 0xff ^ 0xa5 for i in range(512)) else 1)' "$1"
}

# mbr_run NAME DISK-ARG...: boot with the firmware $BIOS; the console in
# $T_TMP/NAME.out, the firmware log in $T_TMP/NAME.log; ok when the boot
# sector ran to its end.
mbr_run() {
	name=$1
	shift
	args=
	for a in "$@"; do args="$args --disk $a"; done
	# shellcheck disable=SC2086 # one word per disk argument
	"$OVFDEPLOY" run --memory 64M --firmware "$BIOS" $args --console "file:$T_TMP/$name.out" \
		--firmware-log "$T_TMP/$name.log" --timeout 150 2>"$T_TMP/$name.err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q DONE "$T_TMP/$name.out"; then ok "$name: the boot sector ran to its end (reset)"; else
		fail "$name: exit $rc"; cat "$T_TMP/$name.out" "$T_TMP/$name.err" | sed 's/^/  | /'
	fi
}

# syslinux_boot NAME BUS: a 16 MiB disk with syslinux on a FAT partition,
# booted with $BIOS on bus BUS (--disk FILE,if=BUS) to syslinux's banner
# (as far as this host goes); says so and returns when the tools are missing.
syslinux_boot() {
	img=$T_TMP/$1.img
	MBR=/usr/lib/syslinux/mbr/mbr.bin
	if ! { [ -r $MBR ] && command -v mkfs.fat >/dev/null && command -v syslinux >/dev/null &&
		command -v sfdisk >/dev/null && truncate -s 15M "$T_TMP/part.img" &&
		mkfs.fat -n BOOT "$T_TMP/part.img" >/dev/null && syslinux --install "$T_TMP/part.img" &&
		truncate -s 16M "$img" && echo 'start=2048, type=6, bootable' | sfdisk -q "$img" &&
		dd if="$T_TMP/part.img" of="$img" bs=512 seek=2048 conv=notrunc status=none &&
		dd if=$MBR of="$img" bs=440 count=1 conv=notrunc status=none; }; then
		echo "# syslinux tools missing: the syslinux boot not tested"
		return
	fi
	"$OVFDEPLOY" run --memory 64M --firmware "$BIOS" --disk "$img,if=$2" --console "file:$T_TMP/$1.out" \
		--timeout 150 2>"$T_TMP/$1.err" &
	pid=$!
	wait_for 'Peter Anvin' "$T_TMP/$1.out" 150 $pid
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	expect_grep 'Booting from Hard Disk' "$T_TMP/$1.out" "syslinux: SeaBIOS boots the disk on $2"
	expect_grep 'SYSLINUX [0-9.]+ .*Copyright' "$T_TMP/$1.out" "syslinux: its banner"
}

# mbr_qcow2 IMAGE BUS: the boot sector's run (mbr_run qcow2) on a qcow2
# copy of IMAGE on bus BUS: the guest's write and sum are in the image,
# which qemu-img finds clean.
mbr_qcow2() {
	if ! command -v qemu-img >/dev/null; then
		echo "# qemu-img missing: qcow2 form not tested"
		return
	fi
	qemu-img convert -O qcow2 "$1" "$T_TMP/disk.qcow2"
	mbr_run qcow2 "$T_TMP/disk.qcow2,if=$2"
	expect_grep 'RW PASS' "$T_TMP/qcow2.out" "qcow2: INT 13h write of sector 1 read back the same"
	qemu-img check -q "$T_TMP/disk.qcow2" && ok "qcow2: qemu-img check is clean after the guest's write" ||
		fail "qcow2: qemu-img check"
	qemu-img convert -O raw "$T_TMP/disk.qcow2" "$T_TMP/back.raw"
	expect_grep "SUM $(mbr_sum "$T_TMP/back.raw")" "$T_TMP/qcow2.out" "qcow2: the guest's sum matches the image"
	mbr_pattern_at_1 "$T_TMP/back.raw" && ok "qcow2: the guest's write is in the image" || fail "qcow2: sector 1"
}
