/* ide.c - the PIIX3's IDE controller (PCI 8086:7010 at 00:01.1, class
 * 0x0101, programming interface 0x80: both channels in legacy mode, bus
 * master capable), the interface Linux's ata_piix and SeaBIOS's ATA driver
 * speak, with ATA disks and ATAPI CD-ROMs.  Facts from the ATA/ATAPI
 * command set descriptions, the PIIX3 data sheet's register list and the
 * public drivers; our own code.
 *
 * Channels: the primary at ports 0x1f0-0x1f7 with its device control /
 * alternate status at 0x3f6 and ISA IRQ 14, the secondary at 0x170-0x177,
 * 0x376, IRQ 15, always decoded (firmware and drivers expect a PIIX3's
 * channels there; its IDETIM decode bits are storage, set at reset).  Each
 * channel has a master and a slave; a write to a task-file register goes to
 * both (as on the cable), a read comes from the selected one; an absent
 * drive reads as zeros beside a present one, an empty channel as all ones.
 *
 * Commands complete within the guest's write to the command register (or,
 * for DMA, to the bus master's start bit): BSY is never seen.  Disk data
 * and ATAPI packets both go through the SCSI target layer (scsi.c): an ATA
 * READ/WRITE becomes a READ/WRITE (16) of the unit, a FLUSH CACHE a
 * SYNCHRONIZE CACHE, and a packet is run as the SCSI command it is.
 *
 * PIO moves one 512-byte sector per DRQ block (READ/WRITE MULTIPLE are not
 * offered); an ATAPI packet's data moves in blocks of at most the byte
 * count the driver put in the cylinder registers, from a 64 KiB buffer (a
 * CD READ larger than that is run piecewise).  DMA: the bus master's PRD
 * table (8-byte entries: address, byte count with 0 meaning 64 KiB, end of
 * table in bit 31) is walked when the transfer runs: at most 8192 entries
 * (a 64 KiB table) and SCSI_MAX_SEGS segments, each entry and buffer
 * checked to lie in guest RAM; a table that ends short of the transfer, or
 * leaves RAM, fails the command (ABRT, bus master error bit).
 *
 * Interrupts: a channel's line is its pending INTRQ unless nIEN is set in
 * device control; reading the status register (not the alternate status)
 * or writing a command clears it; raising it also sets the bus master
 * status's interrupt bit, which the driver clears by writing 1. */
#include "config.h"
#include "runner/hw/ide.h"
#include "runner/hw/scsi.h"
#include "disk/disk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR 512u
#define CD_BLOCK 2048u
#define XBUF (64u << 10)      /* a drive's PIO buffer */
#define MAX_PRD 8192u         /* entries of a 64 KiB PRD table */

/* status */
#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_DSC 0x10
#define ST_DRDY 0x40
#define ST_BSY 0x80
/* error */
#define ER_DIAG_OK 0x01
#define ER_ABRT 0x04
#define ER_IDNF 0x10
#define ER_UNC 0x40
/* device control */
#define DC_NIEN 0x02
#define DC_SRST 0x04
#define DC_HOB 0x80
/* device/head */
#define SEL_DEV 0x10
#define SEL_LBA 0x40
/* ATAPI interrupt reason, in the sector count register */
#define IR_COD 0x01
#define IR_IO 0x02
/* bus master */
#define BM_START 0x01
#define BM_TO_MEM 0x08 /* the controller writes memory: a device read */
#define BM_ACTIVE 0x01
#define BM_ERROR 0x02
#define BM_INTR 0x04
#define BM_CAPABLE 0x60 /* "drive 0/1 can DMA", the firmware's note */

enum xfer { X_NONE, X_PIO_IN, X_PIO_OUT, X_PACKET, X_DMA };

struct taskfile {
	uint8_t feature, nsector, sector, lcyl, hcyl;
};

struct ide_drive {
	bool present, atapi;
	struct scsi_lun lun;
	uint64_t sectors;            /* 512-byte sectors, disks */
	unsigned cyls, heads, spt;   /* the CHS geometry a disk reports */
	struct taskfile tf, hob;     /* hob: the previous writes (LBA48) */
	uint8_t select, status, error;
	uint8_t mode;                /* DMA mode set: 0x20|n MWDMA n, 0x40|n UDMA n */

	/* the command in progress */
	int xfer;                    /* enum xfer */
	bool write;                  /* an ATA DMA command that writes the disk */
	uint64_t lba;                /* next sector */
	uint32_t left;               /* sectors still to move */
	unsigned pos, end;           /* the DRQ block in buf */
	/* ATAPI */
	bool packet_dma;
	uint32_t limit;              /* byte count limit of a DRQ block */
	uint32_t len;                /* data in buf */
	uint64_t rd_lba;             /* a READ run piecewise: next block */
	uint32_t rd_left;            /* and blocks still to read */
	uint8_t *buf;                /* XBUF bytes */
};

struct ide;
struct ide_channel {
	struct ide *s;
	unsigned irq;
	uint16_t port;               /* of the command block */
	struct ide_drive drive[2];
	unsigned cur;                /* the selected drive */
	uint8_t devctl;
	bool pending;                /* INTRQ */
	int level;                   /* the line as last set */
	uint8_t bm_cmd, bm_status;
	uint8_t bm_prd[4];           /* PRD table address, bits 1:0 zero */
};

