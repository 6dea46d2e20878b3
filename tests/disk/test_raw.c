/* test_raw.c - the raw driver: probing, reads, writes, sparse maps, byte
 * ranges inside another file, and crash-safe creation. */
#include "config.h"
#include "dtest.h"

START_TEST(test_raw_read_map)
{
	const char *p = dt_path("a.raw");
	dt_make_raw(p, 4 << 20);
	disk *d = dt_open(p, DISK_RDONLY);
	ck_assert_str_eq(disk_format(d), "raw");
	ck_assert_uint_eq(disk_size(d), 4 << 20);
	/* The map must cover the whole disk in runs; holes read as zeros. */
	od_err e;
	uint64_t off = 0, zero = 0;
	unsigned char *buf = malloc(4 << 20);
	int fd = open(p, O_RDONLY);
	ck_assert(pread(fd, buf, 4 << 20, 0) == 4 << 20);
	close(fd);
	unsigned char *z = calloc(1, 4 << 20), *r = malloc(4 << 20);
	while (off < disk_size(d)) {
		struct disk_extent x;
		ck_assert_int_eq(disk_map(d, off, disk_size(d) - off, &x, &e), 0);
		ck_assert_uint_eq(x.off, off);
		if (x.kind != DISK_EXT_DATA) {
			ck_assert_int_eq(memcmp(buf + off, z, x.len), 0);
			zero += x.len;
		}
		ck_assert_int_eq(disk_pread(d, r, x.len, off, &e), 0);
		ck_assert_int_eq(memcmp(buf + off, r, x.len), 0);
		off += x.len;
	}
	ck_assert_uint_gt(zero, 0); /* tmpfs and ext4 both keep holes */
	/* Reads past the end fail with a message naming the offset. */
	ck_assert_int_eq(disk_pread(d, r, 2, (4 << 20) - 1, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "beyond"));
	free(buf), free(z), free(r);
	disk_close(d);
}
END_TEST

START_TEST(test_raw_write)
{
	const char *p = dt_path("w.raw");
	dt_make_raw(p, 1 << 20);
	disk *d = dt_open(p, DISK_RDWR);
	od_err e;
	unsigned char b[5000], c[5000];
	dt_fill(b, sizeof b, 99);
	ck_assert_int_eq(disk_pwrite(d, b, sizeof b, 12345, &e), 0);
	ck_assert_int_eq(disk_flush(d, &e), 0);
	ck_assert_int_eq(disk_pread(d, c, sizeof c, 12345, &e), 0);
	ck_assert_int_eq(memcmp(b, c, sizeof b), 0);
	ck_assert_int_eq(disk_pwrite(d, b, 10, (1 << 20) - 5, &e), -1);
	disk_close(d);
	/* Read-only handles refuse writes. */
	d = dt_open(p, DISK_RDONLY);
	ck_assert_int_eq(disk_pwrite(d, b, 10, 0, &e), -1);
	disk_close(d);
}
END_TEST

START_TEST(test_raw_range)
{
	/* An image stored at offset 1536 of a bigger file, as inside an OVA. */
	const char *p = dt_path("range.bin");
	unsigned char b[8192];
	dt_fill(b, sizeof b, 7);
	int fd = open(p, O_CREAT | O_TRUNC | O_RDWR, 0644);
	ck_assert(pwrite(fd, b, sizeof b, 0) == sizeof b);
	od_err e;
	disk *d = disk_open_range(fd, 1536, 4096, "member.img", DISK_RDONLY, &e);
	ck_assert_msg(d != NULL, "%s", e.msg);
	close(fd); /* the disk keeps its own descriptor */
	ck_assert_uint_eq(disk_size(d), 4096);
	struct disk_extent x;
	ck_assert_int_eq(disk_map(d, 0, 4096, &x, &e), 0);
	ck_assert_int_eq(x.kind, DISK_EXT_DATA);
	ck_assert_uint_eq(x.len, 4096);
	unsigned char r[4096];
	ck_assert_int_eq(disk_pread(d, r, sizeof r, 0, &e), 0);
	ck_assert_int_eq(memcmp(r, b + 1536, sizeof r), 0);
	ck_assert_int_eq(disk_pread(d, r, 1, 4096, &e), -1);
	disk_close(d);
}
END_TEST

