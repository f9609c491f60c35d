/* imap_copy.c: COPY, MOVE and their UID forms (RFC 9051 6.4.7, 6.4.8;
 * RFC 6851; RFC 4315 COPYUID): one store_copy of the set into the named
 * mailbox of the same account. COPY answers OK [COPYUID ...]; MOVE sends
 * it untagged, then the view's EXPUNGE/VANISHED for the moved messages,
 * then the tagged OK. A missing destination is NO [TRYCREATE]. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_fetch_util.h"
#include "node/imap/imap_seqset.h"

struct imap_copy_op {
	struct imap_session *s;       /* holds a reference */
	struct store_copy    c;       /* owns the results */
	char                 dst[STORE_MAILBOX_NAME_MAX + 1];
};

static void
imap_copy_op_free(struct imap_copy_op *op)
{
	store_copy_free(&op->c);
	free(op);
}

static void
imap_copy_ok(struct imap_copy_op *op)
{
	struct imap_session *s = op->s;
	const char *what = op->c.move ? "MOVE" : "COPY";
	struct rs_buf src, dst;

	if (op->c.ncopied == 0) {
		imap_reply(s, IMAP_OK, "%s completed", what);
		return;
	}
	rs_buf_init(&src, RS_BUF_UNLIMITED);
	rs_buf_init(&dst, RS_BUF_UNLIMITED);
	if (imap_seqset_format_uids(&src, op->c.src_uids,
	                               op->c.ncopied) != 0 ||
	    imap_seqset_format_uids(&dst, op->c.dst_uids,
	                               op->c.ncopied) != 0)
		abort();                /* unlimited buffers */
	if (op->c.move) {
		/* RFC 6851 4.3: COPYUID in an untagged OK, before the
		 * expunges. */
		imap_untagged(s, "OK [COPYUID %" PRIu32 " %s %s] Moved",
		              op->c.uidvalidity, (const char *)src.data,
		              (const char *)dst.data);
		if (s->view != NULL)
			s->view->stale = true;
		imap_reply(s, IMAP_OK, "MOVE completed");
	} else {
		imap_reply(s, IMAP_OK, "[COPYUID %" PRIu32 " %s %s] %s "
		           "completed", op->c.uidvalidity,
		           (const char *)src.data, (const char *)dst.data,
		           what);
	}
	rs_buf_free(&src);
	rs_buf_free(&dst);
}

static void
imap_copy_done(void *arg, int rc)
{
	struct imap_copy_op *op = arg;
	struct imap_session *s = op->s;

	if (!imap_session_closed(s)) {
		if (rc == RS_ENOTFOUND && op->c.dst_missing)
			/* RFC 9051 6.4.7: the client may CREATE and retry. */
			imap_reply(s, IMAP_NO, "[TRYCREATE] No such mailbox");
		else if (rc != 0)
			imap_fetch_util_store_failed(s, rc, op->c.move ?
			                             "MOVE" : "COPY");
		else
			imap_copy_ok(op);
		imap_cmd_finish(s);
	}
	imap_copy_op_free(op);
	imap_session_unref(s);
}

static int
imap_copy_run(struct imap_session *s, const struct imap_cmd *cmd, bool move)
{
	struct imap_copy_op *op;
	uint32_t *uids;
	struct rs_err err;
	size_t n;
	int rc;

	if (cmd->nargs != 2) {
		imap_reply(s, IMAP_BAD, "%s takes a set and a mailbox",
		           move ? "MOVE" : "COPY");
		return IMAP_RUN_DONE;
	}
	if (move && s->view->readonly) {
		imap_reply(s, IMAP_NO, "[READ-ONLY] Mailbox is read-only");
		return IMAP_RUN_DONE;
	}
	/* COPY adds messages; MOVE adds none and is how most clients
	 * delete (to Trash), so it goes on while the disk is full. */
	if (!move && imap_fetch_util_store_full(s, "COPY", STORE_STATE_OK))
		return IMAP_RUN_DONE;
	op = rs_xcalloc(1, sizeof(*op));
	if ((rc = imap_mailbox_name_in(s, &cmd->args[1], op->dst,
	                               sizeof(op->dst))) != 0) {
		free(op);
		imap_mailbox__name_refuse(s, rc, false, "Invalid mailbox name");
		return IMAP_RUN_DONE;
	}
	if (imap_fetch_util_set(s, &cmd->args[0], cmd->uid, &uids, &n) != 0) {
		free(op);
		return IMAP_RUN_DONE;
	}
	op->s = s;
	op->c.acct = s->acct;
	op->c.src = s->view->mailbox;
	op->c.dst = op->dst;
	op->c.uids = uids;
	op->c.n = n;
	op->c.move = move;
	op->c.quota = s->quota;
	rs_err_clear(&err);
	rc = store_copy(imap_store(s), &op->c, imap_exec(s), imap_copy_done,
	                op, &err);
	free(uids);                     /* store_copy copied its inputs */
	op->c.uids = NULL;
	if (rc != 0) {
		imap_copy_op_free(op);
		imap_fetch_util_store_failed(s, err.code, move ? "MOVE" :
		                             "COPY");
		return IMAP_RUN_DONE;
	}
	imap_session_ref(s);
	return IMAP_RUN_ASYNC;
}

int
imap_copy__copy(struct imap_session *s, const struct imap_cmd *cmd)
{
	return imap_copy_run(s, cmd, false);
}

int
imap_copy__move(struct imap_session *s, const struct imap_cmd *cmd)
{
	return imap_copy_run(s, cmd, true);
}
