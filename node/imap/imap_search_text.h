/* imap_search_text.h: BODY/TEXT search over decoded, charset-converted
 * text (RFC 9051 6.4.4): each leaf part's Content-Transfer-Encoding is
 * undone and its declared charset (node/mime: UTF-8, US-ASCII,
 * ISO-8859-1, Windows-1252; ISO-8859-15 read as Latin-1) converted to
 * UTF-8 before the case-insensitive substring match. Folded: ASCII A-Z
 * and the Latin-1 capitals U+00C0..U+00DE (but U+00D7) in their UTF-8
 * form, to the letter 0x20 above. Pure: no I/O. */
#ifndef ROOST_NODE_IMAP_SEARCH_TEXT_H
#define ROOST_NODE_IMAP_SEARCH_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/mime/mime.h"

/* needle[0..nlen) (UTF-8) in hay[0..n), case folded as above. */
bool imap_search_text_find(const uint8_t *hay, size_t n, const char *needle,
                           size_t nlen);

/* needle in the field named field (every one; NULL: the whole header,
 * names included) of hdr[0..len), unfolded and RFC 2047-decoded. */
bool imap_search_text_header(const uint8_t *hdr, size_t len,
                             const char *field, const char *needle,
                             size_t nlen);

/* needle in a body part of msg[0..len) as described by sum (NULL: the
 * text after the header, as it is). */
bool imap_search_text_body(const uint8_t *msg, size_t len,
                           const struct mime_summary *sum,
                           const char *needle, size_t nlen);

#endif
