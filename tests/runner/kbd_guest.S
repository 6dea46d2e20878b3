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
	call	puthex
	cmp	$0x90, %bl
	jne	1b
	mov	$msg_end, %si
	call	puts
	jmp	reset
#include "guest_lib.inc"

msg_ready: .asciz "KBD READY\r\n"
msg_end: .asciz "\r\nKBD END\r\n"

	.section .reset, "ax"
	ljmp	$0xf000, $start
	.fill	11, 1, 0
