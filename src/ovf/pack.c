/* pack.c - write an OVA from an OVF directory, a descriptor or another OVA.
 *
 * Layout, as ovftool and vSphere expect it: the descriptor first, then the
 * manifest and certificate, then the files in References order.  The
 * manifest comes before the files it describes, yet we want to read each
 * input once, hashing while writing.  Its size is known in advance (every
 * line is "ALG(name)= " plus a fixed number of hex digits), so its slot is
 * reserved and filled in at the end with pwrite; likewise the certificate,
 * whose slot is sized for the longest signature the key can make.
 *
 * Headers are plain ustar: a GNU base-256 size only for members of 8 GiB
 * and more (with a warning), never PAX (vSphere rejects PAX headers). */
#include "config.h"
#include "ovf/ovf.h"
#include "ovf/pkg_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#define BLOCK 512
#define IO_CHUNK (1u << 20)
#define USTAR_SIZE_MAX 077777777777ull /* 8 GiB - 1: what 11 octal digits hold */
#define SIGN_TRIES 64

struct out_member {
	char *name;
	char *src;          /* file to copy from */
	uint64_t off, size; /* range of `src` */
	time_t mtime;
	unsigned char digest[4][OVF_DIGEST_MAX]; /* by alg */
};

struct plan {
	struct out_member *v;
	size_t n;
	char **temps;       /* compressed temporaries to unlink at the end */
	int *tempfds;       /* and their fds, kept open to hold their locks */
	size_t ntemps;
};

static void plan_free(struct plan *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		free(pl->v[i].name);
		free(pl->v[i].src);
	}
	free(pl->v);
	for (size_t i = 0; i < pl->ntemps; i++) {
		unlink(pl->temps[i]);
		free(pl->temps[i]);
		if (pl->tempfds[i] >= 0)
			close(pl->tempfds[i]);
	}
	free(pl->temps);
	free(pl->tempfds);
}

static int plan_add(struct plan *pl, const char *name, const char *src, uint64_t off, uint64_t size, time_t mtime,
		    od_err *e)
{
	if (pl->n >= OVF_MEMBERS_MAX)
		return od_err_set(e, OD_E_INVALID, "more than %d members", OVF_MEMBERS_MAX);
	struct out_member *nv = realloc(pl->v, (pl->n + 1) * sizeof *nv);
	if (!nv)
		return od_err_nomem(e);
	pl->v = nv;
	struct out_member *m = &pl->v[pl->n];
	memset(m, 0, sizeof *m);
	m->name = od_strdup(name);
	m->src = od_strdup(src);
	m->off = off;
	m->size = size;
	m->mtime = mtime;
	if (!m->name || !m->src) {
		free(m->name);
		free(m->src);
		return od_err_nomem(e);
	}
	pl->n++;
	return 0;
}

/* ---- ustar headers -------------------------------------------------------- */

static void octal(unsigned char *f, size_t n, uint64_t v)
{
	/* n-1 digits and a NUL, as GNU tar and ovftool write them. */
	f[n - 1] = 0;
	for (size_t i = n - 1; i-- > 0;) {
		f[i] = (unsigned char)('0' + (v & 7));
		v >>= 3;
	}
}

int ovf__tar_header(unsigned char *h, const char *name, uint64_t size, time_t mtime, struct ovf_warnings *w,
		    od_err *e)
{
	memset(h, 0, BLOCK);
	size_t n = strlen(name);
	if (n <= 100)
		memcpy(h, name, n);
	else {
		/* Split at a '/' so that the prefix holds <= 155 bytes and the
		 * name <= 100; a name that cannot be split does not fit ustar. */
		size_t cut = 0;
		for (size_t i = 0; i < n; i++)
			if (name[i] == '/' && i <= 155 && n - i - 1 <= 100 && n - i - 1 > 0) {
				cut = i;
				break;
			}
		if (!cut)
			return od_err_set(e, OD_E_INVALID, "'%s': name too long for a ustar header (100 bytes, or 155+100 split at a '/')",
					  name);
		memcpy(h + 345, name, cut);
		memcpy(h, name + cut + 1, n - cut - 1);
	}
	octal(h + 100, 8, 0644);
	octal(h + 108, 8, 0);
	octal(h + 116, 8, 0);
	bool gnu = size > USTAR_SIZE_MAX;
	if (gnu) {
		/* GNU base-256: the top bit of the first byte, then big-endian. */
		h[124] = 0x80;
		uint64_t v = size;
		for (int i = 11; i >= 4; i--) {
			h[124 + i] = (unsigned char)(v & 0xff);
			v >>= 8;
		}
		ovf_warn(w, "'%s' is %llu bytes: its header uses the GNU size extension (over 8 GiB); some tools cannot read it",
			 name, (unsigned long long)size);
	} else
		octal(h + 124, 12, size);
	octal(h + 136, 12, mtime > 0 ? (uint64_t)mtime : 0);
	h[156] = '0';
	if (gnu)
		memcpy(h + 257, "ustar  ", 8); /* magic + version, GNU style */
	else {
		memcpy(h + 257, "ustar", 6);
		memcpy(h + 263, "00", 2);
	}
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	return 0;
}

