/* test_model.c - the descriptor model: what the parser keeps from OVF 0.9,
 * 1.x and 2.x descriptors, the look-ups deployers use (default
 * configuration, hardware per configuration, property values), and the
 * refusals of hostile input (XXE, entity bombs, oversize, bad encodings). */
#include "config.h"
#include "ovf/ovf.h"

#include <check.h>
#include "../check_run.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ovf_envelope *parse_ok(const char *doc)
{
	od_err e = {0};
	ovf_envelope *env = ovf_envelope_parse(doc, strlen(doc), "t.ovf", &e);
	if (!env)
		ck_abort_msg("parse failed: %s", e.msg);
	return env;
}

static void parse_fails(const char *doc, size_t len, const char *want)
{
	od_err e = {0};
	ovf_envelope *env = ovf_envelope_parse(doc, len, "t.ovf", &e);
	if (env) {
		ovf_envelope_free(env);
		ck_abort_msg("parse of hostile input succeeded (wanted '%s')", want);
	}
	ck_assert_int_eq(e.code, OD_E_INVALID);
	if (!strstr(e.msg, want))
		ck_abort_msg("message '%s' does not say '%s'", e.msg, want);
}

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define ENV1 "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\" xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\"" \
	" xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData\"" \
	" xmlns:vssd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData\"" \
	" xmlns:vmw=\"http://www.vmware.com/schema/ovf\">\n"

static const char full[] = HEAD ENV1
	"<References>\n"
	"  <File ovf:id=\"f1\" ovf:href=\"a.vmdk\" ovf:size=\"1000\" ovf:compression=\"gzip\" ovf:chunkSize=\"512\"/>\n"
	"  <File ovf:id=\"f2\" ovf:href=\"b.iso\"/>\n"
	"</References>\n"
	"<DiskSection><Info>d</Info>\n"
	"  <Disk ovf:diskId=\"d1\" ovf:fileRef=\"f1\" ovf:capacity=\"2\" ovf:capacityAllocationUnits=\"byte * 2^30\" ovf:format=\"fmt\" ovf:populatedSize=\"123\"/>\n"
	"  <Disk ovf:diskId=\"d2\" ovf:capacity=\"1048576\" ovf:format=\"fmt\" ovf:parentRef=\"d1\"/>\n"
	"</DiskSection>\n"
	"<NetworkSection><Info>n</Info><Network ovf:name=\"lan\"><Description>LAN</Description></Network><Network ovf:name=\"wan\"/></NetworkSection>\n"
	"<DeploymentOptionSection><Info>o</Info>\n"
	"  <Configuration ovf:id=\"small\"><Label>Small</Label><Description>s</Description></Configuration>\n"
	"  <Configuration ovf:id=\"big\" ovf:default=\"true\"><Label>Big</Label><Description>b</Description></Configuration>\n"
	"</DeploymentOptionSection>\n"
	"<VirtualSystem ovf:id=\"vm\"><Info>the vm</Info><Name>My VM</Name>\n"
	"  <AnnotationSection><Info>a</Info><Annotation>note</Annotation></AnnotationSection>\n"
	"  <ProductSection ovf:class=\"com.x\" ovf:instance=\"1\"><Info>p</Info><Product>Prod</Product><Vendor>Ven</Vendor>"
	"<Version>2.0</Version><FullVersion>2.0.1</FullVersion><ProductUrl>http://p</ProductUrl>\n"
	"    <Category>Net</Category>\n"
	"    <Property ovf:key=\"ip\" ovf:type=\"string\" ovf:userConfigurable=\"true\" ovf:qualifiers=\"MaxLen(15)\" ovf:value=\"1.2.3.4\">"
	"<Label>IP</Label><Description>addr</Description><Value ovf:value=\"5.6.7.8\" ovf:configuration=\"big\"/></Property>\n"
	"    <Category>Secrets</Category>\n"
	"    <Property ovf:key=\"pw\" ovf:type=\"string\" ovf:password=\"true\" ovf:userConfigurable=\"true\"/>\n"
	"  </ProductSection>\n"
	"  <EulaSection><Info>e</Info><License>Line one\nLine two</License></EulaSection>\n"
	"  <OperatingSystemSection ovf:id=\"101\" ovf:version=\"6\" vmw:osType=\"otherLinux64Guest\"><Info>os</Info><Description>Linux</Description></OperatingSystemSection>\n"
	"  <InstallSection ovf:initialBootStopDelay=\"300\"><Info>i</Info></InstallSection>\n"
	"  <VirtualHardwareSection ovf:transport=\"iso\"><Info>hw</Info>\n"
	"    <System><vssd:ElementName>v</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID><vssd:VirtualSystemType>vmx-10</vssd:VirtualSystemType></System>\n"
	"    <Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>\n"
	"    <Item ovf:configuration=\"big\"><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>4</rasd:VirtualQuantity></Item>\n"
	"    <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>512</rasd:VirtualQuantity></Item>\n"
	"    <Item ovf:configuration=\"big\"><rasd:AllocationUnits>GB</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>8</rasd:VirtualQuantity></Item>\n"
	"    <Item ovf:bound=\"max\"><rasd:AllocationUnits>GB</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>64</rasd:VirtualQuantity></Item>\n"
	"    <Item><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>6</rasd:ResourceType><rasd:ResourceSubType>lsilogic</rasd:ResourceSubType></Item>\n"
	"    <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:HostResource>ovf:/disk/d1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>\n"
	"    <Item ovf:configuration=\"big\"><rasd:AddressOnParent>1</rasd:AddressOnParent><rasd:HostResource>/disk/d2</rasd:HostResource><rasd:InstanceID>5</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>\n"
	"    <Item><rasd:HostResource>ovf:/file/f2</rasd:HostResource><rasd:InstanceID>6</rasd:InstanceID><rasd:ResourceType>15</rasd:ResourceType></Item>\n"
	"    <Item><rasd:Address>00:50:56:00:00:01</rasd:Address><rasd:Connection>lan</rasd:Connection><rasd:InstanceID>7</rasd:InstanceID><rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>\n"
	"    <Item><rasd:Connection>wan</rasd:Connection><rasd:InstanceId>8</rasd:InstanceId><rasd:ResourceType>10</rasd:ResourceType><vmw:Config ovf:required=\"false\" vmw:key=\"k\"/></Item>\n"
	"  </VirtualHardwareSection>\n"
	"</VirtualSystem>\n"
	"</Envelope>\n";

