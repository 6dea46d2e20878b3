/* lsi53c1030.c - the LSI Logic 53C1030 (PCI 1000:0030), VMware's
 * "lsilogic" SCSI controller, through the Fusion-MPT message interface, over
 * the shared SCSI target layer (scsi.c).  Facts from the public MPI headers
 * and drivers (Linux's mptbase/mptscsih/mptspi, SeaBIOS's mpt-scsi); our own
 * code.
 *
 * The system doorbell: message unit reset, the handshake, and the host
 * diagnostic register's adapter reset behind the write sequence key, which
 * Linux uses when the IOC faults.  Handshake functions: IOC_FACTS,
 * PORT_FACTS, IOC_INIT, PORT_ENABLE, EVENT_NOTIFICATION, CONFIG and
 * SCSI_TASK_MGMT (whose reply goes to the reply post FIFO, as Linux's
 * mpt_send_handshake_request expects); the same functions, SCSI IO and
 * EVENT_ACK also through the request post FIFO.  Anything else (firmware
 * download and upload, LAN, target mode...) gets INVALID_FUNCTION.  The
 * configuration pages are those Linux's mptbase and mptspi read and write:
 * Manufacturing 0-2, IO Unit 0-2, IOC 0-4, SCSI Port 0-2, SCSI Device 0-2
 * per target.  Good SCSI completions are context replies, the rest address
 * replies (into a frame the driver gave) with autosense.  Interrupts are
 * INTx only (mptspi does not use MSI unless told to).
 *
 * Registers are in BAR 0 (I/O, 256 bytes) and again in BAR 1 (memory).
 * Every guest value is checked: handshake lengths against the message
 * buffer, frame, SG and page buffer addresses against RAM (each element
 * alone), page types, numbers and addresses against the table, the SG walk
 * capped at SCSI_MAX_SEGS elements and 64 chain hops, the FIFOs fixed in
 * size (a full reply free FIFO drops what more the driver posts; a full
 * post FIFO or no free frame for an address reply faults the IOC, as the
 * hardware would). */
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
#define WHOINIT_SHIFT 24
#define WHOINIT_PCI_PEER 3

#define DB_MESSAGE_UNIT_RESET 0x40
#define DB_IO_UNIT_RESET 0x41
#define DB_HANDSHAKE 0x42

#define HIS_DOORBELL 0x00000001u
#define HIS_REPLY 0x00000008u
#define HIM_DIM 0x00000001u
#define HIM_RIM 0x00000008u

/* host diagnostic register */
#define DIAG_DISABLE_ARM 0x02u
#define DIAG_RESET_ADAPTER 0x04u
#define DIAG_RESET_HISTORY 0x20u
#define DIAG_DRWE 0x80u /* diagnostic writes enabled: the key was given */

#define FN_SCSI_IO 0x00
#define FN_TASK_MGMT 0x01
#define FN_IOC_INIT 0x02
#define FN_IOC_FACTS 0x03
#define FN_CONFIG 0x04
#define FN_PORT_FACTS 0x05
#define FN_PORT_ENABLE 0x06
#define FN_EVENT_NOTIFICATION 0x07
#define FN_EVENT_ACK 0x08

#define IOCSTATUS_INVALID_FUNCTION 0x0001
#define IOCSTATUS_INVALID_SGL 0x0003
#define IOCSTATUS_INVALID_FIELD 0x0007
#define IOCSTATUS_INVALID_STATE 0x0008
#define IOCSTATUS_CONFIG_INVALID_ACTION 0x0020
#define IOCSTATUS_CONFIG_INVALID_TYPE 0x0021
#define IOCSTATUS_CONFIG_INVALID_PAGE 0x0022
#define IOCSTATUS_SCSI_INVALID_BUS 0x0041
#define IOCSTATUS_SCSI_INVALID_TARGETID 0x0042
#define IOCSTATUS_SCSI_DEVICE_NOT_THERE 0x0043
#define IOCSTATUS_SCSI_DATA_OVERRUN 0x0044
#define IOCSTATUS_SCSI_DATA_UNDERRUN 0x0045
#define SCSI_STATE_AUTOSENSE_VALID 0x01

#define EVENT_EVENT_CHANGE 0x0a
#define TM_RSP_COMPLETE 0x00
#define TM_RSP_NOT_SUPPORTED 0x04

