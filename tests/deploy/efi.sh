#!/bin/sh
# efi.sh - UEFI appliances (issue 17): the firmware a descriptor asks for
# (VMware's vmw:Config firmware, VirtualBox's vbox:Machine Firmware), the
# --firmware override, and the UEFI variant of the sample (GPT disk, EFI
# system partition with systemd-boot, built at test time) booting to
# APPLIANCE READY with one command under QEMU with OVMF, the variable store
# being the instance's own: a variable the guest writes at its first boot is
# there at the second.
. "${top_srcdir:-.}/tests/cli/lib.sh"
O=$OVFDEPLOY
BOOT_TIMEOUT=${TINY_BOOT_TIMEOUT:-240}
export OVFDEPLOY_HOME="$T_TMP/home"

# --- The descriptor side (no boot) ----------------------------------------------
vmwns='xmlns:vmw="http://www.vmware.com/schema/ovf" '
grep -q 'xmlns:vmw=' "$top_srcdir/samples/tiny.ovf" && vmwns=
mk() {	# mk FILE EXTRA-HW-LINE EXTRA-VS-LINE: samples/tiny.ovf with additions
	sed -e "s|^<Envelope |<Envelope ${vmwns}xmlns:vbox=\"http://www.virtualbox.org/ovf/machine\" |" \
		-e "s|^\\( *\\)</VirtualHardwareSection>|\\1$2\\n\\1</VirtualHardwareSection>$3|" \
		"$top_srcdir/samples/tiny.ovf" >"$1"
}
mk "$T_TMP/vmw.ovf" '<vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>' ''
mk "$T_TMP/vmx.ovf" '<vmw:ExtraConfig ovf:required="false" vmw:key="firmware" vmw:value="efi"/>' ''
mk "$T_TMP/vbox.ovf" '' '<vbox:Machine ovf:required="false" name="t"><ovf:Info>VirtualBox</ovf:Info><Hardware><Firmware type="EFI"/></Hardware></vbox:Machine>'
mk "$T_TMP/bios.ovf" '<vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="bios"/>' ''
mk "$T_TMP/bad.ovf" '<vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="openfirmware"/>' ''
mk "$T_TMP/other.ovf" '<vmw:Config ovf:required="false" vmw:key="firmware.x" vmw:value="efi"/><x:Config xmlns:x="urn:x" key="firmware" value="efi"/>' ''
cp "$top_srcdir/samples/tiny.ovf" "$T_TMP/plain.ovf"
for c in "vmw efi vmw:Config" "vmx efi vmw:Config" "vbox efi vbox:Machine" "bios bios vmw:Config" "plain bios null" \
	"other bios null"; do
	set -- $c
	"$O" inspect --json "$T_TMP/$1.ovf" >"$T_TMP/$1.json" 2>"$T_TMP/err"
	if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); hw=d["virtual_systems"][0]["hardware"]
src = None if sys.argv[3] == "null" else sys.argv[3]
sys.exit(0 if hw and all(h["firmware"]==sys.argv[2] and h["firmware_source"]==src for h in hw) else 1)' "$T_TMP/$1.json" "$2" "$3"; then
		ok "inspect --json: $1 descriptor: firmware $2 from $3"
	else
		fail "inspect --json: $1 descriptor: firmware $2 from $3"; grep -a firmware "$T_TMP/$1.json" | head -3
	fi
done
"$O" inspect "$T_TMP/vmw.ovf" >"$T_TMP/vmw.txt"
expect_grep '^    firmware EFI, from vmw:Config$' "$T_TMP/vmw.txt" "inspect shows the firmware"
"$O" inspect "$T_TMP/bad.ovf" >"$T_TMP/bad.txt"
expect_grep "firmware 'openfirmware' is neither bios nor efi" "$T_TMP/bad.txt" "an unknown firmware is shown as an error, not guessed"

