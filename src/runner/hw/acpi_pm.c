/* acpi_pm.c - the ACPI fixed-hardware power-management block the FADT
 * points at (ACPI_PM_BASE):
 *   +0 PM1a_STS (2)  status, write 1 to clear: TMR_STS bit 0, PWRBTN_STS
 *                    bit 8, WAK_STS bit 15
 *   +2 PM1a_EN  (2)  which status bits raise the SCI: TMR_EN, GBL_EN bit 5,
 *                    PWRBTN_EN, RTC_EN bit 10 keep what the OS writes (an OS
 *                    reads them back to see that the event exists: Linux
 *                    disables the ACPI global lock when GBL_EN does not
 *                    stick); the global lock and RTC events never fire
 *   +4 PM1a_CNT (2)  SCI_EN bit 0 (always 1: there is no SMI command port,
 *                    the machine is in ACPI mode from the start), SLP_TYP
 *                    bits 10-12, SLP_EN bit 13
 *   +8 PM_TMR   (4)  24-bit counter at 3.579545 MHz
 * Writing SLP_EN with SLP_TYP 0 (the \_S5 value in dsdt.asl) powers the
 * machine off: the run ends with VM_END_POWEROFF.  Other sleep states are
 * not offered.  The SCI is level-triggered on IRQ 9 while STS & EN. */
#include "config.h"
#include "runner/acpi.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STS_TMR 0x0001
#define STS_PWRBTN 0x0100
#define EN_GBL 0x0020
#define EN_RTC 0x0400
#define CNT_SCI_EN 0x0001
#define CNT_SLP_EN 0x2000

struct acpi_pm {
	struct vm *vm;
	uint16_t sts, en, cnt;
	int sci;
};

static void update_sci(struct acpi_pm *p)
{
	int level = (p->sts & p->en) != 0;
	if (level != p->sci) {
		p->sci = level;
		vm_set_irq(p->vm, ACPI_SCI_IRQ, level);
	}
}

static uint32_t pm_timer(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* ticks = ns * 3579545 / 1e9, without overflowing for centuries */
	unsigned __int128 ns = (unsigned __int128)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return (uint32_t)(ns * 3579545u / 1000000000u) & 0xffffff;
}

static void pm_io(void *opaque, uint64_t port, uint8_t *data, unsigned size, bool is_write)
{
	struct acpi_pm *p = opaque;
	unsigned off = (unsigned)(port - ACPI_PM_BASE);
	uint8_t regs[12];
	regs[0] = p->sts; regs[1] = p->sts >> 8;
	regs[2] = p->en; regs[3] = p->en >> 8;
	regs[4] = p->cnt; regs[5] = p->cnt >> 8;
	regs[6] = regs[7] = 0;
	uint32_t t = pm_timer();
	memcpy(regs + 8, &t, 4);
	if (size > sizeof regs - off)
		size = sizeof regs - off;
	if (!is_write) {
		memcpy(data, regs + off, size);
		return;
	}
	/* apply the written bytes to a copy, then act per register */
	uint8_t w[12];
	memcpy(w, regs, sizeof w);
	memcpy(w + off, data, size);
	uint16_t clear = 0; /* status bits: written ones clear */
	for (unsigned i = 0; i < size; i++)
		if (off + i < 2)
			clear |= (uint16_t)(data[i] << (8 * (off + i)));
	p->sts &= ~clear;
	if (off < 4 && off + size > 2)
		p->en = (uint16_t)(w[2] | w[3] << 8) & (STS_TMR | EN_GBL | STS_PWRBTN | EN_RTC);
	if (off < 6 && off + size > 4) {
		uint16_t cnt = (uint16_t)(w[4] | w[5] << 8);
		p->cnt = (cnt & ~CNT_SLP_EN) | CNT_SCI_EN;
		if ((cnt & CNT_SLP_EN) && ((cnt >> 10) & 7) == 0)
			vm_request_end(p->vm, VM_END_POWEROFF);
	}
	update_sci(p);
}

void acpi_pm_power_button(struct acpi_pm *p)
{
	p->sts |= STS_PWRBTN;
	update_sci(p);
}

struct acpi_pm *acpi_pm_new(struct vm *vm, od_err *e)
{
	struct acpi_pm *p = calloc(1, sizeof *p);
	if (!p) {
		od_err_nomem(e);
		return NULL;
	}
	p->vm = vm;
	p->cnt = CNT_SCI_EN;
	if (vm_io_register(vm, VM_PIO, ACPI_PM_BASE, 12, pm_io, p, e) < 0) {
		free(p);
		return NULL;
	}
	return p;
}

void acpi_pm_free(struct acpi_pm *p)
{
	if (!p)
		return;
	vm_io_unregister(p->vm, VM_PIO, ACPI_PM_BASE, p);
	free(p);
}
