/* test_vga.c - the VGA/VBE device (src/runner/hw/vga.c) on a fake VM:
 * text mode as a VGA BIOS programs it (font in plane 2, characters through
 * the odd/even window at 0xb8000), VBE modes through the banked window and
 * the framebuffer BAR, and hostile register values: refused, never a read
 * or write outside the VRAM (ASan builds check that), and a random storm
 * of port and window accesses after which the device still renders. */
#include "config.h"
#include "runner/vmm.h"
#include "fakeio.h"

#include <check.h>
#include "../check_run.h"
#include <stdlib.h>
#include <string.h>

static struct vm *vm;
static struct vga *vga;

static void setup(void)
{
	od_err e;
	vm = vm_new_fake(1 << 20, &e);
	ck_assert_ptr_nonnull(vm);
	vm->pci = pci_new(vm, &e);
	ck_assert_ptr_nonnull(vm->pci);
	vga = vga_new(vm, &e);
	ck_assert_ptr_nonnull(vga);
}

static void teardown(void)
{
	vga_free(vga);
	pci_free(vm->pci);
	vm->pci = NULL;
	vm_free(vm);
}

static void out8(uint16_t port, uint8_t v) { fake_out(vm, port, 1, v, NULL); }
static void out16(uint16_t port, uint16_t v) { fake_out(vm, port, 2, v, NULL); }
static uint16_t in16(uint16_t port) { return (uint16_t)fake_in(vm, port, 2, NULL); }
static void reg(uint16_t port, uint8_t idx, uint8_t v) { out8(port, idx); out8(port + 1, v); }
static void vbe(uint16_t idx, uint16_t v) { out16(0x1ce, idx); out16(0x1cf, v); }
static uint16_t vbe_get(uint16_t idx) { out16(0x1ce, idx); return in16(0x1cf); }
static void memw(uint64_t a, uint8_t v) { fake_mmio_w(vm, a, 1, v, NULL); }

struct pic { uint8_t *rgb; unsigned w, h; };
static struct pic render(void)
{
	struct pic p;
	od_err e;
	ck_assert_int_eq(vga_render(vga, &p.rgb, &p.w, &p.h, &e), 0);
	return p;
}
static const uint8_t *px(const struct pic *p, unsigned x, unsigned y) { return p->rgb + ((size_t)y * p->w + x) * 3; }

static void dac(uint8_t idx, uint8_t r, uint8_t g, uint8_t b)
{
	out8(0x3c8, idx);
	out8(0x3c9, r);
	out8(0x3c9, g);
	out8(0x3c9, b);
}

START_TEST(test_text_mode)
{
	/* load a glyph for 'A' into plane 2 as a VGA BIOS does */
	reg(0x3c4, 2, 0x04);
	reg(0x3c4, 4, 0x06);
	reg(0x3ce, 4, 0x02);
	reg(0x3ce, 5, 0x00);
	reg(0x3ce, 6, 0x04);
	for (unsigned y = 0; y < 16; y++)
		memw(0xa0000 + 'A' * 32 + y, y == 3 ? 0xff : 0xf0);
	/* back to text: odd/even, window at 0xb8000 */
	reg(0x3c4, 2, 0x03);
	reg(0x3c4, 4, 0x02);
	reg(0x3ce, 4, 0x00);
	reg(0x3ce, 5, 0x10);
	reg(0x3ce, 6, 0x0e);
	dac(0, 0, 0, 0);
	dac(7, 42, 42, 42);
	dac(1, 0, 0, 42);
	memw(0xb8000, 'A');
	memw(0xb8001, 0x17); /* grey on blue */
	ck_assert_int_eq(fake_mmio_r(vm, 0xb8000, 1, NULL), 'A');
	ck_assert_int_eq(fake_mmio_r(vm, 0xb8001, 1, NULL), 0x17);
	reg(0x3d4, 0x0a, 0x20); /* cursor off */
	struct pic p = render();
	ck_assert_uint_eq(p.w, 720);
	ck_assert_uint_eq(p.h, 400);
	const uint8_t grey[3] = {168, 168, 168}, blue[3] = {0, 0, 168}, black[3] = {0, 0, 0};
	ck_assert_mem_eq(px(&p, 0, 0), grey, 3);   /* glyph bits 1111 0000 */
	ck_assert_mem_eq(px(&p, 3, 0), grey, 3);
	ck_assert_mem_eq(px(&p, 4, 0), blue, 3);
	ck_assert_mem_eq(px(&p, 8, 0), blue, 3);   /* ninth column: background */
	ck_assert_mem_eq(px(&p, 7, 3), grey, 3);   /* the full row */
	ck_assert_mem_eq(px(&p, 9, 0), black, 3);  /* next cell: NUL on black */
	free(p.rgb);
	/* the cursor, when on, covers its scan lines of its cell */
	reg(0x3d4, 0x0a, 14);
	reg(0x3d4, 0x0b, 15);
	reg(0x3d4, 0x0e, 0);
	reg(0x3d4, 0x0f, 1);
	memw(0xb8003, 0x07);
	p = render();
	ck_assert_mem_eq(px(&p, 9, 13), black, 3);
	ck_assert_mem_ne(px(&p, 9, 14), black, 3);
	free(p.rgb);
}
END_TEST

