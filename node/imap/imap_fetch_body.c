/* imap_fetch_body.c: FETCH's body items (RFC 9051 6.4.5, RFC 3516):
 * plain ranges of the stored message streamed in 256 KiB chunks as the
 * client drains its output; HEADER.FIELDS filtered and small BINARY parts
 * decoded in memory; big BINARY parts measured by one decoding pass and
 * then decoded as they stream. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_fetch_int.h"
#include "node/mime/mime_header.h"

/* Sends scratch[off..off+len) as a literal. */
static void
imap_fetch_mem_literal(struct evbuffer *out, const struct imap_fetch_item *it,
                       const struct rs_buf *b, bool lit8)
{
	uint64_t off, len;

	if (it->partial)
		imap_fetch_part_partial(b->len, it->origin, it->count, &off,
		                        &len);
	else
		off = 0, len = b->len;
	/* An empty section is "{0}" like any other (a buffer that never
	 * grew has no data to point into). */
	evbuffer_add_printf(out, "%s %s{%" PRIu64 "}\r\n", it->name,
	                    lit8 ? "~" : "", len);
	if (len > 0)
		evbuffer_add(out, b->data + off, (size_t)len);
}

/* An item with nothing to show: a section that is not there, or could
 * not be read or decoded, is NIL (nstring); BINARY.SIZE is a number in
 * the grammar (RFC 9051 7.5.2), and 0 is the size of that nothing. */
static void
imap_fetch_none(struct evbuffer *out, const struct imap_fetch_item *it)
{
	evbuffer_add_printf(out, "%s %s", it->name,
	                    it->kind == IMAP_FETCH_BINARY_SIZE ? "0" : "NIL");
}

/* BODY[HEADER.FIELDS (names)]: mime_header_fields with it's names. */
static int
imap_fetch_filter(const struct imap_fetch_item *it, const uint8_t *hdr,
                  size_t len, struct rs_buf *out)
{
	struct rs_str names[IMAP_FETCH_FIELDS_MAX];

	for (size_t i = 0; i < it->nfields && i < IMAP_FETCH_FIELDS_MAX; i++)
		names[i] = rs_str_cstr(it->fields[i]);
	return mime_header_fields(hdr, len, names, it->nfields,
	                          it->spec == IMAP_FETCH_SPEC_FIELDS_NOT, out);
}

/* BINARY: the part's body without its transfer encoding (RFC 3516). */
static int
imap_fetch_decode(enum mime_cte cte, const uint8_t *in, size_t len,
                  struct rs_buf *out)
{
	struct mime_decoder d;

	mime_decoder_init(&d, cte);
	if (mime_decoder_feed(&d, in, len, out) != 0)
		return RS_ETOOBIG;
	return mime_decoder_end(&d, out);
}

/* Reads r's octets into f->scratch_in, then filters or decodes them into
 * f->scratch. 0 or -1 (store error or too big). */
static int
imap_fetch_load_part(struct imap_session *s, struct imap_fetch *f,
                     const struct imap_fetch_item *it,
                     const struct imap_fetch_range *r)
{
	struct rs_err err;
	uint8_t *raw;
	size_t got = 0;
	int rc;

	rs_buf_reset(&f->scratch);
	if (r->len > IMAP_FETCH_MEM_MAX)
		return -1;
	raw = rs_xmalloc((size_t)r->len + 1);
	rs_err_clear(&err);
	rc = store_blob_read(imap_store(s), s->acct.part, f->cur.blob, r->off,
	                     raw, (size_t)r->len, &got, &err);
	if (rc == 0 && r->filter)
		rc = imap_fetch_filter(it, raw, got, &f->scratch);
	else if (rc == 0)
		rc = imap_fetch_decode(r->cte, raw, got, &f->scratch);
	free(raw);
	return rc == 0 ? 0 : -1;
}

/* One chunk of the part at off decoded into f->dec_out: the octets
 * written, or -1 (store error; err set). *got_r: raw octets read. */
