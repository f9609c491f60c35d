/* mime_decode.h: content decoders for FETCH BINARY (RFC 3516): base64 and
 * quoted-printable (RFC 2045 6.7, 6.8), incremental so that a large part
 * is decoded chunk by chunk, and the decoded size for BINARY.SIZE; the
 * RFC 2047 encoded-word decoder and the charset conversions to UTF-8 that
 * SEARCH and the sort keys use (UTF-8, US-ASCII, ISO-8859-1,
 * Windows-1252). Pure: no I/O; lenient, never fails on bad input. */
#ifndef ROOST_NODE_MIME_DECODE_H
#define ROOST_NODE_MIME_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_buf.h"
#include "lib/rs_err.h"
#include "node/mime/mime.h"

#define MIME_DECODER_PEND 64     /* blanks held back by quoted-printable */

/* A streaming decoder; plain copy for 7bit, 8bit, binary and unknown. */
struct mime_decoder {
	uint8_t  cte;             /* enum mime_cte */
	uint8_t  state;
	uint8_t  hex;             /* first digit of "=XY" */
	uint8_t  nbits;           /* base64: sextets held in bits */
	uint32_t bits;
	uint8_t  npend;
	uint8_t  pend[MIME_DECODER_PEND]; /* QP: trailing blanks or "=" + blanks */
};

/* Output octets mime_decoder_run() may write for len input octets, and
 * the most mime_decoder_finish() writes. */
static inline size_t
mime_decoder_bound(size_t len)
{
	return len + MIME_DECODER_PEND + 4;
}
#define MIME_DECODER_FINISH_MAX (MIME_DECODER_PEND + 4)

void mime_decoder_init(struct mime_decoder *d, enum mime_cte cte);
/* Decodes in[0..len) into out (mime_decoder_bound(len) octets); returns
 * the octets written. Chunks may split anywhere. */
size_t mime_decoder_run(struct mime_decoder *d, const uint8_t *in, size_t len,
                        uint8_t *out);
/* Flushes what the decoder holds at the end of the body into out
 * (MIME_DECODER_FINISH_MAX octets); returns the octets written. */
size_t mime_decoder_finish(struct mime_decoder *d, uint8_t *out);
/* The same, appending to an rs_buf: 0 or RS_ETOOBIG (then out holds an
 * unspecified prefix of the new output). */
int mime_decoder_feed(struct mime_decoder *d, const uint8_t *in, size_t len,
                      struct rs_buf *out) RS_MUST_CHECK;
int mime_decoder_end(struct mime_decoder *d, struct rs_buf *out)
	RS_MUST_CHECK;

/* Octets of body[0..len) once decoded (BINARY.SIZE). */
uint64_t mime_decoded_size(enum mime_cte cte, const uint8_t *body, size_t len);

enum mime_charset {
	MIME_CHARSET_UNKNOWN = 0,
	MIME_CHARSET_UTF8,
	MIME_CHARSET_ASCII,
	MIME_CHARSET_LATIN1,      /* ISO-8859-1 */
	MIME_CHARSET_CP1252,      /* Windows-1252 */
};

/* The charset named name[0..len) (case-insensitive, common aliases; an
 * RFC 2231 "*language" suffix is ignored). */
enum mime_charset mime_charset_lookup(const char *name, size_t len);
/* Appends s[0..n) converted to UTF-8; invalid sequences become U+FFFD.
 * 0, RS_EINVAL for MIME_CHARSET_UNKNOWN (out unchanged), RS_ETOOBIG. It
 * appends at most MIME_UTF8_GROWTH * n octets (U+FFFD is 3 octets for an
 * invalid one). s may lie in out's data only if that much room has been
 * reserved first, since a growing buffer moves. */
#define MIME_UTF8_GROWTH 3
int mime_charset_to_utf8(enum mime_charset cs, const uint8_t *s, size_t n,
                         struct rs_buf *out) RS_MUST_CHECK;

/* Appends header text s[0..n) with its RFC 2047 encoded-words decoded to
 * UTF-8 (blanks between adjacent encoded-words dropped, words in an
 * unknown charset left as they are); CR and LF are dropped (unfolding).
 * 0 or RS_ETOOBIG. */
int mime_decode_2047(const char *s, size_t n, struct rs_buf *out)
	RS_MUST_CHECK;

#endif
