/* convert.c - whole-image conversion and comparison, generic over the
 * driver table.
 *
 * Both walk the source through disk_map, so holes and zero clusters cost
 * nothing: they are neither read nor written (every new image starts out
 * reading as zeros).  Data is read in windows of WIN bytes aligned in guest
 * space, which suits every writer: whole clusters and grains, at increasing
 * offsets, as the compressed and stream-optimized writers require. */
#include "config.h"
#include "disk/driver.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WIN (2u << 20) /* a multiple of every cluster and grain size */

static bool is_zero(const unsigned char *p, size_t n)
{
	static const unsigned char z[16];
	if (n < 16)
		return memcmp(p, z, n) == 0;
	return memcmp(p, z, 16) == 0 && memcmp(p, p + 16, n - 16) == 0;
}

/* A window holds at most this many granules (WIN / the smallest granule):
 * one bit each in a window's data mask. */
#define GRAN_MIN 65536u
_Static_assert(WIN / GRAN_MIN <= 64, "a window's granules must fit a uint64_t mask");

/* Fill `buf` with guest bytes [off, off+n), in granules of `gran` bytes
 * from `off`: data runs are read, and *mask gets bit i for every granule i
 * that holds some.  Only those granules are complete afterwards (their
 * holes zeroed); the others keep whatever the buffer held before and must
 * be taken as zeros.  Zeroing every hole cost a memset of the whole
 * unallocated part of the image, plus the writer's zero check over it,
 * for granules that are known to be zero anyway.
 *
 * Every hole extent zeroes only its first and last partial granules: a
 * granule the hole covers entirely cannot hold data, and any other granule
 * it touches is one of those two. */
static int read_window(disk *src, unsigned char *buf, uint64_t off, size_t n, size_t gran, uint64_t *mask,
		       od_err *e)
{
	*mask = 0;
	uint64_t pos = off, end = off + n;
	while (pos < end) {
		struct disk_extent x;
		if (disk_map(src, pos, end - pos, &x, e) < 0)
			return -1;
		size_t a = (size_t)(pos - off), b = a + (size_t)x.len;
		if (x.kind == DISK_EXT_DATA) {
			if (disk_pread(src, buf + a, (size_t)x.len, pos, e) < 0)
				return -1;
			for (size_t g = a / gran; g <= (b - 1) / gran; g++)
				*mask |= 1ull << g;
		} else {
			size_t head = (a + gran - 1) / gran * gran; /* first granule boundary >= a */
			size_t tail = b / gran * gran;              /* last granule boundary <= b */
			if (head >= tail) {
				memset(buf + a, 0, b - a); /* inside one granule */
			} else {
				memset(buf + a, 0, head - a);
				memset(buf + tail, 0, b - tail);
			}
		}
		pos += x.len;
	}
	return 0;
}

/* Reading runs ahead of writing on NREAD threads of its own, each taking
 * every NREAD-th window, so that decompressing and waiting for the source
 * overlap writing (and the writer's compression) instead of adding to it.
 * NSLOT windows bound the memory; the writer consumes them in order. */
#define NREAD 2
#define NSLOT 4 /* a multiple of NREAD: each reader owns its own slots */

struct reader {
	disk *src;
	uint64_t size;
	pthread_mutex_t m;
	pthread_cond_t cv;
	unsigned char *buf[NSLOT];
	size_t gran;
	bool full[NSLOT];
	uint64_t mask[NSLOT]; /* granules holding data (read_window) */
	bool stop, failed;
	od_err err;
};

struct reader_arg {
	struct reader *r;
	unsigned first, step;
};

/* Several readers share the source: only for drivers known to take
 * concurrent calls (raw is stateless, qcow2 locks), down the whole chain. */
static unsigned reader_count(disk *src)
{
	for (disk *l = src; l; l = disk_backing(l))
		if (strcmp(disk_format(l), "raw") && strcmp(disk_format(l), "qcow2"))
			return 1;
	return NREAD;
}

