/* scsi.c - the SCSI target layer shared by the runner's SCSI host adapters
 * (see scsi.h): block commands (SBC) for disks, the multimedia commands
 * (MMC) that Linux's sr and SeaBIOS send to a CD-ROM, and the primary
 * commands (SPC) both need.  Written from the T10 command descriptions.
 *
 * Every length the guest gives (allocation lengths, transfer lengths, LBAs)
 * is checked against the buffer the host adapter described and against the
 * unit's size, with overflow-safe arithmetic; replies are built in small
 * fixed buffers on the stack, never sized by the guest. */
#include "config.h"
#include "runner/hw/scsi.h"
#include "disk/disk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VENDOR "OVFDEPLY"          /* 8 bytes */
#define PRODUCT_DISK "VIRTUAL-DISK    " /* 16 bytes */
#define PRODUCT_CD "VIRTUAL-CDROM   "
#define REVISION "1.0 "

/* additional sense codes */
#define ASC_INVALID_OPCODE 0x20
#define ASC_LBA_OUT_OF_RANGE 0x21
#define ASC_INVALID_FIELD 0x24
#define ASC_LUN_NOT_SUPPORTED 0x25
#define ASC_WRITE_PROTECTED 0x27
#define ASC_SAVING_NOT_SUPPORTED 0x39
#define ASC_WRITE_ERROR 0x0c
#define ASC_READ_ERROR 0x11

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }
static void st_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void st_be32(uint8_t *p, uint32_t v) { st_be16(p, (uint16_t)(v >> 16)); st_be16(p + 2, (uint16_t)v); }
static void st_be64(uint8_t *p, uint64_t v) { st_be32(p, (uint32_t)(v >> 32)); st_be32(p + 4, (uint32_t)v); }

void scsi_lun_init(struct scsi_lun *l, int type, const struct blk_backend *be, bool readonly, unsigned index)
{
	memset(l, 0, sizeof *l);
	l->be = *be;
	l->type = type;
	l->readonly = readonly || type == SCSI_TYPE_CDROM;
	l->index = index;
	l->block = type == SCSI_TYPE_CDROM ? 2048 : 512;
}

static uint64_t nblocks(const struct scsi_lun *l)
{
	return l->be.size / l->block;
}

static void fill_sense(uint8_t *s, uint8_t sk, uint8_t asc, uint8_t ascq)
{
	memset(s, 0, SCSI_SENSE_LEN);
	s[0] = 0x70; /* current error, fixed format */
	s[2] = sk;
	s[7] = SCSI_SENSE_LEN - 8;
	s[12] = asc;
	s[13] = ascq;
}

static void check(struct scsi_lun *l, struct scsi_cmd *c, uint8_t sk, uint8_t asc, uint8_t ascq)
{
	c->status = SCSI_STATUS_CHECK;
	fill_sense(c->sense, sk, asc, ascq);
	c->sense_len = SCSI_SENSE_LEN;
	if (l)
		memcpy(l->sense, c->sense, SCSI_SENSE_LEN);
}

static void illegal(struct scsi_lun *l, struct scsi_cmd *c, uint8_t asc)
{
	check(l, c, SCSI_SK_ILLEGAL_REQUEST, asc, 0);
}

/* Copy `n` bytes of a reply into the buffer, at most `alloc` (the CDB's
 * allocation length) and at most what the buffer holds. */
static void reply(struct scsi_cmd *c, const uint8_t *data, uint64_t n, uint64_t alloc)
{
	if (n > alloc)
		n = alloc;
	if (n > c->buf_len)
		n = c->buf_len;
	uint64_t done = 0;
	for (unsigned i = 0; i < c->nseg && done < n; i++) {
		uint64_t k = c->seg[i].len;
		if (k > n - done)
			k = n - done;
		memcpy(c->seg[i].hva, data + done, k);
		done += k;
	}
	c->xferred = done;
}

/* Move `len` bytes between the backend at `off` and the buffer. */
static bool move(struct scsi_lun *l, struct scsi_cmd *c, bool to_guest, uint64_t off, uint64_t len)
{
	od_err e;
	uint64_t done = 0;
	for (unsigned i = 0; i < c->nseg && done < len; i++) {
		uint64_t k = c->seg[i].len;
		if (k > len - done)
			k = len - done;
		int r = to_guest ? l->be.pread(l->be.ctx, c->seg[i].hva, k, off + done, &e)
				 : l->be.pwrite(l->be.ctx, c->seg[i].hva, k, off + done, &e);
		if (r < 0)
			return false;
		done += k;
	}
	c->xferred = done;
	return done == len;
}

