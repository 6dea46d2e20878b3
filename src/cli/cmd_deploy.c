/* cmd_deploy.c - 'ovfdeploy deploy' and 'ovfdeploy APPLIANCE.ova'.
 *
 * Only the conversation with the user lives here: options, the EULA
 * question, asking for property values on a terminal, printing.  The work is
 * src/deploy's. */
#include "config.h"
#include "cli/cli.h"
#include <errno.h>
#include "deploy/deploy.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ovfdeploy deploy [options] PACKAGE      deploy an appliance (then 'ovfdeploy start NAME')\n"
		"       ovfdeploy PACKAGE [options]             deploy it and run it on this terminal\n"
		"\n"
		"PACKAGE is an .ova, an .ovf with its files beside it, or a directory.\n"
		"\n"
		"Options:\n"
		"  --name NAME                 instance name (default: from the product name)\n"
		"  --deployment-option ID      which DeploymentOptionSection configuration (default: the default)\n"
		"  --prop KEY=VALUE            set a property (repeatable); KEY as in 'ovfdeploy inspect'\n"
		"  --props-file FILE           KEY=VALUE lines ('#' comments)\n"
		"  --accept-eula               accept the license agreements without asking\n"
		"  --net NETWORK=user|none     connect NETWORK's adapters to user networking or to nothing\n"
		"                              (default: user); 'user' or 'none' alone applies to all\n"
		"  --forward HOST:GUEST        forward 127.0.0.1:HOST to the guest's port GUEST (repeatable)\n"
		"  --backend auto|embedded|qemu  (default auto: the embedded runner with VT-x/AMD-V, else QEMU)\n"
		"  --firmware bios|efi         override the firmware the descriptor asks for (UEFI: OVMF)\n"
		"  --vnc ADDR:PORT             the screen on VNC at ADDR:PORT too, with a generated password\n"
		"                              (by default only on a UNIX socket in the instance directory);\n"
		"                              ADDR must be loopback (127.x.x.x) unless --vnc-remote\n"
		"  --vnc-remote                allow --vnc on an address other machines reach: VNC's\n"
		"                              password check is weak and the session unencrypted\n"
		"                              (prefer ssh -L to a 127.0.0.1 port)\n"
		"  --no-screen                 no display adapter: the serial console only\n"
		"  --hardware described|virtio the disk controllers and NICs the descriptor names (default), or\n"
		"                              virtio-blk and virtio-net for everything (guests known to have virtio)\n"
		"  --platform auto|vmware|generic  what the guest sees (default auto: VMware for a vmx-N\n"
		"                              VirtualSystemType: CPUID, SMBIOS, backdoor; else a generic PC)\n"
		"  --require-signature         refuse unsigned packages\n"
		"  --ca-file FILE              trust these CA certificates instead of the system store\n"
		"  --skip-verify               do not check the manifest and signature (dangerous)\n"
		"  --reverify                  verify again even if this unchanged file verified before\n"
		"  --start                     with 'deploy': start in the foreground afterwards\n"
		"  --connect URI               deploy to the libvirt host at URI instead of locally\n"
		"                              (qemu:///system, qemu+ssh://user@host/system; or $OVFDEPLOY_CONNECT)\n"
		"  --pool NAME                 libvirt storage pool for the volumes (default: default)\n"
		"  --network NAME              libvirt network for the adapters (default: default if it exists,\n"
		"                              else user-mode networking)\n"
		"  --bridge BRIDGE             attach the adapters to this host bridge instead\n"
		"  --convert qcow2|raw         with --connect: convert the disks before uploading them\n"
		"  --json                      print the instance as JSON (deploy without --start)\n"
		"  -q, --quiet                 print only errors\n"
		"\n"
		"Exit status: 0 deployed (and, when run, the guest powered off), 1 the package\n"
		"or a value is invalid or does not verify, 2 usage, 3 I/O error.\n");
}

static bool interactive(void)
{
	return isatty(STDIN_FILENO) && isatty(STDERR_FILENO) && !cli.json;
}

/* Read one line from the terminal; echo off for passwords. */
static char *ask(const char *prompt, bool secret)
{
	struct termios old, quiet;
	bool restore = false;
	fputs(prompt, stderr);
	fflush(stderr);
	if (secret && tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (restore) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n < 0) {
		free(line);
		return NULL;
	}
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	return line;
}

