/* cmos.c - the MC146818 RTC and its CMOS RAM at ports 0x70/0x71.
 *
 * Firmware reads the memory size and the date from here.  The clock reads
 * the host's UTC time on every access, so it never needs a timer; the
 * update-in-progress bit is never set (a guest waiting for it would
 * otherwise spin).  Alarm and periodic interrupts are not emulated.
 *
 * Memory registers, in the layout QEMU's PC uses and SeaBIOS reads:
 *   0x15/0x16  base memory in KiB (640)
 *   0x17/0x18, 0x30/0x31  extended memory above 1 MiB in KiB, max 0xFFFF
 *   0x34/0x35  memory above 16 MiB below 4 GiB, in 64 KiB units
 *   0x5b-0x5d  memory above 4 GiB, in 64 KiB units (3 bytes)
 *   0x5f       number of CPUs minus one */
#include "config.h"
#include "runner/vmm.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cmos {
	struct vm *vm;
	uint8_t index;
	uint8_t ram[128];
};

static uint8_t to_bcd(const struct cmos *c, unsigned v)
{
	if (c->ram[0x0b] & 0x04) /* DM: binary mode */
		return (uint8_t)v;
	return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

/* UTC calendar fields from the Unix time, computed here rather than with
 * gmtime_r(): glibc may open the time zone file on the way, and the vCPU
 * thread that reads the clock is not allowed to open files (sandbox.c).
 * Days are counted in 400-year eras of 146097 days starting in March, so
 * that February, with its leap day, is the last month of a year. */
struct civil {
	int year, mon, mday, hour, min, sec, wday; /* mon 1-12, wday 0 = Sunday */
};

static void civil_from_unix(int64_t t, struct civil *cv)
{
	int64_t days = t / 86400, rem = t % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	cv->hour = (int)(rem / 3600);
	cv->min = (int)(rem / 60 % 60);
	cv->sec = (int)(rem % 60);
	cv->wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
	int64_t z = days + 719468; /* days since 0000-03-01 */
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;                                   /* [0, 146096] */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);              /* [0, 365] */
	int64_t mp = (5 * doy + 2) / 153;                                 /* March = 0 */
	cv->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	cv->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	cv->year = (int)(yoe + era * 400 + (cv->mon <= 2));
}

static uint8_t cmos_read(struct cmos *c, unsigned reg)
{
	struct civil tm;
	civil_from_unix((int64_t)time(NULL), &tm);
	switch (reg) {
	case 0x00: return to_bcd(c, tm.sec);
	case 0x02: return to_bcd(c, tm.min);
	case 0x04:
		if (c->ram[0x0b] & 0x02) /* 24-hour mode */
			return to_bcd(c, tm.hour);
		{
			unsigned h = tm.hour % 12 ? tm.hour % 12 : 12;
			return to_bcd(c, h) | (tm.hour >= 12 ? 0x80 : 0);
		}
	case 0x06: return to_bcd(c, tm.wday + 1);
	case 0x07: return to_bcd(c, tm.mday);
	case 0x08: return to_bcd(c, tm.mon);
	case 0x09: return to_bcd(c, tm.year % 100);
	case 0x32: return to_bcd(c, tm.year / 100);
	case 0x0a: return c->ram[0x0a] & 0x7f; /* never "update in progress" */
	case 0x0c: {
		uint8_t v = c->ram[0x0c];
		c->ram[0x0c] = 0; /* flags clear on read */
		return v;
	}
	case 0x0d: return 0x80; /* battery good */
	default: return c->ram[reg];
	}
}

static void cmos_io(void *opaque, uint64_t addr, uint8_t *data, unsigned size, bool is_write)
{
	struct cmos *c = opaque;
	if (addr == 0x70) {
		if (is_write)
			c->index = data[0] & 0x7f; /* bit 7 masks NMI: ignored */
		else
			memset(data, 0xff, size);
		return;
	}
	if (is_write) {
		switch (c->index) {
		case 0x00: case 0x02: case 0x04: case 0x06: case 0x07: case 0x08: case 0x09: case 0x32:
		case 0x0c: case 0x0d:
			break; /* the clock follows the host; flags are read-only */
		default:
			c->ram[c->index] = data[0];
		}
		return;
	}
	memset(data, 0, size);
	data[0] = cmos_read(c, c->index);
}

struct cmos *cmos_new(struct vm *vm, uint64_t low_ram, uint64_t high_ram, unsigned ncpus, od_err *e)
{
	struct cmos *c = calloc(1, sizeof *c);
	if (!c) {
		od_err_nomem(e);
		return NULL;
	}
	c->vm = vm;
	c->ram[0x0a] = 0x26; /* 32.768 kHz base, 1024 Hz rate */
	c->ram[0x0b] = 0x02; /* 24-hour, BCD */
	c->ram[0x0d] = 0x80;
	c->ram[0x10] = 0x00; /* no floppy drives */
	c->ram[0x14] = 0x06; /* equipment: FPU, display EGA/VGA */
	c->ram[0x15] = 640 & 0xff;
	c->ram[0x16] = 640 >> 8;
	uint64_t ext = low_ram > (1u << 20) ? (low_ram - (1u << 20)) >> 10 : 0;
	if (ext > 0xffff)
		ext = 0xffff;
	c->ram[0x17] = c->ram[0x30] = ext & 0xff;
	c->ram[0x18] = c->ram[0x31] = ext >> 8;
	uint64_t above16 = low_ram > (16u << 20) ? (low_ram - (16u << 20)) >> 16 : 0;
	if (above16 > 0xffff)
		above16 = 0xffff;
	c->ram[0x34] = above16 & 0xff;
	c->ram[0x35] = above16 >> 8;
	uint64_t above4g = high_ram >> 16;
	if (above4g > 0xffffff)
		above4g = 0xffffff;
	c->ram[0x5b] = above4g & 0xff;
	c->ram[0x5c] = (above4g >> 8) & 0xff;
	c->ram[0x5d] = (above4g >> 16) & 0xff;
	c->ram[0x5f] = ncpus ? (uint8_t)(ncpus - 1) : 0;
	if (vm_io_register(vm, VM_PIO, 0x70, 2, cmos_io, c, e) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

void cmos_free(struct cmos *c)
{
	if (!c)
		return;
	vm_io_unregister(c->vm, VM_PIO, 0x70, c);
	free(c);
}
