/* test_validate.c - every deployability rule, with a descriptor that breaks
 * it and one that does not, both made here from one template.
 *
 * The template is a small valid OVF 1.x descriptor cut into parts; a case
 * replaces some parts.  A "bad" case must produce an error with the rule's
 * code; its "good" twin must produce no error at all, so a rule that fires
 * too eagerly fails here too. */
#include "config.h"
#include "ovf/ovf.h"

#include <check.h>
#include "../check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parts {
	const char *ns, *refs, *disks, *nets, *envsect, *vsattr, *vsinfo, *vssect, *items, *content, *content_extra;
};

#define NS1 "http://schemas.dmtf.org/ovf/envelope/1"
#define FMT "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"
#define DISK1 "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"file1\" ovf:capacity=\"1\" " \
	"ovf:capacityAllocationUnits=\"byte * 2^30\" ovf:format=\"" FMT "\"/>"
#define FILE1 "<File ovf:id=\"file1\" ovf:href=\"disk1.vmdk\" ovf:size=\"1024\"/>"
#define CPU(id, n) "<Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ElementName>cpu</rasd:ElementName>" \
	"<rasd:InstanceID>" id "</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType>" \
	"<rasd:VirtualQuantity>" n "</rasd:VirtualQuantity></Item>"
#define MEM_ITEM "<Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>mem</rasd:ElementName>" \
	"<rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType>" \
	"<rasd:VirtualQuantity>512</rasd:VirtualQuantity></Item>"
#define SCSI "<Item><rasd:Address>0</rasd:Address><rasd:ElementName>scsi</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID>" \
	"<rasd:ResourceSubType>lsilogic</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>"
#define DISKITEM(id, hr, parent, aop) "<Item><rasd:AddressOnParent>" aop "</rasd:AddressOnParent><rasd:ElementName>disk</rasd:ElementName>" \
	"<rasd:HostResource>" hr "</rasd:HostResource><rasd:InstanceID>" id "</rasd:InstanceID>" \
	"<rasd:Parent>" parent "</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>"
#define NIC(net) "<Item><rasd:AutomaticAllocation>true</rasd:AutomaticAllocation><rasd:Connection>" net "</rasd:Connection>" \
	"<rasd:ElementName>nic</rasd:ElementName><rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></Item>"
#define ITEMS_BASE CPU("1", "1") MEM_ITEM SCSI DISKITEM("4", "ovf:/disk/disk1", "3", "0") NIC("lan")
#define DOS(body) "<DeploymentOptionSection><Info>opts</Info>" body "</DeploymentOptionSection>"
#define CFG(id, extra) "<Configuration ovf:id=\"" id "\"" extra "><Label>" id "</Label><Description>d</Description></Configuration>"
#define PS(attrs, body) "<ProductSection" attrs "><Info>p</Info><Product>prod</Product>" body "</ProductSection>"
#define PROP(attrs) "<Property" attrs "/>"
#define VSYS(id) "<VirtualSystem ovf:id=\"" id "\"><Info>x</Info><VirtualHardwareSection><Info>hw</Info>" \
	CPU("1", "1") MEM_ITEM "</VirtualHardwareSection></VirtualSystem>"

static char *build(const struct parts *p)
{
	char *vs = NULL;
	if (p->content) {
		vs = strdup(p->content);
	} else {
		vs = od_asprintf(
			"<VirtualSystem%s>%s<OperatingSystemSection ovf:id=\"101\"><Info>os</Info></OperatingSystemSection>"
			"<VirtualHardwareSection><Info>hw</Info><System><vssd:ElementName>v</vssd:ElementName>"
			"<vssd:InstanceID>0</vssd:InstanceID><vssd:VirtualSystemType>vmx-10</vssd:VirtualSystemType></System>"
			"%s</VirtualHardwareSection>%s</VirtualSystem>",
			p->vsattr ? p->vsattr : " ovf:id=\"vm\"", p->vsinfo ? p->vsinfo : "<Info>vm</Info>",
			p->items ? p->items : ITEMS_BASE, p->vssect ? p->vssect : "");
	}
	char *doc = od_asprintf(
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<Envelope xmlns=\"%s\" xmlns:ovf=\"%s\"\n"
		" xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData\"\n"
		" xmlns:vssd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData\">\n"
		"<References>%s</References>\n"
		"<DiskSection><Info>disks</Info>%s</DiskSection>\n"
		"<NetworkSection><Info>nets</Info>%s</NetworkSection>\n"
		"%s\n%s\n%s\n</Envelope>\n",
		p->ns ? p->ns : NS1, p->ns ? p->ns : NS1, p->refs ? p->refs : FILE1, p->disks ? p->disks : DISK1,
		p->nets ? p->nets : "<Network ovf:name=\"lan\"><Description>the lan</Description></Network>",
		p->envsect ? p->envsect : "", vs, p->content_extra ? p->content_extra : "");
	free(vs);
	return doc;
}

