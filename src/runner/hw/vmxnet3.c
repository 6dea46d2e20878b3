/* vmxnet3.c - VMware's VMXNET3 NIC (PCI 15ad:07b0), the device Linux's
 * vmxnet3 driver and VMware appliances use, on the libslirp networking the
 * runner's NICs share (slirp_net.c).  Facts from the public drivers'
 * headers (Linux drivers/net/vmxnet3); our own code.
 *
 * Registers, all 32-bit: BAR 0 (4 KiB) has the interrupt mask of vector i
 * at 8*i and the producer "doorbells" TXPROD (0x600 + 8*queue), RXPROD and
 * RXPROD2 (0x800, 0xa00); BAR 1 (4 KiB) has VRRS/UVRS (revision and UPT
 * version: we offer revision 1 and UPT 1 only, which every driver speaks),
 * DSAL/DSAH (the guest address of the driver-shared area), CMD (write a
 * command, read its result), MACL/MACH, ICR (read: interrupt pending,
 * cleared by the read) and ECR (write 1s: events acknowledged).
 *
 * ACTIVATE_DEV reads the driver-shared area (magic, the queue-descriptor
 * table, numTxQueues <= 8, numRxQueues <= 16) and the rings each queue
 * descriptor names: for a transmit queue its descriptor ring and completion
 * ring, for a receive queue rings 0 and 1 and the completion ring.  Every
 * ring lies whole in guest RAM, is 16-byte aligned and holds at most 4096
 * descriptors (8192 for an rx completion ring), or activation fails (CMD
 * reads 1).  The device keeps its own ring indexes and generation bits;
 * the guest's doorbell values are never used as indexes: a descriptor
 * belongs to the device while its gen bit equals the ring's.
 *
 * Transmit (in the network thread, after a TXPROD doorbell kicked it): a
 * packet is the descriptors from SOP to the one with EOP, gathered into a
 * 64 KiB buffer of ours (a length field of 0 means 16 KiB, as in the
 * hardware); a packet whose buffers leave RAM or overflow ours is dropped,
 * its descriptors still completed.  A walk that meets a descriptor still
 * the driver's before EOP stops and waits (it can be at most one ring
 * long: past that the gen bit no longer matches).  Offloads, done here:
 * checksum (OM 2: sum from hlen to the end, stored at msscof) and TSO
 * (OM 3: hlen the header length, msscof the MSS; TCP over IPv4/IPv6 cut
 * into segments with their own IP length, id, TCP sequence, flags and
 * checksums).  Linux turns both on with no way for the device to decline.
 * A completion (txdIdx = the EOP descriptor) goes out when the EOP
 * descriptor asks for it (CQ).
 *
 * Receive: a frame from slirp goes into the next HEAD buffer of rx ring 0
 * of queue 0, and what does not fit into BODY buffers of ring 1 (rqID =
 * numRxQueues), one completion per buffer with SOP/EOP and the length; the
 * checksum is marked not calculated.  With too few buffers posted the
 * frame is dropped (counted as out-of-buffer); a HEAD descriptor the
 * device cannot use is completed with the error bit, which the driver
 * drops and recycles.
 *
 * Interrupts: one vector, with "active" masking (GET_CONF_INTR), where the
 * driver masks vector 0 itself while it polls.  An event (completions were
 * written) is pending until delivered.  MSI when KVM can inject it (GET_CONF_INTR
 * then says MSI, and Linux takes it without trying MSI-X): a message as
 * soon as an event is pending and IMR 0 is clear, or when IMR 0 opens on a
 * pending one.  Else INTx: the line is up while an event is pending and
 * IMR 0 is clear; reading ICR clears the pending state.  No MSI-X: with it
 * Linux would want a vector per queue.  The link is up at 10 Gbit/s. */
#include "config.h"
#include "runner/hw/vmxnet3.h"
#include "runner/hw/slirp_net.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* BAR 1 */
enum { R_VRRS = 0x0, R_UVRS = 0x8, R_DSAL = 0x10, R_DSAH = 0x18, R_CMD = 0x20, R_MACL = 0x28, R_MACH = 0x30,
       R_ICR = 0x38, R_ECR = 0x40 };
