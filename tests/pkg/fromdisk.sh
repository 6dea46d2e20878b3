#!/bin/sh
# fromdisk.sh - pack --from-disk: a disk image becomes a complete appliance
# (a generated descriptor valid under validate --strict, the disk as a
# streamOptimized VMDK).  Needs the disk engine's VMDK writer: skipped, with
# the reason, when this build does not have it yet.
. "${top_srcdir:-.}/tests/cli/lib.sh"
mkdir "$T_TMP/w" && cd "$T_TMP/w" || exit 1

# Option errors come before any disk work, so they are checked first.
expect_exit 2 "--from-disk needs --name" -- "$OVFDEPLOY" pack --from-disk x.img -o a.ova
expect_exit 2 "--name only with --from-disk" -- "$OVFDEPLOY" pack --name x . -o a.ova
expect_exit 2 "--prop needs KEY=TYPE" -- "$OVFDEPLOY" pack --from-disk x.img --name a --prop novalue -o a.ova
expect_exit 2 "--memory must be whole MiB" -- "$OVFDEPLOY" pack --from-disk x.img --name a --memory 1000 -o a.ova

head -c 3M /dev/urandom > disk.raw
"$OVFDEPLOY" pack --from-disk disk.raw --name probe -o probe.ova >/dev/null 2>probe.err
if grep -Eq "not implemented yet|unrecognised image format" probe.err; then
	skip "the disk engine in this build cannot convert to VMDK yet ($(head -1 probe.err))"
fi

expect_exit 0 "pack --from-disk with every option" -- "$OVFDEPLOY" pack --from-disk disk.raw --name web \
	--cpus 2 --memory 1G --nic lan --nic mgmt --product "Web <server> & co" --vendor ACME --version 1.2 \
	--prop hostname=string:web1 --prop port=uint16:8080 --prop debug=boolean -o web.ova
[ "$(tar tf web.ova | tr '\n' ' ')" = "web.ovf web.mf web-disk1.vmdk " ] && ok "members: web.ovf web.mf web-disk1.vmdk" || fail "members: $(tar tf web.ova | tr '\n' ' ')"
expect_exit 0 "the appliance verifies" -- "$OVFDEPLOY" verify web.ova
expect_exit 0 "and unpacks" -- "$OVFDEPLOY" unpack web.ova web
expect_grep "&lt;server&gt; &amp; co" web/web.ovf "product text is XML-escaped"
expect_grep 'ovf:key="port" ovf:type="uint16"' web/web.ovf "property written"
expect_grep "<rasd:VirtualQuantity>1024</rasd:VirtualQuantity>" web/web.ovf "memory in MiB"
expect_grep 'ovf:capacity="3145728" ovf:capacityAllocationUnits="byte"' web/web.ovf "the disk capacity names its unit (vSphere reads none as KiB)"
expect_exit 2 "--nic-model takes known models only" -- "$OVFDEPLOY" pack --from-disk disk.raw --name v --nic-model rtl8139 -o v.ova
expect_exit 2 "--transport takes iso, guestinfo or both" -- "$OVFDEPLOY" pack --from-disk disk.raw --name v --transport net -o v.ova
expect_exit 0 "pack --from-disk with VMware hardware and the guestinfo transport" -- "$OVFDEPLOY" pack --from-disk disk.raw \
	--name vmw --nic lan --nic-model vmxnet3 --scsi pvscsi --os-type otherLinux64Guest --transport guestinfo -o vmw.ova
"$OVFDEPLOY" -q unpack vmw.ova vmw
expect_grep '<rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType>' vmw/vmw.ovf "--nic-model vmxnet3"
expect_grep '<rasd:ResourceSubType>VirtualSCSI</rasd:ResourceSubType>' vmw/vmw.ovf "--scsi pvscsi"
expect_grep 'vmw:osType="otherLinux64Guest"' vmw/vmw.ovf "--os-type"
expect_grep 'ovf:transport="com.vmware.guestInfo"' vmw/vmw.ovf "--transport guestinfo"
if grep -q '<rasd:ResourceType>15</rasd:ResourceType>' vmw/vmw.ovf; then fail "no CD-ROM without the iso transport"; else ok "no CD-ROM without the iso transport"; fi
expect_grep "<rasd:Connection>mgmt</rasd:Connection>" web/web.ovf "second NIC"
"$OVFDEPLOY" validate --strict web/web.ovf >val.out 2>&1
rc=$?
if [ $rc = 3 ] && grep -q "xsd" val.out; then
	expect_exit 0 "the descriptor is deployable (no schemas in this build)" -- "$OVFDEPLOY" validate --no-schema web/web.ovf
else
	[ $rc = 0 ] && ok "the descriptor passes validate --strict" || { fail "validate --strict: exit $rc"; sed 's/^/  | /' val.out; }
fi
if command -v qemu-img >/dev/null 2>&1; then
	qemu-img info web/web-disk1.vmdk | grep -q "vmdk" && ok "qemu-img reads the VMDK" || fail "qemu-img cannot read the VMDK"
	expect_exit 0 "qemu-img: the VMDK holds the disk's content" -- qemu-img compare disk.raw web/web-disk1.vmdk
fi
expect_exit 2 "a property default outside its type is refused" -- "$OVFDEPLOY" pack --from-disk disk.raw --name x --prop port=uint16:99999 -o x.ova
expect_exit 2 "an unknown property type is refused" -- "$OVFDEPLOY" pack --from-disk disk.raw --name x --prop a=int:1 -o x.ova
expect_exit 2 "a name that is not a file name is refused" -- "$OVFDEPLOY" pack --from-disk disk.raw --name ../x -o x.ova
[ ! -e x.ova ] && [ -z "$(ls -a | grep '^\.x\.')" ] && ok "nothing left behind after refusals" || fail "leftovers: $(ls -a)"
openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 2 -subj "/CN=t" 2>/dev/null && {
	expect_exit 0 "pack --from-disk --sign" -- "$OVFDEPLOY" pack --from-disk disk.raw --name s --sign k.pem --cert c.pem -o s.ova
	expect_exit 0 "and the signature verifies" -- "$OVFDEPLOY" verify --ca-file c.pem --require-signature s.ova
}
done_testing
