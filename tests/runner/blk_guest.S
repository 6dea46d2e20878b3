/* blk_guest.S - a firmware-sized test guest (linked with guest.ld) that
 * drives virtio-blk the way a driver does, inside a real KVM guest, by
 * polling (no interrupts):
 *
 *   - switches to 32-bit flat protected mode, finds the virtio-blk function
 *     (1af4:1001), places BAR 0 (legacy I/O) and BAR 4 (modern, 64-bit
 *     memory), and finds the common, notify and device configuration
 *     through the vendor capabilities, as a virtio 1.x driver must;
 *   - modern interface: reset, feature negotiation (VERSION_1 required,
 *     FLUSH accepted, RO noted), FEATURES_OK read back, queue 0 of 8
 *     entries at addresses it chooses, DRIVER_OK; checks the capacity of a
 *     1 MiB disk in the device configuration;
 *   - writes a pattern to sector 1, flushes, reads sector 1 back and
 *     compares; on a read-only disk (RO offered) the write must fail with
 *     IOERR and the read must return the old bytes instead;
 *   - reads sector 0 and prints the sum of its 128 little-endian dwords
 *     ("SUM xxxxxxxx"), which the test compares with the disk file;
 *   - resets the device and reads sector 0 again through the legacy
 *     interface (I/O BAR, queue PFN), which must give the same bytes;
 *   - prints PASS lines and resets through 0xCF9.
 * Every wait for the device is a bounded poll of the used ring. */
#define LIN(x) ((x) + 0xf0000) /* the low copy of the image: F000:0 */
#define BAR0 0xc000
#define BAR4 0xfe800000
#define V_COMMON 0x600 /* addresses found in the capabilities */
#define V_NOTIFY 0x604
#define V_DEVICE 0x608
#define V_MULT 0x60c
#define V_IDX 0x610 /* our next avail index */
#define V_RO 0x614
#define HDR 0x2000
#define WBUF 0x3000
#define RBUF 0x4000
#define LBUF 0x5000
#define STAT 0x6000
#define QD 0x10000 /* modern queue: descriptors, driver (avail), device (used) */
#define QA 0x11000
#define QU 0x12000
#define QSIZE 8
#define LRING 0x20000 /* legacy queue of 128: avail at +0x800, used at +0x1000 */
#define POLLS 2000000

	.code16
	.section .text
	.globl start
start:
	cli
#include "pm32_enter.inc"

	/* the virtio-blk function (1af4:1001); %ebx = its address */
	mov	$0x10011af4, %eax
	call	find_fn
	mov	$LIN(m_nodev), %esi
	jne	fail
	mov	$0x10, %eax
	mov	$BAR0, %ecx
	call	cfgw
	mov	$0x20, %eax
	mov	$BAR4 | 4, %ecx
	call	cfgw
	mov	$0x24, %eax
	xor	%ecx, %ecx
	call	cfgw
	mov	$0x04, %eax		/* I/O, memory, bus master */
	mov	$0x7, %ecx
	call	cfgw

	/* the vendor capabilities (id 9), at most 48 hops */
	xor	%eax, %eax
	mov	%eax, V_COMMON
	mov	%eax, V_NOTIFY
	mov	%eax, V_DEVICE
	mov	$0x34, %eax
	call	cfgr
	movzbl	%al, %esi
	mov	$48, %edi
3:	test	%esi, %esi
	jz	6f
	dec	%edi
	jz	6f
	mov	%esi, %eax
	call	cfgr
	mov	%eax, %ebp		/* id, next, length, cfg_type */
	cmp	$0x09, %al
	jne	5f
	lea	4(%esi), %eax		/* the BAR: must be 4 */
	call	cfgr
	cmp	$4, %al
	jne	5f
	lea	8(%esi), %eax		/* offset in it */
	call	cfgr
	add	$BAR4, %eax
	mov	%ebp, %ecx
	shr	$24, %ecx
	cmp	$1, %ecx
	jne	4f
	mov	%eax, V_COMMON
