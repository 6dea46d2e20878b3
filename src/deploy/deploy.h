/*
 * deploy.h - from a verified package to a running appliance: instances on
 * disk, the backend-neutral machine description, and the QEMU backend.
 *
 * The embedded runner (src/runner) and QEMU run the same machine: the same
 * disk files (read-only bases with qcow2 overlays), the same OVF
 * environment CD, the same user-mode network forwards and serial console.
 * This library knows nothing of the CLI.
 */
#ifndef OD_DEPLOY_H
#define OD_DEPLOY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/util.h"
#include "ovf/ovf.h"

#define VMSPEC_MAX_DISKS 16
#define VMSPEC_MAX_NICS 8
#define VMSPEC_MAX_FORWARDS 16
#define VMSPEC_MAX_CTRLS 8

/* ---- the hardware plan (hwplan.c) ------------------------------------------
 * Which disk controllers, disks, CD-ROMs and network adapters the guest gets,
 * read from the descriptor once for both backends.  An appliance built on
 * VMware often carries only VMware's drivers (vmw_pvscsi, mptspi, vmxnet3,
 * ata_piix): it finds its root disk only on the controller it was built
 * with.  The plan keeps the described hardware; each backend then says per
 * model whether it has that device exactly or what stands in for it (and
 * which guest driver the stand-in needs).  The models are plain enums so that
 * the embedded runner's device list and QEMU's command line are made from
 * the same data (struct vmspec below). */
enum hw_ctrl_model {
	HW_CTRL_VIRTIO = 0,   /* no controller: the disk is its own virtio-blk function */
	HW_CTRL_IDE,          /* ResourceType 5: PIIX3 IDE, one channel per controller */
	HW_CTRL_LSILOGIC,     /* 6 "lsilogic": LSI Logic 53C1030 (Linux mptspi) */
	HW_CTRL_BUSLOGIC,     /* 6 "buslogic": BusLogic BT-958 (Linux BusLogic) */
	HW_CTRL_LSISAS,       /* 6 "lsilogicsas": LSI SAS 1068 (Linux mptsas) */
	HW_CTRL_PVSCSI,       /* 6 "VirtualSCSI": VMware PVSCSI (Linux vmw_pvscsi) */
	HW_CTRL_VIRTIO_SCSI,  /* 6 "virtio-scsi" */
	HW_CTRL_AHCI,         /* 20 "AHCI"/"vmware.sata.ahci": ICH9 AHCI (Linux ahci) */
	HW_CTRL_NVME,         /* 20/1 "vmware.nvme.controller": NVMe (Linux nvme) */
	HW_CTRL_NMODELS
};
enum hw_nic_model {
	HW_NIC_VIRTIO = 0, HW_NIC_E1000, HW_NIC_E1000E, HW_NIC_VMXNET3, HW_NIC_VMXNET2, HW_NIC_PCNET32,
	HW_NIC_NMODELS
};
/* --hardware: the described devices, or today's all-virtio machine for
 * guests known to have virtio drivers. */
enum hw_mode { HW_DESCRIBED = 0, HW_VIRTIO };
int hw_mode_parse(const char *s, enum hw_mode *out, od_err *e);
const char *hw_mode_name(enum hw_mode m);
/* Short names ("pvscsi", "vmxnet3", ...), as instance.conf and inspect write them. */
const char *hw_ctrl_name(enum hw_ctrl_model m);
const char *hw_nic_name(enum hw_nic_model m);
int hw_ctrl_parse(const char *s, enum hw_ctrl_model *out);
int hw_nic_parse(const char *s, enum hw_nic_model *out);
/* Slots on one controller: IDE 2 (master, slave), SCSI targets, AHCI ports,
 * NVMe namespaces - the smallest count any backend offers. */
unsigned hw_ctrl_units(enum hw_ctrl_model m);

