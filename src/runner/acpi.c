/* acpi.c - the ACPI tables we give the guest, through fw_cfg in the form
 * SeaBIOS's table loader expects (as QEMU does):
 *
 *   etc/acpi/tables  one blob: FACS, DSDT, FADT, MADT, RSDT
 *   etc/acpi/rsdp    the RSDP (ACPI 1.0, 20 bytes: RSDT only)
 *   etc/table-loader 128-byte commands: allocate the two blobs (the RSDP
 *                    in the F segment where OSes look for it), add the
 *                    blobs' final addresses to the pointers between tables,
 *                    then fix each checksum.
 *
 * Pointers are stored as offsets into the tables blob; the loader adds the
 * blob's address.  Checksums are left at 0 for the loader to set, but we
 * also compute them as if the blob were at address 0 so that a unit test
 * can check the tables without a firmware (acpi_tables_finish).
 *
 * The DSDT is dsdt.asl, compiled by iasl at build time. */
#include "config.h"
#include "runner/acpi.h"

#include <stdlib.h>
#include <string.h>

#include "src/runner/dsdt.hex"

#define LOADER_ALLOCATE 1
#define LOADER_ADD_POINTER 2
#define LOADER_ADD_CHECKSUM 3
#define LOADER_ZONE_HIGH 1
#define LOADER_ZONE_FSEG 2
#define LOADER_FILE 56

static const char TABLES[] = "etc/acpi/tables";
static const char RSDP[] = "etc/acpi/rsdp";


static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	od_st32(t + 4, len);
	t[8] = rev;
	t[9] = 0; /* checksum: the loader sets it */
	memcpy(t + 10, "OVFDPL", 6);
	memcpy(t + 16, "OVFDEPLY", 8);
	od_st32(t + 24, 1);
	memcpy(t + 28, "OVFD", 4);
	od_st32(t + 32, 1);
}

static void cmd_alloc(uint8_t *c, const char *file, uint32_t align, uint8_t zone)
{
	od_st32(c, LOADER_ALLOCATE);
	strncpy((char *)c + 4, file, LOADER_FILE);
	od_st32(c + 4 + LOADER_FILE, align);
	c[8 + LOADER_FILE] = zone;
}

static void cmd_pointer(uint8_t *c, const char *dst, const char *src, uint32_t off, uint8_t size)
{
	od_st32(c, LOADER_ADD_POINTER);
	strncpy((char *)c + 4, dst, LOADER_FILE);
	strncpy((char *)c + 4 + LOADER_FILE, src, LOADER_FILE);
	od_st32(c + 4 + 2 * LOADER_FILE, off);
	c[8 + 2 * LOADER_FILE] = size;
}

static void cmd_checksum(uint8_t *c, const char *file, uint32_t off, uint32_t start, uint32_t len)
{
	od_st32(c, LOADER_ADD_CHECKSUM);
	strncpy((char *)c + 4, file, LOADER_FILE);
	od_st32(c + 4 + LOADER_FILE, off);
	od_st32(c + 8 + LOADER_FILE, start);
	od_st32(c + 12 + LOADER_FILE, len);
}