static void rw(struct scsi_lun *l, struct scsi_cmd *c, bool write, uint64_t lba, uint64_t count)
{
	if (write && l->type == SCSI_TYPE_CDROM) {
		illegal(l, c, ASC_INVALID_OPCODE);
		return;
	}
	if (write && l->readonly) {
		check(l, c, SCSI_SK_DATA_PROTECT, ASC_WRITE_PROTECTED, 0);
		return;
	}
	uint64_t off, len, end;
	if (!od_add_u64(lba, count, &end) || end > nblocks(l)) {
		illegal(l, c, ASC_LBA_OUT_OF_RANGE);
		return;
	}
	/* lba + count <= nblocks, so neither product overflows */
	off = lba * l->block;
	len = count * l->block;
	if (len > c->buf_len) {
		c->overrun = true;
		return;
	}
	if (!move(l, c, !write, off, len))
		check(l, c, SCSI_SK_MEDIUM_ERROR, write ? ASC_WRITE_ERROR : ASC_READ_ERROR, 0);
}

/* ---- INQUIRY ---- */

static void inquiry(struct scsi_lun *l, struct scsi_cmd *c)
{
	const uint8_t *cdb = c->cdb;
	uint16_t alloc = be16(cdb + 3);
	uint8_t b[64];
	memset(b, 0, sizeof b);
	bool is_disk = l->type == SCSI_TYPE_DISK;
	char serial[24];
	int sn = snprintf(serial, sizeof serial, "ovfdeploy-%s%u", is_disk ? "disk" : "cd", l->index);
	if (!(cdb[1] & 1)) {
		if (cdb[2]) {
			illegal(l, c, ASC_INVALID_FIELD);
			return;
		}
		b[0] = (uint8_t)l->type;
		b[1] = is_disk ? 0 : 0x80; /* removable medium */
		b[2] = 0x05;            /* SPC-3 */
		b[3] = 0x02;            /* response data format 2 */
		b[4] = 36 - 5;
		b[7] = is_disk ? 0x02 : 0; /* CmdQue: tagged queueing */
		memcpy(b + 8, VENDOR, 8);
		memcpy(b + 16, is_disk ? PRODUCT_DISK : PRODUCT_CD, 16);
		memcpy(b + 32, REVISION, 4);
		reply(c, b, 36, alloc);
		return;
	}
	b[0] = (uint8_t)l->type;
	b[1] = cdb[2];
	unsigned n;
	switch (cdb[2]) {
	case 0x00: { /* supported pages */
		static const uint8_t disk_pages[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };
		static const uint8_t cd_pages[] = { 0x00, 0x80, 0x83 };
		n = is_disk ? sizeof disk_pages : sizeof cd_pages;
		memcpy(b + 4, is_disk ? disk_pages : cd_pages, n);
		break;
	}
	case 0x80: /* unit serial number */
		n = (unsigned)sn;
		memcpy(b + 4, serial, n);
		break;
	case 0x83: /* device identification: one T10 vendor ID designator */
		b[4] = 0x02; /* code set ASCII */
		b[5] = 0x01; /* associated with the unit, T10 vendor ID */
		b[7] = (uint8_t)(8 + sn);
		memcpy(b + 8, VENDOR, 8);
		memcpy(b + 16, serial, (size_t)sn);
		n = 4 + 8 + (unsigned)sn;
		break;
	case 0xb0: /* block limits: no limits stated */
	case 0xb1: /* block device characteristics */
		if (!is_disk)
			goto bad;
		n = 0x3c;
		if (cdb[2] == 0xb1)
			st_be16(b + 4, 1); /* non-rotating medium */
		break;
	case 0xb2: /* logical block provisioning: no unmap */
		if (!is_disk)
			goto bad;
		n = 4;
		break;
	default:
	bad:
		illegal(l, c, ASC_INVALID_FIELD);
		return;
	}
	st_be16(b + 2, (uint16_t)n);
	reply(c, b, 4 + n, alloc);
}

/* ---- MODE SENSE (6 and 10) ---- */