struct vcase {
	const char *code;   /* expected error code in the bad variant */
	struct parts bad, good;
	unsigned flags;
};

static const struct vcase cases[] = {
	{"envelope-version", {.ns = "http://example.com/not/ovf"}, {0}, 0},
	{"content-missing", {.content = ""}, {0}, 0},
	{"content-multiple", {.content_extra = VSYS("vm2")}, {0}, 0},
	{"content-nested", {.vssect = VSYS("inner")}, {.content = "<VirtualSystemCollection ovf:id=\"c\"><Info>c</Info>"
		VSYS("a") VSYS("b") "</VirtualSystemCollection>", .disks = "", .refs = ""}, 0},
	{"vs-id-missing", {.vsattr = ""}, {0}, 0},
	{"vs-id-duplicate", {.content = "<VirtualSystemCollection ovf:id=\"c\"><Info>c</Info>" VSYS("a") VSYS("a")
		"</VirtualSystemCollection>", .disks = "", .refs = ""},
	 {.content = "<VirtualSystemCollection ovf:id=\"c\"><Info>c</Info>" VSYS("a") VSYS("b")
		"</VirtualSystemCollection>", .disks = "", .refs = ""}, 0},
	{"info-missing", {.vsinfo = ""}, {.vsinfo = "<Info/>"}, 0},
	{"section-info-missing", {.vssect = "<AnnotationSection><Annotation>a</Annotation></AnnotationSection>"},
	 {.vssect = "<AnnotationSection><Info>i</Info><Annotation>a</Annotation></AnnotationSection>"}, 0},
	{"section-misplaced", {.envsect = "<AnnotationSection><Info>i</Info><Annotation>a</Annotation></AnnotationSection>"},
	 {.vssect = "<AnnotationSection><Info>i</Info><Annotation>a</Annotation></AnnotationSection>"}, 0},
	{"section-misplaced", {.vssect = "<NetworkSection><Info>n</Info></NetworkSection>"}, {0}, 0},
	{"section-unknown-required", {.vssect = "<FooSection><Info>x</Info></FooSection>"},
	 {.vssect = "<FooSection ovf:required=\"false\"><Info>x</Info></FooSection>"}, 0},
	{"file-id-missing", {.refs = "<File ovf:href=\"disk1.vmdk\"/>", .disks = "<Disk ovf:diskId=\"disk1\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>"},
	 {.refs = "<File ovf:id=\"file1\" ovf:href=\"disk1.vmdk\"/>"}, 0},
	{"file-id-duplicate", {.refs = FILE1 "<File ovf:id=\"file1\" ovf:href=\"other.iso\"/>"},
	 {.refs = FILE1 "<File ovf:id=\"file2\" ovf:href=\"other.iso\"/>"}, 0},
	{"file-href-missing", {.refs = "<File ovf:id=\"file1\"/>"}, {0}, 0},
	{"file-href-duplicate", {.refs = FILE1 "<File ovf:id=\"file2\" ovf:href=\"disk1.vmdk\"/>"},
	 {.refs = FILE1 "<File ovf:id=\"file2\" ovf:href=\"disk2.vmdk\"/>"}, 0},
	{"file-href-remote", {.refs = "<File ovf:id=\"file1\" ovf:href=\"http://example.com/disk1.vmdk\"/>"},
	 {.refs = "<File ovf:id=\"file1\" ovf:href=\"sub/disk1.vmdk\"/>"}, 0},
	{"file-href-remote", {.refs = "<File ovf:id=\"file1\" ovf:href=\"../disk1.vmdk\"/>"},
	 {.refs = "<File ovf:id=\"file1\" ovf:href=\"..disk1.vmdk\"/>"}, 0},
	{"file-href-remote", {.refs = "<File ovf:id=\"file1\" ovf:href=\"/var/disk1.vmdk\"/>"}, {0}, 0},
	{"file-size-invalid", {.refs = "<File ovf:id=\"file1\" ovf:href=\"disk1.vmdk\" ovf:size=\"abcd\"/>"},
	 {.refs = "<File ovf:id=\"file1\" ovf:href=\"disk1.vmdk\" ovf:size=\"-2\"/>"}, 0},
	{"file-chunksize", {.refs = "<File ovf:id=\"file1\" ovf:href=\"disk1.vmdk\" ovf:chunkSize=\"0\"/>"},
	 {.refs = "<File ovf:id=\"file1\" ovf:href=\"disk1.vmdk\" ovf:chunkSize=\"1048576\"/>"}, 0},
	{"file-compression", {.refs = "<File ovf:id=\"file1\" ovf:href=\"disk1.vmdk\" ovf:compression=\"bzip2\"/>"},
	 {.refs = "<File ovf:id=\"file1\" ovf:href=\"disk1.vmdk\" ovf:compression=\"gzip\"/>"}, 0},
	{"disk-id-missing", {.disks = "<Disk ovf:fileRef=\"file1\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>"}, {0}, 0},
	{"disk-id-duplicate", {.disks = DISK1 "<Disk ovf:diskId=\"disk1\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>"},
	 {.disks = DISK1 "<Disk ovf:diskId=\"disk2\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>"}, 0},
	{"disk-fileref-unresolved", {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"nofile\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>"}, {0}, 0},
	{"disk-fileref-duplicate", {.disks = DISK1 "<Disk ovf:diskId=\"disk2\" ovf:fileRef=\"file1\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>"},
	 {.disks = DISK1 "<Disk ovf:diskId=\"disk2\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>"}, 0},
	{"disk-file-order",
	 {.refs = FILE1 "<File ovf:id=\"file2\" ovf:href=\"disk2.vmdk\"/>",
	  .disks = "<Disk ovf:diskId=\"disk2\" ovf:fileRef=\"file2\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>" DISK1,
	  .items = ITEMS_BASE DISKITEM("6", "ovf:/disk/disk2", "3", "1")},
	 {.refs = FILE1 "<File ovf:id=\"file2\" ovf:href=\"disk2.vmdk\"/>",
	  .disks = DISK1 "<Disk ovf:diskId=\"disk2\" ovf:fileRef=\"file2\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>",
	  .items = ITEMS_BASE DISKITEM("6", "ovf:/disk/disk2", "3", "1")}, 0},
	{"disk-parentref-unresolved", {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"file1\" ovf:parentRef=\"nodisk\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>"}, {0}, 0},
	{"disk-parentref-cycle",
	 {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"file1\" ovf:parentRef=\"disk2\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>"
		   "<Disk ovf:diskId=\"disk2\" ovf:parentRef=\"disk1\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>",
	  .items = ITEMS_BASE DISKITEM("6", "ovf:/disk/disk2", "3", "1")},
	 {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"file1\" ovf:parentRef=\"disk2\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>"
		   "<Disk ovf:diskId=\"disk2\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>",
	  .items = ITEMS_BASE DISKITEM("6", "ovf:/disk/disk2", "3", "1")}, 0},
	{"disk-capacity-missing", {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"file1\" ovf:format=\"" FMT "\"/>"}, {0}, 0},
	{"disk-capacity-invalid", {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"file1\" ovf:capacity=\"lots\" ovf:format=\"" FMT "\"/>"},
	 {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"file1\" ovf:capacity=\"${size}\" ovf:format=\"" FMT "\"/>"}, 0},
	{"disk-capacity-invalid", {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"file1\" ovf:capacity=\"17179869184\" "
		"ovf:capacityAllocationUnits=\"byte * 2^30\" ovf:format=\"" FMT "\"/>"}, {0}, 0},
	{"disk-capacity-zero", {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"file1\" ovf:capacity=\"0\" ovf:format=\"" FMT "\"/>"}, {0}, 0},
	{"disk-capacity-zero", {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"file1\" ovf:capacity=\"-5\" ovf:format=\"" FMT "\"/>"}, {0}, 0},
	{"disk-units", {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"file1\" ovf:capacity=\"1\" ovf:capacityAllocationUnits=\"furlong\" ovf:format=\"" FMT "\"/>"},
	 {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"file1\" ovf:capacity=\"1\" ovf:capacityAllocationUnits=\"GB\" ovf:format=\"" FMT "\"/>"}, 0},
	{"disk-populated-size", {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"file1\" ovf:capacity=\"1\" ovf:capacityAllocationUnits=\"byte * 2^30\" "
		"ovf:populatedSize=\"1073741825\" ovf:format=\"" FMT "\"/>"},
	 {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"file1\" ovf:capacity=\"1\" ovf:capacityAllocationUnits=\"byte * 2^30\" "
		"ovf:populatedSize=\"1073741824\" ovf:format=\"" FMT "\"/>"}, 0},
	{"disk-format-missing", {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"file1\" ovf:capacity=\"1\"/>"}, {0}, 0},
	{"network-name-missing", {.nets = "<Network><Description>d</Description></Network><Network ovf:name=\"lan\"/>"}, {0}, 0},
	{"network-duplicate", {.nets = "<Network ovf:name=\"lan\"/><Network ovf:name=\"lan\"/>"},
	 {.nets = "<Network ovf:name=\"lan\"/><Network ovf:name=\"wan\"/>"}, 0},
	{"config-empty", {.envsect = DOS("")}, {.envsect = DOS(CFG("a", ""))}, 0},
	{"config-default-multiple", {.envsect = DOS(CFG("a", " ovf:default=\"true\"") CFG("b", " ovf:default=\"true\""))},
	 {.envsect = DOS(CFG("a", " ovf:default=\"true\"") CFG("b", ""))}, 0},
	{"config-id-missing", {.envsect = DOS("<Configuration><Label>l</Label><Description>d</Description></Configuration>")}, {0}, 0},
	{"config-id-duplicate", {.envsect = DOS(CFG("a", "") CFG("a", ""))}, {.envsect = DOS(CFG("a", "") CFG("b", ""))}, 0},
	{"config-unknown", {.envsect = DOS(CFG("a", "")), .items = "<Item ovf:configuration=\"nosuch\"><rasd:InstanceID>1</rasd:InstanceID>"
		"<rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>" ITEMS_BASE},
	 {.envsect = DOS(CFG("a", "")), .items = ITEMS_BASE "<Item ovf:configuration=\"a\"><rasd:InstanceID>1</rasd:InstanceID>"
		"<rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>"}, 0},
	{"config-unknown", {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"string\" ovf:configuration=\"nosuch\""))},
	 {.envsect = DOS(CFG("a", "")), .vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"string\" ovf:configuration=\"a\""))}, 0},
	{"hw-missing", {.content = "<VirtualSystem ovf:id=\"vm\"><Info>x</Info></VirtualSystem>", .disks = "", .refs = ""},
	 {.content = VSYS("vm"), .disks = "", .refs = ""}, 0},
	{"item-instanceid-missing", {.items = ITEMS_BASE "<Item><rasd:ResourceType>14</rasd:ResourceType></Item>"},
	 {.items = ITEMS_BASE "<Item><rasd:InstanceID>9</rasd:InstanceID><rasd:ResourceType>14</rasd:ResourceType></Item>"}, 0},
	{"item-instanceid-missing", {.items = ITEMS_BASE "<Item></Item>"}, {0}, 0},
	{"item-instanceid-duplicate", {.items = ITEMS_BASE "<Item><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>14</rasd:ResourceType></Item>"}, {0}, 0},
	{"item-resourcetype-missing", {.items = ITEMS_BASE "<Item><rasd:InstanceID>9</rasd:InstanceID></Item>"}, {0}, 0},
	{"item-resourcetype-unknown", {.items = ITEMS_BASE "<Item><rasd:InstanceID>9</rasd:InstanceID><rasd:ResourceType>89</rasd:ResourceType></Item>"},
	 {.items = ITEMS_BASE "<Item ovf:required=\"false\"><rasd:InstanceID>9</rasd:InstanceID><rasd:ResourceType>89</rasd:ResourceType></Item>"}, 0},
	{"item-element-unknown", {.items = ITEMS_BASE "<Item><rasd:InstanceID>9</rasd:InstanceID><rasd:ResourceType>14</rasd:ResourceType><rasd:Frob>1</rasd:Frob></Item>"},
	 {.items = ITEMS_BASE "<Item><rasd:InstanceID>9</rasd:InstanceID><rasd:ResourceType>14</rasd:ResourceType><rasd:Frob ovf:required=\"false\">1</rasd:Frob></Item>"}, 0},
	{"item-hostresource-unresolved", {.items = CPU("1", "1") MEM_ITEM SCSI DISKITEM("4", "ovf:/disk/nodisk", "3", "0") NIC("lan")},
	 {.items = CPU("1", "1") MEM_ITEM SCSI DISKITEM("4", "/disk/disk1", "3", "0") NIC("lan")}, 0},
	{"item-hostresource-unresolved", {.items = ITEMS_BASE "<Item><rasd:HostResource>ovf:/file/nofile</rasd:HostResource>"
		"<rasd:InstanceID>7</rasd:InstanceID><rasd:ResourceType>15</rasd:ResourceType></Item>"},
	 {.refs = FILE1 "<File ovf:id=\"iso\" ovf:href=\"x.iso\"/>", .items = ITEMS_BASE "<Item><rasd:HostResource>ovf:/file/iso</rasd:HostResource>"
		"<rasd:InstanceID>7</rasd:InstanceID><rasd:ResourceType>15</rasd:ResourceType></Item>"}, 0},
	{"item-connection-unresolved", {.items = CPU("1", "1") MEM_ITEM SCSI DISKITEM("4", "ovf:/disk/disk1", "3", "0") NIC("wan")}, {0}, 0},
	{"item-parent-unresolved", {.items = CPU("1", "1") MEM_ITEM SCSI DISKITEM("4", "ovf:/disk/disk1", "99", "0") NIC("lan")}, {0}, 0},
	{"item-parent-not-controller", {.items = CPU("1", "1") MEM_ITEM SCSI DISKITEM("4", "ovf:/disk/disk1", "1", "0") NIC("lan")}, {0}, 0},
	{"item-address-conflict",
	 {.disks = DISK1 "<Disk ovf:diskId=\"disk2\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>",
	  .items = ITEMS_BASE DISKITEM("6", "ovf:/disk/disk2", "3", "0")},
	 {.disks = DISK1 "<Disk ovf:diskId=\"disk2\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>",
	  .items = ITEMS_BASE DISKITEM("6", "ovf:/disk/disk2", "3", "1")}, 0},
	{"item-units", {.items = CPU("1", "1") "<Item><rasd:AllocationUnits>furlong</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID>"
		"<rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>512</rasd:VirtualQuantity></Item>" SCSI DISKITEM("4", "ovf:/disk/disk1", "3", "0") NIC("lan")},
	 {.items = CPU("1", "1") "<Item><rasd:AllocationUnits>MegaBytes</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID>"
		"<rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>512</rasd:VirtualQuantity></Item>" SCSI DISKITEM("4", "ovf:/disk/disk1", "3", "0") NIC("lan")}, 0},
	{"item-quantity-invalid", {.items = CPU("1", "lots") MEM_ITEM SCSI DISKITEM("4", "ovf:/disk/disk1", "3", "0") NIC("lan")}, {0}, 0},
	{"item-quantity-missing", {.items = "<Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType></Item>" MEM_ITEM},
	 {.items = CPU("1", "1") MEM_ITEM}, 0},
	{"item-bound-invalid", {.items = ITEMS_BASE "<Item ovf:bound=\"middle\"><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType>"
		"<rasd:VirtualQuantity>4</rasd:VirtualQuantity></Item>"},
	 {.items = ITEMS_BASE "<Item ovf:bound=\"max\"><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType>"
		"<rasd:VirtualQuantity>4</rasd:VirtualQuantity></Item>"}, 0},
	{"item-bound-duplicate", {.items = ITEMS_BASE "<Item ovf:bound=\"max\"><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType>"
		"<rasd:VirtualQuantity>4</rasd:VirtualQuantity></Item><Item ovf:bound=\"max\"><rasd:InstanceID>1</rasd:InstanceID>"
		"<rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>8</rasd:VirtualQuantity></Item>"},
	 {.items = ITEMS_BASE "<Item ovf:bound=\"min\"><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType>"
		"<rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item><Item ovf:bound=\"max\"><rasd:InstanceID>1</rasd:InstanceID>"
		"<rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>8</rasd:VirtualQuantity></Item>"}, 0},
	{"item-resource-multiple", {.items = ITEMS_BASE CPU("7", "2")}, {0}, 0},
	{"product-duplicate", {.vssect = PS("", "") PS("", "")}, {.vssect = PS("", "") PS(" ovf:class=\"other\"", "")}, 0},
	{"property-key-missing", {.vssect = PS("", PROP(" ovf:type=\"string\""))}, {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"string\""))}, 0},
	{"property-key-duplicate", {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"string\"") PROP(" ovf:key=\"k\" ovf:type=\"uint8\""))},
	 {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"string\"") PROP(" ovf:key=\"j\" ovf:type=\"uint8\""))}, 0},
	{"property-type-missing", {.vssect = PS("", PROP(" ovf:key=\"k\""))}, {0}, 0},
	{"property-type-unknown", {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"nosuchtype\""))},
	 {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"int\""))}, 0},
	{"property-qualifiers", {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"string\" ovf:qualifiers=\"MinLen(x)\""))},
	 {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"string\" ovf:qualifiers=\"MinLen(1) Ip(Mgmt)\""))}, 0},
	{"property-value-invalid", {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"uint8\" ovf:value=\"300\""))},
	 {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"uint8\" ovf:value=\"255\""))}, 0},
	{"property-value-invalid", {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"sint8\" ovf:value=\"-129\""))},
	 {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"sint8\" ovf:value=\"-128\""))}, 0},
	{"property-value-invalid", {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"boolean\" ovf:value=\"yes\""))},
	 {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"boolean\" ovf:value=\"true\""))}, 0},
	{"property-value-invalid", {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"real64\" ovf:value=\"1.5x\""))},
	 {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"real64\" ovf:value=\"-1.5e3\""))}, 0},
	{"property-value-invalid", {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"string\" ovf:qualifiers=\"MinLen(5)\" ovf:value=\"abc\""))},
	 {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"string\" ovf:qualifiers=\"MinLen(3)\" ovf:value=\"abc\""))}, 0},
	{"property-value-invalid", {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"string\" ovf:qualifiers=\"MaxLen(2)\" ovf:value=\"abc\""))},
	 {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"string\" ovf:qualifiers=\"MaxLen(3)\" ovf:value=\"ab&#233;\""))}, 0},
	{"property-value-invalid", {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"string\" ovf:qualifiers='ValueMap{\"a\",\"b\"}' ovf:value=\"c\""))},
	 {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"string\" ovf:qualifiers='ValueMap{\"a\",\"b\"}' ovf:value=\"b\""))}, 0},
	{"property-value-invalid", {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"uint16\" ovf:qualifiers=\"MinValue(10)\" ovf:value=\"5\""))},
	 {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"uint16\" ovf:qualifiers=\"MinValue(10)\" ovf:value=\"10\""))}, 0},
	{"property-value-invalid", {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"sint32\" ovf:qualifiers=\"MaxValue(-1)\" ovf:value=\"0\""))},
	 {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"sint32\" ovf:qualifiers=\"MaxValue(-1)\" ovf:value=\"-1\""))}, 0},
	{"property-value-invalid", {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"uint8\" ovf:qualifiers='ValueMap{\"1..5\"}' ovf:value=\"6\""))},
	 {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"uint8\" ovf:qualifiers='ValueMap{\"1..5\"}' ovf:value=\"5\""))}, 0},
	{"property-value-invalid", {.envsect = DOS(CFG("a", "")), .vssect = PS("", "<Property ovf:key=\"k\" ovf:type=\"uint8\" ovf:value=\"1\">"
		"<Value ovf:value=\"256\" ovf:configuration=\"a\"/></Property>")},
	 {.envsect = DOS(CFG("a", "")), .vssect = PS("", "<Property ovf:key=\"k\" ovf:type=\"uint8\" ovf:value=\"1\">"
		"<Value ovf:value=\"2\" ovf:configuration=\"a\"/></Property>")}, 0},
};

