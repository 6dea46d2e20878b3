/* smbios.c - the SMBIOS tables we hand SeaBIOS through fw_cfg, as QEMU
 * does: etc/smbios/smbios-anchor (an SMBIOS 2.1 entry point, which every
 * SeaBIOS since 1.7 accepts) and etc/smbios/smbios-tables (the structures).
 * SeaBIOS adds its own type 0 (BIOS information) in front, fills in the
 * table's address and fixes the checksums.
 *
 * Why we build them at all: without these files SeaBIOS builds the tables
 * itself, and that code asks fw_cfg for every field of every structure by
 * name and then looks for "smbios/table<N>-" files for all 256 types, each
 * a formatted string and a walk over the file list.  Under PVM every
 * instruction of it is emulated: some 380,000 instructions, about 0.4 s,
 * a quarter of the time to the firmware's banner.  Copying ready tables
 * costs almost nothing.
 *
 * The contents describe the machine kvm.c builds and keep the identity
 * SeaBIOS's own tables gave before ("QEMU" as manufacturer and product,
 * no UUID), so a guest that looks at DMI sees the same machine:
 *   type 1    system information
 *   type 3    chassis
 *   type 4    one processor package with `ncpus` cores (as our CPUID
 *             topology says: one package, one thread per core)
 *   type 16   the physical memory array
 *   type 17   memory devices of at most 16 GiB each (as QEMU splits RAM)
 *   type 19   one mapped range per RAM slot (below the PCI hole, above
 *             4 GiB)
 *   type 32   boot information: no errors
 *   type 127  end of table
 * Layouts are those of SMBIOS 2.8. */
#include "config.h"
#include "runner/smbios.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VENDOR "QEMU"
#define DIMM_MB 16384u
#define MAX_RAM (1ull << 40) /* vm_run's limit; keeps every count small */

struct writer {
	uint8_t *buf;
	size_t len, cap;
	size_t cur;       /* start of the structure being written */
	unsigned nstr;    /* its strings so far */
	unsigned count;   /* structures */
	unsigned max;     /* largest structure, strings included */
	bool overflow;
};


static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

/* n more zeroed bytes, or NULL once the buffer is full (then the build
 * fails at the end).  The buffer is sized from the machine and never
 * grown: pointers into it stay valid while a structure is filled. */
static uint8_t *take(struct writer *w, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return NULL;
	}
	uint8_t *p = w->buf + w->len;
	memset(p, 0, n);
	w->len += n;
	return p;
}

/* A structure's formatted part, zeroed, with its header filled. */
static uint8_t *begin(struct writer *w, uint8_t type, uint8_t len, uint16_t handle)
{
	w->cur = w->len;
	w->nstr = 0;
	uint8_t *p = take(w, len);
	if (p) {
		p[0] = type;
		p[1] = len;
		od_st16(p + 2, handle);
	}
	return p;
}

/* Append a string to the structure's string set; returns its number. */
static uint8_t str(struct writer *w, const char *s)
{
	size_t n = strlen(s) + 1;
	uint8_t *p = take(w, n);
	if (p)
		memcpy(p, s, n);
	return (uint8_t)++w->nstr;
}

/* The string set ends with an empty string; with no strings at all the
 * set is just two NULs. */
static void end(struct writer *w)
{
	take(w, w->nstr ? 1 : 2);
	if (w->overflow)
		return;
	size_t size = w->len - w->cur;
	if (size > w->max)
		w->max = (unsigned)size;
	w->count++;
}

