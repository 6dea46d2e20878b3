/* export.c - a deployed instance back into an OVA.
 *
 * The new package is the instance's own descriptor (descriptor.ovf, the
 * copy deploy made) rewritten by ovf_descriptor_rewrite: the deployment
 * option the instance was deployed with becomes the default, the property
 * values it was given become the defaults (passwords excepted: a package is
 * for handing on), and each disk becomes a streamOptimized VMDK of the disk
 * as the guest sees it now, the base and the instance's qcow2 overlay read
 * as one.  Files of the package that are no disk of the instance (an ISO
 * for a CD-ROM, disks of other deployment options) are copied from the
 * package the instance was deployed from, uncompressed.
 *
 * Everything is written into a private directory beside the output and then
 * packed by ovf_pack (manifest, signature), which writes the OVA to a
 * temporary file and renames it into place: a failed or killed export leaves
 * nothing at the output, and the next export beside it removes the
 * directory a killed one left (od_tmp_clean).
 *
 * A running instance is refused: its disks change under us, and a guest's
 * file systems are consistent only when it has stopped.  While exporting
 * we hold a read lock on the instance's pid file, which both backends lock
 * for writing to run, so the instance cannot start meanwhile. */
#include "config.h"
#include "deploy/deploy.h"
#include "disk/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define VMDK_STREAM_URI "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"
#define EXPORT_TMP_PREFIX ".ovfdeploy-export-"

/* Take a read lock on the pid file: fails, naming the pid, when the
 * instance runs.  Returns the fd holding the lock. */
static int lock_stopped(const struct instance *in, od_err *e)
{
	int fd = open(in->spec.pidfile, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return od_err_errno(e, errno, "%s", in->spec.pidfile);
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		int err = errno;
		close(fd);
		if (err != EAGAIN && err != EACCES)
			return od_err_errno(e, err, "%s: cannot lock", in->spec.pidfile);
		pid_t pid = instance_running_pid(in);
		return od_err_set(e, OD_E_USAGE,
				  "instance '%s' is running (pid %d): stop it first ('ovfdeploy stop %s'); "
				  "its disks are not consistent while the guest runs",
				  in->name, (int)pid, in->name);
	}
	return fd;
}

