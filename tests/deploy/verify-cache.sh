#!/bin/sh
# verify-cache.sh - a package that verified is remembered by its identity
# (path, inode, size, mtime, ctime), so deploying it again skips hashing;
# any change to the file, even one that restores its mtime, misses the cache
# and is verified (and refused) in full.
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/deploy/deploylib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
export OVFDEPLOY_HOME="$T_TMP/home"
O=$OVFDEPLOY
cd "$T_TMP"
cache="$OVFDEPLOY_HOME/cache/verified"

make_tiny_app 4M

deploy() { # NAME [options]: deploy tiny.ova, then remove the instance again
	n=$1; shift
	"$O" deploy tiny.ova --accept-eula --name "$n" "$@" >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	"$O" -q rm "$n" 2>/dev/null
	return $rc
}
remembered() { grep -q "remembered" "$T_TMP/err"; }
entry() { ls "$cache" 2>/dev/null | head -1; }

deploy c1 && ! remembered && ok "the first deploy verifies in full" || fail "first deploy: $(cat "$T_TMP/err")"
[ -n "$(entry)" ] && ok "the verdict is remembered" || fail "no cache entry was written"
[ "$(stat -c %a "$cache/$(entry)")" = 600 ] && ok "the entry is private to the user" || fail "entry mode $(stat -c %a "$cache/$(entry)")"
deploy c2 && remembered && ok "the second deploy uses the remembered verdict" || fail "second deploy: $(cat "$T_TMP/err")"
expect_grep "Verified [1-9][0-9]* files .unsigned package. .remembered" "$T_TMP/err" "it says so, with the file count"
deploy c3 --reverify && ! remembered && ok "--reverify verifies in full" || fail "--reverify: $(cat "$T_TMP/err")"

# Tamper with the disk member in place and put the mtime back: the ctime
# still moves, so the cache misses and the full check refuses the package.
touch -r tiny.ova stamp
set -- $(python3 -c "import tarfile; m=tarfile.open('tiny.ova').getmember('tiny-disk1.vmdk'); print(m.offset_data, m.size)")
flip() { python3 -c "
f=open('tiny.ova','r+b'); f.seek($1 + $2 // 2); b=f.read(1); f.seek($1 + $2 // 2); f.write(bytes([b[0] ^ 0xff]))"; }
sleep 0.01
flip "$1" "$2"
touch -r stamp tiny.ova
deploy bad; rc=$?
[ $rc -eq 1 ] && ok "a tampered package with its old mtime is refused" || fail "tampered package: exit $rc, $(cat "$T_TMP/err")"
expect_grep "does not verify" "$T_TMP/err" "the refusal comes from a full verification"
flip "$1" "$2"
deploy c4 && ! remembered && ok "the restored package is verified in full again" || fail "restored: $(cat "$T_TMP/err")"

# A replaced file (same content, new inode) misses too.
cp tiny.ova new.ova && mv new.ova tiny.ova
deploy c5 && ! remembered && ok "a replaced file is verified in full" || fail "replaced: $(cat "$T_TMP/err")"

# Options that change the verdict are part of the key.
expect_exit 1 "--require-signature is not answered by an unsigned verdict" -- \
	"$O" deploy tiny.ova --accept-eula --name c6 --require-signature
"$O" -q rm c6 2>/dev/null

# Stale or unsafe entries are ignored.
rm -rf "$cache"
deploy c6b || fail "deploy c6b: $(cat "$T_TMP/err")"
[ "$(ls "$cache" | wc -l)" -eq 1 ] && ok "one package, one entry" || fail "entries: $(ls "$cache")"
e=$cache/$(entry)
python3 -c "
import sys, time
p = sys.argv[1]
lines = open(p).read().split('\n')
f = lines[1].split()
f[1] = str(int(time.time()) - 8 * 24 * 3600)
lines[1] = ' '.join(f)
open(p, 'w').write('\n'.join(lines))" "$e"
deploy c7 && ! remembered && ok "an entry older than a week is not trusted" || fail "old entry: $(cat "$T_TMP/err")"
chmod 0620 "$cache/$(entry)"
deploy c8 && ! remembered && ok "a group-writable entry is not trusted" || fail "group-writable entry: $(cat "$T_TMP/err")"
printf 'garbage\n' >"$cache/$(entry)"
deploy c9 && ! remembered && ok "a garbled entry is not trusted" || fail "garbled entry: $(cat "$T_TMP/err")"

# A signed package: the entry expires with the certificate.
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 2 -subj "/CN=cache test signer" 2>/dev/null
	rm -rf "$cache"
	if "$O" -q pack app/tiny.ovf --sign k.pem --cert c.pem -o tiny.ova; then
		deploy s1 --ca-file c.pem --require-signature && ! remembered && ok "signed: first deploy verifies" || fail "signed first: $(cat "$T_TMP/err")"
		deploy s2 --ca-file c.pem --require-signature && remembered && ok "signed: second deploy remembers" || fail "signed second: $(cat "$T_TMP/err")"
		expect_grep "signed by .*cache test signer" "$T_TMP/err" "the signer is named from the remembered verdict"
		exp=$(sed -n 2p "$cache/$(entry)" | cut -d' ' -f3)
		now=$(date +%s)
		[ "$exp" -le $((now + 3 * 24 * 3600)) ] && ok "the entry expires with the certificate" || fail "entry expires at $exp"
		touch c.pem
		deploy s3 --ca-file c.pem --require-signature && ! remembered && ok "a changed --ca-file misses the cache" || fail "ca-file change: $(cat "$T_TMP/err")"
	else
		fail "pack --sign"
	fi
fi
done_testing
