/* cmd_run.c - 'ovfdeploy run': boot a machine in the embedded runner.
 *
 * Only argument handling lives here: the disks are opened with the disk
 * library, the console is opened, and src/runner does the rest. */
#include "config.h"
#include "cli/cli.h"
#include "disk/disk.h"
#include "runner/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ovfdeploy run [OPTIONS] --disk FILE[,readonly] ...\n"
		"Run a virtual machine in the embedded KVM runner until it powers off or resets.\n"
		"\n"
		"  --cpus N              virtual CPUs (default 1)\n"
		"  --memory SIZE         guest RAM, e.g. 512M, 2G (default 512M)\n"
		"  --disk FILE[,readonly|,overlay=QCOW2]  a disk image (raw, qcow2, VMDK) as\n"
		"                        virtio-blk; with overlay, writes go to a qcow2 overlay\n"
		"                        (made on first use) and FILE is only read; repeatable.\n"
		"                        An image that can only be read (streamOptimized VMDK)\n"
		"                        runs with a temporary overlay in $TMPDIR\n"
		"                        With ,if=pvscsi it goes on a VMware PVSCSI controller\n"
		"                        (targets 0, 1, ... in order), ,if=lsilogic on an LSI Logic\n"
		"                        53C1030 (Linux's mptspi; SeaBIOS boots are not reliable),\n"
		"                        ,if=ide on the PIIX3's IDE (units 0-3: primary master,\n"
		"                        slave, secondary master, slave, in order);\n"
		"                        ,media=cdrom makes it a read-only CD-ROM there\n"
		"  --net user[,hostfwd=tcp:[ADDR]:PORT-:PORT]...[,model=virtio|vmxnet3]  a NIC\n"
		"                        (virtio-net, or VMware's VMXNET3) on user networking:\n"
		"                        DHCP gives the guest 10.0.2.15, DNS at 10.0.2.3;\n"
		"                        host ports forwarded to the guest\n"
		"  --kernel FILE         boot Linux directly, no firmware: a bzImage (64-bit\n"
		"                        boot protocol) or an ELF vmlinux (PVH entry point)\n"
		"  --initrd FILE         with --kernel: an initramfs\n"
		"  --append CMDLINE      with --kernel: the command line (default console=ttyS0)\n"
		"  --firmware FILE|bios|efi  flat firmware image ending at 4 GiB (default, bios:\n"
		"                        %s); efi (UEFI) is not available in the embedded\n"
		"                        runner yet: deploy with --backend qemu\n"
		"  --vmware              the guest sees VMware: CPUID 0x40000000 \"VMwareVMware\" (KVM's\n"
		"                        leaves at 0x40000100), SMBIOS \"VMware, Inc.\", the backdoor port\n"
		"  --guestinfo KEY=VALUE  a guestinfo key the guest reads through the backdoor's\n"
		"                        GuestRPC (e.g. guestinfo.ovfEnv); repeatable\n"
		"  --console stdio|file:PATH|unix:PATH  the serial console: the terminal\n"
		"                        (default; Ctrl-A x quits), a file, or a UNIX socket\n"
		"                        the runner listens on (one client at a time)\n"
		"  --no-rng              no virtio-rng device (default: one, fed by getrandom)\n"
		"  --vnc unix:PATH       a display adapter (standard VGA with VBE and its BIOS),\n"
		"                        a PS/2 keyboard and mouse, served by VNC on this UNIX\n"
		"                        socket (no password: mode 0600)\n"
		"  --vnc tcp:ADDR:PORT   ... and/or on TCP (IPv4, port 5900 or above), with VNC\n"
		"                        authentication; ADDR must be loopback (127.x.x.x)\n"
		"                        unless --vnc-remote\n"
		"  --vnc-password-file FILE  the password for --vnc tcp: (its first line; VNC\n"
		"                        uses 8 characters)\n"
		"  --vnc-remote          allow --vnc tcp: on an address other machines reach\n"
		"                        (VNC's password check is weak and the session\n"
		"                        unencrypted: prefer ssh -L to a 127.0.0.1 port)\n"
		"  --user NAME           started as root: open /dev/kvm, disks and console,\n"
		"                        then run as NAME before the guest starts\n"
		"  --no-sandbox          do not confine the runner's threads with seccomp (debugging)\n"
		"  --firmware-log FILE   write the firmware's debug port (0x402) to FILE; without\n"
		"                        it the port is absent (SeaBIOS then logs nothing)\n"
		"  --reboot              a guest reset reboots the machine instead of ending\n"
		"                        the run\n"
		"  --timeout SECONDS     stop the machine after this long (exit status 1)\n"
		"  --shutdown-timeout SECONDS  after SIGTERM (or SIGINT, SIGHUP) the guest gets\n"
		"                        the ACPI power button and this long to power off\n"
		"                        before it is stopped (default 30; exit status 1)\n"
		"  -q, --quiet           no messages but errors\n"
		"  --json                print how the run ended as JSON\n"
		"\n"
		"Exit status: 0 when the guest powered off or reset (or Ctrl-A x); 1 on timeout,\n"
		"or when the guest was stopped after ignoring a shutdown request; 2 on usage\n"
		"errors; 3 when the machine could not be started or failed.\n",
		VM_DEFAULT_FIRMWARE);
}

