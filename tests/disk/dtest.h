/* dtest.h - helpers shared by the disk library's Check tests: a scratch
 * directory per test program, shell commands (qemu-img is our oracle),
 * and a test pattern with data, zeros and holes.  The helpers are static
 * inline: no test program uses them all, and none should warn about it. */
#ifndef OD_DTEST_H
#define OD_DTEST_H

#include "disk/disk.h"

#include <check.h>
#include "../check_run.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dt_dir[256];
static pid_t dt_owner;

/* Only the process that made the directory removes it: with Check's fork
 * mode every test runs in a child that inherits this atexit handler. */
static inline void dt_cleanup(void)
{
	char cmd[300];
	if (dt_dir[0] && getpid() == dt_owner) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dt_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dt_dir);
	}
}

static inline void dt_setup(void)
{
	if (dt_dir[0])
		return;
	const char *t = getenv("TMPDIR");
	snprintf(dt_dir, sizeof dt_dir, "%s/od-disk.XXXXXX", t ? t : "/tmp");
	if (!mkdtemp(dt_dir)) {
		perror("mkdtemp");
		exit(1);
	}
	dt_owner = getpid();
	atexit(dt_cleanup);
}

/* Path of a file in the scratch directory (a rotating set of buffers). */
static inline const char *dt_path(const char *name)
{
	static char bufs[8][512];
	static int i;
	char *b = bufs[i++ % 8];
	dt_setup();
	snprintf(b, 512, "%s/%s", dt_dir, name);
	return b;
}

/* Run a shell command in the scratch directory; returns its exit status. */
static inline int dt_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int dt_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	dt_setup();
	int n = snprintf(cmd, sizeof cmd, "cd '%s' && ", dt_dir);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof cmd - n, fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 255;
}

static inline bool dt_have(const char *tool)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

/* A deterministic, non-repeating fill so that misplaced data shows. */
static inline void dt_fill(unsigned char *b, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[i] = (unsigned char)x;
	}
}

/* Write a raw test image of `size` bytes: sparse, with data runs of
 * varying lengths and alignment, explicit zero runs, compressible runs
 * and holes. */
static inline void dt_make_raw(const char *path, uint64_t size)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	unsigned char *b = malloc(1 << 20);
	ck_assert_ptr_nonnull(b);
	uint64_t step = size / 16;
	for (uint64_t i = 0; i < 16; i++) {
		uint64_t off = i * step;
		size_t len;
		switch (i % 4) {
		case 0: /* random data, odd alignment */
			off += 4097;
			len = (size_t)(step / 3);
			if (len > (1 << 20)) len = 1 << 20;
			dt_fill(b, len, i);
			break;
		case 1: /* explicit zeros */
			len = (size_t)(step / 2);
			if (len > (1 << 20)) len = 1 << 20;
			memset(b, 0, len);
			break;
		case 2: /* compressible text */
			len = (size_t)(step / 2);
			if (len > (1 << 20)) len = 1 << 20;
			for (size_t j = 0; j < len; j++)
				b[j] = "ovfdeploy disk test "[j % 20];
			break;
		default: /* hole */
			continue;
		}
		if (off + len > size)
			len = (size_t)(size - off);
		ck_assert(pwrite(fd, b, len, (off_t)off) == (ssize_t)len);
	}
	/* The very last byte, to catch off-by-one at the end. */
	unsigned char last = 0xAB;
	ck_assert(pwrite(fd, &last, 1, (off_t)size - 1) == 1);
	free(b);
	close(fd);
}

/* Compare two images through our library, chunk by chunk. */
static inline void dt_assert_same(disk *a, disk *b)
{
	ck_assert_uint_eq(disk_size(a), disk_size(b));
	size_t chunk = 1 << 20;
	unsigned char *x = malloc(chunk), *y = malloc(chunk);
	od_err e;
	for (uint64_t off = 0; off < disk_size(a); off += chunk) {
		size_t n = disk_size(a) - off < chunk ? (size_t)(disk_size(a) - off) : chunk;
		if (disk_pread(a, x, n, off, &e) < 0)
			ck_abort_msg("%s", e.msg);
		if (disk_pread(b, y, n, off, &e) < 0)
			ck_abort_msg("%s", e.msg);
		if (memcmp(x, y, n) != 0) {
			size_t i = 0;
			while (x[i] == y[i]) i++;
			ck_abort_msg("%s and %s differ at offset %llu", disk_name(a), disk_name(b),
				     (unsigned long long)(off + i));
		}
	}
	free(x);
	free(y);
}

/* Open a file, failing the test with the library's message. */
static inline disk *dt_open(const char *path, unsigned flags)
{
	od_err e;
	disk *d = disk_open(path, flags, &e);
	if (!d)
		ck_abort_msg("open %s: %s", path, e.msg);
	return d;
}