static int64_t
imap_fetch_dec_chunk(struct imap_session *s, struct imap_fetch *f,
                     struct mime_decoder *d, uint64_t off, uint64_t end,
                     size_t *got_r, struct rs_err *err)
{
	size_t want = end - off < IMAP_FETCH_CHUNK ? (size_t)(end - off) :
	              IMAP_FETCH_CHUNK;

	if (f->dec_in == NULL) {
		f->dec_in = rs_xmalloc(IMAP_FETCH_CHUNK);
		f->dec_out = rs_xmalloc(mime_decoder_bound(IMAP_FETCH_CHUNK));
	}
	*got_r = 0;
	if (want == 0)
		return (int64_t)mime_decoder_finish(d, f->dec_out);
	if (store_blob_read(imap_store(s), s->acct.part, f->cur.blob, off,
	                    f->dec_in, want, got_r, err) != 0 || *got_r == 0)
		return -1;
	return (int64_t)mime_decoder_run(d, f->dec_in, *got_r, f->dec_out);
}

/* The decoded size of a big part, by one pass over it. 0 or -1. */
static int
imap_fetch_dec_size(struct imap_session *s, struct imap_fetch *f,
                    const struct imap_fetch_range *r, uint64_t *size_r)
{
	struct mime_decoder d;
	struct rs_err err;
	uint64_t off = r->off, end = r->off + r->len;

	*size_r = 0;
	mime_decoder_init(&d, r->cte);
	rs_err_clear(&err);
	for (;;) {
		size_t got;
		int64_t n = imap_fetch_dec_chunk(s, f, &d, off, end, &got,
		                                 &err);

		if (n < 0)
			return -1;
		*size_r += (uint64_t)n;
		if (got == 0)
			return 0;
		off += got;
	}
}

/* BINARY of a big part: the size first, then a decoding stream. */
static void
imap_fetch_dec_start(struct imap_session *s, struct imap_fetch *f,
                     const struct imap_fetch_item *it,
                     const struct imap_fetch_range *r)
{
	struct evbuffer *out = imap_out(s);
	uint64_t size, off, len;

	if (imap_fetch_dec_size(s, f, r, &size) != 0) {
		imap_fetch_none(out, it);
		return;
	}
	if (it->kind == IMAP_FETCH_BINARY_SIZE) {
		evbuffer_add_printf(out, "%s %" PRIu64, it->name, size);
		return;
	}
	if (it->partial)
		imap_fetch_part_partial(size, it->origin, it->count, &off,
		                        &len);
	else
		off = 0, len = size;
	/* RFC 3516 4.3: literal8, since the octets are not looked at. */
	evbuffer_add_printf(out, "%s ~{%" PRIu64 "}\r\n", it->name, len);
	if (len == 0)
		return;
	mime_decoder_init(&f->dec, r->cte);
	f->dec_on = true;
	f->dec_done = false;
	f->lit_off = r->off;
	f->dec_end = r->off + r->len;
	f->dec_skip = off;
	f->lit_left = len;
}

/* One chunk of a decoding stream. 0, or -1 (session closed). */
static int
imap_fetch_dec_stream(struct imap_session *s, struct imap_fetch *f)
{
	struct rs_err err;
	size_t got = 0, skip, n;
	int64_t made = 0;

	rs_err_clear(&err);
	if (!f->dec_done) {
		made = imap_fetch_dec_chunk(s, f, &f->dec, f->lit_off,
		                            f->dec_end, &got, &err);
		if (made < 0) {
			rs_logc(&s->log, RS_LOG_WARN, "imap.fetch_aborted",
			        "uid=%" PRIu32 " offset=%" PRIu64
			        " error=\"%s\"", f->cur.uid, f->lit_off,
			        err.msg);
			imap_session_close(s, "message-vanished");
			return -1;
		}
		if (got == 0)
			f->dec_done = true;     /* that was the finish */
	}
	f->lit_off += got;
	skip = f->dec_skip < (uint64_t)made ? (size_t)f->dec_skip :
	       (size_t)made;
	f->dec_skip -= skip;
	n = (size_t)made - skip;
	if (n > f->lit_left)
		n = (size_t)f->lit_left;
	evbuffer_add(imap_out(s), f->dec_out + skip, n);
	f->lit_left -= n;
	if (f->lit_left > 0 && f->dec_done) {
		/* The second pass gave fewer octets than the first. */
		imap_session_close(s, "message-changed");
		return -1;
	}
	if (f->lit_left == 0)
		f->dec_on = false;
	return 0;
}

/* BODY[...], BINARY[...], RFC822...: small results go out whole; a plain
 * range is left to imap_fetch_body__stream. */
