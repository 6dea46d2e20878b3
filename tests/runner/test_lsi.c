/* test_lsi.c - the LSI Logic 53C1030's message interface against fake
 * guest memory, without KVM: the doorbell handshake, SCSI IO requests with
 * context and address replies, then what a hostile driver can do (odd
 * handshakes, frames and SG lists outside RAM or looping, FIFOs flooded,
 * no reply frames) and interrupts. */
#include "config.h"
#include "runner/hw/lsi53c1030.h"
#include "runner/hw/scsi.h"
#include "fakeio.h"

#include <check.h>
#include "../check_run.h"
#include <stdlib.h>
#include <string.h>

#define RAM (1u << 20)
#define DISK (64u << 10)
#define IO 0xc000

#define REQ 0x1000    /* request frames, 0x100 apart */
#define REPLY 0x8000  /* reply frames, 0x40 apart */
#define SENSE 0xa000
#define SGL 0xb000
#define DATA 0x20000

static struct vm *vm;
static uint8_t *ram;
static uint8_t disk[DISK];
static struct fake_disk fdisk;
static struct scsi_hba *s;

static void out32(uint16_t port, uint32_t v) { fake_out(vm, IO + port, 4, v, NULL); }
static uint32_t in32(uint16_t port) { return fake_in(vm, IO + port, 4, NULL); }

/* IOC_INIT through the handshake; returns the reply's IOCStatus. */
static uint16_t ioc_init(uint16_t reply_frame_size)
{
	uint32_t m[6] = { 0x02000002, 0x00010800, 42, reply_frame_size, 0, 0 };
	out32(0x00, 0x42u << 24 | 6u << 16);
	ck_assert_uint_eq(in32(0x30) & 1, 1); /* doorbell interrupt */
	out32(0x30, 0);
	for (unsigned i = 0; i < 6; i++)
		out32(0x00, m[i]);
	uint16_t r[10];
	for (unsigned i = 0; i < 10; i++) {
		ck_assert_uint_eq(in32(0x30) & 1, 1);
		r[i] = (uint16_t)in32(0x00);
		out32(0x30, 0);
	}
	/* the end of the reply is signalled too, as Linux's driver expects */
	ck_assert_uint_eq(in32(0x30) & 1, 1);
	out32(0x30, 0);
	ck_assert_uint_eq(in32(0x30) & 1, 0);
	ck_assert_uint_eq(r[1] >> 8, 0x02);  /* function */
	ck_assert_uint_eq(r[1] & 0xff, 5);   /* MsgLength */
	ck_assert_uint_eq(r[4], 42);         /* context */
	return r[7];
}

static void setup(void)
{
	od_err e;
	vm = fake_vm_new(RAM, &ram, &e);
	ck_assert_msg(vm != NULL, "%s", e.msg);
	fake_disk_init(&fdisk, disk, DISK, 7, 512);
	s = lsi_new(vm, &e);
	ck_assert_ptr_nonnull(s);
	struct blk_backend be = fake_disk_backend(&fdisk);
	ck_assert_int_eq(scsi_hba_attach(s, 0, SCSI_TYPE_DISK, &be, false, 0, &e), 0);
	ck_assert_int_eq(scsi_hba_attach(s, 1, SCSI_TYPE_CDROM, &be, true, 1, &e), 0);
	ck_assert_int_lt(scsi_hba_attach(s, 1, SCSI_TYPE_DISK, &be, true, 1, &e), 0);
	unsigned bdf = scsi_hba_pci(s)->slot << 3;
	ck_assert_uint_eq(pci_cfg_read(vm->pci, bdf, 0, 4), 0x00301000);
	pci_cfg_write(vm->pci, bdf, 0x10, 4, IO);
	pci_cfg_write(vm->pci, bdf, 0x04, 2, 0x0007);
	out32(0x00, 0x40u << 24); /* message unit reset */
	ck_assert_uint_eq(in32(0x00) >> 28, 1); /* READY */
}

static void teardown(void)
{
	scsi_hba_free(s);
	fake_vm_free(vm);
}

/* A SCSI IO frame at REQ + 0x100 * slot, one simple 32-bit SGE (or none
 * when sgl is 0: the caller writes its own SGL at +48). */
