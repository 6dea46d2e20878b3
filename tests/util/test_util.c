/* test_util.c - unit tests of src/util: sizes, arithmetic, buffers, files,
 * crash-safe output and the thread pool. */
#include "config.h"
#include "util/util.h"

#include <check.h>
#include "../check_run.h"
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

START_TEST(test_parse_size)
{
	uint64_t v;
	od_err e;
	ck_assert_int_eq(od_parse_size("4096", &v, &e), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(od_parse_size("512M", &v, &e), 0);
	ck_assert_uint_eq(v, 512ull << 20);
	ck_assert_int_eq(od_parse_size("2GiB", &v, &e), 0);
	ck_assert_uint_eq(v, 2ull << 30);
	ck_assert_int_eq(od_parse_size("1t", &v, &e), 0);
	ck_assert_uint_eq(v, 1ull << 40);
	ck_assert_int_eq(od_parse_size("1.5G", &v, &e), -1);
	ck_assert_int_eq(e.code, OD_E_USAGE);
	ck_assert_int_eq(od_parse_size("", &v, &e), -1);
	ck_assert_int_eq(od_parse_size("-1", &v, &e), -1);
	ck_assert_int_eq(od_parse_size("99999999999999999999", &v, &e), -1);
	ck_assert_int_eq(od_parse_size("17179869184T", &v, &e), -1); /* 2^34 T overflows */
	ck_assert_int_eq(od_parse_size("12X", &v, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "12X"));
}
END_TEST

START_TEST(test_arith)
{
	uint64_t r;
	ck_assert(od_add_u64(1, 2, &r) && r == 3);
	ck_assert(!od_add_u64(UINT64_MAX, 1, &r));
	ck_assert(!od_mul_u64(UINT64_MAX / 2 + 1, 2, &r));
	ck_assert(od_range_ok(10, 5, 15));
	ck_assert(!od_range_ok(10, 6, 15));
	ck_assert(!od_range_ok(UINT64_MAX, 2, UINT64_MAX));
	ck_assert(od_is_pow2(512) && !od_is_pow2(0) && !od_is_pow2(768));
}
END_TEST

START_TEST(test_errors)
{
	od_err e;
	ck_assert_int_eq(od_err_set(&e, OD_E_INVALID, "grain table %d", 3), -1);
	od_err_prefix(&e, "%s", "disk.vmdk");
	ck_assert_str_eq(e.msg, "disk.vmdk: grain table 3");
	ck_assert_int_eq(e.code, OD_E_INVALID);
	od_err_errno(&e, ENOENT, "x.ovf");
	ck_assert_int_eq(e.code, OD_E_IO);
	ck_assert_ptr_nonnull(strstr(e.msg, "x.ovf: "));
	/* A very long message is truncated, not overflowed. */
	char big[4000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	od_err_set(&e, OD_E_INVALID, "%s", big);
	ck_assert_uint_eq(strlen(e.msg), OD_ERR_MSG_MAX - 1);
	ck_assert_int_eq(od_err_set(NULL, 1, "ignored"), -1);
}
END_TEST

START_TEST(test_buf)
{
	od_buf b = {0};
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(od_buf_printf(&b, "%d,", i), 0);
	ck_assert(strncmp(b.data, "0,1,2,", 6) == 0);
	ck_assert_uint_eq(b.len, strlen(b.data));
	od_buf_free(&b);
	char hex[9];
	od_hex((const unsigned char *)"\x01\xab\xff\x00", 4, hex);
	ck_assert_str_eq(hex, "01abff00");
}
END_TEST

static char tmpdir[64];

static void mk_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/od-util-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

START_TEST(test_read_file_limit)
{
	mk_tmpdir();
	char path[128];
	snprintf(path, sizeof path, "%s/f", tmpdir);
	FILE *f = fopen(path, "w");
	for (int i = 0; i < 100000; i++)
		fputc('x', f);
	fclose(f);
	char *data;
	size_t len;
	od_err e;
	ck_assert_int_eq(od_read_file(path, 200000, &data, &len, &e), 0);
	ck_assert_uint_eq(len, 100000);
	ck_assert_int_eq(data[len], 0);
	free(data);
	ck_assert_int_eq(od_read_file(path, 99999, &data, &len, &e), -1);
	ck_assert_int_eq(e.code, OD_E_INVALID);
	ck_assert_int_eq(od_read_file(tmpdir, 10, &data, &len, &e), -1);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

static int count_entries(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "ls -A %s | wc -l", dir);
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

START_TEST(test_atomic_file)
{
	mk_tmpdir();
	char path[128];
	snprintf(path, sizeof path, "%s/out.img", tmpdir);
	od_atomic_file af;
	od_err e;
	/* aborted: nothing left behind */
	ck_assert_int_eq(od_atomic_open(&af, path, 0644, &e), 0);
	ck_assert_int_eq(od_write_all(af.fd, "abc", 3, "out", &e), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	od_atomic_abort(&af);
	ck_assert_int_eq(count_entries(tmpdir), 0);
	/* committed: appears complete, with the requested mode; callers pass
	 * the struct uninitialised, so open must set every field (no_sync was
	 * once left as garbage, which skipped the fsync at random) */
	memset(&af, 0xa5, sizeof af);
	ck_assert_int_eq(od_atomic_open(&af, path, 0640, &e), 0);
	ck_assert(!af.no_sync);
	ck_assert_int_eq(od_write_all(af.fd, "hello", 5, "out", &e), 0);
	ck_assert_int_eq(od_atomic_commit(&af, &e), 0);
	char *data;
	size_t len;
	ck_assert_int_eq(od_read_file(path, 100, &data, &len, &e), 0);
	ck_assert_str_eq(data, "hello");
	free(data);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0640);
	ck_assert_int_eq(count_entries(tmpdir), 1);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

START_TEST(test_pread_short)
{
	mk_tmpdir();
	char path[128];
	snprintf(path, sizeof path, "%s/s", tmpdir);
	int fd = open(path, O_CREAT | O_RDWR, 0600);
	od_err e;
	ck_assert_int_eq(od_pwrite_all(fd, "0123456789", 10, 0, "s", &e), 0);
	char buf[16];
	ck_assert_int_eq(od_pread_all(fd, buf, 10, 0, "s", &e), 0);
	ck_assert_int_eq(od_pread_all(fd, buf, 11, 0, "s", &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "unexpected end of file"));
	close(fd);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

static atomic_int done_jobs;
static void job(void *arg)
{
	(void)arg;
	atomic_fetch_add(&done_jobs, 1);
}

START_TEST(test_pool)
{
	od_err e;
	od_pool *p = od_pool_new(3, 2, &e);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(od_pool_threads(p), 3);
	atomic_store(&done_jobs, 0);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(od_pool_submit(p, job, NULL, &e), 0);
	od_pool_wait(p);
	ck_assert_int_eq(atomic_load(&done_jobs), 1000);
	od_pool_free(p);
	p = od_pool_new(0, 0, &e);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_ge(od_pool_threads(p), 1);
	od_pool_free(p);
}
END_TEST

/* od_pool_forbid() holds for the calling thread only */
static void *forbidding_thread(void *arg)
{
	od_err e;
	od_pool_forbid();
	*(bool *)arg = !od_pool_allowed() && od_pool_new(1, 0, &e) == NULL && e.code == OD_E_UNSUPPORTED;
	return NULL;
}

START_TEST(test_pool_forbid)
{
	bool refused = false;
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, forbidding_thread, &refused), 0);
	pthread_join(t, NULL);
	ck_assert(refused);
	ck_assert(od_pool_allowed());
	od_err e;
	od_pool *p = od_pool_new(1, 0, &e);
	ck_assert_ptr_nonnull(p);
	od_pool_free(p);
}
END_TEST

/* ---- od_seqw --------------------------------------------------------------- */

/* The byte at offset i of every test file: not periodic in 512 or 4096, so
 * a block written at the wrong offset shows. */
static unsigned char pattern_at(uint64_t i) { return (unsigned char)((i * 2654435761u) >> 13 ^ i / 4093); }

/* Write `size` bytes from `start` on through an od_seqw, in pieces of
 * `piece` bytes, then check the whole file (the first `start` bytes are
 * 'h') and that the fd takes unaligned writes afterwards.  Returns whether
 * the writer used O_DIRECT. */
static bool seqw_roundtrip(const char *path, uint64_t start, uint64_t size, uint64_t hint, bool durable, size_t piece)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	od_err e;
	unsigned char *head = malloc(start + 1);
	memset(head, 'h', start + 1);
	ck_assert_int_eq(od_pwrite_all(fd, head, start, 0, "t", &e), 0);
	free(head);
	od_seqw *w = od_seqw_new(fd, start, hint, durable, "t", &e);
	ck_assert_ptr_nonnull(w);
	unsigned char *buf = malloc(piece);
	uint64_t done = 0;
	while (done < size) {
		size_t n = size - done < piece ? (size_t)(size - done) : piece;
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern_at(done + i);
		ck_assert_int_eq(od_seqw_write(w, buf, n, &e), 0);
		done += n;
		ck_assert_uint_eq(od_seqw_offset(w), start + done);
	}
	bool direct = od_seqw_direct(w);
	ck_assert_msg(od_seqw_finish(w, &e) == 0, "%s", e.msg);
	od_seqw_free(w);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_DIRECT, 0);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	/* exactly what was written: a larger preallocation is given back */
	ck_assert_uint_eq((uint64_t)st.st_size, start + size);
	unsigned char *got = malloc(size + start + 1);
	ck_assert_int_eq(od_pread_all(fd, got, start + size, 0, "t", &e), 0);
	for (uint64_t i = 0; i < start; i++)
		ck_assert_uint_eq(got[i], 'h');
	for (uint64_t i = 0; i < size; i++)
		if (got[start + i] != pattern_at(i))
			ck_abort_msg("size %llu: byte %llu differs", (unsigned long long)size, (unsigned long long)i);
	/* ordinary writes again: patch an odd spot */
	if (size > 10) {
		ck_assert_int_eq(od_pwrite_all(fd, "XY", 2, start + 7, "t", &e), 0);
		ck_assert_int_eq(od_pread_all(fd, got, 2, start + 7, "t", &e), 0);
		ck_assert(got[0] == 'X' && got[1] == 'Y');
	}
	free(got);
	free(buf);
	close(fd);
	unlink(path);
	return direct;
}

/* Sizes around the block sizes and the writer's 4 MiB buffer. */
static const uint64_t seqw_sizes[] = {0, 1, 511, 512, 513, 4095, 4096, 4097, (4u << 20) - 1, 4u << 20,
				      (4u << 20) + 4097, (9u << 20) + 123, (25u << 20) + 512};

/* Can this file system take O_DIRECT at all?  Some (tmpfs before Linux
 * 6.6) cannot: then the direct path cannot be checked there. */
static bool fs_takes_direct(const char *dir)
{
	char p[128];
	snprintf(p, sizeof p, "%s/probe", dir);
	int fd = open(p, O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	unlink(p);
	return fd >= 0;
}

START_TEST(test_seqw_direct)
{
	mk_tmpdir();
	char path[128];
	snprintf(path, sizeof path, "%s/out", tmpdir);
	bool can = fs_takes_direct(tmpdir);
	if (!can)
		fprintf(stderr, "# %s does not take O_DIRECT: only the fallback is checked\n", tmpdir);
	for (size_t i = 0; i < sizeof seqw_sizes / sizeof seqw_sizes[0]; i++) {
		uint64_t sz = seqw_sizes[i];
		/* size known, unknown, and over-estimated */
		bool d1 = seqw_roundtrip(path, 0, sz, sz, true, 1u << 20);
		bool d2 = seqw_roundtrip(path, 0, sz, 0, true, 65536 + 7);
		bool d3 = seqw_roundtrip(path, 0, sz, sz + 100000, true, 3000);
		if (can)
			ck_assert(d1 && d2 && d3);
	}
	/* an unaligned start cannot go O_DIRECT: buffered, still right */
	ck_assert(!seqw_roundtrip(path, 1000, (5u << 20) + 3, 0, true, 1u << 20));
	/* not durable: never O_DIRECT */
	ck_assert(!seqw_roundtrip(path, 0, (5u << 20) + 3, 0, false, 1u << 20));
	rmdir(tmpdir);
}
END_TEST

START_TEST(test_seqw_buffered)
{
	/* The fallback where O_DIRECT is refused, forced. */
	mk_tmpdir();
	char path[128];
	snprintf(path, sizeof path, "%s/out", tmpdir);
	setenv("OVFDEPLOY_TEST_NO_DIRECT", "1", 1);
	for (size_t i = 0; i < sizeof seqw_sizes / sizeof seqw_sizes[0]; i++) {
		ck_assert(!seqw_roundtrip(path, 0, seqw_sizes[i], seqw_sizes[i], true, 1u << 20));
		ck_assert(!seqw_roundtrip(path, 0, seqw_sizes[i], 0, false, 4096 + 1));
	}
	unsetenv("OVFDEPLOY_TEST_NO_DIRECT");
	rmdir(tmpdir);
	/* tmpfs, if there is one: whichever path it takes must be right */
	struct stat st;
	if (stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0) {
		strcpy(path, "/dev/shm/od-seqw-XXXXXX");
		int fd = mkstemp(path);
		ck_assert_int_ge(fd, 0);
		close(fd);
		seqw_roundtrip(path, 0, (9u << 20) + 123, (9u << 20) + 123, true, 1u << 20);
		seqw_roundtrip(path, 0, 4097, 0, false, 1000);
	}
}
END_TEST

START_TEST(test_seqw_errors)
{
	mk_tmpdir();
	char path[128];
	snprintf(path, sizeof path, "%s/ro", tmpdir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	close(fd);
	static char big[1u << 20];
	for (int durable = 0; durable < 2; durable++) {
		/* a read-only fd: every write fails; the error names the file
		 * and comes back from a write or, at the latest, from finish */
		fd = open(path, O_RDONLY | O_CLOEXEC);
		ck_assert_int_ge(fd, 0);
		od_err e;
		od_seqw *w = od_seqw_new(fd, 0, 0, durable, "ro-out", &e);
		ck_assert_ptr_nonnull(w);
		int rc = 0;
		for (int i = 0; rc == 0 && i < 40; i++)
			rc = od_seqw_write(w, big, sizeof big, &e);
		if (rc == 0)
			rc = od_seqw_finish(w, &e);
		ck_assert_int_eq(rc, -1);
		ck_assert_ptr_nonnull(strstr(e.msg, "ro-out"));
		od_seqw_free(w);
		close(fd);
	}
	/* abandoned half way: no finish, nothing leaks or hangs */
	fd = open(path, O_RDWR | O_CLOEXEC);
	od_err e;
	od_seqw *w = od_seqw_new(fd, 0, 64u << 20, true, "t", &e);
	ck_assert_ptr_nonnull(w);
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(od_seqw_write(w, big, sizeof big - 5, &e), 0);
	od_seqw_free(w);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_DIRECT, 0);
	close(fd);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

START_TEST(test_atomic_no_sync_replace)
{
	/* no_sync over an existing file: swapped in (RENAME_EXCHANGE, see
	 * file.c), the old one removed, nothing else left */
	mk_tmpdir();
	char path[128];
	snprintf(path, sizeof path, "%s/out.ova", tmpdir);
	od_err e;
	for (int round = 0; round < 2; round++) {
		od_atomic_file af;
		ck_assert_int_eq(od_atomic_open(&af, path, 0644, &e), 0);
		af.no_sync = true;
		const char *text = round ? "second" : "first";
		ck_assert_int_eq(od_write_all(af.fd, text, strlen(text), "out", &e), 0);
		ck_assert_int_eq(od_atomic_commit(&af, &e), 0);
		char *data;
		size_t len;
		ck_assert_int_eq(od_read_file(path, 100, &data, &len, &e), 0);
		ck_assert_str_eq(data, text);
		free(data);
		ck_assert_int_eq(count_entries(tmpdir), 1);
	}
	unlink(path);
	/* a directory in the way: refused as rename() refuses it, and left
	 * alone with what it holds */
	ck_assert_int_eq(mkdir(path, 0755), 0);
	char inner[160];
	snprintf(inner, sizeof inner, "%s/keep", path);
	FILE *f = fopen(inner, "w");
	fclose(f);
	od_atomic_file af;
	ck_assert_int_eq(od_atomic_open(&af, path, 0644, &e), 0);
	af.no_sync = true;
	ck_assert_int_eq(od_atomic_commit(&af, &e), -1);
	ck_assert_int_eq(access(inner, F_OK), 0);
	ck_assert_int_eq(count_entries(tmpdir), 1);
	unlink(inner);
	rmdir(path);
	/* a symlink in the way is replaced, as rename() does; its target is
	 * not touched */
	char target[160];
	snprintf(target, sizeof target, "%s/target", tmpdir);
	f = fopen(target, "w");
	fputs("target", f);
	fclose(f);
	ck_assert_int_eq(symlink("target", path), 0);
	ck_assert_int_eq(od_atomic_open(&af, path, 0644, &e), 0);
	af.no_sync = true;
	ck_assert_int_eq(od_write_all(af.fd, "new", 3, "out", &e), 0);
	ck_assert_int_eq(od_atomic_commit(&af, &e), 0);
	struct stat st;
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	char *data;
	size_t len;
	ck_assert_int_eq(od_read_file(target, 100, &data, &len, &e), 0);
	ck_assert_str_eq(data, "target");
	free(data);
	ck_assert_int_eq(count_entries(tmpdir), 2);
	unlink(path);
	unlink(target);
	rmdir(tmpdir);
}
END_TEST

/* The US layout (keymap.c) as Linux key codes / set-1 make codes, for
 * sendkeys --connect, the RFB client's Shift and the runner's VNC keys. */
START_TEST(test_keycodes)
{
	static const struct {
		unsigned char ch;
		unsigned code;
		bool shift;
	} want[] = {
		{'a', 30, false}, {'A', 30, true}, {'z', 44, false}, {'q', 16, false}, {'p', 25, false},
		{'1', 2, false}, {'!', 2, true}, {'0', 11, false}, {')', 11, true}, {'-', 12, false},
		{'_', 12, true}, {'=', 13, false}, {'+', 13, true}, {'[', 26, false}, {'}', 27, true},
		{';', 39, false}, {':', 39, true}, {'\'', 40, false}, {'"', 40, true}, {'`', 41, false},
		{'~', 41, true}, {'\\', 43, false}, {'|', 43, true}, {',', 51, false}, {'<', 51, true},
		{'.', 52, false}, {'/', 53, false}, {'?', 53, true}, {' ', 57, false}, {'\n', 28, false},
		{'\t', 15, false}, {'\b', 14, false}, {0x1b, 1, false},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		unsigned code = 0;
		bool shift = !want[i].shift;
		ck_assert_msg(od_us_key(want[i].ch, &code, &shift) == 0, "char 0x%02x", want[i].ch);
		ck_assert_msg(code == want[i].code && shift == want[i].shift, "char '%c': %u/%d", want[i].ch, code, shift);
	}
	/* every printable character has a key */
	for (unsigned ch = 0x20; ch < 0x7f; ch++) {
		unsigned code;
		bool shift;
		ck_assert_int_eq(od_us_key((unsigned char)ch, &code, &shift), 0);
		ck_assert(code >= 1 && code <= 57);
	}
	unsigned code;
	bool shift;
	ck_assert_int_eq(od_us_key(0, &code, &shift), -1);
	ck_assert_int_eq(od_us_key(0x7f, &code, &shift), -1);
	ck_assert_int_eq(od_us_key(0xe9, &code, &shift), -1);
	ck_assert_int_eq(od_us_key('\r', &code, &shift), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = od_check_tcase(s, "core");
	tcase_add_test(tc, test_parse_size);
	tcase_add_test(tc, test_arith);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_buf);
	tcase_add_test(tc, test_read_file_limit);
	tcase_add_test(tc, test_atomic_file);
	tcase_add_test(tc, test_pread_short);
	tcase_add_test(tc, test_pool);
	tcase_add_test(tc, test_pool_forbid);
	tcase_add_test(tc, test_seqw_direct);
	tcase_add_test(tc, test_seqw_buffered);
	tcase_add_test(tc, test_seqw_errors);
	tcase_add_test(tc, test_atomic_no_sync_replace);
	tcase_add_test(tc, test_keycodes);
	/* 25 MiB files written many times over on a shared disk */
	tcase_set_timeout(tc, 240);
	return od_check_run(s);
}