static void *reader_main(void *arg)
{
	struct reader_arg *ra = arg;
	struct reader *r = ra->r;
	uint64_t i = ra->first;
	for (uint64_t off = i * (uint64_t)WIN; off < r->size; i += ra->step, off = i * (uint64_t)WIN) {
		unsigned k = (unsigned)(i % NSLOT);
		pthread_mutex_lock(&r->m);
		while (r->full[k] && !r->stop)
			pthread_cond_wait(&r->cv, &r->m);
		bool stop = r->stop || r->failed;
		pthread_mutex_unlock(&r->m);
		if (stop)
			break;
		size_t n = r->size - off < WIN ? (size_t)(r->size - off) : WIN;
		uint64_t mask;
		od_err e;
		int rc = read_window(r->src, r->buf[k], off, n, r->gran, &mask, &e);
		pthread_mutex_lock(&r->m);
		if (rc < 0) {
			if (!r->failed) {
				r->failed = true;
				r->err = e;
				od_err_prefix(&r->err, "%s", disk_name(r->src));
			}
		} else {
			r->full[k] = true;
			r->mask[k] = mask;
		}
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->m);
		if (rc < 0)
			break;
	}
	return NULL;
}

/* Writes go out in pieces of at most WCHUNK bytes, cut at multiples of it
 * (of one granule instead when WCHUNK is not a multiple of the granule:
 * compressing writers need whole clusters; WIN is a multiple of both).
 * The size of a buffered write picks the size of the page-cache folios the
 * kernel allocates for it: 2 MiB writes got 2 MiB folios, which must come
 * from the large free blocks a virtualised guest (free page reporting, as
 * here) has handed back to its host, and the first touch of each one then
 * stalls while the host backs it again.  That made qcow2 -> raw cost
 * 350..1300 ms of CPU from run to run; with 512 KiB pieces (qemu-img's
 * writes get 512 KiB-1 MiB folios too) it stays at 330..450 ms. */
#define WCHUNK (512u << 10)

