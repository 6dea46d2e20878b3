/*
 * vmm.h - what the runner's parts share inside src/runner: the VM object,
 * the guest-physical translation, the port/MMIO dispatch table, interrupts,
 * and the devices' constructors.  Not a public header: the CLI uses vm.h.
 *
 * Everything here can be built without /dev/kvm: a VM made with
 * vm_new_fake() has RAM and a dispatch table but no KVM file descriptors,
 * so the unit tests drive devices against fake guest memory.
 */
#ifndef OD_VMM_H
#define OD_VMM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runner/vm.h"

struct vm;
struct vcpu;
struct virtio_blk;
struct virtio_rng;
struct virtio_net;
struct vmxnet3;
struct acpi_pm;
struct guestrpc;

/* ---- guest memory --------------------------------------------------------- */
#define VM_MAX_RAM 4
struct vm_ram {
	uint64_t gpa, size;
	uint8_t *hva;
};

/* The one translation every device uses: a host pointer to `len` bytes of
 * guest RAM at `gpa`, or NULL when any byte of the range is outside RAM
 * (or the range wraps).  A range may not straddle two RAM slots: the slots
 * are not contiguous in host memory. */
void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);

/* ---- port and MMIO dispatch ------------------------------------------------
 * Devices register ranges with a handler.  An access is dispatched to the
 * range that holds its first byte; `data` holds `size` (1, 2, 4 or 8)
 * little-endian bytes.  Reads of unclaimed ports/addresses return all ones,
 * writes are dropped, as on a PC bus with nothing behind the address. */
enum vm_space { VM_PIO = 0, VM_MMIO = 1 };
typedef void (*vm_io_fn)(void *opaque, uint64_t addr, uint8_t *data, unsigned size, bool is_write);
int vm_io_register(struct vm *vm, int space, uint64_t base, uint64_t len, vm_io_fn fn, void *opaque, od_err *e);
/* Remove the range starting at `base` owned by `opaque` (no-op if absent). */
void vm_io_unregister(struct vm *vm, int space, uint64_t base, void *opaque);
/* Dispatch one access; true if a device claimed it. */
bool vm_io_dispatch(struct vm *vm, int space, uint64_t addr, uint8_t *data, unsigned size, bool is_write);

/* ---- interrupts and life cycle ---------------------------------------------- */
/* Drive an ISA/IOAPIC interrupt line (level: 1 asserted, 0 deasserted). */
void vm_set_irq(struct vm *vm, unsigned irq, int level);
/* Deliver one message-signalled interrupt (the address/data pair a guest
 * wrote into an MSI-X table entry) through KVM_SIGNAL_MSI.  A fake VM only
 * counts it and keeps the last pair, for the tests. */
void vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data);
/* Ask the VM to stop with this reason (first reason wins). */
void vm_request_end(struct vm *vm, int reason);
/* End the run as a reset, saying how the guest asked for it (a string
 * the caller of vm_run gets in vm_config.end_detail). */
void vm_request_reset(struct vm *vm, const char *how);

/* ---- devices ---------------------------------------------------------------- */
struct serial;
struct serial *serial_new(struct vm *vm, uint16_t port, unsigned irq, int out_fd, od_err *e);
void serial_free(struct serial *s);
/* Feed received bytes (console input); returns how many fit the FIFO. */
size_t serial_receive(struct serial *s, const uint8_t *p, size_t n);
/* Where output goes from now on (-1: dropped); under the device lock. */
/* an attached console client gets the output too (the first output goes on) */
void serial_set_client(struct serial *s, int fd);

struct cmos;
struct cmos *cmos_new(struct vm *vm, uint64_t low_ram, uint64_t high_ram, unsigned ncpus, od_err *e);
void cmos_free(struct cmos *c);

struct fw_cfg;
struct fw_cfg *fw_cfg_new(struct vm *vm, od_err *e);
void fw_cfg_free(struct fw_cfg *f);
/* Add a numbered item or a named file; the data is copied. */
int fw_cfg_add_item(struct fw_cfg *f, uint16_t key, const void *data, size_t len, od_err *e);
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, size_t len, od_err *e);
int fw_cfg_add_u16(struct fw_cfg *f, uint16_t key, uint16_t v, od_err *e);
/* fw_cfg keys we use (QEMU's numbering, which SeaBIOS expects) */
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NOGRAPHIC 0x04
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_BOOT_MENU 0x0e
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_FILE_FIRST 0x20
#define FW_CFG_MAX_FILES 64