struct ide {
	struct pci_dev pci;          /* first */
	struct vm *vm;
	struct ide_channel ch[2];
	uint64_t requests;
	struct scsi_seg seg[SCSI_MAX_SEGS];
	uint8_t bufs[IDE_UNITS][XBUF];
};

static const uint16_t cmd_port[2] = { 0x1f0, 0x170 }, ctl_port[2] = { 0x3f6, 0x376 };
static const unsigned chan_irq[2] = { 14, 15 };

static void st_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t ld_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- interrupts ---- */

static void update_irq(struct ide_channel *c)
{
	int level = c->pending && !(c->devctl & DC_NIEN);
	if (level != c->level) {
		c->level = level;
		vm_set_irq(c->s->vm, c->irq, level);
	}
}

static void raise_irq(struct ide_channel *c)
{
	c->pending = true;
	c->bm_status |= BM_INTR;
	update_irq(c);
}

static void lower_irq(struct ide_channel *c)
{
	c->pending = false;
	update_irq(c);
}

/* ---- reset and signatures ---- */

/* What a drive shows after a reset or a diagnostic: its signature in the
 * task file (ATAPI's 0xeb14 in the cylinder registers), "passed" in error. */
static void signature(struct ide_drive *d)
{
	memset(&d->tf, 0, sizeof d->tf);
	memset(&d->hob, 0, sizeof d->hob);
	d->tf.nsector = d->tf.sector = 1;
	if (d->atapi) {
		d->tf.lcyl = 0x14;
		d->tf.hcyl = 0xeb;
	}
	d->error = ER_DIAG_OK;
	d->status = d->atapi ? 0 : ST_DRDY | ST_DSC;
	d->xfer = X_NONE;
}

static void channel_reset(struct ide_channel *c)
{
	for (unsigned i = 0; i < 2; i++) {
		signature(&c->drive[i]);
		c->drive[i].select = 0xa0; /* device 0 */
	}
	c->cur = 0;
	c->pending = false;
	update_irq(c);
}

/* ---- command endings ---- */

static void done_ok(struct ide_channel *c, struct ide_drive *d)
{
	d->status = ST_DRDY | ST_DSC;
	d->error = 0;
	d->xfer = X_NONE;
	if (d->atapi)
		d->tf.nsector = IR_IO | IR_COD;
	raise_irq(c);
}

static void done_err(struct ide_channel *c, struct ide_drive *d, uint8_t err)
{
	d->status = ST_DRDY | ST_DSC | ST_ERR;
	d->error = err;
	d->xfer = X_NONE;
	if (d->atapi)
		d->tf.nsector = IR_IO | IR_COD;
	raise_irq(c);
}

/* ---- ATA disks through the SCSI target ---- */

/* Move `count` sectors at `lba` between the disk and the segments with a
 * READ/WRITE (16) of the unit: 0, or the ATA error bits. */
static uint8_t disk_io(struct ide *s, struct ide_drive *d, bool write, uint64_t lba, uint32_t count,
		       const struct scsi_seg *seg, unsigned nseg, uint64_t buf_len)
{
	uint8_t cdb[16] = { write ? 0x8a : 0x88 };
	st_be32(cdb + 2, (uint32_t)(lba >> 32));
	st_be32(cdb + 6, (uint32_t)lba);
	st_be32(cdb + 10, count);
	struct scsi_cmd sc = { .cdb = cdb, .cdb_len = 16, .seg = seg, .nseg = nseg, .buf_len = buf_len };
	scsi_execute(&d->lun, &sc);
	if (sc.overrun)
		return ER_ABRT;
	if (sc.status == SCSI_STATUS_GOOD)
		return 0;
	if (sc.sense[12] == 0x21) /* LOGICAL BLOCK ADDRESS OUT OF RANGE */
		return ER_IDNF | ER_ABRT;
	if ((sc.sense[2] & 0xf) == SCSI_SK_MEDIUM_ERROR)
		return write ? ER_ABRT : ER_UNC;
	return ER_ABRT;
}

/* The command's first sector, or UINT64_MAX when a CHS address is not on
 * the disk's geometry. */
static uint64_t tf_lba(const struct ide_drive *d, bool ext)
{
	const struct taskfile *t = &d->tf, *h = &d->hob;
	if (ext)
		return (uint64_t)h->hcyl << 40 | (uint64_t)h->lcyl << 32 | (uint64_t)h->sector << 24 |
		       (uint64_t)t->hcyl << 16 | (uint64_t)t->lcyl << 8 | t->sector;
	if (d->select & SEL_LBA)
		return (uint64_t)(d->select & 0x0f) << 24 | (uint64_t)t->hcyl << 16 | (uint64_t)t->lcyl << 8 | t->sector;
	unsigned cyl = (unsigned)t->hcyl << 8 | t->lcyl, head = d->select & 0x0f, sec = t->sector;
	if (sec == 0 || sec > d->spt || head >= d->heads || cyl >= d->cyls)
		return UINT64_MAX;
	return ((uint64_t)cyl * d->heads + head) * d->spt + sec - 1;
}