static int run(const struct parts *p, unsigned flags, struct ovf_diags *d)
{
	char *doc = build(p);
	ck_assert_ptr_nonnull(doc);
	od_err e = {0};
	ovf_envelope *env = ovf_envelope_parse(doc, strlen(doc), "case.ovf", &e);
	if (!env)
		ck_abort_msg("case does not parse: %s\n%s", e.msg, doc);
	int r = ovf_validate(env, flags, d, &e);
	ck_assert_int_ge(r, 0);
	ovf_envelope_free(env);
	free(doc);
	return r;
}

static bool has_error(const struct ovf_diags *d, const char *code)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].severity == OVF_DIAG_ERROR && !strcmp(d->v[i].code, code))
			return true;
	return false;
}

static void dump(const struct ovf_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "  %s [%s] line %d: %s\n", d->v[i].severity == OVF_DIAG_ERROR ? "error" : "warning",
			d->v[i].code, d->v[i].line, d->v[i].message);
}

START_TEST(test_rule)
{
	const struct vcase *c = &cases[_i];
	struct ovf_diags d = {0};
	run(&c->bad, c->flags, &d);
	if (!has_error(&d, c->code)) {
		dump(&d);
		ck_abort_msg("case %d: the bad descriptor gave no '%s' error", _i, c->code);
	}
	/* every error has a line and a message */
	for (size_t i = 0; i < d.n; i++)
		ck_assert_ptr_nonnull(d.v[i].message);
	ovf_diags_free(&d);
	run(&c->good, c->flags, &d);
	if (d.nerrors) {
		dump(&d);
		ck_abort_msg("case %d (%s): the good descriptor has %zu errors", _i, c->code, d.nerrors);
	}
	ovf_diags_free(&d);
}
END_TEST

