/* snapshot.c - snapshots of an instance's disks, and going back to them.
 *
 * An external chain: each disk of an instance is a qcow2 overlay
 * (DIR/diskN.qcow2) over a read-only base.  A snapshot freezes the current
 * overlays: they move into DIR/snapshots/TAG/ (read-only from then on) and
 * the instance gets fresh, empty overlays backed by them.  Revert throws the
 * current overlays away and makes fresh ones over the snapshot's frozen
 * ones.  Both backends read such chains (our qcow2 reader for the embedded
 * runner, QEMU its own), as does export, which reads a disk as the guest
 * sees it.  Backing names are absolute paths, as deploy writes them.
 *
 * Crash safety.  A snapshot is built in DIR/snapshots/.tmp-XXXXXX (held
 * under od_tmp_lock, so a leftover is known and removed by the next
 * command) and renamed to its tag only when whole and synced: a killed
 * snapshot is never listed and touches no earlier one.  The frozen overlays
 * are hard links of the current ones, so until the rename nothing of the
 * instance has changed.  After the rename each disk gets its new overlay by
 * disk_create+commit at the instance's disk path (atomic replacement).  A
 * kill between the two leaves an instance whose disk is the same file as a
 * snapshot's frozen disk; every snapshot command first repairs that (a
 * fresh overlay over the frozen file: nothing is lost, the frozen file is
 * exactly what the instance had).
 *
 * Each snapshot has a metadata file, snapshot.meta (layout below): a
 * header with magic, version and length, then sections, each with a
 * CRC32C; every field is checked before a snapshot is used, and a damaged
 * file is refused with the instance left as it was.
 *
 * Removing a snapshot others read through (the instance's disks, later
 * snapshots) first merges its data into each of them: a new image over the
 * removed one's backing, holding what either layer had, renamed over the
 * dependant (merge_into).  A later snapshot's disk and the size its
 * metadata records change together: the merged size is recorded as an
 * alternative first, so a kill leaves either state valid (merge_frozen).
 *
 * Revert makes every new overlay under a temporary name, writes a journal,
 * then renames them over the disks; the next snapshot command, or start,
 * finishes a journaled switch: several disks revert all or not at all
 * (revert_settle).  Every snapshot command first puts right what a killed
 * one left (ctx_repair).
 *
 * A running instance: on QEMU, over QMP, the machine's state is migrated to
 * a file in the snapshot and its overlays copied while it is stopped
 * (kind "full"); revert starts QEMU again with -incoming from that file.
 * A watchdog process resumes the machine should the snapshot die between
 * stop and cont; the stop is also recorded first, so that if both die the
 * next command resumes it (paused_settle).
 * The embedded runner cannot save its state yet: refused.
 *
 * Tests only: OVFDEPLOY_TEST_SNAPSHOT_KILL=POINT makes the process SIGKILL
 * itself at that named point (test_kill_point), so that the test suite can
 * show what a kill there leaves; it is not for users. */
