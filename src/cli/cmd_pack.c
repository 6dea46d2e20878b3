/* cmd_pack.c - 'ovfdeploy pack': make an OVA from an OVF directory or a
 * descriptor. */
#include "config.h"
#include "cli/cli.h"
#include "ovf/ovf.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ovfdeploy pack [options] DIR|app.ovf|app.ova -o app.ova\n"
		"Write an OVA: the descriptor first, then the manifest (and certificate),\n"
		"then the files in References order; each input is read once.\n"
		"\n"
		"  -o, --output FILE     the OVA to write (required)\n"
		"  --digest ALG          sha1, sha256 (default) or sha512; without it, a\n"
		"                        source manifest that matches is kept byte for byte\n"
		"  --sign KEY            sign the manifest with this PEM private key (RSA or EC)\n"
		"  --cert FILE           PEM certificate chain for --sign (default: the key file)\n"
		"  --compress            gzip the files (ovf:compression=\"gzip\")\n"
		"  --chunk-size SIZE     split files larger than SIZE into href.000000000, ...\n"
		"  --json, -q            machine-readable output / print only errors\n"
		"\n"
		"(--from-disk, making an appliance from a disk image, is not available yet.)\n");
}

int cmd_pack(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"digest", required_argument, NULL, 'D'},
		{"sign", required_argument, NULL, 'S'},
		{"cert", required_argument, NULL, 'C'},
		{"compress", no_argument, NULL, 'Z'},
		{"chunk-size", required_argument, NULL, 'K'},
		{"from-disk", required_argument, NULL, 'F'},
		CLI_COMMON_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct ovf_pack_opts po = {0};
	const char *out = NULL;
	od_err e;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:qvh", opts, NULL)) != -1) {
		if (cli_common_opt(c))
			continue;
		switch (c) {
		case 'o': out = optarg; break;
		case 'D':
			po.digest = ovf_digest_from_name(optarg);
			if (!po.digest)
				return cli_usage_error("pack", "--digest: '%s' is not sha1, sha256 or sha512", optarg);
			break;
		case 'S': po.sign_key = optarg; break;
		case 'C': po.sign_cert = optarg; break;
		case 'Z': po.compress = true; break;
		case 'K':
			if (od_parse_size(optarg, &po.chunk_size, &e) < 0 || po.chunk_size == 0)
				return cli_usage_error("pack", "--chunk-size: '%s' is not a positive size", optarg);
			break;
		case 'F':
			od_err_set(&e, OD_E_UNSUPPORTED, "pack --from-disk is not implemented yet");
			return cli_fail(&e);
		case 'h': usage(stdout); return EXIT_OK;
		default: return cli_usage_error("pack", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("pack", "expected one source (an OVF directory, a .ovf or an .ova)");
	if (!out)
		return cli_usage_error("pack", "-o OUTPUT.ova is required");
	if (po.sign_cert && !po.sign_key)
		return cli_usage_error("pack", "--cert needs --sign KEY");
	struct cli_progress pr;
	cli_progress_init(&pr, "pack", false);
	po.progress = cli_progress_cb;
	po.progress_ctx = &pr;
	struct ovf_warnings w = {0};
	int rc = ovf_pack(argv[optind], out, &po, &w, &e);
	cli_progress_done(&pr);
	for (size_t i = 0; i < w.n; i++)
		cli_warn("%s", w.v[i]);
	if (cli.json) {
		json_w j;
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "output", out);
		json_bool(&j, "ok", rc == 0);
		if (rc < 0)
			json_str(&j, "error", e.msg);
		json_arr_begin(&j, "warnings");
		for (size_t i = 0; i < w.n; i++)
			json_str(&j, NULL, w.v[i]);
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
	}
	ovf_warnings_free(&w);
	if (rc < 0)
		return cli_fail(&e);
	cli_info("%s: written\n", out);
	return EXIT_OK;
}
