#!/bin/sh
# net-dhcp.sh - issue #5: a freestanding KVM guest (dhcp_guest.S) sends a
# DHCPDISCOVER through virtio-net and gets slirp's DHCPOFFER of 10.0.2.15,
# with every thread of the runner under its seccomp filter.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/runner/lib.sh"
need_kvm
command -v gcc >/dev/null && command -v ld >/dev/null || skip "gcc or ld missing"
gcc -m32 -c -o "$T_TMP/dhcp.o" "$top_srcdir/tests/runner/dhcp_guest.S" &&
	ld -m elf_i386 -T "$top_srcdir/tests/runner/guest.ld" -o "$T_TMP/dhcp.bin" "$T_TMP/dhcp.o" ||
	skip "cannot build 32-bit test guests (gcc -m32, ld -m elf_i386)"

"$OVFDEPLOY" run --memory 16M --firmware "$T_TMP/dhcp.bin" --net user --console "file:$T_TMP/d.out" --timeout 30 \
	2>"$T_TMP/d.err"
rc=$?
if [ $rc -eq 0 ] && grep -q 'OFFER 10.0.2.15' "$T_TMP/d.out" && grep -q PASS "$T_TMP/d.out"; then
	ok "DHCPDISCOVER through virtio-net: slirp offers 10.0.2.15"
else
	fail "DHCP guest: exit $rc"
	sed 's/^/  | /' "$T_TMP/d.out" "$T_TMP/d.err"
fi

# the same with two vCPUs and a host port forward (more threads, same filter)
"$OVFDEPLOY" run --cpus 2 --memory 16M --firmware "$T_TMP/dhcp.bin" \
	--net "user,hostfwd=tcp:127.0.0.1:$((40000 + $$ % 20000))-:80" --console "file:$T_TMP/d2.out" --timeout 30 2>"$T_TMP/d2.err"
rc=$?
[ $rc -eq 0 ] && grep -q PASS "$T_TMP/d2.out" && ok "DHCP with 2 vCPUs and a host forward" ||
	{ fail "DHCP, 2 vCPUs: exit $rc"; sed 's/^/  | /' "$T_TMP/d2.out" "$T_TMP/d2.err"; }

# control: without --net there is no device, and the guest says so
"$OVFDEPLOY" run --memory 16M --firmware "$T_TMP/dhcp.bin" --console "file:$T_TMP/d3.out" --timeout 30 2>"$T_TMP/d3.err"
grep -q 'FAIL no virtio-net device' "$T_TMP/d3.out" && ok "without --net the guest finds no NIC (control)" ||
	fail "control without --net: '$(cat "$T_TMP/d3.out")'"
done_testing
