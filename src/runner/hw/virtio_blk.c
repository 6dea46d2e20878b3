/* virtio_blk.c - virtio-blk (not yet). */
#include "config.h"
#include "runner/virtio.h"

int virtio_blk_add(struct vm *vm, struct disk *d, bool readonly, od_err *e)
{
	(void)vm; (void)d; (void)readonly;
	return od_err_set(e, OD_E_UNSUPPORTED, "virtio-blk: not implemented yet");
}

void virtio_blk_free_all(struct vm *vm)
{
	(void)vm;
}
