/* imap_store_cmd.c: STORE and UID STORE (RFC 9051 6.4.6) with keywords
 * and CONDSTORE's UNCHANGEDSINCE (RFC 7162 3.1.3): one store_flags_update
 * for the set; its results give the untagged FETCH FLAGS responses (with
 * UID for UID STORE and MODSEQ under CONDSTORE) and the [MODIFIED set]
 * of messages changed since the client's modseq. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_fetch_util.h"
#include "node/imap/imap_seqset.h"

struct imap_store_op {
	struct imap_session *s;       /* holds a reference */
	struct store_flags   f;       /* owns the results */
	bool                 silent;
	bool                 uid;     /* UID STORE */
};

static void
imap_store_op_free(struct imap_store_op *op)
{
	store_flags_free(&op->f);
	free(op);
}

/* One "* seq FETCH (FLAGS (...) UID u MODSEQ (m))". */
static void
imap_store_fetch(struct imap_store_op *op, const struct store_flags_item *it,
                 uint32_t seq, bool flags)
{
	struct imap_session *s = op->s;
	struct evbuffer *out = imap_out(s);
	bool sp = false;

	evbuffer_add_printf(out, "* %" PRIu32 " FETCH (", seq);
	if (flags) {
		evbuffer_add(out, "FLAGS ", 6);
		imap_fetch_util_flags_out(out, it->flags,
		                          imap_recent__is(s, seq),
		                          op->f.kw + it->kw_first, it->nkw);
		sp = true;
	}
	/* RFC 7162 3.1: once CONDSTORE is on, every FETCH a flag change
	 * causes carries the UID and the modseq, STORE's own included. */
	if (op->uid || (s->enabled & IMAP_EXT_CONDSTORE) != 0) {
		evbuffer_add_printf(out, "%sUID %" PRIu32, sp ? " " : "",
		                    it->uid);
		sp = true;
	}
	if ((s->enabled & IMAP_EXT_CONDSTORE) != 0)
		evbuffer_add_printf(out, "%sMODSEQ (%" PRIu64 ")", sp ? " " : "",
		                    it->modseq);
	evbuffer_add(out, ")\r\n", 3);
}

static void
imap_store_results(struct imap_store_op *op)
{
	struct imap_session *s = op->s;
	struct rs_buf modified;
	bool condstore = (s->enabled & IMAP_EXT_CONDSTORE) != 0;
	uint32_t *mod = NULL;
	size_t nmod = 0;

	mod = rs_xreallocarray(NULL, op->f.nitems + 1, sizeof(*mod));
	for (size_t i = 0; i < op->f.nitems; i++) {
		const struct store_flags_item *it = &op->f.items[i];
		uint32_t seq = s->view != NULL ?
		               imap_view_seq(s->view, it->uid) : 0;

		if (it->status == STORE_FLAGS_MODIFIED) {
			if (op->uid)
				mod[nmod++] = it->uid;
			else if (seq != 0)
				mod[nmod++] = seq;
			continue;
		}
		if (seq == 0)
			continue;       /* not numbered yet: the view tells */
		/* The view takes the result as told only when it knew the
		 * message as it was just before (RFC 3501 6.4.6: .SILENT
		 * hides this command's change, not another session's that
		 * came in between: the refresh reports that one). */
		if (!op->silent ||
		    s->view->modseqs[seq - 1] == it->prev_modseq)
			imap_fetch_util_view_note(s, it->uid, it->flags,
			                          it->modseq);
		/* A keyword new to the mailbox: FLAGS first, .SILENT or
		 * not (RFC 3501 7.2.6). */
		imap_flags__check(s, op->f.kw + it->kw_first, it->nkw);
		if (!op->silent)
			imap_store_fetch(op, it, seq, true);
		else if (condstore && it->status == STORE_FLAGS_CHANGED)
			/* RFC 7162 3.1.3: MODSEQ even with .SILENT. */
			imap_store_fetch(op, it, seq, false);
	}
	if (nmod == 0) {
		free(mod);
		imap_reply(s, IMAP_OK, "STORE completed");
		return;
	}
	/* Sequence numbers ascend with UIDs, so mod is ascending. */
	rs_buf_init(&modified, 1024 * 1024);
	if (imap_seqset_format_uids(&modified, mod, nmod) != 0)
		rs_buf_reset(&modified);
	free(mod);
	imap_reply(s, IMAP_OK, "[MODIFIED %s] Conditional STORE failed",
	           modified.len ? (const char *)modified.data : "0");
	rs_buf_free(&modified);
}

static void
imap_store_done(void *arg, int rc)
{
	struct imap_store_op *op = arg;
	struct imap_session *s = op->s;

	if (!imap_session_closed(s)) {
		if (rc != 0)
			imap_fetch_util_store_failed(s, rc, "STORE");
		else
			imap_store_results(op);
		imap_cmd_finish(s);
	}
	imap_store_op_free(op);
	imap_session_unref(s);
}

