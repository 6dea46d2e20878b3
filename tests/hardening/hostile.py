#!/usr/bin/env python3
"""hostile.py DIR TINY_OVF - write inputs built to exhaust memory or time.

Descriptors (XML bombs), packages (gzip bomb, tar headers with huge sizes,
many members) and disk images (qcow2 and VMDK headers whose tables or
capacity are in the billions, backing loops).  Disk images start from a
valid image made by qemu-img and have single fields patched, so each one
tests one limit.  Sizes stay small on disk: the hostility is in what the
headers claim.  tests/hardening/limits.sh runs every reader over them.
"""
import hashlib
import io
import os
import struct
import subprocess
import sys
import tarfile
import zlib

out, tiny_ovf = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def path(name):
    return os.path.join(out, name)


def write(name, data):
    with open(path(name), 'wb') as f:
        f.write(data)


ENV_OPEN = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" '
            b'xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">\n')

# ---- descriptors ---------------------------------------------------------
laughs = [b'<!ENTITY lol "lol">']
for i in range(1, 10):
    prev = b'&lol%d;' % (i - 1) if i > 1 else b'&lol;'
    laughs.append(b'<!ENTITY lol%d "%s">' % (i, prev * 10))
write('laughs.ovf', b'<?xml version="1.0"?>\n<!DOCTYPE Envelope [' + b''.join(laughs) + b']>\n' +
      ENV_OPEN[ENV_OPEN.index(b'<Envelope'):] + b'<Annotation>&lol9;</Annotation></Envelope>\n')
# 200000 levels of nesting (libxml2 alone stops at 256 unless XML_PARSE_HUGE).
depth = 200000
write('deep.ovf', ENV_OPEN + b'<a>' * depth + b'</a>' * depth + b'</Envelope>\n')
# A 15 MiB attribute value and a 15 MiB text node, just under the 16 MiB cap.
write('hugeattr.ovf', ENV_OPEN + b'<References><File ovf:id="' + b'x' * (15 << 20) +
      b'" ovf:href="d"/></References></Envelope>\n')
# Two million empty elements: 16 MiB of text, hundreds of MiB as a tree.
write('manynodes.ovf', ENV_OPEN + b'<References>' + b'<a/>' * (((16 << 20) - 400) // 4) +
      b'</References></Envelope>\n')
# Half a million disks: each becomes an entry in every later table.
disks = b''.join(b'<Disk ovf:diskId="d%d" ovf:capacity="1"/>' % i for i in range(300000))
write('manydisks.ovf', ENV_OPEN + b'<DiskSection><Info>x</Info>' + disks +
      b'</DiskSection><VirtualSystem ovf:id="v"><Info>x</Info></VirtualSystem></Envelope>\n')
# 200000 attributes with namespace declarations on one element.
attrs = b''.join(b' xmlns:n%d="urn:x%d" n%d:a="1"' % (i, i, i) for i in range(200000))
write('manyattrs.ovf', ENV_OPEN + b'<Annotation' + attrs + b'/></Envelope>\n')
# Capacities and counts at the edge of 64 bits.
tiny = open(tiny_ovf, 'rb').read()
write('bigcap.ovf', tiny.replace(b'ovf:capacity="64"', b'ovf:capacity="18446744073709551615"')
      .replace(b'capacityAllocationUnits="byte * 2^20"', b'capacityAllocationUnits="byte * 2^40"'))
write('bigcpu.ovf', tiny.replace(b'<rasd:VirtualQuantity>1</rasd:VirtualQuantity>',
                                 b'<rasd:VirtualQuantity>18446744073709551615</rasd:VirtualQuantity>'))


# ---- packages --------------------------------------------------------------
def ova(name, members, fmt=tarfile.USTAR_FORMAT):
    with tarfile.open(path(name), 'w', format=fmt) as t:
        for mname, data in members:
            ti = tarfile.TarInfo(mname)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))


def manifest(files):
    return b''.join(b'SHA256(%s)= %s\n' % (n.encode(), hashlib.sha256(d).hexdigest().encode()) for n, d in files)


def appliance(desc_name, desc, files):
    """An OVA with a manifest that matches: only the contents are hostile."""
    allf = [(desc_name, desc)] + files
    return [(desc_name, desc), (desc_name[:-4] + '.mf', manifest(allf))] + files


