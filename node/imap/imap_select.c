/* imap_select.c: the selected state's life: SELECT and EXAMINE (RFC 9051
 * 6.3.2-6.3.3, with RFC 7162's CONDSTORE and QRESYNC parameters), CLOSE,
 * UNSELECT (RFC 3691), CHECK and IDLE (RFC 2177). The view's refresh is
 * imap_view_sync.c, QRESYNC's answer imap_select_qresync.c. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/rs_mem.h"
#include "node/core/node_ctx.h"
#include "node/imap/imap_int.h"
#include "node/imap/imap_seqset.h"
#include "node/notify/notify.h"

void
imap_select__close(struct imap_session *s)
{
	imap_view_free(&s->view);
	imap_seqset_free(&s->saved);
	if (s->state == IMAP_STATE_SELECTED)
		s->state = IMAP_STATE_AUTH;
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
	/* RFC 9051 removed \Recent: IMAP4rev2 sessions neither see nor
	 * claim it. */
	v->recent_on = (s->enabled & IMAP_EXT_REV2) == 0;
	s->view_gen++;
	*mb_r = ix.mb;
	store_index_free(&ix);
	v->sub = notify_subscribe(s->srv->node->notify, s->acct,
	                          imap_select__on_notify, s);
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
	/* RECENT follows once the session's claim landed (imap_recent.c):
	 * imap_view_emit sends it before the tagged OK. */
	imap_untagged(s, "%" PRIu32 " EXISTS", v->n);
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
	     imap_select__params(s, imap_arg_next(a), &q) != 0) ||
	    imap_select_load(s, name, readonly, &mb) != 0) {
		imap_select__qresync_free(&q);
		return IMAP_RUN_DONE;
	}
	imap_select_untagged(s, &mb);
	if (q.on)
		imap_select__qresync(s, &q);
	else
		/* RFC 3501 7.3.2: "* n RECENT" once the \Recent claim of
		 * an IMAP4rev1 session landed (EXAMINE: at once). */
		(void)imap_view_sync(s, true);
	imap_select__qresync_free(&q);
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
	(void)imap_view_sync(s, true);
	s->io = IMAP_IO_IDLE;
	imap_cmd_line(s, imap_select_idle_line);
	return IMAP_RUN_ASYNC;
}
