/* misc.c - the small legacy devices of a PC that firmware and boot loaders
 * poke at:
 *   0x80         POST code port: accepted and ignored (also used as a delay)
 *   0x402        firmware debug log (QEMU's debugcon): bytes go to a file;
 *                reads return 0xE9, which is how SeaBIOS detects the port.
 *                Only there when a log is wanted, as QEMU's debugcon is
 *                only there when asked for: SeaBIOS that finds the port
 *                writes its whole log to it, one exit per byte (some 1500
 *                before its banner, 2700 before it boots a disk), each a
 *                round trip to this process for a byte we would drop.
 *   0x92         system control port A: bit 0 resets, bit 1 is A20 (KVM has
 *                no A20 gate, so it only reads back)
 *   0xCF9        PIIX reset control register: bit 2 resets
 *   0x60, 0x64   an i8042 keyboard controller with a keyboard, and an AUX
 *                port: enough for firmware's self tests and keyboard
 *                set-up, and the reset line (command 0xFE, or output port
 *                bit 0).  The AUX port exists as on a PC (its loopback
 *                command 0xD3 answers, on IRQ 12), so that an OS finds the
 *                port the DSDT declares.  On a machine with a screen a PS/2
 *                mouse is plugged in (ps2_mouse.c): bytes sent to it (0xD4)
 *                get its replies, and its motion packets come in whole,
 *                with the AUX flag, on IRQ 12 when the command byte enables
 *                it, and only while the AUX clock is on (0xA8).  Without a
 *                screen a byte for the mouse comes back as 0xFE with the
 *                time-out flag, as from an empty PS/2 socket.
 * Every reset ends the run (VM_END_RESET).
 *
 * Test builds only (OD_SANDBOX_TEST_HOOK, tests/runner/ovfdeploy_hook,
 * never the installed binary): port 0x5E0 makes the vCPU thread do what a
 * guest exploit would, so tests can show the seccomp filter stopping it. */
#include "config.h"
#include "runner/vmm.h"

#include <errno.h>
#ifdef OD_SANDBOX_TEST_HOOK
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KBD_QUEUE 16

struct misc {
	struct vm *vm;
	int fwlog_fd;
	uint8_t port92, rcr;
	/* i8042 */
	uint8_t ctr;          /* controller configuration ("command byte") */
	uint8_t pending_cmd;  /* controller command waiting for its data byte */
	uint8_t pending_kbd;  /* keyboard command waiting for its argument */
	bool last_was_cmd;
	uint8_t q[KBD_QUEUE];
	uint8_t qst[KBD_QUEUE]; /* status bits of each byte: AUX, time-out */
	uint8_t last; /* the output buffer keeps its byte after a read */
	unsigned qhead, qcount;
	int irq1, irq12;
	bool has_mouse;
	struct ps2_mouse mouse;
};

#define ST_AUX 0x20
#define ST_TIMEOUT 0x40

/* IRQ 1 for a keyboard byte, IRQ 12 for an AUX byte, as the CTR enables */
static void kbd_irq(struct misc *m)
{
	bool aux = m->qcount && (m->qst[m->qhead] & ST_AUX);
	int level1 = m->qcount && !aux && (m->ctr & 0x01);
	int level12 = aux && (m->ctr & 0x02);
	if (level1 != m->irq1) {
		m->irq1 = level1;
		vm_set_irq(m->vm, 1, level1);
	}
	if (level12 != m->irq12) {
		m->irq12 = level12;
		vm_set_irq(m->vm, 12, level12);
	}
}

static void queue_push(struct misc *m, uint8_t b, uint8_t st)
{
	if (m->qcount == KBD_QUEUE)
		return;
	m->q[(m->qhead + m->qcount) % KBD_QUEUE] = b;
	m->qst[(m->qhead + m->qcount) % KBD_QUEUE] = st;
	m->qcount++;
}

static void kbd_push(struct misc *m, uint8_t b) { queue_push(m, b, 0); }

/* Motion packets into the output queue, whole, while there is room: a
 * packet split by a full queue would leave the guest's driver out of step.
 * Not while the AUX clock is off (the guest is talking to the controller)
 * or a controller command waits for its data byte. */
static void mouse_pump(struct misc *m)
{
	uint8_t p[PS2_MOUSE_PACKET_MAX];
	size_t n = ps2_mouse_packet_size(&m->mouse);
	while (m->has_mouse && !(m->ctr & 0x20) && !m->pending_cmd && KBD_QUEUE - m->qcount >= n &&
	       ps2_mouse_next_packet(&m->mouse, p))
		for (size_t i = 0; i < n; i++)
			queue_push(m, p[i], ST_AUX);
}

void misc_attach_mouse(struct misc *m)
{
	m->has_mouse = true;
	ps2_mouse_reset(&m->mouse);
}

