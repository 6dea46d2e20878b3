/* kernel.S - a stand-in for a bzImage, to test direct Linux boot: a setup
 * header (boot protocol 2.15, 64-bit entry point) and, 0x200 bytes into
 * the protected-mode part, 64-bit code that checks what the runner handed
 * over in boot_params (command line, initrd, e820 map, RSDP), prints on COM1 and
 * powers off through PM1a.  Built with objcopy -O binary; position
 * independent, like a relocatable kernel. */
	.text
	.code64
	.org	0x1f1
	.byte	1			/* setup_sects: one sector after the boot sector */
	.org	0x1fe
	.word	0xaa55
	.byte	0xeb, 0x6a		/* jump over the header, which ends at 0x26c */
	.ascii	"HdrS"
	.word	0x020f			/* boot protocol 2.15 */
	.org	0x211
	.byte	0x01			/* loadflags: LOADED_HIGH */
	.org	0x22c
	.long	0x7fffffff		/* initrd_addr_max */
	.long	0x200000		/* kernel_alignment */
	.byte	1			/* relocatable_kernel */
	.org	0x236
	.word	0x0001			/* xloadflags: XLF_KERNEL_64 */
	.long	255			/* cmdline_size */
	.org	0x260
	.long	0x10000			/* init_size */
	.org	0x400			/* the protected-mode part starts here */
	.org	0x600			/* ... and its 64-bit entry 0x200 into it */
entry64:
	mov	$0x80000, %rsp		/* the protocol gives no stack: take free RAM */
	mov	%rsi, %rbx		/* boot_params */
	lea	m_linux(%rip), %rsi
	call	puts
	mov	0x228(%rbx), %esi	/* cmd_line_ptr */
	call	puts
	lea	m_nl(%rip), %rsi
	call	puts
	mov	0x218(%rbx), %esi	/* ramdisk_image: print it if there is one */
	cmpl	$0, 0x21c(%rbx)
	je	4f
	call	puts
4:	lea	m_fail(%rip), %rsi
	cmpb	$4, 0x1e8(%rbx)		/* e820 entries */
	jb	out
	mov	0x70(%rbx), %rax	/* acpi_rsdp_addr */
	test	%rax, %rax
	jz	out
	cmpl	$0x20445352, (%rax)	/* "RSD " */
	jne	out
	lea	m_pass(%rip), %rsi
out:
	call	puts
	mov	$0x604, %dx		/* PM1a_CNT: SLP_TYP 0 (S5) | SLP_EN */
	mov	$0x2000, %ax
	out	%ax, %dx
1:	hlt
	jmp	1b
puts:
	mov	$0x3f8, %dx
2:	lodsb
	test	%al, %al
	jz	3f
	out	%al, %dx
	jmp	2b
3:	ret
m_linux: .asciz	"KERNEL cmdline: "
m_nl:	.asciz	"\r\n"
m_pass:	.asciz	"BOOT PARAMS PASS\r\n"
m_fail:	.asciz	"BOOT PARAMS FAIL\r\n"
	.p2align 9
