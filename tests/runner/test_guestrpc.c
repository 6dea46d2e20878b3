/* test_guestrpc.c - VMware's backdoor and GuestRPC (src/runner/guestrpc.c,
 * src/runner/hw/vmware_backdoor.c) driven register by register as
 * open-vm-tools' lib/message and lib/rpcOut drive them: open with the cookie
 * flag, send the size, the payload four bytes at a time, receive the size,
 * the payload, the status, close.  Then what a hostile guest does: lengths
 * past the limit, channels never opened or out of range, wrong cookies,
 * sub-commands out of turn, interleaved channels, exhausted tables. */
#include "config.h"
#include "runner/guestrpc.h"

#include <check.h>
#include "../check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct bdoor_info no_info = { 0, 0 };

/* one backdoor call with the magic, command and port as the tools load them */
static struct bdoor_regs call(struct guestrpc *g, uint32_t cmd_hi, uint32_t ebx, uint32_t id, uint32_t si,
			      uint32_t di)
{
	struct bdoor_regs r = { BDOOR_MAGIC, ebx, cmd_hi << 16 | BDOOR_CMD_MESSAGE, id << 16 | BDOOR_PORT, si, di };
	bdoor_call(g, &no_info, &r);
	return r;
}
#define ST(r) ((uint32_t)((r).rcx >> 16) & 0xffff)

struct chan {
	uint32_t id, hi, lo;
};

static bool open_ch(struct guestrpc *g, uint32_t proto, bool cookie, struct chan *c)
{
	struct bdoor_regs r = call(g, MSG_OPEN, proto | (cookie ? GUESTRPC_FLAG_COOKIE : 0), 0, 0, 0);
	if (!(ST(r) & MSG_ST_SUCCESS))
		return false;
	c->id = (uint32_t)(r.rdx >> 16) & 0xffff;
	c->hi = cookie ? (uint32_t)r.rsi : 0;
	c->lo = cookie ? (uint32_t)r.rdi : 0;
	return true;
}

static bool send_size(struct guestrpc *g, const struct chan *c, uint32_t n)
{
	return ST(call(g, MSG_SENDSIZE, n, c->id, c->hi, c->lo)) & MSG_ST_SUCCESS;
}

static bool send_piece(struct guestrpc *g, const struct chan *c, const char *p, size_t left)
{
	uint32_t v = 0;
	for (size_t i = 0; i < 4 && i < left; i++)
		v |= (uint32_t)(uint8_t)p[i] << (8 * i);
	return ST(call(g, MSG_SENDPAYLOAD, v, c->id, c->hi, c->lo)) & MSG_ST_SUCCESS;
}

static bool send_msg(struct guestrpc *g, const struct chan *c, const char *m, size_t n)
{
	if (!send_size(g, c, (uint32_t)n))
		return false;
	for (size_t i = 0; i < n; i += 4)
		if (!send_piece(g, c, m + i, n - i))
			return false;
	return true;
}

/* Receive a reply as Message_Receive does; returns a malloc'd string or
 * NULL; *got_nothing when the host had nothing to send. */
static char *recv_msg(struct guestrpc *g, const struct chan *c, size_t *len, bool *got_nothing)
{
	*got_nothing = false;
	struct bdoor_regs r = call(g, MSG_RECVSIZE, 0, c->id, c->hi, c->lo);
	if (!(ST(r) & MSG_ST_SUCCESS))
		return NULL;
	if (!(ST(r) & MSG_ST_DORECV)) {
		*got_nothing = true;
		return NULL;
	}
	ck_assert_uint_eq((r.rdx >> 16) & 0xffff, MSG_SENDSIZE);
	ck_assert(!(ST(r) & MSG_ST_HB)); /* we offer no high-bandwidth port */
	size_t n = (uint32_t)r.rbx;
	char *b = malloc(n + 1);
	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < n; i += 4) {
		r = call(g, MSG_RECVPAYLOAD, MSG_ST_SUCCESS, c->id, c->hi, c->lo);
		if (!(ST(r) & MSG_ST_SUCCESS)) {
			free(b);
			return NULL;
		}
		ck_assert_uint_eq((r.rdx >> 16) & 0xffff, MSG_SENDPAYLOAD);
		for (size_t k = 0; k < 4 && i + k < n; k++)
			b[i + k] = (char)(r.rbx >> (8 * k));
	}
	b[n] = 0;
	r = call(g, MSG_RECVSTATUS, MSG_ST_SUCCESS, c->id, c->hi, c->lo);
	ck_assert_uint_eq(ST(r) & MSG_ST_SUCCESS, MSG_ST_SUCCESS);
	*len = n;
	return b;
}

