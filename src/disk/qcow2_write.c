/* qcow2_write.c - writing qcow2: allocation, refcounts, creation and the
 * multi-threaded compressed writer.
 *
 * Refcounts are kept in memory, one counter per host cluster, and written
 * out as whole refcount blocks at flush.  When an existing image is opened
 * for writing they are rebuilt from the metadata rather than read, which
 * also repairs an image left dirty by a crash (lazy refcounts).  While an
 * existing v3 image has unwritten refcounts its dirty bit is set on disk,
 * so that a crash leaves an image QEMU (and we) know to repair.
 *
 * Allocation only ever appends (a bump pointer at the end of the file):
 * clusters freed by copy-on-write get refcount 0 and are not reused.  That
 * keeps every allocation O(1) and the file layout in guest order when an
 * image is written front to back, as convert does. */
#include "config.h"
#include "disk/qcow2.h"

#include <errno.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

/* In-memory refcounts: 4 bytes per host cluster, capped so that a huge
 * image with tiny clusters cannot make us allocate without bound. */
#define Q2_MAX_HOST_CLUSTERS (1ull << 25)

/* ---- in-memory refcounts ------------------------------------------------ */

static unsigned q2_rb_shift(const struct qcow2 *q)
{
	/* log2 of the number of refcount entries in one refcount block */
	return q->cluster_bits + 3 - q->refcount_order;
}

static int rc_grow(disk *d, uint64_t n, od_err *e)
{
	struct qcow2 *q = d->priv;
	if (n <= q->refcnt_cap)
		return 0;
	if (n > Q2_MAX_HOST_CLUSTERS)
		return od_err_set(e, OD_E_UNSUPPORTED, "%s: image too large to write with %llu-byte clusters", d->name,
				  (unsigned long long)q->cluster_size);
	uint64_t cap = q->refcnt_cap ? q->refcnt_cap : 1024;
	while (cap < n)
		cap *= 2;
	if (cap > Q2_MAX_HOST_CLUSTERS)
		cap = Q2_MAX_HOST_CLUSTERS;
	uint32_t *r = realloc(q->refcnt, cap * sizeof *r);
	if (!r)
		return od_err_nomem(e);
	memset(r + q->refcnt_cap, 0, (cap - q->refcnt_cap) * sizeof *r);
	q->refcnt = r;
	uint64_t nb = (cap >> q2_rb_shift(q)) + 1;
	if (nb > q->rb_dirty_n) {
		unsigned char *b = realloc(q->rb_dirty, nb);
		if (!b)
			return od_err_nomem(e);
		memset(b + q->rb_dirty_n, 0, nb - q->rb_dirty_n);
		q->rb_dirty = b;
		q->rb_dirty_n = nb;
	}
	q->refcnt_cap = cap;
	return 0;
}

/* Add `delta` (+1 or -1) to every host cluster overlapping [off, off+len). */
static int rc_add(disk *d, uint64_t off, uint64_t len, int delta, od_err *e)
{
	struct qcow2 *q = d->priv;
	if (!len)
		return 0;
	uint64_t first = off >> q->cluster_bits, last = (off + len - 1) >> q->cluster_bits;
	if (rc_grow(d, last + 1, e) < 0)
		return -1;
	for (uint64_t c = first; c <= last; c++) {
		if (delta > 0 && q->refcnt[c] >= q->refcount_max)
			return od_err_set(e, OD_E_INVALID, "%s: refcount of cluster %llu would overflow", d->name,
					  (unsigned long long)c);
		if (delta < 0 && q->refcnt[c] == 0)
			return od_err_set(e, OD_E_INVALID, "%s: refcount of cluster %llu would go below zero", d->name,
					  (unsigned long long)c);
		q->refcnt[c] += (uint32_t)delta;
		q->rb_dirty[c >> q2_rb_shift(q)] = 1;
	}
	if (last + 1 > q->refcnt_n)
		q->refcnt_n = last + 1;
	return 0;
}

static uint32_t rc_of(const struct qcow2 *q, uint64_t host)
{
	uint64_t c = host >> q->cluster_bits;
	return c < q->refcnt_n ? q->refcnt[c] : 0;
}

/* Take n clusters from the end of the file.  With `count` their refcount
 * becomes 1; the compressed writer counts its own references instead. */
static int q2_alloc(disk *d, uint64_t n, bool count, uint64_t *off, od_err *e)
{
	struct qcow2 *q = d->priv;
	uint64_t end;
	if (!od_add_u64(q->next_alloc, n << q->cluster_bits, &end) || end > Q2_MAX_SIZE)
		return od_err_set(e, OD_E_INVALID, "%s: image file would grow beyond the format's limit", d->name);
	if (rc_grow(d, end >> q->cluster_bits, e) < 0)
		return -1;
	*off = q->next_alloc;
	q->next_alloc = end;
	if (end > q->file_size)
		q->file_size = end;
	if (count && rc_add(d, *off, n << q->cluster_bits, 1, e) < 0)
		return -1;
	if ((end >> q->cluster_bits) > q->refcnt_n)
		q->refcnt_n = end >> q->cluster_bits;
	return 0;
}

/* ---- writing refcount structures ----------------------------------------- */

/* Make the refcount table and blocks cover every cluster in use, then write
 * the blocks that changed, the table and the header fields.  New blocks
 * and tables need refcounts themselves, hence the loop; it converges within
 * a few rounds because each round allocates far fewer clusters than one
 * block describes. */
