/* kvm.c - building a machine on /dev/kvm and running it.
 *
 * Memory layout (as QEMU's i440FX machine, which SeaBIOS expects):
 *   [0, low_ram)                RAM; below 1 MiB it also holds a copy of
 *                               the firmware's last 128 KiB at 0xE0000
 *   [low_ram, 4 GiB)            the PCI hole: MMIO BARs, IOAPIC, LAPIC,
 *                               KVM's identity map and TSS, the firmware
 *   [4 GiB, 4 GiB + high_ram)   the RAM that did not fit below the hole
 *
 * The firmware keeps a read-only copy at the top of 4 GiB, where the CPU
 * starts (F000:FFF0 with CS base 0xFFFF0000).  Real mode code runs from the
 * copy below 1 MiB.  On a PC that low copy is a ROM alias the chipset's PAM
 * registers can turn into RAM, and SeaBIOS does so to write its data
 * segment there; we map it as RAM from the start, which is what the guest
 * sees after its PAM writes, and SeaBIOS copies itself into it anyway. */
#include "config.h"
#include "runner/vmm.h"
#include "runner/virtio.h"
#include "runner/hw/pvscsi.h"
#include "runner/hw/ide.h"
#include "runner/hw/lsi53c1030.h"
#include "runner/hw/vmxnet3.h"
#include "runner/hw/scsi.h"
#include "runner/acpi.h"
#include "runner/smbios.h"
#include "runner/linux.h"
#include "runner/sandbox.h"
#include "runner/guestrpc.h"

#include <errno.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PCI_HOLE_START 0xC0000000ull /* used when RAM exceeds HOLE_MAX */
#define LOW_RAM_MAX 0xE0000000ull
#define IDENTITY_MAP_ADDR 0xFEFFC000ull /* one page, then three for the TSS */
#define TSS_ADDR 0xFEFFD000ull
#define FIRMWARE_MAX (16u << 20)
#define ISA_BIOS_SIZE 0x20000u /* the part of the firmware mirrored below 1 MiB */

struct vm *vm_alloc_common(od_err *e);

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
};

static int kvm_ioctl_err(od_err *e, const char *what)
{
	return od_err_errno(e, errno, "KVM: %s", what);
}

static int set_slot(struct vm *vm, unsigned slot, uint64_t gpa, uint64_t size, void *hva, bool ro, od_err *e)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = ro ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return od_err_errno(e, errno, "KVM: map guest memory slot %u at 0x%llx (%llu bytes)", slot,
				    (unsigned long long)gpa, (unsigned long long)size);
	return 0;
}

static int setup_memory(struct vm *vm, const struct vm_config *cfg, od_err *e)
{
	uint64_t mem = cfg->memory;
	vm->low_ram = mem > LOW_RAM_MAX ? PCI_HOLE_START : mem;
	vm->high_ram = mem - vm->low_ram;
	/* MAP_NORESERVE: the guest touches only what it uses, and the kernel
	 * backs pages on demand */
	void *p = mmap(NULL, mem, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return od_err_errno(e, errno, "guest RAM of %llu bytes", (unsigned long long)mem);
	vm->ram_base = p;
	vm->ram_map_size = mem;
	vm->ram[vm->nram++] = (struct vm_ram){ 0, vm->low_ram, p };
	if (vm_config_has_screen(cfg) && vm->low_ram > 0xc0000) {
		/* a display adapter: its legacy window 0xa0000-0xbffff must
		 * exit to the VGA, so RAM is mapped around it (slot 3 above) */
		if (set_slot(vm, 0, 0, 0xa0000, p, false, e) < 0 ||
		    set_slot(vm, 3, 0xc0000, vm->low_ram - 0xc0000, (uint8_t *)p + 0xc0000, false, e) < 0)
			return -1;
	} else if (set_slot(vm, 0, 0, vm->low_ram, p, false, e) < 0)
		return -1;
	if (vm->high_ram) {
		vm->ram[vm->nram++] = (struct vm_ram){ 1ull << 32, vm->high_ram, (uint8_t *)p + vm->low_ram };
		if (set_slot(vm, 1, 1ull << 32, vm->high_ram, (uint8_t *)p + vm->low_ram, false, e) < 0)
			return -1;
	}
	return 0;
}

static int setup_firmware(struct vm *vm, const struct vm_config *cfg, od_err *e)
{
	const char *path = cfg->firmware ? cfg->firmware : VM_DEFAULT_FIRMWARE;
	char *data;
	size_t len;
	if (od_read_file(path, FIRMWARE_MAX, &data, &len, e) < 0) {
		od_err_prefix(e, "firmware");
		return -1;
	}
	if (len == 0 || len % 4096 != 0) {
		free(data);
		return od_err_set(e, OD_E_INVALID, "firmware %s: size %zu is not a non-zero multiple of 4096", path, len);
	}
	void *rom = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rom == MAP_FAILED) {
		free(data);
		return od_err_errno(e, errno, "firmware mapping");
	}
	memcpy(rom, data, len);
	vm->rom = rom;
	vm->rom_size = len;
	/* the ISA BIOS window: the last 128 KiB (or all of a smaller image)
	 * ends at 1 MiB */
	size_t low = len < ISA_BIOS_SIZE ? len : ISA_BIOS_SIZE;
	memcpy(vm->ram_base + 0x100000 - low, data + len - low, low);
	free(data);
	/* Read-only when KVM can: writes to ROM then exit as MMIO and are
	 * dropped, as on real flash.  Otherwise the guest may scribble on its
	 * own copy, which only hurts itself. */
	bool ro = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
	if (!ro)
		mprotect(rom, len, PROT_READ);
	return set_slot(vm, 2, (1ull << 32) - len, len, rom, ro, e);
}

