/*
 * ovf.h - the OVF library: descriptors (parse, model, validate, write),
 * packages (OVA/OVF directory read, pack, unpack), manifests, certificates
 * and the OVF environment.
 *
 * Nothing here knows about the CLI.  Everything read from a descriptor or a
 * package is untrusted: sizes are checked, XML is parsed with no network, no
 * DTD and no entity expansion.
 */
#ifndef OD_OVF_H
#define OD_OVF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* Largest descriptor we accept.  Real descriptors are a few hundred KiB at
 * most; the limit keeps a hostile package from making us parse gigabytes. */
#define OVF_DESCRIPTOR_MAX (16u * 1024 * 1024)

/* ======================================================================
 * Descriptor model (envelope.c, units.c, validate.c)
 * ====================================================================== */

enum ovf_version {
	OVF_V_UNKNOWN = 0,
	OVF_V_0_9 = 9,   /* http://www.vmware.com/schema/ovf/1/envelope */
	OVF_V_1 = 10,    /* http://schemas.dmtf.org/ovf/envelope/1 */
	OVF_V_2 = 20,    /* http://schemas.dmtf.org/ovf/envelope/2 */
};

/* A References/File entry. */
struct ovf_file {
	char *id;
	char *href;
	uint64_t size;         /* valid when has_size */
	bool has_size;
	char *compression;     /* NULL, "identity", "gzip", ... as written */
	int64_t chunk_size;    /* valid when has_chunk_size; may be <= 0 in bad input */
	bool has_chunk_size;
	int line;
};

typedef struct ovf_envelope ovf_envelope;

const char *ovf_version_name(enum ovf_version v);      /* "0.9", "1.x", "2.x", "unknown" */
enum ovf_version ovf_version_from_ns(const char *ns);  /* envelope namespace URI -> version */

/* The MODEL_DEFINITIONS_BELOW marker is where envelope.c's public structs and
 * functions go; keep struct ovf_file above stable: packages depend on it. */
/* MODEL_DEFINITIONS_BELOW */

/* Diagnostics: what validate (and the parser, for things that are legal XML
 * but odd OVF) has to say.  `code` is stable (scripts and tests match it);
 * `line` is the descriptor line (0 when unknown); `message` says what to
 * change. */
enum { OVF_DIAG_WARNING = 1, OVF_DIAG_ERROR = 2 };
struct ovf_diag {
	int severity;
	char code[40];
	int line;
	char *message;
};
struct ovf_diags {
	struct ovf_diag *v;
	size_t n, cap;
	size_t nerrors, nwarnings;
};
/* Append a diagnostic (the message is formatted and copied).  Returns -1 only
 * on allocation failure. */
int ovf_diags_add(struct ovf_diags *d, int severity, const char *code, int line,
		  const char *fmt, ...) OD_PRINTF(5, 6);
void ovf_diags_free(struct ovf_diags *d);

/* ---- units (units.c) ------------------------------------------------------
 * DSP0004 programmatic units: "byte", "byte * 2^20", "byte*2^30",
 * "hertz * 10^6", "byte * 1024", "bit * 2^3"...  The result is the number of
 * base units (bytes or hertz) per unit, exact, or an error on overflow.
 * Common non-standard spellings seen in real descriptors ("MegaBytes", "MB",
 * "GB", "KiloBytes", "byte * 2 ^ 20") are accepted with *nonstandard set so
 * that validate can warn. */
enum ovf_unit_base { OVF_UNIT_NONE = 0, OVF_UNIT_BYTE, OVF_UNIT_BIT, OVF_UNIT_HERTZ, OVF_UNIT_COUNT };
int ovf_units_parse(const char *s, enum ovf_unit_base *base, uint64_t *mult, bool *nonstandard, od_err *e);
/* value (a decimal integer, as written) times the unit, in bytes.  `units`
 * NULL means bytes.  Fails on non-integers, negatives, non-byte units and
 * overflow. */
int ovf_bytes(const char *value, const char *units, uint64_t *out, od_err *e);
/* Parse a decimal unsigned 64-bit integer, all of the string (surrounding
 * blanks allowed), with overflow checks. */
int ovf_parse_u64(const char *s, uint64_t *out);
int ovf_parse_i64(const char *s, int64_t *out);

/* ---- the model (envelope.c) ------------------------------------------------
 * Strings are kept as written (NULL when absent) so that validate can judge
 * them and inspect can show them; `line` fields are descriptor line numbers. */

