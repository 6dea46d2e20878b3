/* virtio.h - virtio-pci devices of the runner (internal to src/runner). */
#ifndef OD_RUNNER_VIRTIO_H
#define OD_RUNNER_VIRTIO_H

#include "runner/vmm.h"

struct disk;

/* Add a virtio-blk device for `d` (opened by the caller) on the PCI bus. */
int virtio_blk_add(struct vm *vm, struct disk *d, bool readonly, od_err *e);
/* Free every virtio-blk device of the VM (the disks stay open). */
void virtio_blk_free_all(struct vm *vm);

#endif
