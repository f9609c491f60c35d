/* imap_fetch_text.h: the text searches of SEARCH (RFC 9051 6.4.4: BODY,
 * TEXT, HEADER, FROM, SUBJECT...): substring matching that ignores ASCII
 * case, in header fields with RFC 2047 encoded-words decoded, and in the
 * bodies of a message's parts with their transfer encoding (base64,
 * quoted-printable) undone. Pure: the caller reads the octets. Internal
 * to node/imap. */
#ifndef ROOST_NODE_IMAP_FETCH_TEXT_H
#define ROOST_NODE_IMAP_FETCH_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/mime/mime.h"

/* True if needle[0..nlen) occurs in hay[0..n), ASCII case ignored
 * (other octets, UTF-8 included, must match exactly). An empty needle
 * matches. */
bool imap_fetch_text_find(const uint8_t *hay, size_t n, const char *needle,
                          size_t nlen);

/* True if a field of the header hdr[0..len) named field (any field when
 * NULL) holds needle once unfolded and RFC 2047-decoded. With an empty
 * needle, true if the field exists (RFC 9051 HEADER "" matches any
 * message that has the field). */
bool imap_fetch_text_header(const uint8_t *hdr, size_t len,
                            const char *field, const char *needle,
                            size_t nlen);

/* True if the body text of the message msg[0..len) holds needle: each
 * leaf part's body with its transfer encoding undone (sum describes the
 * parts; NULL: the whole body after the header, as it is). */
bool imap_fetch_text_body(const uint8_t *msg, size_t len,
                          const struct mime_summary *sum, const char *needle,
                          size_t nlen);

#endif
