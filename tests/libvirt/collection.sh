#!/bin/sh
# collection.sh - with --connect, a VirtualSystemCollection deploys as one
# domain per VirtualSystem (NAME-SYSTEMID), all or nothing, on the private
# libvirtd, its properties checked before anything is uploaded.  Each
# member gets its own hardware and bases; rm of both leaves the pool empty.
# No guest boots (the members' disks are blank).
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/libvirt/lvlib.sh"
O=$OVFDEPLOY
lv_skip_unless_possible
trap 'lv_stop; rm -rf "$T_TMP"' EXIT
lv_start
U=$LV_URI
cd "$T_TMP" || exit 1
system() { # ID CPUS MIB DISKID: a VirtualSystem with one disk on virtio
	cat <<XML
    <VirtualSystem ovf:id="$1">
      <Info>The $1 machine</Info>
      <ProductSection ovf:class="$1">
        <Info>Settings of $1</Info>
        <Product>$1 server</Product>
        <Property ovf:key="port" ovf:type="uint16" ovf:value="${5}" ovf:userConfigurable="true"/>
      </ProductSection>
      <VirtualHardwareSection ovf:transport="iso">
        <Info>Virtual hardware</Info>
        <Item>
          <rasd:ElementName>$2 CPU</rasd:ElementName>
          <rasd:InstanceID>1</rasd:InstanceID>
          <rasd:ResourceType>3</rasd:ResourceType>
          <rasd:VirtualQuantity>$2</rasd:VirtualQuantity>
        </Item>
        <Item>
          <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
          <rasd:ElementName>$3 MiB</rasd:ElementName>
          <rasd:InstanceID>2</rasd:InstanceID>
          <rasd:ResourceType>4</rasd:ResourceType>
          <rasd:VirtualQuantity>$3</rasd:VirtualQuantity>
        </Item>
        <Item>
          <rasd:ElementName>disk</rasd:ElementName>
          <rasd:HostResource>ovf:/disk/$4</rasd:HostResource>
          <rasd:InstanceID>3</rasd:InstanceID>
          <rasd:ResourceType>17</rasd:ResourceType>
        </Item>
      </VirtualHardwareSection>
    </VirtualSystem>
XML
}
mkdir app
for d in db web; do
	truncate -s 4M $d.raw
	printf "disk of $d" | dd of=$d.raw conv=notrunc 2>/dev/null
	"$O" -q convert -O vmdk -o subformat=streamOptimized $d.raw app/$d.vmdk || { fail "convert"; done_testing; exit 1; }
done
{
	cat <<XML
<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
          xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References>
    <File ovf:id="f-db" ovf:href="db.vmdk"/>
    <File ovf:id="f-web" ovf:href="web.vmdk"/>
  </References>
  <DiskSection>
    <Info>Disks</Info>
    <Disk ovf:diskId="d-db" ovf:fileRef="f-db" ovf:capacity="4" ovf:capacityAllocationUnits="byte * 2^20"
          ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
    <Disk ovf:diskId="d-web" ovf:fileRef="f-web" ovf:capacity="4" ovf:capacityAllocationUnits="byte * 2^20"
          ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <VirtualSystemCollection ovf:id="shop">
    <Info>A two-tier application</Info>
    <ProductSection ovf:class="site">
      <Info>Settings of the whole application</Info>
      <Product>shop</Product>
      <Property ovf:key="name" ovf:type="string" ovf:qualifiers="MinLen(1)" ovf:userConfigurable="true"/>
    </ProductSection>
XML
	system db 1 128 d-db 5432
	system web 2 256 d-web 80
	cat <<XML
  </VirtualSystemCollection>
</Envelope>
XML
} >app/shop.ovf
"$O" -q pack app/shop.ovf -o shop.ova || { fail "pack"; done_testing; exit 1; }

expect_exit 1 "a bad member property is refused before anything is uploaded" -- "$O" deploy --connect "$U" shop.ova \
	--name s --prop site.name=x --prop db.port=70000
[ -z "$(lv_pool_files)" ] && ok "the pool is untouched" || fail "left: $(lv_pool_files | tr '\n' ' ')"
expect_exit 0 "deploy the collection to libvirt" -- "$O" deploy --connect "$U" shop.ova --name s --prop site.name=shop1
lv_virsh list --all --name >doms.txt
expect_grep "^s-db$" doms.txt "domain s-db"
expect_grep "^s-web$" doms.txt "domain s-web"
lv_virsh dumpxml s-web >web.xml
expect_grep "<vcpu[^>]*>2</vcpu>" web.xml "web has its own hardware (2 CPUs)"
expect_grep "site.name\">shop1<" web.xml "the collection's property is recorded on each member"
nb=$(lv_pool_files | grep -c '^od-base-.*\.vmdk$')
[ "$nb" -eq 2 ] && ok "one base per member disk" || fail "$nb bases"
expect_exit 2 "deploying it again under the same name is refused" -- "$O" deploy --connect "$U" shop.ova --name s --prop site.name=shop1
[ "$(lv_pool_files | grep -c '^s-')" -eq 4 ] && ok "the refusal removed nothing of the deployed members" || fail "members' volumes changed: $(lv_pool_files | tr '\n' ' ')"
expect_exit 0 "rm s-db" -- "$O" rm --connect "$U" s-db
expect_exit 0 "rm s-web" -- "$O" rm --connect "$U" s-web
[ -z "$(lv_pool_files)" ] && ok "the pool is empty again" || fail "left: $(lv_pool_files | tr '\n' ' ')"
done_testing
