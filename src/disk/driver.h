/*
 * driver.h - what a format driver provides (internal to src/disk).
 *
 * One table of operations per format, in the manner of libarchive's format
 * readers and QEMU's BlockDriver.  disk.c probes, dispatches and owns the
 * generic parts (byte sources, backing chains, crash-safe creation); drivers
 * own their on-disk format and nothing else.
 */
#ifndef OD_DISK_DRIVER_H
#define OD_DISK_DRIVER_H

#include "disk/disk.h"

/* A byte source: a whole file, or a byte range of one (an OVA member).
 * Every access is bounds-checked against `length` when is_range is set. */
struct disk_io {
	int fd;
	uint64_t base;   /* offset of byte 0 inside fd */
	uint64_t length; /* for ranges: the range length; for files: size at open */
	bool is_range;
	bool writable;
};
int disk_io_pread(disk *d, void *buf, size_t len, uint64_t off, od_err *e);
int disk_io_pwrite(disk *d, const void *buf, size_t len, uint64_t off, od_err *e);
/* Current size of the byte source (fstat for files, length for ranges). */
int disk_io_size(disk *d, uint64_t *size, od_err *e);

/* A buffer that file data is read into or written from by the kernel:
 * page-aligned, free() it.  malloc puts large blocks 16 bytes past a page
 * boundary, and the kernel's copy between the page cache and such a buffer
 * is much slower on some CPUs (AMD EPYC here: a 2 MiB window's pread cost
 * up to four times as much CPU as into an aligned buffer).  NULL when out
 * of memory. */
void *disk_io_buf_alloc(size_t len);

struct disk_driver {
	const char *name;
	/* Score how likely the first bytes are this format: 0 no, 100 certain.
	 * `len` may be short for tiny files. */
	int (*probe)(const unsigned char *buf, size_t len);
	/* d->io, d->name, d->path, d->flags are set; fill d->size and d->priv. */
	int (*open)(disk *d, od_err *e);
	int (*pread)(disk *d, void *buf, size_t len, uint64_t off, od_err *e);
	int (*pwrite)(disk *d, const void *buf, size_t len, uint64_t off, od_err *e); /* NULL: read-only */
	int (*flush)(disk *d, od_err *e);
	int (*map)(disk *d, uint64_t off, uint64_t len, struct disk_extent *out, od_err *e);
	void (*close)(disk *d);
	/* Initialise a new image of `size` bytes on d->io (an empty, writable
	 * temporary file); NULL when the format cannot be written. */
	int (*create)(disk *d, uint64_t size, const struct disk_create_opts *o, od_err *e);
	/* Finish a created image (write footers, tables); called before the
	 * temporary file is renamed into place.  May be NULL. */
	int (*finish)(disk *d, od_err *e);
	int (*info)(disk *d, struct disk_info *info, od_err *e);
	int (*check)(disk *d, bool deep, struct disk_check_result *r, od_err *e); /* NULL: no check (exit 63) */
	/* Start worker threads for reads (see disk_readahead_start) in this
	 * image only, not its backing chain, for at most `max_sets` sets of
	 * workers (VMDK: one per compressed extent); returns the number of
	 * sets started, or -1.  NULL: nothing to gain. */
	int (*readahead_start)(disk *d, unsigned nthreads, unsigned max_sets, int (*thread_init)(void *ctx, od_err *e),
			       void *ctx, od_err *e);
};

struct disk {
	const struct disk_driver *drv;
	struct disk_io io;
	char *name;       /* for messages */
	char *path;       /* NULL for ranges; used to resolve backing/extent files */
	unsigned flags;
	uint64_t size;
	void *priv;
	int depth;        /* position in a backing chain, 0 = top */
	disk *backing;    /* the next image of the chain, owned by the driver; NULL if none */
	od_atomic_file *out; /* set while a created image is not yet committed */
};

extern const struct disk_driver disk_driver_raw;
extern const struct disk_driver disk_driver_qcow2;
extern const struct disk_driver disk_driver_vmdk;

/* Open a backing or extent file named by `parent`, relative to the
 * parent's directory, at depth parent->depth+1; refuses chains deeper than
 * DISK_MAX_BACKING_DEPTH (which also stops loops).  `format` may be NULL
 * to probe. */
disk *disk_open_child(disk *parent, const char *name, const char *format, unsigned flags, od_err *e);

/* Append one line to a check result (printf-style); returns -1 on ENOMEM. */
int disk_check_msg(struct disk_check_result *r, const char *fmt, ...) OD_PRINTF(2, 3);

#endif
