/* vmdk_layout.c - the sparse extent header in its on-disk form, and the
 * zero test the extent writers share: the bottom of the VMDK driver, below
 * both vmdk_sparse.c and vmdk_stream.c, calling neither (vmdk_priv.h). */
#include "config.h"
#include "disk/vmdk_priv.h"

#include <string.h>

void vmdk_header_decode(const unsigned char *b, struct vmdk_header *h)
{
	h->magic = vmdk_le32(b);
	h->version = vmdk_le32(b + 4);
	h->flags = vmdk_le32(b + 8);
	h->capacity = vmdk_le64(b + 12);
	h->grain = vmdk_le64(b + 20);
	h->desc_off = vmdk_le64(b + 28);
	h->desc_size = vmdk_le64(b + 36);
	h->num_gtes = vmdk_le32(b + 44);
	h->rgd_off = vmdk_le64(b + 48);
	h->gd_off = vmdk_le64(b + 56);
	h->overhead = vmdk_le64(b + 64);
	h->unclean = b[72];
	h->compress = (uint16_t)(b[77] | b[78] << 8);
}

void vmdk_header_encode(const struct vmdk_header *h, unsigned char *b)
{
	memset(b, 0, VMDK_SECTOR);
	vmdk_put32(b, VMDK_MAGIC);
	vmdk_put32(b + 4, h->version);
	vmdk_put32(b + 8, h->flags);
	vmdk_put64(b + 12, h->capacity);
	vmdk_put64(b + 20, h->grain);
	vmdk_put64(b + 28, h->desc_off);
	vmdk_put64(b + 36, h->desc_size);
	vmdk_put32(b + 44, h->num_gtes);
	vmdk_put64(b + 48, h->rgd_off);
	vmdk_put64(b + 56, h->gd_off);
	vmdk_put64(b + 64, h->overhead);
	b[72] = h->unclean;
	/* The four newline-detection characters: a file that went through a
	 * text-mode transfer is caught by comparing them. */
	b[73] = '\n', b[74] = ' ', b[75] = '\r', b[76] = '\n';
	b[77] = (unsigned char)h->compress, b[78] = (unsigned char)(h->compress >> 8);
}

bool vmdk_is_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		uint64_t a, b, x, y;
		memcpy(&a, c + i, 8), memcpy(&b, c + i + 8, 8), memcpy(&x, c + i + 16, 8), memcpy(&y, c + i + 24, 8);
		if (a | b | x | y)
			return false;
	}
	for (; i < n; i++)
		if (c[i])
			return false;
	return true;
}