/* An href we write into the directory: a plain file name. */
static bool plain_name(const char *s)
{
	if (!s || !*s || s[0] == '.' || strlen(s) > 200)
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

struct copy_ctx {
	int fd;
	const char *path;
	uint64_t done;
};

static int copy_chunk(void *ctx_, const void *buf, size_t len, od_err *e)
{
	struct copy_ctx *c = ctx_;
	if (od_write_all(c->fd, buf, len, c->path, e) < 0)
		return -1;
	c->done += len;
	return 0;
}

/* The VMDK adapter type for a disk's controller (ddb.adapterType). */
static const char *adapter_of(const struct ovf_hw_disk *hd)
{
	const struct ovf_item *c = hd->controller;
	if (!c)
		return NULL;
	if (c->resource_type_num == 5)
		return "ide";
	if (c->resource_sub_type && !strcasecmp(c->resource_sub_type, "buslogic"))
		return "buslogic";
	return NULL; /* lsilogic, the default: also what VMware writes for PVSCSI and SAS */
}

struct written {            /* files made in the working directory, removed at the end */
	char **paths;
	size_t n;
};

static int remember(struct written *w, char *path, od_err *e)
{
	char **v = realloc(w->paths, (w->n + 1) * sizeof *v);
	if (!v) {
		free(path);
		return od_err_nomem(e);
	}
	w->paths = v;
	w->paths[w->n++] = path;
	return 0;
}

struct ex {
	struct instance in;
	ovf_envelope *env;
	char *desc;
	size_t desc_len;
	struct ovf_hardware hw;
	const char *config;
	char *tmp;               /* the working directory */
	struct written files;
	struct ovf_rewrite_file *rf; size_t nrf;
	struct ovf_rewrite_disk *rd; size_t nrd;
	struct ovf_rewrite_prop *rp; size_t nrp;
	char **strs; size_t nstrs; /* strings the rewrite points at */
	ovf_package *pkg;        /* the package deployed from, opened when needed */
};

static const char *keep(struct ex *x, char *s, od_err *e)
{
	if (!s) {
		od_err_nomem(e);
		return NULL;
	}
	char **v = realloc(x->strs, (x->nstrs + 1) * sizeof *v);
	if (!v) {
		free(s);
		od_err_nomem(e);
		return NULL;
	}
	x->strs = v;
	x->strs[x->nstrs++] = s;
	return s;
}

static bool file_done(const struct ex *x, const char *id)
{
	for (size_t i = 0; i < x->nrf; i++)
		if (!strcmp(x->rf[i].id, id))
			return true;
	return false;
}

static bool href_taken(const struct ex *x, const char *href)
{
	for (size_t i = 0; i < x->nrf; i++)
		if (!strcmp(x->rf[i].href, href))
			return true;
	return false;
}

/* One disk of the instance: its overlay (with the base behind it) into
 * TMP/NAME-diskN.vmdk. */
static int export_disk(struct ex *x, size_t idx, const struct deploy_export_opts *o, struct deploy_export_result *res,
		       od_err *e)
{
	const struct ovf_hw_disk *hd = &x->hw.disks[idx];
	char *overlay = od_asprintf("%s/disk%zu.qcow2", x->in.dir, idx);
	if (!overlay)
		return od_err_nomem(e);
	bool known = false;
	for (size_t i = 0; i < x->in.spec.ndisks; i++)
		known |= x->in.spec.disks[i].path && !strcmp(x->in.spec.disks[i].path, overlay);
	if (!known) {
		od_err_set(e, OD_E_INVALID, "instance '%s': disk %zu of its descriptor (%s) has no overlay in instance.conf",
			   x->in.name, idx, hd->disk && hd->disk->disk_id ? hd->disk->disk_id : "?");
		free(overlay);
		return -1;
	}
	if (hd->file && file_done(x, hd->file->id)) {
		free(overlay);
		return od_err_set(e, OD_E_UNSUPPORTED,
				  "instance '%s': two of its disks share the file '%s'; export cannot give them one file",
				  x->in.name, hd->file->id);
	}
	disk *src = disk_open(overlay, DISK_RDONLY, e);
	if (!src) {
		od_err_prefix(e, "instance '%s' disk %zu (its base is read from %s)", x->in.name, idx,
			      x->in.package ? x->in.package : "the package");
		free(overlay);
		return -1;
	}
	const char *href = keep(x, od_asprintf("%s-disk%zu.vmdk", x->in.name, res->ndisks + 1), e);
	const char *path = href ? keep(x, od_asprintf("%s/%s", x->tmp, href), e) : NULL;
	int rc = path ? 0 : -1;
	if (rc == 0 && href_taken(x, href))
		rc = od_err_set(e, OD_E_UNSUPPORTED, "two files would be named %s", href);
	struct disk_convert_opts co = {
		.format = "vmdk",
		/* a temporary that ovf_pack reads back at once: never fsynced */
		.create = {.subformat = "streamOptimized", .unsafe_cache = true, .adapter_type = adapter_of(hd)},
		.progress = o->progress,
		.progress_ctx = o->progress_ctx,
	};
	if (rc == 0) {
		char *p = od_strdup(path);
		rc = p ? remember(&x->files, p, e) : od_err_nomem(e);
	}
	if (rc == 0 && (rc = disk_convert(src, path, &co, e)) < 0)
		od_err_prefix(e, "instance '%s' disk %zu", x->in.name, idx);
	uint64_t capacity = disk_size(src);
	disk_close(src);
	free(overlay);
	struct stat st;
	if (rc == 0 && stat(path, &st) < 0)
		rc = od_err_errno(e, errno, "%s", path);
	if (rc < 0)
		return -1;
	res->disk_bytes += (uint64_t)st.st_size;
	res->ndisks++;

	/* the References file: the old one, or a new one for an empty disk */
	const char *fid = hd->file ? hd->file->id : NULL;
	bool add = false;
	if (!fid) {
		if (!hd->disk || !hd->disk->disk_id)
			return od_err_set(e, OD_E_UNSUPPORTED, "instance '%s': disk %zu has neither a file nor a Disk",
					  x->in.name, idx);
		fid = keep(x, od_asprintf("file-%s", hd->disk->disk_id), e);
		if (!fid)
			return -1;
		if (ovf_find_file(x->env, fid) || file_done(x, fid))
			return od_err_set(e, OD_E_UNSUPPORTED, "instance '%s': a File '%s' exists already", x->in.name, fid);
		add = true;
	}
	x->rf[x->nrf++] = (struct ovf_rewrite_file){.id = fid, .add = add, .href = href, .size = (uint64_t)st.st_size};
	if (hd->disk) {
		uint64_t declared = 0;
		od_err ig;
		bool same = hd->disk->capacity &&
			    ovf_bytes(hd->disk->capacity, hd->disk->capacity_units, &declared, &ig) == 0 &&
			    declared == capacity;
		x->rd[x->nrd++] = (struct ovf_rewrite_disk){
			.disk_id = hd->disk->disk_id,
			.file_ref = add ? fid : NULL,
			.format = VMDK_STREAM_URI,
			.capacity = same ? 0 : capacity,
		};
	}
	return 0;
}

/* A file of the package that is no disk of this instance: copied from the
 * package deployed from. */
static int export_other_file(struct ex *x, const struct ovf_file *f, od_err *e)
{
	if (!plain_name(f->href))
		return od_err_set(e, OD_E_UNSUPPORTED, "instance '%s': file '%s' has the href '%s', which export cannot copy",
				  x->in.name, f->id ? f->id : "?", f->href ? f->href : "");
	if (href_taken(x, f->href))
		return od_err_set(e, OD_E_UNSUPPORTED, "instance '%s': two files would be named %s", x->in.name, f->href);
	if (!x->pkg) {
		if (!x->in.package)
			return od_err_set(e, OD_E_INVALID, "instance '%s' does not name the package it came from, which holds %s",
					  x->in.name, f->href);
		x->pkg = ovf_package_open(x->in.package, e);
		if (!x->pkg) {
			od_err_prefix(e, "instance '%s': its file %s is copied from the package it was deployed from",
				      x->in.name, f->href);
			return -1;
		}
	}
	const struct ovf_file *pf = ovf_find_file(x->pkg->env, f->id);
	if (!pf || !pf->href || strcmp(pf->href, f->href) != 0)
		return od_err_set(e, OD_E_INVALID, "%s: no longer holds the file %s of instance '%s' (changed since deploy?)",
				  x->in.package, f->href, x->in.name);
	char *path = od_asprintf("%s/%s", x->tmp, f->href);
	if (!path || remember(&x->files, path, e) < 0)
		return path ? -1 : od_err_nomem(e);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return od_err_errno(e, errno, "%s", path);
	struct copy_ctx c = {.fd = fd, .path = path};
	int rc = ovf_package_read_file(x->pkg, pf, copy_chunk, &c, e);
	if (close(fd) < 0 && rc == 0)
		rc = od_err_errno(e, errno, "%s", path);
	if (rc < 0)
		return -1;
	x->rf[x->nrf++] = (struct ovf_rewrite_file){.id = f->id, .href = f->href, .size = c.done};
	return 0;
}

/* The property values as the new defaults.  A password is not put into a
 * package meant to be handed on: it keeps the old default, with a warning. */
static int export_props(struct ex *x, struct ovf_warnings *w, od_err *e)
{
	const struct ovf_virtual_system *vs = x->env->systems[0];
	for (size_t i = 0; i < x->in.nprops; i++) {
		const char *k = x->in.prop_keys[i], *v = x->in.prop_values[i];
		if (!k || !v)
			continue;
		const struct ovf_property *found = NULL;
		for (size_t p = 0; !found && p < vs->nproducts; p++) {
			const struct ovf_product *pr = &vs->products[p];
			for (size_t q = 0; !found && q < pr->nprops; q++) {
				char *fk = od_asprintf("%s%s%s%s%s", pr->class_ ? pr->class_ : "", pr->class_ ? "." : "",
						       pr->props[q].key ? pr->props[q].key : "", pr->instance ? "." : "",
						       pr->instance ? pr->instance : "");
				if (!fk)
					return od_err_nomem(e);
				if (pr->props[q].key && !strcmp(fk, k))
					found = &pr->props[q];
				free(fk);
			}
		}
		if (!found) {
			ovf_warn(w, "property %s of the instance is not in its descriptor; left out", k);
			continue;
		}
		if (found->password) {
			ovf_warn(w, "property %s is a password: its value is not exported (the old default stays)", k);
			continue;
		}
		const char *cur = ovf_property_value_for(found, x->config);
		if (cur && !strcmp(cur, v))
			continue;
		x->rp[x->nrp++] = (struct ovf_rewrite_prop){.key = k, .value = v};
	}
	return 0;
}

static int write_file(const char *path, const char *data, size_t len, od_err *e)
{
	od_atomic_file af;
	if (od_atomic_open(&af, path, 0644, e) < 0)
		return -1;
	af.no_sync = true; /* a temporary */
	if (od_write_all(af.fd, data, len, path, e) < 0) {
		od_atomic_abort(&af);
		return -1;
	}
	return od_atomic_commit(&af, e);
}

/* The working directory beside `out`, locked for as long as we live. */
static char *make_tmpdir(const char *out, int *lockfd, od_err *e)
{
	const char *slash = strrchr(out, '/');
	char *dir = slash ? od_strndup(out, (size_t)(slash - out) + (slash == out)) : od_strdup(".");
	if (!dir) {
		od_err_nomem(e);
		return NULL;
	}
	od_tmp_clean(dir, EXPORT_TMP_PREFIX, "");
	char *tmp = od_asprintf("%s/" EXPORT_TMP_PREFIX "XXXXXX", dir);
	if (!tmp) {
		free(dir);
		od_err_nomem(e);
		return NULL;
	}
	if (!mkdtemp(tmp)) {
		int err = errno;
		if (err == ENOENT)
			od_err_set(e, OD_E_IO, "%s: cannot be written: the directory %s does not exist", out, dir);
		else
			od_err_errno(e, err, "%s: cannot create a working directory in %s (the disks are converted there first)",
				     out, dir);
		free(dir);
		free(tmp);
		return NULL;
	}
	free(dir);
	int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || od_tmp_lock(fd, tmp, e) != 0) {
		if (fd < 0)
			od_err_errno(e, errno, "%s", tmp);
		else
			close(fd);
		rmdir(tmp);
		free(tmp);
		return NULL;
	}
	*lockfd = fd;
	return tmp;
}

