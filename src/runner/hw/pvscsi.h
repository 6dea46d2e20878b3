/*
 * pvscsi.h - VMware's paravirtual SCSI adapter (pvscsi.c), private to the
 * runner.  Targets 0..PVSCSI_MAX_TARGETS-1, LUN 0 each.
 */
#ifndef OD_RUNNER_HW_PVSCSI_H
#define OD_RUNNER_HW_PVSCSI_H

#include "runner/vmm.h"

#define PVSCSI_MAX_TARGETS 16

struct scsi_hba;
/* A controller on the PCI bus, with no target yet: give it units, take it
 * off the bus and free it as any SCSI host adapter (scsi.h). */
struct scsi_hba *pvscsi_new(struct vm *vm, od_err *e);
/* One controller for every disk of `cfg` whose bus is VM_DISK_PVSCSI, in
 * order from target 0 (none: no controller). */
int pvscsi_add_disks(struct vm *vm, const struct vm_config *cfg, od_err *e);

#endif
