/* fuzz_guestrpc.c - libFuzzer harness for VMware's backdoor and GuestRPC
 * (src/runner/hw/vmware_backdoor.c, src/runner/guestrpc.c): a hostile guest
 * issuing backdoor calls in any order.  Built and run by scripts/fuzz.
 *
 * Input: byte 0 chooses the mode.
 *   0xF0..0xFF: the rest is one RPCI command run directly; its reply must
 *               start "1 " or "0 " and be as long as it says.
 *   otherwise:  from byte 1, records of 8 bytes, each one backdoor call:
 *     [0] bits 0-2 MESSAGE sub-command (7 = an unknown one); bit 3 set:
 *         another backdoor command, number [0] >> 4 from a list below
 *     [1] bits 0-2 which earlier open to use (its id and cookies);
 *         bit 3: corrupt the cookie; bit 4: a raw id ([6..7]) instead
 *     [2..5] EBX (little endian): size, payload or protocol
 *     [6..7] raw channel id
 *   Opens record the id and cookies they got, so later calls reach real
 *   channels.  A fresh GuestRPC per input: nothing carries over.
 * Checked besides the sanitizers: the status of a MESSAGE call has only
 * defined bits, a receive size never exceeds the message limit. */
#include "config.h"
#include "runner/guestrpc.h"

#include <stdlib.h>
#include <string.h>

static const uint16_t other_cmds[16] = {
	BDOOR_CMD_GETVERSION, BDOOR_CMD_GETHZ, BDOOR_CMD_GETMHZ, BDOOR_CMD_GETHWVERSION,
	BDOOR_CMD_GET_VCPU_INFO, 0, 0xffff, 19, 23, 46, 11, 15, 39, 40, 41, 44,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	od_err e;
	struct guestrpc *g = guestrpc_new(size, &e);
	if (!g)
		return 0;
	if (guestrpc_set_host_key(g, "guestinfo.ovfEnv", "<Environment/>", &e) < 0 ||
	    guestrpc_set_host_key(g, "guestinfo.hostname", "a", &e) < 0)
		abort();
	if (data[0] >= 0xf0) {
		size_t rl = 0;
		char *r = guestrpc_command(g, (const char *)data + 1, size - 1, &rl);
		if (r && (rl < 2 || (memcmp(r, "1 ", 2) && memcmp(r, "0 ", 2)) || r[rl] != 0))
			abort();
		free(r);
		guestrpc_free(g);
		return 0;
	}
	struct { uint32_t id, hi, lo; } open[8] = { { 0, 0, 0 } };
	unsigned nopen = 0;
	struct bdoor_info info = { data[0] & 1 ? 3000000 : 0, 14 };
	for (size_t at = 1; at + 8 <= size; at += 8) {
		const uint8_t *p = data + at;
		uint32_t ebx = (uint32_t)p[2] | (uint32_t)p[3] << 8 | (uint32_t)p[4] << 16 | (uint32_t)p[5] << 24;
		uint32_t raw = (uint32_t)p[6] | (uint32_t)p[7] << 8;
		struct bdoor_regs r = { BDOOR_MAGIC, ebx, 0, BDOOR_PORT, 0, 0 };
		if (p[0] & 8) {
			r.rcx = other_cmds[p[0] >> 4];
			bdoor_call(g, &info, &r);
			continue;
		}
		uint32_t sub = p[0] & 7;
		unsigned slot = p[1] & 7;
		uint32_t id = raw, hi = 0, lo = 0;
		if (!(p[1] & 0x10) && nopen) {
			id = open[slot % nopen].id;
			hi = open[slot % nopen].hi;
			lo = open[slot % nopen].lo;
		}
		if (p[1] & 8)
			hi ^= 1u << (p[6] & 31);
		r.rcx = sub << 16 | BDOOR_CMD_MESSAGE;
		r.rdx = id << 16 | BDOOR_PORT;
		r.rsi = hi;
		r.rdi = lo;
		bdoor_call(g, &info, &r);
		uint32_t st = (uint32_t)(r.rcx >> 16);
		if (st & ~(uint32_t)(MSG_ST_SUCCESS | MSG_ST_DORECV))
			abort();
		if (sub == MSG_OPEN && (st & MSG_ST_SUCCESS)) {
			unsigned k = nopen < 8 ? nopen++ : slot;
			open[k].id = (uint32_t)(r.rdx >> 16) & 0xffff;
			open[k].hi = (uint32_t)r.rsi;
			open[k].lo = (uint32_t)r.rdi;
		}
		if (sub == MSG_RECVSIZE && (st & MSG_ST_DORECV) && (uint32_t)r.rbx > GUESTRPC_MAX_MSG)
			abort();
	}
	guestrpc_free(g);
	return 0;
}
