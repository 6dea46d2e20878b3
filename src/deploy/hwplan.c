/* hwplan.c - the hardware plan: which controllers, disks, CD-ROMs and
 * network adapters the guest gets, from the descriptor, and what each
 * backend makes of them.
 *
 * The descriptor names controllers by ResourceType (5 IDE, 6 parallel SCSI,
 * 20 other storage: SATA/AHCI, NVMe) and ResourceSubType (VMware's
 * "lsilogic", "buslogic", "lsilogicsas", "VirtualSCSI", "vmware.sata.ahci",
 * "vmware.nvme.controller"; VirtualBox's "AHCI", "PIIX4"), and puts each
 * disk and CD-ROM on its Parent at AddressOnParent.  A guest built on VMware
 * looks for its root disk on exactly that controller, so the plan keeps it;
 * where a backend lacks a model, the stand-in and the guest driver it needs
 * are named (inspect shows them, deploy warns).
 *
 * Everything here comes from the descriptor, which is hostile: unit numbers
 * are parsed with overflow checks and clamped to the controller's slots, and
 * the number of controllers is capped. */
#include "config.h"
#include "deploy/deploy.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const ctrl_names[HW_CTRL_NMODELS] = {
	[HW_CTRL_VIRTIO] = "virtio-blk", [HW_CTRL_IDE] = "ide", [HW_CTRL_LSILOGIC] = "lsilogic",
	[HW_CTRL_BUSLOGIC] = "buslogic", [HW_CTRL_LSISAS] = "lsilogicsas", [HW_CTRL_PVSCSI] = "pvscsi",
	[HW_CTRL_VIRTIO_SCSI] = "virtio-scsi", [HW_CTRL_AHCI] = "ahci", [HW_CTRL_NVME] = "nvme",
};
static const char *const nic_names[HW_NIC_NMODELS] = {
	[HW_NIC_VIRTIO] = "virtio-net", [HW_NIC_E1000] = "e1000", [HW_NIC_E1000E] = "e1000e",
	[HW_NIC_VMXNET3] = "vmxnet3", [HW_NIC_VMXNET2] = "vmxnet2", [HW_NIC_PCNET32] = "pcnet32",
};

const char *hw_ctrl_name(enum hw_ctrl_model m)
{
	return (unsigned)m < HW_CTRL_NMODELS ? ctrl_names[m] : "?";
}

const char *hw_nic_name(enum hw_nic_model m)
{
	return (unsigned)m < HW_NIC_NMODELS ? nic_names[m] : "?";
}

int hw_ctrl_parse(const char *s, enum hw_ctrl_model *out)
{
	for (unsigned i = 0; s && i < HW_CTRL_NMODELS; i++)
		if (!strcmp(s, ctrl_names[i])) {
			*out = (enum hw_ctrl_model)i;
			return 0;
		}
	return -1;
}

int hw_nic_parse(const char *s, enum hw_nic_model *out)
{
	for (unsigned i = 0; s && i < HW_NIC_NMODELS; i++)
		if (!strcmp(s, nic_names[i])) {
			*out = (enum hw_nic_model)i;
			return 0;
		}
	return -1;
}

int hw_mode_parse(const char *s, enum hw_mode *out, od_err *e)
{
	if (!strcmp(s, "described"))
		*out = HW_DESCRIBED;
	else if (!strcmp(s, "virtio"))
		*out = HW_VIRTIO;
	else
		return od_err_set(e, OD_E_USAGE, "unknown --hardware '%s' (expected described or virtio)", s);
	return 0;
}

const char *hw_mode_name(enum hw_mode m)
{
	return m == HW_VIRTIO ? "virtio" : "described";
}

unsigned hw_ctrl_units(enum hw_ctrl_model m)
{
	switch (m) {
	case HW_CTRL_IDE: return 2;          /* master, slave */
	case HW_CTRL_LSILOGIC: return 16;    /* VMware: targets 0-15 (7 is free on PVSCSI) */
	case HW_CTRL_LSISAS: return 16;
	case HW_CTRL_BUSLOGIC: return 7;     /* the stand-in lsi53c895a: ids 0-6, 7 is the host's */
	case HW_CTRL_PVSCSI: return 16;
	case HW_CTRL_VIRTIO_SCSI: return 16;
	case HW_CTRL_AHCI: return 6;         /* ICH9: six ports */
	case HW_CTRL_NVME: return 16;
	default: return 0;
	}
}

