/* guest.S - tiny real-mode test guests for the runner, one per -DT_xxx.
 *
 * Linked flat into a 64 KiB image (guest.ld) that the runner maps to end at
 * 4 GiB and at 1 MiB: the CPU starts at the reset vector (offset 0xfff0),
 * which jumps to F000:start in the low copy.  Each guest checks one thing,
 * prints PASS or FAIL (with a reason) on COM1 and resets through 0xCF9,
 * which ends the run. */
#include "guest_start.inc"

#ifdef T_SERIAL
	mov	$0x3fb, %dx		/* LCR: 8N1, as a real driver would */
	mov	$0x03, %al
	out	%al, %dx
	mov	$0x3fd, %dx		/* LSR must say THR empty */
	in	%dx, %al
	test	$0x20, %al
	jz	fail
	jmp	pass
#endif

#ifdef T_PCI
	mov	$0x80000000, %eax	/* 00:00.0 vendor/device */
	call	pci_read
	cmp	$0x12378086, %eax
	jne	fail
	mov	$0x8000002c, %eax	/* 00:00.0 subsystem: QEMU's */
	call	pci_read
	cmp	$0x11001af4, %eax
	jne	fail
	mov	$0x80000800, %eax	/* 00:01.0 PIIX3 */
	call	pci_read
	cmp	$0x70008086, %eax
	jne	fail
	mov	$0x8000f800, %eax	/* 00:1f.0: nothing there */
	call	pci_read
	cmp	$0xffffffff, %eax
	jne	fail
	jmp	pass
pci_read:
	mov	$0xcf8, %dx
	out	%eax, %dx
	mov	$0xcfc, %dx
	in	%dx, %eax
	ret
#endif

#ifdef T_FWCFG
	mov	$0x510, %dx		/* select the signature */
	xor	%ax, %ax
	out	%ax, %dx
	mov	$0x511, %dx
	mov	$sig, %si
	mov	$4, %cx
1:	in	%dx, %al
	cmp	(%si), %al
	jne	fail
	inc	%si
	loop	1b
	mov	$0x510, %dx		/* ID: the DMA bit */
	mov	$1, %ax
	out	%ax, %dx
	mov	$0x511, %dx
	in	%dx, %al
	test	$0x02, %al
	jz	fail
	/* DMA: select key 0 and read 4 bytes to 0x2000; control block at
	 * 0x1000 in big-endian: control 0x0000000a, length 4, address 0x2000 */
	movl	$0x0a000000, %es:0x1000
	movl	$0x04000000, %es:0x1004
	movl	$0, %es:0x1008
	movl	$0x00200000, %es:0x100c
	call	dma_go
	cmpl	$0, %es:0x1000
	jne	fail
	cmpl	$0x554d4551, %es:0x2000	/* "QEMU" */
	jne	fail
	/* DMA to an address outside RAM must fail with the error bit */
	movl	$0x0a000000, %es:0x1000
	movl	$0x04000000, %es:0x1004
	movl	$0, %es:0x1008
	movl	$0x000000f0, %es:0x100c	/* 0xf0000000 */
	call	dma_go
	cmpl	$0x01000000, %es:0x1000
	jne	fail
	/* FILE_DIR (key 0x19): big-endian count, then 64-byte entries (be32
	 * size, be16 key, 2 reserved, 56-byte name); find etc/e820 and check
	 * its first entry: RAM from 0 for all of the guest's 16 MiB */
	cld
	mov	$0x510, %dx
	mov	$0x19, %ax
	out	%ax, %dx
	mov	$0x511, %dx
	in	%dx, %al
	in	%dx, %al
	in	%dx, %al
	mov	%al, %ch
	in	%dx, %al
	mov	%al, %cl
	test	%cx, %cx
	jz	fail
	cmp	$64, %cx
	ja	fail
2:	mov	$0x3000, %di
	push	%cx
	mov	$64, %cx
3:	in	%dx, %al
	stosb
	loop	3b
	mov	$e820name, %si
	mov	$0x3008, %di
	mov	$9, %cx
	repe	cmpsb
	pop	%cx
	je	4f
	loop	2b
	jmp	fail
4:	mov	%es:0x3004, %ax
	xchg	%al, %ah
	mov	$0x510, %dx
	out	%ax, %dx
	mov	$0x511, %dx
	mov	$0x3100, %di
	mov	$20, %cx
5:	in	%dx, %al
	stosb
	loop	5b
	cmpl	$0, %es:0x3100		/* address 0 */
	jne	fail
	cmpl	$0, %es:0x3104
	jne	fail
	cmpl	$0x1000000, %es:0x3108	/* 16 MiB */
	jne	fail
	cmpl	$0, %es:0x310c
	jne	fail
	cmpl	$1, %es:0x3110		/* RAM */
	jne	fail
	jmp	pass
e820name: .asciz "etc/e820"
dma_go:
	mov	$0x514, %dx
	xor	%eax, %eax
	out	%eax, %dx
	mov	$0x518, %dx
	mov	$0x00100000, %eax	/* be32(0x1000) */
	out	%eax, %dx
	ret
sig:	.ascii	"QEMU"
#endif

#ifdef T_I8042_RESET
	mov	$msg_r, %si
	call	puts
	mov	$0xfe, %al
	out	%al, $0x64
	jmp	hang
msg_r:	.asciz	"RESETTING\r\n"
#endif

#ifdef T_POWERBTN
	/* wait for the ACPI power button (PM1a_STS bit 8, enabled in PM1a_EN),
	 * then power off through PM1a_CNT with SLP_TYP 0 */
	mov	$0x602, %dx
	mov	$0x100, %ax
	out	%ax, %dx
	mov	$msg_ready, %si
	call	puts
1:	mov	$0x600, %dx
	in	%dx, %ax
	test	$0x100, %ax
	jz	1b
	out	%ax, %dx		/* write 1 to clear */
	mov	$msg_btn, %si
	call	puts
	mov	$0x604, %dx
	mov	$0x2000, %ax
	out	%ax, %dx
	mov	$msg_fail, %si		/* still running: power-off failed */
	call	puts
	jmp	hang
msg_ready: .asciz "READY\r\n"
msg_btn: .asciz	"BUTTON\r\n"
#endif

#ifdef T_ECHO
	/* echo console input in upper case; 'q' resets */
1:	mov	$0x3fd, %dx		/* LSR: data ready? */
	in	%dx, %al
	test	$0x01, %al
	jz	1b
	mov	$0x3f8, %dx
	in	%dx, %al
	cmp	$'q', %al
	je	reset
	cmp	$'a', %al
	jb	2f
	cmp	$'z', %al
	ja	2f
	sub	$0x20, %al
2:	out	%al, %dx
	jmp	1b
#endif

#ifdef T_HALT
	mov	$msg_h, %si
	call	puts
	jmp	hang
msg_h:	.asciz	"HALTING\r\n"
#endif

pass:
	mov	$msg_pass, %si
	call	puts
	jmp	reset
fail:
	mov	$msg_fail, %si
	call	puts
#include "guest_lib.inc"

msg_pass: .asciz "PASS\r\n"
msg_fail: .asciz "FAIL\r\n"

	.section .reset, "ax"
	ljmp	$0xf000, $start
	.fill	11, 1, 0
