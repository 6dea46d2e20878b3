/* test_rewrite.c - ovf_descriptor_rewrite (rewrite.c): the edits export
 * makes, read back through our own parser; what stays as it was; the
 * errors for edits that name nothing; OVF 0.9 and a descriptor that binds
 * the OVF namespace only as the default one. */
#include "config.h"
#include "ovf/ovf.h"

#include <check.h>
#include "../check_run.h"
#include <stdio.h>
#include <string.h>

#define NS1 "http://schemas.dmtf.org/ovf/envelope/1"
#define STREAM "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"

static const char *DOC1 =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<!-- kept comment -->\n"
	"<Envelope xmlns=\"" NS1 "\" xmlns:ovf=\"" NS1 "\" xmlns:vendor=\"urn:x-vendor\">\n"
	"  <References>\n"
	"    <File ovf:id=\"f1\" ovf:href=\"old.vmdk.gz\" ovf:size=\"10\" ovf:compression=\"gzip\" ovf:chunkSize=\"4\"/>\n"
	"  </References>\n"
	"  <DiskSection><Info>d</Info>\n"
	"    <Disk ovf:diskId=\"d1\" ovf:fileRef=\"f1\" ovf:capacity=\"1\" ovf:capacityAllocationUnits=\"byte * 2^30\""
	" ovf:populatedSize=\"5\" ovf:format=\"" STREAM "\"/>\n"
	"    <Disk ovf:diskId=\"d2\" ovf:capacity=\"8388608\" ovf:format=\"" STREAM "\"/>\n"
	"  </DiskSection>\n"
	"  <DeploymentOptionSection><Info>o</Info>\n"
	"    <Configuration ovf:id=\"small\" ovf:default=\"true\"><Label>S</Label><Description>s</Description></Configuration>\n"
	"    <Configuration ovf:id=\"large\"><Label>L</Label><Description>l</Description></Configuration>\n"
	"  </DeploymentOptionSection>\n"
	"  <VirtualSystem ovf:id=\"vm\"><Info>i</Info>\n"
	"    <ProductSection ovf:class=\"app\"><Info>p</Info>\n"
	"      <Property ovf:key=\"greeting\" ovf:type=\"string\" ovf:value=\"hi\"/>\n"
	"      <Property ovf:key=\"size\" ovf:type=\"string\" ovf:value=\"s\">\n"
	"        <Value ovf:value=\"L\" ovf:configuration=\"large\"/>\n"
	"      </Property>\n"
	"    </ProductSection>\n"
	"    <vendor:Extra ovf:required=\"false\">kept</vendor:Extra>\n"
	"  </VirtualSystem>\n"
	"</Envelope>\n";

static ovf_envelope *rewrite(const char *doc, const struct ovf_rewrite *r, od_buf *out, od_err *e)
{
	if (ovf_descriptor_rewrite(doc, strlen(doc), "t.ovf", r, out, e) < 0)
		return NULL;
	return ovf_envelope_parse(out->data, out->len, "out.ovf", e);
}

