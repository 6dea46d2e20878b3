/* qcow2.c - the qcow2 format: header, lookups, reads, map and info.
 *
 * The bottom of the driver: it calls nothing of qcow2_check.c, qcow2_write.c
 * or qcow2_driver.c (the entry, with open and close), which call it.
 * Writing, refcounts and creation live in qcow2_write.c, the consistency
 * check in qcow2_check.c.  Every number taken from the file is checked
 * against the file size and the virtual size before it is used: a header
 * may claim a billion-entry L1 table, an L2 entry may point into the header
 * or past the end, and a backing chain may loop. */
#include "config.h"
#include "disk/qcow2.h"

#include <errno.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

int q2_probe(const unsigned char *buf, size_t len)
{
	if (len >= 8 && q2_be32(buf) == Q2_MAGIC) {
		uint32_t v = q2_be32(buf + 4);
		/* Version 1 is a different format; claim it only weakly so that
		 * the user gets our "unsupported version" message, not "raw". */
		return (v == 2 || v == 3) ? 100 : 50;
	}
	return 0;
}

int q2_check_host(disk *d, uint64_t off, uint64_t len, const char *what, od_err *e)
{
	struct qcow2 *q = d->priv;
	if (off & (q->cluster_size - 1))
		return od_err_set(e, OD_E_INVALID, "%s: %s offset 0x%llx is not cluster aligned", d->name, what,
				  (unsigned long long)off);
	if (off < q->cluster_size)
		return od_err_set(e, OD_E_INVALID, "%s: %s offset 0x%llx points into the image header", d->name, what,
				  (unsigned long long)off);
	if (off >= q->file_size || !od_range_ok(off, len, Q2_MAX_SIZE))
		return od_err_set(e, OD_E_INVALID, "%s: %s offset 0x%llx is past the end of the file (size 0x%llx)", d->name,
				  what, (unsigned long long)off, (unsigned long long)q->file_size);
	return 0;
}

/* Read host bytes; a cluster that begins inside the file but ends beyond it
 * (QEMU does not always pad the last cluster) reads as zeros past the end. */
static int q2_host_read(disk *d, void *buf, size_t len, uint64_t host, od_err *e)
{
	struct qcow2 *q = d->priv;
	size_t n = len;
	if (host >= q->file_size)
		n = 0;
	else if (q->file_size - host < len)
		n = (size_t)(q->file_size - host);
	if (n < len)
		memset((char *)buf + n, 0, len - n);
	if (!n)
		return 0;
	if (q->writable) {
		/* The on-disk file may still be shorter than file_size when
		 * allocated clusters have not been written yet. */
		uint64_t real;
		if (disk_io_size(d, &real, e) < 0)
			return -1;
		if (host >= real)
			n = 0;
		else if (real - host < n)
			n = (size_t)(real - host);
		memset((char *)buf + n, 0, len - n);
		if (!n)
			return 0;
	}
	return disk_io_pread(d, buf, n, host, e);
}

/* ---- L2 cache ----------------------------------------------------------- */

int q2_l2_writeback(disk *d, struct q2_l2 *t, od_err *e)
{
	struct qcow2 *q = d->priv;
	if (!t->dirty)
		return 0;
	if (disk_io_pwrite(d, t->data, q->cluster_size, t->off, e) < 0)
		return -1;
	t->dirty = false;
	return 0;
}

int q2_l2_get(disk *d, uint64_t off, bool fresh, struct q2_l2 **out, od_err *e)
{
	struct qcow2 *q = d->priv;
	struct q2_l2 *victim = NULL;
	for (unsigned i = 0; i < q->l2c_n; i++) {
		struct q2_l2 *t = &q->l2c[i];
		if (t->off == off && t->data) {
			t->lru = ++q->l2c_tick;
			if (fresh)
				memset(t->data, 0, q->cluster_size);
			*out = t;
			return 0;
		}
		if (!victim || !t->off || (victim->off && t->lru < victim->lru))
			victim = t;
	}
	if (!fresh && q2_check_host(d, off, q->cluster_size, "L2 table", e) < 0)
		return -1;
	if (victim->off && q2_l2_writeback(d, victim, e) < 0)
		return -1;
	if (!victim->data) {
		victim->data = malloc(q->cluster_size);
		if (!victim->data)
			return od_err_nomem(e);
	}
	victim->off = 0;
	if (fresh) {
		memset(victim->data, 0, q->cluster_size);
	} else if (q2_host_read(d, victim->data, q->cluster_size, off, e) < 0) {
		od_err_prefix(e, "L2 table at 0x%llx", (unsigned long long)off);
		return -1;
	}
	victim->off = off;
	victim->dirty = false;
	victim->lru = ++q->l2c_tick;
	*out = victim;
	return 0;
}

