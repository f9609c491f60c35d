/* imap_fetch.c: FETCH and UID FETCH (RFC 9051 6.4.5, 6.4.9; RFC 3516
 * BINARY; RFC 7162 CHANGEDSINCE and VANISHED). The response is produced by
 * the session's pump, one message (or one 256 KiB chunk of a body) per
 * call as the client drains its output, so 100,000 messages or a 50 MB
 * body stream in bounded memory. Message records come from one store
 * iterator walked along the set; summaries are read only for the items
 * that need them, bodies only for body items. A non-PEEK body item sets
 * \Seen first, with one store write for the whole set. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_fetch_items.h"
#include "node/imap/imap_fetch_meta.h"
#include "node/imap/imap_fetch_util.h"
#include "node/imap/imap_seqset.h"
#include "node/imap/imap_string.h"
#include "node/mime/mime_decode.h"
#include "node/mime/mime_header.h"

#define IMAP_FETCH_CHUNK      ((size_t)256 * 1024) /* one blob read */
#define IMAP_FETCH_MEM_MAX    ((size_t)32 * 1024 * 1024) /* decoded or
                                                        * filtered part */
#define IMAP_FETCH_DEC_INLINE ((size_t)1024 * 1024) /* bigger: streamed */
#define IMAP_FETCH_ITER_GAP   256u  /* UIDs skipped by walking, not seeking */

/* The message being answered. */
struct imap_fetch_cur {
	uint32_t uid, seq;
	uint32_t flags;
	uint64_t modseq;
	int64_t  internal_date;
	uint64_t size;
	uint8_t  blob[STORE_HASH_LEN];
	const char *kw[STORE_KEYWORDS_MAX]; /* into kwbuf */
	size_t   nkw;
	struct rs_buf kwbuf;          /* owns */
	const uint8_t *meta;          /* borrowed from the iterator */
	size_t   meta_len;
	bool     meta_loaded;
	struct imap_fetch_meta fm;    /* owns */
};

struct imap_fetch {
	struct imap_fetch_req req;    /* owns */
	bool     uid_cmd;
	uint32_t *uids;               /* owns: the set, ascending */
	size_t   n, next;
	uint32_t *seen;               /* owns: UIDs this FETCH set \Seen on */
	size_t   nseen;
	bool     waiting;             /* the \Seen write is in flight */
	/* the record walk */
	struct store_msg_iter *it;    /* owns */
	struct store_msg pend;        /* borrowed from it: read, not used */
	bool     have_pend;
	bool     it_end;
	uint32_t it_pos;              /* the last UID read */
	/* the response */
	bool     in_msg;              /* "* n FETCH (" written */
	size_t   item;                /* next item of the message */
	struct imap_fetch_cur cur;
	uint64_t lit_off, lit_left;   /* a literal being streamed */
	/* BINARY of a big encoded part: decoded as it streams. lit_left
	 * counts decoded octets still to send. */
	bool     dec_on;
	bool     dec_done;            /* the decoder was finished */
	struct mime_decoder dec;
	uint64_t dec_end;             /* the part's end in the message */
	uint64_t dec_skip;            /* decoded octets before the partial */
	uint8_t *dec_in, *dec_out;    /* owns: one chunk each */
	struct rs_buf scratch;        /* owns: filtered or decoded parts */
	bool     unknown_cte;
	bool     failed;
};

static void
imap_fetch_free(struct imap_fetch *f)
{
	imap_fetch_items_free(&f->req);
	free(f->uids);
	free(f->seen);
	store_msg_iter_free(&f->it);
	rs_buf_free(&f->cur.kwbuf);
	imap_fetch_meta_free(&f->cur.fm);
	rs_buf_free(&f->scratch);
	free(f->dec_in);
	free(f->dec_out);
	free(f);
}

static void
imap_fetch_cleanup(struct imap_session *s)
{
	if (s->cmd.state != NULL)
		imap_fetch_free(s->cmd.state);
	s->cmd.state = NULL;
}

