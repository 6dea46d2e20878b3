/*
 * envelope.c - OVF descriptor -> in-memory model.
 *
 * The descriptor is hostile input.  libxml2 is asked for no network, no DTD
 * loading and no entity substitution, and we go further: a DOCTYPE that
 * declares entities is refused outright (the parser is stopped at the first
 * declaration), because no real OVF descriptor needs one and that is where
 * XXE and "billion laughs" live.  Bytes are checked for UTF-8 before libxml2
 * sees them so that the error names a line, and a declared encoding that is
 * not what the bytes are is refused rather than turned into mojibake.
 *
 * The model keeps values as written (strings, NULL when absent): validate
 * judges them, inspect shows them, and the look-ups for deployers convert
 * them (units, numbers) with overflow checks.  OVF 0.9 (VMware's namespace),
 * 1.x and 2.x land in the same model; 0.9's differences are absorbed here:
 * "Section xsi:type=ovf:DiskSection_Type", "Content xsi:type=...", RASD
 * "InstanceId".
 */
#include "config.h"
#include "ovf/ovf.h"
#include "ovf/xml.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"
#define VMW_NS "http://www.vmware.com/schema/ovf"
#define VBOX_NS "http://www.virtualbox.org/ovf/machine"

/* Hard caps on how many elements of one kind we keep.  The size limit
 * already bounds memory; these keep a pathological but small descriptor
 * (thousands of tiny Items) from making validate quadratic for minutes. */
#define MAX_ELEMENTS 20000
#define MAX_DEPTH 16

/* ---- diagnostics ----------------------------------------------------------- */

int ovf_diags_add(struct ovf_diags *d, int severity, const char *code, int line, const char *fmt, ...)
{
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 16;
		struct ovf_diag *nv = realloc(d->v, ncap * sizeof *nv);
		if (!nv)
			return -1;
		d->v = nv;
		d->cap = ncap;
	}
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return -1;
	struct ovf_diag *g = &d->v[d->n++];
	g->severity = severity;
	snprintf(g->code, sizeof g->code, "%s", code);
	g->line = line;
	g->message = msg;
	if (severity == OVF_DIAG_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
	return 0;
}

void ovf_diags_free(struct ovf_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].message);
	free(d->v);
	memset(d, 0, sizeof *d);
}

/* ---- parser state ------------------------------------------------------------ */

struct pctx {
	ovf_envelope *env;
	xmlDoc *doc;
	bool oom;
	bool too_many;
	/* the bytes, for line numbers (lineof) */
	const char *buf;
	size_t len;
	size_t *line_start; /* offset where line i+1 starts, i = 0.. */
	size_t nlines;
	size_t cursor;      /* just after the last element start found */
	const xmlNode *last_node;
	int last_line;
};

/* Grow an array of `T` held in (*arr, *n) by one zeroed element; NULL on
 * failure (oom or the element cap). */
static void *grow(struct pctx *p, void **arr, size_t *n, size_t size)
{
	if (*n >= MAX_ELEMENTS) {
		p->too_many = true;
		return NULL;
	}
	/* Capacity is implied: the next power of two at or above *n.  Growing
	 * geometrically keeps thousands of Items from costing a copy each. */
	size_t n0 = *n;
	if (n0 == 0 || (n0 & (n0 - 1)) == 0) {
		size_t cap = n0 ? n0 * 2 : 1;
		void *nv = realloc(*arr, cap * size);
		if (!nv) {
			p->oom = true;
			return NULL;
		}
		*arr = nv;
	}
	void *nv = *arr;
	void *el = (char *)nv + *n * size;
	memset(el, 0, size);
	(*n)++;
	return el;
}
#define GROW(p, arr, n) ((__typeof__(arr))grow((p), (void **)&(arr), &(n), sizeof *(arr)))

static char *xdup(struct pctx *p, const xmlChar *s)
{
	if (!s)
		return NULL;
	char *r = strdup((const char *)s);
	if (!r)
		p->oom = true;
	return r;
}

static int xml_line(const xmlNode *n)
{
	long l = xmlGetLineNo(n);
	return l < 0 || l > 0x7fffffff ? 0 : (int)l;
}

/* Line of byte offset `off` (1-based), by binary search in line_start. */
static int line_of_offset(const struct pctx *p, size_t off)
{
	size_t lo = 0, hi = p->nlines;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->line_start[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return (int)lo + 1;
}

/* libxml2 numbers an element by the line where its start tag ends; for a
 * tag written over several lines (<Disk ovf:diskId=...\n ovf:fileRef=...>)
 * users look for the line where it begins.  The parser visits elements in
 * document order, so the start tag is the first "<name" after the previous
 * element's, on or before libxml2's line.  When that fails (markup inside a
 * comment, say) we keep libxml2's number. */
static int lineof(struct pctx *p, const xmlNode *n)
{
	int l = xml_line(n);
	if (!p->buf || l <= 0 || !n->name)
		return l;
	if (n == p->last_node)
		return p->last_line;
	char tag[256];
	if (n->ns && n->ns->prefix)
		snprintf(tag, sizeof tag, "<%s:%s", (const char *)n->ns->prefix, (const char *)n->name);
	else
		snprintf(tag, sizeof tag, "<%s", (const char *)n->name);
	size_t tl = strlen(tag);
	size_t off = p->cursor;
	int result = l;
	while (off < p->len) {
		const char *m = memmem(p->buf + off, p->len - off, tag, tl);
		if (!m)
			break;
		size_t at = (size_t)(m - p->buf);
		int ml = line_of_offset(p, at);
		if (ml > l)
			break;
		char after = at + tl < p->len ? p->buf[at + tl] : 0;
		if (after == ' ' || after == '\t' || after == '\n' || after == '\r' || after == '>' || after == '/') {
			if (ml >= l - 64) {
				result = ml;
				p->cursor = at + 1;
			}
			break;
		}
		off = at + 1;
	}
	p->last_node = n;
	p->last_line = result;
	return result;
}

static bool is_el(const xmlNode *n)
{
	return n && n->type == XML_ELEMENT_NODE;
}

static bool ns_is_ovf(const xmlNs *ns)
{
	return ns && ovf_version_from_ns((const char *)ns->href) != OVF_V_UNKNOWN;
}

static bool named(const xmlNode *n, const char *name)
{
	return is_el(n) && strcmp((const char *)n->name, name) == 0;
}

/* An attribute by local name, in any OVF envelope namespace or in none.
 * Descriptors mix ovf:-prefixed and bare attributes, and some bind the ovf
 * prefix to another OVF version's namespace than the default one; accepting
 * either keeps the model faithful to what a deploy tool would read. */
static char *attr(struct pctx *p, const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n->properties; a; a = a->next) {
		if (strcmp((const char *)a->name, name) != 0)
			continue;
		if (a->ns && !ns_is_ovf(a->ns))
			continue;
		xmlChar *v = xmlNodeListGetString(p->doc, a->children, 1);
		if (!v)
			return xdup(p, (const xmlChar *)"");
		char *r = xdup(p, v);
		xmlFree(v);
		return r;
	}
	return NULL;
}

