/* virtio_blk.c - virtio-blk (virtio 1.x, section 5.2) over the disk
 * library.
 *
 * A request is a chain: a 16-byte header the driver wrote {le32 type, le32
 * reserved, le64 sector}, data buffers, and a last writable byte for the
 * status.  Data moves directly between the disk and the guest's buffers,
 * segment by segment, with no bounce buffer and so no allocation sized by
 * the guest.  Lengths must be whole 512-byte sectors and the range inside
 * the disk (overflow-checked); anything else fails with IOERR.
 *
 * Requests run in the vCPU thread that notified, under the device lock:
 * simple, and enough for firmware and boot loaders; an I/O thread is a
 * later step. */
#include "config.h"
#include "runner/virtio.h"
#include "disk/disk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIRTIO_BLK_F_SEG_MAX (1u << 2)
#define VIRTIO_BLK_F_RO (1u << 5)
#define VIRTIO_BLK_F_BLK_SIZE (1u << 6)
#define VIRTIO_BLK_F_FLUSH (1u << 9)

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define BLK_QUEUE_SIZE 128 /* SeaBIOS refuses larger legacy queues */
#define BLK_CFG_SIZE 24
#define SECTOR 512u

struct virtio_blk {
	struct virtio_dev dev;
	struct blk_backend be;
	bool readonly;
	unsigned index;
	struct virtq_chain chain; /* the request being served (under dev_lock) */
};

struct virtio_dev *virtio_blk_dev(struct virtio_blk *b)
{
	return &b->dev;
}

static void blk_cfg_read(struct virtio_dev *v, unsigned off, uint8_t *data, unsigned size)
{
	struct virtio_blk *b = v->opaque;
	uint8_t cfg[BLK_CFG_SIZE] = { 0 };
	uint64_t sectors = b->be.size / SECTOR;
	uint32_t seg_max = BLK_QUEUE_SIZE - 2, blk_size = SECTOR;
	memcpy(cfg, &sectors, 8);
	memcpy(cfg + 12, &seg_max, 4);
	memcpy(cfg + 20, &blk_size, 4);
	memcpy(data, cfg + off, size); /* the transport checked the range */
}

/* Move `len` bytes between the disk at `disk_off` and the chain's buffers
 * of one kind, starting `skip` bytes into that kind's bytes. */
static bool blk_rw(struct virtio_blk *b, const struct virtq_chain *c, bool to_guest, uint64_t skip, uint64_t len,
		   uint64_t disk_off)
{
	od_err e;
	for (unsigned i = 0; i < c->n && len; i++) {
		const struct virtq_buf *vb = &c->buf[i];
		if (vb->writable != to_guest)
			continue;
		if (skip >= vb->len) {
			skip -= vb->len;
			continue;
		}
		uint64_t n = vb->len - skip;
		if (n > len)
			n = len;
		int r = to_guest ? b->be.pread(b->be.ctx, vb->hva + skip, n, disk_off, &e)
				 : b->be.pwrite(b->be.ctx, vb->hva + skip, n, disk_off, &e);
		if (r < 0)
			return false;
		disk_off += n;
		len -= n;
		skip = 0;
	}
	return len == 0;
}

static bool range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t len)
{
	uint64_t off;
	return len % SECTOR == 0 && od_mul_u64(sector, SECTOR, &off) && od_range_ok(off, len, b->be.size);
}

