/* blk_disk.c - the disk library (src/disk) as the struct blk_backend that
 * the runner's block devices read and write through: virtio-blk and the
 * SCSI adapters' units.  Also starts the disk's readahead workers. */
#include "config.h"
#include "runner/virtio.h"
#include "disk/disk.h"

#include <unistd.h>

static int disk_be_pread(void *ctx, void *buf, size_t len, uint64_t off, od_err *e)
{
	return disk_pread(ctx, buf, len, off, e);
}

static int disk_be_pwrite(void *ctx, const void *buf, size_t len, uint64_t off, od_err *e)
{
	return disk_pwrite(ctx, buf, len, off, e);
}

static int disk_be_flush(void *ctx, od_err *e)
{
	return disk_flush(ctx, e);
}

/* Readahead workers are started here, while nothing is confined yet, and
 * each confines itself at once with the vCPU filter: they do with the disk
 * what a vCPU thread does (pread, futex, memory), so they get nothing a
 * vCPU thread lacks, and no thread of a running machine is unconfined. */
static int blk_worker_init(void *ctx, od_err *e)
{
	struct vm *vm = ctx;
	od_pool_forbid();
	return vm->no_sandbox ? 0 : sandbox_vcpu(e);
}

/* Workers per disk: one per online CPU but one (the vCPU thread inflates
 * too while it waits for them), up to 4.  Guest reads of a streamOptimized
 * VMDK are otherwise inflated on the vCPU thread alone. */
#define BLK_READAHEAD_MAX 4

int blk_disk_backend(struct vm *vm, struct disk *d, struct blk_backend *be, od_err *e)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned nra = cpus > BLK_READAHEAD_MAX ? BLK_READAHEAD_MAX : cpus > 1 ? (unsigned)cpus - 1 : 0;
	if (nra && disk_readahead_start(d, nra, blk_worker_init, vm, e) < 0)
		return -1; /* the message names the image */
	*be = (struct blk_backend){
		.ctx = d,
		.size = disk_size(d),
		.pread = disk_be_pread,
		.pwrite = disk_be_pwrite,
		.flush = disk_be_flush,
	};
	return 0;
}
