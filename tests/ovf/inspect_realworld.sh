#!/bin/sh
# inspect_realworld.sh - 'inspect --json' of every real-world descriptor in
# ../shared/corpus/real-world succeeds and is valid JSON; for properties.ovf
# and deployment-configs.ovf the values are checked one by one.
. "${top_srcdir:-.}/tests/cli/lib.sh"
dir=${SHARED:+$SHARED/corpus/real-world}
[ -n "$dir" ] && [ -d "$dir" ] || skip "../shared/corpus/real-world is absent"
command -v python3 >/dev/null 2>&1 || skip "python3 is needed to read the JSON"

n=0
for f in "$dir"/*.ovf; do
	n=$((n + 1))
	b=$(basename "$f")
	if "$OVFDEPLOY" inspect --json "$f" >"$T_TMP/$b.json" 2>"$T_TMP/err"; then
		if python3 -m json.tool "$T_TMP/$b.json" >/dev/null 2>"$T_TMP/jerr"; then
			ok "inspect --json $b"
		else
			fail "inspect --json $b: not valid JSON"; sed 's/^/  | /' "$T_TMP/jerr" | head -5
		fi
	else
		fail "inspect --json $b exited non-zero"; sed 's/^/  | /' "$T_TMP/err" | head -5
	fi
	"$OVFDEPLOY" inspect "$f" >"$T_TMP/text" 2>"$T_TMP/err" && ok "inspect $b (text)" || fail "inspect $b (text)"
done
[ $n -ge 10 ] && ok "$n real-world descriptors" || fail "only $n descriptors in $dir"

# check FILE.json PYTHON-EXPRESSIONS...: each expression must be true for d
check() {
	json=$1; shift
	for expr in "$@"; do
		if python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
vs = d["virtual_systems"][0]
props = {p["key"]: p for pr in vs["products"] for p in pr["properties"]}
hw = {h["configuration"]: h for h in vs["hardware"]}
sys.exit(0 if eval(sys.argv[2]) else 1)' "$json" "$expr" 2>"$T_TMP/perr"; then
			ok "$(basename "$json" .json): $expr"
		else
			fail "$(basename "$json" .json): $expr"; sed 's/^/  | /' "$T_TMP/perr" | tail -3
		fi
	done
}

check "$T_TMP/properties.ovf.json" \
	'd["version"] == "1.x"' \
	'sorted(props) == ["enable_ssh", "nfs_mount", "ntp-server", "vmname", "whitespace_int"]' \
	'props["ntp-server"]["default"] is None and props["ntp-server"]["user_configurable"]' \
	'props["ntp-server"]["qualifiers"] == "MinLen(1),MaxLen(65535)"' \
	'props["ntp-server"]["id"] == "ttylinux.ntp-server.vm"' \
	'props["ntp-server"]["label"] == "NTP Server(s)"' \
	'props["enable_ssh"]["type"] == "boolean" and props["enable_ssh"]["default"] == "false"' \
	'props["nfs_mount"]["default"] == "/transfer" and not props["nfs_mount"]["user_configurable"]' \
	'props["whitespace_int"]["type"] == "int" and props["whitespace_int"]["default"].strip() == "42"' \
	'props["vmname"]["default"] == "vcsim_test" and props["vmname"]["id"] == "vm.vmname"' \
	'[p["class"] for p in vs["products"]] == ["ttylinux", "vm"]' \
	'vs["products"][0]["name"] == "ttylinux" and vs["products"][0]["version"] == "16.1"' \
	'hw[None]["cpus"] == 2 and hw[None]["memory_bytes"] == 2048 * 2**20' \
	'[n["network"] for n in hw[None]["nics"]] == ["VM Network"]'

check "$T_TMP/deployment-configs.ovf.json" \
	'd["default_configuration"] == "large"' \
	'[c["id"] for c in d["configurations"]] == ["small", "medium", "large"]' \
	'[c["default"] for c in d["configurations"]] == [False, False, True]' \
	'hw["small"]["cpus"] == 2 and hw["small"]["memory_bytes"] == 2 * 2**30' \
	'hw["medium"]["cpus"] == 4 and hw["medium"]["memory_bytes"] == 4 * 2**30' \
	'hw["large"]["cpus"] == 8 and hw["large"]["memory_bytes"] == 8 * 2**30' \
	'[x["capacity_bytes"] for x in hw["small"]["disks"]] == [2**30]' \
	'[x["disk_id"] for x in hw["large"]["disks"]] == ["vmdisk_large_1", "vmdisk_large_2", "vmdisk_large_3"]' \
	'[x["href"] for x in hw["medium"]["disks"]] == ["system-and-model-medium.vmdk", None]' \
	'list(props)[:5] == ["hostname", "tier_small", "tier_medium", "tier_large", "size_preset"]' \
	'props["hostname"]["default"] is None and props["hostname"]["qualifiers"] == "MinLen(1),MaxLen(253)"' \
	'props["size_preset"]["default"] == "medium" and props["size_preset"]["user_configurable"]' \
	'props["tier_small"]["configuration"] == "small" and props["tier_small"]["default"] == "small"' \
	'props["scratch_space_size_large"]["type"] == "int" and props["scratch_space_size_large"]["default"] == "20"' \
	'props["scratch_space_size_small"]["configuration"] == "small"' \
	'vs["os"]["id"] == "101" and vs["os"]["type"] == "other3xLinux64Guest"'
done_testing