static unsigned mode_page(struct scsi_lun *l, uint8_t page, uint8_t *p)
{
	if (page == 0x08 && l->type == SCSI_TYPE_DISK) { /* caching */
		memset(p, 0, 20);
		p[0] = 0x08;
		p[1] = 18;
		p[2] = 0x04; /* WCE: the guest should SYNCHRONIZE CACHE */
		return 20;
	}
	if (page == 0x2a && l->type == SCSI_TYPE_CDROM) { /* CD capabilities */
		memset(p, 0, 22);
		p[0] = 0x2a;
		p[1] = 20;
		p[2] = 0x3b; /* reads CD-R, CD-RW, method 2, DVD-ROM, DVD-R, DVD-RAM */
		p[6] = 0x29; /* tray loading, eject, lock */
		st_be16(p + 8, 706);  /* maximum read speed, kB/s (4x) */
		st_be16(p + 12, 2);   /* buffer size, KiB */
		st_be16(p + 14, 706); /* current read speed */
		return 22;
	}
	return 0;
}

static void mode_sense(struct scsi_lun *l, struct scsi_cmd *c, bool ten)
{
	const uint8_t *cdb = c->cdb;
	uint8_t pc = cdb[2] >> 6, page = cdb[2] & 0x3f;
	bool dbd = cdb[1] & 0x08;
	uint16_t alloc = ten ? be16(cdb + 7) : cdb[4];
	if (pc == 3) {
		illegal(l, c, ASC_SAVING_NOT_SUPPORTED);
		return;
	}
	uint8_t b[128];
	memset(b, 0, sizeof b);
	unsigned hdr = ten ? 8 : 4, n = hdr;
	uint8_t dsp = l->readonly ? 0x80 : 0;
	if (!dbd && l->type == SCSI_TYPE_DISK) {
		uint64_t nb = nblocks(l);
		st_be32(b + n, nb > 0xffffff ? 0xffffff : (uint32_t)nb); /* byte 0, density, is 0 */
		st_be32(b + n + 4, l->block);
		n += 8;
	}
	unsigned bd = n - hdr;
	if (page == 0x3f) {
		n += mode_page(l, 0x08, b + n);
		n += mode_page(l, 0x2a, b + n);
	} else {
		unsigned k = mode_page(l, page, b + n);
		if (!k) {
			illegal(l, c, ASC_INVALID_FIELD);
			return;
		}
		n += k;
	}
	if (pc == 1) /* changeable values: none */
		for (unsigned i = hdr + bd; i < n; i += 2u + b[i + 1])
			memset(b + i + 2, 0, b[i + 1]);
	if (ten) {
		st_be16(b, (uint16_t)(n - 2));
		b[3] = dsp;
		st_be16(b + 6, (uint16_t)bd);
	} else {
		b[0] = (uint8_t)(n - 1);
		b[2] = dsp;
		b[3] = (uint8_t)bd;
	}
	reply(c, b, n, alloc);
}

/* ---- MMC (CD-ROM) ---- */

static void lba_to_msf(uint8_t *p, uint64_t lba)
{
	lba += 150;
	p[0] = 0;
	p[1] = (uint8_t)(lba / (75 * 60));
	p[2] = (uint8_t)(lba / 75 % 60);
	p[3] = (uint8_t)(lba % 75);
}

static void read_toc(struct scsi_lun *l, struct scsi_cmd *c)
{
	const uint8_t *cdb = c->cdb;
	bool msf = cdb[1] & 0x02;
	unsigned format = cdb[2] & 0x0f, start = cdb[6];
	uint16_t alloc = be16(cdb + 7);
	uint64_t end = nblocks(l);
	if (end > 0xffffffffu - 150)
		end = 0xffffffffu - 150;
	uint8_t b[32];
	memset(b, 0, sizeof b);
	unsigned n = 4;
	b[2] = b[3] = 1; /* first and last track (or session) */
	if (format == 0) {
		if (start > 1 && start != 0xaa) {
			illegal(l, c, ASC_INVALID_FIELD);
			return;
		}
		if (start <= 1) {
			b[n + 1] = 0x14; /* ADR 1, data track */
			b[n + 2] = 1;
			if (msf)
				lba_to_msf(b + n + 4, 0);
			n += 8;
		}
		b[n + 1] = 0x14;
		b[n + 2] = 0xaa; /* lead-out */
		if (msf)
			lba_to_msf(b + n + 4, end);
		else
			st_be32(b + n + 4, (uint32_t)end);
		n += 8;
	} else if (format == 1) { /* session information */
		b[n + 1] = 0x14;
		b[n + 2] = 1;
		if (msf)
			lba_to_msf(b + n + 4, 0);
		n += 8;
	} else {
		illegal(l, c, ASC_INVALID_FIELD);
		return;
	}
	st_be16(b, (uint16_t)(n - 2));
	reply(c, b, n, alloc);
}

