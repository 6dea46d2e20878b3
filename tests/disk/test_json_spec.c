/* test_json_spec.c - the json: backing names deploy writes and the disk
 * library reads back. */
#include "config.h"
#include "disk/json_spec.h"

#include <check.h>
#include "../check_run.h"
#include <stdlib.h>
#include <string.h>

START_TEST(test_range)
{
	struct disk_json_spec s;
	od_err e;
	const char *name = "json:{\"driver\":\"vmdk\",\"file\":{\"driver\":\"raw\",\"offset\":1536,\"size\":1048576,"
			   "\"file\":{\"driver\":\"file\",\"filename\":\"/srv/a \\\"b\\\\c.ova\"}}}";
	ck_assert_int_eq(disk_json_spec_parse(name, &s, &e), 0);
	ck_assert_str_eq(s.format, "vmdk");
	ck_assert(s.has_range);
	ck_assert_uint_eq(s.offset, 1536);
	ck_assert_uint_eq(s.size, 1048576);
	ck_assert_str_eq(s.filename, "/srv/a \"b\\c.ova");
	disk_json_spec_free(&s);
}
END_TEST

START_TEST(test_plain_and_spacing)
{
	struct disk_json_spec s;
	od_err e;
	ck_assert_int_eq(disk_json_spec_parse("json:{ \"driver\" : \"qcow2\", \"file\": {\"filename\":\"/x\\u000a\", \"driver\":\"file\"} }", &s, &e), 0);
	ck_assert_str_eq(s.format, "qcow2");
	ck_assert(!s.has_range);
	ck_assert_str_eq(s.filename, "/x\n");
	disk_json_spec_free(&s);
}
END_TEST

START_TEST(test_refusals)
{
	struct disk_json_spec s;
	od_err e;
	static const char *const bad[] = {
		"json:",
		"json:{",
		"json:{}",
		"json:{\"driver\":\"vmdk\"}",
		"json:{\"driver\":\"nbd\",\"file\":{\"driver\":\"file\",\"filename\":\"/x\"}}",
		"json:{\"driver\":\"raw\",\"file\":{\"driver\":\"http\",\"filename\":\"/x\"}}",
		"json:{\"driver\":\"raw\",\"file\":{\"driver\":\"raw\",\"offset\":1,\"file\":{\"driver\":\"file\",\"filename\":\"/x\"}}}",
		"json:{\"driver\":\"raw\",\"file\":{\"driver\":\"raw\",\"offset\":18446744073709551615,\"size\":2,\"file\":{\"driver\":\"file\",\"filename\":\"/x\"}}}",
		"json:{\"driver\":\"raw\",\"file\":{\"driver\":\"raw\",\"offset\":99999999999999999999,\"size\":2,\"file\":{\"driver\":\"file\",\"filename\":\"/x\"}}}",
		"json:{\"driver\":\"raw\",\"file\":{\"driver\":\"raw\",\"offset\":-1,\"size\":2,\"file\":{\"driver\":\"file\",\"filename\":\"/x\"}}}",
		"json:{\"driver\":\"raw\",\"file\":{\"driver\":\"file\",\"filename\":\"\"}}",
		"json:{\"driver\":\"raw\",\"file\":{\"driver\":\"file\",\"filename\":\"/x\"}} trailing",
		"json:{\"driver\":\"raw\",\"evil\":1,\"file\":{\"driver\":\"file\",\"filename\":\"/x\"}}",
		"json:{\"driver\":\"raw\",\"file\":{\"driver\":\"file\",\"filename\":\"/x\\u0000y\"}}",
		"json:{\"driver\":\"raw\",\"file\":{\"file\":{\"file\":{\"file\":{\"file\":{\"file\":{}}}}}}}",
		"nojson",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = disk_json_spec_parse(bad[i], &s, &e);
		ck_assert_msg(rc == -1, "accepted: %s", bad[i]);
		ck_assert_int_eq(e.code, OD_E_INVALID);
	}
	char *huge = malloc(DISK_JSON_SPEC_MAX + 100);
	memset(huge, ' ', DISK_JSON_SPEC_MAX + 99);
	memcpy(huge, "json:", 5);
	huge[DISK_JSON_SPEC_MAX + 99] = 0;
	ck_assert_int_eq(disk_json_spec_parse(huge, &s, &e), -1);
	free(huge);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("json-spec");
	TCase *tc = od_check_tcase(su, "core");
	tcase_add_test(tc, test_range);
	tcase_add_test(tc, test_plain_and_spacing);
	tcase_add_test(tc, test_refusals);
	return od_check_run(su);
}
