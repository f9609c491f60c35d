/* imap_int.h: internals shared by the files of node/imap: the server and
 * session structs, the command table entry, and the helpers every command
 * file uses (replies, output, async completion, streamed output and
 * literal input, the selected view). Nothing outside node/imap includes
 * it. Loop thread only. */
#ifndef ROOST_NODE_IMAP_INT_H
#define ROOST_NODE_IMAP_INT_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/rs_addr.h"
#include "lib/rs_log.h"
#include "node/core/netaddr.h"
#include "node/core/proto_server.h"
#include "node/imap/imap_parser.h"
#include "node/imap/imap_seqset.h"
#include "node/imap/imap_server.h"
#include "node/imap/imap_view.h"
#include "storage/store.h"

struct node_ctx;
struct bev_pump;

#define IMAP_OUT_LOW     ((size_t)64 * 1024)  /* pump/resume at or below */
#define IMAP_OUT_HIGH    ((size_t)256 * 1024) /* stop reading above */
#define IMAP_READ_MAX    ((size_t)16 * 1024)  /* max_single_read */
#define IMAP_TAG_MAX     128                  /* longer tags: BAD */

struct imap_limits {
	uint64_t timeout_ms;          /* imap.timeout: autologout, also in
	                               * IDLE (RFC 9051 5.4: >= 30 min) */
	unsigned max_errors;          /* imap.max_errors: BADs before BYE */
	unsigned max_auth_failures;   /* imap.max_auth_failures */
	unsigned search_threads;      /* imap.search_threads: 1-2 */
	uint64_t max_message;         /* APPENDLIMIT (smtp.max_message_size) */
	struct imap_parser_limits parser; /* imap.max_line, imap.max_literal */
};

struct imap_server {
	struct node_ctx     *node;    /* borrowed */
	/* owns: listener, admission, the sessions, graceful stop */
	struct proto_server *ps;
	struct imap_limits   limits;
	struct worker_pool  *search_pool; /* owns: SEARCH off the loop
	                                   * (imap.search_threads) */
};

/* RFC 9051 section 3: the connection states, as bits so that a command
 * table entry lists where it is valid. */
enum imap_state {
	IMAP_STATE_NOT_AUTH = 1u << 0,
	IMAP_STATE_AUTH = 1u << 1,
	IMAP_STATE_SELECTED = 1u << 2,
	IMAP_STATE_LOGOUT = 1u << 3,
};
#define IMAP_STATES_AUTHED  (IMAP_STATE_AUTH | IMAP_STATE_SELECTED)
#define IMAP_STATES_ANY     (IMAP_STATE_NOT_AUTH | IMAP_STATES_AUTHED)

/* What the engine is doing, apart from the protocol state. */
enum imap_io {
	IMAP_IO_READ,                 /* reading commands */
	IMAP_IO_CMD,                  /* a command runs (async or streaming):
	                               * no next command is read */
	IMAP_IO_IDLE,                 /* IDLE: updates pushed, reading for
	                               * DONE in line mode */
	IMAP_IO_FLUSH,                /* last reply queued; close once sent */
	IMAP_IO_PROXY,                /* relayed to the account's primary
	                               * (imap_proxy.c) */
	IMAP_IO_CLOSING,              /* torn down; freed with the last ref */
};

/* Extensions the client turned on with ENABLE (RFC 5161) or SELECT's
 * (CONDSTORE) parameter. */
#define IMAP_EXT_CONDSTORE  (1u << 0) /* RFC 7162: MODSEQ in FETCH */
#define IMAP_EXT_QRESYNC    (1u << 1) /* RFC 7162: VANISHED, implies
                                       * CONDSTORE */
#define IMAP_EXT_UTF8       (1u << 2) /* RFC 6855 UTF8=ACCEPT: UTF-8
                                       * mailbox names, no mUTF-7 */
#define IMAP_EXT_REV2       (1u << 3) /* RFC 9051 behaviour: no \Recent,
                                       * no [UNSEEN], LIST in SELECT,
                                       * UTF-8 names, ESEARCH replies */

/* Tagged completion results (RFC 9051 7.1). */
enum imap_status {
	IMAP_OK,
	IMAP_NO,
	IMAP_BAD,
};

