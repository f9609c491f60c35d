/* rs_log.h: logging as one line per event, "key=value" fields.
 *   2026-11-28T01:58:18.123Z info sid=7f3a9c01 smtp.rcpt rejected code=550
 * A log context carries the session id and peer so every line of a session
 * can be grepped together. Never pass passwords, AUTH payloads or bodies. */
#ifndef ROOST_LIB_RS_LOG_H
#define ROOST_LIB_RS_LOG_H

#include <stddef.h>

#include "lib/rs_err.h"

enum rs_log_level {
	RS_LOG_DEBUG,
	RS_LOG_INFO,
	RS_LOG_WARN,
	RS_LOG_ERR,
};

struct rs_log_ctx {
	char sid[17];          /* 16 hex digits */
	char peer[64];         /* "127.0.0.1:41234" or "" */
};

/* Sets the minimum level and the fd lines go to (default: 2, info). */
void rs_log_setup(enum rs_log_level min, int fd);
/* Parses "debug|info|warn|error"; 0 or RS_EINVAL. */
int rs_log_level_parse(const char *s, enum rs_log_level *lvl_r) RS_MUST_CHECK;
int rs_log_enabled(enum rs_log_level lvl);

/* Fills ctx with a fresh random session id and the peer text (may be NULL). */
void rs_log_ctx_init(struct rs_log_ctx *ctx, const char *peer);

/* event is a dotted name ("smtp.rcpt"); fmt formats the key=value fields. */
void rs_log(enum rs_log_level lvl, const char *event, const char *fmt, ...)
	RS_PRINTF(3, 4);
void rs_logc(const struct rs_log_ctx *ctx, enum rs_log_level lvl,
             const char *event, const char *fmt, ...) RS_PRINTF(4, 5);

/* Makes a value safe for one log field: printable ASCII, no spaces or
 * quotes (others become '?' or '_'), at most size-1 bytes. Returns buf. */
const char *rs_log_val(char *buf, size_t size, const char *s, size_t n);

#endif