static int q2_write_refcounts(disk *d, od_err *e)
{
	struct qcow2 *q = d->priv;
	unsigned shift = q2_rb_shift(q);
	uint64_t per_block = 1ull << shift;
	for (int round = 0;; round++) {
		if (round > 64)
			return od_err_set(e, OD_E_INTERNAL, "%s: refcount structures do not converge", d->name);
		uint64_t nhost = q->next_alloc >> q->cluster_bits;
		uint64_t nblocks = (nhost + per_block - 1) >> shift;
		bool changed = false;
		if (nblocks > q->rt_entries) {
			/* Grow the table with slack, into fresh clusters. */
			uint64_t want = nblocks + nblocks / 4 + 8;
			uint64_t bytes = want * 8;
			uint64_t clusters = (bytes + q->cluster_size - 1) >> q->cluster_bits;
			if (clusters * q->cluster_size > Q2_MAX_RT_BYTES)
				return od_err_set(e, OD_E_UNSUPPORTED, "%s: refcount table would exceed %u MiB", d->name,
						  Q2_MAX_RT_BYTES >> 20);
			uint64_t entries = (clusters * q->cluster_size) / 8;
			uint64_t *nt = calloc(entries, 8);
			if (!nt)
				return od_err_nomem(e);
			if (q->rt)
				memcpy(nt, q->rt, q->rt_entries * 8);
			uint64_t off;
			if (q2_alloc(d, clusters, true, &off, e) < 0) {
				free(nt);
				return -1;
			}
			if (q->rt_offset && q->rt_clusters &&
			    rc_add(d, q->rt_offset, (uint64_t)q->rt_clusters * q->cluster_size, -1, e) < 0) {
				free(nt);
				return -1;
			}
			free(q->rt);
			q->rt = nt;
			q->rt_entries = entries;
			q->rt_offset = off;
			q->rt_clusters = (uint32_t)clusters;
			q->rt_dirty = q->header_rt_dirty = true;
			changed = true;
			continue;
		}
		for (uint64_t i = 0; i < nblocks; i++) {
			if (q->rt[i])
				continue;
			uint64_t off;
			if (q2_alloc(d, 1, true, &off, e) < 0)
				return -1;
			q->rt[i] = off;
			q->rb_dirty[i] = 1;
			q->rt_dirty = true;
			changed = true;
		}
		if (!changed)
			break;
	}
	unsigned char *blk = malloc(q->cluster_size);
	if (!blk)
		return od_err_nomem(e);
	uint64_t nblocks = ((q->next_alloc >> q->cluster_bits) + per_block - 1) >> shift;
	for (uint64_t i = 0; i < nblocks && i < q->rb_dirty_n; i++) {
		if (!q->rb_dirty[i])
			continue;
		memset(blk, 0, q->cluster_size);
		uint64_t first = i << shift;
		for (uint64_t j = 0; j < per_block && first + j < q->refcnt_n; j++)
			if (q->refcnt[first + j])
				q2_rc_set(blk, q->refcount_order, j, q->refcnt[first + j]);
		if (disk_io_pwrite(d, blk, q->cluster_size, q->rt[i], e) < 0) {
			free(blk);
			return -1;
		}
		q->rb_dirty[i] = 0;
	}
	free(blk);
	if (q->rt_dirty) {
		size_t bytes = (size_t)q->rt_clusters * q->cluster_size;
		unsigned char *t = calloc(1, bytes);
		if (!t)
			return od_err_nomem(e);
		for (uint64_t i = 0; i < q->rt_entries && i * 8 < bytes; i++)
			q2_put64(t + i * 8, q->rt[i]);
		int rc = disk_io_pwrite(d, t, bytes, q->rt_offset, e);
		free(t);
		if (rc < 0)
			return -1;
		q->rt_dirty = false;
	}
	if (q->header_rt_dirty) {
		unsigned char h[12];
		q2_put64(h, q->rt_offset);
		q2_put32(h + 8, q->rt_clusters);
		if (disk_io_pwrite(d, h, sizeof h, Q2H_RT_OFFSET, e) < 0)
			return -1;
		q->header_rt_dirty = false;
	}
	return 0;
}

static int q2_set_dirty_bit(disk *d, bool on, od_err *e)
{
	struct qcow2 *q = d->priv;
	if (q->version < 3 || q->created || q->marked_dirty == on)
		return 0;
	uint64_t v = on ? (q->incompat | Q2_INCOMPAT_DIRTY) : (q->incompat & ~Q2_INCOMPAT_DIRTY);
	unsigned char b[8];
	q2_put64(b, v);
	/* Ordering matters: the bit must be on disk before the first
	 * metadata change, and cleared only after the refcounts are. */
	if (!on && fdatasync(d->io.fd) < 0)
		return od_err_errno(e, errno, "%s: fdatasync", d->name);
	if (disk_io_pwrite(d, b, 8, Q2H_INCOMPAT, e) < 0)
		return -1;
	if (on && fdatasync(d->io.fd) < 0)
		return od_err_errno(e, errno, "%s: fdatasync", d->name);
	q->incompat = v;
	q->marked_dirty = on;
	return 0;
}

/* ---- opening an existing image for writing -------------------------------- */

