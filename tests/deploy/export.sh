#!/bin/sh
# export.sh - `ovfdeploy export`: a deployed instance back into an OVA.
#
# Part 1 (no boot): a variant of the sample with a password property, an
# empty second disk and a CD image.  Deploy, change the disk (qemu-io on the
# stopped overlay), export; the OVA validates (and against our schemas with
# xmllint), verifies, holds each disk as the instance sees it, the
# instance's option and values as defaults but not its password, and
# deploys; --sign makes a signature that verifies; a running instance (its
# pid file locked, as both backends lock it), a missing instance, a bad key
# leave nothing at -o.
# Part 2 (two TCG boots of the real sample): boot an instance, export while
# it runs (refused), stop, export, deploy and boot the export: the guest sees
# the new defaults and what the first boot wrote to its disk.
. "${top_srcdir:-.}/tests/deploy/imglib.sh"
out=${top_builddir:-$top_srcdir}/samples/out
OVFDEPLOY=$O sh "$top_srcdir/samples/pack-tiny.sh" "$out" >"$T_TMP/pack.log" 2>&1
rc=$?
[ $rc -eq 3 ] && skip "the sample's kernel package could not be obtained (offline?)"
if [ $rc -ne 0 ]; then
	fail "samples/pack-tiny.sh failed (exit $rc)"; sed 's/^/  | /' "$T_TMP/pack.log" | tail -20
	done_testing; exit 1
fi
out=$(cd "$out" && pwd)
ova=$out/tiny.ova
srcdir=$(cd "$top_srcdir" && pwd)
cd "$T_TMP" || exit 1
export OVFDEPLOY_HOME="$T_TMP/home"
cleanup() {
	for n in b1 b2; do "$O" stop --timeout 1 "$n" >/dev/null 2>&1; done
	[ -n "${holder:-}" ] && kill "$holder" 2>/dev/null
	rm -rf "$T_TMP"
}
trap cleanup EXIT

# prop_default OVA KEY: the default inspect reports for a property.
prop_default() {
	"$O" --json inspect "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
def walk(o):
    if isinstance(o, dict):
        if o.get("id") == sys.argv[1] and "default" in o:
            print(o["default"]); sys.exit(0)
        for v in o.values(): walk(v)
    elif isinstance(o, list):
        for v in o: walk(v)
walk(d)' "$2"
}
# default_option OVA: the default deployment option inspect reports.
default_option() {
	"$O" --json inspect "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d.get("default_configuration"))'
}

# ---- part 1: no boot ---------------------------------------------------------
mkdir v
tar xOf "$ova" tiny-disk1.vmdk >v/tiny-disk1.vmdk
truncate -s 64K v/tools.iso
printf 'ovfdeploy export test CD' | dd of=v/tools.iso conv=notrunc 2>/dev/null
ovf_add_disk2 "$srcdir/samples/tiny.ovf" v/tiny.ovf || fail "adding the second disk"
python3 - v/tiny.ovf v/tiny.ovf <<'EOF'
import sys
s = open(sys.argv[1]).read()
s = s.replace('<File ovf:id="file1" ovf:href="tiny-disk1.vmdk"/>',
              '<File ovf:id="file1" ovf:href="tiny-disk1.vmdk"/>\n    <File ovf:id="file2" ovf:href="tools.iso"/>')
s = s.replace('    </ProductSection>',
              '      <Property ovf:key="secret" ovf:type="string" ovf:password="true" ovf:userConfigurable="true" ovf:value="changeme"/>\n    </ProductSection>')
s = s.replace('    </VirtualHardwareSection>', '''      <Item>
        <rasd:AddressOnParent>1</rasd:AddressOnParent>
        <rasd:ElementName>CD/DVD drive 2</rasd:ElementName>
        <rasd:HostResource>ovf:/file/file2</rasd:HostResource>
        <rasd:InstanceID>9</rasd:InstanceID>
        <rasd:Parent>6</rasd:Parent>
        <rasd:ResourceType>15</rasd:ResourceType>
      </Item>
    </VirtualHardwareSection>''')
