/* test_devices.c - unit tests of the runner's devices without KVM: each
 * device is driven through the dispatch table of a fake VM, as a vCPU exit
 * would drive it, and DMA goes to fake guest memory. */
#include "config.h"
#include "runner/vmm.h"
#include "fakeio.h"
#include "runner/sandbox.h"
#include "disk/disk.h"

#include <check.h>
#include "../check_run.h"
#include <errno.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct vm *vm;

static void setup(void)
{
	od_err e;
	vm = vm_new_fake(1 << 20, &e);
	ck_assert_ptr_nonnull(vm);
}

static void teardown(void)
{
	vm_free(vm);
	vm = NULL;
}

static uint32_t in(uint16_t port, unsigned size) { return fake_in(vm, port, size, NULL); }
static void out(uint16_t port, unsigned size, uint32_t v) { fake_out(vm, port, size, v, NULL); }

/* ---- guest memory and dispatch ---- */

START_TEST(test_gpa_to_hva)
{
	ck_assert_ptr_nonnull(vm_gpa_to_hva(vm, 0, 1 << 20));
	ck_assert_ptr_nonnull(vm_gpa_to_hva(vm, (1 << 20) - 1, 1));
	ck_assert_ptr_null(vm_gpa_to_hva(vm, (1 << 20) - 1, 2));
	ck_assert_ptr_null(vm_gpa_to_hva(vm, 1 << 20, 1));
	ck_assert_ptr_null(vm_gpa_to_hva(vm, 16, UINT64_MAX));      /* wraps */
	ck_assert_ptr_null(vm_gpa_to_hva(vm, UINT64_MAX, 2));
	ck_assert_ptr_null(vm_gpa_to_hva(vm, 0xfffff000, 0x1000));
	ck_assert_ptr_eq(vm_gpa_to_hva(vm, 0x1234, 4), vm->ram[0].hva + 0x1234);
}
END_TEST

static int hits;
static uint64_t last_addr;
static void count_io(void *opaque, uint64_t addr, uint8_t *data, unsigned size, bool is_write)
{
	(void)opaque; (void)is_write;
	hits++;
	last_addr = addr;
	memset(data, 0x5a, size);
}

START_TEST(test_dispatch_table)
{
	od_err e;
	int a, b;
	ck_assert_int_eq(vm_io_register(vm, VM_PIO, 0x100, 8, count_io, &a, &e), 0);
	ck_assert_int_eq(vm_io_register(vm, VM_PIO, 0x10, 4, count_io, &b, &e), 0);
	/* overlaps on either side are refused */
	ck_assert_int_eq(vm_io_register(vm, VM_PIO, 0x104, 8, count_io, &b, &e), -1);
	ck_assert_int_eq(vm_io_register(vm, VM_PIO, 0xf8, 9, count_io, &b, &e), -1);
	ck_assert_int_eq(vm_io_register(vm, VM_PIO, 0xfff0, 0x20, count_io, &b, &e), -1); /* past 64K ports */
	ck_assert_int_eq(vm_io_register(vm, VM_MMIO, UINT64_MAX - 2, 8, count_io, &b, &e), -1); /* wraps */
	ck_assert_int_eq(vm_io_register(vm, VM_PIO, 0xf8, 8, count_io, &b, &e), 0); /* adjacent is fine */
	hits = 0;
	ck_assert_uint_eq(in(0x107, 1), 0x5a);
	ck_assert_int_eq(hits, 1);
	ck_assert_uint_eq(last_addr, 0x107);
	ck_assert_uint_eq(in(0x108, 1), 0xff); /* just past: unclaimed reads all ones */
	ck_assert_uint_eq(in(0x14, 4), 0xffffffff);
	ck_assert_int_eq(hits, 1);
	vm_io_unregister(vm, VM_PIO, 0x100, &a);
	ck_assert_uint_eq(in(0x100, 1), 0xff);
	/* MMIO is a separate space */
	ck_assert_int_eq(vm_io_register(vm, VM_MMIO, 0xfe000000, 0x1000, count_io, &a, &e), 0);
	uint8_t d[8];
	ck_assert(vm_io_dispatch(vm, VM_MMIO, 0xfe000ffc, d, 4, false));
	ck_assert(!vm_io_dispatch(vm, VM_MMIO, 0xfe001000, d, 4, false));
	ck_assert(!vm_io_dispatch(vm, VM_PIO, 0xf000, d, 4, false));
}
END_TEST

