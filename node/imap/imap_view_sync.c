/* imap_view_sync.c: the store side of the selected view: refreshing it
 * from the mailbox's change log when notify says the account changed
 * (one lookup per change, or one pass over the index for many), and
 * sending the updates a command allows, once new messages' \Recent is
 * settled (imap_recent.c). The view's pure part is imap_view.c. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_int.h"
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

bool
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
		return false;
	rs_err_clear(&err);
	if (imap_view_refresh(s, &err) != 0)
		rs_logc(&s->log, RS_LOG_WARN, "imap.view_refresh_failed",
		        "error=\"%s\"", err.msg);
	/* As Dovecot does: the client reconnects and sees the new list. */
	if (s->view->gone) {
		imap_session_bye(s, "mailbox_deleted",
		                 "Selected mailbox was deleted");
		return false;
	}
	/* RFC 3501 2.3.2: new messages go out with their \Recent
	 * settled, so the claim comes first. */
	if (imap_recent__sync(s))
		return true;
	o.recent = s->view->recent_on;
	(void)imap_view_emit(s->view, &o, imap_out(s));
	return false;
}

void
imap_select__on_notify(void *arg, struct store_acct a, uint64_t modseq)
{
	struct imap_session *s = arg;

	(void)a;
	(void)modseq;
	if (imap_session_closed(s) || s->view == NULL)
		return;
	s->view->stale = true;
	/* RFC 2177: during IDLE, updates go out as they happen. */
	if (s->io == IMAP_IO_IDLE)
		(void)imap_view_sync(s, true);
}
