/* vmdk_sparse.c - hosted sparse extents ("KDMV"): monolithicSparse,
 * twoGbMaxExtentSparse pieces and streamOptimized files.
 *
 * Two-level lookup: the grain directory (GD, held in memory, bounded by
 * VMDK_MAX_GD_BYTES) points to grain tables (GT, 512 entries, cached in a
 * direct-mapped cache of VMDK_GT_CACHE tables) which point to grains.  A GT
 * entry of 0 is unallocated, 1 a zeroed grain, anything else the sector of the
 * grain (or, for compressed extents, of its 12-byte grain header).
 *
 * Every offset read from the file is checked against the file size before
 * use, and reported with the table it came from. */
#include "config.h"
#include "disk/vmdk_priv.h"

#include <errno.h>
#include <libdeflate.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct gt_slot {
	uint32_t idx; /* GT number + 1; 0 = empty slot */
	uint32_t gte[VMDK_GTES];
};

/* What one thread needs to inflate grains: its own decompressor and a
 * buffer for one compressed grain (at most two grains plus its header). */
struct inflater {
	struct libdeflate_decompressor *dec;
	unsigned char *cbuf;
};

/* Parallel inflation of the grains of one large read (see pread_parallel). */
#define VMDK_PAR_WINDOW 256u  /* grains looked up per round */
#define VMDK_PAR_MAX 8u       /* worker threads at most */
struct par_grain {
	uint64_t g;
	uint32_t gte, next; /* next: see read_compressed */
	unsigned char *dst; /* where the whole grain goes in the caller's buffer */
};
struct par_job {
	struct vmdk_sparse *s;
	struct inflater inf;
	const struct par_grain *list;
	size_t n, stride, first;
	int rc;
	od_err err;
};

/* Readahead for sequential reads of a compressed extent (see
 * vmdk_sparse_readahead_start).  A slot holds one inflated grain: queued for
 * a worker, being inflated, ready to copy out, or failed with its error. */
enum ra_state { RA_FREE, RA_QUEUED, RA_BUSY, RA_READY, RA_FAILED };
struct ra_slot {
	uint64_t g;          /* grain number (valid unless RA_FREE) */
	uint32_t gte, next;  /* its grain table entry and the next grain's,
				looked up by the reader (see read_compressed) */
	int state;
	unsigned char *buf;  /* grain_bytes */
	od_err err;          /* RA_FAILED: what the worker's read said */
};
struct readahead {
	struct vmdk_sparse *s;
	pthread_mutex_t lock;
	pthread_cond_t work;   /* a slot was queued, or stop */
	pthread_cond_t done;   /* a slot left RA_BUSY, or a worker started */
	struct ra_slot *slot;
	unsigned nslots;
	struct ra_worker *w;
	unsigned nthreads;     /* threads created (and to be joined) */
	unsigned started;      /* workers through their thread_init */
	int init_rc;           /* a thread_init failure (-1), reported by start */
	od_err init_err;
	bool stop;
	int (*thread_init)(void *ctx, od_err *e);
	void *init_ctx;
	/* reader side, under the extent's lock: the grain after the last read,
	 * to tell sequential access from random, and the grain up to which
	 * ra_schedule has looked (grains before it are queued or not worth
	 * it: a sequential read looks only further on) */
	uint64_t next_g, scanned;
};
struct ra_worker {
	struct readahead *ra;
	pthread_t thread;
	struct inflater inf;
};

struct vmdk_sparse {
	disk *io;
	struct vmdk_header h; /* the header in effect (the footer's for GD_AT_END) */
	uint64_t file_size;
	uint64_t grain_bytes;
	uint64_t ngrains;      /* grains covering the capacity */
	uint32_t ngd;
	uint32_t *gd, *rgd;    /* rgd only when writable and present */
	bool compressed, writable;
	bool gd_at_end;        /* a true stream: header says GD_AT_END */
	struct gt_slot *cache;
	/* one decompressed grain, so that small reads of a compressed grain
	 * inflate it once rather than once per read */
	unsigned char *gbuf;
	uint64_t gbuf_idx;
	bool gbuf_valid;
	struct inflater inf;   /* for the calling thread */
	size_t cbuf_size;
	od_pool *pool;         /* created on the first large compressed read */
	struct par_job *jobs;
	unsigned njobs;
	struct par_grain *plist;
	uint64_t alloc_end;    /* writable: next free sector at the end of the file */
	struct readahead *ra;  /* NULL unless vmdk_sparse_readahead_start ran */
	pthread_mutex_t lock;
};

/* Validate a header's geometry; shared by the first header and the footer. */
static int header_sane(const struct vmdk_header *h, const char *name, const char *which, od_err *e)
{
	if (h->magic != VMDK_MAGIC)
		return od_err_set(e, OD_E_INVALID, "%s: %s has no KDMV magic", name, which);
	if (h->version < 1 || h->version > 3)
		return od_err_set(e, OD_E_UNSUPPORTED, "%s: %s: sparse extent version %u is not supported", name, which,
				  h->version);
	if (!od_is_pow2(h->grain))
		return od_err_set(e, OD_E_INVALID, "%s: %s: grain size %llu sectors is not a power of two", name, which,
				  (unsigned long long)h->grain);
	if (h->grain > VMDK_MAX_GRAIN_SECTORS)
		return od_err_set(e, OD_E_UNSUPPORTED, "%s: %s: grain size %llu sectors is larger than the supported %u",
				  name, which, (unsigned long long)h->grain, VMDK_MAX_GRAIN_SECTORS);
	if (h->num_gtes != VMDK_GTES)
		return od_err_set(e, OD_E_INVALID, "%s: %s: numGTEsPerGT is %u, only 512 is valid", name, which,
				  h->num_gtes);
	if (h->capacity == 0 || h->capacity > VMDK_MAX_BYTES / VMDK_SECTOR)
		return od_err_set(e, OD_E_INVALID, "%s: %s: capacity of %llu sectors is %s", name, which,
				  (unsigned long long)h->capacity, h->capacity ? "too large (limit 1 PiB)" : "zero");
	if ((h->flags & VMDK_FLAG_COMPRESSED) && h->compress != 1)
		return od_err_set(e, OD_E_UNSUPPORTED, "%s: %s: compression algorithm %u is not supported (only deflate)",
				  name, which, h->compress);
	return 0;
}

/* A GD or GT location (in sectors) and length (in bytes) must lie in the file. */
static int table_in_file(struct vmdk_sparse *s, uint64_t sector, uint64_t bytes, const char *what, long idx,
			 od_err *e)
{
	uint64_t off;
	if (sector == 0 || !od_mul_u64(sector, VMDK_SECTOR, &off) || !od_range_ok(off, bytes, s->file_size)) {
		if (idx >= 0)
			return od_err_set(e, OD_E_INVALID,
					  "%s: %s %ld points past the end of the file (offset 0x%llx, file size 0x%llx)",
					  s->io->name, what, idx, (unsigned long long)sector * VMDK_SECTOR,
					  (unsigned long long)s->file_size);
		return od_err_set(e, OD_E_INVALID, "%s: %s points past the end of the file (offset 0x%llx, file size 0x%llx)",
				  s->io->name, what, (unsigned long long)sector * VMDK_SECTOR,
				  (unsigned long long)s->file_size);
	}
	return 0;
}

