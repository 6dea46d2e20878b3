/*
 * vm.h - the embedded runner: a small KVM virtual machine monitor.
 *
 * The runner knows nothing of OVF or of the CLI: it takes a configuration
 * (CPUs, memory, disks as disk handles, NICs, firmware or kernel) and runs
 * it until the guest powers off, resets or fails.
 */
#ifndef OD_VM_H
#define OD_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

/* ---- the host (host.c) ---- */
bool vm_host_has_hw_virt(void);  /* vmx or svm in /proc/cpuinfo */
bool vm_host_kvm_usable(void);   /* /dev/kvm opens read-write */
bool vm_host_kvm_is_pvm(void);   /* KVM is PVM: guest kernel code is emulated */
/* The kvm module passes a guest's user-space IN/OUT on VMware's backdoor
 * port to us (module parameter enable_vmware_backdoor=1): without it
 * open-vm-tools cannot reach GuestRPC, only the guest kernel can. */
bool vm_host_kvm_vmware_backdoor(void);

/* VM_DEFINITIONS_BELOW */

/* ---- running a machine (vm.c) ---- */
#define VM_MAX_DISKS 8
#define VM_MAX_CPUS 32
#define VM_DEFAULT_FIRMWARE "/usr/share/seabios/bios.bin"
/* SeaBIOS with every boot driver (PVSCSI, MPT, NVMe) */
#define VM_SEABIOS_256K "/usr/share/seabios/bios-256k.bin"
/* The option ROM of the display adapter (vm_config.vnc_socket). */
#define VM_VGA_BIOS "/usr/share/seabios/vgabios-stdvga.bin"

struct disk; /* src/disk/disk.h */

/* The controller a disk is on (0, the default, is virtio-blk). */
enum vm_disk_bus { VM_DISK_VIRTIO = 0, VM_DISK_PVSCSI = 1, VM_DISK_LSILOGIC = 2, VM_DISK_IDE = 3 };
struct vm_disk {
	struct disk *disk;    /* opened by the caller, closed by the caller */
	bool readonly;
	int bus;              /* enum vm_disk_bus; the disks of a SCSI bus take
				 targets 0, 1, ... of one controller of that
				 kind, in config order; IDE disks units 0-3
				 (primary master, slave, secondary master,
				 slave) */
	bool cdrom;           /* a CD-ROM (2048-byte blocks, read-only);
				 SCSI and IDE buses only */
};

/* User networking (libslirp): the guest is 10.0.2.15 by DHCP. */
#define VM_MAX_HOSTFWD 8
struct vm_hostfwd {
	bool udp;
	uint32_t host_addr;   /* IPv4, host byte order; 0 = any */
	uint16_t host_port, guest_port;
};
/* The NIC model the guest sees (0, the default, is virtio-net). */
enum vm_nic_model { VM_NIC_VIRTIO = 0, VM_NIC_VMXNET3 = 1 };
struct vm_net {
	bool enabled;
	int model;            /* enum vm_nic_model */
	struct vm_hostfwd fwd[VM_MAX_HOSTFWD];
	unsigned nfwd;
};

/* The VMware platform a VMware appliance expects (guestrpc.h).  backdoor:
 * port 0x5658 with GuestRPC, serving the guestinfo keys (key/value pairs,
 * e.g. "guestinfo.ovfEnv"), read-only for the guest, which may add its own.
 * identity: CPUID 0x40000000 says "VMwareVMware" (KVM's leaves move to
 * 0x40000100, where Linux still finds them: kvmclock and the PV features
 * stay) and SMBIOS says "VMware, Inc." / "VMware Virtual Platform". */
#define VM_MAX_GUESTINFO 64
struct vm_vmware {
	bool backdoor;
	bool identity;
	unsigned hw_version;     /* vmx-N of the descriptor, 0 = unknown */
	const char *guestinfo[VM_MAX_GUESTINFO][2];
	unsigned nguestinfo;
};

