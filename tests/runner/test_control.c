/* test_control.c - the runner's control socket (src/runner/control.c)
 * without KVM: a fake VM (no vCPUs) is paused and resumed through the QMP
 * subset, over a real UNIX socket, and hostile requests (garbage, long
 * lines, odd names, random bytes) get one error line each or drop the
 * client, never more. */
#include "config.h"
#include "runner/vmm.h"

#include <check.h>
#include "../check_run.h"
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static struct vm *vm;

static void setup(void)
{
	od_err e;
	vm = vm_new_fake(1 << 20, &e);
	ck_assert_ptr_nonnull(vm);
}

static void teardown(void)
{
	vm_free(vm);
	vm = NULL;
}

static const char *ask(const char *line)
{
	static char out[320];
	memset(out, 0x55, sizeof out);
	vm_control_request(vm, line, out, sizeof out);
	size_t n = strlen(out);
	ck_assert(n > 0 && n < sizeof out && out[n - 1] == '\n');
	ck_assert_ptr_null(memchr(out, '\n', n - 1)); /* one line */
	return out;
}

START_TEST(test_commands)
{
	ck_assert_str_eq(ask("{\"execute\": \"qmp_capabilities\"}"), "{\"return\": {}}\n");
	ck_assert_ptr_nonnull(strstr(ask("{\"execute\":\"query-status\"}"), "\"status\": \"running\""));
	ck_assert_str_eq(ask("{ \"execute\" : \"stop\" }"), "{\"return\": {}}\n");
	ck_assert(vm->paused);
	ck_assert_ptr_nonnull(strstr(ask("{\"execute\":\"query-status\"}"), "\"status\": \"paused\""));
	ck_assert_str_eq(ask("{\"execute\":\"stop\"}"), "{\"return\": {}}\n"); /* as QMP: idempotent */
	ck_assert(vm->paused);
	ck_assert_str_eq(ask("{\"execute\":\"cont\"}"), "{\"return\": {}}\n");
	ck_assert(!vm->paused);
	ck_assert_ptr_nonnull(strstr(ask("{\"execute\":\"query-status\"}"), "\"running\": true"));
}
END_TEST

START_TEST(test_hostile_requests)
{
	static const char *const bad[] = {
		"", "garbage", "{\"execute\": 5}", "{\"execute\": \"STOP\"}", "{\"execute\"}", "{\"execute\": \"\"}",
		"{\"execute\": \"stop", "{\"execute\": \"quit\"}", "{\"execute\": \"stop\\\"x\"}",
		"{\"execute\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *r = ask(bad[i]);
		ck_assert_msg(!strncmp(r, "{\"error\": ", 10), "%s -> %s", bad[i], r);
	}
	ck_assert(!vm->paused);
	char line[300];
	for (int i = 0; i < 2000; i++) {
		size_t n = 1 + (size_t)(rand() % (int)(sizeof line - 1));
		ck_assert(getrandom(line, n, 0) == (ssize_t)n);
		line[n - 1] = 0;
		ask(line);
	}
}
END_TEST

static int read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	while (n + 1 < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 2000) <= 0)
			return -1;
		ssize_t r = read(fd, buf + n, 1);
		if (r <= 0)
			return -1;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = 0;
	return (int)n;
}

START_TEST(test_socket)
{
	char dir[] = "/tmp/od-ctl.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/control.sock", dir);
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert(ls >= 0 && bind(ls, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(ls, 1) == 0);
	struct vm_control c;
	vm_control_init(&c, vm, ls);
	ck_assert_int_eq(vm_control_fd(&c), ls);

	int cl = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert(connect(cl, (struct sockaddr *)&sa, sizeof sa) == 0);
	vm_control_ready(&c); /* accept, greet */
	ck_assert_int_ne(vm_control_fd(&c), ls);
	char buf[1024];
	ck_assert(read_line(cl, buf, sizeof buf) > 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"QMP\""));
	/* a request in two pieces, then two in one write */
	ck_assert(write(cl, "{\"execute\": ", 12) == 12);
	vm_control_ready(&c);
	ck_assert(write(cl, "\"stop\"}\n{\"execute\": \"query-status\"}\n", 36) == 36);
	vm_control_ready(&c);
	ck_assert(read_line(cl, buf, sizeof buf) > 0);
	ck_assert_str_eq(buf, "{\"return\": {}}\n");
	ck_assert(read_line(cl, buf, sizeof buf) > 0);
	ck_assert_ptr_nonnull(strstr(buf, "paused"));
	ck_assert(vm->paused);
	/* a line longer than the buffer: an error, and the client is dropped */
	char big[600];
	memset(big, 'x', sizeof big);
	ck_assert(write(cl, big, sizeof big) == (ssize_t)sizeof big);
	vm_control_ready(&c);
	ck_assert(read_line(cl, buf, sizeof buf) > 0);
	ck_assert_ptr_nonnull(strstr(buf, "too long"));
	ck_assert_int_eq(vm_control_fd(&c), ls);
	close(cl);
	/* the next client is served; one that leaves is dropped */
	cl = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert(connect(cl, (struct sockaddr *)&sa, sizeof sa) == 0);
	vm_control_ready(&c);
	ck_assert(read_line(cl, buf, sizeof buf) > 0);
	ck_assert(write(cl, "{\"execute\": \"cont\"}\n", 20) == 20);
	vm_control_ready(&c);
	ck_assert(read_line(cl, buf, sizeof buf) > 0);
	ck_assert(!vm->paused);
	close(cl);
	vm_control_ready(&c);
	ck_assert_int_eq(vm_control_fd(&c), ls);
	vm_control_close(&c);
	close(ls);
	unlink(sa.sun_path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runner control socket");
	TCase *t = od_check_tcase(s, "core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_commands);
	tcase_add_test(t, test_hostile_requests);
	tcase_add_test(t, test_socket);
	return od_check_run(s);
}
