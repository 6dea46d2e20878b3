/* slirp_net.c - the libslirp back end shared by the runner's NICs (see
 * slirp_net.h for the network it gives the guest).
 *
 * Threads: slirp is not thread-safe and opens host sockets, so it runs in
 * one network thread of its own, never in a vCPU thread (whose seccomp
 * filter forbids sockets).  A vCPU that sees the guest queue frames only
 * pokes an eventfd; the network thread then takes the device lock, has the
 * NIC move the guest's frames into slirp, and runs slirp's sockets and
 * timers.  Frames from slirp go to the NIC's rx callback, still under the
 * lock, which puts them in a buffer the guest posted or drops them. */
#include "config.h"
#include "runner/hw/slirp_net.h"
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

#define MAX_TIMERS 32
#define MAX_POLL 256

struct net_timer {
	bool used;
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ms; /* -1: not armed */
};

struct slirp_net {
	struct vm *vm;
	Slirp *slirp;
	const struct slirp_net_ops *ops;
	void *opaque;
	const char *who;
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
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* slirp -> guest */
static ssize_t net_send_packet(const void *buf, size_t len, void *opaque)
{
	struct slirp_net *s = opaque;
	s->ops->rx(s->opaque, buf, len);
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
	struct slirp_net *s = opaque;
	for (unsigned i = 0; i < MAX_TIMERS; i++) {
		if (!s->timers[i].used) {
			s->timers[i] = (struct net_timer){ true, cb, cb_opaque, -1 };
			return &s->timers[i];
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

void slirp_net_kick(struct slirp_net *s)
{
	uint64_t one = 1;
	ssize_t r = write(s->kick_fd, &one, sizeof one);
	(void)r; /* the counter cannot overflow from our writes */
}

static void net_notify(void *opaque)
{
	slirp_net_kick(opaque);
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

void slirp_net_input(struct slirp_net *s, const uint8_t *frame, size_t len)
{
	if (len > 0 && len <= SLIRP_NET_MAX_FRAME)
		slirp_input(s->slirp, frame, (int)len);
}

static int add_poll(int fd, int events, void *opaque)
{
	struct slirp_net *s = opaque;
	if (s->npfd == MAX_POLL)
		return -1;
	short ev = 0;
	if (events & SLIRP_POLL_IN) ev |= POLLIN;
	if (events & SLIRP_POLL_OUT) ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI) ev |= POLLPRI;
	s->pfd[s->npfd] = (struct pollfd){ fd, ev, 0 };
	return (int)s->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct slirp_net *s = opaque;
	if (idx < 0 || (nfds_t)idx >= s->npfd)
		return 0;
	short re = s->pfd[idx].revents;
	int r = 0;
	if (re & POLLIN) r |= SLIRP_POLL_IN;
	if (re & POLLOUT) r |= SLIRP_POLL_OUT;
	if (re & POLLPRI) r |= SLIRP_POLL_PRI;
	if (re & POLLERR) r |= SLIRP_POLL_ERR;
	if (re & POLLHUP) r |= SLIRP_POLL_HUP;
	return r;
}

bool slirp_net_service(struct slirp_net *s, int stop_fd, int max_wait_ms)
{
	struct vm *vm = s->vm;
	pthread_mutex_lock(&vm->dev_lock);
	s->ops->tx(s->opaque);
	s->npfd = 0;
	uint32_t timeout = max_wait_ms < 0 ? UINT32_MAX : (uint32_t)max_wait_ms;
	slirp_pollfds_fill(s->slirp, &timeout, add_poll, s);
	int64_t now_ms = now_ns() / 1000000;
	for (unsigned i = 0; i < MAX_TIMERS; i++) {
		const struct net_timer *t = &s->timers[i];
		if (t->used && t->expire_ms >= 0) {
			int64_t d = t->expire_ms - now_ms;
			if (d < 0)
				d = 0;
			if ((uint64_t)d < timeout)
				timeout = (uint32_t)d;
		}
	}
	nfds_t ns = s->npfd;
	int ki = add_poll(s->kick_fd, SLIRP_POLL_IN, s);
	int si = stop_fd >= 0 ? add_poll(stop_fd, SLIRP_POLL_IN, s) : -1;
	pthread_mutex_unlock(&vm->dev_lock);

	int wait = timeout == UINT32_MAX ? -1 : (timeout > 1000 ? 1000 : (int)timeout);
	int pr = poll(s->pfd, s->npfd, wait);

	pthread_mutex_lock(&vm->dev_lock);
	if (ki >= 0 && (s->pfd[ki].revents & POLLIN)) {
		uint64_t cnt;
		ssize_t r = read(s->kick_fd, &cnt, sizeof cnt);
		(void)r;
	}
	nfds_t all = s->npfd;
	s->npfd = ns; /* slirp sees only its own descriptors */
	slirp_pollfds_poll(s->slirp, pr < 0, get_revents, s);
	s->npfd = all;
	now_ms = now_ns() / 1000000;
	for (unsigned i = 0; i < MAX_TIMERS; i++) {
		struct net_timer *t = &s->timers[i];
		if (t->used && t->expire_ms >= 0 && t->expire_ms <= now_ms) {
			t->expire_ms = -1;
			t->cb(t->cb_opaque);
		}
	}
	s->ops->tx(s->opaque);
	bool stop = si >= 0 && (s->pfd[si].revents & POLLIN);
	pthread_mutex_unlock(&vm->dev_lock);
	return !stop;
}

static void *net_thread(void *arg)
{
	struct slirp_net *s = arg;
	/* confined before it sees a guest frame: slirp_net_start waits for
	 * this, and the vCPUs wait for slirp_net_start */
	if (!s->vm->no_sandbox && sandbox_net(&s->filter_err) < 0)
		s->filter_failed = true;
	sem_post(&s->filtered);
	if (s->filter_failed)
		return NULL;
	while (slirp_net_service(s, s->vm->end_fd, -1))
		;
	return NULL;
}

struct slirp_net *slirp_net_new(struct vm *vm, const struct vm_net *cfg, const struct slirp_net_ops *ops,
				void *opaque, const char *who, od_err *e)
{
	struct slirp_net *s = calloc(1, sizeof *s);
	if (!s) {
		od_err_nomem(e);
		return NULL;
	}
	s->vm = vm;
	s->ops = ops;
	s->opaque = opaque;
	s->who = who;
	s->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->kick_fd < 0) {
		od_err_errno(e, errno, "%s: eventfd", who);
		free(s);
		return NULL;
	}
	SlirpConfig sc = { .version = 1, .in_enabled = true };
	inet_pton(AF_INET, "10.0.2.0", &sc.vnetwork);
	inet_pton(AF_INET, "255.255.255.0", &sc.vnetmask);
	inet_pton(AF_INET, "10.0.2.2", &sc.vhost);
	inet_pton(AF_INET, "10.0.2.15", &sc.vdhcp_start);
	inet_pton(AF_INET, "10.0.2.3", &sc.vnameserver);
	sc.vhostname = "ovfdeploy";
	s->slirp = slirp_new(&sc, &slirp_cb, s);
	if (!s->slirp) {
		close(s->kick_fd);
		free(s);
		od_err_set(e, OD_E_IO, "%s: slirp could not start", who);
		return NULL;
	}
	for (unsigned i = 0; cfg && i < cfg->nfwd; i++) {
		const struct vm_hostfwd *f = &cfg->fwd[i];
		struct in_addr host, guest;
		host.s_addr = htonl(f->host_addr);
		inet_pton(AF_INET, "10.0.2.15", &guest);
		if (slirp_add_hostfwd(s->slirp, f->udp, host, f->host_port, guest, f->guest_port) < 0) {
			od_err_set(e, OD_E_IO, "%s: cannot forward host port %u (in use?)", who, f->host_port);
			slirp_net_free(s);
			return NULL;
		}
	}
	return s;
}

int slirp_net_start(struct slirp_net *s, od_err *e)
{
	if (sem_init(&s->filtered, 0, 0) < 0)
		return od_err_errno(e, errno, "%s: semaphore", s->who);
	int err = pthread_create(&s->thread, NULL, net_thread, s);
	if (err) {
		sem_destroy(&s->filtered);
		return od_err_errno(e, err, "%s thread", s->who);
	}
	s->thread_started = true;
	while (sem_wait(&s->filtered) < 0 && errno == EINTR)
		;
	sem_destroy(&s->filtered);
	if (s->filter_failed) {
		*e = s->filter_err;
		return -1;
	}
	return 0;
}

void slirp_net_stop(struct slirp_net *s)
{
	if (s && s->thread_started) {
		/* the thread sees the VM's end eventfd, which stays readable */
		pthread_join(s->thread, NULL);
		s->thread_started = false;
	}
}

void slirp_net_free(struct slirp_net *s)
{
	if (!s)
		return;
	slirp_net_stop(s);
	if (s->slirp)
		slirp_cleanup(s->slirp);
	close(s->kick_fd);
	free(s);
}
