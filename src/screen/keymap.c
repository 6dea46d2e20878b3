/* keymap.c - typing text on a US keyboard: which key (Linux input event
 * code, the set libvirt's virDomainSendKey and QEMU's input layer take)
 * and whether Shift goes with it, for each character `sendkeys` accepts.
 * The RFB client types X11 keysyms instead, but asks here about Shift, so
 * both paths agree on the layout. */
#include "config.h"
#include "screen/screen.h"

#include <string.h>

/* The US layout's rows, unshifted and shifted, and their first key code. */
static const struct row {
	const char *plain, *shifted;
	unsigned first;
} rows[] = {
	{"1234567890-=", "!@#$%^&*()_+", 2},
	{"qwertyuiop[]", "QWERTYUIOP{}", 16},
	{"asdfghjkl;'`", "ASDFGHJKL:\"~", 30},
	{"\\zxcvbnm,./", "|ZXCVBNM<>?", 43},
};

int screen_keycode(unsigned char ch, unsigned *code, bool *shift)
{
	*shift = false;
	switch (ch) {
	case 0x1b: *code = 1; return 0;   /* Escape */
	case '\b': *code = 14; return 0;  /* BackSpace */
	case '\t': *code = 15; return 0;  /* Tab */
	case '\n': *code = 28; return 0;  /* Return */
	case ' ': *code = 57; return 0;
	default: break;
	}
	if (ch == 0 || ch >= 0x7f)
		return -1;
	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		const char *p = strchr(rows[r].plain, ch);
		if (p) {
			*code = rows[r].first + (unsigned)(p - rows[r].plain);
			return 0;
		}
		if ((p = strchr(rows[r].shifted, ch)) != NULL) {
			*code = rows[r].first + (unsigned)(p - rows[r].shifted);
			*shift = true;
			return 0;
		}
	}
	return -1;
}
