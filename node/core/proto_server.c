/* proto_server.c: the listener, admission, session list and graceful stop
 * that SMTP, POP3 and IMAP share, and the connection half of their
 * sessions. What goes on the wire and when a session may stop is the
 * protocol's, behind proto_ops. */
#include "node/core/proto_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_config.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "node/core/cidr_list.h"
#include "node/core/conn_limit.h"
#include "node/core/linger.h"
#include "node/core/listener.h"
#include "node/core/netaddr.h"
#include "node/core/proxy_wait.h"

/* Sockets of one server that may linger at once (linger.h). */
#define PROTO_LINGER_MAX 1024u

struct proto_server {
	const struct proto_ops *ops;     /* borrowed (static) */
	void                   *srv;     /* borrowed: the protocol server */
	struct event_base      *base;    /* borrowed */
	struct listener        *listener; /* owns; NULL until listening */
	struct conn_limit      *climit;  /* owns */
	/* Trusted proxies (borrowed) and the connections from them still
	 * waiting for their header (owns; NULL: none trusted, or stopped). */
	const struct cidr_list *proxy_from;
	struct proxy_wait      *proxy;
	struct linger_set      *linger;  /* owns: sockets closing gently */
	char                   *busy;    /* owns: the refusal text */
	struct event           *grace;   /* owns: shutdown deadline */
	LIST_HEAD(proto_conn_list, proto_conn) sessions; /* not released */
	unsigned                nsessions;
	void                  (*done)(void *arg); /* shutdown completion */
	void                   *done_arg;
	bool                    shutting_down;
	/* "<name>.<what>" log events, built once. */
	char ev_refused[32], ev_accept_failed[32], ev_stopping[32];
	char ev_stopped[32];
};

/* Admission and the protocol's accept, for a client at sa: the socket's
 * peer, or the one a trusted proxy's header named. Takes fd. */
static void
proto_server_admit(struct proto_server *ps, evutil_socket_t fd,
                   const struct sockaddr *sa)
{
	char ip[NETADDR_TEXT_MAX], peer[NETADDR_TEXT_MAX];
	size_t n = strlen(ps->busy);
	int rc;

	netaddr_ip(sa, ip, sizeof(ip));
	rc = conn_limit_enter(ps->climit, ip);
	if (rc != 0) {
		/* The protocol's refusal (SMTP 421, POP3 -ERR, IMAP BYE at
		 * greeting time). Best effort: a full socket buffer just
		 * loses the text. */
		if (n > 0 && send(fd, ps->busy, n, MSG_NOSIGNAL |
		                  MSG_DONTWAIT) < 0) {
			/* The client sees the connection close instead. */
		}
		rs_log(RS_LOG_WARN, ps->ev_refused, "peer=%s reason=%s",
		       netaddr_format(sa, peer, sizeof(peer)),
		       rc == RS_EPERM ? "max_connections_per_ip"
		                      : "max_connections");
		evutil_closesocket(fd);
		return;
	}
	if (ps->ops->accept(ps->srv, fd, sa, ip) != 0) {
		rs_log(RS_LOG_ERR, ps->ev_accept_failed, "peer=%s",
		       netaddr_format(sa, peer, sizeof(peer)));
		conn_limit_leave(ps->climit, ip);
		evutil_closesocket(fd);
	}
}

/* A trusted proxy's header arrived (proxy_wait_done_fn). */
static void
proto_server_on_proxied(void *arg, evutil_socket_t fd,
                        const struct sockaddr *sa)
{
	proto_server_admit(arg, fd, sa);
}

static void
proto_server_on_accept(void *arg, evutil_socket_t fd,
                       const struct sockaddr *sa, int salen)
{
	struct proto_server *ps = arg;

	(void)salen;
	if (ps->shutting_down) {
		evutil_closesocket(fd);
		return;
	}
	/* A trusted proxy's connection is nobody's until its header says
	 * whose; from anyone else a header is just bad protocol input. */
	if (ps->proxy != NULL && cidr_list_match(ps->proxy_from, sa)) {
		proxy_wait_add(ps->proxy, fd, sa);
		return;
	}
	proto_server_admit(ps, fd, sa);
}

