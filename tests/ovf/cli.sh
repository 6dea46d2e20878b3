#!/bin/sh
# cli.sh - 'inspect' and 'validate' from the command line: the README's
# quick start on samples/tiny.ovf, the JSON reports, exit codes, and the
# hostile inputs seen from the CLI.
. "${top_srcdir:-.}/tests/cli/lib.sh"
tiny=$top_srcdir/samples/tiny.ovf
has_python() { command -v python3 >/dev/null 2>&1; }

expect_exit 0 "inspect samples/tiny.ovf" -- "$OVFDEPLOY" inspect "$tiny"
expect_grep "Product: ovfdeploy tiny appliance 1.0" "$T_TMP/out" "inspect shows the product"
expect_grep "small \(default\)" "$T_TMP/out" "inspect shows the default deployment option"
expect_grep "2 CPUs, 512 MiB of memory" "$T_TMP/out" "inspect shows the hardware of 'large'"
expect_grep "disk 4: disk1, 64 MiB, tiny-disk1.vmdk" "$T_TMP/out" "inspect shows the disk with its capacity and file"
expect_grep "appliance.http_port: uint16 = \"80\"" "$T_TMP/out" "inspect shows properties"
expect_grep "EULA: " "$T_TMP/out" "inspect shows the EULA"

expect_exit 0 "validate samples/tiny.ovf" -- "$OVFDEPLOY" validate "$tiny"
expect_grep "deployable: yes \(0 errors" "$T_TMP/out" "tiny.ovf has no deployability errors"
if [ -s "$T_TMP/err" ] && grep -q "error" "$T_TMP/err"; then fail "validate tiny.ovf printed errors"; else ok "validate tiny.ovf printed no errors"; fi

expect_exit 0 "inspect --json" -- "$OVFDEPLOY" inspect --json "$tiny"
cp "$T_TMP/out" "$T_TMP/inspect.json"
expect_exit 0 "validate --json" -- "$OVFDEPLOY" --json validate "$tiny"
cp "$T_TMP/out" "$T_TMP/validate.json"
if has_python; then
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
vs = d["virtual_systems"][0]
hw = {h["configuration"]: h for h in vs["hardware"]}
assert d["default_configuration"] == "small"
assert hw["small"]["memory_bytes"] == 256 << 20 and hw["large"]["cpus"] == 2
assert hw["small"]["disks"][0]["capacity_bytes"] == 64 << 20
assert hw["small"]["nics"][0]["network"] == "lan"
assert [p["key"] for p in vs["products"][0]["properties"]] == ["greeting", "http_port", "oneshot"]
v = json.load(open(sys.argv[2]))
assert v["deployable"] is True and v["errors"] == 0
assert v["version"] == "1.x"' "$T_TMP/inspect.json" "$T_TMP/validate.json" 2>"$T_TMP/perr" &&
		ok "the JSON reports have the expected values" || { fail "JSON values"; cat "$T_TMP/perr"; }
fi

# usage and I/O errors
expect_exit 2 "validate with no file is a usage error" -- "$OVFDEPLOY" validate
expect_exit 2 "validate with an unknown option is a usage error" -- "$OVFDEPLOY" validate --frob "$tiny"
expect_exit 2 "inspect with two files is a usage error" -- "$OVFDEPLOY" inspect "$tiny" "$tiny"
expect_exit 3 "validate of a missing file is an I/O error" -- "$OVFDEPLOY" validate "$T_TMP/nonexistent.ovf"
expect_exit 3 "inspect of a missing file is an I/O error" -- "$OVFDEPLOY" inspect "$T_TMP/nonexistent.ovf"

# a descriptor with errors: exit 1, each error with line and code
sed -e 's/ovf:fileRef="file1"/ovf:fileRef="nofile"/' -e 's/<Info>The tiny sample appliance<\/Info>//' "$tiny" >"$T_TMP/bad.ovf"
expect_exit 1 "validate of a broken descriptor exits 1" -- "$OVFDEPLOY" validate "$T_TMP/bad.ovf"
expect_grep "bad.ovf:15: error: .*nofile.* \[disk-fileref-unresolved\]" "$T_TMP/err" "the error names the line, the value and the code"
expect_grep "deployable: no \(2 errors" "$T_TMP/out" "the summary counts the errors"
expect_exit 1 "--lax keeps broken references errors" -- "$OVFDEPLOY" validate --lax "$T_TMP/bad.ovf"
expect_grep "deployable: no \(1 error," "$T_TMP/out" "--lax turns the missing Info into a warning"
expect_exit 1 "validate --json of a broken descriptor exits 1" -- "$OVFDEPLOY" validate --json "$T_TMP/bad.ovf"
expect_grep '"code": ?"disk-fileref-unresolved"' "$T_TMP/out" "the JSON report lists the code"

