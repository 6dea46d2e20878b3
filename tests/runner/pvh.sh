#!/bin/sh
# pvh.sh - direct boot of an ELF vmlinux through its PVH entry point: a
# stand-in kernel (pvh_guest.S, ELF64 and ELF32) checks the hvm_start_info
# the runner hands over; QEMU's loader runs the same file as a second
# opinion on the file and the guest's checks; damaged ELF files are
# refused before any guest code runs.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
need_kvm
command -v ld >/dev/null || skip "ld (binutils) missing"
command -v python3 >/dev/null || skip "python3 missing (writes the damaged files)"

inc=$top_srcdir/tests/runner
gcc -c -I"$inc" -o "$T_TMP/p64.o" "$inc/pvh_guest.S" && ld -T "$inc/pvh.ld" -o "$T_TMP/p64.elf" "$T_TMP/p64.o" ||
	skip "cannot build the stand-in vmlinux"
printf 'INITRD-OK\r\n\0' >"$T_TMP/initrd"

boot() { # FILE OUT: boot FILE with an initrd and a command line
	"$OVFDEPLOY" run --memory 64M --kernel "$1" --initrd "$T_TMP/initrd" --append "console=ttyS0 od=pvh" \
		--console "file:$2" --timeout 20 2>"$2.err"
}
check_boot() { # FILE DESCRIPTION
	boot "$1" "$1.out"
	rc=$?
	if [ $rc -eq 0 ] && grep -q 'PVH cmdline: console=ttyS0 od=pvh' "$1.out" && grep -q INITRD-OK "$1.out" &&
		grep -q 'START INFO PASS' "$1.out"; then ok "$2"
	else fail "$2 (exit $rc)"; cat "$1.out" "$1.out.err" | sed 's/^/  | /'; fi
}
check_boot "$T_TMP/p64.elf" "ELF64 vmlinux: 32-bit PVH entry with start_info, initrd module, memory map, RSDP; power-off"
if gcc -m32 -DELF32 -c -I"$inc" -o "$T_TMP/p32.o" "$inc/pvh_guest.S" 2>/dev/null &&
	ld -m elf_i386 -T "$inc/pvh.ld" -o "$T_TMP/p32.elf" "$T_TMP/p32.o"; then
	check_boot "$T_TMP/p32.elf" "ELF32 vmlinux with a 4-byte entry note"
else
	echo "# cannot assemble 32-bit objects: ELF32 not tested"
fi
# without an initrd the module count is 0 and the guest prints none
"$OVFDEPLOY" run --memory 64M --kernel "$T_TMP/p64.elf" --console "file:$T_TMP/noinitrd.out" --timeout 20 \
	2>"$T_TMP/noinitrd.err"
rc=$?
[ $rc -eq 0 ] && grep -q 'START INFO PASS' "$T_TMP/noinitrd.out" && ! grep -q INITRD "$T_TMP/noinitrd.out" &&
	grep -q 'PVH cmdline: console=ttyS0' "$T_TMP/noinitrd.out" &&
	ok "no initrd, no --append: no module and the default command line" ||
	{ fail "PVH boot without initrd (exit $rc)"; cat "$T_TMP/noinitrd.out" "$T_TMP/noinitrd.err"; }

# QEMU loads PVH kernels too: the same file must pass there (TCG: no KVM needed)
if command -v qemu-system-x86_64 >/dev/null; then
	timeout 60 qemu-system-x86_64 -accel tcg -m 64M -kernel "$T_TMP/p64.elf" -initrd "$T_TMP/initrd" \
		-append "console=ttyS0 od=pvh" -display none -monitor none -serial "file:$T_TMP/qemu.out" -no-reboot \
		2>"$T_TMP/qemu.err"
	rc=$?
	[ $rc -eq 0 ] && grep -q 'START INFO PASS' "$T_TMP/qemu.out" && grep -q INITRD-OK "$T_TMP/qemu.out" &&
		ok "QEMU's PVH loader boots the same file to the same verdict" ||
		{ fail "QEMU PVH boot (exit $rc)"; cat "$T_TMP/qemu.out" "$T_TMP/qemu.err" | sed 's/^/  | /'; }
else
	echo "# qemu-system-x86_64 missing: no second opinion"
fi

# damaged files: each refused with an error (exit 1-3), no guest output
python3 - "$T_TMP/p64.elf" "$T_TMP" <<'PY'
import struct, sys
src, out = sys.argv[1], sys.argv[2]
d = open(src, 'rb').read()
phoff, = struct.unpack_from('<Q', d, 32)
load, note = phoff, phoff + 56          # pvh.ld: LOAD first, then NOTE
assert struct.unpack_from('<I', d, load)[0] == 1 and struct.unpack_from('<I', d, note)[0] == 4
noff, = struct.unpack_from('<Q', d, note + 8)
def mut(name, *edits, size=None):
    b = bytearray(d if size is None else d[:size])
    for fmt, off, val in edits:
        struct.pack_into(fmt, b, off, val)
    open('%s/bad-%s.elf' % (out, name), 'wb').write(b)