#include "config.h"
#include "deploy/deploy.h"
#include "disk/disk.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* snapshot.meta, little-endian:
 *   0  8  magic "ODSNAPSH"
 *   8  4  version (SNAP_VERSION)
 *  12  4  number of sections
 *  16  8  length of the whole file
 *  24  4  CRC32C of bytes 0..23
 * then per section: u32 type, u32 length, u32 CRC32C of the payload, the
 * payload.  Section SNAP_SEC_INFO is "key=value\n" text (tag, created,
 * kind, backend, instance, disks, disk.N.file, disk.N.bytes, and while a
 * removal merges into the disk disk.N.merged; for a running machine's
 * state.file, state.bytes, state.crc32c, paused).  Unknown keys and
 * section types are skipped (a section's CRC still checked), so a later
 * version may add some without bumping the version. */
#define SNAP_MAGIC "ODSNAPSH"
#define SNAP_VERSION 1u
#define SNAP_HDR 28u
#define SNAP_SEC_HDR 12u
#define SNAP_SEC_INFO 1u
#define SNAP_META_MAX (1u << 20)
#define SNAP_META "snapshot.meta"
#define SNAP_TMP_PREFIX ".tmp-"
#define SNAP_RM_PREFIX ".rm-"
#define SNAP_MERGE_PREFIX ".merge-"     /* a merged disk beside the one it replaces */
#define SNAP_REVERT_PREFIX ".revert-"   /* a revert's new overlay beside the disk */
#define SNAP_REVERT_JOURNAL ".revert"   /* in DIR/snapshots: a revert switching */
#define SNAP_PAUSED ".paused"           /* in DIR/snapshots: QEMU stopped for a save */
#define SNAP_TAG_MAX 64

/* ---- CRC32C (Castagnoli, reflected 0x82f63b78) ---------------------------- */
static uint32_t crc32c_more(uint32_t crc, const void *p, size_t n)
{
	static uint32_t table[256];
	static int ready; /* the table is the same whoever fills it */
	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
			table[i] = c;
		}
		ready = 1;
	}
	uint32_t c = crc ^ 0xffffffffu;
	const unsigned char *b = p;
	while (n--)
		c = table[(c ^ *b++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static uint32_t crc32c(const void *p, size_t n)
{
	return crc32c_more(0, p, n);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* What a snapshot's metadata says. */
struct snap_meta {
	char tag[SNAP_TAG_MAX + 1];
	long long created;
	char kind[8];     /* "disk" (stopped) or "full" (running: RAM and devices too) */
	char backend[16]; /* "embedded", "qemu" */
	char instance[INSTANCE_NAME_MAX + 1];
	size_t ndisks;
	char file[VMSPEC_MAX_DISKS][32];
	uint64_t bytes[VMSPEC_MAX_DISKS];
	/* non-zero while snapshot rm replaces the disk with a merged copy of
	 * this size (disk.N.merged): either size is the snapshot's own */
	uint64_t merged[VMSPEC_MAX_DISKS];
	/* kind "full": the machine's state (QEMU's migration stream) */
	char state[32];
	uint64_t state_bytes;
	uint32_t state_crc;
	bool paused;      /* the machine was paused when saved: it stays so */
};

int deploy_snapshot_tag_check(const char *tag, od_err *e)
{
	size_t n = strlen(tag);
	if (n == 0 || n > SNAP_TAG_MAX)
		return od_err_set(e, OD_E_USAGE, "snapshot tag must be 1 to %d characters", SNAP_TAG_MAX);
	if (tag[0] == '.' || tag[0] == '-')
		return od_err_set(e, OD_E_USAGE, "snapshot tag '%s' must not start with '.' or '-'", tag);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)tag[i];
		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return od_err_set(e, OD_E_USAGE, "snapshot tag '%s': only letters, digits, '.', '_' and '-' are allowed",
					  tag);
	}
	return 0;
}

static int meta_encode(const struct snap_meta *m, od_buf *out, od_err *e)
{
	od_buf t = {0};
	int rc = od_buf_printf(&t, "tag=%s\ncreated=%lld\nkind=%s\nbackend=%s\ninstance=%s\ndisks=%zu\n", m->tag,
			       m->created, m->kind, m->backend, m->instance, m->ndisks);
	for (size_t i = 0; i < m->ndisks; i++) {
		rc |= od_buf_printf(&t, "disk.%zu.file=%s\ndisk.%zu.bytes=%llu\n", i, m->file[i], i,
				    (unsigned long long)m->bytes[i]);
		if (m->merged[i])
			rc |= od_buf_printf(&t, "disk.%zu.merged=%llu\n", i, (unsigned long long)m->merged[i]);
	}
	if (m->state[0])
		rc |= od_buf_printf(&t, "state.file=%s\nstate.bytes=%llu\nstate.crc32c=%08x\npaused=%d\n", m->state,
				    (unsigned long long)m->state_bytes, m->state_crc, m->paused);
	unsigned char hdr[SNAP_HDR + SNAP_SEC_HDR];
	if (rc) {
		od_buf_free(&t);
		return od_err_nomem(e);
	}
	memcpy(hdr, SNAP_MAGIC, 8);
	put32(hdr + 8, SNAP_VERSION);
	put32(hdr + 12, 1);
	put64(hdr + 16, SNAP_HDR + SNAP_SEC_HDR + t.len);
	put32(hdr + 24, crc32c(hdr, 24));
	put32(hdr + SNAP_HDR, SNAP_SEC_INFO);
	put32(hdr + SNAP_HDR + 4, (uint32_t)t.len);
	put32(hdr + SNAP_HDR + 8, crc32c(t.data, t.len));
	rc = od_buf_append(out, hdr, sizeof hdr) | od_buf_append(out, t.data, t.len);
	od_buf_free(&t);
	return rc ? od_err_nomem(e) : 0;
}

/* One "key=value" of the INFO text into m; unknown keys are ignored. */
static int meta_field(struct snap_meta *m, const char *key, const char *val, const char *path, od_err *e)
{
	char *end;
	size_t i;
	errno = 0;
	if (!strcmp(key, "tag") && strlen(val) <= SNAP_TAG_MAX)
		strcpy(m->tag, val);
	else if (!strcmp(key, "kind") && (!strcmp(val, "disk") || !strcmp(val, "full")))
		strcpy(m->kind, val);
	else if (!strcmp(key, "backend") && strlen(val) < sizeof m->backend)
		strcpy(m->backend, val);
	else if (!strcmp(key, "instance") && strlen(val) <= INSTANCE_NAME_MAX)
		strcpy(m->instance, val);
	else if (!strcmp(key, "created")) {
		m->created = strtoll(val, &end, 10);
		if (errno || *end || end == val)
			return od_err_set(e, OD_E_INVALID, "%s: bad created time '%s'", path, val);
	} else if (!strcmp(key, "disks")) {
		unsigned long v = strtoul(val, &end, 10);
		if (errno || *end || end == val || v > VMSPEC_MAX_DISKS)
			return od_err_set(e, OD_E_INVALID, "%s: bad disk count '%s'", path, val);
		m->ndisks = v;
	} else if (!strcmp(key, "paused")) {
		m->paused = !strcmp(val, "1");
	} else if (!strcmp(key, "state.file")) {
		if (!*val || strlen(val) >= sizeof m->state || strchr(val, '/') || val[0] == '.')
			return od_err_set(e, OD_E_INVALID, "%s: bad state file name '%s'", path, val);
		strcpy(m->state, val);
	} else if (!strcmp(key, "state.bytes") || !strcmp(key, "state.crc32c")) {
		bool crc = key[6] == 'c';
		unsigned long long v = strtoull(val, &end, crc ? 16 : 10);
		if (errno || *end || end == val || (crc && v > UINT32_MAX))
			return od_err_set(e, OD_E_INVALID, "%s: bad %s '%s'", path, key, val);
		if (crc)
			m->state_crc = (uint32_t)v;
		else
			m->state_bytes = v;
	} else if (!strncmp(key, "disk.", 5)) {
		i = strtoul(key + 5, &end, 10);
		if (end == key + 5 || *end != '.' || i >= VMSPEC_MAX_DISKS)
			return od_err_set(e, OD_E_INVALID, "%s: bad key '%s'", path, key);
		if (!strcmp(end, ".file")) {
			/* a plain file name in the snapshot's directory, nothing else */
			if (!*val || strlen(val) >= sizeof m->file[i] || strchr(val, '/') || val[0] == '.')
				return od_err_set(e, OD_E_INVALID, "%s: bad disk file name '%s'", path, val);
			strcpy(m->file[i], val);
		} else if (!strcmp(end, ".bytes") || !strcmp(end, ".merged")) {
			bool merged = end[1] == 'm';
			unsigned long long v = strtoull(val, &end, 10);
			if (errno || *end || end == val)
				return od_err_set(e, OD_E_INVALID, "%s: bad disk size '%s'", path, val);
			if (merged)
				m->merged[i] = v;
			else
				m->bytes[i] = v;
		}
	} else if (!strcmp(key, "tag") || !strcmp(key, "kind") || !strcmp(key, "backend") || !strcmp(key, "instance"))
		return od_err_set(e, OD_E_INVALID, "%s: bad %s '%.40s'", path, key, val);
	return 0;
}

/* Read and check DIR/snapshots/TAG/snapshot.meta. */
static int meta_read(const char *snapdir, struct snap_meta *m, od_err *e)
{
	memset(m, 0, sizeof *m);
	char *path = od_asprintf("%s/" SNAP_META, snapdir), *data = NULL;
	size_t len = 0;
	int rc = -1;
	if (!path)
		return od_err_nomem(e);
	if (od_read_file(path, SNAP_META_MAX, &data, &len, e) < 0)
		goto out;
	const unsigned char *p = (const unsigned char *)data;
	if (len < SNAP_HDR || memcmp(p, SNAP_MAGIC, 8) != 0) {
		od_err_set(e, OD_E_INVALID, "%s: not a snapshot metadata file (bad magic or too short)", path);
		goto out;
	}
	if (get32(p + 24) != crc32c(p, 24)) {
		od_err_set(e, OD_E_INVALID, "%s: damaged (header checksum mismatch)", path);
		goto out;
	}
	if (get32(p + 8) != SNAP_VERSION) {
		od_err_set(e, OD_E_INVALID, "%s: snapshot format version %u, this ovfdeploy reads version %u", path,
			   get32(p + 8), SNAP_VERSION);
		goto out;
	}
	if (get64(p + 16) != len) {
		od_err_set(e, OD_E_INVALID, "%s: damaged (%zu bytes, the header says %llu)", path, len,
			   (unsigned long long)get64(p + 16));
		goto out;
	}
	uint32_t nsec = get32(p + 12);
	size_t off = SNAP_HDR;
	bool info = false;
	for (uint32_t s = 0; s < nsec; s++) {
		if (len - off < SNAP_SEC_HDR) {
			od_err_set(e, OD_E_INVALID, "%s: damaged (section %u runs past the end)", path, s);
			goto out;
		}
		uint32_t type = get32(p + off), slen = get32(p + off + 4), scrc = get32(p + off + 8);
		off += SNAP_SEC_HDR;
		if (slen > len - off) {
			od_err_set(e, OD_E_INVALID, "%s: damaged (section %u runs past the end)", path, s);
			goto out;
		}
		if (crc32c(p + off, slen) != scrc) {
			od_err_set(e, OD_E_INVALID, "%s: damaged (section %u checksum mismatch)", path, s);
			goto out;
		}
		if (type == SNAP_SEC_INFO) {
			/* the payload is text: copy it to parse it line by line */
			char *t = od_strndup(data + off, slen);
			if (!t) {
				od_err_nomem(e);
				goto out;
			}
			int r = 0;
			char *save = NULL;
			for (char *line = strtok_r(t, "\n", &save); line && r == 0; line = strtok_r(NULL, "\n", &save)) {
				char *eq = strchr(line, '=');
				if (!eq) {
					r = od_err_set(e, OD_E_INVALID, "%s: malformed line '%.40s'", path, line);
					break;
				}
				*eq = 0;
				r = meta_field(m, line, eq + 1, path, e);
			}
			free(t);
			if (r < 0)
				goto out;
			info = true;
		}
		off += slen;
	}
	if (off != len) {
		od_err_set(e, OD_E_INVALID, "%s: damaged (%zu bytes after the last section)", path, len - off);
		goto out;
	}
	if (!info || !m->tag[0] || !m->kind[0] || !m->backend[0] || !m->instance[0]) {
		od_err_set(e, OD_E_INVALID, "%s: incomplete (tag, kind, backend or instance missing)", path);
		goto out;
	}
	if (!strcmp(m->kind, "full") && !m->state[0]) {
		od_err_set(e, OD_E_INVALID, "%s: a snapshot of a running machine without its state file", path);
		goto out;
	}
	for (size_t i = 0; i < m->ndisks; i++)
		if (!m->file[i][0]) {
			od_err_set(e, OD_E_INVALID, "%s: disk %zu has no file", path, i);
			goto out;
		}
	rc = 0;
out:
	free(data);
	free(path);
	return rc;
}

/* A small file written whole at path, crash-safe and synced (path NULL:
 * out of memory making it). */
static int write_whole(const char *path, int mode, const void *p, size_t n, od_err *e)
{
	od_atomic_file af;
	int r = !path ? od_err_nomem(e) : od_atomic_open(&af, path, mode, e);
	if (r == 0) {
		if ((r = od_write_all(af.fd, p, n, path, e)) == 0)
			r = od_atomic_commit(&af, e);
		else
			od_atomic_abort(&af);
	}
	return r;
}

/* DIR/snapshot.meta, crash-safe and synced. */
static int meta_write(const char *dir, const struct snap_meta *m, od_err *e)
{
	od_buf mb = {0};
	char *mpath = od_asprintf("%s/" SNAP_META, dir);
	int r = !mpath ? od_err_nomem(e) : meta_encode(m, &mb, e);
	if (r == 0)
		r = write_whole(mpath, 0400, mb.data, mb.len, e);
	od_buf_free(&mb);
	free(mpath);
	return r;
}

/* ---- files ------------------------------------------------------------------- */

static int fsync_path(const char *path, od_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return od_err_errno(e, errno, "%s", path);
	int rc = fsync(fd) < 0 ? od_err_errno(e, errno, "%s: fsync", path) : 0;
	close(fd);
	return rc;
}

/* The test suite's way to kill a snapshot command at a chosen point
 * (OVFDEPLOY_TEST_SNAPSHOT_KILL, for tests only): linked, before-rename,
 * after-rename, stopped, saved (take; "stopped,watchdog" and
 * "saved,watchdog" kill the watchdog first); revert-made,
 * revert-journaled, revert-switching (revert); merging, merge-recorded,
 * merged (rm). */
static pid_t test_watchdog; /* save_running's watchdog, for ",watchdog" */

static void test_kill_point(const char *where)
{
	const char *k = getenv("OVFDEPLOY_TEST_SNAPSHOT_KILL");
	size_t n = strlen(where);
	if (!k || strncmp(k, where, n) != 0)
		return;
	/* "POINT,watchdog": the watchdog dies too, as when both are killed */
	if (!strcmp(k + n, ",watchdog") && test_watchdog > 0)
		kill(test_watchdog, SIGKILL);
	else if (k[n])
		return;
	raise(SIGKILL);
}

/* An instance being worked on: loaded, stopped (a read lock on its pid
 * file, as export takes: neither backend can start it meanwhile), and its
 * snapshots directory locked against other snapshot commands. */
struct snap_ctx {
	struct instance in;
	char *snaps;  /* DIR/snapshots */
	int pidfd, lockfd;
	bool running; /* on QEMU (allow_running): no pid-file lock taken */
};

static void ctx_close(struct snap_ctx *c)
{
	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->lockfd >= 0)
		close(c->lockfd);
	free(c->snaps);
	instance_free(&c->in);
}

