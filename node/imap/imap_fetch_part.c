/* imap_fetch_part.c: section lookup for FETCH BODY[...] and BINARY[...]
 * (RFC 9051 6.4.5) over the MIME summary's part table, the fallback for
 * messages without one, and partial arithmetic. No I/O. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/rs_err.h"
#include "node/imap/imap_fetch_part.h"

/* "" or 1*digit *("." 1*digit), numbers not starting with 0. */
bool
imap_fetch_part_section_ok(const char *s)
{
	bool need_digit = true;

	if (*s == '\0')
		return true;
	if (strlen(s) > MIME_SECTION_MAX)
		return false;
	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9') {
			if (need_digit && *s == '0')
				return false;
			need_digit = false;
		} else if (*s == '.' && !need_digit) {
			need_digit = true;
		} else {
			return false;
		}
	}
	return !need_digit;
}

static void
imap_fetch_part_set(struct imap_fetch_range *r, uint64_t off, uint64_t len)
{
	r->found = true;
	r->off = off;
	r->len = len;
}

/* A message without summary is one text/plain part: section "" or "1". */
static void
imap_fetch_part_plain(const struct imap_fetch_plain *pl, const char *section,
                      enum imap_fetch_spec spec, struct imap_fetch_range *r)
{
	uint64_t hdr = pl->hdr_len > pl->size ? pl->size : pl->hdr_len;
	bool whole = section[0] == '\0';

	if (!whole && strcmp(section, "1") != 0)
		return;
	r->cte = MIME_CTE_7BIT;
	switch (spec) {
	case IMAP_FETCH_SPEC_NONE:
		if (whole)
			imap_fetch_part_set(r, 0, pl->size);
		else
			imap_fetch_part_set(r, hdr, pl->size - hdr);
		break;
	case IMAP_FETCH_SPEC_FIELDS:
	case IMAP_FETCH_SPEC_FIELDS_NOT:
	case IMAP_FETCH_SPEC_HEADER:
		if (!whole)
			return;
		imap_fetch_part_set(r, 0, hdr);
		r->filter = spec != IMAP_FETCH_SPEC_HEADER;
		break;
	case IMAP_FETCH_SPEC_TEXT:
		if (whole)
			imap_fetch_part_set(r, hdr, pl->size - hdr);
		break;
	case IMAP_FETCH_SPEC_MIME:
		/* RFC 9051 6.4.5: part 1 of a single-part message has the
		 * message header as its MIME header. */
		if (!whole)
			imap_fetch_part_set(r, 0, hdr);
		break;
	}
}

int
imap_fetch_part_find(const struct mime_part *p,
                     const struct imap_fetch_plain *plain,
                     const char *section, enum imap_fetch_spec spec,
                     struct imap_fetch_range *r)
{
	bool whole = section[0] == '\0';

	memset(r, 0, sizeof(*r));
	if (!imap_fetch_part_section_ok(section))
		return RS_EINVAL;
	/* RFC 9051 6.4.5: MIME needs a part number. */
	if (whole && spec == IMAP_FETCH_SPEC_MIME)
		return RS_EINVAL;
	if (p == NULL) {
		imap_fetch_part_plain(plain, section, spec, r);
		return 0;
	}
	r->cte = p->cte;
	switch (spec) {
	case IMAP_FETCH_SPEC_NONE:
		if (whole)
			imap_fetch_part_set(r, 0, plain->size);
		else
			imap_fetch_part_set(r, p->body_off, p->body_len);
		break;
	case IMAP_FETCH_SPEC_MIME:
		imap_fetch_part_set(r, p->hdr_off, p->hdr_len);
		break;
	case IMAP_FETCH_SPEC_HEADER:
	case IMAP_FETCH_SPEC_FIELDS:
	case IMAP_FETCH_SPEC_FIELDS_NOT:
		if (!whole && p->kind != MIME_PART_MESSAGE)
			break;
		imap_fetch_part_set(r, p->msg_hdr_off, p->msg_hdr_len);
		r->filter = spec != IMAP_FETCH_SPEC_HEADER;
		break;
	case IMAP_FETCH_SPEC_TEXT:
		if (!whole && p->kind != MIME_PART_MESSAGE)
			break;
		imap_fetch_part_set(r, p->msg_text_off, p->msg_text_len);
		break;
	}
	/* A damaged table must not send octets past the message. */
	if (r->found && (r->off > plain->size ||
	                 r->len > plain->size - r->off))
		r->found = false;
	return 0;
}