static int load_props_file(struct deploy_plan *plans, size_t nplans, const char *path, od_err *e)
{
	char *data;
	size_t len;
	if (od_read_file(path, 1 << 20, &data, &len, e) < 0) {
		od_err_prefix(e, "--props-file");
		return -1;
	}
	int rc = 0, lineno = 0;
	for (char *line = data, *next; rc == 0 && line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		size_t l = strlen(line);
		if (l && line[l - 1] == '\r')
			line[--l] = '\0';
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		char *eq = strchr(p, '=');
		if (!eq) {
			rc = od_err_set(e, OD_E_USAGE, "%s:%d: expected KEY=VALUE", path, lineno);
			break;
		}
		*eq = '\0';
		rc = deploy_plans_set_prop(plans, nplans, p, eq + 1, e);
		if (rc < 0)
			od_err_prefix(e, "%s:%d", path, lineno);
	}
	free(data);
	return rc;
}

static int handle_eulas(const struct deploy_plan *pl, bool accepted)
{
	const struct ovf_virtual_system *vs = pl->vs;
	if (!vs->neulas || accepted)
		return 0;
	if (!interactive()) {
		fprintf(stderr, "%s: the appliance comes with %zu license agreement%s: read %s with 'ovfdeploy inspect %s' and accept with --accept-eula\n",
			cli.prog, vs->neulas, vs->neulas > 1 ? "s" : "", vs->neulas > 1 ? "them" : "it", pl->pkg->path);
		return EXIT_INVALID;
	}
	for (size_t i = 0; i < vs->neulas; i++) {
		fprintf(stderr, "\n---- License agreement %zu of %zu ----\n%s\n--------\n", i + 1, vs->neulas,
			vs->eulas[i].license ? vs->eulas[i].license : "");
		char *a = ask("Accept this license agreement? [y/N] ", false);
		bool yes = a && (a[0] == 'y' || a[0] == 'Y');
		free(a);
		if (!yes) {
			fprintf(stderr, "%s: license agreement declined; nothing was deployed\n", cli.prog);
			return EXIT_INVALID;
		}
	}
	return 0;
}

static int ask_props(struct deploy_plan *pl)
{
	for (size_t i = 0; i < pl->nprops; i++) {
		struct deploy_prop *dp = &pl->props[i];
		if (dp->from_user || !dp->prop->user_configurable || dp->value)
			continue;
		for (int tries = 0; tries < 5; tries++) {
			char prompt[512];
			snprintf(prompt, sizeof prompt, "%s (%s, %s): ", dp->prop->label ? dp->prop->label : dp->key, dp->key,
				 dp->prop->type ? dp->prop->type : "string");
			char *v = ask(prompt, dp->prop->password);
			if (!v)
				return 0; /* end of input: deploy_plan_check will name the property */
			od_err e;
			int rc = deploy_plan_set_prop(pl, dp->key, v, &e);
			free(v);
			if (rc == 0)
				break;
			fprintf(stderr, "  %s\n", e.msg);
		}
	}
	return 0;
}

static void print_instance_json(const struct instance *in)
{
	json_w w;
	json_init(&w, stdout);
	json_obj_begin(&w, NULL);
	json_str(&w, "name", in->name);
	json_str(&w, "directory", in->dir);
	json_str(&w, "package", in->package);
	json_str(&w, "deployment_option", in->deployment_option);
	json_uint(&w, "cpus", in->spec.cpus);
	json_uint(&w, "memory_bytes", in->spec.memory);
	json_arr_begin(&w, "disks");
	for (size_t i = 0; i < in->spec.ndisks; i++)
		json_str(&w, NULL, in->spec.disks[i].path);
	json_arr_end(&w);
	json_arr_begin(&w, "forwards");
	for (size_t i = 0; i < in->spec.nnics; i++)
		for (size_t f = 0; f < in->spec.nics[i].nforwards; f++) {
			json_obj_begin(&w, NULL);
			json_uint(&w, "host", in->spec.nics[i].forwards[f].host_port);
			json_uint(&w, "guest", in->spec.nics[i].forwards[f].guest_port);
			json_obj_end(&w);
		}
	json_arr_end(&w);
	json_obj_begin(&w, "properties");
	for (size_t i = 0; i < in->nprops; i++)
		json_str(&w, in->prop_keys[i], in->prop_values[i]);
	json_obj_end(&w);
	json_obj_end(&w);
	json_finish(&w);
}

static int parse_forward(const char *s, struct vmspec_forward *f)
{
	unsigned h, g;
	char extra;
	if (sscanf(s, "%u:%u%c", &h, &g, &extra) != 2 || !h || !g || h > 65535 || g > 65535)
		return -1;
	f->host_port = (uint16_t)h;
	f->guest_port = (uint16_t)g;
	return 0;
}

