/* test_vmxnet3.c - the VMXNET3 NIC on libslirp without KVM, driven as
 * Linux's vmxnet3 driver drives it, in fake guest memory: revision and
 * command registers, activation from the driver-shared area, a DHCP
 * DISCOVER sent through the transmit ring (checksum left to the device)
 * answered by slirp's OFFER in a posted receive buffer, completions with
 * the right generation bits across a ring wrap, a frame spread over a HEAD
 * and BODY buffers, INTx and MSI, and hostile set-ups and descriptors
 * refused. */
#include "config.h"
#include "runner/hw/vmxnet3.h"
#include "fakeio.h"
#include "netframe.h"

#include <check.h>
#include "../check_run.h"
#include <stdlib.h>
#include <string.h>

#define RAM (1u << 20)
#define BAR0 0xfe000000u
#define BAR1 0xfe001000u

/* guest memory */
#define DS 0x1000
#define QD 0x2000
#define TXR 0x3000
#define TXC 0x3400
#define RX0 0x4000
#define RX1 0x4400
#define RXC 0x4800
#define TXBUF 0x8000
#define RXBUF0 0x10000 /* 32 HEAD buffers of 0x800 */
#define RXBUF1 0x20000 /* 32 BODY buffers of 0x1000 */
#define NDESC 32

#define CMD_ACTIVATE 0xcafe0000u
#define CMD_RESET 0xcafe0002u
#define CMD_GET_LINK 0xf00d0002u
#define CMD_GET_PERM_MAC_LO 0xf00d0003u
#define CMD_GET_PERM_MAC_HI 0xf00d0004u
#define CMD_GET_CONF_INTR 0xf00d0008u
#define CMD_GET_STATS 0xf00d0001u

static struct vm *vm;
static uint8_t *ram;
static struct vmxnet3 *nic;
static unsigned tx_next, tx_gen, txc_next, txc_gen, rxc_next, rxc_gen;

static uint32_t rd(uint32_t bar, uint32_t reg) { return (uint32_t)fake_mmio_r(vm, bar + reg, 4, NULL); }
static void wr(uint32_t bar, uint32_t reg, uint32_t v) { fake_mmio_w(vm, bar + reg, 4, v, NULL); }

static uint32_t cmd(uint32_t c)
{
	wr(BAR1, 0x20, c);
	return rd(BAR1, 0x20);
}

static void st32(uint64_t a, uint32_t v) { memcpy(ram + a, &v, 4); }
static void st64(uint64_t a, uint64_t v) { memcpy(ram + a, &v, 8); }
static uint32_t ld32(uint64_t a) { uint32_t v; memcpy(&v, ram + a, 4); return v; }

/* Post receive descriptor i of ring r (0: HEAD buffers, 1: BODY). */
static void post_rx(unsigned r, unsigned i, uint32_t len, unsigned gen)
{
	uint64_t d = (r ? RX1 : RX0) + 16 * i;
	st64(d, (r ? RXBUF1 + 0x1000 * i : RXBUF0 + 0x800 * i));
	st32(d + 8, len | (uint32_t)r << 14 | (uint32_t)gen << 31);
	st32(d + 12, 0);
}

/* The driver-shared area and queue descriptors as Linux writes them for
 * one tx and one rx queue, with these ring sizes. */
static void write_shared(uint32_t txn, uint32_t txcn, uint32_t rx0n, uint32_t rx1n, uint32_t rxcn)
{
	memset(ram + DS, 0, 0x2000);
	st32(DS, 0xbabefee1);
	st64(DS + 40, QD);
	st32(DS + 52, 512);
	ram[DS + 62] = 1;
	ram[DS + 63] = 1;
	st64(QD + 16, TXR);
	st64(QD + 32, TXC);
	st32(QD + 56, txn);
	st32(QD + 64, txcn);
	st64(QD + 256 + 16, RX0);
	st64(QD + 256 + 24, RX1);
	st64(QD + 256 + 32, RXC);
	st32(QD + 256 + 56, rx0n);
	st32(QD + 256 + 60, rx1n);
	st32(QD + 256 + 64, rxcn);
}