/* What a command's run function returns. */
#define IMAP_RUN_DONE   0   /* the tagged reply was sent: next command */
#define IMAP_RUN_ASYNC  1   /* the command goes on (a store write, a
                             * stream): it calls imap_cmd_finish(s) after
                             * its tagged reply; no command is read until
                             * then */

/* What a pump function returns (see imap_cmd_stream). */
#define IMAP_PUMP_MORE  0   /* call again once output is below low water */
#define IMAP_PUMP_WAIT  1   /* waiting on something else: the command calls
                             * imap_cmd_pump(s) when it can go on */
#define IMAP_PUMP_DONE  2   /* finished: the tagged reply is queued; the
                             * session finishes the command itself */

struct imap_session;

/* Produces more of a long response (FETCH of many messages, a big body):
 * one bounded piece per call. Returns IMAP_PUMP_*. */
typedef int imap_pump_fn(struct imap_session *s);

/* A literal of the current command was announced (ev: IMAP_EV_LITERAL,
 * with tag, name, uid, lit_size, lit_sync, lit_streamed). Return true to
 * accept (the session answers "+ OK" to a synchronizing one), or false
 * after sending the tagged refusal, e.g. NO [TOOBIG] or NO [OVERQUOTA]
 * (the session then tells the parser, and the command ends). May set
 * s->cmd.state. */
typedef bool imap_literal_fn(struct imap_session *s,
                             const struct imap_event *ev);
/* Octets of a streamed literal (ev: IMAP_EV_DATA; ev->data borrowed for
 * the call). Cannot refuse: the client sends them anyway; remember a
 * failure in s->cmd.state and answer it from run. */
typedef void imap_data_fn(struct imap_session *s, const struct imap_event *ev);
/* Frees s->cmd.state: at the command's end, after a parse error once a
 * literal was accepted, and when the session closes mid-command. */
typedef void imap_cmd_cleanup_fn(struct imap_session *s);
/* The line the command asked for with imap_cmd_line (an AUTHENTICATE
 * response, IDLE's DONE): line borrowed for the call, without CRLF. */
typedef void imap_line_fn(struct imap_session *s, struct rs_str line);

/* A command's handler: IMAP_RUN_DONE or IMAP_RUN_ASYNC. cmd is
 * borrowed for the call (copy what an async command keeps). */
typedef int imap_run_fn(struct imap_session *s, const struct imap_cmd *cmd);

/* Command flags. */
#define IMAP_CMD_F_UID_OK      (1u << 0) /* "UID <name>" exists */
/* RFC 9051 7.5.1: no untagged EXPUNGE while it runs unless UID-prefixed
 * (FETCH, STORE, SEARCH; and their UID forms may). */
#define IMAP_CMD_F_NO_EXPUNGE_RESPONSES (1u << 1)
#define IMAP_CMD_F_READ_WRITE  (1u << 2) /* NO in a read-only mailbox */
#define IMAP_CMD_F_NO_SYNC     (1u << 3) /* the engine sends no view updates
                                          * before the tagged reply (the
                                          * command handles them) */

/* One entry of a command table. Names are upper case; lookup ignores
 * case. */
struct imap_cmd_def {
	const char *name;
	unsigned    states;           /* enum imap_state bits */
	unsigned    flags;            /* IMAP_CMD_F_* */
	imap_run_fn *run;
	imap_literal_fn *literal;     /* NULL: literals are accepted when the
	                               * parser keeps them inline, streamed
	                               * ones refused with BAD [TOOBIG] */
	imap_data_fn    *data;        /* streamed literal octets; with literal */
};

/* The tables: imap_cmd_table.c (session and mailbox commands) and
 * imap_cmd_msg_table.c (message commands); each ends with a NULL name. */
extern const struct imap_cmd_def imap_cmds[];
extern const struct imap_cmd_def imap_msg_cmds[];

/* The command being run. Reset between commands. */
struct imap_cur {
	char        tag[IMAP_TAG_MAX + 1]; /* copied: valid all along */
	const struct imap_cmd_def *def; /* NULL between commands */
	bool        uid;              /* the UID form */
	imap_pump_fn *pump;           /* set: streaming (imap_cmd_stream) */
	void       *state;            /* the command's own; owned via cleanup */
	imap_cmd_cleanup_fn *cleanup; /* frees state; NULL: free(state) */
	imap_line_fn *line;           /* set: the next line goes there */
	uint64_t    started_ms;       /* for the log */
};

