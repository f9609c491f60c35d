/* smtp_server.c: the SMTP listener: configuration, admission control,
 * graceful shutdown and teardown. The protocol is in smtp_session.c and
 * the command files; recipient and delivery policy in smtp_policy.c. */
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
#include "node/smtp/smtp_int.h"

#define SMTP_MESSAGE_MAX_CAP ((uint64_t)1 << 30) /* held in memory */

static int
smtp_server_u32(const struct rs_config *c, const char *key, uint64_t def,
                uint64_t min, unsigned *v_r, struct rs_err *err)
{
	uint64_t v;

	if (rs_config_get_u64(c, key, def, min, UINT32_MAX, &v, err) != 0)
		return -1;
	*v_r = (unsigned)v;
	return 0;
}

static int
smtp_server_config(struct smtp_server *srv, const struct rs_config *c,
                   unsigned *max_total_r, unsigned *max_ip_r,
                   struct rs_err *err)
{
	struct smtp_limits *l = &srv->limits;
	uint64_t v;

	/* RFC 5321 section 4.5.3.1.4: at least 512 octets a line. */
	if (rs_config_get_u64(c, "smtp.max_line", 2048, SMTP_LINE_MIN,
	                      SMTP_LINE_MAX, &v, err) != 0)
		return -1;
	l->max_line = (size_t)v;
	/* The message is held in memory until the store has it. */
	if (rs_config_get_u64(c, "smtp.max_message_size", (uint64_t)50 << 20, 1024,
	                      SMTP_MESSAGE_MAX_CAP, &l->max_message, err) != 0)
		return -1;
	/* RFC 5321 section 4.5.3.2.7 suggests 5 minutes for commands and
	 * 10 for DATA blocks; one setting serves both. */
	if (rs_config_get_ms(c, "smtp.timeout", (uint64_t)300 * 1000, &l->timeout_ms,
	                     err) != 0)
		return -1;
	if (l->timeout_ms < 1000)
		return rs_err_set(err, RS_EINVAL, "smtp.timeout: at least 1s");
	/* RFC 5321 section 4.5.3.1.8: at least 100 recipients. */
	if (smtp_server_u32(c, "smtp.max_recipients", 1000, 100,
	                    &l->max_recipients, err) != 0 ||
	    smtp_server_u32(c, "smtp.max_errors", 10, 1, &l->max_errors,
	                    err) != 0 ||
	    smtp_server_u32(c, "smtp.max_junk_commands", 100, 1, &l->max_junk,
	                    err) != 0 ||
	    smtp_server_u32(c, "smtp.max_connections", 10000, 0, max_total_r,
	                    err) != 0 ||
	    smtp_server_u32(c, "smtp.max_connections_per_ip", 100, 0,
	                    max_ip_r, err) != 0)
		return -1;
	return 0;
}

static void
smtp_server_on_accept(void *arg, evutil_socket_t fd,
                      const struct sockaddr *sa, int salen)
{
	struct smtp_server *srv = arg;
	char ip[NETADDR_TEXT_MAX], peer[NETADDR_TEXT_MAX], busy[320];
	int rc, n;

	(void)salen;
	if (srv->shutting_down) {
		evutil_closesocket(fd);
		return;
	}
	netaddr_ip(sa, ip, sizeof(ip));
	rc = conn_limit_enter(srv->climit, ip);
	if (rc != 0) {
		/* RFC 5321 section 3.8: 421 at greeting time. Best effort:
		 * a full socket buffer just loses the text. */
		n = snprintf(busy, sizeof(busy), "421 4.7.0 %s Too many "
		             "connections\r\n", srv->hostname);
		if (n > 0 && send(fd, busy, (size_t)n, MSG_NOSIGNAL |
		                  MSG_DONTWAIT) < 0) {
			/* The client sees the connection close instead. */
		}
		rs_log(RS_LOG_WARN, "smtp.refused", "peer=%s reason=%s",
		       netaddr_format(sa, peer, sizeof(peer)),
		       rc == RS_EPERM ? "max_connections_per_ip"
		                      : "max_connections");
		evutil_closesocket(fd);
		return;
	}
	if (smtp_session__new(srv, fd, sa, ip) != 0) {
		rs_log(RS_LOG_ERR, "smtp.accept_failed", "peer=%s",
		       netaddr_format(sa, peer, sizeof(peer)));
		conn_limit_leave(srv->climit, ip);
		evutil_closesocket(fd);
	}
}