/* CPUID: what KVM supports, with our topology (one package, one thread per
 * core, APIC id = vCPU index) and without features we do not emulate. */
static int setup_cpuid(struct vm *vm, od_err *e)
{
	int nent = 128;
	for (;;) {
		struct kvm_cpuid2 *c = calloc(1, sizeof *c + nent * sizeof c->entries[0]);
		if (!c)
			return od_err_nomem(e);
		c->nent = nent;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			vm->cpuid = c;
			vm->cpuid_nent = c->nent;
			return 0;
		}
		free(c);
		if (errno != E2BIG || nent >= 4096)
			return kvm_ioctl_err(e, "KVM_GET_SUPPORTED_CPUID");
		nent *= 2;
	}
}

/* A VMware appliance's view (vm.h, struct vm_vmware): its tools refuse to
 * run unless CPUID 0x40000000 says "VMwareVMware" (open-vm-tools'
 * VmCheck_IsVirtualWorld), so VMware's leaves take the base and KVM's move
 * up by 0x100.  Linux looks for KVM's signature at every 0x100 step from
 * 0x40000000 and, finding it at a higher base than VMware's, still runs as
 * a KVM guest (kvmclock, PV EOI, ...), while user space sees VMware.
 * 0x40000010 is VMware's timing leaf: TSC and bus (APIC timer) kHz. */
static int vmware_cpuid(struct vm *vm, od_err *e)
{
	struct kvm_cpuid2 *old = vm->cpuid;
	struct kvm_cpuid2 *c = calloc(1, sizeof *c + (old->nent + 2) * sizeof c->entries[0]);
	if (!c)
		return od_err_nomem(e);
	unsigned n = 0;
	for (unsigned i = 0; i < old->nent; i++) {
		struct kvm_cpuid_entry2 en = old->entries[i];
		if (en.function >= 0x40000000u && en.function <= 0x400000ffu) {
			if (en.function == 0x40000000u)
				en.eax += 0x100;
			en.function += 0x100;
		} else if (en.function >= 0x40000100u && en.function <= 0x4fffffffu) {
			continue; /* nothing else lives there: keep the move unambiguous */
		}
		c->entries[n++] = en;
	}
	struct kvm_cpuid_entry2 base = { .function = 0x40000000u, .eax = 0x40000010u };
	memcpy(&base.ebx, "VMwa", 4);
	memcpy(&base.ecx, "reVM", 4);
	memcpy(&base.edx, "ware", 4);
	c->entries[n++] = base;
	c->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000010u };
	c->nent = n;
	free(old);
	vm->cpuid = c;
	vm->cpuid_nent = n;
	vm->vmware_identity = true;
	return 0;
}

static void cpuid_for_vcpu(struct vm *vm, struct kvm_cpuid2 *c, unsigned id)
{
	unsigned shift = 0;
	while ((1u << shift) < vm->ncpus)
		shift++;
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *en = &c->entries[i];
		switch (en->function) {
		case 1:
			en->ebx = (en->ebx & 0xffff) | (id << 24) | ((1u << shift) << 16);
			if (vm->ncpus > 1)
				en->edx |= 1u << 28; /* HTT: the count field is valid */
			else
				en->edx &= ~(1u << 28);
			en->ecx &= ~(1u << 3);  /* MONITOR/MWAIT: not offered */
			en->ecx &= ~(1u << 5);  /* VMX: no nesting */
			en->ecx |= 1u << 31;    /* running under a hypervisor */
			break;
		case 4:
			en->eax = (en->eax & 0x3fff) | (((1u << shift) - 1) << 26);
			break;
		case 0x40000010u: /* VMware timing leaf (vmware_cpuid) */
			if (vm->vmware_identity) {
				en->eax = (uint32_t)vm->tsc_khz;
				en->ebx = 1000000; /* KVM's APIC timer: 1 GHz */
			}
			break;
		case 6: /* thermal and power management: none */
		case 0xa: /* performance monitoring: none */
			en->eax = en->ebx = en->ecx = en->edx = 0;
			break;
		case 0xb:
		case 0x1f:
			if (en->index == 0) {
				en->eax = 0; en->ebx = 1; en->ecx = 0x100;
			} else if (en->index == 1) {
				en->eax = shift; en->ebx = vm->ncpus; en->ecx = 0x200 | 1;
			} else {
				en->eax = en->ebx = 0; en->ecx = en->index;
			}
			en->edx = id;
			break;
		}
	}
}

static void sig_noop(int sig)
{
	(void)sig;
}

static void end_with_error(struct vm *vm, const char *fmt, ...) OD_PRINTF(2, 3);
static void end_with_error(struct vm *vm, const char *fmt, ...)
{
	int none = VM_END_NONE;
	/* the message is written before the reason is published, and only by
	 * the first thread to end the VM with an error */
	static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&m);
	if (atomic_load(&vm->end_reason) == none && !vm->end_msg[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(vm->end_msg, sizeof vm->end_msg, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&m);
	vm_request_end(vm, VM_END_ERROR);
}

/* VMware's backdoor: a 32-bit IN on its port, with arguments in the other
 * general registers.  KVM has not finished the IN yet: EAX still holds the
 * magic, and what we put in the run area becomes EAX when KVM_RUN resumes,
 * so the registers other than EAX go back with KVM_SET_REGS (before the IN
 * completes, as QEMU's vmport does). */
static void backdoor_exit(struct vm *vm, struct vcpu *v, uint8_t *data)
{
	struct kvm_regs regs;
	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0) {
		end_with_error(vm, "vCPU %u: KVM_GET_REGS: %s", v->id, strerror(errno));
		return;
	}
	struct bdoor_regs r = { regs.rax, regs.rbx, regs.rcx, regs.rdx, regs.rsi, regs.rdi };
	struct bdoor_info info = { vm->tsc_khz, vm->vmw_hw_version };
	pthread_mutex_lock(&vm->dev_lock);
	bdoor_call(vm->guestrpc, &info, &r);
	pthread_mutex_unlock(&vm->dev_lock);
	regs.rax = (uint32_t)r.rax;
	regs.rbx = r.rbx;
	regs.rcx = r.rcx;
	regs.rdx = r.rdx;
	regs.rsi = r.rsi;
	regs.rdi = r.rdi;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0) {
		end_with_error(vm, "vCPU %u: KVM_SET_REGS: %s", v->id, strerror(errno));
		return;
	}
	uint32_t eax = (uint32_t)r.rax;
	memcpy(data, &eax, 4);
}