/* ---- per backend --------------------------------------------------------------
 * One line per model.  The embedded runner has virtio only for now: its
 * PVSCSI, 53C1030, IDE, AHCI, VMXNET3 and E1000 are being added as one file
 * each, and each then changes its line here from a stand-in to exact. */
struct choice_row {
	const char *device;
	bool exact;
	const char *why;
	const char *driver;
};
static const struct choice_row qemu_ctrl[HW_CTRL_NMODELS] = {
	[HW_CTRL_VIRTIO] = {"virtio-blk-pci", true, NULL, "virtio_blk"},
	[HW_CTRL_IDE] = {"piix3-ide", true, NULL, "ata_piix"},
	/* QEMU's SAS 1068 (mptsas1068) boots under SeaBIOS, but Linux's
	 * mptsas (6.1) finds no disk behind it, so it stands in for neither
	 * Fusion-MPT adapter: PVSCSI does, whose driver kernels built for VMware
	 * carry. */
	[HW_CTRL_LSILOGIC] = {"pvscsi", false,
			      "QEMU has no LSI Logic 53C1030; a PVSCSI stands in, VMware's other SCSI adapter",
			      "vmw_pvscsi"},
	[HW_CTRL_BUSLOGIC] = {"lsi53c895a", false, "QEMU has no BusLogic adapter; an LSI 53C895A stands in", "sym53c8xx"},
	[HW_CTRL_LSISAS] = {"pvscsi", false,
			    "QEMU's LSI SAS 1068 model shows Linux's mptsas no disks; a PVSCSI, VMware's other SCSI adapter, stands in",
			    "vmw_pvscsi"},
	[HW_CTRL_PVSCSI] = {"pvscsi", true, NULL, "vmw_pvscsi"},
	[HW_CTRL_VIRTIO_SCSI] = {"virtio-scsi-pci", true, NULL, "virtio_scsi"},
	[HW_CTRL_AHCI] = {"ich9-ahci", true, NULL, "ahci"},
	[HW_CTRL_NVME] = {"nvme", true, NULL, "nvme"},
};
static const struct choice_row qemu_nic[HW_NIC_NMODELS] = {
	[HW_NIC_VIRTIO] = {"virtio-net-pci", true, NULL, "virtio_net"},
	[HW_NIC_E1000] = {"e1000", true, NULL, "e1000"},
	[HW_NIC_E1000E] = {"e1000e", true, NULL, "e1000e"},
	[HW_NIC_VMXNET3] = {"vmxnet3", true, NULL, "vmxnet3"},
	[HW_NIC_VMXNET2] = {"e1000", false, "QEMU has no VMXNET2; an E1000, which VMware also offers every guest, stands in",
			    "e1000"},
	[HW_NIC_PCNET32] = {"pcnet", true, NULL, "pcnet32"},
};
/* The runner's SCSI adapters: PVSCSI serves firmware and Linux's vmw_pvscsi;
 * its LSI 53C1030 serves Linux's mptspi and SeaBIOS's MPT driver, but a
 * SYSLINUX boot through the latter fails the kernel's XZ check.  The cause
 * is in SeaBIOS 1.16's MPT driver, which runs in 16-bit mode: it zero-fills
 * its 56-byte request on the stack with rep stosl through ES, which still
 * holds the segment of its drive structure in the F-segment, so each INT 13h
 * call zeroes 56 bytes just above 1 MiB instead (caught with the page made
 * read-only: CS=F000, ES=F59E, EDI=FC20, ECX from 14).  The last such call,
 * the kernel's own EDD probe of the MBR, lands after SYSLINUX has put the
 * kernel there; with edd=off the same disk boots.  The same struct filled
 * through SS is why SeaBIOS's LUN byte 0 holds stale stack bytes.  Until
 * the boot goes through an INT 13h ROM of our own (as VMware's LSI BIOS),
 * PVSCSI, whose driver kernels built for VMware carry, stands in for every
 * VMware SCSI model, as on QEMU; then lsilogic's line becomes
 * {"lsilogic", true, NULL, "mptspi"} (deploy and inspect know that device).
 * IDE is the runner's PIIX3 (ata_piix); SATA and NVMe guests get
 * virtio-blk. */
