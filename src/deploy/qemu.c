/* qemu.c - the QEMU backend: the same machine as the embedded runner,
 * described as a QEMU command line.
 *
 * Used where the embedded runner cannot run a guest well: hosts without
 * VT-x/AMD-V (then TCG), or hosts whose KVM is PVM, where guest kernel code
 * is emulated one instruction at a time and a Linux guest never finishes
 * booting under KVM. */
#include "config.h"
#include "deploy/deploy.h"
#include "runner/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void vmspec_free(struct vmspec *s)
{
	for (size_t i = 0; i < s->ndisks; i++) {
		free(s->disks[i].path);
		free(s->disks[i].format);
	}
	for (size_t i = 0; i < s->nnics; i++)
		free(s->nics[i].network);
	free(s->cdrom);
	free(s->console_socket);
	free(s->console_log);
	free(s->control_socket);
	free(s->pidfile);
	free(s->firmware);
	free(s->efi_code);
	free(s->efi_vars);
	free(s->vnc_socket);
	free(s->vnc_listen);
	free(s->vnc_password_file);
	free(s->incoming);
	free(s->kernel);
	free(s->initrd);
	free(s->append);
	memset(s, 0, sizeof *s);
}

const char *deploy_backend_name(enum deploy_backend b)
{
	switch (b) {
	case DEPLOY_BACKEND_EMBEDDED: return "embedded";
	case DEPLOY_BACKEND_QEMU: return "qemu";
	default: return "auto";
	}
}

int deploy_backend_parse(const char *s, enum deploy_backend *out, od_err *e)
{
	if (!strcmp(s, "auto"))
		*out = DEPLOY_BACKEND_AUTO;
	else if (!strcmp(s, "embedded"))
		*out = DEPLOY_BACKEND_EMBEDDED;
	else if (!strcmp(s, "qemu"))
		*out = DEPLOY_BACKEND_QEMU;
	else
		return od_err_set(e, OD_E_USAGE, "unknown backend '%s' (expected auto, embedded or qemu)", s);
	return 0;
}

enum deploy_backend deploy_backend_choose(enum deploy_backend want, char *why, size_t whylen)
{
	bool hw = vm_host_has_hw_virt(), kvm = vm_host_kvm_usable();
	if (want == DEPLOY_BACKEND_EMBEDDED) {
		snprintf(why, whylen, "embedded runner, as requested");
		return want;
	}
	if (want == DEPLOY_BACKEND_QEMU) {
		snprintf(why, whylen, "QEMU (%s), as requested", hw && kvm ? "KVM" : "TCG");
		return want;
	}
	if (hw && kvm) {
		snprintf(why, whylen, "embedded runner: hardware virtualization is available");
		return DEPLOY_BACKEND_EMBEDDED;
	}
	if (!hw && kvm && vm_host_kvm_is_pvm())
		snprintf(why, whylen, "QEMU with TCG: /dev/kvm is PVM (no vmx/svm), which cannot boot a guest kernel in useful time");
	else if (!hw)
		snprintf(why, whylen, "QEMU with TCG: this CPU shows no hardware virtualization (vmx/svm)");
	else
		snprintf(why, whylen, "QEMU with TCG: /dev/kvm cannot be opened");
	return DEPLOY_BACKEND_QEMU;
}

/* ---- command line ----------------------------------------------------------- */

static int push(struct qemu_argv *a, char *s, od_err *e)
{
	if (!s)
		return od_err_nomem(e);
	char **v = realloc(a->argv, (a->argc + 2) * sizeof *v);
	if (!v) {
		free(s);
		return od_err_nomem(e);
	}
	a->argv = v;
	a->argv[a->argc++] = s;
	a->argv[a->argc] = NULL;
	return 0;
}

static int pushf(struct qemu_argv *a, od_err *e, const char *fmt, ...) OD_PRINTF(3, 4);
static int pushf(struct qemu_argv *a, od_err *e, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return push(a, n < 0 ? NULL : s, e);
}

/* QEMU's option syntax splits on commas; a literal comma is written twice.
 * Paths come from users (instance names, package paths), so escape them. */
static char *qesc(const char *s)
{
	size_t n = 0;
	for (const char *p = s; *p; p++)
		n += *p == ',' ? 2 : 1;
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (const char *p = s; *p; p++) {
		*o++ = *p;
		if (*p == ',')
			*o++ = ',';
	}
	*o = '\0';
	return out;
}

#define PUSH(...) do { if (pushf(out, e, __VA_ARGS__) < 0) goto fail; } while (0)

