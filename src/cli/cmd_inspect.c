/*
 * cmd_inspect.c - 'ovfdeploy inspect FILE.ovf': what a deployer needs to
 * know about an appliance.
 *
 * inspect describes, it does not judge: a descriptor that parses is shown
 * even when validate would refuse it (hardware that cannot be resolved for a
 * configuration is shown with an "error" string instead).  Exit status: 0
 * shown, 1 not a descriptor we can read (not XML we accept, not an OVF
 * envelope), 2 usage, 3 I/O.
 *
 * --json prints one object, stable (fields are only ever added):
 *
 * {
 *   "file": str, "version": "0.9"|"1.x"|"2.x"|"unknown",
 *   "product": {"name", "vendor", "version", "full_version", "product_url",
 *               "vendor_url", "app_url"} | null,   (first ProductSection with a Product)
 *   "default_configuration": str | null,
 *   "configurations": [{"id", "label", "description", "default": bool}],
 *   "networks": [{"name", "description"}],
 *   "files": [{"id", "href", "size": int|null, "compression", "chunk_size": int|null}],
 *   "disks": [{"id", "file_ref", "href", "parent_ref", "format",
 *              "capacity": str, "capacity_units": str|null,
 *              "capacity_bytes": int|null, "populated_size": str|null}],
 *   "virtual_systems": [{
 *      "id", "name", "info", "collection": str|null (id of the enclosing collection),
 *      "os": {"id", "version", "description", "type"} | null,
 *      "hardware": [{                              (one per configuration; one with
 *         "configuration": str|null,                configuration null when there are none)
 *         "system_type": str|null, "transport": str|null,
 *         "guest_sees": {"platform": "vmware"|"generic", "cpuid_hypervisor": str,
 *            "kvm_cpuid_base": str, "smbios_manufacturer", "smbios_product",
 *            "vmware_backdoor": bool, "environment": [str] ("guestinfo.ovfEnv", "iso")}
 *            (what a deploy with the default --platform auto gives the guest),
 *         "cpus": int, "memory_bytes": int,
 *         "firmware": "bios"|"efi", "firmware_source": "vmw:Config"|"vbox:Machine"|null (null: BIOS by default),
 *         "controllers": [{"instance_id", "resource_type": int, "type", "subtype", "address"}],
 *         "disks": [{"instance_id", "name", "disk_id", "file_ref", "href",
 *                    "capacity_bytes": int|null, "controller", "address_on_parent",
 *                    "cdrom": bool}],
 *         "nics": [{"instance_id", "network", "model", "mac"}],
 *         "plan": {                                (the hardware plan, --hardware described)
 *            "controllers": [{"model", "index": int, "instance_id", "qemu": CHOICE, "embedded": CHOICE}],
 *            "disks": [{"instance_id" (null: the CD the plan adds), "controller": int|null (index in
 *                       controllers; null: its own virtio-blk), "unit": int, "cdrom", "boot",
 *                       "environment": bool (the OVF environment CD goes here)}],
 *            "nics": [{"instance_id", "model", "qemu": CHOICE, "embedded": CHOICE}],
 *            "notes": [str],
 *            "error": str (only when no plan can be made)}
 *           CHOICE: {"device", "exact": bool, "why": str|null, "driver" (the guest's Linux driver)}
 *         "error": str (only when the hardware could not be resolved)}],
 *      "products": [{"class", "instance", "name", "vendor", "version", "full_version",
 *         "properties": [{"key", "id" (class.key.instance as in ovf-env.xml),
 *            "type", "default": str|null (as written), "label", "description",
 *            "category", "user_configurable": bool, "password": bool,
 *            "qualifiers": str|null, "configuration": str|null,
 *            "values": [{"configuration", "value"}]}]}],
 *      "eulas": [str],
 *      "annotation": str|null}]
 * }
 * Strings that the descriptor does not give are null.
 */
#include "config.h"
#include "cli/cli.h"
#include "ovf/ovf.h"
#include "deploy/deploy.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ovfdeploy inspect [options] FILE.ovf\n"
		"\n"
		"Show what an appliance contains and needs: product, deployment options,\n"
		"virtual hardware per option, disks, networks, properties, EULAs, files.\n"
		"\n"
		"Options:\n"
		"  --json       print a JSON document (its shape is in ovfdeploy(1))\n"
		"  -q, --quiet  print nothing; only the exit status tells whether it parses\n"
		"  -h, --help   this help\n");
}

