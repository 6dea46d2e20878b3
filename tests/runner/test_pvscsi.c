/* test_pvscsi.c - the PVSCSI adapter and the SCSI target layer against
 * fake guest memory, without KVM: a driver's set-up through the register
 * BAR, disk and CD-ROM commands through the rings, then what a hostile
 * driver can do (bad ring set-ups, runaway producer indexes, SG lists that
 * loop or leave RAM, refused commands), interrupts and reset. */
#include "config.h"
#include "runner/hw/pvscsi.h"
#include "runner/hw/scsi.h"
#include "fakeio.h"

#include <check.h>
#include "../check_run.h"
#include <stdlib.h>
#include <string.h>

#define RAM (1u << 20)
#define DISK (64u << 10)
#define CD (32u << 10)
#define BAR 0xe0000000ull

/* registers and commands (see pvscsi.c) */
#define R_COMMAND 0x0
#define R_COMMAND_DATA 0x4
#define R_COMMAND_STATUS 0x8
#define R_INTR_STATUS 0x100c
#define R_INTR_MASK 0x2010
#define R_KICK_NON_RW_IO 0x3014
#define R_KICK_RW_IO 0x4018
#define CMD_ADAPTER_RESET 1
#define CMD_SETUP_RINGS 3
#define CMD_RESET_BUS 4
#define CMD_RESET_DEVICE 5
#define CMD_ABORT_CMD 6
#define CMD_CONFIG 7
#define CMD_SETUP_MSG_RING 8
#define CMD_REQCALL 10

/* guest layout */
#define STATE 0x1000
#define REQ 0x2000   /* up to 8 pages */
#define CMP 0xa000   /* 1 page */
#define SENSE 0xb000
#define SGL 0xc000
#define DATA 0x20000

static struct vm *vm;
static uint8_t *ram;
static uint8_t disk[DISK], cd[CD];
static struct fake_disk fdisk, fcd;
static struct scsi_hba *p;
static uint32_t req_prod, cmp_cons;
static unsigned req_entries;

static void wr(uint32_t off, uint32_t v) { fake_mmio_w(vm, BAR + off, 4, v, NULL); }
static uint32_t rd(uint32_t off) { return (uint32_t)fake_mmio_r(vm, BAR + off, 4, NULL); }
static uint32_t st(unsigned off) { return od_ld32(ram + STATE + off); }

static void command(uint32_t cmd, const uint32_t *w, unsigned n)
{
	wr(R_COMMAND, cmd);
	for (unsigned i = 0; i < n; i++)
		wr(R_COMMAND_DATA, w[i]);
}

/* SETUP_RINGS with `nreq` request pages from REQ and one completion page;
 * returns COMMAND_STATUS. */
static uint32_t setup_rings_ppn(uint32_t nreq, uint32_t ncmp, uint64_t state_ppn, uint64_t req_ppn0)
{
	uint32_t w[132] = { 0 };
	w[0] = nreq;
	w[1] = ncmp;
	w[2] = (uint32_t)state_ppn;
	w[3] = (uint32_t)(state_ppn >> 32);
	for (unsigned i = 0; i < 32; i++) {
		uint64_t r = req_ppn0 + i, c = CMP / 4096 + i;
		w[4 + 2 * i] = (uint32_t)r;
		w[5 + 2 * i] = (uint32_t)(r >> 32);
		w[68 + 2 * i] = (uint32_t)c;
		w[69 + 2 * i] = (uint32_t)(c >> 32);
	}
	command(CMD_SETUP_RINGS, w, 132);
	return rd(R_COMMAND_STATUS);
}

static void rings(uint32_t nreq)
{
	memset(ram + STATE, 0, 4096);
	ck_assert_uint_eq(setup_rings_ppn(nreq, 1, STATE / 4096, REQ / 4096), 0);
	req_entries = 32 * nreq;
	ck_assert_uint_eq(st(8), __builtin_ctz(req_entries));
	ck_assert_uint_eq(st(20), 7);
	req_prod = cmp_cons = 0;
}

static void setup(void)
{
	od_err e;
	vm = fake_vm_new(RAM, &ram, &e);
	ck_assert_msg(vm != NULL, "%s", e.msg);
	fake_disk_init(&fdisk, disk, DISK, 7, 512);
	fake_disk_init(&fcd, cd, CD, 13, 2048);
	p = pvscsi_new(vm, &e);
	ck_assert_ptr_nonnull(p);
	struct blk_backend dbe = fake_disk_backend(&fdisk);
	struct blk_backend cbe = fake_disk_backend(&fcd);
	cbe.pwrite = NULL; /* a CD */
	cbe.flush = NULL;
	ck_assert_int_eq(scsi_hba_attach(p, 0, SCSI_TYPE_DISK, &dbe, false, 0, &e), 0);
	ck_assert_int_eq(scsi_hba_attach(p, 1, SCSI_TYPE_CDROM, &cbe, true, 1, &e), 0);
	ck_assert_int_eq(scsi_hba_attach(p, 2, SCSI_TYPE_DISK, &dbe, true, 2, &e), 0);
	ck_assert_int_lt(scsi_hba_attach(p, 2, SCSI_TYPE_DISK, &dbe, true, 2, &e), 0); /* taken */
	ck_assert_int_lt(scsi_hba_attach(p, PVSCSI_MAX_TARGETS, SCSI_TYPE_DISK, &dbe, true, 2, &e), 0);
	struct pci_dev *d = scsi_hba_pci(p);
	unsigned bdf = d->slot << 3;
	ck_assert_uint_eq(pci_cfg_read(vm->pci, bdf, 0, 4), 0x07c015ad);
	ck_assert_uint_eq(pci_cfg_read(vm->pci, bdf, 0x0b, 1), 0x01); /* mass storage */
	/* BAR 0 is 32 KiB of memory */
	pci_cfg_write(vm->pci, bdf, 0x10, 4, 0xffffffff);
	ck_assert_uint_eq(pci_cfg_read(vm->pci, bdf, 0x10, 4), 0xffff8000);
	pci_cfg_write(vm->pci, bdf, 0x10, 4, (uint32_t)BAR);
	pci_cfg_write(vm->pci, bdf, 0x04, 2, 0x0006);
	command(CMD_ADAPTER_RESET, NULL, 0);
	ck_assert_uint_eq(rd(R_COMMAND_STATUS), 0);
}

