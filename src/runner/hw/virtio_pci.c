/* virtio_pci.c - the virtio PCI transport, transitional: both the legacy
 * interface (virtio 0.9.5, I/O BAR 0), which old drivers use, and the
 * modern one (virtio 1.x, memory BAR 4 described by vendor capabilities),
 * which SeaBIOS and Linux prefer when they see the capabilities.  Both
 * views share one device state; only the modern view offers
 * VIRTIO_F_VERSION_1 (bit 32, which the legacy 32-bit feature register
 * cannot show).
 *
 * Interrupts: while the driver has not enabled MSI-X, INTx, level-triggered,
 * acknowledged by reading the ISR.  With MSI-X on, each queue and the
 * configuration-change event send the vector the driver chose for them
 * (the ISR bits are still set, as drivers that poll it expect); a masked
 * vector sets its pending bit instead and fires when unmasked; "no vector"
 * means no interrupt at all, as the spec says.  Every vector number and
 * table access comes from the guest and is checked against msix_nvec.
 *
 * The PCI configuration access capability (cfg_type 5) is a window in
 * config space through which a driver reaches any BAR without mapping it
 * (SeaBIOS uses it for a 64-bit BAR placed above 4 GiB while it runs in
 * 32-bit mode). */
#include "config.h"
#include "runner/virtio.h"

#include <string.h>

/* legacy header: device config follows at 0x14, or at 0x18 when MSI-X
 * is enabled, the two vector registers taking 0x14-0x17 */
enum {
	L_HOST_FEATURES = 0x00, L_GUEST_FEATURES = 0x04, L_QUEUE_PFN = 0x08, L_QUEUE_NUM = 0x0c,
	L_QUEUE_SEL = 0x0e, L_QUEUE_NOTIFY = 0x10, L_STATUS = 0x12, L_ISR = 0x13, L_CONFIG = 0x14,
	L_CONFIG_VECTOR = 0x14, L_QUEUE_VECTOR = 0x16, L_CONFIG_MSIX = 0x18,
};
/* modern BAR 4 layout */
#define M_COMMON 0x0000
#define M_ISR 0x1000
#define M_DEVICE 0x2000
#define M_NOTIFY 0x3000
#define M_BAR_SIZE 0x4000
#define M_NOTIFY_MUL 4
#define COMMON_SIZE 0x38
#define NO_VECTOR VIRTIO_MSI_NO_VECTOR
/* MSI-X BAR: the table from 0, the PBA at VIRTIO_MSIX_PBA */
#define MSIX_BAR_SIZE 0x1000
#define MSIX_CTRL_MASK 0x40   /* message control, high byte: function mask */
#define MSIX_CTRL_ENABLE 0x80 /* ... and MSI-X enable */
/* the pci_cfg capability: bar at +4, offset at +8, length at +12, data +16 */
#define PCICFG_LEN 20
#define PCICFG_DATA 16


/* ---- interrupts ---- */

static bool msix_on(const struct virtio_dev *v)
{
	return v->msix_cap && (v->pci.cfg[v->msix_cap + 3] & MSIX_CTRL_ENABLE);
}

static bool msix_masked(const struct virtio_dev *v, unsigned vec)
{
	return (v->pci.cfg[v->msix_cap + 3] & MSIX_CTRL_MASK) || (v->msix_table[16 * vec + 12] & 1);
}

/* A function with MSI-X enabled must not use INTx. */
static void update_intx(struct virtio_dev *v)
{
	pci_set_intx(&v->pci, v->isr != 0 && !msix_on(v));
}

static void msix_send(struct virtio_dev *v, unsigned vec)
{
	const uint8_t *e = v->msix_table + 16 * vec;
	vm_signal_msi(v->vm, od_ld64(e), od_ld32(e + 8));
}

static void msix_fire(struct virtio_dev *v, uint16_t vec)
{
	if (vec >= v->msix_nvec)
		return; /* VIRTIO_MSI_NO_VECTOR: the driver wants no interrupt */
	if (msix_masked(v, vec))
		v->msix_pending |= 1u << vec;
	else
		msix_send(v, vec);
}

/* After an unmask (of an entry or of the function): what was held back. */
static void msix_flush_pending(struct virtio_dev *v)
{
	if (!msix_on(v))
		return;
	for (unsigned vec = 0; vec < v->msix_nvec; vec++) {
		if ((v->msix_pending & (1u << vec)) && !msix_masked(v, vec)) {
			v->msix_pending &= ~(1u << vec);
			msix_send(v, vec);
		}
	}
}

void virtio_signal_queue(struct virtio_dev *v, unsigned q)
{
	v->isr |= 1;
	if (msix_on(v)) {
		if (q < v->nqueues)
			msix_fire(v, v->queue_vector[q]);
	} else {
		update_intx(v);
	}
}