#define HWPLAN_NONE ((size_t)-1)
struct hwplan_ctrl {
	enum hw_ctrl_model model;
	unsigned index;            /* IDE: the channel (0 primary, 1 secondary); else 0, 1, ... per model */
	const struct ovf_item *item; /* NULL for a controller the plan adds (the environment CD's) */
};
struct hwplan_disk {               /* a disk, or the environment CD */
	size_t hw_disk;            /* index in ovf_hardware.disks; HWPLAN_NONE for an added CD */
	size_t ctrl;               /* index in ctrls; HWPLAN_NONE = its own virtio-blk */
	unsigned unit;             /* IDE 0 master 1 slave; SCSI target; AHCI port; NVMe namespace - 1 */
	bool cdrom, env, boot;
};
struct hwplan_nic {
	size_t hw_nic;             /* index in ovf_hardware.nics */
	enum hw_nic_model model;
};
struct hwplan {
	enum hw_mode mode;
	struct hwplan_ctrl ctrls[VMSPEC_MAX_CTRLS]; size_t nctrls;
	struct hwplan_disk *disks; size_t ndisks;  /* disks and CD-ROMs in document order; an added environment CD last */
	struct hwplan_nic *nics; size_t nnics;
	size_t env;                /* index in disks of the environment CD */
	size_t boot;               /* index in disks of the boot disk, HWPLAN_NONE when diskless */
	struct ovf_warnings notes; /* placements the descriptor did not fix (free slots taken, unknown subtypes) */
};
int hwplan_make(const struct ovf_hardware *hw, enum hw_mode mode, struct hwplan *out, od_err *e);
void hwplan_free(struct hwplan *p);
/* On the embedded runner the environment CD joins the disks on its PVSCSI, LSI Logic
 * or IDE when any disk is there and the CD's own controller is one the runner
 * lacks (SATA; such guests have sr_mod). */
bool hwplan_embedded_cd_moves(const struct hwplan *p);
/* That adapter's runner device ("pvscsi", "lsilogic", "ide": the first
 * disk's that is on one), or NULL when the CD does not move. */
const char *hwplan_embedded_cd_bus(const struct hwplan *p);

/* ---- what to run ----------------------------------------------------------
 * struct vmspec is the machine's device list for both backends: controllers
 * (ctrls: model and index), each disk on its controller and slot (or its own
 * virtio-blk), the environment CD's controller and slot, each NIC's model.
 * The models are as described; a backend maps each with hw_ctrl_choice() /
 * hw_nic_choice() to the device it has (the embedded runner: one device file
 * per model, wired in deploy.c's embedded_config). */
struct vmspec_disk {
	char *path;     /* image file (for an overlay: the qcow2 overlay) */
	char *format;   /* "raw", "qcow2", "vmdk"; NULL = probe */
	bool readonly;
	bool on_ctrl;   /* on ctrls[ctrl] at `unit`; false = its own virtio-blk */
	unsigned ctrl, unit;
};
struct vmspec_ctrl {
	enum hw_ctrl_model model;  /* as described; the backend substitutes (hw_ctrl_choice) */
	unsigned index;            /* IDE: the channel */
};
struct vmspec_forward {
	uint16_t host_port;  /* bound on 127.0.0.1 */
	uint16_t guest_port;
};
struct vmspec_nic {
	char *network;       /* the descriptor's network name, for messages */
	bool user;           /* user-mode networking; false = not connected */
	enum hw_nic_model model; /* as described; the backend substitutes (hw_nic_choice) */
	struct vmspec_forward forwards[VMSPEC_MAX_FORWARDS];
	size_t nforwards;
};
enum vmspec_console {
	VMSPEC_CONSOLE_STDIO,  /* attached to our terminal; Ctrl-A x quits */
	VMSPEC_CONSOLE_SOCKET, /* a UNIX socket (background instances) */
};
struct vmspec {
	unsigned cpus;
	uint64_t memory;               /* bytes */
	struct vmspec_disk disks[VMSPEC_MAX_DISKS];
	size_t ndisks;
	char *cdrom;                   /* the OVF environment ISO, or NULL */
	bool cdrom_on_ctrl;            /* on ctrls[cdrom_ctrl] at cdrom_unit; false = the backend's default CD */
	unsigned cdrom_ctrl, cdrom_unit;
	struct vmspec_ctrl ctrls[VMSPEC_MAX_CTRLS];
	size_t nctrls;
	struct vmspec_nic nics[VMSPEC_MAX_NICS];
	size_t nnics;
	enum vmspec_console console;
	char *console_socket;          /* VMSPEC_CONSOLE_SOCKET */
	char *console_log;             /* every console byte is also appended here; may be NULL */
	char *control_socket;          /* QMP socket (QEMU) for graceful stop; may be NULL */
	char *pidfile;                 /* background instances */
	char *firmware;                /* NULL = the backend's default SeaBIOS */
	/* UEFI (deploy_efi.c): OVMF's code, mapped read-only, and this
	 * instance's own copy of its variable store, which the guest writes
	 * (boot entries) and which persists across stop/start. */
	bool efi;
	char *efi_code, *efi_vars;
	/* The screen (QEMU backend): a standard VGA adapter (Bochs VBE) served
	 * over VNC on vnc_socket, a UNIX socket in the instance directory,
	 * and also on vnc_listen ("ADDR:PORT") when asked, with the password
	 * in vnc_password_file (0600, made at deploy time). */
	bool screen;
	char *vnc_socket;
	char *vnc_listen;
	char *vnc_password_file;
	char *kernel, *initrd, *append; /* direct Linux boot, all optional */
	bool reboot;                   /* false: a guest reset ends the run */
	/* VMware platform (vmware.c): the guest sees VMware; the OVF
	 * environment goes to guestinfo.ovfEnv (transport
	 * com.vmware.guestInfo), with the CD only as a fallback when the
	 * descriptor does not also name "iso" */
	bool vmware;
	unsigned vmx_version;          /* from VirtualSystemType, 0 = none */
	bool guestinfo;
	bool cdrom_fallback_only;
	/* QEMU: -incoming URI, to start from a saved machine state
	 * (snapshot.c's revert); not stored in instance.conf */
	char *incoming;
};
void vmspec_free(struct vmspec *s);

