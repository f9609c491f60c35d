/* coord.h: the coordination store, etcd's data model behind an ops table.
 * Keys are strings, values bytes; every change gets the store's next
 * revision; a transaction compares keys' mod revisions and then applies
 * puts and deletes atomically; a watch streams changes under a prefix;
 * leases expire keys put with them unless renewed.
 * Backends: coord_local.c (standalone: the node's own RocksDB) and
 * coord_etcd.c (a cluster: etcd's v3 JSON gateway).
 *
 * All calls and callbacks happen on the owner's event-loop thread. A call
 * that fails synchronously returns -1 and never calls its callback.
 * Errors: RS_ECONFLICT (a compare failed), RS_ENOTFOUND (a lease that is
 * gone), RS_EUNAVAIL (no endpoint reachable / the call's deadline passed
 * without an answer), RS_EIO (an answer that does not parse), RS_EINVAL
 * and RS_ETOOBIG (refused arguments). A key range is never larger than
 * what fits in memory: callers keep prefixes they read whole small
 * enough (the directory: 100,000 accounts are ~30 MB). */
#ifndef ROOST_CLUSTER_COORD_H
#define ROOST_CLUSTER_COORD_H

#include <stddef.h>
#include <stdint.h>

#include "lib/rs_err.h"

struct coord;

#define COORD_KEY_MAX    1024
#define COORD_VALUE_MAX  (1024 * 1024)   /* etcd's default request limit is 1.5 MiB */
#define COORD_TXN_MAX    64              /* compares or operations per txn */

struct coord_kv {
	const char    *key;        /* borrowed: valid during the callback */
	const uint8_t *value;
	size_t         len;
	int64_t        create_rev;
	int64_t        mod_rev;
};

enum coord_event_type {
	COORD_EVENT_PUT,
	COORD_EVENT_DELETE,        /* kv.value is NULL */
};

struct coord_event {
	enum coord_event_type type;
	struct coord_kv       kv;
};

/* A compare: the key's mod revision must equal mod_rev (0: key absent). */
struct coord_cmp {
	const char *key;
	int64_t     mod_rev;
};

enum coord_op_type {
	COORD_OP_PUT,
	COORD_OP_DELETE,
};

struct coord_op {
	enum coord_op_type type;
	const char        *key;
	const void        *value;  /* PUT only */
	size_t             len;
	int64_t            lease;  /* PUT only: 0, or a lease from
	                            * lease_grant: the key goes with it */
};

/* rc 0: kvs[0..n) in key order, rev = the store revision they reflect. */
typedef void coord_range_fn(void *arg, int rc, const struct rs_err *err,
                            const struct coord_kv *kvs, size_t n,
                            int64_t rev);
/* rc 0: applied at revision rev; RS_ECONFLICT: a compare failed, nothing
 * applied; other: failure. */
typedef void coord_txn_fn(void *arg, int rc, const struct rs_err *err,
                          int64_t rev);
/* A batch of changes at revision rev, in order. */
typedef void coord_watch_fn(void *arg, const struct coord_event *evs,
                            size_t n, int64_t rev);
/* A watch could not resume where it was (its revision was compacted
 * away): kvs[0..n) is the whole prefix at rev and replaces everything the
 * watcher knew; events continue from rev + 1. */
typedef void coord_reset_fn(void *arg, const struct coord_kv *kvs, size_t n,
                            int64_t rev);
/* rc 0: the lease id and its TTL in seconds (as granted, or as left
 * after a keepalive); RS_ENOTFOUND: the lease expired or was revoked. */
typedef void coord_lease_fn(void *arg, int rc, const struct rs_err *err,
                            int64_t id, int64_t ttl);

/* Whether the backend can reach its store. */
enum coord_state {
	COORD_UP,                  /* the last request was answered */
	COORD_DOWN,                /* no endpoint answers; retrying */
};

