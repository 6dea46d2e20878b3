/*
 * lsi53c1030.h - the LSI Logic 53C1030 Fusion-MPT SCSI controller
 * (lsi53c1030.c), private to the runner.  Targets 0..LSI_MAX_TARGETS-1,
 * LUN 0 each.
 */
#ifndef OD_RUNNER_HW_LSI53C1030_H
#define OD_RUNNER_HW_LSI53C1030_H

#include "runner/vmm.h"

#define LSI_MAX_TARGETS 16

struct scsi_hba;
/* A controller on the PCI bus, with no target yet: give it units, take it
 * off the bus and free it as any SCSI host adapter (scsi.h). */
struct scsi_hba *lsi_new(struct vm *vm, od_err *e);
/* One controller for every disk of `cfg` whose bus is VM_DISK_LSILOGIC. */
int lsi_add_disks(struct vm *vm, const struct vm_config *cfg, od_err *e);

#endif
