/* imap_session.c: one IMAP connection on a bufferevent: the greeting,
 * feeding imap_parser (its events go to imap_session_dispatch.c),
 * replies (held while a \Recent claim is on its way), the command's
 * life, flow control and the one close path. The commands live in the
 * other imap_*.c files. */
#include <event2/buffer.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/core/node_ctx.h"
#include "node/imap/imap_int.h"

static void imap_session_on_read(struct bufferevent *bev, void *arg);
static void imap_session_on_write(struct bufferevent *bev, void *arg);
static void imap_session_on_event(struct bufferevent *bev, short what,
                                  void *arg);

struct evbuffer *
imap_out(struct imap_session *s)
{
	return bufferevent_get_output(s->bev);
}

struct store *
imap_store(const struct imap_session *s)
{
	return s->srv->node->store;
}

struct rs_exec *
imap_exec(const struct imap_session *s)
{
	return s->srv->node->exec;
}

void
imap_printf(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(imap_out(s), fmt, ap);
	va_end(ap);
}

void
imap_untagged(struct imap_session *s, const char *fmt, ...)
{
	struct evbuffer *out = imap_out(s);
	va_list ap;

	evbuffer_add(out, "* ", 2);
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

void
imap_continue(struct imap_session *s, const char *text)
{
	imap_printf(s, "+ %s\r\n", text);
}

static const char *const imap_status_names[] = {
	[IMAP_OK] = "OK", [IMAP_NO] = "NO", [IMAP_BAD] = "BAD",
};

/* Whether the current command may see untagged EXPUNGE (RFC 9051 7.5.1:
 * not during FETCH, STORE, SEARCH; their UID forms may). */
static bool
imap_session_expunge_ok(const struct imap_session *s)
{
	const struct imap_cmd_def *d = s->cmd.def;

	return d == NULL || (d->flags & IMAP_CMD_F_NO_EXPUNGE_RESPONSES) == 0 ||
	       s->cmd.uid;
}

static void
imap_session_count_error(struct imap_session *s)
{
	if (++s->errors < s->srv->limits.max_errors)
		return;
	rs_logc(&s->log, RS_LOG_INFO, "imap.too_many_errors", "errors=%u",
	        s->errors);
	imap_session_bye(s, "too-many-errors", "Too many invalid commands");
}

void
imap_reply(struct imap_session *s, enum imap_status st, const char *fmt, ...)
{
	struct evbuffer *out = imap_out(s);
	const char *tag = s->cmd.tag[0] != '\0' ? s->cmd.tag : "*";
	va_list ap;

	if (st != IMAP_BAD && s->state == IMAP_STATE_SELECTED) {
		bool exp = imap_session_expunge_ok(s);
		bool sync = s->cmd.def == NULL ||
		            (s->cmd.def->flags & IMAP_CMD_F_NO_SYNC) == 0;

		/* A command that sends its own updates (SELECT) still
		 * waits for the claim it started. */
		if (sync ? imap_view_sync(s, exp) :
		    s->view != NULL && s->view->claiming) {
			/* A \Recent claim is on its way: its updates
			 * come first, then this line. */
			if (s->held.line == NULL &&
			    (s->held.line = evbuffer_new()) == NULL)
				abort();        /* libevent out of memory */
			evbuffer_add_printf(s->held.line, "%s %s ", tag,
			                    imap_status_names[st]);
			va_start(ap, fmt);
			evbuffer_add_vprintf(s->held.line, fmt, ap);
			va_end(ap);
			evbuffer_add(s->held.line, "\r\n", 2);
			s->held.on = true;
			s->held.expunge = exp;
			return;
		}
	}
	evbuffer_add_printf(out, "%s %s ", tag, imap_status_names[st]);
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
	if (st == IMAP_BAD)
		imap_session_count_error(s);
}

/* True while the engine feeds the parser. */
static bool
imap_session_reading(const struct imap_session *s)
{
	return s->io == IMAP_IO_READ || s->io == IMAP_IO_IDLE ||
	       (s->io == IMAP_IO_CMD && s->cmd.line != NULL);
}

void
imap_session__set_io(struct imap_session *s, enum imap_io io)
{
	s->io = io;
	if (imap_session_reading(s) && !s->paused)
		bufferevent_enable(s->bev, EV_READ);
	else
		bufferevent_disable(s->bev, EV_READ);
}

/* Ends the current command's life: its state, its handlers, its tag. */
void
imap_session__cmd_reset(struct imap_session *s)
{
	if (s->cmd.state != NULL) {
		if (s->cmd.cleanup != NULL)
			s->cmd.cleanup(s);
		else
			free(s->cmd.state);
	}
	memset(&s->cmd, 0, sizeof(s->cmd));
}

/* Commands already buffered raise no new read event: handle them. */
static void
imap_session_resume(struct imap_session *s)
{
	if (!imap_session_reading(s))
		return;
	imap_session__set_io(s, s->io);
	if (!s->in_read)        /* else the running loop goes on */
		imap_session_on_read(s->bev, s);
}

void
imap_session__held_wait(struct imap_session *s)
{
	s->held.finish = true;
	imap_session__set_io(s, IMAP_IO_CMD);
}

void
imap_session__held_resume(struct imap_session *s)
{
	if (imap_session_closed(s))
		return;
	if (!s->held.on) {
		if (s->io == IMAP_IO_IDLE)
			(void)imap_view_sync(s, true);
		return;
	}
	if (imap_view_sync(s, s->held.expunge))
		return;                 /* more came: another claim */
	s->held.on = false;
	evbuffer_add_buffer(imap_out(s), s->held.line);
	if (s->held.finish) {
		s->held.finish = false;
		imap_cmd_finish(s);
	}
}

void
imap_cmd_finish(struct imap_session *s)
{
	if (imap_session_closed(s))
		return;
	if (s->held.on) {
		imap_session__held_wait(s);
		return;
	}
	imap_session__cmd_reset(s);
	if (s->io == IMAP_IO_CMD || s->io == IMAP_IO_IDLE)
		imap_session__set_io(s, IMAP_IO_READ);
	imap_session_resume(s);
}

void
imap_cmd_line(struct imap_session *s, imap_line_fn *line)
{
	s->cmd.line = line;
	imap_parser_line_mode(s->parser);
	if (s->io == IMAP_IO_READ)
		s->io = IMAP_IO_CMD;
	imap_session__set_io(s, s->io);
}

/* Runs the pump while there is room. */
static void
imap_session_pump(struct imap_session *s)
{
	while (s->cmd.pump != NULL && !imap_session_closed(s) &&
	       evbuffer_get_length(imap_out(s)) < IMAP_OUT_LOW) {
		int rc = s->cmd.pump(s);

		if (rc == IMAP_PUMP_WAIT)
			return;
		if (rc == IMAP_PUMP_DONE) {
			s->cmd.pump = NULL;
			imap_cmd_finish(s);
			return;
		}
	}
}

void
imap_cmd_stream(struct imap_session *s, imap_pump_fn *pump)
{
	s->cmd.pump = pump;
	imap_session__set_io(s, IMAP_IO_CMD);
	imap_session_pump(s);
}

void
imap_cmd_pump(struct imap_session *s)
{
	imap_session_pump(s);
}

void
imap_session_bye(struct imap_session *s, const char *reason,
                 const char *text)
{
	if (s->io == IMAP_IO_CLOSING || s->io == IMAP_IO_FLUSH)
		return;
	imap_untagged(s, "BYE %s", text);
	s->close_reason = reason;
	imap_session__set_io(s, IMAP_IO_FLUSH);
	if (evbuffer_get_length(imap_out(s)) == 0)
		imap_session_close(s, reason);
}

void
imap_session_close(struct imap_session *s, const char *reason)
{
	char v[96];

	if (s->io == IMAP_IO_CLOSING)
		return;
	rs_logc(&s->log, RS_LOG_INFO, "imap.close", "reason=%s user=%s",
	        reason, s->addr[0] != '\0' ? rs_log_val(v, sizeof(v), s->addr,
	        strlen(s->addr)) : "-");
	s->io = IMAP_IO_CLOSING;
	/* No notification may reach a closed session. */
	imap_view_free(&s->view);
	imap_proxy__end(s);
	proto_conn_close(&s->conn, s->bev);
}

void
imap_session__flush_close(struct imap_session *s, const char *reason)
{
	if (s->io == IMAP_IO_CLOSING)
		return;
	imap_proxy__end(s);
	bufferevent_setcb(s->bev, imap_session_on_read, imap_session_on_write,
	                  imap_session_on_event, s);
	s->close_reason = reason;
	imap_session__set_io(s, IMAP_IO_FLUSH);
	bufferevent_enable(s->bev, EV_WRITE);
	if (evbuffer_get_length(imap_out(s)) == 0)
		imap_session_close(s, reason);
}

/* Releases a closed session at once (proto_ops.release: the deferred
 * release, or server free). */
static void
imap_session_release(void *arg)
{
	struct imap_session *s = arg;

	imap_proxy__end(s);
	proto_conn_release(&s->conn, &s->bev, s->ip);
	s->srv = NULL;
	imap_parser_free(&s->parser);
	imap_session__cmd_reset(s);
	imap_view_free(&s->view);
	imap_seqset_free(&s->saved);
	if (s->held.line != NULL)
		evbuffer_free(s->held.line);
	s->held.line = NULL;
	imap_session_unref(s);
}

void
imap_session_ref(struct imap_session *s)
{
	s->refs++;
}

void
imap_session_unref(struct imap_session *s)
{
	if (--s->refs > 0)
		return;
	free(s);
}

/* Ends s with BYE text where a BYE may go (not inside a streamed
 * response: then the connection just closes). */
static void
imap_session_end(struct imap_session *s, const char *reason, const char *text)
{
	switch (s->io) {
	case IMAP_IO_FLUSH:
	case IMAP_IO_CLOSING:
		return;
	case IMAP_IO_PROXY:
		imap_session_close(s, reason);
		return;
	case IMAP_IO_CMD:
		if (s->cmd.pump != NULL) {
			imap_session_close(s, reason);
			return;
		}
		break;                  /* a store write: its reply comes */
	case IMAP_IO_READ:
	case IMAP_IO_IDLE:
		break;
	}
	imap_session_bye(s, reason, text);
}

void
imap_session__unavailable(struct imap_session *s)
{
	/* RFC 5530 UNAVAILABLE: a subsystem (here, this node's copy of
	 * the mailbox) is not available; the client reconnects. */
	imap_session_end(s, "partition-moved", "[UNAVAILABLE] Mailbox moved "
	                 "to another server, please reconnect");
}

/* Graceful server stop (proto_ops.shutdown): see imap_server_shutdown. */
static void
imap_session_shutdown(void *arg)
{
	struct imap_session *s = arg;

	imap_session_end(s, "shutdown", "Server shutting down");
}

static void imap_session_read_loop(struct imap_session *s,
                                   struct bufferevent *bev,
                                   struct evbuffer *in);
static void
imap_session_on_read(struct bufferevent *bev, void *arg)
{
	struct imap_session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	s->in_read = true;
	imap_session_read_loop(s, bev, in);
	s->in_read = false;
}

static void
imap_session_read_loop(struct imap_session *s, struct bufferevent *bev,
                       struct evbuffer *in)
{
	while (imap_session_reading(s)) {
		struct evbuffer_iovec v;
		struct imap_event ev;
		struct rs_err err;
		size_t used = 0;
		int rc;

		/* A client that sends and never reads is not answered into an
		 * unbounded buffer. */
		if (evbuffer_get_length(bufferevent_get_output(bev)) >
		    IMAP_OUT_HIGH) {
			s->paused = true;
			bufferevent_disable(bev, EV_READ);
			return;
		}
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return;
		rs_err_clear(&err);
		memset(&ev, 0, sizeof(ev));
		rc = imap_parser_feed(s->parser, v.iov_base, v.iov_len, &used,
		                      &ev, &err);
		/* Events borrow from the input: handle, then drain. */
		if (rc > 0)
			imap_session__event(s, &ev);
		else if (rc < 0)
			imap_session__bad(s, &ev, &err);
		if (s->bev == NULL)
			return;
		evbuffer_drain(in, used);
		if (s->refused && imap_parser_idle(s->parser))
			s->refused = false;
		if (rc == 0 && used == 0)
			return;         /* cannot happen: all was consumed */
	}
}

/* A direct write emptied the output. */
static void
imap_session_on_drained(void *arg)
{
	struct imap_session *s = arg;

	imap_session_on_write(s->bev, s);
}

static void
imap_session_on_write(struct bufferevent *bev, void *arg)
{
	struct imap_session *s = arg;
	size_t len = evbuffer_get_length(bufferevent_get_output(bev));

	proto_conn_on_write(&s->conn);
	if (s->io == IMAP_IO_FLUSH) {
		if (len == 0)
			imap_session_close(s, s->close_reason);
		return;
	}
	if (s->io == IMAP_IO_CLOSING)
		return;
	if (s->cmd.pump != NULL && len <= IMAP_OUT_LOW) {
		imap_session_pump(s);
		return;
	}
	if (s->paused && len <= IMAP_OUT_LOW) {
		s->paused = false;
		imap_session_resume(s);
	}
}

static void
imap_session_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct imap_session *s = arg;

	(void)bev;
	if ((what & BEV_EVENT_TIMEOUT) != 0 && (what & BEV_EVENT_READING)) {
		/* RFC 9051 5.4: the autologout timer, IDLE included. */
		imap_session_bye(s, "timeout", "Autologout; idle for too long");
		return;
	}
	imap_session_close(s, (what & BEV_EVENT_TIMEOUT) ? "write-timeout" :
	                   (what & BEV_EVENT_EOF) ? "eof" : "io-error");
}

