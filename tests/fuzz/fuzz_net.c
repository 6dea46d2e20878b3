/* fuzz_net.c - libFuzzer harness for the virtio-net request path: the
 * transmit queue walk, the copy of each frame out of guest memory into
 * slirp, and slirp's answers written into the receive buffers the guest
 * posted.  Built and run by scripts/fuzz.
 *
 * Input, like tests/runner/fuzz_blk.c: four bytes, then the first 64 KiB
 * of guest RAM as a hostile driver would write it.
 *   [0] low 4 bits: queue size 2^(n % 9); bit 4: virtio 1.x (12-byte header)
 *   [1] low 4 bits: page of the descriptor table (both queues share it)
 *   [2] low 4 bits: page of the transmit avail ring; high 4: the receive one
 *   [3] even offset of both avail rings in their page
 * Used rings are at 0xe000 (receive) and 0xf000 (transmit).
 *
 * A fresh device (and slirp) per input, so no state carries from one
 * input to the next.  socket() is replaced (net_fuzz.h): slirp must never
 * reach the host network from a fuzzer, and without sockets it cannot.
 */
#include "config.h"
#include "runner/virtio.h"

#include "net_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	struct vm *vm = fuzz_vm(data, size, 4);
	od_err e;

	struct virtio_net *n = virtio_net_new(vm, NULL, &e);
	if (!n)
		abort();
	struct virtio_dev *v = virtio_net_dev(n);
	v->driver_features = (data[0] & 0x10) ? VIRTIO_F_VERSION_1 : 0;
	v->status = VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;
	struct virtq *rx = &v->vq[0], *tx = &v->vq[1];
	rx->size = tx->size = (uint16_t)(1u << ((data[0] & 0x0f) % 9)); /* 1..256 */
	rx->desc_gpa = tx->desc_gpa = (uint64_t)(data[1] & 0x0f) << 12;
	tx->avail_gpa = ((uint64_t)(data[2] & 0x0f) << 12) | (data[3] & 0x0e);
	rx->avail_gpa = ((uint64_t)(data[2] >> 4) << 12) | (data[3] & 0x0e);
	rx->used_gpa = 0xe000;
	tx->used_gpa = 0xf000;
	if (virtq_enable(vm, rx, &e) == 0 && virtq_enable(vm, tx, &e) == 0)
		virtio_net_tx(n);
	virtio_net_free(n);
	return 0;
}
