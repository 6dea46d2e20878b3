/* unpack.c - extract a package safely.
 *
 * Extraction is the verify pass with a sink that writes each member it
 * reads: one read, and the digests are checked on the very bytes written.
 * Everything goes into a fresh temporary directory beside the destination
 * (so the final rename is atomic and never crosses file systems); only when
 * the whole package verified is it renamed into place, otherwise it is
 * removed.  Member names were judged at open time (no absolute names, no
 * ".."), files are created with O_EXCL|O_NOFOLLOW under a directory fd, so
 * nothing can land outside the destination. */
#include "config.h"
#include "ovf/ovf.h"
#include "ovf/pkg_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct writer {
	int dirfd;
	int fd;
	const char *tmp;
	char **created;     /* relative paths, files and directories, in creation order */
	size_t ncreated;
	const struct ovf_member *m;
	uint64_t written;
	bool no_sync;
};

static int remember(struct writer *w, const char *rel, od_err *e)
{
	char **nv = realloc(w->created, (w->ncreated + 1) * sizeof *nv);
	if (!nv)
		return od_err_nomem(e);
	w->created = nv;
	if (!(w->created[w->ncreated] = od_strdup(rel)))
		return od_err_nomem(e);
	w->ncreated++;
	return 0;
}

static int w_begin(void *ctx, const struct ovf_member *m, od_err *e)
{
	struct writer *w = ctx;
	/* Directories along the way ("disks/disk1.vmdk"), created one level at
	 * a time; components were checked when the package was opened. */
	char *rel = od_strdup(m->name);
	if (!rel)
		return od_err_nomem(e);
	for (char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (mkdirat(w->dirfd, rel, 0755) == 0) {
			if (remember(w, rel, e) < 0) {
				free(rel);
				return -1;
			}
		} else if (errno != EEXIST) {
			od_err_errno(e, errno, "%s/%s", w->tmp, rel);
			free(rel);
			return -1;
		}
		struct stat st;
		if (fstatat(w->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
			od_err_set(e, OD_E_INVALID, "%s: '%s' is not a directory we made", w->tmp, rel);
			free(rel);
			return -1;
		}
		*s = '/';
	}
	w->fd = openat(w->dirfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		od_err_errno(e, errno, "%s/%s", w->tmp, rel);
		free(rel);
		return -1;
	}
	int rc = remember(w, rel, e);
	free(rel);
	w->m = m;
	w->written = 0;
	return rc;
}

static int w_data(void *ctx, const void *buf, size_t len, od_err *e)
{
	struct writer *w = ctx;
	w->written += len;
	return od_write_all(w->fd, buf, len, w->m->name, e);
}

static int w_end(void *ctx, const struct ovf_member *m, od_err *e)
{
	struct writer *w = ctx;
	int rc = 0;
	if (!w->no_sync && fsync(w->fd) < 0)
		rc = od_err_errno(e, errno, "%s/%s: fsync", w->tmp, m->name);
	if (close(w->fd) < 0 && rc == 0)
		rc = od_err_errno(e, errno, "%s/%s: close", w->tmp, m->name);
	w->fd = -1;
	return rc;
}

static void remove_all(struct writer *w)
{
	/* Reverse creation order: files before the directories holding them. */
	for (size_t i = w->ncreated; i-- > 0;) {
		if (unlinkat(w->dirfd, w->created[i], 0) < 0)
			unlinkat(w->dirfd, w->created[i], AT_REMOVEDIR);
	}
}

int ovf_unpack(ovf_package *p, const char *dest, const struct ovf_unpack_opts *o, struct ovf_verify_report *r,
	       od_err *e)
{
	memset(r, 0, sizeof *r);
	struct stat st;
	if (lstat(dest, &st) == 0) {
		/* rename() below replaces an empty directory atomically; anything
		 * else the user had there stays untouched. */
		bool empty = false;
		if (S_ISDIR(st.st_mode)) {
			DIR *d = opendir(dest);
			if (d) {
				struct dirent *de;
				empty = true;
				while ((de = readdir(d)) != NULL)
					if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
						empty = false;
				closedir(d);
			}
		}
		if (!empty)
			return od_err_set(e, OD_E_USAGE, "%s: already exists and is not an empty directory: give a new or empty "
					  "DIR (unpack never writes over files)", dest);
	} else if (errno != ENOENT)
		return od_err_errno(e, errno, "%s", dest);

	char *c1 = od_strdup(dest), *c2 = od_strdup(dest);
	if (!c1 || !c2) {
		free(c1);
		free(c2);
		return od_err_nomem(e);
	}
	char *parent = dirname(c1), *base = basename(c2);
	if (!strcmp(base, "/") || !strcmp(base, ".") || !strcmp(base, "..")) {
		free(c1);
		free(c2);
		return od_err_set(e, OD_E_USAGE, "%s: not a usable destination name", dest);
	}

	/* A killed unpack to the same destination left its temporary directory:
	 * remove it (only if its writer is gone) before counting free space. */
	char *prefix = od_asprintf(".%s.", base);
	if (!prefix) {
		free(c1);
		free(c2);
		return od_err_nomem(e);
	}
	od_tmp_clean(parent, prefix, "");
	free(prefix);

	/* Room for what the package declares, before writing anything. */
	uint64_t need = p->descriptor_len + p->manifest_len + p->cert_len;
	for (size_t i = 0; i < p->env->nfiles; i++) {
		const struct ovf_member **v;
		size_t n;
		od_err ig;
		if (ovf_package_file_members(p, &p->env->files[i], &v, &n, &ig) == 0) {
			for (size_t j = 0; j < n; j++)
				if (!od_add_u64(need, v[j]->size, &need))
					need = UINT64_MAX;
			free(v);
		}
	}
	struct statvfs sv;
	if (statvfs(parent, &sv) == 0) {
		uint64_t avail;
		if (!od_mul_u64((uint64_t)sv.f_bavail, (uint64_t)sv.f_frsize, &avail))
			avail = UINT64_MAX;
		if (need > avail) {
			od_err_set(e, OD_E_IO, "%s: the package needs %llu bytes but only %llu are free there (free some, or "
				   "extract elsewhere)", parent,
				   (unsigned long long)need, (unsigned long long)avail);
			free(c1);
			free(c2);
			return -1;
		}
	}

	char *tmp = od_asprintf("%s/.%s.XXXXXX", parent, base);
	if (!tmp) {
		free(c1);
		free(c2);
		return od_err_nomem(e);
	}
	struct writer w = {.fd = -1, .dirfd = -1, .tmp = tmp, .no_sync = o && o->no_sync};
	int rc = -1;
	/* The directory stays locked while we live, so that a later unpack knows
	 * it from one whose writer was killed (od_tmp_clean). */
	size_t tlen = strlen(tmp);
	for (int tries = 0;; tries++) {
		memcpy(tmp + tlen - 6, "XXXXXX", 6);
		if (!mkdtemp(tmp)) {
			if (errno == ENOENT)
				od_err_set(e, OD_E_IO, "%s: cannot be made: the directory %s does not exist", dest, parent);
			else
				od_err_errno(e, errno, "%s: cannot create a temporary directory in %s (the package is "
					     "extracted there, then renamed into place)", dest, parent);
			goto out;
		}
		w.dirfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (w.dirfd < 0) {
			od_err_errno(e, errno, "%s", tmp);
			rmdir(tmp);
			goto out;
		}
		int lr = od_tmp_lock(w.dirfd, tmp, e);
		if (lr == 0)
			break;
		close(w.dirfd);
		w.dirfd = -1;
		if (lr < 0)
			rmdir(tmp);
		if (lr < 0 || tries == 8) {
			if (lr > 0)
				od_err_set(e, OD_E_IO, "%s: temporary directories keep disappearing", dest);
			goto out;
		}
	}
	/* mkdtemp makes it private; the result is an ordinary directory. */
	fchmod(w.dirfd, 0755);
	struct ovf__sink sink = {w_begin, w_data, w_end, &w};
	if (ovf__verify_run(p, o ? &o->verify : NULL, r, &sink, e) < 0)
		goto out;
	if (!r->ok) {
		od_err_set(e, OD_E_INVALID, "%s: verification failed; nothing was extracted", p->path);
		goto out;
	}
	if (!w.no_sync && fsync(w.dirfd) < 0) {
		od_err_errno(e, errno, "%s: fsync", tmp);
		goto out;
	}
	if (rename(tmp, dest) < 0) {
		od_err_errno(e, errno, "%s: cannot rename into place", dest);
		goto out;
	}
	int pfd = w.no_sync ? -1 : open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd >= 0) {
		fsync(pfd);
		close(pfd);
	}
	rc = 0;
out:
	if (w.fd >= 0)
		close(w.fd);
	if (rc < 0 && w.dirfd >= 0) {
		remove_all(&w);
		rmdir(tmp);
	}
	if (w.dirfd >= 0)
		close(w.dirfd);
	for (size_t i = 0; i < w.ncreated; i++)
		free(w.created[i]);
	free(w.created);
	free(tmp);
	free(c1);
	free(c2);
	return rc;
}
