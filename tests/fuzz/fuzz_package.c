/* fuzz_package.c - libFuzzer harness for the package reader: the input is
 * written to a memory file and opened as an OVA, then verified (every
 * member streamed, hashed, gzip inflated under its bound).  Built and run by
 * scripts/fuzz. */
#define _GNU_SOURCE
#include "config.h"
#include "ovf/ovf.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz.ova", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	od_err e;
	ovf_package *p = ovf_package_open(path, &e);
	if (p) {
		struct ovf_verify_report r;
		if (ovf_verify(p, NULL, &r, &e) == 0)
			ovf_verify_report_free(&r);
		for (size_t i = 0; i < p->nmembers; i++)
			if (p->members[i].offset + p->members[i].size > size)
				__builtin_trap(); /* a member outside the file */
		ovf_package_close(p);
	}
	close(fd);
	return 0;
}