static int write_run(disk *dst, const unsigned char *buf, size_t len, uint64_t off, size_t gran, od_err *e)
{
	size_t chunk = WCHUNK % gran == 0 ? WCHUNK : gran;
	while (len) {
		size_t n = chunk - (size_t)(off % chunk);
		if (n > len)
			n = len;
		if (disk_pwrite(dst, buf, n, off, e) < 0)
			return -1;
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* Write one window, skipping all-zero granules (those without data in
 * `mask` are zero without looking: see read_window). */
static int write_window(disk *dst, const unsigned char *buf, uint64_t off, size_t n, size_t gran, uint64_t mask,
			od_err *e)
{
	size_t run_start = 0, run_len = 0;
	for (size_t g = 0, i = 0; g < n; g += gran, i++) {
		size_t gl = n - g < gran ? n - g : gran;
		if (!(mask >> i & 1) || is_zero(buf + g, gl)) {
			if (run_len && write_run(dst, buf + run_start, run_len, off + run_start, gran, e) < 0)
				return -1;
			run_len = 0;
			continue;
		}
		if (!run_len)
			run_start = g;
		run_len += gl;
	}
	if (run_len && write_run(dst, buf + run_start, run_len, off + run_start, gran, e) < 0)
		return -1;
	return 0;
}

int disk_convert(disk *src, const char *dst_path, const struct disk_convert_opts *o, od_err *e)
{
	const char *fmt = o && o->format ? o->format : "raw";
	struct disk_create_opts copts;
	memset(&copts, 0, sizeof copts);
	if (o)
		copts = o->create;
	uint64_t size = disk_size(src);
	disk *dst = disk_create(dst_path, fmt, size, &copts, e);
	if (!dst)
		return -1;
	/* Writes skip all-zero granules; a granule is a whole output cluster
	 * so that compressing writers get whole clusters. */
	size_t gran = copts.cluster_size > GRAN_MIN ? copts.cluster_size : GRAN_MIN;
	if (gran > WIN)
		gran = WIN;
	struct reader r;
	memset(&r, 0, sizeof r);
	r.src = src;
	r.size = size;
	r.gran = gran;
	pthread_mutex_init(&r.m, NULL);
	pthread_cond_init(&r.cv, NULL);
	int rc = -1;
	unsigned started = 0;
	pthread_t th[NREAD];
	struct reader_arg ra[NREAD];
	for (unsigned k = 0; k < NSLOT; k++)
		if (!(r.buf[k] = disk_io_buf_alloc(WIN))) {
			od_err_nomem(e);
			goto out;
		}
	unsigned nread = reader_count(src);
	for (unsigned t = 0; t < nread; t++) {
		ra[t] = (struct reader_arg){&r, t, nread};
		int perr = pthread_create(&th[t], NULL, reader_main, &ra[t]);
		if (perr) {
			od_err_errno(e, perr, "cannot start a reader thread");
			goto out;
		}
		started++;
	}
	uint64_t i = 0;
	for (uint64_t off = 0; off < size; off += WIN, i++) {
		unsigned k = (unsigned)(i % NSLOT);
		size_t n = size - off < WIN ? (size_t)(size - off) : WIN;
		pthread_mutex_lock(&r.m);
		/* any reader's failure ends the conversion */
		while (!r.full[k] && !r.failed)
			pthread_cond_wait(&r.cv, &r.m);
		bool ready = r.full[k];
		pthread_mutex_unlock(&r.m);
		if (!ready) {
			*e = r.err;
			goto out;
		}
		if (r.mask[k] && write_window(dst, r.buf[k], off, n, gran, r.mask[k], e) < 0)
			goto out;
		/* The output is fsync'ed before it is renamed into place.  Start
		 * writeback as we go, so that the disk works while we convert
		 * and the final sync has little left to do. */
		if (i % 16 == 15 && dst->io.fd >= 0 && !copts.unsafe_cache)
			sync_file_range(dst->io.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		pthread_mutex_lock(&r.m);
		r.full[k] = false;
		pthread_cond_broadcast(&r.cv);
		pthread_mutex_unlock(&r.m);
		if (o && o->progress)
			o->progress(o->progress_ctx, off + n, size);
	}
	if (disk_commit(dst, e) < 0)
		goto out;
	rc = 0;
out:
	pthread_mutex_lock(&r.m);
	r.stop = true;
	pthread_cond_broadcast(&r.cv);
	pthread_mutex_unlock(&r.m);
	for (unsigned t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	for (unsigned k = 0; k < NSLOT; k++)
		free(r.buf[k]);
	pthread_mutex_destroy(&r.m);
	pthread_cond_destroy(&r.cv);
	disk_close(dst); /* discards the temporary file unless committed */
	return rc;
}

/* ---- compare ------------------------------------------------------------- */

static size_t first_nonzero(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n && !p[i])
		i++;
	return i;
}

int disk_compare(disk *a, disk *b, bool *same, uint64_t *first_diff, od_progress_fn progress, void *progress_ctx,
		 od_err *e)
{
	*same = true;
	*first_diff = 0;
	uint64_t sa = disk_size(a), sb = disk_size(b);
	uint64_t common = sa < sb ? sa : sb, total = sa > sb ? sa : sb;
	size_t chunk = 1u << 20;
	unsigned char *x = disk_io_buf_alloc(chunk), *y = disk_io_buf_alloc(chunk);
	int rc = -1;
	if (!x || !y) {
		od_err_nomem(e);
		goto out;
	}
	uint64_t off = 0;
	while (off < total) {
		/* Beyond the smaller image, the larger one must read as zeros
		 * (as qemu-img compare without --strict). */
		disk *only = off >= common ? (sa > sb ? a : b) : NULL;
		uint64_t lim = off < common ? common : total;
		struct disk_extent ea, eb;
		uint64_t n;
		bool a_data, b_data;
		if (only) {
			if (disk_map(only, off, lim - off, &ea, e) < 0)
				goto out;
			n = ea.len;
			a_data = ea.kind == DISK_EXT_DATA;
			b_data = false;
		} else {
			if (disk_map(a, off, lim - off, &ea, e) < 0 || disk_map(b, off, lim - off, &eb, e) < 0)
				goto out;
			n = ea.len < eb.len ? ea.len : eb.len;
			a_data = ea.kind == DISK_EXT_DATA;
			b_data = eb.kind == DISK_EXT_DATA;
		}
		if (n > chunk)
			n = chunk;
		if (a_data || b_data) {
			disk *ra = only ? only : a;
			if (a_data && disk_pread(ra, x, (size_t)n, off, e) < 0)
				goto out;
			if (b_data && disk_pread(b, y, (size_t)n, off, e) < 0)
				goto out;
			size_t i;
			if (a_data && b_data) {
				if (memcmp(x, y, (size_t)n) != 0) {
					for (i = 0; x[i] == y[i]; i++)
						;
					*same = false;
					*first_diff = off + i;
					break;
				}
			} else {
				unsigned char *p = a_data ? x : y;
				i = first_nonzero(p, (size_t)n);
				if (i < n) {
					*same = false;
					*first_diff = off + i;
					break;
				}
			}
		}
		off += n;
		if (progress)
			progress(progress_ctx, off, total);
	}
	rc = 0;
out:
	free(x);
	free(y);
	return rc;
}