mut('truncated', size=40)
mut('bigendian', ('<B', 5, 2))
mut('arm', ('<H', 18, 40))
mut('dyn', ('<H', 16, 3))
mut('phnum0', ('<H', 56, 0))
mut('phnum-huge', ('<H', 56, 60000))
mut('phentsize', ('<H', 54, 32))
mut('phoff-past-end', ('<Q', 32, 0xfffffffffffff000))
mut('load-offset-past-end', ('<Q', load + 8, 1 << 40))
mut('load-filesz-past-end', ('<Q', load + 32, 1 << 30), ('<Q', load + 40, 1 << 30))
mut('filesz-over-memsz', ('<Q', load + 40, 0x10))
mut('paddr-low', ('<Q', load + 24, 0x1000))
mut('paddr-zero', ('<Q', load + 24, 0))
mut('memsz-huge', ('<Q', load + 40, 1 << 63))
mut('past-ram', ('<Q', load + 24, 0x3ffff80))
mut('paddr-wraps', ('<Q', load + 24, 0xfffffffffffff000))
mut('no-note', ('<I', noff + 8, 17))
mut('note-owner', ('<B', noff + 12, ord('Y')))
mut('descsz-3', ('<I', noff + 4, 3))
mut('namesz-huge', ('<I', noff, 0xffffffff))
mut('descsz-huge', ('<I', noff + 4, 0xfffffff0))
mut('note-past-end', ('<Q', note + 32, 1 << 40))
mut('entry-outside', ('<Q', noff + 16, 0x100))
mut('entry-past-segment', ('<Q', noff + 16, 0x300000))
PY
for f in "$T_TMP"/bad-*.elf; do
	n=${f##*/bad-}; n=${n%.elf}
	boot "$f" "$T_TMP/bad.out"
	rc=$?
	if [ $rc -ge 1 ] && [ $rc -le 3 ] && [ ! -s "$T_TMP/bad.out" ] && grep -q 'ovfdeploy' "$T_TMP/bad.out.err"; then
		ok "damaged vmlinux ($n) refused: $(head -c 150 "$T_TMP/bad.out.err" | tr '\n' ' ')"
	else fail "damaged vmlinux ($n): exit $rc"; cat "$T_TMP/bad.out" "$T_TMP/bad.out.err" | sed 's/^/  | /'; fi
done
# what goes beside the kernel is checked too: an initrd larger than the
# guest's RAM, a command line past the protocol's 4 KiB
truncate -s 80M "$T_TMP/big.initrd"
"$OVFDEPLOY" run --memory 64M --kernel "$T_TMP/p64.elf" --initrd "$T_TMP/big.initrd" --timeout 5 2>"$T_TMP/bigi.err"
rc=$?
[ $rc -ge 1 ] && [ $rc -le 3 ] && grep -q 'do not fit between' "$T_TMP/bigi.err" &&
	ok "an initrd that does not fit in guest RAM is refused" || { fail "80 MiB initrd in 64 MiB (exit $rc)"; cat "$T_TMP/bigi.err"; }
"$OVFDEPLOY" run --memory 64M --kernel "$T_TMP/p64.elf" --append "$(printf '%05000d' 0)" --timeout 5 2>"$T_TMP/long.err"
rc=$?
[ $rc -ge 1 ] && [ $rc -le 3 ] && grep -q 'command line of 5000 bytes is too long' "$T_TMP/long.err" &&
	ok "a 5000-byte command line is refused" || { fail "long command line (exit $rc)"; cat "$T_TMP/long.err"; }
boot "$T_TMP/bad-no-note.elf" "$T_TMP/nonote.out"
expect_grep 'without a PVH entry point' "$T_TMP/nonote.out.err" "an ELF without the note says what is missing"
boot "$T_TMP/bad-past-ram.elf" "$T_TMP/pastram.out"
expect_grep 'give the guest more memory' "$T_TMP/pastram.out.err" "a kernel beyond guest RAM asks for more memory"
# a real kernel's vmlinux (Debian's: several segments, one with a virtual
# address of 0, sixteen Xen notes) loads; booting it to the end is
# full_boot.sh's, on hosts with vmx or svm.  Here it must start running
# (a run that times out) or finish, never be refused.
kernel=${OVFDEPLOY_TEST_KERNEL:-$(ls /boot/vmlinuz-* "${top_builddir:-.}"/samples/out/cache/linux-image-*/boot/vmlinuz-* \
	2>/dev/null | tail -n 1)}
if [ -n "$kernel" ] && python3 "$inc/extract-vmlinux.py" "$kernel" "$T_TMP/vmlinux" 2>"$T_TMP/x.err"; then
	"$OVFDEPLOY" run --memory 256M --kernel "$T_TMP/vmlinux" --console "file:$T_TMP/real.out" --timeout 2 \
		2>"$T_TMP/real.err"
	rc=$?
	[ $rc -eq 0 ] || { [ $rc -eq 1 ] && grep -q 'timed out' "$T_TMP/real.err"; } &&
		ok "the vmlinux of $(basename "$kernel") loads and starts (exit $rc)" ||
		{ fail "the vmlinux of $kernel (exit $rc)"; cat "$T_TMP/real.err"; }
	"$OVFDEPLOY" run --memory 32M --kernel "$T_TMP/vmlinux" --timeout 2 2>"$T_TMP/small.err"
	rc=$?
	[ $rc -ge 1 ] && [ $rc -le 3 ] && grep -q 'give the guest more memory' "$T_TMP/small.err" &&
		ok "that vmlinux in 32 MiB is refused, asking for more memory" ||
		{ fail "vmlinux in 32 MiB (exit $rc)"; cat "$T_TMP/small.err"; }
else
	echo "# no real kernel at hand (set OVFDEPLOY_TEST_KERNEL): ${kernel:+$(cat "$T_TMP/x.err")}"
fi
done_testing
