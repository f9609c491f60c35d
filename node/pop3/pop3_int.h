/* pop3_int.h: internals shared by the files of node/pop3: the server and
 * session structs, the session states, and the helpers the command files
 * call. Nothing outside node/pop3 includes it. Loop thread only. */
#ifndef ROOST_NODE_POP3_INT_H
#define ROOST_NODE_POP3_INT_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/rs_addr.h"
#include "lib/rs_log.h"
#include "node/core/netaddr.h"
#include "node/core/proto_server.h"
#include "node/pop3/pop3_parser.h"
#include "node/pop3/pop3_server.h"
#include "node/pop3/pop3_stuff.h"
#include "storage/store.h"

struct auth_result;
struct rs_map;
struct rpc_call;
struct bev_pump;

#define POP3_CHUNK       ((size_t)64 * 1024)  /* one store_blob_read */
#define POP3_OUT_LOW     ((size_t)64 * 1024)  /* refill, resume at/below */
#define POP3_OUT_HIGH    ((size_t)256 * 1024) /* stop reading above */
#define POP3_READ_MAX    ((size_t)16 * 1024)  /* max_single_read */
#define POP3_LIST_BATCH  ((size_t)512)        /* LIST/UIDL lines a refill */

struct pop3_limits {
	uint64_t timeout_ms;          /* pop3.timeout: idle autologout */
	unsigned max_errors;          /* pop3.max_errors: -ERR before close */
	unsigned max_auth_failures;   /* pop3.max_auth_failures */
};

struct pop3_server {
	struct node_ctx     *node;    /* borrowed */
	/* owns: listener, admission, the sessions, graceful stop */
	struct proto_server *ps;
	struct rs_map       *locks;   /* account id -> borrowed session */
	struct pop3_limits   limits;
};

/* RFC 1939 section 3: AUTHORIZATION -> TRANSACTION -> UPDATE, plus the
 * engine's own states. Commands are read only in AUTH, SASL and TRANS. */
enum pop3_state {
	POP3_STATE_AUTH,      /* AUTHORIZATION */
	POP3_STATE_SASL,      /* AUTH PLAIN sent "+ ": the next line answers */
	POP3_STATE_TRANS,     /* TRANSACTION */
	POP3_STATE_WAIT,      /* password check pending; reading disabled */
	POP3_STATE_STREAM,    /* a multi-line response is being produced */
	POP3_STATE_UPDATE,    /* QUIT's expunge in flight (RFC 1939 UPDATE) */
	POP3_STATE_FLUSH,     /* last reply queued; close once written */
	POP3_STATE_PROXY,     /* relayed to the account's primary
	                       * (pop3_proxy.c) */
	POP3_STATE_CLOSING,   /* torn down; freed when the last ref goes */
};

/* One message of the maildrop snapshot, numbered by index + 1. */
struct pop3_msg {
	uint64_t size;
	uint32_t uid;
	bool     deleted;             /* DELE in this session */
	uint8_t  blob[STORE_HASH_LEN];
};

struct pop3_session;

/* Adds more of a multi-line response to the output. 1: the response is
 * complete; 0: more to come once the client reads; -1: the session was
 * closed (touch nothing). */
typedef int pop3_fill_fn(struct pop3_session *s);

struct pop3_stream {
	pop3_fill_fn     *fill;
	size_t            msgno;      /* RETR/TOP: index; LIST/UIDL: next */
	bool              uidl;       /* LIST/UIDL: which listing */
	bool              top;        /* RETR/TOP: which command */
	bool              eof;        /* RETR/TOP: the last chunk was read */
	uint64_t          offset;     /* RETR/TOP: next octet to read */
	uint64_t          sent;       /* octets written so far */
	struct pop3_stuff stuff;
	uint8_t          *chunk;      /* owns: one blob read (RETR/TOP) */
	size_t            chunk_len;  /* octets in chunk not yet stuffed */
};

struct pop3_session {
	struct proto_conn   conn;     /* in srv->ps; direct writes, release */
	struct pop3_server *srv;      /* borrowed; NULL once released */
	struct bufferevent *bev;      /* owns; NULL once released */
	struct pop3_parser *parser;   /* owns */
	struct rs_log_ctx   log;
	char                ip[NETADDR_TEXT_MAX];
	enum pop3_state     state;
	unsigned            refs;     /* the connection + pending async ops */
	bool                plaintext_ok; /* loopback or plaintext_auth_any */
	bool                paused;   /* reading stopped: output too full */
	const char         *close_reason; /* FLUSH: static string */
	unsigned            errors;
	unsigned            auth_failures;
	char               *user;     /* owns: USER or authcid until checked */
	const char         *method;   /* "USER" or "PLAIN": static */
	/* TRANSACTION: the maildrop. */
	char                addr[RS_ADDR_TEXT_MAX]; /* the logged-in account */
	struct store_acct   acct;
	char                lock_key[24]; /* non-empty: holds srv->locks */
	uint32_t            mailbox;      /* INBOX id */
	uint32_t            uidvalidity;
	struct pop3_msg    *msgs;         /* owns */
	size_t              nmsgs, ndeleted;
	uint64_t            bytes, deleted_bytes;
	uint32_t           *expunge;      /* owns: UIDs given to the store */
	size_t              nexpunge;
	struct pop3_stream  stream;
	/* PROXY: the stream to the primary, and what joins the two. */
	struct bufferevent *peer;     /* owns */
	struct bev_pump    *pump;     /* owns */
};

typedef void pop3_cmd_fn(struct pop3_session *s, const struct pop3_cmd *c);