/* An attribute in a given namespace (xsi:type, vmw:osType, xml:lang). */
static char *attr_ns(struct pctx *p, const xmlNode *n, const char *name, const char *ns)
{
	xmlChar *v = xmlGetNsProp(n, (const xmlChar *)name, (const xmlChar *)ns);
	char *r = xdup(p, v);
	xmlFree(v);
	return r;
}

static bool attr_bool(struct pctx *p, const xmlNode *n, const char *name, bool dflt)
{
	char *v = attr(p, n, name);
	if (!v)
		return dflt;
	bool r = dflt;
	if (!strcasecmp(v, "true") || !strcmp(v, "1"))
		r = true;
	else if (!strcasecmp(v, "false") || !strcmp(v, "0"))
		r = false;
	free(v);
	return r;
}

static void trim(char *s)
{
	if (!s)
		return;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	size_t i = 0;
	while (s[i] && isspace((unsigned char)s[i]))
		i++;
	if (i)
		memmove(s, s + i, n - i + 1);
}

/* Text content of an element; trimmed unless `raw`. */
static char *text_of(struct pctx *p, const xmlNode *n, bool raw)
{
	xmlChar *v = xmlNodeGetContent(n);
	char *r = xdup(p, v ? v : (const xmlChar *)"");
	xmlFree(v);
	if (!raw)
		trim(r);
	return r;
}

/* Replace *dst (first occurrence wins for single-valued fields). */
static void set_text(struct pctx *p, char **dst, const xmlNode *n, bool raw)
{
	if (*dst)
		return;
	*dst = text_of(p, n, raw);
}

/* The section name of an element: its local name, or for OVF 0.9's generic
 * <Section xsi:type="ovf:DiskSection_Type"> / <Content xsi:type=...> the
 * type's local name without "_Type".  Returns a malloc'd string. */
static char *section_name(struct pctx *p, const xmlNode *n)
{
	const char *local = (const char *)n->name;
	if (!strcmp(local, "Section") || !strcmp(local, "Content")) {
		char *t = attr_ns(p, n, "type", XSI_NS);
		if (t) {
			char *colon = strchr(t, ':');
			char *base = colon ? colon + 1 : t;
			size_t bl = strlen(base);
			if (bl > 5 && !strcmp(base + bl - 5, "_Type"))
				base[bl - 5] = 0;
			char *r = xdup(p, (const xmlChar *)base);
			free(t);
			return r;
		}
	}
	return xdup(p, (const xmlChar *)local);
}

static const char *const known_sections[] = {
	"DiskSection", "NetworkSection", "DeploymentOptionSection", "AnnotationSection",
	"ProductSection", "EulaSection", "VirtualHardwareSection", "OperatingSystemSection",
	"InstallSection", "StartupSection", "ResourceAllocationSection",
};

static bool section_known(const char *name)
{
	for (size_t i = 0; i < sizeof known_sections / sizeof known_sections[0]; i++)
		if (!strcmp(known_sections[i], name))
			return true;
	return false;
}

static bool has_child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n->children; c; c = c->next)
		if (named(c, name))
			return true;
	return false;
}

/* Record a section occurrence; returns its name (owned by the record). */
static const char *note_section(struct pctx *p, const xmlNode *n, const char *where)
{
	struct ovf_section *s = GROW(p, p->env->sections, p->env->nsections);
	if (!s)
		return NULL;
	s->name = section_name(p, n);
	if (!s->name)
		return NULL;
	s->ns = n->ns ? xdup(p, n->ns->href) : NULL;
	/* A section from another namespace (vmw:StorageSection) with the same
	 * local name as one of ours is not ours. */
	s->known = section_known(s->name) && (!n->ns || ns_is_ovf(n->ns));
	s->required = attr_bool(p, n, "required", true);
	s->has_info = has_child(n, "Info");
	s->where = where;
	s->line = lineof(p, n);
	return s->name;
}

static bool is_section_el(const xmlNode *n)
{
	if (!is_el(n))
		return false;
	size_t l = strlen((const char *)n->name);
	return (l > 7 && !strcmp((const char *)n->name + l - 7, "Section")) ||
	       !strcmp((const char *)n->name, "Section");
}

/* ---- References, DiskSection, NetworkSection, DeploymentOptionSection ---- */

static void parse_references(struct pctx *p, const xmlNode *n)
{
	p->env->has_references = true;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (!named(c, "File"))
			continue;
		struct ovf_file *f = GROW(p, p->env->files, p->env->nfiles);
		if (!f)
			return;
		f->id = attr(p, c, "id");
		f->href = attr(p, c, "href");
		f->compression = attr(p, c, "compression");
		f->line = lineof(p, c);
		char *v = attr(p, c, "size");
		if (v) {
			/* A size we cannot read is kept as "absent"; validate looks
			 * at the raw attribute again to say why. */
			uint64_t sz;
			int64_t neg;
			if (ovf_parse_u64(v, &sz) == 0) {
				f->size = sz;
				f->has_size = true;
			} else if (ovf_parse_i64(v, &neg) == 0) {
				/* ovftool ignores a negative size (the conformance
				 * suite deploys one); so do we, with a warning. */
				if (ovf_diags_add(&p->env->parse_diags, OVF_DIAG_WARNING, "file-size-negative", f->line,
						  "File '%s' ovf:size %s is negative; ignored", f->id ? f->id : "?", v) < 0)
					p->oom = true;
			} else if (ovf_diags_add(&p->env->parse_diags, OVF_DIAG_ERROR, "file-size-invalid", f->line,
						 "File '%s' ovf:size '%s' is not a non-negative integer",
						 f->id ? f->id : "?", v) < 0) {
				p->oom = true;
			}
			free(v);
		}
		v = attr(p, c, "chunkSize");
		if (v) {
			int64_t cs;
			f->has_chunk_size = true;
			f->chunk_size = ovf_parse_i64(v, &cs) == 0 ? cs : -1;
			free(v);
		}
	}
}

static void parse_disks(struct pctx *p, const xmlNode *n)
{
	p->env->has_disk_section = true;
	p->env->disk_section_line = lineof(p, n);
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (!named(c, "Disk"))
			continue;
		struct ovf_disk *d = GROW(p, p->env->disks, p->env->ndisks);
		if (!d)
			return;
		d->disk_id = attr(p, c, "diskId");
		d->file_ref = attr(p, c, "fileRef");
		d->parent_ref = attr(p, c, "parentRef");
		d->format = attr(p, c, "format");
		d->capacity = attr(p, c, "capacity");
		d->capacity_units = attr(p, c, "capacityAllocationUnits");
		d->populated_size = attr(p, c, "populatedSize");
		d->line = lineof(p, c);
	}
}

static void parse_networks(struct pctx *p, const xmlNode *n)
{
	p->env->has_network_section = true;
	p->env->network_section_line = lineof(p, n);
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (!named(c, "Network"))
			continue;
		struct ovf_network *w = GROW(p, p->env->networks, p->env->nnetworks);
		if (!w)
			return;
		w->name = attr(p, c, "name");
		w->line = lineof(p, c);
		for (const xmlNode *d = c->children; d; d = d->next)
			if (named(d, "Description"))
				set_text(p, &w->description, d, false);
	}
}

