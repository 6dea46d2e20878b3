/*
 * ovf.h - the OVF library: descriptors (parse, model, validate, write),
 * packages (OVA/OVF directory read, pack, unpack), manifests, certificates
 * and the OVF environment.
 *
 * Nothing here knows about the CLI.  Everything read from a descriptor or a
 * package is untrusted: sizes are checked, XML is parsed with no network, no
 * DTD and no entity expansion.
 */
#ifndef OD_OVF_H
#define OD_OVF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* Largest descriptor we accept.  Real descriptors are a few hundred KiB at
 * most; the limit keeps a hostile package from making us parse gigabytes. */
#define OVF_DESCRIPTOR_MAX (16u * 1024 * 1024)

/* ======================================================================
 * Descriptor model (envelope.c, units.c, validate.c)
 * ====================================================================== */

enum ovf_version {
	OVF_V_UNKNOWN = 0,
	OVF_V_0_9 = 9,   /* http://www.vmware.com/schema/ovf/1/envelope */
	OVF_V_1 = 10,    /* http://schemas.dmtf.org/ovf/envelope/1 */
	OVF_V_2 = 20,    /* http://schemas.dmtf.org/ovf/envelope/2 */
};

/* A References/File entry. */
struct ovf_file {
	char *id;
	char *href;
	uint64_t size;         /* valid when has_size */
	bool has_size;
	char *compression;     /* NULL, "identity", "gzip", ... as written */
	int64_t chunk_size;    /* valid when has_chunk_size; may be <= 0 in bad input */
	bool has_chunk_size;
	int line;
};

typedef struct ovf_envelope ovf_envelope;

const char *ovf_version_name(enum ovf_version v);      /* "0.9", "1.x", "2.x", "unknown" */
enum ovf_version ovf_version_from_ns(const char *ns);  /* envelope namespace URI -> version */

/* The MODEL_DEFINITIONS_BELOW marker is where envelope.c's public structs and
 * functions go; keep struct ovf_file above stable: packages depend on it. */
/* MODEL_DEFINITIONS_BELOW */

/* ======================================================================
 * Packages, manifests, certificates (package.c, manifest.c, cert.c, pack.c)
 * ====================================================================== */
/* PACKAGE_DEFINITIONS_BELOW */

/* ---- digests and manifests (manifest.c) ------------------------------------
 * A manifest (.mf) holds one line per file: "SHA256(name)= hex".  SHA1,
 * SHA256 and SHA512 are read and written.  Lines written by tools that got
 * the format slightly wrong are accepted, each with a warning naming the
 * mistake: "SHA256 (name) = hex" (coreutils --tag), "SHA2-256(name)= hex"
 * (OpenSSL 3 dgst), CRLF line ends.  Anything else is an error. */
enum ovf_digest_alg { OVF_DIGEST_NONE = 0, OVF_DIGEST_SHA1, OVF_DIGEST_SHA256, OVF_DIGEST_SHA512 };
#define OVF_DIGEST_MAX 64             /* bytes of the longest digest (SHA512) */
#define OVF_MANIFEST_MAX (4u << 20)   /* largest .mf we read */
#define OVF_CERT_MAX (1u << 20)       /* largest .cert we read */
#define OVF_NAME_MAX 255              /* longest member name: what ustar can hold */
#define OVF_MEMBERS_MAX 10000         /* most members a package may have */

const char *ovf_digest_name(enum ovf_digest_alg a);       /* "SHA256", ... */
size_t ovf_digest_len(enum ovf_digest_alg a);             /* 20, 32, 64; 0 for NONE */
/* "sha1", "SHA256", "sha-512"... -> alg; OVF_DIGEST_NONE if unknown. */
enum ovf_digest_alg ovf_digest_from_name(const char *s);

/* Warnings collected while reading a package or a manifest: plain sentences
 * the CLI prints (or puts in its JSON). */
