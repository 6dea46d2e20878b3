/* smbios.h - the SMBIOS tables we give the firmware (internal to
 * src/runner). */
#ifndef OD_RUNNER_SMBIOS_H
#define OD_RUNNER_SMBIOS_H

#include <stdint.h>

#include "util/util.h"

#define SMBIOS_ANCHOR_LEN 31 /* an SMBIOS 2.1 (32-bit) entry point */
#define SMBIOS_MAX_CPUS 255

/* What the tables describe. */
struct smbios_machine {
	unsigned ncpus;
	uint64_t low_ram, high_ram; /* bytes below the PCI hole, above 4 GiB */
	uint32_t cpuid_1_eax, cpuid_1_edx; /* the processor ID of type 4 */
	/* system manufacturer and product (types 1, 3, 4), serial (type 1):
	 * NULL = "QEMU", "QEMU", none (a VMware appliance gets VMware's) */
	const char *manufacturer, *product, *serial;
};

struct smbios_tables {
	uint8_t anchor[SMBIOS_ANCHOR_LEN]; /* etc/smbios/smbios-anchor */
	uint8_t *tables;                   /* etc/smbios/smbios-tables */
	uint32_t tables_len;
	unsigned count; /* structures in `tables` */
};

int smbios_build(struct smbios_tables *s, const struct smbios_machine *m, od_err *e);
void smbios_free(struct smbios_tables *s);

#endif
