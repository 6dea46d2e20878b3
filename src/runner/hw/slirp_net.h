/*
 * slirp_net.h - user-mode networking on libslirp (slirp_net.c), the one
 * back end of every NIC model in the runner (virtio-net, VMXNET3): the guest
 * sits on 10.0.2.0/24 behind a NAT with DHCP (10.0.2.15 for the guest), DNS
 * (10.0.2.3) and the host as 10.0.2.2; host ports can be forwarded to it.
 *
 * The NIC model gives two callbacks, both called in the network thread
 * with the VM's device lock held:
 *   rx: one frame from slirp for the guest (drop it when no buffer is
 *       posted: TCP retransmits, DHCP asks again);
 *   tx: move every frame the guest has queued into slirp_net_input.
 * A vCPU that sees the guest queue frames calls slirp_net_kick, which only
 * pokes an eventfd: slirp runs in the network thread alone.
 */
#ifndef OD_RUNNER_HW_SLIRP_NET_H
#define OD_RUNNER_HW_SLIRP_NET_H

#include "runner/vmm.h"

/* The largest frame either way: a 64 KiB IP datagram and its headers. */
#define SLIRP_NET_MAX_FRAME (65536 + 64)

struct slirp_net_ops {
	void (*rx)(void *opaque, const uint8_t *frame, size_t len);
	void (*tx)(void *opaque);
};

struct slirp_net;
/* `who` names the NIC in errors ("virtio-net"); cfg may be NULL (no
 * forwards).  The network thread is not started yet. */
struct slirp_net *slirp_net_new(struct vm *vm, const struct vm_net *cfg, const struct slirp_net_ops *ops,
				void *opaque, const char *who, od_err *e);
void slirp_net_free(struct slirp_net *s);
/* Start the network thread, confined by sandbox_net() before it serves a
 * frame (unless vm->no_sandbox); it ends when the VM's end_fd fires. */
int slirp_net_start(struct slirp_net *s, od_err *e);
void slirp_net_stop(struct slirp_net *s);
/* From any thread: the guest has frames to send. */
void slirp_net_kick(struct slirp_net *s);
/* In the tx callback: one frame from the guest, in a buffer of the NIC's
 * own (the guest must not be able to change it while slirp reads it). */
void slirp_net_input(struct slirp_net *s, const uint8_t *frame, size_t len);
/* One round of the network thread (exposed for tests): transmit, wait for
 * slirp's sockets, a kick or `stop_fd` at most `max_wait_ms` (-1: 1 s
 * rounds), run sockets and timers, transmit again.  False when stop_fd is
 * readable. */
bool slirp_net_service(struct slirp_net *s, int stop_fd, int max_wait_ms);

#endif
