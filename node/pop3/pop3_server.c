/* pop3_server.c: the POP3 listener: configuration, admission control,
 * the per-account maildrop locks, graceful shutdown and teardown. The
 * protocol itself is in pop3_session.c and the command files. */
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "lib/rs_log.h"
#include "lib/rs_map.h"
#include "lib/rs_mem.h"
#include "node/core/conn_limit.h"
#include "node/core/listener.h"
#include "node/core/node_ctx.h"
#include "node/pop3/pop3_int.h"

static int
pop3_server_config(struct pop3_server *srv, const struct rs_config *c,
                   unsigned *max_total_r, unsigned *max_ip_r,
                   struct rs_err *err)
{
	uint64_t v = 0;

	/* RFC 1939 section 3 wants the autologout at 10 minutes or more;
	 * shorter values are allowed for tests and hostile networks. */
	if (rs_config_get_ms(c, "pop3.timeout", (uint64_t)600 * 1000,
	                     &srv->limits.timeout_ms, err) != 0)
		return -1;
	if (srv->limits.timeout_ms < 1000)
		return rs_err_set(err, RS_EINVAL, "pop3.timeout: at least 1s");
	if (rs_config_get_u64(c, "pop3.max_errors", 20, 1, 1000000, &v,
	                      err) != 0)
		return -1;
	srv->limits.max_errors = (unsigned)v;
	if (rs_config_get_u64(c, "pop3.max_auth_failures", 3, 1, 1000, &v,
	                      err) != 0)
		return -1;
	srv->limits.max_auth_failures = (unsigned)v;
	if (rs_config_get_u64(c, "pop3.max_connections", 10000, 0,
	                      UINT32_MAX, &v, err) != 0)
		return -1;
	*max_total_r = (unsigned)v;
	if (rs_config_get_u64(c, "pop3.max_connections_per_ip", 100, 0,
	                      UINT32_MAX, &v, err) != 0)
		return -1;
	*max_ip_r = (unsigned)v;
	return 0;
}

static void
pop3_server_on_accept(void *arg, evutil_socket_t fd,
                      const struct sockaddr *sa, int salen)
{
	static const char busy[] = "-ERR [SYS/TEMP] Too many connections\r\n";
	struct pop3_server *srv = arg;
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
		/* Best effort: a full socket buffer just loses the text. */
		if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL |
		         MSG_DONTWAIT) < 0) {
			/* The client sees the connection close instead. */
		}
		rs_log(RS_LOG_WARN, "pop3.refused", "peer=%s reason=%s",
		       netaddr_format(sa, peer, sizeof(peer)),
		       rc == RS_EPERM ? "max_connections_per_ip"
		                      : "max_connections");
		evutil_closesocket(fd);
		return;
	}
	if (pop3_session__new(srv, fd, sa, ip) != 0) {
		rs_log(RS_LOG_ERR, "pop3.accept_failed", "peer=%s",
		       netaddr_format(sa, peer, sizeof(peer)));
		conn_limit_leave(srv->climit, ip);
		evutil_closesocket(fd);
	}
}

/* Shutdown's deadline, or "no session left" (made active). */
static void
pop3_server_on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct pop3_server *srv = arg;
	void (*done)(void *) = srv->done;

	(void)fd;
	(void)what;
	evtimer_del(srv->grace);
	srv->done = NULL;
	if (done != NULL) {
		rs_log(RS_LOG_INFO, "pop3.stopped", "sessions=%u",
		       srv->nsessions);
		done(srv->done_arg);
	}
}

int
pop3_server_new(struct node_ctx *n, struct pop3_server **r,
                struct rs_err *err)
{
	struct pop3_server *srv = rs_xcalloc(1, sizeof(*srv));
	unsigned port = n->port_base + NODE_PORT_POP3;
	unsigned max_total = 0, max_ip = 0;

