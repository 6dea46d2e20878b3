#!/bin/sh
# tests/schema/compare-reference.sh - do ovfdeploy's own XML Schemas (schemas/)
# give the same strict verdict as the DMTF reference schemas?
#
# "Strict verdict" is what `xmllint --nonet --schema` says: valid or not.  The
# C side runs the same libxml2 validation for `ovfdeploy validate --strict`, so
# agreement here is agreement there.  We compare, never expect a fixed answer
# from the corpus: most ovftool conformance descriptors are not strictly valid
# (vssd:InstanceId spelled with a small d, missing ElementName...), and what
# matters is that our schemas reject exactly what the DMTF ones reject.
#
# Stages:
#   0. each of our schemas compiles in xmllint with no warning;
#   1. every *.ovf of shared/corpus, as is;
#   2. the same descriptors with their usual spelling mistakes repaired
#      (vssd/rasd:InstanceId, missing vssd:ElementName, a broken epasd
#      namespace URI), so that deeper parts of the descriptors get exercised
#      instead of failing at the first System element;
#   3. small OVF 1.x and 2.x envelopes written by this script (2.x: storage and
#      Ethernet port items, port profiles, the 2.x sections, encryption keys),
#      each meant valid (v-*) or invalid (x-*) - the reference must agree
#      with that intention too, or the case itself is wrong; plus an
#      attribute matrix (every OVF attribute with a battery of values, or
#      left out: agreement only);
#   3b. every valid generated envelope and real-world descriptor with each
#      element in turn deleted or duplicated (agreement only);
#   4. ovf-env.xml documents against our environment schema and DSP8027;
#   5. every global element of every CIM class schema with a battery of
#      values (ranges, value maps, nil, whitespace, lengths, attributes).
#
# Which schema: root namespace .../ovf/envelope/1 -> ovf-envelope-1.xsd vs
# dmtf-ovf-1.0/ovf-envelope.xsd; .../ovf/envelope/2 -> ovf-envelope-2.xsd vs
# dmtf-ovf-2.0.1/dsp8023_2.0.1.xsd.  Anything else (OVF 0.9 with the VMware
# namespace, no namespace, a made-up one) is checked against the 1.x pair:
# both must reject it, and the script says which namespace it saw.
#
# Exit status (automake): 0 all verdicts agree, 1 a mismatch or a broken
# schema, 77 skipped (no xmllint, or no shared/ reference material).
#
# Environment: OVFDEPLOY_SHARED   the shared/ directory (default: ../shared
#                                 beside the project root)
#              OVFDEPLOY_SCHEMADIR our schemas (default: <project>/schemas)
#              VERBOSE=1           print every comparison, not only mismatches
#              KEEP_TMP=1          keep the generated documents (path printed
#                                  in the mismatch lines)

LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd) || exit 1
top=$(cd "$here/../.." && pwd) || exit 1
shared=${OVFDEPLOY_SHARED:-$here/../../../shared}
ours=${OVFDEPLOY_SCHEMADIR:-$top/schemas}
verbose=${VERBOSE:-0}

skip() {
    echo "SKIP: $*"
    exit 77
}

command -v xmllint >/dev/null 2>&1 ||
    skip "xmllint not found (install libxml2-utils)"
[ -d "$shared" ] ||
    skip "no shared reference material at $shared (set OVFDEPLOY_SHARED)"
ref1=$shared/reference/dmtf-ovf-1.0
ref2=$shared/reference/dmtf-ovf-2.0.1
[ -f "$ref1/ovf-envelope.xsd" ] && [ -f "$ref2/dsp8023_2.0.1.xsd" ] ||
    skip "DMTF reference schemas not found under $shared/reference"
[ -f "$ours/ovf-envelope-1.xsd" ] || {
    echo "FAIL: our schemas not found in $ours"
    exit 1
}
corpus=$shared/corpus

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ovfdeploy-schema.XXXXXX") || exit 1
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

passed=0
failed=0

fail() {
    echo "FAIL: $*"
    failed=$((failed + 1))
}

pass() {
    [ "$verbose" = 1 ] && echo "ok: $*"
    passed=$((passed + 1))
}

# compare LABEL OURS REF FILE...
# Validate all FILEs with one xmllint run per schema and compare per file.
# A FILE whose basename starts with "v-" must be valid, "x-" invalid; other
# names carry no expectation.
compare() {
    label=$1 s_ours=$2 s_ref=$3
    shift 3
    [ $# -gt 0 ] || return 0
    xmllint --nonet --noout --schema "$s_ours" "$@" >/dev/null 2>"$tmp/ours.log"
    rc_ours=$?
    xmllint --nonet --noout --schema "$s_ref" "$@" >/dev/null 2>"$tmp/ref.log"
    rc_ref=$?
    # 5 = schema did not compile: then no file was validated at all
    if [ "$rc_ours" = 5 ]; then
        fail "[$label] $s_ours does not compile:"
        sed 's/^/    /' "$tmp/ours.log" | head -n 20
        return
    fi
    if [ "$rc_ref" = 5 ]; then
        fail "[$label] reference $s_ref does not compile"
        return
    fi
    printf '%s\n' "$@" >"$tmp/files.lst"
    # one line per file: "<ref> <ours> <file>", V = valid, I = invalid
    awk '
        FILENAME == ARGV[1] { if (sub(/ validates$/, "")) r[$0] = 1; next }
        FILENAME == ARGV[2] { if (sub(/ validates$/, "")) o[$0] = 1; next }
        { print (($0 in r) ? "V" : "I"), (($0 in o) ? "V" : "I"), $0 }
    ' "$tmp/ref.log" "$tmp/ours.log" "$tmp/files.lst" >"$tmp/verdicts"
    f_before=$failed
    n_files=$#
    while read -r vr vo f; do
        name=${f##*/}
        case $vr in V) wr=valid ;; *) wr=invalid ;; esac
        case $vo in V) wo=valid ;; *) wo=invalid ;; esac
        if [ "$vr" != "$vo" ]; then
            fail "[$label] $f: reference says $wr, ours says $wo"
            grep -F "$f" "$tmp/ref.log" | head -n 3 | sed 's/^/    reference: /'
            grep -F "$f" "$tmp/ours.log" | head -n 3 | sed 's/^/    ours:      /'
            continue
        fi
        case $name in
        v-*) [ "$vr" = V ] || {
                fail "[$label] $name is meant valid but the reference rejects it (broken test case)"
                grep -F "$f" "$tmp/ref.log" | head -n 3 | sed 's/^/    /'
                continue
            } ;;
        x-*) [ "$vr" = I ] || {
                fail "[$label] $name is meant invalid but the reference accepts it (broken test case)"
                continue
            } ;;
        esac
        pass "[$label] $name: both $wr"
    done <"$tmp/verdicts"
    echo "[$label] $n_files documents compared, $((failed - f_before)) failed"
}

# root_ns FILE: namespace URI of the root element ("" if none or unparsable)
root_ns() {
    xmllint --nonet --xpath 'namespace-uri(/*)' "$1" 2>/dev/null
}

# ---------------------------------------------------------------------------
# 0. our schemas load cleanly
# ---------------------------------------------------------------------------
echo '<probe/>' >"$tmp/probe.xml"
for s in "$ours"/*.xsd; do
    xmllint --nonet --noout --schema "$s" "$tmp/probe.xml" >/dev/null 2>"$tmp/load.log"
    # the only acceptable complaint is about <probe/> itself
    if grep -v -e 'No matching global declaration available for the validation root' \
        -e 'probe.xml fails to validate' "$tmp/load.log" | grep -q .; then
        fail "[load] ${s##*/} does not load cleanly:"
        sed 's/^/    /' "$tmp/load.log" | head -n 20
    else
        pass "[load] ${s##*/}"
    fi
done

# ---------------------------------------------------------------------------
# 1./2. the corpus, as is and repaired
# ---------------------------------------------------------------------------
# The repaired copies keep the directory structure (so names stay readable).
repair() {
    sed -e 's|<vssd:InstanceId>\([^<]*\)</vssd:InstanceId>|<vssd:ElementName>repaired</vssd:ElementName><vssd:InstanceID>\1</vssd:InstanceID>|' \
        -e 's|<\(/*\)rasd:InstanceId>|<\1rasd:InstanceID>|g' \
        -e 's|wscim/1/cim2608 schema/|wscim/1/cim-schema/|g' \
        "$1"
}