static int ctx_open(struct snap_ctx *c, const char *name, bool need_stopped, bool allow_running, od_err *e)
{
	memset(c, 0, sizeof *c);
	c->pidfd = c->lockfd = -1;
	if (instance_load(name, &c->in, e) < 0)
		return -1;
	struct instance *in = &c->in;
	c->snaps = od_asprintf("%s/snapshots", in->dir);
	if (!c->snaps)
		goto nomem;
	if (mkdir(c->snaps, 0700) < 0 && errno != EEXIST) {
		od_err_errno(e, errno, "cannot create %s", c->snaps);
		goto fail;
	}
	c->lockfd = open(c->snaps, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c->lockfd < 0) {
		od_err_errno(e, errno, "%s", c->snaps);
		goto fail;
	}
	if (flock(c->lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			od_err_set(e, OD_E_USAGE, "another snapshot command is working on instance '%s'", name);
		else
			od_err_errno(e, errno, "%s: lock", c->snaps);
		goto fail;
	}
	if (!need_stopped)
		return 0;
	c->pidfd = open(in->spec.pidfile, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c->pidfd < 0) {
		od_err_errno(e, errno, "%s", in->spec.pidfile);
		goto fail;
	}
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	if (fcntl(c->pidfd, F_SETLK, &fl) < 0) {
		int err = errno;
		if (err != EAGAIN && err != EACCES) {
			od_err_errno(e, err, "%s: cannot lock", in->spec.pidfile);
			goto fail;
		}
		char be[32] = "";
		deploy_running_backend(in, be, sizeof be);
		if (allow_running && !strncmp(be, "qemu", 4) && in->spec.control_socket) {
			close(c->pidfd);
			c->pidfd = -1;
			c->running = true;
			return 0;
		}
		if (!strcmp(be, "embedded"))
			od_err_set(e, OD_E_USAGE,
				   "snapshots of a running embedded instance are not supported yet: stop it first, or use --backend qemu");
		else
			od_err_set(e, OD_E_USAGE,
				   "instance '%s' is running (pid %d): stop it first ('ovfdeploy stop %s')",
				   name, (int)instance_running_pid(in), name);
		goto fail;
	}
	return 0;
nomem:
	od_err_nomem(e);
fail:
	ctx_close(c);
	return -1;
}

/* The pid-file read lock for a context opened without it. */
static int lock_stopped(struct snap_ctx *c, od_err *e)
{
	int fd = open(c->in.spec.pidfile, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return od_err_errno(e, errno, "%s", c->in.spec.pidfile);
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		close(fd);
		return od_err_set(e, OD_E_USAGE, "instance '%s' is running: stop it first ('ovfdeploy stop %s')",
				  c->in.name, c->in.name);
	}
	c->pidfd = fd;
	return 0;
}

static char *disk_base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return od_strdup(s ? s + 1 : path);
}

/* A fresh empty overlay at `path` over `backing` (a qcow2 file), replacing
 * what is at `path` atomically and durably. */
static int fresh_overlay(const char *path, const char *backing, od_err *e)
{
	disk *b = disk_open(backing, DISK_RDONLY, e);
	if (!b)
		return -1;
	uint64_t size = disk_size(b);
	disk_close(b);
	struct disk_create_opts co = {.backing_file = backing, .backing_format = "qcow2", .compat = "1.1"};
	disk *ov = disk_create(path, "qcow2", size, &co, e);
	if (!ov)
		return -1;
	int rc = disk_commit(ov, e);
	disk_close(ov);
	return rc;
}

/* ---- what a killed command left, put right by the next one ----------------- */

/* A snapshot's disk with a size recorded as the alternative (disk.N.merged:
 * a removal merging into it was killed): the size it has now becomes the
 * recorded one, and a merged copy never renamed into place goes. */
static int settle_merged(const char *odir, const struct vmspec *s, od_err *e)
{
	for (size_t i = 0; i < s->ndisks; i++) {
		char *bn = disk_base_name(s->disks[i].path);
		char *left = bn ? od_asprintf("%s/" SNAP_MERGE_PREFIX "%s", odir, bn) : NULL;
		char *atmp = bn ? od_asprintf("." SNAP_MERGE_PREFIX "%s.", bn) : NULL;
		if (left)
			unlink(left);
		if (atmp)
			od_tmp_clean(odir, atmp, ".tmp"); /* disk_create's own temporary of it */
		free(atmp);
		free(left);
		free(bn);
	}
	struct snap_meta m;
	if (meta_read(odir, &m, NULL) < 0)
		return 0; /* damaged: listed as such, refused when used */
	bool any = false;
	for (size_t i = 0; i < m.ndisks; i++) {
		if (!m.merged[i])
			continue;
		char *f = od_asprintf("%s/%s", odir, m.file[i]);
		struct stat st;
		if (!f)
			return od_err_nomem(e);
		if (stat(f, &st) == 0 && (uint64_t)st.st_size == m.merged[i])
			m.bytes[i] = m.merged[i];
		m.merged[i] = 0;
		any = true;
		free(f);
	}
	return any ? meta_write(odir, &m, e) : 0;
}

/* DIR/.revert-NAME: a revert's new overlay for the instance disk DIR/NAME,
 * beside it so that a rename puts it in place. */
static char *revert_tmp_name(const char *path)
{
	const char *sl = strrchr(path, '/');
	if (!sl)
		return od_asprintf(SNAP_REVERT_PREFIX "%s", path);
	return od_asprintf("%.*s/" SNAP_REVERT_PREFIX "%s", (int)(sl - path), path, sl + 1);
}

/* A revert's new overlay that will not be used, and disk_create's own
 * temporary of it (".NAME.XXXXXX.tmp") if a kill left one. */
static void revert_tmp_drop(const char *tmp)
{
	unlink(tmp);
	const char *sl = strrchr(tmp, '/');
	char *dir = sl ? od_strndup(tmp, (size_t)(sl - tmp)) : od_strdup(".");
	char *prefix = od_asprintf(".%s.", sl ? sl + 1 : tmp);
	if (dir && prefix)
		od_tmp_clean(dir, prefix, ".tmp");
	free(prefix);
	free(dir);
}

/* A revert's switch, rolled forward from its journal (DIR/snapshots/.revert,
 * written only once every new overlay was whole and synced under its
 * temporary name): each one still there is renamed over its disk (one
 * already renamed is gone), then the journal goes.  Without a journal the
 * revert had not begun to change anything: its temporaries go.  So a
 * revert of several disks killed at any point ends all done or not at all. */
static int revert_settle(const char *snaps, const struct vmspec *s, od_err *e)
{
	char *j = od_asprintf("%s/" SNAP_REVERT_JOURNAL, snaps);
	if (!j)
		return od_err_nomem(e);
	bool forward = access(j, F_OK) == 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < s->ndisks; i++) {
		const char *path = s->disks[i].path;
		char *tmp = revert_tmp_name(path);
		if (!tmp)
			rc = od_err_nomem(e);
		else if (!forward)
			revert_tmp_drop(tmp);
		else if (rename(tmp, path) < 0 && errno != ENOENT)
			rc = od_err_errno(e, errno, "cannot rename %s to %s", tmp, path);
		else if (i == 0)
			test_kill_point("revert-switching");
		free(tmp);
	}
	/* the disks' directories (the instance's) hold the renames */
	for (size_t i = 0; rc == 0 && forward && i < s->ndisks; i++) {
		char *d = od_strdup(s->disks[i].path);
		char *sl = d ? strrchr(d, '/') : NULL;
		if (sl)
			*sl = 0;
		rc = !d ? od_err_nomem(e) : sl ? fsync_path(d, e) : 0;
		free(d);
	}
	if (rc == 0 && forward && unlink(j) < 0)
		rc = od_err_errno(e, errno, "%s", j);
	if (rc == 0 && forward)
		rc = fsync_path(snaps, e);
	free(j);
	if (rc < 0)
		od_err_prefix(e, "finishing an interrupted revert");
	return rc;
}

