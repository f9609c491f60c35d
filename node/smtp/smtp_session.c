/* smtp_session.c: one SMTP connection on a bufferevent: the read loop by
 * state, replies and error counting, flow control (pipelining, output
 * watermarks), timeouts, hook completion and the one close path with its
 * reference count. The commands live in smtp_cmd.c and smtp_body.c. */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/smtp/smtp_int.h"

static const char *const smtp_session_states[] = {
	[SMTP_STATE_CMD] = "cmd",
	[SMTP_STATE_DATA] = "data",
	[SMTP_STATE_BDAT] = "bdat",
	[SMTP_STATE_WAIT] = "wait",
	[SMTP_STATE_FLUSH] = "flush",
	[SMTP_STATE_CLOSING] = "closing",
};

static void smtp_session_on_read(struct bufferevent *bev, void *arg);

const char *
smtp_session__host(const struct smtp_session *s)
{
	return s->srv->hostname;
}

struct evbuffer *
smtp_session__in(struct smtp_session *s)
{
	return bufferevent_get_input(s->bev);
}

bool
smtp_session__live(const struct smtp_session *s)
{
	return s->state != SMTP_STATE_FLUSH && s->state != SMTP_STATE_CLOSING;
}

bool
smtp_session__closed(const struct smtp_session *s)
{
	return s->state == SMTP_STATE_CLOSING;
}

const struct rs_log_ctx *
smtp_session__log(const struct smtp_session *s)
{
	return &s->log;
}

const char *
smtp_session__txn_id(const struct smtp_session *s)
{
	return s->txn != NULL ? s->txn->id : "";
}

size_t
smtp_session__trace_len(const struct smtp_session *s)
{
	return s->txn != NULL ? s->txn->hdr_len : 0;
}

const struct rs_addr *
smtp_session__txn_from(const struct smtp_session *s)
{
	return s->txn != NULL ? &s->txn->mail.from : NULL;
}

void
smtp_session__txn_addrs(const struct smtp_session *s, char *buf, size_t size)
{
	const struct smtp_txn *t = s->txn;
	char a[RS_ADDR_TEXT_MAX], v[RS_ADDR_TEXT_MAX];
	int n;

	buf[0] = '\0';
	if (t == NULL)
		return;
	rs_addr_format(&t->mail.from, a, sizeof(a));
	n = snprintf(buf, size, " from=<%s> to=%s",
	             rs_log_val(v, sizeof(v), a, strlen(a)), t->rcpts_log);
	if (t->rcpts_log_more > 0 && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, ",+%u", t->rcpts_log_more);
}

void *
smtp_session__policy_data(const struct smtp_session *s)
{
	return s->policy_data;
}

void
smtp_session__set_policy_data(struct smtp_session *s, void *p)
{
	s->policy_data = p;
}

static bool
smtp_session_reading(enum smtp_state st)
{
	return st == SMTP_STATE_CMD || st == SMTP_STATE_DATA ||
	       st == SMTP_STATE_BDAT;
}

void
smtp_session__set_state(struct smtp_session *s, enum smtp_state st)
{
	s->state = st;
	/* WAIT keeps the read event: on_read ignores input then, the read
	 * watermark bounds what piles up, and toggling the event would cost
	 * two epoll_ctl calls per message. */
	if ((smtp_session_reading(st) || st == SMTP_STATE_WAIT) && !s->paused)
		bufferevent_enable(s->bev, EV_READ);
	else
		bufferevent_disable(s->bev, EV_READ);
}

/* After an async completion or a drained output: re-enables reading and
 * handles what is already buffered, since pipelined input that arrived
 * earlier raises no new read event. */
static void
smtp_session_resume(struct smtp_session *s)
{
	if (!smtp_session_reading(s->state))
		return;
	smtp_session__set_state(s, s->state);
	if (!s->paused)
		smtp_session_on_read(s->bev, s);
}

struct smtp_txn *
smtp_session__txn_new(struct smtp_session *s)
{
	struct smtp_txn *t = rs_xcalloc(1, sizeof(*t));

	s->ntxn++;
	snprintf(t->id, sizeof(t->id), "%s.%u", s->log.sid, s->ntxn);
	rs_buf_init(&t->msg, 0);
	s->txn = t;
	return t;
}

static void
smtp_session_txn_free(struct smtp_session *s)
{
	if (s->txn == NULL)
		return;
	rs_buf_free(&s->txn->msg);
	RS_FREE(&s->txn);
}

void
smtp_session__txn_end(struct smtp_session *s)
{
	const struct smtp_hooks *h = s->srv->hooks;

	if (h->on_reset != NULL && (s->txn != NULL || s->policy_data != NULL))
		h->on_reset(s->srv->hooks_ctx, s);
	smtp_session_txn_free(s);
}

