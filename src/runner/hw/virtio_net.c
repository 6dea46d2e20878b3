/* virtio_net.c - virtio-net (virtio 1.x, section 5.1) on the runner's
 * libslirp user networking (slirp_net.c, which owns the network thread).
 * A vCPU that notifies the transmit queue only kicks the network thread;
 * there, under the device lock, the guest's frames go into slirp and
 * slirp's frames into receive chains the guest posted, or are dropped when
 * there are none (TCP retransmits; slirp says so too).
 *
 * Guest frames are copied into a 64 KiB buffer of ours before slirp sees
 * them: the guest can rewrite its memory at any time, slirp must not see
 * it change under its feet. */
#include "config.h"
#include "runner/virtio.h"
#include "runner/hw/slirp_net.h"

#include <stdlib.h>
#include <string.h>

#define VIRTIO_NET_F_MAC (1u << 5)
#define NET_QUEUE_SIZE 256
#define RXQ 0
#define TXQ 1
#define MAX_FRAME 65536

struct virtio_net {
	struct virtio_dev dev;
	struct vm *vm;
	struct slirp_net *be;
	uint8_t mac[6];
	/* two chains: slirp may answer (and fill a receive chain) from inside
	 * slirp_input, while a transmit chain is still being served */
	struct virtq_chain rx_chain, tx_chain;
	uint8_t frame[MAX_FRAME + 12];
	uint64_t rx_dropped;
};

static unsigned hdr_len(const struct virtio_net *n)
{
	/* virtio 1.x always has num_buffers; legacy without MRG_RXBUF not */
	return (n->dev.driver_features & VIRTIO_F_VERSION_1) ? 12 : 10;
}

/* slirp -> guest: one frame into one posted receive chain */
static void net_rx(void *opaque, const uint8_t *buf, size_t len)
{
	struct virtio_net *n = opaque;
	struct virtio_dev *v = &n->dev;
	struct virtq *q = &v->vq[RXQ];
	if (!(v->status & VIRTIO_STATUS_DRIVER_OK) || (v->status & VIRTIO_STATUS_NEEDS_RESET)) {
		n->rx_dropped++;
		return;
	}
	int r = virtq_pop(v->vm, q, &n->rx_chain, NULL);
	if (r < 0) {
		virtio_needs_reset(v);
		return;
	}
	if (r == 0 || n->rx_chain.writable < hdr_len(n) + len) {
		if (r == 1)
			virtq_push(q, n->rx_chain.head, 0); /* too small: give it back empty */
		n->rx_dropped++;
		return;
	}
	uint8_t hdr[12] = { 0 };
	hdr[10] = 1; /* num_buffers */
	virtq_chain_write(&n->rx_chain, 0, hdr, hdr_len(n));
	virtq_chain_write(&n->rx_chain, hdr_len(n), buf, len);
	virtq_push(q, n->rx_chain.head, (uint32_t)(hdr_len(n) + len));
	if (virtq_should_notify(q))
		virtio_signal_used(v);
}

/* guest -> slirp: every chain in the transmit queue (under the lock) */
void virtio_net_tx(struct virtio_net *n)
{
	struct virtio_dev *v = &n->dev;
	struct virtq *q = &v->vq[TXQ];
	bool pushed = false;
	for (unsigned i = 0; i < NET_QUEUE_SIZE; i++) {
		int r = virtq_pop(v->vm, q, &n->tx_chain, NULL);
		if (r < 0) {
			virtio_needs_reset(v);
			break;
		}
		if (r == 0)
			break;
		uint64_t len = n->tx_chain.readable;
		unsigned h = hdr_len(n);
		if (len > h && len - h <= MAX_FRAME && virtq_chain_read(&n->tx_chain, h, n->frame, len - h))
			slirp_net_input(n->be, n->frame, (size_t)(len - h));
		virtq_push(q, n->tx_chain.head, 0);
		pushed = true;
	}
	if (pushed && virtq_should_notify(q))
		virtio_signal_used(v);
}

static void net_tx(void *opaque)
{
	virtio_net_tx(opaque);
}

static const struct slirp_net_ops net_be_ops = { .rx = net_rx, .tx = net_tx };

static void net_cfg_read(struct virtio_dev *v, unsigned off, uint8_t *data, unsigned size)
{
	struct virtio_net *n = v->opaque;
	uint8_t cfg[8] = { 0 };
	memcpy(cfg, n->mac, 6);
	memcpy(data, cfg + off, size);
}

static void net_queue_notify(struct virtio_dev *v, unsigned q)
{
	/* in a vCPU thread: hand the work to the network thread */
	struct virtio_net *n = v->opaque;
	if (q == TXQ)
		slirp_net_kick(n->be);
}

static const struct virtio_ops net_ops = {
	.cfg_read = net_cfg_read,
	.notify = net_queue_notify,
};

bool virtio_net_service(struct virtio_net *n, int stop_fd, int max_wait_ms)
{
	return slirp_net_service(n->be, stop_fd, max_wait_ms);
}

struct virtio_net *virtio_net_new(struct vm *vm, const struct vm_net *cfg, od_err *e)
{
	struct virtio_net *n = calloc(1, sizeof *n);
	if (!n) {
		od_err_nomem(e);
		return NULL;
	}
	n->vm = vm;
	/* a locally administered address, QEMU's usual one */
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	memcpy(n->mac, mac, 6);
	if (!(n->be = slirp_net_new(vm, cfg, &net_be_ops, n, "virtio-net", e))) {
		free(n);
		return NULL;
	}
	if (virtio_pci_init(&n->dev, vm, 1, 2, NET_QUEUE_SIZE, VIRTIO_NET_F_MAC, 8, &net_ops, n, e) < 0) {
		virtio_net_free(n);
		return NULL;
	}
	return n;
}

int virtio_net_start(struct virtio_net *n, od_err *e)
{
	return slirp_net_start(n->be, e);
}

void virtio_net_stop(struct virtio_net *n)
{
	if (n)
		slirp_net_stop(n->be);
}

struct virtio_dev *virtio_net_dev(struct virtio_net *n)
{
	return &n->dev;
}

void virtio_net_free(struct virtio_net *n)
{
	if (!n)
		return;
	slirp_net_stop(n->be); /* no frame may arrive once the device is gone */
	virtio_pci_uninit(&n->dev);
	slirp_net_free(n->be);
	free(n);
}