/* ---- the record walk ---- */

static void
imap_fetch_take(struct imap_fetch *f, const struct store_msg *m)
{
	struct imap_fetch_cur *c = &f->cur;
	size_t off = 0;

	c->uid = m->uid;
	c->flags = m->flags;
	c->modseq = m->modseq;
	c->internal_date = m->internal_date;
	c->size = m->size;
	memcpy(c->blob, m->blob, sizeof(c->blob));
	rs_buf_reset(&c->kwbuf);
	c->nkw = 0;
	for (size_t i = 0; i < m->nkeywords && i < STORE_KEYWORDS_MAX; i++)
		if (rs_buf_append(&c->kwbuf, m->keywords[i],
		                  strlen(m->keywords[i]) + 1) != 0)
			break;
	while (off < c->kwbuf.len && c->nkw < STORE_KEYWORDS_MAX) {
		c->kw[c->nkw++] = (const char *)c->kwbuf.data + off;
		off += strlen(c->kw[c->nkw - 1]) + 1;
	}
	c->meta = m->meta;
	c->meta_len = m->meta != NULL ? m->meta_len : 0;
	c->meta_loaded = false;
}

/* Finds uid's record: 1 (taken into f->cur), 0 (no such message), -1. */
static int
imap_fetch_record(struct imap_session *s, struct imap_fetch *f, uint32_t uid,
                  struct rs_err *err)
{
	for (;;) {
		int rc;

		/* The set ascends: a record read ahead answers uid. */
		if (f->it != NULL && f->have_pend && f->pend.uid >= uid)
			goto compare;
		/* Seek rather than walk over a long gap of the set. */
		if (f->it == NULL ||
		    uid > (uint64_t)f->it_pos + IMAP_FETCH_ITER_GAP) {
			store_msg_iter_free(&f->it);
			f->it = store_msg_iter_open(imap_store(s), s->acct,
			                            s->view->mailbox, uid,
			                            f->req.need_meta ?
			                            STORE_ITER_META : 0);
			f->have_pend = f->it_end = false;
			f->it_pos = uid;
		}
		if (!f->have_pend) {
			if (f->it_end)
				return 0;
			rc = store_msg_iter_next(f->it, &f->pend, err);
			if (rc < 0)
				return -1;
			if (rc == 0) {
				f->it_end = true;
				return 0;
			}
			f->have_pend = true;
			f->it_pos = f->pend.uid;
		}
compare:
		if (f->pend.uid < uid) {
			f->have_pend = false;
			continue;
		}
		if (f->pend.uid > uid)
			return 0;
		imap_fetch_take(f, &f->pend);
		f->have_pend = false;
		return 1;
	}
}

/* The summary of the current message, loaded on first use. */
static int
imap_fetch_meta(struct imap_session *s, struct imap_fetch *f)
{
	struct imap_fetch_cur *c = &f->cur;
	struct rs_err err;

	if (c->meta_loaded)
		return 0;
	rs_err_clear(&err);
	if (imap_fetch_meta_load(&c->fm, imap_store(s), s->acct.part, c->blob,
	                         c->size, c->meta, c->meta_len, &err) != 0) {
		rs_logc(&s->log, RS_LOG_WARN, "imap.fetch_meta_failed",
		        "uid=%" PRIu32 " error=\"%s\"", c->uid, err.msg);
		return -1;
	}
	c->meta_loaded = true;
	return 0;
}

/* ---- items ---- */

static void
imap_fetch_date(struct evbuffer *out, int64_t t)
{
	char buf[IMAP_STRING_DATETIME_LEN];

	evbuffer_add_printf(out, "INTERNALDATE \"%s\"",
	                    imap_string_datetime(buf, t, 0));
}

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
	evbuffer_add_printf(out, "%s %s{%" PRIu64 "}\r\n", it->name,
	                    lit8 ? "~" : "", len);
	evbuffer_add(out, b->data + off, (size_t)len);
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
		evbuffer_add_printf(out, "%s NIL", it->name);
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
 * range is left to imap_fetch_stream. */
