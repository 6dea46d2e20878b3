/* home_fixture.h - the instance store of the deploy unit tests
 * (test_instance.c, test_hwplan.c): a Check fixture that points
 * OVFDEPLOY_HOME at a fresh directory under /tmp for each test (`home`)
 * and removes it after, and write_conf() to put an instance.conf there
 * by hand.  Static functions for a test that includes <check.h>. */
#ifndef OD_TESTS_DEPLOY_HOME_FIXTURE_H
#define OD_TESTS_DEPLOY_HOME_FIXTURE_H
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char home[64];

static void home_setup(void)
{
	strcpy(home, "/tmp/od-home-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(home));
	setenv("OVFDEPLOY_HOME", home, 1);
}

static void home_teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	ck_assert_int_eq(system(cmd), 0);
}

/* instances/NAME/instance.conf under `home` holds `text`. */
static void write_conf(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof path, "%s/instances/%s", home, name);
	mkdir(path, 0700);
	strcat(path, "/instance.conf");
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

#endif