START_TEST(test_vbe_modes)
{
	ck_assert_uint_eq(vbe_get(0), 0xb0c5);
	ck_assert_uint_eq(vbe_get(10), 256); /* 16 MiB in 64 KiB units */
	vbe(4, 0x02);                        /* GETCAPS */
	ck_assert_uint_eq(vbe_get(1), 2560);
	ck_assert_uint_eq(vbe_get(3), 32);
	vbe(4, 0);
	vbe(1, 640);
	vbe(2, 480);
	vbe(3, 32);
	vbe(4, 0x41);
	ck_assert_uint_eq(vbe_get(4) & 1, 1);
	/* pixel 0 through the banked window: blue, green, red, unused */
	fake_mmio_w(vm, 0xa0000, 4, 0x00336699, NULL);
	/* and the last pixel through BAR 0, once the guest maps it */
	unsigned bdf = 0;
	for (unsigned s = 1; s < 32; s++)
		if (pci_cfg_read(vm->pci, s << 3, 0, 4) == 0x11111234)
			bdf = s << 3;
	ck_assert_uint_ne(bdf, 0);
	ck_assert_uint_eq(pci_cfg_read(vm->pci, bdf, 0x10, 4) & 0xf, 0x8); /* prefetchable mem32 */
	pci_cfg_write(vm->pci, bdf, 0x10, 4, 0xe0000000);
	pci_cfg_write(vm->pci, bdf, 0x04, 2, 0x0002);
	fake_mmio_w(vm, 0xe0000000ull + (640 * 480 - 1) * 4, 4, 0x00ff0000, NULL);
	bool claimed;
	fake_mmio_w(vm, 0xe0000000ull + (16u << 20) - 2, 4, 0xffffffff, &claimed); /* straddles the end */
	struct pic p = render();
	ck_assert_uint_eq(p.w, 640);
	ck_assert_uint_eq(p.h, 480);
	const uint8_t c0[3] = {0x33, 0x66, 0x99}, c1[3] = {0xff, 0, 0};
	ck_assert_mem_eq(px(&p, 0, 0), c0, 3);
	ck_assert_mem_eq(px(&p, 639, 479), c1, 3);
	free(p.rgb);
	/* 16 bpp */
	vbe(4, 0);
	vbe(3, 16);
	vbe(4, 0x41);
	fake_mmio_w(vm, 0xe0000000ull, 2, 0xf800, NULL);
	p = render();
	ck_assert_uint_eq(px(&p, 0, 0)[0], 0xf8);
	ck_assert_uint_eq(px(&p, 0, 0)[1], 0);
	free(p.rgb);
}
END_TEST

