/* cmd_instances.c - 'ovfdeploy list', 'start', 'stop', 'console', 'rm':
 * deployed instances and their life cycle. */
#include "config.h"
#include "cli/cli.h"
#include "deploy/deploy.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

/* Parse "CMD [--json|-q|-h] [extra options] NAME"; returns the name or NULL
 * after printing usage.  `extra` handles the command's own options. */
static const char *one_name(const char *cmd, const char *help, int argc, char **argv,
			    const struct option *extra_opts, bool (*extra)(int opt, const char *arg), int *rc)
{
	struct option longopts[16];
	size_t n = 0;
	for (const struct option *x = extra_opts; x && x->name && n < 10; x++)
		longopts[n++] = *x;
	static const struct option common[] = {CLI_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
	for (const struct option *x = common; n < 15; x++) {
		longopts[n++] = *x;
		if (!x->name)
			break;
	}
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "qvhf", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(help, stdout);
			*rc = EXIT_OK;
			return NULL;
		}
		if (cli_common_opt(opt) || (extra && extra(opt, optarg)))
			continue;
		*rc = cli_usage_error(cmd, "unknown option");
		return NULL;
	}
	if (optind != argc - 1) {
		*rc = cli_usage_error(cmd, "expected one instance name");
		return NULL;
	}
	return argv[optind];
}

