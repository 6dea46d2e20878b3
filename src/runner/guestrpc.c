/* guestrpc.c - GuestRPC channels and the guestinfo store (see guestrpc.h).
 *
 * A channel goes IDLE -> SENDING (after SENDSIZE, until all payload bytes
 * came) -> REPLY (the command ran, its reply waits) -> RECEIVING (after
 * RECVSIZE, while the guest takes the payload) -> IDLE (RECVSTATUS).  Any
 * sub-command out of turn fails and leaves the channel as it was, except
 * that a new SENDSIZE is always allowed: it drops whatever was half sent or
 * not yet received, which is how a guest that gave up on a message
 * recovers.  A TCLO channel takes what the guest sends (its replies to
 * commands we never send) and has nothing to receive. */
#include "config.h"
#include "runner/guestrpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CH_FREE = 0, CH_IDLE, CH_SENDING, CH_REPLY, CH_RECEIVING };

struct channel {
	int state;
	bool tclo;
	bool cookies;
	uint32_t cookie_hi, cookie_lo;
	uint8_t *buf;   /* message being sent, then the reply */
	uint32_t len;   /* its size */
	uint32_t pos;   /* bytes sent or received so far */
};

struct kv {
	char *key, *value;
	bool host; /* provided by the host: read-only */
};

struct guestrpc {
	uint64_t rng;
	struct channel ch[GUESTRPC_MAX_CHANNELS];
	struct kv *kv;
	size_t nkv, cap;
	size_t guest_keys, guest_bytes;
	unsigned long commands;
};

/* splitmix64: cookies need only be unguessable by another process of the
 * guest that did not see the channel opened */
static uint32_t next_rand(struct guestrpc *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 16);
}

struct guestrpc *guestrpc_new(uint64_t seed, od_err *e)
{
	struct guestrpc *g = calloc(1, sizeof *g);
	if (!g) {
		od_err_nomem(e);
		return NULL;
	}
	g->rng = seed;
	return g;
}

static void chan_reset(struct channel *c)
{
	free(c->buf);
	memset(c, 0, sizeof *c);
}

void guestrpc_free(struct guestrpc *g)
{
	if (!g)
		return;
	for (unsigned i = 0; i < GUESTRPC_MAX_CHANNELS; i++)
		chan_reset(&g->ch[i]);
	for (size_t i = 0; i < g->nkv; i++) {
		free(g->kv[i].key);
		free(g->kv[i].value);
	}
	free(g->kv);
	free(g);
}

static struct kv *find(const struct guestrpc *g, const char *key, size_t klen)
{
	for (size_t i = 0; i < g->nkv; i++)
		if (strlen(g->kv[i].key) == klen && memcmp(g->kv[i].key, key, klen) == 0)
			return &g->kv[i];
	return NULL;
}

static char *dupn(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = 0;
	}
	return p;
}

/* Add or replace; -1 on allocation failure. */
static int put(struct guestrpc *g, const char *key, size_t klen, const char *val, size_t vlen, bool host)
{
	struct kv *k = find(g, key, klen);
	char *v = dupn(val, vlen);
	if (!v)
		return -1;
	if (k) {
		if (!k->host)
			g->guest_bytes -= strlen(k->value);
		free(k->value);
		k->value = v;
		k->host = k->host || host;
		if (!k->host)
			g->guest_bytes += vlen;
		return 0;
	}
	if (g->nkv == g->cap) {
		size_t nc = g->cap ? 2 * g->cap : 16;
		struct kv *n = realloc(g->kv, nc * sizeof *n);
		if (!n) {
			free(v);
			return -1;
		}
		g->kv = n;
		g->cap = nc;
	}
	char *kd = dupn(key, klen);
	if (!kd) {
		free(v);
		return -1;
	}
	g->kv[g->nkv++] = (struct kv){ kd, v, host };
	if (!host) {
		g->guest_keys++;
		g->guest_bytes += klen + vlen;
	}
	return 0;
}

int guestrpc_set_host_key(struct guestrpc *g, const char *key, const char *value, od_err *e)
{
	size_t kl = strlen(key), vl = strlen(value);
	if (kl == 0 || kl > GUESTRPC_MAX_KEY || strchr(key, ' '))
		return od_err_set(e, OD_E_USAGE, "guestinfo key \"%s\": 1 to %d bytes without spaces", key,
				  GUESTRPC_MAX_KEY);
	/* the reply "1 " + value must fit one message */
	if (vl > GUESTRPC_MAX_MSG - 2)
		return od_err_set(e, OD_E_USAGE, "guestinfo key %s: value of %zu bytes, at most %d", key, vl,
				  GUESTRPC_MAX_MSG - 2);
	if (put(g, key, kl, value, vl, true) < 0)
		return od_err_nomem(e);
	return 0;
}