if [ -d "$corpus" ]; then
    : >"$tmp/c1.lst"
    : >"$tmp/c2.lst"
    find "$corpus" -name '*.ovf' -type f | sort >"$tmp/corpus.lst"
    ncorpus=$(wc -l <"$tmp/corpus.lst")
    mkdir -p "$tmp/repaired"
    while read -r f; do
        ns=$(root_ns "$f")
        case $ns in
        http://schemas.dmtf.org/ovf/envelope/1) list=c1 ;;
        http://schemas.dmtf.org/ovf/envelope/2) list=c2 ;;
        *)
            # OVF 0.9 (http://www.vmware.com/schema/ovf/1/envelope), no
            # namespace, or junk: neither 1.x schema declares that root, both
            # must reject it.
            echo "note: ${f#"$corpus"/}: root namespace '${ns:-none}' is not OVF 1.x/2.x; compared against the 1.x schemas (both should reject)"
            list=c1 ;;
        esac
        echo "$f" >>"$tmp/$list.lst"
        r=$tmp/repaired/$(echo "${f#"$corpus"/}" | tr '/' '_')
        repair "$f" >"$r"
        cmp -s "$f" "$r" || echo "$r" >>"$tmp/$list.lst"
    done <"$tmp/corpus.lst"
    echo "corpus: $ncorpus descriptors, $(grep -c /repaired/ "$tmp/c1.lst" "$tmp/c2.lst" | awk -F: '{n += $2} END {print n}') repaired copies"
    # shellcheck disable=SC2046
    compare corpus-1.x "$ours/ovf-envelope-1.xsd" "$ref1/ovf-envelope.xsd" $(cat "$tmp/c1.lst")
    # shellcheck disable=SC2046
    compare corpus-2.x "$ours/ovf-envelope-2.xsd" "$ref2/dsp8023_2.0.1.xsd" $(cat "$tmp/c2.lst")
else
    echo "note: no corpus at $corpus; only the generated cases are compared"
fi

# ---------------------------------------------------------------------------
# 3. generated envelopes
# ---------------------------------------------------------------------------
gen=$tmp/gen
mkdir -p "$gen/v1" "$gen/v2" "$gen/env" "$gen/cim"

# env2 NAME BODY: a 2.x envelope whose VirtualSystem holds BODY (sections),
# after package-level PKG (variable) sections; REFS (variable) overrides the
# References content and ENVATTR adds attributes to the Envelope.
NS_DECLS='xmlns="http://schemas.dmtf.org/ovf/envelope/2"
    xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/2"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common"
    xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
    xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
    xmlns:sasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_StorageAllocationSettingData"
    xmlns:epasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_EthernetPortAllocationSettingData"
    xmlns:bootc="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootConfigSetting"
    xmlns:boots="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootSourceSetting"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"
    xmlns:xenc11="http://www.w3.org/2009/xmlenc11#"
    xmlns:vendor="urn:example:vendor"'
REFS='<File ovf:id="disk1" ovf:href="disk1.vmdk" ovf:size="1024"/>'
PKG=''
ENVATTR=''
env2() {
    cat >"$gen/v2/$1.ovf" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Envelope $NS_DECLS $ENVATTR>
  <References>$REFS</References>
  $PKG
  <VirtualSystem ovf:id="vm">
    <Info>generated test system</Info>
    $2
  </VirtualSystem>
</Envelope>
EOF
}

# hardware sections: a full valid one, and variations
SYS='<System>
      <vssd:ElementName>vm</vssd:ElementName>
      <vssd:InstanceID>0</vssd:InstanceID>
      <vssd:VirtualSystemType>vmx-10</vssd:VirtualSystemType>
    </System>'
ITEM='<Item>
      <rasd:ElementName>1 CPU</rasd:ElementName>
      <rasd:InstanceID>1</rasd:InstanceID>
      <rasd:ResourceType>3</rasd:ResourceType>
      <rasd:VirtualQuantity>1</rasd:VirtualQuantity>
    </Item>'
EPITEM='<EthernetPortItem>
      <epasd:Connection>VM Network</epasd:Connection>
      <epasd:ElementName>eth0</epasd:ElementName>
      <epasd:InstanceID>3</epasd:InstanceID>
      <epasd:ResourceType>10</epasd:ResourceType>
    </EthernetPortItem>'
STITEM='<StorageItem>
      <sasd:ElementName>disk0</sasd:ElementName>
      <sasd:HostResource>ovf:/disk/disk1</sasd:HostResource>
      <sasd:InstanceID>4</sasd:InstanceID>
      <sasd:ResourceType>17</sasd:ResourceType>
    </StorageItem>'
vhs() { # vhs [ATTRS] CONTENT
    printf '<VirtualHardwareSection %s><Info>hw</Info>%s</VirtualHardwareSection>' "$1" "$2"
}

env2 v-minimal ''
env2 v-hardware-all-items "$(vhs '' "$SYS $ITEM $EPITEM $STITEM")"
env2 v-hardware-id-transport "$(vhs 'ovf:id="hw1" ovf:transport="iso com.vmware.guestInfo"' "$ITEM")"
env2 v-storage-only "$(vhs '' "$STITEM")"
env2 v-ethernet-only "$(vhs '' "$EPITEM")"
env2 x-ethernet-before-item "$(vhs '' "$EPITEM $ITEM")"
env2 x-storage-before-ethernet "$(vhs '' "$STITEM $EPITEM")"
env2 v-items-with-ovf-attrs "$(vhs '' "$(echo "$ITEM" | sed 's/<Item>/<Item ovf:required="false" ovf:configuration="small" ovf:bound="max">/')
    $(echo "$EPITEM" | sed 's/<EthernetPortItem>/<EthernetPortItem ovf:bound="min" vendor:x="y">/')
    $(echo "$STITEM" | sed 's/<StorageItem>/<StorageItem ovf:required="true" ovf:configuration="big">/')")"
env2 x-item-bad-required "$(vhs '' "$(echo "$ITEM" | sed 's/<Item>/<Item ovf:required="maybe">/')")"
env2 x-storage-no-instanceid "$(vhs '' "$(echo "$STITEM" | sed '/InstanceID/d')")"
env2 x-storage-no-elementname "$(vhs '' "$(echo "$STITEM" | sed '/ElementName/d')")"
env2 x-ethernet-no-elementname "$(vhs '' "$(echo "$EPITEM" | sed '/ElementName/d')")"
env2 x-item-no-elementname "$(vhs '' "$(echo "$ITEM" | sed '/ElementName/d')")"
env2 x-item-no-instanceid "$(vhs '' "$(echo "$ITEM" | sed '/InstanceID/d')")"
env2 x-system-no-elementname "$(vhs '' "$(echo "$SYS" | sed '/ElementName/d')")"
env2 x-system-no-instanceid "$(vhs '' "$(echo "$SYS" | sed '/InstanceID/d')")"
env2 x-two-systems "$(vhs '' "$SYS $SYS")"
env2 x-ethernet-no-instanceid "$(vhs '' "$(echo "$EPITEM" | sed '/InstanceID/d')")"
env2 x-storage-rasd-element "$(vhs '' "$(echo "$STITEM" | sed 's/sasd:HostResource/rasd:HostResource/g')")"
env2 v-storage-vendor-tail "$(vhs '' "$(echo "$STITEM" | sed 's|</StorageItem>|<vendor:Extra>1</vendor:Extra></StorageItem>|')")"
env2 v-storage-all-props "$(vhs '' '<StorageItem>
      <sasd:Access>3</sasd:Access><sasd:Address>0</sasd:Address>
      <sasd:AddressOnParent>1</sasd:AddressOnParent><sasd:AllocationUnits>byte</sasd:AllocationUnits>
      <sasd:AutomaticAllocation>true</sasd:AutomaticAllocation><sasd:AutomaticDeallocation>false</sasd:AutomaticDeallocation>
      <sasd:Caption>c</sasd:Caption><sasd:ChangeableType>2</sasd:ChangeableType>
      <sasd:ComponentSetting><anything/></sasd:ComponentSetting><sasd:ComponentSetting>x</sasd:ComponentSetting>
      <sasd:ConfigurationName>n</sasd:ConfigurationName><sasd:Connection>a</sasd:Connection><sasd:Connection>b</sasd:Connection>
      <sasd:ConsumerVisibility>3</sasd:ConsumerVisibility><sasd:Description>d</sasd:Description>
      <sasd:ElementName>disk</sasd:ElementName><sasd:Generation>1</sasd:Generation>
      <sasd:HostExtentName>e</sasd:HostExtentName><sasd:HostExtentNameFormat>12</sasd:HostExtentNameFormat>
      <sasd:HostExtentNameNamespace>9</sasd:HostExtentNameNamespace><sasd:HostExtentStartingAddress>0</sasd:HostExtentStartingAddress>
      <sasd:HostResource>ovf:/disk/disk1</sasd:HostResource><sasd:HostResourceBlockSize>512</sasd:HostResourceBlockSize>
      <sasd:InstanceID>9</sasd:InstanceID><sasd:Limit>10</sasd:Limit><sasd:MappingBehavior>2</sasd:MappingBehavior>
      <sasd:OtherHostExtentNameFormat>o</sasd:OtherHostExtentNameFormat><sasd:OtherHostExtentNameNamespace>o</sasd:OtherHostExtentNameNamespace>
      <sasd:OtherResourceType>o</sasd:OtherResourceType><sasd:Parent>5</sasd:Parent><sasd:PoolID>p</sasd:PoolID>
      <sasd:Reservation>1</sasd:Reservation><sasd:ResourceSubType>s</sasd:ResourceSubType><sasd:ResourceType>31</sasd:ResourceType>
      <sasd:SoID>s</sasd:SoID><sasd:SoOrgID>o</sasd:SoOrgID><sasd:VirtualQuantity>1</sasd:VirtualQuantity>
      <sasd:VirtualQuantityUnits>byte * 2^30</sasd:VirtualQuantityUnits><sasd:VirtualResourceBlockSize>4096</sasd:VirtualResourceBlockSize>
      <sasd:Weight>100</sasd:Weight>
    </StorageItem>')"
