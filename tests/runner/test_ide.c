/* test_ide.c - the PIIX3 IDE controller against fake guest memory, without
 * KVM: the PCI function, drive detection as firmware does it, ATA PIO and
 * bus-master DMA reads and writes, ATAPI packets (PIO, piecewise CD reads,
 * DMA, errors with their sense), then what a hostile driver can do (PRD
 * tables that leave RAM, run short or never end, wrong directions, commands
 * out of range or refused), interrupts and resets. */
#include "config.h"
#include "runner/hw/ide.h"
#include "fakeio.h"

#include <check.h>
#include "../check_run.h"
#include <stdlib.h>
#include <string.h>

#define RAM (1u << 20)
#define DISK (64u << 10)
#define CD (160u << 10)
#define BM 0xc000 /* bus master BAR */
#define PRD 0x1000
#define DATA 0x20000

/* registers */
#define P0 0x1f0
#define P1 0x170
#define R_DATA 0
#define R_ERR 1
#define R_COUNT 2
#define R_LBA0 3
#define R_LBA1 4
#define R_LBA2 5
#define R_DEV 6
#define R_CMD 7
#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_DRDY 0x40

static struct vm *vm;
static uint8_t *ram;
static uint8_t disk[DISK], rodisk[DISK], cd[CD];
static struct fake_disk fdisk, frodisk, fcd;
static struct ide *s;

static void ob(uint16_t port, uint8_t v) { fake_out(vm, port, 1, v, NULL); }
static uint8_t ib(uint16_t port) { return (uint8_t)fake_in(vm, port, 1, NULL); }
static uint16_t iw(uint16_t port) { return (uint16_t)fake_in(vm, port, 2, NULL); }
static void ow(uint16_t port, uint16_t v) { fake_out(vm, port, 2, v, NULL); }
static uint16_t base(unsigned unit) { return unit < 2 ? P0 : P1; }
static uint8_t status(unsigned unit) { return ib(base(unit) + R_CMD); }
static uint8_t alt(unsigned unit) { return ib(unit < 2 ? 0x3f6 : 0x376); }
static int irq(unsigned unit) { return vm->irq_level[unit < 2 ? 14 : 15]; }

/* Issue `cmd` to `unit` with an LBA28 (or, ext, LBA48) address. */
static void ata(unsigned unit, uint8_t cmd, uint8_t feature, uint32_t count, uint64_t lba, bool ext)
{
	uint16_t b = base(unit);
	ob(b + R_DEV, (uint8_t)(0xe0 | (unit & 1) << 4 | (ext ? 0 : (lba >> 24) & 0xf)));
	if (ext) {
		ob(b + R_ERR, 0);
		ob(b + R_COUNT, (uint8_t)(count >> 8));
		ob(b + R_LBA0, (uint8_t)(lba >> 24));
		ob(b + R_LBA1, (uint8_t)(lba >> 32));
		ob(b + R_LBA2, (uint8_t)(lba >> 40));
	}
	ob(b + R_ERR, feature);
	ob(b + R_COUNT, (uint8_t)count);
	ob(b + R_LBA0, (uint8_t)lba);
	ob(b + R_LBA1, (uint8_t)(lba >> 8));
	ob(b + R_LBA2, (uint8_t)(lba >> 16));
	ob(b + R_CMD, cmd);
}

/* Read `n` bytes of PIO data (one DRQ block or more) into out. */
static void pio_in(unsigned unit, uint8_t *out, unsigned n)
{
	for (unsigned i = 0; i < n; i += 2) {
		uint16_t w = iw(base(unit));
		out[i] = (uint8_t)w;
		out[i + 1] = (uint8_t)(w >> 8);
	}
}

static void pio_out(unsigned unit, const uint8_t *in, unsigned n)
{
	for (unsigned i = 0; i < n; i += 2)
		ow(base(unit), (uint16_t)(in[i] | in[i + 1] << 8));
}

static void prd(unsigned i, uint32_t addr, uint32_t len, bool eot)
{
	od_st32(ram + PRD + 8 * i, addr);
	od_st32(ram + PRD + 8 * i + 4, (len & 0xffff) | (eot ? 0x80000000u : 0));
}