/* Pause: the vCPU is out of KVM_RUN, between two guest instructions (an
 * I/O exit it took is complete: its device has run, and KVM finishes the
 * instruction at the next KVM_RUN).  It waits here until resumed or the
 * machine ends.  immediate_exit goes back to 0 only after the wait, and
 * before the loop looks at pause_req and end_reason again: a pause or end
 * asked meanwhile set those first, so it is not lost. */
static void vcpu_park(struct vcpu *v)
{
	struct vm *vm = v->vm;
	pthread_mutex_lock(&vm->pause_lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->parked_cond);
	while (atomic_load(&vm->pause_req) && atomic_load(&vm->end_reason) == VM_END_NONE)
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->parked--;
	pthread_mutex_unlock(&vm->pause_lock);
	v->run->immediate_exit = 0;
	atomic_thread_fence(memory_order_seq_cst); /* as after EINTR in vcpu_thread */
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	struct kvm_run *run = v->run;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (!vm->no_sandbox) {
		od_err e;
		od_pool_forbid(); /* the disk library must not start threads here */
		if (sandbox_vcpu(&e) < 0) {
			end_with_error(vm, "vCPU %u: %s", v->id, e.msg);
			return NULL;
		}
	}
	/* vm_run holds dev_lock until every other thread is confined too */
	pthread_mutex_lock(&vm->dev_lock);
	pthread_mutex_unlock(&vm->dev_lock);

	while (atomic_load(&vm->end_reason) == VM_END_NONE) {
		if (atomic_load(&vm->pause_req)) {
			vcpu_park(v);
			continue;
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/* kicked (pause, end): clear immediate_exit, then
				 * look at the flags its setter stored first; the
				 * fence keeps that order (a store then a load) */
				run->immediate_exit = 0;
				atomic_thread_fence(memory_order_seq_cst);
				continue;
			}
			end_with_error(vm, "vCPU %u: KVM_RUN: %s", v->id, strerror(errno));
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint64_t bytes = (uint64_t)run->io.size * run->io.count;
			if (!od_range_ok(run->io.data_offset, bytes, vm->run_size)) {
				end_with_error(vm, "vCPU %u: I/O exit data outside the run area", v->id);
				break;
			}
			uint8_t *p = (uint8_t *)run + run->io.data_offset;
			if (vm->guestrpc && run->io.port == BDOOR_PORT && run->io.size == 4 && run->io.count == 1 &&
			    run->io.direction == KVM_EXIT_IO_IN) {
				backdoor_exit(vm, v, p);
				break;
			}
			for (uint32_t i = 0; i < run->io.count; i++, p += run->io.size)
				vm_io_dispatch(vm, VM_PIO, run->io.port, p, run->io.size,
					       run->io.direction == KVM_EXIT_IO_OUT);
			break;
		}
		case KVM_EXIT_MMIO:
			if (run->mmio.len <= 8)
				vm_io_dispatch(vm, VM_MMIO, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
					       run->mmio.is_write);
			break;
		case KVM_EXIT_SHUTDOWN: { /* triple fault: a PC resets */
			/* where, for the log: the one clue a boot loader's
			 * crash leaves.  On AMD, KVM has reset the vCPU by
			 * now (the VMCB is undefined after a shutdown), and
			 * what it reads is the reset vector: not a place. */
			struct kvm_regs r;
			struct kvm_sregs sr;
			char how[96];
			snprintf(how, sizeof how, "triple fault on vCPU %u", v->id);
			if (ioctl(v->fd, KVM_GET_REGS, &r) == 0 && ioctl(v->fd, KVM_GET_SREGS, &sr) == 0 &&
			    !(sr.cs.selector == 0xf000 && r.rip == 0xfff0))
				snprintf(how, sizeof how, "triple fault on vCPU %u at %04x:%llx (cr0 %llx)", v->id,
					 sr.cs.selector, (unsigned long long)r.rip, (unsigned long long)sr.cr0);
			vm_request_reset(vm, how);
			break;
		}
		case KVM_EXIT_SYSTEM_EVENT:
			if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
				vm_request_end(vm, VM_END_POWEROFF);
			else if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
				vm_request_reset(vm, "KVM reset event");
			else
				end_with_error(vm, "vCPU %u: system event %u", v->id, run->system_event.type);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_HLT:
			/* with the in-kernel LAPIC a halt never reaches us */
			end_with_error(vm, "vCPU %u: halted", v->id);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			end_with_error(vm, "vCPU %u: entry failed (reason 0x%llx)", v->id,
				       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			end_with_error(vm, "vCPU %u: KVM internal error (suberror %u)", v->id,
				       run->internal.suberror);
			break;
		default:
			end_with_error(vm, "vCPU %u: unexpected exit reason %u", v->id, run->exit_reason);
			break;
		}
	}
	return NULL;
}