static uint32_t tf_count(const struct ide_drive *d, bool ext)
{
	if (ext) {
		uint32_t n = (uint32_t)d->hob.nsector << 8 | d->tf.nsector;
		return n ? n : 65536;
	}
	return d->tf.nsector ? d->tf.nsector : 256;
}

/* Start a READ/WRITE command's addressing: false (and the command failed)
 * when the range is not on the disk or a write meets a read-only one. */
static bool rw_setup(struct ide_channel *c, struct ide_drive *d, bool ext, bool write)
{
	uint64_t lba = tf_lba(d, ext), end;
	uint32_t n = tf_count(d, ext);
	if (lba == UINT64_MAX || !od_add_u64(lba, n, &end) || end > d->sectors) {
		done_err(c, d, ER_IDNF | ER_ABRT);
		return false;
	}
	if (write && d->lun.readonly) {
		done_err(c, d, ER_ABRT);
		return false;
	}
	d->lba = lba;
	d->left = n;
	d->write = write;
	return true;
}

/* PIO read: the next sector into the buffer, DRQ and an interrupt. */
static void pio_read_next(struct ide_channel *c, struct ide_drive *d)
{
	struct scsi_seg sg = { d->buf, SECTOR };
	uint8_t err = disk_io(c->s, d, false, d->lba, 1, &sg, 1, SECTOR);
	if (err) {
		done_err(c, d, err);
		return;
	}
	d->lba++;
	d->left--;
	d->pos = 0;
	d->end = SECTOR;
	d->xfer = X_PIO_IN;
	d->status = ST_DRDY | ST_DSC | ST_DRQ;
	raise_irq(c);
}

static void pio_write_ready(struct ide_drive *d)
{
	d->pos = 0;
	d->end = SECTOR;
	d->xfer = X_PIO_OUT;
	d->status = ST_DRDY | ST_DSC | ST_DRQ;
}

/* A PIO-out sector is complete in the buffer. */
static void pio_write_block(struct ide_channel *c, struct ide_drive *d)
{
	struct scsi_seg sg = { d->buf, SECTOR };
	uint8_t err = disk_io(c->s, d, true, d->lba, 1, &sg, 1, SECTOR);
	if (err) {
		done_err(c, d, err);
		return;
	}
	d->lba++;
	if (--d->left == 0) {
		done_ok(c, d);
		return;
	}
	pio_write_ready(d);
	raise_irq(c);
}

static void flush(struct ide_channel *c, struct ide_drive *d)
{
	static const uint8_t cdb[10] = { 0x35 }; /* SYNCHRONIZE CACHE (10) */
	struct scsi_cmd sc = { .cdb = cdb, .cdb_len = sizeof cdb };
	scsi_execute(&d->lun, &sc);
	if (sc.status == SCSI_STATUS_GOOD)
		done_ok(c, d);
	else
		done_err(c, d, ER_ABRT);
}

/* ---- IDENTIFY ---- */

/* An ATA string: two characters a word, the first in the high byte,
 * padded with spaces. */
static void id_string(uint16_t *w, unsigned words, const char *str)
{
	size_t n = strlen(str);
	for (unsigned i = 0; i < words * 2; i++) {
		uint8_t ch = i < n ? (uint8_t)str[i] : ' ';
		if (i & 1)
			w[i / 2] |= ch;
		else
			w[i / 2] = (uint16_t)(ch << 8);
	}
}

