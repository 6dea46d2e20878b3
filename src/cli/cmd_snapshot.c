/* cmd_snapshot.c - 'ovfdeploy snapshot NAME [TAG]', 'snapshot rm NAME TAG',
 * 'snapshots NAME' and 'revert NAME TAG' (deploy/snapshot.c). */
#include "config.h"
#include "cli/cli.h"
#include "deploy/deploy.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void snapshot_usage(FILE *f)
{
	fprintf(f,
		"Usage: ovfdeploy snapshot [--json] NAME [TAG]\n"
		"       ovfdeploy snapshot rm [--json] NAME TAG\n"
		"Snapshot a stopped instance's disks under TAG (default: snap-YYYYMMDD-HHMMSS,\n"
		"in UTC): its current qcow2 overlays are frozen into the snapshot and the\n"
		"instance goes on with fresh overlays over them.  'snapshot rm' removes one;\n"
		"what the instance's disks (stopped) or later snapshots read of it is merged\n"
		"into them first, and a removal killed part way leaves every snapshot valid.\n"
		"A running QEMU instance is saved whole (RAM, devices, disks); a running\n"
		"embedded one is refused: stop it first.  A snapshot killed part way is never\n"
		"listed, and a machine it had stopped is resumed.  Tags: letters, digits, '.',\n"
		"'_' and '-', not starting with '.' or '-', at most 64 characters.\n");
}
static void snapshots_usage(FILE *f)
{
	fprintf(f,
		"Usage: ovfdeploy snapshots [--json] NAME\n"
		"List an instance's snapshots, oldest first: tag, date (UTC), kind (\"disk\" for\n"
		"a stopped instance's disks, \"full\" for a running machine's; \"damaged\" when\n"
		"its metadata is refused) and the bytes it holds on disk.\n");
}
static void revert_usage(FILE *f)
{
	fprintf(f,
		"Usage: ovfdeploy revert [--json] NAME TAG\n"
		"Put a stopped instance's disks back as they were at snapshot TAG: what was\n"
		"written since is discarded.  The snapshot stays, and can be reverted to again.\n"
		"A damaged snapshot is refused and the instance left as it was.  A revert\n"
		"killed part way is finished by the next snapshot command or start: the\n"
		"disks change all together or not at all.\n");
}

/* Parse the common options; the operands are left at argv[optind..]. */
static int parse(const char *cmd, int argc, char **argv, void (*usage)(FILE *))
{
	static const struct option opts[] = {CLI_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
	optind = 1;
	int c;
	while ((c = cli_next_opt(argc, argv, "qvh", opts, usage)) != -1) {
		if (c == CLI_OPT_HELP)
			return EXIT_OK + 1000;
		return cli_usage_error(cmd, "unknown option");
	}
	if (cli_libvirt_uri(argc, argv))
		return cli_usage_error(cmd, "snapshots of instances on libvirt hosts are not supported yet; only local ones");
	return -1;
}

static void report(const char *action, const char *name, const char *tag)
{
	if (cli.json) {
		json_w w;
		json_init(&w, stdout);
		json_obj_begin(&w, NULL);
		json_str(&w, "name", name);
		json_str(&w, "tag", tag);
		json_str(&w, "action", action);
		json_obj_end(&w);
		json_finish(&w);
	} else if (!strcmp(action, "snapshot")) {
		cli_info("Snapshot %s of %s taken\n", tag, name);
	} else if (!strcmp(action, "revert")) {
		cli_info("Reverted %s to snapshot %s\n", name, tag);
	} else {
		cli_info("Removed snapshot %s of %s\n", tag, name);
	}
}

int cmd_snapshot(int argc, char **argv)
{
	bool rm = argc > 1 && !strcmp(argv[1], "rm");
	const char *cmd = rm ? "snapshot rm" : "snapshot";
	if (rm) {
		argc--;
		argv++;
	}
	int p = parse(cmd, argc, argv, snapshot_usage);
	if (p >= 0)
		return p >= 1000 ? p - 1000 : p;
	int nops = argc - optind;
	if (rm ? nops != 2 : (nops < 1 || nops > 2))
		return cli_usage_error(cmd, rm ? "expected an instance name and a tag" : "expected an instance name and an optional tag");
	const char *name = argv[optind], *tag = nops == 2 ? argv[optind + 1] : NULL;
	od_err e = {0};
	char made[80] = "";
	int rc = rm ? deploy_snapshot_remove(name, tag, &e) : deploy_snapshot_take(name, tag, made, sizeof made, &e);
	if (rc < 0)
		return cli_fail(&e);
	report(rm ? "rm" : "snapshot", name, rm ? tag : made);
	return EXIT_OK;
}

int cmd_revert(int argc, char **argv)
{
	int p = parse("revert", argc, argv, revert_usage);
	if (p >= 0)
		return p >= 1000 ? p - 1000 : p;
	if (argc - optind != 2)
		return cli_usage_error("revert", "expected an instance name and a tag");
	od_err e = {0};
	if (deploy_snapshot_revert(argv[optind], argv[optind + 1], &e) < 0)
		return cli_fail(&e);
	report("revert", argv[optind], argv[optind + 1]);
	return EXIT_OK;
}

int cmd_snapshots(int argc, char **argv)
{
	int p = parse("snapshots", argc, argv, snapshots_usage);
	if (p >= 0)
		return p >= 1000 ? p - 1000 : p;
	if (argc - optind != 1)
		return cli_usage_error("snapshots", "expected one instance name");
	od_err e = {0};
	struct deploy_snapshot *v;
	size_t n;
	if (deploy_snapshot_list(argv[optind], &v, &n, &e) < 0)
		return cli_fail(&e);
	json_w w;
	if (cli.json) {
		json_init(&w, stdout);
		json_obj_begin(&w, NULL);
		json_str(&w, "name", argv[optind]);
		json_arr_begin(&w, "snapshots");
	} else if (n) {
		cli_info("%-24s %-20s %-8s %12s\n", "TAG", "DATE (UTC)", "KIND", "BYTES");
	} else {
		cli_info("no snapshots of %s\n", argv[optind]);
	}
	for (size_t i = 0; i < n; i++) {
		char date[32] = "-";
		time_t t = (time_t)v[i].created;
		struct tm tm;
		if (!v[i].damaged && gmtime_r(&t, &tm))
			strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (cli.json) {
			json_obj_begin(&w, NULL);
			json_str(&w, "tag", v[i].tag);
			json_str(&w, "date", v[i].damaged ? NULL : date);
			json_int(&w, "created", v[i].created);
			json_str(&w, "kind", v[i].kind);
			json_str(&w, "backend", v[i].damaged ? NULL : v[i].backend);
			json_uint(&w, "bytes", v[i].bytes);
			if (v[i].damaged)
				json_str(&w, "error", v[i].damaged);
			json_obj_end(&w);
		} else {
			cli_info("%-24s %-20s %-8s %12llu\n", v[i].tag, date, v[i].kind, (unsigned long long)v[i].bytes);
			if (v[i].damaged)
				cli_warn("%s", v[i].damaged);
		}
	}
	if (cli.json) {
		json_arr_end(&w);
		json_obj_end(&w);
		json_finish(&w);
	}
	deploy_snapshot_list_free(v, n);
	return EXIT_OK;
}
