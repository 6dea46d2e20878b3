/* test_ps2_mouse.c - the PS/2 mouse behind the i8042 (hw/ps2_mouse.c,
 * hw/misc.c): its packet encoding, the command set firmware and Linux's
 * psmouse use, driven through the controller's ports 0x60/0x64 as a guest
 * drives them, and a guest or a VNC client that floods it. */
#include "config.h"
#include "runner/vmm.h"
#include "fakeio.h"

#include <check.h>
#include "../check_run.h"
#include <string.h>

static struct vm *vm;
static struct misc *m;

static void setup(void)
{
	od_err e;
	vm = vm_new_fake(1 << 20, &e);
	ck_assert_ptr_nonnull(vm);
	m = misc_new(vm, -1, &e);
	ck_assert_ptr_nonnull(m);
	misc_attach_mouse(m);
}

static void teardown(void)
{
	misc_free(m);
	vm_free(vm);
	vm = NULL;
}

static uint32_t in(uint16_t port) { return fake_in(vm, port, 1, NULL); }
static void out(uint16_t port, uint32_t v) { fake_out(vm, port, 1, v, NULL); }

/* A byte for the mouse, as a driver sends it: 0xD4, then the byte. */
static void to_mouse(uint8_t v)
{
	out(0x64, 0xd4);
	out(0x60, v);
}

/* The next byte of the output buffer, which must be there and come from
 * the AUX port. */
static uint8_t aux_byte(void)
{
	uint8_t st = (uint8_t)in(0x64);
	ck_assert_msg((st & 0x21) == 0x21, "status 0x%02x: no AUX byte waiting", st);
	return (uint8_t)in(0x60);
}

static bool empty(void) { return !(in(0x64) & 0x01); }

static void expect(const uint8_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b = aux_byte();
		ck_assert_msg(b == want[i], "byte %zu: 0x%02x, expected 0x%02x", i, b, want[i]);
	}
	ck_assert(empty());
}
#define EXPECT(...) do { static const uint8_t w_[] = {__VA_ARGS__}; expect(w_, sizeof w_); } while (0)

START_TEST(test_packet_encoding)
{
	uint8_t p[3];
	ps2_mouse_packet(0, 0, 0, p);
	ck_assert(p[0] == 0x08 && p[1] == 0 && p[2] == 0); /* bit 3 always set */
	ps2_mouse_packet(10, -5, PS2_MOUSE_LEFT, p);
	ck_assert(p[0] == 0x29 && p[1] == 10 && p[2] == 0xfb); /* Y sign */
	ps2_mouse_packet(-1, 1, PS2_MOUSE_RIGHT | PS2_MOUSE_MIDDLE, p);
	ck_assert(p[0] == 0x1e && p[1] == 0xff && p[2] == 1); /* X sign */
	ps2_mouse_packet(255, -255, 0, p);
	ck_assert(p[0] == 0x28 && p[1] == 0xff && p[2] == 0x01); /* the extremes fit */
	ps2_mouse_packet(256, 0, 0, p);
	ck_assert(p[0] == 0x48 && p[1] == 0xff && p[2] == 0); /* X overflow, clamped */
	ps2_mouse_packet(0, -100000, 0xff, p);
	ck_assert(p[0] == 0xaf && p[1] == 0 && p[2] == 0x01); /* Y overflow; only 3 button bits */
}
END_TEST

START_TEST(test_commands)
{
	to_mouse(0xff); /* reset: ACK, self test passed, ID 0 */
	EXPECT(0xfa, 0xaa, 0x00);
	to_mouse(0xf2); /* get ID: a standard mouse */
	EXPECT(0xfa, 0x00);
	to_mouse(0xe9); /* status: stream, off, 1:1, no buttons; 4 c/mm, 100/s */
	EXPECT(0xfa, 0x00, 0x02, 100);
	to_mouse(0xf3);
	EXPECT(0xfa);
	to_mouse(200);
	EXPECT(0xfa);
	to_mouse(0xe8);
	to_mouse(0x03);
	EXPECT(0xfa, 0xfa);
	to_mouse(0xe8);
	to_mouse(0x77); /* out of range: the highest there is */
	to_mouse(0xe7);
	to_mouse(0xf4);
	EXPECT(0xfa, 0xfa, 0xfa, 0xfa);
	to_mouse(0xe9);
	EXPECT(0xfa, 0x30, 0x03, 200);
	to_mouse(0xe1); /* a vendor probe we do not know: resend */
	EXPECT(0xfe);
	to_mouse(0xf6); /* defaults: reporting off again */
	to_mouse(0xe9);
	EXPECT(0xfa, 0xfa, 0x00, 0x02, 100);
	/* the rates of the IntelliMouse knock, but not in a row: still ID 0 */
	static const uint8_t near[] = {0xf3, 200, 0xf3, 100, 0xf3, 60, 0xf3, 80, 0xf2};
	for (size_t i = 0; i < sizeof near; i++)
		to_mouse(near[i]);
	EXPECT(0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0x00);
}
END_TEST