static void identify(struct ide_channel *c, struct ide_drive *d)
{
	uint16_t w[256];
	memset(w, 0, sizeof w);
	char serial[24];
	snprintf(serial, sizeof serial, "ovfdeploy-%s%u", d->atapi ? "cd" : "disk", d->lun.index);
	id_string(w + 10, 10, serial);
	id_string(w + 23, 4, "1.0");
	uint16_t dma = d->mode >> 5 == 1 ? (uint16_t)(0x100 << (d->mode & 7)) : 0;
	uint16_t udma = d->mode >> 6 == 1 ? (uint16_t)(0x100 << (d->mode & 7)) : 0;
	if (d->atapi) {
		/* ATAPI, CD-ROM, removable, DRQ within 50 us, 12-byte packets */
		w[0] = 2 << 14 | 5 << 8 | 1 << 7 | 2 << 5;
		id_string(w + 27, 20, "OVFDEPLOY VIRTUAL-CDROM");
		w[49] = 1 << 9 | 1 << 8; /* LBA, DMA */
		w[80] = 0x1e;            /* ATAPI-1 to 4 */
		w[82] = 1 << 14 | 1 << 4; /* NOP, PACKET */
		w[85] = w[82];
	} else {
		uint64_t n = d->sectors;
		w[0] = 0x0040; /* fixed */
		w[1] = (uint16_t)d->cyls;
		w[3] = (uint16_t)d->heads;
		w[6] = (uint16_t)d->spt;
		id_string(w + 27, 20, "OVFDEPLOY VIRTUAL-DISK");
		w[47] = 0x8000; /* no READ/WRITE MULTIPLE */
		w[49] = 1 << 11 | 1 << 9 | 1 << 8; /* IORDY, LBA, DMA */
		w[54] = (uint16_t)d->cyls;
		w[55] = (uint16_t)d->heads;
		w[56] = (uint16_t)d->spt;
		uint32_t chs = (uint32_t)d->cyls * d->heads * d->spt;
		w[57] = (uint16_t)chs;
		w[58] = (uint16_t)(chs >> 16);
		uint32_t n28 = n > 0x0fffffff ? 0x0fffffff : (uint32_t)n;
		w[60] = (uint16_t)n28;
		w[61] = (uint16_t)(n28 >> 16);
		w[80] = 0x00f0;                 /* ATA-4 to ATA-7 */
		w[82] = 1 << 14 | 1 << 6 | 1 << 5; /* NOP, look-ahead, write cache */
		w[83] = 1 << 14 | 1 << 13 | 1 << 12 | 1 << 10; /* FLUSH CACHE (EXT), LBA48 */
		w[84] = 1 << 14;
		w[85] = w[82];
		w[86] = 1 << 13 | 1 << 12 | 1 << 10;
		w[87] = 1 << 14;
		w[93] = 1 << 14 | 1 << 13 | 1; /* reset results valid, 80-wire cable */
		w[100] = (uint16_t)n;
		w[101] = (uint16_t)(n >> 16);
		w[102] = (uint16_t)(n >> 32);
		w[103] = (uint16_t)(n >> 48);
	}
	w[50] = 0x4000;
	w[51] = w[52] = 0x200;           /* PIO timing mode 2 (obsolete words) */
	w[53] = d->atapi ? 0x0006 : 0x0007; /* words 64-70 and 88 (and 54-58) valid */
	w[63] = 0x0007 | dma;            /* MWDMA 0-2 */
	w[64] = 0x0003;                  /* PIO 3, 4 */
	w[65] = w[66] = w[67] = w[68] = 120;
	w[88] = 0x003f | udma;           /* UDMA 0-5 */
	/* integrity word: signature 0xa5, and a checksum making the bytes'
	 * sum zero */
	w[255] = 0xa5;
	uint8_t sum = 0;
	for (unsigned i = 0; i < 255; i++)
		sum = (uint8_t)(sum + (w[i] & 0xff) + (w[i] >> 8));
	sum = (uint8_t)(sum + 0xa5);
	w[255] |= (uint16_t)((uint8_t)-sum << 8);
	for (unsigned i = 0; i < 256; i++)
		od_st16(d->buf + 2 * i, w[i]);
	d->pos = 0;
	d->end = SECTOR;
	d->left = 0;
	d->len = 0;
	d->rd_left = 0;
	d->xfer = X_PIO_IN;
	d->status = ST_DRDY | ST_DSC | ST_DRQ;
	raise_irq(c);
}

/* ---- ATAPI ---- */

static void atapi_error(struct ide_channel *c, struct ide_drive *d, uint8_t sense_key)
{
	d->rd_left = 0;
	done_err(c, d, (uint8_t)(sense_key << 4 | ER_ABRT));
	d->status = ST_DRDY | ST_ERR;
}

/* Run a packet with `seg` as its data-in buffer: false (and the command
 * failed) unless it ended GOOD; *moved the bytes it gave. */
static bool atapi_exec(struct ide_channel *c, struct ide_drive *d, const uint8_t *cdb, const struct scsi_seg *seg,
		       unsigned nseg, uint64_t buf_len, uint64_t *moved)
{
	struct scsi_cmd sc = { .cdb = cdb, .cdb_len = 12, .seg = seg, .nseg = nseg, .buf_len = buf_len };
	scsi_execute(&d->lun, &sc);
	*moved = sc.xferred;
	if (sc.overrun) {
		/* the buffer is smaller than the packet's transfer */
		atapi_error(c, d, SCSI_SK_ILLEGAL_REQUEST);
		return false;
	}
	if (sc.status != SCSI_STATUS_GOOD) {
		atapi_error(c, d, sc.sense[2] & 0xf);
		return false;
	}
	return true;
}

/* The next DRQ block of a PIO packet's data, or the end of the command. */
static void atapi_pio_block(struct ide_channel *c, struct ide_drive *d);

/* Read the next piece (at most a buffer) of a CD READ run piecewise. */
static void atapi_read_piece(struct ide_channel *c, struct ide_drive *d)
{
	uint32_t k = d->rd_left < XBUF / CD_BLOCK ? d->rd_left : XBUF / CD_BLOCK;
	uint8_t cdb[12] = { 0xa8 }; /* READ (12) */
	st_be32(cdb + 2, (uint32_t)d->rd_lba);
	st_be32(cdb + 6, k);
	struct scsi_seg sg = { d->buf, XBUF };
	uint64_t moved;
	if (!atapi_exec(c, d, cdb, &sg, 1, XBUF, &moved))
		return;
	d->rd_lba += k;
	d->rd_left -= k;
	d->len = (uint32_t)moved;
	d->pos = 0;
	atapi_pio_block(c, d);
}

static void atapi_pio_block(struct ide_channel *c, struct ide_drive *d)
{
	if (d->pos >= d->len) {
		if (d->rd_left) {
			atapi_read_piece(c, d);
			return;
		}
		done_ok(c, d);
		d->status = ST_DRDY;
		return;
	}
	uint32_t n = d->len - d->pos;
	if (n > d->limit)
		n = d->limit;
	d->end = d->pos + n;
	d->tf.lcyl = (uint8_t)n;
	d->tf.hcyl = (uint8_t)(n >> 8);
	d->tf.nsector = IR_IO;
	d->xfer = X_PIO_IN;
	d->status = ST_DRDY | ST_DRQ;
	raise_irq(c);
}

