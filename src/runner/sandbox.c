/* sandbox.c - the seccomp filters of the runner's threads, as Firecracker
 * does it: one allowlist per kind of thread, installed on that thread once
 * the machine is built and every file it needs is open, before the first
 * guest instruction, and killing the whole process on anything else.
 *
 * Why every thread and not only the vCPUs: a vCPU thread runs guest code
 * and the devices the guest drives, so it is the thread a guest exploit
 * would own; but threads share memory, and an attacker who owns one can
 * rewrite another's stack and run code there.  A thread left unconfined
 * would undo the vCPU filter (see sandbox.h for the three kinds).
 *
 * What no thread gets: open (refused with EACCES, for glibc's sake, or
 * read-only in the network thread for slirp's /etc/resolv.conf), exec, fork, ptrace, new KVM objects (VMs,
 * vCPUs, memory slots), executable memory.  ioctl is allowed per request
 * number only, and socket() only for IPv4/IPv6 in the network thread.
 *
 * PR_SET_NO_NEW_PRIVS is set by libseccomp before loading, as seccomp
 * requires of an unprivileged process. */
#include "config.h"
#include "runner/vmm.h"
#include "runner/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif
#ifndef SANITIZER_BUILD
#define SANITIZER_BUILD 0
#endif

bool sandbox_sanitizer_build(void)
{
	return SANITIZER_BUILD;
}

/* What every thread does whatever its job: memory for the allocator (never
 * executable), locks, clocks, signal return, thread and process exit. */
static const int base_calls[] = {
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(futex),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday),
	SCMP_SYS(sched_yield), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall),
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(gettid), SCMP_SYS(getpid), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
};

/* The vCPU threads: guest exits to devices.  write for the console, the
 * firmware log and the end eventfd; pread/pwrite and flushes for disks
 * (qcow2 and VMDK allocate, hence fallocate/ftruncate); getrandom for
 * virtio-rng; tgkill for abort() on a failed assertion. */
static const int vcpu_calls[] = {
	SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv),
	SCMP_SYS(pwritev), SCMP_SYS(lseek), SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(fallocate),
	SCMP_SYS(ftruncate), SCMP_SYS(getrandom), SCMP_SYS(sigaltstack),
};

/* The network thread: slirp's NAT opens, connects and accepts sockets for
 * the guest's connections at any time, and polls them with our eventfds.
 * It re-reads /etc/resolv.conf when it changes (read-only opens only). */
static const int net_calls[] = {
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(write),
	SCMP_SYS(writev), SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(sendto), SCMP_SYS(sendmsg),
	SCMP_SYS(connect), SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(bind), SCMP_SYS(listen),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(shutdown), SCMP_SYS(close), SCMP_SYS(fcntl), SCMP_SYS(lseek), SCMP_SYS(getrandom),
};

/* The main thread: the event loop (poll the end eventfd, the shutdown pipe
 * and the console; accept the one console client; press the power button,
 * which raises an interrupt; stop the vCPU threads with SIGUSR1 and join
 * them), then the caller's tidy-up once vm_run returns: free the machine
 * (munmap, close), flush and close disks (pwrite, fsync), restore the
 * terminal (TCSETS*), put the signal handlers back, print the outcome,
 * remove the console socket (unlink), exit. */
static const int main_calls[] = {
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(writev),
	SCMP_SYS(close), SCMP_SYS(accept4), SCMP_SYS(rt_sigaction), SCMP_SYS(pread64), SCMP_SYS(pwrite64),
	SCMP_SYS(preadv), SCMP_SYS(pwritev), SCMP_SYS(lseek), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	SCMP_SYS(fallocate), SCMP_SYS(ftruncate), SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(sigaltstack),
	SCMP_SYS(shutdown), /* the screen's VNC clients, closed at the end */
	SCMP_SYS(sendto), /* the control socket's replies (control.c, MSG_NOSIGNAL) */
};

/* The screen thread (vnc.c): libvncserver's event loop over the VNC
 * clients it was handed (accepted on the UNIX socket opened before
 * confinement), the picture rendered from the VGA's memory, keys into the
 * i8042 (which raises IRQ 1). */
static const int screen_calls[] = {
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6), SCMP_SYS(read), SCMP_SYS(readv),
	SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(sendto),
	SCMP_SYS(sendmsg), SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(close), SCMP_SYS(shutdown),
	SCMP_SYS(fcntl), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
};

/* Sanitizer builds only: ASan and LSan do more than the program.  A report
 * reads /proc/self/maps and symbolizes (open, readlink); threads get an
 * alternate signal stack; the leak check at exit stops the world from a
 * tracer made with clone() that ptrace()s every thread listed in
 * /proc/self/task.  Without these, a leak check or a sanitizer report
 * would be cut short by the filter.  A shipped build never has them. */
static const int sanitizer_calls[] = {
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(close),
	SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getdents), SCMP_SYS(getdents64), SCMP_SYS(prctl), SCMP_SYS(clone),
	SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigaction), SCMP_SYS(getppid),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(prlimit64), SCMP_SYS(getrlimit), SCMP_SYS(tgkill),
	SCMP_SYS(kill), SCMP_SYS(lseek), SCMP_SYS(pipe2), SCMP_SYS(dup2), SCMP_SYS(uname),
	SCMP_SYS(mincore), SCMP_SYS(poll),
};

/* ioctl requests per thread kind.  KVM_SIGNAL_MSI: devices raise MSI-X
 * vectors from the vCPU and network threads once the transport has them. */