static int load_dir(struct vmdk_sparse *s, uint64_t sector, uint32_t **out, const char *what, od_err *e)
{
	size_t bytes = (size_t)s->ngd * 4;
	if (table_in_file(s, sector, bytes, what, -1, e) < 0)
		return -1;
	unsigned char *raw = malloc(bytes);
	uint32_t *gd = malloc(bytes);
	if (!raw || !gd) {
		free(raw), free(gd);
		return od_err_nomem(e);
	}
	if (disk_io_pread(s->io, raw, bytes, sector * VMDK_SECTOR, e) < 0) {
		free(raw), free(gd);
		return -1;
	}
	for (uint32_t i = 0; i < s->ngd; i++)
		gd[i] = vmdk_le32(raw + 4 * (size_t)i);
	free(raw);
	*out = gd;
	return 0;
}

int vmdk_sparse_open(disk *io, const struct vmdk_header *h0, bool writable, struct vmdk_sparse **out, od_err *e)
{
	struct vmdk_sparse *s = calloc(1, sizeof *s);
	if (!s)
		return od_err_nomem(e);
	pthread_mutex_init(&s->lock, NULL);
	s->io = io;
	s->h = *h0;
	if (disk_io_size(io, &s->file_size, e) < 0)
		goto fail;
	/* A stream's first header may be incomplete (it is written before the
	 * data): when it defers to the footer, only the footer must be sane. */
	if (s->h.gd_off != VMDK_GD_AT_END && header_sane(&s->h, io->name, "header", e) < 0)
		goto fail;
	if (s->h.magic != VMDK_MAGIC) {
		od_err_set(e, OD_E_INVALID, "%s: header has no KDMV magic", io->name);
		goto fail;
	}
	if (s->h.gd_off == VMDK_GD_AT_END) {
		s->gd_at_end = true;
		/* Stream layout: the real header is the footer, 1024 bytes before
		 * the end, preceded by a footer marker and followed by the
		 * end-of-stream marker. */
		unsigned char b[2 * VMDK_SECTOR];
		if (s->file_size < 4 * VMDK_SECTOR) {
			od_err_set(e, OD_E_INVALID, "%s: grain directory at the end, but the file is too short for a footer",
				   io->name);
			goto fail;
		}
		if (disk_io_pread(io, b, sizeof b, s->file_size - 3 * VMDK_SECTOR, e) < 0)
			goto fail;
		if (vmdk_le32(b + 8) != 0 || vmdk_le32(b + 12) != VMDK_MARKER_FOOTER) {
			od_err_set(e, OD_E_INVALID, "%s: grain directory at the end, but no footer marker at offset 0x%llx "
				   "(truncated stream?)", io->name, (unsigned long long)(s->file_size - 3 * VMDK_SECTOR));
			goto fail;
		}
		vmdk_header_decode(b + VMDK_SECTOR, &s->h);
		if (header_sane(&s->h, io->name, "footer", e) < 0)
			goto fail;
		if (s->h.gd_off == VMDK_GD_AT_END) {
			od_err_set(e, OD_E_INVALID, "%s: the footer does not give the grain directory offset", io->name);
			goto fail;
		}
	}
	s->compressed = (s->h.flags & VMDK_FLAG_COMPRESSED) != 0;
	s->writable = writable;
	if (writable && s->compressed) {
		od_err_set(e, OD_E_UNSUPPORTED, "%s: compressed (stream-optimized) extents can only be read", io->name);
		goto fail;
	}
	s->grain_bytes = s->h.grain * VMDK_SECTOR;
	s->ngrains = (s->h.capacity + s->h.grain - 1) / s->h.grain;
	uint64_t ngd = (s->ngrains + VMDK_GTES - 1) / VMDK_GTES;
	if (ngd * 4 > VMDK_MAX_GD_BYTES) {
		od_err_set(e, OD_E_UNSUPPORTED, "%s: grain directory of %llu entries is larger than the supported %u bytes",
			   io->name, (unsigned long long)ngd, VMDK_MAX_GD_BYTES);
		goto fail;
	}
	s->ngd = (uint32_t)ngd;
	if (load_dir(s, s->h.gd_off, &s->gd, "grain directory", e) < 0)
		goto fail;
	if (writable && (s->h.flags & VMDK_FLAG_RGD) && s->h.rgd_off &&
	    load_dir(s, s->h.rgd_off, &s->rgd, "redundant grain directory", e) < 0)
		goto fail;
	s->cache = calloc(VMDK_GT_CACHE, sizeof *s->cache);
	s->gbuf = malloc(s->grain_bytes);
	s->cbuf_size = 2 * (size_t)s->grain_bytes + 12;
	s->inf.cbuf = s->compressed ? malloc(s->cbuf_size) : NULL;
	s->inf.dec = s->compressed ? libdeflate_alloc_decompressor() : NULL;
	if (!s->cache || !s->gbuf || (s->compressed && (!s->inf.cbuf || !s->inf.dec))) {
		od_err_nomem(e);
		goto fail;
	}
	s->alloc_end = (s->file_size + VMDK_SECTOR - 1) / VMDK_SECTOR;
	*out = s;
	return 0;
fail:
	vmdk_sparse_close(s);
	return -1;
}

static void ra_free(struct readahead *ra);

