/* test_acpi.c - the ACPI tables (layout, pointers and checksums once
 * relocated as the firmware's loader does, and that iasl decompiles them
 * without errors), the PM block (power-off, power button, timer), and the
 * SMBIOS tables (entry point, structure walk, what they describe). */
#include "config.h"
#include "runner/acpi.h"
#include "runner/smbios.h"
#include "fakeio.h"

#include <check.h>
#include "../check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint32_t ld32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint8_t sum(const uint8_t *p, size_t n) { uint8_t s = 0; while (n--) s += *p++; return s; }

#define BASE 0x3ff0000u

START_TEST(test_tables)
{
	od_err e;
	struct acpi_tables a;
	ck_assert_int_eq(acpi_build(&a, 4, &e), 0);
	ck_assert_int_eq(a.facs % 64, 0);
	ck_assert_uint_eq(a.loader_len % 128, 0);
	ck_assert_uint_le(a.loader_len, ACPI_LOADER_MAX * 128);
	/* the loader's first command allocates the RSDP in the F segment */
	ck_assert_uint_eq(ld32(a.loader), 1);
	ck_assert_str_eq((char *)a.loader + 4, "etc/acpi/rsdp");
	ck_assert_uint_eq(a.loader[4 + 56 + 4], 2);
	acpi_finish_at(&a, BASE);
	ck_assert_int_eq(memcmp(a.rsdp, "RSD PTR ", 8), 0);
	ck_assert_uint_eq(sum(a.rsdp, 20), 0);
	ck_assert_uint_eq(ld32(a.rsdp + 16), BASE + a.rsdt);
	uint8_t *rsdt = a.tables + a.rsdt;
	ck_assert_int_eq(memcmp(rsdt, "RSDT", 4), 0);
	ck_assert_uint_eq(sum(rsdt, ld32(rsdt + 4)), 0);
	ck_assert_uint_eq(ld32(rsdt + 36), BASE + a.fadt);
	ck_assert_uint_eq(ld32(rsdt + 40), BASE + a.madt);
	uint8_t *fadt = a.tables + a.fadt;
	ck_assert_int_eq(memcmp(fadt, "FACP", 4), 0);
	ck_assert_uint_eq(sum(fadt, ld32(fadt + 4)), 0);
	ck_assert_uint_eq(ld32(fadt + 36), BASE + a.facs);
	ck_assert_uint_eq(ld32(fadt + 40), BASE + a.dsdt);
	ck_assert_uint_eq(ld32(fadt + 64), ACPI_PM_BASE + 4);
	uint8_t *dsdt = a.tables + a.dsdt;
	ck_assert_int_eq(memcmp(dsdt, "DSDT", 4), 0);
	ck_assert_uint_eq(sum(dsdt, ld32(dsdt + 4)), 0);
	ck_assert_ptr_nonnull(memmem(dsdt, ld32(dsdt + 4), "_S5_", 4));
	uint8_t *madt = a.tables + a.madt;
	ck_assert_uint_eq(sum(madt, ld32(madt + 4)), 0);
	unsigned lapics = 0;
	for (uint32_t off = 44; off < ld32(madt + 4); off += madt[off + 1]) {
		ck_assert_uint_ge(madt[off + 1], 2);
		if (madt[off] == 0)
			ck_assert_uint_eq(madt[off + 3], lapics++);
	}
	ck_assert_uint_eq(lapics, 4);

	/* iasl -d decompiles every table without errors */
	if (system("iasl -v >/dev/null 2>&1") != 0) {
		printf("# iasl missing: decompilation not checked\n");
		acpi_free(&a);
		return;
	}
	char dir[] = "/tmp/od-acpi.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct { const char *name; uint32_t off; } t[] = {
		{ "dsdt", a.dsdt }, { "facp", a.fadt }, { "apic", a.madt }, { "rsdt", a.rsdt },
	};
	for (unsigned i = 0; i < 4; i++) {
		char path[128], cmd[512];
		snprintf(path, sizeof path, "%s/%s.dat", dir, t[i].name);
		FILE *f = fopen(path, "wb");
		ck_assert_ptr_nonnull(f);
		fwrite(a.tables + t[i].off, 1, ld32(a.tables + t[i].off + 4), f);
		fclose(f);
		snprintf(cmd, sizeof cmd, "cd %s && iasl -d %s.dat >%s.log 2>&1", dir, t[i].name, t[i].name);
		int rc = system(cmd);
		if (rc != 0) {
			snprintf(cmd, sizeof cmd, "cat %s/%s.log", dir, t[i].name);
			ck_assert_int_eq(system(cmd), 0);
		}
		ck_assert_msg(rc == 0, "iasl -d %s failed", t[i].name);
		snprintf(cmd, sizeof cmd, "grep -q 'Error' %s/%s.log", dir, t[i].name);
		ck_assert_msg(system(cmd) != 0, "iasl -d %s reported errors", t[i].name);
	}
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	acpi_free(&a);
	ck_assert_int_eq(acpi_build(&a, 0, &e), -1);
}
END_TEST

