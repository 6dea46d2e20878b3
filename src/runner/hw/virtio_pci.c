/* virtio_pci.c - the virtio PCI transport, transitional: both the legacy
 * interface (virtio 0.9.5, I/O BAR 0), which old drivers use, and the
 * modern one (virtio 1.x, memory BAR 4 described by vendor capabilities),
 * which SeaBIOS and Linux prefer when they see the capabilities.  Both
 * views share one device state; only the modern view offers
 * VIRTIO_F_VERSION_1 (bit 32, which the legacy 32-bit feature register
 * cannot show).  Interrupts are INTx, level-triggered, acknowledged by
 * reading the ISR.  No MSI-X: its vector registers read "no vector". */
#include "config.h"
#include "runner/virtio.h"

#include <string.h>

/* legacy header (no MSI-X): device config follows at 0x14 */
enum {
	L_HOST_FEATURES = 0x00, L_GUEST_FEATURES = 0x04, L_QUEUE_PFN = 0x08, L_QUEUE_NUM = 0x0c,
	L_QUEUE_SEL = 0x0e, L_QUEUE_NOTIFY = 0x10, L_STATUS = 0x12, L_ISR = 0x13, L_CONFIG = 0x14,
};
/* modern BAR 4 layout */
#define M_COMMON 0x0000
#define M_ISR 0x1000
#define M_DEVICE 0x2000
#define M_NOTIFY 0x3000
#define M_BAR_SIZE 0x4000
#define M_NOTIFY_MUL 4
#define COMMON_SIZE 0x38
#define NO_VECTOR 0xffff

static void st16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void st32(uint8_t *p, uint32_t v) { st16(p, v); st16(p + 2, v >> 16); }
static void st64(uint8_t *p, uint64_t v) { st32(p, (uint32_t)v); st32(p + 4, v >> 32); }
static uint16_t ld16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t ld32(const uint8_t *p) { return ld16(p) | (uint32_t)ld16(p + 2) << 16; }
static uint64_t ld64(const uint8_t *p) { return ld32(p) | (uint64_t)ld32(p + 4) << 32; }

static void update_intx(struct virtio_dev *v)
{
	pci_set_intx(&v->pci, v->isr != 0);
}

void virtio_signal_used(struct virtio_dev *v)
{
	v->isr |= 1;
	update_intx(v);
}

void virtio_needs_reset(struct virtio_dev *v)
{
	v->status |= VIRTIO_STATUS_NEEDS_RESET;
	for (unsigned i = 0; i < v->nqueues; i++)
		v->vq[i].ready = false;
	/* tell a modern driver through a config-change interrupt */
	if (v->status & VIRTIO_STATUS_DRIVER_OK) {
		v->isr |= 2;
		update_intx(v);
	}
}

static void device_reset(struct virtio_dev *v)
{
	v->status = 0;
	v->isr = 0;
	v->driver_features = 0;
	v->dfselect = v->gfselect = 0;
	v->queue_sel = 0;
	for (unsigned i = 0; i < v->nqueues; i++)
		virtq_reset(&v->vq[i]);
	update_intx(v);
	if (v->ops->reset)
		v->ops->reset(v);
}

static void set_status(struct virtio_dev *v, uint8_t s)
{
	if (s == 0) {
		device_reset(v);
		return;
	}
	v->status = s | (v->status & VIRTIO_STATUS_NEEDS_RESET);
}

static void notify(struct virtio_dev *v, unsigned q)
{
	if (q >= v->nqueues || !v->vq[q].ready || (v->status & VIRTIO_STATUS_NEEDS_RESET))
		return;
	v->ops->notify(v, q);
}

static void enable_queue(struct virtio_dev *v, struct virtq *q)
{
	if (virtq_enable(v->vm, q, NULL) < 0)
		virtio_needs_reset(v);
}

static uint8_t read_isr(struct virtio_dev *v)
{
	uint8_t isr = v->isr;
	v->isr = 0; /* reading acknowledges */
	update_intx(v);
	return isr;
}

static void device_cfg(struct virtio_dev *v, unsigned off, uint8_t *data, unsigned size)
{
	memset(data, 0, size);
	if (off < v->cfg_size && size <= v->cfg_size - off)
		v->ops->cfg_read(v, off, data, size);
}

/* ---- legacy I/O BAR ---- */