/* msi: offer MSI (KVM can inject it), else the NIC has INTx only */
static void nic_up_irq(bool msi)
{
	od_err e;
	vm = vm_new_fake(RAM, &e);
	ck_assert_ptr_nonnull(vm);
	ram = vm->ram[0].hva;
	vm->pci = pci_new(vm, &e);
	vm->no_msi = !msi;
	nic = vmxnet3_new(vm, NULL, &e);
	ck_assert_msg(nic != NULL, "%s", e.msg);
	unsigned bdf = vmxnet3_pci(nic)->slot << 3;
	ck_assert_uint_eq(pci_cfg_read(vm->pci, bdf, 0, 4), 0x07b015ad);
	ck_assert_uint_eq(pci_cfg_read(vm->pci, bdf, 0x0b, 1), 0x02); /* network controller */
	pci_cfg_write(vm->pci, bdf, 0x10, 4, BAR0);
	pci_cfg_write(vm->pci, bdf, 0x14, 4, BAR1);
	pci_cfg_write(vm->pci, bdf, 0x04, 2, 0x0006);
	/* the driver's handshake: revision 1, UPT 1 */
	ck_assert_uint_eq(rd(BAR1, 0x0) & 1, 1);
	wr(BAR1, 0x0, 1);
	ck_assert_uint_eq(rd(BAR1, 0x8) & 1, 1);
	wr(BAR1, 0x8, 1);
	write_shared(NDESC, NDESC, NDESC, NDESC, NDESC);
	for (unsigned i = 0; i < NDESC; i++) {
		post_rx(0, i, 1536, 1);
		post_rx(1, i, 4096, 1);
	}
	wr(BAR1, 0x10, DS);
	wr(BAR1, 0x18, 0);
	ck_assert_uint_eq(cmd(CMD_ACTIVATE), 0);
	wr(BAR0, 0x0, 0); /* unmask vector 0 */
	tx_next = txc_next = rxc_next = 0;
	tx_gen = txc_gen = rxc_gen = 1;
}

static void nic_up(void)
{
	nic_up_irq(false);
}

static void nic_down(void)
{
	vmxnet3_free(nic);
	pci_free(vm->pci);
	vm_free(vm);
}

/* Queue one transmit descriptor (the gen bit written as the driver does,
 * SOP last is not needed here: nothing runs until the kick). */
static void put_tx(uint64_t addr, uint32_t len, bool eop, uint32_t om, uint32_t hlen, uint32_t msscof)
{
	uint64_t d = TXR + 16 * tx_next;
	st64(d, addr);
	st32(d + 8, (len & 0x3fff) | tx_gen << 14 | msscof << 18);
	st32(d + 12, hlen | om << 10 | (eop ? 3u << 12 : 0)); /* EOP with CQ */
	if (++tx_next == NDESC) {
		tx_next = 0;
		tx_gen ^= 1;
	}
}

static void kick(void)
{
	wr(BAR0, 0x600, tx_next);
	vmxnet3_service(nic, -1, 0);
}

/* The next tx completion if the device wrote one: its txdIdx, else -1. */
static int tx_comp(void)
{
	uint32_t w3 = ld32(TXC + 16 * txc_next + 12);
	if (w3 >> 31 != txc_gen)
		return -1;
	ck_assert_uint_eq(w3 >> 24 & 0x7f, 0); /* TXCOMP */
	int idx = (int)(ld32(TXC + 16 * txc_next) & 0xfff);
	if (++txc_next == NDESC) {
		txc_next = 0;
		txc_gen ^= 1;
	}
	return idx;
}

struct rcd {
	unsigned idx, rqid, len;
	bool sop, eop, err;
};

/* The next rx completion if the device wrote one. */
static bool rx_comp(struct rcd *c)
{
	uint64_t a = RXC + 16 * rxc_next;
	uint32_t w3 = ld32(a + 12);
	if (w3 >> 31 != rxc_gen)
		return false;
	ck_assert_uint_eq(w3 >> 24 & 0x7f, 3); /* RXCOMP */
	uint32_t w0 = ld32(a), w2 = ld32(a + 8);
	*c = (struct rcd){ w0 & 0xfff, w0 >> 16 & 0x3ff, w2 & 0x3fff, w0 >> 15 & 1, w0 >> 14 & 1, w2 >> 14 & 1 };
	if (++rxc_next == NDESC) {
		rxc_next = 0;
		rxc_gen ^= 1;
	}
	return true;
}

static const uint8_t guest_mac[6] = { 0x00, 0x50, 0x56, 0x12, 0x34, 0x56 };

