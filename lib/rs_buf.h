/* rs_buf.h: the one byte-buffer type (owning, hard-capped) and the one
 * slice type (never owning). Every buffer that peer input can fill has a
 * max; appending may move data, so keep no pointer into it across appends. */
#ifndef ROOST_LIB_RS_BUF_H
#define ROOST_LIB_RS_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_err.h"

struct rs_buf {               /* owns data; data[len] is always 0 */
	uint8_t *data;
	size_t   len, cap;
	size_t   max;          /* hard cap: appends past it fail */
};

struct rs_str {               /* never owns */
	const char *p;
	size_t      len;
};

#define RS_STR_LIT(s) ((struct rs_str){ (s), sizeof(s) - 1 })
#define RS_BUF_UNLIMITED ((size_t)-1)

/* Initialises an empty buffer capped at max bytes (no allocation yet). */
void rs_buf_init(struct rs_buf *b, size_t max);
/* Frees the data and resets to empty; the cap stays. */
void rs_buf_free(struct rs_buf *b);
/* Empties without freeing. */
void rs_buf_reset(struct rs_buf *b);

/* 0, or RS_ETOOBIG (buffer unchanged) if len + n would pass max. */
int rs_buf_append(struct rs_buf *b, const void *p, size_t n) RS_MUST_CHECK;
int rs_buf_append_str(struct rs_buf *b, const char *s) RS_MUST_CHECK;
int rs_buf_printf(struct rs_buf *b, const char *fmt, ...)
	RS_PRINTF(2, 3) RS_MUST_CHECK;
/* Makes room for n more bytes; 0 or RS_ETOOBIG. */
int rs_buf_reserve(struct rs_buf *b, size_t n) RS_MUST_CHECK;
/* Drops the first n bytes (n <= len). */
void rs_buf_consume(struct rs_buf *b, size_t n);
/* Transfers ownership of the data to the caller (returns owned, NUL-ended,
 * possibly NULL when empty and never allocated) and empties b. */
uint8_t *rs_buf_steal(struct rs_buf *b, size_t *len_r);

static inline struct rs_str
rs_str_make(const char *p, size_t len)
{
	return (struct rs_str){ p, len };
}

struct rs_str rs_str_cstr(const char *s);
bool rs_str_eq(struct rs_str a, struct rs_str b);
/* ASCII case-insensitive comparison. */
bool rs_str_ieq(struct rs_str a, struct rs_str b);
bool rs_str_ieq_cstr(struct rs_str a, const char *s);
/* True if a starts with prefix, ASCII case-insensitive. */
bool rs_str_istarts(struct rs_str a, const char *prefix);
/* Strips ASCII spaces and tabs on both ends. */
struct rs_str rs_str_trim(struct rs_str s);
/* Returns an owned NUL-terminated copy. */
char *rs_str_dup(struct rs_str s);
/* Parses a whole decimal number into *v_r; 0 or RS_EINVAL (empty, junk,
 * overflow past max). */
int rs_str_to_u64(struct rs_str s, uint64_t max, uint64_t *v_r) RS_MUST_CHECK;

#endif
