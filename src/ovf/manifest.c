/* manifest.c - digests (OpenSSL EVP), manifest (.mf) reading and writing,
 * and the warning lists the package code shares. */
#include "config.h"
#include "ovf/ovf.h"
#include "ovf/pkg_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* ---- warnings ------------------------------------------------------------- */

int ovf_warn(struct ovf_warnings *w, const char *fmt, ...)
{
	if (!w)
		return 0;
	/* A hostile package could make us warn per member; the member cap
	 * bounds that, and this cap bounds everything else. */
	if (w->n >= 4 * OVF_MEMBERS_MAX)
		return 0;
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -1;
	char **nv = realloc(w->v, (w->n + 1) * sizeof *nv);
	if (!nv) {
		free(s);
		return -1;
	}
	w->v = nv;
	w->v[w->n++] = s;
	return 0;
}

void ovf_warnings_free(struct ovf_warnings *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	w->v = NULL;
	w->n = 0;
}

/* ---- digests -------------------------------------------------------------- */

const char *ovf_digest_name(enum ovf_digest_alg a)
{
	switch (a) {
	case OVF_DIGEST_SHA1: return "SHA1";
	case OVF_DIGEST_SHA256: return "SHA256";
	case OVF_DIGEST_SHA512: return "SHA512";
	default: return "NONE";
	}
}

size_t ovf_digest_len(enum ovf_digest_alg a)
{
	switch (a) {
	case OVF_DIGEST_SHA1: return 20;
	case OVF_DIGEST_SHA256: return 32;
	case OVF_DIGEST_SHA512: return 64;
	default: return 0;
	}
}

enum ovf_digest_alg ovf_digest_from_name(const char *s)
{
	if (!s)
		return OVF_DIGEST_NONE;
	if (!strcasecmp(s, "sha1") || !strcasecmp(s, "sha-1"))
		return OVF_DIGEST_SHA1;
	if (!strcasecmp(s, "sha256") || !strcasecmp(s, "sha-256") || !strcasecmp(s, "sha2-256"))
		return OVF_DIGEST_SHA256;
	if (!strcasecmp(s, "sha512") || !strcasecmp(s, "sha-512") || !strcasecmp(s, "sha2-512"))
		return OVF_DIGEST_SHA512;
	return OVF_DIGEST_NONE;
}

static const EVP_MD *evp_md(enum ovf_digest_alg a)
{
	switch (a) {
	case OVF_DIGEST_SHA1: return EVP_sha1();
	case OVF_DIGEST_SHA256: return EVP_sha256();
	case OVF_DIGEST_SHA512: return EVP_sha512();
	default: return NULL;
	}
}

struct ovf_hasher {
	EVP_MD_CTX *ctx[4]; /* indexed by alg */
};

ovf_hasher *ovf_hasher_new(unsigned algs, od_err *e)
{
	ovf_hasher *h = calloc(1, sizeof *h);
	if (!h) {
		od_err_nomem(e);
		return NULL;
	}
	for (int a = OVF_DIGEST_SHA1; a <= OVF_DIGEST_SHA512; a++) {
		if (!(algs & (1u << a)))
			continue;
		h->ctx[a] = EVP_MD_CTX_new();
		if (!h->ctx[a] || !EVP_DigestInit_ex(h->ctx[a], evp_md(a), NULL)) {
			ovf_hasher_free(h);
			od_err_set(e, OD_E_INTERNAL, "cannot start a %s digest", ovf_digest_name(a));
			return NULL;
		}
	}
	return h;
}

int ovf_hasher_update(ovf_hasher *h, const void *p, size_t n, od_err *e)
{
	for (int a = OVF_DIGEST_SHA1; a <= OVF_DIGEST_SHA512; a++)
		if (h->ctx[a] && !EVP_DigestUpdate(h->ctx[a], p, n))
			return od_err_set(e, OD_E_INTERNAL, "%s digest update failed", ovf_digest_name(a));
	return 0;
}

int ovf_hasher_final(ovf_hasher *h, enum ovf_digest_alg alg, unsigned char *out, od_err *e)
{
	if (alg < OVF_DIGEST_SHA1 || alg > OVF_DIGEST_SHA512 || !h->ctx[alg])
		return od_err_set(e, OD_E_INTERNAL, "digest %s was not computed", ovf_digest_name(alg));
	unsigned int len = 0;
	if (!EVP_DigestFinal_ex(h->ctx[alg], out, &len) || len != ovf_digest_len(alg))
		return od_err_set(e, OD_E_INTERNAL, "%s digest final failed", ovf_digest_name(alg));
	EVP_MD_CTX_free(h->ctx[alg]);
	h->ctx[alg] = NULL;
	return 0;
}