void
imap_fetch_body__section(struct imap_session *s, struct imap_fetch *f,
                         const struct imap_fetch_item *it)
{
	struct evbuffer *out = imap_out(s);
	struct imap_fetch_range r;
	uint64_t off, len;
	bool decode;

	if (it->section[0] == '\0' && it->spec == IMAP_FETCH_SPEC_NONE &&
	    !it->binary) {
		/* BODY[] is the whole message: no summary needed. */
		memset(&r, 0, sizeof(r));
		r.found = true;
		r.len = f->cur.size;
	} else if (imap_fetch__meta(s, f) != 0 ||
	    imap_fetch_meta_find(&f->cur.fm, it->section, it->spec, &r) != 0 ||
	    !r.found) {
		imap_fetch_none(out, it);
		return;
	}
	decode = it->binary && (r.cte == MIME_CTE_BASE64 ||
	                        r.cte == MIME_CTE_QP);
	if (it->binary && r.cte == MIME_CTE_UNKNOWN) {
		/* RFC 3516 4.2: the tagged NO [UNKNOWN-CTE] follows. */
		f->unknown_cte = true;
		imap_fetch_none(out, it);
		return;
	}
	if (decode && r.len > IMAP_FETCH_DEC_INLINE) {
		imap_fetch_dec_start(s, f, it, &r);
		return;
	}
	if (it->kind == IMAP_FETCH_BINARY_SIZE) {
		if (decode && imap_fetch_load_part(s, f, it, &r) != 0) {
			imap_fetch_none(out, it);
			return;
		}
		evbuffer_add_printf(out, "%s %" PRIu64, it->name,
		                    decode ? (uint64_t)f->scratch.len : r.len);
		return;
	}
	if (r.filter || decode) {
		if (imap_fetch_load_part(s, f, it, &r) != 0) {
			imap_fetch_none(out, it);
			return;
		}
		imap_fetch_mem_literal(out, it, &f->scratch,
		                       it->binary && f->scratch.len > 0 &&
		                       memchr(f->scratch.data, 0,
		                              f->scratch.len) != NULL);
		rs_buf_reset(&f->scratch);
		return;
	}
	if (it->partial)
		imap_fetch_part_partial(r.len, it->origin, it->count, &off,
		                        &len);
	else
		off = 0, len = r.len;
	evbuffer_add_printf(out, "%s %s{%" PRIu64 "}\r\n", it->name,
	                    it->binary && r.cte == MIME_CTE_BINARY ? "~" : "",
	                    len);
	f->lit_off = r.off + off;
	f->lit_left = len;
}

/* One chunk of the literal being streamed. 0, or -1 (session closed). */
static int
imap_fetch_body_plain(struct imap_session *s, struct imap_fetch *f)
{
	struct evbuffer *out = imap_out(s);
	size_t want = f->lit_left < IMAP_FETCH_CHUNK ? (size_t)f->lit_left :
	              IMAP_FETCH_CHUNK, got = 0;
	struct evbuffer_iovec v;
	struct rs_err err;
	int rc;

	if (evbuffer_reserve_space(out, (ev_ssize_t)want, &v, 1) != 1)
		abort();                /* libevent out of memory */
	rs_err_clear(&err);
	rc = store_blob_read(imap_store(s), s->acct.part, f->cur.blob,
	                     f->lit_off, v.iov_base, want, &got, &err);
	if (rc != 0 || got == 0) {
		/* Inside a literal the only honest signal left is closing. */
		rs_logc(&s->log, RS_LOG_WARN, "imap.fetch_aborted",
		        "uid=%" PRIu32 " offset=%" PRIu64 " error=\"%s\"",
		        f->cur.uid, f->lit_off, rc != 0 ? err.msg : "short");
		v.iov_len = 0;
		evbuffer_commit_space(out, &v, 1);
		imap_session_close(s, "message-vanished");
		return -1;
	}
	v.iov_len = got;
	evbuffer_commit_space(out, &v, 1);
	f->lit_off += got;
	f->lit_left -= got;
	return 0;
}

int
imap_fetch_body__stream(struct imap_session *s, struct imap_fetch *f)
{
	return f->dec_on ? imap_fetch_dec_stream(s, f) :
	       imap_fetch_body_plain(s, f);
}
