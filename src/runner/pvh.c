/* pvh.c - direct boot of an ELF vmlinux through its PVH entry point.
 *
 * PVH is the boot protocol Xen defined and KVM guests share: the kernel
 * names a 32-bit entry point in an ELF note (owner "Xen", type 18,
 * XEN_ELFNOTE_PHYS32_ENTRY), the loader puts the PT_LOAD segments at their
 * physical addresses and starts the CPU there in flat 32-bit protected
 * mode, paging off, with %ebx pointing at an hvm_start_info structure
 * that gives the command line, the modules (our initrd), the RSDP and the
 * memory map.  It skips the bzImage's decompressor: the kernel is already
 * in place, which is why it starts sooner.
 *
 * Guest memory used here (the rest is as in linux.c):
 *   0x7000  hvm_start_info, version 1: magic, version, flags, nr_modules
 *           (u32 each), then modlist, cmdline, rsdp and memmap addresses
 *           (u64 each at 16, 24, 32, 40), memmap_entries (u32 at 48)
 *   0x7040  one hvm_modlist_entry (the initrd)
 *   0x7080  the memory map, 24-byte entries
 *
 * The ELF file is the user's: every header, offset, size, count and
 * address is checked before use, segments must lie in guest RAM between
 * 1 MiB and the PCI hole (below that are our tables), and the entry point
 * must lie inside a loaded segment. */
#include "config.h"
#include "runner/linux.h"

#include <stdint.h>
#include <string.h>

#define INFO_ADDR 0x7000
#define MODLIST_ADDR 0x7040
#define MEMMAP_ADDR 0x7080
#define LOAD_MIN 0x100000
#define PHNUM_MAX 256
#define START_INFO_MAGIC 0x336ec578u
#define NOTE_PHYS32_ENTRY 18

/* One program header, whichever the ELF class. */
struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz, align;
};

static void read_phdr(const uint8_t *p, bool is64, struct phdr *h)
{
	h->type = od_ld32(p);
	if (is64) {
		h->offset = od_ld64(p + 8);
		h->paddr = od_ld64(p + 24);
		h->filesz = od_ld64(p + 32);
		h->memsz = od_ld64(p + 40);
		h->align = od_ld64(p + 48);
	} else {
		h->offset = od_ld32(p + 4);
		h->paddr = od_ld32(p + 12);
		h->filesz = od_ld32(p + 16);
		h->memsz = od_ld32(p + 20);
		h->align = od_ld32(p + 28);
	}
}

/* Look through one PT_NOTE segment for the PVH entry note.  Returns 1 and
 * sets *entry when found, 0 when not, -1 on a malformed note. */
static int find_entry_note(const uint8_t *p, uint64_t size, uint64_t align, uint64_t *entry)
{
	/* 64-bit producers may align notes to 8; the kernel's are 4 */
	uint64_t a = align == 8 ? 8 : 4;
	uint64_t off = 0;
	while (size - off >= 12) {
		uint32_t namesz = od_ld32(p + off), descsz = od_ld32(p + off + 4), type = od_ld32(p + off + 8);
		uint64_t name = off + 12;
		uint64_t desc = name + ((namesz + a - 1) & ~(a - 1));
		uint64_t next = desc + ((descsz + a - 1) & ~(a - 1));
		if (desc > size || next > size || desc + descsz > size)
			return -1;
		if (type == NOTE_PHYS32_ENTRY && namesz == 4 && memcmp(p + name, "Xen", 4) == 0) {
			if (descsz == 4)
				*entry = od_ld32(p + desc);
			else if (descsz == 8)
				*entry = od_ld64(p + desc);
			else
				return -1;
			return 1;
		}
		off = next;
	}
	return 0;
}