struct misc;
struct misc *misc_new(struct vm *vm, int fwlog_fd, od_err *e);
void misc_free(struct misc *m);
/* Keyboard bytes as the i8042 hands them to the guest (scan code set 1,
 * i.e. set 2 after translation); under dev_lock. */
bool misc_kbd_input(struct misc *m, const uint8_t *codes, size_t n);
/* Plug the PS/2 mouse into the AUX port (a machine with a screen has one;
 * without, a byte for the mouse times out as from an empty socket). */
void misc_attach_mouse(struct misc *m);
/* Mouse motion in counts (dx right, dy up, as PS/2 counts them), wheel
 * steps (dz, positive towards the user: scrolling down) and the buttons
 * held (PS2_MOUSE_LEFT/RIGHT/MIDDLE), queued in the mouse and sent to the
 * guest as the i8042 has room; under dev_lock. */
void misc_mouse_input(struct misc *m, int dx, int dy, int dz, unsigned buttons);

/* The PS/2 mouse (hw/ps2_mouse.c): its state, kept in the i8042. */
#define PS2_MOUSE_LEFT 0x01
#define PS2_MOUSE_RIGHT 0x02
#define PS2_MOUSE_MIDDLE 0x04
#define PS2_MOUSE_EVENTS 8
#define PS2_MOUSE_REPLY_MAX 5
#define PS2_MOUSE_PACKET_MAX 4
struct ps2_mouse_event {
	int dx, dy;       /* counts still to report, within +-65535 */
	int dz;           /* wheel steps still to report, within +-255 */
	uint8_t buttons;
};
struct ps2_mouse {
	bool enabled, remote, scaling21;
	uint8_t rate, resolution;
	uint8_t id;       /* 0 a standard mouse, 3 IntelliMouse (4-byte packets) */
	uint8_t rates[3]; /* the last three sample rates set: the knock */
	uint8_t pending;  /* 0xF3 or 0xE8 waiting for its argument */
	uint8_t buttons;  /* as last reported */
	struct ps2_mouse_event ev[PS2_MOUSE_EVENTS];
	unsigned evhead, evcount;
};
void ps2_mouse_reset(struct ps2_mouse *ms);
/* A byte the guest sent to the mouse: the reply (ACK first) in out, its
 * length returned. */
size_t ps2_mouse_write(struct ps2_mouse *ms, uint8_t v, uint8_t out[PS2_MOUSE_REPLY_MAX]);
void ps2_mouse_move(struct ps2_mouse *ms, int dx, int dy, int dz, unsigned buttons);
/* The size of the mouse's packets now: 3, or 4 once it is an IntelliMouse. */
size_t ps2_mouse_packet_size(const struct ps2_mouse *ms);
/* In stream mode with reporting on: the next packet of queued motion
 * (ps2_mouse_packet_size bytes), consumed; false when there is none. */
bool ps2_mouse_next_packet(struct ps2_mouse *ms, uint8_t out[PS2_MOUSE_PACKET_MAX]);
/* One standard packet: counts beyond +-255 are clamped with the overflow
 * bit set. */
void ps2_mouse_packet(int dx, int dy, unsigned buttons, uint8_t out[3]);

/* PCI: configuration mechanism 1, an i440FX host bridge and a PIIX3 ISA
 * bridge.  Devices are function 0 of a slot (or a further function of a
 * slot given in slot and fn, as the PIIX3's IDE); each has a config space image,
 * a mask of writable bits and up to six BARs that pci.c maps into the
 * dispatch table when the guest enables decoding. */
struct pci_bus;
struct pci_dev;
enum pci_bar_type { PCI_BAR_NONE = 0, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };
struct pci_bar {
	int type;
	uint64_t size;  /* power of two; I/O at least 4, memory at least 4096 */
	vm_io_fn fn;
	void *opaque;
	uint64_t mapped; /* address the range is registered at, 0 = not */
};
struct pci_dev {
	struct pci_bus *bus;
	unsigned slot;
	unsigned fn;     /* 0, or 1-7 for a further function of `slot` */
	uint8_t cfg[256];
	uint8_t wmask[256];
	struct pci_bar bar[6];
	int intx_level;
	unsigned cap_next, cap_last; /* capability list bookkeeping */
	void *opaque;
	/* optional hook after the guest wrote config space */
	void (*cfg_written)(struct pci_dev *d, unsigned off, unsigned size);
	/* optional hook before the guest reads config space, for registers
	 * whose value is computed at read time (virtio's pci_cfg window) */
	void (*cfg_reading)(struct pci_dev *d, unsigned off, unsigned size);
};
struct pci_bus *pci_new(struct vm *vm, od_err *e);
void pci_free(struct pci_bus *b);
/* Add a device in the first free slot (or `slot` if nonzero); `d` stays the
 * caller's, filled with IDs and BARs before the call. */
