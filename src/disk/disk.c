/* disk.c - probing, dispatch, byte sources and backing chains.
 *
 * Format drivers (raw.c, qcow2.c, vmdk.c) see a disk through struct disk_io
 * and never touch file descriptors of other layers directly; this file is
 * the only place that decides which driver handles a file. */
#include "config.h"
#include "disk/driver.h"
#include "disk/json_spec.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Raw comes last: it accepts anything, so it only wins when nobody else does. */
static const struct disk_driver *const drivers[] = {
	&disk_driver_qcow2,
	&disk_driver_vmdk,
	&disk_driver_raw,
};

static const struct disk_driver *driver_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++)
		if (drivers[i]->name && strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	return NULL;
}

int disk_io_pread(disk *d, void *buf, size_t len, uint64_t off, od_err *e)
{
	uint64_t pos;
	if (d->io.is_range && !od_range_ok(off, len, d->io.length))
		return od_err_set(e, OD_E_INVALID, "%s: read of %zu bytes at offset 0x%llx is past the end (size 0x%llx)",
				  d->name, len, (unsigned long long)off, (unsigned long long)d->io.length);
	if (!od_add_u64(d->io.base, off, &pos))
		return od_err_set(e, OD_E_INVALID, "%s: offset 0x%llx overflows", d->name, (unsigned long long)off);
	return od_pread_all(d->io.fd, buf, len, pos, d->name, e);
}

int disk_io_pwrite(disk *d, const void *buf, size_t len, uint64_t off, od_err *e)
{
	uint64_t pos;
	if (!d->io.writable)
		return od_err_set(e, OD_E_USAGE, "%s: opened read-only", d->name);
	if (d->io.is_range && !od_range_ok(off, len, d->io.length))
		return od_err_set(e, OD_E_INVALID, "%s: write past the end of the range", d->name);
	if (!od_add_u64(d->io.base, off, &pos))
		return od_err_set(e, OD_E_INVALID, "%s: offset 0x%llx overflows", d->name, (unsigned long long)off);
	return od_pwrite_all(d->io.fd, buf, len, pos, d->name, e);
}

void *disk_io_buf_alloc(size_t len)
{
	void *p;
	return posix_memalign(&p, 4096, len ? len : 1) == 0 ? p : NULL;
}

int disk_io_size(disk *d, uint64_t *size, od_err *e)
{
	if (d->io.is_range) {
		*size = d->io.length;
		return 0;
	}
	struct stat st;
	if (fstat(d->io.fd, &st) < 0)
		return od_err_errno(e, errno, "%s: stat", d->name);
	*size = (uint64_t)st.st_size;
	return 0;
}

static disk *disk_alloc(const char *name, const char *path, unsigned flags, od_err *e)
{
	disk *d = calloc(1, sizeof *d);
	if (!d) {
		od_err_nomem(e);
		return NULL;
	}
	d->io.fd = -1;
	d->flags = flags;
	d->name = od_strdup(name);
	d->path = od_strdup(path);
	if (!d->name || (path && !d->path)) {
		free(d->name);
		free(d->path);
		free(d);
		od_err_nomem(e);
		return NULL;
	}
	return d;
}

static void disk_free(disk *d)
{
	if (d->io.fd >= 0)
		close(d->io.fd);
	free(d->name);
	free(d->path);
	free(d);
}

static int probe_and_open(disk *d, const char *format, od_err *e)
{
	if (format) {
		d->drv = driver_by_name(format);
		if (!d->drv || !d->drv->open)
			return od_err_set(e, OD_E_USAGE, "%s: unknown or unsupported image format '%s' (raw, qcow2 and vmdk are known)", d->name, format);
	} else {
		unsigned char buf[4096];
		uint64_t size;
		if (disk_io_size(d, &size, e) < 0)
			return -1;
		size_t n = size < sizeof buf ? (size_t)size : sizeof buf;
		memset(buf, 0, sizeof buf);
		if (n && disk_io_pread(d, buf, n, 0, e) < 0)
			return -1;
		int best = 0;
		for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++) {
			if (!drivers[i]->probe || !drivers[i]->open)
				continue;
			int score = drivers[i]->probe(buf, n);
			if (score > best) {
				best = score;
				d->drv = drivers[i];
			}
		}
		if (!d->drv)
			return od_err_set(e, OD_E_UNSUPPORTED, "%s: unrecognised image format", d->name);
	}
	if ((d->flags & DISK_RDWR) && !d->drv->pwrite)
		return od_err_set(e, OD_E_UNSUPPORTED, "%s: %s images can only be opened read-only", d->name, d->drv->name);
	return d->drv->open(d, e);
}

