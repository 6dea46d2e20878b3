/* test_pkg.c - unit tests of the package layer: manifest parsing, digests,
 * member names, the gzip inflater and its bound, pack -> open offsets,
 * chunked and gzip file streaming. */
#include "config.h"
#include "ovf/ovf.h"
#include "ovf/pkg_internal.h"

#include <check.h>
#include "../check_run.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const char *H256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; /* "abc" */

START_TEST(test_manifest_canonical)
{
	char buf[512];
	snprintf(buf, sizeof buf, "SHA256(app.ovf)= %s\nSHA1(disk (1).vmdk)= a9993e364706816aba3e25717850c26c9cd0d89d\n\n",
		 H256);
	struct ovf_manifest m;
	struct ovf_warnings w = {0};
	od_err e;
	ck_assert_int_eq(ovf_manifest_parse(buf, strlen(buf), "t.mf", &m, &w, &e), 0);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_uint_eq(w.n, 0);
	ck_assert_str_eq(m.v[1].name, "disk (1).vmdk");
	ck_assert_int_eq(m.v[1].alg, OVF_DIGEST_SHA1);
	const struct ovf_manifest_entry *a = ovf_manifest_find(&m, "app.ovf");
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a->alg, OVF_DIGEST_SHA256);
	ck_assert_uint_eq(a->digest[0], 0xba);
	ck_assert_ptr_null(ovf_manifest_find(&m, "nope"));
	ovf_manifest_free(&m);
	ovf_warnings_free(&w);
}
END_TEST

START_TEST(test_manifest_variants)
{
	char buf[512];
	struct ovf_manifest m;
	struct ovf_warnings w = {0};
	od_err e;
	snprintf(buf, sizeof buf, "SHA256 (a) = %s\r\nSHA2-256(b)= %s\r\n", H256, H256);
	ck_assert_int_eq(ovf_manifest_parse(buf, strlen(buf), "t.mf", &m, &w, &e), 0);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_str_eq(m.v[0].name, "a");
	ck_assert_int_eq(m.v[1].alg, OVF_DIGEST_SHA256);
	ck_assert_uint_eq(w.n, 3); /* CRLF, --tag, OpenSSL 3 */
	ovf_manifest_free(&m);
	ovf_warnings_free(&w);
}
END_TEST

