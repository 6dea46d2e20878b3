#!/bin/sh
# guestinfo.sh - deploying an appliance whose OVF environment transport is
# com.vmware.guestInfo (issue 16): what the instance records, and at start
# the warning with the host's fix and the CD fallback where guestinfo cannot
# reach the guest's tools (QEMU; the embedded runner on a kvm module without
# enable_vmware_backdoor=1).  The delivery itself, to vmware-rpctool in a
# Linux guest, is tests/sample/guestinfo.sh (nested KVM).
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/deploy/deploylib.sh"
expect_no_grep() { if grep -Eq -- "$1" "$2"; then fail "$3 ('$1' in $2)"; sed 's/^/  | /' "$2" | head -20; else ok "$3"; fi; }
command -v qemu-img >/dev/null || skip "qemu-img not installed (qemu-utils)"
export OVFDEPLOY_HOME="$T_TMP/home"
O=$OVFDEPLOY
cd "$T_TMP"
make_tiny_app 1M

# variants of the sample descriptor: guestInfo alone, both, a non-VMware type
mkpkg() { # NAME TRANSPORT SYSTEMTYPE
	rm -rf "v$1" && mkdir "v$1" && cp app/tiny-disk1.vmdk "v$1/" &&
		sed -e "s/ovf:transport=\"[^\"]*\"/ovf:transport=\"$2\"/" -e "s/>vmx-10</>$3</" app/tiny.ovf >"v$1/tiny.ovf" &&
		"$O" -q pack "v$1/tiny.ovf" -o "$1.ova" || { fail "making $1.ova"; done_testing; exit 1; }
}
mkpkg gi com.vmware.guestInfo vmx-13
mkpkg both "iso com.vmware.guestInfo" vmx-13
mkpkg kvm com.vmware.guestInfo virtio
mkpkg plain iso virtio

# inspect says what the guest will see
"$O" inspect gi.ova >insp.txt 2>&1
expect_grep 'the guest sees VMware \(embedded runner\): CPUID 0x40000000 "VMwareVMware"' insp.txt "inspect: a vmx-N appliance sees VMware"
expect_grep 'environment: guestinfo.ovfEnv through the backdoor.*else on a CD' insp.txt "inspect: guestinfo, CD as fallback"
"$O" inspect kvm.ova >insp2.txt 2>&1
expect_grep 'the guest sees VMware' insp2.txt "inspect: guestInfo alone makes a VMware guest (its tools need it)"
"$O" inspect plain.ova >insp3.txt 2>&1
expect_grep 'the guest sees a KVM PC' insp3.txt "inspect: a non-VMware type with the CD sees KVM"
"$O" --json inspect both.ova >insp.json 2>&1
python3 -c 'import json,sys; g=json.load(open(sys.argv[1]))["virtual_systems"][0]["hardware"][0]["guest_sees"]; assert g["platform"]=="vmware" and g["environment"]==["guestinfo.ovfEnv","iso"] and g["kvm_cpuid_base"]=="0x40000100", g' insp.json &&
	ok "inspect --json: guest_sees" || fail "inspect --json: guest_sees"

conf() { echo "$OVFDEPLOY_HOME/instances/$1/instance.conf"; }
expect_exit 0 "deploy a guestInfo-only VMware appliance" -- "$O" -q deploy gi.ova --accept-eula --name gi --backend qemu
expect_grep '^guestinfo=1$' "$(conf gi)" "the instance delivers guestinfo"
expect_grep '^cdrom_fallback_only=1$' "$(conf gi)" "the CD is only a fallback"
expect_grep '^vmware=1$' "$(conf gi)" "vmx-13: the guest sees VMware"
expect_grep '^vmx_version=13$' "$(conf gi)" "the hardware version is kept"
expect_exit 0 "deploy with both transports" -- "$O" -q deploy both.ova --accept-eula --name both --backend qemu
expect_grep '^guestinfo=1$' "$(conf both)" "both: guestinfo"
expect_no_grep '^cdrom_fallback_only' "$(conf both)" "both: the CD always goes in"
expect_exit 0 "deploy a non-VMware type with --platform vmware" -- \
	"$O" -q deploy plain.ova --accept-eula --name kvm --backend qemu --platform vmware
