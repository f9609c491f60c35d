/* rpc_call.c: calls both ways. Calling: ids per connection, a timer per
 * call, calls queued (with a copy of the request) until the connection's
 * hellos are done, and a connection whose requests are still unsent at
 * their deadline is taken for a peer that stopped reading. Serving:
 * struct rpc_call, the handler table, rpc_reply and rpc_stream_accept.
 * Streams themselves are rpc_stream.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/rpc_int.h"
#include "lib/rs_mem.h"

static void
pending_free(struct rpc_pending *p)
{
	event_free(p->timer);
	free(p->req);
	free(p);
}

/* Calls p's callback with an error and frees p (already unlinked). */
static void
pending_fail(struct rpc_pending *p, int code, const char *msg)
{
	struct rs_err e;

	rs_err_set(&e, code, "%s", msg);
	if (p->stream)
		p->sdone(p->arg, code, &e, NULL, NULL, 0);
	else
		p->done(p->arg, code, &e, NULL, 0);
	pending_free(p);
}

static void
call_on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct rpc_pending *p = arg;
	struct rpc_conn *c = p->conn;
	bool stalled = false;

	(void)fd;
	(void)what;
	if (p->queued) {
		TAILQ_REMOVE(&c->queue, p, qlink);
		c->queued -= p->size;
	} else {
		rs_map_deln(c->pending, &p->id, sizeof(p->id));
		/* Not even handed to TLS by its deadline: the peer does not
		 * read, and waiting longer would buffer without bound. */
		stalled = rpc_conn__sent(c) < p->tx_end;
	}
	pending_fail(p, RS_ETIMEDOUT, "rpc: no reply before the deadline");
	if (stalled)
		rpc_conn__close(c, RS_EUNAVAIL, "rpc: the peer does not read");
}

static void
call_request(rpc_frame *f, const struct rpc_pending *p, const uint8_t *req,
             size_t len, const struct rpc *r)
{
	uint64_t now = rpc__now();

	f->kind = ROOST__RPC_FRAME__KIND__REQUEST;
	f->id = p->id;
	f->method = p->method;
	f->deadline_ms = p->deadline > now ? (uint32_t)(p->deadline - now) : 1;
	f->payload.data = (uint8_t *)req;  /* packed, not kept */
	f->payload.len = len;
	f->stream = p->stream;
	f->window = p->stream ? (uint32_t)r->stream_window : 0;
}

/* Sends p's request on c (READY) and files p under its id. -1 with err:
 * over the peer's frame limit (p untouched). */
static int
call_send(struct rpc_conn *c, struct rpc_pending *p, const uint8_t *req,
          size_t len, struct rs_err *err)
{
	rpc_frame f = ROOST__RPC_FRAME__INIT;

	call_request(&f, p, req, len, c->rpc);
	if (rpc_conn__send(c, &f, err) != 0)
		return -1;
	p->tx_end = c->tx_total;
	rs_map_putn(c->pending, &p->id, sizeof(p->id), p);
	return 0;
}

void
rpc_call__flush_queue(struct rpc_conn *c)
{
	struct rpc_pending *p;
	struct rs_err err;

	while (c->state == RPC_CONN_READY &&
	       (p = TAILQ_FIRST(&c->queue)) != NULL) {
		TAILQ_REMOVE(&c->queue, p, qlink);
		c->queued -= p->size;
		p->queued = false;
		if (call_send(c, p, p->req, p->len, &err) != 0) {
			evtimer_del(p->timer);
			pending_fail(p, RS_ETOOBIG, err.msg);
			continue;
		}
		RS_FREE(&p->req);
	}
}

/* Unlinks one call of c, queued ones first; NULL when none is left. */
static struct rpc_pending *
call_pop(struct rpc_conn *c)
{
	struct rpc_pending *p = TAILQ_FIRST(&c->queue);
	size_t pos = 0;
	const char *key;
	void *v;

	if (p != NULL) {
		TAILQ_REMOVE(&c->queue, p, qlink);
		c->queued -= p->size;
		p->queued = false;
		return p;
	}
	if (rs_map_next(c->pending, &pos, &key, &v) != 1)
		return NULL;
	p = v;
	rs_map_deln(c->pending, &p->id, sizeof(p->id));
	return p;
}

void
rpc_call__fail_all(struct rpc_conn *c, int code, const char *why)
{
	struct rpc_pending *p;

	/* Callbacks may call again: c is closed, so that goes to a new
	 * connection, never into c's tables. */
	while ((p = call_pop(c)) != NULL) {
		evtimer_del(p->timer);
		pending_fail(p, code, why);
	}
}