START_TEST(test_manifest_errors)
{
	struct {
		const char *text, *want;
	} bad[] = {
		{"SHA256(a)= abc\n", "hex digits"},
		{"MD5(a)= d41d8cd98f00b204e9800998ecf8427e\n", "unknown digest"},
		{"SHA1(a)= zz993e364706816aba3e25717850c26c9cd0d89d\n", "not hexadecimal"},
		{"SHA1 a)= a9993e364706816aba3e25717850c26c9cd0d89d\n", "expected '('"},
		{"SHA1(a= a9993e364706816aba3e25717850c26c9cd0d89d\n", "expected ')= '"},
		{"SHA1()= a9993e364706816aba3e25717850c26c9cd0d89d\n", "empty"},
		{"SHA1(a)= a9993e364706816aba3e25717850c26c9cd0d89d\nSHA1(a)= a9993e364706816aba3e25717850c26c9cd0d89d\n",
		 "listed twice"},
		{"garbage\n", "expected"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ovf_manifest m;
		od_err e;
		ck_assert_int_eq(ovf_manifest_parse(bad[i].text, strlen(bad[i].text), "t.mf", &m, NULL, &e), -1);
		ck_assert_int_eq(e.code, OD_E_INVALID);
		ck_assert_msg(strstr(e.msg, bad[i].want), "case %zu: '%s' lacks '%s'", i, e.msg, bad[i].want);
	}
	/* A NUL in the middle is refused, not truncated. */
	const char nul[] = "SHA1(a\0b)= a9993e364706816aba3e25717850c26c9cd0d89d\n";
	struct ovf_manifest m;
	od_err e;
	ck_assert_int_eq(ovf_manifest_parse(nul, sizeof nul - 1, "t.mf", &m, NULL, &e), -1);
}
END_TEST

START_TEST(test_manifest_line)
{
	unsigned char d[64] = {0};
	od_buf b = {0};
	for (int a = OVF_DIGEST_SHA1; a <= OVF_DIGEST_SHA512; a++) {
		b.len = 0;
		ck_assert_int_eq(ovf_manifest_line(&b, a, "x.vmdk", d), 0);
		ck_assert_uint_eq(b.len, ovf_manifest_line_len(a, "x.vmdk"));
		struct ovf_manifest m;
		od_err e;
		ck_assert_int_eq(ovf_manifest_parse(b.data, b.len, "t", &m, NULL, &e), 0);
		ck_assert_int_eq(m.v[0].alg, a);
		ovf_manifest_free(&m);
	}
	od_buf_free(&b);
	ck_assert_int_eq(ovf_digest_from_name("sha512"), OVF_DIGEST_SHA512);
	ck_assert_int_eq(ovf_digest_from_name("SHA-1"), OVF_DIGEST_SHA1);
	ck_assert_int_eq(ovf_digest_from_name("md5"), OVF_DIGEST_NONE);
}
END_TEST

START_TEST(test_hasher)
{
	od_err e;
	ovf_hasher *h = ovf_hasher_new(1u << OVF_DIGEST_SHA256 | 1u << OVF_DIGEST_SHA1, &e);
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(ovf_hasher_update(h, "a", 1, &e), 0);
	ck_assert_int_eq(ovf_hasher_update(h, "bc", 2, &e), 0);
	unsigned char d[64];
	char hex[129];
	ck_assert_int_eq(ovf_hasher_final(h, OVF_DIGEST_SHA256, d, &e), 0);
	od_hex(d, 32, hex);
	ck_assert_str_eq(hex, H256);
	ck_assert_int_eq(ovf_hasher_final(h, OVF_DIGEST_SHA1, d, &e), 0);
	od_hex(d, 20, hex);
	ck_assert_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	ck_assert_int_eq(ovf_hasher_final(h, OVF_DIGEST_SHA512, d, &e), -1); /* not in the set */
	ovf_hasher_free(h);
}
END_TEST

START_TEST(test_names)
{
	od_err e;
	char a[] = "./disks//d1.vmdk";
	ck_assert_int_eq(ovf__check_name(a, "t", &e), 0);
	ck_assert_str_eq(a, "disks/d1.vmdk");
	const char *bad[] = {"/etc/passwd", "../x", "a/../../x", "a/..", ".", "./", "a\nb"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char buf[64];
		snprintf(buf, sizeof buf, "%s", bad[i]);
		ck_assert_msg(ovf__check_name(buf, "t", &e) == -1, "'%s' accepted", bad[i]);
	}
	char longn[400];
	memset(longn, 'x', sizeof longn - 1);
	longn[sizeof longn - 1] = 0;
	ck_assert_int_eq(ovf__check_name(longn, "t", &e), -1);
}
END_TEST

static size_t gz(const void *in, size_t n, unsigned char *out, size_t cap)
{
	z_stream z = {0};
	ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)in;
	z.avail_in = (unsigned)n;
	z.next_out = out;
	z.avail_out = (unsigned)cap;
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t r = z.total_out;
	deflateEnd(&z);
	return r;
}

static int count(void *ctx, const void *buf, size_t len, od_err *e)
{
	*(uint64_t *)ctx += len;
	return 0;
}

START_TEST(test_inflater)
{
	size_t n = 4u << 20;
	unsigned char *zeros = calloc(1, n), *out = malloc(1 << 20);
	size_t zl = gz(zeros, n, out, 1 << 20);
	od_err e;
	uint64_t got = 0;
	/* within the bound, fed in small pieces */
	ovf_inflater *z = ovf_inflater_new("t.gz", n, count, &got, &e);
	for (size_t off = 0; off < zl; off += 7)
		ck_assert_int_eq(ovf_inflater_feed(z, out + off, zl - off < 7 ? zl - off : 7, &e), 0);
	ck_assert_int_eq(ovf_inflater_finish(z, &e), 0);
	ck_assert_uint_eq(got, n);
	ovf_inflater_free(z);
	/* one byte over the bound: a bomb */
	z = ovf_inflater_new("t.gz", n - 1, NULL, NULL, &e);
	ck_assert_int_eq(ovf_inflater_feed(z, out, zl, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "bomb"));
	ovf_inflater_free(z);
	/* truncated */
	z = ovf_inflater_new("t.gz", n, NULL, NULL, &e);
	ck_assert_int_eq(ovf_inflater_feed(z, out, zl / 2, &e), 0);
	ck_assert_int_eq(ovf_inflater_finish(z, &e), -1);
	ovf_inflater_free(z);
	/* corrupt */
	out[zl / 2] ^= 0xff;
	out[zl / 2 + 1] ^= 0xff;
	z = ovf_inflater_new("t.gz", n, NULL, NULL, &e);
	int r = ovf_inflater_feed(z, out, zl, &e);
	if (r == 0)
		r = ovf_inflater_finish(z, &e);
	ck_assert_int_eq(r, -1);
	ovf_inflater_free(z);
	/* trailing garbage after a complete stream */
	zl = gz("hello", 5, out, 1 << 20);
	memcpy(out + zl, "junk", 4);
	z = ovf_inflater_new("t.gz", 100, NULL, NULL, &e);
	ck_assert_int_eq(ovf_inflater_feed(z, out, zl + 4, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "after the end"));
	ovf_inflater_free(z);
	free(zeros);
	free(out);
}
END_TEST