for x in ('deep', 'manynodes', 'hugeattr', 'laughs'):
    d = open(path(x + '.ovf'), 'rb').read()
    ova(x + '.ova', appliance('app.ovf', d, []))

# A gzip bomb: 1 GiB of zeros (1 MiB compressed) as a 1 MiB-capacity disk.
# Deflating 1 GiB takes half a minute; after a full flush the compressor
# emits the same bytes for every further MiB of zeros, so one unit is
# repeated instead, closed by an empty final block and the gzip trailer.
blk = bytes(1 << 20)
c = zlib.compressobj(9, zlib.DEFLATED, -15)
first = c.compress(blk) + c.flush(zlib.Z_FULL_FLUSH)
unit = c.compress(blk) + c.flush(zlib.Z_FULL_FLUSH)
assert unit == c.compress(blk) + c.flush(zlib.Z_FULL_FLUSH)
crc = 0
for _ in range(1024):
    crc = zlib.crc32(blk, crc)
bomb = (b'\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff' + first + unit * 1023 + b'\x03\x00' +
        struct.pack('<II', crc, (1 << 30) & 0xffffffff))
desc = tiny.replace(b'ovf:href="tiny-disk1.vmdk"',
                    b'ovf:href="tiny-disk1.vmdk" ovf:compression="gzip"')
desc = desc.replace(b'ovf:capacity="64"', b'ovf:capacity="1"')
import re
desc = re.sub(rb'(ovf:href="tiny-disk1.vmdk"[^>]*?)ovf:size="\d+"', rb'\1ovf:size="%d"' % len(bomb), desc)
if b'ovf:size="%d"' % len(bomb) not in desc:
    desc = desc.replace(b'ovf:href="tiny-disk1.vmdk"', b'ovf:href="tiny-disk1.vmdk" ovf:size="%d"' % len(bomb))
ova('gzbomb.ova', appliance('tiny.ovf', desc, [('tiny-disk1.vmdk', bomb)]))

# 20000 members (20 MB of headers), one 1-byte file each.
many = [('m%05d' % i, b'x') for i in range(20000)]
ova('manymembers.ova', appliance('app.ovf', open(path('bigcap.ovf'), 'rb').read(), []) + many)


def huge_size(name, member, size):
    """Patch `member`'s tar header to claim `size` bytes (GNU base-256)."""
    d = bytearray(open(path(name), 'rb').read())
    i = d.find(member.encode() + b'\0')
    h = d[i:i + 512]
    h[124:136] = b'\x80' + size.to_bytes(11, 'big')
    h[148:156] = b' ' * 8
    h[148:156] = b'%06o\0 ' % sum(h)
    d[i:i + 512] = h
    return bytes(d)


write('hugemember.ova', huge_size('deep.ova', 'app.mf', (1 << 62) + 12345))
write('hugedesc.ova', huge_size('deep.ova', 'app.ovf', 1 << 40))
# A pax header claiming a 1 GiB record.
ti = tarfile.TarInfo('././@PaxHeader')
ti.type = tarfile.XHDTYPE
ti.size = 1 << 30
hdr = ti.tobuf(tarfile.USTAR_FORMAT)
write('paxhuge.ova', hdr + b'999999999 path=' + b'a' * 4000)


# ---- disk images -------------------------------------------------------------
def qemu_img(*args):
    subprocess.run(['qemu-img'] + list(args), check=True, stdout=subprocess.DEVNULL)


def patch(src, dst, edits):
    d = bytearray(open(path(src), 'rb').read())
    for off, fmt, val in edits:
        struct.pack_into(fmt, d, off, val)
    write(dst, bytes(d))


