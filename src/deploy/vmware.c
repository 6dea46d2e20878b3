/* vmware.c - the VMware platform of a deployed appliance (issue 16): which
 * OVF environment transports the descriptor names, whether the guest should
 * see VMware, and at start whether guestinfo can reach the guest's tools
 * or the environment CD has to stand in for it.
 *
 * open-vm-tools reads guestinfo.ovfEnv through the backdoor port from user
 * space.  Only the embedded runner answers GuestRPC (QEMU's vmport has no
 * RPC channel), and under KVM a user-space IN on the port reaches us only
 * when the kvm module was loaded with enable_vmware_backdoor=1; otherwise
 * the guest's tools get a fault.  In both cases the environment goes on the
 * CD as well, with a warning that says how to fix the host. */
#include "config.h"
#include "deploy/deploy.h"
#include "runner/vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ovf-env.xml must fit one GuestRPC reply ("1 " + the document) */
#define GUESTINFO_ENV_MAX 65000

void deploy_transports(const char *transport, bool *iso, bool *guestinfo)
{
	*iso = *guestinfo = false;
	if (!transport)
		return;
	const char *p = transport;
	while (*p) {
		p += strspn(p, " \t\r\n");
		size_t n = strcspn(p, " \t\r\n");
		if (n == 3 && !strncasecmp(p, "iso", 3))
			*iso = true;
		else if (n == 20 && !strncmp(p, "com.vmware.guestInfo", 20))
			*guestinfo = true;
		p += n;
	}
}

bool deploy_is_vmware_system(const char *system_type)
{
	/* "vmx-13", or several: "vmx-10 vmx-13" */
	return system_type && strstr(system_type, "vmx-") != NULL;
}

unsigned deploy_vmx_version(const char *system_type)
{
	unsigned best = 0;
	for (const char *p = system_type; p && (p = strstr(p, "vmx-")); p += 4) {
		char *end;
		unsigned long v = strtoul(p + 4, &end, 10);
		if (end != p + 4 && v < 1000 && v > best)
			best = (unsigned)v;
	}
	return best;
}

int deploy_platform_parse(const char *s, enum deploy_platform *out, od_err *e)
{
	if (!strcmp(s, "auto"))
		*out = DEPLOY_PLATFORM_AUTO;
	else if (!strcmp(s, "vmware"))
		*out = DEPLOY_PLATFORM_VMWARE;
	else if (!strcmp(s, "generic") || !strcmp(s, "kvm"))
		*out = DEPLOY_PLATFORM_GENERIC;
	else
		return od_err_set(e, OD_E_USAGE, "--platform %s: say auto, vmware or generic", s);
	return 0;
}

const char *deploy_backdoor_fix(void)
{
	bool amd = access("/sys/module/kvm_amd", F_OK) == 0;
	return amd ? "modprobe -r kvm_amd kvm && modprobe kvm enable_vmware_backdoor=1 && modprobe kvm_amd"
		   : "modprobe -r kvm_intel kvm && modprobe kvm enable_vmware_backdoor=1 && modprobe kvm_intel";
}

bool deploy_guestinfo_reaches_tools(enum deploy_backend b, char *why, size_t whylen)
{
	if (b != DEPLOY_BACKEND_EMBEDDED) {
		snprintf(why, whylen,
			 "QEMU has no VMware GuestRPC channel (its vmport answers a few backdoor commands only); "
			 "the embedded runner has one but needs hardware virtualization");
		return false;
	}
	if (!vm_host_kvm_vmware_backdoor()) {
		snprintf(why, whylen,
			 "this host's kvm module does not pass the guest's backdoor port accesses from user space "
			 "(/sys/module/kvm/parameters/enable_vmware_backdoor is not Y). Fix, as root with no VM "
			 "running: %s; to keep it across reboots: echo 'options kvm enable_vmware_backdoor=1' "
			 ">/etc/modprobe.d/kvm-vmware-backdoor.conf",
			 deploy_backdoor_fix());
		return false;
	}
	snprintf(why, whylen, "guestinfo.ovfEnv through the VMware backdoor");
	return true;
}

void deploy_vmware_warn(const struct instance *in, enum deploy_backend b)
{
	char why[512];
	/* with "iso" named too, the CD serves: nothing to say */
	if (!in->spec.guestinfo || !in->spec.cdrom_fallback_only || deploy_guestinfo_reaches_tools(b, why, sizeof why))
		return;
	fprintf(stderr,
		"ovfdeploy: warning: the appliance reads its OVF environment with VMware Tools "
		"(transport com.vmware.guestInfo), which will not reach it: %s.\n"
		"ovfdeploy: warning: the environment is on a CD-ROM instead (ovf-env.xml), "
		"which the appliance may not look at.\n",
		why);
}

int deploy_vmware_config(const struct instance *in, enum deploy_backend b, struct vm_vmware *vw, char **env,
			 bool *attach_iso, od_err *e)
{
	memset(vw, 0, sizeof *vw);
	*env = NULL;
	*attach_iso = in->spec.cdrom != NULL;
	const struct vmspec *s = &in->spec;
	vw->identity = s->vmware;
	vw->hw_version = s->vmx_version;
	if (!s->guestinfo) {
		vw->backdoor = s->vmware; /* a VMware guest finds its hypervisor */
		return 0;
	}
	char why[512];
	bool ok = deploy_guestinfo_reaches_tools(b, why, sizeof why);
	if (b != DEPLOY_BACKEND_EMBEDDED)
		return 0;
	/* the backdoor serves guestinfo even when user space cannot reach
	 * it: the guest kernel can, and a host fixed later needs no redeploy */
	char *path = od_asprintf("%s/ovf-env.xml", in->dir);
	if (!path)
		return od_err_nomem(e);
	size_t len;
	od_err re;
	int rc = od_read_file(path, GUESTINFO_ENV_MAX, env, &len, &re);
	free(path);
	if (rc < 0) {
		/* too big for one GuestRPC reply (or unreadable): the CD only */
		fprintf(stderr, "ovfdeploy: warning: guestinfo.ovfEnv not offered (%s); the environment is on the CD\n",
			re.msg);
		*env = NULL;
		vw->backdoor = vw->identity;
		return 0;
	}
	if (ok && s->cdrom_fallback_only)
		*attach_iso = false;
	vw->backdoor = true;
	vw->guestinfo[0][0] = "guestinfo.ovfEnv";
	vw->guestinfo[0][1] = *env;
	vw->nguestinfo = 1;
	return 0;
}