START_TEST(test_vbe_hostile)
{
	vbe(1, 640);
	vbe(2, 480);
	vbe(3, 32);
	vbe(4, 0x41);
	/* changes while enabled are ignored, offsets past the VRAM refused */
	vbe(1, 0xffff);
	ck_assert_uint_eq(vbe_get(1), 640);
	vbe(9, 0xffff);
	ck_assert_uint_eq(vbe_get(9), 0);
	vbe(8, 0xfff8);
	ck_assert_uint_eq(vbe_get(8), 0);
	vbe(6, 0xffff); /* a virtual width whose frame does not fit: refused */
	ck_assert_uint_eq(vbe_get(6), 640);
	vbe(6, 1024);   /* a sane one is taken */
	ck_assert_uint_eq(vbe_get(6), 1024);
	vbe(9, 4095);   /* 1024*4*(4095+480) > 16 MiB: refused */
	ck_assert_uint_eq(vbe_get(9), 0);
	vbe(5, 0xffff); /* bank past the VRAM */
	ck_assert_uint_eq(vbe_get(5), 0);
	vbe(5, 255);
	ck_assert_uint_eq(vbe_get(5), 255);
	fake_mmio_w(vm, 0xaffff, 1, 0x5a, NULL);
	ck_assert_uint_eq(fake_mmio_r(vm, 0xaffff, 1, NULL), 0x5a);
	/* the largest mode fits; past it the sizes are refused */
	vbe(4, 0);
	vbe(1, 2560);
	vbe(2, 1600);
	vbe(3, 32);
	vbe(4, 0x41);
	ck_assert_uint_eq(vbe_get(4) & 1, 1);
	vbe(9, 38); /* 1638 lines of 10240 bytes fit in 16 MiB */
	ck_assert_uint_eq(vbe_get(9), 38);
	vbe(9, 39); /* 1639 do not */
	ck_assert_uint_eq(vbe_get(9), 38);
	vbe(4, 0);
	vbe(1, 2568);
	ck_assert_uint_eq(vbe_get(1), 2560);
	vbe(1, 641); /* not a multiple of 8 */
	vbe(2, 480);
	vbe(4, 0x41);
	ck_assert_uint_eq(vbe_get(4) & 1, 0);
	vbe(3, 7); /* no such depth: refused */
	ck_assert_uint_eq(vbe_get(3), 32);
	out16(0x1ce, 0xffff);
	ck_assert_uint_eq(in16(0x1cf), 0);
	out16(0x1cf, 0x1234); /* unknown index: dropped */
}
END_TEST

START_TEST(test_vga_hostile_registers)
{
	/* indexes past each register file are masked or dropped */
	reg(0x3c4, 0xff, 0x55);
	reg(0x3ce, 0xff, 0x55);
	reg(0x3d4, 0xff, 0x55);
	out8(0x3da & 0xffff, 0);
	(void)fake_in(vm, 0x3da, 1, NULL);
	out8(0x3c0, 0xff);
	out8(0x3c0, 0x55);
	ck_assert_uint_eq(fake_in(vm, 0x3c5, 1, NULL), 0xff);
	/* a text mode with absurd geometry is refused, not rendered */
	reg(0x3d4, 0x11, 0x00);
	reg(0x3d4, 0x01, 0xff); /* 256 columns */
	uint8_t *rgb;
	unsigned w, h;
	od_err e;
	ck_assert_int_eq(vga_render(vga, &rgb, &w, &h, &e), -1);
	ck_assert_ptr_null(rgb);
	reg(0x3d4, 0x01, 79);
	reg(0x3d4, 0x09, 0x1f); /* 32-line characters: 12 rows */
	struct pic p = render();
	ck_assert_uint_eq(p.h, 384);
	free(p.rgb);
	/* the DAC index wraps inside its 256 entries */
	out8(0x3c8, 0xff);
	for (int i = 0; i < 3 * 300; i++)
		out8(0x3c9, 0x3f);
	out8(0x3c7, 0xff);
	for (int i = 0; i < 3 * 300; i++)
		(void)fake_in(vm, 0x3c9, 1, NULL);
}
END_TEST

