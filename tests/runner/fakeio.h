/* fakeio.h - a guest's port and MMIO accesses in the device unit tests,
 * through the VM's dispatch table as a vCPU exit would go, values
 * little-endian as on x86.  `claimed` (may be NULL) tells whether a device
 * took the access: tests of unassigned ports and odd sizes want to see
 * that it did not. */
#ifndef OD_TESTS_RUNNER_FAKEIO_H
#define OD_TESTS_RUNNER_FAKEIO_H
#include "runner/virtio.h"
#include "runner/vmm.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline void fake_out(struct vm *vm, uint16_t port, unsigned size, uint32_t v, bool *claimed)
{
	uint8_t d[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	bool c = vm_io_dispatch(vm, VM_PIO, port, d, size, true);
	if (claimed)
		*claimed = c;
}

static inline uint32_t fake_in(struct vm *vm, uint16_t port, unsigned size, bool *claimed)
{
	uint8_t d[8] = { 0 };
	bool c = vm_io_dispatch(vm, VM_PIO, port, d, size, false);
	if (claimed)
		*claimed = c;
	return d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24;
}

static inline void fake_mmio_w(struct vm *vm, uint64_t a, unsigned size, uint64_t v, bool *claimed)
{
	uint8_t d[8];
	memcpy(d, &v, 8);
	bool c = vm_io_dispatch(vm, VM_MMIO, a, d, size, true);
	if (claimed)
		*claimed = c;
}

static inline uint64_t fake_mmio_r(struct vm *vm, uint64_t a, unsigned size, bool *claimed)
{
	uint8_t d[8] = { 0 };
	bool c = vm_io_dispatch(vm, VM_MMIO, a, d, size, false);
	if (claimed)
		*claimed = c;
	uint64_t v;
	memcpy(&v, d, 8);
	return v;
}

/* Virtqueue set-up as a driver writes it in guest memory: descriptor `i`
 * of the table at `table`, and one more head offered in the available ring
 * at `avail` (ring of `size` entries, `*idx` the driver's running index). */
static inline void fake_desc(uint8_t *table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = table + 16 * i;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static inline void fake_offer(uint8_t *avail, uint16_t *idx, uint16_t size, uint16_t head)
{
	memcpy(avail + 4 + 2 * (*idx % size), &head, 2);
	(*idx)++;
	memcpy(avail + 2, idx, 2);
}
/* A virtio-net device's driver made ready as a guest's would be: VERSION_1,
 * DRIVER_OK, the receive queue (16 entries) at 0x1000/0x2000/0x3000 and the
 * transmit queue at 0x4000/0x5000/0x6000.  0, or -1 with *e. */
static inline int fake_net_ready(struct vm *vm, struct virtio_dev *v, od_err *e)
{
	v->driver_features = VIRTIO_F_VERSION_1;
	v->status = VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;
	struct virtq *rx = &v->vq[0], *tx = &v->vq[1];
	rx->size = tx->size = 16;
	rx->desc_gpa = 0x1000; rx->avail_gpa = 0x2000; rx->used_gpa = 0x3000;
	tx->desc_gpa = 0x4000; tx->avail_gpa = 0x5000; tx->used_gpa = 0x6000;
	return virtq_enable(vm, rx, e) < 0 || virtq_enable(vm, tx, e) < 0 ? -1 : 0;
}

/* A fake VM (no KVM) with `ram_size` bytes of guest RAM and a PCI bus, as
 * the device tests start from, *ram (unless NULL) the host address of the
 * RAM; NULL with *e when either cannot be made.  fake_vm_free takes the bus
 * down, then the VM. */
static inline struct vm *fake_vm_new(size_t ram_size, uint8_t **ram, od_err *e)
{
	struct vm *vm = vm_new_fake(ram_size, e);
	if (!vm)
		return NULL;
	if (!(vm->pci = pci_new(vm, e))) {
		vm_free(vm);
		return NULL;
	}
	if (ram)
		*ram = vm->ram[0].hva;
	return vm;
}

static inline void fake_vm_free(struct vm *vm)
{
	pci_free(vm->pci);
	vm_free(vm);
}

/* A disk in memory as a block backend: `size` bytes at `data`, reads and
 * writes checked against the size, flushes counted.  fake_disk_init fills
 * it with byte i = i * mul + i / block (every block of `block` bytes
 * differs from its neighbours) and zeroes the count; fake_disk_backend is
 * the backend over it (clear pwrite and flush for a read-only medium). */
struct fake_disk {
	uint8_t *data;
	uint64_t size;
	unsigned flushes;
};

static inline int fake_disk_pread(void *ctx, void *buf, size_t len, uint64_t off, od_err *e)
{
	struct fake_disk *d = ctx;
	if (!od_range_ok(off, len, d->size))
		return od_err_set(e, OD_E_INVALID, "past the end");
	memcpy(buf, d->data + off, len);
	return 0;
}

static inline int fake_disk_pwrite(void *ctx, const void *buf, size_t len, uint64_t off, od_err *e)
{
	struct fake_disk *d = ctx;
	if (!od_range_ok(off, len, d->size))
		return od_err_set(e, OD_E_INVALID, "past the end");
	memcpy(d->data + off, buf, len);
	return 0;
}

static inline int fake_disk_flush(void *ctx, od_err *e)
{
	(void)e;
	((struct fake_disk *)ctx)->flushes++;
	return 0;
}

static inline void fake_disk_init(struct fake_disk *d, uint8_t *data, uint64_t size, unsigned mul, unsigned block)
{
	d->data = data;
	d->size = size;
	d->flushes = 0;
	for (uint64_t i = 0; i < size; i++)
		data[i] = (uint8_t)(i * mul + i / block);
}

static inline struct blk_backend fake_disk_backend(struct fake_disk *d)
{
	return (struct blk_backend){ d, d->size, fake_disk_pread, fake_disk_pwrite, fake_disk_flush };
}
#endif
