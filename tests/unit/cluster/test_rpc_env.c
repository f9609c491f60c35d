/* test_rpc_env.c: the helpers of rpc_test_env.h. No tests here. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "tests/unit/cluster/rpc_test_env.h"
#include "tests/unit/test.h"

const uint8_t rt_psk[RPC_PSK_LEN] = {
	0x52, 0x6f, 0x6f, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x75, 0x73, 0x74,
	0x65, 0x72, 0x20, 0x6b, 0x65, 0x79, 0x20, 0x66, 0x6f, 0x72, 0x20,
	0x74, 0x65, 0x73, 0x74, 0x73, 0x20, 0x6f, 0x6e, 0x6c, 0x79,
};

static void
rt_on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

void
rt_opts(struct rpc_opts *o, struct event_base *base, const char *node,
       bool listen)
{
	memset(o, 0, sizeof(*o));
	o->base = base;
	o->bind = listen ? "127.0.0.1" : NULL;
	o->port = 0;
	o->psk = rt_psk;
	o->identity = "test-cluster";
	o->node_id = node;
}

void
rt_env_init(struct rt_env *e, struct rpc_opts *srv_o, struct rpc_opts *cli_o)
{
	struct rpc_opts so, co;
	struct timeval tv = { 0, 5000 };
	struct rs_err err;

	memset(e, 0, sizeof(*e));
	signal(SIGPIPE, SIG_IGN);        /* as roostd: see rpc.h */
	e->base = event_base_new();
	TEST_ASSERT(e->base != NULL);
	e->tick = event_new(e->base, -1, EV_PERSIST, rt_on_tick, NULL);
	event_add(e->tick, &tv);
	if (srv_o == NULL) {
		rt_opts(&so, e->base, "node-a", true);
		srv_o = &so;
	}
	if (cli_o == NULL) {
		rt_opts(&co, e->base, "node-b", false);
		cli_o = &co;
	}
	srv_o->base = cli_o->base = e->base;
	if (rpc_new(srv_o, &e->srv, &err) != 0 ||
	    rpc_new(cli_o, &e->cli, &err) != 0) {
		test_fail(__FILE__, __LINE__, "rpc_new: %s", err.msg);
		exit(1);
	}
	e->port = rpc_port(e->srv);
	TEST_ASSERT(e->port != 0);
}

void
rt_run(struct rt_env *e, unsigned ms)
{
	uint64_t end = rs_mono_ms() + ms;

	while (rs_mono_ms() < end)
		event_base_loop(e->base, EVLOOP_ONCE);
}

void
rt_env_free(struct rt_env *e)
{
	rpc_free(&e->cli);
	rpc_free(&e->srv);
	rt_run(e, 20);
	event_free(e->tick);
	event_base_free(e->base);
}

void
rt_result_init(struct rt_result *res)
{
	memset(res, 0, sizeof(*res));
	rs_buf_init(&res->resp, RS_BUF_UNLIMITED);
	res->rc = 1;
}

void
rt_result_free(struct rt_result *res)
{
	rs_buf_free(&res->resp);
}

void
rt_done(void *arg, int rc, const struct rs_err *err, const uint8_t *resp,
       size_t len)
{
	struct rt_result *res = arg;

	TEST_ASSERT(!res->done);
	res->done = true;
	res->rc = rc;
	if (rc != 0 && err != NULL)
		snprintf(res->msg, sizeof(res->msg), "%s", err->msg);
	TEST_ASSERT(rc != 0 || (len == 0 || resp != NULL));
	if (rc == 0 && rs_buf_append(&res->resp, resp, len) != 0)
		TEST_ASSERT(0);
	if (res->count != NULL)
		(*res->count)++;
}

int
rt_call(struct rt_env *e, uint32_t method, const void *req, size_t len,
       unsigned timeout_ms, struct rt_result *res, struct rs_err *err)
{
	return rpc_call(e->cli, "127.0.0.1", e->port, method, req, len,
	                timeout_ms, rt_done, res, err);
}

int
rt_call_wait(struct rt_env *e, uint32_t method, const void *req, size_t len,
             unsigned timeout_ms, struct rt_result *res)
{
	struct rs_err err;

	rt_result_free(res);
	rt_result_init(res);
	if (rt_call(e, method, req, len, timeout_ms, res, &err) != 0)
		return err.code;
	RT_RUN_UNTIL(e, res->done, timeout_ms + 1000);
	TEST_ASSERT(res->done);
	return res->rc;
}

void
rt_end_init(struct rt_end *t)
{
	memset(t, 0, sizeof(*t));
	t->got = evbuffer_new();
	t->rc = 1;
	rs_buf_init(&t->resp, RS_BUF_UNLIMITED);
}

void
rt_end_free(struct rt_end *t)
{
	if (t->bev != NULL)
		bufferevent_free(t->bev);
	t->bev = NULL;
	evbuffer_free(t->got);
	rs_buf_free(&t->resp);
}

static void
rt_end_on_read(struct bufferevent *bev, void *arg)
{
	struct rt_end *t = arg;

	if (t->echo)
		bufferevent_write_buffer(bev, bufferevent_get_input(bev));
	else
		evbuffer_add_buffer(t->got, bufferevent_get_input(bev));
}

static void
rt_end_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct rt_end *t = arg;

	if (what & BEV_EVENT_EOF) {
		TEST_ASSERT(!t->eof);
		t->eof = true;
		/* What was read with the EOF still counts. */
		rt_end_on_read(bev, t);
		if (t->echo_fin)
			bufferevent_flush(bev, EV_WRITE, BEV_FINISHED);
	}
	if (what & BEV_EVENT_ERROR)
		t->error = true;
}

void
rt_end_attach(struct rt_end *t, struct bufferevent *bev, bool read)
{
	t->bev = bev;
	bufferevent_setcb(bev, rt_end_on_read, NULL, rt_end_on_event, t);
	if (read)
		bufferevent_enable(bev, EV_READ | EV_WRITE);
}

void
rt_opened(void *arg, int rc, const struct rs_err *err,
         struct bufferevent *bev, const uint8_t *resp, size_t len)
{
	struct rt_end *t = arg;

	(void)err;
	TEST_ASSERT(!t->opened);
	t->opened = true;
	t->rc = rc;
	if (rc != 0) {
		TEST_ASSERT(bev == NULL);
		return;
	}
	if (rs_buf_append(&t->resp, resp, len) != 0)
		TEST_ASSERT(0);
	rt_end_attach(t, bev, true);
}

uint8_t *
rt_pattern(size_t n, unsigned seed)
{
	uint8_t *p = rs_xmalloc(n + 1);
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
	return p;
}

int
rt_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}
