/* vmdk_desc.c - the VMDK text descriptor: parsing (hostile input) and
 * generating the descriptors of the images we write.
 *
 * The grammar is informal: "key = value" lines (value optionally in double
 * quotes), extent lines "ACCESS SECTORS TYPE ["FILE" [OFFSET]]", and '#'
 * comments.  We accept what VMware, QEMU and ovftool write, ignore keys we do
 * not know, and refuse anything whose numbers do not parse exactly. */
#include "config.h"
#include "disk/vmdk_priv.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Exact unsigned decimal: digits only, no sign, no overflow. */
static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (!od_mul_u64(v, 10, &v) || !od_add_u64(v, (uint64_t)(s[i] - '0'), &v))
			return false;
	}
	*out = v;
	return true;
}

static bool parse_hex32(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	if (n == 0 || n > 8)
		return false;
	for (size_t i = 0; i < n; i++) {
		int c = tolower((unsigned char)s[i]);
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return true;
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Next whitespace-delimited token of an extent line. */
static bool token(const char **pp, const char *end, const char **tok, size_t *n)
{
	const char *p = skip_ws(*pp, end);
	const char *s = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	*tok = s;
	*n = (size_t)(p - s);
	*pp = p;
	return *n > 0;
}

static int parse_extent(const char *p, const char *end, unsigned lineno, const char *name,
			struct vmdk_desc *d, od_err *e)
{
	struct vmdk_desc_extent x = {0};
	const char *t;
	size_t n;

	if (d->next >= VMDK_MAX_EXTENTS)
		return od_err_set(e, OD_E_INVALID, "%s: descriptor line %u: more than %u extents", name, lineno,
				  VMDK_MAX_EXTENTS);
	token(&p, end, &t, &n);
	if (n == 2 && !memcmp(t, "RW", 2))
		x.access = VMDK_RW;
	else if (n == 6 && !memcmp(t, "RDONLY", 6))
		x.access = VMDK_RDONLY;
	else
		x.access = VMDK_NOACCESS;
	if (!token(&p, end, &t, &n) || !parse_u64(t, n, &x.sectors) || x.sectors == 0 ||
	    x.sectors > VMDK_MAX_BYTES / VMDK_SECTOR)
		return od_err_set(e, OD_E_INVALID, "%s: descriptor line %u: bad extent size '%.*s' (sectors)", name,
				  lineno, (int)(n > 40 ? 40 : n), t);
	if (!token(&p, end, &t, &n))
		return od_err_set(e, OD_E_INVALID, "%s: descriptor line %u: extent type missing", name, lineno);
	static const struct { const char *s; int type; } types[] = {
		{"SPARSE", VMDK_SPARSE}, {"FLAT", VMDK_FLAT}, {"ZERO", VMDK_ZERO},
		{"VMFS", VMDK_VMFS}, {"VMFSSPARSE", VMDK_VMFSSPARSE},
	};
	x.type = -1;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strlen(types[i].s) == n && !memcmp(types[i].s, t, n))
			x.type = types[i].type;
	if (x.type < 0)
		return od_err_set(e, OD_E_UNSUPPORTED, "%s: descriptor line %u: extent type '%.*s' is not supported",
				  name, lineno, (int)(n > 40 ? 40 : n), t);
	p = skip_ws(p, end);
	if (x.type != VMDK_ZERO) {
		/* The file name is in double quotes and may contain spaces; VMDK
		 * has no escapes, so the name ends at the next quote. */
		if (p >= end || *p != '"')
			return od_err_set(e, OD_E_INVALID, "%s: descriptor line %u: extent file name must be in double quotes",
					  name, lineno);
		const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
		if (!q || q == p + 1)
			return od_err_set(e, OD_E_INVALID, "%s: descriptor line %u: unterminated or empty extent file name",
					  name, lineno);
		x.file = od_strndup(p + 1, (size_t)(q - p - 1));
		if (!x.file)
			return od_err_nomem(e);
		p = q + 1;
		if (token(&p, end, &t, &n)) {
			if (!parse_u64(t, n, &x.offset) || x.offset > VMDK_MAX_BYTES / VMDK_SECTOR) {
				free(x.file);
				return od_err_set(e, OD_E_INVALID, "%s: descriptor line %u: bad extent offset '%.*s'", name,
						  lineno, (int)(n > 40 ? 40 : n), t);
			}
		}
	}
	if (!od_add_u64(d->sectors, x.sectors, &d->sectors) || d->sectors > VMDK_MAX_BYTES / VMDK_SECTOR) {
		free(x.file);
		return od_err_set(e, OD_E_INVALID, "%s: descriptor line %u: total size of the extents is too large", name,
				  lineno);
	}
	if (d->next % 16 == 0) {
		struct vmdk_desc_extent *ne = realloc(d->ext, (d->next + 16) * sizeof *ne);
		if (!ne) {
			free(x.file);
			return od_err_nomem(e);
		}
		d->ext = ne;
	}
	d->ext[d->next++] = x;
	return 0;
}

/* "value" or value, trailing blanks trimmed. Returns a new string. */
static char *dup_value(const char *v, const char *end)
{
	v = skip_ws(v, end);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end - v >= 2 && *v == '"' && end[-1] == '"')
		v++, end--;
	return od_strndup(v, (size_t)(end - v));
}