static uint32_t frame(unsigned slot, uint8_t target, const uint8_t *cdb, unsigned cdb_len, uint32_t len,
		      uint32_t ctx, uint32_t buf, bool sge)
{
	uint8_t *f = ram + REQ + 0x100 * slot;
	memset(f, 0, 0x100);
	f[0] = target;
	f[3] = 0x00;
	f[4] = (uint8_t)cdb_len;
	f[5] = 18;
	od_st32(f + 8, ctx);
	memcpy(f + 24, cdb, cdb_len);
	od_st32(f + 40, len);
	od_st32(f + 44, SENSE);
	if (sge) {
		od_st32(f + 48, 0xd1000000u | len);
		od_st32(f + 52, buf);
	}
	return REQ + 0x100 * slot;
}

START_TEST(test_io)
{
	ck_assert_uint_eq(ioc_init(32), 0);
	ck_assert_uint_eq(in32(0x00) >> 28, 2); /* OPERATIONAL */
	for (unsigned i = 0; i < 4; i++)
		out32(0x44, REPLY + 0x40 * i); /* free reply frames */
	/* INQUIRY: a context reply */
	uint8_t inq[6] = { 0x12, 0, 0, 0, 36, 0 };
	out32(0x40, frame(0, 0, inq, 6, 36, 7, DATA, true));
	ck_assert_uint_eq(in32(0x30) & 8, 8);
	ck_assert_uint_eq(in32(0x44), 7);
	ck_assert_uint_eq(in32(0x44), 0xffffffff); /* empty */
	ck_assert_uint_eq(in32(0x30) & 8, 0);
	ck_assert_int_eq(memcmp(ram + DATA + 8, "OVFDEPLY", 8), 0);
	/* the LUN is byte 1 of its field: garbage in byte 0 is ignored (as
	 * SeaBIOS leaves it at times), LUN 1 has no unit */
	ram[REQ + 12] = 0xbc;
	out32(0x40, REQ);
	ck_assert_uint_eq(in32(0x44), 7);
	ck_assert_uint_eq(ram[DATA], 0x00);
	ram[REQ + 13] = 1;
	out32(0x40, REQ);
	ck_assert_uint_eq(in32(0x44), 7);
	ck_assert_uint_eq(ram[DATA], 0x7f);
	/* READ (10) through a chain to two 64-bit elements */
	uint8_t r10[10] = { 0x28, 0, 0, 0, 0, 2, 0, 0, 2, 0 };
	frame(1, 0, r10, 10, 1024, 8, 0, false);
	uint8_t *fr = ram + REQ + 0x100;
	od_st32(fr + 48, 0x30000000u | 24); /* chain, 32-bit */
	od_st32(fr + 52, SGL);
	uint8_t *sg = ram + SGL;
	od_st32(sg, 0x12000000u | 512); od_st64(sg + 4, DATA + 0x1000);
	od_st32(sg + 12, 0xd3000000u | 512); od_st64(sg + 16, DATA + 0x3000);
	out32(0x40, REQ + 0x100);
	ck_assert_uint_eq(in32(0x44), 8);
	ck_assert_int_eq(memcmp(ram + DATA + 0x1000, disk + 1024, 512), 0);
	ck_assert_int_eq(memcmp(ram + DATA + 0x3000, disk + 1536, 512), 0);
	/* WRITE (10) */
	memset(ram + DATA, 0x3c, 512);
	uint8_t w10[10] = { 0x2a, 0, 0, 0, 0, 9, 0, 0, 1, 0 };
	out32(0x40, frame(2, 0, w10, 10, 512, 9, DATA, true));
	ck_assert_uint_eq(in32(0x44), 9);
	ck_assert_uint_eq(disk[9 * 512 + 100], 0x3c);
	/* an unknown opcode: an address reply with autosense */
	uint8_t bad[6] = { 0xff };
	out32(0x40, frame(3, 0, bad, 6, 0, 10, 0, true));
	uint32_t a = in32(0x44);
	ck_assert_uint_eq(a, 0x80000000u | (REPLY >> 1));
	uint8_t *r = ram + REPLY;
	ck_assert_uint_eq(od_ld32(r + 8), 10);
	ck_assert_uint_eq(r[12], SCSI_STATUS_CHECK);
	ck_assert_uint_eq(r[13] & 1, 1);
	ck_assert_uint_eq(od_ld32(r + 24), 18);
	ck_assert_uint_eq(ram[SENSE + 2], SCSI_SK_ILLEGAL_REQUEST);
	ck_assert_uint_eq(ram[SENSE + 12], 0x20);
	/* no such target; a short read (underrun): address replies */
	uint8_t tur[6] = { 0 };
	out32(0x40, frame(4, 5, tur, 6, 0, 11, 0, true));
	ck_assert_uint_eq(in32(0x44), 0x80000000u | ((REPLY + 0x40) >> 1));
	ck_assert_uint_eq(od_ld16(ram + REPLY + 0x40 + 14), 0x0043);
	out32(0x40, frame(5, 0, inq, 6, 100, 12, DATA, true));
	in32(0x44);
	ck_assert_uint_eq(od_ld16(ram + REPLY + 0x80 + 14), 0x0045);
	ck_assert_uint_eq(od_ld32(ram + REPLY + 0x80 + 20), 36);
	/* a small reply frame size is obeyed: only 4 bytes written */
	out32(0x00, 0x40u << 24);
	ck_assert_uint_eq(ioc_init(4), 0);
	memset(ram + REPLY, 0xaa, 64);
	out32(0x44, REPLY);
	out32(0x40, frame(6, 0, bad, 6, 0, 13, 0, true));
	ck_assert_uint_eq(in32(0x44), 0x80000000u | (REPLY >> 1));
	ck_assert_uint_eq(ram[REPLY + 4], 0xaa);
	ck_assert_uint_eq(scsi_hba_requests(s), 9);
}
END_TEST

