/* libvirt.c - deploying to a libvirt host through libvirt's C API.
 *
 * What the local deploy keeps in an instance directory lives on the host
 * here: volumes in a storage pool and a domain whose <metadata> says what
 * it is, so that a second client (another machine, another URI form) sees
 * the same instances.  The client keeps nothing.
 *
 * Volumes of an instance NAME, all in one pool:
 *   od-base-DIGEST.EXT            a disk as stored in the package (shared)
 *   od-base-DIGEST.EXT.complete   empty marker: that base finished uploading
 *   NAME-diskI.qcow2              the instance's overlay over the base
 *   NAME-env.iso                  the OVF environment CD
 *   NAME.console.log              the serial console log (dir pools only)
 * libvirt cannot rename a volume, so completeness is the marker's
 * existence: it is created only after the upload stream finished cleanly,
 * and a base found without it is deleted and uploaded again. */
#include "config.h"
#include "deploy/deploy.h"
#include "disk/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <openssl/evp.h>

struct lv_conn {
	virConnectPtr conn;
	char *uri;
};

/* The last libvirt error as one sentence (libvirt keeps it per thread). */
static const char *lv_msg(void)
{
	const char *m = virGetLastErrorMessage();
	return m && *m ? m : "unknown libvirt error";
}

static int lv_fail(od_err *e, int code, const char *what)
{
	return od_err_set(e, code, "%s: %s", what, lv_msg());
}

/* libvirt prints every error on stderr by default; ours are reported once,
 * with context, by our caller. */
