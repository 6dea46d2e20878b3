/* convert.c - placeholder; replaced by the real converter and comparer. */
#include "config.h"
#include "disk/driver.h"

int disk_convert(disk *src, const char *dst_path, const struct disk_convert_opts *o, od_err *e)
{
	return od_err_set(e, OD_E_UNSUPPORTED, "convert: not implemented yet");
}

int disk_compare(disk *a, disk *b, bool *same, uint64_t *first_diff,
		 od_progress_fn progress, void *progress_ctx, od_err *e)
{
	return od_err_set(e, OD_E_UNSUPPORTED, "compare: not implemented yet");
}