/* ---- backends --------------------------------------------------------------- */
enum deploy_backend {
	DEPLOY_BACKEND_AUTO = 0,
	DEPLOY_BACKEND_EMBEDDED,
	DEPLOY_BACKEND_QEMU,
};
const char *deploy_backend_name(enum deploy_backend b);
int deploy_backend_parse(const char *s, enum deploy_backend *out, od_err *e);
/* Resolve AUTO: the embedded runner where hardware virtualization is usable
 * (vmx/svm and /dev/kvm opens), else QEMU.  `why` receives one sentence a user
 * can read ("... because ..."). */
enum deploy_backend deploy_backend_choose(enum deploy_backend want, char *why, size_t whylen);

/* What a backend makes of a model. */
struct hw_choice {
	const char *device;   /* the backend's device, e.g. QEMU's "pvscsi" */
	bool exact;           /* the device the descriptor names */
	const char *why;      /* substituted: why; NULL when exact */
	const char *driver;   /* the Linux driver the guest needs for `device` */
};
void hw_ctrl_choice(enum hw_ctrl_model m, enum deploy_backend b, struct hw_choice *out);
void hw_nic_choice(enum hw_nic_model m, enum deploy_backend b, struct hw_choice *out);

/* The QEMU backend.  The binary is $OVFDEPLOY_QEMU or qemu-system-x86_64 in
 * PATH; it uses KVM when hardware virtualization is usable, TCG otherwise
 * (KVM on a PVM host cannot boot a real guest kernel). */
struct qemu_argv {
	char **argv;
	size_t argc;
	bool kvm;
};
int qemu_build_argv(const struct vmspec *s, bool daemonize, struct qemu_argv *out, od_err *e);
void qemu_argv_free(struct qemu_argv *a);
/* Run in the foreground until QEMU exits; returns QEMU's exit status in
 * *status (0 after a guest power-off). */
int qemu_run(const struct vmspec *s, int *status, od_err *e);
/* Start in the background (daemonized, pid in s->pidfile). */
int qemu_start(const struct vmspec *s, od_err *e);
/* Ask the guest to power off through QMP (ACPI power button); after
 * `timeout_s` seconds stop it hard.  `pid` is the QEMU process. */
int qemu_stop(const char *control_socket, pid_t pid, unsigned timeout_s, bool *forced, od_err *e);

/* ---- instances ------------------------------------------------------------------
 * A deployed appliance lives in its own directory,
 * $XDG_DATA_HOME/ovfdeploy/instances/NAME (~/.local/share/... by default;
 * $OVFDEPLOY_HOME/instances overrides both, for tests).  It holds the
 * descriptor, the qcow2 overlays the guest writes to, the environment ISO, the
 * console log, and instance.conf: the machine and the choices made at deploy
 * time.  Two instances of one package share nothing writable. */
#define INSTANCE_NAME_MAX 64

struct instance {
	char *name;
	char *dir;
	char *package;            /* the package it was deployed from */
	char *deployment_option;  /* chosen DeploymentOptionSection id, or NULL */
	enum deploy_backend backend;
	struct vmspec spec;
	char **prop_keys, **prop_values; /* the property values delivered */
	size_t nprops;
};
void instance_free(struct instance *in);