static int setup_vcpus(struct vm *vm, od_err *e)
{
	int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run))
		return kvm_ioctl_err(e, "KVM_GET_VCPU_MMAP_SIZE");
	vm->run_size = sz;
	vm->vcpus = calloc(vm->ncpus, sizeof *vm->vcpus);
	if (!vm->vcpus)
		return od_err_nomem(e);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vm->vcpus[i].fd = -1;
	struct kvm_cpuid2 *base = vm->cpuid;
	size_t csz = sizeof *base + base->nent * sizeof base->entries[0];
	struct kvm_cpuid2 *c = malloc(csz);
	if (!c)
		return od_err_nomem(e);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		v->vm = vm;
		v->id = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (v->fd < 0) {
			free(c);
			return od_err_errno(e, errno, "KVM: create vCPU %u", i);
		}
		if (i == 0 && ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_GET_TSC_KHZ) > 0) {
			int khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
			if (khz > 0)
				vm->tsc_khz = (uint64_t)khz;
		}
		memcpy(c, base, csz);
		cpuid_for_vcpu(vm, c, i);
		if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0) {
			free(c);
			return od_err_errno(e, errno, "KVM: set CPUID of vCPU %u", i);
		}
		v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			free(c);
			return od_err_errno(e, errno, "KVM: map run area of vCPU %u", i);
		}
	}
	free(c);
	return 0;
}

/* fw_cfg contents: what SeaBIOS reads to learn about the machine. */
static int setup_fw_cfg(struct vm *vm, const struct vm_config *cfg, od_err *e)
{
	struct fw_cfg *f = vm->fw_cfg;
	uint8_t e820[5 * 20];
	size_t n = 0;
	/* entries: le64 address, le64 length, le32 type (1 RAM, 2 reserved) */
	struct { uint64_t a, l; uint32_t t; } ents[3] = {
		{ 0, vm->low_ram, 1 },
		{ IDENTITY_MAP_ADDR, 0x4000, 2 },
		{ 1ull << 32, vm->high_ram, 1 },
	};
	for (unsigned i = 0; i < 3; i++) {
		if (!ents[i].l)
			continue;
		uint8_t *p = e820 + n * 20;
		for (int b = 0; b < 8; b++) {
			p[b] = ents[i].a >> (8 * b);
			p[8 + b] = ents[i].l >> (8 * b);
		}
		for (int b = 0; b < 4; b++)
			p[16 + b] = ents[i].t >> (8 * b);
		n++;
	}
	uint8_t ram_size[8];
	for (int b = 0; b < 8; b++)
		ram_size[b] = cfg->memory >> (8 * b);
	/* SeaBIOS mirrors its screen to this port: the banner and the boot
	 * messages appear on the serial console, as with QEMU -nographic */
	uint8_t sercon[2] = { 0xf8, 0x03 };
	uint8_t zero16[2] = { 0, 0 };
	/* after a failed boot, wait for a key rather than rebooting, as QEMU
	 * does by default: a reboot would end the run as if all went well */
	uint8_t no_reboot[4] = { 0xff, 0xff, 0xff, 0xff };
	if (fw_cfg_add_u16(f, FW_CFG_NB_CPUS, vm->ncpus, e) < 0 ||
	    fw_cfg_add_u16(f, FW_CFG_MAX_CPUS, vm->ncpus, e) < 0 ||
	    fw_cfg_add_u16(f, FW_CFG_NOGRAPHIC, 1, e) < 0 ||
	    fw_cfg_add_u16(f, FW_CFG_BOOT_MENU, 0, e) < 0 ||
	    fw_cfg_add_item(f, FW_CFG_RAM_SIZE, ram_size, 8, e) < 0 ||
	    fw_cfg_add_file(f, "etc/e820", e820, n * 20, e) < 0 ||
	    fw_cfg_add_file(f, "etc/sercon-port", sercon, 2, e) < 0 ||
	    fw_cfg_add_file(f, "etc/show-boot-menu", zero16, 2, e) < 0 ||
	    fw_cfg_add_file(f, "etc/boot-fail-wait", no_reboot, 4, e) < 0 ||
	    fw_cfg_add_file(f, "bootorder", "", 0, e) < 0)
		return -1;
	/* ready SMBIOS tables spare SeaBIOS building its own (smbios.c) */
	struct smbios_machine sm = { vm->ncpus, vm->low_ram, vm->high_ram, 0, 0, NULL, NULL, NULL };
	char serial[64];
	if (vm->vmware_identity) {
		/* what VMware's firmware says; Linux's older VMware detection
		 * looks for "VMware" in the serial number */
		uint8_t u[16] = { 0 };
		if (getrandom(u, sizeof u, 0) != (ssize_t)sizeof u)
			memset(u, 0x42, sizeof u);
		int k = snprintf(serial, sizeof serial, "VMware-");
		for (unsigned i = 0; i < 16; i++)
			k += snprintf(serial + k, sizeof serial - (size_t)k, "%02x%s", u[i],
				      i == 15 ? "" : i == 7 ? "-" : " ");
		sm.manufacturer = "VMware, Inc.";
		sm.product = "VMware Virtual Platform";
		sm.serial = serial;
	}
	const struct kvm_cpuid2 *cpuid = vm->cpuid;
	for (unsigned i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 1) {
			sm.cpuid_1_eax = cpuid->entries[i].eax;
			sm.cpuid_1_edx = cpuid->entries[i].edx;
		}
	struct smbios_tables s;
	if (smbios_build(&s, &sm, e) < 0)
		return -1;
	int rc = 0;
	if (fw_cfg_add_file(f, "etc/smbios/smbios-anchor", s.anchor, sizeof s.anchor, e) < 0 ||
	    fw_cfg_add_file(f, "etc/smbios/smbios-tables", s.tables, s.tables_len, e) < 0)
		rc = -1;
	smbios_free(&s);
	if (rc < 0)
		return -1;
	struct acpi_tables a;
	if (acpi_build(&a, vm->ncpus, e) < 0)
		return -1;
	if (fw_cfg_add_file(f, "etc/acpi/tables", a.tables, a.tables_len, e) < 0 ||
	    fw_cfg_add_file(f, "etc/acpi/rsdp", a.rsdp, sizeof a.rsdp, e) < 0 ||
	    fw_cfg_add_file(f, "etc/table-loader", a.loader, a.loader_len, e) < 0)
		rc = -1;
	acpi_free(&a);
	return rc;
}

