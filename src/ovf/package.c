/* package.c - reading packages: an OVA (tar), an OVF directory or a lone
 * .ovf.  We walk the tar headers ourselves rather than through libarchive:
 * we need each member's byte offset inside the OVA (disks are opened in
 * place), and a small parser that refuses everything odd is easier to trust
 * with hostile input than a general one that accepts everything. */
#include "config.h"
#include "ovf/ovf.h"
#include "ovf/pkg_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#define BLOCK 512
#define PAX_MAX (64u * 1024)      /* largest PAX or GNU long-name record we read */
#define IO_CHUNK (1u << 20)

/* ---- names --------------------------------------------------------------- */

/* Normalise a member name in place ("./a" -> "a", "a//b" -> "a/b") and judge
 * it: no absolute names, no "..", no control characters, not empty, not
 * longer than OVF_NAME_MAX.  `what` names the source for messages. */
int ovf__check_name(char *name, const char *what, od_err *e)
{
	if (name[0] == '/')
		return od_err_set(e, OD_E_INVALID, "%s: member '%s' has an absolute name", what, name);
	for (const char *c = name; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return od_err_set(e, OD_E_INVALID, "%s: member name with a control character", what);
	/* Rebuild component by component. */
	char *w = name;
	const char *r = name;
	while (*r) {
		const char *slash = strchr(r, '/');
		size_t n = slash ? (size_t)(slash - r) : strlen(r);
		if (n == 2 && r[0] == '.' && r[1] == '.')
			return od_err_set(e, OD_E_INVALID, "%s: member '%s' has a '..' component (it would escape the destination)",
					  what, name);
		if (!(n == 0 || (n == 1 && r[0] == '.'))) {
			if (w != name)
				*w++ = '/';
			memmove(w, r, n);
			w += n;
		}
		r += n;
		if (*r == '/')
			r++;
	}
	*w = 0;
	if (!name[0])
		return od_err_set(e, OD_E_INVALID, "%s: member with an empty name", what);
	if (strlen(name) > OVF_NAME_MAX)
		return od_err_set(e, OD_E_INVALID, "%s: member name of %zu bytes is longer than ustar allows (%d)", what,
				  strlen(name), OVF_NAME_MAX);
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* ---- tar headers ----------------------------------------------------------- */

/* An octal field, or GNU base-256 when the top bit of the first byte is set. */
static int tar_number(const unsigned char *f, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (f[0] & 0x80) {
		if (f[0] & 0x40)
			return -1; /* negative */
		v = f[0] & 0x3f;
		for (size_t i = 1; i < n; i++) {
			if (v >> 56)
				return -1;
			v = v << 8 | f[i];
		}
		*out = v;
		return 0;
	}
	size_t i = 0;
	while (i < n && (f[i] == ' ' || f[i] == 0))
		i++;
	bool any = false;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 61)
			return -1;
		v = v << 3 | (uint64_t)(f[i] - '0');
		any = true;
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != 0)
			return -1;
	if (!any)
		v = 0;
	*out = v;
	return 0;
}

static bool block_is_zero(const unsigned char *b)
{
	for (int i = 0; i < BLOCK; i++)
		if (b[i])
			return false;
	return true;
}

static bool checksum_ok(const unsigned char *h)
{
	uint64_t want;
	if (tar_number(h + 148, 8, &want) < 0)
		return false;
	/* Old tars summed signed chars; accept either. */
	uint64_t us = 0;
	int64_t ss = 0;
	for (int i = 0; i < BLOCK; i++) {
		unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
		us += c;
		ss += (signed char)c;
	}
	return want == us || (int64_t)want == ss;
}

