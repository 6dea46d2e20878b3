/* verify_cache.c - remember that a package verified, so that deploying the
 * same OVA again does not hash every byte of it again.
 *
 * Verification reads the whole package (SHA-256 of every member, a
 * signature check), which for a multi-GiB appliance costs seconds, while the
 * rest of a deploy is independent of the data size because disks are read in
 * place.  A CI pipeline or a user who deploys one OVA many times pays that
 * cost once.
 *
 * What may be trusted from a previous run: the verdict "this exact file
 * verified".  "This exact file" is the key: the package's real path, device,
 * inode, size, modification time and status-change time (nanoseconds), and
 * the same for the --ca-file, plus the options that change the verdict
 * (--require-signature) and our version.  Any write to the file moves its
 * mtime and ctime, and ctime cannot be set back by an unprivileged user
 * (utimensat sets mtime only), so a modified package misses the cache.
 * Replacing it by rename changes the inode.  Only a plain OVA file is
 * cached: an OVF directory is many files.
 *
 * An entry also expires: after a week (trust stores change, CAs are
 * revoked) and when the signing certificate does.  Entries live in
 * $OVFDEPLOY_HOME/cache/verified (else $XDG_CACHE_HOME/ovfdeploy/verified,
 * else ~/.cache/ovfdeploy/verified), a directory only the user can write,
 * and an entry that another user owns or could write is ignored.
 *
 * The cache is an optimisation: any failure to read or write it just means
 * the package is verified in full, so errors here are never reported. */
#include "config.h"
#include "deploy/deploy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define CACHE_MAX_AGE (7 * 24 * 3600)
#define ENTRY_MAX 4096   /* an entry is a few short lines */

static int stat_key(od_buf *k, const char *what, const char *real, const struct stat *st)
{
	return od_buf_printf(k, "%s %s\n%llu %llu %llu %lld.%09ld %lld.%09ld\n", what, real,
			     (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
			     (unsigned long long)st->st_size, (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
			     (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

/* The entry's path for this package and these options, or NULL when the
 * package cannot be cached (not a regular file, no cache directory...). */
static char *entry_path(const char *package, const struct deploy_opts *o)
{
	struct stat st;
	char real[PATH_MAX], ca_real[PATH_MAX];
	if (!realpath(package, real) || stat(real, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	od_buf k = {0};
	int rc = od_buf_puts(&k, "ovfdeploy " PACKAGE_VERSION " verify-cache 1\n");
	rc |= stat_key(&k, "package", real, &st);
	if (o->ca_file) {
		struct stat cst;
		if (!realpath(o->ca_file, ca_real) || stat(ca_real, &cst) < 0)
			rc = -1;
		else
			rc |= stat_key(&k, "ca-file", ca_real, &cst);
	}
	rc |= od_buf_puts(&k, o->require_signature ? "signature required\n" : "signature optional\n");
	if (rc != 0) {
		od_buf_free(&k);
		return NULL;
	}
	unsigned char md[32];
	unsigned int mdlen = 0;
	int ok = EVP_Digest(k.data, k.len, md, &mdlen, EVP_sha256(), NULL);
	od_buf_free(&k);
	if (!ok || mdlen != sizeof md)
		return NULL;
	char hex[2 * sizeof md + 1];
	for (size_t i = 0; i < sizeof md; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	od_err e;
	char *dir = deploy_dir(DEPLOY_DIR_CACHE, "verified", &e);
	if (!dir)
		return NULL;
	char *path = od_asprintf("%s/%s", dir, hex);
	free(dir);
	return path;
}

/* "2026-11-26 15:00:00 UTC" -> seconds since the epoch, or -1. */
static long long parse_utc(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!end)
		return -1;
	return (long long)timegm(&tm);
}

bool deploy_verify_cache_lookup(const char *package, const struct deploy_opts *o, struct ovf_verify_report *r,
				size_t *nfiles_out, long long *verified_at)
{
	char *path = entry_path(package, o);
	if (!path)
		return false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd < 0)
		return false;
	struct stat st;
	char buf[ENTRY_MAX + 1];
	ssize_t n = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	    !(st.st_mode & (S_IWGRP | S_IWOTH)) && st.st_size <= ENTRY_MAX)
		n = read(fd, buf, ENTRY_MAX);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* version 1
	 * verified CREATED EXPIRES NFILES SIGNED
	 * subject SUBJECT        (signed packages only) */
	long long created, expires;
	unsigned long nfiles;
	int signed_;
	int used = 0;
	if (sscanf(buf, "version 1\nverified %lld %lld %lu %d\n%n", &created, &expires, &nfiles, &signed_, &used) != 4 ||
	    used <= 0)
		return false;
	long long now = (long long)time(NULL);
	if (now < created || now - created > CACHE_MAX_AGE || now >= expires || nfiles > 1u << 20)
		return false;
	memset(r, 0, sizeof *r);
	r->ok = true;
	r->has_manifest = true;
	r->has_cert = signed_ != 0;
	*nfiles_out = nfiles;
	*verified_at = created;
	if (r->has_cert && strncmp(buf + used, "subject ", 8) == 0) {
		char *s = buf + used + 8;
		s[strcspn(s, "\n")] = '\0';
		r->cert.subject = od_strdup(s);
	}
	return true;
}

void deploy_verify_cache_store(const char *package, const struct deploy_opts *o, const struct ovf_verify_report *r)
{
	if (!r->ok || !r->has_manifest)
		return;   /* only a full verification with a manifest is worth remembering */
	char *path = entry_path(package, o);
	if (!path)
		return;
	long long now = (long long)time(NULL);
	long long expires = now + CACHE_MAX_AGE;
	if (r->has_cert) {
		long long na = parse_utc(r->cert.not_after);
		if (na < 0) {
			free(path);
			return;   /* cannot tell when the signature stops being good */
		}
		if (na < expires)
			expires = na;
	}
	char *text = od_asprintf("version 1\nverified %lld %lld %zu %d\n%s%s%s", now, expires, r->nfiles,
				 r->has_cert ? 1 : 0, r->has_cert ? "subject " : "",
				 r->has_cert && r->cert.subject ? r->cert.subject : "", r->has_cert ? "\n" : "");
	od_atomic_file af;
	od_err e = {0};
	if (text && strlen(text) <= ENTRY_MAX && od_atomic_open(&af, path, 0600, &e) == 0) {
		if (od_write_all(af.fd, text, strlen(text), path, &e) < 0 || od_atomic_commit(&af, &e) < 0)
			od_atomic_abort(&af);
	}
	od_err_clear(&e);
	free(text);
	free(path);
}
