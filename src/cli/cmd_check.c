/* cmd_check.c - 'ovfdeploy check': consistency of an image's metadata,
 * with qemu-img's exit codes so that scripts written for one work with
 * the other. */
#include "config.h"
#include "cli/cli.h"
#include "disk/disk.h"

#include <getopt.h>
#include <string.h>

enum { CHECK_CLEAN = 0, CHECK_FAILED = 1, CHECK_CORRUPT = 2, CHECK_LEAKS = 3, CHECK_UNSUPPORTED = 63 };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ovfdeploy check [-f FMT] [--deep] [--json] IMAGE\n"
		"\n"
		"Check an image's metadata: for qcow2 the header, L1/L2 tables, refcounts,\n"
		"leaks, overlaps, offsets past the end and COPIED flags.  --deep also reads\n"
		"every cluster or grain (inflating compressed ones).\n"
		"\n"
		"Exit status (as qemu-img check): 0 no problems, 1 the check could not run,\n"
		"2 corruption found, 3 only leaked clusters found, 63 no check for this format.\n");
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {"deep", no_argument, NULL, 'D'}, {0}};
	bool deep = false;
	const char *fmt = NULL;
	int c;
	optind = 1;
	while ((c = cli_next_opt(argc, argv, "f:qvh", longopts, usage)) != -1) {
		switch (c) {
		case CLI_OPT_HELP: return EXIT_OK;
		case 'D': deep = true; break;
		case 'f': fmt = optarg; break;
		default: return cli_usage_error("check", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("check", "expected one IMAGE");
	const char *path = argv[optind];
	od_err e;
	/* Backing files are not part of this image's consistency. */
	disk *d = fmt ? disk_open_as(path, fmt, DISK_NO_BACKING, &e) : disk_open(path, DISK_NO_BACKING, &e);
	if (!d) {
		cli_fail(&e);
		return CHECK_FAILED;
	}
	struct disk_check_result r;
	if (disk_check(d, deep, &r, &e) < 0) {
		int unsupported = e.code == OD_E_UNSUPPORTED;
		cli_fail(&e);
		disk_close(d);
		return unsupported ? CHECK_UNSUPPORTED : CHECK_FAILED;
	}
	int rc = r.corruptions ? CHECK_CORRUPT : r.check_errors ? CHECK_FAILED : r.leaks ? CHECK_LEAKS : CHECK_CLEAN;
	if (cli.json) {
		json_w w;
		json_init(&w, stdout);
		json_obj_begin(&w, NULL);
		json_str(&w, "filename", path);
		json_str(&w, "format", disk_format(d));
		json_uint(&w, "check-errors", r.check_errors);
		json_uint(&w, "corruptions", r.corruptions);
		json_uint(&w, "leaks", r.leaks);
		json_uint(&w, "image-end-offset", r.image_end_offset);
		json_uint(&w, "total-clusters", r.total_clusters);
		json_uint(&w, "allocated-clusters", r.allocated_clusters);
		json_uint(&w, "fragmented-clusters", r.fragmented_clusters);
		json_uint(&w, "compressed-clusters", r.compressed_clusters);
		json_arr_begin(&w, "messages");
		for (size_t i = 0; i < r.nmessages; i++)
			json_str(&w, NULL, r.messages[i]);
		json_arr_end(&w);
		json_obj_end(&w);
		json_finish(&w);
	} else if (!cli.quiet) {
		for (size_t i = 0; i < r.nmessages; i++)
			printf("%s\n", r.messages[i]);
		if (r.nmessages)
			printf("\n");
		if (r.corruptions)
			printf("%llu errors were found on the image.\nData may be corrupted, or further writes to the image "
			       "may corrupt it.\n",
			       (unsigned long long)r.corruptions);
		if (r.leaks)
			printf("%llu leaked clusters were found on the image.\nThis means waste of disk space, but no harm "
			       "to data.\n",
			       (unsigned long long)r.leaks);
		if (!r.corruptions && !r.leaks && !r.check_errors)
			printf("No errors were found on the image.\n");
		if (r.total_clusters) {
			double t = (double)r.total_clusters;
			printf("%llu/%llu = %.2f%% allocated, %.2f%% fragmented, %.2f%% compressed clusters\n",
			       (unsigned long long)r.allocated_clusters, (unsigned long long)r.total_clusters,
			       100.0 * (double)r.allocated_clusters / t,
			       r.allocated_clusters ? 100.0 * (double)r.fragmented_clusters / (double)r.allocated_clusters : 0.0,
			       r.allocated_clusters ? 100.0 * (double)r.compressed_clusters / (double)r.allocated_clusters : 0.0);
		}
		if (r.image_end_offset)
			printf("Image end offset: %llu\n", (unsigned long long)r.image_end_offset);
	}
	disk_check_result_free(&r);
	disk_close(d);
	return rc;
}
