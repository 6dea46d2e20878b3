/* pause.c - pausing and resuming a running instance, on either backend.
 *
 * Both backends listen on the instance's control socket (DIR/control.sock)
 * and speak QMP there: QEMU's own monitor, or the embedded runner's subset
 * of it (src/runner/control.c: qmp_capabilities, stop, cont, query-status).
 * So one small client serves both: stop parks every vCPU before it
 * answers, cont lets them run on, query-status says "running" or "paused"
 * (QEMU has more states - "prelaunch", "shutdown", ... - which we report as
 * running, i.e. not paused by us).
 *
 * The replies are read line by line; QMP may put events before a reply,
 * which are skipped.  This is not a JSON parser: a reply is the first line
 * whose first key is "return" or "error", and the only values taken from
 * it are the status word and the error's description. */
#include "config.h"
#include "deploy/deploy.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define QMP_TIMEOUT_MS 10000 /* QEMU under TCG on a loaded host can be slow */
/* deploy_run_state, which 'list' calls per running instance: a machine
 * whose control socket is busy (one client at a time, in QEMU as in the
 * runner) must not hold the listing up for long */
#define QMP_STATE_TIMEOUT_MS 3000
#define QMP_LINE_MAX 8192

int deploy_control_listen(const char *path, od_err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path)
		return od_err_set(e, OD_E_USAGE, "%s: path too long for a socket", path);
	strcpy(sa.sun_path, path);
	unlink(path);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 1) < 0) {
		od_err_errno(e, errno, "%s", path);
		if (ls >= 0)
			close(ls);
		return -1;
	}
	return ls;
}

struct qmp {
	int fd;
	char buf[QMP_LINE_MAX];
	size_t len;
	const char *path;
	int timeout_ms;
};

static long long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The next line (without its newline) into line. */
static int qmp_line(struct qmp *q, char *line, size_t linelen, od_err *e)
{
	long long until = ms_now() + q->timeout_ms;
	for (;;) {
		char *nl = memchr(q->buf, '\n', q->len);
		if (nl) {
			size_t n = (size_t)(nl - q->buf);
			if (n >= linelen)
				n = linelen - 1; /* a long event: we only need its start */
			memcpy(line, q->buf, n);
			line[n] = 0;
			size_t used = (size_t)(nl + 1 - q->buf);
			memmove(q->buf, nl + 1, q->len - used);
			q->len -= used;
			return 0;
		}
		if (q->len == sizeof q->buf)
			return od_err_set(e, OD_E_IO, "%s: a line longer than %d bytes", q->path, QMP_LINE_MAX);
		long long left = until - ms_now();
		struct pollfd p = {.fd = q->fd, .events = POLLIN};
		int n = left > 0 ? poll(&p, 1, (int)left) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return od_err_set(e, OD_E_IO, "%s: no answer within %d s", q->path, q->timeout_ms / 1000);
		ssize_t r = read(q->fd, q->buf + q->len, sizeof q->buf - q->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return od_err_errno(e, errno, "%s: read", q->path);
		if (r == 0)
			return od_err_set(e, OD_E_IO, "%s: the machine closed its control socket", q->path);
		q->len += (size_t)r;
	}
}

/* The value of "key": "VALUE" in line, into out ("" when absent). */
static void json_word(const char *line, const char *key, char *out, size_t outlen)
{
	out[0] = 0;
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\"", key);
	const char *p = strstr(line, pat);
	if (!p)
		return;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p++ != '"')
		return;
	size_t n = 0;
	while (p[n] && p[n] != '"' && n + 1 < outlen) {
		out[n] = p[n];
		n++;
	}
	out[n] = 0;
}

/* Send one command; its reply line (after any events) into reply. */
static int qmp_cmd(struct qmp *q, const char *cmd, char *reply, size_t replylen, od_err *e)
{
	/* a bare command name, or a whole request with arguments (snapshot.c) */
	char *req = cmd[0] == '{' ? od_asprintf("%s\n", cmd) : od_asprintf("{\"execute\": \"%s\"}\n", cmd);
	if (!req)
		return od_err_nomem(e);
	ssize_t n = (ssize_t)strlen(req);
	/* MSG_NOSIGNAL: a machine that closed the socket is an error, not SIGPIPE */
	ssize_t sent = send(q->fd, req, (size_t)n, MSG_NOSIGNAL);
	free(req);
	if (sent != n)
		return od_err_errno(e, errno, "%s: %.60s", q->path, cmd);
	for (unsigned lines = 0; lines < 1000; lines++) {
		if (qmp_line(q, reply, replylen, e) < 0)
			return -1;
		/* what a line is, by its first key: a reply starts with
		 * "return" or "error" (we send no "id"); an event with
		 * "timestamp" or "event", and its data may hold any word */
		const char *k = reply + strspn(reply, " \t");
		if (*k++ != '{')
			continue;
		k += strspn(k, " \t");
		if (!strncmp(k, "\"error\"", 7)) {
			char desc[256];
			json_word(k, "desc", desc, sizeof desc);
			char name[64];
			json_word(cmd, "execute", name, sizeof name);
			return od_err_set(e, OD_E_IO, "%s: %s", name[0] ? name : cmd, desc[0] ? desc : "refused");
		}
		if (!strncmp(k, "\"return\"", 8))
			return 0;
	}
	return od_err_set(e, OD_E_IO, "%s: %s: no reply among the events", q->path, cmd);
}

