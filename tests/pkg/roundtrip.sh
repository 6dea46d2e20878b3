#!/bin/sh
# roundtrip.sh - pack, unpack and verify, both directions, byte for byte;
# OVAs made by GNU tar and Python's tarfile (ustar, GNU, PAX); manifests
# in every accepted spelling; gzip and chunked files.
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/pkg/pkglib.sh"
need openssl tar python3
mkdir "$T_TMP/w" && cd "$T_TMP/w" || exit 1

make_appliance src app disk1.vmdk:300000 data.iso:5000:1
expect_exit 0 "verify an OVF directory" -- "$OVFDEPLOY" verify src
expect_grep "^ok +disk1.vmdk" "$T_TMP/out" "each file is reported ok"
expect_exit 0 "verify a lone .ovf" -- "$OVFDEPLOY" verify src/app.ovf
expect_exit 0 "pack a directory" -- "$OVFDEPLOY" pack src -o app.ova
tar tf app.ova > list
if [ "$(tr '\n' ' ' < list)" = "app.ovf app.mf disk1.vmdk data.iso " ]; then ok "descriptor first, manifest, then References order"
else fail "member order: $(tr '\n' ' ' < list)"; fi
if od -A d -t x1 -j 257 -N 8 app.ova | grep -q "75 73 74 61 72 00 30 30"; then ok "plain ustar headers"; else fail "not ustar"; fi
if python3 -c "import tarfile,sys; t=tarfile.open('app.ova'); sys.exit(any(m.pax_headers for m in t.getmembers()))"; then ok "no PAX headers"; else fail "PAX headers written"; fi
expect_exit 0 "verify our OVA" -- "$OVFDEPLOY" verify app.ova
expect_exit 0 "unpack it" -- "$OVFDEPLOY" unpack app.ova out
same=1; for f in app.ovf app.mf disk1.vmdk data.iso; do cmp -s "src/$f" "out/$f" || same=0; done
[ $same = 1 ] && ok "OVF dir -> OVA -> dir keeps every member byte for byte" || fail "members differ after the round trip"
mkdir x && (cd x && tar xf ../app.ova)
same=1; for f in app.ovf app.mf disk1.vmdk data.iso; do cmp -s "src/$f" "x/$f" || same=0; done
[ $same = 1 ] && ok "GNU tar extracts the same bytes" || fail "GNU tar sees different members"
expect_exit 2 "unpack refuses a non-empty destination" -- "$OVFDEPLOY" unpack app.ova out
mkdir empty
expect_exit 0 "unpack into an empty directory" -- "$OVFDEPLOY" unpack app.ova empty
[ -f empty/disk1.vmdk ] && ok "empty directory filled" || fail "empty directory not filled"

# OVAs made by other tools.
(cd src && tar --format=gnu -cf ../gnu.ova app.ovf app.mf disk1.vmdk data.iso)
expect_exit 0 "verify a GNU tar OVA" -- "$OVFDEPLOY" verify gnu.ova
(cd src && tar --format=pax -cf ../pax.ova app.ovf app.mf disk1.vmdk data.iso)
expect_exit 0 "verify a PAX OVA" -- "$OVFDEPLOY" verify pax.ova
(cd src && python3 - <<'PY'
import tarfile
for fmt, out in ((tarfile.USTAR_FORMAT, '../py-ustar.ova'), (tarfile.GNU_FORMAT, '../py-gnu.ova'), (tarfile.PAX_FORMAT, '../py-pax.ova')):
    with tarfile.open(out, 'w', format=fmt) as t:
        for n in ('app.ovf', 'app.mf', 'disk1.vmdk', 'data.iso'):
            t.add(n)
PY
)
for f in py-ustar py-gnu py-pax; do expect_exit 0 "verify a Python tarfile $f OVA" -- "$OVFDEPLOY" verify $f.ova; done
expect_exit 0 "repack an OVA from an OVA" -- "$OVFDEPLOY" pack pax.ova -o re.ova
expect_exit 0 "the repacked OVA verifies" -- "$OVFDEPLOY" verify re.ova
expect_exit 0 "unpack the repacked OVA" -- "$OVFDEPLOY" unpack re.ova re
cmp -s src/disk1.vmdk re/disk1.vmdk && cmp -s src/app.mf re/app.mf && ok "OVA -> OVA keeps members" || fail "OVA -> OVA changed members"

# Digests.
for a in sha1 sha512; do
	expect_exit 0 "pack --digest $a" -- "$OVFDEPLOY" pack --digest $a src -o $a.ova
	A=$(echo $a | tr a-z A-Z)
	tar xOf $a.ova app.mf > $a.mf
	expect_grep "^$A\\(disk1.vmdk\\)= [0-9a-f]+$" $a.mf "$A lines written"
	expect_exit 0 "verify a $A manifest" -- "$OVFDEPLOY" verify $a.ova
done
expect_exit 2 "pack --digest md5 is a usage error" -- "$OVFDEPLOY" pack --digest md5 src -o md5.ova
[ ! -e md5.ova ] && ok "nothing written on a usage error" || fail "md5.ova written"

