/* proto_server.h: what the SMTP, POP3 and IMAP servers share: the
 * listener, the PROXY protocol header of trusted proxies (proxy_wait.h),
 * admission control (max_connections, per address), the list of
 * open sessions, the graceful stop (stop accepting, let sessions finish,
 * then done), and the connection half of a session's setup and teardown
 * (the bufferevent, direct writes, the deferred release). The protocol
 * keeps everything it says on the wire: greetings, refusals, shutdown
 * replies and its session logic. Loop thread only. */
#ifndef ROOST_NODE_CORE_PROTO_SERVER_H
#define ROOST_NODE_CORE_PROTO_SERVER_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "lib/rs_err.h"
#include "lib/rs_log.h"
#include "node/core/bev_flush.h"

struct cidr_list;
struct proto_server;
struct rs_config;

/* The longest a trusted proxy may take to send its header; proxies send
 * it at once, so anything slower is a stuck or foreign connection. */
#define PROTO_PROXY_TIMEOUT_MS 5000u
/* Connections waiting for a header when max_total is 0 (no cap). */
#define PROTO_PROXY_WAIT_MAX 10000u

/* Starts a session on an admitted fd. srv is the protocol server given
 * to proto_server_new. 0: the session owns fd; -1: the caller still does. */
typedef int proto_accept_fn(void *srv, evutil_socket_t fd,
                            const struct sockaddr *sa, const char *ip);
/* One session (the sess given to proto_conn_open). */
typedef void proto_sess_fn(void *sess);
typedef void proto_close_fn(void *sess, const char *reason);

/* The protocol's side. One static table per protocol. */
struct proto_ops {
	const char       *name;       /* "smtp": prefixes the log events */
	proto_accept_fn  *accept;
	proto_sess_fn    *shutdown;   /* graceful stop of one session */
	proto_close_fn   *close;      /* the session's one close path */
	proto_sess_fn    *release;    /* frees a closed session's connection */
	/* Non-NULL: sessions still open when the grace period ends are
	 * closed with this reason (SMTP); NULL: they are left to the
	 * server's free (POP3, IMAP). */
	const char       *deadline_reason;
	/* The session's bufferevent, set up by proto_conn_start. */
	bufferevent_data_cb   on_read;
	bufferevent_data_cb   on_write;
	bufferevent_event_cb  on_event;
	bev_flush_drained_fn *on_drained;
	size_t            read_max;   /* bufferevent_set_max_single_read */
	size_t            out_low;    /* write low-water mark */
	size_t            in_high;    /* read high-water mark; 0: none */
};

/* Where a server listens and whom it admits: the protocol fills it from
 * its settings (see proto_server_cfg_conns). */
struct proto_listen {
	const char *host;             /* numeric; NULL: no listener (tests) */
	unsigned    port;
	unsigned    max_total;        /* sessions in all; 0: no cap */
	unsigned    max_ip;           /* sessions from one address; 0: no cap */
	const char *busy;             /* sent as is to a refused connection */
	/* Peers that must begin with a PROXY protocol header (v1 or v2),
	 * whose source address then stands for theirs in admission, logs
	 * and everything the protocol does with the client's address.
	 * Borrowed for the server's life; NULL or empty: nobody. */
	const struct cidr_list *proxy_from;
	/* The protocol's idle timeout: the header must come within it or
	 * PROTO_PROXY_TIMEOUT_MS, whichever is shorter. */
	uint64_t    timeout_ms;
};

/* What the base keeps of a session; the session struct embeds one. */
struct proto_conn {
	LIST_ENTRY(proto_conn) link;  /* in the server's list until released */
	struct proto_server *ps;      /* borrowed; NULL once released */
	void                *sess;    /* borrowed: the session embedding it */
	struct bev_flush    *flush;   /* owns: writes replies directly;
	                               * NULL: the bufferevent writes */
	struct event        *ev_free; /* owns: the deferred release */
	bool                 adopted; /* a peer stream, not admitted here */
};

/* ---- server ---- */

/* A server listening as pl says (pl is copied). ops is borrowed
 * (static); srv is what ops->accept gets. 0, or -1 with err
 * ("<name>: evtimer_new failed", or the listener's) and *r untouched. */
int proto_server_new(struct event_base *base, const struct proto_ops *ops,
                     void *srv, const struct proto_listen *pl,
                     struct proto_server **r,
                     struct rs_err *err) RS_MUST_CHECK;