static void free_vm(struct vm *vm)
{
	if (!vm)
		return;
	for (unsigned i = 0; vm->vcpus && i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (v->run)
			munmap(v->run, vm->run_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	free(vm->vcpus);
	/* the screen before the bus: the VGA takes itself off it */
	vnc_stop(vm->vnc);
	vga_free(vm->vga);
	/* the bus first: it unmaps the BARs of the devices it holds */
	pci_free(vm->pci);
	virtio_blk_free_all(vm);
	scsi_hba_free(vm->pvscsi);
	scsi_hba_free(vm->lsi);
	ide_free(vm->ide);
	virtio_rng_free(vm->rng);
	virtio_net_free(vm->net);
	vmxnet3_free(vm->vmxnet3);
	serial_free(vm->serial);
	cmos_free(vm->cmos);
	fw_cfg_free(vm->fw_cfg);
	misc_free(vm->misc);
	acpi_pm_free(vm->acpi_pm);
	guestrpc_free(vm->guestrpc);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm_free(vm);
}

/* MSIs go straight to the in-kernel local APICs: KVM decodes the
 * destination and vector from the address/data pair, so nothing here needs
 * a GSI route per vector.  The pair is the guest's and may be nonsense; KVM
 * then delivers to no CPU, which is what real hardware would do with a
 * write to a wrong address.  (The ioctl runs in vCPU threads: the seccomp
 * filter of sandbox.c must allow KVM_SIGNAL_MSI.) */
void vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	if (vm->vm_fd < 0) {
		vm->msi_count++;
		vm->msi_addr = addr;
		vm->msi_data = data;
		return;
	}
	struct kvm_msi m = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32), .data = data };
	/* fails only when the VM has no irqchip, which build() makes first */
	(void)ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &m);
}

static int build(struct vm *vm, const struct vm_config *cfg, od_err *e)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return od_err_errno(e, errno, "/dev/kvm");
	int ver = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION)
		return od_err_set(e, OD_E_UNSUPPORTED, "/dev/kvm: API version %d, expected %d", ver, KVM_API_VERSION);
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0)
		return od_err_set(e, OD_E_UNSUPPORTED, "/dev/kvm: no in-kernel irqchip or user memory");
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return kvm_ioctl_err(e, "KVM_CREATE_VM");
	vm->ncpus = cfg->cpus;
	vm->no_sandbox = cfg->no_sandbox;
	/* without it the devices stay with INTx (no MSI-X capability) */
	vm->no_msi = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SIGNAL_MSI) <= 0;

	/* Before any vCPU exists: the identity map and TSS live in the PCI
	 * hole, where they are reserved in the e820 map. */
	uint64_t idmap = IDENTITY_MAP_ADDR;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		return kvm_ioctl_err(e, "KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)TSS_ADDR) < 0)
		return kvm_ioctl_err(e, "KVM_SET_TSS_ADDR");
	if (setup_memory(vm, cfg, e) < 0 || (!cfg->kernel && setup_firmware(vm, cfg, e) < 0))
		return -1;
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return kvm_ioctl_err(e, "KVM_CREATE_IRQCHIP");
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return kvm_ioctl_err(e, "KVM_CREATE_PIT2");
	if (setup_cpuid(vm, e) < 0)
		return -1;
	if (cfg->vmware.identity && vmware_cpuid(vm, e) < 0)
		return -1;
	if (cfg->vmware.backdoor) {
		uint64_t seed = 0;
		if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
			seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
		if (!(vm->guestrpc = guestrpc_new(seed, e)))
			return -1;
		vm->vmw_hw_version = cfg->vmware.hw_version;
		for (unsigned i = 0; i < cfg->vmware.nguestinfo && i < VM_MAX_GUESTINFO; i++)
			if (guestrpc_set_host_key(vm->guestrpc, cfg->vmware.guestinfo[i][0],
						  cfg->vmware.guestinfo[i][1], e) < 0)
				return -1;
	}

	if (!(vm->serial = serial_new(vm, 0x3f8, 4, cfg->console_fd, e)) ||
	    !(vm->cmos = cmos_new(vm, vm->low_ram, vm->high_ram, vm->ncpus, e)) ||
	    !(vm->fw_cfg = fw_cfg_new(vm, e)) ||
	    !(vm->misc = misc_new(vm, cfg->fwlog_fd, e)) ||
	    !(vm->acpi_pm = acpi_pm_new(vm, e)) ||
	    !(vm->pci = pci_new(vm, e)))
		return -1;
	for (unsigned i = 0; i < cfg->ndisks; i++)
		if (cfg->disks[i].bus == VM_DISK_VIRTIO &&
		    virtio_blk_add(vm, cfg->disks[i].disk, cfg->disks[i].readonly, e) < 0)
			return -1;
	if (pvscsi_add_disks(vm, cfg, e) < 0 || lsi_add_disks(vm, cfg, e) < 0 || ide_add_disks(vm, cfg, e) < 0)
		return -1;
	if (cfg->net.enabled && cfg->net.model == VM_NIC_VMXNET3) {
		if (!(vm->vmxnet3 = vmxnet3_new(vm, &cfg->net, e)))
			return -1;
	} else if (cfg->net.enabled && !(vm->net = virtio_net_new(vm, &cfg->net, e))) {
		return -1;
	}
	if (cfg->rng && !(vm->rng = virtio_rng_new(vm, e)))
		return -1;
	if (setup_fw_cfg(vm, cfg, e) < 0 || setup_vcpus(vm, e) < 0)
		return -1;
	if (vm_config_has_screen(cfg)) {
		/* the standard VGA and its BIOS, which SeaBIOS runs from
		 * fw_cfg's vgaroms/ as QEMU's own machines have it */
		char *rom = NULL;
		size_t len = 0;
		const char *rom_path = VM_VGA_BIOS;
		if (!(vm->vga = vga_new(vm, e)) || od_read_file(rom_path, 256 << 10, &rom, &len, e) < 0)
			return -1;
		int rc = fw_cfg_add_file(vm->fw_cfg, "vgaroms/vgabios-stdvga.bin", rom, len, e);
		free(rom);
		if (rc < 0)
			return -1;
	}
	if (cfg->kernel) {
		/* no firmware routes the PCI interrupts: do what SeaBIOS does,
		 * which is what the DSDT's _PRT describes */
		pci_cfg_write(vm->pci, 0x08, 0x60, 4, 0x0b0b0a0a);
		struct linux_entry entry;
		if (linux_load(vm, cfg, &entry, e) < 0 || linux_setup_vcpu(vm->vcpus[0].fd, &entry, e) < 0)
			return -1;
	}
	return 0;
}