/* ---- lookups ------------------------------------------------------------ */

void q2_compressed_desc(const struct qcow2 *q, uint64_t ent, uint64_t *host, uint64_t *csize)
{
	unsigned x = 62 - (q->cluster_bits - 8);
	uint64_t nb = (ent >> x) & ((1ull << (q->cluster_bits - 8)) - 1);
	*host = ent & ((1ull << x) - 1);
	*csize = (nb + 1) * 512 - (*host & 511);
}

/* Classify unit `i` (a cluster, or a subcluster with extended L2) of an
 * L2 table.  For DATA, *host is the host offset of the unit. */
static int q2_classify(disk *d, const unsigned char *t, uint64_t cl, unsigned sub, int *kind, uint64_t *host,
		       uint64_t *csize, od_err *e)
{
	struct qcow2 *q = d->priv;
	uint64_t ent = q2_be64(t + (q->extl2 ? cl * 16 : cl * 8));
	uint64_t hoff = ent & Q2_OFFSET_MASK;
	if (ent & Q2_COMPRESSED) {
		q2_compressed_desc(q, ent, host, csize);
		if (*host < q->cluster_size || *host >= q->file_size)
			return od_err_set(e, OD_E_INVALID,
					  "%s: compressed cluster descriptor points to 0x%llx, outside the file (size 0x%llx)",
					  d->name, (unsigned long long)*host, (unsigned long long)q->file_size);
		/* The last sector may be cut short by the end of the file, but
		 * a descriptor reaching a whole sector beyond it is a lie. */
		if (*host + *csize > q->file_size && *host + *csize - q->file_size >= 512)
			return od_err_set(e, OD_E_INVALID,
					  "%s: compressed cluster at 0x%llx (%llu bytes) extends past the end of the file",
					  d->name, (unsigned long long)*host, (unsigned long long)*csize);
		*kind = Q2K_COMP;
		return 0;
	}
	if (q->extl2) {
		uint64_t bm = q2_be64(t + cl * 16 + 8);
		bool alloc = (bm >> sub) & 1, zero = (bm >> (32 + sub)) & 1;
		if (alloc && zero)
			return od_err_set(e, OD_E_INVALID, "%s: subcluster %u is both allocated and zero", d->name, sub);
		if (zero) {
			*kind = Q2K_ZERO;
		} else if (alloc) {
			if (!hoff)
				return od_err_set(e, OD_E_INVALID, "%s: allocated subcluster without a host cluster", d->name);
			if (q2_check_host(d, hoff, q->cluster_size, "data cluster", e) < 0)
				return -1;
			*kind = Q2K_DATA;
			*host = hoff + sub * q->sc_size;
		} else {
			*kind = Q2K_UNALLOC;
		}
		return 0;
	}
	if (q->version >= 3 && (ent & Q2_ZERO)) {
		*kind = Q2K_ZERO;
	} else if (!hoff) {
		*kind = Q2K_UNALLOC;
	} else {
		if (ent & 0x1ffull & ~Q2_ZERO) {
			/* reserved bits below the offset: an unaligned offset */
			return od_err_set(e, OD_E_INVALID, "%s: L2 entry 0x%llx has an unaligned cluster offset", d->name,
					  (unsigned long long)ent);
		}
		if (q2_check_host(d, hoff, q->cluster_size, "data cluster", e) < 0)
			return -1;
		*kind = Q2K_DATA;
		*host = hoff;
	}
	return 0;
}

