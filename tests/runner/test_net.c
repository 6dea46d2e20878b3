/* test_net.c - virtio-net on libslirp without KVM: a DHCP DISCOVER sent
 * through the transmit queue of fake guest memory comes back as slirp's
 * OFFER of 10.0.2.15 (router 10.0.2.2, DNS 10.0.2.3) in a posted receive
 * buffer; a DNS query to 10.0.2.3 is answered through the host's resolver;
 * hostile transmit chains are refused. */
#include "config.h"
#include "runner/virtio.h"
#include "fakeio.h"
#include "netframe.h"

#include <check.h>
#include "../check_run.h"
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static struct virtio_net *net;
static uint16_t rx_avail, tx_avail, rx_seen;

/* A fake guest with a virtio-net device whose driver is ready: receive
 * queue (16 entries) at 0x1000/0x2000/0x3000 with four 2 KiB buffers at
 * 0x10000.., transmit queue at 0x4000/0x5000/0x6000. */
static void net_up(void)
{
	od_err e;
	vm = vm_new_fake(1 << 20, &e);
	ck_assert_ptr_nonnull(vm);
	ram = vm->ram[0].hva;
	vm->pci = pci_new(vm, &e);
	net = virtio_net_new(vm, NULL, &e);
	ck_assert_msg(net != NULL, "%s", e.msg);
	struct virtio_dev *v = virtio_net_dev(net);
	ck_assert_uint_eq(pci_cfg_read(vm->pci, v->pci.slot << 3, 0, 4), 0x10001af4);
	ck_assert_msg(fake_net_ready(vm, v, &e) == 0, "%s", e.msg);
	rx_avail = tx_avail = rx_seen = 0;
	for (unsigned i = 0; i < 4; i++) {
		set_desc(0x1000, i, 0x10000 + 0x1000 * i, 2048, VIRTQ_DESC_F_WRITE, 0);
		offer(0x2000, &rx_avail, 16, (uint16_t)i);
	}
}

static void net_down(void)
{
	virtio_net_free(net);
	pci_free(vm->pci);
	vm_free(vm);
}

/* Send the frame at 0x9000 + 12 (after the virtio-net header) in one
 * descriptor. */
static void net_send(size_t len)
{
	memset(ram + 0x9000, 0, 12);
	set_desc(0x4000, 7, 0x9000, (uint32_t)(12 + len), 0, 0);
	uint16_t before = used_idx(0x6000);
	offer(0x5000, &tx_avail, 16, 7);
	virtio_net_service(net, -1, 0);
	ck_assert_uint_eq(used_idx(0x6000), (uint16_t)(before + 1));
}

/* The next received frame (after its virtio-net header) within `ms`, its
 * buffer given back to the device; NULL if none came. */
static const uint8_t *net_recv(size_t *len, int ms)
{
	for (int waited = 0; used_idx(0x3000) == rx_seen && waited < ms; waited += 50)
		virtio_net_service(net, -1, 50);
	if (used_idx(0x3000) == rx_seen)
		return NULL;
	const uint8_t *u = ram + 0x3000 + 4 + 8 * (rx_seen % 16);
	uint32_t id, rlen;
	memcpy(&id, u, 4);
	memcpy(&rlen, u + 4, 4);
	ck_assert_uint_lt(id, 4);
	ck_assert_uint_ge(rlen, 12);
	rx_seen++;
	static uint8_t frame[2048];
	memcpy(frame, ram + 0x10000 + 0x1000 * id + 12, rlen - 12);
	*len = rlen - 12;
	offer(0x2000, &rx_avail, 16, (uint16_t)id);
	return frame;
}