static void teardown(void)
{
	scsi_hba_free(p);
	fake_vm_free(vm);
}

struct req {
	uint8_t target, lun;
	const uint8_t *cdb;
	unsigned cdb_len;
	uint64_t addr, len;
	uint32_t flags;
	uint64_t sense_addr;
	uint32_t sense_len;
};

/* Queue one request (no kick). */
static void queue(const struct req *r, uint64_t context)
{
	uint8_t *d = ram + REQ + (req_prod % req_entries) * 128;
	memset(d, 0, 128);
	od_st64(d, context);
	od_st64(d + 8, r->addr);
	od_st64(d + 16, r->len);
	od_st64(d + 24, r->sense_addr);
	od_st32(d + 32, r->sense_len);
	od_st32(d + 36, r->flags);
	memcpy(d + 40, r->cdb, r->cdb_len);
	d[56] = (uint8_t)r->cdb_len;
	d[58] = r->lun;
	d[65] = 0x20; /* simple queue tag */
	d[67] = r->target;
	req_prod++;
	od_st32(ram + STATE, req_prod);
}

struct cmp {
	uint64_t context, len;
	uint32_t sense_len;
	uint16_t host, status;
};

static struct cmp take(void)
{
	ck_assert_uint_ne(st(12), cmp_cons); /* something completed */
	const uint8_t *c = ram + CMP + (cmp_cons % 128) * 32;
	struct cmp r = { od_ld64(c), od_ld64(c + 8), od_ld32(c + 16), od_ld16(c + 20), od_ld16(c + 22) };
	cmp_cons++;
	od_st32(ram + STATE + 16, cmp_cons);
	return r;
}

/* One request, kicked and completed. */
static struct cmp run(const struct req *r)
{
	static uint64_t ctx = 1;
	queue(r, ctx);
	wr(R_KICK_RW_IO, 0);
	ck_assert_uint_eq(st(4), req_prod); /* consumed */
	struct cmp c = take();
	ck_assert_uint_eq(c.context, ctx);
	ctx++;
	return c;
}

/* A data-in command to target `t` into DATA, `len` bytes. */
static struct cmp cmd_in(uint8_t t, const uint8_t *cdb, unsigned cdb_len, uint64_t len)
{
	memset(ram + DATA, 0xee, 0x10000);
	memset(ram + SENSE, 0, 64);
	struct req r = { t, 0, cdb, cdb_len, DATA, len, 0x8, SENSE, 64 };
	return run(&r);
}

static void assert_sense(const struct cmp *c, uint8_t sk, uint8_t asc)
{
	ck_assert_uint_eq(c->host, 0);
	ck_assert_uint_eq(c->status, SCSI_STATUS_CHECK);
	ck_assert_uint_eq(c->sense_len, 18);
	ck_assert_uint_eq(ram[SENSE] & 0x7f, 0x70);
	ck_assert_uint_eq(ram[SENSE + 2] & 0xf, sk);
	ck_assert_uint_eq(ram[SENSE + 12], asc);
}

static uint32_t be32(const uint8_t *b) { return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]; }