struct imap_session {
	struct proto_conn   conn;     /* in srv->ps; direct writes, release */
	struct imap_server *srv;      /* borrowed; NULL once released */
	struct bufferevent *bev;      /* owns; NULL once released */
	struct imap_parser *parser;   /* owns */
	struct rs_log_ctx   log;      /* sid and peer of every event */
	char                ip[NETADDR_TEXT_MAX];
	enum imap_state     state;
	enum imap_io        io;
	unsigned            refs;     /* the connection + pending async ops */
	unsigned            enabled;  /* IMAP_EXT_* */
	bool                plaintext_ok; /* loopback or plaintext_auth_any */
	bool                paused;   /* reading stopped: output too full */
	bool                in_read;  /* inside on_read: no nested reads */
	bool                refused;  /* the current command's literal was
	                               * refused: ignore its parse error */
	const char         *close_reason; /* FLUSH: static string */
	unsigned            errors;   /* BAD replies so far */
	unsigned            auth_failures;
	/* AUTH and SELECTED: the logged-in account. */
	char                addr[RS_ADDR_TEXT_MAX];
	struct store_acct   acct;
	struct store_quota  quota;    /* from the directory; 0 = unlimited */
	/* SELECTED */
	struct imap_view   *view;     /* owns; NULL unless SELECTED */
	/* RFC 5182 SEARCHRES: the UIDs SEARCH RETURN (SAVE) kept for "$";
	 * empty after SELECT, EXAMINE, CLOSE and UNSELECT. */
	struct imap_seqset  saved;
	struct imap_cur     cmd;
	/* A tagged reply held back until a \Recent claim lands (imap_reply,
	 * imap_recent.c): the untagged updates it waits for go first. */
	struct {
		bool        on;
		bool        expunge;  /* what the command allows */
		bool        finish;   /* the command ended meanwhile */
		struct evbuffer *line; /* owns: the tagged line; NULL
		                        * until first needed */
	} held;
	unsigned            view_gen; /* counts SELECTs: a completion for
	                               * an older view is stale */
	/* PROXY: the stream to the primary, and what joins the two. */
	struct bufferevent *peer;     /* owns */
	struct bev_pump    *pump;     /* owns */
};

/* ---- imap_session.c: output ---- */
/* The output buffer, for literals and bulk writes. */
struct evbuffer *imap_out(struct imap_session *s);
/* Raw output: fmt must produce whole lines with their CRLFs. */
void imap_printf(struct imap_session *s, const char *fmt, ...)
	RS_PRINTF(2, 3);
/* "* " fmt "\r\n": one untagged response. */
void imap_untagged(struct imap_session *s, const char *fmt, ...)
	RS_PRINTF(2, 3);
/* "<tag> OK|NO|BAD " fmt "\r\n" for the current command; put a response
 * code first in fmt: imap_reply(s, IMAP_OK, "[COPYUID %u %s %s] COPY
 * completed", ...). Before an OK/NO, view updates are sent as the command
 * allows (unless IMAP_CMD_F_NO_SYNC); when they wait for a \Recent claim
 * the reply is held and the command's end deferred until it lands (no
 * command is read meanwhile). BAD counts toward imap.max_errors (then
 * BYE and close). */
void imap_reply(struct imap_session *s, enum imap_status st,
                const char *fmt, ...) RS_PRINTF(3, 4);
/* "+ " text "\r\n": a continuation request. */
void imap_continue(struct imap_session *s, const char *text);

/* ---- imap_session.c: command life ---- */
/* Ends an IMAP_RUN_ASYNC command (its tagged reply already queued):
 * cleanup, then reading resumes with commands already buffered. */
void imap_cmd_finish(struct imap_session *s);
/* Streams a response: the session calls pump while the output is below
 * IMAP_OUT_LOW, and again whenever it drains there, until pump returns
 * IMAP_PUMP_DONE. Call from run and return IMAP_RUN_ASYNC. */
void imap_cmd_stream(struct imap_session *s, imap_pump_fn *pump);
/* An IMAP_RUN_ASYNC command reads the client's next line itself (not a
 * command): line(s, text) runs once it arrived; call again for more. */
