/* count_guest.S - a firmware-sized test guest (linked with guest.ld) that
 * counts on COM1 for ever: "C=0000002A" and a newline about every 2^26 TSC
 * ticks (tens of milliseconds), the count also kept in RAM at 0x600.  For
 * pause/resume (tests/runner/pause.sh): a paused guest prints nothing, a
 * resumed one goes on with the next number, and a reset would start again
 * from 0.  Runs the same on the embedded runner and on QEMU (-bios).
 * With -DKVMCLOCK (KVM only) it turns kvmclock on and adds its reading in
 * ns to each line, " T=" and 16 hex digits: a pause should not show in it. */
#define COUNT 0x600
#define PVCLOCK 0x1000 /* -DKVMCLOCK: the kvmclock record */

#include "guest_start.inc"
	movl	$0, %es:COUNT
#ifdef KVMCLOCK
	mov	$0x4b564d01, %ecx	/* MSR_KVM_SYSTEM_TIME_NEW: enable, at PVCLOCK */
	mov	$PVCLOCK + 1, %eax
	xor	%edx, %edx
	wrmsr
#endif
next:
	mov	$'C', %al
	call	putc
	mov	$'=', %al
	call	putc
	mov	%es:COUNT, %ebx
	call	puthex
#ifdef KVMCLOCK
	mov	$' ', %al
	call	putc
	mov	$'T', %al
	call	putc
	mov	$'=', %al
	call	putc
	call	kvmclock_ns		/* %edx:%eax */
	push	%eax
	mov	%edx, %ebx
	call	puthex
	pop	%ebx
	call	puthex
#endif
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

puthex:					/* %ebx as 8 hex digits */
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
	ret

#ifdef KVMCLOCK
/* The guest's kvmclock in ns, as Linux reads it: system_time plus the TSC
 * ticks since tsc_timestamp, shifted by tsc_shift and scaled by
 * tsc_to_system_mul / 2^32; retried while the host updates the record
 * (odd version, or a version that changed under us). */
kvmclock_ns:
5:	mov	%es:PVCLOCK, %esi	/* version */
	test	$1, %esi
	jnz	5b
	rdtsc
	sub	%es:PVCLOCK + 8, %eax	/* - tsc_timestamp */
	sbb	%es:PVCLOCK + 12, %edx
	movsbw	%es:PVCLOCK + 28, %cx	/* tsc_shift */
	test	%cx, %cx
	js	6f
	shld	%cl, %eax, %edx
	shl	%cl, %eax
	jmp	7f
6:	neg	%cx
	shrd	%cl, %edx, %eax
	shr	%cl, %edx
7:	mov	%edx, %edi		/* high half of the delta */
	mull	%es:PVCLOCK + 24	/* low * mul: keep the high 32 bits */
	mov	%edx, %ebx
	mov	%edi, %eax
	mull	%es:PVCLOCK + 24	/* high * mul */
	add	%ebx, %eax
	adc	$0, %edx
	add	%es:PVCLOCK + 16, %eax	/* + system_time */
	adc	%es:PVCLOCK + 20, %edx
	cmp	%es:PVCLOCK, %esi
	jne	5b
	ret
#endif

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