env2 v-ethernet-all-props "$(vhs '' '<EthernetPortItem>
      <epasd:Address>00:50:56:00:00:01</epasd:Address>
      <epasd:AllowedPriorities>1</epasd:AllowedPriorities><epasd:AllowedPriorities>2</epasd:AllowedPriorities>
      <epasd:AllowedToReceiveMACAddresses>m</epasd:AllowedToReceiveMACAddresses>
      <epasd:AllowedToReceiveVLANs>10</epasd:AllowedToReceiveVLANs><epasd:AllowedToTransmitMACAddresses>m</epasd:AllowedToTransmitMACAddresses>
      <epasd:AllowedToTransmitVLANs>10</epasd:AllowedToTransmitVLANs><epasd:AutomaticAllocation>true</epasd:AutomaticAllocation>
      <epasd:Connection>net</epasd:Connection><epasd:DefaultPortVID>1</epasd:DefaultPortVID><epasd:DefaultPriority>0</epasd:DefaultPriority>
      <epasd:DesiredVLANEndpointMode>5</epasd:DesiredVLANEndpointMode><epasd:ElementName>eth</epasd:ElementName>
      <epasd:GroupID>7</epasd:GroupID><epasd:InstanceID>5</epasd:InstanceID><epasd:ManagerID>1</epasd:ManagerID>
      <epasd:NetworkPortProfileID>p</epasd:NetworkPortProfileID><epasd:NetworkPortProfileIDType>4</epasd:NetworkPortProfileIDType>
      <epasd:OtherEndpointMode>o</epasd:OtherEndpointMode><epasd:OtherNetworkPortProfileIDTypeInfo>o</epasd:OtherNetworkPortProfileIDTypeInfo>
      <epasd:PortCorrelationID>c</epasd:PortCorrelationID><epasd:PortVID>100</epasd:PortVID><epasd:Promiscuous>false</epasd:Promiscuous>
      <epasd:ReceiveBandwidthLimit>1000</epasd:ReceiveBandwidthLimit><epasd:ReceiveBandwidthReservation>10</epasd:ReceiveBandwidthReservation>
      <epasd:ResourceType>10</epasd:ResourceType><epasd:SourceMACFilteringEnabled>true</epasd:SourceMACFilteringEnabled>
      <epasd:VSITypeID>16777215</epasd:VSITypeID><epasd:VSITypeIDVersion>255</epasd:VSITypeIDVersion>
      <epasd:VirtualQuantity>1</epasd:VirtualQuantity><epasd:Weight>1</epasd:Weight>
    </EthernetPortItem>')"
env2 x-ethernet-vsitypeid-too-big "$(vhs '' "$(echo "$EPITEM" | sed 's|<epasd:ResourceType>|<epasd:VSITypeID>16777216</epasd:VSITypeID><epasd:ResourceType>|')")"
env2 x-ethernet-vsiversion-256 "$(vhs '' "$(echo "$EPITEM" | sed 's|<epasd:ResourceType>10</epasd:ResourceType>|<epasd:ResourceType>10</epasd:ResourceType><epasd:VSITypeIDVersion>256</epasd:VSITypeIDVersion>|')")"
env2 v-storage-access-vendor "$(vhs '' "$(echo "$STITEM" | sed 's|<sasd:ElementName>|<sasd:Access>40000</sasd:Access><sasd:ElementName>|')")"
env2 x-storage-access-not-ushort "$(vhs '' "$(echo "$STITEM" | sed 's|<sasd:ElementName>|<sasd:Access>70000</sasd:Access><sasd:ElementName>|')")"
env2 v-rasd-nil-and-spaces "$(vhs '' '<Item>
      <rasd:Address xsi:nil="true"/><rasd:ElementName>x</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID>
      <rasd:ResourceType> 65535 </rasd:ResourceType>
    </Item>')"
env2 x-rasd-nil-instanceid "$(vhs '' '<Item><rasd:ElementName>x</rasd:ElementName><rasd:InstanceID xsi:nil="true"/></Item>')"
env2 x-rasd-resourcetype-text "$(vhs '' '<Item><rasd:ElementName>x</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>disk</rasd:ResourceType></Item>')"
env2 v-rasd-2x-props "$(vhs '' '<Item><rasd:ComponentSetting/><rasd:ElementName>x</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:SoID>a</rasd:SoID><rasd:SoOrgID>b</rasd:SoOrgID><rasd:VirtualQuantityUnits>count</rasd:VirtualQuantityUnits></Item>')"
env2 v-vssd-2x-action-range "$(vhs '' '<System><vssd:AutomaticStartupAction>7</vssd:AutomaticStartupAction><vssd:ElementName>vm</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID><vssd:SoID>s</vssd:SoID></System>')"
env2 x-vssd-cim-key-bad "$(vhs '' '<System><vssd:ElementName cim:Key="perhaps">vm</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID></System>')"
env2 v-network-port-profiles '<NetworkSection><Info>nets</Info>
      <Network ovf:name="VM Network"><Description>d</Description>
        <NetworkPortProfile><Item><epasd:ElementName>p</epasd:ElementName><epasd:InstanceID>1</epasd:InstanceID></Item></NetworkPortProfile>
        <NetworkPortProfileURI>http://example.com/profile</NetworkPortProfileURI>
      </Network></NetworkSection>'
env2 x-network-port-profile-attr '<NetworkSection><Info>nets</Info>
      <Network ovf:name="n"><NetworkPortProfile ovf:id="1"/></Network></NetworkSection>'
env2 x-network-profile-before-description '<NetworkSection><Info>nets</Info>
      <Network ovf:name="n"><NetworkPortProfileURI>u</NetworkPortProfileURI><Description>d</Description></Network></NetworkSection>'
env2 v-install-delay '<InstallSection ovf:initialBootStopDelay="300"><Info>install</Info></InstallSection>'
env2 x-install-no-delay '<InstallSection><Info>install</Info></InstallSection>'
env2 v-product-password '<ProductSection ovf:class="c"><Info>p</Info><Product>P</Product>
      <Property ovf:key="pw" ovf:type="string" ovf:password="true" ovf:configuration="small">
        <Value ovf:value="x" ovf:configuration="big"/></Property></ProductSection>'