static void get_configuration(struct scsi_lun *l, struct scsi_cmd *c)
{
	const uint8_t *cdb = c->cdb;
	unsigned rt = cdb[1] & 3, first = be16(cdb + 2);
	uint16_t alloc = be16(cdb + 7);
	if (rt == 3) {
		illegal(l, c, ASC_INVALID_FIELD);
		return;
	}
	/* a disc larger than a CD is shown as a DVD */
	uint16_t profile = l->be.size > 900ull * 1024 * 1024 ? 0x0010 : 0x0008;
	uint8_t b[64];
	memset(b, 0, sizeof b);
	unsigned n = 8;
	st_be16(b + 6, profile);
	struct { uint16_t code; uint8_t flags, len; uint8_t data[8]; } f[] = {
		{ 0x0000, 0x03, 8, { 0x00, 0x10, profile == 0x0010, 0, 0x00, 0x08, profile == 0x0008, 0 } },
		{ 0x0001, 0x0b, 8, { 0, 0, 0, 0x01 /* SCSI */, 0, 0, 0, 0 } },        /* core */
		{ 0x0003, 0x03, 4, { 0x29, 0, 0, 0 } },                               /* removable medium */
		{ 0x0010, 0x01, 8, { 0, 0, 0x08, 0x00, 0, 0x01, 0, 0 } },             /* random readable */
	};
	for (unsigned i = 0; i < sizeof f / sizeof f[0]; i++) {
		if (rt == 2 ? f[i].code != first : f[i].code < first)
			continue;
		st_be16(b + n, f[i].code);
		b[n + 2] = f[i].flags;
		b[n + 3] = f[i].len;
		memcpy(b + n + 4, f[i].data, f[i].len);
		n += 4u + f[i].len;
	}
	st_be32(b, n - 4);
	reply(c, b, n, alloc);
}

static void get_event_status(struct scsi_lun *l, struct scsi_cmd *c)
{
	const uint8_t *cdb = c->cdb;
	uint16_t alloc = be16(cdb + 7);
	if (!(cdb[1] & 1)) { /* only polled operation */
		illegal(l, c, ASC_INVALID_FIELD);
		return;
	}
	uint8_t b[8] = { 0 };
	unsigned n = 4;
	b[3] = 0x10; /* supported: media class */
	if (cdb[4] & 0x10) {
		b[2] = 4;    /* media class */
		b[5] = 0x02; /* media present, tray closed; no event */
		n = 8;
	} else {
		b[2] = 0x80; /* no event available */
	}
	st_be16(b, (uint16_t)(n - 2));
	reply(c, b, n, alloc);
}

static void read_disc_information(struct scsi_lun *l, struct scsi_cmd *c)
{
	const uint8_t *cdb = c->cdb;
	if (cdb[1] & 7) {
		illegal(l, c, ASC_INVALID_FIELD);
		return;
	}
	uint8_t b[34];
	memset(b, 0, sizeof b);
	st_be16(b, 32);
	b[2] = 0x0e; /* last session complete, disc finalized */
	b[3] = 1;    /* first track */
	b[4] = 1;    /* sessions */
	b[5] = 1;    /* first track of the last session */
	b[6] = 1;    /* last track of the last session */
	memset(b + 16, 0xff, 8); /* no lead-in / lead-out start times */
	reply(c, b, sizeof b, be16(cdb + 7));
}

/* ---- the dispatcher ---- */

