/* rewrite.c - a descriptor with a few attributes changed, everything else
 * kept: comments, unknown sections, vendor extensions, the order of things.
 *
 * `export` makes a new package from a deployed instance: the same
 * descriptor, but with the instance's deployment option as the default, its
 * property values as the defaults, and its disks as new files.  Editing the
 * parsed document (rather than generating a new one) keeps whatever the
 * vendor wrote that we do not model.  The input is parsed with the same
 * hardened reader as everything else (xml.h). */
#include "config.h"
#include "ovf/ovf.h"
#include "ovf/xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

static bool is_el(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && (!name || !strcmp((const char *)n->name, name));
}

static bool ns_is_ovf(const xmlNs *ns)
{
	return ns && ovf_version_from_ns((const char *)ns->href) != OVF_V_UNKNOWN;
}

/* The attribute `name` in an OVF namespace or in none, as envelope.c reads it. */
static xmlAttr *find_attr(xmlNode *n, const char *name)
{
	for (xmlAttr *a = n->properties; a; a = a->next)
		if (!strcmp((const char *)a->name, name) && (!a->ns || ns_is_ovf(a->ns)))
			return a;
	return NULL;
}

static char *get_attr(xmlNode *n, const char *name)
{
	xmlAttr *a = find_attr(n, name);
	if (!a)
		return NULL;
	xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
	char *r = od_strdup(v ? (const char *)v : "");
	xmlFree(v);
	return r;
}

struct rw {
	xmlDoc *doc;
	xmlNs *ovf;      /* a prefixed declaration of the envelope's namespace */
	const char *name;
	od_err *e;
	int rc;
};

/* Set an attribute where it is (keeping its prefix), or add it as ovf:NAME. */
static void set_attr(struct rw *w, xmlNode *n, const char *name, const char *value)
{
	if (w->rc)
		return;
	xmlAttr *a = find_attr(n, name);
	xmlAttr *r = a ? xmlSetNsProp(n, a->ns, (const xmlChar *)name, (const xmlChar *)value)
		       : xmlSetNsProp(n, w->ovf, (const xmlChar *)name, (const xmlChar *)value);
	if (!r)
		w->rc = od_err_nomem(w->e);
}

static void set_attr_u64(struct rw *w, xmlNode *n, const char *name, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
	set_attr(w, n, name, buf);
}

static void remove_attr(xmlNode *n, const char *name)
{
	xmlAttr *a;
	while ((a = find_attr(n, name)) != NULL)
		xmlRemoveProp(a);
}

/* A prefixed namespace declaration for the envelope's namespace, made on the
 * root when the document binds it only as the default namespace (attributes
 * never take the default namespace). */
static xmlNs *ovf_ns(xmlDoc *doc, xmlNode *root)
{
	const xmlChar *href = root->ns ? root->ns->href : NULL;
	if (!href || !ns_is_ovf(root->ns))
		return NULL;
	for (xmlNs *ns = root->nsDef; ns; ns = ns->next)
		if (ns->prefix && !xmlStrcmp(ns->href, href))
			return ns;
	xmlNs *ns = xmlSearchNsByHref(doc, root, href);
	if (ns && ns->prefix)
		return ns;
	static const char *const prefixes[] = {"ovf", "ovf1", "ovfx", NULL};
	for (size_t i = 0; prefixes[i]; i++)
		if (!xmlSearchNs(doc, root, (const xmlChar *)prefixes[i]))
			return xmlNewNs(root, href, (const xmlChar *)prefixes[i]);
	return NULL;
}

/* A section or content element by name: <NAME> or, as OVF 0.9 writes
 * them, <Section xsi:type="ovf:NAME_Type"> and <Content xsi:type=...>. */
static bool is_section(xmlNode *n, const char *name)
{
	if (is_el(n, name))
		return true;
	if (!is_el(n, "Section") && !is_el(n, "Content"))
		return false;
	xmlChar *t = xmlGetNsProp(n, (const xmlChar *)"type", (const xmlChar *)"http://www.w3.org/2001/XMLSchema-instance");
	const char *ts = t ? strchr((const char *)t, ':') : NULL;
	ts = ts ? ts + 1 : (const char *)t;
	size_t nl = strlen(name);
	bool r = ts && !strncmp(ts, name, nl) && !strcmp(ts + nl, "_Type");
	xmlFree(t);
	return r;
}