env2 x-product-password-yes '<ProductSection><Info>p</Info><Property ovf:key="pw" ovf:type="string" ovf:password="yes"/></ProductSection>'
env2 v-environment-files '<EnvironmentFilesSection ovf:transport="iso"><Info>files</Info><File ovf:fileRef="disk1" ovf:path="data/x"/></EnvironmentFilesSection>'
env2 x-environment-file-no-path '<EnvironmentFilesSection><Info>files</Info><File ovf:fileRef="disk1"/></EnvironmentFilesSection>'
env2 v-boot-device '<BootDeviceSection><Info>boot</Info>
      <bootc:CIM_BootConfigSetting><bootc:ElementName>boot</bootc:ElementName><bootc:InstanceID>b</bootc:InstanceID>
        <boots:CIM_BootSourceSetting><boots:BootString>disk</boots:BootString><boots:ElementName>d</boots:ElementName><boots:FailThroughSupported>1</boots:FailThroughSupported><boots:InstanceID>s1</boots:InstanceID></boots:CIM_BootSourceSetting>
      </bootc:CIM_BootConfigSetting></BootDeviceSection>'
env2 x-boot-source-failthrough-3 '<BootDeviceSection><Info>boot</Info>
      <bootc:CIM_BootConfigSetting><bootc:ElementName>boot</bootc:ElementName><bootc:InstanceID>b</bootc:InstanceID>
        <boots:CIM_BootSourceSetting><boots:ElementName>d</boots:ElementName><boots:FailThroughSupported>3</boots:FailThroughSupported><boots:InstanceID>s1</boots:InstanceID></boots:CIM_BootSourceSetting>
      </bootc:CIM_BootConfigSetting></BootDeviceSection>'
env2 x-boot-device-empty '<BootDeviceSection><Info>boot</Info></BootDeviceSection>'
env2 x-boot-device-tail '<BootDeviceSection><Info>boot</Info>
      <bootc:CIM_BootConfigSetting><bootc:ElementName>boot</bootc:ElementName><bootc:InstanceID>b</bootc:InstanceID></bootc:CIM_BootConfigSetting><vendor:More/></BootDeviceSection>'
env2 v-scale-out-placement '<ScaleOutSection ovf:id="web"><Info>scale</Info><InstanceCount ovf:default="2" ovf:maximum="5"/></ScaleOutSection>
    <PlacementSection ovf:group="g1"><Info>in group</Info></PlacementSection>'
env2 x-scale-out-no-count '<ScaleOutSection ovf:id="web"><Info>scale</Info></ScaleOutSection>'
env2 x-scale-out-negative '<ScaleOutSection ovf:id="web"><Info>scale</Info><InstanceCount ovf:default="-1"/></ScaleOutSection>'
env2 x-placement-no-group '<PlacementSection><Info>in group</Info></PlacementSection>'
PKG='<PlacementGroupSection ovf:id="g1" ovf:policy="availability"><Info>group</Info><Description>d</Description></PlacementGroupSection>
  <SharedDiskSection><Info>shared</Info><SharedDisk ovf:diskId="s1" ovf:capacity="1024" ovf:readOnly="true"/></SharedDiskSection>'
env2 v-placement-group-shared-disk ''
PKG='<SharedDiskSection><Info>shared</Info></SharedDiskSection>'
env2 x-shared-disk-empty ''
PKG='<SharedDiskSection><Info>shared</Info><SharedDisk ovf:diskId="s1" ovf:capacity="1" ovf:readOnly="ro"/></SharedDiskSection>'
env2 x-shared-disk-readonly-bad ''
PKG='<PlacementGroupSection ovf:id="g1"><Info>group</Info></PlacementGroupSection>'
env2 x-placement-group-no-policy ''
PKG='<EncryptionSection><Info>keys</Info>
    <xenc:EncryptedKey Id="k1" Recipient="me">
      <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"><xenc:KeySize>256</xenc:KeySize></xenc:EncryptionMethod>
      <ds:KeyInfo><ds:KeyName>master</ds:KeyName></ds:KeyInfo>
      <xenc:CipherData><xenc:CipherValue>AAAA</xenc:CipherValue></xenc:CipherData>
      <xenc:ReferenceList><xenc:DataReference URI="#disk1"/></xenc:ReferenceList>
      <xenc:CarriedKeyName>disk key</xenc:CarriedKeyName>
    </xenc:EncryptedKey>
    <xenc11:DerivedKey>
      <xenc11:KeyDerivationMethod Algorithm="http://www.w3.org/2009/xmlenc11#pbkdf2">
        <xenc11:PBKDF2-params><xenc11:Salt><xenc11:Specified>AAAA</xenc11:Specified></xenc11:Salt>
          <xenc11:IterationCount>1000</xenc11:IterationCount><xenc11:KeyLength>32</xenc11:KeyLength>
          <xenc11:PRF Algorithm="http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"/></xenc11:PBKDF2-params>
      </xenc11:KeyDerivationMethod>
      <xenc:ReferenceList><xenc:KeyReference URI="#k1"/></xenc:ReferenceList>
      <xenc11:MasterKeyName>pw</xenc11:MasterKeyName>
    </xenc11:DerivedKey></EncryptionSection>'
env2 v-encryption-keys ''
PKG='<EncryptionSection><Info>keys</Info><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="a"/></xenc:EncryptedKey></EncryptionSection>'
env2 x-encrypted-key-no-cipherdata ''
PKG='<EncryptionSection><Info>keys</Info></EncryptionSection>'
env2 x-encryption-section-empty ''
PKG='<EncryptionSection><Info>keys</Info><xenc11:DerivedKey><xenc11:KeyDerivationMethod Algorithm="a"><xenc11:PBKDF2-params><xenc11:Salt><xenc11:Specified>AAAA</xenc11:Specified></xenc11:Salt><xenc11:IterationCount>0</xenc11:IterationCount><xenc11:KeyLength>32</xenc11:KeyLength><xenc11:PRF Algorithm="b"/></xenc11:PBKDF2-params></xenc11:KeyDerivationMethod></xenc11:DerivedKey></EncryptionSection>'
env2 x-pbkdf2-zero-iterations ''
PKG='<EncryptionSection><Info>keys</Info><xenc:EncryptedKey><xenc:CipherData><xenc:CipherValue>AAAA</xenc:CipherValue></xenc:CipherData><vendor:Extra/></xenc:EncryptedKey></EncryptionSection>'
env2 x-encrypted-key-foreign-child ''
PKG=''
# lax wildcards meeting known vocabularies
REFS='<File ovf:id="f" ovf:href="f"/><ds:Signature><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>'
env2 x-signature-in-references-incomplete ''
REFS='<File ovf:id="f" ovf:href="f"/><ds:KeyName>k</ds:KeyName><vendor:Unknown><anything/></vendor:Unknown>'
env2 v-lax-known-and-unknown ''
REFS='<File ovf:id="f" ovf:href="f" xml:space="sideways"/>'
env2 x-xml-space-bad ''
REFS='<File ovf:id="f" ovf:href="f" xml:lang="en-GB" xml:base="http://example.com/"/>'
env2 v-xml-attrs-fine ''
REFS='<File ovf:id="f" ovf:href="f" ovf:size="-5"/>'
env2 x-file-size-negative ''
REFS='<File ovf:id="disk1" ovf:href="disk1.vmdk" ovf:size="1024"/>'
ENVATTR='xml:lang="not a tag"'
env2 x-envelope-bad-lang ''
ENVATTR='xml:lang="de-DE"'
env2 v-envelope-lang ''
ENVATTR=''
cat >"$gen/v2/v-strings-msg-fileref.ovf" <<EOF
<?xml version="1.0"?>
<Envelope $NS_DECLS><References/><VirtualSystem ovf:id="a"><Info>i</Info></VirtualSystem>
<Strings xml:lang="de"><Msg ovf:msgid="m" ovf:fileRef="msg.txt">Hallo</Msg></Strings></Envelope>
EOF
cat >"$gen/v2/x-no-content.ovf" <<EOF
<?xml version="1.0"?>
<Envelope $NS_DECLS><References/></Envelope>
EOF
cat >"$gen/v2/v-collection.ovf" <<EOF
<?xml version="1.0"?>
<Envelope $NS_DECLS><References/>
<VirtualSystemCollection ovf:id="c"><Info>i</Info>
  <StartupSection><Info>s</Info><Item ovf:id="a" ovf:order="0"/></StartupSection>
  <ResourceAllocationSection><Info>r</Info>$ITEM $EPITEM $STITEM</ResourceAllocationSection>
  <VirtualSystem ovf:id="a"><Info>i</Info></VirtualSystem>
  <VirtualSystemCollection ovf:id="d"><Info>i</Info></VirtualSystemCollection>
