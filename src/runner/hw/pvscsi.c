/* pvscsi.c - VMware's paravirtual SCSI host adapter (PCI 15ad:07c0), the
 * interface Linux's vmw_pvscsi and SeaBIOS's pvscsi driver speak, over the
 * shared SCSI target layer (scsi.c).  Facts from the public drivers' headers;
 * our own code.
 *
 * One 32 KiB memory BAR (BAR 0, where SeaBIOS looks; Linux takes the first
 * memory BAR that large) holds the registers: COMMAND and COMMAND_DATA (a
 * command number, then its descriptor one dword at a time), COMMAND_STATUS,
 * INTR_STATUS (write 1 to clear), INTR_MASK and the two kick registers.
 *
 * SETUP_RINGS gives the rings-state page and the pages of the request ring
 * (128-byte descriptors, 32 a page) and completion ring (32-byte
 * descriptors, 128 a page), 1 to 32 pages each, a power of two.  The device
 * keeps its own copy of the indexes it owns (reqConsIdx, cmpProdIdx) and
 * writes them out; the guest's (reqProdIdx, cmpConsIdx) are read each time
 * and only ever masked.  A kick serves requests synchronously, at most one
 * ring's worth per kick, and stops while the completion ring is full.
 *
 * A request's data is one buffer (dataAddr, dataLen) or, with the SG flag,
 * a list of 16-byte elements {addr, length, flags}; a chain element (flag
 * bit 0) continues the list at its address.  The walk stops at dataLen
 * bytes, SCSI_MAX_SEGS elements or 64 chain hops; every element must lie in
 * guest RAM, or the request fails with BTSTAT_INVPARAM.
 *
 * Interrupts: INTx, level = INTR_STATUS & INTR_MASK; or, once the driver
 * enables the MSI capability (one vector, 64-bit address; offered when KVM
 * can inject MSIs), a message each time completions are posted while
 * INTR_MASK lets them through (Linux then reads no status register in its
 * handler; it takes MSI when it finds no MSI-X).  The message ring is accepted
 * and announced but never written: the runner has no hot-plug.
 * REQCALLTHRESHOLD, CONFIG, ISSUE_SCSI and DEVICE_UNPLUG answer -1 in
 * COMMAND_STATUS, which the drivers read as "not supported". */
#include "config.h"
#include "runner/hw/pvscsi.h"
#include "runner/hw/scsi.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum {
	R_COMMAND = 0x0, R_COMMAND_DATA = 0x4, R_COMMAND_STATUS = 0x8,
	R_INTR_STATUS = 0x100c, R_INTR_MASK = 0x2010,
	R_KICK_NON_RW_IO = 0x3014, R_DEBUG = 0x3018, R_KICK_RW_IO = 0x4018,
};
#define BAR_SIZE 0x8000

enum {
	CMD_FIRST = 0, CMD_ADAPTER_RESET = 1, CMD_ISSUE_SCSI = 2, CMD_SETUP_RINGS = 3, CMD_RESET_BUS = 4,
	CMD_RESET_DEVICE = 5, CMD_ABORT_CMD = 6, CMD_CONFIG = 7, CMD_SETUP_MSG_RING = 8, CMD_DEVICE_UNPLUG = 9,
	CMD_SETUP_REQCALLTHRESHOLD = 10, CMD_NONE = 0xffffffff,
};

#define MAX_RING_PAGES 32
#define MAX_MSG_PAGES 16
/* descriptor sizes in dwords */
#define SETUP_RINGS_WORDS ((8 + 8 + 2 * 8 * MAX_RING_PAGES) / 4)
#define SETUP_MSG_WORDS ((8 + 8 * MAX_MSG_PAGES) / 4)
#define RESET_DEVICE_WORDS 3
#define ABORT_WORDS 4

#define INTR_CMPL_0 0x1
#define INTR_ALL 0xf

#define REQ_SIZE 128
#define CMP_SIZE 32
#define PAGE 4096u

