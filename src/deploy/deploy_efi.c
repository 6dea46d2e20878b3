/* deploy_efi.c - UEFI firmware for instances: finding OVMF and giving each
 * instance its own variable store.
 *
 * OVMF comes in two parts that must be of one build: the code (read-only
 * flash) and a template of the variable store (read-write flash, where
 * the guest keeps its boot entries).  Each instance gets a copy of the
 * template in its directory, made at deploy time and synced like the rest
 * of the instance's state, so what one guest writes persists across its
 * stop/start and never reaches another instance. */
#include "config.h"
#include "deploy/deploy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A variable store larger than this is no OVMF template. */
#define EFI_VARS_MAX (16u << 20)

static bool readable(const char *p)
{
	return p && access(p, R_OK) == 0;
}

static int find_ovmf(const char **code, const char **vars, od_err *e)
{
	static const char *const pairs[][2] = {
		{"/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"},
		{"/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"},
	};
	const char *ec = getenv("OVFDEPLOY_OVMF_CODE"), *ev = getenv("OVFDEPLOY_OVMF_VARS");
	if ((ec && *ec) || (ev && *ev)) {
		if (!ec || !*ec || !ev || !*ev)
			return od_err_set(e, OD_E_USAGE, "set both OVFDEPLOY_OVMF_CODE and OVFDEPLOY_OVMF_VARS (a code image and its variable store template)");
		if (!readable(ec) || !readable(ev))
			return od_err_set(e, OD_E_IO, "%s: cannot read the UEFI firmware", readable(ec) ? ev : ec);
		*code = ec;
		*vars = ev;
		return 0;
	}
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
		if (readable(pairs[i][0]) && readable(pairs[i][1])) {
			*code = pairs[i][0];
			*vars = pairs[i][1];
			return 0;
		}
	return od_err_set(e, OD_E_UNSUPPORTED, "the appliance needs UEFI firmware and OVMF is not installed "
			  "(install the Debian package ovmf), or deploy it with --firmware bios");
}

int deploy_efi_prepare(struct vmspec *s, const char *dir, od_err *e)
{
	const char *code = NULL, *tmpl = NULL;
	if (find_ovmf(&code, &tmpl, e) < 0)
		return -1;
	char *data = NULL;
	size_t len = 0;
	if (od_read_file(tmpl, EFI_VARS_MAX, &data, &len, e) < 0)
		return -1;
	if (len == 0 || len % 4096) {
		free(data);
		return od_err_set(e, OD_E_INVALID, "%s: %zu bytes is no UEFI variable store (a multiple of 4 KiB)", tmpl, len);
	}
	char *vars = od_asprintf("%s/efi-vars.fd", dir);
	char *codecopy = od_strdup(code);
	if (!vars || !codecopy) {
		free(vars);
		free(codecopy);
		free(data);
		return od_err_nomem(e);
	}
	od_atomic_file af;
	int rc = od_atomic_open(&af, vars, 0600, e);
	if (rc == 0 && (rc = od_write_all(af.fd, data, len, vars, e)) == 0)
		rc = od_atomic_commit(&af, e);
	else if (rc == 0)
		od_atomic_abort(&af);
	free(data);
	if (rc < 0) {
		free(vars);
		free(codecopy);
		return -1;
	}
	free(s->efi_code);
	free(s->efi_vars);
	s->efi = true;
	s->efi_code = codecopy;
	s->efi_vars = vars;
	return 0;
}

int deploy_efi_check(const struct vmspec *s, od_err *e)
{
	if (!s->efi)
		return 0;
	if (!s->efi_code || !s->efi_vars)
		return od_err_set(e, OD_E_INVALID, "the instance is UEFI but its configuration names no firmware files");
	struct stat st;
	if (stat(s->efi_code, &st) < 0)
		return od_err_errno(e, errno, "%s: the UEFI firmware of this instance (install the Debian package ovmf)",
				    s->efi_code);
	if (stat(s->efi_vars, &st) < 0)
		return od_err_errno(e, errno, "%s: the instance's UEFI variable store", s->efi_vars);
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > EFI_VARS_MAX || st.st_size % 4096)
		return od_err_set(e, OD_E_INVALID, "%s: not a UEFI variable store (%lld bytes)", s->efi_vars,
				  (long long)st.st_size);
	return 0;
}