static void quiet_errors(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

/* ---- authentication ------------------------------------------------------------------
 * Credentials are asked for on /dev/tty only; nothing is echoed, printed or
 * kept: libvirt frees each answer once used.  Without a terminal the
 * callback declines and the connection fails with "authentication". */
static char *tty_ask(const char *prompt, bool echo)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return NULL;
	struct termios old, quiet;
	bool restore = false;
	if (!echo && tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	if (write(fd, prompt, strlen(prompt)) < 0 || write(fd, ": ", 2) < 0) {
		/* the prompt is a courtesy; reading still works */
	}
	char buf[1024];
	size_t n = 0;
	bool ok = false;
	while (n < sizeof buf - 1) {
		ssize_t r = read(fd, buf + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (buf[n] == '\n') {
			ok = true;
			break;
		}
		n++;
	}
	buf[n] = '\0';
	if (restore) {
		tcsetattr(fd, TCSAFLUSH, &old);
		if (write(fd, "\n", 1) < 0) {
			/* cosmetic */
		}
	}
	close(fd);
	char *r = ok ? od_strdup(buf) : NULL;
	/* Do not leave a secret in our stack frame. */
	volatile char *vb = buf;
	for (size_t i = 0; i < sizeof buf; i++)
		vb[i] = 0;
	return r;
}

static int auth_cb(virConnectCredentialPtr cred, unsigned int ncred, void *cbdata)
{
	(void)cbdata;
	for (unsigned i = 0; i < ncred; i++) {
		bool echo;
		switch (cred[i].type) {
		case VIR_CRED_USERNAME:
		case VIR_CRED_AUTHNAME:
		case VIR_CRED_ECHOPROMPT:
		case VIR_CRED_LANGUAGE:
		case VIR_CRED_CNONCE:
		case VIR_CRED_REALM:
			echo = true;
			break;
		case VIR_CRED_PASSPHRASE:
		case VIR_CRED_NOECHOPROMPT:
			echo = false;
			break;
		default:
			return -1;
		}
		char *ans = tty_ask(cred[i].prompt ? cred[i].prompt : "libvirt", echo);
		if (!ans)
			return -1;
		if (!*ans && cred[i].defresult) {
			free(ans);
			ans = od_strdup(cred[i].defresult);
			if (!ans)
				return -1;
		}
		cred[i].result = ans;
		cred[i].resultlen = (unsigned)strlen(ans);
	}
	return 0;
}

lv_conn *lv_open(const char *uri, od_err *e)
{
	if (!uri || !*uri) {
		/* libvirt would pick a default host: never guess where to deploy. */
		od_err_set(e, OD_E_USAGE, "an empty libvirt URI");
		return NULL;
	}
	static int creds[] = {VIR_CRED_AUTHNAME, VIR_CRED_USERNAME, VIR_CRED_PASSPHRASE, VIR_CRED_ECHOPROMPT,
			      VIR_CRED_NOECHOPROMPT, VIR_CRED_REALM};
	virConnectAuth auth = {creds, sizeof creds / sizeof creds[0], auth_cb, NULL};
	if (virInitialize() < 0) {
		lv_fail(e, OD_E_IO, "libvirt");
		return NULL;
	}
	virSetErrorFunc(NULL, quiet_errors);
	lv_conn *c = calloc(1, sizeof *c);
	if (!c || !(c->uri = od_strdup(uri))) {
		free(c);
		od_err_nomem(e);
		return NULL;
	}
	c->conn = virConnectOpenAuth(uri, &auth, 0);
	if (!c->conn) {
		virErrorPtr err = virGetLastError();
		int code = err ? err->code : 0;
		/* Over SSH, a refused login reaches us as ssh's own words. */
		const char *m = lv_msg();
		if (code == VIR_ERR_AUTH_FAILED || code == VIR_ERR_AUTH_CANCELLED || code == VIR_ERR_AUTH_UNAVAILABLE ||
		    strstr(m, "Permission denied (") || strstr(m, "authentication failed"))
			od_err_set(e, OD_E_IO, "%s: authentication refused: %s", uri, lv_msg());
		else
			od_err_set(e, OD_E_IO, "%s: cannot connect to the libvirt host: %s", uri, lv_msg());
		free(c->uri);
		free(c);
		return NULL;
	}
	return c;
}

void lv_close(lv_conn *c)
{
	if (!c)
		return;
	if (c->conn)
		virConnectClose(c->conn);
	free(c->uri);
	free(c);
}

/* ---- small XML helpers -------------------------------------------------------------- */

static int xml_text(od_buf *b, const char *s)
{
	int rc = 0;
	for (; rc == 0 && s && *s; s++) {
		switch (*s) {
		case '<': rc = od_buf_puts(b, "&lt;"); break;
		case '>': rc = od_buf_puts(b, "&gt;"); break;
		case '&': rc = od_buf_puts(b, "&amp;"); break;
		case '"': rc = od_buf_puts(b, "&quot;"); break;
		case '\'': rc = od_buf_puts(b, "&apos;"); break;
		default:
			/* XML 1.0 cannot carry most control characters at all. */
			if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
				rc = od_buf_puts(b, "?");
			else
				rc = od_buf_append(b, s, 1);
		}
	}
	return rc;
}

static xmlDocPtr xml_parse(const char *s)
{
	if (!s)
		return NULL;
	return xmlReadMemory(s, (int)strlen(s), "libvirt.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* The string value of an XPath expression on `doc`, or NULL.  Our metadata
 * comes back from virDomainGetMetadata() as <instance> with no namespace:
 * libvirt strips it, so the expressions name elements without a prefix. */
static char *xml_xpath(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	if (!ctx)
		return NULL;
	xmlXPathRegisterNs(ctx, BAD_CAST "od", BAD_CAST LV_METADATA_NS);
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	char *r = NULL;
	if (o) {
		xmlChar *v = xmlXPathCastToString(o);
		if (v && *v)
			r = od_strdup((const char *)v);
		xmlFree(v);
		xmlXPathFreeObject(o);
	}
	xmlXPathFreeContext(ctx);
	return r;
}

/* All values of an XPath node set (attributes or elements), NULL-terminated. */
static char **xml_xpath_all(xmlDocPtr doc, const char *expr, size_t *n)
{
	*n = 0;
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	if (!ctx)
		return NULL;
	xmlXPathRegisterNs(ctx, BAD_CAST "od", BAD_CAST LV_METADATA_NS);
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	char **v = NULL;
	if (o && o->nodesetval) {
		int cnt = o->nodesetval->nodeNr;
		if (cnt > 256)
			cnt = 256; /* a domain of ours never has more volumes */
		v = calloc((size_t)cnt + 1, sizeof *v);
		for (int i = 0; v && i < cnt; i++) {
			xmlChar *s = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
			if (s && *s)
				v[(*n)++] = od_strdup((const char *)s);
			xmlFree(s);
		}
	}
	if (o)
		xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	return v;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- pools and volumes -------------------------------------------------------------- */

static virStoragePoolPtr find_pool(lv_conn *c, const char *name, od_err *e)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(c->conn, name);
	if (!p) {
		od_err_set(e, OD_E_USAGE, "%s: no storage pool '%s' (see 'virsh pool-list --all'; --pool chooses one)",
			   c->uri, name);
		return NULL;
	}
	int active = virStoragePoolIsActive(p);
	if (active == 0 && virStoragePoolCreate(p, 0) < 0) {
		od_err_set(e, OD_E_IO, "%s: storage pool '%s' is not active and cannot be started: %s", c->uri, name, lv_msg());
		virStoragePoolFree(p);
		return NULL;
	}
	/* Files may have come and gone behind libvirt's back. */
	virStoragePoolRefresh(p, 0);
	return p;
}

/* The pool's directory for file-based pools (dir, fs, netfs), else NULL. */
static char *pool_dir(virStoragePoolPtr p)
{
	char *xml = virStoragePoolGetXMLDesc(p, 0);
	xmlDocPtr doc = xml_parse(xml);
	free(xml);
	if (!doc)
		return NULL;
	char *type = xml_xpath(doc, "string(/pool/@type)");
	char *path = NULL;
	if (type && (!strcmp(type, "dir") || !strcmp(type, "fs") || !strcmp(type, "netfs")))
		path = xml_xpath(doc, "string(/pool/target/path)");
	free(type);
	xmlFreeDoc(doc);
	return path;
}

static virStorageVolPtr vol_lookup(virStoragePoolPtr p, const char *name)
{
	virStorageVolPtr v = virStorageVolLookupByName(p, name);
	virResetLastError();
	return v;
}

static void vol_delete_name(virStoragePoolPtr p, const char *name)
{
	virStorageVolPtr v = vol_lookup(p, name);
	if (v) {
		virStorageVolDelete(v, 0);
		virStorageVolFree(v);
	}
}

static virStorageVolPtr vol_create(virStoragePoolPtr p, const char *name, const char *format, uint64_t capacity,
				   const char *backing_path, const char *backing_fmt, od_err *e)
{
	od_buf x = {0};
	int rc = od_buf_puts(&x, "<volume><name>");
	rc |= xml_text(&x, name);
	rc |= od_buf_printf(&x, "</name><capacity unit='bytes'>%llu</capacity><allocation unit='bytes'>0</allocation>"
			    "<target><format type='%s'/><permissions><mode>0600</mode></permissions></target>",
			    (unsigned long long)capacity, format);
	if (backing_path) {
		rc |= od_buf_puts(&x, "<backingStore><path>");
		rc |= xml_text(&x, backing_path);
		rc |= od_buf_printf(&x, "</path><format type='%s'/></backingStore>", backing_fmt);
	}
	rc |= od_buf_puts(&x, "</volume>");
	if (rc) {
		od_buf_free(&x);
		od_err_nomem(e);
		return NULL;
	}
	virStorageVolPtr v = virStorageVolCreateXML(p, x.data, 0);
	od_buf_free(&x);
	if (!v) {
		virErrorPtr err = virGetLastError();
		if (err && err->code == VIR_ERR_STORAGE_VOL_EXIST)
			od_err_set(e, OD_E_USAGE, "volume %s exists already in pool %s (left by an interrupted deploy? 'virsh vol-delete --pool %s %s' removes it)",
				   name, virStoragePoolGetName(p), virStoragePoolGetName(p), name);
		else
			od_err_set(e, OD_E_IO, "cannot create volume %s in pool %s: %s", name, virStoragePoolGetName(p), lv_msg());
	}
	return v;
}

static int check_space(lv_conn *c, virStoragePoolPtr p, uint64_t need, od_err *e)
{
	virStoragePoolInfo info;
	if (virStoragePoolGetInfo(p, &info) < 0)
		return lv_fail(e, OD_E_IO, "storage pool information");
	/* A margin for the overlays' metadata and the log. */
	uint64_t want = need + (8u << 20);
	if (info.available < want)
		return od_err_set(e, OD_E_IO, "%s: not enough space in storage pool '%s': the appliance needs %llu MiB, %llu MiB available; nothing was uploaded",
				  c->uri, virStoragePoolGetName(p), (unsigned long long)(want >> 20),
				  (unsigned long long)(info.available >> 20));
	return 0;
}

/* Upload [offset, offset+size) of fd into `vol` through a stream. */
static int upload(lv_conn *c, virStorageVolPtr vol, int fd, uint64_t offset, uint64_t size, const char *what,
		  const struct lv_opts *o, od_err *e)
{
	virStreamPtr st = virStreamNew(c->conn, 0);
	if (!st)
		return lv_fail(e, OD_E_IO, "libvirt stream");
	if (virStorageVolUpload(vol, st, 0, size, 0) < 0) {
		od_err_set(e, OD_E_IO, "uploading %s: %s", what, lv_msg());
		virStreamFree(st);
		return -1;
	}
	enum { CHUNK = 1 << 20 };
	char *buf = malloc(CHUNK);
	if (!buf) {
		virStreamAbort(st);
		virStreamFree(st);
		return od_err_nomem(e);
	}
	uint64_t done = 0;
	int rc = 0;
	while (rc == 0 && done < size) {
		size_t want = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? od_err_errno(e, errno, "%s", what)
				   : od_err_set(e, OD_E_IO, "%s: unexpected end of file at %llu bytes", what,
						(unsigned long long)done);
			break;
		}
		for (ssize_t sent = 0; rc == 0 && sent < n;) {
			int s = virStreamSend(st, buf + sent, (size_t)(n - sent));
			if (s < 0)
				rc = od_err_set(e, OD_E_IO, "uploading %s to %s (after %llu of %llu bytes): %s", what, c->uri,
						(unsigned long long)(done + (uint64_t)sent), (unsigned long long)size, lv_msg());
			else
				sent += s;
		}
		done += (uint64_t)n;
		if (rc == 0 && o->progress)
			o->progress(o->progress_ctx, done, size);
	}
	free(buf);
	if (rc == 0 && virStreamFinish(st) < 0)
		rc = od_err_set(e, OD_E_IO, "uploading %s to %s: %s", what, c->uri, lv_msg());
	if (rc < 0)
		virStreamAbort(st);
	virStreamFree(st);
	return rc;
}

/* ---- the instance ------------------------------------------------------------------- */

/* What one disk of the package becomes. */
struct lv_disk {
	char *base;          /* base volume name, NULL for an empty disk */
	char *base_fmt;
	uint64_t capacity;
	char *overlay;
};

struct lv_made {
	virStoragePoolPtr pool;
	char **vols; size_t nvols; /* made for this instance: deleted on failure */
};

static int made_add(struct lv_made *m, const char *name)
{
	char **v = realloc(m->vols, (m->nvols + 1) * sizeof *v);
	if (!v)
		return -1;
	m->vols = v;
	if (!(v[m->nvols] = od_strdup(name)))
		return -1;
	m->nvols++;
	return 0;
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The manifest's digest of file `href`, as lowercase hex (at most 64
 * characters: a volume name must stay short), or NULL. */
static char *manifest_digest(const struct deploy_plan *pl, const char *href)
{
	if (!pl->pkg->manifest || !href)
		return NULL;
	struct ovf_manifest m = {0};
	struct ovf_warnings w = {0};
	od_err e;
	int prc = ovf_manifest_parse(pl->pkg->manifest, pl->pkg->manifest_len, "manifest", &m, &w, &e);
	ovf_warnings_free(&w);
	if (prc < 0)
		return NULL;
	const struct ovf_manifest_entry *me = ovf_manifest_find(&m, href);
	char *r = NULL;
	if (me) {
		size_t n = ovf_digest_len(me->alg);
		char h[2 * OVF_DIGEST_MAX + 1];
		hex(me->digest, n > 32 ? 32 : n, h);
		r = od_asprintf("%s-%s", me->alg == OVF_DIGEST_SHA1 ? "sha1" : me->alg == OVF_DIGEST_SHA512 ? "sha512" : "sha256", h);
	}
	ovf_manifest_free(&m);
	return r;
}

/* Where a disk's bytes come from: a byte range of a plain file (the OVA
 * itself, or a temporary file when the disk had to be inflated or
 * converted first). */
struct lv_src {
	int fd;
	uint64_t offset, size;
	char *format;        /* "vmdk", "qcow2", "raw" */
	uint64_t virtual_size;
	char *tmp;           /* a temporary file to remove */
};

static void src_free(struct lv_src *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->tmp)
		unlink(s->tmp);
	free(s->tmp);
	free(s->format);
	memset(s, 0, sizeof *s);
	s->fd = -1;
}

static int extract_cb(void *ctx, const void *buf, size_t len, od_err *e)
{
	int *fd = ctx;
	return od_write_all(*fd, buf, len, "temporary disk", e);
}

static int tmp_file(char **path, od_err *e)
{
	const char *dir = getenv("TMPDIR");
	*path = od_asprintf("%s/ovfdeploy-lv-XXXXXX", dir && *dir ? dir : "/var/tmp");
	if (!*path)
		return od_err_nomem(e);
	int fd = mkstemp(*path);
	if (fd < 0) {
		od_err_errno(e, errno, "%s", *path);
		free(*path);
		*path = NULL;
	}
	return fd;
}

static int open_source(struct deploy_plan *pl, const struct ovf_hw_disk *hd, const char *convert, struct lv_src *s,
		       od_err *e)
{
	memset(s, 0, sizeof *s);
	s->fd = -1;
	const struct ovf_member **mem = NULL;
	size_t nmem = 0;
	if (ovf_package_file_members(pl->pkg, hd->file, &mem, &nmem, e) < 0)
		return -1;
	bool plain = nmem == 1 && (!hd->file->compression || !strcmp(hd->file->compression, "identity") ||
				   !strcmp(hd->file->compression, "none"));
	int rc = 0;
	if (plain) {
		s->fd = open(mem[0]->path, O_RDONLY | O_CLOEXEC);
		if (s->fd < 0)
			rc = od_err_errno(e, errno, "%s", mem[0]->path);
		s->offset = mem[0]->offset;
		s->size = mem[0]->size;
	} else {
		/* Compressed or chunked: inflate once into a temporary file. */
		int fd = tmp_file(&s->tmp, e);
		if (fd < 0) {
			free(mem);
			return -1;
		}
		s->fd = fd;
		rc = ovf_package_read_file(pl->pkg, hd->file, extract_cb, &fd, e);
		struct stat st;
		if (rc == 0 && fstat(fd, &st) < 0)
			rc = od_err_errno(e, errno, "%s", s->tmp);
		s->size = rc == 0 ? (uint64_t)st.st_size : 0;
	}
	free(mem);
	disk *d = rc == 0 ? disk_open_range(s->fd, s->offset, s->size, hd->href ? hd->href : "disk", DISK_RDONLY, e) : NULL;
	if (!d) {
		src_free(s);
		return -1;
	}
	s->virtual_size = disk_size(d);
	s->format = od_strdup(disk_format(d));
	if (convert && s->format && strcmp(convert, s->format) != 0) {
		/* --convert: make the image in the host's chosen format first. */
		char *out = NULL;
		int ofd = tmp_file(&out, e);
		if (ofd < 0) {
			disk_close(d);
			src_free(s);
			return -1;
		}
		close(ofd);
		unlink(out);
		/* A temporary, uploaded and removed: never fsynced. */
		struct disk_convert_opts co = {.format = convert, .create = {.unsafe_cache = true}};
		if (disk_convert(d, out, &co, e) < 0) {
			unlink(out);
			free(out);
			disk_close(d);
			src_free(s);
			return -1;
		}
		disk_close(d);
		src_free(s);
		s->tmp = out;
		s->fd = open(out, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (s->fd < 0 || fstat(s->fd, &st) < 0) {
			od_err_errno(e, errno, "%s", out);
			src_free(s);
			return -1;
		}
		s->size = (uint64_t)st.st_size;
		d = disk_open_range(s->fd, 0, s->size, out, DISK_RDONLY, e);
		if (!d) {
			src_free(s);
			return -1;
		}
		s->virtual_size = disk_size(d);
		free(s->format);
		s->format = od_strdup(disk_format(d));
	}
	disk_close(d);
	if (!s->format) {
		src_free(s);
		return od_err_nomem(e);
	}
	return 0;
}

/* A second guard besides the marker: every byte of a base is written by
 * its upload, so a complete one has at least its size allocated.  (Two
 * deploys of one new package at the same moment could otherwise leave a
 * marker beside the other's unfinished upload.) */
static bool looks_short(virStorageVolPtr v, uint64_t size)
{
	virStorageVolInfo info;
	if (virStorageVolGetInfo(v, &info) < 0) {
		virResetLastError();
		return true;
	}
	/* (A filesystem that stores zeros as holes makes us upload again:
	 * slower, never wrong.) */
	uint64_t slack = 1u << 20;
	return info.allocation + slack < size;
}

/* Reuse a complete base or upload one; sets d->base. */
static int prepare_base(lv_conn *c, struct deploy_plan *pl, const struct lv_opts *o, const char *name, size_t idx,
			const struct ovf_hw_disk *hd, struct lv_made *m, struct lv_disk *d, od_err *e)
{
	struct lv_src s;
	if (open_source(pl, hd, o->convert, &s, e) < 0)
		return -1;
	int rc = 0;
	char *dig = pl->verified && !o->skip_verify ? manifest_digest(pl, hd->file->href) : NULL;
	/* Unverified bytes never land under a digest's name that a later,
	 * verified deploy would trust. */
	if (dig)
		d->base = od_asprintf("od-base-%s%s%s.%s", dig, o->convert ? "-" : "", o->convert ? o->convert : "", s.format);
	else
		d->base = od_asprintf("%s-base%zu.%s", name, idx, s.format);
	bool shared = dig != NULL;
	free(dig);
	char *marker = d->base ? od_asprintf("%s.complete", d->base) : NULL;
	d->base_fmt = od_strdup(s.format);
	d->capacity = s.virtual_size > hd->capacity_bytes ? s.virtual_size : hd->capacity_bytes;
	if (!d->base || !marker || !d->base_fmt) {
		free(marker);
		src_free(&s);
		return od_err_nomem(e);
	}
	virStorageVolPtr have = vol_lookup(m->pool, d->base), mk = vol_lookup(m->pool, marker);
	/* Only a shared base is reused: a private one of the same name may
	 * hold another package's disk (an earlier instance of this name). */
	if (have && mk && shared && !looks_short(have, s.size)) {
		virStorageVolFree(have);
		virStorageVolFree(mk);
		free(marker);
		src_free(&s);
		return 0; /* upload once, deploy many */
	}
	if (mk) {
		virStorageVolDelete(mk, 0);
		virStorageVolFree(mk);
	}
	if (have) {
		/* Left by an upload that did not finish: never trusted. */
		virStorageVolDelete(have, 0);
		virStorageVolFree(have);
	}
	rc = check_space(c, m->pool, s.size, e);
	virStorageVolPtr v = NULL;
	if (rc == 0) {
		v = vol_create(m->pool, d->base, "raw", s.size, NULL, NULL, e);
		rc = v ? 0 : -1;
	}
	if (rc == 0) {
		/* Listed before the upload: a failed upload deletes it. */
		if (!shared && made_add(m, d->base) < 0)
			rc = od_err_nomem(e);
		char what[512];
		snprintf(what, sizeof what, "%s (%s)", hd->file->href ? hd->file->href : "disk", d->base);
		if (rc == 0)
			rc = upload(c, v, s.fd, s.offset, s.size, what, o, e);
		if (rc < 0 && shared)
			virStorageVolDelete(v, 0);
	}
	if (v)
		virStorageVolFree(v);
	if (rc == 0) {
		virStorageVolPtr mv = vol_create(m->pool, marker, "raw", 0, NULL, NULL, e);
		if (!mv)
			rc = -1;
		else
			virStorageVolFree(mv);
		if (rc == 0 && !shared && made_add(m, marker) < 0)
			rc = od_err_nomem(e);
	}
	free(marker);
	src_free(&s);
	return rc;
}

static int upload_env(lv_conn *c, struct deploy_plan *pl, const char *name, const struct lv_opts *o, struct lv_made *m,
		      char **vol_name, od_err *e)
{
	od_buf xml = {0};
	if (deploy_env_xml(pl, &xml, e) < 0) {
		od_buf_free(&xml);
		return -1;
	}
	char *tmp = NULL;
	int fd = tmp_file(&tmp, e);
	if (fd < 0) {
		od_buf_free(&xml);
		return -1;
	}
	close(fd);
	int rc = ovf_env_write_iso(tmp, xml.data, xml.len, e);
	od_buf_free(&xml);
	struct stat st;
	fd = rc == 0 ? open(tmp, O_RDONLY | O_CLOEXEC) : -1;
	if (rc == 0 && (fd < 0 || fstat(fd, &st) < 0))
		rc = od_err_errno(e, errno, "%s", tmp);
	*vol_name = od_asprintf("%s-env.iso", name);
	if (rc == 0 && !*vol_name)
		rc = od_err_nomem(e);
	virStorageVolPtr v = rc == 0 ? vol_create(m->pool, *vol_name, "raw", (uint64_t)st.st_size, NULL, NULL, e) : NULL;
	if (rc == 0 && !v)
		rc = -1;
	if (rc == 0 && made_add(m, *vol_name) < 0)
		rc = od_err_nomem(e);
	struct lv_opts quiet = *o;
	quiet.progress = NULL;
	if (rc == 0)
		rc = upload(c, v, fd, 0, (uint64_t)st.st_size, "the OVF environment CD", &quiet, e);
	if (v)
		virStorageVolFree(v);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return rc;
}

static char *vol_path(virStoragePoolPtr p, const char *name, od_err *e)
{
	virStorageVolPtr v = vol_lookup(p, name);
	char *path = v ? virStorageVolGetPath(v) : NULL;
	if (v)
		virStorageVolFree(v);
	if (!path)
		od_err_set(e, OD_E_IO, "volume %s in pool %s: %s", name, virStoragePoolGetName(p), lv_msg());
	return path;
}

/* The devices a guest is given: the hardware plan (hwplan.c) as libvirt's
 * QEMU driver has it.  One row per controller model: libvirt's controller
 * type and model, or the stand-in (with why, and the Linux driver the guest
 * then needs), as the QEMU backend substitutes. */
struct lv_net {
	const char *network;   /* libvirt network, or NULL */
	const char *bridge;    /* host bridge, or NULL */
};
struct lv_ctrl_row {
	const char *type;      /* libvirt controller type; NULL = none (virtio-blk) */
	const char *model;     /* its model, or NULL */
	bool exact;
	const char *why;
	const char *driver;
};
static const struct lv_ctrl_row lv_ctrl[HW_CTRL_NMODELS] = {
	[HW_CTRL_VIRTIO] = {NULL, NULL, true, NULL, "virtio_blk"},
	[HW_CTRL_IDE] = {"ide", NULL, true, NULL, "ata_piix"},
	/* libvirt's model 'lsilogic' is QEMU's 53C895A (Linux sym53c8xx), not
	 * the 53C1030, and its 'lsisas1068' is the SAS 1068 that Linux's mptsas
	 * sees no disks on: the QEMU backend's stand-in, PVSCSI. */
	[HW_CTRL_LSILOGIC] = {"scsi", "vmpvscsi", false,
			      "libvirt's QEMU has no LSI Logic 53C1030 (its 'lsilogic' is an LSI 53C895A); a PVSCSI stands in, VMware's other SCSI adapter",
			      "vmw_pvscsi"},
	[HW_CTRL_BUSLOGIC] = {"scsi", "lsilogic", false,
			      "libvirt's QEMU has no BusLogic adapter; an LSI 53C895A (libvirt's 'lsilogic') stands in", "sym53c8xx"},
	[HW_CTRL_LSISAS] = {"scsi", "vmpvscsi", false,
			    "QEMU's LSI SAS 1068 (libvirt's 'lsisas1068') shows Linux's mptsas no disks; a PVSCSI, VMware's other SCSI adapter, stands in",
			    "vmw_pvscsi"},
	[HW_CTRL_PVSCSI] = {"scsi", "vmpvscsi", true, NULL, "vmw_pvscsi"},
	[HW_CTRL_VIRTIO_SCSI] = {"scsi", "virtio-scsi", true, NULL, "virtio_scsi"},
	[HW_CTRL_AHCI] = {"sata", NULL, true, NULL, "ahci"},
	[HW_CTRL_NVME] = {"scsi", "vmpvscsi", false,
			  "libvirt 9.0 (Debian 12) has no NVMe disk bus; a PVSCSI stands in, VMware's other disk controller",
			  "vmw_pvscsi"},
};
/* libvirt's <model type=...> for each NIC model (VMXNET2: QEMU's stand-in). */
static const char *const lv_nic[HW_NIC_NMODELS] = {
	[HW_NIC_VIRTIO] = "virtio", [HW_NIC_E1000] = "e1000", [HW_NIC_E1000E] = "e1000e",
	[HW_NIC_VMXNET3] = "vmxnet3", [HW_NIC_VMXNET2] = "e1000", [HW_NIC_PCNET32] = "pcnet",
};

static const struct lv_ctrl_row *ctrl_row(enum hw_ctrl_model m)
{
	return &lv_ctrl[(unsigned)m < HW_CTRL_NMODELS ? m : HW_CTRL_VIRTIO];
}

void lv_ctrl_choice(enum hw_ctrl_model m, struct hw_choice *out)
{
	const struct lv_ctrl_row *r = ctrl_row(m);
	*out = (struct hw_choice){r->model ? r->model : r->type ? r->type : "virtio-blk", r->exact, r->why, r->driver};
}

void lv_nic_choice(enum hw_nic_model m, struct hw_choice *out)
{
	if ((unsigned)m >= HW_NIC_NMODELS)
		m = HW_NIC_VIRTIO;
	hw_nic_choice(m, DEPLOY_BACKEND_QEMU, out); /* libvirt's QEMU: the same stand-ins */
	out->device = lv_nic[m];
}

/* A warning for each device libvirt is given in place of the described
 * one (naming the driver the guest then needs), and the plan's notes. */
void lv_hw_warnings(const struct ovf_hardware *hw, const struct hwplan *hp, struct ovf_warnings *w)
{
	for (size_t i = 0; i < hp->notes.n; i++)
		ovf_warn(w, "%s", hp->notes.v[i]);
	for (size_t c = 0; c < hp->nctrls; c++) {
		const struct lv_ctrl_row *r = ctrl_row(hp->ctrls[c].model);
		bool used = false;
		for (size_t k = 0; k < hp->ndisks; k++)
			used |= hp->disks[k].ctrl == c && (!hp->disks[k].cdrom || hp->disks[k].env);
		if (!used || r->exact)
			continue;
		const struct ovf_item *it = hp->ctrls[c].item;
		ovf_warn(w, "controller %s (%s) is given as libvirt's %s controller '%s': %s; the guest needs the %s driver",
			 it && it->element_name ? it->element_name : "?", hw_ctrl_name(hp->ctrls[c].model), r->type,
			 r->model ? r->model : "", r->why, r->driver);
	}
	for (size_t k = 0; k < hp->nnics && k < VMSPEC_MAX_NICS; k++) {
		struct hw_choice ch;
		hw_nic_choice(hp->nics[k].model, DEPLOY_BACKEND_QEMU, &ch);
		if (ch.exact)
			continue;
		const struct ovf_hw_nic *hn = hp->nics[k].hw_nic < hw->nnics ? &hw->nics[hp->nics[k].hw_nic] : NULL;
		ovf_warn(w, "network adapter %s (%s) is given as libvirt's '%s': %s; the guest needs the %s driver",
			 hn && hn->item && hn->item->element_name ? hn->item->element_name : "?",
			 hw_nic_name(hp->nics[k].model),
			 lv_nic[(unsigned)hp->nics[k].model < HW_NIC_NMODELS ? hp->nics[k].model : HW_NIC_VIRTIO], ch.why,
			 ch.driver);
	}
	if (hp->nnics > VMSPEC_MAX_NICS)
		ovf_warn(w, "only the first %d network adapters are connected", VMSPEC_MAX_NICS);
}

/* A disk name: PREFIX then a, b, ... z, aa, ab ... (n < 702). */
static void dev_name(char *out, size_t len, const char *prefix, unsigned n)
{
	if (n < 26)
		snprintf(out, len, "%s%c", prefix, (char)('a' + n));
	else
		snprintf(out, len, "%s%c%c", prefix, (char)('a' + (n / 26 - 1) % 26), (char)('a' + n % 26));
}

/* One <disk>: volume VOL of POOL on the plan's controller and slot
 * (libvirt controller index lvidx[ctrl]), boot order `boot`. */
static int disk_xml(od_buf *x, const struct hwplan *hp, const unsigned *lvidx, const struct hwplan_disk *pd,
		    const char *pool, const char *vol, unsigned boot, unsigned *nvd, unsigned *nsd)
{
	bool cd = pd->cdrom;
	enum hw_ctrl_model m = pd->ctrl < hp->nctrls ? hp->ctrls[pd->ctrl].model : HW_CTRL_VIRTIO;
	if (cd && (m == HW_CTRL_VIRTIO || m == HW_CTRL_NVME))
		m = HW_CTRL_IDE; /* no CD-ROM there: the machine's own IDE, secondary master */
	const struct lv_ctrl_row *r = ctrl_row(m);
	int rc = od_buf_printf(x, "<disk type='volume' device='%s'><driver name='qemu' type='%s'/><source pool='",
			       cd ? "cdrom" : "disk", cd ? "raw" : "qcow2");
	rc |= xml_text(x, pool);
	rc |= od_buf_puts(x, "' volume='");
	rc |= xml_text(x, vol);
	rc |= od_buf_puts(x, "'/>");
	if (m == HW_CTRL_VIRTIO) {
		char dev[8];
		dev_name(dev, sizeof dev, "vd", (*nvd)++);
		rc |= od_buf_printf(x, "<target dev='%s' bus='virtio'/>", dev);
	} else if (m == HW_CTRL_IDE) {
		bool on_ide = pd->ctrl < hp->nctrls && hp->ctrls[pd->ctrl].model == HW_CTRL_IDE;
		unsigned bus = on_ide ? hp->ctrls[pd->ctrl].index & 1 : 1;
		unsigned unit = on_ide ? pd->unit & 1 : 0;
		rc |= od_buf_printf(x, "<target dev='hd%c' bus='ide'/><address type='drive' controller='0' bus='%u' "
				    "target='0' unit='%u'/>", 'a' + bus * 2 + unit, bus, unit);
	} else {
		char dev[8];
		dev_name(dev, sizeof dev, "sd", (*nsd)++);
		bool sata = m == HW_CTRL_AHCI;
		/* libvirt gives the 53C895A (its 'lsilogic') the slot as the
		 * SCSI id in `unit`, target 0; other SCSI models take the id in
		 * `target`; SATA ports are units of bus 0. */
		bool id_in_unit = sata || (r->model && !strcmp(r->model, "lsilogic"));
		rc |= od_buf_printf(x, "<target dev='%s' bus='%s'/><address type='drive' controller='%u' bus='0' "
				    "target='%u' unit='%u'/>", dev, sata ? "sata" : "scsi", lvidx[pd->ctrl],
				    id_in_unit ? 0 : pd->unit, id_in_unit ? pd->unit : 0);
	}
	if (boot)
		rc |= od_buf_printf(x, "<boot order='%u'/>", boot);
	if (cd)
		rc |= od_buf_puts(x, "<readonly/>");
	rc |= od_buf_puts(x, "</disk>");
	return rc;
}

int lv_devices_xml(const struct hwplan *hp, const char *pool, char *const *vols, size_t nvols, const char *env_vol,
		   const char *network, const char *bridge, const char *log, od_buf *x, od_err *e)
{
	/* libvirt's index for each planned controller: one per type */
	unsigned lvidx[VMSPEC_MAX_CTRLS] = {0}, nscsi = 0, nsata = 0;
	size_t ndisk = 0;
	int rc = 0;
	for (size_t k = 0; k < hp->ndisks; k++) {
		const struct hwplan_disk *pd = &hp->disks[k];
		if (pd->ctrl != HWPLAN_NONE && (pd->ctrl >= hp->nctrls || pd->unit >= hw_ctrl_units(hp->ctrls[pd->ctrl].model)))
			return od_err_set(e, OD_E_INVALID, "plan: device %zu on controller %zu slot %u is out of range", k,
					  pd->ctrl, pd->unit);
		ndisk += !pd->cdrom;
	}
	if (ndisk != nvols)
		return od_err_set(e, OD_E_INVALID, "plan: %zu disks for %zu volumes", ndisk, nvols);
	for (size_t c = 0; c < hp->nctrls && c < VMSPEC_MAX_CTRLS; c++) {
		const struct lv_ctrl_row *r = ctrl_row(hp->ctrls[c].model);
		if (!r->type || !strcmp(r->type, "ide"))
			continue; /* IDE: the pc machine's PIIX3, controller 0, a bus per channel */
		bool sata = !strcmp(r->type, "sata");
		lvidx[c] = sata ? nsata++ : nscsi++;
		rc |= od_buf_printf(x, "<controller type='%s' index='%u'", r->type, lvidx[c]);
		if (r->model)
			rc |= od_buf_printf(x, " model='%s'", r->model);
		rc |= od_buf_puts(x, "/>");
	}
	/* Boot order: the disks in the plan's order (its boot disk first),
	 * the environment CD after them, as the QEMU backend's bootindex. */
	unsigned nvd = 0, nsd = 0, order = 1;
	size_t vi = 0;
	if (hp->boot != HWPLAN_NONE && hp->boot < hp->ndisks) {
		size_t bi = 0;
		for (size_t k = 0; k < hp->boot; k++)
			bi += !hp->disks[k].cdrom;
		rc |= disk_xml(x, hp, lvidx, &hp->disks[hp->boot], pool, vols[bi], order++, &nvd, &nsd);
	}
	for (size_t k = 0; k < hp->ndisks; k++) {
		const struct hwplan_disk *pd = &hp->disks[k];
		if (pd->cdrom)
			continue;
		if (k != hp->boot)
			rc |= disk_xml(x, hp, lvidx, pd, pool, vols[vi], order++, &nvd, &nsd);
		vi++;
	}
	if (env_vol) {
		struct hwplan_disk dflt = {.hw_disk = HWPLAN_NONE, .ctrl = HWPLAN_NONE, .cdrom = true, .env = true};
		const struct hwplan_disk *pd = hp->env != HWPLAN_NONE && hp->env < hp->ndisks ? &hp->disks[hp->env] : &dflt;
		rc |= disk_xml(x, hp, lvidx, pd, pool, env_vol, order++, &nvd, &nsd);
	}
	for (size_t i = 0; i < hp->nnics && i < VMSPEC_MAX_NICS; i++) {
		if (bridge) {
			rc |= od_buf_puts(x, "<interface type='bridge'><source bridge='");
			rc |= xml_text(x, bridge);
			rc |= od_buf_puts(x, "'/>");
		} else if (network) {
			rc |= od_buf_puts(x, "<interface type='network'><source network='");
			rc |= xml_text(x, network);
			rc |= od_buf_puts(x, "'/>");
		} else {
			rc |= od_buf_puts(x, "<interface type='user'>");
		}
		enum hw_nic_model nm = (unsigned)hp->nics[i].model < HW_NIC_NMODELS ? hp->nics[i].model : HW_NIC_VIRTIO;
		rc |= od_buf_printf(x, "<model type='%s'/></interface>", lv_nic[nm]);
	}
	rc |= od_buf_puts(x, "<serial type='pty'>");
	if (log) {
		rc |= od_buf_puts(x, "<log file='");
		rc |= xml_text(x, log);
		rc |= od_buf_puts(x, "' append='off'/>");
	}
	rc |= od_buf_puts(x, "<target port='0'/></serial><console type='pty'><target type='serial' port='0'/></console>");
	/* The described machine has no virtio device libvirt would add of
	 * its own accord (its default balloon). */
	if (hp->mode == HW_DESCRIBED)
		rc |= od_buf_puts(x, "<memballoon model='none'/>");
	return rc ? od_err_nomem(e) : 0;
}

static const char *virt_type(lv_conn *c, const struct lv_opts *o)
{
	if (o->virt_type)
		return o->virt_type;
	const char *env = getenv("OVFDEPLOY_LIBVIRT_VIRT_TYPE");
	if (env && (!strcmp(env, "kvm") || !strcmp(env, "qemu")))
		return env;
	char *caps = virConnectGetDomainCapabilities(c->conn, NULL, "x86_64", NULL, "kvm", 0);
	virResetLastError();
	free(caps);
	return caps ? "kvm" : "qemu";
}

static char *descriptor_digest(const struct deploy_plan *pl)
{
	unsigned char d[32];
	unsigned int n = 0;
	if (!EVP_Digest(pl->pkg->descriptor, pl->pkg->descriptor_len, d, &n, EVP_sha256(), NULL) || n != 32)
		return NULL;
	char h[65];
	hex(d, 32, h);
	return od_asprintf("sha256:%s", h);
}

static int domain_xml(lv_conn *c, struct deploy_plan *pl, const char *name, const struct lv_opts *o, bool efi,
		      const char *pool, const struct hwplan *hp, const struct lv_disk *disks, size_t ndisks,
		      const char *env_vol, const struct lv_net *net, const char *log, const char *log_vol, od_buf *x,
		      od_err *e)
{
	unsigned cpus = pl->hw.cpus ? (unsigned)(pl->hw.cpus > 255 ? 255 : pl->hw.cpus) : 1;
	uint64_t mem = pl->hw.memory_bytes ? pl->hw.memory_bytes : 256ull << 20;
	mem = (mem + (1u << 20) - 1) >> 20;
	char *pkg = realpath(pl->pkg->path, NULL);
	char *dd = descriptor_digest(pl);
	int rc = od_buf_printf(x, "<domain type='%s'><name>", virt_type(c, o));
	rc |= xml_text(x, name);
	rc |= od_buf_puts(x, "</name><metadata><od:instance xmlns:od='" LV_METADATA_NS "'><od:package path='");
	rc |= xml_text(x, pkg ? pkg : pl->pkg->path);
	rc |= od_buf_printf(x, "' descriptor-digest='%s'/><od:pool>", dd ? dd : "");
	rc |= xml_text(x, pool);
	rc |= od_buf_puts(x, "</od:pool>");
	if (pl->config && pl->config->id) {
		rc |= od_buf_puts(x, "<od:option>");
		rc |= xml_text(x, pl->config->id);
		rc |= od_buf_puts(x, "</od:option>");
	}
	for (size_t i = 0; i < pl->nprops; i++) {
		rc |= od_buf_puts(x, "<od:property key='");
		rc |= xml_text(x, pl->props[i].key);
		/* Anyone who can read the domain reads its metadata: passwords
		 * are delivered to the guest, not recorded. */
		if (pl->props[i].prop->password) {
			rc |= od_buf_puts(x, "' secret='yes'/>");
		} else {
			rc |= od_buf_puts(x, "'>");
			rc |= xml_text(x, pl->props[i].value ? pl->props[i].value : "");
			rc |= od_buf_puts(x, "</od:property>");
		}
	}
	for (size_t i = 0; i < ndisks; i++) {
		if (disks[i].base) {
			rc |= od_buf_puts(x, "<od:base>");
			rc |= xml_text(x, disks[i].base);
			rc |= od_buf_puts(x, "</od:base>");
		}
		rc |= od_buf_puts(x, "<od:volume>");
		rc |= xml_text(x, disks[i].overlay);
		rc |= od_buf_puts(x, "</od:volume>");
	}
	if (env_vol) {
		rc |= od_buf_puts(x, "<od:volume>");
		rc |= xml_text(x, env_vol);
		rc |= od_buf_puts(x, "</od:volume>");
	}
	if (log) {
		rc |= od_buf_puts(x, "<od:console-log volume='");
		rc |= xml_text(x, log_vol);
		rc |= od_buf_puts(x, "'>");
		rc |= xml_text(x, log);
		rc |= od_buf_puts(x, "</od:console-log>");
	}
	/* UEFI: libvirt picks the host's OVMF from its firmware descriptors
	 * (Debian's ovmf installs them) and gives the domain its own variable
	 * store, which 'rm' deletes with the domain.  Secure Boot is not asked
	 * for: the i440fx machine rules out the builds that need SMM. */
	rc |= od_buf_printf(x, "</od:instance></metadata><memory unit='MiB'>%llu</memory><vcpu>%u</vcpu>"
			    "<os%s><type arch='x86_64' machine='pc'>hvm</type></os>"
			    "<features><acpi/><apic/></features><on_poweroff>destroy</on_poweroff>"
			    "<on_reboot>restart</on_reboot><on_crash>destroy</on_crash><devices>",
			    (unsigned long long)mem, cpus, efi ? " firmware='efi'" : "");
	char *vols[VMSPEC_MAX_DISKS];
	for (size_t i = 0; i < ndisks && i < VMSPEC_MAX_DISKS; i++)
		vols[i] = disks[i].overlay;
	free(pkg);
	free(dd);
	if (rc != 0)
		return od_err_nomem(e);
	if (lv_devices_xml(hp, pool, vols, ndisks, env_vol, net->network, net->bridge, log, x, e) < 0)
		return -1;
	/* The screen, where appliances show their console: VNC on a UNIX
	 * socket libvirt makes on its host, reached with
	 * 'virt-viewer --connect URI NAME' (nobody on the network gets in). */
	if (!o->no_screen)
		rc = od_buf_puts(x, "<graphics type='vnc'><listen type='socket'/></graphics>"
				    "<video><model type='vga'/></video>");
	if (rc != 0)
		return od_err_nomem(e);
	return od_buf_puts(x, "</devices></domain>") ? od_err_nomem(e) : 0;
}

static int choose_net(lv_conn *c, const struct lv_opts *o, struct lv_net *net, od_err *e)
{
	memset(net, 0, sizeof *net);
	if (o->bridge) {
		net->bridge = o->bridge;
		return 0;
	}
	const char *want = o->network ? o->network : "default";
	virNetworkPtr n = virNetworkLookupByName(c->conn, want);
	virResetLastError();
	if (!n) {
		if (o->network)
			return od_err_set(e, OD_E_USAGE, "%s: no network '%s' (see 'virsh net-list --all')", c->uri, o->network);
		return 0; /* no "default": user-mode networking */
	}
	if (virNetworkIsActive(n) != 1 && o->network) {
		virNetworkFree(n);
		return od_err_set(e, OD_E_USAGE, "%s: network '%s' is not active", c->uri, o->network);
	}
	if (virNetworkIsActive(n) == 1)
		net->network = want;
	virNetworkFree(n);
	return 0;
}

int lv_deploy(lv_conn *c, struct deploy_plan *pl, const char *name, const struct lv_opts *o, od_err *e)
{
	if (instance_name_check(name, e) < 0)
		return -1;
	if (deploy_plan_check(pl, e) < 0)
		return -1;
	virDomainPtr old = virDomainLookupByName(c->conn, name);
	virResetLastError();
	if (old) {
		virDomainFree(old);
		return od_err_set(e, OD_E_USAGE, "%s: a domain named '%s' exists already (--name chooses another)", c->uri, name);
	}
	struct lv_net net;
	if (choose_net(c, o, &net, e) < 0)
		return -1;
	/* The hardware plan (hwplan.c), and what libvirt is given in place
	 * of what the descriptor asks for, as the local deploy says it. */
	enum ovf_firmware fw = pl->hw.firmware;
	if (o->firmware && ovf_firmware_parse(o->firmware, &fw) < 0)
		return od_err_set(e, OD_E_USAGE, "--firmware %s: expected bios or efi", o->firmware);
	struct hwplan hp;
	if (hwplan_make(&pl->hw, o->hardware, &hp, e) < 0)
		return -1;
	if (fw == OVF_FIRMWARE_EFI)
		hwplan_efi_bootable(&hp, &pl->warnings);
	lv_hw_warnings(&pl->hw, &hp, &pl->warnings);
	const char *pool_name = o->pool ? o->pool : "default";
	struct lv_made m = {0};
	m.pool = find_pool(c, pool_name, e);
	if (!m.pool) {
		hwplan_free(&hp);
		return -1;
	}
	size_t nd = 0;
	struct lv_disk disks[VMSPEC_MAX_DISKS];
	memset(disks, 0, sizeof disks);
	char *env_vol = NULL, *log = NULL, *log_vol = NULL, *dir = NULL;
	int rc = 0;
	/* Pool space is checked per base, before its upload (prepare_base). */
	for (size_t k = 0; rc == 0 && k < hp.ndisks; k++) {
		if (hp.disks[k].cdrom || hp.disks[k].hw_disk >= pl->hw.ndisks)
			continue;
		const struct ovf_hw_disk *hd = &pl->hw.disks[hp.disks[k].hw_disk];
		if (nd >= VMSPEC_MAX_DISKS) {
			rc = od_err_set(e, OD_E_UNSUPPORTED, "the appliance has more than %d disks", VMSPEC_MAX_DISKS);
			break;
		}
		struct lv_disk *d = &disks[nd++];
		if (hd->file)
			rc = prepare_base(c, pl, o, name, nd - 1, hd, &m, d, e);
		else
			d->capacity = hd->capacity_bytes;
		if (rc < 0)
			break;
		if (!d->capacity) {
			rc = od_err_set(e, OD_E_INVALID, "disk %zu has no capacity", nd - 1);
			break;
		}
		d->overlay = od_asprintf("%s-disk%zu.qcow2", name, nd - 1);
		if (!d->overlay) {
			rc = od_err_nomem(e);
			break;
		}
		char *bpath = d->base ? vol_path(m.pool, d->base, e) : NULL;
		if (d->base && !bpath) {
			rc = -1;
			break;
		}
		virStorageVolPtr v = vol_create(m.pool, d->overlay, "qcow2", d->capacity, bpath, d->base_fmt, e);
		free(bpath);
		if (!v) {
			rc = -1;
			break;
		}
		virStorageVolFree(v);
		/* Listed once made: a volume that was there before is not ours to delete. */
		if (made_add(&m, d->overlay) < 0) {
			rc = od_err_nomem(e);
			break;
		}
	}
	if (rc == 0)
		rc = upload_env(c, pl, name, o, &m, &env_vol, e);
	if (rc == 0 && (dir = pool_dir(m.pool)) != NULL) {
		log = od_asprintf("%s/%s.console.log", dir, name);
		log_vol = od_asprintf("%s.console.log", name);
		if (!log || !log_vol)
			rc = od_err_nomem(e);
	}
	od_buf x = {0};
	if (rc == 0)
		rc = domain_xml(c, pl, name, o, fw == OVF_FIRMWARE_EFI, pool_name, &hp, disks, nd, env_vol, &net, log, log_vol, &x, e);
	if (rc == 0) {
		virDomainPtr dom = virDomainDefineXML(c->conn, x.data);
		if (!dom)
			rc = od_err_set(e, OD_E_IO, "%s: defining domain '%s': %s", c->uri, name, lv_msg());
		else
			virDomainFree(dom);
	}
	od_buf_free(&x);
	if (rc < 0) {
		/* Keep the error: deleting may set libvirt's. */
		for (size_t i = m.nvols; i-- > 0;)
			vol_delete_name(m.pool, m.vols[i]);
	}
	for (size_t i = 0; i < nd; i++) {
		free(disks[i].base);
		free(disks[i].base_fmt);
		free(disks[i].overlay);
	}
	strv_free(m.vols, m.nvols);
	virStoragePoolFree(m.pool);
	hwplan_free(&hp);
	free(env_vol);
	free(log);
	free(log_vol);
	free(dir);
	return rc;
}

/* ---- life cycle ------------------------------------------------------------------- */

static virDomainPtr find_ours(lv_conn *c, const char *name, xmlDocPtr *meta, od_err *e)
{
	virDomainPtr d = virDomainLookupByName(c->conn, name);
	if (!d) {
		od_err_set(e, OD_E_USAGE, "%s: no instance '%s'", c->uri, name);
		return NULL;
	}
	char *md = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, LV_METADATA_NS, 0);
	virResetLastError();
	xmlDocPtr doc = xml_parse(md);
	free(md);
	if (!doc) {
		virDomainFree(d);
		od_err_set(e, OD_E_USAGE, "%s: domain '%s' was not deployed by ovfdeploy; use virsh for it", c->uri, name);
		return NULL;
	}
	if (meta)
		*meta = doc;
	else
		xmlFreeDoc(doc);
	return d;
}

static int dom_state(virDomainPtr d)
{
	int st = 0, reason = 0;
	if (virDomainGetState(d, &st, &reason, 0) < 0)
		return -1;
	return st;
}

static const char *state_name(int st)
{
	switch (st) {
	case VIR_DOMAIN_RUNNING: return "running";
	case VIR_DOMAIN_BLOCKED: return "running";
	case VIR_DOMAIN_PAUSED: return "paused";
	case VIR_DOMAIN_SHUTDOWN: return "stopping";
	case VIR_DOMAIN_SHUTOFF: return "stopped";
	case VIR_DOMAIN_CRASHED: return "crashed";
	case VIR_DOMAIN_PMSUSPENDED: return "suspended";
	default: return "unknown";
	}
}

/* The last `max` bytes of a file, for messages; NULL when unreadable (a
 * remote host's log is not ours to read). */
static char *file_tail(const char *path, size_t max)
{
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return NULL;
	struct stat st;
	char *buf = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		off_t off = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
		size_t len = (size_t)(st.st_size - off);
		buf = malloc(len + 1);
		ssize_t n = buf ? pread(fd, buf, len, off) : -1;
		if (n < 0) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	close(fd);
	return buf;
}

static bool same_host(lv_conn *c)
{
	char here[256];
	char *there = virConnectGetHostname(c->conn);
	virResetLastError();
	bool same = there && gethostname(here, sizeof here) == 0 && (here[sizeof here - 1] = '\0', !strcmp(here, there));
	free(there);
	return same;
}

int lv_start(lv_conn *c, const char *name, od_err *e)
{
	xmlDocPtr meta = NULL;
	virDomainPtr d = find_ours(c, name, &meta, e);
	if (!d)
		return -1;
	int rc = 0;
	if (dom_state(d) == VIR_DOMAIN_RUNNING) {
		rc = od_err_set(e, OD_E_USAGE, "instance '%s' is running already", name);
	} else if (virDomainCreate(d) < 0) {
		/* the reason first: the calls below reset libvirt's last error */
		char why[512];
		snprintf(why, sizeof why, "%s", lv_msg());
		char *log = xml_xpath(meta, "string(/instance/console-log)");
		/* The log is on the host: read it only when that is this machine. */
		char *tail = same_host(c) ? file_tail(log, 1024) : NULL;
		od_err_set(e, OD_E_IO, "%s: domain '%s' failed to start: %s%s%s", c->uri, name, why,
			   tail && *tail ? "; the console log ends with: " : "", tail ? tail : "");
		rc = -1;
		free(tail);
		free(log);
	}
	xmlFreeDoc(meta);
	virDomainFree(d);
	return rc;
}

int lv_stop(lv_conn *c, const char *name, unsigned timeout_s, bool *forced, od_err *e)
{
	*forced = false;
	virDomainPtr d = find_ours(c, name, NULL, e);
	if (!d)
		return -1;
	int rc = 0;
	if (dom_state(d) == VIR_DOMAIN_SHUTOFF) {
		rc = od_err_set(e, OD_E_USAGE, "instance '%s' is not running", name);
		goto out;
	}
	if (virDomainShutdownFlags(d, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) < 0)
		virResetLastError(); /* then the hard way below */
	for (unsigned t = 0; t < timeout_s * 10; t++) {
		int st = dom_state(d);
		if (st == VIR_DOMAIN_SHUTOFF || st < 0)
			goto out;
		usleep(100 * 1000);
	}
	*forced = true;
	if (virDomainDestroy(d) < 0 && dom_state(d) != VIR_DOMAIN_SHUTOFF)
		rc = od_err_set(e, OD_E_IO, "%s: cannot stop '%s': %s", c->uri, name, lv_msg());
out:
	virDomainFree(d);
	return rc;
}

/* pause (virDomainSuspend) or resume (virDomainResume), with the same
 * errors as the local backends (pause.c) */
int lv_pause(lv_conn *c, const char *name, bool pause, od_err *e)
{
	virDomainPtr d = find_ours(c, name, NULL, e);
	if (!d)
		return -1;
	int rc = 0, st = dom_state(d);
	if (st == VIR_DOMAIN_SHUTOFF || st == VIR_DOMAIN_SHUTDOWN || st < 0)
		rc = od_err_set(e, OD_E_USAGE, "instance '%s' is not running", name);
	else if (pause && st == VIR_DOMAIN_PAUSED)
		rc = od_err_set(e, OD_E_USAGE, "instance '%s' is paused already (resume it with 'ovfdeploy resume %s')",
				name, name);
	else if (!pause && st != VIR_DOMAIN_PAUSED)
		rc = od_err_set(e, OD_E_USAGE, "instance '%s' is not paused (it is running)", name);
	else if ((pause ? virDomainSuspend(d) : virDomainResume(d)) < 0)
		rc = od_err_set(e, OD_E_IO, "%s: cannot %s '%s': %s", c->uri, pause ? "pause" : "resume", name, lv_msg());
	virDomainFree(d);
	return rc;
}

int lv_display(lv_conn *c, const char *name, bool *running, char **vnc_socket, od_err *e)
{
	*running = false, *vnc_socket = NULL;
	virDomainPtr d = find_ours(c, name, NULL, e);
	if (!d)
		return -1;
	int st = dom_state(d);
	*running = st == VIR_DOMAIN_RUNNING || st == VIR_DOMAIN_PAUSED || st == VIR_DOMAIN_BLOCKED;
	/* the live definition names the socket libvirt made; the inactive one
	 * says only whether there is a screen */
	char *x = virDomainGetXMLDesc(d, 0);
	virDomainFree(d);
	xmlDocPtr doc = x ? xml_parse(x) : NULL;
	free(x);
	if (!doc)
		return od_err_set(e, OD_E_IO, "%s: the definition of '%s': %s", c->uri, name, lv_msg());
	char *n = xml_xpath(doc, "string(count(/domain/devices/graphics[@type='vnc']))");
	int rc = 0;
	if (!n || !strcmp(n, "0"))
		rc = od_err_set(e, OD_E_USAGE, "instance '%s' has no screen (deployed with --no-screen)", name);
	else
		*vnc_socket = xml_xpath(doc, "string(/domain/devices/graphics[@type='vnc']/listen[@type='socket']/@socket)");
	free(n);
	xmlFreeDoc(doc);
	return rc;
}

int lv_send_keys(lv_conn *c, const char *name, const unsigned (*chords)[2], size_t n, od_err *e)
{
	virDomainPtr d = find_ours(c, name, NULL, e);
	if (!d)
		return -1;
	int rc = 0, st = dom_state(d);
	if (st != VIR_DOMAIN_RUNNING && st != VIR_DOMAIN_BLOCKED)
		rc = od_err_set(e, OD_E_USAGE, "instance '%s' is not running%s", name,
				st == VIR_DOMAIN_PAUSED ? " (it is paused: resume it first)" : "");
	/* one chord at a time, the keys of a chord pressed together (Shift
	 * first) and released after the hold time (ms) */
	for (size_t i = 0; rc == 0 && i < n; i++) {
		unsigned int keys[2] = {chords[i][0], chords[i][1]};
		if (virDomainSendKey(d, VIR_KEYCODE_SET_LINUX, 30, keys, keys[1] ? 2 : 1, 0) < 0)
			rc = od_err_set(e, OD_E_IO, "%s: typing on '%s': %s", c->uri, name, lv_msg());
	}
	virDomainFree(d);
	return rc;
}

/* A picture of a domain's screen as the host's hypervisor makes it
 * (QEMU: a binary PPM).  The stream is the host's: its size is capped
 * before anything grows, at what the largest screen we accept needs. */
#define LV_SHOT_MAX ((size_t)3 * 8192 * 8192 + 4096)

int lv_screenshot(lv_conn *c, const char *name, unsigned char **data, size_t *len, char **mime, od_err *e)
{
	*data = NULL, *len = 0, *mime = NULL;
	virDomainPtr d = find_ours(c, name, NULL, e);
	if (!d)
		return -1;
	int rc = 0, st = dom_state(d);
	virStreamPtr s = NULL;
	od_buf b = {0};
	if (st != VIR_DOMAIN_RUNNING && st != VIR_DOMAIN_PAUSED && st != VIR_DOMAIN_BLOCKED) {
		rc = od_err_set(e, OD_E_USAGE, "instance '%s' is not running", name);
		goto out;
	}
	if (!(s = virStreamNew(c->conn, 0))) {
		rc = lv_fail(e, OD_E_IO, "opening a stream");
		goto out;
	}
	char *m = virDomainScreenshot(d, s, 0, 0);
	if (!m) {
		rc = od_err_set(e, OD_E_IO, "%s: screenshot of '%s': %s", c->uri, name, lv_msg());
		goto out;
	}
	*mime = m;
	char chunk[65536];
	for (;;) {
		int n = virStreamRecv(s, chunk, sizeof chunk);
		if (n == 0)
			break;
		if (n < 0) {
			rc = od_err_set(e, OD_E_IO, "%s: screenshot of '%s': %s", c->uri, name, lv_msg());
			break;
		}
		if (b.len + (size_t)n > LV_SHOT_MAX) {
			rc = od_err_set(e, OD_E_INVALID, "%s: the screenshot of '%s' is larger than %zu bytes", c->uri, name,
					LV_SHOT_MAX);
			break;
		}
		if (od_buf_append(&b, chunk, (size_t)n)) {
			rc = od_err_nomem(e);
			break;
		}
	}
	if (rc == 0 && virStreamFinish(s) < 0)
		rc = od_err_set(e, OD_E_IO, "%s: screenshot of '%s': %s", c->uri, name, lv_msg());
	else if (rc < 0)
		virStreamAbort(s);
out:
	if (s)
		virStreamFree(s);
	virDomainFree(d);
	if (rc < 0) {
		od_buf_free(&b);
		free(*mime);
		*mime = NULL;
		return -1;
	}
	*data = (unsigned char *)b.data, *len = b.len;
	return 0;
}

/* Is base volume `base` used by an instance other than `self`? */
static int base_in_use(lv_conn *c, const char *base, const char *self, bool *used, od_err *e)
{
	*used = false;
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(c->conn, &doms, 0);
	if (n < 0)
		return lv_fail(e, OD_E_IO, "listing domains");
	for (int i = 0; i < n; i++) {
		if (!*used && strcmp(virDomainGetName(doms[i]), self) != 0) {
			char *md = virDomainGetMetadata(doms[i], VIR_DOMAIN_METADATA_ELEMENT, LV_METADATA_NS, 0);
			virResetLastError();
			xmlDocPtr doc = xml_parse(md);
			free(md);
			if (doc) {
				size_t nb;
				char **bases = xml_xpath_all(doc, "/instance/base", &nb);
				for (size_t k = 0; k < nb; k++)
					if (!strcmp(bases[k], base))
						*used = true;
				strv_free(bases, nb);
				xmlFreeDoc(doc);
			}
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	return 0;
}

int lv_remove(lv_conn *c, const char *name, od_err *e)
{
	xmlDocPtr meta = NULL;
	virDomainPtr d = find_ours(c, name, &meta, e);
	if (!d)
		return -1;
	int rc = 0;
	size_t nv = 0, nb = 0;
	char **vols = NULL, **bases = NULL;
	char *pool_name = xml_xpath(meta, "string(/instance/pool)");
	char *log_vol = xml_xpath(meta, "string(/instance/console-log/@volume)");
	virStoragePoolPtr p = NULL;
	if (dom_state(d) != VIR_DOMAIN_SHUTOFF) {
		rc = od_err_set(e, OD_E_USAGE, "instance '%s' is running: stop it first ('ovfdeploy stop --connect %s %s')",
				name, c->uri, name);
		goto out;
	}
	vols = xml_xpath_all(meta, "/instance/volume", &nv);
	bases = xml_xpath_all(meta, "/instance/base", &nb);
	if (pool_name && !(p = find_pool(c, pool_name, e))) {
		rc = -1;
		goto out;
	}
	/* with its UEFI variable store, if it has one (plain undefine
	 * refuses a domain that has); drivers without variable stores may
	 * not know the flag */
	int u = virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_NVRAM);
	if (u < 0 && (virGetLastErrorCode() == VIR_ERR_NO_SUPPORT || virGetLastErrorCode() == VIR_ERR_INVALID_ARG)) {
		virResetLastError();
		u = virDomainUndefine(d);
	}
	if (u < 0) {
		rc = od_err_set(e, OD_E_IO, "%s: undefining '%s': %s", c->uri, name, lv_msg());
		goto out;
	}
	for (size_t i = 0; p && i < nv; i++)
		vol_delete_name(p, vols[i]);
	if (p && log_vol)
		vol_delete_name(p, log_vol);
	for (size_t i = 0; p && i < nb; i++) {
		bool used = false;
		if (base_in_use(c, bases[i], name, &used, e) < 0) {
			rc = -1;
			break;
		}
		/* A base listed twice (two disks from one file) goes once. */
		if (!used) {
			char *marker = od_asprintf("%s.complete", bases[i]);
			if (marker)
				vol_delete_name(p, marker);
			free(marker);
			vol_delete_name(p, bases[i]);
		}
	}
out:
	strv_free(vols, nv);
	strv_free(bases, nb);
	free(pool_name);
	free(log_vol);
	if (p)
		virStoragePoolFree(p);
	xmlFreeDoc(meta);
	virDomainFree(d);
	return rc;
}

int lv_console(lv_conn *c, const char *name, int in_fd, int out_fd, od_err *e)
{
	virDomainPtr d = find_ours(c, name, NULL, e);
	if (!d)
		return -1;
	int rc = 0;
	if (dom_state(d) != VIR_DOMAIN_RUNNING) {
		virDomainFree(d);
		return od_err_set(e, OD_E_USAGE, "instance '%s' is not running (start it with 'ovfdeploy start --connect %s %s')",
				  name, c->uri, name);
	}
	virStreamPtr st = virStreamNew(c->conn, VIR_STREAM_NONBLOCK);
	if (!st || virDomainOpenConsole(d, NULL, st, VIR_DOMAIN_CONSOLE_FORCE) < 0) {
		rc = od_err_set(e, OD_E_IO, "%s: cannot attach to the console of '%s': %s", c->uri, name, lv_msg());
		if (st)
			virStreamFree(st);
		virDomainFree(d);
		return rc;
	}
	bool ctrl_a = false, done = false;
	int in = in_fd;
	unsigned idle = 0;
	while (!done) {
		struct pollfd p = {.fd = in, .events = POLLIN};
		int pr = poll(&p, 1, 50);
		char buf[4096];
		bool busy = false;
		if (pr > 0 && (p.revents & (POLLIN | POLLHUP))) {
			ssize_t n = read(in, buf, sizeof buf);
			if (n <= 0) {
				in = -1; /* input ended: keep showing output */
			} else {
				/* Ctrl-A x detaches, Ctrl-A Ctrl-A sends one Ctrl-A. */
				char outb[2 * sizeof buf];
				size_t out = 0;
				for (ssize_t i = 0; i < n && !done; i++) {
					if (ctrl_a) {
						ctrl_a = false;
						if (buf[i] == 'x') {
							done = true;
							break;
						}
						if (buf[i] != 1)
							outb[out++] = 1;
					} else if (buf[i] == 1) {
						ctrl_a = true;
						continue;
					}
					outb[out++] = buf[i];
				}
				for (size_t sent = 0; sent < out;) {
					int s = virStreamSend(st, outb + sent, out - sent);
					if (s == -2) {
						usleep(10 * 1000);
						continue;
					}
					if (s < 0) {
						done = true;
						break;
					}
					sent += (size_t)s;
				}
			}
		}
		for (int k = 0; k < 64 && !done; k++) {
			int n = virStreamRecv(st, buf, sizeof buf);
			if (n == -2)
				break;
			if (n <= 0) {
				done = true; /* the guest went away */
				break;
			}
			busy = true;
			if (od_write_all(out_fd, buf, (size_t)n, "console", e) < 0) {
				done = true;
				rc = -1;
			}
		}
		/* Ten times a second: is the guest still there? */
		if (!busy && ++idle % 10 == 0) {
			int s = dom_state(d);
			if (s != VIR_DOMAIN_RUNNING && s != VIR_DOMAIN_BLOCKED && s != VIR_DOMAIN_PAUSED)
				done = true;
		}
	}
	virStreamAbort(st);
	virStreamFree(st);
	virResetLastError();
	virDomainFree(d);
	return rc;
}

int lv_list(lv_conn *c, struct lv_instance **out, size_t *n, od_err *e)
{
	*out = NULL;
	*n = 0;
	virDomainPtr *doms = NULL;
	int nd = virConnectListAllDomains(c->conn, &doms, 0);
	if (nd < 0)
		return lv_fail(e, OD_E_IO, "listing domains");
	struct lv_instance *v = calloc((size_t)nd + 1, sizeof *v);
	int rc = v ? 0 : od_err_nomem(e);
	for (int i = 0; i < nd; i++) {
		char *md = rc == 0 ? virDomainGetMetadata(doms[i], VIR_DOMAIN_METADATA_ELEMENT, LV_METADATA_NS, 0) : NULL;
		virResetLastError();
		xmlDocPtr doc = xml_parse(md);
		free(md);
		if (doc) {
			struct lv_instance *x = &v[*n];
			x->name = od_strdup(virDomainGetName(doms[i]));
			x->state = od_strdup(state_name(dom_state(doms[i])));
			x->package = xml_xpath(doc, "string(/instance/package/@path)");
			x->option = xml_xpath(doc, "string(/instance/option)");
			x->pool = xml_xpath(doc, "string(/instance/pool)");
			x->console_log = xml_xpath(doc, "string(/instance/console-log)");
			size_t nb = 0;
			char **bases = xml_xpath_all(doc, "/instance/base", &nb);
			strv_free(bases, nb);
			x->nbases = nb;
			(*n)++;
			xmlFreeDoc(doc);
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	if (rc < 0) {
		lv_list_free(v, *n);
		*n = 0;
		return -1;
	}
	/* By name, as the local list. */
	for (size_t i = 1; i < *n; i++)
		for (size_t j = i; j > 0 && v[j - 1].name && v[j].name && strcmp(v[j - 1].name, v[j].name) > 0; j--) {
			struct lv_instance t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	*out = v;
	return 0;
}

void lv_list_free(struct lv_instance *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].state);
		free(v[i].package);
		free(v[i].option);
		free(v[i].pool);
		free(v[i].console_log);
	}
	free(v);
}
