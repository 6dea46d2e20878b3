/* qcow2.h - the qcow2 driver's private state, shared by its files:
 * qcow2.c (header, lookups, reads, map, info), qcow2_write.c (allocation,
 * refcounts, creation, the compressed writer) and qcow2_check.c.
 *
 * Facts about the format (QEMU's docs/interop/qcow2.txt), all big-endian:
 * a header in cluster 0; a two-level table (L1 -> L2 -> data cluster) maps
 * guest clusters to host clusters; a two-level refcount structure (table
 * -> blocks) counts references to every host cluster. */
#ifndef OD_DISK_QCOW2_H
#define OD_DISK_QCOW2_H

#include "disk/driver.h"

#include <pthread.h>

#define Q2_MAGIC 0x514649fbu /* "QFI\xfb" */

/* Header field offsets. */
#define Q2H_VERSION 4
#define Q2H_BACKING_OFFSET 8
#define Q2H_BACKING_SIZE 16
#define Q2H_CLUSTER_BITS 20
#define Q2H_SIZE 24
#define Q2H_CRYPT 32
#define Q2H_L1_SIZE 36
#define Q2H_L1_OFFSET 40
#define Q2H_RT_OFFSET 48
#define Q2H_RT_CLUSTERS 56
#define Q2H_NB_SNAPSHOTS 60
#define Q2H_SNAPSHOTS_OFFSET 64
#define Q2H_INCOMPAT 72
#define Q2H_COMPAT 80
#define Q2H_AUTOCLEAR 88
#define Q2H_REFCOUNT_ORDER 96
#define Q2H_HEADER_LENGTH 100
#define Q2H_COMPRESSION_TYPE 104

#define Q2_INCOMPAT_DIRTY (1ull << 0)
#define Q2_INCOMPAT_CORRUPT (1ull << 1)
#define Q2_INCOMPAT_DATA_FILE (1ull << 2)
#define Q2_INCOMPAT_COMPRESSION (1ull << 3)
#define Q2_INCOMPAT_EXTL2 (1ull << 4)
#define Q2_INCOMPAT_KNOWN 0x1full

#define Q2_EXT_END 0
#define Q2_EXT_BACKING_FORMAT 0xe2792acau

/* L1 and L2 entry bits. */
#define Q2_COPIED (1ull << 63)
#define Q2_COMPRESSED (1ull << 62)
#define Q2_ZERO 1ull
#define Q2_OFFSET_MASK 0x00fffffffffffe00ull

/* Limits that keep hostile headers from making us allocate or loop
 * without bound.  QEMU has the same caps on L1 and the refcount table. */
#define Q2_MAX_L1_BYTES (32u << 20)
#define Q2_MAX_RT_BYTES (8u << 20)
#define Q2_MAX_SIZE (1ull << 56)          /* guest bytes */
#define Q2_MAX_BACKING_NAME 1023
#define Q2_L2_CACHE_BYTES (4u << 20)

/* What a guest range maps to. */
enum q2_kind {
	Q2K_DATA,       /* host bytes at `host` */
	Q2K_ZERO,     /* reads as zeros */
	Q2K_UNALLOC,    /* defer to the backing file, zeros without one */
	Q2K_COMP,      /* one compressed cluster at `host`, `csize` bytes */
};

struct q2_l2 {
	uint64_t off;        /* host offset of the table; 0 = slot unused */
	unsigned char *data; /* cluster_size bytes, big-endian as on disk */
	uint64_t lru;
	bool dirty;
};

struct q2_zjob;

struct qcow2 {
	pthread_mutex_t lock;
	uint32_t version;
	uint32_t cluster_bits;
	uint64_t cluster_size;
	uint32_t l2_bits;        /* log2 of entries per L2 table */
	uint64_t l2_entries;
	bool extl2;              /* 128-bit L2 entries with 32 subclusters */
	uint64_t sc_size;        /* subcluster size (cluster_size without extl2) */
	uint32_t refcount_order;
	uint64_t incompat, compat, autoclear;
	int compression_type;    /* 0 zlib, 1 zstd */
	uint32_t header_length;