static xmlNode *child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (is_section(c, name))
			return c;
	return NULL;
}

static void do_files(struct rw *w, xmlNode *refs, const struct ovf_rewrite *r)
{
	for (size_t i = 0; i < r->nfiles && !w->rc; i++) {
		const struct ovf_rewrite_file *f = &r->files[i];
		xmlNode *el = NULL;
		for (xmlNode *c = refs ? refs->children : NULL; c && !el; c = c->next) {
			if (!is_el(c, "File"))
				continue;
			char *id = get_attr(c, "id");
			if (id && !strcmp(id, f->id))
				el = c;
			free(id);
		}
		if (!el && !f->add) {
			w->rc = od_err_set(w->e, OD_E_INVALID, "%s: References has no File '%s'", w->name, f->id);
			return;
		}
		if (el && f->add) {
			w->rc = od_err_set(w->e, OD_E_INVALID, "%s: References has a File '%s' already", w->name, f->id);
			return;
		}
		if (!el) {
			if (!refs) {
				w->rc = od_err_set(w->e, OD_E_UNSUPPORTED, "%s: the descriptor has no References section",
						   w->name);
				return;
			}
			/* after the last File, on a line of its own */
			xmlNode *last = NULL;
			for (xmlNode *c = refs->children; c; c = c->next)
				if (is_el(c, "File"))
					last = c;
			el = xmlNewDocNode(w->doc, refs->ns, (const xmlChar *)"File", NULL);
			xmlNode *nl = xmlNewDocText(w->doc, (const xmlChar *)"\n    ");
			if (!el || !nl) {
				xmlFreeNode(el);
				xmlFreeNode(nl);
				w->rc = od_err_nomem(w->e);
				return;
			}
			if (last) {
				xmlAddNextSibling(last, el);
				xmlAddNextSibling(last, nl);
			} else {
				xmlFreeNode(nl);
				xmlAddChild(refs, el);
			}
			set_attr(w, el, "id", f->id);
		}
		set_attr(w, el, "href", f->href);
		set_attr_u64(w, el, "size", f->size);
		remove_attr(el, "compression");
		remove_attr(el, "chunkSize");
	}
}

static void do_disks(struct rw *w, xmlNode *disks, const struct ovf_rewrite *r)
{
	for (size_t i = 0; i < r->ndisks && !w->rc; i++) {
		const struct ovf_rewrite_disk *d = &r->disks[i];
		xmlNode *el = NULL;
		for (xmlNode *c = disks ? disks->children : NULL; c && !el; c = c->next) {
			if (!is_el(c, "Disk"))
				continue;
			char *id = get_attr(c, "diskId");
			if (id && !strcmp(id, d->disk_id))
				el = c;
			free(id);
		}
		if (!el) {
			w->rc = od_err_set(w->e, OD_E_INVALID, "%s: DiskSection has no Disk '%s'", w->name, d->disk_id);
			return;
		}
		if (d->file_ref)
			set_attr(w, el, "fileRef", d->file_ref);
		if (d->format)
			set_attr(w, el, "format", d->format);
		if (d->capacity) {
			set_attr_u64(w, el, "capacity", d->capacity);
			remove_attr(el, "capacityAllocationUnits");
		}
		/* The disk is whole now: no parent, and the old populated size
		 * says nothing about the new content. */
		remove_attr(el, "parentRef");
		remove_attr(el, "populatedSize");
	}
}

/* "class.key.instance" as deploy.c's full_key spells it. */
static char *full_key(xmlNode *product, xmlNode *prop)
{
	char *cls = get_attr(product, "class"), *ins = get_attr(product, "instance"), *key = get_attr(prop, "key");
	char *r = key ? od_asprintf("%s%s%s%s%s", cls ? cls : "", cls ? "." : "", key, ins ? "." : "", ins ? ins : "")
		      : NULL;
	free(cls);
	free(ins);
	free(key);
	return r;
}

