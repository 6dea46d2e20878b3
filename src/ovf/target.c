/* target.c - what a deployment target cannot honour in a descriptor
 * (validate --target): hardware it has no device for, environment
 * transports it does not deliver, fields it reads differently.  Every
 * finding is a warning with code "target-<target>-..."; none blocks a
 * deployment here, they say what will be lost or changed there.
 *
 * vsphere: the device types vCenter's CreateImportSpec accepts (govmomi's
 *   simulator refuses the others with "unknown ethernet card type"), a
 *   CD-ROM for the iso transport, ovf:capacityAllocationUnits (a capacity
 *   without units is read as KiB), vmw:osType (the vSphere Client refuses
 *   a paravirtual SCSI controller for a guest OS it cannot map), vmx-N.
 * virtualbox: its NIC and controller models, and no OVF environment at
 *   all (it ignores ovf:transport and the properties).
 * ovfdeploy: what deploy maps (NICs to virtio-net, controllers to
 *   virtio-blk) and the guestinfo transport's needs. */
#include "config.h"
#include "ovf/ovf.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

static bool in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcasecmp(s, list[i]))
			return true;
	return false;
}

static bool names(const char *transport, const char *word)
{
	if (!transport)
		return false;
	size_t n = strlen(word);
	for (const char *p = transport; (p = strstr(p, word)); p += n)
		if ((p == transport || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
			return true;
	return false;
}

#define W(code, line, ...)                                                              \
	do {                                                                            \
		if (ovf_diags_add(out, OVF_DIAG_WARNING, code, line, __VA_ARGS__) < 0) \
			return od_err_nomem(e);                                         \
	} while (0)

static const char *const vs_nics[] = { "E1000", "E1000e", "VmxNet3", "VmxNet2", "PCNet32", "Vlance", "VmxNet", NULL };
static const char *const vs_scsi[] = { "lsilogic", "lsilogicsas", "buslogic", "VirtualSCSI", NULL };
static const char *const vb_nics[] = { "E1000", "PCNet32", "PCNet", "virtio", "VirtIO", NULL };
static const char *const vb_scsi[] = { "lsilogic", "lsilogicsas", "buslogic", NULL };

static int check_section(const struct ovf_virtual_system *vs, const struct ovf_hw_section *hw, int target,
			 struct ovf_diags *out, od_err *e)
{
	bool cdrom = false, pvscsi = false;
	for (size_t i = 0; i < hw->nitems; i++) {
		const struct ovf_item *it = &hw->items[i];
		const char *sub = it->resource_sub_type;
		const char *nm = it->element_name ? it->element_name : it->instance_id ? it->instance_id : "?";
		switch (it->resource_type_num) {
		case 10: /* Ethernet adapter */
			if (target == 0 && (!sub || !in_list(sub, vs_nics)))
				W("target-vsphere-nic", it->line,
				  "network adapter %s: vSphere has no adapter type '%s' (CreateImportSpec refuses it); "
				  "use VmxNet3 or E1000", nm, sub ? sub : "(none)");
			else if (target == 1 && sub && !in_list(sub, vb_nics))
				W("target-virtualbox-nic", it->line,
				  "network adapter %s: VirtualBox has no '%s' and substitutes its default adapter", nm, sub);
			else if (target == 2 && sub && strcasecmp(sub, "virtio") != 0)
				W("target-ovfdeploy-nic", it->line, "network adapter %s (%s) is provided as virtio-net", nm, sub);
			break;
		case 6: /* Parallel SCSI HBA */
			if (sub && !strcasecmp(sub, "VirtualSCSI"))
				pvscsi = true;
			if (target == 0 && sub && !in_list(sub, vs_scsi))
				W("target-vsphere-controller", it->line,
				  "controller %s: vSphere has no SCSI controller type '%s'; use lsilogic or VirtualSCSI", nm, sub);
			else if (target == 1 && sub && !in_list(sub, vb_scsi))
				W("target-virtualbox-controller", it->line,
				  "controller %s: VirtualBox has no SCSI controller '%s' and substitutes LsiLogic", nm, sub);
			else if (target == 2 && sub && strcasecmp(sub, "virtio") && strcasecmp(sub, "virtio-scsi"))
				W("target-ovfdeploy-controller", it->line,
				  "controller %s (%s): its disks are provided as virtio-blk", nm, sub);
			break;
		case 15: /* CD drive */
		case 16: /* DVD drive */
			cdrom = true;
			break;
		case 1: case 3: case 4: case 5: case 14: case 17: case 20: case 23: case 24:
			break;
		default: /* (no ResourceType at all is validate's error) */
			if (target == 0 && it->resource_type_num >= 0)
				W("target-vsphere-device", it->line, "item %s: vSphere imports no device of ResourceType %s", nm,
				  it->resource_type ? it->resource_type : "(none)");
			break;
		}
	}
	bool iso = names(hw->transport, "iso"), guestinfo = names(hw->transport, "com.vmware.guestInfo");
	if (target == 0) {
		if (iso && !cdrom)
			W("target-vsphere-transport", hw->line,
			  "transport iso: vSphere attaches the environment to a CD-ROM, and the hardware declares none");
		if (!hw->system_type || !strstr(hw->system_type, "vmx-"))
			W("target-vsphere-type", hw->line, "VirtualSystemType '%s': vSphere expects vmx-N",
			  hw->system_type ? hw->system_type : "(none)");
		if (pvscsi && !vs->os_type)
			W("target-vsphere-ostype", vs->line,
			  "a VirtualSCSI controller without vmw:osType: the vSphere Client refuses it for a guest OS "
			  "it cannot map from the CIM id; add vmw:osType (e.g. otherLinux64Guest)");
	} else if (target == 1) {
		if (hw->transport && hw->transport[0])
			W("target-virtualbox-transport", hw->line,
			  "transport '%s': VirtualBox delivers no OVF environment; the guest gets no properties",
			  hw->transport);
	} else if (target == 2) {
		if (guestinfo && !iso)
			W("target-ovfdeploy-transport", hw->line,
			  "transport com.vmware.guestInfo alone: the guest's VMware Tools get it only from the embedded "
			  "runner on a kvm module with enable_vmware_backdoor=1; elsewhere the environment is on a CD");
	}
	return 0;
}

static int check_system(const ovf_envelope *env, const struct ovf_virtual_system *vs, int target,
			struct ovf_diags *out, od_err *e)
{
	(void)env;
	for (size_t h = 0; h < vs->nhw; h++)
		if (check_section(vs, &vs->hw[h], target, out, e) < 0)
			return -1;
	if (target == 1) {
		size_t nprops = 0;
		for (size_t p = 0; p < vs->nproducts; p++)
			nprops += vs->products[p].nprops;
		if (nprops)
			W("target-virtualbox-properties", vs->line,
			  "%zu properties: VirtualBox neither asks for them nor passes them to the guest", nprops);
	}
	return 0;
}

int ovf_check_target(const ovf_envelope *env, const char *target, struct ovf_diags *out, od_err *e)
{
	int t;
	if (!strcmp(target, "vsphere"))
		t = 0;
	else if (!strcmp(target, "virtualbox"))
		t = 1;
	else if (!strcmp(target, "ovfdeploy"))
		t = 2;
	else
		return od_err_set(e, OD_E_USAGE, "--target %s: say vsphere, virtualbox or ovfdeploy", target);
	if (t == 0)
		for (size_t i = 0; i < env->ndisks; i++)
			if (!env->disks[i].capacity_units)
				W("target-vsphere-capacity-units", env->disks[i].line,
				  "disk %s: no ovf:capacityAllocationUnits; vSphere reads the capacity %s as KiB, not bytes",
				  env->disks[i].disk_id ? env->disks[i].disk_id : "?",
				  env->disks[i].capacity ? env->disks[i].capacity : "?");
	for (size_t s = 0; s < env->nsystems; s++)
		if (check_system(env, env->systems[s], t, out, e) < 0)
			return -1;
	return 0;
}
