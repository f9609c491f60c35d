/* smtp_hooks.h: the interface between the SMTP engine (smtp_session.c and
 * the command files) and a policy (smtp_policy.c for the node's intake).
 * The engine owns the protocol: syntax, sequence, limits, replies to
 * success. The policy decides who may send to whom and where a message
 * goes. Loop thread only.
 *
 * Each hook returns:
 *   1  done, accepted: the engine sends its success reply;
 *   0  pending: the policy took a session reference
 *      (smtp_session__ref) and will call smtp_session__hook_done and then
 *      smtp_session__unref; meanwhile the session is in WAIT with reading
 *      disabled;
 *  -1  refused: the policy already queued the reply with
 *      smtp_reply__reject.
 * A hook that is not needed may be NULL (counts as 1). */
#ifndef ROOST_NODE_SMTP_HOOKS_H
#define ROOST_NODE_SMTP_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_err.h"
#include "lib/rs_log.h"
#include "node/smtp/smtp_args.h"

struct smtp_session;

struct smtp_hooks {
	/* HELO/EHLO with a syntactically valid name. */
	int (*on_helo)(void *ctx, struct smtp_session *s, const char *name);
	/* MAIL accepted by the engine; m lives until the transaction ends. */
	int (*on_mail)(void *ctx, struct smtp_session *s,
	               const struct smtp_mail *m);
	/* RCPT accepted by the engine (syntax, sequence, count). r is
	 * borrowed until the hook (or its completion) is done. */
	int (*on_rcpt)(void *ctx, struct smtp_session *s,
	               const struct smtp_mail *m, const struct smtp_rcpt *r);
	/* The complete message as it must be stored: the engine's
	 * Return-Path: and Received: lines, then the body. msg is borrowed
	 * until the transaction ends, which cannot happen while the hook is
	 * pending: the session reference keeps it alive even if the client
	 * goes away. On success the engine answers "250 2.0.0 Ok: stored as
	 * <id>" (smtp_session__txn_id). */
	int (*on_data_end)(void *ctx, struct smtp_session *s,
	                   const uint8_t *msg, size_t len);
	/* The transaction is over (delivered, refused, RSET, MAIL after a
	 * failed BDAT, HELO, or session release): drop per-transaction state
	 * (smtp_session__policy_data). Never called while a hook is pending
	 * on a live session. */
	void (*on_reset)(void *ctx, struct smtp_session *s);
};

/* ---- what a policy may call (smtp_reply.c, smtp_session.c) ---- */

/* Queues "<code> <status> <text>" and logs "smtp.<verb> rejected" with
 * code, status and reason (and the recipient for RCPT). Counts towards
 * smtp.max_errors unless code is 421 or 451 (our failures, not the
 * client's); past the limit adds 421 and closes. No-op once closed. */
void smtp_reply__reject(struct smtp_session *s, unsigned code,
                        const char *status, const char *reason,
                        const char *fmt, ...) RS_PRINTF(5, 6);
/* Completes a pending hook: rc 1 accepted, -1 refused (reply queued).
 * Replies, leaves WAIT and goes on with buffered commands. Does nothing
 * if the session was closed meanwhile. Does not drop the reference. */
void smtp_session__hook_done(struct smtp_session *s, int rc);
void smtp_session__ref(struct smtp_session *s);
/* Drops a reference; the last one frees the session (and the message a
 * pending on_data_end borrowed). */
void smtp_session__unref(struct smtp_session *s);
/* True once the session is closed (the client went away or the server
 * stopped): no reply can be sent any more. */
bool smtp_session__closed(const struct smtp_session *s);
/* The session's log context (sid, peer); valid while a reference is held. */
const struct rs_log_ctx *smtp_session__log(const struct smtp_session *s);
/* The current transaction's id ("<sid>.<n>"), or "" outside one. */
const char *smtp_session__txn_id(const struct smtp_session *s);
/* How many octets of the message the engine prepended (Return-Path:
 * and Received:); what follows is the client's. 0 outside a message. */
size_t smtp_session__trace_len(const struct smtp_session *s);
/* The current transaction's sender, or NULL outside one. */
struct rs_addr;
const struct rs_addr *smtp_session__txn_from(const struct smtp_session *s);
/* " from=<...> to=<a>,<b>[,+N]" of the current transaction for its log
 * line (one line per message: MAIL and RCPT log at debug level). */
void smtp_session__txn_addrs(const struct smtp_session *s, char *buf,
                             size_t size);
/* The policy's per-transaction state: set by a hook, handed back to
 * on_reset (which must free it and set it to NULL). */
void *smtp_session__policy_data(const struct smtp_session *s);
void smtp_session__set_policy_data(struct smtp_session *s, void *p);

#endif
