/* str.c - strings, buffers and size parsing.  See util.h. */
#include "config.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *od_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *od_strndup(const char *s, size_t n)
{
	return s ? strndup(s, n) : NULL;
}

char *od_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *out = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&out, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : out;
}

void od_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int buf_reserve(od_buf *b, size_t extra)
{
	size_t need;
	if (!od_add_size(b->len, extra, &need) || !od_add_size(need, 1, &need))
		return -1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need) {
		if (!od_mul_size(cap, 2, &cap))
			return -1;
	}
	char *p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int od_buf_append(od_buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int od_buf_puts(od_buf *b, const char *s)
{
	return od_buf_append(b, s, strlen(s));
}

int od_buf_printf(od_buf *b, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0) {
		va_end(ap2);
		return -1;
	}
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	b->len += (size_t)n;
	return 0;
}

void od_buf_free(od_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int od_parse_size(const char *s, uint64_t *out, od_err *e)
{
	const char *p = s;
	uint64_t v = 0;
	if (!s || !isdigit((unsigned char)*p))
		return od_err_set(e, OD_E_USAGE, "'%s' is not a size (expected a number with an optional K, M, G or T suffix)", s ? s : "");
	while (isdigit((unsigned char)*p)) {
		if (!od_mul_u64(v, 10, &v) || !od_add_u64(v, (uint64_t)(*p - '0'), &v))
			return od_err_set(e, OD_E_USAGE, "size '%s' is too large", s);
		p++;
	}
	unsigned shift = 0;
	switch (toupper((unsigned char)*p)) {
	case '\0': break;
	case 'B': shift = 0; p++; break;
	case 'K': shift = 10; p++; break;
	case 'M': shift = 20; p++; break;
	case 'G': shift = 30; p++; break;
	case 'T': shift = 40; p++; break;
	default:
		return od_err_set(e, OD_E_USAGE, "'%s' is not a size (expected a number with an optional K, M, G or T suffix)", s);
	}
	/* accept "M", "MB", "MiB" alike: all binary */
	if (shift && (strcmp(p, "iB") == 0 || strcmp(p, "ib") == 0 || strcmp(p, "B") == 0 || strcmp(p, "b") == 0))
		p += strlen(p);
	if (*p)
		return od_err_set(e, OD_E_USAGE, "'%s' is not a size (trailing '%s')", s, p);
	if (shift && v > (UINT64_MAX >> shift))
		return od_err_set(e, OD_E_USAGE, "size '%s' is too large", s);
	*out = v << shift;
	return 0;
}
