/* fw_cfg.c - QEMU's firmware configuration device, which SeaBIOS uses to
 * learn about the machine (CPU count, e820 map, boot order, its serial
 * console, later the ACPI tables).
 *
 * Interface (x86): port 0x510 selects an item (16-bit write), port 0x511
 * reads it a byte at a time from offset 0.  Ports 0x514-0x51b are the DMA
 * interface: the guest writes the big-endian guest-physical address of a
 * 16-byte control block {be32 control, be32 length, be64 address}, high
 * half at 0x514 and low half at 0x518; the write of the low half runs the
 * transfer synchronously and the device writes the control word back (0,
 * or the error bit).  Reads of 0x514.. return the signature "QEMU CFG".
 *
 * Everything the DMA block says is guest-controlled: the block and the
 * buffer are translated through vm_gpa_to_hva() and a failed translation
 * sets the error bit; nothing is allocated from a guest length. */
#include "config.h"
#include "runner/vmm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DMA 0x514
#define FW_CFG_WRITE_FLAG 0x4000

#define DMA_ERROR 0x01
#define DMA_READ 0x02
#define DMA_SKIP 0x04
#define DMA_SELECT 0x08
#define DMA_WRITE 0x10

#define MAX_ITEMS (FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES)
#define FILE_NAME_MAX 56

struct fw_item {
	uint16_t key;
	uint8_t *data;
	uint32_t len;
	char name[FILE_NAME_MAX]; /* files only */
};

struct fw_cfg {
	struct vm *vm;
	struct fw_item items[MAX_ITEMS];
	unsigned nitems, nfiles;
	uint16_t cur_key;
	struct fw_item *cur; /* NULL: no such item, reads return 0 */
	uint32_t offset;
	uint32_t dma_hi;
};

static struct fw_item *find(struct fw_cfg *f, uint16_t key)
{
	for (unsigned i = 0; i < f->nitems; i++)
		if (f->items[i].key == key)
			return &f->items[i];
	return NULL;
}

static int set_item(struct fw_cfg *f, uint16_t key, const void *data, size_t len, const char *name, od_err *e)
{
	if (len > (64u << 20))
		return od_err_set(e, OD_E_INTERNAL, "fw_cfg item 0x%x: %zu bytes is too large", key, len);
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return od_err_nomem(e);
	if (len)
		memcpy(copy, data, len);
	struct fw_item *it = find(f, key);
	if (!it) {
		if (f->nitems == MAX_ITEMS) {
			free(copy);
			return od_err_set(e, OD_E_INTERNAL, "fw_cfg: too many items");
		}
		it = &f->items[f->nitems++];
		it->key = key;
	}
	free(it->data);
	it->data = copy;
	it->len = (uint32_t)len;
	if (name)
		snprintf(it->name, sizeof it->name, "%s", name);
	return 0;
}

int fw_cfg_add_item(struct fw_cfg *f, uint16_t key, const void *data, size_t len, od_err *e)
{
	return set_item(f, key, data, len, NULL, e);
}

int fw_cfg_add_u16(struct fw_cfg *f, uint16_t key, uint16_t v, od_err *e)
{
	uint8_t b[2] = { v & 0xff, v >> 8 };
	return set_item(f, key, b, 2, NULL, e);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* FILE_DIR: be32 count, then per file {be32 size, be16 key, be16 0,
 * char name[56]}, sorted by name as QEMU does (SeaBIOS does not care, but
 * a stable order makes the item numbers predictable). */
static int rebuild_dir(struct fw_cfg *f, od_err *e)
{
	uint8_t dir[4 + FW_CFG_MAX_FILES * 64];
	memset(dir, 0, sizeof dir);
	put_be32(dir, f->nfiles);
	unsigned n = 0;
	for (unsigned i = 0; i < f->nitems; i++) {
		const struct fw_item *it = &f->items[i];
		if (it->key < FW_CFG_FILE_FIRST || it->key >= FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES)
			continue;
		uint8_t *p = dir + 4 + 64 * (it->key - FW_CFG_FILE_FIRST);
		put_be32(p, it->len);
		p[4] = it->key >> 8;
		p[5] = it->key & 0xff;
		memcpy(p + 8, it->name, FILE_NAME_MAX);
		n++;
	}
	return set_item(f, FW_CFG_FILE_DIR, dir, 4 + 64 * n, NULL, e);
}

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, size_t len, od_err *e)
{
	if (strlen(name) >= FILE_NAME_MAX)
		return od_err_set(e, OD_E_INTERNAL, "fw_cfg file name too long: %s", name);
	for (unsigned i = 0; i < f->nitems; i++)
		if (f->items[i].key >= FW_CFG_FILE_FIRST && strcmp(f->items[i].name, name) == 0)
			return set_item(f, f->items[i].key, data, len, name, e) < 0 ? -1 : rebuild_dir(f, e);
	if (f->nfiles == FW_CFG_MAX_FILES)
		return od_err_set(e, OD_E_INTERNAL, "fw_cfg: too many files");
	if (set_item(f, FW_CFG_FILE_FIRST + f->nfiles, data, len, name, e) < 0)
		return -1;
	f->nfiles++;
	return rebuild_dir(f, e);
}