static void parse_configs(struct pctx *p, const xmlNode *n)
{
	p->env->has_deployment_options = true;
	p->env->deployment_section_line = lineof(p, n);
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (!named(c, "Configuration"))
			continue;
		struct ovf_config *g = GROW(p, p->env->configs, p->env->nconfigs);
		if (!g)
			return;
		g->id = attr(p, c, "id");
		g->is_default = attr_bool(p, c, "default", false);
		g->line = lineof(p, c);
		for (const xmlNode *d = c->children; d; d = d->next) {
			if (named(d, "Label"))
				set_text(p, &g->label, d, false);
			else if (named(d, "Description"))
				set_text(p, &g->description, d, false);
		}
	}
}

/* ---- VirtualHardwareSection ------------------------------------------------- */

static void add_str(struct pctx *p, char ***arr, size_t *n, char *s)
{
	if (!s)
		return;
	char **slot = grow(p, (void **)arr, n, sizeof **arr);
	if (!slot) {
		free(s);
		return;
	}
	*slot = s;
}

/* Fields of CIM_ResourceAllocationSettingData, StorageAllocationSettingData
 * and EthernetPortAllocationSettingData that may appear in an Item: we do
 * not use most of them, but they are understood (not "unknown"). */
static const char *const rasd_fields[] = {
	"Access", "Address", "AddressOnParent", "AllocationUnits", "AllowedPriorities", "BusNumber",
	"AllowedToReceiveMACAddresses", "AllowedToTransmitMACAddresses", "AutomaticAllocation",
	"AutomaticDeallocation", "Caption", "ChangeableType", "ComponentSetting", "ConfigurationName",
	"Connection", "ConsumerVisibility", "DefaultPortVID", "DefaultPriority", "Description",
	"DesiredVLANEndpointMode", "ElementName", "Generation", "GroupID", "HostExtentName",
	"HostExtentNameFormat", "HostExtentNameNamespace", "HostExtentStartingAddress", "HostResource",
	"HostResourceBlockSize", "InstanceID", "Limit", "ManagerID", "MappingBehavior", "NetworkPortProfileID",
	"NetworkPortProfileIDType", "OtherEndpointMode", "OtherHostExtentNameFormat",
	"OtherHostExtentNameNamespace", "OtherNetworkPortProfileIDTypeInfo", "OtherResourceType", "Parent",
	"PoolID", "PortCorrelationID", "PortVID", "Promiscuous", "ReceiveBandwidthLimit",
	"ReceiveBandwidthReservation", "Reservation", "ResourceSubType", "ResourceType",
	"SoID", "SoOrgID", "SourceMACFilteringEnabled", "StorageQoSPolicyID", "VirtualQuantity",
	"VirtualQuantityUnits", "VirtualResourceBlockSize", "VSITypeID", "VSITypeIDVersion", "Weight",
};

static bool known_rasd(const char *name)
{
	for (size_t i = 0; i < sizeof rasd_fields / sizeof rasd_fields[0]; i++)
		if (!strcasecmp(rasd_fields[i], name))
			return true;
	return false;
}

static void parse_item(struct pctx *p, struct ovf_hw_section *hw, const xmlNode *n, enum ovf_item_kind kind)
{
	struct ovf_item *it = GROW(p, hw->items, hw->nitems);
	if (!it)
		return;
	it->kind = kind;
	it->line = lineof(p, n);
	it->configuration = attr(p, n, "configuration");
	it->bound = attr(p, n, "bound");
	it->required = attr_bool(p, n, "required", true);
	it->resource_type_num = -1;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (!is_el(c))
			continue;
		const char *k = (const char *)c->name;
		if (!strcasecmp(k, "InstanceID"))
			set_text(p, &it->instance_id, c, false);
		else if (!strcasecmp(k, "ResourceType"))
			set_text(p, &it->resource_type, c, false);
		else if (!strcasecmp(k, "ResourceSubType"))
			set_text(p, &it->resource_sub_type, c, false);
		else if (!strcasecmp(k, "ElementName"))
			set_text(p, &it->element_name, c, false);
		else if (!strcasecmp(k, "Description"))
			set_text(p, &it->description, c, false);
		else if (!strcasecmp(k, "Caption"))
			set_text(p, &it->caption, c, false);
		else if (!strcasecmp(k, "Address"))
			set_text(p, &it->address, c, false);
		else if (!strcasecmp(k, "AddressOnParent"))
			set_text(p, &it->address_on_parent, c, false);
		else if (!strcasecmp(k, "Parent"))
			set_text(p, &it->parent, c, false);
		else if (!strcasecmp(k, "AllocationUnits"))
			set_text(p, &it->allocation_units, c, false);
		else if (!strcasecmp(k, "VirtualQuantity"))
			set_text(p, &it->virtual_quantity, c, false);
		else if (!strcasecmp(k, "VirtualQuantityUnits"))
			set_text(p, &it->virtual_quantity_units, c, false);
		else if (!strcasecmp(k, "Reservation"))
			set_text(p, &it->reservation, c, false);
		else if (!strcasecmp(k, "Limit"))
			set_text(p, &it->limit, c, false);
		else if (!strcasecmp(k, "Weight"))
			set_text(p, &it->weight, c, false);
		else if (!strcasecmp(k, "AutomaticAllocation"))
			set_text(p, &it->automatic_allocation, c, false);
		else if (!strcasecmp(k, "HostResource"))
			add_str(p, &it->host_resources, &it->nhost_resources, text_of(p, c, false));
		else if (!strcasecmp(k, "Connection"))
			add_str(p, &it->connections, &it->nconnections, text_of(p, c, false));
		else if (!known_rasd(k) && !it->unknown_required && attr_bool(p, c, "required", true)) {
			it->unknown_required = c->ns && c->ns->prefix
				? od_asprintf("%s:%s", (const char *)c->ns->prefix, k)
				: od_asprintf("%s", k);
			if (!it->unknown_required)
				p->oom = true;
			it->unknown_required_line = lineof(p, c);
		}
	}
	/* OVF 0.9 has no ElementName; its Caption names the device */
	if (!it->element_name && it->caption) {
		it->element_name = strdup(it->caption);
		if (!it->element_name)
			p->oom = true;
	}
	if (it->resource_type) {
		int64_t v;
		if (ovf_parse_i64(it->resource_type, &v) == 0 && v >= 0 && v <= 0xffff)
			it->resource_type_num = (int)v;
	}
}

static void parse_hw(struct pctx *p, struct ovf_virtual_system *vs, const xmlNode *n)
{
	struct ovf_hw_section *hw = GROW(p, vs->hw, vs->nhw);
	if (!hw)
		return;
	hw->line = lineof(p, n);
	hw->id = attr(p, n, "id");
	hw->transport = attr(p, n, "transport");
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (named(c, "System")) {
			hw->has_system = true;
			for (const xmlNode *d = c->children; d; d = d->next) {
				if (!is_el(d))
					continue;
				if (!strcasecmp((const char *)d->name, "VirtualSystemType"))
					set_text(p, &hw->system_type, d, false);
				else if (!strcasecmp((const char *)d->name, "ElementName"))
					set_text(p, &hw->system_name, d, false);
			}
		} else if (named(c, "Item")) {
			parse_item(p, hw, c, OVF_ITEM);
		} else if (named(c, "StorageItem")) {
			parse_item(p, hw, c, OVF_ITEM_STORAGE);
		} else if (named(c, "EthernetPortItem")) {
			parse_item(p, hw, c, OVF_ITEM_ETHERNET);
		} else if ((named(c, "Config") || named(c, "ExtraConfig")) && c->ns && c->ns->href &&
			   !strcmp((const char *)c->ns->href, VMW_NS) && !hw->firmware) {
			/* vmw:key/vmw:value; some tools leave the attributes unprefixed */
			char *k = attr_ns(p, c, "key", VMW_NS);
			if (!k)
				k = attr(p, c, "key");
			if (k && !strcmp(k, "firmware")) {
				hw->firmware = attr_ns(p, c, "value", VMW_NS);
				if (!hw->firmware)
					hw->firmware = attr(p, c, "value");
				hw->firmware_line = lineof(p, c);
			}
			free(k);
		}
	}
}

