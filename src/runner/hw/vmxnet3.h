/*
 * vmxnet3.h - VMware's VMXNET3 paravirtual NIC (vmxnet3.c) on the runner's
 * libslirp networking, private to the runner.
 */
#ifndef OD_RUNNER_HW_VMXNET3_H
#define OD_RUNNER_HW_VMXNET3_H

#include "runner/vmm.h"

struct vmxnet3;
/* A NIC on the PCI bus (vm->pci) with its own slirp network (cfg: the
 * forwards, may be NULL); the network thread is not started yet. */
struct vmxnet3 *vmxnet3_new(struct vm *vm, const struct vm_net *cfg, od_err *e);
/* Take it off the bus (when the bus still exists), stop its thread, free. */
void vmxnet3_free(struct vmxnet3 *x);
int vmxnet3_start(struct vmxnet3 *x, od_err *e);
void vmxnet3_stop(struct vmxnet3 *x);
struct pci_dev *vmxnet3_pci(struct vmxnet3 *x);

/* Exposed for the tests and the fuzz harness, device lock held (or no
 * other thread): one round of the network thread (slirp_net_service); the
 * transmit rings into slirp; one frame into the receive ring as if slirp
 * had sent it. */
bool vmxnet3_service(struct vmxnet3 *x, int stop_fd, int max_wait_ms);
void vmxnet3_tx(struct vmxnet3 *x);
void vmxnet3_rx(struct vmxnet3 *x, const uint8_t *frame, size_t len);

#endif
