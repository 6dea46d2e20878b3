/*
 * xml.h - internal to src/ovf: the one hardened way we turn descriptor
 * bytes into a libxml2 document (envelope.c), shared with schema.c so that
 * schema validation sees exactly what the model saw, with the same
 * refusals.
 */
#ifndef OD_OVF_XML_H
#define OD_OVF_XML_H

#include <libxml/tree.h>

#include "ovf/ovf.h"

/* Parse with no network, no DTD, no entities; the size limit, UTF-8 and
 * encoding checks.  Namespace warnings are appended to `ns_warnings` when
 * it is not NULL.  NULL with `e` set on failure. */
xmlDoc *ovf_xml_read(const char *buf, size_t len, const char *name, struct ovf_diags *ns_warnings, od_err *e);

#endif