static struct vm *vm;

static void out(uint16_t port, unsigned size, uint32_t v) { fake_out(vm, port, size, v, NULL); }
static uint32_t in(uint16_t port, unsigned size) { return fake_in(vm, port, size, NULL); }

START_TEST(test_pm)
{
	od_err e;
	vm = vm_new_fake(1 << 20, &e);
	ck_assert_ptr_nonnull(vm);
	struct acpi_pm *p = acpi_pm_new(vm, &e);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(in(ACPI_PM_BASE + 4, 2) & 1, 1); /* SCI_EN */
	/* the timer runs */
	uint32_t t0 = in(ACPI_PM_BASE + 8, 4);
	usleep(2000);
	uint32_t t1 = in(ACPI_PM_BASE + 8, 4);
	ck_assert_uint_le(t0, 0xffffff);
	ck_assert_uint_ne(t0, t1);
	/* power button: status, SCI when enabled, write 1 to clear */
	acpi_pm_power_button(p);
	ck_assert_uint_eq(in(ACPI_PM_BASE, 2) & 0x100, 0x100);
	ck_assert_int_eq(vm->irq_level[ACPI_SCI_IRQ], 0);
	out(ACPI_PM_BASE + 2, 2, 0x100);
	ck_assert_int_eq(vm->irq_level[ACPI_SCI_IRQ], 1);
	out(ACPI_PM_BASE, 1, 0x00); /* writing 0s clears nothing */
	ck_assert_int_eq(vm->irq_level[ACPI_SCI_IRQ], 1);
	out(ACPI_PM_BASE + 1, 1, 0x01);
	ck_assert_uint_eq(in(ACPI_PM_BASE, 2) & 0x100, 0);
	ck_assert_int_eq(vm->irq_level[ACPI_SCI_IRQ], 0);
	/* the global lock and RTC enables keep what is written (an OS checks);
	 * their events never come, so no SCI */
	out(ACPI_PM_BASE + 2, 2, 0x0420);
	ck_assert_uint_eq(in(ACPI_PM_BASE + 2, 2), 0x0420);
	ck_assert_int_eq(vm->irq_level[ACPI_SCI_IRQ], 0);
	out(ACPI_PM_BASE + 2, 2, 0xfbdf);
	ck_assert_uint_eq(in(ACPI_PM_BASE + 2, 2), 0x0101);
	/* sleep types other than S5, or without SLP_EN, do nothing */
	out(ACPI_PM_BASE + 4, 2, 5 << 10 | 0x2000);
	out(ACPI_PM_BASE + 4, 2, 0x0001);
	ck_assert_int_eq(atomic_load(&vm->end_reason), VM_END_NONE);
	out(ACPI_PM_BASE + 4, 2, 0x2000);
	ck_assert_int_eq(atomic_load(&vm->end_reason), VM_END_POWEROFF);
	acpi_pm_free(p);
	vm_free(vm);
}
END_TEST

/* ---- SMBIOS ---- */

static uint16_t ld16(const uint8_t *p) { return p[0] | p[1] << 8; }