void imap_cmd_line(struct imap_session *s, imap_line_fn *line);
/* After IMAP_PUMP_WAIT: pumps again now. */
void imap_cmd_pump(struct imap_session *s);
/* True once the session is closing: an async completion that finds it so
 * only releases its reference. */
static inline bool
imap_session_closed(const struct imap_session *s)
{
	return s->io == IMAP_IO_CLOSING;
}
/* Every async operation holds a reference until its completion ran. */
void imap_session_ref(struct imap_session *s);
void imap_session_unref(struct imap_session *s);
/* Sends "* BYE text" and closes once written (FLUSH). */
void imap_session_bye(struct imap_session *s, const char *reason,
                      const char *text);
/* The one close path: logs, unsubscribes, frees later. Idempotent. */
void imap_session_close(struct imap_session *s, const char *reason);
/* The node's store, and the rs_exec that store completions go through. */
struct store *imap_store(const struct imap_session *s);
struct rs_exec *imap_exec(const struct imap_session *s);

/* ---- imap_session.c: lifecycle (server) ---- */
/* The session side of srv->ps (proto_server_new takes it). */
extern const struct proto_ops imap_session__ops;
int imap_session__new(struct imap_server *srv, evutil_socket_t fd,
                      const struct sockaddr *sa, const char *ip)
	RS_MUST_CHECK;
/* A session on a peer stream (bev, taken) for a client another node
 * admitted at client_ip; peer names it in the log. Returns the session,
 * not authenticated yet, or NULL (bev freed). */
struct imap_session *imap_session__adopt(struct imap_server *srv,
                                         struct bufferevent *bev,
                                         const char *client_ip,
                                         const char *peer, bool plaintext_ok);
/* Ends the session with BYE [UNAVAILABLE]: its mailbox moved to
 * another node (imap_server_partition_lost). */
void imap_session__unavailable(struct imap_session *s);
/* Forgets the current command (its state freed, no tag) without going
 * on reading: for a command that ends by handing the session over. */
void imap_session__cmd_reset(struct imap_session *s);
/* Relayed sessions only: the primary ended the stream; what it sent
 * reaches the client, then the session closes. */
void imap_session__flush_close(struct imap_session *s, const char *reason);

/* Reads (READ, IDLE, a command's line) or not, per io and output. */
void imap_session__set_io(struct imap_session *s, enum imap_io io);
/* The reply is held: the command's end waits for it, and no command is
 * read meanwhile. */
void imap_session__held_wait(struct imap_session *s);

/* ---- imap_session_dispatch.c: the parser's events ---- */
/* Handles one event (a command, a literal's announcement, streamed
 * literal data, a line); ev borrowed for the call. */
void imap_session__event(struct imap_session *s, const struct imap_event *ev);
/* The parser refused the command (err says why): BAD, unless its
 * literal was refused already or a command's line was too long. */
void imap_session__bad(struct imap_session *s, const struct imap_event *ev,
                       const struct rs_err *err);

/* A \Recent claim landed: sends the updates and the held reply, and
 * ends the command if it had ended meanwhile; in IDLE, sends the
 * updates. */
void imap_session__held_resume(struct imap_session *s);

/* ---- imap_recent.c: \Recent for IMAP4rev1 sessions (RFC 3501 2.3.2) ---- */
/* Settles which new messages of the view are recent: EXAMINE reads the
 * mailbox's mark, SELECT claims them in the store. True while a claim
 * is on its way (the view must not announce them yet). */
bool imap_recent__sync(struct imap_session *s);
/* Whether message seq is \Recent for this session. */
static inline bool
imap_recent__is(const struct imap_session *s, uint32_t seq)
{
	return s->view != NULL && s->view->recent_on && seq >= 1 &&
	       seq <= s->view->n &&
	       (s->view->flags[seq - 1] & IMAP_VIEW_F_RECENT) != 0;
}
/* STATUS RECENT: messages no session has claimed yet. 0 or -1. */
int imap_recent__count(struct imap_session *s, const struct store_mailbox *mb,
                       uint32_t *n_r) RS_MUST_CHECK;

