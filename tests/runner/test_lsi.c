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

/* A handshake: the message of n dwords in, the reply (at most max 16-bit
 * words, as MsgLength says) out the way Linux reads it, each word
 * acknowledged, then the end of the reply signalled.  Returns the words
 * read. */
static unsigned hs(const uint32_t *m, unsigned n, uint16_t *r, unsigned max)
{
	out32(0x30, 0);
	out32(0x00, 0x42u << 24 | n << 16);
	ck_assert_uint_eq(in32(0x30) & 1, 1); /* doorbell interrupt */
	ck_assert_uint_eq(in32(0x00) & 0x08000000, 0x08000000); /* active */
	out32(0x30, 0);
	for (unsigned i = 0; i < n; i++)
		out32(0x00, m[i]);
	unsigned words = 2;
	for (unsigned i = 0; i < words; i++) {
		ck_assert_uint_eq(in32(0x30) & 1, 1);
		uint16_t w = (uint16_t)in32(0x00);
		if (i < max)
			r[i] = w;
		if (i == 1)
			words = 2u * (w & 0xff);
		out32(0x30, 0);
	}
	/* the end of the reply is signalled too, as Linux's driver expects */
	ck_assert_uint_eq(in32(0x30) & 1, 1);
	out32(0x30, 0);
	ck_assert_uint_eq(in32(0x30) & 1, 0);
	return words;
}