int
imap_session__new(struct imap_server *srv, evutil_socket_t fd,
                  const struct sockaddr *sa, const char *ip)
{
	struct imap_session *s = rs_xcalloc(1, sizeof(*s));

	if (proto_conn_open(&s->conn, srv->ps, s, fd, &s->bev) != 0) {
		free(s);
		return -1;
	}
	s->srv = srv;
	s->refs = 1;
	s->parser = imap_parser_new(&srv->limits.parser);
	s->state = IMAP_STATE_NOT_AUTH;
	s->io = IMAP_IO_READ;
	proto_conn_peer(s->ip, sizeof(s->ip), &s->log, sa, ip);
	s->plaintext_ok = netaddr_is_loopback(sa) ||
	                  srv->node->plaintext_auth_any;
	proto_conn_start(&s->conn, s->bev, srv->limits.timeout_ms);
	rs_logc(&s->log, RS_LOG_INFO, "imap.connect", "plaintext_auth=%s",
	        s->plaintext_ok ? "yes" : "no");
	/* RFC 9051 7.1.1: the greeting may carry the capabilities. */
	evbuffer_add(imap_out(s), "* OK [", 6);
	imap_misc__capability(s, imap_out(s));
	evbuffer_add_printf(imap_out(s), "] Roost ready\r\n");
	return 0;
}

