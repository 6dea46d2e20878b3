/* pci.c - PCI bus 0 through configuration mechanism 1 (0xCF8 address,
 * 0xCFC data), with the two chipset functions SeaBIOS looks for:
 *
 *   00:00.0  i440FX host bridge 8086:1237, subsystem 1af4:1100 (SeaBIOS
 *            checks the subsystem to know it runs on QEMU's machine).  Its
 *            PAM registers (0x59-0x5f) and SMRAM (0x72) are plain storage:
 *            the range they control, 0xC0000-0xFFFFF, is RAM from the start
 *            (see kvm.c), which is what SeaBIOS makes of it anyway.
 *   00:01.0  PIIX3 ISA bridge 8086:7000 with the PIRQ route registers
 *            0x60-0x63.  The ELCR (ports 0x4d0/0x4d1) is emulated by KVM's
 *            in-kernel PIC.
 *
 * Other devices take slots 2 and up as function 0; a device may instead ask
 * for a function 1-7 of a slot whose function 0 is there (the PIIX3's IDE
 * is 00:01.1), which then sets the multi-function bit of function 0's
 * header type, as guests scan functions 1-7 only then.  BARs are entered in
 * the VM's dispatch table when the guest enables decoding in the command
 * register, and moved when the guest rewrites them; the device's handler
 * sees offsets relative to the BAR.
 *
 * INTx: a device's pin A in slot S uses PIRQ (S + pin - 1) mod 4, whose
 * route register names the ISA IRQ (bit 7 set: not routed).  Lines shared
 * by several devices are the OR of their levels. */
#include "config.h"
#include "runner/vmm.h"

#include <stdlib.h>
#include <string.h>

#define PCI_SLOTS 32
#define PCI_FNS (PCI_SLOTS * 8) /* indexed by device << 3 | function */
#define PCI_CMD_IO 0x0001
#define PCI_CMD_MEM 0x0002
#define PCI_CMD_INTX_DISABLE 0x0400

struct pci_bus {
	struct vm *vm;
	uint32_t addr; /* last value written to 0xCF8 */
	struct pci_dev *dev[PCI_FNS];
	struct pci_dev host, isa;
	int irq_level[16];
};


void pci_init_header(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class_rev,
		     uint16_t sub_vendor, uint16_t sub_device)
{
	memset(d->cfg, 0, sizeof d->cfg);
	memset(d->wmask, 0, sizeof d->wmask);
	od_st16(d->cfg + 0x00, vendor);
	od_st16(d->cfg + 0x02, device);
	od_st32(d->cfg + 0x08, class_rev);
	od_st16(d->cfg + 0x2c, sub_vendor);
	od_st16(d->cfg + 0x2e, sub_device);
	od_st16(d->wmask + 0x04, PCI_CMD_IO | PCI_CMD_MEM | 0x0004 | PCI_CMD_INTX_DISABLE);
	d->wmask[0x0c] = 0xff; /* cache line size */
	d->wmask[0x0d] = 0xff; /* latency timer */
	d->wmask[0x3c] = 0xff; /* interrupt line: the firmware's note */
}

void pci_set_bar(struct pci_dev *d, unsigned idx, int type, uint64_t size, vm_io_fn fn, void *opaque)
{
	if (idx >= 6 || (type == PCI_BAR_MEM64 && idx == 5) || !od_is_pow2(size))
		return;
	struct pci_bar *b = &d->bar[idx];
	b->type = type;
	b->size = size;
	b->fn = fn;
	b->opaque = opaque;
	uint8_t *c = d->cfg + 0x10 + 4 * idx, *w = d->wmask + 0x10 + 4 * idx;
	if (type == PCI_BAR_IO) {
		od_st32(c, 0x1);
		od_st32(w, ~(uint32_t)(size - 1) & 0xfffffffc);
	} else {
		od_st32(c, type == PCI_BAR_MEM64 ? 0x4 : 0x0);
		od_st32(w, ~(uint32_t)(size - 1) & 0xfffffff0);
		if (type == PCI_BAR_MEM64) {
			od_st32(c + 4, 0);
			od_st32(w + 4, size > 0xffffffffull ? ~(uint32_t)((size - 1) >> 32) : 0xffffffff);
		}
	}
}