void
rpc_call__drop_all(struct rpc_conn *c)
{
	struct rpc_pending *p;

	while ((p = call_pop(c)) != NULL)
		pending_free(p);
}

static struct rpc_peer *
call_peer(struct rpc *r, const char *key)
{
	struct rpc_peer *peer = rs_map_get(r->peers, key);

	if (peer == NULL) {
		peer = rs_xcalloc(1, sizeof(*peer));
		rs_map_put(r->peers, key, peer);
	}
	return peer;
}

/* The connection to call on: made if there is none (or -1 with err:
 * the peer failed a moment ago, or cannot be reached). */
static struct rpc_conn *
call_conn(struct rpc *r, const char *host, unsigned port,
          struct rs_err *err)
{
	char key[128];
	struct rpc_peer *peer;
	uint64_t now;

	snprintf(key, sizeof(key), "%s:%u", host, port);
	peer = call_peer(r, key);
	if (peer->conn != NULL)
		return peer->conn;
	now = rpc__now();
	if (now < peer->down_until) {
		rs_err_set(err, RS_EUNAVAIL, "rpc: %s is down (retry in %llu ms)",
		           key, (unsigned long long)(peer->down_until - now));
		return NULL;
	}
	if (rpc_conn__connect(r, peer, host, port, err) != 0)
		return NULL;
	return peer->conn;
}

int
rpc_call__start(struct rpc *r, const char *host, unsigned port,
                struct rpc_pending *tmpl, const uint8_t *req, size_t len,
                unsigned timeout_ms, struct rs_err *err)
{
	rpc_frame f = ROOST__RPC_FRAME__INIT;
	struct timeval tv = { (time_t)(timeout_ms / 1000),
	                      (suseconds_t)(timeout_ms % 1000) * 1000 };
	struct rpc_pending *p;
	struct rpc_conn *c;
	size_t size;

	if (timeout_ms == 0)
		return rs_err_set(err, RS_EINVAL, "rpc: no time to wait");
	tmpl->deadline = rpc__now() + timeout_ms;
	call_request(&f, tmpl, req, len, r);
	/* Refused before anything is queued or connected: over our limit
	 * (or the peer's, known since its hello). */
	if (rpc_frame_size(&f, r->max_frame, &size, err) != 0)
		return -1;
	if ((c = call_conn(r, host, port, err)) == NULL)
		return -1;
	if (rpc_frame_size(&f, rpc_conn__max_frame(c), &size, err) != 0)
		return -1;
	if (rpc_conn__backlog(c) + size > r->max_queued)
		return rs_err_set(err, RS_EUNAVAIL,
		                  "rpc: %s: %zu octets queued already",
		                  c->addr, rpc_conn__backlog(c));
	p = rs_xmalloc(sizeof(*p));
	*p = *tmpl;
	p->conn = c;
	p->id = ++c->next_id;
	p->timer = evtimer_new(r->base, call_on_timeout, p);
	if (p->timer == NULL)
		abort();
	evtimer_add(p->timer, &tv);
	if (c->state == RPC_CONN_READY) {
		if (call_send(c, p, req, len, err) != 0)
			abort();                /* size checked above */
	} else {
		p->req = len > 0 ? rs_xmemdup(req, len) : NULL;
		p->len = len;
		p->size = size;
		p->queued = true;
		c->queued += size;
		TAILQ_INSERT_TAIL(&c->queue, p, qlink);
	}
	r->stats.calls_out++;
	return 0;
}

static void
call_reply_stream(struct rpc_conn *c, struct rpc_pending *p,
                  const rpc_frame *f)
{
	struct bufferevent *bev;

	if (!f->stream || f->window == 0 ||
	    rs_map_getn(c->streams, &p->id, sizeof(p->id)) != NULL) {
		pending_fail(p, RS_EINVAL, "rpc: the peer did not open the "
		             "stream");
		return;
	}
	rpc_stream__new(c, p->id, f->window, &bev);
	p->sdone(p->arg, 0, NULL, bev, f->payload.data, f->payload.len);
	pending_free(p);
}

/* A stream accepted after its opener gave up: tear the far end down. */
static void
call_reset(struct rpc_conn *c, uint64_t id)
{
	rpc_frame f = ROOST__RPC_FRAME__INIT;

	f.kind = ROOST__RPC_FRAME__KIND__STREAM_RESET;
	f.id = id;
	f.error = (char *)"opener gave up";
	rpc_conn__send_ctl(c, &f);
}