static void bm_start(unsigned ch, bool to_mem)
{
	fake_out(vm, BM + 8 * ch + 4, 4, PRD, NULL);
	ob(BM + 8 * ch + 2, 0x06); /* clear error and interrupt */
	ob(BM + 8 * ch, to_mem ? 0x09 : 0x01);
}

static uint8_t bm_status(unsigned ch) { return ib(BM + 8 * ch + 2); }

static void setup(void)
{
	od_err e;
	vm = fake_vm_new(RAM, &ram, &e);
	ck_assert_msg(vm != NULL, "%s", e.msg);
	fake_disk_init(&fdisk, disk, DISK, 7, 512);
	fake_disk_init(&frodisk, rodisk, DISK, 5, 512);
	fake_disk_init(&fcd, cd, CD, 13, 2048);
	s = ide_new(vm, &e);
	ck_assert_msg(s != NULL, "%s", e.msg);
	struct blk_backend dbe = fake_disk_backend(&fdisk), rbe = fake_disk_backend(&frodisk);
	struct blk_backend cbe = fake_disk_backend(&fcd);
	cbe.pwrite = NULL;
	cbe.flush = NULL;
	/* primary master a disk, primary slave a read-only disk, secondary
	 * master a CD-ROM, secondary slave absent */
	ck_assert_int_eq(ide_attach(s, 0, false, &dbe, false, 0, &e), 0);
	ck_assert_int_eq(ide_attach(s, 1, false, &rbe, true, 1, &e), 0);
	ck_assert_int_eq(ide_attach(s, 2, true, &cbe, true, 2, &e), 0);
	ck_assert_int_lt(ide_attach(s, 2, false, &dbe, false, 3, &e), 0); /* taken */
	ck_assert_int_lt(ide_attach(s, 4, false, &dbe, false, 3, &e), 0); /* no such unit */
	unsigned bdf = 1 << 3 | 1;
	pci_cfg_write(vm->pci, bdf, 0x20, 4, BM);
	pci_cfg_write(vm->pci, bdf, 0x04, 2, 0x0005);
}

static void teardown(void)
{
	ide_free(s);
	fake_vm_free(vm);
}

START_TEST(test_pci_and_detection)
{
	unsigned bdf = 1 << 3 | 1;
	ck_assert_uint_eq(pci_cfg_read(vm->pci, bdf, 0, 4), 0x70108086);
	ck_assert_uint_eq(pci_cfg_read(vm->pci, bdf, 0x08, 4), 0x01018000); /* IDE, bus master, legacy */
	ck_assert_uint_eq(pci_cfg_read(vm->pci, 1 << 3, 0x0e, 1), 0x80);    /* the ISA bridge: multi-function */
	ck_assert_uint_eq(pci_cfg_read(vm->pci, bdf, 0x41, 1) & 0x80, 0x80); /* primary decode on */
	ck_assert_uint_eq(pci_cfg_read(vm->pci, 1 << 3 | 2, 0, 4), 0xffffffff); /* no function 2 */
	/* BAR 4: 16 ports */
	pci_cfg_write(vm->pci, bdf, 0x20, 4, 0xffffffff);
	ck_assert_uint_eq(pci_cfg_read(vm->pci, bdf, 0x20, 4), 0xfffffff1);
	pci_cfg_write(vm->pci, bdf, 0x20, 4, BM);
	ck_assert_uint_eq(ide_pci(s)->fn, 1);

	/* what SeaBIOS does: the registers of a present drive keep what is
	 * written, an absent one's read zero beside it */
	ob(P0 + R_DEV, 0xa0);
	ob(P0 + R_COUNT, 0x55);
	ob(P0 + R_LBA0, 0xaa);
	ck_assert_uint_eq(ib(P0 + R_COUNT), 0x55);
	ck_assert_uint_eq(ib(P0 + R_LBA0), 0xaa);
	ck_assert_uint_eq(ib(P0 + R_DEV), 0xa0);
	ob(P1 + R_DEV, 0xb0);
	ob(P1 + R_COUNT, 0x55);
	ck_assert_uint_eq(ib(P1 + R_COUNT), 0);
	ck_assert_uint_eq(status(3), 0);
	ob(P1 + R_DEV, 0xa0);
	/* soft reset: signatures, device 0 selected */
	ob(0x376, 0x0e);
	ck_assert_uint_eq(alt(2) & 0x80, 0x80); /* busy while SRST is set */
	ob(0x376, 0x0a);
	ck_assert_uint_eq(ib(P1 + R_DEV), 0xa0);
	ck_assert_uint_eq(ib(P1 + R_COUNT), 1);
	ck_assert_uint_eq(ib(P1 + R_LBA1), 0x14); /* ATAPI */
	ck_assert_uint_eq(ib(P1 + R_LBA2), 0xeb);
	ck_assert_uint_eq(ib(P1 + R_ERR), 1);
	ob(0x3f6, 0x0e);
	ob(0x3f6, 0x0a);
	ck_assert_uint_eq(ib(P0 + R_LBA1), 0);
	ck_assert_uint_eq(ib(P0 + R_LBA2), 0);
	ck_assert_uint_eq(status(0), 0x50);
	ob(P0 + R_DEV, 0xb0);
	ck_assert_uint_eq(status(1), 0x50); /* the slave is there */
}
END_TEST

