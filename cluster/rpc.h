/* rpc.h: peer RPC between the nodes of a cluster. Length-prefixed
 * protobuf frames (proto/rpc.proto) over TCP on port B+99, inside TLS 1.3
 * keyed by the cluster's pre-shared key, so that both ends prove they hold
 * it and the link is encrypted. Many calls are in flight on one
 * connection, each with a deadline; byte streams (IMAP and POP3 sessions
 * served on another node) share the same connections, each with its own
 * flow control. Bounded everywhere: frame size, calls served at once per
 * connection, octets queued to a peer.
 *
 * Loop thread only; the process ignores SIGPIPE (roostd does: OpenSSL
 * writes to the socket without MSG_NOSIGNAL). A call that fails
 * synchronously returns -1 and never calls its callback. Callback errors:
 * RS_EUNAVAIL (cannot connect, the handshake failed, the connection
 * broke or was dropped because the peer stopped reading), RS_ETIMEDOUT
 * (deadline passed), RS_ETOOBIG (frame over the limit), or whatever code
 * the remote handler replied with (the RS_E* codes travel as they are). */
#ifndef ROOST_CLUSTER_RPC_H
#define ROOST_CLUSTER_RPC_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_err.h"

struct rpc;
struct rpc_call;

#define RPC_PSK_LEN        32                 /* the cluster key */
#define RPC_FRAME_MAX_DEF  ((size_t)72 << 20) /* a 64 MiB message + room */

/* Method numbers: one per request type (proto/ names the messages). */
enum rpc_method {
	RPC_METHOD_PING = 1,          /* empty request, empty reply */
	RPC_METHOD_DELIVER = 2,       /* proto/deliver.proto */
	RPC_METHOD_IMAP_SESSION = 3,  /* stream: proto/session.proto */
	RPC_METHOD_POP3_SESSION = 4,  /* stream: proto/session.proto */
	RPC_METHOD_ACCOUNT_INFO = 5,  /* proto/deliver.proto */
	RPC_METHOD_ACCOUNT_DELETE = 6, /* proto/deliver.proto (AccountInfo-
	                                * Request; empty reply) */
	/* 7: a single ReplAppend, before ReplAppendMulti; not to be reused */
	RPC_METHOD_REPL_POSITION = 8, /* ReplPositionRequest -> ReplPos */
	RPC_METHOD_REPL_COPY = 9,     /* ReplCopy -> ReplPos */
	RPC_METHOD_REPL_APPEND_MULTI = 10, /* proto/repl.proto: ReplAppendMulti
	                                    * -> ReplAppendMultiReply */
	RPC_METHOD_MAX = 64,
};

struct rpc_opts {
	struct event_base *base;
	const char    *bind;          /* numeric; NULL: no listener */
	unsigned       port;          /* 0: any free one (rpc_port) */
	const uint8_t *psk;           /* RPC_PSK_LEN octets (copied) */
	const char    *identity;      /* PSK identity (the cluster name) */
	const char    *node_id;       /* this node, told to peers */
	size_t         max_frame;     /* 0: RPC_FRAME_MAX_DEF */
	unsigned       max_inflight;  /* calls served at once per
	                               * connection; 0: 256. Past it the
	                               * connection is not read. */
	size_t         max_queued;    /* octets queued to one peer before
	                               * new calls fail RS_EUNAVAIL;
	                               * 0: 2 x max_frame */
	unsigned       handshake_ms;  /* TLS + hello; 0: 10000 */
	size_t         stream_window; /* octets in flight per stream
	                               * direction; 0: 256 KiB */
};

/* Binds the listener (if any). 0, or -1 with err. */
int rpc_new(const struct rpc_opts *o, struct rpc **r_r, struct rs_err *err)
	RS_MUST_CHECK;
/* Closes every connection; callbacks of pending calls are not called,
 * open streams' bufferevents get an error event (from the loop: run it
 * once more before freeing the base, so their owners can free them).
 * Calls being served stay valid until their rpc_reply, which then sends
 * nothing. Not from inside one of r's callbacks. NULL-safe. */
void rpc_free(struct rpc **pp);
/* The port the listener is bound to (the kernel's choice when opts->port
 * is 0), or 0 without a listener. */