</VirtualSystemCollection></Envelope>
EOF
cat >"$gen/v2/x-abstract-content.ovf" <<EOF
<?xml version="1.0"?>
<Envelope $NS_DECLS><References/><Content ovf:id="a"><Info>i</Info></Content></Envelope>
EOF
cat >"$gen/v2/x-envelope-1-items-in-2.ovf" <<EOF
<?xml version="1.0"?>
<Envelope $NS_DECLS xmlns:ovf1="http://schemas.dmtf.org/ovf/envelope/1"><References><File ovf1:id="a" ovf1:href="b"/></References><VirtualSystem ovf:id="a"><Info>i</Info></VirtualSystem></Envelope>
EOF

# A few 1.x cases for what the corpus does not reach.
NS1='xmlns="http://schemas.dmtf.org/ovf/envelope/1"
    xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common"
    xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
    xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
    xmlns:sasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_StorageAllocationSettingData"'
env1() {
    cat >"$gen/v1/$1.ovf" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Envelope $NS1>
  <References><File ovf:id="f" ovf:href="f.vmdk"/></References>
  <VirtualSystem ovf:id="vm"><Info>generated</Info>$2</VirtualSystem>
</Envelope>
EOF
}
sys1() { # sys1 VSSD-PROPS-BEFORE-ELEMENTNAME
    vhs '' "<System>$1<vssd:ElementName>vm</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID></System>"
}
env1 x-vssd-no-elementname "$(vhs '' '<System><vssd:InstanceID>0</vssd:InstanceID></System>')"
env1 x-rasd-no-elementname "$(vhs '' '<Item><rasd:InstanceID>0</rasd:InstanceID></Item>')"
env1 x-rasd-elementname-after-instanceid "$(vhs '' '<Item><rasd:InstanceID>0</rasd:InstanceID><rasd:ElementName>x</rasd:ElementName></Item>')"
env1 x-vssd-no-instanceid "$(vhs '' '<System><vssd:ElementName>vm</vssd:ElementName></System>')"
env1 x-two-systems "$(vhs '' '<System><vssd:ElementName>a</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID></System><System><vssd:ElementName>b</vssd:ElementName><vssd:InstanceID>1</vssd:InstanceID></System>')"
env1 x-item-before-system "$(vhs '' '<Item><rasd:ElementName>x</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID></Item><System><vssd:ElementName>a</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID></System>')"
env1 v-vssd-action-4 "$(sys1 '<vssd:AutomaticStartupAction>4</vssd:AutomaticStartupAction>')"
env1 x-vssd-action-5 "$(sys1 '<vssd:AutomaticStartupAction>5</vssd:AutomaticStartupAction>')"
env1 x-vssd-recovery-action-neg "$(sys1 '<vssd:AutomaticRecoveryAction>-1</vssd:AutomaticRecoveryAction>')"
env1 v-vssd-creationtime "$(sys1 '<vssd:CreationTime><cim:Datetime>2009-01-15T10:00:00Z</cim:Datetime></vssd:CreationTime>')"
env1 x-vssd-creationtime-two "$(sys1 '<vssd:CreationTime><cim:Date>2009-01-15</cim:Date><cim:Time>10:00:00</cim:Time></vssd:CreationTime>')"
env1 x-vssd-creationtime-bad-date "$(sys1 '<vssd:CreationTime><cim:Date>2009-13-45</cim:Date></vssd:CreationTime>')"
env1 v-vssd-caption-64 "$(sys1 '<vssd:Caption>0123456789012345678901234567890123456789012345678901234567890123</vssd:Caption>')"
env1 x-vssd-caption-65 "$(sys1 '<vssd:Caption>01234567890123456789012345678901234567890123456789012345678901234</vssd:Caption>')"
env1 x-vssd-changeable-4 "$(sys1 '<vssd:ChangeableType>4</vssd:ChangeableType>')"
env1 x-vssd-2x-prop-in-1x "$(sys1 '<vssd:ComponentSetting/>')"
env1 x-rasd-2x-prop-in-1x "$(vhs '' '<Item><rasd:ElementName>x</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:VirtualQuantityUnits>count</rasd:VirtualQuantityUnits></Item>')"
env1 x-storage-item-in-1x "$(vhs '' '<StorageItem><sasd:ElementName>x</sasd:ElementName><sasd:InstanceID>1</sasd:InstanceID></StorageItem>')"
env1 v-sasd-in-lax-tail "$(vhs '' '<Item><rasd:ElementName>x</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID></Item><sasd:Anything/>')"
env1 v-item-ovf-attrs "$(vhs 'ovf:transport="iso"' '<Item ovf:required="false" ovf:bound="min" ovf:configuration="a"><rasd:ElementName>x</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>32768</rasd:ResourceType></Item>')"
env1 x-item-cim-key-bad "$(vhs '' '<Item><rasd:ElementName cim:Key="nope">x</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID></Item>')"
env1 v-item-cim-attrs "$(vhs '' '<Item><rasd:ElementName cim:Key="true" cim:Version="2">x</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID></Item>')"
env1 v-install-no-delay '<InstallSection><Info>install</Info></InstallSection>'
# ovf:password is no 1.x attribute, but the lax attribute wildcard lets it pass
env1 v-product-password-lax-1x '<ProductSection><Info>p</Info><Property ovf:key="k" ovf:type="string" ovf:password="true"/></ProductSection>'
env1 x-deployment-option-no-label '<DeploymentOptionSection><Info>d</Info><Configuration ovf:id="a"><Description>d</Description></Configuration></DeploymentOptionSection>'
env1 v-eula-os '<EulaSection><Info>e</Info><License>l</License></EulaSection><OperatingSystemSection ovf:id="94" ovf:version="10"><Info>o</Info></OperatingSystemSection>'
env1 x-os-id-text '<OperatingSystemSection ovf:id="linux"><Info>o</Info></OperatingSystemSection>'
env1 x-section-no-info '<AnnotationSection><Annotation>a</Annotation></AnnotationSection>'
# Every 1.x section at once, so that the mutation stage (3b) reaches them all.
cat >"$gen/v1/v-kitchen-sink.ovf" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Envelope $NS1 xmlns:vendor="urn:example:vendor" xml:lang="en-US">
  <References>
    <File ovf:id="f1" ovf:href="disk1.vmdk" ovf:size="1024" ovf:compression="gzip" ovf:chunkSize="512"/>
    <File ovf:id="icon" ovf:href="icon.png"/>
    <vendor:Mirror/>
  </References>
  <DiskSection ovf:required="true"><Info>disks</Info>
    <Disk ovf:diskId="d1" ovf:fileRef="f1" ovf:capacity="4" ovf:capacityAllocationUnits="byte * 2^30" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized" ovf:populatedSize="100"/>
    <Disk ovf:diskId="d2" ovf:capacity="\${size}" ovf:parentRef="d1"/>
  </DiskSection>
  <NetworkSection><Info>nets</Info><Network ovf:name="lan"><Description>LAN</Description></Network><Network ovf:name="wan"/></NetworkSection>
  <DeploymentOptionSection><Info>configs</Info>
    <Configuration ovf:id="small" ovf:default="true"><Label>Small</Label><Description>small</Description></Configuration>
    <Configuration ovf:id="big"><Label ovf:msgid="big.label">Big</Label><Description>big</Description></Configuration>
  </DeploymentOptionSection>
  <VirtualSystemCollection ovf:id="app"><Info>collection</Info><Name>App</Name>
    <StartupSection><Info>order</Info>
      <Item ovf:id="web" ovf:order="1" ovf:startDelay="10" ovf:waitingForGuest="true" ovf:stopDelay="5" ovf:startAction="powerOn" ovf:stopAction="guestShutdown"/>
      <Item ovf:id="db" ovf:order="0"/>
    </StartupSection>
    <ResourceAllocationSection><Info>pool</Info>
      <Item ovf:configuration="big"><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ElementName>cpu</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:Reservation>500</rasd:Reservation><rasd:ResourceType>3</rasd:ResourceType></Item>
    </ResourceAllocationSection>
    <VirtualSystem ovf:id="web"><Info>web server</Info><Name>Web</Name>
      <AnnotationSection><Info>note</Info><Annotation>hello</Annotation></AnnotationSection>
      <ProductSection ovf:class="org.example" ovf:instance="1"><Info>product</Info>
        <Product>Web</Product><Vendor>Example</Vendor><Version>1.0</Version><FullVersion>1.0.0</FullVersion>
        <ProductUrl>http://example.com/</ProductUrl><VendorUrl>http://example.com/</VendorUrl><AppUrl>http://\${ip}/</AppUrl>
        <Icon ovf:height="32" ovf:width="32" ovf:mimeType="image/png" ovf:fileRef="icon"/>
        <Category>Network</Category>
        <Property ovf:key="ip" ovf:type="string" ovf:userConfigurable="true" ovf:qualifiers="MaxLen(15)" ovf:value="">
          <Label>IP</Label><Description>address</Description><Value ovf:value="10.0.0.1" ovf:configuration="big"/>
        </Property>
        <Category>Other</Category>
        <Property ovf:key="size" ovf:type="uint64" ovf:value="1"/>
      </ProductSection>
      <EulaSection><Info>licence</Info><License>do not</License></EulaSection>
      <OperatingSystemSection ovf:id="36" ovf:version="2.6"><Info>os</Info><Description>Linux</Description></OperatingSystemSection>
      <InstallSection ovf:initialBootStopDelay="60"><Info>install</Info></InstallSection>
      <VirtualHardwareSection ovf:transport="iso"><Info>hardware</Info>
        <System><vssd:ElementName>web</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID><vssd:VirtualSystemIdentifier>web</vssd:VirtualSystemIdentifier><vssd:VirtualSystemType>vmx-07</vssd:VirtualSystemType></System>
        <Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ElementName>1 CPU</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
        <Item ovf:bound="max"><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>RAM</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>512</rasd:VirtualQuantity></Item>
        <Item><rasd:AutomaticAllocation>true</rasd:AutomaticAllocation><rasd:Connection>lan</rasd:Connection><rasd:ElementName>eth0</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceSubType>E1000</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
        <Item><rasd:Address>0</rasd:Address><rasd:ElementName>scsi0</rasd:ElementName><rasd:InstanceID>4</rasd:InstanceID><rasd:ResourceSubType>lsilogic</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
        <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:ElementName>disk0</rasd:ElementName><rasd:HostResource>ovf:/disk/d1</rasd:HostResource><rasd:InstanceID>5</rasd:InstanceID><rasd:Parent>4</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
        <vendor:Config key="a" value="b"/>
      </VirtualHardwareSection>
    </VirtualSystem>
    <VirtualSystem ovf:id="db"><Info>database</Info></VirtualSystem>
  </VirtualSystemCollection>
  <Strings xml:lang="de-DE"><Msg ovf:msgid="big.label">Gross</Msg><Msg ovf:msgid="x">y</Msg></Strings>
  <Strings xml:lang="fr" ovf:fileRef="fr"/>
