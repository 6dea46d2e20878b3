/*
 * cmd_validate.c - 'ovfdeploy validate FILE.ovf': two verdicts on a
 * descriptor.
 *
 *   1. Deployability, as ovftool judges it (ovf_validate): errors block a
 *      deployment, warnings do not.
 *   2. Schema conformance against our XSDs (ovf_schema_check): warnings by
 *      default, errors with --strict.
 *
 * Text output, one line per diagnostic, then a summary:
 *   FILE:LINE: error: MESSAGE [CODE]
 *   FILE: deployable: no (2 errors, 1 warning); schema: valid
 *
 * --json prints one object:
 *   {"file": str, "version": "1.x"|"2.x"|"0.9"|"unknown",
 *    "deployable": bool, "errors": int, "warnings": int,
 *    "schema": {"checked": bool, "valid": bool|null, "strict": bool,
 *               "reason": str|null},
 *    "diagnostics": [{"source": "deployability"|"schema",
 *                     "severity": "error"|"warning", "code": str,
 *                     "line": int, "message": str}]}
 *
 * Exit status: 0 no errors; 1 errors (deployability, or schema with
 * --strict), or a descriptor that is not XML we accept; 2 usage; 3 I/O.
 */
#include "config.h"
#include "cli/cli.h"
#include "ovf/ovf.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ovfdeploy validate [options] FILE.ovf\n"
		"\n"
		"Check a descriptor: deployability (as ovftool judges it) and conformance\n"
		"to ovfdeploy's OVF XML schemas.\n"
		"\n"
		"Options:\n"
		"  --lax            turn the errors ovftool --lax tolerates into warnings\n"
		"  --allow-remote   accept hrefs that are URLs, absolute paths or leave the package\n"
		"  --strict         schema violations are errors (default: warnings)\n"
		"  --no-schema      skip the schema check\n"
		"  --schema-only    skip the deployability check\n"
		"  --schemadir DIR  where the XSDs are (default: $OVFDEPLOY_SCHEMADIR or the installed ones)\n"
		"  --target vsphere|virtualbox|ovfdeploy  also warn about what that target cannot\n"
		"                   honour (hardware, transports, properties); repeatable\n"
		"  --json           print a JSON report\n"
		"  -q, --quiet      print only errors\n"
		"  -h, --help       this help\n"
		"\n"
		"Exit status: 0 no errors, 1 errors found, 2 usage error, 3 I/O error.\n");
}

static const char *sev_name(int s)
{
	return s == OVF_DIAG_ERROR ? "error" : "warning";
}