void scsi_execute(struct scsi_lun *l, struct scsi_cmd *c)
{
	c->status = SCSI_STATUS_GOOD;
	c->sense_len = 0;
	c->xferred = 0;
	c->overrun = false;
	uint8_t cdb[16] = { 0 };
	if (c->cdb_len < 1 || c->cdb_len > 16) {
		illegal(l, c, ASC_INVALID_OPCODE);
		return;
	}
	/* short CDBs read as zeros past their end */
	memcpy(cdb, c->cdb, c->cdb_len);
	const uint8_t *saved = c->cdb;
	c->cdb = cdb;
	bool is_disk = l->type == SCSI_TYPE_DISK, cd = !is_disk;
	uint8_t b[32];
	memset(b, 0, sizeof b);
	switch (cdb[0]) {
	case 0x00: /* TEST UNIT READY */
	case 0x1b: /* START STOP UNIT */
	case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
		break;
	case 0x03: /* REQUEST SENSE */
		if (!l->sense[0])
			fill_sense(l->sense, SCSI_SK_NO_SENSE, 0, 0);
		reply(c, l->sense, SCSI_SENSE_LEN, cdb[4]);
		memset(l->sense, 0, sizeof l->sense);
		break;
	case 0x12: /* INQUIRY */
		inquiry(l, c);
		break;
	case 0x1a: /* MODE SENSE (6) */
		mode_sense(l, c, false);
		break;
	case 0x5a: /* MODE SENSE (10) */
		mode_sense(l, c, true);
		break;
	case 0x25: { /* READ CAPACITY (10) */
		uint64_t nb = nblocks(l);
		st_be32(b, nb == 0 ? 0 : nb - 1 > 0xffffffffu ? 0xffffffffu : (uint32_t)(nb - 1));
		st_be32(b + 4, l->block);
		reply(c, b, 8, 8);
		break;
	}
	case 0x9e: /* SERVICE ACTION IN (16) */
		if ((cdb[1] & 0x1f) != 0x10 || !is_disk) { /* READ CAPACITY (16) */
			illegal(l, c, cd ? ASC_INVALID_OPCODE : ASC_INVALID_FIELD);
			break;
		}
		st_be64(b, nblocks(l) ? nblocks(l) - 1 : 0);
		st_be32(b + 8, l->block);
		reply(c, b, 32, be32(cdb + 10));
		break;
	case 0x08: /* READ (6) */
	case 0x0a: { /* WRITE (6) */
		if (cd) {
			illegal(l, c, ASC_INVALID_OPCODE);
			break;
		}
		uint64_t lba = (uint64_t)(cdb[1] & 0x1f) << 16 | be16(cdb + 2);
		rw(l, c, cdb[0] == 0x0a, lba, cdb[4] ? cdb[4] : 256);
		break;
	}
	case 0x28: /* READ (10) */
	case 0x2a: /* WRITE (10) */
		rw(l, c, cdb[0] == 0x2a, be32(cdb + 2), be16(cdb + 7));
		break;
	case 0xa8: /* READ (12) */
	case 0xaa: /* WRITE (12) */
		rw(l, c, cdb[0] == 0xaa, be32(cdb + 2), be32(cdb + 6));
		break;
	case 0x88: /* READ (16) */
	case 0x8a: /* WRITE (16) */
		if (cd) {
			illegal(l, c, ASC_INVALID_OPCODE);
			break;
		}
		rw(l, c, cdb[0] == 0x8a, be64(cdb + 2), be32(cdb + 10));
		break;
	case 0x35: /* SYNCHRONIZE CACHE (10) */
	case 0x91: { /* SYNCHRONIZE CACHE (16) */
		od_err e;
		if (is_disk && !l->readonly && l->be.flush && l->be.flush(l->be.ctx, &e) < 0)
			check(l, c, SCSI_SK_MEDIUM_ERROR, ASC_WRITE_ERROR, 0);
		break;
	}
	case 0xa0: /* REPORT LUNS: LUN 0 */
		st_be32(b, 8);
		reply(c, b, 16, be32(cdb + 6));
		break;
	case 0x43: /* READ TOC/PMA/ATIP */
		if (cd)
			read_toc(l, c);
		else
			illegal(l, c, ASC_INVALID_OPCODE);
		break;
	case 0x46: /* GET CONFIGURATION */
		if (cd)
			get_configuration(l, c);
		else
			illegal(l, c, ASC_INVALID_OPCODE);
		break;
	case 0x4a: /* GET EVENT STATUS NOTIFICATION */
		if (cd)
			get_event_status(l, c);
		else
			illegal(l, c, ASC_INVALID_OPCODE);
		break;
	case 0x51: /* READ DISC INFORMATION */
		if (cd)
			read_disc_information(l, c);
		else
			illegal(l, c, ASC_INVALID_OPCODE);
		break;
	case 0xbd: /* MECHANISM STATUS: idle, no changer */
		if (cd)
			reply(c, b, 8, be16(cdb + 8));
		else
			illegal(l, c, ASC_INVALID_OPCODE);
		break;
	default:
		illegal(l, c, ASC_INVALID_OPCODE);
	}
	c->cdb = saved;
}

