/* vnc.c - the runner's screen on VNC: libvncserver serving the VGA's
 * picture to the clients of a UNIX socket in the instance directory, and,
 * when asked, of a TCP socket; their keys go to the i8042's keyboard and
 * their pointers to its PS/2 mouse.
 *
 * One thread does it all: it accepts clients on the sockets (opened before
 * the thread confines itself: the TCP one by the caller, before any
 * privilege drop), hands each to libvncserver, renders the VGA ten times a
 * second while anyone is connected and marks the rows that changed, and
 * feeds keys to the keyboard controller as fast as the guest reads them
 * (the i8042's queue is short; a key waits here instead of being dropped).
 *
 * Two libvncserver screens share one framebuffer: libvncserver decides
 * about authentication per screen, not per client, and the two ways in
 * differ.  The UNIX socket's screen asks no password (the socket is mode
 * 0600 in a directory that is the instance owner's alone); the TCP one,
 * which every local user can reach, asks for VNC authentication with the
 * instance's password.  After a TCP client leaves without having passed
 * it, the next one waits a quarter of a second, so that guessing is slow
 * even before the 8 random characters make it hopeless. */
#include "config.h"
#include "runner/vmm.h"
#include "runner/sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <rfb/rfb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define KEYQ 4096          /* scan code bytes waiting for the guest */
#define MAX_CLIENTS 8

#define TCP_BACKOFF_MS 250 /* before the next TCP client, after a failed one */
#define HANDSHAKE_S 10      /* to get through authentication on TCP */

struct vnc {
	struct vm *vm;
	int listen_fd;             /* the UNIX socket, -1 for none */
	int tcp_fd;                /* the caller's TCP socket, -1 for none */
	char *path;
	pthread_t thread;
	bool started;
	pthread_mutex_t ready_lock;
	pthread_cond_t ready_cond;
	int ready;                 /* 1 confined, -1 could not be */
	rfbScreenInfoPtr screen;   /* the UNIX socket's clients */
	rfbScreenInfoPtr tcp;      /* the TCP socket's, with a password */
	char password[9];
	char *passwords[2];        /* rfbCheckPasswordByList's list */
	struct timespec tcp_wait;  /* no TCP accept before this (CLOCK_MONOTONIC) */
	bool have_pointer;         /* px, py hold the last pointer position */
	int px, py;
	int last_mask;             /* the buttons of the last pointer event */
	char *fb;                  /* 32-bit RGBX, as libvncserver's 8/3/4 format */
	unsigned w, h;
	uint8_t keyq[KEYQ];
	size_t kq_len;
	unsigned shift_down;
};

/* X11 keysym to set-1 bytes (with 0xe0 for the extended keys); 0 bytes
 * for keys we do not map. */
size_t vnc_keysym_to_set1(uint32_t ks, bool down, uint8_t out[2])
{
	uint8_t code = 0;
	bool ext = false;
	switch (ks) {
	case 0xff08: code = 0x0e; break; /* BackSpace */
	case 0xff09: code = 0x0f; break; /* Tab */
	case 0xff0d: code = 0x1c; break; /* Return */
	case 0xff1b: code = 0x01; break; /* Escape */
	case 0xffe1: code = 0x2a; break; /* Shift_L */
	case 0xffe2: code = 0x36; break; /* Shift_R */
	case 0xffe3: code = 0x1d; break; /* Control_L */
	case 0xffe9: code = 0x38; break; /* Alt_L */
	case 0xff51: code = 0x4b; ext = true; break; /* Left */
	case 0xff52: code = 0x48; ext = true; break; /* Up */
	case 0xff53: code = 0x4d; ext = true; break; /* Right */
	case 0xff54: code = 0x50; ext = true; break; /* Down */
	case 0xffff: code = 0x53; ext = true; break; /* Delete */
	default:
		if (ks >= 0xffbe && ks <= 0xffc7) /* F1-F10 */
			code = (uint8_t)(0x3b + (ks - 0xffbe));
		else if (ks >= 0x20 && ks < 0x7f) {
			/* the key of the character (the client sends Shift
			 * itself); util/keymap.c's codes are set-1 make codes */
			unsigned k;
			bool shift;
			if (od_us_key((unsigned char)ks, &k, &shift) == 0)
				code = (uint8_t)k;
		}
	}
	if (!code)
		return 0;
	size_t n = 0;
	if (ext)
		out[n++] = 0xe0;
	out[n++] = down ? code : (uint8_t)(code | 0x80);
	return n;
}

