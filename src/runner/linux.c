/* linux.c - direct Linux boot without firmware: a bzImage entered at its
 * 64-bit entry point (boot protocol 2.12 or later, XLF_KERNEL_64), or an
 * ELF vmlinux with a PVH entry point (pvh.c), chosen by the file's magic.
 * Both ways share the command line, initrd, e820 and ACPI placement
 * (linux_boot.c, below both); this file is the entry on top, pvh.c under it.
 *
 * Guest memory (below 1 MiB unless said otherwise):
 *   0x0500  GDT: null, null, 64-bit code (0x10), data (0x18)
 *   0x7000  boot_params ("zero page"): the kernel's setup header, our e820
 *           map, the command line and initrd pointers, the RSDP address;
 *           for PVH, the hvm_start_info in its place (pvh.c)
 *   0x9000  page tables: PML4, one PDPT, four page directories of 2 MiB
 *           pages identity-mapping the first 4 GiB, as the protocol asks
 *   0x20000 the command line
 *   0xE0000 the ACPI tables, with the RSDP at 0xF0000 (also where legacy
 *           OSes search for it)
 *   1 MiB   the protected-mode kernel (it relocates itself as it likes);
 *           a PVH vmlinux's segments go to their physical addresses
 *   initrd  at the top of RAM below 4 GiB and below initrd_addr_max
 * Every size and offset from the image is checked before use: the image
 * is a file the user gave, not to be trusted. */
#include "config.h"
#include "runner/linux.h"
#include "runner/acpi.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define ZERO_PAGE 0x7000
#define GDT_ADDR 0x0500
#define PML4_ADDR 0x9000
#define KERNEL_ADDR 0x100000

static void put_gdt(struct vm *vm, uint64_t code)
{
	uint8_t *gdt = vm_gpa_to_hva(vm, GDT_ADDR, 32);
	memset(gdt, 0, 32);
	od_st64(gdt + 0x10, code);                  /* code (0x10) */
	od_st64(gdt + 0x18, 0x00cf93000000ffffull); /* data (0x18): P, read/write, accessed, 4 GiB */
}

static int bzimage_load(struct vm *vm, const struct vm_config *cfg, const uint8_t *k, size_t len,
			struct linux_entry *entry, od_err *e)
{
	if (len < 0x270 || memcmp(k + 0x202, "HdrS", 4) != 0) {
		od_err_set(e, OD_E_INVALID, "%s: neither a bzImage (no \"HdrS\" setup header) nor an ELF vmlinux",
			   cfg->kernel);
		return -1;
	}
	uint16_t version = k[0x206] | k[0x207] << 8;
	if (version < 0x020c || !(k[0x236] & 0x01)) {
		od_err_set(e, OD_E_UNSUPPORTED, "%s: boot protocol %u.%u without a 64-bit entry point (need 2.12+)",
			   cfg->kernel, version >> 8, version & 0xff);
		return -1;
	}
	unsigned setup_sects = k[0x1f1] ? k[0x1f1] : 4;
	size_t setup_size = (setup_sects + 1) * 512u;
	/* the setup header ends where its leading jump points */
	size_t hdr_end = 0x202 + k[0x201];
	/* the header may not reach past its place in boot_params (0x290),
	 * where our e820 map and other fields live */
	if (setup_size >= len || hdr_end > setup_size || hdr_end > 0x290) {
		od_err_set(e, OD_E_INVALID, "%s: setup of %zu bytes does not fit the %zu-byte image", cfg->kernel,
			   setup_size, len);
		return -1;
	}
	size_t kernel_size = len - setup_size;
	uint32_t init_size = od_ld32(k + 0x260);
	uint64_t need = kernel_size > init_size ? kernel_size : init_size;
	if (!od_range_ok(KERNEL_ADDR, need, vm->low_ram)) {
		od_err_set(e, OD_E_USAGE, "%s: needs %llu bytes from 1 MiB; give the guest more memory", cfg->kernel,
			   (unsigned long long)need);
		return -1;
	}
	memcpy(vm_gpa_to_hva(vm, KERNEL_ADDR, kernel_size), k + setup_size, kernel_size);

	uint8_t *zp = vm_gpa_to_hva(vm, ZERO_PAGE, 4096);
	memset(zp, 0, 4096);
	memcpy(zp + 0x1f1, k + 0x1f1, hdr_end - 0x1f1);
	zp[0x210] = 0xff;           /* type_of_loader: undefined */
	zp[0x211] |= 0x01 | 0x80;   /* LOADED_HIGH, CAN_USE_HEAP */
	od_st16(zp + 0x224, 0xde00); /* heap_end_ptr */