/* Parse PAX records "LEN key=value\n"; we use path and size. */
static int pax_parse(const char *d, size_t n, char **path, uint64_t *size, bool *has_size, const char *what,
		     od_err *e)
{
	size_t pos = 0;
	while (pos < n) {
		size_t len = 0, i = pos;
		while (i < n && d[i] >= '0' && d[i] <= '9' && len < PAX_MAX)
			len = len * 10 + (size_t)(d[i++] - '0');
		if (i >= n || d[i] != ' ' || len == 0 || len > n - pos)
			return od_err_set(e, OD_E_INVALID, "%s: malformed PAX header record", what);
		const char *kv = d + i + 1, *end = d + pos + len;
		if (kv >= end || end[-1] != '\n')
			return od_err_set(e, OD_E_INVALID, "%s: malformed PAX header record", what);
		const char *eq = memchr(kv, '=', (size_t)(end - kv));
		if (!eq)
			return od_err_set(e, OD_E_INVALID, "%s: PAX record without '='", what);
		size_t klen = (size_t)(eq - kv), vlen = (size_t)(end - 1 - eq - 1);
		if (klen == 4 && !memcmp(kv, "path", 4)) {
			free(*path);
			*path = od_strndup(eq + 1, vlen);
			if (!*path)
				return od_err_nomem(e);
		} else if (klen == 4 && !memcmp(kv, "size", 4)) {
			char tmp[32];
			if (vlen == 0 || vlen >= sizeof tmp)
				return od_err_set(e, OD_E_INVALID, "%s: bad PAX size", what);
			memcpy(tmp, eq + 1, vlen);
			tmp[vlen] = 0;
			char *endp;
			errno = 0;
			unsigned long long v = strtoull(tmp, &endp, 10);
			if (errno || *endp || tmp[0] == '-')
				return od_err_set(e, OD_E_INVALID, "%s: bad PAX size '%s'", what, tmp);
			*size = v;
			*has_size = true;
		} else if ((klen == 8 && !memcmp(kv, "linkpath", 8)) ||
			   (klen > 11 && !memcmp(kv, "GNU.sparse.", 11)))
			return od_err_set(e, OD_E_INVALID, "%s: PAX header '%.*s' (links and sparse files are refused)",
					  what, (int)klen, kv);
		pos += len;
	}
	return 0;
}

static int add_member(ovf_package *p, size_t *cap, char *name, uint64_t off, uint64_t size, od_err *e)
{
	if (p->nmembers >= OVF_MEMBERS_MAX) {
		free(name);
		return od_err_set(e, OD_E_INVALID, "%s: more than %d members", p->path, OVF_MEMBERS_MAX);
	}
	if (p->nmembers == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		struct ovf_member *nv = realloc(p->members, ncap * sizeof *nv);
		if (!nv) {
			free(name);
			return od_err_nomem(e);
		}
		p->members = nv;
		*cap = ncap;
	}
	struct ovf_member *m = &p->members[p->nmembers];
	memset(m, 0, sizeof *m);
	m->name = name;
	m->path = od_strdup(p->path);
	m->offset = off;
	m->size = size;
	m->present = true;
	if (!m->path)
		return od_err_nomem(e);
	p->nmembers++;
	return 0;
}