/* The template itself passes with neither errors nor warnings. */
START_TEST(test_template_clean)
{
	struct parts p = {0};
	struct ovf_diags d = {0};
	run(&p, 0, &d);
	if (d.n)
		dump(&d);
	ck_assert_uint_eq(d.n, 0);
	ovf_diags_free(&d);
}
END_TEST

/* Every code of the rules table that is an error somewhere is exercised by
 * a case above (warning-only codes are checked in test_warnings). */
START_TEST(test_all_codes_covered)
{
	size_t n;
	const char *const *codes = ovf_validate_codes(&n);
	/* warnings (test_warnings), and content-too-deep which needs a
	 * 17-level collection tree (test_model covers nesting) */
	static const char *const warning_only[] = {
		"section-unknown", "references-missing", "file-unused", "disk-capacity-property", "disk-unused",
		"config-default-missing", "item-resourcetype-unknown-optional", "item-units-nonstandard",
		"item-check-skipped", "property-type-nonstandard", "property-qualifier-unchecked", "xml-namespace",
		"file-size-negative", "content-too-deep",
	};
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (size_t k = 0; k < sizeof cases / sizeof cases[0] && !found; k++)
			found = !strcmp(cases[k].code, codes[i]);
		for (size_t k = 0; k < sizeof warning_only / sizeof warning_only[0] && !found; k++)
			found = !strcmp(warning_only[k], codes[i]);
		if (!found)
			ck_abort_msg("rule '%s' has no test case", codes[i]);
	}
}
END_TEST

