#!/usr/bin/env python3
# extract-vmlinux.py BZIMAGE OUT - write the ELF vmlinux inside a bzImage.
#
# The setup header (boot protocol 2.08+) says where the compressed kernel
# lies: payload_offset and payload_length at 0x248, counted from the start
# of the protected-mode part.  The compressor is known by its magic; zstd
# needs the zstd command, the others are in Python's standard library.
# Exit 0 when OUT is an ELF file, 1 when the image has no payload this
# script can unpack.
import bz2, gzip, lzma, struct, subprocess, sys

img = open(sys.argv[1], 'rb').read()
if len(img) < 0x250 or img[0x202:0x206] != b'HdrS' or struct.unpack_from('<H', img, 0x206)[0] < 0x208:
    sys.exit('%s: no bzImage of boot protocol 2.08 or later' % sys.argv[1])
setup = ((img[0x1f1] or 4) + 1) * 512
off, length = struct.unpack_from('<II', img, 0x248)
payload = img[setup + off:setup + off + length]
if len(payload) != length or length < 16:
    sys.exit('%s: payload of %d bytes at %d lies outside the file' % (sys.argv[1], length, setup + off))
if payload.startswith(b'\xfd7zXZ\0'):
    elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(payload)
elif payload.startswith(b'\x1f\x8b'):
    elf = gzip.decompress(payload)
elif payload.startswith(b'BZh'):
    elf = bz2.decompress(payload)
elif payload.startswith(b'\x5d\0\0'):
    elf = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(payload)
elif payload.startswith(b'\x28\xb5\x2f\xfd'):
    elf = subprocess.run(['zstd', '-dc'], input=payload, stdout=subprocess.PIPE, check=True).stdout
else:
    sys.exit('%s: payload compressed in a way this script does not know (%s)' % (sys.argv[1], payload[:6].hex()))
if not elf.startswith(b'\x7fELF'):
    sys.exit('%s: the payload is no ELF file' % sys.argv[1])
open(sys.argv[2], 'wb').write(elf)
