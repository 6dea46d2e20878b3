/* virtio_net.c - virtio-net (virtio 1.x, section 5.1) on libslirp user
 * networking: the guest sits on 10.0.2.0/24 behind a NAT with DHCP
 * (10.0.2.15 for the guest), DNS (10.0.2.3) and the host as 10.0.2.2;
 * host ports can be forwarded to the guest.
 *
 * Threads: slirp is not thread-safe and opens host sockets, so it runs in
 * one network thread of its own, never in a vCPU thread (whose seccomp
 * filter forbids sockets).  A vCPU that notifies the transmit queue only
 * pokes an eventfd; the network thread then takes the device lock, moves
 * the guest's frames into slirp, and runs slirp's sockets and timers.
 * Frames from slirp go into receive buffers the guest posted, or are
 * dropped when there are none (TCP retransmits; slirp says so too).
 *
 * Guest frames are copied into a 64 KiB buffer of ours before slirp sees
 * them: the guest can rewrite its memory at any time, slirp must not see
 * it change under its feet. */
#include "config.h"
#include "runner/virtio.h"
#include "runner/sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <semaphore.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define VIRTIO_NET_F_MAC (1u << 5)
#define NET_QUEUE_SIZE 256
#define RXQ 0
#define TXQ 1
#define MAX_FRAME 65536
#define MAX_TIMERS 32
#define MAX_POLL 256

struct net_timer {
	bool used;
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ms; /* -1: not armed */
};

struct virtio_net {
	struct virtio_dev dev;
	struct vm *vm;
	Slirp *slirp;
	uint8_t mac[6];
	int kick_fd;
	pthread_t thread;
	bool thread_started;
	/* the thread's seccomp filter is in place (or failed: filter_err) */
	sem_t filtered;
	bool filter_failed;
	od_err filter_err;
	struct net_timer timers[MAX_TIMERS];
	struct pollfd pfd[MAX_POLL];
	nfds_t npfd;
	/* two chains: slirp may answer (and fill a receive chain) from inside
	 * slirp_input, while a transmit chain is still being served */
	struct virtq_chain rx_chain, tx_chain;
	uint8_t frame[MAX_FRAME + 12];
	uint64_t rx_dropped;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static unsigned hdr_len(const struct virtio_net *n)
{
	/* virtio 1.x always has num_buffers; legacy without MRG_RXBUF not */
	return (n->dev.driver_features & VIRTIO_F_VERSION_1) ? 12 : 10;
}

/* slirp -> guest: one frame into one posted receive chain */
static ssize_t net_send_packet(const void *buf, size_t len, void *opaque)
{
	struct virtio_net *n = opaque;
	struct virtio_dev *v = &n->dev;
	struct virtq *q = &v->vq[RXQ];
	if (!(v->status & VIRTIO_STATUS_DRIVER_OK) || (v->status & VIRTIO_STATUS_NEEDS_RESET)) {
		n->rx_dropped++;
		return (ssize_t)len;
	}
	int r = virtq_pop(v->vm, q, &n->rx_chain, NULL);
	if (r < 0) {
		virtio_needs_reset(v);
		return (ssize_t)len;
	}
	if (r == 0 || n->rx_chain.writable < hdr_len(n) + len) {
		if (r == 1)
			virtq_push(q, n->rx_chain.head, 0); /* too small: give it back empty */
		n->rx_dropped++;
		return (ssize_t)len;
	}
	uint8_t hdr[12] = { 0 };
	hdr[10] = 1; /* num_buffers */
	virtq_chain_write(&n->rx_chain, 0, hdr, hdr_len(n));
	virtq_chain_write(&n->rx_chain, hdr_len(n), buf, len);
	virtq_push(q, n->rx_chain.head, (uint32_t)(hdr_len(n) + len));
	if (virtq_should_notify(q))
		virtio_signal_used(v);
	return (ssize_t)len;
}

static void net_guest_error(const char *msg, void *opaque)
{
	(void)msg; (void)opaque; /* a misbehaving guest only hurts itself */
}

static int64_t net_clock_get_ns(void *opaque)
{
	(void)opaque;
	return now_ns();
}

static void *net_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct virtio_net *n = opaque;
	for (unsigned i = 0; i < MAX_TIMERS; i++) {
		if (!n->timers[i].used) {
			n->timers[i] = (struct net_timer){ true, cb, cb_opaque, -1 };
			return &n->timers[i];
		}
	}
	return NULL; /* slirp copes with a missing timer: it just never fires */
}

static void net_timer_free(void *timer, void *opaque)
{
	(void)opaque;
	if (timer)
		((struct net_timer *)timer)->used = false;
}

static void net_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	if (timer)
		((struct net_timer *)timer)->expire_ms = expire_ms;
}

static void net_register_poll_fd(int fd, void *opaque) { (void)fd; (void)opaque; }
static void net_unregister_poll_fd(int fd, void *opaque) { (void)fd; (void)opaque; }

