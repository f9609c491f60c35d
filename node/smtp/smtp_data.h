/* smtp_data.h: the incremental decoder of a DATA body (RFC 5321 sections
 * 4.1.1.4 and 4.5.2). Pure: no I/O; its only allocation is growing the
 * output buffer it was given. Fuzzed by tests/fuzz/fuzz_smtp_data.c
 * against a whole-input reference decoder.
 *
 * Rules, the EVBUFFER_EOL_CRLF_STRICT reading of the RFC:
 *  - lines end only at CRLF; the message ends only at CRLF "." CRLF (the
 *    first CRLF may be the end of the DATA command line, so ".\r\n" at
 *    the very start is an empty message);
 *  - a bare LF or a bare CR anywhere (RFC 5321 section 2.3.8, the "SMTP
 *    smuggling" class) never ends a line or the message: it is kept in
 *    the output and remembered in `bare`, so the caller refuses the
 *    message once the real terminator came;
 *  - a line starting with "." loses that dot (dot-unstuffing);
 *  - past out->max nothing more is stored (`too_big`), but reading goes
 *    on to the terminator, so the caller can answer 552 in sync. */
#ifndef ROOST_NODE_SMTP_DATA_H
#define ROOST_NODE_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_buf.h"

enum smtp_data_state {
	SMTP_DATA_BOL,          /* at the start of a line */
	SMTP_DATA_DOT,          /* "." at the start of a line */
	SMTP_DATA_DOT_CR,       /* ".\r" at the start of a line */
	SMTP_DATA_MID,          /* inside a line */
	SMTP_DATA_CR,           /* a CR, not yet stored: CRLF or bare? */
	SMTP_DATA_END,          /* the terminator was consumed */
};

/* Embedded by its user; the fields are read-only outside smtp_data.c. */
struct smtp_data {
	enum smtp_data_state state;
	bool           bare;          /* a bare CR or LF was seen */
	bool           too_big;       /* out reached its max; rest dropped */
	uint64_t       received;      /* octets consumed, terminator too */
	struct rs_buf *out;           /* borrowed: the unstuffed body */
};

/* Starts a body; the decoded octets are appended to out. */
void smtp_data_init(struct smtp_data *d, struct rs_buf *out);

/* Feeds bytes. 1: the terminator was consumed and *used_r ends right
 * after it (bytes past it belong to the next command); 0: all of in was
 * consumed and more is needed. Never fails. */
int smtp_data_feed(struct smtp_data *d, const uint8_t *in, size_t len,
                   size_t *used_r) RS_MUST_CHECK;

#endif
