/* sandbox_io.c - issue #7 (c): a guest cannot make the runner read or
 * write outside guest RAM.  A fake VM laid out as the real one when RAM
 * does not fit below the PCI hole (low RAM at 0, a hole, high RAM at
 * 4 GiB) is driven as a hostile guest would:
 *   - the translation refuses the hole, ranges straddling a slot's end,
 *     addresses wrapping around 2^64;
 *   - virtqueues and descriptors in the hole, across slots, wrapping, with
 *     lengths that overflow;
 *   - fw_cfg DMA with its control block or its buffer in the hole, past
 *     high RAM, wrapping, with huge lengths;
 *   - every I/O port and every byte of every MMIO BAR, read and written
 *     with sizes 1, 2, 3, 4 and 8 (KVM hands 1/2/4 for ports and up to 8 for
 *     MMIO; 3 is what no device expects), with data buffers of exactly the
 *     access size so that ASan sees a device touching one byte more.
 * A guard region around guest RAM must stay untouched throughout. */
#include "config.h"
#include "runner/vmm.h"
#include "fakeio.h"
#include "runner/virtio.h"
#include "runner/acpi.h"

#include <check.h>
#include "../check_run.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define LOW (1u << 20)
#define HIGH (1u << 20)
#define HIGH_GPA (1ull << 32)
#define GUARD 4096

static struct vm *vm;
static uint8_t *guard_mem; /* GUARD | low RAM | GUARD | high RAM | GUARD */

static void check_guards(void)
{
	uint8_t *g[3] = { guard_mem, guard_mem + GUARD + LOW, guard_mem + 2 * GUARD + LOW + HIGH };
	for (unsigned i = 0; i < 3; i++)
		for (unsigned j = 0; j < GUARD; j++)
			ck_assert_msg(g[i][j] == 0xa5, "guard %u byte %u written: 0x%02x", i, j, g[i][j]);
}

static void setup(void)
{
	od_err e;
	vm = vm_new_fake(LOW, &e);
	ck_assert_ptr_nonnull(vm);
	/* our own layout with guards; the fake VM's mapping stays for vm_free */
	guard_mem = mmap(NULL, 3 * GUARD + LOW + HIGH, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(guard_mem != MAP_FAILED);
	memset(guard_mem, 0xa5, 3 * GUARD + LOW + HIGH);
	memset(guard_mem + GUARD, 0, LOW);
	memset(guard_mem + 2 * GUARD + LOW, 0, HIGH);
	vm->ram[0] = (struct vm_ram){ 0, LOW, guard_mem + GUARD };
	vm->ram[1] = (struct vm_ram){ HIGH_GPA, HIGH, guard_mem + 2 * GUARD + LOW };
	vm->nram = 2;
	vm->low_ram = LOW;
	vm->high_ram = HIGH;
}

static void teardown(void)
{
	check_guards();
	munmap(guard_mem, 3 * GUARD + LOW + HIGH);
	vm_free(vm);
}

static uint8_t *low(uint64_t gpa) { return vm->ram[0].hva + gpa; }

START_TEST(test_translation)
{
	ck_assert_ptr_eq(vm_gpa_to_hva(vm, 0, LOW), low(0));
	ck_assert_ptr_eq(vm_gpa_to_hva(vm, HIGH_GPA, HIGH), vm->ram[1].hva);
	ck_assert_ptr_null(vm_gpa_to_hva(vm, LOW, 1));              /* first byte of the hole */
	ck_assert_ptr_null(vm_gpa_to_hva(vm, 0xc0000000, 16));      /* in the hole */
	ck_assert_ptr_null(vm_gpa_to_hva(vm, HIGH_GPA - 1, 1));     /* last byte of the hole */
	ck_assert_ptr_null(vm_gpa_to_hva(vm, LOW - 8, 16));         /* low RAM into the hole */
	ck_assert_ptr_null(vm_gpa_to_hva(vm, HIGH_GPA - 8, 16));    /* hole into high RAM */
	ck_assert_ptr_null(vm_gpa_to_hva(vm, HIGH_GPA + HIGH - 8, 16)); /* past high RAM */
	ck_assert_ptr_null(vm_gpa_to_hva(vm, 0, HIGH_GPA + 1));     /* spans both slots */
	ck_assert_ptr_null(vm_gpa_to_hva(vm, HIGH_GPA + 16, UINT64_MAX - 8)); /* wraps */
	ck_assert_ptr_null(vm_gpa_to_hva(vm, UINT64_MAX, 1));
	ck_assert_ptr_null(vm_gpa_to_hva(vm, UINT64_MAX - 15, 32));
}
END_TEST

/* ---- virtqueues ---- */

static void set_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	fake_desc(low(table), i, addr, len, flags, next);
}