/* IOC_INIT through the handshake; returns the reply's IOCStatus. */
static uint16_t ioc_init(uint16_t reply_frame_size)
{
	uint32_t m[6] = { 0x02000004, 0x00010800, 42, reply_frame_size, 0, 0 };
	uint16_t r[10];
	ck_assert_uint_eq(hs(m, 6, r, 10), 10);
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
	/* SeaBIOS's request: a 16-byte CDB field holding READ (10) of 127
	 * sectors into one element; nothing past the buffer is touched */
	memset(ram + DATA, 0x5a, 0x10000);
	uint8_t rd[16] = { 0x28, 0, 0, 0, 0, 1, 0, 0, 127, 0 };
	out32(0x40, frame(7, 0, rd, 16, 127 * 512, 0x0e4f53ef, DATA, true));
	ck_assert_uint_eq(in32(0x44), 0x0e4f53ef);
	ck_assert_int_eq(memcmp(ram + DATA, disk + 512, 127 * 512), 0);
	ck_assert_uint_eq(ram[DATA + 127 * 512], 0x5a);
	ram[REQ + 0x700 + 13] = 0;
	/* a context with its top bit set (SeaBIOS's are timer values) still
	 * gets a context reply, the whole word */
	ram[REQ + 13] = 0;
	od_st32(ram + REQ + 8, 0xc1234567);
	out32(0x40, REQ);
	ck_assert_uint_eq(in32(0x44), 0xc1234567);
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
	ck_assert_uint_eq(scsi_hba_requests(s), 11);
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
	out32(0x00, 0x09000000); /* FW_DOWNLOAD, read back to back as SeaBIOS does */
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
	for (unsigned i = 0; i < 1100; i++)
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

/* A CONFIG request through the request FIFO at slot 8, its page buffer at
 * `buf` (`len` bytes, host to IOC when `out`); the reply's IOCStatus, and
 * its page header in *hdr. */
static uint16_t cfg(uint8_t action, uint8_t type, uint8_t number, uint32_t addr, uint32_t buf, uint32_t len, bool out,
		    uint8_t *hdr)
{
	uint8_t *f = ram + REQ + 0x800;
	memset(f, 0, 0x100);
	f[0] = action;
	f[3] = 0x04;
	od_st32(f + 8, 0x00030009);
	f[0x16] = number;
	f[0x17] = type;
	od_st32(f + 0x18, addr);
	od_st32(f + 0x1c, (0xd1u | (out ? 0x04u : 0)) << 24 | len);
	od_st32(f + 0x20, buf);
	out32(0x44, REPLY);
	out32(0x40, REQ + 0x800);
	uint32_t a = in32(0x44);
	ck_assert_uint_eq(a >> 31, 1); /* an address reply */
	ck_assert_uint_eq(in32(0x44), 0xffffffff);
	uint8_t *r = ram + (a << 1);
	ck_assert_uint_eq(r[0], action);
	ck_assert_uint_eq(r[2], 6);
	ck_assert_uint_eq(r[3], 0x04);
	ck_assert_uint_eq(od_ld32(r + 8), 0x00030009);
	if (hdr)
		memcpy(hdr, r + 0x14, 4);
	return od_ld16(r + 14);
}

/* Header, then the page as Linux reads it: returns the page length in
 * dwords and checks version and type. */
static unsigned read_page(uint8_t type, uint8_t number, uint32_t addr, uint8_t version, uint8_t action)
{
	uint8_t h[4];
	ck_assert_uint_eq(cfg(0, type, number, addr, 0xffffffff, 0, false, h), 0);
	ck_assert_uint_eq(h[0], version);
	ck_assert_uint_gt(h[1], 0);
	ck_assert_uint_eq(h[2], number);
	ck_assert_uint_eq(h[3] & 0x0f, type);
	memset(ram + DATA, 0xee, 0x200);
	ck_assert_uint_eq(cfg(action, type, number, addr, DATA, 4u * h[1], false, NULL), 0);
	ck_assert_int_eq(memcmp(ram + DATA, h, 4), 0); /* the page begins with its header */
	ck_assert_uint_eq(ram[DATA + 4u * h[1]], 0xee);  /* and ends where it says */
	return h[1];
}

/* What Linux's mptbase and mptspi do when they load: facts, IOC_INIT, port
 * enable, events on, the configuration pages, a bus reset. */
START_TEST(test_linux_init)
{
	uint16_t r[64];
	/* IOC_FACTS: 3 dwords in, 20 out */
	uint32_t facts[3] = { 0x03000000, 0, 0x11 };
	ck_assert_uint_eq(hs(facts, 3, r, 64), 40);
	uint8_t b[128];
	for (unsigned i = 0; i < 40; i++)
		od_st16(b + 2 * i, r[i]);
	ck_assert_uint_eq(od_ld16(b), 0x0102);       /* MsgVersion */
	ck_assert_uint_eq(b[3], 0x03);
	ck_assert_uint_eq(od_ld32(b + 8), 0x11);
	ck_assert_uint_eq(od_ld16(b + 14), 0);
	ck_assert_uint_ne(b[0x16], 0);               /* BlockSize: Linux divides by it */
	ck_assert_uint_eq(b[0x17] & 0x01, 0);        /* no firmware download boot */
	ck_assert_uint_eq(od_ld16(b + 0x18), 128);   /* ReplyQueueDepth */
	ck_assert_uint_eq(od_ld16(b + 0x1a), 32);    /* RequestFrameSize */
	ck_assert_uint_le(od_ld16(b + 0x1e) & 0x0f00, 0x0300); /* not RAID firmware */
	ck_assert_uint_eq(od_ld16(b + 0x24), 128);   /* GlobalCredits */
	ck_assert_uint_eq(b[0x26], 1);               /* NumberOfPorts */
	ck_assert_uint_eq(b[0x27], 0);               /* EventState */
	ck_assert_uint_eq(b[0x2e], 16);              /* MaxDevices */
	ck_assert_uint_eq(od_ld32(b + 0x30), 0);     /* FWImageSize */
	ck_assert_uint_eq(od_ld32(b + 0x40) & 0xffffff, 0); /* no host page buffer */
	/* PORT_FACTS */
	uint32_t pf[3] = { 0x05000000, 0, 0x12 };
	ck_assert_uint_eq(hs(pf, 3, r, 64), 20);
	for (unsigned i = 0; i < 20; i++)
		od_st16(b + 2 * i, r[i]);
	ck_assert_uint_eq(od_ld16(b + 14), 0);
	ck_assert_uint_eq(b[0x15], 0x01);            /* SCSI */
	ck_assert_uint_eq(od_ld16(b + 0x16), 16);
	ck_assert_uint_eq(od_ld16(b + 0x18), 7);     /* the initiator's id */
	ck_assert_uint_eq(od_ld16(b + 0x1a) & 0x08, 0x08); /* initiator mode */
	pf[1] = 1u << 16; /* port 1: none */
	hs(pf, 3, r, 64);
	ck_assert_uint_eq(r[7], 0x0007);
	/* reply frames before IOC_INIT, as PrimeIocFifos */
	for (unsigned i = 0; i < 8; i++)
		out32(0x44, REPLY + 0x80 * i);
	/* IOC_INIT as Linux sends it: 11 dwords, host driver, 80-byte frames */
	uint32_t init[11] = { 0x02000004, 0x00010010, 0x13, 80 };
	ck_assert_uint_eq(hs(init, 11, r, 64), 10);
	ck_assert_uint_eq(r[7], 0);
	ck_assert_uint_eq(in32(0x00) >> 24, 0x24);   /* OPERATIONAL, WhoInit host driver */
	uint32_t pe[3] = { 0x06000000, 0, 0x14 };
	ck_assert_uint_eq(hs(pe, 3, r, 64), 10);
	ck_assert_uint_eq(r[1], 0x0605);
	ck_assert_uint_eq(r[7], 0);
	/* events on: the reply is the EVENT_CHANGE event */
	uint32_t ev[3] = { 0x07000001, 0, 0x15 };
	ck_assert_uint_eq(hs(ev, 3, r, 64), 16);
	ck_assert_uint_eq(r[1], 0x0708);
	ck_assert_uint_eq(r[4], 0x15);
	ck_assert_uint_eq(r[7], 0);
	ck_assert_uint_eq(r[10], 0x0a);
	ck_assert_uint_eq(r[14], 1);
	hs(facts, 3, r, 64);
	ck_assert_uint_eq(r[0x27 / 2] >> 8, 1);      /* EventState */
	out32(0x34, 1); /* reply interrupts on */
	/* the pages mptbase reads (mpt_GetScsiPortSettings,
	 * mpt_readScsiDevicePageHeaders, mpt_findImVolumes, IOC pages 1 and 4,
	 * GetIoUnitPage2, Manufacturing 0) and mptspi's device pages */
	ck_assert_uint_eq(read_page(3, 0, 0, 0x02, 1), 3);
	ck_assert_uint_eq(od_ld32(ram + DATA + 4) & 0x20000000, 0x20000000); /* wide */
	ck_assert_uint_eq(read_page(3, 2, 0, 0x02, 6), 19);                  /* from NVRAM */
	ck_assert_uint_eq(od_ld32(ram + DATA + 4) & 0x04, 0);                /* bus resets allowed */
	ck_assert_uint_eq(read_page(3, 1, 0, 0x03, 1), 4);
	ck_assert_uint_eq(od_ld32(ram + DATA + 4), 0x00800007);
	ck_assert_uint_eq(read_page(4, 1, 0, 0x05, 1), 4);
	ck_assert_uint_eq(read_page(4, 0, 0, 0x04, 1), 3);
	ck_assert_uint_eq(read_page(1, 2, 0, 0x04, 1), 3);
	ck_assert_uint_eq(ram[DATA + 8], 0);                                 /* no RAID volume */
	read_page(1, 3, 0, 0x00, 1);
	read_page(1, 1, 0, 0x03, 1);
	ck_assert_uint_eq(od_ld32(ram + DATA + 4) & 1, 0);                   /* no coalescing */
	read_page(1, 4, 0, 0x00, 1);
	read_page(1, 0, 0, 0x01, 1);
	ck_assert_uint_eq(od_ld16(ram + DATA + 12), 0x1000);
	ck_assert_uint_eq(od_ld16(ram + DATA + 14), 0x0030);
	ck_assert_uint_eq(read_page(0, 2, 0, 0x02, 1), 7);
	ck_assert_uint_eq(read_page(9, 0, 0, 0x00, 1), 19);
	ck_assert_int_eq(memcmp(ram + DATA + 4, "53C1030", 7), 0);
	read_page(9, 1, 0, 0x00, 1);
	read_page(0, 0, 0, 0x00, 1);
	/* SCSI Device page 1 for target 3 written, read back; page 0 of
	 * every target 0-15 */
	uint8_t *pg = ram + DATA + 0x400;
	memset(pg, 0, 16);
	pg[0] = 0x05; pg[1] = 4; pg[2] = 1; pg[3] = 0x04;
	od_st32(pg + 4, 0x20000000);
	od_st32(pg + 12, 0x4);
	ck_assert_uint_eq(cfg(2, 4, 1, 3, DATA + 0x400, 16, true, NULL), 0);
	read_page(4, 1, 3, 0x05, 1);
	ck_assert_uint_eq(od_ld32(ram + DATA + 4), 0x20000000);
	ck_assert_uint_eq(od_ld32(ram + DATA + 12), 0x4);
	read_page(4, 1, 4, 0x05, 1);
	ck_assert_uint_eq(od_ld32(ram + DATA + 4), 0);
	for (unsigned t = 0; t < 16; t++)
		read_page(4, 0, t, 0x04, 1);
	/* IOC page 4 written back as mptspi does for an enclosure */
	ck_assert_uint_eq(cfg(2, 1, 4, 0, DATA + 0x400, 12, true, NULL), 0);
	/* a bus reset (mptspi's probe) through the handshake: the interrupt
	 * after the last word, the reply through the post FIFO */
	uint32_t tm[13] = { 0x01000000, 0x00000400, 0x00020007 };
	out32(0x30, 0);
	out32(0x00, 0x42u << 24 | 13u << 16);
	ck_assert_uint_eq(in32(0x30) & 1, 1);
	out32(0x30, 0);
	for (unsigned i = 0; i < 13; i++)
		out32(0x00, tm[i]);
	ck_assert_uint_eq(in32(0x30) & 1, 1);
	ck_assert_uint_eq(in32(0x00) & 0x0800ffff, 0); /* nothing in the doorbell */
	out32(0x30, 0);
	ck_assert_uint_eq(in32(0x30), 8);             /* a reply posted */
	ck_assert_int_eq(scsi_hba_pci(s)->intx_level, 1);
	uint32_t a = in32(0x44);
	ck_assert_uint_eq(a >> 31, 1);
	uint8_t *rep = ram + (a << 1);
	ck_assert_uint_eq(rep[2], 6);
	ck_assert_uint_eq(rep[3], 0x01);
	ck_assert_uint_eq(rep[4], 0);                 /* TM complete */
	ck_assert_uint_eq(rep[5], 0x04);
	ck_assert_uint_eq(od_ld32(rep + 8), 0x00020007);
	ck_assert_uint_eq(od_ld16(rep + 14), 0);
	out32(0x44, a << 1);
	/* an abort and a target reset through the request FIFO */
	uint8_t *f = ram + REQ + 0x300;
	memset(f, 0, 0x100);
	f[0] = 0; f[3] = 0x01; f[5] = 0x01;
	od_st32(f + 8, 0x21);
	out32(0x40, REQ + 0x300);
	a = in32(0x44);
	ck_assert_uint_eq(od_ld16(ram + (a << 1) + 14), 0);
	ck_assert_uint_eq(od_ld32(ram + (a << 1) + 20), 0); /* nothing terminated */
	out32(0x44, a << 1);
	f[5] = 0x03;
	out32(0x40, REQ + 0x300);
	a = in32(0x44);
	ck_assert_uint_eq(ram[(a << 1) + 4], 0);
	out32(0x44, a << 1);
	f[5] = 0x77; /* an unknown task: not supported */
	out32(0x40, REQ + 0x300);
	a = in32(0x44);
	ck_assert_uint_eq(ram[(a << 1) + 4], 0x04);
	out32(0x44, a << 1);
	/* EVENT_ACK */
	memset(f, 0, 0x100);
	f[3] = 0x08;
	od_st32(f + 8, 0x22);
	out32(0x40, REQ + 0x300);
	a = in32(0x44);
	ck_assert_uint_eq(ram[(a << 1) + 3], 0x08);
	ck_assert_uint_eq(od_ld16(ram + (a << 1) + 14), 0);
	out32(0x44, a << 1);
	/* and SCSI IO as before, with 64-bit SGEs and sense */
	uint8_t inq[6] = { 0x12, 0, 0, 0, 36, 0 };
	frame(0, 0, inq, 6, 36, 7, DATA, true);
	out32(0x40, REQ);
	ck_assert_uint_eq(in32(0x44), 7);
	ck_assert_int_eq(scsi_hba_pci(s)->intx_level, 0);
}
END_TEST

START_TEST(test_config_hostile)
{
	ck_assert_uint_eq(ioc_init(64), 0);
	uint8_t h[4];
	ck_assert_uint_eq(cfg(0, 0xf, 0, 0, 0, 0, false, h), 0x0021);   /* extended pages */
	ck_assert_uint_eq(cfg(0, 3, 7, 0, 0, 0, false, h), 0x0022);     /* no such page */
	ck_assert_uint_eq(h[1], 0);
	ck_assert_uint_eq(cfg(0, 5, 0, 0, 0, 0, false, h), 0x0022);     /* FC port */
	ck_assert_uint_eq(cfg(1, 3, 0, 1, DATA, 12, false, h), 0x0022); /* port 1 */
	ck_assert_uint_eq(cfg(1, 4, 0, 16, DATA, 12, false, h), 0x0022); /* target 16 */
	ck_assert_uint_eq(cfg(1, 4, 0, 0x100, DATA, 12, false, h), 0x0022); /* bus 1 */
	ck_assert_uint_eq(cfg(1, 4, 0, 0xffffffff, DATA, 12, false, h), 0x0022);
	ck_assert_uint_eq(cfg(9, 3, 0, 0, DATA, 12, false, h), 0x0020); /* unknown action */
	ck_assert_uint_eq(cfg(0xff, 3, 0, 0, DATA, 12, false, h), 0x0020);
	ck_assert_uint_eq(cfg(2, 1, 0, 0, DATA, 28, true, h), 0x0020);  /* IOC 0 is read-only */
	ck_assert_uint_eq(cfg(1, 3, 0, 0, RAM - 4, 12, false, h), 0x0003); /* buffer past RAM */
	ck_assert_uint_eq(cfg(1, 3, 0, 0, 0xfffffff0, 12, false, h), 0x0003);
	ck_assert_uint_eq(cfg(1, 3, 0, 0, DATA, 12, true, h), 0x0003);   /* the wrong way */
	ck_assert_uint_eq(cfg(2, 4, 1, 0, DATA, 16, false, h), 0x0003);
	/* a chain element where the page buffer is */
	uint8_t *f = ram + REQ + 0x800;
	cfg(1, 3, 0, 0, DATA, 12, false, h);
	od_st32(f + 0x1c, 0x30000000u | 12);
	out32(0x44, REPLY);
	out32(0x40, REQ + 0x800);
	in32(0x44);
	ck_assert_uint_eq(od_ld16(ram + REPLY + 14), 0x0003);
	/* a buffer shorter than the page gets that much; a longer one only
	 * the page */
	memset(ram + DATA, 0xee, 0x400);
	ck_assert_uint_eq(cfg(1, 3, 2, 0, DATA, 6, false, h), 0);
	ck_assert_uint_eq(ram[DATA + 5] != 0xee || ram[DATA + 4] != 0xee, 1);
	ck_assert_uint_eq(ram[DATA + 6], 0xee);
	ck_assert_uint_eq(cfg(1, 9, 1, 0, DATA, 0xffffff, false, h), 0); /* past RAM if taken whole */
	ck_assert_uint_eq(cfg(1, 9, 1, 0, DATA, 0x300, false, h), 0);
	ck_assert_uint_eq(ram[DATA + 260], 0xee);
	/* a short page written: the rest reads as zeros */
	od_st32(ram + DATA, 0xffffffff);
	ck_assert_uint_eq(cfg(2, 4, 1, 2, DATA, 4, true, h), 0);
	ck_assert_uint_eq(cfg(1, 4, 1, 2, DATA + 0x100, 16, false, h), 0);
	ck_assert_uint_eq(od_ld32(ram + DATA + 0x104), 0);
	/* CONFIG through the handshake: the reply comes through it too */
	uint32_t m[10] = { 0x04000000, 0, 0x31, 0, 0, 0x03010000u | 2u << 16, 0, 0xd1000000u | 16, DATA + 0x200 };
	m[5] = 0x04010400; /* SCSI device page 1, 4 dwords: version 0, length 4 */
	m[6] = 0x1ff;
	uint16_t r[16];
	ck_assert_uint_eq(hs(m, 9, r, 16), 12);
	ck_assert_uint_eq(r[1], 0x0406);
	ck_assert_uint_eq(r[7], 0x0022); /* bus 1 */
	m[6] = 5;
	m[0] = 0x04000001;
	ck_assert_uint_eq(hs(m, 9, r, 16), 12);
	ck_assert_uint_eq(r[7], 0);
	ck_assert_uint_eq(ram[DATA + 0x200 + 0], 0x05);
	/* functions we do not have: INVALID_FUNCTION, through the FIFO too */
	uint32_t up[3] = { 0x12000000, 0, 0x32 };
	hs(up, 3, r, 16);
	ck_assert_uint_eq(r[7], 0x0001);
	memset(f, 0, 0x100);
	f[3] = 0x09; /* FW_DOWNLOAD */
	out32(0x44, REPLY);
	out32(0x40, REQ + 0x800);
	ck_assert_uint_eq(in32(0x44) >> 31, 1);
	ck_assert_uint_eq(od_ld16(ram + REPLY + 14), 0x0001);
	/* PORT_ENABLE before IOC_INIT: INVALID_STATE; IOC_INIT from a PCI
	 * peer or too short: INVALID_FIELD, still READY */
	out32(0x00, 0x40u << 24);
	uint32_t pe[3] = { 0x06000000, 0, 0x33 };
	hs(pe, 3, r, 16);
	ck_assert_uint_eq(r[7], 0x0008);
	uint32_t init[6] = { 0x02000003, 0, 0, 64, 0, 0 };
	hs(init, 6, r, 16);
	ck_assert_uint_eq(r[7], 0x0007);
	hs(init, 3, r, 16);
	ck_assert_uint_eq(r[7], 0x0007);
	ck_assert_uint_eq(in32(0x00) >> 28, 1);
	/* a frame whose last 64 bytes are the end of RAM is read that far */
	ck_assert_uint_eq(ioc_init(64), 0);
	uint8_t *g = ram + RAM - 64;
	memset(g, 0, 64);
	g[3] = 0x08;
	od_st32(g + 8, 0x34);
	out32(0x44, REPLY);
	out32(0x40, RAM - 64);
	ck_assert_uint_eq(in32(0x44) >> 31, 1);
	ck_assert_uint_eq(od_ld32(ram + REPLY + 8), 0x34);
	/* task management on bus 1 or target 200 */
	memset(f, 0, 0x100);
	f[3] = 0x01; f[5] = 0x03; f[1] = 1;
	out32(0x44, REPLY);
	out32(0x40, REQ + 0x800);
	in32(0x44);
	ck_assert_uint_eq(od_ld16(ram + REPLY + 14), 0x0041);
	f[1] = 0; f[0] = 200;
	out32(0x44, REPLY);
	out32(0x40, REQ + 0x800);
	in32(0x44);
	ck_assert_uint_eq(od_ld16(ram + REPLY + 14), 0x0042);
	/* task management through the handshake with no free frame: a fault */
	uint32_t tm[13] = { 0x01000000, 0x00000400, 0x35 };
	out32(0x00, 0x42u << 24 | 13u << 16);
	for (unsigned i = 0; i < 13; i++)
		out32(0x00, tm[i]);
	ck_assert_uint_eq(in32(0x00) >> 28, 4);
}
END_TEST

/* Linux's hard reset: the write sequence key, then the adapter reset bit
 * in the host diagnostic register. */
START_TEST(test_diag_reset)
{
	ck_assert_uint_eq(ioc_init(64), 0);
	ck_assert_uint_eq(in32(0x08), 0);
	out32(0x08, 0x04); /* not enabled: ignored */
	ck_assert_uint_eq(in32(0x00) >> 28, 2);
	static const uint32_t key[] = { 0xff, 0x04, 0x0b, 0x02, 0x07, 0x0d };
	for (unsigned i = 0; i < 5; i++) /* one key short */
		out32(0x04, key[i]);
	ck_assert_uint_eq(in32(0x08) & 0x80, 0);
	out32(0x04, 0x03); /* wrong: start over */
	out32(0x04, 0x0d);
	ck_assert_uint_eq(in32(0x08) & 0x80, 0);
	for (unsigned i = 0; i < 6; i++)
		out32(0x04, key[i]);
	uint32_t d = in32(0x08);
	ck_assert_uint_eq(d & 0x80, 0x80);
	out32(0x08, d | 0x02); /* disable the ARM */
	out32(0x08, d | 0x04); /* the big hammer */
	ck_assert_uint_eq(in32(0x00) >> 28, 1); /* READY */
	d = in32(0x08);
	ck_assert_uint_eq(d, 0x20); /* reset history, writes off, ARM on */
	for (unsigned i = 0; i < 6; i++)
		out32(0x04, key[i]);
	out32(0x08, (d | 0x80) & ~0x20u);
	out32(0x04, 0xffffffff); /* diagnostic mode off */
	ck_assert_uint_eq(in32(0x08), 0);
	ck_assert_uint_eq(ioc_init(64), 0);
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
	tcase_add_test(t, test_linux_init);
	tcase_add_test(t, test_config_hostile);
	tcase_add_test(t, test_diag_reset);
	suite_add_tcase(su, t);
	return su;
}

int main(void)
{
	return od_check_run(suite());
}
