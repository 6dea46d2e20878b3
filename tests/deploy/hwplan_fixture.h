/* hwplan_fixture.h - descriptors made up in the deploy unit tests
 * (test_hwplan.c, test_libvirt.c), and their hardware plans: the OVF
 * envelope around a list of Items written with CTRL, DISK, CDROM and NIC,
 * parsed; plan() takes it to a struct hwplan as a deploy would.  Static
 * functions for a test that includes <check.h>: a descriptor or hardware
 * section that does not parse aborts the test. */
#ifndef OD_TESTS_DEPLOY_HWPLAN_FIXTURE_H
#define OD_TESTS_DEPLOY_HWPLAN_FIXTURE_H
#include "deploy/deploy.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A descriptor around the Items in `items`; disks d1..d4 exist (empty,
 * 1 GiB each). */
static ovf_envelope *envelope(const char *items)
{
	char *xml = NULL;
	int n = asprintf(&xml,
			 "<?xml version=\"1.0\"?>\n"
			 "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\" xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\"\n"
			 " xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData\">\n"
			 "<References/>\n"
			 "<DiskSection><Info>d</Info>\n"
			 "<Disk ovf:diskId=\"d1\" ovf:capacity=\"1\" ovf:capacityAllocationUnits=\"byte * 2^30\"/>\n"
			 "<Disk ovf:diskId=\"d2\" ovf:capacity=\"1\" ovf:capacityAllocationUnits=\"byte * 2^30\"/>\n"
			 "<Disk ovf:diskId=\"d3\" ovf:capacity=\"1\" ovf:capacityAllocationUnits=\"byte * 2^30\"/>\n"
			 "<Disk ovf:diskId=\"d4\" ovf:capacity=\"1\" ovf:capacityAllocationUnits=\"byte * 2^30\"/>\n"
			 "</DiskSection>\n"
			 "<VirtualSystem ovf:id=\"vm\"><Info>vm</Info>\n"
			 "<VirtualHardwareSection><Info>hw</Info>\n%s\n</VirtualHardwareSection>\n"
			 "</VirtualSystem></Envelope>\n",
			 items);
	ck_assert_int_ge(n, 0);
	od_err e = {0};
	ovf_envelope *env = ovf_envelope_parse(xml, strlen(xml), "t.ovf", &e);
	if (!env)
		ck_abort_msg("parse: %s", e.msg);
	free(xml);
	return env;
}

#define CTRL(id, rt, sub, addr)                                                                              \
	"<Item><rasd:Address>" addr "</rasd:Address><rasd:ElementName>c" id "</rasd:ElementName><rasd:InstanceID>" id \
	"</rasd:InstanceID><rasd:ResourceSubType>" sub "</rasd:ResourceSubType><rasd:ResourceType>" rt            \
	"</rasd:ResourceType></Item>\n"
#define DISK(id, disk, parent, aop)                                                                            \
	"<Item><rasd:AddressOnParent>" aop "</rasd:AddressOnParent><rasd:ElementName>h" id                        \
	"</rasd:ElementName><rasd:HostResource>ovf:/disk/" disk "</rasd:HostResource><rasd:InstanceID>" id        \
	"</rasd:InstanceID><rasd:Parent>" parent "</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>\n"
#define CDROM(id, parent, aop)                                                                                 \
	"<Item><rasd:AddressOnParent>" aop "</rasd:AddressOnParent><rasd:ElementName>cd" id                       \
	"</rasd:ElementName><rasd:InstanceID>" id "</rasd:InstanceID><rasd:Parent>" parent                        \
	"</rasd:Parent><rasd:ResourceType>15</rasd:ResourceType></Item>\n"
#define NIC(id, sub)                                                                                           \
	"<Item><rasd:ElementName>n" id "</rasd:ElementName><rasd:InstanceID>" id                                  \
	"</rasd:InstanceID><rasd:ResourceSubType>" sub "</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>\n"

/* The plan of a made-up descriptor: plan() gives hwplan_make's status
 * (its error in *e), unplan() frees all three. */
struct fixture {
	ovf_envelope *env;
	struct ovf_hardware hw;
	struct hwplan p;
};

static int plan(struct fixture *f, const char *items, enum hw_mode mode, od_err *e)
{
	memset(f, 0, sizeof *f);
	f->env = envelope(items);
	od_err he = {0};
	if (ovf_hardware_get(f->env, f->env->systems[0], NULL, &f->hw, &he) < 0)
		ck_abort_msg("hardware: %s", he.msg);
	return hwplan_make(&f->hw, mode, &f->p, e);
}

static void unplan(struct fixture *f)
{
	hwplan_free(&f->p);
	ovf_hardware_free(&f->hw);
	ovf_envelope_free(f->env);
}

#endif
