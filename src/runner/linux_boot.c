/* linux_boot.c - what both direct-boot loaders (linux.c's bzImage, pvh.c's
 * ELF vmlinux) put in guest memory the same way: the e820 map, the command
 * line, the initrd and the ACPI tables.  The bottom of the loaders: it
 * calls neither of them (see linux.h, and the memory map in linux.c). */
#include "config.h"
#include "runner/linux.h"
#include "runner/acpi.h"

#include <stdlib.h>
#include <string.h>

#define CMDLINE_ADDR 0x20000
#define ACPI_TABLES_ADDR 0xE0000
#define RSDP_ADDR 0xF0000

unsigned linux_memmap(const struct vm *vm, struct linux_mem map[LINUX_MEMMAP_MAX])
{
	/* what SeaBIOS would report, and our reserved areas: the EBDA, the
	 * ACPI tables and RSDP, the top-of-4-GiB area our devices use */
	const struct linux_mem all[LINUX_MEMMAP_MAX] = {
		{ 0, 0x9fc00, 1 },
		{ 0x9fc00, 0x400, 2 },
		{ 0xe0000, 0x20000, 2 },
		{ 0x100000, vm->low_ram - 0x100000, 1 },
		{ 0xfeffc000, 0x4000, 2 },
		{ 1ull << 32, vm->high_ram, 1 },
	};
	unsigned n = 0;
	for (unsigned i = 0; i < LINUX_MEMMAP_MAX; i++)
		if (all[i].size)
			map[n++] = all[i];
	return n;
}

int linux_put_cmdline(struct vm *vm, const struct vm_config *cfg, size_t max, uint64_t *at, od_err *e)
{
	const char *cmdline = cfg->cmdline ? cfg->cmdline : "console=ttyS0";
	size_t clen = strlen(cmdline);
	if (max > LINUX_CMDLINE_MAX)
		max = LINUX_CMDLINE_MAX;
	if (clen > max) {
		od_err_set(e, OD_E_USAGE, "kernel command line of %zu bytes is too long (at most %zu)", clen, max);
		return -1;
	}
	memcpy(vm_gpa_to_hva(vm, CMDLINE_ADDR, clen + 1), cmdline, clen + 1);
	*at = CMDLINE_ADDR;
	return 0;
}

int linux_put_initrd(struct vm *vm, const struct vm_config *cfg, uint64_t low, uint64_t max, uint64_t *at,
		     uint64_t *len, od_err *e)
{
	*at = *len = 0;
	if (!cfg->initrd)
		return 0;
	char *initrd;
	size_t initrd_len;
	if (od_read_file(cfg->initrd, LINUX_IMAGE_MAX, &initrd, &initrd_len, e) < 0) {
		od_err_prefix(e, "initrd");
		return -1;
	}
	/* as high as it goes: below 4 GiB's PCI hole and below `max` */
	uint64_t top = vm->low_ram < max + 1 ? vm->low_ram : max + 1;
	if (initrd_len > top || ((top - initrd_len) & ~0xfffull) < low) {
		od_err_set(e, OD_E_USAGE, "%s: %zu bytes do not fit between the kernel's end 0x%llx and 0x%llx",
			   cfg->initrd, initrd_len, (unsigned long long)low, (unsigned long long)top);
		free(initrd);
		return -1;
	}
	*at = (top - initrd_len) & ~0xfffull;
	*len = initrd_len;
	memcpy(vm_gpa_to_hva(vm, *at, initrd_len), initrd, initrd_len);
	free(initrd);
	return 0;
}

int linux_put_acpi(struct vm *vm, uint64_t *rsdp, od_err *e)
{
	/* what the firmware's table loader would have done, at fixed places */
	struct acpi_tables a;
	if (acpi_build(&a, vm->ncpus, e) < 0)
		return -1;
	acpi_finish_at(&a, ACPI_TABLES_ADDR);
	uint8_t *tp = vm_gpa_to_hva(vm, ACPI_TABLES_ADDR, a.tables_len);
	if (!tp || a.tables_len > RSDP_ADDR - ACPI_TABLES_ADDR) {
		acpi_free(&a);
		od_err_set(e, OD_E_INTERNAL, "ACPI tables of %u bytes do not fit", a.tables_len);
		return -1;
	}
	memcpy(tp, a.tables, a.tables_len);
	memcpy(vm_gpa_to_hva(vm, RSDP_ADDR, sizeof a.rsdp), a.rsdp, sizeof a.rsdp);
	acpi_free(&a);
	*rsdp = RSDP_ADDR;
	return 0;
}