open(sys.argv[2], "w").write(s)
EOF
"$O" -q pack v/tiny.ovf -o v.ova || { fail "packing the variant"; done_testing; exit 1; }
expect_exit 0 "deploy the variant with the large option and new values" -- "$O" -q deploy v.ova --accept-eula \
	--backend qemu --name v1 --deployment-option large --prop appliance.greeting="exported hello" \
	--prop appliance.secret=hunter2
inst=$OVFDEPLOY_HOME/instances/v1
d0=$(sed -n 's/^disk\.0\.path=//p' "$inst/instance.conf")
d1=$(sed -n 's/^disk\.1\.path=//p' "$inst/instance.conf")
qemu-io -f qcow2 -c 'write -P 0x5a 60M 1M' "$d0" >/dev/null &&
	qemu-io -f qcow2 -c 'write -P 0xa5 1M 64K' "$d1" >/dev/null ||
	fail "qemu-io could not write the overlays"

expect_exit 0 "export the stopped instance" -- "$O" export v1 -o e.ova
expect_grep "written from instance v1" "$T_TMP/out" "export says what it wrote"
expect_grep "secret is a password" "$T_TMP/err" "export warns that the password is not exported"
expect_exit 0 "the export validates" -- "$O" validate e.ova
expect_grep "schema: valid" "$T_TMP/out" "the export is schema-valid"
expect_exit 0 "the export verifies" -- "$O" verify e.ova
mkdir x && (cd x && tar xf ../e.ova) || fail "the export is a tar"
ls x >members.txt
expect_grep '^v1\.ovf$' members.txt "the descriptor is named after the instance"
expect_grep '^v1\.mf$' members.txt "the export has a manifest"
if command -v xmllint >/dev/null; then
	expect_exit 0 "xmllint validates the descriptor against our OVF 1 schema" -- \
		xmllint --nonet --noout --schema "$srcdir/schemas/ovf-envelope-1.xsd" x/v1.ovf
fi
expect_exit 0 "the first disk is a streamOptimized VMDK" -- qemu-img info x/v1-disk1.vmdk
expect_grep "streamOptimized" "$T_TMP/out" "the first disk's subformat is streamOptimized"
qemu-img convert -O raw "$d0" flat0.raw && qemu-img convert -O raw "$d1" flat1.raw
expect_exit 0 "disk 1 is the instance's disk as it is now (qemu-img compare)" -- qemu-img compare -F raw x/v1-disk1.vmdk flat0.raw
expect_exit 0 "disk 2, empty in the package, is the instance's disk 2 (qemu-img compare)" -- qemu-img compare -F raw x/v1-disk2.vmdk flat1.raw
expect_exit 1 "the base alone differs (the change is in the export)" -- qemu-img compare x/v1-disk1.vmdk "$out/tiny-disk.raw"
expect_exit 0 "the CD image is copied from the package" -- cmp x/tools.iso v/tools.iso
[ "$(prop_default e.ova appliance.greeting)" = "exported hello" ] && ok "the greeting's default is the instance's value" ||
	fail "greeting default: $(prop_default e.ova appliance.greeting)"
[ "$(prop_default e.ova appliance.secret)" = "changeme" ] && ok "the password keeps its old default" ||
	fail "password default: $(prop_default e.ova appliance.secret)"
if grep -q hunter2 x/v1.ovf; then fail "the password is in the export"; else ok "the password is nowhere in the descriptor"; fi
[ "$(default_option e.ova)" = "large" ] && ok "the instance's option is the default" ||
	fail "default option: $(default_option e.ova)"
expect_exit 0 "the export deploys" -- "$O" -q deploy e.ova --accept-eula --backend qemu --name v2
grep -q '^cpus=2$' "$OVFDEPLOY_HOME/instances/v2/instance.conf" && ok "deployed without options, it gets the large option" ||
	fail "the redeployed instance is not the large option"
grep -q '^property.0.value=exported hello$' "$OVFDEPLOY_HOME/instances/v2/instance.conf" &&
	ok "deployed without --prop, it gets the exported value" || fail "the redeployed greeting is not the exported one"
