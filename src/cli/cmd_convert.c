/* cmd_convert.c - 'ovfdeploy convert': any readable image format to any
 * writable one, through disk_convert. */
#include "config.h"
#include "cli/cli.h"
#include "disk/disk.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ovfdeploy convert [-f FMT] [-O raw|qcow2|vmdk] [-c] [-o OPTIONS] [-j THREADS] [-p] SRC DST\n"
		"\n"
		"Convert a disk image.  The input format is found from the content (or -f);\n"
		"the output is written to a temporary file and renamed into place when complete,\n"
		"so a reader sees the old file or the new one whole, and a killed convert\n"
		"leaves nothing at DST.  Like qemu-img convert, it is not fsynced unless --sync.\n"
		"Zero and unallocated ranges are skipped; raw output is sparse.\n"
		"\n"
		"  -O FMT          output format: raw (default), qcow2, vmdk\n"
		"  -f FMT          input format, instead of probing\n"
		"  -c              compress (qcow2: compressed clusters; vmdk: streamOptimized)\n"
		"  -o OPTIONS      comma-separated: cluster_size=SIZE, compat=0.10|1.1,\n"
		"                  compression_type=zlib|zstd, refcount_bits=1..64,\n"
		"                  subformat=NAME, adapter_type=NAME\n"
		"  -j THREADS      compression threads (default: online CPUs)\n"
		"  --sync          fsync the output and its directory before reporting success\n"
		"                  (without it an OS crash or power cut may leave DST short)\n"
		"  -t CACHE        unsafe (default): no fsync, as qemu-img's default;\n"
		"                  writeback: the same as --sync\n"
		"  -p              show a progress bar even when stderr is not a terminal\n"
		"  --json          print a summary as JSON\n");
}

/* Parse "-o k=v,k=v" into the create options; strings point into `s`. */
static int parse_o(char *s, struct disk_create_opts *o)
{
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return cli_usage_error("convert", "option '%s' needs a value (KEY=VALUE)", tok);
		*eq = 0;
		const char *v = eq + 1;
		if (!strcmp(tok, "cluster_size")) {
			uint64_t n;
			od_err e;
			if (od_parse_size(v, &n, &e) < 0 || n > UINT32_MAX)
				return cli_usage_error("convert", "bad cluster_size '%s'", v);
			o->cluster_size = (uint32_t)n;
		} else if (!strcmp(tok, "refcount_bits")) {
			char *end;
			unsigned long n = strtoul(v, &end, 10);
			if (*end || !*v || n == 0 || n > 64)
				return cli_usage_error("convert", "bad refcount_bits '%s'", v);
			o->refcount_bits = (uint32_t)n;
		} else if (!strcmp(tok, "compat")) {
			o->compat = v;
		} else if (!strcmp(tok, "compression_type")) {
			o->compression_type = v;
		} else if (!strcmp(tok, "subformat")) {
			o->subformat = v;
		} else if (!strcmp(tok, "adapter_type")) {
			o->adapter_type = v;
		} else {
			return cli_usage_error("convert", "unknown option '%s'", tok);
		}
	}
	return 0;
}

int cmd_convert(int argc, char **argv)
{
	enum { O_DO_SYNC = 0x100 };
	static const struct option longopts[] = {{"sync", no_argument, NULL, O_DO_SYNC}, CLI_COMMON_LONGOPTS, {0}};
	struct disk_convert_opts o;
	memset(&o, 0, sizeof o);
	o.format = "raw";
	/* Bulk output that can be made again: atomic, not durable (--sync). */
	o.create.unsafe_cache = true;
	const char *in_fmt = NULL;
	bool force_progress = false;
	int c;
	optind = 1;
	while ((c = cli_next_opt(argc, argv, "O:f:co:j:t:pqvh", longopts, usage)) != -1) {
		switch (c) {
		case CLI_OPT_HELP: return EXIT_OK;
		case 'O': o.format = optarg; break;
		case 'f': in_fmt = optarg; break;
		case 't':
			if (!strcmp(optarg, "unsafe"))
				o.create.unsafe_cache = true;
			else if (!strcmp(optarg, "writeback"))
				o.create.unsafe_cache = false;
			else
				return cli_usage_error("convert", "-t %s: supported: unsafe (default), writeback (= --sync)", optarg);
			break;
		case O_DO_SYNC: o.create.unsafe_cache = false; break;
		case 'c': o.create.compress = true; break;
		case 'o':
			if (parse_o(optarg, &o.create) != 0)
				return EXIT_USAGE;
			break;
		case 'j': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 256)
				return cli_usage_error("convert", "-j wants a thread count from 1 to 256");
			o.create.threads = (unsigned)n;
			break;
		}
		case 'p': force_progress = true; break;
		default: return cli_usage_error("convert", "unknown option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("convert", "expected SRC and DST");
	const char *src = argv[optind], *dst = argv[optind + 1];
	if (strcmp(o.format, "raw") && strcmp(o.format, "qcow2") && strcmp(o.format, "vmdk"))
		return cli_usage_error("convert", "unknown output format '%s'", o.format);
	/* -c for VMDK means the compressed subformat, as with qemu-img. */
	if (!strcmp(o.format, "vmdk") && o.create.compress && !o.create.subformat)
		o.create.subformat = "streamOptimized";
	if (!strcmp(o.format, "raw") && o.create.compress)
		return cli_usage_error("convert", "raw images cannot be compressed");

	od_err e;
	disk *s = in_fmt ? disk_open_as(src, in_fmt, DISK_RDONLY, &e) : disk_open(src, DISK_RDONLY, &e);
	if (!s)
		return cli_fail(&e);
	struct cli_progress pr;
	cli_progress_init(&pr, "converting", force_progress);
	o.progress = cli_progress_cb;
	o.progress_ctx = &pr;
	int rc = disk_convert(s, dst, &o, &e);
	cli_progress_done(&pr);
	if (rc < 0) {
		disk_close(s);
		return cli_fail(&e);
	}
	if (cli.json) {
		json_w w;
		json_init(&w, stdout);
		json_obj_begin(&w, NULL);
		json_str(&w, "source", src);
		json_str(&w, "source-format", disk_format(s));
		json_str(&w, "output", dst);
		json_str(&w, "format", o.format);
		json_uint(&w, "virtual-size", disk_size(s));
		json_bool(&w, "compressed", o.create.compress);
		json_obj_end(&w);
		json_finish(&w);
	}
	disk_close(s);
	return EXIT_OK;
}
