#!/bin/sh
# efi.sh - UEFI appliances and the screen on a (private) libvirt host
# (issues 17 and 18): the UEFI variant of the sample (GPT, an EFI system
# partition, its disk on VirtualSCSI) deployed with --connect gets a domain
# with firmware='efi', whose boot disk's controller is SATA (Debian's OVMF
# has no PVSCSI boot driver), boots through OVMF to APPLIANCE READY with its
# own variable store, and `rm` deletes the domain with that store.  The
# domain's screen is VNC on a UNIX socket of the host; --no-screen leaves it
# out; --firmware bios overrides the descriptor; `screenshot --connect` takes
# the picture the host makes (PNG or PPM), `display --connect` names the
# socket and the virt-viewer command, `sendkeys --connect` types through the
# host.  One TCG boot.
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/libvirt/lvlib.sh"
O=$OVFDEPLOY
BOOT=${TINY_BOOT_TIMEOUT:-240}
lv_skip_unless_possible
[ -r /usr/lib/systemd/boot/efi/systemd-bootx64.efi ] || skip "systemd-boot-efi not installed"
[ -r /usr/share/qemu/firmware/60-edk2-x86_64.json ] || skip "ovmf not installed (its firmware descriptors)"
out=${top_builddir:-$top_srcdir}/samples/out
OVFDEPLOY=$O sh "$top_srcdir/samples/build-tiny-efi.sh" "$out" >"$T_TMP/build.log" 2>&1
rc=$?
[ $rc -eq 3 ] && skip "the sample's kernel package could not be obtained (offline?)"
[ $rc -eq 0 ] || { sed 's/^/  | /' "$T_TMP/build.log" | tail -20; echo "FAIL - samples/build-tiny-efi.sh (exit $rc)"; exit 1; }
OVA=$(cd "$out" && pwd)/tiny-efi.ova
trap 'lv_stop; rm -rf "$T_TMP"' EXIT
lv_start
U=$LV_URI
cd "$T_TMP" || exit 1
before=$(lv_pool_files)

expect_exit 0 "deploy the UEFI sample to the libvirt host" -- "$O" deploy --connect "$U" --accept-eula --name u1 "$OVA"
expect_grep 'UEFI: Debian.s OVMF cannot boot from pvscsi.*SATA \(AHCI\)' "$T_TMP/err" \
	"the boot disk's PVSCSI becomes SATA, with a warning"
lv_virsh dumpxml u1 >u1.xml
expect_grep "<os firmware='efi'>" u1.xml "the domain boots UEFI"
tr -d '\n' <u1.xml | sed 's#</disk>#</disk>\n#g' >disks.txt
expect_grep "device='disk'.*bus='sata'.*<boot order='1'/>" disks.txt "its boot disk is on SATA"
grep -q "model='vmpvscsi'" u1.xml && fail "a PVSCSI controller is left" || ok "no PVSCSI controller is left"
expect_grep "<graphics type='vnc'" u1.xml "it has a screen on VNC"
expect_grep "<listen type='socket'" u1.xml "... on a UNIX socket"
expect_exit 0 "start it" -- "$O" start --connect "$U" u1
lv_virsh dumpxml u1 >u1run.xml
expect_grep "<loader.*OVMF" u1run.xml "libvirt chose OVMF"
nvram=$(sed -n "s|.*<nvram[^>]*>\\(.*\\)</nvram>.*|\\1|p" u1run.xml)
[ -n "$nvram" ] && [ -f "$nvram" ] && ok "it has its own variable store ($(basename "$nvram"))" ||
	fail "no variable store: '$nvram'"
l1=$LV_POOL_DIR/u1.console.log
if lv_wait_log "$l1" "APPLIANCE READY" "$BOOT"; then
	ok "the UEFI appliance reaches APPLIANCE READY"
	expect_grep "BdsDxe: starting" "$l1" "... booted by OVMF"
	expect_grep "^tiny: OVF environment found" "$l1" "... and reads its environment CD"
	# the screen through the host, the appliance running
	if "$O" screenshot --connect "$U" u1 -o shot.png >shot.out 2>&1; then
		python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(); assert d[:8]==b"\x89PNG\r\n\x1a\n"; w,h=struct.unpack(">II",d[16:24]); assert w>=320 and h>=200, (w,h); print(w,h)' shot.png >dims.txt &&
			ok "screenshot --connect: a PNG of the domain's screen ($(cat dims.txt))" || fail "screenshot --connect: not a PNG"
	else
		fail "screenshot --connect of the running domain: $(cat shot.out)"
	fi
	expect_exit 0 "display --connect" -- "$O" display --connect "$U" u1
	expect_grep "virt-viewer --connect '.*libvirt-sock' u1" "$T_TMP/out" "... says how to reach the screen"
	"$O" --json display --connect "$U" u1 >disp.json 2>&1
	python3 -c 'import json,os,stat,sys; d=json.load(open(sys.argv[1])); assert d["running"] and d["vnc_socket"], d