static void offer_one(uint64_t avail, uint16_t head)
{
	uint16_t idx = 1;
	memcpy(low(avail) + 4, &head, 2);
	memcpy(low(avail) + 2, &idx, 2);
}

START_TEST(test_virtq_outside_ram)
{
	od_err e;
	/* the rings themselves in the hole, across the slot end, wrapping */
	uint64_t bad_rings[] = { 0xc0000000, LOW - 16, HIGH_GPA - 16, HIGH_GPA + HIGH - 16, UINT64_MAX - 15 };
	for (unsigned i = 0; i < sizeof bad_rings / sizeof bad_rings[0]; i++) {
		for (unsigned which = 0; which < 3; which++) {
			struct virtq q = { .max_size = 16, .size = 8, .desc_gpa = 0x1000, .avail_gpa = 0x2000,
					   .used_gpa = 0x3000 };
			uint64_t *p = which == 0 ? &q.desc_gpa : which == 1 ? &q.avail_gpa : &q.used_gpa;
			*p = bad_rings[i];
			ck_assert_msg(virtq_enable(vm, &q, &e) == -1, "ring %u at 0x%llx accepted", which,
				      (unsigned long long)*p);
		}
	}
	/* rings in high RAM are fine */
	struct virtq hq = { .max_size = 16, .size = 8, .desc_gpa = HIGH_GPA, .avail_gpa = HIGH_GPA + 0x1000,
			    .used_gpa = HIGH_GPA + 0x2000 };
	ck_assert_int_eq(virtq_enable(vm, &hq, &e), 0);

	/* buffers: in the hole, across slot ends, wrapping, lengths that
	 * overflow 32 bits when added up */
	uint64_t bad[][2] = {
		{ LOW, 1 }, { 0xc0000000, 512 }, { 0xfec00000, 4 }, { HIGH_GPA - 1, 2 }, { LOW - 1, 2 },
		{ HIGH_GPA + HIGH - 1, 2 }, { HIGH_GPA + HIGH, 1 }, { UINT64_MAX, 1 }, { UINT64_MAX - 0xfff, 0x2000 },
		{ 0x10000, 0xffffffff }, { HIGH_GPA, 0xffffffff },
	};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct virtq q = { .max_size = 16, .size = 8, .desc_gpa = 0x1000, .avail_gpa = 0x2000, .used_gpa = 0x3000 };
		memset(low(0x1000), 0, 0x3000);
		ck_assert_int_eq(virtq_enable(vm, &q, &e), 0);
		set_desc(0x1000, 0, 0x4000, 16, VIRTQ_DESC_F_NEXT, 1);
		set_desc(0x1000, 1, bad[i][0], (uint32_t)bad[i][1], VIRTQ_DESC_F_WRITE, 0);
		offer_one(0x2000, 0);
		struct virtq_chain c;
		ck_assert_msg(virtq_pop(vm, &q, &c, &e) == -1, "buffer 0x%llx+0x%llx accepted",
			      (unsigned long long)bad[i][0], (unsigned long long)bad[i][1]);
	}
	/* a chain of eight maximal buffers: each one fits, the total does not
	 * fit in 32 bits; the walk must cope (accept or refuse, not wrap) */
	struct virtq q = { .max_size = 16, .size = 8, .desc_gpa = 0x1000, .avail_gpa = 0x2000, .used_gpa = 0x3000 };
	memset(low(0x1000), 0, 0x3000);
	ck_assert_int_eq(virtq_enable(vm, &q, &e), 0);
	for (unsigned i = 0; i < 8; i++)
		set_desc(0x1000, i, HIGH_GPA, HIGH, (uint16_t)(VIRTQ_DESC_F_WRITE | (i < 7 ? VIRTQ_DESC_F_NEXT : 0)),
			 (uint16_t)(i + 1));
	offer_one(0x2000, 0);
	struct virtq_chain c;
	if (virtq_pop(vm, &q, &c, &e) == 1) {
		/* writes beyond the chain's real length are refused */
		uint8_t x = 0x11;
		ck_assert(!virtq_chain_write(&c, (uint64_t)8 * HIGH, &x, 1));
		ck_assert(!virtq_chain_write(&c, UINT64_MAX, &x, 1));
		ck_assert(virtq_chain_write(&c, (uint64_t)8 * HIGH - 1, &x, 1));
		ck_assert_uint_eq(vm->ram[1].hva[HIGH - 1], 0x11);
	}
}
END_TEST