static int
imap_fetch_section(struct imap_session *s, struct imap_fetch *f,
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
	} else if (imap_fetch_meta(s, f) != 0 ||
	    imap_fetch_meta_find(&f->cur.fm, it->section, it->spec, &r) != 0 ||
	    !r.found) {
		evbuffer_add_printf(out, "%s NIL", it->name);
		return 0;
	}
	decode = it->binary && (r.cte == MIME_CTE_BASE64 ||
	                        r.cte == MIME_CTE_QP);
	if (it->binary && r.cte == MIME_CTE_UNKNOWN) {
		/* RFC 3516 4.2: the tagged NO [UNKNOWN-CTE] follows. */
		f->unknown_cte = true;
		evbuffer_add_printf(out, "%s NIL", it->name);
		return 0;
	}
	if (decode && r.len > IMAP_FETCH_DEC_INLINE) {
		imap_fetch_dec_start(s, f, it, &r);
		return 0;
	}
	if (it->kind == IMAP_FETCH_BINARY_SIZE) {
		if (decode && imap_fetch_load_part(s, f, it, &r) != 0) {
			evbuffer_add_printf(out, "%s NIL", it->name);
			return 0;
		}
		evbuffer_add_printf(out, "%s %" PRIu64, it->name,
		                    decode ? (uint64_t)f->scratch.len : r.len);
		return 0;
	}
	if (r.filter || decode) {
		if (imap_fetch_load_part(s, f, it, &r) != 0) {
			evbuffer_add_printf(out, "%s NIL", it->name);
			return 0;
		}
		imap_fetch_mem_literal(out, it, &f->scratch,
		                       it->binary && memchr(f->scratch.data, 0,
		                       f->scratch.len) != NULL);
		rs_buf_reset(&f->scratch);
		return 0;
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
	return 0;
}

static void
imap_fetch_item(struct imap_session *s, struct imap_fetch *f,
                const struct imap_fetch_item *it)
{
	struct evbuffer *out = imap_out(s);
	struct imap_fetch_cur *c = &f->cur;
	struct rs_str t;

	switch (it->kind) {
	case IMAP_FETCH_FLAGS:
		evbuffer_add(out, "FLAGS ", 6);
		imap_fetch_util_flags_out(out, c->flags, c->kw, c->nkw);
		break;
	case IMAP_FETCH_UID:
		evbuffer_add_printf(out, "UID %" PRIu32, c->uid);
		break;
	case IMAP_FETCH_MODSEQ:
		evbuffer_add_printf(out, "MODSEQ (%" PRIu64 ")", c->modseq);
		break;
	case IMAP_FETCH_INTERNALDATE:
		imap_fetch_date(out, c->internal_date);
		break;
	case IMAP_FETCH_SIZE:
		evbuffer_add_printf(out, "RFC822.SIZE %" PRIu64, c->size);
		break;
	case IMAP_FETCH_ENVELOPE:
	case IMAP_FETCH_BODY:
	case IMAP_FETCH_BODYSTRUCTURE:
		if (imap_fetch_meta(s, f) != 0) {
			evbuffer_add_printf(out, "%s NIL", it->name);
			break;
		}
		t = it->kind == IMAP_FETCH_ENVELOPE ?
		    imap_fetch_meta_envelope(&c->fm) :
		    imap_fetch_meta_structure(&c->fm,
		                              it->kind == IMAP_FETCH_BODYSTRUCTURE);
		evbuffer_add_printf(out, "%s ", it->name);
		evbuffer_add(out, t.p, t.len);
		break;
	case IMAP_FETCH_SECTION:
	case IMAP_FETCH_BINARY_SIZE:
		(void)imap_fetch_section(s, f, it);
		break;
	}
}

