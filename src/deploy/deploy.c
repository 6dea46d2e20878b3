/* deploy.c - from a package to an instance ready to start.
 *
 * Disks are never converted: a disk stored plainly in the package becomes a
 * read-only base read where it lies (a byte range of the OVA), and every
 * write of the guest goes to a qcow2 overlay in the instance directory.  So
 * deploying a 2 GiB appliance costs about what deploying a 32 MiB one does,
 * and two instances of one package share nothing writable. */
#include "config.h"
#include "deploy/deploy.h"
#include "disk/disk.h"
#include "runner/vm.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

void deploy_plan_free(struct deploy_plan *pl)
{
	for (size_t i = 0; i < pl->nprops; i++) {
		free(pl->props[i].key);
		free(pl->props[i].value);
	}
	free(pl->props);
	ovf_hardware_free(&pl->hw);
	if (pl->verified && !pl->borrowed)
		ovf_verify_report_free(&pl->verify);
	ovf_warnings_free(&pl->warnings);
	if (pl->pkg && !pl->borrowed)
		ovf_package_close(pl->pkg);
	memset(pl, 0, sizeof *pl);
}

/* DSP0243: a property's key as the guest sees it is "class.key.instance",
 * with class and instance left out when the ProductSection has none. */
static char *full_key(const struct ovf_product *pr, const struct ovf_property *p)
{
	return od_asprintf("%s%s%s%s%s", pr->class_ ? pr->class_ : "", pr->class_ ? "." : "", p->key,
			   pr->instance ? "." : "", pr->instance ? pr->instance : "");
}

/* The chain of collections from the envelope's content down to `target`,
 * outermost first; returns the depth, or -1 when `target` is not below
 * `node` within OUTER_MAX levels.  The descriptor parser already drops
 * systems nested deeper than 16 collections (envelope.c, MAX_DEPTH), so
 * -1 is a defence, reported as an error rather than ignored. */
#define OUTER_MAX 16
static int find_outer(const struct ovf_virtual_system *node, const struct ovf_virtual_system *target,
		      const struct ovf_virtual_system **chain, int depth)
{
	if (node == target)
		return depth;
	if (!node->is_collection || depth >= OUTER_MAX)
		return -1;
	chain[depth] = node;
	for (size_t i = 0; i < node->nchildren; i++) {
		int d = find_outer(&node->children[i], target, chain, depth + 1);
		if (d >= 0)
			return d;
	}
	return -1;
}

/* A system's properties: those of the collections around it (OVF: a
 * collection's ProductSection properties apply to its members), then its
 * own. */
static int collect_props(struct deploy_plan *pl, od_err *e)
{
	const struct ovf_virtual_system *chain[OUTER_MAX + 1];
	int depth = pl->pkg->env->content ? find_outer(pl->pkg->env->content, pl->vs, chain, 0) : 0;
	if (depth < 0)
		return od_err_set(e, OD_E_UNSUPPORTED,
				  "virtual system '%s' is nested in more than %d collections; its properties cannot be gathered",
				  pl->vs->id ? pl->vs->id : "?", OUTER_MAX);
	chain[depth] = pl->vs;
	size_t total = 0;
	for (int c = 0; c <= depth; c++)
		for (size_t i = 0; i < chain[c]->nproducts; i++)
			total += chain[c]->products[i].nprops;
	if (!total)
		return 0;
	pl->props = calloc(total, sizeof *pl->props);
	if (!pl->props)
		return od_err_nomem(e);
	const char *cfg = pl->config ? pl->config->id : NULL;
	for (int c = 0; c <= depth; c++)
	for (size_t i = 0; i < chain[c]->nproducts; i++) {
		const struct ovf_product *pr = &chain[c]->products[i];
		for (size_t j = 0; j < pr->nprops; j++) {
			const struct ovf_property *p = &pr->props[j];
			struct deploy_prop *dp = &pl->props[pl->nprops];
			if (!p->key)
				continue;
			dp->product = pr;
			dp->prop = p;
			dp->key = full_key(pr, p);
			const char *v = ovf_property_value_for(p, cfg);
			dp->value = v ? od_strdup(v) : NULL;
			if (!dp->key || (v && !dp->value))
				return od_err_nomem(e);
			pl->nprops++;
		}
	}
	return 0;
}

int deploy_plan_open(const char *package, const struct deploy_opts *o, struct deploy_plan *pl, od_err *e)
{
	memset(pl, 0, sizeof *pl);
	pl->pkg = ovf_package_open(package, e);
	if (!pl->pkg)
		return -1;
	if (!o->skip_verify) {
		struct ovf_verify_opts vo = {
			.ca_file = o->ca_file, .require_signature = o->require_signature,
			.progress = o->progress, .progress_ctx = o->progress_ctx,
		};
		if (!o->reverify &&
		    deploy_verify_cache_lookup(package, o, &pl->verify, &pl->cached_nfiles, &pl->verified_at)) {
			pl->verify_cached = true;
		} else {
			if (ovf_verify(pl->pkg, &vo, &pl->verify, e) < 0)
				goto fail;
			deploy_verify_cache_store(package, o, &pl->verify);
		}
		pl->verified = true;
		if (!pl->verify.ok) {
			/* Name the first thing that failed; `verify` shows them all. */
			const char *why = pl->verify.problems.n ? pl->verify.problems.v[0] : NULL;
			for (size_t i = 0; !why && i < pl->verify.nfiles; i++)
				if (pl->verify.files[i].verdict != OVF_FILE_OK)
					why = pl->verify.files[i].name;
			od_err_set(e, OD_E_INVALID, "%s: the package does not verify (%s); nothing was deployed (run 'ovfdeploy verify %s' for details)",
				   package, why ? why : "see verify", package);
			goto fail;
		}
	}
	const ovf_envelope *env = pl->pkg->env;
	if (!env || !env->nsystems) {
		od_err_set(e, OD_E_INVALID, "%s: the descriptor has no VirtualSystem to deploy", package);
		goto fail;
	}
	/* Deployability: refuse what validate calls an error. */
	struct ovf_diags diags = {0};
	int nerr = ovf_validate(env, 0, &diags, e);
	if (nerr < 0) {
		ovf_diags_free(&diags);
		goto fail;
	}
	if (nerr > 0) {
		for (size_t i = 0; i < diags.n; i++) {
			if (diags.v[i].severity == OVF_DIAG_ERROR) {
				od_err_set(e, OD_E_INVALID, "%s: line %d: %s [%s] (run 'ovfdeploy validate' for all %d errors)",
					   package, diags.v[i].line, diags.v[i].message, diags.v[i].code, nerr);
				break;
			}
		}
		ovf_diags_free(&diags);
		goto fail;
	}
	ovf_diags_free(&diags);
	pl->vs = env->systems[0];
	if (o->deployment_option) {
		pl->config = ovf_find_config(env, o->deployment_option);
		if (!pl->config) {
			od_buf ids = {0};
			for (size_t i = 0; i < env->nconfigs; i++)
				od_buf_printf(&ids, "%s%s", i ? ", " : "", env->configs[i].id ? env->configs[i].id : "?");
			od_err_set(e, OD_E_USAGE, "%s: no deployment option '%s' (the package has: %s)", package,
				   o->deployment_option, ids.data ? ids.data : "none");
			od_buf_free(&ids);
			goto fail;
		}
	} else {
		pl->config = ovf_default_config(env);
	}
	if (ovf_hardware_get(env, pl->vs, pl->config ? pl->config->id : NULL, &pl->hw, e) < 0)
		goto fail;
	if (collect_props(pl, e) < 0)
		goto fail;
	return 0;
fail:
	deploy_plan_free(pl);
	return -1;
}

