/* check_run.h - the part every Check unit test's main() shares.
 *
 * A test file's main() names its suite and cases and lists its tests; making
 * the runner, running it and turning the failure count into an exit status
 * is the same everywhere, so it lives here. */
#ifndef OD_TESTS_CHECK_RUN_H
#define OD_TESTS_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

/* A new test case NAME, already part of suite S. */
static inline TCase *od_check_tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);
	suite_add_tcase(s, tc);
	return tc;
}

/* Run every test of S (forked, as Check does by default, unless CK_FORK=no);
 * EXIT_SUCCESS when all passed. */
static inline int od_check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