4:	cmp	$4, %ecx
	jne	4f
	mov	%eax, V_DEVICE
4:	cmp	$2, %ecx
	jne	5f
	mov	%eax, V_NOTIFY
	lea	16(%esi), %eax		/* notify_off_multiplier */
	call	cfgr
	mov	%eax, V_MULT
5:	mov	%ebp, %esi
	shr	$8, %esi
	and	$0xfc, %esi
	jmp	3b
6:	mov	$LIN(m_nocap), %esi
	cmpl	$0, V_COMMON
	je	fail
	cmpl	$0, V_NOTIFY
	je	fail
	cmpl	$0, V_DEVICE
	je	fail

	/* modern: reset, ACKNOWLEDGE|DRIVER, features */
	mov	V_COMMON, %edi
	movb	$0, 0x14(%edi)
	cmpb	$0, 0x14(%edi)
	jne	fail_feat
	movb	$1, 0x14(%edi)
	movb	$3, 0x14(%edi)
	movl	$1, 0x00(%edi)		/* device features 32-63 */
	testl	$1, 0x04(%edi)		/* VERSION_1 */
	jz	fail_feat
	movl	$0, 0x00(%edi)		/* device features 0-31 */
	mov	0x04(%edi), %eax
	test	$1 << 9, %eax		/* FLUSH */
	jz	fail_feat
	and	$(1 << 9) | (1 << 5), %eax
	mov	%eax, %ecx
	and	$1 << 5, %ecx		/* RO */
	mov	%ecx, V_RO
	movl	$0, 0x08(%edi)
	mov	%eax, 0x0c(%edi)
	movl	$1, 0x08(%edi)
	movl	$1, 0x0c(%edi)		/* VERSION_1 */
	movb	$0x0b, 0x14(%edi)	/* FEATURES_OK */
	testb	$0x08, 0x14(%edi)
	jz	fail_feat

	/* queue 0: 8 entries where we want them */
	movw	$0, 0x16(%edi)
	cmpw	$QSIZE, 0x18(%edi)
	jb	fail_feat
	movw	$QSIZE, 0x18(%edi)
	mov	$QD, %eax
	xor	%ecx, %ecx
	mov	%eax, 0x20(%edi)
	mov	%ecx, 0x24(%edi)
	movl	$QA, 0x28(%edi)
	mov	%ecx, 0x2c(%edi)
	movl	$QU, 0x30(%edi)
	mov	%ecx, 0x34(%edi)
	push	%edi
	mov	$QD, %edi		/* rings zeroed */
	xor	%eax, %eax
	mov	$0xc00, %ecx
	rep	stosl
	pop	%edi
	movzwl	0x1e(%edi), %eax	/* queue_notify_off * multiplier */
	mull	V_MULT
	add	%eax, V_NOTIFY
	movl	$0, V_IDX
	movw	$1, 0x1c(%edi)		/* queue_enable */
	movb	$0x0f, 0x14(%edi)	/* DRIVER_OK */

	/* capacity: 2048 sectors */
	mov	V_DEVICE, %eax
	cmpl	$2048, (%eax)
	jne	fail_cap
	cmpl	$0, 4(%eax)
	jne	fail_cap

	/* the pattern for sector 1, and the old bytes in RBUF for later */
	mov	$WBUF, %edi
	mov	$0x44465640, %eax	/* "@VFD" + i */
	mov	$128, %ecx
7:	stosl
	inc	%eax
	loop	7b
	mov	$0, %eax		/* IN, sector 1 */
	mov	$1, %ebp
	mov	$LBUF, %edx
	mov	$2, %esi
	call	req
	test	%al, %al
	jnz	fail_io

	mov	$1, %eax		/* OUT, sector 1 */
	mov	$1, %ebp
	mov	$WBUF, %edx
	xor	%esi, %esi
	call	req
	cmpl	$0, V_RO
	jne	8f
	test	%al, %al
	jnz	fail_io
	jmp	9f