START_TEST(test_rewrite_export)
{
	const struct ovf_rewrite_file files[] = {
		{.id = "f1", .href = "vm-disk1.vmdk", .size = 12345},
		{.id = "file-d2", .add = true, .href = "vm-disk2.vmdk", .size = 678},
	};
	const struct ovf_rewrite_disk disks[] = {
		{.disk_id = "d1", .format = STREAM},
		{.disk_id = "d2", .file_ref = "file-d2", .format = STREAM, .capacity = 16777216},
	};
	const struct ovf_rewrite_prop props[] = {
		{"app.greeting", "hello <&> \"world\""},
		{"app.size", "XL"},
	};
	struct ovf_rewrite r = {.default_config = "large", .files = files, .nfiles = 2, .disks = disks, .ndisks = 2,
				.props = props, .nprops = 2};
	od_buf out = {0};
	od_err e;
	ovf_envelope *env = rewrite(DOC1, &r, &out, &e);
	ck_assert_msg(env != NULL, "%s", e.msg);
	ck_assert_uint_eq(env->nfiles, 2);
	ck_assert_str_eq(env->files[0].href, "vm-disk1.vmdk");
	ck_assert_uint_eq(env->files[0].size, 12345);
	ck_assert_ptr_null(env->files[0].compression);
	ck_assert(!env->files[0].has_chunk_size);
	ck_assert_str_eq(env->files[1].id, "file-d2");
	ck_assert_uint_eq(env->files[1].size, 678);
	const struct ovf_disk *d1 = ovf_find_disk(env, "d1"), *d2 = ovf_find_disk(env, "d2");
	ck_assert_str_eq(d1->capacity, "1"); /* unchanged: capacity 0 keeps it */
	ck_assert_str_eq(d1->capacity_units, "byte * 2^30");
	ck_assert_ptr_null(d1->populated_size);
	ck_assert_str_eq(d2->file_ref, "file-d2");
	ck_assert_str_eq(d2->capacity, "16777216");
	ck_assert_ptr_null(d2->capacity_units);
	ck_assert_str_eq(ovf_default_config(env)->id, "large");
	ck_assert(!ovf_find_config(env, "small")->is_default);
	const struct ovf_product *pr = &env->systems[0]->products[0];
	ck_assert_str_eq(pr->props[0].value, "hello <&> \"world\"");
	ck_assert_str_eq(pr->props[1].value, "XL");
	/* the large option's own value would win there: it is the new value too */
	ck_assert_str_eq(ovf_property_value_for(&pr->props[1], "large"), "XL");
	/* what we do not edit stays */
	ck_assert_ptr_nonnull(strstr(out.data, "<!-- kept comment -->"));
	ck_assert_ptr_nonnull(strstr(out.data, "<vendor:Extra ovf:required=\"false\">kept</vendor:Extra>"));
	ck_assert_ptr_nonnull(strstr(out.data, "<Label>L</Label>"));
	ovf_envelope_free(env);
	od_buf_free(&out);
}
END_TEST

START_TEST(test_rewrite_errors)
{
	od_buf out = {0};
	od_err e;
	const struct ovf_rewrite_file nofile = {.id = "nope", .href = "x", .size = 1};
	struct ovf_rewrite r = {.files = &nofile, .nfiles = 1};
	ck_assert_int_eq(ovf_descriptor_rewrite(DOC1, strlen(DOC1), "t.ovf", &r, &out, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "no File 'nope'"));
	const struct ovf_rewrite_file dup = {.id = "f1", .add = true, .href = "x", .size = 1};
	r = (struct ovf_rewrite){.files = &dup, .nfiles = 1};
	ck_assert_int_eq(ovf_descriptor_rewrite(DOC1, strlen(DOC1), "t.ovf", &r, &out, &e), -1);
	const struct ovf_rewrite_disk nodisk = {.disk_id = "d9"};
	r = (struct ovf_rewrite){.disks = &nodisk, .ndisks = 1};
	ck_assert_int_eq(ovf_descriptor_rewrite(DOC1, strlen(DOC1), "t.ovf", &r, &out, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "d9"));
	r = (struct ovf_rewrite){.default_config = "huge"};
	ck_assert_int_eq(ovf_descriptor_rewrite(DOC1, strlen(DOC1), "t.ovf", &r, &out, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "huge"));
	const struct ovf_rewrite_prop noprop = {"app.nope", "v"};
	r = (struct ovf_rewrite){.props = &noprop, .nprops = 1};
	ck_assert_int_eq(ovf_descriptor_rewrite(DOC1, strlen(DOC1), "t.ovf", &r, &out, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "app.nope"));
	/* hostile input is refused as the parser refuses it */
	const char *ent = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><Envelope xmlns=\"" NS1 "\"/>";
	r = (struct ovf_rewrite){0};
	ck_assert_int_eq(ovf_descriptor_rewrite(ent, strlen(ent), "t.ovf", &r, &out, &e), -1);
	const char *notovf = "<?xml version=\"1.0\"?><Envelope xmlns=\"urn:other\"/>";
	ck_assert_int_eq(ovf_descriptor_rewrite(notovf, strlen(notovf), "t.ovf", &r, &out, &e), -1);
	ck_assert_uint_eq(out.len, 0);
	od_buf_free(&out);
}
END_TEST

/* The OVF namespace only as the default one: attributes cannot use it, so
 * a prefix is declared for the new ones. */