/* What a walk over the structure table found. */
struct smbios_seen {
	unsigned count, max, types[16], ntypes;
	unsigned type4, type17, type19;
	uint64_t dimm_mb, mapped_kib;
	uint8_t cores;
};

/* Walk the table as an OS does: formatted part, then a string set ending
 * in a double NUL; every string number a structure uses must exist. */
static void walk(const struct smbios_tables *t, struct smbios_seen *w)
{
	memset(w, 0, sizeof *w);
	const uint8_t *p = t->tables, *end = t->tables + t->tables_len;
	bool last = false;
	while (p < end) {
		ck_assert(!last); /* nothing after type 127 */
		ck_assert_int_ge(end - p, 4);
		uint8_t type = p[0], len = p[1];
		ck_assert_uint_ge(len, 4);
		ck_assert_int_ge(end - p, len + 2);
		const uint8_t *s = p + len;
		unsigned nstr = 0;
		if (s[0] == 0 && s[1] == 0) {
			s += 2;
		} else {
			while (*s) {
				const uint8_t *z = memchr(s, 0, (size_t)(end - s));
				ck_assert_ptr_nonnull(z);
				nstr++;
				s = z + 1;
				ck_assert(s < end);
			}
			s++;
		}
		/* string references in the formatted part stay within the set */
		static const struct { uint8_t type, off; } refs[] = {
			{ 1, 4 }, { 1, 5 }, { 1, 6 }, { 1, 7 }, { 3, 4 }, { 4, 4 }, { 4, 7 }, { 4, 0x10 }, { 17, 0x10 },
		};
		for (unsigned i = 0; i < sizeof refs / sizeof refs[0]; i++)
			if (refs[i].type == type)
				ck_assert_uint_le(p[refs[i].off], nstr);
		if ((unsigned)(s - p) > w->max)
			w->max = (unsigned)(s - p);
		if (w->ntypes < 16)
			w->types[w->ntypes++] = type;
		switch (type) {
		case 4:
			w->type4++;
			w->cores = p[0x23];
			ck_assert_uint_eq(p[0x18], 0x41);
			break;
		case 17:
			w->type17++;
			w->dimm_mb += ld16(p + 0x0c) == 0x7fff ? ld32(p + 0x1c) : ld16(p + 0x0c);
			break;
		case 19:
			w->type19++;
			w->mapped_kib += (uint64_t)ld32(p + 8) - ld32(p + 4) + 1;
			break;
		case 127:
			last = true;
			break;
		}
		w->count++;
		p = s;
	}
	ck_assert(last);
}

static void check_anchor(const struct smbios_tables *t, const struct smbios_seen *w)
{
	const uint8_t *a = t->anchor;
	ck_assert_int_eq(memcmp(a, "_SM_", 4), 0);
	ck_assert_uint_eq(a[5], SMBIOS_ANCHOR_LEN);
	ck_assert_uint_eq(sum(a, SMBIOS_ANCHOR_LEN), 0);
	ck_assert_int_eq(memcmp(a + 0x10, "_DMI_", 5), 0);
	ck_assert_uint_eq(sum(a + 0x10, SMBIOS_ANCHOR_LEN - 0x10), 0);
	/* what SeaBIOS checks before it takes the tables: the length */
	ck_assert_uint_eq(ld16(a + 0x16), t->tables_len);
	ck_assert_uint_eq(ld16(a + 0x1c), w->count);
	ck_assert_uint_eq(ld16(a + 0x08), w->max);
	ck_assert_uint_eq(t->count, w->count);
}

