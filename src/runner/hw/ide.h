/*
 * ide.h - the PIIX3's IDE controller (ide.c), private to the runner: PCI
 * function 00:01.1 with both legacy channels and bus-master DMA, ATA disks
 * and ATAPI CD-ROMs.  Units 0-3 are the primary master, primary slave,
 * secondary master and secondary slave.
 */
#ifndef OD_RUNNER_HW_IDE_H
#define OD_RUNNER_HW_IDE_H

#include "runner/virtio.h" /* struct blk_backend */
#include "runner/vmm.h"

#include <stdbool.h>
#include <stdint.h>

#define IDE_UNITS 4

struct ide;
/* The controller on the PCI bus (00:01.1, beside the PIIX3 ISA bridge)
 * with its legacy ports, no drive yet; NULL with *e. */
struct ide *ide_new(struct vm *vm, od_err *e);
/* Put a disk or (cdrom) a CD-ROM at `unit`; `index` names it in its serial
 * number.  Fails when the unit is out of range or taken. */
int ide_attach(struct ide *s, unsigned unit, bool cdrom, const struct blk_backend *be, bool readonly, unsigned index,
	       od_err *e);
/* Take it off the bus and free it (NULL: nothing). */
void ide_free(struct ide *s);
struct pci_dev *ide_pci(struct ide *s);
/* Commands served that moved data or ran a packet (for tests). */
uint64_t ide_requests(const struct ide *s);
/* The controller for every disk of `cfg` on VM_DISK_IDE, units 0, 1, ...
 * in config order (none: no controller). */
int ide_add_disks(struct vm *vm, const struct vm_config *cfg, od_err *e);

#endif