static void dma_run(struct ide_channel *c);

/* The packet is in: run it. */
static void atapi_packet(struct ide_channel *c, struct ide_drive *d)
{
	uint8_t cdb[12];
	memcpy(cdb, d->buf, sizeof cdb);
	memcpy(d->buf + XBUF - sizeof cdb, cdb, sizeof cdb); /* kept for DMA */
	c->s->requests++;
	d->len = d->pos = 0;
	d->rd_left = 0;
	if (d->packet_dma) {
		d->xfer = X_DMA;
		d->status = ST_DRDY | ST_DRQ;
		dma_run(c);
		return;
	}
	/* a CD READ larger than the buffer runs piecewise through READ (12),
	 * when it is on the disc; otherwise the packet as it is, which the
	 * target fails with the right sense */
	if (cdb[0] == 0x28 || cdb[0] == 0xa8) {
		uint64_t lba = ld_be32(cdb + 2), end;
		uint32_t n = cdb[0] == 0x28 ? (uint32_t)cdb[7] << 8 | cdb[8] : ld_be32(cdb + 6);
		if (od_add_u64(lba, n, &end) && end <= d->lun.be.size / CD_BLOCK && end <= 0xffffffffu) {
			d->rd_lba = lba;
			d->rd_left = n;
			atapi_pio_block(c, d);
			return;
		}
	}
	struct scsi_seg sg = { d->buf, XBUF };
	uint64_t moved;
	if (!atapi_exec(c, d, cdb, &sg, 1, XBUF, &moved))
		return;
	d->len = (uint32_t)moved;
	atapi_pio_block(c, d);
}

static void packet_start(struct ide_drive *d)
{
	d->packet_dma = d->tf.feature & 1;
	uint32_t limit = (uint32_t)d->tf.hcyl << 8 | d->tf.lcyl;
	/* even, and 0 (which drivers should not send) as the largest */
	limit &= ~1u;
	d->limit = limit ? limit : 0xfffe;
	d->pos = 0;
	d->end = 12;
	d->tf.nsector = IR_COD;
	d->xfer = X_PACKET;
	d->status = ST_DRDY | ST_DRQ;
}

/* ---- bus master DMA ---- */

/* Walk the PRD table into s->seg for at most `need` bytes: the number of
 * segments and *got their bytes, or -1 when an entry or buffer is not in
 * RAM or the table has more segments than we take. */
static int prd_gather(struct ide_channel *c, uint64_t need, uint64_t *got)
{
	struct ide *s = c->s;
	uint64_t addr = od_ld32(c->bm_prd) & ~3u, have = 0;
	unsigned n = 0;
	for (unsigned i = 0; i < MAX_PRD && have < need; i++) {
		const uint8_t *e = vm_gpa_to_hva(s->vm, addr + 8ull * i, 8);
		if (!e)
			return -1;
		uint32_t base = od_ld32(e) & ~1u, flags = od_ld32(e + 4);
		uint64_t len = flags & 0xfffe;
		if (!len)
			len = 0x10000;
		if (len > need - have)
			len = need - have;
		if (n == SCSI_MAX_SEGS)
			return -1;
		uint8_t *h = vm_gpa_to_hva(s->vm, base, len);
		if (!h)
			return -1;
		s->seg[n++] = (struct scsi_seg){ h, len };
		have += len;
		if (flags & 0x80000000u)
			break;
	}
	*got = have;
	return (int)n;
}

/* Run the selected drive's DMA command, once both it and the bus master's
 * start bit are there. */
static void dma_run(struct ide_channel *c)
{
	struct ide_drive *d = &c->drive[c->cur];
	if (!(c->bm_status & BM_ACTIVE) || !d->present || d->xfer != X_DMA)
		return;
	bool to_mem = c->bm_cmd & BM_TO_MEM;
	uint64_t got;
	c->bm_status &= ~BM_ACTIVE;
	if (d->atapi) {
		const uint8_t *cdb = d->buf + XBUF - 12;
		int n = to_mem ? prd_gather(c, UINT32_MAX, &got) : -1;
		uint64_t moved;
		if (n < 0) {
			c->bm_status |= BM_ERROR;
			atapi_error(c, d, SCSI_SK_ILLEGAL_REQUEST);
			return;
		}
		if (atapi_exec(c, d, cdb, c->s->seg, (unsigned)n, got, &moved)) {
			done_ok(c, d);
			d->status = ST_DRDY;
		}
		return;
	}
	uint64_t need = (uint64_t)d->left * SECTOR;
	int n = to_mem != d->write ? prd_gather(c, need, &got) : -1;
	if (n < 0 || got < need) {
		c->bm_status |= BM_ERROR;
		done_err(c, d, ER_ABRT);
		return;
	}
	c->s->requests++;
	uint8_t err = disk_io(c->s, d, d->write, d->lba, d->left, c->s->seg, (unsigned)n, got);
	if (err)
		done_err(c, d, err);
	else
		done_ok(c, d);
}