/* Started as root with a user to become: every file descriptor the machine
 * needs (/dev/kvm, the VM and vCPUs, disks, console) is open by now, so
 * give up root before any guest code runs.  Supplementary groups go first,
 * then the group, then the user; the result is checked, since a failed
 * drop must not leave a root VMM running a guest. */
static int drop_privileges(const struct vm_config *cfg, od_err *e)
{
	if (!cfg->drop_privs)
		return 0;
	gid_t gid = cfg->gid;
	if (setgroups(1, &gid) < 0)
		return od_err_errno(e, errno, "--user: setgroups");
	if (setresgid(cfg->gid, cfg->gid, cfg->gid) < 0)
		return od_err_errno(e, errno, "--user: setresgid(%u)", cfg->gid);
	if (setresuid(cfg->uid, cfg->uid, cfg->uid) < 0)
		return od_err_errno(e, errno, "--user: setresuid(%u)", cfg->uid);
	if (cfg->uid != 0 && (setuid(0) == 0 || geteuid() == 0))
		return od_err_set(e, OD_E_INTERNAL, "--user: root privileges could not be dropped");
	/* setuid clears it; a core of this process would hold guest memory */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}

static unsigned vcpus_started(const struct vm *vm)
{
	unsigned n = 0;
	for (unsigned i = 0; i < vm->ncpus; i++)
		n += vm->vcpus[i].started;
	return n;
}

/* The guest's clock across a pause.  What we chose, and why:
 *  - kvmclock stops: its value is read at the pause (KVM_GET_CLOCK) and set
 *    back at the resume (KVM_SET_CLOCK), so a guest on kvmclock (Linux's
 *    default under KVM) sees no time pass while it was paused, as QEMU does
 *    on stop/cont; KVM_KVMCLOCK_CTRL then tells it that it was stopped, so
 *    its soft-lockup watchdog does not fire on the gap.
 *  - the TSC runs on: a guest that reads it (or uses it as its clocksource)
 *    sees the pause as elapsed time, as after a host suspend.  Writing each
 *    vCPU's TSC back would hide that too, but a host-side TSC write makes
 *    KVM re-run its cross-vCPU TSC matching, and a TSC that lags the host's
 *    is what snapshots (not pause) must deal with; QEMU's stop/cont leaves
 *    the TSC alone for the same reason.
 *  - the in-kernel PIT, LAPIC timers and the CMOS clock run on: timer
 *    interrupts due during the pause arrive at the resume.
 * The clock calls are best effort: a KVM without them (or a guest that
 * never enabled kvmclock) just sees the wall-clock gap. */
static void pause_save_clock(struct vm *vm)
{
	struct kvm_clock_data c = { 0 };
	vm->clock_saved = vm->vm_fd >= 0 && ioctl(vm->vm_fd, KVM_GET_CLOCK, &c) == 0;
	vm->paused_clock = c.clock;
}

static void resume_restore_clock(struct vm *vm)
{
	if (!vm->clock_saved)
		return;
	struct kvm_clock_data c = { .clock = vm->paused_clock };
	(void)ioctl(vm->vm_fd, KVM_SET_CLOCK, &c);
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].fd >= 0)
			(void)ioctl(vm->vcpus[i].fd, KVM_KVMCLOCK_CTRL, 0); /* EINVAL: no kvmclock in use */
	vm->clock_saved = false;
}

#define PAUSE_WAIT_MS 5000 /* a vCPU leaves KVM_RUN in microseconds; one stuck in a device is a bug */