/* The journal of a revert whose new overlays are all made: from here on
 * it is finished, if need be by the next command (revert_settle). */
static int revert_journal(const char *snaps, const char *tag, od_err *e)
{
	char *j = od_asprintf("%s/" SNAP_REVERT_JOURNAL, snaps);
	char line[SNAP_TAG_MAX + 2];
	int n = snprintf(line, sizeof line, "%s\n", tag);
	int rc = write_whole(j, 0600, line, (size_t)n, e);
	free(j);
	return rc;
}

int deploy_snapshot_settle(struct instance *in, od_err *e)
{
	char *snaps = od_asprintf("%s/snapshots", in->dir);
	char *j = snaps ? od_asprintf("%s/" SNAP_REVERT_JOURNAL, snaps) : NULL;
	int rc = j ? 0 : od_err_nomem(e);
	if (rc == 0 && access(j, F_OK) == 0) {
		int fd = open(snaps, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			rc = od_err_errno(e, errno, "%s", snaps);
		else if (flock(fd, LOCK_EX | LOCK_NB) < 0)
			rc = od_err_set(e, OD_E_USAGE, "instance '%s': a snapshot command is working on it", in->name);
		else
			rc = revert_settle(snaps, &in->spec, e);
		if (fd >= 0)
			close(fd);
	}
	free(j);
	free(snaps);
	return rc;
}

void deploy_snapshot_forget_pause(const struct instance *in)
{
	char *path = od_asprintf("%s/snapshots/" SNAP_PAUSED, in->dir);
	if (path)
		unlink(path);
	free(path);
}

/* A snapshot of a running QEMU machine stops it for the save.  Killed
 * before its cont, it would leave the machine paused with nobody to resume
 * it; so the stop is recorded first (DIR/snapshots/.paused: QEMU's pid) and
 * the record removed after the cont.  Whoever next holds the snapshots
 * lock finds a record left and, if that same QEMU still runs, cancels a
 * migration left going and resumes the machine. */
static int paused_settle(const char *snaps, const struct instance *in, od_err *e)
{
	char *path = od_asprintf("%s/" SNAP_PAUSED, snaps), *data = NULL;
	size_t len;
	int rc = 0;
	if (!path)
		return od_err_nomem(e);
	if (od_read_file(path, 64, &data, &len, NULL) < 0) {
		free(path);
		return 0;
	}
	long pid = strtol(data, NULL, 10);
	char be[32] = "";
	deploy_running_backend(in, be, sizeof be);
	if (pid > 0 && instance_running_pid(in) == (pid_t)pid && !strncmp(be, "qemu", 4) && in->spec.control_socket) {
		struct deploy_qmp *q;
		char line[1024], status[32] = "";
		od_err ig;
		rc = deploy_qmp_open(&q, in->spec.control_socket, e);
		if (rc == 0) {
			deploy_qmp_exec(q, "migrate_cancel", line, sizeof line, &ig);
			rc = deploy_qmp_exec(q, "query-status", line, sizeof line, e);
			if (rc == 0)
				deploy_qmp_word(line, "status", status, sizeof status);
			if (rc == 0 && strcmp(status, "running") != 0)
				rc = deploy_qmp_exec(q, "cont", line, sizeof line, e);
			deploy_qmp_close(q);
		}
		if (rc < 0)
			od_err_prefix(e, "instance '%s' was left paused by a snapshot that did not finish; resuming it", in->name);
	}
	if (rc == 0)
		unlink(path);
	free(data);
	free(path);
	return rc;
}

/* Put right what a killed snapshot command left (every snapshot command
 * does this first, holding the snapshots lock): a machine left paused
 * resumed, a revert's switch finished, merged sizes settled, temporaries
 * nobody holds removed, and a disk of the instance that is still the same
 * file as a snapshot's frozen disk (a snapshot killed after its rename)
 * given a fresh overlay over it. */
static int ctx_repair(struct snap_ctx *c, od_err *e)
{
	if (paused_settle(c->snaps, &c->in, e) < 0)
		return -1;
	od_tmp_clean(c->snaps, SNAP_TMP_PREFIX, "");
	od_tmp_clean(c->snaps, SNAP_RM_PREFIX, "");
	if (c->running)
		return 0; /* its disks are the machine's now: repaired when stopped */
	const struct vmspec *s = &c->in.spec;
	if (revert_settle(c->snaps, s, e) < 0)
		return -1;
	DIR *d = opendir(c->snaps);
	if (!d)
		return od_err_errno(e, errno, "%s", c->snaps);
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (deploy_snapshot_tag_check(de->d_name, NULL) < 0)
			continue;
		char *odir = od_asprintf("%s/%s", c->snaps, de->d_name);
		rc = odir ? settle_merged(odir, s, e) : od_err_nomem(e);
		for (size_t i = 0; rc == 0 && i < s->ndisks; i++) {
			char *bn = disk_base_name(s->disks[i].path);
			char *frozen = bn ? od_asprintf("%s/%s", odir, bn) : NULL;
			struct stat a, b;
			if (!frozen)
				rc = od_err_nomem(e);
			else if (stat(frozen, &a) == 0 && stat(s->disks[i].path, &b) == 0 && a.st_dev == b.st_dev &&
				 a.st_ino == b.st_ino)
				rc = fresh_overlay(s->disks[i].path, frozen, e);
			free(frozen);
			free(bn);
		}
		free(odir);
	}
	closedir(d);
	return rc;
}

/* Whether the backing chain of `path` is short enough for one more level. */
static int chain_room(const char *path, od_err *e)
{
	disk *d = disk_open(path, DISK_RDONLY, e);
	if (!d)
		return -1;
	unsigned depth = 0;
	for (disk *b = disk_backing(d); b; b = disk_backing(b))
		depth++;
	disk_close(d);
	if (depth + 2 > DISK_MAX_BACKING_DEPTH)
		return od_err_set(e, OD_E_USAGE,
				  "%s: its backing chain is %u deep already; another snapshot would pass the limit of %d (remove a snapshot first)",
				  path, depth, DISK_MAX_BACKING_DEPTH);
	return 0;
}

static void default_tag(const char *snaps, char *tag, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char base[40];
	strftime(base, sizeof base, "snap-%Y%m%d-%H%M%S", &tm);
	snprintf(tag, len, "%s", base);
	for (unsigned n = 2; n < 1000; n++) {
		char *p = od_asprintf("%s/%s", snaps, tag);
		bool taken = p && access(p, F_OK) == 0;
		free(p);
		if (!taken)
			return;
		snprintf(tag, len, "%s-%u", base, n);
	}
}

/* ---- running machines (QEMU, over QMP) ----------------------------------------- */

#define SNAP_STATE "state.mig"
#define MIGRATE_POLL_MS 20
#define MIGRATE_MAX_POLLS (600 * 1000 / MIGRATE_POLL_MS) /* 10 minutes */

/* Read src whole: its length into *bytes and CRC32C into *crc, and a copy
 * into a new file dst (0400, synced) unless dst is NULL. */
static int read_file_through(const char *src, const char *dst, uint64_t *bytes, uint32_t *crc, od_err *e)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return od_err_errno(e, errno, "%s", src);
	int out = dst ? open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400) : -1;
	if (dst && out < 0) {
		int err = errno;
		close(in);
		return od_err_errno(e, err, "%s", dst);
	}
	enum { CHUNK = 1 << 20 };
	char *buf = malloc(CHUNK);
	int rc = buf ? 0 : od_err_nomem(e);
	uint64_t total = 0;
	uint32_t c = 0;
	while (rc == 0) {
		ssize_t n = read(in, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = od_err_errno(e, errno, "%s: read", src);
		if (n <= 0)
			break;
		if (out >= 0)
			rc = od_write_all(out, buf, (size_t)n, dst, e);
		total += (uint64_t)n;
		c = crc32c_more(c, buf, (size_t)n);
	}
	if (rc == 0 && out >= 0 && fsync(out) < 0)
		rc = od_err_errno(e, errno, "%s: fsync", dst);
	free(buf);
	close(in);
	if (out >= 0 && close(out) < 0 && rc == 0)
		rc = od_err_errno(e, errno, "%s: close", dst);
	*bytes = total;
	*crc = c;
	return rc;
}

/* QEMU's exec: migration URIs go through /bin/sh: a path is single-quoted
 * there and a JSON string here, so the characters both treat specially
 * are refused rather than escaped twice. */
