/* cmd_libvirt.c - the --connect forms of deploy, list, start, stop,
 * console and rm: the same commands, with the instance on a libvirt host.
 * The work is src/deploy/libvirt.c's; here are options and printing. */
#include "config.h"
#include "cli/cli.h"
#include "deploy/deploy.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

const char *cli_libvirt_uri(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--connect") && i + 1 < argc)
			return argv[i + 1];
		if (!strncmp(argv[i], "--connect=", 10))
			return argv[i] + 10;
	}
	const char *env = getenv("OVFDEPLOY_CONNECT");
	return env && *env ? env : NULL;
}

/* Attach this terminal (raw) to the instance's console. */
static int attach(lv_conn *c, const char *name, od_err *e)
{
	struct termios old;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		struct termios raw = old;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		fprintf(stderr, "Attached to %s; Ctrl-A x detaches\r\n", name);
	}
	int rc = lv_console(c, name, STDIN_FILENO, STDOUT_FILENO, e);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fputc('\n', stderr);
	}
	return rc;
}

/* A collection deploys as one domain per VirtualSystem, NAME-SYSTEMID, all
 * or nothing, as locally; with --start they all start, none attached. */
int cli_libvirt_deploy(struct deploy_plan *plans, size_t nplans, const struct deploy_opts *o, const char *uri,
		       const struct lv_opts *lo, bool start)
{
	od_err e;
	char *base = o->name ? od_strdup(o->name) : deploy_default_name(&plans[0]);
	char **names = calloc(nplans, sizeof *names);
	if (!base || !names) {
		free(base);
		free(names);
		od_err_nomem(&e);
		return cli_fail(&e);
	}
	/* A host that goes away mid-upload must be an error, not SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	lv_conn *c = lv_open(uri, &e);
	int rc = c ? 0 : cli_fail(&e);
	size_t made = 0;
	for (size_t i = 0; rc == 0 && i < nplans; i++) {
		names[i] = nplans > 1 ? deploy_member_name(base, &plans[i]) : od_strdup(base);
		if (!names[i]) {
			od_err_nomem(&e);
			rc = cli_fail(&e);
			break;
		}
		struct cli_progress prog;
		cli_progress_init(&prog, "uploading", false);
		struct lv_opts lopt = *lo;
		lopt.skip_verify = o->skip_verify;
		lopt.hardware = o->hardware;
		lopt.progress = cli_progress_cb;
		lopt.progress_ctx = &prog;
		int r = lv_deploy(c, &plans[i], names[i], &lopt, &e);
		cli_progress_done(&prog);
		for (size_t w = 0; w < plans[i].warnings.n; w++)
			cli_warn("%s", plans[i].warnings.v[w]);
		if (r < 0) {
			rc = cli_fail(&e);
			break;
		}
		made++;
	}
	if (rc != 0) {
		/* All or nothing: a collection half deployed is not deployed. */
		for (size_t i = 0; i < made; i++)
			lv_remove(c, names[i], &e);
	} else if (!start) {
		json_w w;
		if (cli.json) {
			json_init(&w, stdout);
			if (nplans > 1)
				json_arr_begin(&w, NULL);
		}
		for (size_t i = 0; i < nplans; i++) {
			if (cli.json) {
				json_obj_begin(&w, NULL);
				json_str(&w, "name", names[i]);
				json_str(&w, "backend", "libvirt");
				json_str(&w, "connect", uri);
				json_obj_end(&w);
			} else {
				cli_info("Deployed %s to %s; start it with 'ovfdeploy start --connect %s %s'\n", names[i], uri, uri,
					 names[i]);
			}
		}
		if (cli.json) {
			if (nplans > 1)
				json_arr_end(&w);
			json_finish(&w);
		}
	} else {
		for (size_t i = 0; rc == 0 && i < nplans; i++)
			if (lv_start(c, names[i], &e) < 0)
				rc = cli_fail(&e);
		if (rc == 0 && nplans == 1 && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
			if (attach(c, names[0], &e) < 0)
				rc = cli_fail(&e);
		} else {
			for (size_t i = 0; rc == 0 && i < nplans; i++)
				cli_info("Started %s on %s; 'ovfdeploy console --connect %s %s' attaches\n", names[i], uri, uri,
					 names[i]);
		}
	}
	lv_close(c);
	for (size_t i = 0; i < nplans; i++)
		free(names[i]);
	free(names);
	free(base);
	return rc;
}

