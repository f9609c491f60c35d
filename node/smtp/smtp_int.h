/* smtp_int.h: internals shared by the files of node/smtp: the server and
 * session structs, the session states, the transaction, and the helpers
 * the command files call. Nothing outside node/smtp includes it (the
 * session unit test does, as a white-box test). Loop thread only. */
#ifndef ROOST_NODE_SMTP_INT_H
#define ROOST_NODE_SMTP_INT_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/rs_addr.h"
#include "lib/rs_buf.h"
#include "lib/rs_log.h"
#include "node/core/netaddr.h"
#include "node/core/proto_server.h"
#include "node/smtp/smtp_args.h"
#include "node/smtp/smtp_data.h"
#include "node/smtp/smtp_hooks.h"
#include "node/smtp/smtp_parser.h"
#include "node/smtp/smtp_server.h"

struct node_ctx;
struct smtp_policy;

#define SMTP_READ_MAX  ((size_t)16 * 1024)   /* bufferevent_set_max_single_read */
#define SMTP_OUT_HIGH  ((size_t)64 * 1024)   /* stop reading commands above */
#define SMTP_OUT_LOW   ((size_t)16 * 1024)   /* resume at or below */
#define SMTP_IN_HIGH   ((size_t)64 * 1024)   /* stop reading input above */

/* The smtp.* settings (smtp_server.c reads them). */
struct smtp_limits {
	size_t   max_line;            /* smtp.max_line, CRLF included */
	uint64_t max_message;         /* smtp.max_message_size, octets */
	uint64_t timeout_ms;          /* smtp.timeout: idle and DATA stall */
	uint64_t data_timeout_ms;     /* smtp.data_timeout: a whole message */
	unsigned max_recipients;      /* smtp.max_recipients */
	unsigned max_errors;          /* smtp.max_errors */
	unsigned max_junk;            /* smtp.max_junk_commands */
};

struct smtp_server {
	const char              *hostname;  /* borrowed: banner, Received: */
	struct node_ctx         *node;      /* borrowed; NULL in unit tests */
	/* owns: listener, admission, the sessions, graceful stop */
	struct proto_server     *ps;
	const struct smtp_hooks *hooks;     /* borrowed (static) */
	void                    *hooks_ctx; /* borrowed: the policy */
	struct smtp_policy      *policy;    /* owns */
	struct smtp_limits       limits;
};

/* Commands are read only in CMD; DATA and BDAT read the body; WAIT has
 * reading disabled until a hook completes. */
enum smtp_state {
	SMTP_STATE_CMD,       /* reading command lines */
	SMTP_STATE_DATA,      /* reading a DATA body (smtp_data.h) */
	SMTP_STATE_BDAT,      /* reading a BDAT chunk of known size */
	SMTP_STATE_WAIT,      /* a hook is pending; input waits unread */
	SMTP_STATE_FLUSH,     /* last reply queued; close once written */
	SMTP_STATE_CLOSING,   /* torn down; freed when the last ref goes */
};

enum smtp_body_mode {
	SMTP_MODE_NONE = 0,   /* no DATA or BDAT yet */
	SMTP_MODE_DATA,
	SMTP_MODE_BDAT,       /* RFC 3030: no DATA in this transaction */
};

/* One mail transaction, MAIL to the reply after the message. Allocated
 * at MAIL so that an idle session stays small. */
struct smtp_txn {
	struct smtp_mail    mail;
	char                id[32];       /* "<sid>.<n>" */
	unsigned            nrcpt;        /* RCPTs accepted */
	char                rcpt1[RS_ADDR_TEXT_MAX]; /* Received "for" */
	/* The accepted recipients for the delivery's log line:
	 * "<a>,<b>", then how many did not fit. */
	char                rcpts_log[1024];
	size_t              rcpts_log_len;
	unsigned            rcpts_log_more;
	struct smtp_rcpt    rcpt;         /* the RCPT being decided */
	enum smtp_body_mode mode;
	uint64_t            body_start;   /* rs_mono_ms() at DATA or BDAT */
	bool                bdat_failed;  /* a chunk was refused: 503 */
	size_t              hdr_len;      /* Return-Path + Received in msg */
	struct rs_buf       msg;          /* owns: headers + body, capped */
	struct smtp_data    data;         /* DATA decoder into msg */
};