static int shell_safe(const char *path, od_err *e)
{
	for (const char *p = path; *p; p++)
		if (*p == '\'' || *p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			return od_err_set(e, OD_E_USAGE, "%s: the instance's path holds a quote, backslash or control character, "
					  "which QEMU's migration to a file cannot take", path);
	return 0;
}

/* The record paused_settle reads: the running QEMU's pid, synced. */
static int paused_mark(struct snap_ctx *c, od_err *e)
{
	char *path = od_asprintf("%s/" SNAP_PAUSED, c->snaps);
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%ld\n", (long)instance_running_pid(&c->in));
	int rc = write_whole(path, 0600, buf, (size_t)n, e);
	free(path);
	return rc;
}

/* The watchdog of a stopped machine: a child that resumes it should this
 * process die between the stop and the cont (killed, crashed).  It waits
 * on a pipe whose write end only this process holds: end of file without
 * the "done" byte means this process is gone, and the child then does
 * what the next command would (paused_settle, under the snapshots lock).
 * It leaves this process's session, so a Ctrl-C that kills a snapshot
 * does not kill it too; the pause record covers the case where both die.
 * Best effort: without a pipe or a fork the record alone remains. */
struct watchdog {
	pid_t pid;
	int fd;
};

static void watchdog_start(struct snap_ctx *c, struct watchdog *w)
{
	int p[2];
	w->pid = -1;
	w->fd = -1;
	if (pipe(p) < 0)
		return;
	fcntl(p[1], F_SETFD, FD_CLOEXEC); /* no program this process starts holds it */
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		/* nothing of the parent's may outlive it here: its locks (the
		 * snapshots directory, the temporary) go with it */
		long max = sysconf(_SC_OPEN_MAX);
		for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			if (fd != p[0])
				close(fd);
		setsid();
		char b;
		ssize_t n;
		do
			n = read(p[0], &b, 1);
		while (n < 0 && errno == EINTR);
		if (n == 1)
			_exit(0);
		int fd = open(c->snaps, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		od_err ig;
		if (fd >= 0 && flock(fd, LOCK_EX) == 0)
			paused_settle(c->snaps, &c->in, &ig);
		_exit(0);
	}
	close(p[0]);
	w->pid = test_watchdog = pid;
	w->fd = p[1];
}

static void watchdog_stop(struct watchdog *w)
{
	if (w->fd >= 0) {
		ssize_t n;
		do
			n = write(w->fd, "d", 1);
		while (n < 0 && errno == EINTR);
		close(w->fd);
	}
	if (w->pid > 0)
		while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
			;
	test_watchdog = 0;
}

/* The running QEMU machine's state into DIR/state.mig and its disks into
 * copies in DIR, all at one instant: stop, migrate to the file (QEMU
 * flushes and lets go of its images when the migration completes), copy
 * the overlays, cont (unless it was paused before). */
static int save_running(struct snap_ctx *c, const char *dir, struct snap_meta *m, od_err *e)
{
	const struct vmspec *s = &c->in.spec;
	char *state = od_asprintf("%s/" SNAP_STATE, dir), *req = NULL;
	struct deploy_qmp *q = NULL;
	char line[2048], status[32];
	bool stopped = false, was_paused = false, marked = false;
	int rc = state ? 0 : od_err_nomem(e);
	if (rc == 0)
		rc = shell_safe(state, e);
	if (rc == 0)
		rc = deploy_qmp_open(&q, s->control_socket, e);
	if (rc == 0 && (rc = deploy_qmp_exec(q, "query-status", line, sizeof line, e)) == 0) {
		deploy_qmp_word(line, "status", status, sizeof status);
		was_paused = !strcmp(status, "paused");
	}
	/* recorded before the stop: a kill from here to the cont leaves the
	 * record for the next command to resume the machine (paused_settle) */
	struct watchdog wd = {.pid = -1, .fd = -1};
	if (rc == 0 && !was_paused && (rc = paused_mark(c, e)) == 0) {
		marked = true;
		watchdog_start(c, &wd);
	}
	if (rc == 0 && (rc = deploy_qmp_exec(q, "stop", line, sizeof line, e)) == 0)
		stopped = true;
	test_kill_point("stopped");
	/* no bandwidth cap: the machine is stopped, one pass writes it all */
	if (rc == 0)
		rc = deploy_qmp_exec(q, "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"max-bandwidth\": 1099511627776}}",
				     line, sizeof line, e);
	if (rc == 0 && !(req = od_asprintf("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"exec:cat > '%s'\"}}", state)))
		rc = od_err_nomem(e);
	if (rc == 0 && (rc = deploy_qmp_exec(q, req, line, sizeof line, e)) < 0 && strstr(e->msg, "vmdk"))
		od_err_prefix(e, "QEMU cannot save a running machine whose disks read a VMDK base (its vmdk driver blocks "
				 "migration): stop the instance and snapshot its disks instead");
	for (unsigned i = 0; rc == 0; i++) {
		if ((rc = deploy_qmp_exec(q, "query-migrate", line, sizeof line, e)) < 0)
			break;
		deploy_qmp_word(line, "status", status, sizeof status);
		if (!strcmp(status, "completed"))
			break;
		if (!strcmp(status, "failed") || !strcmp(status, "cancelled"))
			rc = od_err_set(e, OD_E_IO, "QEMU could not save the machine's state (migration %s)", status);
		else if (i >= MIGRATE_MAX_POLLS)
			rc = od_err_set(e, OD_E_IO, "QEMU did not finish saving the machine's state in 10 minutes");
		else
			usleep(MIGRATE_POLL_MS * 1000);
	}
	test_kill_point("saved");
	for (size_t i = 0; rc == 0 && i < s->ndisks; i++) {
		char *bn = disk_base_name(s->disks[i].path);
		char *dst = bn ? od_asprintf("%s/%s", dir, bn) : NULL;
		uint32_t crc;
		if (!dst)
			rc = od_err_nomem(e);
		else if (strlen(bn) >= sizeof m->file[i])
			rc = od_err_set(e, OD_E_INVALID, "%s: disk file name too long", bn);
		else if ((rc = read_file_through(s->disks[i].path, dst, &m->bytes[i], &crc, e)) == 0)
			strcpy(m->file[i], bn);
		free(dst);
		free(bn);
	}
	/* the machine runs on whatever happened */
	if (stopped && !was_paused) {
		od_err ig;
		if (deploy_qmp_exec(q, "cont", line, sizeof line, rc == 0 ? e : &ig) < 0)
			rc = -1;
		else
			deploy_snapshot_forget_pause(&c->in);
	} else if (marked) {
		deploy_snapshot_forget_pause(&c->in);
	}
	watchdog_stop(&wd);
	if (rc == 0 && (rc = read_file_through(state, NULL, &m->state_bytes, &m->state_crc, e)) == 0) {
		strcpy(m->state, SNAP_STATE);
		if (m->state_bytes == 0)
			rc = od_err_set(e, OD_E_IO, "QEMU saved an empty machine state");
	}
	m->paused = was_paused;
	if (rc == 0 && chmod(state, 0400) < 0)
		rc = od_err_errno(e, errno, "%s", state);
	if (rc == 0)
		rc = fsync_path(state, e);
	deploy_qmp_close(q);
	free(req);
	free(state);
	if (rc < 0)
		od_err_prefix(e, "instance '%s'", c->in.name);
	return rc;
}

/* Stop a running QEMU machine at once (QMP quit), waiting until its pid
 * file is let go. */
static int quit_running(struct snap_ctx *c, od_err *e)
{
	struct deploy_qmp *q;
	char line[512];
	if (deploy_qmp_open(&q, c->in.spec.control_socket, e) < 0)
		return -1;
	od_err ig;
	deploy_qmp_exec(q, "quit", line, sizeof line, &ig); /* QEMU may close before it answers */
	deploy_qmp_close(q);
	for (unsigned i = 0; i < 500; i++) {
		if (!instance_running_pid(&c->in))
			return 0;
		usleep(20 * 1000);
	}
	return od_err_set(e, OD_E_IO, "instance '%s': QEMU did not quit within 10 s", c->in.name);
}

/* After a start with -incoming: wait until QEMU has read the state in,
 * then let it run (it was stopped when saved, and QEMU restores that). */
static int resume_restored(struct snap_ctx *c, bool run, od_err *e)
{
	struct deploy_qmp *q;
	char line[1024], status[32] = "";
	if (deploy_qmp_open(&q, c->in.spec.control_socket, e) < 0)
		return -1;
	int rc = 0;
	for (unsigned i = 0; rc == 0; i++) {
		if ((rc = deploy_qmp_exec(q, "query-status", line, sizeof line, e)) < 0)
			break;
		deploy_qmp_word(line, "status", status, sizeof status);
		if (strcmp(status, "inmigrate") != 0)
			break;
		if (i >= MIGRATE_MAX_POLLS)
			rc = od_err_set(e, OD_E_IO, "QEMU did not finish reading the machine's state in 10 minutes");
		else
			usleep(MIGRATE_POLL_MS * 1000);
	}
	if (rc == 0 && strcmp(status, "paused") != 0 && strcmp(status, "running") != 0)
		rc = od_err_set(e, OD_E_IO, "QEMU could not restore the machine's state (it is %s; see %s)", status,
				c->in.spec.console_log);
	if (rc == 0 && run && !strcmp(status, "paused"))
		rc = deploy_qmp_exec(q, "cont", line, sizeof line, e);
	deploy_qmp_close(q);
	if (rc < 0)
		od_err_prefix(e, "instance '%s'", c->in.name);
	return rc;
}

int deploy_snapshot_take(const char *name, const char *tag_in, char *tag_out, size_t tag_len, od_err *e)
{
	struct snap_ctx c;
	if (tag_in && deploy_snapshot_tag_check(tag_in, e) < 0)
		return -1;
	if (ctx_open(&c, name, true, true, e) < 0)
		return -1;
	const struct vmspec *s = &c.in.spec;
	char tag[SNAP_TAG_MAX + 1];
	char *tmp = NULL, *final = NULL;
	int rc = -1, tmpfd = -1;
	if (ctx_repair(&c, e) < 0)
		goto out;
	if (tag_in)
		snprintf(tag, sizeof tag, "%s", tag_in);
	else
		default_tag(c.snaps, tag, sizeof tag);
	final = od_asprintf("%s/%s", c.snaps, tag);
	tmp = od_asprintf("%s/" SNAP_TMP_PREFIX "XXXXXX", c.snaps);
	if (!final || !tmp) {
		od_err_nomem(e);
		goto out;
	}
	if (access(final, F_OK) == 0) {
		od_err_set(e, OD_E_USAGE, "instance '%s' has a snapshot '%s' already (remove it with 'ovfdeploy snapshot rm %s %s')",
			   name, tag, name, tag);
		goto out;
	}
	for (size_t i = 0; i < s->ndisks; i++) {
		if (s->disks[i].format && strcmp(s->disks[i].format, "qcow2") != 0) {
			od_err_set(e, OD_E_USAGE, "disk %zu of '%s' is %s, not a qcow2 overlay: it cannot be snapshotted", i,
				   name, s->disks[i].format);
			goto out;
		}
		if (chain_room(s->disks[i].path, e) < 0)
			goto out;
	}
	if (!mkdtemp(tmp)) {
		od_err_errno(e, errno, "%s", tmp);
		goto out;
	}
	tmpfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tmpfd < 0 || od_tmp_lock(tmpfd, tmp, e) != 0) {
		if (tmpfd < 0)
			od_err_errno(e, errno, "%s", tmp);
		rmdir(tmp);
		goto out;
	}
	struct snap_meta m = {.created = (long long)time(NULL), .ndisks = s->ndisks};
	snprintf(m.tag, sizeof m.tag, "%s", tag);
	strcpy(m.kind, "disk");
	char why[8];
	snprintf(m.backend, sizeof m.backend, "%s", deploy_backend_name(deploy_instance_backend(&c.in, why, sizeof why)));
	snprintf(m.instance, sizeof m.instance, "%s", name);
	if (c.running) {
		strcpy(m.kind, "full");
		snprintf(m.backend, sizeof m.backend, "qemu");
		if (save_running(&c, tmp, &m, e) < 0)
			goto out_tmp;
	}
	/* freeze: the frozen disk is a second name of the current overlay */
	for (size_t i = 0; !c.running && i < s->ndisks; i++) {
		char *bn = disk_base_name(s->disks[i].path);
		char *dst = bn ? od_asprintf("%s/%s", tmp, bn) : NULL;
		struct stat st;
		int r = !dst ? od_err_nomem(e)
		      : strlen(bn) >= sizeof m.file[i] ? od_err_set(e, OD_E_INVALID, "%s: disk file name too long", bn)
		      : link(s->disks[i].path, dst) < 0 ? od_err_errno(e, errno, "cannot link %s to %s", s->disks[i].path, dst)
		      : fsync_path(dst, e) < 0 || stat(dst, &st) < 0 ? -1 : 0;
		if (r == 0) {
			strcpy(m.file[i], bn);
			m.bytes[i] = (uint64_t)st.st_size;
		}
		free(dst);
		free(bn);
		if (r < 0)
			goto out_tmp;
	}
	test_kill_point("linked");
	int r = meta_write(tmp, &m, e);
	if (r < 0 || fsync(tmpfd) < 0) {
		if (r == 0)
			od_err_errno(e, errno, "%s: fsync", tmp);
		goto out_tmp;
	}
	test_kill_point("before-rename");
	/* The frozen files are read-only from now on; a backend opening the
	 * instance's disk before its new overlay exists fails rather than
	 * writing into the snapshot. */
	for (size_t i = 0; !c.running && i < s->ndisks; i++)
		chmod(s->disks[i].path, 0400);
	if (rename(tmp, final) < 0) {
		od_err_errno(e, errno, "cannot rename %s to %s", tmp, final);
		for (size_t i = 0; !c.running && i < s->ndisks; i++)
			chmod(s->disks[i].path, 0600);
		goto out_tmp;
	}
	if (fsync_path(c.snaps, e) < 0)
		goto out;
	test_kill_point("after-rename");
	/* the instance's new overlays, over the frozen files (a running
	 * machine's frozen disks are copies: it keeps its own) */
	for (size_t i = 0; !c.running && i < s->ndisks; i++) {
		char *frozen = od_asprintf("%s/%s", final, m.file[i]);
		r = frozen ? fresh_overlay(s->disks[i].path, frozen, e) : od_err_nomem(e);
		free(frozen);
		if (r < 0) {
			od_err_prefix(e, "snapshot '%s' is made, but the instance's new disk %zu is not (the next snapshot command repairs it)",
				      tag, i);
			goto out;
		}
	}
	if (tag_out)
		snprintf(tag_out, tag_len, "%s", tag);
	rc = 0;
	goto out;
out_tmp:
	instance_rm_tree(tmp);
out:
	if (tmpfd >= 0)
		close(tmpfd);
	free(tmp);
	free(final);
	ctx_close(&c);
	return rc;
}