	uint64_t at, n;
	if (linux_put_cmdline(vm, cfg, version >= 0x0206 ? od_ld32(k + 0x238) : LINUX_CMDLINE_MAX, &at, e) < 0)
		return -1;
	od_st32(zp + 0x228, (uint32_t)at);
	if (linux_put_initrd(vm, cfg, KERNEL_ADDR + need, od_ld32(k + 0x22c), &at, &n, e) < 0)
		return -1;
	od_st32(zp + 0x218, (uint32_t)at);
	od_st32(zp + 0x21c, (uint32_t)n);

	struct linux_mem map[LINUX_MEMMAP_MAX];
	unsigned nmap = linux_memmap(vm, map);
	for (unsigned i = 0; i < nmap; i++) {
		uint8_t *m = zp + 0x2d0 + 20 * i;
		od_st64(m, map[i].addr);
		od_st64(m + 8, map[i].size);
		od_st32(m + 16, map[i].type);
	}
	zp[0x1e8] = (uint8_t)nmap;
	if (linux_put_acpi(vm, &at, e) < 0)
		return -1;
	od_st64(zp + 0x070, at);

	/* GDT and identity page tables for 64-bit mode */
	put_gdt(vm, 0x00af9b000000ffffull); /* L, P, DPL 0, exec/read, accessed */
	uint8_t *pt = vm_gpa_to_hva(vm, PML4_ADDR, 6 * 4096);
	memset(pt, 0, 6 * 4096);
	od_st64(pt, (PML4_ADDR + 0x1000) | 3);
	for (unsigned i = 0; i < 4; i++) {
		od_st64(pt + 0x1000 + 8 * i, (PML4_ADDR + 0x2000 + 0x1000 * i) | 3);
		for (unsigned j = 0; j < 512; j++)
			od_st64(pt + 0x2000 + 0x1000 * i + 8 * j, ((uint64_t)(i * 512 + j) << 21) | 0x83);
	}
	entry->mode64 = true;
	entry->rip = KERNEL_ADDR + 0x200;
	entry->rsi = ZERO_PAGE;
	entry->gdt = GDT_ADDR;
	entry->cr3 = PML4_ADDR;
	return 0;
}

int linux_load_image(struct vm *vm, const struct vm_config *cfg, const uint8_t *img, size_t len,
		     struct linux_entry *entry, od_err *e)
{
	memset(entry, 0, sizeof *entry);
	if (len >= 4 && memcmp(img, "\x7f" "ELF", 4) == 0) {
		if (pvh_load(vm, cfg, img, len, entry, e) < 0)
			return -1;
		put_gdt(vm, 0x00cf9b000000ffffull); /* 32-bit, P, DPL 0, exec/read, accessed */
		entry->gdt = GDT_ADDR;
		return 0;
	}
	return bzimage_load(vm, cfg, img, len, entry, e);
}

int linux_load(struct vm *vm, const struct vm_config *cfg, struct linux_entry *entry, od_err *e)
{
	char *img;
	size_t len;
	if (od_read_file(cfg->kernel, LINUX_IMAGE_MAX, &img, &len, e) < 0) {
		od_err_prefix(e, "kernel");
		return -1;
	}
	int rc = linux_load_image(vm, cfg, (const uint8_t *)img, len, entry, e);
	free(img);
	return rc;
}

int linux_setup_vcpu(int vcpu_fd, const struct linux_entry *entry, od_err *e)
{
	struct kvm_sregs s;
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0)
		return od_err_errno(e, errno, "KVM_GET_SREGS");
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 0xb,
		.present = 1, .dpl = 0, .db = !entry->mode64, .s = 1, .l = entry->mode64, .g = 1,
	};
	struct kvm_segment data = code;
	data.selector = 0x18;
	data.type = 0x3;
	data.l = 0;
	data.db = 1;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.gdt.base = entry->gdt;
	s.gdt.limit = 32 - 1;
	if (entry->mode64) {
		s.cr3 = entry->cr3;
		s.cr4 |= 0x20;                    /* PAE */
		s.cr0 |= 0x80000001u | 0x10;      /* PG, PE, ET */
		s.efer |= 0x500;                  /* LME, LMA */
	} else {
		/* PVH: flat 32-bit protected mode, no paging; CR0 PE and ET
		 * only, CR4 and EFER clear, TR a 32-bit TSS at 0 of 0x68 bytes */
		s.cr0 = 0x11;
		s.cr3 = 0;
		s.cr4 = 0;
		s.efer = 0;
		s.tr = (struct kvm_segment){ .base = 0, .limit = 0x67, .type = 0xb, .present = 1, .s = 0 };
	}
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &s) < 0)
		return od_err_errno(e, errno, entry->mode64 ? "KVM_SET_SREGS (64-bit mode)" : "KVM_SET_SREGS (PVH)");
	struct kvm_regs r = { .rip = entry->rip, .rsi = entry->rsi, .rbx = entry->rbx, .rflags = 2 };
	if (ioctl(vcpu_fd, KVM_SET_REGS, &r) < 0)
		return od_err_errno(e, errno, "KVM_SET_REGS");
	return 0;
}