/* An IDENTIFY string (two characters a word, the first in the high byte)
 * begins with `want`. */
static bool id_is(const uint8_t *p, const char *want)
{
	for (size_t i = 0; want[i]; i++)
		if (p[i ^ 1] != (uint8_t)want[i])
			return false;
	return true;
}

START_TEST(test_identify)
{
	uint8_t id[512];
	ata(0, 0xec, 0, 0, 0, false);
	ck_assert_uint_eq(status(0), 0x58);
	pio_in(0, id, 512);
	ck_assert_uint_eq(status(0) & ST_DRQ, 0);
	ck_assert_uint_eq(od_ld16(id), 0x0040);
	ck_assert(id_is(id + 54, "OVFDEPLOY VIRTUAL-DISK  "));
	ck_assert(id_is(id + 20, "ovfdeploy-disk0  "));
	ck_assert_uint_eq(od_ld32(id + 120), DISK / 512);              /* LBA28 sectors */
	ck_assert_uint_eq(od_ld64(id + 200), DISK / 512);              /* LBA48 sectors */
	ck_assert_uint_eq(od_ld16(id + 166) & 0x0400, 0x0400);         /* LBA48 */
	ck_assert_uint_eq(od_ld16(id + 98) & 0x0300, 0x0300);          /* LBA, DMA */
	uint8_t sum = 0;
	for (unsigned i = 0; i < 512; i++)
		sum = (uint8_t)(sum + id[i]);
	ck_assert_uint_eq(sum, 0);
	ck_assert_uint_eq(id[510], 0xa5);
	/* the transfer mode set shows */
	ata(0, 0xef, 0x03, 0x45, 0, false); /* UDMA 5 */
	ck_assert_uint_eq(status(0), 0x50);
	ata(0, 0xef, 0x03, 0x48, 0, false); /* UDMA 8: no */
	ck_assert_uint_eq(status(0), 0x51);
	ck_assert_uint_eq(ib(P0 + R_ERR), 0x04);
	ata(0, 0xec, 0, 0, 0, false);
	pio_in(0, id, 512);
	ck_assert_uint_eq(od_ld16(id + 176), 0x203f);
	ck_assert_uint_eq(od_ld16(id + 126), 0x0007);
	/* a disk is no packet device, a CD-ROM no ATA device */
	ata(0, 0xa1, 0, 0, 0, false);
	ck_assert_uint_eq(status(0), 0x51);
	ata(2, 0xec, 0, 0, 0, false);
	ck_assert_uint_eq(status(2) & ST_ERR, ST_ERR);
	ck_assert_uint_eq(ib(P1 + R_LBA1), 0x14);
	ck_assert_uint_eq(ib(P1 + R_LBA2), 0xeb);
	ata(2, 0xa1, 0, 0, 0, false);
	ck_assert_uint_eq(status(2) & (ST_DRQ | ST_ERR), ST_DRQ);
	pio_in(2, id, 512);
	ck_assert_uint_eq(od_ld16(id), 0x85c0);
	ck_assert(id_is(id + 54, "OVFDEPLOY VIRTUAL-CDROM "));
	ck_assert_uint_eq(status(2) & ST_DRQ, 0);
	/* an idle data port reads all ones */
	ck_assert_uint_eq(iw(P1), 0xffff);
}
END_TEST