void virtio_signal_used(struct virtio_dev *v)
{
	v->isr |= 1;
	if (!msix_on(v)) {
		update_intx(v);
		return;
	}
	uint32_t sent = 0; /* each vector once, even if queues share it */
	for (unsigned q = 0; q < v->nqueues; q++) {
		uint16_t vec = v->queue_vector[q];
		if (vec < v->msix_nvec && !(sent & (1u << vec))) {
			sent |= 1u << vec;
			msix_fire(v, vec);
		}
	}
}

static void signal_config(struct virtio_dev *v)
{
	v->isr |= 2;
	if (msix_on(v))
		msix_fire(v, v->config_vector);
	else
		update_intx(v);
}

/* A vector number the driver wrote: kept if the table has it, otherwise
 * the register reads back "no vector", which is how the spec lets a driver
 * see that the mapping failed. */
static uint16_t check_vector(const struct virtio_dev *v, uint32_t vec)
{
	return vec < v->msix_nvec ? (uint16_t)vec : NO_VECTOR;
}

void virtio_needs_reset(struct virtio_dev *v)
{
	v->status |= VIRTIO_STATUS_NEEDS_RESET;
	for (unsigned i = 0; i < v->nqueues; i++)
		v->vq[i].ready = false;
	/* tell a modern driver through a config-change interrupt */
	if (v->status & VIRTIO_STATUS_DRIVER_OK)
		signal_config(v);
}

static void device_reset(struct virtio_dev *v)
{
	v->status = 0;
	v->isr = 0;
	v->driver_features = 0;
	v->dfselect = v->gfselect = 0;
	v->queue_sel = 0;
	v->config_vector = NO_VECTOR;
	for (unsigned i = 0; i < v->nqueues; i++) {
		virtq_reset(&v->vq[i]);
		v->queue_vector[i] = NO_VECTOR;
	}
	/* the MSI-X table and pending bits are PCI state, not virtio state:
	 * a virtio reset leaves them */
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
	/* the header grows by the two vector registers while MSI-X is on */
	unsigned cfg_off = msix_on(v) ? L_CONFIG_MSIX : L_CONFIG;
	if (off >= cfg_off) {
		if (!is_write)
			device_cfg(v, (unsigned)off - cfg_off, data, size);
		return;
	}
	uint8_t reg[L_CONFIG_MSIX];
	memset(reg, 0, sizeof reg);
	if (!is_write) {
		od_st32(reg + L_HOST_FEATURES, (uint32_t)v->features);
		od_st32(reg + L_GUEST_FEATURES, (uint32_t)v->driver_features);
		od_st32(reg + L_QUEUE_PFN, q && q->ready ? (uint32_t)(q->desc_gpa >> 12) : 0);
		od_st16(reg + L_QUEUE_NUM, q ? q->max_size : 0);
		od_st16(reg + L_QUEUE_SEL, v->queue_sel);
		reg[L_STATUS] = v->status;
		od_st16(reg + L_CONFIG_VECTOR, v->config_vector);
		od_st16(reg + L_QUEUE_VECTOR, q ? v->queue_vector[v->queue_sel] : NO_VECTOR);
		memset(data, 0, size);
		if (off == L_ISR) {
			data[0] = read_isr(v);
			return;
		}
		if (off + size <= cfg_off)
			memcpy(data, reg + off, size);
		return;
	}
	uint32_t val = size >= 4 ? od_ld32(data) : size == 2 ? od_ld16(data) : data[0];
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
	case L_CONFIG_VECTOR: /* only reached with MSI-X on, see cfg_off */
		v->config_vector = check_vector(v, val & 0xffff);
		break;
	case L_QUEUE_VECTOR:
		if (q)
			v->queue_vector[v->queue_sel] = check_vector(v, val & 0xffff);
		break;
	}
}

/* ---- modern memory BAR ---- */

