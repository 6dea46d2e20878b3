#!/bin/sh
# target.sh - validate --target: what vSphere, VirtualBox or ovfdeploy
# cannot honour in a descriptor, as warnings that leave the verdict alone.
. "${top_srcdir:-.}/tests/cli/lib.sh"
O=$OVFDEPLOY
tiny=$top_srcdir/samples/tiny.ovf
cd "$T_TMP"

expect_exit 0 "the sample has nothing vSphere cannot honour" -- "$O" validate --no-schema --target vsphere "$tiny"
expect_grep "targets vsphere: 0 warnings" "$T_TMP/out" "the summary says so"
expect_exit 2 "an unknown target is a usage error" -- "$O" validate --target esx "$tiny"

# the sample as it used to be: a virtio NIC, no units, no osType, no CD-ROM
sed -e 's/VmxNet3/VirtIO/' -e 's/ ovf:capacityAllocationUnits="byte \* 2^20"//' -e 's/ vmw:osType="[^"]*"//' \
	-e 's|<rasd:ResourceType>15</rasd:ResourceType>|<rasd:ResourceType>1</rasd:ResourceType>|' "$tiny" >old.ovf
expect_exit 0 "target findings are warnings: still deployable" -- "$O" validate --no-schema --target vsphere old.ovf
for code in nic capacity-units transport ostype; do
	expect_grep "\\[target-vsphere-$code\\]" "$T_TMP/err" "vsphere: target-vsphere-$code"
done
expect_grep "unknown|has no adapter type 'VirtIO'" "$T_TMP/err" "the NIC message names the type"
expect_grep "targets vsphere: 4 warnings" "$T_TMP/out" "four findings"

expect_exit 0 "virtualbox" -- "$O" validate --no-schema --target virtualbox "$tiny"
expect_grep "\\[target-virtualbox-transport\\]" "$T_TMP/err" "virtualbox: no OVF environment"
expect_grep "\\[target-virtualbox-properties\\]" "$T_TMP/err" "virtualbox: properties are lost"
expect_grep "\\[target-virtualbox-nic\\]" "$T_TMP/err" "virtualbox: no vmxnet3"

expect_exit 0 "ovfdeploy" -- "$O" validate --no-schema --target ovfdeploy "$tiny"
expect_grep "\\(VmxNet3\\) is provided as virtio-net \\[target-ovfdeploy-nic\\]" "$T_TMP/err" "ovfdeploy: NICs become virtio-net"
sed 's/ovf:transport="[^"]*"/ovf:transport="com.vmware.guestInfo"/' "$tiny" >gi.ovf
expect_exit 0 "ovfdeploy, guestInfo alone" -- "$O" validate --no-schema --target ovfdeploy gi.ovf
expect_grep "enable_vmware_backdoor=1.*\\[target-ovfdeploy-transport\\]" "$T_TMP/err" "ovfdeploy: guestInfo needs the kvm parameter"

expect_exit 0 "--json with two targets" -- "$O" --json validate --no-schema --target vsphere --target virtualbox old.ovf
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
t = [x for x in d["diagnostics"] if x["source"] == "target"]
assert d["deployable"] and len(t) == 7 and all(x["severity"] == "warning" for x in t), d
assert {x["code"].split("-")[1] for x in t} == {"vsphere", "virtualbox"}, t
' "$T_TMP/out" && ok "--json: target diagnostics, warnings of both targets" || fail "--json target diagnostics"
done_testing