static int read_ova(ovf_package *p, int fd, od_err *e)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return od_err_errno(e, errno, "%s", p->path);
	uint64_t fsize = (uint64_t)st.st_size;
	uint64_t off = 0;
	size_t cap = 0;
	unsigned char h[BLOCK];
	char *longname = NULL, *paxpath = NULL;
	uint64_t paxsize = 0;
	bool has_paxsize = false, ended = false;
	int rc = -1;
	/* Each loop consumes at least one block, and members are capped, but
	 * PAX/GNU extension headers are not members: cap them separately. */
	unsigned ext_headers = 0;

	while (off < fsize) {
		if (fsize - off < BLOCK) {
			if (off == 0 && fsize >= 1 && pread(fd, h, 4, 0) >= 1 && h[0] == '<')
				od_err_set(e, OD_E_INVALID,
					   "%s: not a tar archive (OVA packages are tar files) but XML: if it is an OVF "
					   "descriptor, name it .ovf", p->path);
			else if (off == 0)
				od_err_set(e, OD_E_INVALID,
					   "%s: not a tar archive (OVA packages are tar files): %llu bytes, less than one tar "
					   "header; is the download complete?", p->path, (unsigned long long)fsize);
			else
				od_err_set(e, OD_E_INVALID,
					   "%s: truncated tar: %llu stray bytes at offset %llu where a header was expected",
					   p->path, (unsigned long long)(fsize - off), (unsigned long long)off);
			goto out;
		}
		if (od_pread_all(fd, h, BLOCK, off, p->path, e) < 0)
			goto out;
		if (block_is_zero(h)) {
			ended = true;
			break;
		}
		if (!checksum_ok(h)) {
			if (off == 0 && (h[0] == '<' || !memcmp(h, "\xef\xbb\xbf<", 4)))
				od_err_set(e, OD_E_INVALID,
					   "%s: not a tar archive (OVA packages are tar files) but XML: if it is an OVF "
					   "descriptor, name it .ovf", p->path);
			else if (off == 0)
				od_err_set(e, OD_E_INVALID,
					   "%s: not a tar archive (OVA packages are tar files): no tar header at its start "
					   "(a damaged or incomplete download?)", p->path);
			else
				od_err_set(e, OD_E_INVALID,
					   "%s: corrupt tar: bad header checksum at offset %llu (a damaged download?)",
					   p->path, (unsigned long long)off);
			goto out;
		}
		uint64_t size;
		if (tar_number(h + 124, 12, &size) < 0) {
			od_err_set(e, OD_E_INVALID, "%s: bad size field in the header at offset %llu", p->path,
				   (unsigned long long)off);
			goto out;
		}
		char type = (char)h[156];
		bool gnu = !memcmp(h + 257, "ustar  ", 8);
		bool ustar = !memcmp(h + 257, "ustar", 6); /* POSIX: the prefix field holds a name part */
		uint64_t data = off + BLOCK;
		if (type == 'x' && has_paxsize)
			has_paxsize = false; /* a PAX header's own size is the header's */
		if (has_paxsize && type != 'L' && type != 'g')
			size = paxsize;
		uint64_t padded;
		if (!od_add_u64(size, BLOCK - 1, &padded)) {
			od_err_set(e, OD_E_INVALID, "%s: absurd member size at offset %llu", p->path, (unsigned long long)off);
			goto out;
		}
		padded &= ~(uint64_t)(BLOCK - 1);
		if (!od_range_ok(data, size, fsize)) {
			od_err_set(e, OD_E_INVALID,
				   "%s: truncated tar: the member at offset %llu declares %llu bytes but the file ends %llu bytes after its header",
				   p->path, (unsigned long long)off, (unsigned long long)size,
				   (unsigned long long)(fsize - data));
			goto out;
		}
		if (type == 'L' || type == 'x' || type == 'g' || type == 'K') {
			if (++ext_headers > 4 * OVF_MEMBERS_MAX) {
				od_err_set(e, OD_E_INVALID, "%s: too many extension headers", p->path);
				goto out;
			}
			if (size > PAX_MAX) {
				od_err_set(e, OD_E_INVALID, "%s: %s header of %llu bytes at offset %llu is too large", p->path,
					   type == 'L' ? "GNU long name" : "PAX", (unsigned long long)size,
					   (unsigned long long)off);
				goto out;
			}
			if (type == 'K') {
				od_err_set(e, OD_E_INVALID, "%s: GNU long link name at offset %llu (links are refused)",
					   p->path, (unsigned long long)off);
				goto out;
			}
			char *buf = malloc((size_t)size + 1);
			if (!buf) {
				od_err_nomem(e);
				goto out;
			}
			if (od_pread_all(fd, buf, (size_t)size, data, p->path, e) < 0) {
				free(buf);
				goto out;
			}
			buf[size] = 0;
			if (type == 'L') {
				free(longname);
				longname = od_strndup(buf, strnlen(buf, (size_t)size));
				free(buf);
				if (!longname) {
					od_err_nomem(e);
					goto out;
				}
			} else if (type == 'x') {
				int r = pax_parse(buf, (size_t)size, &paxpath, &paxsize, &has_paxsize, p->path, e);
				free(buf);
				if (r < 0)
					goto out;
			} else
				free(buf); /* global PAX headers carry nothing we use */
			off = data + padded;
			continue;
		}

		/* The member's name: PAX path, GNU long name, or ustar prefix/name. */
		char *name;
		if (paxpath) {
			name = paxpath;
			paxpath = NULL;
		} else if (longname) {
			name = longname;
			longname = NULL;
		} else {
			char tmp[256 + 1 + 100 + 1];
			size_t pn = (ustar && !gnu) ? strnlen((const char *)h + 345, 155) : 0;
			size_t nn = strnlen((const char *)h, 100);
			if (pn) {
				memcpy(tmp, h + 345, pn);
				tmp[pn] = '/';
				memcpy(tmp + pn + 1, h, nn);
				tmp[pn + 1 + nn] = 0;
			} else {
				memcpy(tmp, h, nn);
				tmp[nn] = 0;
			}
			name = od_strdup(tmp);
			if (!name) {
				od_err_nomem(e);
				goto out;
			}
		}
		has_paxsize = false;
		const char *kind = NULL;
		switch (type) {
		case '0': case '\0': case '7': break;
		case '1': kind = "a hard link"; break;
		case '2': kind = "a symbolic link"; break;
		case '3': kind = "a character device"; break;
		case '4': kind = "a block device"; break;
		case '6': kind = "a FIFO"; break;
		case '5': break;
		case 'S': kind = "a GNU sparse file"; break;
		default: kind = "of an unknown type"; break;
		}
		if (kind) {
			od_err_set(e, OD_E_INVALID, "%s: member '%.300s' at offset %llu is %s; packages hold only regular files",
				   p->path, name, (unsigned long long)off, kind);
			free(name);
			goto out;
		}
		if (ovf__check_name(name, p->path, e) < 0) {
			free(name);
			goto out;
		}
		if (type == '5') {
			ovf_warn(&p->warnings, "%s: directory entry '%s' ignored", p->path, name);
			free(name);
			off = data + padded;
			continue;
		}
		if (ovf_package_member(p, name)) {
			od_err_set(e, OD_E_INVALID, "%s: member '%s' appears twice (which one would be verified?)", p->path,
				   name);
			free(name);
			goto out;
		}
		if (add_member(p, &cap, name, data, size, e) < 0)
			goto out;
		off = data + padded;
	}
	if (!ended)
		ovf_warn(&p->warnings, "%s: the tar has no end-of-archive marker (truncated?)", p->path);
	if (longname || paxpath) {
		od_err_set(e, OD_E_INVALID, "%s: truncated tar: an extension header is not followed by a member", p->path);
		goto out;
	}
	rc = 0;
