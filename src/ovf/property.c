/*
 * property.c - ProductSection property types and qualifiers.
 *
 * The same check serves validate (is the default legal?) and deploy (is the
 * value the user gave legal?), so a value validate accepted is one deploy
 * accepts too.
 *
 * Types are the OVF ones (DSP0243 table: uint8..sint64, boolean, string,
 * real32, real64).  VMware's vApp types ("int", "real", "password", "ip",
 * "ip:NETWORK", "expression") occur in real descriptors and ovftool takes
 * them, so we do, mapping them onto the nearest OVF type.  Qualifiers:
 * MinLen(n), MaxLen(n), MinValue(n), MaxValue(n), ValueMap{"a","b","1..5"}.
 * Others (VMware's Ip(...), Dns, ...) carry meaning for a vCenter, not for a
 * value check; they are ignored here and validate warns about them.
 */
#include "config.h"
#include "ovf/ovf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum ptype {
	PT_NONE = 0,
	PT_U8, PT_S8, PT_U16, PT_S16, PT_U32, PT_S32, PT_U64, PT_S64,
	PT_BOOL, PT_STRING, PT_REAL32, PT_REAL64,
};

static const struct {
	const char *name;
	enum ptype t;
	bool standard;
} types[] = {
	{"uint8", PT_U8, true}, {"sint8", PT_S8, true}, {"uint16", PT_U16, true},
	{"sint16", PT_S16, true}, {"uint32", PT_U32, true}, {"sint32", PT_S32, true},
	{"uint64", PT_U64, true}, {"sint64", PT_S64, true}, {"boolean", PT_BOOL, true},
	{"string", PT_STRING, true}, {"real32", PT_REAL32, true}, {"real64", PT_REAL64, true},
	/* VMware vApp property types */
	{"int", PT_S64, false}, {"real", PT_REAL64, false}, {"password", PT_STRING, false},
	{"ip", PT_STRING, false}, {"expression", PT_STRING, false},
};

static enum ptype type_of(const char *name, bool *standard)
{
	if (!name)
		return PT_NONE;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (!strcmp(types[i].name, name)) {
			if (standard)
				*standard = types[i].standard;
			return types[i].t;
		}
	if (!strncmp(name, "ip:", 3)) {
		if (standard)
			*standard = false;
		return PT_STRING;
	}
	/* "Boolean", "String": not OVF's spelling, but unambiguous. */
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (!strcasecmp(types[i].name, name)) {
			if (standard)
				*standard = false;
			return types[i].t;
		}
	return PT_NONE;
}

bool ovf_property_type_known(const char *type)
{
	return type_of(type, NULL) != PT_NONE;
}

bool ovf_property_type_standard(const char *type)
{
	bool std = false;
	return type_of(type, &std) != PT_NONE && std;
}

static bool is_int_type(enum ptype t)
{
	return t >= PT_U8 && t <= PT_S64;
}

static bool is_signed(enum ptype t)
{
	return t == PT_S8 || t == PT_S16 || t == PT_S32 || t == PT_S64;
}

static void int_range(enum ptype t, int64_t *smin, int64_t *smax, uint64_t *umax)
{
	switch (t) {
	case PT_U8: *umax = UINT8_MAX; break;
	case PT_U16: *umax = UINT16_MAX; break;
	case PT_U32: *umax = UINT32_MAX; break;
	case PT_U64: *umax = UINT64_MAX; break;
	case PT_S8: *smin = INT8_MIN; *smax = INT8_MAX; break;
	case PT_S16: *smin = INT16_MIN; *smax = INT16_MAX; break;
	case PT_S32: *smin = INT32_MIN; *smax = INT32_MAX; break;
	default: *smin = INT64_MIN; *smax = INT64_MAX; break;
	}
}

static int parse_real(const char *s, double *out)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	while (*end && isspace((unsigned char)*end))
		end++;
	if (*end || errno == ERANGE || !isfinite(d))
		return -1;
	/* strtod takes "nan", "inf", hex floats: none is an xs:float. */
	for (const char *p = s; *p; p++)
		if (isalpha((unsigned char)*p) && *p != 'e' && *p != 'E')
			return -1;
	*out = d;
	return 0;
}