int vmdk_desc_parse(const char *text, size_t len, const char *name, struct vmdk_desc *d, od_err *e)
{
	memset(d, 0, sizeof *d);
	if (len > VMDK_MAX_DESC)
		return od_err_set(e, OD_E_INVALID, "%s: descriptor of %zu bytes is larger than the limit of %u bytes", name,
				  len, VMDK_MAX_DESC);
	const char *nul = memchr(text, '\0', len);
	if (nul)
		len = (size_t)(nul - text);
	const char *p = text, *end = text + len;
	unsigned lineno = 0;
	bool seen_header = false;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		const char *next = eol ? eol + 1 : end;
		lineno++;
		if (le > p && le[-1] == '\r')
			le--;
		const char *s = skip_ws(p, le);
		p = next;
		if (s == le)
			continue;
		if (*s == '#') {
			if (le - s >= 21 && !memcmp(s, "# Disk DescriptorFile", 21))
				seen_header = true;
			continue;
		}
		size_t n = (size_t)(le - s);
		if ((n > 3 && !memcmp(s, "RW ", 3)) || (n > 7 && !memcmp(s, "RDONLY ", 7)) ||
		    (n > 9 && !memcmp(s, "NOACCESS ", 9))) {
			if (parse_extent(s, le, lineno, name, d, e) < 0)
				goto fail;
			continue;
		}
		const char *eq = memchr(s, '=', n);
		if (!eq) {
			od_err_set(e, OD_E_INVALID, "%s: descriptor line %u is neither 'key = value' nor an extent", name,
				   lineno);
			goto fail;
		}
		const char *ke = eq;
		while (ke > s && (ke[-1] == ' ' || ke[-1] == '\t'))
			ke--;
		size_t kn = (size_t)(ke - s);
		char *val = dup_value(eq + 1, le);
		if (!val) {
			od_err_nomem(e);
			goto fail;
		}
		int bad = 0;
		uint64_t u;
#define KEY(k) (kn == strlen(k) && !strncasecmp(s, k, kn))
		if (KEY("version")) {
			if (!parse_u64(val, strlen(val), &u) || u < 1 || u > 3)
				bad = 1;
			else
				d->version = (unsigned)u;
		} else if (KEY("CID")) {
			bad = !parse_hex32(val, strlen(val), &d->cid);
			d->has_cid = true;
		} else if (KEY("parentCID")) {
			bad = !parse_hex32(val, strlen(val), &d->parent_cid);
			d->has_parent_cid = true;
		} else if (KEY("createType")) {
			free(d->create_type);
			d->create_type = val, val = NULL;
		} else if (KEY("parentFileNameHint")) {
			free(d->parent_hint);
			d->parent_hint = val, val = NULL;
		} else if (KEY("ddb.adapterType")) {
			free(d->adapter_type);
			d->adapter_type = val, val = NULL;
		}
#undef KEY
		if (bad) {
			od_err_set(e, OD_E_INVALID, "%s: descriptor line %u: bad value '%.40s' for %.*s", name, lineno, val,
				   (int)(kn > 40 ? 40 : kn), s);
			free(val);
			goto fail;
		}
		free(val);
	}
	if (!d->create_type) {
		od_err_set(e, OD_E_INVALID, "%s: descriptor has no createType%s", name,
			   seen_header ? "" : " (is this a VMDK descriptor?)");
		goto fail;
	}
	if (d->next == 0) {
		od_err_set(e, OD_E_INVALID, "%s: descriptor lists no extents", name);
		goto fail;
	}
	return 0;