static void on_key(rfbBool down, rfbKeySym ks, rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	uint8_t c[2];
	size_t n = vnc_keysym_to_set1((uint32_t)ks, down, c);
	if (n && v->kq_len + n <= KEYQ) {
		memcpy(v->keyq + v->kq_len, c, n);
		v->kq_len += n;
	}
}

/* The pointer: VNC sends where it is and which buttons are down; a PS/2
 * mouse reports how far it moved, up being positive.  One position for
 * all clients (it is one mouse); a client's first event only says where it
 * starts.  The wheel is buttons 4 (up) and 5 (down) in VNC, a press and a
 * release per step: a press is a step (the mouse reports it once the
 * guest's driver has made it a wheel mouse). */
static void on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	/* RFB: bit 0 left, 1 middle, 2 right, 3 wheel up, 4 wheel down */
	unsigned b = (mask & 1 ? PS2_MOUSE_LEFT : 0) | (mask & 2 ? PS2_MOUSE_MIDDLE : 0) |
		     (mask & 4 ? PS2_MOUSE_RIGHT : 0);
	int pressed = mask & ~v->last_mask;
	int dz = (pressed & 16 ? 1 : 0) - (pressed & 8 ? 1 : 0);
	int dx = v->have_pointer ? x - v->px : 0;
	int dy = v->have_pointer ? v->py - y : 0;
	v->px = x, v->py = y;
	v->last_mask = mask;
	v->have_pointer = true;
	pthread_mutex_lock(&v->vm->dev_lock);
	if (v->vm->misc)
		misc_mouse_input(v->vm->misc, dx, dy, dz, b);
	pthread_mutex_unlock(&v->vm->dev_lock);
}

/* One key at a time, whenever the i8042 has room. */
static void feed_keys(struct vnc *v)
{
	while (v->kq_len) {
		size_t n = v->keyq[0] == 0xe0 && v->kq_len >= 2 ? 2 : 1;
		pthread_mutex_lock(&v->vm->dev_lock);
		bool ok = v->vm->misc && misc_kbd_input(v->vm->misc, v->keyq, n);
		pthread_mutex_unlock(&v->vm->dev_lock);
		if (!ok)
			return;
		memmove(v->keyq, v->keyq + n, v->kq_len - n);
		v->kq_len -= n;
	}
}

static void refresh(struct vnc *v, bool force)
{
	if (!vga_changed(v->vm->vga) && !force)
		return;
	uint8_t *rgb;
	unsigned w, h;
	od_err e;
	if (vga_render(v->vm->vga, &rgb, &w, &h, &e) < 0)
		return; /* a mode we cannot show: keep the last picture */
	if (w != v->w || h != v->h) {
		char *fb = calloc((size_t)w * h, 4);
		if (!fb) {
			free(rgb);
			return;
		}
		char *old = v->fb;
		v->fb = fb;
		v->w = w;
		v->h = h;
		for (rfbScreenInfoPtr sc = v->screen; sc; sc = sc == v->screen ? v->tcp : NULL)
			rfbNewFramebuffer(sc, fb, (int)w, (int)h, 8, 3, 4);
		free(old);
		memset(fb, 0xff, (size_t)w * h * 4); /* differs everywhere below */
	}
	int y0 = -1, y1 = -1;
	for (unsigned y = 0; y < h; y++) {
		uint8_t *d = (uint8_t *)v->fb + (size_t)y * w * 4;
		const uint8_t *s = rgb + (size_t)y * w * 3;
		bool changed = false;
		for (unsigned x = 0; x < w; x++, d += 4, s += 3)
			if (d[0] != s[0] || d[1] != s[1] || d[2] != s[2] || d[3]) {
				d[0] = s[0];
				d[1] = s[1];
				d[2] = s[2];
				d[3] = 0;
				changed = true;
			}
		if (changed) {
			if (y0 < 0)
				y0 = (int)y;
			y1 = (int)y;
		}
	}
	free(rgb);
	if (y0 >= 0)
		for (rfbScreenInfoPtr sc = v->screen; sc; sc = sc == v->screen ? v->tcp : NULL)
			rfbMarkRectAsModified(sc, 0, y0, (int)w, y1 + 1);
}

