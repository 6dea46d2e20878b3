/* cmd_pack.c - 'ovfdeploy pack': make an OVA from an OVF directory or a
 * descriptor. */
#include "config.h"
#include "cli/cli.h"
#include "disk/disk.h"
#include "ovf/ovf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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
		"  --sync                fsync the OVA and its directory before reporting success;\n"
		"                        by default, as with tar, it is written to a temporary\n"
		"                        file and renamed into place without an fsync (a killed\n"
		"                        pack leaves nothing; an OS crash may leave it short)\n"
		"  --no-sync             the default; accepted for compatibility\n"
		"  --chunk-size SIZE     split files larger than SIZE into href.000000000, ...\n"
		"  --json, -q            machine-readable output / print only errors\n"
		"\n"
		"\n"
		"Making an appliance from a disk image:\n"
		"  ovfdeploy pack --from-disk IMG --name NAME [options] -o app.ova\n"
		"  --from-disk IMG       raw, qcow2 or VMDK image; becomes a streamOptimized VMDK\n"
		"  --name NAME           the virtual system's name (letters, digits, . _ -)\n"
		"  --cpus N              virtual CPUs (default 1)\n"
		"  --memory SIZE         memory, e.g. 512M, 2G (default 512M)\n"
		"  --nic NETWORK         a network adapter on NETWORK (repeatable)\n"
		"  --product TEXT, --vendor TEXT, --version TEXT   ProductSection fields\n"
		"  --eula FILE           license text shown before deployment\n"
		"  --prop KEY=TYPE[:DEFAULT]  a user-configurable property (repeatable),\n"
		"                        e.g. --prop hostname=string:web1 --prop port=uint16:80\n"
		"  --nic-model e1000|e1000e|vmxnet3|virtio   the adapters' model (default e1000)\n"
		"  --scsi lsilogic|lsilogicsas|pvscsi|virtio  the disk controller (default lsilogic)\n"
		"  --os-type ID          vmw:osType, the guest OS vSphere sets up for (e.g.\n"
		"                        otherLinux64Guest, debian12_64Guest)\n"
		"  --transport iso|guestinfo|both  how the OVF environment reaches the guest:\n"
		"                        a CD (a CD-ROM is declared), VMware's guestinfo, or both\n"
		"  (vSphere imports vmxnet3/e1000 and lsilogic/pvscsi; it refuses virtio)\n");
}

#define MAX_REPEAT 64

/* --from-disk: convert the image and write a descriptor into a private
 * directory beside the output, pack that, and remove it. */
static int from_disk(const char *img, struct ovf_gen_opts *g, const char *eula_path, const char *out,
		     const struct ovf_pack_opts *po, struct ovf_warnings *w, od_err *e)
{
	for (const char *c = g->name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
		      *c == '_' || *c == '-'))
			return od_err_set(e, OD_E_USAGE, "--name '%s': use letters, digits, '.', '_' and '-' (it names files)",
					  g->name);
	if (g->name[0] == '.' || strlen(g->name) > 100)
		return od_err_set(e, OD_E_USAGE, "--name '%s': must not start with '.' nor exceed 100 bytes", g->name);
	char *eula = NULL;
	if (eula_path) {
		size_t len;
		if (od_read_file(eula_path, 1u << 20, &eula, &len, e) < 0)
			return -1;
		if (strlen(eula) != len) {
			free(eula);
			return od_err_set(e, OD_E_USAGE, "%s: the license text contains NUL bytes", eula_path);
		}
		g->eula = eula;
	}
	const char *slash = strrchr(out, '/');
	char *tmp = slash ? od_asprintf("%.*s/.%s.XXXXXX", (int)(slash - out), out, g->name)
			  : od_asprintf("./.%s.XXXXXX", g->name);
	char *vmdk = NULL, *ovfp = NULL, *href = od_asprintf("%s-disk1.vmdk", g->name);
	int rc = -1;
	disk *d = NULL;
	bool made = false;
	od_buf desc = {0};
	if (!tmp || !href) {
		od_err_nomem(e);
		goto out;
	}
	if (!mkdtemp(tmp)) {
		/* Named after the output the user gave, not our temporary. */
		int err = errno;
		int dl = slash ? (int)(slash - out) : 1;
		const char *dn = slash ? out : ".";
		if (err == ENOENT)
			od_err_set(e, OD_E_IO, "%s: cannot be written: the directory %.*s does not exist", out, dl, dn);
		else
			od_err_errno(e, err, "%s: cannot create a working directory in %.*s (the disk is converted there "
				     "first)", out, dl, dn);
		goto out;
	}
	made = true;
	vmdk = od_asprintf("%s/%s", tmp, href);
	ovfp = od_asprintf("%s/%s.ovf", tmp, g->name);
	if (!vmdk || !ovfp) {
		od_err_nomem(e);
		goto out;
	}
	d = disk_open(img, DISK_RDONLY, e);
	if (!d)
		goto out;
	struct cli_progress pr;
	cli_progress_init(&pr, "convert", false);
	struct disk_convert_opts co = {
		.format = "vmdk",
		/* A temporary the pack reads back at once: never fsynced. */
		.create = {.subformat = "streamOptimized", .unsafe_cache = true},
		.progress = cli_progress_cb,
		.progress_ctx = &pr,
	};
	int cr = disk_convert(d, vmdk, &co, e);
	cli_progress_done(&pr);
	if (cr < 0) {
		od_err_prefix(e, "%s", img);
		goto out;
	}
	struct stat st;
	if (stat(vmdk, &st) < 0) {
		od_err_errno(e, errno, "%s", vmdk);
		goto out;
	}
	g->disk_href = href;
	g->disk_capacity = disk_size(d);
	g->disk_file_size = (uint64_t)st.st_size;
	if (ovf_generate_descriptor(g, &desc, e) < 0)
		goto out;
	od_atomic_file af;
	if (od_atomic_open(&af, ovfp, 0644, e) < 0)
		goto out;
	af.no_sync = true; /* a temporary too */
	if (od_write_all(af.fd, desc.data, desc.len, ovfp, e) < 0) {
		od_atomic_abort(&af);
		goto out;
	}
	if (od_atomic_commit(&af, e) < 0)
		goto out;
	rc = ovf_pack(tmp, out, po, w, e);