struct ovf_warnings {
	char **v;
	size_t n;
};
int ovf_warn(struct ovf_warnings *w, const char *fmt, ...) OD_PRINTF(2, 3);
void ovf_warnings_free(struct ovf_warnings *w);

struct ovf_manifest_entry {
	char *name;
	enum ovf_digest_alg alg;
	unsigned char digest[OVF_DIGEST_MAX];
	int line;
};
struct ovf_manifest {
	struct ovf_manifest_entry *v;
	size_t n;
};
/* Parse manifest text.  `name` is used in messages.  Duplicate names, bad
 * hex, wrong digest lengths, unknown algorithms and names with NUL or
 * control bytes are errors (OD_E_INVALID).  Warnings go to `w` (may be NULL). */
int ovf_manifest_parse(const char *buf, size_t len, const char *name, struct ovf_manifest *m,
		       struct ovf_warnings *w, od_err *e);
const struct ovf_manifest_entry *ovf_manifest_find(const struct ovf_manifest *m, const char *name);
void ovf_manifest_free(struct ovf_manifest *m);
/* Append one canonical line "ALG(name)= hex\n" to `out`. */
int ovf_manifest_line(od_buf *out, enum ovf_digest_alg alg, const char *name, const unsigned char *digest);
/* Length of that line, without writing it. */
size_t ovf_manifest_line_len(enum ovf_digest_alg alg, const char *name);

/* Incremental hashing of up to three algorithms at once (OpenSSL EVP).
 * `algs` is a bit set of (1u << OVF_DIGEST_*). */
typedef struct ovf_hasher ovf_hasher;
ovf_hasher *ovf_hasher_new(unsigned algs, od_err *e);
int ovf_hasher_update(ovf_hasher *h, const void *p, size_t n, od_err *e);
/* Finish and copy the digest of `alg` (must be in the set) into `out`. */
int ovf_hasher_final(ovf_hasher *h, enum ovf_digest_alg alg, unsigned char *out, od_err *e);
void ovf_hasher_free(ovf_hasher *h);

/* ---- certificates and signatures (cert.c) ----------------------------------
 * The .cert file: "SHA256(name.mf)= hex-signature" then the PEM certificate
 * chain, signer first.  The signature is over the exact bytes of the .mf. */
struct ovf_cert {
	enum ovf_digest_alg alg;
	char *signed_name;            /* the name in ALG(name)= : the .mf */
	unsigned char *sig;
	size_t siglen;
	void *chain;                  /* STACK_OF(X509) *; signer first */
};
int ovf_cert_parse(const char *buf, size_t len, const char *name, struct ovf_cert *c,
		   struct ovf_warnings *w, od_err *e);
void ovf_cert_free(struct ovf_cert *c);

struct ovf_cert_result {
	bool signature_ok;            /* the signature matches the .mf bytes */
	bool chain_ok;                /* the chain leads to a trusted CA */
	bool time_ok;                 /* now lies within every certificate's validity */
	char *subject, *issuer;       /* of the signing certificate, one line each */
	char not_before[32], not_after[32]; /* "2026-11-26 15:00:00 UTC" */
	char key_desc[64];            /* "RSA 2048", "EC prime256v1" */
	char *problem;                /* why signature/chain/time failed, or NULL */
};
/* Check the signature over `mf` and the chain against the system trust store
 * or `ca_file` (PEM, may hold several CAs; when given, the system store is
 * not used).  Returns 0 when the check could be made (the verdict is in
 * `r`), -1 on an internal error. */
int ovf_cert_verify(const struct ovf_cert *c, const char *mf, size_t mflen, const char *ca_file,
		    struct ovf_cert_result *r, od_err *e);
void ovf_cert_result_free(struct ovf_cert_result *r);
/* Sign `mf` with the PEM private key at `key_path` and build the .cert text:
 * the signature line then the PEM certificates of `cert_path` (when NULL, the
 * certificates found in the key file).  RSA (PKCS#1 v1.5) and ECDSA keys. */
