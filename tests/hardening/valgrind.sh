#!/bin/sh
# valgrind.sh - valgrind memcheck over the CLI on real inputs made here:
# inspect, validate, verify (signed and unsigned OVA), info, check and
# convert (qcow2, VMDK stream, raw).  No memory error and no definite leak
# may be reported.  Skipped without valgrind and on sanitizer builds (ASan
# and valgrind cannot share a process).
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/hardening/lib.sh"
command -v valgrind >/dev/null 2>&1 || skip "valgrind is not installed"
sanitizer_build && skip "sanitizer build: valgrind cannot run an ASan binary"
command -v qemu-img >/dev/null 2>&1 || skip "qemu-img is not installed (qemu-utils)"
command -v openssl >/dev/null 2>&1 || skip "openssl is not installed"
O=$OVFDEPLOY
cd "$T_TMP" || exit 1

# vg DESC -- CMD ARGS...: run `ovfdeploy CMD ARGS` under memcheck; the
# command's own exit status must be 0 and memcheck must report nothing.
vg() {
	desc=$1; shift 2
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite --log-file="$T_TMP/vg.log" \
		"$O" "$@" >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	if [ $rc -eq 0 ] && ! [ -s "$T_TMP/vg.log" ]; then ok "$desc"; else
		fail "$desc (exit $rc)"
		sed 's/^/  | /' "$T_TMP/err" | head -5
		sed 's/^/  | /' "$T_TMP/vg.log" | head -60
	fi
}

# Inputs: a 2 MiB disk with data, text and holes, in every format; an
# appliance around it, packed unsigned and signed.
truncate -s 2M d.raw
head -c 512k /dev/urandom | dd of=d.raw bs=64k seek=2 conv=notrunc status=none
yes 'valgrind test line' | head -c 200k | dd of=d.raw bs=64k seek=20 conv=notrunc status=none
"$O" -q convert -O qcow2 d.raw d.qcow2 && "$O" -q convert -O qcow2 -c d.raw dc.qcow2 &&
	"$O" -q convert -O vmdk -c d.raw d.vmdk && "$O" -q convert -O vmdk -o subformat=monolithicSparse d.raw ds.vmdk ||
	{ fail "make the disk images"; done_testing; exit 1; }
qemu-img convert -O vmdk -o subformat=streamOptimized d.raw q.vmdk
mkdir app && cp d.vmdk app/tiny-disk1.vmdk && cp "$top_srcdir/samples/tiny.ovf" app/
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=valgrind >/dev/null 2>&1 ||
	{ fail "make a key"; done_testing; exit 1; }
"$O" -q pack app/tiny.ovf -o u.ova && "$O" -q pack --sign key.pem --cert cert.pem app/tiny.ovf -o s.ova &&
	"$O" -q pack --compress --chunk-size 256K app/tiny.ovf -o gz.ova || { fail "pack"; done_testing; exit 1; }

vg "inspect a descriptor" -- inspect "$top_srcdir/samples/tiny.ovf"
vg "inspect --json an OVA" -- --json inspect u.ova
vg "validate" -- validate "$top_srcdir/samples/tiny.ovf"
vg "validate --strict (schemas)" -- validate --strict "$top_srcdir/samples/tiny.ovf"
vg "verify an unsigned OVA" -- verify u.ova
vg "verify a signed OVA" -- verify --ca-file cert.pem s.ova
vg "verify a compressed, chunked OVA" -- verify gz.ova
vg "unpack a signed OVA" -- unpack --ca-file cert.pem s.ova un
vg "info qcow2" -- info d.qcow2
vg "info --json VMDK stream" -- --json info d.vmdk
vg "check qcow2" -- check dc.qcow2
vg "check --deep compressed qcow2" -- check --deep dc.qcow2
vg "check VMDK" -- check ds.vmdk
vg "convert qcow2 -> raw" -- convert -O raw dc.qcow2 o1.raw
vg "convert VMDK stream (qemu-img's) -> qcow2" -- convert -O qcow2 q.vmdk o2.qcow2
vg "convert raw -> VMDK stream" -- convert -O vmdk -c d.raw o3.vmdk
vg "convert raw -> compressed qcow2 (2 threads)" -- convert -O qcow2 -c -j 2 d.raw o4.qcow2
vg "compare" -- compare o4.qcow2 d.raw
# export: an instance of the compressed package (a base inflated into it)
# back into a signed OVA
export OVFDEPLOY_HOME="$T_TMP/home"
"$O" -q deploy --accept-eula --name vx gz.ova || fail "deploy an instance to export"
vg "export --sign an instance" -- export vx --sign key.pem --cert cert.pem -o ex.ova
"$O" -q verify --ca-file cert.pem ex.ova || fail "the export does not verify"
for f in o1.raw o2.qcow2 o3.vmdk o4.qcow2; do
	qemu-img compare -q d.raw "$f" 2>/dev/null || fail "$f differs from the source"
done

# Refusals free what they made too: a hostile descriptor and image.
printf '<?xml version="1.0"?>\n<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"><Bad' > bad.ovf
valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --log-file="$T_TMP/vg.log" \
	"$O" validate bad.ovf >/dev/null 2>&1
rc=$?
[ $rc -ne 99 ] && [ $rc -ne 0 ] && ! [ -s "$T_TMP/vg.log" ] && ok "a refused descriptor: no error, no leak" ||
	{ fail "a refused descriptor (exit $rc)"; sed 's/^/  | /' "$T_TMP/vg.log" | head -40; }
cp d.qcow2 bad.qcow2 && printf '\377\377\377\377' | dd of=bad.qcow2 bs=1 seek=36 conv=notrunc status=none
valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --log-file="$T_TMP/vg.log" \
	"$O" convert bad.qcow2 never.raw >/dev/null 2>&1
rc=$?
[ $rc -ne 99 ] && [ $rc -ne 0 ] && ! [ -s "$T_TMP/vg.log" ] && ok "a refused image: no error, no leak" ||
	{ fail "a refused image (exit $rc)"; sed 's/^/  | /' "$T_TMP/vg.log" | head -40; }
done_testing
