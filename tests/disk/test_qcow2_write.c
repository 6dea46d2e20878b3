/* test_qcow2_write.c - images we write pass `qemu-img check` and
 * `qemu-img compare`: created through the API with scattered and partial
 * writes, converted (plain, zlib, zstd, compat 0.10, 512 B and 2 MiB
 * clusters), and existing images opened read-write, including overlays
 * whose partial writes copy from the backing file.  Also our own check and
 * compare against qemu-img's verdicts. */
#include "config.h"
#include "dtest.h"

#define SZ (4u << 20)

static void need_qemu(void)
{
	if (!dt_have("qemu-img") || !dt_have("qemu-io")) {
		fprintf(stderr, "SKIP: qemu-img/qemu-io not installed\n");
		exit(77);
	}
}

static void qemu_clean(const char *name)
{
	int rc = dt_sh("qemu-img check -q '%s'", name);
	if (rc != 0) {
		dt_sh("qemu-img check '%s' | head -20 >&2", name);
		ck_abort_msg("qemu-img check %s: exit %d", name, rc);
	}
}

static void qemu_same(const char *a, const char *b)
{
	int rc = dt_sh("qemu-img compare -q '%s' '%s'", a, b);
	if (rc != 0) {
		dt_sh("qemu-img compare '%s' '%s' >&2", a, b);
		ck_abort_msg("qemu-img compare %s %s: exit %d", a, b, rc);
	}
}

/* Apply the same scattered writes to a disk and to a raw mirror file. */
static void scatter(disk *d, const char *mirror, uint64_t size, uint64_t seed)
{
	int fd = open(mirror, O_RDWR);
	ck_assert_int_ge(fd, 0);
	unsigned char b[300000];
	od_err e;
	static const uint64_t offs[] = {0, 511, 4096, 65535, 65536 * 3 + 17, 1 << 20, (1 << 20) + 1000, 3 << 19,
					2 << 20, (2 << 20) + 65536 * 2};
	static const size_t lens[] = {1, 1000, 70000, 2, 65536, 250000, 77, 300000, 4096, 131072};
	for (int i = 0; i < 10; i++) {
		uint64_t off = offs[i] % size;
		size_t len = lens[i];
		if (off + len > size)
			len = (size_t)(size - off);
		dt_fill(b, len, seed + (uint64_t)i);
		if (disk_pwrite(d, b, len, off, &e) < 0)
			ck_abort_msg("pwrite %llu+%zu: %s", (unsigned long long)off, len, e.msg);
		ck_assert(pwrite(fd, b, len, (off_t)off) == (ssize_t)len);
	}
	/* the last byte, and an overwrite of earlier data */
	b[0] = 0x5a;
	ck_assert_int_eq(disk_pwrite(d, b, 1, size - 1, &e), 0);
	ck_assert(pwrite(fd, b, 1, (off_t)size - 1) == 1);
	memset(b, 0x33, 5000);
	ck_assert_int_eq(disk_pwrite(d, b, 5000, 4000, &e), 0);
	ck_assert(pwrite(fd, b, 5000, 4000) == 5000);
	close(fd);
}

static void create_case(const char *name, struct disk_create_opts *o, uint64_t size)
{
	char mirror[300];
	snprintf(mirror, sizeof mirror, "%s.mirror", dt_path(name));
	od_err e;
	disk *d = disk_create(dt_path(name), "qcow2", size, o, &e);
	ck_assert_msg(d != NULL, "%s", e.msg);
	/* sizes round up to whole sectors, as with qemu-img create */
	ck_assert_uint_eq(disk_size(d), (size + 511) & ~511ull);
	size = disk_size(d);
	int fd = open(mirror, O_CREAT | O_TRUNC | O_RDWR, 0644);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	close(fd);
	scatter(d, mirror, size, 1);
	/* reads before the commit see the writes */
	disk *m = dt_open(mirror, DISK_RDONLY);
	dt_assert_same(d, m);
	disk_close(m);
	ck_assert_int_eq(disk_commit(d, &e), 0);
	disk_close(d);
	qemu_clean(name);
	qemu_same(dt_path(name), mirror);
	/* and again after reopening it read-write */
	d = dt_open(dt_path(name), DISK_RDWR);
	scatter(d, mirror, size, 100);
	disk_close(d);
	qemu_clean(name);
	qemu_same(dt_path(name), mirror);
}

