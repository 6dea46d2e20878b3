/* cmd_verify.c - 'ovfdeploy verify' (not implemented yet). */
#include "config.h"
#include "cli/cli.h"

#include <string.h>

int cmd_verify(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: ovfdeploy verify ...\n(not implemented yet)\n");
		return EXIT_OK;
	}
	od_err e;
	od_err_set(&e, OD_E_UNSUPPORTED, "verify: not implemented yet");
	return cli_fail(&e);
}