/* The -device for drive `id`/`idx` (SIZE_MAX: the environment CD, id alone)
 * on its controller and slot; bootindex in disk order, the CD after them. */
static int qemu_attach(struct qemu_argv *out, const struct vmspec *s, bool on_ctrl, unsigned c, unsigned unit,
		       bool cd, const char *id, size_t idx, od_err *e)
{
	char drive[32];
	if (idx == SIZE_MAX)
		snprintf(drive, sizeof drive, "%s", id);
	else
		snprintf(drive, sizeof drive, "%s%zu", id, idx);
	size_t boot = idx == SIZE_MAX ? s->ndisks : idx;
	if (on_ctrl && c >= s->nctrls)
		return od_err_set(e, OD_E_INVALID, "%s is on controller %u of %zu", drive, c, s->nctrls);
	enum hw_ctrl_model m = on_ctrl ? s->ctrls[c].model : HW_CTRL_VIRTIO;
	if (on_ctrl && unit >= hw_ctrl_units(m))
		return od_err_set(e, OD_E_INVALID, "%s: slot %u of a %s controller (it has %u)", drive, unit,
				  hw_ctrl_name(m), hw_ctrl_units(m));
	if (cd && m == HW_CTRL_NVME)
		m = HW_CTRL_VIRTIO; /* no CD-ROM on NVMe: the default place below */
	PUSH("-device");
	switch (m) {
	case HW_CTRL_IDE:
		PUSH("%s,drive=%s,bus=ide.%u,unit=%u,bootindex=%zu", cd ? "ide-cd" : "ide-hd", drive,
		     s->ctrls[c].index & 1, unit, boot);
		break;
	case HW_CTRL_AHCI:
		PUSH("%s,drive=%s,bus=ctrl%u.%u,bootindex=%zu", cd ? "ide-cd" : "ide-hd", drive, c, unit, boot);
		break;
	case HW_CTRL_NVME:
		PUSH("nvme-ns,drive=%s,bus=ctrl%u,nsid=%u,bootindex=%zu", drive, c, unit + 1, boot);
		break;
	case HW_CTRL_LSILOGIC:
	case HW_CTRL_BUSLOGIC:
	case HW_CTRL_LSISAS:
	case HW_CTRL_PVSCSI:
	case HW_CTRL_VIRTIO_SCSI:
		PUSH("%s,drive=%s,bus=ctrl%u.0,channel=0,scsi-id=%u,lun=0,bootindex=%zu", cd ? "scsi-cd" : "scsi-hd",
		     drive, c, unit, boot);
		break;
	default:
		/* UEFI: the CD needs a place in the boot order, or OVMF leaves
		 * the IDE controller off and the guest never sees the CD */
		if (cd && s->efi)
			PUSH("ide-cd,drive=%s,bootindex=%zu", drive, boot);
		else if (cd)
			PUSH("ide-cd,drive=%s", drive);
		else
			PUSH("virtio-blk-pci,drive=%s,bootindex=%zu", drive, boot);
		break;
	}
	return 0;
fail:
	return -1;
}

#define ESC(var, s) do { free(var); var = qesc(s); if (!var) { od_err_nomem(e); goto fail; } } while (0)

