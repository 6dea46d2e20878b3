/* sandbox_net.c - the network thread's seccomp list is enough for what
 * slirp does on a guest's behalf, and nothing the guest sends gets the
 * runner killed.  In a child process confined by sandbox_net() (as the
 * network thread is), a guest on fake memory sends through virtio-net:
 *   - a TCP SYN to 10.0.2.2:PORT, which slirp turns into a connect() to
 *     the host's 127.0.0.1:PORT: the parent accepts it;
 *   - a UDP datagram to 10.0.2.2:PORT2: the parent receives it;
 *   - a DNS query to 10.0.2.3 (slirp reads /etc/resolv.conf and forwards)
 *     and an ICMP echo to 10.0.2.2 (a ping socket, or a raw one);
 * the child must end with status 0, not SIGSYS. */
#include "config.h"
#include "runner/virtio.h"
#include "fakeio.h"
#include "runner/sandbox.h"

#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static struct vm *vm;
static uint8_t *ram;
static struct virtio_net *n;
static uint16_t tx_avail;

static void set_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	fake_desc(ram + table, i, addr, len, flags, next);
}

static void offer(uint64_t avail, uint16_t *idx, uint16_t size, uint16_t head)
{
	fake_offer(ram + avail, idx, size, head);
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t s)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Send one IPv4 packet from 10.0.2.15 with `payload` (a transport header
 * and data whose checksum field is at `csum_off`, or -1 for none). */
static void send_ip(uint8_t proto, const uint8_t dst[4], uint8_t *payload, size_t plen, int csum_off)
{
	static unsigned slot;
	uint64_t at = 0x9000 + 0x800 * (slot % 8);
	uint8_t *f = ram + at;
	memset(f, 0, 12 + 14 + 20);
	uint8_t *e = f + 12; /* after the 12-byte virtio header (VERSION_1) */
	memcpy(e, "\x52\x55\x0a\x00\x02\x02", 6);
	memcpy(e + 6, "\x52\x54\x00\x12\x34\x56", 6);
	e[12] = 0x08;
	uint8_t *h = e + 14;
	size_t ip = 20 + plen;
	h[0] = 0x45;
	h[2] = (uint8_t)(ip >> 8); h[3] = (uint8_t)ip;
	h[8] = 64; h[9] = proto;
	memcpy(h + 12, "\x0a\x00\x02\x0f", 4);
	memcpy(h + 16, dst, 4);
	uint16_t c = fold(sum16(h, 20, 0));
	h[10] = c >> 8; h[11] = (uint8_t)c;
	if (csum_off >= 0) {
		payload[csum_off] = payload[csum_off + 1] = 0;
		uint32_t s = 0;
		if (proto != 1) { /* TCP and UDP: the pseudo-header */
			s = sum16(h + 12, 8, 0);
			s += proto + (uint32_t)plen;
		}
		c = fold(sum16(payload, plen, s));
		payload[csum_off] = c >> 8; payload[csum_off + 1] = (uint8_t)c;
	}
	memcpy(h + 20, payload, plen);
	set_desc(0x4000, slot % 8, at, (uint32_t)(12 + 14 + ip), 0, 0);
	offer(0x5000, &tx_avail, 16, (uint16_t)(slot % 8));
	slot++;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }

static void child(uint16_t tcp_port, uint16_t udp_port)
{
	od_err e;
	vm = vm_new_fake(1 << 20, &e);
	if (!vm)
		_exit(90);
	ram = vm->ram[0].hva;
	vm->pci = pci_new(vm, &e);
	n = virtio_net_new(vm, NULL, &e);
	if (!n)
		_exit(91);
	struct virtio_dev *v = virtio_net_dev(n);
	if (fake_net_ready(vm, v, &e) < 0)
		_exit(92);
	uint16_t rx_avail = 0;
	for (unsigned i = 0; i < 16; i++) {
		set_desc(0x1000, i, 0x10000 + 0x1000 * i, 4096, VIRTQ_DESC_F_WRITE, 0);
		offer(0x2000, &rx_avail, 16, (uint16_t)i);
	}
	/* from here on, as confined as the network thread */
	if (sandbox_net(&e) < 0)
		_exit(93);

	static const uint8_t host[4] = { 10, 0, 2, 2 }, dns[4] = { 10, 0, 2, 3 };
	uint8_t tcp[20] = { 0 };
	put16(tcp, 40000);
	put16(tcp + 2, tcp_port);
	memcpy(tcp + 4, "\x00\x00\x10\x00", 4); /* sequence number */
	tcp[12] = 5 << 4;
	tcp[13] = 0x02; /* SYN */
	put16(tcp + 14, 65535);
	send_ip(6, host, tcp, sizeof tcp, 16);

	uint8_t udp[8 + 5] = { 0 };
	put16(udp, 40001);
	put16(udp + 2, udp_port);
	put16(udp + 4, sizeof udp);
	memcpy(udp + 8, "hello", 5);
	send_ip(17, host, udp, sizeof udp, 6);

	/* a DNS query for "example." type A */
	uint8_t q[8 + 12 + 9 + 4] = { 0 };
	put16(q, 40002);
	put16(q + 2, 53);
	put16(q + 4, sizeof q);
	uint8_t *d = q + 8;
	put16(d, 0x4242);
	d[2] = 0x01; /* recursion desired */
	put16(d + 4, 1);
	memcpy(d + 12, "\x07" "example" "\x00", 9);
	put16(d + 21, 1);
	put16(d + 23, 1);
	send_ip(17, dns, q, sizeof q, 6);

	uint8_t icmp[8 + 4] = { 8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g' };
	send_ip(1, host, icmp, sizeof icmp, 2);

	/* run slirp a while: connections, timers, answers */
	for (int i = 0; i < 40; i++)
		virtio_net_service(n, -1, 25);
	_exit(0);
}

START_TEST(test_net_thread_filter)
{
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert(ls >= 0 && us >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(ls, 4), 0);
	ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&a, &al), 0);
	uint16_t tcp_port = ntohs(a.sin_port);
	a.sin_port = 0;
	ck_assert_int_eq(bind(us, (struct sockaddr *)&a, sizeof a), 0);
	al = sizeof a;
	ck_assert_int_eq(getsockname(us, (struct sockaddr *)&a, &al), 0);
	uint16_t udp_port = ntohs(a.sin_port);

	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(ls);
		close(us);
		child(tcp_port, udp_port);
	}
	struct pollfd p[2] = { { ls, POLLIN, 0 }, { us, POLLIN, 0 } };
	bool got_tcp = false, got_udp = false;
	for (int i = 0; i < 50 && !(got_tcp && got_udp); i++) {
		if (poll(p, 2, 100) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			int c = accept(ls, NULL, NULL);
			if (c >= 0) {
				got_tcp = true;
				close(c);
			}
			p[0].fd = -1;
		}
		if (p[1].revents & POLLIN) {
			char buf[16];
			ssize_t r = recv(us, buf, sizeof buf, 0);
			got_udp = r == 5 && memcmp(buf, "hello", 5) == 0;
			p[1].fd = -1;
		}
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	close(ls);
	close(us);
	ck_assert_msg(!(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS), "the network filter killed slirp's work");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x", st);
	ck_assert_msg(got_tcp, "slirp did not connect to the host for the guest's SYN");
	ck_assert_msg(got_udp, "slirp did not forward the guest's datagram");
}
END_TEST

/* the same list refuses what slirp never needs */
START_TEST(test_net_thread_refuses)
{
	static const int what[] = { 0, 1, 2 };
	/* sanitizer builds allow every open (see sandbox.c): not case 2 */
	unsigned cases = sandbox_sanitizer_build() ? 2 : 3;
	for (unsigned i = 0; i < cases; i++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			od_err e;
			if (sandbox_net(&e) < 0)
				_exit(93);
			if (what[i] == 0)
				socket(AF_UNIX, SOCK_STREAM, 0);     /* not IPv4/IPv6 */
			else if (what[i] == 1)
				socket(AF_NETLINK, SOCK_RAW, 0);
			else
				(void)!write(open("/tmp/od-sbx-net", O_WRONLY | O_CREAT, 0600), "x", 1);
			_exit(0);
		}
		int st;
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "case %u: status 0x%x", what[i], st);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runner sandbox: network thread");
	TCase *t = tcase_create("core");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_net_thread_filter);
	tcase_add_test(t, test_net_thread_refuses);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	/* the children install filters: never in the runner's own process */
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
