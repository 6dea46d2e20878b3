/* vnc.c - the runner's screen on VNC: libvncserver serving the VGA's
 * picture to the clients of a UNIX socket in the instance directory, and
 * their keys to the i8042.
 *
 * One thread does it all: it accepts clients on the socket (opened before
 * the thread confines itself), hands each to libvncserver, renders the VGA
 * ten times a second while anyone is connected and marks the rows that
 * changed, and feeds keys to the keyboard controller as fast as the guest
 * reads them (the i8042's queue is short; a key waits here instead of
 * being dropped).  The socket is the only way in: no TCP listener, no
 * password (the directory is the instance owner's alone). */
#include "config.h"
#include "runner/vmm.h"
#include "runner/sandbox.h"

#include <errno.h>
#include <poll.h>
#include <rfb/rfb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define KEYQ 4096          /* scan code bytes waiting for the guest */
#define MAX_CLIENTS 8

struct vnc {
	struct vm *vm;
	int listen_fd;
	char *path;
	pthread_t thread;
	bool started;
	pthread_mutex_t ready_lock;
	pthread_cond_t ready_cond;
	int ready;                 /* 1 confined, -1 could not be */
	rfbScreenInfoPtr screen;
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
		rfbNewFramebuffer(v->screen, fb, (int)w, (int)h, 8, 3, 4);
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
		rfbMarkRectAsModified(v->screen, 0, y0, (int)w, y1 + 1);
}

static unsigned nclients(struct vnc *v)
{
	unsigned n = 0;
	for (rfbClientPtr c = v->screen->clientHead; c; c = c->next)
		n++;
	return n;
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
		struct pollfd p = {.fd = v->listen_fd, .events = POLLIN};
		int wait_ms = v->screen->clientHead ? 0 : v->kq_len ? 10 : 200;
		if (poll(&p, 1, wait_ms) > 0 && (p.revents & POLLIN)) {
			int fd = accept4(v->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0 && nclients(v) >= MAX_CLIENTS) {
				close(fd);
			} else if (fd >= 0) {
				rfbNewClient(v->screen, fd);
				fresh = true;
			}
		}
		if (!v->screen->clientHead) {
			feed_keys(v);
			continue;
		}
		/* 10 ms: keys reach the guest promptly; rendering is rarer,
		 * and only when the guest wrote to the VGA */
		rfbProcessEvents(v->screen, 10000);
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

struct vnc *vnc_start(struct vm *vm, const char *path, od_err *e)
{
	if (!vm->vga) {
		od_err_set(e, OD_E_INTERNAL, "VNC without a display adapter");
		return NULL;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		od_err_set(e, OD_E_USAGE, "%s: path too long for a socket", path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	struct vnc *v = calloc(1, sizeof *v);
	if (!v) {
		od_err_nomem(e);
		return NULL;
	}
	v->vm = vm;
	v->listen_fd = -1;
	v->path = od_strdup(path);
	pthread_mutex_init(&v->ready_lock, NULL);
	pthread_cond_init(&v->ready_cond, NULL);
	unlink(path);
	v->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (v->listen_fd < 0 || bind(v->listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    chmod(path, 0600) < 0 || listen(v->listen_fd, 4) < 0) {
		od_err_errno(e, errno, "%s: VNC socket", path);
		if (v->listen_fd >= 0)
			close(v->listen_fd);
		free(v);
		return NULL;
	}
	rfbLog = quiet_log;
	rfbErr = quiet_log;
	v->w = 720;
	v->h = 400;
	v->fb = calloc((size_t)v->w * v->h, 4);
	v->screen = v->fb ? rfbGetScreen(NULL, NULL, (int)v->w, (int)v->h, 8, 3, 4) : NULL;
	if (!v->screen) {
		od_err_nomem(e);
		vnc_stop(v);
		return NULL;
	}
	v->screen->frameBuffer = v->fb;
	v->screen->desktopName = "ovfdeploy";
	v->screen->screenData = v;
	v->screen->kbdAddEvent = on_key;
	v->screen->alwaysShared = TRUE;
	/* no mouse pointer drawn into the picture: we have no mouse, and a
	 * screenshot should show the screen only */
	v->screen->cursor = NULL;
	/* No listening sockets of libvncserver's own: clients come only
	 * through our UNIX socket, handed over with rfbNewClient. */
	v->screen->socketState = RFB_SOCKET_READY;
	v->screen->autoPort = FALSE;
	v->screen->port = -1;
	v->screen->ipv6port = -1;
	v->screen->httpPort = -1;
	rfbInitServer(v->screen);
	int err = pthread_create(&v->thread, NULL, vnc_thread, v);
	if (err) {
		od_err_errno(e, err, "VNC thread");
		vnc_stop(v);
		return NULL;
	}
	v->started = true;
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
	if (v->screen) {
		rfbShutdownServer(v->screen, TRUE);
		rfbScreenCleanup(v->screen);
	}
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		if (v->path)
			unlink(v->path);
	}
	free(v->path);
	pthread_mutex_destroy(&v->ready_lock);
	pthread_cond_destroy(&v->ready_cond);
	free(v->fb);
	free(v);
}
