/* imap_expunge.c: EXPUNGE (RFC 9051 6.4.3) and UID EXPUNGE (RFC 4315
 * 2.1): removes the \Deleted messages of the selected mailbox (of the
 * set, for UID EXPUNGE) with one store_expunge, then lets the view send
 * the EXPUNGE (or VANISHED) responses before the tagged OK. The \Deleted
 * messages are read from the store, not from the view, which may lag. */
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_fetch_util.h"

struct imap_expunge_op {
	struct imap_session *s;       /* holds a reference */
};

static void
imap_expunge_done(void *arg, int rc)
{
	struct imap_expunge_op *op = arg;
	struct imap_session *s = op->s;

	free(op);
	if (!imap_session_closed(s)) {
		if (rc != 0) {
			imap_fetch_util_store_failed(s, rc, "EXPUNGE");
		} else {
			if (s->view != NULL)
				s->view->stale = true;
			imap_reply(s, IMAP_OK, "EXPUNGE completed");
		}
		imap_cmd_finish(s);
	}
	imap_session_unref(s);
}

/* The \Deleted UIDs of the mailbox, restricted to only[0..nonly) unless
 * only is NULL. 0, or -1 with err. */
static int
imap_expunge_collect(struct imap_session *s, const uint32_t *only,
                     size_t nonly, uint32_t **uids_r, size_t *n_r,
                     struct rs_err *err)
{
	struct store_msg_iter *it;
	struct store_msg m;
	uint32_t *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	it = store_msg_iter_open(imap_store(s), s->acct, s->view->mailbox,
	                         only != NULL && nonly > 0 ? only[0] : 1, 0);
	while ((rc = store_msg_iter_next(it, &m, err)) == 1) {
		if ((m.flags & STORE_FLAG_DELETED) == 0)
			continue;
		if (only != NULL && !imap_fetch_util_has(only, nonly, m.uid))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = rs_xreallocarray(v, cap, sizeof(*v));
		}
		v[n++] = m.uid;
	}
	store_msg_iter_free(&it);
	if (rc < 0) {
		free(v);
		return -1;
	}
	*uids_r = v;
	*n_r = n;
	return 0;
}

int
imap_expunge__run(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct imap_expunge_op *op;
	uint32_t *set = NULL, *uids = NULL;
	size_t nset = 0, n = 0;
	struct rs_err err;
	int rc;

	if (cmd->nargs != (cmd->uid ? 1u : 0u)) {
		imap_reply(s, IMAP_BAD, cmd->uid ? "UID EXPUNGE takes a set" :
		           "EXPUNGE takes no arguments");
		return IMAP_RUN_DONE;
	}
	if (s->view->readonly) {
		imap_reply(s, IMAP_NO, "[READ-ONLY] Mailbox is read-only");
		return IMAP_RUN_DONE;
	}
	if (cmd->uid) {
		if (imap_fetch_util_set(s, &cmd->args[0], true, &set,
		                        &nset) != 0)
			return IMAP_RUN_DONE;
		if (nset == 0) {
			imap_reply(s, IMAP_OK, "UID EXPUNGE completed");
			return IMAP_RUN_DONE;
		}
	}
	rs_err_clear(&err);
	rc = imap_expunge_collect(s, set, nset, &uids, &n,
	                          &err);
	free(set);
	if (rc != 0) {
		rs_logc(&s->log, RS_LOG_WARN, "imap.expunge_failed",
		        "error=\"%s\"", err.msg);
		imap_reply(s, IMAP_NO, "[SERVERBUG] Cannot read the mailbox");
		return IMAP_RUN_DONE;
	}
	if (n == 0) {
		imap_reply(s, IMAP_OK, "EXPUNGE completed");
		return IMAP_RUN_DONE;
	}
	op = rs_xcalloc(1, sizeof(*op));
	op->s = s;
	rc = store_expunge(imap_store(s), s->acct, s->view->mailbox, uids, n,
	                   imap_exec(s), imap_expunge_done, op, &err);
	free(uids);
	if (rc != 0) {
		free(op);
		imap_fetch_util_store_failed(s, err.code, "EXPUNGE");
		return IMAP_RUN_DONE;
	}
	imap_session_ref(s);
	return IMAP_RUN_ASYNC;
}
