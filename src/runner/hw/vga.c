/* vga.c - a standard VGA adapter with the Bochs/QEMU VBE extensions (the
 * device QEMU calls "VGA", PCI 1234:1111), enough for SeaBIOS's
 * vgabios-stdvga.bin, Linux's vgacon, vesafb and bochs-drm:
 *
 *   0x3c0-0x3df   VGA registers: attribute controller (0x3c0/0x3c1, index
 *                 flip-flop reset by reading 0x3da), misc output
 *                 (0x3c2/0x3cc), sequencer (0x3c4/0x3c5), DAC (0x3c6-0x3c9),
 *                 graphics controller (0x3ce/0x3cf), CRT controller
 *                 (0x3d4/0x3d5, also at 0x3b4/0x3b5), input status
 *                 (0x3da/0x3ba); 16-bit accesses are two 8-bit ones
 *   0x1ce/0x1cf   VBE DISPI index and data (16-bit)
 *   0xa0000-0xbffff  the legacy memory window: four 64 KiB planes with
 *                 chain-4, odd/even and the four write modes (set/reset,
 *                 rotate, logical function, bit mask, latches)
 *   BAR 0         the linear framebuffer (VRAM, 16 MiB)
 *
 * Every index the guest writes is masked to its register file, every
 * mode it programs is checked against the VRAM before it takes effect
 * (an out-of-range VBE value is refused and the register keeps its old
 * value), and the renderer rechecks the frame against the VRAM, so no
 * guest value makes us read or write outside it.
 *
 * vga_render() turns the current mode into RGB pixels: text mode with the
 * font the guest loaded into plane 2 (as the hardware does), planar
 * 16-colour and chain-4 256-colour graphics, and VBE modes of 8, 15, 16,
 * 24 and 32 bits per pixel. */
#include "config.h"
#include "runner/vmm.h"

#include <stdlib.h>
#include <string.h>

#define VGA_VRAM_SIZE (16u << 20)
#define PLANE (64u << 10)
#define VBE_MAX_X 2560
#define VBE_MAX_Y 1600
#define VBE_ID5 0xb0c5

enum {
	VBE_ID, VBE_XRES, VBE_YRES, VBE_BPP, VBE_ENABLE, VBE_BANK, VBE_VIRT_W, VBE_VIRT_H, VBE_XOFF, VBE_YOFF,
	VBE_MEM64K, VBE_NREGS
};
#define VBE_ENABLED 0x01
#define VBE_GETCAPS 0x02
#define VBE_8BIT_DAC 0x20
#define VBE_LFB 0x40
#define VBE_NOCLEAR 0x80

struct vga {
	struct vm *vm;
	struct pci_dev pci;
	uint8_t *vram;
	uint8_t misc, seq_i, seq[8], gr_i, gr[16], crtc_i, crtc[32], ar_i, ar[32];
	bool ar_flip;
	uint8_t st1;                 /* input status 1: retrace bits toggle on reads */
	uint8_t pel_mask, dac_r, dac_w, dac_sub, dac_state, dac_tmp[3];
	uint8_t pal[256][3];         /* 6 bits per channel (8 with VBE_8BIT_DAC) */
	uint8_t latch[4];
	uint16_t vbe_i, vbe[VBE_NREGS];
	bool dirty;                  /* written since the last vga_changed() */
};

/* ---- VBE ------------------------------------------------------------------- */

static unsigned bytes_pp(unsigned bpp)
{
	return bpp == 15 ? 2 : bpp / 8;
}