static void knock(void)
{
	static const uint8_t k[] = {0xf3, 200, 0xf3, 100, 0xf3, 80, 0xf2};
	for (size_t i = 0; i < sizeof k; i++)
		to_mouse(k[i]);
	EXPECT(0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0x03);
}

/* The IntelliMouse: ID 3 after the knock, four-byte packets with the
 * wheel's steps (-8..7 each), a plain mouse again after a reset; without
 * the knock the wheel is not reported at all. */
START_TEST(test_wheel)
{
	to_mouse(0xf4);
	EXPECT(0xfa);
	misc_mouse_input(m, 1, 0, 3, 0); /* no wheel yet: a 3-byte packet */
	EXPECT(0x08, 1, 0);
	misc_mouse_input(m, 0, 0, 3, 0); /* a turn alone: nothing */
	ck_assert(empty());
	knock();
	misc_mouse_input(m, 0, 0, -1, 0); /* one step up */
	EXPECT(0x08, 0, 0, 0xff);
	misc_mouse_input(m, 2, 0, 20, 0); /* 20 down: 7 + 7 + 6 */
	EXPECT(0x08, 2, 0, 7, 0x08, 0, 0, 7, 0x08, 0, 0, 6);
	misc_mouse_input(m, 0, 0, -1000, 0); /* capped at 255 steps, not wrapped */
	unsigned n = 0;
	int total = 0;
	while (!empty() && n < 1000) {
		aux_byte(), aux_byte(), aux_byte();
		total += (int8_t)aux_byte();
		n++;
	}
	ck_assert_int_eq(total, -255);
	ck_assert_uint_eq(n, 32); /* 31 packets of -8, then -7 */
	to_mouse(0xeb); /* read data: five bytes with the wheel */
	EXPECT(0xfa, 0x08, 0, 0, 0);
	to_mouse(0xff);
	EXPECT(0xfa, 0xaa, 0x00);
	to_mouse(0xf2);
	EXPECT(0xfa, 0x00);
}
END_TEST

START_TEST(test_no_mouse_without_screen)
{
	od_err e;
	misc_free(m);
	m = misc_new(vm, -1, &e);
	ck_assert_ptr_nonnull(m);
	to_mouse(0xff); /* nothing plugged in: time-out */
	ck_assert_uint_eq(in(0x64) & 0x61, 0x61);
	ck_assert_uint_eq(in(0x60), 0xfe);
	misc_mouse_input(m, 5, 5, 0, PS2_MOUSE_LEFT);
	ck_assert(empty());
}
END_TEST