/* "user[,hostfwd=tcp:[ADDR]:HPORT-[10.0.2.15]:GPORT]..." as QEMU spells it */
static int parse_port(const char *s, size_t n, uint16_t *port)
{
	char buf[8];
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	char *end;
	unsigned long v = strtoul(buf, &end, 10);
	if (*end || v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int parse_net(const char *arg, struct vm_net *net)
{
	if (strncmp(arg, "user", 4) != 0 || (arg[4] && arg[4] != ','))
		return -1;
	net->enabled = true;
	const char *p = arg + 4;
	while (*p == ',') {
		p++;
		const char *next = strchr(p, ',');
		size_t len = next ? (size_t)(next - p) : strlen(p);
		char opt[128];
		if (len == 13 && !strncmp(p, "model=vmxnet3", 13)) {
			net->model = VM_NIC_VMXNET3;
			p += len;
			continue;
		}
		if (len == 12 && !strncmp(p, "model=virtio", 12)) {
			net->model = VM_NIC_VIRTIO;
			p += len;
			continue;
		}
		if (len >= sizeof opt || strncmp(p, "hostfwd=", 8) != 0 || net->nfwd == VM_MAX_HOSTFWD)
			return -1;
		memcpy(opt, p + 8, len - 8);
		opt[len - 8] = 0;
		struct vm_hostfwd *f = &net->fwd[net->nfwd];
		char *q = opt;
		if (!strncmp(q, "tcp:", 4))
			f->udp = false;
		else if (!strncmp(q, "udp:", 4))
			f->udp = true;
		else
			return -1;
		q += 4;
		char *colon = strchr(q, ':'), *dash = colon ? strchr(colon, '-') : NULL;
		if (!colon || !dash)
			return -1;
		*colon = 0;
		f->host_addr = 0;
		if (*q) {
			struct in_addr a;
			if (inet_pton(AF_INET, q, &a) != 1)
				return -1;
			f->host_addr = ntohl(a.s_addr);
		}
		if (parse_port(colon + 1, (size_t)(dash - colon - 1), &f->host_port) < 0)
			return -1;
		char *gcolon = strchr(dash + 1, ':');
		if (!gcolon)
			return -1;
		*gcolon = 0;
		if (dash[1] && strcmp(dash + 1, "10.0.2.15") != 0)
			return -1; /* the guest is always 10.0.2.15 */
		if (parse_port(gcolon + 1, strlen(gcolon + 1), &f->guest_port) < 0)
			return -1;
		net->nfwd++;
		p += len;
	}
	return *p ? -1 : 0;
}

/* SIGTERM, SIGINT and SIGHUP become a byte on this pipe, which the runner
 * turns into the ACPI power button (and a second one into a hard stop). */
static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	(void)sig;
	int saved = errno;
	char c = 1;
	ssize_t r = write(sig_pipe[1], &c, 1);
	(void)r; /* a full pipe already holds a request */
	errno = saved;
}

/* --disk BASE,overlay=OVL: guest writes go to a qcow2 overlay whose
 * backing file is BASE (which is only read); the overlay is made on first
 * use and reused after, so a streamOptimized VMDK straight from an OVA can
 * boot without conversion. */
static disk *open_overlay(const char *base, const char *ovl, od_err *e)
{
	if (access(ovl, F_OK) != 0) {
		disk *b = disk_open(base, DISK_RDONLY, e);
		if (!b)
			return NULL;
		char *abs = realpath(base, NULL);
		struct disk_create_opts o = { .backing_file = abs, .backing_format = disk_format(b) };
		disk *d = abs ? disk_create(ovl, "qcow2", disk_size(b), &o, e) : NULL;
		if (!abs)
			od_err_errno(e, errno, "%s", base);
		disk_close(b);
		free(abs);
		if (!d)
			return NULL;
		int rc = disk_commit(d, e);
		disk_close(d);
		if (rc < 0)
			return NULL;
	}
	return disk_open(ovl, DISK_RDWR, e);
}

/* --disk FILE of a format we can only read (streamOptimized VMDK): run it
 * with a qcow2 overlay in $TMPDIR that is removed as soon as it is open, so
 * the guest can write and nothing is left behind.  `why` is the error the
 * read-write open gave. */
static disk *open_temp_overlay(const char *path, const od_err *why, od_err *e)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	/* A private directory, so that nobody else can put a file at the name. */
	char *tmpd = od_asprintf("%s/ovfdeploy-overlay-XXXXXX", dir);
	char *ovl = tmpd ? od_asprintf("%s/overlay.qcow2", tmpd) : NULL;
	if (!ovl) {
		free(tmpd);
		od_err_nomem(e);
		return NULL;
	}
	if (!mkdtemp(tmpd)) {
		od_err_set(e, OD_E_IO, "%s; a temporary overlay could not be made in %s (%s): %s; run it with "
			   "--disk %s,overlay=FILE to keep the guest's writes in FILE, or --disk %s,readonly", why->msg,
			   dir, getenv("TMPDIR") ? "TMPDIR" : "TMPDIR is unset", strerror(errno), path, path);
		free(tmpd);
		free(ovl);
		return NULL;
	}
	memcpy(ovl, tmpd, strlen(tmpd));
	disk *d = open_overlay(path, ovl, e);
	unlink(ovl);
	rmdir(tmpd);
	if (!d)
		od_err_prefix(e, "%s; with a temporary overlay", why->msg);
	else
		cli_warn("%s; running it with a temporary overlay in %s, whose writes are lost when the machine "
			 "stops (keep them with --disk %s,overlay=FILE, or say --disk %s,readonly)", why->msg, dir, path,
			 path);
	free(tmpd);
	free(ovl);
	return d;
}

