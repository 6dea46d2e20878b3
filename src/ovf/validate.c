/*
 * validate.c - deployability of a descriptor, as ovftool judges it.
 *
 * Errors block a deployment, warnings do not.  Every rule has a stable code
 * (the table below, which doc/ovfdeploy.1 and the tests list) and says what
 * to change.  The rules come from DSP0243 and from what VMware's OVF
 * conformance suite accepts and refuses; where ovftool is more lenient than
 * the standard (RASD "InstanceId", "/disk/ID" host resources, "MegaBytes"),
 * we follow ovftool and warn.
 *
 * --lax turns the errors ovftool's --lax tolerates (conformance of sections
 * and hardware, not broken references) into warnings.
 *
 * Hostile input: counts come from the descriptor, so every pairwise check is
 * bounded (MAX_PAIRWISE items, MAX_CONFIGS configurations): past those the
 * check is skipped with a warning rather than taking minutes.
 */
#include "config.h"
#include "ovf/ovf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PAIRWISE 4096
#define MAX_CONFIGS 256

struct rule {
	const char *code;
	bool laxable; /* an error that --lax makes a warning */
	bool warning; /* always a warning */
};

/* Every diagnostic code validate emits. */
static const struct rule rules[] = {
	{"envelope-version", false, false},
	{"content-missing", false, false},
	{"content-multiple", false, false},
	{"content-nested", false, false},
	{"content-too-deep", false, false},
	{"vs-id-missing", false, false},
	{"vs-id-duplicate", false, false},
	{"info-missing", true, false},
	{"section-info-missing", true, false},
	{"section-misplaced", true, false},
	{"section-unknown-required", true, false},
	{"section-unknown", false, true},
	{"references-missing", false, true},
	{"file-id-missing", false, false},
	{"file-id-duplicate", false, false},
	{"file-href-missing", false, false},
	{"file-href-duplicate", false, false},
	{"file-href-remote", false, false},
	{"file-size-invalid", false, false},
	{"file-size-negative", false, true},
	{"file-chunksize", false, false},
	{"file-compression", false, false},
	{"file-unused", false, true},
	{"disk-id-missing", false, false},
	{"disk-id-duplicate", false, false},
	{"disk-fileref-unresolved", false, false},
	{"disk-fileref-duplicate", false, false},
	{"disk-file-order", true, false},
	{"disk-parentref-unresolved", false, false},
	{"disk-parentref-cycle", false, false},
	{"disk-capacity-missing", false, false},
	{"disk-capacity-invalid", false, false},
	{"disk-capacity-zero", false, false},
	{"disk-capacity-property", false, true},
	{"disk-units", false, false},
	{"disk-populated-size", false, false},
	{"disk-format-missing", true, false},
	{"disk-unused", false, true},
	{"network-name-missing", false, false},
	{"network-duplicate", false, false},
	{"config-empty", false, false},
	{"config-default-multiple", false, false},
	{"config-default-missing", false, true},
	{"config-id-missing", false, false},
	{"config-id-duplicate", false, false},
	{"config-unknown", false, false},
	{"hw-missing", true, false},
	{"item-instanceid-missing", true, false},
	{"item-instanceid-duplicate", false, false},
	{"item-resourcetype-missing", true, false},
	{"item-resourcetype-unknown", true, false},
	{"item-resourcetype-unknown-optional", false, true},
	{"item-element-unknown", true, false},
	{"item-hostresource-unresolved", false, false},
	{"item-connection-unresolved", false, false},
	{"item-parent-unresolved", false, false},
	{"item-parent-not-controller", true, false},
	{"item-address-conflict", false, false},
	{"item-units", true, false},
	{"item-units-nonstandard", false, true},
	{"item-quantity-invalid", true, false},
	{"item-quantity-missing", true, false},
	{"item-bound-invalid", true, false},
	{"item-bound-duplicate", true, false},
	{"item-resource-multiple", true, false},
	{"item-check-skipped", false, true},
	{"product-duplicate", true, false},
	{"property-key-missing", false, false},
	{"property-key-duplicate", false, false},
	{"property-type-missing", false, false},
	{"property-type-unknown", false, false},
	{"property-type-nonstandard", false, true},
	{"property-qualifiers", true, false},
	{"property-qualifier-unchecked", false, true},
	{"property-value-invalid", true, false},
	{"xml-namespace", false, true},
};

const char *const *ovf_validate_codes(size_t *n)
{
	static const char *codes[sizeof rules / sizeof rules[0]];
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		codes[i] = rules[i].code;
	*n = sizeof rules / sizeof rules[0];
	return codes;
}

struct v {
	const ovf_envelope *env;
	unsigned flags;
	struct ovf_diags *out;
	size_t errors;
	bool oom;
};