static const struct choice_row embedded_ctrl[HW_CTRL_NMODELS] = {
	[HW_CTRL_VIRTIO] = {"virtio-blk", true, NULL, "virtio_blk"},
	[HW_CTRL_IDE] = {"ide", true, NULL, "ata_piix"},
	[HW_CTRL_LSILOGIC] = {"pvscsi", false,
			      "the embedded runner's LSI Logic 53C1030 serves Linux's mptspi, but SeaBIOS's MPT boot driver zeroes 56 bytes of a kernel it loads (its 16-bit code writes through a stale segment); a PVSCSI, VMware's other SCSI adapter, stands in",
			      "vmw_pvscsi"},
	[HW_CTRL_BUSLOGIC] = {"pvscsi", false, "the embedded runner has no BusLogic adapter; a PVSCSI stands in",
			      "vmw_pvscsi"},
	[HW_CTRL_LSISAS] = {"pvscsi", false,
			    "the embedded runner has no LSI SAS 1068; a PVSCSI, VMware's other SCSI adapter, stands in",
			    "vmw_pvscsi"},
	[HW_CTRL_PVSCSI] = {"pvscsi", true, NULL, "vmw_pvscsi"},
	[HW_CTRL_VIRTIO_SCSI] = {"virtio-blk", false, "the embedded runner has no virtio-scsi", "virtio_blk"},
	[HW_CTRL_AHCI] = {"virtio-blk", false, "the embedded runner has no AHCI controller yet", "virtio_blk"},
	[HW_CTRL_NVME] = {"virtio-blk", false, "the embedded runner has no NVMe controller", "virtio_blk"},
};
static const struct choice_row embedded_nic[HW_NIC_NMODELS] = {
	[HW_NIC_VIRTIO] = {"virtio-net", true, NULL, "virtio_net"},
	[HW_NIC_E1000] = {"virtio-net", false, "the embedded runner has no E1000 yet", "virtio_net"},
	[HW_NIC_E1000E] = {"virtio-net", false, "the embedded runner has no E1000e", "virtio_net"},
	[HW_NIC_VMXNET3] = {"vmxnet3", true, NULL, "vmxnet3"},
	[HW_NIC_VMXNET2] = {"virtio-net", false, "the embedded runner has no VMXNET2", "virtio_net"},
	[HW_NIC_PCNET32] = {"virtio-net", false, "the embedded runner has no PCnet", "virtio_net"},
};

static void fill(const struct choice_row *row, struct hw_choice *out)
{
	*out = (struct hw_choice){row->device, row->exact, row->why, row->driver};
}

void hw_ctrl_choice(enum hw_ctrl_model m, enum deploy_backend b, struct hw_choice *out)
{
	if ((unsigned)m >= HW_CTRL_NMODELS)
		m = HW_CTRL_VIRTIO;
	fill(b == DEPLOY_BACKEND_EMBEDDED ? &embedded_ctrl[m] : &qemu_ctrl[m], out);
}

const char *hwplan_embedded_cd_bus(const struct hwplan *p)
{
	struct hw_choice ch;
	/* a CD on a controller the runner gives (IDE, SCSI) stays there */
	if (p->env < p->ndisks && p->disks[p->env].ctrl < p->nctrls) {
		hw_ctrl_choice(p->ctrls[p->disks[p->env].ctrl].model, DEPLOY_BACKEND_EMBEDDED, &ch);
		if (strcmp(ch.device, "virtio-blk") != 0)
			return NULL;
	}
	for (size_t k = 0; k < p->ndisks; k++) {
		if (p->disks[k].cdrom || p->disks[k].ctrl >= p->nctrls)
			continue;
		hw_ctrl_choice(p->ctrls[p->disks[k].ctrl].model, DEPLOY_BACKEND_EMBEDDED, &ch);
		if (strcmp(ch.device, "pvscsi") == 0 || strcmp(ch.device, "lsilogic") == 0 ||
		    strcmp(ch.device, "ide") == 0)
			return ch.device;
	}
	return NULL;
}