START_TEST(test_pio)
{
	uint8_t buf[1024];
	/* READ SECTORS, LBA28, two sectors: an interrupt each */
	ata(0, 0x20, 0, 2, 3, false);
	ck_assert_int_eq(irq(0), 1);
	ck_assert_uint_eq(alt(0), 0x58);
	ck_assert_int_eq(irq(0), 1); /* the alternate status does not acknowledge */
	ck_assert_uint_eq(status(0), 0x58);
	ck_assert_int_eq(irq(0), 0);
	pio_in(0, buf, 512);
	ck_assert_int_eq(irq(0), 1);
	pio_in(0, buf + 512, 512);
	ck_assert_uint_eq(status(0), 0x50);
	ck_assert(memcmp(buf, disk + 3 * 512, 1024) == 0);
	/* 32-bit data reads too; LBA48 */
	ata(0, 0x24, 0, 1, 100, true);
	for (unsigned i = 0; i < 512; i += 4)
		od_st32(buf + i, fake_in(vm, P0, 4, NULL));
	ck_assert(memcmp(buf, disk + 100 * 512, 512) == 0);
	ck_assert_uint_eq(status(0), 0x50);
	/* CHS: cylinder 0, head 1, sector 2 is LBA 64 */
	ob(P0 + R_DEV, 0xa1);
	ob(P0 + R_COUNT, 1);
	ob(P0 + R_LBA0, 2);
	ob(P0 + R_LBA1, 0);
	ob(P0 + R_LBA2, 0);
	ob(P0 + R_CMD, 0x20);
	pio_in(0, buf, 512);
	ck_assert(memcmp(buf, disk + 64 * 512, 512) == 0);
	/* WRITE SECTORS: DRQ at once, an interrupt after each sector */
	for (unsigned i = 0; i < 1024; i++)
		buf[i] = (uint8_t)(i * 3 + 1);
	ata(0, 0x30, 0, 2, 10, false);
	ck_assert_uint_eq(status(0), 0x58);
	pio_out(0, buf, 512);
	ck_assert_uint_eq(status(0), 0x58);
	pio_out(0, buf + 512, 512);
	ck_assert_int_eq(irq(0), 1);
	ck_assert_uint_eq(status(0), 0x50);
	ck_assert(memcmp(disk + 10 * 512, buf, 1024) == 0);
	ata(0, 0x34, 0, 1, 20, true);
	pio_out(0, buf, 512);
	ck_assert(memcmp(disk + 20 * 512, buf, 512) == 0);
	/* FLUSH CACHE reaches the backend */
	unsigned fl = fdisk.flushes;
	ata(0, 0xe7, 0, 0, 0, false);
	ck_assert_uint_eq(status(0), 0x50);
	ck_assert_uint_eq(fdisk.flushes, fl + 1);
	ata(0, 0xea, 0, 0, 0, false);
	ck_assert_uint_eq(fdisk.flushes, fl + 2);
	/* nIEN keeps the line low */
	ob(0x3f6, 0x02);
	ata(0, 0x20, 0, 1, 0, false);
	ck_assert_int_eq(irq(0), 0);
	ob(0x3f6, 0x00);
	ck_assert_int_eq(irq(0), 1);
	pio_in(0, buf, 512);
	status(0);
	/* out of range, read-only, refused */
	ata(0, 0x20, 0, 2, DISK / 512 - 1, false);
	ck_assert_uint_eq(status(0), 0x51);
	ck_assert_uint_eq(ib(P0 + R_ERR), 0x14);
	ata(0, 0x24, 0, 1, 1ull << 40, true);
	ck_assert_uint_eq(ib(P0 + R_ERR), 0x14);
	ata(0, 0x24, 0, 0, 0, true); /* 0 is 65536 sectors: past the end */
	ck_assert_uint_eq(ib(P0 + R_ERR), 0x14);
	ata(1, 0x30, 0, 1, 0, false);
	ck_assert_uint_eq(status(1), 0x51);
	ck_assert_uint_eq(ib(P0 + R_ERR), 0x04);
	ata(1, 0x20, 0, 1, 5, false); /* reading it is fine */
	pio_in(1, buf, 512);
	ck_assert(memcmp(buf, rodisk + 5 * 512, 512) == 0);
	ata(0, 0xc6, 0, 16, 0, false); /* SET MULTIPLE: not offered */
	ck_assert_uint_eq(status(0), 0x51);
	ata(0, 0x00, 0, 0, 0, false); /* NOP */
	ck_assert_uint_eq(status(0), 0x51);
	ata(0, 0x40, 0, 4, 0, false); /* READ VERIFY */
	ck_assert_uint_eq(status(0), 0x50);
	/* a new command ends a PIO transfer midway */
	ata(0, 0x20, 0, 4, 0, false);
	pio_in(0, buf, 100);
	ata(0, 0xe7, 0, 0, 0, false);
	ck_assert_uint_eq(status(0), 0x50);
	ck_assert_uint_eq(iw(P0), 0xffff);
	/* HOB reads the previous writes */
	ob(P0 + R_COUNT, 0x12);
	ob(P0 + R_COUNT, 0x34);
	ob(0x3f6, 0x80);
	ck_assert_uint_eq(ib(P0 + R_COUNT), 0x12);
	ob(0x3f6, 0x00);
	ck_assert_uint_eq(ib(P0 + R_COUNT), 0x34);
	ck_assert_uint_ge(ide_requests(s), 8);
}
END_TEST