static void report(struct v *v, const char *code, int line, const char *fmt, ...) OD_PRINTF(4, 5);
static void report(struct v *v, const char *code, int line, const char *fmt, ...)
{
	int sev = OVF_DIAG_ERROR;
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (!strcmp(rules[i].code, code)) {
			if (rules[i].warning || (rules[i].laxable && (v->flags & OVF_VALIDATE_LAX)))
				sev = OVF_DIAG_WARNING;
			break;
		}
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (ovf_diags_add(v->out, sev, code, line, "%s", msg) < 0)
		v->oom = true;
	else if (sev == OVF_DIAG_ERROR)
		v->errors++;
}

static bool streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static bool blank(const char *s)
{
	if (!s)
		return true;
	while (*s && isspace((unsigned char)*s))
		s++;
	return !*s;
}

/* "${name}": a capacity given by a property. */
static bool is_property_ref(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n > 3 && s[0] == '$' && s[1] == '{' && s[n - 1] == '}';
}

/* ---- envelope, content, sections ------------------------------------------- */

/* Where each known section may stand (DSP0243 table 5 and ovftool's view). */
static bool section_allowed(const char *name, const char *where)
{
	static const struct {
		const char *name;
		bool env, vs, vsc;
	} places[] = {
		{"DiskSection", true, false, false},
		{"NetworkSection", true, false, false},
		{"DeploymentOptionSection", true, false, false},
		{"AnnotationSection", false, true, true},
		{"ProductSection", false, true, true},
		{"EulaSection", false, true, true},
		{"VirtualHardwareSection", false, true, false},
		{"OperatingSystemSection", false, true, false},
		{"InstallSection", false, true, false},
		{"StartupSection", false, false, true},
		{"ResourceAllocationSection", false, false, true},
	};
	for (size_t i = 0; i < sizeof places / sizeof places[0]; i++) {
		if (strcmp(places[i].name, name))
			continue;
		if (!strcmp(where, "envelope"))
			return places[i].env;
		if (!strcmp(where, "VirtualSystem"))
			return places[i].vs;
		return places[i].vsc;
	}
	return true;
}

static void check_sections(struct v *v)
{
	const ovf_envelope *env = v->env;
	for (size_t i = 0; i < env->nsections; i++) {
		const struct ovf_section *s = &env->sections[i];
		if (!s->known) {
			if (s->required)
				report(v, "section-unknown-required", s->line,
				       "%s is not a section we understand and is required (ovf:required defaults to true); "
				       "mark it ovf:required=\"false\" or remove it", s->name);
			else
				report(v, "section-unknown", s->line, "ignoring %s (not understood, not required)", s->name);
		} else if (!section_allowed(s->name, s->where)) {
			report(v, "section-misplaced", s->line, "%s is not allowed in %s%s; move it", s->name,
			       !strcmp(s->where, "envelope") ? "the " : "a ", s->where);
		}
		if (!s->has_info && (s->known || s->required))
			report(v, "section-info-missing", s->line, "%s has no Info element; add <Info>...</Info>", s->name);
	}
}

static void check_vs(struct v *v, const struct ovf_virtual_system *vs)
{
	if (!vs->id)
		report(v, "vs-id-missing", vs->line, "%s has no ovf:id; add one",
		       vs->is_collection ? "VirtualSystemCollection" : "VirtualSystem");
	if (!vs->has_info)
		report(v, "info-missing", vs->line, "%s%s%s%s has no Info element; add <Info>...</Info>",
		       vs->is_collection ? "VirtualSystemCollection" : "VirtualSystem", vs->id ? " '" : "",
		       vs->id ? vs->id : "", vs->id ? "'" : "");
	if (!vs->is_collection && vs->nhw == 0)
		report(v, "hw-missing", vs->line, "VirtualSystem '%s' has no VirtualHardwareSection",
		       vs->id ? vs->id : "?");
	for (size_t i = 0; i < vs->nchildren; i++)
		check_vs(v, &vs->children[i]);
}

static void collect_ids(const struct ovf_virtual_system *vs, const struct ovf_virtual_system **all, size_t *n,
			size_t max)
{
	if (*n < max)
		all[(*n)++] = vs;
	for (size_t i = 0; i < vs->nchildren; i++)
		collect_ids(&vs->children[i], all, n, max);
}

static void check_content(struct v *v)
{
	const ovf_envelope *env = v->env;
	if (!env->content) {
		report(v, "content-missing", env->line,
		       "the envelope has no VirtualSystem or VirtualSystemCollection; add one");
		return;
	}
	if (env->ncontent > 1)
		report(v, "content-multiple", env->line,
		       "the envelope has %zu content elements; it may have only one (wrap them in a "
		       "VirtualSystemCollection)", env->ncontent);
	check_vs(v, env->content);
	/* ids are unique across the whole tree */
	const struct ovf_virtual_system *all[512];
	size_t n = 0;
	collect_ids(env->content, all, &n, 512);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (streq(all[i]->id, all[j]->id)) {
				report(v, "vs-id-duplicate", all[i]->line, "virtual system id '%s' is used twice (line %d)",
				       all[i]->id, all[j]->line);
				break;
			}
}

/* ---- References ------------------------------------------------------------- */