/* Every section element met anywhere in the envelope, known or not, in
 * document order: validate uses this for "missing Info", "required section
 * not understood" and "section in the wrong place". */
struct ovf_section {
	char *name;       /* local name, or the xsi:type for OVF 0.9 "Section" elements */
	char *ns;         /* namespace URI or NULL */
	bool known;       /* a section we understand */
	bool required;    /* ovf:required, default true */
	bool has_info;
	const char *where; /* "envelope", "VirtualSystem", "VirtualSystemCollection" */
	int line;
};

struct ovf_disk {
	char *disk_id;
	char *file_ref;          /* NULL: an empty disk made at deploy time */
	char *parent_ref;
	char *format;
	char *capacity;          /* as written: a number or "${property}" */
	char *capacity_units;    /* ovf:capacityAllocationUnits, NULL = bytes */
	char *populated_size;    /* as written */
	int line;
};

struct ovf_network {
	char *name;
	char *description;
	int line;
};

struct ovf_config {          /* DeploymentOptionSection/Configuration */
	char *id;
	char *label;
	char *description;
	bool is_default;
	int line;
};

/* A hardware element: rasd Item, OVF 2 StorageItem (sasd) or
 * EthernetPortItem (epasd).  RASD children are matched by local name, case
 * insensitively, because real descriptors (and OVF 0.9) write "InstanceId". */
enum ovf_item_kind { OVF_ITEM = 0, OVF_ITEM_STORAGE, OVF_ITEM_ETHERNET };
struct ovf_item {
	enum ovf_item_kind kind;
	char *instance_id;
	char *resource_type;     /* as written; see resource_type_num */
	int resource_type_num;   /* -1 when absent or not a number */
	char *resource_sub_type;
	char *element_name;
	char *description;
	char *caption;
	char *address;
	char *address_on_parent;
	char *parent;
	char *allocation_units;
	char *virtual_quantity;
	char *virtual_quantity_units;
	char *reservation, *limit, *weight;
	char *automatic_allocation;
	char **host_resources; size_t nhost_resources;
	char **connections; size_t nconnections;
	char *configuration;     /* ovf:configuration: space-separated ids */
	char *bound;             /* ovf:bound: "min", "max", "normal" or NULL */
	bool required;           /* ovf:required, default true */
	/* The first child element that is no RASD/SASD/EPASD field and not
	 * marked ovf:required="false" (a deploy tool must refuse what it does
	 * not understand), with its line; NULL when none. */
	char *unknown_required;
	int unknown_required_line;
	int line;
};

struct ovf_hw_section {
	char *id;                /* ovf:id (OVF 2 allows several sections) */
	char *transport;         /* ovf:transport, e.g. "iso com.vmware.guestInfo" */
	char *system_type;       /* vssd:VirtualSystemType, e.g. "vmx-10" */
	char *system_name;       /* vssd:ElementName */
	bool has_system;
	struct ovf_item *items; size_t nitems;
	int line;
};

/* A property's per-configuration value (ovf:Value with ovf:configuration). */
struct ovf_prop_value {
	char *value;
	char *configuration;
	int line;
};

struct ovf_property {
	char *key;
	char *type;              /* as written */
	char *qualifiers;        /* as written */
	char *value;             /* ovf:value, the default; NULL when absent */
	bool user_configurable;
	bool password;
	char *label, *description;
	char *category;          /* the Category element before it, if any */
	char *configuration;     /* ovf:configuration: only in these configurations (VMware) */
	struct ovf_prop_value *values; size_t nvalues;
	int line;
};

struct ovf_product {
	char *class_;            /* ovf:class */
	char *instance;          /* ovf:instance */
	char *product, *vendor, *version, *full_version;
	char *product_url, *vendor_url, *app_url;
	struct ovf_property *props; size_t nprops;
	int line;
};

struct ovf_eula {
	char *license;
	int line;
};

struct ovf_startup_item {
	char *id;
	int64_t order;
	char *start_action, *stop_action;
	int64_t start_delay, stop_delay;
	int line;
};