/* BAR 0 */
enum { R_IMR = 0x0, R_TXPROD = 0x600, R_RXPROD = 0x800, R_RXPROD2 = 0xa00 };
#define BAR_SIZE 0x1000

enum {
	CMD_ACTIVATE_DEV = 0xcafe0000, CMD_QUIESCE_DEV, CMD_RESET_DEV, CMD_UPDATE_RX_MODE, CMD_UPDATE_MAC_FILTERS,
	CMD_UPDATE_VLAN_FILTERS, CMD_UPDATE_RSSIDT, CMD_UPDATE_IML, CMD_UPDATE_PMCFG, CMD_UPDATE_FEATURE,
	CMD_GET_QUEUE_STATUS = 0xf00d0000, CMD_GET_STATS, CMD_GET_LINK, CMD_GET_PERM_MAC_LO, CMD_GET_PERM_MAC_HI,
	CMD_GET_DID_LO, CMD_GET_DID_HI, CMD_GET_DEV_EXTRA_INFO, CMD_GET_CONF_INTR, CMD_GET_RESERVED1,
	CMD_GET_TXDATA_DESC_SIZE, CMD_GET_COALESCE, CMD_GET_RSS_FIELDS,
};

#define REV1_MAGIC 0xbabefee1u
#define LINK_UP (10000u << 16 | 1)  /* 10 Gbit/s, up */
#define IT_INTX 1u
#define IT_MSI 2u
#define IMM_ACTIVE (1u << 2)
#define TXDATA_DESC_SIZE 128

/* the driver-shared area */
#define DS_SIZE 720
#define DS_MAGIC 0
#define DS_QDESC_PA 40
#define DS_QDESC_LEN 52
#define DS_NUM_TXQ 62
#define DS_NUM_RXQ 63
#define DS_ECR 696

/* queue descriptors, 256 bytes each: tx ones first, then rx */
#define QD_SIZE 256
#define TQ_THRESHOLD 4
#define TQ_RING 16
#define TQ_COMP 32
#define TQ_RING_SIZE 56
#define TQ_COMP_SIZE 64
#define RQ_RING0 16
#define RQ_RING1 24
#define RQ_COMP 32
#define RQ_RING0_SIZE 56
#define RQ_RING1_SIZE 60
#define RQ_COMP_SIZE 64
#define QD_STATUS 80
#define QD_STATS 88 /* u64 counters: [2] unicast packets, [3] bytes, [8] out of buffers / errors, [9] discards */

#define MAX_TXQ 8
#define MAX_RXQ 16
#define MAX_RING 4096
#define MAX_RX_COMP 8192
#define DESC 16

/* descriptor bits (dword 2 and 3 of 16 bytes) */
#define TXD_LEN(w) ((w) & 0x3fff)
#define TXD_GEN(w) ((w) >> 14 & 1)
#define TXD_MSSCOF(w) ((w) >> 18 & 0x3fff)
#define TXD_HLEN(w) ((w) & 0x3ff)
#define TXD_OM(w) ((w) >> 10 & 3)
#define TXD_EOP (1u << 12)
#define TXD_CQ (1u << 13)
#define OM_CSUM 2
#define OM_TSO 3
#define RXD_LEN(w) ((w) & 0x3fff)
#define RXD_BTYPE(w) ((w) >> 14 & 1)
#define RXD_GEN(w) ((w) >> 31)
#define BTYPE_HEAD 0
#define BTYPE_BODY 1
#define CD_TXCOMP 0
#define CD_RXCOMP 3
#define RCD_EOP (1u << 14)
#define RCD_SOP (1u << 15)
#define RCD_CNC (1u << 30)
#define RCD_ERR (1u << 14)