8:	cmp	$1, %al			/* read-only: IOERR */
	jne	fail_ro
9:	mov	$4, %eax		/* FLUSH */
	xor	%ebp, %ebp
	xor	%edx, %edx
	call	req
	test	%al, %al
	jnz	fail_io
	mov	$0, %eax		/* IN, sector 1 */
	mov	$1, %ebp
	mov	$RBUF, %edx
	mov	$2, %esi
	call	req
	test	%al, %al
	jnz	fail_io
	mov	$RBUF, %esi		/* the pattern, or the old bytes when RO */
	mov	$WBUF, %edi
	cmpl	$0, V_RO
	je	10f
	mov	$LBUF, %edi
10:	mov	$128, %ecx
	repe	cmpsl
	jne	fail_cmp
	mov	$LIN(m_rw), %esi
	cmpl	$0, V_RO
	je	11f
	mov	$LIN(m_ro), %esi
11:	call	puts

	/* sector 0 and its sum */
	mov	$0, %eax
	xor	%ebp, %ebp
	mov	$RBUF, %edx
	mov	$2, %esi
	call	req
	test	%al, %al
	jnz	fail_io
	mov	$LIN(m_sum), %esi
	call	puts
	xor	%eax, %eax
	mov	$RBUF, %esi
	mov	$128, %ecx
12:	add	(%esi), %eax
	add	$4, %esi
	loop	12b
	call	puthex32
	mov	$LIN(m_nl), %esi
	call	puts

	/* legacy: reset through the I/O BAR, queue 0 by PFN, read sector 0 */
	mov	$BAR0 + 0x12, %dx
	xor	%al, %al
	out	%al, %dx
	in	%dx, %al
	test	%al, %al
	jnz	fail_leg
	mov	$3, %al
	out	%al, %dx
	mov	$BAR0 + 0x0e, %dx	/* queue select 0 */
	xor	%ax, %ax
	out	%ax, %dx
	mov	$BAR0 + 0x0c, %dx
	in	%dx, %ax
	cmp	$128, %ax
	jne	fail_leg
	mov	$LRING, %edi
	xor	%eax, %eax
	mov	$0x800, %ecx
	rep	stosl
	movl	$HDR, LRING
	movl	$16, LRING + 8
	movl	$0x00010001, LRING + 12	/* NEXT, next 1 */
	movl	$LBUF, LRING + 16
	movl	$512, LRING + 24
	movl	$0x00020003, LRING + 28	/* NEXT|WRITE, next 2 */
	movl	$STAT, LRING + 32
	movl	$1, LRING + 40
	movl	$0x00000002, LRING + 44	/* WRITE */
	movl	$0, HDR			/* IN, sector 0 */
	movl	$0, HDR + 4
	movl	$0, HDR + 8
	movl	$0, HDR + 12
	movb	$0xff, STAT
	movw	$1, LRING + 0x802	/* avail idx 1; ring[0] = head 0 */
	mov	$BAR0 + 0x08, %dx	/* queue PFN */
	mov	$LRING >> 12, %eax
	out	%eax, %dx
	mov	$BAR0 + 0x12, %dx
	mov	$7, %al			/* DRIVER_OK */
	out	%al, %dx
	mov	$BAR0 + 0x10, %dx	/* notify queue 0 */
	xor	%ax, %ax
	out	%ax, %dx
	mov	$POLLS, %ecx
13:	cmpw	$1, LRING + 0x1002
	je	14f
	loop	13b
	jmp	fail_leg
14:	cmpb	$0, STAT
	jne	fail_leg
	mov	$LBUF, %esi
	mov	$RBUF, %edi
	mov	$128, %ecx
	repe	cmpsl
	jne	fail_leg
	mov	$LIN(m_legacy), %esi
	call	puts
	mov	$LIN(m_pass), %esi
	call	puts
	jmp	reset