out:
	if (d)
		disk_close(d);
	if (made) {
		if (vmdk)
			unlink(vmdk);
		if (ovfp)
			unlink(ovfp);
		rmdir(tmp);
	}
	od_buf_free(&desc);
	free(tmp);
	free(vmdk);
	free(ovfp);
	free(href);
	free(eula);
	return rc;
}

enum { O_NO_SYNC = 0x100, O_DO_SYNC, O_NIC_MODEL, O_SCSI, O_OS_TYPE, O_TRANSPORT }; /* long-only options, past every char */

/* NAME from `names` (case-insensitive) -> its spelling in `values` */
static const char *pick(const char *arg, const char *const *names, const char *const *values)
{
	for (size_t i = 0; names[i]; i++)
		if (!strcasecmp(arg, names[i]))
			return values[i];
	return NULL;
}

int cmd_pack(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"digest", required_argument, NULL, 'D'},
		{"sign", required_argument, NULL, 'S'},
		{"cert", required_argument, NULL, 'C'},
		{"compress", no_argument, NULL, 'Z'},
		{"no-sync", no_argument, NULL, O_NO_SYNC},
		{"sync", no_argument, NULL, O_DO_SYNC},
		{"chunk-size", required_argument, NULL, 'K'},
		{"from-disk", required_argument, NULL, 'F'},
		{"name", required_argument, NULL, 'N'},
		{"cpus", required_argument, NULL, 'P'},
		{"memory", required_argument, NULL, 'M'},
		{"nic", required_argument, NULL, 'I'},
		{"product", required_argument, NULL, 'p'},
		{"vendor", required_argument, NULL, 'V'},
		{"version", required_argument, NULL, 'r'},
		{"eula", required_argument, NULL, 'E'},
		{"prop", required_argument, NULL, 'Y'},
		{"nic-model", required_argument, NULL, O_NIC_MODEL},
		{"scsi", required_argument, NULL, O_SCSI},
		{"os-type", required_argument, NULL, O_OS_TYPE},
		{"transport", required_argument, NULL, O_TRANSPORT},
		CLI_COMMON_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	/* Bulk output that can be made again: atomic, not durable (--sync). */
	struct ovf_pack_opts po = {.no_sync = true};
	const char *out = NULL, *from = NULL, *eula = NULL;
	struct ovf_gen_opts g = {0};
	const char *nics[MAX_REPEAT];
	struct ovf_gen_prop props[MAX_REPEAT];
	char *propbuf[MAX_REPEAT];
	size_t nprops = 0;
	bool gen_opt = false;
	od_err e;
	int c;
	optind = 1;
	while ((c = cli_next_opt(argc, argv, "o:qvh", opts, usage)) != -1) {
		switch (c) {
		case CLI_OPT_HELP: return EXIT_OK;
		case 'o': out = optarg; break;
		case 'D':
			po.digest = ovf_digest_from_name(optarg);
			if (!po.digest)
				return cli_usage_error("pack", "--digest: '%s' is not sha1, sha256 or sha512", optarg);
			break;
		case 'S': po.sign_key = optarg; break;
		case 'C': po.sign_cert = optarg; break;
		case 'Z': po.compress = true; break;
		case O_NO_SYNC: po.no_sync = true; break;
		case O_DO_SYNC: po.no_sync = false; break;
		case 'K':
			if (od_parse_size(optarg, &po.chunk_size, &e) < 0 || po.chunk_size == 0)
				return cli_usage_error("pack", "--chunk-size: '%s' is not a positive size", optarg);
			break;
		case 'F': from = optarg; break;
		case 'N': g.name = optarg; break;
		case 'P': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || !optarg[0] || v == 0 || v > 1024)
				return cli_usage_error("pack", "--cpus: '%s' is not a number from 1 to 1024", optarg);
			g.cpus = (unsigned)v;
			gen_opt = true;
			break;
		}
		case 'M':
			if (od_parse_size(optarg, &g.memory_bytes, &e) < 0 || g.memory_bytes < (1u << 20) ||
			    g.memory_bytes % (1u << 20))
				return cli_usage_error("pack", "--memory: '%s' is not a whole number of MiB (e.g. 512M, 2G)", optarg);
			gen_opt = true;
			break;
		case 'I':
			if (g.nnics >= MAX_REPEAT)
				return cli_usage_error("pack", "more than %d --nic options", MAX_REPEAT);
			nics[g.nnics++] = optarg;
			gen_opt = true;
			break;
		case O_NIC_MODEL: {
			static const char *const n[] = { "e1000", "e1000e", "vmxnet3", "virtio", NULL };
			static const char *const v[] = { "E1000", "E1000e", "VmxNet3", "VirtIO", NULL };
			if (!(g.nic_model = pick(optarg, n, v)))
				return cli_usage_error("pack", "--nic-model %s: say e1000, e1000e, vmxnet3 or virtio", optarg);
			gen_opt = true;
			break;
		}
		case O_SCSI: {
			static const char *const n[] = { "lsilogic", "lsilogicsas", "pvscsi", "virtio", NULL };
			static const char *const v[] = { "lsilogic", "lsilogicsas", "VirtualSCSI", "virtio-scsi", NULL };
			if (!(g.scsi_model = pick(optarg, n, v)))
				return cli_usage_error("pack", "--scsi %s: say lsilogic, lsilogicsas, pvscsi or virtio", optarg);
			gen_opt = true;
			break;
		}
		case O_OS_TYPE:
			if (!optarg[0] || strspn(optarg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
					      strlen(optarg))
				return cli_usage_error("pack", "--os-type %s: a vSphere guest id, e.g. otherLinux64Guest", optarg);
			g.os_type = optarg;
			gen_opt = true;
			break;
		case O_TRANSPORT: {
			static const char *const n[] = { "iso", "guestinfo", "both", NULL };
			static const char *const v[] = { "iso", "com.vmware.guestInfo", "iso com.vmware.guestInfo", NULL };
			if (!(g.transport = pick(optarg, n, v)))
				return cli_usage_error("pack", "--transport %s: say iso, guestinfo or both", optarg);
			gen_opt = true;
			break;
		}
		case 'p': g.product = optarg; gen_opt = true; break;
		case 'V': g.vendor = optarg; gen_opt = true; break;
		case 'r': g.version = optarg; gen_opt = true; break;
		case 'E': eula = optarg; gen_opt = true; break;
		case 'Y': {
			/* KEY=TYPE[:DEFAULT]; the default may itself hold ':' and '='. */
			if (nprops >= MAX_REPEAT)
				return cli_usage_error("pack", "more than %d --prop options", MAX_REPEAT);
			char *cp = od_strdup(optarg);
			char *eq = cp ? strchr(cp, '=') : NULL;
			if (!eq || eq == cp) {
				free(cp);
				return cli_usage_error("pack", "--prop '%s': expected KEY=TYPE[:DEFAULT]", optarg);
			}
			*eq = 0;
			char *colon = strchr(eq + 1, ':');
			if (colon)
				*colon = 0;
			propbuf[nprops] = cp;
			props[nprops++] = (struct ovf_gen_prop){cp, eq + 1, colon ? colon + 1 : NULL};
			gen_opt = true;
			break;
		}
		default: return cli_usage_error("pack", "unknown option");
		}
	}
	if (from && argc - optind != 0)
		return cli_usage_error("pack", "--from-disk takes no other source");
	if (from && !g.name)
		return cli_usage_error("pack", "--from-disk needs --name NAME");
	if (!from && (gen_opt || g.name))
		return cli_usage_error("pack", "--name, --cpus, --memory, --nic, --product, --vendor, --version, --eula and --prop go with --from-disk");
	if (!from && argc - optind != 1)
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
	int rc;
	if (from) {
		g.nics = nics;
		g.props = props;
		g.nprops = nprops;
		rc = from_disk(from, &g, eula, out, &po, &w, &e);
	} else
		rc = ovf_pack(argv[optind], out, &po, &w, &e);
	for (size_t i = 0; i < nprops; i++)
		free(propbuf[i]);
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