bool hwplan_embedded_cd_moves(const struct hwplan *p)
{
	return hwplan_embedded_cd_bus(p) != NULL;
}

void hw_nic_choice(enum hw_nic_model m, enum deploy_backend b, struct hw_choice *out)
{
	if ((unsigned)m >= HW_NIC_NMODELS)
		m = HW_NIC_VIRTIO;
	fill(b == DEPLOY_BACKEND_EMBEDDED ? &embedded_nic[m] : &qemu_nic[m], out);
}

/* ---- from the descriptor ------------------------------------------------------ */

static bool eq(const char *a, const char *b)
{
	return a && !strcasecmp(a, b);
}

/* The controller model an Item describes, or -1 when it is no disk
 * controller we plan (USB, FC, iSCSI, VMCI...). */
static int ctrl_model(const struct ovf_item *it)
{
	const char *st = it->resource_sub_type;
	switch (it->resource_type_num) {
	case 5:
		return HW_CTRL_IDE;
	case 6:
		if (eq(st, "VirtualSCSI") || eq(st, "pvscsi"))
			return HW_CTRL_PVSCSI;
		if (eq(st, "lsilogicsas"))
			return HW_CTRL_LSISAS;
		if (eq(st, "buslogic"))
			return HW_CTRL_BUSLOGIC;
		if (eq(st, "virtio-scsi") || eq(st, "virtio"))
			return HW_CTRL_VIRTIO_SCSI;
		return HW_CTRL_LSILOGIC; /* "lsilogic", and VMware's default when none is named */
	case 20:
	case 1:
		if (eq(st, "vmware.nvme.controller") || eq(st, "nvme"))
			return HW_CTRL_NVME;
		if (it->resource_type_num == 20)
			return HW_CTRL_AHCI; /* "vmware.sata.ahci", "AHCI", or unnamed */
		return -1;
	default:
		return -1;
	}
}

static const char *item_label(const struct ovf_item *it)
{
	if (!it)
		return "?";
	return it->element_name ? it->element_name : it->instance_id ? it->instance_id : "?";
}

/* A unit number as written, or -1 (absent, not a number, too large). */
static long parse_unit(const char *s)
{
	uint64_t v;
	if (!s || ovf_parse_u64(s, &v) < 0 || v > 1000000)
		return -1;
	return (long)v;
}

void hwplan_free(struct hwplan *p)
{
	if (!p)
		return;
	free(p->disks);
	free(p->nics);
	ovf_warnings_free(&p->notes);
	memset(p, 0, sizeof *p);
}

/* Is slot `unit` of controller `c` taken by one of the first `n` disks? */
static bool taken(const struct hwplan *p, size_t n, size_t c, unsigned unit)
{
	for (size_t i = 0; i < n; i++)
		if (p->disks[i].ctrl == c && p->disks[i].unit == unit)
			return true;
	return false;
}

static bool free_unit(const struct hwplan *p, size_t c, unsigned *unit)
{
	unsigned n = hw_ctrl_units(p->ctrls[c].model);
	for (unsigned u = 0; u < n; u++)
		if (!taken(p, p->ndisks, c, u)) {
			*unit = u;
			return true;
		}
	return false;
}

static size_t add_ctrl(struct hwplan *p, enum hw_ctrl_model m, const struct ovf_item *it, od_err *e)
{
	if (p->nctrls >= VMSPEC_MAX_CTRLS) {
		od_err_set(e, OD_E_UNSUPPORTED, "the appliance has more than %d disk controllers", VMSPEC_MAX_CTRLS);
		return HWPLAN_NONE;
	}
	unsigned index = 0;
	for (size_t i = 0; i < p->nctrls; i++)
		if (p->ctrls[i].model == m)
			index++;
	p->ctrls[p->nctrls] = (struct hwplan_ctrl){m, index, it};
	return p->nctrls++;
}

