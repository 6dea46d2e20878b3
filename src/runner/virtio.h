/* virtio.h - virtio for the runner (internal to src/runner): split
 * virtqueues, the PCI transport and the devices on top.
 *
 * Everything in a virtqueue is written by the guest and hostile: ring
 * addresses are translated once when the queue is enabled (the whole ring
 * must lie in RAM), every index read from the rings is checked against the
 * queue size, chain walks stop after `size` descriptors, every buffer goes
 * through vm_gpa_to_hva(), and the only arrays are sized by our own maximum
 * queue size, never by a guest value. */
#ifndef OD_RUNNER_VIRTIO_H
#define OD_RUNNER_VIRTIO_H

#include "runner/vmm.h"

struct disk;

/* ---- split virtqueues (virtio_ring.c) ---- */
#define VIRTQ_MAX_SIZE 256

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq {
	uint16_t size;       /* power of two, <= max_size */
	uint16_t max_size;
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* host views of the rings, valid while ready */
	uint8_t *desc, *avail, *used;
	uint16_t last_avail; /* next avail entry we will take */
	uint16_t used_idx;   /* our copy of used->idx */
};

/* One buffer of a descriptor chain, already translated. */
struct virtq_buf {
	uint8_t *hva;
	uint32_t len;
	bool writable;
};

struct virtq_chain {
	uint16_t head;
	unsigned n;                 /* buffers in `buf` */
	uint64_t readable, writable; /* total bytes of each kind */
	struct virtq_buf buf[VIRTQ_MAX_SIZE];
};

/* Check and translate the rings of a queue whose size and addresses are
 * set; -1 with e set when a ring is outside RAM, misaligned or the size is
 * not a power of two <= max_size.  On success the queue is ready. */
int virtq_enable(struct vm *vm, struct virtq *q, od_err *e);
void virtq_reset(struct virtq *q);
/* Take the next available chain: 1 with `c` filled, 0 when the ring is
 * empty, -1 (e set) when the guest broke the ring (then the device must
 * stop using the queue). */
int virtq_pop(struct vm *vm, struct virtq *q, struct virtq_chain *c, od_err *e);
/* Return a chain to the guest with `len` bytes written into it. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);
/* True unless the guest asked not to be interrupted. */
bool virtq_should_notify(const struct virtq *q);
/* Gather/scatter helpers over a chain: copy `len` bytes starting `off`
 * bytes into the readable (or writable) part; false when it is shorter. */
bool virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *dst, size_t len);
bool virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *src, size_t len);

/* ---- virtio over PCI, transitional (virtio_pci.c) ----
 * Legacy interface in I/O BAR 0 (with the device config after the 20-byte
 * header, 24 bytes when MSI-X is on), modern interface in 64-bit memory
 * BAR 4 (common config, ISR, device config, notifications) described by
 * vendor capabilities, plus the PCI configuration access capability.
 * Interrupts: MSI-X (table and PBA in 32-bit memory BAR 1, one vector per
 * queue plus one for configuration changes), INTx while MSI-X is off. */
#define VIRTIO_MAX_QUEUES 4
#define VIRTIO_MSIX_MAX (VIRTIO_MAX_QUEUES + 1)
#define VIRTIO_MSI_NO_VECTOR 0xffff
#define VIRTIO_MSIX_BAR 1
#define VIRTIO_MSIX_PBA 0x800 /* offset of the PBA in the MSI-X BAR */
#define VIRTIO_F_VERSION_1 (1ull << 32)

#define VIRTIO_STATUS_ACK 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

struct virtio_dev;
struct virtio_ops {
	/* device config space, little-endian bytes */
	void (*cfg_read)(struct virtio_dev *v, unsigned off, uint8_t *data, unsigned size);
	void (*notify)(struct virtio_dev *v, unsigned queue);
	void (*reset)(struct virtio_dev *v);
};

