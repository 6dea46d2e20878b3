/* env.c - the OVF environment document (DSP8027) and its ISO transport.
 *
 * The document is produced with libxml2's writer rather than printf so that
 * any property value, however hostile (quotes, angle brackets, control
 * characters), comes out as well-formed XML.  The ISO is written with
 * libarchive's ISO9660 writer; guests find it by its volume label. */
#include "config.h"
#include "ovf/ovf.h"

#include <archive.h>
#include <archive_entry.h>
#include <libxml/xmlwriter.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OE_NS "http://schemas.dmtf.org/ovf/environment/1"
#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

/* XML 1.0 cannot carry most C0 control characters even escaped; refuse
 * them instead of writing a document the guest's parser would reject. */
static int check_text(const char *what, const char *s, od_err *e)
{
	if (!s)
		return od_err_set(e, OD_E_USAGE, "OVF environment: %s is missing", what);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			return od_err_set(e, OD_E_INVALID, "OVF environment: %s contains control character 0x%02x", what, *p);
	if (!xmlCheckUTF8((const xmlChar *)s))
		return od_err_set(e, OD_E_INVALID, "OVF environment: %s is not valid UTF-8", what);
	return 0;
}

static int write_props(xmlTextWriterPtr w, const struct ovf_env_property *props, size_t n, od_err *e)
{
	if (!n)
		return 0;
	int rc = xmlTextWriterStartElement(w, BAD_CAST "PropertySection");
	for (size_t i = 0; rc >= 0 && i < n; i++) {
		if (check_text("property key", props[i].key, e) < 0 || check_text(props[i].key, props[i].value, e) < 0)
			return -1;
		rc = xmlTextWriterStartElement(w, BAD_CAST "Property");
		if (rc >= 0)
			rc = xmlTextWriterWriteAttribute(w, BAD_CAST "oe:key", BAD_CAST props[i].key);
		if (rc >= 0)
			rc = xmlTextWriterWriteAttribute(w, BAD_CAST "oe:value", BAD_CAST props[i].value);
		if (rc >= 0)
			rc = xmlTextWriterEndElement(w);
	}
	if (rc >= 0)
		rc = xmlTextWriterEndElement(w);
	return rc < 0 ? od_err_set(e, OD_E_INTERNAL, "OVF environment: XML writer failed") : 0;
}

static int opt_elem(xmlTextWriterPtr w, const char *name, const char *val, od_err *e)
{
	if (!val)
		return 0;
	if (check_text(name, val, e) < 0)
		return -1;
	if (xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST val) < 0)
		return od_err_set(e, OD_E_INTERNAL, "OVF environment: XML writer failed");
	return 0;
}

int ovf_env_build(const struct ovf_env_doc *doc, od_buf *out, od_err *e)
{
	if (check_text("id", doc->id, e) < 0)
		return -1;
	xmlBufferPtr xb = xmlBufferCreate();
	xmlTextWriterPtr w = xb ? xmlNewTextWriterMemory(xb, 0) : NULL;
	if (!w) {
		if (xb)
			xmlBufferFree(xb);
		return od_err_nomem(e);
	}
	xmlTextWriterSetIndent(w, 1);
	xmlTextWriterSetIndentString(w, BAD_CAST "  ");
	int rc = xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL);
	if (rc >= 0)
		rc = xmlTextWriterStartElement(w, BAD_CAST "Environment");
	if (rc >= 0)
		rc = xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns", BAD_CAST OE_NS);
	if (rc >= 0)
		rc = xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns:oe", BAD_CAST OE_NS);
	if (rc >= 0)
		rc = xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns:xsi", BAD_CAST XSI_NS);
	if (rc >= 0)
		rc = xmlTextWriterWriteAttribute(w, BAD_CAST "oe:id", BAD_CAST doc->id);
	if (rc < 0)
		goto writer_failed;
	if (doc->platform_kind || doc->platform_version || doc->platform_vendor || doc->locale) {
		if (xmlTextWriterStartElement(w, BAD_CAST "PlatformSection") < 0)
			goto writer_failed;
		if (opt_elem(w, "Kind", doc->platform_kind, e) < 0 || opt_elem(w, "Version", doc->platform_version, e) < 0 ||
		    opt_elem(w, "Vendor", doc->platform_vendor, e) < 0 || opt_elem(w, "Locale", doc->locale, e) < 0)
			goto failed;
		if (xmlTextWriterEndElement(w) < 0)
			goto writer_failed;
	}
	if (write_props(w, doc->props, doc->nprops, e) < 0)
		goto failed;
	for (size_t i = 0; i < doc->nentities; i++) {
		const struct ovf_env_entity *en = &doc->entities[i];
		if (check_text("entity id", en->id, e) < 0)
			goto failed;
		if (xmlTextWriterStartElement(w, BAD_CAST "Entity") < 0 ||
		    xmlTextWriterWriteAttribute(w, BAD_CAST "oe:id", BAD_CAST en->id) < 0)
			goto writer_failed;
		if (write_props(w, en->props, en->nprops, e) < 0)
			goto failed;
		if (xmlTextWriterEndElement(w) < 0)
			goto writer_failed;
	}
	if (xmlTextWriterEndDocument(w) < 0)
		goto writer_failed;
	xmlFreeTextWriter(w);
	w = NULL;
	rc = od_buf_append(out, xmlBufferContent(xb), (size_t)xmlBufferLength(xb));
	xmlBufferFree(xb);
	return rc < 0 ? od_err_nomem(e) : 0;

