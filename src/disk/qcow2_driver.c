/* qcow2_driver.c - the qcow2 driver's entry: open, close and the table
 * disk.c dispatches through.  The top of the driver's files: it calls down
 * into qcow2_write.c (writable opens, creation), qcow2_check.c and qcow2.c
 * (header, reads), and none of them calls up into it (qcow2.h has the
 * layering; tests/cli/layers.sh checks it). */
#include "config.h"
#include "disk/qcow2.h"

#include <stdlib.h>
#include <string.h>

static int q2_open(disk *d, od_err *e)
{
	struct qcow2 *q = calloc(1, sizeof *q);
	if (!q)
		return od_err_nomem(e);
	pthread_mutex_init(&q->lock, NULL);
	d->priv = q;
	if (q2_parse(d, e) < 0)
		goto fail;
	if (q->backing_name && !(d->flags & DISK_NO_BACKING)) {
		const char *fmt = q->backing_format;
		if (fmt && strcmp(fmt, "raw") && strcmp(fmt, "qcow2") && strcmp(fmt, "vmdk")) {
			od_err_set(e, OD_E_UNSUPPORTED, "%s: backing file format '%s' is not supported", d->name, fmt);
			goto fail;
		}
		q->backing = disk_open_child(d, q->backing_name, fmt, DISK_RDONLY, e);
		if (!q->backing)
			goto fail;
		d->backing = q->backing;
	}
	if ((d->flags & DISK_RDWR) && q2_open_rw(d, e) < 0)
		goto fail;
	return 0;
fail:
	d->backing = NULL;
	q2_free(q);
	d->priv = NULL;
	return -1;
}

static void q2_close(disk *d)
{
	struct qcow2 *q = d->priv;
	if (!q)
		return;
	if (q->writable)
		q2_write_close(d);
	d->backing = NULL;
	q2_free(q);
	d->priv = NULL;
}

const struct disk_driver disk_driver_qcow2 = {
	.name = "qcow2",
	.probe = q2_probe,
	.open = q2_open,
	.pread = q2_pread,
	.pwrite = q2_pwrite,
	.flush = q2_flush,
	.map = q2_map,
	.close = q2_close,
	.create = q2_create,
	.finish = q2_finish,
	.info = q2_info,
	.check = q2_check,
};