/* True if the request has an item of kind k. */
static bool
imap_fetch_has(const struct imap_fetch *f, enum imap_fetch_kind k)
{
	for (size_t i = 0; i < f->req.n; i++)
		if (f->req.items[i].kind == k)
			return true;
	return false;
}

/* The flags this FETCH changed, with the modseq under CONDSTORE and the
 * UID under QRESYNC (RFC 7162 3.1.4, 3.2.4) unless already sent. */
static void
imap_fetch_seen_out(struct imap_session *s, struct imap_fetch *f)
{
	struct evbuffer *out = imap_out(s);

	if (!f->req.has_flags) {
		evbuffer_add(out, " FLAGS ", 7);
		imap_fetch_util_flags_out(out, f->cur.flags, f->cur.kw,
		                          f->cur.nkw);
	}
	if ((s->enabled & IMAP_EXT_QRESYNC) != 0 &&
	    !imap_fetch_has(f, IMAP_FETCH_UID))
		evbuffer_add_printf(out, " UID %" PRIu32, f->cur.uid);
	if ((s->enabled & IMAP_EXT_CONDSTORE) != 0 &&
	    !imap_fetch_has(f, IMAP_FETCH_MODSEQ))
		evbuffer_add_printf(out, " MODSEQ (%" PRIu64 ")",
		                    f->cur.modseq);
}

/* Writes the current message's items from f->item on; stops after an
 * item that left a literal to stream. */
static void
imap_fetch_items_out(struct imap_session *s, struct imap_fetch *f)
{
	struct evbuffer *out = imap_out(s);

	while (f->item < f->req.n) {
		const struct imap_fetch_item *it = &f->req.items[f->item];

		if (f->item++ > 0)
			evbuffer_add(out, " ", 1);
		imap_fetch_item(s, f, it);
		if (f->lit_left > 0)
			return;
	}
	/* RFC 9051 6.4.5: a \Seen this FETCH set is reported. */
	if (f->nseen > 0 &&
	    imap_fetch_util_has(f->seen, f->nseen, f->cur.uid))
		imap_fetch_seen_out(s, f);
	evbuffer_add(out, ")\r\n", 3);
	f->in_msg = false;
}

/* One chunk of the literal being streamed. 0, or -1 (session closed). */
static int
imap_fetch_stream(struct imap_session *s, struct imap_fetch *f)
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

/* Starts the next message of the set: 0 (written or skipped), -1. */
static int
imap_fetch_next_msg(struct imap_session *s, struct imap_fetch *f)
{
	uint32_t uid = f->uids[f->next++];
	uint32_t seq = imap_view_seq(s->view, uid);
	struct rs_err err;
	int rc;

	if (seq == 0)
		return 0;
	if (f->req.need_record || f->req.changedsince_set) {
		rs_err_clear(&err);
		rc = imap_fetch_record(s, f, uid, &err);
		if (rc < 0) {
			rs_logc(&s->log, RS_LOG_WARN, "imap.fetch_failed",
			        "uid=%" PRIu32 " error=\"%s\"", uid, err.msg);
			f->failed = true;
			return -1;
		}
		if (rc == 0)
			return 0;       /* expunged meanwhile: RFC 9051 7.5.1 */
	} else {
		/* UID and MODSEQ only: the view knows them. */
		f->cur.uid = uid;
		f->cur.flags = s->view->flags[seq - 1] & IMAP_VIEW_SYSFLAGS;
		f->cur.modseq = s->view->modseqs[seq - 1];
	}
	if (f->req.changedsince_set && f->cur.modseq <= f->req.changedsince)
		return 0;
	f->cur.seq = seq;
	evbuffer_add_printf(imap_out(s), "* %" PRIu32 " FETCH (", seq);
	f->in_msg = true;
	f->item = 0;
	return 0;
}