/* Shutdown's deadline, or "no session left" (made active). */
static void
smtp_server_on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_server *srv = arg;
	void (*done)(void *) = srv->done;
	struct smtp_session *s;

	(void)fd;
	(void)what;
	evtimer_del(srv->grace);
	srv->done = NULL;
	if (done == NULL)
		return;
	/* Closing only marks sessions; they leave the list when released
	 * from the loop, so the walk is safe. */
	LIST_FOREACH(s, &srv->sessions, link)
		smtp_session__close(s, "shutdown-timeout");
	rs_log(RS_LOG_INFO, "smtp.stopped", "sessions=%u", srv->nsessions);
	done(srv->done_arg);
}

int
smtp_server_new(struct node_ctx *n, struct smtp_server **r,
                struct rs_err *err)
{
	struct smtp_server *srv = rs_xcalloc(1, sizeof(*srv));
	unsigned port = n->port_base + NODE_PORT_SMTP;
	unsigned max_total = 0, max_ip = 0;

	srv->node = n;
	srv->base = n->base;
	/* An empty name would make the banner and Received: malformed. */
	srv->hostname = n->hostname != NULL && n->hostname[0] != '\0'
	                ? n->hostname : "localhost";
	LIST_INIT(&srv->sessions);
	if (smtp_server_config(srv, n->cfg, &max_total, &max_ip, err) != 0) {
		free(srv);
		return -1;
	}
	srv->grace = evtimer_new(n->base, smtp_server_on_grace, srv);
	if (srv->grace == NULL) {
		free(srv);
		return rs_err_set(err, RS_EIO, "smtp: evtimer_new failed");
	}
	if (listener_open(n->base, n->bind, port, smtp_server_on_accept, srv,
	                  &srv->listener, err) != 0) {
		event_free(srv->grace);
		free(srv);
		return -1;
	}
	srv->climit = conn_limit_new(max_total, max_ip);
	srv->policy = smtp_policy_new(n);
	srv->hooks = &smtp_policy_hooks;
	srv->hooks_ctx = srv->policy;
	rs_log(RS_LOG_INFO, "smtp.listen", "addr=%s:%u max_message_size=%"
	       PRIu64 " timeout_ms=%" PRIu64 " max_connections=%u "
	       "max_connections_per_ip=%u", n->bind, port,
	       srv->limits.max_message, srv->limits.timeout_ms, max_total,
	       max_ip);
	*r = srv;
	return 0;
}

void
smtp_server_shutdown(struct smtp_server *srv, unsigned grace_ms,
                     void (*done)(void *arg), void *arg)
{
	struct timeval tv = {
		.tv_sec = (time_t)(grace_ms / 1000),
		.tv_usec = (suseconds_t)(grace_ms % 1000) * 1000,
	};
	struct smtp_session *s;

	srv->shutting_down = true;
	srv->done = done;
	srv->done_arg = arg;
	if (srv->listener != NULL)
		listener_pause(srv->listener);
	rs_log(RS_LOG_INFO, "smtp.stopping", "sessions=%u grace_ms=%u",
	       srv->nsessions, grace_ms);
	/* Shutdown only queues replies or marks; release happens from the
	 * loop, so the walk is safe. */
	LIST_FOREACH(s, &srv->sessions, link)
		smtp_session__shutdown(s);
	if (srv->nsessions == 0)
		event_active(srv->grace, EV_TIMEOUT, 0);
	else
		evtimer_add(srv->grace, &tv);
}

void
smtp_server_free(struct smtp_server **pp)
{
	struct smtp_server *srv = *pp;
	struct smtp_session *s;

	if (srv == NULL)
		return;
	srv->done = NULL;
	listener_free(&srv->listener);
	/* Sessions waiting for the store stay allocated (they hold a
	 * reference) and are freed when the completion runs. */
	while ((s = LIST_FIRST(&srv->sessions)) != NULL) {
		smtp_session__close(s, "server-stopped");
		smtp_session__release(s);
	}
	event_free(srv->grace);
	smtp_policy_free(&srv->policy);
	conn_limit_free(&srv->climit);
	free(srv);
	*pp = NULL;
}

unsigned
smtp_server_sessions(const struct smtp_server *srv)
{
	return srv->nsessions;
}