static unsigned nclients(struct vnc *v)
{
	unsigned n = 0;
	for (rfbScreenInfoPtr sc = v->screen; sc; sc = sc == v->screen ? v->tcp : NULL)
		for (rfbClientPtr c = sc->clientHead; c; c = c->next)
			n++;
	return n;
}

static long ms_until(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (t->tv_sec - now.tv_sec) * 1000 + (t->tv_nsec - now.tv_nsec) / 1000000;
}

/* A TCP client gone before it got in (wrong password, or it never tried):
 * the next one waits. */
static void on_tcp_gone(rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	if (cl->state == RFB_NORMAL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &v->tcp_wait);
	v->tcp_wait.tv_nsec += TCP_BACKOFF_MS * 1000000L;
	if (v->tcp_wait.tv_nsec >= 1000000000L) {
		v->tcp_wait.tv_sec++;
		v->tcp_wait.tv_nsec -= 1000000000L;
	}
}

static enum rfbNewClientAction on_tcp_new(rfbClientPtr cl)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	cl->clientGoneHook = on_tcp_gone;
	cl->clientData = (void *)(uintptr_t)now.tv_sec; /* when it came */
	return RFB_CLIENT_ACCEPT;
}

/* Clients of the TCP socket that have not passed authentication within
 * HANDSHAKE_S seconds are put out: otherwise any local user could hold
 * every client slot with connections that never answer. */
static void expire_handshakes(struct vnc *v)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (rfbClientPtr c = v->tcp->clientHead; c; c = c->next)
		if (c->state != RFB_NORMAL && c->sock >= 0 && now.tv_sec - (time_t)(uintptr_t)c->clientData > HANDSHAKE_S)
			rfbCloseClient(c);
}

/* A client from one of our listening sockets, for screen sc (or refused,
 * past MAX_CLIENTS). */
static bool accept_one(struct vnc *v, int fd, rfbScreenInfoPtr sc)
{
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return false;
	if (nclients(v) >= MAX_CLIENTS) {
		close(c);
		return false;
	}
	rfbNewClient(sc, c);
	return true;
}

static void *vnc_thread(void *arg)
{
	struct vnc *v = arg;
	od_err e;
	int ok = v->vm->no_sandbox || sandbox_screen(&e) == 0 ? 1 : -1;
	pthread_mutex_lock(&v->ready_lock);
	v->ready = ok;
	pthread_cond_signal(&v->ready_cond);
	pthread_mutex_unlock(&v->ready_lock);
	if (ok < 0)
		return NULL;
	struct timespec last = {0};
	bool fresh = true; /* a first picture for a new client, changed or not */
	while (atomic_load(&v->vm->end_reason) == VM_END_NONE) {
		/* Nobody watching: wait for a client (a fifth of a second at a
		 * time, to notice the machine's end), or 10 ms while keys a
		 * client typed before it left still wait for the guest. */
		bool watched = v->screen->clientHead || (v->tcp && v->tcp->clientHead);
		struct pollfd p[2] = {{.fd = v->listen_fd, .events = POLLIN}, {.fd = -1, .events = POLLIN}};
		long backoff = v->tcp ? ms_until(&v->tcp_wait) : 0;
		if (v->tcp && backoff <= 0)
			p[1].fd = v->tcp_fd; /* else not polled: it would wake us */
		int wait_ms = watched ? 0 : v->kq_len ? 10 : 200;
		if (backoff > 0 && backoff < wait_ms)
			wait_ms = (int)backoff;
		if (poll(p, 2, wait_ms) > 0) {
			if ((p[0].revents & POLLIN) && accept_one(v, v->listen_fd, v->screen))
				fresh = true;
			if ((p[1].revents & POLLIN) && accept_one(v, v->tcp_fd, v->tcp))
				fresh = true;
		}
		if (!watched) {
			feed_keys(v);
			continue;
		}
		/* 10 ms: keys reach the guest promptly; rendering is rarer,
		 * and only when the guest wrote to the VGA.  Both screens' clients
		 * in one wait would need libvncserver's select set merged: the
		 * one with clients waits, the other is only looked at. */
		if (v->screen->clientHead) {
			rfbProcessEvents(v->screen, 10000);
			if (v->tcp && v->tcp->clientHead)
				rfbProcessEvents(v->tcp, 0);
		} else {
			rfbProcessEvents(v->tcp, 10000);
		}
		if (v->tcp && v->tcp->clientHead)
			expire_handshakes(v);
		feed_keys(v);
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000;
		if (ms >= 100) {
			refresh(v, fresh);
			fresh = false;
			last = now;
		}
	}
	return NULL;
}

