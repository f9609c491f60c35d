/* coord.h: the coordination store, etcd's data model behind an ops table.
 * Keys are strings, values bytes; every change gets the store's next
 * revision; a transaction compares keys' mod revisions and then applies
 * puts and deletes atomically; a watch streams changes under a prefix.
 * Backends: coord_local.c (standalone: the node's own RocksDB) and, when
 * clustering lands, coord_etcd.c (etcd's v3 JSON gateway).
 *
 * All calls and callbacks happen on the owner's event-loop thread. A call
 * that fails synchronously returns -1 and never calls its callback. */
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

struct coord_ops {
	int (*range)(struct coord *c, const char *prefix, coord_range_fn *cb,
	             void *arg, struct rs_err *err);
	int (*txn)(struct coord *c, const struct coord_cmp *cmps, size_t ncmp,
	           const struct coord_op *ops, size_t nops, coord_txn_fn *cb,
	           void *arg, struct rs_err *err);
	/* Delivers every change under prefix with revision > after_rev, for
	 * as long as the coord lives. */
	int (*watch)(struct coord *c, const char *prefix, int64_t after_rev,
	             coord_watch_fn *cb, void *arg, struct rs_err *err);
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
coord_txn(struct coord *c, const struct coord_cmp *cmps, size_t ncmp,
          const struct coord_op *ops, size_t nops, coord_txn_fn *cb,
          void *arg, struct rs_err *err)
{
	return c->ops->txn(c, cmps, ncmp, ops, nops, cb, arg, err);
}

static inline int RS_MUST_CHECK
coord_watch(struct coord *c, const char *prefix, int64_t after_rev,
            coord_watch_fn *cb, void *arg, struct rs_err *err)
{
	return c->ops->watch(c, prefix, after_rev, cb, arg, err);
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
