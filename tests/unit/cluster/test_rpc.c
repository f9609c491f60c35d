/* test_rpc.c: peer RPC calls end to end on loopback (cluster/rpc*.c):
 * ping, many calls answered out of order, handler errors, deadlines,
 * large frames and the limits, a peer down, the handshake refusals (wrong
 * key, not TLS, silence), and rpc_free with calls in flight. Streams are
 * in test_rpc_stream.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/rs_mem.h"
#include "tests/unit/cluster/rpc_test_env.h"
#include "tests/unit/test.h"

#define RT_HELD_MAX 1024

/* Requests a handler keeps to answer later. */
struct rt_held {
	struct rpc_call *calls[RT_HELD_MAX];
	uint32_t         reqs[RT_HELD_MAX];
	unsigned         ms_left[RT_HELD_MAX];
	size_t           n;
	size_t           seen;
	char             peer[64];
};

static void
h_echo(void *arg, struct rpc_call *call, const uint8_t *req, size_t len)
{
	struct rt_held *h = arg;

	if (h != NULL) {
		h->seen++;
		snprintf(h->peer, sizeof(h->peer), "%s", rpc_call_peer(call));
	}
	rpc_reply(call, 0, NULL, req, len);
}

static void
h_hold(void *arg, struct rpc_call *call, const uint8_t *req, size_t len)
{
	struct rt_held *h = arg;
	uint32_t v = 0;

	TEST_ASSERT(h->n < RT_HELD_MAX);
	if (len == sizeof(v))
		memcpy(&v, req, sizeof(v));
	h->reqs[h->n] = v;
	h->ms_left[h->n] = rpc_call_ms_left(call);
	h->calls[h->n++] = call;
	h->seen++;
}

static void
h_fail(void *arg, struct rpc_call *call, const uint8_t *req, size_t len)
{
	(void)arg;
	(void)req;
	(void)len;
	rpc_reply(call, RS_ENOTFOUND, "no such mailbox", NULL, 0);
}

/* Answers every held call, last first: value * 3. */
static void
rt_reply_held(struct rt_held *h)
{
	while (h->n > 0) {
		uint32_t v;

		h->n--;
		v = h->reqs[h->n] * 3;
		rpc_reply(h->calls[h->n], 0, NULL, (const uint8_t *)&v,
		          sizeof(v));
	}
}

void
test_rpc_ping(void)
{
	struct rt_env e;
	struct rt_result res;
	struct rt_held h = { .n = 0 };
	struct rpc_stats c, sv;

	rt_env_init(&e, NULL, NULL);
	rt_result_init(&res);
	rpc_handle(e.srv, RPC_METHOD_PING, h_echo, &h);
	TEST_ASSERT_INTEQ(rt_call_wait(&e, RPC_METHOD_PING, NULL, 0, 5000,
	                               &res), 0);
	TEST_ASSERT_INTEQ(res.resp.len, 0);
	TEST_ASSERT_STREQ(h.peer, "node-b");
	rpc_stats_get(e.cli, &c);
	rpc_stats_get(e.srv, &sv);
	TEST_ASSERT(c.conns_out == 1 && c.conns_in == 0 && c.calls_out == 1 &&
	            c.refused == 0);
	TEST_ASSERT(sv.conns_in == 1 && sv.calls_in == 1 && sv.refused == 0);
	/* The connection is reused. */
	TEST_ASSERT_INTEQ(rt_call_wait(&e, RPC_METHOD_PING, "x", 1, 5000,
	                               &res), 0);
	TEST_ASSERT_INTEQ(res.resp.len, 1);
	rpc_stats_get(e.srv, &sv);
	TEST_ASSERT(sv.conns_in == 1 && sv.calls_in == 2);
	/* No handler: RS_EINVAL. */
	TEST_ASSERT_INTEQ(rt_call_wait(&e, RPC_METHOD_DELIVER, NULL, 0, 5000,
	                               &res), RS_EINVAL);
	rt_result_free(&res);
	rt_env_free(&e);
}

