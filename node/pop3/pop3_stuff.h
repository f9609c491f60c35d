/* pop3_stuff.h: turns stored message octets into the body of a POP3
 * multi-line response (RFC 1939 section 3): lines starting with "." get
 * another ".", a bare LF becomes CRLF, the body always ends with CRLF
 * before the ".\r\n" terminator, and for TOP (section 7) output stops
 * after the header, the blank line and n body lines.
 * Pure and resumable: the message may arrive in chunks split anywhere.
 * No allocation. Tested byte by byte in test_pop3_stuff.c. */
#ifndef ROOST_NODE_POP3_STUFF_H
#define ROOST_NODE_POP3_STUFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most pop3_stuff_finish writes: "\r\n.\r\n". */
#define POP3_STUFF_TAIL_MAX 5

struct pop3_stuff {
	bool     bol;          /* at the beginning of a line */
	bool     cr;           /* the last octet was a CR */
	bool     blank;        /* TOP: the current line is empty so far */
	bool     body;         /* TOP: past the blank line after the header */
	bool     top;          /* TOP: limit the body lines */
	bool     done;         /* TOP: limit reached, the rest is ignored */
	uint64_t lines_left;   /* TOP: body lines still to send */
};

/* top false: the whole message (RETR). top true: header and body_lines
 * lines of the body (TOP msg n). */
void pop3_stuff_init(struct pop3_stuff *st, bool top, uint64_t body_lines);

/* Output room that pop3_stuff_run needs for len input octets: each octet
 * becomes at most two ("." -> "..", LF -> CRLF). */
static inline size_t
pop3_stuff_bound(size_t len)
{
	return 2 * len;
}

/* Stuffs in[0..len) into out (pop3_stuff_bound(len) octets of room).
 * Returns the octets written; *used_r is the input consumed, which is
 * less than len only once pop3_stuff_done() (the TOP limit) is true. */
size_t pop3_stuff_run(struct pop3_stuff *st, const uint8_t *in, size_t len,
                      uint8_t *out, size_t *used_r);

/* True once TOP has sent all it should: read no more of the message. */
static inline bool
pop3_stuff_done(const struct pop3_stuff *st)
{
	return st->done;
}

/* Ends the response: a CRLF if the message did not end with a line
 * break, then ".\r\n". Writes at most POP3_STUFF_TAIL_MAX octets into out
 * and returns how many. */
size_t pop3_stuff_finish(struct pop3_stuff *st, uint8_t *out);

#endif
