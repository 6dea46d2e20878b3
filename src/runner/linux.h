/* linux.h - direct Linux boot (internal to src/runner). */
#ifndef OD_RUNNER_LINUX_H
#define OD_RUNNER_LINUX_H

#include "runner/vmm.h"

struct linux_entry {
	uint64_t rip, rsi, gdt, cr3;
};

/* Load cfg->kernel (a bzImage), cfg->initrd and cfg->cmdline into guest
 * RAM with boot_params, ACPI tables and page tables; fill `entry`. */
int linux_load(struct vm *vm, const struct vm_config *cfg, struct linux_entry *entry, od_err *e);
/* Put the boot vCPU in 64-bit mode at the kernel's entry point. */
int linux_setup_vcpu(int vcpu_fd, const struct linux_entry *entry, od_err *e);

#endif