START_TEST(test_dma)
{
	/* READ DMA of 3 sectors into two buffers; start after the command */
	memset(ram + DATA, 0, 0x2000);
	prd(0, DATA, 1024, false);
	prd(1, DATA + 0x1000, 512, true);
	ata(0, 0xc8, 0, 3, 7, false);
	ck_assert_uint_eq(bm_status(0) & 1, 0);
	ck_assert_int_eq(irq(0), 0);
	bm_start(0, true);
	ck_assert_uint_eq(bm_status(0) & 7, 4); /* done, interrupt */
	ck_assert_int_eq(irq(0), 1);
	ck_assert_uint_eq(status(0), 0x50);
	ck_assert(memcmp(ram + DATA, disk + 7 * 512, 1024) == 0);
	ck_assert(memcmp(ram + DATA + 0x1000, disk + 9 * 512, 512) == 0);
	ob(BM, 0);
	/* WRITE DMA EXT with the bus master started first; a PRD larger than
	 * the transfer is fine */
	for (unsigned i = 0; i < 1024; i++)
		ram[DATA + i] = (uint8_t)(i ^ 0x5a);
	prd(0, DATA, 0, true); /* 0: 64 KiB */
	bm_start(0, false);
	ck_assert_uint_eq(bm_status(0) & 1, 1);
	ata(0, 0x35, 0, 2, 30, true);
	ck_assert_uint_eq(bm_status(0) & 7, 4);
	ck_assert_uint_eq(status(0), 0x50);
	ck_assert(memcmp(disk + 30 * 512, ram + DATA, 1024) == 0);
	ob(BM, 0);
	/* READ DMA EXT */
	ata(0, 0x25, 0, 2, 40, true);
	bm_start(0, true);
	ck_assert_uint_eq(status(0), 0x50);
	ck_assert(memcmp(ram + DATA, disk + 40 * 512, 1024) == 0);
	ob(BM, 0);
	/* a read-only disk refuses WRITE DMA */
	ata(1, 0xca, 0, 1, 0, false);
	ck_assert_uint_eq(status(1), 0x51);
	/* the status register's RW bits */
	ob(BM + 2, 0x60);
	ck_assert_uint_eq(bm_status(0) & 0x60, 0x60);
	fake_out(vm, BM + 4, 4, 0x12345677, NULL);
	ck_assert_uint_eq(fake_in(vm, BM + 4, 4, NULL), 0x12345674);
}
END_TEST

/* A DMA read that must fail without moving data, leaving the drive able to
 * serve the next command. */
