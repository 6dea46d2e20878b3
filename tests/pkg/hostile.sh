#!/bin/sh
# hostile.sh - packages built to hurt: each gives a clear error (exit 1),
# and unpack writes nothing, neither at the destination nor outside it.
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/pkg/pkglib.sh"
need openssl tar python3 gzip
mkdir "$T_TMP/w" && cd "$T_TMP/w" || exit 1

make_appliance src app disk1.vmdk:300000:1
# A second appliance whose file is gzip and whose disk is 1 MiB: a 200 MiB
# stream of zeros is a bomb for it.
make_appliance bomb app disk1.vmdk:10:1
python3 - <<'PY'
import gzip, zlib
# 200 MiB of zeros, deflated piece by piece to keep memory small.
c = zlib.compressobj(9, zlib.DEFLATED, 31)
out = bytearray()
blk = bytes(1 << 20)
for _ in range(200):
    out += c.compress(blk)
out += c.flush()
open('bomb/disk1.vmdk', 'wb').write(out)
PY
sz=$(stat -c %s bomb/disk1.vmdk)
sed -i "s/ovf:size=\"10\"/ovf:size=\"$sz\" ovf:compression=\"gzip\"/" bomb/app.ovf
( cd bomb && printf 'SHA256(app.ovf)= %s\nSHA256(disk1.vmdk)= %s\n' "$(openssl dgst -sha256 -r app.ovf | cut -d' ' -f1)" "$(openssl dgst -sha256 -r disk1.vmdk | cut -d' ' -f1)" > app.mf )

# Build the hostile tars.  Each case: name, members as (name, type, data).
python3 - <<'PY'
import tarfile, io, os
def rd(p): return open(p, 'rb').read()
ovf, mf, disk = rd('src/app.ovf'), rd('src/app.mf'), rd('src/disk1.vmdk')
def mk(out, members, fmt=tarfile.USTAR_FORMAT):
    with tarfile.open(out, 'w', format=fmt) as t:
        for name, typ, data in members:
            ti = tarfile.TarInfo(name)
            ti.type = typ
            if typ == tarfile.REGTYPE:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            else:
                if typ in (tarfile.SYMTYPE, tarfile.LNKTYPE): ti.linkname = 'app.ovf'
                t.addfile(ti)
R = tarfile.REGTYPE
base = [('app.ovf', R, ovf), ('app.mf', R, mf)]
mk('absolute.ova', base + [('/tmp/ovfdeploy-evil', R, b'x'), ('disk1.vmdk', R, disk)])
mk('dotdot.ova', base + [('../evil', R, b'x'), ('disk1.vmdk', R, disk)])
mk('dotdot2.ova', base + [('a/../../evil', R, b'x'), ('disk1.vmdk', R, disk)])
mk('symlink.ova', base + [('disk1.vmdk', tarfile.SYMTYPE, b'')])
mk('hardlink.ova', base + [('disk1.vmdk', tarfile.LNKTYPE, b'')])
mk('chardev.ova', base + [('disk1.vmdk', tarfile.CHRTYPE, b'')])
mk('blockdev.ova', base + [('disk1.vmdk', tarfile.BLKTYPE, b'')])
mk('fifo.ova', base + [('disk1.vmdk', tarfile.FIFOTYPE, b'')])
mk('duplicate.ova', base + [('disk1.vmdk', R, disk), ('disk1.vmdk', R, b'other')])
mk('longname.ova', base + [('d' * 300, R, b'x'), ('disk1.vmdk', R, disk)], tarfile.GNU_FORMAT)
mk('notfirst.ova', [('app.mf', R, mf), ('app.ovf', R, ovf), ('disk1.vmdk', R, disk)])
mk('extra.ova', base + [('disk1.vmdk', R, disk), ('readme.txt', R, b'hello')])
mk('wrongdigest.ova', base + [('disk1.vmdk', R, disk[:-1] + bytes([disk[-1] ^ 1]))])
mk('shortmember.ova', base + [('disk1.vmdk', R, disk[:-1])])
mk('nomember.ova', base)
ghost = mf + b'SHA256(ghost.vmdk)= ' + b'0' * 64 + b'\n'
mk('mflists.ova', [('app.ovf', R, ovf), ('app.mf', R, ghost), ('disk1.vmdk', R, disk)])
omit = b''.join(l + b'\n' for l in mf.splitlines() if b'disk1' not in l)
mk('mfomits.ova', [('app.ovf', R, ovf), ('app.mf', R, omit), ('disk1.vmdk', R, disk)])
big = ovf.replace(b'ovf:size="300000"', b'ovf:size="1099511627776"')
import hashlib
bigmf = ('SHA256(app.ovf)= %s\n' % hashlib.sha256(big).hexdigest()).encode() + mf.splitlines(True)[1]
mk('declared.ova', [('app.ovf', R, big), ('app.mf', R, bigmf), ('disk1.vmdk', R, disk)])
b = 'bomb/'
mk('bomb.ova', [('app.ovf', R, rd(b + 'app.ovf')), ('app.mf', R, rd(b + 'app.mf')), ('disk1.vmdk', R, rd(b + 'disk1.vmdk'))])
# A header that claims a member of 2^40 bytes in a small file (base-256).
good = open('good.ova', 'wb')
mk('good.ova', base + [('disk1.vmdk', R, disk)])
PY
expect_exit 0 "the unmodified package verifies" -- "$OVFDEPLOY" verify good.ova
head -c 200000 good.ova > truncated.ova
python3 - <<'PY'
# Claim 2^40 bytes in disk1.vmdk's header (GNU base-256), fixing the checksum.
d = bytearray(open('good.ova', 'rb').read())
i = d.find(b'disk1.vmdk\0')
h = d[i:i + 512]
h[124:136] = b'\x80' + (1 << 40).to_bytes(11, 'big')
h[148:156] = b' ' * 8
h[148:156] = b'%06o\0 ' % sum(h)
d[i:i + 512] = h
open('hugeheader.ova', 'wb').write(d)
PY
head -c 100000 /dev/urandom > random.ova

