/* keymap.c - typing text on a US keyboard: which key and whether Shift
 * goes with it, for each character we type.  For these keys a Linux input
 * event code (what libvirt's virDomainSendKey takes) is also the PC's scan
 * code set 1 make code (what the runner's i8042 sends), so one table serves
 * `sendkeys --connect`, the RFB client's Shift and the runner's VNC keys. */
#include "config.h"
#include "util/util.h"

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

int od_us_key(unsigned char ch, unsigned *code, bool *shift)
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
