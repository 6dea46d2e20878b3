/* test_qcow2_read.c - qcow2 images made by qemu-img and qemu-io read back
 * through our driver identical to what `qemu-img convert -O raw` says
 * they contain: both versions, cluster sizes 512 B to 2 MiB, compressed
 * (zlib and zstd), zero clusters of every form, extended L2, refcount
 * widths, backing chains.  Then hostile images: each a clear error. */
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

/* Convert `img` to raw with qemu-img, then compare it with our reading. */
static void same_as_qemu(const char *img)
{
	char ref[600];
	snprintf(ref, sizeof ref, "%s.ref", img);
	ck_assert_int_eq(dt_sh("qemu-img convert -O raw '%s' '%s'", img, ref), 0);
	disk *a = dt_open(img, DISK_RDONLY), *b = dt_open(ref, DISK_RDONLY);
	ck_assert_str_eq(disk_format(a), "qcow2");
	dt_assert_same(a, b);
	dt_check_map(a);
	disk_close(a);
	disk_close(b);
}

static void convert_case(const char *name, const char *opts)
{
	dt_make_raw(dt_path("src.raw"), SZ);
	ck_assert_int_eq(dt_sh("qemu-img convert -f raw -O qcow2 %s src.raw %s", opts, name), 0);
	same_as_qemu(dt_path(name));
}

START_TEST(t_v2_512) { convert_case("v2-512.qcow2", "-o compat=0.10,cluster_size=512"); }
END_TEST
START_TEST(t_v3_64k) { convert_case("v3-64k.qcow2", "-o compat=1.1,cluster_size=64k"); }
END_TEST
START_TEST(t_v3_2m) { convert_case("v3-2m.qcow2", "-o cluster_size=2M"); }
END_TEST
START_TEST(t_v2_2m) { convert_case("v2-2m.qcow2", "-o compat=0.10,cluster_size=2M"); }
END_TEST
START_TEST(t_zlib) { convert_case("zlib.qcow2", "-c"); }
END_TEST
START_TEST(t_zlib_512) { convert_case("zlib512.qcow2", "-c -o cluster_size=512"); }
END_TEST
START_TEST(t_zstd) { convert_case("zstd.qcow2", "-c -o compression_type=zstd"); }
END_TEST
START_TEST(t_extl2) { convert_case("extl2.qcow2", "-o extended_l2=on,cluster_size=64k"); }
END_TEST
START_TEST(t_refbits1) { convert_case("rb1.qcow2", "-o refcount_bits=1"); }
END_TEST
START_TEST(t_refbits64) { convert_case("rb64.qcow2", "-o refcount_bits=64"); }
END_TEST

START_TEST(t_zero_clusters)
{
	/* write -z on allocated clusters keeps the offset (zero flag with an
	 * offset); with -u it drops it (plain zero cluster). */
	convert_case("zero.qcow2", "-o compat=1.1");
	ck_assert_int_eq(dt_sh("qemu-io -f qcow2 -c 'write -P 0x11 0 2M' -c 'write -z 0 64k' "
			       "-c 'write -z -u 128k 256k' -c 'write -z 3M 64k' zero.qcow2 >/dev/null"), 0);
	same_as_qemu(dt_path("zero.qcow2"));
	/* zero clusters over a backing file must hide it */
	ck_assert_int_eq(dt_sh("qemu-img create -q -f qcow2 -b zero.qcow2 -F qcow2 zov.qcow2 && "
			       "qemu-io -f qcow2 -c 'write -z 512k 128k' zov.qcow2 >/dev/null"), 0);
	same_as_qemu(dt_path("zov.qcow2"));
	/* extended L2: zero and allocated subclusters */
	ck_assert_int_eq(dt_sh("qemu-img create -q -f qcow2 -o extended_l2=on -b zero.qcow2 -F qcow2 xov.qcow2 && "
			       "qemu-io -f qcow2 -c 'write -P 0x77 6k 5k' -c 'write -z 70k 4k' xov.qcow2 >/dev/null"), 0);
	same_as_qemu(dt_path("xov.qcow2"));
}
END_TEST

START_TEST(t_backing_chain)
{
	dt_make_raw(dt_path("base.raw"), 2 << 20);
	/* raw base smaller than the overlays: the rest reads as zeros */
	ck_assert_int_eq(dt_sh("qemu-img create -q -f qcow2 -b base.raw -F raw mid.qcow2 4M && "
			       "qemu-io -f qcow2 -c 'write -P 0x55 100k 300k' -c 'write -P 0x66 3M 4k' mid.qcow2 >/dev/null && "
			       "qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 && "
			       "qemu-io -f qcow2 -c 'write -P 0x77 200k 1k' -c 'write -z 1M 64k' top.qcow2 >/dev/null"), 0);
	same_as_qemu(dt_path("top.qcow2"));
	disk *d = dt_open(dt_path("top.qcow2"), DISK_RDONLY);
	ck_assert_ptr_nonnull(disk_backing(d));
	ck_assert_ptr_nonnull(disk_backing(disk_backing(d)));
	ck_assert_str_eq(disk_format(disk_backing(disk_backing(d))), "raw");
	disk_close(d);
	/* without backing files the unallocated ranges are reported as such */
	od_err e;
	d = disk_open(dt_path("top.qcow2"), DISK_NO_BACKING, &e);
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_null(disk_backing(d));
	struct disk_extent x;
	ck_assert_int_eq(disk_map(d, 0, disk_size(d), &x, &e), 0);
	ck_assert_int_eq(x.kind, DISK_EXT_UNALLOC);
	disk_close(d);
}
END_TEST

