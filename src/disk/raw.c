/* raw.c - the raw format: guest byte N is file byte N.
 *
 * The only interesting part is map(): a raw file on a filesystem with holes
 * tells us where its data lies through SEEK_DATA/SEEK_HOLE, which lets
 * convert and compare skip gigabytes of never-written space without reading
 * them.  A byte range inside another file (an OVA member) cannot be asked
 * that question, so it is reported as data throughout. */
#include "config.h"
#include "disk/driver.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int raw_probe(const unsigned char *buf, size_t len)
{
	/* Anything is a raw image; the lowest score lets every real format win. */
	return 1;
}

static int raw_open(disk *d, od_err *e)
{
	if (!d->io.is_range) {
		struct stat st;
		if (fstat(d->io.fd, &st) < 0)
			return od_err_errno(e, errno, "%s: stat", d->name);
		/* A block device reports st_size 0: ask the device. */
		if (S_ISBLK(st.st_mode)) {
			uint64_t sz = 0;
			if (ioctl(d->io.fd, BLKGETSIZE64, &sz) < 0)
				return od_err_errno(e, errno, "%s: cannot get the device size", d->name);
			d->io.length = sz;
		} else {
			d->io.length = (uint64_t)st.st_size;
		}
	}
	d->size = d->io.length;
	return 0;
}

static int raw_pread(disk *d, void *buf, size_t len, uint64_t off, od_err *e)
{
	return disk_io_pread(d, buf, len, off, e);
}

static int raw_pwrite(disk *d, const void *buf, size_t len, uint64_t off, od_err *e)
{
	return disk_io_pwrite(d, buf, len, off, e);
}

static int raw_flush(disk *d, od_err *e)
{
	/* A created image is synced once, by the commit that renames it. */
	if (!d->io.writable || d->out)
		return 0;
	if (fdatasync(d->io.fd) < 0)
		return od_err_errno(e, errno, "%s: fdatasync", d->name);
	return 0;
}

static int raw_map(disk *d, uint64_t off, uint64_t len, struct disk_extent *out, od_err *e)
{
	*out = (struct disk_extent){off, len, DISK_EXT_DATA};
	if (d->io.is_range || off > INT64_MAX)
		return 0;
	off_t data = lseek(d->io.fd, (off_t)off, SEEK_DATA);
	if (data < 0) {
		/* ENXIO: no data at or after off, the rest is a hole.  Anything
		 * else (EINVAL on filesystems without the feature) means we
		 * cannot tell, and data is the safe answer. */
		if (errno == ENXIO)
			out->kind = DISK_EXT_ZERO;
		return 0;
	}
	if ((uint64_t)data > off) {
		uint64_t n = (uint64_t)data - off;
		out->kind = DISK_EXT_ZERO;
		out->len = n < len ? n : len;
		return 0;
	}
	off_t hole = lseek(d->io.fd, (off_t)off, SEEK_HOLE);
	if (hole > 0 && (uint64_t)hole > off) {
		uint64_t n = (uint64_t)hole - off;
		out->len = n < len ? n : len;
	}
	return 0;
}

static int raw_create(disk *d, uint64_t size, const struct disk_create_opts *o, od_err *e)
{
	if (size > INT64_MAX)
		return od_err_set(e, OD_E_USAGE, "%s: size %llu is too large", d->name, (unsigned long long)size);
	/* The file is sized once, sparsely: regions the writer skips stay holes. */
	if (ftruncate(d->io.fd, (off_t)size) < 0)
		return od_err_errno(e, errno, "%s: cannot size the image to %llu bytes", d->name, (unsigned long long)size);
	d->size = size;
	d->io.length = size;
	return 0;
}

static int raw_info(disk *d, struct disk_info *info, od_err *e)
{
	return 0;
}

const struct disk_driver disk_driver_raw = {
	.name = "raw",
	.probe = raw_probe,
	.open = raw_open,
	.pread = raw_pread,
	.pwrite = raw_pwrite,
	.flush = raw_flush,
	.map = raw_map,
	.create = raw_create,
	.info = raw_info,
};