static int
imap_fetch_pump(struct imap_session *s)
{
	struct imap_fetch *f = s->cmd.state;

	if (f->waiting)
		return IMAP_PUMP_WAIT;
	if (f->lit_left > 0) {
		if ((f->dec_on ? imap_fetch_dec_stream(s, f) :
		     imap_fetch_stream(s, f)) != 0)
			return IMAP_PUMP_WAIT;  /* closed */
		if (f->lit_left == 0)
			imap_fetch_items_out(s, f);
		return IMAP_PUMP_MORE;
	}
	/* A batch of small messages per call. */
	for (unsigned k = 0; k < 64 && f->lit_left == 0 &&
	     evbuffer_get_length(imap_out(s)) < IMAP_OUT_LOW; k++) {
		if (f->in_msg) {
			imap_fetch_items_out(s, f);
			continue;
		}
		if (f->failed || f->next == f->n) {
			if (f->failed)
				imap_reply(s, IMAP_NO, "[SERVERBUG] FETCH failed");
			else if (f->unknown_cte)
				imap_reply(s, IMAP_NO, "[UNKNOWN-CTE] Cannot "
				           "decode a part");
			else
				imap_reply(s, IMAP_OK, "%sFETCH completed",
				           f->uid_cmd ? "UID " : "");
			return IMAP_PUMP_DONE;
		}
		(void)imap_fetch_next_msg(s, f);
	}
	return IMAP_PUMP_MORE;
}

/* ---- implicit \Seen (RFC 9051 6.4.5) ---- */

struct imap_fetch_seen_op {
	struct imap_session *s;       /* holds a reference */
	struct store_flags   f;       /* owns the results */
};

static void
imap_fetch_seen_done(void *arg, int rc)
{
	struct imap_fetch_seen_op *op = arg;
	struct imap_session *s = op->s;

	if (!imap_session_closed(s) && s->cmd.state != NULL) {
		struct imap_fetch *f = s->cmd.state;

		if (rc != 0)
			rs_logc(&s->log, RS_LOG_WARN, "imap.fetch_seen_failed",
			        "rc=%s", rs_err_name(rc));
		f->seen = rs_xreallocarray(NULL, op->f.nitems + 1,
		                           sizeof(*f->seen));
		for (size_t i = 0; rc == 0 && i < op->f.nitems; i++)
			if (op->f.items[i].status == STORE_FLAGS_CHANGED) {
				f->seen[f->nseen++] = op->f.items[i].uid;
				imap_fetch_util_view_note(s,
				        op->f.items[i].uid,
				        op->f.items[i].flags,
				        op->f.items[i].modseq);
			}
		f->waiting = false;
		imap_cmd_pump(s);
	}
	store_flags_free(&op->f);
	free(op);
	imap_session_unref(s);
}

/* Queues \Seen on the set's unseen messages; true if f must wait. */
static bool
imap_fetch_seen(struct imap_session *s, struct imap_fetch *f)
{
	struct imap_fetch_seen_op *op;
	uint32_t *uids;
	struct rs_err err;
	size_t n = 0;
	int rc;

	if (!f->req.set_seen || s->view->readonly || f->n == 0)
		return false;
	uids = rs_xreallocarray(NULL, f->n, sizeof(*uids));
	for (size_t i = 0; i < f->n; i++) {
		uint32_t seq = imap_view_seq(s->view, f->uids[i]);

		if (seq != 0 && (s->view->flags[seq - 1] &
		                 (STORE_FLAG_SEEN | IMAP_VIEW_F_EXPUNGED)) == 0)
			uids[n++] = f->uids[i];
	}
	if (n == 0) {
		free(uids);
		return false;
	}
	op = rs_xcalloc(1, sizeof(*op));
	op->s = s;
	op->f.acct = s->acct;
	op->f.mailbox = s->view->mailbox;
	op->f.uids = uids;
	op->f.n = n;
	op->f.op = STORE_FLAGS_ADD;
	op->f.flags = STORE_FLAG_SEEN;
	rs_err_clear(&err);
	rc = store_flags_update(imap_store(s), &op->f, imap_exec(s),
	                        imap_fetch_seen_done, op, &err);
	op->f.uids = NULL;
	free(uids);
	if (rc != 0) {
		rs_logc(&s->log, RS_LOG_WARN, "imap.fetch_seen_failed",
		        "error=\"%s\"", err.msg);
		free(op);
		return false;
	}
	imap_session_ref(s);
	return true;
}