START_TEST(test_rewrite_default_ns)
{
	const char *doc = "<?xml version=\"1.0\"?>\n<Envelope xmlns=\"" NS1 "\">\n"
			  "<References/>\n"
			  "<DiskSection><Info>d</Info><Disk diskId=\"d1\" capacity=\"1048576\"/></DiskSection>\n"
			  "<VirtualSystem id=\"vm\"><Info>i</Info></VirtualSystem>\n</Envelope>\n";
	const struct ovf_rewrite_file f = {.id = "file-d1", .add = true, .href = "d.vmdk", .size = 9};
	const struct ovf_rewrite_disk d = {.disk_id = "d1", .file_ref = "file-d1", .format = STREAM};
	struct ovf_rewrite r = {.files = &f, .nfiles = 1, .disks = &d, .ndisks = 1};
	od_buf out = {0};
	od_err e;
	ovf_envelope *env = rewrite(doc, &r, &out, &e);
	ck_assert_msg(env != NULL, "%s", e.msg);
	ck_assert_uint_eq(env->nfiles, 1);
	ck_assert_str_eq(env->files[0].href, "d.vmdk");
	ck_assert_str_eq(ovf_find_disk(env, "d1")->file_ref, "file-d1");
	ck_assert_str_eq(ovf_find_disk(env, "d1")->format, STREAM);
	ck_assert_ptr_nonnull(strstr(out.data, "xmlns:ovf=\"" NS1 "\""));
	ovf_envelope_free(env);
	od_buf_free(&out);
}
END_TEST

/* OVF 0.9: sections as <Section xsi:type=...>, defaults as ovf:defaultValue. */
START_TEST(test_rewrite_ovf09)
{
	const char *doc =
		"<?xml version=\"1.0\"?>\n"
		"<Envelope xmlns=\"http://www.vmware.com/schema/ovf/1/envelope\" "
		"xmlns:ovf=\"http://www.vmware.com/schema/ovf/1/envelope\" "
		"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
		"<References><File ovf:id=\"f1\" ovf:href=\"a.vmdk\" ovf:size=\"1\"/></References>\n"
		"<Section xsi:type=\"ovf:DiskSection_Type\"><Info>d</Info>"
		"<Disk ovf:diskId=\"d1\" ovf:fileRef=\"f1\" ovf:capacity=\"1048576\" ovf:format=\"x\"/></Section>\n"
		"<Content xsi:type=\"ovf:VirtualSystem_Type\" ovf:id=\"vm\"><Info>i</Info>"
		"<Section xsi:type=\"ovf:ProductSection_Type\"><Info>p</Info>"
		"<Property ovf:key=\"k\" ovf:type=\"string\" ovf:defaultValue=\"old\"/></Section></Content>\n"
		"</Envelope>\n";
	const struct ovf_rewrite_file f = {.id = "f1", .href = "b.vmdk", .size = 2};
	const struct ovf_rewrite_disk d = {.disk_id = "d1", .format = STREAM, .capacity = 2097152};
	const struct ovf_rewrite_prop p = {"k", "new"};
	struct ovf_rewrite r = {.files = &f, .nfiles = 1, .disks = &d, .ndisks = 1, .props = &p, .nprops = 1};
	od_buf out = {0};
	od_err e;
	ck_assert_msg(ovf_descriptor_rewrite(doc, strlen(doc), "t.ovf", &r, &out, &e) == 0, "%s", e.msg);
	ck_assert_ptr_nonnull(strstr(out.data, "ovf:defaultValue=\"new\""));
	ck_assert_ptr_null(strstr(out.data, "old"));
	ck_assert_ptr_nonnull(strstr(out.data, "ovf:capacity=\"2097152\""));
	ck_assert_ptr_nonnull(strstr(out.data, "ovf:href=\"b.vmdk\""));
	od_buf_free(&out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rewrite");
	TCase *tc = od_check_tcase(s, "core");
	tcase_add_test(tc, test_rewrite_export);
	tcase_add_test(tc, test_rewrite_errors);
	tcase_add_test(tc, test_rewrite_default_ns);
	tcase_add_test(tc, test_rewrite_ovf09);
	return od_check_run(s);
}