/* ---- descriptor edits --------------------------------------------------------
 * --compress and --chunk-size change File attributes.  The descriptor is
 * edited as text, in the one start tag concerned, so that every other byte
 * (comments, formatting, signatures over it by other tools) stays as the
 * author wrote it. */

/* Find the File start tag whose href is `href`: returns the offsets of '<'
 * and of the tag's closing '>' or "/>". */
static int find_file_tag(const char *d, size_t len, const char *href, size_t *start, size_t *end)
{
	char pat[OVF_NAME_MAX + 16];
	for (int q = 0; q < 2; q++) {
		snprintf(pat, sizeof pat, ":href=%c%s%c", q ? '\'' : '"', href, q ? '\'' : '"');
		const char *s = d;
		while ((s = strstr(s, pat)) != NULL) {
			const char *lt = s;
			while (lt > d && *lt != '<' && *lt != '>')
				lt--;
			if (*lt == '<') {
				/* the element's local name must be File */
				const char *nm = lt + 1, *ne = nm;
				while (*ne && *ne != ' ' && *ne != '\t' && *ne != '\n' && *ne != '\r')
					ne++;
				const char *colon = memchr(nm, ':', (size_t)(ne - nm));
				const char *local = colon ? colon + 1 : nm;
				if (ne - local == 4 && !memcmp(local, "File", 4)) {
					const char *gt = strchr(s, '>');
					if (!gt)
						return -1;
					if (gt > d && gt[-1] == '/')
						gt--;
					*start = (size_t)(lt - d);
					*end = (size_t)(gt - d);
					(void)len;
					return 0;
				}
			}
			s += strlen(pat);
		}
	}
	return -1;
}

/* Set (value != NULL) or remove attribute PREFIX:attr in the File tag of
 * `href`; the prefix is the one its href attribute uses. */
static int set_file_attr(od_buf *d, const char *href, const char *attr, const char *value, od_err *e)
{
	size_t st, en;
	if (find_file_tag(d->data, d->len, href, &st, &en) < 0)
		return od_err_set(e, OD_E_INVALID, "cannot find the File element of '%s' in the descriptor to edit it", href);
	/* The prefix: the attribute name before ":href=". */
	const char *hp = strstr(d->data + st, ":href=");
	const char *ps = hp;
	while (ps > d->data + st && ps[-1] != ' ' && ps[-1] != '\t' && ps[-1] != '\n' && ps[-1] != '\r')
		ps--;
	char prefix[64];
	size_t pn = (size_t)(hp - ps);
	if (pn == 0 || pn >= sizeof prefix)
		return od_err_set(e, OD_E_INVALID, "odd href attribute of '%s'", href);
	memcpy(prefix, ps, pn);
	prefix[pn] = 0;
	char name[128];
	snprintf(name, sizeof name, " %s:%s=", prefix, attr);
	od_buf out = {0};
	/* Remove the attribute if present (with either quote). */
	char *tag = od_strndup(d->data + st, en - st);
	if (!tag)
		return od_err_nomem(e);
	char *a = NULL;
	for (char *s = tag; (s = strstr(s, name + 1)) != NULL; s++)
		if (s > tag && (s[-1] == ' ' || s[-1] == '\t' || s[-1] == '\n' || s[-1] == '\r')) {
			a = s - 1;
			break;
		}
	if (a) {
		char *v = a + strlen(name);
		char q = *v;
		char *ve = (q == '"' || q == '\'') ? strchr(v + 1, q) : NULL;
		if (!ve) {
			free(tag);
			return od_err_set(e, OD_E_INVALID, "odd %s attribute of '%s'", attr, href);
		}
		memmove(a, ve + 1, strlen(ve + 1) + 1);
	}
	/* Trim the blanks before the tag end so that the new attribute reads
	 * naturally, then append. */
	size_t tl = strlen(tag);
	int rc = od_buf_append(&out, d->data, st) | od_buf_append(&out, tag, tl);
	if (value)
		rc |= od_buf_printf(&out, "%s\"%s\"", name, value);
	rc |= od_buf_append(&out, d->data + en, d->len - en);
	free(tag);
	if (rc < 0) {
		od_buf_free(&out);
		return od_err_nomem(e);
	}
	od_buf_free(d);
	*d = out;
	return 0;
}

