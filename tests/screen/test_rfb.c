/* test_rfb.c - the RFB client (src/screen/rfb.c) against scripted servers:
 * a well-behaved one (the picture arrives pixel for pixel, in two
 * rectangles, after a desktop resize), and hostile ones: sizes out of
 * range, rectangles outside the screen, encodings we did not ask for,
 * oversized clipboard text, unknown security types and messages, a server
 * that hangs up or goes silent.  Each must end in an error, never a crash
 * or a hang (ASan builds check the memory side). */
#include "config.h"
#include "screen/screen.h"

#include <check.h>
#include "../check_run.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct script {
	const uint8_t *bytes;
	size_t len;
	bool hang_up;          /* close after the script instead of lingering */
	int listen_fd;
	char path[108];
};

static void *server(void *arg)
{
	struct script *s = arg;
	int fd = accept(s->listen_fd, NULL, NULL);
	if (fd < 0)
		return NULL;
	if (s->len && write(fd, s->bytes, s->len) < 0) {
		/* the client may be gone already */
	}
	if (!s->hang_up) {
		char buf[4096];
		/* read what the client sends until it closes */
		while (read(fd, buf, sizeof buf) > 0) {
		}
	}
	close(fd);
	return NULL;
}

static pthread_t start(struct script *s)
{
	snprintf(s->path, sizeof s->path, "/tmp/od-rfb-%d-%p.sock", (int)getpid(), (void *)s);
	unlink(s->path);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, s->path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(s->listen_fd, 0);
	ck_assert_int_eq(bind(s->listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(s->listen_fd, 1), 0);
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, server, s), 0);
	return t;
}

static void finish(struct script *s, pthread_t t)
{
	pthread_join(t, NULL);
	close(s->listen_fd);
	unlink(s->path);
}

/* The handshake of a server offering None: version, types, result, and
 * ServerInit for a W x H desktop called "t". */
static size_t hello(uint8_t *b, unsigned w, unsigned h)
{
	size_t n = 0;
	memcpy(b, "RFB 003.008\n", 12);
	n = 12;
	b[n++] = 1;
	b[n++] = 1;                 /* one type: None */
	memset(b + n, 0, 4);        /* SecurityResult OK */
	n += 4;
	b[n++] = (uint8_t)(w >> 8);
	b[n++] = (uint8_t)w;
	b[n++] = (uint8_t)(h >> 8);
	b[n++] = (uint8_t)h;
	memset(b + n, 0, 16);       /* pixel format: ours is set by the client */
	n += 16;
	b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 1;
	b[n++] = 't';
	return n;
}

static size_t rect(uint8_t *b, unsigned x, unsigned y, unsigned w, unsigned h, int32_t enc)
{
	uint8_t r[12] = {(uint8_t)(x >> 8), (uint8_t)x, (uint8_t)(y >> 8), (uint8_t)y, (uint8_t)(w >> 8), (uint8_t)w,
			 (uint8_t)(h >> 8), (uint8_t)h, (uint8_t)((uint32_t)enc >> 24), (uint8_t)((uint32_t)enc >> 16),
			 (uint8_t)((uint32_t)enc >> 8), (uint8_t)enc};
	memcpy(b, r, 12);
	return 12;
}

/* Run a capture against the script; returns the capture's result. */
static int capture(const uint8_t *bytes, size_t len, bool hang_up, struct screen_image *img, od_err *e)
{
	struct script s = {.bytes = bytes, .len = len, .hang_up = hang_up};
	pthread_t t = start(&s);
	rfb_client *c = rfb_open_unix(s.path, NULL, 500, e);
	int rc = -1;
	memset(img, 0, sizeof *img);
	if (c) {
		rc = rfb_capture(c, img, e);
		rfb_close(c);
	}
	finish(&s, t);
	return rc;
}