int q2_lookup(disk *d, uint64_t off, uint64_t len, int *kind, uint64_t *host, uint64_t *csize, uint64_t *run,
	      od_err *e)
{
	struct qcow2 *q = d->priv;
	uint64_t cover = q->cluster_size << q->l2_bits; /* guest bytes per L2 table */
	uint64_t l1i = off / cover;
	uint64_t in_l2 = off % cover;
	uint64_t want = len;
	if (len > cover - in_l2)
		len = cover - in_l2;
	*host = 0;
	*csize = 0;
	if (l1i >= q->l1_size) {
		*kind = Q2K_UNALLOC;
		*run = want;
		return 0;
	}
	uint64_t l2off = q->l1[l1i] & Q2_OFFSET_MASK;
	if (!l2off) {
		/* Whole empty L1 ranges at once: a huge sparse image with small
		 * clusters would otherwise take billions of steps to map. */
		uint64_t r = len;
		for (uint64_t j = l1i + 1; j < q->l1_size && r < want && !(q->l1[j] & Q2_OFFSET_MASK); j++)
			r += cover;
		*kind = Q2K_UNALLOC;
		*run = r < want ? r : want;
		return 0;
	}
	struct q2_l2 *t;
	if (q2_l2_get(d, l2off, false, &t, e) < 0)
		return -1;
	uint64_t unit = q->sc_size;
	uint64_t u = in_l2 / unit;              /* unit index inside the table */
	uint64_t in_unit = in_l2 % unit;
	uint64_t per = q->cluster_size / unit; /* units per cluster */
	int k;
	uint64_t h = 0, cs = 0;
	if (q2_classify(d, t->data, u / per, (unsigned)(u % per), &k, &h, &cs, e) < 0)
		return -1;
	*kind = k;
	if (k == Q2K_COMP) {
		/* One cluster at a time: each has its own compressed stream. */
		uint64_t in_cl = in_l2 % q->cluster_size;
		*host = h;
		*csize = cs;
		*run = q->cluster_size - in_cl < len ? q->cluster_size - in_cl : len;
		return 0;
	}
	*host = k == Q2K_DATA ? h + in_unit : 0;
	uint64_t r = unit - in_unit;
	uint64_t nunits = q->l2_entries * per;
	while (r < len && ++u < nunits) {
		int k2;
		uint64_t h2 = 0, c2;
		if (q2_classify(d, t->data, u / per, (unsigned)(u % per), &k2, &h2, &c2, e) < 0) {
			/* The bad entry is reported when the caller reaches it. */
			od_err_clear(e);
			break;
		}
		if (k2 != k || (k == Q2K_DATA && h2 != h + (r + in_unit)))
			break;
		r += unit;
	}
	*run = r < len ? r : len;
	return 0;
}

/* ---- reads -------------------------------------------------------------- */

static int q2_decompress(disk *d, uint64_t host, uint64_t csize, od_err *e)
{
	struct qcow2 *q = d->priv;
	if (q->cbuf_host == host)
		return 0;
	q->cbuf_host = UINT64_MAX;
	uint64_t n = csize;
	if (host + n > q->file_size)
		n = q->file_size - host;
	if (n > 2 * q->cluster_size)
		n = 2 * q->cluster_size; /* the field cannot say more; be safe anyway */
	if (disk_io_pread(d, q->cin, (size_t)n, host, e) < 0)
		return -1;
	if (q->compression_type == 0) {
		size_t used;
		enum libdeflate_result r =
			libdeflate_deflate_decompress_ex(q->dd, q->cin, (size_t)n, q->cbuf, q->cluster_size, &used, NULL);
		if (r != LIBDEFLATE_SUCCESS)
			return od_err_set(e, OD_E_INVALID, "%s: compressed cluster at 0x%llx does not inflate to %llu bytes",
					  d->name, (unsigned long long)host, (unsigned long long)q->cluster_size);
	} else {
		size_t fsz = ZSTD_findFrameCompressedSize(q->cin, (size_t)n);
		size_t r = ZSTD_isError(fsz) ? fsz : ZSTD_decompressDCtx(q->zd, q->cbuf, q->cluster_size, q->cin, fsz);
		if (ZSTD_isError(r) || r != q->cluster_size)
			return od_err_set(e, OD_E_INVALID, "%s: zstd cluster at 0x%llx is corrupt (%s)", d->name,
					  (unsigned long long)host, ZSTD_isError(r) ? ZSTD_getErrorName(r) : "short output");
	}
	q->cbuf_host = host;
	return 0;
}

