/* deploy_screen.c - the instance's screen: where VNC listens and its
 * password.
 *
 * By default VNC is a UNIX socket in the instance directory (0700): only
 * the instance's owner can connect, no password needed.  On TCP, which any
 * local user (or, on another address, anyone) can reach, VNC
 * authentication guards it with a password generated at deploy time. */
#include "config.h"
#include "deploy/deploy.h"
#include "runner/vm.h"

#include <netinet/in.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int deploy_vnc_listen_check(const char *listen, bool remote_ok, od_err *e)
{
	struct sockaddr_in sa;
	return vm_vnc_parse(listen, remote_ok, &sa, e); /* the runner's rules, for both backends */
}

int deploy_vnc_password(struct vmspec *s, const char *dir, od_err *e)
{
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
	const size_t na = sizeof alphabet - 1;
	char pw[8];
	size_t got = 0;
	/* Rejection sampling: every letter equally likely. */
	while (got < sizeof pw) {
		unsigned char r[32];
		ssize_t n = getrandom(r, sizeof r, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return od_err_errno(e, errno, "getrandom");
		}
		for (ssize_t i = 0; i < n && got < sizeof pw; i++)
			if (r[i] < 256 - 256 % na)
				pw[got++] = alphabet[r[i] % na];
	}
	char *path = od_asprintf("%s/vnc-password", dir);
	if (!path)
		return od_err_nomem(e);
	od_atomic_file af;
	int rc = od_atomic_open(&af, path, 0600, e);
	if (rc == 0 && (rc = od_write_all(af.fd, pw, sizeof pw, path, e)) == 0)
		rc = od_atomic_commit(&af, e);
	else if (rc == 0)
		od_atomic_abort(&af);
	memset(pw, 0, sizeof pw);
	if (rc < 0) {
		free(path);
		return -1;
	}
	free(s->vnc_password_file);
	s->vnc_password_file = path;
	return 0;
}

/* Some file systems cannot hold a UNIX socket (9p and other network file
 * systems answer bind() with ENXIO or EOPNOTSUPP).  A screen is a
 * convenience, the serial console is not: rather than refusing to start,
 * find out here with a probe socket beside the real one, and run without
 * the screen (saying why) when the directory cannot hold it. */
bool deploy_screen_socket_usable(const char *path, int *why)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char probe[sizeof sa.sun_path];
	*why = 0;
	if (!path || snprintf(probe, sizeof probe, "%s.probe", path) >= (int)sizeof probe) {
		*why = ENAMETOOLONG;
		return false;
	}
	memcpy(sa.sun_path, probe, strlen(probe) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*why = errno;
		return false;
	}
	unlink(probe);
	bool ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	if (!ok)
		*why = errno;
	close(fd);
	unlink(probe);
	return ok;
}