int cmd_list(int argc, char **argv)
{
	if (cli_libvirt_uri(argc, argv)) /* --connect: a libvirt host (cmd_libvirt.c) */
		return cli_libvirt_instances("list", argc, argv);
	int rc = EXIT_OK;
	optind = 1;
	int opt;
	static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
	while ((opt = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		if (opt == 'h') {
			printf("Usage: ovfdeploy list [--json]\nList deployed instances: name, state, backend, forwarded ports.\n"
			       "A running instance's backend is what it runs on: embedded, qemu-kvm or qemu-tcg.\n");
			return EXIT_OK;
		}
		if (!cli_common_opt(opt))
			return cli_usage_error("list", "unknown option");
	}
	if (optind != argc)
		return cli_usage_error("list", "no arguments expected");
	char **names;
	size_t n;
	od_err e;
	if (instance_list(&names, &n, &e) < 0)
		return cli_fail(&e);
	json_w w;
	if (cli.json) {
		json_init(&w, stdout);
		json_arr_begin(&w, NULL);
	} else if (!cli.quiet) {
		printf("%-24s %-8s %-8s %s\n", "NAME", "STATE", "BACKEND", "FORWARDS");
	}
	for (size_t i = 0; i < n; i++) {
		struct instance in;
		int partial = instance_partial(names[i]);
		if (partial != INSTANCE_COMPLETE) {
			/* Being deployed, or left by a deploy that was killed
			 * ('rm' or a new deploy of the name removes it). */
			const char *state = partial == INSTANCE_CREATING ? "creating" : "incomplete";
			if (cli.json) {
				json_obj_begin(&w, NULL);
				json_str(&w, "name", names[i]);
				json_str(&w, "state", state);
				json_obj_end(&w);
			} else if (!cli.quiet) {
				printf("%-24s %-8s %-8s %s\n", names[i], state, "-", "-");
			}
			continue;
		}
		if (instance_load(names[i], &in, &e) < 0) {
			cli_warn("%s", e.msg);
			rc = EXIT_INVALID;
			continue;
		}
		pid_t pid = instance_running_pid(&in);
		/* Running: what it runs on, recorded at start (not "auto"). */
		char running_on[32];
		const char *backend = deploy_backend_name(in.backend);
		if (pid && deploy_running_backend(&in, running_on, sizeof running_on) == 0)
			backend = running_on;
		/* paused (cmd_pause.c): asked of the machine itself; if it does
		 * not answer, it is shown as running */
		const char *state = pid ? "running" : "stopped";
		enum deploy_state st;
		od_err ignored;
		if (pid && deploy_run_state(&in, &st, &ignored) == 0 && st == DEPLOY_STATE_PAUSED)
			state = "paused";
		od_buf fw = {0};
		for (size_t k = 0; k < in.spec.nnics; k++)
			for (size_t f = 0; f < in.spec.nics[k].nforwards; f++)
				od_buf_printf(&fw, "%s127.0.0.1:%u->%u", fw.len ? "," : "", in.spec.nics[k].forwards[f].host_port,
					      in.spec.nics[k].forwards[f].guest_port);
		if (cli.json) {
			json_obj_begin(&w, NULL);
			json_str(&w, "name", in.name);
			json_str(&w, "state", state);
			if (pid)
				json_int(&w, "pid", pid);
			json_str(&w, "backend", backend);
			if (strcmp(backend, deploy_backend_name(in.backend)))
				json_str(&w, "configured-backend", deploy_backend_name(in.backend));
			json_str(&w, "package", in.package);
			json_str(&w, "directory", in.dir);
			json_arr_begin(&w, "forwards");
			for (size_t k = 0; k < in.spec.nnics; k++)
				for (size_t f = 0; f < in.spec.nics[k].nforwards; f++) {
					json_obj_begin(&w, NULL);
					json_uint(&w, "host", in.spec.nics[k].forwards[f].host_port);
					json_uint(&w, "guest", in.spec.nics[k].forwards[f].guest_port);
					json_obj_end(&w);
				}
			json_arr_end(&w);
			json_obj_end(&w);
		} else if (!cli.quiet) {
			printf("%-24s %-8s %-8s %s\n", in.name, state, backend,
			       fw.data ? fw.data : "-");
		}
		od_buf_free(&fw);
		instance_free(&in);
	}
	if (cli.json) {
		json_arr_end(&w);
		json_finish(&w);
	}
	instance_list_free(names, n);
	return rc;
}

static bool foreground;
static bool opt_foreground(int opt, const char *arg)
{
	(void)arg;
	if (opt != 'f')
		return false;
	foreground = true;
	return true;
}

int cmd_start(int argc, char **argv)
{
	if (cli_libvirt_uri(argc, argv)) /* --connect: a libvirt host (cmd_libvirt.c) */
		return cli_libvirt_instances("start", argc, argv);
	static const struct option extra[] = {{"foreground", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
	int rc = 0;
	foreground = false;
	const char *name = one_name("start", "Usage: ovfdeploy start [--foreground] NAME\n"
				    "Start a deployed instance in the background (attach with 'ovfdeploy console NAME'),\n"
				    "or with -f/--foreground on this terminal until the guest powers off.\n",
				    argc, argv, extra, opt_foreground, &rc);
	if (!name)
		return rc;
	od_err e;
	struct instance in;
	if (instance_load(name, &in, &e) < 0)
		return cli_fail(&e);
	char why[256];
	int status = 0;
	deploy_instance_backend(&in, why, sizeof why);
	if (!cli.quiet)
		fprintf(stderr, "Starting %s with %s%s\n", in.name, why, foreground ? " (Ctrl-A x quits)" : "");
	if (!cli.quiet && in.spec.screen)
		fprintf(stderr, "Screen on VNC at %s ('ovfdeploy display %s')\n", in.spec.vnc_socket, in.name);
	if (deploy_start(&in, foreground, &status, why, sizeof why, &e) < 0) {
		instance_free(&in);
		return cli_fail(&e);
	}
	if (!foreground)
		cli_info("Started %s; console: 'ovfdeploy console %s', log: %s\n", in.name, in.name, in.spec.console_log);
	instance_free(&in);
	return status == 0 ? EXIT_OK : EXIT_IO;
}

static unsigned stop_timeout = 30;
static bool opt_timeout(int opt, const char *arg)
{
	if (opt != 't')
		return false;
	char *end;
	unsigned long v = strtoul(arg, &end, 10);
	if (*end || v > 3600)
		return false;
	stop_timeout = (unsigned)v;
	return true;
}

int cmd_stop(int argc, char **argv)
{
	if (cli_libvirt_uri(argc, argv)) /* --connect: a libvirt host (cmd_libvirt.c) */
		return cli_libvirt_instances("stop", argc, argv);
	static const struct option extra[] = {{"timeout", required_argument, NULL, 't'}, {NULL, 0, NULL, 0}};
	int rc = 0;
	stop_timeout = 30;
	const char *name = one_name("stop", "Usage: ovfdeploy stop [--timeout SECONDS] NAME\n"
				    "Ask the guest to power off (ACPI power button); after the timeout (default 30 s)\n"
				    "stop it hard.\n",
				    argc, argv, extra, opt_timeout, &rc);
	if (!name)
		return rc;
	od_err e;
	struct instance in;
	if (instance_load(name, &in, &e) < 0)
		return cli_fail(&e);
	bool forced;
	rc = deploy_stop(&in, stop_timeout, &forced, &e);
	instance_free(&in);
	if (rc < 0)
		return cli_fail(&e);
	if (forced)
		cli_warn("%s did not power off within %u s and was stopped hard", name, stop_timeout);
	else
		cli_info("Stopped %s\n", name);
	return EXIT_OK;
}

int cmd_rm(int argc, char **argv)
{
	if (cli_libvirt_uri(argc, argv)) /* --connect: a libvirt host (cmd_libvirt.c) */
		return cli_libvirt_instances("rm", argc, argv);
	int rc = 0;
	const char *name = one_name("rm", "Usage: ovfdeploy rm NAME\nRemove a stopped instance and all its files (its disks' changes too).\n",
				    argc, argv, NULL, NULL, &rc);
	if (!name)
		return rc;
	od_err e;
	if (instance_remove(name, &e) < 0)
		return cli_fail(&e);
	cli_info("Removed %s\n", name);
	return EXIT_OK;
}

/* Relay between the terminal and the instance's console socket until the
 * guest goes away or the user types Ctrl-A x. */
int cmd_console(int argc, char **argv)
{
	if (cli_libvirt_uri(argc, argv)) /* --connect: a libvirt host (cmd_libvirt.c) */
		return cli_libvirt_instances("console", argc, argv);
	int rc = 0;
	const char *name = one_name("console", "Usage: ovfdeploy console NAME\nAttach to a running instance's serial console; Ctrl-A x detaches.\n",
				    argc, argv, NULL, NULL, &rc);
	if (!name)
		return rc;
	od_err e;
	struct instance in;
	if (instance_load(name, &in, &e) < 0)
		return cli_fail(&e);
	if (!instance_running_pid(&in)) {
		instance_free(&in);
		od_err_set(&e, OD_E_USAGE, "instance '%s' is not running (start it with 'ovfdeploy start %s')", name, name);
		return cli_fail(&e);
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(in.spec.console_socket) >= sizeof sa.sun_path) {
		instance_free(&in);
		od_err_set(&e, OD_E_USAGE, "console socket path too long");
		return cli_fail(&e);
	}
	strcpy(sa.sun_path, in.spec.console_socket);
	instance_free(&in);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		od_err_errno(&e, errno, "%s: cannot attach to the console", name);
		if (fd >= 0)
			close(fd);
		return cli_fail(&e);
	}
	struct termios old;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		struct termios raw = old;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		fprintf(stderr, "Attached to %s; Ctrl-A x detaches\r\n", name);
	}
	bool ctrl_a = false, done = false;
	struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
	while (!done && poll(p, 2, -1) >= 0) {
		char buf[4096];
		if (p[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(fd, buf, sizeof buf);
			if (n <= 0)
				break;
			if (write(STDOUT_FILENO, buf, (size_t)n) < 0)
				break;
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
			if (n <= 0) {
				p[0].fd = -1; /* stdin closed: keep showing output */
				continue;
			}
			/* Ctrl-A is the escape: Ctrl-A x detaches, Ctrl-A Ctrl-A sends one
			 * Ctrl-A, Ctrl-A followed by anything else sends both. */
			char outb[2 * sizeof buf];
			size_t out = 0;
			for (ssize_t i = 0; i < n && !done; i++) {
				if (ctrl_a) {
					ctrl_a = false;
					if (buf[i] == 'x') {
						done = true;
						break;
					}
					if (buf[i] != 1)
						outb[out++] = 1;
				} else if (buf[i] == 1) {
					ctrl_a = true;
					continue;
				}
				outb[out++] = buf[i];
			}
			if (out && write(fd, outb, out) < 0)
				break;
		}
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fputc('\n', stderr);
	}
	close(fd);
	return EXIT_OK;
}