# Deploy (no boot): the instance records what it boots with; --firmware overrides.
mkdir -p "$T_TMP/pkg"
cp "$T_TMP/vmw.ovf" "$T_TMP/pkg/tiny.ovf"
truncate -s 1M "$T_TMP/pkg/tiny-disk1.vmdk.raw"
"$O" -q convert -O vmdk -o subformat=streamOptimized "$T_TMP/pkg/tiny-disk1.vmdk.raw" "$T_TMP/pkg/tiny-disk1.vmdk"
rm "$T_TMP/pkg/tiny-disk1.vmdk.raw"
expect_exit 0 "deploy of an EFI descriptor" -- "$O" deploy --accept-eula --name d-efi "$T_TMP/pkg/tiny.ovf"
dir=$OVFDEPLOY_HOME/instances
expect_grep '^efi=1$' "$dir/d-efi/instance.conf" "the instance is UEFI"
vars=$(sed -n 's/^efi_vars=//p' "$dir/d-efi/instance.conf")
code=$(sed -n 's/^efi_code=//p' "$dir/d-efi/instance.conf")
if [ "$vars" = "$dir/d-efi/efi-vars.fd" ] && [ -f "$vars" ] && [ "$(stat -c %a "$vars")" = 600 ]; then
	ok "its variable store is a private file (0600) in the instance directory"
else
	fail "variable store '$vars' (mode $(stat -c %a "$vars" 2>/dev/null))"
fi
tmpl=$(echo "$code" | sed 's/CODE/VARS/')
if [ -f "$tmpl" ] && cmp -s "$tmpl" "$vars"; then ok "a copy of the template of the same OVMF build ($tmpl)"; else fail "vars copy of $tmpl"; fi
expect_exit 0 "deploy --firmware bios overrides the descriptor" -- "$O" deploy --accept-eula --name d-bios --firmware bios "$T_TMP/pkg/tiny.ovf"
if ! grep -q '^efi' "$dir/d-bios/instance.conf" && [ ! -e "$dir/d-bios/efi-vars.fd" ]; then ok "... and the instance boots BIOS"; else fail "--firmware bios instance is UEFI"; fi
expect_exit 2 "deploy --firmware with an unknown value is a usage error" -- "$O" deploy --accept-eula --name d-x --firmware coreboot "$T_TMP/pkg/tiny.ovf"
expect_exit 2 "run --firmware efi says the embedded runner cannot yet" -- "$O" run --firmware efi --disk "$T_TMP/pkg/tiny-disk1.vmdk"
expect_grep "backend qemu" "$T_TMP/err" "... and points at the QEMU backend"
# The QEMU command line: OVMF as two flash chips, the code read-only.
OVFDEPLOY_QEMU="$T_TMP/qemu-args" ; printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s"\n' "$T_TMP/args" >"$OVFDEPLOY_QEMU"
chmod +x "$OVFDEPLOY_QEMU"
OVFDEPLOY_QEMU=$OVFDEPLOY_QEMU "$O" start -f d-efi </dev/null >/dev/null 2>&1
expect_grep "^if=pflash,unit=0,format=raw,readonly=on,file=$code\$" "$T_TMP/args" "QEMU gets the OVMF code read-only as pflash unit 0"
expect_grep "^if=pflash,unit=1,format=raw,file=$vars\$" "$T_TMP/args" "... and the instance's variable store as unit 1"
if grep -q '^-bios$' "$T_TMP/args"; then fail "-bios beside pflash"; else ok "no -bios beside the flash"; fi
rm "$vars"
expect_exit 3 "a UEFI instance whose variable store is gone does not start" -- "$O" start d-efi
expect_grep "variable store" "$T_TMP/err" "... and says which file is missing"

# inspect: the firmware per backend, and the plan as deploy makes it (the
# sample's boot disk sits on VirtualSCSI, which OVMF cannot boot)
"$O" inspect --json "$T_TMP/vmw.ovf" >"$T_TMP/vmw.json" 2>&1
if python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["virtual_systems"][0]["hardware"][0]["plan"]
assert p["firmware"] == {"qemu": "efi", "embedded": None, "libvirt": "efi"}, p["firmware"]
boot = [d for d in p["disks"] if d["boot"]][0]
assert p["controllers"][boot["controller"]]["model"] == "ahci", p["controllers"]
assert any("OVMF cannot boot from pvscsi" in n for n in p["notes"]), p["notes"]' "$T_TMP/vmw.json"; then
	ok "inspect --json: UEFI on QEMU and libvirt, none on the embedded runner; the boot disk on SATA, with a note"
else
	fail "inspect --json: the UEFI plan"
fi
"$O" inspect "$T_TMP/vmw.ovf" >"$T_TMP/vmw.txt" 2>&1
expect_grep "firmware: UEFI .OVMF. on QEMU and libvirt; the embedded runner boots BIOS only" "$T_TMP/vmw.txt" \
	"inspect: the firmware per backend"