int deploy_plan_open_system(const struct deploy_plan *first, size_t idx, struct deploy_plan *pl, od_err *e)
{
	memset(pl, 0, sizeof *pl);
	const ovf_envelope *env = first->pkg->env;
	if (idx >= env->nsystems)
		return od_err_set(e, OD_E_INTERNAL, "no virtual system %zu in %s", idx, first->pkg->path);
	pl->pkg = first->pkg;
	pl->borrowed = true;
	pl->verify = first->verify;
	pl->verified = first->verified;
	pl->verify_cached = first->verify_cached;
	pl->system_index = idx;
	pl->vs = env->systems[idx];
	pl->config = first->config;
	if (ovf_hardware_get(env, pl->vs, pl->config ? pl->config->id : NULL, &pl->hw, e) < 0 ||
	    collect_props(pl, e) < 0) {
		od_err_prefix(e, "%s", pl->vs->id ? pl->vs->id : "virtual system");
		deploy_plan_free(pl);
		return -1;
	}
	return 0;
}

char *deploy_member_name(const char *base, const struct deploy_plan *pl)
{
	const char *id = pl->vs->id ? pl->vs->id : "";
	char out[INSTANCE_NAME_MAX + 1];
	size_t n = 0;
	/* Room for BASE, "-" and at least a few characters of the id. */
	for (const char *p = base; *p && n < INSTANCE_NAME_MAX / 2; p++)
		out[n++] = *p;
	out[n++] = '-';
	size_t start = n;
	for (const char *p = id; *p && n < INSTANCE_NAME_MAX; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c) || c == '_' || c == '-')
			out[n++] = (char)c;
		else if (n > start && out[n - 1] != '-')
			out[n++] = '-';
	}
	while (n > start && out[n - 1] == '-')
		n--;
	if (n == start)
		n += (size_t)snprintf(out + n, sizeof out - n, "%zu", pl->system_index + 1);
	out[n < INSTANCE_NAME_MAX ? n : INSTANCE_NAME_MAX] = '\0';
	return od_strdup(out);
}

int deploy_plan_set_prop(struct deploy_plan *pl, const char *key, const char *value, od_err *e)
{
	struct deploy_prop *found = NULL;
	size_t matches = 0;
	for (size_t i = 0; i < pl->nprops; i++)
		if (!strcmp(pl->props[i].key, key))
			found = &pl->props[i], matches = 1;
	if (!found) {
		for (size_t i = 0; i < pl->nprops; i++)
			if (!strcmp(pl->props[i].prop->key, key))
				found = &pl->props[i], matches++;
	}
	if (!found)
		return od_err_set(e, OD_E_USAGE, "the appliance has no property '%s' (see 'ovfdeploy inspect')", key);
	if (matches > 1)
		return od_err_set(e, OD_E_USAGE, "property '%s' is ambiguous: give the full key (class.key.instance)", key);
	if (ovf_property_check_value(found->prop, value, e) < 0) {
		od_err_prefix(e, "property %s", found->key);
		e->code = OD_E_INVALID;
		return -1;
	}
	char *v = od_strdup(value);
	if (!v)
		return od_err_nomem(e);
	free(found->value);
	found->value = v;
	found->from_user = true;
	return 0;
}

static bool plan_has_prop(const struct deploy_plan *pl, const char *key)
{
	for (size_t i = 0; i < pl->nprops; i++)
		if (!strcmp(pl->props[i].key, key) || !strcmp(pl->props[i].prop->key, key))
			return true;
	return false;
}

int deploy_plans_set_prop(struct deploy_plan *plans, size_t n, const char *key, const char *value, od_err *e)
{
	if (n == 1)
		return deploy_plan_set_prop(plans, key, value, e);
	size_t applied = 0;
	for (size_t i = 0; i < n; i++) {
		if (!plan_has_prop(&plans[i], key))
			continue;
		if (deploy_plan_set_prop(&plans[i], key, value, e) < 0) {
			od_err_prefix(e, "%s", plans[i].vs->id ? plans[i].vs->id : "virtual system");
			return -1;
		}
		applied++;
	}
	if (!applied)
		return od_err_set(e, OD_E_USAGE, "the appliance has no property '%s' (see 'ovfdeploy inspect')", key);
	return 0;
}

int deploy_plan_check(const struct deploy_plan *pl, od_err *e)
{
	for (size_t i = 0; i < pl->nprops; i++) {
		const struct deploy_prop *dp = &pl->props[i];
		/* A property with no value reaches the guest as an empty string, so
		 * that is what must satisfy its type and qualifiers. */
		if (ovf_property_check_value(dp->prop, dp->value ? dp->value : "", e) < 0) {
			if (!dp->value)
				od_err_set(e, OD_E_INVALID, "property %s needs a value (--prop %s=VALUE)", dp->key, dp->key);
			else
				od_err_prefix(e, "property %s", dp->key);
			e->code = OD_E_INVALID;
			return -1;
		}
	}
	return 0;
}

char *deploy_default_name(const struct deploy_plan *pl)
{
	const char *src = NULL;
	for (size_t i = 0; !src && i < pl->vs->nproducts; i++)
		src = pl->vs->products[i].product;
	if (!src)
		src = pl->vs->name ? pl->vs->name : pl->vs->id;
	if (!src)
		src = "appliance";
	char out[INSTANCE_NAME_MAX + 1];
	size_t n = 0;
	for (const char *p = src; *p && n < 40; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c) || c == '.' || c == '_' || c == '-')
			out[n++] = (char)c;
		else if (n && out[n - 1] != '-')
			out[n++] = '-';
	}
	while (n && (out[n - 1] == '-' || out[n - 1] == '.'))
		n--;
	out[n] = '\0';
	if (!n || out[0] == '.' || out[0] == '-')
		snprintf(out, sizeof out, "appliance");
	return od_strdup(out);
}

/* ---- disks ---------------------------------------------------------------------- */

/* A JSON string literal, for backing file specifications. */
static int json_string(od_buf *b, const char *s)
{
	int rc = od_buf_puts(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; rc == 0 && *p; p++) {
		if (*p == '"' || *p == '\\')
			rc = od_buf_printf(b, "\\%c", *p);
		else if (*p < 0x20)
			rc = od_buf_printf(b, "\\u%04x", *p);
		else
			rc = od_buf_append(b, p, 1);
	}
	return rc ? rc : od_buf_puts(b, "\"");
}

