/* pop3_session.c: one POP3 connection on a bufferevent: reading command
 * lines through pop3_parser, dispatching them by state, replies, flow
 * control (pipelining, streamed responses) and the one close path. The
 * commands themselves live in pop3_auth.c, pop3_maildrop.c, pop3_retr.c. */
#include <event2/buffer.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/core/node_ctx.h"
#include "node/pop3/pop3_int.h"

/* Where a command is valid (RFC 1939 sections 4-6; RFC 2449 section 5
 * allows CAPA in every state) and whether it carries a password. */
#define POP3_CMD_AUTHZ  (1u << 0)  /* AUTHORIZATION */
#define POP3_CMD_TRANS  (1u << 1)  /* TRANSACTION */
#define POP3_CMD_ANY    (POP3_CMD_AUTHZ | POP3_CMD_TRANS)
#define POP3_CMD_PLAIN  (1u << 2)  /* plaintext login: policy applies */

struct pop3_cmd_def {
	pop3_cmd_fn *fn;
	unsigned     flags;
};

static pop3_cmd_fn pop3_session_capa;

static const struct pop3_cmd_def pop3_cmds[POP3_VERB_COUNT] = {
	[POP3_VERB_CAPA] = { pop3_session_capa, POP3_CMD_ANY },
	[POP3_VERB_USER] = { pop3_auth__user, POP3_CMD_AUTHZ | POP3_CMD_PLAIN },
	[POP3_VERB_PASS] = { pop3_auth__pass, POP3_CMD_AUTHZ | POP3_CMD_PLAIN },
	[POP3_VERB_AUTH] = { pop3_auth__auth, POP3_CMD_AUTHZ | POP3_CMD_PLAIN },
	[POP3_VERB_QUIT] = { pop3_maildrop__quit, POP3_CMD_ANY },
	[POP3_VERB_STAT] = { pop3_maildrop__stat, POP3_CMD_TRANS },
	[POP3_VERB_LIST] = { pop3_maildrop__list, POP3_CMD_TRANS },
	[POP3_VERB_UIDL] = { pop3_maildrop__uidl, POP3_CMD_TRANS },
	[POP3_VERB_DELE] = { pop3_maildrop__dele, POP3_CMD_TRANS },
	[POP3_VERB_RSET] = { pop3_maildrop__rset, POP3_CMD_TRANS },
	[POP3_VERB_NOOP] = { pop3_maildrop__noop, POP3_CMD_TRANS },
	[POP3_VERB_RETR] = { pop3_retr__retr, POP3_CMD_TRANS },
	[POP3_VERB_TOP] = { pop3_retr__top, POP3_CMD_TRANS },
};

static void pop3_session_on_read(struct bufferevent *bev, void *arg);
static void pop3_session_on_write(struct bufferevent *bev, void *arg);
static void pop3_session_on_event(struct bufferevent *bev, short what,
                                  void *arg);

struct evbuffer *
pop3_session__out(struct pop3_session *s)
{
	return bufferevent_get_output(s->bev);
}

struct store *
pop3_session__store(const struct pop3_session *s)
{
	return s->srv->node->store;
}

static bool
pop3_session_reading(enum pop3_state st)
{
	return st == POP3_STATE_AUTH || st == POP3_STATE_SASL ||
	       st == POP3_STATE_TRANS;
}

void
pop3_session__printf(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(pop3_session__out(s), fmt, ap);
	va_end(ap);
}

