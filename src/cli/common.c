/* common.c - error printing, warnings and common options for subcommands. */
#include "config.h"
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>

int cli_exit_code(int errcode)
{
	switch (errcode) {
	case OD_OK: return EXIT_OK;
	case OD_E_INVALID: return EXIT_INVALID;
	case OD_E_USAGE: return EXIT_USAGE;
	case OD_E_UNSUPPORTED: return EXIT_INVALID;
	default: return EXIT_IO;
	}
}

int cli_fail(const od_err *e)
{
	fprintf(stderr, "%s: %s\n", cli.prog, e->msg[0] ? e->msg : "unknown error");
	return cli_exit_code(e->code ? e->code : OD_E_INTERNAL);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s %s: ", cli.prog, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; try '%s %s --help'\n", cli.prog, cmd);
	return EXIT_USAGE;
}

void cli_warn(const char *fmt, ...)
{
	if (cli.quiet)
		return;
	va_list ap;
	fprintf(stderr, "%s: warning: ", cli.prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_info(const char *fmt, ...)
{
	if (cli.quiet || cli.json)
		return;
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

bool cli_common_opt(int opt)
{
	switch (opt) {
	case 'J': cli.json = true; return true;
	case 'q': cli.quiet = true; return true;
	case 'v': cli.verbose++; return true;
	default: return false;
	}
}

int cli_next_opt(int argc, char **argv, const char *shortopts, const struct option *longopts,
		 void (*usage)(FILE *))
{
	for (;;) {
		int c = getopt_long(argc, argv, shortopts, longopts, NULL);
		if (c == 'h') {
			usage(stdout);
			return CLI_OPT_HELP;
		}
		if (c == -1 || !cli_common_opt(c))
			return c;
	}
}