/* Instances read their bases in place, as byte ranges of the package they
 * came from: replacing that file (the rename at the end) would change the
 * disks of every instance deployed from it.  Refuse an output that is the
 * package of any instance. */
static int check_not_a_base(const char *out, od_err *e)
{
	/* Nor anywhere in the instances' store: their files are theirs. */
	const char *slash = strrchr(out, '/');
	char *dir = slash ? od_strndup(out, (size_t)(slash - out) + (slash == out)) : od_strdup(".");
	char *root = dir ? instance_root(e) : NULL;
	char rd[PATH_MAX], rr[PATH_MAX];
	bool inside = false;
	if (!dir || !root) {
		free(dir);
		return dir ? -1 : od_err_nomem(e);
	}
	if (realpath(dir, rd) && realpath(root, rr)) {
		size_t n = strlen(rr);
		inside = !strncmp(rd, rr, n) && (rd[n] == '/' || rd[n] == '\0');
	}
	free(dir);
	free(root);
	if (inside)
		return od_err_set(e, OD_E_USAGE, "%s: inside the instances' store (%s); write the export elsewhere", out, rr);
	struct stat so, sp;
	if (stat(out, &so) < 0)
		return 0; /* nothing there yet */
	char **names = NULL;
	size_t n = 0;
	if (instance_list(&names, &n, e) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct instance o;
		if (instance_partial(names[i]) != INSTANCE_COMPLETE || instance_load(names[i], &o, NULL) < 0)
			continue;
		if (o.package && stat(o.package, &sp) == 0 && sp.st_dev == so.st_dev && sp.st_ino == so.st_ino)
			rc = od_err_set(e, OD_E_USAGE,
					"%s is the package instance '%s' was deployed from and reads its disks from; "
					"write the export elsewhere",
					out, names[i]);
		instance_free(&o);
	}
	instance_list_free(names, n);
	return rc;
}

