/* smp_guest.S - a firmware-sized test guest (linked with guest.ld) that
 * starts the second vCPU itself, as an OS does, through the in-kernel
 * local APIC: INIT, then two STARTUP IPIs with vector 0xF0, so the second
 * CPU starts in real mode at F000:0000, the start of this image.  There it
 * finds the flag the first CPU left, counts itself in and halts; the first
 * CPU waits for the count (2^33 TSC ticks at most: seconds, whether the
 * loop runs natively or emulated), prints PASS or FAIL and resets. */
#define LIN(x) ((x) + 0xf0000) /* the low copy of the image: F000:0 */
#define LAPIC 0xfee00000
#define FLAG 0x500 /* 0x5350 ("SP") once the first CPU is past this point */
#define COUNT 0x504

	.code16
	.section .text
	.globl start
start:
	cli
	xor	%ax, %ax
	mov	%ax, %es
	cmpw	$0x5350, %es:FLAG
	jne	bsp
	lock incw %es:COUNT		/* the second CPU: count in, halt */
1:	hlt
	jmp	1b
bsp:
	movw	$0x5350, %es:FLAG
	movw	$0, %es:COUNT
#include "pm32_enter.inc"
	movl	$0x1ff, LAPIC + 0xf0	/* software-enable the local APIC */
	mov	LAPIC + 0x20, %eax	/* our APIC ID: 0 */
	shr	$24, %eax
	test	%eax, %eax
	jnz	fail
	movl	$1 << 24, LAPIC + 0x310	/* destination: APIC ID 1 */
	movl	$0x00004500, LAPIC + 0x300	/* INIT, assert */
	call	ipi_wait
	movl	$1 << 24, LAPIC + 0x310
	movl	$0x000046f0, LAPIC + 0x300	/* STARTUP, vector 0xF0 */
	call	ipi_wait
	movl	$1 << 24, LAPIC + 0x310
	movl	$0x000046f0, LAPIC + 0x300	/* the second, as the MP spec asks */
	call	ipi_wait
	rdtsc
	mov	%edx, %ebx
2:	cmpw	$0, COUNT
	jne	3f
	rdtsc
	sub	%ebx, %edx
	cmp	$2, %edx
	jb	2b
	jmp	fail
3:	cmpw	$1, COUNT		/* started once, however many SIPIs */
	jne	fail
	mov	$LIN(m_pass), %esi
	call	puts
	jmp	reset
fail:
	mov	$LIN(m_fail), %esi
	call	puts
	jmp	reset

/* wait (bounded) until the ICR's delivery status is idle */
ipi_wait:
	mov	$100000, %ecx
1:	testl	$1 << 12, LAPIC + 0x300
	jz	2f
	loop	1b
2:	ret

#include "pm32_lib.inc"

m_pass:	.asciz	"SMP PASS\r\n"
m_fail:	.asciz	"SMP FAIL\r\n"