/* ---- UART ---- */

START_TEST(test_uart)
{
	od_err e;
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	struct serial *s = serial_new(vm, 0x3f8, 4, p[1], &e);
	ck_assert_ptr_nonnull(s);
	/* SeaBIOS's detection: IER reads back, IIR shows THR empty */
	out(0x3f9, 1, 0x02);
	ck_assert_uint_eq(in(0x3f9, 1), 0x02);
	ck_assert_uint_eq(in(0x3fa, 1) & 0x3f, 0x02);
	ck_assert_int_eq(vm->irq_level[4], 0); /* the IIR read acknowledged it */
	out(0x3f9, 1, 0x00);
	ck_assert_uint_eq(in(0x3fa, 1) & 0x0f, 0x01);
	/* divisor latch */
	out(0x3fb, 1, 0x83);
	out(0x3f8, 1, 0x01);
	out(0x3f9, 1, 0x00);
	ck_assert_uint_eq(in(0x3f8, 1), 0x01);
	out(0x3fb, 1, 0x03);
	/* transmit goes to the console, LSR always shows THR empty */
	out(0x3f8, 1, 'h');
	out(0x3f8, 1, 'i');
	ck_assert_uint_eq(in(0x3fd, 1) & 0x60, 0x60);
	char buf[4] = { 0 };
	ck_assert_int_eq(read(p[0], buf, 2), 2);
	ck_assert_str_eq(buf, "hi");
	/* receive: data ready, the RX interrupt on IRQ 4, FIFO of 16 */
	out(0x3f9, 1, 0x01);
	uint8_t many[40];
	memset(many, 'x', sizeof many);
	many[0] = 'a';
	ck_assert_uint_eq(serial_receive(s, many, sizeof many), 16);
	ck_assert_int_eq(vm->irq_level[4], 1);
	ck_assert_uint_eq(in(0x3fa, 1) & 0x0f, 0x04);
	ck_assert_uint_eq(in(0x3fd, 1) & 0x01, 1);
	ck_assert_uint_eq(in(0x3f8, 1), 'a');
	for (int i = 1; i < 16; i++)
		ck_assert_uint_eq(in(0x3f8, 1), 'x');
	ck_assert_uint_eq(in(0x3fd, 1) & 0x01, 0);
	ck_assert_int_eq(vm->irq_level[4], 0);
	/* loopback: sent bytes come back, modem lines follow MCR */
	out(0x3fc, 1, 0x10 | 0x03);
	out(0x3f8, 1, 'L');
	ck_assert_uint_eq(in(0x3f8, 1), 'L');
	ck_assert_uint_eq(in(0x3fe, 1) & 0xf0, 0x30);
	out(0x3fc, 1, 0x00);
	ck_assert_uint_eq(in(0x3fe, 1) & 0xb0, 0xb0);
	/* scratch register */
	out(0x3ff, 1, 0xa5);
	ck_assert_uint_eq(in(0x3ff, 1), 0xa5);
	serial_free(s);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* ---- CMOS ---- */

static uint8_t cmos(uint8_t reg)
{
	out(0x70, 1, reg);
	return (uint8_t)in(0x71, 1);
}

START_TEST(test_cmos)
{
	od_err e;
	struct cmos *c = cmos_new(vm, 0xC0000000ull, 1ull << 32, 4, &e);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(cmos(0x15) | cmos(0x16) << 8, 640);
	ck_assert_uint_eq(cmos(0x30) | cmos(0x31) << 8, 0xffff); /* capped */
	ck_assert_uint_eq(cmos(0x34) | cmos(0x35) << 8, (0xC0000000u - (16u << 20)) >> 16);
	ck_assert_uint_eq(cmos(0x5b) | cmos(0x5c) << 8 | cmos(0x5d) << 16, (1ull << 32) >> 16);
	ck_assert_uint_eq(cmos(0x5f), 3);
	ck_assert_uint_eq(cmos(0x0a) & 0x80, 0); /* never update-in-progress */
	ck_assert_uint_eq(cmos(0x0d), 0x80);
	uint8_t mon = cmos(0x08);
	ck_assert(mon >= 0x01 && mon <= 0x12 && (mon & 0x0f) <= 9); /* BCD month */
	ck_assert(cmos(0x32) == 0x20 || cmos(0x32) == 0x21);
	/* the clock agrees with the host's UTC date, in BCD */
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	out(0x70, 1, 0x0b);
	out(0x71, 1, 0x06); /* binary, 24-hour */
	if (cmos(0x00) != tm.tm_sec) /* a second boundary passed: read again */
		gmtime_r(&now, &tm);
	ck_assert_uint_eq(cmos(0x07), tm.tm_mday);
	ck_assert_uint_eq(cmos(0x08), tm.tm_mon + 1);
	ck_assert_uint_eq(cmos(0x09), tm.tm_year % 100);
	ck_assert_uint_eq(cmos(0x06), tm.tm_wday + 1);
	out(0x70, 1, 0x0b);
	out(0x71, 1, 0x02);
	/* plain RAM bytes keep what is written, the clock ignores writes */
	out(0x70, 1, 0x0f);
	out(0x71, 1, 0x0a);
	ck_assert_uint_eq(cmos(0x0f), 0x0a);
	out(0x70, 1, 0x08);
	out(0x71, 1, 0x99);
	ck_assert_uint_eq(cmos(0x08), mon);
	cmos_free(c);
}
END_TEST

/* ---- PCI ---- */

static uint32_t cfg_read(unsigned bdf, unsigned off, unsigned size)
{
	out(0xcf8, 4, 0x80000000u | bdf << 8 | (off & 0xfc));
	return in(0xcfc + (off & 3), size);
}

static void cfg_write(unsigned bdf, unsigned off, unsigned size, uint32_t v)
{
	out(0xcf8, 4, 0x80000000u | bdf << 8 | (off & 0xfc));
	out(0xcfc + (off & 3), size, v);
}

static uint8_t bar_mem[64];
static void bar_io_fn(void *opaque, uint64_t off, uint8_t *data, unsigned size, bool is_write)
{
	(void)opaque;
	if (off + size > sizeof bar_mem)
		return;
	if (is_write)
		memcpy(bar_mem + off, data, size);
	else
		memcpy(data, bar_mem + off, size);
}

START_TEST(test_pci)
{
	od_err e;
	struct pci_bus *b = pci_new(vm, &e);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(cfg_read(0x00, 0, 4), 0x12378086);
	ck_assert_uint_eq(cfg_read(0x00, 0x2c, 4), 0x11001af4);
	ck_assert_uint_eq(cfg_read(0x08, 0, 4), 0x70008086);
	ck_assert_uint_eq(cfg_read(0x08, 0x0a, 2), 0x0601); /* ISA bridge class */
	ck_assert_uint_eq(cfg_read(0x08 | 1, 0, 4), 0xffffffff); /* function 1: absent */
	ck_assert_uint_eq(cfg_read(0x100, 0, 4), 0xffffffff);    /* bus 1: absent */
	ck_assert_uint_eq(cfg_read(0x1f << 3, 0, 2), 0xffff);
	/* the address register reads back; a byte access at 0xCF8 is not it */
	out(0xcf8, 4, 0x80000858);
	ck_assert_uint_eq(in(0xcf8, 4), 0x80000858);
	out(0xcf8, 1, 0x00);
	ck_assert_uint_eq(in(0xcf8, 4), 0x80000858);
	/* IDs are read-only, PAM registers keep what is written */
	cfg_write(0x00, 0, 4, 0);
	ck_assert_uint_eq(cfg_read(0x00, 0, 4), 0x12378086);
	cfg_write(0x00, 0x59, 1, 0x30);
	cfg_write(0x00, 0x5c, 4, 0x33333333);
	ck_assert_uint_eq(cfg_read(0x00, 0x59, 1), 0x30);
	ck_assert_uint_eq(cfg_read(0x00, 0x5c, 4), 0x33333333);
	/* without the enable bit, config data accesses do nothing */
	out(0xcf8, 4, 0x00000000);
	ck_assert_uint_eq(in(0xcfc, 4), 0xffffffff);

	/* a device with an I/O BAR and a 64-bit memory BAR */
	struct pci_dev d = { 0 };
	pci_init_header(&d, 0x1af4, 0x1001, 0x01000000, 0x1af4, 0x0002);
	d.cfg[0x3d] = 1;
	pci_set_bar(&d, 0, PCI_BAR_IO, 64, bar_io_fn, NULL);
	pci_set_bar(&d, 4, PCI_BAR_MEM64, 0x4000, bar_io_fn, NULL);
	uint8_t cap[16] = { 0x09, 0, 16, 1 };
	ck_assert_uint_eq(pci_add_cap(&d, cap, sizeof cap), 0x40);
	ck_assert_uint_eq(pci_add_cap(&d, cap, sizeof cap), 0x50);
	ck_assert_int_eq(pci_add(b, &d, &e), 0);
	unsigned bdf = d.slot << 3;
	ck_assert_uint_eq(cfg_read(bdf, 0x34, 1), 0x40);
	ck_assert_uint_eq(cfg_read(bdf, 0x41, 1), 0x50);
	ck_assert_uint_eq(cfg_read(bdf, 0x51, 1), 0x00);
	ck_assert_uint_eq(cfg_read(bdf, 0x06, 2) & 0x10, 0x10);
	/* BAR sizing */
	cfg_write(bdf, 0x10, 4, 0xffffffff);
	ck_assert_uint_eq(cfg_read(bdf, 0x10, 4), 0xffffffc1);
	cfg_write(bdf, 0x20, 4, 0xffffffff);
	cfg_write(bdf, 0x24, 4, 0xffffffff);
	ck_assert_uint_eq(cfg_read(bdf, 0x20, 4), 0xffffc004);
	ck_assert_uint_eq(cfg_read(bdf, 0x24, 4), 0xffffffff);
	/* place them; nothing decodes until the command register says so */
	cfg_write(bdf, 0x10, 4, 0xc040);
	cfg_write(bdf, 0x20, 4, 0xfe000000);
	cfg_write(bdf, 0x24, 4, 0x1);
	bar_mem[3] = 0x77;
	ck_assert_uint_eq(in(0xc043, 1), 0xff);
	cfg_write(bdf, 0x04, 2, 0x0003);
	ck_assert_uint_eq(in(0xc043, 1), 0x77);
	uint8_t m[4];
	ck_assert(vm_io_dispatch(vm, VM_MMIO, 0x1fe000003ull, m, 1, false));
	ck_assert_uint_eq(m[0], 0x77);
	/* moving the I/O BAR moves the range */
	cfg_write(bdf, 0x10, 4, 0xd000);
	ck_assert_uint_eq(in(0xc043, 1), 0xff);
	ck_assert_uint_eq(in(0xd003, 1), 0x77);
	/* disabling decode removes it */
	cfg_write(bdf, 0x04, 2, 0x0000);
	ck_assert_uint_eq(in(0xd003, 1), 0xff);
	ck_assert(!vm_io_dispatch(vm, VM_MMIO, 0x1fe000003ull, m, 1, false));

	/* INTx through the PIIX3 PIRQ routes: pin A of slot S uses PIRQ (S) mod 4 */
	unsigned pirq = d.slot & 3;
	pci_set_intx(&d, 1);
	for (int i = 0; i < 16; i++)
		ck_assert_int_eq(vm->irq_level[i], 0); /* not routed yet */
	cfg_write(0x08, 0x60 + pirq, 1, 11);
	ck_assert_int_eq(vm->irq_level[11], 1);
	ck_assert_uint_eq(cfg_read(bdf, 0x06, 2) & 0x08, 0x08);
	cfg_write(bdf, 0x04, 2, 0x0400); /* INTx disable */
	ck_assert_int_eq(vm->irq_level[11], 0);
	cfg_write(bdf, 0x04, 2, 0x0000);
	ck_assert_int_eq(vm->irq_level[11], 1);
	cfg_write(0x08, 0x60 + pirq, 1, 10); /* re-routed */
	ck_assert_int_eq(vm->irq_level[11], 0);
	ck_assert_int_eq(vm->irq_level[10], 1);
	pci_set_intx(&d, 0);
	ck_assert_int_eq(vm->irq_level[10], 0);
	/* accesses past the end of config space stay inside it */
	ck_assert_uint_eq(pci_cfg_read(b, bdf, 0xfe, 4), 0xffff0000 | cfg_read(bdf, 0xfc, 4) >> 16);
	pci_cfg_write(b, bdf, 0xff, 4, 0xffffffff);
	pci_free(b);
}
END_TEST

/* ---- fw_cfg ---- */

static void put_be32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static uint32_t get_be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

static void dma(uint64_t cb_gpa)
{
	uint8_t v[4];
	put_be32(v, (uint32_t)(cb_gpa >> 32));
	out(0x514, 4, v[0] | v[1] << 8 | v[2] << 16 | (uint32_t)v[3] << 24);
	put_be32(v, (uint32_t)cb_gpa);
	out(0x518, 4, v[0] | v[1] << 8 | v[2] << 16 | (uint32_t)v[3] << 24);
}

static void set_cb(uint64_t gpa, uint32_t control, uint32_t len, uint64_t addr)
{
	uint8_t *cb = vm_gpa_to_hva(vm, gpa, 16);
	put_be32(cb, control);
	put_be32(cb + 4, len);
	put_be32(cb + 8, (uint32_t)(addr >> 32));
	put_be32(cb + 12, (uint32_t)addr);
}

START_TEST(test_fw_cfg)
{
	od_err e;
	struct fw_cfg *f = fw_cfg_new(vm, &e);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fw_cfg_add_u16(f, FW_CFG_NB_CPUS, 2, &e), 0);
	ck_assert_int_eq(fw_cfg_add_file(f, "etc/one", "hello", 5, &e), 0);
	ck_assert_int_eq(fw_cfg_add_file(f, "etc/two", "0123456789", 10, &e), 0);
	ck_assert_int_eq(fw_cfg_add_file(f, "etc/one", "HELLO!", 6, &e), 0); /* replaced, same key */
	char longname[80];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	ck_assert_int_eq(fw_cfg_add_file(f, longname, "", 0, &e), -1);

	/* port interface */
	out(0x510, 2, FW_CFG_SIGNATURE);
	char sig[5] = { 0 };
	for (int i = 0; i < 4; i++)
		sig[i] = (char)in(0x511, 1);
	ck_assert_str_eq(sig, "QEMU");
	ck_assert_uint_eq(in(0x511, 1), 0); /* past the end: zeros */
	out(0x510, 2, FW_CFG_ID);
	ck_assert_uint_eq(in(0x511, 1) & 3, 3);
	out(0x510, 2, FW_CFG_NB_CPUS);
	ck_assert_uint_eq(in(0x511, 1) | in(0x511, 1) << 8, 2);
	out(0x510, 2, 0x1234); /* no such item */
	ck_assert_uint_eq(in(0x511, 1), 0);
	/* DMA signature */
	ck_assert_uint_eq(in(0x514, 4), 0x554d4551);
	ck_assert_uint_eq(in(0x518, 4), 0x47464320);

	/* FILE_DIR through the port: two files, names and sizes */
	out(0x510, 2, FW_CFG_FILE_DIR);
	uint8_t dir[4 + 2 * 64];
	for (size_t i = 0; i < sizeof dir; i++)
		dir[i] = (uint8_t)in(0x511, 1);
	ck_assert_uint_eq(get_be32(dir), 2);
	ck_assert_uint_eq(get_be32(dir + 4), 6);
	ck_assert_str_eq((char *)dir + 12, "etc/one");
	unsigned key_two = dir[68 + 4] << 8 | dir[68 + 5];
	ck_assert_str_eq((char *)dir + 68 + 8, "etc/two");

	/* DMA: select + read into RAM */
	uint8_t *ram = vm->ram[0].hva;
	set_cb(0x1000, key_two << 16 | 0x08 | 0x02, 4, 0x2000);
	dma(0x1000);
	ck_assert_uint_eq(get_be32(ram + 0x1000), 0);
	ck_assert(memcmp(ram + 0x2000, "0123", 4) == 0);
	/* skip 2, then read past the end: the rest is zero-filled */
	set_cb(0x1000, 0x04, 2, 0);
	dma(0x1000);
	memset(ram + 0x3000, 0xee, 16);
	set_cb(0x1000, 0x02, 16, 0x3000);
	dma(0x1000);
	ck_assert_uint_eq(get_be32(ram + 0x1000), 0);
	ck_assert(memcmp(ram + 0x3000, "6789\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
	/* destinations outside RAM are refused with the error bit, and
	 * nothing is written */
	set_cb(0x1000, FW_CFG_SIGNATURE << 16 | 0x08 | 0x02, 4, 0xfffff000);
	dma(0x1000);
	ck_assert_uint_eq(get_be32(ram + 0x1000), 1);
	set_cb(0x1000, 0x08 | 0x02, 0x100, (1 << 20) - 0x80); /* straddles the end */
	dma(0x1000);
	ck_assert_uint_eq(get_be32(ram + 0x1000), 1);
	set_cb(0x1000, 0x08 | 0x02, 0xffffffff, 0x10); /* huge length */
	dma(0x1000);
	ck_assert_uint_eq(get_be32(ram + 0x1000), 1);
	set_cb(0x1000, 0x08 | 0x02, 8, UINT64_MAX - 3); /* wrapping address */
	dma(0x1000);
	ck_assert_uint_eq(get_be32(ram + 0x1000), 1);
	/* writes are refused */
	set_cb(0x1000, 0x10, 4, 0x2000);
	dma(0x1000);
	ck_assert_uint_eq(get_be32(ram + 0x1000), 1);
	/* a control block outside RAM is ignored (no crash), also with a
	 * high half that only the 0x514 write sets */
	dma(0xfffffff8ull);
	dma(0x100000000ull);
	dma((1 << 20) - 8); /* block straddling the end of RAM */
	fw_cfg_free(f);
}
END_TEST

/* ---- misc: reset ports and the i8042 ---- */

START_TEST(test_misc)
{
	od_err e;
	/* with a log, the debug port answers 0xE9 (SeaBIOS's test for it)
	 * and takes bytes to the log */
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	struct misc *m = misc_new(vm, p[1], &e);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(in(0x402, 1), 0xe9);
	out(0x402, 1, 'S');
	char c = 0;
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(c, 'S');
	misc_free(m);
	close(p[0]);
	close(p[1]);
	/* without one there is no port: reads float high, so the firmware
	 * does not spend an exit per byte of a log nobody keeps */
	bool claimed = true;
	m = misc_new(vm, -1, &e);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(fake_in(vm, 0x402, 1, &claimed), 0xff);
	ck_assert(!claimed);
	/* i8042 self tests */
	out(0x64, 1, 0xaa);
	ck_assert_uint_eq(in(0x64, 1) & 1, 1);
	ck_assert_uint_eq(in(0x60, 1), 0x55);
	ck_assert_uint_eq(in(0x64, 1) & 1, 0);
	out(0x64, 1, 0x60); /* write the command byte: no interrupts */
	out(0x60, 1, 0x44);
	out(0x64, 1, 0x20);
	ck_assert_uint_eq(in(0x60, 1), 0x44);
	out(0x60, 1, 0xff); /* keyboard reset: ack + self test passed */
	ck_assert_uint_eq(in(0x60, 1), 0xfa);
	ck_assert_uint_eq(in(0x60, 1), 0xaa);
	/* the AUX port: loopback answers with the AUX flag on IRQ 12 (when the
	 * CTR enables it); a byte for the mouse times out with 0xFE */
	out(0x64, 1, 0x60);
	out(0x60, 1, 0x47);
	out(0x64, 1, 0xd3);
	out(0x60, 1, 0x5a);
	ck_assert_uint_eq(in(0x64, 1) & 0x21, 0x21);
	ck_assert_int_eq(vm->irq_level[12], 1);
	ck_assert_int_eq(vm->irq_level[1], 0);
	ck_assert_uint_eq(in(0x60, 1), 0x5a);
	ck_assert_int_eq(vm->irq_level[12], 0);
	out(0x64, 1, 0xd4);
	out(0x60, 1, 0xf2);
	ck_assert_uint_eq(in(0x64, 1) & 0x61, 0x61);
	ck_assert_uint_eq(in(0x60, 1), 0xfe);
	ck_assert_uint_eq(in(0x64, 1) & 0x61, 0);
	out(0x60, 1, 0xee); /* a keyboard byte: IRQ 1, no AUX flag */
	ck_assert_uint_eq(in(0x64, 1) & 0x21, 0x01);
	ck_assert_int_eq(vm->irq_level[1], 1);
	ck_assert_uint_eq(in(0x60, 1), 0xee);
	out(0x64, 1, 0x60);
	out(0x60, 1, 0x44);
	ck_assert_int_eq(atomic_load(&vm->end_reason), VM_END_NONE);
	out(0xcf9, 1, 0x02); /* not a reset: bit 2 clear */
	ck_assert_int_eq(atomic_load(&vm->end_reason), VM_END_NONE);
	out(0x64, 1, 0xfe);
	ck_assert_int_eq(atomic_load(&vm->end_reason), VM_END_RESET);
	misc_free(m);
}
END_TEST

/* ---- the vCPU seccomp filter ---- */

static int in_sandbox(int what)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		od_err e;
		if (sandbox_vcpu(&e) < 0)
			_exit(99);
		/* what a vCPU thread does: allocate, write, get random bytes */
		void *big = malloc(1 << 20);
		char r[16];
		if (!big || getrandom(r, sizeof r, 0) != sizeof r || write(STDOUT_FILENO, "", 0) < 0)
			_exit(98);
		free(big);
		if (what == 1) {
			/* open is refused (EACCES: glibc's malloc may try one and
			 * copes; sanitizer builds allow it), then a socket kills */
			if (!sandbox_sanitizer_build() && (open("/etc/passwd", O_RDONLY) >= 0 || errno != EACCES))
				_exit(97);
			socket(AF_INET, SOCK_STREAM, 0); /* forbidden */
		}
		if (what == 2)
			(void)!ioctl(0, 0x1234, 0); /* an ioctl other than KVM_RUN/KVM_IRQ_LINE */
		_exit(0);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return st;
}

/* a guest writing to a qcow2 disk: allocation, flush, all from a confined
 * thread (the image is opened before, as the runner does) */
static int qcow2_in_sandbox(void)
{
	od_err e;
	char path[] = "/tmp/od-sbx-XXXXXX.qcow2";
	int fd = mkstemps(path, 6);
	ck_assert_int_ge(fd, 0);
	close(fd);
	unlink(path);
	disk *d = disk_create(path, "qcow2", 8 << 20, NULL, &e);
	ck_assert_msg(d != NULL, "%s", e.msg);
	ck_assert_int_eq(disk_commit(d, &e), 0);
	disk_close(d);
	d = disk_open(path, DISK_RDWR, &e);
	ck_assert_msg(d != NULL, "%s", e.msg);
	pid_t pid = fork();
	if (pid == 0) {
		static char buf[65536];
		memset(buf, 0x5a, sizeof buf);
		if (sandbox_vcpu(&e) < 0)
			_exit(99);
		for (uint64_t off = 0; off < (8 << 20); off += 3 * sizeof buf)
			if (disk_pwrite(d, buf, sizeof buf, off, &e) < 0 || disk_pread(d, buf, sizeof buf, off, &e) < 0)
				_exit(97);
		_exit(disk_flush(d, &e) < 0 ? 96 : 0);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	disk_close(d);
	unlink(path);
	return st;
}

START_TEST(test_sandbox)
{
	int qst = qcow2_in_sandbox();
	ck_assert_msg(WIFEXITED(qst) && WEXITSTATUS(qst) == 0, "qcow2 writes in the sandbox: status 0x%x", qst);
	int st = in_sandbox(0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = in_sandbox(1);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = in_sandbox(2);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("runner devices");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_gpa_to_hva);
	tcase_add_test(t, test_dispatch_table);
	tcase_add_test(t, test_uart);
	tcase_add_test(t, test_cmos);
	tcase_add_test(t, test_pci);
	tcase_add_test(t, test_fw_cfg);
	tcase_add_test(t, test_misc);
	tcase_add_test(t, test_sandbox);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return od_check_run(suite());
}
