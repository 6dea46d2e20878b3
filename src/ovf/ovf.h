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

/* ======================================================================
 * Packages, manifests, certificates (package.c, manifest.c, cert.c, pack.c)
 * ====================================================================== */
/* PACKAGE_DEFINITIONS_BELOW */

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

#endif