/* A number of the property's kind as a double for comparisons with
 * MinValue/MaxValue; integers compare exactly through this path up to 2^53,
 * and beyond that we compare as integers (below). */
struct num {
	bool is_int, neg;
	uint64_t mag;  /* |value| for integers */
	double d;
};

static int parse_num(const char *s, bool integer, struct num *n)
{
	memset(n, 0, sizeof *n);
	if (integer) {
		int64_t v;
		uint64_t u;
		n->is_int = true;
		if (ovf_parse_u64(s, &u) == 0) {
			n->mag = u;
			n->d = (double)u;
			return 0;
		}
		if (ovf_parse_i64(s, &v) == 0) {
			n->neg = v < 0;
			n->mag = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
			n->d = (double)v;
			return 0;
		}
		return -1;
	}
	return parse_real(s, &n->d);
}

static int num_cmp(const struct num *a, const struct num *b)
{
	if (a->is_int && b->is_int) {
		if (a->neg != b->neg)
			return a->neg ? -1 : 1;
		int c = a->mag < b->mag ? -1 : a->mag > b->mag;
		return a->neg ? -c : c;
	}
	return a->d < b->d ? -1 : a->d > b->d;
}

/* Code points in a UTF-8 string (the descriptor was checked for UTF-8). */
static size_t u8len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

int ovf_property_check_type(const char *type, const char *value, od_err *e)
{
	enum ptype t = type_of(type, NULL);
	if (t == PT_NONE)
		return od_err_set(e, OD_E_INVALID, "unknown property type '%s'", type ? type : "(none)");
	if (!value)
		return od_err_set(e, OD_E_INVALID, "no value");
	if (is_int_type(t)) {
		int64_t smin = 0, smax = 0, v;
		uint64_t umax = 0, u;
		int_range(t, &smin, &smax, &umax);
		if (is_signed(t)) {
			if (ovf_parse_i64(value, &v) < 0 || v < smin || v > smax)
				return od_err_set(e, OD_E_INVALID, "'%s' is not a %s (an integer from %lld to %lld)", value,
						  type, (long long)smin, (long long)smax);
		} else {
			if (ovf_parse_u64(value, &u) < 0 || u > umax)
				return od_err_set(e, OD_E_INVALID, "'%s' is not a %s (an integer from 0 to %llu)", value,
						  type, (unsigned long long)umax);
		}
		return 0;
	}
	if (t == PT_BOOL) {
		if (!strcasecmp(value, "true") || !strcasecmp(value, "false") || !strcmp(value, "1") ||
		    !strcmp(value, "0"))
			return 0;
		return od_err_set(e, OD_E_INVALID, "'%s' is not a boolean (true or false)", value);
	}
	if (t == PT_REAL32 || t == PT_REAL64) {
		double d;
		if (parse_real(value, &d) < 0 || (t == PT_REAL32 && fabs(d) > 3.4028234663852886e38))
			return od_err_set(e, OD_E_INVALID, "'%s' is not a %s number", value, type);
		return 0;
	}
	return 0;
}

/* ---- qualifiers ---------------------------------------------------------- */

/* Calls fn(name, namelen, args, argslen, brace) for each qualifier in
 * `q`: "MinLen(1) MaxLen(64)", "ValueMap{\"a\", \"b\"}", separated by blanks
 * or commas.  Returns -1 on a syntax error. */
typedef int (*qual_fn)(void *ctx, const char *name, size_t nl, const char *args, size_t al, char brace);