int pci_add(struct pci_bus *b, struct pci_dev *d, od_err *e);
/* Take a device off the bus (its BARs unmapped, its INTx lowered). */
void pci_remove(struct pci_dev *d);
/* Helpers to build a config space. */
void pci_init_header(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class_rev,
		     uint16_t sub_vendor, uint16_t sub_device);
void pci_set_bar(struct pci_dev *d, unsigned idx, int type, uint64_t size, vm_io_fn fn, void *opaque);
/* Append a capability of `len` bytes (first two bytes: id and next,
 * filled by this function); returns its offset, 0 when full. */
unsigned pci_add_cap(struct pci_dev *d, const uint8_t *cap, unsigned len);
/* An MSI capability with one vector, a 64-bit address and no per-vector
 * mask (offset, 0 when full); whether the guest enabled it; one message to
 * the address and data the guest set (a device that has MSI on must not
 * assert INTx). */
unsigned pci_add_msi(struct pci_dev *d);
bool pci_msi_enabled(const struct pci_dev *d, unsigned cap);
/* Did a config write of `size` bytes at `off` touch the MSI control word
 * (its enable bit: the device's INTx must follow)? */
bool pci_msi_control_written(unsigned cap, unsigned off, unsigned size);
void pci_msi_signal(struct vm *vm, const struct pci_dev *d, unsigned cap);
/* INTx (pin A) level, routed through the PIIX3 PIRQ registers. */
void pci_set_intx(struct pci_dev *d, int level);
/* Config space accesses as the guest makes them (exposed for tests). */
uint32_t pci_cfg_read(struct pci_bus *b, unsigned bdf, unsigned off, unsigned size);
void pci_cfg_write(struct pci_bus *b, unsigned bdf, unsigned off, unsigned size, uint32_t val);

/* The standard VGA with Bochs VBE (hw/vga.c): legacy ports and memory
 * window, DISPI at 0x1ce/0x1cf, the framebuffer in BAR 0; added to the PCI
 * bus when vm->pci exists.  vga_render() gives the current picture as RGB
 * (malloc'd, w*h*3), taking dev_lock. */
struct vga;
struct vga *vga_new(struct vm *vm, od_err *e);
void vga_free(struct vga *v);
int vga_render(struct vga *v, uint8_t **rgb, unsigned *w, unsigned *h, od_err *e);
/* Whether the guest wrote to the VGA (registers, memory) since the last
 * call: the picture can only have changed then. */
bool vga_changed(struct vga *v);

/* ---- sandbox (sandbox.c) ---- */
/* Confine the calling vCPU thread with seccomp (kills the process on a
 * system call outside its list). */
int sandbox_vcpu(od_err *e);

/* ---- the VM ------------------------------------------------------------------ */
struct vm_io_range {
	uint64_t base, len;
	vm_io_fn fn;
	void *opaque;
};
#define VM_MAX_IO_RANGES 128

struct vm {
	int kvm_fd, vm_fd; /* -1 in a fake VM */
	struct vm_ram ram[VM_MAX_RAM];
	unsigned nram;
	uint64_t low_ram, high_ram; /* RAM below the PCI hole, RAM above 4 GiB */
	uint8_t *ram_base;          /* the mapping holding all guest RAM */
	size_t ram_map_size;
	uint8_t *rom;               /* firmware mapped below 4 GiB */
	size_t rom_size;

	/* dispatch table, sorted by base; readers copy an entry under the
	 * lock and call the handler without it, so a handler may (un)register */
	pthread_rwlock_t io_lock;
	struct vm_io_range io[2][VM_MAX_IO_RANGES];
	unsigned nio[2];

	/* Devices run in vCPU threads (and the console thread): one lock for
	 * all device state keeps the model simple; exits are not hot here. */
	pthread_mutex_t dev_lock;

	/* interrupt lines as last set, for tests of fake VMs */
	int irq_level[24];
	/* MSIs sent by a fake VM: how many, and the last address/data */
	unsigned long msi_count;
	uint64_t msi_addr;
	uint32_t msi_data;
	/* KVM cannot inject MSIs (no KVM_CAP_SIGNAL_MSI): devices offer no MSI-X */
	bool no_msi;

	unsigned ncpus;
	bool no_sandbox;
	struct vcpu *vcpus;
	size_t run_size;
	int cpuid_nent;
	void *cpuid; /* struct kvm_cpuid2 * */