#define MAX_FRAME SLIRP_NET_MAX_FRAME
#define MAX_TX_BUF 16384
#define MAX_HLEN 1023
#define MAX_SEGS 2048
/* body buffers one received frame may take */
#define MAX_RX_BUFS 32

struct ring {
	uint8_t *base;   /* host pointer to the whole ring, NULL if none */
	uint32_t size, next;
	unsigned gen;
};

struct txq {
	uint8_t *qd;
	struct ring cmd, comp;
	uint64_t pkts, bytes, dropped;
};

struct rxq {
	uint8_t *qd;
	struct ring r[2], comp;
	uint64_t pkts, bytes, no_buf, errors;
};

struct vmxnet3 {
	struct pci_dev pci;
	struct vm *vm;
	struct slirp_net *be;
	uint8_t mac[6], perm_mac[6];
	uint32_t dsal, dsah, cmd_result;
	uint8_t *ds;            /* the driver-shared area while active */
	bool active;
	unsigned ntxq, nrxq;
	struct txq txq[MAX_TXQ];
	struct rxq rxq[MAX_RXQ];
	bool pending, masked;   /* vector 0 */
	unsigned msi_cap;       /* config offset of the MSI capability, 0 none */
	uint8_t frame[MAX_FRAME];
	uint8_t seg[MAX_HLEN + MAX_TX_BUF];
};

static uint32_t ld_acq(const uint8_t *p)
{
	return atomic_load_explicit((_Atomic uint32_t *)(void *)p, memory_order_acquire);
}