int qemu_build_argv(const struct vmspec *s, bool daemonize, struct qemu_argv *out, od_err *e)
{
	memset(out, 0, sizeof *out);
	char *p1 = NULL, *p2 = NULL;
	const char *bin = getenv("OVFDEPLOY_QEMU");
	if (!bin || !*bin)
		bin = "qemu-system-x86_64";
	if (s->cpus < 1 || s->cpus > 255)
		return od_err_set(e, OD_E_USAGE, "cannot run %u CPUs (1 to 255)", s->cpus);
	if (s->memory < (16u << 20) || s->memory % (1u << 20))
		return od_err_set(e, OD_E_USAGE, "memory must be a whole number of MiB, at least 16 MiB (got %llu bytes)",
				  (unsigned long long)s->memory);
	out->kvm = vm_host_has_hw_virt() && vm_host_kvm_usable();

	PUSH("%s", bin);
	/* Only the devices we list: the same small machine as the embedded runner. */
	PUSH("-nodefaults");
	PUSH("-no-user-config");
	PUSH("-machine");
	PUSH("pc,accel=%s", out->kvm ? "kvm" : "tcg");
	if (out->kvm) {
		PUSH("-cpu");
		PUSH("host");
	}
	PUSH("-smp");
	PUSH("%u", s->cpus);
	PUSH("-m");
	PUSH("%lluM", (unsigned long long)(s->memory >> 20));
	if (s->vmware) {
		/* VMware's DMI strings, as the embedded runner gives (vmware.c);
		 * QEMU keeps its own CPUID signature and has no GuestRPC */
		PUSH("-smbios");
		PUSH("type=1,manufacturer=VMware,, Inc.,product=VMware Virtual Platform");
	}
	/* -nographic, not "-display none": without a display QEMU tells SeaBIOS
	 * (fw_cfg etc/sercon-port) to mirror its screen on the serial port, so
	 * the console shows the firmware's messages as our runner's does. */
	PUSH("-nographic");
	if (s->screen) {
		/* The screen: the standard VGA (Bochs VBE, linear framebuffer),
		 * on VNC through a UNIX socket in the instance directory; on
		 * TCP too when asked, then with a password.  (-nographic
		 * still mirrors SeaBIOS on the serial port.) */
		if (!s->vnc_socket) {
			od_err_set(e, OD_E_USAGE, "a screen needs a VNC socket path");
			goto fail;
		}
		PUSH("-device");
		PUSH("VGA");
		ESC(p1, s->vnc_socket);
		PUSH("-vnc");
		PUSH("unix:%s", p1);
		if (s->vnc_listen) {
			const char *colon = strrchr(s->vnc_listen, ':');
			unsigned long port = colon ? strtoul(colon + 1, NULL, 10) : 0;
			if (!colon || port < 5900 || port > 65535 || !s->vnc_password_file) {
				od_err_set(e, OD_E_USAGE, "VNC on '%s' needs ADDR:PORT (5900 or above) and a password file",
					   s->vnc_listen);
				goto fail;
			}
			ESC(p1, s->vnc_password_file);
			PUSH("-object");
			PUSH("secret,id=vncpw,format=raw,file=%s", p1);
			PUSH("-vnc");
			PUSH("%.*s:%lu,id=vnc1,password-secret=vncpw", (int)(colon - s->vnc_listen), s->vnc_listen,
			     port - 5900);
		}
	}
	if (s->efi) {
		/* UEFI: OVMF as two flash chips, the code read-only and the
		 * instance's own variable store, which the guest writes. */
		if (!s->efi_code || !s->efi_vars) {
			od_err_set(e, OD_E_USAGE, "UEFI needs the firmware code and a variable store");
			goto fail;
		}
		ESC(p1, s->efi_code);
		PUSH("-drive");
		PUSH("if=pflash,unit=0,format=raw,readonly=on,file=%s", p1);
		ESC(p1, s->efi_vars);
		PUSH("-drive");
		PUSH("if=pflash,unit=1,format=raw,file=%s", p1);
	} else if (s->firmware) {
		/* -bios takes a plain file name, not an option list: no escaping */
		PUSH("-bios");
		PUSH("%s", s->firmware);
	}
	if (!s->reboot)
		PUSH("-no-reboot");

	/* The console: one character device carrying the serial port (and, in
	 * the foreground, QEMU's monitor multiplexed behind Ctrl-A c, with Ctrl-A x
	 * to quit).  signal=off: Ctrl-C goes to the guest, not to QEMU. */
	const char *logopt = "";
	if (s->console_log) {
		ESC(p2, s->console_log);
		logopt = ",logfile=";
	}
	if (s->console == VMSPEC_CONSOLE_STDIO) {
		PUSH("-chardev");
		PUSH("stdio,id=con0,mux=on,signal=off%s%s", logopt, s->console_log ? p2 : "");
		PUSH("-mon");
		PUSH("chardev=con0,mode=readline");
	} else {
		if (!s->console_socket) {
			od_err_set(e, OD_E_USAGE, "a background instance needs a console socket");
			goto fail;
		}
		ESC(p1, s->console_socket);
		PUSH("-chardev");
		PUSH("socket,id=con0,path=%s,server=on,wait=off%s%s", p1, logopt, s->console_log ? p2 : "");
	}
	PUSH("-serial");
	PUSH("chardev:con0");
	if (s->control_socket) {
		ESC(p1, s->control_socket);
		PUSH("-qmp");
		PUSH("unix:%s,server=on,wait=off", p1);
	}
	if (s->incoming) {
		/* a saved machine state (snapshot.c): QEMU runs it once read */
		PUSH("-incoming");
		PUSH("%s", s->incoming);
	}
	if (daemonize && !s->pidfile) {
		od_err_set(e, OD_E_USAGE, "a background instance needs a pid file");
		goto fail;
	}
	if (daemonize)
		PUSH("-daemonize");
	/* In the foreground too, so that 'ovfdeploy list' sees the instance run. */
	if (s->pidfile) {
		PUSH("-pidfile");
		PUSH("%s", s->pidfile);
	}

	/* The controllers the plan describes (hwplan.c): QEMU's own model where
	 * it has one, else the stand-in hw_ctrl_choice names.  IDE is the pc
	 * machine's PIIX3 (buses ide.0 and ide.1), always there. */
	for (size_t c = 0; c < s->nctrls; c++) {
		struct hw_choice ch;
		hw_ctrl_choice(s->ctrls[c].model, DEPLOY_BACKEND_QEMU, &ch);
		if (s->ctrls[c].model == HW_CTRL_IDE || s->ctrls[c].model == HW_CTRL_VIRTIO)
			continue;
		PUSH("-device");
		if (s->ctrls[c].model == HW_CTRL_NVME)
			PUSH("%s,id=ctrl%zu,serial=ovfdeploy%zu", ch.device, c, c);
		else
			PUSH("%s,id=ctrl%zu", ch.device, c);
	}
	/* SeaBIOS's 128 KiB build has no PVSCSI, MPT or NVMe boot driver; the
	 * 256 KiB one has them all. */
	if (!s->firmware && !s->efi && s->ndisks && s->disks[0].on_ctrl && s->disks[0].ctrl < s->nctrls) {
		enum hw_ctrl_model m = s->ctrls[s->disks[0].ctrl].model;
		if (m != HW_CTRL_IDE && m != HW_CTRL_AHCI && m != HW_CTRL_BUSLOGIC) {
			PUSH("-bios");
			PUSH("bios-256k.bin");
		}
	}

	for (size_t i = 0; i < s->ndisks; i++) {
		const struct vmspec_disk *d = &s->disks[i];
		ESC(p1, d->path);
		PUSH("-drive");
		PUSH("file=%s,if=none,id=disk%zu%s%s,cache=writeback%s", p1, i,
		     d->format ? ",format=" : "", d->format ? d->format : "", d->readonly ? ",readonly=on" : "");
		if (qemu_attach(out, s, d->on_ctrl, d->ctrl, d->unit, false, "disk", i, e) < 0)
			goto fail;
	}
	if (s->cdrom) {
		ESC(p1, s->cdrom);
		PUSH("-drive");
		PUSH("file=%s,if=none,id=envcd,media=cdrom,readonly=on,format=raw", p1);
		/* (the CD's place in the boot order, after the disks, also makes
		 * OVMF connect its controller: OVMF leaves devices outside the
		 * order as it found them, and the guest would not see the CD) */
		if (qemu_attach(out, s, s->cdrom_on_ctrl, s->cdrom_ctrl, s->cdrom_unit, true, "envcd", SIZE_MAX, e) < 0)
			goto fail;
	}
	for (size_t i = 0; i < s->nnics; i++) {
		const struct vmspec_nic *n = &s->nics[i];
		if (!n->user)
			continue;
		od_buf nb = {0};
		int rc = od_buf_printf(&nb, "user,id=net%zu", i);
		for (size_t f = 0; rc == 0 && f < n->nforwards; f++)
			rc = od_buf_printf(&nb, ",hostfwd=tcp:127.0.0.1:%u-:%u", n->forwards[f].host_port,
					   n->forwards[f].guest_port);
		if (rc < 0) {
			od_buf_free(&nb);
			od_err_nomem(e);
			goto fail;
		}
		PUSH("-netdev");
		if (push(out, nb.data, e) < 0)
			goto fail;
		PUSH("-device");
		/* romfile= (empty): no iPXE option ROM; appliances boot from disk,
		 * and SeaBIOS would spend a second loading and running it. */
		struct hw_choice ch;
		hw_nic_choice(n->model, DEPLOY_BACKEND_QEMU, &ch);
		PUSH("%s,netdev=net%zu,romfile=", ch.device, i);
	}
	if (s->kernel) {
		PUSH("-kernel");
		PUSH("%s", s->kernel);
		if (s->initrd) {
			PUSH("-initrd");
			PUSH("%s", s->initrd);
		}
		if (s->append) {
			PUSH("-append");
			PUSH("%s", s->append);
		}
	}
	free(p1);
	free(p2);
	return 0;
fail:
	free(p1);
	free(p2);
	qemu_argv_free(out);
	return -1;
}