static void dma_refused(uint32_t count, bool to_mem)
{
	ata(0, 0xc8, 0, count, 0, false);
	bm_start(0, to_mem);
	ck_assert_uint_eq(status(0), 0x51);
	ck_assert_uint_eq(ib(P0 + R_ERR), 0x04);
	ck_assert_uint_eq(bm_status(0) & 0x07, 0x06); /* error, interrupt, not active */
	ob(BM, 0);
	uint8_t b[512];
	ata(0, 0x20, 0, 1, 1, false);
	pio_in(0, b, 512);
	ck_assert(memcmp(b, disk + 512, 512) == 0);
}

START_TEST(test_hostile_dma)
{
	/* the table outside RAM, or straddling its end */
	fake_out(vm, BM + 4, 4, 0xfff00000, NULL);
	ata(0, 0xc8, 0, 1, 0, false);
	ob(BM, 0x09);
	ck_assert_uint_eq(status(0), 0x51);
	ck_assert_uint_eq(bm_status(0) & 2, 2);
	ob(BM, 0);
	/* a buffer outside RAM, or running past its end */
	prd(0, 0xfff00000, 512, true);
	dma_refused(1, true);
	prd(0, RAM - 256, 512, true);
	dma_refused(1, true);
	/* short of the transfer */
	prd(0, DATA, 512, true);
	dma_refused(2, true);
	/* no end: 8192 entries of 2 bytes, more segments than taken */
	for (unsigned i = 0; i < 8192; i++)
		prd(i, DATA, 2, false);
	dma_refused(DISK / 512, true);
	/* the wrong direction */
	prd(0, DATA, 512, true);
	dma_refused(1, false);
	/* a huge table of 64 KiB entries at the end of RAM: stops at RAM's end */
	for (unsigned i = 0; i < 8192; i++)
		prd(i, DATA, 0, false);
	ata(0, 0xc8, 0, 0, 0, false); /* 256 sectors: more than the disk */
	ck_assert_uint_eq(status(0), 0x51);
	ck_assert_uint_eq(ib(P0 + R_ERR), 0x14);
	/* bus master registers: odd offsets and sizes */
	ck_assert_uint_eq(fake_in(vm, BM + 14, 4, NULL) & 0xffff, 0);
	fake_out(vm, BM + 1, 2, 0xffff, NULL);
	fake_out(vm, BM + 15, 1, 0xff, NULL);
	/* task file: wide accesses */
	fake_out(vm, P0 + 2, 4, 0x00030201, NULL);
	ck_assert_uint_eq(fake_in(vm, P0 + 2, 2, NULL), 0x0201);
	fake_in(vm, P0 + 6, 4, NULL);
	/* a command to the absent drive is not answered */
	ob(P1 + R_DEV, 0xb0);
	ob(P1 + R_CMD, 0xec);
	ck_assert_uint_eq(status(3), 0);
	ck_assert_int_eq(irq(3), 0);
}
END_TEST

/* Send a 12-byte packet to the CD-ROM (unit 2), PIO unless dma, with a
 * byte count limit. */
static void packet(const uint8_t *cdb, uint16_t limit, bool dma)
{
	ob(P1 + R_DEV, 0xa0);
	ob(P1 + R_ERR, dma ? 1 : 0);
	ob(P1 + R_LBA1, (uint8_t)limit);
	ob(P1 + R_LBA2, (uint8_t)(limit >> 8));
	ob(P1 + R_CMD, 0xa0);
	ck_assert_uint_eq(alt(2) & ST_DRQ, ST_DRQ);
	ck_assert_uint_eq(ib(P1 + R_COUNT), 1); /* CoD: the packet */
	uint8_t c[12] = { 0 };
	memcpy(c, cdb, 12);
	pio_out(2, c, 12);
}

/* Read a packet's PIO data: returns the bytes; each DRQ block at most
 * `limit`. */
static unsigned atapi_in(uint8_t *out, unsigned max, unsigned limit)
{
	unsigned n = 0;
	for (unsigned k = 0; k < 1000; k++) {
		uint8_t st = status(2);
		if (!(st & ST_DRQ))
			break;
		ck_assert_uint_eq(ib(P1 + R_COUNT), 2); /* IO: data to the host */
		unsigned len = ib(P1 + R_LBA1) | ib(P1 + R_LBA2) << 8;
		ck_assert_uint_le(len, limit);
		ck_assert_uint_le(n + len, max);
		pio_in(2, out + n, len);
		n += len;
	}
	return n;
}