</Envelope>
EOF
# and its 2.x counterpart with the 2.x additions
sed -e 's|xmlns="http://schemas.dmtf.org/ovf/envelope/1"|xmlns="http://schemas.dmtf.org/ovf/envelope/2"|' \
    -e 's|xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"|xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/2" xmlns:epasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_EthernetPortAllocationSettingData" xmlns:bootc="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootConfigSetting"|' \
    -e 's|<Network ovf:name="wan"/>|<Network ovf:name="wan"><NetworkPortProfile><Item><epasd:ElementName>p</epasd:ElementName><epasd:InstanceID>1</epasd:InstanceID></Item></NetworkPortProfile><NetworkPortProfileURI>urn:profile</NetworkPortProfileURI></Network>|' \
    -e 's|<vendor:Config key="a" value="b"/>|<EthernetPortItem><epasd:Connection>wan</epasd:Connection><epasd:ElementName>eth1</epasd:ElementName><epasd:InstanceID>6</epasd:InstanceID></EthernetPortItem><StorageItem><sasd:ElementName>disk1</sasd:ElementName><sasd:HostResource>ovf:/disk/d2</sasd:HostResource><sasd:InstanceID>7</sasd:InstanceID></StorageItem><vendor:Config key="a" value="b"/>|' \
    -e 's|<VirtualSystem ovf:id="db"><Info>database</Info></VirtualSystem>|<VirtualSystem ovf:id="db"><Info>database</Info><ScaleOutSection ovf:id="db"><Info>n</Info><Description>d</Description><InstanceCount ovf:minimum="1" ovf:default="2" ovf:maximum="4" ovf:configuration="big"/><InstanceCount ovf:default="1"/></ScaleOutSection><PlacementSection ovf:group="g"><Info>p</Info></PlacementSection><EnvironmentFilesSection><Info>e</Info><File ovf:fileRef="icon" ovf:path="icon.png"/></EnvironmentFilesSection><BootDeviceSection><Info>b</Info><bootc:CIM_BootConfigSetting><bootc:ElementName>b</bootc:ElementName><bootc:InstanceID>b</bootc:InstanceID></bootc:CIM_BootConfigSetting></BootDeviceSection></VirtualSystem>|' \
    -e 's|<DeploymentOptionSection>|<SharedDiskSection><Info>s</Info><SharedDisk ovf:diskId="s1" ovf:capacity="1" ovf:readOnly="true"/><SharedDisk ovf:diskId="s2" ovf:capacity="1"/></SharedDiskSection><PlacementGroupSection ovf:id="g" ovf:policy="affinity"><Info>g</Info></PlacementGroupSection><DeploymentOptionSection>|' \
    -e 's|<Property ovf:key="size" ovf:type="uint64" ovf:value="1"/>|<Property ovf:key="size" ovf:type="uint64" ovf:value="1"/><Property ovf:key="pw" ovf:type="string" ovf:password="true"/>|' \
    -e 's|<Msg ovf:msgid="x">y</Msg>|<Msg ovf:msgid="x" ovf:fileRef="x.txt">y</Msg>|' \
    "$gen/v1/v-kitchen-sink.ovf" >"$gen/v2/v-kitchen-sink.ovf"

cat >"$gen/v1/x-ovf09-vmware-namespace.ovf" <<'EOF'
<?xml version="1.0"?>
<Envelope xmlns="http://www.vmware.com/schema/ovf/1/envelope" xmlns:ovf="http://www.vmware.com/schema/ovf/1/envelope">
  <References/><Section xsi:type="ovf:DiskSection_Type" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Info>d</Info></Section>
  <Content xsi:type="ovf:VirtualSystem_Type" ovf:id="vm" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Info>i</Info></Content>
</Envelope>
EOF

