/* imap_fetch_text.c: case-insensitive substring search over header fields
 * (unfolded, RFC 2047-decoded) and over decoded part bodies, for SEARCH.
 * Bounded: decoded text is searched in pieces of IMAP_FETCH_TEXT_CHUNK
 * octets with an overlap of the needle's length, never whole. */
#include <string.h>

#include "lib/rs_buf.h"
#include "node/imap/imap_fetch_text.h"
#include "node/mime/mime_decode.h"
#include "node/mime/mime_header.h"

#define IMAP_FETCH_TEXT_CHUNK ((size_t)64 * 1024)
#define IMAP_FETCH_TEXT_FIELD_MAX ((size_t)256 * 1024)

static uint8_t
imap_fetch_text_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

bool
imap_fetch_text_find(const uint8_t *hay, size_t n, const char *needle,
                     size_t nlen)
{
	uint8_t first;

	if (nlen == 0)
		return true;
	if (nlen > n)
		return false;
	first = imap_fetch_text_lower((uint8_t)needle[0]);
	for (size_t i = 0; i + nlen <= n; i++) {
		size_t k;

		if (imap_fetch_text_lower(hay[i]) != first)
			continue;
		for (k = 1; k < nlen; k++)
			if (imap_fetch_text_lower(hay[i + k]) !=
			    imap_fetch_text_lower((uint8_t)needle[k]))
				break;
		if (k == nlen)
			return true;
	}
	return false;
}

bool
imap_fetch_text_header(const uint8_t *hdr, size_t len, const char *field,
                       const char *needle, size_t nlen)
{
	struct mime_header_iter it;
	struct mime_header_field f;
	struct rs_buf val;
	bool found = false;

	rs_buf_init(&val, IMAP_FETCH_TEXT_FIELD_MAX);
	mime_header_iter_init(&it, hdr, len);
	while (!found && mime_header_iter_next(&it, &f) == 1) {
		if (field != NULL && !rs_str_ieq_cstr(f.name, field))
			continue;
		if (nlen == 0) {
			found = true;
			break;
		}
		rs_buf_reset(&val);
		/* A field too long to decode whole is searched as it is. */
		if (mime_decode_2047(f.value.p, f.value.len, &val) != 0)
			found = imap_fetch_text_find((const uint8_t *)f.value.p,
			                             f.value.len, needle, nlen);
		else
			found = imap_fetch_text_find(val.data, val.len, needle,
			                             nlen);
		/* TEXT also matches field names ("Subject: x"). */
		if (!found && field == NULL)
			found = imap_fetch_text_find((const uint8_t *)f.raw.p,
			                             f.raw.len, needle, nlen);
	}
	rs_buf_free(&val);
	return found;
}

/* Decodes body[0..len) of encoding cte piece by piece and searches it. */
static bool
imap_fetch_text_part(const uint8_t *body, size_t len, enum mime_cte cte,
                     const char *needle, size_t nlen)
{
	struct mime_decoder d;
	struct rs_buf out;
	size_t off = 0;
	bool found = false;

	if (cte != MIME_CTE_BASE64 && cte != MIME_CTE_QP)
		return imap_fetch_text_find(body, len, needle, nlen);
	rs_buf_init(&out, RS_BUF_UNLIMITED);
	mime_decoder_init(&d, cte);
	while (!found && off < len) {
		size_t n = len - off < IMAP_FETCH_TEXT_CHUNK ? len - off :
		           IMAP_FETCH_TEXT_CHUNK;
		size_t keep;

		if (mime_decoder_feed(&d, body + off, n, &out) != 0)
			break;
		off += n;
		if (off == len && mime_decoder_end(&d, &out) != 0)
			break;
		found = imap_fetch_text_find(out.data, out.len, needle, nlen);
		/* Keep the tail: a match may straddle two pieces. */
		keep = out.len < nlen ? out.len : nlen;
		rs_buf_consume(&out, out.len - keep);
	}
	rs_buf_free(&out);
	return found;
}

bool
imap_fetch_text_body(const uint8_t *msg, size_t len,
                     const struct mime_summary *sum, const char *needle,
                     size_t nlen)
{
	struct mime_part_iter it;
	struct mime_part p;

	if (sum == NULL) {
		size_t h = mime_header_len(msg, len);

		return imap_fetch_text_find(msg + h, len - h, needle, nlen);
	}
	mime_summary_iter_init(&it, sum);
	while (mime_summary_iter_next(&it, &p) == 1) {
		if (p.kind != MIME_PART_LEAF || p.body_off > len ||
		    p.body_len > len - p.body_off)
			continue;
		if (imap_fetch_text_part(msg + p.body_off, (size_t)p.body_len,
		                         p.cte, needle, nlen))
			return true;
	}
	return false;
}