/* vbox:Machine (VirtualBox's own machine description, kept beside the OVF
 * sections): only the firmware is read from it. */
static void parse_vbox_machine(struct pctx *p, struct ovf_virtual_system *vs, const xmlNode *n)
{
	for (const xmlNode *h = n->children; h; h = h->next) {
		if (!named(h, "Hardware"))
			continue;
		for (const xmlNode *f = h->children; f; f = f->next) {
			if (!named(f, "Firmware") || vs->vbox_firmware)
				continue;
			vs->vbox_firmware = attr(p, f, "type");
			if (!vs->vbox_firmware)
				vs->vbox_firmware = xdup(p, (const xmlChar *)"BIOS");
			vs->vbox_firmware_line = lineof(p, f);
		}
	}
}

/* ---- ProductSection ------------------------------------------------------------ */

static void parse_property(struct pctx *p, struct ovf_product *pr, const xmlNode *n, const char *category)
{
	struct ovf_property *q = GROW(p, pr->props, pr->nprops);
	if (!q)
		return;
	q->line = lineof(p, n);
	q->key = attr(p, n, "key");
	q->type = attr(p, n, "type");
	q->qualifiers = attr(p, n, "qualifiers");
	q->value = attr(p, n, "value");
	if (!q->value) /* OVF 0.9 spells the default ovf:defaultValue */
		q->value = attr(p, n, "defaultValue");
	q->user_configurable = attr_bool(p, n, "userConfigurable", false);
	q->password = attr_bool(p, n, "password", false);
	q->configuration = attr(p, n, "configuration");
	q->category = category ? xdup(p, (const xmlChar *)category) : NULL;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (named(c, "Label"))
			set_text(p, &q->label, c, false);
		else if (named(c, "Description"))
			set_text(p, &q->description, c, false);
		else if (named(c, "Value")) {
			struct ovf_prop_value *v = GROW(p, q->values, q->nvalues);
			if (!v)
				return;
			v->value = attr(p, c, "value");
			v->configuration = attr(p, c, "configuration");
			v->line = lineof(p, c);
		}
	}
}

static void parse_product(struct pctx *p, struct ovf_virtual_system *vs, const xmlNode *n)
{
	struct ovf_product *pr = GROW(p, vs->products, vs->nproducts);
	if (!pr)
		return;
	pr->line = lineof(p, n);
	pr->class_ = attr(p, n, "class");
	pr->instance = attr(p, n, "instance");
	char *category = NULL;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (!is_el(c))
			continue;
		const char *k = (const char *)c->name;
		if (!strcmp(k, "Product"))
			set_text(p, &pr->product, c, false);
		else if (!strcmp(k, "Vendor"))
			set_text(p, &pr->vendor, c, false);
		else if (!strcmp(k, "Version"))
			set_text(p, &pr->version, c, false);
		else if (!strcmp(k, "FullVersion"))
			set_text(p, &pr->full_version, c, false);
		else if (!strcmp(k, "ProductUrl"))
			set_text(p, &pr->product_url, c, false);
		else if (!strcmp(k, "VendorUrl"))
			set_text(p, &pr->vendor_url, c, false);
		else if (!strcmp(k, "AppUrl"))
			set_text(p, &pr->app_url, c, false);
		else if (!strcmp(k, "Category")) {
			free(category);
			category = text_of(p, c, false);
		} else if (!strcmp(k, "Property"))
			parse_property(p, pr, c, category);
	}
	free(category);
}

/* ---- VirtualSystem / VirtualSystemCollection ---------------------------------- */

static void parse_content(struct pctx *p, struct ovf_virtual_system *vs, const xmlNode *n, bool collection,
			  int depth);

static bool content_kind(struct pctx *p, const xmlNode *n, bool *collection)
{
	if (!is_el(n))
		return false;
	if (named(n, "VirtualSystem")) {
		*collection = false;
		return true;
	}
	if (named(n, "VirtualSystemCollection")) {
		*collection = true;
		return true;
	}
	if (named(n, "Content")) { /* OVF 0.9 */
		char *t = section_name(p, n);
		bool ok = t && (!strcmp(t, "VirtualSystem") || !strcmp(t, "VirtualSystemCollection"));
		*collection = t && !strcmp(t, "VirtualSystemCollection");
		free(t);
		return ok;
	}
	return false;
}

static void parse_section_in_vs(struct pctx *p, struct ovf_virtual_system *vs, const xmlNode *c,
				const char *where)
{
	const char *name = note_section(p, c, where);
	if (!name || (c->ns && !ns_is_ovf(c->ns)))
		return;
	if (!strcmp(name, "VirtualHardwareSection")) {
		parse_hw(p, vs, c);
	} else if (!strcmp(name, "ProductSection")) {
		parse_product(p, vs, c);
	} else if (!strcmp(name, "EulaSection")) {
		struct ovf_eula *u = GROW(p, vs->eulas, vs->neulas);
		if (!u)
			return;
		u->line = lineof(p, c);
		for (const xmlNode *d = c->children; d; d = d->next)
			if (named(d, "License"))
				set_text(p, &u->license, d, true);
	} else if (!strcmp(name, "OperatingSystemSection")) {
		vs->has_os = true;
		free(vs->os_id);
		vs->os_id = attr(p, c, "id");
		vs->os_version = attr(p, c, "version");
		for (const xmlAttr *a = c->properties; a; a = a->next)
			if (!strcmp((const char *)a->name, "osType") && !vs->os_type) {
				xmlChar *v = xmlNodeListGetString(p->doc, a->children, 1);
				vs->os_type = xdup(p, v);
				xmlFree(v);
			}
		for (const xmlNode *d = c->children; d; d = d->next)
			if (named(d, "Description"))
				set_text(p, &vs->os_description, d, false);
	} else if (!strcmp(name, "AnnotationSection")) {
		for (const xmlNode *d = c->children; d; d = d->next)
			if (named(d, "Annotation"))
				set_text(p, &vs->annotation, d, true);
	} else if (!strcmp(name, "InstallSection")) {
		vs->has_install = true;
		char *v = attr(p, c, "initialBootStopDelay");
		if (v && ovf_parse_i64(v, &vs->install_delay) != 0)
			vs->install_delay = 0;
		free(v);
	} else if (!strcmp(name, "StartupSection")) {
		for (const xmlNode *d = c->children; d; d = d->next) {
			if (!named(d, "Item"))
				continue;
			struct ovf_startup_item *s = GROW(p, vs->startup, vs->nstartup);
			if (!s)
				return;
			s->line = lineof(p, d);
			s->id = attr(p, d, "id");
			s->start_action = attr(p, d, "startAction");
			s->stop_action = attr(p, d, "stopAction");
			char *v = attr(p, d, "order");
			if (!v || ovf_parse_i64(v, &s->order) != 0)
				s->order = 0;
			free(v);
			v = attr(p, d, "startDelay");
			if (!v || ovf_parse_i64(v, &s->start_delay) != 0)
				s->start_delay = 0;
			free(v);
			v = attr(p, d, "stopDelay");
			if (!v || ovf_parse_i64(v, &s->stop_delay) != 0)
				s->stop_delay = 0;
			free(v);
		}
	}
	/* Sections that belong to the envelope (DiskSection, NetworkSection,
	 * DeploymentOptionSection) met here are recorded with where= so that
	 * validate reports them as misplaced. */
}