void ovf_hasher_free(ovf_hasher *h)
{
	if (!h)
		return;
	for (int a = 0; a < 4; a++)
		EVP_MD_CTX_free(h->ctx[a]);
	free(h);
}

/* ---- manifests ------------------------------------------------------------ */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Split one line (without its end) "ALG(name)= hex" into its parts, without
 * judging the length of the hex (a .cert's signature line uses the same
 * syntax with a longer value).  *tagged / *openssl3 report the two tolerated
 * spellings so that the caller warns once. */
int ovf__mf_split(const char *s, size_t n, const char *name, int lineno, struct ovf__mf_line *out, od_err *e)
{
	size_t i = 0;
	char algname[16];
	size_t an = 0;
	memset(out, 0, sizeof *out);
	while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '-') && an < sizeof algname - 1)
		algname[an++] = s[i++];
	algname[an] = 0;
	if (an == 0 || i >= n)
		return od_err_set(e, OD_E_INVALID, "%s:%d: expected 'SHA256(name)= digest'", name, lineno);
	if (!strcasecmp(algname, "SHA1"))
		out->alg = OVF_DIGEST_SHA1;
	else if (!strcasecmp(algname, "SHA256"))
		out->alg = OVF_DIGEST_SHA256;
	else if (!strcasecmp(algname, "SHA512"))
		out->alg = OVF_DIGEST_SHA512;
	else if (!strcasecmp(algname, "SHA2-256")) {
		out->alg = OVF_DIGEST_SHA256;
		out->openssl3 = true;
	} else if (!strcasecmp(algname, "SHA2-512")) {
		out->alg = OVF_DIGEST_SHA512;
		out->openssl3 = true;
	} else
		return od_err_set(e, OD_E_INVALID, "%s:%d: unknown digest algorithm '%s' (SHA1, SHA256, SHA512 are known)",
				  name, lineno, algname);
	if (s[i] == ' ') {
		out->tagged = true;
		i++;
	}
	if (i >= n || s[i] != '(')
		return od_err_set(e, OD_E_INVALID, "%s:%d: expected '(' after %s", name, lineno, algname);
	i++;
	/* The name runs to the LAST ")=" or ") =" on the line: a file name may
	 * itself contain ')' but the hex digest that follows cannot. */
	size_t close = 0;
	bool found = false;
	for (size_t j = n; j-- > i;) {
		if (s[j] != ')')
			continue;
		size_t k = j + 1;
		if (k < n && s[k] == ' ')
			k++;
		if (k < n && s[k] == '=') {
			close = j;
			found = true;
			break;
		}
	}
	if (!found)
		return od_err_set(e, OD_E_INVALID, "%s:%d: expected ')= ' after the file name", name, lineno);
	size_t nlen = close - i;
	if (nlen == 0 || nlen > OVF_NAME_MAX)
		return od_err_set(e, OD_E_INVALID, "%s:%d: file name is empty or longer than %d bytes", name, lineno,
				  OVF_NAME_MAX);
	for (size_t j = i; j < close; j++)
		if ((unsigned char)s[j] < 0x20 || s[j] == 0x7f)
			return od_err_set(e, OD_E_INVALID, "%s:%d: control character in file name", name, lineno);
	size_t k = close + 1;
	if (s[k] == ' ') {
		out->tagged = true;
		k++;
	}
	k++; /* the '=' */
	if (k < n && s[k] == ' ')
		k++;
	size_t hexn = n - k;
	/* Trailing blanks are forgiven; anything else must be hex. */
	while (hexn > 0 && (s[k + hexn - 1] == ' ' || s[k + hexn - 1] == '\t'))
		hexn--;
	for (size_t j = 0; j < hexn; j++)
		if (hexval((unsigned char)s[k + j]) < 0)
			return od_err_set(e, OD_E_INVALID, "%s:%d: value for '%.*s' is not hexadecimal", name, lineno,
					  (int)nlen, s + i);
	if (hexn == 0 || hexn % 2)
		return od_err_set(e, OD_E_INVALID, "%s:%d: value for '%.*s' has an odd or zero number of hex digits",
				  name, lineno, (int)nlen, s + i);
	out->name = s + i;
	out->namelen = nlen;
	out->hex = s + k;
	out->hexlen = hexn;
	return 0;
}

void ovf__unhex(const char *hex, size_t hexlen, unsigned char *out)
{
	for (size_t j = 0; j + 1 < hexlen; j += 2)
		out[j / 2] = (unsigned char)(hexval((unsigned char)hex[j]) << 4 | hexval((unsigned char)hex[j + 1]));
}

