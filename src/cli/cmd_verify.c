/* cmd_verify.c - 'ovfdeploy verify': check a package's manifest and
 * certificate in one read. */
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
		"Usage: ovfdeploy verify [options] app.ova|app.ovf|DIR\n"
		"Check every file against the manifest and the manifest against the\n"
		"certificate, reading the package once; nothing is extracted.\n"
		"\n"
		"  --ca-file FILE        trust the CA certificates in FILE (PEM) instead of\n"
		"                        the system trust store\n"
		"  --require-signature   fail when the package is not signed\n"
		"  --json                machine-readable report on stdout\n"
		"  -q, --quiet           print only errors\n"
		"\n"
		"Exit status: 0 everything verified, 1 a check failed, 2 usage, 3 I/O error.\n");
}

/* Shared with unpack: print a verify report as text or JSON. */

void cli_print_verify(const ovf_package *p, const struct ovf_verify_report *r)
{
	if (cli.json) {
		json_w w;
		json_init(&w, stdout);
		json_obj_begin(&w, NULL);
		json_str(&w, "package", p->path);
		json_str(&w, "kind", p->kind == OVF_PKG_OVA ? "ova" : p->kind == OVF_PKG_DIR ? "directory" : "ovf");
		json_bool(&w, "ok", r->ok);
		json_bool(&w, "manifest", r->has_manifest);
		json_arr_begin(&w, "files");
		for (size_t i = 0; i < r->nfiles; i++) {
			const struct ovf_verify_file *f = &r->files[i];
			json_obj_begin(&w, NULL);
			json_str(&w, "name", f->name);
			json_str(&w, "status", ovf_verdict_name(f->verdict));
			json_uint(&w, "size", f->size);
			if (f->alg)
				json_str(&w, "algorithm", ovf_digest_name(f->alg));
			if (f->expected[0])
				json_str(&w, "expected", f->expected);
			if (f->actual[0])
				json_str(&w, "actual", f->actual);
			if (f->problem)
				json_str(&w, "problem", f->problem);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		if (r->has_cert) {
			json_obj_begin(&w, "signature");
			json_bool(&w, "signature_ok", r->cert.signature_ok);
			json_bool(&w, "chain_ok", r->cert.chain_ok);
			json_bool(&w, "dates_ok", r->cert.time_ok);
			json_str(&w, "subject", r->cert.subject);
			json_str(&w, "issuer", r->cert.issuer);
			json_str(&w, "not_before", r->cert.not_before[0] ? r->cert.not_before : NULL);
			json_str(&w, "not_after", r->cert.not_after[0] ? r->cert.not_after : NULL);
			json_str(&w, "key", r->cert.key_desc[0] ? r->cert.key_desc : NULL);
			json_obj_end(&w);
		} else
			json_null(&w, "signature");
		json_arr_begin(&w, "problems");
		for (size_t i = 0; i < r->problems.n; i++)
			json_str(&w, NULL, r->problems.v[i]);
		json_arr_end(&w);
		json_arr_begin(&w, "warnings");
		for (size_t i = 0; i < p->warnings.n; i++)
			json_str(&w, NULL, p->warnings.v[i]);
		json_arr_end(&w);
		json_obj_end(&w);
		json_finish(&w);
		return;
	}
	for (size_t i = 0; i < p->warnings.n; i++)
		cli_warn("%s", p->warnings.v[i]);
	for (size_t i = 0; i < r->nfiles; i++) {
		const struct ovf_verify_file *f = &r->files[i];
		bool good = f->verdict == OVF_FILE_OK || f->verdict == OVF_FILE_UNCHECKED;
		if (good && cli.quiet)
			continue;
		FILE *out = good ? stdout : stderr;
		fprintf(out, "%-9s %s", ovf_verdict_name(f->verdict), f->name);
		if (f->verdict == OVF_FILE_MISMATCH)
			fprintf(out, " (%s expected %s, got %s)", ovf_digest_name(f->alg), f->expected, f->actual);
		else if (f->problem)
			fprintf(out, " (%s)", f->problem);
		fputc('\n', out);
	}
	if (r->has_cert && (r->cert.subject || r->cert.problem) && !cli.quiet) {
		printf("signature %s, chain %s, dates %s\n", r->cert.signature_ok ? "ok" : "BAD",
		       r->cert.chain_ok ? "trusted" : "NOT TRUSTED", r->cert.time_ok ? "valid" : "NOT VALID");
		if (r->cert.subject)
			printf("  subject: %s\n  issuer:  %s\n  key:     %s\n  valid:   %s to %s\n", r->cert.subject,
			       r->cert.issuer ? r->cert.issuer : "?", r->cert.key_desc, r->cert.not_before,
			       r->cert.not_after);
	} else if (!r->has_cert && !cli.quiet)
		printf("not signed\n");
	for (size_t i = 0; i < r->problems.n; i++)
		fprintf(stderr, "%s: %s\n", cli.prog, r->problems.v[i]);
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ca-file", required_argument, NULL, 'C'},
		{"require-signature", no_argument, NULL, 'R'},
		CLI_COMMON_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct ovf_verify_opts vo = {0};
	int c;
	optind = 1;
	while ((c = cli_next_opt(argc, argv, "qvh", opts, usage)) != -1) {
		switch (c) {
		case CLI_OPT_HELP: return EXIT_OK;
		case 'C': vo.ca_file = optarg;
			/* Checked now: an unsigned package would never read it, and a
			 * typo would pass unnoticed. */
			if (access(optarg, R_OK) != 0)
				return cli_usage_error("verify", "--ca-file %s: %s", optarg, strerror(errno));
			break;
		case 'R': vo.require_signature = true; break;
		default: return cli_usage_error("verify", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("verify", "expected one package (app.ova, app.ovf or a directory)");
	od_err e;
	ovf_package *p = ovf_package_open(argv[optind], &e);
	if (!p) {
		/* A package too broken to open still gets a JSON verdict, so
		 * that pipelines need not parse stderr. */
		if (cli.json) {
			json_w w;
			json_init(&w, stdout);
			json_obj_begin(&w, NULL);
			json_str(&w, "package", argv[optind]);
			json_bool(&w, "ok", false);
			json_str(&w, "error", e.msg);
			json_obj_end(&w);
			json_finish(&w);
		}
		return cli_fail(&e);
	}
	struct cli_progress pr;
	cli_progress_init(&pr, "verify", false);
	vo.progress = cli_progress_cb;
	vo.progress_ctx = &pr;
	struct ovf_verify_report r;
	int rc = ovf_verify(p, &vo, &r, &e);
	cli_progress_done(&pr);
	if (rc < 0) {
		ovf_package_close(p);
		return cli_fail(&e);
	}
	cli_print_verify(p, &r);
	int status = r.ok ? EXIT_OK : EXIT_INVALID;
	if (!r.ok && !cli.json)
		fprintf(stderr, "%s: %s: verification FAILED\n", cli.prog, p->path);
	else if (!cli.json && !cli.quiet)
		printf("%s: verified\n", p->path);
	ovf_verify_report_free(&r);
	ovf_package_close(p);
	return status;
}