void vmdk_sparse_close(struct vmdk_sparse *s)
{
	if (!s)
		return;
	ra_free(s->ra); /* first: its workers read through s */
	free(s->gd);
	free(s->rgd);
	free(s->cache);
	free(s->gbuf);
	free(s->inf.cbuf);
	if (s->inf.dec)
		libdeflate_free_decompressor(s->inf.dec);
	if (s->pool)
		od_pool_free(s->pool);
	for (unsigned i = 0; i < s->njobs; i++) {
		free(s->jobs[i].inf.cbuf);
		if (s->jobs[i].inf.dec)
			libdeflate_free_decompressor(s->jobs[i].inf.dec);
	}
	free(s->jobs);
	free(s->plist);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

uint64_t vmdk_sparse_grain_bytes(const struct vmdk_sparse *s) { return s->grain_bytes; }
const struct vmdk_header *vmdk_sparse_header(const struct vmdk_sparse *s) { return &s->h; }

/* The grain table `gti`, or NULL with *unalloc set when its GD entry is 0. */
static const uint32_t *get_gt(struct vmdk_sparse *s, uint32_t gti, bool *unalloc, od_err *e)
{
	*unalloc = false;
	if (s->gd[gti] == 0) {
		*unalloc = true;
		return NULL;
	}
	struct gt_slot *slot = &s->cache[gti % VMDK_GT_CACHE];
	if (slot->idx == gti + 1)
		return slot->gte;
	if (table_in_file(s, s->gd[gti], VMDK_GTES * 4, "grain table", (long)gti, e) < 0)
		return NULL;
	unsigned char raw[VMDK_GTES * 4];
	slot->idx = 0;
	if (disk_io_pread(s->io, raw, sizeof raw, (uint64_t)s->gd[gti] * VMDK_SECTOR, e) < 0)
		return NULL;
	for (unsigned i = 0; i < VMDK_GTES; i++)
		slot->gte[i] = vmdk_le32(raw + 4 * i);
	slot->idx = gti + 1;
	return slot->gte;
}

/* Grain table entry of grain `g`: 0 unallocated, 1 zeroed, else a sector. */
static int get_gte(struct vmdk_sparse *s, uint64_t g, uint32_t *gte, od_err *e)
{
	bool unalloc;
	const uint32_t *gt = get_gt(s, (uint32_t)(g / VMDK_GTES), &unalloc, e);
	if (unalloc) {
		*gte = 0;
		return 0;
	}
	if (!gt)
		return -1;
	*gte = gt[g % VMDK_GTES];
	return 0;
}

/* The grain table entry of grain g+1, as a size hint for read_compressed;
 * 0 when unknown (past the end, or its table cannot be read: the read of
 * that grain will say so, not this one). */
static uint32_t next_gte(struct vmdk_sparse *s, uint64_t g)
{
	uint32_t gte = 0;
	od_err ignored;
	if (g + 1 >= s->ngrains || get_gte(s, g + 1, &gte, &ignored) < 0)
		return 0;
	return gte;
}

/* Inflate compressed grain `g` whose header is at `sector` into `out`
 * (grain_bytes).  `lba_out` gets the sector the grain header claims. */
static int read_compressed(struct vmdk_sparse *s, struct inflater *inf, uint64_t g, uint32_t sector, uint32_t next,
			   unsigned char *out, uint64_t *lba_out, od_err *e)
{
	uint64_t off = (uint64_t)sector * VMDK_SECTOR;
	/* With markers (flag bit 17, "embedded LBA") a compressed grain starts
	 * with its sector number and size; without, VMware's own reader
	 * expects the size alone. */
	size_t hl = (s->h.flags & VMDK_FLAG_MARKERS) ? 12 : 4;
	if (off >= s->file_size || s->file_size - off < hl)
		return od_err_set(e, OD_E_INVALID, "%s: grain %llu points past the end of the file (offset 0x%llx)",
				  s->io->name, (unsigned long long)g, (unsigned long long)off);
	size_t avail = s->file_size - off < s->cbuf_size ? (size_t)(s->file_size - off) : s->cbuf_size;
	/* Read the header first; a grain is usually much smaller than the
	 * two-grain buffer, and reading the maximum every time would double
	 * the I/O.  But when the caller knows where the next grain starts
	 * (`next`, its grain table entry, 0 if unknown), writers put grains
	 * one after the other, so the gap is this grain's record: read it in
	 * one go.  Only a size to read: what the header says still rules. */
	size_t first = 4096;
	if (next > sector && (uint64_t)(next - sector) * VMDK_SECTOR <= s->cbuf_size)
		first = (size_t)(next - sector) * VMDK_SECTOR;
	if (first > avail)
		first = avail;
	if (disk_io_pread(s->io, inf->cbuf, first, off, e) < 0)
		return -1;
	uint64_t lba = hl == 12 ? vmdk_le64(inf->cbuf) : g * s->h.grain;
	uint32_t csize = vmdk_le32(inf->cbuf + hl - 4);
	if (lba_out)
		*lba_out = lba;
	if (csize == 0 || csize > 2 * s->grain_bytes)
		return od_err_set(e, OD_E_INVALID,
				  "%s: compressed grain %llu at offset 0x%llx claims %u bytes, more than two grains (%llu bytes)",
				  s->io->name, (unsigned long long)g, (unsigned long long)off, csize,
				  (unsigned long long)(2 * s->grain_bytes));
	if ((size_t)csize + hl > avail)
		return od_err_set(e, OD_E_INVALID, "%s: compressed grain %llu at offset 0x%llx runs past the end of the file",
				  s->io->name, (unsigned long long)g, (unsigned long long)off);
	if ((size_t)csize + hl > first &&
	    disk_io_pread(s->io, inf->cbuf + first, (size_t)csize + hl - first, off + first, e) < 0)
		return -1;
	size_t got = 0;
	enum libdeflate_result r =
		libdeflate_zlib_decompress(inf->dec, inf->cbuf + hl, csize, out, s->grain_bytes, &got);
	if (r != LIBDEFLATE_SUCCESS)
		/* Some old writers stored bare deflate streams. */
		r = libdeflate_deflate_decompress(inf->dec, inf->cbuf + hl, csize, out, s->grain_bytes, &got);
	if (r != LIBDEFLATE_SUCCESS)
		return od_err_set(e, OD_E_INVALID, "%s: compressed grain %llu at offset 0x%llx does not inflate%s",
				  s->io->name, (unsigned long long)g, (unsigned long long)off,
				  r == LIBDEFLATE_INSUFFICIENT_SPACE ? " to at most one grain" : " (corrupt data)");
	if (got < s->grain_bytes)
		memset(out + got, 0, s->grain_bytes - got);
	return 0;
}

static void par_job_run(void *arg)
{
	struct par_job *j = arg;
	j->rc = 0;
	for (size_t i = j->first; i < j->n; i += j->stride)
		if (read_compressed(j->s, &j->inf, j->list[i].g, j->list[i].gte, j->list[i].next, j->list[i].dst, NULL,
				    &j->err) < 0) {
			j->rc = -1;
			return;
		}
}

/* Read `*done` whole grains starting at grain `g` into `buf` (len bytes
 * available), inflating compressed grains on worker threads.  Converting a
 * stream to raw is otherwise bound by one core's inflate speed. */
static int pread_parallel(struct vmdk_sparse *s, unsigned char *buf, size_t len, uint64_t g, size_t *done, od_err *e)
{
	size_t count = len / s->grain_bytes;
	if (count > VMDK_PAR_WINDOW)
		count = VMDK_PAR_WINDOW;
	if (count > s->ngrains - g)
		count = (size_t)(s->ngrains - g);
	if (!s->plist && !(s->plist = malloc(VMDK_PAR_WINDOW * sizeof *s->plist)))
		return od_err_nomem(e);
	size_t n = 0;
	for (size_t i = 0; i < count; i++) {
		uint32_t gte;
		unsigned char *dst = buf + i * s->grain_bytes;
		if (get_gte(s, g + i, &gte, e) < 0)
			return -1;
		if (gte <= 1)
			memset(dst, 0, s->grain_bytes);
		else
			s->plist[n++] = (struct par_grain){g + i, gte, next_gte(s, g + i), dst};
	}
	*done = count;
	/* a thread that may not start threads (a sandboxed vCPU) inflates alone */
	if (n >= 4 && !s->pool && od_pool_allowed()) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		unsigned t = cpus > 1 ? (unsigned)cpus : 1;
		if (t > VMDK_PAR_MAX)
			t = VMDK_PAR_MAX;
		s->jobs = t > 1 ? calloc(t, sizeof *s->jobs) : NULL;
		for (unsigned i = 0; s->jobs && i < t; i++) {
			s->jobs[i].inf.cbuf = malloc(s->cbuf_size);
			s->jobs[i].inf.dec = libdeflate_alloc_decompressor();
			s->njobs = i + 1;
			if (!s->jobs[i].inf.cbuf || !s->jobs[i].inf.dec)
				return od_err_nomem(e);
		}
		/* A pool that cannot start leaves us on the sequential path. */
		if (s->jobs)
			s->pool = od_pool_new(t - 1, 0, NULL);
	}
	if (n < 4 || !s->pool) {
		for (size_t i = 0; i < n; i++)
			if (read_compressed(s, &s->inf, s->plist[i].g, s->plist[i].gte, s->plist[i].next, s->plist[i].dst,
					    NULL, e) < 0)
				return -1;
		return 0;
	}
	/* The calling thread takes a share itself: on a busy machine waiting
	 * for every worker to be scheduled costs more than the inflating. */
	for (unsigned i = 0; i < s->njobs; i++) {
		struct par_job *j = &s->jobs[i];
		j->s = s, j->list = s->plist, j->n = n, j->stride = s->njobs, j->first = i, j->rc = 0;
		if (i && od_pool_submit(s->pool, par_job_run, j, e) < 0) {
			od_pool_wait(s->pool);
			return -1;
		}
	}
	par_job_run(&s->jobs[0]);
	od_pool_wait(s->pool);
	for (unsigned i = 0; i < s->njobs; i++)
		if (s->jobs[i].rc < 0) {
			*e = s->jobs[i].err;
			return -1;
		}
	return 0;
}

