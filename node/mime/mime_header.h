/* mime_header.h: header fields on raw message octets (RFC 5322 2.2):
 * iterate, find one by name (case-insensitive, unfolded), and build the
 * answer to BODY[HEADER.FIELDS (...)] and BODY[HEADER.FIELDS.NOT (...)].
 * Works on the header octets only, which the caller bounds; no
 * allocation except in the rs_buf it is given. */
#ifndef ROOST_NODE_MIME_HEADER_H
#define ROOST_NODE_MIME_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_buf.h"
#include "lib/rs_err.h"

/* One field; slices borrowed from the header octets. */
struct mime_header_field {
	struct rs_str name;   /* before the colon, trailing blanks trimmed */
	struct rs_str value;  /* after the colon, folded, without the last
	                       * line ending */
	struct rs_str raw;    /* the whole field, its last line ending
	                       * included (if it has one) */
};

struct mime_header_iter {
	const uint8_t *p;     /* borrowed */
	size_t len, off;
	bool   done;
};

/* Iterates the fields of hdr[0..len) up to the blank line (or len). */
void mime_header_iter_init(struct mime_header_iter *it, const uint8_t *hdr,
                           size_t len);
/* 1: *f is the next field; 0: the header ended (lines without a colon
 * are skipped). */
int mime_header_iter_next(struct mime_header_iter *it,
                          struct mime_header_field *f);
/* After the walk ended: octets of the header, the blank line included
 * (len when there is none). */
size_t mime_header_iter_end(const struct mime_header_iter *it);

/* Length of the header at the start of msg[0..len): up to and including
 * the blank line, or len if there is none. */
size_t mime_header_len(const uint8_t *msg, size_t len);

/* The first field named name (ASCII case-insensitive): 0 with *f set, or
 * RS_ENOTFOUND. */
int mime_header_find(const uint8_t *hdr, size_t len, const char *name,
                     struct mime_header_field *f) RS_MUST_CHECK;

/* Appends value unfolded (CR and LF removed, RFC 5322 2.2.3) and trimmed
 * of white space at both ends. 0 or RS_ETOOBIG. */
int mime_header_unfold(struct rs_str value, struct rs_buf *out)
	RS_MUST_CHECK;

/* BODY[HEADER.FIELDS (names)] (or .NOT when negate): appends every field
 * of hdr whose name is (is not) in names[0..n), verbatim and in order,
 * each ending in a line ending, then the blank line "\r\n" (RFC 9051
 * 6.4.5). 0 or RS_ETOOBIG. */
int mime_header_fields(const uint8_t *hdr, size_t len,
                       const struct rs_str *names, size_t n, bool negate,
                       struct rs_buf *out) RS_MUST_CHECK;

#endif