struct coord_ops {
	/* Every key starting with prefix, at one revision. */
	int (*range)(struct coord *c, const char *prefix, coord_range_fn *cb,
	             void *arg, struct rs_err *err);
	/* The one key equal to key (n is 0 or 1). */
	int (*get)(struct coord *c, const char *key, coord_range_fn *cb,
	           void *arg, struct rs_err *err);
	int (*txn)(struct coord *c, const struct coord_cmp *cmps, size_t ncmp,
	           const struct coord_op *ops, size_t nops, coord_txn_fn *cb,
	           void *arg, struct rs_err *err);
	/* Delivers every change under prefix with revision > after_rev, for
	 * as long as the coord lives, resuming by itself across reconnects;
	 * reset (may be NULL: then the watcher cannot resync and the backend
	 * logs it) runs when the changes since after_rev are gone. */
	int (*watch)(struct coord *c, const char *prefix, int64_t after_rev,
	             coord_watch_fn *cb, coord_reset_fn *reset, void *arg,
	             struct rs_err *err);
	/* A lease of ttl seconds (etcd may grant a longer one). */
	int (*lease_grant)(struct coord *c, int64_t ttl, coord_lease_fn *cb,
	                   void *arg, struct rs_err *err);
	/* Renews a lease once; the caller renews well before the TTL. */
	int (*lease_keepalive)(struct coord *c, int64_t id, coord_lease_fn *cb,
	                       void *arg, struct rs_err *err);
	/* Ends a lease and deletes its keys; rev is 0 in the callback. */
	int (*lease_revoke)(struct coord *c, int64_t id, coord_txn_fn *cb,
	                    void *arg, struct rs_err *err);
	enum coord_state (*state)(const struct coord *c);
	void (*destroy)(struct coord *c);
};

struct coord {
	const struct coord_ops *ops;
};

static inline int RS_MUST_CHECK
coord_range(struct coord *c, const char *prefix, coord_range_fn *cb,
            void *arg, struct rs_err *err)
{
	return c->ops->range(c, prefix, cb, arg, err);
}

static inline int RS_MUST_CHECK
coord_get(struct coord *c, const char *key, coord_range_fn *cb, void *arg,
          struct rs_err *err)
{
	return c->ops->get(c, key, cb, arg, err);
}

static inline int RS_MUST_CHECK
coord_txn(struct coord *c, const struct coord_cmp *cmps, size_t ncmp,
          const struct coord_op *ops, size_t nops, coord_txn_fn *cb,
          void *arg, struct rs_err *err)
{
	return c->ops->txn(c, cmps, ncmp, ops, nops, cb, arg, err);
}

static inline int RS_MUST_CHECK
coord_watch(struct coord *c, const char *prefix, int64_t after_rev,
            coord_watch_fn *cb, coord_reset_fn *reset, void *arg,
            struct rs_err *err)
{
	return c->ops->watch(c, prefix, after_rev, cb, reset, arg, err);
}

static inline int RS_MUST_CHECK
coord_lease_grant(struct coord *c, int64_t ttl, coord_lease_fn *cb,
                  void *arg, struct rs_err *err)
{
	return c->ops->lease_grant(c, ttl, cb, arg, err);
}

static inline int RS_MUST_CHECK
coord_lease_keepalive(struct coord *c, int64_t id, coord_lease_fn *cb,
                      void *arg, struct rs_err *err)
{
	return c->ops->lease_keepalive(c, id, cb, arg, err);
}

static inline int RS_MUST_CHECK
coord_lease_revoke(struct coord *c, int64_t id, coord_txn_fn *cb, void *arg,
                   struct rs_err *err)
{
	return c->ops->lease_revoke(c, id, cb, arg, err);
}

static inline enum coord_state
coord_state(const struct coord *c)
{
	return c->ops->state(c);
}

/* Frees *pp (pending callbacks are dropped); NULL-safe. */
static inline void
coord_free(struct coord **pp)
{
	if (*pp != NULL)
		(*pp)->ops->destroy(*pp);
	*pp = NULL;
}

#endif
