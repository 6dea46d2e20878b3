/* qcow2_check.c - the metadata walk and a qemu-img compatible check.
 *
 * The check recomputes every host cluster's refcount from the references
 * the metadata makes, reads the refcounts stored on disk, and compares:
 * stored > computed is a leak (harmless wasted space), stored < computed
 * is corruption (a cluster could be reused while still in use).  Overlaps
 * of metadata with data show up the same way, as a computed count of 2
 * against a stored 1.  COPIED flags must say "refcount is exactly 1". */
#include "config.h"
#include "disk/qcow2.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int walk_bad(disk *d, struct q2_walk *w, od_err *e, const char *fmt, ...) OD_PRINTF(4, 5);
static int walk_bad(disk *d, struct q2_walk *w, od_err *e, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!w->bad)
		return od_err_set(e, OD_E_INVALID, "%s: %s", d->name, msg);
	return w->bad(w->ctx, msg);
}

/* A cluster-sized reference at `off`: validate, then count it. */
static int walk_cluster(disk *d, struct q2_walk *w, uint64_t off, uint64_t len, const char *what, bool *ok, od_err *e)
{
	struct qcow2 *q = d->priv;
	od_err le;
	*ok = false;
	if (q2_check_host(d, off, len, what, &le) < 0) {
		/* the message already names the image; keep only the detail */
		const char *m = strstr(le.msg, ": ");
		return walk_bad(d, w, e, "%s", m ? m + 2 : le.msg);
	}
	*ok = true;
	uint64_t n = len;
	if (off + n > q->file_size)
		n = q->file_size - off;
	return w->ref(w->ctx, off, n, what, e);
}

static int walk_l2(disk *d, struct q2_walk *w, uint64_t l2off, bool active, od_err *e)
{
	struct qcow2 *q = d->priv;
	struct q2_l2 *t;
	if (q2_l2_get(d, l2off, false, &t, e) < 0)
		return -1;
	/* Copy: the callbacks do not touch the cache, but q2_l2_get in a later
	 * call would recycle the slot, and this keeps the walk simple. */
	unsigned char *tab = malloc(q->cluster_size);
	if (!tab)
		return od_err_nomem(e);
	memcpy(tab, t->data, q->cluster_size);
	unsigned esz = q->extl2 ? 16 : 8;
	int rc = 0;
	for (uint64_t j = 0; j < q->l2_entries && rc == 0; j++) {
		uint64_t ent = q2_be64(tab + j * esz);
		if (ent & Q2_COMPRESSED) {
			uint64_t h, cs;
			q2_compressed_desc(q, ent, &h, &cs);
			if (active) {
				w->allocated++;
				w->compressed++;
			}
			if (q->extl2 && q2_be64(tab + j * esz + 8)) {
				rc = walk_bad(d, w, e, "compressed cluster entry %llu of L2 table 0x%llx has a subcluster bitmap",
					      (unsigned long long)j, (unsigned long long)l2off);
				continue;
			}
			if (h < q->cluster_size || h >= q->file_size ||
			    (h + cs > q->file_size && h + cs - q->file_size >= 512)) {
				rc = walk_bad(d, w, e, "compressed cluster at 0x%llx (%llu bytes) is outside the file",
					      (unsigned long long)h, (unsigned long long)cs);
				continue;
			}
			rc = w->ref(w->ctx, h, h + cs > q->file_size ? q->file_size - h : cs, "compressed cluster", e);
			continue;
		}
		uint64_t h = ent & Q2_OFFSET_MASK;
		if (!h)
			continue;
		if (ent & 0x1feull) {
			rc = walk_bad(d, w, e, "L2 entry %llu of table 0x%llx has an unaligned offset (0x%llx)",
				      (unsigned long long)j, (unsigned long long)l2off, (unsigned long long)ent);
			continue;
		}
		bool ok;
		rc = walk_cluster(d, w, h, q->cluster_size, "data cluster", &ok, e);
		if (rc < 0 || !ok)
			continue;
		if (active) {
			bool zero = q->version >= 3 && !q->extl2 && (ent & Q2_ZERO);
			if (!zero) {
				w->allocated++;
				if (w->last_host && h != w->last_host + q->cluster_size)
					w->fragmented++;
				w->last_host = h;
			}
			if (w->copied)
				rc = w->copied(w->ctx, h, (ent & Q2_COPIED) != 0, "data cluster");
		}
	}
	free(tab);
	return rc;
}

