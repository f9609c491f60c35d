/* rpc_int.h: what the files of peer RPC share, and nothing outside
 * cluster/rpc*.c includes. rpc.c: the object, listener and calling API;
 * rpc_tls.c: TLS 1.3 with the cluster key; rpc_conn.c: one connection
 * (connect, handshake, hellos, frames in and out, teardown);
 * rpc_call.c: calls both ways; rpc_stream.c: streams. */
#ifndef ROOST_CLUSTER_RPC_INT_H
#define ROOST_CLUSTER_RPC_INT_H

#include <event2/buffer.h>
#include <event2/listener.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <sys/queue.h>

#include "cluster/rpc.h"
#include "cluster/rpc_frame.h"
#include "lib/rs_map.h"

#define RPC_VERSION        1
#define RPC_HELLO_FRAME    4096u      /* frame limit before the hello */
#define RPC_FRAME_MIN      65536u     /* max_frame below: refused */
#define RPC_NODE_ID_MAX    255u
#define RPC_ADDR_MAX       64u        /* "[v6]:port" for logs */
#define RPC_STREAM_CHUNK   RPC_FRAME_DATA_FIT /* per STREAM_DATA */
#define RPC_STREAM_STEP    (4 * RPC_STREAM_CHUNK) /* pair <-> frames */
#define RPC_TLS_READ_BUF   (80u << 10) /* read-ahead: records per read() */
#define RPC_WINDOW_MAX     (1u << 30) /* credit a peer may grant */
#define RPC_BACKOFF_MIN_MS 200u       /* fail fast after a failed */
#define RPC_BACKOFF_MAX_MS 1000u      /* connect, doubling up to this */

typedef Roost__RpcFrame rpc_frame;

struct rpc_conn;
struct rpc_stream;

struct rpc_handler {
	rpc_handler_fn *fn;           /* NULL: no such method */
	void           *arg;
};

/* One host:port this node calls; lives as long as the rpc. */
struct rpc_peer {
	struct rpc_conn *conn;         /* borrowed; NULL: none now */
	uint64_t         down_until;   /* mono ms: calls fail fast before */
	unsigned         fails;        /* failed connects in a row */
};

struct rpc {
	struct event_base     *base;   /* borrowed */
	size_t                 max_frame, max_queued, stream_window;
	unsigned               max_inflight, handshake_ms;
	char                  *identity;  /* owns */
	char                  *node_id;   /* owns */
	SSL_CTX               *ssl_server; /* owns */
	SSL_CTX               *ssl_client; /* owns */
	SSL_SESSION           *psk;        /* owns: the key as a session */
	struct evconnlistener *listener;   /* owns; NULL: no bind */
	struct event          *accept_backoff; /* owns */
	unsigned               port;       /* bound */
	struct rpc_handler     handlers[RPC_METHOD_MAX];
	struct rs_map         *peers;  /* "host:port" -> owns rpc_peer */
	LIST_HEAD(rpc_conn_list, rpc_conn) conns; /* owns: all of them */
	struct rpc_stats       stats;
};

enum rpc_conn_state {
	RPC_CONN_CONNECTING,    /* TCP connect under way (outgoing) */
	RPC_CONN_HANDSHAKE,     /* TLS, then the hellos */
	RPC_CONN_READY,
	RPC_CONN_CLOSED,        /* torn down; freed from free_ev */
};

/* An outgoing call (or stream open) waiting for its reply. */
struct rpc_pending {
	struct rpc_conn *conn;         /* borrowed */
	uint64_t         id;
	uint32_t         method;
	bool             stream;       /* sdone, else done */
	rpc_done_fn     *done;
	rpc_stream_fn   *sdone;
	void            *arg;
	struct event    *timer;        /* owns */
	uint64_t         deadline;     /* mono ms */
	uint64_t         tx_end;       /* conn tx_total once sent */
	uint8_t         *req;          /* owns while queued: a copy */
	size_t           len;
	size_t           size;         /* its frame's octets (queued) */
	TAILQ_ENTRY(rpc_pending) qlink; /* in conn->queue while queued */
	bool             queued;
};
TAILQ_HEAD(rpc_pending_q, rpc_pending);

/* A request being served (rpc.h's struct rpc_call). */
struct rpc_call {
	struct rpc_conn *conn;         /* borrowed; NULL: connection gone */
	LIST_ENTRY(rpc_call) link;     /* in conn->calls */
	uint64_t         id;
	uint32_t         method;
	bool             stream;       /* the request opens a stream */
	uint32_t         window;       /* the opener's (stream) */
	uint64_t         deadline;     /* mono ms */
	char            *peer;         /* owns: the caller's node id */
};