static void select_key(struct fw_cfg *f, uint16_t key)
{
	f->cur_key = key;
	f->cur = find(f, key & ~FW_CFG_WRITE_FLAG);
	f->offset = 0;
}

static uint8_t read_byte(struct fw_cfg *f)
{
	if (!f->cur || f->offset >= f->cur->len)
		return 0;
	return f->cur->data[f->offset++];
}

/* Run the DMA transfer whose control block is at `gpa`. */
static void dma_run(struct fw_cfg *f, uint64_t gpa)
{
	uint8_t *cb = vm_gpa_to_hva(f->vm, gpa, 16);
	if (!cb)
		return; /* nowhere to report an error: the guest sees no completion */
	uint32_t control = get_be32(cb);
	uint32_t length = get_be32(cb + 4);
	uint64_t addr = (uint64_t)get_be32(cb + 8) << 32 | get_be32(cb + 12);
	uint32_t result = 0;

	if (control & DMA_SELECT)
		select_key(f, control >> 16);
	if (control & DMA_READ) {
		uint8_t *dst = length ? vm_gpa_to_hva(f->vm, addr, length) : NULL;
		if (length && !dst) {
			result = DMA_ERROR;
		} else if (length) {
			uint32_t avail = 0;
			if (f->cur && f->offset < f->cur->len)
				avail = f->cur->len - f->offset;
			uint32_t n = length < avail ? length : avail;
			if (n)
				memcpy(dst, f->cur->data + f->offset, n);
			/* past the end of an item reads as zeros, as with the
			 * port interface */
			memset(dst + n, 0, length - n);
			f->offset += n;
		}
	} else if (control & DMA_SKIP) {
		uint32_t avail = (f->cur && f->offset < f->cur->len) ? f->cur->len - f->offset : 0;
		f->offset += length < avail ? length : avail;
	} else if (control & DMA_WRITE) {
		/* no writable items: the firmware's optional writes fail */
		result = DMA_ERROR;
	}
	put_be32(cb, result);
}

static void fw_cfg_io(void *opaque, uint64_t addr, uint8_t *data, unsigned size, bool is_write)
{
	struct fw_cfg *f = opaque;
	if (addr == FW_CFG_PORT_SEL || addr == FW_CFG_PORT_SEL + 1) {
		if (addr == FW_CFG_PORT_SEL && is_write && size >= 2) {
			select_key(f, (uint16_t)(data[0] | data[1] << 8));
			return;
		}
		if (addr == FW_CFG_PORT_SEL + 1 && !is_write) {
			for (unsigned i = 0; i < size; i++)
				data[i] = read_byte(f);
			return;
		}
		if (!is_write)
			memset(data, 0, size);
		return; /* data writes: items are read-only */
	}
	/* DMA registers, 0x514..0x51b */
	unsigned reg = (unsigned)(addr - FW_CFG_PORT_DMA);
	if (!is_write) {
		static const char sig[8] = { 'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G' };
		for (unsigned i = 0; i < size; i++)
			data[i] = reg + i < 8 ? (uint8_t)sig[reg + i] : 0xff;
		return;
	}
	if (size != 4)
		return;
	if (reg == 0) {
		f->dma_hi = get_be32(data);
	} else if (reg == 4) {
		uint64_t gpa = (uint64_t)f->dma_hi << 32 | get_be32(data);
		f->dma_hi = 0;
		dma_run(f, gpa);
	}
}

struct fw_cfg *fw_cfg_new(struct vm *vm, od_err *e)
{
	struct fw_cfg *f = calloc(1, sizeof *f);
	if (!f) {
		od_err_nomem(e);
		return NULL;
	}
	f->vm = vm;
	uint8_t id[4] = { 0x03, 0, 0, 0 }; /* traditional interface + DMA */
	if (set_item(f, FW_CFG_SIGNATURE, "QEMU", 4, NULL, e) < 0 || set_item(f, FW_CFG_ID, id, 4, NULL, e) < 0 ||
	    rebuild_dir(f, e) < 0)
		goto fail;
	if (vm_io_register(vm, VM_PIO, FW_CFG_PORT_SEL, 2, fw_cfg_io, f, e) < 0)
		goto fail;
	if (vm_io_register(vm, VM_PIO, FW_CFG_PORT_DMA, 8, fw_cfg_io, f, e) < 0) {
		vm_io_unregister(vm, VM_PIO, FW_CFG_PORT_SEL, f);
		goto fail;
	}
	return f;
fail:
	for (unsigned i = 0; i < f->nitems; i++)
		free(f->items[i].data);
	free(f);
	return NULL;
}

void fw_cfg_free(struct fw_cfg *f)
{
	if (!f)
		return;
	vm_io_unregister(f->vm, VM_PIO, FW_CFG_PORT_SEL, f);
	vm_io_unregister(f->vm, VM_PIO, FW_CFG_PORT_DMA, f);
	for (unsigned i = 0; i < f->nitems; i++)
		free(f->items[i].data);
	free(f);
}