const char *guestrpc_get(const struct guestrpc *g, const char *key)
{
	struct kv *k = find(g, key, strlen(key));
	return k ? k->value : NULL;
}

unsigned long guestrpc_commands(const struct guestrpc *g)
{
	return g->commands;
}

static char *reply(size_t *rlen, bool ok, const char *text, size_t tlen)
{
	char *r = malloc(tlen + 3);
	if (!r)
		return NULL;
	r[0] = ok ? '1' : '0';
	r[1] = ' ';
	memcpy(r + 2, text, tlen);
	r[tlen + 2] = 0;
	*rlen = tlen + 2;
	return r;
}
#define REPLY(ok, s) reply(rlen, ok, s, strlen(s))

static bool starts(const char *cmd, size_t len, const char *word, size_t *rest)
{
	size_t n = strlen(word);
	if (len < n || memcmp(cmd, word, n) != 0)
		return false;
	*rest = n;
	return true;
}

/* Keys a guest may name: "guestinfo." and printable bytes without spaces. */
static bool key_ok(const char *k, size_t n)
{
	if (n <= 10 || n > GUESTRPC_MAX_KEY || memcmp(k, "guestinfo.", 10) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)k[i] <= ' ' || (unsigned char)k[i] >= 0x7f)
			return false;
	return true;
}

char *guestrpc_command(struct guestrpc *g, const char *cmd, size_t len, size_t *rlen)
{
	size_t at;
	g->commands++;
	/* a command is text: a trailing NUL (some callers send one) ends it */
	const char *nul = memchr(cmd, 0, len);
	if (nul)
		len = (size_t)(nul - cmd);
	if (starts(cmd, len, "info-get ", &at)) {
		const char *k = cmd + at;
		size_t kl = len - at;
		while (kl && (k[kl - 1] == ' ' || k[kl - 1] == '\n'))
			kl--;
		struct kv *v = key_ok(k, kl) ? find(g, k, kl) : NULL;
		if (!v)
			return REPLY(false, "No value found");
		return reply(rlen, true, v->value, strlen(v->value));
	}
	if (starts(cmd, len, "info-set ", &at)) {
		const char *k = cmd + at;
		const char *sp = memchr(k, ' ', len - at);
		size_t kl = sp ? (size_t)(sp - k) : len - at;
		const char *val = sp ? sp + 1 : "";
		size_t vl = sp ? len - at - kl - 1 : 0;
		if (!key_ok(k, kl))
			return REPLY(false, "Invalid key");
		struct kv *old = find(g, k, kl);
		if (old && old->host)
			return REPLY(false, "Permission denied: the key is set by the host");
		size_t oldbytes = old ? kl + strlen(old->value) : 0;
		if ((!old && g->guest_keys >= GUESTRPC_MAX_GUEST_KEYS) ||
		    g->guest_bytes - oldbytes + kl + vl > GUESTRPC_MAX_GUEST_BYTES)
			return REPLY(false, "Too many guestinfo keys");
		if (put(g, k, kl, val, vl, false) < 0)
			return REPLY(false, "Out of memory");
		return REPLY(true, "");
	}
	/* what open-vm-tools says about itself at start: noted, nothing to do */
	if (starts(cmd, len, "log ", &at) || starts(cmd, len, "tools.set.version ", &at) ||
	    starts(cmd, len, "tools.capability.", &at))
		return REPLY(true, "");
	return REPLY(false, "Unknown command");
}

/* ---- the message channels ---- */

#define LO16(x) ((uint32_t)(x) & 0xffffu)
#define HI16(x) (((uint32_t)(x) >> 16) & 0xffffu)

static void status(struct bdoor_regs *r, uint32_t st)
{
	r->rcx = (uint64_t)(st << 16);
}

/* The channel the registers name, with its cookies checked; NULL if none. */
static struct channel *chan_of(struct guestrpc *g, const struct bdoor_regs *r)
{
	uint32_t id = HI16(r->rdx);
	if (id >= GUESTRPC_MAX_CHANNELS)
		return NULL;
	struct channel *c = &g->ch[id];
	if (c->state == CH_FREE)
		return NULL;
	if (c->cookies && ((uint32_t)r->rsi != c->cookie_hi || (uint32_t)r->rdi != c->cookie_lo))
		return NULL;
	return c;
}

