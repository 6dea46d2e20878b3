/* test_net.c - virtio-net on libslirp without KVM: a DHCP DISCOVER sent
 * through the transmit queue of fake guest memory comes back as slirp's
 * OFFER of 10.0.2.15 in a posted receive buffer; frames with no buffer
 * posted are dropped without harm; hostile transmit chains are refused. */
#include "config.h"
#include "runner/virtio.h"
#include "fakeio.h"

#include <check.h>
#include "../check_run.h"
#include <stdlib.h>
#include <string.h>

static struct vm *vm;
static uint8_t *ram;

static void set_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	fake_desc(ram + table, i, addr, len, flags, next);
}

static void offer(uint64_t avail, uint16_t *idx, uint16_t size, uint16_t head)
{
	fake_offer(ram + avail, idx, size, head);
}

static uint16_t used_idx(uint64_t used)
{
	uint16_t v;
	memcpy(&v, ram + used + 2, 2);
	return v;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* an Ethernet frame with a DHCP DISCOVER, BOOTP padded to its full size */
static size_t dhcp_discover(uint8_t *f)
{
	const size_t bootp = 236 + 312, udp = 8 + bootp, ip = 20 + udp;
	memset(f, 0, 14 + ip);
	memset(f, 0xff, 6);
	const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	memcpy(f + 6, mac, 6);
	f[12] = 0x08;
	uint8_t *h = f + 14;
	h[0] = 0x45;
	h[2] = (uint8_t)(ip >> 8); h[3] = (uint8_t)ip;
	h[8] = 64; h[9] = 17;
	memset(h + 16, 0xff, 4);
	uint16_t c = csum(h, 20);
	h[10] = c >> 8; h[11] = (uint8_t)c;
	uint8_t *u = h + 20;
	u[1] = 68; u[3] = 67;
	u[4] = (uint8_t)(udp >> 8); u[5] = (uint8_t)udp;
	uint8_t *b = u + 8;
	b[0] = 1; b[1] = 1; b[2] = 6;
	b[4] = 0x12; b[5] = 0x34; b[6] = 0x56; b[7] = 0x78;
	b[10] = 0x80;
	memcpy(b + 28, mac, 6);
	uint8_t *o = b + 236;
	o[0] = 99; o[1] = 130; o[2] = 83; o[3] = 99;
	o[4] = 53; o[5] = 1; o[6] = 1; /* DHCPDISCOVER */
	o[7] = 255;
	return 14 + ip;
}

START_TEST(test_dhcp)
{
	od_err e;
	vm = vm_new_fake(1 << 20, &e);
	ck_assert_ptr_nonnull(vm);
	ram = vm->ram[0].hva;
	vm->pci = pci_new(vm, &e);
	struct virtio_net *n = virtio_net_new(vm, NULL, &e);
	ck_assert_msg(n != NULL, "%s", e.msg);
	struct virtio_dev *v = virtio_net_dev(n);
	ck_assert_uint_eq(pci_cfg_read(vm->pci, v->pci.slot << 3, 0, 4), 0x10001af4);
	v->driver_features = VIRTIO_F_VERSION_1;
	v->status = VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;
	struct virtq *rx = &v->vq[0], *tx = &v->vq[1];
	rx->size = tx->size = 16;
	rx->desc_gpa = 0x1000; rx->avail_gpa = 0x2000; rx->used_gpa = 0x3000;
	tx->desc_gpa = 0x4000; tx->avail_gpa = 0x5000; tx->used_gpa = 0x6000;
	ck_assert_int_eq(virtq_enable(vm, rx, &e), 0);
	ck_assert_int_eq(virtq_enable(vm, tx, &e), 0);

	uint16_t rx_avail = 0, tx_avail = 0;
	for (unsigned i = 0; i < 4; i++) {
		set_desc(0x1000, i, 0x10000 + 0x1000 * i, 2048, VIRTQ_DESC_F_WRITE, 0);
		offer(0x2000, &rx_avail, 16, (uint16_t)i);
	}
	/* the frame split oddly: header and the first bytes in one buffer */
	size_t len = dhcp_discover(ram + 0x9000 + 12);
	/* transmit heads differ from receive heads: the two must not mix */
	set_desc(0x4000, 5, 0x9000, 12 + 5, VIRTQ_DESC_F_NEXT, 6);
	set_desc(0x4000, 6, 0x9000 + 17, (uint32_t)len - 5, 0, 0);
	offer(0x5000, &tx_avail, 16, 5);
	for (int i = 0; i < 40 && used_idx(0x3000) == 0; i++)
		virtio_net_service(n, -1, 50);
	ck_assert_uint_eq(used_idx(0x6000), 1); /* the frame was sent */
	uint32_t tx_id;
	memcpy(&tx_id, ram + 0x6000 + 4, 4);
	ck_assert_uint_eq(tx_id, 5);
	ck_assert_uint_ge(used_idx(0x3000), 1); /* and an answer received */
	uint32_t rlen;
	memcpy(&rlen, ram + 0x3000 + 8, 4);
	const uint8_t *f = ram + 0x10000 + 12;
	ck_assert_uint_gt(rlen, 12 + 14 + 28 + 240);
	ck_assert_uint_eq(f[12], 0x08);
	ck_assert_uint_eq(f[13], 0x00);
	ck_assert_uint_eq(f[14 + 9], 17);               /* UDP */
	ck_assert_uint_eq(f[14 + 20 + 1], 67);          /* from the DHCP server */
	const uint8_t *b = f + 14 + 28;
	ck_assert_uint_eq(b[0], 2);                     /* BOOTREPLY */
	const uint8_t yiaddr[4] = { 10, 0, 2, 15 };
	ck_assert(memcmp(b + 16, yiaddr, 4) == 0);
	ck_assert(memcmp(b + 4, "\x12\x34\x56\x78", 4) == 0);

	/* hostile transmit chains: a loop, a buffer outside RAM */
	set_desc(0x4000, 2, 0x9000, 100, VIRTQ_DESC_F_NEXT, 2);
	offer(0x5000, &tx_avail, 16, 2);
	virtio_net_service(n, -1, 0);
	ck_assert_uint_eq(v->status & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	virtio_net_free(n);
	pci_free(vm->pci);
	vm_free(vm);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runner net");
	TCase *t = od_check_tcase(s, "core");
	tcase_set_timeout(t, 20);
	tcase_add_test(t, test_dhcp);
	return od_check_run(s);
}
