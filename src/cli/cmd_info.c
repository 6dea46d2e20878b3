/* cmd_info.c - 'ovfdeploy info': format, sizes, allocation and the backing
 * chain of an image. */
#include "config.h"
#include "cli/cli.h"
#include "disk/disk.h"

#include <getopt.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ovfdeploy info [-f FMT] [--json] IMAGE\n"
		"\n"
		"Show an image's format, virtual size, space used on disk, bytes allocated\n"
		"in this layer, cluster or grain size, dirty/corrupt flags, compression and\n"
		"the whole backing chain.\n");
}

/* Bytes this layer itself stores, from the map of the image opened without
 * its backing files. */
static int layer_allocated(const char *path, const char *fmt, uint64_t *out, od_err *e)
{
	disk *d = fmt ? disk_open_as(path, fmt, DISK_NO_BACKING, e) : disk_open(path, DISK_NO_BACKING, e);
	if (!d)
		return -1;
	uint64_t off = 0, n = 0;
	while (off < disk_size(d)) {
		struct disk_extent x;
		if (disk_map(d, off, disk_size(d) - off, &x, e) < 0) {
			disk_close(d);
			return -1;
		}
		if (x.kind == DISK_EXT_DATA)
			n += x.len;
		off += x.len;
	}
	disk_close(d);
	*out = n;
	return 0;
}

static void human(char *buf, size_t n, uint64_t v)
{
	static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double x = (double)v;
	int i = 0;
	while (x >= 1024 && i < 6) {
		x /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, n, "%llu B", (unsigned long long)v);
	else
		snprintf(buf, n, "%.3g %s", x, u[i]);
}

static void print_layer(json_w *w, disk *d, const struct disk_info *in, uint64_t alloc, bool have_alloc)
{
	if (w) {
		json_str(w, "filename", disk_name(d));
		json_str(w, "format", in->format);
		if (in->subformat[0])
			json_str(w, "subformat", in->subformat);
		json_uint(w, "virtual-size", in->virtual_size);
		json_uint(w, "actual-size", in->actual_size);
		if (have_alloc)
			json_uint(w, "allocated-size", alloc);
		if (in->cluster_size)
			json_uint(w, "cluster-size", in->cluster_size);
		if (in->version)
			json_uint(w, "version", in->version);
		if (in->backing_file)
			json_str(w, "backing-filename", in->backing_file);
		if (in->backing_format)
			json_str(w, "backing-format", in->backing_format);
		json_bool(w, "dirty", in->dirty);
		json_bool(w, "corrupt", in->corrupt);
		json_bool(w, "compressed", in->compressed);
		if (in->compression_type)
			json_str(w, "compression-type", in->compression_type);
		if (in->vmdk_descriptor)
			json_str(w, "vmdk-descriptor", in->vmdk_descriptor);
		return;
	}
	char a[32], b[32];
	human(a, sizeof a, in->virtual_size);
	printf("image: %s\nfile format: %s\n", disk_name(d), in->format);
	if (in->subformat[0])
		printf("subformat: %s\n", in->subformat);
	printf("virtual size: %s (%llu bytes)\n", a, (unsigned long long)in->virtual_size);
	human(b, sizeof b, in->actual_size);
	printf("disk size: %s\n", b);
	if (have_alloc) {
		human(b, sizeof b, alloc);
		printf("allocated: %s (%llu bytes)\n", b, (unsigned long long)alloc);
	}
	if (in->cluster_size)
		printf("cluster_size: %u\n", in->cluster_size);
	if (in->compression_type)
		printf("compression type: %s\n", in->compression_type);
	printf("compressed: %s\n", in->compressed ? "yes" : "no");
	if (in->backing_file)
		printf("backing file: %s\n", in->backing_file);
	if (in->backing_format)
		printf("backing file format: %s\n", in->backing_format);
	if (in->dirty)
		printf("dirty: yes\n");
	if (in->corrupt)
		printf("corrupt: yes\n");
	if (in->vmdk_descriptor)
		printf("descriptor:\n%s\n", in->vmdk_descriptor);
}

int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {0}};
	const char *fmt = NULL;
	int c;
	optind = 1;
	while ((c = cli_next_opt(argc, argv, "f:qvh", longopts, usage)) != -1) {
		if (c == CLI_OPT_HELP)
			return EXIT_OK;
		if (c == 'f')
			fmt = optarg;
		else
			return cli_usage_error("info", "unknown option");
	}
	if (argc - optind != 1)
		return cli_usage_error("info", "expected one IMAGE");
	const char *path = argv[optind];
	od_err e;
	disk *d = fmt ? disk_open_as(path, fmt, DISK_RDONLY, &e) : disk_open(path, DISK_RDONLY, &e);
	if (!d) {
		/* A missing backing file should not hide the image itself. */
		od_err e2;
		d = fmt ? disk_open_as(path, fmt, DISK_NO_BACKING, &e2) : disk_open(path, DISK_NO_BACKING, &e2);
		if (!d)
			return cli_fail(&e);
		cli_warn("%s", e.msg);
	}
	json_w jw, *w = cli.json ? &jw : NULL;
	if (w) {
		json_init(w, stdout);
		json_obj_begin(w, NULL);
	}
	int rc = EXIT_OK, depth = 0;
	for (disk *l = d; l && rc == EXIT_OK; l = disk_backing(l), depth++) {
		struct disk_info in;
		if (disk_get_info(l, &in, &e) < 0) {
			rc = cli_fail(&e);
			break;
		}
		uint64_t alloc = 0;
		/* the format already found: a raw backing file must not be
		 * re-probed as whatever header its guest wrote into it */
		bool have_alloc = layer_allocated(disk_name(l), disk_format(l), &alloc, &e) == 0;
		if (w) {
			if (depth == 1)
				json_arr_begin(w, "backing-chain");
			if (depth >= 1)
				json_obj_begin(w, NULL);
		} else if (depth) {
			printf("\n");
		}
		print_layer(w, l, &in, alloc, have_alloc);
		if (w && depth >= 1)
			json_obj_end(w);
		disk_info_free(&in);
	}
	if (w) {
		if (depth > 1)
			json_arr_end(w);
		json_obj_end(w);
		json_finish(w);
	}
	disk_close(d);
	return rc;
}