/* rings-state page */
#define S_REQ_PROD 0
#define S_REQ_CONS 4
#define S_REQ_LOG2 8
#define S_CMP_PROD 12
#define S_CMP_CONS 16
#define S_CMP_LOG2 20
#define S_MSG_PROD 128
#define S_MSG_CONS 132
#define S_MSG_LOG2 136

#define FLAG_SG_LIST 0x1
#define SGE_CHAIN 0x1
#define MAX_CHAIN_HOPS 64

/* host adapter status */
#define BT_SUCCESS 0x00
#define BT_DATARUN 0x12
#define BT_SELTIMEO 0x11
#define BT_INVPARAM 0x1a

struct pvscsi {
	struct scsi_hba hba;      /* first: the PCI function, the targets */
	struct vm *vm;

	uint32_t cmd;             /* command taking data, CMD_NONE if none */
	uint32_t cmd_data[SETUP_RINGS_WORDS];
	unsigned cmd_words, cmd_need;
	uint32_t cmd_status;
	uint32_t intr_status, intr_mask;

	bool rings;               /* SETUP_RINGS done */
	uint8_t *state;           /* the rings-state page */
	uint8_t *req_page[MAX_RING_PAGES], *cmp_page[MAX_RING_PAGES];
	unsigned req_log2, cmp_log2;
	uint32_t req_cons, cmp_prod; /* ours; mirrored in the state page */

	unsigned msi_cap;         /* config offset of the MSI capability, 0 none */

	struct scsi_seg seg[SCSI_MAX_SEGS];
};
_Static_assert(offsetof(struct pvscsi, hba) == 0, "scsi_hba_free frees the adapter through its hba");
_Static_assert(PVSCSI_MAX_TARGETS == SCSI_MAX_TARGETS, "the targets are the hba's");

static uint32_t st_ld(const struct pvscsi *p, unsigned off)
{
	return atomic_load_explicit((_Atomic uint32_t *)(void *)(p->state + off), memory_order_acquire);
}

static void st_st(struct pvscsi *p, unsigned off, uint32_t v)
{
	atomic_store_explicit((_Atomic uint32_t *)(void *)(p->state + off), v, memory_order_release);
}

static bool msi_on(const struct pvscsi *p)
{
	return pci_msi_enabled(&p->hba.pci, p->msi_cap);
}

static void update_irq(struct pvscsi *p)
{
	/* with MSI enabled the function must not assert INTx */
	pci_set_intx(&p->hba.pci, !msi_on(p) && (p->intr_status & p->intr_mask) != 0);
}

/* New interrupt-worthy status `bits`: a message when MSI is on. */
static void raise_intr(struct pvscsi *p, uint32_t bits)
{
	p->intr_status |= bits;
	if (msi_on(p)) {
		if ((bits ? bits : p->intr_status) & p->intr_mask)
			pci_msi_signal(p->vm, &p->hba.pci, p->msi_cap);
		return;
	}
	update_irq(p);
}

static void cfg_written(struct pci_dev *d, unsigned off, unsigned size)
{
	struct pvscsi *p = d->opaque;
	if (pci_msi_control_written(p->msi_cap, off, size))
		update_irq(p); /* MSI enable changed: INTx follows */
}

static void adapter_reset(struct pvscsi *p)
{
	p->rings = false;
	p->state = NULL;
	p->req_cons = p->cmp_prod = 0;
	p->intr_status = p->intr_mask = 0;
	p->cmd = CMD_NONE;
	p->cmd_words = p->cmd_need = 0;
	scsi_hba_reset_luns(&p->hba);
	update_irq(p);
}

/* A guest page number to a host pointer to that whole page, or NULL. */
static uint8_t *page_of(struct pvscsi *p, uint64_t ppn)
{
	if (ppn >> 52)
		return NULL;
	return vm_gpa_to_hva(p->vm, ppn << 12, PAGE);
}