void qemu_argv_free(struct qemu_argv *a)
{
	for (size_t i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	memset(a, 0, sizeof *a);
}

static int spawn_wait(char **argv, int *status, od_err *e)
{
	pid_t pid = fork();
	if (pid < 0)
		return od_err_errno(e, errno, "fork");
	if (pid == 0) {
		execvp(argv[0], argv);
		const char *env = getenv("OVFDEPLOY_QEMU");
		fprintf(stderr, "ovfdeploy: cannot run %s: %s (%s)\n", argv[0], strerror(errno),
			env && *env ? "OVFDEPLOY_QEMU names it: correct it, or unset it for qemu-system-x86_64"
				    : "install the Debian package qemu-system-x86");
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return od_err_errno(e, errno, "waiting for %s", argv[0]);
	}
	if (WIFSIGNALED(st))
		return od_err_set(e, OD_E_IO, "%s was killed by signal %d", argv[0], WTERMSIG(st));
	*status = WEXITSTATUS(st);
	if (*status == 127)
		return od_err_set(e, OD_E_IO, "%s could not be started", argv[0]);
	return 0;
}

int qemu_run(const struct vmspec *s, int *status, od_err *e)
{
	struct qemu_argv a;
	if (qemu_build_argv(s, false, &a, e) < 0)
		return -1;
	int rc = spawn_wait(a.argv, status, e);
	qemu_argv_free(&a);
	return rc;
}

int qemu_start(const struct vmspec *s, od_err *e)
{
	struct qemu_argv a;
	if (qemu_build_argv(s, true, &a, e) < 0)
		return -1;
	int status = 0;
	int rc = spawn_wait(a.argv, &status, e);
	qemu_argv_free(&a);
	if (rc == 0 && status != 0)
		return od_err_set(e, OD_E_IO, "QEMU failed to start (exit status %d)", status);
	return rc;
}

/* ---- stopping ------------------------------------------------------------------- */

static int qmp_send(const char *path, const char *const *cmds, size_t n, od_err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path)
		return od_err_set(e, OD_E_USAGE, "%s: socket path too long", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return od_err_errno(e, errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int err = errno;
		close(fd);
		return od_err_errno(e, err, "%s: connect", path);
	}
	/* QMP greets, then wants qmp_capabilities before any command.  We do not
	 * parse replies: each command is acted on in order, and the caller
	 * watches the process to see whether it worked. */
	char buf[4096];
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	if (poll(&pfd, 1, 2000) > 0 && read(fd, buf, sizeof buf) < 0) {
		/* ignore: the greeting is informational */
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = od_write_all(fd, cmds[i], strlen(cmds[i]), path, e);
		if (rc == 0 && poll(&pfd, 1, 2000) > 0 && read(fd, buf, sizeof buf) < 0) {
			/* reply ignored, see above */
		}
	}
	close(fd);
	return rc;
}

static bool alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

static bool wait_gone(pid_t pid, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += 100) {
		/* reap if it is our child; otherwise poll its existence */
		if (waitpid(pid, NULL, WNOHANG) == pid || !alive(pid))
			return true;
		struct timespec ts = {0, 100 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return !alive(pid);
}

int qemu_stop(const char *control_socket, pid_t pid, unsigned timeout_s, bool *forced, od_err *e)
{
	static const char *const powerdown[] = {
		"{\"execute\":\"qmp_capabilities\"}\n",
		"{\"execute\":\"system_powerdown\"}\n",
	};
	static const char *const quit[] = {
		"{\"execute\":\"qmp_capabilities\"}\n",
		"{\"execute\":\"quit\"}\n",
	};
	*forced = false;
	if (pid <= 0)
		return od_err_set(e, OD_E_USAGE, "no process to stop");
	if (!alive(pid))
		return 0;
	od_err ignored;
	if (control_socket && qmp_send(control_socket, powerdown, 2, &ignored) == 0 && wait_gone(pid, timeout_s * 1000))
		return 0;
	/* The guest did not power off in time: stop it hard, politely first. */
	*forced = true;
	if (control_socket && qmp_send(control_socket, quit, 2, &ignored) == 0 && wait_gone(pid, 3000))
		return 0;
	if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
		return od_err_errno(e, errno, "cannot stop process %d", (int)pid);
	if (!wait_gone(pid, 5000))
		return od_err_set(e, OD_E_IO, "process %d did not stop", (int)pid);
	return 0;
}
