/* test_qemu.c - the QEMU backend: command lines, and a real QEMU started in
 * the background, showing SeaBIOS on its console log and stopped through
 * QMP. */
#include "config.h"
#include "deploy/deploy.h"
#include "runner/vm.h"

#include <check.h>
#include "../check_run.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool has_arg(const struct qemu_argv *a, const char *s)
{
	for (size_t i = 0; i < a->argc; i++)
		if (!strcmp(a->argv[i], s))
			return true;
	return false;
}

static const char *arg_after(const struct qemu_argv *a, const char *opt, const char *prefix)
{
	for (size_t i = 0; i + 1 < a->argc; i++)
		if (!strcmp(a->argv[i], opt) && !strncmp(a->argv[i + 1], prefix, strlen(prefix)))
			return a->argv[i + 1];
	return NULL;
}

START_TEST(test_argv_basic)
{
	struct vmspec s = {.cpus = 2, .memory = 512u << 20};
	s.disks[0] = (struct vmspec_disk){.path = "/x/over,lay.qcow2", .format = "qcow2"};
	s.disks[1] = (struct vmspec_disk){.path = "/x/data.raw", .format = "raw", .readonly = true};
	s.ndisks = 2;
	s.cdrom = "/x/env.iso";
	s.nics[0].user = true;
	s.nics[0].forwards[0] = (struct vmspec_forward){8080, 80};
	s.nics[0].forwards[1] = (struct vmspec_forward){2222, 22};
	s.nics[0].nforwards = 2;
	s.nics[1].user = false; /* not connected: no device */
	s.nnics = 2;
	s.console_log = "/x/console.log";
	s.control_socket = "/x/qmp.sock";
	struct qemu_argv a;
	od_err e;
	ck_assert_int_eq(qemu_build_argv(&s, false, &a, &e), 0);
	ck_assert(has_arg(&a, "-nodefaults"));
	ck_assert(has_arg(&a, "-no-reboot"));
	ck_assert_str_eq(arg_after(&a, "-smp", ""), "2");
	ck_assert_str_eq(arg_after(&a, "-m", ""), "512M");
	/* a comma in a path is doubled, so it cannot inject options */
	ck_assert_ptr_nonnull(arg_after(&a, "-drive", "file=/x/over,,lay.qcow2,if=none,id=disk0,format=qcow2"));
	const char *d1 = arg_after(&a, "-drive", "file=/x/data.raw");
	ck_assert_ptr_nonnull(d1);
	ck_assert_ptr_nonnull(strstr(d1, "readonly=on"));
	ck_assert_ptr_nonnull(arg_after(&a, "-device", "virtio-blk-pci,drive=disk1,bootindex=1"));
	ck_assert_ptr_nonnull(arg_after(&a, "-drive", "file=/x/env.iso,if=none,id=envcd,media=cdrom"));
	ck_assert_str_eq(arg_after(&a, "-netdev", "user"),
			 "user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=tcp:127.0.0.1:2222-:22");
	ck_assert_ptr_null(arg_after(&a, "-netdev", "user,id=net1"));
	ck_assert_ptr_nonnull(strstr(arg_after(&a, "-chardev", "stdio"), "logfile=/x/console.log"));
	ck_assert_str_eq(arg_after(&a, "-qmp", ""), "unix:/x/qmp.sock,server=on,wait=off");
	ck_assert(!has_arg(&a, "-daemonize"));
	ck_assert(!has_arg(&a, "-smbios"));
	ck_assert_ptr_null(a.argv[a.argc]);
	qemu_argv_free(&a);
	/* a VMware appliance: VMware's DMI strings, the comma doubled */
	s.vmware = true;
	ck_assert_int_eq(qemu_build_argv(&s, false, &a, &e), 0);
	ck_assert_str_eq(arg_after(&a, "-smbios", "type=1"),
			 "type=1,manufacturer=VMware,, Inc.,product=VMware Virtual Platform");
	qemu_argv_free(&a);
}
END_TEST

