/* test_vmdk.c - the VMDK driver against qemu-img as the oracle: every
 * subformat qemu-img writes reads back identical to its source, images we
 * write pass `qemu-img check` and `qemu-img compare`, and each kind of
 * hostile file fails with a clear message. */
#include "config.h"
#include "dtest.h"

#include <libdeflate.h>
#include <pthread.h>
#include <stdint.h>

#define SZ (6u << 20)

/* qemu-img is the oracle; main() skips the program when it is absent. */
static void need_qemu(void) {}

static uint64_t file_size(const char *path)
{
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* Read everything through disk_pread against the raw source, and check that
 * the map covers the disk and that what it calls zero is zero. Returns the
 * bytes reported as zero or unallocated. */
static uint64_t verify_against(disk *d, const char *raw_path)
{
	disk *r = dt_open(raw_path, DISK_RDONLY);
	dt_assert_same(r, d);
	od_err e;
	uint64_t off = 0, holes = 0;
	unsigned char *buf = malloc(SZ), *z = calloc(1, SZ);
	dt_get_bytes(raw_path, buf, SZ, 0);
	unsigned runs = 0;
	while (off < disk_size(d)) {
		struct disk_extent x;
		if (disk_map(d, off, disk_size(d) - off, &x, &e) < 0)
			ck_abort_msg("map: %s", e.msg);
		ck_assert_uint_eq(x.off, off);
		ck_assert_uint_gt(x.len, 0);
		if (x.kind != DISK_EXT_DATA) {
			ck_assert_msg(memcmp(buf + off, z, x.len) == 0, "%s: run at %llu reported as zeros has data",
				      disk_name(d), (unsigned long long)off);
			holes += x.len;
		}
		off += x.len;
		ck_assert_uint_lt(++runs, 100000);
	}
	free(buf), free(z);
	disk_close(r);
	return holes;
}

static void check_clean(disk *d, bool deep)
{
	struct disk_check_result r;
	od_err e;
	if (disk_check(d, deep, &r, &e) < 0)
		ck_abort_msg("check: %s", e.msg);
	ck_assert_msg(r.corruptions == 0, "%s: %llu corruptions, first: %s", disk_name(d),
		      (unsigned long long)r.corruptions, r.nmessages ? r.messages[0] : "");
	disk_check_result_free(&r);
}

static void write_text(const char *name, const char *text)
{
	FILE *f = fopen(dt_path(name), "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static const char *const subformats[] = {
	"monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse", "twoGbMaxExtentFlat", "streamOptimized",
};

START_TEST(test_read_qemu)
{
	need_qemu();
	const char *sub = subformats[_i];
	const char *src = dt_path("src.raw");
	dt_make_raw(src, SZ);
	ck_assert_int_eq(dt_sh("qemu-img convert -O vmdk -o subformat=%s src.raw img.vmdk", sub), 0);
	disk *d = dt_open(dt_path("img.vmdk"), DISK_RDONLY);
	ck_assert_str_eq(disk_format(d), "vmdk");
	ck_assert_uint_eq(disk_size(d), SZ);
	uint64_t holes = verify_against(d, src);
	if (strstr(sub, "Sparse") || strstr(sub, "stream"))
		ck_assert_msg(holes >= SZ / 4, "%s: only %llu bytes reported as holes", sub, (unsigned long long)holes);
	struct disk_info info;
	od_err e;
	ck_assert_int_eq(disk_get_info(d, &info, &e), 0);
	ck_assert_str_eq(info.subformat, sub);
	ck_assert_ptr_nonnull(info.vmdk_descriptor);
	ck_assert_ptr_nonnull(strstr(info.vmdk_descriptor, "createType"));
	if (strstr(sub, "Sparse") || strstr(sub, "stream"))
		ck_assert_uint_eq(info.cluster_size, 65536);
	ck_assert(info.compressed == (strstr(sub, "stream") != NULL));
	disk_info_free(&info);
	check_clean(d, true);
	disk_close(d);
}
END_TEST

/* Write through our API in increasing order, in odd-sized pieces. */
static void write_ours_ex(const char *src, const char *dst, const char *sub, unsigned threads, uint32_t grain,
			  uint64_t size)
{
	struct disk_create_opts o = {.subformat = sub, .threads = threads, .cluster_size = grain};
	od_err e;
	disk *d = disk_create(dt_path(dst), "vmdk", size, &o, &e);
	ck_assert_msg(d != NULL, "create: %s", e.msg);
	ck_assert_uint_eq(disk_size(d), (size + 511) / 512 * 512);
	unsigned char *buf = malloc(size);
	dt_get_bytes(dt_path(src), buf, size, 0);
	size_t piece = 100000; /* not a grain multiple: exercises partial grains */
	for (size_t off = 0; off < size; off += piece) {
		size_t n = size - off < piece ? size - off : piece;
		if (disk_pwrite(d, buf + off, n, off, &e) < 0)
			ck_abort_msg("pwrite at %zu: %s", off, e.msg);
	}
	if (disk_commit(d, &e) < 0)
		ck_abort_msg("commit: %s", e.msg);
	disk_close(d);
	free(buf);
}

static void write_ours(const char *src, const char *dst, const char *sub, unsigned threads)
{
	write_ours_ex(src, dst, sub, threads, 0, SZ);
}

/* 4 KiB grains make a grain table cover 2 MiB, so a 6 MiB disk has three
 * tables, some with no data: the stream writer's table boundaries and the
 * sparse writer's table allocation are exercised.  The odd size leaves a
 * partial last grain. */
START_TEST(test_write_small_grains)
{
	need_qemu();
	const char *sub = _i ? "streamOptimized" : "monolithicSparse";
	uint64_t size = SZ - 4096 + 1536;
	dt_make_raw(dt_path("src.raw"), size);
	/* a gap of more than one grain table with no data at all */
	ck_assert_int_eq(dt_sh("dd if=/dev/zero of=src.raw bs=1M seek=2 count=2 conv=notrunc status=none"), 0);
	ck_assert_int_eq(dt_sh("truncate -s %llu src.raw", (unsigned long long)size), 0);
	write_ours_ex("src.raw", "g.vmdk", sub, 2, 4096, size);
	ck_assert_int_eq(dt_sh("qemu-img check -q g.vmdk"), 0);
	ck_assert_int_eq(dt_sh("truncate -s %llu src.raw && qemu-img compare -q src.raw g.vmdk",
			       (unsigned long long)(size + 511) / 512 * 512), 0);
	if (_i) {
		/* every grain directory entry names a table, empty ones too */
		uint64_t fs = file_size(dt_path("g.vmdk"));
		unsigned char f[512], gd[12];
		dt_get_bytes(dt_path("g.vmdk"), f, sizeof f, fs - 1024);
		dt_get_bytes(dt_path("g.vmdk"), gd, sizeof gd, dt_le(f + 56, 8) * 512);
		for (int i = 0; i < 3; i++)
			ck_assert_uint_ne(dt_le(gd + 4 * i, 4), 0);
	}
	disk *d = dt_open(dt_path("g.vmdk"), DISK_RDONLY);
	struct disk_info info;
	od_err e;
	ck_assert_int_eq(disk_get_info(d, &info, &e), 0);
	ck_assert_uint_eq(info.cluster_size, 4096);
	disk_info_free(&info);
	disk *r = dt_open(dt_path("src.raw"), DISK_RDONLY);
	dt_assert_same(r, d);
	struct disk_extent x;
	ck_assert_int_eq(disk_map(d, 2 << 20, 2 << 20, &x, &e), 0);
	ck_assert_int_ne(x.kind, DISK_EXT_DATA);
	ck_assert_uint_eq(x.len, 2 << 20);
	check_clean(d, true);
	disk_close(r);
	disk_close(d);
}
END_TEST

START_TEST(test_write_stream)
{
	need_qemu();
	dt_make_raw(dt_path("src.raw"), SZ);
	write_ours("src.raw", "s.vmdk", "streamOptimized", _i ? 3 : 1);
	ck_assert_int_eq(dt_sh("qemu-img check -q s.vmdk"), 0);
	ck_assert_int_eq(dt_sh("qemu-img compare -q src.raw s.vmdk"), 0);
	/* our layout: version 3, flags 0x30001, deflate, GD at the end */
	unsigned char h[512];
	dt_get_bytes(dt_path("s.vmdk"), h, sizeof h, 0);
	ck_assert_uint_eq(dt_le(h + 4, 4), 3);
	ck_assert_uint_eq(dt_le(h + 8, 4), 0x30001);
	ck_assert_uint_eq(dt_le(h + 56, 8), UINT64_MAX);
	ck_assert_uint_eq(dt_le(h + 77, 2), 1);
	/* ends with footer marker, footer, EOS marker */
	uint64_t fs = file_size(dt_path("s.vmdk"));
	unsigned char t[1536];
	dt_get_bytes(dt_path("s.vmdk"), t, sizeof t, fs - 1536);
	ck_assert_uint_eq(dt_le(t + 12, 4), 3);
	ck_assert_uint_eq(dt_le(t + 512, 4), 0x564d444b);
	ck_assert_uint_ne(dt_le(t + 512 + 56, 8), UINT64_MAX);
	for (int i = 0; i < 512; i++)
		ck_assert_uint_eq(t[1024 + i], 0);
	/* the descriptor names the adapter, the geometry and a fresh CID */
	char desc[1024];
	dt_get_bytes(dt_path("s.vmdk"), desc, sizeof desc - 1, 512);
	desc[sizeof desc - 1] = 0;
	ck_assert_ptr_nonnull(strstr(desc, "createType=\"streamOptimized\""));
	ck_assert_ptr_nonnull(strstr(desc, "ddb.adapterType = \"lsilogic\""));
	ck_assert_ptr_nonnull(strstr(desc, "ddb.geometry.heads = \"255\""));
	ck_assert_ptr_nonnull(strstr(desc, "ddb.virtualHWVersion"));
	ck_assert_ptr_nonnull(strstr(desc, "RW 12288 SPARSE \"s.vmdk\""));
	/* and we read it back, map included */
	disk *d = dt_open(dt_path("s.vmdk"), DISK_RDONLY);
	ck_assert_uint_ge(verify_against(d, dt_path("src.raw")), SZ / 4);
	check_clean(d, true);
	disk_close(d);
	/* qemu-img converts it back to the same bytes */
	ck_assert_int_eq(dt_sh("qemu-img convert -O raw s.vmdk back.raw && cmp -s src.raw back.raw"), 0);
}
END_TEST

START_TEST(test_write_sparse)
{
	need_qemu();
	dt_make_raw(dt_path("src.raw"), SZ);
	write_ours("src.raw", "m.vmdk", "monolithicSparse", 0);
	ck_assert_int_eq(dt_sh("qemu-img check -q m.vmdk"), 0);
	ck_assert_int_eq(dt_sh("qemu-img compare -q src.raw m.vmdk"), 0);
	disk *d = dt_open(dt_path("m.vmdk"), DISK_RDONLY);
	ck_assert_uint_ge(verify_against(d, dt_path("src.raw")), SZ / 4);
	check_clean(d, true);
	disk_close(d);
}
END_TEST

/* Random-access writes to a monolithicSparse image, in any order, with
 * overwrites; compared against the same writes applied to a raw file. */
START_TEST(test_sparse_random_write)
{
	need_qemu();
	struct disk_create_opts o = {.subformat = "monolithicSparse"};
	od_err e;
	disk *d = disk_create(dt_path("r.vmdk"), "vmdk", SZ, &o, &e);
	ck_assert_msg(d != NULL, "%s", e.msg);
	unsigned char *shadow = calloc(1, SZ);
	unsigned char b[70000];
	uint64_t x = 12345;
	for (int i = 0; i < 200; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		size_t n = 1 + (size_t)(x >> 20) % sizeof b;
		uint64_t off = (x >> 33) % (SZ - n);
		dt_fill(b, n, (uint64_t)i);
		if (i % 7 == 0)
			memset(b, 0, n);
		memcpy(shadow + off, b, n);
		if (disk_pwrite(d, b, n, off, &e) < 0)
			ck_abort_msg("pwrite: %s", e.msg);
	}
	ck_assert_int_eq(disk_commit(d, &e), 0);
	disk_close(d);
	int fd = open(dt_path("r.raw"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ck_assert(write(fd, shadow, SZ) == SZ);
	close(fd);
	ck_assert_int_eq(dt_sh("qemu-img check -q r.vmdk"), 0);
	ck_assert_int_eq(dt_sh("qemu-img compare -q r.raw r.vmdk"), 0);
	/* reopen read-write and overwrite again: the CID changes */
	struct disk_info i1, i2;
	d = dt_open(dt_path("r.vmdk"), DISK_RDONLY);
	ck_assert_int_eq(disk_get_info(d, &i1, &e), 0);
	disk_close(d);
	d = dt_open(dt_path("r.vmdk"), DISK_RDWR);
	dt_fill(b, sizeof b, 777);
	ck_assert_int_eq(disk_pwrite(d, b, sizeof b, 1000000, &e), 0);
	memcpy(shadow + 1000000, b, sizeof b);
	ck_assert_int_eq(disk_flush(d, &e), 0);
	disk_close(d);
	d = dt_open(dt_path("r.vmdk"), DISK_RDONLY);
	ck_assert_int_eq(disk_get_info(d, &i2, &e), 0);
	disk_close(d);
	const char *c1 = strstr(i1.vmdk_descriptor, "\nCID="), *c2 = strstr(i2.vmdk_descriptor, "\nCID=");
	ck_assert(c1 && c2);
	ck_assert_int_ne(strncmp(c1, c2, 14), 0);
	ck_assert_uint_eq(strlen(i1.vmdk_descriptor), strlen(i2.vmdk_descriptor));
	disk_info_free(&i1), disk_info_free(&i2);
	fd = open(dt_path("r.raw"), O_WRONLY);
	ck_assert(pwrite(fd, shadow, SZ, 0) == SZ);
	close(fd);
	ck_assert_int_eq(dt_sh("qemu-img check -q r.vmdk"), 0);
	ck_assert_int_eq(dt_sh("qemu-img compare -q r.raw r.vmdk"), 0);
	free(shadow);
}
END_TEST


/* Writing where the grain directory has no table yet (GD entry 0, as other
 * writers leave it) allocates the table and its redundant copy. */
START_TEST(test_sparse_gt_alloc)
{
	need_qemu();
	struct disk_create_opts o = {.subformat = "monolithicSparse", .cluster_size = 4096};
	od_err e;
	disk *d = disk_create(dt_path("a.vmdk"), "vmdk", SZ, &o, &e);
	ck_assert_msg(d != NULL, "%s", e.msg);
	ck_assert_int_eq(disk_commit(d, &e), 0);
	disk_close(d);
	unsigned char h[512];
	dt_get_bytes(dt_path("a.vmdk"), h, sizeof h, 0);
	dt_put_le(dt_path("a.vmdk"), dt_le(h + 56, 8) * 512 + 4, 0, 4);
	dt_put_le(dt_path("a.vmdk"), dt_le(h + 48, 8) * 512 + 4, 0, 4);
	d = dt_open(dt_path("a.vmdk"), DISK_RDWR);
	struct disk_extent x;
	ck_assert_int_eq(disk_map(d, 2 << 20, 2 << 20, &x, &e), 0);
	ck_assert_int_eq(x.kind, DISK_EXT_UNALLOC);
	ck_assert_uint_eq(x.len, 2 << 20);
	unsigned char b[10000];
	dt_fill(b, sizeof b, 5);
	ck_assert_int_eq(disk_pwrite(d, b, sizeof b, (2 << 20) + 777, &e), 0);
	ck_assert_int_eq(disk_flush(d, &e), 0);
	disk_close(d);
	unsigned char *z = calloc(1, SZ);
	memcpy(z + (2 << 20) + 777, b, sizeof b);
	int fd = open(dt_path("a.raw"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ck_assert(write(fd, z, SZ) == SZ);
	close(fd);
	free(z);
	ck_assert_int_eq(dt_sh("qemu-img check -q a.vmdk"), 0);
	ck_assert_int_eq(dt_sh("qemu-img compare -q a.raw a.vmdk"), 0);
	d = dt_open(dt_path("a.vmdk"), DISK_RDONLY);
	check_clean(d, true);
	disk_close(d);
}
END_TEST


/* Big sparse disks cost metadata on disk (sparse zeros), not memory. */
START_TEST(test_big_sparse)
{
	need_qemu();
	struct disk_create_opts o = {.subformat = "monolithicSparse"};
	od_err e;
	uint64_t size = UINT64_C(1) << 40;
	ck_assert_ptr_null(disk_create(dt_path("huge.vmdk"), "vmdk", 4 * size, &o, &e));
	ck_assert_ptr_nonnull(strstr(e.msg, "2 TiB"));
	disk *d = disk_create(dt_path("big.vmdk"), "vmdk", size, &o, &e);
	ck_assert_msg(d != NULL, "%s", e.msg);
	unsigned char b[4096];
	dt_fill(b, sizeof b, 8);
	ck_assert_int_eq(disk_pwrite(d, b, sizeof b, size - sizeof b, &e), 0);
	ck_assert_int_eq(disk_commit(d, &e), 0);
	disk_close(d);
	ck_assert_int_eq(dt_sh("qemu-img check -q big.vmdk"), 0);
	ck_assert_int_eq(dt_sh("qemu-io -c 'read -q -P 0 0 1M' big.vmdk >/dev/null"), 0);
	d = dt_open(dt_path("big.vmdk"), DISK_RDONLY);
	unsigned char c[4096];
	ck_assert_int_eq(disk_pread(d, c, sizeof c, size - sizeof c, &e), 0);
	ck_assert_int_eq(memcmp(b, c, sizeof b), 0);
	struct disk_extent x;
	ck_assert_int_eq(disk_map(d, 0, size, &x, &e), 0);
	ck_assert_int_eq(x.kind, DISK_EXT_UNALLOC);
	ck_assert_uint_ge(x.len, UINT64_C(1) << 30);
	disk_close(d);
}
END_TEST

START_TEST(test_stream_sequential_only)
{
	struct disk_create_opts o = {.subformat = "streamOptimized"};
	od_err e;
	disk *d = disk_create(dt_path("q.vmdk"), "vmdk", 1 << 20, &o, &e);
	ck_assert_msg(d != NULL, "%s", e.msg);
	unsigned char b[4096];
	dt_fill(b, sizeof b, 1);
	ck_assert_int_eq(disk_pwrite(d, b, sizeof b, 65536, &e), 0);
	ck_assert_int_eq(disk_pwrite(d, b, sizeof b, 0, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "sequentially"));
	disk_close(d); /* never committed: nothing appears */
	ck_assert_int_eq(access(dt_path("q.vmdk"), F_OK), -1);
	/* an empty disk: no grain tables at all, still a valid stream */
	o.subformat = "streamOptimized";
	d = disk_create(dt_path("empty.vmdk"), "vmdk", 10 << 20, &o, &e);
	ck_assert_msg(d != NULL, "%s", e.msg);
	memset(b, 0, sizeof b);
	ck_assert_int_eq(disk_pwrite(d, b, sizeof b, 4096, &e), 0);
	ck_assert_int_eq(disk_commit(d, &e), 0);
	disk_close(d);
	ck_assert_int_eq(dt_sh("qemu-img check -q empty.vmdk && truncate -s 10M zero.raw && "
			       "qemu-img compare -q zero.raw empty.vmdk"), 0);
	d = dt_open(dt_path("empty.vmdk"), DISK_RDONLY);
	struct disk_extent x;
	ck_assert_int_eq(disk_map(d, 0, 10 << 20, &x, &e), 0);
	ck_assert_int_eq(x.kind, DISK_EXT_UNALLOC);
	ck_assert_uint_eq(x.len, 10 << 20);
	check_clean(d, true);
	disk_close(d);
	/* bad subformat */
	o.subformat = "monolithicFlat";
	ck_assert_ptr_null(disk_create(dt_path("f.vmdk"), "vmdk", 1 << 20, &o, &e));
}
END_TEST

/* ---- hostile files -------------------------------------------------------- */

/* A small stream image of ours and a monolithicSparse one to damage. */
static void make_victims(void)
{
	dt_make_raw(dt_path("src.raw"), SZ);
	write_ours("src.raw", "m.vmdk", "monolithicSparse", 0);
	write_ours("src.raw", "s.vmdk", "streamOptimized", 1);
}

static void expect_open_fails(const char *name, const char *want)
{
	dt_open_fails(dt_path(name), want);
}

/* Opens, but reading everything fails with `want`. */
static void expect_read_fails(const char *name, const char *want)
{
	disk *d = dt_open(dt_path(name), DISK_RDONLY);
	unsigned char *b = malloc(SZ);
	od_err e;
	memset(&e, 0, sizeof e);
	ck_assert_int_eq(disk_pread(d, b, SZ, 0, &e), -1);
	ck_assert_msg(strstr(e.msg, want) != NULL, "message '%s' lacks '%s'", e.msg, want);
	struct disk_check_result r;
	if (disk_check(d, true, &r, &e) == 0) {
		ck_assert_uint_gt(r.corruptions, 0);
		disk_check_result_free(&r);
	}
	free(b);
	disk_close(d);
}

START_TEST(test_hostile_header)
{
	make_victims();
	ck_assert_int_eq(dt_sh("cp m.vmdk g0.vmdk && cp m.vmdk g3.vmdk && cp m.vmdk gte.vmdk && cp m.vmdk cap.vmdk"
			       " && cp m.vmdk gd.vmdk && cp m.vmdk ver.vmdk"), 0);
	dt_put_le(dt_path("g0.vmdk"), 20, 0, 8);
	expect_open_fails("g0.vmdk", "not a power of two");
	dt_put_le(dt_path("g3.vmdk"), 20, 3, 8);
	expect_open_fails("g3.vmdk", "not a power of two");
	dt_put_le(dt_path("gte.vmdk"), 44, 256, 4);
	expect_open_fails("gte.vmdk", "numGTEsPerGT");
	dt_put_le(dt_path("cap.vmdk"), 12, UINT64_C(1) << 63, 8);
	expect_open_fails("cap.vmdk", "too large");
	dt_put_le(dt_path("gd.vmdk"), 56, 0x7fffff00, 8);
	expect_open_fails("gd.vmdk", "grain directory points past the end of the file (offset 0x");
	dt_put_le(dt_path("ver.vmdk"), 4, 9, 4);
	expect_open_fails("ver.vmdk", "version 9");
	/* huge descriptor size in the header */
	ck_assert_int_eq(dt_sh("cp m.vmdk dsz.vmdk"), 0);
	dt_put_le(dt_path("dsz.vmdk"), 36, 4096, 8);
	expect_open_fails("dsz.vmdk", "larger than the limit");
}
END_TEST

START_TEST(test_hostile_tables)
{
	make_victims();
	unsigned char h[512];
	dt_get_bytes(dt_path("m.vmdk"), h, sizeof h, 0);
	uint64_t gd = dt_le(h + 56, 8);
	unsigned char g[4];
	dt_get_bytes(dt_path("m.vmdk"), g, 4, gd * 512);
	uint64_t gt0 = dt_le(g, 4);
	/* GD entry pointing past the end */
	ck_assert_int_eq(dt_sh("cp m.vmdk gdent.vmdk && cp m.vmdk gtent.vmdk"), 0);
	dt_put_le(dt_path("gdent.vmdk"), gd * 512, 0x7ffffff0, 4);
	expect_read_fails("gdent.vmdk", "grain table 0 points past the end of the file (offset 0x");
	/* GT entry pointing past the end (grain 0 has data) */
	dt_put_le(dt_path("gtent.vmdk"), gt0 * 512, 0x7ffffff0, 4);
	expect_read_fails("gtent.vmdk", "grain 0 points past the end of the file");
	/* writing through a table entry aimed at the metadata is refused */
	ck_assert_int_eq(dt_sh("cp m.vmdk gtmeta.vmdk"), 0);
	dt_put_le(dt_path("gtmeta.vmdk"), gt0 * 512, 2, 4);
	disk *w = dt_open(dt_path("gtmeta.vmdk"), DISK_RDWR);
	unsigned char blk[512] = {1};
	od_err e;
	ck_assert_int_eq(disk_pwrite(w, blk, sizeof blk, 0, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a valid grain location"));
	disk_close(w);
	/* truncated sparse file: grains past the new end */
	ck_assert_int_eq(dt_sh("cp m.vmdk trunc.vmdk && truncate -s 200000 trunc.vmdk"), 0);
	expect_read_fails("trunc.vmdk", "past the end");
}
END_TEST

START_TEST(test_hostile_stream)
{
	make_victims();
	unsigned char h[512];
	dt_get_bytes(dt_path("s.vmdk"), h, sizeof h, 0);
	uint64_t first = dt_le(h + 64, 8) * 512; /* first grain: right after overHead */
	/* compressed grain claiming three grains */
	ck_assert_int_eq(dt_sh("cp s.vmdk big.vmdk && cp s.vmdk bad.vmdk && cp s.vmdk tr.vmdk && cp s.vmdk ft.vmdk"), 0);
	dt_put_le(dt_path("big.vmdk"), first + 8, 3 * 65536, 4);
	expect_read_fails("big.vmdk", "more than two grains");
	/* corrupt deflate data */
	dt_put_le(dt_path("bad.vmdk"), first + 20, 0xdeadbeefcafef00dull, 8);
	expect_read_fails("bad.vmdk", "does not inflate");
	/* truncated stream: no footer */
	ck_assert_int_eq(dt_sh("truncate -s 300000 tr.vmdk"), 0);
	expect_open_fails("tr.vmdk", "footer");
	/* footer pointing the GD past the end */
	uint64_t fs = file_size(dt_path("ft.vmdk"));
	dt_put_le(dt_path("ft.vmdk"), fs - 1024 + 56, 0x7fffff00, 8);
	expect_open_fails("ft.vmdk", "grain directory points past the end");
	/* a stream whose first header was left incomplete: the footer rules */
	ck_assert_int_eq(dt_sh("cp s.vmdk inc.vmdk"), 0);
	dt_put_le(dt_path("inc.vmdk"), 12, 0, 8);
	dt_put_le(dt_path("inc.vmdk"), 20, 0, 8);
	disk *di = dt_open(dt_path("inc.vmdk"), DISK_RDONLY);
	verify_against(di, dt_path("src.raw"));
	disk_close(di);
	/* a GT marker type we do not know is reported by check */
	ck_assert_int_eq(dt_sh("cp s.vmdk mk.vmdk"), 0);
	dt_put_le(dt_path("mk.vmdk"), fs - 512 + 12, 7, 4);
	disk *d = dt_open(dt_path("mk.vmdk"), DISK_RDONLY);
	struct disk_check_result r;
	od_err e;
	ck_assert_int_eq(disk_check(d, false, &r, &e), 0);
	ck_assert_uint_gt(r.corruptions, 0);
	disk_check_result_free(&r);
	disk_close(d);
}
END_TEST

START_TEST(test_hostile_descriptor)
{
	unsigned char z[4096] = {0};
	int fd = open(dt_path("flat.bin"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ck_assert(write(fd, z, sizeof z) == sizeof z);
	close(fd);
	const char *head = "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
			   "createType=\"monolithicFlat\"\n";
	char buf[1024];
	/* a valid one first, so the failures below are about what they change */
	snprintf(buf, sizeof buf, "%sRW 8 FLAT \"flat.bin\" 0\nRW 16 ZERO\n", head);
	write_text("ok.vmdk", buf);
	disk *d = dt_open(dt_path("ok.vmdk"), DISK_RDONLY);
	ck_assert_uint_eq(disk_size(d), 24 * 512);
	disk_close(d);
	/* ESX's "vmfs" type: a VMFS extent without an offset, CRLF lines */
	write_text("esx.vmdk", "# Disk DescriptorFile\r\nversion=1\r\nCID=abcdef01\r\nparentCID=ffffffff\r\n"
			       "createType=\"vmfs\"\r\n\r\nRW 8 VMFS \"flat.bin\"\r\n\r\n"
			       "ddb.adapterType = \"lsilogic\"\r\nddb.uuid = \"60 00 C2 9a\"\r\n");
	d = dt_open(dt_path("esx.vmdk"), DISK_RDONLY);
	ck_assert_uint_eq(disk_size(d), 8 * 512);
	struct disk_info info;
	od_err e;
	ck_assert_int_eq(disk_get_info(d, &info, &e), 0);
	ck_assert_str_eq(info.subformat, "vmfs");
	disk_info_free(&info);
	disk_close(d);
	snprintf(buf, sizeof buf, "%sRW 8 FLAT \"flat.bin 0\n", head);
	write_text("q.vmdk", buf);
	expect_open_fails("q.vmdk", "unterminated");
	snprintf(buf, sizeof buf, "%sRW -8 FLAT \"flat.bin\" 0\n", head);
	write_text("neg.vmdk", buf);
	expect_open_fails("neg.vmdk", "bad extent size");
	snprintf(buf, sizeof buf, "%sRW 99999999999999999999999 FLAT \"flat.bin\" 0\n", head);
	write_text("huge.vmdk", buf);
	expect_open_fails("huge.vmdk", "bad extent size");
	snprintf(buf, sizeof buf, "%sRW 8 FLAT \"flat.bin\" -1\n", head);
	write_text("negoff.vmdk", buf);
	expect_open_fails("negoff.vmdk", "bad extent offset");
	snprintf(buf, sizeof buf, "%sRW 16 FLAT \"flat.bin\" 0\n", head);
	write_text("short.vmdk", buf);
	expect_open_fails("short.vmdk", "flat extent");
	snprintf(buf, sizeof buf, "%sRW 8 FLAT \"../flat.bin\" 0\n", head);
	write_text("dotdot.vmdk", buf);
	expect_open_fails("dotdot.vmdk", "leaves the descriptor's directory");
	snprintf(buf, sizeof buf, "%sRW 8 FLAT \"flat.bin\" 0\nparentFileNameHint=\"p.vmdk\"\n", head);
	write_text("parent.vmdk", buf);
	expect_open_fails("parent.vmdk", "cannot open 'p.vmdk'");
	snprintf(buf, sizeof buf, "# Disk DescriptorFile\nversion=1\nparentCID=12345678\n"
		 "createType=\"monolithicFlat\"\nRW 8 FLAT \"flat.bin\" 0\n");
	write_text("pcid.vmdk", buf);
	expect_open_fails("pcid.vmdk", "no parentFileNameHint");
	snprintf(buf, sizeof buf, "%s", head);
	write_text("none.vmdk", buf);
	expect_open_fails("none.vmdk", "no extents");
	/* half a million ZERO extents: refused at the cap, not parsed forever */
	FILE *f = fopen(dt_path("many.vmdk"), "w");
	fputs(head, f);
	for (int i = 0; i < 50000; i++)
		fputs("RW 1 ZERO\n", f);
	fclose(f);
	expect_open_fails("many.vmdk", "more than 4096 extents");
	/* 3000 one-sector pieces of one flat file: one open file, not 3000 */
	unsigned char *big = malloc(3000 * 512);
	dt_fill(big, 3000 * 512, 3);
	fd = open(dt_path("flat3k.bin"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ck_assert(write(fd, big, 3000 * 512) == 3000 * 512);
	close(fd);
	f = fopen(dt_path("pieces.vmdk"), "w");
	fputs(head, f);
	for (int i = 2999; i >= 0; i--) /* reversed: sector i of the disk is sector 2999-i of the file */
		fprintf(f, "RW 1 FLAT \"flat3k.bin\" %d\n", i);
	fclose(f);
	d = dt_open(dt_path("pieces.vmdk"), DISK_RDONLY);
	ck_assert_uint_eq(disk_size(d), 3000 * 512);
	unsigned char *rd = malloc(3000 * 512);
	od_err e2;
	ck_assert_int_eq(disk_pread(d, rd, 3000 * 512, 0, &e2), 0);
	for (int i = 0; i < 3000; i++)
		ck_assert_int_eq(memcmp(rd + 512 * i, big + 512 * (2999 - i), 512), 0);
	disk_close(d);
	free(rd), free(big);
	/* over 1 MiB of descriptor text */
	f = fopen(dt_path("big.vmdk"), "w");
	fputs(head, f);
	fputs("RW 8 FLAT \"flat.bin\" 0\n", f);
	for (int i = 0; i < 40000; i++)
		fputs("# padding padding padding padding\n", f);
	fclose(f);
	expect_open_fails("big.vmdk", "larger than the limit");
}
END_TEST


START_TEST(test_zeroed_grain)
{
	/* qemu-io's write -z on an image with zeroed_grain=on leaves GT
	 * entries of 1: they read as zeros and map as ZERO, not as data. */
	if (!dt_have("qemu-io"))
		return;
	ck_assert_int_eq(dt_sh("qemu-img create -q -f vmdk -o zeroed_grain=on z.vmdk 4M && "
			       "qemu-io -c 'write -q -P 0xaa 0 1M' -c 'write -q -z 0 128k' z.vmdk >/dev/null"), 0);
	disk *d = dt_open(dt_path("z.vmdk"), DISK_RDONLY);
	od_err e;
	struct disk_extent x;
	ck_assert_int_eq(disk_map(d, 0, disk_size(d), &x, &e), 0);
	ck_assert_int_eq(x.kind, DISK_EXT_ZERO);
	ck_assert_uint_eq(x.len, 128 << 10);
	ck_assert_int_eq(disk_map(d, 128 << 10, disk_size(d) - (128 << 10), &x, &e), 0);
	ck_assert_int_eq(x.kind, DISK_EXT_DATA);
	ck_assert_uint_eq(x.len, (1 << 20) - (128 << 10));
	ck_assert_int_eq(disk_map(d, 1 << 20, disk_size(d) - (1 << 20), &x, &e), 0);
	ck_assert_int_eq(x.kind, DISK_EXT_UNALLOC);
	unsigned char b[256 << 10];
	ck_assert_int_eq(disk_pread(d, b, sizeof b, 0, &e), 0);
	for (size_t i = 0; i < sizeof b; i++)
		ck_assert_uint_eq(b[i], i < (128 << 10) ? 0 : 0xaa);
	check_clean(d, true);
	disk_close(d);
}
END_TEST

/* A descriptor of our own joining a sparse extent, a ZERO extent and flat
 * extents (one at an offset inside its file), read across the joins. */
START_TEST(test_multi_extent)
{
	need_qemu();
	dt_make_raw(dt_path("src.raw"), SZ);
	ck_assert_int_eq(dt_sh("qemu-img convert -O vmdk -o subformat=twoGbMaxExtentSparse src.raw t.vmdk && "
			       "qemu-img convert -O vmdk -o subformat=monolithicFlat src.raw f.vmdk"), 0);
	write_text("multi.vmdk", "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n"
				 "createType=\"twoGbMaxExtentSparse\"\n\n"
				 "RW 12288 SPARSE \"t-s001.vmdk\"\n"
				 "RW 2048 ZERO\n"
				 "RW 12288 FLAT \"f-flat.vmdk\" 0\n"
				 "RDONLY 4096 FLAT \"f-flat.vmdk\" 8192\n\n"
				 "ddb.adapterType = \"ide\"\n");
	ck_assert_int_eq(dt_sh("(cat src.raw; head -c 1048576 /dev/zero; cat src.raw; tail -c 2097152 src.raw) > expect.raw"), 0);
	disk *d = dt_open(dt_path("multi.vmdk"), DISK_RDONLY);
	disk *r = dt_open(dt_path("expect.raw"), DISK_RDONLY);
	dt_assert_same(r, d);
	/* one read spanning all four extents at odd offsets */
	size_t n = 8u << 20;
	unsigned char *a = malloc(n), *b = malloc(n);
	od_err e;
	ck_assert_int_eq(disk_pread(d, a, n, SZ - 12345, &e), 0);
	ck_assert_int_eq(disk_pread(r, b, n, SZ - 12345, &e), 0);
	ck_assert_int_eq(memcmp(a, b, n), 0);
	struct disk_extent x;
	ck_assert_int_eq(disk_map(d, SZ, disk_size(d) - SZ, &x, &e), 0);
	ck_assert_int_eq(x.kind, DISK_EXT_ZERO);
	ck_assert_uint_eq(x.len, 1 << 20);
	/* the sparse piece opened on its own is a disk too */
	disk *p = dt_open(dt_path("t-s001.vmdk"), DISK_RDONLY);
	ck_assert_uint_eq(disk_size(p), SZ);
	verify_against(p, dt_path("src.raw"));
	disk_close(p);
	/* RDWR refuses the read-only extent */
	disk *w = dt_open(dt_path("multi.vmdk"), DISK_RDWR);
	ck_assert_int_eq(disk_pwrite(w, a, 512, disk_size(w) - 512, &e), -1);
	ck_assert_int_eq(disk_pwrite(w, a, 512, 0, &e), 0);
	disk_close(w);
	free(a), free(b);
	disk_close(r);
	disk_close(d);
}
END_TEST

/* A stream stored inside a bigger file, as an OVA member is. */
START_TEST(test_range)
{
	need_qemu();
	dt_make_raw(dt_path("src.raw"), SZ);
	write_ours("src.raw", "s.vmdk", "streamOptimized", 2);
	ck_assert_int_eq(dt_sh("(head -c 1536 /dev/urandom; cat s.vmdk; head -c 1000 /dev/urandom) > ova.bin"), 0);
	int fd = open(dt_path("ova.bin"), O_RDONLY);
	ck_assert_int_ge(fd, 0);
	od_err e;
	disk *d = disk_open_range(fd, 1536, file_size(dt_path("s.vmdk")), "disk1.vmdk", DISK_RDONLY, &e);
	ck_assert_msg(d != NULL, "%s", e.msg);
	close(fd);
	verify_against(d, dt_path("src.raw"));
	struct disk_info info;
	ck_assert_int_eq(disk_get_info(d, &info, &e), 0);
	ck_assert_str_eq(info.subformat, "streamOptimized");
	ck_assert_uint_eq(info.version, 3);
	ck_assert(info.compressed);
	ck_assert_uint_eq(info.cluster_size, 65536);
	disk_info_free(&info);
	disk_close(d);
}
END_TEST

START_TEST(test_check_finds_damage)
{
	make_victims();
	unsigned char h[512];
	dt_get_bytes(dt_path("m.vmdk"), h, sizeof h, 0);
	uint64_t rgd = dt_le(h + 48, 8);
	unsigned char g[4];
	dt_get_bytes(dt_path("m.vmdk"), g, 4, rgd * 512);
	/* the redundant table disagrees with the primary one */
	dt_put_le(dt_path("m.vmdk"), dt_le(g, 4) * 512 + 8, 0x12345, 4);
	disk *d = dt_open(dt_path("m.vmdk"), DISK_RDONLY);
	struct disk_check_result r;
	od_err e;
	ck_assert_int_eq(disk_check(d, false, &r, &e), 0);
	ck_assert_uint_gt(r.corruptions, 0);
	ck_assert_uint_gt(r.allocated_clusters, 0);
	ck_assert_uint_eq(r.total_clusters, SZ / 65536);
	disk_check_result_free(&r);
	disk_close(d);
	/* a stream grain marked for the wrong sector */
	dt_get_bytes(dt_path("s.vmdk"), h, sizeof h, 0);
	dt_put_le(dt_path("s.vmdk"), dt_le(h + 64, 8) * 512, 999, 8);
	d = dt_open(dt_path("s.vmdk"), DISK_RDONLY);
	ck_assert_int_eq(disk_check(d, true, &r, &e), 0);
	ck_assert_uint_gt(r.corruptions, 0);
	ck_assert_uint_gt(r.compressed_clusters, 0);
	disk_check_result_free(&r);
	disk_close(d);
}
END_TEST


/* Compressed grains without markers (flag bit 17 clear) carry only a 4-byte
 * size before the zlib data, as VMware's own reader expects.  Hand-made:
 * grain 0 and 3 compressed, 1 unallocated, 2 zeroed. */
START_TEST(test_compressed_no_markers)
{
	unsigned char *f = calloc(1, 512 << 10);
	size_t G = 65536;
	unsigned char *g0 = malloc(G), *g3 = malloc(G);
	dt_fill(g0, G, 10);
	memset(g3, 'x', G);
	unsigned char h[512] = {0};
	memcpy(h, "KDMV", 4);
	h[4] = 1;                      /* version */
	h[8] = 1, h[10] = 1;           /* flags 0x10001 */
	h[13] = 2;                     /* capacity 512 sectors */
	h[20] = 128;                   /* grain */
	h[44] = 0, h[45] = 2;          /* numGTEsPerGT 512 */
	h[56] = 21;                    /* gdOffset */
	h[64] = 26;                    /* overHead */
	h[73] = '\n', h[74] = ' ', h[75] = '\r', h[76] = '\n';
	h[77] = 1;                     /* deflate */
	memcpy(f, h, 512);
	f[21 * 512] = 22;              /* GD[0] -> GT at sector 22 */
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
	size_t pos = 26 * 512;
	unsigned char *gt = f + 22 * 512;
	for (int i = 0; i < 4; i++) {
		if (i == 1)
			continue;
		if (i == 2) {
			gt[8] = 1;
			continue;
		}
		size_t n = libdeflate_zlib_compress(c, i ? g3 : g0, G, f + pos + 4, (512 << 10) - pos - 4);
		ck_assert_uint_gt(n, 0);
		f[pos] = (unsigned char)n, f[pos + 1] = (unsigned char)(n >> 8), f[pos + 2] = (unsigned char)(n >> 16);
		gt[4 * i] = (unsigned char)(pos / 512), gt[4 * i + 1] = (unsigned char)(pos / 512 >> 8);
		pos = (pos + 4 + n + 511) / 512 * 512;
	}
	libdeflate_free_compressor(c);
	int fd = open(dt_path("nm.vmdk"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ck_assert(write(fd, f, pos) == (ssize_t)pos);
	close(fd);
	disk *d = dt_open(dt_path("nm.vmdk"), DISK_RDONLY);
	ck_assert_uint_eq(disk_size(d), 4 * G);
	unsigned char *b = malloc(4 * G);
	od_err e;
	ck_assert_msg(disk_pread(d, b, 4 * G, 0, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(memcmp(b, g0, G), 0);
	for (size_t i = G; i < 3 * G; i++)
		ck_assert_uint_eq(b[i], 0);
	ck_assert_int_eq(memcmp(b + 3 * G, g3, G), 0);
	struct disk_extent x;
	ck_assert_int_eq(disk_map(d, G, 3 * G, &x, &e), 0);
	ck_assert_int_eq(x.kind, DISK_EXT_UNALLOC);
	ck_assert_uint_eq(x.len, G);
	ck_assert_int_eq(disk_map(d, 2 * G, 2 * G, &x, &e), 0);
	ck_assert_int_eq(x.kind, DISK_EXT_ZERO);
	check_clean(d, true);
	disk_close(d);
	free(b), free(g0), free(g3), free(f);
}
END_TEST


/* Delta disks: a child made by qemu-img over a VMDK parent reads through
 * to it; a changed parent, a loop and writing are refused. */
START_TEST(test_parent)
{
	need_qemu();
	dt_make_raw(dt_path("src.raw"), SZ);
	ck_assert_int_eq(dt_sh("qemu-img convert -O vmdk src.raw base.vmdk && "
			       "qemu-img create -q -f vmdk -b base.vmdk -F vmdk top.vmdk && "
			       "qemu-io -c 'write -q -P 0x55 1000k 100k' -c 'write -q -z 3M 64k' top.vmdk >/dev/null && "
			       "qemu-img convert -O raw top.vmdk expect.raw"), 0);
	disk *d = dt_open(dt_path("top.vmdk"), DISK_RDONLY);
	ck_assert_ptr_nonnull(disk_backing(d));
	uint64_t holes = verify_against(d, dt_path("expect.raw"));
	ck_assert_uint_gt(holes, 0);
	struct disk_info info;
	od_err e;
	ck_assert_int_eq(disk_get_info(d, &info, &e), 0);
	ck_assert_str_eq(info.backing_file, "base.vmdk");
	ck_assert_str_eq(info.backing_format, "vmdk");
	disk_info_free(&info);
	disk_close(d);
	/* without the chain, only this layer */
	d = disk_open(dt_path("top.vmdk"), DISK_RDONLY | DISK_NO_BACKING, &e);
	ck_assert_msg(d != NULL, "%s", e.msg);
	ck_assert_ptr_null(disk_backing(d));
	disk_close(d);
	ck_assert_ptr_null(disk_open(dt_path("top.vmdk"), DISK_RDWR, &e));
	ck_assert_ptr_nonnull(strstr(e.msg, "not supported"));
	/* the parent changed: its CID no longer matches */
	ck_assert_int_eq(dt_sh("sed -i '0,/^CID=/s/^CID=[0-9a-f]*/CID=0badc0de/' base.vmdk"), 0);
	dt_open_fails(dt_path("top.vmdk"), "CID");
	/* two descriptors naming each other */
	write_text("l1.vmdk", "# Disk DescriptorFile\nversion=1\nCID=11111111\nparentCID=22222222\n"
			      "createType=\"monolithicFlat\"\nparentFileNameHint=\"l2.vmdk\"\nRW 8 ZERO\n");
	write_text("l2.vmdk", "# Disk DescriptorFile\nversion=1\nCID=22222222\nparentCID=11111111\n"
			      "createType=\"monolithicFlat\"\nparentFileNameHint=\"l1.vmdk\"\nRW 8 ZERO\n");
	dt_open_fails(dt_path("l1.vmdk"), "deeper than");
}
END_TEST


/* The runner reads from several threads at once: reads of one stream
 * image from four threads, at random places and sizes, all correct. */
START_TEST(test_threaded_reads)
{
	need_qemu();
	dt_make_raw(dt_path("src.raw"), SZ);
	write_ours("src.raw", "s.vmdk", "streamOptimized", 2);
	unsigned char *ref = malloc(SZ);
	dt_get_bytes(dt_path("src.raw"), ref, SZ, 0);
	disk *d = dt_open(dt_path("s.vmdk"), DISK_RDONLY);
	dt_read_threads(d, ref, SZ, 300000, false);
	disk_close(d);
	free(ref);
}
END_TEST

START_TEST(test_qemu_stream_layout)
{
	/* qemu-img writes streams with the grain directory at the start; make
	 * sure that is the layout we read in test_read_qemu, so that both
	 * layouts are covered. */
	need_qemu();
	dt_make_raw(dt_path("src.raw"), SZ);
	ck_assert_int_eq(dt_sh("qemu-img convert -O vmdk -o subformat=streamOptimized src.raw q.vmdk"), 0);
	unsigned char h[512];
	dt_get_bytes(dt_path("q.vmdk"), h, sizeof h, 0);
	ck_assert_uint_ne(dt_le(h + 56, 8), UINT64_MAX);
	ck_assert(dt_le(h + 8, 4) & 0x10000);
}
END_TEST

/* One-grain reads (what virtio-blk issues) inflate straight into the
 * caller's buffer, partial reads go through the one-grain cache: mix them
 * on the same grains, in the order that would expose a stale cache. */
START_TEST(test_grain_sized_reads)
{
	need_qemu();
	dt_make_raw(dt_path("src.raw"), SZ);
	ck_assert_int_eq(dt_sh("qemu-img convert -O vmdk -o subformat=streamOptimized src.raw q.vmdk"), 0);
	unsigned char *ref = malloc(SZ), *b = malloc(SZ);
	dt_get_bytes(dt_path("src.raw"), ref, SZ, 0);
	disk *d = dt_open(dt_path("q.vmdk"), DISK_RDONLY);
	const uint64_t G = 64 << 10; /* qemu-img's grain */
	static const struct { uint64_t off, len; } op[] = {
		{ G + 100, 1000 }, { G, G }, { 2 * G, G }, { 2 * G + 7, 513 }, { G + 5, 10 },
		{ 3 * G, G }, { 3 * G - 10, 20 }, { 2 * G, G }, { G, 2 * G }, { 0, 8 * G }, { G + 1, G - 1 },
	};
	od_err e;
	for (unsigned i = 0; i < sizeof op / sizeof op[0]; i++) {
		memset(b, 0x5a, op[i].len);
		ck_assert_int_eq(disk_pread(d, b, op[i].len, op[i].off, &e), 0);
		ck_assert_msg(memcmp(b, ref + op[i].off, op[i].len) == 0, "read %u differs", i);
	}
	for (uint64_t off = 0; off < SZ; off += G) {
		uint64_t n = SZ - off < G ? SZ - off : G;
		ck_assert_int_eq(disk_pread(d, b, n, off, &e), 0);
		ck_assert_msg(memcmp(b, ref + off, n) == 0, "grain at %llu differs", (unsigned long long)off);
	}
	disk_close(d);
	free(ref);
	free(b);
}
END_TEST

int main(void)
{
	if (!dt_have("qemu-img")) {
		printf("SKIP: qemu-img (qemu-utils) is not installed\n");
		return 77;
	}
	Suite *s = suite_create("vmdk");
	TCase *tc = od_check_tcase(s, "vmdk");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_read_qemu, 0, (int)(sizeof subformats / sizeof subformats[0]));
	tcase_add_loop_test(tc, test_write_stream, 0, 2);
	tcase_add_test(tc, test_write_sparse);
	tcase_add_loop_test(tc, test_write_small_grains, 0, 2);
	tcase_add_test(tc, test_sparse_random_write);
	tcase_add_test(tc, test_sparse_gt_alloc);
	tcase_add_test(tc, test_big_sparse);
	tcase_add_test(tc, test_stream_sequential_only);
	tcase_add_test(tc, test_hostile_header);
	tcase_add_test(tc, test_hostile_tables);
	tcase_add_test(tc, test_hostile_stream);
	tcase_add_test(tc, test_hostile_descriptor);
	tcase_add_test(tc, test_qemu_stream_layout);
	tcase_add_test(tc, test_zeroed_grain);
	tcase_add_test(tc, test_parent);
	tcase_add_test(tc, test_compressed_no_markers);
	tcase_add_test(tc, test_multi_extent);
	tcase_add_test(tc, test_range);
	tcase_add_test(tc, test_threaded_reads);
	tcase_add_test(tc, test_grain_sized_reads);
	tcase_add_test(tc, test_check_finds_damage);
	return od_check_run(s);
}