START_TEST(test_disk_commands)
{
	rings(1);
	const uint8_t *d = ram + DATA;
	/* INQUIRY: a disk, our vendor; the allocation length is obeyed */
	uint8_t inq[6] = { 0x12, 0, 0, 0, 96, 0 };
	struct cmp c = cmd_in(0, inq, 6, 4096);
	ck_assert_uint_eq(c.host, 0);
	ck_assert_uint_eq(c.status, 0);
	ck_assert_uint_eq(c.len, 36);
	ck_assert_uint_eq(d[0], 0);
	ck_assert_int_eq(memcmp(d + 8, "OVFDEPLY", 8), 0);
	inq[4] = 5;
	c = cmd_in(0, inq, 6, 4096);
	ck_assert_uint_eq(c.len, 5);
	ck_assert_uint_eq(d[5], 0xee);
	/* VPD pages */
	uint8_t vpd[6] = { 0x12, 1, 0, 0, 255, 0 };
	c = cmd_in(0, vpd, 6, 255);
	ck_assert_uint_eq(c.status, 0);
	ck_assert_uint_eq(d[3], 6);
	ck_assert_int_eq(memcmp(d + 4, "\x00\x80\x83\xb0\xb1\xb2", 6), 0);
	vpd[2] = 0x80;
	c = cmd_in(0, vpd, 6, 255);
	ck_assert_int_eq(memcmp(d + 4, "ovfdeploy-disk0", 15), 0);
	vpd[2] = 0x83;
	c = cmd_in(0, vpd, 6, 255);
	ck_assert_uint_eq(d[5] & 0xf, 1); /* T10 vendor ID */
	ck_assert_int_eq(memcmp(d + 8, "OVFDEPLY", 8), 0);
	vpd[2] = 0xb0;
	c = cmd_in(0, vpd, 6, 255);
	ck_assert_uint_eq(c.len, 64);
	vpd[2] = 0xb1;
	c = cmd_in(0, vpd, 6, 255);
	ck_assert_uint_eq(d[5], 1); /* non-rotating */
	/* READ CAPACITY (10) and (16) */
	uint8_t cap10[10] = { 0x25 };
	c = cmd_in(0, cap10, 10, 8);
	ck_assert_uint_eq(c.len, 8);
	ck_assert_uint_eq(be32(d), DISK / 512 - 1);
	ck_assert_uint_eq(be32(d + 4), 512);
	uint8_t cap16[16] = { 0x9e, 0x10, [13] = 32 };
	c = cmd_in(0, cap16, 16, 32);
	ck_assert_uint_eq(c.len, 32);
	ck_assert_uint_eq(be32(d + 4), DISK / 512 - 1);
	ck_assert_uint_eq(be32(d + 8), 512);
	/* READ (10) of sectors 3-4 into one buffer */
	uint8_t r10[10] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 2, 0 };
	c = cmd_in(0, r10, 10, 1024);
	ck_assert_uint_eq(c.status, 0);
	ck_assert_uint_eq(c.len, 1024);
	ck_assert_int_eq(memcmp(d, disk + 3 * 512, 1024), 0);
	/* READ (6) and READ (16) */
	uint8_t r6[6] = { 0x08, 0, 0, 5, 1, 0 };
	c = cmd_in(0, r6, 6, 512);
	ck_assert_int_eq(memcmp(d, disk + 5 * 512, 512), 0);
	uint8_t r16[16] = { 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1 };
	c = cmd_in(0, r16, 16, 512);
	ck_assert_int_eq(memcmp(d, disk + 7 * 512, 512), 0);
	/* WRITE (10) of two sectors from an SG list of three pieces */
	for (unsigned i = 0; i < 1024; i++)
		ram[DATA + 0x8000 + i] = (uint8_t)(i ^ 0x5a);
	uint8_t *sg = ram + SGL;
	od_st64(sg, DATA + 0x8000); od_st32(sg + 8, 100); od_st32(sg + 12, 0);
	od_st64(sg + 16, DATA + 0x8000 + 100); od_st32(sg + 24, 0); od_st32(sg + 28, 0); /* empty */
	od_st64(sg + 32, DATA + 0x8000 + 100); od_st32(sg + 40, 900); od_st32(sg + 44, 0);
	od_st64(sg + 48, DATA + 0x8000 + 1000); od_st32(sg + 56, 4000); od_st32(sg + 60, 0); /* longer than needed */
	uint8_t w10[10] = { 0x2a, 0, 0, 0, 0, 10, 0, 0, 2, 0 };
	struct req wr10 = { 0, 0, w10, 10, SGL, 1024, 0x10 | 0x1, SENSE, 64 };
	c = run(&wr10);
	ck_assert_uint_eq(c.status, 0);
	ck_assert_uint_eq(c.len, 1024);
	ck_assert_int_eq(memcmp(disk + 10 * 512, ram + DATA + 0x8000, 1024), 0);
	/* WRITE (16) and WRITE (6) */
	uint8_t w16[16] = { 0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 1 };
	struct req wr16 = { 0, 0, w16, 16, DATA + 0x8000, 512, 0x10, SENSE, 64 };
	ck_assert_uint_eq(run(&wr16).status, 0);
	ck_assert_int_eq(memcmp(disk + 20 * 512, ram + DATA + 0x8000, 512), 0);
	uint8_t w6[6] = { 0x0a, 0, 0, 21, 1, 0 };
	struct req wr6 = { 0, 0, w6, 6, DATA + 0x8000 + 512, 512, 0x10, SENSE, 64 };
	ck_assert_uint_eq(run(&wr6).status, 0);
	ck_assert_int_eq(memcmp(disk + 21 * 512, ram + DATA + 0x8000 + 512, 512), 0);
	/* SYNCHRONIZE CACHE (10) and (16) flush */
	uint8_t sync10[10] = { 0x35 }, sync16[16] = { 0x91 };
	ck_assert_uint_eq(cmd_in(0, sync10, 10, 0).status, 0);
	ck_assert_uint_eq(cmd_in(0, sync16, 16, 0).status, 0);
	ck_assert_uint_eq(fdisk.flushes, 2);
	/* TEST UNIT READY, START STOP UNIT */
	uint8_t tur[6] = { 0 }, ssu[6] = { 0x1b, 0, 0, 0, 1, 0 };
	ck_assert_uint_eq(cmd_in(0, tur, 6, 0).status, 0);
	ck_assert_uint_eq(cmd_in(0, ssu, 6, 0).status, 0);
	/* REPORT LUNS: LUN 0 only */
	uint8_t rl[12] = { 0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	c = cmd_in(0, rl, 12, 256);
	ck_assert_uint_eq(c.len, 16);
	ck_assert_uint_eq(be32(d), 8);
	/* MODE SENSE (6), all pages: header, block descriptor, caching page */
	uint8_t ms6[6] = { 0x1a, 0, 0x3f, 0, 192, 0 };
	c = cmd_in(0, ms6, 6, 192);
	ck_assert_uint_eq(c.status, 0);
	ck_assert_uint_eq(d[0], c.len - 1);
	ck_assert_uint_eq(d[2] & 0x80, 0); /* writable */
	ck_assert_uint_eq(d[3], 8);
	ck_assert_uint_eq(d[12], 0x08);
	ck_assert_uint_eq(d[14] & 0x04, 0x04); /* WCE */
	/* MODE SENSE (10), caching page, no block descriptor, read-only disk */
	uint8_t ms10[10] = { 0x5a, 0x08, 0x08, 0, 0, 0, 0, 0, 64, 0 };
	c = cmd_in(2, ms10, 10, 64);
	ck_assert_uint_eq(c.status, 0);
	ck_assert_uint_eq(c.len, 28);
	ck_assert_uint_eq(d[3] & 0x80, 0x80); /* write protected */
	ck_assert_uint_eq(d[8], 0x08);
	/* a write to the read-only disk: DATA PROTECT, and the disk is intact */
	uint8_t before[512];
	memcpy(before, disk + 30 * 512, 512);
	uint8_t w10b[10] = { 0x2a, 0, 0, 0, 0, 30, 0, 0, 1, 0 };
	struct req ro = { 2, 0, w10b, 10, DATA, 512, 0x10, SENSE, 64 };
	memset(ram + SENSE, 0, 64);
	c = run(&ro);
	assert_sense(&c, SCSI_SK_DATA_PROTECT, 0x27);
	ck_assert_int_eq(memcmp(before, disk + 30 * 512, 512), 0);
	/* REQUEST SENSE returns that sense once, then NO SENSE */
	uint8_t rs[6] = { 0x03, 0, 0, 0, 18, 0 };
	c = cmd_in(2, rs, 6, 18);
	ck_assert_uint_eq(c.len, 18);
	ck_assert_uint_eq(d[2], SCSI_SK_DATA_PROTECT);
	c = cmd_in(2, rs, 6, 18);
	ck_assert_uint_eq(d[2], SCSI_SK_NO_SENSE);
	ck_assert_uint_ge(scsi_hba_requests(p), 25);
}
END_TEST

