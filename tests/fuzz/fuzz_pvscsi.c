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
#include "../runner/fakeio.h"

#include <stdlib.h>
#include <string.h>

#define RAM (64u << 10)
#define DISK (16u << 10)
#define CDSZ (8u << 10)
#define BAR 0xe0000000ull

static uint8_t disk[DISK], cd[CDSZ];
static struct fake_disk fdisk = { disk, DISK, 0 }, fcd = { cd, CDSZ, 0 };
static struct vm *vm;

static void reg_w(uint32_t off, uint32_t v) { fake_mmio_w(vm, BAR + off, 4, v, NULL); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scsi_hba *p;
	od_err e;
	if (!vm) {
		if (!(vm = fake_vm_new(RAM, NULL, &e)))
			abort();
		p = pvscsi_new(vm, &e);
		struct blk_backend dbe = fake_disk_backend(&fdisk);
		struct blk_backend cbe = fake_disk_backend(&fcd);
		cbe.pwrite = NULL; /* a CD */
		cbe.flush = NULL;
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