/* Names are [A-Za-z0-9._-], at most INSTANCE_NAME_MAX, not starting with '.'
 * or '-': they become directory names and must not escape the store. */
int instance_name_check(const char *name, od_err *e);
/* Where ovfdeploy keeps state, created (0700) if needed; caller frees.
 * DATA: $OVFDEPLOY_HOME/SUB, $XDG_DATA_HOME/ovfdeploy/SUB or
 * ~/.local/share/ovfdeploy/SUB; CACHE: $OVFDEPLOY_HOME/cache/SUB,
 * $XDG_CACHE_HOME/ovfdeploy/SUB or ~/.cache/ovfdeploy/SUB. */
enum deploy_dir_kind { DEPLOY_DIR_DATA, DEPLOY_DIR_CACHE };
char *deploy_dir(enum deploy_dir_kind kind, const char *sub, od_err *e);
/* The store directory, created if needed; caller frees. */
char *instance_root(od_err *e);
/* Make NAME's directory (refusing an existing instance); sets in->dir. */
int instance_create(struct instance *in, od_err *e);
/* Write instance.conf (crash-safe). */
int instance_save(const struct instance *in, od_err *e);
int instance_load(const char *name, struct instance *in, od_err *e);
/* Names of all instances, sorted. */
int instance_list(char ***names, size_t *n, od_err *e);
void instance_list_free(char **names, size_t n);
/* The QEMU (or runner) process of a running instance, or 0 when stopped. */
/* Remove a directory tree, never following a symlink out of it (nftw,
 * FTW_PHYS); -1 with errno on failure. */
int instance_rm_tree(const char *dir);
pid_t instance_running_pid(const struct instance *in);
/* The process exporting the instance (a read lock on its pid file, which
 * keeps it from starting; export.c), or 0. */
pid_t instance_export_pid(const struct instance *in);
/* Remove a stopped instance and everything in its directory. */
int instance_remove(const char *name, od_err *e);
/* Whether NAME's directory lacks instance.conf: INSTANCE_CREATING while a
 * deploy makes it, INSTANCE_ABANDONED when that deploy died (SIGKILL, power
 * cut); INSTANCE_COMPLETE otherwise (absent too). */
enum { INSTANCE_COMPLETE, INSTANCE_CREATING, INSTANCE_ABANDONED };
int instance_partial(const char *name);

/* ---- deploying a package -------------------------------------------------------
 * deploy_plan_open() reads and verifies the package and works out what the
 * appliance needs; the caller (the CLI) shows EULAs and asks for property
 * values; deploy_plan_set_prop() checks each value against its type and
 * qualifiers; deploy_create() makes the instance: overlays over read-only
 * bases that are read where they lie in the package (or extracted once when
 * compressed or chunked), the environment ISO, instance.conf. */
struct deploy_net_map {
	const char *network;   /* descriptor network name, or NULL for "every network" */
	bool user;             /* user networking, or not connected */
};
/* The platform the guest sees: AUTO = VMware when VirtualSystemType names
 * vmx-N or the transports name com.vmware.guestInfo, else a generic PC
 * (vmware.c). */
enum deploy_platform { DEPLOY_PLATFORM_AUTO = 0, DEPLOY_PLATFORM_VMWARE, DEPLOY_PLATFORM_GENERIC };
struct deploy_opts {
	const char *name;                /* instance name; NULL = from the product */
	const char *deployment_option;   /* NULL = the default */
	bool skip_verify;
	bool reverify;                   /* ignore a remembered verification (verify_cache.c) */
	bool require_signature;
	const char *ca_file;
	enum deploy_backend backend;
	enum hw_mode hardware;           /* --hardware: described (default) or virtio */
	const struct deploy_net_map *nets; size_t nnets;
	const struct vmspec_forward *forwards; size_t nforwards; /* on the first user NIC */
	od_progress_fn progress;
	void *progress_ctx;
	const char *firmware;            /* "bios" or "efi"; NULL = as the descriptor says */
	bool no_screen;                  /* no display adapter (the serial console only) */
	const char *vnc_listen;          /* "ADDR:PORT": VNC on TCP too, with a generated password */
	bool vnc_remote;                 /* --vnc-remote: vnc_listen may be other than loopback */
	enum deploy_platform platform;
};

struct deploy_prop {
	const struct ovf_product *product;
	const struct ovf_property *prop;
	char *key;         /* full key: class.key.instance, as the guest sees it */
	char *value;       /* current value (default, then the user's); NULL = none */
	bool from_user;
};