START_TEST(test_atapi)
{
	static uint8_t buf[96 << 10];
	/* INQUIRY, 36 bytes in blocks of at most 16 */
	static const uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
	packet(inq, 16, false);
	ck_assert_int_eq(irq(2), 1);
	ck_assert_uint_eq(atapi_in(buf, sizeof buf, 16), 36);
	ck_assert_uint_eq(buf[0], 5);
	ck_assert(memcmp(buf + 8, "OVFDEPLY", 8) == 0);
	ck_assert_uint_eq(ib(P1 + R_COUNT), 3); /* IO and CoD: the end */
	ck_assert_uint_eq(status(2) & (ST_DRQ | ST_ERR), 0);
	/* READ CAPACITY */
	static const uint8_t cap[12] = { 0x25 };
	packet(cap, 2048, false);
	ck_assert_uint_eq(atapi_in(buf, sizeof buf, 2048), 8);
	ck_assert_uint_eq(buf[3], CD / 2048 - 1);
	ck_assert_uint_eq(buf[6], 0x08);
	/* READ (10) of 40 blocks: more than the 64 KiB buffer, so in pieces;
	 * SeaBIOS's block at a time */
	static const uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 2, 0, 0, 40 };
	packet(rd, 2048, false);
	ck_assert_uint_eq(atapi_in(buf, sizeof buf, 2048), 40 * 2048);
	ck_assert(memcmp(buf, cd + 2 * 2048, 40 * 2048) == 0);
	/* READ (12) with a large odd limit */
	static const uint8_t rd12[12] = { 0xa8, 0, 0, 0, 0, 1, 0, 0, 0, 3 };
	packet(rd12, 0xffff, false);
	ck_assert_uint_eq(atapi_in(buf, sizeof buf, 0xfffe), 3 * 2048);
	ck_assert(memcmp(buf, cd + 2048, 3 * 2048) == 0);
	/* TEST UNIT READY: no data */
	static const uint8_t tur[12] = { 0 };
	packet(tur, 0, false);
	ck_assert_uint_eq(status(2) & (ST_DRQ | ST_ERR), 0);
	ck_assert_uint_eq(ib(P1 + R_COUNT), 3);
	/* past the end of the disc: CHECK CONDITION, the sense key in the
	 * error register, the sense from REQUEST SENSE */
	static const uint8_t past[12] = { 0x28, 0, 0, 0, 0, 79, 0, 0, 2 };
	packet(past, 2048, false);
	ck_assert_uint_eq(status(2) & (ST_DRQ | ST_ERR), ST_ERR);
	ck_assert_uint_eq(ib(P1 + R_ERR) >> 4, 5);
	static const uint8_t rs[12] = { 0x03, 0, 0, 0, 18 };
	packet(rs, 2048, false);
	ck_assert_uint_eq(atapi_in(buf, sizeof buf, 2048), 18);
	ck_assert_uint_eq(buf[2], 5);
	ck_assert_uint_eq(buf[12], 0x21);
	/* a write to a CD, an unknown opcode */
	static const uint8_t wr[12] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1 };
	packet(wr, 2048, false);
	ck_assert_uint_eq(status(2) & ST_ERR, ST_ERR);
	static const uint8_t bad[12] = { 0xff };
	packet(bad, 2048, false);
	ck_assert_uint_eq(ib(P1 + R_ERR) >> 4, 5);
	/* DMA: READ (10) of 2 blocks into two PRD entries */
	memset(ram + DATA, 0, 0x3000);
	prd(0, DATA, 2048, false);
	prd(1, DATA + 0x2000, 2048, true);
	static const uint8_t rd2[12] = { 0x28, 0, 0, 0, 0, 5, 0, 0, 2 };
	packet(rd2, 0, true);
	ck_assert_uint_eq(status(2) & ST_ERR, 0);
	bm_start(1, true);
	ck_assert_uint_eq(bm_status(1) & 7, 4);
	ck_assert_uint_eq(status(2) & (ST_DRQ | ST_ERR), 0);
	ck_assert_uint_eq(ib(P1 + R_COUNT), 3);
	ck_assert(memcmp(ram + DATA, cd + 5 * 2048, 2048) == 0);
	ck_assert(memcmp(ram + DATA + 0x2000, cd + 6 * 2048, 2048) == 0);
	ob(BM + 8, 0);
	/* DMA with a table too short: refused */
	prd(0, DATA, 2048, true);
	packet(rd2, 0, true);
	bm_start(1, true);
	ck_assert_uint_eq(status(2) & ST_ERR, ST_ERR);
	ob(BM + 8, 0);
	/* DMA with the table outside RAM */
	fake_out(vm, BM + 12, 4, 0xfff00000, NULL);
	packet(rd2, 0, true);
	ob(BM + 8, 0x09);
	ck_assert_uint_eq(status(2) & ST_ERR, ST_ERR);
	ck_assert_uint_eq(bm_status(1) & 2, 2);
	ob(BM + 8, 0);
	/* GET EVENT STATUS NOTIFICATION: the SCSI layer's MMC commands */
	static const uint8_t gesn[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 };
	packet(gesn, 2048, false);
	ck_assert_uint_eq(atapi_in(buf, sizeof buf, 2048), 8);
	ck_assert_uint_eq(buf[5], 0x02);
	/* DEVICE RESET: signature back, no interrupt */
	status(2);
	ob(P1 + R_CMD, 0x08);
	ck_assert_int_eq(irq(2), 0);
	ck_assert_uint_eq(ib(P1 + R_LBA2), 0xeb);
	/* an ATA read to the CD is refused */
	ata(2, 0x20, 0, 1, 0, false);
	ck_assert_uint_eq(status(2) & ST_ERR, ST_ERR);
}
END_TEST