static bool href_remote(const char *h)
{
	if (h[0] == '/' || h[0] == '\\')
		return true;
	/* scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
	if (isalpha((unsigned char)h[0])) {
		const char *p = h + 1;
		while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
			p++;
		if (*p == ':')
			return true;
	}
	/* any ".." path segment leaves the package */
	const char *p = h;
	while (*p) {
		const char *b = p;
		while (*p && *p != '/' && *p != '\\')
			p++;
		if (p - b == 2 && b[0] == '.' && b[1] == '.')
			return true;
		if (*p)
			p++;
	}
	return false;
}

static bool file_used(const ovf_envelope *env, const char *id);

static void check_files(struct v *v)
{
	const ovf_envelope *env = v->env;
	if (!env->has_references)
		report(v, "references-missing", env->line, "the envelope has no References element");
	for (size_t i = 0; i < env->nfiles; i++) {
		const struct ovf_file *f = &env->files[i];
		if (blank(f->id))
			report(v, "file-id-missing", f->line, "File has no ovf:id; add one");
		if (blank(f->href))
			report(v, "file-href-missing", f->line, "File '%s' has no ovf:href; add the file's name",
			       f->id ? f->id : "?");
		else if (!(v->flags & OVF_VALIDATE_ALLOW_REMOTE) && href_remote(f->href))
			report(v, "file-href-remote", f->line,
			       "File '%s' href '%s' is absolute, has a URL scheme or leaves the package; use a name "
			       "relative to the descriptor (or --allow-remote)", f->id ? f->id : "?", f->href);
		for (size_t j = 0; j < i && i < MAX_PAIRWISE; j++) {
			const struct ovf_file *g = &env->files[j];
			if (streq(f->id, g->id)) {
				report(v, "file-id-duplicate", f->line, "File id '%s' is already used on line %d", f->id,
				       g->line);
				break;
			}
		}
		for (size_t j = 0; j < i && i < MAX_PAIRWISE; j++) {
			const struct ovf_file *g = &env->files[j];
			if (streq(f->href, g->href)) {
				report(v, "file-href-duplicate", f->line,
				       "File '%s' has the same href '%s' as File '%s' (line %d)", f->id ? f->id : "?",
				       f->href, g->id ? g->id : "?", g->line);
				break;
			}
		}
		if (f->has_chunk_size && f->chunk_size <= 0)
			report(v, "file-chunksize", f->line, "File '%s' has ovf:chunkSize <= 0 (or not a number)",
			       f->id ? f->id : "?");
		if (f->compression && strcmp(f->compression, "gzip") && strcmp(f->compression, "identity") &&
		    strcmp(f->compression, "none"))
			report(v, "file-compression", f->line,
			       "File '%s' compression '%s' is not supported; use gzip or identity", f->id ? f->id : "?",
			       f->compression);
		if (f->id && !file_used(env, f->id))
			report(v, "file-unused", f->line, "File '%s' is referenced by no disk or device",
			       f->id);
	}
}

/* ---- DiskSection --------------------------------------------------------------- */

