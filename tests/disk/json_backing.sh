#!/bin/sh
# json_backing.sh - a qcow2 overlay whose backing file is a VMDK inside an
# OVA (QEMU's json: byte-range form) reads the same through ovfdeploy as
# through qemu-img; ranges outside the file are refused.
. "${top_srcdir:-.}/tests/cli/lib.sh"
command -v qemu-img >/dev/null || skip "qemu-img not installed (qemu-utils)"
command -v python3 >/dev/null || skip "python3 not installed"
cd "$T_TMP"
head -c 2M /dev/urandom > d.raw
truncate -s 6M d.raw
qemu-img convert -O vmdk -o subformat=streamOptimized d.raw d.vmdk
echo descriptor > a.ovf
tar --format=ustar -cf x.ova a.ovf d.vmdk
set -- $(python3 -c "import tarfile; m=tarfile.open('x.ova').getmember('d.vmdk'); print(m.offset_data, m.size)")
spec="json:{\"driver\":\"vmdk\",\"file\":{\"driver\":\"raw\",\"offset\":$1,\"size\":$2,\"file\":{\"driver\":\"file\",\"filename\":\"$T_TMP/x.ova\"}}}"
qemu-img create -q -f qcow2 -F vmdk -b "$spec" o.qcow2 6M
expect_exit 0 "overlay over an OVA member reads like its source" -- "$OVFDEPLOY" compare o.qcow2 d.raw
expect_exit 0 "info shows the json backing" -- "$OVFDEPLOY" info o.qcow2
expect_grep 'streamOptimized' "$T_TMP/out" "info follows the chain into the OVA"

bad="json:{\"driver\":\"vmdk\",\"file\":{\"driver\":\"raw\",\"offset\":$1,\"size\":999999999,\"file\":{\"driver\":\"file\",\"filename\":\"$T_TMP/x.ova\"}}}"
qemu-img create -q -f qcow2 -F vmdk -u -b "$bad" bad.qcow2 6M
expect_exit 1 "a range past the end of the file is refused" -- "$OVFDEPLOY" convert -O raw bad.qcow2 bad.raw
expect_grep 'outside' "$T_TMP/err" "the error names the range"
evil="json:{\"driver\":\"vmdk\",\"file\":{\"driver\":\"nbd\",\"host\":\"x\"}}"
qemu-img create -q -f qcow2 -F vmdk -u -b "$evil" evil.qcow2 6M
expect_exit 1 "an unsupported json: shape is refused" -- "$OVFDEPLOY" convert -O raw evil.qcow2 evil.raw
if [ -e bad.raw ] || [ -e evil.raw ]; then fail "a failed convert left output behind"; else ok "a failed convert leaves no output"; fi
done_testing