/* The verification cache (verify_cache.c): a package file that verified is
 * remembered by its identity (path, inode, size, mtime, ctime) so that the
 * next deploy of the same, unchanged file skips the hashing.  Lookup fills
 * `r` with an ok verdict (and the signer's subject) on a hit; errors are
 * never reported, a miss just means verifying again. */
bool deploy_verify_cache_lookup(const char *package, const struct deploy_opts *o, struct ovf_verify_report *r,
				size_t *nfiles, long long *verified_at);
void deploy_verify_cache_store(const char *package, const struct deploy_opts *o, const struct ovf_verify_report *r);

struct deploy_plan {
	ovf_package *pkg;
	struct ovf_verify_report verify;
	bool verified;
	bool verify_cached;                /* the verdict came from verify_cache.c: */
	size_t cached_nfiles;              /*   files that verified then */
	long long verified_at;             /*   when (seconds since the epoch) */
	const struct ovf_virtual_system *vs;
	const struct ovf_config *config;   /* NULL when the package has no options */
	struct ovf_hardware hw;
	struct deploy_prop *props; size_t nprops;
	struct ovf_warnings warnings;       /* hardware mapped to what we provide, etc. */
	/* A VirtualSystemCollection deploys as one instance per VirtualSystem.
	 * The first plan owns the package and the verification; the others,
	 * from deploy_plan_open_system(), borrow them.  `siblings` (set by the
	 * caller) are the collection's other plans: their properties reach
	 * this system's OVF environment as Entity sections (DSP8027). */
	size_t system_index;
	bool borrowed;
	struct deploy_plan *const *siblings; size_t nsiblings;
};
int deploy_plan_open(const char *package, const struct deploy_opts *o, struct deploy_plan *pl, od_err *e);
/* Plan VirtualSystem `idx` (1 .. package's nsystems - 1) of the package
 * `first` was opened for, sharing its package, verification and
 * deployment option. */
int deploy_plan_open_system(const struct deploy_plan *first, size_t idx, struct deploy_plan *pl, od_err *e);
/* The instance name of a collection member: BASE-SYSTEMID (made safe). */
char *deploy_member_name(const char *base, const struct deploy_plan *pl);
/* Set a property by full key or, when unambiguous, by its short key. */
int deploy_plan_set_prop(struct deploy_plan *pl, const char *key, const char *value, od_err *e);
/* Set a property on every plan of a collection that has it (a collection's
 * own properties belong to all its members); an error when none has it. */
int deploy_plans_set_prop(struct deploy_plan *plans, size_t n, const char *key, const char *value, od_err *e);
/* Every property must now hold a value its type and qualifiers accept. */
int deploy_plan_check(const struct deploy_plan *pl, od_err *e);
void deploy_plan_free(struct deploy_plan *pl);
/* A default instance name from the product or system name. */
char *deploy_default_name(const struct deploy_plan *pl);

int deploy_create(struct deploy_plan *pl, const struct deploy_opts *o, struct instance *in, od_err *e);
/* Start an instance: in the foreground (console on the terminal, returns
 * when the guest stops, *guest_status = the backend's exit status) or in the
 * background.  `why` receives the backend choice, for the user. */
int deploy_start(struct instance *in, bool foreground, int *guest_status, char *why, size_t whylen, od_err *e);
int deploy_stop(struct instance *in, unsigned timeout_s, bool *forced, od_err *e);
/* ---- pause and resume (pause.c) ------------------------------------------------
 * Over the instance's control socket, which both backends serve with QMP
 * (QEMU's monitor; the embedded runner's subset, src/runner/control.c).
 * Pausing a stopped or paused instance, or resuming one that is not paused,
 * is an OD_E_USAGE error.  deploy_run_state asks a running instance. */
enum deploy_state { DEPLOY_STATE_STOPPED = 0, DEPLOY_STATE_RUNNING, DEPLOY_STATE_PAUSED };
int deploy_pause(struct instance *in, od_err *e);
int deploy_resume(struct instance *in, od_err *e);
int deploy_run_state(const struct instance *in, enum deploy_state *st, od_err *e);
/* One QMP connection for a sequence of commands (pause.c's client):
 * request is a bare command name or a whole JSON request object; reply
 * gets its "return" line; an "error" reply is an error with its desc.
 * deploy_qmp_word takes the string value of "key" from a reply line. */
