/* imap_mailbox.c: mailbox names on the wire (modified UTF-7 for IMAP4rev1
 * clients, RFC 3501 5.1.3; UTF-8 once UTF8=ACCEPT or IMAP4rev2 is on) and
 * the commands that manage mailboxes: CREATE, DELETE, RENAME, SUBSCRIBE,
 * UNSUBSCRIBE (RFC 9051 6.3.4-6.3.8) and STATUS (6.3.11, RFC 8438 SIZE,
 * RFC 7162 HIGHESTMODSEQ, RFC 9208 DELETED). LIST is in imap_list.c;
 * the encodings themselves are imap_string.h's. */
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_fetch_util.h"
#include "node/imap/imap_int.h"
#include "node/imap/imap_string.h"

/* "INBOX" in any case, alone or as the first level, is spelled INBOX
 * (RFC 9051 5.1). */
static void
imap_mailbox_inbox_case(char *name, size_t len)
{
	if (len >= 5 && strncasecmp(name, "INBOX", 5) == 0 &&
	    (len == 5 || name[5] == '/'))
		memcpy(name, "INBOX", 5);
}

int
imap_mailbox__decode(const struct imap_session *s, struct rs_str in,
                     char *out, size_t outsz)
{
	struct rs_buf b;
	size_t len = in.len;
	int rc;

	if (imap_utf8_names(s)) {
		if (in.len + 1 > outsz || memchr(in.p, '\0', in.len) != NULL)
			return -1;
		memcpy(out, in.p, in.len);
		out[in.len] = '\0';
	} else {
		/* RFC 3501 5.1.3 for IMAP4rev1 clients. */
		rs_buf_init(&b, outsz - 1);
		rc = imap_string_mutf7_decode(&b, in);
		if (rc != 0 || b.len + 1 > outsz) {
			rs_buf_free(&b);
			return -1;
		}
		if (b.len > 0)
			memcpy(out, b.data, b.len);
		out[b.len] = '\0';
		len = b.len;
		rs_buf_free(&b);
	}
	imap_mailbox_inbox_case(out, len);
	return 0;
}

int
imap_mailbox_name_in(const struct imap_session *s, const struct imap_arg *a,
                     char *out, size_t outsz)
{
	size_t len;

	/* RFC 9051 9: the lexer's atoms are wider than an astring's. */
	if (!imap_arg_is_astring(a))
		return IMAP_NAME_NOT_ASTRING;
	if (imap_mailbox__decode(s, a->str, out, outsz) != 0)
		return IMAP_NAME_INVALID;
	len = strlen(out);
	/* RFC 9051 6.3.4: a trailing separator only says "will have
	 * children". */
	while (len > 1 && out[len - 1] == '/')
		out[--len] = '\0';
	if (len == 0 || out[0] == '/' || strstr(out, "//") != NULL)
		return IMAP_NAME_INVALID;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f ||
		    out[i] == '*' || out[i] == '%')
			return IMAP_NAME_INVALID;
	return 0;
}

void
imap_mailbox__name_refuse(struct imap_session *s, int rc, bool create,
                          const char *what)
{
	if (rc == IMAP_NAME_NOT_ASTRING)
		imap_reply(s, IMAP_BAD, "%s", what);
	else if (create)
		imap_reply(s, IMAP_NO, "[CANNOT] Invalid mailbox name");
	else
		imap_reply(s, IMAP_NO, "[NONEXISTENT] No such mailbox");
}

void
imap_mailbox_name_out(const struct imap_session *s, struct evbuffer *out,
                      const char *name)
{
	struct rs_buf enc;

	if (imap_utf8_names(s)) {
		imap_string_quote_ev(out, rs_str_cstr(name), IMAP_STRING_F_UTF8);
		return;
	}
	/* Modified UTF-7 is at most 8/3 of the UTF-8 plus shifts. */
	rs_buf_init(&enc, 4 * STORE_MAILBOX_NAME_MAX + 16);
	if (imap_string_mutf7_encode(&enc, rs_str_cstr(name)) == 0)
		imap_string_quote_ev(out, rs_str_make((const char *)enc.data,
		                                      enc.len), 0);
	else
		imap_string_quote_ev(out, rs_str_cstr(name), 0);
	rs_buf_free(&enc);
}

/* ---- writes: one or more store operations, one reply ---- */

struct imap_mailbox_op {
	unsigned    pending;          /* writes not completed yet */
	int         rc;               /* the command's own write */
	const char *what;             /* "CREATE" ...: static */
};

