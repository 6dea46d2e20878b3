/* lsi53c1030.c - the LSI Logic 53C1030 (PCI 1000:0030), VMware's
 * "lsilogic" SCSI controller, through the Fusion-MPT message interface, over
 * the shared SCSI target layer (scsi.c).  Facts from the public MPI headers
 * and drivers; our own code.
 *
 * What is here is the part of the message interface a BIOS driver uses
 * (SeaBIOS's mpt-scsi): the system doorbell with message unit reset and the
 * handshake (IOC_INIT; other handshake functions get a default reply with
 * INVALID_FUNCTION), the request post FIFO, the reply free and reply post
 * FIFOs, SCSI IO requests with simple 32- and 64-bit SG elements and chain
 * elements, context replies for good completions and address replies (into
 * a frame the driver gave) for the rest, with autosense.  Linux's mptspi
 * needs more (IOC_FACTS, PORT_FACTS, PORT_ENABLE, events, SPI config pages):
 * not yet.
 *
 * Registers are in BAR 0 (I/O, 256 bytes) and again in BAR 1 (memory).
 * Every guest value is checked: handshake lengths against the message
 * buffer, frame and SG addresses against RAM (each element alone), the SG
 * walk capped at SCSI_MAX_SEGS elements and 64 chain hops, the FIFOs fixed
 * in size (a full reply free FIFO drops what more the driver posts; no free
 * frame for an address reply faults the IOC, as the hardware would). */
#include "config.h"
#include "runner/hw/lsi53c1030.h"
#include "runner/hw/scsi.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum {
	R_DOORBELL = 0x00, R_WRITE_SEQ = 0x04, R_HOST_DIAG = 0x08, R_ISTATUS = 0x30, R_IMASK = 0x34,
	R_REQ_Q = 0x40, R_REP_Q = 0x44,
};
#define IO_BAR_SIZE 256
#define MEM_BAR_SIZE 4096

#define STATE_READY 0x10000000u
#define STATE_OPERATIONAL 0x20000000u
#define STATE_FAULT 0x40000000u
#define DOORBELL_ACTIVE 0x08000000u

#define DB_MESSAGE_UNIT_RESET 0x40
#define DB_IO_UNIT_RESET 0x41
#define DB_HANDSHAKE 0x42

#define HIS_DOORBELL 0x00000001u
#define HIS_REPLY 0x00000008u
#define HIM_DIM 0x00000001u
#define HIM_RIM 0x00000008u

#define FN_SCSI_IO 0x00
#define FN_IOC_INIT 0x02

#define IOCSTATUS_INVALID_FUNCTION 0x0001
#define IOCSTATUS_INVALID_SGL 0x0003
#define IOCSTATUS_INVALID_FIELD 0x0007
#define IOCSTATUS_SCSI_INVALID_BUS 0x0041
#define IOCSTATUS_SCSI_DEVICE_NOT_THERE 0x0043
#define IOCSTATUS_SCSI_DATA_OVERRUN 0x0044
#define IOCSTATUS_SCSI_DATA_UNDERRUN 0x0045
#define SCSI_STATE_AUTOSENSE_VALID 0x01

#define SGE_LAST 0x80
#define SGE_EOL 0x01
#define SGE_TYPE 0x30
#define SGE_SIMPLE 0x10
#define SGE_CHAIN 0x30
#define SGE_64 0x02
#define MAX_CHAIN_HOPS 64

#define HS_MAX 32        /* dwords of a handshake message */
#define FIFO 128
#define FRAME_HDR 48     /* SCSI IO request before its SGL */

struct lsi {
	struct scsi_hba hba;        /* first: the PCI function, the targets */
	struct vm *vm;

	uint32_t state;
	uint32_t istatus_db;        /* HIS_DOORBELL, cleared by the host */
	uint32_t imask;
	/* handshake: receiving the message, then giving the reply */
	bool hs_recv;
	uint32_t hs_msg[HS_MAX];
	unsigned hs_need, hs_got;
	uint8_t hs_reply[2 * HS_MAX];
	unsigned hs_reply_words, hs_reply_pos;
	bool hs_next;               /* a reply word was read: interrupt again
				       once the host acknowledges */
	/* after IOC_INIT */
	uint32_t mfa_high, sense_high;
	uint16_t reply_frame_size;
	/* FIFOs */
	uint32_t free_q[FIFO], post_q[FIFO];
	unsigned free_head, free_n, post_head, post_n;