/* IDE controllers are the two channels of one PIIX3: rasd:Address names the
 * channel (0 primary, 1 secondary). */
static int place_ide(struct hwplan *p, const struct ovf_item *it, size_t *out, od_err *e)
{
	bool used[2] = {false, false};
	for (size_t i = 0; i < p->nctrls; i++)
		if (p->ctrls[i].model == HW_CTRL_IDE)
			used[p->ctrls[i].index & 1] = true;
	long want = parse_unit(it->address);
	unsigned ch;
	if (want >= 0 && want < 2 && !used[want])
		ch = (unsigned)want;
	else if (!used[0])
		ch = 0;
	else if (!used[1])
		ch = 1;
	else
		return od_err_set(e, OD_E_UNSUPPORTED, "line %d: more than two IDE controllers (a PIIX3 has two channels)",
				  it->line);
	if (want >= 0 && (unsigned long)want != ch)
		ovf_warn(&p->notes, "IDE controller %s: Address %ld is not a free channel; it becomes the %s channel",
			 item_label(it), want, ch ? "secondary" : "primary");
	if (p->nctrls >= VMSPEC_MAX_CTRLS)
		return od_err_set(e, OD_E_UNSUPPORTED, "the appliance has more than %d disk controllers", VMSPEC_MAX_CTRLS);
	p->ctrls[p->nctrls] = (struct hwplan_ctrl){HW_CTRL_IDE, ch, it};
	*out = p->nctrls++;
	return 0;
}

static size_t find_ctrl(const struct hwplan *p, const struct ovf_item *it)
{
	for (size_t i = 0; it && i < p->nctrls; i++)
		if (p->ctrls[i].item == it)
			return i;
	return HWPLAN_NONE;
}

static bool storage_ctrl_ok_for_cd(enum hw_ctrl_model m)
{
	return m == HW_CTRL_IDE || m == HW_CTRL_AHCI;
}

static enum hw_nic_model nic_model(const char *st)
{
	if (eq(st, "E1000"))
		return HW_NIC_E1000;
	if (eq(st, "E1000e"))
		return HW_NIC_E1000E;
	if (eq(st, "VmxNet3"))
		return HW_NIC_VMXNET3;
	if (eq(st, "VmxNet2") || eq(st, "VmxNet") || eq(st, "Flexible"))
		return HW_NIC_VMXNET2;
	if (eq(st, "PCNet32"))
		return HW_NIC_PCNET32;
	return HW_NIC_VIRTIO;
}

/* The machine's own IDE, on a channel the descriptor did not describe, for
 * the environment CD (the secondary first, where QEMU puts its CD-ROM). */
static bool add_machine_ide(struct hwplan *p, size_t *c, unsigned *unit)
{
	bool used[2] = {false, false};
	for (size_t i = 0; i < p->nctrls; i++)
		if (p->ctrls[i].model == HW_CTRL_IDE)
			used[p->ctrls[i].index & 1] = true;
	unsigned ch = !used[1] ? 1 : 0;
	if (p->nctrls >= VMSPEC_MAX_CTRLS || used[ch])
		return false;
	p->ctrls[p->nctrls] = (struct hwplan_ctrl){HW_CTRL_IDE, ch, NULL};
	*c = p->nctrls++;
	*unit = 0;
	return true;
}