START_TEST(test_cdrom_commands)
{
	rings(1);
	const uint8_t *d = ram + DATA;
	uint8_t inq[6] = { 0x12, 0, 0, 0, 36, 0 };
	struct cmp c = cmd_in(1, inq, 6, 36);
	ck_assert_uint_eq(d[0], 5);
	ck_assert_uint_eq(d[1], 0x80); /* removable */
	uint8_t cap10[10] = { 0x25 };
	cmd_in(1, cap10, 10, 8);
	ck_assert_uint_eq(be32(d), CD / 2048 - 1);
	ck_assert_uint_eq(be32(d + 4), 2048);
	/* READ (10) and (12) in 2048-byte blocks */
	uint8_t r10[10] = { 0x28, 0, 0, 0, 0, 2, 0, 0, 1, 0 };
	c = cmd_in(1, r10, 10, 2048);
	ck_assert_uint_eq(c.len, 2048);
	ck_assert_int_eq(memcmp(d, cd + 2 * 2048, 2048), 0);
	uint8_t r12[12] = { 0xa8, 0, 0, 0, 0, 3, 0, 0, 0, 2 };
	c = cmd_in(1, r12, 12, 4096);
	ck_assert_int_eq(memcmp(d, cd + 3 * 2048, 4096), 0);
	/* READ TOC, LBA form: track 1 at 0, lead-out at the end */
	uint8_t toc[10] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 100, 0 };
	c = cmd_in(1, toc, 10, 100);
	ck_assert_uint_eq(c.len, 20);
	ck_assert_uint_eq(d[2], 1);
	ck_assert_uint_eq(d[3], 1);
	ck_assert_uint_eq(d[6], 1);
	ck_assert_uint_eq(d[14], 0xaa);
	ck_assert_uint_eq(be32(d + 16), CD / 2048);
	/* ... MSF form: track 1 at 00:02:00 */
	toc[1] = 2;
	cmd_in(1, toc, 10, 100);
	ck_assert_uint_eq(d[10], 2);
	/* session information */
	uint8_t toc1[10] = { 0x43, 0, 1, 0, 0, 0, 0, 0, 12, 0 };
	c = cmd_in(1, toc1, 10, 12);
	ck_assert_uint_eq(c.len, 12);
	/* GET CONFIGURATION: current profile CD-ROM, profile list first */
	uint8_t gc[10] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 64, 0 };
	c = cmd_in(1, gc, 10, 64);
	ck_assert_uint_eq(c.status, 0);
	ck_assert_uint_eq(d[6] << 8 | d[7], 0x0008);
	ck_assert_uint_eq(be32(d) + 4, c.len);
	ck_assert_uint_eq(d[8] << 8 | d[9], 0x0000);
	/* only the core feature */
	uint8_t gc1[10] = { 0x46, 2, 0, 1, 0, 0, 0, 0, 64, 0 };
	c = cmd_in(1, gc1, 10, 64);
	ck_assert_uint_eq(c.len, 8 + 12);
	ck_assert_uint_eq(d[9], 0x01);
	/* GET EVENT STATUS NOTIFICATION, polled, media class */
	uint8_t gesn[10] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0 };
	c = cmd_in(1, gesn, 10, 8);
	ck_assert_uint_eq(c.len, 8);
	ck_assert_uint_eq(d[2], 4);
	ck_assert_uint_eq(d[5] & 2, 2); /* media present */
	gesn[1] = 0; /* asynchronous: refused */
	c = cmd_in(1, gesn, 10, 8);
	assert_sense(&c, SCSI_SK_ILLEGAL_REQUEST, 0x24);
	/* MECHANISM STATUS, READ DISC INFORMATION */
	uint8_t mech[12] = { 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8 };
	c = cmd_in(1, mech, 12, 8);
	ck_assert_uint_eq(c.len, 8);
	uint8_t rdi[10] = { 0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0 };
	c = cmd_in(1, rdi, 10, 34);
	ck_assert_uint_eq(c.len, 34);
	ck_assert_uint_eq(d[2] & 3, 2); /* complete disc */
	/* MODE SENSE (10) of the capabilities page */
	uint8_t ms10[10] = { 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64, 0 };
	c = cmd_in(1, ms10, 10, 64);
	ck_assert_uint_eq(c.status, 0);
	ck_assert_uint_eq(d[8], 0x2a);
	/* a CD refuses writes, READ (16) and the disk-only VPD pages */
	uint8_t w10[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	c = cmd_in(1, w10, 10, 2048);
	assert_sense(&c, SCSI_SK_ILLEGAL_REQUEST, 0x20);
	uint8_t vpd[6] = { 0x12, 1, 0xb0, 0, 255, 0 };
	c = cmd_in(1, vpd, 6, 255);
	assert_sense(&c, SCSI_SK_ILLEGAL_REQUEST, 0x24);
	/* a read past the end of the disc */
	uint8_t past[10] = { 0x28, 0, 0, 0, 0, CD / 2048, 0, 0, 1, 0 };
	c = cmd_in(1, past, 10, 2048);
	assert_sense(&c, SCSI_SK_ILLEGAL_REQUEST, 0x21);
}
END_TEST

