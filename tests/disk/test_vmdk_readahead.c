/* test_vmdk_readahead.c - disk_readahead_start: compressed VMDK grains
 * inflated ahead by worker threads must read exactly what inline reads and
 * the source give, whatever the access pattern (sequential, random, partial
 * grains, reads crossing grains, zero and unallocated grains, several reader
 * threads, a qcow2 overlay over the VMDK); a grain a worker fails to read
 * fails the request that needs it and no other; closing while workers are
 * busy is clean; thread_init runs once per worker and its failure is
 * reported.  qemu-img makes the images. */
#include "config.h"
#include "dtest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

#define SZ (6u << 20)
#define G (64u << 10) /* qemu-img's grain */

static atomic_uint inits;
static _Atomic pid_t worker_tid[8];

static int count_init(void *ctx, od_err *e)
{
	(void)ctx, (void)e;
	unsigned i = atomic_fetch_add(&inits, 1);
	if (i < 8)
		atomic_store(&worker_tid[i], (pid_t)syscall(SYS_gettid));
	return 0;
}

/* Wait until every worker has been asleep (waiting for work) at five looks
 * in a row, 10 ms apart: then whatever was queued has been inflated.  A
 * fixed pause is not enough on a loaded machine. */
static void wait_workers_idle(void)
{
	unsigned n = atomic_load(&inits), quiet = 0;
	for (int tries = 0; tries < 3000 && quiet < 5; tries++) {
		bool asleep = true;
		for (unsigned i = 0; i < n && i < 8; i++) {
			char path[64], buf[256];
			snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)atomic_load(&worker_tid[i]));
			int fd = open(path, O_RDONLY);
			ck_assert_int_ge(fd, 0);
			ssize_t r = read(fd, buf, sizeof buf - 1);
			close(fd);
			ck_assert_int_gt(r, 0);
			buf[r] = 0;
			const char *st = strrchr(buf, ')'); /* "tid (comm) S ..." */
			ck_assert_ptr_nonnull(st);
			if (st[2] != 'S')
				asleep = false;
		}
		quiet = asleep ? quiet + 1 : 0;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	ck_assert_msg(quiet >= 5, "the readahead workers never went idle");
}

/* Open `name` with `nthreads` readahead workers. */
static disk *open_ra(const char *name, unsigned nthreads)
{
	disk *d = dt_open(dt_path(name), DISK_RDONLY);
	od_err e;
	atomic_store(&inits, 0);
	ck_assert_msg(disk_readahead_start(d, nthreads, count_init, NULL, &e) == 0, "%s", e.msg);
	return d;
}

/* src.raw (data, zeros, holes, compressible runs) and q.vmdk, a
 * streamOptimized copy by qemu-img; returns the source bytes. */
static unsigned char *make_stream(uint64_t size)
{
	dt_make_raw(dt_path("src.raw"), size);
	ck_assert_int_eq(dt_sh("qemu-img convert -O vmdk -o subformat=streamOptimized src.raw q.vmdk"), 0);
	unsigned char *ref = malloc(size);
	dt_get_bytes(dt_path("src.raw"), ref, size, 0);
	return ref;
}

static void read_check(disk *d, const unsigned char *ref, uint64_t off, size_t n, const char *what)
{
	unsigned char *b = malloc(n ? n : 1);
	memset(b, 0x5a, n);
	od_err e;
	ck_assert_msg(disk_pread(d, b, n, off, &e) == 0, "%s: read %zu at %llu: %s", what, n, (unsigned long long)off,
		      e.msg);
	ck_assert_msg(memcmp(b, ref + off, n) == 0, "%s: read %zu at %llu differs", what, n, (unsigned long long)off);
	free(b);
}

/* Sequential reads of several request sizes, with 1 to 3 workers: the
 * same bytes as the source and as a handle reading inline. */
START_TEST(test_sequential)
{
	unsigned char *ref = make_stream(SZ);
	static const size_t req[] = { G, 4096, 3 * G + 512, 1 << 20 };
	disk *in = dt_open(dt_path("q.vmdk"), DISK_RDONLY);
	unsigned char *x = malloc(1 << 20), *y = malloc(1 << 20);
	for (unsigned t = 1; t <= 3; t++) {
		disk *d = open_ra("q.vmdk", t);
		ck_assert_uint_eq(atomic_load(&inits), t);
		for (unsigned r = 0; r < sizeof req / sizeof req[0]; r++) {
			od_err e;
			for (uint64_t off = 0; off < SZ; off += req[r]) {
				size_t n = SZ - off < req[r] ? (size_t)(SZ - off) : req[r];
				ck_assert_msg(disk_pread(d, x, n, off, &e) == 0, "%s", e.msg);
				ck_assert_msg(disk_pread(in, y, n, off, &e) == 0, "%s", e.msg);
				ck_assert_msg(memcmp(x, ref + off, n) == 0, "%u threads, %zu-byte reads: differs at %llu",
					      t, req[r], (unsigned long long)off);
				ck_assert_int_eq(memcmp(x, y, n), 0);
			}
		}
		disk_close(d);
	}
	disk_close(in);
	free(x), free(y), free(ref);
}
END_TEST

