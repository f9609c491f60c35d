/* imap_recent.c: \Recent for IMAP4rev1 sessions (RFC 3501 2.3.2). A
 * message is recent for the one session that first selects its mailbox
 * read-write after it arrived: that session claims it through the store
 * (store_recent_claim, one write on the writer thread, so no two
 * sessions get the same message), at SELECT and whenever new messages
 * reach its view. EXAMINE claims nothing (RFC 3501 6.3.2): it shows as
 * recent what no session has claimed yet. IMAP4rev2 sessions have no
 * \Recent (RFC 9051) and claim nothing. The view keeps the bit per
 * message (IMAP_VIEW_F_RECENT); imap_view_emit sends RECENT. */
#include <inttypes.h>
#include <stdlib.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_int.h"

struct imap_recent_op {
	struct imap_session *s;       /* holds a reference */
	unsigned             gen;     /* s->view_gen when it started */
	struct store_recent  r;
};

static void
imap_recent_done(void *arg, int rc)
{
	struct imap_recent_op *op = arg;
	struct imap_session *s = op->s;
	struct imap_view *v = s->view;

	if (!imap_session_closed(s) && v != NULL && s->view_gen == op->gen) {
		v->claiming = false;
		if (rc != 0)
			/* Not ours for sure: RFC 3501 2.3.2 prefers recent
			 * when unsure, but a failed store cannot say. */
			rs_logc(&s->log, RS_LOG_WARN, "imap.recent_claim_failed",
			        "error=%s", rs_err_name(rc));
		else if (op->r.first < op->r.upto)
			imap_view_set_recent(v, op->r.first > v->recent_upto ?
			                     op->r.first : v->recent_upto,
			                     op->r.upto);
		if (op->r.upto > v->recent_upto)
			v->recent_upto = op->r.upto;
		imap_session__held_resume(s);
	}
	free(op);
	imap_session_unref(s);
}

/* EXAMINE: recent are the messages no session claimed yet. */
static void
imap_recent_peek(struct imap_session *s, struct imap_view *v)
{
	uint32_t first = v->uidnext;
	struct rs_err err;

	if (store_recent_first(imap_store(s), s->acct, v->mailbox, &first,
	                       &err) != 0)
		rs_logc(&s->log, RS_LOG_WARN, "imap.recent_read_failed",
		        "error=\"%s\"", err.msg);
	imap_view_set_recent(v, first > v->recent_upto ? first :
	                     v->recent_upto, v->uidnext);
	v->recent_upto = v->uidnext;
}

bool
imap_recent__sync(struct imap_session *s)
{
	struct imap_view *v = s->view;
	struct imap_recent_op *op;
	struct rs_err err;
	uint32_t first;

	if (v == NULL || !v->recent_on)
		return false;
	if (v->claiming)
		return true;
	if (v->uidnext <= v->recent_upto)
		return false;
	if (v->readonly) {
		imap_recent_peek(s, v);
		return false;
	}
	/* Marks only go up: when another session claimed all of them
	 * already, no write is needed (most SELECTs: no new mail). */
	rs_err_clear(&err);
	if (store_recent_first(imap_store(s), s->acct, v->mailbox, &first,
	                       &err) == 0 && first >= v->uidnext) {
		v->recent_upto = v->uidnext;
		return false;
	}
	op = rs_xcalloc(1, sizeof(*op));
	op->s = s;
	op->gen = s->view_gen;
	op->r.acct = s->acct;
	op->r.mailbox = v->mailbox;
	op->r.upto = v->uidnext;
	rs_err_clear(&err);
	if (store_recent_claim(imap_store(s), &op->r, imap_exec(s),
	                       imap_recent_done, op, &err) != 0) {
		rs_logc(&s->log, RS_LOG_WARN, "imap.recent_claim_failed",
		        "error=\"%s\"", err.msg);
		v->recent_upto = v->uidnext;
		free(op);
		return false;
	}
	imap_session_ref(s);
	v->claiming = true;
	return true;
}

int
imap_recent__count(struct imap_session *s, const struct store_mailbox *mb,
                   uint32_t *n_r)
{
	struct store_msg_iter *it;
	struct store_msg m;
	struct rs_err err;
	uint32_t first;
	int rc;

	*n_r = 0;
	if (store_recent_first(imap_store(s), s->acct, mb->id, &first,
	                       &err) != 0)
		return -1;
	if (first >= mb->uidnext)
		return 0;
	/* Only the records from the mark on: new mail is few. */
	it = store_msg_iter_open(imap_store(s), s->acct, mb->id, first, 0);
	while ((rc = store_msg_iter_next(it, &m, &err)) == 1)
		(*n_r)++;
	store_msg_iter_free(&it);
	return rc < 0 ? -1 : 0;
}
