/* smtp_body.c: DATA (RFC 5321 section 4.1.1.4) and BDAT (RFC 3030): the
 * commands, the body readers, the Return-Path: and Received: lines, and
 * the hand-over to the policy's on_data_end. The body goes straight from
 * the input evbuffer into the transaction's capped rs_buf: DATA through
 * the smtp_data decoder, BDAT verbatim with evbuffer_remove. */
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/rs_time.h"
#include "node/smtp/smtp_int.h"

static void
smtp_body_too_big(struct smtp_session *s)
{
	/* RFC 1870 section 6.3 / RFC 3463: 552 5.3.4. */
	smtp_reply__reject(s, 552, "5.3.4", "too_big", "Message size exceeds "
	                   "fixed maximum message size");
}

/* Starts the stored message with the trace lines (RFC 5321 section
 * 4.4): Return-Path: and our Received:, with the protocol names of RFC
 * 3848 and RFC 6531 section 3.7.3. "for" only when the transaction has a
 * single recipient, so that a message to many does not disclose one.
 * RFC 5322 section 3.6.7 wants the ";" before the date in either case:
 * "...id X\r\n\tfor <r>; date" or "...id X;\r\n\tdate". The body
 * follows, changed in nothing. */
static int
smtp_body_start(struct smtp_session *s)
{
	struct smtp_txn *t = s->txn;
	char from[RS_ADDR_TEXT_MAX], date[64], ip[NETADDR_TEXT_MAX + 8];
	const char *proto = !s->esmtp ? "SMTP"
	                    : t->mail.smtputf8 ? "UTF8SMTP" : "ESMTP";
	int rc;

	rs_addr_format(&t->mail.from, from, sizeof(from));
	rs_time_rfc5322(date, sizeof(date), time(NULL));
	/* RFC 5321 section 4.1.3: an IPv6 literal carries its tag. */
	snprintf(ip, sizeof(ip), "%s%s", strchr(s->ip, ':') != NULL
	         ? "IPv6:" : "", s->ip);
	rs_buf_free(&t->msg);
	rs_buf_init(&t->msg, RS_BUF_UNLIMITED);
	rc = rs_buf_printf(&t->msg, "Return-Path: <%s>\r\n"
	                   "Received: from %s ([%s])\r\n"
	                   "\tby %s (Roost) with %s id %s", from, s->helo, ip,
	                   smtp_session__host(s), proto, t->id);
	if (rc == 0 && t->nrcpt == 1)
		rc = rs_buf_printf(&t->msg, "\r\n\tfor <%s>; %s\r\n", t->rcpt1,
		                   date);
	else if (rc == 0)
		rc = rs_buf_printf(&t->msg, ";\r\n\t%s\r\n", date);
	if (rc != 0)
		return rc;
	t->hdr_len = t->msg.len;
	t->msg.max = t->hdr_len + s->srv->limits.max_message;
	return 0;
}