expect_grep '^vmware=1$' "$(conf kvm)" "--platform vmware"
expect_exit 0 "deploy a non-VMware type, transport guestInfo" -- \
	"$O" -q deploy kvm.ova --accept-eula --name kvm2 --backend qemu
expect_grep '^vmware=1$' "$(conf kvm2)" "guestInfo alone: VMware, for its tools"
expect_exit 0 "deploy a VMware type with --platform generic" -- \
	"$O" -q deploy gi.ova --accept-eula --name gen --backend qemu --platform generic
expect_no_grep '^vmware=' "$(conf gen)" "--platform generic: a plain PC"
mkpkg iso iso vmx-10
expect_exit 0 "an iso-only appliance (vmx-10)" -- "$O" -q deploy iso.ova --accept-eula --name tiny --backend qemu
expect_no_grep '^guestinfo=' "$(conf tiny)" "iso only: no guestinfo"
expect_exit 2 "a bad --platform is a usage error" -- "$O" deploy gi.ova --accept-eula --platform esx

# QEMU: a stand-in binary records its arguments; the warning comes first
cat >fakeqemu <<EOF2
#!/bin/sh
printf '%s\n' "\$@" >"$T_TMP/qemu-args"
exit 0
EOF2
chmod +x fakeqemu
OVFDEPLOY_QEMU=$T_TMP/fakeqemu "$O" start -f gi </dev/null >qemu.out 2>&1
expect_grep 'warning: .*com.vmware.guestInfo.*will not reach it: QEMU has no VMware GuestRPC' qemu.out \
	"QEMU: the warning says guestinfo cannot reach the tools"
expect_grep 'environment is on a CD-ROM instead' qemu.out "QEMU: ... and that the CD stands in"
expect_grep 'env.iso' qemu-args "QEMU gets the environment CD"
OVFDEPLOY_QEMU=$T_TMP/fakeqemu "$O" start -f tiny </dev/null >qemu2.out 2>&1
expect_no_grep 'warning' qemu2.out "no warning for an iso appliance"
OVFDEPLOY_QEMU=$T_TMP/fakeqemu "$O" start -f both </dev/null >qemu3.out 2>&1
expect_no_grep 'warning' qemu3.out "no warning when iso is named too: the CD has the environment"

# the embedded runner on this host's kvm module
if [ -r /dev/kvm ] && [ -w /dev/kvm ] && [ -r /usr/share/seabios/bios.bin ]; then
	param=$(cat /sys/module/kvm/parameters/enable_vmware_backdoor 2>/dev/null || echo none)
	sed -i 's/^backend=.*/backend=embedded/' "$(conf gi)"
	timeout 8 "$O" start -f gi </dev/null >emb.out 2>&1
	case $param in
	Y | y | 1)
		expect_no_grep 'warning' emb.out "embedded, enable_vmware_backdoor=$param: no warning" ;;
	*)
		expect_grep 'enable_vmware_backdoor' emb.out "embedded, enable_vmware_backdoor=$param: the warning names the parameter"
		expect_grep 'modprobe -r kvm_(amd|intel) kvm && modprobe kvm enable_vmware_backdoor=1' emb.out \
			"... with the commands that fix it"
		expect_grep "options kvm enable_vmware_backdoor=1' >/etc/modprobe.d/" emb.out "... and the line that keeps it"
		expect_grep 'CD-ROM instead' emb.out "... and the CD fallback" ;;
	esac
	expect_grep 'SeaBIOS' emb.out "the embedded runner boots the instance"
else
	echo "# /dev/kvm not usable: embedded backend not exercised"
fi
for n in gi both kvm kvm2 gen tiny; do "$O" -q rm $n; done
done_testing
