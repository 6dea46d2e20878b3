#!/bin/sh
# sign.sh - certificates and signatures: packages signed with the openssl
# command line verified by us, packages signed by us verified by openssl;
# RSA and ECDSA; a chain to a test CA; wrong key, expired and untrusted
# certificates; --require-signature.
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/pkg/pkglib.sh"
need openssl tar python3
mkdir "$T_TMP/w" && cd "$T_TMP/w" || exit 1
O="openssl"

make_appliance src app disk1.vmdk:200000
$O req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 -subj "/CN=ovfdeploy test CA" 2>/dev/null
$O req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 3650 -subj "/CN=Another CA" 2>/dev/null
# A tiny CA so that leaf certificates can have any validity dates.
mkdir newcerts; : > index.txt; echo 1000 > serial
cat > ca.cnf <<CNF
[ ca ]
default_ca = test
[ test ]
dir = .
database = index.txt
new_certs_dir = newcerts
serial = serial
default_md = sha256
policy = any
unique_subject = no
[ any ]
commonName = supplied
CNF
leaf() { # leaf NAME KEYSPEC STARTDATE ENDDATE
	if [ "$2" = ec ]; then $O ecparam -name prime256v1 -genkey -noout -out $1.key
	else $O genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $1.key 2>/dev/null; fi
	$O req -new -key $1.key -out $1.csr -subj "/CN=$1 signer" 2>/dev/null
	$O ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in $1.csr -out $1.pem -notext \
		-startdate $3 -enddate $4 >/dev/null 2>&1
}
leaf rsa rsa 20200101000000Z 20991231000000Z
leaf ec ec 20200101000000Z 20991231000000Z
leaf old rsa 20200101000000Z 20210101000000Z
[ -s rsa.pem ] && [ -s ec.pem ] && [ -s old.pem ] || skip "openssl ca could not make the test certificates"

# 1. Signed with the openssl command line, verified by us.
expect_exit 0 "pack an unsigned OVA" -- "$OVFDEPLOY" pack src -o app.ova
for k in rsa ec; do
	mkdir o-$k && (cd o-$k && tar xf ../app.ova)
	( cd o-$k && printf 'SHA256(app.mf)= %s\n' "$($O dgst -sha256 -sign ../$k.key app.mf | od -An -v -tx1 | tr -d ' \n')" > app.cert && cat ../$k.pem >> app.cert )
	expect_exit 0 "openssl-signed ($k) directory verifies with --ca-file" -- "$OVFDEPLOY" verify --ca-file ca.pem o-$k
	expect_grep "subject: .*$k signer" "$T_TMP/out" "subject printed ($k)"
	expect_grep "issuer: .*ovfdeploy test CA" "$T_TMP/out" "issuer printed ($k)"
	expect_grep "2099-12-31" "$T_TMP/out" "expiry printed ($k)"
	(cd o-$k && tar -cf ../o-$k.ova app.ovf app.mf app.cert disk1.vmdk)
	expect_exit 0 "openssl-signed ($k) OVA verifies" -- "$OVFDEPLOY" verify --ca-file ca.pem --require-signature o-$k.ova
done
expect_grep "EC prime256v1" "$T_TMP/out" "ECDSA key named"

# 2. Signed by us, verified by openssl.
for k in rsa ec; do
	expect_exit 0 "pack --sign ($k)" -- "$OVFDEPLOY" pack --sign $k.key --cert $k.pem src -o s-$k.ova
	mkdir s-$k && (cd s-$k && tar xf ../s-$k.ova)
	[ "$(tar tf s-$k.ova | tr '\n' ' ')" = "app.ovf app.mf app.cert disk1.vmdk " ] && ok "order: ovf, mf, cert, files ($k)" || fail "member order ($k)"
	head -1 s-$k/app.cert | sed 's/^SHA256(app.mf)= //' | python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' > s-$k.sig
	$O x509 -in s-$k/app.cert -pubkey -noout > s-$k.pub
	expect_exit 0 "openssl dgst -verify accepts our $k signature" -- $O dgst -sha256 -verify s-$k.pub -signature s-$k.sig s-$k/app.mf
	expect_exit 0 "openssl verify accepts the certificate in our .cert ($k)" -- $O verify -CAfile ca.pem s-$k/app.cert
	expect_exit 0 "we verify our own $k signature" -- "$OVFDEPLOY" verify --ca-file ca.pem s-$k.ova
