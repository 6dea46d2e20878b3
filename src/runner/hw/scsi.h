/*
 * scsi.h - the SCSI target layer that every SCSI host adapter of the
 * runner shares (private to the runner).
 *
 * A logical unit is a disk (SBC, 512-byte blocks) or a CD-ROM (MMC,
 * 2048-byte blocks) over a block backend (the disk library in production,
 * memory in the tests).  The host adapter turns its guest's request into a
 * struct scsi_cmd: the CDB and the data buffer as a list of host pointers
 * into guest RAM that the adapter has already checked; the target runs the
 * command synchronously and fills in status, sense and how many bytes
 * moved.  Data moves straight between the backend and the guest's buffers.
 */
#ifndef OD_RUNNER_HW_SCSI_H
#define OD_RUNNER_HW_SCSI_H

#include "runner/virtio.h" /* struct blk_backend */

#include <stdbool.h>
#include <stdint.h>

enum scsi_type { SCSI_TYPE_DISK = 0x00, SCSI_TYPE_CDROM = 0x05 };

#define SCSI_STATUS_GOOD 0x00
#define SCSI_STATUS_CHECK 0x02

/* sense keys */
#define SCSI_SK_NO_SENSE 0x0
#define SCSI_SK_NOT_READY 0x2
#define SCSI_SK_MEDIUM_ERROR 0x3
#define SCSI_SK_HARDWARE_ERROR 0x4
#define SCSI_SK_ILLEGAL_REQUEST 0x5
#define SCSI_SK_UNIT_ATTENTION 0x6
#define SCSI_SK_DATA_PROTECT 0x7

#define SCSI_SENSE_LEN 18 /* fixed format */
/* the most data segments a command may have (the adapters cap their
 * scatter-gather walks at this) */
#define SCSI_MAX_SEGS 1024

struct scsi_seg {
	uint8_t *hva;
	uint64_t len;
};

struct scsi_lun {
	struct blk_backend be;
	int type;          /* enum scsi_type */
	bool readonly;     /* CD-ROMs always are */
	unsigned index;    /* names the unit in its serial number */
	unsigned block;    /* 512 or 2048 */
	uint8_t sense[SCSI_SENSE_LEN]; /* of the last failed command, for REQUEST SENSE */
};

struct scsi_cmd {
	const uint8_t *cdb;
	unsigned cdb_len;          /* 1..16 */
	const struct scsi_seg *seg;
	unsigned nseg;
	uint64_t buf_len;          /* sum of the segments' lengths */
	/* results */
	uint8_t status;            /* SCSI_STATUS_* */
	uint8_t sense[SCSI_SENSE_LEN];
	unsigned sense_len;        /* 0 unless status is CHECK */
	uint64_t xferred;          /* bytes moved to or from the buffer */
	bool overrun;              /* the buffer is too small for the data the
				      CDB asks for: nothing was moved */
};

/* Make a unit; the backend's size is in bytes (a CD's need not be a whole
 * number of blocks: the last partial block is not visible). */
void scsi_lun_init(struct scsi_lun *l, int type, const struct blk_backend *be, bool readonly, unsigned index);
/* Run one command on a unit. */
void scsi_execute(struct scsi_lun *l, struct scsi_cmd *c);
/* A command for a LUN that does not exist on a target that does: INQUIRY
 * answers "no unit here" (peripheral qualifier 3), REPORT LUNS lists LUN 0,
 * the rest fail with LOGICAL UNIT NOT SUPPORTED. */
void scsi_execute_absent(struct scsi_cmd *c);

/* ---- a host adapter's targets ----
 *
 * What every host adapter of the runner has besides its own registers and
 * rings: its PCI function, up to SCSI_MAX_TARGETS targets with LUN 0 each,
 * and a count of the requests it served.  An adapter's struct begins with
 * its struct scsi_hba (scsi_hba_free frees the whole adapter through it),
 * and its constructor returns a pointer to that member: the rest of the
 * runner and the tests hold an adapter as a struct scsi_hba. */
#define SCSI_MAX_TARGETS 16

struct scsi_hba {
	struct pci_dev pci;
	const char *name;          /* the adapter's, for error messages */
	struct scsi_lun lun[SCSI_MAX_TARGETS];
	bool present[SCSI_MAX_TARGETS];
	uint64_t requests;         /* served, for tests; the adapter counts */
};

/* Put a unit (disk or CD-ROM, enum scsi_type) at `target`; fails when the
 * target is out of range or taken. */
int scsi_hba_attach(struct scsi_hba *h, unsigned target, int type, const struct blk_backend *be, bool readonly,
		    unsigned index, od_err *e);
/* The unit at `target`, or NULL when there is none (any guest value). */
struct scsi_lun *scsi_hba_lun(struct scsi_hba *h, unsigned target);
/* An adapter reset: every unit forgets its sense data. */
void scsi_hba_reset_luns(struct scsi_hba *h);
/* A zeroed adapter struct of `size` bytes (which begins with its struct
 * scsi_hba) named `name`, or NULL with *e. */
void *scsi_hba_alloc(size_t size, const char *name, od_err *e);
/* Put the adapter on the VM's PCI bus: the adapter, or NULL with *e and
 * the adapter freed. */
struct scsi_hba *scsi_hba_plug(struct vm *vm, struct scsi_hba *h, od_err *e);
/* Run `c` for LUN `lun` of unit `l`: LUN 0 is the unit, the others do not
 * exist (scsi_execute_absent). */
void scsi_hba_execute(struct scsi_lun *l, unsigned lun, struct scsi_cmd *c);
/* Autosense: the sense data of a command that ended in CHECK CONDITION,
 * at most `max` bytes, copied to guest memory at `gpa`.  Returns the bytes
 * copied: 0 when there is none, max is 0 or the buffer is not all in
 * RAM. */
uint32_t scsi_hba_put_sense(struct vm *vm, const struct scsi_cmd *c, uint64_t gpa, uint32_t max);
/* Take the adapter off the PCI bus and free it (NULL: nothing). */
void scsi_hba_free(struct scsi_hba *h);
struct pci_dev *scsi_hba_pci(struct scsi_hba *h);
/* Requests served so far (for tests). */
uint64_t scsi_hba_requests(const struct scsi_hba *h);
/* One adapter, made by `make` and kept in *slot, for every disk of `cfg`
 * on `bus` (enum vm_disk_bus), in order from target 0; no such disk: no
 * adapter. */
int scsi_hba_add_disks(struct vm *vm, const struct vm_config *cfg, int bus, struct scsi_hba **slot,
		       struct scsi_hba *(*make)(struct vm *vm, od_err *e), od_err *e);

#endif
