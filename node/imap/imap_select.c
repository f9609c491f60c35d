/* imap_select.c: the selected state's life: SELECT and EXAMINE (RFC 9051
 * 6.3.2-6.3.3, with RFC 7162's CONDSTORE and QRESYNC parameters), CLOSE,
 * UNSELECT (RFC 3691), CHECK and IDLE (RFC 2177), and the store side of
 * the view: refreshing it from the change log when notify says the
 * account changed, and sending the updates a command allows. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/rs_mem.h"
#include "node/core/node_ctx.h"
#include "node/imap/imap_int.h"
#include "node/imap/imap_seqset.h"
#include "node/notify/notify.h"

#define IMAP_CHANGES_BATCH 256

/* Writes " kw" for each keyword of message uid (FETCH FLAGS). */
static void
imap_select_keywords(void *arg, uint32_t uid, struct evbuffer *out)
{
	struct imap_session *s = arg;
	struct store_msg m;
	struct store_msg_buf buf = { 0 };
	struct rs_err err;

	if (store_msg_get(imap_store(s), s->acct, s->view->mailbox, uid, &m,
	                  &buf, &err) == 0) {
		imap_flags__check(s, m.keywords, m.nkeywords);
		for (size_t i = 0; i < m.nkeywords; i++)
			evbuffer_add_printf(out, " %s", m.keywords[i]);
	}
	store_msg_buf_free(&buf);
}

/* The view update for one change: the message's state now. */
static void
imap_select_change(struct imap_session *s, const struct store_change *c,
                   struct imap_view_update *u)
{
	struct store_msg m;
	struct store_msg_buf buf = { 0 };
	struct rs_err err;

	memset(u, 0, sizeof(*u));
	u->uid = c->uid;
	u->modseq = c->modseq;
	if (c->kind == STORE_CHANGE_EXPUNGE) {
		u->expunged = true;
		return;
	}
	if (store_msg_get(imap_store(s), s->acct, s->view->mailbox, c->uid, &m,
	                  &buf, &err) != 0) {
		/* Gone since: its EXPUNGE entry follows. */
		u->expunged = true;
	} else {
		u->flags = m.flags;
		u->modseq = m.modseq;
	}
	store_msg_buf_free(&buf);
}

/* Many changes at once (a STORE 1:* elsewhere): one pass over the
 * mailbox's records for what changed, and the expunged UIDs, instead of a
 * lookup per change. */
static int
imap_select_refresh_bulk(struct imap_session *s, struct rs_err *err)
{
	struct imap_view *v = s->view;
	struct store_index ix = { 0 };
	struct imap_view_update *up;
	uint32_t *gone = NULL;
	size_t ngone = 0, nu = 0;
	bool complete = false;

	if (store_mailbox_vanished(imap_store(s), s->acct, v->mailbox,
	                           v->modseq, &gone, &ngone, &complete,
	                           err) != 0)
		return -1;
	/* With the log trimmed past the view, what is gone is found by
	 * comparing the view with the whole index instead. */
	if (store_mailbox_index(imap_store(s), s->acct, v->mailbox,
	                        complete ? v->modseq : 0, &ix, err) != 0) {
		free(gone);
		store_index_free(&ix);
		return -1;
	}
	up = rs_xreallocarray(NULL, (complete ? ngone : v->n) + ix.n + 1,
	                      sizeof(*up));
	if (complete) {
		for (size_t i = 0; i < ngone; i++)
			up[nu++] = (struct imap_view_update){
				.uid = gone[i], .expunged = true };
	} else {
		size_t j = 0;

		for (uint32_t i = 0; i < v->n; i++) {
			while (j < ix.n && ix.v[j].uid < v->uids[i])
				j++;
			if (j == ix.n || ix.v[j].uid != v->uids[i])
				up[nu++] = (struct imap_view_update){
					.uid = v->uids[i], .expunged = true };
		}
	}
	for (size_t i = 0; i < ix.n; i++)
		if (ix.v[i].modseq > v->modseq)
			up[nu++] = (struct imap_view_update){
				.uid = ix.v[i].uid, .flags = ix.v[i].flags,
				.modseq = ix.v[i].modseq };
	imap_view_update(v, up, nu, ix.mb.highestmodseq);
	free(up);
	free(gone);
	store_index_free(&ix);
	return 0;
}

