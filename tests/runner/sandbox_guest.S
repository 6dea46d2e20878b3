/* sandbox_guest.S - a guest for tests/runner/sandbox-seccomp.sh, run by
 * the test build of the runner (tests/runner/ovfdeploy_hook).  It prints
 * READY, asks the test hook port 0x5E0 to make its vCPU thread attempt
 * system call HOOK (a -D value, see src/runner/hw/misc.c), then prints
 * ALLOWED or REFUSED after the hook's result and resets (which ends the
 * run).  When the filter does its job for a forbidden call, nothing after
 * READY appears: the process is dead. */
#include "guest_start.inc"
	mov	$msg_ready, %si
	call	puts
	mov	$0x5e0, %dx
	mov	$HOOK, %al
	out	%al, %dx
	in	%dx, %al
	mov	$msg_refused, %si
	test	%al, %al
	jz	1f
	mov	$msg_allowed, %si
1:	call	puts
	jmp	reset

#include "guest_lib.inc"

msg_ready:	.asciz "READY\r\n"
msg_allowed:	.asciz "ALLOWED\r\n"
msg_refused:	.asciz "REFUSED\r\n"

	.section .reset, "ax"
	ljmp	$0xf000, $start
	.fill	11, 1, 0
