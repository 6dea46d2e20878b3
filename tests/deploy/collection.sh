#!/bin/sh
# collection.sh - a VirtualSystemCollection deploys as one instance per
# VirtualSystem (NAME-SYSTEMID), all or nothing: the collection's properties
# reach every member, each member's OVF environment carries its siblings'
# properties as Entity sections (DSP8027), and --start starts them all in the
# background.
. "${top_srcdir:-.}/tests/cli/lib.sh"
command -v qemu-img >/dev/null || skip "qemu-img not installed (qemu-utils)"
export OVFDEPLOY_HOME="$T_TMP/home"
O=$OVFDEPLOY
cd "$T_TMP"

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
expect_exit 0 "the collection validates" -- "$O" validate shop.ova

count_instances() { ls "$OVFDEPLOY_HOME/instances" 2>/dev/null | wc -l; }
expect_exit 1 "the collection's property needs a value" -- "$O" deploy shop.ova --name s
expect_grep "site.name" "$T_TMP/err" "the error names the collection's property"
[ "$(count_instances)" -eq 0 ] && ok "a refused collection leaves no instance" || fail "refused collection left $(count_instances)"
expect_exit 1 "a bad member property is refused before anything is made" -- "$O" deploy shop.ova --name s \
	--prop site.name=x --prop db.port=70000
expect_grep "db" "$T_TMP/err" "the error names the member"

expect_exit 0 "deploy the collection" -- "$O" deploy shop.ova --name s --prop site.name='My & shop' --prop web.port=8080
expect_grep "collection of 2 virtual systems" "$T_TMP/err" "deploy says it is a collection"
for m in db web; do
	[ -d "$OVFDEPLOY_HOME/instances/s-$m" ] && ok "instance s-$m exists" || fail "no instance s-$m"
done
expect_grep '^cpus=1$' "$OVFDEPLOY_HOME/instances/s-db/instance.conf" "db has its own hardware (1 CPU)"
expect_grep '^cpus=2$' "$OVFDEPLOY_HOME/instances/s-web/instance.conf" "web has its own hardware (2 CPUs)"
expect_exit 0 "db's overlay shows db's disk" -- "$O" compare "$OVFDEPLOY_HOME/instances/s-db/disk0.qcow2" db.raw
expect_exit 0 "web's overlay shows web's disk" -- "$O" compare "$OVFDEPLOY_HOME/instances/s-web/disk0.qcow2" web.raw
envw="$OVFDEPLOY_HOME/instances/s-web/ovf-env.xml"
expect_grep 'oe:id="web"' "$envw" "web's environment is web's"
expect_grep 'oe:key="site.name" oe:value="My &amp; shop"' "$envw" "the collection's property reaches web"
expect_grep 'oe:key="web.port" oe:value="8080"' "$envw" "web's own property"
expect_grep '<Entity oe:id="db">' "$envw" "web sees db as an Entity"
python3 - "$envw" <<'PY' && ok "the Entity carries db's properties" || fail "Entity content"
import sys, xml.etree.ElementTree as ET
ns = {"oe": "http://schemas.dmtf.org/ovf/environment/1"}
root = ET.parse(sys.argv[1]).getroot()
ent = [e for e in root.findall("oe:Entity", ns) if e.get("{%s}id" % ns["oe"]) == "db"]
props = {p.get("{%s}key" % ns["oe"]): p.get("{%s}value" % ns["oe"]) for p in ent[0].iter("{%s}Property" % ns["oe"])}
sys.exit(0 if props.get("db.port") == "5432" and props.get("site.name") == "My & shop" else 1)
PY
expect_grep '<Entity oe:id="web">' "$OVFDEPLOY_HOME/instances/s-db/ovf-env.xml" "db sees web as an Entity"
if command -v xmllint >/dev/null && [ -f "$top_srcdir/schemas/ovf-environment-1.xsd" ]; then
	expect_exit 0 "web's environment is schema-valid" -- xmllint --nonet --noout --schema "$top_srcdir/schemas/ovf-environment-1.xsd" "$envw"
fi

# All or nothing: when the second member cannot be made, the first is removed.
expect_exit 2 "a name in use stops the collection" -- "$O" deploy shop.ova --name s --prop site.name=x
[ "$(count_instances)" -eq 2 ] && ok "the existing instances are untouched" || fail "instances: $(ls "$OVFDEPLOY_HOME/instances")"
"$O" -q rm s-db
expect_exit 2 "s-web still in use stops a redeploy" -- "$O" deploy shop.ova --name s --prop site.name=x
[ ! -d "$OVFDEPLOY_HOME/instances/s-db" ] && ok "the half-made collection was removed" || fail "s-db left behind"
"$O" -q rm s-web

expect_exit 0 "deploy --json lists both instances" -- "$O" deploy shop.ova --name j --prop site.name=x --json
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if [i['name'] for i in d] == ['j-db', 'j-web'] else 1)" \
	"$T_TMP/out" && ok "the JSON is an array of the members" || fail "JSON: $(cat "$T_TMP/out")"
"$O" -q rm j-db; "$O" -q rm j-web

if command -v qemu-system-x86_64 >/dev/null; then
	expect_exit 0 "deploy --start starts every member in the background" -- \
		"$O" deploy shop.ova --name r --prop site.name=x --backend qemu --start
	expect_grep "Started r-db" "$T_TMP/err" "r-db started"
	expect_grep "Started r-web" "$T_TMP/err" "r-web started"
	"$O" list >list.txt 2>&1
	[ "$(grep -c running list.txt)" -eq 2 ] && ok "both run" || { fail "list"; cat list.txt; }
	"$O" -q stop --timeout 0 r-db; "$O" -q stop --timeout 0 r-web
	"$O" -q rm r-db && "$O" -q rm r-web && ok "both stop and go" || fail "stop/rm"
fi
[ "$(count_instances)" -eq 0 ] && ok "nothing left" || fail "left: $(ls "$OVFDEPLOY_HOME/instances")"

# A system nested deeper than the parser follows (16 collections) is refused
# with a reason, never deployed without its collections' properties.
mkdir deep
cp app/db.vmdk deep/
{
	sed -n '1,/<\/DiskSection>/p' app/shop.ovf | grep -v 'f-web\|d-web'
	i=0; while [ $i -lt 20 ]; do echo "<VirtualSystemCollection ovf:id=\"c$i\"><Info>level $i</Info>"; i=$((i + 1)); done
	system db 1 128 d-db 5432
	i=0; while [ $i -lt 20 ]; do echo "</VirtualSystemCollection>"; i=$((i + 1)); done
	echo "</Envelope>"
} >deep/deep.ovf
if "$O" -q pack deep/deep.ovf -o deep.ova 2>"$T_TMP/err"; then
	expect_exit 1 "a system 20 collections deep is refused" -- "$O" deploy deep.ova --name d
	expect_grep "no VirtualSystem to deploy|nested" "$T_TMP/err" "the error says why"
	[ "$(count_instances)" -eq 0 ] && ok "the refusal leaves nothing" || fail "left: $(ls "$OVFDEPLOY_HOME/instances")"
else
	fail "pack the deep package: $(cat "$T_TMP/err")"
fi
done_testing
