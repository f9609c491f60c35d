/* imap_search_text.c: see imap_search_text.h. Bounded: decoded text is
 * converted and searched in pieces of IMAP_SEARCH_TEXT_CHUNK octets with
 * the needle's length (and an incomplete UTF-8 sequence) kept over. */
#include <string.h>
#include <strings.h>

#include "lib/rs_buf.h"
#include "node/imap/imap_search_text.h"
#include "node/mime/mime_decode.h"
#include "node/mime/mime_header.h"

#define IMAP_SEARCH_TEXT_CHUNK ((size_t)64 * 1024)
#define IMAP_SEARCH_TEXT_FIELD_MAX ((size_t)256 * 1024)

/* Reads one UTF-8 character at p[0..n), folded; *len_r its octets. */
static uint32_t
imap_search_text_fold(const uint8_t *p, size_t n, size_t *len_r)
{
	uint8_t c = p[0];

	*len_r = 1;
	if (c >= 'A' && c <= 'Z')
		return (uint32_t)(c - 'A' + 'a');
	if (c < 0x80)
		return c;
	/* U+0080..U+00FF: C2 xx or C3 xx. */
	if ((c == 0xc2 || c == 0xc3) && n >= 2 && (p[1] & 0xc0) == 0x80) {
		uint32_t u = ((uint32_t)(c & 0x1f) << 6) | (p[1] & 0x3f);

		*len_r = 2;
		if (u >= 0xc0 && u <= 0xde && u != 0xd7)
			u += 0x20;
		return u;
	}
	return 0x100u | c;      /* any other octet, compared as it is */
}

bool
imap_search_text_find(const uint8_t *hay, size_t n, const char *needle,
                      size_t nlen)
{
	const uint8_t *nd = (const uint8_t *)needle;

	if (nlen == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		size_t a = i, b = 0;

		while (b < nlen && a < n) {
			size_t la, lb;

			if (imap_search_text_fold(hay + a, n - a, &la) !=
			    imap_search_text_fold(nd + b, nlen - b, &lb))
				break;
			a += la;
			b += lb;
		}
		if (b >= nlen)
			return true;
	}
	return false;
}

/* Header fields that hold address lists (RFC 5322 3.6.2, 3.6.3). */
static bool
imap_search_text_addr_field(const char *field)
{
	static const char *const names[] = {
		"From", "Sender", "Reply-To", "To", "Cc", "Bcc",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(field, names[i]) == 0)
			return true;
	return false;
}

bool
imap_search_text_header(const uint8_t *hdr, size_t len, const char *field,
                        const char *needle, size_t nlen)
{
	struct mime_header_iter it;
	struct mime_header_field f;
	struct rs_buf val;
	bool found = false;

	rs_buf_init(&val, IMAP_SEARCH_TEXT_FIELD_MAX);
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
			found = imap_search_text_find((const uint8_t *)f.value.p,
			                              f.value.len, needle, nlen);
		else
			found = imap_search_text_find(val.data, val.len, needle,
			                              nlen);
		/* An address field also matches its addresses written
		 * plainly (RFC 3501 6.4.4 FROM, TO, CC, BCC): a quoted
		 * local part, comments, blanks around "@". */
		if (!found && field != NULL &&
		    imap_search_text_addr_field(field)) {
			rs_buf_reset(&val);
			if (mime_addr_text(f.value.p, f.value.len, &val) == 0)
				found = imap_search_text_find(val.data, val.len,
				                              needle, nlen);
		}
		/* TEXT also matches field names ("Subject: x"). */
		if (!found && field == NULL)
			found = imap_search_text_find((const uint8_t *)f.raw.p,
			                              f.raw.len, needle, nlen);
	}
	rs_buf_free(&val);
	return found;
}

/* The charset parameter of the part's Content-Type (UTF-8 if none or
 * not a text part; US-ASCII is a subset). */
static enum mime_charset
imap_search_text_charset(const uint8_t *hdr, size_t len)
{
	struct mime_header_field f;
	const char *p, *e;
	size_t n;

	if (mime_header_find(hdr, len, "Content-Type", &f) != 0)
		return MIME_CHARSET_UTF8;
	p = f.value.p;
	e = p + f.value.len;
	for (; p + 8 <= e; p++) {
		if (strncasecmp(p, "charset=", 8) != 0)
			continue;
		p += 8;
		if (p < e && *p == '"')
			p++;
		for (n = 0; p + n < e && p[n] != '"' && p[n] != ';' &&
		     p[n] != ' ' && p[n] != '\t' && p[n] != '\r' &&
		     p[n] != '\n'; n++)
			;
		if (n == 11 && strncasecmp(p, "iso-8859-15", 11) == 0)
			return MIME_CHARSET_LATIN1;  /* near enough for words */
		return mime_charset_lookup(p, n);
	}
	return MIME_CHARSET_UTF8;
}