static int rebuild_ref(void *ctx, uint64_t off, uint64_t len, const char *what, od_err *e)
{
	return rc_add(ctx, off, len, 1, e);
}

int q2_open_rw(disk *d, od_err *e)
{
	struct qcow2 *q = d->priv;
	if (q->incompat & Q2_INCOMPAT_CORRUPT)
		return od_err_set(e, OD_E_INVALID, "%s: image is marked corrupt; it can only be opened read-only", d->name);
	if (q->extl2)
		return od_err_set(e, OD_E_UNSUPPORTED, "%s: writing images with extended L2 entries is not supported", d->name);
	if (q->nb_snapshots)
		return od_err_set(e, OD_E_UNSUPPORTED, "%s: writing images with internal snapshots is not supported", d->name);
	q->refcount_max = q->refcount_order >= 5 ? UINT32_MAX : (1ull << (1u << q->refcount_order)) - 1;
	q->next_alloc = (q->file_size + q->cluster_size - 1) & ~(q->cluster_size - 1);
	if (rc_grow(d, (q->next_alloc >> q->cluster_bits) + 1, e) < 0)
		return -1;
	q->refcnt_n = q->next_alloc >> q->cluster_bits;
	struct q2_walk w = {.ctx = d, .ref = rebuild_ref};
	if (q2_walk(d, &w, e) < 0) {
		od_err_prefix(e, "cannot open for writing");
		return -1;
	}
	/* Reuse the existing refcount table and blocks; every block is
	 * rewritten at the first flush since the rebuilt counts may differ. */
	if (q->rt_clusters) {
		q->rt_entries = (uint64_t)q->rt_clusters * q->cluster_size / 8;
		q->rt = malloc(q->rt_entries * 8);
		if (!q->rt)
			return od_err_nomem(e);
		if (disk_io_pread(d, q->rt, q->rt_entries * 8, q->rt_offset, e) < 0)
			return -1;
		for (uint64_t i = 0; i < q->rt_entries; i++) {
			uint64_t v = q2_be64((unsigned char *)&q->rt[i]) & ~511ull;
			/* a block we cannot trust is replaced by a fresh one */
			if (v && (v & (q->cluster_size - 1) || v >= q->file_size))
				v = 0;
			q->rt[i] = v;
		}
	}
	memset(q->rb_dirty, 1, q->rb_dirty_n);
	q->writable = true;
	return 0;
}

/* ---- allocating writes ------------------------------------------------------ */

/* The L2 table for guest offset `off`, allocating it when absent. */
static int q2_l2_for_write(disk *d, uint64_t off, struct q2_l2 **out, od_err *e)
{
	struct qcow2 *q = d->priv;
	uint64_t l1i = off >> (q->cluster_bits + q->l2_bits);
	if (l1i >= q->l1_size)
		return od_err_set(e, OD_E_INTERNAL, "%s: write beyond the L1 table", d->name);
	uint64_t ent = q->l1[l1i], l2 = ent & Q2_OFFSET_MASK;
	if (l2) {
		if (rc_of(q, l2) != 1)
			return od_err_set(e, OD_E_UNSUPPORTED, "%s: L2 table at 0x%llx is shared; cannot write", d->name,
					  (unsigned long long)l2);
		if (q2_l2_get(d, l2, false, out, e) < 0)
			return -1;
		if (!(ent & Q2_COPIED)) {
			q->l1[l1i] = l2 | Q2_COPIED;
			if (!q->created) {
				unsigned char b[8];
				q2_put64(b, q->l1[l1i]);
				if (disk_io_pwrite(d, b, 8, q->l1_offset + l1i * 8, e) < 0)
					return -1;
			}
		}
		return 0;
	}
	uint64_t noff;
	if (q2_alloc(d, 1, true, &noff, e) < 0)
		return -1;
	if (q2_l2_get(d, noff, true, out, e) < 0)
		return -1;
	(*out)->dirty = true;
	q->l1[l1i] = noff | Q2_COPIED;
	if (!q->created) {
		/* An existing image: the empty table reaches the disk before the
		 * L1 entry that points to it. */
		if (q2_l2_writeback(d, *out, e) < 0)
			return -1;
		unsigned char b[8];
		q2_put64(b, q->l1[l1i]);
		if (disk_io_pwrite(d, b, 8, q->l1_offset + l1i * 8, e) < 0)
			return -1;
	}
	return 0;
}

/* Drop the reference an L2 entry held, when its cluster is replaced. */
static int q2_unref_entry(disk *d, uint64_t ent, od_err *e)
{
	struct qcow2 *q = d->priv;
	if (ent & Q2_COMPRESSED) {
		uint64_t h, cs;
		q2_compressed_desc(q, ent, &h, &cs);
		return rc_add(d, h, cs, -1, e);
	}
	uint64_t h = ent & Q2_OFFSET_MASK;
	return h ? rc_add(d, h, q->cluster_size, -1, e) : 0;
}