int
imap_view_refresh(struct imap_session *s, struct rs_err *err)
{
	struct imap_view *v = s->view;
	struct store_change ch[IMAP_CHANGES_BATCH];
	struct imap_view_update up[IMAP_CHANGES_BATCH];
	struct store_account_info ai;
	size_t n = 0, nu = 0;
	int rc;

	if (v == NULL || !v->stale)
		return 0;
	/* A deleted account has no state: its mailbox is found gone below. */
	rc = store_account_get(imap_store(s), s->acct, &ai, err);
	if (rc == RS_ENOTFOUND)
		ai.changes_floor = 0;
	else if (rc != 0)
		return -1;
	if (store_mailbox_changes(imap_store(s), s->acct, v->mailbox,
	                          v->modseq, ch, IMAP_CHANGES_BATCH, &n,
	                          err) != 0)
		return -1;
	/* Many changes, or a log trimmed past the view (a session selected
	 * for long in a busy account): compare with the index. */
	if (n == IMAP_CHANGES_BATCH || ai.changes_floor > v->modseq) {
		if (imap_select_refresh_bulk(s, err) != 0)
			return -1;
		v->stale = false;
		return 0;
	}
	if (n == 0) {
		/* Something else of the account changed. A deleted mailbox
		 * loses its log with it, so look for the mailbox itself; a
		 * rename keeps its id and the view goes on serving it. */
		struct store_mailbox mb;

		rc = store_mailbox_get(imap_store(s), s->acct, v->mailbox, &mb,
		                       err);
		if (rc == RS_ENOTFOUND) {
			v->gone = true;
			return 0;
		}
		if (rc != 0)
			return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (ch[i].kind != STORE_CHANGE_MAILBOX)
			imap_select_change(s, &ch[i], &up[nu++]);
	imap_view_update(v, up, nu, n > 0 ? ch[n - 1].modseq : v->modseq);
	v->stale = false;
	return 0;
}

void
imap_view_sync(struct imap_session *s, bool allow_expunge)
{
	struct imap_view_emit_opts o = {
		.allow_expunge = allow_expunge,
		.vanished = (s->enabled & IMAP_EXT_QRESYNC) != 0,
		.modseq = (s->enabled & IMAP_EXT_CONDSTORE) != 0,
		.keywords = imap_select_keywords,
		.keywords_arg = s,
	};
	struct rs_err err;

	if (s->state != IMAP_STATE_SELECTED || s->view == NULL)
		return;
	rs_err_clear(&err);
	if (imap_view_refresh(s, &err) != 0)
		rs_logc(&s->log, RS_LOG_WARN, "imap.view_refresh_failed",
		        "error=\"%s\"", err.msg);
	/* As Dovecot does: the client reconnects and sees the new list. */
	if (s->view->gone) {
		imap_session_bye(s, "mailbox_deleted",
		                 "Selected mailbox was deleted");
		return;
	}
	(void)imap_view_emit(s->view, &o, imap_out(s));
}

/* notify: a commit changed the account. */
static void
imap_select_on_notify(void *arg, struct store_acct a, uint64_t modseq)
{
	struct imap_session *s = arg;

	(void)a;
	(void)modseq;
	if (imap_session_closed(s) || s->view == NULL)
		return;
	s->view->stale = true;
	/* RFC 2177: during IDLE, updates go out as they happen. */
	if (s->io == IMAP_IO_IDLE)
		imap_view_sync(s, true);
}

void
imap_select__close(struct imap_session *s)
{
	imap_view_free(&s->view);
	imap_seqset_free(&s->saved);
	if (s->state == IMAP_STATE_SELECTED)
		s->state = IMAP_STATE_AUTH;
}

/* QRESYNC's parameter (RFC 7162 3.2.5): (uidvalidity modseq
 * [known-uids [seq-match]]). */
struct imap_select_qresync {
	bool        on;
	uint32_t    uidvalidity;
	uint64_t    modseq;
	bool        has_known;        /* known-uids was given */
	struct imap_seqset known;     /* owns: known-uids */
	uint32_t   *mseq, *muid;      /* owns: seq-match-data pairs */
	size_t      nmatch;
};

/* Most seq-match pairs taken: clients send a few dozen (RFC 7162 3.2.5.2
 * suggests exponentially spaced samples). */
#define IMAP_SELECT_MATCH_MAX 1024

static void
imap_select_qresync_free(struct imap_select_qresync *q)
{
	imap_seqset_free(&q->known);
	free(q->mseq);
	free(q->muid);
}

static bool
imap_select_num(const struct imap_arg *a, uint64_t max, uint64_t *v_r)
{
	return a->type == IMAP_ARG_ATOM &&
	       rs_str_to_u64(a->str, max, v_r) == 0;
}

/* Reads SELECT's parameter list: 0, or -1 (BAD sent). */
static int
imap_select_params(struct imap_session *s, const struct imap_arg *l,
                   struct imap_select_qresync *q)
{
	const struct imap_arg *a = l + 1;
	struct rs_err err;

	for (uint32_t i = 0; i < l->nchildren; i++, a = imap_arg_next(a)) {
		const struct imap_arg *p, *x;
		uint64_t v;

		if (imap_arg_is_atom(a, "CONDSTORE")) {
			/* RFC 7162 3.1.8: enables CONDSTORE. */
			s->enabled |= IMAP_EXT_CONDSTORE;
			continue;
		}
		if (!imap_arg_is_atom(a, "QRESYNC") || i + 1 >= l->nchildren ||
		    (s->enabled & IMAP_EXT_QRESYNC) == 0 || q->on)
			goto bad;
		p = imap_arg_next(a);
		i++;
		if (p->type != IMAP_ARG_LIST || p->nchildren < 2 ||
		    p->nchildren > 4)
			goto bad;
		x = p + 1;
		if (!imap_select_num(x, UINT32_MAX, &v) || v == 0)
			goto bad;
		q->uidvalidity = (uint32_t)v;
		x = imap_arg_next(x);
		if (!imap_select_num(x, INT64_MAX, &q->modseq))
			goto bad;
		if (p->nchildren >= 3) {
			x = imap_arg_next(x);
			if (x->type != IMAP_ARG_ATOM ||
			    imap_seqset_parse(x->str, 0, &q->known, &err) != 0 ||
			    q->known.saved)
				goto bad;
			q->has_known = true;
		}
		if (p->nchildren == 4) {
			const struct imap_arg *m = imap_arg_next(x);

			if (m->type != IMAP_ARG_LIST || m->nchildren != 2 ||
			    m[1].type != IMAP_ARG_ATOM ||
			    imap_arg_next(m + 1)->type != IMAP_ARG_ATOM ||
			    imap_seqset_match_pairs(
			        m[1].str, imap_arg_next(m + 1)->str,
			        IMAP_SELECT_MATCH_MAX, &q->mseq, &q->muid,
			        &q->nmatch, &err) != 0)
				goto bad;
		}
		q->on = true;
		a = p;
	}
	return 0;
bad:
	imap_reply(s, IMAP_BAD, "Invalid SELECT parameters");
	return -1;
}

/* Writes "* VANISHED (EARLIER) set" from ascending uids. */
static void
imap_select_write_vanished(struct imap_session *s, const uint32_t *uids,
                           size_t n)
{
	struct rs_buf b;

	if (n == 0)
		return;
	rs_buf_init(&b, RS_BUF_UNLIMITED);
	if (imap_seqset_format_uids(&b, uids, n) == 0)
		imap_untagged(s, "VANISHED (EARLIER) %s", (const char *)b.data);
	rs_buf_free(&b);
}

/* The lowest UID that can have vanished, from seq-match-data: if the
 * client's message number s was UID u and still is, no message below u
 * that the client knew is gone (numbers are dense and new messages only
 * come above), whatever the other pairs say. */
static uint32_t
imap_select_match_floor(const struct imap_view *v,
                        const struct imap_select_qresync *q)
{
	uint32_t lo = 1;

	for (size_t i = 0; i < q->nmatch; i++)
		if (q->muid[i] >= lo && imap_view_seq(v, q->muid[i]) == q->mseq[i])
			lo = q->muid[i] + 1;
	return lo;
}

/* Appends "lo" or "lo:hi" to a comma-separated set. 0 or RS_ETOOBIG. */
static int
imap_select_range(struct rs_buf *b, uint32_t lo, uint32_t hi)
{
	if (lo == hi)
		return rs_buf_printf(b, "%s%" PRIu32, b->len > 0 ? "," : "",
		                     lo);
	return rs_buf_printf(b, "%s%" PRIu32 ":%" PRIu32,
	                     b->len > 0 ? "," : "", lo, hi);
}

/* Appends [lo, hi] intersected with the known-uids set (if any). Gaps
 * come in ascending order: *ki skips the known ranges left behind. */
static int
imap_select_gap(struct rs_buf *b, const struct imap_select_qresync *q,
                size_t *ki, uint32_t lo, uint32_t hi)
{
	if (!q->has_known)
		return imap_select_range(b, lo, hi);
	while (*ki < q->known.n && q->known.r[*ki].hi < lo)
		(*ki)++;
	for (size_t i = *ki; i < q->known.n && q->known.r[i].lo <= hi; i++) {
		uint32_t a = q->known.r[i].lo > lo ? q->known.r[i].lo : lo;
		uint32_t z = q->known.r[i].hi < hi ? q->known.r[i].hi : hi;

		if (imap_select_range(b, a, z) != 0)
			return -1;
	}
	return 0;
}

/* The change log no longer reaches back to the client's modseq: every
 * UID below UIDNEXT that is not here may have vanished. Sent as the gaps
 * between the messages present (so its size follows the mailbox, not
 * UIDNEXT), narrowed by known-uids and seq-match-data. */
static void
imap_select_vanished_gaps(struct imap_session *s,
                          const struct imap_select_qresync *q)
{
	const struct imap_view *v = s->view;
	uint32_t lo = imap_select_match_floor(v, q);
	size_t ki = 0;
	struct rs_buf b;

	rs_buf_init(&b, RS_BUF_UNLIMITED);
	for (uint32_t i = 0; i <= v->n; i++) {
		uint32_t next = i < v->n ? v->uids[i] : v->uidnext;

		if (next > lo && imap_select_gap(&b, q, &ki, lo, next - 1) != 0)
			break;
		if (next >= lo)
			lo = next + 1;
		if (lo == 0)            /* wrapped past UINT32_MAX */
			break;
	}
	if (b.len > 0)
		imap_untagged(s, "VANISHED (EARLIER) %s", (const char *)b.data);
	rs_buf_free(&b);
}

/* RFC 7162 3.2.5.2: what vanished since the client's modseq, then FETCH
 * for what changed (through the view's DIRTY marks). */
static void
imap_select_qresync(struct imap_session *s, const struct imap_select_qresync *q)
{
	struct imap_view *v = s->view;
	uint32_t *uids = NULL;
	size_t n = 0;
	bool complete = false;
	struct rs_err err;

	if (q->uidvalidity != v->uidvalidity)
		return;                 /* the client resynchronises fully */
	if (store_mailbox_vanished(imap_store(s), s->acct, v->mailbox,
	                           q->modseq, &uids, &n, &complete,
	                           &err) != 0) {
		rs_logc(&s->log, RS_LOG_WARN, "imap.qresync_failed",
		        "error=\"%s\"", err.msg);
		return;
	}
	if (!complete) {
		free(uids);
		imap_select_vanished_gaps(s, q);
		uids = NULL;
		n = 0;
	} else if (q->has_known) {
		size_t w = 0;

		for (size_t i = 0; i < n; i++)
			if (imap_seqset_contains(&q->known, uids[i]))
				uids[w++] = uids[i];
		n = w;
	}
	imap_select_write_vanished(s, uids, n);
	free(uids);
	for (uint32_t i = 0; i < v->n; i++)
		if (v->modseqs[i] > q->modseq) {
			v->flags[i] |= IMAP_VIEW_F_DIRTY;
			v->ndirty++;
		}
	imap_view_sync(s, true);
}

/* Fills a fresh view from the store. 0, or -1 after a NO. */
static int
imap_select_load(struct imap_session *s, const char *name, bool readonly,
                 struct store_mailbox *mb_r)
{
	struct store_mailbox mb;
	struct store_index ix = { 0 };
	struct rs_err err;
	struct imap_view *v;
	int rc;

	rc = store_mailbox_find(imap_store(s), s->acct, name, &mb, &err);
	if (rc == 0)
		rc = store_mailbox_index(imap_store(s), s->acct, mb.id, 0, &ix,
		                         &err);
	if (rc != 0) {
		store_index_free(&ix);
		if (rc == RS_ENOTFOUND || err.code == RS_ENOTFOUND) {
			imap_reply(s, IMAP_NO, "[NONEXISTENT] No such mailbox");
			return -1;
		}
		rs_logc(&s->log, RS_LOG_WARN, "imap.select_failed",
		        "error=\"%s\"", err.msg);
		imap_reply(s, IMAP_NO, "[SERVERBUG] Cannot open the mailbox");
		return -1;
	}
	v = imap_view_new(s->acct, ix.mb.id, ix.n);
	v->uidvalidity = ix.mb.uidvalidity;
	for (size_t i = 0; i < ix.n; i++)
		imap_view_add_known(v, ix.v[i].uid, ix.v[i].flags,
		                    ix.v[i].modseq);
	if (ix.mb.uidnext > v->uidnext)
		v->uidnext = ix.mb.uidnext;
	v->modseq = ix.mb.highestmodseq;
	v->readonly = readonly;
	*mb_r = ix.mb;
	store_index_free(&ix);
	v->sub = notify_subscribe(s->srv->node->notify, s->acct,
	                          imap_select_on_notify, s);
	s->view = v;
	s->state = IMAP_STATE_SELECTED;
	return 0;
}

/* RFC 3501 7.3.1 [UNSEEN n]: the first unseen message (IMAP4rev1). */
static uint32_t
imap_select_first_unseen(const struct imap_view *v)
{
	for (uint32_t i = 0; i < v->n; i++)
		if ((v->flags[i] & STORE_FLAG_SEEN) == 0)
			return i + 1;
	return 0;
}

static void
imap_select_untagged(struct imap_session *s, const struct store_mailbox *mb)
{
	struct imap_view *v = s->view;
	bool rev2 = (s->enabled & IMAP_EXT_REV2) != 0;
	uint32_t unseen;

	imap_flags__announce(s);
	imap_untagged(s, "%" PRIu32 " EXISTS", v->n);
	if (!rev2)
		imap_untagged(s, "0 RECENT");
	imap_untagged(s, "OK [UIDVALIDITY %" PRIu32 "] UIDs valid",
	              v->uidvalidity);
	imap_untagged(s, "OK [UIDNEXT %" PRIu32 "] Predicted next UID",
	              v->uidnext);
	/* RFC 7162 3.1.2.1: always, so CONDSTORE clients can resync. */
	imap_untagged(s, "OK [HIGHESTMODSEQ %" PRIu64 "] Highest",
	              mb->highestmodseq > v->modseq ? mb->highestmodseq
	              : v->modseq > 0 ? v->modseq : 1);
	if (!rev2 && (unseen = imap_select_first_unseen(v)) != 0)
		imap_untagged(s, "OK [UNSEEN %" PRIu32 "] First unseen", unseen);
	if (rev2) {
		/* RFC 9051 6.3.2: a LIST response with the name. */
		evbuffer_add_printf(imap_out(s), "* LIST () \"/\" ");
		imap_mailbox_name_out(s, imap_out(s), mb->name);
		evbuffer_add(imap_out(s), "\r\n", 2);
	}
}

static int
imap_select_run(struct imap_session *s, const struct imap_cmd *cmd,
                bool readonly)
{
	struct imap_select_qresync q = { 0 };
	struct store_mailbox mb;
	char name[STORE_MAILBOX_NAME_MAX + 1];
	const struct imap_arg *a = cmd->args;
	int rc;

	if (cmd->nargs < 1 || cmd->nargs > 2 ||
	    (rc = imap_mailbox_name_in(s, a, name, sizeof(name))) ==
	    IMAP_NAME_NOT_ASTRING ||
	    (cmd->nargs == 2 && imap_arg_next(a)->type != IMAP_ARG_LIST)) {
		imap_reply(s, IMAP_BAD, "Invalid mailbox name or parameters");
		return IMAP_RUN_DONE;
	}
	if (s->state == IMAP_STATE_SELECTED) {
		/* RFC 9051 6.3.2 (RFC 7162 3.2.11): the old one closes
		 * without expunging, and says so. */
		imap_select__close(s);
		imap_untagged(s, "OK [CLOSED] Previous mailbox closed");
	}
	if (rc != 0) {
		/* An astring that no mailbox can be named. */
		imap_reply(s, IMAP_NO, "[NONEXISTENT] No such mailbox");
		return IMAP_RUN_DONE;
	}
	if ((cmd->nargs == 2 &&
	     imap_select_params(s, imap_arg_next(a), &q) != 0) ||
	    imap_select_load(s, name, readonly, &mb) != 0) {
		imap_select_qresync_free(&q);
		return IMAP_RUN_DONE;
	}
	imap_select_untagged(s, &mb);
	if (q.on)
		imap_select_qresync(s, &q);
	imap_select_qresync_free(&q);
	imap_reply(s, IMAP_OK, "[%s] %s completed",
	           readonly ? "READ-ONLY" : "READ-WRITE",
	           readonly ? "EXAMINE" : "SELECT");
	return IMAP_RUN_DONE;
}

int
imap_select__select(struct imap_session *s, const struct imap_cmd *cmd)
{
	return imap_select_run(s, cmd, false);
}

int
imap_select__examine(struct imap_session *s, const struct imap_cmd *cmd)
{
	return imap_select_run(s, cmd, true);
}

/* CLOSE's expunge committed (or failed: RFC 9051 6.4.1 still closes). */
static void
imap_select_close_done(void *arg, int rc)
{
	struct imap_session *s = arg;

	if (imap_session_closed(s)) {
		imap_session_unref(s);
		return;
	}
	if (rc != 0)
		rs_logc(&s->log, RS_LOG_WARN, "imap.close_expunge_failed",
		        "error=%s", rs_err_name(rc));
	imap_select__close(s);
	imap_reply(s, IMAP_OK, "CLOSE completed");
	imap_cmd_finish(s);
	imap_session_unref(s);
}

int
imap_select__close_cmd(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct imap_view *v = s->view;
	uint32_t *uids = NULL;
	size_t n = 0;
	struct rs_err err;

	if (cmd->nargs != 0) {
		imap_reply(s, IMAP_BAD, "CLOSE takes no arguments");
		return IMAP_RUN_DONE;
	}
	/* RFC 9051 6.4.1: \Deleted messages go silently, unless
	 * read-only. The view may be behind: refresh it first. */
	if (!v->readonly) {
		rs_err_clear(&err);
		v->stale = true;
		if (imap_view_refresh(s, &err) != 0)
			rs_logc(&s->log, RS_LOG_WARN, "imap.view_refresh_failed",
			        "error=\"%s\"", err.msg);
		for (uint32_t i = 0; i < v->n; i++)
			if ((v->flags[i] & (STORE_FLAG_DELETED |
			     IMAP_VIEW_F_EXPUNGED)) == STORE_FLAG_DELETED) {
				if (uids == NULL)
					uids = rs_xreallocarray(NULL, v->n,
					                        sizeof(*uids));
				uids[n++] = v->uids[i];
			}
	}
	if (n > 0 && store_expunge(imap_store(s), s->acct, v->mailbox, uids, n,
	                           imap_exec(s), imap_select_close_done, s,
	                           &err) == 0) {
		free(uids);
		imap_session_ref(s);
		return IMAP_RUN_ASYNC;
	}
	free(uids);
	imap_select__close(s);
	imap_reply(s, IMAP_OK, "CLOSE completed");
	return IMAP_RUN_DONE;
}

int
imap_select__unselect(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 0) {
		imap_reply(s, IMAP_BAD, "UNSELECT takes no arguments");
		return IMAP_RUN_DONE;
	}
	imap_select__close(s);
	imap_reply(s, IMAP_OK, "UNSELECT completed");
	return IMAP_RUN_DONE;
}

int
imap_select__check(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 0) {
		imap_reply(s, IMAP_BAD, "CHECK takes no arguments");
		return IMAP_RUN_DONE;
	}
	imap_reply(s, IMAP_OK, "CHECK completed");
	return IMAP_RUN_DONE;
}

/* The line that ends IDLE. */
static void
imap_select_idle_line(struct imap_session *s, struct rs_str line)
{
	/* RFC 2177 3: "DONE"; anything else is a protocol error. */
	if (line.p != NULL && rs_str_ieq_cstr(line, "DONE"))
		imap_reply(s, IMAP_OK, "IDLE terminated");
	else
		imap_reply(s, IMAP_BAD, "Expected DONE");
	imap_cmd_finish(s);
}

int
imap_select__idle(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 0) {
		imap_reply(s, IMAP_BAD, "IDLE takes no arguments");
		return IMAP_RUN_DONE;
	}
	imap_continue(s, "idling");
	/* What happened before IDLE goes out at once. */
	imap_view_sync(s, true);
	s->io = IMAP_IO_IDLE;
	imap_cmd_line(s, imap_select_idle_line);
	return IMAP_RUN_ASYNC;
}