START_TEST(test_motion_packets)
{
	/* nothing while reporting is off: motion is dropped, not kept */
	misc_mouse_input(m, 50, 50, 0, 0);
	ck_assert(empty());
	to_mouse(0xf4);
	EXPECT(0xfa);
	/* interrupts on (CTR bit 1): IRQ 12 with the first byte */
	out(0x64, 0x60);
	out(0x60, 0x47);
	ck_assert_int_eq(vm->irq_level[12], 0);
	/* 600 right and 10 up: 255 + 255 + 90, the vertical in the first */
	misc_mouse_input(m, 600, 10, 0, PS2_MOUSE_LEFT);
	ck_assert_int_eq(vm->irq_level[12], 1);
	ck_assert_int_eq(vm->irq_level[1], 0);
	EXPECT(0x09, 0xff, 10, 0x09, 0xff, 0, 0x09, 90, 0);
	ck_assert_int_eq(vm->irq_level[12], 0);
	/* a click in place: press and release both arrive */
	misc_mouse_input(m, 0, 0, 0, 0);
	misc_mouse_input(m, 0, 0, 0, PS2_MOUSE_RIGHT);
	misc_mouse_input(m, 0, 0, 0, 0);
	EXPECT(0x08, 0, 0, 0x0a, 0, 0, 0x08, 0, 0);
	/* IRQ 12 is gated by the command byte; the byte is there anyway */
	out(0x64, 0x60);
	out(0x60, 0x45);
	misc_mouse_input(m, -3, -4, 0, 0);
	ck_assert_int_eq(vm->irq_level[12], 0);
	EXPECT(0x38, 0xfd, 0xfc);
	/* the AUX clock off (0xA7): packets wait; on again (0xA8): they come */
	out(0x64, 0xa7);
	misc_mouse_input(m, 1, 0, 0, 0);
	ck_assert(empty());
	out(0x64, 0xa8);
	EXPECT(0x08, 1, 0);
	/* remote mode: no stream, but read data (0xEB) gives a packet */
	to_mouse(0xf0);
	EXPECT(0xfa);
	misc_mouse_input(m, 7, 0, 0, 0);
	ck_assert(empty());
	to_mouse(0xeb);
	EXPECT(0xfa, 0x08, 7, 0);
	/* disabling reporting drops what was queued */
	to_mouse(0xea);
	to_mouse(0xf5);
	EXPECT(0xfa, 0xfa);
	misc_mouse_input(m, 9, 9, 0, 0);
	ck_assert(empty());
}
END_TEST

/* Hostile: a guest that sends commands forever without reading, and a
 * client that moves and clicks faster than the guest reads. */
START_TEST(test_floods)
{
	for (unsigned i = 0; i < 100000; i++)
		to_mouse(i & 1 ? 0xe9 : 0xff);
	unsigned n = 0;
	while (!empty() && n < 1000) {
		in(0x60);
		n++;
	}
	ck_assert_uint_le(n, 16); /* the controller's queue, no more */
	to_mouse(0xff);
	EXPECT(0xfa, 0xaa, 0x00);
	to_mouse(0xf4);
	EXPECT(0xfa);
	/* 100000 one-count moves, buttons toggling: the queued events stay
	 * within their fixed array, and what comes out is bounded too */
	for (unsigned i = 0; i < 100000; i++)
		misc_mouse_input(m, 1, 0, 0, i % 3 == 0 ? PS2_MOUSE_LEFT : 0);
	long dx = 0;
	n = 0;
	while (!empty() && n < 100000) {
		uint8_t p0 = aux_byte(), p1 = aux_byte(), p2 = aux_byte();
		ck_assert(p0 & 0x08);
		ck_assert(!(p0 & 0xc0)); /* split, never overflowing */
		dx += (p0 & 0x10) ? (long)p1 - 256 : p1;
		(void)p2;
		n++;
	}
	ck_assert_uint_lt(n, 2000);
	ck_assert_int_gt(dx, 0);
	ck_assert_int_le(dx, 100000);
	/* motion alone saturates: with the AUX clock off nothing leaves, and
	 * 100000 moves of 1000 with the same buttons are one event of 65535 */
	out(0x64, 0xa7);
	for (unsigned i = 0; i < 100000; i++)
		misc_mouse_input(m, 1000, -1000, 0, 0);
	out(0x64, 0xa8);
	dx = 0;
	n = 0;
	while (!empty() && n < 100000) {
		uint8_t p0 = aux_byte(), p1 = aux_byte();
		aux_byte();
		dx += (p0 & 0x10) ? (long)p1 - 256 : p1;
		n++;
	}
	ck_assert_int_eq(dx, 65535);
	/* extreme values do not overflow anything */
	out(0x64, 0xa7);
	misc_mouse_input(m, INT32_MAX, INT32_MIN, 0, 0);
	misc_mouse_input(m, INT32_MAX, INT32_MIN, 0, 0);
	out(0x64, 0xa8);
	n = 0;
	while (!empty() && n < 100000) {
		uint8_t p0 = aux_byte();
		aux_byte();
		aux_byte();
		ck_assert(p0 & 0x10 ? false : p0 & 0x20);
		n++;
	}
	ck_assert_uint_eq(n, 65535 / 255);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("PS/2 mouse");
	TCase *t = od_check_tcase(s, "core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_packet_encoding);
	tcase_add_test(t, test_commands);
	tcase_add_test(t, test_wheel);
	tcase_add_test(t, test_no_mouse_without_screen);
	tcase_add_test(t, test_motion_packets);
	tcase_add_test(t, test_floods);
	return od_check_run(s);
}
