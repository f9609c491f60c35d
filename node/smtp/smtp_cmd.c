/* smtp_cmd.c: the command table and the commands that are one line each:
 * HELO/EHLO, MAIL, RCPT, RSET, NOOP, QUIT, HELP, VRFY, EXPN. DATA and
 * BDAT, which read a body, are in smtp_body.c. Sequence and limits are
 * checked here; who may send to whom is the policy's (smtp_hooks.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/smtp/smtp_int.h"

/* RFC 5321 section 4.1.4: MAIL, RCPT and DATA need a prior EHLO/HELO. */
#define SMTP_CMD_NEEDS_HELO (1u << 0)
/* RFC 5321 sections 4.1.1.4 (DATA) and 4.1.1.5 (RSET): no arguments. */
#define SMTP_CMD_NO_ARGS    (1u << 1)
/* Commands that move no mail (Postfix's "junk commands"): a client that
 * sends nothing else is cut off after smtp.max_junk_commands. */
#define SMTP_CMD_JUNK       (1u << 2)

struct smtp_cmd_def {
	smtp_cmd_fn *fn;
	unsigned     flags;
};

static smtp_cmd_fn smtp_cmd_helo, smtp_cmd_ehlo, smtp_cmd_mail,
	smtp_cmd_rcpt, smtp_cmd_rset, smtp_cmd_noop, smtp_cmd_quit,
	smtp_cmd_help, smtp_cmd_vrfy, smtp_cmd_expn;

static const struct smtp_cmd_def smtp_cmds[SMTP_VERB_COUNT] = {
	[SMTP_VERB_HELO] = { smtp_cmd_helo, 0 },
	[SMTP_VERB_EHLO] = { smtp_cmd_ehlo, 0 },
	[SMTP_VERB_MAIL] = { smtp_cmd_mail, SMTP_CMD_NEEDS_HELO },
	[SMTP_VERB_RCPT] = { smtp_cmd_rcpt, SMTP_CMD_NEEDS_HELO },
	[SMTP_VERB_DATA] = { smtp_body__data,
	                     SMTP_CMD_NEEDS_HELO | SMTP_CMD_NO_ARGS },
	/* BDAT checks its sequence itself: a refused chunk must still be
	 * read past (RFC 3030 section 2), or its octets become commands. */
	[SMTP_VERB_BDAT] = { smtp_body__bdat, 0 },
	[SMTP_VERB_RSET] = { smtp_cmd_rset, SMTP_CMD_NO_ARGS | SMTP_CMD_JUNK },
	[SMTP_VERB_NOOP] = { smtp_cmd_noop, SMTP_CMD_JUNK },
	[SMTP_VERB_QUIT] = { smtp_cmd_quit, 0 },
	[SMTP_VERB_HELP] = { smtp_cmd_help, SMTP_CMD_JUNK },
	[SMTP_VERB_VRFY] = { smtp_cmd_vrfy, SMTP_CMD_JUNK },
	[SMTP_VERB_EXPN] = { smtp_cmd_expn, SMTP_CMD_JUNK },
};

void
smtp_cmd__dispatch(struct smtp_session *s, const struct smtp_line *l)
{
	const struct smtp_cmd_def *d = &smtp_cmds[l->verb];

	s->verb = l->verb;
	if (d->fn == NULL) {
		smtp_reply__reject(s, 500, "5.5.2", "unknown_command",
		                   "Error: command not recognized");
		return;
	}
	if ((d->flags & SMTP_CMD_JUNK) != 0 &&
	    ++s->junk > s->srv->limits.max_junk) {
		smtp_reply__bye(s, "4.7.0", "too-many-junk-commands",
		                "Error: too many junk commands");
		return;
	}
	if ((d->flags & SMTP_CMD_NO_ARGS) != 0 && l->args.len > 0) {
		smtp_reply__reject(s, 501, "5.5.4", "syntax", "Syntax: %s",
		                   smtp_verb_name(l->verb));
		return;
	}
	if ((d->flags & SMTP_CMD_NEEDS_HELO) != 0 && s->helo == NULL) {
		smtp_reply__reject(s, 503, "5.5.1", "bad_sequence",
		                   "Error: send HELO/EHLO first");
		return;
	}
	d->fn(s, l->args);
}

static void
smtp_cmd_reject(struct smtp_session *s, const struct smtp_reject *r)
{
	smtp_reply__reject(s, r->code, r->status, r->reason, "%s", r->text);
}