/* Shutdown's deadline, or "no session left" (made active). */
static void
proto_server_on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct proto_server *ps = arg;
	void (*done)(void *) = ps->done;
	struct proto_conn *c;

	(void)fd;
	(void)what;
	evtimer_del(ps->grace);
	ps->done = NULL;
	if (done == NULL)
		return;
	/* Closing only marks sessions; they leave the list when released
	 * from the loop, so the walk is safe. */
	for (c = LIST_FIRST(&ps->sessions); c != NULL &&
	     ps->ops->deadline_reason != NULL; c = LIST_NEXT(c, link))
		ps->ops->close(c->sess, ps->ops->deadline_reason);
	rs_log(RS_LOG_INFO, ps->ev_stopped, "sessions=%u", ps->nsessions);
	done(ps->done_arg);
}

int
proto_server_new(struct event_base *base, const struct proto_ops *ops,
                 void *srv, const struct proto_listen *pl,
                 struct proto_server **r, struct rs_err *err)
{
	struct proto_server *ps = rs_xcalloc(1, sizeof(*ps));

	ps->ops = ops;
	ps->srv = srv;
	ps->base = base;
	LIST_INIT(&ps->sessions);
	ps->grace = evtimer_new(base, proto_server_on_grace, ps);
	if (ps->grace == NULL) {
		free(ps);
		return rs_err_set(err, RS_EIO, "%s: evtimer_new failed",
		                  ops->name);
	}
	if (pl->host != NULL &&
	    listener_open(base, pl->host, pl->port, proto_server_on_accept,
	                  ps, &ps->listener, err) != 0) {
		event_free(ps->grace);
		free(ps);
		return -1;
	}
	ps->busy = rs_xstrdup(pl->busy);
	ps->climit = conn_limit_new(pl->max_total, pl->max_ip);
	ps->linger = linger_set_new(base, PROTO_LINGER_MAX);
	if (cidr_list_count(pl->proxy_from) > 0) {
		uint64_t t = pl->timeout_ms != 0 &&
		             pl->timeout_ms < PROTO_PROXY_TIMEOUT_MS
		             ? pl->timeout_ms : PROTO_PROXY_TIMEOUT_MS;

		/* Waiting connections hold a socket and a parser each: at
		 * most as many as may be admitted. */
		ps->proxy_from = pl->proxy_from;
		ps->proxy = proxy_wait_new(base, ops->name, pl->max_total != 0
		                           ? pl->max_total : PROTO_PROXY_WAIT_MAX,
		                           t, proto_server_on_proxied, ps);
	}
	snprintf(ps->ev_refused, sizeof(ps->ev_refused), "%s.refused",
	         ops->name);
	snprintf(ps->ev_accept_failed, sizeof(ps->ev_accept_failed),
	         "%s.accept_failed", ops->name);
	snprintf(ps->ev_stopping, sizeof(ps->ev_stopping), "%s.stopping",
	         ops->name);
	snprintf(ps->ev_stopped, sizeof(ps->ev_stopped), "%s.stopped",
	         ops->name);
	*r = ps;
	return 0;
}

void
proto_server_shutdown(struct proto_server *ps, unsigned grace_ms,
                      void (*done)(void *arg), void *arg)
{
	struct timeval tv = {
		.tv_sec = (time_t)(grace_ms / 1000),
		.tv_usec = (suseconds_t)(grace_ms % 1000) * 1000,
	};
	struct proto_conn *c;

	ps->shutting_down = true;
	/* Not greeted yet: nothing to finish. */
	proxy_wait_free(&ps->proxy);
	ps->done = done;
	ps->done_arg = arg;
	if (ps->listener != NULL)
		listener_pause(ps->listener);
	rs_log(RS_LOG_INFO, ps->ev_stopping, "sessions=%u grace_ms=%u",
	       ps->nsessions, grace_ms);
	/* A session's shutdown only queues replies or marks it; release
	 * happens from the loop, so the walk is safe. */
	for (c = LIST_FIRST(&ps->sessions); c != NULL; c = LIST_NEXT(c, link))
		ps->ops->shutdown(c->sess);
	if (ps->nsessions == 0)
		event_active(ps->grace, EV_TIMEOUT, 0);
	else
		evtimer_add(ps->grace, &tv);
}