static void parse_content(struct pctx *p, struct ovf_virtual_system *vs, const xmlNode *n, bool collection,
			  int depth)
{
	vs->is_collection = collection;
	vs->line = lineof(p, n);
	vs->id = attr(p, n, "id");
	const char *where = collection ? "VirtualSystemCollection" : "VirtualSystem";
	if (!collection) {
		struct ovf_virtual_system **slot = GROW(p, p->env->systems, p->env->nsystems);
		if (slot)
			*slot = vs;
	}
	for (const xmlNode *c = n->children; c; c = c->next) {
		bool sub;
		if (!is_el(c))
			continue;
		if (named(c, "Info")) {
			vs->has_info = true;
			set_text(p, &vs->info, c, false);
		} else if (named(c, "Name")) {
			set_text(p, &vs->name, c, false);
		} else if (content_kind(p, c, &sub)) {
			if (!collection) {
				ovf_diags_add(&p->env->parse_diags, OVF_DIAG_ERROR, "content-nested", lineof(p, c),
					      "a VirtualSystem cannot contain another virtual system; "
					      "use a VirtualSystemCollection");
				continue;
			}
			if (depth >= MAX_DEPTH) {
				ovf_diags_add(&p->env->parse_diags, OVF_DIAG_ERROR, "content-too-deep", lineof(p, c),
					      "virtual system collections nested deeper than %d levels", MAX_DEPTH);
				continue;
			}
			/* Children are kept in a separately allocated array whose
			 * elements must not move once `systems` points at them:
			 * count first, then fill. */
			if (!vs->children) {
				size_t cnt = 0;
				bool dummy;
				for (const xmlNode *d = n->children; d; d = d->next)
					if (content_kind(p, d, &dummy))
						cnt++;
				if (cnt > MAX_ELEMENTS) {
					p->too_many = true;
					return;
				}
				vs->children = calloc(cnt, sizeof *vs->children);
				if (!vs->children) {
					p->oom = true;
					return;
				}
			}
			parse_content(p, &vs->children[vs->nchildren++], c, sub, depth + 1);
		} else if (is_section_el(c)) {
			parse_section_in_vs(p, vs, c, where);
		} else if (!collection && named(c, "Machine") && c->ns && c->ns->href &&
			   !strcmp((const char *)c->ns->href, VBOX_NS)) {
			parse_vbox_machine(p, vs, c);
		}
		if (p->oom || p->too_many)
			return;
	}
}

/* ---- the envelope ---------------------------------------------------------------- */

static void parse_envelope(struct pctx *p, const xmlNode *root)
{
	ovf_envelope *env = p->env;
	env->line = lineof(p, root);
	env->ns = root->ns ? xdup(p, root->ns->href) : NULL;
	env->version = root->ns ? ovf_version_from_ns((const char *)root->ns->href) : OVF_V_UNKNOWN;
	xmlChar *lang = xmlNodeGetLang(root);
	env->lang = xdup(p, lang);
	xmlFree(lang);

	/* Count content elements first so that `content` can be allocated
	 * once (systems[] points into it). */
	size_t ncontent = 0;
	bool coll;
	for (const xmlNode *c = root->children; c; c = c->next)
		if (content_kind(p, c, &coll))
			ncontent++;
	env->ncontent = ncontent;

	for (const xmlNode *c = root->children; c && !p->oom && !p->too_many; c = c->next) {
		if (!is_el(c))
			continue;
		if (named(c, "References")) {
			parse_references(p, c);
		} else if (content_kind(p, c, &coll)) {
			/* Only the first content element is modelled; validate
			 * reports the others through ncontent. */
			if (env->content)
				continue;
			env->content = calloc(1, sizeof *env->content);
			if (!env->content) {
				p->oom = true;
				return;
			}
			parse_content(p, env->content, c, coll, 0);
		} else if (named(c, "Strings")) {
			char *l = NULL;
			xmlChar *lv = xmlNodeGetLang(c);
			l = xdup(p, lv);
			xmlFree(lv);
			for (const xmlNode *m = c->children; m; m = m->next) {
				if (!named(m, "Msg"))
					continue;
				struct ovf_msg *g = GROW(p, env->msgs, env->nmsgs);
				if (!g)
					break;
				g->lang = l ? xdup(p, (const xmlChar *)l) : NULL;
				g->msgid = attr(p, m, "msgid");
				g->text = text_of(p, m, false);
			}
			free(l);
		} else if (is_section_el(c)) {
			const char *name = note_section(p, c, "envelope");
			if (!name || (c->ns && !ns_is_ovf(c->ns)))
				continue;
			if (!strcmp(name, "DiskSection"))
				parse_disks(p, c);
			else if (!strcmp(name, "NetworkSection"))
				parse_networks(p, c);
			else if (!strcmp(name, "DeploymentOptionSection"))
				parse_configs(p, c);
		}
	}
}

/* ---- input checks before libxml2 --------------------------------------------------- */

/* First invalid UTF-8 sequence, or -1.  Overlongs, surrogates and code
 * points above U+10FFFF are invalid too (RFC 3629). */
static long utf8_invalid_at(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		uint32_t cp, min;
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2; cp = c & 0x1f; min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3; cp = c & 0x0f; min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4; cp = c & 0x07; min = 0x10000;
		} else {
			return (long)i;
		}
		if (i + len > n)
			return (long)i;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return (long)i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return (long)i;
		i += len;
	}
	return -1;
}

static int line_at(const char *buf, size_t off)
{
	int line = 1;
	for (size_t i = 0; i < off; i++)
		if (buf[i] == '\n')
			line++;
	return line;
}

/* The encoding named in the XML declaration, lower-cased, or "" when none. */
static void declared_encoding(const char *buf, size_t len, char *out, size_t outsz)
{
	out[0] = 0;
	if (len < 6 || memcmp(buf, "<?xml", 5) != 0)
		return;
	const char *end = memchr(buf, '>', len < 512 ? len : 512);
	if (!end)
		return;
	const char *p = buf;
	while (p < end && (p = memchr(p, 'e', (size_t)(end - p))) != NULL) {
		if ((size_t)(end - p) > 8 && !memcmp(p, "encoding", 8)) {
			p += 8;
			while (p < end && (*p == ' ' || *p == '=' || *p == '\t'))
				p++;
			if (p < end && (*p == '"' || *p == '\'')) {
				char q = *p++;
				size_t i = 0;
				while (p < end && *p != q && i + 1 < outsz)
					out[i++] = (char)tolower((unsigned char)*p++);
				out[i] = 0;
			}
			return;
		}
		p++;
	}
}