/* ---- imap_misc.c: CAPABILITY NOOP LOGOUT ENABLE ID NAMESPACE ---- */
/* Writes "CAPABILITY IMAP4rev1 ..." (no CRLF) for s's state. */
void imap_misc__capability(const struct imap_session *s,
                           struct evbuffer *out);
imap_run_fn imap_misc__capability_cmd;
imap_run_fn imap_misc__noop;
imap_run_fn imap_misc__logout;
imap_run_fn imap_misc__enable;
imap_run_fn imap_misc__id;
imap_run_fn imap_misc__namespace;
/* RFC 7162 3.1: a CONDSTORE enabling command (FETCH or SEARCH with
 * MODSEQ, STORE UNCHANGEDSINCE) turns CONDSTORE on; the first one in the
 * selected state also sends "* OK [HIGHESTMODSEQ n]" so that the client
 * knows where its modseqs start. Call before the command's output. */
void imap_misc__condstore_on(struct imap_session *s);

/* ---- imap_auth.c: LOGIN, AUTHENTICATE (not authenticated state) ---- */
imap_run_fn imap_auth__login;
imap_run_fn imap_auth__authenticate;
/* The account is in: AUTH state, its quota from the directory, and the
 * current command's tagged OK with the capabilities. IMAP_RUN_DONE, or
 * IMAP_RUN_ASYNC while a never-used account's state is created first
 * (the command then ends by itself, imap_cmd_finish). */
int imap_auth__enter(struct imap_session *s, const char *addr,
                     struct store_acct acct, const char *method);

/* ---- imap_proxy.c: sessions served on the account's primary ---- */
struct auth_result;
struct rpc_call;
/* Whether the account is served by another node (a cluster). */
bool imap_proxy__needed(const struct imap_session *s,
                        const struct auth_result *r);
/* Opens the stream to the primary for the login in progress: IMAP_RUN_
 * ASYNC (the stream's outcome ends the command), or IMAP_RUN_DONE with
 * the NO already queued. */
int imap_proxy__login(struct imap_session *s, const struct auth_result *r,
                      const char *method) RS_MUST_CHECK;
/* Ends the relay (session close or release); NULL-safe parts. */
void imap_proxy__end(struct imap_session *s);
/* The primary's side: a SessionOpen stream (rpc handler; arg is the
 * imap_server). */
void imap_proxy__serve(void *arg, struct rpc_call *call, const uint8_t *req,
                       size_t len);

/* ---- imap_list.c: LIST, LSUB ---- */
imap_run_fn imap_list__list;
imap_run_fn imap_list__lsub;

/* ---- imap_mailbox.c: CREATE DELETE RENAME (UN)SUBSCRIBE STATUS ---- */
imap_run_fn imap_mailbox__create;
imap_run_fn imap_mailbox__delete;
imap_run_fn imap_mailbox__rename;
imap_run_fn imap_mailbox__subscribe;
imap_run_fn imap_mailbox__unsubscribe;
imap_run_fn imap_mailbox__status;
/* Writes the STATUS items of mb named in the list att (LIST-STATUS uses
 * it too): "* STATUS name (...)\r\n". 0, or -1 (bad item: nothing
 * written). */
int imap_mailbox__status_write(struct imap_session *s,
                               const struct store_mailbox *mb,
                               const struct imap_arg *att) RS_MUST_CHECK;

/* ---- imap_select.c: SELECT EXAMINE CLOSE UNSELECT CHECK IDLE ---- */
imap_run_fn imap_select__select;
imap_run_fn imap_select__examine;
imap_run_fn imap_select__close_cmd;
imap_run_fn imap_select__unselect;
imap_run_fn imap_select__check;
imap_run_fn imap_select__idle;

/* ---- imap_select.c: the view as commands see it ---- */
/* Sends the view updates the current command allows (RFC 9051 7.5.1):
 * refreshes from the store, then imap_view_emit. allow_expunge false
 * holds back EXPUNGE/VANISHED. No-op unless SELECTED. Returns true when
 * nothing was sent because a \Recent claim is on its way: its
 * completion sends the updates (imap_session__held_resume). */
bool imap_view_sync(struct imap_session *s, bool allow_expunge);
/* Closes the selected mailbox: SELECTED -> AUTH, view freed. */
void imap_select__close(struct imap_session *s);

