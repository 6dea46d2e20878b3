/* cmd_export.c - 'ovfdeploy export NAME -o app.ova': a deployed instance,
 * as it is now, back into a package (deploy_export in src/deploy/export.c). */
#include "config.h"
#include "cli/cli.h"
#include "deploy/deploy.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ovfdeploy export NAME -o app.ova [--sign KEY [--cert CERT]] [--sync] [--json]\n"
		"Write a stopped instance back into an OVA: its descriptor, with the deployment\n"
		"option it was deployed with and its property values as the new defaults\n"
		"(password properties keep their old default), and its disks as they are now\n"
		"(the base and the instance's changes flattened) as streamOptimized VMDKs, with\n"
		"a SHA256 manifest.  Files of the package that are no disk of the instance are\n"
		"copied from the package it was deployed from.  A running instance is refused:\n"
		"stop it first.\n"
		"\n"
		"  -o, --output FILE     the OVA to write (required); written to a temporary file\n"
		"                        and renamed into place: nothing appears on failure\n"
		"  --sign KEY            sign the manifest with this PEM private key (RSA or EC)\n"
		"  --cert FILE           PEM certificate chain for --sign (default: the key file)\n"
		"  --sync                fsync the OVA before reporting success (default: not, as\n"
		"                        with pack and tar)\n"
		"  -p, --progress        show progress even when stderr is not a terminal\n"
		"  --json, -q            machine-readable output / print only errors\n");
}

enum { O_SYNC_ = 0x100, O_NO_SYNC };

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"sign", required_argument, NULL, 'S'},
		{"cert", required_argument, NULL, 'C'},
		{"sync", no_argument, NULL, O_SYNC_},
		{"no-sync", no_argument, NULL, O_NO_SYNC},
		{"progress", no_argument, NULL, 'p'},
		{"connect", required_argument, NULL, 'c'}, /* refused below, with the reason */
		CLI_COMMON_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct deploy_export_opts o = {0};
	const char *out = NULL;
	bool force_progress = false;
	int c;
	optind = 1;
	while ((c = cli_next_opt(argc, argv, "o:pqvh", opts, usage)) != -1) {
		switch (c) {
		case CLI_OPT_HELP: return EXIT_OK;
		case 'o': out = optarg; break;
		case 'S': o.sign_key = optarg; break;
		case 'C': o.sign_cert = optarg; break;
		case O_SYNC_: o.sync = true; break;
		case O_NO_SYNC: o.sync = false; break;
		case 'p': force_progress = true; break;
		case 'c': break;
		default: return cli_usage_error("export", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("export", "expected one instance name");
	if (cli_libvirt_uri(argc, argv))
		return cli_usage_error("export", "instances on libvirt hosts (--connect, $OVFDEPLOY_CONNECT) cannot be exported yet; only local ones");
	if (!out || !*out)
		return cli_usage_error("export", "-o OUTPUT.ova is required");
	if (o.sign_cert && !o.sign_key)
		return cli_usage_error("export", "--cert needs --sign KEY");
	const char *name = argv[optind];
	struct cli_progress pr;
	cli_progress_init(&pr, "export", force_progress);
	o.progress = cli_progress_cb;
	o.progress_ctx = &pr;
	struct deploy_export_result r;
	od_err e;
	int rc = deploy_export(name, out, &o, &r, &e);
	cli_progress_done(&pr);
	for (size_t i = 0; rc == 0 && i < r.warnings.n; i++)
		cli_warn("%s", r.warnings.v[i]);
	if (cli.json) {
		json_w j;
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "instance", name);
		json_str(&j, "output", out);
		json_bool(&j, "ok", rc == 0);
		if (rc < 0)
			json_str(&j, "error", e.msg);
		else {
			json_uint(&j, "disks", r.ndisks);
			json_uint(&j, "disk_bytes", r.disk_bytes);
			json_bool(&j, "signed", o.sign_key != NULL);
		}
		json_arr_begin(&j, "warnings");
		for (size_t i = 0; rc == 0 && i < r.warnings.n; i++)
			json_str(&j, NULL, r.warnings.v[i]);
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
	}
	if (rc < 0)
		return cli_fail(&e);
	cli_info("%s: written from instance %s (%zu disk%s%s)\n", out, name, r.ndisks, r.ndisks == 1 ? "" : "s",
		 o.sign_key ? ", signed" : "");
	deploy_export_result_free(&r);
	return EXIT_OK;
}