START_TEST(test_dhcp)
{
	net_up();
	struct virtio_dev *v = virtio_net_dev(net);
	/* the frame split oddly: header and the first bytes in one buffer */
	size_t len = nf_dhcp_discover(ram + 0x9000 + 12, guest_mac);
	/* transmit heads differ from receive heads: the two must not mix */
	set_desc(0x4000, 5, 0x9000, 12 + 5, VIRTQ_DESC_F_NEXT, 6);
	set_desc(0x4000, 6, 0x9000 + 17, (uint32_t)len - 5, 0, 0);
	offer(0x5000, &tx_avail, 16, 5);
	size_t rlen;
	const uint8_t *f = net_recv(&rlen, 2000);
	ck_assert_uint_eq(used_idx(0x6000), 1); /* the frame was sent */
	uint32_t tx_id;
	memcpy(&tx_id, ram + 0x6000 + 4, 4);
	ck_assert_uint_eq(tx_id, 5);
	ck_assert_ptr_nonnull(f); /* and an answer received */
	ck_assert_uint_gt(rlen, 14 + 28 + 240);
	ck_assert_uint_eq(f[12], 0x08);
	ck_assert_uint_eq(f[13], 0x00);
	ck_assert_uint_eq(f[14 + 9], 17);               /* UDP */
	ck_assert_uint_eq(f[14 + 20 + 1], 67);          /* from the DHCP server */
	const uint8_t *b = f + 14 + 28;
	ck_assert_uint_eq(b[0], 2);                     /* BOOTREPLY */
	const uint8_t yiaddr[4] = { 10, 0, 2, 15 };
	ck_assert(memcmp(b + 16, yiaddr, 4) == 0);
	ck_assert(memcmp(b + 4, "\x12\x34\x56\x78", 4) == 0);
	/* the router and the DNS server the guest is told about */
	uint8_t olen = 0;
	const uint8_t *opt = nf_dhcp_option(b + 240, rlen - 14 - 28 - 240, 3, &olen);
	ck_assert_ptr_nonnull(opt);
	ck_assert(olen == 4 && memcmp(opt, "\x0a\x00\x02\x02", 4) == 0);
	opt = nf_dhcp_option(b + 240, rlen - 14 - 28 - 240, 6, &olen);
	ck_assert_ptr_nonnull(opt);
	ck_assert(olen == 4 && memcmp(opt, "\x0a\x00\x02\x03", 4) == 0);

	/* hostile transmit chains: a loop, a buffer outside RAM */
	set_desc(0x4000, 2, 0x9000, 100, VIRTQ_DESC_F_NEXT, 2);
	offer(0x5000, &tx_avail, 16, 2);
	virtio_net_service(net, -1, 0);
	ck_assert_uint_eq(v->status & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	net_down();
}
END_TEST

/* A DNS query for "localhost" (A, IN, recursion desired) with id 0x4f44. */
static size_t dns_query(uint8_t *q)
{
	static const uint8_t query[] = {
		0x4f, 0x44, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0, 0, 1, 0, 1,
	};
	memcpy(q, query, sizeof query);
	return sizeof query;
}

/* Does the host's first IPv4 resolver answer that query within 2 s?  Only
 * then can slirp's forward be expected to. */
static bool host_resolver_answers(char ns[64])
{
	FILE *rc = fopen("/etc/resolv.conf", "r");
	if (!rc)
		return false;
	char line[256];
	struct in_addr a;
	bool found = false;
	while (!found && fgets(line, sizeof line, rc))
		found = sscanf(line, "nameserver %63s", ns) == 1 && inet_pton(AF_INET, ns, &a) == 1;
	fclose(rc);
	if (!found)
		return false;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(53), .sin_addr = a };
	uint8_t q[64], r[512];
	size_t n = dns_query(q);
	bool ok = false;
	if (sendto(fd, q, n, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)n) {
		struct pollfd p = { fd, POLLIN, 0 };
		ok = poll(&p, 1, 2000) == 1 && recv(fd, r, sizeof r, 0) >= 12 && r[0] == 0x4f && r[1] == 0x44;
	}
	close(fd);
	return ok;
}

START_TEST(test_dns)
{
	char ns[64] = "";
	if (!host_resolver_answers(ns)) {
		printf("# the host's resolver (%s) does not answer: DNS through slirp not checked\n", ns[0] ? ns : "none");
		return;
	}
	net_up();
	/* ARP: who has 10.0.2.3? tell 10.0.2.15 (slirp learns our MAC, and
	 * answers with the MAC to send to) */
	uint8_t *f = ram + 0x9000 + 12;
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	const uint8_t arp[] = { 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1 };
	memcpy(f + 12, arp, sizeof arp);
	memcpy(f + 22, guest_mac, 6);
	inet_pton(AF_INET, "10.0.2.15", f + 28);
	memset(f + 32, 0, 6);
	inet_pton(AF_INET, "10.0.2.3", f + 38);
	net_send(42);
	size_t rlen;
	const uint8_t *r = net_recv(&rlen, 2000);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_ge(rlen, 42);
	ck_assert(r[12] == 0x08 && r[13] == 0x06 && r[21] == 2); /* ARP reply */
	uint8_t gw[6];
	memcpy(gw, r + 22, 6);

	uint8_t q[64];
	size_t qlen = dns_query(q);
	net_send(nf_udp_frame(f, gw, guest_mac, "10.0.2.15", "10.0.2.3", 40000, 53, q, qlen));
	/* the answer, whatever it says, with our id and the QR bit */
	bool answered = false;
	for (int i = 0; i < 8 && !answered && (r = net_recv(&rlen, 1000)); i++)
		answered = rlen >= 14 + 28 + 12 && r[12] == 0x08 && r[14 + 9] == 17 &&
			   memcmp(r + 14 + 12, "\x0a\x00\x02\x03", 4) == 0 && r[14 + 20] == 0 && r[14 + 21] == 53 &&
			   r[14 + 22] == 40000 >> 8 && r[14 + 23] == (40000 & 0xff) && r[14 + 28] == 0x4f &&
			   r[14 + 29] == 0x44 && (r[14 + 30] & 0x80);
	ck_assert_msg(answered, "no DNS answer from 10.0.2.3 (the host's resolver %s answers directly)", ns);
	net_down();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runner net");
	TCase *t = od_check_tcase(s, "core");
	tcase_set_timeout(t, 20);
	tcase_add_test(t, test_dhcp);
	tcase_add_test(t, test_dns);
	return od_check_run(s);
}
