/* imap_fetch_meta.c: the summary FETCH answers from. Without the MIME
 * module's parser every message is described as one text/plain part
 * whose header ends at the first blank line.
 * XXX(imsg): stored summaries are used once node/mime is implemented. */
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_fetch_meta.h"

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

int
imap_fetch_meta_load(struct imap_fetch_meta *fm, struct store *st,
                     uint32_t part, const uint8_t blob[STORE_HASH_LEN],
                     uint64_t size, const uint8_t *meta, size_t meta_len,
                     struct rs_err *err)
{
	size_t want = size < IMAP_FETCH_HEAD_MAX ? (size_t)size :
	              IMAP_FETCH_HEAD_MAX, got = 0;
	uint8_t *head;
	int rc;

	(void)meta;
	(void)meta_len;
	fm->have = false;
	rs_buf_reset(&fm->buf);
	fm->plain.size = size;
	head = rs_xmalloc(want + 1);
	rc = store_blob_read(st, part, blob, 0, head, want, &got, err);
	if (rc == 0)
		fm->plain.hdr_len = imap_fetch_part_hdr_end(head, got);
	free(head);
	return rc;
}

int
imap_fetch_meta_find(const struct imap_fetch_meta *fm, const char *section,
                     enum imap_fetch_spec spec, struct imap_fetch_range *r)
{
	return imap_fetch_part_find(NULL, &fm->plain, section, spec, r);
}

struct rs_str
imap_fetch_meta_envelope(struct imap_fetch_meta *fm)
{
	(void)fm;
	return RS_STR_LIT(IMAP_FETCH_PART_NIL_ENVELOPE);
}

struct rs_str
imap_fetch_meta_structure(struct imap_fetch_meta *fm, bool extensible)
{
	return rs_str_cstr(imap_fetch_part_plain_bodystructure(&fm->plain,
	                   extensible, fm->tmp, sizeof(fm->tmp)));
}
