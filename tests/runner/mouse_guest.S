/* mouse_guest.S - a test guest for the PS/2 mouse behind the runner's
 * screen: it knocks (sample rates 200, 100, 80: an IntelliMouse with a
 * wheel, four-byte packets), turns data reporting on (0xD4 0xF4 to the
 * i8042), without reading the ACKs in between, and prints
 * every byte it then reads from port 0x60 on COM1 as two hex digits and a
 * space, with an 'm' before a byte whose status had the AUX flag (bit 5).
 * It runs until the runner stops it.  Linked like guest.S (guest.ld). */
#include "guest_start.inc"
	mov	$cmds, %si
4:	lodsb
	test	%al, %al
	jz	5f
	mov	%al, %bl
	mov	$0xd4, %al
	out	%al, $0x64
	mov	%bl, %al
	out	%al, $0x60
	jmp	4b
5:
	mov	$msg_ready, %si
	call	puts
1:	in	$0x64, %al
	test	$0x01, %al
	jz	1b
	mov	%al, %bh
	in	$0x60, %al
	mov	%al, %bl
	test	$0x20, %bh
	jz	3f
	mov	$'m', %al
	mov	$0x3f8, %dx
	out	%al, %dx
3:	mov	%bl, %al
	call	puthex
	jmp	1b
#include "guest_lib.inc"

msg_ready: .asciz "MOUSE READY\r\n"
cmds: .byte 0xf3, 200, 0xf3, 100, 0xf3, 80, 0xf4, 0

	.section .reset, "ax"
	ljmp	$0xf000, $start
	.fill	11, 1, 0