/* ---- the command ---- */

/* RFC 7162 3.2.6: "* VANISHED (EARLIER) uids" expunged since the
 * client's modseq, within the set. */
static void
imap_fetch_vanished(struct imap_session *s, const struct imap_fetch *f,
                    const struct imap_arg *arg_set)
{
	struct imap_seqset set;
	uint32_t *gone = NULL;
	size_t ngone = 0, k = 0;
	bool complete;
	struct rs_err err;

	rs_err_clear(&err);
	if (imap_seqset_parse(arg_set->str, 0, &set, &err) != 0 ||
	    store_mailbox_vanished(imap_store(s), s->acct, s->view->mailbox,
	                           f->req.changedsince, &gone, &ngone,
	                           &complete, &err) != 0) {
		imap_seqset_free(&set);
		return;
	}
	/* "*" counts as the largest UID: all that vanished above. */
	for (size_t i = 0; i < ngone; i++)
		if (imap_seqset_contains(&set, gone[i]))
			gone[k++] = gone[i];
	if (k > 0) {
		evbuffer_add_printf(imap_out(s), "* VANISHED (EARLIER) ");
		imap_fetch_util_uidset(imap_out(s), gone, k);
		evbuffer_add(imap_out(s), "\r\n", 2);
	}
	free(gone);
	imap_seqset_free(&set);
}

int
imap_fetch__run(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct imap_fetch *f;
	const char *why;

	if (cmd->nargs < 2) {
		imap_reply(s, IMAP_BAD, "FETCH takes a set and items");
		return IMAP_RUN_DONE;
	}
	f = rs_xcalloc(1, sizeof(*f));
	f->uid_cmd = cmd->uid;
	imap_fetch_meta_init(&f->cur.fm);
	rs_buf_init(&f->cur.kwbuf, RS_BUF_UNLIMITED);
	rs_buf_init(&f->scratch, IMAP_FETCH_MEM_MAX);
	if (imap_fetch_items_parse(cmd->args + 1, cmd->nargs - 1, cmd->uid,
	                           &f->req, &why) != 0) {
		imap_reply(s, IMAP_BAD, "%s", why);
		goto fail;
	}
	/* RFC 7162 3.2.6: VANISHED only in UID FETCH under QRESYNC. */
	if (f->req.vanished && (!cmd->uid ||
	                        (s->enabled & IMAP_EXT_QRESYNC) == 0)) {
		imap_reply(s, IMAP_BAD, "VANISHED needs UID FETCH and QRESYNC");
		goto fail;
	}
	if (f->req.changedsince_set)
		s->enabled |= IMAP_EXT_CONDSTORE;  /* RFC 7162 3.1 */
	if (imap_fetch_util_set(s, &cmd->args[0], cmd->uid, &f->uids,
	                        &f->n) != 0)
		goto fail;
	if (f->req.vanished)
		imap_fetch_vanished(s, f, &cmd->args[0]);
	s->cmd.state = f;
	s->cmd.cleanup = imap_fetch_cleanup;
	f->waiting = imap_fetch_seen(s, f);
	/* A response that fits in the output now is finished here: a
	 * stream is only for what must wait for the client to read. */
	while (!f->waiting &&
	       evbuffer_get_length(imap_out(s)) < IMAP_OUT_LOW) {
		int rc = imap_fetch_pump(s);

		if (rc == IMAP_PUMP_DONE || imap_session_closed(s))
			return IMAP_RUN_DONE;
	}
	imap_cmd_stream(s, imap_fetch_pump);
	return IMAP_RUN_ASYNC;
fail:
	imap_fetch_free(f);
	return IMAP_RUN_DONE;
}