/* Whole compressed clusters found while the lock is held, to be inflated
 * after it is released. */
struct q2_zpend {
	uint64_t host, n;   /* compressed bytes to read (cut at the end of the file) */
	unsigned char *dst; /* cluster_size bytes of the caller's buffer */
};
struct q2_zq {
	struct q2_zpend *v;
	size_t n, cap;
};

static int q2_read_runs(disk *d, unsigned char *buf, size_t len, uint64_t off, struct q2_zq *zq, od_err *e)
{
	struct qcow2 *q = d->priv;
	while (len) {
		int kind;
		uint64_t host, csize, run;
		if (q2_lookup(d, off, len, &kind, &host, &csize, &run, e) < 0)
			return -1;
		size_t n = (size_t)run;
		switch (kind) {
		case Q2K_DATA:
			if (q2_host_read(d, buf, n, host, e) < 0)
				return -1;
			break;
		case Q2K_ZERO:
			memset(buf, 0, n);
			break;
		case Q2K_UNALLOC: {
			size_t b = 0;
			if (q->backing && off < disk_size(q->backing)) {
				uint64_t avail = disk_size(q->backing) - off;
				b = avail < n ? (size_t)avail : n;
				if (disk_pread(q->backing, buf, b, off, e) < 0)
					return -1;
			}
			memset(buf + b, 0, n - b);
			break;
		}
		case Q2K_COMP:
			if (zq && n == q->cluster_size && zq->n < zq->cap) {
				uint64_t avail = q->file_size - host;
				zq->v[zq->n++] = (struct q2_zpend){host, csize < avail ? csize : avail, buf};
				break;
			}
			if (q2_decompress(d, host, csize, e) < 0)
				return -1;
			memcpy(buf, q->cbuf + off % q->cluster_size, n);
			break;
		}
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

int q2_read_locked(disk *d, void *buf, size_t len, uint64_t off, od_err *e)
{
	return q2_read_runs(d, buf, len, off, NULL, e);
}

/* Inflate whole clusters with a decompressor of our own: no shared state,
 * so this runs without the image lock. */
static int q2_inflate_pending(disk *d, struct q2_zq *zq, od_err *e)
{
	struct qcow2 *q = d->priv;
	unsigned char *in = disk_io_buf_alloc(2 * q->cluster_size);
	struct libdeflate_decompressor *dd = q->compression_type ? NULL : libdeflate_alloc_decompressor();
	ZSTD_DCtx *zd = q->compression_type ? ZSTD_createDCtx() : NULL;
	int rc = -1;
	if (!in || (!dd && !zd)) {
		od_err_nomem(e);
		goto out;
	}
	for (size_t i = 0; i < zq->n; i++) {
		struct q2_zpend *p = &zq->v[i];
		size_t n = p->n > 2 * q->cluster_size ? (size_t)(2 * q->cluster_size) : (size_t)p->n;
		if (disk_io_pread(d, in, n, p->host, e) < 0)
			goto out;
		if (dd) {
			size_t used;
			if (libdeflate_deflate_decompress_ex(dd, in, n, p->dst, q->cluster_size, &used, NULL) !=
			    LIBDEFLATE_SUCCESS) {
				od_err_set(e, OD_E_INVALID, "%s: compressed cluster at 0x%llx does not inflate to %llu bytes",
					   d->name, (unsigned long long)p->host, (unsigned long long)q->cluster_size);
				goto out;
			}
		} else {
			size_t fsz = ZSTD_findFrameCompressedSize(in, n);
			size_t r = ZSTD_isError(fsz) ? fsz : ZSTD_decompressDCtx(zd, p->dst, q->cluster_size, in, fsz);
			if (ZSTD_isError(r) || r != q->cluster_size) {
				od_err_set(e, OD_E_INVALID, "%s: zstd cluster at 0x%llx is corrupt (%s)", d->name,
					   (unsigned long long)p->host, ZSTD_isError(r) ? ZSTD_getErrorName(r) : "short output");
				goto out;
			}
		}
	}
	rc = 0;
out:
	free(in);
	if (dd)
		libdeflate_free_decompressor(dd);
	if (zd)
		ZSTD_freeDCtx(zd);
	return rc;
}

int q2_pread(disk *d, void *buf, size_t len, uint64_t off, od_err *e)
{
	struct qcow2 *q = d->priv;
	/* Reads spanning several whole compressed clusters inflate them after
	 * dropping the lock, so that threads reading different parts of the
	 * image (convert's readers, a guest's queues) decompress in parallel.
	 * A writable image keeps everything under the lock: a concurrent
	 * write could free the clusters being read. */
	struct q2_zq zq = {0};
	if (!q->writable && len >= 2 * q->cluster_size) {
		zq.cap = len / q->cluster_size + 1;
		zq.v = malloc(zq.cap * sizeof *zq.v);
		if (!zq.v)
			zq.cap = 0;
	}
	pthread_mutex_lock(&q->lock);
	int rc = q2_read_runs(d, buf, len, off, zq.cap ? &zq : NULL, e);
	pthread_mutex_unlock(&q->lock);
	if (rc == 0 && zq.n)
		rc = q2_inflate_pending(d, &zq, e);
	free(zq.v);
	return rc;
}

int q2_map(disk *d, uint64_t off, uint64_t len, struct disk_extent *out, od_err *e)
{
	struct qcow2 *q = d->priv;
	int kind;
	uint64_t host, csize, run;
	pthread_mutex_lock(&q->lock);
	int rc = q2_lookup(d, off, len, &kind, &host, &csize, &run, e);
	pthread_mutex_unlock(&q->lock);
	if (rc < 0)
		return -1;
	*out = (struct disk_extent){off, run, DISK_EXT_DATA};
	if (kind == Q2K_ZERO) {
		out->kind = DISK_EXT_ZERO;
	} else if (kind == Q2K_UNALLOC) {
		out->kind = DISK_EXT_UNALLOC;
		if (q->backing && off < disk_size(q->backing)) {
			uint64_t avail = disk_size(q->backing) - off;
			struct disk_extent b;
			if (disk_map(q->backing, off, avail < run ? avail : run, &b, e) < 0)
				return -1;
			out->kind = b.kind;
			out->len = b.len;
		}
	}
	return 0;
}

/* ---- open and close ----------------------------------------------------- */

void q2_free(struct qcow2 *q)
{
	if (!q)
		return;
	if (q->backing)
		disk_close(q->backing);
	for (unsigned i = 0; i < q->l2c_n; i++)
		free(q->l2c[i].data);
	free(q->l2c);
	free(q->l1);
	free(q->backing_name);
	free(q->backing_format);
	free(q->cbuf);
	free(q->cin);
	if (q->dd)
		libdeflate_free_decompressor(q->dd);
	if (q->zd)
		ZSTD_freeDCtx(q->zd);
	free(q->refcnt);
	free(q->rt);
	free(q->rb_dirty);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

int q2_setup(disk *d, od_err *e)
{
	struct qcow2 *q = d->priv;
	q->cluster_size = 1ull << q->cluster_bits;
	q->l2_bits = q->cluster_bits - (q->extl2 ? 4 : 3);
	q->l2_entries = 1ull << q->l2_bits;
	q->sc_size = q->extl2 ? q->cluster_size / 32 : q->cluster_size;
	uint64_t n = Q2_L2_CACHE_BYTES / q->cluster_size;
	q->l2c_n = n < 4 ? 4 : n > 64 ? 64 : (unsigned)n;
	q->l2c = calloc(q->l2c_n, sizeof *q->l2c);
	q->cbuf = malloc(q->cluster_size);
	q->cin = disk_io_buf_alloc(2 * q->cluster_size);
	q->cbuf_host = UINT64_MAX;
	q->dd = libdeflate_alloc_decompressor();
	q->zd = ZSTD_createDCtx();
	if (!q->l2c || !q->cbuf || !q->cin || !q->dd || !q->zd)
		return od_err_nomem(e);
	return 0;
}

static int q2_read_header_ext(disk *d, const unsigned char *h, size_t hlen, uint64_t backing_off, od_err *e)
{
	struct qcow2 *q = d->priv;
	uint64_t pos = q->header_length;
	/* Extensions end where the backing file name starts, or at the end of
	 * the header cluster. */
	uint64_t end = hlen;
	if (backing_off && backing_off < end)
		end = backing_off;
	for (int i = 0; i < 1024; i++) {
		if (pos + 8 > end)
			return 0; /* tolerate a missing end marker, as QEMU does */
		uint32_t type = q2_be32(h + pos), len = q2_be32(h + pos + 4);
		if (type == Q2_EXT_END)
			return 0;
		if (len > end - pos - 8)
			return od_err_set(e, OD_E_INVALID, "%s: header extension 0x%08x at 0x%llx is longer than the header",
					  d->name, type, (unsigned long long)pos);
		if (type == Q2_EXT_BACKING_FORMAT) {
			if (len > Q2_MAX_BACKING_NAME)
				return od_err_set(e, OD_E_INVALID, "%s: backing format name is too long", d->name);
			free(q->backing_format);
			q->backing_format = od_strndup((const char *)h + pos + 8, len);
			if (!q->backing_format)
				return od_err_nomem(e);
		}
		pos += 8 + ((len + 7ull) & ~7ull);
	}
	return od_err_set(e, OD_E_INVALID, "%s: too many header extensions", d->name);
}

int q2_parse(disk *d, od_err *e)
{
	struct qcow2 *q = d->priv;
	unsigned char h0[112];
	if (disk_io_size(d, &q->file_size, e) < 0)
		return -1;
	if (q->file_size < 72)
		return od_err_set(e, OD_E_INVALID, "%s: file too short for a qcow2 header (%llu bytes)", d->name,
				  (unsigned long long)q->file_size);
	memset(h0, 0, sizeof h0);
	if (disk_io_pread(d, h0, q->file_size < sizeof h0 ? (size_t)q->file_size : sizeof h0, 0, e) < 0)
		return -1;
	if (q2_be32(h0) != Q2_MAGIC)
		return od_err_set(e, OD_E_INVALID, "%s: not a qcow2 image (bad magic)", d->name);
	q->version = q2_be32(h0 + Q2H_VERSION);
	if (q->version != 2 && q->version != 3)
		return od_err_set(e, OD_E_UNSUPPORTED, "%s: qcow2 version %u is not supported (only 2 and 3)", d->name,
				  q->version);
	q->cluster_bits = q2_be32(h0 + Q2H_CLUSTER_BITS);
	if (q->cluster_bits < 9 || q->cluster_bits > 21)
		return od_err_set(e, OD_E_INVALID, "%s: cluster_bits %u is outside 9..21 (512 B to 2 MiB)", d->name,
				  q->cluster_bits);
	d->size = q2_be64(h0 + Q2H_SIZE);
	if (d->size > Q2_MAX_SIZE)
		return od_err_set(e, OD_E_INVALID, "%s: virtual size %llu bytes is larger than the supported 2^56",
				  d->name, (unsigned long long)d->size);
	if (q2_be32(h0 + Q2H_CRYPT))
		return od_err_set(e, OD_E_UNSUPPORTED, "%s: encrypted qcow2 images are not supported", d->name);
	if (q->version == 3) {
		if (q->file_size < 104)
			return od_err_set(e, OD_E_INVALID, "%s: file too short for a qcow2 v3 header", d->name);
		q->incompat = q2_be64(h0 + Q2H_INCOMPAT);
		q->compat = q2_be64(h0 + Q2H_COMPAT);
		q->autoclear = q2_be64(h0 + Q2H_AUTOCLEAR);
		q->refcount_order = q2_be32(h0 + Q2H_REFCOUNT_ORDER);
		q->header_length = q2_be32(h0 + Q2H_HEADER_LENGTH);
		if (q->incompat & ~Q2_INCOMPAT_KNOWN)
			return od_err_set(e, OD_E_UNSUPPORTED, "%s: unknown incompatible qcow2 features 0x%llx", d->name,
					  (unsigned long long)(q->incompat & ~Q2_INCOMPAT_KNOWN));
		if (q->incompat & Q2_INCOMPAT_DATA_FILE)
			return od_err_set(e, OD_E_UNSUPPORTED, "%s: qcow2 images with an external data file are not supported",
					  d->name);
		if (q->refcount_order > 6)
			return od_err_set(e, OD_E_INVALID, "%s: refcount_order %u is larger than 6", d->name,
					  q->refcount_order);
		if (q->header_length < 104 || q->header_length > (1u << q->cluster_bits) || q->header_length % 8)
			return od_err_set(e, OD_E_INVALID, "%s: header length %u is invalid", d->name, q->header_length);
		if (q->header_length > 104)
			q->compression_type = h0[Q2H_COMPRESSION_TYPE];
		if (q->compression_type > 1)
			return od_err_set(e, OD_E_UNSUPPORTED, "%s: unknown compression type %d", d->name,
					  q->compression_type);
		if ((q->compression_type != 0) != ((q->incompat & Q2_INCOMPAT_COMPRESSION) != 0))
			return od_err_set(e, OD_E_INVALID, "%s: compression type and its feature bit disagree", d->name);
		q->extl2 = (q->incompat & Q2_INCOMPAT_EXTL2) != 0;
	} else {
		q->refcount_order = 4;
		q->header_length = 72;
	}
	if (q2_setup(d, e) < 0)
		return -1;

	/* The whole header cluster (or what the file has of it). */
	size_t hlen = q->file_size < q->cluster_size ? (size_t)q->file_size : (size_t)q->cluster_size;
	if (q->header_length > hlen)
		return od_err_set(e, OD_E_INVALID, "%s: header is cut short", d->name);
	unsigned char *h = malloc(hlen);
	if (!h)
		return od_err_nomem(e);
	int rc = -1;
	if (disk_io_pread(d, h, hlen, 0, e) < 0)
		goto out;
	uint64_t boff = q2_be64(h + Q2H_BACKING_OFFSET);
	uint32_t bsize = q2_be32(h + Q2H_BACKING_SIZE);
	if (q2_read_header_ext(d, h, hlen, boff, e) < 0)
		goto out;
	if (boff && bsize) {
		if (bsize > Q2_MAX_BACKING_NAME || !od_range_ok(boff, bsize, hlen)) {
			od_err_set(e, OD_E_INVALID, "%s: backing file name (%u bytes at 0x%llx) is outside the header cluster",
				   d->name, bsize, (unsigned long long)boff);
			goto out;
		}
		q->backing_name = od_strndup((const char *)h + boff, bsize);
		if (!q->backing_name) {
			od_err_nomem(e);
			goto out;
		}
	}

	/* L1: must cover the virtual size, and is bounded by a cap and by the
	 * file before anything is allocated for it. */
	q->l1_size = q2_be32(h + Q2H_L1_SIZE);
	q->l1_offset = q2_be64(h + Q2H_L1_OFFSET);
	uint64_t cover = q->cluster_size << q->l2_bits;
	uint64_t need = d->size / cover + (d->size % cover != 0);
	if (q->l1_size < need) {
		od_err_set(e, OD_E_INVALID, "%s: L1 table has %u entries, the virtual size needs %llu", d->name,
			   q->l1_size, (unsigned long long)need);
		goto out;
	}
	if ((uint64_t)q->l1_size * 8 > Q2_MAX_L1_BYTES) {
		od_err_set(e, OD_E_INVALID, "%s: L1 table of %u entries is larger than the %u MiB limit", d->name, q->l1_size,
			   Q2_MAX_L1_BYTES >> 20);
		goto out;
	}
	if (q->l1_size) {
		if (q2_check_host(d, q->l1_offset, (uint64_t)q->l1_size * 8, "L1 table", e) < 0)
			goto out;
		if (!od_range_ok(q->l1_offset, (uint64_t)q->l1_size * 8, q->file_size)) {
			od_err_set(e, OD_E_INVALID, "%s: L1 table (%u entries at 0x%llx) extends past the end of the file",
				   d->name, q->l1_size, (unsigned long long)q->l1_offset);
			goto out;
		}
		q->l1 = malloc((size_t)q->l1_size * 8);
		if (!q->l1) {
			od_err_nomem(e);
			goto out;
		}
		if (disk_io_pread(d, q->l1, (size_t)q->l1_size * 8, q->l1_offset, e) < 0)
			goto out;
		for (uint32_t i = 0; i < q->l1_size; i++)
			q->l1[i] = q2_be64((unsigned char *)&q->l1[i]);
	}

	q->rt_offset = q2_be64(h + Q2H_RT_OFFSET);
	q->rt_clusters = q2_be32(h + Q2H_RT_CLUSTERS);
	if ((uint64_t)q->rt_clusters * q->cluster_size > Q2_MAX_RT_BYTES) {
		od_err_set(e, OD_E_INVALID, "%s: refcount table of %u clusters is larger than the %u MiB limit", d->name,
			   q->rt_clusters, Q2_MAX_RT_BYTES >> 20);
		goto out;
	}
	if (q->rt_clusters) {
		if (q2_check_host(d, q->rt_offset, 0, "refcount table", e) < 0)
			goto out;
		if (!od_range_ok(q->rt_offset, (uint64_t)q->rt_clusters * q->cluster_size, q->file_size)) {
			od_err_set(e, OD_E_INVALID, "%s: refcount table (%u clusters at 0x%llx) extends past the end of the file",
				   d->name, q->rt_clusters, (unsigned long long)q->rt_offset);
			goto out;
		}
	}
	q->nb_snapshots = q2_be32(h + Q2H_NB_SNAPSHOTS);
	q->snapshots_offset = q2_be64(h + Q2H_SNAPSHOTS_OFFSET);
	if (q->nb_snapshots > 65536) {
		od_err_set(e, OD_E_INVALID, "%s: %u internal snapshots is more than the format allows", d->name,
			   q->nb_snapshots);
		goto out;
	}
	rc = 0;
out:
	free(h);
	return rc;
}

int q2_info(disk *d, struct disk_info *info, od_err *e)
{
	struct qcow2 *q = d->priv;
	snprintf(info->subformat, sizeof info->subformat, "%s", q->version == 2 ? "compat 0.10" : "compat 1.1");
	info->version = q->version;
	info->cluster_size = (uint32_t)q->cluster_size;
	info->dirty = (q->incompat & Q2_INCOMPAT_DIRTY) != 0;
	info->corrupt = (q->incompat & Q2_INCOMPAT_CORRUPT) != 0;
	if (q->backing_name && !(info->backing_file = od_strdup(q->backing_name)))
		return od_err_nomem(e);
	if (q->backing_format && !(info->backing_format = od_strdup(q->backing_format)))
		return od_err_nomem(e);
	if (q->version >= 3 && !(info->compression_type = od_strdup(q->compression_type ? "zstd" : "zlib")))
		return od_err_nomem(e);
	/* Look for compressed clusters: a scan of the L2 tables, which are a
	 * small fraction of the image. */
	pthread_mutex_lock(&q->lock);
	int rc = 0;
	/* Bounded like the metadata walk: hostile L1 tables may point at one
	 * table many times. */
	uint64_t budget = (q->file_size >> q->cluster_bits) + 1024;
	for (uint32_t i = 0; i < q->l1_size && !info->compressed && rc == 0 && budget; i++) {
		uint64_t l2 = q->l1[i] & Q2_OFFSET_MASK;
		struct q2_l2 *t;
		if (!l2)
			continue;
		if (q2_l2_get(d, l2, false, &t, e) < 0) {
			rc = -1;
			break;
		}
		budget--;
		for (uint64_t j = 0; j < q->l2_entries; j++)
			if (q2_be64(t->data + j * (q->extl2 ? 16 : 8)) & Q2_COMPRESSED) {
				info->compressed = true;
				break;
			}
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}
