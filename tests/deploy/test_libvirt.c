/* test_libvirt.c - the life cycle half of src/deploy/libvirt.c against
 * libvirt's built-in test driver (test:///default, in process: no daemon,
 * so it also runs in the sanitizer build).  Domains carrying our metadata
 * are ours and listed; others are refused; rm deletes an instance's volumes
 * and a shared base only with its last user.  Uploads need a real daemon:
 * the scripts in tests/libvirt. */
#include "config.h"
#include "deploy/deploy.h"

#include <check.h>
#include "../check_run.h"
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URI "test:///default"
#define POOL "default-pool"
#define BASE "od-base-sha256-00ff.vmdk"

static void quiet(void *d, virErrorPtr e)
{
	(void)d;
	(void)e;
}

/* test:///default is one shared state per process, and Check forks each
 * test, so every test starts from the driver's defaults. */
static virConnectPtr side(void)
{
	virSetErrorFunc(NULL, quiet);
	virConnectPtr c = virConnectOpen(URI);
	ck_assert_ptr_nonnull(c);
	return c;
}

static void vol(virConnectPtr c, const char *name)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(c, POOL);
	ck_assert_ptr_nonnull(p);
	char xml[512];
	snprintf(xml, sizeof xml, "<volume><name>%s</name><capacity>1048576</capacity></volume>", name);
	virStorageVolPtr v = virStorageVolCreateXML(p, xml, 0);
	ck_assert_ptr_nonnull(v);
	virStorageVolFree(v);
	virStoragePoolFree(p);
}

static bool has_vol(virConnectPtr c, const char *name)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(c, POOL);
	virStorageVolPtr v = virStorageVolLookupByName(p, name);
	virStoragePoolFree(p);
	if (v)
		virStorageVolFree(v);
	return v != NULL;
}

/* A domain as lv_deploy defines it, minus the disks. */
static void ours(virConnectPtr c, const char *name)
{
	char xml[2048];
	snprintf(xml, sizeof xml,
		 "<domain type='test'><name>%s</name><memory>65536</memory><metadata>"
		 "<od:instance xmlns:od='" LV_METADATA_NS "'><od:package path='/x/app.ova'/><od:pool>" POOL "</od:pool>"
		 "<od:option>small</od:option><od:base>" BASE "</od:base><od:volume>%s-disk0.qcow2</od:volume>"
		 "<od:volume>%s-env.iso</od:volume></od:instance></metadata>"
		 "<os><type>hvm</type></os></domain>", name, name, name);
	virDomainPtr d = virDomainDefineXML(c, xml);
	ck_assert_ptr_nonnull(d);
	virDomainFree(d);
	char v[128];
	snprintf(v, sizeof v, "%s-disk0.qcow2", name);
	vol(c, v);
	snprintf(v, sizeof v, "%s-env.iso", name);
	vol(c, v);
}

START_TEST(test_open_errors)
{
	od_err e;
	ck_assert_ptr_null(lv_open("", &e));
	ck_assert_int_eq(e.code, OD_E_USAGE);
	ck_assert_ptr_null(lv_open("nosuchdriver:///x", &e));
	ck_assert_ptr_nonnull(strstr(e.msg, "nosuchdriver:///x"));
}
END_TEST

START_TEST(test_list_only_ours)
{
	virConnectPtr c = side();
	od_err e;
	lv_conn *lc = lv_open(URI, &e);
	ck_assert_ptr_nonnull(lc);
	struct lv_instance *v;
	size_t n;
	ck_assert_int_eq(lv_list(lc, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 0); /* the driver's own "test" domain is not ours */
	lv_list_free(v, n);
	ck_assert_int_eq(lv_start(lc, "test", &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "not deployed by ovfdeploy"));
	ck_assert_int_eq(lv_start(lc, "nosuch", &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "no instance 'nosuch'"));
	ours(c, "b");
	ours(c, "a");
	ck_assert_int_eq(lv_list(lc, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].name, "a");
	ck_assert_str_eq(v[1].name, "b");
	ck_assert_str_eq(v[0].state, "stopped");
	ck_assert_str_eq(v[0].package, "/x/app.ova");
	ck_assert_str_eq(v[0].option, "small");
	ck_assert_str_eq(v[0].pool, POOL);
	ck_assert_uint_eq(v[0].nbases, 1);
	lv_list_free(v, n);
	lv_close(lc);
	virConnectClose(c);
}
END_TEST

START_TEST(test_life_cycle_and_rm)
{
	virConnectPtr c = side();
	od_err e;
	lv_conn *lc = lv_open(URI, &e);
	ck_assert_ptr_nonnull(lc);
	vol(c, BASE);
	vol(c, BASE ".complete");
	ours(c, "a");
	ours(c, "b");
	bool forced;
	ck_assert_int_eq(lv_stop(lc, "a", 1, &forced, &e), -1); /* not running */
	ck_assert_int_eq(lv_start(lc, "a", &e), 0);
	ck_assert_int_eq(lv_start(lc, "a", &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "running already"));
	ck_assert_int_eq(lv_remove(lc, "a", &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "stop it first"));
	ck_assert_int_eq(lv_stop(lc, "a", 1, &forced, &e), 0);
	ck_assert_int_eq(lv_remove(lc, "a", &e), 0);
	ck_assert(!has_vol(c, "a-disk0.qcow2"));
	ck_assert(!has_vol(c, "a-env.iso"));
	ck_assert(has_vol(c, BASE));          /* b still uses it */
	ck_assert(has_vol(c, BASE ".complete"));
	ck_assert_int_eq(lv_remove(lc, "b", &e), 0);
	ck_assert(!has_vol(c, BASE));         /* its last user is gone */
	ck_assert(!has_vol(c, BASE ".complete"));
	virDomainPtr d = virDomainLookupByName(c, "b");
	ck_assert_ptr_null(d);
	lv_close(lc);
	virConnectClose(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("libvirt");
	TCase *tc = od_check_tcase(s, "life cycle");
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_list_only_ours);
	tcase_add_test(tc, test_life_cycle_and_rm);
	return od_check_run(s);
}
