/*
 * vm.h - the embedded runner: a small KVM virtual machine monitor.
 *
 * The runner knows nothing of OVF or of the CLI: it takes a configuration
 * (CPUs, memory, disks as disk handles, NICs, firmware or kernel) and runs
 * it until the guest powers off, resets or fails.
 */
#ifndef OD_VM_H
#define OD_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

/* ---- the host (host.c) ---- */
bool vm_host_has_hw_virt(void);  /* vmx or svm in /proc/cpuinfo */
bool vm_host_kvm_usable(void);   /* /dev/kvm opens read-write */
bool vm_host_kvm_is_pvm(void);   /* KVM is PVM: guest kernel code is emulated */

/* VM_DEFINITIONS_BELOW */

#endif