void
proto_server_free(struct proto_server **pp)
{
	struct proto_server *ps = *pp;
	struct proto_conn *c;

	if (ps == NULL)
		return;
	ps->done = NULL;
	listener_free(&ps->listener);
	proxy_wait_free(&ps->proxy);
	/* Sessions with async operations pending stay allocated (each
	 * holds a reference) and are freed when the completion runs; the
	 * release unlinks them here. */
	while ((c = LIST_FIRST(&ps->sessions)) != NULL) {
		ps->ops->close(c->sess, "server-stopped");
		ps->ops->release(c->sess);
	}
	event_free(ps->grace);
	linger_set_free(&ps->linger);
	conn_limit_free(&ps->climit);
	free(ps->busy);
	free(ps);
	*pp = NULL;
}

unsigned
proto_server_sessions(const struct proto_server *ps)
{
	return ps->nsessions;
}

void
proto_server_foreach(struct proto_server *ps,
                     void (*fn)(void *sess, void *arg), void *arg)
{
	struct proto_conn *c;

	LIST_FOREACH(c, &ps->sessions, link)
		fn(c->sess, arg);
}

void *
proto_server_newest(const struct proto_server *ps)
{
	const struct proto_conn *c = LIST_FIRST(&ps->sessions);

	return c != NULL ? c->sess : NULL;
}

int
proto_server_cfg_u32(const struct rs_config *c, const char *key,
                     uint64_t def, uint64_t min, uint64_t max,
                     unsigned *v_r, struct rs_err *err)
{
	uint64_t v;

	if (rs_config_get_u64(c, key, def, min, max, &v, err) != 0)
		return -1;
	*v_r = (unsigned)v;
	return 0;
}

int
proto_server_cfg_timeout(const struct rs_config *c, const char *name,
                         uint64_t def_ms, uint64_t *ms_r, struct rs_err *err)
{
	char key[32];

	snprintf(key, sizeof(key), "%s.timeout", name);
	if (rs_config_get_ms(c, key, def_ms, ms_r, err) != 0)
		return -1;
	/* Below a second a slow client could not even be greeted. */
	if (*ms_r < 1000)
		return rs_err_set(err, RS_EINVAL, "%s: at least 1s", key);
	return 0;
}

int
proto_server_cfg_conns(const struct rs_config *c, const char *name,
                       unsigned def_total, unsigned def_ip,
                       struct proto_listen *pl, struct rs_err *err)
{
	char key[48];

	snprintf(key, sizeof(key), "%s.max_connections", name);
	if (proto_server_cfg_u32(c, key, def_total, 0, UINT32_MAX,
	                         &pl->max_total, err) != 0)
		return -1;
	snprintf(key, sizeof(key), "%s.max_connections_per_ip", name);
	return proto_server_cfg_u32(c, key, def_ip, 0, UINT32_MAX,
	                            &pl->max_ip, err);
}

/* The deferred release: from the loop, so no caller still holds s. */
static void
proto_conn_on_free(evutil_socket_t fd, short what, void *arg)
{
	struct proto_conn *c = arg;

	(void)fd;
	(void)what;
	c->ps->ops->release(c->sess);
}

