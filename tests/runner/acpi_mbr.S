/* acpi_mbr.S - a boot sector that SeaBIOS loads from a virtio disk.  It
 * goes to 32-bit flat mode, finds the RSDP in the BIOS area, checks the
 * checksums of the RSDP, RSDT, FADT and DSDT, prints PASS on COM1, then
 * finds the SMBIOS entry point in the F segment, checks its checksum and
 * that it is version 2.8 (ours: the tables SeaBIOS builds itself say 2.4)
 * and prints PASS again, and powers the machine off through the FADT's
 * PM1a control block (SLP_TYP 0, our \_S5, with SLP_EN): the runner then
 * exits with status 0.  On a failure it prints "FAIL <what>" and halts. */
	.code16
	.section .text
	.globl _start
_start:
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %ss
	mov	$0x7c00, %sp
	lgdtl	gdt_desc
	mov	%cr0, %eax
	or	$1, %eax
	mov	%eax, %cr0
	ljmpl	$0x08, $pm32

	.code32
pm32:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x7c00, %esp
	mov	$m_rsdp, %esi
	mov	$0xe0000, %ebp		/* RSDP: 16-byte aligned in E0000-FFFFF */
1:	cmpl	$0x20445352, (%ebp)	/* "RSD " */
	jne	2f
	cmpl	$0x20525450, 4(%ebp)	/* "PTR " */
	je	3f
2:	add	$16, %ebp
	cmp	$0x100000, %ebp
	jb	1b
	jmp	fail
3:	mov	%ebp, %edi
	mov	$20, %ecx
	call	sum
	jnz	fail
	mov	$m_rsdt, %esi
	mov	16(%ebp), %ebx		/* RSDT */
	cmpl	$0x54445352, (%ebx)	/* "RSDT" */
	jne	fail
	call	table_sum
	jnz	fail
	mov	$m_fadt, %esi
	mov	4(%ebx), %ecx		/* entries: (length - 36) / 4 */
	sub	$36, %ecx
	shr	$2, %ecx
	jz	fail
	lea	36(%ebx), %edi
4:	mov	(%edi), %ebx
	cmpl	$0x50434146, (%ebx)	/* "FACP" */
	je	5f
	add	$4, %edi
	loop	4b
	jmp	fail
5:	call	table_sum
	jnz	fail
	mov	%ebx, %ebp		/* FADT */
	mov	$m_dsdt, %esi
	mov	40(%ebp), %ebx
	cmpl	$0x54445344, (%ebx)	/* "DSDT" */
	jne	fail
	call	table_sum
	jnz	fail
	mov	$m_pass, %esi
	call	puts
	mov	$m_smbios, %esi
	mov	$0xf0000, %edi		/* "_SM_": 16-byte aligned in F0000-FFFFF */
1:	cmpl	$0x5f4d535f, (%edi)
	je	2f
	add	$16, %edi
	cmp	$0x100000, %edi
	jb	1b
	jmp	fail
2:	cmpw	$0x0802, 6(%edi)	/* SMBIOS 2.8 */
	jne	fail
	mov	$31, %ecx
	call	sum
	jnz	fail
	call	puts			/* "SMBIOS PASS" */
	mov	$m_pass + 4, %esi
	call	puts
	mov	64(%ebp), %edx		/* PM1a_CNT_BLK */
	in	%dx, %ax
	and	$0xc3ff, %ax		/* SLP_TYP 0 */
	or	$0x2000, %ax		/* SLP_EN */
	out	%ax, %dx
	mov	$m_still, %esi
fail:
	push	%esi
	mov	$m_fail, %esi
	call	puts
	pop	%esi
	call	puts
halt:
	hlt
	jmp	halt

table_sum:			/* ZF: the table at %ebx sums to zero */
	mov	%ebx, %edi
	mov	4(%ebx), %ecx
	cmp	$0x10000, %ecx		/* a sane length, or fail */
	ja	9f
sum:				/* ZF: %ecx bytes at %edi sum to zero */
	xor	%al, %al
8:	add	(%edi), %al
	inc	%edi
	loop	8b
	test	%al, %al
	ret
9:	or	$1, %ecx		/* clears ZF */
	ret

puts:
	mov	$0x3f8, %dx
6:	lodsb
	test	%al, %al
	jz	7f
	out	%al, %dx
	jmp	6b
7:	ret

m_pass:	.asciz	"ACPI PASS\r\n"
m_smbios: .asciz "SMBIOS"
m_fail:	.asciz	"ACPI FAIL "
m_rsdp:	.asciz	"RSDP\r\n"
m_rsdt:	.asciz	"RSDT\r\n"
m_fadt:	.asciz	"FADT\r\n"
m_dsdt:	.asciz	"DSDT\r\n"
m_still: .asciz	"power-off did not stop the machine\r\n"

	.p2align 3
gdt:	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x08: code, flat 4 GiB */
	.quad	0x00cf92000000ffff	/* 0x10: data, flat 4 GiB */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	gdt

	.section .sig, "a"
	.word	0xaa55
