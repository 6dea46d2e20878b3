/* fuzz_kernel.c - libFuzzer harness for the direct-boot loaders: the input
 * is a kernel file, a bzImage or an ELF vmlinux (linux.c, pvh.c), loaded
 * into a fake guest of 64 MiB without KVM.  A load that succeeds must
 * leave an entry point inside guest RAM.  Built and run by scripts/fuzz. */
#include "config.h"
#include "runner/linux.h"

#include <stdlib.h>

#define RAM (64u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm *vm;
	od_err e;
	if (!vm && !(vm = vm_new_fake(RAM, &e)))
		abort();
	struct vm_config cfg = { .kernel = "fuzz", .cmdline = "console=ttyS0" };
	struct linux_entry entry;
	if (linux_load_image(vm, &cfg, data, size, &entry, &e) == 0 &&
	    (entry.rip >= vm->low_ram || (!entry.mode64 && entry.rip < 0x100000)))
		abort();
	return 0;
}