# case FILE EXIT PATTERN DESCRIPTION
case_() {
	expect_exit "$2" "$4" -- "$OVFDEPLOY" verify "$1"
	expect_grep "$3" "$T_TMP/err" "$4: the message says '$3'"
	if [ "$2" != 0 ]; then
		rm -rf dest
		"$OVFDEPLOY" unpack "$1" dest >/dev/null 2>&1
		rc=$?
		if [ $rc -ne 0 ] && [ ! -e dest ] && [ -z "$(ls -a | grep '^\.dest')" ] && [ ! -e ../evil ] && [ ! -e evil ] && [ ! -e /tmp/ovfdeploy-evil ]; then
			ok "$4: unpack fails and writes nothing"
		else fail "$4: unpack exit $rc, left: $(ls -a | grep dest) $(ls ../evil /tmp/ovfdeploy-evil 2>/dev/null)"; fi
	fi
}
expect_exit 1 "--json verdict for a package that cannot be opened" -- "$OVFDEPLOY" --json verify dotdot.ova
python3 -c "import json,sys; d=json.load(open('$T_TMP/out')); sys.exit(not(d['ok'] is False and '..' in d['error']))" \
	&& ok "and it names the problem" || fail "--json for an unopenable package: $(cat "$T_TMP/out")"
case_ absolute.ova 1 "absolute name" "absolute member name"
case_ dotdot.ova 1 "'\.\.' component" "'..' member name"
case_ dotdot2.ova 1 "'\.\.' component" "'a/../../' member name"
case_ symlink.ova 1 "symbolic link" "symlink member"
case_ hardlink.ova 1 "hard link" "hard link member"
case_ chardev.ova 1 "character device" "character device member"
case_ blockdev.ova 1 "block device" "block device member"
case_ fifo.ova 1 "FIFO" "FIFO member"
case_ duplicate.ova 1 "appears twice" "duplicate member names"
case_ longname.ova 1 "longer than ustar allows" "a 300-byte member name"
case_ truncated.ova 1 "truncated tar" "a truncated tar"
case_ hugeheader.ova 1 "truncated tar" "a header claiming 1 TiB in a small file"
case_ random.ova 1 "not a tar archive \(OVA packages are tar files\)" "random bytes"
case_ shortmember.ova 1 "ovf:size says 300000" "member size disagrees with ovf:size"
case_ declared.ova 1 "ovf:size says 1099511627776" "declared size far beyond the file"
case_ nomember.ova 1 "missing" "References file absent from the package"
case_ mflists.ova 1 "missing +ghost.vmdk" "manifest lists a file the package lacks"
case_ mfomits.ova 1 "unlisted +disk1.vmdk" "manifest omits a file"
case_ wrongdigest.ova 1 "mismatch +disk1.vmdk" "wrong digest"
case_ bomb.ova 1 "gzip bomb" "gzip bomb"
case_ notfirst.ova 0 "not the first member" "descriptor not first (a warning)"
case_ extra.ova 0 "'readme.txt' is not in the descriptor's References" "member not in References (a warning)"
expect_exit 0 "unpack skips the unreferenced member" -- "$OVFDEPLOY" unpack extra.ova ex
[ ! -e ex/readme.txt ] && [ -f ex/disk1.vmdk ] && ok "only referenced files extracted" || fail "unreferenced member extracted"

