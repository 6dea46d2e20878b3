/* json.c - a small streaming JSON writer for --json output.
 *
 * Output must always parse, whatever bytes a descriptor contained, so
 * strings are escaped per RFC 8259 and invalid UTF-8 becomes U+FFFD. */
#include "config.h"
#include "cli/cli.h"

#include <inttypes.h>
#include <string.h>

void json_init(json_w *w, FILE *f)
{
	memset(w, 0, sizeof *w);
	w->f = f;
}

static void put_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', f);
	while (*p) {
		unsigned c = *p;
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc((int)c, f);
			p++;
		} else if (c < 0x20) {
			switch (c) {
			case '\n': fputs("\\n", f); break;
			case '\r': fputs("\\r", f); break;
			case '\t': fputs("\\t", f); break;
			default: fprintf(f, "\\u%04x", c);
			}
			p++;
		} else if (c < 0x80) {
			fputc((int)c, f);
			p++;
		} else {
			/* validate one UTF-8 sequence */
			int n = (c >= 0xc2 && c <= 0xdf) ? 2 : (c >= 0xe0 && c <= 0xef) ? 3 : (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
			bool ok = n > 0;
			for (int k = 1; ok && k < n; k++)
				ok = (p[k] & 0xc0) == 0x80;
			if (ok && n == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f)))
				ok = false;
			if (ok && n == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f)))
				ok = false;
			if (ok) {
				fwrite(p, 1, (size_t)n, f);
				p += n;
			} else {
				fputs("\\ufffd", f);
				p++;
			}
		}
	}
	fputc('"', f);
}

static void prefix(json_w *w, const char *key)
{
	if (w->depth > 0 && w->depth < 64) {
		if (w->need_comma[w->depth])
			fputc(',', w->f);
		w->need_comma[w->depth] = true;
		fputc('\n', w->f);
		for (int i = 0; i < w->depth; i++)
			fputs("  ", w->f);
	}
	if (key) {
		put_string(w->f, key);
		fputs(": ", w->f);
	}
}

static void open_(json_w *w, const char *key, char c)
{
	prefix(w, key);
	fputc(c, w->f);
	w->depth++;
	if (w->depth < 64)
		w->need_comma[w->depth] = false;
}

static void close_(json_w *w, char c)
{
	bool had = w->depth < 64 && w->need_comma[w->depth];
	w->depth--;
	if (had) {
		fputc('\n', w->f);
		for (int i = 0; i < w->depth; i++)
			fputs("  ", w->f);
	}
	fputc(c, w->f);
}

void json_obj_begin(json_w *w, const char *key) { open_(w, key, '{'); }
void json_obj_end(json_w *w) { close_(w, '}'); }
void json_arr_begin(json_w *w, const char *key) { open_(w, key, '['); }
void json_arr_end(json_w *w) { close_(w, ']'); }

void json_str(json_w *w, const char *key, const char *val)
{
	prefix(w, key);
	if (val)
		put_string(w->f, val);
	else
		fputs("null", w->f);
}

void json_int(json_w *w, const char *key, int64_t v)
{
	prefix(w, key);
	fprintf(w->f, "%" PRId64, v);
}

void json_uint(json_w *w, const char *key, uint64_t v)
{
	prefix(w, key);
	fprintf(w->f, "%" PRIu64, v);
}

void json_bool(json_w *w, const char *key, bool v)
{
	prefix(w, key);
	fputs(v ? "true" : "false", w->f);
}

void json_null(json_w *w, const char *key)
{
	prefix(w, key);
	fputs("null", w->f);
}

void json_finish(json_w *w)
{
	fputc('\n', w->f);
	fflush(w->f);
}