START_TEST(test_registers)
{
	nic_up();
	ck_assert_uint_eq(cmd(CMD_GET_LINK), 10000u << 16 | 1);
	ck_assert_uint_eq(cmd(CMD_GET_CONF_INTR) & 3, 1); /* INTx */
	uint32_t lo = cmd(CMD_GET_PERM_MAC_LO), hi = cmd(CMD_GET_PERM_MAC_HI);
	ck_assert(memcmp(&lo, guest_mac, 4) == 0 && (hi & 0xffff) == (uint32_t)(guest_mac[4] | guest_mac[5] << 8));
	ck_assert_uint_eq(rd(BAR1, 0x28), lo);
	/* a new MAC, and a reset gives the permanent one back */
	wr(BAR1, 0x28, 0x44332211);
	ck_assert_uint_eq(rd(BAR1, 0x28), 0x44332211);
	ck_assert_uint_eq(cmd(0xf00d00ffu), 0); /* unknown query: 0 */
	ck_assert_uint_eq(cmd(0xcafe00ffu), 0); /* unknown command: nothing */
	ck_assert_uint_eq(cmd(CMD_GET_STATS), 0);
	ck_assert_uint_eq(cmd(CMD_RESET), 0);
	ck_assert_uint_eq(rd(BAR1, 0x28), lo);
	/* odd sizes are not registers */
	ck_assert_uint_eq(fake_mmio_r(vm, BAR1 + 0x20, 2, NULL), 0xffff);
	nic_down();
}
END_TEST

START_TEST(test_dhcp)
{
	nic_up();
	/* a DISCOVER whose UDP checksum the device completes (OM_CSUM, as
	 * Linux sends it): slirp drops a datagram with a wrong one */
	uint8_t *f = ram + TXBUF;
	size_t len = nf_dhcp_discover(f, guest_mac);
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint32_t ulen = (uint32_t)(len - 34);
	uint32_t ph = 17 + ulen; /* pseudo header: 0.0.0.0 + 255.255.255.255 */
	ph += 0xffff + 0xffff;
	while (ph >> 16)
		ph = (ph & 0xffff) + (ph >> 16);
	udp[6] = (uint8_t)(ph >> 8);
	udp[7] = (uint8_t)ph;
	/* split over two descriptors: SOP, then EOP */
	put_tx(TXBUF, 100, false, 2, 34, 34 + 6);
	put_tx(TXBUF + 100, (uint32_t)len - 100, true, 0, 0, 0);
	kick();
	ck_assert_int_eq(tx_comp(), 1); /* the EOP descriptor */
	ck_assert_int_eq(tx_comp(), -1);
	struct rcd c;
	for (int i = 0; i < 40 && !rx_comp(&c); i++)
		vmxnet3_service(nic, -1, 50);
	ck_assert_uint_eq(rxc_next, 1);
	ck_assert(c.sop && c.eop && !c.err);
	ck_assert_uint_eq(c.idx, 0);
	ck_assert_uint_eq(c.rqid, 0);
	const uint8_t *r = ram + RXBUF0;
	ck_assert_uint_gt(c.len, 14 + 28 + 240);
	ck_assert_uint_eq(r[14 + 9], 17);
	ck_assert_uint_eq(r[14 + 23], 68); /* to the DHCP client */
	const uint8_t *b = r + 14 + 28;
	ck_assert_uint_eq(b[0], 2); /* BOOTREPLY */
	ck_assert(memcmp(b + 16, "\x0a\x00\x02\x0f", 4) == 0);
	uint8_t olen = 0;
	const uint8_t *opt = nf_dhcp_option(b + 240, c.len - 14 - 28 - 240, 53, &olen);
	ck_assert(opt && olen == 1 && opt[0] == 2); /* OFFER */
	/* the interrupt: ICR says so once */
	ck_assert_uint_eq(rd(BAR1, 0x38), 1);
	ck_assert_uint_eq(rd(BAR1, 0x38), 0);
	nic_down();
}
END_TEST

/* Frames straight into the receive ring: gen bits across a wrap of both
 * the descriptor ring and the completion ring, and HEAD + BODY. */
START_TEST(test_rx_rings)
{
	nic_up();
	uint8_t frame[3000];
	for (unsigned i = 0; i < sizeof frame; i++)
		frame[i] = (uint8_t)(i * 7);
	struct rcd c;
	for (unsigned i = 0; i < NDESC; i++) {
		vmxnet3_rx(nic, frame, 60 + i);
		ck_assert(rx_comp(&c));
		ck_assert(c.sop && c.eop && c.idx == i && c.len == 60 + i);
	}
	/* ring 0 used up: the next frame is dropped */
	vmxnet3_rx(nic, frame, 60);
	ck_assert(!rx_comp(&c));
	/* the driver reposts buffer 0 with the flipped gen */
	post_rx(0, 0, 1536, 0);
	vmxnet3_rx(nic, frame, 61);
	ck_assert(rx_comp(&c));
	ck_assert_uint_eq(rxc_gen, 0); /* that completion had gen 0 */
	ck_assert(c.idx == 0 && c.len == 61);
	/* a 3000-byte frame: HEAD buffer 1 of ring 0, then BODY 0 of ring 1 */
	post_rx(0, 1, 1536, 0);
	vmxnet3_rx(nic, frame, sizeof frame);
	ck_assert(rx_comp(&c));
	ck_assert(c.sop && !c.eop && c.idx == 1 && c.rqid == 0 && c.len == 1536);
	ck_assert(rx_comp(&c));
	ck_assert(!c.sop && c.eop && c.idx == 0 && c.rqid == 1 && c.len == 3000 - 1536);
	ck_assert(memcmp(ram + RXBUF0 + 0x800, frame, 1536) == 0);
	ck_assert(memcmp(ram + RXBUF1, frame + 1536, 3000 - 1536) == 0);
	nic_down();
}
END_TEST