/* Random places and sizes, partial grains and reads crossing grains, and
 * sequential runs broken by jumps back and forth: what a guest does. */
START_TEST(test_random)
{
	unsigned char *ref = make_stream(SZ);
	disk *d = open_ra("q.vmdk", 2);
	uint64_t x = 12345;
	for (int i = 0; i < 3000; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		size_t n;
		switch ((x >> 60) & 3) {
		case 0: n = G; break;                              /* one grain */
		case 1: n = 1 + (size_t)(x >> 20) % 4096; break;   /* a piece */
		case 2: n = 1 + (size_t)(x >> 20) % (5 * G); break; /* crossing */
		default: n = 512; break;
		}
		uint64_t off = (x >> 33) % (SZ - n);
		if ((x >> 58 & 3) == 0)
			off = off / G * G;
		read_check(d, ref, off, n, "random");
		/* sometimes go on sequentially from there, to start readahead
		 * and then abandon it */
		if ((x >> 56 & 3) == 0)
			for (int k = 0; k < 6 && off + n + G <= SZ; k++, off += n)
				read_check(d, ref, off + n, G, "run");
	}
	/* backwards, grain by grain, and a whole-disk read */
	for (uint64_t off = SZ; off >= G; off -= G)
		read_check(d, ref, off - G, G, "backwards");
	read_check(d, ref, 0, SZ, "whole disk");
	disk_close(d);
	free(ref);
}
END_TEST

/* Four threads reading at once through one handle with readahead. */
START_TEST(test_threads)
{
	unsigned char *ref = make_stream(SZ);
	disk *d = open_ra("q.vmdk", 2);
	dt_read_threads(d, ref, SZ, 4 * G, true);
	disk_close(d);
	free(ref);
}
END_TEST

/* A deployed disk is a qcow2 overlay over the appliance's VMDK: the call
 * on the overlay starts the base's workers, and reads through both layers
 * (some written in the overlay) are right. */
START_TEST(test_overlay)
{
	unsigned char *ref = make_stream(SZ);
	ck_assert_int_eq(dt_sh("qemu-img create -q -f qcow2 -b q.vmdk -F vmdk o.qcow2 && "
			       "qemu-io -c 'write -q -P 0x55 1000k 100k' o.qcow2 >/dev/null && "
			       "qemu-img convert -O raw o.qcow2 o.raw"), 0);
	dt_get_bytes(dt_path("o.raw"), ref, SZ, 0);
	disk *d = open_ra("o.qcow2", 2);
	ck_assert_uint_eq(atomic_load(&inits), 2); /* the base's workers */
	for (uint64_t off = 0; off < SZ; off += G)
		read_check(d, ref, off, G, "overlay");
	read_check(d, ref, 0, SZ, "overlay, whole");
	disk_close(d);
	free(ref);
}
END_TEST

/* Formats with nothing to read ahead ignore the call and read as before. */
START_TEST(test_other_formats)
{
	unsigned char *ref = make_stream(SZ);
	ck_assert_int_eq(dt_sh("qemu-img convert -O vmdk src.raw m.vmdk && qemu-img convert -O qcow2 src.raw c.qcow2"), 0);
	const char *names[] = { "src.raw", "m.vmdk", "c.qcow2" };
	for (unsigned i = 0; i < 3; i++) {
		disk *d = open_ra(names[i], 2);
		ck_assert_uint_eq(atomic_load(&inits), 0);
		for (uint64_t off = 0; off < SZ; off += G)
			read_check(d, ref, off, G, names[i]);
		disk_close(d);
	}
	free(ref);
}
END_TEST

static int failing_init(void *ctx, od_err *e)
{
	(void)ctx;
	atomic_fetch_add(&inits, 1);
	return od_err_set(e, OD_E_IO, "cannot confine");
}

/* A worker whose thread_init fails: the call fails with its message, no
 * worker is left, and the disk reads inline as before. */
START_TEST(test_init_fails)
{
	unsigned char *ref = make_stream(SZ);
	disk *d = dt_open(dt_path("q.vmdk"), DISK_RDONLY);
	od_err e;
	atomic_store(&inits, 0);
	ck_assert_int_eq(disk_readahead_start(d, 3, failing_init, NULL, &e), -1);
	ck_assert_msg(strstr(e.msg, "cannot confine") != NULL, "%s", e.msg);
	ck_assert_uint_eq(atomic_load(&inits), 3);
	for (uint64_t off = 0; off < SZ; off += G)
		read_check(d, ref, off, G, "after failed start");
	/* and a second call may still succeed */
	ck_assert_msg(disk_readahead_start(d, 1, count_init, NULL, &e) == 0, "%s", e.msg);
	read_check(d, ref, 0, SZ, "after second start");
	disk_close(d);
	free(ref);
}
END_TEST