static bool has_warning(const struct ovf_diags *d, const char *code)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].severity == OVF_DIAG_WARNING && !strcmp(d->v[i].code, code))
			return true;
	return false;
}

START_TEST(test_warnings)
{
	struct {
		const char *code;
		struct parts p;
	} w[] = {
		{"section-unknown", {.vssect = "<FooSection ovf:required=\"false\"><Info>x</Info></FooSection>"}},
		{"file-unused", {.refs = FILE1 "<File ovf:id=\"f2\" ovf:href=\"x.bin\"/>"}},
		{"disk-unused", {.disks = DISK1 "<Disk ovf:diskId=\"d2\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>"}},
		{"disk-capacity-property", {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"file1\" ovf:capacity=\"${sz}\" ovf:format=\"" FMT "\"/>"}},
		{"config-default-missing", {.envsect = DOS(CFG("a", "") CFG("b", ""))}},
		{"item-resourcetype-unknown-optional", {.items = ITEMS_BASE "<Item ovf:required=\"false\"><rasd:InstanceID>9</rasd:InstanceID><rasd:ResourceType>89</rasd:ResourceType></Item>"}},
		{"item-units-nonstandard", {.items = CPU("1", "1") "<Item><rasd:AllocationUnits>byte * 2 ^ 20</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID>"
			"<rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>512</rasd:VirtualQuantity></Item>" SCSI DISKITEM("4", "ovf:/disk/disk1", "3", "0") NIC("lan")}},
		{"property-type-nonstandard", {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"Boolean\" ovf:value=\"True\""))}},
		{"property-qualifier-unchecked", {.vssect = PS("", PROP(" ovf:key=\"k\" ovf:type=\"string\" ovf:qualifiers=\"Ip(Mgmt)\""))}},
		{"file-size-negative", {.refs = "<File ovf:id=\"file1\" ovf:href=\"disk1.vmdk\" ovf:size=\"-2\"/>"}},
	};
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		struct ovf_diags d = {0};
		run(&w[i].p, 0, &d);
		if (!has_warning(&d, w[i].code) || d.nerrors) {
			dump(&d);
			ck_abort_msg("warning case %zu: expected only a '%s' warning", i, w[i].code);
		}
		ovf_diags_free(&d);
	}
}
END_TEST