#define SGE_LAST 0x80
#define SGE_EOL 0x01
#define SGE_TYPE 0x30
#define SGE_SIMPLE 0x10
#define SGE_CHAIN 0x30
#define SGE_DIR_OUT 0x04 /* host to IOC */
#define SGE_64 0x02
#define MAX_CHAIN_HOPS 64

#define HS_MAX 32        /* dwords of a handshake message */
#define MSG_MAX (4 * HS_MAX) /* bytes of a message we look at, either way */
#define REPLY_MAX 128    /* bytes of the longest reply */
#define FREE_FIFO 128    /* reply frames the driver may give */
#define POST_FIFO 1024   /* replies not yet read: more than the credits */
#define FRAME_HDR 48     /* SCSI IO request before its SGL */

/* What IOC_FACTS and PORT_FACTS say */
#define MSG_VERSION 0x0102     /* MPI 1.2, as the 53C1030's firmware */
#define REQ_FRAME_DWORDS 32    /* 128-byte request frames */
#define GLOBAL_CREDITS 128
#define MAX_CHAIN_DEPTH 32     /* below MAX_CHAIN_HOPS */
#define INITIATOR_ID 7
#define NPAGE_TARGETS 16

struct lsi {
	struct scsi_hba hba;        /* first: the PCI function, the targets */
	struct vm *vm;

	uint32_t state;
	uint8_t whoinit;
	uint32_t istatus_db;        /* HIS_DOORBELL, cleared by the host */
	uint32_t imask;
	uint32_t diag;
	unsigned wrseq;             /* keys of the write sequence matched */
	bool events;                /* event notification on */
	/* handshake: receiving the message, then giving the reply */
	bool hs_recv;
	uint32_t hs_msg[HS_MAX];
	unsigned hs_need, hs_got;
	uint8_t hs_reply[REPLY_MAX];
	unsigned hs_reply_words, hs_reply_pos;
	bool hs_next;               /* a reply word was read: interrupt again
				       once the host acknowledges */
	/* after IOC_INIT */
	uint32_t mfa_high, sense_high;
	uint16_t reply_frame_size;
	/* FIFOs */
	uint32_t free_q[FREE_FIFO], post_q[POST_FIFO];
	unsigned free_head, free_n, post_head, post_n;
	/* the writable configuration pages' contents */
	uint32_t port1_config;
	uint32_t dev1_req[NPAGE_TARGETS], dev1_conf[NPAGE_TARGETS];
	uint32_t ioc1_flags;

	struct scsi_seg seg[SCSI_MAX_SEGS];
};
_Static_assert(offsetof(struct lsi, hba) == 0, "scsi_hba_free frees the adapter through its hba");
_Static_assert(LSI_MAX_TARGETS == SCSI_MAX_TARGETS, "the targets are the hba's");
_Static_assert(NPAGE_TARGETS == SCSI_MAX_TARGETS, "one SCSI Device page set per target");

static void update_irq(struct lsi *s)
{
	bool db = s->istatus_db && !(s->imask & HIM_DIM);
	bool rep = s->post_n && !(s->imask & HIM_RIM);
	pci_set_intx(&s->hba.pci, db || rep);
}

static void unit_reset(struct lsi *s)
{
	s->state = STATE_READY;
	s->whoinit = 0;
	s->istatus_db = 0;
	s->imask = HIM_DIM | HIM_RIM;
	s->events = false;
	s->hs_recv = false;
	s->hs_need = s->hs_got = s->hs_reply_words = s->hs_reply_pos = 0;
	s->hs_next = false;
	s->mfa_high = s->sense_high = 0;
	s->reply_frame_size = 0;
	s->free_head = s->free_n = s->post_head = s->post_n = 0;
	s->port1_config = INITIATOR_ID | 1u << (16 + INITIATOR_ID);
	for (unsigned t = 0; t < NPAGE_TARGETS; t++)
		s->dev1_req[t] = s->dev1_conf[t] = 0;
	s->ioc1_flags = 0;
	scsi_hba_reset_luns(&s->hba);
	update_irq(s);
}

static void post(struct lsi *s, uint32_t v)
{
	if (s->post_n == POST_FIFO) {
		s->state = STATE_FAULT; /* the driver never reads its replies */
		return;
	}
	s->post_q[(s->post_head + s->post_n++) % POST_FIFO] = v;
	update_irq(s);
}