void misc_mouse_input(struct misc *m, int dx, int dy, int dz, unsigned buttons)
{
	if (!m->has_mouse)
		return;
	ps2_mouse_move(&m->mouse, dx, dy, dz, buttons);
	mouse_pump(m);
	kbd_irq(m);
}

/* A byte for the mouse (controller command 0xD4).  Its replies are not
 * split either: a guest that floods commands without reading gets what
 * fits, as the queue of a real controller overflows. */
static void mouse_write(struct misc *m, uint8_t v)
{
	if (!m->has_mouse) {
		queue_push(m, 0xfe, ST_AUX | ST_TIMEOUT); /* no mouse */
		return;
	}
	uint8_t r[PS2_MOUSE_REPLY_MAX];
	size_t n = ps2_mouse_write(&m->mouse, v, r);
	for (size_t i = 0; i < n; i++)
		queue_push(m, r[i], ST_AUX);
}

bool misc_kbd_input(struct misc *m, const uint8_t *codes, size_t n)
{
	/* a key's bytes go in whole or not at all: half a sequence would
	 * leave the guest's driver out of step */
	if (m->ctr & 0x10 || n > KBD_QUEUE - m->qcount)
		return false; /* keyboard disabled, or the guest has not read yet */
	for (size_t i = 0; i < n; i++)
		kbd_push(m, codes[i]);
	kbd_irq(m);
	return true;
}

static void kbd_command(struct misc *m, uint8_t v)
{
	if (m->pending_kbd) {
		uint8_t cmd = m->pending_kbd;
		m->pending_kbd = 0;
		kbd_push(m, 0xfa);
		if (cmd == 0xf0 && v == 0)
			kbd_push(m, 0x02); /* current scan code set */
		return;
	}
	switch (v) {
	case 0xff: kbd_push(m, 0xfa); kbd_push(m, 0xaa); break; /* reset, self test passed */
	case 0xf2: kbd_push(m, 0xfa); kbd_push(m, 0xab); kbd_push(m, 0x83); break; /* MF2 keyboard */
	case 0xee: kbd_push(m, 0xee); break;
	case 0xed: case 0xf3: case 0xf0:
		m->pending_kbd = v;
		kbd_push(m, 0xfa);
		break;
	default: kbd_push(m, 0xfa); break;
	}
}

static void i8042_io(struct misc *m, uint64_t port, uint8_t *data, unsigned size, bool is_write)
{
	if (!is_write) {
		memset(data, 0, size);
		if (port == 0x64) {
			/* SYS flag and "not inhibited" always; OBF when a byte waits */
			data[0] = 0x14 | (m->qcount ? 0x01 | m->qst[m->qhead] : 0) | (m->last_was_cmd ? 0x08 : 0);
		} else if (!m->qcount) {
			data[0] = m->last;
		} else {
			data[0] = m->last = m->q[m->qhead];
			m->qhead = (m->qhead + 1) % KBD_QUEUE;
			m->qcount--;
			/* lower the lines so that a following byte is a new edge */
			if (m->irq1) {
				m->irq1 = 0;
				vm_set_irq(m->vm, 1, 0);
			}
			if (m->irq12) {
				m->irq12 = 0;
				vm_set_irq(m->vm, 12, 0);
			}
			mouse_pump(m);
		}
		kbd_irq(m);
		return;
	}
	uint8_t v = data[0];
	if (port == 0x64) {
		m->last_was_cmd = true;
		switch (v) {
		case 0x20: kbd_push(m, m->ctr); break;
		case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4: m->pending_cmd = v; break;
		case 0xa7: m->ctr |= 0x20; break;
		case 0xa8: m->ctr &= ~0x20; mouse_pump(m); break;
		case 0xa9: kbd_push(m, 0x00); break; /* aux interface test passed */
		case 0xaa: kbd_push(m, 0x55); break; /* controller self test passed */
		case 0xab: kbd_push(m, 0x00); break; /* keyboard interface test passed */
		case 0xad: m->ctr |= 0x10; break;
		case 0xae: m->ctr &= ~0x10; break;
		case 0xd0: kbd_push(m, 0x03); break; /* output port: reset line high, A20 on */
		default:
			/* 0xF0-0xFF pulse output port lines; bit 0 low is reset */
			if (v >= 0xf0 && !(v & 0x01))
				vm_request_reset(m->vm, "i8042 pulsed the reset line");
			break;
		}
		kbd_irq(m);
		return;
	}
	m->last_was_cmd = false;
	uint8_t cmd = m->pending_cmd;
	m->pending_cmd = 0;
	switch (cmd) {
	case 0x60: m->ctr = v; mouse_pump(m); break;
	case 0xd1:
		if (!(v & 0x01))
			vm_request_reset(m->vm, "i8042 output port: reset line low");
		break;
	case 0xd2: kbd_push(m, v); break;
	case 0xd3: queue_push(m, v, ST_AUX); break;                /* AUX loopback */
	case 0xd4: mouse_write(m, v); break;
	default: kbd_command(m, v); break;
	}
	kbd_irq(m);
}

