/* msix_guest.S - a firmware-sized test guest (linked with guest.ld) that
 * drives virtio-blk with MSI-X, as a driver would, inside a real KVM guest:
 *
 *   - switches to 32-bit flat protected mode (the MSI-X BAR and the local
 *     APIC are above 1 MiB), enables the local APIC, and installs an IDT
 *     holding vector 0x41 only: any other interrupt or exception runs past
 *     the IDT's limit, the CPU triple-faults and the run ends without PASS;
 *   - finds the virtio-blk function, places BAR 0 (legacy I/O) and BAR 1
 *     (MSI-X table), walks the capability list to the MSI-X capability,
 *     writes table entry 0 (to APIC 0, vector 0x41), enables MSI-X;
 *   - through the legacy interface, whose header is then 24 bytes: sets
 *     the config vector to "no vector" and queue 0's vector to 0, checks
 *     the capacity at the shifted offset 0x18, queues one read of sector 0
 *     and waits (sti; hlt) for the interrupt;
 *   - checks the status byte, the used ring and the data ("MSIX" at the
 *     start of the disk), prints PASS and resets through 0xCF9.
 * PIRQs are left unrouted, so INTx cannot be what wakes the guest.
 *
 * With -DBIG_READ the queue has no vector, the guest polls the used ring,
 * and the read is 256 KiB: a run under the seccomp sandbox, where a read
 * of several compressed VMDK grains must not make the disk library start
 * threads (the filter kills the process on clone). */
#define LIN(x) ((x) + 0xf0000) /* the low copy of the image: F000:0 */
#define BAR0 0xc000
#define BAR1 0xfeb00000
#define LAPIC 0xfee00000
#define FLAG 0x500
#define IDT 0x1000
#define HDR 0x2000
#ifdef BIG_READ
#define DATA 0x100000
#define DATA_LEN 0x40000
#define QVEC 0xffff
#else
#define DATA 0x3000
#define DATA_LEN 512
#define QVEC 0
#endif
#define STAT 0x4000
#define RING 0x10000 /* legacy layout: avail at +0x800, used at +0x1000 */
#define VEC 0x41

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
	mov	$0x14, %eax
	mov	$BAR1, %ecx
	call	cfgw
	mov	$0x04, %eax
	mov	$0x7, %ecx
	call	cfgw

	/* the MSI-X capability, at most 48 hops */
	mov	$0x34, %eax
	call	cfgr
	movzbl	%al, %esi
	mov	$48, %edi
3:	mov	$LIN(m_nocap), %eax
	test	%esi, %esi
	jz	fail_eax
	dec	%edi
	jz	fail_eax
	mov	%esi, %eax
	call	cfgr
	cmp	$0x11, %al
	je	4f
	movzbl	%ah, %esi
	jmp	3b
