/* notify.h: the notification component (ARCHITECTURE.md, step 3 of a
 * message): per-account publish/subscribe of store changes. The store's
 * commit hook (writer thread) reports (account, new highest modseq) after
 * each commit; notify carries it to the loop and calls every subscriber
 * of that account. Subscribers (IMAP sessions in IDLE or selected, later
 * JMAP push and DAV) then read what changed from the store's change log:
 * one mechanism, several protocols. Loop thread only, except the hook. */
#ifndef ROOST_NODE_NOTIFY_NOTIFY_H
#define ROOST_NODE_NOTIFY_NOTIFY_H

#include <stdint.h>

#include "storage/store.h"

struct notify;
struct notify_sub;
struct node_ctx;

/* Called on the loop after a commit changed account a; modseq is the
 * account's highest modseq after it (0: the account was deleted). May
 * unsubscribe itself or others. */
typedef void notify_fn(void *arg, struct store_acct a, uint64_t modseq);

/* Installs the store's commit hook; n->store and n->exec must outlive it.
 * Never returns NULL. */
struct notify *notify_new(struct node_ctx *n);
/* Removes the hook; events already posted are dropped. Subscriptions
 * must be gone first. NULL-safe. */
void notify_free(struct notify **pp);

/* Calls fn(arg, …) for every later commit touching a. Never fails. */
struct notify_sub *notify_subscribe(struct notify *nf, struct store_acct a,
                                    notify_fn *fn, void *arg);
/* NULL-safe; sets *pp to NULL. Safe from inside a callback. */
void notify_unsubscribe(struct notify_sub **pp);
/* Subscriptions now (status, tests). */
unsigned notify_count(const struct notify *nf);

#endif
