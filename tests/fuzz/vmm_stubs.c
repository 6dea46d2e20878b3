/* vmm_stubs.c - what the runner harnesses (fuzz_blk, fuzz_net, fuzz_kernel) link instead
 * of kvm.c and sandbox.c: the device code is fuzzed without a KVM VM, so an
 * MSI-X message has nowhere to go, and the harness process is not confined
 * (libFuzzer itself needs syscalls no runner thread may make). */
#include "config.h"
#include "runner/vmm.h"
#include "runner/sandbox.h"

void vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	(void)vm;
	(void)addr;
	(void)data;
}

int sandbox_net(od_err *e)
{
	(void)e;
	return 0;
}

/* virtio_blk_add confines the disk readahead workers with this filter */
int sandbox_vcpu(od_err *e)
{
	(void)e;
	return 0;
}