unsigned pci_add_cap(struct pci_dev *d, const uint8_t *cap, unsigned len)
{
	/* capabilities are laid out from 0x40 upwards, each linked from the
	 * previous one (the first from 0x34), dword aligned */
	unsigned off = d->cap_next ? d->cap_next : 0x40;
	unsigned span = (len + 3) & ~3u;
	if (len < 2 || off + span > 0x100)
		return 0;
	memcpy(d->cfg + off, cap, len);
	d->cfg[off + 1] = 0;
	if (d->cap_last)
		d->cfg[d->cap_last + 1] = off;
	else
		d->cfg[0x34] = off;
	d->cfg[0x06] |= 0x10; /* status: capability list present */
	d->cap_last = off;
	d->cap_next = off + span;
	return off;
}

unsigned pci_add_msi(struct pci_dev *d)
{
	uint8_t cap[14] = { 0x05, 0, 0x80, 0 }; /* 64-bit address */
	unsigned off = pci_add_cap(d, cap, sizeof cap);
	if (off) {
		d->wmask[off + 2] = 0x71; /* enable, multiple message enable */
		od_st32(d->wmask + off + 4, 0xfffffffc);
		od_st32(d->wmask + off + 8, 0xffffffff);
		od_st16(d->wmask + off + 12, 0xffff);
	}
	return off;
}

bool pci_msi_enabled(const struct pci_dev *d, unsigned cap)
{
	return cap && (d->cfg[cap + 2] & 1);
}

bool pci_msi_control_written(unsigned cap, unsigned off, unsigned size)
{
	return cap && off <= cap + 2 && cap + 2 < off + size;
}

void pci_msi_signal(struct vm *vm, const struct pci_dev *d, unsigned cap)
{
	const uint8_t *c = d->cfg + cap;
	vm_signal_msi(vm, od_ld32(c + 4) | (uint64_t)od_ld32(c + 8) << 32, od_ld16(c + 12));
}

static uint16_t cmd_of(const struct pci_dev *d)
{
	return d->cfg[0x04] | d->cfg[0x05] << 8;
}

/* Trampoline: BAR handlers get offsets within their BAR. */
static void bar_io(void *opaque, uint64_t addr, uint8_t *data, unsigned size, bool is_write)
{
	struct pci_bar *b = opaque;
	b->fn(b->opaque, addr - b->mapped, data, size, is_write);
}

static void remap_bars(struct pci_dev *d)
{
	struct vm *vm = d->bus->vm;
	uint16_t cmd = cmd_of(d);
	for (unsigned i = 0; i < 6; i++) {
		struct pci_bar *b = &d->bar[i];
		if (b->type == PCI_BAR_NONE)
			continue;
		const uint8_t *c = d->cfg + 0x10 + 4 * i;
		uint64_t addr;
		bool on;
		int space;
		if (b->type == PCI_BAR_IO) {
			addr = od_ld32(c) & 0xfffffffc;
			on = cmd & PCI_CMD_IO;
			space = VM_PIO;
		} else {
			addr = od_ld32(c) & 0xfffffff0;
			if (b->type == PCI_BAR_MEM64)
				addr |= (uint64_t)od_ld32(c + 4) << 32;
			on = cmd & PCI_CMD_MEM;
			space = VM_MMIO;
		}
		uint64_t want = on ? addr : 0;
		if (want == b->mapped)
			continue;
		if (b->mapped)
			vm_io_unregister(vm, space, b->mapped, b);
		b->mapped = 0;
		if (!want)
			continue;
		/* a BAR placed over another device or past the bus's end stays
		 * unmapped: the guest misprogrammed it and gets all-ones */
		if (vm_io_register(vm, space, want, b->size, bar_io, b, NULL) == 0)
			b->mapped = want;
	}
}

static struct pci_dev *dev_of(struct pci_bus *b, unsigned bdf)
{
	if (bdf >> 8)
		return NULL; /* bus 0 only */
	return b->dev[bdf];
}