struct rpc_conn {
	struct rpc         *rpc;       /* borrowed */
	LIST_ENTRY(rpc_conn) link;     /* in rpc->conns */
	enum rpc_conn_state state;
	bool                outgoing;
	bool                sent_hello, got_hello;
	bool                counted;   /* in stats conns_in/out */
	bool                in_read;   /* conn_on_read is on the stack */
	bool                paused;    /* reading stopped (backpressure) */
	struct rpc_peer    *peer;      /* borrowed (outgoing) */
	char                addr[RPC_ADDR_MAX];
	char               *peer_id;   /* owns: from the hello */
	size_t              peer_max;  /* the peer's frame limit */
	const char         *why;       /* static: why TLS refused us */
	evutil_socket_t     fd;        /* while CONNECTING, else -1 */
	struct event       *connect_ev; /* owns */
	struct bufferevent *bev;       /* owns: TLS over the socket */
	struct event       *hs_timer;  /* owns: handshake deadline */
	struct event       *resume_ev; /* owns: re-reads buffered input */
	struct event       *free_ev;   /* owns: frees after a close */
	struct rpc_frame_dec *dec;     /* owns */
	uint64_t            tx_total;  /* octets ever queued to bev */
	/* outgoing: calls */
	uint64_t            next_id;
	struct rs_map      *pending;   /* id -> owns rpc_pending (sent) */
	struct rpc_pending_q queue;    /* owns: until the hellos */
	size_t              queued;    /* octets of their frames */
	/* incoming: requests being served */
	unsigned            inflight;
	LIST_HEAD(rpc_call_list, rpc_call) calls; /* borrowed */
	/* both: streams by the id of the request that opened them */
	struct rs_map      *streams;   /* id -> rpc_stream (conn's ref) */
};

uint64_t rpc__now(void);

/* rpc_tls.c */
int rpc_tls__init(struct rpc *r, const uint8_t *psk, struct rs_err *err)
	RS_MUST_CHECK;
void rpc_tls__free(struct rpc *r);
/* Returns owned SSL for one connection, NULL on failure. */
SSL *rpc_tls__ssl(struct rpc *r, struct rpc_conn *c, bool server);
/* The first queued OpenSSL error as text (empties the queue). */
const char *rpc_tls__error(char *buf, size_t size);

/* rpc_conn.c */
/* Starts a connection to host:port for peer. 0, or -1 with err
 * (RS_EINVAL: not a numeric address; RS_EUNAVAIL: refused at once). */
int rpc_conn__connect(struct rpc *r, struct rpc_peer *peer,
                      const char *host, unsigned port, struct rs_err *err)
	RS_MUST_CHECK;
void rpc_conn__accept(struct rpc *r, evutil_socket_t fd,
                      const struct sockaddr *sa, int salen);
/* Queues f to the peer. 0, or RS_ETOOBIG (over the peer's limit, or
 * ours). */
int rpc_conn__send(struct rpc_conn *c, const rpc_frame *f,
                   struct rs_err *err) RS_MUST_CHECK;
/* Queues a STREAM_DATA frame of stream id carrying the first n octets
 * of src (n <= RPC_STREAM_CHUNK), moved from src into the frame with one
 * copy; nothing happens on a closed c (src keeps them). */
void rpc_conn__send_data(struct rpc_conn *c, uint64_t id,
                         struct evbuffer *src, size_t n);
/* Queues a frame without a large payload (hello, stream frames, errors):
 * it always fits (RPC_FRAME_MIN); nothing happens on a closed c. */
void rpc_conn__send_ctl(struct rpc_conn *c, const rpc_frame *f);
/* The largest frame both ends take. */
size_t rpc_conn__max_frame(const struct rpc_conn *c);
/* Octets waiting to go to the peer (queued calls included). */
size_t rpc_conn__backlog(const struct rpc_conn *c);
/* Octets handed to TLS so far. */
uint64_t rpc_conn__sent(const struct rpc_conn *c);
/* Closes after a failure: pending calls get code and why, streams an
 * error; the memory goes later. Idempotent. */
void rpc_conn__close(struct rpc_conn *c, int code, const char *why);
/* Frees now, calling nothing back (rpc_free). */
void rpc_conn__destroy(struct rpc_conn *c);
/* Reading may have been paused for backpressure: resume if it can. */
void rpc_conn__maybe_resume(struct rpc_conn *c);

/* rpc_call.c */
/* Sends (READY) or queues one call; see rpc_call. */
int rpc_call__start(struct rpc *r, const char *host, unsigned port,
                    struct rpc_pending *tmpl, const uint8_t *req,
                    size_t len, unsigned timeout_ms, struct rs_err *err)
	RS_MUST_CHECK;
/* The hellos are done: sends the queued calls. */
void rpc_call__flush_queue(struct rpc_conn *c);
/* Fails every pending and queued call of c (code, why). */
void rpc_call__fail_all(struct rpc_conn *c, int code, const char *why);
/* Frees every pending and queued call of c, calling nothing. */
void rpc_call__drop_all(struct rpc_conn *c);
/* Frame handlers; -1: protocol error (the caller closes). */
int rpc_call__on_request(struct rpc_conn *c, const rpc_frame *f);
int rpc_call__on_reply(struct rpc_conn *c, const rpc_frame *f);

/* rpc_stream.c */
/* A new stream on c (the conn's reference); its user end in *user_r. */
struct rpc_stream *rpc_stream__new(struct rpc_conn *c, uint64_t id,
                                   uint32_t peer_window,
                                   struct bufferevent **user_r);
/* May take f's payload (a STREAM_DATA's, then NULL in f). */
int rpc_stream__on_frame(struct rpc_conn *c, rpc_frame *f);
/* The connection is going: the user end gets an error event. */
void rpc_stream__detach_all(struct rpc_conn *c);

#endif