void deploy_export_result_free(struct deploy_export_result *r)
{
	ovf_warnings_free(&r->warnings);
	memset(r, 0, sizeof *r);
}

int deploy_export(const char *name, const char *out, const struct deploy_export_opts *o,
		  struct deploy_export_result *res, od_err *e)
{
	struct ex x = {0};
	int lockfd = -1, tmpfd = -1, rc = -1;
	memset(res, 0, sizeof *res);
	if (instance_partial(name) != INSTANCE_COMPLETE)
		return od_err_set(e, OD_E_USAGE, "instance '%s' is incomplete (a deploy of it is under way or died)", name);
	if (instance_load(name, &x.in, e) < 0)
		return -1;
	if (check_not_a_base(out, e) < 0) {
		instance_free(&x.in);
		return -1;
	}
	if ((lockfd = lock_stopped(&x.in, e)) < 0)
		goto out;
	/* the disks as a revert killed while switching them meant them */
	if (deploy_snapshot_settle(&x.in, e) < 0)
		goto out;
	char *dp = od_asprintf("%s/descriptor.ovf", x.in.dir);
	if (!dp) {
		od_err_nomem(e);
		goto out;
	}
	int r = od_read_file(dp, OVF_DESCRIPTOR_MAX, &x.desc, &x.desc_len, e);
	if (r == 0 && !(x.env = ovf_envelope_parse(x.desc, x.desc_len, dp, e)))
		r = -1;
	free(dp);
	if (r < 0)
		goto out;
	if (x.env->nsystems != 1) {
		od_err_set(e, OD_E_UNSUPPORTED,
			   "instance '%s' is one system of a VirtualSystemCollection; export takes single systems only", name);
		goto out;
	}
	x.config = x.in.deployment_option;
	if (x.config && !ovf_find_config(x.env, x.config)) {
		od_err_set(e, OD_E_INVALID, "instance '%s': its deployment option '%s' is not in its descriptor", name,
			   x.config);
		goto out;
	}
	if (ovf_hardware_get(x.env, x.env->systems[0], x.config, &x.hw, e) < 0)
		goto out;
	size_t nfiles = x.env->nfiles + x.hw.ndisks;
	x.rf = calloc(nfiles ? nfiles : 1, sizeof *x.rf);
	x.rd = calloc(x.hw.ndisks ? x.hw.ndisks : 1, sizeof *x.rd);
	x.rp = calloc(x.in.nprops ? x.in.nprops : 1, sizeof *x.rp);
	if (!x.rf || !x.rd || !x.rp) {
		od_err_nomem(e);
		goto out;
	}
	if (!(x.tmp = make_tmpdir(out, &tmpfd, e)))
		goto out;
	for (size_t i = 0; i < x.hw.ndisks; i++)
		if (!x.hw.disks[i].cdrom && export_disk(&x, i, o, res, e) < 0)
			goto out;
	for (size_t i = 0; i < x.env->nfiles; i++) {
		const struct ovf_file *f = &x.env->files[i];
		if (!f->id || file_done(&x, f->id))
			continue;
		if (export_other_file(&x, f, e) < 0)
			goto out;
	}
	if (export_props(&x, &res->warnings, e) < 0)
		goto out;
	struct ovf_rewrite rw = {
		.default_config = x.config,
		.files = x.rf, .nfiles = x.nrf,
		.disks = x.rd, .ndisks = x.nrd,
		.props = x.rp, .nprops = x.nrp,
	};
	od_buf nd = {0};
	char *ovfp = od_asprintf("%s/%s.ovf", x.tmp, name);
	if (!ovfp) {
		od_err_nomem(e);
		goto out;
	}
	r = remember(&x.files, ovfp, e);
	if (r == 0)
		r = ovf_descriptor_rewrite(x.desc, x.desc_len, "descriptor.ovf", &rw, &nd, e);
	if (r == 0) {
		/* what we wrote must read back as a descriptor */
		ovf_envelope *check = ovf_envelope_parse(nd.data, nd.len, "the exported descriptor", e);
		if (!check)
			r = -1;
		ovf_envelope_free(check);
	}
	if (r == 0)
		r = write_file(ovfp, nd.data, nd.len, e);
	od_buf_free(&nd);
	if (r < 0)
		goto out;
	struct ovf_pack_opts po = {
		.digest = OVF_DIGEST_SHA256,
		.sign_key = o->sign_key,
		.sign_cert = o->sign_cert,
		.no_sync = !o->sync,
		.progress = o->progress,
		.progress_ctx = o->progress_ctx,
	};
	rc = ovf_pack(ovfp, out, &po, &res->warnings, e);
	if (rc < 0)
		od_err_prefix(e, "%s", out);
out:
	if (x.tmp) {
		for (size_t i = 0; i < x.files.n; i++)
			unlink(x.files.paths[i]);
		rmdir(x.tmp);
	}
	for (size_t i = 0; i < x.files.n; i++)
		free(x.files.paths[i]);
	free(x.files.paths);
	if (tmpfd >= 0)
		close(tmpfd);
	if (lockfd >= 0)
		close(lockfd);
	for (size_t i = 0; i < x.nstrs; i++)
		free(x.strs[i]);
	free(x.strs);
	free(x.rf);
	free(x.rd);
	free(x.rp);
	free(x.tmp);
	if (x.pkg)
		ovf_package_close(x.pkg);
	ovf_hardware_free(&x.hw);
	ovf_envelope_free(x.env);
	free(x.desc);
	instance_free(&x.in);
	if (rc < 0)
		deploy_export_result_free(res);
	return rc;
}