static void sleep_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000 };
	nanosleep(&ts, NULL);
}

/* Sector of grain `g`'s header in a stream made by qemu-img (one GT). */
static uint64_t grain_sector(const char *path, uint64_t g)
{
	unsigned char h[512];
	dt_get_bytes(path, h, sizeof h, 0);
	uint64_t gd = dt_le(h + 56, 8);
	unsigned char b[4];
	dt_get_bytes(path, b, 4, gd * 512);
	uint64_t gt = dt_le(b, 4);
	dt_get_bytes(path, b, 4, gt * 512 + 4 * g);
	return dt_le(b, 4);
}

/* Grain K does not inflate.  Readahead reaches it (the workers are given
 * time to) but the error must come with the request that reads it, every
 * time it is read, and with no other: the grains around it read fine. */
START_TEST(test_bad_grain)
{
	/* all data: every grain compressed */
	unsigned char *ref = malloc(SZ);
	dt_fill(ref, SZ, 7);
	for (size_t i = 0; i < SZ; i += 2)
		ref[i] = 'a'; /* compressible, so a grain is a real deflate stream */
	int fd = open(dt_path("d.raw"), O_CREAT | O_TRUNC | O_WRONLY, 0644);
	ck_assert(write(fd, ref, SZ) == (ssize_t)SZ);
	close(fd);
	ck_assert_int_eq(dt_sh("qemu-img convert -O vmdk -o subformat=streamOptimized d.raw b.vmdk && "
			       "cp b.vmdk huge.vmdk"), 0);
	const uint64_t K = 20;
	uint64_t sec = grain_sector(dt_path("b.vmdk"), K);
	ck_assert_uint_gt(sec, 1);
	dt_put_le(dt_path("b.vmdk"), sec * 512 + 12 + 40, 0xdeadbeefcafef00dull, 8);
	/* and a grain that claims to be bigger than two grains */
	dt_put_le(dt_path("huge.vmdk"), grain_sector(dt_path("huge.vmdk"), K) * 512 + 8, 3 * G, 4);
	const char *names[] = { "b.vmdk", "huge.vmdk" };
	const char *want[] = { "does not inflate", "more than two grains" };
	for (unsigned f = 0; f < 2; f++) {
		disk *d = open_ra(names[f], 2);
		unsigned char *b = malloc(G);
		od_err e;
		for (uint64_t g = 0; g < SZ / G; g++) {
			if (g == K - 2)
				sleep_ms(50); /* let the workers reach grain K */
			memset(&e, 0, sizeof e);
			int rc = disk_pread(d, b, G, g * G, &e);
			if (g == K) {
				ck_assert_msg(rc == -1, "%s: grain %llu read", names[f], (unsigned long long)g);
				ck_assert_msg(strstr(e.msg, want[f]) != NULL, "message '%s' lacks '%s'", e.msg, want[f]);
			} else {
				ck_assert_msg(rc == 0, "%s: grain %llu: %s", names[f], (unsigned long long)g, e.msg);
				ck_assert_int_eq(memcmp(b, ref + g * G, G), 0);
			}
		}
		/* again, after the slot gave its error away: still an error */
		ck_assert_int_eq(disk_pread(d, b, G, K * G, &e), -1);
		ck_assert_ptr_nonnull(strstr(e.msg, want[f]));
		/* a part of the grain, and a read spanning it */
		ck_assert_int_eq(disk_pread(d, b, 100, K * G + 7, &e), -1);
		unsigned char *big = malloc(8 * G);
		ck_assert_int_eq(disk_pread(d, big, 8 * G, (K - 3) * G, &e), -1);
		ck_assert_ptr_nonnull(strstr(e.msg, want[f]));
		/* readahead went past K before: reads up to it, stopping short,
		 * are fine (an error queued ahead is not reported early) */
		for (uint64_t g = K - 4; g < K; g++) {
			ck_assert_msg(disk_pread(d, b, G, g * G, &e) == 0, "%s", e.msg);
			sleep_ms(5);
		}
		free(big);
		free(b);
		disk_close(d);
	}
	free(ref);
}
END_TEST

/* The workers really read ahead: after a sequential start and a pause, a
 * grain further on is spoilt in the file, yet reads right, from the slot
 * a worker filled before (the file of an open image is not supposed to
 * change: this only shows where the bytes came from).  Without
 * disk_readahead_start, the same read fails. */
