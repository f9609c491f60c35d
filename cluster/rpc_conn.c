/* rpc_conn.c: one peer connection. A nonblocking connect (outgoing) or an
 * accepted socket; TLS over it; both hellos within handshake_ms or the
 * connection is refused; then frames both ways. Serving connections stop
 * being read while max_inflight calls are served or max_queued octets of
 * replies wait. Teardown happens in rpc_conn__close; the memory goes from
 * a one-shot event, never under a callback still on the stack. Calls and
 * streams are rpc_call.c's and rpc_stream.c's. */
#include <errno.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <openssl/err.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/rpc_int.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "lib/rs_time.h"

static void conn_on_read(struct bufferevent *bev, void *arg);

uint64_t
rpc__now(void)
{
	return rs_mono_ms();
}

/* libevent allocates; like rs_xmalloc, running out of memory aborts. */
static struct event *
conn_event(struct event_base *base, evutil_socket_t fd, short what,
           event_callback_fn cb, void *arg)
{
	struct event *ev = event_new(base, fd, what, cb, arg);

	if (ev == NULL)
		abort();
	return ev;
}

static void
conn_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN], serv[8];

	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
	                NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(buf, size, "?");
	else if (sa->sa_family == AF_INET6)
		snprintf(buf, size, "[%s]:%s", host, serv);
	else
		snprintf(buf, size, "%s:%s", host, serv);
}

static void
conn_on_free(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	rpc_conn__destroy(arg);
}

static void
conn_on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct rpc_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == RPC_CONN_READY && !c->paused)
		conn_on_read(c->bev, c);
}

static void conn_on_deadline(evutil_socket_t fd, short what, void *arg);

static struct rpc_conn *
conn_new(struct rpc *r, bool outgoing, const char *addr)
{
	struct rpc_conn *c = rs_xcalloc(1, sizeof(*c));
	struct timeval tv = { (time_t)(r->handshake_ms / 1000),
	                      (suseconds_t)(r->handshake_ms % 1000) * 1000 };

	c->rpc = r;
	c->outgoing = outgoing;
	c->fd = -1;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->dec = rpc_frame_dec_new(RPC_HELLO_FRAME);
	c->hs_timer = conn_event(r->base, -1, 0, conn_on_deadline, c);
	c->resume_ev = conn_event(r->base, -1, 0, conn_on_resume, c);
	c->free_ev = conn_event(r->base, -1, 0, conn_on_free, c);
	c->pending = rs_map_new();
	c->streams = rs_map_new();
	TAILQ_INIT(&c->queue);
	LIST_INIT(&c->calls);
	LIST_INSERT_HEAD(&r->conns, c, link);
	evtimer_add(c->hs_timer, &tv);
	return c;
}

/* Forgets c in the peer table and the counters: a new call makes a new
 * connection from here on. */
static void
conn_unlink(struct rpc_conn *c)
{
	if (c->peer != NULL && c->peer->conn == c)
		c->peer->conn = NULL;
	c->peer = NULL;
	if (c->counted) {
		if (c->outgoing)
			c->rpc->stats.conns_out--;
		else
			c->rpc->stats.conns_in--;
		c->counted = false;
	}
}

static void
conn_release_io(struct rpc_conn *c)
{
	if (c->connect_ev != NULL)
		event_free(c->connect_ev);
	c->connect_ev = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->bev != NULL)
		bufferevent_free(c->bev);     /* the SSL and socket too */
	c->bev = NULL;
	evtimer_del(c->hs_timer);
	event_del(c->resume_ev);
}

/* The requests being served stay with their handlers, answerless. */
static void
conn_detach_calls(struct rpc_conn *c)
{
	struct rpc_call *call;

	while ((call = LIST_FIRST(&c->calls)) != NULL) {
		LIST_REMOVE(call, link);
		call->conn = NULL;
	}
	c->inflight = 0;
}

void
rpc_conn__close(struct rpc_conn *c, int code, const char *why)
{
	if (c->state == RPC_CONN_CLOSED)
		return;
	if (c->state == RPC_CONN_READY)
		rs_log(RS_LOG_INFO, "rpc.closed", "peer=%s node=%s reason=\"%s\"",
		       c->addr, c->peer_id != NULL ? c->peer_id : "-", why);
	c->state = RPC_CONN_CLOSED;
	conn_unlink(c);
	conn_release_io(c);
	conn_detach_calls(c);
	rpc_stream__detach_all(c);
	rpc_call__fail_all(c, code, why);      /* callbacks: last */
	event_active(c->free_ev, EV_TIMEOUT, 0);
}