static void bm_io(void *opaque, uint64_t off, uint8_t *data, unsigned size, bool is_write)
{
	struct ide *s = opaque;
	for (unsigned i = 0; i < size && i < 4; i++) {
		unsigned r = (unsigned)off + i;
		if (r >= 16) {
			if (!is_write)
				data[i] = 0xff;
			continue;
		}
		struct ide_channel *c = &s->ch[r / 8];
		unsigned reg = r % 8;
		if (!is_write) {
			uint8_t v = 0;
			if (reg == 0)
				v = c->bm_cmd;
			else if (reg == 2)
				v = c->bm_status;
			else if (reg >= 4)
				v = c->bm_prd[reg - 4];
			data[i] = v;
			continue;
		}
		uint8_t v = data[i];
		if (reg == 0) {
			bool was = c->bm_cmd & BM_START;
			c->bm_cmd = v & (BM_START | BM_TO_MEM);
			if (!was && (v & BM_START)) {
				c->bm_status |= BM_ACTIVE;
				dma_run(c);
			} else if (!(v & BM_START)) {
				c->bm_status &= ~BM_ACTIVE; /* stop: anything unfinished is dropped */
			}
		} else if (reg == 2) {
			c->bm_status = (uint8_t)((c->bm_status & ~(v & (BM_ERROR | BM_INTR)) & ~BM_CAPABLE) |
						 (v & BM_CAPABLE));
		} else if (reg >= 4) {
			c->bm_prd[reg - 4] = reg == 4 ? v & 0xfc : v;
		}
	}
}

/* ---- commands ---- */

static void ata_command(struct ide_channel *c, struct ide_drive *d, uint8_t cmd)
{
	bool ext = false;
	switch (cmd) {
	case 0xec: /* IDENTIFY DEVICE */
		identify(c, d);
		return;
	case 0x24: /* READ SECTORS EXT */
		ext = true;
		/* fall through */
	case 0x20: case 0x21: /* READ SECTORS */
		if (rw_setup(c, d, ext, false)) {
			c->s->requests++;
			pio_read_next(c, d);
		}
		return;
	case 0x34: /* WRITE SECTORS EXT */
		ext = true;
		/* fall through */
	case 0x30: case 0x31: /* WRITE SECTORS */
		if (rw_setup(c, d, ext, true)) {
			c->s->requests++;
			pio_write_ready(d);
		}
		return;
	case 0x25: /* READ DMA EXT */
	case 0x35: /* WRITE DMA EXT */
		ext = true;
		/* fall through */
	case 0xc8: case 0xc9: /* READ DMA */
	case 0xca: case 0xcb: /* WRITE DMA */
		if (rw_setup(c, d, ext, cmd == 0x35 || cmd == 0xca || cmd == 0xcb)) {
			d->xfer = X_DMA;
			d->status = ST_DRDY | ST_DSC | ST_DRQ;
			dma_run(c);
		}
		return;
	case 0x42: /* READ VERIFY SECTORS EXT */
		ext = true;
		/* fall through */
	case 0x40: case 0x41: /* READ VERIFY SECTORS: the range only */
		if (rw_setup(c, d, ext, false))
			done_ok(c, d);
		return;
	case 0xe7: /* FLUSH CACHE */
	case 0xea: /* FLUSH CACHE EXT */
		flush(c, d);
		return;
	case 0x70:               /* SEEK */
	case 0x91:               /* INITIALIZE DEVICE PARAMETERS: the geometry stays */
	case 0xe0: case 0xe1:    /* STANDBY / IDLE IMMEDIATE */
	case 0xe2: case 0xe3:    /* STANDBY / IDLE */
		done_ok(c, d);
		return;
	}
	if ((cmd & 0xf0) == 0x10) { /* RECALIBRATE */
		done_ok(c, d);
		return;
	}
	done_err(c, d, ER_ABRT);
}

static void set_features(struct ide_channel *c, struct ide_drive *d)
{
	switch (d->tf.feature) {
	case 0x03: { /* set transfer mode */
		uint8_t m = d->tf.nsector;
		if (m >> 3 == 4 && (m & 7) <= 2)       /* multiword DMA 0-2 */
			d->mode = (uint8_t)(0x20 | (m & 7));
		else if (m >> 3 == 8 && (m & 7) <= 5)  /* UDMA 0-5 */
			d->mode = (uint8_t)(0x40 | (m & 7));
		else if (m > 1 && (m >> 3 != 1 || (m & 7) > 4)) /* PIO default, PIO 0-4 */
			break;
		done_ok(c, d);
		return;
	}
	case 0x02: case 0x82: /* write cache on / off */
	case 0x05: case 0x85: /* power management */
	case 0x55: case 0xaa: /* read look-ahead off / on */
	case 0x66: case 0xcc: /* reverting to power-on defaults */
		done_ok(c, d);
		return;
	}
	done_err(c, d, ER_ABRT);
}