/* Complete UTF-8 characters at the start of b[0..n) (an incomplete
 * trailing sequence waits for the next piece). */
static size_t
imap_search_text_whole(const uint8_t *b, size_t n)
{
	size_t i = n, k = 0;

	while (i > 0 && k < 3 && (b[i - 1] & 0xc0) == 0x80) {
		i--;
		k++;
	}
	if (i > 0 && b[i - 1] >= 0xc0) {
		size_t want = b[i - 1] >= 0xf0 ? 4 : b[i - 1] >= 0xe0 ? 3 : 2;

		if (k + 1 < want)
			return i - 1;
	}
	return n;
}

/* Decodes body[0..len) (encoding cte, charset cs) piece by piece and
 * searches it. */
static bool
imap_search_text_part(const uint8_t *body, size_t len, enum mime_cte cte,
                      enum mime_charset cs, const char *needle, size_t nlen)
{
	struct mime_decoder d;
	struct rs_buf dec, out;
	size_t off = 0;
	bool found = false, conv;

	conv = cs == MIME_CHARSET_LATIN1 || cs == MIME_CHARSET_CP1252;
	if (!conv && cte != MIME_CTE_BASE64 && cte != MIME_CTE_QP)
		return imap_search_text_find(body, len, needle, nlen);
	rs_buf_init(&dec, RS_BUF_UNLIMITED);
	rs_buf_init(&out, RS_BUF_UNLIMITED);
	if (cte == MIME_CTE_BASE64 || cte == MIME_CTE_QP)
		mime_decoder_init(&d, cte);
	while (!found && off < len) {
		size_t n = len - off < IMAP_SEARCH_TEXT_CHUNK ? len - off :
		           IMAP_SEARCH_TEXT_CHUNK;
		size_t keep;

		if (cte == MIME_CTE_BASE64 || cte == MIME_CTE_QP) {
			if (mime_decoder_feed(&d, body + off, n, &dec) != 0)
				break;
			if (off + n == len && mime_decoder_end(&d, &dec) != 0)
				break;
		} else if (rs_buf_append(&dec, body + off, n) != 0) {
			break;
		}
		off += n;
		if (conv) {
			if (mime_charset_to_utf8(cs, dec.data, dec.len,
			                         &out) != 0)
				break;
			rs_buf_reset(&dec);
		} else {
			/* UTF-8 as is: keep a split character for later. */
			size_t whole = off == len ? dec.len :
			        imap_search_text_whole(dec.data, dec.len);
			if (rs_buf_append(&out, dec.data, whole) != 0)
				break;
			rs_buf_consume(&dec, whole);
		}
		found = imap_search_text_find(out.data, out.len, needle, nlen);
		/* Keep the tail: a match may straddle two pieces. */
		keep = out.len < nlen ? out.len : nlen;
		keep = out.len - imap_search_text_whole(out.data,
		                                        out.len - keep);
		rs_buf_consume(&out, out.len - keep);
	}
	rs_buf_free(&dec);
	rs_buf_free(&out);
	return found;
}

bool
imap_search_text_body(const uint8_t *msg, size_t len,
                      const struct mime_summary *sum, const char *needle,
                      size_t nlen)
{
	struct mime_part_iter it;
	struct mime_part p;

	if (sum == NULL) {
		size_t h = mime_header_len(msg, len);

		return imap_search_text_find(msg + h, len - h, needle, nlen);
	}
	mime_summary_iter_init(&it, sum);
	while (mime_summary_iter_next(&it, &p) == 1) {
		enum mime_charset cs;

		if (p.kind != MIME_PART_LEAF || p.body_off > len ||
		    p.body_len > len - p.body_off || p.hdr_off > len ||
		    p.hdr_len > len - p.hdr_off)
			continue;
		cs = imap_search_text_charset(msg + p.hdr_off,
		                              (size_t)p.hdr_len);
		if (imap_search_text_part(msg + p.body_off, (size_t)p.body_len,
		                          p.cte, cs, needle, nlen))
			return true;
	}
	return false;
}
