/* control.c - the runner's control socket: pause and resume from outside.
 *
 * It speaks the few QMP commands that pausing needs, in QMP's framing (a
 * greeting, then one JSON object a line each way), so that the deploy
 * library has one client for the runner and for QEMU.  It is not a JSON
 * parser: a request is a line holding "execute" : "NAME", and anything
 * else is answered with an error.  The socket lives in the instance's
 * directory (mode 0700), but its client is still treated as untrusted:
 * lines are capped, a longer one drops the client, and no request can do
 * more than pause, resume or ask the state.
 *
 * The event loop (vm_run) owns it: everything here runs in the calling
 * thread, under the main seccomp filter (accept4, read, sendto, close). */
#include "config.h"
#include "runner/vmm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char greeting[] =
	"{\"QMP\": {\"version\": {\"package\": \"ovfdeploy " PACKAGE_VERSION "\"}, \"capabilities\": []}}\n";

void vm_control_init(struct vm_control *c, struct vm *vm, int listen_fd)
{
	c->vm = vm;
	c->listen_fd = listen_fd;
	c->client = -1;
	c->len = 0;
}

int vm_control_fd(const struct vm_control *c)
{
	return c->client >= 0 ? c->client : c->listen_fd;
}

static void drop_client(struct vm_control *c)
{
	if (c->client >= 0)
		close(c->client);
	c->client = -1;
	c->len = 0;
}

void vm_control_close(struct vm_control *c)
{
	drop_client(c);
}

/* The command name after "execute", or false. */
static bool command_name(const char *line, char *name, size_t len)
{
	const char *p = strstr(line, "\"execute\"");
	if (!p)
		return false;
	p += 9;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != ':')
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != '"')
		return false;
	size_t n = 0;
	while (p[n] && p[n] != '"') {
		char ch = p[n];
		if (!((ch >= 'a' && ch <= 'z') || ch == '-' || ch == '_') || n + 1 >= len)
			return false;
		name[n] = ch;
		n++;
	}
	if (p[n] != '"' || n == 0)
		return false;
	name[n] = 0;
	return true;
}

static void reply_error(char *out, size_t outlen, const char *cls, const char *desc)
{
	/* desc is ours (fixed text or an od_err message): no quotes or
	 * backslashes to escape beyond these */
	char clean[200];
	size_t n = 0;
	for (const char *s = desc; *s && n + 1 < sizeof clean; s++)
		clean[n++] = (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20) ? '\'' : *s;
	clean[n] = 0;
	snprintf(out, outlen, "{\"error\": {\"class\": \"%s\", \"desc\": \"%s\"}}\n", cls, clean);
}

void vm_control_request(struct vm *vm, const char *line, char *out, size_t outlen)
{
	char name[40];
	if (!command_name(line, name, sizeof name)) {
		reply_error(out, outlen, "GenericError", "expected {\"execute\": COMMAND}");
		return;
	}
	od_err e;
	if (!strcmp(name, "qmp_capabilities")) {
		snprintf(out, outlen, "{\"return\": {}}\n");
	} else if (!strcmp(name, "stop")) {
		if (vm_pause(vm, &e) < 0)
			reply_error(out, outlen, "GenericError", e.msg);
		else
			snprintf(out, outlen, "{\"return\": {}}\n");
	} else if (!strcmp(name, "cont")) {
		if (vm_resume(vm, &e) < 0)
			reply_error(out, outlen, "GenericError", e.msg);
		else
			snprintf(out, outlen, "{\"return\": {}}\n");
	} else if (!strcmp(name, "query-status")) {
		pthread_mutex_lock(&vm->pause_lock);
		bool paused = vm->paused;
		pthread_mutex_unlock(&vm->pause_lock);
		snprintf(out, outlen, "{\"return\": {\"status\": \"%s\", \"running\": %s}}\n",
			 paused ? "paused" : "running", paused ? "false" : "true");
	} else {
		reply_error(out, outlen, "CommandNotFound", "the runner knows qmp_capabilities, stop, cont and query-status");
	}
}

static bool send_all(int fd, const char *p, size_t n)
{
	while (n) {
		/* MSG_NOSIGNAL: a client gone before its reply is no SIGPIPE */
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

void vm_control_ready(struct vm_control *c)
{
	if (c->client < 0) {
		/* non-blocking: a client that sends requests without reading
		 * the replies is dropped when its socket buffer fills, rather
		 * than stalling the event loop */
		c->client = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		c->len = 0;
		if (c->client >= 0 && !send_all(c->client, greeting, sizeof greeting - 1))
			drop_client(c);
		return;
	}
	ssize_t r = read(c->client, c->buf + c->len, sizeof c->buf - 1 - c->len);
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		drop_client(c);
		return;
	}
	c->len += (size_t)r;
	c->buf[c->len] = 0;
	char *nl;
	while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
		*nl = 0;
		char out[320];
		vm_control_request(c->vm, c->buf, out, sizeof out);
		size_t used = (size_t)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->len - used);
		c->len -= used;
		c->buf[c->len] = 0;
		if (!send_all(c->client, out, strlen(out))) {
			drop_client(c);
			return;
		}
	}
	if (c->len >= sizeof c->buf - 1) {
		char out[200];
		reply_error(out, sizeof out, "GenericError", "request line too long");
		(void)send_all(c->client, out, strlen(out));
		drop_client(c);
	}
}
