/* kbd_guest.S - a test guest for the keyboard behind the runner's screen:
 * it polls the i8042 (status port 0x64, data port 0x60) and prints every
 * byte it reads on COM1 as two hex digits and a space; the release of 'q'
 * (0x90) ends the run with a reset.  Linked like guest.S (guest.ld). */
#include "guest_start.inc"
	mov	$msg_ready, %si
	call	puts
1:	in	$0x64, %al
	test	$0x01, %al
	jz	1b
	in	$0x60, %al
	mov	%al, %bl
	shr	$4, %al
	call	nibble
	mov	%bl, %al
	and	$0x0f, %al
	call	nibble
	mov	$' ', %al
	mov	$0x3f8, %dx
	out	%al, %dx
	cmp	$0x90, %bl
	jne	1b
	mov	$msg_end, %si
	call	puts
	jmp	reset
nibble:
	cmp	$10, %al
	jb	2f
	add	$('A' - '0' - 10), %al
2:	add	$'0', %al
	mov	$0x3f8, %dx
	out	%al, %dx
	ret
#include "guest_lib.inc"

msg_ready: .asciz "KBD READY\r\n"
msg_end: .asciz "\r\nKBD END\r\n"

	.section .reset, "ax"
	ljmp	$0xf000, $start
	.fill	11, 1, 0