/* ---- readahead ------------------------------------------------------------
 *
 * A streamOptimized disk read by a guest is bound by one core's inflate
 * speed, and in the runner that core is the vCPU thread's, which may not
 * start threads once it is sandboxed.  So the runner starts a few workers
 * at set-up; when reads look sequential, the reader (under the extent's
 * lock, where the grain tables are) queues the next grains in a small
 * fixed set of slots, the workers inflate them, and the reader mostly
 * copies inflated grains out.  A request of several grains also queues its
 * own later grains, so it is inflated in parallel even without a pattern.
 *
 * Workers only call read_compressed, which reads fields that never change
 * once the extent is open (compressed extents are read-only) and the file
 * with pread; all hostile-file checks are its own.  The slots are guarded
 * by ra->lock, taken after the extent's lock, never before.  A grain a
 * worker failed to read keeps its error in its slot; the read that needs
 * that grain returns it (a slot evicted unread just drops it: the grain is
 * read again if ever wanted).  Memory: nslots grains plus one compressed
 * buffer per worker, fixed at start. */
#define VMDK_RA_MAX_THREADS 8u
#define VMDK_RA_MAX_SLOTS 32u
#define VMDK_RA_MAX_BYTES (8u << 20)

/* The queued slot of the lowest grain (the one the reader wants first),
 * or NULL.  Under ra->lock. */
static struct ra_slot *ra_next_queued(struct readahead *ra)
{
	struct ra_slot *best = NULL;
	for (unsigned i = 0; i < ra->nslots; i++)
		if (ra->slot[i].state == RA_QUEUED && (!best || ra->slot[i].g < best->g))
			best = &ra->slot[i];
	return best;
}

/* Inflate queued slot q with inflater inf: called and returns under
 * ra->lock, which it drops meanwhile.  While RA_BUSY nobody else touches
 * the slot's buffer or grain. */
static void ra_inflate(struct readahead *ra, struct ra_slot *q, struct inflater *inf)
{
	q->state = RA_BUSY;
	uint64_t g = q->g;
	uint32_t gte = q->gte;
	pthread_mutex_unlock(&ra->lock);
	od_err err;
	int rc = read_compressed(ra->s, inf, g, gte, q->next, q->buf, NULL, &err);
	pthread_mutex_lock(&ra->lock);
	if (rc < 0) {
		q->err = err;
		q->state = RA_FAILED;
	} else {
		q->state = RA_READY;
	}
	pthread_cond_broadcast(&ra->done);
}

static void *ra_worker_main(void *arg)
{
	struct ra_worker *w = arg;
	struct readahead *ra = w->ra;
	if (ra->thread_init) {
		od_err err;
		int rc = ra->thread_init(ra->init_ctx, &err);
		pthread_mutex_lock(&ra->lock);
		if (rc < 0 && ra->init_rc == 0) {
			ra->init_rc = -1;
			ra->init_err = err;
		}
		ra->started++;
		pthread_cond_broadcast(&ra->done);
		if (rc < 0) {
			/* never serve unconfined: start fails and stops us all */
			pthread_mutex_unlock(&ra->lock);
			return NULL;
		}
	} else {
		pthread_mutex_lock(&ra->lock);
		ra->started++;
		pthread_cond_broadcast(&ra->done);
	}
	for (;;) {
		struct ra_slot *q = NULL;
		while (!ra->stop && !(q = ra_next_queued(ra)))
			pthread_cond_wait(&ra->work, &ra->lock);
		if (ra->stop)
			break;
		ra_inflate(ra, q, &w->inf);
	}
	pthread_mutex_unlock(&ra->lock);
	return NULL;
}

/* Stop and join the workers (each finishes the grain it is inflating),
 * then free everything. */
static void ra_free(struct readahead *ra)
{
	if (!ra)
		return;
	pthread_mutex_lock(&ra->lock);
	ra->stop = true;
	pthread_cond_broadcast(&ra->work);
	pthread_mutex_unlock(&ra->lock);
	for (unsigned i = 0; i < ra->nthreads; i++)
		pthread_join(ra->w[i].thread, NULL);
	for (unsigned i = 0; ra->w && i < VMDK_RA_MAX_THREADS; i++) {
		free(ra->w[i].inf.cbuf);
		if (ra->w[i].inf.dec)
			libdeflate_free_decompressor(ra->w[i].inf.dec);
	}
	for (unsigned i = 0; ra->slot && i < ra->nslots; i++)
		free(ra->slot[i].buf);
	free(ra->slot);
	free(ra->w);
	pthread_cond_destroy(&ra->work);
	pthread_cond_destroy(&ra->done);
	pthread_mutex_destroy(&ra->lock);
	free(ra);
}

int vmdk_sparse_readahead_start(struct vmdk_sparse *s, unsigned nthreads, int (*thread_init)(void *ctx, od_err *e),
				void *ctx, od_err *e)
{
	if (!s->compressed || s->ra || nthreads == 0)
		return 0; /* plain grains are a pread away: nothing to gain */
	if (nthreads > VMDK_RA_MAX_THREADS)
		nthreads = VMDK_RA_MAX_THREADS;
	struct readahead *ra = calloc(1, sizeof *ra);
	if (!ra)
		return od_err_nomem(e);
	pthread_mutex_init(&ra->lock, NULL);
	pthread_cond_init(&ra->work, NULL);
	pthread_cond_init(&ra->done, NULL);
	ra->s = s;
	ra->thread_init = thread_init;
	ra->init_ctx = ctx;
	ra->nslots = (unsigned)(VMDK_RA_MAX_BYTES / s->grain_bytes);
	if (ra->nslots > VMDK_RA_MAX_SLOTS)
		ra->nslots = VMDK_RA_MAX_SLOTS;
	ra->slot = calloc(ra->nslots, sizeof *ra->slot);
	ra->w = calloc(VMDK_RA_MAX_THREADS, sizeof *ra->w);
	if (!ra->slot || !ra->w)
		goto nomem;
	for (unsigned i = 0; i < ra->nslots; i++)
		if (!(ra->slot[i].buf = malloc(s->grain_bytes)))
			goto nomem;
	for (unsigned i = 0; i < nthreads; i++) {
		ra->w[i].ra = ra;
		ra->w[i].inf.cbuf = malloc(s->cbuf_size);
		ra->w[i].inf.dec = libdeflate_alloc_decompressor();
		if (!ra->w[i].inf.cbuf || !ra->w[i].inf.dec)
			goto nomem;
	}
	/* Workers take no signals: whatever the process's handlers do is the
	 * business of the threads that expect them (in the runner, a worker's
	 * filter would not allow what a handler might call). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = 0;
	for (unsigned i = 0; i < nthreads && !err; i++) {
		err = pthread_create(&ra->w[i].thread, NULL, ra_worker_main, &ra->w[i]);
		if (!err)
			ra->nthreads = i + 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		od_err_errno(e, err, "%s: starting readahead thread %u", s->io->name, ra->nthreads);
		ra_free(ra);
		return -1;
	}
	/* Wait until every worker has run thread_init: the caller (the
	 * runner) must know they are all confined before it goes on. */
	pthread_mutex_lock(&ra->lock);
	while (ra->started < ra->nthreads)
		pthread_cond_wait(&ra->done, &ra->lock);
	int rc = ra->init_rc;
	if (rc < 0)
		*e = ra->init_err;
	pthread_mutex_unlock(&ra->lock);
	if (rc < 0) {
		od_err_prefix(e, "%s: readahead thread", s->io->name);
		ra_free(ra);
		return -1;
	}
	pthread_mutex_lock(&s->lock);
	s->ra = ra;
	pthread_mutex_unlock(&s->lock);
	return 1;
nomem:
	ra_free(ra);
	return od_err_nomem(e);
}