assert stat.S_ISSOCK(os.stat(d["vnc_socket"]).st_mode), d' disp.json &&
		ok "display --json --connect: running, and the VNC socket on the host" || fail "display --json: $(cat disp.json)"
	# keys (the sample's tty on this screen echoes nothing: the key codes
	# are checked in test_rfb; here, that the host takes them)
	expect_exit 0 "sendkeys --connect types through the host" -- "$O" sendkeys --connect "$U" u1 'Hello libvirt!\n'
	expect_exit 2 "sendkeys --connect refuses what a US keyboard cannot type" -- "$O" sendkeys --connect "$U" u1 "$(printf 'caf\303\251')"
	expect_exit 0 "screenshot --connect -o FILE.ppm" -- "$O" screenshot --connect "$U" u1 -o shot.ppm
	head -n 2 shot.ppm | tr '\n' ' ' | grep -q "^P6 $(cat dims.txt) " &&
		ok "... a PPM of the same size" || fail "screenshot -o FILE.ppm: $(head -c 20 shot.ppm)"
else
	fail "no APPLIANCE READY within $BOOT s"; tail -20 "$l1" | sed 's/^/  | /'
fi
"$O" stop --connect "$U" --timeout 0 u1 >/dev/null 2>&1
expect_exit 0 "rm it" -- "$O" rm --connect "$U" u1
[ -n "$nvram" ] && [ ! -e "$nvram" ] && ok "rm deletes its variable store" || fail "the variable store is left: $nvram"
lv_virsh list --all --name | grep -q '^u1$' && fail "the domain is left" || ok "the domain is gone"

# The overrides (no boot)
expect_exit 0 "deploy --firmware bios --no-screen" -- "$O" deploy --connect "$U" --accept-eula --name u2 \
	--firmware bios --no-screen "$OVA"
lv_virsh dumpxml u2 >u2.xml
grep -q "firmware='efi'" u2.xml && fail "--firmware bios: still UEFI" || ok "--firmware bios: the domain boots BIOS"
grep -q "model='vmpvscsi'" u2.xml && ok "... its disk stays on PVSCSI (SeaBIOS boots it)" || fail "--firmware bios: PVSCSI moved"
grep -q "<graphics" u2.xml && fail "--no-screen: the domain has a screen" || ok "--no-screen: no screen"
expect_exit 2 "screenshot --connect of a stopped domain is refused" -- "$O" screenshot --connect "$U" u2 -o x.png
expect_grep "is not running" "$T_TMP/err" "... saying it is not running"
[ -e x.png ] && fail "... yet a file was written" || ok "... and no file is written"
expect_exit 0 "start u2 (BIOS, no screen) and pause it at once" -- "$O" start --connect "$U" u2
"$O" -q pause --connect "$U" u2
expect_exit 2 "display --connect of a domain without a screen" -- "$O" display --connect "$U" u2
expect_grep "no screen" "$T_TMP/err" "... says it has none"
expect_exit 2 "sendkeys --connect on a paused domain is refused" -- "$O" sendkeys --connect "$U" u2 'x'
expect_grep "paused: resume it first" "$T_TMP/err" "... saying to resume it"
expect_exit 3 "screenshot --connect of a domain without a screen fails" -- "$O" screenshot --connect "$U" u2 -o shot2.png
expect_grep "no screens" "$T_TMP/err" "... with the host's reason"
"$O" stop --connect "$U" --timeout 0 u2 >/dev/null 2>&1
expect_exit 2 "--firmware with an unknown value is refused" -- "$O" deploy --connect "$U" --accept-eula --name u3 \
	--firmware coreboot "$OVA"
expect_exit 2 "--vnc is for local instances" -- "$O" deploy --connect "$U" --accept-eula --name u3 \
	--vnc 127.0.0.1:5999 "$OVA"
expect_exit 0 "rm u2" -- "$O" rm --connect "$U" u2
[ "$(lv_pool_files)" = "$before" ] && ok "the pool is as it was" || fail "the pool changed: $(lv_pool_files | tr '\n' ' ')"
done_testing