expect_exit 0 "the redeployed disk reads as the exported one" -- qemu-img compare "$OVFDEPLOY_HOME/instances/v2/disk0.qcow2" flat0.raw

# A package whose disk is gzip-compressed and chunked: deploy inflates the
# base into the instance; the export is plain again.
"$O" -q pack v/tiny.ovf -o vz.ova --compress --chunk-size 1M || fail "packing the compressed variant"
expect_exit 0 "deploy the compressed, chunked variant" -- "$O" -q deploy vz.ova --accept-eula --backend qemu --name vz
dz=$(sed -n 's/^disk\.0\.path=//p' "$OVFDEPLOY_HOME/instances/vz/instance.conf")
qemu-io -f qcow2 -c 'write -P 0x33 10M 64K' "$dz" >/dev/null || fail "qemu-io on vz"
expect_exit 0 "export it" -- "$O" export vz -o ez.ova
expect_exit 0 "it verifies" -- "$O" verify ez.ova
mkdir xz && (cd xz && tar xf ../ez.ova) || fail "ez.ova is a tar"
if grep -q 'compression\|chunkSize' xz/vz.ovf; then fail "the export still declares compression or chunks"; else ok "the export declares neither compression nor chunks"; fi
expect_exit 0 "its disk is the instance's disk (qemu-img compare)" -- qemu-img compare xz/vz-disk1.vmdk "$dz"
expect_exit 0 "the CD image, gzipped in the package, is copied plain" -- cmp xz/tools.iso v/tools.iso

# What a killed export left beside the output (its working directory, no
# longer locked) is removed by the next export there.
mkdir .ovfdeploy-export-Ab12Cd && echo partial >.ovfdeploy-export-Ab12Cd/v1-disk1.vmdk
expect_exit 0 "export beside a killed export's leftovers" -- "$O" export v1 -o e2.ova
[ ! -e .ovfdeploy-export-Ab12Cd ] && ok "the leftover working directory is removed" || fail "the leftover stays"

# --json
expect_exit 0 "export --json" -- "$O" --json export v1 -o j.ova
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["disks"] == 2 and d["instance"] == "v1", d' \
	"$T_TMP/out" && ok "the JSON report names the instance and its 2 disks" || fail "bad JSON report"

# --sign: the signature verifies against its certificate
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 2 -subj "/CN=export test" 2>/dev/null
	expect_exit 0 "export --sign KEY --cert CERT" -- "$O" export v1 -o s.ova --sign k.pem --cert c.pem --sync
	tar tf s.ova >smembers.txt
	expect_grep '^v1\.cert$' smembers.txt "the signed export has a certificate"
	expect_exit 0 "its signature verifies" -- "$O" verify --require-signature --ca-file c.pem s.ova
	expect_grep "signature" "$T_TMP/out" "verify reports the signature"
	expect_exit 2 "a bad key fails" -- "$O" export v1 -o bad.ova --sign c.pem
	[ ! -e bad.ova ] && ok "nothing at -o after the failed export" || fail "bad.ova exists"
fi