struct extract_ctx {
	int fd;
	const char *path;
	uint64_t done;
	const struct deploy_opts *o;
};

static int extract_chunk(void *ctx_, const void *buf, size_t len, od_err *e)
{
	struct extract_ctx *c = ctx_;
	if (od_write_all(c->fd, buf, len, c->path, e) < 0)
		return -1;
	c->done += len;
	if (c->o->progress)
		c->o->progress(c->o->progress_ctx, c->done, 0);
	return 0;
}

/* Make the overlay for one disk of the descriptor. */
static int prepare_disk(struct deploy_plan *pl, const struct deploy_opts *o, struct instance *in, size_t idx,
			const struct ovf_hw_disk *hd, od_err *e)
{
	char *overlay = od_asprintf("%s/disk%zu.qcow2", in->dir, idx);
	char *backing = NULL, *base_path = NULL;
	const char *backing_fmt = NULL;
	uint64_t size = hd->capacity_bytes;
	disk *base = NULL;
	int rc = -1;
	if (!overlay)
		return od_err_nomem(e);

	if (hd->file) {
		const struct ovf_member **mem = NULL;
		size_t nmem = 0;
		if (ovf_package_file_members(pl->pkg, hd->file, &mem, &nmem, e) < 0)
			goto out;
		bool plain = nmem == 1 && (!hd->file->compression || !strcmp(hd->file->compression, "identity") ||
					   !strcmp(hd->file->compression, "none"));
		if (plain) {
			/* Read in place: the base is a byte range of the package file. */
			const struct ovf_member *m = mem[0];
			int fd = open(m->path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				od_err_errno(e, errno, "%s", m->path);
				free(mem);
				goto out;
			}
			base = disk_open_range(fd, m->offset, m->size, m->name, DISK_RDONLY, e);
			close(fd);
			if (!base) {
				free(mem);
				goto out;
			}
			char abspath[PATH_MAX];
			if (!realpath(m->path, abspath)) {
				od_err_errno(e, errno, "%s", m->path);
				free(mem);
				goto out;
			}
			struct stat st;
			backing_fmt = disk_format(base);
			if (m->offset == 0 && stat(abspath, &st) == 0 && (uint64_t)st.st_size == m->size) {
				backing = od_strdup(abspath);
			} else {
				/* A member inside an OVA: QEMU's json: pseudo-protocol names a
				 * byte range of a file, and our own qcow2 reader understands the
				 * same form, so one overlay serves both backends. */
				od_buf b = {0};
				int r = od_buf_printf(&b, "json:{\"driver\":\"%s\",\"file\":{\"driver\":\"raw\",\"offset\":%llu,\"size\":%llu,\"file\":{\"driver\":\"file\",\"filename\":",
						      backing_fmt, (unsigned long long)m->offset, (unsigned long long)m->size);
				r |= json_string(&b, abspath);
				r |= od_buf_puts(&b, "}}}");
				if (r) {
					od_buf_free(&b);
					free(mem);
					od_err_nomem(e);
					goto out;
				}
				backing = b.data;
				/* QEMU also wants the format in the header (it refuses to
				 * probe backing files), though the json names it too. */
			}
		} else {
			/* Compressed or chunked: inflate/join once into the instance. */
			base_path = od_asprintf("%s/base%zu.img", in->dir, idx);
			od_atomic_file af;
			if (!base_path || od_atomic_open(&af, base_path, 0400, e) < 0) {
				if (!base_path)
					od_err_nomem(e);
				free(mem);
				goto out;
			}
			struct extract_ctx c = {.fd = af.fd, .path = base_path, .o = o};
			if (ovf_package_read_file(pl->pkg, hd->file, extract_chunk, &c, e) < 0) {
				od_atomic_abort(&af);
				free(mem);
				goto out;
			}
			if (od_atomic_commit(&af, e) < 0) {
				free(mem);
				goto out;
			}
			base = disk_open(base_path, DISK_RDONLY, e);
			if (!base) {
				free(mem);
				goto out;
			}
			backing = od_strdup(base_path);
			backing_fmt = disk_format(base);
		}
		free(mem);
		if (!backing) {
			od_err_nomem(e);
			goto out;
		}
		if (disk_size(base) > size)
			size = disk_size(base);
	}
	if (!size) {
		od_err_set(e, OD_E_INVALID, "disk %zu (%s) has no capacity", idx,
			   hd->disk && hd->disk->disk_id ? hd->disk->disk_id : "?");
		goto out;
	}
	struct disk_create_opts co = {.backing_file = backing, .backing_format = backing_fmt, .compat = "1.1"};
	disk *ov = disk_create(overlay, "qcow2", size, &co, e);
	if (!ov)
		goto out;
	rc = disk_commit(ov, e);
	disk_close(ov);
	if (rc < 0)
		goto out;
	struct vmspec_disk *sd = &in->spec.disks[in->spec.ndisks];
	sd->path = overlay;
	sd->format = od_strdup("qcow2");
	overlay = NULL;
	in->spec.ndisks++;
	rc = sd->format ? 0 : od_err_nomem(e);
out:
	if (base)
		disk_close(base);
	free(overlay);
	free(backing);
	free(base_path);
	return rc;
}

int deploy_env_xml(const struct deploy_plan *pl, od_buf *xml, od_err *e)
{
	struct ovf_env_property *props = calloc(pl->nprops ? pl->nprops : 1, sizeof *props);
	if (!props)
		return od_err_nomem(e);
	for (size_t i = 0; i < pl->nprops; i++)
		props[i] = (struct ovf_env_property){pl->props[i].key, pl->props[i].value ? pl->props[i].value : ""};
	/* Members of a collection also see their siblings' properties, each
	 * sibling as an Entity (DSP8027), so that a web server learns, say,
	 * its database's address. */
	struct ovf_env_entity *ents = calloc(pl->nsiblings ? pl->nsiblings : 1, sizeof *ents);
	if (!ents) {
		free(props);
		return od_err_nomem(e);
	}
	int rc = 0;
	for (size_t s = 0; rc == 0 && s < pl->nsiblings; s++) {
		const struct deploy_plan *sp = pl->siblings[s];
		struct ovf_env_property *sprops = calloc(sp->nprops ? sp->nprops : 1, sizeof *sprops);
		if (!sprops) {
			rc = od_err_nomem(e);
			break;
		}
		for (size_t i = 0; i < sp->nprops; i++)
			sprops[i] = (struct ovf_env_property){sp->props[i].key, sp->props[i].value ? sp->props[i].value : ""};
		ents[s] = (struct ovf_env_entity){.id = sp->vs->id ? sp->vs->id : "", .props = sprops, .nprops = sp->nprops};
	}
	struct ovf_env_doc doc = {
		.id = pl->vs->id ? pl->vs->id : "",
		.platform_kind = "ovfdeploy",
		.platform_version = PACKAGE_VERSION,
		.platform_vendor = "ovfdeploy",
		.locale = "en_US",
		.props = props,
		.nprops = pl->nprops,
		.entities = ents,
		.nentities = pl->nsiblings,
	};
	if (rc == 0)
		rc = ovf_env_build(&doc, xml, e);
	for (size_t s = 0; s < pl->nsiblings; s++)
		free((void *)ents[s].props);
	free(ents);
	free(props);
	return rc < 0 ? -1 : 0;
}