/* Graceful stop: stops accepting, logs "<name>.stopping", runs
 * ops->shutdown on every session; done(arg) runs once, later (never from
 * inside this call), when the last session is released or grace_ms
 * passed, after "<name>.stopped". */
void proto_server_shutdown(struct proto_server *ps, unsigned grace_ms,
                           void (*done)(void *arg), void *arg);
/* Closes ("server-stopped") and releases every session, closes the
 * listener, frees; NULL-safe, sets *pp to NULL. done is not called. */
void proto_server_free(struct proto_server **pp);
/* Sessions open now (not yet released). */
unsigned proto_server_sessions(const struct proto_server *ps);
/* Calls fn on every open session; fn may close it (a close releases
 * later, from the loop). */
void proto_server_foreach(struct proto_server *ps, void (*fn)(void *sess,
                                                              void *arg),
                          void *arg);
/* The newest session, or NULL (unit tests). */
void *proto_server_newest(const struct proto_server *ps);

/* ---- configuration: helpers for the protocols' settings ---- */

/* An unsigned setting in [min, max]; the messages are rs_config's. */
int proto_server_cfg_u32(const struct rs_config *c, const char *key,
                         uint64_t def, uint64_t min, uint64_t max,
                         unsigned *v_r, struct rs_err *err) RS_MUST_CHECK;
/* "<name>.timeout" (a duration, at least 1s). */
int proto_server_cfg_timeout(const struct rs_config *c, const char *name,
                             uint64_t def_ms, uint64_t *ms_r,
                             struct rs_err *err) RS_MUST_CHECK;
/* "<name>.max_connections" and "<name>.max_connections_per_ip" (0 = no
 * cap) into pl->max_total and pl->max_ip. */
int proto_server_cfg_conns(const struct rs_config *c, const char *name,
                           unsigned def_total, unsigned def_ip,
                           struct proto_listen *pl,
                           struct rs_err *err) RS_MUST_CHECK;

/* ---- a session's connection ---- */

/* First step of a new session: the deferred-release event and the
 * bufferevent on fd (closes fd when freed), not yet reading. 0 with *bev_r
 * (owned by the session from here), or -1 (out of memory in libevent):
 * nothing kept and the caller still owns fd. */
int proto_conn_open(struct proto_conn *c, struct proto_server *ps,
                    void *sess, evutil_socket_t fd,
                    struct bufferevent **bev_r) RS_MUST_CHECK;
/* The same for a session that arrives on a bufferevent rather than a
 * socket: a peer stream (cluster/rpc.h) carrying a client that another
 * node admitted. Takes bev (freed with the session either way). */
int proto_conn_adopt(struct proto_conn *c, struct proto_server *ps,
                     void *sess, struct bufferevent *bev) RS_MUST_CHECK;
/* The session's direct writer (borrowed, until proto_conn_plain_writes
 * or the release), or NULL when the bufferevent writes by itself (a peer
 * stream). A relay (bev_pump) writes through it as replies are. */
struct bev_flush *proto_conn_flush(const struct proto_conn *c);
/* Stops direct writes: from now on the bufferevent writes its output
 * itself and calls the write callback as usual (a session whose relay
 * ended, which had taken over the direct writer's callback). */
void proto_conn_plain_writes(struct proto_conn *c, struct bufferevent *bev);
/* Copies the admission key ip into ip_r and starts the session's log
 * context with sa as the peer. */
void proto_conn_peer(char *ip_r, size_t ipsz, struct rs_log_ctx *log,
                     const struct sockaddr *sa, const char *ip);
/* Second step, once the session is ready for events: links it into the
 * server's list, installs ops' callbacks, timeout_ms for reads and writes,
 * the read size and watermarks, enables reading and direct writes. */
void proto_conn_start(struct proto_conn *c, struct bufferevent *bev,
                      uint64_t timeout_ms);
/* The close path's I/O part: stops reading and writing, and releases the
 * session from the loop (ops->release), never under a caller that still
 * holds it. */
void proto_conn_close(struct proto_conn *c, struct bufferevent *bev);
/* Releases the connection: leaves the server (the list, admission of ip;
 * the last one out completes a graceful stop), frees the direct writer,
 * *bevp (set to NULL, closing the socket) and the release event. */
void proto_conn_release(struct proto_conn *c, struct bufferevent **bevp,
                        const char *ip);
/* Call from the bufferevent's write callback (see bev_flush_on_write). */
void proto_conn_on_write(struct proto_conn *c);

#endif
