/* imap_string.h: the IMAP lexical forms the server writes and a few it
 * reads (RFC 9051 4, 9): strings as atom, quoted or literal as the octets
 * require; flag lists; INTERNALDATE date-time and SEARCH dates; modified
 * UTF-7 mailbox names (RFC 3501 5.1.3) for clients without UTF8=ACCEPT;
 * LIST pattern matching. Pure but for the evbuffer writers. */
#ifndef ROOST_NODE_IMAP_STRING_H
#define ROOST_NODE_IMAP_STRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_buf.h"
#include "lib/rs_err.h"

struct evbuffer;

/* UTF8=ACCEPT (RFC 6855) or IMAP4rev2: a quoted string may hold UTF-8. */
#define IMAP_STRING_F_UTF8   0x01u

enum imap_string_form {
	IMAP_STRING_ATOM = 1,       /* as it is */
	IMAP_STRING_QUOTED,         /* "..." with \ before " and \ */
	IMAP_STRING_LITERAL,        /* {n}CRLF then the octets */
};

/* The form s needs: a literal for CR, LF, NUL, and for 8-bit octets
 * unless F_UTF8 and valid UTF-8; an atom only if atom_ok and s is a
 * non-empty run of ASTRING-CHAR other than NIL. */
enum imap_string_form imap_string_form(struct rs_str s, unsigned flags,
                                       bool atom_ok);

/* Append s as a string (quoted or literal) / astring (atom when it can
 * be) / nstring (NIL when s.p is NULL). 0 or RS_ETOOBIG. */
int imap_string_quote(struct rs_buf *b, struct rs_str s, unsigned flags)
	RS_MUST_CHECK;
int imap_string_astring(struct rs_buf *b, struct rs_str s, unsigned flags)
	RS_MUST_CHECK;
int imap_string_nstring(struct rs_buf *b, struct rs_str s, unsigned flags)
	RS_MUST_CHECK;
/* The same into an evbuffer (libevent's allocation failures aside). */
void imap_string_quote_ev(struct evbuffer *out, struct rs_str s,
                          unsigned flags);
void imap_string_astring_ev(struct evbuffer *out, struct rs_str s,
                            unsigned flags);
void imap_string_nstring_ev(struct evbuffer *out, struct rs_str s,
                            unsigned flags);

/* Appends "(\Seen \Answered kw1 kw2)" from enum store_flag bits, an
 * optional \Recent, and keywords (atoms, written as given). */
int imap_string_flags(struct rs_buf *b, uint32_t flags, bool recent,
                      const char *const *kw, size_t nkw) RS_MUST_CHECK;
/* The name of one system flag bit ("\\Seen"), NULL if not one. */
const char *imap_string_flag_name(uint32_t bit);
/* The enum store_flag bit of a system flag name ("\\seen" any case), 0
 * if it is not one (\Recent and \* included). */
uint32_t imap_string_flag_bit(struct rs_str name);

/* INTERNALDATE: "dd-Mon-yyyy hh:mm:ss +zzzz" (RFC 9051 date-time, the day
 * space-padded) of t in the zone tz_min minutes east of UTC. */
#define IMAP_STRING_DATETIME_LEN 27   /* 26 and the NUL */
char *imap_string_datetime(char buf[IMAP_STRING_DATETIME_LEN], int64_t t,
                           int32_t tz_min);
/* Parses a date-time as APPEND sends it (the day space-padded or one
 * digit) into seconds since the epoch and its zone. 0 or RS_EINVAL. */
int imap_string_datetime_parse(struct rs_str s, int64_t *t_r,
                               int32_t *tz_r) RS_MUST_CHECK;
/* Parses a SEARCH date "d-Mon-yyyy" into the epoch second that day begins
 * (UTC). 0 or RS_EINVAL. */
int imap_string_date_parse(struct rs_str s, int64_t *t_r) RS_MUST_CHECK;

/* Modified UTF-7 (RFC 3501 5.1.3) from UTF-8 and back. Decoding refuses
 * what RFC 3501 forbids (unclosed or non-minimal shifts, "&" unescaped,
 * encoded printable ASCII, bad UTF-16). 0, RS_EINVAL, or RS_ETOOBIG. */
int imap_string_mutf7_encode(struct rs_buf *b, struct rs_str utf8)
	RS_MUST_CHECK;
int imap_string_mutf7_decode(struct rs_buf *b, struct rs_str mutf7)
	RS_MUST_CHECK;

/* LIST/LSUB pattern matching (RFC 9051 6.3.9): '*' matches any octets,
 * '%' any but delim (0: no hierarchy). Runs in O(len(pattern) *
 * len(name)) without backtracking; patterns longer than
 * IMAP_STRING_PATTERN_MAX match nothing. Octets compare exactly. */
#define IMAP_STRING_PATTERN_MAX 1024
bool imap_string_list_match(struct rs_str pattern, struct rs_str name,
                            char delim);

#endif