static int build_env(struct deploy_plan *pl, struct instance *in, od_err *e)
{
	od_buf xml = {0};
	int rc;
	if (deploy_env_xml(pl, &xml, e) < 0) {
		od_buf_free(&xml);
		return -1;
	}
	char *xml_path = od_asprintf("%s/ovf-env.xml", in->dir);
	in->spec.cdrom = od_asprintf("%s/env.iso", in->dir);
	if (!xml_path || !in->spec.cdrom) {
		free(xml_path);
		od_buf_free(&xml);
		return od_err_nomem(e);
	}
	/* Keep a readable copy beside the ISO: it is what the guest was told. */
	od_atomic_file af;
	rc = od_atomic_open(&af, xml_path, 0600, e);
	if (rc == 0 && (rc = od_write_all(af.fd, xml.data, xml.len, xml_path, e)) == 0)
		rc = od_atomic_commit(&af, e);
	else if (rc == 0)
		od_atomic_abort(&af);
	if (rc == 0)
		rc = ovf_env_write_iso(in->spec.cdrom, xml.data, xml.len, e);
	free(xml_path);
	od_buf_free(&xml);
	return rc;
}

static int map_nics(struct deploy_plan *pl, const struct deploy_opts *o, struct instance *in, od_err *e)
{
	bool forwards_placed = false;
	for (size_t i = 0; i < pl->hw.nnics; i++) {
		if (in->spec.nnics >= VMSPEC_MAX_NICS) {
			ovf_warn(&pl->warnings, "only the first %d network adapters are connected", VMSPEC_MAX_NICS);
			break;
		}
		const struct ovf_hw_nic *hn = &pl->hw.nics[i];
		struct vmspec_nic *n = &in->spec.nics[in->spec.nnics];
		n->user = true;
		for (size_t m = 0; m < o->nnets; m++)
			if (!o->nets[m].network || (hn->network && !strcmp(o->nets[m].network, hn->network)))
				n->user = o->nets[m].user;
		n->network = od_strdup(hn->network ? hn->network : "");
		if (!n->network)
			return od_err_nomem(e);
		if (n->user && !forwards_placed) {
			for (size_t f = 0; f < o->nforwards && f < VMSPEC_MAX_FORWARDS; f++)
				n->forwards[n->nforwards++] = o->forwards[f];
			forwards_placed = true;
		}
		in->spec.nnics++;
	}
	for (size_t m = 0; m < o->nnets; m++) {
		bool known = !o->nets[m].network;
		for (size_t i = 0; !known && i < pl->hw.nnics; i++)
			known = pl->hw.nics[i].network && !strcmp(pl->hw.nics[i].network, o->nets[m].network);
		if (!known)
			return od_err_set(e, OD_E_USAGE, "--net %s: the appliance has no adapter on network '%s'",
					  o->nets[m].network, o->nets[m].network);
	}
	if (o->nforwards && !forwards_placed)
		return od_err_set(e, OD_E_USAGE, "--forward needs a network adapter on user networking, and the appliance has none");
	return 0;
}

/* A warning for each device the chosen backend substitutes, naming the
 * driver the guest then needs, and the plan's own notes. */
static void deploy_hw_warnings(struct deploy_plan *pl, const struct hwplan *hp, enum deploy_backend want)
{
	char why[256];
	enum deploy_backend b = deploy_backend_choose(want, why, sizeof why);
	const char *bn = b == DEPLOY_BACKEND_EMBEDDED ? "the embedded runner" : "QEMU";
	for (size_t i = 0; i < hp->notes.n; i++)
		ovf_warn(&pl->warnings, "%s", hp->notes.v[i]);
	/* On the embedded runner the environment CD joins disks on a PVSCSI
	 * (embedded_config): its own controller is then not used. */
	bool cd_moves = b == DEPLOY_BACKEND_EMBEDDED && hwplan_embedded_cd_moves(hp);
	for (size_t c = 0; c < hp->nctrls; c++) {
		struct hw_choice ch;
		hw_ctrl_choice(hp->ctrls[c].model, b, &ch);
		bool used = false;
		for (size_t k = 0; k < hp->ndisks; k++)
			used |= hp->disks[k].ctrl == c && (!hp->disks[k].cdrom || (hp->disks[k].env && !cd_moves));
		if (!used || ch.exact)
			continue;
		const struct ovf_item *it = hp->ctrls[c].item;
		ovf_warn(&pl->warnings, "controller %s (%s) is given as %s on %s: %s; the guest needs the %s driver",
			 it && it->element_name ? it->element_name : "?", hw_ctrl_name(hp->ctrls[c].model), ch.device, bn,
			 ch.why, ch.driver);
	}
	for (size_t k = 0; k < hp->nnics; k++) {
		struct hw_choice ch;
		hw_nic_choice(hp->nics[k].model, b, &ch);
		if (ch.exact)
			continue;
		const struct ovf_hw_nic *hn = &pl->hw.nics[hp->nics[k].hw_nic];
		ovf_warn(&pl->warnings, "network adapter %s (%s) is given as %s on %s: %s; the guest needs the %s driver",
			 hn->item && hn->item->element_name ? hn->item->element_name : "?", hw_nic_name(hp->nics[k].model),
			 ch.device, bn, ch.why, ch.driver);
	}
}