struct deploy_qmp;
int deploy_qmp_open(struct deploy_qmp **q, const char *path, od_err *e);
int deploy_qmp_exec(struct deploy_qmp *q, const char *request, char *reply, size_t len, od_err *e);
void deploy_qmp_word(const char *line, const char *key, char *out, size_t len);
void deploy_qmp_close(struct deploy_qmp *q);
/* A listening UNIX socket at path (an old one removed first). */
int deploy_control_listen(const char *path, od_err *e);

/* The backend an instance will start on: deploy_backend_choose(), except
 * that a UEFI instance left to "auto" goes to QEMU (the embedded runner
 * boots BIOS firmware only). */
enum deploy_backend deploy_instance_backend(const struct instance *in, char *why, size_t whylen);

/* ---- UEFI firmware (deploy_efi.c) -------------------------------------------------
 * OVMF from Debian's ovmf package: a code image and a variable store
 * template of the same build ($OVFDEPLOY_OVMF_CODE and $OVFDEPLOY_OVMF_VARS
 * override; else /usr/share/OVMF/OVMF_CODE_4M.fd with OVMF_VARS_4M.fd, else
 * the 2 MiB pair OVMF_CODE.fd/OVMF_VARS.fd).  Sets s->efi, s->efi_code and
 * s->efi_vars = DIR/efi-vars.fd, a synced copy of the template. */
int deploy_efi_prepare(struct vmspec *s, const char *dir, od_err *e);
/* Is the instance's variable store there and the size of the code's
 * template?  (Checked before each start: QEMU would otherwise make a
 * machine whose flash is short.) */
int deploy_efi_check(const struct vmspec *s, od_err *e);
/* A UEFI machine's boot disk on a SCSI model OVMF cannot boot from moves,
 * with its controller's other disks, to a SATA (AHCI) controller, with a
 * warning (deploy_efi.c).  For the local deploy, libvirt and inspect. */
void hwplan_efi_bootable(struct hwplan *p, struct ovf_warnings *w);

/* ---- the screen (deploy_screen.c) ----------------------------------------------
 * "ADDR:PORT" for VNC on TCP: an IPv4 address and a port from 5900 to
 * 65535 (QEMU counts VNC displays from 5900), loopback only unless
 * remote_ok (vm_vnc_parse says why). */
int deploy_vnc_listen_check(const char *listen, bool remote_ok, od_err *e);
/* Make DIR/vnc-password: 8 random letters and digits (VNC authentication
 * uses 8 bytes), mode 0600, synced; sets s->vnc_password_file. */
int deploy_vnc_password(struct vmspec *s, const char *dir, od_err *e);
/* Whether a UNIX socket can be made at PATH's directory (some file systems,
 * e.g. 9p, cannot hold one); false with *why set to the errno when not. */
bool deploy_screen_socket_usable(const char *path, int *why);
/* What a started instance runs on, as recorded by deploy_start: "embedded",
 * "qemu-kvm" or "qemu-tcg" (into buf); -1 when never started. */
int deploy_running_backend(const struct instance *in, char *buf, size_t len);

/* The OVF environment document (ovf-env.xml) a plan's guest is given. */
int deploy_env_xml(const struct deploy_plan *pl, od_buf *xml, od_err *e);

/* ---- libvirt hosts (libvirt.c) ----------------------------------------------------
 * The same deploy onto a libvirt host, local or remote (qemu:///system,
 * qemu+ssh://host/system, ...), through libvirt's C API.  Nothing is kept
 * on the client: the instance is a libvirt domain whose <metadata> (our
 * namespace, LV_METADATA_NS) records the package, the deployment option,
 * the properties and the volumes it owns, so that any client lists it.
 *
 * Disks are uploaded to a storage pool as they are stored (a VMDK stays a
 * VMDK) into a base volume named by the disk's manifest digest, reused by
 * every later deployment of that package to that pool; each instance writes
 * to its own qcow2 overlay volume backed by the base.  A base counts only
 * once its completion marker volume (BASE.complete) exists: an upload that
 * was interrupted leaves a base without marker, which the next deploy
 * deletes and uploads again; so is a base whose allocation is short of its
 * size, even beside a marker.  Two deploys of one new package to one pool
 * at the same moment may each upload the base (the later wins); neither
 * trusts a partial one. */