static void kick(struct virtio_net *n)
{
	uint64_t one = 1;
	ssize_t r = write(n->kick_fd, &one, sizeof one);
	(void)r; /* the counter cannot overflow from our writes */
}

static void net_notify(void *opaque)
{
	kick(opaque);
}

static const SlirpCb slirp_cb = {
	.send_packet = net_send_packet,
	.guest_error = net_guest_error,
	.clock_get_ns = net_clock_get_ns,
	.timer_new = net_timer_new,
	.timer_free = net_timer_free,
	.timer_mod = net_timer_mod,
	.register_poll_fd = net_register_poll_fd,
	.unregister_poll_fd = net_unregister_poll_fd,
	.notify = net_notify,
};

/* guest -> slirp: every chain in the transmit queue (under the lock) */
void virtio_net_tx(struct virtio_net *n)
{
	struct virtio_dev *v = &n->dev;
	struct virtq *q = &v->vq[TXQ];
	bool pushed = false;
	for (unsigned i = 0; i < NET_QUEUE_SIZE; i++) {
		int r = virtq_pop(v->vm, q, &n->tx_chain, NULL);
		if (r < 0) {
			virtio_needs_reset(v);
			break;
		}
		if (r == 0)
			break;
		uint64_t len = n->tx_chain.readable;
		unsigned h = hdr_len(n);
		if (len > h && len - h <= MAX_FRAME && virtq_chain_read(&n->tx_chain, h, n->frame, len - h))
			slirp_input(n->slirp, n->frame, (int)(len - h));
		virtq_push(q, n->tx_chain.head, 0);
		pushed = true;
	}
	if (pushed && virtq_should_notify(q))
		virtio_signal_used(v);
}

static void net_cfg_read(struct virtio_dev *v, unsigned off, uint8_t *data, unsigned size)
{
	struct virtio_net *n = v->opaque;
	uint8_t cfg[8] = { 0 };
	memcpy(cfg, n->mac, 6);
	memcpy(data, cfg + off, size);
}

static void net_queue_notify(struct virtio_dev *v, unsigned q)
{
	/* in a vCPU thread: hand the work to the network thread */
	if (q == TXQ)
		kick(v->opaque);
}

static const struct virtio_ops net_ops = {
	.cfg_read = net_cfg_read,
	.notify = net_queue_notify,
};

static int add_poll(int fd, int events, void *opaque)
{
	struct virtio_net *n = opaque;
	if (n->npfd == MAX_POLL)
		return -1;
	short ev = 0;
	if (events & SLIRP_POLL_IN) ev |= POLLIN;
	if (events & SLIRP_POLL_OUT) ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI) ev |= POLLPRI;
	n->pfd[n->npfd] = (struct pollfd){ fd, ev, 0 };
	return (int)n->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct virtio_net *n = opaque;
	if (idx < 0 || (nfds_t)idx >= n->npfd)
		return 0;
	short re = n->pfd[idx].revents;
	int r = 0;
	if (re & POLLIN) r |= SLIRP_POLL_IN;
	if (re & POLLOUT) r |= SLIRP_POLL_OUT;
	if (re & POLLPRI) r |= SLIRP_POLL_PRI;
	if (re & POLLERR) r |= SLIRP_POLL_ERR;
	if (re & POLLHUP) r |= SLIRP_POLL_HUP;
	return r;
}

/* One round of the network thread: transmit, wait for slirp's sockets,
 * the kick or `stop_fd` at most `max_wait_ms`, then run sockets and timers.
 * Returns false when stop_fd is readable. */
bool virtio_net_service(struct virtio_net *n, int stop_fd, int max_wait_ms)
{
	struct vm *vm = n->vm;
	pthread_mutex_lock(&vm->dev_lock);
	virtio_net_tx(n);
	n->npfd = 0;
	uint32_t timeout = max_wait_ms < 0 ? UINT32_MAX : (uint32_t)max_wait_ms;
	slirp_pollfds_fill(n->slirp, &timeout, add_poll, n);
	int64_t now_ms = now_ns() / 1000000;
	for (unsigned i = 0; i < MAX_TIMERS; i++) {
		const struct net_timer *t = &n->timers[i];
		if (t->used && t->expire_ms >= 0) {
			int64_t d = t->expire_ms - now_ms;
			if (d < 0)
				d = 0;
			if ((uint64_t)d < timeout)
				timeout = (uint32_t)d;
		}
	}
	nfds_t ns = n->npfd;
	int ki = add_poll(n->kick_fd, SLIRP_POLL_IN, n);
	int si = stop_fd >= 0 ? add_poll(stop_fd, SLIRP_POLL_IN, n) : -1;
	pthread_mutex_unlock(&vm->dev_lock);

	int wait = timeout == UINT32_MAX ? -1 : (timeout > 1000 ? 1000 : (int)timeout);
	int pr = poll(n->pfd, n->npfd, wait);

	pthread_mutex_lock(&vm->dev_lock);
	if (ki >= 0 && (n->pfd[ki].revents & POLLIN)) {
		uint64_t cnt;
		ssize_t r = read(n->kick_fd, &cnt, sizeof cnt);
		(void)r;
	}
	nfds_t all = n->npfd;
	n->npfd = ns; /* slirp sees only its own descriptors */
	slirp_pollfds_poll(n->slirp, pr < 0, get_revents, n);
	n->npfd = all;
	now_ms = now_ns() / 1000000;
	for (unsigned i = 0; i < MAX_TIMERS; i++) {
		struct net_timer *t = &n->timers[i];
		if (t->used && t->expire_ms >= 0 && t->expire_ms <= now_ms) {
			t->expire_ms = -1;
			t->cb(t->cb_opaque);
		}
	}
	virtio_net_tx(n);
	bool stop = si >= 0 && (n->pfd[si].revents & POLLIN);
	pthread_mutex_unlock(&vm->dev_lock);
	return !stop;
}

