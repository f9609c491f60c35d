/* smtp_reply.c: replies (RFC 5321 section 4.2 with the RFC 2034 enhanced
 * status codes), refusals with their log line and the error count, and
 * the 421 that ends a session. Output only: no state changes but the
 * close that too many errors bring. */
#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node/smtp/smtp_int.h"

static const char *const smtp_reply_events[SMTP_VERB_COUNT] = {
	[SMTP_VERB_UNKNOWN] = "smtp.cmd",
	[SMTP_VERB_HELO] = "smtp.helo",
	[SMTP_VERB_EHLO] = "smtp.ehlo",
	[SMTP_VERB_MAIL] = "smtp.mail",
	[SMTP_VERB_RCPT] = "smtp.rcpt",
	[SMTP_VERB_DATA] = "smtp.data",
	[SMTP_VERB_BDAT] = "smtp.bdat",
	[SMTP_VERB_RSET] = "smtp.rset",
	[SMTP_VERB_NOOP] = "smtp.noop",
	[SMTP_VERB_QUIT] = "smtp.quit",
	[SMTP_VERB_HELP] = "smtp.help",
	[SMTP_VERB_VRFY] = "smtp.vrfy",
	[SMTP_VERB_EXPN] = "smtp.expn",
};

void
smtp_reply__printf(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;

	if (s->state == SMTP_STATE_CLOSING)
		return;
	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(s->bev), fmt, ap);
	va_end(ap);
}

void
smtp_reply__send(struct smtp_session *s, unsigned code,
                 const char *status, const char *fmt, ...)
{
	struct evbuffer *out;
	va_list ap;

	if (s->state == SMTP_STATE_CLOSING)
		return;
	out = bufferevent_get_output(s->bev);
	/* RFC 2034 section 3: the enhanced code follows the reply code. */
	if (status != NULL)
		evbuffer_add_printf(out, "%u %s ", code, status);
	else
		evbuffer_add_printf(out, "%u ", code);
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

/* " to=<...> from=<...>" (RCPT) or " from=<...>" (MAIL) for the log,
 * when known. */
static void
smtp_reply_log_addr(const struct smtp_session *s, char *buf, size_t size)
{
	const struct smtp_txn *t = s->txn;
	char a[RS_ADDR_TEXT_MAX], v[RS_ADDR_TEXT_MAX];
	int n;

	buf[0] = '\0';
	if (t == NULL)
		return;
	if (s->verb == SMTP_VERB_RCPT &&
	    (t->rcpt.to.domain[0] != '\0' || t->rcpt.postmaster)) {
		if (t->rcpt.postmaster)
			snprintf(a, sizeof(a), "postmaster");
		else
			rs_addr_format(&t->rcpt.to, a, sizeof(a));
		n = snprintf(buf, size, " to=<%s>",
		             rs_log_val(v, sizeof(v), a, strlen(a)));
		/* Who tried: the sender, as Postfix's reject lines have. */
		rs_addr_format(&t->mail.from, a, sizeof(a));
		if (n > 0 && (size_t)n < size)
			snprintf(buf + n, size - (size_t)n, " from=<%s>",
			         rs_log_val(v, sizeof(v), a, strlen(a)));
	} else if (s->verb == SMTP_VERB_MAIL) {
		rs_addr_format(&t->mail.from, a, sizeof(a));
		snprintf(buf, size, " from=<%s>",
		         rs_log_val(v, sizeof(v), a, strlen(a)));
	}
}

void
smtp_reply__reject(struct smtp_session *s, unsigned code,
                   const char *status, const char *reason,
                   const char *fmt, ...)
{
	char text[256], addr[2 * RS_ADDR_TEXT_MAX + 16];
	va_list ap;

	if (s->state == SMTP_STATE_CLOSING)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	smtp_reply__send(s, code, status, "%s", text);
	smtp_reply_log_addr(s, addr, sizeof(addr));
	rs_logc(&s->log, RS_LOG_INFO, smtp_reply_events[s->verb],
	        "rejected code=%u status=%s reason=%s%s", code,
	        status != NULL ? status : "-", reason, addr);
	/* Our own failures (421, 451, a full disk) are not the client's
	 * errors. */
	if (code == 421 || code == 451 ||
	    (status != NULL && strcmp(status, "4.3.1") == 0) ||
	    !smtp_session__live(s))
		return;
	if (++s->errors >= s->srv->limits.max_errors)
		smtp_reply__bye(s, "4.7.0", "too-many-errors",
		                "Error: too many errors");
}

void
smtp_reply__store_refused(struct smtp_session *s, bool no_space)
{
	/* RFC 3463 4.3.1 "Mail system full", what Postfix answers while
	 * its queue file system is under queue_minfree; 4.3.0 "Other or
	 * undefined mail system status" for a store that stopped after a
	 * disk error. Both temporary: the client keeps the message. */
	if (no_space)
		smtp_reply__reject(s, 452, "4.3.1", "store_low_space",
		                   "Insufficient system storage");
	else
		smtp_reply__reject(s, 451, "4.3.0", "store_failed",
		                   "Mail system temporarily unavailable, try "
		                   "again later");
}

void
smtp_reply__bye(struct smtp_session *s, const char *status,
                const char *reason, const char *text)
{
	if (!smtp_session__live(s))
		return;
	smtp_reply__send(s, 421, status, "%s %s", smtp_session__host(s),
	                 text);
	smtp_session__finish(s, reason);
}

