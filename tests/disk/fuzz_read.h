/* fuzz_read.h - what the disk fuzz tests do with an image that opened:
 * every read-only entry point once, each bounded so that a hostile image
 * cannot make one input run long.  No Check dependency: the libFuzzer
 * builds of the harnesses include it too. */
#ifndef OD_FUZZ_READ_H
#define OD_FUZZ_READ_H

#include "disk/disk.h"

/* Read the first and the last 256 KiB, walk at most `max_runs` runs of the
 * map, get the info and run the check (`deep`: inflate every grain). */
static inline void fz_read_all(disk *d, unsigned max_runs, bool deep)
{
	od_err e;
	static unsigned char buf[256 << 10];
	uint64_t size = disk_size(d);
	uint64_t n = size < sizeof buf ? size : sizeof buf;
	if (n) {
		disk_pread(d, buf, (size_t)n, 0, &e);
		disk_pread(d, buf, (size_t)n, size - n, &e);
	}
	uint64_t off = 0;
	for (unsigned i = 0; i < max_runs && off < size; i++) {
		struct disk_extent x;
		if (disk_map(d, off, size - off, &x, &e) < 0)
			break;
		off += x.len;
	}
	struct disk_info info;
	if (disk_get_info(d, &info, &e) == 0)
		disk_info_free(&info);
	struct disk_check_result r;
	if (disk_check(d, deep, &r, &e) == 0)
		disk_check_result_free(&r);
}

#endif
