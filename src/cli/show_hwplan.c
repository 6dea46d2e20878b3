/* show_hwplan.c - 'inspect' shows the hardware plan (src/deploy/hwplan.c):
 * where each disk, CD-ROM and network adapter goes, and per backend what is
 * the described device and what stands in for it. */
#include "config.h"
#include "cli/cli.h"
#include "deploy/deploy.h"

#include <stdio.h>

/* The places a plan can run: the two local backends and a libvirt host. */
enum target { T_QEMU, T_EMBEDDED, T_LIBVIRT, T_N };
static const char *const target_name[T_N] = {"QEMU", "the embedded runner", "libvirt"};
static const char *const target_key[T_N] = {"qemu", "embedded", "libvirt"};

static void ctrl_choice(enum target t, enum hw_ctrl_model m, struct hw_choice *ch)
{
	if (t == T_LIBVIRT)
		lv_ctrl_choice(m, ch);
	else
		hw_ctrl_choice(m, t == T_QEMU ? DEPLOY_BACKEND_QEMU : DEPLOY_BACKEND_EMBEDDED, ch);
}

static void nic_choice(enum target t, enum hw_nic_model m, struct hw_choice *ch)
{
	if (t == T_LIBVIRT)
		lv_nic_choice(m, ch);
	else
		hw_nic_choice(m, t == T_QEMU ? DEPLOY_BACKEND_QEMU : DEPLOY_BACKEND_EMBEDDED, ch);
}

static const char *label(const struct ovf_item *it, const char *dflt)
{
	if (!it)
		return dflt;
	return it->element_name ? it->element_name : it->instance_id ? it->instance_id : dflt;
}

/* "IDE 1 master", "pvscsi 0 target 3", "ahci 0 port 1", "nvme 0 namespace 1" */
static void slot(const struct hwplan *p, const struct hwplan_disk *d, char *buf, size_t len)
{
	if (d->ctrl == HWPLAN_NONE) {
		snprintf(buf, len, "its own virtio-blk");
		return;
	}
	const struct hwplan_ctrl *c = &p->ctrls[d->ctrl];
	switch (c->model) {
	case HW_CTRL_IDE:
		snprintf(buf, len, "IDE %s %s", c->index ? "secondary" : "primary", d->unit ? "slave" : "master");
		break;
	case HW_CTRL_AHCI:
		snprintf(buf, len, "ahci %u port %u", c->index, d->unit);
		break;
	case HW_CTRL_NVME:
		snprintf(buf, len, "nvme %u namespace %u", c->index, d->unit + 1);
		break;
	default:
		snprintf(buf, len, "%s %u target %u", hw_ctrl_name(c->model), c->index, d->unit);
		break;
	}
}

static const char *disk_name(const struct ovf_hardware *hw, const struct hwplan_disk *d)
{
	if (d->hw_disk == HWPLAN_NONE)
		return "(added)";
	return label(hw->disks[d->hw_disk].item, "?");
}

/* The plan as deploy makes it: for a UEFI appliance, a boot disk OVMF
 * cannot boot from moves to SATA (deploy_efi.c), said in the notes. */
static int plan_make(const struct ovf_hardware *hw, struct hwplan *p, od_err *e)
{
	if (hwplan_make(hw, HW_DESCRIBED, p, e) < 0)
		return -1;
	if (hw->firmware == OVF_FIRMWARE_EFI)
		hwplan_efi_bootable(p, &p->notes);
	return 0;
}

