/* test_rpc_stream.c: peer RPC streams end to end on loopback
 * (cluster/rpc_stream.c): echo of several MiB both ways, flow control
 * (an end that does not read stalls only its own writer), EOF by flush
 * and by free in both directions, refusals, a broken connection, and
 * rpc_free with streams open. */
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "tests/unit/cluster/rpc_test_env.h"
#include "tests/unit/test.h"

#define RT_ENDS 4

/* The accepting side: one end per accepted stream. The request says
 * what the end does: "echo", "quiet" (does not read), "send" (writes
 * send_len octets of send_data, then frees its end), "refuse", "plain"
 * (answers with rpc_reply 0, which is no accept), "hold"; anything
 * else: reads. */
struct rt_srv {
	struct rt_end    ends[RT_ENDS];
	unsigned         n;
	const uint8_t   *send_data;
	size_t           send_len;
	struct rpc_call *held;
};

static bool
rt_is(const uint8_t *req, size_t len, const char *what)
{
	return len == strlen(what) && memcmp(req, what, len) == 0;
}

static void
h_stream(void *arg, struct rpc_call *call, const uint8_t *req, size_t len)
{
	struct rt_srv *s = arg;
	struct rt_end *t = &s->ends[s->n];
	struct bufferevent *bev;

	if (rt_is(req, len, "refuse")) {
		rpc_reply(call, RS_EPERM, "not you", NULL, 0);
		return;
	}
	if (rt_is(req, len, "plain")) {
		rpc_reply(call, 0, NULL, NULL, 0);
		return;
	}
	if (rt_is(req, len, "hold")) {
		s->held = call;
		return;
	}
	TEST_ASSERT(s->n < RT_ENDS);
	bev = rpc_stream_accept(call, (const uint8_t *)"welcome", 7);
	TEST_ASSERT(bev != NULL);
	s->n++;
	if (rt_is(req, len, "send")) {
		/* Written and freed at once: all of it must still arrive. */
		bufferevent_write(bev, s->send_data, s->send_len);
		bufferevent_free(bev);
		return;
	}
	t->echo = t->echo_fin = rt_is(req, len, "echo");
	rt_end_attach(t, bev, !rt_is(req, len, "quiet"));
}

static void
h_hold_call(void *arg, struct rpc_call *call, const uint8_t *req, size_t len)
{
	struct rpc_call **held = arg;

	(void)req;
	(void)len;
	*held = call;
}

static void
rt_reply_if(struct rpc_call *call)
{
	if (call != NULL)
		rpc_reply(call, 0, NULL, NULL, 0);
}

static void
rt_srv_init(struct rt_srv *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < RT_ENDS; i++)
		rt_end_init(&s->ends[i]);
}

static void
rt_srv_free(struct rt_srv *s)
{
	for (int i = 0; i < RT_ENDS; i++)
		rt_end_free(&s->ends[i]);
}

static int
rt_open(struct rt_env *e, const char *what, struct rt_end *t,
        unsigned timeout_ms)
{
	struct rs_err err;

	return rpc_stream_open(e->cli, "127.0.0.1", e->port,
	                       RPC_METHOD_IMAP_SESSION, (const uint8_t *)what,
	                       strlen(what), timeout_ms, rt_opened, t, &err);
}

/* rt_open, then the loop until the opener hears: its rc, or the code
 * of a synchronous failure. */
static int
rt_open_wait(struct rt_env *e, const char *what, struct rt_end *t)
{
	struct rs_err err;

	if (rpc_stream_open(e->cli, "127.0.0.1", e->port,
	                    RPC_METHOD_IMAP_SESSION, (const uint8_t *)what,
	                    strlen(what), 5000, rt_opened, t, &err) != 0)
		return err.code;
	RT_RUN_UNTIL(e, t->opened, 5000);
	return t->opened ? t->rc : 1;
}

