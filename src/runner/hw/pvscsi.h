/*
 * pvscsi.h - VMware's paravirtual SCSI adapter (pvscsi.c), private to the
 * runner.  Targets 0..PVSCSI_MAX_TARGETS-1, LUN 0 each.
 */
#ifndef OD_RUNNER_HW_PVSCSI_H
#define OD_RUNNER_HW_PVSCSI_H

#include "runner/vmm.h"

#define PVSCSI_MAX_TARGETS 16

struct blk_backend;
struct pvscsi;
/* A controller on the PCI bus, with no target yet. */
struct pvscsi *pvscsi_new(struct vm *vm, od_err *e);
/* Put a unit (a struct scsi_lun type: disk or CD-ROM) at `target`. */
int pvscsi_attach(struct pvscsi *p, unsigned target, int type, const struct blk_backend *be, bool readonly,
		  unsigned index, od_err *e);
void pvscsi_free(struct pvscsi *p);
struct pci_dev *pvscsi_pci(struct pvscsi *p);
/* Requests served so far (for tests). */
uint64_t pvscsi_requests(const struct pvscsi *p);
/* One controller for every disk of `cfg` whose bus is VM_DISK_PVSCSI, in
 * order from target 0 (none: no controller). */
int pvscsi_add_disks(struct vm *vm, const struct vm_config *cfg, od_err *e);

#endif