int hwplan_make(const struct ovf_hardware *hw, enum hw_mode mode, struct hwplan *p, od_err *e)
{
	memset(p, 0, sizeof *p);
	p->mode = mode;
	p->env = p->boot = HWPLAN_NONE;
	/* +1: the environment CD the plan may add */
	p->disks = calloc(hw->ndisks + 1, sizeof *p->disks);
	p->nics = calloc(hw->nnics ? hw->nnics : 1, sizeof *p->nics);
	if (!p->disks || !p->nics) {
		hwplan_free(p);
		return od_err_nomem(e);
	}
	bool described = mode == HW_DESCRIBED;

	/* Controllers, in document order. */
	for (size_t i = 0; described && i < hw->ncontrollers; i++) {
		const struct ovf_item *it = hw->controllers[i];
		int m = ctrl_model(it);
		if (m < 0)
			continue;
		size_t c;
		if (m == HW_CTRL_IDE) {
			if (place_ide(p, it, &c, e) < 0)
				goto fail;
		} else if ((c = add_ctrl(p, (enum hw_ctrl_model)m, it, e)) == HWPLAN_NONE) {
			goto fail;
		}
		if (m == HW_CTRL_LSILOGIC && it->resource_type_num == 6 && it->resource_sub_type &&
		    !eq(it->resource_sub_type, "lsilogic"))
			ovf_warn(&p->notes, "SCSI controller %s: unknown ResourceSubType '%s'; planned as an LSI Logic 53C1030",
				 item_label(it), it->resource_sub_type);
	}

	/* Disks and CD-ROMs on their controllers.  Two passes: first every
	 * device whose AddressOnParent is a free slot, then the others take the
	 * first free slot, so a wrong address never displaces a right one. */
	size_t first_cd = HWPLAN_NONE;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < hw->ndisks; i++) {
			const struct ovf_hw_disk *hd = &hw->disks[i];
			bool cd = hd->cdrom;
			if ((!cd && !hd->disk && !hd->file) || (hd->item && hd->item->resource_type_num == 14))
				continue; /* a floppy drive, with or without an image: no floppy controller */
			if (cd && hd->file)
				continue; /* an ISO shipped in the package: not attached */
			size_t c = described ? find_ctrl(p, hd->controller) : HWPLAN_NONE;
			long want = parse_unit(hd->address_on_parent);
			bool exact = c != HWPLAN_NONE && want >= 0 &&
				     (unsigned long)want < hw_ctrl_units(p->ctrls[c].model) &&
				     !taken(p, p->ndisks, c, (unsigned)want);
			if (pass == 0 && !exact)
				continue;
			if (pass == 1) {
				bool done = false;
				for (size_t k = 0; k < p->ndisks && !done; k++)
					done = p->disks[k].hw_disk == i;
				if (done)
					continue;
			}
			if (cd && c == HWPLAN_NONE)
				continue; /* a CD-ROM without a controller we plan: the environment CD goes elsewhere */
			struct hwplan_disk *d = &p->disks[p->ndisks];
			*d = (struct hwplan_disk){.hw_disk = i, .ctrl = c, .cdrom = cd};
			if (c == HWPLAN_NONE) {
				if (described && hd->controller)
					ovf_warn(&p->notes, "disk %s: controller %s (%s) is not one the plan knows; it gets its own virtio-blk",
						 item_label(hd->item), item_label(hd->controller),
						 hd->controller->resource_sub_type ? hd->controller->resource_sub_type : "no subtype");
			} else if (exact) {
				d->unit = (unsigned)want;
			} else if (free_unit(p, c, &d->unit)) {
				if (want >= 0 || hd->address_on_parent)
					ovf_warn(&p->notes, "%s %s: AddressOnParent %s on %s is not a free slot; it takes slot %u",
						 cd ? "CD-ROM" : "disk", item_label(hd->item), hd->address_on_parent,
						 item_label(hd->controller), d->unit);
			} else {
				od_err_set(e, OD_E_UNSUPPORTED, "line %d: %s has no free slot on controller %s (%u slots)",
					   hd->item ? hd->item->line : 0, item_label(hd->item), item_label(hd->controller),
					   hw_ctrl_units(p->ctrls[c].model));
				goto fail;
			}
			p->ndisks++;
		}
	}
	/* Back to document order (the passes may have swapped them): the boot
	 * disk is the first disk in the descriptor, as VMware's BIOS order. */
	for (size_t i = 1; i < p->ndisks; i++)
		for (size_t k = i; k > 0 && p->disks[k - 1].hw_disk > p->disks[k].hw_disk; k--) {
			struct hwplan_disk t = p->disks[k];
			p->disks[k] = p->disks[k - 1];
			p->disks[k - 1] = t;
		}
	for (size_t i = 0; i < p->ndisks; i++) {
		if (!p->disks[i].cdrom && p->boot == HWPLAN_NONE) {
			p->boot = i;
			p->disks[i].boot = true;
		}
		if (p->disks[i].cdrom && first_cd == HWPLAN_NONE)
			first_cd = i;
	}

	/* The environment CD: in the first CD-ROM drive on IDE or SATA, as
	 * VMware attaches it; else in any described CD-ROM drive (a SCSI one when
	 * the descriptor has only SCSI); else a new CD-ROM on a free IDE slot
	 * (the secondary master first), SATA port, or SCSI target; else on the
	 * machine's own IDE (QEMU's default CD-ROM place). */
	for (size_t i = 0; i < p->ndisks && p->env == HWPLAN_NONE; i++)
		if (p->disks[i].cdrom && storage_ctrl_ok_for_cd(p->ctrls[p->disks[i].ctrl].model))
			p->env = i;
	if (p->env == HWPLAN_NONE)
		p->env = first_cd;
	if (p->env == HWPLAN_NONE && described) {
		static const enum hw_ctrl_model pref[] = {HW_CTRL_IDE, HW_CTRL_AHCI, HW_CTRL_PVSCSI, HW_CTRL_LSILOGIC,
							  HW_CTRL_LSISAS, HW_CTRL_VIRTIO_SCSI, HW_CTRL_BUSLOGIC};
		size_t c = HWPLAN_NONE;
		unsigned unit = 0;
		bool ide_or_sata = false, scsi = false;
		for (size_t i = 0; i < p->nctrls; i++) {
			ide_or_sata |= p->ctrls[i].model == HW_CTRL_IDE || p->ctrls[i].model == HW_CTRL_AHCI;
			scsi |= p->ctrls[i].model != HW_CTRL_IDE && p->ctrls[i].model != HW_CTRL_AHCI &&
				p->ctrls[i].model != HW_CTRL_NVME;
		}
		for (size_t k = 0; k < sizeof pref / sizeof pref[0] && c == HWPLAN_NONE; k++) {
			/* SCSI only when the descriptor has no IDE or SATA, or
			 * neither has a free slot nor a free IDE channel */
			if (k == 2 && (ide_or_sata || !scsi) && add_machine_ide(p, &c, &unit))
				break;
			/* secondary channel first */
			for (size_t pass = 0; pass < 2 && c == HWPLAN_NONE; pass++)
				for (size_t i = 0; i < p->nctrls && c == HWPLAN_NONE; i++)
					if (p->ctrls[i].model == pref[k] &&
					    (pref[k] != HW_CTRL_IDE || p->ctrls[i].index == (pass ? 0u : 1u)) &&
					    free_unit(p, i, &unit))
						c = i;
		}
		if (c == HWPLAN_NONE)
			add_machine_ide(p, &c, &unit);
		if (c != HWPLAN_NONE) {
			p->disks[p->ndisks] = (struct hwplan_disk){.hw_disk = HWPLAN_NONE, .ctrl = c, .unit = unit,
								   .cdrom = true};
			p->env = p->ndisks++;
		} else {
			ovf_warn(&p->notes, "no free slot for the OVF environment CD on the described controllers; it goes on the backend's default CD-ROM");
		}
	}
	if (p->env != HWPLAN_NONE)
		p->disks[p->env].env = true;

	for (size_t i = 0; i < hw->nnics; i++) {
		const char *st = hw->nics[i].model;
		enum hw_nic_model m = described ? nic_model(st) : HW_NIC_VIRTIO;
		if (described && m == HW_NIC_VIRTIO && st && !eq(st, "VirtIO") && !eq(st, "virtio-net"))
			ovf_warn(&p->notes, "network adapter %s: unknown ResourceSubType '%s'; planned as virtio-net",
				 item_label(hw->nics[i].item), st);
		p->nics[p->nnics++] = (struct hwplan_nic){i, m};
	}
	return 0;
fail:
	hwplan_free(p);
	return -1;
}
