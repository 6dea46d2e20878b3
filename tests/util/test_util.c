/* test_util.c - unit tests of src/util: sizes, arithmetic, buffers, files,
 * crash-safe output and the thread pool. */
#include "config.h"
#include "util/util.h"

#include <check.h>
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

int main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_parse_size);
	tcase_add_test(tc, test_arith);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_buf);
	tcase_add_test(tc, test_read_file_limit);
	tcase_add_test(tc, test_atomic_file);
	tcase_add_test(tc, test_pread_short);
	tcase_add_test(tc, test_pool);
	tcase_add_test(tc, test_pool_forbid);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