START_TEST(test_refused_commands)
{
	rings(1);
	/* unknown opcodes: CHECK CONDITION, ILLEGAL REQUEST, INVALID COMMAND
	 * OPERATION CODE, sense in the guest's buffer */
	static const uint8_t ops[] = { 0x04, 0x15, 0x42, 0x85, 0xa1, 0xff, 0x43, 0x46, 0xbd };
	for (unsigned i = 0; i < sizeof ops; i++) {
		uint8_t cdb[16] = { ops[i] };
		struct cmp c = cmd_in(0, cdb, 16, 512);
		assert_sense(&c, SCSI_SK_ILLEGAL_REQUEST, 0x20);
		ck_assert_uint_eq(c.len, 0);
	}
	/* a bad field: INQUIRY with a page code but no EVPD, a VPD page we lack */
	uint8_t inq[6] = { 0x12, 0, 0x80, 0, 36, 0 };
	struct cmp c = cmd_in(0, inq, 6, 36);
	assert_sense(&c, SCSI_SK_ILLEGAL_REQUEST, 0x24);
	uint8_t vpd[6] = { 0x12, 1, 0x89, 0, 255, 0 };
	c = cmd_in(0, vpd, 6, 255);
	assert_sense(&c, SCSI_SK_ILLEGAL_REQUEST, 0x24);
	uint8_t ms[6] = { 0x1a, 0, 0x1c, 0, 192, 0 };
	c = cmd_in(0, ms, 6, 192);
	assert_sense(&c, SCSI_SK_ILLEGAL_REQUEST, 0x24);
	uint8_t saved[6] = { 0x1a, 0, 0xff, 0, 192, 0 };
	c = cmd_in(0, saved, 6, 192);
	assert_sense(&c, SCSI_SK_ILLEGAL_REQUEST, 0x39);
	/* LBAs past the end, and ones whose end wraps */
	uint8_t r16[16] = { 0x88, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2 };
	c = cmd_in(0, r16, 16, 1024);
	assert_sense(&c, SCSI_SK_ILLEGAL_REQUEST, 0x21);
	uint8_t r10[10] = { 0x28, 0, 0, 0, 0, DISK / 512 - 1, 0, 0, 2, 0 };
	c = cmd_in(0, r10, 10, 1024);
	assert_sense(&c, SCSI_SK_ILLEGAL_REQUEST, 0x21);
	/* a buffer smaller than the transfer: a data overrun, nothing moved */
	r10[5] = 0;
	c = cmd_in(0, r10, 10, 1000);
	ck_assert_uint_eq(c.host, 0x12);
	ck_assert_uint_eq(c.len, 0);
	ck_assert_uint_eq(ram[DATA], 0xee);
	/* no such target, no such bus */
	uint8_t tur[6] = { 0 };
	c = cmd_in(3, tur, 6, 0);
	ck_assert_uint_eq(c.host, 0x11);
	c = cmd_in(200, tur, 6, 0);
	ck_assert_uint_eq(c.host, 0x11);
	/* LUN 1 of a present target: INQUIRY says "no unit", others refuse */
	uint8_t inq0[6] = { 0x12, 0, 0, 0, 36, 0 };
	struct req l1 = { 0, 1, inq0, 6, DATA, 36, 0x8, SENSE, 64 };
	c = run(&l1);
	ck_assert_uint_eq(c.status, 0);
	ck_assert_uint_eq(ram[DATA], 0x7f);
	struct req l1t = { 0, 1, tur, 6, 0, 0, 0x4, SENSE, 64 };
	c = run(&l1t);
	assert_sense(&c, SCSI_SK_ILLEGAL_REQUEST, 0x25);
	/* CDB lengths 0 and 17 */
	struct req bad = { 0, 0, tur, 0, 0, 0, 0x4, SENSE, 64 };
	ck_assert_uint_eq(run(&bad).host, 0x1a);
	bad.cdb_len = 17;
	uint8_t big[17] = { 0 };
	bad.cdb = big;
	queue(&bad, 99);
	ram[REQ + ((req_prod - 1) % req_entries) * 128 + 56] = 17;
	wr(R_KICK_NON_RW_IO, 0);
	ck_assert_uint_eq(take().host, 0x1a);
	/* a sense buffer outside RAM: the command still completes */
	uint8_t op[6] = { 0xff };
	struct req nosense = { 0, 0, op, 6, 0, 0, 0x4, RAM - 4, 18 };
	c = run(&nosense);
	ck_assert_uint_eq(c.status, SCSI_STATUS_CHECK);
	ck_assert_uint_eq(c.sense_len, 0);
	/* a short sense buffer gets what fits */
	memset(ram + SENSE, 0, 64);
	struct req short_sense = { 0, 0, op, 6, 0, 0, 0x4, SENSE, 8 };
	c = run(&short_sense);
	ck_assert_uint_eq(c.sense_len, 8);
	ck_assert_uint_eq(ram[SENSE + 8], 0);
}
END_TEST