int vm_pause(struct vm *vm, od_err *e)
{
	pthread_mutex_lock(&vm->pause_lock);
	if (vm->paused) {
		pthread_mutex_unlock(&vm->pause_lock);
		return 0;
	}
	unsigned want = vm->vcpus ? vcpus_started(vm) : 0;
	atomic_store(&vm->pause_req, true);
	for (unsigned i = 0; vm->vcpus && i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (!v->started)
			continue;
		/* as at the end of vm_run: immediate_exit covers a signal that
		 * lands just before the thread enters KVM_RUN */
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, SIGUSR1);
	}
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += PAUSE_WAIT_MS / 1000;
	int err = 0;
	while (vm->parked < want && atomic_load(&vm->end_reason) == VM_END_NONE && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&vm->parked_cond, &vm->pause_lock, &until);
	if (vm->parked < want) {
		/* let the ones that did park run on: all or nothing (the
		 * others clear their immediate_exit after their KVM_RUN) */
		unsigned stuck = want - vm->parked;
		atomic_store(&vm->pause_req, false);
		pthread_cond_broadcast(&vm->pause_cond);
		pthread_mutex_unlock(&vm->pause_lock);
		if (atomic_load(&vm->end_reason) != VM_END_NONE)
			return od_err_set(e, OD_E_USAGE, "the machine is ending");
		return od_err_set(e, OD_E_IO, "%u of %u vCPUs did not stop within %d ms", stuck, want, PAUSE_WAIT_MS);
	}
	vm->paused = true;
	pause_save_clock(vm);
	pthread_mutex_unlock(&vm->pause_lock);
	return 0;
}