START_TEST(test_raw_create)
{
	const char *p = dt_path("new.raw");
	od_err e;
	disk *d = disk_create(p, "raw", 3 << 20, NULL, &e);
	ck_assert_msg(d != NULL, "%s", e.msg);
	unsigned char b[512];
	dt_fill(b, sizeof b, 3);
	ck_assert_int_eq(disk_pwrite(d, b, sizeof b, 1 << 20, &e), 0);
	/* Nothing at the path before the commit. */
	ck_assert_int_eq(access(p, F_OK), -1);
	ck_assert_int_eq(disk_commit(d, &e), 0);
	disk_close(d);
	struct stat st;
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_size, 3 << 20);
	ck_assert_int_lt(st.st_blocks * 512, 1 << 20); /* sparse */
	/* An uncommitted image leaves nothing behind. */
	const char *q = dt_path("gone.raw");
	d = disk_create(q, "raw", 1 << 20, NULL, &e);
	ck_assert_ptr_nonnull(d);
	disk_close(d);
	ck_assert_int_eq(access(q, F_OK), -1);
}
END_TEST

/* A created image takes writes of every alignment and size (aligned in
 * memory, offset and length, or not; large or small; over each other and
 * over the unaligned tail): the committed file must hold exactly what was
 * written last. */
START_TEST(test_raw_create_direct)
{
	const char *p = dt_path("direct.raw");
	const size_t size = (8u << 20) + 512; /* a tail shorter than a block */
	od_err e;
	disk *d = disk_create(p, "raw", size, NULL, &e);
	ck_assert_msg(d != NULL, "%s", e.msg);
	unsigned char *want = calloc(1, size), *got = malloc(size), *b;
	ck_assert_int_eq(posix_memalign((void **)&b, 4096, 4u << 20), 0);
	struct {
		size_t boff, len;
		uint64_t off;
	} w[] = {
		{0, (3u << 20) + 8192, 4096},   /* aligned, several pieces, a short last one */
		{0, 600u << 10, 5u << 20},       /* aligned, pieces of the minimum size */
		{1, 70000, 100},                /* unaligned everything */
		{0, 4096, 8192},                /* aligned, one block, over the first write */
		{0, 1u << 20, 2u << 20},        /* aligned, over a part written directly */
		{4096, 4608, (8u << 20) - 4096}, /* aligned start, runs into the unaligned tail */
		{0, 512, 8u << 20},             /* the tail alone */
	};
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		dt_fill(b + w[i].boff, w[i].len, (unsigned)(i + 11));
		ck_assert_msg(disk_pwrite(d, b + w[i].boff, w[i].len, w[i].off, &e) == 0, "%s", e.msg);
		memcpy(want + w[i].off, b + w[i].boff, w[i].len);
	}
	/* the handle reads back what was written, before and after the commit */
	ck_assert_int_eq(disk_pread(d, got, size, 0, &e), 0);
	ck_assert_int_eq(memcmp(got, want, size), 0);
	ck_assert_int_eq(disk_commit(d, &e), 0);
	disk_close(d);
	int fd = open(p, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert(pread(fd, got, size, 0) == (ssize_t)size);
	close(fd);
	ck_assert_int_eq(memcmp(got, want, size), 0);
	free(want), free(got), free(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("raw");
	TCase *tc = od_check_tcase(s, "raw");
	tcase_add_test(tc, test_raw_read_map);
	tcase_add_test(tc, test_raw_write);
	tcase_add_test(tc, test_raw_range);
	tcase_add_test(tc, test_raw_create);
	tcase_add_test(tc, test_raw_create_direct);
	/* made here, in the parent, so that it is removed even when a
	 * test fails in its forked child */
	dt_setup();
	return od_check_run(s);
}