START_TEST(test_smbios)
{
	od_err e;
	struct smbios_tables t;
	struct smbios_seen w;
	/* a small machine: one CPU, 128 MiB, all below the PCI hole */
	struct smbios_machine m = { 1, 128u << 20, 0, 0x000306a9, 0x0f8bfbff };
	ck_assert_int_eq(smbios_build(&t, &m, &e), 0);
	walk(&t, &w);
	check_anchor(&t, &w);
	unsigned want[] = { 1, 3, 4, 16, 17, 19, 32, 127 };
	ck_assert_uint_eq(w.ntypes, 8);
	for (unsigned i = 0; i < 8; i++)
		ck_assert_uint_eq(w.types[i], want[i]);
	ck_assert_uint_eq(w.dimm_mb, 128);
	ck_assert_uint_eq(w.mapped_kib, 128u << 10);
	ck_assert_uint_eq(w.cores, 1);
	/* the processor ID is CPUID 1's signature and features */
	const uint8_t *p = t.tables;
	while (p[0] != 4) /* walk() showed the layout sound: skip to the end of the string set */
		p = (const uint8_t *)memmem(p + p[1], (size_t)(t.tables + t.tables_len - (p + p[1])), "\0\0", 2) + 2;
	ck_assert_uint_eq(ld32(p + 8), 0x000306a9);
	ck_assert_uint_eq(ld32(p + 12), 0x0f8bfbff);
	ck_assert_ptr_nonnull(memmem(t.tables, t.tables_len, "QEMU", 5));
	smbios_free(&t);

	/* 2 CPUs, 3 GiB below the hole and 1 GiB above 4 GiB */
	m = (struct smbios_machine){ 2, 3ull << 30, 1ull << 30, 0, 0 };
	ck_assert_int_eq(smbios_build(&t, &m, &e), 0);
	walk(&t, &w);
	check_anchor(&t, &w);
	ck_assert_uint_eq(w.type4, 1);
	ck_assert_uint_eq(w.cores, 2);
	ck_assert_uint_eq(w.type17, 1);
	ck_assert_uint_eq(w.dimm_mb, 4096);
	ck_assert_uint_eq(w.type19, 2);
	ck_assert_uint_eq(w.mapped_kib, 4ull << 20);
	smbios_free(&t);

	/* the largest machine vm_run allows: 32 CPUs, 1 TiB, 64 devices */
	m = (struct smbios_machine){ 32, 3ull << 30, (1ull << 40) - (3ull << 30), 0, 0 };
	ck_assert_int_eq(smbios_build(&t, &m, &e), 0);
	walk(&t, &w);
	check_anchor(&t, &w);
	ck_assert_uint_eq(w.type17, 64);
	ck_assert_uint_eq(w.dimm_mb, 1u << 20);
	ck_assert_uint_eq(w.mapped_kib, 1ull << 30);
	smbios_free(&t);
	/* 1 TiB + 16 GiB - 1 MiB: the last device is smaller */
	m = (struct smbios_machine){ 1, 1ull << 30, (1ull << 40) - (1ull << 20) - (1ull << 30), 0, 0 };
	ck_assert_int_eq(smbios_build(&t, &m, &e), 0);
	walk(&t, &w);
	ck_assert_uint_eq(w.type17, 64);
	ck_assert_uint_eq(w.dimm_mb, (1u << 20) - 1);
	smbios_free(&t);

	/* out of range: refused with a message, nothing allocated */
	m = (struct smbios_machine){ 0, 128u << 20, 0, 0, 0 };
	ck_assert_int_eq(smbios_build(&t, &m, &e), -1);
	ck_assert_ptr_null(t.tables);
	m = (struct smbios_machine){ SMBIOS_MAX_CPUS + 1, 128u << 20, 0, 0, 0 };
	ck_assert_int_eq(smbios_build(&t, &m, &e), -1);
	m = (struct smbios_machine){ 1, 0, 0, 0, 0 };
	ck_assert_int_eq(smbios_build(&t, &m, &e), -1);
	m = (struct smbios_machine){ 1, 3ull << 30, 1ull << 40, 0, 0 };
	ck_assert_int_eq(smbios_build(&t, &m, &e), -1);
	m = (struct smbios_machine){ 1, 3ull << 30, UINT64_MAX, 0, 0 }; /* the sum wraps */
	ck_assert_int_eq(smbios_build(&t, &m, &e), -1);
	ck_assert_ptr_null(t.tables);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runner acpi");
	TCase *t = od_check_tcase(s, "core");
	tcase_add_test(t, test_tables);
	tcase_add_test(t, test_pm);
	tcase_add_test(t, test_smbios);
	return od_check_run(s);
}
