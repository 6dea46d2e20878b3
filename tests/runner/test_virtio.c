/* test_virtio.c - the virtqueue walk and the virtio-blk request path
 * against fake guest memory, without KVM: valid chains, and the chains a
 * hostile driver can build (loops, pointers outside RAM, chains longer
 * than the queue, bad indexes, odd lengths), then both PCI interfaces. */
#include "config.h"
#include "runner/virtio.h"
#include "fakeio.h"

#include <check.h>
#include "../check_run.h"
#include <stdlib.h>
#include <string.h>

#define RAM (1u << 20)
#define DISK (64u << 10)

static struct vm *vm;
static uint8_t *ram;
static uint8_t disk[DISK];
static struct fake_disk fdisk;
static struct blk_backend mem_be;

static void setup(void)
{
	od_err e;
	vm = fake_vm_new(RAM, &ram, &e);
	ck_assert_msg(vm != NULL, "%s", e.msg);
	fake_disk_init(&fdisk, disk, DISK, 7, 512);
	mem_be = fake_disk_backend(&fdisk);
}

static void teardown(void)
{
	fake_vm_free(vm);
}

/* a queue of 8 at 0x1000 (desc), 0x2000 (avail), 0x3000 (used) */
static struct virtq q;

static void queue_init(uint16_t size)
{
	od_err e;
	memset(&q, 0, sizeof q);
	q.max_size = 16;
	q.size = size;
	q.desc_gpa = 0x1000;
	q.avail_gpa = 0x2000;
	q.used_gpa = 0x3000;
	memset(ram, 0, 0x10000);
	ck_assert_int_eq(virtq_enable(vm, &q, &e), 0);
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	fake_desc(ram + 0x1000, i, addr, len, flags, next);
}

static uint16_t avail_idx;
static void offer(uint16_t head)
{
	fake_offer(ram + 0x2000, &avail_idx, q.size, head);
}

static void blk_header(uint64_t gpa, uint32_t type, uint64_t sector)
{
	memset(ram + gpa, 0, 16);
	memcpy(ram + gpa, &type, 4);
	memcpy(ram + gpa + 8, &sector, 8);
}

/* ---- the ring walk ---- */