/* Streams open on both sides. */
static uint64_t
rt_streams(const struct rt_env *e)
{
	struct rpc_stats a = { 0 }, b = { 0 };

	if (e->cli != NULL)
		rpc_stats_get(e->cli, &a);
	if (e->srv != NULL)
		rpc_stats_get(e->srv, &b);
	return a.streams + b.streams;
}

static bool
rt_got_is(const struct rt_end *t, const uint8_t *want, size_t n)
{
	return evbuffer_get_length(t->got) == n &&
	       memcmp(evbuffer_pullup(t->got, (ev_ssize_t)n), want, n) == 0;
}

void
test_rpc_stream_echo(void)
{
	const size_t n = (size_t)6 << 20;
	uint8_t *data = rt_pattern(n, 11);
	struct rt_env e;
	struct rt_srv s;
	struct rt_end c;

	rt_env_init(&e, NULL, NULL);
	rt_srv_init(&s);
	rt_end_init(&c);
	rpc_handle(e.srv, RPC_METHOD_IMAP_SESSION, h_stream, &s);
	TEST_ASSERT_INTEQ(rt_open_wait(&e, "echo", &c), 0);
	TEST_ASSERT(c.resp.len == 7 && memcmp(c.resp.data, "welcome", 7) == 0);
	TEST_ASSERT_INTEQ(rt_streams(&e), 2);
	/* Several MiB out, the same back, then end: the echo ends too. */
	bufferevent_write(c.bev, data, n);
	bufferevent_flush(c.bev, EV_WRITE, BEV_FINISHED);
	RT_RUN_UNTIL(&e, c.eof, 60000);
	TEST_ASSERT(c.eof && s.ends[0].eof && !c.error && !s.ends[0].error);
	TEST_ASSERT(rt_got_is(&c, data, n));
	rt_end_free(&c);
	rt_srv_free(&s);
	rt_run(&e, 50);
	TEST_ASSERT_INTEQ(rt_streams(&e), 0);
	free(data);
	rt_env_free(&e);
}

static void
h_ping(void *arg, struct rpc_call *call, const uint8_t *req, size_t len)
{
	(void)arg;
	rpc_reply(call, 0, NULL, req, len);
}

void
test_rpc_stream_window(void)
{
	const size_t n = (size_t)4 << 20, win = (size_t)256 << 10;
	uint8_t *data = rt_pattern(n, 12), *small = rt_pattern(300000, 13);
	struct rt_env e;
	struct rt_srv s;
	struct rt_end quiet, echo;
	struct rt_result ping;
	size_t left;

	rt_env_init(&e, NULL, NULL);
	rt_srv_init(&s);
	rt_end_init(&quiet);
	rt_end_init(&echo);
	rt_result_init(&ping);
	rpc_handle(e.srv, RPC_METHOD_IMAP_SESSION, h_stream, &s);
	rpc_handle(e.srv, RPC_METHOD_PING, h_ping, NULL);
	TEST_ASSERT_INTEQ(rt_open_wait(&e, "quiet", &quiet), 0);
	bufferevent_write(quiet.bev, data, n);
	rt_run(&e, 300);
	/* The far end does not read: about a window left, no more (and
	 * the two steps of 64 KiB between the user's end and the frames,
	 * RPC_STREAM_STEP). */
	left = evbuffer_get_length(bufferevent_get_output(quiet.bev));
	TEST_ASSERT(left < n && left + win + 2 * 65536 >= n);
	/* The connection still carries calls and other streams. */
	TEST_ASSERT(rt_call_wait(&e, RPC_METHOD_PING, small, 300000, 5000,
	                         &ping) == 0 && ping.resp.len == 300000);
	TEST_ASSERT(rt_open_wait(&e, "echo", &echo) == 0);
	bufferevent_write(echo.bev, small, 300000);
	bufferevent_flush(echo.bev, EV_WRITE, BEV_FINISHED);
	RT_RUN_UNTIL(&e, echo.eof, 10000);
	TEST_ASSERT(rt_got_is(&echo, small, 300000));
	TEST_ASSERT(evbuffer_get_length(bufferevent_get_output(quiet.bev)) ==
	            left && evbuffer_get_length(s.ends[0].got) == 0);
	/* Reading resumes: everything arrives, in order, then the end. */
	bufferevent_enable(s.ends[0].bev, EV_READ);
	bufferevent_flush(quiet.bev, EV_WRITE, BEV_FINISHED);
	RT_RUN_UNTIL(&e, s.ends[0].eof, 30000);
	TEST_ASSERT(s.ends[0].eof && rt_got_is(&s.ends[0], data, n));
	rt_end_free(&quiet);
	rt_end_free(&echo);
	rt_srv_free(&s);
	rt_result_free(&ping);
	free(data);
	free(small);
	rt_env_free(&e);
}