/* An address reply: into a frame from the free FIFO (its high half is the
 * driver's HostMfaHighAddr), at most the frame size the driver gave; the
 * frame's address goes to the post FIFO. */
static void address_reply(struct lsi *s, const uint8_t *r, unsigned len)
{
	if (!s->free_n) {
		s->state = STATE_FAULT;
		return;
	}
	uint32_t frame = s->free_q[s->free_head];
	s->free_head = (s->free_head + 1) % FREE_FIFO;
	s->free_n--;
	unsigned n = len < s->reply_frame_size ? len : s->reply_frame_size;
	uint8_t *h = vm_gpa_to_hva(s->vm, (uint64_t)s->mfa_high << 32 | frame, n);
	if (h)
		memcpy(h, r, n);
	post(s, 0x80000000u | (frame >> 1));
}

/* ---- messages other than SCSI IO ----
 * Each builds its reply in r (REPLY_MAX bytes, zeroed) and returns its
 * length; *fifo is set when the reply goes to the post FIFO even though the
 * request came through the handshake. */

/* The common reply header: MsgLength, the request's function, flags and
 * context; bytes 0-1 and 4-6 are the function's own. */
static unsigned reply_hdr(const uint8_t *m, uint8_t *r, unsigned len)
{
	r[2] = (uint8_t)(len / 4);
	r[3] = m[3];
	r[7] = m[7];
	memcpy(r + 8, m + 8, 4);
	return len;
}

static unsigned ioc_facts(struct lsi *s, const uint8_t *m, uint8_t *r)
{
	od_st16(r + 0x00, MSG_VERSION);
	r[0x14] = MAX_CHAIN_DEPTH;
	r[0x15] = s->whoinit;
	r[0x16] = 8;                         /* BlockSize: Linux divides by it */
	od_st16(r + 0x18, FREE_FIFO);        /* ReplyQueueDepth */
	od_st16(r + 0x1a, REQ_FRAME_DWORDS);
	od_st16(r + 0x1e, 0x0104);           /* ProductID: SCSI initiator, 1030 */
	od_st32(r + 0x20, s->mfa_high);
	od_st16(r + 0x24, GLOBAL_CREDITS);
	r[0x26] = 1;                         /* NumberOfPorts */
	r[0x27] = s->events;
	od_st32(r + 0x28, s->sense_high);
	od_st16(r + 0x2c, s->reply_frame_size);
	r[0x2e] = SCSI_MAX_TARGETS;          /* MaxDevices */
	r[0x2f] = 1;                         /* MaxBuses */
	od_st32(r + 0x38, 0x01032000);       /* FWVersion 1.3.32.0 */
	return reply_hdr(m, r, 0x50);
}

static unsigned port_facts(const uint8_t *m, uint8_t *r)
{
	r[6] = m[6];
	if (m[6] != 0) { /* one port */
		od_st16(r + 14, IOCSTATUS_INVALID_FIELD);
		return reply_hdr(m, r, 0x28);
	}
	r[0x15] = 0x01;                      /* PortType: SCSI */
	od_st16(r + 0x16, SCSI_MAX_TARGETS); /* MaxDevices */
	od_st16(r + 0x18, INITIATOR_ID);     /* PortSCSIID */
	od_st16(r + 0x1a, 0x08);             /* ProtocolFlags: initiator */
	return reply_hdr(m, r, 0x28);
}

static unsigned ioc_init(struct lsi *s, const uint8_t *m, unsigned mlen, uint8_t *r)
{
	if (mlen < 24 || m[0] == WHOINIT_PCI_PEER) {
		od_st16(r + 14, IOCSTATUS_INVALID_FIELD);
	} else if (s->state == STATE_FAULT) {
		od_st16(r + 14, IOCSTATUS_INVALID_STATE);
	} else {
		s->whoinit = m[0] & 7;
		s->reply_frame_size = od_ld16(m + 12);
		s->mfa_high = od_ld32(m + 16);
		s->sense_high = od_ld32(m + 20);
		s->state = STATE_OPERATIONAL;
	}
	r[0] = m[0];
	r[4] = m[4];
	r[5] = m[5];
	r[6] = m[6];
	return reply_hdr(m, r, 20);
}

static unsigned event_notification(struct lsi *s, const uint8_t *m, uint8_t *r)
{
	/* the reply is the EVENT_CHANGE event: notification is now on or off */
	s->events = m[0] & 1;
	od_st16(r + 0, 1);                   /* EventDataLength, dwords */
	od_st32(r + 20, EVENT_EVENT_CHANGE);
	od_st32(r + 28, s->events);
	return reply_hdr(m, r, 32);
}