void scsi_execute_absent(struct scsi_cmd *c)
{
	c->status = SCSI_STATUS_GOOD;
	c->sense_len = 0;
	c->xferred = 0;
	c->overrun = false;
	if (c->cdb_len < 1 || c->cdb_len > 16) {
		illegal(NULL, c, ASC_INVALID_OPCODE);
		return;
	}
	uint8_t cdb[16] = { 0 }, b[36] = { 0 };
	memcpy(cdb, c->cdb, c->cdb_len);
	switch (cdb[0]) {
	case 0x12: /* INQUIRY: peripheral qualifier 3, no device type */
		if (cdb[1] & 1) {
			illegal(NULL, c, ASC_INVALID_FIELD);
			break;
		}
		b[0] = 0x7f;
		b[2] = 0x05;
		b[3] = 0x02;
		b[4] = 36 - 5;
		reply(c, b, 36, be16(cdb + 3));
		break;
	case 0xa0: /* REPORT LUNS */
		st_be32(b, 8);
		reply(c, b, 16, be32(cdb + 6));
		break;
	case 0x03: /* REQUEST SENSE */
		fill_sense(b, SCSI_SK_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, 0);
		reply(c, b, SCSI_SENSE_LEN, cdb[4]);
		break;
	default:
		illegal(NULL, c, ASC_LUN_NOT_SUPPORTED);
	}
}

/* ---- a host adapter's targets ---- */

int scsi_hba_attach(struct scsi_hba *h, unsigned target, int type, const struct blk_backend *be, bool readonly,
		    unsigned index, od_err *e)
{
	if (target >= SCSI_MAX_TARGETS || h->present[target])
		return od_err_set(e, OD_E_USAGE, "%s: target %u taken or out of range", h->name, target);
	scsi_lun_init(&h->lun[target], type, be, readonly, index);
	h->present[target] = true;
	return 0;
}

struct scsi_lun *scsi_hba_lun(struct scsi_hba *h, unsigned target)
{
	return target < SCSI_MAX_TARGETS && h->present[target] ? &h->lun[target] : NULL;
}

void scsi_hba_reset_luns(struct scsi_hba *h)
{
	for (unsigned t = 0; t < SCSI_MAX_TARGETS; t++)
		memset(h->lun[t].sense, 0, sizeof h->lun[t].sense);
}

void *scsi_hba_alloc(size_t size, const char *name, od_err *e)
{
	struct scsi_hba *h = calloc(1, size);
	if (!h) {
		od_err_nomem(e);
		return NULL;
	}
	h->name = name;
	return h;
}

struct scsi_hba *scsi_hba_plug(struct vm *vm, struct scsi_hba *h, od_err *e)
{
	if (pci_add(vm->pci, &h->pci, e) < 0) {
		free(h);
		return NULL;
	}
	return h;
}

void scsi_hba_execute(struct scsi_lun *l, unsigned lun, struct scsi_cmd *c)
{
	if (lun == 0)
		scsi_execute(l, c);
	else
		scsi_execute_absent(c);
}

uint32_t scsi_hba_put_sense(struct vm *vm, const struct scsi_cmd *c, uint64_t gpa, uint32_t max)
{
	if (c->status != SCSI_STATUS_CHECK || !max || !c->sense_len)
		return 0;
	uint32_t n = max < c->sense_len ? max : c->sense_len;
	uint8_t *h = vm_gpa_to_hva(vm, gpa, n);
	if (!h)
		return 0;
	memcpy(h, c->sense, n);
	return n;
}

void scsi_hba_free(struct scsi_hba *h)
{
	if (!h)
		return;
	pci_remove(&h->pci);
	free(h); /* the adapter's struct begins with it */
}

struct pci_dev *scsi_hba_pci(struct scsi_hba *h)
{
	return &h->pci;
}

uint64_t scsi_hba_requests(const struct scsi_hba *h)
{
	return h->requests;
}

int scsi_hba_add_disks(struct vm *vm, const struct vm_config *cfg, int bus, struct scsi_hba **slot,
		       struct scsi_hba *(*make)(struct vm *vm, od_err *e), od_err *e)
{
	unsigned target = 0;
	for (unsigned i = 0; i < cfg->ndisks; i++) {
		const struct vm_disk *vd = &cfg->disks[i];
		if (vd->bus != bus)
			continue;
		if (!*slot && !(*slot = make(vm, e)))
			return -1;
		struct blk_backend be;
		if (blk_disk_backend(vm, vd->disk, &be, e) < 0)
			return -1;
		if (scsi_hba_attach(*slot, target, vd->cdrom ? SCSI_TYPE_CDROM : SCSI_TYPE_DISK, &be, vd->readonly, i,
				    e) < 0) {
			od_err_prefix(e, "%s", disk_name(vd->disk));
			return -1;
		}
		target++;
	}
	return 0;
}
