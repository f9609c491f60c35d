/* rs_err.c: formatting of struct rs_err. */
#include "lib/rs_err.h"

#include <stdarg.h>
#include <stdio.h>

int
rs_err_set(struct rs_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void
rs_err_clear(struct rs_err *err)
{
	if (err == NULL)
		return;
	err->code = RS_OK;
	err->msg[0] = '\0';
}

const char *
rs_err_name(int code)
{
	switch (code) {
	case RS_OK: return "OK";
	case RS_EINVAL: return "EINVAL";
	case RS_ETOOBIG: return "ETOOBIG";
	case RS_ENOTFOUND: return "ENOTFOUND";
	case RS_ECONFLICT: return "ECONFLICT";
	case RS_EUNAVAIL: return "EUNAVAIL";
	case RS_ETIMEDOUT: return "ETIMEDOUT";
	case RS_EIO: return "EIO";
	case RS_EPERM: return "EPERM";
	case RS_EQUOTA: return "EQUOTA";
	case RS_ENOSPC: return "ENOSPC";
	}
	return "EUNKNOWN";
}
