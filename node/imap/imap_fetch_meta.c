/* imap_fetch_meta.c: the summary FETCH answers from (node/mime/mime.h):
 * the meta stored with the body; for a message stored without one, a
 * parse of the body if it is at most IMAP_FETCH_PARSE_MAX octets, else a
 * description as one text/plain part whose header ends at the first blank
 * line. Also the summary APPEND stores. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_fetch_meta.h"
#include "node/mime/mime_header.h"

void
imap_fetch_meta_init(struct imap_fetch_meta *fm)
{
	memset(fm, 0, sizeof(*fm));
	rs_buf_init(&fm->buf, STORE_META_MAX);
}

void
imap_fetch_meta_free(struct imap_fetch_meta *fm)
{
	rs_buf_free(&fm->buf);
	fm->have = false;
}

/* Reads the first want octets of the body into *data_r (owned). */
static int
imap_fetch_meta_read(struct store *st, uint32_t part,
                     const uint8_t blob[STORE_HASH_LEN], size_t want,
                     uint8_t **data_r, size_t *got_r, struct rs_err *err)
{
	uint8_t *d = rs_xmalloc(want + 1);
	int rc;

	*got_r = 0;
	rc = store_blob_read(st, part, blob, 0, d, want, got_r, err);
	if (rc != 0) {
		free(d);
		return rc;
	}
	*data_r = d;
	return 0;
}

int
imap_fetch_meta_load(struct imap_fetch_meta *fm, struct store *st,
                     uint32_t part, const uint8_t blob[STORE_HASH_LEN],
                     uint64_t size, const uint8_t *meta, size_t meta_len,
                     struct rs_err *err)
{
	uint8_t *data;
	size_t got;
	int rc;

	fm->have = false;
	rs_buf_reset(&fm->buf);
	fm->plain.size = size;
	fm->plain.hdr_len = 0;
	if (meta_len > 0 && rs_buf_append(&fm->buf, meta, meta_len) == 0 &&
	    mime_summary_open(fm->buf.data, fm->buf.len, &fm->sum) == 0) {
		fm->have = true;
		return 0;
	}
	rs_buf_reset(&fm->buf);
	if (size <= IMAP_FETCH_PARSE_MAX) {
		rc = imap_fetch_meta_read(st, part, blob, (size_t)size, &data,
		                          &got, err);
		if (rc != 0)
			return rc;
		if (mime_parse(data, got, &fm->buf, NULL) == 0 &&
		    mime_summary_open(fm->buf.data, fm->buf.len,
		                      &fm->sum) == 0)
			fm->have = true;
		fm->plain.hdr_len = mime_header_len(data, got);
		free(data);
		return 0;
	}
	rc = imap_fetch_meta_read(st, part, blob, IMAP_FETCH_HEAD_MAX, &data,
	                          &got, err);
	if (rc != 0)
		return rc;
	fm->plain.hdr_len = mime_header_len(data, got);
	free(data);
	return 0;
}

int
imap_fetch_meta_find(const struct imap_fetch_meta *fm, const char *section,
                     enum imap_fetch_spec spec, struct imap_fetch_range *r)
{
	struct mime_part p;

	if (!fm->have)
		return imap_fetch_part_find(NULL, &fm->plain, section, spec, r);
	if (!imap_fetch_part_section_ok(section))
		return RS_EINVAL;
	if (mime_summary_part(&fm->sum, section, &p) != 0) {
		memset(r, 0, sizeof(*r));
		return 0;
	}
	return imap_fetch_part_find(&p, &fm->plain, section, spec, r);
}

struct rs_str
imap_fetch_meta_envelope(struct imap_fetch_meta *fm)
{
	if (!fm->have)
		return RS_STR_LIT(IMAP_FETCH_PART_NIL_ENVELOPE);
	return mime_summary_envelope(&fm->sum);
}

struct rs_str
imap_fetch_meta_structure(struct imap_fetch_meta *fm, bool extensible)
{
	if (fm->have)
		return extensible ? mime_summary_bodystructure(&fm->sum) :
		       mime_summary_body(&fm->sum);
	return rs_str_cstr(imap_fetch_part_plain_bodystructure(&fm->plain,
	                   extensible, fm->tmp, sizeof(fm->tmp)));
}

void
imap_fetch_meta_parse(const uint8_t *msg, size_t len, struct rs_buf *out)
{
	rs_buf_reset(out);
	if (mime_parse(msg, len, out, NULL) != 0)
		rs_buf_reset(out);
}