void
test_rpc_many_out_of_order(void)
{
	enum { N = 1000 };
	struct rt_env e;
	struct rt_held *h = rs_xcalloc(1, sizeof(*h));
	struct rt_result *res = rs_xcalloc(N, sizeof(*res));
	unsigned done = 0, bad = 0;
	uint64_t end;
	struct rs_err err;

	rt_env_init(&e, NULL, NULL);
	rpc_handle(e.srv, RPC_METHOD_DELIVER, h_hold, h);
	for (uint32_t i = 0; i < N; i++) {
		rt_result_init(&res[i]);
		res[i].count = &done;
		if (rt_call(&e, RPC_METHOD_DELIVER, &i, sizeof(i), 20000,
		           &res[i], &err) != 0)
			bad++;
	}
	TEST_ASSERT_INTEQ(bad, 0);
	end = rs_mono_ms() + 20000;
	while (done < N && rs_mono_ms() < end) {
		event_base_loop(e.base, EVLOOP_ONCE);
		rt_reply_held(h);
	}
	TEST_ASSERT_INTEQ(done, N);
	TEST_ASSERT_INTEQ(h->seen, N);
	for (uint32_t i = 0; i < N; i++) {
		uint32_t v = 0;

		if (res[i].rc == 0 && res[i].resp.len == sizeof(v))
			memcpy(&v, res[i].resp.data, sizeof(v));
		if (res[i].rc != 0 || v != i * 3)
			bad++;
		rt_result_free(&res[i]);
	}
	TEST_ASSERT_INTEQ(bad, 0);
	free(res);
	free(h);
	rt_env_free(&e);
}

void
test_rpc_max_inflight(void)
{
	enum { N = 40 };
	struct rt_env e;
	struct rpc_opts so;
	struct rt_held *h = rs_xcalloc(1, sizeof(*h));
	struct rt_result res[N];
	unsigned done = 0;
	struct rs_err err;

	rt_opts(&so, NULL, "node-a", true);
	so.max_inflight = 4;
	rt_env_init(&e, &so, NULL);
	rpc_handle(e.srv, RPC_METHOD_DELIVER, h_hold, h);
	for (uint32_t i = 0; i < N; i++) {
		rt_result_init(&res[i]);
		res[i].count = &done;
		TEST_ASSERT(rt_call(&e, RPC_METHOD_DELIVER, &i, sizeof(i), 10000,
		                   &res[i], &err) == 0);
	}
	/* Never more than 4 in the handler's hands. */
	while (done < N) {
		rt_run(&e, 20);
		TEST_ASSERT(h->n <= 4);
		if (h->n == 0 && done < N && h->seen == N)
			break;
		rt_reply_held(h);
	}
	TEST_ASSERT_INTEQ(done, N);
	for (int i = 0; i < N; i++) {
		TEST_ASSERT_INTEQ(res[i].rc, 0);
		rt_result_free(&res[i]);
	}
	free(h);
	rt_env_free(&e);
}

void
test_rpc_handler_error(void)
{
	struct rt_env e;
	struct rt_result res;
	struct rs_err err;

	rt_env_init(&e, NULL, NULL);
	rpc_handle(e.srv, RPC_METHOD_DELIVER, h_fail, NULL);
	rt_result_init(&res);
	TEST_ASSERT_INTEQ(rt_call(&e, RPC_METHOD_DELIVER, "m", 1, 5000, &res,
	                         &err), 0);
	RT_RUN_UNTIL(&e, res.done, 5000);
	TEST_ASSERT_INTEQ(res.rc, RS_ENOTFOUND);
	TEST_ASSERT_STREQ(res.msg, "no such mailbox");
	rt_result_free(&res);
	rt_env_free(&e);
}