START_TEST(test_model_full)
{
	ovf_envelope *env = parse_ok(full);
	ck_assert_int_eq(env->version, OVF_V_1);
	ck_assert_uint_eq(env->nfiles, 2);
	ck_assert_str_eq(env->files[0].id, "f1");
	ck_assert_str_eq(env->files[0].href, "a.vmdk");
	ck_assert(env->files[0].has_size && env->files[0].size == 1000);
	ck_assert_str_eq(env->files[0].compression, "gzip");
	ck_assert(env->files[0].has_chunk_size && env->files[0].chunk_size == 512);
	ck_assert_int_eq(env->files[0].line, 4);
	ck_assert(!env->files[1].has_size);
	ck_assert_uint_eq(env->ndisks, 2);
	ck_assert_str_eq(env->disks[0].capacity_units, "byte * 2^30");
	ck_assert_str_eq(env->disks[0].populated_size, "123");
	ck_assert_str_eq(env->disks[1].parent_ref, "d1");
	ck_assert_ptr_null(env->disks[1].file_ref);
	ck_assert_int_eq(env->disks[1].line, 9);
	ck_assert_uint_eq(env->nnetworks, 2);
	ck_assert_str_eq(env->networks[0].description, "LAN");
	ck_assert_uint_eq(env->nconfigs, 2);
	ck_assert_str_eq(ovf_default_config(env)->id, "big");
	ck_assert_ptr_nonnull(ovf_find_config(env, "small"));
	ck_assert_ptr_null(ovf_find_config(env, "nosuch"));

	ck_assert_uint_eq(env->nsystems, 1);
	const struct ovf_virtual_system *vs = env->systems[0];
	ck_assert_ptr_eq(vs, env->content);
	ck_assert_str_eq(vs->id, "vm");
	ck_assert_str_eq(vs->name, "My VM");
	ck_assert_str_eq(vs->info, "the vm");
	ck_assert_str_eq(vs->annotation, "note");
	ck_assert_str_eq(vs->os_id, "101");
	ck_assert_str_eq(vs->os_type, "otherLinux64Guest");
	ck_assert_str_eq(vs->os_description, "Linux");
	ck_assert(vs->has_install && vs->install_delay == 300);
	ck_assert_uint_eq(vs->neulas, 1);
	ck_assert_str_eq(vs->eulas[0].license, "Line one\nLine two");
	ck_assert_uint_eq(vs->nproducts, 1);
	const struct ovf_product *pr = &vs->products[0];
	ck_assert_str_eq(pr->class_, "com.x");
	ck_assert_str_eq(pr->instance, "1");
	ck_assert_str_eq(pr->product, "Prod");
	ck_assert_str_eq(pr->vendor, "Ven");
	ck_assert_str_eq(pr->full_version, "2.0.1");
	ck_assert_str_eq(pr->product_url, "http://p");
	ck_assert_uint_eq(pr->nprops, 2);
	ck_assert_str_eq(pr->props[0].key, "ip");
	ck_assert_str_eq(pr->props[0].category, "Net");
	ck_assert_str_eq(pr->props[0].label, "IP");
	ck_assert_str_eq(pr->props[0].qualifiers, "MaxLen(15)");
	ck_assert(pr->props[0].user_configurable && !pr->props[0].password);
	ck_assert_str_eq(ovf_property_value_for(&pr->props[0], NULL), "1.2.3.4");
	ck_assert_str_eq(ovf_property_value_for(&pr->props[0], "small"), "1.2.3.4");
	ck_assert_str_eq(ovf_property_value_for(&pr->props[0], "big"), "5.6.7.8");
	ck_assert_str_eq(pr->props[1].category, "Secrets");
	ck_assert(pr->props[1].password);
	ck_assert_ptr_null(pr->props[1].value);

	ck_assert_uint_eq(vs->nhw, 1);
	const struct ovf_hw_section *hw = &vs->hw[0];
	ck_assert_str_eq(hw->transport, "iso");
	ck_assert_str_eq(hw->system_type, "vmx-10");
	ck_assert_uint_eq(hw->nitems, 11);
	ck_assert_str_eq(hw->items[10].instance_id, "8"); /* InstanceId spelled with a small d */
	ck_assert_ptr_null(hw->items[10].unknown_required); /* vmw:Config is ovf:required="false" */
	ck_assert_str_eq(hw->items[4].bound, "max");
	ck_assert_int_eq(hw->items[0].resource_type_num, 3);

	/* the sections seen, with Info */
	ck_assert_uint_eq(env->nsections, 9);
	for (size_t i = 0; i < env->nsections; i++)
		ck_assert(env->sections[i].known && env->sections[i].has_info);

	struct ovf_diags d = {0};
	od_err e = {0};
	ck_assert_int_eq(ovf_validate(env, 0, &d, &e), 0);
	ovf_diags_free(&d);
	ovf_envelope_free(env);
}
END_TEST