uint32_t virtio_blk_request(struct virtio_blk *b, const struct virtq_chain *c)
{
	if (c->writable < 1)
		return 0; /* no room for a status: nothing we can report */
	uint64_t status_off = c->writable - 1;
	uint8_t hdr[16];
	uint8_t status = VIRTIO_BLK_S_OK;
	uint64_t written = 0;
	if (!virtq_chain_read(c, 0, hdr, sizeof hdr)) {
		status = VIRTIO_BLK_S_IOERR;
		goto done;
	}
	uint32_t type;
	uint64_t sector;
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	switch (type) {
	case VIRTIO_BLK_T_IN: {
		uint64_t len = status_off;
		if (!range_ok(b, sector, len) || !blk_rw(b, c, true, 0, len, sector * SECTOR))
			status = VIRTIO_BLK_S_IOERR;
		else
			written = len;
		break;
	}
	case VIRTIO_BLK_T_OUT: {
		uint64_t len = c->readable - sizeof hdr;
		if (b->readonly || !range_ok(b, sector, len) || !blk_rw(b, c, false, sizeof hdr, len, sector * SECTOR))
			status = VIRTIO_BLK_S_IOERR;
		break;
	}
	case VIRTIO_BLK_T_FLUSH: {
		od_err e;
		if (b->be.flush && b->be.flush(b->be.ctx, &e) < 0)
			status = VIRTIO_BLK_S_IOERR;
		break;
	}
	case VIRTIO_BLK_T_GET_ID: {
		char id[20] = { 0 };
		snprintf(id, sizeof id, "ovfdeploy-disk%u", b->index);
		uint64_t n = status_off < sizeof id ? status_off : sizeof id;
		virtq_chain_write(c, 0, id, n);
		written = n;
		break;
	}
	default:
		status = VIRTIO_BLK_S_UNSUPP;
	}
done:
	virtq_chain_write(c, status_off, &status, 1);
	return (uint32_t)(written + 1);
}

static void blk_notify(struct virtio_dev *v, unsigned qi)
{
	struct virtio_blk *b = v->opaque;
	struct virtq *q = &v->vq[qi];
	bool pushed = false;
	/* a guest that keeps refilling the ring from another vCPU cannot hold
	 * this one forever */
	for (unsigned n = 0; n < 65536; n++) {
		int r = virtq_pop(v->vm, q, &b->chain, NULL);
		if (r < 0) {
			virtio_needs_reset(v);
			break;
		}
		if (r == 0)
			break;
		virtq_push(q, b->chain.head, virtio_blk_request(b, &b->chain));
		pushed = true;
	}
	if (pushed && virtq_should_notify(q))
		virtio_signal_queue(v, qi);
}

static const struct virtio_ops blk_ops = {
	.cfg_read = blk_cfg_read,
	.notify = blk_notify,
};

struct virtio_blk *virtio_blk_new(struct vm *vm, const struct blk_backend *be, bool readonly, od_err *e)
{
	struct virtio_blk *b = calloc(1, sizeof *b);
	if (!b) {
		od_err_nomem(e);
		return NULL;
	}
	b->be = *be;
	b->readonly = readonly;
	uint64_t f = VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_FLUSH;
	if (readonly)
		f |= VIRTIO_BLK_F_RO;
	if (virtio_pci_init(&b->dev, vm, 2, 1, BLK_QUEUE_SIZE, f, BLK_CFG_SIZE, &blk_ops, b, e) < 0) {
		free(b);
		return NULL;
	}
	return b;
}

void virtio_blk_free(struct virtio_blk *b)
{
	if (!b)
		return;
	virtio_pci_uninit(&b->dev);
	free(b);
}

int virtio_blk_add(struct vm *vm, struct disk *d, bool readonly, od_err *e)
{
	if (vm->nblk == VM_MAX_DISKS)
		return od_err_set(e, OD_E_USAGE, "at most %d disks", VM_MAX_DISKS);
	struct blk_backend be;
	if (blk_disk_backend(vm, d, &be, e) < 0)
		return -1; /* the message names the image */
	struct virtio_blk *b = virtio_blk_new(vm, &be, readonly, e);
	if (!b) {
		od_err_prefix(e, "%s", disk_name(d));
		return -1;
	}
	b->index = vm->nblk;
	vm->blk[vm->nblk++] = b;
	return 0;
}

void virtio_blk_free_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nblk; i++)
		virtio_blk_free(vm->blk[i]);
	vm->nblk = 0;
}
