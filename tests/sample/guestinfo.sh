#!/bin/sh
# guestinfo.sh - the OVF environment through com.vmware.guestInfo, end to end
# (issue 16): the sample appliance built with open-vm-tools' vmware-rpctool
# (samples/build-tiny.sh --vmware-tools), its descriptor naming only that
# transport, deployed with `ovfdeploy APP.ova --backend embedded` on real
# hardware-assisted KVM (tests/nested/run-in-guest):
#   1. kvm loaded with enable_vmware_backdoor=1: the guest's vmware-rpctool
#      reads guestinfo.ovfEnv through the backdoor and the --prop values
#      arrive; the guest still uses kvmclock and sees VMware's DMI strings;
#   2. without the parameter: the warning with the fix before booting, and
#      the environment on the CD instead.
# Skips where tests/nested/run-in-guest is absent or no KVM can be had, and
# without vmware-rpctool (Debian package open-vm-tools).
. "${top_srcdir:-.}/tests/cli/lib.sh"
plain_pass_only "the guestinfo boot"
NESTED=${OVFDEPLOY_NESTED_RUN:-$top_srcdir/tests/nested/run-in-guest}
[ -f "$NESTED" ] || skip "no nested test bed ($NESTED)"
command -v vmware-rpctool >/dev/null || skip "vmware-rpctool not installed (open-vm-tools)"
command -v qemu-img >/dev/null || skip "qemu-img not installed"
O=$OVFDEPLOY
BOOT_TIMEOUT=${TINY_BOOT_TIMEOUT:-400}
cd "$T_TMP"

# the appliance: the sample with vmware-rpctool, transport guestInfo only
SAMPLE_OUT=${top_builddir:-$top_srcdir}/samples/out
sh "$top_srcdir/samples/build-tiny.sh" --vmware-tools --output tiny-vmw.raw "$SAMPLE_OUT" >build.log 2>&1
rc=$?
[ $rc -eq 3 ] && skip "the kernel package could not be obtained (offline?)"
[ $rc -eq 0 ] || { fail "build-tiny.sh --vmware-tools (exit $rc)"; sed 's/^/  | /' build.log | tail; done_testing; exit 1; }
mkdir app
"$O" -q convert -O vmdk -o subformat=streamOptimized "$SAMPLE_OUT/tiny-vmw.raw" app/tiny-disk1.vmdk &&
	sed 's/ovf:transport="[^"]*"/ovf:transport="com.vmware.guestInfo"/' "$top_srcdir/samples/tiny.ovf" >app/tiny.ovf &&
	"$O" -q pack app/tiny.ovf -o gi.ova || { fail "packing the guestInfo appliance"; done_testing; exit 1; }
grep -q 'transport="com.vmware.guestInfo"' app/tiny.ovf && ok "the appliance names only com.vmware.guestInfo" ||
	fail "the transport was not changed"

greeting="guestinfo $$ <&> \"q\""
cat >in.sh <<EOF2
cd "$T_TMP"
export OVFDEPLOY_HOME="$T_TMP/home.\$1"
rm -rf "\$OVFDEPLOY_HOME" # a fresh start after a hung test bed (--retry-stalled)
cat /sys/module/kvm/parameters/enable_vmware_backdoor >param.\$1 2>&1
timeout $BOOT_TIMEOUT "$O" gi.ova --accept-eula --backend embedded --name gi --prop appliance.oneshot=true \\
	--prop 'appliance.greeting=$greeting' </dev/null >console.\$1 2>err.\$1
echo \$? >rc.\$1
EOF2
# console FILE: show the tail of a console log
console() { tr -d '\r' <"$1" | tail -n 25 | sed 's/^/  | /'; }
check() { # FILE LINE DESCRIPTION
	if tr -d '\r' <"$1" | grep -Fq -- "$2"; then ok "$3"; else fail "$3 (no '$2')"; console "$1"; fi
}

# 1. with enable_vmware_backdoor=1
"$NESTED" --timeout $((BOOT_TIMEOUT + 120)) --retry-stalled --modprobe-opt 'kvm enable_vmware_backdoor=1' --rw "$T_TMP" -- \
	sh "$T_TMP/in.sh" on >nested.on 2>&1
rc=$?
[ $rc -eq 77 ] && skip "no KVM for the nested tests: $(tail -n 1 nested.on)"
[ $rc -eq 0 ] || { fail "the test bed failed (exit $rc)"; tail -n 30 nested.on | sed 's/^/  bed| /'; }
grep -qx Y param.on && ok "in the test bed kvm has enable_vmware_backdoor=Y" || fail "enable_vmware_backdoor is $(cat param.on)"
[ "$(cat rc.on 2>/dev/null)" = 0 ] && ok "deploy and run to the guest's power-off: exit 0" ||
	{ fail "deploy and run (exit $(cat rc.on 2>/dev/null))"; sed 's/^/  err| /' err.on; }
check console.on "OVF environment found on guestinfo.ovfEnv" "vmware-rpctool reads guestinfo.ovfEnv through the backdoor"
check console.on "property appliance.greeting=$greeting" "the --prop value arrives through guestinfo"
check console.on "vmware tools: info-set guestinfo.tiny.state done" "the guest sets a key of its own"
check console.on "clocksource kvm-clock" "under VMware's identity the guest still uses kvmclock"
check console.on "dmi VMware, Inc. / VMware Virtual Platform" "the guest's DMI says VMware"
check console.on "APPLIANCE READY" "the appliance is ready"
if grep -q "com.vmware.guestInfo" err.on; then fail "no guestinfo warning expected with the parameter on"; sed 's/^/  err| /' err.on
else ok "no guestinfo warning with the parameter on"; fi

# 2. without it: warning, then the CD
"$NESTED" --timeout $((BOOT_TIMEOUT + 120)) --retry-stalled --rw "$T_TMP" -- sh "$T_TMP/in.sh" off >nested.off 2>&1
rc=$?
[ $rc -eq 0 ] || { fail "the test bed failed (exit $rc)"; tail -n 30 nested.off | sed 's/^/  bed| /'; }
grep -qx N param.off && ok "by default kvm has enable_vmware_backdoor=N" || echo "# enable_vmware_backdoor is $(cat param.off)"
[ "$(cat rc.off 2>/dev/null)" = 0 ] && ok "without the parameter: still deployed and run, exit 0" ||
	{ fail "without the parameter (exit $(cat rc.off 2>/dev/null))"; sed 's/^/  err| /' err.off; }
check err.off "enable_vmware_backdoor" "the warning names the kvm parameter"
check err.off "modprobe kvm enable_vmware_backdoor=1" "... and the command that sets it"
check err.off "CD-ROM instead" "... and the fallback"
check console.off "OVF environment found on /dev/" "the environment comes from the CD"
check console.off "property appliance.greeting=$greeting" "the --prop value arrives on the CD"
done_testing