/* ---- fw_cfg DMA ---- */

static void pio(uint16_t port, unsigned size, uint32_t v)
{
	uint8_t d[4] = { v, v >> 8, v >> 16, v >> 24 };
	vm_io_dispatch(vm, VM_PIO, port, d, size, true);
}

static void put_be32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static uint32_t get_be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static uint32_t be_as_le(uint32_t v)
{
	uint8_t b[4];
	put_be32(b, v);
	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static void dma(uint64_t cb)
{
	pio(0x514, 4, be_as_le((uint32_t)(cb >> 32)));
	pio(0x518, 4, be_as_le((uint32_t)cb));
}

/* a control block at `cb` (in RAM); returns its control word after DMA */
static uint32_t dma_at(uint64_t cb, uint32_t control, uint32_t len, uint64_t addr)
{
	uint8_t *p = vm_gpa_to_hva(vm, cb, 16);
	ck_assert_ptr_nonnull(p);
	put_be32(p, control);
	put_be32(p + 4, len);
	put_be32(p + 8, (uint32_t)(addr >> 32));
	put_be32(p + 12, (uint32_t)addr);
	dma(cb);
	return get_be32(p);
}

START_TEST(test_fw_cfg_dma_outside_ram)
{
	od_err e;
	struct fw_cfg *f = fw_cfg_new(vm, &e);
	ck_assert_ptr_nonnull(f);
	static uint8_t big[8192];
	memset(big, 0x77, sizeof big);
	ck_assert_int_eq(fw_cfg_add_file(f, "etc/big", big, sizeof big, &e), 0);
	const uint32_t sel = (uint32_t)FW_CFG_FILE_FIRST << 16 | 0x08, rd = 0x02, skip = 0x04, wr = 0x10;
	/* a read into high RAM works: the reference */
	ck_assert_uint_eq(dma_at(0x1000, sel | rd, 16, HIGH_GPA + 0x100), 0);
	ck_assert_uint_eq(vm->ram[1].hva[0x100], 0x77);
	/* destinations: the hole, straddling each slot's end, past high
	 * RAM, wrapping, a length as large as the field allows */
	uint64_t dst[][2] = {
		{ LOW, 16 }, { LOW - 8, 16 }, { 0xc0000000, 16 }, { HIGH_GPA - 8, 16 }, { HIGH_GPA + HIGH - 8, 16 },
		{ HIGH_GPA + HIGH, 1 }, { UINT64_MAX - 7, 16 }, { HIGH_GPA, 0xffffffff }, { 0, 0xffffffff },
	};
	for (unsigned i = 0; i < sizeof dst / sizeof dst[0]; i++) {
		uint32_t st = dma_at(0x1000, sel | rd, (uint32_t)dst[i][1], dst[i][0]);
		ck_assert_msg(st == 1, "read to 0x%llx+0x%llx: control 0x%x", (unsigned long long)dst[i][0],
			      (unsigned long long)dst[i][1], st);
	}
	/* skip past the end, then read: zeros, in RAM only */
	ck_assert_uint_eq(dma_at(0x1000, sel | skip, 0xffffffff, 0), 0);
	ck_assert_uint_eq(dma_at(0x1000, rd, 8, 0x2000), 0);
	/* writes are refused whatever the address */
	ck_assert_uint_eq(dma_at(0x1000, sel | wr, 8, 0x2000), 1);
	ck_assert_uint_eq(dma_at(HIGH_GPA + 0x800, sel | wr, 8, 0xc0000000), 1);
	/* a control block in high RAM works; in the hole, straddling, or
	 * wrapping it is ignored (nothing read or written) */
	ck_assert_uint_eq(dma_at(HIGH_GPA + 0x800, sel | rd, 4, 0x3000), 0);
	uint64_t cbs[] = { LOW, LOW - 8, 0xc0000000, HIGH_GPA - 8, HIGH_GPA + HIGH - 8, HIGH_GPA + HIGH,
			   UINT64_MAX - 7, UINT64_MAX };
	for (unsigned i = 0; i < sizeof cbs / sizeof cbs[0]; i++)
		dma(cbs[i]);
	fw_cfg_free(f);
}
END_TEST

/* ---- every port and every BAR byte, odd sizes ---- */

static struct virtio_blk *blk;
static uint8_t disk[64 << 10];
static int mem_pread(void *ctx, void *buf, size_t len, uint64_t off, od_err *e)
{
	(void)ctx;
	if (!od_range_ok(off, len, sizeof disk))
		return od_err_set(e, OD_E_INVALID, "past the end");
	memcpy(buf, disk + off, len);
	return 0;
}
static int mem_pwrite(void *ctx, const void *buf, size_t len, uint64_t off, od_err *e)
{
	(void)ctx;
	if (!od_range_ok(off, len, sizeof disk))
		return od_err_set(e, OD_E_INVALID, "past the end");
	memcpy(disk + off, buf, len);
	return 0;
}
static int mem_flush(void *ctx, od_err *e) { (void)ctx; (void)e; return 0; }
static const struct blk_backend mem_be = { NULL, sizeof disk, mem_pread, mem_pwrite, mem_flush };

/* One access with a buffer of exactly `size` bytes on the heap: ASan
 * reports a device that reads or writes one byte more. */
static void access1(int space, uint64_t addr, unsigned size, bool is_write, uint8_t fill)
{
	uint8_t *d = malloc(size);
	ck_assert_ptr_nonnull(d);
	memset(d, fill, size);
	vm_io_dispatch(vm, space, addr, d, size, is_write);
	free(d);
}

START_TEST(test_sweep_ports_and_bars)
{
	od_err e;
	struct serial *ser = serial_new(vm, 0x3f8, 4, -1, &e);
	struct cmos *cm = cmos_new(vm, LOW, HIGH, 1, &e);
	struct fw_cfg *f = fw_cfg_new(vm, &e);
	struct misc *m = misc_new(vm, -1, &e);
	struct acpi_pm *pm = acpi_pm_new(vm, &e);
	vm->pci = pci_new(vm, &e);
	ck_assert(ser && cm && f && m && pm && vm->pci);
	blk = virtio_blk_new(vm, &mem_be, false, &e);
	ck_assert_ptr_nonnull(blk);
	struct virtio_rng *rng = virtio_rng_new(vm, &e);
	ck_assert_ptr_nonnull(rng);

	/* map every BAR of every device, as firmware would */
	uint32_t io_next = 0xc000, mem_next = 0xfe000000;
	for (unsigned slot = 0; slot < 32; slot++) {
		unsigned bdf = slot << 3;
		if ((pci_cfg_read(vm->pci, bdf, 0, 4) & 0xffff) == 0xffff)
			continue;
		for (unsigned b = 0; b < 6; b++) {
			unsigned off = 0x10 + 4 * b;
			uint32_t orig = pci_cfg_read(vm->pci, bdf, off, 4);
			pci_cfg_write(vm->pci, bdf, off, 4, 0xffffffff);
			uint32_t mask = pci_cfg_read(vm->pci, bdf, off, 4);
			pci_cfg_write(vm->pci, bdf, off, 4, orig);
			if (mask == 0 || mask == 0xffffffff)
				continue;
			if (mask & 1) {
				uint32_t size = ~(mask & ~3u) + 1;
				io_next = (io_next + size - 1) & ~(size - 1);
				pci_cfg_write(vm->pci, bdf, off, 4, io_next);
				io_next += size;
			} else {
				uint32_t size = ~(mask & ~15u) + 1;
				mem_next = (mem_next + size - 1) & ~(size - 1);
				pci_cfg_write(vm->pci, bdf, off, 4, mem_next);
				mem_next += size;
				if ((mask & 6) == 4) /* 64-bit: the high half is zero */
					pci_cfg_write(vm->pci, bdf, off + 4, 4, 0), b++;
			}
		}
		pci_cfg_write(vm->pci, bdf, 4, 2, 0x0007); /* I/O, memory, bus master */
	}
	ck_assert_uint_gt(vm->nio[VM_MMIO], 0);

	static const unsigned sizes[] = { 1, 2, 3, 4, 8 };
	/* every port: reads, then writes of all ones and of zeros */
	for (uint32_t port = 0; port < 0x10000; port++)
		for (unsigned s = 0; s < 5; s++) {
			access1(VM_PIO, port, sizes[s], false, 0);
			access1(VM_PIO, port, sizes[s], true, 0xff);
			access1(VM_PIO, port, sizes[s], true, 0x00);
		}
	/* every byte of every MMIO range (a snapshot: writes above may have
	 * moved things), plus the bytes just around it */
	struct vm_io_range r[VM_MAX_IO_RANGES];
	unsigned n = vm->nio[VM_MMIO];
	memcpy(r, vm->io[VM_MMIO], n * sizeof r[0]);
	for (unsigned i = 0; i < n; i++) {
		uint64_t end = r[i].base + r[i].len;
		for (uint64_t a = r[i].base - 8; a < end + 8; a++)
			for (unsigned s = 0; s < 5; s++) {
				access1(VM_MMIO, a, sizes[s], false, 0);
				access1(VM_MMIO, a, sizes[s], true, 0xff);
				access1(VM_MMIO, a, sizes[s], true, 0x00);
			}
	}
	/* unassigned MMIO: the hole, RAM addresses, the top of the space */
	uint64_t un[] = { 0, LOW, 0xc0000000, 0xfec00000, 0xfee00000, HIGH_GPA, UINT64_MAX - 7, UINT64_MAX };
	for (unsigned i = 0; i < sizeof un / sizeof un[0]; i++)
		for (unsigned s = 0; s < 5; s++) {
			uint8_t d[8];
			if (!vm_io_dispatch(vm, VM_MMIO, un[i], d, sizes[s], false))
				for (unsigned j = 0; j < sizes[s]; j++)
					ck_assert_uint_eq(d[j], 0xff);
			access1(VM_MMIO, un[i], sizes[s], true, 0x5a);
		}

	pci_free(vm->pci);
	vm->pci = NULL;
	virtio_rng_free(rng);
	virtio_blk_free(blk);
	acpi_pm_free(pm);
	misc_free(m);
	fw_cfg_free(f);
	cmos_free(cm);
	serial_free(ser);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("runner sandbox: guest memory and I/O");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 600);
	tcase_add_test(t, test_translation);
	tcase_add_test(t, test_virtq_outside_ram);
	tcase_add_test(t, test_fw_cfg_dma_outside_ram);
	tcase_add_test(t, test_sweep_ports_and_bars);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return od_check_run(suite());
}
