/*
 * disk.h - the disk image engine: raw, qcow2 and VMDK images behind one
 * random-access interface, plus conversion, checks, info and comparison.
 *
 * A format is found by probing content, never by file name.  The same handle
 * serves `ovfdeploy convert`, `check`, `info`, `compare`, and the runner's
 * virtio-blk device, so each format is written once.
 *
 * This library knows nothing of the CLI: it reports through od_err and
 * progress callbacks.
 */
#ifndef OD_DISK_H
#define OD_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

typedef struct disk disk;

enum disk_open_flags {
	DISK_RDONLY = 0,
	DISK_RDWR = 1 << 0,
	DISK_NO_BACKING = 1 << 1, /* do not open backing files (info/check) */
};

/* Maximum depth of a backing chain; a longer chain (or a loop) is refused. */
#define DISK_MAX_BACKING_DEPTH 16

/* Open an image file, probing its format. */
disk *disk_open(const char *path, unsigned flags, od_err *e);
/* Open an image stored as the byte range [offset, offset+length) of an open
 * file, e.g. an uncompressed member inside an OVA.  `name` is used in error
 * messages.  The fd is duplicated; the caller keeps its own. */
disk *disk_open_range(int fd, uint64_t offset, uint64_t length, const char *name,
		      unsigned flags, od_err *e);
/* Open with an explicit format name ("raw", "qcow2", "vmdk") instead of probing. */
disk *disk_open_as(const char *path, const char *format, unsigned flags, od_err *e);
void disk_close(disk *d);

uint64_t disk_size(const disk *d);        /* guest-visible size in bytes */
const char *disk_format(const disk *d);   /* "raw", "qcow2", "vmdk" */
const char *disk_name(const disk *d);     /* path or name given at open */
/* The backing image this one reads unallocated ranges from, NULL if none
 * (or when opened with DISK_NO_BACKING).  Owned by `d`. */
disk *disk_backing(const disk *d);

int disk_pread(disk *d, void *buf, size_t len, uint64_t off, od_err *e);
int disk_pwrite(disk *d, const void *buf, size_t len, uint64_t off, od_err *e);
int disk_flush(disk *d, od_err *e);

/* Start `nthreads` worker threads (at most 8 per image) that read ahead of
 * sequential reads where that pays: today the grains of compressed
 * (streamOptimized) VMDK extents, in `d` and its backing chain, which are
 * otherwise inflated one at a time on the reading thread.  Other formats
 * ignore it.  Without this call nothing changes: grains are inflated on
 * the reading thread (reads of several grains at once on a pool started
 * on first use, where od_pool_allowed()).
 *
 * For callers whose reading threads may not start threads (the runner's
 * sandboxed vCPUs): call it before confining them.  Each worker first runs
 * `thread_init(ctx, e)` if not NULL (the runner installs its seccomp
 * filter there); it returns only once every worker has, and if any
 * thread_init fails, it stops them all and returns that error.  Workers
 * block all signals, and are stopped and joined by disk_close. */
#define DISK_READAHEAD_SETS 4 /* images/extents given workers at most */
int disk_readahead_start(disk *d, unsigned nthreads, int (*thread_init)(void *ctx, od_err *e), void *ctx,
			 od_err *e);

/* What lies at a guest offset. */
enum disk_extent_kind {
	DISK_EXT_DATA = 0,  /* allocated, must be read */
	DISK_EXT_ZERO = 1,  /* reads as zeros (explicit zero cluster/grain, hole in raw) */
	DISK_EXT_UNALLOC = 2, /* not allocated in this layer nor any backing: zeros */
};
struct disk_extent {
	uint64_t off, len;
	int kind;
};
/* Describe the run that starts at `off` (at most `len` bytes long): kind and
 * length of the longest run of one kind the driver can report cheaply. */
int disk_map(disk *d, uint64_t off, uint64_t len, struct disk_extent *out, od_err *e);

/* ---- creating images ---------------------------------------------------- */
struct disk_create_opts {
	const char *subformat;    /* vmdk: "monolithicSparse" (default), "streamOptimized";
				     raw/qcow2: NULL */
	uint32_t cluster_size;    /* qcow2 cluster / vmdk grain in bytes; 0 = default */
	const char *compat;       /* qcow2: "0.10" or "1.1" (default) */
	bool compress;            /* write compressed clusters (qcow2 -c) */
	const char *compression_type; /* qcow2: "zlib" (default) or "zstd" */
	uint32_t refcount_bits;   /* qcow2: 1, 2, 4, ..., 64; 0 = 16 (compat 0.10 needs 16) */
	const char *backing_file; /* qcow2: backing file name */
	const char *backing_format;
	const char *adapter_type; /* vmdk: ddb.adapterType, default "lsilogic" */
	unsigned threads;         /* compression workers; 0 = online CPUs */
	/* qemu-img's -t unsafe: no fsync before the rename (see od_atomic_file
	 * in util.h for what that gives up).  The library's default syncs; the
	 * CLI's bulk outputs set this unless --sync. */
	bool unsafe_cache;
};
/* Create a new image.  Writers of sequential formats (streamOptimized VMDK)
 * accept disk_pwrite only at increasing offsets.  The image is complete only
 * after disk_close (or disk_flush) succeeds. */
disk *disk_create(const char *path, const char *format, uint64_t size,
		  const struct disk_create_opts *opts, od_err *e);
/* Finish a created image and rename it into place.  disk_close() of a created
 * image that was never committed discards it: nothing appears at `path`. */
int disk_commit(disk *d, od_err *e);

/* ---- whole-image operations --------------------------------------------- */
struct disk_convert_opts {
	const char *format;       /* output format */
	struct disk_create_opts create;
	od_progress_fn progress;
	void *progress_ctx;
};
/* Convert src to a new image at dst_path.  Output goes to a temporary file
 * renamed into place only when complete. */
int disk_convert(disk *src, const char *dst_path, const struct disk_convert_opts *o, od_err *e);

/* qemu-img compatible check result. */
struct disk_check_result {
	uint64_t corruptions, leaks, check_errors;
	uint64_t allocated_clusters, total_clusters, fragmented_clusters, compressed_clusters;
	uint64_t image_end_offset;
	char **messages;      /* one line per problem found */
	size_t nmessages;
};
int disk_check(disk *d, bool deep, struct disk_check_result *r, od_err *e);
void disk_check_result_free(struct disk_check_result *r);

struct disk_info {
	char format[16];
	char subformat[32];         /* vmdk createType, qcow2 "v2"/"v3" */
	uint64_t virtual_size;
	uint64_t actual_size;       /* bytes the file(s) occupy on disk */
	uint32_t cluster_size;      /* cluster or grain size, 0 for raw */
	char *backing_file;         /* NULL when none */
	char *backing_format;
	bool dirty, corrupt;
	bool compressed;            /* contains compressed clusters/grains */
	char *compression_type;     /* qcow2 v3: "zlib", "zstd" */
	char *vmdk_descriptor;      /* the VMDK text descriptor, verbatim */
	uint32_t version;
};
int disk_get_info(disk *d, struct disk_info *info, od_err *e);
void disk_info_free(struct disk_info *info);

/* Compare guest-visible content. Returns 0 and sets *same; on a difference
 * *first_diff is the first differing byte offset. Zero runs are compared
 * without reading where the formats allow. */
int disk_compare(disk *a, disk *b, bool *same, uint64_t *first_diff,
		 od_progress_fn progress, void *progress_ctx, od_err *e);

#endif