static bool close_ch(struct guestrpc *g, const struct chan *c)
{
	return ST(call(g, MSG_CLOSE, 0, c->id, c->hi, c->lo)) & MSG_ST_SUCCESS;
}

/* RpcOut_sendOne: one channel per command */
static char *rpci(struct guestrpc *g, const char *cmd)
{
	struct chan c;
	ck_assert(open_ch(g, GUESTRPC_PROTO_RPCI, true, &c));
	ck_assert(send_msg(g, &c, cmd, strlen(cmd)));
	size_t n;
	bool none;
	char *rep = recv_msg(g, &c, &n, &none);
	ck_assert_ptr_nonnull(rep);
	ck_assert_uint_eq(strlen(rep), n);
	ck_assert(close_ch(g, &c));
	return rep;
}

static struct guestrpc *new_rpc(void)
{
	od_err e;
	struct guestrpc *g = guestrpc_new(12345, &e);
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(guestrpc_set_host_key(g, "guestinfo.ovfEnv", "<Environment/>", &e), 0);
	ck_assert_int_eq(guestrpc_set_host_key(g, "guestinfo.hostname", "appliance1", &e), 0);
	return g;
}

START_TEST(test_commands)
{
	struct guestrpc *g = new_rpc();
	struct bdoor_info info = { 2500000, 14 };
	/* GETVERSION as VmCheck_GetVersion asks it: EBX not the magic, CX high ~0 */
	struct bdoor_regs r = { BDOOR_MAGIC, ~BDOOR_MAGIC, 0xffff0000u | BDOOR_CMD_GETVERSION, BDOOR_PORT, 0, 0 };
	bdoor_call(g, &info, &r);
	ck_assert_uint_eq(r.rax, BDOOR_VERSION);
	ck_assert_uint_eq(r.rbx, BDOOR_MAGIC);
	ck_assert_uint_eq(r.rcx, BDOOR_TYPE_ESX);
	/* without the magic: an empty port, the rest untouched */
	r = (struct bdoor_regs){ 0x12345678, 7, BDOOR_CMD_GETVERSION, BDOOR_PORT, 1, 2 };
	bdoor_call(g, &info, &r);
	ck_assert_uint_eq(r.rax, 0xffffffffu);
	ck_assert_uint_eq(r.rbx, 7);
	/* GETHZ as Linux asks it (EBX = ~0 in): TSC Hz in EBX:EAX, bus Hz in ECX */
	r = (struct bdoor_regs){ BDOOR_MAGIC, 0xffffffffu, BDOOR_CMD_GETHZ, BDOOR_PORT, 0, 0 };
	bdoor_call(g, &info, &r);
	ck_assert_uint_eq(r.rax | r.rbx << 32, 2500000000ull);
	ck_assert_uint_eq(r.rcx, 1000000000u);
	/* unknown frequency: EBX stays ~0, which Linux reads as "not given" */
	r = (struct bdoor_regs){ BDOOR_MAGIC, 0xffffffffu, BDOOR_CMD_GETHZ, BDOOR_PORT, 0, 0 };
	bdoor_call(g, &no_info, &r);
	ck_assert_uint_eq(r.rbx, 0xffffffffu);
	r = (struct bdoor_regs){ BDOOR_MAGIC, 0, BDOOR_CMD_GETHWVERSION, BDOOR_PORT, 0, 0 };
	bdoor_call(g, &info, &r);
	ck_assert_uint_eq(r.rax, 14);
	/* GET_VCPU_INFO: valid (bit 31 clear) and no legacy x2APIC (bit 3) */
	r = (struct bdoor_regs){ BDOOR_MAGIC, 0, BDOOR_CMD_GET_VCPU_INFO, BDOOR_PORT, 0, 0 };
	bdoor_call(g, &info, &r);
	ck_assert_uint_eq(r.rax & (1u << 31 | 1u << 3), 0);
	/* an unknown command */
	r = (struct bdoor_regs){ BDOOR_MAGIC, 0, 0x7777, BDOOR_PORT, 0, 0 };
	bdoor_call(g, &info, &r);
	ck_assert_uint_eq(r.rax, 0xffffffffu);
	/* MESSAGE without GuestRPC: no channel opens */
	r = (struct bdoor_regs){ BDOOR_MAGIC, GUESTRPC_PROTO_RPCI, BDOOR_CMD_MESSAGE, BDOOR_PORT, 0, 0 };
	bdoor_call(NULL, &info, &r);
	ck_assert_uint_eq(ST(r) & MSG_ST_SUCCESS, 0);
	guestrpc_free(g);
}
END_TEST