static uint64_t tree_bytes(const char *dir)
{
	uint64_t total = 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode))
			total += (uint64_t)st.st_blocks * 512;
	}
	closedir(d);
	return total;
}

static int cmp_snap(const void *a, const void *b)
{
	const struct deploy_snapshot *x = a, *y = b;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->tag, y->tag);
}

void deploy_snapshot_list_free(struct deploy_snapshot *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].tag);
		free(v[i].damaged);
	}
	free(v);
}

int deploy_snapshot_list(const char *name, struct deploy_snapshot **out, size_t *n, od_err *e)
{
	*out = NULL;
	*n = 0;
	struct instance in;
	if (instance_load(name, &in, e) < 0)
		return -1;
	char *snaps = od_asprintf("%s/snapshots", in.dir);
	if (!snaps) {
		instance_free(&in);
		return od_err_nomem(e);
	}
	/* a machine a killed snapshot left paused is resumed by listing too
	 * (unless a snapshot command is at work: it does so itself) */
	int lockfd = open(snaps, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (lockfd >= 0 && flock(lockfd, LOCK_EX | LOCK_NB) == 0 && paused_settle(snaps, &in, e) < 0) {
		close(lockfd);
		instance_free(&in);
		free(snaps);
		return -1;
	}
	if (lockfd >= 0)
		close(lockfd);
	instance_free(&in);
	DIR *d = opendir(snaps);
	if (!d) {
		int err = errno;
		int rc = err == ENOENT ? 0 : od_err_errno(e, err, "%s", snaps);
		free(snaps);
		return rc;
	}
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		/* temporaries (a snapshot being made or removed) start with '.' */
		if (deploy_snapshot_tag_check(de->d_name, NULL) < 0)
			continue;
		struct deploy_snapshot *v = realloc(*out, (*n + 1) * sizeof *v);
		char *dir = od_asprintf("%s/%s", snaps, de->d_name);
		if (!v || !dir) {
			if (v)
				*out = v;
			free(dir);
			rc = od_err_nomem(e);
			break;
		}
		*out = v;
		struct deploy_snapshot *sn = &v[*n];
		memset(sn, 0, sizeof *sn);
		struct snap_meta m;
		od_err me = {0};
		sn->tag = od_strdup(de->d_name);
		if (meta_read(dir, &m, &me) == 0) {
			sn->created = m.created;
			snprintf(sn->kind, sizeof sn->kind, "%s", m.kind);
			snprintf(sn->backend, sizeof sn->backend, "%s", m.backend);
		} else {
			strcpy(sn->kind, "damaged");
			sn->damaged = od_strdup(me.msg);
		}
		sn->bytes = tree_bytes(dir);
		free(dir);
		(*n)++;
		if (!sn->tag)
			rc = od_err_nomem(e);
	}
	closedir(d);
	free(snaps);
	if (rc < 0) {
		deploy_snapshot_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	if (*n)
		qsort(*out, *n, sizeof **out, cmp_snap);
	return 0;
}

/* Check snapshot TAG of c's instance and fill m; the frozen disks must be
 * there, of the size recorded, and match the instance's disks. */
static int snap_check(struct snap_ctx *c, const char *tag, char **dir_out, struct snap_meta *m, od_err *e)
{
	if (deploy_snapshot_tag_check(tag, e) < 0)
		return -1;
	char *dir = od_asprintf("%s/%s", c->snaps, tag);
	if (!dir)
		return od_err_nomem(e);
	struct stat st;
	if (stat(dir, &st) < 0) {
		free(dir);
		return od_err_set(e, OD_E_USAGE, "instance '%s' has no snapshot '%s' (see 'ovfdeploy snapshots %s')",
				  c->in.name, tag, c->in.name);
	}
	int rc = meta_read(dir, m, e);
	const struct vmspec *s = &c->in.spec;
	if (rc == 0 && (strcmp(m->tag, tag) != 0 || strcmp(m->instance, c->in.name) != 0))
		rc = od_err_set(e, OD_E_INVALID, "%s: the metadata is of snapshot '%s' of instance '%s', not this one", dir,
				m->tag, m->instance);
	if (rc == 0 && m->ndisks != s->ndisks)
		rc = od_err_set(e, OD_E_INVALID, "%s: the snapshot has %zu disks, the instance %zu", dir, m->ndisks,
				s->ndisks);
	if (rc == 0 && !strcmp(m->kind, "full")) {
		/* the machine's state is QEMU's: only QEMU reads it back */
		char why[8];
		if (strcmp(m->backend, "qemu") != 0)
			rc = od_err_set(e, OD_E_INVALID, "%s: a running machine's snapshot from backend '%s', which this ovfdeploy cannot restore",
					dir, m->backend);
		else if (deploy_instance_backend(&c->in, why, sizeof why) != DEPLOY_BACKEND_QEMU)
			rc = od_err_set(e, OD_E_USAGE, "%s: a running machine's snapshot from the QEMU backend; instance '%s' starts on the embedded runner, which cannot restore it",
					dir, c->in.name);
		char *f = rc == 0 ? od_asprintf("%s/%s", dir, m->state) : NULL;
		uint64_t bytes = 0;
		uint32_t crc = 0;
		if (rc == 0 && !f)
			rc = od_err_nomem(e);
		if (rc == 0 && (rc = read_file_through(f, NULL, &bytes, &crc, e)) == 0 && (bytes != m->state_bytes || crc != m->state_crc))
			rc = od_err_set(e, OD_E_INVALID, "%s: damaged (%llu bytes, CRC32C %08x; the metadata says %llu bytes, %08x)", f,
					(unsigned long long)bytes, crc, (unsigned long long)m->state_bytes, m->state_crc);
		free(f);
	}
	for (size_t i = 0; rc == 0 && i < m->ndisks; i++) {
		char *bn = disk_base_name(s->disks[i].path);
		char *f = od_asprintf("%s/%s", dir, m->file[i]);
		if (!bn || !f)
			rc = od_err_nomem(e);
		else if (strcmp(bn, m->file[i]) != 0)
			rc = od_err_set(e, OD_E_INVALID, "%s: disk %zu is '%s' in the snapshot but '%s' in the instance", dir, i,
					m->file[i], bn);
		else if (stat(f, &st) < 0)
			rc = od_err_errno(e, errno, "%s: snapshot disk missing", f);
		else if ((uint64_t)st.st_size != m->bytes[i] && (!m->merged[i] || (uint64_t)st.st_size != m->merged[i]))
			rc = od_err_set(e, OD_E_INVALID, "%s: damaged (%llu bytes, the metadata says %llu)", f,
					(unsigned long long)st.st_size, (unsigned long long)m->bytes[i]);
		free(bn);
		free(f);
	}
	if (rc == 0)
		*dir_out = dir;
	else
		free(dir);
	return rc;
}

int deploy_snapshot_revert(const char *name, const char *tag, od_err *e)
{
	struct snap_ctx c;
	if (ctx_open(&c, name, true, true, e) < 0)
		return -1;
	struct snap_meta m;
	char *dir = NULL;
	int rc = ctx_repair(&c, e);
	if (rc == 0)
		rc = snap_check(&c, tag, &dir, &m, e);
	/* every frozen disk opens (its chain too) before anything changes */
	for (size_t i = 0; rc == 0 && i < m.ndisks; i++) {
		char *f = od_asprintf("%s/%s", dir, m.file[i]);
		disk *d = f ? disk_open(f, DISK_RDONLY, e) : NULL;
		if (!f)
			rc = od_err_nomem(e);
		else if (!d)
			rc = -1;
		disk_close(d);
		free(f);
	}
	bool full = rc == 0 && !strcmp(m.kind, "full");
	char *state = full ? od_asprintf("exec:cat '%s/%s'", dir, m.state) : NULL;
	if (full && !state)
		rc = od_err_nomem(e);
	if (full && rc == 0)
		rc = shell_safe(dir, e);
	if (rc == 0 && c.running && !full)
		rc = od_err_set(e, OD_E_USAGE, "instance '%s' is running and '%s' holds its disks only: stop it first ('ovfdeploy stop %s')",
				name, tag, name);
	/* The new overlays under temporary names beside the disks first (a
	 * running machine runs on meanwhile), then the journal, then the
	 * renames: revert_settle finishes a switch that was killed, so the
	 * disks change all together or not at all. */
	for (size_t i = 0; rc == 0 && i < m.ndisks; i++) {
		char *f = od_asprintf("%s/%s", dir, m.file[i]);
		char *tmp = revert_tmp_name(c.in.spec.disks[i].path);
		rc = f && tmp ? fresh_overlay(tmp, f, e) : od_err_nomem(e);
		free(tmp);
		free(f);
	}
	test_kill_point("revert-made");
	/* a running machine goes; the snapshot's comes back in its place */
	if (rc == 0 && c.running)
		rc = quit_running(&c, e);
	bool journaled = false;
	if (rc == 0 && (rc = revert_journal(c.snaps, tag, e)) == 0)
		journaled = true;
	test_kill_point("revert-journaled");
	if (rc == 0)
		rc = revert_settle(c.snaps, &c.in.spec, e);
	else if (!journaled)
		revert_settle(c.snaps, &c.in.spec, NULL); /* no journal: the temporaries go */
	if (rc == 0 && full) {
		/* QEMU takes the pid file's lock: ours goes first */
		if (c.pidfd >= 0)
			close(c.pidfd);
		c.pidfd = -1;
		c.in.spec.incoming = state;
		state = NULL;
		char why[256];
		int status = 0;
		rc = deploy_start(&c.in, false, &status, why, sizeof why, e);
		if (rc == 0)
			rc = resume_restored(&c, !m.paused, e);
	}
	free(state);
	free(dir);
	ctx_close(&c);
	return rc;
}

/* The backing file name of a qcow2 image, or NULL (none, or unreadable). */
static char *backing_of(const char *path)
{
	disk *d = disk_open(path, DISK_RDONLY | DISK_NO_BACKING, NULL);
	if (!d)
		return NULL;
	struct disk_info info;
	char *b = NULL;
	if (disk_get_info(d, &info, NULL) == 0) {
		b = od_strdup(info.backing_file);
		disk_info_free(&info);
	}
	disk_close(d);
	return b;
}

/* The backing file and format of a qcow2 image. */
static int backing_info(const char *path, char **file, char **fmt, od_err *e)
{
	disk *d = disk_open(path, DISK_RDONLY | DISK_NO_BACKING, e);
	if (!d)
		return -1;
	struct disk_info info;
	int rc = disk_get_info(d, &info, e);
	disk_close(d);
	if (rc < 0)
		return -1;
	*file = od_strdup(info.backing_file);
	*fmt = od_strdup(info.backing_format);
	rc = (info.backing_file && !*file) || (info.backing_format && !*fmt) ? od_err_nomem(e) : 0;
	disk_info_free(&info);
	return rc;
}

/* Copy [off, off+len) as `from` reads it (its whole chain) into `to`. */
static int copy_range(disk *from, disk *to, uint64_t off, uint64_t len, unsigned char *buf, size_t bufsz, od_err *e)
{
	while (len) {
		size_t n = len < bufsz ? (size_t)len : bufsz;
		if (disk_pread(from, buf, n, off, e) < 0 || disk_pwrite(to, buf, n, off, e) < 0)
			return -1;
		off += n;
		len -= n;
	}
	return 0;
}

/* Merge the removed snapshot's disk `parent` into `child`, a disk based
 * on it: a new image at out_path, based on what parent was based on,
 * holding every range child or parent has in its own layer (read through
 * child, so child's own data wins).  out_path is child itself for the
 * instance's disks (disk_commit renames it over child); what the guest
 * reads from child is the same before and after, so a kill at any point
 * loses nothing.  A snapshot's disk is merged beside it (merge_frozen). */
static int merge_into(const char *child, const char *parent, const char *out_path, od_err *e)
{
	char *bfile = NULL, *bfmt = NULL;
	disk *reader = NULL, *own = NULL, *pown = NULL, *out = NULL;
	unsigned char *buf = NULL;
	enum { BUF = 1 << 20 };
	int rc = backing_info(parent, &bfile, &bfmt, e);
	if (rc == 0 && (!(reader = disk_open(child, DISK_RDONLY, e)) ||
			!(own = disk_open(child, DISK_RDONLY | DISK_NO_BACKING, e)) ||
			!(pown = disk_open(parent, DISK_RDONLY | DISK_NO_BACKING, e))))
		rc = -1;
	if (rc == 0 && !(buf = malloc(BUF)))
		rc = od_err_nomem(e);
	uint64_t size = reader ? disk_size(reader) : 0;
	struct disk_create_opts co = {.backing_file = bfile, .backing_format = bfmt, .compat = "1.1"};
	if (rc == 0 && !(out = disk_create(out_path, "qcow2", size, &co, e)))
		rc = -1;
	uint64_t psize = pown ? disk_size(pown) : 0;
	for (uint64_t off = 0; rc == 0 && off < size;) {
		struct disk_extent x;
		if ((rc = disk_map(own, off, size - off, &x, e)) < 0)
			break;
		if (x.len == 0 || x.len > size - off) {
			rc = od_err_set(e, OD_E_INTERNAL, "%s: bad extent at %llu", child, (unsigned long long)off);
			break;
		}
		if (x.kind != DISK_EXT_UNALLOC) {
			rc = copy_range(reader, out, off, x.len, buf, BUF, e);
		} else {
			/* not child's own: what the removed snapshot had there */
			uint64_t end = off + x.len < psize ? off + x.len : psize;
			for (uint64_t p = off; rc == 0 && p < end;) {
				struct disk_extent y;
				if ((rc = disk_map(pown, p, end - p, &y, e)) < 0)
					break;
				if (y.len == 0 || y.len > end - p) {
					rc = od_err_set(e, OD_E_INTERNAL, "%s: bad extent at %llu", parent, (unsigned long long)p);
					break;
				}
				if (y.kind != DISK_EXT_UNALLOC)
					rc = copy_range(reader, out, p, y.len, buf, BUF, e);
				p += y.len;
			}
		}
		off += x.len;
	}
	test_kill_point("merging");
	if (rc == 0)
		rc = disk_commit(out, e);
	if (out)
		disk_close(out);
	if (pown)
		disk_close(pown);
	if (own)
		disk_close(own);
	if (reader)
		disk_close(reader);
	free(buf);
	free(bfile);
	free(bfmt);
	if (rc < 0)
		od_err_prefix(e, "merging %s into %s", parent, child);
	return rc;
}

/* Merge the removed snapshot's disk `frozen` into `other`, disk idx of the
 * later snapshot in odir.  Its file and the size its metadata records
 * change together, so the steps keep either state valid: the merged copy
 * is made beside it (.merge-NAME) and synced, its size recorded as the
 * alternative (disk.N.merged), then it is renamed over the old file, then
 * its size recorded as the size.  A kill at any point leaves a snapshot
 * that validates and reads the same; the next snapshot command drops a
 * leftover copy and settles the size (settle_merged). */
static int merge_frozen(const char *odir, size_t idx, const char *other, const char *frozen, od_err *e)
{
	struct snap_meta m;
	struct stat st;
	char *bn = disk_base_name(other);
	char *tmp = bn ? od_asprintf("%s/" SNAP_MERGE_PREFIX "%s", odir, bn) : NULL;
	int rc = tmp ? meta_read(odir, &m, e) : od_err_nomem(e);
	if (rc == 0 && idx >= m.ndisks)
		rc = od_err_set(e, OD_E_INVALID, "%s: its metadata has no disk %zu", odir, idx);
	if (rc == 0)
		rc = merge_into(other, frozen, tmp, e);
	if (rc == 0 && (stat(tmp, &st) < 0 || chmod(tmp, 0400) < 0))
		rc = od_err_errno(e, errno, "%s", tmp);
	if (rc == 0) {
		m.merged[idx] = (uint64_t)st.st_size;
		rc = meta_write(odir, &m, e);
	}
	test_kill_point("merge-recorded");
	if (rc == 0 && rename(tmp, other) < 0)
		rc = od_err_errno(e, errno, "cannot rename %s to %s", tmp, other);
	if (rc == 0)
		rc = fsync_path(odir, e);
	test_kill_point("merged");
	if (rc == 0) {
		m.bytes[idx] = m.merged[idx];
		m.merged[idx] = 0;
		rc = meta_write(odir, &m, e);
	}
	if (rc < 0 && tmp)
		unlink(tmp);
	free(tmp);
	free(bn);
	return rc;
}

int deploy_snapshot_remove(const char *name, const char *tag, od_err *e)
{
	struct snap_ctx c;
	/* no pid-file lock unless the instance's disks depend on the
	 * snapshot: removing one they do not need touches none of its files */
	if (ctx_open(&c, name, false, false, e) < 0)
		return -1;
	int rc = 0;
	char *dir = NULL, *tmp = NULL;
	if (ctx_repair(&c, e) < 0 || deploy_snapshot_tag_check(tag, e) < 0)
		rc = -1;
	else if (!(dir = od_asprintf("%s/%s", c.snaps, tag)))
		rc = od_err_nomem(e);
	else if (access(dir, F_OK) < 0)
		rc = od_err_set(e, OD_E_USAGE, "instance '%s' has no snapshot '%s' (see 'ovfdeploy snapshots %s')", name,
				tag, name);
	/* Who reads through this snapshot's disks: the instance's current
	 * overlays, and the disks of other snapshots.  Each gets the removed
	 * snapshot's data it reads merged into it first (merge_into); the
	 * instance's own disks only while it is stopped. */
	const struct vmspec *s = &c.in.spec;
	for (size_t i = 0; rc == 0 && i < s->ndisks; i++) {
		char *bn = disk_base_name(s->disks[i].path);
		char *frozen = bn ? od_asprintf("%s/%s", dir, bn) : NULL;
		char *b = frozen ? backing_of(s->disks[i].path) : NULL;
		if (!frozen)
			rc = od_err_nomem(e);
		else if (b && !strcmp(b, frozen)) {
			if (c.pidfd < 0 && (rc = lock_stopped(&c, e)) < 0)
				od_err_prefix(e, "the instance's disks are based on snapshot '%s'", tag);
			if (rc == 0)
				rc = merge_into(s->disks[i].path, frozen, s->disks[i].path, e);
		}
		DIR *d = rc == 0 ? opendir(c.snaps) : NULL;
		struct dirent *de;
		while (d && rc == 0 && (de = readdir(d)) != NULL) {
			if (deploy_snapshot_tag_check(de->d_name, NULL) < 0 || !strcmp(de->d_name, tag))
				continue;
			char *odir = od_asprintf("%s/%s", c.snaps, de->d_name);
			char *other = odir ? od_asprintf("%s/%s", odir, bn) : NULL;
			char *ob = other ? backing_of(other) : NULL;
			if (ob && !strcmp(ob, frozen))
				rc = merge_frozen(odir, i, other, frozen, e);
			free(ob);
			free(other);
			free(odir);
		}
		if (d)
			closedir(d);
		free(b);
		free(frozen);
		free(bn);
	}
	/* out of the listing first, in one rename; then the files */
	if (rc == 0 && !(tmp = od_asprintf("%s/" SNAP_RM_PREFIX "XXXXXX", c.snaps)))
		rc = od_err_nomem(e);
	if (rc == 0 && !mkdtemp(tmp))
		rc = od_err_errno(e, errno, "%s", tmp);
	if (rc == 0 && rename(dir, tmp) < 0)
		rc = od_err_errno(e, errno, "cannot rename %s", dir);
	if (rc == 0 && fsync_path(c.snaps, e) < 0)
		rc = -1;
	if (rc == 0)
		instance_rm_tree(tmp);
	else if (tmp)
		rmdir(tmp);
	free(tmp);
	free(dir);
	ctx_close(&c);
	return rc;
}
