/* rs_addr.h: mail address parsing (RFC 5321 section 4.1.2, with RFC 6531
 * UTF-8 when allowed). Pure, no allocation; fuzzed by
 * tests/fuzz/fuzz_addr.c. Used by SMTP for MAIL/RCPT paths and by the
 * directory for every address it stores. */
#ifndef ROOST_LIB_RS_ADDR_H
#define ROOST_LIB_RS_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/rs_err.h"

/* RFC 5321 4.5.3.1: local-part 64 octets, domain 255, path 256. */
#define RS_ADDR_LOCAL_MAX  64
#define RS_ADDR_DOMAIN_MAX 255
#define RS_ADDR_PATH_MAX   256
/* Room for "local@domain" and a NUL. */
#define RS_ADDR_TEXT_MAX   (RS_ADDR_LOCAL_MAX * 2 + 3 + RS_ADDR_DOMAIN_MAX + 1)

enum rs_addr_flags {
	RS_ADDR_ALLOW_NULL = 1 << 0,  /* "<>" is accepted (reverse-path) */
	RS_ADDR_UTF8 = 1 << 1,        /* RFC 6531: UTF-8 local and domain */
	RS_ADDR_NO_LITERAL = 1 << 2,  /* refuse [address literals] */
};

struct rs_addr {
	char local[RS_ADDR_LOCAL_MAX + 1];   /* unquoted; may hold spaces */
	char domain[RS_ADDR_DOMAIN_MAX + 1]; /* as sent; literal keeps [] */
	bool null;             /* the null path "<>" */
	bool quoted;           /* local part was a quoted-string */
	bool utf8;             /* some octet >= 0x80 */
};

/* Parses a path "<...>" at the start of s (source routes are accepted and
 * ignored, RFC 5321 4.1.2 / C). *used_r = octets up to and including '>'.
 * 0, or -1 with err (RS_EINVAL syntax, RS_ETOOBIG a length limit). */
int rs_addr_parse_path(const char *s, size_t len, unsigned flags,
                       struct rs_addr *a, size_t *used_r, struct rs_err *err)
	RS_MUST_CHECK;
/* Parses a whole "local@domain" (no brackets, nothing after). */
int rs_addr_parse_mailbox(const char *s, size_t len, unsigned flags,
                          struct rs_addr *a, struct rs_err *err)
	RS_MUST_CHECK;

/* The lookup key: ASCII-lowercased "local@domain" (quoting dropped).
 * size >= RS_ADDR_TEXT_MAX. Returns the length. */
size_t rs_addr_key(const struct rs_addr *a, char *buf, size_t size);
/* The address as it is written in a header or path, local part quoted
 * where it is not a dot-string; empty for the null path. */
size_t rs_addr_format(const struct rs_addr *a, char *buf, size_t size);

/* Validates a domain name (LDH labels or UTF-8 U-labels when utf8). */
bool rs_addr_domain_ok(const char *s, size_t len, bool utf8);
/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid. */
size_t rs_utf8_seq_len(const unsigned char *s, size_t len);

#endif
