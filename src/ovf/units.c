/*
 * units.c - DSP0004 programmatic units ("byte * 2^20", "hertz * 10^6") and
 * exact integer parsing.
 *
 * A unit string is a base unit followed by multipliers: "byte", "byte*2^30",
 * "byte * 1024", "hertz * 10^6".  Everything is kept in exact 64-bit
 * integers: a capacity of 2^64 bytes or more is an error, never a silently
 * wrapped number that would make us allocate the wrong size.
 *
 * Real descriptors also carry spellings no standard defines ("MegaBytes",
 * "MB", "GB", "KiloBytes", "byte * 2 ^ 20").  ovftool accepts them, so do we,
 * but *nonstandard tells the caller to warn.  Byte multiples are binary
 * (MB = 2^20): that is what the tools that write them mean.
 */
#include "config.h"
#include "ovf/ovf.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

int ovf_parse_u64(const char *s, uint64_t *out)
{
	if (!s)
		return -1;
	s = skip_ws(s);
	if (*s == '+')
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	uint64_t v = 0;
	while (isdigit((unsigned char)*s)) {
		if (!od_mul_u64(v, 10, &v) || !od_add_u64(v, (uint64_t)(*s - '0'), &v))
			return -1;
		s++;
	}
	s = skip_ws(s);
	if (*s)
		return -1;
	*out = v;
	return 0;
}

int ovf_parse_i64(const char *s, int64_t *out)
{
	if (!s)
		return -1;
	s = skip_ws(s);
	bool neg = false;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	uint64_t v;
	if (!isdigit((unsigned char)*s) || ovf_parse_u64(s, &v) < 0)
		return -1;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return -1;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX)
			return -1;
		*out = (int64_t)v;
	}
	return 0;
}

static bool pow_u64(uint64_t base, uint64_t exp, uint64_t *out)
{
	uint64_t r = 1;
	for (uint64_t i = 0; i < exp; i++)
		if (!od_mul_u64(r, base, &r))
			return false;
	*out = r;
	return true;
}

/* Names real descriptors use instead of programmatic units. */
static const struct {
	const char *name;
	enum ovf_unit_base base;
	uint64_t mult;
} aliases[] = {
	{"bytes", OVF_UNIT_BYTE, 1},
	{"B", OVF_UNIT_BYTE, 1},
	{"KB", OVF_UNIT_BYTE, 1ull << 10},
	{"KiB", OVF_UNIT_BYTE, 1ull << 10},
	{"KiloBytes", OVF_UNIT_BYTE, 1ull << 10},
	{"KiloByte", OVF_UNIT_BYTE, 1ull << 10},
	{"MB", OVF_UNIT_BYTE, 1ull << 20},
	{"MiB", OVF_UNIT_BYTE, 1ull << 20},
	{"MegaBytes", OVF_UNIT_BYTE, 1ull << 20},
	{"MegaByte", OVF_UNIT_BYTE, 1ull << 20},
	{"GB", OVF_UNIT_BYTE, 1ull << 30},
	{"GiB", OVF_UNIT_BYTE, 1ull << 30},
	{"GigaBytes", OVF_UNIT_BYTE, 1ull << 30},
	{"GigaByte", OVF_UNIT_BYTE, 1ull << 30},
	{"TB", OVF_UNIT_BYTE, 1ull << 40},
	{"TiB", OVF_UNIT_BYTE, 1ull << 40},
	{"TeraBytes", OVF_UNIT_BYTE, 1ull << 40},
	{"Hz", OVF_UNIT_HERTZ, 1},
	{"KHz", OVF_UNIT_HERTZ, 1000},
	{"MHz", OVF_UNIT_HERTZ, 1000000},
	{"GHz", OVF_UNIT_HERTZ, 1000000000},
};

