/* test_pause.c - deploy/pause.c's QMP client against a scripted fake
 * machine: a child process that holds the instance's pid file lock (so the
 * instance counts as running) and answers on its control socket as told.
 * Events before a reply, error replies, a missing greeting, a silent or
 * babbling server: each ends in the right state or a clear error. */
#include "config.h"
#include "deploy/deploy.h"

#include <check.h>
#include "../check_run.h"
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static struct instance in;
static pid_t child;
static int report[2]; /* the child writes the commands it got */

struct script {
	const char *greeting;  /* NULL: say nothing at all */
	const char *status;    /* reply to query-status */
	const char *stop, *cont; /* replies; NULL = {"return": {}} */
	bool babble;           /* after the greeting, a line that never ends */
};

static void serve_one(const struct script *sc, int c);
static void serve(const struct script *sc, int ls)
{
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int c = accept(ls, NULL, NULL);
		if (c < 0)
			_exit(1);
		serve_one(sc, c);
	}
}

/* one client, until it hangs up */
static void serve_one(const struct script *sc, int c)
{
	if (!sc->greeting) {
		pause();
		_exit(0);
	}
	dprintf(c, "%s\n", sc->greeting);
	if (sc->babble) {
		char junk[4096];
		memset(junk, 'x', sizeof junk);
		for (int i = 0; i < 8; i++)
			if (write(c, junk, sizeof junk) < 0)
				break;
		while (read(c, junk, sizeof junk) > 0) /* until the client gives up */
			;
		close(c);
		return;
	}
	FILE *f = fdopen(c, "r+");
	char line[512];
	while (fgets(line, sizeof line, f)) {
		const char *r = "{\"return\": {}}";
		if (strstr(line, "query-status"))
			r = sc->status;
		else if (strstr(line, "\"stop\""))
			r = sc->stop ? sc->stop : r;
		else if (strstr(line, "\"cont\""))
			r = sc->cont ? sc->cont : r;
		if (!strstr(line, "qmp_capabilities"))
			(void)!write(report[1], line, strlen(line));
		/* an event first, as QEMU sends STOP before stop's reply */
		fprintf(f, "{\"timestamp\": {\"seconds\": 1}, \"event\": \"X\", \"data\": {\"return\": 1}}\n%s\n", r);
		fflush(f);
	}
	fclose(f);
}

static void start(const struct script *sc)
{
	ck_assert_int_eq(pipe(report), 0);
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", in.spec.control_socket);
	unlink(sa.sun_path);
	ck_assert(ls >= 0 && bind(ls, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(ls, 1) == 0);
	int ready[2];
	ck_assert_int_eq(pipe(ready), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		int fd = open(in.spec.pidfile, O_RDWR | O_CREAT, 0600);
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
			_exit(1);
		(void)!write(ready[1], "k", 1);
		serve(sc, ls);
	}
	close(ls);
	close(report[1]);
	char k;
	ck_assert_int_eq(read(ready[0], &k, 1), 1);
	close(ready[0]);
	close(ready[1]);
}

/* What the fake machine was asked (not counting qmp_capabilities). */
static const char *finish(void)
{
	static char got[1024];
	kill(child, SIGKILL); /* Check's SIGTERM handler, inherited, would kill the test */
	waitpid(child, NULL, 0);
	ssize_t n = read(report[0], got, sizeof got - 1);
	got[n > 0 ? n : 0] = 0;
	close(report[0]);
	return got;
}

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/od-pause.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&in, 0, sizeof in);
	in.name = "fake";
	in.spec.pidfile = od_asprintf("%s/pid", dir);
	in.spec.control_socket = od_asprintf("%s/control.sock", dir);
}

static void teardown(void)
{
	unlink(in.spec.pidfile);
	unlink(in.spec.control_socket);
	free(in.spec.pidfile);
	free(in.spec.control_socket);
	rmdir(dir);
}

#define RUNNING "{\"return\": {\"status\": \"running\", \"running\": true}}"
#define PAUSED "{\"return\": {\"status\": \"paused\", \"running\": false}}"

