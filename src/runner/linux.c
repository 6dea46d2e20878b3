/* linux.c - direct Linux boot: a bzImage entered at its 64-bit entry
 * point (boot protocol 2.12 or later, XLF_KERNEL_64), without firmware.
 *
 * Guest memory (below 1 MiB unless said otherwise):
 *   0x0500  GDT: null, null, 64-bit code (0x10), data (0x18)
 *   0x7000  boot_params ("zero page"): the kernel's setup header, our e820
 *           map, the command line and initrd pointers, the RSDP address
 *   0x9000  page tables: PML4, one PDPT, four page directories of 2 MiB
 *           pages identity-mapping the first 4 GiB, as the protocol asks
 *   0x20000 the command line
 *   0xE0000 the ACPI tables, with the RSDP at 0xF0000 (also where legacy
 *           OSes search for it)
 *   1 MiB   the protected-mode kernel (it relocates itself as it likes)
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
#define CMDLINE_ADDR 0x20000
#define CMDLINE_MAX 4095
#define ACPI_TABLES_ADDR 0xE0000
#define RSDP_ADDR 0xF0000
#define KERNEL_ADDR 0x100000
#define IMAGE_MAX (512u << 20)

static uint32_t ld32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static void st16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void st32(uint8_t *p, uint32_t v) { st16(p, v); st16(p + 2, v >> 16); }
static void st64(uint8_t *p, uint64_t v) { st32(p, (uint32_t)v); st32(p + 4, v >> 32); }

static int add_e820(uint8_t *zp, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t n = zp[0x1e8];
	if (n >= 128 || !size)
		return 0;
	uint8_t *e = zp + 0x2d0 + 20 * n;
	st64(e, addr);
	st64(e + 8, size);
	st32(e + 16, type);
	zp[0x1e8] = n + 1;
	return 0;
}

int linux_load(struct vm *vm, const struct vm_config *cfg, struct linux_entry *entry, od_err *e)
{
	char *img = NULL, *initrd = NULL;
	size_t len, initrd_len = 0;
	if (od_read_file(cfg->kernel, IMAGE_MAX, &img, &len, e) < 0) {
		od_err_prefix(e, "kernel");
		return -1;
	}
	const uint8_t *k = (const uint8_t *)img;
	int rc = -1;
	if (len < 0x270 || memcmp(k + 0x202, "HdrS", 4) != 0) {
		od_err_set(e, OD_E_INVALID, "%s: not a bzImage (no \"HdrS\" setup header)", cfg->kernel);
		goto out;
	}
	uint16_t version = k[0x206] | k[0x207] << 8;
	if (version < 0x020c || !(k[0x236] & 0x01)) {
		od_err_set(e, OD_E_UNSUPPORTED, "%s: boot protocol %u.%u without a 64-bit entry point (need 2.12+)",
			   cfg->kernel, version >> 8, version & 0xff);
		goto out;
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
		goto out;
	}
	size_t kernel_size = len - setup_size;
	uint32_t init_size = ld32(k + 0x260);
	uint64_t need = kernel_size > init_size ? kernel_size : init_size;
	if (!od_range_ok(KERNEL_ADDR, need, vm->low_ram)) {
		od_err_set(e, OD_E_USAGE, "%s: needs %llu bytes from 1 MiB; give the guest more memory", cfg->kernel,
			   (unsigned long long)need);
		goto out;
	}
	memcpy(vm_gpa_to_hva(vm, KERNEL_ADDR, kernel_size), k + setup_size, kernel_size);

	uint8_t *zp = vm_gpa_to_hva(vm, ZERO_PAGE, 4096);
	memset(zp, 0, 4096);
	memcpy(zp + 0x1f1, k + 0x1f1, hdr_end - 0x1f1);
	zp[0x210] = 0xff;           /* type_of_loader: undefined */
	zp[0x211] |= 0x01 | 0x80;   /* LOADED_HIGH, CAN_USE_HEAP */
	st16(zp + 0x224, 0xde00);   /* heap_end_ptr */

	const char *cmdline = cfg->cmdline ? cfg->cmdline : "console=ttyS0";
	size_t clen = strlen(cmdline);
	uint32_t cmax = ld32(k + 0x238);
	if (clen > CMDLINE_MAX || (version >= 0x0206 && clen > cmax)) {
		od_err_set(e, OD_E_USAGE, "kernel command line of %zu bytes is too long (at most %u)", clen,
			   version >= 0x0206 && cmax < CMDLINE_MAX ? cmax : CMDLINE_MAX);
		goto out;
	}
	memcpy(vm_gpa_to_hva(vm, CMDLINE_ADDR, clen + 1), cmdline, clen + 1);
	st32(zp + 0x228, CMDLINE_ADDR);

	if (cfg->initrd) {
		if (od_read_file(cfg->initrd, IMAGE_MAX, &initrd, &initrd_len, e) < 0) {
			od_err_prefix(e, "initrd");
			goto out;
		}
		uint64_t max = ld32(k + 0x22c);
		uint64_t top = vm->low_ram < max + 1 ? vm->low_ram : max + 1;
		uint64_t low = KERNEL_ADDR + need;
		if (initrd_len > top || ((top - initrd_len) & ~0xfffull) < low) {
			od_err_set(e, OD_E_USAGE, "%s: %zu bytes do not fit below 0x%llx", cfg->initrd, initrd_len,
				   (unsigned long long)top);
			goto out;
		}
		uint64_t at = (top - initrd_len) & ~0xfffull;
		memcpy(vm_gpa_to_hva(vm, at, initrd_len), initrd, initrd_len);
		st32(zp + 0x218, (uint32_t)at);
		st32(zp + 0x21c, (uint32_t)initrd_len);
	}

	/* e820: what SeaBIOS would report, and our reserved areas */
	add_e820(zp, 0, 0x9fc00, 1);
	add_e820(zp, 0x9fc00, 0x400, 2);
	add_e820(zp, 0xe0000, 0x20000, 2);
	add_e820(zp, 0x100000, vm->low_ram - 0x100000, 1);
	add_e820(zp, 0xfeffc000, 0x4000, 2);
	add_e820(zp, 1ull << 32, vm->high_ram, 1);

	/* ACPI: what the firmware's loader would have done, at fixed places */
	struct acpi_tables a;
	if (acpi_build(&a, vm->ncpus, e) < 0)
		goto out;
	acpi_finish_at(&a, ACPI_TABLES_ADDR);
	uint8_t *tp = vm_gpa_to_hva(vm, ACPI_TABLES_ADDR, a.tables_len);
	if (!tp || a.tables_len > RSDP_ADDR - ACPI_TABLES_ADDR) {
		acpi_free(&a);
		od_err_set(e, OD_E_INTERNAL, "ACPI tables of %u bytes do not fit", a.tables_len);
		goto out;
	}
	memcpy(tp, a.tables, a.tables_len);
	memcpy(vm_gpa_to_hva(vm, RSDP_ADDR, sizeof a.rsdp), a.rsdp, sizeof a.rsdp);
	acpi_free(&a);
	st64(zp + 0x070, RSDP_ADDR);

	/* GDT and identity page tables for 64-bit mode */
	uint8_t *gdt = vm_gpa_to_hva(vm, GDT_ADDR, 32);
	memset(gdt, 0, 32);
	st64(gdt + 0x10, 0x00af9b000000ffffull); /* code: L, P, DPL 0, exec/read, accessed */
	st64(gdt + 0x18, 0x00cf93000000ffffull); /* data: P, read/write, accessed */
	uint8_t *pt = vm_gpa_to_hva(vm, PML4_ADDR, 6 * 4096);
	memset(pt, 0, 6 * 4096);
	st64(pt, (PML4_ADDR + 0x1000) | 3);
	for (unsigned i = 0; i < 4; i++) {
		st64(pt + 0x1000 + 8 * i, (PML4_ADDR + 0x2000 + 0x1000 * i) | 3);
		for (unsigned j = 0; j < 512; j++)
			st64(pt + 0x2000 + 0x1000 * i + 8 * j, ((uint64_t)(i * 512 + j) << 21) | 0x83);
	}
	entry->rip = KERNEL_ADDR + 0x200;
	entry->rsi = ZERO_PAGE;
	entry->gdt = GDT_ADDR;
	entry->cr3 = PML4_ADDR;
	rc = 0;
out:
	free(img);
	free(initrd);
	return rc;
}

int linux_setup_vcpu(int vcpu_fd, const struct linux_entry *entry, od_err *e)
{
	struct kvm_sregs s;
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0)
		return od_err_errno(e, errno, "KVM_GET_SREGS");
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 0xb,
		.present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
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
	s.cr3 = entry->cr3;
	s.cr4 |= 0x20;                    /* PAE */
	s.cr0 |= 0x80000001u | 0x10;      /* PG, PE, ET */
	s.efer |= 0x500;                  /* LME, LMA */
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &s) < 0)
		return od_err_errno(e, errno, "KVM_SET_SREGS (64-bit mode)");
	struct kvm_regs r = { .rip = entry->rip, .rsi = entry->rsi, .rflags = 2 };
	if (ioctl(vcpu_fd, KVM_SET_REGS, &r) < 0)
		return od_err_errno(e, errno, "KVM_SET_REGS");
	return 0;
}