	struct scsi_seg seg[SCSI_MAX_SEGS];
};
_Static_assert(offsetof(struct lsi, hba) == 0, "scsi_hba_free frees the adapter through its hba");
_Static_assert(LSI_MAX_TARGETS == SCSI_MAX_TARGETS, "the targets are the hba's");

static void update_irq(struct lsi *s)
{
	bool db = s->istatus_db && !(s->imask & HIM_DIM);
	bool rep = s->post_n && !(s->imask & HIM_RIM);
	pci_set_intx(&s->hba.pci, db || rep);
}

static void unit_reset(struct lsi *s)
{
	s->state = STATE_READY;
	s->istatus_db = 0;
	s->imask = HIM_DIM | HIM_RIM;
	s->hs_recv = false;
	s->hs_need = s->hs_got = s->hs_reply_words = s->hs_reply_pos = 0;
	s->hs_next = false;
	s->mfa_high = s->sense_high = 0;
	s->reply_frame_size = 0;
	s->free_head = s->free_n = s->post_head = s->post_n = 0;
	scsi_hba_reset_luns(&s->hba);
	update_irq(s);
}

static void post(struct lsi *s, uint32_t v)
{
	if (s->post_n == FIFO) {
		s->state = STATE_FAULT; /* the driver never reads its replies */
		return;
	}
	s->post_q[(s->post_head + s->post_n++) % FIFO] = v;
	update_irq(s);
}

/* ---- handshake ---- */

/* The default reply: MsgLength 5, the request's function, flags and
 * context, an IOC status. */
static void hs_default_reply(struct lsi *s, const uint8_t *m, uint16_t status)
{
	uint8_t *r = s->hs_reply;
	memset(r, 0, 20);
	r[0] = m[0];
	r[2] = 5;
	r[3] = m[3];
	r[4] = m[4];
	r[5] = m[5];
	r[6] = m[6];
	r[7] = m[7];
	memcpy(r + 8, m + 8, 4);
	od_st16(r + 14, status);
	s->hs_reply_words = 10;
}

static void handshake(struct lsi *s)
{
	uint8_t m[4 * HS_MAX];
	for (unsigned i = 0; i < s->hs_need; i++)
		od_st32(m + 4 * i, s->hs_msg[i]);
	memset(m + 4 * s->hs_need, 0, sizeof m - 4 * s->hs_need);
	s->hs_reply_pos = 0;
	if (m[3] == FN_IOC_INIT && s->hs_need >= 6) {
		s->reply_frame_size = od_ld16(m + 12);
		s->mfa_high = od_ld32(m + 16);
		s->sense_high = od_ld32(m + 20);
		s->state = STATE_OPERATIONAL;
		hs_default_reply(s, m, 0);
	} else {
		hs_default_reply(s, m, IOCSTATUS_INVALID_FUNCTION);
	}
	s->istatus_db = HIS_DOORBELL;
}

static void doorbell_write(struct lsi *s, uint32_t v)
{
	if (s->hs_recv) {
		s->hs_msg[s->hs_got++] = v;
		if (s->hs_got == s->hs_need) {
			s->hs_recv = false;
			handshake(s);
		}
		update_irq(s);
		return;
	}
	switch (v >> 24) {
	case DB_MESSAGE_UNIT_RESET:
	case DB_IO_UNIT_RESET:
		unit_reset(s);
		break;
	case DB_HANDSHAKE: {
		unsigned n = (v >> 16) & 0xff;
		if (n == 0 || n > HS_MAX)
			break; /* nothing we could take: ignored */
		s->hs_recv = true;
		s->hs_need = n;
		s->hs_got = 0;
		s->hs_reply_words = s->hs_reply_pos = 0;
		s->hs_next = false;
		s->istatus_db = HIS_DOORBELL;
		break;
	}
	}
	update_irq(s);
}

static uint32_t doorbell_read(struct lsi *s)
{
	if (s->hs_reply_pos < s->hs_reply_words) {
		uint32_t w = od_ld16(s->hs_reply + 2 * s->hs_reply_pos++);
		/* the next word (or, after the last, the end of the reply) is
		 * signalled once the host has acknowledged this one */
		s->hs_next = true;
		return s->state | DOORBELL_ACTIVE | w;
	}
	return s->state | (s->hs_recv ? DOORBELL_ACTIVE : 0);
}

/* ---- SCSI IO ---- */

/* Gather the SGL that starts at `p` (inside the frame at first) into
 * s->seg, up to `len` bytes.  Returns the number of segments, -1 when the
 * list is bad. */