#define LV_METADATA_NS "https://ovfdeploy.invalid/xmlns/libvirt-instance/1"
typedef struct lv_conn lv_conn;
struct lv_opts {
	const char *pool;        /* NULL = "default" */
	const char *network;     /* NULL: "default" if the host has it, else user-mode networking */
	const char *bridge;      /* a host bridge instead of a network */
	const char *convert;     /* NULL (upload as stored), "qcow2" or "raw" */
	const char *virt_type;   /* NULL: $OVFDEPLOY_LIBVIRT_VIRT_TYPE, else kvm when the host offers it, else qemu */
	bool skip_verify;        /* unverified disks get private bases, never shared ones */
	enum hw_mode hardware;   /* --hardware: the domain's controllers and NICs (hwplan.c) */
	const char *firmware;    /* --firmware bios|efi; NULL: as the descriptor says */
	bool no_screen;          /* --no-screen: no display (else VNC on a UNIX socket of the host's libvirt) */
	od_progress_fn progress;
	void *progress_ctx;
};
/* Open URI with authentication callbacks that ask on the terminal (never
 * echoing, printing or keeping a secret); an error names the URI. */
lv_conn *lv_open(const char *uri, od_err *e);
void lv_close(lv_conn *c);
/* Upload (or reuse) the bases, make the overlays and the environment CD,
 * define the domain NAME.  On failure everything made for this instance is
 * deleted again (complete bases stay: they are reusable). */
int lv_deploy(lv_conn *c, struct deploy_plan *pl, const char *name, const struct lv_opts *o, od_err *e);
/* The domain's <devices> for plan HP (lv_deploy's, exposed for tests): VOLS
 * are the overlay volumes of the plan's disks in its order, ENV_VOL the
 * environment CD; NICs on NETWORK, BRIDGE or user-mode networking.  And the
 * warnings for what libvirt gives in place of the described devices. */
int lv_devices_xml(const struct hwplan *hp, const char *pool, char *const *vols, size_t nvols, const char *env_vol,
		   const char *network, const char *bridge, const char *log, od_buf *x, od_err *e);
void lv_hw_warnings(const struct ovf_hardware *hw, const struct hwplan *hp, struct ovf_warnings *w);
/* What a libvirt domain is given for a described controller or NIC model
 * (device: libvirt's controller model or type, or NIC model), as
 * hw_ctrl_choice() says for the local backends; for inspect. */
void lv_ctrl_choice(enum hw_ctrl_model m, struct hw_choice *out);
void lv_nic_choice(enum hw_nic_model m, struct hw_choice *out);
int lv_start(lv_conn *c, const char *name, od_err *e);
/* Where a domain's screen is: *RUNNING, and *VNC_SOCKET (malloc'd, a path
 * on the host, "" until it runs); an error when it has no screen. */
int lv_display(lv_conn *c, const char *name, bool *running, char **vnc_socket, od_err *e);
/* Type on a running domain's keyboard: N chords of one or two Linux input
 * key codes pressed together (a second code 0: just one key). */
int lv_send_keys(lv_conn *c, const char *name, const unsigned (*chords)[2], size_t n, od_err *e);
/* A picture of a running domain's screen, as the host makes it: *DATA
 * (*LEN bytes, malloc'd) of type *MIME (QEMU: image/x-portable-pixmap). */
int lv_screenshot(lv_conn *c, const char *name, unsigned char **data, size_t *len, char **mime, od_err *e);
/* ACPI power button; destroyed after timeout_s (then *forced). */
int lv_stop(lv_conn *c, const char *name, unsigned timeout_s, bool *forced, od_err *e);
/* Pause or resume a running domain (errors as deploy_pause/deploy_resume). */
int lv_pause(lv_conn *c, const char *name, bool pause, od_err *e);
/* Undefine a stopped instance and delete its volumes, and each base no
 * other instance uses. */
int lv_remove(lv_conn *c, const char *name, od_err *e);
/* Relay the serial console between in_fd/out_fd until the guest stops,
 * input ends with no guest output for a while, or Ctrl-A x. */
int lv_console(lv_conn *c, const char *name, int in_fd, int out_fd, od_err *e);
struct lv_instance {
	char *name, *state, *package, *option, *pool, *console_log;
	size_t nbases;
};
/* Our instances on the host (domains carrying our metadata), by name. */
int lv_list(lv_conn *c, struct lv_instance **out, size_t *n, od_err *e);
void lv_list_free(struct lv_instance *v, size_t n);

/* ---- the VMware platform (vmware.c) ------------------------------------------ */
/* Which OVF environment transports an ovf:transport list names. */
void deploy_transports(const char *transport, bool *iso, bool *guestinfo);
/* A VirtualSystemType that names a VMware virtual hardware version, and
 * the highest N of its vmx-N (0 when none). */