# Manifests in the spellings other tools write: accepted with a warning.
cp -r src tag; (cd tag && sha256sum --tag app.ovf disk1.vmdk data.iso > app.mf)
expect_exit 0 "coreutils --tag manifest verifies" -- "$OVFDEPLOY" verify tag
expect_grep "coreutils --tag" "$T_TMP/err" "and the warning names coreutils --tag"
cp -r src o3; (cd o3 && openssl dgst -sha256 app.ovf disk1.vmdk data.iso | sed 's/^SHA256/SHA2-256/' > app.mf)
expect_exit 0 "OpenSSL 3 'SHA2-256(...)=' manifest verifies" -- "$OVFDEPLOY" verify o3
expect_grep "OpenSSL 3" "$T_TMP/err" "and the warning names OpenSSL 3"
cp -r src crlf; sed -i 's/$/\r/' crlf/app.mf
expect_exit 0 "CRLF manifest verifies" -- "$OVFDEPLOY" verify crlf
expect_grep "CRLF" "$T_TMP/err" "and the warning names CRLF"
cp -r src garbage; echo "MD5(app.ovf)= 00" >> garbage/app.mf
expect_exit 1 "an unknown algorithm fails" -- "$OVFDEPLOY" verify garbage
expect_grep "unknown digest algorithm" "$T_TMP/err" "and says so"

# JSON.
"$OVFDEPLOY" --json verify app.ova > v.json
if python3 -c "import json,sys; d=json.load(open('v.json')); sys.exit(not(d['ok'] and [f['status'] for f in d['files']]==['ok']*3 and d['signature'] is None))"; then
	ok "--json report"; else fail "--json report"; cat v.json; fi

# gzip and chunks.
expect_exit 0 "pack --compress" -- "$OVFDEPLOY" pack --compress src -o z.ova
tar xOf z.ova app.ovf > z.ovf
expect_grep 'href="disk1.vmdk" ovf:size="[0-9]+" ovf:compression="gzip"|compression="gzip"' z.ovf "descriptor says gzip"
tar xOf z.ova disk1.vmdk | gzip -dc | cmp -s - src/disk1.vmdk && ok "member is gzip of the file" || fail "gzip member content"
expect_exit 0 "verify the gzip OVA" -- "$OVFDEPLOY" verify z.ova
expect_exit 0 "pack --chunk-size 64K" -- "$OVFDEPLOY" pack --chunk-size 64K src -o c.ova
n=$(tar tf c.ova | grep -c '^disk1.vmdk.00000000[0-9]$')
[ "$n" = 5 ] && ok "300000 bytes in 64 KiB chunks: 5 members" || fail "$n chunk members"
tar xOf c.ova app.ovf | grep -q 'chunkSize="65536"' && ok "descriptor says chunkSize" || fail "no chunkSize"
tar xOf c.ova disk1.vmdk.000000000 disk1.vmdk.000000001 disk1.vmdk.000000002 disk1.vmdk.000000003 disk1.vmdk.000000004 | cmp -s - src/disk1.vmdk && ok "chunks join to the file" || fail "chunks do not join"
expect_exit 0 "verify the chunked OVA" -- "$OVFDEPLOY" verify c.ova
expect_exit 0 "unpack the chunked OVA" -- "$OVFDEPLOY" unpack c.ova cdir
expect_exit 0 "verify the chunked directory" -- "$OVFDEPLOY" verify cdir
expect_exit 0 "repack the chunked directory" -- "$OVFDEPLOY" pack cdir -o c2.ova
same=1; for m in $(tar tf c.ova); do [ "$(tar xOf c.ova $m | openssl dgst -sha256 -r)" = "$(tar xOf c2.ova $m | openssl dgst -sha256 -r)" ] || same=0; done
[ $same = 1 ] && ok "chunked dir -> OVA keeps every member" || fail "chunked repack changed members"
expect_exit 0 "pack --compress --chunk-size" -- "$OVFDEPLOY" pack --compress --chunk-size 100K src -o zc.ova
expect_exit 0 "verify the compressed chunked OVA" -- "$OVFDEPLOY" verify zc.ova
# Files in a subdirectory of the package (href="disks/d.vmdk").
mkdir -p sub/disks && head -c 5000 /dev/urandom > sub/disks/d.vmdk
sed 's|ovf:href="disk1.vmdk" ovf:size="300000"|ovf:href="disks/d.vmdk" ovf:size="5000"|; /data.iso/d; /disk2/d' src/app.ovf > sub/app.ovf
expect_exit 0 "pack a package with a subdirectory" -- "$OVFDEPLOY" pack sub -o sub.ova
expect_exit 0 "verify it" -- "$OVFDEPLOY" verify sub.ova
expect_exit 0 "unpack it" -- "$OVFDEPLOY" unpack sub.ova subout
cmp -s sub/disks/d.vmdk subout/disks/d.vmdk && ok "the file lands in its subdirectory" || fail "subdirectory file"
# The default writes without the fsync before the rename (--no-sync is the
# same, kept for compatibility); --sync fsyncs the OVA and its directory.
expect_exit 0 "pack --no-sync" -- "$OVFDEPLOY" pack --no-sync sub -o nosync.ova
cmp -s sub.ova nosync.ova && ok "--no-sync writes the same bytes" || fail "--no-sync changed the package"
if command -v strace >/dev/null; then
	n=$(strace -f -e trace=fsync,fdatasync "$OVFDEPLOY" pack --no-sync sub -o nosync2.ova 2>&1 | grep -c 'fsync(')
	[ "$n" -eq 0 ] && ok "--no-sync does not fsync" || fail "--no-sync made $n fsync calls"
	n=$(strace -f -e trace=fsync,fdatasync "$OVFDEPLOY" pack sub -o default2.ova 2>&1 | grep -c 'fsync(')
	[ "$n" -eq 0 ] && ok "pack does not fsync by default" || fail "pack made $n fsync calls by default"
	n=$(strace -f -e trace=fsync,fdatasync "$OVFDEPLOY" pack --sync sub -o sync2.ova 2>&1 | grep -c 'fsync(')
	[ "$n" -ge 2 ] && ok "pack --sync fsyncs the OVA and its directory" || fail "pack --sync made $n fsync calls"
fi
done_testing