	uint64_t l1_offset;
	uint32_t l1_size;
	uint64_t *l1;            /* host order */

	uint64_t rt_offset;
	uint32_t rt_clusters;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;

	uint64_t file_size;      /* bytes of the image file, kept current when writing */

	char *backing_name;
	char *backing_format;
	disk *backing;

	/* L2 cache */
	struct q2_l2 *l2c;
	unsigned l2c_n;
	uint64_t l2c_tick;

	/* last decompressed cluster */
	unsigned char *cbuf, *cin;
	uint64_t cbuf_host;      /* host offset it came from, UINT64_MAX = none */
	struct libdeflate_decompressor *dd;
	void *zd;                /* ZSTD_DCtx */

	/* ---- writing (qcow2_write.c) ---- */
	bool writable;
	bool created;            /* made by disk_create: a fresh temporary file */
	uint64_t next_alloc;     /* bump allocator: first free host byte, cluster aligned */
	uint32_t *refcnt;        /* in-memory refcount of every host cluster */
	uint64_t refcnt_n, refcnt_cap;
	uint64_t *rt;            /* refcount table, host order */
	uint64_t rt_entries;
	unsigned char *rb_dirty; /* per refcount block: needs writing */
	uint64_t rb_dirty_n;
	bool rt_dirty, header_rt_dirty;
	bool marked_dirty;       /* we set the dirty bit on disk */
	uint64_t refcount_max;

	/* compressed writer */
	bool compress;
	struct q2_zw *zw;
};

static inline uint64_t q2_be64(const unsigned char *p)
{
	return ((uint64_t)p[0] << 56) | ((uint64_t)p[1] << 48) | ((uint64_t)p[2] << 40) | ((uint64_t)p[3] << 32) |
	       ((uint64_t)p[4] << 24) | ((uint64_t)p[5] << 16) | ((uint64_t)p[6] << 8) | p[7];
}
static inline uint32_t q2_be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void q2_put64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}
static inline void q2_put32(unsigned char *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}
static inline void q2_put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* Refcount entries are 2^order bits wide: sub-byte widths are packed from
 * the least significant bit of each byte, wider ones are big-endian. */
static inline uint64_t q2_rc_get(const unsigned char *b, unsigned order, uint64_t i)
{
	switch (order) {
	case 0: return (b[i / 8] >> (i % 8)) & 1;
	case 1: return (b[i / 4] >> (2 * (i % 4))) & 3;
	case 2: return (b[i / 2] >> (4 * (i % 2))) & 15;
	case 3: return b[i];
	case 4: return ((uint64_t)b[2 * i] << 8) | b[2 * i + 1];
	case 5: return q2_be32(b + 4 * i);
	default: return q2_be64(b + 8 * i);
	}
}
static inline void q2_rc_set(unsigned char *b, unsigned order, uint64_t i, uint64_t v)
{
	switch (order) {
	case 0: b[i / 8] = (unsigned char)((b[i / 8] & ~(1u << (i % 8))) | ((v & 1) << (i % 8))); break;
	case 1: b[i / 4] = (unsigned char)((b[i / 4] & ~(3u << (2 * (i % 4)))) | ((v & 3) << (2 * (i % 4)))); break;
	case 2: b[i / 2] = (unsigned char)((b[i / 2] & ~(15u << (4 * (i % 2)))) | ((v & 15) << (4 * (i % 2)))); break;
	case 3: b[i] = (unsigned char)v; break;
	case 4: q2_put16(b + 2 * i, (uint16_t)v); break;
	case 5: q2_put32(b + 4 * i, (uint32_t)v); break;
	default: q2_put64(b + 8 * i, v); break;
	}
}