START_TEST(test_hardware)
{
	ovf_envelope *env = parse_ok(full);
	const struct ovf_virtual_system *vs = env->systems[0];
	struct ovf_hardware hw;
	od_err e = {0};

	/* small: the default Items only */
	ck_assert_int_eq(ovf_hardware_get(env, vs, "small", &hw, &e), 0);
	ck_assert_uint_eq(hw.cpus, 1);
	ck_assert_uint_eq(hw.memory_bytes, 512ull << 20);
	ck_assert_uint_eq(hw.ndisks, 2); /* d1 and the CD */
	ck_assert_str_eq(hw.disks[0].disk->disk_id, "d1");
	ck_assert_uint_eq(hw.disks[0].capacity_bytes, 2ull << 30);
	ck_assert_str_eq(hw.disks[0].href, "a.vmdk");
	ck_assert_str_eq(hw.disks[0].file_ref, "f1");
	ck_assert_str_eq(hw.disks[0].controller->instance_id, "3");
	ck_assert(hw.disks[1].cdrom);
	ck_assert_str_eq(hw.disks[1].href, "b.iso");
	ck_assert_uint_eq(hw.ncontrollers, 1);
	ck_assert_uint_eq(hw.nnics, 2);
	ck_assert_str_eq(hw.nics[0].network, "lan");
	ck_assert_str_eq(hw.nics[0].model, "VmxNet3");
	ck_assert_str_eq(hw.nics[0].mac, "00:50:56:00:00:01");
	ck_assert_str_eq(hw.nics[1].network, "wan");
	ovf_hardware_free(&hw);

	/* NULL = the default, "big": per-configuration Items override */
	ck_assert_int_eq(ovf_hardware_get(env, vs, NULL, &hw, &e), 0);
	ck_assert_str_eq(hw.config, "big");
	ck_assert_uint_eq(hw.cpus, 4);
	ck_assert_uint_eq(hw.memory_bytes, 8ull << 30);
	ck_assert_uint_eq(hw.ndisks, 3);
	ck_assert_str_eq(hw.disks[1].disk->disk_id, "d2");
	ck_assert_uint_eq(hw.disks[1].capacity_bytes, 1048576);
	ck_assert_ptr_null(hw.disks[1].href); /* an empty disk made at deploy time */
	ovf_hardware_free(&hw);

	ck_assert_int_eq(ovf_hardware_get(env, vs, "nosuch", &hw, &e), -1);
	ck_assert_int_eq(e.code, OD_E_USAGE);
	ovf_envelope_free(env);
}
END_TEST