START_TEST(test_hostile_rings)
{
	/* kicks before any ring: nothing happens */
	wr(R_KICK_RW_IO, 0);
	/* ring set-ups refused: page counts not a power of two, zero, too
	 * many; pages outside RAM or beyond any address */
	ck_assert_uint_eq(setup_rings_ppn(3, 1, STATE / 4096, REQ / 4096), 0xffffffff);
	ck_assert_uint_eq(setup_rings_ppn(0, 1, STATE / 4096, REQ / 4096), 0xffffffff);
	ck_assert_uint_eq(setup_rings_ppn(1, 0, STATE / 4096, REQ / 4096), 0xffffffff);
	ck_assert_uint_eq(setup_rings_ppn(64, 1, STATE / 4096, REQ / 4096), 0xffffffff);
	ck_assert_uint_eq(setup_rings_ppn(1, 64, STATE / 4096, REQ / 4096), 0xffffffff);
	ck_assert_uint_eq(setup_rings_ppn(1, 1, RAM / 4096, REQ / 4096), 0xffffffff);
	ck_assert_uint_eq(setup_rings_ppn(1, 1, 1ull << 60, REQ / 4096), 0xffffffff);
	ck_assert_uint_eq(setup_rings_ppn(1, 1, STATE / 4096, RAM / 4096), 0xffffffff);
	ck_assert_uint_eq(setup_rings_ppn(2, 1, STATE / 4096, RAM / 4096 - 1), 0xffffffff);
	ck_assert_uint_eq(setup_rings_ppn(1, 1, STATE / 4096, (1ull << 52) - 1), 0xffffffff);
	od_st32(ram + STATE, 5);
	wr(R_KICK_RW_IO, 0);
	ck_assert_uint_eq(st(12), 0); /* still no rings */

	/* data words with no command, unsupported commands (status -1, their
	 * data dropped), the probe of a supported one (its size in dwords) */
	wr(R_COMMAND_DATA, 1234);
	wr(R_COMMAND, CMD_CONFIG);
	ck_assert_uint_eq(rd(R_COMMAND_STATUS), 0xffffffff);
	for (unsigned i = 0; i < 6; i++)
		wr(R_COMMAND_DATA, 0xffffffff);
	wr(R_COMMAND, CMD_REQCALL);
	ck_assert_uint_eq(rd(R_COMMAND_STATUS), 0xffffffff);
	wr(R_COMMAND, 0x7fffffff);
	ck_assert_uint_eq(rd(R_COMMAND_STATUS), 0xffffffff);
	wr(R_COMMAND, CMD_SETUP_MSG_RING);
	ck_assert_uint_eq(rd(R_COMMAND_STATUS), 34);
	/* odd-sized and unaligned register accesses are ignored */
	fake_mmio_w(vm, BAR + R_COMMAND, 2, CMD_ADAPTER_RESET, NULL);
	ck_assert_uint_eq(fake_mmio_r(vm, BAR + R_COMMAND_STATUS, 1, NULL), 0xff);

	/* a runaway producer: 8 request pages (256 entries), a completion
	 * ring of 128; the guest claims 1000 requests and never consumes */
	rings(8);
	uint8_t tur[6] = { 0 };
	struct req r = { 0, 0, tur, 6, 0, 0, 0x4, 0, 0 };
	for (unsigned i = 0; i < req_entries; i++)
		queue(&r, i + 1);
	od_st32(ram + STATE, 1000);
	od_st32(ram + STATE + 4, 777); /* the guest scribbles on our index */
	wr(R_KICK_RW_IO, 0);
	ck_assert_uint_eq(st(12), 128); /* stopped at a full completion ring */
	ck_assert_uint_eq(st(4), 128);
	/* the guest drains it: the next kick serves at most a ring's worth */
	od_st32(ram + STATE + 16, 128);
	wr(R_KICK_RW_IO, 0);
	ck_assert_uint_eq(st(12), 256);
	od_st32(ram + STATE + 16, 256);
	wr(R_KICK_RW_IO, 0);
	ck_assert_uint_eq(st(12), 384);
	/* completions only ever landed in the completion page */
	ck_assert_uint_eq(od_ld64(ram + CMP + 32 * 127), 128); /* request 383 is slot 127 */
	ck_assert_uint_eq(od_ld64(ram + SENSE), 0);
	/* a consumer index ahead of the producer reads as a full ring */
	od_st32(ram + STATE + 16, 0xffffff00);
	wr(R_KICK_RW_IO, 0);
	ck_assert_uint_eq(st(12), 384);

	/* SETUP_MSG_RING: bad page counts refused, a good one announced */
	uint32_t w[34] = { 3 };
	command(CMD_SETUP_MSG_RING, w, 34);
	ck_assert_uint_eq(rd(R_COMMAND_STATUS), 0xffffffff);
	w[0] = 32;
	command(CMD_SETUP_MSG_RING, w, 34);
	ck_assert_uint_eq(rd(R_COMMAND_STATUS), 0xffffffff);
	w[0] = 1;
	w[2] = 0xd;
	command(CMD_SETUP_MSG_RING, w, 34);
	ck_assert_uint_eq(rd(R_COMMAND_STATUS), 0);
	ck_assert_uint_eq(st(136), 5);
	/* the resets and abort are accepted */
	command(CMD_RESET_BUS, NULL, 0);
	ck_assert_uint_eq(rd(R_COMMAND_STATUS), 0);
	uint32_t rd3[3] = { 0 }, ab[4] = { 1, 0, 0, 0 };
	command(CMD_RESET_DEVICE, rd3, 3);
	ck_assert_uint_eq(rd(R_COMMAND_STATUS), 0);
	command(CMD_ABORT_CMD, ab, 4);
	ck_assert_uint_eq(rd(R_COMMAND_STATUS), 0);
}
END_TEST

