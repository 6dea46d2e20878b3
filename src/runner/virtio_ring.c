/* virtio_ring.c - split virtqueues as a device sees them (virtio 1.x,
 * section 2.7), written for a hostile driver:
 *
 *  - the rings are translated once, when the queue is enabled, and must lie
 *    wholly in RAM; RAM never moves while the VM lives, so the pointers
 *    stay valid;
 *  - the guest may rewrite the rings while we read them (another vCPU), so
 *    every descriptor is copied once before it is looked at, and the avail
 *    index is read once per pop;
 *  - an avail index more than `size` ahead, a head or next index >= size, a
 *    chain of more than `size` descriptors (a loop), an indirect descriptor
 *    (not offered) or a buffer outside RAM make the queue unusable until
 *    the driver resets the device, as the spec's NEEDS_RESET foresees.
 *
 * The host is x86: little-endian like virtio, so fields are copied as is. */
#include "config.h"
#include "runner/virtio.h"

#include <string.h>

static uint16_t ld16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static uint16_t ld16_acquire(const uint8_t *p)
{
	/* the index the guest publishes: read it once, atomically, and see the
	 * ring entries it covers */
	uint16_t v = __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
	return v;
}

void virtq_reset(struct virtq *q)
{
	uint16_t max = q->max_size;
	memset(q, 0, sizeof *q);
	q->max_size = max;
	q->size = max;
}

int virtq_enable(struct vm *vm, struct virtq *q, od_err *e)
{
	q->ready = false;
	if (!od_is_pow2(q->size) || q->size > q->max_size || q->max_size > VIRTQ_MAX_SIZE)
		return od_err_set(e, OD_E_INVALID, "virtqueue size %u: not a power of two up to %u", q->size,
				  q->max_size);
	if (q->desc_gpa % 16 || q->avail_gpa % 2 || q->used_gpa % 4)
		return od_err_set(e, OD_E_INVALID, "virtqueue rings misaligned (0x%llx, 0x%llx, 0x%llx)",
				  (unsigned long long)q->desc_gpa, (unsigned long long)q->avail_gpa,
				  (unsigned long long)q->used_gpa);
	q->desc = vm_gpa_to_hva(vm, q->desc_gpa, 16ull * q->size);
	q->avail = vm_gpa_to_hva(vm, q->avail_gpa, 6 + 2ull * q->size);
	q->used = vm_gpa_to_hva(vm, q->used_gpa, 6 + 8ull * q->size);
	if (!q->desc || !q->avail || !q->used)
		return od_err_set(e, OD_E_INVALID, "virtqueue rings outside RAM (0x%llx, 0x%llx, 0x%llx)",
				  (unsigned long long)q->desc_gpa, (unsigned long long)q->avail_gpa,
				  (unsigned long long)q->used_gpa);
	q->last_avail = 0;
	q->used_idx = 0;
	q->ready = true;
	return 0;
}

int virtq_pop(struct vm *vm, struct virtq *q, struct virtq_chain *c, od_err *e)
{
	if (!q->ready)
		return 0;
	uint16_t avail_idx = ld16_acquire(q->avail + 2);
	uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
	if (pending == 0)
		return 0;
	if (pending > q->size)
		return od_err_set(e, OD_E_INVALID, "virtqueue: avail index %u is %u entries ahead of a %u-entry ring",
				  avail_idx, pending, q->size);
	uint16_t head = ld16(q->avail + 4 + 2 * (q->last_avail & (q->size - 1)));
	if (head >= q->size)
		return od_err_set(e, OD_E_INVALID, "virtqueue: head descriptor %u >= queue size %u", head, q->size);

	c->head = head;
	c->n = 0;
	c->readable = c->writable = 0;
	uint16_t idx = head;
	for (unsigned i = 0;; i++) {
		if (idx >= q->size)
			return od_err_set(e, OD_E_INVALID, "virtqueue: next descriptor %u >= queue size %u", idx, q->size);
		/* a chain can use each descriptor once at most: more is a loop */
		if (i >= q->size)
			return od_err_set(e, OD_E_INVALID, "virtqueue: chain from %u longer than the queue (a loop?)", head);
		uint8_t d[16];
		memcpy(d, q->desc + 16 * (size_t)idx, 16);
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;
		memcpy(&addr, d, 8);
		memcpy(&len, d + 8, 4);
		memcpy(&flags, d + 12, 2);
		memcpy(&next, d + 14, 2);
		if (flags & VIRTQ_DESC_F_INDIRECT)
			return od_err_set(e, OD_E_INVALID, "virtqueue: indirect descriptor %u (not offered)", idx);
		uint8_t *hva = vm_gpa_to_hva(vm, addr, len);
		if (!hva)
			return od_err_set(e, OD_E_INVALID, "virtqueue: descriptor %u: buffer 0x%llx+%u is outside RAM", idx,
					  (unsigned long long)addr, len);
		bool w = flags & VIRTQ_DESC_F_WRITE;
		c->buf[c->n++] = (struct virtq_buf){ hva, len, w };
		if (w)
			c->writable += len;
		else
			c->readable += len;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
		idx = next;
	}
	q->last_avail++;
	return 1;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	if (!q->ready)
		return;
	uint8_t *el = q->used + 4 + 8 * (size_t)(q->used_idx & (q->size - 1));
	uint32_t id = head;
	memcpy(el, &id, 4);
	memcpy(el + 4, &len, 4);
	q->used_idx++;
	/* the element must be visible before the index that publishes it */
	__atomic_store_n((uint16_t *)(q->used + 2), q->used_idx, __ATOMIC_RELEASE);
}

bool virtq_should_notify(const struct virtq *q)
{
	/* the driver's flag is read after our used index store */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return q->ready && !(ld16(q->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

static bool chain_copy(const struct virtq_chain *c, bool writable, uint64_t off, uint8_t *p, size_t len, bool to_guest)
{
	for (unsigned i = 0; i < c->n && len; i++) {
		const struct virtq_buf *b = &c->buf[i];
		if (b->writable != writable)
			continue;
		if (off >= b->len) {
			off -= b->len;
			continue;
		}
		size_t n = b->len - off;
		if (n > len)
			n = len;
		if (to_guest)
			memcpy(b->hva + off, p, n);
		else
			memcpy(p, b->hva + off, n);
		p += n;
		len -= n;
		off = 0;
	}
	return len == 0;
}

bool virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *dst, size_t len)
{
	return chain_copy(c, false, off, dst, len, false);
}

bool virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *src, size_t len)
{
	return chain_copy(c, true, off, (uint8_t *)src, len, true);
}