struct ovf_virtual_system {
	bool is_collection;      /* VirtualSystemCollection */
	char *id;
	char *name;
	char *info;
	bool has_info;
	/* OperatingSystemSection */
	bool has_os;
	char *os_id;             /* ovf:id, a CIM OS type number as written */
	char *os_version;
	char *os_description;
	char *os_type;           /* vmw:osType when present */
	struct ovf_hw_section *hw; size_t nhw;
	struct ovf_product *products; size_t nproducts;
	struct ovf_eula *eulas; size_t neulas;
	char *annotation;
	struct ovf_startup_item *startup; size_t nstartup;
	bool has_install;
	int64_t install_delay;
	struct ovf_virtual_system *children; size_t nchildren; /* collections */
	int line;
};

/* Strings bundles: msgid -> text (envelope-level Strings element). */
struct ovf_msg {
	char *lang;
	char *msgid;
	char *text;
};

struct ovf_envelope {
	enum ovf_version version;
	char *ns;                /* envelope namespace URI as written */
	char *name;              /* name given at parse time, for messages */
	char *lang;              /* xml:lang of the envelope */
	bool has_references;
	struct ovf_file *files; size_t nfiles;   /* References, in document order */
	bool has_disk_section;
	struct ovf_disk *disks; size_t ndisks;
	int disk_section_line;
	bool has_network_section;
	struct ovf_network *networks; size_t nnetworks;
	int network_section_line;
	bool has_deployment_options;
	struct ovf_config *configs; size_t nconfigs;
	int deployment_section_line;
	/* The content: one VirtualSystem or VirtualSystemCollection (NULL when
	 * the envelope has none; validate reports it).  `ncontent` counts how
	 * many content elements the envelope has (more than one is an error). */
	struct ovf_virtual_system *content;
	size_t ncontent;
	/* Every VirtualSystem (not collection) in document order, pointing into
	 * the tree under `content`. */
	struct ovf_virtual_system **systems; size_t nsystems;
	struct ovf_section *sections; size_t nsections;
	struct ovf_msg *msgs; size_t nmsgs;
	/* Things the parser noticed and validate reports (e.g. an element it
	 * did not expect where it was). */
	struct ovf_diags parse_diags;
	int line;
};

/* Parse a descriptor.  `name` is used in messages ("app.ovf:12: ...").
 * Refuses more than OVF_DESCRIPTOR_MAX bytes, DOCTYPEs that declare
 * entities, invalid UTF-8 and a declared encoding the bytes do not match.
 * Returns NULL with `e` set (OD_E_INVALID for bad input). */
ovf_envelope *ovf_envelope_parse(const char *buf, size_t len, const char *name, od_err *e);
ovf_envelope *ovf_envelope_parse_file(const char *path, od_err *e);
void ovf_envelope_free(ovf_envelope *env);

/* ---- look-ups for deployers (envelope.c) ---------------------------------- */
/* The default deployment option: the one marked ovf:default="true", else the
 * first; NULL when there is no DeploymentOptionSection. */
const struct ovf_config *ovf_default_config(const ovf_envelope *env);
const struct ovf_config *ovf_find_config(const ovf_envelope *env, const char *id);
const struct ovf_file *ovf_find_file(const ovf_envelope *env, const char *id);
const struct ovf_disk *ovf_find_disk(const ovf_envelope *env, const char *disk_id);
const struct ovf_network *ovf_find_network(const ovf_envelope *env, const char *name);
/* Does an item (or a property value) with ovf:configuration `list` apply to
 * configuration `config`?  A NULL/empty list applies to every configuration;
 * a NULL config matches only items without a list. */
bool ovf_config_applies(const char *list, const char *config);

/* Is item `idx` of `hw` in effect in configuration `config`?  It must apply
 * (ovf_config_applies) and not be overridden: an Item with an
 * ovf:configuration list overrides an Item without one that has the same
 * InstanceID and ovf:bound, and among Items with (different) lists the
 * later one wins.  This is how ovftool reads descriptors that give a default
 * Item and per-configuration replacements. */
bool ovf_item_effective(const struct ovf_hw_section *hw, size_t idx, const char *config);

/* The hardware of a virtual system for one configuration (NULL = the default
 * one), with units resolved.  Pointers point into the envelope. */