void cli_hwplan_text(const struct ovf_hardware *hw)
{
	struct hwplan p;
	od_err e = {0};
	if (plan_make(hw, &p, &e) < 0) {
		printf("    hardware plan: cannot be made: %s\n", e.msg);
		return;
	}
	char b[64];
	printf("    hardware plan (--hardware described):\n");
	if (hw->firmware == OVF_FIRMWARE_EFI)
		printf("      firmware: UEFI (OVMF) on QEMU and libvirt; the embedded runner boots BIOS only, so 'auto' "
		       "deploys this appliance on QEMU\n");
	for (size_t i = 0; i < p.ndisks; i++) {
		const struct hwplan_disk *d = &p.disks[i];
		slot(&p, d, b, sizeof b);
		printf("      %s %s on %s%s%s\n", d->cdrom ? "cdrom" : "disk", disk_name(hw, d), b, d->boot ? ", boot disk" : "",
		       d->env ? ", the OVF environment CD" : d->cdrom ? ", left empty" : "");
	}
	if (p.env == HWPLAN_NONE)
		printf("      the OVF environment CD on the backend's default CD-ROM\n");
	for (size_t i = 0; i < p.nnics; i++)
		printf("      nic %s: %s\n", label(hw->nics[p.nics[i].hw_nic].item, "?"), hw_nic_name(p.nics[i].model));
	for (enum target be = 0; be < T_N; be++) {
		printf("      on %s:", target_name[be]);
		size_t n = 0;
		for (size_t c = 0; c < p.nctrls; c++) {
			struct hw_choice ch;
			bool dup = false, env_only = false;
			for (size_t k2 = 0; k2 < c; k2++)
				dup |= p.ctrls[k2].model == p.ctrls[c].model;
			/* the model holds the environment CD and nothing else */
			for (size_t i = 0; i < p.ndisks; i++) {
				if (p.disks[i].ctrl >= p.nctrls || p.ctrls[p.disks[i].ctrl].model != p.ctrls[c].model ||
				    (p.disks[i].cdrom && !p.disks[i].env))
					continue; /* (an empty CD drive is not attached) */
				if (i != p.env) {
					env_only = false;
					break;
				}
				env_only = true;
			}
			if (dup)
				continue; /* one line per model */
			if (be == T_EMBEDDED && env_only && hwplan_embedded_cd_moves(&p)) {
				printf("%s %s -> %s (the environment CD joins the disks there)", n++ ? ";" : "",
				       hw_ctrl_name(p.ctrls[c].model), hwplan_embedded_cd_bus(&p));
				continue;
			}
			ctrl_choice(be, p.ctrls[c].model, &ch);
			printf("%s %s %s", n++ ? ";" : "", hw_ctrl_name(p.ctrls[c].model), ch.exact ? "exact" : "->");
			if (!ch.exact)
				printf(" %s (%s; the guest needs %s)", ch.device, ch.why, ch.driver);
		}
		for (size_t i = 0; i < p.nnics; i++) {
			struct hw_choice ch;
			bool dup = false;
			for (size_t k2 = 0; k2 < i; k2++)
				dup |= p.nics[k2].model == p.nics[i].model;
			if (dup)
				continue;
			nic_choice(be, p.nics[i].model, &ch);
			printf("%s %s %s", n++ ? ";" : "", hw_nic_name(p.nics[i].model), ch.exact ? "exact" : "->");
			if (!ch.exact)
				printf(" %s (%s; the guest needs %s)", ch.device, ch.why, ch.driver);
		}
		bool virtio_disk = false;
		for (size_t i = 0; i < p.ndisks; i++)
			virtio_disk |= p.disks[i].ctrl == HWPLAN_NONE;
		if (virtio_disk)
			printf("%s virtio-blk exact", n++ ? ";" : "");
		printf("%s\n", n ? "" : " nothing to attach");
	}
	for (size_t i = 0; i < p.notes.n; i++)
		printf("      note: %s\n", p.notes.v[i]);
	hwplan_free(&p);
}

static void json_choice(json_w *w, enum target t, const struct hw_choice *ch)
{
	json_obj_begin(w, target_key[t]);
	json_str(w, "device", ch->device);
	json_bool(w, "exact", ch->exact);
	json_str(w, "why", ch->why);
	json_str(w, "driver", ch->driver);
	json_obj_end(w);
}

void cli_hwplan_json(json_w *w, const struct ovf_hardware *hw)
{
	struct hwplan p;
	od_err e = {0};
	json_obj_begin(w, "plan");
	if (plan_make(hw, &p, &e) < 0) {
		json_str(w, "error", e.msg);
		json_obj_end(w);
		return;
	}
	/* the firmware each backend boots it with; null: it cannot */
	bool efi = hw->firmware == OVF_FIRMWARE_EFI;
	json_obj_begin(w, "firmware");
	for (enum target t = 0; t < T_N; t++) {
		if (efi && t == T_EMBEDDED)
			json_null(w, target_key[t]);
		else
			json_str(w, target_key[t], efi ? "efi" : "bios");
	}
	json_obj_end(w);
	json_arr_begin(w, "controllers");
	for (size_t c = 0; c < p.nctrls; c++) {
		json_obj_begin(w, NULL);
		json_str(w, "model", hw_ctrl_name(p.ctrls[c].model));
		json_uint(w, "index", p.ctrls[c].index);
		json_str(w, "instance_id", p.ctrls[c].item ? p.ctrls[c].item->instance_id : NULL);
		for (enum target t = 0; t < T_N; t++) {
			struct hw_choice ch;
			ctrl_choice(t, p.ctrls[c].model, &ch);
			json_choice(w, t, &ch);
		}
		json_obj_end(w);
	}
	json_arr_end(w);
	json_arr_begin(w, "disks");
	for (size_t i = 0; i < p.ndisks; i++) {
		const struct hwplan_disk *d = &p.disks[i];
		json_obj_begin(w, NULL);
		json_str(w, "instance_id", d->hw_disk != HWPLAN_NONE ? hw->disks[d->hw_disk].item->instance_id : NULL);
		if (d->ctrl != HWPLAN_NONE)
			json_uint(w, "controller", d->ctrl);
		else
			json_null(w, "controller");
		json_uint(w, "unit", d->unit);
		json_bool(w, "cdrom", d->cdrom);
		json_bool(w, "boot", d->boot);
		json_bool(w, "environment", d->env);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_arr_begin(w, "nics");
	for (size_t i = 0; i < p.nnics; i++) {
		json_obj_begin(w, NULL);
		json_str(w, "instance_id", hw->nics[p.nics[i].hw_nic].item->instance_id);
		json_str(w, "model", hw_nic_name(p.nics[i].model));
		for (enum target t = 0; t < T_N; t++) {
			struct hw_choice ch;
			nic_choice(t, p.nics[i].model, &ch);
			json_choice(w, t, &ch);
		}
		json_obj_end(w);
	}
	json_arr_end(w);
	json_arr_begin(w, "notes");
	for (size_t i = 0; i < p.notes.n; i++)
		json_str(w, NULL, p.notes.v[i]);
	json_arr_end(w);
	json_obj_end(w);
	hwplan_free(&p);
}