# hrefs that leave the package
sed 's|ovf:href="tiny-disk1.vmdk"|ovf:href="../tiny-disk1.vmdk"|' "$tiny" >"$T_TMP/remote.ovf"
expect_exit 1 "an href leaving the package is an error" -- "$OVFDEPLOY" validate "$T_TMP/remote.ovf"
expect_exit 0 "... unless --allow-remote" -- "$OVFDEPLOY" validate --allow-remote "$T_TMP/remote.ovf"

# hostile input
cat >"$T_TMP/xxe.ovf" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"><Annotation>&xxe;</Annotation></Envelope>
XML
expect_exit 1 "XXE is refused" -- "$OVFDEPLOY" validate "$T_TMP/xxe.ovf"
expect_grep "entity" "$T_TMP/err" "the refusal names the entity declaration"
if grep -q "root:" "$T_TMP/out" "$T_TMP/err"; then fail "XXE leaked /etc/passwd"; else ok "nothing of /etc/passwd is printed"; fi
expect_exit 1 "XXE is refused by inspect too" -- "$OVFDEPLOY" inspect "$T_TMP/xxe.ovf"
: >"$T_TMP/huge.ovf"
truncate -s 20M "$T_TMP/huge.ovf" 2>/dev/null || dd if=/dev/zero of="$T_TMP/huge.ovf" bs=1 count=0 seek=20971520 2>/dev/null
expect_exit 1 "a 20 MB descriptor is refused" -- "$OVFDEPLOY" validate "$T_TMP/huge.ovf"
expect_grep "limit" "$T_TMP/err" "the refusal names the size limit"
printf '<?xml version="1.0" encoding="UTF-8"?>\n<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"><Annotation>\377\376</Annotation></Envelope>\n' >"$T_TMP/utf8.ovf"
expect_exit 1 "invalid UTF-8 is refused" -- "$OVFDEPLOY" validate "$T_TMP/utf8.ovf"
expect_grep "utf8.ovf:2: invalid UTF-8" "$T_TMP/err" "the refusal names the line"
printf '<?xml version="1.0" encoding="ISO-8859-1"?>\n<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"><Annotation>caf\303\251</Annotation></Envelope>\n' >"$T_TMP/enc.ovf"
expect_exit 1 "an encoding the bytes contradict is refused" -- "$OVFDEPLOY" validate "$T_TMP/enc.ovf"
expect_grep "declares encoding" "$T_TMP/err" "the refusal says what is declared"

# schema verdicts: a missing schema is a warning, an I/O error with --strict
OVFDEPLOY_SCHEMADIR=$T_TMP/noschemas expect_exit 0 "without schemas, validate still judges deployability" -- "$OVFDEPLOY" validate "$tiny"
expect_grep "schema not checked" "$T_TMP/err" "and says the schema was not checked"
OVFDEPLOY_SCHEMADIR=$T_TMP/noschemas expect_exit 3 "without schemas, --strict cannot pass" -- "$OVFDEPLOY" validate --strict "$tiny"
if [ -f "$top_srcdir/schemas/ovf-envelope-1.xsd" ]; then
	OVFDEPLOY_SCHEMADIR=$top_srcdir/schemas
	export OVFDEPLOY_SCHEMADIR
	expect_exit 0 "tiny.ovf is schema-valid (--strict)" -- "$OVFDEPLOY" validate --strict "$tiny"
	sed 's|<Info>Virtual disks</Info>|<Info>Virtual disks</Info><Frob/>|' "$tiny" >"$T_TMP/schemabad.ovf"
	expect_exit 0 "a schema violation alone is a warning" -- "$OVFDEPLOY" validate "$T_TMP/schemabad.ovf"
	expect_grep "schema warning" "$T_TMP/err" "and is printed as a schema warning"
	expect_exit 1 "... and an error with --strict" -- "$OVFDEPLOY" validate --strict "$T_TMP/schemabad.ovf"
else
	echo "# schemas/ovf-envelope-1.xsd absent: strict schema checks of tiny.ovf skipped"
fi
done_testing