writer_failed:
	od_err_set(e, OD_E_INTERNAL, "OVF environment: XML writer failed");
failed:
	if (w)
		xmlFreeTextWriter(w);
	xmlBufferFree(xb);
	return -1;
}

int ovf_env_write_iso(const char *path, const char *xml, size_t len, od_err *e)
{
	od_atomic_file af;
	if (od_atomic_open(&af, path, 0644, e) < 0)
		return -1;
	struct archive *a = archive_write_new();
	struct archive_entry *ent = archive_entry_new();
	if (!a || !ent) {
		od_err_nomem(e);
		goto fail;
	}
	/* Guest tools (open-vm-tools, cloud-init's OVF datasource) look for a CD
	 * carrying ovf-env.xml.  vSphere labels it "OVF ENV"; ISO9660 volume ids
	 * allow no space (libarchive would turn it into '_'), so we say so
	 * ourselves.  Rock Ridge and Joliet keep the lower-case file name. */
	if (archive_write_set_format_iso9660(a) != ARCHIVE_OK ||
	    archive_write_set_format_option(a, "iso9660", "volume-id", "OVF_ENV") != ARCHIVE_OK ||
	    archive_write_set_format_option(a, "iso9660", "rockridge", "useful") != ARCHIVE_OK ||
	    archive_write_set_format_option(a, "iso9660", "joliet", "1") != ARCHIVE_OK) {
		od_err_set(e, OD_E_INTERNAL, "%s: ISO9660 writer: %s", path, archive_error_string(a));
		goto fail;
	}
	if (archive_write_open_fd(a, af.fd) != ARCHIVE_OK) {
		od_err_set(e, OD_E_IO, "%s: %s", path, archive_error_string(a));
		goto fail;
	}
	archive_entry_set_pathname(ent, "ovf-env.xml");
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, 0444);
	archive_entry_set_size(ent, (la_int64_t)len);
	/* A fixed time keeps the image reproducible for identical inputs. */
	archive_entry_set_mtime(ent, 0, 0);
	/* libarchive's ISO9660 writer keeps the image in a temporary file made
	 * (and unlinked at once) in $TMPDIR, with no option to put it
	 * elsewhere: point TMPDIR at the output's own directory while it
	 * writes, so that a read-only or full /tmp does not stop a deploy.
	 * (The process is single-threaded here: nothing else reads the
	 * environment meanwhile.) */
	const char *was = getenv("TMPDIR");
	char *dir = od_strdup(path), *old = was ? od_strdup(was) : NULL;
	if (!dir || (was && !old)) {
		free(dir);
		free(old);
		od_err_nomem(e);
		goto fail;
	}
	char *slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = 0;
	else
		*slash = 0;
	setenv("TMPDIR", dir, 1);
	bool ok = archive_write_header(a, ent) == ARCHIVE_OK && archive_write_data(a, xml, len) == (la_ssize_t)len &&
		  archive_write_close(a) == ARCHIVE_OK;
	if (old)
		setenv("TMPDIR", old, 1);
	else
		unsetenv("TMPDIR");
	if (!ok)
		od_err_set(e, OD_E_IO, "%s: writing ISO9660 image: %s (its temporary file goes in %s)", path,
			   archive_error_string(a), dir);
	free(dir);
	free(old);
	if (!ok)
		goto fail;
	archive_entry_free(ent);
	archive_write_free(a);
	return od_atomic_commit(&af, e);
fail:
	if (ent)
		archive_entry_free(ent);
	if (a)
		archive_write_free(a);
	od_atomic_abort(&af);
	return -1;
}