/* Every command completes before its request returns, so there is nothing
 * to abort: task management succeeds with no command terminated; resets
 * drop the units' sense data. */
static unsigned task_mgmt(struct lsi *s, const uint8_t *m, uint8_t *r)
{
	uint8_t type = m[5];
	r[0] = m[0];
	r[1] = m[1];
	r[5] = type;
	if (m[1] != 0) {
		od_st16(r + 14, IOCSTATUS_SCSI_INVALID_BUS);
		return reply_hdr(m, r, 24);
	}
	switch (type) {
	case 0x01: /* ABORT TASK */
	case 0x02: /* ABORT TASK SET */
	case 0x06: /* CLEAR TASK SET */
	case 0x07: /* QUERY TASK */
		break;
	case 0x03: /* TARGET RESET */
	case 0x05: /* LOGICAL UNIT RESET */
		if (m[0] >= SCSI_MAX_TARGETS) {
			od_st16(r + 14, IOCSTATUS_SCSI_INVALID_TARGETID);
			break;
		}
		if (scsi_hba_lun(&s->hba, m[0]))
			memset(s->hba.lun[m[0]].sense, 0, sizeof s->hba.lun[m[0]].sense);
		break;
	case 0x04: /* RESET BUS */
		scsi_hba_reset_luns(&s->hba);
		break;
	default:
		r[4] = TM_RSP_NOT_SUPPORTED;
		break;
	}
	return reply_hdr(m, r, 24);
}

/* ---- configuration pages ---- */

enum {
	PT_IO_UNIT = 0x0, PT_IOC = 0x1, PT_SCSI_PORT = 0x3, PT_SCSI_DEVICE = 0x4, PT_MANUFACTURING = 0x9,
	PT_EXTENDED = 0xf,
};
#define PA_CHANGEABLE 0x10
enum {
	CA_HEADER = 0, CA_READ_CURRENT = 1, CA_WRITE_CURRENT = 2, CA_DEFAULT = 3, CA_WRITE_NVRAM = 4,
	CA_READ_DEFAULT = 5, CA_READ_NVRAM = 6,
};
#define PAGE_MAX 264 /* bytes of the longest page (Manufacturing 1) */

struct page_def {
	uint8_t type, number, version, attr, dwords;
};
static const struct page_def pages[] = {
	{PT_MANUFACTURING, 0, 0x00, 0, 19},
	{PT_MANUFACTURING, 1, 0x00, 0, 65},
	{PT_MANUFACTURING, 2, 0x00, 0, 3},
	{PT_IO_UNIT, 0, 0x00, 0, 3},
	{PT_IO_UNIT, 1, 0x02, PA_CHANGEABLE, 2},
	{PT_IO_UNIT, 2, 0x02, PA_CHANGEABLE, 7},
	{PT_IOC, 0, 0x01, 0, 7},
	{PT_IOC, 1, 0x03, PA_CHANGEABLE, 4},
	{PT_IOC, 2, 0x04, 0, 3},
	{PT_IOC, 3, 0x00, 0, 2},
	{PT_IOC, 4, 0x00, PA_CHANGEABLE, 3},
	{PT_SCSI_PORT, 0, 0x02, 0, 3},
	{PT_SCSI_PORT, 1, 0x03, PA_CHANGEABLE, 4},
	{PT_SCSI_PORT, 2, 0x02, 0, 19},
	{PT_SCSI_DEVICE, 0, 0x04, 0, 3},
	{PT_SCSI_DEVICE, 1, 0x05, PA_CHANGEABLE, 4},
	{PT_SCSI_DEVICE, 2, 0x01, PA_CHANGEABLE, 4},
};
_Static_assert(65 * 4 <= PAGE_MAX, "the page buffer holds Manufacturing 1");

static void put_str(uint8_t *p, const char *str, size_t n)
{
	size_t l = strlen(str);
	memcpy(p, str, l < n ? l : n);
}