static void
smtp_cmd_hello(struct smtp_session *s, struct rs_str args, bool esmtp)
{
	const struct smtp_hooks *h = s->srv->hooks;
	struct smtp_reject rej;

	if (smtp_args_helo(args, &rej) != 0) {
		smtp_cmd_reject(s, &rej);
		return;
	}
	/* RFC 5321 section 4.1.4: EHLO/HELO in a session resets it. */
	smtp_session__txn_end(s);
	free(s->helo);
	s->helo = rs_str_dup(args);
	s->esmtp = esmtp;
	smtp_session__hooked(s, h->on_helo != NULL
	                        ? h->on_helo(s->srv->hooks_ctx, s, s->helo)
	                        : 1);
}

static void
smtp_cmd_helo(struct smtp_session *s, struct rs_str args)
{
	smtp_cmd_hello(s, args, false);
}

static void
smtp_cmd_ehlo(struct smtp_session *s, struct rs_str args)
{
	smtp_cmd_hello(s, args, true);
}

static void
smtp_cmd_hello_done(struct smtp_session *s, int rc)
{
	char v[SMTP_HELO_MAX + 1];

	if (rc < 0) {
		RS_FREE(&s->helo);
		return;
	}
	rs_logc(&s->log, RS_LOG_INFO, "smtp.helo", "verb=%s name=%s",
	        smtp_verb_name(s->verb),
	        rs_log_val(v, sizeof(v), s->helo, strlen(s->helo)));
	if (!s->esmtp) {
		smtp_reply__send(s, 250, NULL, "%s", smtp_session__host(s));
		return;
	}
	/* RFC 5321 section 4.1.1.1; the extensions' RFCs: 2920, 1870,
	 * 6152, 6531, 2034, 3030. */
	smtp_reply__printf(s, "250-%s\r\n250-PIPELINING\r\n250-SIZE %" PRIu64
	                   "\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
	                   "250-ENHANCEDSTATUSCODES\r\n250 CHUNKING\r\n",
	                   smtp_session__host(s),
	                   s->srv->limits.max_message);
}

static void
smtp_cmd_mail(struct smtp_session *s, struct rs_str args)
{
	const struct smtp_hooks *h = s->srv->hooks;
	struct smtp_reject rej;
	struct smtp_mail m;
	struct smtp_txn *t;

	if (s->txn != NULL) {
		/* RFC 3030 section 2: after a refused chunk the client
		 * may start over with MAIL as well as with RSET. */
		if (!s->txn->bdat_failed) {
			smtp_reply__reject(s, 503, "5.5.1", "bad_sequence",
			                   "Error: nested MAIL command");
			return;
		}
		smtp_session__txn_end(s);
	}
	if (smtp_args_mail(args, &m, &rej) != 0) {
		smtp_cmd_reject(s, &rej);
		return;
	}
	if (m.has_params && !s->esmtp) {
		/* RFC 5321 section 4.1.1.11: extensions need EHLO. */
		smtp_reply__reject(s, 555, "5.5.4", "params_without_ehlo",
		                   "Error: parameters need EHLO");
		return;
	}
	if (m.has_size && m.size > s->srv->limits.max_message) {
		/* RFC 1870 section 6.1. */
		smtp_reply__reject(s, 552, "5.3.4", "too_big",
		                   "Message size exceeds fixed maximum "
		                   "message size");
		return;
	}
	t = smtp_session__txn_new(s);
	t->mail = m;
	smtp_session__hooked(s, h->on_mail != NULL
	                        ? h->on_mail(s->srv->hooks_ctx, s, &t->mail)
	                        : 1);
}

static void
smtp_cmd_mail_done(struct smtp_session *s, int rc)
{
	static const char *const body[] = { "-", "7bit", "8bitmime" };
	const struct smtp_mail *m = &s->txn->mail;
	char a[RS_ADDR_TEXT_MAX], v[RS_ADDR_TEXT_MAX];

	if (rc < 0) {
		smtp_session__txn_end(s);
		return;
	}
	rs_addr_format(&m->from, a, sizeof(a));
	rs_logc(&s->log, RS_LOG_DEBUG, "smtp.mail", "from=<%s> id=%s size=%"
	        PRIu64 " body=%s smtputf8=%s",
	        rs_log_val(v, sizeof(v), a, strlen(a)), s->txn->id, m->size,
	        body[m->body], m->smtputf8 ? "yes" : "no");
	smtp_reply__send(s, 250, "2.1.0", "Ok");
}