int
rpc_call__on_reply(struct rpc_conn *c, const rpc_frame *f)
{
	struct rpc_pending *p = rs_map_deln(c->pending, &f->id,
	                                    sizeof(f->id));
	int rc = f->rc;

	if (p == NULL) {                /* late: its caller gave up */
		if (f->stream && f->rc == 0)
			call_reset(c, f->id);
		return 0;
	}
	evtimer_del(p->timer);
	if (rc > 0)
		rc = RS_EIO;            /* RS_E* codes are negative */
	if (rc != 0) {
		pending_fail(p, rc, f->error != NULL && f->error[0] != '\0'
		             ? f->error : rs_err_name(rc));
		return 0;
	}
	if (p->stream) {
		call_reply_stream(c, p, f);
		return 0;
	}
	p->done(p->arg, 0, NULL, f->payload.data, f->payload.len);
	pending_free(p);
	return 0;
}

/* ---- serving ---- */

int
rpc_call__on_request(struct rpc_conn *c, const rpc_frame *f)
{
	struct rpc *r = c->rpc;
	struct rpc_call *call = rs_xcalloc(1, sizeof(*call));
	const struct rpc_handler *h = NULL;

	call->conn = c;
	call->id = f->id;
	call->method = f->method;
	call->stream = f->stream;
	call->window = f->window;
	call->deadline = rpc__now() + f->deadline_ms;
	call->peer = rs_xstrdup(c->peer_id);
	LIST_INSERT_HEAD(&c->calls, call, link);
	c->inflight++;
	r->stats.calls_in++;
	if (f->method < RPC_METHOD_MAX)
		h = &r->handlers[f->method];
	if (f->stream && f->window == 0)
		rpc_reply(call, RS_EINVAL, "stream without a window", NULL, 0);
	else if (h == NULL || h->fn == NULL)
		rpc_reply(call, RS_EINVAL, "no such method", NULL, 0);
	else
		h->fn(h->arg, call, f->payload.data, f->payload.len);
	return 0;
}

static void
call_free(struct rpc_call *call)
{
	struct rpc_conn *c = call->conn;

	if (c != NULL) {
		LIST_REMOVE(call, link);
		c->inflight--;
		rpc_conn__maybe_resume(c);
	}
	free(call->peer);
	free(call);
}

static bool
call_live(const struct rpc_call *call)
{
	return call->conn != NULL && call->conn->state == RPC_CONN_READY &&
	       rpc__now() < call->deadline;
}

void
rpc_reply(struct rpc_call *call, int rc, const char *msg,
          const uint8_t *resp, size_t len)
{
	rpc_frame f = ROOST__RPC_FRAME__INIT;
	struct rs_err err;
	char text[300];

	if (call_live(call)) {
		if (rc == 0 && call->stream) {
			rc = RS_EINVAL;    /* rpc_stream_accept was due */
			msg = "stream not accepted";
		}
		f.kind = ROOST__RPC_FRAME__KIND__REPLY;
		f.id = call->id;
		f.rc = rc;
		f.error = (char *)(msg != NULL ? msg : "");
		if (rc == 0) {
			f.payload.data = (uint8_t *)resp;
			f.payload.len = len;
		}
		if (rpc_conn__send(call->conn, &f, &err) != 0) {
			/* Over the limit: say so instead. */
			snprintf(text, sizeof(text), "reply: %s", err.msg);
			f.rc = RS_ETOOBIG;
			f.error = text;
			f.payload.data = NULL;
			f.payload.len = 0;
			rpc_conn__send_ctl(call->conn, &f);
		}
	}
	call_free(call);
}

struct bufferevent *
rpc_stream_accept(struct rpc_call *call, const uint8_t *resp, size_t len)
{
	rpc_frame f = ROOST__RPC_FRAME__INIT;
	struct rpc_conn *c = call->conn;
	struct bufferevent *bev;
	struct rs_err err;

	if (!call_live(call) || !call->stream ||
	    rs_map_getn(c->streams, &call->id, sizeof(call->id)) != NULL) {
		rpc_reply(call, RS_EINVAL, "not a stream", NULL, 0);
		return NULL;
	}
	f.kind = ROOST__RPC_FRAME__KIND__REPLY;
	f.id = call->id;
	f.stream = true;
	f.window = (uint32_t)c->rpc->stream_window;
	f.payload.data = (uint8_t *)resp;
	f.payload.len = len;
	if (rpc_conn__send(c, &f, &err) != 0) {
		rpc_reply(call, RS_ETOOBIG, err.msg, NULL, 0);
		return NULL;
	}
	rpc_stream__new(c, call->id, call->window, &bev);
	call_free(call);
	return bev;
}

const char *
rpc_call_peer(const struct rpc_call *call)
{
	return call->peer;
}

unsigned
rpc_call_ms_left(const struct rpc_call *call)
{
	uint64_t now = rpc__now();

	return call->deadline > now ? (unsigned)(call->deadline - now) : 0;
}