static int log2_of(uint32_t v)
{
	int n = 0;
	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

static uint32_t setup_rings(struct pvscsi *p)
{
	const uint32_t *w = p->cmd_data;
	uint32_t nreq = w[0], ncmp = w[1];
	uint64_t state_ppn = w[2] | (uint64_t)w[3] << 32;
	if (!od_is_pow2(nreq) || nreq > MAX_RING_PAGES || !od_is_pow2(ncmp) || ncmp > MAX_RING_PAGES)
		return CMD_NONE;
	uint8_t *state = page_of(p, state_ppn);
	uint8_t *req[MAX_RING_PAGES], *cmp[MAX_RING_PAGES];
	for (unsigned i = 0; i < nreq; i++)
		if (!(req[i] = page_of(p, w[4 + 2 * i] | (uint64_t)w[5 + 2 * i] << 32)))
			return CMD_NONE;
	for (unsigned i = 0; i < ncmp; i++)
		if (!(cmp[i] = page_of(p, w[4 + 2 * MAX_RING_PAGES + 2 * i] |
					     (uint64_t)w[5 + 2 * MAX_RING_PAGES + 2 * i] << 32)))
			return CMD_NONE;
	if (!state)
		return CMD_NONE;
	p->state = state;
	memcpy(p->req_page, req, nreq * sizeof req[0]);
	memcpy(p->cmp_page, cmp, ncmp * sizeof cmp[0]);
	p->req_log2 = (unsigned)log2_of(nreq) + 5; /* 32 descriptors a page */
	p->cmp_log2 = (unsigned)log2_of(ncmp) + 7; /* 128 a page */
	p->req_cons = p->cmp_prod = 0;
	st_st(p, S_REQ_LOG2, p->req_log2);
	st_st(p, S_CMP_LOG2, p->cmp_log2);
	st_st(p, S_REQ_CONS, 0);
	st_st(p, S_CMP_PROD, 0);
	p->rings = true;
	return 0;
}

static uint32_t setup_msg_ring(struct pvscsi *p)
{
	const uint32_t *w = p->cmd_data;
	uint32_t n = w[0];
	if (!p->rings)
		return 0; /* a no-op before SETUP_RINGS, as the interface says */
	if (!od_is_pow2(n) || n > MAX_MSG_PAGES)
		return CMD_NONE;
	for (unsigned i = 0; i < n; i++)
		if (!page_of(p, w[2 + 2 * i] | (uint64_t)w[3 + 2 * i] << 32))
			return CMD_NONE;
	/* no message is ever posted: the producer index stays 0 */
	st_st(p, S_MSG_LOG2, (uint32_t)log2_of(n) + 5);
	st_st(p, S_MSG_PROD, 0);
	return 0;
}

/* Gather the request's data buffer into p->seg.  Returns the number of
 * segments, or -1 when the description is bad. */
static int gather(struct pvscsi *p, uint64_t addr, uint64_t len, bool sg)
{
	if (len == 0)
		return 0;
	if (!sg) {
		uint8_t *h = vm_gpa_to_hva(p->vm, addr, len);
		if (!h)
			return -1;
		p->seg[0] = (struct scsi_seg){ h, len };
		return 1;
	}
	unsigned n = 0, hops = 0, visited = 0;
	uint64_t left = len;
	while (left) {
		/* zero-length elements must not make the walk endless either */
		if (++visited > SCSI_MAX_SEGS + MAX_CHAIN_HOPS)
			return -1;
		const uint8_t *e = vm_gpa_to_hva(p->vm, addr, 16);
		if (!e)
			return -1;
		uint64_t a = od_ld64(e);
		uint32_t l = od_ld32(e + 8), f = od_ld32(e + 12);
		if (f & SGE_CHAIN) {
			if (++hops > MAX_CHAIN_HOPS)
				return -1;
			addr = a;
			continue;
		}
		if (!od_add_u64(addr, 16, &addr))
			return -1;
		if (l == 0)
			continue;
		uint64_t k = l < left ? l : left;
		if (n == SCSI_MAX_SEGS)
			return -1;
		uint8_t *h = vm_gpa_to_hva(p->vm, a, k);
		if (!h)
			return -1;
		p->seg[n++] = (struct scsi_seg){ h, k };
		left -= k;
	}
	return (int)n;
}

/* Serve one request descriptor (a copy of the guest's) into a completion. */
static void serve(struct pvscsi *p, const uint8_t *req, uint8_t *cmp)
{
	uint64_t data_addr = od_ld64(req + 8), data_len = od_ld64(req + 16);
	uint64_t sense_addr = od_ld64(req + 24);
	uint32_t sense_len = od_ld32(req + 32), flags = od_ld32(req + 36);
	uint8_t cdb_len = req[56];
	const uint8_t *lun = req + 57;
	uint8_t bus = req[66], target = req[67];
	uint16_t host = BT_SUCCESS, status = SCSI_STATUS_GOOD;
	uint64_t done = 0;
	uint32_t sense_done = 0;

	memcpy(cmp, req, 8); /* context */
	p->hba.requests++;
	struct scsi_lun *l = bus == 0 ? scsi_hba_lun(&p->hba, target) : NULL;
	if (!l) {
		host = BT_SELTIMEO;
		goto out;
	}
	if (cdb_len < 1 || cdb_len > 16) {
		host = BT_INVPARAM;
		goto out;
	}
	int nseg = gather(p, data_addr, data_len, flags & FLAG_SG_LIST);
	if (nseg < 0) {
		host = BT_INVPARAM;
		goto out;
	}
	struct scsi_cmd c = {
		.cdb = req + 40, .cdb_len = cdb_len, .seg = p->seg, .nseg = (unsigned)nseg, .buf_len = data_len,
	};
	/* LUN n is lun[1] = n (single-level addressing, as the drivers
	 * write it); the other bytes are not looked at */
	scsi_hba_execute(l, lun[1], &c);
	if (c.overrun) {
		host = BT_DATARUN;
		goto out;
	}
	status = c.status;
	done = c.xferred;
	sense_done = scsi_hba_put_sense(p->vm, &c, sense_addr, sense_len);
out:
	od_st64(cmp + 8, done);
	od_st32(cmp + 16, sense_done);
	od_st16(cmp + 20, host);
	od_st16(cmp + 22, status);
	od_st32(cmp + 24, 0);
	od_st32(cmp + 28, 0);
}

static void process_rings(struct pvscsi *p)
{
	if (!p->rings)
		return;
	uint32_t req_mask = (1u << p->req_log2) - 1, cmp_mask = (1u << p->cmp_log2) - 1;
	bool posted = false;
	/* at most one ring's worth a kick: a guest refilling the ring from
	 * another vCPU cannot hold this one */
	for (uint32_t n = 0; n <= req_mask; n++) {
		uint32_t prod = st_ld(p, S_REQ_PROD);
		if (prod == p->req_cons)
			break;
		uint32_t cons = st_ld(p, S_CMP_CONS);
		if (p->cmp_prod - cons > cmp_mask)
			break; /* completion ring full: the guest must drain it */
		uint32_t ri = p->req_cons & req_mask, ci = p->cmp_prod & cmp_mask;
		uint8_t req[REQ_SIZE], cmp[CMP_SIZE];
		memcpy(req, p->req_page[ri / 32] + (ri % 32) * REQ_SIZE, REQ_SIZE);
		atomic_thread_fence(memory_order_acquire);
		serve(p, req, cmp);
		memcpy(p->cmp_page[ci / 128] + (ci % 128) * CMP_SIZE, cmp, CMP_SIZE);
		p->req_cons++;
		p->cmp_prod++;
		st_st(p, S_REQ_CONS, p->req_cons);
		st_st(p, S_CMP_PROD, p->cmp_prod);
		posted = true;
	}
	if (posted)
		raise_intr(p, INTR_CMPL_0);
}

static void run_command(struct pvscsi *p)
{
	uint32_t cmd = p->cmd;
	p->cmd = CMD_NONE;
	switch (cmd) {
	case CMD_ADAPTER_RESET:
		adapter_reset(p);
		p->cmd_status = 0;
		break;
	case CMD_SETUP_RINGS:
		p->cmd_status = setup_rings(p);
		break;
	case CMD_SETUP_MSG_RING:
		p->cmd_status = setup_msg_ring(p);
		break;
	case CMD_RESET_BUS:
	case CMD_RESET_DEVICE:
	case CMD_ABORT_CMD:
		/* requests complete within their kick: nothing is in flight
		 * to reset or abort */
		p->cmd_status = 0;
		break;
	default:
		p->cmd_status = CMD_NONE;
	}
}

static void start_command(struct pvscsi *p, uint32_t cmd)
{
	unsigned need;
	switch (cmd) {
	case CMD_ADAPTER_RESET: case CMD_RESET_BUS: need = 0; break;
	case CMD_SETUP_RINGS: need = SETUP_RINGS_WORDS; break;
	case CMD_SETUP_MSG_RING: need = SETUP_MSG_WORDS; break;
	case CMD_RESET_DEVICE: need = RESET_DEVICE_WORDS; break;
	case CMD_ABORT_CMD: need = ABORT_WORDS; break;
	default:
		/* unknown or unsupported: its data words are dropped */
		p->cmd = CMD_NONE;
		p->cmd_status = CMD_NONE;
		return;
	}
	p->cmd = cmd;
	p->cmd_words = 0;
	p->cmd_need = need;
	memset(p->cmd_data, 0, sizeof p->cmd_data);
	/* a driver probing for a command reads the descriptor size here */
	p->cmd_status = need;
	if (need == 0)
		run_command(p);
}

static void bar_io(void *opaque, uint64_t off, uint8_t *data, unsigned size, bool is_write)
{
	struct pvscsi *p = opaque;
	if (size != 4 || (off & 3)) {
		if (!is_write)
			memset(data, 0xff, size);
		return;
	}
	if (!is_write) {
		uint32_t v = 0;
		switch (off) {
		case R_COMMAND_STATUS: v = p->cmd_status; break;
		case R_INTR_STATUS: v = p->intr_status; break;
		case R_INTR_MASK: v = p->intr_mask; break;
		}
		od_st32(data, v);
		return;
	}
	uint32_t v = od_ld32(data);
	switch (off) {
	case R_COMMAND:
		start_command(p, v);
		break;
	case R_COMMAND_DATA:
		if (p->cmd == CMD_NONE || p->cmd_words >= p->cmd_need)
			break;
		p->cmd_data[p->cmd_words++] = v;
		if (p->cmd_words == p->cmd_need)
			run_command(p);
		break;
	case R_INTR_STATUS:
		p->intr_status &= ~v;
		update_irq(p);
		break;
	case R_INTR_MASK: {
		uint32_t opened = v & INTR_ALL & ~p->intr_mask;
		p->intr_mask = v & INTR_ALL;
		if (msi_on(p) && (p->intr_status & opened))
			raise_intr(p, 0); /* what waited behind the mask */
		update_irq(p);
		break;
	}
	case R_KICK_NON_RW_IO:
	case R_KICK_RW_IO:
		process_rings(p);
		break;
	}
}

struct scsi_hba *pvscsi_new(struct vm *vm, od_err *e)
{
	struct pvscsi *p = scsi_hba_alloc(sizeof *p, "PVSCSI", e);
	if (!p)
		return NULL;
	p->vm = vm;
	struct pci_dev *d = &p->hba.pci;
	/* class: SCSI storage controller; revision 2; VMware's subsystem */
	pci_init_header(d, 0x15ad, 0x07c0, 0x01000002, 0x15ad, 0x07c0);
	d->cfg[0x3d] = 1; /* INTA# */
	pci_set_bar(d, 0, PCI_BAR_MEM32, BAR_SIZE, bar_io, p);
	if (!vm->no_msi)
		p->msi_cap = pci_add_msi(d);
	d->opaque = p;
	d->cfg_written = cfg_written;
	adapter_reset(p);
	return scsi_hba_plug(vm, &p->hba, e);
}

int pvscsi_add_disks(struct vm *vm, const struct vm_config *cfg, od_err *e)
{
	return scsi_hba_add_disks(vm, cfg, VM_DISK_PVSCSI, &vm->pvscsi, pvscsi_new, e);
}