# Free space is checked before anything is written: a 256 KiB file system
# (a tmpfs in a private mount namespace) cannot take a 300000-byte disk.
if unshare -rm true 2>/dev/null; then
	mkdir small
	unshare -rm sh -c 'mount -t tmpfs -o size=256k tmpfs small && "$1" unpack good.ova small/dest; echo "rc=$?"; ls -A small' sh "$OVFDEPLOY" >small.out 2>&1
	if grep -q "rc=3" small.out && grep -q "are free there" small.out && ! grep -q "dest" small.out; then
		ok "unpack refuses a file system without room, before writing"
	else fail "free-space check: $(cat small.out)"; fi
else
	echo "# no unshare -rm here: free-space check not exercised"
fi

# Chunks that do not match ovf:chunkSize, and gzip data that is corrupt.
"$OVFDEPLOY" pack --chunk-size 128K src -o chunked.ova >/dev/null 2>&1
mkdir ch && (cd ch && tar xf ../chunked.ova) && head -c 1000 ch/disk1.vmdk.000000000 > ch/x && mv ch/x ch/disk1.vmdk.000000000 && fix_manifest ch app
expect_exit 1 "a chunk shorter than ovf:chunkSize" -- "$OVFDEPLOY" verify ch
expect_grep "chunkSize is 131072" "$T_TMP/err" "and the message names the chunk size"
"$OVFDEPLOY" pack --compress src -o gz.ova >/dev/null 2>&1
mkdir gz && (cd gz && tar xf ../gz.ova) && python3 -c "
d = bytearray(open('gz/disk1.vmdk', 'rb').read()); d[len(d) // 2] ^= 0xff; d[len(d) // 2 + 1] ^= 0xff
open('gz/disk1.vmdk', 'wb').write(d)" && fix_manifest gz app
expect_exit 1 "corrupt gzip data (digests fixed up)" -- "$OVFDEPLOY" verify gz
expect_grep "gzip" "$T_TMP/err" "and the message says gzip"

# Directory packages: a declared size far beyond the file, a missing file.
cp -r src d1 && sed -i 's/ovf:size="300000"/ovf:size="300001"/' d1/app.ovf && fix_manifest d1 app
expect_exit 1 "directory: file shorter than ovf:size" -- "$OVFDEPLOY" verify d1
cp -r src d2 && rm d2/disk1.vmdk
expect_exit 1 "directory: referenced file missing" -- "$OVFDEPLOY" verify d2
expect_grep "missing" "$T_TMP/err" "and it is reported missing"
cp -r src d4 && echo extra > d4/notes.txt && (cd d4 && printf 'SHA256(notes.txt)= %s\n' "$(openssl dgst -sha256 -r notes.txt | cut -d' ' -f1)" >> app.mf)
expect_exit 1 "directory: manifest lists a file References does not" -- "$OVFDEPLOY" verify d4
expect_grep "^extra +notes.txt" "$T_TMP/err" "and it is reported as extra"
mkdir d5 && sed 's|ovf:href="disk1.vmdk"|ovf:href="../disk1.vmdk"|' src/app.ovf > d5/app.ovf
expect_exit 1 "directory: an href with '..' is refused" -- "$OVFDEPLOY" verify d5
expect_exit 1 "and pack refuses it too" -- "$OVFDEPLOY" pack d5 -o d5.ova
expect_exit 1 "pack refuses a directory whose file disagrees with ovf:size" -- "$OVFDEPLOY" pack d1 -o d1.ova
[ ! -e d1.ova ] && ok "and writes nothing" || fail "d1.ova written"
cp -r src d3 && echo x >> d3/disk1.vmdk && sed -i 's/ovf:size="300000"/ovf:size="300002"/' d3/app.ovf
expect_exit 1 "pack refuses files that do not match the source manifest" -- "$OVFDEPLOY" pack d3 -o d3.ova
[ ! -e d3.ova ] && [ -z "$(ls -a | grep '^\.d3\.ova')" ] && ok "and leaves no temporary file" || fail "d3.ova or its temp left"
done_testing