"$O" inspect --json "$T_TMP/plain.ovf" >"$T_TMP/plain.json" 2>&1
python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["virtual_systems"][0]["hardware"][0]["plan"]
assert p["firmware"] == {"qemu": "bios", "embedded": "bios", "libvirt": "bios"}, p["firmware"]
assert not any("OVMF" in n for n in p["notes"])' "$T_TMP/plain.json" &&
	ok "inspect --json: a BIOS appliance boots BIOS everywhere, its plan untouched" || fail "inspect --json: the BIOS plan"

# --- The UEFI sample, booted ---------------------------------------------------
if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "# qemu-system-x86_64 not installed: no boot"; done_testing; exit
fi
[ -r /usr/lib/systemd/boot/efi/systemd-bootx64.efi ] || { echo "# systemd-boot-efi not installed: no boot"; done_testing; exit; }
out=${top_builddir:-$top_srcdir}/samples/out
OVFDEPLOY=$O sh "$top_srcdir/samples/build-tiny-efi.sh" "$out" >"$T_TMP/build.log" 2>&1
rc=$?
if [ $rc -eq 3 ]; then echo "# the sample's kernel package could not be obtained: no boot"; done_testing; exit; fi
if [ $rc -ne 0 ]; then
	fail "samples/build-tiny-efi.sh (exit $rc)"; sed 's/^/  | /' "$T_TMP/build.log" | tail -20
	done_testing; exit 1
fi
ok "the UEFI variant of the sample builds"
ova=$(cd "$out" && pwd)/tiny-efi.ova
if sfdisk -d "$out/tiny-efi-disk.raw" 2>/dev/null | grep -q 'label: gpt' &&
	sfdisk -d "$out/tiny-efi-disk.raw" | grep -qi 'type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B'; then
	ok "its disk is GPT with an EFI system partition"
else
	fail "the UEFI sample's disk layout"; sfdisk -d "$out/tiny-efi-disk.raw" | sed 's/^/  | /'
fi
# The sample's disk sits on a VirtualSCSI controller, and Debian's OVMF has
# no PVSCSI boot driver: the controller becomes SATA (AHCI), with a warning.
timeout "$BOOT_TIMEOUT" "$O" "$ova" --accept-eula --name uefi --prop oneshot=true </dev/null >"$T_TMP/boot1" 2>&1
rc=$?
tr -d '\r' <"$T_TMP/boot1" >"$T_TMP/b1"
expect_grep 'UEFI: Debian.s OVMF cannot boot from pvscsi.*SATA \(AHCI\).*ahci driver' "$T_TMP/b1" \
	"the boot disk's PVSCSI becomes SATA for OVMF, with a warning naming ahci"
expect_grep '^ctrl\.0\.model=ahci$' "$dir/uefi/instance.conf" "instance.conf: the boot disk's controller is AHCI"
if [ $rc -eq 0 ] && grep -q '^APPLIANCE READY' "$T_TMP/b1"; then
	ok "one command boots the UEFI appliance to APPLIANCE READY and it powers off (exit 0)"
else
	fail "UEFI boot (exit $rc)"; tail -20 "$T_TMP/b1" | sed 's/^/  | /'
fi
expect_grep 'BdsDxe: starting .*UEFI' "$T_TMP/b1" "... booted by OVMF"
expect_grep '^tiny: OVF environment found' "$T_TMP/b1" "... which sees the environment CD"
expect_grep '^property appliance.oneshot=true' "$T_TMP/b1" "... and the property we set"
expect_grep '^efi variable boot count 1$' "$T_TMP/b1" "the guest writes its first UEFI variable"
vars=$dir/uefi/efi-vars.fd
tmpl=$(sed -n 's/^efi_code=//p' "$dir/uefi/instance.conf" | sed 's/CODE/VARS/')
if ! cmp -s "$vars" "$tmpl"; then ok "the instance's variable store holds what was written"; else fail "variable store unchanged"; fi
timeout "$BOOT_TIMEOUT" "$O" start -f uefi </dev/null >"$T_TMP/boot2" 2>&1
rc=$?
tr -d '\r' <"$T_TMP/boot2" >"$T_TMP/b2"
if [ $rc -eq 0 ] && grep -q '^APPLIANCE READY' "$T_TMP/b2"; then ok "stopped and started again, it boots"; else
	fail "second UEFI boot (exit $rc)"; tail -20 "$T_TMP/b2" | sed 's/^/  | /'
fi
expect_grep '^efi variable boot count 2$' "$T_TMP/b2" "the variable of the first boot survived stop/start"
expect_grep '^boot count 2$' "$T_TMP/b2" "... as did the disk's boot counter"
done_testing