/* OVF 0.9: VMware's namespace, Section/Content with xsi:type. */
START_TEST(test_ovf09)
{
	static const char doc[] = HEAD
		"<Envelope xmlns=\"http://www.vmware.com/schema/ovf/1/envelope\" xmlns:ovf=\"http://www.vmware.com/schema/ovf/1/envelope\""
		" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
		" xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData\">\n"
		"<References><File ovf:id=\"file1\" ovf:href=\"disk.vmdk\" ovf:size=\"10\"/></References>\n"
		"<Section xsi:type=\"ovf:DiskSection_Type\"><Info>d</Info><Disk ovf:diskId=\"vmdisk1\" ovf:fileRef=\"file1\" ovf:capacity=\"1073741824\" ovf:format=\"f\"/></Section>\n"
		"<Section xsi:type=\"ovf:NetworkSection_Type\"><Info>n</Info><Network ovf:name=\"VM Network\"/></Section>\n"
		"<Content ovf:id=\"old\" xsi:type=\"ovf:VirtualSystem_Type\"><Info>old vm</Info>\n"
		"<Section xsi:type=\"ovf:VirtualHardwareSection_Type\"><Info>hw</Info>\n"
		"<Item><rasd:InstanceId>1</rasd:InstanceId><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>\n"
		"<Item><rasd:AllocationUnits>MegaBytes</rasd:AllocationUnits><rasd:InstanceId>2</rasd:InstanceId><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>256</rasd:VirtualQuantity></Item>\n"
		"<Item><rasd:BusNumber>0</rasd:BusNumber><rasd:Caption>ide0</rasd:Caption><rasd:InstanceId>3</rasd:InstanceId><rasd:ResourceType>5</rasd:ResourceType></Item>\n"
		"<Item><rasd:HostResource>/disk/vmdisk1</rasd:HostResource><rasd:InstanceId>4</rasd:InstanceId><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>\n"
		"<Item><rasd:Connection>VM Network</rasd:Connection><rasd:InstanceId>5</rasd:InstanceId><rasd:ResourceType>10</rasd:ResourceType></Item>\n"
		"</Section>\n"
		"<Section xsi:type=\"ovf:ProductSection_Type\"><Info>p</Info><Product>Old</Product>"
		"<Property ovf:key=\"k\" ovf:type=\"string\" ovf:defaultValue=\"dflt\"/></Section>\n"
		"</Content></Envelope>\n";
	ovf_envelope *env = parse_ok(doc);
	ck_assert_int_eq(env->version, OVF_V_0_9);
	ck_assert_str_eq(ovf_version_name(env->version), "0.9");
	ck_assert_uint_eq(env->ndisks, 1);
	ck_assert_uint_eq(env->nnetworks, 1);
	ck_assert_uint_eq(env->nsystems, 1);
	ck_assert_str_eq(env->systems[0]->id, "old");
	ck_assert_str_eq(env->sections[0].name, "DiskSection");
	struct ovf_hardware hw;
	od_err e = {0};
	ck_assert_int_eq(ovf_hardware_get(env, env->systems[0], NULL, &hw, &e), 0);
	ck_assert_uint_eq(hw.cpus, 2);
	ck_assert_uint_eq(hw.memory_bytes, 256ull << 20);
	ck_assert_uint_eq(hw.ndisks, 1);
	ck_assert_uint_eq(hw.disks[0].capacity_bytes, 1073741824);
	ck_assert_str_eq(hw.nics[0].network, "VM Network");
	ck_assert_str_eq(hw.controllers[0]->element_name, "ide0"); /* from Caption */
	ck_assert_ptr_null(hw.controllers[0]->unknown_required);  /* BusNumber is known */
	ovf_hardware_free(&hw);
	ck_assert_str_eq(env->systems[0]->products[0].props[0].value, "dflt");
	struct ovf_diags d = {0};
	ck_assert_int_eq(ovf_validate(env, 0, &d, &e), 0);
	ovf_diags_free(&d);
	ovf_envelope_free(env);
}
END_TEST

