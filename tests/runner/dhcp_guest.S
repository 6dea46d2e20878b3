/* dhcp_guest.S - a freestanding guest for tests/runner/net-dhcp.sh: it
 * drives the virtio-net device through its legacy I/O interface, sends a
 * DHCPDISCOVER and checks slirp's DHCPOFFER (10.0.2.15), all in real mode,
 * in few instructions (kernel-mode guest code costs ~4 us an instruction
 * on PVM hosts).  Guest RAM starts zeroed, so only non-zero bytes are
 * stored.  Layout (legacy virtio, queue size 256, 4 KiB alignment):
 *   0x10000 RX queue: descriptors, avail ring at +0x1000, used at +0x2000
 *   0x20000 TX queue: the same
 *   0x30000 the receive buffer (2 KiB), 0x40000 the frame we send
 * Prints OFFER 10.0.2.15 and PASS, or FAIL and the step, then resets. */
#include "guest_start.inc"

	/* find the transitional virtio-net device (1af4:1000) on bus 0 */
	xor	%ebx, %ebx
1:	mov	%ebx, %eax
	shl	$11, %eax
	or	$0x80000000, %eax
	mov	$0xcf8, %dx
	out	%eax, %dx
	mov	$0xcfc, %dx
	in	%dx, %eax
	cmp	$0x10001af4, %eax
	je	2f
	inc	%bx
	cmp	$32, %bx
	jb	1b
	mov	$msg_nodev, %si
	jmp	fail
	/* BAR0 (legacy I/O) at 0xC000, then I/O decoding and bus mastering */
2:	mov	%ebx, %eax
	shl	$11, %eax
	or	$0x80000010, %eax
	mov	$0xcf8, %dx
	out	%eax, %dx
	mov	$0xcfc, %dx
	mov	$0xc000, %eax
	out	%eax, %dx
	mov	%ebx, %eax
	shl	$11, %eax
	or	$0x80000004, %eax
	mov	$0xcf8, %dx
	out	%eax, %dx
	mov	$0xcfc, %dx
	mov	$0x0005, %ax
	out	%ax, %dx

	/* reset, ACKNOWLEDGE | DRIVER, no features, two queues, DRIVER_OK */
	mov	$0xc012, %dx
	xor	%al, %al
	out	%al, %dx
	mov	$3, %al
	out	%al, %dx
	mov	$0xc00e, %dx		/* queue select 0: RX */
	xor	%ax, %ax
	out	%ax, %dx
	mov	$0xc008, %dx		/* its page frame */
	mov	$0x10, %eax
	out	%eax, %dx
	mov	$0xc00e, %dx		/* queue 1: TX */
	mov	$1, %ax
	out	%ax, %dx
	mov	$0xc008, %dx
	mov	$0x20, %eax
	out	%eax, %dx
	mov	$0xc012, %dx
	mov	$7, %al
	out	%al, %dx

	/* one receive buffer: descriptor 0 -> 0x30000, 2 KiB, device-writable */
	mov	$0x1000, %ax
	mov	%ax, %es
	movl	$0x30000, %es:0
	movl	$2048, %es:8
	movw	$2, %es:12
	movw	$1, %es:0x1002		/* avail idx 1 (ring[0] = 0) */
	mov	$0xc010, %dx
	xor	%ax, %ax
	out	%ax, %dx		/* notify RX */

	/* the DHCPDISCOVER: 10-byte virtio header, Ethernet, IPv4, UDP, and
	 * a full-size BOOTP message (slirp wants all of struct bootp_t) */
	mov	$0x4000, %ax
	mov	%ax, %es
	movl	$0xffffffff, %es:10	/* broadcast destination */
	movw	$0xffff, %es:14
	movl	$0x12005452, %es:16	/* 52:54:00:12:34:56 */
	movw	$0x5634, %es:20
	movw	$0x0008, %es:22		/* IPv4 */
	movw	$0x0045, %es:24		/* version 4, 20-byte header */
	movw	$0x4002, %es:26		/* total length 576 */
	movw	$0x1140, %es:32		/* TTL 64, UDP */
	movw	$0xae78, %es:34		/* header checksum 0x78ae */
	movl	$0xffffffff, %es:40	/* to 255.255.255.255 from 0.0.0.0 */
	movl	$0x43004400, %es:44	/* UDP 68 -> 67 */
	movw	$0x2c02, %es:48		/* UDP length 556, no checksum */
	movl	$0x00060101, %es:52	/* BOOTREQUEST, Ethernet, 6-byte MAC */
	movl	$0x78563412, %es:56	/* xid 0x12345678 */
	movw	$0x0080, %es:62		/* broadcast flag */
	movl	$0x12005452, %es:80	/* chaddr */
	movw	$0x5634, %es:84
	movl	$0x63538263, %es:288	/* DHCP magic cookie */
	movl	$0xff010135, %es:292	/* option 53 = DISCOVER, end */

	/* descriptor 0 of TX -> the frame, 600 bytes; avail idx 1; notify */
	mov	$0x2000, %ax
	mov	%ax, %es
	movl	$0x40000, %es:0
	movl	$600, %es:8
	movw	$1, %es:0x1002
	mov	$0xc010, %dx
	mov	$1, %ax
	out	%ax, %dx

	/* wait for the RX used index to move (the run's --timeout bounds it) */
	mov	$0x1000, %ax
	mov	%ax, %es
3:	cmpw	$0, %es:0x2002
	je	3b

	/* check the offer in the receive buffer (after the 10-byte header) */
	mov	$0x3000, %ax
	mov	%ax, %es
	mov	$msg_eth, %si
	cmpw	$0x0008, %es:22
	jne	fail
	mov	$msg_udp, %si
	cmpb	$0x11, %es:33
	jne	fail
	cmpw	$0x4300, %es:44		/* from port 67 */
	jne	fail
	mov	$msg_bootp, %si
	cmpb	$2, %es:52		/* BOOTREPLY */
	jne	fail
	cmpl	$0x78563412, %es:56	/* our xid */
	jne	fail
	mov	$msg_offer, %si
	cmpl	$0x63538263, %es:288
	jne	fail
	cmpw	$0x0135, %es:292	/* option 53, length 1 ... */
	jne	fail
	cmpb	$2, %es:294		/* ... DHCPOFFER */
	jne	fail
	mov	$msg_addr, %si
	cmpl	$0x0f02000a, %es:68	/* yiaddr 10.0.2.15 */
	jne	fail
	mov	$msg_pass, %si
	call	puts
	jmp	reset
fail:
	push	%si
	mov	$msg_fail, %si
	call	puts
	pop	%si
	call	puts
#include "guest_lib.inc"

msg_pass:	.asciz "OFFER 10.0.2.15\r\nPASS\r\n"
msg_fail:	.asciz "FAIL "
msg_nodev:	.asciz "no virtio-net device\r\n"
msg_eth:	.asciz "not IPv4\r\n"
msg_udp:	.asciz "not UDP from port 67\r\n"
msg_bootp:	.asciz "not our BOOTREPLY\r\n"
msg_offer:	.asciz "not a DHCPOFFER\r\n"
msg_addr:	.asciz "offered address is not 10.0.2.15\r\n"

	.section .reset, "ax"
	ljmp	$0xf000, $start
	.fill	11, 1, 0