struct vm_config {
	unsigned cpus;          /* 1..VM_MAX_CPUS */
	uint64_t memory;        /* bytes of guest RAM, multiple of 1 MiB */
	const char *firmware;   /* flat image mapped to end at 4 GiB; NULL = SeaBIOS */
	const char *kernel;     /* direct Linux boot instead of firmware: a bzImage */
	const char *initrd;     /* with kernel: an initramfs, or NULL */
	const char *cmdline;    /* with kernel: NULL = "console=ttyS0" */
	int console_fd;         /* where the UART's output goes */
	int console_in_fd;      /* console input, -1 for none */
	char *end_detail;       /* if set (end_detail_len bytes): how a reset came about, for logs */
	size_t end_detail_len;
	int console_listen_fd;  /* a listening socket: its one client at a time
				   is the console (output and input), -1 none */
	int fwlog_fd;           /* firmware debug port 0x402 output, -1 to drop */
	struct vm_disk disks[VM_MAX_DISKS];
	unsigned ndisks;
	bool rng;               /* add a virtio-rng device */
	struct vm_net net;      /* a NIC on user networking */
	bool no_sandbox;        /* skip the threads' seccomp filters */
	bool confine_caller;    /* the calling thread runs the event loop under
				   the main seccomp filter and stays confined
				   after vm_run returns: set it when all the
				   caller does afterwards is tidy up (close,
				   flush disks, restore the terminal, print,
				   unlink the console socket) and exit;
				   see src/runner/sandbox.c for the list */
	bool drop_privs;        /* after opening everything, become uid/gid */
	unsigned uid, gid;
	unsigned timeout_ms;    /* 0 = none */
	int shutdown_fd;        /* readable = please shut down (e.g. a signal's
				   self-pipe), -1 for none: the first time the
				   guest gets the ACPI power button, a second
				   time or after shutdown_grace_ms it is stopped */
	unsigned shutdown_grace_ms;
	const char *vnc_socket; /* the screen: a VGA, served by VNC on this UNIX
				   socket (no password: the socket's mode
				   guards it); NULL = none */
	int vnc_tcp_fd;         /* the screen on TCP too: a listening socket
				   from vm_vnc_listen (opened by the caller,
				   before any privilege drop or seccomp filter,
				   and closed by it after vm_run), whose
				   clients must pass VNC authentication with
				   vnc_password; 0 or -1 for none.  Either
				   this or vnc_socket gives the machine its
				   VGA and PS/2 mouse. */
	const char *vnc_password; /* for vnc_tcp_fd: VNC authentication uses
				   its first 8 bytes (at least 1 needed) */
	struct vm_vmware vmware; /* all zero: a plain PC */
	int control_listen_fd;  /* a listening UNIX socket for pause/resume
				   (control.c: a small subset of QMP, one
				   client at a time); 0 or -1 for none (stdin
				   is never the control socket) */
};

/* Whether the machine has a screen (VGA, PS/2 mouse, VNC). */
static inline bool vm_config_has_screen(const struct vm_config *c)
{
	return c->vnc_socket || c->vnc_tcp_fd > 0;
}

/* ---- VNC on TCP (vnc.c) ----
 * "ADDR:PORT": an IPv4 address and a port from 5900 to 65535 (VNC displays
 * count from 5900).  Only a loopback address (127.0.0.0/8) unless
 * remote_ok: VNC authentication is a DES challenge on an 8-character
 * password, and the session is not encrypted, so an address other
 * machines reach hands them the guest's console once the password leaks
 * or is guessed; ssh -L to a loopback port is the safe way in from
 * elsewhere.  Errors are usage errors (OD_E_USAGE) naming LISTEN. */
struct sockaddr_in;
int vm_vnc_parse(const char *listen, bool remote_ok, struct sockaddr_in *sa, od_err *e);
/* Parse as above, then a listening TCP socket there (SO_REUSEADDR,
 * close-on-exec): the fd, or -1 with e set (say, the port is in use). */
int vm_vnc_listen(const char *listen, bool remote_ok, od_err *e);

/* Why a run ended. */
enum vm_end {
	VM_END_NONE = 0,
	VM_END_POWEROFF = 1, /* the guest powered off */
	VM_END_RESET = 2,    /* the guest reset the machine */
	VM_END_TIMEOUT = 3,  /* timeout_ms passed */
	VM_END_QUIT = 4,     /* the user asked (console escape, signal) */
	VM_END_ERROR = 5,    /* the VMM failed, or the guest did something fatal */
	VM_END_STOPPED = 6,  /* asked to shut down, the guest did not: stopped */
};
const char *vm_end_name(int end);

/* Build the machine and run it until it ends.  Returns 0 with *end set to
 * the reason, or -1 when the machine could not be built or failed while
 * running (then e says why). */
int vm_run(const struct vm_config *cfg, int *end, od_err *e);

#endif
