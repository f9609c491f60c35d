/* imap_session_dispatch.c: what a session does with the parser's events:
 * a command is looked up in the tables by name and state, its tag kept,
 * and run; a literal's announcement goes to its command, which may
 * refuse it; a parse error is answered BAD; a line goes to the command
 * that asked for it. The connection, output and command life are in
 * imap_session.c. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/rs_time.h"
#include "node/imap/imap_int.h"

static const struct imap_cmd_def *
imap_session_lookup_in(const struct imap_cmd_def *t, struct rs_str name)
{
	for (; t->name != NULL; t++)
		if (strlen(t->name) == name.len &&
		    strncasecmp(t->name, name.p, name.len) == 0)
			return t;
	return NULL;
}

/* The command's table entry, or NULL after answering BAD. Copies the
 * tag. */
static const struct imap_cmd_def *
imap_session_find(struct imap_session *s, const struct imap_cmd *c)
{
	const struct imap_cmd_def *d;

	d = imap_session_lookup_in(imap_cmds, c->name);
	if (d == NULL)
		d = imap_session_lookup_in(imap_msg_cmds, c->name);
	if (d == NULL || (c->uid && (d->flags & IMAP_CMD_F_UID_OK) == 0)) {
		imap_reply(s, IMAP_BAD, "Unknown command");
		return NULL;
	}
	if ((d->states & (unsigned)s->state) == 0) {
		imap_reply(s, IMAP_BAD, "Command not valid in this state");
		return NULL;
	}
	if ((d->flags & IMAP_CMD_F_READ_WRITE) != 0 && s->view != NULL &&
	    s->view->readonly) {
		/* RFC 9051 7.1 (RFC 5530): EXAMINE'd mailboxes. */
		imap_reply(s, IMAP_NO, "[READ-ONLY] Mailbox is read-only");
		return NULL;
	}
	return d;
}

/* Copies the tag of c into the current command: false after a BAD. */
static bool
imap_session_take_tag(struct imap_session *s, const struct imap_cmd *c)
{
	if (c->tag.len > IMAP_TAG_MAX) {
		s->cmd.tag[0] = '\0';
		imap_reply(s, IMAP_BAD, "Tag too long");
		return false;
	}
	memcpy(s->cmd.tag, c->tag.p, c->tag.len);
	s->cmd.tag[c->tag.len] = '\0';
	return true;
}

/* The entry for a command starting now (tag copied), or NULL after a
 * BAD. */
static const struct imap_cmd_def *
imap_session_begin(struct imap_session *s, const struct imap_cmd *c)
{
	const struct imap_cmd_def *d;

	if (!imap_session_take_tag(s, c))
		return NULL;
	d = imap_session_find(s, c);
	if (d != NULL) {
		s->cmd.def = d;
		s->cmd.uid = c->uid;
	}
	return d;
}

static void
imap_session_dispatch(struct imap_session *s, const struct imap_cmd *c)
{
	const struct imap_cmd_def *d = s->cmd.def;
	int rc;

	if (d == NULL)
		d = imap_session_begin(s, c);
	if (d == NULL) {
		imap_session__cmd_reset(s);
		return;
	}
	s->cmd.started_ms = rs_mono_ms();
	rc = d->run(s, c);
	if (rc == IMAP_RUN_ASYNC && !imap_session_closed(s)) {
		/* A stream may have ended (imap_cmd_finish) inside run. */
		if (s->cmd.def != NULL && s->io == IMAP_IO_READ)
			imap_session__set_io(s, IMAP_IO_CMD);
		return;
	}
	imap_session__cmd_reset(s);
}

/* A literal was announced: the command decides. */
static void
imap_session_literal(struct imap_session *s, const struct imap_event *ev)
{
	const struct imap_cmd_def *d = s->cmd.def;
	bool ok;

	if (d == NULL)
		d = imap_session_begin(s, &ev->cmd);
	if (d == NULL) {
		ok = false;
	} else if (d->literal != NULL) {
		ok = d->literal(s, ev);
	} else {
		/* Only commands that stream literals take big ones. */
		ok = !ev->lit_streamed;
		if (!ok)
			imap_reply(s, IMAP_BAD, "[TOOBIG] Literal too large");
	}
	if (ok) {
		if (ev->lit_sync)
			imap_continue(s, "OK");
		return;
	}
	imap_parser_refuse(s->parser);
	s->refused = true;
	imap_session__cmd_reset(s);
}

/* The parser refused the command and skips the rest by itself. */
void
imap_session__bad(struct imap_session *s, const struct imap_event *ev,
                 const struct rs_err *err)
{
	if (s->refused) {
		/* The rest of a command whose literal was refused. */
		return;
	}
	if (s->cmd.line != NULL) {
		/* An over-long AUTHENTICATE response or IDLE line. */
		s->cmd.line(s, rs_str_make(NULL, 0));
		return;
	}
	if (s->cmd.def == NULL) {
		if (ev->cmd.tag.len == 0 || ev->cmd.tag.len > IMAP_TAG_MAX)
			s->cmd.tag[0] = '\0';
		else
			(void)imap_session_take_tag(s, &ev->cmd);
	}
	if (err->code == RS_ETOOBIG)
		imap_reply(s, IMAP_BAD, "[TOOBIG] %s", err->msg);
	else
		imap_reply(s, IMAP_BAD, "%s", err->msg);
	imap_session__cmd_reset(s);
}

void
imap_session__event(struct imap_session *s, const struct imap_event *ev)
{
	imap_line_fn *line;

	switch (ev->type) {
	case IMAP_EV_COMMAND:
		imap_session_dispatch(s, &ev->cmd);
		/* A command that ended with its reply held. */
		if (s->held.on && s->cmd.def == NULL && !imap_session_closed(s))
			imap_session__held_wait(s);
		return;
	case IMAP_EV_LITERAL:
		imap_session_literal(s, ev);
		if (s->held.on && s->cmd.def == NULL && !imap_session_closed(s))
			imap_session__held_wait(s);
		return;
	case IMAP_EV_DATA:
		if (s->cmd.def != NULL && s->cmd.def->data != NULL)
			s->cmd.def->data(s, ev);
		return;
	case IMAP_EV_LINE:
		line = s->cmd.line;
		s->cmd.line = NULL;
		if (line != NULL)
			line(s, ev->data);
		if (!imap_session_closed(s))
			imap_session__set_io(s, s->io);
		return;
	}
}