# Attribute matrix: every OVF attribute, in its element, set to each of a
# battery of values or left out.  No expectation (names start with "a-"):
# only agreement counts.  One element context per line:
#   NAME|attributes tried|XML with @ATTRS@ where the tried attribute goes
# The XML carries valid values for the required attributes; the one being
# tried is removed from those first.  @VS@ is a whole VirtualSystem,
# @VS1@/@VS2@ open and close one around a section.
attr_templates() { # $1 = 1 or 2
    cat <<'EOF'
file|size chunkSize compression id href|<References><File @ATTRS@ ovf:id="f" ovf:href="f.vmdk"/></References>@VS@
disk|diskId capacity capacityAllocationUnits format populatedSize parentRef fileRef|<References/><DiskSection><Info>d</Info><Disk @ATTRS@ ovf:diskId="d" ovf:capacity="1"/></DiskSection>@VS@
icon|height width mimeType fileRef|<References/>@VS1@<ProductSection><Info>p</Info><Icon @ATTRS@ ovf:fileRef="i"/></ProductSection>@VS2@
product|class instance required|<References/>@VS1@<ProductSection @ATTRS@><Info>p</Info></ProductSection>@VS2@
property|key type qualifiers userConfigurable value password configuration|<References/>@VS1@<ProductSection><Info>p</Info><Property @ATTRS@ ovf:key="k" ovf:type="string"/></ProductSection>@VS2@
value|value configuration|<References/>@VS1@<ProductSection><Info>p</Info><Property ovf:key="k" ovf:type="string"><Value @ATTRS@ ovf:value="v"/></Property></ProductSection>@VS2@
network|name|<References/><NetworkSection><Info>n</Info><Network @ATTRS@ ovf:name="n"/></NetworkSection>@VS@
config|id default|<References/><DeploymentOptionSection><Info>d</Info><Configuration @ATTRS@ ovf:id="c"><Label>l</Label><Description>d</Description></Configuration></DeploymentOptionSection>@VS@
startup|id order startDelay waitingForGuest stopDelay startAction stopAction|<References/><VirtualSystemCollection ovf:id="c"><Info>i</Info><StartupSection><Info>s</Info><Item @ATTRS@ ovf:id="a" ovf:order="0"/></StartupSection></VirtualSystemCollection>
install|initialBootStopDelay|<References/>@VS1@<InstallSection @ATTRS@ ovf:initialBootStopDelay="1"><Info>i</Info></InstallSection>@VS2@
os|id version|<References/>@VS1@<OperatingSystemSection @ATTRS@ ovf:id="1"><Info>o</Info></OperatingSystemSection>@VS2@
hardware|transport id required|<References/>@VS1@<VirtualHardwareSection @ATTRS@><Info>h</Info></VirtualHardwareSection>@VS2@
item|required configuration bound|<References/>@VS1@<VirtualHardwareSection><Info>h</Info><Item @ATTRS@><rasd:ElementName>e</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID></Item></VirtualHardwareSection>@VS2@
content|id|<References/><VirtualSystem @ATTRS@ ovf:id="v"><Info>i</Info></VirtualSystem>
msg|msgid|<References/><VirtualSystem ovf:id="v"><Info @ATTRS@>i</Info></VirtualSystem>
strings|fileRef|<References/>@VS@<Strings @ATTRS@ xml:lang="en"><Msg ovf:msgid="m">x</Msg></Strings>
strmsg|msgid fileRef|<References/>@VS@<Strings xml:lang="en"><Msg @ATTRS@ ovf:msgid="m">x</Msg></Strings>
EOF
    [ "$1" = 2 ] && cat <<'EOF'
scaleout|id|<References/>@VS1@<ScaleOutSection @ATTRS@ ovf:id="s"><Info>s</Info><InstanceCount ovf:default="1"/></ScaleOutSection>@VS2@
instcount|minimum default maximum configuration|<References/>@VS1@<ScaleOutSection ovf:id="s"><Info>s</Info><InstanceCount @ATTRS@ ovf:default="1"/></ScaleOutSection>@VS2@
shared|diskId capacity readOnly populatedSize|<References/><SharedDiskSection><Info>s</Info><SharedDisk @ATTRS@ ovf:diskId="d" ovf:capacity="1"/></SharedDiskSection>@VS@
group|id policy|<References/><PlacementGroupSection @ATTRS@ ovf:id="g" ovf:policy="p"><Info>g</Info></PlacementGroupSection>@VS@
placement|group|<References/>@VS1@<PlacementSection @ATTRS@ ovf:group="g"><Info>p</Info></PlacementSection>@VS2@
envfile|fileRef path|<References/>@VS1@<EnvironmentFilesSection><Info>e</Info><File @ATTRS@ ovf:fileRef="f" ovf:path="p"/></EnvironmentFilesSection>@VS2@
EOF
    return 0
}
attr_values='abc -1 70000 5000000000 1.5 true 0 MISSING EMPTY'
# attr_matrix VERSION DIR NAMESPACE-DECLARATIONS (one awk run writes all)
attr_matrix() {
    mkdir -p "$2"
    attr_templates "$1" | awk -F'|' -v dir="$2" -v decls="$3" -v values="$attr_values" '
    {
        ctx = $1; na = split($2, attrs, " "); xml = $3
        gsub(/@VS@/, "<VirtualSystem ovf:id=\"v\"><Info>i</Info></VirtualSystem>", xml)
        gsub(/@VS1@/, "<VirtualSystem ovf:id=\"v\"><Info>i</Info>", xml)
        gsub(/@VS2@/, "</VirtualSystem>", xml)
        nv = split(values, vals, " ")
        for (i = 1; i <= na; i++) {
            a = attrs[i]
            base = xml
            # the template without its default for this attribute
            gsub(" ovf:" a "=\"[^\"]*\"", "", base)
            for (j = 1; j <= nv; j++) {
                v = vals[j]
                if (v == "MISSING") set = ""
                else if (v == "EMPTY") set = "ovf:" a "=\"\""
                else set = "ovf:" a "=\"" v "\""
                doc = base
                sub(/@ATTRS@/, set, doc)
                f = dir "/a-" ctx "-" a "-" v ".ovf"
                printf "<?xml version=\"1.0\"?>\n<Envelope %s>%s</Envelope>\n", decls, doc > f
                close(f)
            }
        }
    }'
}
attr_matrix 1 "$gen/a1" "$NS1"
attr_matrix 2 "$gen/a2" "$NS_DECLS"
compare attributes-1.x "$ours/ovf-envelope-1.xsd" "$ref1/ovf-envelope.xsd" "$gen"/a1/*.ovf
compare attributes-2.x "$ours/ovf-envelope-2.xsd" "$ref2/dsp8023_2.0.1.xsd" "$gen"/a2/*.ovf

compare generated-1.x "$ours/ovf-envelope-1.xsd" "$ref1/ovf-envelope.xsd" "$gen"/v1/*.ovf
compare generated-2.x "$ours/ovf-envelope-2.xsd" "$ref2/dsp8023_2.0.1.xsd" "$gen"/v2/*.ovf

# ---------------------------------------------------------------------------
# 3b. structural mutations of valid documents
# ---------------------------------------------------------------------------
# Each valid generated envelope and each real-world descriptor, with one
# element (and its subtree) deleted, or duplicated in place: that probes
# every minOccurs/maxOccurs and ordering rule the document reaches.
# `xmllint --format` puts every element on its own line(s); an element ends
# on the first line where the count of "<name" equals the count of "</" and
# "/>" since its start.  Names start with "m-": agreement only.
mutate() { # mutate OUTDIR FILE...
    out=$1
    shift
    mkdir -p "$out"
    for f in "$@"; do
        b=${f##*/}
        b=${b%.*}
        xmllint --nonet --format "$f" 2>/dev/null | awk -v out="$out" -v b="$b" '
        { line[++n] = $0 }
        function net(s,   o, c, t) {
            t = s; o = gsub(/<[A-Za-z_]/, "", t)
            t = s; c = gsub(/<\//, "", t)
            t = s; c += gsub(/\/>/, "", t)
            return o - c
        }
        END {
            root = 0
            for (k = 1; k <= n; k++) {
                if (line[k] !~ /^[ \t]*<[A-Za-z_]/) continue
                if (!root) { root = k; continue }   # never the root itself
                d = 0
                for (j = k; j <= n; j++) { d += net(line[j]); if (d <= 0) break }
                if (j > n) continue
                fd = out "/m-" b "-del" k ".xml"
                fu = out "/m-" b "-dup" k ".xml"
                for (i = 1; i <= n; i++) {
                    if (i < k || i > j) print line[i] > fd
                    print line[i] > fu
                    if (i == j) for (x = k; x <= j; x++) print line[x] > fu
                }
                close(fd); close(fu)
            }
        }'
    done
}
mutate "$gen/m1" "$gen"/v1/v-*.ovf
mutate "$gen/m2" "$gen"/v2/v-*.ovf
if [ -d "$corpus/real-world" ]; then
    for f in "$corpus"/real-world/*.ovf; do
        case $(root_ns "$f") in
        */envelope/2) mutate "$gen/m2" "$f" ;;
        *) mutate "$gen/m1" "$f" ;;
        esac
    done