/* KVM_GET_REGS/KVM_SET_REGS: the VMware backdoor passes its arguments in
 * the general registers (kvm.c).  KVM_GET_SREGS: where a triple-faulting
 * vCPU was, for the log (a read of the thread's own vCPU). */
static const unsigned long vcpu_ioctls[] = { KVM_RUN, KVM_IRQ_LINE, KVM_SIGNAL_MSI, KVM_GET_REGS, KVM_SET_REGS,
					     KVM_GET_SREGS };
static const unsigned long net_ioctls[] = { KVM_IRQ_LINE, KVM_SIGNAL_MSI, FIONREAD };
static const unsigned long screen_ioctls[] = { KVM_IRQ_LINE, FIONREAD };
/* KVM_GET_CLOCK/KVM_SET_CLOCK/KVM_KVMCLOCK_CTRL: pause and resume (kvm.c) */
static const unsigned long main_ioctls[] = { KVM_IRQ_LINE, KVM_SIGNAL_MSI, TCGETS, TCSETS, TCSETSW, TCSETSF,
					     KVM_GET_CLOCK, KVM_SET_CLOCK, KVM_KVMCLOCK_CTRL };

enum kind { VCPU, NET, MAIN, SCREEN };

static int add_list(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
	return rc;
}

#define ADD_LIST(ctx, a) add_list((ctx), (a), sizeof(a) / sizeof((a)[0]))

static int add_ioctls(scmp_filter_ctx ctx, const unsigned long *req, size_t n)
{
	int rc = 0;
	/* the request is an unsigned int for the kernel: compare the low
	 * 32 bits only, whatever the caller left in the upper half */
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, req[i] & 0xffffffffu));
	return rc;
}

static int install(enum kind k, od_err *e)
{
	static const char *const names[] = { "vCPU", "network", "main", "screen" };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return od_err_set(e, OD_E_IO, "seccomp: cannot create a filter");
	/* The filter runs on every system call, and a vCPU thread makes one
	 * ioctl(KVM_RUN) per guest exit (every port access of firmware): a
	 * binary tree instead of a list, with ioctl tested first in vCPU
	 * threads.  Both are hints; an older libseccomp just ignores them. */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (k == VCPU)
		(void)seccomp_syscall_priority(ctx, SCMP_SYS(ioctl), 255);
	int rc = ADD_LIST(ctx, base_calls);
	/* nothing may become executable: no code injected into our memory
	 * can be run, only existing code reused */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	switch (k) {
	case VCPU:
		if (rc == 0)
			rc = ADD_LIST(ctx, vcpu_calls);
		if (rc == 0)
			rc = add_ioctls(ctx, vcpu_ioctls, sizeof vcpu_ioctls / sizeof vcpu_ioctls[0]);
		break;
	case NET:
		if (rc == 0)
			rc = ADD_LIST(ctx, net_calls);
		if (rc == 0)
			rc = add_ioctls(ctx, net_ioctls, sizeof net_ioctls / sizeof net_ioctls[0]);
		/* the NAT's own sockets: IPv4 and IPv6, nothing else (no
		 * netlink, no packet sockets, no UNIX sockets) */
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
					      SCMP_A0(SCMP_CMP_EQ, AF_INET));
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
					      SCMP_A0(SCMP_CMP_EQ, AF_INET6));
		/* /etc/resolv.conf: read-only opens (no create, truncate,
		 * write or temporary file) */
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
					      SCMP_A2(SCMP_CMP_MASKED_EQ,
						      O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | O_TMPFILE, O_RDONLY));
		break;
	case SCREEN:
		if (rc == 0)
			rc = ADD_LIST(ctx, screen_calls);
		if (rc == 0)
			rc = add_ioctls(ctx, screen_ioctls, sizeof screen_ioctls / sizeof screen_ioctls[0]);
		break;
	case MAIN:
		if (rc == 0)
			rc = ADD_LIST(ctx, main_calls);
		if (rc == 0)
			rc = add_ioctls(ctx, main_ioctls, sizeof main_ioctls / sizeof main_ioctls[0]);
		/* SIGUSR1 to our own vCPU threads (pthread_kill), and abort():
		 * signals to this process only */
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
					      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
		break;
	}
	if (k == VCPU && rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	/* glibc's malloc opens /proc/sys/vm/overcommit_memory the first time
	 * it shrinks a thread's heap, and copes with a failure; so, in the
	 * threads that have no use for open at all, a refusal rather than a
	 * kill (a refused open gives nothing away).  Sanitizer builds allow
	 * it below. */
	if (k != NET && rc == 0 && !SANITIZER_BUILD)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
	/* A rule already present for another reason makes libseccomp return
	 * -EEXIST on some versions: the lists overlap on purpose. */
	if (rc == 0 && SANITIZER_BUILD) {
		for (size_t i = 0; i < sizeof sanitizer_calls / sizeof sanitizer_calls[0] && rc == 0; i++) {
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sanitizer_calls[i], 0);
			if (rc == -EEXIST)
				rc = 0;
		}
	}
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		return od_err_errno(e, -rc, "seccomp: installing the %s thread's filter", names[k]);
	return 0;
}

int sandbox_vcpu(od_err *e)
{
	return install(VCPU, e);
}

int sandbox_net(od_err *e)
{
	return install(NET, e);
}

int sandbox_main(od_err *e)
{
	return install(MAIN, e);
}

int sandbox_screen(od_err *e)
{
	return install(SCREEN, e);
}
