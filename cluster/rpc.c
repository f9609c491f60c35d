/* rpc.c: the peer RPC object (cluster/rpc.h): options, the listener, the
 * handler table, the calling entry points and the counters. Connections,
 * calls and streams live in rpc_conn.c, rpc_call.c and rpc_stream.c;
 * TLS in rpc_tls.c. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cluster/rpc_int.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"

#define RPC_INFLIGHT_DEF  256u
#define RPC_HANDSHAKE_DEF 10000u
#define RPC_WINDOW_DEF    ((size_t)256 << 10)

static void
rpc_on_accept(struct evconnlistener *evl, evutil_socket_t fd,
              struct sockaddr *sa, int salen, void *arg)
{
	(void)evl;
	rpc_conn__accept(arg, fd, sa, salen);
}

static void
rpc_on_accept_backoff(evutil_socket_t fd, short what, void *arg)
{
	struct rpc *r = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(r->listener);
}

static void
rpc_on_accept_error(struct evconnlistener *evl, void *arg)
{
	struct rpc *r = arg;
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { 0, 100 * 1000 };

	(void)evl;
	rs_log(RS_LOG_WARN, "rpc.accept_error", "port=%u error=\"%s\"",
	       r->port, strerror(e));
	/* Out of descriptors: pause instead of spinning. */
	evconnlistener_disable(r->listener);
	evtimer_add(r->accept_backoff, &tv);
}

static int
rpc_listen(struct rpc *r, const char *bind, unsigned port,
           struct rs_err *err)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char serv[8];
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	snprintf(serv, sizeof(serv), "%u", port);
	if (port > 65535 || getaddrinfo(bind, serv, &hints, &ai) != 0)
		return rs_err_set(err, RS_EINVAL, "rpc: bind %s port %u: not "
		                  "a numeric address", bind, port);
	r->listener = evconnlistener_new_bind(r->base, rpc_on_accept, r,
	        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
	        LEV_OPT_CLOSE_ON_EXEC, -1, ai->ai_addr, (int)ai->ai_addrlen);
	e = errno;
	freeaddrinfo(ai);
	if (r->listener == NULL)
		return rs_err_set(err, RS_EIO, "rpc: bind %s port %u: %s",
		                  bind, port, strerror(e));
	evconnlistener_set_error_cb(r->listener, rpc_on_accept_error);
	r->accept_backoff = evtimer_new(r->base, rpc_on_accept_backoff, r);
	if (r->accept_backoff == NULL)
		abort();
	memset(&ss, 0, sizeof(ss));
	if (getsockname(evconnlistener_get_fd(r->listener),
	                (struct sockaddr *)&ss, &len) == 0)
		r->port = ntohs(ss.ss_family == AF_INET6
		                ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                : ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

static int
rpc_check_opts(const struct rpc_opts *o, struct rs_err *err)
{
	if (o->base == NULL || o->psk == NULL || o->identity == NULL ||
	    o->identity[0] == '\0' || o->node_id == NULL)
		return rs_err_set(err, RS_EINVAL, "rpc: base, psk, identity "
		                  "and node_id are required");
	if (strlen(o->node_id) == 0 || strlen(o->node_id) > RPC_NODE_ID_MAX ||
	    strpbrk(o->node_id, " \t\r\n") != NULL)
		return rs_err_set(err, RS_EINVAL, "rpc: node_id \"%s\": 1 to "
		                  "%u octets, no spaces", o->node_id,
		                  RPC_NODE_ID_MAX);
	if (o->max_frame > RPC_FRAME_LEN_MAX ||
	    (o->max_frame != 0 && o->max_frame < RPC_FRAME_MIN))
		return rs_err_set(err, RS_EINVAL, "rpc: max_frame %zu out of "
		                  "range", o->max_frame);
	if (o->stream_window > RPC_WINDOW_MAX)
		return rs_err_set(err, RS_EINVAL, "rpc: stream_window %zu over "
		                  "%u", o->stream_window, RPC_WINDOW_MAX);
	return 0;
}

int
rpc_new(const struct rpc_opts *o, struct rpc **r_r, struct rs_err *err)
{
	struct rpc *r;

	*r_r = NULL;
	if (rpc_check_opts(o, err) != 0)
		return -1;
	r = rs_xcalloc(1, sizeof(*r));
	r->base = o->base;
	r->max_frame = o->max_frame != 0 ? o->max_frame : RPC_FRAME_MAX_DEF;
	r->max_inflight = o->max_inflight != 0 ? o->max_inflight
	                                       : RPC_INFLIGHT_DEF;
	r->max_queued = o->max_queued != 0 ? o->max_queued : 2 * r->max_frame;
	r->handshake_ms = o->handshake_ms != 0 ? o->handshake_ms
	                                       : RPC_HANDSHAKE_DEF;
	r->stream_window = o->stream_window != 0 ? o->stream_window
	                                         : RPC_WINDOW_DEF;
	r->identity = rs_xstrdup(o->identity);
	r->node_id = rs_xstrdup(o->node_id);
	r->peers = rs_map_new();
	LIST_INIT(&r->conns);
	if (rpc_tls__init(r, o->psk, err) != 0 ||
	    (o->bind != NULL && rpc_listen(r, o->bind, o->port, err) != 0)) {
		rpc_free(&r);
		return -1;
	}
	*r_r = r;
	return 0;
}

void
rpc_free(struct rpc **pp)
{
	struct rpc *r = *pp;
	struct rpc_conn *c;
	const char *key;
	void *v;
	size_t pos = 0;

	if (r == NULL)
		return;
	*pp = NULL;
	if (r->listener != NULL)
		evconnlistener_free(r->listener);
	if (r->accept_backoff != NULL)
		event_free(r->accept_backoff);
	while ((c = LIST_FIRST(&r->conns)) != NULL)
		rpc_conn__destroy(c);
	while (rs_map_next(r->peers, &pos, &key, &v) == 1)
		free(v);
	rs_map_free(&r->peers);
	rpc_tls__free(r);
	free(r->identity);
	free(r->node_id);
	free(r);
}

unsigned
rpc_port(const struct rpc *r)
{
	return r->port;
}

void
rpc_handle(struct rpc *r, uint32_t method, rpc_handler_fn *fn, void *arg)
{
	if (method == 0 || method >= RPC_METHOD_MAX)
		abort();                        /* a bug: see enum */
	r->handlers[method].fn = fn;
	r->handlers[method].arg = arg;
}

int
rpc_call(struct rpc *r, const char *host, unsigned port, uint32_t method,
         const uint8_t *req, size_t len, unsigned timeout_ms,
         rpc_done_fn *cb, void *arg, struct rs_err *err)
{
	struct rpc_pending tmpl;

	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.method = method;
	tmpl.done = cb;
	tmpl.arg = arg;
	return rpc_call__start(r, host, port, &tmpl, req, len, timeout_ms,
	                       err);
}

int
rpc_stream_open(struct rpc *r, const char *host, unsigned port,
                uint32_t method, const uint8_t *req, size_t len,
                unsigned timeout_ms, rpc_stream_fn *cb, void *arg,
                struct rs_err *err)
{
	struct rpc_pending tmpl;

	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.method = method;
	tmpl.stream = true;
	tmpl.sdone = cb;
	tmpl.arg = arg;
	return rpc_call__start(r, host, port, &tmpl, req, len, timeout_ms,
	                       err);
}

void
rpc_stats_get(const struct rpc *r, struct rpc_stats *out)
{
	*out = r->stats;
}
