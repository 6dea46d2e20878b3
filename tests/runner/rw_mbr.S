/* rw_mbr.S - a boot sector (linked with mbr.ld) that reads and writes its
 * boot disk through the firmware's INT 13h extensions, whatever controller
 * the firmware drives underneath (the PVSCSI test boots it from a PVSCSI
 * disk through SeaBIOS's pvscsi driver):
 *
 *   - writes a pattern (byte i = i ^ 0xa5) to sector 1 (function 43h),
 *     reads it back (42h) and compares: "RW PASS";
 *   - reads sectors 0-63 in one call and prints the sum of their 8192
 *     little-endian dwords, "SUM xxxxxxxx", which the test compares with
 *     the image file;
 *   - prints "DONE" and resets the machine through port 0xCF9.
 * On a failure it prints "FAIL <what>" and halts.
 *
 * Built with -DCDROM it is a no-emulation El Torito boot image instead: no
 * write, and the read is of CD sectors 0-15 (the same 32 KiB). */
	.code16
	.section .text
	.globl _start
_start:
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x7c00, %sp
	sti
	mov	%dl, drive

#ifndef CDROM
	mov	$0x8000, %di		/* the pattern */
	xor	%cx, %cx
1:	mov	%cl, %al
	xor	$0xa5, %al
	stosb
	inc	%cx
	cmp	$512, %cx
	jb	1b

	movw	$0x8000, dap_off	/* write sector 1 */
	mov	$0x4300, %ax
	call	disk
	mov	$m_write, %si
	jc	fail
	movw	$0x9000, dap_off	/* read it back */
	mov	$0x4200, %ax
	call	disk
	mov	$m_read, %si
	jc	fail
	mov	$0x8000, %si
	mov	$0x9000, %di
	mov	$512, %cx
	cld
	repe cmpsb
	mov	$m_cmp, %si
	jne	fail
	mov	$m_rw, %si
	call	puts
#endif

	movw	$0, dap_off		/* 32 KiB from sector 0 to 1000:0000 */
	movw	$0x1000, dap_seg
#ifdef CDROM
	movw	$16, dap_cnt
#else
	movw	$64, dap_cnt
#endif
	movl	$0, dap_lba
	mov	$0x4200, %ax
	call	disk
	mov	$m_read, %si
	jc	fail
	push	%ds
	mov	$0x1000, %ax
	mov	%ax, %ds
	xor	%eax, %eax
	xor	%si, %si
	mov	$8192, %cx
2:	addl	(%si), %eax
	add	$4, %si
	loop	2b
	pop	%ds
	push	%eax
	mov	$m_sum, %si
	call	puts			/* lodsb: %al */
	pop	%eax
	call	puthex
	mov	$m_done, %si
	call	puts
	mov	$0xcf9, %dx
	mov	$0x06, %al
	out	%al, %dx
3:	hlt
	jmp	3b

disk:				/* INT 13h function %ah with the DAP */
	mov	drive, %dl
	mov	$dap, %si
	int	$0x13
	ret

fail:
	push	%si
	mov	$m_fail, %si
	call	puts
	pop	%si
	call	puts
4:	cli
	hlt
	jmp	4b

puts:
	mov	$0x3f8, %dx
5:	lodsb
	test	%al, %al
	jz	6f
	out	%al, %dx
	jmp	5b
6:	ret

puthex:				/* %eax as 8 hex digits, then CR LF */
	mov	$8, %cx
	mov	$0x3f8, %dx
7:	roll	$4, %eax
	push	%ax
	and	$0x0f, %al
	add	$'0', %al
	cmp	$'9', %al
	jbe	8f
	add	$7, %al
8:	out	%al, %dx
	pop	%ax
	loop	7b
	mov	$'\r', %al
	out	%al, %dx
	mov	$'\n', %al
	out	%al, %dx
	ret

drive:	.byte	0x80
	.p2align 2
dap:	.byte	16, 0
dap_cnt: .word	1
dap_off: .word	0
dap_seg: .word	0
dap_lba: .quad	1

m_rw:	.asciz	"RW PASS\r\n"
m_sum:	.asciz	"SUM "
m_done:	.asciz	"DONE\r\n"
m_fail:	.asciz	"FAIL "
m_write: .asciz	"write\r\n"
m_read:	.asciz	"read\r\n"
m_cmp:	.asciz	"compare\r\n"

	.section .sig, "a"
	.word	0xaa55