/* Open and expect a failure whose message contains `want`. */
static inline void dt_open_fails(const char *path, const char *want)
{
	od_err e;
	memset(&e, 0, sizeof e);
	disk *d = disk_open(path, DISK_RDONLY, &e);
	if (d) {
		disk_close(d);
		ck_abort_msg("%s opened but should have failed (%s)", path, want);
	}
	if (!strstr(e.msg, want))
		ck_abort_msg("%s: message '%s' lacks '%s'", path, e.msg, want);
}


/* ---- byte patching of test images (for hostile-image tests) ---- */
static inline uint64_t dt_get_be(const char *path, uint64_t off, int width)
{
	unsigned char b[8];
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert(pread(fd, b, (size_t)width, (off_t)off) == width);
	close(fd);
	uint64_t v = 0;
	for (int i = 0; i < width; i++)
		v = (v << 8) | b[i];
	return v;
}

static inline void dt_put_be(const char *path, uint64_t off, int width, uint64_t v)
{
	unsigned char b[8];
	for (int i = width - 1; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)v;
	int fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert(pwrite(fd, b, (size_t)width, (off_t)off) == width);
	close(fd);
}

/* Walk the map of a disk: runs must tile it, and non-data runs must read
 * as zeros.  Returns the number of bytes mapped as data. */
static inline uint64_t dt_check_map(disk *d)
{
	od_err e;
	uint64_t off = 0, data = 0;
	size_t cap = 1 << 20;
	unsigned char *b = malloc(cap);
	int guard = 0;
	while (off < disk_size(d)) {
		struct disk_extent x;
		if (disk_map(d, off, disk_size(d) - off, &x, &e) < 0)
			ck_abort_msg("map %s at %llu: %s", disk_name(d), (unsigned long long)off, e.msg);
		ck_assert_uint_eq(x.off, off);
		ck_assert_uint_gt(x.len, 0);
		if (x.kind == DISK_EXT_DATA) {
			data += x.len;
		} else {
			for (uint64_t p = off; p < off + x.len; p += cap) {
				size_t n = off + x.len - p < cap ? (size_t)(off + x.len - p) : cap;
				if (disk_pread(d, b, n, p, &e) < 0)
					ck_abort_msg("%s", e.msg);
				for (size_t i = 0; i < n; i++)
					if (b[i])
						ck_abort_msg("%s: byte %llu mapped as zero is not", disk_name(d),
							     (unsigned long long)(p + i));
			}
		}
		off += x.len;
		ck_assert_int_lt(++guard, 10000000);
	}
	free(b);
	return data;
}

/* ---- little-endian fields (VMDK) and raw bytes of test images ---- */
static inline void dt_get_bytes(const char *path, void *b, size_t n, uint64_t off)
{
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert(pread(fd, b, n, (off_t)off) == (ssize_t)n);
	close(fd);
}

static inline uint64_t dt_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline void dt_put_le(const char *path, uint64_t off, uint64_t v, int n)
{
	unsigned char b[8];
	for (int i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	int fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert(pwrite(fd, b, (size_t)n, (off_t)off) == n);
	close(fd);
}

/* ---- several threads reading one handle at once ---- */
struct dt_reader {
	disk *d;
	const unsigned char *ref; /* what the whole disk must read as */
	uint64_t size;
	size_t max;               /* longest read */
	bool sequential;          /* mostly sequential runs, with jumps */
	unsigned seed;
	int bad;
};

static inline void *dt_reader_main(void *p)
{
	struct dt_reader *a = p;
	unsigned char *b = malloc(a->max);
	ck_assert_ptr_nonnull(b);
	uint64_t x = a->seed, off = 0;
	od_err e;
	for (int i = 0; i < 300 && !a->bad; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		size_t n = 1 + (size_t)(x >> 20) % a->max;
		if (!a->sequential || (x >> 50) % 8 == 0 || off + n > a->size)
			off = (x >> 33) % (a->size - n);
		if (disk_pread(a->d, b, n, off, &e) < 0 || memcmp(b, a->ref + off, n) != 0)
			a->bad = 1;
		off += n;
	}
	free(b);
	return NULL;
}

/* Four threads read `d` at once, at places and sizes (up to `max` bytes)
 * drawn at random, or mostly in sequence; every read must match `ref`. */
static inline void dt_read_threads(disk *d, const unsigned char *ref, uint64_t size, size_t max, bool sequential)
{
	pthread_t t[4];
	struct dt_reader a[4];
	for (unsigned i = 0; i < 4; i++) {
		a[i] = (struct dt_reader){ d, ref, size, max, sequential, i + 1, 0 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, dt_reader_main, &a[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(a[i].bad == 0, "reader %u read wrong bytes or failed", i);
	}
}

#endif