/* Debian's OVMF has boot drivers for virtio, AHCI, IDE and NVMe, but not for
 * PVSCSI, the LSI 53C895A or the SAS 1068 (edk2 builds them only on
 * request), so a UEFI appliance whose boot disk sits on a VMware SCSI model
 * (PVSCSI, or what stands in for the LSI Logic and BusLogic adapters) would
 * stop at OVMF's boot menu.  That controller becomes a SATA (AHCI) one, whose
 * driver general-purpose kernels carry, with a warning; its disks keep their
 * order.  Done on the plan, so that the local backends, libvirt and inspect
 * all say the same. */
static bool efi_cannot_boot(enum hw_ctrl_model m)
{
	return m == HW_CTRL_PVSCSI || m == HW_CTRL_LSILOGIC || m == HW_CTRL_LSISAS || m == HW_CTRL_BUSLOGIC;
}

void hwplan_efi_bootable(struct hwplan *p, struct ovf_warnings *w)
{
	if (p->boot == HWPLAN_NONE || p->boot >= p->ndisks || p->disks[p->boot].ctrl >= p->nctrls)
		return;
	size_t c = p->disks[p->boot].ctrl;
	enum hw_ctrl_model m = p->ctrls[c].model;
	if (!efi_cannot_boot(m))
		return;
	/* attached: the disks and the environment CD (an empty drive is not) */
	unsigned ports = hw_ctrl_units(HW_CTRL_AHCI), n = 0;
	for (size_t i = 0; i < p->ndisks; i++)
		n += p->disks[i].ctrl == c && (!p->disks[i].cdrom || i == p->env);
	if (n > ports) {
		ovf_warn(w, "UEFI: OVMF cannot boot from %s and its %u disks do not fit on a SATA controller's %u ports; "
			    "the boot may stop at the firmware (deploy --firmware bios, if the appliance can)",
			 hw_ctrl_name(m), n, ports);
		return;
	}
	/* Ports in the order of the slots the devices had, attached ones
	 * first; an empty drive that no port is left for leaves the bus (it
	 * is never attached anyway).  Slots are < 16: the plan made them. */
	unsigned next = 0;
	for (int empty = 0; empty < 2; empty++)
		for (unsigned u = 0; u < 64; u++)
			for (size_t i = 0; i < p->ndisks; i++) {
				struct hwplan_disk *d = &p->disks[i];
				bool att = !d->cdrom || i == p->env;
				if (d->ctrl != c || d->unit != u || att == (empty == 1))
					continue;
				if (next < ports)
					d->unit = 100 + next++;
				else
					d->ctrl = HWPLAN_NONE;
			}
	for (size_t i = 0; i < p->ndisks; i++)
		if (p->disks[i].ctrl == c && p->disks[i].unit >= 100)
			p->disks[i].unit -= 100;
	/* a SATA controller of its own, numbered after any the plan has */
	unsigned idx = 0;
	for (size_t k = 0; k < p->nctrls; k++)
		if (p->ctrls[k].model == HW_CTRL_AHCI && p->ctrls[k].index >= idx)
			idx = p->ctrls[k].index + 1;
	p->ctrls[c].model = HW_CTRL_AHCI;
	p->ctrls[c].index = idx;
	ovf_warn(w, "UEFI: Debian's OVMF cannot boot from %s (or the adapter standing in for it); the boot disk's "
		    "controller is given as SATA (AHCI) instead; the guest needs the ahci driver",
		 hw_ctrl_name(m));
}
