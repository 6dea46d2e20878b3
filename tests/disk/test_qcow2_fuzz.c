/* test_qcow2_fuzz.c - the qcow2 reader against damaged images.
 *
 * As a test (the default build): take small valid images made by
 * qemu-img (plain, compressed, extended L2, 2 MiB clusters) and damage
 * them about a thousand times, deterministically, biased towards the
 * header and the tables; each must open or fail cleanly, and reading,
 * mapping, info and check must end with a result or an error -- never a
 * crash, a hang or runaway memory.  Run it under --enable-sanitizers to
 * catch memory errors too.
 *
 * As a libFuzzer harness:
 *   clang -fsanitize=fuzzer,address -DOD_LIBFUZZER -Isrc -I. \
 *     tests/disk/test_qcow2_fuzz.c src/disk/(all .c files) src/util/(all .c files) \
 *     -ldeflate -lzstd -lz -pthread -o fuzz_qcow2 && ./fuzz_qcow2 corpus/
 */
#include "config.h"
#include "disk/disk.h"
#include "fuzz_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Exercise everything a reader does with one image held in `fd`. */
static void exercise(int fd, size_t len)
{
	od_err e;
	disk *d = disk_open_range(fd, 0, len, "fuzz.img", DISK_NO_BACKING, &e);
	if (!d)
		return;
	/* the first and the last 256 KiB, the map of at most 4096 runs, info, check */
	fz_read_all(d, 4096, false);
	disk_close(d);
	/* and the write path: open for writing (rebuilds refcounts), one
	 * partial-cluster write (copy-on-write), flush, close */
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd); /* a file, so it may grow */
	d = disk_open(path, DISK_RDWR | DISK_NO_BACKING, &e);
	if (!d)
		return;
	unsigned char buf[4096];
	memset(buf, 0xa5, sizeof buf);
	if (disk_size(d) >= 8192)
		disk_pwrite(d, buf, 4096, disk_size(d) / 2 & ~511ull, &e);
	disk_flush(d, &e);
	disk_close(d);
}

#ifdef OD_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size)
		exercise(fd, size);
	close(fd);
	return 0;
}
#else

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int fuzz_image(const char *dir, const char *make, int iters)
{
	char cmd[2048], path[512];
	snprintf(path, sizeof path, "%s/f.qcow2", dir);
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && head -c 300000 /dev/urandom > r.raw && yes data | head -c 200000 >> r.raw && "
		 "truncate -s 1M r.raw && %s >/dev/null",
		 dir, make);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot make a test image: %s\n", make);
		return 1;
	}
	FILE *f = fopen(path, "rb");
	if (!f)
		return 1;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *orig = malloc((size_t)len), *img = malloc((size_t)len);
	if (!orig || !img || fread(orig, 1, (size_t)len, f) != (size_t)len)
		return 1;
	fclose(f);
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return 1;
	for (int it = 0; it < iters; it++) {
		memcpy(img, orig, (size_t)len);
		int nmut = 1 + (int)(next() % 6);
		for (int m = 0; m < nmut; m++) {
			/* mostly the first 64 KiB (header, L1, refcounts, first
			 * L2), sometimes anywhere */
			uint64_t span = (next() % 4) ? (len < 65536 ? (uint64_t)len : 65536) : (uint64_t)len;
			uint64_t at = next() % span;
			switch (next() % 4) {
			case 0: img[at] ^= (unsigned char)(1u << (next() % 8)); break;
			case 1: img[at] = (unsigned char)next(); break;
			case 2: /* an aligned 8-byte field set to a nasty value */
				at &= ~7ull;
				if (at + 8 <= (uint64_t)len) {
					static const uint64_t nasty[] = {0, ~0ull, 1ull << 63, 0x8000000000010000ull,
									 0x4000000000000200ull, 0xffffffffull, 512};
					uint64_t v = nasty[next() % 7];
					for (int k = 7; k >= 0; k--, v >>= 8)
						img[at + (uint64_t)k] = (unsigned char)v;
				}
				break;
			default: img[at] = 0xff; break;
			}
		}
		if (ftruncate(fd, 0) < 0 || pwrite(fd, img, (size_t)len, 0) != len)
			return 1;
		exercise(fd, (size_t)len);
	}
	close(fd);
	free(orig);
	free(img);
	return 0;
}

int main(void)
{
	if (system("command -v qemu-img >/dev/null 2>&1") != 0) {
		printf("SKIP: qemu-img is not installed\n");
		return 77;
	}
	char dir[] = "/tmp/od-fuzz.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	static const char *makes[] = {
		"qemu-img convert -O qcow2 -o cluster_size=4k r.raw f.qcow2",
		"qemu-img convert -c -O qcow2 -o cluster_size=4k r.raw f.qcow2",
		"qemu-img convert -c -O qcow2 -o compression_type=zstd,cluster_size=8k r.raw f.qcow2",
		"qemu-img convert -O qcow2 -o extended_l2=on,cluster_size=16k r.raw f.qcow2",
		"qemu-img convert -O qcow2 -o compat=0.10,cluster_size=512 r.raw f.qcow2",
		"qemu-img convert -O qcow2 -o cluster_size=2M,refcount_bits=1 r.raw f.qcow2",
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof makes / sizeof makes[0] && !rc; i++) {
		/* 2 MiB clusters cost more per open: fewer rounds there */
		rc = fuzz_image(dir, makes[i], strstr(makes[i], "2M") ? 60 : 200);
		printf("%s %s\n", rc ? "FAIL" : "ok", makes[i]);
	}
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
#endif
