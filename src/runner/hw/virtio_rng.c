/* virtio_rng.c - virtio-rng (virtio 1.x, section 5.4): the guest offers
 * writable buffers and gets them filled from the host's getrandom().  The
 * device may fill less than offered, so each request is capped at 64 KiB:
 * a guest cannot make one notification cost unbounded host work. */
#include "config.h"
#include "runner/virtio.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#define RNG_QUEUE_SIZE 64
#define RNG_MAX_PER_REQUEST (64u << 10)

struct virtio_rng {
	struct virtio_dev dev;
	struct virtq_chain chain;
};

uint32_t virtio_rng_request(const struct virtq_chain *c)
{
	uint32_t done = 0;
	for (unsigned i = 0; i < c->n && done < RNG_MAX_PER_REQUEST; i++) {
		const struct virtq_buf *b = &c->buf[i];
		if (!b->writable)
			continue;
		uint32_t want = b->len;
		if (want > RNG_MAX_PER_REQUEST - done)
			want = RNG_MAX_PER_REQUEST - done;
		uint32_t got = 0;
		while (got < want) {
			ssize_t r = getrandom(b->hva + got, want - got, 0);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				return done + got; /* what was filled is still random */
			}
			got += (uint32_t)r;
		}
		done += got;
	}
	return done;
}

static void rng_notify(struct virtio_dev *v, unsigned qi)
{
	struct virtio_rng *r = v->opaque;
	struct virtq *q = &v->vq[qi];
	bool pushed = false;
	for (unsigned n = 0; n < RNG_QUEUE_SIZE; n++) {
		int rc = virtq_pop(v->vm, q, &r->chain, NULL);
		if (rc < 0) {
			virtio_needs_reset(v);
			break;
		}
		if (rc == 0)
			break;
		virtq_push(q, r->chain.head, virtio_rng_request(&r->chain));
		pushed = true;
	}
	if (pushed && virtq_should_notify(q))
		virtio_signal_queue(v, qi);
}

static void rng_cfg_read(struct virtio_dev *v, unsigned off, uint8_t *data, unsigned size)
{
	(void)v; (void)off; (void)data; (void)size; /* no config space */
}

static const struct virtio_ops rng_ops = {
	.cfg_read = rng_cfg_read,
	.notify = rng_notify,
};

struct virtio_rng *virtio_rng_new(struct vm *vm, od_err *e)
{
	struct virtio_rng *r = calloc(1, sizeof *r);
	if (!r) {
		od_err_nomem(e);
		return NULL;
	}
	if (virtio_pci_init(&r->dev, vm, 4, 1, RNG_QUEUE_SIZE, 0, 0, &rng_ops, r, e) < 0) {
		free(r);
		return NULL;
	}
	return r;
}

struct virtio_dev *virtio_rng_dev(struct virtio_rng *r)
{
	return &r->dev;
}

void virtio_rng_free(struct virtio_rng *r)
{
	if (!r)
		return;
	virtio_pci_uninit(&r->dev);
	free(r);
}