/* OVF 2.x: collections, StorageItem, EthernetPortItem. */
START_TEST(test_ovf2_collection)
{
	static const char doc[] = HEAD
		"<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/2\" xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/2\""
		" xmlns:sasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_StorageAllocationSettingData\""
		" xmlns:epasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_EthernetPortAllocationSettingData\">\n"
		"<References/><DiskSection><Info>d</Info><Disk ovf:diskId=\"d\" ovf:capacity=\"5\" ovf:capacityAllocationUnits=\"byte * 2^20\" ovf:format=\"f\"/></DiskSection>\n"
		"<NetworkSection><Info>n</Info><Network ovf:name=\"net\"/></NetworkSection>\n"
		"<VirtualSystemCollection ovf:id=\"all\"><Info>c</Info>\n"
		"<StartupSection><Info>s</Info><Item ovf:id=\"a\" ovf:order=\"1\" ovf:startDelay=\"5\"/><Item ovf:id=\"b\" ovf:order=\"2\"/></StartupSection>\n"
		"<VirtualSystem ovf:id=\"a\"><Info>a</Info><VirtualHardwareSection><Info>h</Info>\n"
		"<StorageItem><sasd:HostResource>ovf:/disk/d</sasd:HostResource><sasd:InstanceID>1</sasd:InstanceID><sasd:ResourceType>31</sasd:ResourceType></StorageItem>\n"
		"<EthernetPortItem><epasd:Connection>net</epasd:Connection><epasd:InstanceID>2</epasd:InstanceID><epasd:ResourceType>10</epasd:ResourceType></EthernetPortItem>\n"
		"</VirtualHardwareSection></VirtualSystem>\n"
		"<VirtualSystem ovf:id=\"b\"><Info>b</Info><VirtualHardwareSection><Info>h</Info></VirtualHardwareSection></VirtualSystem>\n"
		"</VirtualSystemCollection></Envelope>\n";
	ovf_envelope *env = parse_ok(doc);
	ck_assert_int_eq(env->version, OVF_V_2);
	ck_assert(env->content->is_collection);
	ck_assert_uint_eq(env->content->nchildren, 2);
	ck_assert_uint_eq(env->content->nstartup, 2);
	ck_assert_int_eq(env->content->startup[0].start_delay, 5);
	ck_assert_uint_eq(env->nsystems, 2);
	ck_assert_str_eq(env->systems[1]->id, "b");
	const struct ovf_hw_section *h = &env->systems[0]->hw[0];
	ck_assert_int_eq(h->items[0].kind, OVF_ITEM_STORAGE);
	ck_assert_int_eq(h->items[1].kind, OVF_ITEM_ETHERNET);
	struct ovf_hardware hw;
	od_err e = {0};
	ck_assert_int_eq(ovf_hardware_get(env, env->systems[0], NULL, &hw, &e), 0);
	ck_assert_uint_eq(hw.ndisks, 1);
	ck_assert_uint_eq(hw.disks[0].capacity_bytes, 5ull << 20);
	ck_assert_uint_eq(hw.nnics, 1);
	ck_assert_str_eq(hw.nics[0].network, "net");
	ovf_hardware_free(&hw);
	ovf_envelope_free(env);
}
END_TEST

