/*
 * lsi53c1030.h - the LSI Logic 53C1030 Fusion-MPT SCSI controller
 * (lsi53c1030.c), private to the runner.  Targets 0..LSI_MAX_TARGETS-1,
 * LUN 0 each.
 */
#ifndef OD_RUNNER_HW_LSI53C1030_H
#define OD_RUNNER_HW_LSI53C1030_H

#include "runner/vmm.h"

#define LSI_MAX_TARGETS 16

struct blk_backend;
struct lsi;
struct lsi *lsi_new(struct vm *vm, od_err *e);
int lsi_attach(struct lsi *s, unsigned target, int type, const struct blk_backend *be, bool readonly, unsigned index,
	       od_err *e);
void lsi_free(struct lsi *s);
struct pci_dev *lsi_pci(struct lsi *s);
uint64_t lsi_requests(const struct lsi *s);
/* One controller for every disk of `cfg` whose bus is VM_DISK_LSILOGIC. */
int lsi_add_disks(struct vm *vm, const struct vm_config *cfg, od_err *e);

#endif