unsigned rpc_port(const struct rpc *r);

/* ---- serving ---- */

/* A request: handle it now or later, then rpc_reply (exactly once).
 * req is borrowed during the handler only. */
typedef void rpc_handler_fn(void *arg, struct rpc_call *call,
                            const uint8_t *req, size_t len);
/* Registers the handler of method (one per method). A request for a
 * method with no handler is answered RS_EINVAL. */
void rpc_handle(struct rpc *r, uint32_t method, rpc_handler_fn *fn,
                void *arg);
/* Answers and frees call. rc 0: resp[0..len) is the reply; else the
 * caller sees rc and msg (may be NULL). A call whose connection is gone
 * or whose deadline passed is freed without sending. */
void rpc_reply(struct rpc_call *call, int rc, const char *msg,
               const uint8_t *resp, size_t len);
/* The node id the calling peer gave in its hello (borrowed). */
const char *rpc_call_peer(const struct rpc_call *call);
/* Milliseconds left before the caller gives up (0: already late). */
unsigned rpc_call_ms_left(const struct rpc_call *call);

/* ---- calling ---- */

/* rc 0: resp[0..len) is the reply, borrowed during the callback. */
typedef void rpc_done_fn(void *arg, int rc, const struct rs_err *err,
                         const uint8_t *resp, size_t len);
/* Sends req to the node listening at host:port (a numeric address; a
 * connection is made or reused), waits at most timeout_ms (> 0) for the
 * reply. Fails synchronously with RS_ETOOBIG (over our frame limit or the
 * peer's), RS_EUNAVAIL (max_queued octets wait for the peer already, or
 * it could not be reached moments ago: after a failed connect, calls fail
 * at once for 200 ms to 1 s), RS_EINVAL (bad address, timeout 0). */
int rpc_call(struct rpc *r, const char *host, unsigned port,
             uint32_t method, const uint8_t *req, size_t len,
             unsigned timeout_ms, rpc_done_fn *cb, void *arg,
             struct rs_err *err) RS_MUST_CHECK;

/* ---- streams ----
 * A stream is opened like a call (a request, and a reply from the peer's
 * handler), then carries bytes both ways. Each end gets a bufferevent
 * that it owns and uses as if it were a socket: what one end writes, the
 * other reads. Freeing it (or bufferevent_flush(bev, EV_WRITE,
 * BEV_FINISHED) after the last write) ends the stream: the other end
 * reads what was sent, then gets BEV_EVENT_EOF. A broken connection gives
 * both ends BEV_EVENT_ERROR. The writer side is paced by the reader: an
 * end that does not read stops the other end's output from draining
 * (watch the output buffer's length or set a write watermark). */

/* rc 0: bev is the opener's end (owned by the callee from here) and
 * resp the accepting handler's reply. */
typedef void rpc_stream_fn(void *arg, int rc, const struct rs_err *err,
                           struct bufferevent *bev, const uint8_t *resp,
                           size_t len);
int rpc_stream_open(struct rpc *r, const char *host, unsigned port,
                    uint32_t method, const uint8_t *req, size_t len,
                    unsigned timeout_ms, rpc_stream_fn *cb, void *arg,
                    struct rs_err *err) RS_MUST_CHECK;
/* A stream method's handler gets its request as an rpc_handler_fn and
 * either refuses it with rpc_reply (rc != 0) or accepts it: */
/* Accepts the stream, sends resp to the opener, frees call, and returns
 * the accepting end (owned by the caller), or NULL (call freed too) when
 * the connection went away or the opener's deadline passed meanwhile. */
struct bufferevent *rpc_stream_accept(struct rpc_call *call,
                                      const uint8_t *resp, size_t len);

/* ---- status ---- */
struct rpc_stats {
	uint64_t conns_in, conns_out;  /* open now (handshake done) */
	uint64_t calls_out, calls_in;  /* totals */
	uint64_t streams;              /* open now */
	uint64_t refused;              /* failed handshakes (wrong key,
	                                * not TLS, too slow), both sides */
};
void rpc_stats_get(const struct rpc *r, struct rpc_stats *out);

#endif