static void command(struct ide_channel *c, uint8_t cmd)
{
	struct ide_drive *d = &c->drive[c->cur];
	if (!d->present || (c->devctl & DC_SRST))
		return; /* nobody answers */
	lower_irq(c);
	d->xfer = X_NONE;
	d->rd_left = 0;
	switch (cmd) {
	case 0xef: /* SET FEATURES */
		set_features(c, d);
		return;
	case 0x90: /* EXECUTE DEVICE DIAGNOSTIC: both drives */
		for (unsigned i = 0; i < 2; i++)
			signature(&c->drive[i]);
		c->drive[0].select = c->drive[1].select = (uint8_t)(0xa0 | c->cur << 4);
		raise_irq(c);
		return;
	case 0xe5: /* CHECK POWER MODE: active */
		d->tf.nsector = 0xff;
		done_ok(c, d);
		return;
	}
	if (!d->atapi) {
		ata_command(c, d, cmd);
		return;
	}
	switch (cmd) {
	case 0xa1: /* IDENTIFY PACKET DEVICE */
		identify(c, d);
		return;
	case 0xa0: /* PACKET */
		packet_start(d);
		return;
	case 0x08: /* DEVICE RESET: no interrupt */
		signature(d);
		return;
	case 0xec: /* IDENTIFY DEVICE: aborted, with the signature to tell why */
		signature(d);
		done_err(c, d, ER_ABRT);
		d->tf.nsector = d->tf.sector = 1;
		return;
	}
	done_err(c, d, ER_ABRT);
	d->status = ST_DRDY | ST_ERR;
}

/* ---- the data port ---- */

static void data_read(struct ide_channel *c, uint8_t *data, unsigned size)
{
	struct ide_drive *d = &c->drive[c->cur];
	if (d->xfer != X_PIO_IN) {
		memset(data, 0xff, size);
		return;
	}
	unsigned n = d->end - d->pos < size ? d->end - d->pos : size;
	memcpy(data, d->buf + d->pos, n);
	memset(data + n, 0xff, size - n);
	d->pos += n;
	if (d->pos < d->end)
		return;
	if (d->atapi && d->len) {
		atapi_pio_block(c, d);
	} else if (d->left) {
		pio_read_next(c, d);
	} else {
		d->xfer = X_NONE;
		d->status = ST_DRDY | ST_DSC;
	}
}

static void data_write(struct ide_channel *c, const uint8_t *data, unsigned size)
{
	struct ide_drive *d = &c->drive[c->cur];
	if (d->xfer != X_PIO_OUT && d->xfer != X_PACKET)
		return;
	unsigned n = d->end - d->pos < size ? d->end - d->pos : size;
	memcpy(d->buf + d->pos, data, n);
	d->pos += n;
	if (d->pos < d->end)
		return;
	if (d->xfer == X_PACKET)
		atapi_packet(c, d);
	else
		pio_write_block(c, d);
}

/* ---- the task file ---- */

static bool channel_empty(const struct ide_channel *c)
{
	return !c->drive[0].present && !c->drive[1].present;
}

static uint8_t reg_read(struct ide_channel *c, unsigned reg)
{
	struct ide_drive *d = &c->drive[c->cur];
	if (channel_empty(c))
		return 0xff;
	if (!d->present)
		return reg == 6 ? d->select : 0;
	bool hob = c->devctl & DC_HOB;
	const struct taskfile *t = hob ? &d->hob : &d->tf;
	switch (reg) {
	case 1: return hob ? d->hob.feature : d->error;
	case 2: return t->nsector;
	case 3: return t->sector;
	case 4: return t->lcyl;
	case 5: return t->hcyl;
	case 6: return d->select;
	case 7:
		lower_irq(c);
		return d->status;
	}
	return 0xff;
}

static void reg_write(struct ide_channel *c, unsigned reg, uint8_t v)
{
	c->devctl &= ~DC_HOB; /* a task-file write ends a HOB read */
	if (reg == 7) {
		command(c, v);
		return;
	}
	for (unsigned i = 0; i < 2; i++) {
		struct ide_drive *d = &c->drive[i];
		switch (reg) {
		case 1: d->hob.feature = d->tf.feature; d->tf.feature = v; break;
		case 2: d->hob.nsector = d->tf.nsector; d->tf.nsector = v; break;
		case 3: d->hob.sector = d->tf.sector; d->tf.sector = v; break;
		case 4: d->hob.lcyl = d->tf.lcyl; d->tf.lcyl = v; break;
		case 5: d->hob.hcyl = d->tf.hcyl; d->tf.hcyl = v; break;
		case 6: d->select = v | 0xa0; break;
		}
	}
	if (reg == 6)
		c->cur = (v & SEL_DEV) ? 1 : 0;
}

static void cmd_io(void *opaque, uint64_t port, uint8_t *data, unsigned size, bool is_write)
{
	struct ide_channel *c = opaque;
	uint64_t off = port - c->port; /* the dispatcher gives the port */
	if (off == 0) {
		if (size > 4)
			size = 4;
		if (is_write)
			data_write(c, data, size);
		else
			data_read(c, data, size);
		return;
	}
	/* the other registers are bytes: a wider access takes the ones after */
	for (unsigned i = 0; i < size && off + i < 8; i++) {
		if (is_write)
			reg_write(c, (unsigned)off + i, data[i]);
		else
			data[i] = reg_read(c, (unsigned)off + i);
	}
}