int deploy_create(struct deploy_plan *pl, const struct deploy_opts *o, struct instance *in, od_err *e)
{
	memset(in, 0, sizeof *in);
	if (deploy_plan_check(pl, e) < 0)
		return -1;
	in->name = o->name ? od_strdup(o->name) : deploy_default_name(pl);
	in->package = realpath(pl->pkg->path, NULL);
	in->deployment_option = pl->config && pl->config->id ? od_strdup(pl->config->id) : NULL;
	in->backend = o->backend;
	if (!in->name || !in->package) {
		instance_free(in);
		return od_err_nomem(e);
	}
	if (instance_create(in, e) < 0) {
		instance_free(in);
		return -1;
	}
	struct vmspec *s = &in->spec;
	s->cpus = pl->hw.cpus ? (unsigned)(pl->hw.cpus > 255 ? 255 : pl->hw.cpus) : 1;
	/* Round memory up to whole MiB, the unit both backends take. */
	uint64_t mem = pl->hw.memory_bytes ? pl->hw.memory_bytes : 256ull << 20;
	s->memory = (mem + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
	if (pl->hw.cpus > 255)
		ovf_warn(&pl->warnings, "the descriptor asks for %llu CPUs; using 255", (unsigned long long)pl->hw.cpus);

	int rc = 0;
	/* Firmware: as the descriptor says (vmw:Config firmware, vbox:Machine),
	 * unless the user chose. */
	enum ovf_firmware fw = pl->hw.firmware;
	if (o->firmware && ovf_firmware_parse(o->firmware, &fw) < 0)
		rc = od_err_set(e, OD_E_USAGE, "--firmware %s: expected bios or efi", o->firmware);
	else if (fw == OVF_FIRMWARE_EFI)
		rc = deploy_efi_prepare(s, in->dir, e);
	/* The screen: on unless asked not to; VNC on TCP only when asked. */
	s->screen = !o->no_screen;
	if (rc == 0 && o->vnc_listen) {
		if (o->no_screen)
			rc = od_err_set(e, OD_E_USAGE, "--vnc needs the screen (it contradicts --no-screen)");
		else if ((rc = deploy_vnc_listen_check(o->vnc_listen, o->vnc_remote, e)) == 0 &&
			 !(s->vnc_listen = od_strdup(o->vnc_listen)))
			rc = od_err_nomem(e);
		if (rc == 0)
			rc = deploy_vnc_password(s, in->dir, e);
	}
	/* Copy the descriptor: the instance must make sense without the package. */
	char *desc = od_asprintf("%s/descriptor.ovf", in->dir);
	od_atomic_file af;
	if (!desc)
		rc = od_err_nomem(e);
	if (rc == 0 && desc && (rc = od_atomic_open(&af, desc, 0600, e)) == 0) {
		if ((rc = od_write_all(af.fd, pl->pkg->descriptor, pl->pkg->descriptor_len, desc, e)) == 0)
			rc = od_atomic_commit(&af, e);
		else
			od_atomic_abort(&af);
	}
	free(desc);
	/* The hardware plan (hwplan.c): each disk on its described controller. */
	struct hwplan hp = {0};
	if (rc == 0 && (rc = hwplan_make(&pl->hw, o->hardware, &hp, e)) == 0) {
		if (s->efi)
			hwplan_efi_bootable(&hp, &pl->warnings);
		for (size_t c = 0; c < hp.nctrls; c++)
			s->ctrls[c] = (struct vmspec_ctrl){hp.ctrls[c].model, hp.ctrls[c].index};
		s->nctrls = hp.nctrls;
	}
	for (size_t k = 0; rc == 0 && k < hp.ndisks; k++) {
		const struct hwplan_disk *pd = &hp.disks[k];
		if (pd->cdrom)
			continue;
		if (s->ndisks >= VMSPEC_MAX_DISKS) {
			rc = od_err_set(e, OD_E_UNSUPPORTED, "the appliance has more than %d disks", VMSPEC_MAX_DISKS);
			break;
		}
		size_t at = s->ndisks;
		rc = prepare_disk(pl, o, in, pd->hw_disk, &pl->hw.disks[pd->hw_disk], e);
		if (rc == 0 && pd->ctrl != HWPLAN_NONE) {
			s->disks[at].on_ctrl = true;
			s->disks[at].ctrl = (unsigned)pd->ctrl;
			s->disks[at].unit = pd->unit;
		}
	}
	if (rc == 0 && hp.env != HWPLAN_NONE && hp.disks[hp.env].ctrl != HWPLAN_NONE) {
		s->cdrom_on_ctrl = true;
		s->cdrom_ctrl = (unsigned)hp.disks[hp.env].ctrl;
		s->cdrom_unit = hp.disks[hp.env].unit;
	}
	if (rc == 0)
		rc = build_env(pl, in, e);
	if (rc == 0) {
		/* the VMware platform (vmware.c) */
		const struct ovf_hw_section *sec = pl->hw.section;
		bool t_iso, t_guestinfo;
		deploy_transports(sec ? sec->transport : NULL, &t_iso, &t_guestinfo);
		s->guestinfo = t_guestinfo;
		s->cdrom_fallback_only = t_guestinfo && !t_iso;
		/* guestinfo implies VMware's tools, which refuse to run
		 * without VMware's CPUID signature */
		s->vmware = o->platform == DEPLOY_PLATFORM_VMWARE ||
			    (o->platform == DEPLOY_PLATFORM_AUTO &&
			     ((sec && deploy_is_vmware_system(sec->system_type)) || t_guestinfo));
		s->vmx_version = sec ? deploy_vmx_version(sec->system_type) : 0;
	}
	if (rc == 0)
		rc = map_nics(pl, o, in, e);
	for (size_t k = 0; rc == 0 && k < hp.nnics && k < s->nnics; k++)
		s->nics[k].model = hp.nics[k].model;
	if (rc == 0)
		deploy_hw_warnings(pl, &hp, o->backend);
	hwplan_free(&hp);
	if (rc == 0) {
		in->nprops = pl->nprops;
		in->prop_keys = calloc(pl->nprops ? pl->nprops : 1, sizeof(char *));
		in->prop_values = calloc(pl->nprops ? pl->nprops : 1, sizeof(char *));
		if (!in->prop_keys || !in->prop_values)
			rc = od_err_nomem(e);
		for (size_t i = 0; rc == 0 && i < pl->nprops; i++) {
			in->prop_keys[i] = od_strdup(pl->props[i].key);
			in->prop_values[i] = od_strdup(pl->props[i].value ? pl->props[i].value : "");
			if (!in->prop_keys[i] || !in->prop_values[i])
				rc = od_err_nomem(e);
		}
		if (rc < 0)
			in->nprops = 0;
	}
	if (rc == 0)
		rc = instance_save(in, e);
	if (rc < 0) {
		/* Leave nothing half-made behind under the instance's name. */
		od_err keep = *e;
		char *name = od_strdup(in->name);
		instance_free(in);
		if (name)
			instance_remove(name, NULL);
		free(name);
		*e = keep;
		return -1;
	}
	return 0;
}

/* ---- the embedded runner ----------------------------------------------------------
 * The environment ISO goes in as one more read-only virtio disk: the runner
 * has no CD-ROM, and guests look for ovf-env.xml on any ISO9660 device.
 * Whoever runs an instance holds a write lock on its pid file (QEMU does the
 * same), which is how list/stop/rm know it runs. */

/* Write our pid into the pid file and keep it locked; returns the fd, which
 * must stay open for as long as the machine runs. */
static int hold_pidfile(const char *path, od_err *e)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return od_err_errno(e, errno, "%s", path);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		close(fd);
		return od_err_set(e, OD_E_USAGE, "%s: the instance is running already", path);
	}
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || od_pwrite_all(fd, buf, (size_t)n, 0, path, e) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The runner's bus for a disk the plan put on controller `ctrl` (or on
 * none): the PVSCSI, LSI Logic or IDE where hw_ctrl_choice says the runner
 * gives one, else its own virtio-blk. */
static int embedded_bus(const struct vmspec *s, bool on_ctrl, unsigned ctrl)
{
	if (!on_ctrl || ctrl >= s->nctrls)
		return VM_DISK_VIRTIO;
	struct hw_choice ch;
	hw_ctrl_choice(s->ctrls[ctrl].model, DEPLOY_BACKEND_EMBEDDED, &ch);
	if (strcmp(ch.device, "lsilogic") == 0)
		return VM_DISK_LSILOGIC;
	if (strcmp(ch.device, "ide") == 0)
		return VM_DISK_IDE;
	return strcmp(ch.device, "pvscsi") == 0 ? VM_DISK_PVSCSI : VM_DISK_VIRTIO;
}