void
test_rpc_stream_eof_by_free(void)
{
	const size_t n = (size_t)1 << 20;
	uint8_t *data = rt_pattern(n, 14);
	struct rt_env e;
	struct rt_srv s;
	struct rt_end c, r;

	rt_env_init(&e, NULL, NULL);
	rt_srv_init(&s);
	rt_end_init(&c);
	rt_end_init(&r);
	s.send_data = data;
	s.send_len = n;
	rpc_handle(e.srv, RPC_METHOD_IMAP_SESSION, h_stream, &s);
	/* Opener to acceptor: 1 MiB written, the end freed at once (most of
	 * it still held back by the window). */
	TEST_ASSERT_INTEQ(rt_open_wait(&e, "read", &c), 0);
	bufferevent_write(c.bev, data, n);
	bufferevent_free(c.bev);
	c.bev = NULL;
	RT_RUN_UNTIL(&e, s.ends[0].eof, 10000);
	TEST_ASSERT(s.ends[0].eof && !s.ends[0].error);
	TEST_ASSERT(rt_got_is(&s.ends[0], data, n));
	/* The other way: the acceptor writes and frees in its handler. */
	TEST_ASSERT_INTEQ(rt_open_wait(&e, "send", &r), 0);
	RT_RUN_UNTIL(&e, r.eof, 10000);
	TEST_ASSERT(r.eof && !r.error && rt_got_is(&r, data, n));
	/* The opener finishes too: nothing left open on either side. */
	bufferevent_flush(r.bev, EV_WRITE, BEV_FINISHED);
	rt_end_free(&s.ends[0]);
	rt_end_init(&s.ends[0]);
	rt_run(&e, 50);
	TEST_ASSERT_INTEQ(rt_streams(&e), 0);
	rt_end_free(&c);
	rt_end_free(&r);
	rt_srv_free(&s);
	free(data);
	rt_env_free(&e);
}

void
test_rpc_stream_refused(void)
{
	struct rt_env e;
	struct rt_srv s;
	struct rt_end a, b, t;

	rt_env_init(&e, NULL, NULL);
	rt_srv_init(&s);
	rt_end_init(&a);
	rt_end_init(&b);
	rt_end_init(&t);
	rpc_handle(e.srv, RPC_METHOD_IMAP_SESSION, h_stream, &s);
	TEST_ASSERT_INTEQ(rt_open_wait(&e, "refuse", &a), RS_EPERM);
	TEST_ASSERT_INTEQ(rt_open_wait(&e, "plain", &b), RS_EINVAL);
	TEST_ASSERT_INTEQ(rpc_stream_open(e.cli, "127.0.0.1", e.port,
	                                  RPC_METHOD_IMAP_SESSION,
	                                  (const uint8_t *)"hold", 4, 200,
	                                  rt_opened, &t, NULL), 0);
	RT_RUN_UNTIL(&e, t.opened, 5000);
	TEST_ASSERT_INTEQ(t.rc, RS_ETIMEDOUT);
	TEST_ASSERT(a.bev == NULL && b.bev == NULL && t.bev == NULL);
	/* Accepting after the deadline: no end. */
	rt_run(&e, 50);
	TEST_ASSERT(s.held != NULL &&
	            rpc_stream_accept(s.held, NULL, 0) == NULL);
	TEST_ASSERT_INTEQ(s.n, 0);
	TEST_ASSERT_INTEQ(rt_streams(&e), 0);
	rt_end_free(&a);
	rt_end_free(&b);
	rt_end_free(&t);
	rt_srv_free(&s);
	rt_env_free(&e);
}