/* --lax makes conformance errors warnings, not broken references. */
START_TEST(test_lax)
{
	struct ovf_diags d = {0};
	struct parts p = {.vsinfo = "", .vssect = "<FooSection><Info>x</Info></FooSection>"};
	run(&p, 0, &d);
	ck_assert(has_error(&d, "info-missing") && has_error(&d, "section-unknown-required"));
	ovf_diags_free(&d);
	run(&p, OVF_VALIDATE_LAX, &d);
	ck_assert_uint_eq(d.nerrors, 0);
	ck_assert(has_warning(&d, "info-missing") && has_warning(&d, "section-unknown-required"));
	ovf_diags_free(&d);
	struct parts q = {.disks = "<Disk ovf:diskId=\"disk1\" ovf:fileRef=\"nofile\" ovf:capacity=\"1\" ovf:format=\"" FMT "\"/>"};
	run(&q, OVF_VALIDATE_LAX, &d);
	ck_assert(has_error(&d, "disk-fileref-unresolved"));
	ovf_diags_free(&d);
}
END_TEST

START_TEST(test_allow_remote)
{
	struct ovf_diags d = {0};
	struct parts p = {.refs = "<File ovf:id=\"file1\" ovf:href=\"http://example.com/disk1.vmdk\"/>"};
	run(&p, OVF_VALIDATE_ALLOW_REMOTE, &d);
	ck_assert_uint_eq(d.nerrors, 0);
	ovf_diags_free(&d);
}
END_TEST