out:
	free(longname);
	free(paxpath);
	return rc;
}

const struct ovf_member *ovf_package_member(const ovf_package *p, const char *name)
{
	/* Linear: members are capped at OVF_MEMBERS_MAX and looked up a few
	 * times each. */
	for (size_t i = 0; i < p->nmembers; i++)
		if (!strcmp(p->members[i].name, name))
			return &p->members[i];
	return NULL;
}

static int read_small(const ovf_package *p, const struct ovf_member *m, size_t limit, char **out, size_t *len,
		      od_err *e)
{
	if (m->size > limit)
		return od_err_set(e, OD_E_INVALID, "%s: '%s' is %llu bytes, more than the %zu we accept", p->path,
				  m->name, (unsigned long long)m->size, limit);
	int fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return od_err_errno(e, errno, "%s", m->path);
	char *buf = malloc((size_t)m->size + 1);
	if (!buf) {
		close(fd);
		return od_err_nomem(e);
	}
	if (od_pread_all(fd, buf, (size_t)m->size, m->offset, m->path, e) < 0) {
		free(buf);
		close(fd);
		return -1;
	}
	close(fd);
	buf[m->size] = 0;
	*out = buf;
	*len = (size_t)m->size;
	return 0;
}

/* The manifest and certificate go with the descriptor by name: app.ovf,
 * app.mf, app.cert. */
static char *sibling(const char *ovfname, const char *ext)
{
	size_t n = strlen(ovfname);
	if (n >= 4 && ends_with(ovfname, ".ovf"))
		n -= 4;
	return od_asprintf("%.*s%s", (int)n, ovfname, ext);
}

/* ---- directories and lone descriptors ------------------------------------ */