START_TEST(t_snapshot_dirty)
{
	/* internal snapshots: we read the active layer */
	convert_case("snap.qcow2", "");
	ck_assert_int_eq(dt_sh("qemu-img snapshot -c s1 snap.qcow2 && "
			       "qemu-io -f qcow2 -c 'write -P 0x99 0 1M' snap.qcow2 >/dev/null"), 0);
	same_as_qemu(dt_path("snap.qcow2"));
	/* the dirty bit does not stop reading */
	const char *p = dt_path("snap.qcow2");
	dt_put_be(p, 72, 8, dt_get_be(p, 72, 8) | 1);
	disk *d = dt_open(p, DISK_RDONLY);
	struct disk_info info;
	od_err e;
	ck_assert_int_eq(disk_get_info(d, &info, &e), 0);
	ck_assert(info.dirty);
	disk_info_free(&info);
	disk_close(d);
}
END_TEST


START_TEST(t_in_range)
{
	/* a qcow2 image stored inside a bigger file, as in an OVA */
	convert_case("member.qcow2", "-c");
	ck_assert_int_eq(dt_sh("(head -c 1536 /dev/urandom; cat member.qcow2; head -c 5000 /dev/urandom) > pkg.bin"), 0);
	struct stat st;
	ck_assert_int_eq(stat(dt_path("member.qcow2"), &st), 0);
	int fd = open(dt_path("pkg.bin"), O_RDONLY);
	ck_assert_int_ge(fd, 0);
	od_err e;
	disk *d = disk_open_range(fd, 1536, (uint64_t)st.st_size, "pkg.bin:member.qcow2", DISK_RDONLY, &e);
	close(fd);
	ck_assert_msg(d != NULL, "%s", e.msg);
	ck_assert_str_eq(disk_format(d), "qcow2");
	disk *ref = dt_open(dt_path("member.qcow2.ref"), DISK_RDONLY);
	dt_assert_same(d, ref);
	dt_check_map(d);
	disk_close(ref);
	disk_close(d);
	/* a range cut short: tables past its end are errors, not reads of
	 * the bytes that follow in the enclosing file */
	fd = open(dt_path("pkg.bin"), O_RDONLY);
	d = disk_open_range(fd, 1536, (uint64_t)st.st_size / 2, "cut.qcow2", DISK_RDONLY, &e);
	close(fd);
	if (d) {
		unsigned char *b = malloc(disk_size(d));
		ck_assert_int_eq(disk_pread(d, b, disk_size(d), 0, &e), -1);
		free(b);
		disk_close(d);
	}
}
END_TEST

/* ---- hostile images ---- */

static const char *hostile_base(const char *name, const char *opts)
{
	dt_make_raw(dt_path("h.raw"), 1 << 20);
	ck_assert_int_eq(dt_sh("qemu-img convert -f raw -O qcow2 %s h.raw %s", opts, name), 0);
	return dt_path(name);
}

START_TEST(t_hostile_header)
{
	const char *p = hostile_base("h1.qcow2", "");
	dt_put_be(p, 36, 4, 3000000000u); /* l1_size */
	dt_open_fails(p, "L1 table of 3000000000 entries");
	p = hostile_base("h2.qcow2", "");
	dt_put_be(p, 56, 4, 2000000000u); /* refcount_table_clusters */
	dt_open_fails(p, "refcount table of 2000000000 clusters");
	p = hostile_base("h3.qcow2", "");
	dt_put_be(p, 24, 8, 1ull << 63); /* capacity 2^63 */
	dt_open_fails(p, "virtual size");
	p = hostile_base("h4.qcow2", "");
	dt_put_be(p, 72, 8, 1ull << 20); /* unknown incompatible bit */
	dt_open_fails(p, "unknown incompatible");
	p = hostile_base("h5.qcow2", "");
	dt_put_be(p, 4, 4, 4);
	dt_open_fails(p, "version 4");
	p = hostile_base("h6.qcow2", "");
	dt_put_be(p, 20, 4, 40);
	dt_open_fails(p, "cluster_bits");
	p = hostile_base("h7.qcow2", "");
	dt_put_be(p, 40, 8, 1ull << 40); /* L1 offset past the end */
	dt_open_fails(p, "L1 table");
	p = hostile_base("h8.qcow2", "");
	dt_put_be(p, 16, 4, 5000); /* backing name longer than allowed */
	dt_put_be(p, 8, 8, 512);
	dt_open_fails(p, "backing file name");
}
END_TEST