static bool enc_is_utf8(const char *enc)
{
	return !enc[0] || !strcmp(enc, "utf-8") || !strcmp(enc, "utf8");
}

static bool enc_is_ascii(const char *enc)
{
	return !strcmp(enc, "us-ascii") || !strcmp(enc, "ascii");
}

static int check_bytes(const char *buf, size_t len, const char *name, od_err *e)
{
	const unsigned char *u = (const unsigned char *)buf;
	/* UTF-16/32 byte order marks or a NUL in the first bytes: this is not
	 * the UTF-8 text OVF tools write.  libxml2 would cope with UTF-16, but
	 * nothing downstream (inspect, the environment) expects it and ovftool
	 * writes UTF-8; say so plainly instead of guessing. */
	if (len >= 2 && ((u[0] == 0xfe && u[1] == 0xff) || (u[0] == 0xff && u[1] == 0xfe)))
		return od_err_set(e, OD_E_INVALID, "%s: the descriptor is UTF-16; OVF descriptors must be UTF-8", name);
	/* An OVA is a tar archive: say so rather than "NUL byte". */
	if (len > 262 && !memcmp(buf + 257, "ustar", 5))
		return od_err_set(e, OD_E_INVALID,
				  "%s: this is a tar archive (an OVA package?), not an OVF descriptor", name);
	if (memchr(buf, 0, len))
		return od_err_set(e, OD_E_INVALID, "%s:%d: NUL byte in the descriptor (binary data, or UTF-16/32 text)",
				  name, line_at(buf, (size_t)((const char *)memchr(buf, 0, len) - buf)));
	size_t skip = (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) ? 3 : 0;
	char enc[64];
	declared_encoding(buf + skip, len - skip, enc, sizeof enc);
	long bad = utf8_invalid_at(u + skip, len - skip);
	bool has_high = false;
	for (size_t i = skip; i < len && !has_high; i++)
		has_high = u[i] >= 0x80;
	if (enc_is_utf8(enc)) {
		if (bad >= 0)
			return od_err_set(e, OD_E_INVALID,
					  "%s:%d: invalid UTF-8 (byte 0x%02x at offset %ld); the descriptor %s UTF-8",
					  name, line_at(buf, (size_t)bad + skip), u[(size_t)bad + skip], (long)bad + (long)skip,
					  enc[0] ? "declares" : "must be");
		return 0;
	}
	if (enc_is_ascii(enc)) {
		if (has_high)
			return od_err_set(e, OD_E_INVALID,
					  "%s: the descriptor declares encoding=\"%s\" but contains non-ASCII bytes; "
					  "declare UTF-8", name, enc);
		return 0;
	}
	if (!strncmp(enc, "utf-16", 6) || !strncmp(enc, "utf-32", 6) || !strcmp(enc, "ucs-2") ||
	    !strcmp(enc, "ucs-4"))
		return od_err_set(e, OD_E_INVALID,
				  "%s: the descriptor declares encoding=\"%s\" but its bytes are not %s (no byte order "
				  "mark, no NULs); declare UTF-8", name, enc, enc);
	if (skip)
		return od_err_set(e, OD_E_INVALID,
				  "%s: the descriptor starts with a UTF-8 byte order mark but declares encoding=\"%s\"",
				  name, enc);
	/* A single-byte encoding (ISO-8859-1, windows-1252...): any byte
	 * sequence is "valid", so the only way to see a mismatch is content
	 * that is really UTF-8.  Multi-byte UTF-8 sequences decoded as Latin-1
	 * give mojibake (Ã©), never what the author meant. */
	if (has_high && bad < 0)
		return od_err_set(e, OD_E_INVALID,
				  "%s: the descriptor declares encoding=\"%s\" but its bytes are UTF-8; declare "
				  "encoding=\"UTF-8\"", name, enc);
	return 0;
}

/* ---- libxml2 glue -------------------------------------------------------------------- */

struct xml_errs {
	char msg[512];
	int line;
	bool have;
	bool entity;
	/* Namespace errors (an undefined prefix, a namespace name that is not a
	 * URI) leave the document well-formed; deploy tools read such files,
	 * so they become warnings, not a refusal. */
	char ns_msg[4][256];
	int ns_line[4];
	int nns;
};

static void structured_error(void *ctx, xmlErrorPtr err)
{
	struct xml_errs *x = ctx;
	if (!err || err->level < XML_ERR_ERROR || x->have)
		return;
	if (err->domain == XML_FROM_NAMESPACE && err->level == XML_ERR_ERROR) {
		if (x->nns < 4) {
			snprintf(x->ns_msg[x->nns], sizeof x->ns_msg[0], "%s", err->message ? err->message : "");
			size_t n = strlen(x->ns_msg[x->nns]);
			while (n && x->ns_msg[x->nns][n - 1] == '\n')
				x->ns_msg[x->nns][--n] = 0;
			x->ns_line[x->nns++] = err->line;
		}
		return;
	}
	x->have = true;
	x->line = err->line;
	snprintf(x->msg, sizeof x->msg, "%s", err->message ? err->message : "XML error");
	size_t n = strlen(x->msg);
	while (n && (x->msg[n - 1] == '\n' || x->msg[n - 1] == ' '))
		x->msg[--n] = 0;
}

static void silent_generic(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

/* SAX hook: the first entity declaration stops the parse.  Refusing the
 * declaration (rather than only not substituting) closes XXE, parameter
 * entity tricks and expansion bombs in one place. */
static void refuse_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *publicId,
			       const xmlChar *systemId, xmlChar *content)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct xml_errs *x = ctxt->_private;
	if (x && !x->entity) {
		x->entity = true;
		x->line = ctxt->input ? ctxt->input->line : 0;
		snprintf(x->msg, sizeof x->msg,
			 "the DOCTYPE declares entity '%s'%s; entity declarations are refused (XXE and entity "
			 "expansion attacks) and OVF descriptors never need them",
			 name ? (const char *)name : "?", systemId ? " with an external reference" : "");
	}
	xmlStopParser(ctxt);
}

static void envelope_free_vs(struct ovf_virtual_system *vs);

/* The shape of the document, bounded before libxml2 builds anything.  The
 * 16 MiB size cap is not enough on its own: 16 MiB of "<a/>" is four million
 * nodes, over 500 MiB as a tree, and libxml2 2.9 checks an element's
 * attributes for duplicates pairwise, so 200000 attributes on one element
 * take minutes (both found by tests/hardening/limits.sh).  Real descriptors
 * have hundreds of elements and a dozen attributes on the busiest one.  The
 * scan is a cheap over-approximation: every '=' outside quotes in a start tag
 * counts as an attribute; comments, CDATA and processing instructions are
 * skipped; anything malformed is left for the parser to report. */
#define XML_ELEMENTS_MAX 100000
#define XML_ATTRS_MAX 1000

static long count_lines(const char *buf, size_t from, size_t to, long line)
{
	for (size_t i = from; i < to; i++)
		if (buf[i] == '\n')
			line++;
	return line;
}