int
proto_conn_open(struct proto_conn *c, struct proto_server *ps, void *sess,
                evutil_socket_t fd, struct bufferevent **bev_r)
{
	struct bufferevent *bev;
	int one = 1;

	/* A reply's last segment must not wait under Nagle's algorithm for
	 * the client's delayed ACK (40 ms at the end of every IMAP FETCH
	 * over 64 KiB). Our writes are whole replies or batches of them
	 * (bev_flush.h), so this adds no small segments. Best effort. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	c->ev_free = event_new(ps->base, -1, 0, proto_conn_on_free, c);
	if (c->ev_free == NULL)
		return -1;
	bev = bufferevent_socket_new(ps->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		event_free(c->ev_free);
		c->ev_free = NULL;
		return -1;
	}
	c->ps = ps;
	c->sess = sess;
	*bev_r = bev;
	return 0;
}

int
proto_conn_adopt(struct proto_conn *c, struct proto_server *ps, void *sess,
                 struct bufferevent *bev)
{
	c->ev_free = event_new(ps->base, -1, 0, proto_conn_on_free, c);
	if (c->ev_free == NULL) {
		bufferevent_free(bev);
		return -1;
	}
	c->ps = ps;
	c->sess = sess;
	c->adopted = true;
	return 0;
}

struct bev_flush *
proto_conn_flush(const struct proto_conn *c)
{
	return c->flush;
}

void
proto_conn_plain_writes(struct proto_conn *c, struct bufferevent *bev)
{
	bev_flush_free(&c->flush);
	bufferevent_enable(bev, EV_WRITE);
}

void
proto_conn_peer(char *ip_r, size_t ipsz, struct rs_log_ctx *log,
                const struct sockaddr *sa, const char *ip)
{
	char peer[NETADDR_TEXT_MAX];

	snprintf(ip_r, ipsz, "%s", ip);
	rs_log_ctx_init(log, netaddr_format(sa, peer, sizeof(peer)));
}

void
proto_conn_start(struct proto_conn *c, struct bufferevent *bev,
                 uint64_t timeout_ms)
{
	struct proto_server *ps = c->ps;
	const struct proto_ops *ops = ps->ops;
	struct timeval tv = {
		.tv_sec = (time_t)(timeout_ms / 1000),
		.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000,
	};

	LIST_INSERT_HEAD(&ps->sessions, c, link);
	ps->nsessions++;
	bufferevent_setcb(bev, ops->on_read, ops->on_write, ops->on_event,
	                  c->sess);
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_set_max_single_read(bev, ops->read_max);
	bufferevent_setwatermark(bev, EV_WRITE, ops->out_low, 0);
	if (ops->in_high != 0)
		bufferevent_setwatermark(bev, EV_READ, 0, ops->in_high);
	bufferevent_enable(bev, EV_READ);
	/* Direct writes need a socket; a peer stream writes by itself. */
	if (bufferevent_getfd(bev) >= 0)
		c->flush = bev_flush_new(ps->base, bev, ops->on_drained,
		                         c->sess);
	else
		bufferevent_enable(bev, EV_WRITE);
}

void
proto_conn_close(struct proto_conn *c, struct bufferevent *bev)
{
	bufferevent_disable(bev, EV_READ | EV_WRITE);
	event_active(c->ev_free, EV_TIMEOUT, 0);
}

void
proto_conn_release(struct proto_conn *c, struct bufferevent **bevp,
                   const char *ip)
{
	struct proto_server *ps = c->ps;
	evutil_socket_t fd;

	LIST_REMOVE(c, link);
	ps->nsessions--;
	if (!c->adopted)
		conn_limit_leave(ps->climit, ip);
	if (ps->shutting_down && ps->nsessions == 0 && ps->done != NULL)
		event_active(ps->grace, EV_TIMEOUT, 0);
	c->ps = NULL;
	bev_flush_free(&c->flush);
	/* The descriptor outlives the bufferevent: the close lingers, so
	 * that the last reply reaches the client (linger.h). */
	fd = bufferevent_getfd(*bevp);
	bufferevent_setfd(*bevp, -1);
	bufferevent_free(*bevp);
	*bevp = NULL;
	if (fd >= 0)
		linger_close(ps->linger, fd);
	event_free(c->ev_free);
	c->ev_free = NULL;
}

void
proto_conn_on_write(struct proto_conn *c)
{
	if (c->flush != NULL)
		bev_flush_on_write(c->flush);
}
