/* fuzz_pvscsi.c - libFuzzer harness for the PVSCSI adapter and the SCSI
 * target layer: the input chooses the ring set-up (request ring pages,
 * rings-state page, completion page, some of them outside RAM) and becomes
 * the first 64 KiB of guest RAM (rings state, request descriptors, CDBs,
 * SG lists, buffers), as a hostile driver would write them.  A disk
 * (target 0) and a CD-ROM (target 1) sit on memory backends.  Built and run
 * by scripts/fuzz (`scripts/fuzz 60 pvscsi`). */
#include "config.h"
#include "runner/hw/pvscsi.h"
#include "runner/hw/scsi.h"

#include <stdlib.h>
#include <string.h>

#define RAM (64u << 10)
#define DISK (16u << 10)
#define CDSZ (8u << 10)
#define BAR 0xe0000000ull

static uint8_t disk[DISK], cd[CDSZ];

static int rd(void *c, void *b, size_t l, uint64_t o, od_err *e)
{
	size_t size = c ? CDSZ : DISK;
	if (!od_range_ok(o, l, size))
		return od_err_set(e, OD_E_INVALID, "range");
	memcpy(b, (c ? cd : disk) + o, l);
	return 0;
}

static int wr(void *c, const void *b, size_t l, uint64_t o, od_err *e)
{
	(void)c;
	if (!od_range_ok(o, l, DISK))
		return od_err_set(e, OD_E_INVALID, "range");
	memcpy(disk + o, b, l);
	return 0;
}

static int fl(void *c, od_err *e)
{
	(void)c; (void)e;
	return 0;
}

static struct vm *vm;

static void reg_w(uint32_t off, uint32_t v)
{
	uint8_t d[4];
	od_st32(d, v);
	vm_io_dispatch(vm, VM_MMIO, BAR + off, d, 4, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scsi_hba *p;
	od_err e;
	if (!vm) {
		vm = vm_new_fake(RAM, &e);
		vm->pci = pci_new(vm, &e);
		p = pvscsi_new(vm, &e);
		struct blk_backend dbe = { NULL, DISK, rd, wr, fl };
		struct blk_backend cbe = { cd, CDSZ, rd, NULL, NULL };
		if (!p || scsi_hba_attach(p, 0, SCSI_TYPE_DISK, &dbe, false, 0, &e) < 0 ||
		    scsi_hba_attach(p, 1, SCSI_TYPE_CDROM, &cbe, true, 1, &e) < 0)
			abort();
		unsigned bdf = scsi_hba_pci(p)->slot << 3;
		pci_cfg_write(vm->pci, bdf, 0x10, 4, (uint32_t)BAR);
		pci_cfg_write(vm->pci, bdf, 0x04, 2, 0x0006);
	}
	if (size < 4)
		return 0;
	uint8_t *ram = vm->ram[0].hva;
	memset(ram, 0, RAM);
	memcpy(ram, data + 4, size - 4 < RAM ? size - 4 : RAM);
	/* pages 0-15 are RAM, 16-19 are not */
	uint32_t nreq = 1u << (data[0] % 7);
	uint64_t state = data[1] % 20, req = data[2] % 20, cmp = data[3] % 20;
	reg_w(0x0, 1); /* ADAPTER_RESET */
	reg_w(0x0, 3); /* SETUP_RINGS */
	uint32_t w[132] = { nreq, 1, (uint32_t)state, 0 };
	for (unsigned i = 0; i < 32; i++) {
		w[4 + 2 * i] = (uint32_t)(req + i);
		w[68 + 2 * i] = (uint32_t)cmp;
	}
	for (unsigned i = 0; i < 132; i++)
		reg_w(0x4, w[i]);
	reg_w(0x2010, data[0] >> 4); /* interrupt mask */
	for (unsigned k = 0; k < 3; k++) {
		reg_w(k & 1 ? 0x3014 : 0x4018, 0);
		if (state < 16) {
			/* the driver consumes what completed */
			uint8_t *s = ram + state * 4096;
			memcpy(s + 16, s + 12, 4);
		}
	}
	reg_w(0x100c, 0xffffffff);
	return 0;
}
