/* image.c - writing a screen picture: PNG (libpng) and PPM. */
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