# refusals
cp v.ova shared.ova && "$O" -q deploy shared.ova --accept-eula --backend qemu --name sh1 || fail "deploy shared.ova"
expect_exit 2 "export over the package an instance reads its base from is refused" -- "$O" export v1 -o shared.ova
expect_grep "the package instance 'sh1' was deployed from" "$T_TMP/err" "the error names that instance"
expect_exit 0 "that package is untouched" -- cmp shared.ova v.ova
expect_exit 2 "export into the instances' store is refused" -- "$O" export v1 -o "$OVFDEPLOY_HOME/instances/v1/x.ova"
[ ! -e "$OVFDEPLOY_HOME/instances/v1/x.ova" ] && ok "nothing written there" || fail "x.ova in the store"
expect_exit 2 "a missing instance is an error" -- "$O" export nosuch -o n.ova
expect_grep "no instance named 'nosuch'" "$T_TMP/err" "the error names the instance"
[ ! -e n.ova ] && ok "nothing at -o for a missing instance" || fail "n.ova exists"
expect_exit 2 "a name that leaves the store is refused" -- "$O" export ../v1 -o n.ova
expect_exit 2 "-o is required" -- "$O" export v1
expect_exit 3 "an output directory that does not exist" -- "$O" export v1 -o nodir/x.ova
# A running instance: whoever runs it holds a write lock on its pid file.
hold_pidfile "$inst/pid" ex
expect_exit 2 "a running instance is refused" -- "$O" export v1 -o r.ova
expect_grep "is running .*stop it first" "$T_TMP/err" "the error says to stop it first"
[ ! -e r.ova ] && ok "nothing at -o for a running instance" || fail "r.ova exists"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; holder=
# While an export runs (a read lock on the pid file) the instance cannot
# start, and is not taken for running (stop must not signal the exporter).
hold_pidfile "$inst/pid" sh
expect_exit 2 "an instance being exported does not start" -- "$O" start v1
expect_grep "is being exported" "$T_TMP/err" "start says it is being exported"
"$O" list >list.txt
expect_grep '^v1 +stopped' list.txt "list does not take the export for a run"
expect_exit 2 "stop does not signal the exporter" -- "$O" stop v1
expect_exit 2 "rm does not remove an instance being exported" -- "$O" rm v1
expect_grep "is being exported" "$T_TMP/err" "rm says it is being exported"
kill -0 "$holder" 2>/dev/null && ok "the exporter lives on" || fail "the exporter was stopped"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; holder=
# The package an instance reads its base from has gone: the error says so.
cp v.ova moved.ova && "$O" -q deploy moved.ova --accept-eula --backend qemu --name mv || fail "deploy moved.ova"
rm moved.ova
expect_exit 3 "an instance whose package has gone cannot be exported" -- "$O" export mv -o mv.ova
expect_grep "its base is read from .*moved.ova" "$T_TMP/err" "the error names the package the base is read from"
[ ! -e mv.ova ] && ok "nothing at -o" || fail "mv.ova exists"
expect_exit 2 "export refuses --connect (libvirt instances)" -- "$O" export v1 -o c.ova --connect qemu:///system
expect_grep "libvirt hosts .* cannot be exported yet" "$T_TMP/err" "and says why"

ls -a >dir.txt
if grep -q 'ovfdeploy-export' dir.txt; then fail "a working directory was left behind"; else ok "no working directory is left behind"; fi

# ---- part 2: the real sample, two TCG boots -----------------------------------
if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "# qemu-system-x86_64 missing: no boots"; done_testing; exit $?
fi
BOOT_TIMEOUT=${TINY_BOOT_TIMEOUT:-240}
wait_log() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -aq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
expect_exit 0 "deploy the sample" -- "$O" -q deploy "$ova" --accept-eula --backend qemu --name b1 \
	--prop appliance.greeting="greeting from b1"
expect_exit 0 "start it" -- "$O" start b1
log=$OVFDEPLOY_HOME/instances/b1/console.log
if wait_log "$log" "APPLIANCE READY" "$BOOT_TIMEOUT"; then
	expect_grep "boot count 1" "$log" "the first boot writes its count to the disk"
	expect_exit 2 "export of the running instance is refused" -- "$O" export b1 -o run.ova
	expect_grep "stop it first" "$T_TMP/err" "and says to stop it first"
	[ ! -e run.ova ] && ok "nothing at -o" || fail "run.ova exists"
	expect_exit 0 "stop it" -- "$O" stop --timeout 60 b1
	expect_exit 0 "export it once stopped" -- "$O" export b1 -o b1.ova
	timeout "$BOOT_TIMEOUT" "$O" b1.ova --accept-eula --backend qemu --name b2 --prop appliance.oneshot=true \
		</dev/null >b2.out 2>b2.err
	rc=$?
	[ $rc -eq 0 ] && ok "the export deploys and runs to power-off" || { fail "exit $rc"; tail -5 b2.err; }
	expect_grep "property appliance.greeting=greeting from b1" b2.out "the guest gets the exported default"
	expect_grep "boot count 2" b2.out "what the first instance wrote to its disk is in the export"
	expect_grep "APPLIANCE READY" b2.out "the exported appliance is ready"
else
	fail "b1 did not become ready"; tail -20 "$log"
fi
done_testing