START_TEST(test_property_check)
{
	struct ovf_property p = {.key = "k", .type = "uint16", .qualifiers = "MinValue(10) MaxValue(100)"};
	od_err e = {0};
	ck_assert_int_eq(ovf_property_check_value(&p, "10", &e), 0);
	ck_assert_int_eq(ovf_property_check_value(&p, "100", &e), 0);
	ck_assert_int_eq(ovf_property_check_value(&p, "9", &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "MinValue"));
	ck_assert_ptr_nonnull(strstr(e.msg, "property 'k'"));
	ck_assert_int_eq(ovf_property_check_value(&p, "101", &e), -1);
	ck_assert_int_eq(ovf_property_check_value(&p, "abc", &e), -1);
	ck_assert_int_eq(ovf_property_check_value(&p, "", &e), -1);
	struct ovf_property s = {.key = "s", .type = "string", .qualifiers = "MinLen(2),MaxLen(3)"};
	ck_assert_int_eq(ovf_property_check_value(&s, "ab", &e), 0);
	ck_assert_int_eq(ovf_property_check_value(&s, "\xc3\xa9\xc3\xa9\xc3\xa9", &e), 0); /* 3 characters */
	ck_assert_int_eq(ovf_property_check_value(&s, "a", &e), -1);
	ck_assert_int_eq(ovf_property_check_value(&s, "abcd", &e), -1);
	struct ovf_property m = {.key = "m", .type = "string", .qualifiers = "ValueMap{\"small\", \"large\"}"};
	ck_assert_int_eq(ovf_property_check_value(&m, "large", &e), 0);
	ck_assert_int_eq(ovf_property_check_value(&m, "medium", &e), -1);
	struct ovf_property r = {.key = "r", .type = "sint8", .qualifiers = "ValueMap{\"..-100\", \"0\", \"100..\"}"};
	ck_assert_int_eq(ovf_property_check_value(&r, "-128", &e), 0);
	ck_assert_int_eq(ovf_property_check_value(&r, "0", &e), 0);
	ck_assert_int_eq(ovf_property_check_value(&r, "127", &e), 0);
	ck_assert_int_eq(ovf_property_check_value(&r, "50", &e), -1);
	struct ovf_property b = {.key = "b", .type = "boolean"};
	ck_assert_int_eq(ovf_property_check_value(&b, "false", &e), 0);
	ck_assert_int_eq(ovf_property_check_value(&b, "TRUE", &e), 0);
	ck_assert_int_eq(ovf_property_check_value(&b, "maybe", &e), -1);
	struct ovf_property u64 = {.key = "u", .type = "uint64"};
	ck_assert_int_eq(ovf_property_check_value(&u64, "18446744073709551615", &e), 0);
	ck_assert_int_eq(ovf_property_check_value(&u64, "18446744073709551616", &e), -1);
	ck_assert_int_eq(ovf_property_check_value(&u64, "-1", &e), -1);
	struct ovf_property s64 = {.key = "s", .type = "sint64", .qualifiers = "MinValue(-9223372036854775808)"};
	ck_assert_int_eq(ovf_property_check_value(&s64, "-9223372036854775808", &e), 0);
	struct ovf_property f = {.key = "f", .type = "real32", .qualifiers = "MaxValue(1.5)"};
	ck_assert_int_eq(ovf_property_check_value(&f, "1.25", &e), 0);
	ck_assert_int_eq(ovf_property_check_value(&f, "1.75", &e), -1);
	ck_assert_int_eq(ovf_property_check_value(&f, "nan", &e), -1);
	ck_assert_int_eq(ovf_property_check_value(&f, "1e39", &e), -1);
	struct ovf_property vm = {.key = "i", .type = "int"};
	ck_assert_int_eq(ovf_property_check_value(&vm, "  42  ", &e), 0);
	struct ovf_property bad = {.key = "x", .type = "nosuchtype"};
	ck_assert_int_eq(ovf_property_check_value(&bad, "1", &e), -1);
	ck_assert(ovf_property_type_known("ip:VM Network"));
	ck_assert(!ovf_property_type_standard("Boolean"));
	ck_assert(ovf_property_type_standard("real64"));
}
END_TEST

START_TEST(test_config_applies)
{
	ck_assert(ovf_config_applies(NULL, "a"));
	ck_assert(ovf_config_applies(NULL, NULL));
	ck_assert(ovf_config_applies("a b", "b"));
	ck_assert(!ovf_config_applies("a b", "ab"));
	ck_assert(!ovf_config_applies("a", NULL));
	ck_assert(ovf_config_applies("  ", "x"));
}
END_TEST

/* ---- hostile input --------------------------------------------------------- */