static int q2_write_locked(disk *d, const unsigned char *buf, size_t len, uint64_t off, od_err *e)
{
	struct qcow2 *q = d->priv;
	uint64_t cs = q->cluster_size;
	unsigned char *tmp = NULL;
	/* Consecutive full clusters that land contiguously in the file go out
	 * in one write. */
	const unsigned char *pend = NULL;
	uint64_t pend_host = 0, pend_len = 0;
	int rc = -1;
	if (q2_set_dirty_bit(d, true, e) < 0)
		return -1;
	while (len) {
		uint64_t in = off & (cs - 1);
		size_t n = cs - in < len ? (size_t)(cs - in) : len;
		struct q2_l2 *t;
		if (q2_l2_for_write(d, off, &t, e) < 0)
			goto out;
		uint64_t idx = (off >> q->cluster_bits) & (q->l2_entries - 1);
		uint64_t ent = q2_be64(t->data + idx * 8);
		uint64_t h = ent & Q2_OFFSET_MASK;
		bool normal = !(ent & Q2_COMPRESSED) && h && !(q->version >= 3 && (ent & Q2_ZERO));
		uint64_t dest;
		const unsigned char *src = buf;
		if (normal && rc_of(q, h) == 1) {
			if (q2_check_host(d, h, cs, "data cluster", e) < 0)
				goto out;
			if (!(ent & Q2_COPIED)) {
				q2_put64(t->data + idx * 8, ent | Q2_COPIED);
				t->dirty = true;
			}
			dest = h + in;
		} else {
			if (n < cs) {
				/* Copy-on-write: the rest of the cluster comes from
				 * what the guest sees now (backing file, compressed
				 * data, zeros). */
				if (pend_len && disk_io_pwrite(d, pend, pend_len, pend_host, e) < 0)
					goto out;
				pend_len = 0;
				if (!tmp && !(tmp = malloc(cs))) {
					od_err_nomem(e);
					goto out;
				}
				uint64_t cstart = off - in;
				uint64_t avail = d->size - cstart;
				size_t rn = avail < cs ? (size_t)avail : (size_t)cs;
				memset(tmp + rn, 0, cs - rn);
				if (q2_read_locked(d, tmp, rn, cstart, e) < 0)
					goto out;
				memcpy(tmp + in, buf, n);
				src = tmp;
				/* the read may have recycled the cache slot */
				if (q2_l2_for_write(d, off, &t, e) < 0)
					goto out;
			}
			uint64_t nh;
			if (q2_alloc(d, 1, true, &nh, e) < 0)
				goto out;
			if (q2_unref_entry(d, ent, e) < 0)
				goto out;
			q2_put64(t->data + idx * 8, nh | Q2_COPIED);
			t->dirty = true;
			if (src == tmp) {
				if (disk_io_pwrite(d, tmp, cs, nh, e) < 0)
					goto out;
				goto next;
			}
			dest = nh;
		}
		if (pend_len && pend + pend_len == src && pend_host + pend_len == dest) {
			pend_len += n;
		} else {
			if (pend_len && disk_io_pwrite(d, pend, pend_len, pend_host, e) < 0)
				goto out;
			pend = src;
			pend_host = dest;
			pend_len = n;
		}
	next:
		buf += n;
		off += n;
		len -= n;
	}
	if (pend_len && disk_io_pwrite(d, pend, pend_len, pend_host, e) < 0)
		goto out;
	rc = 0;
out:
	free(tmp);
	return rc;
}

/* ---- the compressed writer --------------------------------------------------
 * The caller writes whole clusters at increasing offsets (convert does).
 * Input is cut into jobs of several clusters; a pool of workers compresses
 * them; the writer retires jobs strictly in submission order, so the file
 * is laid out in guest order whatever order the workers finish in.  A ring
 * of a few jobs bounds the memory in flight. */

#define ZW_SKIP SIZE_MAX /* an all-zero cluster: left unallocated */

struct q2_zjob {
	struct q2_zw *zw;
	uint64_t guest;      /* guest offset of the first cluster */
	size_t len;          /* input bytes */
	unsigned char *in, *out;
	size_t *osz;         /* per cluster: compressed size, 0 = stored raw, ZW_SKIP */
	bool submitted, done;
	int err;
};

struct q2_zw {
	od_pool *pool;
	pthread_mutex_t m;
	pthread_cond_t cv;
	struct q2_zjob *ring;
	unsigned nring, head, count; /* count includes the job being filled */
	size_t jobcap;
	uint64_t cs;
	int type;                    /* 0 zlib, 1 zstd */
	void **comp;                 /* idle compressors */
	unsigned ncomp, compcap;
	uint64_t next;               /* lowest guest offset still writable */
	uint64_t cpos, cend;         /* free bytes for packing compressed data */
	/* staging of compressed output, written in large pieces */
	unsigned char *obuf;
	size_t olen, ocap;
	uint64_t ohost;
	bool skip_zero;
};

static bool all_zero(const unsigned char *p, size_t n)
{
	/* Compare the buffer with itself shifted by one word: fast, and needs
	 * no zero page. */
	static const unsigned char z[16];
	if (n < 16)
		return memcmp(p, z, n) == 0;
	return memcmp(p, z, 16) == 0 && memcmp(p, p + 16, n - 16) == 0;
}

