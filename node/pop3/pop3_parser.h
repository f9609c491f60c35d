/* pop3_parser.h: incremental POP3 command-line parser (RFC 1939 section 3,
 * RFC 2449 section 4, RFC 5034 section 4 for the SASL response line).
 * Pure: no I/O, no allocation after pop3_parser_new(). Fuzzed by
 * tests/fuzz/fuzz_pop3_parser.c.
 *
 * Limits. RFC 2449 section 4: a command line is at most 255 octets with
 * its CRLF, a keyword 3 or 4 characters, an argument at most 40. We are
 * more lenient where real clients need it:
 *  - USER and AUTH arguments may be POP3_LONG_ARG_MAX (320) octets, since
 *    the login name is a full address (up to 254 octets and more with
 *    quoting), and an AUTH initial response carries it in base64;
 *  - PASS takes the rest of the line as one argument, spaces included
 *    (RFC 1939 section 7 allows it), up to POP3_PASS_MAX octets;
 *  - the SASL response line after "+ " may be POP3_SASL_LINE_MAX octets
 *    (RFC 5034 sets no 255-octet limit on it);
 *  - runs of spaces separate arguments and trailing spaces are ignored;
 *  - a bare LF ends a line like CRLF does (no smuggling risk: POP3 has
 *    no client-sent data phase). A CR anywhere else is a syntax error. */
#ifndef ROOST_NODE_POP3_PARSER_H
#define ROOST_NODE_POP3_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_buf.h"
#include "lib/rs_err.h"

#define POP3_LINE_MAX       255   /* RFC 2449 section 4, CRLF included */
#define POP3_ARG_MAX        40    /* RFC 2449 section 4 */
#define POP3_LONG_ARG_MAX   320   /* USER, AUTH: see above */
#define POP3_PASS_MAX       1024  /* node/auth's PASSWD_MAX */
#define POP3_SASL_LINE_MAX  2048  /* base64 of authzid, authcid, password */
#define POP3_ARGS_MAX       2     /* TOP msg n; AUTH mech initial-response */

enum pop3_verb {
	POP3_VERB_NONE = 0,
	POP3_VERB_USER,
	POP3_VERB_PASS,
	POP3_VERB_AUTH,
	POP3_VERB_CAPA,
	POP3_VERB_STAT,
	POP3_VERB_LIST,
	POP3_VERB_RETR,
	POP3_VERB_DELE,
	POP3_VERB_NOOP,
	POP3_VERB_RSET,
	POP3_VERB_QUIT,
	POP3_VERB_TOP,
	POP3_VERB_UIDL,
	POP3_VERB_SASL,          /* a SASL response line, see set_sasl */
	POP3_VERB_COUNT,
};

struct pop3_cmd {
	enum pop3_verb verb;
	/* Borrowed: valid until the next feed. */
	struct rs_str  args[POP3_ARGS_MAX];
	size_t         nargs;
	/* PASS: the password; SASL: the whole line. Borrowed likewise. */
	struct rs_str  rest;
};

struct pop3_parser;                   /* opaque */

/* Never returns NULL. */
struct pop3_parser *pop3_parser_new(void);
/* Wipes and frees *pp, sets it to NULL; NULL-safe. */
void pop3_parser_free(struct pop3_parser **pp);

/* Feeds bytes. Returns 1 with *cmd_r filled when a line ended (*cmd_r is
 * not meaningful otherwise); 0 when all
 * of in was consumed without ending a line; -1 on a bad line with a short
 * reply text in err->msg ("Line too long", "Unknown command", ...) and
 * err->code RS_ETOOBIG or RS_EINVAL. After an error found before the end
 * of the line (too long, NUL byte) the parser skips to the next LF by
 * itself, so the caller answers once and keeps feeding. *used_r is the
 * number of bytes consumed (up to and including the LF after 1). */
int pop3_parser_feed(struct pop3_parser *p, const uint8_t *in, size_t len,
                     size_t *used_r, struct pop3_cmd *cmd_r,
                     struct rs_err *err) RS_MUST_CHECK;

/* The next line is a SASL response (RFC 5034 section 4): it is returned
 * whole as POP3_VERB_SASL in rest, up to POP3_SASL_LINE_MAX octets. Only
 * that one line; then command parsing resumes. */
void pop3_parser_set_sasl(struct pop3_parser *p);

/* Zeroes the line buffer (after PASS and AUTH, so no password stays in
 * memory). Invalidates the slices of the last command. */
void pop3_parser_wipe(struct pop3_parser *p);

/* "USER" etc.; "?" for out of range. Static. */
const char *pop3_verb_name(enum pop3_verb v);

#endif