static int add_dir_member(ovf_package *p, size_t *cap, const char *name, bool must, od_err *e)
{
	if (ovf_package_member(p, name))
		return 0;
	char *n = od_strdup(name);
	if (!n)
		return od_err_nomem(e);
	if (add_member(p, cap, n, 0, 0, e) < 0)
		return -1;
	struct ovf_member *m = &p->members[p->nmembers - 1];
	free(m->path);
	m->path = od_asprintf("%s/%s", p->dir, name);
	if (!m->path)
		return od_err_nomem(e);
	struct stat st;
	if (stat(m->path, &st) < 0) {
		if (errno != ENOENT)
			return od_err_errno(e, errno, "%s", m->path);
		m->present = false;
		if (!must) {
			free(m->name);
			free(m->path);
			p->nmembers--;
		}
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return od_err_set(e, OD_E_INVALID, "%s: not a regular file", m->path);
	m->size = (uint64_t)st.st_size;
	return 0;
}

static bool is_remote(const char *href)
{
	return strstr(href, "://") != NULL;
}

static int read_dir(ovf_package *p, const char *ovf_path, od_err *e)
{
	char *slash = strrchr(ovf_path, '/');
	p->dir = slash ? od_strndup(ovf_path, (size_t)(slash - ovf_path)) : od_strdup(".");
	if (!p->dir)
		return od_err_nomem(e);
	if (p->dir[0] == 0) {
		free(p->dir);
		p->dir = od_strdup("/");
		if (!p->dir)
			return od_err_nomem(e);
	}
	const char *base = slash ? slash + 1 : ovf_path;
	size_t cap = 0;
	if (add_dir_member(p, &cap, base, true, e) < 0)
		return -1;
	if (!p->members[0].present)
		return od_err_set(e, OD_E_IO, "%s: no such file", ovf_path);
	char *mf = sibling(base, ".mf"), *cert = sibling(base, ".cert");
	int rc = (!mf || !cert) ? od_err_nomem(e) : 0;
	if (rc == 0)
		rc = add_dir_member(p, &cap, mf, false, e);
	if (rc == 0)
		rc = add_dir_member(p, &cap, cert, false, e);
	free(mf);
	free(cert);
	return rc;
}

/* Called once the envelope is parsed: add the References files of a
 * directory package. */
static int add_dir_files(ovf_package *p, od_err *e)
{
	size_t cap = p->nmembers;
	for (size_t i = 0; i < p->env->nfiles; i++) {
		const struct ovf_file *f = &p->env->files[i];
		if (!f->href || is_remote(f->href))
			continue;
		char *name = od_strdup(f->href);
		if (!name)
			return od_err_nomem(e);
		if (ovf__check_name(name, p->path, e) < 0) {
			free(name);
			return -1;
		}
		int rc = 0;
		if (f->has_chunk_size && f->chunk_size > 0) {
			/* Chunks exist until the first missing one; the count is
			 * bounded by the member cap. */
			for (unsigned c = 0; c < OVF_MEMBERS_MAX && rc == 0; c++) {
				char *cn = od_asprintf("%s.%09u", name, c);
				if (!cn) {
					rc = od_err_nomem(e);
					break;
				}
				size_t before = p->nmembers;
				rc = add_dir_member(p, &cap, cn, c == 0, e);
				free(cn);
				if (rc == 0 && (p->nmembers == before || !p->members[p->nmembers - 1].present))
					break;
			}
		} else
			rc = add_dir_member(p, &cap, name, true, e);
		free(name);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- open/close ---------------------------------------------------------- */

ovf_package *ovf_package_open(const char *path, od_err *e)
{
	ovf_package *p = calloc(1, sizeof *p);
	if (!p) {
		od_err_nomem(e);
		return NULL;
	}
	p->path = od_strdup(path);
	if (!p->path) {
		od_err_nomem(e);
		goto fail;
	}
	struct stat st;
	if (stat(path, &st) < 0) {
		od_err_errno(e, errno, "%s", path);
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		/* An OVF directory: exactly one descriptor in it. */
		DIR *d = opendir(path);
		if (!d) {
			od_err_errno(e, errno, "%s", path);
			goto fail;
		}
		char *found = NULL;
		int count = 0;
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] != '.' && ends_with(de->d_name, ".ovf")) {
				if (++count == 1)
					found = od_strdup(de->d_name);
			}
		}
		closedir(d);
		if (count != 1) {
			free(found);
			od_err_set(e, OD_E_INVALID, "%s: %s .ovf descriptor in the directory (expected exactly one)", path,
				   count ? "more than one" : "no");
			goto fail;
		}
		size_t pl = strlen(path);
		char *op = od_asprintf("%s%s%s", path, (pl && path[pl - 1] == '/') ? "" : "/", found ? found : "");
		free(found);
		if (!op) {
			od_err_nomem(e);
			goto fail;
		}
		p->kind = OVF_PKG_DIR;
		int rc = read_dir(p, op, e);
		free(op);
		if (rc < 0)
			goto fail;
	} else if (ends_with(path, ".ovf")) {
		p->kind = OVF_PKG_OVF;
		if (read_dir(p, path, e) < 0)
			goto fail;
	} else {
		if (!S_ISREG(st.st_mode)) {
			od_err_set(e, OD_E_INVALID, "%s: not a regular file", path);
			goto fail;
		}
		p->kind = OVF_PKG_OVA;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			od_err_errno(e, errno, "%s", path);
			goto fail;
		}
		int rc = read_ova(p, fd, e);
		close(fd);
		if (rc < 0)
			goto fail;
	}

	/* Find the descriptor, manifest and certificate. */
	if (p->kind == OVF_PKG_OVA) {
		const struct ovf_member *desc = NULL;
		for (size_t i = 0; i < p->nmembers; i++) {
			if (!ends_with(p->members[i].name, ".ovf"))
				continue;
			if (desc) {
				od_err_set(e, OD_E_INVALID, "%s: two descriptors, '%s' and '%s'", path, desc->name,
					   p->members[i].name);
				goto fail;
			}
			desc = &p->members[i];
			if (i != 0)
				ovf_warn(&p->warnings,
					 "%s: the descriptor '%s' is not the first member (ovftool and vSphere reject such OVAs)",
					 path, desc->name);
		}
		if (!desc) {
			if (p->nmembers)
				od_err_set(e, OD_E_INVALID, "%s: no .ovf descriptor in the package", path);
			else
				od_err_set(e, OD_E_INVALID,
					   "%s: not a tar archive (OVA packages are tar files): %s", path,
					   st.st_size ? "it holds no members" : "an empty file");
			goto fail;
		}
		p->descriptor_member = desc;
		char *mf = sibling(desc->name, ".mf"), *cert = sibling(desc->name, ".cert");
		if (!mf || !cert) {
			free(mf);
			free(cert);
			od_err_nomem(e);
			goto fail;
		}
		p->manifest_member = ovf_package_member(p, mf);
		p->cert_member = ovf_package_member(p, cert);
		free(mf);
		free(cert);
	} else {
		p->descriptor_member = &p->members[0];
		for (size_t i = 1; i < p->nmembers; i++) {
			if (ends_with(p->members[i].name, ".mf"))
				p->manifest_member = &p->members[i];
			else if (ends_with(p->members[i].name, ".cert"))
				p->cert_member = &p->members[i];
		}
	}
	if (read_small(p, p->descriptor_member, OVF_DESCRIPTOR_MAX, &p->descriptor, &p->descriptor_len, e) < 0)
		goto fail;
	if (p->manifest_member &&
	    read_small(p, p->manifest_member, OVF_MANIFEST_MAX, &p->manifest, &p->manifest_len, e) < 0)
		goto fail;
	if (p->cert_member && read_small(p, p->cert_member, OVF_CERT_MAX, &p->cert, &p->cert_len, e) < 0)
		goto fail;
	p->env = ovf_envelope_parse(p->descriptor, p->descriptor_len, p->descriptor_member->name, e);
	if (!p->env)
		goto fail;
	/* Every References file is looked up among the members: bound the
	 * work a hostile descriptor can ask for. */
	if (p->env->nfiles > OVF_MEMBERS_MAX) {
		od_err_set(e, OD_E_INVALID, "%s: %zu files in References, more than the %d we accept", path,
			   p->env->nfiles, OVF_MEMBERS_MAX);
		goto fail;
	}
	if (p->kind != OVF_PKG_OVA) {
		/* Adding members may move the array: keep indexes, not pointers. */
		size_t di = (size_t)(p->descriptor_member - p->members);
		size_t mi = p->manifest_member ? (size_t)(p->manifest_member - p->members) : SIZE_MAX;
		size_t ci = p->cert_member ? (size_t)(p->cert_member - p->members) : SIZE_MAX;
		if (add_dir_files(p, e) < 0)
			goto fail;
		p->descriptor_member = &p->members[di];
		p->manifest_member = mi != SIZE_MAX ? &p->members[mi] : NULL;
		p->cert_member = ci != SIZE_MAX ? &p->members[ci] : NULL;
	} else {
		for (size_t i = 0; i < p->env->nfiles; i++)
			if (p->env->files[i].href && is_remote(p->env->files[i].href))
				ovf_warn(&p->warnings, "%s: file '%s' is remote; remote files are not fetched", path,
					 p->env->files[i].href);
	}
	return p;