static void zw_work(void *arg)
{
	struct q2_zjob *j = arg;
	struct q2_zw *zw = j->zw;
	void *c = NULL;
	pthread_mutex_lock(&zw->m);
	if (zw->ncomp)
		c = zw->comp[--zw->ncomp];
	pthread_mutex_unlock(&zw->m);
	if (!c)
		/* libdeflate level 2 still beats zlib's default level (what
		 * QEMU uses) on ratio, at a fraction of the CPU time. */
		c = zw->type ? (void *)ZSTD_createCCtx() : (void *)libdeflate_alloc_compressor(2);
	int err = c ? 0 : ENOMEM;
	size_t ncl = (j->len + zw->cs - 1) / zw->cs;
	for (size_t i = 0; i < ncl && !err; i++) {
		const unsigned char *src = j->in + i * zw->cs;
		unsigned char *dst = j->out + i * zw->cs;
		if (zw->skip_zero && all_zero(src, zw->cs)) {
			j->osz[i] = ZW_SKIP;
			continue;
		}
		size_t n;
		/* Stored raw when compression saves nothing. */
		if (zw->type) {
			n = ZSTD_compressCCtx(c, dst, zw->cs - 1, src, zw->cs, 3);
			if (ZSTD_isError(n))
				n = 0;
		} else {
			n = libdeflate_deflate_compress(c, src, zw->cs, dst, zw->cs - 1);
		}
		j->osz[i] = n;
	}
	pthread_mutex_lock(&zw->m);
	if (c) {
		if (zw->ncomp < zw->compcap)
			zw->comp[zw->ncomp++] = c;
		else if (zw->type)
			ZSTD_freeCCtx(c);
		else
			libdeflate_free_compressor(c);
	}
	j->err = err;
	j->done = true;
	pthread_cond_broadcast(&zw->cv);
	pthread_mutex_unlock(&zw->m);
}

static int zw_flush_out(disk *d, od_err *e)
{
	struct q2_zw *zw = ((struct qcow2 *)d->priv)->zw;
	if (!zw->olen)
		return 0;
	int rc = disk_io_pwrite(d, zw->obuf, zw->olen, zw->ohost, e);
	zw->olen = 0;
	return rc;
}

static int zw_out(disk *d, const unsigned char *p, size_t n, uint64_t host, od_err *e)
{
	struct q2_zw *zw = ((struct qcow2 *)d->priv)->zw;
	if (zw->olen && (zw->ohost + zw->olen != host || zw->olen + n > zw->ocap) && zw_flush_out(d, e) < 0)
		return -1;
	if (n > zw->ocap)
		return disk_io_pwrite(d, p, n, host, e);
	if (!zw->olen)
		zw->ohost = host;
	memcpy(zw->obuf + zw->olen, p, n);
	zw->olen += n;
	return 0;
}

/* Write one finished cluster of a job into the image. */
static int zw_place(disk *d, uint64_t guest, const unsigned char *raw, const unsigned char *z, size_t zn, od_err *e)
{
	struct qcow2 *q = d->priv;
	struct q2_zw *zw = q->zw;
	uint64_t cs = q->cluster_size;
	struct q2_l2 *t;
	if (q2_l2_for_write(d, guest, &t, e) < 0)
		return -1;
	uint64_t idx = (guest >> q->cluster_bits) & (q->l2_entries - 1);
	if (q2_be64(t->data + idx * 8))
		return od_err_set(e, OD_E_USAGE, "%s: cluster at 0x%llx written twice", d->name, (unsigned long long)guest);
	uint64_t ent;
	if (!zn) {
		uint64_t h;
		if (q2_alloc(d, 1, true, &h, e) < 0 || zw_out(d, raw, cs, h, e) < 0)
			return -1;
		ent = h | Q2_COPIED;
	} else {
		/* Pack compressed clusters back to back, as QEMU does; a run may
		 * cross into the next host cluster only when that cluster is
		 * the next one allocated.  With 1-bit refcounts a host cluster
		 * cannot be shared, so each run starts a fresh one. */
		uint64_t pos = zw->cpos;
		bool fits = pos && pos + zn <= zw->cend;
		bool grow = pos && !fits && zw->cend == q->next_alloc;
		if (pos && (pos & (cs - 1)) && rc_of(q, pos) >= q->refcount_max)
			fits = grow = false;
		if (grow) {
			uint64_t need = (pos + zn - zw->cend + cs - 1) >> q->cluster_bits, h;
			if (q2_alloc(d, need, false, &h, e) < 0)
				return -1;
			zw->cend += need << q->cluster_bits;
		} else if (!fits) {
			uint64_t h;
			if (q2_alloc(d, 1, false, &h, e) < 0)
				return -1;
			pos = h;
			zw->cend = h + cs;
		}
		uint64_t nb = ((pos + zn - 1) >> 9) - (pos >> 9);
		unsigned x = 62 - (q->cluster_bits - 8);
		ent = Q2_COMPRESSED | (nb << x) | pos;
		uint64_t h2, csz;
		q2_compressed_desc(q, ent, &h2, &csz);
		if (rc_add(d, pos, csz, 1, e) < 0 || zw_out(d, z, zn, pos, e) < 0)
			return -1;
		zw->cpos = pos + zn;
	}
	q2_put64(t->data + idx * 8, ent);
	t->dirty = true;
	return 0;
}