START_TEST(test_hostile)
{
	/* requests before IOC_INIT are ignored */
	uint8_t tur[6] = { 0 };
	out32(0x40, frame(0, 0, tur, 6, 0, 1, 0, true));
	ck_assert_uint_eq(in32(0x44), 0xffffffff);
	/* handshakes of 0 or too many dwords are ignored; other functions
	 * get INVALID_FUNCTION */
	out32(0x00, 0x42u << 24);
	ck_assert_uint_eq(in32(0x00) & 0x08000000, 0);
	out32(0x00, 0x42u << 24 | 200u << 16);
	ck_assert_uint_eq(in32(0x00) & 0x08000000, 0);
	out32(0x00, 0x42u << 24 | 1u << 16);
	ck_assert_uint_eq(in32(0x00) & 0x08000000, 0x08000000); /* active */
	out32(0x00, 0x03000000); /* IOC_FACTS */
	ck_assert_uint_eq(in32(0x00) & 0xffff, 0);
	for (unsigned i = 1; i < 7; i++)
		in32(0x00);
	ck_assert_uint_eq(in32(0x00) & 0xffff, 0x0001);
	/* reads past the reply give the state only */
	for (unsigned i = 0; i < 100; i++)
		ck_assert_uint_eq(in32(0x00) & 0xffff, 0);
	ck_assert_uint_eq(ioc_init(64), 0);
	/* the reply free FIFO takes 128 frames and drops the rest */
	for (unsigned i = 0; i < 1000; i++)
		out32(0x44, REPLY + 0x40 * (i % 4));
	/* SG elements outside RAM, a chain loop, a transaction element, a
	 * list shorter than the data: INVALID_SGL */
	uint8_t r10[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	out32(0x40, frame(0, 0, r10, 10, 512, 2, RAM - 100, true));
	ck_assert_uint_eq(in32(0x44) >> 31, 1);
	ck_assert_uint_eq(od_ld16(ram + REPLY + 14), 0x0003);
	uint8_t *f = ram + REQ + 0x100;
	frame(1, 0, r10, 10, 512, 3, 0, false);
	od_st32(f + 48, 0x30000000u | 8);
	od_st32(f + 52, REQ + 0x100 + 48); /* chains to itself */
	out32(0x40, REQ + 0x100);
	ck_assert_uint_eq(in32(0x44) >> 31, 1);
	ck_assert_uint_eq(od_ld16(ram + REPLY + 0x40 + 14), 0x0003);
	od_st32(f + 48, 0x00000000u); /* transaction element */
	out32(0x40, REQ + 0x100);
	ck_assert_uint_eq(in32(0x44) >> 31, 1);
	od_st32(f + 48, 0x91000000u | 100); /* 100 bytes of 512, end of list */
	od_st32(f + 52, DATA);
	out32(0x40, REQ + 0x100);
	ck_assert_uint_eq(in32(0x44) >> 31, 1);
	/* an endless list of empty elements running to the end of RAM */
	memset(ram + 0x40000, 0, RAM - 0x40000);
	for (uint32_t p = 0x40000; p < RAM; p += 8)
		od_st32(ram + p, 0x10000000u);
	od_st32(f + 48, 0x30000000u);
	od_st32(f + 52, 0x40000);
	out32(0x40, REQ + 0x100);
	ck_assert_uint_eq(in32(0x44) >> 31, 1);
	/* a buffer too small for the transfer: DATA_OVERRUN */
	out32(0x40, frame(2, 0, r10, 10, 100, 4, DATA, true));
	in32(0x44);
	/* bus 1, a CDB of 17 bytes */
	uint8_t *g = ram + REQ + 0x200;
	frame(2, 0, tur, 6, 0, 5, 0, true);
	g[1] = 1;
	out32(0x40, REQ + 0x200);
	ck_assert_uint_eq(in32(0x44) >> 31, 1);
	g[1] = 0;
	g[4] = 17;
	out32(0x40, REQ + 0x200);
	ck_assert_uint_eq(in32(0x44) >> 31, 1);
	/* an unknown function: INVALID_FUNCTION in an address reply */
	g[3] = 0x77;
	out32(0x40, REQ + 0x200);
	ck_assert_uint_eq(in32(0x44) >> 31, 1);
	/* replies never read: the post FIFO fills and the IOC faults */
	g[3] = 0;
	g[4] = 6;
	for (unsigned i = 0; i < 300; i++)
		out32(0x40, REQ + 0x200);
	ck_assert_uint_eq(in32(0x00) >> 28, 4); /* FAULT */
	/* and a fault ignores requests until a reset */
	out32(0x00, 0x40u << 24);
	ck_assert_uint_eq(in32(0x00) >> 28, 1);
	ck_assert_uint_eq(in32(0x44), 0xffffffff);
	/* no free reply frame for an error: a fault */
	ck_assert_uint_eq(ioc_init(64), 0);
	uint8_t bad[6] = { 0xff };
	out32(0x40, frame(3, 0, bad, 6, 0, 6, 0, true));
	ck_assert_uint_eq(in32(0x00) >> 28, 4);
	/* a frame outside RAM: a fault */
	out32(0x00, 0x40u << 24);
	ck_assert_uint_eq(ioc_init(64), 0);
	out32(0x40, RAM - 8);
	ck_assert_uint_eq(in32(0x00) >> 28, 4);
	/* odd-sized register accesses are ignored */
	fake_out(vm, IO + 0x00, 2, 0x4000, NULL);
	ck_assert_uint_eq(fake_in(vm, IO + 0x00, 1, NULL), 0xff);
}
END_TEST

START_TEST(test_interrupts)
{
	struct pci_dev *d = scsi_hba_pci(s);
	ck_assert_uint_eq(in32(0x34), 9); /* all masked after reset */
	ck_assert_uint_eq(ioc_init(64), 0);
	ck_assert_int_eq(d->intx_level, 0);
	out32(0x34, 0); /* unmask both */
	uint8_t tur[6] = { 0 };
	out32(0x40, frame(0, 0, tur, 6, 0, 1, 0, true));
	ck_assert_int_eq(d->intx_level, 1);
	ck_assert_uint_eq(in32(0x44), 1);
	ck_assert_int_eq(d->intx_level, 0); /* FIFO empty: line down */
	/* the doorbell interrupt, acknowledged by a write to the status */
	out32(0x00, 0x42u << 24 | 1u << 16);
	ck_assert_int_eq(d->intx_level, 1);
	out32(0x30, 0);
	ck_assert_int_eq(d->intx_level, 0);
	out32(0x34, 1); /* doorbell masked */
	out32(0x00, 0x03000000);
	ck_assert_int_eq(d->intx_level, 0);
	ck_assert_uint_eq(in32(0x30) & 1, 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("runner lsi53c1030");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_io);
	tcase_add_test(t, test_hostile);
	tcase_add_test(t, test_interrupts);
	suite_add_tcase(su, t);
	return su;
}

int main(void)
{
	return od_check_run(suite());
}