START_TEST(test_rpci)
{
	struct guestrpc *g = new_rpc();
	char *s = rpci(g, "info-get guestinfo.ovfEnv");
	ck_assert_str_eq(s, "1 <Environment/>");
	free(s);
	s = rpci(g, "info-get guestinfo.nothere");
	ck_assert_str_eq(s, "0 No value found");
	free(s);
	s = rpci(g, "frobnicate now");
	ck_assert_str_eq(s, "0 Unknown command");
	free(s);
	/* the guest's own key: set, read, replace */
	s = rpci(g, "info-set guestinfo.state booted");
	ck_assert_str_eq(s, "1 ");
	free(s);
	s = rpci(g, "info-get guestinfo.state");
	ck_assert_str_eq(s, "1 booted");
	free(s);
	s = rpci(g, "info-set guestinfo.state ready to go");
	free(s);
	ck_assert_str_eq(guestrpc_get(g, "guestinfo.state"), "ready to go");
	/* the host's keys are read-only; keys outside guestinfo. refused */
	s = rpci(g, "info-set guestinfo.hostname evil");
	ck_assert(s[0] == '0');
	free(s);
	ck_assert_str_eq(guestrpc_get(g, "guestinfo.hostname"), "appliance1");
	s = rpci(g, "info-set machine.id x");
	ck_assert(s[0] == '0');
	free(s);
	/* tools' start-up chatter is accepted */
	s = rpci(g, "tools.set.version 12389");
	ck_assert_str_eq(s, "1 ");
	free(s);
	/* an empty command and one with a NUL inside (the rest ignored) */
	s = rpci(g, "");
	ck_assert(s[0] == '0');
	free(s);
	struct chan c;
	ck_assert(open_ch(g, GUESTRPC_PROTO_RPCI, true, &c));
	ck_assert(send_msg(g, &c, "info-get guestinfo.hostname\0junk", 32));
	size_t n;
	bool none;
	s = recv_msg(g, &c, &n, &none);
	ck_assert_str_eq(s, "1 appliance1");
	free(s);
	ck_assert(close_ch(g, &c));
	ck_assert_uint_ge(guestrpc_commands(g), 9);
	guestrpc_free(g);
}
END_TEST

/* Values of every length modulo 4, up to the largest a message holds. */
START_TEST(test_lengths)
{
	od_err e;
	struct guestrpc *g = new_rpc();
	size_t sizes[] = { 0, 1, 2, 3, 4, 5, 4093, GUESTRPC_MAX_MSG - 2 };
	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char *v = malloc(sizes[i] + 1);
		for (size_t k = 0; k < sizes[i]; k++)
			v[k] = (char)('a' + (k * 7 + i) % 26);
		v[sizes[i]] = 0;
		ck_assert_int_eq(guestrpc_set_host_key(g, "guestinfo.big", v, &e), 0);
		char *s = rpci(g, "info-get guestinfo.big");
		ck_assert_uint_eq(strlen(s), sizes[i] + 2);
		ck_assert(memcmp(s, "1 ", 2) == 0 && strcmp(s + 2, v) == 0);
		free(s);
		free(v);
	}
	/* a value the reply could not carry is refused at the host */
	char *v = malloc(GUESTRPC_MAX_MSG);
	memset(v, 'x', GUESTRPC_MAX_MSG - 1);
	v[GUESTRPC_MAX_MSG - 1] = 0;
	ck_assert_int_eq(guestrpc_set_host_key(g, "guestinfo.big", v, &e), -1);
	free(v);
	ck_assert_int_eq(guestrpc_set_host_key(g, "bad key", "v", &e), -1);
	ck_assert_int_eq(guestrpc_set_host_key(g, "", "v", &e), -1);
	guestrpc_free(g);
}
END_TEST