static int each_qualifier(const char *q, qual_fn fn, void *ctx, od_err *e)
{
	const char *p = q;
	for (int guard = 0; guard < 1000; guard++) {
		while (*p && (isspace((unsigned char)*p) || *p == ','))
			p++;
		if (!*p)
			return 0;
		const char *name = p;
		while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-'))
			p++;
		size_t nl = (size_t)(p - name);
		if (!nl)
			return od_err_set(e, OD_E_INVALID, "qualifiers '%s': unexpected '%c'", q, *p);
		const char *args = NULL;
		size_t al = 0;
		char brace = 0;
		if (*p == '(' || *p == '{') {
			brace = *p;
			char close = brace == '(' ? ')' : '}';
			args = ++p;
			bool inq = false;
			while (*p && (inq || *p != close)) {
				if (*p == '"')
					inq = !inq;
				p++;
			}
			if (!*p)
				return od_err_set(e, OD_E_INVALID, "qualifiers '%s': '%c' is not closed", q, brace);
			al = (size_t)(p - args);
			p++;
		}
		int r = fn(ctx, name, nl, args, al, brace);
		if (r)
			return r;
	}
	return od_err_set(e, OD_E_INVALID, "qualifiers '%s': too many", q);
}

struct qcheck {
	enum ptype t;
	const char *type;
	const char *value;
	od_err *e;
	bool syntax_only;
	int unknown;           /* count of qualifiers we do not check */
	char first_unknown[64];
};

static bool qname(const char *name, size_t nl, const char *want)
{
	return strlen(want) == nl && !strncmp(name, want, nl);
}

static int parse_qarg_u64(const char *args, size_t al, uint64_t *out)
{
	char buf[32];
	if (!args || al == 0 || al >= sizeof buf)
		return -1;
	memcpy(buf, args, al);
	buf[al] = 0;
	return ovf_parse_u64(buf, out);
}

static int parse_qarg_num(const char *args, size_t al, bool integer, struct num *n)
{
	char buf[64];
	if (!args || al == 0 || al >= sizeof buf)
		return -1;
	memcpy(buf, args, al);
	buf[al] = 0;
	return parse_num(buf, integer, n);
}

/* One ValueMap entry ("a", 3, "1..5", "..") against the value. */
static bool valuemap_match(const struct qcheck *c, const char *ent, size_t el)
{
	if (strlen(c->value) == el && !strncmp(c->value, ent, el))
		return true;
	const char *dots = NULL;
	for (size_t i = 0; i + 1 < el; i++)
		if (ent[i] == '.' && ent[i + 1] == '.') {
			dots = ent + i;
			break;
		}
	if (!dots || !is_int_type(c->t))
		return false;
	/* "a..b", "..b", "a..", "..": an integer range */
	struct num v, lo, hi;
	if (parse_num(c->value, true, &v) < 0)
		return false;
	size_t ll = (size_t)(dots - ent), hl = el - ll - 2;
	if (ll && (parse_qarg_num(ent, ll, true, &lo) < 0 || num_cmp(&v, &lo) < 0))
		return false;
	if (hl && (parse_qarg_num(dots + 2, hl, true, &hi) < 0 || num_cmp(&v, &hi) > 0))
		return false;
	return true;
}

