/* show_hwplan.c - 'inspect' shows the hardware plan (src/deploy/hwplan.c):
 * where each disk, CD-ROM and network adapter goes, and per backend what is
 * the described device and what stands in for it. */
#include "config.h"
#include "cli/cli.h"
#include "deploy/deploy.h"

#include <stdio.h>

static const enum deploy_backend backends[] = {DEPLOY_BACKEND_QEMU, DEPLOY_BACKEND_EMBEDDED};

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

void cli_hwplan_text(const struct ovf_hardware *hw)
{
	struct hwplan p;
	od_err e = {0};
	if (hwplan_make(hw, HW_DESCRIBED, &p, &e) < 0) {
		printf("    hardware plan: cannot be made: %s\n", e.msg);
		return;
	}
	char b[64];
	printf("    hardware plan (--hardware described):\n");
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
	for (size_t k = 0; k < sizeof backends / sizeof backends[0]; k++) {
		enum deploy_backend be = backends[k];
		printf("      on %s:", be == DEPLOY_BACKEND_QEMU ? "QEMU" : "the embedded runner");
		size_t n = 0;
		for (size_t c = 0; c < p.nctrls; c++) {
			struct hw_choice ch;
			bool dup = false;
			for (size_t k2 = 0; k2 < c; k2++)
				dup |= p.ctrls[k2].model == p.ctrls[c].model;
			if (dup)
				continue; /* one line per model */
			hw_ctrl_choice(p.ctrls[c].model, be, &ch);
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
			hw_nic_choice(p.nics[i].model, be, &ch);
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

static void json_choice(json_w *w, enum deploy_backend be, const struct hw_choice *ch)
{
	json_obj_begin(w, be == DEPLOY_BACKEND_QEMU ? "qemu" : "embedded");
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
	if (hwplan_make(hw, HW_DESCRIBED, &p, &e) < 0) {
		json_str(w, "error", e.msg);
		json_obj_end(w);
		return;
	}
	json_arr_begin(w, "controllers");
	for (size_t c = 0; c < p.nctrls; c++) {
		json_obj_begin(w, NULL);
		json_str(w, "model", hw_ctrl_name(p.ctrls[c].model));
		json_uint(w, "index", p.ctrls[c].index);
		json_str(w, "instance_id", p.ctrls[c].item ? p.ctrls[c].item->instance_id : NULL);
		for (size_t k = 0; k < sizeof backends / sizeof backends[0]; k++) {
			struct hw_choice ch;
			hw_ctrl_choice(p.ctrls[c].model, backends[k], &ch);
			json_choice(w, backends[k], &ch);
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
		for (size_t k = 0; k < sizeof backends / sizeof backends[0]; k++) {
			struct hw_choice ch;
			hw_nic_choice(p.nics[i].model, backends[k], &ch);
			json_choice(w, backends[k], &ch);
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
