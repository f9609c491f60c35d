/* imap_fetch_part.c: section lookup for FETCH BODY[...] and BINARY[...]
 * (RFC 9051 6.4.5) over the MIME summary's part table, the fallback for
 * messages without one, and partial arithmetic. No I/O. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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
