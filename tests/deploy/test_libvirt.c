/* test_libvirt.c - the life cycle half of src/deploy/libvirt.c against
 * libvirt's built-in test driver (test:///default, in process: no daemon,
 * so it also runs in the sanitizer build).  Domains carrying our metadata
 * are ours and listed; others are refused; rm deletes an instance's volumes
 * and a shared base only with its last user.  Uploads need a real daemon:
 * the scripts in tests/libvirt. */
#include "config.h"
#include "deploy/deploy.h"
#include "hwplan_fixture.h"

#include <check.h>
#include "../check_run.h"
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	ck_assert_int_eq(lv_pause(lc, "a", true, &e), -1); /* not running */
	ck_assert_int_eq(e.code, OD_E_USAGE);
	ck_assert_int_eq(lv_start(lc, "a", &e), 0);
	ck_assert_int_eq(lv_start(lc, "a", &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "running already"));
	/* pause and resume (issue 19), with the local backends' errors */
	ck_assert_int_eq(lv_pause(lc, "a", false, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "not paused"));
	ck_assert_int_eq(lv_pause(lc, "a", true, &e), 0);
	virDomainPtr pd = virDomainLookupByName(c, "a");
	int pst = 0, preason = 0;
	ck_assert(pd && virDomainGetState(pd, &pst, &preason, 0) == 0 && pst == VIR_DOMAIN_PAUSED);
	ck_assert_int_eq(lv_pause(lc, "a", true, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "paused already"));
	ck_assert_int_eq(lv_pause(lc, "a", false, &e), 0);
	ck_assert(virDomainGetState(pd, &pst, &preason, 0) == 0 && pst == VIR_DOMAIN_RUNNING);
	virDomainFree(pd);
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


/* ---- the hardware plan in the domain XML ---------------------------------------- */

/* As VMware exports them: PVSCSI boot disk, IDE CD-ROM, VMXNET3. */
#define VMWARE_ITEMS                                                                                           \
	CTRL("1", "6", "VirtualSCSI", "0") CTRL("2", "5", "", "1") CDROM("3", "2", "0") DISK("4", "d1", "1", "0")  \
	DISK("5", "d2", "1", "1") NIC("6", "VmxNet3")

/* The domain lv_deploy would define for `items` (type T), and the
 * warnings; the caller frees both. */
static char *domain_for(const char *items, enum hw_mode mode, const char *type, struct ovf_warnings *w)
{
	struct fixture f;
	od_err e = {0};
	if (plan(&f, items, mode, &e) < 0)
		ck_abort_msg("plan: %s", e.msg);
	const struct hwplan *hp = &f.p;
	memset(w, 0, sizeof *w);
	lv_hw_warnings(&f.hw, hp, w);
	char *vols[] = {"x-disk0.qcow2", "x-disk1.qcow2", "x-disk2.qcow2"};
	size_t nv = 0;
	for (size_t k = 0; k < hp->ndisks; k++)
		nv += !hp->disks[k].cdrom;
	od_buf x = {0};
	ck_assert_int_eq(od_buf_printf(&x, "<domain type='%s'><name>x</name><memory unit='MiB'>64</memory>"
					   "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>", type), 0);
	if (lv_devices_xml(hp, POOL, vols, nv, "x-env.iso", NULL, NULL, NULL, &x, &e) < 0)
		ck_abort_msg("devices: %s", e.msg);
	ck_assert_int_eq(od_buf_puts(&x, "</devices></domain>"), 0);
	ck_assert_int_eq(od_buf_append(&x, "", 1), 0);
	unplan(&f);
	return x.data;
}

/* libvirt's schema, when virt-xml-validate is installed. */
static void schema_ok(const char *xml)
{
	if (system("command -v virt-xml-validate >/dev/null 2>&1") != 0)
		return;
	char path[] = "/tmp/od-lvxml-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, xml, strlen(xml)), (ssize_t)strlen(xml));
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "virt-xml-validate %s domain >/dev/null 2>&1", path);
	int rc = system(cmd);
	unlink(path);
	if (rc != 0)
		ck_abort_msg("virt-xml-validate refuses: %s", xml);
}

/* Defined in the test driver (libvirt's own parsing and address checks),
 * and as the driver gives it back. */
static char *defined(virConnectPtr c, const char *xml)
{
	virDomainPtr d = virDomainDefineXML(c, xml);
	if (!d)
		ck_abort_msg("test driver refuses: %s\n%s", virGetLastErrorMessage(), xml);
	char *back = virDomainGetXMLDesc(d, 0);
	ck_assert_ptr_nonnull(back);
	virDomainUndefine(d);
	virDomainFree(d);
	return back;
}

static bool has(const char *xml, const char *s)
{
	return strstr(xml, s) != NULL;
}