static struct ra_slot *ra_find(struct readahead *ra, uint64_t g)
{
	for (unsigned i = 0; i < ra->nslots; i++)
		if (ra->slot[i].state != RA_FREE && ra->slot[i].g == g)
			return &ra->slot[i];
	return NULL;
}

/* Queue grains [from, to) that are compressed data and not queued yet, as
 * far as slots allow.  Slots holding grains outside [keep, to) are free to
 * take, except those a worker is inflating.  Called under s->lock.  A grain
 * table that cannot be read just ends the queueing: the read that needs
 * that grain will meet the error itself.  Returns the grain it stopped at
 * (`to` when it went through). */
static uint64_t ra_schedule(struct vmdk_sparse *s, uint64_t keep, uint64_t from, uint64_t to)
{
	struct readahead *ra = s->ra;
	if (to > s->ngrains)
		to = s->ngrains;
	if (from >= to)
		return from;
	unsigned queued = 0;
	uint64_t g = from;
	pthread_mutex_lock(&ra->lock);
	unsigned cursor = 0;
	for (; g < to; g++) {
		if (ra_find(ra, g))
			continue;
		uint32_t gte;
		od_err ignored;
		/* held across the rare grain table read: workers only wait
		 * for it when they finish a grain meanwhile */
		if (get_gte(s, g, &gte, &ignored) < 0)
			break;
		if (gte <= 1)
			continue;
		/* A record longer than a grain is deflate's stored block: its
		 * "inflating" is a copy, which the reader does as fast as a
		 * worker, and through a slot would only add a second copy. */
		uint32_t next = next_gte(s, g);
		if (next > gte && (uint64_t)(next - gte) * VMDK_SECTOR > s->grain_bytes)
			continue;
		struct ra_slot *free_slot = NULL;
		for (; cursor < ra->nslots; cursor++) {
			struct ra_slot *x = &ra->slot[cursor];
			if (x->state == RA_FREE || (x->state != RA_BUSY && (x->g < keep || x->g >= to))) {
				free_slot = x;
				cursor++;
				break;
			}
		}
		if (!free_slot)
			break;
		*free_slot = (struct ra_slot){ .g = g, .gte = gte, .next = next, .state = RA_QUEUED,
					       .buf = free_slot->buf };
		queued++;
	}
	if (queued > 1)
		pthread_cond_broadcast(&ra->work);
	else if (queued)
		pthread_cond_signal(&ra->work);
	pthread_mutex_unlock(&ra->lock);
	return g;
}

/* Serve [in, in+n) of compressed grain g from a readahead slot if one has
 * it: returns 1 when served (or 0 when the caller must inflate the grain
 * itself, which it also does for a grain still only queued: waiting for a
 * worker to get to it would be slower), -1 with the worker's error. */
static int ra_take(struct vmdk_sparse *s, uint64_t g, uint64_t in, size_t n, unsigned char *dst, od_err *e)
{
	struct readahead *ra = s->ra;
	int rc = 0;
	pthread_mutex_lock(&ra->lock);
	struct ra_slot *x = ra_find(ra, g);
	if (x && x->state == RA_QUEUED) {
		x->state = RA_FREE;
		x = NULL;
	}
	while (x && x->state == RA_BUSY) {
		/* Rather than wait idle for the worker, inflate the next queued
		 * grain meanwhile: with one worker, it would otherwise always
		 * be busy with just the grain the reader wants next, and the
		 * two would take turns instead of working at once. */
		struct ra_slot *q = ra_next_queued(ra);
		if (!q) {
			pthread_cond_wait(&ra->done, &ra->lock);
			continue;
		}
		ra_inflate(ra, q, &s->inf);
	}
	if (x && x->state == RA_READY) {
		memcpy(dst, x->buf + in, n);
		/* read to its end: done with it (a partial read keeps it for
		 * the rest of the grain) */
		if (in + n == s->grain_bytes)
			x->state = RA_FREE;
		rc = 1;
	} else if (x && x->state == RA_FAILED) {
		*e = x->err;
		x->state = RA_FREE;
		rc = -1;
	}
	pthread_mutex_unlock(&ra->lock);
	return rc;
}