static bool bpp_ok(unsigned bpp)
{
	return bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

/* Would the mode in `r` fit the VRAM?  All in 64-bit: no overflow. */
static bool vbe_fits(const uint16_t *r)
{
	if (!bpp_ok(r[VBE_BPP]) || r[VBE_XRES] == 0 || r[VBE_YRES] == 0 || r[VBE_XRES] > VBE_MAX_X ||
	    r[VBE_YRES] > VBE_MAX_Y || r[VBE_XRES] % 8)
		return false;
	uint64_t bpp = bytes_pp(r[VBE_BPP]);
	uint64_t vw = r[VBE_VIRT_W] < r[VBE_XRES] ? r[VBE_XRES] : r[VBE_VIRT_W];
	if ((uint64_t)r[VBE_XOFF] + r[VBE_XRES] > vw)
		return false; /* the visible part must lie inside the virtual width */
	uint64_t stride = vw * bpp;
	uint64_t start = (uint64_t)r[VBE_YOFF] * stride + (uint64_t)r[VBE_XOFF] * bpp;
	uint64_t end = start + (uint64_t)(r[VBE_YRES] - 1) * stride + (uint64_t)r[VBE_XRES] * bpp;
	return end <= VGA_VRAM_SIZE;
}

static void vbe_write(struct vga *v, uint16_t val)
{
	uint16_t r[VBE_NREGS];
	memcpy(r, v->vbe, sizeof r);
	switch (v->vbe_i) {
	case VBE_ID:
		if (val >= 0xb0c0 && val <= VBE_ID5)
			v->vbe[VBE_ID] = val;
		return;
	case VBE_XRES: case VBE_YRES: case VBE_BPP:
		/* Only while disabled, as the Bochs interface says; the
		 * combination is checked when the mode is enabled. */
		if (v->vbe[VBE_ENABLE] & VBE_ENABLED)
			return;
		if (v->vbe_i == VBE_BPP && val == 0)
			val = 8;
		if ((v->vbe_i == VBE_XRES && val > VBE_MAX_X) || (v->vbe_i == VBE_YRES && val > VBE_MAX_Y) ||
		    (v->vbe_i == VBE_BPP && !bpp_ok(val)))
			return;
		v->vbe[v->vbe_i] = val;
		return;
	case VBE_ENABLE:
		if (val & VBE_ENABLED) {
			r[VBE_ENABLE] = val;
			r[VBE_VIRT_W] = r[VBE_XRES];
			r[VBE_VIRT_H] = r[VBE_YRES];
			r[VBE_XOFF] = r[VBE_YOFF] = 0;
			if (!vbe_fits(r))
				return; /* refused: the mode stays as it was */
			if (!(val & VBE_NOCLEAR))
				memset(v->vram, 0, (size_t)r[VBE_YRES] * r[VBE_XRES] * bytes_pp(r[VBE_BPP]));
			memcpy(v->vbe, r, sizeof r);
			/* graphics, not text, in the legacy registers too */
			v->gr[6] = (v->gr[6] & ~0x0c) | 0x05;
		} else {
			v->vbe[VBE_ENABLE] = val & ~(VBE_ENABLED);
			v->vbe[VBE_BANK] = 0;
		}
		return;
	case VBE_BANK:
		if ((uint64_t)val * PLANE < VGA_VRAM_SIZE)
			v->vbe[VBE_BANK] = val;
		return;
	case VBE_VIRT_W: case VBE_XOFF: case VBE_YOFF:
		if (!(v->vbe[VBE_ENABLE] & VBE_ENABLED))
			return;
		r[v->vbe_i] = val;
		if (v->vbe_i == VBE_VIRT_W) {
			if (val < r[VBE_XRES])
				return;
			uint64_t stride = (uint64_t)val * bytes_pp(r[VBE_BPP]);
			uint64_t h = VGA_VRAM_SIZE / stride;
			r[VBE_VIRT_H] = (uint16_t)(h > 0xffff ? 0xffff : h);
		}
		if (vbe_fits(r))
			memcpy(v->vbe, r, sizeof r);
		return;
	default:
		return; /* read-only or unknown: dropped */
	}
}

static uint16_t vbe_read(struct vga *v)
{
	if (v->vbe_i >= VBE_NREGS)
		return 0;
	if (v->vbe[VBE_ENABLE] & VBE_GETCAPS) {
		switch (v->vbe_i) {
		case VBE_XRES: return VBE_MAX_X;
		case VBE_YRES: return VBE_MAX_Y;
		case VBE_BPP: return 32;
		default: break;
		}
	}
	if (v->vbe_i == VBE_MEM64K)
		return VGA_VRAM_SIZE / PLANE;
	return v->vbe[v->vbe_i];
}

static void vbe_io(void *opaque, uint64_t port, uint8_t *data, unsigned size, bool is_write)
{
	struct vga *v = opaque;
	uint16_t val = size >= 2 ? (uint16_t)(data[0] | data[1] << 8) : data[0];
	if (is_write) {
		v->dirty = true;
		if (port == 0x1ce)
			v->vbe_i = val;
		else
			vbe_write(v, val);
		return;
	}
	uint16_t r = port == 0x1ce ? v->vbe_i : vbe_read(v);
	memset(data, 0, size);
	data[0] = r & 0xff;
	if (size >= 2)
		data[1] = r >> 8;
}

/* ---- VGA registers ------------------------------------------------------------ */

static void reg_write(struct vga *v, unsigned port, uint8_t val)
{
	switch (port) {
	case 0x3c0:
		if (!v->ar_flip)
			v->ar_i = val & 0x3f;
		else if ((v->ar_i & 0x1f) < 0x15)
			v->ar[v->ar_i & 0x1f] = val;
		v->ar_flip = !v->ar_flip;
		break;
	case 0x3c2: v->misc = val; break;
	case 0x3c4: v->seq_i = val & 0x07; break;
	case 0x3c5: if (v->seq_i < 5) v->seq[v->seq_i] = val; break;
	case 0x3c6: v->pel_mask = val; break;
	case 0x3c7: v->dac_r = val; v->dac_sub = 0; v->dac_state = 0; break;
	case 0x3c8: v->dac_w = val; v->dac_sub = 0; v->dac_state = 3; break;
	case 0x3c9:
		v->dac_tmp[v->dac_sub++] = val;
		if (v->dac_sub == 3) {
			memcpy(v->pal[v->dac_w], v->dac_tmp, 3);
			v->dac_w++; /* wraps at 256, as the hardware's index does */
			v->dac_sub = 0;
		}
		break;
	case 0x3ce: v->gr_i = val & 0x0f; break;
	case 0x3cf: if (v->gr_i < 9) v->gr[v->gr_i] = val; break;
	case 0x3b4: case 0x3d4: v->crtc_i = val & 0x1f; break;
	case 0x3b5: case 0x3d5:
		if (v->crtc_i < 0x19) {
			/* CR11 bit 7 protects CR0-CR7 (but CR7 bit 4) */
			if ((v->crtc[0x11] & 0x80) && v->crtc_i <= 7) {
				if (v->crtc_i == 7)
					v->crtc[7] = (v->crtc[7] & ~0x10) | (val & 0x10);
				break;
			}
			v->crtc[v->crtc_i] = val;
		}
		break;
	default: break;
	}
}

static uint8_t reg_read(struct vga *v, unsigned port)
{
	switch (port) {
	case 0x3c0: return v->ar_i;
	case 0x3c1: return (v->ar_i & 0x1f) < 0x15 ? v->ar[v->ar_i & 0x1f] : 0;
	case 0x3c2: return 0;
	case 0x3c4: return v->seq_i;
	case 0x3c5: return v->seq_i < 5 ? v->seq[v->seq_i] : 0xff;
	case 0x3c6: return v->pel_mask;
	case 0x3c7: return v->dac_state;
	case 0x3c8: return v->dac_w;
	case 0x3c9: {
		uint8_t r = v->pal[v->dac_r][v->dac_sub++];
		if (v->dac_sub == 3) {
			v->dac_sub = 0;
			v->dac_r++;
		}
		return r;
	}
	case 0x3cc: return v->misc;
	case 0x3ce: return v->gr_i;
	case 0x3cf: return v->gr_i < 9 ? v->gr[v->gr_i] : 0xff;
	case 0x3b4: case 0x3d4: return v->crtc_i;
	case 0x3b5: case 0x3d5: return v->crtc_i < 0x19 ? v->crtc[v->crtc_i] : 0xff;
	case 0x3ba: case 0x3da:
		/* reading resets the attribute flip-flop; the retrace bits
		 * toggle so that a guest waiting for either sees it */
		v->ar_flip = false;
		v->st1 ^= 0x09;
		return v->st1;
	default: return 0xff;
	}
}

static void reg_io(void *opaque, uint64_t port, uint8_t *data, unsigned size, bool is_write)
{
	struct vga *v = opaque;
	v->dirty |= is_write;
	for (unsigned i = 0; i < size && i < 4; i++) {
		if (is_write)
			reg_write(v, (unsigned)port + i, data[i]);
		else
			data[i] = reg_read(v, (unsigned)port + i);
	}
	if (!is_write)
		for (unsigned i = 4; i < size; i++)
			data[i] = 0xff;
}

/* ---- the legacy memory window ----------------------------------------------------- */

/* The window's offset for an address, or -1 outside the mapped part. */
static long window_off(const struct vga *v, uint64_t addr)
{
	uint64_t off = addr - 0xa0000;
	switch ((v->gr[6] >> 2) & 3) {
	case 0: return off < 0x20000 ? (long)off : -1;
	case 1: return off < 0x10000 ? (long)off : -1;
	case 2: return off >= 0x10000 && off < 0x18000 ? (long)(off - 0x10000) : -1;
	default: return off >= 0x18000 ? (long)(off - 0x18000) : -1;
	}
}

static uint8_t *plane(struct vga *v, unsigned p, uint32_t off)
{
	return v->vram + (size_t)(p & 3) * PLANE + (off & (PLANE - 1));
}

static uint8_t mem_read_byte(struct vga *v, uint32_t off)
{
	if (v->vbe[VBE_ENABLE] & VBE_ENABLED) /* the banked window into VRAM */
		return v->vram[((uint64_t)v->vbe[VBE_BANK] * PLANE + (off & (PLANE - 1))) % VGA_VRAM_SIZE];
	if (v->seq[4] & 0x08) /* chain-4 */
		return *plane(v, off & 3, off >> 2);
	if (v->gr[5] & 0x10) /* odd/even */
		return *plane(v, (off & 1) | (v->gr[4] & 2), off & ~1u);
	for (unsigned p = 0; p < 4; p++)
		v->latch[p] = *plane(v, p, off);
	if (!(v->gr[5] & 0x08)) /* read mode 0 */
		return v->latch[v->gr[4] & 3];
	/* read mode 1: colour compare, a 1 where every plane that counts
	 * (colour don't care, GR7) matches the colour in GR2 */
	uint8_t mismatch = 0;
	for (unsigned p = 0; p < 4; p++) {
		if (!(v->gr[7] & (1u << p)))
			continue;
		uint8_t want = (v->gr[2] & (1u << p)) ? 0xff : 0;
		mismatch |= (uint8_t)(v->latch[p] ^ want);
	}
	return (uint8_t)~mismatch;
}

static uint8_t alu(const struct vga *v, uint8_t val, uint8_t latch)
{
	switch ((v->gr[3] >> 3) & 3) {
	case 1: return val & latch;
	case 2: return val | latch;
	case 3: return val ^ latch;
	default: return val;
	}
}

static void mem_write_byte(struct vga *v, uint32_t off, uint8_t val)
{
	if (v->vbe[VBE_ENABLE] & VBE_ENABLED) {
		v->vram[((uint64_t)v->vbe[VBE_BANK] * PLANE + (off & (PLANE - 1))) % VGA_VRAM_SIZE] = val;
		return;
	}
	uint8_t mask = v->seq[2] & 0x0f;
	if (v->seq[4] & 0x08) {
		if (mask & (1u << (off & 3)))
			*plane(v, off & 3, off >> 2) = val;
		return;
	}
	if (!(v->seq[4] & 0x04)) { /* odd/even */
		unsigned p = (off & 1) | (v->gr[4] & 2);
		if (mask & (1u << p))
			*plane(v, p, off & ~1u) = val;
		return;
	}
	unsigned rot = v->gr[3] & 7;
	uint8_t r = (uint8_t)(val >> rot | val << (8 - rot)), bitmask = v->gr[8];
	for (unsigned p = 0; p < 4; p++) {
		if (!(mask & (1u << p)))
			continue;
		uint8_t setv = (v->gr[0] & (1u << p)) ? 0xff : 0, d;
		switch (v->gr[5] & 3) {
		case 0:
			d = (v->gr[1] & (1u << p)) ? setv : r;
			d = alu(v, d, v->latch[p]);
			d = (uint8_t)((d & bitmask) | (v->latch[p] & ~bitmask));
			break;
		case 1:
			d = v->latch[p];
			break;
		case 2:
			d = (val & (1u << p)) ? 0xff : 0;
			d = alu(v, d, v->latch[p]);
			d = (uint8_t)((d & bitmask) | (v->latch[p] & ~bitmask));
			break;
		default: {
			uint8_t m = r & bitmask;
			d = (uint8_t)((setv & m) | (v->latch[p] & ~m));
			break;
		}
		}
		*plane(v, p, off) = d;
	}
}

static void mem_io(void *opaque, uint64_t addr, uint8_t *data, unsigned size, bool is_write)
{
	struct vga *v = opaque;
	v->dirty |= is_write;
	for (unsigned i = 0; i < size && i < 8; i++) {
		long off = window_off(v, addr + i);
		if (off < 0) {
			if (!is_write)
				data[i] = 0xff;
			continue;
		}
		if (is_write)
			mem_write_byte(v, (uint32_t)off, data[i]);
		else
			data[i] = mem_read_byte(v, (uint32_t)off);
	}
}

/* BAR 0: the linear framebuffer. */
static void lfb_io(void *opaque, uint64_t off, uint8_t *data, unsigned size, bool is_write)
{
	struct vga *v = opaque;
	if (size > 8 || off >= VGA_VRAM_SIZE || VGA_VRAM_SIZE - off < size) {
		if (!is_write)
			memset(data, 0xff, size > 8 ? 8 : size);
		return;
	}
	if (is_write) {
		memcpy(v->vram + off, data, size);
		v->dirty = true;
	} else {
		memcpy(data, v->vram + off, size);
	}
}

/* ---- rendering -------------------------------------------------------------------- */

static void dac_rgb(const struct vga *v, uint8_t idx, uint8_t *out)
{
	const uint8_t *c = v->pal[idx & v->pel_mask];
	bool wide = v->vbe[VBE_ENABLE] & VBE_8BIT_DAC;
	for (int k = 0; k < 3; k++)
	{
		/* 6 bits to 8: the low bit fills the two new ones (so 63 is
		 * full white, and pictures match QEMU's) */
		unsigned x = c[k] & 0x3f;
		out[k] = wide ? c[k] : (uint8_t)(x << 2 | (x & 1) * 3);
	}
}

/* The attribute controller's palette, then the DAC. */
static void attr_rgb(const struct vga *v, uint8_t colour, uint8_t *out)
{
	uint8_t i = v->ar[colour & 0x0f] & 0x3f;
	if (v->ar[0x10] & 0x80)
		i = (uint8_t)((i & 0x0f) | (v->ar[0x14] & 0x03) << 4);
	i = (uint8_t)(i | (v->ar[0x14] & 0x0c) << 4);
	dac_rgb(v, i, out);
}

static int alloc_img(unsigned w, unsigned h, uint8_t **rgb, unsigned *pw, unsigned *ph, od_err *e)
{
	if (w == 0 || h == 0 || w > VBE_MAX_X || h > VBE_MAX_Y)
		return od_err_set(e, OD_E_INVALID, "VGA: no displayable mode (%ux%u)", w, h);
	*rgb = calloc((size_t)w * h, 3);
	if (!*rgb)
		return od_err_nomem(e);
	*pw = w;
	*ph = h;
	return 0;
}

static unsigned vde(const struct vga *v)
{
	return (v->crtc[0x12] | (v->crtc[7] & 0x02) << 7 | (v->crtc[7] & 0x40) << 3) + 1u;
}

static int render_text(const struct vga *v, uint8_t **rgb, unsigned *w, unsigned *h, od_err *e)
{
	unsigned cols = v->crtc[1] + 1u, ch = (v->crtc[9] & 0x1f) + 1u, cw = (v->seq[1] & 1) ? 8 : 9;
	unsigned rows = vde(v) / ch;
	if (cols > 160 || rows == 0 || rows > 100)
		return od_err_set(e, OD_E_INVALID, "VGA: text mode of %u columns and %u rows is not displayable", cols, rows);
	if (alloc_img(cols * cw, rows * ch, rgb, w, h, e) < 0)
		return -1;
	uint32_t start = (uint32_t)v->crtc[0x0c] << 8 | v->crtc[0x0d];
	uint32_t cursor = (uint32_t)v->crtc[0x0e] << 8 | v->crtc[0x0f];
	unsigned cs = v->crtc[0x0a] & 0x1f, ce = v->crtc[0x0b] & 0x1f;
	bool cursor_on = !(v->crtc[0x0a] & 0x20);
	const uint8_t *p0 = v->vram, *p1 = v->vram + PLANE, *p2 = v->vram + 2 * PLANE;
	for (unsigned r = 0; r < rows; r++)
		for (unsigned c = 0; c < cols; c++) {
			uint32_t cell = start + r * cols + c;
			uint32_t off = (cell * 2) & (PLANE - 1);
			uint8_t chr = p0[off], at = p1[off];
			uint8_t fg[3], bg[3];
			attr_rgb(v, at & 0x0f, fg);
			attr_rgb(v, (v->ar[0x10] & 0x08) ? (at >> 4) & 7 : at >> 4, bg);
			const uint8_t *glyph = p2 + (size_t)chr * 32;
			for (unsigned y = 0; y < ch; y++) {
				uint8_t bits = y < 32 ? glyph[y] : 0;
				if (cursor_on && cell == cursor && y >= cs && y <= ce)
					bits = 0xff;
				uint8_t *px = *rgb + (((size_t)(r * ch + y) * *w) + c * cw) * 3;
				for (unsigned x = 0; x < cw; x++) {
					bool on = x < 8 ? (bits >> (7 - x)) & 1
							: (chr >= 0xc0 && chr <= 0xdf && (v->ar[0x10] & 0x04) && (bits & 1));
					memcpy(px + x * 3, on ? fg : bg, 3);
				}
			}
		}
	return 0;
}

static int render_vbe(const struct vga *v, uint8_t **rgb, unsigned *w, unsigned *h, od_err *e)
{
	if (!vbe_fits(v->vbe))
		return od_err_set(e, OD_E_INTERNAL, "VGA: VBE mode outside VRAM");
	if (alloc_img(v->vbe[VBE_XRES], v->vbe[VBE_YRES], rgb, w, h, e) < 0)
		return -1;
	unsigned bpp = v->vbe[VBE_BPP], B = bytes_pp(bpp);
	uint64_t vw = v->vbe[VBE_VIRT_W] < v->vbe[VBE_XRES] ? v->vbe[VBE_XRES] : v->vbe[VBE_VIRT_W];
	uint64_t stride = vw * B, start = v->vbe[VBE_YOFF] * stride + (uint64_t)v->vbe[VBE_XOFF] * B;
	for (unsigned y = 0; y < *h; y++) {
		const uint8_t *s = v->vram + start + y * stride;
		uint8_t *d = *rgb + (size_t)y * *w * 3;
		for (unsigned x = 0; x < *w; x++, s += B, d += 3) {
			switch (bpp) {
			case 8: dac_rgb(v, s[0], d); break;
			case 15: {
				unsigned p = s[0] | s[1] << 8;
				d[0] = (uint8_t)((p >> 10 & 31) << 3);
				d[1] = (uint8_t)((p >> 5 & 31) << 3);
				d[2] = (uint8_t)((p & 31) << 3);
				break;
			}
			case 16: {
				unsigned p = s[0] | s[1] << 8;
				d[0] = (uint8_t)((p >> 11 & 31) << 3);
				d[1] = (uint8_t)((p >> 5 & 63) << 2);
				d[2] = (uint8_t)((p & 31) << 3);
				break;
			}
			default: /* 24 and 32: blue, green, red (, unused) */
				d[0] = s[2];
				d[1] = s[1];
				d[2] = s[0];
			}
		}
	}
	return 0;
}

static int render_planar(const struct vga *v, uint8_t **rgb, unsigned *w, unsigned *h, od_err *e)
{
	bool chain4 = v->seq[4] & 0x08;
	unsigned width = chain4 ? (v->crtc[1] + 1u) * 4 : (v->crtc[1] + 1u) * 8, height = vde(v);
	if (v->crtc[9] & 0x80 || (chain4 && (v->crtc[9] & 0x1f)))
		height /= 2; /* double scan */
	if (alloc_img(width, height, rgb, w, h, e) < 0)
		return -1;
	uint32_t start = (uint32_t)v->crtc[0x0c] << 8 | v->crtc[0x0d];
	unsigned pitch = v->crtc[0x13] * 2u;
	for (unsigned y = 0; y < height; y++)
		for (unsigned x = 0; x < width; x++) {
			uint8_t idx;
			if (chain4) {
				uint32_t a = start * 4 + y * pitch * 4 + x;
				idx = v->vram[(size_t)(a & 3) * PLANE + ((a >> 2) & (PLANE - 1))];
				dac_rgb(v, idx, *rgb + ((size_t)y * width + x) * 3);
			} else {
				uint32_t a = (start + y * pitch + x / 8) & (PLANE - 1);
				idx = 0;
				for (unsigned p = 0; p < 4; p++)
					idx |= (uint8_t)(((v->vram[(size_t)p * PLANE + a] >> (7 - x % 8)) & 1) << p);
				attr_rgb(v, idx, *rgb + ((size_t)y * width + x) * 3);
			}
		}
	return 0;
}

int vga_render(struct vga *v, uint8_t **rgb, unsigned *w, unsigned *h, od_err *e)
{
	*rgb = NULL;
	*w = *h = 0;
	pthread_mutex_lock(&v->vm->dev_lock);
	int rc;
	if (v->vbe[VBE_ENABLE] & VBE_ENABLED)
		rc = render_vbe(v, rgb, w, h, e);
	else if (!(v->gr[6] & 0x01))
		rc = render_text(v, rgb, w, h, e);
	else
		rc = render_planar(v, rgb, w, h, e);
	pthread_mutex_unlock(&v->vm->dev_lock);
	return rc;
}

bool vga_changed(struct vga *v)
{
	pthread_mutex_lock(&v->vm->dev_lock);
	bool d = v->dirty;
	v->dirty = false;
	pthread_mutex_unlock(&v->vm->dev_lock);
	return d;
}

/* ---- life cycle ---------------------------------------------------------------------- */

struct vga *vga_new(struct vm *vm, od_err *e)
{
	struct vga *v = calloc(1, sizeof *v);
	if (!v) {
		od_err_nomem(e);
		return NULL;
	}
	v->vram = calloc(1, VGA_VRAM_SIZE);
	if (!v->vram) {
		free(v);
		od_err_nomem(e);
		return NULL;
	}
	v->vm = vm;
	v->dirty = true;
	v->pel_mask = 0xff;
	v->vbe[VBE_ID] = VBE_ID5;
	v->vbe[VBE_BPP] = 8;
	v->seq[2] = 0x0f;
	v->gr[8] = 0xff;
	/* Text mode 3 as a VGA BIOS leaves it, until one runs. */
	v->crtc[1] = 79;
	v->crtc[9] = 15;
	v->crtc[0x12] = 0x8f;
	v->crtc[7] = 0x1f;
	v->gr[6] = 0x0e;
	for (unsigned i = 0; i < 16; i++)
		v->ar[i] = (uint8_t)i;
	pci_init_header(&v->pci, 0x1234, 0x1111, 0x03000002, 0x1af4, 0x1100);
	v->pci.opaque = v;
	pci_set_bar(&v->pci, 0, PCI_BAR_MEM32, VGA_VRAM_SIZE, lfb_io, v);
	v->pci.cfg[0x10] |= 0x08; /* prefetchable */
	if (vm_io_register(vm, VM_PIO, 0x3b4, 2, reg_io, v, e) < 0 ||
	    vm_io_register(vm, VM_PIO, 0x3ba, 1, reg_io, v, e) < 0 ||
	    vm_io_register(vm, VM_PIO, 0x3c0, 0x20, reg_io, v, e) < 0 ||
	    vm_io_register(vm, VM_PIO, 0x1ce, 2, vbe_io, v, e) < 0 ||
	    vm_io_register(vm, VM_MMIO, 0xa0000, 0x20000, mem_io, v, e) < 0 ||
	    (vm->pci && pci_add(vm->pci, &v->pci, e) < 0)) {
		vga_free(v);
		return NULL;
	}
	return v;
}

void vga_free(struct vga *v)
{
	if (!v)
		return;
	if (v->pci.bus)
		pci_remove(&v->pci);
	vm_io_unregister(v->vm, VM_PIO, 0x3b4, v);
	vm_io_unregister(v->vm, VM_PIO, 0x3ba, v);
	vm_io_unregister(v->vm, VM_PIO, 0x3c0, v);
	vm_io_unregister(v->vm, VM_PIO, 0x1ce, v);
	vm_io_unregister(v->vm, VM_MMIO, 0xa0000, v);
	free(v->vram);
	free(v);
}
