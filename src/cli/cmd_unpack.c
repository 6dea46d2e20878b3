/* cmd_unpack.c - 'ovfdeploy unpack': extract a package safely. */
#include "config.h"
#include "cli/cli.h"
#include <unistd.h>
#include <errno.h>
#include "ovf/ovf.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>


static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ovfdeploy unpack [options] app.ova DIR\n"
		"Extract into DIR (which must not exist, or be empty).  Everything is\n"
		"written to a temporary directory beside DIR, verified as it is written,\n"
		"and renamed into place only when the whole package verified.\n"
		"\n"
		"  --ca-file FILE        trust the CA certificates in FILE for the signature\n"
		"  --require-signature   refuse unsigned packages\n"
		"  --sync                fsync the files and directories before reporting\n"
		"                        success (by default they are not, as with tar)\n"
		"  --no-sync             the default; accepted for compatibility\n"
		"  --json, -q            machine-readable report / print only errors\n");
}

int cmd_unpack(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ca-file", required_argument, NULL, 'C'},
		{"require-signature", no_argument, NULL, 'R'},
		{"sync", no_argument, NULL, 'S'},
		{"no-sync", no_argument, NULL, 'N'},
		CLI_COMMON_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	/* Bulk output that can be made again: atomic, not durable (--sync). */
	struct ovf_unpack_opts uo = {.no_sync = true};
	int c;
	optind = 1;
	while ((c = cli_next_opt(argc, argv, "qvh", opts, usage)) != -1) {
		switch (c) {
		case CLI_OPT_HELP: return EXIT_OK;
		case 'C': uo.verify.ca_file = optarg;
			/* Checked now: an unsigned package would never read it, and a
			 * typo would pass unnoticed. */
			if (access(optarg, R_OK) != 0)
				return cli_usage_error("unpack", "--ca-file %s: %s", optarg, strerror(errno));
			break;
		case 'R': uo.verify.require_signature = true; break;
		case 'S': uo.no_sync = false; break;
		case 'N': uo.no_sync = true; break;
		default: return cli_usage_error("unpack", "unknown option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("unpack", "expected a package and a destination directory");
	od_err e;
	ovf_package *p = ovf_package_open(argv[optind], &e);
	if (!p)
		return cli_fail(&e);
	struct cli_progress pr;
	cli_progress_init(&pr, "unpack", false);
	uo.verify.progress = cli_progress_cb;
	uo.verify.progress_ctx = &pr;
	struct ovf_verify_report r;
	int rc = ovf_unpack(p, argv[optind + 1], &uo, &r, &e);
	cli_progress_done(&pr);
	if (r.nfiles || r.problems.n || cli.json)
		cli_print_verify(p, &r);
	ovf_verify_report_free(&r);
	ovf_package_close(p);
	if (rc < 0)
		return cli_fail(&e);
	cli_info("%s: extracted into %s\n", argv[optind], argv[optind + 1]);
	return EXIT_OK;
}