static int embedded_config(struct instance *in, struct vm_config *cfg, char **env, od_err *e)
{
	bool attach_iso;
	if (deploy_vmware_config(in, DEPLOY_BACKEND_EMBEDDED, &cfg->vmware, env, &attach_iso, e) < 0)
		return -1;
	const struct vmspec *s = &in->spec;
	/* the first SCSI bus a disk is on, if any */
	int scsi_bus = VM_DISK_VIRTIO;
	for (size_t i = 0; i < s->ndisks && scsi_bus == VM_DISK_VIRTIO; i++)
		scsi_bus = embedded_bus(s, s->disks[i].on_ctrl, s->disks[i].ctrl);
	bool scsi = scsi_bus != VM_DISK_VIRTIO;
	for (size_t i = 0; i < s->ndisks + (attach_iso ? 1 : 0); i++) {
		if (cfg->ndisks >= VM_MAX_DISKS)
			return od_err_set(e, OD_E_UNSUPPORTED, "the embedded runner takes at most %d disks", VM_MAX_DISKS);
		bool iso = i == s->ndisks;
		const char *path = iso ? s->cdrom : s->disks[i].path;
		bool ro = iso || s->disks[i].readonly;
		int bus = iso ? embedded_bus(s, s->cdrom_on_ctrl, s->cdrom_ctrl)
			      : embedded_bus(s, s->disks[i].on_ctrl, s->disks[i].ctrl);
		/* The environment CD's drive is on IDE (kept: VMware attaches it
		 * there) or often on SATA, which the runner lacks; a guest whose
		 * disks are on SCSI or IDE has the CD-ROM driver (sr_mod) far
		 * more surely than virtio's, so such a CD joins their controller. */
		if (iso && scsi && bus == VM_DISK_VIRTIO)
			bus = scsi_bus;
		disk *d = disk_open(path, ro ? DISK_RDONLY : DISK_RDWR, e);
		if (!d)
			return -1;
		cfg->disks[cfg->ndisks++] = (struct vm_disk){d, ro, bus, iso && bus != VM_DISK_VIRTIO};
	}
	/* SeaBIOS's 128 KiB build has no PVSCSI or MPT boot driver; the
	 * 256 KiB one has both (the same choice as the QEMU backend's). */
	if (scsi && !cfg->firmware && !s->efi && !s->kernel)
		cfg->firmware = VM_SEABIOS_256K;
	/* The runner has one NIC: the first adapter on user networking. */
	bool placed = false;
	for (size_t i = 0; i < in->spec.nnics; i++) {
		const struct vmspec_nic *n = &in->spec.nics[i];
		if (!n->user)
			continue;
		if (placed) {
			fprintf(stderr, "ovfdeploy: warning: the embedded runner has one network adapter; %s is not connected\n",
				n->network ? n->network : "a second network");
			continue;
		}
		placed = true;
		cfg->net.enabled = true;
		struct hw_choice ch;
		hw_nic_choice(n->model, DEPLOY_BACKEND_EMBEDDED, &ch);
		cfg->net.model = strcmp(ch.device, "vmxnet3") == 0 ? VM_NIC_VMXNET3 : VM_NIC_VIRTIO;
		for (size_t f = 0; f < n->nforwards && f < VM_MAX_HOSTFWD; f++)
			cfg->net.fwd[cfg->net.nfwd++] = (struct vm_hostfwd){
				.host_addr = 0x7f000001, /* 127.0.0.1: never expose the guest beyond this host */
				.host_port = n->forwards[f].host_port,
				.guest_port = n->forwards[f].guest_port,
			};
	}
	/* The screen on TCP too (deploy --vnc): the socket opened here, before
	 * the runner drops privileges and confines itself, with the password
	 * generated at deploy time.  The address was checked then (loopback
	 * unless --vnc-remote); instance.conf is the owner's own file. */
	if (s->screen && s->vnc_listen) {
		char *pw = NULL;
		size_t len = 0;
		if (!s->vnc_password_file)
			return od_err_set(e, OD_E_INVALID, "instance '%s': VNC on %s without a password file", in->name,
					  s->vnc_listen);
		if (od_read_file(s->vnc_password_file, 64, &pw, &len, e) < 0)
			return -1;
		if (!len) {
			free(pw);
			return od_err_set(e, OD_E_INVALID, "%s: empty VNC password", s->vnc_password_file);
		}
		cfg->vnc_password = pw;
		if ((cfg->vnc_tcp_fd = vm_vnc_listen(s->vnc_listen, true, e)) < 0)
			return -1;
	}
	return 0;
}

static void embedded_close(struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->ndisks; i++)
		disk_close(cfg->disks[i].disk);
	cfg->ndisks = 0;
	if (cfg->vnc_tcp_fd > 0)
		close(cfg->vnc_tcp_fd);
	cfg->vnc_tcp_fd = -1;
	if (cfg->vnc_password) {
		char *pw = (char *)cfg->vnc_password;
		explicit_bzero(pw, strlen(pw));
		free(pw);
		cfg->vnc_password = NULL;
	}
}

static int end_status(int end)
{
	return end == VM_END_POWEROFF || end == VM_END_RESET || end == VM_END_QUIT || end == VM_END_STOPPED ? 0 : 1;
}

static int run_embedded(struct instance *in, int *guest_status, od_err *e)
{
	struct vm_config cfg = {
		.cpus = in->spec.cpus,
		.memory = in->spec.memory,
		.firmware = in->spec.firmware,
		.console_fd = STDOUT_FILENO,
		.console_in_fd = isatty(STDIN_FILENO) ? STDIN_FILENO : -1,
		.console_listen_fd = -1,
		.fwlog_fd = -1,
		.shutdown_fd = -1,
		/* the screen: VNC on the instance's UNIX socket (and on TCP
		 * when asked: embedded_config) */
		.vnc_socket = in->spec.screen ? in->spec.vnc_socket : NULL,
	};
	int pidfd = hold_pidfile(in->spec.pidfile, e);
	if (pidfd < 0)
		return -1;
	/* pause/resume from another terminal (pause.c) */
	cfg.control_listen_fd = in->spec.control_socket ? deploy_control_listen(in->spec.control_socket, e) : -1;
	if (in->spec.control_socket && cfg.control_listen_fd < 0) {
		unlink(in->spec.pidfile);
		close(pidfd);
		return -1;
	}
	char *env = NULL;
	int rc = embedded_config(in, &cfg, &env, e);
	int end = VM_END_NONE;
	char how[128] = "";
	cfg.end_detail = how, cfg.end_detail_len = sizeof how;
	if (rc == 0)
		rc = vm_run(&cfg, &end, e);
	/* A reset ends a run (the guest does not come back by itself): on the
	 * console, as the background runner puts it in the console log. */
	if (rc == 0 && end == VM_END_RESET)
		dprintf(STDOUT_FILENO, "\novfdeploy: the machine ended: reset (%s)\n", how);
	embedded_close(&cfg);
	free(env);
	if (cfg.control_listen_fd > 0) {
		close(cfg.control_listen_fd);
		unlink(in->spec.control_socket);
	}
	unlink(in->spec.pidfile);
	close(pidfd);
	if (rc == 0)
		*guest_status = end_status(end);
	return rc;
}