START_TEST(test_xml_vmware)
{
	virConnectPtr c = side();
	struct ovf_warnings w;
	char *q = domain_for(VMWARE_ITEMS, HW_DESCRIBED, "qemu", &w);
	ck_assert_uint_eq(w.n, 0); /* all exact */
	ovf_warnings_free(&w);
	schema_ok(q);
	ck_assert(has(q, "<controller type='scsi' index='0' model='vmpvscsi'/>"));
	/* the boot disk first, on target 0 of the PVSCSI; the second on target 1 */
	ck_assert(has(q, "volume='x-disk0.qcow2'/><target dev='sda' bus='scsi'/><address type='drive' controller='0' "
			 "bus='0' target='0' unit='0'/><boot order='1'/>"));
	ck_assert(has(q, "volume='x-disk1.qcow2'/><target dev='sdb' bus='scsi'/><address type='drive' controller='0' "
			 "bus='0' target='1' unit='0'/><boot order='2'/>"));
	/* the environment CD in the descriptor's IDE drive: secondary master */
	ck_assert(has(q, "volume='x-env.iso'/><target dev='hdc' bus='ide'/><address type='drive' controller='0' bus='1' "
			 "target='0' unit='0'/><boot order='3'/><readonly/>"));
	ck_assert(has(q, "<model type='vmxnet3'/>"));
	ck_assert(has(q, "<memballoon model='none'/>")); /* else libvirt adds a virtio balloon */
	ck_assert(!has(q, "virtio"));
	free(q);
	char *t = domain_for(VMWARE_ITEMS, HW_DESCRIBED, "test", &w);
	ovf_warnings_free(&w);
	char *back = defined(c, t);
	ck_assert(has(back, "model='vmpvscsi'"));
	ck_assert(has(back, "<model type='vmxnet3'/>"));
	ck_assert(has(back, "bus='ide'"));
	free(back);
	free(t);
	virConnectClose(c);
}
END_TEST

START_TEST(test_xml_virtio)
{
	virConnectPtr c = side();
	struct ovf_warnings w;
	char *q = domain_for(VMWARE_ITEMS, HW_VIRTIO, "qemu", &w);
	ovf_warnings_free(&w);
	schema_ok(q);
	ck_assert(!has(q, "<controller"));
	ck_assert(has(q, "volume='x-disk0.qcow2'/><target dev='vda' bus='virtio'/><boot order='1'/>"));
	ck_assert(has(q, "volume='x-disk1.qcow2'/><target dev='vdb' bus='virtio'/><boot order='2'/>"));
	ck_assert(has(q, "<target dev='hdc' bus='ide'/>"));
	ck_assert(has(q, "<model type='virtio'/>"));
	ck_assert(!has(q, "vmxnet3") && !has(q, "scsi"));
	char *t = domain_for(VMWARE_ITEMS, HW_VIRTIO, "test", &w);
	ovf_warnings_free(&w);
	char *back = defined(c, t);
	ck_assert(has(back, "bus='virtio'"));
	free(back);
	free(t);
	free(q);
	virConnectClose(c);
}
END_TEST

/* Every other model: lsilogic, lsilogicsas and NVMe substituted (warned,
 * with the driver), buslogic as libvirt's 'lsilogic' (SCSI id in unit),
 * SATA with the CD, E1000, E1000e, PCNet32, VmxNet2 (warned). */
START_TEST(test_xml_others)
{
	virConnectPtr c = side();
	struct ovf_warnings w;
	const char *items = CTRL("1", "20", "vmware.nvme.controller", "0") CTRL("2", "6", "buslogic", "0")
		CTRL("3", "20", "vmware.sata.ahci", "0") CTRL("4", "6", "lsilogic", "1")
		DISK("5", "d1", "1", "0") DISK("6", "d2", "2", "3") DISK("7", "d3", "4", "2") CDROM("8", "3", "1")
		NIC("9", "E1000") NIC("10", "E1000e") NIC("11", "PCNet32") NIC("12", "VmxNet2");
	char *q = domain_for(items, HW_DESCRIBED, "qemu", &w);
	schema_ok(q);
	size_t nvme = 0, lsi = 0, vmx2 = 0;
	for (size_t i = 0; i < w.n; i++) {
		nvme += has(w.v[i], "NVMe") && has(w.v[i], "vmw_pvscsi");
		lsi += has(w.v[i], "53C1030") && has(w.v[i], "vmw_pvscsi");
		vmx2 += has(w.v[i], "vmxnet2") && has(w.v[i], "'e1000'");
	}
	ck_assert_uint_eq(nvme, 1);
	ck_assert_uint_eq(lsi, 1);
	ck_assert_uint_eq(vmx2, 1);
	ovf_warnings_free(&w);
	ck_assert(has(q, "<controller type='scsi' index='0' model='vmpvscsi'/>"));  /* for the NVMe */
	ck_assert(has(q, "<controller type='scsi' index='1' model='lsilogic'/>"));  /* for the BusLogic */
	ck_assert(has(q, "<controller type='sata' index='0'/>"));
	ck_assert(has(q, "<controller type='scsi' index='2' model='vmpvscsi'/>"));  /* for the 53C1030 */
	ck_assert(has(q, "volume='x-disk1.qcow2'/><target dev='sdb' bus='scsi'/><address type='drive' controller='1' "
			 "bus='0' target='0' unit='3'/>"));
	ck_assert(has(q, "volume='x-disk2.qcow2'/><target dev='sdc' bus='scsi'/><address type='drive' controller='2' "
			 "bus='0' target='2' unit='0'/>"));
	ck_assert(has(q, "volume='x-env.iso'/><target dev='sdd' bus='sata'/><address type='drive' controller='0' "
			 "bus='0' target='0' unit='1'/>"));
	ck_assert(has(q, "<model type='e1000'/>") && has(q, "<model type='e1000e'/>") && has(q, "<model type='pcnet'/>"));
	char *t = domain_for(items, HW_DESCRIBED, "test", &w);
	ovf_warnings_free(&w);
	free(defined(c, t));
	free(t);
	free(q);
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
	TCase *tx = od_check_tcase(s, "domain XML");
	tcase_add_test(tx, test_xml_vmware);
	tcase_add_test(tx, test_xml_virtio);
	tcase_add_test(tx, test_xml_others);
	return od_check_run(s);
}