int ovf_cert_sign(const char *key_path, const char *cert_path, enum ovf_digest_alg alg,
		  const char *mf_name, const char *mf, size_t mflen, od_buf *out, od_err *e);
/* An upper bound of ovf_cert_sign's output for this key and certificate, so
 * that pack can reserve the .cert member before it knows the signature. */
int ovf_cert_sign_max(const char *key_path, const char *cert_path, enum ovf_digest_alg alg,
		      const char *mf_name, size_t *max, od_err *e);

/* ---- reading packages (package.c) --------------------------------------------
 * ovf_package_open() takes an OVA (a tar file), an OVF directory or a lone
 * .ovf file and lists its members without reading their data: for an OVA it
 * walks the tar headers (ustar, GNU and PAX are read), for a directory it
 * takes the descriptor's files from beside it.  Every member lives at a
 * byte range [offset, offset+size) of a plain file `path`: the OVA itself for
 * tar members, the member's own file in a directory, so that a disk can be
 * opened in place (disk_open_range).  The descriptor, manifest and
 * certificate, which are small, are read at open time (bounded).
 *
 * Hostile tars are refused with OD_E_INVALID naming the member: absolute
 * names, ".." components, links, devices, FIFOs, duplicate names, names over
 * OVF_NAME_MAX, more than OVF_MEMBERS_MAX members, bad header checksums,
 * data past the end of the file.  Odd but harmless layouts (descriptor not
 * first, directory entries) become warnings. */
enum ovf_package_kind { OVF_PKG_OVA = 1, OVF_PKG_DIR, OVF_PKG_OVF };

struct ovf_member {
	char *name;       /* as in the tar, or the href for a directory */
	char *path;       /* the plain file holding the bytes */
	uint64_t offset;  /* where the bytes start in `path` */
	uint64_t size;
	bool present;     /* false: a directory package's file that does not exist */
};

typedef struct ovf_package {
	enum ovf_package_kind kind;
	char *path;                     /* as given */
	char *dir;                      /* directory of the descriptor (DIR/OVF) */
	struct ovf_member *members;     /* OVA: tar order; DIR/OVF: descriptor, mf, cert, References */
	size_t nmembers;
	const struct ovf_member *descriptor_member, *manifest_member, *cert_member;
	char *descriptor; size_t descriptor_len;  /* NUL-terminated */
	char *manifest; size_t manifest_len;      /* NULL when there is none */
	char *cert; size_t cert_len;              /* NULL when there is none */
	struct ovf_envelope *env;       /* parsed descriptor */
	struct ovf_warnings warnings;
} ovf_package;

ovf_package *ovf_package_open(const char *path, od_err *e);
void ovf_package_close(ovf_package *p);
const struct ovf_member *ovf_package_member(const ovf_package *p, const char *name);

/* Called with successive pieces of a member's bytes; return -1 (with `e`
 * set) to stop. */
typedef int (*ovf_data_fn)(void *ctx, const void *buf, size_t len, od_err *e);
/* Stream a member's raw bytes. */
int ovf_package_read_member(const ovf_package *p, const struct ovf_member *m,
			    ovf_data_fn fn, void *ctx, od_err *e);
/* The members holding a References file: one, or its chunks
 * href.000000000, href.000000001, ... in order.  Fills `out` (an array the
 * caller frees) and its count; a missing member or chunk is an error. */
int ovf_package_file_members(const ovf_package *p, const struct ovf_file *f,
			     const struct ovf_member ***out, size_t *n, od_err *e);
/* Stream a References file's content as the deployer sees it: chunks
 * joined, gzip inflated.  Inflation stops with an error past
 * ovf_file_inflate_limit(), so a gzip bomb cannot fill memory or disk. */
int ovf_package_read_file(const ovf_package *p, const struct ovf_file *f,
			  ovf_data_fn fn, void *ctx, od_err *e);
/* The most bytes a compressed file may inflate to: the capacity of the disk
 * that uses it plus a margin for the image format's metadata, else a fixed
 * bound. */