START_TEST(test_hostile_setup)
{
	nic_up();
	static const uint32_t bad[][5] = {
		{ 0, 32, 32, 32, 32 }, { 5000, 32, 32, 32, 32 }, { 32, 32, 0, 32, 32 },
		{ 32, 32, 32, 4097, 32 }, { 32, 32, 32, 32, 9000 }, { 32, 0, 32, 32, 32 },
		{ 4096, 4096, 4096, 4096, 8192 }, /* fine sizes, but past the end of RAM */
	};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_shared(bad[i][0], bad[i][1], bad[i][2], bad[i][3], bad[i][4]);
		if (i == 6) {
			st64(QD + 16, RAM - 0x1000);
		}
		ck_assert_uint_eq(cmd(CMD_ACTIVATE), 1);
		kick(); /* inactive: nothing happens */
		vmxnet3_rx(nic, ram, 100);
	}
	/* rings outside RAM, misaligned, a bad magic, too many queues, the
	 * shared area itself past the end */
	write_shared(32, 32, 32, 32, 32);
	st64(QD + 256 + 32, (uint64_t)1 << 40);
	ck_assert_uint_eq(cmd(CMD_ACTIVATE), 1);
	write_shared(32, 32, 32, 32, 32);
	st64(QD + 16, TXR + 8);
	ck_assert_uint_eq(cmd(CMD_ACTIVATE), 1);
	write_shared(32, 32, 32, 32, 32);
	st32(DS, 0xdeadbeef);
	ck_assert_uint_eq(cmd(CMD_ACTIVATE), 1);
	write_shared(32, 32, 32, 32, 32);
	ram[DS + 62] = 9;
	ck_assert_uint_eq(cmd(CMD_ACTIVATE), 1);
	write_shared(32, 32, 32, 32, 32);
	st32(DS + 52, 256); /* the table is shorter than its queues */
	ck_assert_uint_eq(cmd(CMD_ACTIVATE), 1);
	wr(BAR1, 0x10, RAM - 16);
	ck_assert_uint_eq(cmd(CMD_ACTIVATE), 1);
	wr(BAR1, 0x10, 0xffffffff);
	wr(BAR1, 0x18, 0xffffffff);
	ck_assert_uint_eq(cmd(CMD_ACTIVATE), 1);
	nic_down();
}
END_TEST

