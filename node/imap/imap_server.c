/* imap_server.c: the IMAP listener: configuration, admission control,
 * graceful shutdown and teardown. The protocol itself is in
 * imap_session.c and the command files. */
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "node/core/conn_limit.h"
#include "node/core/listener.h"
#include "node/core/node_ctx.h"
#include "node/imap/imap_int.h"

static int
imap_server_parser_config(struct imap_limits *l, const struct rs_config *c,
                          struct rs_err *err)
{
	uint64_t v = 0;

	imap_parser_default_limits(&l->parser);
	if (rs_config_get_u64(c, "imap.max_line", 64 * 1024, 1024,
	                      16 * 1024 * 1024, &v, err) != 0)
		return -1;
	l->parser.max_line = (size_t)v;
	if (l->parser.max_command < l->parser.max_line)
		l->parser.max_command = l->parser.max_line;
	if (rs_config_get_u64(c, "imap.max_literal", (uint64_t)64 << 20, 1024,
	                      (uint64_t)1 << 32, &v, err) != 0)
		return -1;
	l->parser.max_literal = v;
	/* APPENDLIMIT (RFC 7889): what SMTP would accept, within a literal. */
	if (rs_config_get_u64(c, "smtp.max_message_size", (uint64_t)50 << 20,
	                      1024, UINT64_MAX, &v, err) != 0)
		return -1;
	l->max_message = v < l->parser.max_literal ? v : l->parser.max_literal;
	return 0;
}

static int
imap_server_config(struct imap_server *srv, const struct rs_config *c,
                   unsigned *max_total_r, unsigned *max_ip_r,
                   struct rs_err *err)
{
	uint64_t v = 0;

	/* RFC 9051 section 5.4: the autologout timer is at least 30
	 * minutes; shorter values are allowed for tests. */
	if (rs_config_get_ms(c, "imap.timeout", (uint64_t)1800 * 1000,
	                     &srv->limits.timeout_ms, err) != 0)
		return -1;
	if (srv->limits.timeout_ms < 1000)
		return rs_err_set(err, RS_EINVAL, "imap.timeout: at least 1s");
	if (rs_config_get_u64(c, "imap.max_errors", 20, 1, 1000000, &v,
	                      err) != 0)
		return -1;
	srv->limits.max_errors = (unsigned)v;
	if (rs_config_get_u64(c, "imap.max_auth_failures", 3, 1, 1000, &v,
	                      err) != 0)
		return -1;
	srv->limits.max_auth_failures = (unsigned)v;
	/* IDLE keeps a connection per client and folder watched. */
	if (rs_config_get_u64(c, "imap.max_connections", 20000, 0,
	                      UINT32_MAX, &v, err) != 0)
		return -1;
	*max_total_r = (unsigned)v;
	if (rs_config_get_u64(c, "imap.max_connections_per_ip", 1000, 0,
	                      UINT32_MAX, &v, err) != 0)
		return -1;
	*max_ip_r = (unsigned)v;
	return imap_server_parser_config(&srv->limits, c, err);
}

static void
imap_server_on_accept(void *arg, evutil_socket_t fd,
                      const struct sockaddr *sa, int salen)
{
	static const char busy[] = "* BYE [UNAVAILABLE] Too many "
	                           "connections\r\n";
	struct imap_server *srv = arg;
	char ip[NETADDR_TEXT_MAX], peer[NETADDR_TEXT_MAX];
	int rc;

	(void)salen;
	if (srv->shutting_down) {
		evutil_closesocket(fd);
		return;
	}
	netaddr_ip(sa, ip, sizeof(ip));
	rc = conn_limit_enter(srv->climit, ip);
	if (rc != 0) {
		/* RFC 9051 7.1.5: BYE as the greeting refuses the
		 * connection. Best effort: a full socket loses the text. */
		if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL |
		         MSG_DONTWAIT) < 0) {
			/* The client sees the connection close instead. */
		}
		rs_log(RS_LOG_WARN, "imap.refused", "peer=%s reason=%s",
		       netaddr_format(sa, peer, sizeof(peer)),
		       rc == RS_EPERM ? "max_connections_per_ip"
		                      : "max_connections");
		evutil_closesocket(fd);
		return;
	}
	if (imap_session__new(srv, fd, sa, ip) != 0) {
		rs_log(RS_LOG_ERR, "imap.accept_failed", "peer=%s",
		       netaddr_format(sa, peer, sizeof(peer)));
		conn_limit_leave(srv->climit, ip);
		evutil_closesocket(fd);
	}
}