static int parse_line(const char *s, size_t n, const char *name, int lineno, struct ovf_manifest_entry *ent,
		      bool *tagged, bool *openssl3, od_err *e)
{
	struct ovf__mf_line l;
	if (ovf__mf_split(s, n, name, lineno, &l, e) < 0)
		return -1;
	*tagged |= l.tagged;
	*openssl3 |= l.openssl3;
	ent->alg = l.alg;
	size_t dl = ovf_digest_len(l.alg);
	if (l.hexlen != 2 * dl)
		return od_err_set(e, OD_E_INVALID, "%s:%d: %s digest of '%.*s' has %zu hex digits, expected %zu", name,
				  lineno, ovf_digest_name(l.alg), (int)l.namelen, l.name, l.hexlen, 2 * dl);
	ovf__unhex(l.hex, l.hexlen, ent->digest);
	ent->name = od_strndup(l.name, l.namelen);
	if (!ent->name)
		return od_err_nomem(e);
	ent->line = lineno;
	return 0;
}

int ovf_manifest_parse(const char *buf, size_t len, const char *name, struct ovf_manifest *m,
		       struct ovf_warnings *w, od_err *e)
{
	memset(m, 0, sizeof *m);
	if (len > OVF_MANIFEST_MAX)
		return od_err_set(e, OD_E_INVALID, "%s: manifest is %zu bytes, more than the %u we accept", name, len,
				  OVF_MANIFEST_MAX);
	bool crlf = false, tagged = false, openssl3 = false;
	size_t cap = 0;
	int lineno = 0;
	size_t pos = 0;
	while (pos < len) {
		lineno++;
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;
		size_t n = end - pos;
		const char *s = buf + pos;
		pos = nl ? end + 1 : len;
		if (n > 0 && s[n - 1] == '\r') {
			crlf = true;
			n--;
		}
		if (memchr(s, 0, n)) {
			ovf_manifest_free(m);
			return od_err_set(e, OD_E_INVALID, "%s:%d: NUL byte in the manifest", name, lineno);
		}
		bool blank = true;
		for (size_t j = 0; j < n; j++)
			if (!isspace((unsigned char)s[j]))
				blank = false;
		if (blank)
			continue;
		if (m->n == cap) {
			/* Each entry takes at least ~50 bytes of text, and the text
			 * is capped, so the count is bounded too. */
			size_t ncap = cap ? 2 * cap : 16;
			struct ovf_manifest_entry *nv = realloc(m->v, ncap * sizeof *nv);
			if (!nv) {
				ovf_manifest_free(m);
				return od_err_nomem(e);
			}
			m->v = nv;
			cap = ncap;
		}
		struct ovf_manifest_entry *ent = &m->v[m->n];
		memset(ent, 0, sizeof *ent);
		if (parse_line(s, n, name, lineno, ent, &tagged, &openssl3, e) < 0) {
			ovf_manifest_free(m);
			return -1;
		}
		m->n++;
		for (size_t j = 0; j + 1 < m->n; j++)
			if (!strcmp(m->v[j].name, ent->name)) {
				od_err_set(e, OD_E_INVALID, "%s:%d: '%s' is listed twice (first on line %d)", name,
					   lineno, ent->name, m->v[j].line);
				ovf_manifest_free(m);
				return -1;
			}
	}
	if (crlf)
		ovf_warn(w, "%s: CRLF line ends (written on Windows?); OVF manifests use LF", name);
	if (tagged)
		ovf_warn(w, "%s: 'SHA256 (name) = digest' is the coreutils --tag spelling; OVF writes 'SHA256(name)= digest'", name);
	if (openssl3)
		ovf_warn(w, "%s: 'SHA2-256(name)=' is what OpenSSL 3 dgst prints; OVF writes 'SHA256(name)='", name);
	return 0;
}

const struct ovf_manifest_entry *ovf_manifest_find(const struct ovf_manifest *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].name, name))
			return &m->v[i];
	return NULL;
}

void ovf_manifest_free(struct ovf_manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].name);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

size_t ovf_manifest_line_len(enum ovf_digest_alg alg, const char *name)
{
	/* ALG ( name ) = space hex \n */
	return strlen(ovf_digest_name(alg)) + 1 + strlen(name) + 3 + 2 * ovf_digest_len(alg) + 1;
}

int ovf_manifest_line(od_buf *out, enum ovf_digest_alg alg, const char *name, const unsigned char *digest)
{
	char hex[2 * OVF_DIGEST_MAX + 1];
	od_hex(digest, ovf_digest_len(alg), hex);
	return od_buf_printf(out, "%s(%s)= %s\n", ovf_digest_name(alg), name, hex);
}