/* A walk over every reference the metadata makes to host clusters (the
 * header, L1 and L2 tables, data and compressed clusters, the refcount
 * structures, snapshot tables).  Used to rebuild refcounts before writing
 * and by the checker.  `ref` gets ranges inside the file; problems go to
 * `bad` (or end the walk with an error when `bad` is NULL); `copied` is
 * told the COPIED flag of each active L1 and L2 entry. */
struct q2_walk {
	void *ctx;
	int (*ref)(void *ctx, uint64_t off, uint64_t len, const char *what, od_err *e);
	int (*bad)(void *ctx, const char *msg);
	int (*copied)(void *ctx, uint64_t host, bool flag, const char *what);
	uint64_t allocated, compressed, fragmented, last_host;
	uint64_t l2_walks, l2_walk_limit; /* set by q2_walk */
};
int q2_walk(disk *d, struct q2_walk *w, od_err *e);

/* The files, each calling only those below it (tests/cli/layers.sh):
 *   qcow2_driver.c  open, close, the driver table (the entry)
 *   qcow2_write.c   allocation, refcounts, creation, the compressed writer
 *   qcow2_check.c   the metadata walk and the checker
 *   qcow2.c         header, lookups, the L2 cache, reads, map, info
 * and this header, their shared layout and small inline helpers. */

/* qcow2.c */
int q2_probe(const unsigned char *buf, size_t len);
/* Read the header and tables of d->priv's image (d->priv allocated). */
int q2_parse(disk *d, od_err *e);
int q2_pread(disk *d, void *buf, size_t len, uint64_t off, od_err *e);
int q2_map(disk *d, uint64_t off, uint64_t len, struct disk_extent *out, od_err *e);
int q2_info(disk *d, struct disk_info *info, od_err *e);
/* Free the state (closes the backing image); not the writer's. */
void q2_free(struct qcow2 *q);
/* Derive the geometry from cluster_bits/extl2 and allocate the caches. */
int q2_setup(disk *d, od_err *e);
/* Fetch the L2 table at host offset `off` through the cache; validates the
 * offset.  The returned pointer stays valid until the next cache call. */
int q2_l2_get(disk *d, uint64_t off, bool for_write, struct q2_l2 **out, od_err *e);
int q2_l2_writeback(disk *d, struct q2_l2 *t, od_err *e);
/* Map guest bytes starting at `off` (at most `len`): the kind, host offset
 * and length of the longest run of one kind (host-contiguous for DATA) that
 * stays inside one L2 table. */
int q2_lookup(disk *d, uint64_t off, uint64_t len, int *kind, uint64_t *host, uint64_t *csize,
	      uint64_t *run, od_err *e);
/* Parse a compressed L2 entry into host offset and byte count. */
void q2_compressed_desc(const struct qcow2 *q, uint64_t ent, uint64_t *host, uint64_t *csize);
int q2_read_locked(disk *d, void *buf, size_t len, uint64_t off, od_err *e);
/* Check that a host offset of metadata or data is a sane cluster offset. */
int q2_check_host(disk *d, uint64_t off, uint64_t len, const char *what, od_err *e);

/* qcow2_write.c */
int q2_open_rw(disk *d, od_err *e);
int q2_pwrite(disk *d, const void *buf, size_t len, uint64_t off, od_err *e);
int q2_flush(disk *d, od_err *e);
int q2_create(disk *d, uint64_t size, const struct disk_create_opts *o, od_err *e);
int q2_finish(disk *d, od_err *e);
void q2_write_close(disk *d);
/* Walk every reference the image's metadata makes to host clusters; used
 * both to rebuild refcounts for writing and by the checker.  `ref` is
 * called for each range [off, off+len) with a description. */
typedef int (*q2_ref_fn)(void *ctx, uint64_t off, uint64_t len, const char *what, od_err *e);

/* qcow2_check.c */
int q2_check(disk *d, bool deep, struct disk_check_result *r, od_err *e);

#endif
