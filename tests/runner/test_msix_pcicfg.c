/* test_msix_pcicfg.c - MSI-X and the PCI configuration access capability
 * of the virtio-pci transport, without KVM: a virtio-blk device on a fake
 * VM's bus, driven the way a guest would through config space, the MSI-X
 * BAR and both virtio interfaces.  A fake VM records the MSIs it is asked
 * to send (vm->msi_*), so delivery, masking and pending bits are visible.
 * Every value the tests write is one a hostile guest could write. */
#include "config.h"
#include "runner/virtio.h"
#include "fakeio.h"

#include <check.h>
#include "../check_run.h"
#include <stdlib.h>
#include <string.h>

#define RAM (1u << 20)
#define DISK (64u << 10)
#define IO 0xc000
#define MSIX 0xfd000000ull
#define BAR4 0xfe000000ull

static struct vm *vm;
static uint8_t *ram;
static uint8_t disk[DISK];
static struct fake_disk fdisk;
static struct blk_backend mem_be;
static struct virtio_blk *blk;
static struct virtio_dev *v;
static unsigned bdf;

static void program_bars(void);
static void setup(void)
{
	od_err e;
	vm = fake_vm_new(RAM, &ram, &e);
	ck_assert_msg(vm != NULL, "%s", e.msg);
	fake_disk_init(&fdisk, disk, DISK, 13, 512);
	mem_be = fake_disk_backend(&fdisk);
	mem_be.pwrite = NULL; /* read-only */
	mem_be.flush = NULL;
	blk = virtio_blk_new(vm, &mem_be, true, &e);
	ck_assert_ptr_nonnull(blk);
	v = virtio_blk_dev(blk);
	bdf = v->pci.slot << 3;
	program_bars();
}

/* what firmware does: place the BARs, enable decoding, route INTA */
static void program_bars(void)
{
	pci_cfg_write(vm->pci, bdf, 0x10, 4, IO);
	pci_cfg_write(vm->pci, bdf, 0x14, 4, (uint32_t)MSIX);
	pci_cfg_write(vm->pci, bdf, 0x20, 4, (uint32_t)BAR4);
	pci_cfg_write(vm->pci, bdf, 0x24, 4, 0);
	pci_cfg_write(vm->pci, bdf, 0x04, 2, 0x0007);
	pci_cfg_write(vm->pci, 0x08, 0x60 + (v->pci.slot & 3), 1, 11);
}

static void teardown(void)
{
	virtio_blk_free(blk);
	fake_vm_free(vm);
}

static uint32_t cfg_r(unsigned off, unsigned size) { return pci_cfg_read(vm->pci, bdf, off, size); }
static void cfg_w(unsigned off, unsigned size, uint32_t val) { pci_cfg_write(vm->pci, bdf, off, size, val); }

/* Every access these tests make must reach a device. */
static bool claimed;
static uint32_t in(uint16_t port, unsigned size)
{
	uint32_t val = fake_in(vm, port, size, &claimed);
	ck_assert(claimed);
	return val;
}
static void out(uint16_t port, unsigned size, uint32_t val)
{
	fake_out(vm, port, size, val, &claimed);
	ck_assert(claimed);
}
static uint64_t mmio_r(uint64_t a, unsigned size)
{
	uint64_t val = fake_mmio_r(vm, a, size, &claimed);
	ck_assert(claimed);
	return val;
}
static void mmio_w(uint64_t a, unsigned size, uint64_t val)
{
	fake_mmio_w(vm, a, size, val, &claimed);
	ck_assert(claimed);
}

/* Walk the capability list as a driver does; the offset of the first
 * capability with this id (and, for vendor capabilities, cfg_type), 0 when
 * absent.  The walk itself is checked: pointers dword aligned, above the
 * header, and the list ends. */
static unsigned find_cap(uint8_t id, int cfg_type)
{
	ck_assert_uint_eq(cfg_r(0x06, 2) & 0x10, 0x10);
	unsigned p = cfg_r(0x34, 1), found = 0;
	for (unsigned n = 0; p; n++) {
		ck_assert_uint_lt(n, 48);
		ck_assert_uint_ge(p, 0x40);
		ck_assert_uint_eq(p & 3, 0);
		if (!found && cfg_r(p, 1) == id && (cfg_type < 0 || cfg_r(p + 3, 1) == (unsigned)cfg_type))
			found = p;
		p = cfg_r(p + 1, 1);
	}
	return found;
}

