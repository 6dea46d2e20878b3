/*
 * guestrpc.h - VMware's "backdoor" as a guest sees it, without KVM: the
 * commands of the low-bandwidth port (0x5658) and the GuestRPC message
 * channels on top of its MESSAGE command, with a guestinfo store.
 *
 * What a guest does (open-vm-tools' lib/backdoor, lib/message, lib/rpcOut):
 * it loads EAX with the magic "VMXh" (0x564D5868), CX with the command and
 * DX with the port, and executes `in eax, dx`; arguments and results travel
 * in EAX, EBX, ECX, EDX, ESI, EDI.  MESSAGE (command 30) carries a
 * sub-command in the high half of ECX (open, send size, send payload four
 * bytes at a time, receive size, receive payload, receive status, close),
 * the channel id in the high half of EDX and a per-channel cookie in ESI:EDI;
 * the status comes back in the high half of ECX (bit 0: success).  On an
 * RPCI channel the guest sends a command ("info-get guestinfo.ovfEnv") and
 * receives "1 <result>" or "0 <error>"; on a TCLO channel the host would
 * send commands to the guest's tools: we have none to send.
 *
 * Everything from the guest is hostile: channel ids, cookies, sizes and
 * sub-commands are checked, a message is at most GUESTRPC_MAX_MSG bytes,
 * the guest's own guestinfo keys are bounded in number and size.
 *
 * Not thread-safe: the caller serialises calls (the runner's dev_lock).
 */
#ifndef OD_RUNNER_GUESTRPC_H
#define OD_RUNNER_GUESTRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define BDOOR_MAGIC 0x564D5868u
#define BDOOR_PORT 0x5658
#define BDOOR_CMD_GETMHZ 1
#define BDOOR_CMD_GETVERSION 10
#define BDOOR_CMD_GETHWVERSION 17
#define BDOOR_CMD_MESSAGE 30
#define BDOOR_CMD_GETHZ 45
#define BDOOR_CMD_GET_VCPU_INFO 68
/* GETVERSION's answer: the protocol version open-vm-tools checks, and the
 * product type "ESX" (VMX_TYPE_SCALABLE_SERVER) */
#define BDOOR_VERSION 6
#define BDOOR_TYPE_ESX 2

#define GUESTRPC_PROTO_RPCI 0x49435052u /* "RPCI" */
#define GUESTRPC_PROTO_TCLO 0x4f4c4354u /* "TCLO" */
#define GUESTRPC_FLAG_COOKIE 0x80000000u
#define GUESTRPC_MAX_CHANNELS 8
#define GUESTRPC_MAX_MSG 65536          /* open-vm-tools' GUESTMSG_MAX_IN_SIZE */
#define GUESTRPC_MAX_GUEST_KEYS 64      /* keys the guest may create */
#define GUESTRPC_MAX_GUEST_BYTES (256 * 1024) /* their names and values */
#define GUESTRPC_MAX_KEY 128            /* bytes of a key name */

/* message sub-commands (high half of ECX) and status bits */
enum {
	MSG_OPEN = 0, MSG_SENDSIZE = 1, MSG_SENDPAYLOAD = 2, MSG_RECVSIZE = 3,
	MSG_RECVPAYLOAD = 4, MSG_RECVSTATUS = 5, MSG_CLOSE = 6,
};
#define MSG_ST_SUCCESS 0x0001
#define MSG_ST_DORECV 0x0002
#define MSG_ST_HB 0x0080

/* The registers of one backdoor call: in before, out after. */
struct bdoor_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi;
};

struct guestrpc;

/* `seed` makes the cookies (take it from getrandom). */
struct guestrpc *guestrpc_new(uint64_t seed, od_err *e);
void guestrpc_free(struct guestrpc *g);

/* A key the host provides ("guestinfo.ovfEnv", "guestinfo.hostname"):
 * read-only for the guest.  The value is copied. */
int guestrpc_set_host_key(struct guestrpc *g, const char *key, const char *value, od_err *e);
/* A key's value as the guest would read it, NULL if absent. */
const char *guestrpc_get(const struct guestrpc *g, const char *key);
/* How many RPCI commands the guest sent (for logs and tests). */
unsigned long guestrpc_commands(const struct guestrpc *g);

/* Run one RPCI command (what the guest sent, `len` bytes, not NUL
 * terminated) and return its reply ("1 ..." or "0 ...") in a malloc'd
 * buffer of *rlen bytes (NULL on allocation failure). */
char *guestrpc_command(struct guestrpc *g, const char *cmd, size_t len, size_t *rlen);

/* The MESSAGE backdoor command (CX low half = 30): updates `r`. */
void guestrpc_message(struct guestrpc *g, struct bdoor_regs *r);

/* The whole low-bandwidth port: a 32-bit IN on BDOOR_PORT with the
 * registers `r`.  Without the magic in EAX the port reads as nothing is
 * there (EAX all ones).  `tsc_khz` answers GETHZ (0: not known), `hw_version`
 * GETHWVERSION (0: not said). */
struct bdoor_info {
	uint64_t tsc_khz;
	unsigned hw_version;
};
void bdoor_call(struct guestrpc *g, const struct bdoor_info *info, struct bdoor_regs *r);

#endif