/* Wait for the oldest job and write it out. */
static int zw_retire(disk *d, od_err *e)
{
	struct qcow2 *q = d->priv;
	struct q2_zw *zw = q->zw;
	struct q2_zjob *j = &zw->ring[zw->head];
	pthread_mutex_lock(&zw->m);
	while (!j->done)
		pthread_cond_wait(&zw->cv, &zw->m);
	pthread_mutex_unlock(&zw->m);
	zw->head = (zw->head + 1) % zw->nring;
	zw->count--;
	j->submitted = j->done = false;
	if (j->err)
		return od_err_set(e, OD_E_NOMEM, "%s: cannot allocate a compressor", d->name);
	size_t ncl = (j->len + zw->cs - 1) / zw->cs;
	for (size_t i = 0; i < ncl; i++) {
		if (j->osz[i] == ZW_SKIP)
			continue;
		if (zw_place(d, j->guest + i * zw->cs, j->in + i * zw->cs, j->out + i * zw->cs, j->osz[i], e) < 0)
			return -1;
	}
	j->len = 0;
	return 0;
}

static int zw_submit(disk *d, struct q2_zjob *j, od_err *e)
{
	struct q2_zw *zw = ((struct qcow2 *)d->priv)->zw;
	size_t rem = j->len % zw->cs;
	if (rem) /* the last, partial cluster of the disk */
		memset(j->in + j->len, 0, zw->cs - rem);
	j->submitted = true;
	j->done = false;
	return od_pool_submit(zw->pool, zw_work, j, e);
}

/* The job being filled, if any: the newest in the ring, not yet submitted. */
static struct q2_zjob *zw_filling(struct q2_zw *zw)
{
	if (!zw->count)
		return NULL;
	struct q2_zjob *j = &zw->ring[(zw->head + zw->count - 1) % zw->nring];
	return j->submitted ? NULL : j;
}

static int zw_write(disk *d, const unsigned char *buf, size_t len, uint64_t off, od_err *e)
{
	struct qcow2 *q = d->priv;
	struct q2_zw *zw = q->zw;
	if (off < zw->next)
		return od_err_set(e, OD_E_USAGE, "%s: compressed images must be written in order (0x%llx after 0x%llx)",
				  d->name, (unsigned long long)off, (unsigned long long)zw->next);
	while (len) {
		struct q2_zjob *j = zw_filling(zw);
		if (j && off != j->guest + j->len) {
			if (zw_submit(d, j, e) < 0)
				return -1;
			continue;
		}
		if (!j) {
			if (off & (zw->cs - 1))
				return od_err_set(e, OD_E_USAGE,
						  "%s: compressed images must be written in whole clusters (offset 0x%llx)",
						  d->name, (unsigned long long)off);
			if (zw->count == zw->nring && zw_retire(d, e) < 0)
				return -1;
			j = &zw->ring[(zw->head + zw->count) % zw->nring];
			zw->count++;
			j->guest = off;
			j->len = 0;
			j->submitted = j->done = false;
		}
		size_t take = zw->jobcap - j->len < len ? zw->jobcap - j->len : len;
		memcpy(j->in + j->len, buf, take);
		j->len += take;
		buf += take;
		off += take;
		len -= take;
		if (j->len == zw->jobcap && zw_submit(d, j, e) < 0)
			return -1;
		/* a partial cluster may only end the disk */
		zw->next = (j->len % zw->cs) ? d->size : off;
	}
	return 0;
}

static int zw_drain(disk *d, od_err *e)
{
	struct q2_zw *zw = ((struct qcow2 *)d->priv)->zw;
	struct q2_zjob *j = zw_filling(zw);
	if (j && j->len && zw_submit(d, j, e) < 0)
		return -1;
	if (j && !j->len) /* an empty slot: give it back */
		zw->count--;
	while (zw->count)
		if (zw_retire(d, e) < 0)
			return -1;
	return zw_flush_out(d, e);
}

static void zw_free(struct q2_zw *zw)
{
	if (!zw)
		return;
	if (zw->pool) {
		od_pool_wait(zw->pool);
		od_pool_free(zw->pool);
	}
	for (unsigned i = 0; i < zw->ncomp; i++) {
		if (zw->type)
			ZSTD_freeCCtx(zw->comp[i]);
		else
			libdeflate_free_compressor(zw->comp[i]);
	}
	free(zw->comp);
	for (unsigned i = 0; zw->ring && i < zw->nring; i++) {
		free(zw->ring[i].in);
		free(zw->ring[i].out);
		free(zw->ring[i].osz);
	}
	free(zw->ring);
	free(zw->obuf);
	pthread_mutex_destroy(&zw->m);
	pthread_cond_destroy(&zw->cv);
	free(zw);
}

static int zw_new(disk *d, unsigned threads, od_err *e)
{
	struct qcow2 *q = d->priv;
	struct q2_zw *zw = calloc(1, sizeof *zw);
	if (!zw)
		return od_err_nomem(e);
	pthread_mutex_init(&zw->m, NULL);
	pthread_cond_init(&zw->cv, NULL);
	q->zw = zw;
	zw->cs = q->cluster_size;
	zw->type = q->compression_type;
	zw->skip_zero = !q->backing;
	unsigned nt = threads;
	if (!nt) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nt = n > 0 ? (unsigned)n : 1;
	}
	if (nt > 64)
		nt = 64;
	/* A job of about 1 MiB amortises the hand-off; the ring of jobs is
	 * what bounds memory (2 buffers per job). */
	zw->jobcap = zw->cs >= (1u << 20) ? zw->cs : (1u << 20);
	zw->nring = nt + 2 > 12 ? 12 : nt + 2;
	zw->pool = od_pool_new(nt, zw->nring, e);
	if (!zw->pool)
		return -1;
	zw->compcap = nt;
	zw->comp = calloc(nt, sizeof *zw->comp);
	zw->ring = calloc(zw->nring, sizeof *zw->ring);
	zw->ocap = 1u << 20;
	zw->obuf = disk_io_buf_alloc(zw->ocap);
	if (!zw->comp || !zw->ring || !zw->obuf)
		return od_err_nomem(e);
	size_t ncl = zw->jobcap / zw->cs;
	for (unsigned i = 0; i < zw->nring; i++) {
		zw->ring[i].zw = zw;
		zw->ring[i].in = malloc(zw->jobcap);
		zw->ring[i].out = malloc(zw->jobcap);
		zw->ring[i].osz = calloc(ncl, sizeof(size_t));
		if (!zw->ring[i].in || !zw->ring[i].out || !zw->ring[i].osz)
			return od_err_nomem(e);
	}
	return 0;
}