void
test_rpc_deadline(void)
{
	struct rt_env e;
	struct rt_result res, ping;
	struct rt_held *h = rs_xcalloc(1, sizeof(*h));
	uint32_t v = 5;
	uint64_t t0 = rs_mono_ms();

	rt_env_init(&e, NULL, NULL);
	rpc_handle(e.srv, RPC_METHOD_DELIVER, h_hold, h);
	rpc_handle(e.srv, RPC_METHOD_PING, h_echo, NULL);
	rt_result_init(&res);
	rt_result_init(&ping);
	TEST_ASSERT_INTEQ(rt_call_wait(&e, RPC_METHOD_DELIVER, &v, sizeof(v),
	                               300, &res), RS_ETIMEDOUT);
	TEST_ASSERT(rs_mono_ms() - t0 >= 290 && rs_mono_ms() - t0 < 2000);
	/* The server saw the deadline (its clock starts when the request
	 * arrives, a moment after the caller's). */
	TEST_ASSERT_INTEQ(h->n, 1);
	TEST_ASSERT(h->ms_left[0] > 100 && h->ms_left[0] <= 300);
	TEST_ASSERT(h->n == 1 && rpc_call_ms_left(h->calls[0]) < 50);
	TEST_ASSERT_STREQ(h->n == 1 ? rpc_call_peer(h->calls[0]) : NULL,
	                  "node-b");
	/* The reply that comes too late is dropped by the caller (t_done
	 * asserts one call only); the connection still serves. */
	rt_reply_held(h);
	TEST_ASSERT_INTEQ(rt_call_wait(&e, RPC_METHOD_PING, NULL, 0, 5000,
	                               &ping), 0);
	/* No time: refused. */
	TEST_ASSERT_INTEQ(rt_call_wait(&e, RPC_METHOD_PING, NULL, 0, 0, &ping),
	                  RS_EINVAL);
	rt_result_free(&res);
	rt_result_free(&ping);
	free(h);
	rt_env_free(&e);
}

void
test_rpc_large(void)
{
	const size_t n = (size_t)20 << 20;
	uint8_t *big = rt_pattern(n, 7);
	struct rt_env e;
	struct rt_result res;
	struct rs_err err;

	rt_env_init(&e, NULL, NULL);
	rpc_handle(e.srv, RPC_METHOD_DELIVER, h_echo, NULL);
	rt_result_init(&res);
	TEST_ASSERT_INTEQ(rt_call(&e, RPC_METHOD_DELIVER, big, n, 60000, &res,
	                         &err), 0);
	RT_RUN_UNTIL(&e, res.done, 60000);
	TEST_ASSERT_INTEQ(res.rc, 0);
	TEST_ASSERT(res.resp.len == n && memcmp(res.resp.data, big, n) == 0);
	rt_result_free(&res);
	free(big);
	rt_env_free(&e);
}

void
test_rpc_frame_limit(void)
{
	const size_t mib = (size_t)1 << 20;
	uint8_t *big = rt_pattern(2 * mib, 3);
	struct rpc_opts so, co;
	struct rt_env e;
	struct rt_result res;

	/* The server takes 1 MiB frames, the client 1.5 MiB. */
	rt_opts(&so, NULL, "node-a", true);
	so.max_frame = mib;
	rt_opts(&co, NULL, "node-b", false);
	co.max_frame = mib + mib / 2;
	rt_env_init(&e, &so, &co);
	rpc_handle(e.srv, RPC_METHOD_DELIVER, h_echo, NULL);
	rt_result_init(&res);
	/* Over our own limit: refused at once, never called back. */
	TEST_ASSERT_INTEQ(rt_call_wait(&e, RPC_METHOD_DELIVER, big, 2 * mib,
	                               5000, &res), RS_ETOOBIG);
	TEST_ASSERT(!res.done);
	/* Over the server's, before its hello is known: queued, then
	 * refused once it is. */
	TEST_ASSERT_INTEQ(rt_call_wait(&e, RPC_METHOD_DELIVER, big, mib + 100,
	                               5000, &res), RS_ETOOBIG);
	TEST_ASSERT(res.done);
	/* Known now: refused at once. */
	TEST_ASSERT_INTEQ(rt_call_wait(&e, RPC_METHOD_DELIVER, big, mib + 100,
	                               5000, &res), RS_ETOOBIG);
	TEST_ASSERT(!res.done);
	/* Just under: served. */
	TEST_ASSERT_INTEQ(rt_call_wait(&e, RPC_METHOD_DELIVER, big, mib - 100,
	                               5000, &res), 0);
	TEST_ASSERT(res.resp.len == mib - 100 &&
	            memcmp(res.resp.data, big, mib - 100) == 0);
	rt_result_free(&res);
	free(big);
	rt_env_free(&e);
}

static void
h_big(void *arg, struct rpc_call *call, const uint8_t *req, size_t len)
{
	static uint8_t big[200000];

	(void)arg;
	(void)req;
	rpc_reply(call, 0, NULL, big, len == 0 ? sizeof(big) : 1000);
}

