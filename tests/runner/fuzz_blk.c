/* fuzz_blk.c - libFuzzer harness for the virtqueue walk and the virtio-blk
 * request path: the input becomes the first 64 KiB of guest RAM (rings,
 * descriptors, headers, buffers) plus the queue size and avail index, as a
 * hostile driver would write them.  Not part of `make check`; build and run:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -I src -I . \
 *     tests/runner/fuzz_blk.c src/runner/vm.c src/runner/virtio_ring.c tests/fuzz/vmm_stubs.c \
 *     src/runner/hw/virtio_pci.c src/runner/hw/virtio_blk.c src/runner/hw/blk_disk.c src/runner/hw/pci.c \
 *     src/util/err.c src/util/str.c src/disk/(every .c) src/util/file.c src/util/pool.c \
 *     -ldeflate -lz -lzstd -pthread -o fuzz_blk && ./fuzz_blk -max_total_time=60
 */
#include "config.h"
#include "runner/virtio.h"
#include "fakeio.h"

#include <stdlib.h>
#include <string.h>

#define RAM (64u << 10)
#define DISK (16u << 10)

static uint8_t disk[DISK];
static struct fake_disk fdisk = { disk, DISK, 0 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm *vm;
	static struct virtio_blk *blk;
	static struct virtq_chain c;
	od_err e;
	if (!vm) {
		if (!(vm = fake_vm_new(RAM, NULL, &e)))
			abort();
		struct blk_backend be = fake_disk_backend(&fdisk);
		blk = virtio_blk_new(vm, &be, false, &e);
		if (!blk)
			abort();
	}
	if (size < 4)
		return 0;
	uint8_t *ram = vm->ram[0].hva;
	memset(ram, 0, RAM);
	memcpy(ram, data + 4, size - 4 < RAM ? size - 4 : RAM);
	struct virtq q = { .max_size = 128 };
	q.size = (uint16_t)(1u << (data[0] % 9)); /* 1..256: some above max */
	q.desc_gpa = (uint64_t)(data[1] & 0x0f) << 12;
	q.avail_gpa = ((uint64_t)(data[2] & 0x0f) << 12) | (data[3] & 0x0e);
	q.used_gpa = 0xf000;
	if (virtq_enable(vm, &q, &e) < 0)
		return 0;
	for (unsigned n = 0; n < 512; n++) {
		int r = virtq_pop(vm, &q, &c, &e);
		if (r <= 0)
			break;
		uint32_t len = virtio_blk_request(blk, &c);
		if (len > c.writable)
			abort(); /* we claimed to write more than the guest gave */
		virtq_push(&q, c.head, len);
	}
	return 0;
}
