/* cmd_pause.c - 'ovfdeploy pause NAME' and 'ovfdeploy resume NAME': stop
 * every vCPU of a running instance, and let them run on (deploy/pause.c). */
#include "config.h"
#include "cli/cli.h"
#include "deploy/deploy.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char pause_help[] =
	"Usage: ovfdeploy pause [--json] [--connect URI] NAME\n"
	"Pause a running instance: no vCPU runs until 'ovfdeploy resume NAME'; its memory,\n"
	"devices and network connections stay as they are, and 'list' shows it paused.\n"
	"The guest's kvmclock does not advance while paused (the TSC does).\n";
static const char resume_help[] =
	"Usage: ovfdeploy resume [--json] [--connect URI] NAME\n"
	"Let a paused instance run on from where it stopped.\n";

/* What pause and resume print, here and on a libvirt host (cmd_libvirt.c). */
void cli_report_pause(const char *name, bool paused)
{
	if (cli.json) {
		json_w w;
		json_init(&w, stdout);
		json_obj_begin(&w, NULL);
		json_str(&w, "name", name);
		json_str(&w, "state", paused ? "paused" : "running");
		json_obj_end(&w);
		json_finish(&w);
	} else {
		cli_info("%s %s\n", paused ? "Paused" : "Resumed", name);
	}
}

static int pause_or_resume(bool pause, int argc, char **argv)
{
	const char *cmd = pause ? "pause" : "resume";
	if (cli_libvirt_uri(argc, argv)) /* --connect: a libvirt host (cmd_libvirt.c) */
		return cli_libvirt_instances(cmd, argc, argv);
	static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(pause ? pause_help : resume_help, stdout);
			return EXIT_OK;
		}
		if (!cli_common_opt(opt))
			return cli_usage_error(cmd, "unknown option");
	}
	if (optind != argc - 1)
		return cli_usage_error(cmd, "expected one instance name");
	const char *name = argv[optind];
	od_err e;
	struct instance in;
	if (instance_load(name, &in, &e) < 0)
		return cli_fail(&e);
	int rc = pause ? deploy_pause(&in, &e) : deploy_resume(&in, &e);
	instance_free(&in);
	if (rc < 0)
		return cli_fail(&e);
	cli_report_pause(name, pause);
	return EXIT_OK;
}

int cmd_pause(int argc, char **argv)
{
	return pause_or_resume(true, argc, argv);
}

int cmd_resume(int argc, char **argv)
{
	return pause_or_resume(false, argc, argv);
}