/* ---- compression ------------------------------------------------------------ */

struct gz_ctx {
	z_stream z;
	int fd;
	const char *path;
	unsigned char out[256 * 1024];
};

static int gz_write(struct gz_ctx *g, int flush, od_err *e)
{
	int r;
	do {
		g->z.next_out = g->out;
		g->z.avail_out = sizeof g->out;
		r = deflate(&g->z, flush);
		if (r == Z_STREAM_ERROR)
			return od_err_set(e, OD_E_INTERNAL, "deflate failed");
		size_t n = sizeof g->out - g->z.avail_out;
		if (n && od_write_all(g->fd, g->out, n, g->path, e) < 0)
			return -1;
	} while (g->z.avail_out == 0 || (flush == Z_FINISH && r != Z_STREAM_END));
	return 0;
}

static int gz_data(void *ctx, const void *buf, size_t len, od_err *e)
{
	struct gz_ctx *g = ctx;
	g->z.next_in = (unsigned char *)buf;
	g->z.avail_in = (unsigned)len; /* pieces are at most IO_CHUNK */
	return gz_write(g, Z_NO_FLUSH, e);
}

/* Compress a References file (chunks joined) into a temporary file beside
 * the output; returns its path, size and fd.  The fd stays open until the
 * temporary is removed: it holds the lock that tells a later pack to the
 * same output that this temporary is not a killed run's (od_tmp_clean). */
static int compress_file(const ovf_package *p, const struct ovf_file *f, const char *outdir, const char *outbase,
			 char **tmp, int *tmpfd, uint64_t *size, od_err *e)
{
	*tmpfd = -1;
	*tmp = od_asprintf("%s/.%s.gz-XXXXXX.tmp", outdir, outbase);
	if (!*tmp)
		return od_err_nomem(e);
	struct gz_ctx *g = calloc(1, sizeof *g);
	if (!g)
		return od_err_nomem(e);
	size_t tl = strlen(*tmp);
	for (int tries = 0;; tries++) {
		memcpy(*tmp + tl - 10, "XXXXXX", 6);
		g->fd = mkostemps(*tmp, 4, O_CLOEXEC);
		if (g->fd < 0) {
			int err = errno;
			free(g);
			return od_err_errno(e, err, "%s", *tmp);
		}
		int lr = od_tmp_lock(g->fd, *tmp, e);
		if (lr == 0)
			break;
		close(g->fd);
		if (lr < 0 || tries == 8) {
			if (lr < 0)
				unlink(*tmp);
			else
				od_err_set(e, OD_E_IO, "%s: temporary files keep disappearing", *tmp);
			free(g);
			return -1;
		}
	}
	g->path = *tmp;
	/* gzip wrapper (16 + window bits), level 6: zlib's default balance. */
	if (deflateInit2(&g->z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		close(g->fd);
		free(g);
		return od_err_set(e, OD_E_INTERNAL, "deflateInit2 failed");
	}
	struct ovf_file plain = *f;
	plain.compression = NULL;
	int rc = ovf_package_read_file(p, &plain, gz_data, g, e);
	if (rc == 0) {
		g->z.next_in = NULL;
		g->z.avail_in = 0;
		rc = gz_write(g, Z_FINISH, e);
	}
	deflateEnd(&g->z);
	struct stat st;
	if (rc == 0 && fstat(g->fd, &st) < 0)
		rc = od_err_errno(e, errno, "%s", *tmp);
	if (rc == 0)
		*size = (uint64_t)st.st_size;
	*tmpfd = g->fd;
	free(g);
	return rc;
}

/* ---- the plan ---------------------------------------------------------------- */

static time_t mtime_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_mtime : time(NULL);
}

static char *dir_of(const char *path)
{
	const char *s = strrchr(path, '/');
	if (!s)
		return od_strdup(".");
	if (s == path)
		return od_strdup("/");
	return od_strndup(path, (size_t)(s - path));
}