bool deploy_is_vmware_system(const char *system_type);
unsigned deploy_vmx_version(const char *system_type);
int deploy_platform_parse(const char *s, enum deploy_platform *out, od_err *e);
/* The commands that reload kvm with enable_vmware_backdoor=1 on this host. */
const char *deploy_backdoor_fix(void);
/* Whether guestinfo reaches the guest's tools with backend `b`; `why`
 * says why not (with the fix) or how. */
bool deploy_guestinfo_reaches_tools(enum deploy_backend b, char *why, size_t whylen);
/* Before a start: when guestinfo is the appliance's only transport and will
 * not reach its tools with backend `b`, say so on stderr with the fix. */
void deploy_vmware_warn(const struct instance *in, enum deploy_backend b);
struct vm_vmware;
/* The runner's VMware settings for an instance started with backend `b`:
 * *env (caller
 * frees, after the run) holds guestinfo.ovfEnv; *attach_iso says whether
 * the environment CD goes in. */
int deploy_vmware_config(const struct instance *in, enum deploy_backend b, struct vm_vmware *vw, char **env,
			 bool *attach_iso, od_err *e);

/* ---- export (export.c) -----------------------------------------------------------
 * A stopped instance back into an OVA at `out`: its descriptor with the
 * instance's deployment option and property values as the new defaults
 * (passwords excepted, with a warning), its disks as they are now (base and
 * overlay read as one) as streamOptimized VMDKs, other files of the package
 * copied from the package it was deployed from; a SHA256 manifest, and a
 * signature with sign_key.  Crash-safe (nothing at `out` on failure); a
 * running instance is refused, and one being exported cannot start. */
struct deploy_export_opts {
	const char *sign_key, *sign_cert;  /* PEM; sign_cert NULL = the key file's certificates */
	bool sync;                         /* fsync the OVA before the rename */
	od_progress_fn progress;
	void *progress_ctx;
};
struct deploy_export_result {
	size_t ndisks;
	uint64_t disk_bytes;               /* the VMDKs' bytes */
	struct ovf_warnings warnings;
};
int deploy_export(const char *name, const char *out, const struct deploy_export_opts *o,
		  struct deploy_export_result *res, od_err *e);
void deploy_export_result_free(struct deploy_export_result *r);

/* ---- snapshots (snapshot.c) -------------------------------------------------------
 * Snapshots of a stopped instance's disks, kept in DIR/snapshots/TAG: the
 * instance's qcow2 overlays frozen there, the instance given fresh
 * overlays over them; revert makes fresh overlays over a snapshot's.  Each
 * has a checksummed, versioned metadata file; a damaged one is refused.
 * A running QEMU instance is snapshotted whole (RAM, devices and copies of
 * its disks, over QMP) and reverted by restarting QEMU from that state; a
 * running embedded one is refused (OD_E_USAGE).  TAG NULL: a name from
 * the time ("snap-YYYYMMDD-HHMMSS"), returned in tag_out. */
struct deploy_snapshot {
	char *tag;
	long long created;           /* seconds since the epoch */
	char kind[8];                /* "disk", "full", or "damaged" */
	char backend[16];
	uint64_t bytes;              /* on disk */
	char *damaged;               /* why the metadata was refused, else NULL */
};
int deploy_snapshot_tag_check(const char *tag, od_err *e);
int deploy_snapshot_take(const char *name, const char *tag, char *tag_out, size_t tag_len, od_err *e);
int deploy_snapshot_list(const char *name, struct deploy_snapshot **out, size_t *n, od_err *e);
void deploy_snapshot_list_free(struct deploy_snapshot *v, size_t n);
int deploy_snapshot_revert(const char *name, const char *tag, od_err *e);
/* What depends on the snapshot (the instance's disks, which must then be
 * stopped, and later snapshots) gets its data merged in first. */
int deploy_snapshot_remove(const char *name, const char *tag, od_err *e);
/* Finish a revert that was killed while switching the instance's disks
 * (its journal is there): start calls this so that a machine never boots
 * on half the disks of a snapshot.  Nothing to do is the usual case. */
int deploy_snapshot_settle(struct instance *in, od_err *e);
/* pause/resume: the user has decided whether the machine runs, so a pause
 * a killed snapshot left is no longer resumed by the next snapshot command. */
void deploy_snapshot_forget_pause(const struct instance *in);

#endif
