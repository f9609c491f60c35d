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
#include "node/imap/imap_fetch_int.h"
#include "node/imap/imap_fetch_util.h"
#include "node/imap/imap_seqset.h"
#include "node/imap/imap_string.h"

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

int
imap_fetch__meta(struct imap_session *s, struct imap_fetch *f)
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
		imap_fetch_util_flags_out(out, c->flags,
		                          imap_recent__is(s, c->seq), c->kw,
		                          c->nkw);
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
		if (imap_fetch__meta(s, f) != 0) {
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
		imap_fetch_body__section(s, f, it);
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

/* The flags this FETCH changed (RFC 9051 6.4.5), with the UID under
 * CONDSTORE (RFC 7162 3.1) unless already sent. */
static void
imap_fetch_seen_out(struct imap_session *s, struct imap_fetch *f)
{
	struct evbuffer *out = imap_out(s);

	if (!f->req.has_flags) {
		evbuffer_add(out, " FLAGS ", 7);
		imap_fetch_util_flags_out(out, f->cur.flags,
		                          imap_recent__is(s, f->cur.seq),
		                          f->cur.kw, f->cur.nkw);
	}
	if ((s->enabled & IMAP_EXT_CONDSTORE) != 0 &&
	    !imap_fetch_has(f, IMAP_FETCH_UID))
		evbuffer_add_printf(out, " UID %" PRIu32, f->cur.uid);
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
	/* Once CONDSTORE is on, every FETCH response carries MODSEQ, so
	 * that a client's cache never holds flags without their modseq
	 * (RFC 7162 3.1 asks it for flag changes; the rest is allowed
	 * and costs nothing: the view or the record has it). */
	if ((s->enabled & IMAP_EXT_CONDSTORE) != 0 &&
	    !imap_fetch_has(f, IMAP_FETCH_MODSEQ))
		evbuffer_add_printf(out, " MODSEQ (%" PRIu64 ")",
		                    f->cur.modseq);
	evbuffer_add(out, ")\r\n", 3);
	f->in_msg = false;
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
	/* A keyword the client has not seen in FLAGS: the new list first
	 * (RFC 3501 7.2.6). */
	imap_flags__check(s, f->cur.kw, f->cur.nkw);
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
		if (imap_fetch_body__stream(s, f) != 0)
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
	/* RFC 7162 3.1: FETCH MODSEQ (CHANGEDSINCE implies it) enables
	 * CONDSTORE. */
	if (imap_fetch_has(f, IMAP_FETCH_MODSEQ))
		imap_misc__condstore_on(s);
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