static int qual_one(void *ctx, const char *name, size_t nl, const char *args, size_t al, char brace)
{
	struct qcheck *c = ctx;
	bool integer = is_int_type(c->t);
	bool numeric = integer || c->t == PT_REAL32 || c->t == PT_REAL64;
	if (qname(name, nl, "MinLen") || qname(name, nl, "MaxLen")) {
		uint64_t n;
		if (brace != '(' || parse_qarg_u64(args, al, &n) < 0)
			return od_err_set(c->e, OD_E_INVALID, "qualifier %.*s needs a number in parentheses, e.g. %.*s(8)",
					  (int)nl, name, (int)nl, name);
		if (c->syntax_only)
			return 0;
		size_t len = u8len(c->value);
		if (qname(name, nl, "MinLen") && len < n)
			return od_err_set(c->e, OD_E_INVALID, "'%s' is %zu characters long, shorter than MinLen(%llu)",
					  c->value, len, (unsigned long long)n);
		if (qname(name, nl, "MaxLen") && len > n)
			return od_err_set(c->e, OD_E_INVALID, "'%.64s%s' is %zu characters long, longer than MaxLen(%llu)",
					  c->value, len > 64 ? "..." : "", len, (unsigned long long)n);
		return 0;
	}
	if (qname(name, nl, "MinValue") || qname(name, nl, "MaxValue")) {
		struct num lim, v;
		if (brace != '(' || parse_qarg_num(args, al, integer || !numeric, &lim) < 0) {
			/* A real bound on an integer type: compare as reals. */
			if (brace != '(' || parse_qarg_num(args, al, false, &lim) < 0)
				return od_err_set(c->e, OD_E_INVALID, "qualifier %.*s needs a number in parentheses",
						  (int)nl, name);
		}
		if (c->syntax_only || !numeric)
			return 0;
		if (parse_num(c->value, integer, &v) < 0)
			return od_err_set(c->e, OD_E_INVALID, "'%s' is not a number", c->value);
		if (lim.is_int != v.is_int) {
			v.is_int = lim.is_int = false;
		}
		if (qname(name, nl, "MinValue") && num_cmp(&v, &lim) < 0)
			return od_err_set(c->e, OD_E_INVALID, "%s is below MinValue(%.*s)", c->value, (int)al, args);
		if (qname(name, nl, "MaxValue") && num_cmp(&v, &lim) > 0)
			return od_err_set(c->e, OD_E_INVALID, "%s is above MaxValue(%.*s)", c->value, (int)al, args);
		return 0;
	}
	if (qname(name, nl, "ValueMap")) {
		if (brace != '{' && brace != '(')
			return od_err_set(c->e, OD_E_INVALID, "qualifier ValueMap needs a list: ValueMap{\"a\", \"b\"}");
		if (c->syntax_only)
			return 0;
		/* entries: "quoted" or bare, separated by commas */
		const char *p = args, *end = args + al;
		size_t n = 0;
		while (p < end) {
			while (p < end && (isspace((unsigned char)*p) || *p == ','))
				p++;
			if (p >= end)
				break;
			const char *ent;
			size_t el;
			if (*p == '"') {
				ent = ++p;
				while (p < end && *p != '"')
					p++;
				el = (size_t)(p - ent);
				if (p < end)
					p++;
			} else {
				ent = p;
				while (p < end && *p != ',' && !isspace((unsigned char)*p))
					p++;
				el = (size_t)(p - ent);
			}
			n++;
			if (valuemap_match(c, ent, el))
				return 0;
		}
		if (!n)
			return 0; /* an empty map constrains nothing */
		return od_err_set(c->e, OD_E_INVALID, "'%s' is not one of ValueMap{%.*s}", c->value, (int)al, args);
	}
	if (!c->unknown++)
		snprintf(c->first_unknown, sizeof c->first_unknown, "%.*s", (int)nl, name);
	return 0;
}

int ovf_qualifiers_check(const char *type, const char *qualifiers, int *unknown, char *first_unknown,
			 size_t fu_size, od_err *e)
{
	struct qcheck c = {.t = type_of(type, NULL), .type = type, .value = "", .e = e, .syntax_only = true};
	int r = qualifiers ? each_qualifier(qualifiers, qual_one, &c, e) : 0;
	if (unknown)
		*unknown = c.unknown;
	if (first_unknown && fu_size)
		snprintf(first_unknown, fu_size, "%s", c.first_unknown);
	return r ? -1 : 0;
}

int ovf_property_check_value(const struct ovf_property *p, const char *value, od_err *e)
{
	if (ovf_property_check_type(p->type, value, e) < 0)
		goto fail;
	if (p->qualifiers) {
		struct qcheck c = {.t = type_of(p->type, NULL), .type = p->type, .value = value, .e = e};
		if (each_qualifier(p->qualifiers, qual_one, &c, e))
			goto fail;
	}
	return 0;
fail:
	od_err_prefix(e, "property '%s'", p->key ? p->key : "(no key)");
	return -1;
}

const char *ovf_property_value_for(const struct ovf_property *p, const char *config)
{
	if (config)
		for (size_t i = 0; i < p->nvalues; i++)
			if (p->values[i].configuration && ovf_config_applies(p->values[i].configuration, config))
				return p->values[i].value;
	return p->value;
}