/* Reads "(UNCHANGEDSINCE n)" (RFC 7162 3.1.3). 0, or -1 after BAD. */
static int
imap_store_modifiers(struct imap_session *s, const struct imap_arg *list,
                     struct store_flags *f)
{
	const struct imap_arg *a = list + 1, *end = imap_arg_next(list);

	while (a < end) {
		const struct imap_arg *v = imap_arg_next(a);

		if (!imap_arg_is_atom(a, "UNCHANGEDSINCE") || v >= end ||
		    imap_fetch_util_number(v, UINT64_MAX,
		                           &f->unchangedsince) != 0 ||
		    f->conditional) {
			imap_reply(s, IMAP_BAD, "Invalid STORE modifier");
			return -1;
		}
		f->conditional = true;
		a = imap_arg_next(v);
	}
	if (f->conditional)
		imap_misc__condstore_on(s);       /* RFC 7162 3.1 */
	return 0;
}

/* "FLAGS", "+FLAGS.SILENT"... 0 or -1. */
static int
imap_store_item(const struct imap_arg *a, enum store_flag_op *op_r,
                bool *silent_r)
{
	const char *p = a->str.p;

	if (a->type != IMAP_ARG_ATOM)
		return -1;
	*op_r = STORE_FLAGS_SET;
	if (*p == '+' || *p == '-')
		*op_r = *p++ == '+' ? STORE_FLAGS_ADD : STORE_FLAGS_REMOVE;
	*silent_r = false;
	if (strcasecmp(p, "FLAGS") == 0)
		return 0;
	if (strcasecmp(p, "FLAGS.SILENT") == 0) {
		*silent_r = true;
		return 0;
	}
	return -1;
}

static int
imap_store_queue(struct imap_session *s, struct imap_store_op *op,
                 uint32_t *uids, size_t n, struct imap_fetch_util_flags *fl)
{
	struct rs_err err;
	int rc;

	op->s = s;
	op->f.acct = s->acct;
	op->f.mailbox = s->view->mailbox;
	op->f.uids = uids;
	op->f.n = n;
	op->f.flags = fl->flags;
	op->f.keywords = fl->kw;
	op->f.nkeywords = fl->nkw;
	rs_err_clear(&err);
	rc = store_flags_update(imap_store(s), &op->f, imap_exec(s),
	                        imap_store_done, op, &err);
	/* store_flags_update copied its inputs. */
	op->f.uids = NULL;
	op->f.keywords = NULL;
	free(uids);
	if (rc != 0) {
		imap_store_op_free(op);
		imap_fetch_util_store_failed(s, err.code, "STORE");
		return IMAP_RUN_DONE;
	}
	imap_session_ref(s);
	return IMAP_RUN_ASYNC;
}

int
imap_store_cmd__run(struct imap_session *s, const struct imap_cmd *cmd)
{
	const struct imap_arg *a, *end = imap_fetch_util_end(cmd);
	struct imap_fetch_util_flags fl;
	struct imap_store_op *op;
	uint32_t *uids;
	const char *why;
	size_t n;

	if (cmd->nargs < 3) {
		imap_reply(s, IMAP_BAD, "STORE takes a set, an item and flags");
		return IMAP_RUN_DONE;
	}
	if (s->view->readonly) {
		imap_reply(s, IMAP_NO, "[READ-ONLY] Mailbox is read-only");
		return IMAP_RUN_DONE;
	}
	op = rs_xcalloc(1, sizeof(*op));
	op->uid = cmd->uid;
	a = imap_arg_next(&cmd->args[0]);
	if (a->type == IMAP_ARG_LIST) {
		if (imap_store_modifiers(s, a, &op->f) != 0)
			goto done;
		a = imap_arg_next(a);
	}
	if (a >= end || imap_store_item(a, &op->f.op, &op->silent) != 0) {
		imap_reply(s, IMAP_BAD, "Invalid STORE item");
		goto done;
	}
	a = imap_arg_next(a);
	if (a >= end) {
		imap_reply(s, IMAP_BAD, "Flags missing");
		goto done;
	}
	if (imap_fetch_util_flags_parse(a, end, &fl, &why) != 0) {
		imap_reply(s, IMAP_BAD, "%s", why);
		goto done;
	}
	if (imap_fetch_util_set(s, &cmd->args[0], cmd->uid, &uids, &n) != 0)
		goto done;
	if (n == 0) {
		imap_reply(s, IMAP_OK, "STORE completed");
		goto done;
	}
	return imap_store_queue(s, op, uids, n, &fl);
done:
	imap_store_op_free(op);
	return IMAP_RUN_DONE;
}
