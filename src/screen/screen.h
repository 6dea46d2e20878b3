/*
 * screen.h - a virtual machine's screen from outside: a small RFB (VNC)
 * client that captures the framebuffer and types keys, and image writers
 * (PNG through libpng, binary PPM), and readers of the pictures a
 * hypervisor hands out (PNG, PPM).
 *
 * The server is hostile input like any other: every size it sends is
 * checked and bounded (SCREEN_MAX_DIM), every read has a deadline, and a
 * message we do not understand ends the session with an error.  This
 * library knows nothing of instances or the CLI.
 */
#ifndef OD_SCREEN_H
#define OD_SCREEN_H

#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

#define SCREEN_MAX_DIM 8192     /* widest/tallest framebuffer accepted */

struct screen_image {
	unsigned width, height;
	uint8_t *rgb;           /* width * height * 3 bytes, rows top to bottom */
};
void screen_image_free(struct screen_image *img);

typedef struct rfb_client rfb_client;
/* Connect and complete the RFB 3.8 (or 3.3/3.7) handshake.  A password is
 * needed when the server asks for VNC authentication (at most 8 bytes are
 * used, as the protocol defines).  timeout_ms bounds each wait. */
rfb_client *rfb_open_unix(const char *path, const char *password, unsigned timeout_ms, od_err *e);
rfb_client *rfb_open_tcp(const char *host, unsigned port, const char *password, unsigned timeout_ms, od_err *e);
void rfb_close(rfb_client *c);
/* The desktop's size and name as the server announced them. */
void rfb_info(const rfb_client *c, unsigned *width, unsigned *height, const char **name);
/* A full picture of the screen (a non-incremental update, every pixel). */
int rfb_capture(rfb_client *c, struct screen_image *img, od_err *e);
/* One key press or release, by X11 keysym (RFB KeyEvent). */
int rfb_key(rfb_client *c, uint32_t keysym, bool down, od_err *e);
/* Type text on a US keyboard: printable ASCII, '\n' (Return), '\t' (Tab),
 * '\b' (BackSpace), 0x1b (Escape); Shift is pressed around the characters
 * that need it.  Anything else is refused before a key is sent. */
int rfb_type(rfb_client *c, const char *text, od_err *e);

/* Write an image, temp file + rename.  PNG: 8-bit RGB.  PPM: P6. */
int screen_write_png(const char *path, const struct screen_image *img, od_err *e);
int screen_write_ppm(const char *path, const struct screen_image *img, od_err *e);
/* A binary PPM (P6, 255 levels) of LEN bytes into IMG: hostile input, its
 * size bounded by SCREEN_MAX_DIM and checked against LEN exactly. */
int screen_image_from_ppm(const void *data, size_t len, struct screen_image *img, od_err *e);
/* The same for a PNG (any depth and colour type, made 8-bit RGB). */
int screen_image_from_png(const void *data, size_t len, struct screen_image *img, od_err *e);

#endif
