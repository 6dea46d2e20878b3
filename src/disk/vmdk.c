/* vmdk.c - the VMDK format driver: probing, the descriptor and its extents,
 * dispatch of reads, writes and maps to the extents, info and check.
 *
 * A VMDK is a text descriptor (embedded in a sparse file, or a file of its
 * own) listing extents that together make the disk: hosted sparse files
 * (vmdk_sparse.c), flat files read as raw bytes, and ZERO extents.  New images
 * are written by vmdk_sparse.c (monolithicSparse) or vmdk_stream.c
 * (streamOptimized). */
#include "config.h"
#include "disk/vmdk_priv.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct vmdk_extent {
	int type, access;
	uint64_t start, len;     /* guest bytes */
	uint64_t flat_off;       /* FLAT/VMFS: byte offset inside the file */
	disk *child;             /* separate extent file, NULL when it is this file */
	bool shared;             /* child belongs to an earlier extent (same flat file) */
	struct vmdk_sparse *sp;  /* SPARSE */
};

struct vmdk {
	struct vmdk_desc desc;
	char *desc_text;
	struct vmdk_extent *ext;
	size_t next;
	struct vmdk_header h0;   /* header of this file when it is a sparse extent */
	bool has_header;
	struct vmdk_stream *stream; /* created streamOptimized image */
	disk *parent;            /* parentFileNameHint, opened; NULL if none */
	bool cid_updated;        /* the content ID was renewed by a first write */
};

static int vmdk_probe(const unsigned char *buf, size_t len)
{
	if (len >= 4 && vmdk_le32(buf) == VMDK_MAGIC)
		return 100;
	if (len >= 21 && !memcmp(buf, "# Disk DescriptorFile", 21))
		return 100;
	/* A descriptor without the usual first line: plain text that names a
	 * createType early on. */
	if (len > 0 && memchr(buf, '\0', len) == NULL) {
		static const char key[] = "createType";
		for (size_t i = 0; i + sizeof key - 1 <= len; i++)
			if (!memcmp(buf + i, key, sizeof key - 1))
				return 60;
	}
	return 0;
}

static void vmdk_free(disk *d)
{
	struct vmdk *v = d->priv;
	if (!v)
		return;
	for (size_t i = 0; i < v->next; i++) {
		vmdk_sparse_close(v->ext[i].sp);
		if (v->ext[i].child && !v->ext[i].shared)
			disk_close(v->ext[i].child);
	}
	free(v->ext);
	vmdk_desc_free(&v->desc);
	free(v->desc_text);
	vmdk_stream_free(v->stream);
	if (v->parent)
		disk_close(v->parent);
	d->backing = NULL;
	free(v);
	d->priv = NULL;
}

static void vmdk_close(disk *d)
{
	vmdk_free(d);
}

/* Refuse extent names that would reach outside the descriptor's directory:
 * a descriptor inside a downloaded appliance is untrusted. */