/* ---- driver entry points ---------------------------------------------------- */

int q2_pwrite(disk *d, const void *buf, size_t len, uint64_t off, od_err *e)
{
	struct qcow2 *q = d->priv;
	if (!q->writable)
		return od_err_set(e, OD_E_USAGE, "%s: image is read-only", d->name);
	pthread_mutex_lock(&q->lock);
	int rc = q->zw ? zw_write(d, buf, len, off, e) : q2_write_locked(d, buf, len, off, e);
	if (rc == 0)
		q->cbuf_host = UINT64_MAX; /* a rewritten cluster may have been cached */
	pthread_mutex_unlock(&q->lock);
	return rc;
}

static int q2_flush_locked(disk *d, bool sync, od_err *e)
{
	struct qcow2 *q = d->priv;
	if (!q->writable)
		return 0;
	if (q->zw && zw_drain(d, e) < 0)
		return -1;
	for (unsigned i = 0; i < q->l2c_n; i++)
		if (q->l2c[i].off && q2_l2_writeback(d, &q->l2c[i], e) < 0)
			return -1;
	if (q->created && q->l1_size) {
		size_t bytes = (size_t)q->l1_size * 8;
		unsigned char *b = malloc(bytes);
		if (!b)
			return od_err_nomem(e);
		for (uint32_t i = 0; i < q->l1_size; i++)
			q2_put64(b + i * 8, q->l1[i]);
		int rc = disk_io_pwrite(d, b, bytes, q->l1_offset, e);
		free(b);
		if (rc < 0)
			return -1;
	}
	if (q2_write_refcounts(d, e) < 0)
		return -1;
	/* The file ends at the last allocated cluster, even when the writes
	 * into it stopped short (a compressed run, an unwritten L2). */
	uint64_t real;
	if (disk_io_size(d, &real, e) < 0)
		return -1;
	/* Never for a byte range: the fd is the enclosing file (an OVA). */
	if (!d->io.is_range && real < q->next_alloc && ftruncate(d->io.fd, (off_t)q->next_alloc) < 0)
		return od_err_errno(e, errno, "%s: cannot extend the file", d->name);
	if (sync && fdatasync(d->io.fd) < 0)
		return od_err_errno(e, errno, "%s: fdatasync", d->name);
	return q2_set_dirty_bit(d, false, e);
}

