/* pkg_internal.h - what package.c, manifest.c, cert.c and pack.c share and
 * nobody else needs. */
#ifndef OD_OVF_PKG_INTERNAL_H
#define OD_OVF_PKG_INTERNAL_H

#include "ovf/ovf.h"

#include <time.h>

/* One "ALG(name)= hex" line, split; pointers point into the line. */
struct ovf__mf_line {
	enum ovf_digest_alg alg;
	const char *name;
	size_t namelen;
	const char *hex;
	size_t hexlen;
	bool tagged;    /* "ALG (name) = hex": coreutils --tag */
	bool openssl3;  /* "SHA2-256(name)=": OpenSSL 3 */
};
int ovf__mf_split(const char *s, size_t n, const char *name, int lineno, struct ovf__mf_line *out, od_err *e);
/* hexlen is even and every digit valid (checked by ovf__mf_split). */
void ovf__unhex(const char *hex, size_t hexlen, unsigned char *out);

/* Normalise and judge a member name (see package.c). */
int ovf__check_name(char *name, const char *what, od_err *e);
bool ovf__is_gzip(const struct ovf_file *f);
/* Fill a 512-byte ustar header for a regular file (pack.c). */
int ovf__tar_header(unsigned char *h, const char *name, uint64_t size, time_t mtime, struct ovf_warnings *w,
		    od_err *e);

/* What unpack plugs into the verify pass: every member that verify reads is
 * also handed to the sink, so that extraction is the same single read. */
struct ovf__sink {
	int (*begin)(void *ctx, const struct ovf_member *m, od_err *e);
	int (*data)(void *ctx, const void *buf, size_t len, od_err *e);
	int (*end)(void *ctx, const struct ovf_member *m, od_err *e);
	void *ctx;
};
int ovf__verify_run(ovf_package *p, const struct ovf_verify_opts *o, struct ovf_verify_report *r,
		    const struct ovf__sink *sink, od_err *e);

#endif
