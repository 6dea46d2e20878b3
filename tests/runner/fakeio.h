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
#endif