/* Shutdown's deadline, or "no session left" (made active). */
static void
imap_server_on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct imap_server *srv = arg;
	void (*done)(void *) = srv->done;

	(void)fd;
	(void)what;
	evtimer_del(srv->grace);
	srv->done = NULL;
	if (done != NULL) {
		rs_log(RS_LOG_INFO, "imap.stopped", "sessions=%u",
		       srv->nsessions);
		done(srv->done_arg);
	}
}

int
imap_server_new(struct node_ctx *n, struct imap_server **r,
                struct rs_err *err)
{
	struct imap_server *srv = rs_xcalloc(1, sizeof(*srv));
	unsigned port = n->port_base + NODE_PORT_IMAP;
	unsigned max_total = 0, max_ip = 0;

	srv->node = n;
	LIST_INIT(&srv->sessions);
	if (imap_server_config(srv, n->cfg, &max_total, &max_ip, err) != 0) {
		free(srv);
		return -1;
	}
	srv->grace = evtimer_new(n->base, imap_server_on_grace, srv);
	if (srv->grace == NULL) {
		free(srv);
		return rs_err_set(err, RS_EIO, "imap: evtimer_new failed");
	}
	if (listener_open(n->base, n->bind, port, imap_server_on_accept, srv,
	                  &srv->listener, err) != 0) {
		event_free(srv->grace);
		free(srv);
		return -1;
	}
	srv->climit = conn_limit_new(max_total, max_ip);
	rs_log(RS_LOG_INFO, "imap.listen", "addr=%s:%u timeout_ms=%" PRIu64
	       " max_connections=%u max_connections_per_ip=%u max_line=%zu "
	       "max_literal=%" PRIu64, n->bind, port, srv->limits.timeout_ms,
	       max_total, max_ip, srv->limits.parser.max_line,
	       srv->limits.parser.max_literal);
	*r = srv;
	return 0;
}

void
imap_server__detach(struct imap_server *srv, struct imap_session *s)
{
	LIST_REMOVE(s, link);
	srv->nsessions--;
	conn_limit_leave(srv->climit, s->ip);
	if (srv->shutting_down && srv->nsessions == 0 && srv->done != NULL)
		event_active(srv->grace, EV_TIMEOUT, 0);
}

void
imap_server_shutdown(struct imap_server *srv, unsigned grace_ms,
                     void (*done)(void *arg), void *arg)
{
	struct timeval tv = {
		.tv_sec = (time_t)(grace_ms / 1000),
		.tv_usec = (suseconds_t)(grace_ms % 1000) * 1000,
	};
	struct imap_session *s;

	srv->shutting_down = true;
	srv->done = done;
	srv->done_arg = arg;
	listener_pause(srv->listener);
	rs_log(RS_LOG_INFO, "imap.stopping", "sessions=%u grace_ms=%u",
	       srv->nsessions, grace_ms);
	/* Closing only marks sessions; they leave the list when released
	 * from the loop, so the walk is safe. */
	for (s = LIST_FIRST(&srv->sessions); s != NULL; s = LIST_NEXT(s, link))
		imap_session__shutdown(s);
	if (srv->nsessions == 0)
		event_active(srv->grace, EV_TIMEOUT, 0);
	else
		evtimer_add(srv->grace, &tv);
}

void
imap_server_free(struct imap_server **pp)
{
	struct imap_server *srv = *pp;
	struct imap_session *s;

	if (srv == NULL)
		return;
	srv->done = NULL;
	listener_free(&srv->listener);
	while ((s = LIST_FIRST(&srv->sessions)) != NULL) {
		imap_session_close(s, "server-stopped");
		imap_session__release(s);
	}
	event_free(srv->grace);
	conn_limit_free(&srv->climit);
	free(srv);
	*pp = NULL;
}

unsigned
imap_server_sessions(const struct imap_server *srv)
{
	return srv->nsessions;
}