static void ctl_io(void *opaque, uint64_t port, uint8_t *data, unsigned size, bool is_write)
{
	struct ide_channel *c = opaque;
	(void)port; /* one register */
	if (!is_write) {
		/* alternate status: no interrupt acknowledge */
		const struct ide_drive *d = &c->drive[c->cur];
		memset(data, 0xff, size);
		data[0] = channel_empty(c) ? 0xff : d->present ? d->status : 0;
		return;
	}
	uint8_t v = data[0];
	bool was = c->devctl & DC_SRST;
	c->devctl = v & (DC_NIEN | DC_SRST | DC_HOB);
	if (!was && (v & DC_SRST)) {
		for (unsigned i = 0; i < 2; i++) {
			c->drive[i].status = ST_BSY;
			c->drive[i].xfer = X_NONE;
		}
	} else if (was && !(v & DC_SRST)) {
		channel_reset(c);
	}
	update_irq(c);
}

/* ---- the PCI function ---- */

struct ide *ide_new(struct vm *vm, od_err *e)
{
	struct ide *s = calloc(1, sizeof *s);
	if (!s) {
		od_err_nomem(e);
		return NULL;
	}
	s->vm = vm;
	struct pci_dev *d = &s->pci;
	/* mass storage, IDE, legacy channels with bus mastering */
	pci_init_header(d, 0x8086, 0x7010, 0x01018000, 0x1af4, 0x1100);
	d->slot = 1;
	d->fn = 1;
	pci_set_bar(d, 4, PCI_BAR_IO, 16, bm_io, s);
	/* IDETIM/SIDETIM: timings are storage; both channels' decode enable
	 * set, which ata_piix checks before using a channel */
	memset(d->wmask + 0x40, 0xff, 5);
	d->cfg[0x41] = d->cfg[0x43] = 0x80;
	d->opaque = s;
	for (unsigned i = 0; i < 2; i++) {
		struct ide_channel *c = &s->ch[i];
		c->s = s;
		c->irq = chan_irq[i];
		c->port = cmd_port[i];
		for (unsigned k = 0; k < 2; k++)
			c->drive[k].buf = s->bufs[i * 2 + k];
		channel_reset(c);
	}
	unsigned done = 0;
	for (; done < 2; done++) {
		if (vm_io_register(vm, VM_PIO, cmd_port[done], 8, cmd_io, &s->ch[done], e) < 0)
			break;
		if (vm_io_register(vm, VM_PIO, ctl_port[done], 1, ctl_io, &s->ch[done], e) < 0) {
			vm_io_unregister(vm, VM_PIO, cmd_port[done], &s->ch[done]);
			break;
		}
	}
	if (done < 2 || pci_add(vm->pci, d, e) < 0) {
		for (unsigned i = 0; i < done; i++) {
			vm_io_unregister(vm, VM_PIO, cmd_port[i], &s->ch[i]);
			vm_io_unregister(vm, VM_PIO, ctl_port[i], &s->ch[i]);
		}
		free(s);
		return NULL;
	}
	return s;
}

int ide_attach(struct ide *s, unsigned unit, bool cdrom, const struct blk_backend *be, bool readonly, unsigned index,
	       od_err *e)
{
	if (unit >= IDE_UNITS || s->ch[unit / 2].drive[unit % 2].present)
		return od_err_set(e, OD_E_USAGE, "IDE: unit %u taken or out of range (0-3)", unit);
	struct ide_channel *c = &s->ch[unit / 2];
	struct ide_drive *d = &c->drive[unit % 2];
	scsi_lun_init(&d->lun, cdrom ? SCSI_TYPE_CDROM : SCSI_TYPE_DISK, be, readonly, index);
	d->present = true;
	d->atapi = cdrom;
	d->sectors = be->size / SECTOR;
	/* the usual translation: 16 heads, 63 sectors a track */
	d->heads = 16;
	d->spt = 63;
	uint64_t cyls = d->sectors / (16 * 63);
	d->cyls = cyls > 16383 ? 16383 : cyls ? (unsigned)cyls : 1;
	d->mode = 0x22; /* multiword DMA 2 until the driver sets one */
	signature(d);
	d->select = c->drive[unit % 2 ^ 1].select;
	return 0;
}

void ide_free(struct ide *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < 2; i++) {
		vm_io_unregister(s->vm, VM_PIO, cmd_port[i], &s->ch[i]);
		vm_io_unregister(s->vm, VM_PIO, ctl_port[i], &s->ch[i]);
		s->ch[i].pending = false;
		update_irq(&s->ch[i]);
	}
	pci_remove(&s->pci);
	free(s);
}

struct pci_dev *ide_pci(struct ide *s)
{
	return &s->pci;
}

uint64_t ide_requests(const struct ide *s)
{
	return s->requests;
}

int ide_add_disks(struct vm *vm, const struct vm_config *cfg, od_err *e)
{
	unsigned unit = 0;
	for (unsigned i = 0; i < cfg->ndisks; i++) {
		const struct vm_disk *vd = &cfg->disks[i];
		if (vd->bus != VM_DISK_IDE)
			continue;
		if (!vm->ide && !(vm->ide = ide_new(vm, e)))
			return -1;
		struct blk_backend be;
		if (blk_disk_backend(vm, vd->disk, &be, e) < 0)
			return -1;
		if (ide_attach(vm->ide, unit, vd->cdrom, &be, vd->readonly, i, e) < 0) {
			od_err_prefix(e, "%s", disk_name(vd->disk));
			return -1;
		}
		unit++;
	}
	return 0;
}