static void
smtp_cmd_rcpt(struct smtp_session *s, struct rs_str args)
{
	const struct smtp_hooks *h = s->srv->hooks;
	struct smtp_txn *t = s->txn;
	struct smtp_reject rej;

	if (t == NULL || t->mode != SMTP_MODE_NONE || t->bdat_failed) {
		smtp_reply__reject(s, 503, "5.5.1", "bad_sequence",
		                   "Error: need MAIL command");
		return;
	}
	if (smtp_args_rcpt(args, t->mail.smtputf8, &t->rcpt, &rej) != 0) {
		smtp_cmd_reject(s, &rej);
		return;
	}
	if (t->nrcpt >= s->srv->limits.max_recipients) {
		/* RFC 5321 section 4.5.3.1.10. */
		smtp_reply__reject(s, 452, "4.5.3", "too_many_recipients",
		                   "Error: too many recipients");
		return;
	}
	smtp_session__hooked(s, h->on_rcpt != NULL
	                        ? h->on_rcpt(s->srv->hooks_ctx, s, &t->mail,
	                                     &t->rcpt)
	                        : 1);
}

/* Adds "<addr>" to the transaction's recipient list for its log line. */
static void
smtp_cmd_rcpt_note(struct smtp_txn *t, const char *addr)
{
	size_t room = sizeof(t->rcpts_log) - t->rcpts_log_len;
	int n = snprintf(t->rcpts_log + t->rcpts_log_len, room, "%s<%s>",
	                 t->rcpts_log_len > 0 ? "," : "", addr);

	if (n > 0 && (size_t)n < room)
		t->rcpts_log_len += (size_t)n;
	else {
		t->rcpts_log[t->rcpts_log_len] = '\0';
		t->rcpts_log_more++;
	}
}

static void
smtp_cmd_rcpt_done(struct smtp_session *s, int rc)
{
	struct smtp_txn *t = s->txn;
	char a[RS_ADDR_TEXT_MAX], v[RS_ADDR_TEXT_MAX];

	if (rc < 0)
		return;
	if (t->rcpt.postmaster)
		snprintf(a, sizeof(a), "Postmaster");
	else
		rs_addr_format(&t->rcpt.to, a, sizeof(a));
	if (t->nrcpt++ == 0)
		memcpy(t->rcpt1, a, sizeof(t->rcpt1));
	smtp_cmd_rcpt_note(t, rs_log_val(v, sizeof(v), a, strlen(a)));
	rs_logc(&s->log, RS_LOG_DEBUG, "smtp.rcpt", "accepted to=<%s> "
	        "code=250 id=%s", v, t->id);
	smtp_reply__send(s, 250, "2.1.5", "Ok");
}

void
smtp_cmd__after(struct smtp_session *s, int rc)
{
	switch (s->verb) {
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
		smtp_cmd_hello_done(s, rc);
		return;
	case SMTP_VERB_MAIL:
		smtp_cmd_mail_done(s, rc);
		return;
	case SMTP_VERB_RCPT:
		smtp_cmd_rcpt_done(s, rc);
		return;
	default:
		return;
	}
}

static void
smtp_cmd_rset(struct smtp_session *s, struct rs_str args)
{
	(void)args;
	/* RFC 5321 section 4.1.1.5: the transaction goes, EHLO stays. */
	smtp_session__txn_end(s);
	smtp_reply__send(s, 250, "2.0.0", "Ok");
}

static void
smtp_cmd_noop(struct smtp_session *s, struct rs_str args)
{
	(void)args;
	smtp_reply__send(s, 250, "2.0.0", "Ok");
}

static void
smtp_cmd_quit(struct smtp_session *s, struct rs_str args)
{
	(void)args;
	smtp_reply__send(s, 221, "2.0.0", "Bye");
	smtp_session__finish(s, "quit");
}

static void
smtp_cmd_help(struct smtp_session *s, struct rs_str args)
{
	(void)args;
	smtp_reply__send(s, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT "
	                 "DATA BDAT RSET NOOP QUIT HELP VRFY");
}

static void
smtp_cmd_vrfy(struct smtp_session *s, struct rs_str args)
{
	(void)args;
	/* RFC 5321 section 3.5.3: 252 when we will not say. */
	smtp_reply__send(s, 252, "2.5.2", "Cannot VRFY user, but will "
	                 "accept message and attempt delivery");
}

static void
smtp_cmd_expn(struct smtp_session *s, struct rs_str args)
{
	(void)args;
	/* RFC 5321 section 3.5.2: lists are not disclosed. */
	smtp_reply__reject(s, 502, "5.5.1", "expn",
	                   "Error: command not implemented");
}
