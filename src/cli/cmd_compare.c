/* cmd_compare.c - 'ovfdeploy compare': equal guest-visible content,
 * across formats. */
#include "config.h"
#include "cli/cli.h"
#include "disk/disk.h"

#include <getopt.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ovfdeploy compare [-f FMT] [-F FMT] [-p] [--json] IMAGE1 IMAGE2\n"
		"\n"
		"Compare what a guest would see in two images, whatever their formats.\n"
		"Zero and unallocated ranges are compared without reading them.  When the\n"
		"sizes differ, the extra part of the larger image must read as zeros.\n"
		"\n"
		"Exit status: 0 identical, 1 different (the first differing offset is\n"
		"printed), 3 an image could not be opened or read.\n");
}

int cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {0}};
	const char *fa = NULL, *fb = NULL;
	bool force_progress = false;
	int c;
	optind = 1;
	while ((c = cli_next_opt(argc, argv, "f:F:pqvh", longopts, usage)) != -1) {
		switch (c) {
		case CLI_OPT_HELP: return EXIT_OK;
		case 'f': fa = optarg; break;
		case 'F': fb = optarg; break;
		case 'p': force_progress = true; break;
		default: return cli_usage_error("compare", "unknown option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("compare", "expected two images");
	const char *pa = argv[optind], *pb = argv[optind + 1];
	od_err e;
	disk *a = fa ? disk_open_as(pa, fa, DISK_RDONLY, &e) : disk_open(pa, DISK_RDONLY, &e);
	if (!a) {
		cli_fail(&e);
		return EXIT_IO;
	}
	disk *b = fb ? disk_open_as(pb, fb, DISK_RDONLY, &e) : disk_open(pb, DISK_RDONLY, &e);
	if (!b) {
		cli_fail(&e);
		disk_close(a);
		return EXIT_IO;
	}
	struct cli_progress pr;
	cli_progress_init(&pr, "comparing", force_progress);
	bool same;
	uint64_t at;
	int rc = disk_compare(a, b, &same, &at, cli_progress_cb, &pr, &e);
	cli_progress_done(&pr);
	if (rc < 0) {
		cli_fail(&e);
		rc = EXIT_IO;
	} else {
		rc = same ? EXIT_OK : 1;
		if (cli.json) {
			json_w w;
			json_init(&w, stdout);
			json_obj_begin(&w, NULL);
			json_bool(&w, "identical", same);
			if (!same)
				json_uint(&w, "first-difference", at);
			json_uint(&w, "size1", disk_size(a));
			json_uint(&w, "size2", disk_size(b));
			json_obj_end(&w);
			json_finish(&w);
		} else if (same) {
			cli_info("Images are identical.\n");
		} else if (!cli.quiet) {
			printf("Content mismatch at offset %llu!\n", (unsigned long long)at);
		}
	}
	disk_close(a);
	disk_close(b);
	return rc;
}