START_TEST(test_stopped)
{
	od_err e;
	enum deploy_state st = DEPLOY_STATE_PAUSED;
	ck_assert_int_eq(deploy_run_state(&in, &st, &e), 0);
	ck_assert_int_eq(st, DEPLOY_STATE_STOPPED);
	ck_assert_int_eq(deploy_pause(&in, &e), -1);
	ck_assert_int_eq(e.code, OD_E_USAGE);
	ck_assert_ptr_nonnull(strstr(e.msg, "not running"));
	ck_assert_int_eq(deploy_resume(&in, &e), -1);
	ck_assert_int_eq(e.code, OD_E_USAGE);
}
END_TEST

START_TEST(test_pause_running)
{
	struct script sc = {.greeting = "{\"QMP\": {}}", .status = RUNNING};
	start(&sc);
	od_err e;
	ck_assert_msg(deploy_pause(&in, &e) == 0, "%s", e.msg);
	const char *got = finish();
	ck_assert_ptr_nonnull(strstr(got, "query-status"));
	ck_assert_ptr_nonnull(strstr(got, "\"stop\""));
}
END_TEST

START_TEST(test_paused_already)
{
	struct script sc = {.greeting = "{\"QMP\": {}}", .status = PAUSED};
	start(&sc);
	od_err e;
	enum deploy_state st;
	ck_assert_int_eq(deploy_run_state(&in, &st, &e), 0);
	ck_assert_int_eq(st, DEPLOY_STATE_PAUSED);
	ck_assert_int_eq(deploy_pause(&in, &e), -1);
	ck_assert_int_eq(e.code, OD_E_USAGE);
	ck_assert_ptr_nonnull(strstr(e.msg, "paused already"));
	ck_assert_ptr_null(strstr(finish(), "\"stop\"")); /* not asked */
}
END_TEST

START_TEST(test_resume)
{
	struct script sc = {.greeting = "{\"QMP\": {}}", .status = PAUSED};
	start(&sc);
	od_err e;
	ck_assert_msg(deploy_resume(&in, &e) == 0, "%s", e.msg);
	ck_assert_ptr_nonnull(strstr(finish(), "\"cont\""));
	struct script sc2 = {.greeting = "{\"QMP\": {}}", .status = RUNNING};
	start(&sc2);
	ck_assert_int_eq(deploy_resume(&in, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "not paused"));
	finish();
}
END_TEST

START_TEST(test_error_reply)
{
	struct script sc = {.greeting = "{\"QMP\": {}}", .status = RUNNING,
			    .stop = "{\"error\": {\"class\": \"GenericError\", \"desc\": \"cannot stop now\"}}"};
	start(&sc);
	od_err e;
	ck_assert_int_eq(deploy_pause(&in, &e), -1);
	ck_assert_int_ne(e.code, OD_E_USAGE);
	ck_assert_ptr_nonnull(strstr(e.msg, "cannot stop now"));
	ck_assert_ptr_nonnull(strstr(e.msg, "fake"));
	finish();
}
END_TEST

START_TEST(test_bad_servers)
{
	od_err e;
	enum deploy_state st;
	struct script notqmp = {.greeting = "{\"hello\": 1}", .status = RUNNING};
	start(&notqmp);
	ck_assert_int_eq(deploy_run_state(&in, &st, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a QMP greeting"));
	finish();
	struct script nostatus = {.greeting = "{\"QMP\": {}}", .status = "{\"return\": {}}"};
	start(&nostatus);
	ck_assert_int_eq(deploy_run_state(&in, &st, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "no status"));
	finish();
	struct script babble = {.greeting = "{\"QMP\": {}}", .status = RUNNING, .babble = true};
	start(&babble);
	ck_assert_int_eq(deploy_run_state(&in, &st, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "longer than"));
	finish();
	struct script silent = {.greeting = NULL};
	start(&silent);
	ck_assert_int_eq(deploy_run_state(&in, &st, &e), -1); /* after 3 s */
	ck_assert_ptr_nonnull(strstr(e.msg, "no answer"));
	finish();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pause and resume over QMP");
	TCase *t = od_check_tcase(s, "client");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 20);
	tcase_add_test(t, test_stopped);
	tcase_add_test(t, test_pause_running);
	tcase_add_test(t, test_paused_already);
	tcase_add_test(t, test_resume);
	tcase_add_test(t, test_error_reply);
	tcase_add_test(t, test_bad_servers);
	return od_check_run(s);
}