qemu_img('create', '-q', '-f', 'qcow2', path('base.qcow2'), '64M')
qemu_img('create', '-q', '-f', 'qcow2', '-o', 'compat=0.10', path('base10.qcow2'), '64M')
qemu_io = ['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x5a 0 1M', path('base.qcow2')]
subprocess.run(qemu_io, check=True, stdout=subprocess.DEVNULL)
# qcow2 header: size @24 (be64), l1_size @36 (be32), refcount_table_clusters @56 (be32),
# nb_snapshots @60 (be32), snapshots_offset @64 (be64), refcount_order @96.
patch('base.qcow2', 'l1big.qcow2', [(36, '>I', 3000000000), (24, '>Q', 1 << 62)])
patch('base.qcow2', 'l1max.qcow2', [(36, '>I', 0x7fffffff), (24, '>Q', 1 << 62)])
patch('base.qcow2', 'rtbig.qcow2', [(56, '>I', 0x40000000)])
patch('base.qcow2', 'rtmax.qcow2', [(56, '>I', 0xffffffff)])
patch('base.qcow2', 'snapbig.qcow2', [(60, '>I', 0xffffffff), (64, '>Q', 0x30000)])
patch('base.qcow2', 'cap63.qcow2', [(24, '>Q', 1 << 63)])
patch('base.qcow2', 'capmax.qcow2', [(24, '>Q', (1 << 64) - 512)])
patch('base.qcow2', 'hdrlen.qcow2', [(100, '>I', 0xfffffff0)])
patch('base.qcow2', 'clusterbits.qcow2', [(20, '>I', 63)])
# A 2^55-byte disk with a matching (sparse) L1: legitimate metadata, and 2^62
# bytes of zeros for convert/compare to walk.
qemu_img('create', '-q', '-f', 'qcow2', '-o', 'cluster_size=2M', path('vast.qcow2'), '%d' % (1 << 55))
# Backing loops: a -> b -> a, and an image that is its own backing file.
qemu_img('create', '-q', '-f', 'qcow2', path('loop-b.qcow2'), '1M')
qemu_img('create', '-q', '-f', 'qcow2', '-b', 'loop-b.qcow2', '-F', 'qcow2', path('loop-a.qcow2'), '1M')
qemu_img('rebase', '-u', '-f', 'qcow2', '-b', 'loop-a.qcow2', '-F', 'qcow2', path('loop-b.qcow2'))
qemu_img('create', '-q', '-f', 'qcow2', path('self.qcow2'), '1M')
qemu_img('rebase', '-u', '-f', 'qcow2', '-b', 'self.qcow2', '-F', 'qcow2', path('self.qcow2'))
# A chain 300 images deep: one overlay made by qemu-img, copied with the
# backing name patched (same length), as qemu-img takes a quarter second each.
qemu_img('create', '-q', '-f', 'qcow2', path('chain000.qcow2'), '1M')
qemu_img('create', '-q', '-f', 'qcow2', '-u', '-b', 'chain000.qcow2', '-F', 'qcow2', path('link.qcow2'), '1M')
link = open(path('link.qcow2'), 'rb').read()
os.unlink(path('link.qcow2'))
for i in range(1, 300):
    write('chain%03d.qcow2' % i, link.replace(b'chain000.qcow2', b'chain%03d.qcow2' % (i - 1)))
os.rename(path('chain299.qcow2'), path('chain.qcow2'))

# VMDK monolithicSparse: capacity @12 (le64 sectors), grainSize @20,
# descriptorOffset @28, descriptorSize @36, numGTEsPerGT @44, gdOffset @56.
qemu_img('create', '-q', '-f', 'vmdk', path('base.vmdk'), '64M')
patch('base.vmdk', 'gdhuge.vmdk', [(12, '<Q', 1 << 50)])
# Under the 1 PiB capacity cap, but a 128 MiB grain directory.
patch('base.vmdk', 'gdbig.vmdk', [(12, '<Q', 1 << 41)])
patch('base.vmdk', 'gdtiny.vmdk', [(12, '<Q', 1 << 40), (44, '<I', 1), (20, '<Q', 1)])
patch('base.vmdk', 'vcap63.vmdk', [(12, '<Q', 1 << 54)])
patch('base.vmdk', 'vcapmax.vmdk', [(12, '<Q', (1 << 64) - 1)])
patch('base.vmdk', 'gtehuge.vmdk', [(44, '<I', 0xffffffff)])
patch('base.vmdk', 'grainhuge.vmdk', [(20, '<Q', 1 << 62)])
patch('base.vmdk', 'deschuge.vmdk', [(36, '<Q', 1 << 60)])
# A descriptor file with an extent of 2^63 sectors, and one with 100000 extents.
write('extbig.vmdk', b'# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n'
      b'createType="monolithicFlat"\nRW 9223372036854775807 FLAT "flat.bin" 0\n')
write('flat.bin', bytes(4096))
write('extmany.vmdk', b'# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n'
      b'createType="monolithicFlat"\n' + b'RW 8 FLAT "flat.bin" 0\n' * 100000)