START_TEST(t_create_v3)
{
	struct disk_create_opts o = {0};
	create_case("c-v3.qcow2", &o, SZ);
}
END_TEST
START_TEST(t_create_v2_512)
{
	struct disk_create_opts o = {.compat = "0.10", .cluster_size = 512};
	create_case("c-v2.qcow2", &o, SZ + 1000);
}
END_TEST
START_TEST(t_create_2m)
{
	struct disk_create_opts o = {.cluster_size = 2 << 20};
	create_case("c-2m.qcow2", &o, SZ);
}
END_TEST
START_TEST(t_create_many_refblocks)
{
	/* 512-byte clusters and a 12 MiB image need many refcount blocks and
	 * a refcount table that grows while it is written. */
	struct disk_create_opts o = {.cluster_size = 512};
	create_case("c-rb.qcow2", &o, 12 << 20);
}
END_TEST

static void convert_case(const char *name, struct disk_convert_opts *o)
{
	dt_make_raw(dt_path("src.raw"), SZ);
	disk *s = dt_open(dt_path("src.raw"), DISK_RDONLY);
	od_err e;
	if (disk_convert(s, dt_path(name), o, &e) < 0)
		ck_abort_msg("convert: %s", e.msg);
	disk_close(s);
	if (!strcmp(o->format, "qcow2"))
		qemu_clean(name);
	qemu_same(dt_path("src.raw"), dt_path(name));
	/* and back, through our reader */
	s = dt_open(dt_path(name), DISK_RDONLY);
	struct disk_convert_opts r = {.format = "raw"};
	char back[300];
	snprintf(back, sizeof back, "%s.back", dt_path(name));
	ck_assert_int_eq(disk_convert(s, back, &r, &e), 0);
	disk_close(s);
	qemu_same(dt_path("src.raw"), back);
	struct stat st;
	ck_assert_int_eq(stat(back, &st), 0);
	ck_assert_int_lt(st.st_blocks * 512, SZ); /* sparse */
}

START_TEST(t_convert_plain)
{
	struct disk_convert_opts o = {.format = "qcow2"};
	convert_case("v-plain.qcow2", &o);
}
END_TEST
START_TEST(t_convert_zlib)
{
	struct disk_convert_opts o = {.format = "qcow2", .create = {.compress = true, .threads = 2}};
	convert_case("v-zlib.qcow2", &o);
	disk *d = dt_open(dt_path("v-zlib.qcow2"), DISK_RDONLY);
	struct disk_info info;
	od_err e;
	ck_assert_int_eq(disk_get_info(d, &info, &e), 0);
	ck_assert(info.compressed);
	disk_info_free(&info);
	disk_close(d);
}
END_TEST
START_TEST(t_convert_zstd)
{
	struct disk_convert_opts o = {.format = "qcow2",
				      .create = {.compress = true, .compression_type = "zstd", .threads = 3}};
	convert_case("v-zstd.qcow2", &o);
}
END_TEST
START_TEST(t_convert_zlib_512_v2)
{
	struct disk_convert_opts o = {.format = "qcow2",
				      .create = {.compress = true, .cluster_size = 512, .compat = "0.10", .threads = 1}};
	convert_case("v-z512.qcow2", &o);
}
END_TEST
START_TEST(t_convert_zlib_2m)
{
	struct disk_convert_opts o = {.format = "qcow2", .create = {.compress = true, .cluster_size = 2 << 20}};
	convert_case("v-z2m.qcow2", &o);
}
END_TEST
START_TEST(t_convert_refcount_bits)
{
	/* 1-bit refcounts: compressed clusters cannot share a host cluster */
	struct disk_convert_opts o = {.format = "qcow2", .create = {.compress = true, .refcount_bits = 1}};
	convert_case("v-rb1.qcow2", &o);
	struct disk_convert_opts o2 = {.format = "qcow2", .create = {.refcount_bits = 64, .cluster_size = 4096}};
	convert_case("v-rb64.qcow2", &o2);
	struct disk_convert_opts o3 = {.format = "qcow2", .create = {.compress = true, .refcount_bits = 2,
								     .cluster_size = 1024}};
	convert_case("v-rb2.qcow2", &o3);
	struct disk_convert_opts o4 = {.format = "qcow2", .create = {.refcount_bits = 8, .compat = "0.10"}};
	dt_make_raw(dt_path("x.raw"), 1 << 20);
	disk *s = dt_open(dt_path("x.raw"), DISK_RDONLY);
	od_err e;
	ck_assert_int_eq(disk_convert(s, dt_path("bad.qcow2"), &o4, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "compat=1.1"));
	disk_close(s);
}
END_TEST