	atomic_int end_reason; /* 0 = running */
	int end_fd;            /* eventfd poked when end_reason is set */
	char end_msg[256];     /* detail for VM_END_ERROR */

	/* Pause (vm_pause/vm_resume in kvm.c): vCPUs leave KVM_RUN (signal
	 * plus immediate_exit) and wait on pause_cond; parked counts them. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond, parked_cond;
	atomic_bool pause_req;
	unsigned parked;
	bool paused;
	bool clock_saved;       /* kvmclock at the pause, restored at resume */
	uint64_t paused_clock;

	struct serial *serial;
	struct cmos *cmos;
	struct fw_cfg *fw_cfg;
	struct misc *misc;
	struct pci_bus *pci;
	struct acpi_pm *acpi_pm;
	struct virtio_rng *rng;
	struct virtio_net *net;
	struct vmxnet3 *vmxnet3; /* hw/vmxnet3.c, the NIC when net.model asks */
	struct virtio_blk *blk[VM_MAX_DISKS];
	unsigned nblk;
	struct scsi_hba *pvscsi; /* hw/pvscsi.c, when a disk is on PVSCSI */
	struct scsi_hba *lsi;    /* hw/lsi53c1030.c, when a disk is on LSI Logic */
	struct ide *ide;         /* hw/ide.c, when a disk is on IDE */
	struct vga *vga;           /* the screen, when asked for (vnc.c serves it) */
	struct vnc *vnc;

	/* VMware backdoor (hw/vmware_backdoor.c): on when guestrpc is set;
	 * kvm.c answers 32-bit INs on its port with the vCPU's registers */
	struct guestrpc *guestrpc;
	uint64_t tsc_khz;
	unsigned vmw_hw_version;
	bool vmware_identity;
};

/* ---- pause and resume (kvm.c) ----
 * vm_pause returns once every vCPU is out of KVM_RUN and parked (no guest
 * instruction runs until vm_resume); both are no-ops when already in the
 * state asked for.  Called from the event loop only. */
int vm_pause(struct vm *vm, od_err *e);
int vm_resume(struct vm *vm, od_err *e);

/* ---- the control socket (control.c) ----
 * A small subset of QMP on a UNIX socket, so that one client speaks to the
 * runner and to QEMU alike: the greeting, then one JSON object a line;
 * qmp_capabilities, stop, cont and query-status ("running" or "paused").
 * One client at a time; everything it sends is untrusted (lines are capped,
 * anything else gets an error reply). */
struct vm_control {
	struct vm *vm;
	int listen_fd, client;
	char buf[512];
	size_t len;
};
void vm_control_init(struct vm_control *c, struct vm *vm, int listen_fd);
/* The descriptor to poll now (the client, else the listening socket), or -1. */
int vm_control_fd(const struct vm_control *c);
/* That descriptor is ready: accept, or read and answer the client. */
void vm_control_ready(struct vm_control *c);
void vm_control_close(struct vm_control *c);
/* Answer one request line (exposed for the unit test); the reply, a
 * newline-terminated line, goes to out (NUL-terminated). */
void vm_control_request(struct vm *vm, const char *line, char *out, size_t outlen);

/* ---- the screen on VNC (vnc.c) ----
 * Listen on the UNIX socket cfg->vnc_socket if set (made now, mode 0600 by
 * umask-independent chmod), and accept on cfg->vnc_tcp_fd if set (with VNC
 * authentication: cfg->vnc_password), and serve vm->vga to VNC clients
 * from a thread of its own, which confines itself (sandbox_screen) unless
 * vm->no_sandbox and ends with the machine; keys and the pointer go to the
 * i8042 (which gets its PS/2 mouse here).  vnc_stop joins the thread; it
 * does not close vnc_tcp_fd, which is the caller's. */
struct vm_config;
struct vnc *vnc_start(struct vm *vm, const struct vm_config *cfg, od_err *e);
void vnc_stop(struct vnc *v);
/* An X11 keysym as the i8042 hands it over (set 1, an 0xe0 prefix for the
 * extended keys): 1 or 2 bytes in out[], 0 for a key we do not map. */
size_t vnc_keysym_to_set1(uint32_t keysym, bool down, uint8_t out[2]);

/* A VM without KVM, with `ram_size` bytes of RAM at guest address 0, for
 * unit tests of devices. */
struct vm *vm_new_fake(uint64_t ram_size, od_err *e);
void vm_free(struct vm *vm);

#endif