static int build_plan(const ovf_package *p, const struct ovf_pack_opts *o, const char *out, od_buf *desc,
		      struct plan *pl, struct ovf_warnings *w, od_err *e)
{
	char *outdir = dir_of(out);
	if (!outdir)
		return od_err_nomem(e);
	const char *outbase = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < p->env->nfiles; i++) {
		const struct ovf_file *f = &p->env->files[i];
		if (!f->href || strstr(f->href, "://")) {
			ovf_warn(w, "file '%s' is remote; it is not packed", f->href ? f->href : "?");
			continue;
		}
		const struct ovf_member **v;
		size_t n;
		if (ovf_package_file_members(p, f, &v, &n, e) < 0) {
			rc = -1;
			break;
		}
		uint64_t total = 0;
		for (size_t j = 0; j < n; j++)
			total += v[j]->size;
		if (f->has_size && f->size != total) {
			rc = od_err_set(e, OD_E_INVALID, "'%s' is %llu bytes but ovf:size says %llu; refusing to pack it",
					f->href, (unsigned long long)total, (unsigned long long)f->size);
			free(v);
			break;
		}
		bool compress = o->compress && !ovf__is_gzip(f);
		if (o->compress && ovf__is_gzip(f))
			ovf_warn(w, "'%s' is already gzip-compressed; packed as it is", f->href);
		/* A file already in chunks is kept as it is unless compression
		 * joins it into one stream first. */
		bool single = compress || (n == 1 && !f->has_chunk_size);
		if (o->chunk_size > 0 && !single)
			ovf_warn(w, "'%s' is already chunked; its chunks are packed as they are", f->href);
		const char *src = v[0]->path;
		uint64_t src_off = v[0]->offset, size = total;
		time_t mt = mtime_of(v[0]->path);
		if (compress) {
			char *tmp = NULL;
			int tmpfd = -1;
			int cr = compress_file(p, f, outdir, outbase, &tmp, &tmpfd, &size, e);
			char **nt = tmp ? realloc(pl->temps, (pl->ntemps + 1) * sizeof *nt) : NULL;
			if (nt)
				pl->temps = nt;
			int *nf = nt ? realloc(pl->tempfds, (pl->ntemps + 1) * sizeof *nf) : NULL;
			if (nf)
				pl->tempfds = nf;
			if (!nt || !nf) {
				if (tmp)
					unlink(tmp);
				if (tmpfd >= 0)
					close(tmpfd);
				free(tmp);
				free(v);
				rc = cr < 0 ? -1 : od_err_nomem(e);
				break;
			}
			pl->tempfds[pl->ntemps] = tmpfd;
			pl->temps[pl->ntemps++] = tmp;
			if (cr < 0) {
				free(v);
				rc = -1;
				break;
			}
			src = tmp;
			src_off = 0;
			char num[32];
			snprintf(num, sizeof num, "%llu", (unsigned long long)size);
			if (set_file_attr(desc, f->href, "compression", "gzip", e) < 0 ||
			    set_file_attr(desc, f->href, "size", num, e) < 0 ||
			    set_file_attr(desc, f->href, "chunkSize", NULL, e) < 0) {
				free(v);
				rc = -1;
				break;
			}
		}
		if (single && o->chunk_size > 0 && size > o->chunk_size) {
			char num[32];
			snprintf(num, sizeof num, "%llu", (unsigned long long)o->chunk_size);
			if (!f->has_size && !compress) {
				char sz[32];
				snprintf(sz, sizeof sz, "%llu", (unsigned long long)size);
				rc = set_file_attr(desc, f->href, "size", sz, e);
			}
			if (rc == 0)
				rc = set_file_attr(desc, f->href, "chunkSize", num, e);
			for (uint64_t off = 0, c = 0; rc == 0 && off < size; off += o->chunk_size, c++) {
				char cn[OVF_NAME_MAX + 16];
				snprintf(cn, sizeof cn, "%s.%09llu", f->href, (unsigned long long)c);
				uint64_t len = size - off < o->chunk_size ? size - off : o->chunk_size;
				rc = plan_add(pl, cn, src, src_off + off, len, mt, e);
			}
		} else if (single) {
			rc = plan_add(pl, f->href, src, src_off, size, mt, e);
		} else {
			for (size_t j = 0; rc == 0 && j < n; j++)
				rc = plan_add(pl, v[j]->name, v[j]->path, v[j]->offset, v[j]->size, mt, e);
		}
		free(v);
	}
	free(outdir);
	return rc;
}

/* ---- writing ----------------------------------------------------------------- */

/* Everything goes through a sequential writer (od_seqw) in its O_DIRECT
 * mode, with several writes in flight, so the disk works while we read and
 * hash, and with --sync the final fsync has little left to do.  Without
 * --sync (the default) only the fsyncs are skipped: buffered writes cost
 * a CPU for the copy into the page cache, which the hasher needs on a busy
 * machine (bench/verify.sh, 1 GiB, 2 shared CPUs: 1.95 s buffered against
 * 0.93 s with O_DIRECT, tar + openssl dgst 1.8-2.7 s). */