static void usage(const char *cmd)
{
	printf("Usage: ovfdeploy %s --connect URI %s\n"
	       "The instance is a domain on the libvirt host at URI (qemu:///system,\n"
	       "qemu+ssh://user@host/system, ...); $OVFDEPLOY_CONNECT stands for --connect.\n",
	       cmd, !strcmp(cmd, "list") ? "[--json]" : !strcmp(cmd, "stop") ? "[--timeout SECONDS] NAME" : "NAME");
}

int cli_libvirt_instances(const char *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"connect", required_argument, NULL, 'C'},
		{"timeout", required_argument, NULL, 't'},
		{"foreground", no_argument, NULL, 'f'},
		CLI_COMMON_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	const char *uri = NULL;
	unsigned timeout = 30;
	bool foreground = false;
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "qvhf", longopts, NULL)) != -1) {
		if (opt == 'h') {
			usage(cmd);
			return EXIT_OK;
		}
		if (opt == 'C') {
			uri = optarg;
		} else if (opt == 't' && !strcmp(cmd, "stop")) {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || v > 3600)
				return cli_usage_error(cmd, "--timeout %s: expected seconds (at most 3600)", optarg);
			timeout = (unsigned)v;
		} else if (opt == 'f' && !strcmp(cmd, "start")) {
			foreground = true;
		} else if (!cli_common_opt(opt)) {
			return cli_usage_error(cmd, "unknown option");
		}
	}
	if (!uri)
		uri = cli_libvirt_uri(0, NULL);
	if (!uri)
		return cli_usage_error(cmd, "--connect needs a URI");
	bool is_list = !strcmp(cmd, "list");
	if (is_list ? optind != argc : optind != argc - 1)
		return cli_usage_error(cmd, is_list ? "no arguments expected" : "expected one instance name");
	const char *name = is_list ? NULL : argv[optind];
	od_err e;
	signal(SIGPIPE, SIG_IGN);
	lv_conn *c = lv_open(uri, &e);
	if (!c)
		return cli_fail(&e);
	int rc = 0;
	if (is_list) {
		struct lv_instance *v;
		size_t n;
		if (lv_list(c, &v, &n, &e) < 0) {
			lv_close(c);
			return cli_fail(&e);
		}
		json_w w;
		if (cli.json) {
			json_init(&w, stdout);
			json_arr_begin(&w, NULL);
		} else if (!cli.quiet) {
			printf("%-24s %-8s %-10s %s\n", "NAME", "STATE", "POOL", "PACKAGE");
		}
		for (size_t i = 0; i < n; i++) {
			if (cli.json) {
				json_obj_begin(&w, NULL);
				json_str(&w, "name", v[i].name);
				json_str(&w, "state", v[i].state);
				json_str(&w, "backend", "libvirt");
				json_str(&w, "connect", uri);
				json_str(&w, "pool", v[i].pool);
				json_str(&w, "package", v[i].package);
				json_str(&w, "deployment_option", v[i].option);
				json_str(&w, "console_log", v[i].console_log);
				json_uint(&w, "bases", v[i].nbases);
				json_obj_end(&w);
			} else if (!cli.quiet) {
				printf("%-24s %-8s %-10s %s\n", v[i].name ? v[i].name : "?", v[i].state ? v[i].state : "?",
				       v[i].pool ? v[i].pool : "-", v[i].package ? v[i].package : "-");
			}
		}
		if (cli.json) {
			json_arr_end(&w);
			json_finish(&w);
		}
		lv_list_free(v, n);
	} else if (!strcmp(cmd, "start")) {
		if (lv_start(c, name, &e) < 0)
			rc = cli_fail(&e);
		else if (foreground && attach(c, name, &e) < 0)
			rc = cli_fail(&e);
		else if (!foreground)
			cli_info("Started %s; console: 'ovfdeploy console --connect %s %s'\n", name, uri, name);
	} else if (!strcmp(cmd, "stop")) {
		bool forced = false;
		if (lv_stop(c, name, timeout, &forced, &e) < 0)
			rc = cli_fail(&e);
		else if (forced)
			cli_warn("%s did not power off within %u s and was stopped hard", name, timeout);
		else
			cli_info("Stopped %s\n", name);
	} else if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume")) {
		bool pause = !strcmp(cmd, "pause");
		if (lv_pause(c, name, pause, &e) < 0)
			rc = cli_fail(&e);
		else
			cli_report_pause(name, pause);
	} else if (!strcmp(cmd, "rm")) {
		if (lv_remove(c, name, &e) < 0)
			rc = cli_fail(&e);
		else
			cli_info("Removed %s\n", name);
	} else if (!strcmp(cmd, "console")) {
		if (attach(c, name, &e) < 0)
			rc = cli_fail(&e);
	} else {
		rc = cli_usage_error(cmd, "not a libvirt command");
	}
	lv_close(c);
	return rc;
}
