#!/bin/sh
# msix_blk.sh - virtio-blk with MSI-X inside a real KVM guest: the test
# guest msix_guest.S enables MSI-X, reads sector 0 through the legacy
# interface (header shifted by the vector registers) and waits for the
# message on its local APIC.
# It runs sandboxed: MSIs are injected with KVM_SIGNAL_MSI from the vCPU
# thread, an ioctl every thread's seccomp filter (sandbox.c) allows.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
need_kvm
command -v gcc >/dev/null && command -v ld >/dev/null || skip "gcc or ld missing"
gcc -m32 -c -o "$T_TMP/msix.o" "$top_srcdir/tests/runner/msix_guest.S" &&
	ld -m elf_i386 -T "$top_srcdir/tests/runner/guest.ld" -o "$T_TMP/msix.bin" "$T_TMP/msix.o" ||
	skip "cannot build 32-bit test guests (gcc -m32, ld -m elf_i386)"

printf 'MSIX' >"$T_TMP/disk.raw"
truncate -s 1M "$T_TMP/disk.raw"
"$OVFDEPLOY" run --memory 16M --firmware "$T_TMP/msix.bin" --disk "$T_TMP/disk.raw,readonly" \
	--console "file:$T_TMP/msix.out" --timeout 60 2>"$T_TMP/msix.err"
rc=$?
if [ $rc -eq 0 ] && grep -q 'MSIX PASS' "$T_TMP/msix.out"; then
	ok "virtio-blk read completed by an MSI-X message (legacy interface, config at 0x18)"
else
	fail "MSI-X guest (exit $rc)"
	cat "$T_TMP/msix.out" "$T_TMP/msix.err" | sed 's/^/  | /'
fi

# 256 KiB, several compressed grains in one read, under the sandbox: the
# disk library would inflate them on worker threads it starts on first use,
# and the seccomp filter kills a vCPU thread that starts threads
gcc -m32 -c -DBIG_READ -o "$T_TMP/big.o" "$top_srcdir/tests/runner/msix_guest.S" &&
	ld -m elf_i386 -T "$top_srcdir/tests/runner/guest.ld" -o "$T_TMP/big.bin" "$T_TMP/big.o" || fail "build BIG_READ"
if command -v qemu-img >/dev/null; then
	{ printf 'MSIX'; head -c 300000 /dev/urandom; } >"$T_TMP/big.raw"
	for i in 1 2 3 4 5 6; do printf 'compressible %s ' $(seq 4000); done >>"$T_TMP/big.raw"
	truncate -s 1M "$T_TMP/big.raw"
	qemu-img convert -O vmdk -o subformat=streamOptimized "$T_TMP/big.raw" "$T_TMP/big.vmdk"
	"$OVFDEPLOY" run --memory 16M --firmware "$T_TMP/big.bin" --disk "$T_TMP/big.vmdk,readonly" \
		--console "file:$T_TMP/big.out" --timeout 60 2>"$T_TMP/big.err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q 'MSIX PASS' "$T_TMP/big.out"; then
		ok "sandboxed: a 256 KiB read of a streamOptimized VMDK (no worker threads in a vCPU thread)"
	else
		fail "sandboxed 256 KiB VMDK read (exit $rc)"
		cat "$T_TMP/big.out" "$T_TMP/big.err" | sed 's/^/  | /'
	fi
else
	echo "# qemu-img missing: the sandboxed VMDK read is not tested"
fi
done_testing
