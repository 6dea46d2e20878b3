/* instance.c - deployed instances on disk.
 *
 * instance.conf is plain "key=value" lines, values escaped (\\n, \\\\), so a
 * user can read it and a property value with a newline cannot forge keys.
 * It is written crash-safe, like every output of ours. */
#include "config.h"
#include "deploy/deploy.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_MAX (1u << 20)

void instance_free(struct instance *in)
{
	free(in->name);
	free(in->dir);
	free(in->package);
	free(in->deployment_option);
	vmspec_free(&in->spec);
	for (size_t i = 0; i < in->nprops; i++) {
		free(in->prop_keys[i]);
		free(in->prop_values[i]);
	}
	free(in->prop_keys);
	free(in->prop_values);
	memset(in, 0, sizeof *in);
}

int instance_name_check(const char *name, od_err *e)
{
	size_t n = strlen(name);
	if (n == 0 || n > INSTANCE_NAME_MAX)
		return od_err_set(e, OD_E_USAGE, "instance name must be 1 to %d characters", INSTANCE_NAME_MAX);
	if (name[0] == '.' || name[0] == '-')
		return od_err_set(e, OD_E_USAGE, "instance name '%s' must not start with '.' or '-'", name);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return od_err_set(e, OD_E_USAGE,
					  "instance name '%s': only letters, digits, '.', '_' and '-' are allowed", name);
	}
	return 0;
}

static int mkdir_p(char *path, od_err *e)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int rc = mkdir(path, 0700);
		int err = errno;
		*p = '/';
		if (rc < 0 && err != EEXIST)
			return od_err_errno(e, err, "cannot create %s", path);
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return od_err_errno(e, errno, "cannot create %s", path);
	return 0;
}

/* Where ovfdeploy keeps state of one kind, created (0700) if missing:
 * $OVFDEPLOY_HOME/SUB (cache: $OVFDEPLOY_HOME/cache/SUB), else under the XDG
 * data or cache home, else under ~/.local/share or ~/.cache. */
