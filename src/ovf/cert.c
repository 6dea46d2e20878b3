/* cert.c - the package certificate (.cert): parse, verify the signature over
 * the manifest and the certificate chain, and sign at pack time. */
#include "config.h"
#include "ovf/ovf.h"
#include "ovf/pkg_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define MAX_CHAIN 16
#define MAX_SIG 4096 /* bytes: a 32768-bit RSA key; nothing real is larger */

static const EVP_MD *evp_md(enum ovf_digest_alg a)
{
	switch (a) {
	case OVF_DIGEST_SHA1: return EVP_sha1();
	case OVF_DIGEST_SHA256: return EVP_sha256();
	case OVF_DIGEST_SHA512: return EVP_sha512();
	default: return NULL;
	}
}

/* The last OpenSSL error as text, for messages; clears the queue. */
static const char *ssl_err(char *buf, size_t n)
{
	unsigned long code = ERR_get_error();
	unsigned long more;
	while ((more = ERR_get_error()) != 0)
		; /* keep the first: it is the cause */
	if (!code)
		snprintf(buf, n, "unknown OpenSSL error");
	else
		ERR_error_string_n(code, buf, n);
	return buf;
}

int ovf_cert_parse(const char *buf, size_t len, const char *name, struct ovf_cert *c, struct ovf_warnings *w,
		   od_err *e)
{
	memset(c, 0, sizeof *c);
	if (len > OVF_CERT_MAX)
		return od_err_set(e, OD_E_INVALID, "%s: %zu bytes, more than the %u we accept", name, len, OVF_CERT_MAX);
	/* The first non-blank line is the signature, in manifest syntax. */
	size_t pos = 0;
	int lineno = 1;
	while (pos < len && isspace((unsigned char)buf[pos]))
		if (buf[pos++] == '\n')
			lineno++;
	const char *nl = memchr(buf + pos, '\n', len - pos);
	size_t end = nl ? (size_t)(nl - buf) : len;
	size_t n = end - pos;
	if (n > 0 && buf[pos + n - 1] == '\r') {
		n--;
		ovf_warn(w, "%s: CRLF line ends (written on Windows?); OVF uses LF", name);
	}
	struct ovf__mf_line l;
	if (ovf__mf_split(buf + pos, n, name, lineno, &l, e) < 0)
		return -1;
	if (l.tagged)
		ovf_warn(w, "%s: 'SHA256 (name) = signature' is the coreutils --tag spelling; OVF writes 'SHA256(name)= signature'", name);
	if (l.openssl3)
		ovf_warn(w, "%s: 'SHA2-256(name)=' is what OpenSSL 3 prints; OVF writes 'SHA256(name)='", name);
	if (l.hexlen / 2 > MAX_SIG)
		return od_err_set(e, OD_E_INVALID, "%s:%d: signature of %zu bytes is implausibly long", name, lineno,
				  l.hexlen / 2);
	c->alg = l.alg;
	c->signed_name = od_strndup(l.name, l.namelen);
	c->siglen = l.hexlen / 2;
	c->sig = malloc(c->siglen);
	STACK_OF(X509) *chain = sk_X509_new_null();
	c->chain = chain;
	if (!c->signed_name || !c->sig || !chain) {
		ovf_cert_free(c);
		return od_err_nomem(e);
	}
	ovf__unhex(l.hex, l.hexlen, c->sig);

	/* The rest: PEM certificates.  Anything between them (comments, the
	 * text openssl x509 prints) is skipped by the PEM reader. */
	BIO *bio = BIO_new_mem_buf(buf + end, (int)(len - end));
	if (!bio) {
		ovf_cert_free(c);
		return od_err_nomem(e);
	}
	for (;;) {
		X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (!x) {
			unsigned long err = ERR_peek_last_error();
			if (ERR_GET_REASON(err) == PEM_R_NO_START_LINE)
				ERR_clear_error(); /* the normal end */
			else {
				char msg[256];
				BIO_free(bio);
				ovf_cert_free(c);
				return od_err_set(e, OD_E_INVALID, "%s: bad PEM certificate #%d: %s", name,
						  sk_X509_num(chain) + 1, ssl_err(msg, sizeof msg));
			}
			break;
		}
		if (sk_X509_num(chain) >= MAX_CHAIN || !sk_X509_push(chain, x)) {
			X509_free(x);
			BIO_free(bio);
			ovf_cert_free(c);
			return od_err_set(e, OD_E_INVALID, "%s: more than %d certificates", name, MAX_CHAIN);
		}
	}
	BIO_free(bio);
	if (sk_X509_num(chain) == 0) {
		ovf_cert_free(c);
		return od_err_set(e, OD_E_INVALID, "%s: no PEM certificate after the signature line", name);
	}
	return 0;
}

void ovf_cert_free(struct ovf_cert *c)
{
	free(c->signed_name);
	free(c->sig);
	if (c->chain)
		sk_X509_pop_free((STACK_OF(X509) *)c->chain, X509_free);
	memset(c, 0, sizeof *c);
}

