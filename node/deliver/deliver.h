/* deliver.h: storing one message for a transaction's accounts, each
 * copy on its partition's primary: through the local store when this
 * node is the primary, else by one Deliver call per primary node that
 * carries the message once for all its recipients there
 * (proto/deliver.proto). The calls run in parallel; the caller learns
 * per recipient what happened.
 *
 * Why this is safe to retry: a copy that failed while others were
 * stored makes the whole delivery fail (SMTP answers 451 and the client
 * retries), and every copy carries the message's idempotency key
 * (store_message.idem), so the retry stores no second copy where the
 * first attempt succeeded. Standalone, everything is local.
 * Loop thread only. */
#ifndef ROOST_NODE_DELIVER_DELIVER_H
#define ROOST_NODE_DELIVER_DELIVER_H

#include <stdint.h>

#include "lib/rs_err.h"
#include "storage/store.h"

struct node_ctx;
struct deliver;

/* Never returns NULL. With a cluster (n->cluster and n->rpc set),
 * registers the Deliver and AccountInfo handlers on n->rpc. */
struct deliver *deliver_new(struct node_ctx *n);
/* Jobs still running keep what they need; their callbacks still run. */
void deliver_free(struct deliver **pp);

/* Where account a's partition is served. */
enum deliver_where {
	DELIVER_LOCAL,                /* this node is the primary */
	DELIVER_REMOTE,               /* another live node is */
	DELIVER_NOWHERE,              /* no primary, or it is not alive */
};
enum deliver_where deliver_route(const struct deliver *d,
                                 struct store_acct a);

/* rc 0: every copy was attempted (look at each rcpt->rc: 0 stored, or
 * the store's refusal); RS_EUNAVAIL: some partition had no reachable
 * primary or a call failed: those rcpts have rc RS_EUNAVAIL, the others
 * may have been stored. */
typedef void deliver_done_fn(void *arg, int rc);

/* msg and rcpts are borrowed until cb runs (msg->idem should be set
 * when rcpts may span several nodes). txn_id names the delivery in logs.
 * 0, and cb runs later (never before this returns, even when every copy
 * failed at once), or -1 with err (bad arguments: nothing happens, cb
 * never runs). */
int deliver_message(struct deliver *d, const struct store_message *msg,
                    struct store_rcpt *rcpts, size_t n, const char *txn_id,
                    deliver_done_fn *cb, void *arg, struct rs_err *err)
	RS_MUST_CHECK;

/* An account's usage, from the store where it lives. rc 0 with info;
 * RS_EUNAVAIL when its primary cannot be reached. For an account served
 * here, cb runs before this returns. */
typedef void deliver_info_fn(void *arg, int rc,
                             const struct store_account_info *info);
int deliver_account_info(struct deliver *d, struct store_acct a,
                         deliver_info_fn *cb, void *arg,
                         struct rs_err *err) RS_MUST_CHECK;

/* Deletes every trace of account a where it lives (store_account_delete
 * on its primary). cb(arg, rc): 0, or RS_EUNAVAIL when the primary could
 * not be reached. 0 (cb runs later), or -1 with err. */
int deliver_account_delete(struct deliver *d, struct store_acct a,
                           store_done_fn *cb, void *arg, struct rs_err *err)
	RS_MUST_CHECK;

#endif