/* The page's contents after its header, at p (zeroed, 4 * dwords). */
static void page_fill(const struct lsi *s, const struct page_def *d, unsigned target, uint8_t *p)
{
	switch (d->type << 4 | d->number) {
	case PT_MANUFACTURING << 4 | 0:
		put_str(p + 4, "53C1030", 16);        /* ChipName */
		put_str(p + 20, "B2", 8);             /* ChipRevision */
		put_str(p + 28, "LSI Logic 53C1030", 16); /* BoardName */
		put_str(p + 44, "ovfdeploy", 16);     /* BoardAssembly */
		break;
	case PT_MANUFACTURING << 4 | 2:
		od_st16(p + 4, 0x0030);
		p[6] = 1;
		break;
	case PT_IO_UNIT << 4 | 0:
		od_st64(p + 4, 0x5000c29000000000ull | s->hba.pci.slot); /* UniqueValue */
		break;
	case PT_IOC << 4 | 0:
		od_st16(p + 12, 0x1000);
		od_st16(p + 14, 0x0030);
		p[16] = 1;
		od_st32(p + 20, 0x010000);
		od_st16(p + 24, 0x15ad);
		od_st16(p + 26, 0x1976);
		break;
	case PT_IOC << 4 | 1:
		od_st32(p + 4, s->ioc1_flags);
		break;
	case PT_IOC << 4 | 4:
		p[5] = 1; /* MaxSEP */
		break;
	case PT_SCSI_PORT << 4 | 0:
		/* wide, Ultra320 timings (offset 127, period factor 8), DT */
		od_st32(p + 4, 0x20000000u | 0x7fu << 16 | 0x08u << 8 | 0x02u);
		od_st32(p + 8, 0x03); /* LVD */
		break;
	case PT_SCSI_PORT << 4 | 1:
		od_st32(p + 4, s->port1_config);
		break;
	case PT_SCSI_PORT << 4 | 2:
		od_st32(p + 8, INITIATOR_ID);
		for (unsigned t = 0; t < NPAGE_TARGETS; t++)
			p[12 + 4 * t + 1] = 0x08; /* each device's SyncFactor */
		break;
	case PT_SCSI_DEVICE << 4 | 1:
		od_st32(p + 4, s->dev1_req[target]);
		od_st32(p + 12, s->dev1_conf[target]);
		break;
	}
	/* the rest are zeros: no NVRAM, no RAID, narrow asynchronous
	 * negotiated (SCSI Device 0) */
}

/* A written page: only what we keep is taken; the rest is accepted and
 * forgotten, as the fields we report fixed. */
static void page_store(struct lsi *s, const struct page_def *d, unsigned target, const uint8_t *p)
{
	switch (d->type << 4 | d->number) {
	case PT_IOC << 4 | 1:
		s->ioc1_flags = od_ld32(p + 4) & ~1u; /* no reply coalescing */
		break;
	case PT_SCSI_PORT << 4 | 1:
		s->port1_config = od_ld32(p + 4);
		break;
	case PT_SCSI_DEVICE << 4 | 1:
		s->dev1_req[target] = od_ld32(p + 4);
		s->dev1_conf[target] = od_ld32(p + 12);
		break;
	}
}

/* The page buffer of a CONFIG request: one simple element at 0x1c.
 * Returns its host address for `len` bytes (NULL when the element is bad
 * or outside RAM), *len cut to the element's length. */
static uint8_t *config_buffer(struct lsi *s, const uint8_t *m, unsigned mlen, unsigned *len, bool *out)
{
	if (mlen < 0x1c + 8)
		return NULL;
	const uint8_t *e = m + 0x1c;
	uint32_t fl = od_ld32(e);
	uint8_t flags = (uint8_t)(fl >> 24);
	if ((flags & SGE_TYPE) != SGE_SIMPLE || ((flags & SGE_64) && mlen < 0x1c + 12))
		return NULL;
	uint64_t a = flags & SGE_64 ? od_ld64(e + 4) : od_ld32(e + 4);
	if ((fl & 0xffffff) < *len)
		*len = fl & 0xffffff;
	*out = flags & SGE_DIR_OUT;
	return *len ? vm_gpa_to_hva(s->vm, a, *len) : (uint8_t *)e; /* nothing to move: any pointer */
}

