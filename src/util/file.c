/* file.c - whole-file reads, full reads and writes, crash-safe output files. */
#include "config.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int od_read_file(const char *path, size_t limit, char **data, size_t *len, od_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return od_err_errno(e, errno, "%s", path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int err = errno;
		close(fd);
		return od_err_errno(e, err, "%s", path);
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return od_err_set(e, OD_E_USAGE, "%s: is a directory", path);
	}
	/* Read in steps rather than trusting st_size: pipes and /proc report 0,
	 * and a file may grow while we read it. The limit is what protects us. */
	od_buf b = {0};
	for (;;) {
		char chunk[65536];
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			close(fd);
			od_buf_free(&b);
			return od_err_errno(e, err, "%s", path);
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > limit) {
			close(fd);
			od_buf_free(&b);
			return od_err_set(e, OD_E_INVALID, "%s: larger than the limit of %zu bytes", path, limit);
		}
		if (od_buf_append(&b, chunk, (size_t)n) < 0) {
			close(fd);
			od_buf_free(&b);
			return od_err_nomem(e);
		}
	}
	close(fd);
	if (!b.data && od_buf_append(&b, "", 0) < 0)
		return od_err_nomem(e);
	*data = b.data;
	*len = b.len;
	return 0;
}

int od_write_all(int fd, const void *p, size_t n, const char *what, od_err *e)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return od_err_errno(e, errno, "%s: write", what);
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int od_pwrite_all(int fd, const void *p, size_t n, uint64_t off, const char *what, od_err *e)
{
	const char *c = p;
	while (n) {
		ssize_t w = pwrite(fd, c, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return od_err_errno(e, errno, "%s: write at offset 0x%llx", what, (unsigned long long)off);
		c += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

int od_pread_all(int fd, void *p, size_t n, uint64_t off, const char *what, od_err *e)
{
	char *c = p;
	while (n) {
		ssize_t r = pread(fd, c, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return od_err_errno(e, errno, "%s: read at offset 0x%llx", what, (unsigned long long)off);
		if (r == 0)
			return od_err_set(e, OD_E_INVALID, "%s: unexpected end of file at offset 0x%llx (%zu more bytes expected)",
					  what, (unsigned long long)off, n);
		c += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int od_atomic_open(od_atomic_file *af, const char *path, int mode, od_err *e)
{
	/* Callers pass the struct uninitialised: every field is set here. */
	af->fd = -1;
	af->no_sync = false;
	af->path = od_strdup(path);
	char *copy1 = od_strdup(path), *copy2 = od_strdup(path);
	if (!af->path || !copy1 || !copy2) {
		free(af->path);
		free(copy1);
		free(copy2);
		af->path = NULL;
		return od_err_nomem(e);
	}
	/* The temporary name starts with a dot and ends in .tmp so that a user
	 * who finds one after a crash knows what it is; it lives in the same
	 * directory so that rename() is atomic. */
	const char *dir = dirname(copy1), *base = basename(copy2);
	af->tmp = od_asprintf("%s/.%s.XXXXXX.tmp", dir, base);
	char *prefix = od_asprintf(".%s.", base);
	if (!af->tmp || !prefix) {
		free(copy1);
		free(copy2);
		free(prefix);
		free(af->tmp);
		free(af->path);
		af->path = af->tmp = NULL;
		return od_err_nomem(e);
	}
	/* What a writer killed before us left for this destination. */
	od_tmp_clean(dir, prefix, ".tmp");
	free(prefix);
	free(copy2);
	size_t len = strlen(af->tmp);
	for (int tries = 0;; tries++) {
		memcpy(af->tmp + len - 10, "XXXXXX", 6);
		af->fd = mkostemps(af->tmp, 4, O_CLOEXEC);
		if (af->fd < 0) {
			int err = errno;
			struct stat dst;
			if (err == ENOENT && stat(dir, &dst) < 0)
				od_err_set(e, OD_E_IO, "%s: cannot be written: the directory %s does not exist", path, dir);
			else
				od_err_errno(e, err, "%s: cannot create a temporary file in %s (outputs are written there, "
					     "then renamed into place)", path, dir);
			free(copy1);
			free(af->path);
			free(af->tmp);
			af->path = af->tmp = NULL;
			return -1;
		}
		int rc = od_tmp_lock(af->fd, af->tmp, e);
		if (rc == 0) {
			free(copy1);
			break;
		}
		close(af->fd);
		af->fd = -1;
		if (rc < 0 || tries == 8) {
			if (rc > 0)
				od_err_set(e, OD_E_IO, "%s: temporary files keep disappearing", path);
			free(copy1);
			free(af->path);
			free(af->tmp);
			af->path = af->tmp = NULL;
			return -1;
		}
	}
	/* mkostemps creates 0600; give the file the mode the caller asked for. */
	fchmod(af->fd, (mode_t)mode);
	return 0;
}

/* Unsynced output replacing an existing file: swap the two names, then
 * remove the old file.  A plain rename() over an existing file makes ext4
 * (auto_da_alloc, on by default) write out the new file's delayed-allocation
 * blocks inside the rename, a heuristic for programs that forget to fsync:
 * measured here, renaming a fresh, unsynced 1 GiB file over a 6-byte one
 * took 1.7-1.8 s, the exchange and unlink 5 ms.  The caller asked not to
 * wait for the disk (no_sync documents that an OS crash may leave the
 * destination empty or short), and other processes still see the old file
 * or the new one whole, never a mix: RENAME_EXCHANGE is atomic.
 * Returns 0 when done, 1 when the caller should rename() instead (no
 * destination yet, not a regular file, a file system or kernel without
 * RENAME_EXCHANGE), -1 on error. */
static int replace_by_exchange(od_atomic_file *af, od_err *e)
{
	struct stat st;
	if (lstat(af->path, &st) < 0 || !S_ISREG(st.st_mode))
		return 1;
	if (renameat2(AT_FDCWD, af->tmp, AT_FDCWD, af->path, RENAME_EXCHANGE) < 0)
		return 1;
	/* Now af->tmp names what was at the destination.  Someone may have put
	 * a directory or a symlink there since the lstat: that is not ours to
	 * remove, so swap back and let rename() report it as it would have. */
	if (lstat(af->tmp, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (renameat2(AT_FDCWD, af->tmp, AT_FDCWD, af->path, RENAME_EXCHANGE) < 0)
			return od_err_errno(e, errno, "%s: the destination changed while it was replaced (it is now at %s)",
					    af->path, af->tmp);
		return 1;
	}
	/* If we die before this unlink, the old file is left under a temporary
	 * name nobody holds, and the next writer to this destination removes
	 * it (od_tmp_clean). */
	unlink(af->tmp);
	return 0;
}

int od_atomic_commit(od_atomic_file *af, od_err *e)
{
	if (!af->no_sync && fsync(af->fd) < 0) {
		int err = errno;
		od_atomic_abort(af);
		return od_err_errno(e, err, "%s: fsync", af->path ? af->path : "output");
	}
	if (close(af->fd) < 0) {
		int err = errno;
		af->fd = -1;
		od_atomic_abort(af);
		return od_err_errno(e, err, "%s: close", af->path ? af->path : "output");
	}
	af->fd = -1;
	int xr = af->no_sync ? replace_by_exchange(af, e) : 1;
	if (xr < 0) {
		/* af->tmp is not ours any more: leave it. */
		free(af->tmp);
		free(af->path);
		af->tmp = af->path = NULL;
		return -1;
	}
	if (xr > 0 && rename(af->tmp, af->path) < 0) {
		int err = errno;
		od_err_errno(e, err, "%s: rename into place", af->path);
		od_atomic_abort(af);
		return -1;
	}
	/* Make the rename itself durable. */
	char *copy = af->no_sync ? NULL : od_strdup(af->path);
	if (copy) {
		int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		free(copy);
	}
	free(af->tmp);
	free(af->path);
	af->tmp = af->path = NULL;
	return 0;
}

void od_atomic_abort(od_atomic_file *af)
{
	if (af->fd >= 0)
		close(af->fd);
	af->fd = -1;
	if (af->tmp)
		unlink(af->tmp);
	free(af->tmp);
	free(af->path);
	af->tmp = af->path = NULL;
}

/* ---- temporaries left by dead writers ---------------------------------------- */

int od_tmp_lock(int fd, const char *path, od_err *e)
{
	/* Blocking: a cleaner holds the lock only while it removes the thing. */
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		/* A file system without locks (some network ones): write without
		 * one.  Cleaners cannot lock there either, so they remove nothing. */
		if (errno == ENOLCK || errno == EOPNOTSUPP || errno == EINVAL)
			break;
		return od_err_errno(e, errno, "%s: cannot lock", path);
	}
	/* A cleaner may have taken the new, still unlocked, temporary for a dead
	 * writer's and removed it: then the name no longer leads to our file. */
	struct stat a, b;
	if (fstat(fd, &a) < 0)
		return od_err_errno(e, errno, "%s", path);
	if (lstat(path, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return 1;
	return 0;
}

static bool tmp_name_matches(const char *name, const char *prefix, const char *suffix)
{
	size_t n = strlen(name), pl = strlen(prefix), sl = strlen(suffix);
	if (n < pl + sl + 6 || strncmp(name, prefix, pl) != 0 || strcmp(name + n - sl, suffix) != 0)
		return false;
	const char *mid = name + pl;
	size_t ml = n - pl - sl;
	if (ml == 9 && !strncmp(mid, "gz-", 3)) {
		mid += 3;
		ml -= 3;
	}
	if (ml != 6)
		return false;
	for (size_t i = 0; i < 6; i++)
		if (!(mid[i] >= 'a' && mid[i] <= 'z') && !(mid[i] >= 'A' && mid[i] <= 'Z') && !(mid[i] >= '0' && mid[i] <= '9'))
			return false;
	return true;
}

/* Remove everything under the directory `fd`, never following a symlink.
 * The depth bound keeps a hostile tree from exhausting the stack or fds. */
static void rm_tree_fd(int fd, int depth)
{
	int dup_fd = dup(fd);
	if (dup_fd < 0)
		return;
	DIR *d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth >= 32)
				continue;
			int sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			rm_tree_fd(sub, depth + 1);
			close(sub);
			unlinkat(fd, de->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(fd, de->d_name, 0);
		}
	}
	closedir(d);
}

void od_tmp_clean(const char *dir, const char *prefix, const char *suffix)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	int scan = dup(dfd);
	DIR *d = scan >= 0 ? fdopendir(scan) : NULL;
	if (!d) {
		if (scan >= 0)
			close(scan);
		close(dfd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!tmp_name_matches(de->d_name, prefix, suffix))
			continue;
		int fd = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat a, b;
		/* Only our own files and directories, only when nobody holds them,
		 * and only if the name still leads to what we locked. */
		if (fstat(fd, &a) == 0 && a.st_uid == geteuid() && (S_ISREG(a.st_mode) || S_ISDIR(a.st_mode)) &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0 && fstatat(dfd, de->d_name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			if (S_ISDIR(a.st_mode)) {
				rm_tree_fd(fd, 0);
				unlinkat(dfd, de->d_name, AT_REMOVEDIR);
			} else {
				unlinkat(dfd, de->d_name, 0);
			}
		}
		close(fd);
	}
	closedir(d);
	close(dfd);
}