START_TEST(t_convert_raw)
{
	struct disk_convert_opts o = {.format = "raw"};
	convert_case("v.raw", &o);
}
END_TEST

START_TEST(t_convert_from_qemu)
{
	/* qcow2 (compressed, with a backing chain) -> raw and -> qcow2 */
	dt_make_raw(dt_path("b.raw"), SZ);
	ck_assert_int_eq(dt_sh("qemu-img convert -c -O qcow2 b.raw b.qcow2 && "
			       "qemu-img create -q -f qcow2 -b b.qcow2 -F qcow2 o.qcow2 && "
			       "qemu-io -f qcow2 -c 'write -P 0x42 1M 100k' -c 'write -z 0 64k' o.qcow2 >/dev/null"), 0);
	disk *s = dt_open(dt_path("o.qcow2"), DISK_RDONLY);
	od_err e;
	struct disk_convert_opts o = {.format = "raw"};
	ck_assert_int_eq(disk_convert(s, dt_path("o.raw"), &o, &e), 0);
	struct disk_convert_opts o2 = {.format = "qcow2", .create = {.compress = true}};
	ck_assert_int_eq(disk_convert(s, dt_path("o2.qcow2"), &o2, &e), 0);
	disk_close(s);
	qemu_same(dt_path("o.qcow2"), dt_path("o.raw"));
	qemu_same(dt_path("o.qcow2"), dt_path("o2.qcow2"));
	qemu_clean("o2.qcow2");
}
END_TEST

static void rw_case(const char *name, const char *make)
{
	/* an image made by qemu, written by us in place, checked by qemu */
	dt_make_raw(dt_path("base.raw"), SZ);
	ck_assert_int_eq(dt_sh("%s", make), 0);
	char mirror[300];
	snprintf(mirror, sizeof mirror, "%s.mirror", dt_path(name));
	ck_assert_int_eq(dt_sh("qemu-img convert -O raw '%s' '%s'", name, mirror), 0);
	disk *d = dt_open(dt_path(name), DISK_RDWR);
	scatter(d, mirror, disk_size(d), 7);
	od_err e;
	ck_assert_int_eq(disk_flush(d, &e), 0);
	disk_close(d);
	qemu_clean(name);
	qemu_same(dt_path(name), mirror);
}