static unsigned config(struct lsi *s, const uint8_t *m, unsigned mlen, uint8_t *r)
{
	uint8_t action = m[0], type = m[0x17] & 0x0f, number = m[0x16];
	uint32_t addr = od_ld32(m + 0x18);
	r[0] = action;
	reply_hdr(m, r, 24);
	uint16_t st = 0;
	const struct page_def *d = NULL;
	for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
		if (pages[i].type == type && pages[i].number == number)
			d = &pages[i];
	unsigned target = 0;
	if (type == PT_EXTENDED) {
		st = IOCSTATUS_CONFIG_INVALID_TYPE;
	} else if (!d) {
		st = IOCSTATUS_CONFIG_INVALID_PAGE;
	} else if (type == PT_SCSI_PORT && addr != 0) {
		st = IOCSTATUS_CONFIG_INVALID_PAGE; /* one port */
	} else if (type == PT_SCSI_DEVICE && (addr & ~0xffu || (target = addr & 0xff) >= NPAGE_TARGETS)) {
		st = IOCSTATUS_CONFIG_INVALID_PAGE; /* bus 0, targets 0-15 */
	}
	if (st) {
		od_st16(r + 14, st);
		return 24;
	}
	r[0x14] = d->version;
	r[0x15] = d->dwords;
	r[0x16] = d->number;
	r[0x17] = (uint8_t)(d->attr | d->type);
	if (action == CA_HEADER)
		return 24;
	uint8_t page[PAGE_MAX];
	memset(page, 0, sizeof page);
	memcpy(page, r + 0x14, 4);
	unsigned len = 4u * d->dwords;
	bool out = false;
	uint8_t *buf = config_buffer(s, m, mlen, &len, &out);
	switch (action) {
	case CA_READ_CURRENT:
	case CA_READ_DEFAULT:
	case CA_READ_NVRAM:
		if (!buf || out) {
			st = IOCSTATUS_INVALID_SGL;
			break;
		}
		page_fill(s, d, target, page);
		memcpy(buf, page, len);
		break;
	case CA_WRITE_CURRENT:
	case CA_WRITE_NVRAM:
		if (!(d->attr & PA_CHANGEABLE)) {
			st = IOCSTATUS_CONFIG_INVALID_ACTION;
		} else if (!buf || !out) {
			st = IOCSTATUS_INVALID_SGL;
		} else {
			memcpy(page, buf, len); /* a short page leaves zeros */
			page_store(s, d, target, page);
		}
		break;
	case CA_DEFAULT:
		if (d->attr & PA_CHANGEABLE)
			page_store(s, d, target, page); /* back to zeros */
		break;
	default:
		st = IOCSTATUS_CONFIG_INVALID_ACTION;
		break;
	}
	od_st16(r + 14, st);
	return 24;
}

/* Any message but SCSI IO, from the handshake or the request FIFO. */
static unsigned message(struct lsi *s, const uint8_t *m, unsigned mlen, uint8_t *r, bool *fifo)
{
	memset(r, 0, REPLY_MAX);
	*fifo = false;
	switch (m[3]) {
	case FN_IOC_FACTS:
		return ioc_facts(s, m, r);
	case FN_PORT_FACTS:
		return port_facts(m, r);
	case FN_IOC_INIT:
		return ioc_init(s, m, mlen, r);
	case FN_PORT_ENABLE:
		r[6] = m[6];
		if (s->state != STATE_OPERATIONAL)
			od_st16(r + 14, IOCSTATUS_INVALID_STATE);
		return reply_hdr(m, r, 20);
	case FN_EVENT_NOTIFICATION:
		return event_notification(s, m, r);
	case FN_EVENT_ACK:
		return reply_hdr(m, r, 20);
	case FN_CONFIG:
		return config(s, m, mlen, r);
	case FN_TASK_MGMT:
		*fifo = true;
		return task_mgmt(s, m, r);
	default: /* FW_DOWNLOAD, FW_UPLOAD, LAN, target mode, RAID...; SCSI
		    IO through the handshake */
		r[0] = m[0];
		r[1] = m[1];
		r[4] = m[4];
		r[5] = m[5];
		r[6] = m[6];
		od_st16(r + 14, IOCSTATUS_INVALID_FUNCTION);
		return reply_hdr(m, r, 20);
	}
}

/* ---- handshake ---- */