static void *net_thread(void *arg)
{
	struct virtio_net *n = arg;
	/* confined before it sees a guest frame: virtio_net_start waits for
	 * this, and the vCPUs wait for virtio_net_start */
	if (!n->vm->no_sandbox && sandbox_net(&n->filter_err) < 0)
		n->filter_failed = true;
	sem_post(&n->filtered);
	if (n->filter_failed)
		return NULL;
	while (virtio_net_service(n, n->vm->end_fd, -1))
		;
	return NULL;
}

struct virtio_net *virtio_net_new(struct vm *vm, const struct vm_net *cfg, od_err *e)
{
	struct virtio_net *n = calloc(1, sizeof *n);
	if (!n) {
		od_err_nomem(e);
		return NULL;
	}
	n->vm = vm;
	n->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->kick_fd < 0) {
		od_err_errno(e, errno, "virtio-net: eventfd");
		free(n);
		return NULL;
	}
	/* a locally administered address, QEMU's usual one */
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	memcpy(n->mac, mac, 6);
	SlirpConfig sc = { .version = 1, .in_enabled = true };
	inet_pton(AF_INET, "10.0.2.0", &sc.vnetwork);
	inet_pton(AF_INET, "255.255.255.0", &sc.vnetmask);
	inet_pton(AF_INET, "10.0.2.2", &sc.vhost);
	inet_pton(AF_INET, "10.0.2.15", &sc.vdhcp_start);
	inet_pton(AF_INET, "10.0.2.3", &sc.vnameserver);
	sc.vhostname = "ovfdeploy";
	n->slirp = slirp_new(&sc, &slirp_cb, n);
	if (!n->slirp) {
		close(n->kick_fd);
		free(n);
		od_err_set(e, OD_E_IO, "virtio-net: slirp could not start");
		return NULL;
	}
	for (unsigned i = 0; cfg && i < cfg->nfwd; i++) {
		const struct vm_hostfwd *f = &cfg->fwd[i];
		struct in_addr host, guest;
		host.s_addr = htonl(f->host_addr);
		inet_pton(AF_INET, "10.0.2.15", &guest);
		if (slirp_add_hostfwd(n->slirp, f->udp, host, f->host_port, guest, f->guest_port) < 0) {
			od_err_set(e, OD_E_IO, "virtio-net: cannot forward host port %u (in use?)", f->host_port);
			virtio_net_free(n);
			return NULL;
		}
	}
	if (virtio_pci_init(&n->dev, vm, 1, 2, NET_QUEUE_SIZE, VIRTIO_NET_F_MAC, 8, &net_ops, n, e) < 0) {
		virtio_net_free(n);
		return NULL;
	}
	return n;
}

int virtio_net_start(struct virtio_net *n, od_err *e)
{
	if (sem_init(&n->filtered, 0, 0) < 0)
		return od_err_errno(e, errno, "virtio-net: semaphore");
	int err = pthread_create(&n->thread, NULL, net_thread, n);
	if (err) {
		sem_destroy(&n->filtered);
		return od_err_errno(e, err, "virtio-net thread");
	}
	n->thread_started = true;
	while (sem_wait(&n->filtered) < 0 && errno == EINTR)
		;
	sem_destroy(&n->filtered);
	if (n->filter_failed) {
		*e = n->filter_err;
		return -1;
	}
	return 0;
}

void virtio_net_stop(struct virtio_net *n)
{
	if (n && n->thread_started) {
		/* the thread sees the VM's end eventfd, which stays readable */
		pthread_join(n->thread, NULL);
		n->thread_started = false;
	}
}

struct virtio_dev *virtio_net_dev(struct virtio_net *n)
{
	return &n->dev;
}

void virtio_net_free(struct virtio_net *n)
{
	if (!n)
		return;
	virtio_net_stop(n);
	virtio_pci_uninit(&n->dev);
	if (n->slirp)
		slirp_cleanup(n->slirp);
	close(n->kick_fd);
	free(n);
}
