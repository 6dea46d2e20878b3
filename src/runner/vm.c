/* vm.c - the parts of a VM that do not need KVM: guest RAM bookkeeping, the
 * checked guest-physical translation, the port/MMIO dispatch table, and the
 * end-of-run signalling.  kvm.c builds on these; the unit tests use them
 * with vm_new_fake(). */
#include "config.h"
#include "runner/vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

const char *vm_end_name(int end)
{
	switch (end) {
	case VM_END_POWEROFF: return "power-off";
	case VM_END_RESET: return "reset";
	case VM_END_TIMEOUT: return "timeout";
	case VM_END_QUIT: return "quit";
	case VM_END_ERROR: return "error";
	case VM_END_STOPPED: return "stopped";
	default: return "running";
	}
}

void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < vm->nram; i++) {
		const struct vm_ram *r = &vm->ram[i];
		if (gpa < r->gpa)
			continue;
		uint64_t off = gpa - r->gpa;
		/* off < size first, so that off + len cannot be confused by a
		 * wrap: od_range_ok checks the addition itself */
		if (off >= r->size && !(off == r->size && len == 0))
			continue;
		if (!od_range_ok(off, len, r->size))
			return NULL;
		return r->hva + off;
	}
	return NULL;
}

/* Index of the first range whose base is > addr. */
static unsigned io_upper(const struct vm_io_range *t, unsigned n, uint64_t addr)
{
	unsigned lo = 0, hi = n;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (t[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int vm_io_register(struct vm *vm, int space, uint64_t base, uint64_t len, vm_io_fn fn, void *opaque, od_err *e)
{
	uint64_t end;
	if (space != VM_PIO && space != VM_MMIO)
		return od_err_set(e, OD_E_INTERNAL, "io register: bad space %d", space);
	if (len == 0 || !od_add_u64(base, len, &end) || (space == VM_PIO && end > 0x10000))
		return od_err_set(e, OD_E_INTERNAL, "io register: bad range 0x%llx+0x%llx",
				  (unsigned long long)base, (unsigned long long)len);
	pthread_rwlock_wrlock(&vm->io_lock);
	struct vm_io_range *t = vm->io[space];
	unsigned n = vm->nio[space];
	unsigned pos = io_upper(t, n, base);
	/* overlap with the previous range or the next one? */
	if ((pos > 0 && t[pos - 1].base + t[pos - 1].len > base) || (pos < n && t[pos].base < end)) {
		pthread_rwlock_unlock(&vm->io_lock);
		return od_err_set(e, OD_E_INTERNAL, "%s range 0x%llx+0x%llx overlaps another device",
				  space == VM_PIO ? "port" : "MMIO", (unsigned long long)base, (unsigned long long)len);
	}
	if (n == VM_MAX_IO_RANGES) {
		pthread_rwlock_unlock(&vm->io_lock);
		return od_err_set(e, OD_E_INTERNAL, "too many I/O ranges");
	}
	memmove(&t[pos + 1], &t[pos], (n - pos) * sizeof t[0]);
	t[pos] = (struct vm_io_range){ base, len, fn, opaque };
	vm->nio[space] = n + 1;
	pthread_rwlock_unlock(&vm->io_lock);
	return 0;
}

void vm_io_unregister(struct vm *vm, int space, uint64_t base, void *opaque)
{
	pthread_rwlock_wrlock(&vm->io_lock);
	struct vm_io_range *t = vm->io[space];
	unsigned n = vm->nio[space];
	for (unsigned i = 0; i < n; i++) {
		if (t[i].base == base && t[i].opaque == opaque) {
			memmove(&t[i], &t[i + 1], (n - i - 1) * sizeof t[0]);
			vm->nio[space] = n - 1;
			break;
		}
	}
	pthread_rwlock_unlock(&vm->io_lock);
}

bool vm_io_dispatch(struct vm *vm, int space, uint64_t addr, uint8_t *data, unsigned size, bool is_write)
{
	struct vm_io_range r;
	bool found = false;
	pthread_rwlock_rdlock(&vm->io_lock);
	unsigned pos = io_upper(vm->io[space], vm->nio[space], addr);
	if (pos > 0) {
		r = vm->io[space][pos - 1];
		found = addr - r.base < r.len;
	}
	pthread_rwlock_unlock(&vm->io_lock);
	if (!found) {
		if (!is_write)
			memset(data, 0xff, size);
		return false;
	}
	pthread_mutex_lock(&vm->dev_lock);
	r.fn(r.opaque, addr, data, size, is_write);
	pthread_mutex_unlock(&vm->dev_lock);
	return true;
}

void vm_set_irq(struct vm *vm, unsigned irq, int level)
{
	if (irq >= sizeof vm->irq_level / sizeof vm->irq_level[0])
		return;
	vm->irq_level[irq] = level;
	if (vm->vm_fd < 0)
		return;
	struct kvm_irq_level l = { .irq = irq, .level = level };
	/* cannot fail for a valid line on a VM with an irqchip */
	(void)ioctl(vm->vm_fd, KVM_IRQ_LINE, &l);
}

void vm_request_reset(struct vm *vm, const char *how)
{
	int none = VM_END_NONE;
	if (!atomic_compare_exchange_strong(&vm->end_reason, &none, VM_END_RESET))
		return;
	/* only the winner writes: vm_run reads it once every thread is done */
	snprintf(vm->end_msg, sizeof vm->end_msg, "%s", how);
	if (vm->end_fd >= 0) {
		uint64_t one = 1;
		ssize_t r = write(vm->end_fd, &one, sizeof one);
		(void)r;
	}
}

void vm_request_end(struct vm *vm, int reason)
{
	int none = VM_END_NONE;
	if (!atomic_compare_exchange_strong(&vm->end_reason, &none, reason))
		return;
	if (vm->end_fd >= 0) {
		uint64_t one = 1;
		ssize_t r = write(vm->end_fd, &one, sizeof one);
		(void)r; /* an eventfd counter cannot overflow from one write */
	}
}

/* Common initialisation of a VM object. */
static struct vm *vm_alloc(od_err *e)
{
	struct vm *vm = calloc(1, sizeof *vm);
	if (!vm) {
		od_err_nomem(e);
		return NULL;
	}
	vm->kvm_fd = vm->vm_fd = vm->end_fd = -1;
	pthread_rwlock_init(&vm->io_lock, NULL);
	pthread_mutex_init(&vm->dev_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	pthread_cond_init(&vm->parked_cond, NULL);
	atomic_init(&vm->pause_req, false);
	atomic_init(&vm->end_reason, VM_END_NONE);
	return vm;
}

struct vm *vm_new_fake(uint64_t ram_size, od_err *e)
{
	struct vm *vm = vm_alloc(e);
	if (!vm)
		return NULL;
	void *p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		od_err_errno(e, errno, "guest RAM of %llu bytes", (unsigned long long)ram_size);
		free(vm);
		return NULL;
	}
	vm->ram_base = p;
	vm->ram_map_size = ram_size;
	vm->ram[0] = (struct vm_ram){ 0, ram_size, p };
	vm->nram = 1;
	vm->low_ram = ram_size;
	return vm;
}

/* Frees the common parts; kvm.c frees its own first. */
void vm_free(struct vm *vm)
{
	if (!vm)
		return;
	if (vm->ram_base)
		munmap(vm->ram_base, vm->ram_map_size);
	if (vm->rom)
		munmap(vm->rom, vm->rom_size);
	if (vm->end_fd >= 0)
		close(vm->end_fd);
	pthread_rwlock_destroy(&vm->io_lock);
	pthread_mutex_destroy(&vm->dev_lock);
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_cond_destroy(&vm->pause_cond);
	pthread_cond_destroy(&vm->parked_cond);
	free(vm->cpuid);
	free(vm);
}

/* Exposed to kvm.c */
struct vm *vm_alloc_common(od_err *e);
struct vm *vm_alloc_common(od_err *e)
{
	struct vm *vm = vm_alloc(e);
	if (vm) {
		vm->end_fd = eventfd(0, EFD_CLOEXEC);
		if (vm->end_fd < 0) {
			od_err_errno(e, errno, "eventfd");
			vm_free(vm);
			return NULL;
		}
	}
	return vm;
}

/* The kernel takes 20 ms and more to destroy a VM when its last file
 * reference goes (measured on this project's PVM host: an empty VM,
 * close(vm_fd) 21-23 ms), longer than the whole life of a short run, and
 * it would sit between the guest's end and our exit.  So a tiny child
 * holds a reference to the VM's file: our own close is then cheap, and the
 * child, which waits for the write end of a pipe to close (vm_run's end,
 * or our death), drops the last reference after we are gone.
 *
 * The child keeps nothing else: guest RAM and the firmware copy are
 * MADV_DONTFORK (the child never maps them, and the guest's writes do not
 * copy-on-write pages shared with it), every other file descriptor is
 * closed (no pipe or socket of ours stays open, no lock stays held), and it
 * runs in seccomp strict mode: read, write, exit.  It shares no memory
 * with us, so a guest cannot reach it.
 *
 * Returns the pipe's write end for the caller to close after vm_free, or
 * -1 when no child could be made (then teardown just happens inline). */
int vm_spawn_reaper(struct vm *vm)
{
	if (vm->vm_fd < 0)
		return -1;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (vm->ram_base)
		(void)madvise(vm->ram_base, vm->ram_map_size, MADV_DONTFORK);
	if (vm->rom)
		(void)madvise(vm->rom, vm->rom_size, MADV_DONTFORK);
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		/* only system calls from here on: we may have been forked
		 * from a process with threads */
		for (int sig = 1; sig < 32; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				signal(sig, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		prctl(PR_SET_NAME, "ovfdeploy-reap", 0, 0, 0);
		int a = p[0] < vm->vm_fd ? p[0] : vm->vm_fd, b = p[0] < vm->vm_fd ? vm->vm_fd : p[0];
		if (a > 0)
			syscall(SYS_close_range, 0u, (unsigned)a - 1, 0u);
		if (b > a + 1)
			syscall(SYS_close_range, (unsigned)a + 1, (unsigned)b - 1, 0u);
		syscall(SYS_close_range, (unsigned)b + 1, ~0u, 0u);
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) < 0)
			syscall(SYS_exit, 1);
		char c;
		ssize_t r;
		while ((r = read(p[0], &c, 1)) > 0 || (r < 0 && errno == EINTR))
			; /* a stray byte: wait for the end of file */
		/* strict mode allows exit, not exit_group (which _exit uses):
		 * as the only thread, exit ends the process and closes the VM */
		syscall(SYS_exit, 0);
	}
	close(p[0]);
	return p[1];
}