START_TEST(test_argv_refusals)
{
	struct vmspec s = {.cpus = 0, .memory = 256u << 20};
	struct qemu_argv a;
	od_err e;
	ck_assert_int_eq(qemu_build_argv(&s, false, &a, &e), -1);
	s.cpus = 1;
	s.memory = (256u << 20) + 1; /* not whole MiB */
	ck_assert_int_eq(qemu_build_argv(&s, false, &a, &e), -1);
	s.memory = 256u << 20;
	ck_assert_int_eq(qemu_build_argv(&s, true, &a, &e), -1); /* daemonize needs a pidfile */
	s.console = VMSPEC_CONSOLE_SOCKET;
	ck_assert_int_eq(qemu_build_argv(&s, false, &a, &e), -1); /* and a socket */
}
END_TEST

START_TEST(test_backend_choice)
{
	char why[256];
	enum deploy_backend b;
	od_err e;
	ck_assert_int_eq(deploy_backend_parse("qemu", &b, &e), 0);
	ck_assert_int_eq(b, DEPLOY_BACKEND_QEMU);
	ck_assert_int_eq(deploy_backend_parse("vmware", &b, &e), -1);
	ck_assert_int_eq(deploy_backend_choose(DEPLOY_BACKEND_QEMU, why, sizeof why), DEPLOY_BACKEND_QEMU);
	b = deploy_backend_choose(DEPLOY_BACKEND_AUTO, why, sizeof why);
	ck_assert(b == DEPLOY_BACKEND_QEMU || b == DEPLOY_BACKEND_EMBEDDED);
	ck_assert_uint_gt(strlen(why), 10);
	/* On a host without vmx/svm, auto never picks the embedded runner. */
	if (!vm_host_has_hw_virt())
		ck_assert_int_eq(b, DEPLOY_BACKEND_QEMU);
}
END_TEST

static bool file_contains(const char *path, const char *needle)
{
	char *data;
	size_t len;
	od_err e;
	if (od_read_file(path, 1 << 20, &data, &len, &e) < 0)
		return false;
	bool found = memmem(data, len, needle, strlen(needle)) != NULL;
	free(data);
	return found;
}

/* A failed assertion ends the test process; do not leave QEMU behind. */
static pid_t started_pid;
static void kill_started(void)
{
	if (started_pid > 0)
		kill(started_pid, SIGKILL);
}

/* UEFI: a boot disk on a SCSI model OVMF cannot boot moves, with its
 * controller, to SATA, slots renumbered in order (attached devices first;
 * an empty drive no port is left for leaves the bus); another controller,
 * a BIOS-style plan and too many disks stay. */