void
smtp_body__data(struct smtp_session *s, struct rs_str args)
{
	struct smtp_txn *t = s->txn;

	(void)args;
	if (t == NULL || t->nrcpt == 0) {
		smtp_reply__reject(s, 503, "5.5.1", "bad_sequence", t == NULL
		                   ? "Error: need MAIL command"
		                   : "Error: need RCPT command");
		return;
	}
	if (t->mode != SMTP_MODE_NONE || t->bdat_failed) {
		/* RFC 3030 section 3: no DATA in a BDAT transaction. */
		smtp_reply__reject(s, 503, "5.5.1", "bad_sequence",
		                   "Error: DATA after BDAT");
		return;
	}
	if (smtp_body_start(s) != 0) {
		smtp_reply__reject(s, 451, "4.3.0", "local_error",
		                   "Error: local error");
		return;
	}
	t->mode = SMTP_MODE_DATA;
	t->body_start = rs_mono_ms();
	smtp_data_init(&t->data, &t->msg);
	/* RFC 5321 section 4.2: 354 is intermediate, no enhanced code. */
	smtp_reply__send(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	smtp_session__set_state(s, SMTP_STATE_DATA);
}

/* The message is complete and clean: the policy stores it. */
static void
smtp_body_deliver(struct smtp_session *s)
{
	const struct smtp_hooks *h = s->srv->hooks;
	struct smtp_txn *t = s->txn;

	smtp_session__hooked(s, h->on_data_end != NULL
	                        ? h->on_data_end(s->srv->hooks_ctx, s,
	                                         t->msg.data, t->msg.len)
	                        : 1);
}

/* The CRLF.CRLF came: refuse, or deliver. */
static void
smtp_body_data_end(struct smtp_session *s)
{
	struct smtp_txn *t = s->txn;

	s->verb = SMTP_VERB_DATA;
	smtp_session__set_state(s, SMTP_STATE_CMD);
	if (t->data.bare) {
		/* RFC 5321 section 2.3.8: SMTP smuggling and its kin. */
		smtp_reply__reject(s, 550, "5.5.2", "bare_newline",
		                   "Bare CR or LF in message; use CRLF line "
		                   "endings");
	} else if (t->data.too_big) {
		smtp_body_too_big(s);
	} else {
		smtp_body_deliver(s);
		return;
	}
	smtp_session__txn_end(s);
	smtp_session__txn_replied(s);
}

/* Past smtp.data_timeout since DATA or the first BDAT: 421 and hang up
 * (mid-message there is no command boundary to go on from). Checked as
 * input arrives, so a client that drips bytes is cut off at its first
 * byte after the deadline, and a silent one by smtp.timeout. */
static bool
smtp_body_overdue(struct smtp_session *s)
{
	const struct smtp_txn *t = s->txn;

	if (t == NULL || t->mode == SMTP_MODE_NONE ||
	    rs_mono_ms() - t->body_start <= s->srv->limits.data_timeout_ms)
		return false;
	smtp_reply__bye(s, "4.4.2", "data-timeout",
	                "Error: timeout exceeded: the message took too long");
	return true;
}

int
smtp_body__read_data(struct smtp_session *s)
{
	struct evbuffer *in = smtp_session__in(s);
	struct smtp_txn *t = s->txn;
	struct evbuffer_iovec v;

	if (smtp_body_overdue(s))
		return 0;
	while (evbuffer_peek(in, -1, NULL, &v, 1) == 1) {
		size_t used = 0;
		int rc = smtp_data_feed(&t->data, v.iov_base, v.iov_len, &used);

		evbuffer_drain(in, used);
		if (rc == 1) {
			smtp_body_data_end(s);
			return 1;
		}
		if (t->data.received / 2 > s->srv->limits.max_message) {
			/* Twice the limit and no end in sight: the client is
			 * not going to stop. Answer and hang up; the close
			 * lingers (node/core/linger.h), so the 552 is not
			 * lost to a reset while the client still sends. */
			s->verb = SMTP_VERB_DATA;
			smtp_body_too_big(s);
			smtp_session__finish(s, "data-too-big");
			return 0;
		}
	}
	return 0;
}

/* Why a chunk is read past and refused, once it is read. */
static void
smtp_body_discard(struct smtp_session *s, unsigned code, const char *status,
                  const char *reason, const char *text)
{
	s->chunk_discard = true;
	s->chunk_rej = (struct smtp_reject){ code, status, reason, text };
}

void
smtp_body__bdat(struct smtp_session *s, struct rs_str args)
{
	struct smtp_txn *t = s->txn;
	uint64_t max = s->srv->limits.max_message, size, have;
	bool last;

	if (smtp_args_bdat(args, &size, &last) != 0) {
		/* RFC 3030 section 2: without the size the chunk cannot be
		 * skipped, and its octets must not be taken as commands. */
		smtp_reply__reject(s, 501, "5.5.4", "syntax",
		                   "Syntax: BDAT chunk-size [LAST]");
		smtp_session__finish(s, "bdat-syntax");
		return;
	}
	have = t != NULL && t->mode == SMTP_MODE_BDAT ? t->msg.len - t->hdr_len
	                                              : 0;
	if (size / 2 > max || (have + size) / 2 > max) {
		/* Not worth reading past: answer and hang up. */
		smtp_body_too_big(s);
		smtp_session__finish(s, "bdat-too-big");
		return;
	}
	s->chunk_size = s->chunk_left = size;
	s->chunk_last = last;
	s->chunk_discard = false;
	if (s->helo == NULL || !s->esmtp) {
		smtp_body_discard(s, 503, "5.5.1", "bad_sequence",
		                  "Error: send EHLO first");
	} else if (t == NULL || t->bdat_failed) {
		smtp_body_discard(s, 503, "5.5.1", "bad_sequence",
		                  "Error: need MAIL command");
	} else if (t->nrcpt == 0) {
		smtp_body_discard(s, 503, "5.5.1", "bad_sequence",
		                  "Error: need RCPT command");
	} else if (have + size > max) {
		/* Read past it; later chunks get 503 until RSET or MAIL. */
		smtp_body_discard(s, 552, "5.3.4", "too_big",
		                  "Message size exceeds fixed maximum message "
		                  "size");
		t->bdat_failed = true;
	} else if (t->mode == SMTP_MODE_NONE) {
		if (smtp_body_start(s) != 0) {
			smtp_body_discard(s, 451, "4.3.0", "local_error",
			                  "Error: local error");
			t->bdat_failed = true;
		} else {
			t->mode = SMTP_MODE_BDAT;
			t->body_start = rs_mono_ms();
		}
	}
	smtp_session__set_state(s, SMTP_STATE_BDAT);
}

/* The whole chunk was read. */
static void
smtp_body_chunk_end(struct smtp_session *s)
{
	s->verb = SMTP_VERB_BDAT;
	smtp_session__set_state(s, SMTP_STATE_CMD);
	if (s->chunk_discard) {
		const struct smtp_reject *r = &s->chunk_rej;

		smtp_reply__reject(s, r->code, r->status, r->reason, "%s",
		                   r->text);
	} else if (!s->chunk_last) {
		/* RFC 3030 section 2: each chunk gets its reply. */
		smtp_reply__send(s, 250, "2.0.0", "%" PRIu64 " octets "
		                 "received", s->chunk_size);
	} else {
		smtp_body_deliver(s);
		return;
	}
	smtp_session__txn_replied(s);
}

int
smtp_body__read_bdat(struct smtp_session *s)
{
	struct evbuffer *in = smtp_session__in(s);
	struct smtp_txn *t = s->txn;

	if (smtp_body_overdue(s))
		return 0;
	while (s->chunk_left > 0) {
		size_t avail = evbuffer_get_length(in), n;

		if (avail == 0)
			return 0;
		n = s->chunk_left < avail ? (size_t)s->chunk_left : avail;
		if (s->chunk_discard) {
			evbuffer_drain(in, n);
		} else if (rs_buf_reserve(&t->msg, n) != 0) {
			/* Cannot happen: the size was checked at BDAT. */
			smtp_body_discard(s, 552, "5.3.4", "too_big",
			                  "Message size exceeds fixed maximum "
			                  "message size");
			t->bdat_failed = true;
			continue;
		} else {
			/* Binary, verbatim: no unstuffing, no line rules. */
			evbuffer_remove(in, t->msg.data + t->msg.len, n);
			t->msg.len += n;
			t->msg.data[t->msg.len] = '\0';
		}
		s->chunk_left -= n;
	}
	smtp_body_chunk_end(s);
	return 1;
}

void
smtp_body__after(struct smtp_session *s, int rc)
{
	if (rc > 0) {
		/* The store's completion said durable: only now 250. */
		smtp_reply__send(s, 250, "2.0.0", "Ok: stored as %s",
		                 s->txn->id);
		s->junk = 0;
	}
	smtp_session__txn_end(s);
}