static bool hostres_target(const char *hr, const char *kind, const char **id)
{
	/* "ovf:/disk/ID" is the standard form; ovftool also takes "/disk/ID"
	 * and "ovf://disk/ID". */
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

static bool item_refs(const struct ovf_item *it, const char *kind, const char *id)
{
	for (size_t k = 0; k < it->nhost_resources; k++) {
		const char *t;
		if (hostres_target(it->host_resources[k], kind, &t) && streq(t, id))
			return true;
	}
	return false;
}

static bool file_used(const ovf_envelope *env, const char *id)
{
	for (size_t i = 0; i < env->ndisks; i++)
		if (streq(env->disks[i].file_ref, id))
			return true;
	for (size_t s = 0; s < env->nsystems; s++)
		for (size_t h = 0; h < env->systems[s]->nhw; h++)
			for (size_t k = 0; k < env->systems[s]->hw[h].nitems; k++)
				if (item_refs(&env->systems[s]->hw[h].items[k], "file", id))
					return true;
	return false;
}

/* Is disk `d` in use in configuration `cfg`?  A disk no item references is
 * counted as present in every configuration. */
static bool disk_in_config(const ovf_envelope *env, const struct ovf_disk *d, const char *cfg)
{
	bool referenced = false;
	for (size_t s = 0; s < env->nsystems; s++)
		for (size_t h = 0; h < env->systems[s]->nhw; h++)
			for (size_t k = 0; k < env->systems[s]->hw[h].nitems; k++) {
				const struct ovf_item *it = &env->systems[s]->hw[h].items[k];
				if (!item_refs(it, "disk", d->disk_id))
					continue;
				referenced = true;
				if (ovf_config_applies(it->configuration, cfg))
					return true;
			}
	return !referenced;
}

static bool disk_used(const ovf_envelope *env, const struct ovf_disk *d)
{
	for (size_t s = 0; s < env->nsystems; s++)
		for (size_t h = 0; h < env->systems[s]->nhw; h++)
			for (size_t k = 0; k < env->systems[s]->hw[h].nitems; k++)
				if (item_refs(&env->systems[s]->hw[h].items[k], "disk", d->disk_id))
					return true;
	return false;
}

static size_t file_index(const ovf_envelope *env, const char *id)
{
	for (size_t i = 0; i < env->nfiles; i++)
		if (streq(env->files[i].id, id))
			return i;
	return (size_t)-1;
}

/* The configurations to check per-configuration rules in: each id, or a
 * single NULL when there is no DeploymentOptionSection. */
static size_t config_list(const ovf_envelope *env, const char **cfgs, size_t max)
{
	if (!env->nconfigs) {
		cfgs[0] = NULL;
		return 1;
	}
	size_t n = 0;
	for (size_t i = 0; i < env->nconfigs && n < max; i++)
		if (env->configs[i].id)
			cfgs[n++] = env->configs[i].id;
	if (!n)
		cfgs[n++] = NULL;
	return n;
}

static void check_disks(struct v *v)
{
	const ovf_envelope *env = v->env;
	const char *cfgs[MAX_CONFIGS];
	size_t ncfg = config_list(env, cfgs, MAX_CONFIGS);
	for (size_t i = 0; i < env->ndisks; i++) {
		const struct ovf_disk *d = &env->disks[i];
		const char *id = d->disk_id ? d->disk_id : "?";
		if (blank(d->disk_id))
			report(v, "disk-id-missing", d->line, "Disk has no ovf:diskId; add one");
		for (size_t j = 0; j < i && i < MAX_PAIRWISE; j++)
			if (streq(d->disk_id, env->disks[j].disk_id)) {
				report(v, "disk-id-duplicate", d->line, "diskId '%s' is already used on line %d", id,
				       env->disks[j].line);
				break;
			}
		if (d->file_ref && !ovf_find_file(env, d->file_ref))
			report(v, "disk-fileref-unresolved", d->line,
			       "Disk '%s' ovf:fileRef '%s' names no File in References", id, d->file_ref);
		if (d->file_ref && i < MAX_PAIRWISE) {
			for (size_t j = 0; j < i; j++) {
				const struct ovf_disk *o = &env->disks[j];
				if (!streq(d->file_ref, o->file_ref))
					continue;
				/* Two disks may share a file when they are used in
				 * different deployment options only. */
				for (size_t c = 0; c < ncfg; c++)
					if (disk_in_config(env, d, cfgs[c]) && disk_in_config(env, o, cfgs[c])) {
						report(v, "disk-fileref-duplicate", d->line,
						       "Disk '%s' and Disk '%s' (line %d) both use File '%s'%s%s; give "
						       "each disk its own file", id, o->disk_id ? o->disk_id : "?",
						       o->line, d->file_ref, cfgs[c] ? " in configuration " : "",
						       cfgs[c] ? cfgs[c] : "");
						goto next_dup;
					}
			}
		}
	next_dup:
		if (d->parent_ref) {
			if (!ovf_find_disk(env, d->parent_ref)) {
				report(v, "disk-parentref-unresolved", d->line,
				       "Disk '%s' ovf:parentRef '%s' names no Disk", id, d->parent_ref);
			} else {
				/* Walk the chain; more steps than disks means a cycle. */
				const struct ovf_disk *p = d;
				size_t steps = 0;
				while (p && p->parent_ref && steps <= env->ndisks) {
					p = ovf_find_disk(env, p->parent_ref);
					steps++;
				}
				if (steps > env->ndisks)
					report(v, "disk-parentref-cycle", d->line,
					       "Disk '%s' is its own ancestor through ovf:parentRef", id);
			}
		}
		if (!d->format)
			report(v, "disk-format-missing", d->line,
			       "Disk '%s' has no ovf:format; add the format URI (e.g. "
			       "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized)", id);
		uint64_t cap = 0;
		bool cap_ok = false;
		if (!d->capacity) {
			report(v, "disk-capacity-missing", d->line, "Disk '%s' has no ovf:capacity", id);
		} else if (is_property_ref(d->capacity)) {
			report(v, "disk-capacity-property", d->line,
			       "Disk '%s' capacity comes from property %s; checked at deploy time", id, d->capacity);
		} else {
			od_err e = {0};
			if (d->capacity_units) {
				enum ovf_unit_base b;
				uint64_t m;
				bool odd = false;
				if (ovf_units_parse(d->capacity_units, &b, &m, &odd, &e) < 0 || b != OVF_UNIT_BYTE) {
					report(v, "disk-units", d->line, "Disk '%s' capacityAllocationUnits '%s': %s", id,
					       d->capacity_units, e.msg[0] ? e.msg : "not a unit of bytes");
					goto cap_done;
				}
				if (odd)
					report(v, "item-units-nonstandard", d->line,
					       "Disk '%s' capacityAllocationUnits '%s' is not a DSP0004 unit; write e.g. "
					       "'byte * 2^30'", id, d->capacity_units);
			}
			int64_t sv;
			if (ovf_parse_i64(d->capacity, &sv) == 0 && sv <= 0) {
				report(v, "disk-capacity-zero", d->line, "Disk '%s' capacity is %s; it must be positive", id,
				       d->capacity);
			} else if (ovf_bytes(d->capacity, d->capacity_units, &cap, &e) < 0) {
				report(v, "disk-capacity-invalid", d->line, "Disk '%s' capacity: %s", id, e.msg);
			} else {
				cap_ok = true;
			}
		}
	cap_done:
		if (d->populated_size) {
			uint64_t ps;
			if (ovf_parse_u64(d->populated_size, &ps) < 0)
				report(v, "disk-populated-size", d->line, "Disk '%s' populatedSize '%s' is not a number", id,
				       d->populated_size);
			else if (cap_ok && ps > cap)
				report(v, "disk-populated-size", d->line,
				       "Disk '%s' populatedSize %llu is larger than its capacity %llu bytes", id,
				       (unsigned long long)ps, (unsigned long long)cap);
		}
		if (d->disk_id && !disk_used(env, d))
			report(v, "disk-unused", d->line, "Disk '%s' is attached to no virtual system", id);
	}
	/* Within one configuration, the disks must come in the order of their
	 * files in References: an OVA is read as a stream in that order, and
	 * ovftool pairs disks with files as they come. */
	for (size_t c = 0; c < ncfg && env->ndisks < MAX_PAIRWISE; c++) {
		size_t last = 0;
		bool have = false;
		for (size_t i = 0; i < env->ndisks; i++) {
			const struct ovf_disk *d = &env->disks[i];
			size_t fi = d->file_ref ? file_index(env, d->file_ref) : (size_t)-1;
			if (fi == (size_t)-1 || !disk_in_config(env, d, cfgs[c]))
				continue;
			if (have && fi < last) {
				report(v, "disk-file-order", d->line,
				       "Disk '%s' uses File '%s', which comes before the file of the disk above it in "
				       "References; list disks in the order of their files", d->disk_id ? d->disk_id : "?",
				       d->file_ref);
				return;
			}
			last = fi;
			have = true;
		}
	}
}

/* ---- networks, deployment options ------------------------------------------------ */

static void check_networks(struct v *v)
{
	const ovf_envelope *env = v->env;
	for (size_t i = 0; i < env->nnetworks; i++) {
		const struct ovf_network *n = &env->networks[i];
		if (blank(n->name))
			report(v, "network-name-missing", n->line, "Network has no ovf:name");
		for (size_t j = 0; j < i && i < MAX_PAIRWISE; j++)
			if (streq(n->name, env->networks[j].name)) {
				report(v, "network-duplicate", n->line, "Network '%s' is already defined on line %d", n->name,
				       env->networks[j].line);
				break;
			}
	}
}

static void check_configs(struct v *v)
{
	const ovf_envelope *env = v->env;
	if (!env->has_deployment_options)
		return;
	if (!env->nconfigs) {
		report(v, "config-empty", env->deployment_section_line,
		       "DeploymentOptionSection has no Configuration; add one or remove the section");
		return;
	}
	size_t ndef = 0;
	for (size_t i = 0; i < env->nconfigs; i++) {
		const struct ovf_config *c = &env->configs[i];
		if (c->is_default)
			ndef++;
		if (blank(c->id))
			report(v, "config-id-missing", c->line, "Configuration has no ovf:id");
		for (size_t j = 0; j < i && i < MAX_PAIRWISE; j++)
			if (streq(c->id, env->configs[j].id)) {
				report(v, "config-id-duplicate", c->line, "Configuration '%s' is already defined on line %d",
				       c->id, env->configs[j].line);
				break;
			}
	}
	if (ndef > 1)
		report(v, "config-default-multiple", env->deployment_section_line,
		       "DeploymentOptionSection marks %zu configurations ovf:default=\"true\"; mark exactly one", ndef);
	else if (ndef == 0)
		report(v, "config-default-missing", env->deployment_section_line,
		       "no Configuration is marked ovf:default=\"true\"; the first, '%s', is the default",
		       env->configs[0].id ? env->configs[0].id : "?");
}

/* Every id in an ovf:configuration list must name a Configuration. */
static void check_config_list(struct v *v, const char *list, int line, const char *what)
{
	if (!list)
		return;
	const char *s = list;
	for (int guard = 0; *s && guard < 1000; guard++) {
		while (*s && isspace((unsigned char)*s))
			s++;
		const char *b = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		if (s == b)
			break;
		char id[256];
		snprintf(id, sizeof id, "%.*s", (int)(s - b), b);
		if (!ovf_find_config(v->env, id)) {
			report(v, "config-unknown", line, "%s names configuration '%s', which DeploymentOptionSection %s",
			       what, id, v->env->has_deployment_options ? "does not define" : "is missing to define");
			return;
		}
	}
}

/* ---- virtual hardware -------------------------------------------------------------- */

/* ResourceTypes of DSP1041 (CIM_ResourceAllocationSettingData): 1..35, and
 * the vendor range from 0x8000. */
static bool resource_type_known(int rt)
{
	return (rt >= 1 && rt <= 35) || (rt >= 0x8000 && rt <= 0xffff);
}

static bool is_controller(int rt)
{
	/* Other(1, used by some tools for NVMe/SATA), IDE(5), SCSI(6), FC(7),
	 * iSCSI(8), IB(9), Other storage (20, SATA/AHCI), USB controller(23) */
	return rt == 1 || (rt >= 5 && rt <= 9) || rt == 20 || rt == 23;
}

static const char *bound_kind(const char *b)
{
	if (!b || !strcmp(b, "normal"))
		return "normal";
	if (!strcmp(b, "min") || !strcmp(b, "max"))
		return b;
	return NULL;
}

static const char *item_name(const struct ovf_item *it)
{
	return it->element_name ? it->element_name : it->instance_id ? it->instance_id : "Item";
}

static void check_item(struct v *v, const struct ovf_item *it, const struct ovf_hw_section *hw)
{
	const ovf_envelope *env = v->env;
	if (blank(it->instance_id))
		report(v, "item-instanceid-missing", it->line, "Item '%s' has no rasd:InstanceID", item_name(it));
	if (blank(it->resource_type))
		report(v, "item-resourcetype-missing", it->line, "Item '%s' has no rasd:ResourceType", item_name(it));
	else if (!resource_type_known(it->resource_type_num)) {
		if (it->required)
			report(v, "item-resourcetype-unknown", it->line,
			       "Item '%s' ResourceType %s is not a known CIM resource type and the item is required; "
			       "mark it ovf:required=\"false\" or fix the type", item_name(it), it->resource_type);
		else
			report(v, "item-resourcetype-unknown-optional", it->line,
			       "Item '%s' ResourceType %s is unknown; it will be left out", item_name(it),
			       it->resource_type);
	}
	if (it->unknown_required)
		report(v, "item-element-unknown", it->unknown_required_line,
		       "Item '%s' has element %s, which is not understood and is required; mark it "
		       "ovf:required=\"false\" or remove it", item_name(it), it->unknown_required);
	if (!bound_kind(it->bound))
		report(v, "item-bound-invalid", it->line, "Item '%s' ovf:bound '%s' is not min, max or normal",
		       item_name(it), it->bound);
	check_config_list(v, it->configuration, it->line, "Item");
	for (size_t k = 0; k < it->nhost_resources; k++) {
		const char *hr = it->host_resources[k], *t;
		if (hostres_target(hr, "disk", &t)) {
			if (!ovf_find_disk(env, t))
				report(v, "item-hostresource-unresolved", it->line,
				       "Item '%s' HostResource '%s' names no Disk in DiskSection", item_name(it), hr);
		} else if (hostres_target(hr, "file", &t)) {
			if (!ovf_find_file(env, t))
				report(v, "item-hostresource-unresolved", it->line,
				       "Item '%s' HostResource '%s' names no File in References", item_name(it), hr);
		}
	}
	for (size_t k = 0; k < it->nconnections; k++) {
		const char *c = it->connections[k];
		if (!blank(c) && !ovf_find_network(env, c))
			report(v, "item-connection-unresolved", it->line,
			       "Item '%s' connects to network '%s', which NetworkSection does not define", item_name(it), c);
	}
	if (it->allocation_units) {
		enum ovf_unit_base b;
		uint64_t m;
		bool odd = false;
		od_err e = {0};
		if (ovf_units_parse(it->allocation_units, &b, &m, &odd, &e) < 0)
			report(v, "item-units", it->line, "Item '%s' AllocationUnits: %s", item_name(it), e.msg);
		else if (odd)
			report(v, "item-units-nonstandard", it->line,
			       "Item '%s' AllocationUnits '%s' is not a DSP0004 programmatic unit; write e.g. "
			       "'byte * 2^20'", item_name(it), it->allocation_units);
	}
	if (it->virtual_quantity) {
		uint64_t q;
		if (ovf_parse_u64(it->virtual_quantity, &q) < 0)
			report(v, "item-quantity-invalid", it->line, "Item '%s' VirtualQuantity '%s' is not an integer",
			       item_name(it), it->virtual_quantity);
	}
	const char *bk = bound_kind(it->bound);
	if ((it->resource_type_num == 3 || it->resource_type_num == 4) && bk && !strcmp(bk, "normal") &&
	    !it->virtual_quantity)
		report(v, "item-quantity-missing", it->line, "%s Item '%s' has no VirtualQuantity",
		       it->resource_type_num == 3 ? "Processor" : "Memory", item_name(it));
	const char *const nums[3] = {it->reservation, it->limit, it->weight};
	static const char *const num_names[3] = {"Reservation", "Limit", "Weight"};
	for (size_t k = 0; k < 3; k++) {
		uint64_t q;
		if (nums[k] && ovf_parse_u64(nums[k], &q) < 0)
			report(v, "item-quantity-invalid", it->line, "Item '%s' %s '%s' is not an integer",
			       item_name(it), num_names[k], nums[k]);
	}
	if (it->parent) {
		const struct ovf_item *p = NULL;
		for (size_t k = 0; k < hw->nitems; k++)
			if (streq(hw->items[k].instance_id, it->parent)) {
				p = &hw->items[k];
				break;
			}
		if (!p)
			report(v, "item-parent-unresolved", it->line, "Item '%s' Parent '%s' is no InstanceID in this section",
			       item_name(it), it->parent);
		else if (!is_controller(p->resource_type_num))
			report(v, "item-parent-not-controller", it->line,
			       "Item '%s' Parent '%s' is a %s (ResourceType %s), not a controller", item_name(it),
			       it->parent, ovf_resource_type_name(p->resource_type_num) ? ovf_resource_type_name(p->resource_type_num) : "device",
			       p->resource_type ? p->resource_type : "?");
	}
}

/* Rules over the items that apply to one configuration. */
static void check_hw_config(struct v *v, const struct ovf_hw_section *hw, const char *cfg)
{
	size_t n = hw->nitems < MAX_PAIRWISE ? hw->nitems : MAX_PAIRWISE;
	size_t ncpu = 0, nmem = 0;
	bool *eff = calloc(n ? n : 1, sizeof *eff);
	if (!eff) {
		v->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		eff[i] = ovf_item_effective(hw, i, cfg);
	for (size_t i = 0; i < n; i++) {
		const struct ovf_item *a = &hw->items[i];
		if (!eff[i])
			continue;
		const char *ba = bound_kind(a->bound);
		if (ba && !strcmp(ba, "normal")) {
			if (a->resource_type_num == 3)
				ncpu++;
			if (a->resource_type_num == 4)
				nmem++;
		}
		for (size_t j = 0; j < i; j++) {
			const struct ovf_item *b = &hw->items[j];
			if (!eff[j])
				continue;
			const char *bb = bound_kind(b->bound);
			if (a->instance_id && streq(a->instance_id, b->instance_id) && ba && bb && !strcmp(ba, bb)) {
				if (strcmp(ba, "normal"))
					report(v, "item-bound-duplicate", a->line,
					       "two ovf:bound=\"%s\" Items for InstanceID %s%s%s", ba, a->instance_id,
					       cfg ? " in configuration " : "", cfg ? cfg : "");
				else
					report(v, "item-instanceid-duplicate", a->line,
					       "InstanceID %s is already used by the Item on line %d%s%s", a->instance_id,
					       b->line, cfg ? " in configuration " : "", cfg ? cfg : "");
				break;
			}
			if (a->parent && streq(a->parent, b->parent) && a->address_on_parent &&
			    streq(a->address_on_parent, b->address_on_parent) && ba && bb && !strcmp(ba, "normal") &&
			    !strcmp(bb, "normal")) {
				report(v, "item-address-conflict", a->line,
				       "Item '%s' and Item '%s' (line %d) are both at AddressOnParent %s of controller %s%s%s",
				       item_name(a), item_name(b), b->line, a->address_on_parent, a->parent,
				       cfg ? " in configuration " : "", cfg ? cfg : "");
				break;
			}
		}
	}
	free(eff);
	if (ncpu > 1 || nmem > 1)
		report(v, "item-resource-multiple", hw->line, "the hardware has %zu %s Items%s%s; keep one",
		       ncpu > 1 ? ncpu : nmem, ncpu > 1 ? "Processor" : "Memory", cfg ? " in configuration " : "",
		       cfg ? cfg : "");
}

static void check_hardware(struct v *v)
{
	const ovf_envelope *env = v->env;
	const char *cfgs[MAX_CONFIGS];
	size_t ncfg = config_list(env, cfgs, MAX_CONFIGS);
	if (env->nconfigs > MAX_CONFIGS)
		report(v, "item-check-skipped", env->deployment_section_line,
		       "only the first %d configurations are checked", MAX_CONFIGS);
	for (size_t s = 0; s < env->nsystems; s++) {
		const struct ovf_virtual_system *vs = env->systems[s];
		for (size_t h = 0; h < vs->nhw; h++) {
			const struct ovf_hw_section *hw = &vs->hw[h];
			if (hw->nitems > MAX_PAIRWISE)
				report(v, "item-check-skipped", hw->line,
				       "%zu Items: only the first %d are checked against each other", hw->nitems,
				       MAX_PAIRWISE);
			for (size_t k = 0; k < hw->nitems; k++)
				check_item(v, &hw->items[k], hw);
			/* Work grows as items^2 per configuration: bound it so that
			 * a small hostile descriptor cannot keep us busy. */
			size_t ni = hw->nitems < MAX_PAIRWISE ? hw->nitems : MAX_PAIRWISE;
			uint64_t work = (uint64_t)ni * ni * ncfg;
			if (work > 64u * 1000 * 1000) {
				report(v, "item-check-skipped", hw->line,
				       "%zu Items in %zu configurations: too many to check against each other", ni, ncfg);
				continue;
			}
			for (size_t c = 0; c < ncfg; c++)
				check_hw_config(v, hw, cfgs[c]);
			/* Items with a configuration list when there is no
			 * DeploymentOptionSection apply to no configuration at
			 * all; check_config_list reported them. */
		}
	}
}

/* ---- products and properties ---------------------------------------------------------- */

static void check_products_of(struct v *v, const struct ovf_virtual_system *vs)
{
	for (size_t i = 0; i < vs->nproducts; i++) {
		const struct ovf_product *pr = &vs->products[i];
		for (size_t j = 0; j < i; j++) {
			const struct ovf_product *o = &vs->products[j];
			bool same_class = (!pr->class_ && !o->class_) || streq(pr->class_, o->class_);
			bool same_inst = (!pr->instance && !o->instance) || streq(pr->instance, o->instance);
			if (same_class && same_inst) {
				report(v, "product-duplicate", pr->line,
				       "a ProductSection with class '%s' and instance '%s' is already on line %d; give each "
				       "ProductSection its own ovf:class/ovf:instance", pr->class_ ? pr->class_ : "",
				       pr->instance ? pr->instance : "", o->line);
				break;
			}
		}
		for (size_t k = 0; k < pr->nprops; k++) {
			const struct ovf_property *p = &pr->props[k];
			const char *key = p->key ? p->key : "?";
			if (blank(p->key))
				report(v, "property-key-missing", p->line, "Property has no ovf:key; add one");
			for (size_t j = 0; j < k && k < MAX_PAIRWISE; j++)
				if (streq(p->key, pr->props[j].key)) {
					report(v, "property-key-duplicate", p->line,
					       "property key '%s' is already used on line %d in this ProductSection", key,
					       pr->props[j].line);
					break;
				}
			check_config_list(v, p->configuration, p->line, "Property");
			if (!p->type) {
				report(v, "property-type-missing", p->line, "Property '%s' has no ovf:type", key);
				continue;
			}
			if (!ovf_property_type_known(p->type)) {
				report(v, "property-type-unknown", p->line,
				       "Property '%s' type '%s' is not an OVF type (uint8..uint64, sint8..sint64, boolean, "
				       "string, real32, real64)", key, p->type);
				continue;
			}
			if (!ovf_property_type_standard(p->type))
				report(v, "property-type-nonstandard", p->line,
				       "Property '%s' type '%s' is not an OVF type name; accepted as ovftool does", key,
				       p->type);
			od_err e = {0};
			int unknown = 0;
			char first[64];
			if (ovf_qualifiers_check(p->type, p->qualifiers, &unknown, first, sizeof first, &e) < 0) {
				report(v, "property-qualifiers", p->line, "Property '%s': %s", key, e.msg);
				continue;
			}
			if (unknown)
				report(v, "property-qualifier-unchecked", p->line,
				       "Property '%s' qualifier %s is not checked by ovfdeploy", key, first);
			/* An empty default of a non-string type means "no default":
			 * the user must give one at deploy time. */
			bool no_default = p->value && p->value[0] == 0 &&
					  (p->user_configurable || ovf_property_check_type(p->type, "", NULL) < 0);
			if (p->value && !no_default) {
				od_err_clear(&e);
				if (ovf_property_check_value(p, p->value, &e) < 0)
					report(v, "property-value-invalid", p->line, "default value: %s", e.msg);
			}
			for (size_t j = 0; j < p->nvalues; j++) {
				const struct ovf_prop_value *pv = &p->values[j];
				check_config_list(v, pv->configuration, pv->line, "Property Value");
				if (pv->value && !(pv->value[0] == 0 && p->user_configurable)) {
					od_err_clear(&e);
					if (ovf_property_check_value(p, pv->value, &e) < 0)
						report(v, "property-value-invalid", pv->line, "value for configuration '%s': %s",
						       pv->configuration ? pv->configuration : "", e.msg);
				}
			}
		}
	}
	for (size_t i = 0; i < vs->nchildren; i++)
		check_products_of(v, &vs->children[i]);
}

/* ---- entry point ---------------------------------------------------------------------------- */

int ovf_validate(const ovf_envelope *env, unsigned flags, struct ovf_diags *out, od_err *e)
{
	struct v v = {.env = env, .flags = flags, .out = out};
	/* what the parser noticed first, in its own order */
	for (size_t i = 0; i < env->parse_diags.n; i++) {
		const struct ovf_diag *d = &env->parse_diags.v[i];
		report(&v, d->code, d->line, "%s", d->message);
	}
	if (env->version == OVF_V_UNKNOWN) {
		report(&v, "envelope-version", env->line,
		       "the Envelope's namespace '%s' is no OVF version we know (use "
		       "http://schemas.dmtf.org/ovf/envelope/1 or /2)", env->ns ? env->ns : "(none)");
	}
	check_content(&v);
	check_sections(&v);
	check_files(&v);
	check_disks(&v);
	check_networks(&v);
	check_configs(&v);
	check_hardware(&v);
	if (env->content)
		check_products_of(&v, env->content);
	if (v.oom)
		return od_err_nomem(e);
	return (int)(v.errors > 0x7fffffff ? 0x7fffffff : v.errors);
}
