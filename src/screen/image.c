/* image.c - writing a screen picture: PNG (libpng) and PPM; reading the
 * binary PPM a hypervisor hands out (libvirt's screenshot of a QEMU domain). */
#include "config.h"
#include "screen/screen.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int check(const struct screen_image *img, od_err *e)
{
	if (!img->rgb || img->width == 0 || img->height == 0 || img->width > SCREEN_MAX_DIM ||
	    img->height > SCREEN_MAX_DIM)
		return od_err_set(e, OD_E_USAGE, "no picture to write");
	return 0;
}

/* One header field of a PPM: skip whitespace and '#' comments, then a
 * decimal number (at most 5 digits: nothing we accept is larger). */
static int ppm_field(const uint8_t *b, size_t len, size_t *at, unsigned *v)
{
	size_t i = *at;
	for (;;) {
		while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
			i++;
		if (i < len && b[i] == '#') {
			while (i < len && b[i] != '\n')
				i++;
			continue;
		}
		break;
	}
	unsigned n = 0, digits = 0;
	while (i < len && b[i] >= '0' && b[i] <= '9' && digits < 6)
		n = n * 10 + (unsigned)(b[i++] - '0'), digits++;
	if (digits == 0 || digits > 5)
		return -1;
	*v = n, *at = i;
	return 0;
}

int screen_image_from_ppm(const void *data, size_t len, struct screen_image *img, od_err *e)
{
	const uint8_t *b = data;
	memset(img, 0, sizeof *img);
	unsigned w, h, maxval;
	size_t at = 2;
	if (len < 2 || b[0] != 'P' || b[1] != '6')
		return od_err_set(e, OD_E_INVALID, "not a binary PPM picture (no P6 signature)");
	if (ppm_field(b, len, &at, &w) < 0 || ppm_field(b, len, &at, &h) < 0 || ppm_field(b, len, &at, &maxval) < 0 ||
	    at >= len)
		return od_err_set(e, OD_E_INVALID, "PPM picture: a damaged header");
	if (w == 0 || h == 0 || w > SCREEN_MAX_DIM || h > SCREEN_MAX_DIM)
		return od_err_set(e, OD_E_INVALID, "PPM picture: %ux%u is not a screen (at most %u on a side)", w, h,
				  SCREEN_MAX_DIM);
	if (maxval != 255)
		return od_err_set(e, OD_E_UNSUPPORTED, "PPM picture: %u levels per colour (only 255 is read)", maxval);
	at++; /* the one whitespace byte after maxval */
	size_t need = (size_t)w * h * 3;
	if (len - at != need)
		return od_err_set(e, OD_E_INVALID, "PPM picture: %zu bytes of pixels for %ux%u (%zu expected)", len - at,
				  w, h, need);
	if (!(img->rgb = malloc(need)))
		return od_err_nomem(e);
	memcpy(img->rgb, b + at, need);
	img->width = w, img->height = h;
	return 0;
}

int screen_image_from_png(const void *data, size_t len, struct screen_image *img, od_err *e)
{
	memset(img, 0, sizeof *img);
	png_image pi;
	memset(&pi, 0, sizeof pi);
	pi.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&pi, data, len))
		return od_err_set(e, OD_E_INVALID, "PNG picture: %s", pi.message);
	/* the size is checked before anything is allocated for it */
	if (pi.width == 0 || pi.height == 0 || pi.width > SCREEN_MAX_DIM || pi.height > SCREEN_MAX_DIM) {
		png_image_free(&pi);
		return od_err_set(e, OD_E_INVALID, "PNG picture: %ux%u is not a screen (at most %u on a side)",
				  (unsigned)pi.width, (unsigned)pi.height, SCREEN_MAX_DIM);
	}
	pi.format = PNG_FORMAT_RGB;
	size_t need = (size_t)pi.width * pi.height * 3;
	if (!(img->rgb = malloc(need))) {
		png_image_free(&pi);
		return od_err_nomem(e);
	}
	if (!png_image_finish_read(&pi, NULL, img->rgb, 0, NULL)) {
		free(img->rgb);
		img->rgb = NULL;
		return od_err_set(e, OD_E_INVALID, "PNG picture: %s", pi.message);
	}
	img->width = pi.width, img->height = pi.height;
	return 0;
}

int screen_write_ppm(const char *path, const struct screen_image *img, od_err *e)
{
	if (check(img, e) < 0)
		return -1;
	od_atomic_file af;
	if (od_atomic_open(&af, path, 0644, e) < 0)
		return -1;
	char hdr[64];
	int n = snprintf(hdr, sizeof hdr, "P6\n%u %u\n255\n", img->width, img->height);
	if (od_write_all(af.fd, hdr, (size_t)n, path, e) < 0 ||
	    od_write_all(af.fd, img->rgb, (size_t)img->width * img->height * 3, path, e) < 0) {
		od_atomic_abort(&af);
		return -1;
	}
	return od_atomic_commit(&af, e);
}

struct png_ctx {
	int fd;
	const char *path;
	od_err *e;
	bool failed;
};

static void png_write_cb(png_structp p, png_bytep data, size_t len)
{
	struct png_ctx *x = png_get_io_ptr(p);
	if (!x->failed && od_write_all(x->fd, data, len, x->path, x->e) < 0)
		x->failed = true;
}

static void png_flush_cb(png_structp p)
{
	(void)p;
}

static void png_error_cb(png_structp p, png_const_charp msg)
{
	struct png_ctx *x = png_get_error_ptr(p);
	if (!x->failed)
		od_err_set(x->e, OD_E_INTERNAL, "%s: libpng: %s", x->path, msg);
	x->failed = true;
	png_longjmp(p, 1);
}

static void png_warn_cb(png_structp p, png_const_charp msg)
{
	(void)p;
	(void)msg;
}

int screen_write_png(const char *path, const struct screen_image *img, od_err *e)
{
	if (check(img, e) < 0)
		return -1;
	od_atomic_file af;
	if (od_atomic_open(&af, path, 0644, e) < 0)
		return -1;
	struct png_ctx x = {.fd = af.fd, .path = path, .e = e};
	png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, &x, png_error_cb, png_warn_cb);
	png_infop info = p ? png_create_info_struct(p) : NULL;
	if (!p || !info) {
		png_destroy_write_struct(&p, NULL);
		od_atomic_abort(&af);
		return od_err_nomem(e);
	}
	/* volatile: read after a longjmp out of libpng */
	volatile unsigned y = 0;
	if (setjmp(png_jmpbuf(p)) == 0) {
		png_set_write_fn(p, &x, png_write_cb, png_flush_cb);
		png_set_IHDR(p, info, img->width, img->height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
			     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
		png_set_compression_level(p, 6);
		png_write_info(p, info);
		for (y = 0; y < img->height && !x.failed; y++)
			png_write_row(p, img->rgb + (size_t)y * img->width * 3);
		if (!x.failed)
			png_write_end(p, info);
	} else {
		x.failed = true;
	}
	png_destroy_write_struct(&p, &info);
	if (x.failed) {
		od_atomic_abort(&af);
		return -1;
	}
	return od_atomic_commit(&af, e);
}