int smbios_build(struct smbios_tables *s, const struct smbios_machine *m, od_err *e)
{
	memset(s, 0, sizeof *s);
	if (m->ncpus < 1 || m->ncpus > SMBIOS_MAX_CPUS)
		return od_err_set(e, OD_E_USAGE, "SMBIOS: %u CPUs", m->ncpus);
	uint64_t total = m->low_ram + m->high_ram;
	if (m->low_ram == 0 || total < m->low_ram || total > MAX_RAM)
		return od_err_set(e, OD_E_USAGE, "SMBIOS: %llu bytes of RAM", (unsigned long long)total);
	uint64_t total_mb = total >> 20;
	unsigned ndimms = (unsigned)((total_mb + DIMM_MB - 1) / DIMM_MB);
	if (ndimms == 0)
		ndimms = 1;

	/* every structure below with its strings fits 128 bytes */
	struct writer w = { .cap = 128 * (8 + (size_t)ndimms) };
	w.buf = calloc(1, w.cap);
	if (!w.buf)
		return od_err_nomem(e);
	uint8_t *p;
	char name[32];

	/* type 1: system information; a zero UUID means "not set" */
	const char *vendor = m->manufacturer ? m->manufacturer : VENDOR;
	if ((p = begin(&w, 1, 0x1b, 0x100))) {
		p[0x04] = str(&w, vendor); /* manufacturer */
		p[0x05] = str(&w, m->product ? m->product : VENDOR); /* product */
		if (m->serial)
			p[0x07] = str(&w, m->serial);
		p[0x18] = 0x06;            /* woken by the power switch */
	}
	end(&w);

	/* type 3: chassis */
	if ((p = begin(&w, 3, 0x16, 0x300))) {
		p[0x04] = str(&w, vendor);
		p[0x05] = 0x01; /* type: other */
		p[0x09] = 0x03; /* boot-up state: safe */
		p[0x0a] = 0x03; /* power supply: safe */
		p[0x0b] = 0x03; /* thermal: safe */
		p[0x0c] = 0x02; /* security: unknown */
		p[0x14] = 3;    /* contained element record length; none follow */
	}
	end(&w);

	/* type 4: the processor package */
	if ((p = begin(&w, 4, 0x2a, 0x400))) {
		p[0x04] = str(&w, "CPU 0"); /* socket */
		p[0x05] = 0x03;             /* central processor */
		p[0x06] = 0x01;             /* family: other */
		p[0x07] = str(&w, vendor);
		od_st32(p + 0x08, m->cpuid_1_eax);
		od_st32(p + 0x0c, m->cpuid_1_edx);
		od_st16(p + 0x14, 2000); /* max speed, MHz: unknown to us, QEMU's figure */
		od_st16(p + 0x16, 2000); /* current speed */
		p[0x18] = 0x41;       /* socket populated, CPU enabled */
		p[0x19] = 0x01;       /* upgrade: other */
		od_st16(p + 0x1a, 0xffff); /* no cache structures */
		od_st16(p + 0x1c, 0xffff);
		od_st16(p + 0x1e, 0xffff);
		p[0x23] = (uint8_t)m->ncpus; /* cores */
		p[0x24] = (uint8_t)m->ncpus; /* cores enabled */
		p[0x25] = (uint8_t)m->ncpus; /* threads */
		od_st16(p + 0x26, 0x0002);      /* characteristics: unknown */
		od_st16(p + 0x28, 0x0001);      /* family 2: other */
	}
	end(&w);

	/* type 16: the memory array, capacity in KiB (or bytes, extended) */
	if ((p = begin(&w, 16, 0x17, 0x1000))) {
		p[0x04] = 0x01; /* location: other */
		p[0x05] = 0x03; /* use: system memory */
		p[0x06] = 0x03; /* error correction: none */
		uint64_t kib = total >> 10;
		if (kib < 0x80000000u) {
			od_st32(p + 0x07, (uint32_t)kib);
		} else {
			od_st32(p + 0x07, 0x80000000u);
			od_st64(p + 0x0f, total);
		}
		od_st16(p + 0x0b, 0xfffe); /* no error information structure */
		od_st16(p + 0x0d, (uint16_t)ndimms);
	}
	end(&w);

	/* type 17: memory devices, size in MiB */
	for (unsigned i = 0; i < ndimms; i++) {
		uint64_t mb = i + 1 < ndimms ? DIMM_MB : total_mb - (uint64_t)DIMM_MB * i;
		if ((p = begin(&w, 17, 0x28, (uint16_t)(0x1100 + i)))) {
			od_st16(p + 0x04, 0x1000); /* the array */
			od_st16(p + 0x06, 0xfffe);
			od_st16(p + 0x08, 64);     /* total width, bits */
			od_st16(p + 0x0a, 64);     /* data width */
			if (mb < 0x7fff) {
				od_st16(p + 0x0c, (uint16_t)mb);
			} else {
				od_st16(p + 0x0c, 0x7fff);
				od_st32(p + 0x1c, (uint32_t)mb);
			}
			p[0x0e] = 0x09; /* DIMM */
			snprintf(name, sizeof name, "DIMM %u", i);
			p[0x10] = str(&w, name);
			p[0x12] = 0x07; /* type: RAM */
			od_st16(p + 0x13, 0x0002); /* type detail: other */
		}
		end(&w);
	}

	/* type 19: where RAM is mapped, in KiB; inclusive end */
	struct { uint64_t start, len; } range[2] = { { 0, m->low_ram }, { 1ull << 32, m->high_ram } };
	for (unsigned i = 0; i < 2; i++) {
		if (!range[i].len)
			continue;
		if ((p = begin(&w, 19, 0x1f, (uint16_t)(0x1300 + i)))) {
			uint64_t first = range[i].start, last = range[i].start + range[i].len - 1;
			if ((last >> 10) < 0xffffffffu) {
				od_st32(p + 0x04, (uint32_t)(first >> 10));
				od_st32(p + 0x08, (uint32_t)(last >> 10));
			} else {
				od_st32(p + 0x04, 0xffffffffu);
				od_st32(p + 0x08, 0xffffffffu);
				od_st64(p + 0x0f, first);
				od_st64(p + 0x17, last);
			}
			od_st16(p + 0x0c, 0x1000);
			p[0x0e] = (uint8_t)ndimms; /* partition width */
		}
		end(&w);
	}

	/* type 32: boot information, no errors */
	begin(&w, 32, 0x0b, 0x2000);
	end(&w);
	begin(&w, 127, 4, 0x7f00);
	end(&w);

	if (w.overflow || w.len > 0xffff) {
		free(w.buf);
		return od_err_set(e, OD_E_INTERNAL, "SMBIOS: tables do not fit %zu bytes", w.cap);
	}
	s->tables = w.buf;
	s->tables_len = (uint32_t)w.len;
	s->count = w.count;

	/* the entry point; the table address is the firmware's to fill */
	uint8_t *a = s->anchor;
	memcpy(a, "_SM_", 4);
	a[0x05] = SMBIOS_ANCHOR_LEN;
	a[0x06] = 2;
	a[0x07] = 8;
	od_st16(a + 0x08, (uint16_t)w.max);
	memcpy(a + 0x10, "_DMI_", 5);
	od_st16(a + 0x16, (uint16_t)w.len);
	od_st16(a + 0x1c, (uint16_t)w.count);
	a[0x1e] = 0x28;
	a[0x15] = (uint8_t)-sum8(a + 0x10, SMBIOS_ANCHOR_LEN - 0x10);
	a[0x04] = (uint8_t)-sum8(a, SMBIOS_ANCHOR_LEN);
	return 0;
}

void smbios_free(struct smbios_tables *s)
{
	free(s->tables);
	s->tables = NULL;
}
