/* serial.c - a 16550A UART (COM1 at 0x3f8, IRQ 4) for the guest console.
 *
 * Transmission is instant: a byte written to THR goes straight to the
 * console, so THR and the shift register always read empty.  That is what
 * firmware and kernels poll for, and it keeps the model small.  The
 * receive side has the 16-byte FIFO of a 16550A; console input that does
 * not fit is dropped, as a real UART would overrun.
 *
 * The interrupt line follows the IIR: asserted while any enabled interrupt
 * is pending.  Like QEMU we do not gate it with MCR.OUT2, so guests that
 * forget OUT2 still get interrupts. */
#include "config.h"
#include "runner/vmm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	UART_RBR = 0, UART_IER = 1, UART_IIR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08
#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MCR_LOOP 0x10
#define FIFO_SIZE 16

struct serial {
	struct vm *vm;
	uint16_t port;
	unsigned irq;
	int out_fd;    /* every byte (the console, or the log of a background run) */
	int client_fd; /* also to an attached console client, -1 none */
	uint8_t ier, lcr, mcr, msr, scr, fcr, dll, dlm;
	bool thr_ipending;
	int irq_level;
	uint8_t rx[FIFO_SIZE];
	unsigned rx_head, rx_count;
};

static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & 1) ? IIR_FIFO : 0;
	if ((s->ier & IER_RDI) && s->rx_count)
		return fifo | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thr_ipending)
		return fifo | IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr & 0x0f))
		return fifo | IIR_MSI;
	return fifo | IIR_NO_INT;
}

static void serial_update_irq(struct serial *s)
{
	int level = !(serial_iir(s) & IIR_NO_INT);
	if (level != s->irq_level) {
		s->irq_level = level;
		vm_set_irq(s->vm, s->irq, level);
	}
}

static void rx_push(struct serial *s, uint8_t b)
{
	if (s->rx_count == FIFO_SIZE)
		return; /* overrun */
	s->rx[(s->rx_head + s->rx_count) % FIFO_SIZE] = b;
	s->rx_count++;
}

static void transmit(struct serial *s, uint8_t b)
{
	if (s->mcr & MCR_LOOP) {
		/* loopback: what is sent is received; drivers probe with it */
		rx_push(s, b);
		return;
	}
	int fds[2] = {s->out_fd, s->client_fd};
	for (int i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		for (;;) {
			ssize_t r = write(fds[i], &b, 1);
			/* a console that fails (closed pipe, full disk, a
			 * client that does not read) loses output but must not
			 * stop the guest */
			if (r == 1 || (r < 0 && errno != EINTR))
				break;
		}
	}
}

/* MSR as seen by the guest: in loopback the modem inputs follow MCR. */
static uint8_t serial_msr(const struct serial *s)
{
	if (s->mcr & MCR_LOOP) {
		uint8_t m = s->mcr;
		return (s->msr & 0x0f) | ((m & 0x02) ? 0x10 : 0) | ((m & 0x01) ? 0x20 : 0) |
		       ((m & 0x04) ? 0x40 : 0) | ((m & 0x08) ? 0x80 : 0);
	}
	return (s->msr & 0x0f) | 0xb0; /* CTS, DSR, DCD: a terminal is attached */
}

static void serial_io(void *opaque, uint64_t addr, uint8_t *data, unsigned size, bool is_write)
{
	struct serial *s = opaque;
	unsigned reg = (unsigned)(addr - s->port) & 7;
	if (is_write) {
		uint8_t v = data[0];
		switch (reg) {
		case UART_RBR:
			if (s->lcr & LCR_DLAB) {
				s->dll = v;
				break;
			}
			transmit(s, v);
			/* the byte is gone at once: THR is empty again */
			s->thr_ipending = true;
			break;
		case UART_IER:
			if (s->lcr & LCR_DLAB) {
				s->dlm = v;
				break;
			}
			/* enabling THRI with THR empty raises it at once */
			if (!(s->ier & IER_THRI) && (v & IER_THRI))
				s->thr_ipending = true;
			s->ier = v & 0x0f;
			break;
		case UART_IIR: /* FCR */
			s->fcr = v & 0xc9;
			if (v & 0x02)
				s->rx_count = 0;
			break;
		case UART_LCR: s->lcr = v; break;
		case UART_MCR: s->mcr = v & 0x1f; break;
		case UART_LSR: break; /* read-only */
		case UART_MSR: break;
		case UART_SCR: s->scr = v; break;
		}
		serial_update_irq(s);
		return;
	}
	uint8_t v = 0xff;
	switch (reg) {
	case UART_RBR:
		if (s->lcr & LCR_DLAB) {
			v = s->dll;
		} else if (s->rx_count) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % FIFO_SIZE;
			s->rx_count--;
		} else {
			v = 0;
		}
		break;
	case UART_IER: v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier; break;
	case UART_IIR:
		v = serial_iir(s);
		/* reading IIR acknowledges a THR-empty interrupt */
		if ((v & 0x0f) == IIR_THRI)
			s->thr_ipending = false;
		break;
	case UART_LCR: v = s->lcr; break;
	case UART_MCR: v = s->mcr; break;
	case UART_LSR: v = LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0); break;
	case UART_MSR:
		v = serial_msr(s);
		s->msr &= 0xf0; /* delta bits clear on read */
		break;
	case UART_SCR: v = s->scr; break;
	}
	memset(data, 0, size);
	data[0] = v;
	serial_update_irq(s);
}

void serial_set_client(struct serial *s, int fd)
{
	s->client_fd = fd;
}

size_t serial_receive(struct serial *s, const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n && s->rx_count < FIFO_SIZE)
		rx_push(s, p[i++]);
	serial_update_irq(s);
	return i;
}

struct serial *serial_new(struct vm *vm, uint16_t port, unsigned irq, int out_fd, od_err *e)
{
	struct serial *s = calloc(1, sizeof *s);
	if (!s) {
		od_err_nomem(e);
		return NULL;
	}
	s->vm = vm;
	s->port = port;
	s->irq = irq;
	s->out_fd = out_fd;
	s->client_fd = -1;
	s->lcr = 0x03; /* 8N1 */
	s->dll = 0x0c; /* 9600 baud */
	if (vm_io_register(vm, VM_PIO, port, 8, serial_io, s, e) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void serial_free(struct serial *s)
{
	if (!s)
		return;
	vm_io_unregister(s->vm, VM_PIO, s->port, s);
	free(s);
}