START_TEST(test_hostile_sg)
{
	rings(1);
	uint8_t r10[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0 };
	uint8_t *sg = ram + SGL;
	struct req r = { 0, 0, r10, 10, SGL, 4096, 0x8 | 0x1, SENSE, 64 };
	/* an element outside RAM, one straddling its end */
	od_st64(sg, RAM + 4096); od_st32(sg + 8, 4096); od_st32(sg + 12, 0);
	ck_assert_uint_eq(run(&r).host, 0x1a);
	od_st64(sg, RAM - 100); od_st32(sg + 8, 4096);
	ck_assert_uint_eq(run(&r).host, 0x1a);
	/* an element whose address wraps */
	od_st64(sg, ~0ull - 10);
	ck_assert_uint_eq(run(&r).host, 0x1a);
	/* a chain element pointing at itself */
	od_st64(sg, SGL); od_st32(sg + 8, 0); od_st32(sg + 12, 1);
	ck_assert_uint_eq(run(&r).host, 0x1a);
	/* two chain elements pointing at each other */
	od_st64(sg, SGL + 0x100); od_st32(sg + 12, 1);
	od_st64(sg + 0x100, SGL); od_st32(sg + 0x100 + 12, 1);
	ck_assert_uint_eq(run(&r).host, 0x1a);
	/* a list of empty elements running to the end of RAM */
	memset(ram + 0x40000, 0, RAM - 0x40000);
	r.addr = 0x40000;
	ck_assert_uint_eq(run(&r).host, 0x1a);
	/* more one-byte elements than the walk allows */
	for (unsigned i = 0; i < 4096; i++) {
		uint8_t *e = ram + 0x40000 + 16 * i;
		od_st64(e, DATA + i);
		od_st32(e + 8, 1);
		od_st32(e + 12, 0);
	}
	ck_assert_uint_eq(run(&r).host, 0x1a);
	/* ... but a list within the limit works: 4096 bytes in 1024 pieces
	 * of 4, reached through a chain element */
	for (unsigned i = 0; i < 1024; i++) {
		uint8_t *e = ram + 0x40000 + 16 * i;
		od_st64(e, DATA + 4 * i);
		od_st32(e + 8, 4);
	}
	od_st64(sg, 0x40000); od_st32(sg + 8, 0); od_st32(sg + 12, 1);
	r.addr = SGL;
	struct cmp c = run(&r);
	ck_assert_uint_eq(c.host, 0);
	ck_assert_uint_eq(c.len, 4096);
	ck_assert_int_eq(memcmp(ram + DATA, disk, 4096), 0);
	/* a plain buffer outside RAM or wrapping */
	struct req plain = { 0, 0, r10, 10, RAM - 2048, 4096, 0x8, SENSE, 64 };
	ck_assert_uint_eq(run(&plain).host, 0x1a);
	plain.addr = ~0ull - 100;
	ck_assert_uint_eq(run(&plain).host, 0x1a);
	/* a huge dataLen with a small SG list: the list runs out, refused */
	od_st64(sg, DATA); od_st32(sg + 8, 512); od_st32(sg + 12, 0);
	memset(sg + 16, 0, 16 * 8);
	r.len = ~0ull;
	ck_assert_uint_eq(run(&r).host, 0x1a);
}
END_TEST