static int check_shape(const char *buf, size_t len, const char *name, od_err *e)
{
	static const struct {
		const char *open, *close;
	} skip[] = {{"!--", "-->"}, {"![CDATA[", "]]>"}, {"?", "?>"}};
	size_t elements = 0, i = 0, done = 0;
	long line = 1;
	while (i < len) {
		const char *lt = memchr(buf + i, '<', len - i);
		if (!lt)
			break;
		i = (size_t)(lt - buf) + 1;
		size_t rest = len - i;
		bool skipped = false;
		for (size_t k = 0; k < sizeof skip / sizeof skip[0]; k++) {
			size_t ol = strlen(skip[k].open);
			if (rest < ol || memcmp(buf + i, skip[k].open, ol) != 0)
				continue;
			const char *end = memmem(buf + i + ol, rest - ol, skip[k].close, strlen(skip[k].close));
			if (!end)
				return 0; /* unterminated: the parser says so */
			i = (size_t)(end - buf) + strlen(skip[k].close);
			skipped = true;
			break;
		}
		if (skipped || rest == 0 || buf[i] == '!' || buf[i] == '/')
			continue;
		if (++elements > XML_ELEMENTS_MAX) {
			line = count_lines(buf, done, i, line);
			return od_err_set(e, OD_E_INVALID, "%s:%ld: more than %d elements; refused (descriptors have hundreds)",
					  name, line, XML_ELEMENTS_MAX);
		}
		size_t attrs = 0, start = i;
		char quote = 0;
		for (; i < len; i++) {
			char c = buf[i];
			if (quote) {
				if (c == quote)
					quote = 0;
			} else if (c == '"' || c == '\'') {
				quote = c;
			} else if (c == '=') {
				if (++attrs > XML_ATTRS_MAX) {
					line = count_lines(buf, done, start, line);
					return od_err_set(e, OD_E_INVALID, "%s:%ld: an element with more than %d attributes; refused",
							  name, line, XML_ATTRS_MAX);
				}
			} else if (c == '>') {
				break;
			}
		}
	}
	return 0;
}

xmlDoc *ovf_xml_read(const char *buf, size_t len, const char *name, struct ovf_diags *ns_warnings, od_err *e)
{
	if (!name)
		name = "descriptor";
	if (len > OVF_DESCRIPTOR_MAX) {
		od_err_set(e, OD_E_INVALID, "%s: descriptor is %zu bytes, more than the %u-byte limit", name, len,
			   (unsigned)OVF_DESCRIPTOR_MAX);
		return NULL;
	}
	if (len == 0) {
		od_err_set(e, OD_E_INVALID, "%s: the descriptor is empty", name);
		return NULL;
	}
	if (check_bytes(buf, len, name, e) < 0 || check_shape(buf, len, name, e) < 0)
		return NULL;

	xmlInitParser();
	struct xml_errs x = {0};
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		od_err_nomem(e);
		return NULL;
	}
	ctxt->_private = &x;
	ctxt->sax->entityDecl = refuse_entity_decl;
	/* libxml2 2.9's error hooks are per thread globals: install ours for
	 * the parse, restore the previous ones after. */
	xmlStructuredErrorFunc old_serr = xmlStructuredError;
	void *old_sctx = xmlStructuredErrorContext;
	xmlGenericErrorFunc old_gerr = xmlGenericError;
	void *old_gctx = xmlGenericErrorContext;
	xmlSetStructuredErrorFunc(&x, structured_error);
	xmlSetGenericErrorFunc(NULL, silent_generic);

	/* No XML_PARSE_NOENT (substitution), DTDLOAD, DTDATTR or HUGE: the
	 * defaults keep libxml2's own size and depth limits. */
	int opts = XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR | XML_PARSE_BIG_LINES |
		   XML_PARSE_NOCDATA;
	xmlDoc *doc = xmlCtxtReadMemory(ctxt, buf, (int)len, name, NULL, opts);
	bool wellformed = ctxt->wellFormed;

	xmlSetStructuredErrorFunc(old_sctx, old_serr);
	xmlSetGenericErrorFunc(old_gctx, old_gerr);
	xmlFreeParserCtxt(ctxt);

	if (x.entity) {
		xmlFreeDoc(doc);
		od_err_set(e, OD_E_INVALID, "%s:%d: %s", name, x.line, x.msg);
		return NULL;
	}
	if (!doc || !wellformed || x.have) {
		xmlFreeDoc(doc);
		od_err_set(e, OD_E_INVALID, "%s:%d: not well-formed XML: %s", name, x.line,
			   x.msg[0] ? x.msg : "parse failed");
		return NULL;
	}
	if (doc->intSubset && doc->intSubset->entities) {
		/* Belt and braces: the SAX hook should have caught this. */
		xmlFreeDoc(doc);
		od_err_set(e, OD_E_INVALID, "%s: the DOCTYPE declares entities; refused", name);
		return NULL;
	}
	for (int i = 0; ns_warnings && i < x.nns; i++)
		if (ovf_diags_add(ns_warnings, OVF_DIAG_WARNING, "xml-namespace", x.ns_line[i],
				  "XML namespace error: %s", x.ns_msg[i]) < 0) {
			xmlFreeDoc(doc);
			od_err_nomem(e);
			return NULL;
		}
	return doc;
}

ovf_envelope *ovf_envelope_parse(const char *buf, size_t len, const char *name, od_err *e)
{
	if (!name)
		name = "descriptor";
	struct ovf_diags nsw = {0};
	xmlDoc *doc = ovf_xml_read(buf, len, name, &nsw, e);
	if (!doc) {
		ovf_diags_free(&nsw);
		return NULL;
	}
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!root || strcmp((const char *)root->name, "Envelope") != 0) {
		od_err_set(e, OD_E_INVALID, "%s:%d: the root element is <%s>, not an OVF <Envelope>", name,
			   root ? xml_line(root) : 0, root ? (const char *)root->name : "(none)");
		xmlFreeDoc(doc);
		ovf_diags_free(&nsw);
		return NULL;
	}

	ovf_envelope *env = calloc(1, sizeof *env);
	if (!env) {
		xmlFreeDoc(doc);
		ovf_diags_free(&nsw);
		od_err_nomem(e);
		return NULL;
	}
	env->parse_diags = nsw;
	struct pctx p = {.env = env, .doc = doc, .buf = buf, .len = len};
	/* line_start[i] = offset of the first byte of line i+1 */
	size_t nl = 1;
	for (size_t i = 0; i < len; i++)
		nl += buf[i] == '\n';
	/* A descriptor of a million lines is no real one; keep libxml2's
	 * numbers rather than an index eight times its size. */
	p.line_start = nl <= (1u << 20) ? malloc(nl * sizeof *p.line_start) : NULL;
	if (p.line_start) {
		p.line_start[0] = 0;
		p.nlines = 1;
		for (size_t i = 0; i < len; i++)
			if (buf[i] == '\n')
				p.line_start[p.nlines++] = i + 1;
	} else {
		p.buf = NULL; /* fall back to libxml2's numbers */
	}
	env->name = strdup(name);
	if (!env->name)
		p.oom = true;
	else
		parse_envelope(&p, root);
	xmlFreeDoc(doc);
	free(p.line_start);
	if (p.oom) {
		ovf_envelope_free(env);
		od_err_nomem(e);
		return NULL;
	}
	if (p.too_many) {
		ovf_envelope_free(env);
		od_err_set(e, OD_E_INVALID, "%s: more than %d elements of one kind; refused", name, MAX_ELEMENTS);
		return NULL;
	}
	return env;
}

