/* test_units.c - DSP0004 programmatic units, real-world spellings, exact
 * 64-bit arithmetic and integer parsing. */
#include "config.h"
#include "ovf/ovf.h"

#include <check.h>
#include "../check_run.h"
#include <string.h>

static uint64_t mult_of(const char *s, enum ovf_unit_base want, bool want_odd)
{
	enum ovf_unit_base b;
	uint64_t m = 0;
	bool odd = !want_odd;
	od_err e = {0};
	if (ovf_units_parse(s, &b, &m, &odd, &e) < 0)
		ck_abort_msg("'%s' refused: %s", s, e.msg);
	ck_assert_int_eq(b, want);
	if (odd != want_odd)
		ck_abort_msg("'%s': nonstandard=%d, expected %d", s, odd, want_odd);
	return m;
}

START_TEST(test_standard)
{
	ck_assert_uint_eq(mult_of("byte", OVF_UNIT_BYTE, false), 1);
	ck_assert_uint_eq(mult_of("byte * 2^30", OVF_UNIT_BYTE, false), 1ull << 30);
	ck_assert_uint_eq(mult_of("byte*2^20", OVF_UNIT_BYTE, false), 1ull << 20);
	ck_assert_uint_eq(mult_of("byte * 1024", OVF_UNIT_BYTE, false), 1024);
	ck_assert_uint_eq(mult_of("byte * 2^10 * 1024", OVF_UNIT_BYTE, false), 1ull << 20);
	ck_assert_uint_eq(mult_of("hertz * 10^6", OVF_UNIT_HERTZ, false), 1000000);
	ck_assert_uint_eq(mult_of("hertz*10^9", OVF_UNIT_HERTZ, false), 1000000000);
	ck_assert_uint_eq(mult_of("bit * 2^3", OVF_UNIT_BIT, false), 8);
	ck_assert_uint_eq(mult_of("byte * 2^63", OVF_UNIT_BYTE, false), 1ull << 63);
	ck_assert_uint_eq(mult_of("byte * 10^19", OVF_UNIT_BYTE, false), 10000000000000000000ull);
}
END_TEST

START_TEST(test_variants)
{
	ck_assert_uint_eq(mult_of("MegaBytes", OVF_UNIT_BYTE, true), 1ull << 20);
	ck_assert_uint_eq(mult_of("MB", OVF_UNIT_BYTE, true), 1ull << 20);
	ck_assert_uint_eq(mult_of("GB", OVF_UNIT_BYTE, true), 1ull << 30);
	ck_assert_uint_eq(mult_of("KiloBytes", OVF_UNIT_BYTE, true), 1024);
	ck_assert_uint_eq(mult_of("byte * 2 ^ 20", OVF_UNIT_BYTE, true), 1ull << 20);
	ck_assert_uint_eq(mult_of("byte * 2^ 30", OVF_UNIT_BYTE, true), 1ull << 30);
	ck_assert_uint_eq(mult_of("Hertz*10^9", OVF_UNIT_HERTZ, true), 1000000000);
	ck_assert_uint_eq(mult_of("MHz", OVF_UNIT_HERTZ, true), 1000000);
	ck_assert_uint_eq(mult_of(" byte * 2^20", OVF_UNIT_BYTE, true), 1ull << 20);
}
END_TEST

START_TEST(test_refused)
{
	static const char *const bad[] = {
		"", "furlong", "byte * ", "byte * 2^", "byte ^ 2", "byte * 2^64", "byte * 10^20", "byte * 2^99999999999",
		"byte * 0", "byte / second", "byte * 2^30 * 2^40", "byte * 99999999999999999999", "* 2^20", "byte * -2",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		enum ovf_unit_base b;
		uint64_t m;
		od_err e = {0};
		if (ovf_units_parse(bad[i], &b, &m, NULL, &e) == 0)
			ck_abort_msg("'%s' accepted (mult %llu)", bad[i], (unsigned long long)m);
		ck_assert(e.msg[0] != 0);
	}
}
END_TEST

START_TEST(test_bytes)
{
	uint64_t v;
	od_err e = {0};
	ck_assert_int_eq(ovf_bytes("8", "byte * 2^30", &v, &e), 0);
	ck_assert_uint_eq(v, 8ull << 30);
	ck_assert_int_eq(ovf_bytes("4294967296", NULL, &v, &e), 0);
	ck_assert_uint_eq(v, 4294967296ull);
	ck_assert_int_eq(ovf_bytes(" 512 ", "MegaBytes", &v, &e), 0);
	ck_assert_uint_eq(v, 512ull << 20);
	ck_assert_int_eq(ovf_bytes("16", "bit", &v, &e), 0);
	ck_assert_uint_eq(v, 2);
	/* 2^34 GiB = 2^64 bytes: one past the largest */
	ck_assert_int_eq(ovf_bytes("17179869184", "byte * 2^30", &v, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "2^64"));
	ck_assert_int_eq(ovf_bytes("17179869183", "byte * 2^30", &v, &e), 0);
	ck_assert_uint_eq(v, UINT64_MAX - ((1ull << 30) - 1));
	ck_assert_int_eq(ovf_bytes("-1", NULL, &v, &e), -1);
	ck_assert_int_eq(ovf_bytes("1.5", "byte * 2^30", &v, &e), -1);
	ck_assert_int_eq(ovf_bytes("1", "hertz * 10^6", &v, &e), -1);
	ck_assert_int_eq(ovf_bytes("3", "bit", &v, &e), -1);
	ck_assert_int_eq(ovf_bytes(NULL, NULL, &v, &e), -1);
}
END_TEST

START_TEST(test_integers)
{
	uint64_t u;
	int64_t s;
	ck_assert_int_eq(ovf_parse_u64("18446744073709551615", &u), 0);
	ck_assert_uint_eq(u, UINT64_MAX);
	ck_assert_int_eq(ovf_parse_u64("18446744073709551616", &u), -1);
	ck_assert_int_eq(ovf_parse_u64("12a", &u), -1);
	ck_assert_int_eq(ovf_parse_u64("", &u), -1);
	ck_assert_int_eq(ovf_parse_u64("-0", &u), -1);
	ck_assert_int_eq(ovf_parse_i64("-9223372036854775808", &s), 0);
	ck_assert(s == INT64_MIN);
	ck_assert_int_eq(ovf_parse_i64("9223372036854775808", &s), -1);
	ck_assert_int_eq(ovf_parse_i64("  42  ", &s), 0);
	ck_assert_int_eq(s, 42);
	ck_assert_int_eq(ovf_parse_i64("- 1", &s), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ovf_units");
	TCase *tc = od_check_tcase(s, "units");
	tcase_add_test(tc, test_standard);
	tcase_add_test(tc, test_variants);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_bytes);
	tcase_add_test(tc, test_integers);
	return od_check_run(s);
}