/* "1 GiB", "64 MiB", "1536 KiB", "123 bytes": exact when it can be. */
static const char *human(uint64_t b, char *buf, size_t n)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	int u = 0;
	while (u < 6 && b >= 1024 && b % 1024 == 0) {
		b /= 1024;
		u++;
	}
	snprintf(buf, n, "%" PRIu64 " %s", b, units[u]);
	return buf;
}

static const struct ovf_product *main_product(const ovf_envelope *env)
{
	for (size_t s = 0; s < env->nsystems; s++)
		for (size_t i = 0; i < env->systems[s]->nproducts; i++)
			if (env->systems[s]->products[i].product)
				return &env->systems[s]->products[i];
	if (env->content)
		for (size_t i = 0; i < env->content->nproducts; i++)
			if (env->content->products[i].product)
				return &env->content->products[i];
	return NULL;
}

/* The id a property has in ovf-env.xml: [class.]key[.instance] */
static char *prop_id(const struct ovf_product *pr, const struct ovf_property *p)
{
	return od_asprintf("%s%s%s%s%s", pr->class_ ? pr->class_ : "", pr->class_ ? "." : "", p->key ? p->key : "",
			   pr->instance ? "." : "", pr->instance ? pr->instance : "");
}

static const char *collection_of(const ovf_envelope *env, const struct ovf_virtual_system *vs)
{
	const struct ovf_virtual_system *c = env->content;
	if (!c || !c->is_collection)
		return NULL;
	/* one level is what real appliances use; deeper trees name the root */
	for (size_t i = 0; i < c->nchildren; i++)
		if (&c->children[i] == vs)
			return c->id;
	return c->id;
}