int q2_flush(disk *d, od_err *e)
{
	struct qcow2 *q = d->priv;
	pthread_mutex_lock(&q->lock);
	/* A created image is synced once, by the commit that renames it. */
	int rc = q2_flush_locked(d, !q->created, e);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

int q2_finish(disk *d, od_err *e)
{
	return q2_flush(d, e);
}

void q2_write_close(disk *d)
{
	struct qcow2 *q = d->priv;
	if (!q->created && d->io.fd >= 0) {
		od_err e;
		pthread_mutex_lock(&q->lock);
		q2_flush_locked(d, true, &e);
		pthread_mutex_unlock(&q->lock);
	}
	zw_free(q->zw);
	q->zw = NULL;
}

/* ---- creating images ---------------------------------------------------------- */

int q2_create(disk *d, uint64_t size, const struct disk_create_opts *o, od_err *e)
{
	struct qcow2 *q = calloc(1, sizeof *q);
	if (!q)
		return od_err_nomem(e);
	pthread_mutex_init(&q->lock, NULL);
	d->priv = q;
	uint64_t cs = o->cluster_size ? o->cluster_size : 65536;
	if (!od_is_pow2(cs) || cs < 512 || cs > (2u << 20))
		return od_err_set(e, OD_E_USAGE, "cluster size %llu is not a power of two between 512 and 2M",
				  (unsigned long long)cs);
	q->cluster_bits = (uint32_t)__builtin_ctzll(cs);
	if (!o->compat || !strcmp(o->compat, "1.1") || !strcmp(o->compat, "v3"))
		q->version = 3;
	else if (!strcmp(o->compat, "0.10") || !strcmp(o->compat, "v2"))
		q->version = 2;
	else
		return od_err_set(e, OD_E_USAGE, "unknown qcow2 compat level '%s' (use 0.10 or 1.1)", o->compat);
	if (o->compression_type && !strcmp(o->compression_type, "zstd"))
		q->compression_type = 1;
	else if (o->compression_type && strcmp(o->compression_type, "zlib"))
		return od_err_set(e, OD_E_USAGE, "unknown compression type '%s' (use zlib or zstd)", o->compression_type);
	if (q->compression_type && q->version < 3)
		return od_err_set(e, OD_E_USAGE, "zstd compression needs compat=1.1");
	uint32_t rb = o->refcount_bits ? o->refcount_bits : 16;
	if (!od_is_pow2(rb) || rb > 64)
		return od_err_set(e, OD_E_USAGE, "refcount_bits %u is not a power of two from 1 to 64", rb);
	if (rb != 16 && q->version < 3)
		return od_err_set(e, OD_E_USAGE, "refcount_bits other than 16 needs compat=1.1");
	q->refcount_order = (uint32_t)__builtin_ctz(rb);
	/* in-memory counters are 32 bits: wider on-disk fields just hold them */
	q->refcount_max = rb >= 32 ? UINT32_MAX : (1ull << rb) - 1;
	q->header_length = q->version == 3 ? 112 : 72;
	if (q->compression_type)
		q->incompat |= Q2_INCOMPAT_COMPRESSION;
	if (q2_setup(d, e) < 0)
		return -1;
	q->writable = q->created = true;

	if (o->backing_file) {
		if (strlen(o->backing_file) > Q2_MAX_BACKING_NAME)
			return od_err_set(e, OD_E_USAGE, "backing file name is too long");
		q->backing_name = od_strdup(o->backing_file);
		q->backing_format = od_strdup(o->backing_format);
		if (!q->backing_name || (o->backing_format && !q->backing_format))
			return od_err_nomem(e);
		q->backing = disk_open_child(d, o->backing_file, o->backing_format, DISK_RDONLY, e);
		if (!q->backing)
			return -1;
		d->backing = q->backing;
		if (!size)
			size = disk_size(q->backing);
	}
	if (size > Q2_MAX_SIZE)
		return od_err_set(e, OD_E_USAGE, "size %llu is larger than the supported 2^56 bytes", (unsigned long long)size);
	/* QEMU sees a qcow2 image in whole 512-byte sectors and would cut a
	 * partial last sector off; round up as qemu-img create does. */
	size = (size + 511) & ~511ull;
	d->size = size;
	uint64_t cover = cs << q->l2_bits;
	uint64_t l1n = size / cover + (size % cover != 0);
	if (l1n * 8 > Q2_MAX_L1_BYTES)
		return od_err_set(e, OD_E_USAGE, "size %llu is too large for %llu-byte clusters", (unsigned long long)size,
				  (unsigned long long)cs);
	q->l1_size = (uint32_t)l1n;
	q->l1 = calloc(l1n ? l1n : 1, 8);
	if (!q->l1)
		return od_err_nomem(e);
	q->l1_offset = cs;
	uint64_t l1cl = (l1n * 8 + cs - 1) / cs;
	if (!l1cl)
		l1cl = 1;
	q->file_size = cs;
	q->next_alloc = cs;
	if (rc_add(d, 0, cs, 1, e) < 0)
		return -1;
	uint64_t l1h;
	if (q2_alloc(d, l1cl, true, &l1h, e) < 0)
		return -1;

	/* The header cluster: fields, extensions, then the backing name. */
	unsigned char *h = calloc(1, cs);
	if (!h)
		return od_err_nomem(e);
	q2_put32(h, Q2_MAGIC);
	q2_put32(h + Q2H_VERSION, q->version);
	q2_put32(h + Q2H_CLUSTER_BITS, q->cluster_bits);
	q2_put64(h + Q2H_SIZE, size);
	q2_put32(h + Q2H_L1_SIZE, q->l1_size);
	q2_put64(h + Q2H_L1_OFFSET, q->l1_offset);
	if (q->version == 3) {
		q2_put64(h + Q2H_INCOMPAT, q->incompat);
		q2_put32(h + Q2H_REFCOUNT_ORDER, q->refcount_order);
		q2_put32(h + Q2H_HEADER_LENGTH, q->header_length);
		h[Q2H_COMPRESSION_TYPE] = (unsigned char)q->compression_type;
	}
	size_t pos = q->header_length;
	if (q->backing_format) {
		size_t fl = strlen(q->backing_format);
		q2_put32(h + pos, Q2_EXT_BACKING_FORMAT);
		q2_put32(h + pos + 4, (uint32_t)fl);
		memcpy(h + pos + 8, q->backing_format, fl);
		pos += 8 + ((fl + 7) & ~(size_t)7);
	}
	pos += 8; /* end-of-extensions marker: zeros */
	if (q->backing_name) {
		size_t bl = strlen(q->backing_name);
		if (pos + bl > cs) {
			free(h);
			return od_err_set(e, OD_E_USAGE, "backing file name does not fit in a %llu-byte cluster",
					  (unsigned long long)cs);
		}
		q2_put64(h + Q2H_BACKING_OFFSET, pos);
		q2_put32(h + Q2H_BACKING_SIZE, (uint32_t)bl);
		memcpy(h + pos, q->backing_name, bl);
	}
	int rc = disk_io_pwrite(d, h, cs, 0, e);
	free(h);
	if (rc < 0)
		return -1;
	if (ftruncate(d->io.fd, (off_t)q->next_alloc) < 0)
		return od_err_errno(e, errno, "%s: cannot size the image", d->name);
	if (o->compress && zw_new(d, o->threads, e) < 0)
		return -1;
	return 0;
}