struct virtio_dev {
	struct vm *vm;
	struct pci_dev pci;
	const struct virtio_ops *ops;
	void *opaque;
	unsigned type;          /* virtio device type: 2 = block */
	unsigned cfg_size;      /* bytes of device config */
	uint64_t features;      /* offered */
	uint64_t driver_features;
	uint32_t dfselect, gfselect;
	uint8_t status, isr, generation;
	uint16_t queue_sel;
	unsigned nqueues;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	/* MSI-X: table entries as the guest wrote them (address, data,
	 * vector control), pending bits, and the vectors the driver chose,
	 * each < msix_nvec or VIRTIO_MSI_NO_VECTOR.  msix_cap is 0 when the
	 * device has no MSI-X (KVM without MSI injection). */
	unsigned msix_cap, msix_nvec;
	uint8_t msix_table[16 * VIRTIO_MSIX_MAX];
	uint32_t msix_pending;
	uint16_t config_vector;
	uint16_t queue_vector[VIRTIO_MAX_QUEUES];
	unsigned pcicfg_cap; /* offset of the VIRTIO_PCI_CAP_PCI_CFG capability */
};

/* Initialise the transport and add the device to the bus. */
int virtio_pci_init(struct virtio_dev *v, struct vm *vm, unsigned type, unsigned nqueues, uint16_t queue_size,
		    uint64_t features, unsigned cfg_size, const struct virtio_ops *ops, void *opaque, od_err *e);
void virtio_pci_uninit(struct virtio_dev *v);
/* Tell the driver that queue `q` has used buffers: its MSI-X vector, or
 * ISR bit 0 and INTx while MSI-X is off. */
void virtio_signal_queue(struct virtio_dev *v, unsigned q);
/* The same when the caller does not know the queue: every vector a queue
 * uses (spurious ones are harmless, drivers check the used ring). */
void virtio_signal_used(struct virtio_dev *v);
/* The device hit a guest error: stop until the driver resets it. */
void virtio_needs_reset(struct virtio_dev *v);

/* ---- virtio-blk (virtio_blk.c) ---- */
/* What a block device reads and writes: the disk library in production,
 * memory in the unit tests. */
struct blk_backend {
	void *ctx;
	uint64_t size; /* bytes */
	int (*pread)(void *ctx, void *buf, size_t len, uint64_t off, od_err *e);
	int (*pwrite)(void *ctx, const void *buf, size_t len, uint64_t off, od_err *e);
	int (*flush)(void *ctx, od_err *e);
};
/* The disk library as a backend for `d` (blk_disk.c), with the disk's
 * readahead workers started: 0, or -1 with *e. */
int blk_disk_backend(struct vm *vm, struct disk *d, struct blk_backend *be, od_err *e);
struct virtio_blk;
struct virtio_blk *virtio_blk_new(struct vm *vm, const struct blk_backend *be, bool readonly, od_err *e);
void virtio_blk_free(struct virtio_blk *b);
struct virtio_dev *virtio_blk_dev(struct virtio_blk *b);
/* Process one request chain (exposed for tests and the fuzzer): returns
 * the number of bytes written to the guest (data + status). */
uint32_t virtio_blk_request(struct virtio_blk *b, const struct virtq_chain *c);

/* Add a virtio-blk device for `d` (opened by the caller) on the PCI bus. */
int virtio_blk_add(struct vm *vm, struct disk *d, bool readonly, od_err *e);
/* Free every virtio-blk device of the VM (the disks stay open). */
void virtio_blk_free_all(struct vm *vm);

/* ---- virtio-rng (virtio_rng.c) ---- */
struct virtio_rng;
struct virtio_rng *virtio_rng_new(struct vm *vm, od_err *e);
void virtio_rng_free(struct virtio_rng *r);
struct virtio_dev *virtio_rng_dev(struct virtio_rng *r);
/* Fill a chain's writable buffers (at most 64 KiB); returns bytes written. */
uint32_t virtio_rng_request(const struct virtq_chain *c);

/* ---- virtio-net on libslirp (virtio_net.c) ---- */
struct virtio_net;
struct virtio_net *virtio_net_new(struct vm *vm, const struct vm_net *cfg, od_err *e);
/* Start / stop the network thread (it ends when the VM's end_fd fires). */
int virtio_net_start(struct virtio_net *n, od_err *e);
void virtio_net_stop(struct virtio_net *n);
void virtio_net_free(struct virtio_net *n);
struct virtio_dev *virtio_net_dev(struct virtio_net *n);
/* One round of the network thread (exposed for tests): false when
 * stop_fd became readable. */
bool virtio_net_service(struct virtio_net *n, int stop_fd, int max_wait_ms);
/* Move the guest's transmitted frames into slirp (device lock held). */
void virtio_net_tx(struct virtio_net *n);

#endif
