/* test_instance.c - the instance store: names, save/load round trip,
 * hostile instance.conf contents, listing and removal. */
#include "config.h"
#include "deploy/deploy.h"
#include "home_fixture.h"

#include <check.h>
#include "../check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

START_TEST(test_names)
{
	od_err e;
	ck_assert_int_eq(instance_name_check("tiny-1.0_a", &e), 0);
	ck_assert_int_eq(instance_name_check("", &e), -1);
	ck_assert_int_eq(instance_name_check("../etc", &e), -1);
	ck_assert_int_eq(instance_name_check("a/b", &e), -1);
	ck_assert_int_eq(instance_name_check(".hidden", &e), -1);
	ck_assert_int_eq(instance_name_check("-rf", &e), -1);
	ck_assert_int_eq(instance_name_check("sp ace", &e), -1);
	char longname[100];
	memset(longname, 'a', sizeof longname - 1);
	longname[99] = 0;
	ck_assert_int_eq(instance_name_check(longname, &e), -1);
}
END_TEST

START_TEST(test_roundtrip)
{
	od_err e;
	struct instance in = {0};
	in.name = strdup("tiny");
	in.package = strdup("/srv/tiny.ova");
	in.deployment_option = strdup("large");
	in.backend = DEPLOY_BACKEND_QEMU;
	ck_assert_int_eq(instance_create(&in, &e), 0);
	in.spec.cpus = 2;
	in.spec.memory = 512ull << 20;
	in.spec.disks[0].path = od_asprintf("%s/disk0.qcow2", in.dir);
	in.spec.disks[0].format = strdup("qcow2");
	in.spec.ndisks = 1;
	in.spec.cdrom = od_asprintf("%s/env.iso", in.dir);
	in.spec.nics[0].network = strdup("lan");
	in.spec.nics[0].user = true;
	in.spec.nics[0].forwards[0] = (struct vmspec_forward){8080, 80};
	in.spec.nics[0].nforwards = 1;
	in.spec.nnics = 1;
	in.nprops = 2;
	in.prop_keys = calloc(2, sizeof(char *));
	in.prop_values = calloc(2, sizeof(char *));
	in.prop_keys[0] = strdup("appliance.greeting");
	in.prop_values[0] = strdup("two\nlines\\ and\nname=evil");
	in.prop_keys[1] = strdup("appliance.http_port");
	in.prop_values[1] = strdup("80");
	ck_assert_int_eq(instance_save(&in, &e), 0);

	/* a second instance of the same name is refused */
	struct instance dup = {.name = strdup("tiny")};
	ck_assert_int_eq(instance_create(&dup, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "exists already"));
	instance_free(&dup);

	struct instance back;
	int rc = instance_load("tiny", &back, &e);
	ck_assert_msg(rc == 0, "%s", e.msg);
	ck_assert_str_eq(back.name, "tiny");
	ck_assert_str_eq(back.package, "/srv/tiny.ova");
	ck_assert_str_eq(back.deployment_option, "large");
	ck_assert_int_eq(back.backend, DEPLOY_BACKEND_QEMU);
	ck_assert_uint_eq(back.spec.cpus, 2);
	ck_assert_uint_eq(back.spec.memory, 512ull << 20);
	ck_assert_uint_eq(back.spec.ndisks, 1);
	ck_assert_str_eq(back.spec.disks[0].path, in.spec.disks[0].path);
	ck_assert_str_eq(back.spec.disks[0].format, "qcow2");
	ck_assert_uint_eq(back.spec.nnics, 1);
	ck_assert(back.spec.nics[0].user);
	ck_assert_uint_eq(back.spec.nics[0].nforwards, 1);
	ck_assert_uint_eq(back.spec.nics[0].forwards[0].host_port, 8080);
	ck_assert_uint_eq(back.nprops, 2);
	ck_assert_str_eq(back.prop_values[0], "two\nlines\\ and\nname=evil");
	ck_assert_ptr_nonnull(back.spec.pidfile);
	ck_assert_ptr_nonnull(strstr(back.spec.console_log, "/tiny/console.log"));
	ck_assert_int_eq(instance_running_pid(&back), 0);
	instance_free(&back);
	instance_free(&in);

	char **names;
	size_t n;
	ck_assert_int_eq(instance_list(&names, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(names[0], "tiny");
	instance_list_free(names, n);

	ck_assert_int_eq(instance_remove("tiny", &e), 0);
	ck_assert_int_eq(instance_load("tiny", &back, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "no instance named"));
	ck_assert_int_eq(instance_remove("tiny", &e), -1);
}
END_TEST

START_TEST(test_hostile_conf)
{
	od_err e;
	struct instance in;
	char *root = instance_root(&e);
	ck_assert_ptr_nonnull(root);
	free(root);
	write_conf("a", "name=a\ncpus=999\nmemory=1\n");
	ck_assert_int_eq(instance_load("a", &in, &e), -1);
	write_conf("b", "name=b\ncpus=1\nmemory=1\ndisk.99999999999999999999.path=/x\n");
	ck_assert_int_eq(instance_load("b", &in, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "out-of-range"));
	write_conf("c", "name=c\ncpus=1\nmemory=1048576\nnic.0.forward.0=70000:80\n");
	ck_assert_int_eq(instance_load("c", &in, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "bad forward"));
	write_conf("d", "name=other\ncpus=1\nmemory=1048576\n");
	ck_assert_int_eq(instance_load("d", &in, &e), -1);
	write_conf("f", "garbage without equals\n");
	ck_assert_int_eq(instance_load("f", &in, &e), -1);
	write_conf("g", "name=g\ncpus=1\nmemory=1048576\nproperty.5000.key=x\n");
	ck_assert_int_eq(instance_load("g", &in, &e), -1);
	write_conf("h", "name=h\ncpus=1\nmemory=1048576\nfuture_key=ignored\n");
	ck_assert_int_eq(instance_load("h", &in, &e), 0);
	instance_free(&in);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("deploy-instance");
	TCase *tc = od_check_tcase(su, "core");
	tcase_add_checked_fixture(tc, home_setup, home_teardown);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_hostile_conf);
	return od_check_run(su);
}
