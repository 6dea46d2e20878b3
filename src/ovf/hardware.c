/*
 * hardware.c - what a virtual system needs, for one deployment option:
 * CPUs, memory in bytes, disks (with capacity and file), controllers, NICs.
 *
 * This is the deployer's view, so it is forgiving where validate is strict:
 * items with ovf:bound="min"/"max" are ranges, not devices, and are skipped;
 * an item whose numbers cannot be read is reported as an error here too,
 * because deploying with a guessed memory size would be worse.
 */
#include "config.h"
#include "ovf/ovf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const rt_names[] = {
	[1] = "Other", [2] = "Computer System", [3] = "Processor", [4] = "Memory", [5] = "IDE Controller",
	[6] = "Parallel SCSI HBA", [7] = "FC HBA", [8] = "iSCSI HBA", [9] = "IB HCA", [10] = "Ethernet Adapter",
	[11] = "Other Network Adapter", [12] = "I/O Slot", [13] = "I/O Device", [14] = "Floppy Drive",
	[15] = "CD Drive", [16] = "DVD Drive", [17] = "Disk Drive", [18] = "Tape Drive", [19] = "Storage Extent",
	[20] = "Other Storage Device", [21] = "Serial Port", [22] = "Parallel Port", [23] = "USB Controller",
	[24] = "Graphics Controller", [25] = "IEEE 1394 Controller", [26] = "Partitionable Unit",
	[27] = "Base Partitionable Unit", [28] = "Power", [29] = "Cooling Capacity", [30] = "Ethernet Switch Port",
	[31] = "Logical Disk", [32] = "Storage Volume", [33] = "Ethernet Connection", [34] = "Sound Card",
	[35] = "Reserved",
};

const char *ovf_resource_type_name(int rt)
{
	if (rt > 0 && (size_t)rt < sizeof rt_names / sizeof rt_names[0])
		return rt_names[rt];
	return NULL;
}

const char *ovf_firmware_name(enum ovf_firmware f)
{
	return f == OVF_FIRMWARE_EFI ? "efi" : "bios";
}

int ovf_firmware_parse(const char *s, enum ovf_firmware *out)
{
	if (!s)
		return -1;
	if (!strcasecmp(s, "bios"))
		*out = OVF_FIRMWARE_BIOS;
	else if (!strcasecmp(s, "efi") || !strcasecmp(s, "efi64") || !strcasecmp(s, "efi32") ||
		 !strcasecmp(s, "efidual") || !strcasecmp(s, "uefi"))
		*out = OVF_FIRMWARE_EFI;
	else
		return -1;
	return 0;
}

static bool normal(const struct ovf_item *it)
{
	return !it->bound || !strcmp(it->bound, "normal");
}