struct smtp_session {
	struct proto_conn   conn;     /* in srv->ps; direct writes, release */
	struct smtp_server *srv;      /* borrowed; NULL once released */
	struct bufferevent *bev;      /* owns; NULL once released */
	struct smtp_parser *parser;   /* owns */
	struct rs_log_ctx   log;
	char                ip[NETADDR_TEXT_MAX];
	enum smtp_state     state;
	enum smtp_verb      verb;     /* the command being handled */
	unsigned            refs;     /* the connection + pending hooks */
	bool                paused;   /* reading stopped: output too full */
	bool                shutdown; /* 421 once the transaction is done */
	bool                esmtp;    /* EHLO (not HELO) */
	const char         *close_reason; /* FLUSH: static string */
	char               *helo;     /* owns; NULL before HELO/EHLO */
	unsigned            errors;
	unsigned            junk;
	unsigned            ntxn;     /* transactions started */
	struct smtp_txn    *txn;      /* owns; NULL outside a transaction */
	void               *policy_data; /* the policy's, see on_reset */
	/* BDAT: the chunk being read (also outside a transaction, to skip
	 * it before answering 503). */
	uint64_t            chunk_left;
	uint64_t            chunk_size;
	bool                chunk_last;
	bool                chunk_discard; /* drop it and answer chunk_rej */
	struct smtp_reject  chunk_rej;
};

typedef void smtp_cmd_fn(struct smtp_session *s, struct rs_str args);

/* ---- smtp_session.c ---- */
/* The session side of srv->ps (proto_server_new takes it). */
extern const struct proto_ops smtp_session__ops;
/* Starts a session on fd; it links itself into srv and owns fd from here.
 * 0, or -1 (out of memory in libevent) and the caller still owns fd. */
int smtp_session__new(struct smtp_server *srv, evutil_socket_t fd,
                      const struct sockaddr *sa, const char *ip)
	RS_MUST_CHECK;
/* Enters st, enabling reading only in the reading states. */
void smtp_session__set_state(struct smtp_session *s, enum smtp_state st);
/* Runs a hook's result: 0 enters WAIT; 1 and -1 finish the command. */
void smtp_session__hooked(struct smtp_session *s, int rc);
/* True while replies can still be queued (not FLUSH or CLOSING). */
bool smtp_session__live(const struct smtp_session *s);
/* Starts a transaction (MAIL): the txn and its id. */
struct smtp_txn *smtp_session__txn_new(struct smtp_session *s);
/* Ends the transaction, if any: on_reset, then frees it. */
void smtp_session__txn_end(struct smtp_session *s);
/* After a transaction's last reply: 421 if the server is stopping. */
void smtp_session__txn_replied(struct smtp_session *s);
/* Closes once the queued output is written (FLUSH state). */
void smtp_session__finish(struct smtp_session *s, const char *reason);
/* The one close path: logs, stops I/O, frees later. Idempotent. */
void smtp_session__close(struct smtp_session *s, const char *reason);
const char *smtp_session__host(const struct smtp_session *s);
struct evbuffer *smtp_session__in(struct smtp_session *s);

/* ---- smtp_reply.c (and smtp_reply__reject in smtp_hooks.h) ---- */
/* "<code> <status> <text>\r\n" (status NULL: none). No error counting.
 * No-op once closed. */
void smtp_reply__send(struct smtp_session *s, unsigned code,
                      const char *status, const char *fmt, ...)
	RS_PRINTF(4, 5);
/* Raw output, CRLFs included (EHLO's lines). */
void smtp_reply__printf(struct smtp_session *s, const char *fmt, ...)
	RS_PRINTF(2, 3);
/* A refusal for the local store's state: 452 4.3.1 while its disk is
 * at the free-space reserve (no_space), else 451 4.3.0 (it failed). */
void smtp_reply__store_refused(struct smtp_session *s, bool no_space);
/* "421 <status> <host> <text>" and close once written. */
void smtp_reply__bye(struct smtp_session *s, const char *status,
                     const char *reason, const char *text);

/* ---- smtp_cmd.c: the dispatch table and the short commands ---- */
void smtp_cmd__dispatch(struct smtp_session *s, const struct smtp_line *l);
/* A MAIL, RCPT or HELO/EHLO hook finished (rc 1 or -1). */
void smtp_cmd__after(struct smtp_session *s, int rc);

/* ---- smtp_body.c: DATA and BDAT ---- */
smtp_cmd_fn smtp_body__data;
smtp_cmd_fn smtp_body__bdat;
/* Read the body in DATA or BDAT state. 1: go on (the state may have
 * changed); 0: need more input, or stop. */
int smtp_body__read_data(struct smtp_session *s);
int smtp_body__read_bdat(struct smtp_session *s);
/* on_data_end finished (rc 1 or -1). */
void smtp_body__after(struct smtp_session *s, int rc);

/* ---- smtp_policy.c: the node's policy ---- */
struct smtp_policy *smtp_policy_new(struct node_ctx *n);
void smtp_policy_free(struct smtp_policy **pp);
extern const struct smtp_hooks smtp_policy_hooks;

#endif