struct imap_session *
imap_session__adopt(struct imap_server *srv, struct bufferevent *bev,
                    const char *client_ip, const char *peer,
                    bool plaintext_ok)
{
	struct imap_session *s = rs_xcalloc(1, sizeof(*s));
	char who[NETADDR_TEXT_MAX + 80];

	if (proto_conn_adopt(&s->conn, srv->ps, s, bev) != 0) {
		free(s);
		return NULL;
	}
	s->bev = bev;
	s->srv = srv;
	s->refs = 1;
	s->parser = imap_parser_new(&srv->limits.parser);
	s->state = IMAP_STATE_NOT_AUTH;
	s->io = IMAP_IO_READ;
	snprintf(s->ip, sizeof(s->ip), "%s", client_ip);
	snprintf(who, sizeof(who), "%s/via=%s", client_ip, peer);
	rs_log_ctx_init(&s->log, who);
	s->plaintext_ok = plaintext_ok;
	proto_conn_start(&s->conn, s->bev, srv->limits.timeout_ms);
	return s;
}

/* proto_server's entry points take the server and session untyped. */
static int
imap_session_accept(void *srv, evutil_socket_t fd, const struct sockaddr *sa,
                    const char *ip)
{
	return imap_session__new(srv, fd, sa, ip);
}

static void
imap_session_close_any(void *s, const char *reason)
{
	imap_session_close(s, reason);
}

const struct proto_ops imap_session__ops = {
	.name = "imap",
	.accept = imap_session_accept,
	.shutdown = imap_session_shutdown,
	.close = imap_session_close_any,
	.release = imap_session_release,
	.deadline_reason = NULL,        /* left to imap_server_free */
	.on_read = imap_session_on_read,
	.on_write = imap_session_on_write,
	.on_event = imap_session_on_event,
	.on_drained = imap_session_on_drained,
	.read_max = IMAP_READ_MAX,
	.out_low = IMAP_OUT_LOW,
};