static void do_props_in(struct rw *w, xmlNode *n, const struct ovf_rewrite *r, bool *done, int depth)
{
	if (depth > 64)
		return;
	for (xmlNode *c = n->children; c && !w->rc; c = c->next) {
		if (!is_el(c, NULL))
			continue;
		if (!is_section(c, "ProductSection")) {
			/* only systems, collections and their sections hold products */
			if (is_section(c, "VirtualSystem") || is_section(c, "VirtualSystemCollection"))
				do_props_in(w, c, r, done, depth + 1);
			continue;
		}
		for (xmlNode *p = c->children; p && !w->rc; p = p->next) {
			if (!is_el(p, "Property"))
				continue;
			char *k = full_key(c, p);
			for (size_t i = 0; k && i < r->nprops && !w->rc; i++) {
				if (strcmp(k, r->props[i].key) != 0)
					continue;
				done[i] = true;
				/* OVF 0.9 writes the default as ovf:defaultValue */
				set_attr(w, p, find_attr(p, "value") || !find_attr(p, "defaultValue") ? "value" : "defaultValue",
					 r->props[i].value);
				/* A per-configuration value for the new default option
				 * would win over ovf:value there. */
				for (xmlNode *v = p->children; v && !w->rc; v = v->next) {
					if (!is_el(v, "Value"))
						continue;
					char *list = get_attr(v, "configuration");
					if (list && r->default_config && ovf_config_applies(list, r->default_config))
						set_attr(w, v, "value", r->props[i].value);
					free(list);
				}
			}
			free(k);
		}
	}
}

static void do_configs(struct rw *w, xmlNode *sec, const char *config)
{
	bool found = false;
	for (xmlNode *c = sec ? sec->children : NULL; c && !w->rc; c = c->next) {
		if (!is_el(c, "Configuration"))
			continue;
		char *id = get_attr(c, "id");
		if (id && !strcmp(id, config)) {
			set_attr(w, c, "default", "true");
			found = true;
		} else {
			remove_attr(c, "default");
		}
		free(id);
	}
	if (!found && !w->rc)
		w->rc = od_err_set(w->e, OD_E_INVALID, "%s: DeploymentOptionSection has no Configuration '%s'", w->name,
				   config);
}

int ovf_descriptor_rewrite(const char *buf, size_t len, const char *name, const struct ovf_rewrite *r, od_buf *out,
			   od_err *e)
{
	xmlDoc *doc = ovf_xml_read(buf, len, name, NULL, e);
	if (!doc)
		return -1;
	struct rw w = {.doc = doc, .name = name, .e = e};
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!is_el(root, "Envelope") || !ns_is_ovf(root->ns)) {
		xmlFreeDoc(doc);
		return od_err_set(e, OD_E_INVALID, "%s: the root element is not an OVF Envelope", name);
	}
	w.ovf = ovf_ns(doc, root);
	if (!w.ovf) {
		xmlFreeDoc(doc);
		return od_err_set(e, OD_E_UNSUPPORTED, "%s: cannot declare a prefix for the OVF namespace", name);
	}
	xmlNode *refs = child(root, "References"), *disks = child(root, "DiskSection"),
		*opts = child(root, "DeploymentOptionSection");
	do_files(&w, refs, r);
	do_disks(&w, disks, r);
	if (r->default_config && !w.rc)
		do_configs(&w, opts, r->default_config);
	bool *done = calloc(r->nprops ? r->nprops : 1, sizeof *done);
	if (!done && !w.rc)
		w.rc = od_err_nomem(e);
	if (!w.rc)
		do_props_in(&w, root, r, done, 0);
	for (size_t i = 0; i < r->nprops && !w.rc; i++)
		if (!done[i])
			w.rc = od_err_set(e, OD_E_INVALID, "%s: no property '%s' in any ProductSection", name, r->props[i].key);
	free(done);
	if (!w.rc) {
		xmlChar *mem = NULL;
		int size = 0;
		xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 0);
		if (!mem || size <= 0 || od_buf_append(out, mem, (size_t)size) < 0)
			w.rc = od_err_nomem(e);
		xmlFree(mem);
	}
	xmlFreeDoc(doc);
	return w.rc ? -1 : 0;
}
