/*
 * schema.c - schema conformance against the project's own XSDs.
 *
 * Strict validity and deployability are different verdicts (most
 * descriptors ovftool deploys are not strictly valid), so this is a second
 * opinion: warnings by default, errors with --strict.
 *
 * The schemas come from <schemadir>/ovf-envelope-1.xsd or -2.xsd, chosen by
 * the envelope's namespace; their imports are resolved next to them.  The
 * schema files are ours, but the loader still refuses anything that is not
 * a local file, so a schema edited to import a URL cannot make us reach the
 * network.  The instance document goes through the same hardened reader as
 * the model (xml.h).
 */
#include "config.h"
#include "ovf/ovf.h"
#include "ovf/xml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#ifndef OD_SCHEMADIR
#define OD_SCHEMADIR "/usr/local/share/ovfdeploy/schemas"
#endif

/* Diagnostics beyond this many are summarised: a badly broken descriptor
 * can produce one schema error per element. */
#define MAX_SCHEMA_DIAGS 200

/* $OVFDEPLOY_SCHEMADIR, else the installed schemas, else (a binary run
 * from its build tree, as in the README's quick start) the source tree's. */
const char *ovf_schemadir(void)
{
	const char *d = getenv("OVFDEPLOY_SCHEMADIR");
	if (d && *d)
		return d;
#ifdef OD_SRC_SCHEMADIR
	if (access(OD_SCHEMADIR "/ovf-envelope-1.xsd", R_OK) != 0 &&
	    access(OD_SRC_SCHEMADIR "/ovf-envelope-1.xsd", R_OK) == 0)
		return OD_SRC_SCHEMADIR;
#endif
	return OD_SCHEMADIR;
}

struct serr {
	struct ovf_diags *out;
	int severity;
	int count;
	bool oom;
	char first[512]; /* first error while compiling the schema */
};

static void trimnl(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = 0;
}

static void validity_error(void *ctx, xmlErrorPtr err)
{
	struct serr *s = ctx;
	if (!err || err->level < XML_ERR_ERROR)
		return;
	s->count++;
	if (s->count > MAX_SCHEMA_DIAGS)
		return;
	char msg[600];
	snprintf(msg, sizeof msg, "%s", err->message ? err->message : "schema violation");
	trimnl(msg);
	if (ovf_diags_add(s->out, s->severity, "schema", err->line, "%s", msg) < 0)
		s->oom = true;
}

static void schema_parse_error(void *ctx, xmlErrorPtr err)
{
	struct serr *s = ctx;
	if (!err || err->level < XML_ERR_ERROR || s->first[0])
		return;
	snprintf(s->first, sizeof s->first, "%s:%d: %s", err->file ? err->file : "schema", err->line,
		 err->message ? err->message : "error");
	trimnl(s->first);
}

static void silent(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

static xmlExternalEntityLoader default_loader;

/* Only local files: no http, no ftp. */
static xmlParserInputPtr local_only_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	if (url && (strstr(url, "://") && strncmp(url, "file://", 7) != 0))
		return NULL;
	return default_loader(url, id, ctxt);
}

int ovf_schema_check(const char *buf, size_t len, const char *name, const char *schemadir, int severity,
		     struct ovf_diags *out, od_err *e)
{
	if (!name)
		name = "descriptor";
	if (!schemadir)
		schemadir = ovf_schemadir();
	xmlDoc *doc = ovf_xml_read(buf, len, name, NULL, e);
	if (!doc)
		return -1;
	xmlNode *root = xmlDocGetRootElement(doc);
	enum ovf_version ver = root && root->ns ? ovf_version_from_ns((const char *)root->ns->href) : OVF_V_UNKNOWN;
	const char *file = NULL;
	switch (ver) {
	case OVF_V_1: file = "ovf-envelope-1.xsd"; break;
	case OVF_V_2: file = "ovf-envelope-2.xsd"; break;
	case OVF_V_0_9:
		xmlFreeDoc(doc);
		return od_err_set(e, OD_E_UNSUPPORTED,
				  "%s: OVF 0.9 (VMware's pre-standard namespace) has no schema; schema not checked", name);
	default:
		xmlFreeDoc(doc);
		if (ovf_diags_add(out, severity, "schema", root ? (int)xmlGetLineNo(root) : 0,
				  "the root element <%s> is not in an OVF 1.x or 2.x envelope namespace",
				  root ? (const char *)root->name : "?") < 0)
			return od_err_nomem(e);
		return 0;
	}
	char *path = od_asprintf("%s/%s", schemadir, file);
	if (!path) {
		xmlFreeDoc(doc);
		return od_err_nomem(e);
	}
	if (access(path, R_OK) != 0) {
		od_err_errno(e, errno, "schema %s (set OVFDEPLOY_SCHEMADIR to the folder of ovfdeploy's XSDs)", path);
		free(path);
		xmlFreeDoc(doc);
		return -1;
	}

	struct serr s = {.out = out, .severity = severity};
	xmlStructuredErrorFunc old_serr = xmlStructuredError;
	void *old_sctx = xmlStructuredErrorContext;
	xmlGenericErrorFunc old_gerr = xmlGenericError;
	void *old_gctx = xmlGenericErrorContext;
	xmlSetGenericErrorFunc(NULL, silent);
	xmlSetStructuredErrorFunc(&s, schema_parse_error);
	default_loader = xmlGetExternalEntityLoader();
	xmlSetExternalEntityLoader(local_only_loader);

	int rc = -1;
	xmlSchemaParserCtxtPtr pctx = xmlSchemaNewParserCtxt(path);
	xmlSchemaPtr schema = NULL;
	if (pctx) {
		xmlSchemaSetParserStructuredErrors(pctx, schema_parse_error, &s);
		schema = xmlSchemaParse(pctx);
	}
	if (!schema) {
		od_err_set(e, OD_E_IO, "cannot load schema %s: %s", path, s.first[0] ? s.first : "parse failed");
		goto out;
	}
	xmlSchemaValidCtxtPtr vctx = xmlSchemaNewValidCtxt(schema);
	if (!vctx) {
		od_err_nomem(e);
		goto out;
	}
	xmlSetStructuredErrorFunc(&s, validity_error);
	xmlSchemaSetValidStructuredErrors(vctx, validity_error, &s);
	int r = xmlSchemaValidateDoc(vctx, doc);
	xmlSchemaFreeValidCtxt(vctx);
	if (s.oom) {
		od_err_nomem(e);
		goto out;
	}
	if (r < 0) {
		od_err_set(e, OD_E_INTERNAL, "%s: schema validation failed internally", name);
		goto out;
	}
	if (s.count > MAX_SCHEMA_DIAGS &&
	    ovf_diags_add(out, severity, "schema", 0, "... and %d more schema errors", s.count - MAX_SCHEMA_DIAGS) < 0) {
		od_err_nomem(e);
		goto out;
	}
	/* r > 0 with no error reported would be odd; count it as invalid. */
	rc = (r == 0 && s.count == 0) ? 1 : 0;
	if (r > 0 && s.count == 0 && ovf_diags_add(out, severity, "schema", 0, "the descriptor is not valid") < 0) {
		od_err_nomem(e);
		rc = -1;
	}
out:
	xmlSetExternalEntityLoader(default_loader);
	xmlSetStructuredErrorFunc(old_sctx, old_serr);
	xmlSetGenericErrorFunc(old_gctx, old_gerr);
	xmlSchemaFree(schema);
	xmlSchemaFreeParserCtxt(pctx);
	xmlFreeDoc(doc);
	free(path);
	return rc;
}
