/* smtp_parser.h: incremental SMTP command-line parser (RFC 5321 section
 * 4.1). Splits a line into its verb and the rest; the arguments of MAIL,
 * RCPT, BDAT and HELO are parsed by smtp_args.h.
 * Pure: no I/O, no allocation after smtp_parser_new(). Fuzzed by
 * tests/fuzz/fuzz_smtp_parser.c.
 *
 * Line rules:
 *  - a line is at most max_line octets with its CRLF (RFC 5321 section
 *    4.5.3.1.4 sets 512 as the minimum a server must take);
 *  - a line ends at LF; a CR right before it is dropped. A bare LF ends a
 *    command line (clients typed by hand do that; there is no smuggling
 *    risk in commands, and DATA is read by smtp_data.h, which never takes
 *    a bare LF as a line end);
 *  - a CR anywhere else, or a NUL, makes the line bad (RFC 5321 section
 *    2.3.8; a NUL has no place in a command);
 *  - the verb is the text up to the first space, case-insensitive; the
 *    arguments are the rest with leading and trailing blanks removed. */
#ifndef ROOST_NODE_SMTP_PARSER_H
#define ROOST_NODE_SMTP_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/rs_buf.h"
#include "lib/rs_err.h"

#define SMTP_LINE_MIN 512             /* RFC 5321 section 4.5.3.1.4 */
#define SMTP_LINE_MAX ((size_t)64 * 1024) /* what we accept as a setting */

enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,        /* not one of ours; args = whole line */
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_HELP,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_COUNT,
};

struct smtp_line {
	enum smtp_verb verb;
	struct rs_str  args;          /* borrowed: valid until next feed */
};

struct smtp_parser;                   /* opaque */

/* max_line is clamped to [SMTP_LINE_MIN, SMTP_LINE_MAX]. Never returns
 * NULL. */
struct smtp_parser *smtp_parser_new(size_t max_line);
/* Frees *pp, sets it to NULL; NULL-safe. */
void smtp_parser_free(struct smtp_parser **pp);

/* Feeds bytes. 1: a line ended, *line_r filled; 0: all of in consumed
 * without ending a line; -1: a bad line, err->msg is the reply text
 * ("Line too long", ...) and err->code RS_ETOOBIG or RS_EINVAL. A line
 * found too long before its end is reported at once and the parser then
 * skips to the next LF by itself, so the caller answers once and keeps
 * feeding. *used_r is the number of bytes consumed (up to and including
 * the LF after 1, and never past it). */
int smtp_parser_feed(struct smtp_parser *p, const uint8_t *in, size_t len,
                     size_t *used_r, struct smtp_line *line_r,
                     struct rs_err *err) RS_MUST_CHECK;

/* "MAIL" etc.; "?" for SMTP_VERB_UNKNOWN or out of range. Static. */
const char *smtp_verb_name(enum smtp_verb v);

#endif