static int gather(struct lsi *s, uint64_t p, uint64_t len)
{
	unsigned n = 0, hops = 0, visited = 0;
	uint64_t have = 0;
	while (have < len) {
		if (++visited > SCSI_MAX_SEGS + MAX_CHAIN_HOPS)
			return -1;
		const uint8_t *e = vm_gpa_to_hva(s->vm, p, 4);
		if (!e)
			return -1;
		uint32_t fl = od_ld32(e);
		uint8_t flags = (uint8_t)(fl >> 24);
		unsigned esize = flags & SGE_64 ? 12 : 8;
		e = vm_gpa_to_hva(s->vm, p, esize);
		if (!e)
			return -1;
		uint64_t a = flags & SGE_64 ? od_ld64(e + 4) : od_ld32(e + 4);
		if ((flags & SGE_TYPE) == SGE_CHAIN) {
			if (++hops > MAX_CHAIN_HOPS)
				return -1;
			p = a;
			continue;
		}
		if ((flags & SGE_TYPE) != SGE_SIMPLE)
			return -1;
		uint64_t l = fl & 0xffffff;
		if (l > len - have)
			l = len - have;
		if (l) {
			if (n == SCSI_MAX_SEGS)
				return -1;
			uint8_t *h = vm_gpa_to_hva(s->vm, a, l);
			if (!h)
				return -1;
			s->seg[n++] = (struct scsi_seg){ h, l };
			have += l;
		}
		if (flags & SGE_EOL)
			break;
		if (!od_add_u64(p, esize, &p))
			return -1;
	}
	return have == len ? (int)n : -1;
}

/* An address reply: into a frame from the free FIFO, at most the frame
 * size the driver gave; the frame's address goes to the post FIFO. */
static void address_reply(struct lsi *s, const uint8_t *r, unsigned len)
{
	if (!s->free_n) {
		s->state = STATE_FAULT;
		return;
	}
	uint32_t frame = s->free_q[s->free_head];
	s->free_head = (s->free_head + 1) % FIFO;
	s->free_n--;
	unsigned n = len < s->reply_frame_size ? len : s->reply_frame_size;
	uint8_t *h = vm_gpa_to_hva(s->vm, frame, n);
	if (h)
		memcpy(h, r, n);
	post(s, 0x80000000u | (frame >> 1));
}

static void scsi_io(struct lsi *s, uint64_t mf, const uint8_t *f)
{
	uint8_t target = f[0], bus = f[1], cdb_len = f[4], sense_len = f[5], msg_flags = f[7];
	uint32_t context = od_ld32(f + 8), data_len = od_ld32(f + 40);
	uint64_t sense_addr = od_ld32(f + 44) | (msg_flags & 1 ? (uint64_t)s->sense_high << 32 : 0);
	uint8_t r[32];
	memset(r, 0, sizeof r);
	r[0] = target;
	r[1] = bus;
	r[2] = 8; /* MsgLength */
	r[3] = FN_SCSI_IO;
	r[4] = cdb_len;
	r[5] = sense_len;
	r[7] = msg_flags;
	memcpy(r + 8, f + 8, 4);
	uint16_t ioc_status = 0;
	s->hba.requests++;
	if (bus != 0) {
		ioc_status = IOCSTATUS_SCSI_INVALID_BUS;
		goto reply;
	}
	struct scsi_lun *l = scsi_hba_lun(&s->hba, target);
	if (!l) {
		ioc_status = IOCSTATUS_SCSI_DEVICE_NOT_THERE;
		goto reply;
	}
	if (cdb_len < 1 || cdb_len > 16) {
		ioc_status = IOCSTATUS_INVALID_FIELD;
		goto reply;
	}
	int nseg = gather(s, mf + FRAME_HDR, data_len);
	if (nseg < 0) {
		ioc_status = IOCSTATUS_INVALID_SGL;
		goto reply;
	}
	struct scsi_cmd c = {
		.cdb = f + 24, .cdb_len = cdb_len, .seg = s->seg, .nseg = (unsigned)nseg, .buf_len = data_len,
	};
	/* the LUN is byte 1 of the 8-byte field, single-level addressing;
	 * the other bytes are not looked at (SeaBIOS leaves garbage in
	 * byte 0 at times) */
	scsi_hba_execute(l, f[13], &c);
	if (c.overrun) {
		ioc_status = IOCSTATUS_SCSI_DATA_OVERRUN;
		goto reply;
	}
	if (c.status == SCSI_STATUS_GOOD && c.xferred == data_len && !(context & 0x80000000u)) {
		post(s, context); /* a context reply: all went well */
		return;
	}
	r[12] = c.status;
	od_st32(r + 20, (uint32_t)c.xferred);
	if (c.status == SCSI_STATUS_GOOD && c.xferred < data_len)
		ioc_status = IOCSTATUS_SCSI_DATA_UNDERRUN;
	uint32_t n = scsi_hba_put_sense(s->vm, &c, sense_addr, sense_len);
	if (n) {
		r[13] |= SCSI_STATE_AUTOSENSE_VALID;
		od_st32(r + 24, n);
	}
reply:
	od_st16(r + 14, ioc_status);
	address_reply(s, r, sizeof r);
}