START_TEST(test_hostile)
{
	struct guestrpc *g = new_rpc();
	struct chan c, bad;
	ck_assert(open_ch(g, GUESTRPC_PROTO_RPCI, true, &c));
	/* sizes past the limit, up to ~0 */
	ck_assert(!send_size(g, &c, GUESTRPC_MAX_MSG + 1));
	ck_assert(!send_size(g, &c, 0xffffffffu));
	ck_assert(send_size(g, &c, GUESTRPC_MAX_MSG)); /* the limit itself is fine */
	/* channels out of range, or never opened */
	uint32_t ids[] = { GUESTRPC_MAX_CHANNELS, 0xffff, c.id + 1 };
	for (unsigned i = 0; i < 3; i++) {
		bad = (struct chan){ ids[i], c.hi, c.lo };
		ck_assert(!send_size(g, &bad, 4));
		ck_assert(!(ST(call(g, MSG_RECVSIZE, 0, bad.id, bad.hi, bad.lo)) & MSG_ST_SUCCESS));
		ck_assert(!(ST(call(g, MSG_RECVPAYLOAD, 1, bad.id, bad.hi, bad.lo)) & MSG_ST_SUCCESS));
		ck_assert(!close_ch(g, &bad));
	}
	/* the right channel with a wrong cookie, each half */
	bad = (struct chan){ c.id, c.hi ^ 1, c.lo };
	ck_assert(!send_size(g, &bad, 4));
	bad = (struct chan){ c.id, c.hi, c.lo ^ 0x80000000u };
	ck_assert(!close_ch(g, &bad));
	/* unknown sub-commands and protocols */
	ck_assert(!(ST(call(g, 7, 0, c.id, c.hi, c.lo)) & MSG_ST_SUCCESS));
	ck_assert(!(ST(call(g, 0xffff, 0, c.id, c.hi, c.lo)) & MSG_ST_SUCCESS));
	ck_assert(!(ST(call(g, MSG_OPEN, 0x12345678, 0, 0, 0)) & MSG_ST_SUCCESS));
	/* out of turn: payload without a size, receive before the reply,
	 * receive past the end, status before receiving */
	ck_assert(send_size(g, &c, 0) == true); /* empty command: a reply waits */
	ck_assert(!send_piece(g, &c, "abcd", 4));
	ck_assert(!(ST(call(g, MSG_RECVPAYLOAD, 1, c.id, c.hi, c.lo)) & MSG_ST_SUCCESS));
	ck_assert(!(ST(call(g, MSG_RECVSTATUS, 1, c.id, c.hi, c.lo)) & MSG_ST_SUCCESS));
	struct bdoor_regs r = call(g, MSG_RECVSIZE, 0, c.id, c.hi, c.lo);
	ck_assert_uint_eq(ST(r), MSG_ST_SUCCESS | MSG_ST_DORECV);
	uint32_t n = (uint32_t)r.rbx;
	for (uint32_t i = 0; i < n; i += 4)
		ck_assert(ST(call(g, MSG_RECVPAYLOAD, 1, c.id, c.hi, c.lo)) & MSG_ST_SUCCESS);
	ck_assert(!(ST(call(g, MSG_RECVPAYLOAD, 1, c.id, c.hi, c.lo)) & MSG_ST_SUCCESS));
	ck_assert(ST(call(g, MSG_RECVSTATUS, 1, c.id, c.hi, c.lo)) & MSG_ST_SUCCESS);
	ck_assert(!(ST(call(g, MSG_RECVSTATUS, 1, c.id, c.hi, c.lo)) & MSG_ST_SUCCESS));
	/* a guest that gives up half way sends a new size: the half message goes */
	ck_assert(send_size(g, &c, 100));
	ck_assert(send_piece(g, &c, "info", 4));
	ck_assert(send_msg(g, &c, "info-get guestinfo.hostname", 27));
	size_t len;
	bool none;
	char *s = recv_msg(g, &c, &len, &none);
	ck_assert_str_eq(s, "1 appliance1");
	free(s);
	ck_assert(close_ch(g, &c));
	/* closed: its id and cookies are dead */
	ck_assert(!send_size(g, &c, 1));
	guestrpc_free(g);
}
END_TEST

