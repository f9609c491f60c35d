/* pop3_stuff.c: dot-stuffing and line-ending repair for RETR and TOP,
 * one octet at a time with its state in struct pop3_stuff so chunk
 * boundaries do not matter. It does not read the store: pop3_retr.c
 * does. */
#include "node/pop3/pop3_stuff.h"

#include <string.h>

void
pop3_stuff_init(struct pop3_stuff *st, bool top, uint64_t body_lines)
{
	memset(st, 0, sizeof(*st));
	st->bol = true;
	st->blank = true;
	st->top = top;
	st->lines_left = body_lines;
}

/* An LF ended a line: RFC 1939 section 7 (TOP) counts body lines after
 * the blank line that ends the header. */
static void
pop3_stuff_eol(struct pop3_stuff *st)
{
	if (st->top) {
		if (!st->body) {
			if (st->blank) {
				st->body = true;
				if (st->lines_left == 0)
					st->done = true;
			}
		} else if (--st->lines_left == 0) {
			st->done = true;
		}
	}
	st->bol = true;
	st->blank = true;
	st->cr = false;
}

size_t
pop3_stuff_run(struct pop3_stuff *st, const uint8_t *in, size_t len,
               uint8_t *out, size_t *used_r)
{
	size_t i, o = 0;

	for (i = 0; i < len && !st->done; i++) {
		uint8_t c = in[i];

		if (c == '\n') {
			/* RFC 1939 section 3: lines end with CRLF. */
			if (!st->cr)
				out[o++] = '\r';
			out[o++] = '\n';
			pop3_stuff_eol(st);
			continue;
		}
		/* RFC 1939 section 3: a line starting with the termination
		 * octet gets one more, so "." alone never ends early. */
		if (st->bol && c == '.')
			out[o++] = '.';
		out[o++] = c;
		st->bol = false;
		st->cr = c == '\r';
		if (c != '\r')
			st->blank = false;
	}
	*used_r = i;
	return o;
}

size_t
pop3_stuff_finish(struct pop3_stuff *st, uint8_t *out)
{
	size_t o = 0;

	if (!st->bol) {
		/* A message that ends without a line break (or with a lone
		 * CR) still needs its CRLF before the terminator. */
		if (!st->cr)
			out[o++] = '\r';
		out[o++] = '\n';
		st->bol = true;
		st->cr = false;
	}
	out[o++] = '.';
	out[o++] = '\r';
	out[o++] = '\n';
	return o;
}
