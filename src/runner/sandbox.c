/* sandbox.c - the seccomp filter of vCPU threads, as Firecracker does it:
 * a vCPU thread runs guest code and the devices the guest drives, so it is
 * the thread a guest exploit would own.  Before its first KVM_RUN it
 * installs a filter (for itself only) that allows the system calls of that
 * job and kills the whole process on anything else:
 *   - ioctl KVM_RUN and KVM_IRQ_LINE only (no new memory slots, no new
 *     vCPUs, nothing on other file descriptors' ioctls);
 *   - write (console, firmware log, the end eventfd), pread/pwrite and
 *     fsync/fdatasync/fallocate/ftruncate for disks;
 *   - memory for the allocator (brk, mmap without PROT_EXEC, munmap,
 *     mremap, madvise), futex, getrandom (virtio-rng), clocks, signal
 *     return (SIGUSR1 stops the thread), thread exit.
 * No open, no socket, no exec, no mprotect to executable.  PR_SET_NO_NEW_PRIVS
 * is set by libseccomp before loading, as seccomp requires. */
#include "config.h"
#include "runner/vmm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

int sandbox_vcpu(od_err *e)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return od_err_set(e, OD_E_IO, "seccomp: cannot create a filter");
	static const int plain[] = {
		SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv),
		SCMP_SYS(pwritev), SCMP_SYS(lseek), SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(fallocate),
		SCMP_SYS(ftruncate), SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
		SCMP_SYS(futex), SCMP_SYS(getrandom), SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
		SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(sched_yield), SCMP_SYS(rt_sigreturn),
		SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall), SCMP_SYS(exit), SCMP_SYS(exit_group),
		SCMP_SYS(gettid), SCMP_SYS(getpid), SCMP_SYS(tgkill), SCMP_SYS(sigaltstack),
		SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	};
	int rc = 0;
	for (unsigned i = 0; i < sizeof plain / sizeof plain[0] && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, plain[i], 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, KVM_RUN));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, KVM_IRQ_LINE));
	/* the allocator maps memory; nothing may become executable */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		return od_err_errno(e, -rc, "seccomp: installing the vCPU filter");
	return 0;
}