fail:
	vmdk_desc_free(d);
	return -1;
}

void vmdk_desc_free(struct vmdk_desc *d)
{
	for (size_t i = 0; i < d->next; i++)
		free(d->ext[i].file);
	free(d->ext);
	free(d->create_type);
	free(d->parent_hint);
	free(d->adapter_type);
	memset(d, 0, sizeof *d);
}

/* A CID identifies the content for parent/child links; it only has to differ
 * from the last one, so /dev/urandom with a time-based fallback is plenty. */
uint32_t vmdk_random_cid(void)
{
	uint32_t v = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &v, sizeof v) != (ssize_t)sizeof v)
			v = 0;
		close(fd);
	}
	if (!v) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		v = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec ^ (uint32_t)getpid();
	}
	/* 0xffffffff means "no parent" in parentCID and 0xfffffffe is what
	 * QEMU writes before the first change; avoid both. */
	if (v >= 0xfffffffeu)
		v = 0x12345678u;
	return v;
}

char *vmdk_desc_make(const char *create_type, uint64_t sectors, const char *extent_file, const char *adapter,
		     uint32_t cid)
{
	/* BIOS-style geometry: what VMware derives for the adapter type; IDE
	 * disks use 16 heads, SCSI ones 255.  Cylinders saturate. */
	bool ide = adapter && !strcmp(adapter, "ide");
	uint64_t heads = ide ? 16 : 255, secs = 63;
	uint64_t cyl = sectors / (heads * secs);
	uint64_t cmax = ide ? 16383 : 65535;
	if (cyl > cmax)
		cyl = cmax;
	if (cyl == 0)
		cyl = 1;
	return od_asprintf("# Disk DescriptorFile\n"
			   "version=1\n"
			   "encoding=\"UTF-8\"\n"
			   "CID=%08x\n"
			   "parentCID=ffffffff\n"
			   "createType=\"%s\"\n"
			   "\n"
			   "# Extent description\n"
			   "RW %llu SPARSE \"%s\"\n"
			   "\n"
			   "# The Disk Data Base\n"
			   "#DDB\n"
			   "\n"
			   "ddb.adapterType = \"%s\"\n"
			   "ddb.geometry.cylinders = \"%llu\"\n"
			   "ddb.geometry.heads = \"%llu\"\n"
			   "ddb.geometry.sectors = \"%llu\"\n"
			   "ddb.longContentID = \"%08x%08x%08x%08x\"\n"
			   "ddb.virtualHWVersion = \"4\"\n",
			   cid, create_type, (unsigned long long)sectors, extent_file, adapter ? adapter : "lsilogic",
			   (unsigned long long)cyl, (unsigned long long)heads, (unsigned long long)secs, cid,
			   vmdk_random_cid(), vmdk_random_cid(), vmdk_random_cid());
}