static int walk_l1(disk *d, struct q2_walk *w, uint64_t l1off, uint32_t l1size, bool active, od_err *e)
{
	struct qcow2 *q = d->priv;
	unsigned char chunk[4096];
	for (uint64_t i = 0; i < l1size; i++) {
		uint64_t ent;
		if (active) {
			ent = q->l1[i];
		} else {
			if (i % 512 == 0) {
				uint64_t n = l1size - i < 512 ? l1size - i : 512;
				if (disk_io_pread(d, chunk, n * 8, l1off + i * 8, e) < 0)
					return -1;
			}
			ent = q2_be64(chunk + (i % 512) * 8);
		}
		uint64_t l2 = ent & Q2_OFFSET_MASK;
		if (!l2)
			continue;
		bool ok;
		if (walk_cluster(d, w, l2, q->cluster_size, "L2 table", &ok, e) < 0)
			return -1;
		if (!ok)
			continue;
		if (active && w->copied && w->copied(w->ctx, l2, (ent & Q2_COPIED) != 0, "L2 table") < 0)
			return -1;
		/* Many L1 entries pointing at one big L2 table would make the
		 * walk quadratic: a few MiB of hostile file could keep us busy
		 * for hours.  Real images reference each table once per
		 * snapshot at most. */
		if (++w->l2_walks > w->l2_walk_limit)
			return od_err_set(e, OD_E_INVALID, "%s: more L2 table references than the file can hold tables (%llu)",
					  d->name, (unsigned long long)w->l2_walk_limit);
		if (walk_l2(d, w, l2, active, e) < 0)
			return -1;
	}
	return 0;
}

static int walk_snapshots(disk *d, struct q2_walk *w, od_err *e)
{
	struct qcow2 *q = d->priv;
	uint64_t pos = q->snapshots_offset;
	bool ok;
	if (walk_cluster(d, w, pos, 0, "snapshot table", &ok, e) < 0)
		return -1;
	if (!ok)
		return 0;
	for (uint32_t i = 0; i < q->nb_snapshots; i++) {
		unsigned char sh[40];
		if (!od_range_ok(pos, sizeof sh, q->file_size))
			return walk_bad(d, w, e, "snapshot %u lies past the end of the file", i);
		if (disk_io_pread(d, sh, sizeof sh, pos, e) < 0)
			return -1;
		uint64_t l1off = q2_be64(sh);
		uint32_t l1size = q2_be32(sh + 8);
		uint64_t len = 40ull + q2_be32(sh + 36) + ((uint64_t)sh[12] << 8 | sh[13]) + ((uint64_t)sh[14] << 8 | sh[15]);
		len = (len + 7) & ~7ull;
		if ((uint64_t)l1size * 8 > Q2_MAX_L1_BYTES)
			return walk_bad(d, w, e, "snapshot %u has an L1 table of %u entries", i, l1size);
		if (l1size) {
			if (walk_cluster(d, w, l1off, (uint64_t)l1size * 8, "snapshot L1 table", &ok, e) < 0)
				return -1;
			if (ok && !od_range_ok(l1off, (uint64_t)l1size * 8, q->file_size))
				return walk_bad(d, w, e, "snapshot %u L1 table extends past the end of the file", i);
			if (ok && walk_l1(d, w, l1off, l1size, false, e) < 0)
				return -1;
		}
		pos += len;
	}
	if (pos > q->snapshots_offset && w->ref(w->ctx, q->snapshots_offset, pos - q->snapshots_offset, "snapshot table", e) < 0)
		return -1;
	return 0;
}