void
test_rpc_reply_limit(void)
{
	struct rpc_opts co;
	struct rt_env e;
	struct rt_result res;
	struct rs_err err;

	/* The client takes 64 KiB frames: a 200 KB reply cannot go, and the
	 * caller learns why instead. */
	rt_opts(&co, NULL, "node-b", false);
	co.max_frame = 65536;
	rt_env_init(&e, NULL, &co);
	rpc_handle(e.srv, RPC_METHOD_DELIVER, h_big, NULL);
	rt_result_init(&res);
	TEST_ASSERT_INTEQ(rt_call(&e, RPC_METHOD_DELIVER, NULL, 0, 5000, &res,
	                         &err), 0);
	RT_RUN_UNTIL(&e, res.done, 5000);
	TEST_ASSERT_INTEQ(res.rc, RS_ETOOBIG);
	TEST_ASSERT(strstr(res.msg, "reply") != NULL);
	rt_result_free(&res);
	rt_result_init(&res);
	TEST_ASSERT_INTEQ(rt_call(&e, RPC_METHOD_DELIVER, "x", 1, 5000, &res,
	                         &err), 0);
	RT_RUN_UNTIL(&e, res.done, 5000);
	TEST_ASSERT(res.rc == 0 && res.resp.len == 1000);
	rt_result_free(&res);
	rt_env_free(&e);
}

void
test_rpc_peer_not_reading(void)
{
	const size_t chunk = (size_t)256 << 10;
	uint8_t *data = rt_pattern(chunk, 5);
	struct rpc_opts so, co;
	struct rt_env e;
	struct rt_held *h = rs_xcalloc(1, sizeof(*h));
	struct rt_result *res = rs_xcalloc(400, sizeof(*res));
	struct rpc_stats st;
	struct rs_err err;
	unsigned n = 0, done = 0, sync_fail = 0;

	/* The server serves one call at a time and never answers it, so it
	 * stops reading; the client may queue 2 MiB. */
	rt_opts(&so, NULL, "node-a", true);
	so.max_inflight = 1;
	rt_opts(&co, NULL, "node-b", false);
	co.max_queued = (size_t)2 << 20;
	rt_env_init(&e, &so, &co);
	rpc_handle(e.srv, RPC_METHOD_DELIVER, h_hold, h);
	while (n < 400 && sync_fail == 0) {
		rt_result_init(&res[n]);
		res[n].count = &done;
		if (rt_call(&e, RPC_METHOD_DELIVER, data, chunk, 1000, &res[n],
		            &err) != 0) {
			TEST_ASSERT_INTEQ(err.code, RS_EUNAVAIL);
			sync_fail++;
		}
		n++;
		rt_run(&e, 2);
	}
	/* Refused at once when too much waits: buffering is bounded. */
	TEST_ASSERT_INTEQ(sync_fail, 1);
	TEST_ASSERT(n < 400);
	/* Past the deadlines, requests still unsent: the connection goes
	 * and every call has its answer. */
	RT_RUN_UNTIL(&e, done == n - 1, 5000);
	TEST_ASSERT_INTEQ(done, n - 1);
	rpc_stats_get(e.cli, &st);
	TEST_ASSERT_INTEQ(st.conns_out, 0);
	TEST_ASSERT(res[0].rc == RS_ETIMEDOUT);
	TEST_ASSERT(res[n - 2].rc == RS_ETIMEDOUT ||
	            res[n - 2].rc == RS_EUNAVAIL);
	rt_reply_held(h);
	for (unsigned i = 0; i < n; i++)
		rt_result_free(&res[i]);
	free(res);
	free(h);
	free(data);
	rt_env_free(&e);
}

/* A port nothing listens on (a moment ago the kernel gave it to us). */
static unsigned
rt_free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* A call to port: what the caller saw, the sync failure or the answer. */
static int
rt_call_port(struct rt_env *e, unsigned port, struct rt_result *res)
{
	struct rs_err err;

	rt_result_free(res);
	rt_result_init(res);
	if (rpc_call(e->cli, "127.0.0.1", port, RPC_METHOD_PING, NULL, 0,
	             5000, rt_done, res, &err) != 0)
		return err.code;
	RT_RUN_UNTIL(e, res->done, 5000);
	return res->rc;
}

