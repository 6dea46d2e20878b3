/* fuzz_vmxnet3.c - libFuzzer harness for the VMXNET3 NIC: activation from
 * the driver-shared area, the transmit ring walk (gen bits, SOP..EOP, the
 * gather into our buffer, checksum and TSO offloads) into slirp, and
 * frames into the receive rings.  Built and run by scripts/fuzz.
 *
 * Input: eight bytes, then the first 64 KiB of guest RAM as a hostile
 * driver would write it.
 *   [0] tx ring size - 1 (& 63); the tx completion ring the same
 *   [1] rx ring 0 size - 1 (& 63); bits 6-7: rx ring 1 size / 16
 *   [2] rx completion ring size - 1 (& 127)
 *   [3] bit 0: keep the driver-shared area and queue descriptors as the
 *       input has them (else written here, sizes as above: DS at 0, queue
 *       descriptors at 0x400, tx ring 0x1000, its completions 0x1400, rx
 *       rings 0x1800 and 0x1c00, rx completions 0x2000); bit 1: mask the
 *       interrupt
 *   [4] how many frames to receive (& 7), [5..6] their length (LE, & 0x3fff)
 *   [7] unused
 * The frames received are the input's own bytes.  A fresh device per input.
 * socket() is replaced (net_fuzz.h): slirp never reaches the host. */
#include "config.h"
#include "runner/hw/vmxnet3.h"

#include "net_fuzz.h"

#define BAR0 0xfe000000u
#define BAR1 0xfe001000u

static void wr(struct vm *vm, uint64_t a, uint32_t v)
{
	uint8_t d[4];
	od_st32(d, v);
	vm_io_dispatch(vm, VM_MMIO, a, d, 4, true);
}

static uint32_t rd(struct vm *vm, uint64_t a)
{
	uint8_t d[4] = { 0 };
	vm_io_dispatch(vm, VM_MMIO, a, d, 4, false);
	return od_ld32(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 8)
		return 0;
	struct vm *vm = fuzz_vm(data, size, 8);
	uint8_t *ram = vm->ram[0].hva;
	od_err e;
	if (!(data[3] & 1)) {
		uint32_t tx = (data[0] & 63) + 1u, rx0 = (data[1] & 63) + 1u, rx1 = (data[1] >> 6) * 16u;
		uint32_t rxc = (data[2] & 127) + 1u;
		memset(ram, 0, 0x800);
		od_st32(ram, 0xbabefee1);
		od_st64(ram + 40, 0x400);
		od_st32(ram + 52, 512);
		ram[62] = ram[63] = 1;
		uint8_t *t = ram + 0x400, *r = t + 256;
		od_st64(t + 16, 0x1000);
		od_st64(t + 32, 0x1400);
		od_st32(t + 56, tx);
		od_st32(t + 64, tx);
		od_st64(r + 16, 0x1800);
		od_st64(r + 24, 0x1c00);
		od_st64(r + 32, 0x2000);
		od_st32(r + 56, rx0);
		od_st32(r + 60, rx1);
		od_st32(r + 64, rxc);
	}

	struct vmxnet3 *x = vmxnet3_new(vm, NULL, &e);
	if (!x)
		abort();
	unsigned bdf = vmxnet3_pci(x)->slot << 3;
	pci_cfg_write(vm->pci, bdf, 0x10, 4, BAR0);
	pci_cfg_write(vm->pci, bdf, 0x14, 4, BAR1);
	pci_cfg_write(vm->pci, bdf, 0x04, 2, 0x0006);
	wr(vm, BAR1 + 0x10, 0);
	wr(vm, BAR1 + 0x18, 0);
	wr(vm, BAR1 + 0x20, 0xcafe0000);
	wr(vm, BAR0, data[3] >> 1 & 1);
	wr(vm, BAR0 + 0x600, 0);
	vmxnet3_tx(x);
	size_t flen = (data[5] | (size_t)data[6] << 8) & 0x3fff;
	for (unsigned i = 0; i < (data[4] & 7u); i++)
		vmxnet3_rx(x, data, flen < size ? flen : size);
	rd(vm, BAR1 + 0x38);
	wr(vm, BAR1 + 0x20, 0xf00d0001); /* GET_STATS */
	wr(vm, BAR1 + 0x20, 0xf00d0000); /* GET_QUEUE_STATUS */
	vmxnet3_tx(x);
	vmxnet3_free(x);
	return 0;
}
