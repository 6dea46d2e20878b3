/* sandbox.h - the seccomp filters of the runner's threads (sandbox.c).
 *
 * Every thread of a running machine shares one address space, so a guest
 * that takes over one thread can rewrite the stack of any other: the
 * process is only as confined as its least confined thread.  Hence one
 * filter per kind of thread, each allowing what that thread does once the
 * machine is built and every file is open:
 *   vCPU   KVM_RUN, disk I/O, console writes (sandbox_vcpu in vmm.h);
 *   net    slirp's sockets, poll, the interrupt ioctls;
 *   main   the event loop (poll, console, signals to the vCPU threads)
 *          and the caller's tidy-up after vm_run returns.
 * Each installs on the calling thread only (threads created later inherit
 * it) and kills the whole process on a system call outside its list. */
#ifndef OD_SANDBOX_H
#define OD_SANDBOX_H

#include <stdbool.h>

#include "util/util.h"

int sandbox_net(od_err *e);
int sandbox_main(od_err *e);
/* The screen thread (vnc.c): its VNC clients, the VGA, the keyboard. */
int sandbox_screen(od_err *e);

/* A child process that holds the VM's file so that the kernel's slow VM
 * teardown happens after our exit, not before (vm.c says why and how it is
 * confined).  Call once the machine is built, before any thread starts;
 * close the returned descriptor after vm_free.  -1: none, no harm. */
struct vm;
int vm_spawn_reaper(struct vm *vm);

/* True when this build runs under ASan/UBSan, whose runtimes need more
 * system calls (see sandbox.c). */
bool sandbox_sanitizer_build(void);

#endif