static int open_out(const char *path, int *fd, od_err *e)
{
	*fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (*fd < 0)
		return od_err_errno(e, errno, "%s: cannot create the output file", path);
	return 0;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "disk", required_argument, NULL, 'd' },
		{ "firmware", required_argument, NULL, 'f' },
		{ "console", required_argument, NULL, 'C' },
		{ "firmware-log", required_argument, NULL, 'L' },
		{ "timeout", required_argument, NULL, 't' },
		{ "shutdown-timeout", required_argument, NULL, 'S' },
		{ "no-rng", no_argument, NULL, 'R' },
		{ "no-sandbox", no_argument, NULL, 'N' },
		{ "user", required_argument, NULL, 'U' },
		{ "net", required_argument, NULL, 'n' },
		{ "reboot", no_argument, NULL, 'r' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "vnc", required_argument, NULL, 'W' },
		{ "vnc-password-file", required_argument, NULL, 'P' },
		{ "vnc-remote", no_argument, NULL, 'X' },
		{ "vmware", no_argument, NULL, 'V' },
		{ "guestinfo", required_argument, NULL, 'G' },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct vm_config cfg = {
		.cpus = 1,
		.memory = 512u << 20,
		.console_fd = STDOUT_FILENO,
		.console_in_fd = -1,
		.console_listen_fd = -1,
		.fwlog_fd = -1,
		.shutdown_fd = -1,
		.shutdown_grace_ms = 30000,
		.rng = true,
	};
	const char *disk_args[VM_MAX_DISKS];
	unsigned ndisk_args = 0;
	const char *console = "stdio", *fwlog = NULL;
	const char *vnc_tcp = NULL, *vnc_pwfile = NULL;
	bool reboot = false, vnc_remote = false;
	char *vnc_pw = NULL;
	od_err e;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "qvh", opts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'c': {
			errno = 0;
			unsigned long n = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > VM_MAX_CPUS)
				return cli_usage_error("run", "--cpus %s: expected 1 to %d", optarg, VM_MAX_CPUS);
			cfg.cpus = (unsigned)n;
			break;
		}
		case 'm':
			if (od_parse_size(optarg, &cfg.memory, &e) < 0)
				return cli_usage_error("run", "--memory: %s", e.msg);
			break;
		case 'd':
			if (ndisk_args == VM_MAX_DISKS)
				return cli_usage_error("run", "at most %d disks", VM_MAX_DISKS);
			disk_args[ndisk_args++] = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "efi"))
				return cli_usage_error("run", "--firmware efi: the embedded runner boots BIOS firmware only so far; "
						       "a UEFI appliance runs with 'ovfdeploy deploy --backend qemu' (OVMF)");
			cfg.firmware = strcmp(optarg, "bios") ? optarg : NULL;
			break;
		case 'C': console = optarg; break;
		case 'W':
			if (!strncmp(optarg, "unix:", 5) && optarg[5])
				cfg.vnc_socket = optarg + 5;
			else if (!strncmp(optarg, "tcp:", 4) && optarg[4])
				vnc_tcp = optarg + 4;
			else
				return cli_usage_error("run", "--vnc %s: expected unix:PATH or tcp:ADDR:PORT", optarg);
			break;
		case 'P': vnc_pwfile = optarg; break;
		case 'X': vnc_remote = true; break;
		case 'L': fwlog = optarg; break;
		case 't': {
			errno = 0;
			unsigned long n = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > 86400 * 365)
				return cli_usage_error("run", "--timeout %s: expected a number of seconds", optarg);
			cfg.timeout_ms = n > UINT_MAX / 1000 ? UINT_MAX : (unsigned)n * 1000;
			break;
		}
		case 'R': cfg.rng = false; break;
		case 'N': cfg.no_sandbox = true; break;
		case 'r': reboot = true; break;
		case 'k': cfg.kernel = optarg; break;
		case 'i': cfg.initrd = optarg; break;
		case 'a': cfg.cmdline = optarg; break;
		case 'V': cfg.vmware.identity = cfg.vmware.backdoor = true; break;
		case 'G': {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				return cli_usage_error("run", "--guestinfo %s: expected KEY=VALUE", optarg);
			if (cfg.vmware.nguestinfo == VM_MAX_GUESTINFO)
				return cli_usage_error("run", "at most %d --guestinfo", VM_MAX_GUESTINFO);
			*eq = '\0';
			cfg.vmware.guestinfo[cfg.vmware.nguestinfo][0] = optarg;
			cfg.vmware.guestinfo[cfg.vmware.nguestinfo][1] = eq + 1;
			cfg.vmware.nguestinfo++;
			cfg.vmware.backdoor = true;
			break;
		}
		case 'n':
			if (cfg.net.enabled)
				return cli_usage_error("run", "one --net for now");
			if (parse_net(optarg, &cfg.net) < 0)
				return cli_usage_error("run", "--net %s: expected user[,hostfwd=tcp|udp:[ADDR]:PORT-:PORT]...[,model=virtio|vmxnet3]",
						       optarg);
			break;
		case 'U': {
			struct passwd *pw = getpwnam(optarg);
			if (!pw)
				return cli_usage_error("run", "--user %s: no such user", optarg);
			if (geteuid() != 0)
				return cli_usage_error("run", "--user needs to be started as root");
			cfg.drop_privs = true;
			cfg.uid = pw->pw_uid;
			cfg.gid = pw->pw_gid;
			break;
		}
		case 'S': {
			errno = 0;
			unsigned long n = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > 3600)
				return cli_usage_error("run", "--shutdown-timeout %s: expected 1 to 3600 seconds", optarg);
			cfg.shutdown_grace_ms = (unsigned)n * 1000;
			break;
		}
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			if (!cli_common_opt(opt))
				return cli_usage_error("run", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
	if (cfg.kernel && cfg.firmware)
		return cli_usage_error("run", "--kernel and --firmware exclude each other");
	if (!cfg.kernel && (cfg.initrd || cfg.cmdline))
		return cli_usage_error("run", "--initrd and --append need --kernel");
	if (!ndisk_args && !cfg.kernel && !cfg.firmware)
		return cli_usage_error("run", "nothing to boot: give --disk FILE (a bootable image) or --kernel FILE");
	struct sockaddr_in vnc_sa;
	if (vnc_tcp && vm_vnc_parse(vnc_tcp, vnc_remote, &vnc_sa, &e) < 0)
		return cli_usage_error("run", "%s", e.msg);
	if (vnc_tcp && !vnc_pwfile)
		return cli_usage_error("run", "--vnc tcp:%s needs --vnc-password-file FILE", vnc_tcp);
	if ((vnc_pwfile || vnc_remote) && !vnc_tcp)
		return cli_usage_error("run", "--vnc-password-file and --vnc-remote go with --vnc tcp:ADDR:PORT");
	bool to_file = !strncmp(console, "file:", 5), to_unix = !strncmp(console, "unix:", 5);
	if (strcmp(console, "stdio") != 0 && !to_file && !to_unix)
		return cli_usage_error("run", "--console %s: expected stdio, file:PATH or unix:PATH", console);
	if ((to_file || to_unix) && !console[5])
		return cli_usage_error("run", "--console %.5s needs a path", console);
	if (to_unix && strlen(console + 5) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return cli_usage_error("run", "--console %s: path too long for a socket", console);

	int rc = EXIT_OK, end = VM_END_NONE;
	bool raw_tty = false, made_socket = false;
	struct termios saved;
	for (unsigned i = 0; i < ndisk_args; i++) {
		char *path = od_strdup(disk_args[i]);
		if (!path) {
			od_err_nomem(&e);
			rc = cli_fail(&e);
			goto out;
		}
		bool ro = false, cdrom = false;
		int bus = VM_DISK_VIRTIO;
		const char *overlay = NULL;
		char *dopts = strchr(path, ',');
		if (dopts)
			*dopts++ = 0;
		bool bad = false;
		for (char *o = dopts; o && *o && !bad;) {
			char *next = strchr(o, ',');
			if (next)
				*next++ = 0;
			if (!strcmp(o, "readonly"))
				ro = true;
			else if (!strncmp(o, "overlay=", 8) && o[8])
				overlay = o + 8;
			else if (!strcmp(o, "if=virtio"))
				bus = VM_DISK_VIRTIO;
			else if (!strcmp(o, "if=pvscsi"))
				bus = VM_DISK_PVSCSI;
			else if (!strcmp(o, "if=lsilogic"))
				bus = VM_DISK_LSILOGIC;
			else if (!strcmp(o, "if=ide"))
				bus = VM_DISK_IDE;
			else if (!strcmp(o, "media=cdrom"))
				cdrom = ro = true;
			else
				bad = true;
			o = next;
		}
		if (cdrom && bus == VM_DISK_VIRTIO) {
			rc = cli_usage_error("run", "--disk %s: media=cdrom needs a SCSI or IDE bus (if=pvscsi, lsilogic or ide)", disk_args[i]);
			free(path);
			goto out;
		}
		if (bad || (ro && overlay)) {
			rc = cli_usage_error("run", "--disk %s: expected FILE[,readonly|,overlay=FILE][,if=virtio|pvscsi|lsilogic|ide][,media=cdrom]", disk_args[i]);
			free(path);
			goto out;
		}
		disk *d;
		if (overlay)
			d = open_overlay(path, overlay, &e);
		else
			d = disk_open(path, ro ? DISK_RDONLY : DISK_RDWR, &e);
		if (!d && !ro && !overlay && e.code == OD_E_UNSUPPORTED) {
			/* Readable but not writable (streamOptimized VMDK)? */
			od_err e2;
			disk *r = disk_open(path, DISK_RDONLY, &e2);
			if (r) {
				disk_close(r);
				d = open_temp_overlay(path, &e, &e2);
				e = e2;
			}
		}
		free(path);
		if (!d) {
			rc = cli_fail(&e);
			goto out;
		}
		cfg.disks[cfg.ndisks].disk = d;
		cfg.disks[cfg.ndisks].readonly = ro;
		cfg.disks[cfg.ndisks].bus = bus;
		cfg.disks[cfg.ndisks].cdrom = cdrom;
		cfg.ndisks++;
	}
	if (to_file) {
		if (open_out(console + 5, &cfg.console_fd, &e) < 0) {
			rc = cli_fail(&e);
			goto out;
		}
	} else if (to_unix) {
		/* a stale socket from an earlier run is replaced; anything else
		 * at that path is left alone */
		struct stat st;
		if (lstat(console + 5, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(console + 5);
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		strcpy(sun.sun_path, console + 5);
		int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (ls < 0 || bind(ls, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(ls, 1) < 0) {
			od_err_errno(&e, errno, "console socket %s", console + 5);
			if (ls >= 0)
				close(ls);
			rc = cli_fail(&e);
			goto out;
		}
		made_socket = true;
		cfg.console_listen_fd = ls;
		cfg.console_fd = -1; /* nothing is shown until a client connects */
		/* a client that goes away must not kill us with SIGPIPE */
		signal(SIGPIPE, SIG_IGN);
	} else {
		cfg.console_in_fd = STDIN_FILENO;
		/* a terminal goes raw so that keys reach the guest one by one;
		 * Ctrl-A x is the way out */
		if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
			struct termios t = saved;
			cfmakeraw(&t);
			t.c_oflag |= OPOST | ONLCR;
			if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
				raw_tty = true;
		}
	}
	if (fwlog && open_out(fwlog, &cfg.fwlog_fd, &e) < 0) {
		rc = cli_fail(&e);
		goto out;
	}
	/* VNC on TCP: the password's first line, and the socket opened here,
	 * before vm_run drops privileges (--user) and confines the threads */
	if (vnc_tcp) {
		size_t len;
		if (od_read_file(vnc_pwfile, 4096, &vnc_pw, &len, &e) < 0) {
			rc = cli_fail(&e);
			goto out;
		}
		vnc_pw[strcspn(vnc_pw, "\r\n")] = '\0';
		if (!*vnc_pw) {
			rc = cli_usage_error("run", "%s: an empty VNC password", vnc_pwfile);
			goto out;
		}
		cfg.vnc_password = vnc_pw;
		if ((cfg.vnc_tcp_fd = vm_vnc_listen(vnc_tcp, vnc_remote, &e)) < 0) {
			rc = cli_fail(&e);
			goto out;
		}
	}

	struct sigaction sa = { .sa_handler = on_signal }, old_term, old_int, old_hup;
	sigemptyset(&sa.sa_mask);
	bool sigs = false;
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
		sigaction(SIGTERM, &sa, &old_term);
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGHUP, &sa, &old_hup);
		cfg.shutdown_fd = sig_pipe[0];
		sigs = true;
	}
	/* --reboot: a reset builds the machine anew, which is the most
	 * thorough reset there is; --timeout covers all the boots */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned total_ms = cfg.timeout_ms;
	int run_rc;
	/* --reboot builds the next machine in this thread, which the main
	 * seccomp filter would forbid (open, new KVM objects) */
	cfg.confine_caller = !reboot;
	char end_how[128] = "";
	cfg.end_detail = end_how, cfg.end_detail_len = sizeof end_how;
	for (;;) {
		run_rc = vm_run(&cfg, &end, &e);
		if (run_rc < 0 || end != VM_END_RESET || !reboot)
			break;
		if (total_ms) {
			struct timespec t;
			clock_gettime(CLOCK_MONOTONIC, &t);
			uint64_t spent = (uint64_t)(t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
			if (spent >= total_ms) {
				end = VM_END_TIMEOUT;
				break;
			}
			cfg.timeout_ms = total_ms - (unsigned)spent;
		}
	}
	cfg.timeout_ms = total_ms;
	if (sigs) {
		sigaction(SIGTERM, &old_term, NULL);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGHUP, &old_hup, NULL);
		close(sig_pipe[0]);
		close(sig_pipe[1]);
		sig_pipe[0] = sig_pipe[1] = -1;
	}
	if (run_rc < 0) {
		if (raw_tty)
			tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		raw_tty = false;
		rc = cli_fail(&e);
		goto out;
	}
	if (raw_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	raw_tty = false;
	if (end == VM_END_TIMEOUT) {
		fprintf(stderr, "%s run: timed out after %u s\n", cli.prog, cfg.timeout_ms / 1000);
		rc = EXIT_INVALID;
	} else if (end == VM_END_STOPPED) {
		fprintf(stderr, "%s run: the guest did not power off when asked; stopped\n", cli.prog);
		rc = EXIT_INVALID;
	}
	if (cli.json) {
		json_w w;
		json_init(&w, stdout);
		json_obj_begin(&w, NULL);
		json_str(&w, "end", vm_end_name(end));
		json_obj_end(&w);
		json_finish(&w);
	} else if (cli.verbose && !cli.quiet) {
		fprintf(stderr, "%s run: the machine ended: %s%s%s%s\n", cli.prog, vm_end_name(end),
			*end_how ? " (" : "", end_how, *end_how ? ")" : "");
	}
out:
	if (raw_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	for (unsigned i = 0; i < cfg.ndisks; i++)
		disk_close(cfg.disks[i].disk);
	if (cfg.console_fd != STDOUT_FILENO && cfg.console_fd >= 0)
		close(cfg.console_fd);
	if (cfg.console_listen_fd >= 0)
		close(cfg.console_listen_fd);
	if (made_socket)
		unlink(console + 5);
	if (cfg.fwlog_fd >= 0)
		close(cfg.fwlog_fd);
	if (cfg.vnc_tcp_fd > 0)
		close(cfg.vnc_tcp_fd);
	if (vnc_pw) {
		explicit_bzero(vnc_pw, strlen(vnc_pw));
		free(vnc_pw);
	}
	return rc;
}