int pvh_load(struct vm *vm, const struct vm_config *cfg, const uint8_t *img, size_t len, struct linux_entry *entry,
	     od_err *e)
{
	const char *f = cfg->kernel;
	if (len < 52 || img[5] != 1 || img[6] != 1 || (img[4] != 1 && img[4] != 2)) {
		od_err_set(e, OD_E_INVALID, "%s: not a little-endian ELF32/ELF64 file", f);
		return -1;
	}
	bool is64 = img[4] == 2;
	if (is64 && len < 64) {
		od_err_set(e, OD_E_INVALID, "%s: ELF header truncated", f);
		return -1;
	}
	uint16_t type = od_ld16(img + 16), machine = od_ld16(img + 18);
	if (type != 2 || (machine != 62 && machine != 3)) {
		od_err_set(e, OD_E_UNSUPPORTED, "%s: ELF type %u for machine %u, need an x86 executable (vmlinux)", f,
			   type, machine);
		return -1;
	}
	uint64_t phoff = is64 ? od_ld64(img + 32) : od_ld32(img + 28);
	unsigned phentsize = od_ld16(img + (is64 ? 54 : 42)), phnum = od_ld16(img + (is64 ? 56 : 44));
	unsigned want = is64 ? 56 : 32;
	if (phnum == 0 || phnum > PHNUM_MAX) {
		od_err_set(e, OD_E_INVALID, "%s: %u program headers (an executable has 1 to %u)", f, phnum, PHNUM_MAX);
		return -1;
	}
	if (phentsize != want || !od_range_ok(phoff, (uint64_t)phnum * want, len)) {
		od_err_set(e, OD_E_INVALID, "%s: %u program headers of %u bytes at 0x%llx do not fit the %zu-byte file", f,
			   phnum, phentsize, (unsigned long long)phoff, len);
		return -1;
	}

	/* first pass: check everything and find the entry note, so that a
	 * bad file leaves guest RAM untouched */
	uint64_t pvh_entry = 0, end = LOAD_MIN;
	bool have_entry = false;
	for (unsigned i = 0; i < phnum; i++) {
		struct phdr h;
		read_phdr(img + phoff + (uint64_t)i * want, is64, &h);
		if (h.type != 1 && h.type != 4)
			continue;
		if (!od_range_ok(h.offset, h.filesz, len)) {
			od_err_set(e, OD_E_INVALID, "%s: program header %u: %llu bytes at 0x%llx lie past the end of the file", f,
				   i, (unsigned long long)h.filesz, (unsigned long long)h.offset);
			return -1;
		}
		if (h.type == 4) {
			int rc = have_entry ? 0 : find_entry_note(img + h.offset, h.filesz, h.align, &pvh_entry);
			if (rc < 0) {
				od_err_set(e, OD_E_INVALID, "%s: program header %u: malformed ELF note", f, i);
				return -1;
			}
			have_entry |= rc == 1;
			continue;
		}
		if (!h.memsz)
			continue;
		if (h.filesz > h.memsz) {
			od_err_set(e, OD_E_INVALID, "%s: program header %u: %llu bytes in the file but %llu in memory", f, i,
				   (unsigned long long)h.filesz, (unsigned long long)h.memsz);
			return -1;
		}
		if (h.paddr < LOAD_MIN || !od_range_ok(h.paddr, h.memsz, vm->low_ram)) {
			od_err_set(e, OD_E_USAGE,
				   "%s: program header %u: %llu bytes at physical 0x%llx lie outside guest RAM from 1 MiB to 0x%llx%s",
				   f, i, (unsigned long long)h.memsz, (unsigned long long)h.paddr,
				   (unsigned long long)vm->low_ram, h.paddr >= LOAD_MIN ? "; give the guest more memory" : "");
			return -1;
		}
		if (h.paddr + h.memsz > end)
			end = h.paddr + h.memsz;
	}
	if (!have_entry) {
		od_err_set(e, OD_E_UNSUPPORTED,
			   "%s: an ELF file without a PVH entry point (no XEN_ELFNOTE_PHYS32_ENTRY note): "
			   "use a kernel built with CONFIG_PVH=y, or its bzImage", f);
		return -1;
	}
	/* the entry must be code we load, not somewhere in our tables */
	bool inside = false;
	for (unsigned i = 0; i < phnum && !inside; i++) {
		struct phdr h;
		read_phdr(img + phoff + (uint64_t)i * want, is64, &h);
		inside = h.type == 1 && pvh_entry >= h.paddr && pvh_entry - h.paddr < h.memsz;
	}
	if (!inside) {
		od_err_set(e, OD_E_INVALID, "%s: PVH entry point 0x%llx is not inside a loaded segment", f,
			   (unsigned long long)pvh_entry);
		return -1;
	}

	for (unsigned i = 0; i < phnum; i++) {
		struct phdr h;
		read_phdr(img + phoff + (uint64_t)i * want, is64, &h);
		if (h.type != 1 || !h.memsz)
			continue;
		uint8_t *dst = vm_gpa_to_hva(vm, h.paddr, h.memsz);
		if (!dst) { /* checked above; RAM below the hole is one slot */
			od_err_set(e, OD_E_INTERNAL, "%s: program header %u: no guest RAM at 0x%llx", f, i,
				   (unsigned long long)h.paddr);
			return -1;
		}
		memcpy(dst, img + h.offset, h.filesz);
		memset(dst + h.filesz, 0, h.memsz - h.filesz);
	}

	uint8_t *info = vm_gpa_to_hva(vm, INFO_ADDR, 0x1000);
	memset(info, 0, 0x1000);
	uint64_t at, n;
	if (linux_put_cmdline(vm, cfg, SIZE_MAX, &at, e) < 0)
		return -1;
	od_st64(info + 24, at); /* cmdline_paddr */
	if (linux_put_initrd(vm, cfg, end, UINT32_MAX, &at, &n, e) < 0)
		return -1;
	if (n) {
		uint8_t *mod = info + (MODLIST_ADDR - INFO_ADDR);
		od_st64(mod, at);                 /* paddr */
		od_st64(mod + 8, n);              /* size */
		od_st32(info + 12, 1);            /* nr_modules */
		od_st64(info + 16, MODLIST_ADDR); /* modlist_paddr */
	}
	if (linux_put_acpi(vm, &at, e) < 0)
		return -1;
	od_st64(info + 32, at); /* rsdp_paddr */

	struct linux_mem map[LINUX_MEMMAP_MAX];
	unsigned nmap = linux_memmap(vm, map);
	uint8_t *mm = info + (MEMMAP_ADDR - INFO_ADDR);
	for (unsigned i = 0; i < nmap; i++) {
		od_st64(mm + 24 * i, map[i].addr);
		od_st64(mm + 24 * i + 8, map[i].size);
		od_st32(mm + 24 * i + 16, map[i].type);
	}
	od_st32(info, START_INFO_MAGIC);
	od_st32(info + 4, 1);            /* version: has the memory map */
	od_st64(info + 40, MEMMAP_ADDR); /* memmap_paddr */
	od_st32(info + 48, nmap);        /* memmap_entries */

	entry->mode64 = false;
	entry->rip = pvh_entry;
	entry->rbx = INFO_ADDR;
	return 0;
}
