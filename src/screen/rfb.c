/* rfb.c - a small RFB (VNC) client: enough of RFC 6143 to take a picture of
 * a virtual machine's screen and to type on its keyboard.
 *
 * We ask for 32-bit true colour and the Raw encoding only (plus the
 * DesktopSize pseudo-encoding, so a mode change in the middle of a capture
 * is followed), so every pixel arrives as it is.  Every length the server
 * sends is checked against what we asked for and against SCREEN_MAX_DIM;
 * reads have a deadline; the server cannot make us allocate more than one
 * framebuffer of at most SCREEN_MAX_DIM^2 pixels. */
#include "config.h"
#include "screen/screen.h"

/* VNC authentication is DES by definition (RFC 6143, 7.2.2); OpenSSL 3 keeps
 * the low-level DES functions, marked deprecated. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/des.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define NAME_MAX_LEN 4096          /* desktop name, reason strings */
#define CUT_TEXT_MAX (1u << 20)    /* server clipboard text we skip */
#define MAX_MESSAGES 100000        /* messages read for one capture */

struct rfb_client {
	int fd;
	unsigned timeout_ms;
	int minor;                 /* protocol 3.minor in use */
	unsigned width, height;
	char *name;
	uint8_t buf[65536];        /* read buffer */
	size_t pos, len;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int fill(rfb_client *c, od_err *e)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	int r;
	do
		r = poll(&p, 1, (int)c->timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return od_err_errno(e, errno, "VNC: poll");
	if (r == 0)
		return od_err_set(e, OD_E_IO, "VNC: the server sent nothing for %u ms", c->timeout_ms);
	ssize_t n;
	do
		n = read(c->fd, c->buf, sizeof c->buf);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return od_err_errno(e, errno, "VNC: read");
	if (n == 0)
		return od_err_set(e, OD_E_IO, "VNC: the server closed the connection");
	c->pos = 0;
	c->len = (size_t)n;
	return 0;
}

static int rd(rfb_client *c, void *out, size_t n, od_err *e)
{
	uint8_t *o = out;
	while (n) {
		if (c->pos == c->len && fill(c, e) < 0)
			return -1;
		size_t k = c->len - c->pos < n ? c->len - c->pos : n;
		if (o) {
			memcpy(o, c->buf + c->pos, k);
			o += k;
		}
		c->pos += k;
		n -= k;
	}
	return 0;
}

static int skip(rfb_client *c, uint64_t n, od_err *e)
{
	while (n) {
		size_t k = n > 65536 ? 65536 : (size_t)n;
		if (rd(c, NULL, k, e) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* send(MSG_NOSIGNAL): a server that hung up is an error, not a SIGPIPE
 * that kills the program using us. */
static int wr(rfb_client *c, const void *p, size_t n, od_err *e)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t k = send(c->fd, b, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return od_err_errno(e, errno, "VNC: send");
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16 & 0xff; p[2] = v >> 8 & 0xff; p[3] = v & 0xff; }

/* A length-prefixed string from the server (reason, desktop name). */
static int rd_string(rfb_client *c, char **out, od_err *e)
{
	uint8_t l[4];
	if (rd(c, l, 4, e) < 0)
		return -1;
	uint32_t n = be32(l), keep = n > NAME_MAX_LEN ? NAME_MAX_LEN : n;
	char *s = malloc(keep + 1);
	if (!s)
		return od_err_nomem(e);
	if (rd(c, s, keep, e) < 0 || skip(c, n - keep, e) < 0) {
		free(s);
		return -1;
	}
	s[keep] = '\0';
	for (uint32_t i = 0; i < keep; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = '?';
	*out = s;
	return 0;
}

static int fail_reason(rfb_client *c, const char *what, od_err *e)
{
	char *r = NULL;
	od_err ig;
	if (rd_string(c, &r, &ig) == 0) {
		od_err_set(e, OD_E_IO, "VNC: %s: %s", what, r);
		free(r);
		return -1;
	}
	return od_err_set(e, OD_E_IO, "VNC: %s", what);
}

static int vnc_auth(rfb_client *c, const char *password, od_err *e)
{
	if (!password)
		return od_err_set(e, OD_E_USAGE, "VNC: the server asks for a password");
	uint8_t ch[16], key[8] = {0};
	if (rd(c, ch, 16, e) < 0)
		return -1;
	/* The key is the password's first 8 bytes, each bit-reversed. */
	for (size_t i = 0; i < 8 && password[i]; i++) {
		uint8_t b = (uint8_t)password[i], r = 0;
		for (int k = 0; k < 8; k++)
			if (b & (1u << k))
				r |= (uint8_t)(0x80u >> k);
		key[i] = r;
	}
	DES_key_schedule ks;
	DES_set_key_unchecked((const_DES_cblock *)key, &ks);
	uint8_t out[16];
	DES_ecb_encrypt((const_DES_cblock *)ch, (DES_cblock *)out, &ks, DES_ENCRYPT);
	DES_ecb_encrypt((const_DES_cblock *)(ch + 8), (DES_cblock *)(out + 8), &ks, DES_ENCRYPT);
	memset(key, 0, sizeof key);
	memset(&ks, 0, sizeof ks);
	return wr(c, out, 16, e);
}

static int security_result(rfb_client *c, od_err *e)
{
	uint8_t r[4];
	if (rd(c, r, 4, e) < 0)
		return -1;
	if (be32(r) == 0)
		return 0;
	if (c->minor >= 8)
		return fail_reason(c, "authentication failed", e);
	return od_err_set(e, OD_E_IO, "VNC: authentication failed");
}

static int handshake(rfb_client *c, const char *password, od_err *e)
{
	uint8_t v[12];
	if (rd(c, v, 12, e) < 0)
		return -1;
	int major, minor;
	char vs[13];
	memcpy(vs, v, 12);
	vs[12] = '\0';
	if (sscanf(vs, "RFB %3d.%3d\n", &major, &minor) != 2 || major != 3 || minor < 3)
		return od_err_set(e, OD_E_IO, "VNC: not an RFB 3.x server");
	c->minor = minor >= 8 ? 8 : minor >= 7 ? 7 : 3;
	char mine[13];
	snprintf(mine, sizeof mine, "RFB 003.%03d\n", c->minor);
	if (wr(c, mine, 12, e) < 0)
		return -1;
	uint32_t type;
	if (c->minor == 3) {
		uint8_t t[4];
		if (rd(c, t, 4, e) < 0)
			return -1;
		type = be32(t);
		if (type == 0)
			return fail_reason(c, "the server refused the connection", e);
	} else {
		uint8_t n, types[255];
		if (rd(c, &n, 1, e) < 0)
			return -1;
		if (n == 0)
			return fail_reason(c, "the server refused the connection", e);
		if (rd(c, types, n, e) < 0)
			return -1;
		bool none = false, vnc = false;
		for (unsigned i = 0; i < n; i++) {
			none |= types[i] == 1;
			vnc |= types[i] == 2;
		}
		if (!none && !vnc)
			return od_err_set(e, OD_E_UNSUPPORTED, "VNC: the server offers no security type we know (None, VNC)");
		uint8_t pick = none ? 1 : 2;
		if (wr(c, &pick, 1, e) < 0)
			return -1;
		type = pick;
	}
	if (type == 2) {
		if (vnc_auth(c, password, e) < 0 || security_result(c, e) < 0)
			return -1;
	} else if (type == 1) {
		if (c->minor >= 8 && security_result(c, e) < 0)
			return -1;
	} else {
		return od_err_set(e, OD_E_UNSUPPORTED, "VNC: security type %u is not supported", type);
	}
	uint8_t shared = 1;
	if (wr(c, &shared, 1, e) < 0)
		return -1;
	uint8_t si[20];
	if (rd(c, si, 20, e) < 0)
		return -1;
	c->width = be16(si);
	c->height = be16(si + 2);
	if (rd_string(c, &c->name, e) < 0)
		return -1;
	/* 32 bits per pixel, depth 24, little endian, true colour, 8 bits per
	 * channel: red at bit 16, green at 8, blue at 0. */
	uint8_t pf[20] = {0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0};
	uint8_t enc[12] = {2, 0, 0, 2};
	put32(enc + 4, 0);                    /* Raw */
	put32(enc + 8, (uint32_t)-223);       /* DesktopSize */
	if (wr(c, pf, sizeof pf, e) < 0 || wr(c, enc, sizeof enc, e) < 0)
		return -1;
	return 0;
}

static rfb_client *finish_open(int fd, const char *password, unsigned timeout_ms, od_err *e)
{
	rfb_client *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		od_err_nomem(e);
		return NULL;
	}
	c->fd = fd;
	c->timeout_ms = timeout_ms ? timeout_ms : 10000;
	if (handshake(c, password, e) < 0) {
		rfb_close(c);
		return NULL;
	}
	return c;
}

rfb_client *rfb_open_unix(const char *path, const char *password, unsigned timeout_ms, od_err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		od_err_set(e, OD_E_USAGE, "%s: path too long for a socket", path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		od_err_errno(e, errno, "socket");
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		od_err_errno(e, errno, "%s: connect", path);
		close(fd);
		return NULL;
	}
	return finish_open(fd, password, timeout_ms, e);
}

rfb_client *rfb_open_tcp(const char *host, unsigned port, const char *password, unsigned timeout_ms, od_err *e)
{
	char ps[8];
	snprintf(ps, sizeof ps, "%u", port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	int r = getaddrinfo(host, ps, &hints, &ai);
	if (r != 0) {
		od_err_set(e, OD_E_IO, "%s: %s", host, gai_strerror(r));
		return NULL;
	}
	int fd = -1, err = 0;
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			err = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		od_err_errno(e, err ? err : ECONNREFUSED, "%s:%u: connect", host, port);
		return NULL;
	}
	return finish_open(fd, password, timeout_ms, e);
}

void rfb_close(rfb_client *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c->name);
	free(c);
}

void rfb_info(const rfb_client *c, unsigned *width, unsigned *height, const char **name)
{
	if (width)
		*width = c->width;
	if (height)
		*height = c->height;
	if (name)
		*name = c->name ? c->name : "";
}

void screen_image_free(struct screen_image *img)
{
	free(img->rgb);
	memset(img, 0, sizeof *img);
}

static int request(rfb_client *c, bool incremental, od_err *e)
{
	uint8_t m[10] = {3, incremental};
	put16(m + 2, 0);
	put16(m + 4, 0);
	put16(m + 6, (uint16_t)c->width);
	put16(m + 8, (uint16_t)c->height);
	return wr(c, m, sizeof m, e);
}

/* (Re)size the picture and the coverage map to the desktop's size. */
static int resize(rfb_client *c, struct screen_image *img, uint8_t **seen, uint64_t *left, od_err *e)
{
	if (c->width == 0 || c->height == 0 || c->width > SCREEN_MAX_DIM || c->height > SCREEN_MAX_DIM)
		return od_err_set(e, OD_E_IO, "VNC: desktop size %ux%u is out of range (1 to %d)", c->width, c->height,
				  SCREEN_MAX_DIM);
	size_t px = (size_t)c->width * c->height;
	uint8_t *rgb = calloc(px, 3), *s = calloc(px, 1);
	if (!rgb || !s) {
		free(rgb);
		free(s);
		return od_err_nomem(e);
	}
	free(img->rgb);
	free(*seen);
	img->rgb = rgb;
	img->width = c->width;
	img->height = c->height;
	*seen = s;
	*left = px;
	return 0;
}

int rfb_capture(rfb_client *c, struct screen_image *img, od_err *e)
{
	memset(img, 0, sizeof *img);
	uint8_t *seen = NULL, *row = NULL;
	uint64_t left = 0;
	long long deadline = now_ms() + 4LL * c->timeout_ms;
	if (resize(c, img, &seen, &left, e) < 0 || request(c, false, e) < 0)
		goto fail;
	row = malloc((size_t)SCREEN_MAX_DIM * 4);
	if (!row) {
		od_err_nomem(e);
		goto fail;
	}
	for (unsigned msgs = 0; left > 0; msgs++) {
		if (msgs >= MAX_MESSAGES || now_ms() > deadline) {
			od_err_set(e, OD_E_IO, "VNC: no complete picture of the screen after %u messages", msgs);
			goto fail;
		}
		uint8_t type;
		if (rd(c, &type, 1, e) < 0)
			goto fail;
		if (type == 0) { /* FramebufferUpdate */
			uint8_t h[3];
			if (rd(c, h, 3, e) < 0)
				goto fail;
			unsigned nrects = be16(h + 1);
			for (unsigned r = 0; r < nrects; r++) {
				uint8_t rh[12];
				if (rd(c, rh, 12, e) < 0)
					goto fail;
				unsigned x = be16(rh), y = be16(rh + 2), w = be16(rh + 4), hh = be16(rh + 6);
				int32_t enc = (int32_t)be32(rh + 8);
				if (enc == -223) { /* DesktopSize: start over at the new size */
					c->width = w;
					c->height = hh;
					if (resize(c, img, &seen, &left, e) < 0 || request(c, false, e) < 0)
						goto fail;
					continue;
				}
				if (enc != 0) {
					od_err_set(e, OD_E_IO, "VNC: the server sent encoding %d, which we did not ask for", enc);
					goto fail;
				}
				if ((uint64_t)x + w > img->width || (uint64_t)y + hh > img->height) {
					od_err_set(e, OD_E_IO, "VNC: rectangle %ux%u at %u,%u lies outside the %ux%u screen", w, hh,
						   x, y, img->width, img->height);
					goto fail;
				}
				for (unsigned j = 0; j < hh; j++) {
					if (rd(c, row, (size_t)w * 4, e) < 0)
						goto fail;
					size_t base = (size_t)(y + j) * img->width + x;
					for (unsigned i = 0; i < w; i++) {
						uint8_t *d = img->rgb + (base + i) * 3;
						d[0] = row[i * 4 + 2];
						d[1] = row[i * 4 + 1];
						d[2] = row[i * 4 + 0];
						if (!seen[base + i]) {
							seen[base + i] = 1;
							left--;
						}
					}
				}
			}
			if (left > 0 && request(c, true, e) < 0)
				goto fail;
		} else if (type == 1) { /* SetColourMapEntries: not used in true colour */
			uint8_t h[5];
			if (rd(c, h, 5, e) < 0 || skip(c, (uint64_t)be16(h + 3) * 6, e) < 0)
				goto fail;
		} else if (type == 2) { /* Bell */
		} else if (type == 3) { /* ServerCutText */
			uint8_t h[7];
			if (rd(c, h, 7, e) < 0)
				goto fail;
			uint32_t n = be32(h + 3);
			if (n > CUT_TEXT_MAX) {
				od_err_set(e, OD_E_IO, "VNC: %u bytes of clipboard text is more than we accept", n);
				goto fail;
			}
			if (skip(c, n, e) < 0)
				goto fail;
		} else {
			od_err_set(e, OD_E_IO, "VNC: unknown server message type %u", type);
			goto fail;
		}
	}
	free(seen);
	free(row);
	return 0;
fail:
	free(seen);
	free(row);
	screen_image_free(img);
	return -1;
}

int rfb_key(rfb_client *c, uint32_t keysym, bool down, od_err *e)
{
	uint8_t m[8] = {4, down ? 1 : 0, 0, 0};
	put32(m + 4, keysym);
	return wr(c, m, sizeof m, e);
}

/* US layout: the characters typed with Shift (util/keymap.c). */
static bool needs_shift(unsigned char ch)
{
	unsigned code;
	bool shift;
	return od_us_key(ch, &code, &shift) == 0 && shift;
}

int rfb_type(rfb_client *c, const char *text, od_err *e)
{
	for (const char *p = text; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (!(ch >= 0x20 && ch < 0x7f) && !strchr("\n\t\b\x1b", ch))
			return od_err_set(e, OD_E_USAGE, "cannot type character 0x%02x (printable ASCII, newline, tab, "
					  "backspace and escape only)", ch);
	}
	for (const char *p = text; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		uint32_t sym = ch == '\n' ? 0xff0d : ch == '\t' ? 0xff09 : ch == '\b' ? 0xff08 : ch == 0x1b ? 0xff1b : ch;
		bool shift = needs_shift(ch);
		if ((shift && rfb_key(c, 0xffe1, true, e) < 0) || rfb_key(c, sym, true, e) < 0 ||
		    rfb_key(c, sym, false, e) < 0 || (shift && rfb_key(c, 0xffe1, false, e) < 0))
			return -1;
	}
	/* A server reads messages in order: once it answers a picture
	 * request sent after the keys, it has taken them all, and closing
	 * the connection cannot lose any. */
	struct screen_image img;
	if (rfb_capture(c, &img, e) < 0)
		return -1;
	screen_image_free(&img);
	return 0;
}