static int route_of(struct pci_bus *b, const struct pci_dev *d)
{
	unsigned pin = d->cfg[0x3d];
	if (pin < 1 || pin > 4)
		return -1;
	uint8_t r = b->isa.cfg[0x60 + ((d->slot + pin - 1) & 3)];
	if (r & 0x80)
		return -1;
	r &= 0x0f;
	return r >= 3 ? r : -1;
}

static void update_irqs(struct pci_bus *b)
{
	int level[16] = { 0 };
	for (unsigned s = 0; s < PCI_FNS; s++) {
		struct pci_dev *d = b->dev[s];
		if (!d || !d->intx_level || (cmd_of(d) & PCI_CMD_INTX_DISABLE))
			continue;
		int irq = route_of(b, d);
		if (irq >= 0)
			level[irq] = 1;
	}
	for (unsigned i = 0; i < 16; i++) {
		if (level[i] != b->irq_level[i]) {
			b->irq_level[i] = level[i];
			vm_set_irq(b->vm, i, level[i]);
		}
	}
}

void pci_set_intx(struct pci_dev *d, int level)
{
	if (d->intx_level == level)
		return;
	d->intx_level = level;
	/* INTx state is mirrored in the status register, bit 3 */
	if (level)
		d->cfg[0x06] |= 0x08;
	else
		d->cfg[0x06] &= ~0x08;
	update_irqs(d->bus);
}

uint32_t pci_cfg_read(struct pci_bus *b, unsigned bdf, unsigned off, unsigned size)
{
	struct pci_dev *d = dev_of(b, bdf);
	uint32_t v = 0;
	if (d && d->cfg_reading && off < 256)
		d->cfg_reading(d, off, size > 4 ? 4 : size);
	for (unsigned i = 0; i < size && i < 4; i++) {
		uint8_t byte = 0xff;
		if (d && off + i < 256)
			byte = d->cfg[off + i];
		v |= (uint32_t)byte << (8 * i);
	}
	return v;
}

void pci_cfg_write(struct pci_bus *b, unsigned bdf, unsigned off, unsigned size, uint32_t val)
{
	struct pci_dev *d = dev_of(b, bdf);
	if (!d)
		return;
	for (unsigned i = 0; i < size && i < 4 && off + i < 256; i++) {
		uint8_t m = d->wmask[off + i];
		d->cfg[off + i] = (d->cfg[off + i] & ~m) | ((val >> (8 * i)) & m);
	}
	if (off < 0x28 && off + size > 0x04)
		remap_bars(d);
	if (off < 0x06 && off + size > 0x04)
		update_irqs(b); /* INTx disable may have changed */
	if (d->cfg_written)
		d->cfg_written(d, off, size);
}

static void pci_io(void *opaque, uint64_t port, uint8_t *data, unsigned size, bool is_write)
{
	struct pci_bus *b = opaque;
	if (port == 0xcf8) {
		/* only a dword access is the address register; byte accesses
		 * around it belong to other chipset registers */
		if (size != 4) {
			if (!is_write)
				memset(data, 0xff, size);
			return;
		}
		if (is_write)
			b->addr = od_ld32(data) & 0x80fffffc;
		else
			od_st32(data, b->addr);
		return;
	}
	if (port < 0xcfc) {
		if (!is_write)
			memset(data, 0xff, size);
		return;
	}
	unsigned off = (b->addr & 0xfc) + (unsigned)(port - 0xcfc);
	unsigned bdf = (b->addr >> 8) & 0xffff;
	if (!(b->addr & 0x80000000u)) {
		if (!is_write)
			memset(data, 0xff, size);
		return;
	}
	if (size > 4)
		size = 4;
	if (is_write) {
		uint32_t v = 0;
		for (unsigned i = 0; i < size; i++)
			v |= (uint32_t)data[i] << (8 * i);
		pci_cfg_write(b, bdf, off, size, v);
	} else {
		uint32_t v = pci_cfg_read(b, bdf, off, size);
		for (unsigned i = 0; i < size; i++)
			data[i] = v >> (8 * i);
	}
}