static void legacy_io(void *opaque, uint64_t off, uint8_t *data, unsigned size, bool is_write)
{
	struct virtio_dev *v = opaque;
	struct virtq *q = v->queue_sel < v->nqueues ? &v->vq[v->queue_sel] : NULL;
	if (off >= L_CONFIG) {
		if (!is_write)
			device_cfg(v, (unsigned)off - L_CONFIG, data, size);
		return;
	}
	uint8_t reg[L_CONFIG];
	memset(reg, 0, sizeof reg);
	if (!is_write) {
		st32(reg + L_HOST_FEATURES, (uint32_t)v->features);
		st32(reg + L_GUEST_FEATURES, (uint32_t)v->driver_features);
		st32(reg + L_QUEUE_PFN, q && q->ready ? (uint32_t)(q->desc_gpa >> 12) : 0);
		st16(reg + L_QUEUE_NUM, q ? q->max_size : 0);
		st16(reg + L_QUEUE_SEL, v->queue_sel);
		reg[L_STATUS] = v->status;
		memset(data, 0, size);
		if (off == L_ISR) {
			data[0] = read_isr(v);
			return;
		}
		if (off + size <= L_CONFIG)
			memcpy(data, reg + off, size);
		return;
	}
	uint32_t val = size >= 4 ? ld32(data) : size == 2 ? ld16(data) : data[0];
	switch (off) {
	case L_GUEST_FEATURES:
		v->driver_features = val & (uint32_t)v->features;
		break;
	case L_QUEUE_PFN:
		if (!q)
			break;
		if (val == 0) {
			virtq_reset(q);
			break;
		}
		/* legacy layout: descriptors, then the avail ring, then the used
		 * ring on the next 4 KiB boundary; the size is ours */
		q->size = q->max_size;
		q->desc_gpa = (uint64_t)val << 12;
		q->avail_gpa = q->desc_gpa + 16ull * q->size;
		q->used_gpa = (q->avail_gpa + 6 + 2ull * q->size + 4095) & ~4095ull;
		enable_queue(v, q);
		break;
	case L_QUEUE_SEL: v->queue_sel = (uint16_t)val; break;
	case L_QUEUE_NOTIFY: notify(v, val & 0xffff); break;
	case L_STATUS: set_status(v, (uint8_t)val); break;
	}
}

/* ---- modern memory BAR ---- */

static void common_snapshot(struct virtio_dev *v, uint8_t *b)
{
	struct virtq *q = v->queue_sel < v->nqueues ? &v->vq[v->queue_sel] : NULL;
	memset(b, 0, COMMON_SIZE);
	st32(b + 0x00, v->dfselect);
	st32(b + 0x04, v->dfselect < 2 ? (uint32_t)(v->features >> (32 * v->dfselect)) : 0);
	st32(b + 0x08, v->gfselect);
	st32(b + 0x0c, v->gfselect < 2 ? (uint32_t)(v->driver_features >> (32 * v->gfselect)) : 0);
	st16(b + 0x10, NO_VECTOR);
	st16(b + 0x12, v->nqueues);
	b[0x14] = v->status;
	b[0x15] = v->generation;
	st16(b + 0x16, v->queue_sel);
	if (q) {
		st16(b + 0x18, q->size);
		st16(b + 0x1a, NO_VECTOR);
		st16(b + 0x1c, q->ready);
		st16(b + 0x1e, v->queue_sel); /* notify offset = queue index */
		st64(b + 0x20, q->desc_gpa);
		st64(b + 0x28, q->avail_gpa);
		st64(b + 0x30, q->used_gpa);
	}
}

static bool touches(unsigned off, unsigned size, unsigned field, unsigned flen)
{
	return off < field + flen && field < off + size;
}

static void common_write(struct virtio_dev *v, unsigned off, const uint8_t *data, unsigned size)
{
	uint8_t b[COMMON_SIZE];
	common_snapshot(v, b);
	memcpy(b + off, data, size);
	struct virtq *q = v->queue_sel < v->nqueues ? &v->vq[v->queue_sel] : NULL;
	if (touches(off, size, 0x00, 4))
		v->dfselect = ld32(b + 0x00);
	if (touches(off, size, 0x08, 4))
		v->gfselect = ld32(b + 0x08);
	if (touches(off, size, 0x0c, 4) && v->gfselect < 2 && !(v->status & VIRTIO_STATUS_FEATURES_OK)) {
		unsigned sh = 32 * v->gfselect;
		uint64_t f = (v->driver_features & ~(0xffffffffull << sh)) | ((uint64_t)ld32(b + 0x0c) << sh);
		v->driver_features = f & v->features;
	}
	if (touches(off, size, 0x14, 1))
		set_status(v, b[0x14]);
	if (touches(off, size, 0x16, 2))
		v->queue_sel = ld16(b + 0x16);
	if (!q || q->ready)
		return; /* queue fields are fixed while the queue runs */
	if (touches(off, size, 0x18, 2)) {
		uint16_t s = ld16(b + 0x18);
		if (od_is_pow2(s) && s <= q->max_size)
			q->size = s;
	}
	if (touches(off, size, 0x20, 8))
		q->desc_gpa = ld64(b + 0x20);
	if (touches(off, size, 0x28, 8))
		q->avail_gpa = ld64(b + 0x28);
	if (touches(off, size, 0x30, 8))
		q->used_gpa = ld64(b + 0x30);
	if (touches(off, size, 0x1c, 2) && ld16(b + 0x1c) == 1)
		enable_queue(v, q);
}

