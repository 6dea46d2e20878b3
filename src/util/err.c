/* err.c - error values with context.  See util.h. */
#include "config.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void vset(od_err *e, int code, const char *fmt, va_list ap)
{
	e->code = code;
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
}

int od_err_set(od_err *e, int code, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vset(e, code, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int od_err_errno(od_err *e, int errnum, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vset(e, errnum == ENOMEM ? OD_E_NOMEM : OD_E_IO, fmt, ap);
		va_end(ap);
		size_t n = strlen(e->msg);
		snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(errnum));
	}
	return -1;
}

void od_err_prefix(od_err *e, const char *fmt, ...)
{
	if (!e)
		return;
	char prefix[OD_ERR_MSG_MAX], joined[2 * OD_ERR_MSG_MAX + 4];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	snprintf(joined, sizeof joined, "%s: %s", prefix, e->msg);
	/* truncating an over-long message is deliberate: context first */
	memcpy(e->msg, joined, sizeof e->msg - 1);
	e->msg[sizeof e->msg - 1] = '\0';
	if (!e->code)
		e->code = OD_E_INTERNAL;
}

void od_err_clear(od_err *e)
{
	if (e) {
		e->code = OD_OK;
		e->msg[0] = '\0';
	}
}

int od_err_nomem(od_err *e)
{
	return od_err_set(e, OD_E_NOMEM, "out of memory");
}