void
test_rpc_stream_broken(void)
{
	struct rt_env e;
	struct rt_srv s;
	struct rt_end c;

	rt_env_init(&e, NULL, NULL);
	rt_srv_init(&s);
	rt_end_init(&c);
	rpc_handle(e.srv, RPC_METHOD_IMAP_SESSION, h_stream, &s);
	TEST_ASSERT_INTEQ(rt_open(&e, "echo", &c, 5000), 0);
	RT_RUN_UNTIL(&e, c.opened, 5000);
	bufferevent_write(c.bev, "abc", 3);
	RT_RUN_UNTIL(&e, evbuffer_get_length(c.got) == 3, 5000);
	TEST_ASSERT(rt_got_is(&c, (const uint8_t *)"abc", 3));
	/* The server goes away: both ends get an error, not an EOF. */
	rpc_free(&e.srv);
	RT_RUN_UNTIL(&e, c.error && s.ends[0].error, 5000);
	TEST_ASSERT(c.error && !c.eof);
	TEST_ASSERT(s.ends[0].error && !s.ends[0].eof);
	rt_end_free(&c);
	rt_srv_free(&s);
	rt_env_free(&e);
}

void
test_rpc_stream_free_inflight(void)
{
	const size_t n = (size_t)2 << 20;
	uint8_t *data = rt_pattern(n, 15);
	struct rt_env e;
	struct rt_srv s;
	struct rt_end c[3], pend;
	struct rt_result call;
	struct rpc_call *held = NULL;
	int fds = rt_open_fds();

	rt_env_init(&e, NULL, NULL);
	rt_srv_init(&s);
	rt_end_init(&pend);
	rt_result_init(&call);
	rpc_handle(e.srv, RPC_METHOD_IMAP_SESSION, h_stream, &s);
	rpc_handle(e.srv, RPC_METHOD_PING, h_hold_call, &held);
	for (int i = 0; i < 3; i++) {
		rt_end_init(&c[i]);
		TEST_ASSERT_INTEQ(rt_open_wait(&e, i == 0 ? "quiet" : "echo",
		                               &c[i]), 0);
		bufferevent_write(c[i].bev, data, n);
	}
	/* A stream being opened and a call being served, too. */
	TEST_ASSERT(rt_open(&e, "hold", &pend, 5000) == 0 &&
	            rt_call(&e, RPC_METHOD_PING, "hold", 4, 5000, &call,
	                    NULL) == 0);
	rt_run(&e, 100);
	rpc_free(&e.cli);
	rpc_free(&e.srv);
	rt_run(&e, 50);
	for (int i = 0; i < 3; i++) {
		TEST_ASSERT(c[i].error && !c[i].eof);
		TEST_ASSERT(s.ends[i].error);
		rt_end_free(&c[i]);
	}
	TEST_ASSERT(!pend.opened && !call.done);
	/* The held calls outlive the rpc; answering frees them. */
	TEST_ASSERT(s.held != NULL && held != NULL);
	rt_reply_if(s.held);
	rt_reply_if(held);
	rt_end_free(&pend);
	rt_result_free(&call);
	rt_srv_free(&s);
	free(data);
	rt_env_free(&e);
	TEST_ASSERT_INTEQ(rt_open_fds(), fds);
}