uint64_t ovf_file_inflate_limit(const struct ovf_envelope *env, const struct ovf_file *f);

/* A gzip inflater fed piece by piece (used by read_file and verify). */
typedef struct ovf_inflater ovf_inflater;
ovf_inflater *ovf_inflater_new(const char *name, uint64_t limit, ovf_data_fn fn, void *ctx, od_err *e);
int ovf_inflater_feed(ovf_inflater *z, const void *buf, size_t len, od_err *e);
/* Checks that the stream ended cleanly. */
int ovf_inflater_finish(ovf_inflater *z, od_err *e);
uint64_t ovf_inflater_total(const ovf_inflater *z);
void ovf_inflater_free(ovf_inflater *z);

/* ---- verify (verify.c) --------------------------------------------------------
 * One read of the package: every member listed in the manifest is hashed as
 * it streams past (gzip files are also inflated, to catch bombs and
 * corruption), nothing is written. */
enum ovf_verdict { OVF_FILE_OK = 0, OVF_FILE_MISMATCH, OVF_FILE_MISSING, OVF_FILE_UNLISTED,
		   OVF_FILE_BAD };
const char *ovf_verdict_name(enum ovf_verdict v);   /* "ok", "mismatch", ... */
struct ovf_verify_file {
	char *name;
	enum ovf_verdict verdict;
	enum ovf_digest_alg alg;
	char expected[2 * OVF_DIGEST_MAX + 1], actual[2 * OVF_DIGEST_MAX + 1]; /* hex or "" */
	uint64_t size;
	char *problem;       /* OVF_FILE_BAD and others: what is wrong */
};
struct ovf_verify_opts {
	const char *ca_file;        /* NULL: the system trust store */
	bool require_signature;
	od_progress_fn progress;
	void *progress_ctx;
};
struct ovf_verify_report {
	bool has_manifest;
	bool has_cert;
	struct ovf_verify_file *files;
	size_t nfiles;
	struct ovf_cert_result cert;
	struct ovf_warnings problems;  /* package-level failures, one sentence each */
	bool ok;                       /* everything verified */
};
/* Returns 0 when the verification ran (the verdict is in `r->ok`), -1 when
 * it could not (I/O error). */
int ovf_verify(ovf_package *p, const struct ovf_verify_opts *o, struct ovf_verify_report *r, od_err *e);
void ovf_verify_report_free(struct ovf_verify_report *r);

/* ---- writing packages (pack.c) ------------------------------------------------ */
struct ovf_pack_opts {
	enum ovf_digest_alg digest;   /* default SHA256 */
	const char *sign_key;         /* PEM private key, or NULL */
	const char *sign_cert;        /* PEM certificate chain, or NULL (taken from the key file) */
	od_progress_fn progress;
	void *progress_ctx;
};
/* Pack an OVF directory or descriptor into an OVA at `out` (crash-safe:
 * nothing appears at `out` unless everything was written).  The descriptor
 * first, then the manifest, the certificate, then the files in References
 * order; ustar headers, GNU size fields only for members over 8 GiB (with a
 * warning in `w`), never PAX.  Every input is read once, hashed while
 * written. */
int ovf_pack(const char *src, const char *out, const struct ovf_pack_opts *o,
	     struct ovf_warnings *w, od_err *e);

/* Unpack: verify everything, extract into a temporary directory beside
 * `dest`, and rename it into place only when all succeeded.  Refuses when
 * the file system lacks room for the declared sizes, and when `dest`
 * exists (unless it is an empty directory). */
struct ovf_unpack_opts {
	struct ovf_verify_opts verify;
};
int ovf_unpack(ovf_package *p, const char *dest, const struct ovf_unpack_opts *o,
	       struct ovf_verify_report *r, od_err *e);

/* ======================================================================
 * The OVF environment (env.c)
 * ====================================================================== */
/* ENV_DEFINITIONS_BELOW */

#endif
