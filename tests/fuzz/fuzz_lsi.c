/* fuzz_lsi.c - libFuzzer harness for the LSI Logic 53C1030's message
 * interface and the SCSI target layer: the input's first 16 bytes are the
 * reply frame size, a control byte, four request frame addresses and three
 * reply frame addresses (some outside RAM), the rest becomes the first
 * 64 KiB of guest RAM (frames of any function: SCSI IO, CONFIG, task
 * management...; SG lists, chains, buffers).  The control byte's low five
 * bits are the dwords of a handshake message taken from the start of RAM
 * (IOC_FACTS, CONFIG, EVENT_NOTIFICATION...: any function), sent after
 * IOC_INIT and its reply read as Linux does; its top bit ends the run with
 * the diagnostic register's adapter reset.  A disk (target 0) and a CD-ROM
 * (target 1) sit on memory backends.  Built and run by scripts/fuzz
 * (`scripts/fuzz 60 lsi`). */
#include "config.h"
#include "runner/hw/lsi53c1030.h"
#include "runner/hw/scsi.h"
#include "../runner/fakeio.h"

#include <stdlib.h>
#include <string.h>

#define RAM (64u << 10)
#define DISK (16u << 10)
#define IO 0xc000

static uint8_t disk[DISK];
static struct fake_disk fdisk = { disk, DISK, 0 };
static struct vm *vm;

static void out32(uint16_t port, uint32_t v) { fake_out(vm, IO + port, 4, v, NULL); }
static uint32_t in32(uint16_t port) { return fake_in(vm, IO + port, 4, NULL); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scsi_hba *s;
	od_err e;
	if (!vm) {
		if (!(vm = fake_vm_new(RAM, NULL, &e)))
			abort();
		s = lsi_new(vm, &e);
		struct blk_backend be = fake_disk_backend(&fdisk);
		be.flush = NULL;
		if (!s || scsi_hba_attach(s, 0, SCSI_TYPE_DISK, &be, false, 0, &e) < 0 ||
		    scsi_hba_attach(s, 1, SCSI_TYPE_CDROM, &be, true, 1, &e) < 0)
			abort();
		unsigned bdf = scsi_hba_pci(s)->slot << 3;
		pci_cfg_write(vm->pci, bdf, 0x10, 4, IO);
		pci_cfg_write(vm->pci, bdf, 0x04, 2, 0x0007);
	}
	if (size < 16)
		return 0;
	uint8_t *ram = vm->ram[0].hva;
	memset(ram, 0, RAM);
	memcpy(ram, data + 16, size - 16 < RAM ? size - 16 : RAM);
	out32(0x00, 0x40u << 24);
	uint32_t init[6] = { 0x02000002, 0x00010800, 1, data[0], 0, 0 };
	out32(0x00, 0x42u << 24 | 6u << 16);
	for (unsigned i = 0; i < 6; i++)
		out32(0x00, init[i]);
	for (unsigned i = 0; i < 12; i++) {
		in32(0x00);
		out32(0x30, 0);
	}
	/* addresses: 12 bits of the input times 16, so some are beyond RAM */
	for (unsigned i = 0; i < 3; i++)
		out32(0x44, (uint32_t)(od_ld16(data + 10 + 2 * i) & 0xfff) << 4);
	unsigned hs = data[1] & 0x1f;
	if (hs) {
		out32(0x00, 0x42u << 24 | hs << 16);
		out32(0x30, 0);
		for (unsigned i = 0; i < hs; i++)
			out32(0x00, od_ld32(ram + 4 * i));
		for (unsigned i = 0; i < 80; i++) { /* more than the longest reply */
			in32(0x00);
			out32(0x30, 0);
		}
	}
	/* the reply frames again: a handshake may have used one */
	for (unsigned i = 0; i < 3; i++)
		out32(0x44, (uint32_t)(od_ld16(data + 10 + 2 * i) & 0xfff) << 4);
	for (unsigned i = 0; i < 4; i++) {
		out32(0x40, (uint32_t)(od_ld16(data + 2 + 2 * i) & 0xfff) << 4);
		for (unsigned n = 0; in32(0x44) != 0xffffffffu; n++)
			if (n > 2000)
				abort(); /* the post FIFO never empties */
	}
	if (data[1] & 0x80) {
		static const uint32_t key[] = { 0xff, 0x04, 0x0b, 0x02, 0x07, 0x0d };
		for (unsigned i = 0; i < 6; i++)
			out32(0x04, key[i]);
		out32(0x08, in32(0x08) | 0x04);
		if (in32(0x00) >> 28 != 1)
			abort(); /* not READY after the reset */
	}
	return 0;
}