static bool hostres(const char *hr, const char *kind, const char **id)
{
	static const char *const prefixes[] = {"ovf:/", "ovf://", "/"};
	for (size_t i = 0; i < 3; i++) {
		size_t pl = strlen(prefixes[i]), kl = strlen(kind);
		if (!strncmp(hr, prefixes[i], pl) && !strncmp(hr + pl, kind, kl) && hr[pl + kl] == '/') {
			*id = hr + pl + kl + 1;
			return true;
		}
	}
	return false;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static const char *bound_norm(const char *b)
{
	return !b ? "normal" : b;
}

bool ovf_item_effective(const struct ovf_hw_section *hw, size_t idx, const char *config)
{
	const struct ovf_item *it = &hw->items[idx];
	if (!ovf_config_applies(it->configuration, config))
		return false;
	if (!it->instance_id)
		return true;
	for (size_t k = 0; k < hw->nitems; k++) {
		const struct ovf_item *o = &hw->items[k];
		if (k == idx || !o->instance_id || strcmp(o->instance_id, it->instance_id) ||
		    strcmp(bound_norm(o->bound), bound_norm(it->bound)) || !ovf_config_applies(o->configuration, config))
			continue;
		if (!o->configuration)
			continue; /* a default never overrides */
		if (!it->configuration)
			return false; /* a per-configuration item overrides a default */
		if (same_str(o->configuration, it->configuration))
			continue; /* the same list twice is a duplicate, not an override */
		if (k > idx)
			return false; /* the later one wins */
	}
	return true;
}

/* "Other" (1) is a controller only when a device names it as Parent: tools
 * use it for NVMe and SATA controllers, and for VMCI devices too. */
static bool is_parent(const struct ovf_hw_section *hw, const struct ovf_item *it)
{
	for (size_t k = 0; it->instance_id && k < hw->nitems; k++)
		if (hw->items[k].parent && !strcmp(hw->items[k].parent, it->instance_id))
			return true;
	return false;
}

void ovf_hardware_free(struct ovf_hardware *hw)
{
	if (!hw)
		return;
	free(hw->disks);
	free(hw->controllers);
	free(hw->nics);
	memset(hw, 0, sizeof *hw);
}

int ovf_hardware_get(const ovf_envelope *env, const struct ovf_virtual_system *vs, const char *config,
		     struct ovf_hardware *out, od_err *e)
{
	memset(out, 0, sizeof *out);
	if (!vs || vs->is_collection)
		return od_err_set(e, OD_E_INVALID, "no virtual system to read hardware from");
	if (!vs->nhw)
		return od_err_set(e, OD_E_INVALID, "virtual system '%s' has no VirtualHardwareSection",
				  vs->id ? vs->id : "?");
	if (!config) {
		const struct ovf_config *c = ovf_default_config(env);
		config = c ? c->id : NULL;
	} else if (!ovf_find_config(env, config)) {
		return od_err_set(e, OD_E_USAGE, "no deployment option '%s'", config);
	}
	/* Several sections are alternatives for different platforms; the
	 * first is the one a generic deployer takes. */
	const struct ovf_hw_section *hw = &vs->hw[0];
	out->section = hw;
	out->config = config;
	/* VMware's key in the section wins over VirtualBox's machine; a value
	 * we do not know is an error: guessing BIOS for an EFI disk boots
	 * nothing. */
	if (hw->firmware) {
		if (ovf_firmware_parse(hw->firmware, &out->firmware) < 0)
			return od_err_set(e, OD_E_INVALID, "line %d: firmware '%s' is neither bios nor efi",
					  hw->firmware_line, hw->firmware);
		out->firmware_source = "vmw:Config";
	} else if (vs->vbox_firmware) {
		if (ovf_firmware_parse(vs->vbox_firmware, &out->firmware) < 0)
			return od_err_set(e, OD_E_INVALID, "line %d: VirtualBox firmware type '%s' is neither BIOS nor EFI",
					  vs->vbox_firmware_line, vs->vbox_firmware);
		out->firmware_source = "vbox:Machine";
	}
	size_t n = hw->nitems;
	if (n > 4096)
		return od_err_set(e, OD_E_INVALID, "the VirtualHardwareSection has %zu Items; more than 4096 is refused", n);
	out->disks = calloc(n ? n : 1, sizeof *out->disks);
	out->controllers = calloc(n ? n : 1, sizeof *out->controllers);
	out->nics = calloc(n ? n : 1, sizeof *out->nics);
	if (!out->disks || !out->controllers || !out->nics) {
		ovf_hardware_free(out);
		return od_err_nomem(e);
	}
	for (size_t i = 0; i < n; i++) {
		const struct ovf_item *it = &hw->items[i];
		if (!normal(it) || !ovf_item_effective(hw, i, config))
			continue;
		int rt = it->resource_type_num;
		if (rt == 3) {
			uint64_t q;
			if (ovf_parse_u64(it->virtual_quantity, &q) < 0 || q == 0 || q > 1024) {
				ovf_hardware_free(out);
				return od_err_set(e, OD_E_INVALID, "line %d: processor count '%s' is not a number from 1 to 1024",
						  it->line, it->virtual_quantity ? it->virtual_quantity : "");
			}
			out->cpus = q;
		} else if (rt == 4) {
			uint64_t b;
			/* RASD's default unit for memory is bytes, but every tool
			 * writes AllocationUnits; MB is what they all mean when
			 * they forget it. */
			const char *units = it->allocation_units ? it->allocation_units : "byte * 2^20";
			od_err ue = {0};
			if (ovf_bytes(it->virtual_quantity, units, &b, &ue) < 0) {
				ovf_hardware_free(out);
				return od_err_set(e, OD_E_INVALID, "line %d: memory size: %s", it->line, ue.msg);
			}
			out->memory_bytes = b;
		} else if ((rt >= 5 && rt <= 9) || rt == 20 || rt == 23 || (rt == 1 && is_parent(hw, it))) {
			out->controllers[out->ncontrollers++] = it;
		} else if (rt == 10 || rt == 11 || rt == 33 || it->kind == OVF_ITEM_ETHERNET) {
			struct ovf_hw_nic *nic = &out->nics[out->nnics++];
			nic->item = it;
			nic->network = it->nconnections ? it->connections[0] : NULL;
			nic->model = it->resource_sub_type;
			nic->mac = it->address;
		} else if (rt == 14 || rt == 15 || rt == 16 || rt == 17 || rt == 31 || it->kind == OVF_ITEM_STORAGE) {
			const char *id = NULL;
			const struct ovf_disk *d = NULL;
			const struct ovf_file *f = NULL;
			for (size_t k = 0; k < it->nhost_resources; k++) {
				if (hostres(it->host_resources[k], "disk", &id)) {
					d = ovf_find_disk(env, id);
					if (!d) {
						ovf_hardware_free(out);
						return od_err_set(e, OD_E_INVALID, "line %d: HostResource '%s' names no Disk",
								  it->line, it->host_resources[k]);
					}
					f = d->file_ref ? ovf_find_file(env, d->file_ref) : NULL;
					break;
				}
				if (hostres(it->host_resources[k], "file", &id)) {
					f = ovf_find_file(env, id);
					if (!f) {
						ovf_hardware_free(out);
						return od_err_set(e, OD_E_INVALID, "line %d: HostResource '%s' names no File",
								  it->line, it->host_resources[k]);
					}
					break;
				}
			}
			bool cd = rt == 15 || rt == 16;
			/* A CD or floppy drive with nothing in it is still a device,
			 * but not a disk to provision; a disk drive needs a disk. */
			if (!d && !f && !cd && rt != 14)
				continue;
			struct ovf_hw_disk *hd = &out->disks[out->ndisks++];
			hd->item = it;
			hd->disk = d;
			hd->file = f;
			hd->cdrom = cd;
			hd->file_ref = d ? d->file_ref : f ? f->id : NULL;
			hd->href = f ? f->href : NULL;
			hd->address_on_parent = it->address_on_parent;
			if (d && d->capacity && d->capacity[0] != '$') {
				od_err ce = {0};
				if (ovf_bytes(d->capacity, d->capacity_units, &hd->capacity_bytes, &ce) < 0) {
					ovf_hardware_free(out);
					return od_err_set(e, OD_E_INVALID, "line %d: disk '%s' capacity: %s", d->line,
							  d->disk_id ? d->disk_id : "?", ce.msg);
				}
			}
			if (it->parent)
				for (size_t k = 0; k < n; k++)
					if (hw->items[k].instance_id && !strcmp(hw->items[k].instance_id, it->parent) &&
					    normal(&hw->items[k]) && ovf_item_effective(hw, k, config)) {
						hd->controller = &hw->items[k];
						break;
					}
		}
	}
	return 0;
}
