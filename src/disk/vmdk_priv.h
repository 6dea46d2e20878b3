/*
 * vmdk_priv.h - what the pieces of the VMDK driver share (internal).
 *
 * vmdk.c        the driver table: probe, open (descriptor + extents), dispatch
 * vmdk_desc.c   the text descriptor: parse hostile text, generate ours
 * vmdk_sparse.c hosted sparse extents (KDMV): read, map, check, random write,
 *               readahead workers for compressed grains
 * vmdk_stream.c the streamOptimized writer (parallel compression)
 * vmdk_layout.c the extent header's encoding, the zero test
 *
 * Layers, each calling only those below it: vmdk.c (the entry) calls the
 * four others; vmdk_sparse.c and vmdk_stream.c call only vmdk_layout.c;
 * vmdk_desc.c and vmdk_layout.c call none (tests/cli/layers.sh checks it).
 *
 * On-disk facts follow VMware's "Virtual Disk Format 1.1" technote: all
 * integers little-endian, sizes and offsets in 512-byte sectors.
 */
#ifndef OD_DISK_VMDK_PRIV_H
#define OD_DISK_VMDK_PRIV_H

#include "disk/driver.h"

#include <pthread.h>

#define VMDK_SECTOR 512u
#define VMDK_MAGIC 0x564d444bu /* "KDMV" read little-endian */
#define VMDK_GD_AT_END UINT64_C(0xffffffffffffffff)
#define VMDK_GTES 512u          /* numGTEsPerGT: the only value in use anywhere */

#define VMDK_FLAG_NL_TEST (1u << 0)
#define VMDK_FLAG_RGD (1u << 1)
#define VMDK_FLAG_ZERO_GTE (1u << 2)
#define VMDK_FLAG_COMPRESSED (1u << 16)
#define VMDK_FLAG_MARKERS (1u << 17)

#define VMDK_MARKER_EOS 0u
#define VMDK_MARKER_GT 1u
#define VMDK_MARKER_GD 2u
#define VMDK_MARKER_FOOTER 3u

/* Limits on what a file may make us do.  The descriptor limit is the one the
 * issue names; the others keep memory bounded whatever the header claims. */
#define VMDK_MAX_DESC (1u << 20)            /* descriptor text: 1 MiB */
#define VMDK_MAX_EXTENTS 4096u              /* extent lines in a descriptor */
#define VMDK_MAX_BYTES (UINT64_C(1) << 50)  /* 1 PiB: far above VMware's 62 TiB */
#define VMDK_MAX_GRAIN_SECTORS 2048u        /* 1 MiB grains (VMware uses 64 KiB) */
#define VMDK_MAX_GD_BYTES (16u << 20)       /* grain directory held in memory */
#define VMDK_GT_CACHE 512u                  /* cached grain tables (2 KiB each) */

/* The 512-byte sparse extent header, decoded. */
struct vmdk_header {
	uint32_t magic, version, flags;
	uint64_t capacity, grain, desc_off, desc_size;
	uint32_t num_gtes;
	uint64_t rgd_off, gd_off, overhead;
	uint8_t unclean;
	uint16_t compress;
};
void vmdk_header_decode(const unsigned char *b, struct vmdk_header *h);
void vmdk_header_encode(const struct vmdk_header *h, unsigned char *b);

static inline uint32_t vmdk_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t vmdk_le64(const unsigned char *p)
{
	return (uint64_t)vmdk_le32(p) | (uint64_t)vmdk_le32(p + 4) << 32;
}
static inline void vmdk_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}
static inline void vmdk_put64(unsigned char *p, uint64_t v)
{
	vmdk_put32(p, (uint32_t)v);
	vmdk_put32(p + 4, (uint32_t)(v >> 32));
}

/* ---- descriptor ---------------------------------------------------------- */
enum vmdk_access { VMDK_RW, VMDK_RDONLY, VMDK_NOACCESS };
enum vmdk_ext_type { VMDK_SPARSE, VMDK_FLAT, VMDK_ZERO, VMDK_VMFS, VMDK_VMFSSPARSE };

struct vmdk_desc_extent {
	int access, type;
	uint64_t sectors;
	uint64_t offset; /* FLAT/VMFS: start sector inside the file */
	char *file;      /* NULL for ZERO */
};

struct vmdk_desc {
	unsigned version;
	uint32_t cid, parent_cid;
	bool has_cid, has_parent_cid;
	char *create_type;
	char *parent_hint;     /* parentFileNameHint */
	char *adapter_type;    /* ddb.adapterType */
	struct vmdk_desc_extent *ext;
	size_t next;
	uint64_t sectors;      /* sum of the extents */
};
/* Parse descriptor text (need not be NUL-terminated; stops at the first NUL,
 * which is how embedded descriptors are padded). `name` is for messages. */
int vmdk_desc_parse(const char *text, size_t len, const char *name, struct vmdk_desc *d, od_err *e);
void vmdk_desc_free(struct vmdk_desc *d);
/* Descriptor text for a single-extent image we write. */
char *vmdk_desc_make(const char *create_type, uint64_t sectors, const char *extent_file,
		     const char *adapter, uint32_t cid);
uint32_t vmdk_random_cid(void);

/* ---- hosted sparse extents ----------------------------------------------- */
struct vmdk_sparse;
/* Open the sparse extent on `io` (d itself or a child disk). `h` is its
 * already-read first header; `name` for messages. */
int vmdk_sparse_open(disk *io, const struct vmdk_header *h, bool writable, struct vmdk_sparse **out, od_err *e);
void vmdk_sparse_close(struct vmdk_sparse *s);
uint64_t vmdk_sparse_grain_bytes(const struct vmdk_sparse *s);
const struct vmdk_header *vmdk_sparse_header(const struct vmdk_sparse *s);
/* Byte offsets relative to the start of the extent. */
int vmdk_sparse_pread(struct vmdk_sparse *s, void *buf, size_t len, uint64_t off, od_err *e);
int vmdk_sparse_pwrite(struct vmdk_sparse *s, const void *buf, size_t len, uint64_t off, od_err *e);
int vmdk_sparse_map(struct vmdk_sparse *s, uint64_t off, uint64_t len, uint64_t *run, int *kind, od_err *e);
int vmdk_sparse_check(struct vmdk_sparse *s, bool deep, struct disk_check_result *r, od_err *e);
/* Start readahead workers for a compressed extent (see
 * disk_readahead_start): 1 when started, 0 when not worth it (plain
 * grains, already started), -1 on error.  Stopped by vmdk_sparse_close. */
int vmdk_sparse_readahead_start(struct vmdk_sparse *s, unsigned nthreads, int (*thread_init)(void *ctx, od_err *e),
				void *ctx, od_err *e);
/* Create a fresh monolithicSparse layout on d->io. */
int vmdk_sparse_create(disk *d, uint64_t sectors, uint64_t grain_sectors, const char *desc_text,
		       struct vmdk_sparse **out, od_err *e);
/* True when the buffer holds only zero bytes. */
bool vmdk_is_zero(const void *p, size_t n);

/* ---- stream writer ------------------------------------------------------- */
struct vmdk_stream;
int vmdk_stream_create(disk *d, uint64_t sectors, const struct disk_create_opts *o, const char *desc_text,
		       struct vmdk_stream **out, od_err *e);
int vmdk_stream_pwrite(struct vmdk_stream *w, const void *buf, size_t len, uint64_t off, od_err *e);
int vmdk_stream_finish(struct vmdk_stream *w, od_err *e);
void vmdk_stream_free(struct vmdk_stream *w);

#endif