static void common_snapshot(struct virtio_dev *v, uint8_t *b)
{
	struct virtq *q = v->queue_sel < v->nqueues ? &v->vq[v->queue_sel] : NULL;
	memset(b, 0, COMMON_SIZE);
	od_st32(b + 0x00, v->dfselect);
	od_st32(b + 0x04, v->dfselect < 2 ? (uint32_t)(v->features >> (32 * v->dfselect)) : 0);
	od_st32(b + 0x08, v->gfselect);
	od_st32(b + 0x0c, v->gfselect < 2 ? (uint32_t)(v->driver_features >> (32 * v->gfselect)) : 0);
	od_st16(b + 0x10, v->config_vector);
	od_st16(b + 0x12, v->nqueues);
	b[0x14] = v->status;
	b[0x15] = v->generation;
	od_st16(b + 0x16, v->queue_sel);
	if (q) {
		od_st16(b + 0x18, q->size);
		od_st16(b + 0x1a, v->queue_vector[v->queue_sel]);
		od_st16(b + 0x1c, q->ready);
		od_st16(b + 0x1e, v->queue_sel); /* notify offset = queue index */
		od_st64(b + 0x20, q->desc_gpa);
		od_st64(b + 0x28, q->avail_gpa);
		od_st64(b + 0x30, q->used_gpa);
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
		v->dfselect = od_ld32(b + 0x00);
	if (touches(off, size, 0x08, 4))
		v->gfselect = od_ld32(b + 0x08);
	if (touches(off, size, 0x0c, 4) && v->gfselect < 2 && !(v->status & VIRTIO_STATUS_FEATURES_OK)) {
		unsigned sh = 32 * v->gfselect;
		uint64_t f = (v->driver_features & ~(0xffffffffull << sh)) | ((uint64_t)od_ld32(b + 0x0c) << sh);
		v->driver_features = f & v->features;
	}
	if (touches(off, size, 0x14, 1))
		set_status(v, b[0x14]);
	if (touches(off, size, 0x10, 2))
		v->config_vector = check_vector(v, od_ld16(b + 0x10));
	if (touches(off, size, 0x16, 2))
		v->queue_sel = od_ld16(b + 0x16);
	/* the vector of the queue selected before this write */
	if (q && touches(off, size, 0x1a, 2))
		v->queue_vector[q - v->vq] = check_vector(v, od_ld16(b + 0x1a));
	if (!q || q->ready)
		return; /* queue fields are fixed while the queue runs */
	if (touches(off, size, 0x18, 2)) {
		uint16_t s = od_ld16(b + 0x18);
		if (od_is_pow2(s) && s <= q->max_size)
			q->size = s;
	}
	if (touches(off, size, 0x20, 8))
		q->desc_gpa = od_ld64(b + 0x20);
	if (touches(off, size, 0x28, 8))
		q->avail_gpa = od_ld64(b + 0x28);
	if (touches(off, size, 0x30, 8))
		q->used_gpa = od_ld64(b + 0x30);
	if (touches(off, size, 0x1c, 2) && od_ld16(b + 0x1c) == 1)
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

/* ---- MSI-X BAR: table and PBA ---- */

static void msix_io(void *opaque, uint64_t off, uint8_t *data, unsigned size, bool is_write)
{
	struct virtio_dev *v = opaque;
	uint64_t table = 16ull * v->msix_nvec;
	if (off < table) {
		unsigned vec = (unsigned)off / 16;
		if (!is_write) {
			/* any size reads; the part past the table reads 0 */
			unsigned n = off + size <= table ? size : (unsigned)(table - off);
			memset(data, 0, size);
			memcpy(data, v->msix_table + off, n);
			return;
		}
		/* the PCI spec allows only aligned dword and qword writes, which
		 * then stay inside one entry; others are dropped */
		if ((size != 4 && size != 8) || off % size)
			return;
		bool was_masked = v->msix_table[16 * vec + 12] & 1;
		memcpy(v->msix_table + off, data, size);
		/* vector control: bit 0 (mask) is the only writable bit */
		v->msix_table[16 * vec + 12] &= 1;
		memset(v->msix_table + 16 * vec + 13, 0, 3);
		if (was_masked && !(v->msix_table[16 * vec + 12] & 1))
			msix_flush_pending(v);
		return;
	}
	if (is_write)
		return; /* the PBA is read-only, the rest reserved */
	memset(data, 0, size);
	if (off >= VIRTIO_MSIX_PBA && off < VIRTIO_MSIX_PBA + 8) {
		uint8_t pba[8];
		od_st64(pba, v->msix_pending);
		unsigned o = (unsigned)(off - VIRTIO_MSIX_PBA);
		memcpy(data, pba + o, size <= 8 - o ? size : 8 - o);
	}
}

/* ---- config space hooks: MSI-X control, the pci_cfg window ---- */

/* The BAR access that the pci_cfg capability's bar/offset/length select,
 * all guest-written: false (and no access) unless the length is 1, 2 or 4,
 * the offset a multiple of it, and the range inside an existing BAR. */
static bool pcicfg_target(struct virtio_dev *v, struct pci_bar **bar, uint32_t *off, unsigned *len)
{
	const uint8_t *c = v->pci.cfg + v->pcicfg_cap;
	unsigned b = c[4];
	uint32_t o = od_ld32(c + 8), l = od_ld32(c + 12);
	if (b >= 6 || v->pci.bar[b].type == PCI_BAR_NONE)
		return false;
	if ((l != 1 && l != 2 && l != 4) || o % l || o >= v->pci.bar[b].size || l > v->pci.bar[b].size - o)
		return false;
	*bar = &v->pci.bar[b];
	*off = o;
	*len = l;
	return true;
}

static bool touches_data(const struct virtio_dev *v, unsigned off, unsigned size)
{
	return v->pcicfg_cap && off < v->pcicfg_cap + PCICFG_LEN && v->pcicfg_cap + PCICFG_DATA < off + size;
}

static void cfg_reading(struct pci_dev *d, unsigned off, unsigned size)
{
	struct virtio_dev *v = d->opaque;
	struct pci_bar *bar;
	uint32_t o;
	unsigned len;
	if (!touches_data(v, off, size) || !pcicfg_target(v, &bar, &o, &len))
		return;
	/* the read has the BAR's side effects (reading the ISR acknowledges
	 * it), as the spec wants: it is the same access by another path */
	uint8_t *win = d->cfg + v->pcicfg_cap + PCICFG_DATA;
	uint8_t buf[4] = { 0 };
	bar->fn(bar->opaque, o, buf, len, false);
	memcpy(win, buf, 4);
}

static void cfg_written(struct pci_dev *d, unsigned off, unsigned size)
{
	struct virtio_dev *v = d->opaque;
	if (v->msix_cap && off <= v->msix_cap + 3 && v->msix_cap + 3 < off + size) {
		/* enable or function mask may have changed: INTx follows the
		 * enable bit, and an unmask delivers what was pending */
		update_intx(v);
		msix_flush_pending(v);
	}
	struct pci_bar *bar;
	uint32_t o;
	unsigned len;
	if (touches_data(v, off, size) && pcicfg_target(v, &bar, &o, &len)) {
		uint8_t buf[4];
		memcpy(buf, d->cfg + v->pcicfg_cap + PCICFG_DATA, 4);
		bar->fn(bar->opaque, o, buf, len, true);
	}
}

static void add_cap(struct pci_dev *d, uint8_t type, uint32_t off, uint32_t len, bool notify_cap)
{
	uint8_t cap[20] = { 0x09, 0, notify_cap ? 20 : 16, type, 4 /* BAR */, 0, 0, 0 };
	od_st32(cap + 8, off);
	od_st32(cap + 12, len);
	if (notify_cap)
		od_st32(cap + 16, M_NOTIFY_MUL);
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
	while (lsize < L_CONFIG_MSIX + cfg_size)
		lsize *= 2;
	pci_set_bar(d, 0, PCI_BAR_IO, lsize, legacy_io, v);
	pci_set_bar(d, 4, PCI_BAR_MEM64, M_BAR_SIZE, modern_io, v);
	add_cap(d, 1, M_COMMON, COMMON_SIZE, false);
	add_cap(d, 3, M_ISR, 4, false);
	if (cfg_size)
		add_cap(d, 4, M_DEVICE, cfg_size, false);
	add_cap(d, 2, M_NOTIFY, M_NOTIFY_MUL * nqueues, true);
	/* pci_cfg: the driver writes bar, offset, length and data */
	uint8_t pcicfg[PCICFG_LEN] = { 0x09, 0, PCICFG_LEN, 5 };
	v->pcicfg_cap = pci_add_cap(d, pcicfg, PCICFG_LEN);
	if (v->pcicfg_cap) {
		d->wmask[v->pcicfg_cap + 4] = 0xff;
		memset(d->wmask + v->pcicfg_cap + 8, 0xff, 12);
	}
	v->config_vector = NO_VECTOR;
	for (unsigned i = 0; i < nqueues; i++)
		v->queue_vector[i] = NO_VECTOR;
	if (!vm->no_msi) {
		/* one vector per queue and one for configuration changes, every
		 * entry masked at reset as the PCI spec requires */
		v->msix_nvec = nqueues + 1;
		for (unsigned i = 0; i < v->msix_nvec; i++)
			v->msix_table[16 * i + 12] = 1;
		uint8_t cap[12] = { 0x11, 0 };
		od_st16(cap + 2, (uint16_t)(v->msix_nvec - 1)); /* table size - 1; enable and mask off */
		od_st32(cap + 4, 0 | VIRTIO_MSIX_BAR);          /* table at 0 in BAR 1 */
		od_st32(cap + 8, VIRTIO_MSIX_PBA | VIRTIO_MSIX_BAR);
		v->msix_cap = pci_add_cap(d, cap, sizeof cap);
		if (v->msix_cap) {
			d->wmask[v->msix_cap + 3] = MSIX_CTRL_ENABLE | MSIX_CTRL_MASK;
			pci_set_bar(d, VIRTIO_MSIX_BAR, PCI_BAR_MEM32, MSIX_BAR_SIZE, msix_io, v);
		} else {
			v->msix_nvec = 0;
		}
	}
	d->opaque = v;
	d->cfg_written = cfg_written;
	d->cfg_reading = cfg_reading;
	return pci_add(vm->pci, d, e);
}

void virtio_pci_uninit(struct virtio_dev *v)
{
	pci_remove(&v->pci);
}