static void isa_cfg_written(struct pci_dev *d, unsigned off, unsigned size)
{
	if (off < 0x64 && off + size > 0x60)
		update_irqs(d->bus); /* PIRQ routes changed */
}

int pci_add(struct pci_bus *b, struct pci_dev *d, od_err *e)
{
	unsigned slot = d->slot, fn = d->fn;
	if (fn) {
		/* a further function of a device that is there */
		if (fn > 7 || !slot || slot >= PCI_SLOTS || !b->dev[slot << 3] || b->dev[slot << 3 | fn])
			return od_err_set(e, OD_E_USAGE, "PCI: function %u of slot %u is taken or has no function 0", fn,
					  slot);
		b->dev[slot << 3]->cfg[0x0e] |= 0x80;
	} else if (!slot) {
		for (slot = 2; slot < PCI_SLOTS && b->dev[slot << 3]; slot++)
			;
	}
	if (slot >= PCI_SLOTS || b->dev[slot << 3 | fn])
		return od_err_set(e, OD_E_USAGE, "PCI: no free slot");
	d->bus = b;
	d->slot = slot;
	b->dev[slot << 3 | fn] = d;
	return 0;
}

static void unmap_bars(struct pci_bus *b, struct pci_dev *d)
{
	for (unsigned i = 0; i < 6; i++) {
		struct pci_bar *bar = &d->bar[i];
		if (bar->mapped)
			vm_io_unregister(b->vm, bar->type == PCI_BAR_IO ? VM_PIO : VM_MMIO, bar->mapped, bar);
		bar->mapped = 0;
	}
}

void pci_remove(struct pci_dev *d)
{
	struct pci_bus *b = d->bus;
	if (!b || d->slot >= PCI_SLOTS || d->fn > 7 || b->dev[d->slot << 3 | d->fn] != d)
		return;
	unmap_bars(b, d);
	pci_set_intx(d, 0);
	b->dev[d->slot << 3 | d->fn] = NULL;
	d->bus = NULL;
}

struct pci_bus *pci_new(struct vm *vm, od_err *e)
{
	struct pci_bus *b = calloc(1, sizeof *b);
	if (!b) {
		od_err_nomem(e);
		return NULL;
	}
	b->vm = vm;
	struct pci_dev *h = &b->host, *isa = &b->isa;
	pci_init_header(h, 0x8086, 0x1237, 0x06000002, 0x1af4, 0x1100);
	memset(h->wmask + 0x59, 0xff, 7); /* PAM0-PAM6 */
	h->wmask[0x72] = 0xff;            /* SMRAM */
	h->bus = b;
	b->dev[0] = h;
	pci_init_header(isa, 0x8086, 0x7000, 0x06010000, 0x1af4, 0x1100);
	for (unsigned i = 0; i < 4; i++)
		isa->cfg[0x60 + i] = 0x80; /* PIRQs not routed at reset */
	memset(isa->wmask + 0x60, 0x8f, 4);
	isa->cfg_written = isa_cfg_written;
	isa->bus = b;
	isa->slot = 1;
	b->dev[1 << 3] = isa;
	if (vm_io_register(vm, VM_PIO, 0xcf8, 1, pci_io, b, e) < 0 ||
	    vm_io_register(vm, VM_PIO, 0xcfa, 2, pci_io, b, e) < 0 ||
	    vm_io_register(vm, VM_PIO, 0xcfc, 4, pci_io, b, e) < 0) {
		pci_free(b);
		return NULL;
	}
	return b;
}

void pci_free(struct pci_bus *b)
{
	if (!b)
		return;
	for (unsigned s = 0; s < PCI_FNS; s++) {
		if (b->dev[s]) {
			unmap_bars(b, b->dev[s]);
			b->dev[s]->bus = NULL;
		}
	}
	vm_io_unregister(b->vm, VM_PIO, 0xcf8, b);
	vm_io_unregister(b->vm, VM_PIO, 0xcfa, b);
	vm_io_unregister(b->vm, VM_PIO, 0xcfc, b);
	free(b);
}
