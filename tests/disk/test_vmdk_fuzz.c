/* test_vmdk_fuzz.c - the VMDK reader against damaged images, in make check.
 *
 * Small valid images (our stream with the grain directory at the end,
 * QEMU's stream with it at the start, monolithicSparse with 4 KiB grains,
 * a bare descriptor) are damaged a few thousand times, deterministically,
 * with a bias towards the header, the descriptor, the footer and the
 * tables.  Each must open or fail cleanly; reading, mapping, info and a
 * deep check must end with a result or an error, never a crash or a hang.
 * Build with --enable-sanitizers to catch memory errors as well; for open
 * ended fuzzing see tests/fuzz/fuzz_vmdk.c.
 * Each damaged image is also read with readahead workers (the runner's
 * way) and without, 4 KiB at a time from the start then backwards: the two
 * must fail on the same reads and agree on the bytes of the others.
 */
#include "config.h"
#include "dtest.h"
#include "fuzz_read.h"

#include <sys/mman.h>

static void exercise(int fd, size_t len)
{
	od_err e;
	disk *d = disk_open_range(fd, 0, len, "fuzz.vmdk", DISK_RDONLY, &e);
	if (!d)
		return;
	fz_read_all(d, 2048, true);
	disk_close(d);
}

static void exercise_readahead(int fd, size_t len)
{
	od_err e;
	disk *a = disk_open_range(fd, 0, len, "fuzz.vmdk", DISK_RDONLY, &e);
	if (!a)
		return;
	disk *b = disk_open_range(fd, 0, len, "fuzz.vmdk", DISK_RDONLY, &e);
	ck_assert_msg(b != NULL, "opens once, not twice: %s", e.msg);
	if (disk_readahead_start(b, 2, NULL, NULL, &e) < 0)
		ck_abort_msg("readahead: %s", e.msg);
	static unsigned char x[4096], y[4096];
	uint64_t size = disk_size(a), n = size < 400 * sizeof x ? size / sizeof x : 400;
	for (uint64_t i = 0; i < 2 * n; i++) {
		uint64_t off = (i < n ? i : 2 * n - 1 - i) * sizeof x;
		int ra = disk_pread(a, x, sizeof x, off, &e), rb = disk_pread(b, y, sizeof y, off, &e);
		ck_assert_msg(ra == rb, "read at %llu: %d inline, %d with readahead", (unsigned long long)off, ra, rb);
		ck_assert_msg(ra < 0 || memcmp(x, y, sizeof x) == 0, "read at %llu differs", (unsigned long long)off);
	}
	disk_close(b);
	disk_close(a);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	unsigned char *b = malloc((size_t)st.st_size);
	ck_assert(read(fd, b, (size_t)st.st_size) == st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void damage_many(const char *name, unsigned rounds, uint64_t seed)
{
	size_t len;
	unsigned char *orig = slurp(dt_path(name), &len);
	unsigned char *m = malloc(len);
	int fd = memfd_create("vmdk", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
	for (unsigned i = 0; i < rounds; i++) {
		memcpy(m, orig, len);
		size_t mlen = len;
		unsigned edits = 1 + (unsigned)(rng(&s) % 4);
		for (unsigned k = 0; k < edits; k++) {
			uint64_t r = rng(&s);
			size_t at;
			switch (r % 6) {
			case 0: at = (size_t)(r >> 8) % 512; break;                  /* header */
			case 1: at = 512 + (size_t)(r >> 8) % 1024; break;           /* descriptor */
			case 2: at = len - 1 - (size_t)(r >> 8) % 1536; break;       /* footer, EOS */
			default: at = (size_t)(r >> 8) % len; break;                 /* anywhere */
			}
			if (at >= len)
				at = len - 1;
			uint64_t v = rng(&s);
			switch (v % 5) {
			case 0: m[at] ^= (unsigned char)(1u << (v >> 8) % 8); break;
			case 1: m[at] = 0xff; break;
			case 2: m[at] = 0; break;
			case 3: /* a large 32-bit value, as a table entry or size */
				if (at + 4 <= len)
					memcpy(m + at, "\xf0\xff\xff\x7f", 4);
				break;
			default: /* truncate */
				mlen = at + 1;
				break;
			}
		}
		ck_assert_int_eq(ftruncate(fd, 0), 0);
		ck_assert(pwrite(fd, m, mlen, 0) == (ssize_t)mlen);
		exercise(fd, mlen);
		exercise_readahead(fd, mlen);
	}
	close(fd);
	free(m);
	free(orig);
}

static void make_ours(const char *name, const char *sub, uint32_t grain)
{
	unsigned char *b = malloc(1 << 20);
	dt_fill(b, 300000, 1);
	memset(b + 300000, 0, (1 << 20) - 300000);
	memset(b + 600000, 'v', 100000);
	struct disk_create_opts o = {.subformat = sub, .cluster_size = grain, .threads = 1};
	od_err e;
	disk *d = disk_create(dt_path(name), "vmdk", 1 << 20, &o, &e);
	ck_assert_msg(d != NULL, "%s", e.msg);
	ck_assert_int_eq(disk_pwrite(d, b, 1 << 20, 0, &e), 0);
	ck_assert_int_eq(disk_commit(d, &e), 0);
	disk_close(d);
	free(b);
}

START_TEST(test_damaged_stream_ours)
{
	make_ours("s.vmdk", "streamOptimized", 4096);
	damage_many("s.vmdk", 600, 1);
}
END_TEST

START_TEST(test_damaged_sparse_ours)
{
	make_ours("m.vmdk", "monolithicSparse", 4096);
	damage_many("m.vmdk", 400, 2);
}
END_TEST

START_TEST(test_damaged_qemu_stream)
{
	if (!dt_have("qemu-img"))
		return;
	dt_make_raw(dt_path("src.raw"), 1 << 20);
	ck_assert_int_eq(dt_sh("qemu-img convert -O vmdk -o subformat=streamOptimized src.raw q.vmdk"), 0);
	damage_many("q.vmdk", 400, 3);
}
END_TEST

START_TEST(test_damaged_descriptor)
{
	FILE *f = fopen(dt_path("d.vmdk"), "w");
	fputs("# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
	      "createType=\"monolithicFlat\"\n\nRW 2048 ZERO\nRDONLY 100 ZERO\nNOACCESS 8 ZERO\n\n"
	      "ddb.adapterType = \"ide\"\nddb.geometry.cylinders = \"2\"\n", f);
	fclose(f);
	damage_many("d.vmdk", 400, 4);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmdk_fuzz");
	TCase *tc = od_check_tcase(s, "damaged");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_damaged_stream_ours);
	tcase_add_test(tc, test_damaged_sparse_ours);
	tcase_add_test(tc, test_damaged_qemu_stream);
	tcase_add_test(tc, test_damaged_descriptor);
	return od_check_run(s);
}