/* Between BDAT chunks of a transaction the client still has data to
 * send: shutdown lets it finish. */
static bool
smtp_session_mid_bdat(const struct smtp_session *s)
{
	return s->txn != NULL && s->txn->mode == SMTP_MODE_BDAT &&
	       !s->txn->bdat_failed;
}

void
smtp_session__txn_replied(struct smtp_session *s)
{
	if (s->shutdown && s->state == SMTP_STATE_CMD &&
	    !smtp_session_mid_bdat(s))
		smtp_reply__bye(s, "4.3.2", "shutdown",
		                "Service shutting down");
}

static void
smtp_session_after(struct smtp_session *s, int rc)
{
	if (s->verb == SMTP_VERB_DATA || s->verb == SMTP_VERB_BDAT)
		smtp_body__after(s, rc);
	else
		smtp_cmd__after(s, rc);
	smtp_session__txn_replied(s);
}

void
smtp_session__hooked(struct smtp_session *s, int rc)
{
	if (rc == 0) {
		smtp_session__set_state(s, SMTP_STATE_WAIT);
		return;
	}
	smtp_session_after(s, rc);
}

void
smtp_session__hook_done(struct smtp_session *s, int rc)
{
	/* Closed meanwhile, or already on its way out (FLUSH). */
	if (s->state != SMTP_STATE_WAIT)
		return;
	smtp_session__set_state(s, SMTP_STATE_CMD);
	smtp_session_after(s, rc);
	smtp_session_resume(s);
}

void
smtp_session__finish(struct smtp_session *s, const char *reason)
{
	if (!smtp_session__live(s))
		return;
	s->close_reason = reason;
	smtp_session__set_state(s, SMTP_STATE_FLUSH);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		smtp_session__close(s, reason);
}

void
smtp_session__close(struct smtp_session *s, const char *reason)
{
	if (s->state == SMTP_STATE_CLOSING)
		return;
	rs_logc(&s->log, RS_LOG_INFO, "smtp.close",
	        "reason=%s state=%s transactions=%u errors=%u", reason,
	        smtp_session_states[s->state], s->ntxn, s->errors);
	s->state = SMTP_STATE_CLOSING;
	proto_conn_close(&s->conn, s->bev);
}

/* Graceful server stop (proto_ops.shutdown): see smtp_server_shutdown. */
static void
smtp_session_shutdown(void *arg)
{
	struct smtp_session *s = arg;

	switch (s->state) {
	case SMTP_STATE_FLUSH:
	case SMTP_STATE_CLOSING:
		return;
	case SMTP_STATE_DATA:
	case SMTP_STATE_BDAT:
	case SMTP_STATE_WAIT:
		s->shutdown = true;             /* see txn_replied */
		return;
	case SMTP_STATE_CMD:
		if (smtp_session_mid_bdat(s)) {
			s->shutdown = true;
			return;
		}
		break;
	}
	smtp_reply__bye(s, "4.3.2", "shutdown", "Service shutting down");
}

/* Releases a closed session at once (proto_ops.release: the deferred
 * release, or server free): leaves the server, frees the connection. */
static void
smtp_session_release(void *arg)
{
	struct smtp_session *s = arg;
	struct smtp_server *srv = s->srv;

	/* The policy drops its per-transaction state now, while it still
	 * exists; the message itself stays until the last reference goes,
	 * since a pending store operation may still be reading it. */
	if (srv->hooks->on_reset != NULL &&
	    (s->txn != NULL || s->policy_data != NULL))
		srv->hooks->on_reset(srv->hooks_ctx, s);
	proto_conn_release(&s->conn, &s->bev, s->ip);
	s->srv = NULL;
	smtp_parser_free(&s->parser);
	smtp_session__unref(s);
}

void
smtp_session__ref(struct smtp_session *s)
{
	s->refs++;
}

void
smtp_session__unref(struct smtp_session *s)
{
	if (--s->refs > 0)
		return;
	smtp_session_txn_free(s);
	free(s->helo);
	free(s);
}

/* One command line. 1: go on; 0: no complete line, or paused. */
static int
smtp_session_read_cmd(struct smtp_session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	struct evbuffer_iovec v;
	struct smtp_line line;
	struct rs_err err;
	size_t used = 0;
	int rc;

	/* RFC 2920 PIPELINING: a client that sends and never reads our
	 * replies is not answered into an unbounded buffer. */
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) >
	    SMTP_OUT_HIGH) {
		s->paused = true;
		bufferevent_disable(s->bev, EV_READ);
		return 0;
	}
	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
		return 0;
	rs_err_clear(&err);
	rc = smtp_parser_feed(s->parser, v.iov_base, v.iov_len, &used, &line,
	                      &err);
	evbuffer_drain(in, used);
	if (rc == 0)
		return 1;
	if (rc < 0) {
		s->verb = SMTP_VERB_UNKNOWN;
		smtp_reply__reject(s, 500, "5.5.2", err.code == RS_ETOOBIG
		                   ? "line_too_long" : "bad_line", "%s",
		                   err.msg);
		return 1;
	}
	smtp_cmd__dispatch(s, &line);
	return 1;
}