static void handshake(struct lsi *s)
{
	uint8_t m[MSG_MAX], r[REPLY_MAX];
	for (unsigned i = 0; i < s->hs_need; i++)
		od_st32(m + 4 * i, s->hs_msg[i]);
	memset(m + 4 * s->hs_need, 0, sizeof m - 4 * s->hs_need);
	bool fifo;
	unsigned n = message(s, m, 4 * s->hs_need, r, &fifo);
	s->hs_reply_pos = 0;
	s->hs_reply_words = 0;
	if (fifo) {
		/* the driver only waits for the doorbell interrupt; the
		 * reply comes through the post FIFO, when the IOC runs */
		if (s->state == STATE_OPERATIONAL)
			address_reply(s, r, n);
	} else {
		memcpy(s->hs_reply, r, n);
		s->hs_reply_words = n / 2;
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
	uint32_t v = s->state | (uint32_t)s->whoinit << WHOINIT_SHIFT;
	if (s->hs_reply_pos < s->hs_reply_words) {
		/* a word per read (SeaBIOS reads them back to back); the next
		 * word (or, after the last, the end of the reply) is signalled
		 * once the host has acknowledged this one (Linux waits) */
		uint32_t w = od_ld16(s->hs_reply + 2 * s->hs_reply_pos++);
		s->hs_next = true;
		return v | DOORBELL_ACTIVE | w;
	}
	return v | (s->hs_recv ? DOORBELL_ACTIVE : 0);
}

/* The write sequence key, then the host diagnostic register: what Linux's
 * hard reset does.  A wrong key starts over and disables diagnostic
 * writes. */
static void write_seq(struct lsi *s, uint32_t v)
{
	static const uint8_t key[] = {0x04, 0x0b, 0x02, 0x07, 0x0d};
	v &= 0xf;
	if (s->wrseq < sizeof key && v == key[s->wrseq]) {
		if (++s->wrseq == sizeof key)
			s->diag |= DIAG_DRWE;
		return;
	}
	s->wrseq = v == key[0] ? 1 : 0;
	s->diag &= ~DIAG_DRWE;
}

static void diag_write(struct lsi *s, uint32_t v)
{
	if (!(s->diag & DIAG_DRWE))
		return;
	if (v & DIAG_RESET_ADAPTER) {
		/* the firmware restarts: READY, history kept, writes off */
		unit_reset(s);
		s->diag = DIAG_RESET_HISTORY;
		s->wrseq = 0;
		return;
	}
	s->diag = DIAG_DRWE | (v & (DIAG_DISABLE_ARM | DIAG_RESET_HISTORY) & (s->diag | DIAG_DISABLE_ARM));
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
	/* a context reply when all went well: the context as the driver gave
	 * it, whatever its top bit (SeaBIOS's is a timer value, and it compares
	 * the whole word; Linux keeps that bit clear) */
	if (c.status == SCSI_STATUS_GOOD && c.xferred == data_len) {
		post(s, context);
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
	/* a whole frame as Linux sizes them, or at least a SCSI IO header
	 * (a shorter frame at the very end of RAM is read as far as RAM
	 * goes and zeros) */
	uint8_t frame[MSG_MAX];
	memset(frame, 0, sizeof frame);
	unsigned n = MSG_MAX;
	const uint8_t *f = NULL;
	while (!(f = vm_gpa_to_hva(s->vm, mf, n)) && n > FRAME_HDR)
		n /= 2;
	if (!f || n < FRAME_HDR) {
		s->state = STATE_FAULT; /* a frame outside memory: a bus fault */
		return;
	}
	memcpy(frame, f, n);
	if (frame[3] == FN_SCSI_IO) {
		scsi_io(s, mf, frame);
		return;
	}
	uint8_t r[REPLY_MAX];
	bool fifo;
	unsigned len = message(s, frame, n, r, &fifo);
	if (s->state == STATE_OPERATIONAL)
		address_reply(s, r, len);
}

static uint32_t reply_pop(struct lsi *s)
{
	if (!s->post_n)
		return 0xffffffffu;
	uint32_t v = s->post_q[s->post_head];
	s->post_head = (s->post_head + 1) % POST_FIFO;
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
		case R_HOST_DIAG: v = s->diag; break;
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
		if (s->free_n < FREE_FIFO)
			s->free_q[(s->free_head + s->free_n++) % FREE_FIFO] = v & ~3u;
		break;
	case R_WRITE_SEQ:
		write_seq(s, v);
		break;
	case R_HOST_DIAG:
		diag_write(s, v);
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
	s->diag = 0;
	unit_reset(s);
	return scsi_hba_plug(vm, &s->hba, e);
}

int lsi_add_disks(struct vm *vm, const struct vm_config *cfg, od_err *e)
{
	return scsi_hba_add_disks(vm, cfg, VM_DISK_LSILOGIC, &vm->lsi, lsi_new, e);
}
