/* rs_base64.h: RFC 4648 base64, strict decoding (as SASL requires). */
#ifndef ROOST_LIB_RS_BASE64_H
#define ROOST_LIB_RS_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "lib/rs_err.h"

/* Bytes needed to encode n bytes, plus the NUL. */
static inline size_t
rs_base64_encoded_size(size_t n)
{
	return (n + 2) / 3 * 4 + 1;
}

/* Encodes into out (rs_base64_encoded_size(n) bytes); returns the length. */
size_t rs_base64_encode(const uint8_t *in, size_t n, char *out);
/* Decodes into out (at least n/4*3 bytes). 0 with *len_r set, or RS_EINVAL
 * on a character outside the alphabet, bad padding or length. */
int rs_base64_decode(const char *in, size_t n, uint8_t *out, size_t *len_r)
	RS_MUST_CHECK;

#endif
