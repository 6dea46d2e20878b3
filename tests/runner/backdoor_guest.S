/* backdoor_guest.S - a tiny real-mode guest (linked like guest.S with
 * guest.ld) that talks to VMware's backdoor the way open-vm-tools does,
 * from inside a real KVM guest: the runner's I/O exit, KVM_GET_REGS and
 * KVM_SET_REGS carry every register of the call.  It prints on COM1:
 *   HV:<CPUID 0x40000000 signature> KVM:<CPUID 0x40000100 signature>
 *   VERSION OK | NOBACKDOOR
 *   R1:<reply to "info-get guestinfo.test">
 *   R2:<reply to "info-set guestinfo.fromguest hi">
 *   R3:<reply to "info-get guestinfo.fromguest">
 *   R4:<reply to "info-set guestinfo.test evil">
 *   R5:<reply to "no-such-command">
 *   DONE
 * and resets (which ends the run).  Scratch memory at 0:0x1000. */
#include "guest_start.inc"

	mov	$msg_hv, %si
	call	puts
	mov	$0x40000000, %eax
	call	cpuid_sig
	mov	$msg_kvm, %si
	call	puts
	mov	$0x40000100, %eax
	call	cpuid_sig
	mov	$msg_nl, %si
	call	puts

	/* GETVERSION: EAX = 6, EBX = magic */
	mov	$0xffffffff, %ebx
	mov	$10, %ecx
	call	bdoor
	cmp	$0x564d5868, %ebx
	jne	nobackdoor
	cmp	$6, %eax
	jne	nobackdoor
	mov	$msg_version, %si
	call	puts

	mov	$'1', %al
	mov	$cmd1, %si
	mov	$cmd1_end - cmd1, %cx
	call	rpci
	mov	$'2', %al
	mov	$cmd2, %si
	mov	$cmd2_end - cmd2, %cx
	call	rpci
	mov	$'3', %al
	mov	$cmd3, %si
	mov	$cmd3_end - cmd3, %cx
	call	rpci
	mov	$'4', %al
	mov	$cmd4, %si
	mov	$cmd4_end - cmd4, %cx
	call	rpci
	mov	$'5', %al
	mov	$cmd5, %si
	mov	$cmd5_end - cmd5, %cx
	call	rpci
	mov	$msg_done, %si
	call	puts
	jmp	reset

nobackdoor:
	mov	$msg_nobd, %si
	call	puts
	jmp	reset

/* the 12-byte signature of CPUID leaf %eax, printed */
cpuid_sig:
	cpuid
	mov	%ebx, %es:0x1000
	mov	%ecx, %es:0x1004
	mov	%edx, %es:0x1008
	movb	$0, %es:0x100c
	mov	$0x1000, %di
	jmp	puts_es

/* NUL-terminated string at %es:%di to COM1; NULs inside are not expected */
puts_es:
	mov	%es:(%di), %al
	test	%al, %al
	jz	1f
	mov	$0x3f8, %dx
	out	%al, %dx
	inc	%di
	jmp	puts_es
1:	ret

/* One backdoor call: the magic in EAX, the port in DX (EDX's high half,
 * the channel id, is kept). */
bdoor:
	mov	$0x564d5868, %eax
	mov	$0x5658, %dx
	in	%dx, %eax
	ret

/* The channel's id and cookies into EDX, ESI, EDI */
chan:
	mov	%es:0x1100, %edx
	mov	%es:0x1104, %esi
	mov	%es:0x1108, %edi
	ret

/* rpci: %al = reply tag, %ds:%si = command, %cx = its length.  Prints
 * "R<tag>:<reply>" or "R<tag>:FAIL<step>". */