int vm_resume(struct vm *vm, od_err *e)
{
	(void)e;
	pthread_mutex_lock(&vm->pause_lock);
	if (vm->paused) {
		resume_restore_clock(vm);
		vm->paused = false;
		atomic_store(&vm->pause_req, false);
		pthread_cond_broadcast(&vm->pause_cond);
	}
	pthread_mutex_unlock(&vm->pause_lock);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Console input: bytes go to the UART; Ctrl-A x quits, Ctrl-A Ctrl-A
 * sends one Ctrl-A (the convention of QEMU's and kvmtool's consoles). */
static void console_input(struct vm *vm, int fd, bool *escape, bool *eof)
{
	uint8_t buf[256], out[256];
	ssize_t r = read(fd, buf, sizeof buf);
	if (r <= 0) {
		if (r == 0 || (errno != EINTR && errno != EAGAIN))
			*eof = true;
		return;
	}
	size_t n = 0;
	for (ssize_t i = 0; i < r; i++) {
		if (*escape) {
			*escape = false;
			if (buf[i] == 'x') {
				vm_request_end(vm, VM_END_QUIT);
				return;
			}
			if (buf[i] != 0x01)
				continue;
		} else if (buf[i] == 0x01) {
			*escape = true;
			continue;
		}
		out[n++] = buf[i];
	}
	pthread_mutex_lock(&vm->dev_lock);
	/* bytes beyond the FIFO are dropped, as a UART overrun would */
	serial_receive(vm->serial, out, n);
	pthread_mutex_unlock(&vm->dev_lock);
}

int vm_run(const struct vm_config *cfg, int *end, od_err *e)
{
	*end = VM_END_NONE;
	if (cfg->cpus < 1 || cfg->cpus > VM_MAX_CPUS)
		return od_err_set(e, OD_E_USAGE, "%u CPUs: must be 1 to %d", cfg->cpus, VM_MAX_CPUS);
	if (cfg->memory < (16u << 20) || cfg->memory % (1u << 20) || cfg->memory > (1ull << 40))
		return od_err_set(e, OD_E_USAGE, "memory of %llu bytes: must be a multiple of 1 MiB from 16 MiB to 1 TiB",
				  (unsigned long long)cfg->memory);
	if (cfg->ndisks > VM_MAX_DISKS)
		return od_err_set(e, OD_E_USAGE, "%u disks: at most %d", cfg->ndisks, VM_MAX_DISKS);
	for (unsigned i = 0; i < cfg->ndisks; i++) {
		int bus = cfg->disks[i].bus;
		if (bus != VM_DISK_VIRTIO && bus != VM_DISK_PVSCSI && bus != VM_DISK_LSILOGIC && bus != VM_DISK_IDE)
			return od_err_set(e, OD_E_USAGE, "disk %u: unknown bus %d", i + 1, bus);
		if (cfg->disks[i].cdrom && bus == VM_DISK_VIRTIO)
			return od_err_set(e, OD_E_USAGE, "disk %u: a CD-ROM needs a SCSI or IDE bus", i + 1);
	}

	struct vm *vm = vm_alloc_common(e);
	if (!vm)
		return -1;
	if (build(vm, cfg, e) < 0 || drop_privileges(cfg, e) < 0) {
		free_vm(vm);
		return -1;
	}
	int reaper = vm_spawn_reaper(vm); /* VM teardown after our exit */

	/* vCPU threads are stopped with SIGUSR1, which interrupts KVM_RUN;
	 * every thread blocks it except while in the vCPU loop */
	struct sigaction sa = { .sa_handler = sig_noop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, &old);

	int rc = 0;
	/* the screen's thread confines itself before vnc_start returns */
	if (vm_config_has_screen(cfg) && !(vm->vnc = vnc_start(vm, cfg, e))) {
		vm_request_end(vm, VM_END_ERROR);
		rc = -1;
	}
	pthread_mutex_lock(&vm->dev_lock); /* no guest code before all filters */
	for (unsigned i = 0; rc == 0 && i < vm->ncpus; i++) {
		int err = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (err) {
			od_err_errno(e, err, "vCPU thread");
			vm_request_end(vm, VM_END_ERROR);
			rc = -1;
			break;
		}
		vm->vcpus[i].started = true;
	}

	if (rc == 0 && ((vm->net && virtio_net_start(vm->net, e) < 0) ||
			(vm->vmxnet3 && vmxnet3_start(vm->vmxnet3, e) < 0))) {
		vm_request_end(vm, VM_END_ERROR);
		rc = -1;
	}
	if (rc == 0 && cfg->confine_caller && !cfg->no_sandbox && sandbox_main(e) < 0) {
		vm_request_end(vm, VM_END_ERROR);
		rc = -1;
	}
	pthread_mutex_unlock(&vm->dev_lock);

	uint64_t deadline = cfg->timeout_ms ? now_ms() + cfg->timeout_ms : 0;
	uint64_t hard_stop = 0; /* set when a shutdown was asked */
	bool escape = false;
	int in_fd = cfg->console_in_fd;
	int client = -1; /* the connected client of a listening console */
	struct vm_control ctl;
	vm_control_init(&ctl, vm, cfg->control_listen_fd > 0 ? cfg->control_listen_fd : -1);
	while (atomic_load(&vm->end_reason) == VM_END_NONE) {
		struct pollfd p[5];
		nfds_t np = 0;
		p[np++] = (struct pollfd){ vm->end_fd, POLLIN, 0 };
		int in_idx = -1, sd_idx = -1, ls_idx = -1, ctl_idx = -1;
		if (vm_control_fd(&ctl) >= 0) {
			ctl_idx = (int)np;
			p[np++] = (struct pollfd){ vm_control_fd(&ctl), POLLIN, 0 };
		}
		if (cfg->shutdown_fd >= 0) {
			sd_idx = (int)np;
			p[np++] = (struct pollfd){ cfg->shutdown_fd, POLLIN, 0 };
		}
		if (in_fd >= 0) {
			in_idx = (int)np;
			p[np++] = (struct pollfd){ in_fd, POLLIN, 0 };
		}
		if (cfg->console_listen_fd >= 0 && client < 0) {
			ls_idx = (int)np;
			p[np++] = (struct pollfd){ cfg->console_listen_fd, POLLIN, 0 };
		}
		uint64_t t = now_ms(), next = deadline;
		if (hard_stop && (!next || hard_stop < next))
			next = hard_stop;
		if (deadline && t >= deadline) {
			vm_request_end(vm, VM_END_TIMEOUT);
			break;
		}
		if (hard_stop && t >= hard_stop) {
			vm_request_end(vm, VM_END_STOPPED);
			break;
		}
		int n = poll(p, np, next ? (int)(next - t) : -1);
		if (n <= 0)
			continue;
		if (ctl_idx >= 0 && (p[ctl_idx].revents & (POLLIN | POLLHUP | POLLERR)))
			vm_control_ready(&ctl);
		if (sd_idx >= 0 && (p[sd_idx].revents & (POLLIN | POLLHUP | POLLERR))) {
			char buf[64];
			/* a paused guest cannot hear the power button: run it */
			(void)vm_resume(vm, NULL);
			ssize_t r = read(cfg->shutdown_fd, buf, sizeof buf);
			if (r > 0 && !hard_stop) {
				/* ask politely: the ACPI power button; a guest that
				 * listens powers off, which ends the run with 0 */
				pthread_mutex_lock(&vm->dev_lock);
				acpi_pm_power_button(vm->acpi_pm);
				pthread_mutex_unlock(&vm->dev_lock);
				hard_stop = now_ms() + (cfg->shutdown_grace_ms ? cfg->shutdown_grace_ms : 1);
			} else if (r > 0 || r == 0) {
				vm_request_end(vm, VM_END_STOPPED); /* asked twice, or the pipe closed */
			}
		}
		if (in_idx >= 0 && (p[in_idx].revents & (POLLIN | POLLHUP | POLLERR))) {
			bool eof = false;
			console_input(vm, in_fd, &escape, &eof);
			if (eof && in_fd == client) {
				/* the client left; the log goes on */
				pthread_mutex_lock(&vm->dev_lock);
				serial_set_client(vm->serial, -1);
				pthread_mutex_unlock(&vm->dev_lock);
				close(client);
				client = -1;
			}
			if (eof)
				in_fd = -1;
		}
		if (ls_idx >= 0 && (p[ls_idx].revents & POLLIN)) {
			/* one client at a time; non-blocking, so that a client that
			 * does not read loses output instead of stalling a vCPU */
			client = accept4(cfg->console_listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (client >= 0) {
				pthread_mutex_lock(&vm->dev_lock);
				serial_set_client(vm->serial, client);
				pthread_mutex_unlock(&vm->dev_lock);
				in_fd = client;
				escape = false;
			}
		}
	}
	if (client >= 0) {
		pthread_mutex_lock(&vm->dev_lock);
		serial_set_client(vm->serial, -1);
		pthread_mutex_unlock(&vm->dev_lock);
	}

	vm_control_close(&ctl);
	/* parked vCPUs see end_reason once woken */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (!v->started)
			continue;
		/* immediate_exit closes the race with a signal that lands just
		 * before the thread enters KVM_RUN */
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, SIGUSR1);
	}
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
	if (client >= 0)
		close(client);
	virtio_net_stop(vm->net);
	vmxnet3_stop(vm->vmxnet3);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	*end = atomic_load(&vm->end_reason);
	if (*end == VM_END_RESET && cfg->end_detail && cfg->end_detail_len)
		snprintf(cfg->end_detail, cfg->end_detail_len, "%s", vm->end_msg);
	if (*end == VM_END_ERROR && rc == 0) {
		od_err_set(e, OD_E_IO, "%s", vm->end_msg[0] ? vm->end_msg : "the VM failed");
		rc = -1;
	}
	free_vm(vm);
	if (reaper >= 0)
		close(reaper);
	return rc;
}