START_TEST(test_capability_list)
{
	/* the four structures of the modern interface, in BAR 4 */
	static const struct { int type; uint32_t off; } vendor[] = { { 1, 0 }, { 2, 0x3000 }, { 3, 0x1000 }, { 4, 0x2000 } };
	for (unsigned i = 0; i < 4; i++) {
		unsigned c = find_cap(0x09, vendor[i].type);
		ck_assert_uint_ne(c, 0);
		ck_assert_uint_eq(cfg_r(c + 4, 1), 4);
		ck_assert_uint_eq(cfg_r(c + 8, 4), vendor[i].off);
		ck_assert_uint_ne(cfg_r(c + 12, 4), 0);
	}
	ck_assert_uint_eq(cfg_r(find_cap(0x09, 2) + 2, 1), 20); /* notify cap carries the multiplier */
	/* pci_cfg: 20 bytes, the window reads as zero before any use */
	unsigned pc = find_cap(0x09, 5);
	ck_assert_uint_ne(pc, 0);
	ck_assert_uint_eq(cfg_r(pc + 2, 1), 20);
	ck_assert_uint_eq(cfg_r(pc + 16, 4), 0);
	/* MSI-X: 2 vectors (one queue + config), table and PBA in BAR 1,
	 * disabled and unmasked at reset */
	unsigned mx = find_cap(0x11, -1);
	ck_assert_uint_ne(mx, 0);
	ck_assert_uint_eq(cfg_r(mx + 2, 2), 1);
	ck_assert_uint_eq(cfg_r(mx + 4, 4), 0 | VIRTIO_MSIX_BAR);
	ck_assert_uint_eq(cfg_r(mx + 8, 4), VIRTIO_MSIX_PBA | VIRTIO_MSIX_BAR);
	/* the table size is read-only */
	cfg_w(mx + 2, 2, 0x07ff);
	ck_assert_uint_eq(cfg_r(mx + 2, 2), 1);
	/* BAR 1 is 4 KiB of 32-bit memory */
	cfg_w(0x14, 4, 0xffffffff);
	ck_assert_uint_eq(cfg_r(0x14, 4), 0xfffff000);
	cfg_w(0x14, 4, (uint32_t)MSIX);
}
END_TEST

START_TEST(test_msix_table)
{
	/* every entry starts masked, address and data 0 */
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_uint_eq(mmio_r(MSIX + 16 * i, 8), 0);
		ck_assert_uint_eq(mmio_r(MSIX + 16 * i + 8, 4), 0);
		ck_assert_uint_eq(mmio_r(MSIX + 16 * i + 12, 4), 1);
	}
	/* dword and qword writes */
	mmio_w(MSIX + 0, 4, 0xfee01000);
	mmio_w(MSIX + 4, 4, 0);
	mmio_w(MSIX + 8, 4, 0x4031);
	mmio_w(MSIX + 16, 8, 0x00000000fee02000ull);
	mmio_w(MSIX + 24, 8, 0x0000000100004032ull); /* data and control at once: unmasks */
	ck_assert_uint_eq(mmio_r(MSIX + 0, 8), 0xfee01000);
	ck_assert_uint_eq(mmio_r(MSIX + 8, 4), 0x4031);
	ck_assert_uint_eq(mmio_r(MSIX + 16, 4), 0xfee02000);
	ck_assert_uint_eq(mmio_r(MSIX + 28, 4), 1); /* 0x1 written to control: masked */
	/* reads of any size inside the table */
	ck_assert_uint_eq(mmio_r(MSIX + 1, 1), 0x10);
	ck_assert_uint_eq(mmio_r(MSIX + 2, 2), 0xfee0);
	/* byte, word and misaligned writes are dropped */
	mmio_w(MSIX + 0, 1, 0xaa);
	mmio_w(MSIX + 2, 2, 0xbbbb);
	mmio_w(MSIX + 2, 4, 0xcccccccc);
	mmio_w(MSIX + 4, 8, 0xdddddddddddddddd);
	ck_assert_uint_eq(mmio_r(MSIX + 0, 8), 0xfee01000);
	/* only the mask bit of vector control is writable */
	mmio_w(MSIX + 12, 4, 0xfffffffe);
	ck_assert_uint_eq(mmio_r(MSIX + 12, 4), 0);
	mmio_w(MSIX + 12, 4, 0xffffffff);
	ck_assert_uint_eq(mmio_r(MSIX + 12, 4), 1);
	/* past the 2-entry table: reads 0, writes go nowhere */
	mmio_w(MSIX + 32, 4, 0x12345678);
	mmio_w(MSIX + 0x7f0, 8, ~0ull);
	ck_assert_uint_eq(mmio_r(MSIX + 32, 4), 0);
	ck_assert_uint_eq(mmio_r(MSIX + 28, 8), 1); /* straddles the end */
	ck_assert_uint_eq(mmio_r(MSIX + 0xffc, 4), 0);
	/* the PBA is read-only */
	mmio_w(MSIX + VIRTIO_MSIX_PBA, 8, ~0ull);
	ck_assert_uint_eq(mmio_r(MSIX + VIRTIO_MSIX_PBA, 8), 0);
	ck_assert_uint_eq(mmio_r(MSIX + VIRTIO_MSIX_PBA + 7, 4), 0);
	ck_assert_uint_eq(vm->msi_count, 0);
}
END_TEST