int acpi_build(struct acpi_tables *a, unsigned ncpus, od_err *e)
{
	memset(a, 0, sizeof *a);
	if (ncpus < 1 || ncpus > 255)
		return od_err_set(e, OD_E_USAGE, "ACPI: %u CPUs", ncpus);
	const uint32_t facs_len = 64, fadt_len = 116;
	const uint32_t dsdt_len = sizeof dsdt_aml_code;
	const uint32_t madt_len = 44 + 8 * ncpus + 12 + 2 * 10;
	const uint32_t rsdt_len = 36 + 2 * 4;
	/* FACS first: it must be 64-byte aligned, and so is the blob */
	a->facs = 0;
	a->dsdt = a->facs + facs_len;
	a->fadt = (a->dsdt + dsdt_len + 3) & ~3u;
	a->madt = a->fadt + fadt_len;
	a->rsdt = a->madt + madt_len;
	a->tables_len = a->rsdt + rsdt_len;
	a->tables = calloc(1, a->tables_len);
	a->loader = calloc(ACPI_LOADER_MAX, 128);
	if (!a->tables || !a->loader) {
		acpi_free(a);
		return od_err_nomem(e);
	}
	uint8_t *t = a->tables;

	/* FACS: no header checksum, nothing for the OS to find in it */
	memcpy(t + a->facs, "FACS", 4);
	od_st32(t + a->facs + 4, facs_len);

	memcpy(t + a->dsdt, dsdt_aml_code, dsdt_len);

	/* FADT (ACPI 1.0 layout): the PM block of hw/acpi_pm.c, SCI on IRQ 9,
	 * no SMI command port (ACPI mode is always on), no C2/C3 */
	uint8_t *f = t + a->fadt;
	header(f, "FACP", fadt_len, 1);
	od_st32(f + 36, a->facs);
	od_st32(f + 40, a->dsdt);
	od_st16(f + 46, ACPI_SCI_IRQ);
	od_st32(f + 56, ACPI_PM_BASE);     /* PM1a event block */
	od_st32(f + 64, ACPI_PM_BASE + 4); /* PM1a control block */
	od_st32(f + 76, ACPI_PM_BASE + 8); /* PM timer */
	f[88] = 4;                      /* PM1 event block length */
	f[89] = 2;                      /* PM1 control block length */
	f[91] = 4;                      /* PM timer length */
	od_st16(f + 96, 0x0fff);           /* C2 latency > 100: no C2 */
	od_st16(f + 98, 0x0fff);           /* C3 latency > 1000: no C3 */
	f[108] = 0x32;                  /* CMOS century register */
	/* WBINVD works, C1 supported, no sleep button; the power button is a
	 * fixed feature (PWR_BUTTON clear) */
	od_st32(f + 112, (1u << 0) | (1u << 2) | (1u << 5));

	/* MADT: local APICs, the IOAPIC, IRQ 0 on pin 2 (KVM's routing), the
	 * SCI level-triggered active-high */
	uint8_t *m = t + a->madt;
	header(m, "APIC", madt_len, 1);
	od_st32(m + 36, 0xfee00000);
	od_st32(m + 40, 1); /* PCAT_COMPAT: there are 8259s */
	uint8_t *p = m + 44;
	for (unsigned i = 0; i < ncpus; i++, p += 8) {
		p[0] = 0; p[1] = 8; p[2] = (uint8_t)i; p[3] = (uint8_t)i;
		od_st32(p + 4, 1); /* enabled */
	}
	p[0] = 1; p[1] = 12; p[2] = 0; p[3] = 0; /* IOAPIC id 0, as KVM's IOAPIC reports */
	od_st32(p + 4, 0xfec00000);
	od_st32(p + 8, 0);
	p += 12;
	p[0] = 2; p[1] = 10; p[2] = 0; p[3] = 0; od_st32(p + 4, 2); od_st16(p + 8, 0);
	p += 10;
	p[0] = 2; p[1] = 10; p[2] = 0; p[3] = ACPI_SCI_IRQ; od_st32(p + 4, ACPI_SCI_IRQ); od_st16(p + 8, 0x000d);

	uint8_t *r = t + a->rsdt;
	header(r, "RSDT", rsdt_len, 1);
	od_st32(r + 36, a->fadt);
	od_st32(r + 40, a->madt);

	memcpy(a->rsdp, "RSD PTR ", 8);
	memcpy(a->rsdp + 9, "OVFDPL", 6);
	a->rsdp[15] = 0; /* revision 0: ACPI 1.0, RSDT only */
	od_st32(a->rsdp + 16, a->rsdt);

	uint8_t *c = a->loader;
	unsigned n = 0;
	cmd_alloc(c + 128 * n++, RSDP, 16, LOADER_ZONE_FSEG);
	cmd_alloc(c + 128 * n++, TABLES, 64, LOADER_ZONE_HIGH);
	cmd_pointer(c + 128 * n++, RSDP, TABLES, 16, 4);
	cmd_pointer(c + 128 * n++, TABLES, TABLES, a->fadt + 36, 4);
	cmd_pointer(c + 128 * n++, TABLES, TABLES, a->fadt + 40, 4);
	cmd_pointer(c + 128 * n++, TABLES, TABLES, a->rsdt + 36, 4);
	cmd_pointer(c + 128 * n++, TABLES, TABLES, a->rsdt + 40, 4);
	cmd_checksum(c + 128 * n++, TABLES, a->fadt + 9, a->fadt, fadt_len);
	cmd_checksum(c + 128 * n++, TABLES, a->madt + 9, a->madt, madt_len);
	cmd_checksum(c + 128 * n++, TABLES, a->rsdt + 9, a->rsdt, rsdt_len);
	/* the DSDT's checksum does not depend on where it lands: iasl set it */
	cmd_checksum(c + 128 * n++, RSDP, 8, 0, 20);
	a->loader_len = 128 * n;
	return 0;
}

void acpi_finish_at(struct acpi_tables *a, uint32_t base)
{
	/* what the loader does, for tests: relocate, then checksum */
	uint8_t *t = a->tables;
	uint32_t ptrs[] = { a->fadt + 36, a->fadt + 40, a->rsdt + 36, a->rsdt + 40 };
	for (unsigned i = 0; i < 4; i++) {
		uint32_t v = t[ptrs[i]] | t[ptrs[i] + 1] << 8 | t[ptrs[i] + 2] << 16 | (uint32_t)t[ptrs[i] + 3] << 24;
		od_st32(t + ptrs[i], v + base);
	}
	uint32_t rv = a->rsdp[16] | a->rsdp[17] << 8 | a->rsdp[18] << 16 | (uint32_t)a->rsdp[19] << 24;
	od_st32(a->rsdp + 16, rv + base);
	uint32_t tabs[] = { a->fadt, a->madt, a->rsdt };
	for (unsigned i = 0; i < 3; i++) {
		uint8_t *h = t + tabs[i];
		uint32_t len = h[4] | h[5] << 8 | h[6] << 16 | (uint32_t)h[7] << 24;
		h[9] = 0;
		h[9] = (uint8_t)-sum8(h, len);
	}
	a->rsdp[8] = 0;
	a->rsdp[8] = (uint8_t)-sum8(a->rsdp, 20);
}

void acpi_free(struct acpi_tables *a)
{
	free(a->tables);
	free(a->loader);
	a->tables = a->loader = NULL;
}