int ovf_units_parse(const char *s, enum ovf_unit_base *base, uint64_t *mult, bool *nonstandard, od_err *e)
{
	bool odd = false;
	if (!s)
		return od_err_set(e, OD_E_INVALID, "no unit");
	const char *p = skip_ws(s);
	if (p != s)
		odd = true;
	/* base unit: letters */
	const char *b = p;
	while (isalpha((unsigned char)*p))
		p++;
	size_t bl = (size_t)(p - b);
	if (!bl)
		return od_err_set(e, OD_E_INVALID, "unit '%s' does not start with a unit name (byte, hertz...)", s);
	enum ovf_unit_base bs = OVF_UNIT_NONE;
	uint64_t m = 1;
	if (bl == 4 && !strncmp(b, "byte", 4))
		bs = OVF_UNIT_BYTE;
	else if (bl == 3 && !strncmp(b, "bit", 3))
		bs = OVF_UNIT_BIT;
	else if (bl == 5 && !strncmp(b, "hertz", 5))
		bs = OVF_UNIT_HERTZ;
	else if (bl == 5 && !strncmp(b, "count", 5))
		bs = OVF_UNIT_COUNT;
	else if (bl == 4 && !strncasecmp(b, "byte", 4)) {
		bs = OVF_UNIT_BYTE;
		odd = true;
	} else if (bl == 5 && !strncasecmp(b, "hertz", 5)) {
		/* "Hertz*10^9" is common in exported descriptors. */
		bs = OVF_UNIT_HERTZ;
		odd = true;
	} else {
		for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
			if (strlen(aliases[i].name) == bl && !strncasecmp(b, aliases[i].name, bl)) {
				bs = aliases[i].base;
				m = aliases[i].mult;
				odd = true;
				break;
			}
		}
		if (bs == OVF_UNIT_NONE)
			return od_err_set(e, OD_E_INVALID, "unknown unit '%.*s' in '%s'", (int)bl, b, s);
	}
	/* multipliers: ( '*' INT [ '^' INT ] )* */
	for (;;) {
		const char *q = skip_ws(p);
		if (!*q)
			break;
		if (*q != '*')
			return od_err_set(e, OD_E_INVALID, "unexpected '%s' in unit '%s' (expected '* 2^N' or '* 10^N')",
					  q, s);
		q = skip_ws(q + 1);
		if (!isdigit((unsigned char)*q))
			return od_err_set(e, OD_E_INVALID, "expected a number after '*' in unit '%s'", s);
		uint64_t f = 0;
		while (isdigit((unsigned char)*q)) {
			if (!od_mul_u64(f, 10, &f) || !od_add_u64(f, (uint64_t)(*q - '0'), &f))
				return od_err_set(e, OD_E_INVALID, "number too large in unit '%s'", s);
			q++;
		}
		const char *r = q;
		if (*r == ' ' || *r == '\t') {
			r = skip_ws(r);
			if (*r == '^')
				odd = true; /* "2 ^ 20" */
			else
				r = q;
		}
		if (*r == '^') {
			r++;
			if (*r == ' ' || *r == '\t') {
				odd = true;
				r = skip_ws(r);
			}
			if (!isdigit((unsigned char)*r))
				return od_err_set(e, OD_E_INVALID, "expected an exponent after '^' in unit '%s'", s);
			uint64_t x = 0;
			while (isdigit((unsigned char)*r)) {
				if (!od_mul_u64(x, 10, &x) || !od_add_u64(x, (uint64_t)(*r - '0'), &x) || x > 64)
					return od_err_set(e, OD_E_INVALID, "exponent too large in unit '%s'", s);
				r++;
			}
			if (!pow_u64(f, x, &f))
				return od_err_set(e, OD_E_INVALID, "unit '%s' is larger than 2^64", s);
			q = r;
		}
		if (f == 0)
			return od_err_set(e, OD_E_INVALID, "unit '%s' multiplies by zero", s);
		if (!od_mul_u64(m, f, &m))
			return od_err_set(e, OD_E_INVALID, "unit '%s' is larger than 2^64", s);
		p = q;
	}
	*base = bs;
	*mult = m;
	if (nonstandard)
		*nonstandard = odd;
	return 0;
}

int ovf_bytes(const char *value, const char *units, uint64_t *out, od_err *e)
{
	uint64_t v;
	if (ovf_parse_u64(value, &v) < 0)
		return od_err_set(e, OD_E_INVALID, "'%s' is not a non-negative integer", value ? value : "");
	uint64_t m = 1;
	if (units) {
		enum ovf_unit_base b;
		if (ovf_units_parse(units, &b, &m, NULL, e) < 0)
			return -1;
		if (b == OVF_UNIT_BIT) {
			/* bits are fine when they make whole bytes */
			uint64_t bits;
			if (!od_mul_u64(v, m, &bits))
				return od_err_set(e, OD_E_INVALID, "%s %s is larger than 2^64 bits", value, units);
			if (bits % 8)
				return od_err_set(e, OD_E_INVALID, "%s %s is not a whole number of bytes", value, units);
			*out = bits / 8;
			return 0;
		}
		if (b != OVF_UNIT_BYTE)
			return od_err_set(e, OD_E_INVALID, "unit '%s' is not a unit of bytes", units);
	}
	if (!od_mul_u64(v, m, out))
		return od_err_set(e, OD_E_INVALID, "%s %s is larger than 2^64 bytes", value, units ? units : "bytes");
	return 0;
}