uint64_t
imap_fetch_part_hdr_end(const uint8_t *data, size_t len)
{
	size_t i;

	/* A message starting with the blank line has an empty header. */
	if (len >= 1 && data[0] == '\n')
		return 1;
	if (len >= 2 && data[0] == '\r' && data[1] == '\n')
		return 2;
	for (i = 0; i < len; i++) {
		if (data[i] != '\n')
			continue;
		/* The blank line: LF LF, or LF CR LF. */
		if (i + 1 < len && data[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

void
imap_fetch_part_partial(uint64_t len, uint64_t origin, uint64_t count,
                        uint64_t *off_r, uint64_t *len_r)
{
	if (origin >= len) {
		*off_r = len;
		*len_r = 0;
		return;
	}
	*off_r = origin;
	*len_r = len - origin < count ? len - origin : count;
}

const char *
imap_fetch_part_plain_bodystructure(const struct imap_fetch_plain *plain,
                                    bool extensible, char *buf, size_t size)
{
	uint64_t body = plain->size > plain->hdr_len ?
	                plain->size - plain->hdr_len : 0;

	/* XXX(imsg): the line count is unknown without reading the body. */
	(void)snprintf(buf, size, "(\"text\" \"plain\" (\"charset\" "
	               "\"us-ascii\") NIL NIL \"7bit\" %" PRIu64 " 0%s)", body,
	               extensible ? " NIL NIL NIL NIL" : "");
	return buf;
}

static bool
imap_fetch_part_name_in(const char *name, size_t len,
                        const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == len &&
		    strncasecmp(names[i], name, len) == 0)
			return true;
	return false;
}

int
imap_fetch_part_fields(const uint8_t *hdr, size_t len,
                       const char *const *names, size_t n, bool not_,
                       struct rs_buf *out)
{
	size_t i = 0;
	bool keep = false;

	while (i < len) {
		const uint8_t *nl = memchr(hdr + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - hdr) + 1 : len;
		size_t ll = end - i;

		/* The blank line ends the header. */
		if ((ll == 1 && hdr[i] == '\n') ||
		    (ll == 2 && hdr[i] == '\r' && hdr[i + 1] == '\n'))
			break;
		if (hdr[i] != ' ' && hdr[i] != '\t') {
			const uint8_t *colon = memchr(hdr + i, ':', ll);
			size_t nlen = colon != NULL ?
			              (size_t)(colon - (hdr + i)) : 0;

			/* RFC 5322 2.2: names end at the colon; a line
			 * without one is no field and is never sent. */
			while (nlen > 0 && (hdr[i + nlen - 1] == ' ' ||
			                    hdr[i + nlen - 1] == '\t'))
				nlen--;
			keep = colon != NULL && nlen > 0 &&
			       imap_fetch_part_name_in((const char *)hdr + i,
			                               nlen, names, n) != not_;
		}
		if (keep && rs_buf_append(out, hdr + i, ll) != 0)
			return RS_ETOOBIG;
		i = end;
	}
	return rs_buf_append(out, "\r\n", 2);
}

static int
imap_fetch_part_b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* RFC 2045 6.8: characters outside the alphabet are ignored; decoding
 * stops at the padding. */
static int
imap_fetch_part_unbase64(const uint8_t *in, size_t len, struct rs_buf *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;

	for (size_t i = 0; i < len && in[i] != '='; i++) {
		int v = imap_fetch_part_b64val(in[i]);
		uint8_t o;

		if (v < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits < 8)
			continue;
		bits -= 8;
		o = (uint8_t)(acc >> bits);
		if (rs_buf_append(out, &o, 1) != 0)
			return RS_ETOOBIG;
	}
	return 0;
}

static int
imap_fetch_part_hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 2045 6.7: "=XX" octets, soft line breaks "=" CRLF, and trailing
 * whitespace of a line dropped. */
static int
imap_fetch_part_unqp(const uint8_t *in, size_t len, struct rs_buf *out)
{
	size_t i = 0;

	while (i < len) {
		const uint8_t *nl = memchr(in + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - in) : len, e = end;
		bool soft = false;

		if (e > i && in[e - 1] == '\r')
			e--;
		while (e > i && (in[e - 1] == ' ' || in[e - 1] == '\t'))
			e--;
		if (e > i && in[e - 1] == '=') {
			soft = true;
			e--;
		}
		for (size_t k = i; k < e; k++) {
			uint8_t o = in[k];
			int hi, lo;

			if (o == '=' && k + 2 < e &&
			    (hi = imap_fetch_part_hexval(in[k + 1])) >= 0 &&
			    (lo = imap_fetch_part_hexval(in[k + 2])) >= 0) {
				o = (uint8_t)(hi * 16 + lo);
				k += 2;
			}
			if (rs_buf_append(out, &o, 1) != 0)
				return RS_ETOOBIG;
		}
		if (nl != NULL && !soft && rs_buf_append(out, "\r\n", 2) != 0)
			return RS_ETOOBIG;
		i = nl != NULL ? end + 1 : len;
	}
	return 0;
}

int
imap_fetch_part_decode(enum mime_cte cte, const uint8_t *in, size_t len,
                       struct rs_buf *out)
{
	switch (cte) {
	case MIME_CTE_BASE64:
		return imap_fetch_part_unbase64(in, len, out);
	case MIME_CTE_QP:
		return imap_fetch_part_unqp(in, len, out);
	case MIME_CTE_UNKNOWN:
		return RS_EINVAL;
	case MIME_CTE_7BIT:
	case MIME_CTE_8BIT:
	case MIME_CTE_BINARY:
		break;
	}
	return rs_buf_append(out, in, len);
}