struct writer {
	od_seqw *sw;
	uint64_t off;
	const char *out;
	od_progress_fn progress;
	void *pctx;
	uint64_t done, total;
};

static int put(struct writer *wr, const void *p, size_t n, od_err *e)
{
	if (od_seqw_write(wr->sw, p, n, e) < 0)
		return -1;
	wr->off += n;
	return 0;
}

static int pad(struct writer *wr, uint64_t size, od_err *e)
{
	static const unsigned char zero[BLOCK];
	size_t r = (size_t)(size % BLOCK);
	return r ? put(wr, zero, BLOCK - r, e) : 0;
}

static int put_header(struct writer *wr, const char *name, uint64_t size, time_t mt, struct ovf_warnings *w,
		      od_err *e)
{
	unsigned char h[BLOCK];
	if (ovf__tar_header(h, name, size, mt, w, e) < 0)
		return -1;
	return put(wr, h, BLOCK, e);
}

/* Reserve `blocks` zero blocks, returning where they start. */
static int reserve(struct writer *wr, uint64_t bytes, uint64_t *at, od_err *e)
{
	static const unsigned char zero[BLOCK];
	*at = wr->off;
	for (uint64_t b = 0; b < (bytes + BLOCK - 1) / BLOCK; b++)
		if (put(wr, zero, BLOCK, e) < 0)
			return -1;
	return 0;
}

/* Each member is read once: pread into one of our buffers, handed to the
 * writer (durable: a copy into its aligned buffer, its threads write) and
 * to a hasher thread.  Reading, hashing and writing then overlap, so a member costs
 * about the slowest of the three instead of their sum.  (copy_file_range
 * spared the copy but read the source twice, once more for the hash, and
 * left the kernel to write the package out at the fsync.)  The ring holds
 * NBUF buffers; the copier fills one, queues it, and the hasher gives it
 * back once digested. */
#define NBUF 4

struct hpipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *buf[NBUF];
	size_t len[NBUF];
	unsigned head, count;   /* next buffer to fill; buffers queued for hashing */
	bool stop;
	ovf_hasher *h;
	bool failed;
	od_err err;
};

static void *hasher_main(void *arg)
{
	struct hpipe *hp = arg;
	pthread_mutex_lock(&hp->mu);
	for (;;) {
		while (hp->count == 0 && !hp->stop)
			pthread_cond_wait(&hp->cv, &hp->mu);
		if (hp->count == 0)
			break;
		unsigned i = (hp->head + NBUF - hp->count) % NBUF;
		pthread_mutex_unlock(&hp->mu);
		od_err e;
		bool bad = !hp->failed && ovf_hasher_update(hp->h, hp->buf[i], hp->len[i], &e) < 0;
		pthread_mutex_lock(&hp->mu);
		if (bad) {
			hp->failed = true;
			hp->err = e;
		}
		hp->count--;
		pthread_cond_broadcast(&hp->cv);
	}
	pthread_mutex_unlock(&hp->mu);
	return NULL;
}