static void quiet_log(const char *fmt, ...)
{
	(void)fmt;
}

/* A libvncserver screen of ours: no listening sockets of its own (clients
 * come through our sockets, handed over with rfbNewClient), no cursor
 * drawn into the picture (a screenshot shows the screen only). */
static rfbScreenInfoPtr new_screen(struct vnc *v)
{
	rfbScreenInfoPtr sc = rfbGetScreen(NULL, NULL, (int)v->w, (int)v->h, 8, 3, 4);
	if (!sc)
		return NULL;
	sc->frameBuffer = v->fb;
	sc->desktopName = "ovfdeploy";
	sc->screenData = v;
	sc->kbdAddEvent = on_key;
	sc->ptrAddEvent = on_pointer;
	sc->alwaysShared = TRUE;
	sc->cursor = NULL;
	sc->socketState = RFB_SOCKET_READY;
	sc->autoPort = FALSE;
	sc->port = -1;
	sc->ipv6port = -1;
	sc->httpPort = -1;
	rfbInitServer(sc);
	return sc;
}

/* libvncserver's VNC challenge comes from random(), which it seeds once
 * with the time and our pid: guessable, so a recorded answer could be
 * replayed.  Let it seed, then seed again from the kernel's generator.
 *
 * And its DES is libgcrypt's, which initialises itself on first use and
 * then complains through syslog (a socket() the screen thread may not
 * make) that nobody initialised it: one encryption here, before the
 * thread confines itself, gets that over with. */
static int seed_challenges(od_err *e)
{
	unsigned char first[CHALLENGESIZE];
	unsigned seed;
	char warm[] = "warm-up";
	rfbEncryptBytes(first, warm);
	rfbRandomBytes(first);
	if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
		return od_err_errno(e, errno, "getrandom");
	srandom(seed);
	return 0;
}

int vm_vnc_parse(const char *addr_port, bool remote_ok, struct sockaddr_in *sa, od_err *e)
{
	const char *colon = strrchr(addr_port, ':');
	if (!colon || colon == addr_port || colon - addr_port >= 16)
		return od_err_set(e, OD_E_USAGE, "--vnc %s: expected ADDR:PORT, e.g. 127.0.0.1:5901", addr_port);
	char addr[16];
	memcpy(addr, addr_port, (size_t)(colon - addr_port));
	addr[colon - addr_port] = '\0';
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1)
		return od_err_set(e, OD_E_USAGE, "--vnc %s: '%s' is not an IPv4 address", addr_port, addr);
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 5900 || port > 65535)
		return od_err_set(e, OD_E_USAGE, "--vnc %s: the port must be from 5900 to 65535 (VNC displays start at 5900)",
				  addr_port);
	sa->sin_port = htons((uint16_t)port);
	if (!remote_ok && (ntohl(sa->sin_addr.s_addr) >> 24) != 127)
		return od_err_set(e, OD_E_USAGE,
				  "--vnc %s: not a loopback address; VNC's password check is weak and the session "
				  "unencrypted, so other machines are refused unless you add --vnc-remote "
				  "(or use ssh -L to a 127.0.0.1 port)", addr_port);
	return 0;
}