static char *name_line(const X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return NULL;
	X509_NAME_print_ex(b, n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
	char *p;
	long len = BIO_get_mem_data(b, &p);
	char *s = od_strndup(p, len > 0 ? (size_t)len : 0);
	BIO_free(b);
	return s;
}

static void time_text(const ASN1_TIME *t, char *out, size_t n)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm)) {
		snprintf(out, n, "?");
		return;
	}
	strftime(out, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static void key_text(EVP_PKEY *k, char *out, size_t n)
{
	int id = EVP_PKEY_get_base_id(k);
	if (id == EVP_PKEY_RSA)
		snprintf(out, n, "RSA %d", EVP_PKEY_get_bits(k));
	else if (id == EVP_PKEY_EC) {
		char g[64] = "?";
		size_t gl = 0;
		EVP_PKEY_get_group_name(k, g, sizeof g, &gl);
		snprintf(out, n, "EC %s", g);
	} else
		snprintf(out, n, "%s %d", OBJ_nid2sn(id), EVP_PKEY_get_bits(k));
}

static int problem(struct ovf_cert_result *r, const char *fmt, ...) OD_PRINTF(2, 3);
static int problem(struct ovf_cert_result *r, const char *fmt, ...)
{
	if (r->problem)
		return 0; /* keep the first: later ones tend to follow from it */
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&r->problem, fmt, ap) < 0)
		r->problem = NULL;
	va_end(ap);
	return 0;
}

int ovf_cert_verify(const struct ovf_cert *c, const char *mf, size_t mflen, const char *ca_file,
		    struct ovf_cert_result *r, od_err *e)
{
	memset(r, 0, sizeof *r);
	STACK_OF(X509) *chain = c->chain;
	X509 *signer = sk_X509_value(chain, 0);
	char msg[256];
	r->subject = name_line(X509_get_subject_name(signer));
	r->issuer = name_line(X509_get_issuer_name(signer));
	time_text(X509_get0_notBefore(signer), r->not_before, sizeof r->not_before);
	time_text(X509_get0_notAfter(signer), r->not_after, sizeof r->not_after);
	EVP_PKEY *pk = X509_get0_pubkey(signer);
	if (!pk) {
		problem(r, "the certificate's public key cannot be read: %s", ssl_err(msg, sizeof msg));
		return 0;
	}
	key_text(pk, r->key_desc, sizeof r->key_desc);

	/* 1. The signature over the manifest bytes. */
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md)
		return od_err_nomem(e);
	if (EVP_DigestVerifyInit(md, NULL, evp_md(c->alg), NULL, pk) == 1) {
		int v = EVP_DigestVerify(md, c->sig, c->siglen, (const unsigned char *)mf, mflen);
		if (v == 1)
			r->signature_ok = true;
		else
			problem(r, "the signature does not match the manifest (signed by another key, or the manifest changed)");
	} else
		problem(r, "cannot check a %s signature with a %s key: %s", ovf_digest_name(c->alg), r->key_desc,
			ssl_err(msg, sizeof msg));
	EVP_MD_CTX_free(md);
	ERR_clear_error();

	/* 2. Validity dates of every certificate, checked on their own so that
	 * an expired certificate is reported as such and not as "untrusted". */
	r->time_ok = true;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		char when[32];
		if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
			time_text(X509_get0_notAfter(x), when, sizeof when);
			char *sn = name_line(X509_get_subject_name(x));
			problem(r, "certificate '%s' expired on %s", sn ? sn : "?", when);
			free(sn);
			r->time_ok = false;
		} else if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0) {
			time_text(X509_get0_notBefore(x), when, sizeof when);
			char *sn = name_line(X509_get_subject_name(x));
			problem(r, "certificate '%s' is not valid before %s", sn ? sn : "?", when);
			free(sn);
			r->time_ok = false;
		}
	}

	/* 3. The chain, up to a trusted root. */
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	if (!store || !sc || !untrusted) {
		X509_STORE_free(store);
		X509_STORE_CTX_free(sc);
		sk_X509_free(untrusted);
		return od_err_nomem(e);
	}
	int rc = 0;
	for (int i = 1; i < sk_X509_num(chain); i++)
		sk_X509_push(untrusted, sk_X509_value(chain, i));
	if (ca_file) {
		if (X509_STORE_load_file(store, ca_file) != 1) {
			rc = od_err_set(e, OD_E_USAGE, "%s: cannot load CA certificates: %s", ca_file,
					ssl_err(msg, sizeof msg));
			goto out;
		}
	} else if (X509_STORE_set_default_paths(store) != 1) {
		problem(r, "cannot load the system trust store: %s", ssl_err(msg, sizeof msg));
		goto out;
	}
	if (X509_STORE_CTX_init(sc, store, signer, untrusted) != 1) {
		rc = od_err_set(e, OD_E_INTERNAL, "X509_STORE_CTX_init: %s", ssl_err(msg, sizeof msg));
		goto out;
	}
	/* Dates were judged above. */
	X509_STORE_CTX_set_flags(sc, X509_V_FLAG_NO_CHECK_TIME);
	if (X509_verify_cert(sc) == 1)
		r->chain_ok = true;
	else {
		int err = X509_STORE_CTX_get_error(sc);
		problem(r, "certificate chain not trusted%s: %s", ca_file ? " by --ca-file" : " by the system store",
			X509_verify_cert_error_string(err));
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(sc);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	return rc;
}