int q2_walk(disk *d, struct q2_walk *w, od_err *e)
{
	struct qcow2 *q = d->priv;
	w->l2_walks = 0;
	w->l2_walk_limit = ((q->file_size >> q->cluster_bits) + 1) * ((uint64_t)q->nb_snapshots + 1) + 1024;
	if (w->ref(w->ctx, 0, q->cluster_size, "header", e) < 0)
		return -1;
	if (q->l1_size && w->ref(w->ctx, q->l1_offset, (uint64_t)q->l1_size * 8, "L1 table", e) < 0)
		return -1;
	if (walk_l1(d, w, q->l1_offset, q->l1_size, true, e) < 0)
		return -1;
	if (q->rt_clusters) {
		uint64_t bytes = (uint64_t)q->rt_clusters * q->cluster_size;
		if (w->ref(w->ctx, q->rt_offset, bytes, "refcount table", e) < 0)
			return -1;
		unsigned char *rt = malloc(bytes);
		if (!rt)
			return od_err_nomem(e);
		if (disk_io_pread(d, rt, bytes, q->rt_offset, e) < 0) {
			free(rt);
			return -1;
		}
		for (uint64_t i = 0; i < bytes / 8; i++) {
			uint64_t b = q2_be64(rt + i * 8) & ~511ull;
			bool ok;
			if (b && walk_cluster(d, w, b, q->cluster_size, "refcount block", &ok, e) < 0) {
				free(rt);
				return -1;
			}
		}
		free(rt);
	}
	if (q->nb_snapshots && walk_snapshots(d, w, e) < 0)
		return -1;
	return 0;
}

/* ---- the check ---------------------------------------------------------------- */

struct ck {
	disk *d;
	struct disk_check_result *r;
	uint32_t *computed;
	uint64_t *stored;
	uint64_t n;
};

static int ck_ref(void *ctx, uint64_t off, uint64_t len, const char *what, od_err *e)
{
	struct ck *c = ctx;
	struct qcow2 *q = c->d->priv;
	if (!len)
		return 0;
	uint64_t first = off >> q->cluster_bits, last = (off + len - 1) >> q->cluster_bits;
	for (uint64_t i = first; i <= last && i < c->n; i++)
		if (c->computed[i] < UINT32_MAX)
			c->computed[i]++;
	return 0;
}

static int ck_bad(void *ctx, const char *msg)
{
	struct ck *c = ctx;
	c->r->corruptions++;
	return disk_check_msg(c->r, "ERROR %s", msg);
}

static int ck_copied(void *ctx, uint64_t host, bool flag, const char *what)
{
	struct ck *c = ctx;
	struct qcow2 *q = c->d->priv;
	uint64_t i = host >> q->cluster_bits;
	uint64_t rc = i < c->n ? c->stored[i] : 0;
	if ((rc == 1) != flag) {
		c->r->corruptions++;
		return disk_check_msg(c->r, "ERROR OFLAG_COPIED %s: offset=0x%llx refcount=%llu", what,
				      (unsigned long long)host, (unsigned long long)rc);
	}
	return 0;
}

/* Read the refcounts stored on disk into c->stored. */
static int ck_load_refcounts(struct ck *c, od_err *e)
{
	disk *d = c->d;
	struct qcow2 *q = d->priv;
	if (!q->rt_clusters)
		return 0;
	uint64_t bytes = (uint64_t)q->rt_clusters * q->cluster_size;
	unsigned char *rt = malloc(bytes), *blk = malloc(q->cluster_size);
	int rc = -1;
	if (!rt || !blk) {
		od_err_nomem(e);
		goto out;
	}
	if (disk_io_pread(d, rt, bytes, q->rt_offset, e) < 0)
		goto out;
	unsigned shift = q->cluster_bits + 3 - q->refcount_order;
	for (uint64_t i = 0; i < bytes / 8; i++) {
		uint64_t raw = q2_be64(rt + i * 8), b = raw & ~511ull;
		if (!b)
			continue;
		od_err le;
		if (q2_check_host(d, b, q->cluster_size, "refcount block", &le) < 0) {
			c->r->corruptions++;
			if (disk_check_msg(c->r, "ERROR refcount block %llu: %s", (unsigned long long)i,
					   strstr(le.msg, ": ") ? strstr(le.msg, ": ") + 2 : le.msg) < 0)
				goto nomem;
			continue;
		}
		if (raw & 511) {
			c->r->corruptions++;
			if (disk_check_msg(c->r, "ERROR refcount table entry %llu has reserved bits set", (unsigned long long)i) < 0)
				goto nomem;
		}
		uint64_t first = i << shift;
		if (first >= c->n)
			continue;
		uint64_t avail = q->file_size - b;
		size_t n = avail < q->cluster_size ? (size_t)avail : (size_t)q->cluster_size;
		memset(blk, 0, q->cluster_size);
		if (disk_io_pread(d, blk, n, b, e) < 0)
			goto out;
		for (uint64_t j = 0; j < (1ull << shift) && first + j < c->n; j++)
			c->stored[first + j] = q2_rc_get(blk, q->refcount_order, j);
	}
	rc = 0;
	goto out;
nomem:
	od_err_nomem(e);
out:
	free(rt);
	free(blk);
	return rc;
}