START_TEST(test_served_ahead)
{
	unsigned char *ref = malloc(SZ);
	dt_fill(ref, SZ, 9);
	for (size_t i = 0; i < SZ; i += 2)
		ref[i] = 'a'; /* compressible: grains workers take (stored ones are left to the reader) */
	int fd = open(dt_path("a.raw"), O_CREAT | O_TRUNC | O_WRONLY, 0644);
	ck_assert(write(fd, ref, SZ) == (ssize_t)SZ);
	close(fd);
	ck_assert_int_eq(dt_sh("qemu-img convert -O vmdk -o subformat=streamOptimized a.raw a.vmdk"), 0);
	const uint64_t K = 6;
	uint64_t sec = grain_sector(dt_path("a.vmdk"), K);
	for (int ra = 1; ra >= 0; ra--) {
		ck_assert_int_eq(dt_sh("cp a.vmdk a2.vmdk"), 0);
		disk *d = ra ? open_ra("a2.vmdk", 2) : dt_open(dt_path("a2.vmdk"), DISK_RDONLY);
		unsigned char *b = malloc(G);
		od_err e;
		ck_assert_int_eq(disk_pread(d, b, G, 0, &e), 0);
		if (ra)
			wait_workers_idle(); /* grains 1..32 are inflated by now */
		dt_put_le(dt_path("a2.vmdk"), sec * 512 + 12 + 40, 0xdeadbeefcafef00dull, 8);
		int rc = 0;
		for (uint64_t g = 1; g <= K && rc == 0; g++)
			if ((rc = disk_pread(d, b, G, g * G, &e)) == 0)
				ck_assert_int_eq(memcmp(b, ref + g * G, G), 0);
		if (ra)
			ck_assert_msg(rc == 0, "grain %llu was not read ahead: %s", (unsigned long long)K, e.msg);
		else
			ck_assert_msg(rc == -1, "the spoilt grain reads without readahead: the test shows nothing");
		free(b);
		disk_close(d);
	}
	free(ref);
}
END_TEST

/* A second grain table whose directory entry points past the end: the
 * readahead, which looks ahead into it, must not report that; the read of
 * its first grain must. */
START_TEST(test_bad_table)
{
	const uint64_t size = 40u << 20; /* 640 grains: two grain tables */
	dt_make_raw(dt_path("src.raw"), size);
	ck_assert_int_eq(dt_sh("qemu-img convert -O vmdk -o subformat=streamOptimized src.raw t.vmdk"), 0);
	unsigned char h[512];
	dt_get_bytes(dt_path("t.vmdk"), h, sizeof h, 0);
	dt_put_le(dt_path("t.vmdk"), dt_le(h + 56, 8) * 512 + 4, 0x7ffffff0, 4);
	unsigned char *ref = malloc(size);
	dt_get_bytes(dt_path("src.raw"), ref, size, 0);
	disk *d = open_ra("t.vmdk", 2);
	od_err e;
	unsigned char *b = malloc(G);
	for (uint64_t g = 0; g < 512; g++) {
		ck_assert_msg(disk_pread(d, b, G, g * G, &e) == 0, "grain %llu: %s", (unsigned long long)g, e.msg);
		ck_assert_int_eq(memcmp(b, ref + g * G, G), 0);
	}
	ck_assert_int_eq(disk_pread(d, b, G, 512 * G, &e), -1);
	ck_assert_msg(strstr(e.msg, "grain table 1") != NULL, "%s", e.msg);
	free(b);
	free(ref);
	disk_close(d);
}
END_TEST

/* Close right after queueing work, many times: the workers are stopped
 * and joined whatever they were doing (ASan and the leak check see the
 * rest). */
START_TEST(test_close_busy)
{
	unsigned char *ref = make_stream(SZ);
	unsigned char *b = malloc(G);
	for (int i = 0; i < 40; i++) {
		disk *d = open_ra("q.vmdk", 1 + i % 3);
		od_err e;
		for (int k = 0; k <= i % 4; k++)
			ck_assert_int_eq(disk_pread(d, b, G, (uint64_t)k * G, &e), 0);
		if (i % 5 == 0)
			sleep_ms(1);
		disk_close(d);
	}
	free(b);
	free(ref);
}
END_TEST

int main(void)
{
	if (!dt_have("qemu-img") || !dt_have("qemu-io")) {
		printf("SKIP: qemu-img and qemu-io (qemu-utils) are not installed\n");
		return 77;
	}
	Suite *s = suite_create("vmdk_readahead");
	TCase *tc = od_check_tcase(s, "readahead");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_sequential);
	tcase_add_test(tc, test_random);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_overlay);
	tcase_add_test(tc, test_other_formats);
	tcase_add_test(tc, test_init_fails);
	tcase_add_test(tc, test_bad_grain);
	tcase_add_test(tc, test_bad_table);
	tcase_add_test(tc, test_served_ahead);
	tcase_add_test(tc, test_close_busy);
	return od_check_run(s);
}