	srv->node = n;
	LIST_INIT(&srv->sessions);
	if (pop3_server_config(srv, n->cfg, &max_total, &max_ip, err) != 0) {
		free(srv);
		return -1;
	}
	srv->grace = evtimer_new(n->base, pop3_server_on_grace, srv);
	if (srv->grace == NULL) {
		free(srv);
		return rs_err_set(err, RS_EIO, "pop3: evtimer_new failed");
	}
	if (listener_open(n->base, n->bind, port, pop3_server_on_accept, srv,
	                  &srv->listener, err) != 0) {
		event_free(srv->grace);
		free(srv);
		return -1;
	}
	srv->climit = conn_limit_new(max_total, max_ip);
	srv->locks = rs_map_new();
	rs_log(RS_LOG_INFO, "pop3.listen", "addr=%s:%u timeout_ms=%" PRIu64
	       " max_connections=%u max_connections_per_ip=%u", n->bind,
	       port, srv->limits.timeout_ms, max_total, max_ip);
	*r = srv;
	return 0;
}

int
pop3_server__lock(struct pop3_server *srv, struct pop3_session *s)
{
	char key[sizeof(s->lock_key)];

	/* RFC 1939 section 8 / RFC 2449 section 8.1.1 (IN-USE): one
	 * session per maildrop. The account id is unique in the cluster.
	 * XXX(pop3): the lock is node-local; once sessions are proxied to
	 * the account's primary it must be taken there. */
	snprintf(key, sizeof(key), "%" PRIu64, s->acct.id);
	if (rs_map_get(srv->locks, key) != NULL)
		return RS_ECONFLICT;
	rs_map_put(srv->locks, key, s);
	snprintf(s->lock_key, sizeof(s->lock_key), "%s", key);
	return 0;
}

void
pop3_server__unlock(struct pop3_server *srv, struct pop3_session *s)
{
	if (s->lock_key[0] == '\0')
		return;
	if (rs_map_get(srv->locks, s->lock_key) == s)
		rs_map_del(srv->locks, s->lock_key);
	s->lock_key[0] = '\0';
}

void
pop3_server__detach(struct pop3_server *srv, struct pop3_session *s)
{
	pop3_server__unlock(srv, s);
	LIST_REMOVE(s, link);
	srv->nsessions--;
	conn_limit_leave(srv->climit, s->ip);
	if (srv->shutting_down && srv->nsessions == 0 && srv->done != NULL)
		event_active(srv->grace, EV_TIMEOUT, 0);
}

void
pop3_server_shutdown(struct pop3_server *srv, unsigned grace_ms,
                     void (*done)(void *arg), void *arg)
{
	struct timeval tv = {
		.tv_sec = (time_t)(grace_ms / 1000),
		.tv_usec = (suseconds_t)(grace_ms % 1000) * 1000,
	};
	struct pop3_session *s;

	srv->shutting_down = true;
	srv->done = done;
	srv->done_arg = arg;
	listener_pause(srv->listener);
	rs_log(RS_LOG_INFO, "pop3.stopping", "sessions=%u grace_ms=%u",
	       srv->nsessions, grace_ms);
	/* Closing only marks sessions; they leave the list when released
	 * from the loop, so the walk is safe. */
	for (s = LIST_FIRST(&srv->sessions); s != NULL; s = LIST_NEXT(s, link))
		pop3_session__shutdown(s);
	if (srv->nsessions == 0)
		event_active(srv->grace, EV_TIMEOUT, 0);
	else
		evtimer_add(srv->grace, &tv);
}

void
pop3_server_free(struct pop3_server **pp)
{
	struct pop3_server *srv = *pp;
	struct pop3_session *s;

	if (srv == NULL)
		return;
	srv->done = NULL;
	listener_free(&srv->listener);
	while ((s = LIST_FIRST(&srv->sessions)) != NULL) {
		pop3_session__close(s, "server-stopped");
		pop3_session__release(s);
	}
	event_free(srv->grace);
	rs_map_free(&srv->locks);
	conn_limit_free(&srv->climit);
	free(srv);
	*pp = NULL;
}

unsigned
pop3_server_sessions(const struct pop3_server *srv)
{
	return srv->nsessions;
}