/* Random accesses everywhere the device listens, then render: nothing may
 * touch memory outside the device (ASan), and rendering must end. */
START_TEST(test_vga_storm)
{
	static const uint16_t ports[] = {0x3b4, 0x3b5, 0x3ba, 0x3c0, 0x3c1, 0x3c2, 0x3c4, 0x3c5, 0x3c6, 0x3c7,
					 0x3c8, 0x3c9, 0x3cc, 0x3ce, 0x3cf, 0x3d4, 0x3d5, 0x3da, 0x1ce, 0x1cf};
	uint32_t s = 12345;
	for (int round = 0; round < 40; round++) {
		for (int i = 0; i < 5000; i++) {
			s = s * 1103515245u + 12345u;
			uint32_t r = s >> 8;
			unsigned size = 1u << (r & 3);
			if (r & 0x100) {
				uint64_t a = 0xa0000 + (r >> 9) % 0x20000;
				if (r & 0x200)
					fake_mmio_w(vm, a, size, s * 2654435761u, NULL);
				else
					(void)fake_mmio_r(vm, a, size, NULL);
			} else {
				uint16_t port = ports[(r >> 9) % (sizeof ports / sizeof ports[0])];
				if (r & 0x200)
					fake_out(vm, port, size > 4 ? 4 : size, s * 2654435761u, NULL);
				else
					(void)fake_in(vm, port, size > 4 ? 4 : size, NULL);
			}
		}
		uint8_t *rgb;
		unsigned w, h;
		od_err e;
		if (vga_render(vga, &rgb, &w, &h, &e) == 0) {
			ck_assert(w > 0 && h > 0 && w <= 2560 && h <= 1600);
			free(rgb);
		}
	}
}
END_TEST

/* Keys from VNC: keysyms to set-1 codes, into the i8042 whole or not at
 * all, read by the guest at port 0x60. */
START_TEST(test_keyboard)
{
	uint8_t c[2];
	ck_assert_uint_eq(vnc_keysym_to_set1('a', true, c), 1);
	ck_assert_uint_eq(c[0], 0x1e);
	ck_assert_uint_eq(vnc_keysym_to_set1('A', false, c), 1);
	ck_assert_uint_eq(c[0], 0x9e);
	ck_assert_uint_eq(vnc_keysym_to_set1('!', true, c), 1);
	ck_assert_uint_eq(c[0], 0x02);
	ck_assert_uint_eq(vnc_keysym_to_set1(0xff0d, true, c), 1);
	ck_assert_uint_eq(c[0], 0x1c);
	ck_assert_uint_eq(vnc_keysym_to_set1(0xff52, false, c), 2);
	ck_assert_uint_eq(c[0], 0xe0);
	ck_assert_uint_eq(c[1], 0xc8);
	ck_assert_uint_eq(vnc_keysym_to_set1(0x20ac, true, c), 0); /* the euro sign: no key */
	od_err e;
	struct misc *m = misc_new(vm, -1, &e);
	ck_assert_ptr_nonnull(m);
	unsigned accepted = 0;
	for (int i = 0; i < 40; i++) {
		uint8_t k[2] = {0xe0, 0x48};
		accepted += misc_kbd_input(m, k, 2);
	}
	ck_assert_uint_eq(accepted, 8); /* a 16-byte queue: 8 whole keys, none split */
	for (unsigned i = 0; i < 16; i++) {
		ck_assert_uint_eq(fake_in(vm, 0x64, 1, NULL) & 1, 1); /* output buffer full */
		ck_assert_uint_eq(fake_in(vm, 0x60, 1, NULL), i % 2 ? 0x48 : 0xe0);
	}
	misc_free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vga");
	TCase *t = od_check_tcase(s, "vga");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_text_mode);
	tcase_add_test(t, test_vbe_modes);
	tcase_add_test(t, test_vbe_hostile);
	tcase_add_test(t, test_vga_hostile_registers);
	tcase_add_test(t, test_vga_storm);
	tcase_add_test(t, test_keyboard);
	return od_check_run(s);
}