void
test_rpc_peer_down(void)
{
	struct rt_env e;
	struct rt_result res;
	struct rs_err err;
	struct rpc_opts so;
	struct rpc *late = NULL;
	unsigned port = rt_free_port();
	uint64_t t0 = rs_mono_ms();

	rt_env_init(&e, NULL, NULL);
	rt_result_init(&res);
	TEST_ASSERT_INTEQ(rt_call_port(&e, port, &res), RS_EUNAVAIL);
	TEST_ASSERT(rs_mono_ms() - t0 < 1000);
	/* At once again: fails fast, no connect. */
	TEST_ASSERT_INTEQ(rt_call_port(&e, port, &res), RS_EUNAVAIL);
	TEST_ASSERT(!res.done);
	/* The peer comes up; after the backoff the next call gets there. */
	rt_opts(&so, e.base, "node-c", true);
	so.port = port;
	TEST_ASSERT_INTEQ(rpc_new(&so, &late, &err), 0);
	rpc_handle(late, RPC_METHOD_PING, h_echo, NULL);
	rt_run(&e, 1100);
	TEST_ASSERT_INTEQ(rt_call_port(&e, port, &res), 0);
	/* Not an address: refused. */
	TEST_ASSERT_INTEQ(rpc_call(e.cli, "localhost", port, RPC_METHOD_PING,
	                           NULL, 0, 5000, rt_done, &res, &err), -1);
	TEST_ASSERT_INTEQ(err.code, RS_EINVAL);
	rpc_free(&late);
	rt_result_free(&res);
	rt_env_free(&e);
}

void
test_rpc_wrong_key(void)
{
	static const uint8_t other[RPC_PSK_LEN] = { 1, 2, 3 };
	struct rpc_opts co;
	struct rt_env e;
	struct rt_result res;
	struct rpc_stats st;
	struct rs_err err;

	rt_opts(&co, NULL, "node-b", false);
	co.psk = other;
	rt_env_init(&e, NULL, &co);
	rpc_handle(e.srv, RPC_METHOD_PING, h_echo, NULL);
	rt_result_init(&res);
	TEST_ASSERT_INTEQ(rt_call(&e, RPC_METHOD_PING, NULL, 0, 5000, &res,
	                         &err), 0);
	RT_RUN_UNTIL(&e, res.done, 5000);
	TEST_ASSERT_INTEQ(res.rc, RS_EUNAVAIL);
	rt_run(&e, 50);
	rpc_stats_get(e.cli, &st);
	TEST_ASSERT(st.refused == 1 && st.conns_out == 0);
	rpc_stats_get(e.srv, &st);
	TEST_ASSERT(st.refused == 1 && st.conns_in == 0 && st.calls_in == 0);
	rt_result_free(&res);
	rt_env_free(&e);

	/* Right key, another cluster's name: refused too. */
	rt_opts(&co, NULL, "node-b", false);
	co.identity = "other-cluster";
	rt_env_init(&e, NULL, &co);
	rt_result_init(&res);
	TEST_ASSERT_INTEQ(rt_call(&e, RPC_METHOD_PING, NULL, 0, 5000, &res,
	                         &err), 0);
	RT_RUN_UNTIL(&e, res.done, 5000);
	TEST_ASSERT_INTEQ(res.rc, RS_EUNAVAIL);
	rt_run(&e, 50);
	rpc_stats_get(e.srv, &st);
	TEST_ASSERT(st.refused == 1 && st.calls_in == 0);
	rt_result_free(&res);
	rt_env_free(&e);
}

/* A plain TCP client: connects, sends, and reports how the server ends
 * the connection within ms (1: closed, 0: still open). */
static int
rt_raw_client(struct rt_env *e, const char *send_text, unsigned ms,
             size_t *got_r)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	uint64_t end = rs_mono_ms() + ms;
	int closed = 0;
	char buf[4096];

	*got_r = 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)e->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	rt_run(e, 20);
	if (send_text != NULL &&
	    send(fd, send_text, strlen(send_text), MSG_NOSIGNAL) < 0)
		TEST_ASSERT(0);
	while (!closed && rs_mono_ms() < end) {
		ssize_t n;

		event_base_loop(e->base, EVLOOP_ONCE);
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0)
			*got_r += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			closed = 1;
	}
	close(fd);
	return closed;
}

