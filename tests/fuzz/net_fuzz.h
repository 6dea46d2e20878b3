/* net_fuzz.h - what the NIC harnesses (fuzz_net.c, fuzz_vmxnet3.c) share:
 * socket() replaced, so that slirp never reaches the host network from a
 * fuzzer (without sockets it cannot), and one fake VM of `RAM` bytes whose
 * memory each input fills anew.  Included by one file of each harness. */
#ifndef OD_TESTS_FUZZ_NET_FUZZ_H
#define OD_TESTS_FUZZ_NET_FUZZ_H

#include "runner/vmm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RAM (64u << 10)

int socket(int domain, int type, int protocol);
int socket(int domain, int type, int protocol)
{
	(void)domain;
	(void)type;
	(void)protocol;
	errno = EACCES;
	return -1;
}

/* The harness's VM (with a PCI bus), its RAM zeroed and then filled with
 * the input after its first `hdr` bytes. */
static struct vm *fuzz_vm(const uint8_t *data, size_t size, size_t hdr)
{
	static struct vm *vm;
	od_err e;
	if (!vm) {
		vm = vm_new_fake(RAM, &e);
		if (!vm || !(vm->pci = pci_new(vm, &e)))
			abort();
	}
	uint8_t *ram = vm->ram[0].hva;
	memset(ram, 0, RAM);
	memcpy(ram, data + hdr, size - hdr < RAM ? size - hdr : RAM);
	return vm;
}

#endif
