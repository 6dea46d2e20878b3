/* test_env.c - the OVF environment document and its ISO9660 transport. */
#include "config.h"
#include "ovf/ovf.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include "../check_run.h"
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct ovf_env_property props[] = {
	{"appliance.greeting", "Hello <world> & \"friends\" 'x'"},
	{"appliance.http_port", "8080"},
	{"appliance.empty", ""},
};
static const struct ovf_env_property child_props[] = {{"db.port", "5432"}};
static const struct ovf_env_entity entities[] = {{"db", child_props, 1}};

static struct ovf_env_doc sample_doc(void)
{
	struct ovf_env_doc d = {
		.id = "tiny", .platform_kind = "ovfdeploy", .platform_version = "0.1.0",
		.platform_vendor = "ovfdeploy", .locale = "en_US",
		.props = props, .nprops = 3, .entities = entities, .nentities = 1,
	};
	return d;
}

/* Find oe:value of the Property with oe:key=key anywhere under node. */
static char *find_value(xmlNodePtr n, const char *key)
{
	for (; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, "Property")) {
			xmlChar *k = xmlGetNsProp(n, BAD_CAST "key", BAD_CAST "http://schemas.dmtf.org/ovf/environment/1");
			bool match = k && !strcmp((char *)k, key);
			xmlFree(k);
			if (match)
				return (char *)xmlGetNsProp(n, BAD_CAST "value", BAD_CAST "http://schemas.dmtf.org/ovf/environment/1");
		}
		char *v = find_value(n->children, key);
		if (v)
			return v;
	}
	return NULL;
}

START_TEST(test_build_roundtrip)
{
	struct ovf_env_doc d = sample_doc();
	od_buf b = {0};
	od_err e;
	ck_assert_int_eq(ovf_env_build(&d, &b, &e), 0);
	xmlDocPtr doc = xmlReadMemory(b.data, (int)b.len, "env.xml", NULL, XML_PARSE_NONET);
	ck_assert_ptr_nonnull(doc);
	xmlNodePtr root = xmlDocGetRootElement(doc);
	ck_assert_str_eq((const char *)root->name, "Environment");
	char *v = find_value(root, "appliance.greeting");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "Hello <world> & \"friends\" 'x'");
	xmlFree(v);
	v = find_value(root, "db.port");
	ck_assert_str_eq(v, "5432");
	xmlFree(v);
	v = find_value(root, "appliance.empty");
	ck_assert_str_eq(v, "");
	xmlFree(v);
	ck_assert_ptr_nonnull(strstr(b.data, "<Kind>ovfdeploy</Kind>"));
	xmlFreeDoc(doc);
	od_buf_free(&b);
}
END_TEST

START_TEST(test_refuses_control_chars)
{
	struct ovf_env_property bad[] = {{"k", "line\001"}};
	struct ovf_env_doc d = {.id = "x", .props = bad, .nprops = 1};
	od_buf b = {0};
	od_err e;
	ck_assert_int_eq(ovf_env_build(&d, &b, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "control character"));
	struct ovf_env_property bad_utf8[] = {{"k", "\xff\xfe"}};
	d.props = bad_utf8;
	ck_assert_int_eq(ovf_env_build(&d, &b, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "UTF-8"));
	d.id = NULL;
	ck_assert_int_eq(ovf_env_build(&d, &b, &e), -1);
	od_buf_free(&b);
}
END_TEST

static int validate_with(const char *xsd, const char *buf, size_t len)
{
	if (access(xsd, R_OK) != 0)
		return -2; /* schema not available */
	xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(xsd);
	xmlSchemaPtr s = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	ck_assert_ptr_nonnull(s);
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(s);
	xmlDocPtr doc = xmlReadMemory(buf, (int)len, "env.xml", NULL, XML_PARSE_NONET);
	int rc = xmlSchemaValidateDoc(vc, doc);
	xmlFreeDoc(doc);
	xmlSchemaFreeValidCtxt(vc);
	xmlSchemaFree(s);
	return rc;
}

START_TEST(test_schema_valid)
{
	struct ovf_env_doc d = sample_doc();
	od_buf b = {0};
	od_err e;
	ck_assert_int_eq(ovf_env_build(&d, &b, &e), 0);
	const char *top = getenv("top_srcdir");
	char path[4096];
	int checked = 0;
	snprintf(path, sizeof path, "%s/../shared/reference/dmtf-ovf-1.0/ovf-environment.xsd", top ? top : ".");
	int rc = validate_with(path, b.data, b.len);
	if (rc != -2) {
		ck_assert_int_eq(rc, 0);
		checked++;
	}
	snprintf(path, sizeof path, "%s/schemas/ovf-environment-1.xsd", top ? top : ".");
	rc = validate_with(path, b.data, b.len);
	if (rc != -2) {
		ck_assert_int_eq(rc, 0);
		checked++;
	}
	if (!checked)
		fprintf(stderr, "note: no environment schema found; schema validation not exercised\n");
	od_buf_free(&b);
}
END_TEST

START_TEST(test_iso)
{
	char dir[] = "/tmp/od-env-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/env.iso", dir);
	const char *xml = "<?xml version=\"1.0\"?><Environment/>\n";
	od_err e;
	int rc = ovf_env_write_iso(path, xml, strlen(xml), &e);
	ck_assert_msg(rc == 0, "write_iso: %s", e.msg);

	/* The primary volume descriptor (sector 16) carries the label. */
	FILE *f = fopen(path, "rb");
	unsigned char pvd[2048];
	ck_assert_int_eq(fseek(f, 16 * 2048, SEEK_SET), 0);
	ck_assert_uint_eq(fread(pvd, 1, sizeof pvd, f), sizeof pvd);
	fclose(f);
	ck_assert_int_eq(pvd[0], 1);
	ck_assert(memcmp(pvd + 1, "CD001", 5) == 0);
	ck_assert(memcmp(pvd + 40, "OVF_ENV ", 8) == 0);

	/* Read it back as any guest would. */
	struct archive *a = archive_read_new();
	archive_read_support_format_iso9660(a);
	ck_assert_int_eq(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
	struct archive_entry *ent;
	bool found = false;
	while (archive_read_next_header(a, &ent) == ARCHIVE_OK) {
		if (!strcmp(archive_entry_pathname(ent), "ovf-env.xml")) {
			char buf[256] = {0};
			la_ssize_t n = archive_read_data(a, buf, sizeof buf - 1);
			ck_assert_int_eq(n, (la_ssize_t)strlen(xml));
			ck_assert_str_eq(buf, xml);
			found = true;
		}
	}
	archive_read_free(a);
	ck_assert(found);

	/* No temporary files are left beside it. */
	char cmd[300];
	snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
	ck_assert_int_eq(system(cmd), 0);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_iso_bad_dir)
{
	od_err e;
	ck_assert_int_eq(ovf_env_write_iso("/nonexistent-dir/env.iso", "x", 1, &e), -1);
	ck_assert_int_eq(e.code, OD_E_IO);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("env");
	TCase *tc = od_check_tcase(s, "core");
	tcase_add_test(tc, test_build_roundtrip);
	tcase_add_test(tc, test_refuses_control_chars);
	tcase_add_test(tc, test_schema_valid);
	tcase_add_test(tc, test_iso);
	tcase_add_test(tc, test_iso_bad_dir);
	return od_check_run(s);
}