static void
smtp_session_on_read(struct bufferevent *bev, void *arg)
{
	struct smtp_session *s = arg;
	int rc = 1;

	(void)bev;
	while (rc > 0) {
		switch (s->state) {
		case SMTP_STATE_CMD:
			rc = smtp_session_read_cmd(s);
			break;
		case SMTP_STATE_DATA:
			rc = smtp_body__read_data(s);
			break;
		case SMTP_STATE_BDAT:
			rc = smtp_body__read_bdat(s);
			break;
		case SMTP_STATE_WAIT:
		case SMTP_STATE_FLUSH:
		case SMTP_STATE_CLOSING:
			rc = 0;
			break;
		}
	}
}

static void
smtp_session_on_write(struct bufferevent *bev, void *arg)
{
	struct smtp_session *s = arg;
	size_t len = evbuffer_get_length(bufferevent_get_output(bev));

	proto_conn_on_write(&s->conn);
	if (s->state == SMTP_STATE_FLUSH) {
		if (len == 0)
			smtp_session__close(s, s->close_reason);
		return;
	}
	if (s->paused && len <= SMTP_OUT_LOW) {
		s->paused = false;
		smtp_session_resume(s);
	}
}

/* A direct write emptied the output. */
static void
smtp_session_on_drained(void *arg)
{
	struct smtp_session *s = arg;

	smtp_session_on_write(s->bev, s);
}

static void
smtp_session_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct smtp_session *s = arg;

	(void)bev;
	if ((what & BEV_EVENT_TIMEOUT) != 0 && (what & BEV_EVENT_READING)) {
		/* RFC 5321 section 4.5.3.2: idle, or a DATA that stalls. */
		smtp_reply__bye(s, "4.4.2", "timeout",
		                "Error: timeout exceeded");
		return;
	}
	smtp_session__close(s, (what & BEV_EVENT_TIMEOUT) ? "write-timeout" :
	                    (what & BEV_EVENT_EOF) ? "eof" : "io-error");
}

int
smtp_session__new(struct smtp_server *srv, evutil_socket_t fd,
                  const struct sockaddr *sa, const char *ip)
{
	struct smtp_session *s = rs_xcalloc(1, sizeof(*s));

	if (proto_conn_open(&s->conn, srv->ps, s, fd, &s->bev) != 0) {
		free(s);
		return -1;
	}
	s->srv = srv;
	s->refs = 1;
	s->parser = smtp_parser_new(srv->limits.max_line);
	s->state = SMTP_STATE_CMD;
	proto_conn_peer(s->ip, sizeof(s->ip), &s->log, sa, ip);
	proto_conn_start(&s->conn, s->bev, srv->limits.timeout_ms);
	rs_logc(&s->log, RS_LOG_INFO, "smtp.connect", "sessions=%u",
	        smtp_server_sessions(srv));
	/* RFC 5321 section 4.2: the greeting; no version in the banner.
	 * XXX(smtp): a client that talks before it (a spambot sign,
	 * postscreen's pregreet test) is not detected. */
	smtp_reply__printf(s, "220 %s ESMTP Roost\r\n", srv->hostname);
	return 0;
}

/* proto_server's entry points take the session and server untyped. */
static int
smtp_session_accept(void *srv, evutil_socket_t fd, const struct sockaddr *sa,
                    const char *ip)
{
	return smtp_session__new(srv, fd, sa, ip);
}

static void
smtp_session_close_any(void *s, const char *reason)
{
	smtp_session__close(s, reason);
}

const struct proto_ops smtp_session__ops = {
	.name = "smtp",
	.accept = smtp_session_accept,
	.shutdown = smtp_session_shutdown,
	.close = smtp_session_close_any,
	.release = smtp_session_release,
	/* The deadline closes what is left, mid-transaction included. */
	.deadline_reason = "shutdown-timeout",
	.on_read = smtp_session_on_read,
	.on_write = smtp_session_on_write,
	.on_event = smtp_session_on_event,
	.on_drained = smtp_session_on_drained,
	.read_max = SMTP_READ_MAX,
	.out_low = SMTP_OUT_LOW,
	.in_high = SMTP_IN_HIGH,
};
