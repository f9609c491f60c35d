/* fuzz_mime.c: libFuzzer target for node/mime. The input is a message:
 * it is parsed, its summary opened and every part walked and looked up
 * again (all offsets inside the message, every section found); each
 * part's body is decoded whole and in two pieces (same size, and equal to
 * mime_decoded_size()); the header's fields are listed. The same bytes
 * are also opened as a summary after their checksum is made right, so
 * that the structural checks of mime_summary_open() are fuzzed too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/mime/mime.h"
#include "node/mime/mime_decode.h"
#include "node/mime/mime_header.h"

static void
fuzz_decode(const struct mime_part *p, const uint8_t *msg)
{
	struct mime_decoder d;
	struct rs_buf a, b;
	size_t half = (size_t)p->body_len / 3;
	const uint8_t *body = msg + p->body_off;

	rs_buf_init(&a, RS_BUF_UNLIMITED);
	rs_buf_init(&b, RS_BUF_UNLIMITED);
	mime_decoder_init(&d, p->cte);
	if (mime_decoder_feed(&d, body, (size_t)p->body_len, &a) != 0 ||
	    mime_decoder_end(&d, &a) != 0)
		abort();
	mime_decoder_init(&d, p->cte);
	if (mime_decoder_feed(&d, body, half, &b) != 0 ||
	    mime_decoder_feed(&d, body + half, (size_t)p->body_len - half,
	                      &b) != 0 || mime_decoder_end(&d, &b) != 0)
		abort();
	if (a.len != b.len || (a.len > 0 && memcmp(a.data, b.data, a.len) != 0) ||
	    mime_decoded_size(p->cte, body, (size_t)p->body_len) != a.len)
		abort();
	rs_buf_free(&a);
	rs_buf_free(&b);
}

static void
fuzz_walk(const struct mime_summary *s, const uint8_t *msg, size_t size)
{
	struct mime_part_iter it;
	struct mime_part p, q;
	uint32_t n = 0;

	mime_summary_iter_init(&it, s);
	while (mime_summary_iter_next(&it, &p) == 1) {
		if (++n > s->nparts || p.body_off != p.hdr_off + p.hdr_len ||
		    p.body_off + p.body_len > size ||
		    p.msg_hdr_off + p.msg_hdr_len > size ||
		    p.msg_text_off + p.msg_text_len > size ||
		    p.lines > p.body_len || strlen(p.section) > MIME_SECTION_MAX)
			abort();
		if (mime_summary_part(s, p.section, &q) != 0 ||
		    q.body_off != p.body_off || q.body_len != p.body_len)
			abort();
		if (msg != NULL && n < 50)
			fuzz_decode(&p, msg);
	}
	if (mime_summary_part(s, "", &q) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_buf meta, out;
	struct mime_summary s;
	uint8_t *copy;

	rs_buf_init(&meta, RS_BUF_UNLIMITED);
	if (mime_parse(data, size, &meta, NULL) != 0)
		abort();
	if (mime_summary_open(meta.data, meta.len, &s) != 0 ||
	    s.msg_size != size || s.nparts == 0)
		abort();
	fuzz_walk(&s, data, size);
	rs_buf_free(&meta);

	rs_buf_init(&out, RS_BUF_UNLIMITED);
	if (mime_header_fields(data, mime_header_len(data, size), NULL, 0, true,
	                       &out) != 0 ||
	    mime_decode_2047((const char *)data, size < 4096 ? size : 4096,
	                     &out) != 0)
		abort();
	rs_buf_free(&out);

	/* The input as a summary, its checksum made right. */
	if (size >= 96) {
		uint32_t h = 2166136261u;

		copy = malloc(size);
		memcpy(copy, data, size);
		memcpy(copy, "RMS1", 4);
		for (size_t i = 8; i < size; i++)
			h = (h ^ copy[i]) * 16777619u;
		for (int k = 0; k < 4; k++)
			copy[4 + k] = (uint8_t)(h >> (8 * k));
		if (mime_summary_open(copy, size, &s) == 0)
			fuzz_walk(&s, NULL, s.msg_size);
		free(copy);
	}
	return 0;
}
