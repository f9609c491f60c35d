/* proxy_wait.c: one read event per waiting connection, re-armed with
 * what is left of its deadline, a parser each, and a list so that a stop
 * can close them all. Peeking and then consuming what the parser used is
 * what keeps the bytes after the header: a v1 line has no length field,
 * so reading a fixed amount could take the client's first command. */
#include "node/core/proxy_wait.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "lib/rs_time.h"
#include "node/core/netaddr.h"
#include "node/core/proxy_proto.h"

struct proxy_wait_conn {
	LIST_ENTRY(proxy_wait_conn) link;
	struct proxy_wait      *pw;      /* borrowed */
	evutil_socket_t         fd;      /* owns */
	struct sockaddr_storage peer;    /* the proxy's side */
	struct event           *ev;      /* owns */
	struct proxy_proto     *parser;  /* owns */
	uint64_t                deadline_ms; /* rs_mono_ms() */
};

struct proxy_wait {
	struct event_base  *base;        /* borrowed */
	proxy_wait_done_fn *done;
	void               *arg;
	unsigned            max, n;
	uint64_t            timeout_ms;
	LIST_HEAD(proxy_wait_list, proxy_wait_conn) conns;
	char                ev_refused[48], ev_proxied[48];
};

struct proxy_wait *
proxy_wait_new(struct event_base *base, const char *name, unsigned max,
               uint64_t timeout_ms, proxy_wait_done_fn *done, void *arg)
{
	struct proxy_wait *pw = rs_xcalloc(1, sizeof(*pw));

	pw->base = base;
	pw->max = max;
	pw->timeout_ms = timeout_ms;
	pw->done = done;
	pw->arg = arg;
	LIST_INIT(&pw->conns);
	snprintf(pw->ev_refused, sizeof(pw->ev_refused), "%s.proxy_refused",
	         name);
	snprintf(pw->ev_proxied, sizeof(pw->ev_proxied), "%s.proxied", name);
	return pw;
}

/* Unlinks and frees c; the socket is the caller's to close or pass on. */
static void
proxy_wait_conn_free(struct proxy_wait_conn *c)
{
	LIST_REMOVE(c, link);
	c->pw->n--;
	if (c->ev != NULL)
		event_free(c->ev);
	proxy_proto_free(&c->parser);
	free(c);
}

/* Closes without a word: whoever sent this is not a client to greet. */
static void
proxy_wait_refuse(struct proxy_wait_conn *c, const char *why)
{
	char peer[NETADDR_TEXT_MAX];

	rs_log(RS_LOG_WARN, c->pw->ev_refused, "peer=%s reason=%s",
	       netaddr_format((const struct sockaddr *)&c->peer, peer,
	                      sizeof(peer)), why);
	evutil_closesocket(c->fd);
	proxy_wait_conn_free(c);
}

/* Waits for more, within what is left of the deadline. */
static void
proxy_wait_rearm(struct proxy_wait_conn *c)
{
	uint64_t now = rs_mono_ms(), left;
	struct timeval tv;

	if (now >= c->deadline_ms) {
		proxy_wait_refuse(c, "timeout");
		return;
	}
	left = c->deadline_ms - now;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	event_add(c->ev, &tv);
}

/* The header is complete: hand the connection over. */
static void
proxy_wait_pass(struct proxy_wait_conn *c, const struct proxy_proto_hdr *h)
{
	struct proxy_wait *pw = c->pw;
	struct sockaddr_storage sa = h->local ? c->peer : h->src;
	evutil_socket_t fd = c->fd;
	char real[NETADDR_TEXT_MAX], peer[NETADDR_TEXT_MAX];

	rs_log(RS_LOG_DEBUG, pw->ev_proxied, "peer=%s proxy=%s version=%u%s",
	       netaddr_format((const struct sockaddr *)&sa, real, sizeof(real)),
	       netaddr_format((const struct sockaddr *)&c->peer, peer,
	                      sizeof(peer)), h->version,
	       h->local ? " local=yes" : "");
	proxy_wait_conn_free(c);
	pw->done(pw->arg, fd, (const struct sockaddr *)&sa);
}

static void
proxy_wait_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_wait_conn *c = arg;
	uint8_t buf[PROXY_PROTO_MAX];
	struct proxy_proto_hdr hdr;
	struct rs_err err;
	size_t used = 0;
	ssize_t n;
	int rc;

	if (what & EV_TIMEOUT) {
		proxy_wait_refuse(c, "timeout");
		return;
	}
	n = recv(fd, buf, sizeof(buf), MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	              errno == EINTR)) {
		proxy_wait_rearm(c);
		return;
	}
	if (n <= 0) {
		proxy_wait_refuse(c, n == 0 ? "eof" : "io_error");
		return;
	}
	rc = proxy_proto_feed(c->parser, buf, (size_t)n, &used, &hdr, &err);
	if (rc < 0) {
		proxy_wait_refuse(c, err.msg);
		return;
	}
	/* Consume what the parser used, and only that: the header, or all
	 * that was there while it is incomplete. The octets were peeked,
	 * so they are queued and recv returns them all. */
	if (used > 0 && recv(fd, buf, used, 0) != (ssize_t)used) {
		proxy_wait_refuse(c, "io_error");
		return;
	}
	if (rc == 0)
		proxy_wait_rearm(c);
	else
		proxy_wait_pass(c, &hdr);
}

void
proxy_wait_add(struct proxy_wait *pw, evutil_socket_t fd,
               const struct sockaddr *sa)
{
	struct proxy_wait_conn *c = rs_xcalloc(1, sizeof(*c));

	c->pw = pw;
	c->fd = fd;
	memcpy(&c->peer, sa, sa->sa_family == AF_INET6
	       ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	LIST_INSERT_HEAD(&pw->conns, c, link);
	pw->n++;
	if (pw->n > pw->max) {
		proxy_wait_refuse(c, "too_many_waiting");
		return;
	}
	c->ev = event_new(pw->base, fd, EV_READ, proxy_wait_on_read, c);
	if (c->ev == NULL) {
		proxy_wait_refuse(c, "event_new_failed");
		return;
	}
	c->parser = proxy_proto_new();
	c->deadline_ms = rs_mono_ms() + pw->timeout_ms;
	proxy_wait_rearm(c);
}

unsigned
proxy_wait_count(const struct proxy_wait *pw)
{
	return pw->n;
}

void
proxy_wait_free(struct proxy_wait **pp)
{
	struct proxy_wait *pw = *pp;
	struct proxy_wait_conn *c, *next;

	if (pw == NULL)
		return;
	for (c = LIST_FIRST(&pw->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, link);
		evutil_closesocket(c->fd);
		proxy_wait_conn_free(c);
	}
	free(pw);
	*pp = NULL;
}