static disk *open_path(const char *path, const char *format, unsigned flags, int depth, od_err *e)
{
	disk *d = disk_alloc(path, path, flags, e);
	if (!d)
		return NULL;
	d->depth = depth;
	d->io.writable = (flags & DISK_RDWR) != 0;
	d->io.fd = open(path, ((flags & DISK_RDWR) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (d->io.fd < 0) {
		od_err_errno(e, errno, "%s", path);
		disk_free(d);
		return NULL;
	}
	struct stat st;
	if (fstat(d->io.fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		od_err_set(e, OD_E_USAGE, "%s: not a regular file or block device", path);
		disk_free(d);
		return NULL;
	}
	d->io.length = (uint64_t)st.st_size;
	if (probe_and_open(d, format, e) < 0) {
		disk_free(d);
		return NULL;
	}
	return d;
}

disk *disk_open(const char *path, unsigned flags, od_err *e)
{
	return open_path(path, NULL, flags, 0, e);
}

disk *disk_open_as(const char *path, const char *format, unsigned flags, od_err *e)
{
	return open_path(path, format, flags, 0, e);
}

static disk *open_range(int fd, uint64_t offset, uint64_t length, const char *name, const char *format,
			unsigned flags, int depth, od_err *e)
{
	uint64_t end;
	if (!od_add_u64(offset, length, &end) || end > INT64_MAX) {
		od_err_set(e, OD_E_INVALID, "%s: byte range overflows", name);
		return NULL;
	}
	disk *d = disk_alloc(name, NULL, flags, e);
	if (!d)
		return NULL;
	d->depth = depth;
	d->io.fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d->io.fd < 0) {
		od_err_errno(e, errno, "%s: dup", name);
		disk_free(d);
		return NULL;
	}
	d->io.base = offset;
	d->io.length = length;
	d->io.is_range = true;
	d->io.writable = (flags & DISK_RDWR) != 0;
	if (probe_and_open(d, format, e) < 0) {
		disk_free(d);
		return NULL;
	}
	return d;
}

disk *disk_open_range(int fd, uint64_t offset, uint64_t length, const char *name, unsigned flags, od_err *e)
{
	return open_range(fd, offset, length, name, NULL, flags, 0, e);
}

/* A "json:{...}" backing name (see json_spec.h): a whole file, or a byte
 * range of one, such as a disk inside an OVA. */
static disk *open_json_child(disk *parent, const char *name, const char *format, unsigned flags, od_err *e)
{
	struct disk_json_spec js;
	if (disk_json_spec_parse(name, &js, e) < 0) {
		od_err_prefix(e, "%s", parent->name);
		return NULL;
	}
	if (format && js.format[0] && strcmp(format, js.format) != 0) {
		od_err_set(e, OD_E_INVALID, "%s: backing format '%s' disagrees with the backing name's '%s'",
			   parent->name, format, js.format);
		disk_json_spec_free(&js);
		return NULL;
	}
	const char *fmt = js.format[0] ? js.format : format;
	disk *c = NULL;
	if (!js.has_range) {
		c = disk_open_child(parent, js.filename, fmt, flags, e);
		disk_json_spec_free(&js);
		return c;
	}
	int fd = open(js.filename, ((flags & DISK_RDWR) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	struct stat st;
	if (fd < 0) {
		od_err_errno(e, errno, "%s: backing file %s", parent->name, js.filename);
	} else if (fstat(fd, &st) < 0 || !od_range_ok(js.offset, js.size, (uint64_t)st.st_size)) {
		od_err_set(e, OD_E_INVALID, "%s: backing range [0x%llx, +0x%llx) lies outside %s", parent->name,
			   (unsigned long long)js.offset, (unsigned long long)js.size, js.filename);
	} else {
		c = open_range(fd, js.offset, js.size, js.filename, fmt, flags, parent->depth + 1, e);
		if (!c)
			od_err_prefix(e, "%s: backing file", parent->name);
	}
	if (fd >= 0)
		close(fd);
	disk_json_spec_free(&js);
	return c;
}

disk *disk_open_child(disk *parent, const char *name, const char *format, unsigned flags, od_err *e)
{
	if (parent->depth + 1 >= DISK_MAX_BACKING_DEPTH) {
		od_err_set(e, OD_E_INVALID, "%s: backing chain deeper than %d images (or a loop) at '%s'",
			   parent->name, DISK_MAX_BACKING_DEPTH, name);
		return NULL;
	}
	if (!strncmp(name, "json:", 5))
		return open_json_child(parent, name, format, flags, e);
	char *full;
	if (name[0] == '/' || !parent->path) {
		full = od_strdup(name);
	} else {
		char *copy = od_strdup(parent->path);
		full = copy ? od_asprintf("%s/%s", dirname(copy), name) : NULL;
		free(copy);
	}
	if (!full) {
		od_err_nomem(e);
		return NULL;
	}
	disk *c = open_path(full, format, flags, parent->depth + 1, e);
	if (!c)
		od_err_prefix(e, "%s: cannot open '%s'", parent->name, name);
	free(full);
	return c;
}

void disk_close(disk *d)
{
	if (!d)
		return;
	if (d->drv && d->drv->close)
		d->drv->close(d);
	if (d->out) {
		/* The fd belongs to the temporary file: the abort closes it and
		 * removes the file, so nothing appears at the path. */
		od_atomic_abort(d->out);
		free(d->out);
		d->io.fd = -1;
	}
	disk_free(d);
}

uint64_t disk_size(const disk *d) { return d->size; }
const char *disk_format(const disk *d) { return d->drv->name; }
const char *disk_name(const disk *d) { return d->name; }
disk *disk_backing(const disk *d) { return d->backing; }

int disk_pread(disk *d, void *buf, size_t len, uint64_t off, od_err *e)
{
	if (!od_range_ok(off, len, d->size))
		return od_err_set(e, OD_E_USAGE, "%s: read of %zu bytes at 0x%llx is beyond the virtual size 0x%llx",
				  d->name, len, (unsigned long long)off, (unsigned long long)d->size);
	return len ? d->drv->pread(d, buf, len, off, e) : 0;
}

int disk_pwrite(disk *d, const void *buf, size_t len, uint64_t off, od_err *e)
{
	if (!d->drv->pwrite || !d->io.writable)
		return od_err_set(e, OD_E_USAGE, "%s: image is read-only", d->name);
	if (!od_range_ok(off, len, d->size))
		return od_err_set(e, OD_E_USAGE, "%s: write of %zu bytes at 0x%llx is beyond the virtual size 0x%llx",
				  d->name, len, (unsigned long long)off, (unsigned long long)d->size);
	return len ? d->drv->pwrite(d, buf, len, off, e) : 0;
}

int disk_readahead_start(disk *d, unsigned nthreads, int (*thread_init)(void *ctx, od_err *e), void *ctx,
			 od_err *e)
{
	/* The base of an overlay is where a deployed disk's data is, so the
	 * whole chain gets workers; but a hostile chain of many-extent VMDKs
	 * must not make us start thousands of threads: DISK_READAHEAD_SETS
	 * sets at most. */
	unsigned sets = DISK_READAHEAD_SETS;
	for (disk *x = d; x && sets; x = x->backing) {
		if (!x->drv->readahead_start)
			continue;
		int n = x->drv->readahead_start(x, nthreads, sets, thread_init, ctx, e);
		if (n < 0)
			return -1;
		sets -= (unsigned)n;
	}
	return 0;
}

int disk_flush(disk *d, od_err *e)
{
	return d->drv->flush ? d->drv->flush(d, e) : 0;
}

int disk_map(disk *d, uint64_t off, uint64_t len, struct disk_extent *out, od_err *e)
{
	if (off >= d->size || len == 0)
		return od_err_set(e, OD_E_USAGE, "%s: map at 0x%llx is beyond the virtual size", d->name, (unsigned long long)off);
	if (len > d->size - off)
		len = d->size - off;
	if (!d->drv->map) {
		*out = (struct disk_extent){off, len, DISK_EXT_DATA};
		return 0;
	}
	if (d->drv->map(d, off, len, out, e) < 0)
		return -1;
	/* A driver that reports nothing would make callers loop forever. */
	if (out->off != off || out->len == 0 || out->len > len)
		return od_err_set(e, OD_E_INTERNAL, "%s: driver %s mapped a bad extent", d->name, d->drv->name);
	return 0;
}

disk *disk_create(const char *path, const char *format, uint64_t size, const struct disk_create_opts *o, od_err *e)
{
	static const struct disk_create_opts defaults;
	const struct disk_driver *drv = driver_by_name(format);
	if (!drv || !drv->create) {
		od_err_set(e, OD_E_USAGE, "cannot write images of format '%s'", format);
		return NULL;
	}
	disk *d = disk_alloc(path, path, DISK_RDWR, e);
	if (!d)
		return NULL;
	d->drv = drv;
	d->out = calloc(1, sizeof *d->out);
	if (!d->out) {
		od_err_nomem(e);
		disk_free(d);
		return NULL;
	}
	if (od_atomic_open(d->out, path, 0644, e) < 0) {
		free(d->out);
		disk_free(d);
		return NULL;
	}
	d->io.fd = d->out->fd;
	d->io.writable = true;
	d->out->no_sync = o && o->unsafe_cache;
	if (drv->create(d, size, o ? o : &defaults, e) < 0) {
		disk_close(d);
		return NULL;
	}
	return d;
}

/* Finish and commit a created image: the driver writes what it still holds,
 * then the temporary file is renamed over `path`.  disk_close on an image that
 * was never committed discards it. */
int disk_commit(disk *d, od_err *e)
{
	if (!d->out)
		return 0;
	if (d->drv->finish && d->drv->finish(d, e) < 0)
		return -1;
	if (d->drv->flush && d->drv->flush(d, e) < 0)
		return -1;
	int rc = od_atomic_commit(d->out, e);
	free(d->out);
	d->out = NULL;
	/* The fd was closed by the commit; reopen so the handle stays usable. */
	d->io.fd = rc == 0 ? open(d->path, O_RDWR | O_CLOEXEC) : -1;
	return rc;
}

int disk_get_info(disk *d, struct disk_info *info, od_err *e)
{
	memset(info, 0, sizeof *info);
	snprintf(info->format, sizeof info->format, "%s", d->drv->name);
	info->virtual_size = d->size;
	if (!d->io.is_range) {
		struct stat st;
		if (fstat(d->io.fd, &st) == 0)
			info->actual_size = (uint64_t)st.st_blocks * 512;
	} else {
		info->actual_size = d->io.length;
	}
	if (d->drv->info && d->drv->info(d, info, e) < 0) {
		/* the caller frees nothing after a failure */
		disk_info_free(info);
		return -1;
	}
	return 0;
}

void disk_info_free(struct disk_info *info)
{
	free(info->backing_file);
	free(info->backing_format);
	free(info->compression_type);
	free(info->vmdk_descriptor);
	memset(info, 0, sizeof *info);
}

int disk_check(disk *d, bool deep, struct disk_check_result *r, od_err *e)
{
	memset(r, 0, sizeof *r);
	if (!d->drv->check)
		return od_err_set(e, OD_E_UNSUPPORTED, "%s: format %s has no consistency check", d->name, d->drv->name);
	return d->drv->check(d, deep, r, e);
}

int disk_check_msg(struct disk_check_result *r, const char *fmt, ...)
{
	/* Cap the list: a badly corrupt image could otherwise produce one line
	 * per cluster and exhaust memory. */
	if (r->nmessages >= 10000)
		return 0;
	va_list ap;
	char *line = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	char **m = realloc(r->messages, (r->nmessages + 1) * sizeof *m);
	if (!m) {
		free(line);
		return -1;
	}
	r->messages = m;
	r->messages[r->nmessages++] = line;
	return 0;
}

void disk_check_result_free(struct disk_check_result *r)
{
	for (size_t i = 0; i < r->nmessages; i++)
		free(r->messages[i]);
	free(r->messages);
	memset(r, 0, sizeof *r);
}