4:	mov	%eax, %ebp		/* id, next, message control */
	shr	$16, %eax
	and	$0x7ff, %eax
	cmp	$1, %eax		/* two vectors: the queue and config */
	jne	fail_shape
	lea	4(%esi), %eax		/* table in BAR 1 at offset 0 */
	call	cfgr
	cmp	$1, %eax
	jne	fail_shape

	/* entry 0: APIC 0, vector VEC, fixed, edge; unmasked */
	movl	$LAPIC, BAR1
	movl	$0, BAR1 + 4
	movl	$VEC, BAR1 + 8
	movl	$0, BAR1 + 12
	mov	%esi, %eax		/* MSI-X enable */
	mov	%ebp, %ecx
	or	$0x80000000, %ecx
	call	cfgw

	/* the local APIC on (spurious vector 0xff), the IDT with VEC */
	movl	$0x1ff, LAPIC + 0xf0
	mov	$LIN(isr), %eax
	mov	%ax, IDT + VEC * 8
	movw	$0x08, IDT + VEC * 8 + 2
	movw	$0x8e00, IDT + VEC * 8 + 4
	shr	$16, %eax
	mov	%ax, IDT + VEC * 8 + 6
	lidt	LIN(idt_desc)

	/* legacy virtio: reset, ACK|DRIVER, the vectors, then the header
	 * is 24 bytes */
	mov	$BAR0 + 0x12, %dx
	xor	%al, %al
	out	%al, %dx
	mov	$3, %al
	out	%al, %dx
	mov	$BAR0 + 0x14, %dx	/* config vector: none */
	mov	$0xffff, %ax
	out	%ax, %dx
	mov	$BAR0 + 0x0e, %dx	/* queue 0 */
	xor	%ax, %ax
	out	%ax, %dx
	mov	$BAR0 + 0x16, %dx	/* its vector */
	mov	$QVEC, %ax
	out	%ax, %dx
	in	%dx, %ax
	cmp	$QVEC, %ax
	jne	fail_vec
	mov	$BAR0 + 0x18, %dx	/* capacity of a 1 MiB disk, shifted */
	in	%dx, %eax
	cmp	$2048, %eax
	jne	fail_cfg
	mov	$BAR0 + 0x0c, %dx
	in	%dx, %ax
	cmp	$128, %ax
	jne	fail_cfg

	/* one read of sector 0: header, 512 bytes, status */
	mov	$RING, %edi
	xor	%eax, %eax
	mov	$0x800, %ecx
	rep	stosl
	mov	$HDR, %edi
	mov	$4, %ecx
	rep	stosl
	movl	$HDR, RING
	movl	$16, RING + 8
	movl	$0x00010001, RING + 12	/* NEXT, next 1 */
	movl	$DATA, RING + 16
	movl	$DATA_LEN, RING + 24
	movl	$0x00020003, RING + 28	/* NEXT|WRITE, next 2 */
	movl	$STAT, RING + 32
	movl	$1, RING + 40
	movl	$0x00000002, RING + 44	/* WRITE */
	movb	$0xff, STAT
	movw	$1, RING + 0x802	/* avail idx; ring[0] = head 0 */
	mov	$BAR0 + 0x08, %dx	/* queue PFN */
	mov	$RING >> 12, %eax
	out	%eax, %dx
	mov	$BAR0 + 0x12, %dx
	mov	$7, %al			/* DRIVER_OK */
	out	%al, %dx
	movb	$0, FLAG
	mov	$BAR0 + 0x10, %dx	/* notify queue 0 */
	xor	%ax, %ax
	out	%ax, %dx
#ifdef BIG_READ
5:	cmpw	$1, RING + 0x1002	/* no vector: poll the used ring */
	jne	5b
	movb	$1, FLAG
	jmp	6f
#endif
	/* sti's shadow covers hlt: an interrupt between the test and hlt
	 * still wakes it */
5:	cli
	cmpb	$0, FLAG
	jne	6f
	sti
	hlt
	jmp	5b
6:	cmpb	$1, FLAG
	jne	fail_io
	cmpb	$0, STAT
	jne	fail_io
	cmpw	$1, RING + 0x1002
	jne	fail_io
	cmpl	$0x5849534d, DATA	/* "MSIX" */
	jne	fail_io
	mov	$LIN(m_pass), %esi
	call	puts
	jmp	reset

fail_shape:
	mov	$LIN(m_shape), %esi
	jmp	fail
fail_vec:
	mov	$LIN(m_vec), %esi
	jmp	fail
fail_cfg:
	mov	$LIN(m_cfg), %esi
	jmp	fail
fail_io:
	mov	$LIN(m_io), %esi
	jmp	fail
fail_eax:
	mov	%eax, %esi
fail:
	call	puts
	mov	$LIN(m_fail), %esi
	call	puts
	jmp	reset

/* The handler does not return: the guest only waited for this, and the
 * x86 emulation of this host's KVM (PVM) stops at an iret in protected
 * mode.  The interrupt gate left IF clear. */
isr:
	movb	$1, FLAG
	movl	$0, LAPIC + 0xb0	/* EOI */
	mov	$0x7000, %esp
	jmp	6b

#include "pm32_lib.inc"

idt_desc:
	.word	VEC * 8 + 7
	.long	IDT

m_pass:	.asciz	"MSIX PASS\r\n"
m_fail:	.asciz	" FAIL\r\n"
m_nodev: .asciz	"no virtio-blk"
m_nocap: .asciz	"no MSI-X capability"
m_shape: .asciz	"MSI-X table size or BIR"
m_vec:	.asciz	"queue vector not taken"
m_cfg:	.asciz	"legacy config not at 0x18"
m_io:	.asciz	"read not completed"