void
pop3_session__ok(struct pop3_session *s, const char *fmt, ...)
{
	struct evbuffer *out = pop3_session__out(s);
	va_list ap;

	evbuffer_add(out, "+OK ", 4);
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

void
pop3_session__err(struct pop3_session *s, const char *fmt, ...)
{
	struct evbuffer *out = pop3_session__out(s);
	va_list ap;

	evbuffer_add(out, "-ERR ", 5);
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
	if (++s->errors >= s->srv->limits.max_errors) {
		rs_logc(&s->log, RS_LOG_INFO, "pop3.too_many_errors",
		        "errors=%u", s->errors);
		pop3_session__finish(s, "too-many-errors");
	}
}

void
pop3_session__set_state(struct pop3_session *s, enum pop3_state st)
{
	s->state = st;
	if (pop3_session_reading(st) && !s->paused)
		bufferevent_enable(s->bev, EV_READ);
	else
		bufferevent_disable(s->bev, EV_READ);
}

void
pop3_session__resume(struct pop3_session *s)
{
	if (!pop3_session_reading(s->state))
		return;
	pop3_session__set_state(s, s->state);
	pop3_session_on_read(s->bev, s);
}

/* Produces while the output is below the low watermark. 1: complete,
 * 0: the write callback continues later, -1: closed. */
static int
pop3_session_pump(struct pop3_session *s)
{
	while (evbuffer_get_length(pop3_session__out(s)) < POP3_OUT_LOW) {
		int rc = s->stream.fill(s);

		if (rc != 0)
			return rc;
	}
	return 0;
}

static void
pop3_session_stream_end(struct pop3_session *s)
{
	free(s->stream.chunk);
	memset(&s->stream, 0, sizeof(s->stream));
}

void
pop3_session__stream(struct pop3_session *s, pop3_fill_fn *fill)
{
	s->stream.fill = fill;
	pop3_session__set_state(s, POP3_STATE_STREAM);
	if (pop3_session_pump(s) == 1) {
		/* Done at once: on_read's loop goes on with the next one. */
		pop3_session_stream_end(s);
		pop3_session__set_state(s, POP3_STATE_TRANS);
	}
}

void
pop3_session__finish(struct pop3_session *s, const char *reason)
{
	if (s->state == POP3_STATE_CLOSING || s->state == POP3_STATE_FLUSH)
		return;
	s->close_reason = reason;
	pop3_session__set_state(s, POP3_STATE_FLUSH);
	if (evbuffer_get_length(pop3_session__out(s)) == 0)
		pop3_session__close(s, reason);
}

void
pop3_session__close(struct pop3_session *s, const char *reason)
{
	char v[96];

	if (s->state == POP3_STATE_CLOSING)
		return;
	rs_logc(&s->log, RS_LOG_INFO, "pop3.close", "reason=%s user=%s",
	        reason, s->addr[0] != '\0' ? rs_log_val(v, sizeof(v), s->addr,
	        strlen(s->addr)) : "-");
	s->state = POP3_STATE_CLOSING;
	/* RFC 1939 section 6: the lock goes with the session, and nothing
	 * marked is deleted unless QUIT's UPDATE already ran. */
	pop3_server__unlock(s->srv, s);
	pop3_proxy__end(s);
	proto_conn_close(&s->conn, s->bev);
}

void
pop3_session__flush_close(struct pop3_session *s, const char *reason)
{
	if (s->state == POP3_STATE_CLOSING)
		return;
	pop3_proxy__end(s);
	bufferevent_setcb(s->bev, pop3_session_on_read, pop3_session_on_write,
	                  pop3_session_on_event, s);
	s->close_reason = reason;
	pop3_session__set_state(s, POP3_STATE_FLUSH);
	bufferevent_enable(s->bev, EV_WRITE);
	if (evbuffer_get_length(pop3_session__out(s)) == 0)
		pop3_session__close(s, reason);
}

/* Releases a closed session at once (proto_ops.release: the deferred
 * release, or server free). */
static void
pop3_session_release(void *arg)
{
	struct pop3_session *s = arg;

	pop3_server__unlock(s->srv, s);
	pop3_proxy__end(s);
	proto_conn_release(&s->conn, &s->bev, s->ip);
	s->srv = NULL;
	pop3_parser_free(&s->parser);
	pop3_session_stream_end(s);
	RS_FREE(&s->msgs);
	pop3_session__unref(s);
}

void
pop3_session__ref(struct pop3_session *s)
{
	s->refs++;
}

void
pop3_session__unref(struct pop3_session *s)
{
	if (--s->refs > 0)
		return;
	free(s->user);
	free(s->expunge);
	free(s);
}

void
pop3_session__unavailable(struct pop3_session *s)
{
	switch (s->state) {
	case POP3_STATE_UPDATE:
	case POP3_STATE_FLUSH:
	case POP3_STATE_CLOSING:
		return;
	case POP3_STATE_STREAM:
	case POP3_STATE_PROXY:
		pop3_session__close(s, "partition-moved");
		return;
	default:
		break;
	}
	/* RFC 2449 [SYS/TEMP]; nothing marked is deleted (no UPDATE). */
	pop3_session__printf(s, "-ERR [SYS/TEMP] Mailbox moved to another "
	                     "server, please reconnect\r\n");
	pop3_session__finish(s, "partition-moved");
}

/* Graceful server stop (proto_ops.shutdown): see pop3_server_shutdown. */
static void
pop3_session_shutdown(void *arg)
{
	struct pop3_session *s = arg;

	switch (s->state) {
	case POP3_STATE_UPDATE:         /* QUIT's expunge finishes */
	case POP3_STATE_FLUSH:          /* already on its way out */
	case POP3_STATE_CLOSING:
		return;
	case POP3_STATE_STREAM:
		/* No clean place for -ERR inside a multi-line response. */
	case POP3_STATE_PROXY:
		/* Nor inside the primary's session, which this one relays. */
		pop3_session__close(s, "shutdown");
		return;
	case POP3_STATE_AUTH:
	case POP3_STATE_SASL:
	case POP3_STATE_TRANS:
	case POP3_STATE_WAIT:
		break;
	}
	pop3_session__printf(s, "-ERR [SYS/TEMP] Server shutting down\r\n");
	pop3_session__finish(s, "shutdown");
}

/* RFC 2449 section 5. USER and SASL only where a password may be sent.
 * XXX(pop3): no STLS until the TLS issue; then also a POP3S listener. */
static void
pop3_session_capa(struct pop3_session *s, const struct pop3_cmd *c)
{
	(void)c;
	pop3_session__printf(s, "+OK Capability list follows\r\n"
	                     "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
	                     "PIPELINING\r\n");
	if (s->plaintext_ok)
		pop3_session__printf(s, "USER\r\nSASL PLAIN\r\n");
	pop3_session__printf(s, "IMPLEMENTATION Roost\r\n.\r\n");
}

static void
pop3_session_dispatch(struct pop3_session *s, const struct pop3_cmd *c)
{
	const struct pop3_cmd_def *d = &pop3_cmds[c->verb];
	unsigned need = s->state == POP3_STATE_TRANS ? POP3_CMD_TRANS
	                                             : POP3_CMD_AUTHZ;

	if (s->state == POP3_STATE_SASL) {
		pop3_auth__sasl(s, c);
		return;
	}
	if (d->fn == NULL || (d->flags & need) == 0) {
		pop3_session__err(s, "Command not valid in this state");
		return;
	}
	if ((d->flags & POP3_CMD_PLAIN) != 0 && !s->plaintext_ok) {
		/* RFC 2449 section 8.1.2 (AUTH response code). */
		pop3_session__err(s, "[AUTH] Plaintext authentication "
		                  "disallowed on non-secure (SSL/TLS) "
		                  "connections");
		return;
	}
	d->fn(s, c);
}

/* The parser refused a line; it already skips to the next LF. */
static void
pop3_session_bad_line(struct pop3_session *s, const struct rs_err *err)
{
	if (s->state == POP3_STATE_SASL)
		pop3_session__set_state(s, POP3_STATE_AUTH);
	pop3_session__err(s, "%s", err->msg);
}

static void
pop3_session_on_read(struct bufferevent *bev, void *arg)
{
	struct pop3_session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (pop3_session_reading(s->state)) {
		struct evbuffer_iovec v;
		struct pop3_cmd cmd;
		struct rs_err err;
		size_t used = 0;
		int rc;

		/* RFC 2449 section 6.6 PIPELINING: a client that sends and
		 * never reads is not answered into an unbounded buffer. */
		if (evbuffer_get_length(bufferevent_get_output(bev)) >
		    POP3_OUT_HIGH) {
			s->paused = true;
			bufferevent_disable(bev, EV_READ);
			return;
		}
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return;
		rs_err_clear(&err);
		rc = pop3_parser_feed(s->parser, v.iov_base, v.iov_len, &used,
		                      &cmd, &err);
		evbuffer_drain(in, used);
		if (rc == 0)
			continue;
		if (rc < 0) {
			pop3_session_bad_line(s, &err);
			continue;
		}
		pop3_session_dispatch(s, &cmd);
		if (cmd.verb == POP3_VERB_PASS || cmd.verb == POP3_VERB_AUTH ||
		    cmd.verb == POP3_VERB_SASL)
			pop3_parser_wipe(s->parser);
	}
}

/* A direct write emptied the output. */
static void
pop3_session_on_drained(void *arg)
{
	struct pop3_session *s = arg;

	pop3_session_on_write(s->bev, s);
}

static void
pop3_session_on_write(struct bufferevent *bev, void *arg)
{
	struct pop3_session *s = arg;
	size_t len = evbuffer_get_length(bufferevent_get_output(bev));

	proto_conn_on_write(&s->conn);
	switch (s->state) {
	case POP3_STATE_FLUSH:
		if (len == 0)
			pop3_session__close(s, s->close_reason);
		return;
	case POP3_STATE_STREAM:
		if (pop3_session_pump(s) == 1) {
			pop3_session_stream_end(s);
			pop3_session__set_state(s, POP3_STATE_TRANS);
			pop3_session__resume(s);
		}
		return;
	default:
		if (s->paused && len <= POP3_OUT_LOW) {
			s->paused = false;
			pop3_session__resume(s);
		}
		return;
	}
}

static void
pop3_session_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct pop3_session *s = arg;

	(void)bev;
	if ((what & BEV_EVENT_TIMEOUT) != 0 && (what & BEV_EVENT_READING)) {
		/* RFC 1939 section 3: the autologout timer; no UPDATE. */
		pop3_session__printf(s, "-ERR Autologout; idle for too "
		                     "long\r\n");
		pop3_session__finish(s, "timeout");
		return;
	}
	pop3_session__close(s, (what & BEV_EVENT_TIMEOUT) ? "write-timeout" :
	                    (what & BEV_EVENT_EOF) ? "eof" : "io-error");
}