START_TEST(test_interrupts_and_reset)
{
	rings(1);
	struct pci_dev *d = scsi_hba_pci(p);
	uint8_t tur[6] = { 0 };
	struct req r = { 0, 0, tur, 6, 0, 0, 0x4, 0, 0 };
	/* masked: status set, no line */
	run(&r);
	ck_assert_uint_eq(rd(R_INTR_STATUS) & 1, 1);
	ck_assert_int_eq(d->intx_level, 0);
	/* unmasked: the line rises; write-1-to-clear lowers it */
	wr(R_INTR_MASK, 0x3);
	ck_assert_uint_eq(rd(R_INTR_MASK), 0x3);
	ck_assert_int_eq(d->intx_level, 1);
	wr(R_INTR_STATUS, 0x1);
	ck_assert_int_eq(d->intx_level, 0);
	ck_assert_uint_eq(rd(R_INTR_STATUS), 0);
	run(&r);
	ck_assert_int_eq(d->intx_level, 1);
	/* adapter reset: line down, rings forgotten, kicks do nothing */
	command(CMD_ADAPTER_RESET, NULL, 0);
	ck_assert_int_eq(d->intx_level, 0);
	ck_assert_uint_eq(rd(R_INTR_STATUS), 0);
	ck_assert_uint_eq(rd(R_INTR_MASK), 0);
	queue(&r, 5);
	uint32_t before = st(12);
	wr(R_KICK_RW_IO, 0);
	ck_assert_uint_eq(st(12), before);
	/* the driver sets up again and goes on from index 0 */
	rings(1);
	run(&r);
	ck_assert_uint_eq(st(12), 1);

	/* MSI: the capability is the first, 64-bit, one vector */
	unsigned bdf = d->slot << 3, cap = pci_cfg_read(vm->pci, bdf, 0x34, 1);
	ck_assert_uint_eq(pci_cfg_read(vm->pci, bdf, cap, 1), 0x05);
	ck_assert_uint_eq(pci_cfg_read(vm->pci, bdf, cap + 2, 2) & 0x80, 0x80);
	pci_cfg_write(vm->pci, bdf, cap + 4, 4, 0xfee00000);
	pci_cfg_write(vm->pci, bdf, cap + 8, 4, 0);
	pci_cfg_write(vm->pci, bdf, cap + 12, 2, 0x4041);
	wr(R_INTR_MASK, 0x3);
	ck_assert_int_eq(d->intx_level, 1); /* status still pending */
	pci_cfg_write(vm->pci, bdf, cap + 2, 2, 1);
	ck_assert_int_eq(d->intx_level, 0); /* INTx off with MSI on */
	unsigned long before_msi = vm->msi_count;
	run(&r);
	ck_assert_uint_eq(vm->msi_count, before_msi + 1);
	ck_assert_uint_eq(vm->msi_addr, 0xfee00000);
	ck_assert_uint_eq(vm->msi_data, 0x4041);
	ck_assert_int_eq(d->intx_level, 0);
	/* masked by INTR_MASK: no message; unmasking sends what waits */
	wr(R_INTR_MASK, 0);
	run(&r);
	ck_assert_uint_eq(vm->msi_count, before_msi + 1);
	wr(R_INTR_MASK, 0x1);
	ck_assert_uint_eq(vm->msi_count, before_msi + 2);
	/* MSI off again: back to INTx */
	pci_cfg_write(vm->pci, bdf, cap + 2, 2, 0);
	ck_assert_int_eq(d->intx_level, 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("runner pvscsi");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_disk_commands);
	tcase_add_test(t, test_cdrom_commands);
	tcase_add_test(t, test_refused_commands);
	tcase_add_test(t, test_hostile_rings);
	tcase_add_test(t, test_hostile_sg);
	tcase_add_test(t, test_interrupts_and_reset);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return od_check_run(suite());
}
