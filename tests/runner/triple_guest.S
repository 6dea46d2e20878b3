/* triple_guest.S - a firmware-sized test guest (linked with guest.ld)
 * that triple-faults: in flat 32-bit protected mode with an empty IDT, a
 * breakpoint cannot be delivered (#GP), nor can the #GP (double fault),
 * nor the double fault: the processor shuts down, which a PC turns into a
 * reset.  The runner must end the run as a reset and say where the vCPU
 * was (tests/runner/guests.sh). */
#define LIN(x) ((x) + 0xf0000) /* the low copy of the image: F000:0 */

	.code16
	.section .text
	.globl start
start:
	cli
#include "pm32_enter.inc"

	mov	$LIN(m_go), %esi
	call	puts
	lidt	LIN(idt0)
	int3
	jmp	.

#include "pm32_lib.inc"

idt0:	.word	0
	.long	0
m_go:	.asciz	"TRIPLE\r\n"