int
pop3_session__new(struct pop3_server *srv, evutil_socket_t fd,
                  const struct sockaddr *sa, const char *ip)
{
	struct pop3_session *s = rs_xcalloc(1, sizeof(*s));

	if (proto_conn_open(&s->conn, srv->ps, s, fd, &s->bev) != 0) {
		free(s);
		return -1;
	}
	s->srv = srv;
	s->refs = 1;
	s->parser = pop3_parser_new();
	s->state = POP3_STATE_AUTH;
	proto_conn_peer(s->ip, sizeof(s->ip), &s->log, sa, ip);
	s->plaintext_ok = netaddr_is_loopback(sa) ||
	                  srv->node->plaintext_auth_any;
	proto_conn_start(&s->conn, s->bev, srv->limits.timeout_ms);
	rs_logc(&s->log, RS_LOG_INFO, "pop3.connect", "plaintext_auth=%s",
	        s->plaintext_ok ? "yes" : "no");
	/* RFC 1939 section 4; no version in the banner. */
	pop3_session__printf(s, "+OK Roost POP3 ready\r\n");
	return 0;
}

struct pop3_session *
pop3_session__adopt(struct pop3_server *srv, struct bufferevent *bev,
                    const char *client_ip, const char *peer,
                    bool plaintext_ok)
{
	struct pop3_session *s = rs_xcalloc(1, sizeof(*s));

	if (proto_conn_adopt(&s->conn, srv->ps, s, bev) != 0) {
		free(s);
		return NULL;
	}
	s->bev = bev;
	s->srv = srv;
	s->refs = 1;
	s->parser = pop3_parser_new();
	s->state = POP3_STATE_AUTH;
	snprintf(s->ip, sizeof(s->ip), "%s", client_ip);
	rs_log_ctx_init(&s->log, peer);
	s->plaintext_ok = plaintext_ok;
	proto_conn_start(&s->conn, s->bev, srv->limits.timeout_ms);
	return s;
}

/* proto_server's entry points take the server and session untyped. */
static int
pop3_session_accept(void *srv, evutil_socket_t fd, const struct sockaddr *sa,
                    const char *ip)
{
	return pop3_session__new(srv, fd, sa, ip);
}

static void
pop3_session_close_any(void *s, const char *reason)
{
	pop3_session__close(s, reason);
}

const struct proto_ops pop3_session__ops = {
	.name = "pop3",
	.accept = pop3_session_accept,
	.shutdown = pop3_session_shutdown,
	.close = pop3_session_close_any,
	.release = pop3_session_release,
	.deadline_reason = NULL,        /* left to pop3_server_free */
	.on_read = pop3_session_on_read,
	.on_write = pop3_session_on_write,
	.on_event = pop3_session_on_event,
	.on_drained = pop3_session_on_drained,
	.read_max = POP3_READ_MAX,
	.out_low = POP3_OUT_LOW,
};