void
rpc_conn__destroy(struct rpc_conn *c)
{
	if (c->state != RPC_CONN_CLOSED) {
		c->state = RPC_CONN_CLOSED;
		conn_unlink(c);
		conn_release_io(c);
		conn_detach_calls(c);
		rpc_stream__detach_all(c);
		rpc_call__drop_all(c);
	}
	event_free(c->hs_timer);
	event_free(c->resume_ev);
	event_free(c->free_ev);
	rpc_frame_dec_free(&c->dec);
	rs_map_free(&c->pending);
	rs_map_free(&c->streams);
	free(c->peer_id);
	LIST_REMOVE(c, link);
	free(c);
}

static void
conn_backoff(struct rpc_peer *peer)
{
	unsigned ms = RPC_BACKOFF_MIN_MS;

	if (peer == NULL)
		return;
	for (unsigned i = 0; i < peer->fails && ms < RPC_BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > RPC_BACKOFF_MAX_MS)
		ms = RPC_BACKOFF_MAX_MS;
	peer->fails++;
	peer->down_until = rpc__now() + ms;
}

/* A handshake failed: counted and logged here, once per connection. */
static void
conn_refuse(struct rpc_conn *c, const char *reason)
{
	char val[96], why[160];

	c->rpc->stats.refused++;
	rs_log(RS_LOG_WARN, "rpc.refused", "peer=%s reason=%s", c->addr,
	       rs_log_val(val, sizeof(val), reason, strlen(reason)));
	snprintf(why, sizeof(why), "rpc: handshake with %s failed: %s",
	         c->addr, reason);
	conn_backoff(c->peer);
	rpc_conn__close(c, RS_EUNAVAIL, why);
}

static void
conn_connect_failed(struct rpc_conn *c, const char *what)
{
	char why[160];

	snprintf(why, sizeof(why), "rpc: connect to %s: %s", c->addr, what);
	conn_backoff(c->peer);
	rpc_conn__close(c, RS_EUNAVAIL, why);
}

static void
conn_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct rpc_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == RPC_CONN_CONNECTING)
		conn_connect_failed(c, "timed out");
	else if (c->state == RPC_CONN_HANDSHAKE)
		conn_refuse(c, "timeout");
}

static void
conn_protocol_error(struct rpc_conn *c, const char *what)
{
	char why[400];

	if (c->state == RPC_CONN_HANDSHAKE) {
		conn_refuse(c, what);
		return;
	}
	snprintf(why, sizeof(why), "rpc: protocol error from %s: %s", c->addr,
	         what);
	rpc_conn__close(c, RS_EUNAVAIL, why);
}

size_t
rpc_conn__max_frame(const struct rpc_conn *c)
{
	size_t max = c->rpc->max_frame;

	return c->got_hello && c->peer_max < max ? c->peer_max : max;
}

size_t
rpc_conn__backlog(const struct rpc_conn *c)
{
	size_t n = c->queued;

	if (c->bev != NULL)
		n += evbuffer_get_length(bufferevent_get_output(c->bev));
	return n;
}

uint64_t
rpc_conn__sent(const struct rpc_conn *c)
{
	if (c->bev == NULL)
		return c->tx_total;
	return c->tx_total -
	       evbuffer_get_length(bufferevent_get_output(c->bev));
}

/* Octets were added to an output that was empty. bufferevent_openssl
 * (socket mode) only adds its write event for them: the write would
 * wait for the next epoll_wait, and its event would go into epoll and
 * out again (two epoll_ctl) for every message sent. Running the write
 * event now, once the current callbacks are done, writes in this round
 * of the loop instead, and libevent's changelist folds the add and the
 * delete into nothing. Only once the TLS session is open: before, the
 * write event drives the handshake. */
static void
conn_kick_write(struct rpc_conn *c, bool was_empty)
{
	if (was_empty && c->state == RPC_CONN_READY)
		event_active(&c->bev->ev_write, EV_WRITE, 1);
}

int
rpc_conn__send(struct rpc_conn *c, const rpc_frame *f, struct rs_err *err)
{
	struct evbuffer *out;
	struct evbuffer_iovec v;
	size_t size;
	bool was_empty;

	if (c->bev == NULL)
		return rs_err_set(err, RS_EUNAVAIL, "rpc: connection closed");
	if (rpc_frame_size(f, rpc_conn__max_frame(c), &size, err) != 0)
		return -1;
	/* Packed in place: one copy for a 64 MiB message, not two. */
	out = bufferevent_get_output(c->bev);
	was_empty = evbuffer_get_length(out) == 0;
	if (evbuffer_reserve_space(out, (ev_ssize_t)size, &v, 1) != 1 ||
	    v.iov_len < size)
		abort();                        /* out of memory */
	rpc_frame_encode(f, v.iov_base, size);
	v.iov_len = size;
	if (evbuffer_commit_space(out, &v, 1) != 0)
		abort();
	c->tx_total += size;
	conn_kick_write(c, was_empty);
	return 0;
}

