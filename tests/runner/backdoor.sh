#!/bin/sh
# backdoor.sh - VMware's backdoor from inside a real KVM guest: a tiny
# real-mode guest (tests/runner/backdoor_guest.S) reads CPUID's hypervisor
# leaves, asks GETVERSION and runs RPCI commands over GuestRPC exactly as
# open-vm-tools' lib/message does (open with cookies, size, payload four
# bytes at a time, receive, status, close).  From ring 0 the port access
# exits to the runner whatever kvm's enable_vmware_backdoor says.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
need_kvm
command -v gcc >/dev/null && command -v ld >/dev/null || skip "gcc or ld missing"
gcc -m32 -c -o "$T_TMP/bd.o" "$top_srcdir/tests/runner/backdoor_guest.S" &&
	ld -m elf_i386 -T "$top_srcdir/tests/runner/guest.ld" -o "$T_TMP/bd.bin" "$T_TMP/bd.o" ||
	skip "cannot build 32-bit test guests (gcc -m32, ld -m elf_i386)"

expect_exit 0 "a VMware guest with guestinfo runs to its reset" -- \
	"$OVFDEPLOY" run --memory 16M --firmware "$T_TMP/bd.bin" --console "file:$T_TMP/vm.out" --timeout 20 \
	--vmware --guestinfo guestinfo.test=hello-from-host
tr -d '\r' <"$T_TMP/vm.out" >"$T_TMP/vm.txt"
expect_grep '^HV:VMwareVMware KVM:KVMKVMKVM$' "$T_TMP/vm.txt" \
	"CPUID 0x40000000 says VMware, KVM's leaves are at 0x40000100"
expect_grep '^VERSION OK$' "$T_TMP/vm.txt" "GETVERSION answers version 6 and the magic"
expect_grep '^R1:1 hello-from-host$' "$T_TMP/vm.txt" "info-get of a host key"
expect_grep '^R2:1 $' "$T_TMP/vm.txt" "info-set of a guest key"
expect_grep '^R3:1 hi$' "$T_TMP/vm.txt" "the guest reads back its own key"
expect_grep '^R4:0 ' "$T_TMP/vm.txt" "info-set of a host key is refused"
expect_grep '^R5:0 Unknown command$' "$T_TMP/vm.txt" "an unknown command fails cleanly"
expect_grep '^DONE$' "$T_TMP/vm.txt" "the guest finished"

expect_exit 0 "the same guest on a plain PC" -- \
	"$OVFDEPLOY" run --memory 16M --firmware "$T_TMP/bd.bin" --console "file:$T_TMP/pc.out" --timeout 20
tr -d '\r' <"$T_TMP/pc.out" >"$T_TMP/pc.txt"
expect_grep '^HV:KVMKVMKVM KVM:$' "$T_TMP/pc.txt" "without --vmware CPUID says KVM at 0x40000000 only"
expect_grep '^NOBACKDOOR$' "$T_TMP/pc.txt" "without --vmware the port is empty"
done_testing