START_TEST(test_channels)
{
	struct guestrpc *g = new_rpc();
	struct chan c[GUESTRPC_MAX_CHANNELS], extra;
	for (unsigned i = 0; i < GUESTRPC_MAX_CHANNELS; i++)
		ck_assert(open_ch(g, i % 2 ? GUESTRPC_PROTO_TCLO : GUESTRPC_PROTO_RPCI, i != 4, &c[i]));
	ck_assert(!open_ch(g, GUESTRPC_PROTO_RPCI, true, &extra)); /* table full */
	/* every channel has its own id and cookies */
	for (unsigned i = 0; i < GUESTRPC_MAX_CHANNELS; i++)
		for (unsigned k = 0; k < i; k++) {
			ck_assert_uint_ne(c[i].id, c[k].id);
			if (i != 4 && k != 4)
				ck_assert(c[i].hi != c[k].hi || c[i].lo != c[k].lo);
		}
	/* a guest process cannot use another's channel with its own cookies */
	struct chan stolen = { c[0].id, c[2].hi, c[2].lo };
	ck_assert(!send_size(g, &stolen, 4));
	/* two RPCI channels (one without cookies, as tools fall back to) with
	 * their payloads interleaved word by word */
	const char *a = "info-get guestinfo.ovfEnv", *b = "info-get guestinfo.hostname";
	size_t la = strlen(a), lb = strlen(b);
	ck_assert(send_size(g, &c[2], (uint32_t)la));
	ck_assert(send_size(g, &c[4], (uint32_t)lb));
	for (size_t i = 0; i < la || i < lb; i += 4) {
		if (i < lb)
			ck_assert(send_piece(g, &c[4], b + i, lb - i));
		if (i < la)
			ck_assert(send_piece(g, &c[2], a + i, la - i));
	}
	size_t n;
	bool none;
	char *ra = recv_msg(g, &c[2], &n, &none), *rb = recv_msg(g, &c[4], &n, &none);
	ck_assert_str_eq(ra, "1 <Environment/>");
	ck_assert_str_eq(rb, "1 appliance1");
	free(ra);
	free(rb);
	/* TCLO: the guest sends (its reply to a command), polls, gets nothing */
	ck_assert(send_msg(g, &c[1], "OK", 2));
	ck_assert_ptr_null(recv_msg(g, &c[1], &n, &none));
	ck_assert(none);
	ck_assert(send_size(g, &c[1], 0));
	ck_assert_ptr_null(recv_msg(g, &c[1], &n, &none));
	ck_assert(none);
	/* closing frees the slot for the next open */
	ck_assert(close_ch(g, &c[5]));
	ck_assert(open_ch(g, GUESTRPC_PROTO_RPCI, true, &extra));
	ck_assert_uint_eq(extra.id, c[5].id);
	ck_assert(extra.hi != c[5].hi || extra.lo != c[5].lo);
	/* freeing with channels open and messages half sent */
	ck_assert(send_size(g, &c[0], 1000));
	guestrpc_free(g);
}
END_TEST

START_TEST(test_guest_limits)
{
	struct guestrpc *g = new_rpc();
	char cmd[300];
	for (unsigned i = 0; i < GUESTRPC_MAX_GUEST_KEYS; i++) {
		snprintf(cmd, sizeof cmd, "info-set guestinfo.k%u v", i);
		char *s = rpci(g, cmd);
		ck_assert_str_eq(s, "1 ");
		free(s);
	}
	char *s = rpci(g, "info-set guestinfo.onemore v");
	ck_assert(s[0] == '0');
	free(s);
	/* replacing an existing key is still allowed */
	s = rpci(g, "info-set guestinfo.k1 w");
	ck_assert_str_eq(s, "1 ");
	free(s);
	/* bytes: values near the message size soon exhaust the budget */
	char *big = malloc(GUESTRPC_MAX_MSG);
	unsigned ok = 0;
	for (unsigned i = 0; i < 16; i++) {
		int k = snprintf(big, GUESTRPC_MAX_MSG, "info-set guestinfo.k%u ", i);
		memset(big + k, 'z', (size_t)(60000 - k));
		big[60000] = 0;
		s = rpci(g, big);
		ok += s[0] == '1';
		free(s);
	}
	ck_assert_uint_eq(ok, GUESTRPC_MAX_GUEST_BYTES / 60000);
	free(big);
	/* overlong key names */
	memset(cmd, 0, sizeof cmd);
	strcpy(cmd, "info-set guestinfo.");
	memset(cmd + strlen(cmd), 'q', 200);
	strcat(cmd, " v");
	s = rpci(g, cmd);
	ck_assert(s[0] == '0');
	free(s);
	guestrpc_free(g);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runner guestrpc");
	TCase *t = od_check_tcase(s, "core");
	tcase_add_test(t, test_commands);
	tcase_add_test(t, test_rpci);
	tcase_add_test(t, test_lengths);
	tcase_add_test(t, test_hostile);
	tcase_add_test(t, test_channels);
	tcase_add_test(t, test_guest_limits);
	return od_check_run(s);
}
