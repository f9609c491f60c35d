/* rpc_test_env.h: two struct rpc on one event_base on loopback (a
 * server "node-a" on a port the kernel picks, a client "node-b"), the
 * loop driven until a condition or a deadline, and recorders for call
 * outcomes and stream ends. Used by test_rpc.c and test_rpc_stream.c. */
#ifndef ROOST_TESTS_UNIT_CLUSTER_RPC_TEST_ENV_H
#define ROOST_TESTS_UNIT_CLUSTER_RPC_TEST_ENV_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdbool.h>

#include "cluster/rpc.h"
#include "lib/rs_buf.h"
#include "lib/rs_time.h"

extern const uint8_t rt_psk[RPC_PSK_LEN];

struct rt_env {
	struct event_base *base;
	struct event      *tick;   /* wakes the loop every few ms */
	struct rpc        *srv;    /* "node-a", listening */
	struct rpc        *cli;    /* "node-b", calling only */
	unsigned           port;   /* srv's */
};

/* Default options for node (listening on 127.0.0.1:0 if listen). */
void rt_opts(struct rpc_opts *o, struct event_base *base, const char *node,
            bool listen);
/* srv_o/cli_o NULL: defaults; their base is set here. */
void rt_env_init(struct rt_env *e, struct rpc_opts *srv_o,
                struct rpc_opts *cli_o);
/* Frees both rpcs (if still there), runs the loop once more for the
 * deferred frees, then the base. */
void rt_env_free(struct rt_env *e);
/* Runs the loop for about ms. */
void rt_run(struct rt_env *e, unsigned ms);

#define RT_RUN_UNTIL(e, cond, ms) do { \
	uint64_t rt_end_ = rs_mono_ms() + (ms); \
	while (!(cond) && rs_mono_ms() < rt_end_) \
		event_base_loop((e)->base, EVLOOP_ONCE); \
} while (0)

/* One call's outcome (rpc_done_fn rt_done). */
struct rt_result {
	bool          done;
	int           rc;
	char          msg[256];
	struct rs_buf resp;
	unsigned     *count;        /* incremented when done, if set */
};
void rt_result_init(struct rt_result *res);
void rt_result_free(struct rt_result *res);
void rt_done(void *arg, int rc, const struct rs_err *err,
            const uint8_t *resp, size_t len);

/* Calls srv from cli (res reset first) and runs the loop until the
 * answer, at most timeout_ms and a second. Returns what the caller saw:
 * the code of a synchronous failure (res->done stays false), else the
 * callback's rc. */
int rt_call_wait(struct rt_env *e, uint32_t method, const void *req,
                 size_t len, unsigned timeout_ms, struct rt_result *res);
/* A call to srv from cli; the rc of rpc_call. */
int rt_call(struct rt_env *e, uint32_t method, const void *req, size_t len,
           unsigned timeout_ms, struct rt_result *res, struct rs_err *err);

/* One end of a stream as the tests use it: what it read, its events. */
struct rt_end {
	struct bufferevent *bev;    /* owned until freed by the test */
	struct evbuffer    *got;    /* what was read */
	bool                eof, error;
	bool                echo;   /* writes back what it reads */
	bool                echo_fin; /* and finishes after an EOF */
	bool                opened; /* rpc_stream_fn was called */
	int                 rc;     /* its rc */
	struct rs_buf       resp;   /* its reply */
};
void rt_end_init(struct rt_end *t);
/* Frees the end's bufferevent (if still owned) and its buffers. */
void rt_end_free(struct rt_end *t);
/* Takes bev: callbacks set, reading enabled if read. */
void rt_end_attach(struct rt_end *t, struct bufferevent *bev, bool read);
/* rpc_stream_fn recording into a struct rt_end. */
void rt_opened(void *arg, int rc, const struct rs_err *err,
              struct bufferevent *bev, const uint8_t *resp, size_t len);
/* A pattern of n octets, seeded. Returns owned. */
uint8_t *rt_pattern(size_t n, unsigned seed);
/* Number of open file descriptors of this process. */
int rt_open_fds(void);

#endif