static void modern_io(void *opaque, uint64_t off, uint8_t *data, unsigned size, bool is_write)
{
	struct virtio_dev *v = opaque;
	if (off < M_COMMON + COMMON_SIZE) {
		unsigned o = (unsigned)off;
		if (size > COMMON_SIZE - o)
			size = COMMON_SIZE - o;
		if (is_write) {
			common_write(v, o, data, size);
		} else {
			uint8_t b[COMMON_SIZE];
			common_snapshot(v, b);
			memcpy(data, b + o, size);
		}
		return;
	}
	if (off >= M_ISR && off < M_ISR + 4) {
		if (!is_write) {
			memset(data, 0, size);
			if (off == M_ISR)
				data[0] = read_isr(v);
		}
		return;
	}
	if (off >= M_DEVICE && off < M_DEVICE + 0x1000) {
		if (!is_write)
			device_cfg(v, (unsigned)(off - M_DEVICE), data, size);
		return;
	}
	if (off >= M_NOTIFY && off < M_NOTIFY + 0x1000) {
		if (is_write)
			notify(v, (unsigned)(off - M_NOTIFY) / M_NOTIFY_MUL);
		else
			memset(data, 0, size);
		return;
	}
	if (!is_write)
		memset(data, 0xff, size);
}

static void add_cap(struct pci_dev *d, uint8_t type, uint32_t off, uint32_t len, bool notify_cap)
{
	uint8_t cap[20] = { 0x09, 0, notify_cap ? 20 : 16, type, 4 /* BAR */, 0, 0, 0 };
	st32(cap + 8, off);
	st32(cap + 12, len);
	if (notify_cap)
		st32(cap + 16, M_NOTIFY_MUL);
	pci_add_cap(d, cap, notify_cap ? 20 : 16);
}

int virtio_pci_init(struct virtio_dev *v, struct vm *vm, unsigned type, unsigned nqueues, uint16_t queue_size,
		    uint64_t features, unsigned cfg_size, const struct virtio_ops *ops, void *opaque, od_err *e)
{
	if (nqueues > VIRTIO_MAX_QUEUES || !od_is_pow2(queue_size) || queue_size > VIRTQ_MAX_SIZE || cfg_size > 0x100)
		return od_err_set(e, OD_E_INTERNAL, "virtio: bad device shape");
	memset(v, 0, sizeof *v);
	v->vm = vm;
	v->type = type;
	v->nqueues = nqueues;
	v->features = features | VIRTIO_F_VERSION_1;
	v->cfg_size = cfg_size;
	v->ops = ops;
	v->opaque = opaque;
	for (unsigned i = 0; i < nqueues; i++) {
		v->vq[i].max_size = queue_size;
		virtq_reset(&v->vq[i]);
	}
	struct pci_dev *d = &v->pci;
	/* transitional device IDs are the legacy ones, not in type order;
	 * the subsystem ID is the virtio type.  Class: mass storage for block,
	 * network for net, other otherwise. */
	uint16_t legacy_id;
	switch (type) {
	case 1: legacy_id = 0x1000; break;
	case 2: legacy_id = 0x1001; break;
	case 4: legacy_id = 0x1005; break;
	default: return od_err_set(e, OD_E_INTERNAL, "virtio: no transitional ID for type %u", type);
	}
	uint32_t class_rev = type == 2 ? 0x01000000 : type == 1 ? 0x02000000 : 0xff000000;
	pci_init_header(d, 0x1af4, legacy_id, class_rev, 0x1af4, (uint16_t)type);
	d->cfg[0x3d] = 1; /* INTA# */
	uint64_t lsize = 32;
	while (lsize < L_CONFIG + cfg_size)
		lsize *= 2;
	pci_set_bar(d, 0, PCI_BAR_IO, lsize, legacy_io, v);
	pci_set_bar(d, 4, PCI_BAR_MEM64, M_BAR_SIZE, modern_io, v);
	add_cap(d, 1, M_COMMON, COMMON_SIZE, false);
	add_cap(d, 3, M_ISR, 4, false);
	if (cfg_size)
		add_cap(d, 4, M_DEVICE, cfg_size, false);
	add_cap(d, 2, M_NOTIFY, M_NOTIFY_MUL * nqueues, true);
	d->opaque = v;
	return pci_add(vm->pci, d, e);
}

void virtio_pci_uninit(struct virtio_dev *v)
{
	pci_remove(&v->pci);
}