START_TEST(test_efi_bootable)
{
	struct ovf_warnings w = {0};
	struct hwplan_disk d[9] = {
		{.ctrl = 0, .unit = 3, .boot = true},
		{.ctrl = 0, .unit = 0},
		{.ctrl = 1, .unit = 9},
		{.ctrl = 0, .unit = 1, .cdrom = true},             /* empty drive */
		{.ctrl = 0, .unit = 5, .cdrom = true, .env = true}, /* the environment CD */
	};
	struct hwplan p = {.nctrls = 2, .disks = d, .ndisks = 5, .env = 4, .boot = 0};
	p.ctrls[0] = (struct hwplan_ctrl){.model = HW_CTRL_LSILOGIC};
	p.ctrls[1] = (struct hwplan_ctrl){.model = HW_CTRL_PVSCSI, .index = 1};
	hwplan_efi_bootable(&p, &w);
	ck_assert_int_eq(p.ctrls[0].model, HW_CTRL_AHCI);
	ck_assert_uint_eq(p.ctrls[0].index, 0);
	ck_assert_int_eq(p.ctrls[1].model, HW_CTRL_PVSCSI); /* not the boot disk's */
	ck_assert_uint_eq(d[1].unit, 0);
	ck_assert_uint_eq(d[0].unit, 1);
	ck_assert_uint_eq(d[4].unit, 2);
	ck_assert_uint_eq(d[3].unit, 3); /* the empty drive after them */
	ck_assert_uint_eq(d[3].ctrl, 0);
	ck_assert_uint_eq(d[2].unit, 9);
	ck_assert_uint_eq(w.n, 1);
	ck_assert_ptr_nonnull(strstr(w.v[0], "ahci"));
	ovf_warnings_free(&w);

	/* a boot disk on AHCI already, or on its own virtio-blk: nothing */
	hwplan_efi_bootable(&p, &w);
	ck_assert_uint_eq(w.n, 0);
	d[0].ctrl = HWPLAN_NONE;
	hwplan_efi_bootable(&p, &w);
	ck_assert_uint_eq(w.n, 0);

	/* six disks fill the six ports: the empty drive leaves the bus */
	p.ctrls[0].model = HW_CTRL_PVSCSI;
	p.ndisks = 7, p.env = HWPLAN_NONE;
	for (unsigned i = 0; i < 7; i++)
		d[i] = (struct hwplan_disk){.ctrl = 0, .unit = 6 - i, .cdrom = i == 6};
	p.ctrls[1].model = HW_CTRL_AHCI; /* a SATA controller there already */
	hwplan_efi_bootable(&p, &w);
	ck_assert_int_eq(p.ctrls[0].model, HW_CTRL_AHCI);
	ck_assert_uint_eq(p.ctrls[0].index, 2); /* numbered after it */
	ck_assert_uint_eq(d[5].unit, 0);
	ck_assert_uint_eq(d[0].unit, 5);
	ck_assert_uint_eq(d[6].ctrl, HWPLAN_NONE);
	ovf_warnings_free(&w);

	/* seven disks do not fit six ports: left, with a warning */
	p.ctrls[0].model = HW_CTRL_PVSCSI;
	for (unsigned i = 0; i < 7; i++)
		d[i] = (struct hwplan_disk){.ctrl = 0, .unit = i};
	hwplan_efi_bootable(&p, &w);
	ck_assert_int_eq(p.ctrls[0].model, HW_CTRL_PVSCSI);
	ck_assert_uint_eq(d[6].unit, 6);
	ck_assert_uint_eq(w.n, 1);
	ovf_warnings_free(&w);
}
END_TEST

START_TEST(test_real_qemu_start_stop)
{
	if (access("/usr/share/seabios/bios.bin", R_OK) != 0 || system("command -v qemu-system-x86_64 >/dev/null") != 0) {
		fprintf(stderr, "SKIP part: qemu-system-x86_64 or SeaBIOS missing\n");
		return;
	}
	char dir[] = "/tmp/od-qemu-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct vmspec s = {.cpus = 1, .memory = 64u << 20, .console = VMSPEC_CONSOLE_SOCKET};
	s.console_socket = od_asprintf("%s/console.sock", dir);
	s.console_log = od_asprintf("%s/console.log", dir);
	s.control_socket = od_asprintf("%s/qmp.sock", dir);
	s.pidfile = od_asprintf("%s/pid", dir);
	od_err e;
	int rc = qemu_start(&s, &e);
	ck_assert_msg(rc == 0, "qemu_start: %s", e.msg);
	char *pidtxt;
	size_t len;
	ck_assert_int_eq(od_read_file(s.pidfile, 64, &pidtxt, &len, &e), 0);
	pid_t pid = (pid_t)atoi(pidtxt);
	free(pidtxt);
	ck_assert_int_gt(pid, 1);
	started_pid = pid;
	atexit(kill_started);
	/* SeaBIOS with no disk prints its banner, then finds nothing to boot. */
	bool banner = false;
	for (int i = 0; i < 200 && !banner; i++) {
		banner = file_contains(s.console_log, "SeaBIOS");
		usleep(50 * 1000);
	}
	ck_assert_msg(banner, "no SeaBIOS banner on the console log");
	/* Without an OS nothing answers the power button: the stop must fall
	 * back to a hard stop after the timeout, and the process must be gone. */
	bool forced;
	ck_assert_int_eq(qemu_stop(s.control_socket, pid, 1, &forced, &e), 0);
	ck_assert(forced);
	ck_assert(kill(pid, 0) != 0);
	started_pid = 0;
	vmspec_free(&s);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("deploy-qemu");
	TCase *tc = od_check_tcase(su, "core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_argv_basic);
	tcase_add_test(tc, test_argv_refusals);
	tcase_add_test(tc, test_backend_choice);
	tcase_add_test(tc, test_efi_bootable);
	tcase_add_test(tc, test_real_qemu_start_stop);
	return od_check_run(su);
}