static int qmp_open(struct qmp *q, const char *path, int timeout_ms, od_err *e)
{
	q->path = path;
	q->timeout_ms = timeout_ms;
	q->len = 0;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (!path || strlen(path) >= sizeof sa.sun_path)
		return od_err_set(e, OD_E_USAGE, "no usable control socket");
	strcpy(sa.sun_path, path);
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0)
		return od_err_errno(e, errno, "socket");
	if (connect(q->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int err = errno;
		close(q->fd);
		return od_err_errno(e, err, "%s: connect", path);
	}
	char line[512];
	if (qmp_line(q, line, sizeof line, e) < 0 || (!strstr(line, "\"QMP\"") &&
						       od_err_set(e, OD_E_IO, "%s: not a QMP greeting", path) < 0) ||
	    qmp_cmd(q, "qmp_capabilities", line, sizeof line, e) < 0) {
		close(q->fd);
		return -1;
	}
	return 0;
}

static int query_paused(struct qmp *q, bool *paused, od_err *e)
{
	char line[1024], status[32];
	if (qmp_cmd(q, "query-status", line, sizeof line, e) < 0)
		return -1;
	json_word(line, "status", status, sizeof status);
	if (!status[0])
		return od_err_set(e, OD_E_IO, "%s: query-status: no status in the reply", q->path);
	/* QEMU: "paused" after stop, "postmigrate" after a migration (a
	 * snapshot's save) until cont; "suspended" is the guest's own S3 sleep */
	*paused = !strcmp(status, "paused") || !strcmp(status, "postmigrate");
	return 0;
}

int deploy_run_state(const struct instance *in, enum deploy_state *st, od_err *e)
{
	*st = DEPLOY_STATE_STOPPED;
	if (!instance_running_pid(in))
		return 0;
	*st = DEPLOY_STATE_RUNNING;
	struct qmp q;
	if (qmp_open(&q, in->spec.control_socket, QMP_STATE_TIMEOUT_MS, e) < 0)
		return -1;
	bool paused = false;
	int rc = query_paused(&q, &paused, e);
	close(q.fd);
	if (rc == 0 && paused)
		*st = DEPLOY_STATE_PAUSED;
	return rc;
}

/* pause (want_paused) or resume: the state is checked first, over the same
 * connection, so that a second pause or a resume of a running instance is
 * an error a user can read rather than a silent no-op (QMP's stop and cont
 * are idempotent). */
static int set_paused(struct instance *in, bool want_paused, od_err *e)
{
	if (!instance_running_pid(in))
		return od_err_set(e, OD_E_USAGE, "instance '%s' is not running (start it with 'ovfdeploy start %s')",
				  in->name, in->name);
	struct qmp q;
	if (qmp_open(&q, in->spec.control_socket, QMP_TIMEOUT_MS, e) < 0) {
		od_err_prefix(e, "instance '%s'", in->name);
		return -1;
	}
	bool paused = false;
	char line[1024];
	int rc = query_paused(&q, &paused, e);
	/* the user decides now: a pause a killed snapshot left is theirs */
	if (rc == 0)
		deploy_snapshot_forget_pause(in);
	if (rc == 0 && paused == want_paused)
		rc = od_err_set(e, OD_E_USAGE, want_paused ? "instance '%s' is paused already (resume it with 'ovfdeploy resume %s')"
							    : "instance '%s' is not paused (it is running)",
				in->name, in->name);
	else if (rc == 0)
		rc = qmp_cmd(&q, want_paused ? "stop" : "cont", line, sizeof line, e);
	close(q.fd);
	if (rc < 0 && e->code != OD_E_USAGE)
		od_err_prefix(e, "instance '%s'", in->name);
	return rc;
}

int deploy_pause(struct instance *in, od_err *e)
{
	return set_paused(in, true, e);
}

int deploy_resume(struct instance *in, od_err *e)
{
	return set_paused(in, false, e);
}

/* The client above for other files (snapshot.c): one connection, commands
 * in turn. */
struct deploy_qmp {
	struct qmp q;
};

int deploy_qmp_open(struct deploy_qmp **out, const char *path, od_err *e)
{
	struct deploy_qmp *c = calloc(1, sizeof *c);
	if (!c)
		return od_err_nomem(e);
	if (qmp_open(&c->q, path, QMP_TIMEOUT_MS, e) < 0) {
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int deploy_qmp_exec(struct deploy_qmp *c, const char *request, char *reply, size_t len, od_err *e)
{
	return qmp_cmd(&c->q, request, reply, len, e);
}

void deploy_qmp_word(const char *line, const char *key, char *out, size_t len)
{
	json_word(line, key, out, len);
}

void deploy_qmp_close(struct deploy_qmp *c)
{
	if (c) {
		close(c->q.fd);
		free(c);
	}
}