static void run_message(struct guestrpc *g, struct channel *c)
{
	if (c->tclo) {
		/* the guest's reply to a command we never sent: dropped */
		free(c->buf);
		c->buf = NULL;
		c->len = c->pos = 0;
		c->state = CH_IDLE;
		return;
	}
	size_t rl = 0;
	char *rep = guestrpc_command(g, (const char *)c->buf, c->len, &rl);
	free(c->buf);
	c->buf = (uint8_t *)rep;
	c->len = rep ? (uint32_t)rl : 0;
	c->pos = 0;
	c->state = CH_REPLY;
}

void guestrpc_message(struct guestrpc *g, struct bdoor_regs *r)
{
	uint32_t sub = HI16(r->rcx);
	uint32_t ebx = (uint32_t)r->rbx;
	if (sub == MSG_OPEN) {
		uint32_t proto = ebx & ~GUESTRPC_FLAG_COOKIE;
		if (proto != GUESTRPC_PROTO_RPCI && proto != GUESTRPC_PROTO_TCLO) {
			status(r, 0);
			return;
		}
		for (uint32_t id = 0; id < GUESTRPC_MAX_CHANNELS; id++) {
			struct channel *c = &g->ch[id];
			if (c->state != CH_FREE)
				continue;
			chan_reset(c);
			c->state = CH_IDLE;
			c->tclo = proto == GUESTRPC_PROTO_TCLO;
			c->cookies = (ebx & GUESTRPC_FLAG_COOKIE) != 0;
			if (c->cookies) {
				c->cookie_hi = next_rand(g) << 16 | next_rand(g);
				c->cookie_lo = next_rand(g) << 16 | next_rand(g);
				r->rsi = c->cookie_hi;
				r->rdi = c->cookie_lo;
			}
			r->rdx = (uint64_t)(id << 16 | LO16(r->rdx));
			status(r, MSG_ST_SUCCESS);
			return;
		}
		status(r, 0); /* all channels in use */
		return;
	}
	struct channel *c = chan_of(g, r);
	if (!c) {
		status(r, 0);
		return;
	}
	switch (sub) {
	case MSG_SENDSIZE: {
		if (ebx > GUESTRPC_MAX_MSG) {
			status(r, 0);
			return;
		}
		uint8_t *b = malloc(ebx ? ebx : 1);
		if (!b) {
			status(r, 0);
			return;
		}
		free(c->buf);
		c->buf = b;
		c->len = ebx;
		c->pos = 0;
		c->state = CH_SENDING;
		if (ebx == 0)
			run_message(g, c);
		status(r, MSG_ST_SUCCESS);
		return;
	}
	case MSG_SENDPAYLOAD: {
		if (c->state != CH_SENDING) {
			status(r, 0);
			return;
		}
		uint32_t n = c->len - c->pos < 4 ? c->len - c->pos : 4;
		for (uint32_t i = 0; i < n; i++)
			c->buf[c->pos + i] = (uint8_t)(ebx >> (8 * i));
		c->pos += n;
		if (c->pos == c->len)
			run_message(g, c);
		status(r, MSG_ST_SUCCESS);
		return;
	}
	case MSG_RECVSIZE:
		if (c->state != CH_REPLY) {
			/* nothing waiting: success without DORECV (a TCLO poll) */
			status(r, c->state == CH_IDLE ? MSG_ST_SUCCESS : 0);
			return;
		}
		if (!c->buf) { /* the reply could not be allocated */
			c->state = CH_IDLE;
			status(r, 0);
			return;
		}
		c->state = CH_RECEIVING;
		c->pos = 0;
		r->rbx = c->len;
		r->rdx = (uint64_t)(MSG_SENDSIZE << 16 | LO16(r->rdx));
		status(r, MSG_ST_SUCCESS | MSG_ST_DORECV);
		return;
	case MSG_RECVPAYLOAD: {
		if (c->state != CH_RECEIVING || c->pos >= c->len) {
			status(r, 0);
			return;
		}
		uint32_t v = 0, n = c->len - c->pos < 4 ? c->len - c->pos : 4;
		for (uint32_t i = 0; i < n; i++)
			v |= (uint32_t)c->buf[c->pos + i] << (8 * i);
		c->pos += n;
		r->rbx = v;
		r->rdx = (uint64_t)(MSG_SENDPAYLOAD << 16 | LO16(r->rdx));
		status(r, MSG_ST_SUCCESS);
		return;
	}
	case MSG_RECVSTATUS:
		if (c->state != CH_RECEIVING) {
			status(r, 0);
			return;
		}
		free(c->buf);
		c->buf = NULL;
		c->len = c->pos = 0;
		c->state = CH_IDLE;
		status(r, MSG_ST_SUCCESS);
		return;
	case MSG_CLOSE:
		chan_reset(c);
		status(r, MSG_ST_SUCCESS);
		return;
	default:
		status(r, 0);
		return;
	}
}