void
rpc_conn__send_data(struct rpc_conn *c, uint64_t id, struct evbuffer *src,
                    size_t n)
{
	uint8_t head[RPC_FRAME_DATA_HEAD];
	size_t hlen = rpc_frame_data_head(id, n, head);
	struct evbuffer *out;
	struct evbuffer_iovec v;
	bool was_empty;

	if (c->bev == NULL)
		return;
	out = bufferevent_get_output(c->bev);
	was_empty = evbuffer_get_length(out) == 0;
	if (evbuffer_reserve_space(out, (ev_ssize_t)(hlen + n), &v, 1) != 1 ||
	    v.iov_len < hlen + n)
		abort();                        /* out of memory */
	memcpy(v.iov_base, head, hlen);
	if (evbuffer_remove(src, (uint8_t *)v.iov_base + hlen, n) != (int)n)
		abort();                        /* a bug: n is there */
	v.iov_len = hlen + n;
	if (evbuffer_commit_space(out, &v, 1) != 0)
		abort();
	c->tx_total += hlen + n;
	conn_kick_write(c, was_empty);
}

void
rpc_conn__send_ctl(struct rpc_conn *c, const rpc_frame *f)
{
	if (c->bev != NULL && rpc_conn__send(c, f, NULL) != 0)
		abort();                /* a bug: RPC_FRAME_MIN is larger */
}

/* Serving side: is it time to stop reading this peer? */
static bool
conn_must_pause(const struct rpc_conn *c)
{
	const struct rpc *r = c->rpc;

	return !c->outgoing && c->state == RPC_CONN_READY &&
	       (c->inflight >= r->max_inflight ||
	        evbuffer_get_length(bufferevent_get_output(c->bev)) >
	                r->max_queued);
}

void
rpc_conn__maybe_resume(struct rpc_conn *c)
{
	if (!c->paused || c->state != RPC_CONN_READY || conn_must_pause(c))
		return;
	c->paused = false;
	bufferevent_enable(c->bev, EV_READ);
	/* Frames already buffered raise no read event: read them from the
	 * loop, not from under whoever called us. */
	event_active(c->resume_ev, EV_TIMEOUT, 0);
}

static void
conn_send_hello(struct rpc_conn *c)
{
	rpc_frame f = ROOST__RPC_FRAME__INIT;

	f.kind = ROOST__RPC_FRAME__KIND__HELLO;
	f.node_id = c->rpc->node_id;
	f.max_frame = c->rpc->max_frame;
	f.version = RPC_VERSION;
	c->sent_hello = true;
	rpc_conn__send_ctl(c, &f);
}

static bool
conn_node_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > RPC_NODE_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static int
conn_on_hello(struct rpc_conn *c, const rpc_frame *f)
{
	struct rpc *r = c->rpc;

	if (f->kind != ROOST__RPC_FRAME__KIND__HELLO) {
		conn_protocol_error(c, "no_hello");
		return -1;
	}
	if (f->version != RPC_VERSION || f->node_id == NULL ||
	    !conn_node_id_ok(f->node_id) ||
	    (f->max_frame != 0 && f->max_frame < RPC_FRAME_MIN)) {
		conn_protocol_error(c, "bad_hello");
		return -1;
	}
	c->peer_id = rs_xstrdup(f->node_id);
	c->peer_max = f->max_frame == 0 ? RPC_FRAME_MAX_DEF
	            : f->max_frame > RPC_FRAME_LEN_MAX ? RPC_FRAME_LEN_MAX
	            : (size_t)f->max_frame;
	c->got_hello = true;
	rpc_frame_dec_set_max(c->dec, r->max_frame);
	if (!c->sent_hello)
		conn_send_hello(c);
	c->state = RPC_CONN_READY;
	evtimer_del(c->hs_timer);
	c->counted = true;
	if (c->outgoing) {
		r->stats.conns_out++;
		c->peer->fails = 0;
		c->peer->down_until = 0;
		rpc_call__flush_queue(c);
	} else {
		r->stats.conns_in++;
	}
	return 0;
}