static int copy_member(struct writer *wr, struct out_member *m, unsigned algs, char **bufs, od_err *e)
{
	int fd = open(m->src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return od_err_errno(e, errno, "%s", m->src);
	posix_fadvise(fd, (off_t)m->off, (off_t)m->size, POSIX_FADV_SEQUENTIAL);
	struct hpipe hp = {.h = ovf_hasher_new(algs, e)};
	if (!hp.h) {
		close(fd);
		return -1;
	}
	for (int i = 0; i < NBUF; i++)
		hp.buf[i] = bufs[i];
	pthread_mutex_init(&hp.mu, NULL);
	pthread_cond_init(&hp.cv, NULL);
	pthread_t th;
	bool threaded = pthread_create(&th, NULL, hasher_main, &hp) == 0;
	int rc = 0;
	for (uint64_t done = 0; rc == 0 && done < m->size;) {
		size_t n = m->size - done < IO_CHUNK ? (size_t)(m->size - done) : IO_CHUNK;
		unsigned i;
		pthread_mutex_lock(&hp.mu);
		while (hp.count == NBUF)
			pthread_cond_wait(&hp.cv, &hp.mu);
		i = hp.head;
		pthread_mutex_unlock(&hp.mu);
		/* A short read means the file shrank under us: an error, not
		 * a silently short member. */
		rc = od_pread_all(fd, hp.buf[i], n, m->off + done, m->src, e);
		if (rc == 0)
			rc = put(wr, hp.buf[i], n, e);
		if (rc == 0 && !threaded)
			rc = ovf_hasher_update(hp.h, hp.buf[i], n, e);
		else if (rc == 0) {
			pthread_mutex_lock(&hp.mu);
			hp.len[i] = n;
			hp.head = (hp.head + 1) % NBUF;
			hp.count++;
			pthread_cond_broadcast(&hp.cv);
			pthread_mutex_unlock(&hp.mu);
		}
		done += n;
		wr->done += n;
		if (rc == 0 && wr->progress)
			wr->progress(wr->pctx, wr->done, wr->total);
	}
	if (threaded) {
		pthread_mutex_lock(&hp.mu);
		hp.stop = true;
		pthread_cond_broadcast(&hp.cv);
		pthread_mutex_unlock(&hp.mu);
		pthread_join(th, NULL); /* drains the queue first */
	}
	if (rc == 0 && hp.failed) {
		*e = hp.err;
		rc = -1;
	}
	for (int a = OVF_DIGEST_SHA1; rc == 0 && a <= OVF_DIGEST_SHA512; a++)
		if (algs & (1u << a))
			rc = ovf_hasher_final(hp.h, a, m->digest[a], e);
	ovf_hasher_free(hp.h);
	pthread_cond_destroy(&hp.cv);
	pthread_mutex_destroy(&hp.mu);
	close(fd);
	if (rc == 0)
		rc = pad(wr, m->size, e);
	return rc;
}

static char *sibling(const char *ovfname, const char *ext)
{
	size_t n = strlen(ovfname);
	if (n >= 4 && !strcasecmp(ovfname + n - 4, ".ovf"))
		n -= 4;
	return od_asprintf("%.*s%s", (int)n, ovfname, ext);
}

int ovf_pack(const char *src, const char *out, const struct ovf_pack_opts *o, struct ovf_warnings *w, od_err *e)
{
	static const struct ovf_pack_opts defaults = {0};
	if (!o)
		o = &defaults;
	ovf_package *p = ovf_package_open(src, e);
	if (!p)
		return -1;
	for (size_t i = 0; i < p->warnings.n; i++)
		ovf_warn(w, "%s", p->warnings.v[i]);

	int rc = -1;
	struct plan pl = {0};
	od_buf desc = {0}, mftext = {0}, certtext = {0};
	struct ovf_manifest srcmf = {0};
	char *bufs[NBUF] = {0}, *mfname = NULL, *certname = NULL;
	od_atomic_file af = {.fd = -1};
	bool af_open = false;
	od_seqw *sw = NULL;

	/* The descriptor's own name in the OVA: its base name. */
	const char *dname = strrchr(p->descriptor_member->name, '/');
	dname = dname ? dname + 1 : p->descriptor_member->name;
	mfname = sibling(dname, ".mf");
	certname = sibling(dname, ".cert");
	bool bufs_ok = true;
	for (int i = 0; i < NBUF; i++)
		bufs_ok &= (bufs[i] = malloc(IO_CHUNK)) != NULL;
	if (!mfname || !certname || !bufs_ok || od_buf_append(&desc, p->descriptor, p->descriptor_len) < 0) {
		od_err_nomem(e);
		goto out;
	}
	if (build_plan(p, o, out, &desc, &pl, w, e) < 0)
		goto out;
	bool desc_changed = desc.len != p->descriptor_len || memcmp(desc.data, p->descriptor, desc.len);

	/* Keep the source manifest (and certificate) when it describes exactly
	 * what we pack: then OVF directory and OVA hold identical members. */
	bool reuse_mf = false;
	unsigned algs = 0;
	enum ovf_digest_alg alg = o->digest ? o->digest : OVF_DIGEST_SHA256;
	if (!o->digest && p->manifest && !desc_changed) {
		od_err me;
		if (ovf_manifest_parse(p->manifest, p->manifest_len, p->manifest_member->name, &srcmf, NULL, &me) == 0) {
			bool exact = srcmf.n == pl.n + 1 && ovf_manifest_find(&srcmf, dname);
			for (size_t i = 0; exact && i < pl.n; i++)
				if (!ovf_manifest_find(&srcmf, pl.v[i].name))
					exact = false;
			if (exact) {
				reuse_mf = true;
				for (size_t i = 0; i < srcmf.n; i++)
					algs |= 1u << srcmf.v[i].alg;
			} else
				ovf_warn(w, "%s: does not list exactly the packed files; a new manifest is written",
					 p->manifest_member->name);
		} else
			ovf_warn(w, "%s; a new manifest is written", me.msg);
	}
	if (!reuse_mf)
		algs = 1u << alg;
	bool reuse_cert = reuse_mf && p->cert && !o->sign_key;
	if (p->cert && !reuse_cert && !o->sign_key)
		ovf_warn(w, "%s: dropped: the manifest it signs is rewritten (sign again with --sign)",
			 p->cert_member->name);

	uint64_t mf_len = 0;
	if (reuse_mf)
		mf_len = p->manifest_len;
	else {
		mf_len = ovf_manifest_line_len(alg, dname);
		for (size_t i = 0; i < pl.n; i++)
			mf_len += ovf_manifest_line_len(alg, pl.v[i].name);
	}
	/* The signature uses the manifest's algorithm, as ovftool does. */
	enum ovf_digest_alg sign_alg = reuse_mf ? OVF_DIGEST_SHA256 : alg;
	size_t cert_max = 0;
	if (o->sign_key && ovf_cert_sign_max(o->sign_key, o->sign_cert, sign_alg, mfname, &cert_max, e) < 0)
		goto out;

	if (od_atomic_open(&af, out, 0644, e) < 0)
		goto out;
	af_open = true;
	af.no_sync = o->no_sync;
	struct writer wr = {.out = out, .progress = o->progress, .pctx = o->progress_ctx};
	for (size_t i = 0; i < pl.n; i++)
		wr.total += pl.v[i].size;
	/* The package's size, for the writer to reserve: headers, padded
	 * members, the two zero blocks.  0 (unknown) if it overflows. */
	uint64_t pkg_size = 0;
	{
		uint64_t sizes[3] = {desc.len, mf_len, reuse_cert ? p->cert_len : o->sign_key ? cert_max : 0};
		bool okz = true;
		for (size_t i = 0; okz && i < 3 + pl.n; i++) {
			uint64_t sz = i < 3 ? sizes[i] : pl.v[i - 3].size;
			if (i == 2 && !reuse_cert && !o->sign_key)
				continue;
			uint64_t padded;
			okz = od_add_u64(sz, BLOCK - 1, &padded) && od_add_u64(pkg_size, BLOCK + padded / BLOCK * BLOCK, &pkg_size);
		}
		if (!okz || !od_add_u64(pkg_size, 2 * BLOCK, &pkg_size))
			pkg_size = 0;
	}
	wr.sw = od_seqw_new(af.fd, 0, pkg_size, true /* O_DIRECT, whether or not we fsync */, out, e);
	if (!wr.sw)
		goto out;
	sw = wr.sw;
	time_t dmt = mtime_of(p->descriptor_member->path);
	if (p->kind == OVF_PKG_OVA)
		dmt = time(NULL);

	/* 1. descriptor */
	if (put_header(&wr, dname, desc.len, dmt, w, e) < 0 || put(&wr, desc.data, desc.len, e) < 0 ||
	    pad(&wr, desc.len, e) < 0)
		goto out;
	/* 2. manifest slot */
	uint64_t mf_at, cert_hdr_at = 0, cert_at = 0;
	if (put_header(&wr, mfname, mf_len, dmt, w, e) < 0)
		goto out;
	if (reuse_mf) {
		mf_at = wr.off;
		if (put(&wr, p->manifest, p->manifest_len, e) < 0 || pad(&wr, p->manifest_len, e) < 0)
			goto out;
	} else if (reserve(&wr, mf_len, &mf_at, e) < 0)
		goto out;
	/* 3. certificate */
	if (reuse_cert) {
		if (put_header(&wr, certname, p->cert_len, dmt, w, e) < 0 || put(&wr, p->cert, p->cert_len, e) < 0 ||
		    pad(&wr, p->cert_len, e) < 0)
			goto out;
	} else if (o->sign_key) {
		cert_hdr_at = wr.off;
		if (put_header(&wr, certname, cert_max, dmt, w, e) < 0 || reserve(&wr, cert_max, &cert_at, e) < 0)
			goto out;
	}
	/* 4. files, hashed as they are copied */
	for (size_t i = 0; i < pl.n; i++) {
		if (put_header(&wr, pl.v[i].name, pl.v[i].size, pl.v[i].mtime, w, e) < 0 ||
		    copy_member(&wr, &pl.v[i], algs, bufs, e) < 0)
			goto out;
	}
	/* 5. end of archive: two zero blocks */
	{
		uint64_t at;
		if (reserve(&wr, 2 * BLOCK, &at, e) < 0)
			goto out;
	}
	/* Everything written; the slots below are patched with plain pwrite. */
	if (od_seqw_finish(sw, e) < 0)
		goto out;
	if (pkg_size && od_seqw_offset(sw) != pkg_size) {
		od_err_set(e, OD_E_INTERNAL, "package is %llu bytes, %llu were expected",
			   (unsigned long long)od_seqw_offset(sw), (unsigned long long)pkg_size);
		goto out;
	}

	/* The manifest, now that every digest is known. */
	unsigned char ddig[4][OVF_DIGEST_MAX];
	{
		ovf_hasher *h = ovf_hasher_new(algs, e);
		if (!h || ovf_hasher_update(h, desc.data, desc.len, e) < 0) {
			ovf_hasher_free(h);
			goto out;
		}
		for (int a = OVF_DIGEST_SHA1; a <= OVF_DIGEST_SHA512; a++)
			if ((algs & (1u << a)) && ovf_hasher_final(h, a, ddig[a], e) < 0) {
				ovf_hasher_free(h);
				goto out;
			}
		ovf_hasher_free(h);
	}
	if (reuse_mf) {
		/* Refuse to pack files that do not match their manifest. */
		for (size_t i = 0; i < srcmf.n; i++) {
			const struct ovf_manifest_entry *me = &srcmf.v[i];
			const unsigned char *got = NULL;
			if (!strcmp(me->name, dname))
				got = ddig[me->alg];
			for (size_t j = 0; !got && j < pl.n; j++)
				if (!strcmp(pl.v[j].name, me->name))
					got = pl.v[j].digest[me->alg];
			if (!got || memcmp(got, me->digest, ovf_digest_len(me->alg))) {
				od_err_set(e, OD_E_INVALID, "%s: the %s digest of '%s' does not match the file; refusing to pack it",
					   p->manifest_member->name, ovf_digest_name(me->alg), me->name);
				goto out;
			}
		}
	} else {
		if (ovf_manifest_line(&mftext, alg, dname, ddig[alg]) < 0) {
			od_err_nomem(e);
			goto out;
		}
		for (size_t i = 0; i < pl.n; i++)
			if (ovf_manifest_line(&mftext, alg, pl.v[i].name, pl.v[i].digest[alg]) < 0) {
				od_err_nomem(e);
				goto out;
			}
		if (mftext.len != mf_len) {
			od_err_set(e, OD_E_INTERNAL, "manifest is %zu bytes, %llu were reserved", mftext.len,
				   (unsigned long long)mf_len);
			goto out;
		}
		if (od_pwrite_all(af.fd, mftext.data, mftext.len, mf_at, out, e) < 0)
			goto out;
	}
	if (o->sign_key) {
		const char *mf = reuse_mf ? p->manifest : mftext.data;
		size_t mfl = reuse_mf ? p->manifest_len : mftext.len;
		/* An ECDSA signature's DER length varies by a few bytes; the
		 * slot's block count is fixed, so sign again (the signature is
		 * randomised) in the rare case the text crosses a block. */
		int t;
		for (t = 0; t < SIGN_TRIES; t++) {
			certtext.len = 0;
			if (ovf_cert_sign(o->sign_key, o->sign_cert, sign_alg, mfname, mf, mfl, &certtext, e) < 0)
				goto out;
			if (certtext.len <= cert_max &&
			    (certtext.len + BLOCK - 1) / BLOCK == (cert_max + BLOCK - 1) / BLOCK)
				break;
		}
		if (t == SIGN_TRIES) {
			od_err_set(e, OD_E_INTERNAL, "signature does not fit the reserved space");
			goto out;
		}
		unsigned char h[BLOCK];
		if (ovf__tar_header(h, certname, certtext.len, dmt, w, e) < 0 ||
		    od_pwrite_all(af.fd, h, BLOCK, cert_hdr_at, out, e) < 0 ||
		    od_pwrite_all(af.fd, certtext.data, certtext.len, cert_at, out, e) < 0)
			goto out;
		/* zero the rest of the slot: it was zero already */
	}
	if (od_atomic_commit(&af, e) < 0) {
		af_open = false;
		goto out;
	}
	af_open = false;
	rc = 0;
out:
	od_seqw_free(sw);
	if (af_open)
		od_atomic_abort(&af);
	plan_free(&pl);
	ovf_manifest_free(&srcmf);
	od_buf_free(&desc);
	od_buf_free(&mftext);
	od_buf_free(&certtext);
	for (int i = 0; i < NBUF; i++)
		free(bufs[i]);
	free(mfname);
	free(certname);
	ovf_package_close(p);
	return rc;
}