done
"$OVFDEPLOY" --json verify --ca-file ca.pem s-ec.ova > s.json
python3 -c "import json,sys; s=json.load(open('s.json'))['signature']; sys.exit(not(s['signature_ok'] and s['chain_ok'] and s['dates_ok'] and 'ec signer' in s['subject'] and s['key']=='EC prime256v1'))" \
	&& ok "--json signature report" || fail "--json signature report: $(cat s.json)"
expect_exit 0 "unpack a signed OVA" -- "$OVFDEPLOY" unpack --ca-file ca.pem --require-signature s-rsa.ova s-rsa-out
cmp -s s-rsa-out/app.cert s-rsa/app.cert && ok "the .cert is extracted" || fail ".cert not extracted"
expect_exit 0 "repack a signed directory keeps the signature" -- "$OVFDEPLOY" pack s-rsa-out -o re.ova
expect_exit 0 "and it still verifies" -- "$OVFDEPLOY" verify --ca-file ca.pem --require-signature re.ova

# 3. Failures.
expect_exit 1 "a chain to an untrusted CA fails" -- "$OVFDEPLOY" verify --ca-file other-ca.pem s-rsa.ova
expect_grep "not trusted" "$T_TMP/err" "and says 'not trusted'"
expect_exit 1 "a self-signed certificate fails against the system store" -- "$OVFDEPLOY" verify s-rsa.ova
expect_exit 0 "pack signed with an expired certificate" -- "$OVFDEPLOY" pack --sign old.key --cert old.pem src -o old.ova
expect_exit 1 "an expired certificate fails" -- "$OVFDEPLOY" verify --ca-file ca.pem old.ova
expect_grep "expired on 2021-01-01" "$T_TMP/err" "and says when it expired"
cp -r o-rsa wrongkey; ( cd wrongkey && printf 'SHA256(app.mf)= %s\n' "$($O dgst -sha256 -sign ../ec.key app.mf | od -An -v -tx1 | tr -d ' \n')" > app.cert && cat ../rsa.pem >> app.cert )
expect_exit 1 "a signature by another key fails" -- "$OVFDEPLOY" verify --ca-file ca.pem wrongkey
expect_grep "does not match the manifest" "$T_TMP/err" "and says the signature does not match"
# A blank line keeps every digest right but changes the signed bytes.
cp -r s-rsa tampered; echo >> tampered/app.mf
expect_exit 1 "a manifest changed after signing fails" -- "$OVFDEPLOY" verify --ca-file ca.pem tampered
expect_grep "does not match the manifest" "$T_TMP/err" "and blames the signature"
expect_exit 1 "--require-signature fails an unsigned package" -- "$OVFDEPLOY" verify --require-signature app.ova
expect_grep "not signed" "$T_TMP/err" "and says it is not signed"
expect_exit 0 "without it, unsigned is fine" -- "$OVFDEPLOY" verify app.ova
expect_exit 1 "unpack refuses an untrusted signature" -- "$OVFDEPLOY" unpack --ca-file other-ca.pem s-rsa.ova bad-out
[ ! -e bad-out ] && ! ls -a | grep -q '^\.bad-out' && ok "and leaves nothing behind" || fail "unpack left files behind"
expect_exit 2 "--sign with a certificate of another key is refused" -- "$OVFDEPLOY" pack --sign ec.key --cert rsa.pem src -o x.ova
[ ! -e x.ova ] && ok "and writes nothing" || fail "x.ova written"
done_testing