int vm_vnc_listen(const char *addr_port, bool remote_ok, od_err *e)
{
	struct sockaddr_in sa;
	if (vm_vnc_parse(addr_port, remote_ok, &sa, e) < 0)
		return -1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0) {
		od_err_errno(e, errno, "VNC on %s", addr_port);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

struct vnc *vnc_start(struct vm *vm, const struct vm_config *cfg, od_err *e)
{
	const char *path = cfg->vnc_socket;
	int tcp_fd = cfg->vnc_tcp_fd > 0 ? cfg->vnc_tcp_fd : -1;
	if (!vm->vga) {
		od_err_set(e, OD_E_INTERNAL, "VNC without a display adapter");
		return NULL;
	}
	if (tcp_fd >= 0 && (!cfg->vnc_password || !*cfg->vnc_password)) {
		od_err_set(e, OD_E_USAGE, "VNC on TCP needs a password");
		return NULL;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (path && strlen(path) >= sizeof sa.sun_path) {
		od_err_set(e, OD_E_USAGE, "%s: path too long for a socket", path);
		return NULL;
	}
	if (tcp_fd >= 0 && seed_challenges(e) < 0)
		return NULL;
	struct vnc *v = calloc(1, sizeof *v);
	if (!v) {
		od_err_nomem(e);
		return NULL;
	}
	v->vm = vm;
	v->listen_fd = -1;
	v->tcp_fd = tcp_fd;
	pthread_mutex_init(&v->ready_lock, NULL);
	pthread_cond_init(&v->ready_cond, NULL);
	if (path) {
		strcpy(sa.sun_path, path);
		v->path = od_strdup(path);
		unlink(path);
		v->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (!v->path || v->listen_fd < 0 || bind(v->listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
		    chmod(path, 0600) < 0 || listen(v->listen_fd, 4) < 0) {
			od_err_errno(e, errno, "%s: VNC socket", path);
			vnc_stop(v);
			return NULL;
		}
	}
	if (cfg->vnc_password) {
		/* VNC authentication takes 8 bytes; what is beyond is ignored
		 * by every client, so here too */
		snprintf(v->password, sizeof v->password, "%s", cfg->vnc_password);
		v->passwords[0] = v->password;
	}
	rfbLog = quiet_log;
	rfbErr = quiet_log;
	v->w = 720;
	v->h = 400;
	v->fb = calloc((size_t)v->w * v->h, 4);
	v->screen = v->fb ? new_screen(v) : NULL;
	if (v->screen && tcp_fd >= 0 && (v->tcp = new_screen(v))) {
		v->tcp->authPasswdData = v->passwords;
		v->tcp->passwordCheck = rfbCheckPasswordByList;
		v->tcp->newClientHook = on_tcp_new;
	}
	if (!v->screen || (tcp_fd >= 0 && !v->tcp)) {
		od_err_nomem(e);
		vnc_stop(v);
		return NULL;
	}
	int err = pthread_create(&v->thread, NULL, vnc_thread, v);
	if (err) {
		od_err_errno(e, err, "VNC thread");
		vnc_stop(v);
		return NULL;
	}
	v->started = true;
	/* a mouse for the pointer, before any guest code probes for one */
	pthread_mutex_lock(&vm->dev_lock);
	if (vm->misc)
		misc_attach_mouse(vm->misc);
	pthread_mutex_unlock(&vm->dev_lock);
	/* no guest code before this thread is confined too */
	pthread_mutex_lock(&v->ready_lock);
	while (!v->ready)
		pthread_cond_wait(&v->ready_cond, &v->ready_lock);
	int ready = v->ready;
	pthread_mutex_unlock(&v->ready_lock);
	if (ready < 0) {
		od_err_set(e, OD_E_IO, "seccomp: cannot confine the screen thread");
		vnc_stop(v);
		return NULL;
	}
	return v;
}

void vnc_stop(struct vnc *v)
{
	if (!v)
		return;
	if (v->started)
		pthread_join(v->thread, NULL);
	for (rfbScreenInfoPtr sc = v->screen; sc; sc = sc == v->screen ? v->tcp : NULL) {
		rfbShutdownServer(sc, TRUE);
		rfbScreenCleanup(sc);
	}
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		unlink(v->path);
	}
	/* tcp_fd is the caller's */
	explicit_bzero(v->password, sizeof v->password);
	free(v->path);
	pthread_mutex_destroy(&v->ready_lock);
	pthread_cond_destroy(&v->ready_cond);
	free(v->fb);
	free(v);
}
