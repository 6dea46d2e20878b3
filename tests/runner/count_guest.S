/* count_guest.S - a firmware-sized test guest (linked with guest.ld) that
 * counts on COM1 for ever: "C=0000002A" and a newline about every 2^26 TSC
 * ticks (tens of milliseconds), the count also kept in RAM at 0x600.  For
 * pause/resume (tests/runner/pause.sh): a paused guest prints nothing, a
 * resumed one goes on with the next number, and a reset would start again
 * from 0.  Runs the same on the embedded runner and on QEMU (-bios). */
#define COUNT 0x600

	.code16
	.section .text
	.globl start
start:
	cli
	mov	%cs, %ax
	mov	%ax, %ds
	xor	%ax, %ax
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x7000, %sp
	movl	$0, %es:COUNT
next:
	mov	$'C', %al
	call	putc
	mov	$'=', %al
	call	putc
	mov	%es:COUNT, %ebx
	mov	$8, %cx
1:	rol	$4, %ebx
	mov	%bl, %al
	and	$0xf, %al
	add	$'0', %al
	cmp	$'9', %al
	jbe	2f
	add	$7, %al
2:	call	putc
	loop	1b
	mov	$'\n', %al
	call	putc
	incl	%es:COUNT
	rdtsc				/* wait 2^26 TSC ticks */
	mov	%eax, %edi
	mov	%edx, %ebp
3:	rdtsc
	sub	%edi, %eax
	sbb	%ebp, %edx
	jnz	next			/* a large jump (the TSC runs on while paused) */
	cmp	$0x4000000, %eax
	jb	3b
	jmp	next

putc:					/* %al to COM1, once it can take it */
	push	%dx
	push	%ax
	mov	$0x3fd, %dx
4:	in	%dx, %al
	test	$0x20, %al
	jz	4b
	pop	%ax
	mov	$0x3f8, %dx
	out	%al, %dx
	pop	%dx
	ret

	.section .reset, "ax"
	ljmp	$0xf000, $start
	.fill	11, 1, 0