struct ovf_hw_disk {
	const struct ovf_item *item;
	const struct ovf_disk *disk;   /* NULL for an ovf:/file/ID host resource */
	const struct ovf_file *file;   /* the file behind it, NULL for an empty disk */
	uint64_t capacity_bytes;       /* 0 when unknown (file-backed, or "${...}") */
	const char *file_ref;
	const char *href;
	const struct ovf_item *controller; /* the Parent item, or NULL */
	const char *address_on_parent;
	bool cdrom;                    /* ResourceType 15/16 */
};
struct ovf_hw_nic {
	const struct ovf_item *item;
	const char *network;           /* the first Connection */
	const char *model;             /* ResourceSubType, e.g. "E1000", "VmxNet3" */
	const char *mac;               /* rasd:Address */
};
struct ovf_hardware {
	const struct ovf_hw_section *section;
	const char *config;            /* the configuration used, or NULL */
	uint64_t cpus;                 /* 0 when absent */
	uint64_t memory_bytes;         /* 0 when absent */
	struct ovf_hw_disk *disks; size_t ndisks;             /* in document order */
	const struct ovf_item **controllers; size_t ncontrollers;
	struct ovf_hw_nic *nics; size_t nnics;
};
int ovf_hardware_get(const ovf_envelope *env, const struct ovf_virtual_system *vs,
		     const char *config, struct ovf_hardware *out, od_err *e);
void ovf_hardware_free(struct ovf_hardware *hw);
/* Name of a CIM ResourceType ("Processor", "Memory", "Disk Drive"...) or NULL. */
const char *ovf_resource_type_name(int rt);

/* ---- properties (validate.c) ---------------------------------------------- */
/* The value a property takes in configuration `config` (NULL = default):
 * the matching ovf:Value, else ovf:value, else NULL. */
const char *ovf_property_value_for(const struct ovf_property *p, const char *config);
/* Check a value against the property's type (uint8..sint64, boolean,
 * string, real32, real64) and qualifiers (MinLen, MaxLen, ValueMap,
 * MinValue, MaxValue).  Returns 0, or -1 with `e` saying what is wrong. */
int ovf_property_check_value(const struct ovf_property *p, const char *value, od_err *e);
/* The type part alone (no qualifiers). */
int ovf_property_check_type(const char *type, const char *value, od_err *e);
/* Is `type` a property type we accept: OVF's (uint8..sint64, boolean,
 * string, real32, real64), VMware's (int, real, password, ip, ip:NET,
 * expression) or OVF's in another case ("Boolean")?  _standard: OVF's own,
 * spelled as OVF spells it. */
bool ovf_property_type_known(const char *type);
bool ovf_property_type_standard(const char *type);
/* Syntax of a qualifiers attribute; counts the qualifiers we do not check
 * (VMware's Ip(...), Dns...) and names the first. */
int ovf_qualifiers_check(const char *type, const char *qualifiers, int *unknown, char *first_unknown,
			 size_t fu_size, od_err *e);

/* ---- validation (validate.c, schema.c) ------------------------------------ */
enum {
	OVF_VALIDATE_LAX = 1u << 0,          /* ovftool --lax: some errors become warnings */
	OVF_VALIDATE_ALLOW_REMOTE = 1u << 1, /* hrefs may be URLs or absolute paths */
};
/* Deployability.  Appends diagnostics to `out` (including the parser's);
 * returns the number of errors added, or -1 on an internal failure. */
int ovf_validate(const ovf_envelope *env, unsigned flags, struct ovf_diags *out, od_err *e);
/* Every code ovf_validate can emit (for documentation and tests). */
const char *const *ovf_validate_codes(size_t *n);

/* Schema conformance against <schemadir>/ovf-envelope-1.xsd or -2.xsd (by
 * the envelope's namespace).  Every schema error becomes a diagnostic of
 * severity `severity` with code "schema".  Returns 1 when the document is
 * valid, 0 when it is not, -1 when the check could not be made (no schema
 * for OVF 0.9, schema file missing or unparsable: `e` says which). */
int ovf_schema_check(const char *buf, size_t len, const char *name, const char *schemadir,
		     int severity, struct ovf_diags *out, od_err *e);
/* The schema directory: $OVFDEPLOY_SCHEMADIR, else the installed one, else
 * (when that has no schemas) the source tree's schemas/ of the build. */
const char *ovf_schemadir(void);

/* ======================================================================
 * Packages, manifests, certificates (package.c, manifest.c, cert.c, pack.c)
 * ====================================================================== */
/* PACKAGE_DEFINITIONS_BELOW */

/* ======================================================================
 * The OVF environment (env.c)
 * ====================================================================== */
/* ENV_DEFINITIONS_BELOW */

#endif
