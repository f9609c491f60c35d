/* auth.h: password authentication for every protocol. Verifying a slow
 * hash runs on a worker thread; verified credentials are cached for a
 * short time (keyed by a keyed hash of the password, never the password
 * itself), so reconnecting clients do not each cost a full hash. Failed
 * attempts from one client address are answered more and more slowly.
 * Loop thread only. */
#ifndef ROOST_NODE_AUTH_AUTH_H
#define ROOST_NODE_AUTH_AUTH_H

#include <stddef.h>

#include "lib/rs_addr.h"
#include "lib/rs_err.h"
#include "storage/store.h"

struct auth;
struct node_ctx;
struct worker_pool;

struct auth_result {
	char              addr[RS_ADDR_TEXT_MAX]; /* the account's address */
	struct store_acct acct;
};

/* rc: 0 authenticated (r valid for the call only); RS_EPERM wrong user or
 * password; RS_EUNAVAIL shutting down. */
typedef void auth_done_fn(void *arg, int rc, const struct auth_result *r);

struct auth *auth_new(struct node_ctx *n, struct worker_pool *wp);
void auth_free(struct auth **pp);

/* Checks user (an address, any case) and password for a client at
 * client_ip. Returns 0 and calls cb later (never synchronously), or -1
 * with err (RS_EINVAL: empty or oversized input) without calling cb.
 * The password is copied; the caller may wipe its copy at once. */
int auth_check_password(struct auth *a, const char *user,
                        const char *password, size_t passlen,
                        const char *client_ip, auth_done_fn *cb, void *arg,
                        struct rs_err *err) RS_MUST_CHECK;

#endif