int q2_check(disk *d, bool deep, struct disk_check_result *r, od_err *e)
{
	struct qcow2 *q = d->priv;
	struct ck c = {.d = d, .r = r};
	uint64_t fsz;
	if (disk_io_size(d, &fsz, e) < 0)
		return -1;
	c.n = (fsz + q->cluster_size - 1) >> q->cluster_bits;
	if (c.n > (1ull << 27))
		return od_err_set(e, OD_E_UNSUPPORTED, "%s: too many clusters to check (%llu)", d->name,
				  (unsigned long long)c.n);
	c.computed = calloc(c.n ? c.n : 1, sizeof *c.computed);
	c.stored = calloc(c.n ? c.n : 1, sizeof *c.stored);
	int rc = -1;
	if (!c.computed || !c.stored) {
		od_err_nomem(e);
		goto out;
	}
	pthread_mutex_lock(&q->lock);
	if (ck_load_refcounts(&c, e) < 0) {
		pthread_mutex_unlock(&q->lock);
		goto out;
	}
	struct q2_walk w = {.ctx = &c, .ref = ck_ref, .bad = ck_bad, .copied = ck_copied};
	int wr = q2_walk(d, &w, e);
	pthread_mutex_unlock(&q->lock);
	if (wr < 0)
		goto out;
	uint64_t last_used = 0;
	for (uint64_t i = 0; i < c.n; i++) {
		uint64_t want = c.computed[i], have = c.stored[i];
		if (want)
			last_used = i + 1;
		if (want == have)
			continue;
		if (have > want) {
			r->leaks++;
			if (disk_check_msg(r, "Leaked cluster %llu refcount=%llu reference=%llu", (unsigned long long)i,
					   (unsigned long long)have, (unsigned long long)want) < 0) {
				od_err_nomem(e);
				goto out;
			}
		} else {
			r->corruptions++;
			if (disk_check_msg(r, "ERROR cluster %llu refcount=%llu reference=%llu", (unsigned long long)i,
					   (unsigned long long)have, (unsigned long long)want) < 0) {
				od_err_nomem(e);
				goto out;
			}
		}
	}
	r->allocated_clusters = w.allocated;
	r->compressed_clusters = w.compressed;
	r->fragmented_clusters = w.fragmented;
	r->total_clusters = (d->size + q->cluster_size - 1) >> q->cluster_bits;
	r->image_end_offset = last_used << q->cluster_bits;
	if (q->incompat & Q2_INCOMPAT_CORRUPT) {
		r->corruptions++;
		if (disk_check_msg(r, "ERROR the image is marked corrupt") < 0) {
			od_err_nomem(e);
			goto out;
		}
	}
	if (deep) {
		/* Read every guest byte: inflates each compressed cluster and
		 * touches every data cluster. */
		size_t chunk = 1 << 20;
		unsigned char *buf = malloc(chunk);
		if (!buf) {
			od_err_nomem(e);
			goto out;
		}
		for (uint64_t off = 0; off < d->size; off += chunk) {
			size_t n = d->size - off < chunk ? (size_t)(d->size - off) : chunk;
			od_err le;
			if (disk_pread(d, buf, n, off, &le) < 0) {
				r->corruptions++;
				if (disk_check_msg(r, "ERROR reading guest offset 0x%llx: %s", (unsigned long long)off, le.msg) < 0)
					break;
			}
		}
		free(buf);
	}
	rc = 0;
out:
	free(c.computed);
	free(c.stored);
	return rc;
}
