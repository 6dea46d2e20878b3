/* acpi.h - ACPI tables and the power-management block (internal to
 * src/runner). */
#ifndef OD_RUNNER_ACPI_H
#define OD_RUNNER_ACPI_H

#include "runner/vmm.h"

/* The PM1a event block (4 bytes), PM1a control (2) and PM timer (4). */
#define ACPI_PM_BASE 0x600
#define ACPI_SCI_IRQ 9
#define ACPI_LOADER_MAX 16

struct acpi_tables {
	uint8_t *tables;   /* etc/acpi/tables */
	uint32_t tables_len;
	uint8_t rsdp[20];  /* etc/acpi/rsdp */
	uint8_t *loader;   /* etc/table-loader */
	uint32_t loader_len;
	/* offsets of each table in `tables` */
	uint32_t facs, dsdt, fadt, madt, rsdt;
};

int acpi_build(struct acpi_tables *a, unsigned ncpus, od_err *e);
/* Do what the firmware's loader does, for a blob at guest address `base`:
 * relocate the pointers and set the checksums (tests only). */
void acpi_finish_at(struct acpi_tables *a, uint32_t base);
void acpi_free(struct acpi_tables *a);

/* The PM block: S5 through PM1a_CNT ends the run with VM_END_POWEROFF;
 * acpi_pm_power_button() presses the power button (SCI). */
struct acpi_pm;
struct acpi_pm *acpi_pm_new(struct vm *vm, od_err *e);
void acpi_pm_free(struct acpi_pm *p);
void acpi_pm_power_button(struct acpi_pm *p);

#endif