static void
imap_mailbox_op_reply(struct imap_session *s, const struct imap_mailbox_op *op)
{
	switch (op->rc) {
	case 0:
		imap_reply(s, IMAP_OK, "%s completed", op->what);
		break;
	case RS_ENOTFOUND:
		imap_reply(s, IMAP_NO, "[NONEXISTENT] No such mailbox");
		break;
	case RS_ECONFLICT:
		imap_reply(s, IMAP_NO, "[ALREADYEXISTS] Mailbox exists");
		break;
	case RS_EPERM:
		imap_reply(s, IMAP_NO, "[CANNOT] Not allowed for INBOX");
		break;
	case RS_ETOOBIG:
		imap_reply(s, IMAP_NO, "[LIMIT] Too many mailboxes or name "
		           "too long");
		break;
	case RS_EINVAL:
		imap_reply(s, IMAP_NO, "[CANNOT] Invalid mailbox name");
		break;
	default:
		/* A failed store: [UNAVAILABLE], as for the other writes. */
		imap_fetch_util_store_failed(s, op->rc, op->what);
		break;
	}
}

static void
imap_mailbox_op_step(struct imap_session *s, int rc, bool main_op)
{
	struct imap_mailbox_op *op;

	if (imap_session_closed(s)) {
		imap_session_unref(s);
		return;
	}
	op = s->cmd.state;
	if (main_op)
		op->rc = rc;
	if (--op->pending == 0) {
		imap_mailbox_op_reply(s, op);
		imap_cmd_finish(s);
	}
	imap_session_unref(s);
}

/* A parent created on the way: an existing one is fine. */
static void
imap_mailbox_parent_done(void *arg, int rc)
{
	imap_mailbox_op_step(arg, rc, false);
}

static void
imap_mailbox_main_done(void *arg, int rc)
{
	imap_mailbox_op_step(arg, rc, true);
}

static struct imap_mailbox_op *
imap_mailbox_op_start(struct imap_session *s, const char *what)
{
	struct imap_mailbox_op *op = rs_xcalloc(1, sizeof(*op));

	op->what = what;
	free(s->cmd.state);
	s->cmd.state = op;
	return op;
}

/* A write was queued: one more completion to wait for. */
static void
imap_mailbox_op_queued(struct imap_session *s, struct imap_mailbox_op *op)
{
	op->pending++;
	imap_session_ref(s);
}

/* Queues CREATE of every missing superior of name (RFC 9051 6.3.4: the
 * server creates them). The writer applies them in order, before the
 * command's own write queued next. */