/* Open, then expect reading the whole disk to fail mentioning `want`. */
static void read_fails(const char *p, const char *want)
{
	disk *d = dt_open(p, DISK_RDONLY);
	unsigned char *b = malloc(disk_size(d));
	od_err e;
	memset(&e, 0, sizeof e);
	int rc = disk_pread(d, b, disk_size(d), 0, &e);
	free(b);
	disk_close(d);
	ck_assert_int_eq(rc, -1);
	if (!strstr(e.msg, want))
		ck_abort_msg("'%s' lacks '%s'", e.msg, want);
}

START_TEST(t_hostile_tables)
{
	const char *p = hostile_base("t1.qcow2", "");
	uint64_t l1 = dt_get_be(p, 40, 8);
	uint64_t l2 = dt_get_be(p, l1, 8) & 0x00fffffffffffe00ull;
	/* L1 entry past the end of the file */
	dt_put_be(p, l1, 8, (1ull << 63) | (1ull << 40));
	read_fails(p, "past the end");
	/* L2 entry past the end of the file */
	p = hostile_base("t2.qcow2", "");
	dt_put_be(p, l2, 8, (1ull << 63) | (1ull << 40));
	read_fails(p, "past the end");
	/* L2 entry unaligned, and one pointing into the header cluster */
	p = hostile_base("t3.qcow2", "");
	dt_put_be(p, l2, 8, (1ull << 63) | 0x10200);
	read_fails(p, "aligned");
	/* a compressed descriptor past the end of the file */
	p = hostile_base("t6.qcow2", "-c");
	l1 = dt_get_be(p, 40, 8);
	l2 = dt_get_be(p, l1, 8) & 0x00fffffffffffe00ull;
	uint64_t ent = 0;
	for (int i = 0; i < 16 && !(ent & (1ull << 62)); i++)
		ent = dt_get_be(p, l2 + 8 * i, 8);
	ck_assert(ent & (1ull << 62));
	for (int i = 0; i < 16; i++)
		if (dt_get_be(p, l2 + 8 * i, 8) & (1ull << 62))
			dt_put_be(p, l2 + 8 * i, 8, (1ull << 62) | (1ull << 40));
	read_fails(p, "outside the file");
	/* a compressed cluster that does not inflate */
	p = hostile_base("t7.qcow2", "-c");
	l1 = dt_get_be(p, 40, 8);
	l2 = dt_get_be(p, l1, 8) & 0x00fffffffffffe00ull;
	for (int i = 0; i < 16; i++) {
		ent = dt_get_be(p, l2 + 8 * i, 8);
		if (ent & (1ull << 62)) {
			uint64_t h = ent & ((1ull << 54) - 1);
			dt_put_be(p, h, 8, 0xffffffffffffffffull);
		}
	}
	read_fails(p, "compressed cluster");
}
END_TEST

START_TEST(t_backing_loop)
{
	ck_assert_int_eq(dt_sh("qemu-img create -q -f qcow2 -u -b b.qcow2 -F qcow2 a.qcow2 1M && "
			       "qemu-img create -q -f qcow2 -u -b a.qcow2 -F qcow2 b.qcow2 1M && "
			       "qemu-img create -q -f qcow2 -u -b self.qcow2 -F qcow2 s2.qcow2 1M && mv s2.qcow2 self.qcow2"), 0);
	dt_open_fails(dt_path("a.qcow2"), "loop");
	dt_open_fails(dt_path("self.qcow2"), "loop");
	/* a missing backing file is named */
	ck_assert_int_eq(dt_sh("qemu-img create -q -f qcow2 -u -b missing.raw -F raw m.qcow2 1M"), 0);
	dt_open_fails(dt_path("m.qcow2"), "missing.raw");
}
END_TEST

int main(void)
{
	need_qemu();
	Suite *s = suite_create("qcow2-read");
	TCase *tc = od_check_tcase(s, "read");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, t_v2_512);
	tcase_add_test(tc, t_v3_64k);
	tcase_add_test(tc, t_v3_2m);
	tcase_add_test(tc, t_v2_2m);
	tcase_add_test(tc, t_zlib);
	tcase_add_test(tc, t_zlib_512);
	tcase_add_test(tc, t_zstd);
	tcase_add_test(tc, t_extl2);
	tcase_add_test(tc, t_refbits1);
	tcase_add_test(tc, t_refbits64);
	tcase_add_test(tc, t_zero_clusters);
	tcase_add_test(tc, t_backing_chain);
	tcase_add_test(tc, t_snapshot_dirty);
	tcase_add_test(tc, t_in_range);
	TCase *th = od_check_tcase(s, "hostile");
	tcase_add_test(th, t_hostile_header);
	tcase_add_test(th, t_hostile_tables);
	tcase_add_test(th, t_backing_loop);
	/* made here, in the parent, so that it is removed even when a
	 * test fails in its forked child */
	dt_setup();
	return od_check_run(s);
}
