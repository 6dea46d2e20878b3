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
	/* The firmware VMware asks for: <vmw:Config vmw:key="firmware"
	 * vmw:value="efi"/> (or vmw:ExtraConfig, the .vmx key) in this section;
	 * the value as written, NULL when absent. */
	char *firmware;
	int firmware_line;
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
	/* VirtualBox's machine configuration (vbox:Machine/Hardware/Firmware
	 * type="EFI"): the type as written, NULL when absent. */
	char *vbox_firmware;
	int vbox_firmware_line;
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
/* The firmware a virtual system boots with.  OVF itself has no element for
 * it: VMware writes vmw:Config key="firmware" in the VirtualHardwareSection,
 * VirtualBox a Firmware element in its vbox:Machine.  Absent = BIOS. */
enum ovf_firmware { OVF_FIRMWARE_BIOS = 0, OVF_FIRMWARE_EFI };
struct ovf_hardware {
	const struct ovf_hw_section *section;
	enum ovf_firmware firmware;
	const char *firmware_source;   /* "vmw:Config", "vbox:Machine" or NULL (the default, BIOS) */
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
/* "bios" or "efi". */
const char *ovf_firmware_name(enum ovf_firmware f);
/* Parse a firmware name as descriptors write it: "bios", "efi", and
 * VirtualBox's "EFI32", "EFI64", "EFIDUAL" (case-insensitive). */
int ovf_firmware_parse(const char *s, enum ovf_firmware *out);
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
/* What deployment target `target` ("vsphere", "virtualbox", "ovfdeploy")
 * cannot honour: warnings with codes "target-<target>-..." (target.c).
 * -1 with OD_E_USAGE for an unknown target. */
int ovf_check_target(const ovf_envelope *env, const char *target, struct ovf_diags *out, od_err *e);
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

/* ---- digests and manifests (manifest.c) ------------------------------------
 * A manifest (.mf) holds one line per file: "SHA256(name)= hex".  SHA1,
 * SHA256 and SHA512 are read and written.  Lines written by tools that got
 * the format slightly wrong are accepted, each with a warning naming the
 * mistake: "SHA256 (name) = hex" (coreutils --tag), "SHA2-256(name)= hex"
 * (OpenSSL 3 dgst), CRLF line ends.  Anything else is an error. */
enum ovf_digest_alg { OVF_DIGEST_NONE = 0, OVF_DIGEST_SHA1, OVF_DIGEST_SHA256, OVF_DIGEST_SHA512 };
#define OVF_DIGEST_MAX 64             /* bytes of the longest digest (SHA512) */
#define OVF_MANIFEST_MAX (4u << 20)   /* largest .mf we read */
#define OVF_CERT_MAX (1u << 20)       /* largest .cert we read */
#define OVF_NAME_MAX 255              /* longest member name: what ustar can hold */
#define OVF_MEMBERS_MAX 10000         /* most members a package may have */

const char *ovf_digest_name(enum ovf_digest_alg a);       /* "SHA256", ... */
size_t ovf_digest_len(enum ovf_digest_alg a);             /* 20, 32, 64; 0 for NONE */
/* "sha1", "SHA256", "sha-512"... -> alg; OVF_DIGEST_NONE if unknown. */
enum ovf_digest_alg ovf_digest_from_name(const char *s);

/* Warnings collected while reading a package or a manifest: plain sentences
 * the CLI prints (or puts in its JSON). */
struct ovf_warnings {
	char **v;
	size_t n;
};
int ovf_warn(struct ovf_warnings *w, const char *fmt, ...) OD_PRINTF(2, 3);
void ovf_warnings_free(struct ovf_warnings *w);

struct ovf_manifest_entry {
	char *name;
	enum ovf_digest_alg alg;
	unsigned char digest[OVF_DIGEST_MAX];
	int line;
};
struct ovf_manifest {
	struct ovf_manifest_entry *v;
	size_t n;
};
/* Parse manifest text.  `name` is used in messages.  Duplicate names, bad
 * hex, wrong digest lengths, unknown algorithms and names with NUL or
 * control bytes are errors (OD_E_INVALID).  Warnings go to `w` (may be NULL). */
int ovf_manifest_parse(const char *buf, size_t len, const char *name, struct ovf_manifest *m,
		       struct ovf_warnings *w, od_err *e);
const struct ovf_manifest_entry *ovf_manifest_find(const struct ovf_manifest *m, const char *name);
void ovf_manifest_free(struct ovf_manifest *m);
/* Append one canonical line "ALG(name)= hex\n" to `out`. */
int ovf_manifest_line(od_buf *out, enum ovf_digest_alg alg, const char *name, const unsigned char *digest);
/* Length of that line, without writing it. */
size_t ovf_manifest_line_len(enum ovf_digest_alg alg, const char *name);

/* Incremental hashing of up to three algorithms at once (OpenSSL EVP).
 * `algs` is a bit set of (1u << OVF_DIGEST_*). */
typedef struct ovf_hasher ovf_hasher;
ovf_hasher *ovf_hasher_new(unsigned algs, od_err *e);
int ovf_hasher_update(ovf_hasher *h, const void *p, size_t n, od_err *e);
/* Finish and copy the digest of `alg` (must be in the set) into `out`. */
int ovf_hasher_final(ovf_hasher *h, enum ovf_digest_alg alg, unsigned char *out, od_err *e);
void ovf_hasher_free(ovf_hasher *h);

/* ---- certificates and signatures (cert.c) ----------------------------------
 * The .cert file: "SHA256(name.mf)= hex-signature" then the PEM certificate
 * chain, signer first.  The signature is over the exact bytes of the .mf. */
struct ovf_cert {
	enum ovf_digest_alg alg;
	char *signed_name;            /* the name in ALG(name)= : the .mf */
	unsigned char *sig;
	size_t siglen;
	void *chain;                  /* STACK_OF(X509) *; signer first */
};
int ovf_cert_parse(const char *buf, size_t len, const char *name, struct ovf_cert *c,
		   struct ovf_warnings *w, od_err *e);
void ovf_cert_free(struct ovf_cert *c);

struct ovf_cert_result {
	bool signature_ok;            /* the signature matches the .mf bytes */
	bool chain_ok;                /* the chain leads to a trusted CA */
	bool time_ok;                 /* now lies within every certificate's validity */
	char *subject, *issuer;       /* of the signing certificate, one line each */
	char not_before[32], not_after[32]; /* "2026-11-26 15:00:00 UTC" */
	char key_desc[64];            /* "RSA 2048", "EC prime256v1" */
	char *problem;                /* why signature/chain/time failed, or NULL */
};
/* Check the signature over `mf` and the chain against the system trust store
 * or `ca_file` (PEM, may hold several CAs; when given, the system store is
 * not used).  Returns 0 when the check could be made (the verdict is in
 * `r`), -1 on an internal error. */
int ovf_cert_verify(const struct ovf_cert *c, const char *mf, size_t mflen, const char *ca_file,
		    struct ovf_cert_result *r, od_err *e);
void ovf_cert_result_free(struct ovf_cert_result *r);
/* Sign `mf` with the PEM private key at `key_path` and build the .cert text:
 * the signature line then the PEM certificates of `cert_path` (when NULL, the
 * certificates found in the key file).  RSA (PKCS#1 v1.5) and ECDSA keys. */
int ovf_cert_sign(const char *key_path, const char *cert_path, enum ovf_digest_alg alg,
		  const char *mf_name, const char *mf, size_t mflen, od_buf *out, od_err *e);
/* An upper bound of ovf_cert_sign's output for this key and certificate, so
 * that pack can reserve the .cert member before it knows the signature. */
int ovf_cert_sign_max(const char *key_path, const char *cert_path, enum ovf_digest_alg alg,
		      const char *mf_name, size_t *max, od_err *e);

/* ---- reading packages (package.c) --------------------------------------------
 * ovf_package_open() takes an OVA (a tar file), an OVF directory or a lone
 * .ovf file and lists its members without reading their data: for an OVA it
 * walks the tar headers (ustar, GNU and PAX are read), for a directory it
 * takes the descriptor's files from beside it.  Every member lives at a
 * byte range [offset, offset+size) of a plain file `path`: the OVA itself for
 * tar members, the member's own file in a directory, so that a disk can be
 * opened in place (disk_open_range).  The descriptor, manifest and
 * certificate, which are small, are read at open time (bounded).
 *
 * Hostile tars are refused with OD_E_INVALID naming the member: absolute
 * names, ".." components, links, devices, FIFOs, duplicate names, names over
 * OVF_NAME_MAX, more than OVF_MEMBERS_MAX members, bad header checksums,
 * data past the end of the file.  Odd but harmless layouts (descriptor not
 * first, directory entries) become warnings. */
enum ovf_package_kind { OVF_PKG_OVA = 1, OVF_PKG_DIR, OVF_PKG_OVF };

struct ovf_member {
	char *name;       /* as in the tar, or the href for a directory */
	char *path;       /* the plain file holding the bytes */
	uint64_t offset;  /* where the bytes start in `path` */
	uint64_t size;
	bool present;     /* false: a directory package's file that does not exist */
};

typedef struct ovf_package {
	enum ovf_package_kind kind;
	char *path;                     /* as given */
	char *dir;                      /* directory of the descriptor (DIR/OVF) */
	struct ovf_member *members;     /* OVA: tar order; DIR/OVF: descriptor, mf, cert, References */
	size_t nmembers;
	const struct ovf_member *descriptor_member, *manifest_member, *cert_member;
	char *descriptor; size_t descriptor_len;  /* NUL-terminated */
	char *manifest; size_t manifest_len;      /* NULL when there is none */
	char *cert; size_t cert_len;              /* NULL when there is none */
	struct ovf_envelope *env;       /* parsed descriptor */
	struct ovf_warnings warnings;
} ovf_package;

ovf_package *ovf_package_open(const char *path, od_err *e);
void ovf_package_close(ovf_package *p);
const struct ovf_member *ovf_package_member(const ovf_package *p, const char *name);

/* Called with successive pieces of a member's bytes; return -1 (with `e`
 * set) to stop. */
typedef int (*ovf_data_fn)(void *ctx, const void *buf, size_t len, od_err *e);
/* Stream a member's raw bytes. */
int ovf_package_read_member(const ovf_package *p, const struct ovf_member *m,
			    ovf_data_fn fn, void *ctx, od_err *e);
/* The members holding a References file: one, or its chunks
 * href.000000000, href.000000001, ... in order.  Fills `out` (an array the
 * caller frees) and its count; a missing member or chunk, or a chunk whose
 * size disagrees with ovf:chunkSize, is an error.
 *
 * A deployer opens a disk in place (disk_open_range() on an fd of
 * member->path, with member->offset and member->size) when the file has
 * one member and no ovf:compression; otherwise it streams the file with
 * ovf_package_read_file() into a local image.  Sizes are checked against
 * ovf:size by ovf_verify, which a deployer runs first. */
int ovf_package_file_members(const ovf_package *p, const struct ovf_file *f,
			     const struct ovf_member ***out, size_t *n, od_err *e);
/* Stream a References file's content as the deployer sees it: chunks
 * joined, gzip inflated.  Inflation stops with an error past
 * ovf_file_inflate_limit(), so a gzip bomb cannot fill memory or disk. */
int ovf_package_read_file(const ovf_package *p, const struct ovf_file *f,
			  ovf_data_fn fn, void *ctx, od_err *e);
/* The most bytes a compressed file may inflate to: the capacity of the disk
 * that uses it plus a margin for the image format's metadata, else a fixed
 * bound. */
uint64_t ovf_file_inflate_limit(const struct ovf_envelope *env, const struct ovf_file *f);

/* A gzip inflater fed piece by piece (used by read_file and verify). */
typedef struct ovf_inflater ovf_inflater;
ovf_inflater *ovf_inflater_new(const char *name, uint64_t limit, ovf_data_fn fn, void *ctx, od_err *e);
int ovf_inflater_feed(ovf_inflater *z, const void *buf, size_t len, od_err *e);
/* Checks that the stream ended cleanly. */
int ovf_inflater_finish(ovf_inflater *z, od_err *e);
uint64_t ovf_inflater_total(const ovf_inflater *z);
void ovf_inflater_free(ovf_inflater *z);

/* ---- verify (verify.c) --------------------------------------------------------
 * One read of the package: every member listed in the manifest is hashed as
 * it streams past (gzip files are also inflated, to catch bombs and
 * corruption), nothing is written. */
enum ovf_verdict {
	OVF_FILE_OK = 0,      /* digest matches */
	OVF_FILE_UNCHECKED,   /* present, but there is no manifest to check it against */
	OVF_FILE_MISMATCH,    /* digest differs */
	OVF_FILE_MISSING,     /* the descriptor or the manifest names it; the package lacks it */
	OVF_FILE_UNLISTED,    /* the package has it (References does) but the manifest omits it */
	OVF_FILE_EXTRA,       /* the manifest lists it but References does not */
	OVF_FILE_BAD,         /* size disagrees with ovf:size, corrupt gzip, gzip bomb... */
};
const char *ovf_verdict_name(enum ovf_verdict v);   /* "ok", "mismatch", ... */
struct ovf_verify_file {
	char *name;
	enum ovf_verdict verdict;
	enum ovf_digest_alg alg;
	char expected[2 * OVF_DIGEST_MAX + 1], actual[2 * OVF_DIGEST_MAX + 1]; /* hex or "" */
	uint64_t size;
	char *problem;       /* OVF_FILE_BAD and others: what is wrong */
};
struct ovf_verify_opts {
	const char *ca_file;        /* NULL: the system trust store */
	bool require_signature;
	od_progress_fn progress;
	void *progress_ctx;
};
struct ovf_verify_report {
	bool has_manifest;
	bool has_cert;
	struct ovf_verify_file *files;
	size_t nfiles;
	struct ovf_cert_result cert;
	struct ovf_warnings problems;  /* package-level failures, one sentence each */
	bool ok;                       /* everything verified */
};
/* Returns 0 when the verification ran (the verdict is in `r->ok`), -1 when
 * it could not (I/O error). */
int ovf_verify(ovf_package *p, const struct ovf_verify_opts *o, struct ovf_verify_report *r, od_err *e);
void ovf_verify_report_free(struct ovf_verify_report *r);

/* ---- writing packages (pack.c) ------------------------------------------------ */
struct ovf_pack_opts {
	/* NONE: keep the source's manifest when it lists exactly the packed
	 * files and every digest matches (so an OVF directory and its OVA hold
	 * the same bytes), else write SHA256. */
	enum ovf_digest_alg digest;
	uint64_t chunk_size;          /* > 0: split larger files into href.000000000, ... */
	bool compress;                /* gzip files (ovf:compression="gzip") */
	const char *sign_key;         /* PEM private key, or NULL */
	const char *sign_cert;        /* PEM certificate chain, or NULL (taken from the key file) */
	bool no_sync;                 /* skip the fsync before the rename (see od_atomic_file) */
	od_progress_fn progress;
	void *progress_ctx;
};
/* Pack an OVF directory or descriptor into an OVA at `out` (crash-safe:
 * nothing appears at `out` unless everything was written).  The descriptor
 * first, then the manifest, the certificate, then the files in References
 * order; ustar headers, GNU size fields only for members over 8 GiB (with a
 * warning in `w`), never PAX.  Every input is read once, hashed while
 * written. */
int ovf_pack(const char *src, const char *out, const struct ovf_pack_opts *o,
	     struct ovf_warnings *w, od_err *e);

/* ---- generating a descriptor (generate.c) --------------------------------------
 * For `pack --from-disk`: an OVF 1.x descriptor for one virtual system with
 * one disk, written so that it passes our own validation and schema check.
 * Every string is XML-escaped; property types and defaults are checked. */
struct ovf_gen_prop {
	const char *key, *type, *value;   /* value may be NULL (no default) */
};
struct ovf_gen_opts {
	const char *name;                 /* VirtualSystem id and Name */
	unsigned cpus;                    /* 0 = 1 */
	uint64_t memory_bytes;            /* 0 = 512 MiB; a multiple of 1 MiB */
	const char *const *nics;          /* network names, one adapter each */
	size_t nnics;
	const char *product, *vendor, *version; /* NULL = absent */
	const char *eula;                 /* license text, or NULL */
	const struct ovf_gen_prop *props;
	size_t nprops;
	const char *disk_href;            /* file name of the disk in the package */
	uint64_t disk_file_size;          /* bytes of that file */
	uint64_t disk_capacity;           /* guest-visible bytes */
	const char *disk_format;          /* ovf:format URI */
	/* VMware hardware (issue 16): NULL = the defaults E1000, lsilogic, no
	 * vmw:osType, no transport; a transport naming "iso" adds an IDE
	 * CD-ROM, which vSphere needs to attach the environment */
	const char *nic_model;            /* rasd:ResourceSubType, e.g. "VmxNet3" */
	const char *scsi_model;           /* e.g. "VirtualSCSI" */
	const char *os_type;              /* vmw:osType, e.g. "otherLinux64Guest" */
	const char *transport;            /* ovf:transport */
};
int ovf_generate_descriptor(const struct ovf_gen_opts *o, od_buf *out, od_err *e);

/* ---- rewriting a descriptor (rewrite.c) -----------------------------------------
 * For `export`: the descriptor with some attributes changed and everything
 * else kept (comments, sections we do not model, vendor extensions).  Each
 * edit names an element that must exist, else an error says which. */
struct ovf_rewrite_file {
	const char *id;          /* References/File ovf:id */
	bool add;                /* a new File (the id must not exist yet) */
	const char *href;
	uint64_t size;           /* the new ovf:size; ovf:compression and ovf:chunkSize go */
};
struct ovf_rewrite_disk {
	const char *disk_id;     /* DiskSection/Disk ovf:diskId */
	const char *file_ref;    /* new ovf:fileRef, NULL = keep */
	const char *format;      /* new ovf:format, NULL = keep */
	uint64_t capacity;       /* new ovf:capacity in bytes (units removed); 0 = keep */
	/* ovf:parentRef and ovf:populatedSize are removed: the disk is whole */
};
struct ovf_rewrite_prop {
	const char *key;         /* the full key, class.key.instance */
	const char *value;       /* the new default (ovf:value, and the ovf:Value of default_config) */
};
struct ovf_rewrite {
	const char *default_config;  /* the one Configuration with ovf:default="true"; NULL = keep */
	const struct ovf_rewrite_file *files; size_t nfiles;
	const struct ovf_rewrite_disk *disks; size_t ndisks;
	const struct ovf_rewrite_prop *props; size_t nprops;
};
/* Appends the rewritten descriptor (UTF-8, with an XML declaration) to `out`. */
int ovf_descriptor_rewrite(const char *buf, size_t len, const char *name, const struct ovf_rewrite *r, od_buf *out,
			   od_err *e);

/* Unpack: verify everything, extract into a temporary directory beside
 * `dest`, and rename it into place only when all succeeded.  Refuses when
 * the file system lacks room for the declared sizes, and when `dest`
 * exists (unless it is an empty directory). */
struct ovf_unpack_opts {
	struct ovf_verify_opts verify;
	/* Skip the fsyncs of the files and directories (still written to a
	 * temporary directory and renamed into place). */
	bool no_sync;
};
int ovf_unpack(ovf_package *p, const char *dest, const struct ovf_unpack_opts *o,
	       struct ovf_verify_report *r, od_err *e);

/* ======================================================================
 * The OVF environment (env.c)
 * ====================================================================== */
/* The environment document (DSP8027) tells a guest about its deployment:
 * the platform and the values of its properties.  Every value here is
 * escaped by the XML writer, so user-provided values cannot inject markup. */
struct ovf_env_property {
	const char *key;   /* full key, with the ProductSection class/instance */
	const char *value;
};
struct ovf_env_entity {  /* one per child system of a VirtualSystemCollection */
	const char *id;
	const struct ovf_env_property *props;
	size_t nprops;
};
struct ovf_env_doc {
	const char *id;               /* oe:id: the VirtualSystem(Collection) id */
	const char *platform_kind;    /* PlatformSection/Kind, e.g. "ovfdeploy" */
	const char *platform_version;
	const char *platform_vendor;
	const char *locale;           /* NULL: omitted */
	const struct ovf_env_property *props;
	size_t nprops;
	const struct ovf_env_entity *entities;
	size_t nentities;
};
/* Write the ovf-env.xml document into `out` (appended, NUL-terminated). */
int ovf_env_build(const struct ovf_env_doc *doc, od_buf *out, od_err *e);
/* Write an ISO9660 image holding `ovf-env.xml` (the "iso" transport), with
 * the volume label "OVF_ENV".  Crash-safe: the image
 * appears at `path` only when complete. */
int ovf_env_write_iso(const char *path, const char *xml, size_t len, od_err *e);

/* ENV_DEFINITIONS_BELOW */

/* ======================================================================
 * Descriptor bytes from anything a user may name (descriptor_read.c)
 * ====================================================================== */
/* The descriptor of `path`: an .ovf file read as it is, or the descriptor
 * inside an OVA (tar) or an OVF directory.  Bounded by OVF_DESCRIPTOR_MAX;
 * free *buf with free(). */
int ovf_descriptor_read(const char *path, char **buf, size_t *len, od_err *e);
ovf_envelope *ovf_envelope_parse_any(const char *path, od_err *e);

#endif