void ovf_cert_result_free(struct ovf_cert_result *r)
{
	free(r->subject);
	free(r->issuer);
	free(r->problem);
	memset(r, 0, sizeof *r);
}

/* ---- signing --------------------------------------------------------------- */

static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static int load_signer(const char *key_path, const char *cert_path, EVP_PKEY **key, STACK_OF(X509) **certs,
		       od_err *e)
{
	char msg[256];
	*key = NULL;
	*certs = NULL;
	BIO *b = BIO_new_file(key_path, "r");
	if (!b)
		return od_err_set(e, OD_E_IO, "%s: cannot open the key: %s", key_path, ssl_err(msg, sizeof msg));
	*key = PEM_read_bio_PrivateKey(b, NULL, no_password, NULL);
	BIO_free(b);
	if (!*key)
		return od_err_set(e, OD_E_USAGE, "%s: no usable PEM private key (encrypted keys are not supported): %s",
				  key_path, ssl_err(msg, sizeof msg));
	const char *cp = cert_path ? cert_path : key_path;
	b = BIO_new_file(cp, "r");
	if (!b) {
		EVP_PKEY_free(*key);
		*key = NULL;
		return od_err_set(e, OD_E_IO, "%s: cannot open the certificate: %s", cp, ssl_err(msg, sizeof msg));
	}
	*certs = sk_X509_new_null();
	X509 *x;
	while (*certs && sk_X509_num(*certs) < MAX_CHAIN && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		sk_X509_push(*certs, x);
	ERR_clear_error();
	BIO_free(b);
	if (!*certs || sk_X509_num(*certs) == 0) {
		EVP_PKEY_free(*key);
		*key = NULL;
		if (*certs)
			sk_X509_free(*certs);
		*certs = NULL;
		return od_err_set(e, OD_E_USAGE, "%s: no PEM certificate found (give one with --cert)", cp);
	}
	if (X509_check_private_key(sk_X509_value(*certs, 0), *key) != 1) {
		EVP_PKEY_free(*key);
		sk_X509_pop_free(*certs, X509_free);
		*key = NULL;
		*certs = NULL;
		ERR_clear_error();
		return od_err_set(e, OD_E_USAGE, "%s: the first certificate does not match the key %s", cp, key_path);
	}
	return 0;
}

static int append_pem(od_buf *out, STACK_OF(X509) *certs, od_err *e)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return od_err_nomem(e);
	for (int i = 0; i < sk_X509_num(certs); i++)
		PEM_write_bio_X509(b, sk_X509_value(certs, i));
	char *p;
	long len = BIO_get_mem_data(b, &p);
	int rc = od_buf_append(out, p, len > 0 ? (size_t)len : 0);
	BIO_free(b);
	return rc < 0 ? od_err_nomem(e) : 0;
}

int ovf_cert_sign(const char *key_path, const char *cert_path, enum ovf_digest_alg alg, const char *mf_name,
		  const char *mf, size_t mflen, od_buf *out, od_err *e)
{
	EVP_PKEY *key;
	STACK_OF(X509) *certs;
	char msg[256];
	if (load_signer(key_path, cert_path, &key, &certs, e) < 0)
		return -1;
	int rc = -1;
	size_t siglen = (size_t)EVP_PKEY_get_size(key);
	unsigned char *sig = malloc(siglen ? siglen : 1);
	char *hex = malloc(2 * siglen + 1);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!sig || !hex || !md) {
		od_err_nomem(e);
		goto out;
	}
	if (EVP_DigestSignInit(md, NULL, evp_md(alg), NULL, key) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)mf, mflen) != 1) {
		od_err_set(e, OD_E_INVALID, "%s: signing failed: %s", key_path, ssl_err(msg, sizeof msg));
		goto out;
	}
	od_hex(sig, siglen, hex);
	if (od_buf_printf(out, "%s(%s)= %s\n", ovf_digest_name(alg), mf_name, hex) < 0) {
		od_err_nomem(e);
		goto out;
	}
	rc = append_pem(out, certs, e);
out:
	EVP_MD_CTX_free(md);
	free(sig);
	free(hex);
	EVP_PKEY_free(key);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

int ovf_cert_sign_max(const char *key_path, const char *cert_path, enum ovf_digest_alg alg, const char *mf_name,
		      size_t *max, od_err *e)
{
	EVP_PKEY *key;
	STACK_OF(X509) *certs;
	if (load_signer(key_path, cert_path, &key, &certs, e) < 0)
		return -1;
	od_buf b = {0};
	int rc = append_pem(&b, certs, e);
	if (rc == 0)
		*max = strlen(ovf_digest_name(alg)) + 1 + strlen(mf_name) + 3 + 2 * (size_t)EVP_PKEY_get_size(key) + 1 +
		       b.len;
	od_buf_free(&b);
	EVP_PKEY_free(key);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}