fail:
	ovf_package_close(p);
	return NULL;
}

void ovf_package_close(ovf_package *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nmembers; i++) {
		free(p->members[i].name);
		free(p->members[i].path);
	}
	free(p->members);
	free(p->path);
	free(p->dir);
	free(p->descriptor);
	free(p->manifest);
	free(p->cert);
	if (p->env)
		ovf_envelope_free(p->env);
	ovf_warnings_free(&p->warnings);
	free(p);
}

/* ---- streaming ------------------------------------------------------------ */

int ovf_package_read_member(const ovf_package *p, const struct ovf_member *m, ovf_data_fn fn, void *ctx,
			    od_err *e)
{
	if (!m->present)
		return od_err_set(e, OD_E_INVALID, "%s: missing", m->path);
	int fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return od_err_errno(e, errno, "%s", m->path);
	posix_fadvise(fd, (off_t)m->offset, (off_t)m->size, POSIX_FADV_SEQUENTIAL);
	size_t bufsz = m->size < IO_CHUNK ? (size_t)m->size + 1 : IO_CHUNK;
	char *buf = malloc(bufsz);
	if (!buf) {
		close(fd);
		return od_err_nomem(e);
	}
	uint64_t done = 0;
	int rc = 0;
	while (done < m->size) {
		size_t n = m->size - done < bufsz ? (size_t)(m->size - done) : bufsz;
		if (od_pread_all(fd, buf, n, m->offset + done, m->path, e) < 0) {
			rc = -1;
			break;
		}
		if (fn(ctx, buf, n, e) < 0) {
			rc = -1;
			break;
		}
		done += n;
	}
	free(buf);
	close(fd);
	return rc;
}