START_TEST(t_rw_overlay_raw)
{
	rw_case("ov.qcow2", "qemu-img create -q -f qcow2 -b base.raw -F raw ov.qcow2");
}
END_TEST
START_TEST(t_rw_overlay_qcow2_chain)
{
	rw_case("ov2.qcow2", "qemu-img convert -O qcow2 -c base.raw b1.qcow2 && "
			     "qemu-img create -q -f qcow2 -b b1.qcow2 -F qcow2 ov1.qcow2 && "
			     "qemu-io -f qcow2 -c 'write -P 9 0 1M' -c 'write -z 2M 64k' ov1.qcow2 >/dev/null && "
			     "qemu-img create -q -f qcow2 -b ov1.qcow2 -F qcow2 ov2.qcow2");
}
END_TEST
START_TEST(t_rw_compressed)
{
	rw_case("rc.qcow2", "qemu-img convert -O qcow2 -c base.raw rc.qcow2");
}
END_TEST
START_TEST(t_rw_refbits)
{
	rw_case("r1.qcow2", "qemu-img convert -O qcow2 -o refcount_bits=1 base.raw r1.qcow2");
	rw_case("r64.qcow2", "qemu-img convert -O qcow2 -o refcount_bits=64,cluster_size=4k base.raw r64.qcow2");
	rw_case("rz.qcow2", "qemu-img convert -O qcow2 -o compat=0.10 base.raw rz.qcow2");
	rw_case("rzc.qcow2", "qemu-img convert -O qcow2 base.raw rzc.qcow2 && "
			     "qemu-io -f qcow2 -c 'write -z 0 1M' -c 'write -z -u 2M 1M' rzc.qcow2 >/dev/null");
}
END_TEST

START_TEST(t_rw_refused)
{
	dt_make_raw(dt_path("x.raw"), 1 << 20);
	ck_assert_int_eq(dt_sh("qemu-img convert -O qcow2 -o extended_l2=on x.raw x.qcow2 && "
			       "qemu-img convert -O qcow2 x.raw s.qcow2 && qemu-img snapshot -c s s.qcow2"), 0);
	od_err e;
	ck_assert_ptr_null(disk_open(dt_path("x.qcow2"), DISK_RDWR, &e));
	ck_assert_ptr_nonnull(strstr(e.msg, "extended L2"));
	ck_assert_ptr_null(disk_open(dt_path("s.qcow2"), DISK_RDWR, &e));
	ck_assert_ptr_nonnull(strstr(e.msg, "snapshots"));
}
END_TEST


START_TEST(t_dirty_bit)
{
	dt_make_raw(dt_path("d.raw"), SZ);
	ck_assert_int_eq(dt_sh("qemu-img convert -O qcow2 d.raw d.qcow2"), 0);
	const char *p = dt_path("d.qcow2");
	/* while we hold unwritten refcounts the dirty bit is set on disk */
	disk *d = dt_open(p, DISK_RDWR);
	ck_assert_uint_eq(dt_get_be(p, 72, 8) & 1, 0);
	unsigned char b[4096];
	dt_fill(b, sizeof b, 5);
	od_err e;
	ck_assert_int_eq(disk_pwrite(d, b, sizeof b, 3 << 20, &e), 0);
	ck_assert_uint_eq(dt_get_be(p, 72, 8) & 1, 1);
	ck_assert_int_eq(disk_flush(d, &e), 0);
	ck_assert_uint_eq(dt_get_be(p, 72, 8) & 1, 0);
	disk_close(d);
	qemu_clean("d.qcow2");

	/* an image left dirty with wrong refcounts (a crash with lazy
	 * refcounts): opening it for writing rebuilds them */
	uint64_t rt = dt_get_be(p, 48, 8);
	uint64_t rb = dt_get_be(p, rt, 8);
	for (int i = 3; i < 20; i++)
		dt_put_be(p, rb + 2 * i, 2, 0);
	dt_put_be(p, 72, 8, dt_get_be(p, 72, 8) | 1);
	ck_assert_int_ne(dt_sh("qemu-img check -q -r none d.qcow2 >/dev/null 2>&1"), 0);
	char mirror[300];
	snprintf(mirror, sizeof mirror, "%s.mirror", p);
	ck_assert_int_eq(dt_sh("qemu-img convert -O raw d.qcow2 d.qcow2.mirror"), 0);
	d = dt_open(p, DISK_RDWR);
	scatter(d, mirror, disk_size(d), 9);
	disk_close(d);
	ck_assert_uint_eq(dt_get_be(p, 72, 8) & 1, 0);
	qemu_clean("d.qcow2");
	qemu_same(p, mirror);
}
END_TEST