void
test_rpc_not_tls(void)
{
	struct rt_env e;
	struct rt_result res;
	struct rpc_stats st;
	struct rs_err err;
	size_t got;

	rt_env_init(&e, NULL, NULL);
	rpc_handle(e.srv, RPC_METHOD_PING, h_echo, NULL);
	/* Garbage: closed, and what came back is no frame of ours (at most
	 * a TLS alert, never the hello). */
	TEST_ASSERT_INTEQ(rt_raw_client(&e, "GET / HTTP/1.0\r\n\r\n", 3000,
	                               &got), 1);
	TEST_ASSERT(got < 16);
	rpc_stats_get(e.srv, &st);
	TEST_ASSERT(st.refused == 1 && st.conns_in == 0);
	/* And the node still serves. */
	rt_result_init(&res);
	TEST_ASSERT_INTEQ(rt_call(&e, RPC_METHOD_PING, NULL, 0, 5000, &res,
	                         &err), 0);
	RT_RUN_UNTIL(&e, res.done, 5000);
	TEST_ASSERT_INTEQ(res.rc, 0);
	rt_result_free(&res);
	rt_env_free(&e);
}

void
test_rpc_silent_client(void)
{
	struct rpc_opts so;
	struct rt_env e;
	struct rpc_stats st;
	uint64_t t0;
	size_t got;

	rt_opts(&so, NULL, "node-a", true);
	so.handshake_ms = 200;
	rt_env_init(&e, &so, NULL);
	t0 = rs_mono_ms();
	TEST_ASSERT_INTEQ(rt_raw_client(&e, NULL, 3000, &got), 1);
	TEST_ASSERT(rs_mono_ms() - t0 >= 190 && rs_mono_ms() - t0 < 1500);
	TEST_ASSERT_INTEQ(got, 0);
	rpc_stats_get(e.srv, &st);
	TEST_ASSERT_INTEQ(st.refused, 1);
	rt_env_free(&e);
}

/* A connect and close with nothing sent (the controller's liveness
 * probe): no refusal counted; garbage after it still is. */
void
test_rpc_probe(void)
{
	struct sockaddr_in sin;
	struct rt_env e;
	struct rpc_stats st;
	size_t got;
	int fd;

	rt_env_init(&e, NULL, NULL);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)e.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 3; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		TEST_ASSERT(fd >= 0 && connect(fd, (struct sockaddr *)&sin,
		                               sizeof(sin)) == 0);
		close(fd);
		rt_run(&e, 50);
	}
	rpc_stats_get(e.srv, &st);
	TEST_ASSERT_INTEQ(st.refused, 0);
	TEST_ASSERT_INTEQ(rt_raw_client(&e, "garbage\r\n", 3000, &got), 1);
	rpc_stats_get(e.srv, &st);
	TEST_ASSERT(st.refused == 1 && st.conns_in == 0);
	rt_env_free(&e);
}

void
test_rpc_free_with_calls(void)
{
	enum { N = 50 };
	struct rt_env e;
	struct rt_held *h = rs_xcalloc(1, sizeof(*h));
	struct rt_result res[N], q;
	unsigned done = 0;
	int fds = rt_open_fds();
	struct rs_err err;

	rt_env_init(&e, NULL, NULL);
	rpc_handle(e.srv, RPC_METHOD_DELIVER, h_hold, h);
	for (uint32_t i = 0; i < N; i++) {
		rt_result_init(&res[i]);
		res[i].count = &done;
		TEST_ASSERT(rt_call(&e, RPC_METHOD_DELIVER, &i, sizeof(i), 10000,
		                   &res[i], &err) == 0);
	}
	RT_RUN_UNTIL(&e, h->n == N, 5000);
	TEST_ASSERT_INTEQ(h->n, N);
	/* One more, queued behind a connection still being made. */
	rt_result_init(&q);
	TEST_ASSERT_INTEQ(rpc_call(e.cli, "127.0.0.1", rt_free_port(),
	                           RPC_METHOD_PING, (const uint8_t *)"q", 1, 10000, rt_done, &q,
	                           &err), 0);
	rpc_free(&e.cli);
	TEST_ASSERT(e.cli == NULL);
	rpc_free(&e.srv);
	/* The server's calls outlive it; answering them sends nothing. */
	rt_reply_held(h);
	rt_run(&e, 50);
	TEST_ASSERT_INTEQ(done, 0);
	TEST_ASSERT(!q.done);
	for (int i = 0; i < N; i++)
		rt_result_free(&res[i]);
	rt_result_free(&q);
	free(h);
	rt_env_free(&e);
	TEST_ASSERT_INTEQ(rt_open_fds(), fds);
}
