/* descriptor_read.c - let inspect and validate take what users have at
 * hand: an .ovf, an .ova or an OVF directory, as ovftool does. */
#include "config.h"
#include "ovf/ovf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* A tar header carries "ustar" at offset 257 (POSIX and GNU alike). */
static bool looks_like_tar(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char magic[5];
	bool tar = pread(fd, magic, sizeof magic, 257) == (ssize_t)sizeof magic && !memcmp(magic, "ustar", 5);
	close(fd);
	return tar;
}

int ovf_descriptor_read(const char *path, char **buf, size_t *len, od_err *e)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return od_err_errno(e, errno, "%s", path);
	/* A file named .ova goes to the package reader even when it is not a
	 * tar, so that it is called that, not "NUL byte in the descriptor". */
	size_t n = strlen(path);
	bool ova = n > 4 && !strcasecmp(path + n - 4, ".ova");
	if (!S_ISDIR(st.st_mode) && !ova && !looks_like_tar(path))
		return od_read_file(path, OVF_DESCRIPTOR_MAX, buf, len, e);
	ovf_package *p = ovf_package_open(path, e);
	if (!p)
		return -1;
	int rc = 0;
	*buf = malloc(p->descriptor_len + 1);
	if (!*buf) {
		rc = od_err_nomem(e);
	} else {
		memcpy(*buf, p->descriptor, p->descriptor_len);
		(*buf)[p->descriptor_len] = '\0';
		*len = p->descriptor_len;
	}
	ovf_package_close(p);
	return rc;
}

ovf_envelope *ovf_envelope_parse_any(const char *path, od_err *e)
{
	char *buf;
	size_t len;
	if (ovf_descriptor_read(path, &buf, &len, e) < 0)
		return NULL;
	ovf_envelope *env = ovf_envelope_parse(buf, len, path, e);
	free(buf);
	return env;
}