/* SIGTERM asks the guest to power off: the handler only writes to a pipe
 * that the runner's event loop watches. */
static int shutdown_pipe_w = -1;
static void on_sigterm(int sig)
{
	(void)sig;
	int saved = errno;
	if (shutdown_pipe_w >= 0 && write(shutdown_pipe_w, "t", 1) < 0) {
		/* nothing to do: the pipe is full, a request is pending anyway */
	}
	errno = saved;
}

/* Why a background runner did not start: the last line it logged as
 * "ovfdeploy: ..." (say, the VNC port in use), so that the user reads the
 * cause rather than where to find it. */
static void failed_start_reason(const char *log, char *out, size_t outlen)
{
	char *data = NULL;
	size_t len = 0;
	od_err ignored;
	*out = '\0';
	if (od_read_file(log, 1 << 20, &data, &len, &ignored) < 0)
		return;
	for (char *line = data; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (!strncmp(line, "ovfdeploy: ", 11))
			snprintf(out, outlen, "%s", line + 11);
		line = nl ? nl + 1 : NULL;
	}
	free(data);
}

/* A background instance: a detached process (double fork, new session) runs
 * the machine with its console on a UNIX socket (one client at a time) and
 * every byte of it in the console log, attached or not. */
static int start_embedded_background(struct instance *in, od_err *e)
{
	int logfd = open(in->spec.console_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (logfd < 0)
		return od_err_errno(e, errno, "%s", in->spec.console_log);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(in->spec.console_socket) >= sizeof sa.sun_path) {
		close(logfd);
		return od_err_set(e, OD_E_USAGE, "%s: path too long for a socket", in->spec.console_socket);
	}
	strcpy(sa.sun_path, in->spec.console_socket);
	unlink(in->spec.console_socket);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 1) < 0) {
		od_err_errno(e, errno, "%s", in->spec.console_socket);
		if (ls >= 0)
			close(ls);
		close(logfd);
		return -1;
	}
	int ctl = in->spec.control_socket ? deploy_control_listen(in->spec.control_socket, e) : -1;
	if (in->spec.control_socket && ctl < 0) {
		close(ls);
		close(logfd);
		return -1;
	}
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		od_err_errno(e, errno, "pipe");
		if (ctl >= 0)
			close(ctl);
		close(ls);
		close(logfd);
		return -1;
	}
	/* A pipe tells the parent whether the machine came up. */
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0) {
		od_err_errno(e, errno, "pipe");
		close(pipefd[0]);
		close(pipefd[1]);
		close(ls);
		close(logfd);
		return -1;
	}
	fflush(NULL);
	pid_t child = fork();
	if (child < 0) {
		od_err_errno(e, errno, "fork");
		close(ready[0]);
		close(ready[1]);
		close(pipefd[0]);
		close(pipefd[1]);
		close(ls);
		close(logfd);
		return -1;
	}
	if (child == 0) {
		close(ready[0]);
		setsid();
		if (fork() != 0)
			_exit(0);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			close(devnull);
		}
		dup2(logfd, STDERR_FILENO);
		od_err ce;
		int pidfd = hold_pidfile(in->spec.pidfile, &ce);
		struct vm_config cfg = {
			.cpus = in->spec.cpus, .memory = in->spec.memory, .firmware = in->spec.firmware,
			.console_fd = logfd, .console_in_fd = -1, .console_listen_fd = ls, .fwlog_fd = -1,
			.shutdown_fd = pipefd[0], .shutdown_grace_ms = 3600 * 1000,
			.vnc_socket = in->spec.screen ? in->spec.vnc_socket : NULL,
			/* after the run this process only logs, closes its disks,
			 * unlinks two files and exits: the main seccomp list */
			.confine_caller = true,
			.control_listen_fd = ctl, /* pause/resume (pause.c) */
		};
		char *env = NULL; /* guestinfo.ovfEnv: lives until _exit */
		int rc = pidfd < 0 ? -1 : embedded_config(in, &cfg, &env, &ce);
		shutdown_pipe_w = pipefd[1];
		struct sigaction sa_term = {.sa_handler = on_sigterm};
		sigemptyset(&sa_term.sa_mask);
		sigaction(SIGTERM, &sa_term, NULL);
		char status = rc == 0 ? 'k' : 'x';
		/* the reason goes to the log before the status: the parent
		 * reads the log as soon as it has the status */
		if (rc < 0)
			dprintf(logfd, "ovfdeploy: %s\n", ce.msg);
		if (write(ready[1], &status, 1) < 0 || rc < 0)
			_exit(1);
		close(ready[1]);
		int end = VM_END_NONE;
		char how[128] = "";
		cfg.end_detail = how, cfg.end_detail_len = sizeof how;
		if (vm_run(&cfg, &end, &ce) < 0)
			dprintf(logfd, "ovfdeploy: %s\n", ce.msg);
		else
			dprintf(logfd, "\novfdeploy: the machine ended: %s%s%s%s\n", vm_end_name(end), *how ? " (" : "",
				how, *how ? ")" : "");
		embedded_close(&cfg);
		unlink(in->spec.console_socket);
		if (ctl >= 0)
			unlink(in->spec.control_socket);
		unlink(in->spec.pidfile);
		_exit(0);
	}
	if (ctl >= 0)
		close(ctl);
	close(ready[1]);
	close(pipefd[0]);
	close(pipefd[1]);
	close(ls);
	close(logfd);
	waitpid(child, NULL, 0);
	char status = 0;
	ssize_t n;
	do
		n = read(ready[0], &status, 1);
	while (n < 0 && errno == EINTR);
	close(ready[0]);
	if (n != 1 || status != 'k') {
		char why[256];
		failed_start_reason(in->spec.console_log, why, sizeof why);
		return od_err_set(e, OD_E_IO, "the embedded runner did not start: %s (see %s)", *why ? why : "no reason logged",
				  in->spec.console_log);
	}
	return 0;
}

/* Which backend runs the instance now: recorded at start, read by stop. */
static int record_backend(struct instance *in, enum deploy_backend b, od_err *e)
{
	char *path = od_asprintf("%s/running-backend", in->dir);
	if (!path)
		return od_err_nomem(e);
	FILE *f = fopen(path, "w");
	int rc = 0;
	/* What it really runs on, for 'list': QEMU decides KVM or TCG as
	 * qemu_build_argv does. */
	const char *what = b == DEPLOY_BACKEND_EMBEDDED                      ? "embedded"
			   : vm_host_has_hw_virt() && vm_host_kvm_usable() ? "qemu-kvm"
									   : "qemu-tcg";
	if (!f || fprintf(f, "%s\n", what) < 0)
		rc = od_err_errno(e, errno, "%s", path);
	if (f && fclose(f) != 0 && rc == 0)
		rc = od_err_errno(e, errno, "%s", path);
	free(path);
	return rc;
}