int ovf_package_file_members(const ovf_package *p, const struct ovf_file *f, const struct ovf_member ***out,
			     size_t *n, od_err *e)
{
	*out = NULL;
	*n = 0;
	if (!f->href)
		return od_err_set(e, OD_E_INVALID, "file '%s' has no href", f->id ? f->id : "?");
	if (is_remote(f->href))
		return od_err_set(e, OD_E_UNSUPPORTED, "file '%s' is remote (%s)", f->id ? f->id : "?", f->href);
	char *name = od_strdup(f->href);
	if (!name)
		return od_err_nomem(e);
	if (ovf__check_name(name, p->path, e) < 0) {
		free(name);
		return -1;
	}
	const struct ovf_member **v = NULL;
	size_t cnt = 0;
	int rc = 0;
	if (f->has_chunk_size) {
		if (f->chunk_size <= 0) {
			free(name);
			return od_err_set(e, OD_E_INVALID, "file '%s': ovf:chunkSize %lld is not positive", f->href,
					  (long long)f->chunk_size);
		}
		for (unsigned c = 0; c < OVF_MEMBERS_MAX; c++) {
			char cn[OVF_NAME_MAX + 16];
			snprintf(cn, sizeof cn, "%s.%09u", name, c);
			const struct ovf_member *m = ovf_package_member(p, cn);
			if (!m || !m->present)
				break;
			const struct ovf_member **nv = realloc(v, (cnt + 1) * sizeof *nv);
			if (!nv) {
				rc = od_err_nomem(e);
				break;
			}
			v = nv;
			v[cnt++] = m;
		}
		if (rc == 0 && cnt == 0)
			rc = od_err_set(e, OD_E_INVALID, "%s: chunk '%s.000000000' of file '%s' is missing", p->path, name,
					f->href);
		/* Every chunk but the last is exactly chunkSize long. */
		for (size_t i = 0; rc == 0 && i < cnt; i++)
			if ((i + 1 < cnt && v[i]->size != (uint64_t)f->chunk_size) ||
			    v[i]->size > (uint64_t)f->chunk_size || v[i]->size == 0)
				rc = od_err_set(e, OD_E_INVALID, "%s: chunk '%s' is %llu bytes; ovf:chunkSize is %lld", p->path,
						v[i]->name, (unsigned long long)v[i]->size, (long long)f->chunk_size);
	} else {
		const struct ovf_member *m = ovf_package_member(p, name);
		if (!m || !m->present)
			rc = od_err_set(e, OD_E_INVALID, "%s: file '%s' is missing", p->path, name);
		else {
			v = malloc(sizeof *v);
			if (!v)
				rc = od_err_nomem(e);
			else
				v[cnt++] = m;
		}
	}
	free(name);
	if (rc < 0) {
		free(v);
		return -1;
	}
	*out = v;
	*n = cnt;
	return 0;
}

uint64_t ovf_file_inflate_limit(const struct ovf_envelope *env, const struct ovf_file *f)
{
	/* A disk's content is at most its capacity plus the image format's
	 * metadata (grain tables, L2 tables: far below 1/16 of the capacity);
	 * the fixed 64 MiB covers headers of small disks. */
	const uint64_t margin = 64u << 20;
	for (size_t i = 0; env && f->id && i < env->ndisks; i++) {
		const struct ovf_disk *d = &env->disks[i];
		uint64_t cap;
		od_err e;
		if (d->file_ref && !strcmp(d->file_ref, f->id) && d->capacity &&
		    ovf_bytes(d->capacity, d->capacity_units, &cap, &e) == 0) {
			uint64_t lim;
			if (od_add_u64(cap, cap / 16, &lim) && od_add_u64(lim, margin, &lim))
				return lim;
			return UINT64_MAX;
		}
	}
	/* Not a disk (an ISO, a NVRAM file...): real data compresses a few times
	 * at most, a bomb a thousand times; 100x the stored size sits between. */
	uint64_t lim = margin;
	if (f->has_size) {
		uint64_t m;
		if (od_mul_u64(f->size, 100, &m) && od_add_u64(m, margin, &lim))
			return lim;
		return UINT64_MAX;
	}
	return lim;
}

struct ovf_inflater {
	z_stream z;
	char *name;
	uint64_t limit, total;
	bool ended;
	ovf_data_fn fn;
	void *ctx;
	unsigned char *out;
};

#define ZOUT (256u * 1024)