static void st_rel(uint8_t *p, uint32_t v)
{
	atomic_store_explicit((_Atomic uint32_t *)(void *)p, v, memory_order_release);
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void st_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void st_be32(uint8_t *p, uint32_t v) { st_be16(p, (uint16_t)(v >> 16)); st_be16(p + 2, (uint16_t)v); }

/* Deliver what is pending and not masked: the INTx level, or a message. */
static void update_irq(struct vmxnet3 *x)
{
	bool msi = pci_msi_enabled(&x->pci, x->msi_cap);
	pci_set_intx(&x->pci, !msi && x->pending && !x->masked);
	if (msi && x->pending && !x->masked) {
		x->pending = false;
		pci_msi_signal(x->vm, &x->pci, x->msi_cap);
	}
}

static void raise_intr(struct vmxnet3 *x)
{
	x->pending = true;
	update_irq(x);
}

static void cfg_written(struct pci_dev *d, unsigned off, unsigned size)
{
	struct vmxnet3 *x = d->opaque;
	if (pci_msi_control_written(x->msi_cap, off, size))
		update_irq(x); /* MSI enable changed: INTx follows */
}

static void ring_advance(struct ring *r)
{
	if (++r->next == r->size) {
		r->next = 0;
		r->gen ^= 1;
	}
}

static uint8_t *ring_desc(const struct ring *r)
{
	return r->base + (size_t)r->next * DESC;
}

/* A ring of `n` 16-byte descriptors at `gpa`: whole in RAM, aligned. */
static bool ring_map(struct vmxnet3 *x, struct ring *r, uint64_t gpa, uint32_t n, uint32_t max)
{
	*r = (struct ring){ .gen = 1 };
	if (n == 0 || n > max || (gpa & 15))
		return false;
	r->base = vm_gpa_to_hva(x->vm, gpa, (uint64_t)n * DESC);
	r->size = n;
	return r->base != NULL;
}

static void deactivate(struct vmxnet3 *x)
{
	x->active = false;
	x->ds = NULL;
	x->ntxq = x->nrxq = 0;
	memset(x->txq, 0, sizeof x->txq);
	memset(x->rxq, 0, sizeof x->rxq);
}

static void reset(struct vmxnet3 *x)
{
	deactivate(x);
	memcpy(x->mac, x->perm_mac, 6);
	x->pending = false;
	x->masked = true;
	update_irq(x);
}

static uint32_t activate(struct vmxnet3 *x)
{
	deactivate(x);
	uint64_t dsa = x->dsal | (uint64_t)x->dsah << 32;
	uint8_t *ds = (dsa & 7) ? NULL : vm_gpa_to_hva(x->vm, dsa, DS_SIZE);
	if (!ds || od_ld32(ds + DS_MAGIC) != REV1_MAGIC)
		return 1;
	unsigned ntx = ds[DS_NUM_TXQ], nrx = ds[DS_NUM_RXQ];
	if (ntx == 0 || ntx > MAX_TXQ || nrx == 0 || nrx > MAX_RXQ)
		return 1;
	uint64_t qlen = (uint64_t)(ntx + nrx) * QD_SIZE;
	uint8_t *qd = od_ld32(ds + DS_QDESC_LEN) < qlen ? NULL : vm_gpa_to_hva(x->vm, od_ld64(ds + DS_QDESC_PA), qlen);
	if (!qd)
		return 1;
	for (unsigned i = 0; i < ntx; i++) {
		struct txq *q = &x->txq[i];
		uint8_t *d = q->qd = qd + (size_t)i * QD_SIZE;
		if (!ring_map(x, &q->cmd, od_ld64(d + TQ_RING), od_ld32(d + TQ_RING_SIZE), MAX_RING) ||
		    !ring_map(x, &q->comp, od_ld64(d + TQ_COMP), od_ld32(d + TQ_COMP_SIZE), MAX_RING)) {
			deactivate(x);
			return 1;
		}
		/* every packet rings the doorbell: we serve each kick */
		od_st32(d + TQ_THRESHOLD, 1);
	}
	for (unsigned i = 0; i < nrx; i++) {
		struct rxq *q = &x->rxq[i];
		uint8_t *d = q->qd = qd + (size_t)(ntx + i) * QD_SIZE;
		uint32_t n1 = od_ld32(d + RQ_RING1_SIZE);
		if (!ring_map(x, &q->r[0], od_ld64(d + RQ_RING0), od_ld32(d + RQ_RING0_SIZE), MAX_RING) ||
		    (n1 && !ring_map(x, &q->r[1], od_ld64(d + RQ_RING1), n1, MAX_RING)) ||
		    !ring_map(x, &q->comp, od_ld64(d + RQ_COMP), od_ld32(d + RQ_COMP_SIZE), MAX_RX_COMP)) {
			deactivate(x);
			return 1;
		}
	}
	x->ds = ds;
	x->ntxq = ntx;
	x->nrxq = nrx;
	x->active = true;
	return 0;
}

static void write_stats(struct vmxnet3 *x)
{
	for (unsigned i = 0; i < x->ntxq; i++) {
		uint8_t *s = x->txq[i].qd + QD_STATS;
		od_st64(s + 16, x->txq[i].pkts);
		od_st64(s + 24, x->txq[i].bytes);
		od_st64(s + 72, x->txq[i].dropped);
	}
	for (unsigned i = 0; i < x->nrxq; i++) {
		uint8_t *s = x->rxq[i].qd + QD_STATS;
		od_st64(s + 16, x->rxq[i].pkts);
		od_st64(s + 24, x->rxq[i].bytes);
		od_st64(s + 64, x->rxq[i].no_buf);
		od_st64(s + 72, x->rxq[i].errors);
	}
}

static uint32_t command(struct vmxnet3 *x, uint32_t cmd)
{
	switch (cmd) {
	case CMD_ACTIVATE_DEV:
		return activate(x);
	case CMD_QUIESCE_DEV:
		deactivate(x);
		return 0;
	case CMD_RESET_DEV:
		reset(x);
		return 0;
	case CMD_GET_QUEUE_STATUS:
		/* no queue ever stops with an error: a bad packet is dropped */
		for (unsigned i = 0; i < x->ntxq; i++)
			memset(x->txq[i].qd + QD_STATUS, 0, 8);
		for (unsigned i = 0; i < x->nrxq; i++)
			memset(x->rxq[i].qd + QD_STATUS, 0, 8);
		return 0;
	case CMD_GET_STATS:
		write_stats(x);
		return 0;
	case CMD_GET_LINK:
		return LINK_UP;
	case CMD_GET_PERM_MAC_LO:
		return od_ld32(x->perm_mac);
	case CMD_GET_PERM_MAC_HI:
		return od_ld16(x->perm_mac + 4);
	case CMD_GET_DID_LO:
		return 0x07b0;
	case CMD_GET_DID_HI:
		return 1; /* revision */
	case CMD_GET_CONF_INTR:
		return IMM_ACTIVE | (x->msi_cap ? IT_MSI : IT_INTX);
	case CMD_GET_TXDATA_DESC_SIZE:
		return TXDATA_DESC_SIZE;
	default:
		/* filters, features, RSS, coalescing, power management, extra
		 * info: nothing to do for a NAT with one guest; an unknown
		 * query answers 0 ("none") */
		return 0;
	}
}

/* ---- transmit ---------------------------------------------------------- */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += be16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* OM_CSUM: the stack left the pseudo-header sum at `off`; complete it. */
static bool tx_csum(uint8_t *f, size_t len, unsigned start, unsigned off)
{
	if (len < 2 || start >= len || off < start || off > len - 2)
		return false;
	uint16_t c = fold(sum16(f + start, len - start, 0));
	st_be16(f + off, c ? c : 0xffff);
	return true;
}

/* OM_TSO: cut a TCP packet with `hlen` bytes of headers into segments of
 * `mss` payload bytes, each a frame of its own with its lengths, sequence
 * number, flags and checksums. */
static bool tx_tso(struct vmxnet3 *x, size_t len, unsigned hlen, unsigned mss)
{
	const uint8_t *f = x->frame;
	unsigned l3 = 14;
	if (len < l3 + 4)
		return false;
	uint16_t type = be16(f + 12);
	if (type == 0x8100) {
		l3 = 18;
		type = be16(f + 16);
	}
	unsigned l4;
	bool v4 = type == 0x0800;
	if (v4 && len > l3 + 20 && f[l3 + 9] == 6 && (f[l3] & 0xf) >= 5)
		l4 = l3 + (f[l3] & 0xf) * 4u;
	else if (type == 0x86dd && len > l3 + 40 && f[l3 + 6] == 6)
		l4 = l3 + 40;
	else
		return false;
	if (hlen > len || l4 + 20 > hlen || l4 + (f[l4 + 12] >> 4) * 4u != hlen || mss == 0 ||
	    (len - hlen + mss - 1) / mss > MAX_SEGS)
		return false;
	uint32_t seq = be32(f + l4 + 4);
	uint16_t id = v4 ? be16(f + l3 + 4) : 0;
	uint8_t flags = f[l4 + 13];
	size_t payload = len - hlen;
	uint8_t *s = x->seg;
	for (size_t off = 0, i = 0; off < payload || (payload == 0 && i == 0); off += mss, i++) {
		size_t n = payload - off < mss ? payload - off : mss;
		memcpy(s, f, hlen);
		memcpy(s + hlen, f + hlen + off, n);
		uint32_t tcp_len = (uint32_t)(hlen - l4 + n);
		uint32_t ph;
		if (v4) {
			st_be16(s + l3 + 2, (uint16_t)(hlen - l3 + n));
			st_be16(s + l3 + 4, (uint16_t)(id + i));
			st_be16(s + l3 + 10, 0);
			st_be16(s + l3 + 10, fold(sum16(s + l3, l4 - l3, 0)));
			ph = sum16(s + l3 + 12, 8, 0);
		} else {
			st_be16(s + l3 + 4, (uint16_t)(hlen - l3 - 40 + n));
			ph = sum16(s + l3 + 8, 32, 0);
		}
		ph += 6 + (tcp_len >> 16) + (tcp_len & 0xffff);
		st_be32(s + l4 + 4, seq + (uint32_t)off);
		uint8_t fl = flags;
		if (off + n < payload)
			fl &= (uint8_t)~0x09; /* FIN, PSH: the last segment's */
		if (i > 0)
			fl &= (uint8_t)~0x80; /* CWR: the first one's */
		s[l4 + 13] = fl;
		st_be16(s + l4 + 16, 0);
		st_be16(s + l4 + 16, fold(sum16(s + l4, tcp_len, ph)));
		slirp_net_input(x->be, s, hlen + n);
	}
	return true;
}

static void tx_complete(struct vmxnet3 *x, struct txq *q, uint32_t eop_idx)
{
	uint8_t *c = ring_desc(&q->comp);
	od_st32(c, eop_idx);
	od_st32(c + 4, 0);
	od_st32(c + 8, 0);
	st_rel(c + 12, CD_TXCOMP << 24 | (uint32_t)q->comp.gen << 31);
	ring_advance(&q->comp);
	(void)x;
}

/* One packet from SOP to EOP; false when none is complete yet.  *used
 * counts the descriptors it took. */
static bool tx_packet(struct vmxnet3 *x, struct txq *q, bool *completed, uint32_t *used)
{
	struct ring walk = q->cmd;
	size_t len = 0;
	bool bad = false;
	uint32_t sop2 = 0, sop3 = 0, w3 = 0, eop_idx = 0, n;
	for (n = 0;; n++) {
		if (n == walk.size)
			return false; /* cannot happen: the gen bit flips first */
		const uint8_t *d = ring_desc(&walk);
		uint32_t w2 = ld_acq(d + 8);
		if (TXD_GEN(w2) != walk.gen)
			return false;
		w3 = od_ld32(d + 12);
		uint64_t addr = od_ld64(d);
		if (n == 0) {
			sop2 = w2;
			sop3 = w3;
		}
		uint32_t blen = TXD_LEN(w2) ? TXD_LEN(w2) : MAX_TX_BUF;
		if (!bad) {
			const uint8_t *p = blen <= sizeof x->frame - len ? vm_gpa_to_hva(x->vm, addr, blen) : NULL;
			if (p) {
				memcpy(x->frame + len, p, blen);
				len += blen;
			} else {
				bad = true;
			}
		}
		eop_idx = walk.next;
		ring_advance(&walk);
		if (w3 & TXD_EOP)
			break;
	}
	*used += n + 1;
	q->cmd = walk;
	if (!bad) {
		switch (TXD_OM(sop3)) {
		case OM_CSUM:
			bad = !tx_csum(x->frame, len, TXD_HLEN(sop3), TXD_MSSCOF(sop2));
			break;
		case OM_TSO:
			bad = !tx_tso(x, len, TXD_HLEN(sop3), TXD_MSSCOF(sop2));
			break;
		}
	}
	if (bad) {
		q->dropped++;
	} else {
		if (TXD_OM(sop3) != OM_TSO)
			slirp_net_input(x->be, x->frame, len);
		q->pkts++;
		q->bytes += len;
	}
	if (w3 & TXD_CQ) {
		tx_complete(x, q, eop_idx);
		*completed = true;
	}
	return true;
}

void vmxnet3_tx(struct vmxnet3 *x)
{
	if (!x->active)
		return;
	bool completed = false;
	for (unsigned i = 0; i < x->ntxq; i++) {
		struct txq *q = &x->txq[i];
		/* at most one ring of descriptors per round (a guest that
		 * refills behind us waits for the next round) */
		for (uint32_t used = 0; used < q->cmd.size && tx_packet(x, q, &completed, &used);)
			;
	}
	if (completed)
		raise_intr(x);
}

/* ---- receive ----------------------------------------------------------- */

static void rx_complete(struct rxq *q, uint32_t idx, unsigned rqid, uint32_t flags, uint32_t len, bool err)
{
	uint8_t *c = ring_desc(&q->comp);
	od_st32(c, idx | flags | (uint32_t)rqid << 16 | RCD_CNC);
	od_st32(c + 4, 0);
	od_st32(c + 8, len | (err ? RCD_ERR : 0));
	st_rel(c + 12, (uint32_t)CD_RXCOMP << 24 | (uint32_t)q->comp.gen << 31);
	ring_advance(&q->comp);
}

/* The next descriptor of `r` if the device owns it: its buffer (NULL when
 * it is not in RAM or empty), length and type. */
static bool rx_take(struct vmxnet3 *x, const struct ring *r, uint8_t **buf, uint32_t *len, unsigned *btype)
{
	if (!r->base)
		return false;
	const uint8_t *d = ring_desc(r);
	uint32_t w2 = ld_acq(d + 8);
	if (RXD_GEN(w2) != r->gen)
		return false;
	*len = RXD_LEN(w2);
	*btype = RXD_BTYPE(w2);
	*buf = *len ? vm_gpa_to_hva(x->vm, od_ld64(d), *len) : NULL;
	return true;
}

void vmxnet3_rx(struct vmxnet3 *x, const uint8_t *frame, size_t len)
{
	if (!x->active || len == 0 || len > MAX_FRAME)
		return;
	struct rxq *q = &x->rxq[0];
	uint8_t *head;
	uint32_t hlen;
	unsigned bt;
	if (!rx_take(x, &q->r[0], &head, &hlen, &bt)) {
		q->no_buf++;
		return;
	}
	if (!head || bt != BTYPE_HEAD) {
		/* a buffer we cannot use: give it back marked bad */
		rx_complete(q, q->r[0].next, 0, RCD_SOP | RCD_EOP, 0, true);
		ring_advance(&q->r[0]);
		q->errors++;
		raise_intr(x);
		return;
	}
	/* the rest of the frame: body buffers of ring 1, all found before
	 * any is used, so a frame is delivered whole or not at all */
	uint8_t *body[MAX_RX_BUFS];
	uint32_t blen[MAX_RX_BUFS];
	unsigned nbody = 0;
	size_t left = len > hlen ? len - hlen : 0;
	struct ring walk = q->r[1];
	while (left > 0) {
		if (nbody == MAX_RX_BUFS || nbody == walk.size ||
		    !rx_take(x, &walk, &body[nbody], &blen[nbody], &bt) || !body[nbody] || bt != BTYPE_BODY) {
			q->no_buf++;
			return;
		}
		left -= blen[nbody] < left ? blen[nbody] : left;
		nbody++;
		ring_advance(&walk);
	}
	uint32_t n = len < hlen ? (uint32_t)len : hlen;
	memcpy(head, frame, n);
	rx_complete(q, q->r[0].next, 0, RCD_SOP | (nbody ? 0 : RCD_EOP), n, false);
	ring_advance(&q->r[0]);
	size_t off = n;
	for (unsigned i = 0; i < nbody; i++) {
		uint32_t m = len - off < blen[i] ? (uint32_t)(len - off) : blen[i];
		memcpy(body[i], frame + off, m);
		off += m;
		rx_complete(q, q->r[1].next, x->nrxq, i + 1 == nbody ? RCD_EOP : 0, m, false);
		ring_advance(&q->r[1]);
	}
	q->pkts++;
	q->bytes += len;
	raise_intr(x);
}

/* ---- registers --------------------------------------------------------- */

static void pt_io(void *opaque, uint64_t off, uint8_t *data, unsigned size, bool is_write)
{
	struct vmxnet3 *x = opaque;
	if (!is_write) {
		memset(data, 0, size); /* doorbells and masks read as 0 */
		return;
	}
	if (size != 4 || (off & 7))
		return;
	uint32_t v = od_ld32(data);
	if (off == R_IMR) {
		x->masked = v & 1;
		update_irq(x);
	} else if (off >= R_TXPROD && off < R_TXPROD + 8 * MAX_TXQ) {
		slirp_net_kick(x->be);
	}
	/* RXPROD/RXPROD2: the gen bits already say what is posted */
}

static void vd_io(void *opaque, uint64_t off, uint8_t *data, unsigned size, bool is_write)
{
	struct vmxnet3 *x = opaque;
	if (size != 4 || (off & 3)) {
		if (!is_write)
			memset(data, 0xff, size);
		return;
	}
	if (!is_write) {
		uint32_t v = 0;
		switch (off) {
		case R_VRRS: case R_UVRS: v = 1; break;
		case R_DSAL: v = x->dsal; break;
		case R_DSAH: v = x->dsah; break;
		case R_CMD: v = x->cmd_result; break;
		case R_MACL: v = od_ld32(x->mac); break;
		case R_MACH: v = od_ld16(x->mac + 4); break;
		case R_ICR:
			v = x->pending;
			x->pending = false;
			update_irq(x);
			break;
		case R_ECR: v = x->ds ? od_ld32(x->ds + DS_ECR) : 0; break;
		}
		od_st32(data, v);
		return;
	}
	uint32_t v = od_ld32(data);
	switch (off) {
	case R_DSAL: x->dsal = v; break;
	case R_DSAH: x->dsah = v; break;
	case R_CMD: x->cmd_result = command(x, v); break;
	case R_MACL: od_st32(x->mac, v); break;
	case R_MACH: od_st16(x->mac + 4, (uint16_t)v); break;
	case R_ECR:
		if (x->ds)
			od_st32(x->ds + DS_ECR, od_ld32(x->ds + DS_ECR) & ~v);
		break;
	}
	/* VRRS/UVRS: the driver picks revision 1 and UPT 1, the only ones */
}

/* ---- life cycle -------------------------------------------------------- */

static void be_rx(void *opaque, const uint8_t *frame, size_t len)
{
	vmxnet3_rx(opaque, frame, len);
}

static void be_tx(void *opaque)
{
	vmxnet3_tx(opaque);
}

static const struct slirp_net_ops be_ops = { .rx = be_rx, .tx = be_tx };

struct vmxnet3 *vmxnet3_new(struct vm *vm, const struct vm_net *cfg, od_err *e)
{
	struct vmxnet3 *x = calloc(1, sizeof *x);
	if (!x) {
		od_err_nomem(e);
		return NULL;
	}
	x->vm = vm;
	/* an address of VMware's range for manually set MACs */
	static const uint8_t mac[6] = { 0x00, 0x50, 0x56, 0x12, 0x34, 0x56 };
	memcpy(x->perm_mac, mac, 6);
	if (!(x->be = slirp_net_new(vm, cfg, &be_ops, x, "vmxnet3", e))) {
		free(x);
		return NULL;
	}
	struct pci_dev *d = &x->pci;
	/* class: Ethernet controller; revision 1; VMware's subsystem */
	pci_init_header(d, 0x15ad, 0x07b0, 0x02000001, 0x15ad, 0x07b0);
	d->cfg[0x3d] = 1; /* INTA# */
	pci_set_bar(d, 0, PCI_BAR_MEM32, BAR_SIZE, pt_io, x);
	pci_set_bar(d, 1, PCI_BAR_MEM32, BAR_SIZE, vd_io, x);
	if (!vm->no_msi)
		x->msi_cap = pci_add_msi(d);
	d->opaque = x;
	d->cfg_written = cfg_written;
	reset(x);
	if (pci_add(vm->pci, d, e) < 0) {
		vmxnet3_free(x);
		return NULL;
	}
	return x;
}

int vmxnet3_start(struct vmxnet3 *x, od_err *e)
{
	return slirp_net_start(x->be, e);
}

void vmxnet3_stop(struct vmxnet3 *x)
{
	if (x)
		slirp_net_stop(x->be);
}

bool vmxnet3_service(struct vmxnet3 *x, int stop_fd, int max_wait_ms)
{
	return slirp_net_service(x->be, stop_fd, max_wait_ms);
}

struct pci_dev *vmxnet3_pci(struct vmxnet3 *x)
{
	return &x->pci;
}

void vmxnet3_free(struct vmxnet3 *x)
{
	if (!x)
		return;
	slirp_net_stop(x->be); /* no frame may arrive once the device is gone */
	pci_remove(&x->pci);
	slirp_net_free(x->be);
	free(x);
}