/* What a deploy (--platform auto) shows the guest: deploy/vmware.c. */
struct guest_view {
	bool vmware, iso, guestinfo;
};
static struct guest_view guest_view(const struct ovf_hw_section *s)
{
	struct guest_view v = { deploy_is_vmware_system(s->system_type), false, false };
	deploy_transports(s->transport, &v.iso, &v.guestinfo);
	v.vmware = v.vmware || v.guestinfo;
	if (!v.iso && !v.guestinfo)
		v.iso = true; /* no transport named: we give the CD anyway */
	return v;
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_hardware(json_w *w, const ovf_envelope *env, const struct ovf_virtual_system *vs, const char *cfg)
{
	struct ovf_hardware hw;
	od_err e = {0};
	json_obj_begin(w, NULL);
	json_str(w, "configuration", cfg);
	if (ovf_hardware_get(env, vs, cfg, &hw, &e) < 0) {
		json_str(w, "error", e.msg);
		json_obj_end(w);
		return;
	}
	json_str(w, "system_type", hw.section->system_type);
	json_str(w, "transport", hw.section->transport);
	struct guest_view gv = guest_view(hw.section);
	json_obj_begin(w, "guest_sees");
	json_str(w, "platform", gv.vmware ? "vmware" : "generic");
	json_str(w, "cpuid_hypervisor", gv.vmware ? "VMwareVMware" : "KVMKVMKVM");
	json_str(w, "kvm_cpuid_base", gv.vmware ? "0x40000100" : "0x40000000");
	json_str(w, "smbios_manufacturer", gv.vmware ? "VMware, Inc." : "QEMU");
	json_str(w, "smbios_product", gv.vmware ? "VMware Virtual Platform" : "QEMU");
	json_bool(w, "vmware_backdoor", gv.vmware);
	json_arr_begin(w, "environment");
	if (gv.guestinfo)
		json_str(w, NULL, "guestinfo.ovfEnv");
	if (gv.iso)
		json_str(w, NULL, "iso");
	json_arr_end(w);
	json_obj_end(w);
	json_uint(w, "cpus", hw.cpus);
	json_uint(w, "memory_bytes", hw.memory_bytes);
	json_str(w, "firmware", ovf_firmware_name(hw.firmware));
	json_str(w, "firmware_source", hw.firmware_source);
	json_arr_begin(w, "controllers");
	for (size_t i = 0; i < hw.ncontrollers; i++) {
		const struct ovf_item *it = hw.controllers[i];
		json_obj_begin(w, NULL);
		json_str(w, "instance_id", it->instance_id);
		json_int(w, "resource_type", it->resource_type_num);
		json_str(w, "type", ovf_resource_type_name(it->resource_type_num));
		json_str(w, "subtype", it->resource_sub_type);
		json_str(w, "address", it->address);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_arr_begin(w, "disks");
	for (size_t i = 0; i < hw.ndisks; i++) {
		const struct ovf_hw_disk *d = &hw.disks[i];
		json_obj_begin(w, NULL);
		json_str(w, "instance_id", d->item->instance_id);
		json_str(w, "name", d->item->element_name);
		json_str(w, "disk_id", d->disk ? d->disk->disk_id : NULL);
		json_str(w, "file_ref", d->file_ref);
		json_str(w, "href", d->href);
		if (d->capacity_bytes)
			json_uint(w, "capacity_bytes", d->capacity_bytes);
		else
			json_null(w, "capacity_bytes");
		json_str(w, "controller", d->controller ? d->controller->instance_id : NULL);
		json_str(w, "address_on_parent", d->address_on_parent);
		json_bool(w, "cdrom", d->cdrom);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_arr_begin(w, "nics");
	for (size_t i = 0; i < hw.nnics; i++) {
		const struct ovf_hw_nic *n = &hw.nics[i];
		json_obj_begin(w, NULL);
		json_str(w, "instance_id", n->item->instance_id);
		json_str(w, "network", n->network);
		json_str(w, "model", n->model);
		json_str(w, "mac", n->mac);
		json_obj_end(w);
	}
	json_arr_end(w);
	cli_hwplan_json(w, &hw);
	json_obj_end(w);
	ovf_hardware_free(&hw);
}

static void json_product_fields(json_w *w, const struct ovf_product *pr)
{
	json_str(w, "name", pr->product);
	json_str(w, "vendor", pr->vendor);
	json_str(w, "version", pr->version);
	json_str(w, "full_version", pr->full_version);
}

static int print_json(const char *path, const ovf_envelope *env)
{
	json_w w;
	json_init(&w, stdout);
	json_obj_begin(&w, NULL);
	json_str(&w, "file", path);
	json_str(&w, "version", ovf_version_name(env->version));
	const struct ovf_product *mp = main_product(env);
	if (mp) {
		json_obj_begin(&w, "product");
		json_product_fields(&w, mp);
		json_str(&w, "product_url", mp->product_url);
		json_str(&w, "vendor_url", mp->vendor_url);
		json_str(&w, "app_url", mp->app_url);
		json_obj_end(&w);
	} else {
		json_null(&w, "product");
	}
	const struct ovf_config *dc = ovf_default_config(env);
	json_str(&w, "default_configuration", dc ? dc->id : NULL);
	json_arr_begin(&w, "configurations");
	for (size_t i = 0; i < env->nconfigs; i++) {
		json_obj_begin(&w, NULL);
		json_str(&w, "id", env->configs[i].id);
		json_str(&w, "label", env->configs[i].label);
		json_str(&w, "description", env->configs[i].description);
		json_bool(&w, "default", &env->configs[i] == dc);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_arr_begin(&w, "networks");
	for (size_t i = 0; i < env->nnetworks; i++) {
		json_obj_begin(&w, NULL);
		json_str(&w, "name", env->networks[i].name);
		json_str(&w, "description", env->networks[i].description);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_arr_begin(&w, "files");
	for (size_t i = 0; i < env->nfiles; i++) {
		const struct ovf_file *f = &env->files[i];
		json_obj_begin(&w, NULL);
		json_str(&w, "id", f->id);
		json_str(&w, "href", f->href);
		if (f->has_size)
			json_uint(&w, "size", f->size);
		else
			json_null(&w, "size");
		json_str(&w, "compression", f->compression);
		if (f->has_chunk_size)
			json_int(&w, "chunk_size", f->chunk_size);
		else
			json_null(&w, "chunk_size");
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_arr_begin(&w, "disks");
	for (size_t i = 0; i < env->ndisks; i++) {
		const struct ovf_disk *d = &env->disks[i];
		const struct ovf_file *f = ovf_find_file(env, d->file_ref);
		uint64_t cap;
		json_obj_begin(&w, NULL);
		json_str(&w, "id", d->disk_id);
		json_str(&w, "file_ref", d->file_ref);
		json_str(&w, "href", f ? f->href : NULL);
		json_str(&w, "parent_ref", d->parent_ref);
		json_str(&w, "format", d->format);
		json_str(&w, "capacity", d->capacity);
		json_str(&w, "capacity_units", d->capacity_units);
		if (d->capacity && ovf_bytes(d->capacity, d->capacity_units, &cap, NULL) == 0)
			json_uint(&w, "capacity_bytes", cap);
		else
			json_null(&w, "capacity_bytes");
		json_str(&w, "populated_size", d->populated_size);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_arr_begin(&w, "virtual_systems");
	for (size_t s = 0; s < env->nsystems; s++) {
		const struct ovf_virtual_system *vs = env->systems[s];
		json_obj_begin(&w, NULL);
		json_str(&w, "id", vs->id);
		json_str(&w, "name", vs->name);
		json_str(&w, "info", vs->info);
		json_str(&w, "collection", collection_of(env, vs));
		if (vs->has_os) {
			json_obj_begin(&w, "os");
			json_str(&w, "id", vs->os_id);
			json_str(&w, "version", vs->os_version);
			json_str(&w, "description", vs->os_description);
			json_str(&w, "type", vs->os_type);
			json_obj_end(&w);
		} else {
			json_null(&w, "os");
		}
		json_arr_begin(&w, "hardware");
		if (vs->nhw) {
			if (!env->nconfigs)
				json_hardware(&w, env, vs, NULL);
			for (size_t c = 0; c < env->nconfigs; c++)
				if (env->configs[c].id)
					json_hardware(&w, env, vs, env->configs[c].id);
		}
		json_arr_end(&w);
		json_arr_begin(&w, "products");
		for (size_t i = 0; i < vs->nproducts; i++) {
			const struct ovf_product *pr = &vs->products[i];
			json_obj_begin(&w, NULL);
			json_str(&w, "class", pr->class_);
			json_str(&w, "instance", pr->instance);
			json_product_fields(&w, pr);
			json_arr_begin(&w, "properties");
			for (size_t k = 0; k < pr->nprops; k++) {
				const struct ovf_property *p = &pr->props[k];
				char *id = prop_id(pr, p);
				json_obj_begin(&w, NULL);
				json_str(&w, "key", p->key);
				json_str(&w, "id", id);
				json_str(&w, "type", p->type);
				json_str(&w, "default", p->value);
				json_str(&w, "label", p->label);
				json_str(&w, "description", p->description);
				json_str(&w, "category", p->category);
				json_bool(&w, "user_configurable", p->user_configurable);
				json_bool(&w, "password", p->password);
				json_str(&w, "qualifiers", p->qualifiers);
				json_str(&w, "configuration", p->configuration);
				json_arr_begin(&w, "values");
				for (size_t j = 0; j < p->nvalues; j++) {
					json_obj_begin(&w, NULL);
					json_str(&w, "configuration", p->values[j].configuration);
					json_str(&w, "value", p->values[j].value);
					json_obj_end(&w);
				}
				json_arr_end(&w);
				json_obj_end(&w);
				free(id);
			}
			json_arr_end(&w);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_arr_begin(&w, "eulas");
		for (size_t i = 0; i < vs->neulas; i++)
			json_str(&w, NULL, vs->eulas[i].license);
		json_arr_end(&w);
		json_str(&w, "annotation", vs->annotation);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_obj_end(&w);
	json_finish(&w);
	return EXIT_OK;
}

/* ---- text ---------------------------------------------------------------- */

static const char *or(const char *s, const char *dflt)
{
	return s && *s ? s : dflt;
}

static void text_hardware(const ovf_envelope *env, const struct ovf_virtual_system *vs, const char *cfg,
			  bool is_default)
{
	struct ovf_hardware hw;
	od_err e = {0};
	char b1[48];
	if (cfg)
		printf("  Configuration %s%s:\n", cfg, is_default ? " (default)" : "");
	else
		printf("  Hardware:\n");
	if (ovf_hardware_get(env, vs, cfg, &hw, &e) < 0) {
		printf("    cannot be resolved: %s\n", e.msg);
		return;
	}
	printf("    %" PRIu64 " CPU%s, %s of memory", hw.cpus, hw.cpus == 1 ? "" : "s",
	       hw.memory_bytes ? human(hw.memory_bytes, b1, sizeof b1) : "unknown amount");
	if (hw.section->system_type)
		printf(", type %s", hw.section->system_type);
	if (hw.section->transport)
		printf(", environment transport %s", hw.section->transport);
	printf("\n");
	printf("    firmware %s%s%s\n", hw.firmware == OVF_FIRMWARE_EFI ? "EFI" : "BIOS",
	       hw.firmware_source ? ", from " : " (the default)", hw.firmware_source ? hw.firmware_source : "");
	struct guest_view gv = guest_view(hw.section);
	if (gv.vmware)
		printf("    the guest sees VMware (embedded runner): CPUID 0x40000000 \"VMwareVMware\" (KVM's leaves at 0x40000100: kvmclock "
		       "stays), SMBIOS \"VMware, Inc.\" \"VMware Virtual Platform\", backdoor port 0x5658 (ESX, version 6)\n");
	else
		printf("    the guest sees a KVM PC: CPUID 0x40000000 \"KVMKVMKVM\", SMBIOS \"QEMU\"\n");
	if (gv.guestinfo)
		printf("    environment: guestinfo.ovfEnv through the backdoor (embedded runner; the guest's tools reach it "
		       "when kvm has enable_vmware_backdoor=1)%s\n",
		       gv.iso ? " and on a CD" : ", else on a CD");
	else
		printf("    environment: on a CD (ovf-env.xml)\n");
	for (size_t i = 0; i < hw.ncontrollers; i++) {
		const struct ovf_item *it = hw.controllers[i];
		printf("    controller %s: %s%s%s%s\n", or(it->instance_id, "?"),
		       or(ovf_resource_type_name(it->resource_type_num), "controller"), it->resource_sub_type ? " (" : "",
		       it->resource_sub_type ? it->resource_sub_type : "", it->resource_sub_type ? ")" : "");
	}
	for (size_t i = 0; i < hw.ndisks; i++) {
		const struct ovf_hw_disk *d = &hw.disks[i];
		printf("    %s %s: ", d->cdrom ? "cdrom" : "disk", or(d->item->instance_id, "?"));
		if (d->disk)
			printf("%s, ", or(d->disk->disk_id, "?"));
		if (d->capacity_bytes)
			printf("%s, ", human(d->capacity_bytes, b1, sizeof b1));
		printf("%s", d->href ? d->href : d->cdrom ? "empty" : "new empty disk");
		if (d->controller)
			printf(", on controller %s", or(d->controller->instance_id, "?"));
		if (d->address_on_parent)
			printf(" at %s", d->address_on_parent);
		printf("\n");
	}
	for (size_t i = 0; i < hw.nnics; i++) {
		const struct ovf_hw_nic *n = &hw.nics[i];
		printf("    nic %s: network %s%s%s%s\n", or(n->item->instance_id, "?"), or(n->network, "(none)"),
		       n->model ? " (" : "", n->model ? n->model : "", n->model ? ")" : "");
	}
	cli_hwplan_text(&hw);
	ovf_hardware_free(&hw);
}

static void print_text(const char *path, const ovf_envelope *env)
{
	char b1[48];
	printf("%s: OVF %s\n", path, ovf_version_name(env->version));
	const struct ovf_product *mp = main_product(env);
	if (mp) {
		printf("Product: %s", mp->product);
		if (mp->version)
			printf(" %s", mp->version);
		if (mp->vendor)
			printf(", by %s", mp->vendor);
		printf("\n");
	}
	const struct ovf_config *dc = ovf_default_config(env);
	if (env->nconfigs) {
		printf("Deployment options:\n");
		for (size_t i = 0; i < env->nconfigs; i++) {
			const struct ovf_config *c = &env->configs[i];
			printf("  %s%s%s%s\n", or(c->id, "?"), c == dc ? " (default)" : "", c->label ? ": " : "",
			       c->label ? c->label : "");
		}
	}
	if (env->nnetworks) {
		printf("Networks:\n");
		for (size_t i = 0; i < env->nnetworks; i++)
			printf("  %s%s%s\n", or(env->networks[i].name, "?"), env->networks[i].description ? ": " : "",
			       env->networks[i].description ? env->networks[i].description : "");
	}
	if (env->nfiles) {
		printf("Files:\n");
		for (size_t i = 0; i < env->nfiles; i++) {
			const struct ovf_file *f = &env->files[i];
			printf("  %s: %s", or(f->id, "?"), or(f->href, "?"));
			if (f->has_size)
				printf(", %s", human(f->size, b1, sizeof b1));
			if (f->compression)
				printf(", %s", f->compression);
			printf("\n");
		}
	}
	if (env->ndisks) {
		printf("Disks:\n");
		for (size_t i = 0; i < env->ndisks; i++) {
			const struct ovf_disk *d = &env->disks[i];
			uint64_t cap;
			printf("  %s: ", or(d->disk_id, "?"));
			if (d->capacity && ovf_bytes(d->capacity, d->capacity_units, &cap, NULL) == 0)
				printf("%s", human(cap, b1, sizeof b1));
			else
				printf("capacity %s", or(d->capacity, "?"));
			printf(", %s\n", d->file_ref ? d->file_ref : "no file (created empty)");
		}
	}
	for (size_t s = 0; s < env->nsystems; s++) {
		const struct ovf_virtual_system *vs = env->systems[s];
		printf("Virtual system %s", or(vs->id, "?"));
		if (vs->name)
			printf(" (%s)", vs->name);
		const char *coll = collection_of(env, vs);
		if (coll)
			printf(" in collection %s", coll);
		printf("\n");
		if (vs->has_os)
			printf("  Guest OS: %s%s%s%s\n", or(vs->os_description, "unknown"), vs->os_id ? " [CIM id " : "",
			       vs->os_id ? vs->os_id : "", vs->os_id ? "]" : "");
		if (vs->nhw) {
			if (!env->nconfigs)
				text_hardware(env, vs, NULL, false);
			for (size_t c = 0; c < env->nconfigs; c++)
				if (env->configs[c].id)
					text_hardware(env, vs, env->configs[c].id, &env->configs[c] == dc);
		}
		for (size_t i = 0; i < vs->nproducts; i++) {
			const struct ovf_product *pr = &vs->products[i];
			if (!pr->nprops)
				continue;
			printf("  Properties%s%s%s:\n", pr->class_ ? " (class " : "", pr->class_ ? pr->class_ : "",
			       pr->class_ ? ")" : "");
			for (size_t k = 0; k < pr->nprops; k++) {
				const struct ovf_property *p = &pr->props[k];
				char *id = prop_id(pr, p);
				printf("    %s: %s", or(id, "?"), or(p->type, "?"));
				if (p->value)
					printf(" = \"%s\"", p->password ? "****" : p->value);
				if (p->user_configurable)
					printf(", configurable");
				if (p->password)
					printf(", password");
				if (p->qualifiers)
					printf(", %s", p->qualifiers);
				if (p->configuration)
					printf(", only in %s", p->configuration);
				printf("\n");
				if (p->label || p->description)
					printf("      %s%s%s\n", or(p->label, ""), p->label && p->description ? " - " : "",
					       or(p->description, ""));
				free(id);
			}
		}
		for (size_t i = 0; i < vs->neulas; i++) {
			/* the first line, at most 70 bytes of it */
			const char *l = or(vs->eulas[i].license, "");
			size_t n = strcspn(l, "\n");
			bool cut = l[n] != 0 || n > 70;
			if (n > 70)
				n = 70;
			printf("  EULA: %.*s%s (accept with --accept-eula when deploying)\n", (int)n, l, cut ? "..." : "");
		}
		if (vs->annotation)
			printf("  Annotation: %s\n", vs->annotation);
	}
}

int cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = cli_next_opt(argc, argv, "qvh", opts, usage)) != -1) {
		if (c == CLI_OPT_HELP)
			return EXIT_OK;
		return cli_usage_error("inspect", "unknown option '%s'", argv[optind - 1]);
	}
	if (optind != argc - 1)
		return cli_usage_error("inspect", optind >= argc ? "no descriptor given" : "one descriptor at a time");
	const char *path = argv[optind];
	od_err e = {0};
	ovf_envelope *env = ovf_envelope_parse_any(path, &e);
	if (!env)
		return cli_fail(&e);
	if (cli.json)
		print_json(path, env);
	else if (!cli.quiet)
		print_text(path, env);
	ovf_envelope_free(env);
	return EXIT_OK;
}
