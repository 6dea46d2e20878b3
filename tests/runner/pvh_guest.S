/* pvh_guest.S - a stand-in vmlinux for PVH direct boot: an ELF executable
 * with the Xen PHYS32_ENTRY note, entered in flat 32-bit protected mode
 * with %ebx pointing at hvm_start_info.  It checks what the loader handed
 * over (magic and version, paging off, the command line, the initrd module,
 * a memory map with RAM at 1 MiB, the RSDP), prints on COM1 and powers off
 * through PM1a.  Assembled as ELF64 (the note holds 8 bytes, as Linux
 * writes it) or with -DELF32 as ELF32 (4 bytes); linked by pvh.ld. */
	.code32
	.text
	.globl	pvh_start
pvh_start:
	mov	$0x80000, %esp		/* the protocol gives no stack */
	mov	%ebx, %ebp
	mov	$m_hello, %esi
	call	puts
	cmpl	$0x336ec578, (%ebp)	/* hvm_start_info magic */
	jne	bad
	cmpl	$1, 4(%ebp)		/* version 1 has the memory map */
	jb	bad
	mov	%cr0, %eax		/* protected mode, paging off */
	test	$1, %al
	jz	bad
	test	%eax, %eax
	js	bad
	mov	$m_cmd, %esi
	call	puts
	mov	24(%ebp), %esi		/* cmdline_paddr */
	call	puts
	mov	$m_nl, %esi
	call	puts
	cmpl	$1, 12(%ebp)		/* nr_modules: print the initrd */
	jne	1f
	mov	16(%ebp), %eax		/* modlist_paddr */
	mov	(%eax), %esi
	call	puts
1:	mov	48(%ebp), %ecx		/* memmap_entries */
	cmp	$4, %ecx
	jb	bad
	mov	40(%ebp), %edi		/* memmap_paddr: find RAM at 1 MiB */
2:	cmpl	$0x100000, (%edi)
	jne	3f
	cmpl	$1, 16(%edi)
	je	4f
3:	add	$24, %edi
	loop	2b
	jmp	bad
4:	mov	32(%ebp), %eax		/* rsdp_paddr */
	cmpl	$0x20445352, (%eax)	/* "RSD " */
	jne	bad
	mov	$m_pass, %esi
	jmp	out
bad:	mov	$m_fail, %esi
out:	call	puts
	mov	$0x604, %dx		/* PM1a_CNT: SLP_TYP 0 (S5) | SLP_EN */
	mov	$0x2000, %ax
	out	%ax, %dx
5:	hlt
	jmp	5b

#include "guest_lib.inc"

m_hello: .asciz	"PVH entry\r\n"
m_cmd:	.asciz	"PVH cmdline: "
m_nl:	.asciz	"\r\n"
m_pass:	.asciz	"START INFO PASS\r\n"
m_fail:	.asciz	"START INFO FAIL\r\n"

	.section .note.Xen, "a", @note
	.p2align 2
	.long	4			/* namesz */
#ifdef ELF32
	.long	4			/* descsz */
#else
	.long	8
#endif
	.long	18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz	"Xen"
#ifdef ELF32
	.long	pvh_start
#else
	.quad	pvh_start
#endif