/* ---- pop3_server.c ---- */
/* Takes the maildrop lock of s->acct for s: 0, or RS_ECONFLICT. */
int pop3_server__lock(struct pop3_server *srv, struct pop3_session *s)
	RS_MUST_CHECK;
void pop3_server__unlock(struct pop3_server *srv, struct pop3_session *s);

/* ---- pop3_session.c ---- */
/* The session side of srv->ps (proto_server_new takes it). */
extern const struct proto_ops pop3_session__ops;
/* Starts a session on fd; it links itself into srv and owns fd from here.
 * 0, or -1 (out of memory in libevent) and the caller still owns fd. */
int pop3_session__new(struct pop3_server *srv, evutil_socket_t fd,
                      const struct sockaddr *sa, const char *ip)
	RS_MUST_CHECK;
/* A session on a peer stream (bev, taken) for a client another node
 * admitted at client_ip; peer names it in the log. Returns the session
 * (AUTHORIZATION state, no greeting sent) or NULL (bev freed). */
struct pop3_session *pop3_session__adopt(struct pop3_server *srv,
                                         struct bufferevent *bev,
                                         const char *client_ip,
                                         const char *peer, bool plaintext_ok);
/* Ends the session: its maildrop moved to another node. */
void pop3_session__unavailable(struct pop3_session *s);
/* Relayed sessions only: the primary ended the stream; what it sent
 * reaches the client, then the session closes. */
void pop3_session__flush_close(struct pop3_session *s, const char *reason);
/* Raw output (a complete reply or lines of one, with CRLFs). */
void pop3_session__printf(struct pop3_session *s, const char *fmt, ...)
	RS_PRINTF(2, 3);
/* "+OK text\r\n". */
void pop3_session__ok(struct pop3_session *s, const char *fmt, ...)
	RS_PRINTF(2, 3);
/* "-ERR text\r\n" for a client error; closes after pop3.max_errors. */
void pop3_session__err(struct pop3_session *s, const char *fmt, ...)
	RS_PRINTF(2, 3);
/* Enters st, enabling reading only in the command-reading states. */
void pop3_session__set_state(struct pop3_session *s, enum pop3_state st);
/* After an async completion left a reading state: re-enables reading and
 * handles commands already buffered (pipelining raises no new event). */
void pop3_session__resume(struct pop3_session *s);
/* Starts a multi-line response: STREAM state until fill says complete,
 * then back to TRANS. The first part is produced before returning. */
void pop3_session__stream(struct pop3_session *s, pop3_fill_fn *fill);
/* Closes once the queued output is written (FLUSH state). */
void pop3_session__finish(struct pop3_session *s, const char *reason);
/* The one close path: logs, releases the lock, frees later. Idempotent. */
void pop3_session__close(struct pop3_session *s, const char *reason);
void pop3_session__ref(struct pop3_session *s);
void pop3_session__unref(struct pop3_session *s);
struct evbuffer *pop3_session__out(struct pop3_session *s);
/* The store and the pieces of the node a command needs. */
struct store *pop3_session__store(const struct pop3_session *s);

/* ---- pop3_auth.c: USER, PASS, AUTH (AUTHORIZATION) ---- */
pop3_cmd_fn pop3_auth__user;
pop3_cmd_fn pop3_auth__pass;
pop3_cmd_fn pop3_auth__auth;
pop3_cmd_fn pop3_auth__sasl;      /* the line after "+ " */

/* ---- pop3_maildrop.c: TRANSACTION and UPDATE ---- */
/* Login succeeded: lock and snapshot the maildrop; TRANS, or back to AUTH
 * with -ERR [IN-USE] or [SYS/TEMP]. */
void pop3_maildrop__open(struct pop3_session *s, const struct auth_result *r);
/* Parses a message number (RFC 1939 section 5): 0 with the index, or -1
 * after answering -ERR. */
int pop3_maildrop__msg(struct pop3_session *s, struct rs_str arg,
                       size_t *idx_r);
pop3_cmd_fn pop3_maildrop__stat;
pop3_cmd_fn pop3_maildrop__list;
pop3_cmd_fn pop3_maildrop__uidl;
pop3_cmd_fn pop3_maildrop__dele;
pop3_cmd_fn pop3_maildrop__rset;
pop3_cmd_fn pop3_maildrop__noop;
pop3_cmd_fn pop3_maildrop__quit;

/* ---- pop3_proxy.c: sessions served on the account's primary ---- */
/* Whether the account is served by another node. */
bool pop3_proxy__needed(const struct pop3_session *s,
                        const struct auth_result *r);
/* Opens the stream to the primary for the login that just succeeded:
 * 0 (the session waits for it), or -1 after answering -ERR. */
int pop3_proxy__login(struct pop3_session *s, const struct auth_result *r);
/* Ends the relay (close or release). */
void pop3_proxy__end(struct pop3_session *s);
/* The primary's side (rpc stream handler; arg is the pop3_server). */
void pop3_proxy__serve(void *arg, struct rpc_call *call, const uint8_t *req,
                       size_t len);

/* ---- pop3_retr.c: RETR and TOP ---- */
pop3_cmd_fn pop3_retr__retr;
pop3_cmd_fn pop3_retr__top;

/* True for a store error meaning "gone": rc or err says RS_ENOTFOUND. */
static inline bool
pop3_notfound(int rc, const struct rs_err *err)
{
	return rc == RS_ENOTFOUND || (rc != 0 && err->code == RS_ENOTFOUND);
}

#endif