START_TEST(test_valid_chain_and_used_ring)
{
	od_err e;
	struct virtq_chain c;
	avail_idx = 0;
	queue_init(8);
	ck_assert_int_eq(virtq_pop(vm, &q, &c, &e), 0); /* empty */
	set_desc(3, 0x4000, 16, VIRTQ_DESC_F_NEXT, 5);
	set_desc(5, 0x5000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
	set_desc(0, 0x6000, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(3);
	ck_assert_int_eq(virtq_pop(vm, &q, &c, &e), 1);
	ck_assert_uint_eq(c.head, 3);
	ck_assert_uint_eq(c.n, 3);
	ck_assert_uint_eq(c.readable, 16);
	ck_assert_uint_eq(c.writable, 513);
	ck_assert_ptr_eq(c.buf[1].hva, ram + 0x5000);
	ck_assert_int_eq(virtq_pop(vm, &q, &c, &e), 0);
	virtq_push(&q, 3, 513);
	uint16_t used_idx;
	uint32_t id, len;
	memcpy(&used_idx, ram + 0x3002, 2);
	memcpy(&id, ram + 0x3004, 4);
	memcpy(&len, ram + 0x3008, 4);
	ck_assert_uint_eq(used_idx, 1);
	ck_assert_uint_eq(id, 3);
	ck_assert_uint_eq(len, 513);
	ck_assert(virtq_should_notify(&q));
	uint16_t flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	memcpy(ram + 0x2000, &flags, 2);
	ck_assert(!virtq_should_notify(&q));
	/* the ring index wraps at 16 bits */
	for (unsigned i = 0; i < 70000; i++) {
		set_desc(1, 0x4000, 4, 0, 0);
		offer(1);
		ck_assert_int_eq(virtq_pop(vm, &q, &c, &e), 1);
		virtq_push(&q, c.head, 0);
	}
}
END_TEST

START_TEST(test_hostile_chains)
{
	od_err e;
	struct virtq_chain c;
	avail_idx = 0;
	queue_init(8);
	/* a loop: 0 -> 1 -> 0 */
	set_desc(0, 0x4000, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, 0x4100, 16, VIRTQ_DESC_F_NEXT, 0);
	offer(0);
	ck_assert_int_eq(virtq_pop(vm, &q, &c, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "loop"));

	/* a self loop */
	queue_init(8);
	avail_idx = 0;
	set_desc(2, 0x4000, 16, VIRTQ_DESC_F_NEXT, 2);
	offer(2);
	ck_assert_int_eq(virtq_pop(vm, &q, &c, &e), -1);

	/* a chain of exactly the queue size is fine; one more is not */
	queue_init(8);
	avail_idx = 0;
	for (unsigned i = 0; i < 8; i++)
		set_desc(i, 0x4000 + 16 * i, 16, i < 7 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	offer(0);
	ck_assert_int_eq(virtq_pop(vm, &q, &c, &e), 1);
	ck_assert_uint_eq(c.n, 8);
	set_desc(7, 0x4000, 16, VIRTQ_DESC_F_NEXT, 8); /* next == size */
	offer(0);
	ck_assert_int_eq(virtq_pop(vm, &q, &c, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, ">= queue size"));

	/* buffers outside RAM, straddling its end, wrapping */
	uint64_t bad[][2] = { { RAM, 1 }, { RAM - 8, 16 }, { 0xfffff000, 4096 }, { UINT64_MAX - 7, 16 },
			      { 0x4000, 0xffffffff } };
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		queue_init(8);
		avail_idx = 0;
		set_desc(0, 0x4000, 16, VIRTQ_DESC_F_NEXT, 1);
		set_desc(1, bad[i][0], (uint32_t)bad[i][1], VIRTQ_DESC_F_WRITE, 0);
		offer(0);
		ck_assert_int_eq(virtq_pop(vm, &q, &c, &e), -1);
		ck_assert_ptr_nonnull(strstr(e.msg, "outside RAM"));
	}

	/* a head index >= size */
	queue_init(8);
	avail_idx = 0;
	offer(9);
	ck_assert_int_eq(virtq_pop(vm, &q, &c, &e), -1);
	/* an avail index more than a ring ahead */
	queue_init(8);
	uint16_t idx = 9;
	memcpy(ram + 0x2002, &idx, 2);
	ck_assert_int_eq(virtq_pop(vm, &q, &c, &e), -1);
	/* indirect descriptors were not offered */
	queue_init(8);
	avail_idx = 0;
	set_desc(0, 0x4000, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	ck_assert_int_eq(virtq_pop(vm, &q, &c, &e), -1);
}
END_TEST

START_TEST(test_ring_setup_checks)
{
	od_err e;
	struct virtq r = { .max_size = 16, .size = 8, .desc_gpa = 0x1000, .avail_gpa = 0x2000, .used_gpa = 0x3000 };
	ck_assert_int_eq(virtq_enable(vm, &r, &e), 0);
	r.size = 12; /* not a power of two */
	ck_assert_int_eq(virtq_enable(vm, &r, &e), -1);
	ck_assert(!r.ready);
	r.size = 32; /* above the maximum */
	ck_assert_int_eq(virtq_enable(vm, &r, &e), -1);
	r.size = 8;
	r.desc_gpa = 0x1008; /* misaligned */
	ck_assert_int_eq(virtq_enable(vm, &r, &e), -1);
	r.desc_gpa = RAM - 64; /* descriptor table runs past RAM */
	ck_assert_int_eq(virtq_enable(vm, &r, &e), -1);
	r.desc_gpa = 0x1000;
	r.used_gpa = UINT64_MAX - 3;
	ck_assert_int_eq(virtq_enable(vm, &r, &e), -1);
	struct virtq_chain c;
	ck_assert_int_eq(virtq_pop(vm, &r, &c, &e), 0); /* not ready: nothing */
}
END_TEST

/* ---- virtio-blk requests ---- */

static struct virtio_blk *blk;
static uint8_t status_at(uint64_t gpa) { return ram[gpa]; }

static uint32_t run_chain(uint16_t head)
{
	od_err e;
	struct virtq_chain c;
	offer(head);
	ck_assert_int_eq(virtq_pop(vm, &q, &c, &e), 1);
	return virtio_blk_request(blk, &c);
}

START_TEST(test_blk_requests)
{
	od_err e;
	blk = virtio_blk_new(vm, &mem_be, false, &e);
	ck_assert_ptr_nonnull(blk);
	avail_idx = 0;
	queue_init(16);

	/* read sector 3 into two odd-sized segments (100 + 412) */
	blk_header(0x4000, 0, 3);
	set_desc(0, 0x4000, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, 0x5000, 100, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	set_desc(2, 0x5800, 412, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
	set_desc(3, 0x6000, 1, VIRTQ_DESC_F_WRITE, 0);
	ram[0x6000] = 0xee;
	ck_assert_uint_eq(run_chain(0), 513);
	ck_assert_uint_eq(status_at(0x6000), 0);
	ck_assert(memcmp(ram + 0x5000, disk + 3 * 512, 100) == 0);
	ck_assert(memcmp(ram + 0x5800, disk + 3 * 512 + 100, 412) == 0);

	/* a read whose length is not whole sectors fails */
	set_desc(1, 0x5000, 100, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
	ck_assert_uint_eq(run_chain(0), 1);
	ck_assert_uint_eq(status_at(0x6000), 1);

	/* past the end of the disk, and a sector number that overflows */
	set_desc(1, 0x5000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
	blk_header(0x4000, 0, DISK / 512);
	ck_assert_uint_eq(run_chain(0), 1);
	ck_assert_uint_eq(status_at(0x6000), 1);
	blk_header(0x4000, 0, UINT64_MAX / 256);
	ck_assert_uint_eq(run_chain(0), 1);
	ck_assert_uint_eq(status_at(0x6000), 1);
	/* the last sector is fine */
	blk_header(0x4000, 0, DISK / 512 - 1);
	ck_assert_uint_eq(run_chain(0), 513);
	ck_assert_uint_eq(status_at(0x6000), 0);

	/* write sector 5 from a header+data buffer split oddly: the header
	 * shares its descriptor with the first data bytes */
	blk_header(0x7000, 1, 5);
	memset(ram + 0x7010, 0xab, 512);
	set_desc(4, 0x7000, 16 + 7, VIRTQ_DESC_F_NEXT, 5);
	set_desc(5, 0x7017, 505, VIRTQ_DESC_F_NEXT, 3);
	ck_assert_uint_eq(run_chain(4), 1);
	ck_assert_uint_eq(status_at(0x6000), 0);
	for (unsigned i = 0; i < 512; i++)
		ck_assert_uint_eq(disk[5 * 512 + i], 0xab);

	/* a header shorter than 16 bytes */
	set_desc(6, 0x7000, 8, VIRTQ_DESC_F_NEXT, 3);
	ck_assert_uint_eq(run_chain(6), 1);
	ck_assert_uint_eq(status_at(0x6000), 1);

	/* flush, get-id, unknown */
	blk_header(0x4000, 4, 0);
	set_desc(0, 0x4000, 16, VIRTQ_DESC_F_NEXT, 3);
	ck_assert_uint_eq(run_chain(0), 1);
	ck_assert_uint_eq(status_at(0x6000), 0);
	ck_assert_uint_eq(fdisk.flushes, 1);
	blk_header(0x4000, 8, 0);
	set_desc(0, 0x4000, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, 0x5000, 20, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
	ck_assert_uint_eq(run_chain(0), 21);
	ck_assert_str_eq((char *)ram + 0x5000, "ovfdeploy-disk0");
	blk_header(0x4000, 99, 0);
	set_desc(0, 0x4000, 16, VIRTQ_DESC_F_NEXT, 3);
	ck_assert_uint_eq(run_chain(0), 1);
	ck_assert_uint_eq(status_at(0x6000), 2);

	/* no writable byte at all: nothing can be reported */
	set_desc(0, 0x4000, 16, 0, 0);
	ck_assert_uint_eq(run_chain(0), 0);
	virtio_blk_free(blk);

	/* a read-only disk refuses writes */
	blk = virtio_blk_new(vm, &mem_be, true, &e);
	ck_assert_ptr_nonnull(blk);
	blk_header(0x7000, 1, 6);
	set_desc(4, 0x7000, 16 + 512, VIRTQ_DESC_F_NEXT, 3);
	uint8_t before = disk[6 * 512];
	ck_assert_uint_eq(run_chain(4), 1);
	ck_assert_uint_eq(status_at(0x6000), 1);
	ck_assert_uint_eq(disk[6 * 512], before);
	virtio_blk_free(blk);
}
END_TEST

/* ---- through PCI: legacy and modern ---- */

static void out(uint16_t port, unsigned size, uint32_t v) { fake_out(vm, port, size, v, NULL); }
static uint32_t in(uint16_t port, unsigned size) { return fake_in(vm, port, size, NULL); }
static void mmio_w(uint64_t a, unsigned size, uint64_t v)
{
	bool claimed;
	fake_mmio_w(vm, a, size, v, &claimed);
	ck_assert(claimed);
}
static uint64_t mmio_r(uint64_t a, unsigned size)
{
	bool claimed;
	uint64_t v = fake_mmio_r(vm, a, size, &claimed);
	ck_assert(claimed);
	return v;
}

/* a read of sector 2 laid out in the legacy ring at 0x10000 (size 128) */
static void legacy_read_request(uint64_t desc, uint64_t avail)
{
	uint8_t *d = ram + desc;
	uint64_t a[3] = { 0x4000, 0x5000, 0x6000 };
	uint32_t l[3] = { 16, 512, 1 };
	uint16_t f[3] = { VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE };
	for (unsigned i = 0; i < 3; i++)
		fake_desc(d, i, a[i], l[i], f[i], (uint16_t)(i + 1));
	blk_header(0x4000, 0, 2);
	uint16_t head = 0, idx = 1;
	memcpy(ram + avail + 4, &head, 2);
	memcpy(ram + avail + 2, &idx, 2);
}

START_TEST(test_pci_transports)
{
	od_err e;
	blk = virtio_blk_new(vm, &mem_be, false, &e);
	ck_assert_ptr_nonnull(blk);
	struct virtio_dev *v = virtio_blk_dev(blk);
	unsigned bdf = v->pci.slot << 3;
	ck_assert_uint_eq(pci_cfg_read(vm->pci, bdf, 0, 4), 0x10011af4);
	ck_assert_uint_eq(pci_cfg_read(vm->pci, bdf, 0x2e, 2), 2);
	pci_cfg_write(vm->pci, bdf, 0x10, 4, 0xc000);
	pci_cfg_write(vm->pci, bdf, 0x20, 4, 0xfe000000);
	pci_cfg_write(vm->pci, bdf, 0x24, 4, 0);
	pci_cfg_write(vm->pci, bdf, 0x04, 2, 0x0007);
	pci_cfg_write(vm->pci, 0x08, 0x60 + (v->pci.slot & 3), 1, 11); /* route PIRQ to IRQ 11 */

	/* legacy: features, capacity in the config, a queue by PFN */
	ck_assert_uint_eq(in(0xc000, 4) & (1u << 9), 1u << 9); /* FLUSH offered */
	ck_assert_uint_eq(in(0xc014, 4), DISK / 512);          /* capacity, low half */
	ck_assert_uint_eq(in(0xc00c, 2), 128);
	memset(ram, 0, RAM);
	out(0xc012, 1, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
	out(0xc00e, 2, 0);
	out(0xc008, 4, 0x10000 >> 12);
	legacy_read_request(0x10000, 0x10000 + 16 * 128);
	out(0xc012, 1, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
	out(0xc010, 2, 0);
	ck_assert(memcmp(ram + 0x5000, disk + 2 * 512, 512) == 0);
	uint64_t used = (0x10000 + 16 * 128 + 6 + 2 * 128 + 4095) & ~4095ull;
	ck_assert_uint_eq(ram[used + 2], 1);
	ck_assert_int_eq(vm->irq_level[11], 1);
	ck_assert_uint_eq(in(0xc013, 1), 1); /* ISR: read acknowledges */
	ck_assert_int_eq(vm->irq_level[11], 0);
	ck_assert_uint_eq(in(0xc013, 1), 0);
	/* notifying a queue that does not exist does nothing */
	out(0xc010, 2, 3);
	/* a PFN outside RAM: the device needs a reset */
	out(0xc008, 4, 0xfffff);
	ck_assert_uint_eq(in(0xc012, 1) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	out(0xc012, 1, 0); /* reset */
	ck_assert_uint_eq(in(0xc012, 1), 0);

	/* modern: through the common config in BAR 4 */
	const uint64_t bar = 0xfe000000;
	mmio_w(bar + 0x00, 4, 1);
	ck_assert_uint_eq(mmio_r(bar + 0x04, 4), 1); /* VERSION_1 is bit 32 */
	mmio_w(bar + 0x08, 4, 1);
	mmio_w(bar + 0x0c, 4, 1);
	mmio_w(bar + 0x14, 1, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	ck_assert_uint_eq(mmio_r(bar + 0x12, 2), 1);
	mmio_w(bar + 0x16, 2, 0);
	ck_assert_uint_eq(mmio_r(bar + 0x18, 2), 128);
	mmio_w(bar + 0x18, 2, 100); /* not a power of two: ignored */
	ck_assert_uint_eq(mmio_r(bar + 0x18, 2), 128);
	mmio_w(bar + 0x18, 2, 16);
	memset(ram, 0, 0x40000);
	mmio_w(bar + 0x20, 8, 0x20000);
	mmio_w(bar + 0x28, 4, 0x21000); /* 32-bit halves work too */
	mmio_w(bar + 0x2c, 4, 0);
	mmio_w(bar + 0x30, 8, 0x22000);
	legacy_read_request(0x20000, 0x21000);
	mmio_w(bar + 0x1c, 2, 1);
	ck_assert_uint_eq(mmio_r(bar + 0x1c, 2), 1);
	ck_assert_uint_eq(mmio_r(bar + 0x2000, 4), DISK / 512); /* device config */
	mmio_w(bar + 0x3000, 2, 0);                             /* notify queue 0 */
	ck_assert(memcmp(ram + 0x5000, disk + 2 * 512, 512) == 0);
	ck_assert_uint_eq(ram[0x22002], 1);
	ck_assert_uint_eq(mmio_r(bar + 0x1000, 1), 1);
	/* a selected queue that does not exist reads size 0 */
	mmio_w(bar + 0x16, 2, 7);
	ck_assert_uint_eq(mmio_r(bar + 0x18, 2), 0);
	mmio_w(bar + 0x1c, 2, 1); /* and cannot be enabled */
	virtio_blk_free(blk);
}
END_TEST

START_TEST(test_rng)
{
	od_err e;
	struct virtq_chain c;
	struct virtio_rng *r = virtio_rng_new(vm, &e);
	ck_assert_ptr_nonnull(r);
	struct virtio_dev *v = virtio_rng_dev(r);
	ck_assert_uint_eq(pci_cfg_read(vm->pci, v->pci.slot << 3, 0, 4), 0x10051af4);
	avail_idx = 0;
	queue_init(8);
	memset(ram + 0x8000, 0, 0x10000);
	set_desc(0, 0x8000, 100, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc(1, 0x9000, 16, VIRTQ_DESC_F_NEXT, 2); /* readable: skipped */
	set_desc(2, 0xa000, 200, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	ck_assert_int_eq(virtq_pop(vm, &q, &c, &e), 1);
	ck_assert_uint_eq(virtio_rng_request(&c), 300);
	unsigned nonzero = 0;
	for (unsigned i = 0; i < 200; i++)
		nonzero += ram[0xa000 + i] != 0;
	ck_assert_uint_gt(nonzero, 150);
	for (unsigned i = 0; i < 16; i++)
		ck_assert_uint_eq(ram[0x9000 + i], 0);
	/* a huge buffer gets at most 64 KiB per request */
	set_desc(3, 0x10000, 0x80000, VIRTQ_DESC_F_WRITE, 0);
	offer(3);
	ck_assert_int_eq(virtq_pop(vm, &q, &c, &e), 1);
	ck_assert_uint_eq(virtio_rng_request(&c), 64 << 10);
	/* nothing writable: nothing done */
	set_desc(4, 0x9000, 16, 0, 0);
	offer(4);
	ck_assert_int_eq(virtq_pop(vm, &q, &c, &e), 1);
	ck_assert_uint_eq(virtio_rng_request(&c), 0);
	virtio_rng_free(r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("runner virtio");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_valid_chain_and_used_ring);
	tcase_add_test(t, test_hostile_chains);
	tcase_add_test(t, test_ring_setup_checks);
	tcase_add_test(t, test_blk_requests);
	tcase_add_test(t, test_pci_transports);
	tcase_add_test(t, test_rng);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return od_check_run(suite());
}