/* ---- imap_view_sync.c ---- */
/* notify's callback for a selected session (arg): the view is stale;
 * in IDLE the updates go out at once. */
void imap_select__on_notify(void *arg, struct store_acct a, uint64_t modseq);

/* ---- imap_select_qresync.c: SELECT's parameters and QRESYNC ---- */
/* QRESYNC's parameter (RFC 7162 3.2.5): (uidvalidity modseq
 * [known-uids [seq-match]]). */
struct imap_select_qresync {
	bool        on;
	uint32_t    uidvalidity;
	uint64_t    modseq;
	bool        has_known;        /* known-uids was given */
	struct imap_seqset known;     /* owns: known-uids */
	uint32_t   *mseq, *muid;      /* owns: seq-match-data pairs */
	size_t      nmatch;
};
void imap_select__qresync_free(struct imap_select_qresync *q);
/* Reads SELECT's parameter list l into q (CONDSTORE turns it on): 0,
 * or -1 (BAD sent). */
int imap_select__params(struct imap_session *s, const struct imap_arg *l,
                        struct imap_select_qresync *q) RS_MUST_CHECK;
/* RFC 7162 3.2.5.2: what vanished since the client's modseq, then FETCH
 * for what changed (through the view's DIRTY marks). */
void imap_select__qresync(struct imap_session *s,
                          const struct imap_select_qresync *q);

/* ---- imap_flags.c: FLAGS and PERMANENTFLAGS of the selected mailbox ----
 * Sends "* FLAGS (...)" and "* OK [PERMANENTFLAGS (...)]" with the
 * mailbox's keywords now (SELECT, and whenever the set grew), and
 * remembers them in the view. */
void imap_flags__announce(struct imap_session *s);
/* Before a FETCH response shows keywords kw: announces the list again
 * if one of them is not in what the client was told. No-op unless
 * SELECTED. */
void imap_flags__check(struct imap_session *s, const char *const *kw,
                       size_t n);

/* ---- imap_mailbox.c: names ---- */
/* Reads a mailbox name argument (astring) into out (UTF-8, '/'
 * separated, no trailing '/'; "INBOX" in any case becomes "INBOX"),
 * decoding modified UTF-7 (RFC 3501 5.1.3) unless UTF-8 names are on.
 * Nothing is sent. 0; IMAP_NAME_NOT_ASTRING when a is not an astring
 * (a syntax error: BAD); IMAP_NAME_INVALID for an astring that names no
 * mailbox this server can have (not modified UTF-7, a wildcard or
 * control character, "a//b", too long): RFC 9051 9 makes any astring a
 * mailbox, so that is a NO (imap_mailbox__name_refuse). */
#define IMAP_NAME_NOT_ASTRING (-1)
#define IMAP_NAME_INVALID     (-2)
int imap_mailbox_name_in(const struct imap_session *s,
                         const struct imap_arg *a, char *out, size_t outsz)
	RS_MUST_CHECK;
/* The tagged answer to a name imap_mailbox_name_in refused with rc:
 * BAD what for IMAP_NAME_NOT_ASTRING; for IMAP_NAME_INVALID NO
 * [NONEXISTENT] where the name is looked up (no such mailbox can
 * exist), or NO [CANNOT] where it would be created (create true). */
void imap_mailbox__name_refuse(struct imap_session *s, int rc, bool create,
                               const char *what);
/* Decodes a name or LIST pattern as sent (modified UTF-7 unless UTF-8
 * names are on) into out, INBOX spelled upper case; no other checks.
 * 0, or -1 (malformed, too long). */
int imap_mailbox__decode(const struct imap_session *s, struct rs_str in,
                         char *out, size_t outsz) RS_MUST_CHECK;
/* Writes name as a quoted string (encoded in modified UTF-7
 * unless UTF-8 names are on). */
void imap_mailbox_name_out(const struct imap_session *s, struct evbuffer *out,
                           const char *name);

/* True when UTF-8 mailbox names are in use (UTF8=ACCEPT or IMAP4rev2). */
static inline bool
imap_utf8_names(const struct imap_session *s)
{
	return (s->enabled & (IMAP_EXT_UTF8 | IMAP_EXT_REV2)) != 0;
}

#endif
