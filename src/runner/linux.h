/* linux.h - direct Linux boot (internal to src/runner). */
#ifndef OD_RUNNER_LINUX_H
#define OD_RUNNER_LINUX_H

#include "runner/vmm.h"

#include <stdbool.h>

/* How the boot vCPU starts: 64-bit mode at rip with boot_params in rsi
 * (bzImage), or flat 32-bit protected mode at rip with the PVH start_info
 * in rbx (ELF vmlinux). */
struct linux_entry {
	bool mode64;
	uint64_t rip, rsi, rbx, gdt, cr3;
};

/* Load cfg->kernel (a bzImage, or an ELF vmlinux with a PVH entry point),
 * cfg->initrd and cfg->cmdline into guest RAM with the boot information
 * the kernel expects and ACPI tables; fill `entry`. */
int linux_load(struct vm *vm, const struct vm_config *cfg, struct linux_entry *entry, od_err *e);
/* The same for a kernel image already in memory (`img`, `len` bytes;
 * the fuzz harness's way in); cfg->kernel only names it in errors. */
int linux_load_image(struct vm *vm, const struct vm_config *cfg, const uint8_t *img, size_t len,
		     struct linux_entry *entry, od_err *e);
/* Put the boot vCPU in the mode `entry` asks for, at the kernel's entry. */
int linux_setup_vcpu(int vcpu_fd, const struct linux_entry *entry, od_err *e);

/* --- shared by the two loaders: linux_boot.c, at the bottom.  linux.c (the
 * entry, linux_load*) calls pvh.c and linux_boot.c; pvh.c calls only
 * linux_boot.c; linux_boot.c calls neither (tests/cli/layers.sh). --- */

/* The largest kernel or initrd file read; the longest command line. */
#define LINUX_IMAGE_MAX (512u << 20)
#define LINUX_CMDLINE_MAX 4095

/* The guest's physical memory map, e820 types (1 RAM, 2 reserved). */
#define LINUX_MEMMAP_MAX 6
struct linux_mem {
	uint64_t addr, size;
	uint32_t type;
};
unsigned linux_memmap(const struct vm *vm, struct linux_mem map[LINUX_MEMMAP_MAX]);
/* cfg->cmdline (or the default) into guest RAM, at most `max` bytes. */
int linux_put_cmdline(struct vm *vm, const struct vm_config *cfg, size_t max, uint64_t *at, od_err *e);
/* cfg->initrd, if any, page-aligned as high as it fits below `max`+1 and the
 * PCI hole, and not below `low`; *at and *len are 0 without one. */
int linux_put_initrd(struct vm *vm, const struct vm_config *cfg, uint64_t low, uint64_t max, uint64_t *at,
		     uint64_t *len, od_err *e);
/* The ACPI tables and RSDP at the places a BIOS would use. */
int linux_put_acpi(struct vm *vm, uint64_t *rsdp, od_err *e);
/* The PVH loader (pvh.c): `img` is an ELF file of `len` bytes. */
int pvh_load(struct vm *vm, const struct vm_config *cfg, const uint8_t *img, size_t len, struct linux_entry *entry,
	     od_err *e);

#endif
