/* vmware_backdoor.c - the commands of VMware's low-bandwidth backdoor port
 * (0x5658) that guests ask at start, and the MESSAGE command that carries
 * GuestRPC (guestrpc.c).  Pure register-in, register-out: kvm.c reads the
 * vCPU's registers on the I/O exit, calls bdoor_call() and writes them back.
 *
 * Answered: GETVERSION (Linux's arch/x86/kernel/cpu/vmware.c and
 * open-vm-tools' VmCheck_GetVersion test EBX = magic and EAX != ~0),
 * GETHZ (TSC and bus frequency, or "unknown" with EBX left at ~0 as Linux
 * expects), GETMHZ, GETHWVERSION, GET_VCPU_INFO (no optional feature),
 * MESSAGE.  Every other command is "unsupported": EAX = ~0, the answer
 * VMware gives for commands a VM does not have.  The high-bandwidth port
 * (0x5659) is not offered: the MESSAGE status never has the HB bit, so the
 * tools move messages four bytes at a time on this port. */
#include "config.h"
#include "runner/guestrpc.h"

void bdoor_call(struct guestrpc *g, const struct bdoor_info *info, struct bdoor_regs *r)
{
	if ((uint32_t)r->rax != BDOOR_MAGIC) {
		r->rax = 0xffffffffu; /* an empty port */
		return;
	}
	switch ((uint32_t)r->rcx & 0xffff) {
	case BDOOR_CMD_GETVERSION:
		r->rax = BDOOR_VERSION;
		r->rbx = BDOOR_MAGIC;
		r->rcx = BDOOR_TYPE_ESX;
		return;
	case BDOOR_CMD_GETHZ:
		if (!info->tsc_khz) {
			r->rax = 0xffffffffu;
			r->rbx = 0xffffffffu;
			return;
		}
		{
			uint64_t hz = info->tsc_khz * 1000;
			r->rax = (uint32_t)hz;
			r->rbx = (uint32_t)(hz >> 32);
			r->rcx = 1000000000u; /* the local APIC timer: KVM's 1 GHz */
		}
		return;
	case BDOOR_CMD_GETMHZ:
		r->rax = info->tsc_khz ? (uint32_t)(info->tsc_khz / 1000) : 0xffffffffu;
		r->rbx = BDOOR_MAGIC;
		return;
	case BDOOR_CMD_GETHWVERSION:
		r->rax = info->hw_version ? info->hw_version : 0xffffffffu;
		return;
	case BDOOR_CMD_GET_VCPU_INFO:
		r->rax = 0; /* valid (bit 31 clear), nothing offered */
		return;
	case BDOOR_CMD_MESSAGE:
		if (g) {
			guestrpc_message(g, r);
			r->rax = 0;
		} else {
			r->rcx = 0; /* no channel can open */
		}
		return;
	default:
		r->rax = 0xffffffffu;
		return;
	}
}
