/* json_spec.h - QEMU-style "json:{...}" image names (internal to src/disk).
 *
 * deploy makes qcow2 overlays whose backing file is a byte range of an OVA.
 * A qcow2 header can only hold a name, so the range is written the way QEMU
 * spells it, and both QEMU and our reader can open the same overlay:
 *   json:{"driver":"vmdk","file":{"driver":"raw","offset":N,"size":N,
 *         "file":{"driver":"file","filename":"/path/app.ova"}}}
 * We accept exactly that shape, and the simpler
 *   json:{"driver":"vmdk","file":{"driver":"file","filename":"/path"}}
 * Anything else is refused: a backing name comes from an untrusted image. */
#ifndef OD_DISK_JSON_SPEC_H
#define OD_DISK_JSON_SPEC_H

#include "util/util.h"

#define DISK_JSON_SPEC_MAX 4096

struct disk_json_spec {
	char format[16];     /* "raw", "qcow2", "vmdk" or "" when not given */
	char *filename;
	uint64_t offset, size;
	bool has_range;
};
/* `s` starts with "json:".  Returns 0 or -1 with OD_E_INVALID. */
int disk_json_spec_parse(const char *s, struct disk_json_spec *out, od_err *e);
void disk_json_spec_free(struct disk_json_spec *s);

#endif