/* -1: c is closing (touch nothing but its state). */
static int
conn_dispatch(struct rpc_conn *c, rpc_frame *f)
{
	int rc;

	if (!c->got_hello)
		return conn_on_hello(c, f);
	switch (f->kind) {
	case ROOST__RPC_FRAME__KIND__HELLO:
		rc = -1;
		break;
	case ROOST__RPC_FRAME__KIND__REQUEST:
		rc = c->outgoing ? -1 : rpc_call__on_request(c, f);
		break;
	case ROOST__RPC_FRAME__KIND__REPLY:
		rc = c->outgoing ? rpc_call__on_reply(c, f) : -1;
		break;
	default:
		rc = rpc_stream__on_frame(c, f);
		break;
	}
	if (rc != 0 && c->state != RPC_CONN_CLOSED)
		conn_protocol_error(c, rpc_frame_kind_name((int)f->kind));
	return rc;
}

/* With read-ahead (rpc_tls.c) OpenSSL may hold whole records already
 * read from the socket. libevent 2.1's socket mode never asks for them:
 * after each record it reads only what is left of that one, and the
 * socket, drained, raises no event for the rest. So once the frames read
 * so far are handled, we take the next record ourselves, in the same
 * callback: every frame of a read() is handled before anything they
 * caused runs (a relay then writes the client once per read, not once
 * per record). A partial record costs one read() that finds nothing and
 * waits for the socket's next event. Anything else SSL_read says is the
 * bufferevent's to find: its read event runs (a public field of struct
 * bufferevent, bufferevent_struct.h, the one way in to its
 * consider_reading) and meets the same state. True if octets were
 * added to in. */
static bool
conn_read_held(struct rpc_conn *c, struct evbuffer *in)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	struct evbuffer_iovec v;
	int r;

	if (ssl == NULL || !SSL_has_pending(ssl) ||
	    (bufferevent_get_enabled(c->bev) & EV_READ) == 0)
		return false;
	if (evbuffer_reserve_space(in, RPC_FRAME_RECORD, &v, 1) < 1)
		abort();                        /* out of memory */
	ERR_clear_error();
	r = SSL_read(ssl, v.iov_base, (int)v.iov_len);
	if (r <= 0) {
		if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ)
			event_active(&c->bev->ev_read, EV_READ, 1);
		else
			ERR_clear_error();
		return false;
	}
	v.iov_len = (size_t)r;
	if (evbuffer_commit_space(in, &v, 1) != 0)
		abort();
	return true;
}

static void
conn_on_read(struct bufferevent *bev, void *arg)
{
	struct rpc_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (c->state == RPC_CONN_HANDSHAKE || c->state == RPC_CONN_READY) {
		rpc_frame *f = NULL;
		struct rs_err err;
		size_t n, used;
		int rc;

		if (conn_must_pause(c)) {
			c->paused = true;
			bufferevent_disable(bev, EV_READ);
			return;
		}
		n = evbuffer_get_contiguous_space(in);
		if (n == 0 && !conn_read_held(c, in))
			return;
		n = evbuffer_get_contiguous_space(in);
		rc = rpc_frame_dec_feed(c->dec, evbuffer_pullup(in,
		                        (ev_ssize_t)n), n, &used, &f, &err);
		evbuffer_drain(in, used);
		if (rc < 0) {
			conn_protocol_error(c, err.msg);
			return;
		}
		if (rc == 1) {
			rc = conn_dispatch(c, f);
			rpc_frame_free(&f);
			if (rc != 0)
				return;
		}
	}
}

static void
conn_on_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	rpc_conn__maybe_resume(arg);
}

static const char *
conn_tls_reason(struct rpc_conn *c, short what, char *buf, size_t size)
{
	unsigned long e = bufferevent_get_openssl_error(c->bev);
	const char *s;

	if (c->why != NULL)
		return c->why;
	if (e != 0) {
		s = ERR_reason_error_string(e);
		snprintf(buf, size, "tls:%s", s != NULL ? s : "error");
		while (bufferevent_get_openssl_error(c->bev) != 0)
			;
		return buf;
	}
	if (what & BEV_EVENT_EOF)
		return "eof";
	if (what & BEV_EVENT_TIMEOUT)
		return "timeout";
	return "io_error";
}

/* An incoming connection that ended before its peer sent a single
 * octet: the controller's liveness probe (liveness.c) connects and
 * closes every half second, and a port scan does the same. Nothing was
 * refused, so nothing is counted, and the log only has it at debug. */