START_TEST(test_reset_and_diagnostic)
{
	uint8_t b[512];
	/* a soft reset ends a transfer */
	ata(0, 0x20, 0, 4, 0, false);
	pio_in(0, b, 10);
	ob(0x3f6, 0x04);
	ob(P0 + R_CMD, 0xec); /* ignored while in reset */
	ob(0x3f6, 0x00);
	ck_assert_uint_eq(status(0), 0x50);
	ck_assert_uint_eq(iw(P0), 0xffff);
	ck_assert_int_eq(irq(0), 0);
	/* EXECUTE DEVICE DIAGNOSTIC */
	ata(0, 0x90, 0, 0, 0, false);
	ck_assert_int_eq(irq(0), 1);
	ck_assert_uint_eq(ib(P0 + R_ERR), 1);
	ck_assert_uint_eq(status(0), 0x50);
	/* power commands */
	ata(0, 0xe5, 0, 0, 0, false);
	ck_assert_uint_eq(ib(P0 + R_COUNT), 0xff);
	ata(0, 0xe0, 0, 0, 0, false);
	ck_assert_uint_eq(status(0), 0x50);
	ata(0, 0xef, 0x02, 0, 0, false);
	ck_assert_uint_eq(status(0), 0x50);
	ata(0, 0xef, 0x99, 0, 0, false);
	ck_assert_uint_eq(status(0), 0x51);
	/* an ATAPI slave keeps its device bit through its own resets */
	od_err e;
	struct blk_backend cbe = fake_disk_backend(&fcd);
	cbe.pwrite = NULL;
	cbe.flush = NULL;
	ck_assert_int_eq(ide_attach(s, 3, true, &cbe, true, 3, &e), 0);
	ata(3, 0xec, 0, 0, 0, false);
	ck_assert_uint_eq(ib(P1 + R_DEV) & 0x10, 0x10);
	ck_assert_uint_eq(ib(P1 + R_LBA2), 0xeb);
	ob(P1 + R_CMD, 0x08);
	ck_assert_uint_eq(ib(P1 + R_DEV) & 0x10, 0x10);
	ata(3, 0xa1, 0, 0, 0, false);
	pio_in(3, b, 512);
	ck_assert(id_is(b + 20, "ovfdeploy-cd3"));
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("runner ide");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_pci_and_detection);
	tcase_add_test(t, test_identify);
	tcase_add_test(t, test_pio);
	tcase_add_test(t, test_dma);
	tcase_add_test(t, test_hostile_dma);
	tcase_add_test(t, test_atapi);
	tcase_add_test(t, test_reset_and_diagnostic);
	suite_add_tcase(su, t);
	return su;
}

int main(void)
{
	return od_check_run(suite());
}