fi
compare mutations-1.x "$ours/ovf-envelope-1.xsd" "$ref1/ovf-envelope.xsd" "$gen"/m1/*.xml
compare mutations-2.x "$ours/ovf-envelope-2.xsd" "$ref2/dsp8023_2.0.1.xsd" "$gen"/m2/*.xml

# ---------------------------------------------------------------------------
# 4. OVF environment documents
# ---------------------------------------------------------------------------
ENVNS='xmlns="http://schemas.dmtf.org/ovf/environment/1"
    xmlns:oe="http://schemas.dmtf.org/ovf/environment/1"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:ve="urn:example:vendor-env"'
envdoc() {
    cat >"$gen/env/$1.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Environment $ENVNS $2>
$3
</Environment>
EOF
}
envdoc v-full 'oe:id="vm1"' '<PlatformSection><Kind>ovfdeploy</Kind><Version>0.1</Version><Vendor>ovfdeploy project</Vendor><Locale>en_US</Locale><Timezone>60</Timezone></PlatformSection>
  <PropertySection><Property oe:key="hostname" oe:value="appliance"/><Property oe:key="ip" oe:value=""/></PropertySection>
  <Entity oe:id="db"><PropertySection><Property oe:key="port" oe:value="5432"/></PropertySection></Entity>
  <ve:Extension/>'
envdoc v-empty '' ''
envdoc v-vendor-section-attrs 've:x="1"' '<PropertySection ve:y="2"><Property oe:key="k" oe:value="v" ve:z="3"/><ve:More/></PropertySection>'
envdoc v-xml-space-unchecked 'xml:space="sideways"' ''
envdoc x-property-no-value '' '<PropertySection><Property oe:key="k"/></PropertySection>'
envdoc x-property-unqualified-key '' '<PropertySection><Property key="k" value="v"/></PropertySection>'
envdoc x-property-child '' '<PropertySection><Property oe:key="k" oe:value="v"><Value/></Property></PropertySection>'
envdoc x-timezone-text '' '<PlatformSection><Timezone>CET</Timezone></PlatformSection>'
envdoc x-platform-order '' '<PlatformSection><Vendor>v</Vendor><Kind>k</Kind></PlatformSection>'
envdoc x-section-after-entity '' '<Entity oe:id="a"/><PropertySection/>'
envdoc x-entity-no-id '' '<Entity/>'
envdoc x-abstract-section '' '<Section/>'
envdoc x-info-in-section '' '<PropertySection><Info>not here</Info></PropertySection>'
cat >"$gen/env/x-envelope-namespace.xml" <<'EOF'
<Environment xmlns="http://schemas.dmtf.org/ovf/envelope/1"/>
EOF
compare environment "$ours/ovf-environment-1.xsd" "$ref1/ovf-environment.xsd" "$gen"/env/*.xml

# ---------------------------------------------------------------------------
# 5. CIM property values, element by element
# ---------------------------------------------------------------------------
# global element names of a schema file
globals() {
    xmllint --nonet --xpath "/*[local-name()='schema']/*[local-name()='element']/@name" "$1" 2>/dev/null |
        sed -n 's/^ *name="\([^"]*\)".*/\1/p'
}

# cim_matrix LABEL NAMESPACE OURS REF
cim_matrix() {
    dir=$gen/cim/$1
    mkdir -p "$dir"
    { globals "$3"; globals "$4"; } | sort -u >"$tmp/names"
    awk -v dir="$dir" -v ns="$2" '
    BEGIN {
        n = 0
        # name|content|extra attributes
        v[n++] = "empty||"
        v[n++] = "zero|0|"
        v[n++] = "one|1|"
        v[n++] = "four|4|"
        v[n++] = "five|5|"
        v[n++] = "n33|33|"
        v[n++] = "n34|34|"
        v[n++] = "n32767|32767|"
        v[n++] = "n65535|65535|"
        v[n++] = "n65536|65536|"
        v[n++] = "n16777215|16777215|"
        v[n++] = "n16777216|16777216|"
        v[n++] = "minus1|-1|"
        v[n++] = "plus3|+3|"
        v[n++] = "spaced| 7 |"
        v[n++] = "spaced3| 3 |"
        v[n++] = "newline|\n2\n|"
        v[n++] = "spacedbig| 70000 |"
        v[n++] = "minus0|-0|"
        v[n++] = "lead0|03|"
        v[n++] = "word|abc|"
        v[n++] = "true|true|"
        v[n++] = "len64|" sprintf("%064d", 0) "|"
        v[n++] = "len65|" sprintf("%065d", 0) "|"
        v[n++] = "nil||xsi:nil=\"true\""
        v[n++] = "nilvalue|3|xsi:nil=\"true\""
        v[n++] = "child|<p:Child/>|"
        v[n++] = "foreignchild|<q:Child xmlns:q=\"urn:q\"/>|"
        v[n++] = "cimkeybad|1|cim:Key=\"maybe\""
        v[n++] = "cimkeyok|1|cim:Key=\"true\""
        v[n++] = "unqualattr|1|foo=\"bar\""
        v[n++] = "datetime|<cim:Datetime>2009-01-15T10:00:00</cim:Datetime>|"
        v[n++] = "interval|<cim:Interval>P1D</cim:Interval>|"
        v[n++] = "intervalbad|<cim:Interval>one day</cim:Interval>|"
        v[n++] = "cimdatetimenil|<cim:CIM_DateTime xsi:nil=\"true\"/>|"
        v[n++] = "ref|<q:EPR xmlns:q=\"urn:q\"/>|"
        # method parameter blocks (CIM_BootConfigSetting): return codes
        v[n++] = "retval|<p:Job><q:EPR xmlns:q=\"urn:q\"/></p:Job><p:ReturnValue> 7 </p:ReturnValue>|"
        v[n++] = "retvalbig|<p:Job><q:EPR xmlns:q=\"urn:q\"/></p:Job><p:ReturnValue>65536</p:ReturnValue>|"
        v[n++] = "retvalonly|<p:ReturnValue>4</p:ReturnValue>|"
        v[n++] = "retvalplus|<p:Job><q:EPR xmlns:q=\"urn:q\"/></p:Job><p:ReturnValue>+4</p:ReturnValue>|"
        v[n++] = "source|<p:Source xsi:nil=\"true\"/><p:Source><q:EPR xmlns:q=\"urn:q\"/></p:Source>|"
    }
    {
        for (i = 0; i < n; i++) {
            split(v[i], a, "|")
            f = dir "/" $0 "." a[1] ".xml"
            printf "<p:%s xmlns:p=\"%s\" xmlns:cim=\"http://schemas.dmtf.org/wbem/wscim/1/common\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" %s>%s</p:%s>\n", $0, ns, a[3], a[2], $0 > f
            close(f)
        }
    }' "$tmp/names"
    compare "cim-$1" "$3" "$4" "$dir"/*.xml
}

C=http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2
cim_matrix common http://schemas.dmtf.org/wbem/wscim/1/common "$ours/cim-common.xsd" "$ref1/common.xsd"
cim_matrix rasd-1 "$C/CIM_ResourceAllocationSettingData" "$ours/cim-rasd-1.xsd" "$ref1/CIM_ResourceAllocationSettingData.xsd"
cim_matrix vssd-1 "$C/CIM_VirtualSystemSettingData" "$ours/cim-vssd-1.xsd" "$ref1/CIM_VirtualSystemSettingData.xsd"
cim_matrix rasd-2 "$C/CIM_ResourceAllocationSettingData" "$ours/cim-rasd-2.xsd" "$ref2/CIM_ResourceAllocationSettingData.xsd"
cim_matrix vssd-2 "$C/CIM_VirtualSystemSettingData" "$ours/cim-vssd-2.xsd" "$ref2/CIM_VirtualSystemSettingData.xsd"
cim_matrix sasd-2 "$C/CIM_StorageAllocationSettingData" "$ours/cim-sasd-2.xsd" "$ref2/CIM_StorageAllocationSettingData.xsd"
cim_matrix epasd-2 "$C/CIM_EthernetPortAllocationSettingData" "$ours/cim-epasd-2.xsd" "$ref2/CIM_EthernetPortAllocationSettingData.xsd"
cim_matrix bootconfig-2 "$C/CIM_BootConfigSetting" "$ours/cim-bootconfig-2.xsd" "$ref2/CIM_BootConfigSetting.xsd"
cim_matrix bootsource-2 "$C/CIM_BootSourceSetting" "$ours/cim-bootsource-2.xsd" "$ref2/CIM_BootSourceSetting.xsd"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
