/* vbe_mbr.S - a boot sector for the screen tests: it asks the VGA BIOS
 * (vgabios-stdvga, through INT 10h) for VBE mode 0x101 (640x480, 256
 * colours), paints the first 64 KiB of the frame through the banked window
 * at 0xa0000 in stripes of DAC colours 1 to 15, prints "VBE OK" (or "VBE
 * FAIL") on COM1 and halts. */
	.code16
	.section .text
	.globl _start
_start:
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %ss
	mov	$0x7c00, %sp
	sti
	mov	$0x4f02, %ax
	mov	$0x0101, %bx
	int	$0x10
	cmp	$0x004f, %ax
	jne	fail
	mov	$0xa000, %ax
	mov	%ax, %es
	xor	%di, %di
	xor	%bx, %bx		/* 640 pixels a row, a colour every 8 rows */
1:	mov	%bx, %ax
	xor	%dx, %dx
	mov	$5120, %cx
	div	%cx
	and	$0x0f, %al
	jnz	2f
	mov	$0x0f, %al
2:	stosb
	inc	%bx
	jnz	1b
	mov	$msg_ok, %si
	jmp	print
fail:
	mov	$msg_fail, %si
print:
	lodsb
	test	%al, %al
	jz	hang
	mov	$0x3f8, %dx
	out	%al, %dx
	jmp	print
hang:
	hlt
	jmp	hang
msg_ok: .asciz "VBE OK\r\n"
msg_fail: .asciz "VBE FAIL\r\n"

	.section .sig, "a"
	.byte	0x55, 0xaa
