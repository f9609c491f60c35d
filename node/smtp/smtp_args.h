/* smtp_args.h: the arguments of HELO/EHLO, MAIL, RCPT and BDAT (RFC 5321
 * sections 4.1.1 and 4.1.2, RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 6531
 * SMTPUTF8, RFC 3030 CHUNKING). Pure: no I/O, no allocation; fuzzed with
 * the command parser by tests/fuzz/fuzz_smtp_parser.c.
 *
 * A refusal comes back as a struct smtp_reject: the reply code, the RFC
 * 3463 enhanced status, a log reason and the reply text, all static. */
#ifndef ROOST_NODE_SMTP_ARGS_H
#define ROOST_NODE_SMTP_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/rs_addr.h"
#include "lib/rs_buf.h"
#include "lib/rs_err.h"

#define SMTP_HELO_MAX 255             /* a domain name (RFC 5321 4.5.3.1.2) */

struct smtp_reject {
	unsigned    code;             /* 501, 553, 555 ... */
	const char *status;           /* "5.1.7" */
	const char *reason;           /* for the log: "bad_address" */
	const char *text;             /* for the reply */
};

/* RFC 6152 and RFC 1652: what the client declares about the body. */
enum smtp_body {
	SMTP_BODY_NONE = 0,           /* not given */
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
};

/* MAIL FROM:<reverse-path> [SP params]. */
struct smtp_mail {
	struct rs_addr from;          /* null for "<>" */
	uint64_t       size;          /* RFC 1870 SIZE=, when has_size */
	bool           has_size;
	enum smtp_body body;
	bool           smtputf8;      /* RFC 6531 SMTPUTF8 */
	bool           has_params;    /* any ESMTP parameter at all */
};

/* RCPT TO:<forward-path> [SP params]. */
struct smtp_rcpt {
	struct rs_addr to;            /* local "postmaster", domain "" when
	                               * postmaster is set */
	bool           postmaster;    /* "<Postmaster>" (RFC 5321 4.1.1.3) */
};

/* Parses the text after "MAIL". Without SMTPUTF8, a path with octets
 * >= 0x80 is refused with 553 5.6.7 (RFC 6531 section 3.4); the path is
 * parsed with RS_ADDR_ALLOW_NULL, plus RS_ADDR_UTF8 when SMTPUTF8 is
 * given. 0, or -1 with *rej filled. */
int smtp_args_mail(struct rs_str args, struct smtp_mail *m,
                   struct smtp_reject *rej) RS_MUST_CHECK;

/* Parses the text after "RCPT". utf8: the transaction declared SMTPUTF8.
 * No RCPT parameter is supported (555). 0, or -1 with *rej filled. */
int smtp_args_rcpt(struct rs_str args, bool utf8, struct smtp_rcpt *r,
                   struct smtp_reject *rej) RS_MUST_CHECK;

/* Parses "chunk-size [LAST]" (RFC 3030 section 2). 0, or -1: the size
 * is unknown, so the caller cannot skip the chunk. */
int smtp_args_bdat(struct rs_str args, uint64_t *size_r, bool *last_r)
	RS_MUST_CHECK;

/* Checks the HELO/EHLO argument: one word of printable ASCII without the
 * characters that would break a Received: header, at most SMTP_HELO_MAX
 * octets. 0, or -1 with *rej filled. */
int smtp_args_helo(struct rs_str args, struct smtp_reject *rej)
	RS_MUST_CHECK;

#endif