START_TEST(test_xxe)
{
	static const char doc[] = HEAD
		"<!DOCTYPE Envelope [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>\n" ENV1
		"<References><File ovf:id=\"&xxe;\" ovf:href=\"a\"/></References></Envelope>\n";
	parse_fails(doc, strlen(doc), "entity");
	static const char pe[] = HEAD
		"<!DOCTYPE Envelope [ <!ENTITY % p SYSTEM \"http://127.0.0.1:9/x.dtd\"> %p; ]>\n" ENV1 "</Envelope>\n";
	parse_fails(pe, strlen(pe), "entity");
}
END_TEST

START_TEST(test_billion_laughs)
{
	od_buf b = {0};
	od_buf_puts(&b, HEAD "<!DOCTYPE Envelope [\n <!ENTITY l0 \"ha\">\n");
	for (int i = 1; i < 30; i++)
		od_buf_printf(&b, " <!ENTITY l%d \"&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;\">\n", i, i - 1, i - 1,
			      i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	od_buf_puts(&b, "]>\n" ENV1 "<Annotation>&l29;</Annotation></Envelope>\n");
	parse_fails(b.data, b.len, "entity");
	od_buf_free(&b);
}
END_TEST

/* A DOCTYPE with no entities is harmless: accepted. */
START_TEST(test_plain_doctype)
{
	static const char doc[] = HEAD "<!DOCTYPE Envelope>\n" ENV1 "</Envelope>\n";
	ovf_envelope *env = parse_ok(doc);
	ovf_envelope_free(env);
}
END_TEST

/* Over the limit: refused before any parsing, from memory and from a file
 * (a sparse file: cheap to make whatever its size). */
START_TEST(test_too_big)
{
	size_t n = 20u << 20;
	char *big = malloc(n);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', n);
	memcpy(big, HEAD "<Envelope a=\"", strlen(HEAD "<Envelope a=\""));
	parse_fails(big, n, "limit");
	free(big);

	char path[] = "/tmp/od-test-big-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)2 << 30), 0); /* 2 GiB, sparse */
	close(fd);
	od_err e = {0};
	ck_assert_ptr_null(ovf_envelope_parse_file(path, &e));
	ck_assert_int_eq(e.code, OD_E_INVALID);
	ck_assert_ptr_nonnull(strstr(e.msg, "limit"));
	unlink(path);
}
END_TEST

/* Under our limit but over libxml2's own cap for one attribute value
 * (10 MB without XML_PARSE_HUGE): a clear error, not a hang. */
START_TEST(test_huge_attribute)
{
	size_t n = 12u << 20;
	char *big = malloc(n + 64);
	ck_assert_ptr_nonnull(big);
	size_t h = (size_t)sprintf(big, "%s<Envelope a=\"", HEAD);
	memset(big + h, 'a', n - h);
	strcpy(big + n, "\"/>");
	parse_fails(big, strlen(big), "not well-formed");
	free(big);
}
END_TEST

START_TEST(test_bad_utf8)
{
	static const char doc[] = HEAD ENV1 "<References/>\n<Annotation>caf\xc3\x28</Annotation></Envelope>\n";
	parse_fails(doc, strlen(doc), "invalid UTF-8");
	parse_fails(doc, strlen(doc), ":4:");
	static const char overlong[] = HEAD ENV1 "<Annotation>\xc0\xaf</Annotation></Envelope>\n";
	parse_fails(overlong, strlen(overlong), "invalid UTF-8");
	static const char surrogate[] = HEAD ENV1 "<Annotation>\xed\xa0\x80</Annotation></Envelope>\n";
	parse_fails(surrogate, strlen(surrogate), "invalid UTF-8");
}
END_TEST

START_TEST(test_encoding_mismatch)
{
	static const char latin[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n" ENV1 "<Annotation>caf\xc3\xa9</Annotation></Envelope>\n";
	parse_fails(latin, strlen(latin), "declares encoding=\"iso-8859-1\" but its bytes are UTF-8");
	static const char u16[] = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n" ENV1 "</Envelope>\n";
	parse_fails(u16, strlen(u16), "utf-16");
	static const char ascii[] = "<?xml version=\"1.0\" encoding=\"US-ASCII\"?>\n" ENV1 "<Annotation>caf\xc3\xa9</Annotation></Envelope>\n";
	parse_fails(ascii, strlen(ascii), "non-ASCII");
	static const char bom16[] = "\xff\xfe<\0?\0x\0m\0l\0";
	parse_fails(bom16, sizeof bom16 - 1, "UTF-16");
	/* a Latin-1 descriptor that really is Latin-1 is fine */
	static const char real_latin[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n" ENV1 "<Annotation>caf\xe9</Annotation></Envelope>\n";
	ovf_envelope *env = parse_ok(real_latin);
	ovf_envelope_free(env);
}
END_TEST

/* A start tag over several lines is numbered by the line it starts on. */
START_TEST(test_multiline_tag_line)
{
	static const char doc[] = HEAD ENV1
		"<References>\n"
		"  <File ovf:id=\"f1\"\n"
		"        ovf:href=\"a.vmdk\"\n"
		"        ovf:size=\"-2\"/><File ovf:id=\"f2\" ovf:href=\"b\"/>\n"
		"</References><DiskSection><Info>d</Info><Disk\n ovf:diskId=\"d\" ovf:capacity=\"1\" ovf:format=\"f\"/></DiskSection>\n"
		"</Envelope>\n";
	ovf_envelope *env = parse_ok(doc);
	ck_assert_int_eq(env->files[0].line, 4);
	ck_assert_int_eq(env->files[1].line, 6);
	ck_assert_int_eq(env->disks[0].line, 7);
	ck_assert_int_eq(env->parse_diags.v[0].line, 4); /* the negative size warning */
	ovf_envelope_free(env);
}
END_TEST

START_TEST(test_not_ovf)
{
	parse_fails("", 0, "empty");
	parse_fails("not xml", 7, "not well-formed");
	static const char trunc[] = HEAD ENV1 "<References>";
	parse_fails(trunc, strlen(trunc), "not well-formed");
	static const char other[] = HEAD "<FakeEnvelope/>";
	parse_fails(other, strlen(other), "not an OVF <Envelope>");
	static const char nul[] = HEAD "<Envelope>\0</Envelope>";
	parse_fails(nul, sizeof nul - 1, "NUL");
	char tar[1024] = "tiny.ovf";
	memcpy(tar + 257, "ustar", 5);
	parse_fails(tar, sizeof tar, "tar archive");
	od_err e = {0};
	ck_assert_ptr_null(ovf_envelope_parse_file("/nonexistent/x.ovf", &e));
	ck_assert_int_eq(e.code, OD_E_IO);
}
END_TEST

/* Deep nesting is bounded by libxml2's depth limit (no HUGE) or ours. */
START_TEST(test_deep)
{
	od_buf b = {0};
	od_buf_puts(&b, HEAD ENV1);
	for (int i = 0; i < 40; i++)
		od_buf_printf(&b, "<VirtualSystemCollection ovf:id=\"c%d\"><Info>i</Info>", i);
	for (int i = 0; i < 40; i++)
		od_buf_puts(&b, "</VirtualSystemCollection>");
	od_buf_puts(&b, "</Envelope>");
	ovf_envelope *env = parse_ok(b.data);
	struct ovf_diags d = {0};
	od_err e = {0};
	ck_assert_int_gt(ovf_validate(env, 0, &d, &e), 0);
	bool deep = false;
	for (size_t i = 0; i < d.n; i++)
		deep |= !strcmp(d.v[i].code, "content-too-deep");
	ck_assert(deep);
	ovf_diags_free(&d);
	ovf_envelope_free(env);
	od_buf_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ovf_model");
	TCase *tc = od_check_tcase(s, "model");
	tcase_add_test(tc, test_model_full);
	tcase_add_test(tc, test_hardware);
	tcase_add_test(tc, test_ovf09);
	tcase_add_test(tc, test_ovf2_collection);
	tcase_add_test(tc, test_property_check);
	tcase_add_test(tc, test_config_applies);
	tcase_add_test(tc, test_multiline_tag_line);
	TCase *th = od_check_tcase(s, "hostile");
	tcase_add_test(th, test_xxe);
	tcase_add_test(th, test_billion_laughs);
	tcase_add_test(th, test_plain_doctype);
	tcase_add_test(th, test_too_big);
	tcase_add_test(th, test_huge_attribute);
	tcase_add_test(th, test_bad_utf8);
	tcase_add_test(th, test_encoding_mismatch);
	tcase_add_test(th, test_not_ovf);
	tcase_add_test(th, test_deep);
	return od_check_run(s);
}
