/* main.c - ovfdeploy's entry point: global options and command dispatch. */
#include "config.h"
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cli_globals cli = {.prog = "ovfdeploy"};

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *desc;
} commands[] = {
#define X(n, d) {#n, cmd_##n, d},
	CLI_COMMANDS(X)
#undef X
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ovfdeploy [--json] [-q] <command> [options] [args]\n"
		"       ovfdeploy APPLIANCE.ova [deploy options]   (deploy and start it)\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (commands[i].desc)
			fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].desc);
	fprintf(f,
		"\n"
		"Global options:\n"
		"  --json       machine-readable output on stdout\n"
		"  -q, --quiet  print only errors\n"
		"  -h, --help   this help; 'ovfdeploy COMMAND --help' for a command\n"
		"  --version    print the version\n"
		"\n"
		"Exit status: 0 success, 1 invalid input or failed check, 2 usage error,\n"
		"3 I/O or internal error (see ovfdeploy(1) for command-specific codes).\n");
}

static bool looks_like_package(const char *arg)
{
	size_t n = strlen(arg);
	return (n > 4 && (strcmp(arg + n - 4, ".ova") == 0 || strcmp(arg + n - 4, ".ovf") == 0)) ||
	       strchr(arg, '/') != NULL;
}

int main(int argc, char **argv)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--json"))
			cli.json = true;
		else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
			cli.quiet = true;
		else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
			cli.verbose++;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			printf("ovfdeploy %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		} else
			break; /* a deploy option: "ovfdeploy --accept-eula app.ova" */
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].fn(argc - i, argv + i);
	/* "ovfdeploy app.ova [options]" deploys; options may come first too. */
	for (int j = i; j < argc; j++) {
		if (argv[j][0] != '-' && looks_like_package(argv[j])) {
			/* Same as "ovfdeploy deploy --run ARGS...": deploy, then run on
			 * this terminal. */
			char **av = calloc((size_t)(argc - i + 3), sizeof *av);
			if (!av) {
				fprintf(stderr, "ovfdeploy: out of memory\n");
				return EXIT_IO;
			}
			int n = 0;
			av[n++] = "deploy";
			av[n++] = "--run";
			for (int k = i; k < argc; k++)
				av[n++] = argv[k];
			int rc = cmd_deploy(n, av);
			free(av);
			return rc;
		}
	}
	fprintf(stderr, "ovfdeploy: unknown command '%s'; try 'ovfdeploy --help'\n", argv[i]);
	return EXIT_USAGE;
}