static void
imap_mailbox_parents(struct imap_session *s, struct imap_mailbox_op *op,
                     const char *name)
{
	char buf[STORE_MAILBOX_NAME_MAX + 1];
	struct store_mailbox mb;
	struct rs_err err;

	snprintf(buf, sizeof(buf), "%s", name);
	for (char *p = strchr(buf, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (store_mailbox_find(imap_store(s), s->acct, buf, &mb,
		                       &err) != 0 &&
		    store_mailbox_create(imap_store(s), s->acct, buf,
		                         STORE_USE_NONE, NULL, imap_exec(s),
		                         imap_mailbox_parent_done, s, &err) == 0)
			imap_mailbox_op_queued(s, op);
		*p = '/';
	}
}

/* The end of run for a write command: ASYNC if something was queued. */
static int
imap_mailbox_op_run(struct imap_session *s, struct imap_mailbox_op *op,
                    int queue_rc, const struct rs_err *err)
{
	if (queue_rc == 0)
		imap_mailbox_op_queued(s, op);
	else if (op->pending == 0) {
		op->rc = err->code != 0 ? err->code : RS_EIO;
		imap_mailbox_op_reply(s, op);
		return IMAP_RUN_DONE;
	} else {
		/* Parents are on their way: answer when they land. */
		op->rc = err->code != 0 ? err->code : RS_EIO;
	}
	return IMAP_RUN_ASYNC;
}

int
imap_mailbox__create(struct imap_session *s, const struct imap_cmd *cmd)
{
	char name[STORE_MAILBOX_NAME_MAX + 1];
	struct imap_mailbox_op *op;
	struct rs_err err;
	int rc;

	if (cmd->nargs != 1) {
		imap_reply(s, IMAP_BAD, "Invalid mailbox name");
		return IMAP_RUN_DONE;
	}
	if ((rc = imap_mailbox_name_in(s, cmd->args, name,
	                               sizeof(name))) != 0) {
		imap_mailbox__name_refuse(s, rc, true, "Invalid mailbox name");
		return IMAP_RUN_DONE;
	}
	if (strcmp(name, "INBOX") == 0) {
		imap_reply(s, IMAP_NO, "[ALREADYEXISTS] INBOX exists");
		return IMAP_RUN_DONE;
	}
	op = imap_mailbox_op_start(s, "CREATE");
	imap_mailbox_parents(s, op, name);
	rs_err_clear(&err);
	rc = store_mailbox_create(imap_store(s), s->acct, name, STORE_USE_NONE,
	                          NULL, imap_exec(s), imap_mailbox_main_done, s,
	                          &err);
	return imap_mailbox_op_run(s, op, rc, &err);
}

int
imap_mailbox__delete(struct imap_session *s, const struct imap_cmd *cmd)
{
	char name[STORE_MAILBOX_NAME_MAX + 1];
	struct imap_mailbox_op *op;
	struct rs_err err;
	int rc;

	if (cmd->nargs != 1) {
		imap_reply(s, IMAP_BAD, "Invalid mailbox name");
		return IMAP_RUN_DONE;
	}
	if ((rc = imap_mailbox_name_in(s, cmd->args, name,
	                               sizeof(name))) != 0) {
		imap_mailbox__name_refuse(s, rc, false, "Invalid mailbox name");
		return IMAP_RUN_DONE;
	}
	if (strcmp(name, "INBOX") == 0) {
		imap_reply(s, IMAP_NO, "[CANNOT] INBOX cannot be deleted");
		return IMAP_RUN_DONE;
	}
	/* RFC 9051 6.3.5: inferiors stay (as Dovecot does). Deleting the
	 * selected mailbox is allowed; the session learns at its next
	 * select. */
	op = imap_mailbox_op_start(s, "DELETE");
	rs_err_clear(&err);
	rc = store_mailbox_delete(imap_store(s), s->acct, name, imap_exec(s),
	                          imap_mailbox_main_done, s, &err);
	return imap_mailbox_op_run(s, op, rc, &err);
}

int
imap_mailbox__rename(struct imap_session *s, const struct imap_cmd *cmd)
{
	char from[STORE_MAILBOX_NAME_MAX + 1], to[STORE_MAILBOX_NAME_MAX + 1];
	struct imap_mailbox_op *op;
	struct rs_err err;
	int rc;

	if (cmd->nargs != 2) {
		imap_reply(s, IMAP_BAD, "Invalid mailbox name");
		return IMAP_RUN_DONE;
	}
	if ((rc = imap_mailbox_name_in(s, cmd->args, from,
	                               sizeof(from))) != 0) {
		imap_mailbox__name_refuse(s, rc, false, "Invalid mailbox name");
		return IMAP_RUN_DONE;
	}
	if ((rc = imap_mailbox_name_in(s, imap_arg_next(cmd->args), to,
	                               sizeof(to))) != 0) {
		imap_mailbox__name_refuse(s, rc, true, "Invalid mailbox name");
		return IMAP_RUN_DONE;
	}
	if (strcmp(to, "INBOX") == 0) {
		imap_reply(s, IMAP_NO, "[ALREADYEXISTS] INBOX exists");
		return IMAP_RUN_DONE;
	}
	op = imap_mailbox_op_start(s, "RENAME");
	/* RFC 9051 6.3.6: superiors of the new name are created. */
	imap_mailbox_parents(s, op, to);
	rs_err_clear(&err);
	rc = store_mailbox_rename(imap_store(s), s->acct, from, to,
	                          imap_exec(s), imap_mailbox_main_done, s, &err);
	return imap_mailbox_op_run(s, op, rc, &err);
}

static int
imap_mailbox_subscribe_run(struct imap_session *s, const struct imap_cmd *cmd,
                           bool on)
{
	char name[STORE_MAILBOX_NAME_MAX + 1];
	struct imap_mailbox_op *op;
	struct rs_err err;
	int rc;

	if (cmd->nargs != 1) {
		imap_reply(s, IMAP_BAD, "Invalid mailbox name");
		return IMAP_RUN_DONE;
	}
	if ((rc = imap_mailbox_name_in(s, cmd->args, name,
	                               sizeof(name))) != 0) {
		imap_mailbox__name_refuse(s, rc, on, "Invalid mailbox name");
		return IMAP_RUN_DONE;
	}
	op = imap_mailbox_op_start(s, on ? "SUBSCRIBE" : "UNSUBSCRIBE");
	rs_err_clear(&err);
	rc = store_mailbox_subscribe(imap_store(s), s->acct, name, on,
	                             imap_exec(s), imap_mailbox_main_done, s,
	                             &err);
	return imap_mailbox_op_run(s, op, rc, &err);
}

int
imap_mailbox__subscribe(struct imap_session *s, const struct imap_cmd *cmd)
{
	return imap_mailbox_subscribe_run(s, cmd, true);
}

int
imap_mailbox__unsubscribe(struct imap_session *s, const struct imap_cmd *cmd)
{
	return imap_mailbox_subscribe_run(s, cmd, false);
}

/* ---- STATUS ---- */

int
imap_mailbox__status_write(struct imap_session *s,
                           const struct store_mailbox *mb,
                           const struct imap_arg *att)
{
	struct evbuffer *items = evbuffer_new();
	const struct imap_arg *a = att + 1;
	const char *sp = "";

	if (items == NULL)
		return -1;
	for (uint32_t i = 0; i < att->nchildren; i++, a = imap_arg_next(a)) {
		if (imap_arg_is_atom(a, "MESSAGES"))
			evbuffer_add_printf(items, "%sMESSAGES %" PRIu32, sp,
			                    mb->messages);
		else if (imap_arg_is_atom(a, "UIDNEXT"))
			evbuffer_add_printf(items, "%sUIDNEXT %" PRIu32, sp,
			                    mb->uidnext);
		else if (imap_arg_is_atom(a, "UIDVALIDITY"))
			evbuffer_add_printf(items, "%sUIDVALIDITY %" PRIu32, sp,
			                    mb->uidvalidity);
		else if (imap_arg_is_atom(a, "UNSEEN"))
			evbuffer_add_printf(items, "%sUNSEEN %" PRIu32, sp,
			                    mb->unseen);
		else if (imap_arg_is_atom(a, "DELETED"))
			evbuffer_add_printf(items, "%sDELETED %" PRIu32, sp,
			                    mb->deleted);
		else if (imap_arg_is_atom(a, "SIZE"))
			evbuffer_add_printf(items, "%sSIZE %" PRIu64, sp,
			                    mb->bytes);
		else if (imap_arg_is_atom(a, "DELETED-STORAGE"))
			evbuffer_add_printf(items, "%sDELETED-STORAGE %" PRIu64,
			                    sp, mb->deleted_bytes);
		else if (imap_arg_is_atom(a, "HIGHESTMODSEQ")) {
			/* RFC 7162 3.1: a CONDSTORE enabling command. */
			imap_misc__condstore_on(s);
			evbuffer_add_printf(items, "%sHIGHESTMODSEQ %" PRIu64, sp,
			                    mb->highestmodseq > 0 ?
			                    mb->highestmodseq : 1);
		} else if (imap_arg_is_atom(a, "RECENT")) {
			uint32_t n = 0;

			/* RFC 3501 6.3.10 (IMAP4rev1): what the next
			 * session to select the mailbox gets. */
			if (imap_recent__count(s, mb, &n) != 0)
				n = 0;
			evbuffer_add_printf(items, "%sRECENT %" PRIu32, sp, n);
		} else {
			evbuffer_free(items);
			return -1;
		}
		sp = " ";
	}
	evbuffer_add_printf(imap_out(s), "* STATUS ");
	imap_mailbox_name_out(s, imap_out(s), mb->name);
	evbuffer_add_printf(imap_out(s), " (");
	evbuffer_add_buffer(imap_out(s), items);
	evbuffer_add_printf(imap_out(s), ")\r\n");
	evbuffer_free(items);
	return 0;
}

int
imap_mailbox__status(struct imap_session *s, const struct imap_cmd *cmd)
{
	char name[STORE_MAILBOX_NAME_MAX + 1];
	const struct imap_arg *att;
	struct store_mailbox mb;
	struct rs_err err;
	int rc;

	if (cmd->nargs != 2 ||
	    (rc = imap_mailbox_name_in(s, cmd->args, name, sizeof(name))) ==
	    IMAP_NAME_NOT_ASTRING ||
	    (att = imap_arg_next(cmd->args))->type != IMAP_ARG_LIST ||
	    att->nchildren == 0) {
		imap_reply(s, IMAP_BAD, "STATUS needs a mailbox and items");
		return IMAP_RUN_DONE;
	}
	if (rc != 0) {
		imap_mailbox__name_refuse(s, rc, false, "");
		return IMAP_RUN_DONE;
	}
	rs_err_clear(&err);
	rc = store_mailbox_find(imap_store(s), s->acct, name, &mb, &err);
	if (rc == RS_ENOTFOUND || (rc != 0 && err.code == RS_ENOTFOUND)) {
		imap_reply(s, IMAP_NO, "[NONEXISTENT] No such mailbox");
		return IMAP_RUN_DONE;
	}
	if (rc != 0) {
		imap_reply(s, IMAP_NO, "[SERVERBUG] STATUS failed");
		return IMAP_RUN_DONE;
	}
	if (imap_mailbox__status_write(s, &mb, att) != 0) {
		imap_reply(s, IMAP_BAD, "Unknown STATUS item");
		return IMAP_RUN_DONE;
	}
	imap_reply(s, IMAP_OK, "STATUS completed");
	return IMAP_RUN_DONE;
}
