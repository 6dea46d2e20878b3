/* ps2_mouse.c - a PS/2 mouse behind the i8042's AUX port (misc.c), moved
 * by the VNC clients' pointers (vnc.c).
 *
 * The command set is the one firmware and Linux's psmouse use: reset (0xFF:
 * ACK, self test passed 0xAA, device ID 0), get ID (0xF2: a plain
 * three-byte-packet mouse, ID 0), set defaults (0xF6), enable and disable
 * data reporting (0xF4/0xF5), sample rate (0xF3 n) and resolution (0xE8 n),
 * scaling (0xE6/0xE7), stream and remote mode (0xEA/0xF0), read data
 * (0xEB) and status request (0xE9).  The IntelliMouse knock (sample
 * rates 200, 100, 80 in a row) makes it a wheel mouse, ID 3, whose packets
 * have a fourth byte, the wheel's steps (-8 to 7 per packet); only a driver
 * that knocks gets those, so firmware and plain drivers see a plain
 * three-button mouse, and a reset makes it one again.  Anything else is answered 0xFE (resend), as a real mouse answers a
 * command it does not know, so that vendor probes (Synaptics, ALPS, ...)
 * give up quickly.
 *
 * Motion: VNC gives absolute positions, PS/2 relative counts; vnc.c turns
 * one into the other, and the mouse queues what the guest has yet to
 * read.  The queue is a handful of events, each a button state and the
 * motion made with it: motion with unchanged buttons adds to the last
 * event (saturating), so a client that floods pointer events costs no
 * memory; a button change starts a new event, so a click is not lost in
 * the motion around it, until the queue is full (then the newest change
 * overwrites the last one).  Each event becomes as many packets as its
 * motion needs at +-255 counts each, one packet at a time, when the
 * i8042 has room for all three bytes (misc.c). */
#include "config.h"
#include "runner/vmm.h"

#include <string.h>

/* motion kept per event: far more than a screen's width, far from int
 * overflow */
#define MOTION_CAP 65535

void ps2_mouse_reset(struct ps2_mouse *ms)
{
	/* defaults: 100 samples/s, 4 counts/mm, 1:1, stream mode, reporting
	 * off; queued motion is gone */
	ms->enabled = false;
	ms->remote = false;
	ms->scaling21 = false;
	ms->rate = 100;
	ms->resolution = 2;
	ms->pending = 0;
	memset(ms->rates, 0, sizeof ms->rates);
	ms->evhead = ms->evcount = 0;
}

void ps2_mouse_packet(int dx, int dy, unsigned buttons, uint8_t out[3])
{
	uint8_t b0 = 0x08 | (buttons & 0x07); /* bit 3 is always set */
	/* 9-bit two's complement counts: the sign in byte 0, the low 8 bits
	 * in bytes 1 and 2; beyond +-255 we clamp and say so (overflow) */
	if (dx > 255 || dx < -255) {
		b0 |= 0x40;
		dx = dx > 0 ? 255 : -255;
	}
	if (dy > 255 || dy < -255) {
		b0 |= 0x80;
		dy = dy > 0 ? 255 : -255;
	}
	if (dx < 0)
		b0 |= 0x10;
	if (dy < 0)
		b0 |= 0x20;
	out[0] = b0;
	out[1] = (uint8_t)(dx & 0xff);
	out[2] = (uint8_t)(dy & 0xff);
}

static int sat_add(int a, int b)
{
	long s = (long)a + b;
	return s > MOTION_CAP ? MOTION_CAP : s < -MOTION_CAP ? -MOTION_CAP : (int)s;
}

static int clamp(int v, int lim)
{
	return v > lim ? lim : v < -lim ? -lim : v;
}

void ps2_mouse_move(struct ps2_mouse *ms, int dx, int dy, int dz, unsigned buttons)
{
	buttons &= 0x07;
	if (!ms->enabled)
		return; /* reporting off: a real mouse sends nothing, keeps nothing */
	if (ms->id != 3)
		dz = 0; /* no wheel to turn */
	dx = sat_add(0, dx);
	dy = sat_add(0, dy);
	dz = clamp(dz, 255);
	if (ms->evcount) {
		struct ps2_mouse_event *last = &ms->ev[(ms->evhead + ms->evcount - 1) % PS2_MOUSE_EVENTS];
		/* the same buttons, or no room for another event: add to the
		 * last one */
		if (last->buttons == buttons || ms->evcount == PS2_MOUSE_EVENTS) {
			last->dx = sat_add(last->dx, dx);
			last->dy = sat_add(last->dy, dy);
			last->dz = clamp(last->dz + dz, 255);
			last->buttons = (uint8_t)buttons;
			return;
		}
	} else if (!dx && !dy && !dz && buttons == ms->buttons) {
		return; /* nothing new to tell */
	}
	ms->ev[(ms->evhead + ms->evcount) % PS2_MOUSE_EVENTS] =
		(struct ps2_mouse_event){.dx = dx, .dy = dy, .dz = dz, .buttons = (uint8_t)buttons};
	ms->evcount++;
}

