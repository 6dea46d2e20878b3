/* fuzz_vga.c - libFuzzer harness for the VGA/VBE device (hw/vga.c): the
 * input is a program of guest accesses, 4 bytes each: an opcode byte
 * (bits 0-1 which space: VGA ports, VBE ports, the legacy window, the
 * framebuffer BAR; bit 2 write; bits 3-4 the access size 1/2/4/8), a byte
 * selecting the port or a window offset (with the next byte for windows),
 * and a value byte repeated over the access.  Every 256 accesses, and at
 * the end, the picture is rendered.  Run with scripts/fuzz 60 vga. */
#include "config.h"
#include "runner/vmm.h"

#include <stdlib.h>
#include <string.h>

static const uint16_t ports[] = {0x3b4, 0x3b5, 0x3ba, 0x3c0, 0x3c1, 0x3c2, 0x3c3, 0x3c4, 0x3c5, 0x3c6, 0x3c7,
				 0x3c8, 0x3c9, 0x3ca, 0x3cc, 0x3ce, 0x3cf, 0x3d4, 0x3d5, 0x3da, 0x1ce, 0x1cf};

static void render(struct vga *v)
{
	uint8_t *rgb;
	unsigned w, h;
	od_err e;
	if (vga_render(v, &rgb, &w, &h, &e) == 0) {
		if (!w || !h || w > 2560 || h > 1600)
			abort();
		free(rgb);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm *vm;
	od_err e;
	if (!vm) {
		vm = vm_new_fake(1 << 20, &e);
		if (!vm || !(vm->pci = pci_new(vm, &e)))
			abort();
	}
	struct vga *v = vga_new(vm, &e);
	if (!v)
		abort();
	/* map the framebuffer BAR at 0xe0000000, memory decoding on */
	for (unsigned s = 1; s < 32; s++)
		if (pci_cfg_read(vm->pci, s << 3, 0, 4) == 0x11111234) {
			pci_cfg_write(vm->pci, s << 3, 0x10, 4, 0xe0000000);
			pci_cfg_write(vm->pci, s << 3, 0x04, 2, 0x0002);
		}
	for (size_t i = 0; i + 4 <= size; i += 4) {
		uint8_t op = data[i], sel = data[i + 1], hi = data[i + 2], val = data[i + 3];
		unsigned len = 1u << ((op >> 3) & 3);
		bool wr = op & 4;
		uint8_t buf[8];
		memset(buf, val, sizeof buf);
		switch (op & 3) {
		case 0:
			vm_io_dispatch(vm, VM_PIO, ports[sel % (sizeof ports / sizeof ports[0])], buf, len > 4 ? 4 : len, wr);
			break;
		case 1:
			/* VBE: index then data; `hi` is the value's high byte */
			buf[1] = hi;
			vm_io_dispatch(vm, VM_PIO, 0x1ce + (sel & 1), buf, 2, wr);
			break;
		case 2:
			vm_io_dispatch(vm, VM_MMIO, 0xa0000 + (((uint32_t)hi << 9 | (uint32_t)sel << 1) % 0x20000), buf, len, wr);
			break;
		default:
			vm_io_dispatch(vm, VM_MMIO, 0xe0000000ull + ((uint64_t)hi << 16 | (uint64_t)sel << 8 | val) * 64 % (16u << 20) +
					   (op >> 5), buf, len, wr);
		}
		if ((i / 4) % 256 == 255)
			render(v);
	}
	render(v);
	vga_free(v);
	return 0;
}