#ifdef OD_SANDBOX_TEST_HOOK
#define HOOK_PORT 0x5e0
/* Written value: what to attempt from this (vCPU) thread.  Read: the result
 * of the last attempt, 1 = the call succeeded, 0 = it failed (the process
 * is killed before a forbidden call returns). */
static uint8_t hook_result;
static void sandbox_hook(struct misc *m, uint8_t what)
{
	static const char marker[] = "OD sandbox test hook";
	int r = -1;
	switch (what) {
	case 1: /* a network connection out of the guest's reach */
		r = socket(AF_INET, SOCK_STREAM, 0);
		break;
	case 2: { /* run a program */
		char *const argv[] = { (char *)"true", NULL };
		r = execve("/bin/true", argv, argv + 1);
		break;
	}
	case 3: /* a new vCPU: only KVM_RUN and the interrupt ioctls pass */
		r = ioctl(m->vm->vm_fd, KVM_CREATE_VCPU, 31ul);
		break;
	case 4: { /* executable memory for injected code */
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		r = p == MAP_FAILED ? -1 : 0;
		break;
	}
	case 5: /* open a host file: refused, without a kill (see sandbox.c) */
		r = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
		break;
	case 6: /* write to a descriptor the vCPU legitimately has: allowed */
		r = m->fwlog_fd >= 0 ? (int)write(m->fwlog_fd, marker, sizeof marker - 1) : 0;
		break;
	}
	hook_result = r >= 0;
	if (what == 5 && r >= 0)
		close(r);
}
#endif

static void misc_io(void *opaque, uint64_t port, uint8_t *data, unsigned size, bool is_write)
{
	struct misc *m = opaque;
	switch (port) {
#ifdef OD_SANDBOX_TEST_HOOK
	case HOOK_PORT:
		if (is_write)
			sandbox_hook(m, data[0]);
		else {
			memset(data, 0, size);
			data[0] = hook_result;
		}
		return;
#endif
	case 0x80:
		if (!is_write)
			memset(data, 0xff, size);
		return;
	case 0x402:
		if (!is_write) {
			memset(data, 0, size);
			data[0] = 0xe9;
		} else if (m->fwlog_fd >= 0) {
			ssize_t r;
			do
				r = write(m->fwlog_fd, data, 1);
			while (r < 0 && errno == EINTR);
		}
		return;
	case 0x92:
		if (is_write) {
			m->port92 = data[0] & ~0x01;
			if (data[0] & 0x01)
				vm_request_reset(m->vm, "port 0x92 fast reset");
		} else {
			memset(data, 0, size);
			data[0] = m->port92;
		}
		return;
	case 0xcf9:
		if (is_write) {
			m->rcr = data[0] & 0x0a;
			if (data[0] & 0x04)
				vm_request_reset(m->vm, "reset control register (port 0xcf9)");
		} else {
			memset(data, 0, size);
			data[0] = m->rcr;
		}
		return;
	case 0x60:
	case 0x64:
		i8042_io(m, port, data, size, is_write);
		return;
	}
}

static const uint16_t misc_ports[] = {
	0x60, 0x64, 0x80, 0x92, 0x402, 0xcf9,
#ifdef OD_SANDBOX_TEST_HOOK
	HOOK_PORT,
#endif
};

/* Whether misc_ports[i] is ours in this VM: 0x402 only with a log. */
static bool port_wanted(const struct misc *m, unsigned i)
{
	return misc_ports[i] != 0x402 || m->fwlog_fd >= 0;
}

struct misc *misc_new(struct vm *vm, int fwlog_fd, od_err *e)
{
	struct misc *m = calloc(1, sizeof *m);
	if (!m) {
		od_err_nomem(e);
		return NULL;
	}
	m->vm = vm;
	m->fwlog_fd = fwlog_fd;
	m->port92 = 0x02;
	/* keyboard interrupt enabled, translation on, system flag */
	m->ctr = 0x45;
	for (unsigned i = 0; i < sizeof misc_ports / sizeof misc_ports[0]; i++) {
		if (!port_wanted(m, i))
			continue;
		if (vm_io_register(vm, VM_PIO, misc_ports[i], 1, misc_io, m, e) < 0) {
			while (i--)
				vm_io_unregister(vm, VM_PIO, misc_ports[i], m); /* no-op if absent */
			free(m);
			return NULL;
		}
	}
	return m;
}

void misc_free(struct misc *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < sizeof misc_ports / sizeof misc_ports[0]; i++)
		vm_io_unregister(m->vm, VM_PIO, misc_ports[i], m);
	free(m);
}