static bool
conn_was_probe(struct rpc_conn *c, short what)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	if (c->outgoing || (what & BEV_EVENT_TIMEOUT) != 0 || ssl == NULL ||
	    BIO_number_read(SSL_get_rbio(ssl)) != 0)
		return false;
	while (bufferevent_get_openssl_error(c->bev) != 0)
		;
	rs_log(RS_LOG_DEBUG, "rpc.probe", "peer=%s", c->addr);
	rpc_conn__close(c, RS_EUNAVAIL, "rpc: closed before the handshake");
	return true;
}

static void
conn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct rpc_conn *c = arg;
	char buf[128];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		/* TLS is up; the peer's hello may follow at once, and may
		 * have come with the handshake's last read. */
		if (!c->sent_hello)
			conn_send_hello(c);
		conn_on_read(c->bev, c);
		return;
	}
	if (c->state == RPC_CONN_HANDSHAKE) {
		if (!conn_was_probe(c, what))
			conn_refuse(c, conn_tls_reason(c, what, buf,
			                               sizeof(buf)));
		return;
	}
	rpc_conn__close(c, RS_EUNAVAIL, (what & BEV_EVENT_EOF)
	                ? "rpc: connection closed by the peer"
	                : "rpc: connection broken");
}

static void
conn_nodelay(evutil_socket_t fd)
{
	int one = 1;

	/* Small frames must not wait for Nagle. Best effort. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Wraps the connected socket (c->fd, taken) in TLS. */
static void
conn_start_tls(struct rpc_conn *c, bool server)
{
	struct rpc *r = c->rpc;
	SSL *ssl = rpc_tls__ssl(r, c, server);
	evutil_socket_t fd = c->fd;

	if (ssl == NULL) {
		conn_refuse(c, "tls_setup");
		return;
	}
	c->bev = bufferevent_openssl_socket_new(r->base, fd, ssl,
	        server ? BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING,
	        BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (c->bev == NULL)
		abort();                        /* out of memory */
	c->fd = -1;
	c->state = RPC_CONN_HANDSHAKE;
	bufferevent_setcb(c->bev, conn_on_read, conn_on_write, conn_on_event,
	                  c);
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	if (server)       /* resumes reading once replies drain to half */
		bufferevent_setwatermark(c->bev, EV_WRITE, r->max_queued / 2,
		                         0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
conn_on_connect(evutil_socket_t fd, short what, void *arg)
{
	struct rpc_conn *c = arg;
	int e = 0;
	socklen_t len = sizeof(e);

	(void)what;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
		e = errno;
	event_free(c->connect_ev);
	c->connect_ev = NULL;
	if (e != 0) {
		conn_connect_failed(c, strerror(e));
		return;
	}
	conn_start_tls(c, false);
}

int
rpc_conn__connect(struct rpc *r, struct rpc_peer *peer, const char *host,
                  unsigned port, struct rs_err *err)
{
	struct addrinfo hints, *ai = NULL;
	struct rpc_conn *c;
	char serv[8], addr[RPC_ADDR_MAX];
	evutil_socket_t fd;
	int rc, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(serv, sizeof(serv), "%u", port);
	if (port == 0 || port > 65535 ||
	    getaddrinfo(host, serv, &hints, &ai) != 0)
		return rs_err_set(err, RS_EINVAL,
		                  "rpc: %s port %u: not a numeric address",
		                  host, port);
	conn_addr(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            0);
	if (fd < 0) {
		e = errno;
		freeaddrinfo(ai);
		return rs_err_set(err, RS_EIO, "rpc: socket: %s", strerror(e));
	}
	conn_nodelay(fd);
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	e = errno;
	freeaddrinfo(ai);
	if (rc != 0 && e != EINPROGRESS) {
		close(fd);
		conn_backoff(peer);
		return rs_err_set(err, RS_EUNAVAIL, "rpc: connect to %s: %s",
		                  addr, strerror(e));
	}
	c = conn_new(r, true, addr);
	c->peer = peer;
	peer->conn = c;
	c->fd = fd;
	c->state = RPC_CONN_CONNECTING;
	c->connect_ev = conn_event(r->base, fd, EV_WRITE, conn_on_connect, c);
	event_add(c->connect_ev, NULL);
	return 0;
}

void
rpc_conn__accept(struct rpc *r, evutil_socket_t fd, const struct sockaddr *sa,
                 int salen)
{
	struct rpc_conn *c;
	char addr[RPC_ADDR_MAX];

	conn_addr(sa, (socklen_t)salen, addr, sizeof(addr));
	conn_nodelay(fd);
	c = conn_new(r, false, addr);
	c->fd = fd;
	conn_start_tls(c, true);
}