START_TEST(t_lazy_refcounts)
{
	rw_case("lz.qcow2", "qemu-img create -q -f qcow2 -o lazy_refcounts=on lz.qcow2 4M && "
			    "qemu-io -f qcow2 -c 'write -P 3 0 1M' lz.qcow2 >/dev/null");
}
END_TEST

START_TEST(t_create_backing)
{
	/* an overlay made through our API over a raw base, as the runner does */
	dt_make_raw(dt_path("cb.raw"), SZ);
	struct disk_create_opts o = {.backing_file = "cb.raw", .backing_format = "raw"};
	od_err e;
	disk *d = disk_create(dt_path("cb.qcow2"), "qcow2", 0, &o, &e);
	ck_assert_msg(d != NULL, "%s", e.msg);
	ck_assert_uint_eq(disk_size(d), SZ);
	ck_assert_int_eq(dt_sh("cp cb.raw cb.mirror"), 0);
	scatter(d, dt_path("cb.mirror"), SZ, 11);
	ck_assert_int_eq(disk_commit(d, &e), 0);
	disk_close(d);
	qemu_clean("cb.qcow2");
	qemu_same(dt_path("cb.qcow2"), dt_path("cb.mirror"));
	ck_assert_int_eq(dt_sh("qemu-img info cb.qcow2 | grep -q 'backing file: cb.raw'"), 0);
}
END_TEST

/* ---- check and compare -------------------------------------------------- */

static int our_check(const char *p, struct disk_check_result *r)
{
	od_err e;
	disk *d = disk_open(p, DISK_NO_BACKING, &e);
	ck_assert_msg(d != NULL, "%s", e.msg);
	int rc = disk_check(d, false, r, &e);
	ck_assert_msg(rc == 0, "%s", e.msg);
	disk_close(d);
	return r->corruptions ? 2 : r->leaks ? 3 : 0;
}

START_TEST(t_check)
{
	struct disk_check_result r;
	const char *imgs[] = {"qemu-img convert -O qcow2 -o cluster_size=512,compat=0.10 c.raw k1.qcow2",
			      "qemu-img convert -c -O qcow2 c.raw k2.qcow2",
			      "qemu-img convert -O qcow2 -o refcount_bits=1 c.raw k3.qcow2",
			      "qemu-img convert -O qcow2 -o extended_l2=on c.raw k4.qcow2 && qemu-img snapshot -c x k4.qcow2"};
	dt_make_raw(dt_path("c.raw"), SZ);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(dt_sh("%s", imgs[i]), 0);
		char p[32];
		snprintf(p, sizeof p, "k%d.qcow2", i + 1);
		ck_assert_msg(our_check(dt_path(p), &r) == 0, "%s: %s", p, r.nmessages ? r.messages[0] : "");
		ck_assert_uint_gt(r.allocated_clusters, 0);
		disk_check_result_free(&r);
	}
	/* a leak: the header's refcount raised to 2 */
	const char *p = dt_path("k2.qcow2");
	uint64_t rt = dt_get_be(p, 48, 8);
	uint64_t rb = dt_get_be(p, rt, 8);
	dt_put_be(p, rb, 2, 2);
	ck_assert_int_eq(our_check(p, &r), 3);
	ck_assert_int_eq(dt_sh("qemu-img check -q k2.qcow2 >/dev/null 2>&1"), 3);
	disk_check_result_free(&r);
	/* corruption: an L2 entry pointing at the L1 table (an overlap) */
	p = dt_path("k3.qcow2");
	uint64_t l1 = dt_get_be(p, 40, 8);
	uint64_t l2 = dt_get_be(p, l1, 8) & 0x00fffffffffffe00ull;
	dt_put_be(p, l2 + 8 * 40, 8, (1ull << 63) | l1);
	ck_assert_int_eq(our_check(p, &r), 2);
	ck_assert_int_eq(dt_sh("qemu-img check -q k3.qcow2 >/dev/null 2>&1"), 2);
	disk_check_result_free(&r);
	/* corruption: a data entry past the end of the file */
	p = dt_path("k1.qcow2");
	l1 = dt_get_be(p, 40, 8);
	l2 = dt_get_be(p, l1, 8) & 0x00fffffffffffe00ull;
	dt_put_be(p, l2, 8, (1ull << 63) | (1ull << 36));
	ck_assert_int_eq(our_check(p, &r), 2);
	disk_check_result_free(&r);
	/* a COPIED flag that lies */
	ck_assert_int_eq(dt_sh("qemu-img convert -O qcow2 c.raw k5.qcow2"), 0);
	p = dt_path("k5.qcow2");
	l1 = dt_get_be(p, 40, 8);
	dt_put_be(p, l1, 8, dt_get_be(p, l1, 8) & ~(1ull << 63));
	ck_assert_int_eq(our_check(p, &r), 2);
	ck_assert_ptr_nonnull(strstr(r.messages[0], "COPIED"));
	disk_check_result_free(&r);
}
END_TEST