size_t ps2_mouse_packet_size(const struct ps2_mouse *ms)
{
	return ms->id == 3 ? 4 : 3;
}

/* The next packet of the head event (ps2_mouse_packet_size bytes),
 * consuming what it reports. */
static void take_packet(struct ps2_mouse *ms, uint8_t out[PS2_MOUSE_PACKET_MAX])
{
	out[3] = 0;
	if (!ms->evcount) {
		ps2_mouse_packet(0, 0, ms->buttons, out);
		return;
	}
	struct ps2_mouse_event *ev = &ms->ev[ms->evhead];
	int dx = clamp(ev->dx, 255), dy = clamp(ev->dy, 255);
	int dz = ev->dz > 7 ? 7 : ev->dz < -8 ? -8 : ev->dz;
	ps2_mouse_packet(dx, dy, ev->buttons, out);
	out[3] = (uint8_t)(dz & 0xff);
	ms->buttons = ev->buttons;
	ev->dx -= dx;
	ev->dy -= dy;
	ev->dz -= dz;
	if (!ev->dx && !ev->dy && !ev->dz) {
		ms->evhead = (ms->evhead + 1) % PS2_MOUSE_EVENTS;
		ms->evcount--;
	}
}

bool ps2_mouse_next_packet(struct ps2_mouse *ms, uint8_t out[PS2_MOUSE_PACKET_MAX])
{
	if (!ms->enabled || ms->remote || !ms->evcount)
		return false;
	take_packet(ms, out);
	return true;
}

size_t ps2_mouse_write(struct ps2_mouse *ms, uint8_t v, uint8_t out[PS2_MOUSE_REPLY_MAX])
{
	if (ms->pending) {
		uint8_t cmd = ms->pending;
		ms->pending = 0;
		if (cmd == 0xf3) {
			ms->rate = v ? v : 100;
			ms->rates[0] = ms->rates[1];
			ms->rates[1] = ms->rates[2];
			ms->rates[2] = v;
			if (ms->rates[0] == 200 && ms->rates[1] == 100 && ms->rates[2] == 80)
				ms->id = 3;
		} else /* 0xe8 */
			ms->resolution = v > 3 ? 3 : v;
		out[0] = 0xfa;
		return 1;
	}
	out[0] = 0xfa;
	switch (v) {
	case 0xff: /* reset: a plain mouse again */
		ps2_mouse_reset(ms);
		ms->id = 0;
		out[1] = 0xaa;
		out[2] = 0x00;
		return 3;
	case 0xf6: /* set defaults */
		ps2_mouse_reset(ms);
		return 1;
	case 0xf5: /* disable data reporting: what is queued is dropped */
		ms->enabled = false;
		ms->evhead = ms->evcount = 0;
		return 1;
	case 0xf4: ms->enabled = true; return 1;
	case 0xf2: out[1] = ms->id; return 2; /* device ID */
	case 0xf3: case 0xe8: ms->pending = v; return 1;
	case 0xf0: ms->remote = true; return 1;
	case 0xea: ms->remote = false; return 1;
	case 0xe6: ms->scaling21 = false; return 1;
	case 0xe7: ms->scaling21 = true; return 1;
	case 0xeb: /* read data: one packet, in either mode */
		take_packet(ms, out + 1);
		return 1 + ps2_mouse_packet_size(ms);
	case 0xe9: /* status: mode, reporting, scaling, buttons (L M R order
		    * differs from the packet's: bit 2 left, 1 middle, 0 right) */
		out[1] = (uint8_t)((ms->remote ? 0x40 : 0) | (ms->enabled ? 0x20 : 0) | (ms->scaling21 ? 0x10 : 0) |
				   (ms->buttons & 0x01 ? 0x04 : 0) | (ms->buttons & 0x04 ? 0x02 : 0) |
				   (ms->buttons & 0x02 ? 0x01 : 0));
		out[2] = ms->resolution;
		out[3] = ms->rate;
		return 4;
	case 0xfe: /* resend: nothing of ours worth resending */
		return 1;
	default:
		out[0] = 0xfe;
		return 1;
	}
}