static const char *DESC =
	"<?xml version=\"1.0\"?>\n"
	"<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\" xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\">\n"
	"  <References>\n"
	"    <File ovf:id=\"f1\" ovf:href=\"a.bin\" ovf:size=\"70000\"/>\n"
	"    <File ovf:id=\"f2\" ovf:href=\"b.bin\"/>\n"
	"  </References>\n"
	"  <DiskSection><Info>d</Info>\n"
	"    <Disk ovf:diskId=\"d1\" ovf:fileRef=\"f1\" ovf:capacity=\"1\" ovf:capacityAllocationUnits=\"byte * 2^20\"/>\n"
	"  </DiskSection>\n"
	"  <VirtualSystem ovf:id=\"vm\"><Info>x</Info></VirtualSystem>\n"
	"</Envelope>\n";

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

struct collect {
	od_buf b;
};
static int collect(void *ctx, const void *buf, size_t len, od_err *e)
{
	return od_buf_append(&((struct collect *)ctx)->b, buf, len);
}

START_TEST(test_pack_open)
{
	char dir[] = "/tmp/od-pkgtest.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char p[512];
	unsigned char *a = malloc(70000);
	for (int i = 0; i < 70000; i++)
		a[i] = (unsigned char)(i * 7);
	snprintf(p, sizeof p, "%s/src", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/src/app.ovf", dir);
	write_file(p, DESC, strlen(DESC));
	snprintf(p, sizeof p, "%s/src/a.bin", dir);
	write_file(p, a, 70000);
	snprintf(p, sizeof p, "%s/src/b.bin", dir);
	write_file(p, "bee", 3);

	od_err e;
	char src[512], out[512];
	snprintf(src, sizeof src, "%s/src", dir);
	snprintf(out, sizeof out, "%s/x.ova", dir);
	struct ovf_pack_opts o = {.chunk_size = 30000};
	struct ovf_warnings w = {0};
	ck_assert_msg(ovf_pack(src, out, &o, &w, &e) == 0, "%s", e.msg);
	ovf_warnings_free(&w);

	ovf_package *pk = ovf_package_open(out, &e);
	ck_assert_msg(pk != NULL, "%s", e.msg);
	ck_assert_int_eq(pk->kind, OVF_PKG_OVA);
	ck_assert_uint_eq(pk->nmembers, 6); /* ovf, mf, 3 chunks, b.bin */
	ck_assert_str_eq(pk->members[0].name, "app.ovf");
	ck_assert_str_eq(pk->members[1].name, "app.mf");
	ck_assert_str_eq(pk->members[2].name, "a.bin.000000000");
	ck_assert_uint_eq(pk->members[4].size, 10000);
	ck_assert_ptr_nonnull(strstr(pk->descriptor, "ovf:chunkSize=\"30000\""));
	/* Offsets point at the bytes: read one chunk straight from the OVA. */
	int fd = open(out, O_RDONLY);
	unsigned char buf[16];
	ck_assert_int_eq(od_pread_all(fd, buf, 16, pk->members[3].offset, "x", &e), 0);
	ck_assert_int_eq(memcmp(buf, a + 30000, 16), 0);
	close(fd);
	/* The chunked file streams back whole. */
	const struct ovf_file *f1 = &pk->env->files[0];
	struct collect c = {{0}};
	ck_assert_int_eq(ovf_package_read_file(pk, f1, collect, &c, &e), 0);
	ck_assert_uint_eq(c.b.len, 70000);
	ck_assert_int_eq(memcmp(c.b.data, a, 70000), 0);
	od_buf_free(&c.b);
	struct ovf_verify_report r;
	ck_assert_int_eq(ovf_verify(pk, NULL, &r, &e), 0);
	ck_assert(r.ok);
	ck_assert_uint_eq(r.nfiles, 5);
	ovf_verify_report_free(&r);
	ovf_package_close(pk);

	/* gzip: the file streams back inflated; the bound comes from the disk. */
	o = (struct ovf_pack_opts){.compress = true, .digest = OVF_DIGEST_SHA512};
	ck_assert_msg(ovf_pack(src, out, &o, &w, &e) == 0, "%s", e.msg);
	ovf_warnings_free(&w);
	pk = ovf_package_open(out, &e);
	ck_assert_msg(pk != NULL, "%s", e.msg);
	ck_assert_ptr_nonnull(strstr(pk->manifest, "SHA512(a.bin)= "));
	f1 = &pk->env->files[0];
	ck_assert_str_eq(f1->compression, "gzip");
	ck_assert_uint_eq(ovf_file_inflate_limit(pk->env, f1), (1u << 20) + (1u << 20) / 16 + (64u << 20));
	c = (struct collect){{0}};
	ck_assert_int_eq(ovf_package_read_file(pk, f1, collect, &c, &e), 0);
	ck_assert_uint_eq(c.b.len, 70000);
	ck_assert_int_eq(memcmp(c.b.data, a, 70000), 0);
	od_buf_free(&c.b);
	ovf_package_close(pk);

	/* Open the source directory: members have their own paths. */
	pk = ovf_package_open(src, &e);
	ck_assert_msg(pk != NULL, "%s", e.msg);
	ck_assert_int_eq(pk->kind, OVF_PKG_DIR);
	const struct ovf_member *mb = ovf_package_member(pk, "b.bin");
	ck_assert_ptr_nonnull(mb);
	ck_assert_uint_eq(mb->size, 3);
	ck_assert_uint_eq(mb->offset, 0);
	ck_assert_ptr_null(pk->manifest);
	ovf_package_close(pk);

	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(a);
}
END_TEST

START_TEST(test_tar_headers)
{
	/* Write headers ourselves, read them back through the package
	 * reader: a 9 GiB member needs the GNU base-256 size (with a warning);
	 * the reader must decode it and find the file too short. */
	char path[] = "/tmp/od-tar.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unsigned char h[512];
	struct ovf_warnings w = {0};
	od_err e;
	ck_assert_int_eq(ovf__tar_header(h, "app.ovf", strlen(DESC), 0, &w, &e), 0);
	ck_assert_uint_eq(w.n, 0);
	ck_assert_int_eq(memcmp(h + 257, "ustar\0" "00", 8), 0);
	ck_assert_int_eq(od_write_all(fd, h, 512, "t", &e), 0);
	unsigned char blk[2048] = {0};
	memcpy(blk, DESC, strlen(DESC));
	ck_assert_int_eq(od_write_all(fd, blk, (strlen(DESC) + 511) / 512 * 512, "t", &e), 0);
	uint64_t big = 9ull << 30;
	ck_assert_int_eq(ovf__tar_header(h, "a.bin", big, 0, &w, &e), 0);
	ck_assert_uint_eq(w.n, 1);
	ck_assert_ptr_nonnull(strstr(w.v[0], "GNU"));
	ck_assert_uint_eq(h[124], 0x80);
	ck_assert_int_eq(memcmp(h + 257, "ustar  ", 8), 0);
	ck_assert_int_eq(od_write_all(fd, h, 512, "t", &e), 0);
	ck_assert_int_eq(od_write_all(fd, blk, 1024, "t", &e), 0);
	close(fd);
	ovf_warnings_free(&w);
	ck_assert_ptr_null(ovf_package_open(path, &e));
	ck_assert_msg(strstr(e.msg, "declares 9663676416 bytes") != NULL, "%s", e.msg);
	/* A long name splits at a '/' into prefix and name; one that cannot
	 * be split is refused. */
	char name[300];
	memset(name, 'p', 150);
	name[150] = '/';
	memset(name + 151, 'n', 90);
	name[241] = 0;
	ck_assert_int_eq(ovf__tar_header(h, name, 1, 0, &w, &e), 0);
	ck_assert_int_eq(strncmp((char *)h + 345, name, 150), 0);
	ck_assert_int_eq(strncmp((char *)h, name + 151, 90), 0);
	memset(name, 'x', 200);
	name[200] = 0;
	ck_assert_int_eq(ovf__tar_header(h, name, 1, 0, &w, &e), -1);
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pkg");
	TCase *tc = od_check_tcase(s, "core");
	tcase_add_test(tc, test_manifest_canonical);
	tcase_add_test(tc, test_manifest_variants);
	tcase_add_test(tc, test_manifest_errors);
	tcase_add_test(tc, test_manifest_line);
	tcase_add_test(tc, test_hasher);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_inflater);
	tcase_add_test(tc, test_pack_open);
	tcase_add_test(tc, test_tar_headers);
	return od_check_run(s);
}