int cmd_deploy(int argc, char **argv)
{
	enum { O_NAME = 256, O_OPTION, O_PROP, O_PROPS_FILE, O_EULA, O_NET, O_FORWARD, O_BACKEND, O_REQSIG,
	       O_CAFILE, O_SKIP, O_REVERIFY, O_START, O_RUN,
	       O_CONNECT, O_POOL, O_NETWORK, O_BRIDGE, O_CONVERT, O_PLATFORM, O_HARDWARE, O_FIRMWARE, O_VNC, O_VNC_REMOTE,
	       O_NO_SCREEN };
	static const struct option longopts[] = {
		{"name", required_argument, NULL, O_NAME},
		{"deployment-option", required_argument, NULL, O_OPTION},
		{"prop", required_argument, NULL, O_PROP},
		{"props-file", required_argument, NULL, O_PROPS_FILE},
		{"accept-eula", no_argument, NULL, O_EULA},
		{"net", required_argument, NULL, O_NET},
		{"forward", required_argument, NULL, O_FORWARD},
		{"backend", required_argument, NULL, O_BACKEND},
		{"firmware", required_argument, NULL, O_FIRMWARE},
		{"vnc", required_argument, NULL, O_VNC},
		{"vnc-remote", no_argument, NULL, O_VNC_REMOTE},
		{"no-screen", no_argument, NULL, O_NO_SCREEN},
		{"hardware", required_argument, NULL, O_HARDWARE},
		{"platform", required_argument, NULL, O_PLATFORM},
		{"require-signature", no_argument, NULL, O_REQSIG},
		{"ca-file", required_argument, NULL, O_CAFILE},
		{"skip-verify", no_argument, NULL, O_SKIP},
		{"reverify", no_argument, NULL, O_REVERIFY},
		{"start", no_argument, NULL, O_START},
		{"run", no_argument, NULL, O_RUN}, /* set by main for "ovfdeploy APP.ova" */
		{"connect", required_argument, NULL, O_CONNECT},
		{"pool", required_argument, NULL, O_POOL},
		{"network", required_argument, NULL, O_NETWORK},
		{"bridge", required_argument, NULL, O_BRIDGE},
		{"convert", required_argument, NULL, O_CONVERT},
		CLI_COMMON_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct deploy_opts o = {0};
	struct deploy_net_map nets[32];
	struct vmspec_forward fwds[VMSPEC_MAX_FORWARDS];
	const char *props[256], *props_files[16];
	size_t nprops = 0, nprops_files = 0;
	bool accept = false, start = false;
	struct lv_opts lvo = {0};  /* --connect: a libvirt host (cmd_libvirt.c) */
	const char *connect_uri = cli_libvirt_uri(argc, argv);
	bool lv_only = false;
	/* main() calls us as "deploy" for the implicit form; it passes --run. */
	int opt;
	optind = 1;
	while ((opt = cli_next_opt(argc, argv, "qvh", longopts, usage)) != -1) {
		od_err e;
		switch (opt) {
		case O_NAME: o.name = optarg; break;
		case O_OPTION: o.deployment_option = optarg; break;
		case O_PROP:
			if (nprops >= sizeof props / sizeof props[0])
				return cli_usage_error("deploy", "too many --prop options");
			if (!strchr(optarg, '='))
				return cli_usage_error("deploy", "--prop %s: expected KEY=VALUE", optarg);
			props[nprops++] = optarg;
			break;
		case O_PROPS_FILE:
			if (nprops_files >= sizeof props_files / sizeof props_files[0])
				return cli_usage_error("deploy", "too many --props-file options");
			props_files[nprops_files++] = optarg;
			break;
		case O_EULA: accept = true; break;
		case O_NET: {
			if (o.nnets >= sizeof nets / sizeof nets[0])
				return cli_usage_error("deploy", "too many --net options");
			char *eq = strchr(optarg, '=');
			const char *mode = eq ? eq + 1 : optarg;
			if (strcmp(mode, "user") && strcmp(mode, "none"))
				return cli_usage_error("deploy", "--net %s: expected NETWORK=user|none", optarg);
			if (eq)
				*eq = '\0';
			nets[o.nnets++] = (struct deploy_net_map){eq ? optarg : NULL, !strcmp(mode, "user")};
			o.nets = nets;
			break;
		}
		case O_FORWARD:
			if (o.nforwards >= VMSPEC_MAX_FORWARDS)
				return cli_usage_error("deploy", "at most %d --forward options", VMSPEC_MAX_FORWARDS);
			if (parse_forward(optarg, &fwds[o.nforwards]) < 0)
				return cli_usage_error("deploy", "--forward %s: expected HOSTPORT:GUESTPORT", optarg);
			o.nforwards++;
			o.forwards = fwds;
			break;
		case O_BACKEND:
			if (deploy_backend_parse(optarg, &o.backend, &e) < 0)
				return cli_usage_error("deploy", "%s", e.msg);
			break;
		case O_FIRMWARE:
			if (strcmp(optarg, "bios") && strcmp(optarg, "efi"))
				return cli_usage_error("deploy", "--firmware %s: expected bios or efi", optarg);
			o.firmware = optarg;
			break;
		case O_VNC: o.vnc_listen = optarg; break;
		case O_VNC_REMOTE: o.vnc_remote = true; break;
		case O_NO_SCREEN: o.no_screen = true; break;
		case O_HARDWARE:
			if (hw_mode_parse(optarg, &o.hardware, &e) < 0)
				return cli_usage_error("deploy", "%s", e.msg);
			break;
		case O_PLATFORM:
			if (deploy_platform_parse(optarg, &o.platform, &e) < 0)
				return cli_usage_error("deploy", "%s", e.msg);
			break;
		case O_REQSIG: o.require_signature = true; break;
		case O_CAFILE: o.ca_file = optarg;
			/* Checked now: an unsigned package would never read it, and a
			 * typo would pass unnoticed. */
			if (access(optarg, R_OK) != 0)
				return cli_usage_error("deploy", "--ca-file %s: %s", optarg, strerror(errno));
			break;
		case O_SKIP: o.skip_verify = true; break;
		case O_REVERIFY: o.reverify = true; break;
		case O_START:
		case O_RUN: start = true; break;
		case O_CONNECT: connect_uri = optarg; break;
		case O_POOL: lvo.pool = optarg; lv_only = true; break;
		case O_NETWORK: lvo.network = optarg; lv_only = true; break;
		case O_BRIDGE: lvo.bridge = optarg; lv_only = true; break;
		case O_CONVERT:
			if (strcmp(optarg, "qcow2") && strcmp(optarg, "raw"))
				return cli_usage_error("deploy", "--convert %s: expected qcow2 or raw", optarg);
			lvo.convert = optarg;
			lv_only = true;
			break;
		case CLI_OPT_HELP: return EXIT_OK;
		default:
			return cli_usage_error("deploy", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("deploy", "expected one package");
	const char *package = argv[optind];
	if (lv_only && !connect_uri)
		return cli_usage_error("deploy", "--pool, --network, --bridge and --convert need --connect URI");
	if (lvo.network && lvo.bridge)
		return cli_usage_error("deploy", "--network and --bridge exclude each other");
	if (connect_uri && (o.nforwards || o.backend != DEPLOY_BACKEND_AUTO || o.nnets))
		return cli_usage_error("deploy", "--forward, --net and --backend are for local instances; with --connect use --network or --bridge");
	if (connect_uri && o.vnc_listen)
		return cli_usage_error("deploy", "--vnc is for local instances (a libvirt host's screen is on a UNIX socket "
				       "there: 'virt-viewer --connect URI NAME')");
	lvo.firmware = o.firmware;
	lvo.no_screen = o.no_screen;
	od_err ve;
	if (o.vnc_listen && deploy_vnc_listen_check(o.vnc_listen, o.vnc_remote, &ve) < 0)
		return cli_usage_error("deploy", "%s", ve.msg);
	if (o.vnc_remote && !o.vnc_listen)
		return cli_usage_error("deploy", "--vnc-remote goes with --vnc ADDR:PORT");
	if (o.vnc_listen && o.no_screen)
		return cli_usage_error("deploy", "--vnc and --no-screen contradict each other");
	if (o.skip_verify && o.require_signature)
		return cli_usage_error("deploy", "--skip-verify and --require-signature contradict each other");
	if (o.skip_verify)
		fprintf(stderr, "%s: WARNING: --skip-verify: the package's manifest and signature are NOT checked; "
			"a corrupted or tampered appliance will be deployed as it is\n", cli.prog);

	struct cli_progress prog;
	cli_progress_init(&prog, "verifying", false);
	o.progress = cli_progress_cb;
	o.progress_ctx = &prog;
	od_err e;
	struct deploy_plan pl;
	if (deploy_plan_open(package, &o, &pl, &e) < 0) {
		cli_progress_done(&prog);
		return cli_fail(&e);
	}
	cli_progress_done(&prog);
	if (pl.verified && !cli.quiet && !cli.json) {
		size_t n = pl.verify_cached ? pl.cached_nfiles : pl.verify.nfiles;
		fprintf(stderr, "Verified %zu file%s%s%s", n, n == 1 ? "" : "s",
			pl.verify.has_cert ? ", signed by " : " (unsigned package)",
			pl.verify.has_cert && pl.verify.cert.subject ? pl.verify.cert.subject : "");
		if (pl.verify_cached) {
			char when[64] = "";
			time_t t = (time_t)pl.verified_at;
			struct tm tm;
			if (gmtime_r(&t, &tm))
				strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
			fprintf(stderr, " (remembered: this unchanged file verified on %s; --reverify checks again)", when);
		}
		fputc('\n', stderr);
	}
	/* A VirtualSystemCollection becomes one instance per VirtualSystem,
	 * NAME-SYSTEMID, each told its siblings' properties. */
	size_t nplans = pl.pkg->env->nsystems ? pl.pkg->env->nsystems : 1;
	struct deploy_plan *plans = calloc(nplans, sizeof *plans);
	struct deploy_plan **sibs = calloc(nplans * nplans, sizeof *sibs);
	struct instance *made = calloc(nplans, sizeof *made);
	size_t nmade = 0, nopen = 1;
	int rc = 0;
	if (!plans || !sibs || !made) {
		free(plans);
		free(sibs);
		free(made);
		deploy_plan_free(&pl);
		od_err_nomem(&e);
		return cli_fail(&e);
	}
	plans[0] = pl;
	for (; rc == 0 && nopen < nplans; nopen++)
		if (deploy_plan_open_system(&plans[0], nopen, &plans[nopen], &e) < 0)
			rc = cli_fail(&e);
	for (size_t i = 0; rc == 0 && nplans > 1 && i < nplans; i++) {
		size_t k = 0;
		for (size_t j = 0; j < nplans; j++)
			if (j != i)
				sibs[i * nplans + k++] = &plans[j];
		plans[i].siblings = &sibs[i * nplans];
		plans[i].nsiblings = k;
	}
	if (rc == 0 && nplans > 1 && !cli.quiet && !cli.json)
		fprintf(stderr, "The package holds a collection of %zu virtual systems: one instance each\n", nplans);
	for (size_t i = 0; rc == 0 && i < nplans; i++)
		rc = handle_eulas(&plans[i], accept);
	for (size_t i = 0; rc == 0 && i < nprops_files; i++)
		if (load_props_file(plans, nplans, props_files[i], &e) < 0)
			rc = cli_fail(&e);
	for (size_t i = 0; rc == 0 && i < nprops; i++) {
		char *kv = od_strdup(props[i]), *eq = kv ? strchr(kv, '=') : NULL;
		if (!eq) {
			free(kv);
			od_err_nomem(&e);
			rc = cli_fail(&e);
			break;
		}
		*eq = '\0';
		if (deploy_plans_set_prop(plans, nplans, kv, eq + 1, &e) < 0)
			rc = cli_fail(&e);
		free(kv);
	}
	for (size_t i = 0; rc == 0 && interactive() && i < nplans; i++) {
		if (nplans > 1 && plans[i].nprops)
			fprintf(stderr, "Properties of %s:\n", plans[i].vs->id ? plans[i].vs->id : "?");
		ask_props(&plans[i]);
	}
	for (size_t i = 0; rc == 0 && i < nplans; i++)
		if (deploy_plan_check(&plans[i], &e) < 0) {
			if (nplans > 1)
				od_err_prefix(&e, "%s", plans[i].vs->id ? plans[i].vs->id : "?");
			rc = cli_fail(&e);
		}
	if (rc == 0 && !cli.quiet && !cli.json && plans[0].config)
		fprintf(stderr, "Deployment option: %s%s%s\n", plans[0].config->id ? plans[0].config->id : "?",
			plans[0].config->label ? ", " : "", plans[0].config->label ? plans[0].config->label : "");
	if (rc == 0 && connect_uri) {
		rc = cli_libvirt_deploy(plans, nplans, &o, connect_uri, &lvo, start);
		for (size_t i = nopen; i-- > 0;)
			deploy_plan_free(&plans[i]);
		free(plans);
		free(sibs);
		free(made);
		return rc;
	}
	char *base = NULL;
	if (rc == 0 && nplans > 1) {
		base = o.name ? od_strdup(o.name) : deploy_default_name(&plans[0]);
		if (!base) {
			od_err_nomem(&e);
			rc = cli_fail(&e);
		}
	}
	for (size_t i = 0; rc == 0 && i < nplans; i++) {
		struct deploy_opts oi = o;
		char *member = NULL;
		if (nplans > 1) {
			member = deploy_member_name(base, &plans[i]);
			if (!member) {
				od_err_nomem(&e);
				rc = cli_fail(&e);
				break;
			}
			oi.name = member;
			if (i > 0)
				oi.nforwards = 0; /* host ports go to the first system only */
		}
		cli_progress_init(&prog, "preparing disks", false);
		int crc = deploy_create(&plans[i], &oi, &made[nmade], &e);
		cli_progress_done(&prog);
		free(member);
		if (crc < 0) {
			rc = cli_fail(&e);
			break;
		}
		struct instance *in = &made[nmade++];
		for (size_t w = 0; w < plans[i].warnings.n; w++)
			cli_warn("%s", plans[i].warnings.v[w]);
		if (!cli.quiet && !cli.json)
			fprintf(stderr, "Instance %s: %u CPU%s, %llu MiB, %zu disk%s, in %s\n", in->name, in->spec.cpus,
				in->spec.cpus == 1 ? "" : "s", (unsigned long long)(in->spec.memory >> 20), in->spec.ndisks,
				in->spec.ndisks == 1 ? "" : "s", in->dir);
	}
	free(base);
	if (rc != 0) {
		/* All or nothing: a collection half deployed is not deployed. */
		for (size_t i = 0; i < nmade; i++) {
			char *name = od_strdup(made[i].name);
			instance_free(&made[i]);
			if (name)
				instance_remove(name, NULL);
			free(name);
		}
		nmade = 0;
	}
	for (size_t i = nopen; i-- > 0;)
		deploy_plan_free(&plans[i]);
	free(plans);
	free(sibs);
	if (rc != 0) {
		free(made);
		return rc;
	}
	if (!start) {
		if (cli.json && nplans > 1)
			fputs("[\n", stdout);
		for (size_t i = 0; i < nmade; i++) {
			if (cli.json) {
				if (i)
					fputs(",\n", stdout);
				print_instance_json(&made[i]);
			} else {
				cli_info("Deployed %s; start it with 'ovfdeploy start %s'\n", made[i].name, made[i].name);
			}
		}
		if (cli.json && nplans > 1)
			fputs("]\n", stdout);
		for (size_t i = 0; i < nmade; i++)
			instance_free(&made[i]);
		free(made);
		return EXIT_OK;
	}
	char why[256];
	int status = 0;
	if (nmade > 1) {
		/* Several machines cannot share one terminal: each starts in the
		 * background, with its console a command away. */
		for (size_t i = 0; rc == 0 && i < nmade; i++) {
			deploy_instance_backend(&made[i], why, sizeof why);
			if (deploy_start(&made[i], false, &status, why, sizeof why, &e) < 0)
				rc = cli_fail(&e);
			else if (!cli.quiet)
				fprintf(stderr, "Started %s with %s; 'ovfdeploy console %s' attaches\n", made[i].name, why,
					made[i].name);
		}
		for (size_t i = 0; i < nmade; i++)
			instance_free(&made[i]);
		free(made);
		return rc;
	}
	struct instance in = made[0];
	free(made);
	deploy_instance_backend(&in, why, sizeof why);
	if (!cli.quiet)
		fprintf(stderr, "Starting %s with %s (Ctrl-A x quits)\n", in.name, why);
	if (!cli.quiet && in.spec.screen)
		fprintf(stderr, "Serial console here; screen on VNC at %s%s%s%s%s ('ovfdeploy display %s')\n",
			in.spec.vnc_socket, in.spec.vnc_listen ? " and " : "", in.spec.vnc_listen ? in.spec.vnc_listen : "",
			in.spec.vnc_listen ? ", password in " : "",
			in.spec.vnc_listen && in.spec.vnc_password_file ? in.spec.vnc_password_file : "", in.name);
	if (deploy_start(&in, true, &status, why, sizeof why, &e) < 0) {
		instance_free(&in);
		return cli_fail(&e);
	}
	instance_free(&in);
	return status == 0 ? EXIT_OK : EXIT_IO;
}