/* entry `vec`: address/data, masked or not */
static void set_entry(unsigned vec, uint32_t addr, uint32_t data, bool masked)
{
	mmio_w(MSIX + 16 * vec, 8, addr);
	mmio_w(MSIX + 16 * vec + 8, 4, data);
	mmio_w(MSIX + 16 * vec + 12, 4, masked);
}

START_TEST(test_msix_delivery)
{
	unsigned mx = find_cap(0x11, -1);
	set_entry(0, 0xfee00000, 0x41, false);
	set_entry(1, 0xfee01000, 0x42, false);
	mmio_w(BAR4 + 0x10, 2, 1);              /* msix_config = 1 */
	mmio_w(BAR4 + 0x16, 2, 0);              /* queue_select = 0 */
	mmio_w(BAR4 + 0x1a, 2, 0);              /* queue_msix_vector = 0 */
	ck_assert_uint_eq(mmio_r(BAR4 + 0x10, 2), 1);
	ck_assert_uint_eq(mmio_r(BAR4 + 0x1a, 2), 0);

	/* MSI-X off: the vectors are chosen but INTx is used */
	virtio_signal_queue(v, 0);
	ck_assert_int_eq(vm->irq_level[11], 1);
	ck_assert_uint_eq(vm->msi_count, 0);
	/* enabling MSI-X lowers INTx (the ISR stays set until read) */
	cfg_w(mx + 2, 2, 0x8000);
	ck_assert_int_eq(vm->irq_level[11], 0);
	ck_assert_uint_eq(mmio_r(BAR4 + 0x1000, 1), 1);

	virtio_signal_queue(v, 0);
	ck_assert_uint_eq(vm->msi_count, 1);
	ck_assert_uint_eq(vm->msi_addr, 0xfee00000);
	ck_assert_uint_eq(vm->msi_data, 0x41);
	ck_assert_int_eq(vm->irq_level[11], 0);
	/* a queue that does not exist: nothing */
	virtio_signal_queue(v, 3);
	virtio_signal_queue(v, 0xffff);
	ck_assert_uint_eq(vm->msi_count, 1);
	/* the config vector, through a device error after DRIVER_OK */
	mmio_w(BAR4 + 0x14, 1, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
	virtio_needs_reset(v);
	ck_assert_uint_eq(vm->msi_count, 2);
	ck_assert_uint_eq(vm->msi_data, 0x42);

	/* entry mask: pending bit, no message; unmask sends it once */
	mmio_w(MSIX + 12, 4, 1);
	virtio_signal_queue(v, 0);
	virtio_signal_queue(v, 0);
	ck_assert_uint_eq(vm->msi_count, 2);
	ck_assert_uint_eq(mmio_r(MSIX + VIRTIO_MSIX_PBA, 8), 1);
	mmio_w(MSIX + 12, 4, 0);
	ck_assert_uint_eq(vm->msi_count, 3);
	ck_assert_uint_eq(vm->msi_data, 0x41);
	ck_assert_uint_eq(mmio_r(MSIX + VIRTIO_MSIX_PBA, 8), 0);
	mmio_w(MSIX + 12, 4, 0); /* unmasking again sends nothing */
	ck_assert_uint_eq(vm->msi_count, 3);

	/* function mask: the same for every vector */
	cfg_w(mx + 2, 2, 0xc000);
	virtio_signal_queue(v, 0);
	virtio_needs_reset(v);
	ck_assert_uint_eq(vm->msi_count, 3);
	ck_assert_uint_eq(mmio_r(MSIX + VIRTIO_MSIX_PBA, 1), 3);
	/* while the function is masked, unmasking an entry sends nothing */
	mmio_w(MSIX + 12, 4, 0);
	ck_assert_uint_eq(vm->msi_count, 3);
	cfg_w(mx + 3, 1, 0x80);
	ck_assert_uint_eq(vm->msi_count, 5);
	ck_assert_uint_eq(mmio_r(MSIX + VIRTIO_MSIX_PBA, 1), 0);

	/* no vector: no interrupt of any kind */
	mmio_w(BAR4 + 0x1a, 2, VIRTIO_MSI_NO_VECTOR);
	virtio_signal_queue(v, 0);
	virtio_signal_used(v);
	ck_assert_uint_eq(vm->msi_count, 5);
	ck_assert_int_eq(vm->irq_level[11], 0);

	/* MSI-X off again: back to INTx */
	cfg_w(mx + 2, 2, 0);
	ck_assert_uint_eq(mmio_r(BAR4 + 0x1000, 1), 3); /* acknowledge what MSI-X left */
	virtio_signal_queue(v, 0);
	ck_assert_int_eq(vm->irq_level[11], 1);
	ck_assert_uint_eq(vm->msi_count, 5);
	/* a virtio reset forgets the vectors, not the table */
	mmio_w(BAR4 + 0x14, 1, 0);
	ck_assert_uint_eq(mmio_r(BAR4 + 0x10, 2), VIRTIO_MSI_NO_VECTOR);
	ck_assert_uint_eq(mmio_r(BAR4 + 0x1a, 2), VIRTIO_MSI_NO_VECTOR);
	ck_assert_uint_eq(mmio_r(MSIX + 0, 4), 0xfee00000);
}
END_TEST

START_TEST(test_vector_checks)
{
	unsigned mx = find_cap(0x11, -1);
	static const uint32_t bad[] = { 2, 3, 0x7ff, 0x8000, 0xfffe };
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		mmio_w(BAR4 + 0x10, 2, bad[i]);
		ck_assert_uint_eq(mmio_r(BAR4 + 0x10, 2), VIRTIO_MSI_NO_VECTOR);
		mmio_w(BAR4 + 0x1a, 2, bad[i]);
		ck_assert_uint_eq(mmio_r(BAR4 + 0x1a, 2), VIRTIO_MSI_NO_VECTOR);
	}
	mmio_w(BAR4 + 0x10, 2, 1);
	ck_assert_uint_eq(mmio_r(BAR4 + 0x10, 2), 1);
	mmio_w(BAR4 + 0x10, 2, VIRTIO_MSI_NO_VECTOR);
	ck_assert_uint_eq(mmio_r(BAR4 + 0x10, 2), VIRTIO_MSI_NO_VECTOR);
	/* a 4-byte write over num_queues sets the config vector only */
	mmio_w(BAR4 + 0x10, 4, 0x00050001);
	ck_assert_uint_eq(mmio_r(BAR4 + 0x10, 4), 0x00010001);
	/* a queue that does not exist has no vector to set */
	mmio_w(BAR4 + 0x16, 2, 9);
	mmio_w(BAR4 + 0x1a, 2, 0);
	ck_assert_uint_eq(mmio_r(BAR4 + 0x1a, 2), 0);
	mmio_w(BAR4 + 0x16, 2, 0);
	ck_assert_uint_eq(mmio_r(BAR4 + 0x1a, 2), VIRTIO_MSI_NO_VECTOR);

	/* legacy: with MSI-X off, 0x14 is the device config (capacity) */
	ck_assert_uint_eq(in(IO + 0x14, 4), DISK / 512);
	cfg_w(mx + 2, 2, 0x8000);
	/* on: the two vector registers, then the config 4 bytes later */
	ck_assert_uint_eq(in(IO + 0x14, 2), 1);
	ck_assert_uint_eq(in(IO + 0x16, 2), VIRTIO_MSI_NO_VECTOR);
	ck_assert_uint_eq(in(IO + 0x18, 4), DISK / 512);
	ck_assert_uint_eq(in(IO + 0x1c, 4), 0);
	out(IO + 0x14, 2, 0);
	ck_assert_uint_eq(in(IO + 0x14, 2), 0);
	out(IO + 0x14, 2, 2);
	ck_assert_uint_eq(in(IO + 0x14, 2), VIRTIO_MSI_NO_VECTOR);
	out(IO + 0x0e, 2, 0);
	out(IO + 0x16, 2, 1);
	ck_assert_uint_eq(in(IO + 0x16, 2), 1);
	out(IO + 0x16, 2, 0x1234);
	ck_assert_uint_eq(in(IO + 0x16, 2), VIRTIO_MSI_NO_VECTOR);
	out(IO + 0x0e, 2, 5); /* no such queue */
	out(IO + 0x16, 2, 0);
	ck_assert_uint_eq(in(IO + 0x16, 2), VIRTIO_MSI_NO_VECTOR);
	/* the config is read-only for virtio-blk: writes through the shifted
	 * offset change nothing */
	out(IO + 0x18, 4, 0);
	ck_assert_uint_eq(in(IO + 0x18, 4), DISK / 512);

	/* a whole legacy request with MSI-X on: the queue's vector fires */
	set_entry(0, 0xfee00000, 0x51, false);
	out(IO + 0x0e, 2, 0);
	out(IO + 0x16, 2, 0);
	memset(ram, 0, RAM);
	out(IO + 0x12, 1, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
	out(IO + 0x08, 4, 0x10000 >> 12);
	uint8_t *d = ram + 0x10000;
	uint64_t a[3] = { 0x4000, 0x5000, 0x6000 };
	uint32_t l[3] = { 16, 512, 1 };
	uint16_t f[3] = { VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE };
	for (unsigned i = 0; i < 3; i++)
		fake_desc(d, i, a[i], l[i], f[i], (uint16_t)(i + 1));
	uint64_t sector = 5;
	memcpy(ram + 0x4008, &sector, 8);
	uint16_t one = 1;
	memcpy(ram + 0x10000 + 16 * 128 + 2, &one, 2); /* avail idx; ring[0] = head 0 */
	out(IO + 0x12, 1, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
	out(IO + 0x10, 2, 0);
	ck_assert(memcmp(ram + 0x5000, disk + 5 * 512, 512) == 0);
	ck_assert_uint_eq(vm->msi_count, 1);
	ck_assert_uint_eq(vm->msi_data, 0x51);
	ck_assert_int_eq(vm->irq_level[11], 0);
}
END_TEST

/* pci_cfg window: select bar/offset/length, then access the data */
static unsigned pc;
static void sel(unsigned bar, uint32_t off, uint32_t len)
{
	cfg_w(pc + 4, 1, bar);
	cfg_w(pc + 8, 4, off);
	cfg_w(pc + 12, 4, len);
}

START_TEST(test_pcicfg_window)
{
	pc = find_cap(0x09, 5);
	ck_assert_uint_ne(pc, 0);
	/* reads of each length, from the modern BAR */
	sel(4, 0x12, 2);
	ck_assert_uint_eq(cfg_r(pc + 16, 4), 1); /* num_queues */
	sel(4, 0x2000, 4);
	ck_assert_uint_eq(cfg_r(pc + 16, 4), DISK / 512);
	sel(4, 0x2000, 1);
	ck_assert_uint_eq(cfg_r(pc + 16, 4), DISK / 512 & 0xff);
	sel(4, 0x2001, 1);
	/* the fields read back as written */
	ck_assert_uint_eq(cfg_r(pc + 4, 1), 4);
	ck_assert_uint_eq(cfg_r(pc + 8, 4), 0x2001);
	ck_assert_uint_eq(cfg_r(pc + 12, 4), 1);
	/* from the legacy I/O BAR and the MSI-X BAR */
	sel(0, 0x0c, 2);
	ck_assert_uint_eq(cfg_r(pc + 16, 2), 128);
	sel(1, 12, 4);
	ck_assert_uint_eq(cfg_r(pc + 16, 4), 1);
	/* a write: device status through the window */
	sel(4, 0x14, 1);
	cfg_w(pc + 16, 1, VIRTIO_STATUS_ACK);
	ck_assert_uint_eq(mmio_r(BAR4 + 0x14, 1), VIRTIO_STATUS_ACK);
	/* the access has the register's side effects: reading the ISR
	 * acknowledges it */
	virtio_signal_queue(v, 0);
	ck_assert_int_eq(vm->irq_level[11], 1);
	sel(4, 0x1000, 1);
	ck_assert_uint_eq(cfg_r(pc + 16, 1), 1);
	ck_assert_int_eq(vm->irq_level[11], 0);
	/* it works with the BARs not decoded (the point of the window) */
	cfg_w(0x04, 2, 0);
	sel(4, 0x2000, 4);
	ck_assert_uint_eq(cfg_r(pc + 16, 4), DISK / 512);
	cfg_w(0x04, 2, 7);
	/* a config read elsewhere does not touch the BAR */
	virtio_signal_queue(v, 0);
	sel(4, 0x1000, 1);
	(void)cfg_r(pc + 12, 4);
	ck_assert_int_eq(vm->irq_level[11], 1);
	(void)in(IO + 0x13, 1);

	/* hostile selections: no access, the data keeps its last value */
	static const struct { unsigned bar; uint32_t off, len; } bad[] = {
		{ 4, 0x14, 0 }, { 4, 0x14, 3 }, { 4, 0x14, 8 }, { 4, 0x14, 0xffffffff },
		{ 4, 0x13, 2 }, { 4, 0x12, 4 },                  /* misaligned */
		{ 4, 0x4000, 1 }, { 4, 0xfffffffc, 4 }, { 4, 0x3ffe, 4 }, /* out of range */
		{ 0, 0x80, 1 }, { 1, 0x1000, 4 },
		{ 2, 0, 4 }, { 3, 0, 4 }, { 5, 0, 4 }, { 6, 0, 4 }, { 0xff, 0, 1 }, /* no such BAR */
	};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sel(4, 0x14, 1);
		cfg_w(pc + 16, 1, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
		sel(bad[i].bar, bad[i].off, bad[i].len);
		cfg_w(pc + 16, 4, 0xdeadbeef);
		ck_assert_uint_eq(cfg_r(pc + 16, 4), 0xdeadbeef);
		ck_assert_uint_eq(mmio_r(BAR4 + 0x14, 1), VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
	}
	/* odd config accesses to the data: a byte in the middle reads the
	 * selected register too */
	mmio_w(MSIX, 4, 0xfee0abcd);
	sel(1, 0, 4);
	ck_assert_uint_eq(cfg_r(pc + 17, 1), 0xab);
	ck_assert_uint_eq(cfg_r(pc + 18, 2), 0xfee0);
	/* the capability header itself is read-only */
	cfg_w(pc, 4, 0);
	ck_assert_uint_eq(cfg_r(pc, 1), 0x09);
	ck_assert_uint_eq(cfg_r(pc + 3, 1), 5);
}
END_TEST

START_TEST(test_no_msix_without_kvm_support)
{
	/* a KVM that cannot inject MSIs: the device offers no MSI-X and the
	 * legacy config stays at 0x14 whatever the guest writes */
	od_err e;
	virtio_blk_free(blk);
	vm->no_msi = true;
	blk = virtio_blk_new(vm, &mem_be, true, &e);
	ck_assert_ptr_nonnull(blk);
	v = virtio_blk_dev(blk);
	bdf = v->pci.slot << 3;
	program_bars();
	ck_assert_uint_eq(find_cap(0x11, -1), 0);
	ck_assert_uint_ne(find_cap(0x09, 5), 0);
	cfg_w(0x14, 4, 0xffffffff);
	ck_assert_uint_eq(cfg_r(0x14, 4), 0); /* no BAR 1 */
	mmio_w(BAR4 + 0x10, 2, 0);
	ck_assert_uint_eq(mmio_r(BAR4 + 0x10, 2), VIRTIO_MSI_NO_VECTOR);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("runner msix+pcicfg");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_capability_list);
	tcase_add_test(t, test_msix_table);
	tcase_add_test(t, test_msix_delivery);
	tcase_add_test(t, test_vector_checks);
	tcase_add_test(t, test_pcicfg_window);
	tcase_add_test(t, test_no_msix_without_kvm_support);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return od_check_run(suite());
}