START_TEST(test_hostile_tx)
{
	nic_up();
	/* a chain of the whole ring without EOP: nothing is taken */
	for (unsigned i = 0; i < NDESC; i++)
		put_tx(TXBUF, 64, false, 0, 0, 0);
	kick();
	ck_assert_int_eq(tx_comp(), -1);
	/* the driver ends the chain at its last descriptor: one packet of
	 * 32 * 64 bytes, completed at its EOP */
	st32(TXR + 16 * (NDESC - 1) + 12, 3u << 12);
	kick();
	ck_assert_int_eq(tx_comp(), NDESC - 1);
	/* a buffer past the end of RAM, a zero length (16 KiB) at its end,
	 * oversized packets (5 x 16 KiB > 64 KiB): dropped, completed */
	put_tx(RAM - 100, 200, true, 0, 0, 0);
	put_tx(RAM - 0x1000, 0, true, 0, 0, 0);
	for (unsigned i = 0; i < 5; i++)
		put_tx(0, 0, i == 4, 0, 0, 0);
	/* offloads with impossible offsets: a checksum past the end, TSO of a
	 * non-TCP frame and with MSS 0 */
	put_tx(TXBUF, 60, true, 2, 10, 59);
	put_tx(TXBUF, 60, true, 3, 54, 1000);
	put_tx(TXBUF, 60, true, 3, 54, 0);
	kick();
	ck_assert_int_eq(tx_comp(), 0);
	ck_assert_int_eq(tx_comp(), 1);
	ck_assert_int_eq(tx_comp(), 6);
	ck_assert_int_eq(tx_comp(), 7);
	ck_assert_int_eq(tx_comp(), 8);
	ck_assert_int_eq(tx_comp(), 9);
	ck_assert_int_eq(tx_comp(), -1);
	ck_assert_uint_eq(cmd(CMD_GET_STATS), 0);
	uint64_t dropped;
	memcpy(&dropped, ram + QD + 88 + 72, 8);
	ck_assert_uint_eq(dropped, 6);
	/* receive: a HEAD buffer outside RAM comes back with the error bit;
	 * a BODY buffer where a HEAD belongs too */
	st64(RX0, RAM);
	vmxnet3_rx(nic, ram, 100);
	struct rcd c;
	ck_assert(rx_comp(&c) && c.err && c.idx == 0);
	post_rx(0, 1, 1536, 1);
	st32(RX0 + 16 + 8, 1536 | 1u << 14 | 1u << 31);
	vmxnet3_rx(nic, ram, 100);
	ck_assert(rx_comp(&c) && c.err && c.idx == 1);
	/* a zero-length HEAD buffer; a frame too big for the BODY buffers
	 * (posted ones of 0 bytes) is dropped whole */
	st32(RX0 + 32 + 8, 0 | 1u << 31);
	vmxnet3_rx(nic, ram, 100);
	ck_assert(rx_comp(&c) && c.err && c.idx == 2);
	for (unsigned i = 0; i < NDESC; i++)
		post_rx(1, i, 0, 1);
	vmxnet3_rx(nic, ram, 3000);
	ck_assert(!rx_comp(&c));
	vmxnet3_rx(nic, ram, 70000);
	ck_assert(!rx_comp(&c));
	nic_down();
}
END_TEST

/* MSI: offered, taken by GET_CONF_INTR, a message per event unless
 * vector 0 is masked, the masked one sent when it opens; INTx stays low. */
START_TEST(test_msi)
{
	nic_up_irq(true);
	ck_assert_uint_eq(cmd(CMD_GET_CONF_INTR), 2 | 1 << 2); /* MSI, active masking */
	unsigned bdf = vmxnet3_pci(nic)->slot << 3, cap = pci_cfg_read(vm->pci, bdf, 0x34, 1);
	ck_assert_uint_eq(pci_cfg_read(vm->pci, bdf, cap, 1), 0x05);
	pci_cfg_write(vm->pci, bdf, cap + 4, 4, 0xfee00000);
	pci_cfg_write(vm->pci, bdf, cap + 8, 4, 0);
	pci_cfg_write(vm->pci, bdf, cap + 12, 2, 0x4041);
	pci_cfg_write(vm->pci, bdf, cap + 2, 2, 1);
	uint8_t frame[64] = { 0 };
	unsigned long before = vm->msi_count;
	vmxnet3_rx(nic, frame, sizeof frame);
	ck_assert_uint_eq(vm->msi_count, before + 1);
	ck_assert_uint_eq(vm->msi_addr, 0xfee00000);
	ck_assert_uint_eq(vm->msi_data, 0x4041);
	ck_assert_int_eq(vmxnet3_pci(nic)->intx_level, 0);
	/* masked: held back, then sent once when the driver unmasks */
	wr(BAR0, 0x0, 1);
	vmxnet3_rx(nic, frame, sizeof frame);
	vmxnet3_rx(nic, frame, sizeof frame);
	ck_assert_uint_eq(vm->msi_count, before + 1);
	wr(BAR0, 0x0, 0);
	ck_assert_uint_eq(vm->msi_count, before + 2);
	wr(BAR0, 0x0, 0);
	ck_assert_uint_eq(vm->msi_count, before + 2);
	/* MSI off again: a pending event raises INTx instead */
	pci_cfg_write(vm->pci, bdf, cap + 2, 2, 0);
	vmxnet3_rx(nic, frame, sizeof frame);
	ck_assert_int_eq(vmxnet3_pci(nic)->intx_level, 1);
	ck_assert_uint_eq(rd(BAR1, 0x38), 1);
	ck_assert_int_eq(vmxnet3_pci(nic)->intx_level, 0);
	nic_down();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runner vmxnet3");
	TCase *t = od_check_tcase(s, "core");
	tcase_set_timeout(t, 20);
	tcase_add_test(t, test_registers);
	tcase_add_test(t, test_dhcp);
	tcase_add_test(t, test_rx_rings);
	tcase_add_test(t, test_hostile_setup);
	tcase_add_test(t, test_hostile_tx);
	tcase_add_test(t, test_msi);
	return od_check_run(s);
}