/* req: one request on the modern queue, waited for by polling.
 * %eax type, %ebp sector, %edx data address (0: no data descriptor), %esi
 * the data descriptor's flags (2: the device writes it).  Returns the
 * status byte in %al (0xff if the device never answered). */
req:
	mov	%eax, HDR
	movl	$0, HDR + 4
	mov	%ebp, HDR + 8
	movl	$0, HDR + 12
	movb	$0xff, STAT
	movl	$HDR, QD		/* desc 0: the header */
	movl	$0, QD + 4
	movl	$16, QD + 8
	movl	$0x00010001, QD + 12	/* NEXT, next 1 */
	mov	$QD + 16, %edi
	test	%edx, %edx
	jz	1f
	mov	%edx, (%edi)		/* desc 1: the data */
	movl	$0, 4(%edi)
	movl	$512, 8(%edi)
	mov	%esi, %eax
	or	$1, %eax		/* NEXT */
	mov	%ax, 12(%edi)
	movw	$2, 14(%edi)		/* next 2 */
	add	$16, %edi
1:	movl	$STAT, (%edi)		/* last: the status byte */
	movl	$0, 4(%edi)
	movl	$1, 8(%edi)
	movl	$2, 12(%edi)		/* WRITE */
	mov	V_IDX, %eax		/* avail ring[idx % 8] = head 0 */
	mov	%eax, %ecx
	and	$QSIZE - 1, %ecx
	movw	$0, QA + 4(,%ecx,2)
	inc	%eax
	mov	%eax, V_IDX
	mov	%ax, QA + 2
	mov	V_NOTIFY, %edi
	movw	$0, (%edi)		/* notify queue 0 */
	mov	$POLLS, %ecx
2:	cmpw	%ax, QU + 2
	je	3f
	loop	2b
	mov	$0xff, %al
	ret
3:	mov	STAT, %al
	ret

/* puthex32: %eax as 8 hex digits on COM1 */
puthex32:
	mov	%eax, %ebx
	mov	$8, %ecx
	mov	$0x3f8, %dx
1:	rol	$4, %ebx
	mov	%bl, %al
	and	$0xf, %al
	add	$'0', %al
	cmp	$'9', %al
	jbe	2f
	add	$'a' - '9' - 1, %al
2:	out	%al, %dx
	loop	1b
	ret

fail_feat:
	mov	$LIN(m_feat), %esi
	jmp	fail
fail_cap:
	mov	$LIN(m_cap), %esi
	jmp	fail
fail_io:
	mov	$LIN(m_io), %esi
	jmp	fail
fail_ro:
	mov	$LIN(m_rofail), %esi
	jmp	fail
fail_cmp:
	mov	$LIN(m_cmp), %esi
	jmp	fail
fail_leg:
	mov	$LIN(m_leg), %esi
fail:
	call	puts
	mov	$LIN(m_fail), %esi
	call	puts
	jmp	reset

#include "pm32_lib.inc"

m_rw:	.asciz	"MODERN WRITE FLUSH READ PASS\r\n"
m_ro:	.asciz	"MODERN READONLY PASS\r\n"
m_sum:	.asciz	"SUM "
m_nl:	.asciz	"\r\n"
m_legacy: .asciz "LEGACY READ PASS\r\n"
m_pass:	.asciz	"BLK PASS\r\n"
m_fail:	.asciz	" FAIL\r\n"
m_nodev: .asciz	"no virtio-blk"
m_nocap: .asciz	"virtio capabilities missing"
m_feat:	.asciz	"feature negotiation or queue set-up"
m_cap:	.asciz	"capacity"
m_io:	.asciz	"request failed"
m_rofail: .asciz "write to a read-only disk not refused"
m_cmp:	.asciz	"read back differs"
m_leg:	.asciz	"legacy read"