/* Diagnostics carry the line of the offending element. */
START_TEST(test_lines)
{
	struct ovf_diags d = {0};
	struct parts p = {.refs = "\n\n<File ovf:id=\"file1\" ovf:href=\"disk1.vmdk\" ovf:chunkSize=\"-1\"/>"};
	run(&p, 0, &d);
	bool found = false;
	for (size_t i = 0; i < d.n; i++)
		if (!strcmp(d.v[i].code, "file-chunksize")) {
			ck_assert_int_eq(d.v[i].line, 7);
			found = true;
		}
	ck_assert(found);
	ovf_diags_free(&d);
}
END_TEST

/* Hostile sizes stay bounded: many Items in many configurations finish. */
START_TEST(test_bounded_work)
{
	od_buf items = {0}, cfgs = {0};
	for (int i = 0; i < 3000; i++)
		od_buf_printf(&items, "<Item><rasd:InstanceID>%d</rasd:InstanceID><rasd:ResourceType>14</rasd:ResourceType></Item>", i + 10);
	od_buf_puts(&items, ITEMS_BASE);
	od_buf_puts(&cfgs, "<DeploymentOptionSection><Info>o</Info>");
	for (int i = 0; i < 200; i++)
		od_buf_printf(&cfgs, "<Configuration ovf:id=\"c%d\"><Label>l</Label><Description>d</Description></Configuration>", i);
	od_buf_puts(&cfgs, "</DeploymentOptionSection>");
	struct parts p = {.items = items.data, .envsect = cfgs.data};
	struct ovf_diags d = {0};
	run(&p, 0, &d);
	ck_assert(has_warning(&d, "item-check-skipped"));
	ovf_diags_free(&d);
	od_buf_free(&items);
	od_buf_free(&cfgs);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ovf_validate");
	TCase *tc = od_check_tcase(s, "rules");
	tcase_add_test(tc, test_template_clean);
	tcase_add_loop_test(tc, test_rule, 0, (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, test_all_codes_covered);
	tcase_add_test(tc, test_warnings);
	tcase_add_test(tc, test_lax);
	tcase_add_test(tc, test_allow_remote);
	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_bounded_work);
	return od_check_run(s);
}