int cmd_validate(int argc, char **argv)
{
	enum { O_LAX = 256, O_REMOTE, O_STRICT, O_NOSCHEMA, O_SCHEMAONLY, O_SCHEMADIR, O_TARGET };
	static const struct option opts[] = {
		{"lax", no_argument, NULL, O_LAX},
		{"allow-remote", no_argument, NULL, O_REMOTE},
		{"strict", no_argument, NULL, O_STRICT},
		{"no-schema", no_argument, NULL, O_NOSCHEMA},
		{"schema-only", no_argument, NULL, O_SCHEMAONLY},
		{"schemadir", required_argument, NULL, O_SCHEMADIR},
		{"target", required_argument, NULL, O_TARGET},
		CLI_COMMON_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	unsigned flags = 0;
	bool strict = false, do_schema = true, do_deploy = true;
	const char *schemadir = NULL;
	const char *targets[3];
	size_t ntargets = 0;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = cli_next_opt(argc, argv, "qvh", opts, usage)) != -1) {
		switch (c) {
		case CLI_OPT_HELP: return EXIT_OK;
		case O_LAX: flags |= OVF_VALIDATE_LAX; break;
		case O_REMOTE: flags |= OVF_VALIDATE_ALLOW_REMOTE; break;
		case O_STRICT: strict = true; break;
		case O_NOSCHEMA: do_schema = false; break;
		case O_SCHEMAONLY: do_deploy = false; break;
		case O_SCHEMADIR: schemadir = optarg; break;
		case O_TARGET:
			if (strcmp(optarg, "vsphere") && strcmp(optarg, "virtualbox") && strcmp(optarg, "ovfdeploy"))
				return cli_usage_error("validate", "--target %s: say vsphere, virtualbox or ovfdeploy", optarg);
			if (ntargets < 3)
				targets[ntargets++] = optarg;
			break;
		default:
			return cli_usage_error("validate", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!do_schema && !do_deploy)
		return cli_usage_error("validate", "--no-schema and --schema-only leave nothing to check");
	if (optind != argc - 1)
		return cli_usage_error("validate", optind >= argc ? "no descriptor given" : "one descriptor at a time");
	const char *path = argv[optind];

	od_err e = {0};
	char *buf = NULL;
	size_t len = 0;
	if (ovf_descriptor_read(path, &buf, &len, &e) < 0)
		return cli_fail(&e);

	struct ovf_diags dd = {0}, sd = {0}, td = {0}; /* deployability, schema, --target */
	ovf_envelope *env = NULL;
	int rc = EXIT_OK;
	if (do_deploy) {
		env = ovf_envelope_parse(buf, len, path, &e);
		if (!env) {
			free(buf);
			if (cli.json) {
				json_w w;
				json_init(&w, stdout);
				json_obj_begin(&w, NULL);
				json_str(&w, "file", path);
				json_bool(&w, "deployable", false);
				json_str(&w, "error", e.msg);
				json_obj_end(&w);
				json_finish(&w);
			}
			return cli_fail(&e);
		}
		if (ovf_validate(env, flags, &dd, &e) < 0) {
			rc = cli_fail(&e);
			goto out;
		}
		for (size_t t = 0; t < ntargets; t++)
			if (ovf_check_target(env, targets[t], &td, &e) < 0) {
				rc = cli_fail(&e);
				goto out;
			}
	}

	bool schema_checked = false, schema_valid = false;
	char reason[OD_ERR_MSG_MAX] = "";
	if (do_schema) {
		od_err se = {0};
		int r = ovf_schema_check(buf, len, path, schemadir, strict ? OVF_DIAG_ERROR : OVF_DIAG_WARNING, &sd, &se);
		if (r < 0) {
			if (se.code == OD_E_INVALID) {
				/* not XML we accept: same verdict as the parser's */
				rc = cli_fail(&se);
				goto out;
			}
			snprintf(reason, sizeof reason, "%s", se.msg);
			/* Asked for a strict verdict we cannot give: that is a
			 * failure to check, not a pass. */
			if (strict && se.code != OD_E_UNSUPPORTED) {
				rc = cli_fail(&se);
				goto out;
			}
			if (!cli.json)
				cli_warn("schema not checked: %s", se.msg);
		} else {
			schema_checked = true;
			schema_valid = r == 1;
		}
	}

	size_t nerr = dd.nerrors + sd.nerrors, nwarn = dd.nwarnings + sd.nwarnings + td.nwarnings;
	if (cli.json) {
		json_w w;
		json_init(&w, stdout);
		json_obj_begin(&w, NULL);
		json_str(&w, "file", path);
		json_str(&w, "version", env ? ovf_version_name(env->version) : NULL);
		if (do_deploy)
			json_bool(&w, "deployable", dd.nerrors == 0);
		else
			json_null(&w, "deployable");
		json_uint(&w, "errors", nerr);
		json_uint(&w, "warnings", nwarn);
		json_obj_begin(&w, "schema");
		json_bool(&w, "checked", schema_checked);
		if (schema_checked)
			json_bool(&w, "valid", schema_valid);
		else
			json_null(&w, "valid");
		json_bool(&w, "strict", strict);
		json_str(&w, "reason", reason[0] ? reason : NULL);
		json_obj_end(&w);
		json_arr_begin(&w, "diagnostics");
		for (int pass = 0; pass < 3; pass++) {
			const struct ovf_diags *d = pass == 2 ? &td : pass ? &sd : &dd;
			for (size_t i = 0; i < d->n; i++) {
				json_obj_begin(&w, NULL);
				json_str(&w, "source", pass == 2 ? "target" : pass ? "schema" : "deployability");
				json_str(&w, "severity", sev_name(d->v[i].severity));
				json_str(&w, "code", d->v[i].code);
				json_int(&w, "line", d->v[i].line);
				json_str(&w, "message", d->v[i].message);
				json_obj_end(&w);
			}
		}
		json_arr_end(&w);
		json_obj_end(&w);
		json_finish(&w);
	} else {
		for (int pass = 0; pass < 3; pass++) {
			const struct ovf_diags *d = pass == 2 ? &td : pass ? &sd : &dd;
			for (size_t i = 0; i < d->n; i++) {
				const struct ovf_diag *g = &d->v[i];
				if (cli.quiet && g->severity != OVF_DIAG_ERROR)
					continue;
				fprintf(stderr, "%s:%d: %s%s: %s [%s]\n", path, g->line,
					pass == 2 ? "target " : pass ? "schema " : "",
					sev_name(g->severity), g->message, g->code);
			}
		}
		if (!cli.quiet) {
			printf("%s: ", path);
			if (do_deploy)
				printf("deployable: %s (%zu error%s, %zu warning%s)", dd.nerrors ? "no" : "yes", dd.nerrors,
				       dd.nerrors == 1 ? "" : "s", dd.nwarnings, dd.nwarnings == 1 ? "" : "s");
			if (do_deploy && do_schema)
				printf("; ");
			if (do_schema) {
				if (schema_checked)
					printf("schema: %s", schema_valid ? "valid" : strict ? "invalid" : "invalid (warnings; errors with --strict)");
				else
					printf("schema: not checked");
			}
			for (size_t t = 0; t < ntargets; t++)
				printf("%s%s", t ? ", " : "; targets ", targets[t]);
			if (ntargets)
				printf(": %zu warning%s", td.nwarnings, td.nwarnings == 1 ? "" : "s");
			printf("\n");
		}
	}
	if (nerr)
		rc = EXIT_INVALID;
out:
	ovf_diags_free(&dd);
	ovf_diags_free(&sd);
	ovf_diags_free(&td);
	ovf_envelope_free(env);
	free(buf);
	return rc;
}
