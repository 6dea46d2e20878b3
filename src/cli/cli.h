/*
 * cli.h - what the subcommands share: exit codes, global options, error
 * printing, a JSON writer and a progress bar.  Only src/cli uses this.
 */
#ifndef OD_CLI_H
#define OD_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <getopt.h>
#include <stdio.h>

#include "util/util.h"

/* Documented exit codes (doc/ovfdeploy.1, EXIT STATUS).  Some commands add
 * their own above these (check uses qemu-img's: 2 corruption, 3 leaks, 63 no
 * check for this format). */
enum {
	EXIT_OK = 0,
	EXIT_INVALID = 1, /* input invalid, a check or verification failed */
	EXIT_USAGE = 2,   /* bad command line */
	EXIT_IO = 3,      /* I/O or internal error */
};

struct cli_globals {
	bool json;   /* --json: machine-readable output on stdout */
	bool quiet;  /* -q: only errors */
	int verbose; /* -v, repeatable */
	const char *prog; /* "ovfdeploy" */
};
extern struct cli_globals cli;

/* Print an error once, on stderr, and return the exit code it maps to. */
int cli_fail(const od_err *e);
/* Print a usage error ("ovfdeploy CMD: ...; try 'ovfdeploy CMD --help'") and return EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) OD_PRINTF(2, 3);
/* Print a warning on stderr unless -q. */
void cli_warn(const char *fmt, ...) OD_PRINTF(1, 2);
/* Print informational text on stdout unless -q or --json. */
void cli_info(const char *fmt, ...) OD_PRINTF(1, 2);
/* Map an od_err code to an exit status. */
int cli_exit_code(int errcode);

/* Common options every command accepts, for getopt_long tables. Returns true
 * if `opt` was one of them (and handled it). */
#define CLI_COMMON_LONGOPTS \
	{"json", no_argument, NULL, 'J'}, \
	{"quiet", no_argument, NULL, 'q'}, \
	{"verbose", no_argument, NULL, 'v'}, \
	{"help", no_argument, NULL, 'h'}
bool cli_common_opt(int opt);
/* getopt_long for a command, handling what every command shares: the
 * common options, and -h/--help, which prints `usage` on stdout and returns
 * CLI_OPT_HELP.  Returns the next option of the command's own, or -1.
 * Options may follow operands (`check disk.qcow2 --json`), as in
 * qemu-img; `--` ends them.  Set optind = 1 before the first call. */
#define CLI_OPT_HELP (-2)
int cli_next_opt(int argc, char **argv, const char *shortopts, const struct option *longopts,
		 void (*usage)(FILE *));

/* ---- JSON output ------------------------------------------------------------
 * A streaming writer: keys are escaped, strings are escaped (invalid UTF-8
 * becomes U+FFFD so the output is always valid JSON).  Pass key=NULL inside
 * arrays. */
typedef struct json_w {
	FILE *f;
	int depth;
	bool need_comma[64];
} json_w;
void json_init(json_w *w, FILE *f);
void json_obj_begin(json_w *w, const char *key);
void json_obj_end(json_w *w);
void json_arr_begin(json_w *w, const char *key);
void json_arr_end(json_w *w);
void json_str(json_w *w, const char *key, const char *val); /* NULL -> null */
void json_int(json_w *w, const char *key, int64_t v);
void json_uint(json_w *w, const char *key, uint64_t v);
void json_bool(json_w *w, const char *key, bool v);
void json_null(json_w *w, const char *key);
void json_finish(json_w *w); /* trailing newline */

/* The hardware plan of one configuration, for inspect (show_hwplan.c). */
struct ovf_hardware;
void cli_hwplan_text(const struct ovf_hardware *hw);
void cli_hwplan_json(json_w *w, const struct ovf_hardware *hw);

/* ---- progress bar --------------------------------------------------------------
 * Drawn on stderr when it is a terminal (or when forced with -p), never in
 * --json or -q mode.  Use cli_progress_cb as an od_progress_fn. */
struct cli_progress {
	bool enabled;
	const char *label;
	uint64_t last_draw_ms;
	int last_pct;
};
void cli_progress_init(struct cli_progress *p, const char *label, bool force);
void cli_progress_cb(void *ctx, uint64_t done, uint64_t total);
void cli_progress_done(struct cli_progress *p);

/* Print a package verification report (verify and unpack share it). */
struct ovf_package;
struct ovf_verify_report;
void cli_print_verify(const struct ovf_package *p, const struct ovf_verify_report *r);

/* Subcommands: argv[0] is the command name. */
#define CLI_COMMANDS(X) \
	X(inspect, "show what an appliance contains and needs") \
	X(validate, "check a descriptor for deployability and schema conformance") \
	X(verify, "check a package's manifest and signature in one pass") \
	X(pack, "make an OVA from an OVF directory, a descriptor or a disk image") \
	X(unpack, "extract an OVA safely into a directory") \
	X(convert, "convert a disk image between raw, qcow2 and VMDK") \
	X(check, "check a disk image for consistency") \
	X(info, "show a disk image's format, sizes and allocation") \
	X(compare, "compare the guest-visible content of two disk images") \
	X(run, "run a virtual machine in the embedded runner") \
	X(deploy, "deploy an appliance package and start it") \
	X(list, "list deployed instances") \
	X(start, "start a deployed instance") \
	X(stop, "stop a running instance") \
	X(pause, "pause a running instance (its vCPUs stop)") \
	X(resume, "let a paused instance run on") \
	X(console, "attach to an instance's serial console") \
	X(rm, "remove a deployed instance") \
	X(snapshot, "snapshot a stopped instance's disks; 'snapshot rm' removes one") \
	X(snapshots, "list an instance's snapshots") \
	X(revert, "put a stopped instance's disks back as they were at a snapshot") \
	X(export, "write a stopped instance, as it is now, into a new OVA") \
	X(display, "show how to connect to an instance's screen (VNC)") \
	X(screenshot, "take a picture of an instance's screen (PNG)") \
	X(sendkeys, "type on an instance's keyboard")

#define X(name, desc) int cmd_##name(int argc, char **argv);
CLI_COMMANDS(X)
#undef X

/* libvirt hosts (cmd_libvirt.c): the URI an instance command was given
 * (--connect URI or --connect=URI), else $OVFDEPLOY_CONNECT, else NULL (the
 * local backends).  $LIBVIRT_DEFAULT_URI is deliberately not used: it is
 * set for virsh on many machines, and must not move ovfdeploy's instances. */
struct deploy_plan;
struct deploy_opts;
struct lv_opts;
const char *cli_libvirt_uri(int argc, char **argv);
int cli_libvirt_deploy(struct deploy_plan *plans, size_t nplans, const struct deploy_opts *o, const char *uri,
		       const struct lv_opts *lo, bool start);
int cli_libvirt_instances(const char *cmd, int argc, char **argv);

/* pause/resume's report, for the local and libvirt commands (cmd_pause.c) */
void cli_report_pause(const char *name, bool paused);

#endif