ovf_inflater *ovf_inflater_new(const char *name, uint64_t limit, ovf_data_fn fn, void *ctx, od_err *e)
{
	ovf_inflater *z = calloc(1, sizeof *z);
	if (!z || !(z->out = malloc(ZOUT)) || !(z->name = od_strdup(name))) {
		if (z)
			free(z->out);
		free(z);
		od_err_nomem(e);
		return NULL;
	}
	/* 16 + MAX_WBITS: gzip wrapper only; a raw zlib stream is not what
	 * ovf:compression="gzip" promises. */
	if (inflateInit2(&z->z, 16 + MAX_WBITS) != Z_OK) {
		free(z->out);
		free(z->name);
		free(z);
		od_err_set(e, OD_E_INTERNAL, "inflateInit2 failed");
		return NULL;
	}
	z->limit = limit;
	z->fn = fn;
	z->ctx = ctx;
	return z;
}

int ovf_inflater_feed(ovf_inflater *z, const void *buf, size_t len, od_err *e)
{
	z->z.next_in = (unsigned char *)buf;
	z->z.avail_in = 0;
	while (len > 0 || z->z.avail_in > 0) {
		if (z->z.avail_in == 0) {
			size_t take = len > UINT_MAX ? UINT_MAX : len;
			z->z.avail_in = (unsigned)take;
			len -= take;
		}
		if (z->ended) {
			/* Another gzip member may follow (gzip -c a b); anything
			 * else is trailing garbage. */
			if (z->z.next_in[0] != 0x1f)
				return od_err_set(e, OD_E_INVALID, "%s: data after the end of the gzip stream", z->name);
			inflateReset(&z->z);
			z->ended = false;
		}
		z->z.next_out = z->out;
		z->z.avail_out = ZOUT;
		int r = inflate(&z->z, Z_NO_FLUSH);
		if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
			return od_err_set(e, OD_E_INVALID, "%s: corrupt gzip data: %s", z->name,
					  z->z.msg ? z->z.msg : "inflate failed");
		size_t got = ZOUT - z->z.avail_out;
		if (!od_add_u64(z->total, got, &z->total) || z->total > z->limit)
			return od_err_set(e, OD_E_INVALID,
					  "%s: inflates beyond %llu bytes, more than the descriptor allows (a gzip bomb?)",
					  z->name, (unsigned long long)z->limit);
		if (got && z->fn && z->fn(z->ctx, z->out, got, e) < 0)
			return -1;
		if (r == Z_STREAM_END)
			z->ended = true;
		else if (r == Z_BUF_ERROR && got == 0 && z->z.avail_in == 0)
			break;
	}
	return 0;
}

int ovf_inflater_finish(ovf_inflater *z, od_err *e)
{
	if (!z->ended)
		return od_err_set(e, OD_E_INVALID, "%s: truncated gzip data", z->name);
	return 0;
}

uint64_t ovf_inflater_total(const ovf_inflater *z)
{
	return z->total;
}

void ovf_inflater_free(ovf_inflater *z)
{
	if (!z)
		return;
	inflateEnd(&z->z);
	free(z->out);
	free(z->name);
	free(z);
}

static int feed_inflater(void *ctx, const void *buf, size_t len, od_err *e)
{
	return ovf_inflater_feed(ctx, buf, len, e);
}

bool ovf__is_gzip(const struct ovf_file *f)
{
	return f->compression && !strcasecmp(f->compression, "gzip");
}

int ovf_package_read_file(const ovf_package *p, const struct ovf_file *f, ovf_data_fn fn, void *ctx, od_err *e)
{
	const struct ovf_member **v;
	size_t n;
	if (ovf_package_file_members(p, f, &v, &n, e) < 0)
		return -1;
	if (f->compression && strcasecmp(f->compression, "identity") && !ovf__is_gzip(f)) {
		free(v);
		return od_err_set(e, OD_E_UNSUPPORTED, "file '%s': compression '%s' is not supported (gzip is)", f->href,
				  f->compression);
	}
	int rc = 0;
	ovf_inflater *z = NULL;
	if (ovf__is_gzip(f)) {
		z = ovf_inflater_new(f->href, ovf_file_inflate_limit(p->env, f), fn, ctx, e);
		if (!z)
			rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = z ? ovf_package_read_member(p, v[i], feed_inflater, z, e) : ovf_package_read_member(p, v[i], fn, ctx, e);
	if (rc == 0 && z)
		rc = ovf_inflater_finish(z, e);
	ovf_inflater_free(z);
	free(v);
	return rc;
}