ovf_envelope *ovf_envelope_parse_file(const char *path, od_err *e)
{
	char *data = NULL;
	size_t len = 0;
	/* Say "too big" from the size alone when we can; od_read_file's own
	 * limit still holds for pipes and files that grow. */
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > OVF_DESCRIPTOR_MAX)
		return od_err_set(e, OD_E_INVALID, "%s: descriptor is %lld bytes, more than the %u-byte limit", path,
				  (long long)st.st_size, (unsigned)OVF_DESCRIPTOR_MAX),
		       NULL;
	if (od_read_file(path, OVF_DESCRIPTOR_MAX, &data, &len, e) < 0)
		return NULL;
	ovf_envelope *env = ovf_envelope_parse(data, len, path, e);
	free(data);
	return env;
}

/* ---- freeing ---------------------------------------------------------------------------- */

static void free_item(struct ovf_item *it)
{
	free(it->instance_id);
	free(it->resource_type);
	free(it->resource_sub_type);
	free(it->element_name);
	free(it->description);
	free(it->caption);
	free(it->address);
	free(it->address_on_parent);
	free(it->parent);
	free(it->allocation_units);
	free(it->virtual_quantity);
	free(it->virtual_quantity_units);
	free(it->reservation);
	free(it->limit);
	free(it->weight);
	free(it->automatic_allocation);
	for (size_t i = 0; i < it->nhost_resources; i++)
		free(it->host_resources[i]);
	free(it->host_resources);
	for (size_t i = 0; i < it->nconnections; i++)
		free(it->connections[i]);
	free(it->connections);
	free(it->configuration);
	free(it->bound);
	free(it->unknown_required);
}

static void envelope_free_vs(struct ovf_virtual_system *vs)
{
	free(vs->id);
	free(vs->name);
	free(vs->info);
	free(vs->os_id);
	free(vs->os_version);
	free(vs->os_description);
	free(vs->os_type);
	free(vs->vbox_firmware);
	for (size_t i = 0; i < vs->nhw; i++) {
		struct ovf_hw_section *h = &vs->hw[i];
		free(h->firmware);
		free(h->id);
		free(h->transport);
		free(h->system_type);
		free(h->system_name);
		for (size_t j = 0; j < h->nitems; j++)
			free_item(&h->items[j]);
		free(h->items);
	}
	free(vs->hw);
	for (size_t i = 0; i < vs->nproducts; i++) {
		struct ovf_product *pr = &vs->products[i];
		free(pr->class_);
		free(pr->instance);
		free(pr->product);
		free(pr->vendor);
		free(pr->version);
		free(pr->full_version);
		free(pr->product_url);
		free(pr->vendor_url);
		free(pr->app_url);
		for (size_t j = 0; j < pr->nprops; j++) {
			struct ovf_property *q = &pr->props[j];
			free(q->key);
			free(q->type);
			free(q->qualifiers);
			free(q->value);
			free(q->label);
			free(q->description);
			free(q->category);
			free(q->configuration);
			for (size_t k = 0; k < q->nvalues; k++) {
				free(q->values[k].value);
				free(q->values[k].configuration);
			}
			free(q->values);
		}
		free(pr->props);
	}
	free(vs->products);
	for (size_t i = 0; i < vs->neulas; i++)
		free(vs->eulas[i].license);
	free(vs->eulas);
	free(vs->annotation);
	for (size_t i = 0; i < vs->nstartup; i++) {
		free(vs->startup[i].id);
		free(vs->startup[i].start_action);
		free(vs->startup[i].stop_action);
	}
	free(vs->startup);
	for (size_t i = 0; i < vs->nchildren; i++)
		envelope_free_vs(&vs->children[i]);
	free(vs->children);
}

void ovf_envelope_free(ovf_envelope *env)
{
	if (!env)
		return;
	free(env->ns);
	free(env->name);
	free(env->lang);
	for (size_t i = 0; i < env->nfiles; i++) {
		free(env->files[i].id);
		free(env->files[i].href);
		free(env->files[i].compression);
	}
	free(env->files);
	for (size_t i = 0; i < env->ndisks; i++) {
		struct ovf_disk *d = &env->disks[i];
		free(d->disk_id);
		free(d->file_ref);
		free(d->parent_ref);
		free(d->format);
		free(d->capacity);
		free(d->capacity_units);
		free(d->populated_size);
	}
	free(env->disks);
	for (size_t i = 0; i < env->nnetworks; i++) {
		free(env->networks[i].name);
		free(env->networks[i].description);
	}
	free(env->networks);
	for (size_t i = 0; i < env->nconfigs; i++) {
		free(env->configs[i].id);
		free(env->configs[i].label);
		free(env->configs[i].description);
	}
	free(env->configs);
	if (env->content) {
		envelope_free_vs(env->content);
		free(env->content);
	}
	free(env->systems);
	for (size_t i = 0; i < env->nsections; i++) {
		free(env->sections[i].name);
		free(env->sections[i].ns);
	}
	free(env->sections);
	for (size_t i = 0; i < env->nmsgs; i++) {
		free(env->msgs[i].lang);
		free(env->msgs[i].msgid);
		free(env->msgs[i].text);
	}
	free(env->msgs);
	ovf_diags_free(&env->parse_diags);
	free(env);
}

/* ---- look-ups ------------------------------------------------------------------------------- */

const struct ovf_config *ovf_default_config(const ovf_envelope *env)
{
	if (!env->nconfigs)
		return NULL;
	for (size_t i = 0; i < env->nconfigs; i++)
		if (env->configs[i].is_default)
			return &env->configs[i];
	return &env->configs[0];
}

const struct ovf_config *ovf_find_config(const ovf_envelope *env, const char *id)
{
	for (size_t i = 0; id && i < env->nconfigs; i++)
		if (env->configs[i].id && !strcmp(env->configs[i].id, id))
			return &env->configs[i];
	return NULL;
}

const struct ovf_file *ovf_find_file(const ovf_envelope *env, const char *id)
{
	for (size_t i = 0; id && i < env->nfiles; i++)
		if (env->files[i].id && !strcmp(env->files[i].id, id))
			return &env->files[i];
	return NULL;
}

const struct ovf_disk *ovf_find_disk(const ovf_envelope *env, const char *disk_id)
{
	for (size_t i = 0; disk_id && i < env->ndisks; i++)
		if (env->disks[i].disk_id && !strcmp(env->disks[i].disk_id, disk_id))
			return &env->disks[i];
	return NULL;
}

const struct ovf_network *ovf_find_network(const ovf_envelope *env, const char *name)
{
	for (size_t i = 0; name && i < env->nnetworks; i++)
		if (env->networks[i].name && !strcmp(env->networks[i].name, name))
			return &env->networks[i];
	return NULL;
}

bool ovf_config_applies(const char *list, const char *config)
{
	if (!list)
		return true;
	const char *s = list;
	bool any = false;
	while (*s) {
		while (*s && isspace((unsigned char)*s))
			s++;
		const char *b = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		if (s == b)
			break;
		any = true;
		if (config && strlen(config) == (size_t)(s - b) && !strncmp(b, config, (size_t)(s - b)))
			return true;
	}
	return !any;
}