static void request(struct lsi *s, uint32_t v)
{
	if (s->state != STATE_OPERATIONAL)
		return;
	/* the low two bits are flags; SeaBIOS aligns its frames to 4 */
	uint64_t mf = (uint64_t)s->mfa_high << 32 | (v & ~3u);
	const uint8_t *f = vm_gpa_to_hva(s->vm, mf, FRAME_HDR);
	if (!f) {
		s->state = STATE_FAULT; /* a frame outside memory: a bus fault */
		return;
	}
	uint8_t frame[FRAME_HDR];
	memcpy(frame, f, sizeof frame);
	if (frame[3] == FN_SCSI_IO) {
		scsi_io(s, mf, frame);
		return;
	}
	uint8_t r[20];
	memset(r, 0, sizeof r);
	r[2] = 5;
	r[3] = frame[3];
	memcpy(r + 8, frame + 8, 4);
	od_st16(r + 14, IOCSTATUS_INVALID_FUNCTION);
	address_reply(s, r, sizeof r);
}

static uint32_t reply_pop(struct lsi *s)
{
	if (!s->post_n)
		return 0xffffffffu;
	uint32_t v = s->post_q[s->post_head];
	s->post_head = (s->post_head + 1) % FIFO;
	s->post_n--;
	update_irq(s);
	return v;
}

static void regs(void *opaque, uint64_t off, uint8_t *data, unsigned size, bool is_write)
{
	struct lsi *s = opaque;
	if (size != 4 || (off & 3)) {
		if (!is_write)
			memset(data, 0xff, size);
		return;
	}
	if (!is_write) {
		uint32_t v = 0;
		switch (off) {
		case R_DOORBELL: v = doorbell_read(s); break;
		case R_ISTATUS: v = s->istatus_db | (s->post_n ? HIS_REPLY : 0); break;
		case R_IMASK: v = s->imask; break;
		case R_REP_Q: v = reply_pop(s); break;
		}
		od_st32(data, v);
		return;
	}
	uint32_t v = od_ld32(data);
	switch (off) {
	case R_DOORBELL:
		doorbell_write(s, v);
		break;
	case R_ISTATUS: /* any write acknowledges the doorbell interrupt */
		s->istatus_db = s->hs_next ? HIS_DOORBELL : 0;
		s->hs_next = false;
		update_irq(s);
		break;
	case R_IMASK:
		s->imask = v & (HIM_DIM | HIM_RIM);
		update_irq(s);
		break;
	case R_REQ_Q:
		request(s, v);
		break;
	case R_REP_Q: /* a free reply frame */
		if (s->free_n < FIFO)
			s->free_q[(s->free_head + s->free_n++) % FIFO] = v & ~3u;
		break;
	}
}

struct scsi_hba *lsi_new(struct vm *vm, od_err *e)
{
	struct lsi *s = scsi_hba_alloc(sizeof *s, "LSI Logic", e);
	if (!s)
		return NULL;
	s->vm = vm;
	struct pci_dev *d = &s->hba.pci;
	/* SCSI storage controller; VMware's subsystem for its lsilogic */
	pci_init_header(d, 0x1000, 0x0030, 0x01000001, 0x15ad, 0x1976);
	d->cfg[0x3d] = 1; /* INTA# */
	pci_set_bar(d, 0, PCI_BAR_IO, IO_BAR_SIZE, regs, s);
	pci_set_bar(d, 1, PCI_BAR_MEM32, MEM_BAR_SIZE, regs, s);
	d->opaque = s;
	unit_reset(s);
	return scsi_hba_plug(vm, &s->hba, e);
}

int lsi_add_disks(struct vm *vm, const struct vm_config *cfg, od_err *e)
{
	return scsi_hba_add_disks(vm, cfg, VM_DISK_LSILOGIC, &vm->lsi, lsi_new, e);
}