static int extent_name_ok(disk *d, const char *f, od_err *e)
{
	if (f[0] == '/')
		return od_err_set(e, OD_E_UNSUPPORTED, "%s: extent file '%s' is an absolute path (not supported)", d->name, f);
	for (const char *p = f; *p;) {
		const char *s = strchr(p, '/');
		size_t n = s ? (size_t)(s - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return od_err_set(e, OD_E_UNSUPPORTED, "%s: extent file '%s' leaves the descriptor's directory", d->name,
					  f);
		p += n + (s ? 1 : 0);
	}
	if (!d->path)
		return od_err_set(e, OD_E_UNSUPPORTED,
				  "%s: a descriptor opened inside another file cannot refer to extent file '%s'", d->name, f);
	return 0;
}

static int open_extents(disk *d, od_err *e)
{
	struct vmdk *v = d->priv;
	v->ext = calloc(v->desc.next, sizeof *v->ext);
	if (!v->ext)
		return od_err_nomem(e);
	uint64_t start = 0;
	bool writable = (d->flags & DISK_RDWR) != 0;
	for (size_t i = 0; i < v->desc.next; i++) {
		const struct vmdk_desc_extent *x = &v->desc.ext[i];
		struct vmdk_extent *ex = &v->ext[v->next];
		ex->type = x->type;
		ex->access = x->access;
		ex->start = start;
		ex->len = x->sectors * VMDK_SECTOR;
		start += ex->len;
		v->next++;
		if (x->type == VMDK_ZERO)
			continue;
		if (x->type == VMDK_VMFSSPARSE)
			return od_err_set(e, OD_E_UNSUPPORTED, "%s: VMFSSPARSE extents (ESX snapshots) are not supported",
					  d->name);
		if (x->access == VMDK_NOACCESS)
			continue;
		unsigned cflags = (writable && x->access == VMDK_RW) ? DISK_RDWR : DISK_RDONLY;
		if (x->type == VMDK_SPARSE) {
			disk *io = d;
			struct vmdk_header h;
			if (v->has_header) {
				/* monolithic: the extent is this very file */
				if (v->desc.next != 1)
					return od_err_set(e, OD_E_UNSUPPORTED,
							  "%s: embedded descriptor lists %zu extents; only one is possible",
							  d->name, v->desc.next);
				h = v->h0;
			} else {
				if (extent_name_ok(d, x->file, e) < 0)
					return -1;
				ex->child = disk_open_child(d, x->file, "raw", cflags, e);
				if (!ex->child)
					return -1;
				io = ex->child;
				unsigned char b[VMDK_SECTOR];
				uint64_t sz;
				if (disk_io_size(io, &sz, e) < 0)
					return -1;
				if (sz < VMDK_SECTOR)
					return od_err_set(e, OD_E_INVALID, "%s: sparse extent '%s' is too short for a header",
							  d->name, x->file);
				if (disk_io_pread(io, b, sizeof b, 0, e) < 0)
					return -1;
				vmdk_header_decode(b, &h);
			}
			if (vmdk_sparse_open(io, &h, cflags == DISK_RDWR, &ex->sp, e) < 0)
				return -1;
		} else { /* FLAT, VMFS */
			if (v->has_header)
				return od_err_set(e, OD_E_INVALID, "%s: a sparse file's descriptor lists a flat extent", d->name);
			if (extent_name_ok(d, x->file, e) < 0)
				return -1;
			/* Extents that are pieces of one flat file share one open
			 * file, so that many of them cannot exhaust descriptors. */
			for (size_t j = 0; j + 1 < v->next && !ex->child; j++)
				if (v->ext[j].child && !v->ext[j].sp && !strcmp(v->desc.ext[j].file, x->file) &&
				    v->ext[j].access == x->access) {
					ex->child = v->ext[j].child;
					ex->shared = true;
				}
			if (!ex->child && !(ex->child = disk_open_child(d, x->file, "raw", cflags, e)))
				return -1;
			ex->flat_off = x->offset * VMDK_SECTOR;
			uint64_t sz;
			if (disk_io_size(ex->child, &sz, e) < 0)
				return -1;
			/* A flat file shorter than its extent would make reads fail
			 * in the middle of a conversion; say so now. */
			if (!od_range_ok(ex->flat_off, ex->len, sz))
				return od_err_set(e, OD_E_INVALID,
						  "%s: flat extent '%s' needs 0x%llx bytes at offset 0x%llx, the file has 0x%llx",
						  d->name, x->file, (unsigned long long)ex->len,
						  (unsigned long long)ex->flat_off, (unsigned long long)sz);
		}
	}
	d->size = start;
	return 0;
}

static int read_desc_text(disk *d, uint64_t off, uint64_t len, od_err *e)
{
	struct vmdk *v = d->priv;
	uint64_t fsz;
	if (disk_io_size(d, &fsz, e) < 0)
		return -1;
	if (len > VMDK_MAX_DESC)
		return od_err_set(e, OD_E_INVALID, "%s: descriptor of %llu bytes is larger than the limit of %u bytes",
				  d->name, (unsigned long long)len, VMDK_MAX_DESC);
	if (!od_range_ok(off, len, fsz))
		return od_err_set(e, OD_E_INVALID, "%s: descriptor (offset 0x%llx, %llu bytes) lies past the end of the file",
				  d->name, (unsigned long long)off, (unsigned long long)len);
	v->desc_text = malloc((size_t)len + 1);
	if (!v->desc_text)
		return od_err_nomem(e);
	if (disk_io_pread(d, v->desc_text, (size_t)len, off, e) < 0)
		return -1;
	v->desc_text[len] = '\0';
	/* keep only the text: embedded descriptors are padded with NULs */
	size_t n = strlen(v->desc_text);
	return vmdk_desc_parse(v->desc_text, n, d->name, &v->desc, e);
}

/* A delta disk (a snapshot or linked clone) reads what it does not hold
 * from its parent.  The parent is opened read-only through the generic
 * child mechanism, which bounds the chain depth and so stops loops; a
 * parent whose CID is not the parentCID recorded here has changed since
 * the child was made, and reading through it would mix two histories. */
static int open_parent(disk *d, od_err *e)
{
	struct vmdk *v = d->priv;
	const char *hint = v->desc.parent_hint;
	if (d->flags & DISK_NO_BACKING)
		return 0;
	if (d->flags & DISK_RDWR)
		return od_err_set(e, OD_E_UNSUPPORTED, "%s: writing to a VMDK with a parent disk is not supported", d->name);
	if (!d->path)
		return od_err_set(e, OD_E_UNSUPPORTED,
				  "%s: a VMDK opened inside another file cannot refer to parent disk '%s'", d->name, hint);
	if (!*hint)
		return od_err_set(e, OD_E_INVALID, "%s: empty parentFileNameHint", d->name);
	v->parent = disk_open_child(d, hint, NULL, DISK_RDONLY, e);
	if (!v->parent)
		return -1;
	if (v->parent->drv == &disk_driver_vmdk) {
		struct vmdk *pv = v->parent->priv;
		if (v->desc.has_parent_cid && pv->desc.has_cid && pv->desc.cid != v->desc.parent_cid)
			return od_err_set(e, OD_E_INVALID,
					  "%s: parent '%s' has CID %08x, this disk expects %08x (the parent changed "
					  "after this disk was made)", d->name, hint, pv->desc.cid, v->desc.parent_cid);
	}
	d->backing = v->parent;
	return 0;
}

static int vmdk_open(disk *d, od_err *e)
{
	struct vmdk *v = calloc(1, sizeof *v);
	if (!v)
		return od_err_nomem(e);
	d->priv = v;
	unsigned char b[VMDK_SECTOR];
	uint64_t fsz;
	if (disk_io_size(d, &fsz, e) < 0)
		goto fail;
	memset(b, 0, sizeof b);
	if (disk_io_pread(d, b, fsz < sizeof b ? (size_t)fsz : sizeof b, 0, e) < 0)
		goto fail;
	if (fsz >= 4 && vmdk_le32(b) == VMDK_MAGIC) {
		if (fsz < VMDK_SECTOR) {
			od_err_set(e, OD_E_INVALID, "%s: file too short for a sparse VMDK header", d->name);
			goto fail;
		}
		vmdk_header_decode(b, &v->h0);
		v->has_header = true;
		bool bare = true;
		if (v->h0.desc_off && v->h0.desc_size) {
			uint64_t off, len;
			if (!od_mul_u64(v->h0.desc_off, VMDK_SECTOR, &off) || !od_mul_u64(v->h0.desc_size, VMDK_SECTOR, &len)) {
				od_err_set(e, OD_E_INVALID, "%s: descriptor offset or size overflows", d->name);
				goto fail;
			}
			/* Pieces of split disks reserve descriptor space but leave
			 * it empty (QEMU): those are bare extents. */
			if (read_desc_text(d, off, len, e) < 0) {
				if (!v->desc_text || v->desc_text[strspn(v->desc_text, " \t\r\n")])
					goto fail;
				free(v->desc_text);
				v->desc_text = NULL;
			} else {
				bare = false;
			}
		}
		if (bare) {
			/* A bare sparse extent (a piece of a split disk opened on
			 * its own): one extent covering the header's capacity. */
			if (v->h0.capacity == 0 || v->h0.capacity > VMDK_MAX_BYTES / VMDK_SECTOR) {
				od_err_set(e, OD_E_INVALID, "%s: capacity of %llu sectors is %s", d->name,
					   (unsigned long long)v->h0.capacity, v->h0.capacity ? "too large" : "zero");
				goto fail;
			}
			v->desc.ext = calloc(1, sizeof *v->desc.ext);
			v->desc.create_type = od_strdup("monolithicSparse");
			if (!v->desc.ext || !v->desc.create_type) {
				od_err_nomem(e);
				goto fail;
			}
			v->desc.next = 1;
			v->desc.ext[0] = (struct vmdk_desc_extent){.access = VMDK_RW, .type = VMDK_SPARSE,
								   .sectors = v->h0.capacity};
			v->desc.sectors = v->h0.capacity;
		}
	} else {
		if (fsz > VMDK_MAX_DESC) {
			od_err_set(e, OD_E_INVALID, "%s: descriptor file of %llu bytes is larger than the limit of %u bytes",
				   d->name, (unsigned long long)fsz, VMDK_MAX_DESC);
			goto fail;
		}
		if (read_desc_text(d, 0, fsz, e) < 0)
			goto fail;
	}
	if (!v->desc.parent_hint && v->desc.has_parent_cid && v->desc.parent_cid != 0xffffffffu) {
		od_err_set(e, OD_E_INVALID, "%s: parentCID is set but there is no parentFileNameHint", d->name);
		goto fail;
	}
	if (open_extents(d, e) < 0)
		goto fail;
	if (v->desc.parent_hint && open_parent(d, e) < 0)
		goto fail;
	return 0;
fail:
	vmdk_free(d);
	return -1;
}

/* Index of the extent containing guest byte `off`. */
static size_t find_extent(struct vmdk *v, uint64_t off)
{
	size_t lo = 0, hi = v->next;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->ext[mid].start <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Read [in, in+n) of sparse extent x, taking unallocated grains from the
 * parent (zeros past the parent's end). */
static int read_with_parent(struct vmdk *v, struct vmdk_extent *x, unsigned char *buf, size_t n, uint64_t in,
			    od_err *e)
{
	while (n) {
		uint64_t run;
		int kind;
		if (vmdk_sparse_map(x->sp, in, n, &run, &kind, e) < 0)
			return -1;
		size_t k = (size_t)run;
		if (kind != DISK_EXT_UNALLOC) {
			if (vmdk_sparse_pread(x->sp, buf, k, in, e) < 0)
				return -1;
		} else {
			uint64_t g = x->start + in, psz = disk_size(v->parent);
			size_t from_parent = g >= psz ? 0 : psz - g < k ? (size_t)(psz - g) : k;
			if (from_parent && disk_pread(v->parent, buf, from_parent, g, e) < 0)
				return -1;
			memset(buf + from_parent, 0, k - from_parent);
		}
		buf += k, in += k, n -= k;
	}
	return 0;
}

static int vmdk_pread(disk *d, void *buf_, size_t len, uint64_t off, od_err *e)
{
	struct vmdk *v = d->priv;
	unsigned char *buf = buf_;
	if (v->stream)
		return od_err_set(e, OD_E_USAGE, "%s: a stream-optimized image being written cannot be read", d->name);
	for (size_t i = find_extent(v, off); len && i < v->next; i++) {
		struct vmdk_extent *x = &v->ext[i];
		uint64_t in = off - x->start;
		size_t n = x->len - in < len ? (size_t)(x->len - in) : len;
		int rc = 0;
		if (x->access == VMDK_NOACCESS && x->type != VMDK_ZERO)
			return od_err_set(e, OD_E_INVALID, "%s: read of a NOACCESS extent at 0x%llx", d->name,
					  (unsigned long long)off);
		if (x->type == VMDK_ZERO)
			memset(buf, 0, n);
		else if (x->sp && v->parent)
			rc = read_with_parent(v, x, buf, n, in, e);
		else if (x->sp)
			rc = vmdk_sparse_pread(x->sp, buf, n, in, e);
		else
			rc = disk_io_pread(x->child, buf, n, x->flat_off + in, e);
		if (rc < 0)
			return -1;
		buf += n, off += n, len -= n;
	}
	return 0;
}

/* The CID names the content: a child disk records its parent's, so that a
 * parent modified later is detected.  Like VMware and QEMU, give the disk a
 * new CID at its first modification, rewriting the descriptor in place. */
static int renew_cid(disk *d, od_err *e)
{
	struct vmdk *v = d->priv;
	if (v->cid_updated || !v->desc_text || d->io.is_range)
		return 0;
	v->cid_updated = true;
	char *t = v->desc_text, *p = NULL;
	for (char *l = t; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, "CID=", 4)) {
			p = l + 4;
			break;
		}
	if (!p)
		return 0;
	size_t digits = strspn(p, "0123456789abcdefABCDEF");
	uint32_t cid = vmdk_random_cid();
	char *nt = od_asprintf("%.*s%08x%s", (int)(p - t), t, cid, p + digits);
	if (!nt)
		return od_err_nomem(e);
	size_t ol = strlen(t), nl = strlen(nt);
	uint64_t where = 0, room = UINT64_MAX;
	if (v->has_header) {
		where = v->h0.desc_off * VMDK_SECTOR;
		room = v->h0.desc_size * VMDK_SECTOR;
	}
	if (nl > room) { /* no space to grow: keep the old CID */
		free(nt);
		return 0;
	}
	/* pad with NULs over a longer old text (embedded) or cut the file */
	if (disk_io_pwrite(d, nt, nl, where, e) < 0) {
		free(nt);
		return -1;
	}
	if (nl < ol) {
		if (v->has_header) {
			char zeros[16] = {0};
			if (disk_io_pwrite(d, zeros, ol - nl, where + nl, e) < 0) {
				free(nt);
				return -1;
			}
		} else if (ftruncate(d->io.fd, (off_t)nl) < 0) {
			free(nt);
			return od_err_errno(e, errno, "%s: truncating the descriptor", d->name);
		}
	}
	free(v->desc_text);
	v->desc_text = nt;
	v->desc.cid = cid;
	return 0;
}

static int vmdk_pwrite(disk *d, const void *buf_, size_t len, uint64_t off, od_err *e)
{
	struct vmdk *v = d->priv;
	const unsigned char *buf = buf_;
	if (v->stream)
		return vmdk_stream_pwrite(v->stream, buf, len, off, e);
	if (!d->out && renew_cid(d, e) < 0)
		return -1;
	for (size_t i = find_extent(v, off); len && i < v->next; i++) {
		struct vmdk_extent *x = &v->ext[i];
		uint64_t in = off - x->start;
		size_t n = x->len - in < len ? (size_t)(x->len - in) : len;
		int rc;
		if (x->access != VMDK_RW || x->type == VMDK_ZERO)
			return od_err_set(e, OD_E_USAGE, "%s: extent %zu at 0x%llx is not writable", d->name, i,
					  (unsigned long long)off);
		if (x->sp)
			rc = vmdk_sparse_pwrite(x->sp, buf, n, in, e);
		else
			rc = disk_io_pwrite(x->child, buf, n, x->flat_off + in, e);
		if (rc < 0)
			return -1;
		buf += n, off += n, len -= n;
	}
	return 0;
}

static int vmdk_flush(disk *d, od_err *e)
{
	struct vmdk *v = d->priv;
	if (!d->io.writable)
		return 0;
	for (size_t i = 0; i < v->next; i++)
		if (v->ext[i].child && v->ext[i].child->io.writable && fsync(v->ext[i].child->io.fd) < 0)
			return od_err_errno(e, errno, "%s: fsync", v->ext[i].child->name);
	/* a created image is synced by its commit */
	if (!d->out && d->io.fd >= 0 && fsync(d->io.fd) < 0)
		return od_err_errno(e, errno, "%s: fsync", d->name);
	return 0;
}

static int vmdk_map(disk *d, uint64_t off, uint64_t len, struct disk_extent *out, od_err *e)
{
	struct vmdk *v = d->priv;
	if (v->stream) {
		*out = (struct disk_extent){off, len, DISK_EXT_DATA};
		return 0;
	}
	struct vmdk_extent *x = &v->ext[find_extent(v, off)];
	uint64_t in = off - x->start;
	uint64_t n = x->len - in < len ? x->len - in : len;
	out->off = off;
	if (x->type == VMDK_ZERO) {
		out->len = n;
		out->kind = DISK_EXT_ZERO;
	} else if (x->sp) {
		int kind;
		uint64_t run;
		if (vmdk_sparse_map(x->sp, in, n, &run, &kind, e) < 0)
			return -1;
		out->len = run;
		out->kind = kind;
		/* unallocated here: whatever the parent has there */
		if (kind == DISK_EXT_UNALLOC && v->parent && off < disk_size(v->parent)) {
			struct disk_extent p;
			uint64_t avail = disk_size(v->parent) - off;
			if (disk_map(v->parent, off, avail < run ? avail : run, &p, e) < 0)
				return -1;
			out->len = p.len;
			out->kind = p.kind;
		}
	} else if (x->child && x->child->drv && x->child->drv->map && in + x->flat_off < disk_size(x->child)) {
		/* flat: ask the raw driver about holes */
		struct disk_extent c;
		uint64_t cl = disk_size(x->child) - (x->flat_off + in);
		if (disk_map(x->child, x->flat_off + in, n < cl ? n : cl, &c, e) < 0)
			return -1;
		out->len = c.len;
		out->kind = c.kind == DISK_EXT_DATA ? DISK_EXT_DATA : DISK_EXT_ZERO;
	} else {
		out->len = n;
		out->kind = DISK_EXT_DATA;
	}
	return 0;
}

static int vmdk_create(disk *d, uint64_t size, const struct disk_create_opts *o, od_err *e)
{
	struct vmdk *v = calloc(1, sizeof *v);
	if (!v)
		return od_err_nomem(e);
	d->priv = v;
	const char *sub = o->subformat ? o->subformat : "monolithicSparse";
	bool stream = !strcmp(sub, "streamOptimized");
	if (!stream && strcmp(sub, "monolithicSparse")) {
		od_err_set(e, OD_E_USAGE, "%s: VMDK subformat '%s' cannot be written (monolithicSparse or streamOptimized)",
			   d->name, sub);
		goto fail;
	}
	if (o->adapter_type && strcmp(o->adapter_type, "ide") && strcmp(o->adapter_type, "lsilogic") &&
	    strcmp(o->adapter_type, "buslogic") && strcmp(o->adapter_type, "legacyESX") &&
	    strcmp(o->adapter_type, "pvscsi")) {
		od_err_set(e, OD_E_USAGE, "adapter type '%s' is not one of ide, lsilogic, buslogic, legacyESX, pvscsi",
			   o->adapter_type);
		goto fail;
	}
	if (size == 0 || size > VMDK_MAX_BYTES) {
		od_err_set(e, OD_E_USAGE, "%s: VMDK size must be between 1 byte and 1 PiB", d->name);
		goto fail;
	}
	uint64_t sectors = (size + VMDK_SECTOR - 1) / VMDK_SECTOR;
	char *copy = od_strdup(d->path ? d->path : d->name);
	if (!copy) {
		od_err_nomem(e);
		goto fail;
	}
	const char *base = basename(copy);
	if (strchr(base, '"')) {
		free(copy);
		od_err_set(e, OD_E_USAGE, "%s: a VMDK file name cannot contain a double quote", d->name);
		goto fail;
	}
	v->desc_text = vmdk_desc_make(sub, sectors, base, o->adapter_type, vmdk_random_cid());
	free(copy);
	if (!v->desc_text) {
		od_err_nomem(e);
		goto fail;
	}
	d->size = sectors * VMDK_SECTOR;
	if (stream) {
		if (vmdk_stream_create(d, sectors, o, v->desc_text, &v->stream, e) < 0)
			goto fail;
	} else {
		uint64_t grain = 128;
		if (o->cluster_size) {
			if (!od_is_pow2(o->cluster_size) || o->cluster_size < 4096 ||
			    o->cluster_size / VMDK_SECTOR > VMDK_MAX_GRAIN_SECTORS) {
				od_err_set(e, OD_E_USAGE, "grain size %u must be a power of two from 4 KiB to 1 MiB",
					   o->cluster_size);
				goto fail;
			}
			grain = o->cluster_size / VMDK_SECTOR;
		}
		v->ext = calloc(1, sizeof *v->ext);
		if (!v->ext) {
			od_err_nomem(e);
			goto fail;
		}
		v->next = 1;
		v->ext[0] = (struct vmdk_extent){.type = VMDK_SPARSE, .access = VMDK_RW, .len = d->size};
		if (vmdk_sparse_create(d, sectors, grain, v->desc_text, &v->ext[0].sp, e) < 0)
			goto fail;
		if (vmdk_desc_parse(v->desc_text, strlen(v->desc_text), d->name, &v->desc, e) < 0)
			goto fail;
		v->h0 = *vmdk_sparse_header(v->ext[0].sp);
		v->has_header = true;
	}
	return 0;
fail:
	vmdk_free(d);
	return -1;
}

static int vmdk_finish(disk *d, od_err *e)
{
	struct vmdk *v = d->priv;
	if (v->stream && vmdk_stream_finish(v->stream, e) < 0)
		return -1;
	return 0;
}

static int vmdk_info(disk *d, struct disk_info *info, od_err *e)
{
	struct vmdk *v = d->priv;
	snprintf(info->subformat, sizeof info->subformat, "%s",
		 v->desc.create_type ? v->desc.create_type : v->stream ? "streamOptimized" : "");
	if (v->desc_text && !(info->vmdk_descriptor = od_strdup(v->desc_text)))
		return od_err_nomem(e);
	if (v->desc.parent_hint) {
		if (!(info->backing_file = od_strdup(v->desc.parent_hint)))
			return od_err_nomem(e);
		if (v->parent && !(info->backing_format = od_strdup(disk_format(v->parent))))
			return od_err_nomem(e);
	}
	for (size_t i = 0; i < v->next; i++) {
		if (!v->ext[i].sp)
			continue;
		const struct vmdk_header *h = vmdk_sparse_header(v->ext[i].sp);
		if (!info->cluster_size)
			info->cluster_size = (uint32_t)vmdk_sparse_grain_bytes(v->ext[i].sp);
		if (!info->version)
			info->version = h->version;
		if (h->flags & VMDK_FLAG_COMPRESSED)
			info->compressed = true;
		if (h->unclean)
			info->dirty = true;
	}
	/* the sparse header's version says more than the descriptor's */
	if (!info->version)
		info->version = v->desc.version;
	/* actual size: the extent files too */
	for (size_t i = 0; i < v->next; i++) {
		struct disk_info ci;
		if (v->ext[i].child && !v->ext[i].shared && disk_get_info(v->ext[i].child, &ci, NULL) == 0) {
			info->actual_size += ci.actual_size;
			disk_info_free(&ci);
		}
	}
	return 0;
}

static int vmdk_check(disk *d, bool deep, struct disk_check_result *r, od_err *e)
{
	struct vmdk *v = d->priv;
	for (size_t i = 0; i < v->next; i++) {
		struct vmdk_extent *x = &v->ext[i];
		if (x->sp) {
			if (vmdk_sparse_check(x->sp, deep, r, e) < 0)
				return -1;
			const struct vmdk_header *h = vmdk_sparse_header(x->sp);
			if (h->capacity * VMDK_SECTOR < x->len) {
				r->corruptions++;
				disk_check_msg(r, "extent %zu: descriptor says %llu sectors, the sparse header %llu", i,
					       (unsigned long long)(x->len / VMDK_SECTOR), (unsigned long long)h->capacity);
			}
		}
	}
	/* streams: the footer must repeat the header */
	if (v->has_header && v->h0.gd_off == VMDK_GD_AT_END && v->next == 1 && v->ext[0].sp) {
		const struct vmdk_header *f = vmdk_sparse_header(v->ext[0].sp);
		if (f->capacity != v->h0.capacity || f->grain != v->h0.grain || f->flags != v->h0.flags ||
		    f->version != v->h0.version || f->desc_off != v->h0.desc_off || f->overhead != v->h0.overhead) {
			r->corruptions++;
			disk_check_msg(r, "the footer does not match the header");
		}
	}
	return 0;
}

static int vmdk_readahead_start(disk *d, unsigned nthreads, unsigned max_sets,
				int (*thread_init)(void *ctx, od_err *e), void *ctx, od_err *e)
{
	struct vmdk *v = d->priv;
	int n = 0;
	for (size_t i = 0; i < v->next && (unsigned)n < max_sets; i++) {
		if (!v->ext[i].sp)
			continue;
		int r = vmdk_sparse_readahead_start(v->ext[i].sp, nthreads, thread_init, ctx, e);
		if (r < 0)
			return -1;
		n += r;
	}
	return n;
}

const struct disk_driver disk_driver_vmdk = {
	.name = "vmdk",
	.probe = vmdk_probe,
	.open = vmdk_open,
	.pread = vmdk_pread,
	.pwrite = vmdk_pwrite,
	.flush = vmdk_flush,
	.map = vmdk_map,
	.close = vmdk_close,
	.create = vmdk_create,
	.finish = vmdk_finish,
	.info = vmdk_info,
	.check = vmdk_check,
	.readahead_start = vmdk_readahead_start,
};
