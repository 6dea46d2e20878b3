/* fuzz_ide.c - libFuzzer harness for the PIIX3 IDE controller, its ATA
 * disk and ATAPI CD-ROM commands and the SCSI target under the packets.
 * The input's first 4 KiB are a program of port accesses, 3 bytes each:
 *
 *   byte 0: kind (bits 0-2) and register/repeat (bits 3-7);
 *   bytes 1-2: a little-endian value.
 *
 *   kind 0/1: write/read a command-block register (bits 3-5) of the
 *             primary or secondary channel (bit 6);
 *   kind 2/3: write the value to / read the data port, 1 to 256 times;
 *   kind 4/5: write/read device control / alternate status;
 *   kind 6:   write a byte to the bus master registers (offset bits 3-6);
 *   kind 7:   the PRD table address of a channel (bit 3): value << 4, so
 *             tables inside and outside the 64 KiB of RAM;
 *
 * and the rest becomes guest RAM (PRD tables, buffers), as a hostile
 * driver would write them.  A disk (primary master), a read-only disk
 * (primary slave) and a CD-ROM (secondary master) sit on memory backends.
 * Built and run by scripts/fuzz (`scripts/fuzz 60 ide`). */
#include "config.h"
#include "runner/hw/ide.h"
#include "../runner/fakeio.h"

#include <stdlib.h>
#include <string.h>

#define RAM (64u << 10)
#define PROG 4096u
#define DISK (16u << 10)
#define CDSZ (16u << 10)
#define BM 0xc000

static uint8_t disk[DISK], rodisk[DISK], cd[CDSZ];
static struct fake_disk fdisk = { disk, DISK, 0 }, frodisk = { rodisk, DISK, 0 }, fcd = { cd, CDSZ, 0 };
static struct vm *vm;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ide *s;
	od_err e;
	if (!vm) {
		if (!(vm = fake_vm_new(RAM, NULL, &e)) || !(s = ide_new(vm, &e)))
			abort();
		struct blk_backend dbe = fake_disk_backend(&fdisk), rbe = fake_disk_backend(&frodisk);
		struct blk_backend cbe = fake_disk_backend(&fcd);
		cbe.pwrite = NULL; /* a CD */
		cbe.flush = NULL;
		if (ide_attach(s, 0, false, &dbe, false, 0, &e) < 0 || ide_attach(s, 1, false, &rbe, true, 1, &e) < 0 ||
		    ide_attach(s, 2, true, &cbe, true, 2, &e) < 0)
			abort();
		pci_cfg_write(vm->pci, 1 << 3 | 1, 0x20, 4, BM);
		pci_cfg_write(vm->pci, 1 << 3 | 1, 0x04, 2, 0x0005);
	}
	uint8_t *ram = vm->ram[0].hva;
	size_t plen = size < PROG ? size : PROG;
	memset(ram, 0, RAM);
	if (size > PROG)
		memcpy(ram, data + PROG, size - PROG < RAM ? size - PROG : RAM);
	/* a reset between inputs: nothing of the last one carries over */
	fake_out(vm, 0x3f6, 1, 0x04, NULL);
	fake_out(vm, 0x3f6, 1, 0x00, NULL);
	fake_out(vm, 0x376, 1, 0x04, NULL);
	fake_out(vm, 0x376, 1, 0x00, NULL);
	fake_out(vm, BM, 1, 0, NULL);
	fake_out(vm, BM + 8, 1, 0, NULL);
	for (size_t i = 0; i + 3 <= plen; i += 3) {
		uint8_t k = data[i] & 7, a = data[i] >> 3;
		uint16_t v = (uint16_t)(data[i + 1] | data[i + 2] << 8);
		uint16_t port = (a & 8) ? 0x170 : 0x1f0, ctl = (a & 8) ? 0x376 : 0x3f6;
		switch (k) {
		case 0: fake_out(vm, (uint16_t)(port + (a & 7)), 1, v, NULL); break;
		case 1: fake_in(vm, (uint16_t)(port + (a & 7)), 1, NULL); break;
		case 2:
			for (unsigned n = 0; n <= (v >> 8); n++)
				fake_out(vm, port, 2, v, NULL);
			break;
		case 3:
			for (unsigned n = 0; n <= (v & 0xff); n++)
				fake_in(vm, port, (a & 1) ? 4 : 2, NULL);
			break;
		case 4: fake_out(vm, ctl, 1, v, NULL); break;
		case 5: fake_in(vm, ctl, 1, NULL); break;
		case 6: fake_out(vm, BM + (a & 15), 1, v, NULL); break;
		case 7: fake_out(vm, BM + ((a & 1) ? 12 : 4), 4, (uint32_t)v << 4, NULL); break;
		}
	}
	return 0;
}