START_TEST(t_compare)
{
	dt_make_raw(dt_path("m.raw"), SZ);
	ck_assert_int_eq(dt_sh("qemu-img convert -c -O qcow2 m.raw m.qcow2 && cp --sparse=always m.raw m2.raw && "
			       "printf 'X' | dd of=m2.raw bs=1 seek=3000001 conv=notrunc status=none && "
			       "qemu-img convert -O raw m.raw big.raw && truncate -s 5M big.raw"), 0);
	disk *a = dt_open(dt_path("m.raw"), DISK_RDONLY), *b = dt_open(dt_path("m.qcow2"), DISK_RDONLY);
	disk *c = dt_open(dt_path("m2.raw"), DISK_RDONLY), *big = dt_open(dt_path("big.raw"), DISK_RDONLY);
	bool same;
	uint64_t at;
	od_err e;
	ck_assert_int_eq(disk_compare(a, b, &same, &at, NULL, NULL, &e), 0);
	ck_assert(same);
	ck_assert_int_eq(disk_compare(b, c, &same, &at, NULL, NULL, &e), 0);
	ck_assert(!same);
	ck_assert_uint_eq(at, 3000001);
	/* a larger image whose extra part is zeros compares equal */
	ck_assert_int_eq(disk_compare(b, big, &same, &at, NULL, NULL, &e), 0);
	ck_assert(same);
	disk_close(a), disk_close(b), disk_close(c), disk_close(big);
}
END_TEST

int main(void)
{
	need_qemu();
	Suite *s = suite_create("qcow2-write");
	TCase *tc = od_check_tcase(s, "write");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, t_create_v3);
	tcase_add_test(tc, t_create_v2_512);
	tcase_add_test(tc, t_create_2m);
	tcase_add_test(tc, t_create_many_refblocks);
	tcase_add_test(tc, t_convert_plain);
	tcase_add_test(tc, t_convert_zlib);
	tcase_add_test(tc, t_convert_zstd);
	tcase_add_test(tc, t_convert_zlib_512_v2);
	tcase_add_test(tc, t_convert_zlib_2m);
	tcase_add_test(tc, t_convert_raw);
	tcase_add_test(tc, t_convert_refcount_bits);
	tcase_add_test(tc, t_convert_from_qemu);
	tcase_add_test(tc, t_rw_overlay_raw);
	tcase_add_test(tc, t_rw_overlay_qcow2_chain);
	tcase_add_test(tc, t_rw_compressed);
	tcase_add_test(tc, t_rw_refbits);
	tcase_add_test(tc, t_rw_refused);
	tcase_add_test(tc, t_dirty_bit);
	tcase_add_test(tc, t_lazy_refcounts);
	tcase_add_test(tc, t_create_backing);
	tcase_add_test(tc, t_check);
	tcase_add_test(tc, t_compare);
	/* made here, in the parent, so that it is removed even when a
	 * test fails in its forked child */
	dt_setup();
	return od_check_run(s);
}