int vmdk_sparse_pread(struct vmdk_sparse *s, void *buf_, size_t len, uint64_t off, od_err *e)
{
	unsigned char *buf = buf_;
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	if (s->ra && len) {
		/* Queue this request's later grains; and when it continues the
		 * previous one, the grains after it, as far as slots go. */
		struct readahead *ra = s->ra;
		uint64_t g0 = off / s->grain_bytes, gend = (off + len - 1) / s->grain_bytes + 1;
		bool seq = g0 == ra->next_g || g0 + 1 == ra->next_g;
		/* going on sequentially, what was looked at already is done
		 * with: without that, data deflate stored (nothing to queue)
		 * would be looked at 33 times a grain */
		uint64_t from = seq && ra->scanned > g0 + 1 ? ra->scanned : g0 + 1;
		ra->next_g = gend;
		ra->scanned = ra_schedule(s, g0, from, seq ? gend + ra->nslots : gend);
	}
	while (len) {
		uint64_t g = off / s->grain_bytes, in = off % s->grain_bytes;
		size_t n = s->grain_bytes - in < len ? (size_t)(s->grain_bytes - in) : len;
		uint32_t gte = 0;
		if (s->compressed && !s->ra && in == 0 && len >= 4 * s->grain_bytes && g < s->ngrains) {
			size_t k = 0;
			if ((rc = pread_parallel(s, buf, len, g, &k, e)) < 0)
				break;
			buf += k * s->grain_bytes, off += k * s->grain_bytes, len -= k * s->grain_bytes;
			continue;
		}
		if (g >= s->ngrains) {
			/* beyond the header's capacity (descriptor said more) */
			memset(buf, 0, n);
		} else if ((rc = get_gte(s, g, &gte, e)) < 0) {
			break;
		} else if (gte <= 1) {
			memset(buf, 0, n);
		} else if (s->ra && (rc = ra_take(s, g, in, n, buf, e)) != 0) {
			if (rc < 0)
				break;
			rc = 0;
		} else if (s->compressed && n == s->grain_bytes && !(s->gbuf_valid && s->gbuf_idx == g)) {
			/* A whole grain (a virtio-blk request of one grain, the
			 * common case) inflates straight into the caller's buffer:
			 * going through gbuf would copy every byte once more, and
			 * nothing will read part of it again soon. */
			if ((rc = read_compressed(s, &s->inf, g, gte, next_gte(s, g), buf, NULL, e)) < 0)
				break;
		} else if (s->compressed) {
			if (!s->gbuf_valid || s->gbuf_idx != g) {
				s->gbuf_valid = false;
				if ((rc = read_compressed(s, &s->inf, g, gte, next_gte(s, g), s->gbuf, NULL, e)) < 0)
					break;
				s->gbuf_valid = true;
				s->gbuf_idx = g;
			}
			memcpy(buf, s->gbuf + in, n);
		} else {
			uint64_t goff = (uint64_t)gte * VMDK_SECTOR + in;
			if (!od_range_ok(goff, n, s->file_size)) {
				rc = od_err_set(e, OD_E_INVALID, "%s: grain %llu points past the end of the file (offset 0x%llx)",
						s->io->name, (unsigned long long)g, (unsigned long long)gte * VMDK_SECTOR);
				break;
			}
			if ((rc = disk_io_pread(s->io, buf, n, goff, e)) < 0)
				break;
		}
		buf += n, off += n, len -= n;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int vmdk_sparse_map(struct vmdk_sparse *s, uint64_t off, uint64_t len, uint64_t *run, int *kind, od_err *e)
{
	int rc = 0;
	uint64_t done = 0;
	int k0 = -1;
	pthread_mutex_lock(&s->lock);
	/* Bound the work per call: callers loop, and a huge unallocated disk is
	 * covered a whole grain table at a time anyway. */
	for (unsigned steps = 0; done < len && steps < 65536; steps++) {
		uint64_t pos = off + done;
		uint64_t g = pos / s->grain_bytes;
		uint64_t step = s->grain_bytes - pos % s->grain_bytes;
		int k;
		if (g >= s->ngrains) {
			k = DISK_EXT_UNALLOC;
			step = len - done;
		} else if (s->gd[g / VMDK_GTES] == 0) {
			k = DISK_EXT_UNALLOC;
			uint64_t gt_end = (g / VMDK_GTES + 1) * VMDK_GTES * s->grain_bytes;
			step = gt_end - pos;
		} else {
			uint32_t gte;
			if ((rc = get_gte(s, g, &gte, e)) < 0)
				break;
			k = gte == 0 ? DISK_EXT_UNALLOC : gte == 1 ? DISK_EXT_ZERO : DISK_EXT_DATA;
		}
		if (k0 < 0)
			k0 = k;
		else if (k != k0)
			break;
		if (step > len - done)
			step = len - done;
		done += step;
	}
	pthread_mutex_unlock(&s->lock);
	*run = done;
	*kind = k0 < 0 ? DISK_EXT_DATA : k0;
	return rc;
}

/* ---- writing (uncompressed extents) -------------------------------------- */

static int write_le32(struct vmdk_sparse *s, uint64_t off, uint32_t v, od_err *e)
{
	unsigned char b[4];
	vmdk_put32(b, v);
	return disk_io_pwrite(s->io, b, 4, off, e);
}

static int alloc_sectors(struct vmdk_sparse *s, uint64_t n, uint32_t *out, od_err *e)
{
	/* GT and GD entries are 32-bit sector numbers: a sparse extent cannot
	 * grow past 2 TiB of file. */
	if (s->alloc_end + n > UINT32_MAX)
		return od_err_set(e, OD_E_INVALID, "%s: sparse extent would grow past 2 TiB", s->io->name);
	*out = (uint32_t)s->alloc_end;
	s->alloc_end += n;
	return 0;
}

/* Make sure grain table `gti` exists (allocating it, and its redundant
 * copy, at the end of the file when its GD entry is 0). */
static int ensure_gt(struct vmdk_sparse *s, uint32_t gti, od_err *e)
{
	if (s->gd[gti])
		return 0;
	static const unsigned char zeros[VMDK_GTES * 4];
	uint32_t sec = 0;
	if (alloc_sectors(s, 4, &sec, e) < 0 || disk_io_pwrite(s->io, zeros, sizeof zeros, (uint64_t)sec * VMDK_SECTOR, e) < 0)
		return -1;
	if (s->rgd) {
		uint32_t rsec = 0;
		if (alloc_sectors(s, 4, &rsec, e) < 0 ||
		    disk_io_pwrite(s->io, zeros, sizeof zeros, (uint64_t)rsec * VMDK_SECTOR, e) < 0 ||
		    write_le32(s, s->h.rgd_off * VMDK_SECTOR + 4ull * gti, rsec, e) < 0)
			return -1;
		s->rgd[gti] = rsec;
	}
	if (write_le32(s, s->h.gd_off * VMDK_SECTOR + 4ull * gti, sec, e) < 0)
		return -1;
	s->gd[gti] = sec;
	s->file_size = s->alloc_end * VMDK_SECTOR;
	return 0;
}

static int set_gte(struct vmdk_sparse *s, uint64_t g, uint32_t v, od_err *e)
{
	uint32_t gti = (uint32_t)(g / VMDK_GTES), i = (uint32_t)(g % VMDK_GTES);
	bool unalloc;
	uint32_t *gt = (uint32_t *)get_gt(s, gti, &unalloc, e);
	if (!gt)
		return -1;
	if (write_le32(s, (uint64_t)s->gd[gti] * VMDK_SECTOR + 4ull * i, v, e) < 0)
		return -1;
	if (s->rgd && s->rgd[gti] && write_le32(s, (uint64_t)s->rgd[gti] * VMDK_SECTOR + 4ull * i, v, e) < 0)
		return -1;
	gt[i] = v;
	return 0;
}

int vmdk_sparse_pwrite(struct vmdk_sparse *s, const void *buf_, size_t len, uint64_t off, od_err *e)
{
	const unsigned char *buf = buf_;
	int rc = 0;
	if (!s->writable)
		return od_err_set(e, OD_E_USAGE, "%s: extent is read-only", s->io->name);
	pthread_mutex_lock(&s->lock);
	s->gbuf_valid = false;
	while (len) {
		uint64_t g = off / s->grain_bytes, in = off % s->grain_bytes;
		size_t n = s->grain_bytes - in < len ? (size_t)(s->grain_bytes - in) : len;
		uint32_t gte = 0;
		if (g >= s->ngrains) {
			rc = od_err_set(e, OD_E_INVALID, "%s: write beyond the extent's capacity", s->io->name);
			break;
		}
		if ((rc = get_gte(s, g, &gte, e)) < 0)
			break;
		if (gte > 1) {
			/* A hostile table could aim a write at the metadata or far
			 * past the end (growing the file by terabytes): an allocated
			 * grain must lie after the metadata and inside the file. */
			uint64_t goff = (uint64_t)gte * VMDK_SECTOR;
			if (gte < s->h.overhead || !od_range_ok(goff, s->grain_bytes, s->file_size)) {
				rc = od_err_set(e, OD_E_INVALID,
						"%s: grain %llu (offset 0x%llx) is not a valid grain location; refusing to write",
						s->io->name, (unsigned long long)g, (unsigned long long)goff);
				break;
			}
			if ((rc = disk_io_pwrite(s->io, buf, n, goff + in, e)) < 0)
				break;
		} else if (!vmdk_is_zero(buf, n)) {
			/* A new grain goes at the end of the file; the part of it
			 * this write does not cover reads as zeros, as before. */
			uint32_t sec = 0;
			if ((rc = ensure_gt(s, (uint32_t)(g / VMDK_GTES), e)) < 0 ||
			    (rc = alloc_sectors(s, s->h.grain, &sec, e)) < 0)
				break;
			memset(s->gbuf, 0, s->grain_bytes);
			memcpy(s->gbuf + in, buf, n);
			if ((rc = disk_io_pwrite(s->io, s->gbuf, s->grain_bytes, (uint64_t)sec * VMDK_SECTOR, e)) < 0)
				break;
			s->file_size = s->alloc_end * VMDK_SECTOR;
			if ((rc = set_gte(s, g, sec, e)) < 0)
				break;
		}
		/* an all-zero write to an unallocated or zeroed grain changes nothing */
		buf += n, off += n, len -= n;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int vmdk_sparse_create(disk *d, uint64_t sectors, uint64_t grain, const char *desc, struct vmdk_sparse **out,
		       od_err *e)
{
	/* QEMU's and VMware's monolithicSparse layout: header, descriptor,
	 * redundant GD and GTs, GD and GTs, then grains appended as written.
	 * All grain tables are preallocated so that readers that expect them
	 * (VMware's) find them. */
	size_t dlen = strlen(desc);
	uint64_t desc_sectors = 20;
	if (dlen > desc_sectors * VMDK_SECTOR)
		return od_err_set(e, OD_E_INTERNAL, "descriptor too long");
	uint64_t ngrains = (sectors + grain - 1) / grain;
	uint64_t ngd = (ngrains + VMDK_GTES - 1) / VMDK_GTES;
	/* Grain and table locations are 32-bit sector numbers, so a hosted
	 * sparse file cannot pass 2 TiB; VMware caps the disk there too. */
	if (sectors > (UINT64_C(2) << 40) / VMDK_SECTOR)
		return od_err_set(e, OD_E_USAGE, "%s: a monolithicSparse VMDK cannot exceed 2 TiB "
				  "(use streamOptimized or split the disk)", d->name);
	uint64_t gd_sectors = (ngd * 4 + VMDK_SECTOR - 1) / VMDK_SECTOR;
	uint64_t rgd = 1 + desc_sectors;
	uint64_t rgt = rgd + gd_sectors;
	uint64_t gd = rgt + ngd * 4;
	uint64_t gt = gd + gd_sectors;
	uint64_t end = gt + ngd * 4;
	uint64_t overhead = (end + grain - 1) / grain * grain;
	if (overhead >= UINT32_MAX)
		return od_err_set(e, OD_E_USAGE, "%s: image too large for a sparse VMDK", d->name);
	struct vmdk_header h = {
		.magic = VMDK_MAGIC, .version = 1, .flags = VMDK_FLAG_NL_TEST | VMDK_FLAG_RGD,
		.capacity = sectors, .grain = grain, .desc_off = 1, .desc_size = desc_sectors,
		.num_gtes = VMDK_GTES, .rgd_off = rgd, .gd_off = gd, .overhead = overhead,
	};
	/* Header and descriptor, then each directory; the grain tables are
	 * zeros and only extend the file (sparse), so memory stays at the
	 * size of one directory whatever the disk size. */
	unsigned char *m = calloc(1, (size_t)(1 + desc_sectors) * VMDK_SECTOR);
	size_t gdb = (size_t)(gd_sectors * VMDK_SECTOR);
	unsigned char *a = calloc(1, gdb), *b = calloc(1, gdb);
	int rc = -1;
	if (!m || !a || !b) {
		od_err_nomem(e);
		goto out;
	}
	vmdk_header_encode(&h, m);
	memcpy(m + VMDK_SECTOR, desc, dlen);
	for (uint64_t i = 0; i < ngd; i++) {
		vmdk_put32(a + 4 * i, (uint32_t)(rgt + 4 * i));
		vmdk_put32(b + 4 * i, (uint32_t)(gt + 4 * i));
	}
	if (disk_io_pwrite(d, m, (size_t)(1 + desc_sectors) * VMDK_SECTOR, 0, e) < 0 ||
	    disk_io_pwrite(d, a, gdb, rgd * VMDK_SECTOR, e) < 0 || disk_io_pwrite(d, b, gdb, gd * VMDK_SECTOR, e) < 0)
		goto out;
	if (ftruncate(d->io.fd, (off_t)(overhead * VMDK_SECTOR)) < 0) {
		od_err_errno(e, errno, "%s: extending the file", d->name);
		goto out;
	}
	rc = 0;
out:
	free(m), free(a), free(b);
	if (rc < 0)
		return -1;
	return vmdk_sparse_open(d, &h, true, out, e);
}

/* ---- check ----------------------------------------------------------------- */

static int stream_walk(struct vmdk_sparse *s, struct disk_check_result *r, od_err *e)
{
	/* Walk the markers from the first grain to the end: grain markers,
	 * GT/GD markers with their tables, footer, end-of-stream. */
	uint64_t pos = s->h.overhead * VMDK_SECTOR;
	unsigned char b[VMDK_SECTOR];
	int last_meta = -1;
	bool eos = false;
	uint64_t limit = s->file_size / VMDK_SECTOR + 1;
	for (uint64_t steps = 0; pos + 12 <= s->file_size && steps < limit; steps++) {
		size_t n = s->file_size - pos < VMDK_SECTOR ? (size_t)(s->file_size - pos) : VMDK_SECTOR;
		memset(b, 0, sizeof b);
		if (disk_io_pread(s->io, b, n, pos, e) < 0)
			return -1;
		uint64_t val = vmdk_le64(b);
		uint32_t size = vmdk_le32(b + 8);
		if (size) {
			uint64_t adv = ((uint64_t)size + 12 + VMDK_SECTOR - 1) / VMDK_SECTOR * VMDK_SECTOR;
			if (last_meta == VMDK_MARKER_FOOTER || last_meta == VMDK_MARKER_GD) {
				r->corruptions++;
				disk_check_msg(r, "grain marker after the grain directory at offset 0x%llx", (unsigned long long)pos);
			}
			if (size > 2 * s->grain_bytes) {
				r->corruptions++;
				disk_check_msg(r, "grain marker at offset 0x%llx claims %u bytes", (unsigned long long)pos, size);
				return 0;
			}
			pos += adv;
			continue;
		}
		uint32_t type = n >= 16 ? vmdk_le32(b + 12) : 0;
		if (type == VMDK_MARKER_EOS) {
			eos = true;
			if (pos + VMDK_SECTOR != s->file_size) {
				r->corruptions++;
				disk_check_msg(r, "end-of-stream marker at offset 0x%llx is not at the end of the file",
					       (unsigned long long)pos);
			}
			break;
		}
		if (type > VMDK_MARKER_FOOTER) {
			r->corruptions++;
			disk_check_msg(r, "unknown marker type %u at offset 0x%llx", type, (unsigned long long)pos);
			return 0;
		}
		if (type == VMDK_MARKER_FOOTER && last_meta != VMDK_MARKER_GD) {
			r->corruptions++;
			disk_check_msg(r, "footer at offset 0x%llx does not follow the grain directory", (unsigned long long)pos);
		}
		if (type == VMDK_MARKER_GD && val * VMDK_SECTOR < (uint64_t)s->ngd * 4) {
			r->corruptions++;
			disk_check_msg(r, "grain directory marker at offset 0x%llx covers %llu sectors, too few",
				       (unsigned long long)pos, (unsigned long long)val);
		}
		last_meta = (int)type;
		if (val > limit)
			break;
		pos += (1 + val) * VMDK_SECTOR;
	}
	if (!eos) {
		r->corruptions++;
		disk_check_msg(r, "no end-of-stream marker found");
	}
	return 0;
}

int vmdk_sparse_check(struct vmdk_sparse *s, bool deep, struct disk_check_result *r, od_err *e)
{
	const char *name = s->io->name;
	r->total_clusters += s->ngrains;
	if (s->file_size > r->image_end_offset)
		r->image_end_offset = s->file_size;
	unsigned char *tmp = s->compressed ? NULL : malloc(s->grain_bytes);
	if (!s->compressed && !tmp)
		return od_err_nomem(e);
	pthread_mutex_lock(&s->lock);
	s->gbuf_valid = false;
	uint64_t prev = 0;
	for (uint32_t gti = 0; gti < s->ngd; gti++) {
		if (!s->gd[gti])
			continue;
		bool unalloc;
		od_err ge;
		const uint32_t *gt = get_gt(s, gti, &unalloc, &ge);
		if (!gt) {
			r->corruptions++;
			disk_check_msg(r, "%s", ge.msg);
			continue;
		}
		for (uint32_t i = 0; i < VMDK_GTES; i++) {
			uint64_t g = (uint64_t)gti * VMDK_GTES + i;
			uint32_t gte = gt[i];
			if (gte <= 1)
				continue;
			if (g >= s->ngrains) {
				r->corruptions++;
				disk_check_msg(r, "grain table %u entry %u maps grain %llu beyond the capacity", gti, i,
					       (unsigned long long)g);
				continue;
			}
			r->allocated_clusters++;
			if (gte < prev)
				r->fragmented_clusters++;
			prev = gte;
			uint64_t goff = (uint64_t)gte * VMDK_SECTOR;
			if (goff < s->h.overhead * VMDK_SECTOR && !s->compressed) {
				r->corruptions++;
				disk_check_msg(r, "grain %llu (offset 0x%llx) overlaps the metadata", (unsigned long long)g,
					       (unsigned long long)goff);
				continue;
			}
			if (s->compressed) {
				r->compressed_clusters++;
				/* shallow: the grain header is in the file and sane;
				 * deep: the data inflates to the grain */
				uint64_t lba = 0;
				od_err ce;
				if (deep) {
					if (read_compressed(s, &s->inf, g, gte, 0, s->gbuf, &lba, &ce) < 0) {
						r->corruptions++;
						disk_check_msg(r, "%s", ce.msg);
						continue;
					}
				} else {
					unsigned char hb[12];
					size_t hl = (s->h.flags & VMDK_FLAG_MARKERS) ? 12 : 4;
					if (!od_range_ok(goff, hl, s->file_size)) {
						r->corruptions++;
						disk_check_msg(r, "grain %llu points past the end of the file (offset 0x%llx)",
							       (unsigned long long)g, (unsigned long long)goff);
						continue;
					}
					if (disk_io_pread(s->io, hb, hl, goff, &ce) < 0) {
						r->check_errors++;
						continue;
					}
					lba = hl == 12 ? vmdk_le64(hb) : g * s->h.grain;
					uint32_t cs = vmdk_le32(hb + hl - 4);
					if (cs == 0 || cs > 2 * s->grain_bytes || !od_range_ok(goff + hl, cs, s->file_size)) {
						r->corruptions++;
						disk_check_msg(r, "compressed grain %llu at offset 0x%llx: bad size %u",
							       (unsigned long long)g, (unsigned long long)goff, cs);
						continue;
					}
				}
				if (lba != g * s->h.grain) {
					r->corruptions++;
					disk_check_msg(r, "compressed grain %llu at offset 0x%llx is marked for sector %llu",
						       (unsigned long long)g, (unsigned long long)goff, (unsigned long long)lba);
				}
			} else if (!od_range_ok(goff, s->grain_bytes, s->file_size)) {
				r->corruptions++;
				disk_check_msg(r, "grain %llu points past the end of the file (offset 0x%llx)",
					       (unsigned long long)g, (unsigned long long)goff);
			} else if (deep) {
				od_err ce;
				if (disk_io_pread(s->io, tmp, s->grain_bytes, goff, &ce) < 0)
					r->check_errors++;
			}
		}
	}
	/* redundant directory: same tables, same entries */
	if ((s->h.flags & VMDK_FLAG_RGD) && s->h.rgd_off && s->h.rgd_off != VMDK_GD_AT_END) {
		uint32_t *rgd = NULL;
		od_err re;
		if (load_dir(s, s->h.rgd_off, &rgd, "redundant grain directory", &re) < 0) {
			r->corruptions++;
			disk_check_msg(r, "%s", re.msg);
		} else {
			unsigned char a[VMDK_GTES * 4], b[VMDK_GTES * 4];
			for (uint32_t gti = 0; gti < s->ngd; gti++) {
				if (!s->gd[gti] != !rgd[gti]) {
					r->corruptions++;
					disk_check_msg(r, "grain directory entry %u differs from the redundant copy", gti);
					continue;
				}
				if (!rgd[gti])
					continue;
				if (table_in_file(s, rgd[gti], sizeof b, "redundant grain table", (long)gti, &re) < 0) {
					r->corruptions++;
					disk_check_msg(r, "%s", re.msg);
					continue;
				}
				if (table_in_file(s, s->gd[gti], sizeof a, "grain table", (long)gti, &re) < 0)
					continue; /* reported above */
				if (disk_io_pread(s->io, a, sizeof a, (uint64_t)s->gd[gti] * VMDK_SECTOR, &re) < 0 ||
				    disk_io_pread(s->io, b, sizeof b, (uint64_t)rgd[gti] * VMDK_SECTOR, &re) < 0) {
					r->check_errors++;
					continue;
				}
				if (memcmp(a, b, sizeof a)) {
					r->corruptions++;
					disk_check_msg(r, "grain table %u differs from its redundant copy", gti);
				}
			}
		}
		free(rgd);
	}
	int rc = 0;
	/* Only true streams are a sequence of markers end to end; QEMU's
	 * layout (GD at the start) may leave zero sectors between grains,
	 * which would read as end-of-stream markers. */
	if ((s->h.flags & VMDK_FLAG_MARKERS) && s->gd_at_end)
		rc = stream_walk(s, r, e);
	pthread_mutex_unlock(&s->lock);
	free(tmp);
	(void)name;
	return rc;
}