rpci:
	mov	%al, %es:0x111c
	mov	%si, %es:0x1110
	movzwl	%cx, %ecx
	mov	%ecx, %es:0x1114
	mov	$'R', %al
	mov	$0x3f8, %dx
	out	%al, %dx
	mov	%es:0x111c, %al
	out	%al, %dx
	mov	$':', %al
	out	%al, %dx
	/* open RPCI with cookies */
	mov	$0xc9435052, %ebx
	mov	$0x0000001e, %ecx
	xor	%edx, %edx
	call	bdoor
	test	$0x10000, %ecx
	mov	$'O', %al
	jz	rfail
	mov	%edx, %es:0x1100
	mov	%esi, %es:0x1104
	mov	%edi, %es:0x1108
	/* send the size */
	call	chan
	mov	%es:0x1114, %ebx
	mov	$0x0001001e, %ecx
	call	bdoor
	test	$0x10000, %ecx
	mov	$'S', %al
	jz	rfail
	/* the payload, four bytes at a time */
1:	cmpl	$0, %es:0x1114
	je	2f
	mov	%es:0x1110, %bx
	mov	(%bx), %ebx
	call	chan
	mov	$0x0002001e, %ecx
	call	bdoor
	test	$0x10000, %ecx
	mov	$'P', %al
	jz	rfail
	addw	$4, %es:0x1110
	mov	%es:0x1114, %ecx
	sub	$4, %ecx
	jnc	3f
	xor	%ecx, %ecx
3:	mov	%ecx, %es:0x1114
	jmp	1b
	/* the reply's size: must say "do receive" */
2:	call	chan
	mov	$0x0003001e, %ecx
	call	bdoor
	test	$0x20000, %ecx
	mov	$'Z', %al
	jz	rfail
	cmp	$0x7f0, %ebx
	mov	$'L', %al
	ja	rfail
	mov	%ebx, %es:0x1118
	movb	$0, %es:0x2000(%bx)
	movw	$0x2000, %es:0x1110
	/* the reply, four bytes at a time */
4:	cmpl	$0, %es:0x1118
	je	5f
	call	chan
	mov	$1, %ebx
	mov	$0x0004001e, %ecx
	call	bdoor
	test	$0x10000, %ecx
	mov	$'Q', %al
	jz	rfail
	mov	%es:0x1110, %di
	mov	%ebx, %es:(%di)
	addw	$4, %es:0x1110
	mov	%es:0x1118, %ecx
	sub	$4, %ecx
	jnc	6f
	xor	%ecx, %ecx
6:	mov	%ecx, %es:0x1118
	jmp	4b
	/* receive status, close (the last word's spare bytes are 0) */
5:	call	chan
	mov	$1, %ebx
	mov	$0x0005001e, %ecx
	call	bdoor
	test	$0x10000, %ecx
	mov	$'T', %al
	jz	rfail
	call	chan
	mov	$0x0006001e, %ecx
	call	bdoor
	test	$0x10000, %ecx
	mov	$'C', %al
	jz	rfail
	mov	$0x2000, %di
	call	puts_es
	mov	$msg_nl, %si
	jmp	puts

rfail:
	push	%ax
	mov	$msg_fail, %si
	call	puts
	pop	%ax
	mov	$0x3f8, %dx
	out	%al, %dx
	mov	$msg_nl, %si
	jmp	puts

#include "guest_lib.inc"

msg_hv:	.asciz	"HV:"
msg_kvm: .asciz	" KVM:"
msg_nl:	.asciz	"\r\n"
msg_version: .asciz "VERSION OK\r\n"
msg_nobd: .asciz "NOBACKDOOR\r\n"
msg_done: .asciz "DONE\r\n"
msg_fail: .asciz "FAIL"
cmd1:	.ascii	"info-get guestinfo.test"
cmd1_end:
cmd2:	.ascii	"info-set guestinfo.fromguest hi"
cmd2_end:
cmd3:	.ascii	"info-get guestinfo.fromguest"
cmd3_end:
cmd4:	.ascii	"info-set guestinfo.test evil"
cmd4_end:
cmd5:	.ascii	"no-such-command"
cmd5_end:
	.ascii	"\0\0\0\0"

	.section .reset, "ax"
	ljmp	$0xf000, $start
	.fill	11, 1, 0
