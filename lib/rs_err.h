/* rs_err.h: the error type shared by every layer.
 * Fallible calls return 0 or a negative RS_E* code; details go in an
 * optional struct rs_err. No allocation: the message is a fixed buffer. */
#ifndef ROOST_LIB_RS_ERR_H
#define ROOST_LIB_RS_ERR_H

#include <stddef.h>

#define RS_MUST_CHECK __attribute__((warn_unused_result))
#define RS_PRINTF(f, a) __attribute__((format(printf, f, a)))

enum rs_errcode {
	RS_OK = 0,
	RS_EINVAL = -1,      /* bad argument or malformed input */
	RS_ETOOBIG = -2,     /* a size limit was hit */
	RS_ENOTFOUND = -3,   /* no such key, account, mailbox… */
	RS_ECONFLICT = -4,   /* exists already, or a CAS lost */
	RS_EUNAVAIL = -5,    /* not serving now: shutting down, not primary */
	RS_ETIMEDOUT = -6,
	RS_EIO = -7,         /* disk or network failure */
	RS_EPERM = -8,       /* authentication or authorisation refused */
	RS_EQUOTA = -9,      /* over quota */
	RS_ENOSPC = -10,     /* the disk's free-space reserve is reached */
};

struct rs_err {
	int  code;            /* one of enum rs_errcode */
	char msg[256];        /* NUL-terminated, may be truncated */
};

/* Fills err (NULL-safe) and returns -1, so a failure is one line:
 * return rs_err_set(err, RS_EIO, "put %s: %s", key, why); */
int rs_err_set(struct rs_err *err, int code, const char *fmt, ...)
	RS_PRINTF(3, 4);
/* Resets err to RS_OK with an empty message; NULL-safe. */
void rs_err_clear(struct rs_err *err);
/* Static name of a code: "EINVAL"…; never NULL. */
const char *rs_err_name(int code);

#endif