static enum deploy_backend running_backend(const struct instance *in)
{
	char *path = od_asprintf("%s/running-backend", in->dir), *data = NULL;
	size_t len;
	enum deploy_backend b = DEPLOY_BACKEND_QEMU;
	if (path && od_read_file(path, 64, &data, &len, NULL) == 0 && !strncmp(data, "embedded", 8))
		b = DEPLOY_BACKEND_EMBEDDED;
	free(data);
	free(path);
	return b;
}

int deploy_running_backend(const struct instance *in, char *buf, size_t len)
{
	char *path = od_asprintf("%s/running-backend", in->dir), *data = NULL;
	size_t n;
	int rc = -1;
	if (path && od_read_file(path, 64, &data, &n, NULL) == 0) {
		data[strcspn(data, "\n")] = 0;
		if (*data && strlen(data) < len) {
			strcpy(buf, data);
			rc = 0;
		}
	}
	free(data);
	free(path);
	return rc;
}

static bool pid_gone(pid_t pid, unsigned ms)
{
	for (unsigned t = 0; t <= ms; t += 100) {
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return true;
		usleep(100 * 1000);
	}
	return false;
}

int deploy_start(struct instance *in, bool foreground, int *guest_status, char *why, size_t whylen, od_err *e)
{
	if (instance_running_pid(in))
		return od_err_set(e, OD_E_USAGE, "instance '%s' is running already", in->name);
	pid_t exporter = instance_export_pid(in);
	if (exporter)
		return od_err_set(e, OD_E_USAGE, "instance '%s' is being exported (process %d): start it when that is done",
				  in->name, (int)exporter);
	if (deploy_snapshot_settle(in, e) < 0)
		return -1;
	/* Every disk and the files behind it must be there: a package moved
	 * or deleted after deploy would otherwise surface as QEMU's "Could
	 * not open backing file", or the runner's, with no way out named. */
	for (size_t i = 0; i < in->spec.ndisks; i++) {
		disk *d = disk_open(in->spec.disks[i].path, DISK_RDONLY, e);
		if (d) {
			disk_close(d);
			continue;
		}
		if (in->package && access(in->package, F_OK) != 0)
			return od_err_set(e, OD_E_INVALID,
					  "instance '%s': its disks read the package %s, which is gone (moved or deleted): "
					  "put it back there, or deploy again from where it is now ('ovfdeploy rm %s', "
					  "then 'ovfdeploy deploy PACKAGE --name %s')", in->name, in->package, in->name,
					  in->name);
		od_err_prefix(e, "instance '%s'", in->name);
		return -1;
	}
	enum deploy_backend b = deploy_instance_backend(in, why, whylen);
	*guest_status = 0;
	if (in->spec.efi && b == DEPLOY_BACKEND_EMBEDDED)
		return od_err_set(e, OD_E_UNSUPPORTED, "instance '%s' boots UEFI, which the embedded runner cannot yet; "
				  "start it with QEMU (deploy --backend qemu) or redeploy with --firmware bios", in->name);
	if (deploy_efi_check(&in->spec, e) < 0)
		return -1;
	if (record_backend(in, b, e) < 0)
		return -1;
	/* A fresh log per run: the console of this boot, not of every boot. */
	if (in->spec.console_log)
		unlink(in->spec.console_log);
	/* here, not in the runner: a background runner's stderr is its log */
	deploy_vmware_warn(in, b);
	int sock_err;
	if (in->spec.screen && in->spec.vnc_socket && !deploy_screen_socket_usable(in->spec.vnc_socket, &sock_err)) {
		fprintf(stderr, "ovfdeploy: warning: no screen for this run: %s: cannot make a UNIX socket there (%s); "
				"the serial console works as before (move the instances with XDG_DATA_HOME to get the screen)\n",
			in->spec.vnc_socket, strerror(sock_err));
		in->spec.screen = false;
	}
	if (b == DEPLOY_BACKEND_EMBEDDED) {
		/* the same for pause/resume's control socket: they are extras,
		 * the run is not (this run only: instance.conf keeps the path) */
		char *ctl = in->spec.control_socket;
		if (ctl && foreground && !deploy_screen_socket_usable(ctl, &sock_err)) {
			fprintf(stderr, "ovfdeploy: warning: no pause/resume for this run: %s: cannot make a UNIX socket there (%s)\n",
				ctl, strerror(sock_err));
			in->spec.control_socket = NULL;
		}
		int rc = foreground ? run_embedded(in, guest_status, e) : start_embedded_background(in, e);
		in->spec.control_socket = ctl;
		return rc;
	}
	if (foreground) {
		in->spec.console = VMSPEC_CONSOLE_STDIO;
		return qemu_run(&in->spec, guest_status, e);
	}
	in->spec.console = VMSPEC_CONSOLE_SOCKET;
	return qemu_start(&in->spec, e);
}

enum deploy_backend deploy_instance_backend(const struct instance *in, char *why, size_t whylen)
{
	enum deploy_backend b = deploy_backend_choose(in->backend, why, whylen);
	if (in->spec.efi && b == DEPLOY_BACKEND_EMBEDDED && in->backend == DEPLOY_BACKEND_AUTO) {
		snprintf(why, whylen, "QEMU with OVMF: the appliance boots UEFI, and the embedded runner boots BIOS firmware only");
		b = DEPLOY_BACKEND_QEMU;
	}
	return b;
}

int deploy_stop(struct instance *in, unsigned timeout_s, bool *forced, od_err *e)
{
	pid_t pid = instance_running_pid(in);
	*forced = false;
	if (!pid)
		return od_err_set(e, OD_E_USAGE, "instance '%s' is not running", in->name);
	/* a paused guest cannot hear the power button: let it run first */
	enum deploy_state st;
	od_err ignored;
	if (deploy_run_state(in, &st, &ignored) == 0 && st == DEPLOY_STATE_PAUSED)
		(void)deploy_resume(in, &ignored);
	if (running_backend(in) == DEPLOY_BACKEND_QEMU)
		return qemu_stop(in->spec.control_socket, pid, timeout_s, forced, e);
	/* The runner: the first SIGTERM presses the power button, a second one
	 * stops the machine at once; SIGKILL if even that does not help. */
	if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
		return od_err_errno(e, errno, "cannot signal process %d", (int)pid);
	if (pid_gone(pid, timeout_s * 1000))
		return 0;
	*forced = true;
	kill(pid, SIGTERM);
	if (pid_gone(pid, 3000))
		return 0;
	kill(pid, SIGKILL);
	if (pid_gone(pid, 5000))
		return 0;
	return od_err_set(e, OD_E_IO, "process %d did not stop", (int)pid);
}