char *deploy_dir(enum deploy_dir_kind kind, const char *sub, od_err *e)
{
	bool cache = kind == DEPLOY_DIR_CACHE;
	const char *home = getenv("OVFDEPLOY_HOME");
	const char *xdg = getenv(cache ? "XDG_CACHE_HOME" : "XDG_DATA_HOME");
	const char *user = getenv("HOME");
	char *dir;
	if (home && *home)
		dir = od_asprintf("%s/%s%s", home, cache ? "cache/" : "", sub);
	else if (xdg && *xdg)
		dir = od_asprintf("%s/ovfdeploy/%s", xdg, sub);
	else if (user && *user)
		dir = od_asprintf("%s/%s/ovfdeploy/%s", user, cache ? ".cache" : ".local/share", sub);
	else {
		od_err_set(e, OD_E_USAGE, "cannot find a place for %s: set HOME or %s", sub,
			   cache ? "XDG_CACHE_HOME" : "XDG_DATA_HOME");
		return NULL;
	}
	if (!dir) {
		od_err_nomem(e);
		return NULL;
	}
	if (mkdir_p(dir, e) < 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

char *instance_root(od_err *e)
{
	return deploy_dir(DEPLOY_DIR_DATA, "instances", e);
}

static char *instance_dir(const char *name, od_err *e)
{
	if (instance_name_check(name, e) < 0)
		return NULL;
	char *root = instance_root(e);
	if (!root)
		return NULL;
	char *dir = od_asprintf("%s/%s", root, name);
	free(root);
	if (!dir)
		od_err_nomem(e);
	return dir;
}

/* Run-time files live in the instance directory under fixed names, so they
 * are derived rather than stored. */
static int instance_runtime_paths(struct instance *in)
{
	struct vmspec *s = &in->spec;
	free(s->pidfile);
	free(s->console_socket);
	free(s->control_socket);
	free(s->console_log);
	free(s->vnc_socket);
	s->vnc_socket = od_asprintf("%s/vnc.sock", in->dir);
	s->pidfile = od_asprintf("%s/pid", in->dir);
	s->console_socket = od_asprintf("%s/console.sock", in->dir);
	s->control_socket = od_asprintf("%s/control.sock", in->dir);
	s->console_log = od_asprintf("%s/console.log", in->dir);
	return s->pidfile && s->console_socket && s->control_socket && s->console_log && s->vnc_socket ? 0 : -1;
}

/* An instance is complete once instance.conf exists: deploy writes it last.
 * Until then the deploying process holds an flock on the directory (this
 * fd, one instance per process), so that a directory without instance.conf
 * and without the lock is known for what a killed deploy left: list shows it
 * as incomplete, and rm or a new deploy of the same name removes it. */
static int creating_fd = -1;
static dev_t creating_dev;
static ino_t creating_ino;

static void creating_release(void)
{
	if (creating_fd >= 0)
		close(creating_fd);
	creating_fd = -1;
}

/* Whether `dir` is the instance this process is creating. */
static bool creating_is(const char *dir)
{
	struct stat st;
	return creating_fd >= 0 && stat(dir, &st) == 0 && st.st_dev == creating_dev && st.st_ino == creating_ino;
}

int instance_partial(const char *name)
{
	if (instance_name_check(name, NULL) < 0)
		return INSTANCE_COMPLETE;
	od_err ig;
	char *dir = instance_dir(name, &ig);
	char *conf = dir ? od_asprintf("%s/instance.conf", dir) : NULL;
	int state = INSTANCE_COMPLETE;
	struct stat st;
	if (conf && lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && lstat(conf, &st) < 0 && errno == ENOENT) {
		state = INSTANCE_ABANDONED;
		if (creating_is(dir)) {
			state = INSTANCE_CREATING;
		} else {
			int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
				state = INSTANCE_CREATING;
			if (fd >= 0)
				close(fd);
		}
	}
	free(conf);
	free(dir);
	return state;
}


int instance_create(struct instance *in, od_err *e)
{
	char *dir = instance_dir(in->name, e);
	if (!dir)
		return -1;
	/* What a killed deploy left under this name is not an instance. */
	if (instance_partial(in->name) == INSTANCE_ABANDONED)
		instance_rm_tree(dir);
	if (mkdir(dir, 0700) < 0) {
		int err = errno;
		if (err == EEXIST && instance_partial(in->name) == INSTANCE_CREATING)
			od_err_set(e, OD_E_USAGE, "an instance named '%s' is being deployed by another process", in->name);
		else if (err == EEXIST)
			od_err_set(e, OD_E_USAGE, "an instance named '%s' exists already (remove it with 'ovfdeploy rm %s', or choose another --name)",
				   in->name, in->name);
		else
			od_err_errno(e, err, "cannot create %s", dir);
		free(dir);
		return -1;
	}
	creating_release();
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	int lr = fd < 0 ? od_err_errno(e, errno, "%s", dir) : od_tmp_lock(fd, dir, e);
	if (lr == 0 && fstat(fd, &st) < 0)
		lr = od_err_errno(e, errno, "%s", dir);
	if (lr != 0) {
		/* lr > 0: another deploy took our fresh directory for a leftover. */
		if (lr > 0)
			od_err_set(e, OD_E_USAGE, "an instance named '%s' is being deployed by another process", in->name);
		if (fd >= 0)
			close(fd);
		free(dir);
		return -1;
	}
	creating_fd = fd;
	creating_dev = st.st_dev;
	creating_ino = st.st_ino;
	free(in->dir);
	in->dir = dir;
	if (instance_runtime_paths(in) < 0)
		return od_err_nomem(e);
	return 0;
}

/* ---- instance.conf ------------------------------------------------------------- */

static int put(od_buf *b, const char *key, const char *val)
{
	if (!val)
		return 0;
	if (od_buf_printf(b, "%s=", key) < 0)
		return -1;
	for (const char *p = val; *p; p++) {
		int rc = *p == '\n' ? od_buf_puts(b, "\\n") : *p == '\\' ? od_buf_puts(b, "\\\\") : od_buf_append(b, p, 1);
		if (rc < 0)
			return -1;
	}
	return od_buf_puts(b, "\n");
}

static int putu(od_buf *b, const char *key, unsigned long long v)
{
	return od_buf_printf(b, "%s=%llu\n", key, v);
}

int instance_save(const struct instance *in, od_err *e)
{
	const struct vmspec *s = &in->spec;
	od_buf b = {0};
	char key[96];
	int rc = od_buf_puts(&b, "# ovfdeploy instance; written by ovfdeploy, read by 'ovfdeploy start'\n");
	rc |= put(&b, "name", in->name);
	rc |= put(&b, "package", in->package);
	rc |= put(&b, "deployment_option", in->deployment_option);
	rc |= put(&b, "backend", deploy_backend_name(in->backend));
	rc |= putu(&b, "cpus", s->cpus);
	rc |= putu(&b, "memory", (unsigned long long)s->memory);
	for (size_t i = 0; i < s->ndisks; i++) {
		snprintf(key, sizeof key, "disk.%zu.path", i);
		rc |= put(&b, key, s->disks[i].path);
		snprintf(key, sizeof key, "disk.%zu.format", i);
		rc |= put(&b, key, s->disks[i].format);
		snprintf(key, sizeof key, "disk.%zu.readonly", i);
		rc |= putu(&b, key, s->disks[i].readonly);
	}
	rc |= put(&b, "cdrom", s->cdrom);
	/* The hardware plan (hwplan.c); absent in older instances: all virtio. */
	for (size_t i = 0; i < s->nctrls; i++) {
		snprintf(key, sizeof key, "ctrl.%zu.model", i);
		rc |= put(&b, key, hw_ctrl_name(s->ctrls[i].model));
		snprintf(key, sizeof key, "ctrl.%zu.index", i);
		rc |= putu(&b, key, s->ctrls[i].index);
	}
	for (size_t i = 0; i < s->ndisks; i++) {
		if (!s->disks[i].on_ctrl)
			continue;
		snprintf(key, sizeof key, "disk.%zu.ctrl", i);
		rc |= putu(&b, key, s->disks[i].ctrl);
		snprintf(key, sizeof key, "disk.%zu.unit", i);
		rc |= putu(&b, key, s->disks[i].unit);
	}
	if (s->cdrom_on_ctrl) {
		rc |= putu(&b, "cdrom.ctrl", s->cdrom_ctrl);
		rc |= putu(&b, "cdrom.unit", s->cdrom_unit);
	}
	for (size_t i = 0; i < s->nnics; i++) {
		snprintf(key, sizeof key, "nic.%zu.model", i);
		rc |= put(&b, key, hw_nic_name(s->nics[i].model));
	}
	/* the VMware platform (vmware.c): written only when in use */
	if (s->vmware)
		rc |= putu(&b, "vmware", s->vmware);
	if (s->vmx_version)
		rc |= putu(&b, "vmx_version", s->vmx_version);
	if (s->guestinfo)
		rc |= putu(&b, "guestinfo", s->guestinfo);
	if (s->cdrom_fallback_only)
		rc |= putu(&b, "cdrom_fallback_only", s->cdrom_fallback_only);
	for (size_t i = 0; i < s->nnics; i++) {
		snprintf(key, sizeof key, "nic.%zu.network", i);
		rc |= put(&b, key, s->nics[i].network ? s->nics[i].network : "");
		snprintf(key, sizeof key, "nic.%zu.user", i);
		rc |= putu(&b, key, s->nics[i].user);
		for (size_t f = 0; f < s->nics[i].nforwards; f++) {
			snprintf(key, sizeof key, "nic.%zu.forward.%zu", i, f);
			char v[32];
			snprintf(v, sizeof v, "%u:%u", s->nics[i].forwards[f].host_port, s->nics[i].forwards[f].guest_port);
			rc |= put(&b, key, v);
		}
	}
	rc |= put(&b, "firmware", s->firmware);
	if (s->screen) {
		rc |= putu(&b, "screen", 1);
		if (s->vnc_listen) {
			rc |= put(&b, "vnc_listen", s->vnc_listen);
			rc |= put(&b, "vnc_password_file", s->vnc_password_file);
		}
	}
	if (s->efi) {
		rc |= putu(&b, "efi", 1);
		rc |= put(&b, "efi_code", s->efi_code);
		rc |= put(&b, "efi_vars", s->efi_vars);
	}
	rc |= put(&b, "kernel", s->kernel);
	rc |= put(&b, "initrd", s->initrd);
	rc |= put(&b, "append", s->append);
	for (size_t i = 0; i < in->nprops; i++) {
		snprintf(key, sizeof key, "property.%zu.key", i);
		rc |= put(&b, key, in->prop_keys[i]);
		snprintf(key, sizeof key, "property.%zu.value", i);
		rc |= put(&b, key, in->prop_values[i]);
	}
	if (rc) {
		od_buf_free(&b);
		return od_err_nomem(e);
	}
	char *path = od_asprintf("%s/instance.conf", in->dir);
	od_atomic_file af;
	if (!path) {
		od_buf_free(&b);
		return od_err_nomem(e);
	}
	rc = od_atomic_open(&af, path, 0600, e);
	if (rc == 0 && (rc = od_write_all(af.fd, b.data, b.len, path, e)) == 0)
		rc = od_atomic_commit(&af, e);
	else if (rc == 0)
		od_atomic_abort(&af);
	/* The instance is complete: no need to hold it any more. */
	if (rc == 0 && creating_is(in->dir))
		creating_release();
	free(path);
	od_buf_free(&b);
	return rc;
}

static char *unescape(const char *v)
{
	char *out = malloc(strlen(v) + 1), *o = out;
	if (!out)
		return NULL;
	for (const char *p = v; *p; p++) {
		if (*p == '\\' && p[1] == 'n') {
			*o++ = '\n';
			p++;
		} else if (*p == '\\' && p[1] == '\\') {
			*o++ = '\\';
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* Parse "disk.3.path" style keys: prefix, index below `max`, suffix. */
static bool indexed(const char *key, const char *prefix, size_t max, size_t *idx, const char **rest)
{
	size_t n = strlen(prefix);
	if (strncmp(key, prefix, n) != 0 || !isdigit((unsigned char)key[n]))
		return false;
	char *end;
	unsigned long v = strtoul(key + n, &end, 10);
	if (*end != '.' || v >= max)
		return false;
	*idx = v;
	*rest = end + 1;
	return true;
}

static int parse_u64(const char *conf, const char *key, const char *v, uint64_t max, uint64_t *out, od_err *e)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end || end == v || x > max)
		return od_err_set(e, OD_E_INVALID, "%s: bad value '%s' for %s", conf, v, key);
	*out = x;
	return 0;
}

int instance_load(const char *name, struct instance *in, od_err *e)
{
	memset(in, 0, sizeof *in);
	char *dir = instance_dir(name, e);
	if (!dir)
		return -1;
	char *conf = od_asprintf("%s/instance.conf", dir);
	char *data = NULL;
	size_t len;
	if (!conf) {
		free(dir);
		return od_err_nomem(e);
	}
	if (od_read_file(conf, CONF_MAX, &data, &len, e) < 0) {
		if (access(dir, F_OK) != 0)
			od_err_set(e, OD_E_USAGE, "no instance named '%s' (see 'ovfdeploy list')", name);
		free(dir);
		free(conf);
		return -1;
	}
	in->dir = dir;
	struct vmspec *s = &in->spec;
	int rc = 0;
	for (char *line = strtok(data, "\n"); line && rc == 0; line = strtok(NULL, "\n")) {
		if (line[0] == '#')
			continue;
		char *eq = strchr(line, '=');
		if (!eq) {
			rc = od_err_set(e, OD_E_INVALID, "%s: malformed line '%.40s'", conf, line);
			break;
		}
		*eq = '\0';
		const char *key = line, *rest;
		char *val = unescape(eq + 1);
		if (!val) {
			rc = od_err_nomem(e);
			break;
		}
		size_t i;
		uint64_t u;
		char **slot = NULL;
		if (!strcmp(key, "name")) slot = &in->name;
		else if (!strcmp(key, "package")) slot = &in->package;
		else if (!strcmp(key, "deployment_option")) slot = &in->deployment_option;
		else if (!strcmp(key, "cdrom")) slot = &s->cdrom;
		else if (!strcmp(key, "firmware")) slot = &s->firmware;
		else if (!strcmp(key, "efi_code")) slot = &s->efi_code;
		else if (!strcmp(key, "efi_vars")) slot = &s->efi_vars;
		else if (!strcmp(key, "vnc_listen")) slot = &s->vnc_listen;
		else if (!strcmp(key, "vnc_password_file")) slot = &s->vnc_password_file;
		else if (!strcmp(key, "screen")) {
			if ((rc = parse_u64(conf, key, val, 1, &u, e)) == 0)
				s->screen = u;
		}
		else if (!strcmp(key, "efi")) {
			if ((rc = parse_u64(conf, key, val, 1, &u, e)) == 0)
				s->efi = u;
		}
		else if (!strcmp(key, "kernel")) slot = &s->kernel;
		else if (!strcmp(key, "initrd")) slot = &s->initrd;
		else if (!strcmp(key, "append")) slot = &s->append;
		else if (!strcmp(key, "backend"))
			rc = deploy_backend_parse(val, &in->backend, e);
		else if (!strcmp(key, "vmware") || !strcmp(key, "guestinfo") || !strcmp(key, "cdrom_fallback_only")) {
			if ((rc = parse_u64(conf, key, val, 1, &u, e)) == 0)
				*(key[0] == 'v' ? &s->vmware : key[0] == 'g' ? &s->guestinfo : &s->cdrom_fallback_only) = u;
		} else if (!strcmp(key, "vmx_version")) {
			if ((rc = parse_u64(conf, key, val, 999, &u, e)) == 0)
				s->vmx_version = (unsigned)u;
		} else if (!strcmp(key, "cpus")) {
			if ((rc = parse_u64(conf, key, val, 255, &u, e)) == 0)
				s->cpus = (unsigned)u;
		} else if (!strcmp(key, "memory"))
			rc = parse_u64(conf, key, val, UINT64_MAX, &s->memory, e);
		else if (indexed(key, "disk.", VMSPEC_MAX_DISKS, &i, &rest)) {
			if (i + 1 > s->ndisks)
				s->ndisks = i + 1;
			if (!strcmp(rest, "path")) slot = &s->disks[i].path;
			else if (!strcmp(rest, "format")) slot = &s->disks[i].format;
			else if (!strcmp(rest, "readonly") && (rc = parse_u64(conf, key, val, 1, &u, e)) == 0)
				s->disks[i].readonly = u;
			else if (!strcmp(rest, "ctrl") && (rc = parse_u64(conf, key, val, VMSPEC_MAX_CTRLS - 1, &u, e)) == 0) {
				s->disks[i].on_ctrl = true;
				s->disks[i].ctrl = (unsigned)u;
			} else if (!strcmp(rest, "unit") && (rc = parse_u64(conf, key, val, 255, &u, e)) == 0)
				s->disks[i].unit = (unsigned)u;
		} else if (indexed(key, "ctrl.", VMSPEC_MAX_CTRLS, &i, &rest)) {
			if (i + 1 > s->nctrls)
				s->nctrls = i + 1;
			if (!strcmp(rest, "model")) {
				if (hw_ctrl_parse(val, &s->ctrls[i].model) < 0)
					rc = od_err_set(e, OD_E_INVALID, "%s: unknown controller model '%s'", conf, val);
			} else if (!strcmp(rest, "index") && (rc = parse_u64(conf, key, val, 1, &u, e)) == 0) {
				s->ctrls[i].index = (unsigned)u;
			}
		} else if (!strncmp(key, "ctrl.", 5)) {
			rc = od_err_set(e, OD_E_INVALID, "%s: bad or out-of-range index in %s", conf, key);
		} else if (!strcmp(key, "cdrom.ctrl")) {
			if ((rc = parse_u64(conf, key, val, VMSPEC_MAX_CTRLS - 1, &u, e)) == 0) {
				s->cdrom_on_ctrl = true;
				s->cdrom_ctrl = (unsigned)u;
			}
		} else if (!strcmp(key, "cdrom.unit")) {
			if ((rc = parse_u64(conf, key, val, 255, &u, e)) == 0)
				s->cdrom_unit = (unsigned)u;
		} else if (indexed(key, "nic.", VMSPEC_MAX_NICS, &i, &rest)) {
			if (i + 1 > s->nnics)
				s->nnics = i + 1;
			if (!strcmp(rest, "network")) slot = &s->nics[i].network;
			else if (!strcmp(rest, "user") && (rc = parse_u64(conf, key, val, 1, &u, e)) == 0)
				s->nics[i].user = u;
			else if (!strcmp(rest, "model")) {
				if (hw_nic_parse(val, &s->nics[i].model) < 0)
					rc = od_err_set(e, OD_E_INVALID, "%s: unknown network adapter model '%s'", conf, val);
			}
			else if (!strncmp(rest, "forward.", 8)) {
				char *fend;
				unsigned long f = strtoul(rest + 8, &fend, 10);
				unsigned h, g;
				char extra;
				if (*fend || fend == rest + 8 || f >= VMSPEC_MAX_FORWARDS ||
				    sscanf(val, "%u:%u%c", &h, &g, &extra) != 2 || !h || !g || h > 65535 || g > 65535)
					rc = od_err_set(e, OD_E_INVALID, "%s: bad forward %s=%s", conf, key, val);
				else {
					s->nics[i].forwards[f] = (struct vmspec_forward){(uint16_t)h, (uint16_t)g};
					if (f + 1 > s->nics[i].nforwards)
						s->nics[i].nforwards = f + 1;
				}
			}
		} else if (!strncmp(key, "disk.", 5) || !strncmp(key, "nic.", 4)) {
			rc = od_err_set(e, OD_E_INVALID, "%s: bad or out-of-range index in %s", conf, key);
		} else if (!strncmp(key, "property.", 9)) {
			char *end;
			unsigned long pi = strtoul(key + 9, &end, 10);
			if (pi >= 4096 || (*end != '.')) {
				rc = od_err_set(e, OD_E_INVALID, "%s: bad key %s", conf, key);
			} else {
				if (pi >= in->nprops) {
					char **k = realloc(in->prop_keys, (pi + 1) * sizeof *k);
					if (k)
						in->prop_keys = k;
					char **v = realloc(in->prop_values, (pi + 1) * sizeof *v);
					if (v)
						in->prop_values = v;
					if (!k || !v)
						rc = od_err_nomem(e);
					else {
						for (size_t z = in->nprops; z <= pi; z++)
							in->prop_keys[z] = in->prop_values[z] = NULL;
						in->nprops = pi + 1;
					}
				}
				if (rc == 0 && !strcmp(end, ".key")) slot = &in->prop_keys[pi];
				else if (rc == 0 && !strcmp(end, ".value")) slot = &in->prop_values[pi];
			}
		}
		/* unknown keys are ignored: a newer ovfdeploy may add some */
		if (slot) {
			free(*slot);
			*slot = val;
		} else {
			free(val);
		}
	}
	free(data);
	if (rc == 0 && (!in->name || strcmp(in->name, name) != 0))
		rc = od_err_set(e, OD_E_INVALID, "%s: does not describe instance '%s'", conf, name);
	if (rc == 0 && (s->cpus == 0 || s->memory == 0))
		rc = od_err_set(e, OD_E_INVALID, "%s: cpus and memory are missing", conf);
	for (size_t d = 0; rc == 0 && d < s->ndisks; d++)
		if (!s->disks[d].path)
			rc = od_err_set(e, OD_E_INVALID, "%s: disk %zu has no path", conf, d);
	/* Every slot must exist: a hand-edited file must not place a disk on a
	 * controller that is not there. */
	for (size_t d = 0; rc == 0 && d <= s->ndisks; d++) {
		bool on = d < s->ndisks ? s->disks[d].on_ctrl : s->cdrom_on_ctrl;
		unsigned c = d < s->ndisks ? s->disks[d].ctrl : s->cdrom_ctrl;
		unsigned unit = d < s->ndisks ? s->disks[d].unit : s->cdrom_unit;
		if (on && (c >= s->nctrls || unit >= hw_ctrl_units(s->ctrls[c].model)))
			rc = od_err_set(e, OD_E_INVALID, "%s: %s %zu is on controller %u slot %u, which does not exist", conf,
					d < s->ndisks ? "disk" : "cdrom", d, c, unit);
	}
	if (rc == 0 && instance_runtime_paths(in) < 0)
		rc = od_err_nomem(e);
	free(conf);
	if (rc < 0)
		instance_free(in);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int instance_list(char ***names, size_t *n, od_err *e)
{
	*names = NULL;
	*n = 0;
	char *root = instance_root(e);
	if (!root)
		return -1;
	DIR *d = opendir(root);
	if (!d) {
		int err = errno;
		free(root);
		return od_err_errno(e, err, "cannot list instances");
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) != NULL && rc == 0) {
		if (instance_name_check(de->d_name, NULL) < 0)
			continue; /* ".", "..", and temporary names */
		char **v = realloc(*names, (*n + 1) * sizeof *v);
		char *copy = od_strdup(de->d_name);
		if (!v || !copy) {
			free(copy);
			if (v)
				*names = v;
			rc = od_err_nomem(e);
			break;
		}
		*names = v;
		(*names)[(*n)++] = copy;
	}
	closedir(d);
	free(root);
	if (rc == 0 && *n)
		qsort(*names, *n, sizeof **names, cmp_str);
	return rc;
}

void instance_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

pid_t instance_running_pid(const struct instance *in)
{
	if (!in->spec.pidfile)
		return 0;
	/* Whoever runs the instance holds a write lock on its pid file for as
	 * long as it runs: QEMU does so for -pidfile, and so does our runner
	 * (deploy.c).  Asking for the lock's holder cannot be fooled by a stale
	 * pid that the kernel has since given to another process. */
	int fd = open(in->spec.pidfile, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	pid_t pid = 0;
	/* A read lock is an export (export.c), not a run. */
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type == F_WRLCK)
		pid = fl.l_pid;
	close(fd);
	return pid;
}

pid_t instance_export_pid(const struct instance *in)
{
	int fd = in->spec.pidfile ? open(in->spec.pidfile, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return 0;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	pid_t pid = 0;
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type == F_RDLCK)
		pid = fl.l_pid;
	close(fd);
	return pid;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

int instance_rm_tree(const char *dir)
{
	/* FTW_PHYS: never follow a symlink out of the instance directory. */
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int instance_remove(const char *name, od_err *e)
{
	struct instance in;
	int partial = instance_partial(name);
	if (partial == INSTANCE_CREATING) {
		char *dir = instance_dir(name, e);
		bool ours = dir && creating_is(dir);
		if (!ours) {
			free(dir);
			return od_err_set(e, OD_E_USAGE, "instance '%s' is being deployed by another process", name);
		}
		/* Our own deploy failed: remove what it made. */
		int rc = instance_rm_tree(dir);
		if (rc < 0)
			od_err_errno(e, errno, "cannot remove %s", dir);
		creating_release();
		free(dir);
		return rc < 0 ? -1 : 0;
	}
	if (partial == INSTANCE_COMPLETE && instance_load(name, &in, e) == 0) {
		pid_t pid = instance_running_pid(&in), exporter = instance_export_pid(&in);
		instance_free(&in);
		if (pid)
			return od_err_set(e, OD_E_USAGE, "instance '%s' is running (pid %d): stop it first ('ovfdeploy stop %s')",
					  name, (int)pid, name);
		if (exporter)
			return od_err_set(e, OD_E_USAGE, "instance '%s' is being exported (process %d)", name, (int)exporter);
	} else if (e && e->code == OD_E_USAGE) {
		return -1; /* no such instance */
	}
	char *dir = instance_dir(name, e);
	if (!dir)
		return -1;
	int rc = instance_rm_tree(dir);
	if (rc < 0)
		od_err_errno(e, errno, "cannot remove %s", dir);
	free(dir);
	return rc < 0 ? -1 : 0;
}