START_TEST(test_good_server)
{
	static uint8_t b[4096];
	size_t n = hello(b, 8, 8);
	/* a resize to 4x2 first, then the picture in two rectangles */
	b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 1;
	n += rect(b + n, 0, 0, 4, 2, -223);
	b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 2;
	n += rect(b + n, 0, 0, 4, 1, 0);
	for (int i = 0; i < 4; i++) { b[n++] = (uint8_t)i; b[n++] = 0x20; b[n++] = 0x30; b[n++] = 0; }
	b[n++] = 2;  /* a Bell between rectangles' messages is fine... */
	n -= 1;      /* ...but not inside one: take it back */
	n += rect(b + n, 0, 1, 4, 1, 0);
	for (int i = 0; i < 4; i++) { b[n++] = 0xff; b[n++] = 0xee; b[n++] = 0xdd; b[n++] = 0; }
	struct screen_image img;
	od_err e = {0};
	ck_assert_msg(capture(b, n, false, &img, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(img.width, 4);
	ck_assert_uint_eq(img.height, 2);
	/* little-endian 32 bits, red at 16: bytes blue, green, red */
	ck_assert_uint_eq(img.rgb[0], 0x30);
	ck_assert_uint_eq(img.rgb[1], 0x20);
	ck_assert_uint_eq(img.rgb[2], 0x00);
	ck_assert_uint_eq(img.rgb[3 * 3 + 2], 3);
	ck_assert_uint_eq(img.rgb[4 * 3 + 0], 0xdd);
	ck_assert_uint_eq(img.rgb[7 * 3 + 2], 0xff);
	char path[] = "/tmp/od-rfb-png-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(screen_write_png(path, &img, &e), 0);
	FILE *f = fopen(path, "rb");
	uint8_t sig[8];
	ck_assert_uint_eq(fread(sig, 1, 8, f), 8);
	fclose(f);
	ck_assert_mem_eq(sig, "\x89PNG\r\n\x1a\n", 8);
	unlink(path);
	screen_image_free(&img);
}
END_TEST

START_TEST(test_hostile_sizes)
{
	static uint8_t b[4096];
	struct screen_image img;
	od_err e;
	size_t n = hello(b, 0, 0);
	ck_assert_int_eq(capture(b, n, false, &img, &e), -1);
	ck_assert(strstr(e.msg, "out of range"));
	n = hello(b, 9000, 10);
	ck_assert_int_eq(capture(b, n, false, &img, &e), -1);
	ck_assert(strstr(e.msg, "out of range"));
	/* a resize to something absurd */
	n = hello(b, 8, 8);
	b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 1;
	n += rect(b + n, 0, 0, 65535, 65535, -223);
	ck_assert_int_eq(capture(b, n, false, &img, &e), -1);
	/* a rectangle past the edge */
	n = hello(b, 8, 8);
	b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 1;
	n += rect(b + n, 6, 0, 4, 1, 0);
	ck_assert_int_eq(capture(b, n, false, &img, &e), -1);
	ck_assert(strstr(e.msg, "outside"));
	n = hello(b, 8, 8);
	b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 1;
	n += rect(b + n, 65535, 65535, 65535, 65535, 0);
	ck_assert_int_eq(capture(b, n, false, &img, &e), -1);
	ck_assert_ptr_null(img.rgb);
}
END_TEST

START_TEST(test_hostile_messages)
{
	static uint8_t b[4096];
	struct screen_image img;
	od_err e;
	/* an encoding we did not ask for (Hextile) */
	size_t n = hello(b, 8, 8);
	b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 1;
	n += rect(b + n, 0, 0, 8, 8, 5);
	ck_assert_int_eq(capture(b, n, false, &img, &e), -1);
	ck_assert(strstr(e.msg, "encoding"));
	/* 2 MiB of clipboard text announced */
	n = hello(b, 8, 8);
	b[n++] = 3; b[n++] = 0; b[n++] = 0; b[n++] = 0;
	b[n++] = 0; b[n++] = 0x20; b[n++] = 0; b[n++] = 0;
	ck_assert_int_eq(capture(b, n, false, &img, &e), -1);
	ck_assert(strstr(e.msg, "clipboard"));
	/* an unknown message type */
	n = hello(b, 8, 8);
	b[n++] = 77;
	ck_assert_int_eq(capture(b, n, false, &img, &e), -1);
	ck_assert(strstr(e.msg, "unknown"));
	/* a server that hangs up in the middle of a rectangle */
	n = hello(b, 8, 8);
	b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 1;
	n += rect(b + n, 0, 0, 8, 8, 0);
	b[n++] = 1; b[n++] = 2;
	ck_assert_int_eq(capture(b, n, true, &img, &e), -1);
	/* read to the end, or the request after the handshake found the
	 * connection gone: an error either way, and no SIGPIPE */
	ck_assert(strstr(e.msg, "closed") || strstr(e.msg, "send"));
	/* a server that says nothing more: the deadline ends it */
	n = hello(b, 8, 8);
	ck_assert_int_eq(capture(b, n, false, &img, &e), -1);
	ck_assert(strstr(e.msg, "sent nothing"));
}
END_TEST

START_TEST(test_hostile_handshake)
{
	struct screen_image img;
	od_err e;
	static const uint8_t notrfb[] = "HTTP/1.1 200";
	ck_assert_int_eq(capture(notrfb, 12, false, &img, &e), -1);
	ck_assert(strstr(e.msg, "not an RFB"));
	static const uint8_t types[] = "RFB 003.008\n\x02\x05\x10";
	ck_assert_int_eq(capture(types, 15, false, &img, &e), -1);
	ck_assert(strstr(e.msg, "no security type"));
	/* refused, with a reason of 4 GiB announced */
	static const uint8_t refused[] = "RFB 003.008\n\x00\xff\xff\xff\xffno";
	ck_assert_int_eq(capture(refused, 19, false, &img, &e), -1);
	ck_assert(strstr(e.msg, "refused"));
	/* VNC authentication without a password */
	static const uint8_t auth[] = "RFB 003.008\n\x01\x02";
	ck_assert_int_eq(capture(auth, 14, false, &img, &e), -1);
	ck_assert(strstr(e.msg, "password"));
}
END_TEST

/* The PPM a hypervisor hands out (libvirt's screenshot): read pixel for
 * pixel with comments in the header; damaged, oversized, short, long and
 * 16-bit pictures refused. */
static int ppm(const char *hdr, size_t npix, size_t extra, struct screen_image *img, od_err *e)
{
	size_t hl = strlen(hdr), n = hl + npix * 3 + extra;
	unsigned char *b = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(b);
	memcpy(b, hdr, hl);
	for (size_t i = hl; i < n; i++)
		b[i] = (unsigned char)(i * 7);
	int rc = screen_image_from_ppm(b, n, img, e);
	if (rc == 0)
		ck_assert_int_eq(memcmp(img->rgb, b + hl, npix * 3), 0);
	free(b);
	return rc;
}

START_TEST(test_ppm)
{
	struct screen_image img;
	od_err e;
	ck_assert_int_eq(ppm("P6\n# made by QEMU\n640 480\n255\n", 640 * 480, 0, &img, &e), 0);
	ck_assert_uint_eq(img.width, 640);
	ck_assert_uint_eq(img.height, 480);
	screen_image_free(&img);
	ck_assert_int_eq(ppm("P6 2 1 255 ", 2, 0, &img, &e), 0);
	screen_image_free(&img);
	ck_assert_int_eq(ppm("P5\n2 1\n255\n", 2, 0, &img, &e), -1);
	ck_assert(strstr(e.msg, "P6"));
	ck_assert_int_eq(ppm("P6\n2 1\n255\n", 2, 1, &img, &e), -1); /* a byte too many */
	ck_assert(strstr(e.msg, "expected"));
	ck_assert_int_eq(ppm("P6\n2 2\n255\n", 3, 0, &img, &e), -1); /* short */
	ck_assert_int_eq(ppm("P6\n9000 2\n255\n", 0, 0, &img, &e), -1);
	ck_assert(strstr(e.msg, "at most"));
	ck_assert_int_eq(ppm("P6\n0 2\n255\n", 0, 0, &img, &e), -1);
	ck_assert_int_eq(ppm("P6\n4294967297 2\n255\n", 2, 0, &img, &e), -1); /* no wrap-around */
	ck_assert_int_eq(ppm("P6\n2 1\n65535\n", 4, 0, &img, &e), -1);
	ck_assert(strstr(e.msg, "255"));
	ck_assert_int_eq(ppm("P6\n2 1\n255", 0, 0, &img, &e), -1); /* header, no pixels */
	ck_assert_int_eq(ppm("P6\n# a comment to the end", 0, 0, &img, &e), -1);
	ck_assert_int_eq(ppm("P", 0, 0, &img, &e), -1);
}
END_TEST

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

/* PNG (libvirt's screenshot of a QEMU domain): what we write reads back
 * pixel for pixel; a truncated file, a flipped byte and a header claiming a
 * 9000-pixel-wide screen (valid CRC) are refused, the last before any
 * allocation for it. */
START_TEST(test_png)
{
	char dir[] = "/tmp/test_png.XXXXXX", path[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/a.png", dir);
	struct screen_image a = {.width = 33, .height = 7}, b;
	a.rgb = malloc(33 * 7 * 3);
	for (unsigned i = 0; i < 33 * 7 * 3; i++)
		a.rgb[i] = (uint8_t)(i * 13);
	od_err e;
	ck_assert_int_eq(screen_write_png(path, &a, &e), 0);
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	static unsigned char buf[65536];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	unlink(path);
	rmdir(dir);
	ck_assert_int_eq(screen_image_from_png(buf, n, &b, &e), 0);
	ck_assert_uint_eq(b.width, 33);
	ck_assert_uint_eq(b.height, 7);
	ck_assert_int_eq(memcmp(a.rgb, b.rgb, 33 * 7 * 3), 0);
	screen_image_free(&b);
	ck_assert_int_eq(screen_image_from_png(buf, n / 2, &b, &e), -1);
	ck_assert_ptr_null(b.rgb);
	ck_assert_int_eq(screen_image_from_png(buf, 7, &b, &e), -1);
	buf[n - 20] ^= 0x55; /* a damaged byte in the image data (its CRC no longer matches) */
	ck_assert_int_eq(screen_image_from_png(buf, n, &b, &e), -1);
	ck_assert_ptr_null(b.rgb);
	buf[n - 20] ^= 0x55;
	/* IHDR: length at 8, type at 12, width at 16, height at 20, CRC at 29 */
	buf[16] = 0, buf[17] = 0, buf[18] = 0x23, buf[19] = 0x28; /* 9000 */
	uint32_t c = crc32_of(buf + 12, 17);
	buf[29] = (unsigned char)(c >> 24), buf[30] = (unsigned char)(c >> 16), buf[31] = (unsigned char)(c >> 8),
	buf[32] = (unsigned char)c;
	ck_assert_int_eq(screen_image_from_png(buf, n, &b, &e), -1);
	ck_assert(strstr(e.msg, "not a screen"));
	screen_image_free(&a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rfb");
	TCase *t = od_check_tcase(s, "rfb");
	tcase_set_timeout(t, 30);
	tcase_add_test(t, test_good_server);
	tcase_add_test(t, test_hostile_sizes);
	tcase_add_test(t, test_hostile_messages);
	tcase_add_test(t, test_hostile_handshake);
	tcase_add_test(t, test_ppm);
	tcase_add_test(t, test_png);
	return od_check_run(s);
}
