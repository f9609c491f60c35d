/* store_int.h: what the store's files share; nothing outside storage/
 * includes it. The writer thread and its queue (store.c), the txn and
 * the view that reads go through (store_raw.c), account and mailbox
 * records (store_acct.c) and blob references (store_blob.c). */
#ifndef ROOST_STORAGE_STORE_INT_H
#define ROOST_STORAGE_STORE_INT_H

#include <pthread.h>
#include <rocksdb/c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_err.h"
#include "lib/rs_exec.h"
#include "storage/store.h"
#include "storage/store_raw.h"
#include "storage/store_rec.h"

/* A body larger than this is refused with RS_ETOOBIG: the whole body
 * sits in the batch's memory until the commit. */
#define STORE_BODY_MAX ((size_t)1 << 30)

/* One queued write. Every write, built in or store_submit's, is an apply
 * function run inside the group's batch. */
struct store_op {
	store_apply_fn  *apply;
	void            *apply_arg;
	/* Frees apply_arg after the completion ran; NULL when the caller
	 * owns it (store_submit). */
	void           (*arg_free)(void *arg);
	struct rs_exec  *ex;
	store_done_fn   *cb;
	void            *cb_arg;
	size_t           cost;        /* octets counted against group bytes */
	int              rc;          /* result, set by the writer */
	struct store_op *next;
};

/* An account changed by the group, for the commit hook. */
struct store_touch {
	struct store_acct a;
	uint64_t          modseq;
	size_t            seq;         /* order of the touch in the group */
};

struct store_txn {
	struct store            *st;
	rocksdb_writebatch_wi_t *wb;           /* owns */
	struct store_touch      *touched;      /* owns */
	size_t                   ntouched, cap;
};

struct store {
	rocksdb_t                           *db;        /* owns */
	rocksdb_options_t                   *dbopts;    /* owns */
	rocksdb_block_based_table_options_t *tableopts; /* owns */
	rocksdb_cache_t                     *cache;     /* owns */
	rocksdb_readoptions_t               *ropts;     /* owns; shared */
	rocksdb_writeoptions_t              *wopts;     /* owns; writer */
	unsigned                             group_max_ops;
	size_t                               group_max_bytes;

	pthread_mutex_t                      mu;
	pthread_cond_t                       cv;
	struct store_op                     *head;      /* owns; FIFO */
	struct store_op                    **tail;
	bool                                 closing;
	store_commit_hook_fn                *hook;
	void                                *hook_arg;

	pthread_t                            writer;
	struct store_txn                     txn;       /* writer only */
};

/* Queues op (taking it) or returns -1 with RS_EUNAVAIL when closing, the
 * op untouched and still the caller's. */
int store__enqueue(struct store *st, struct store_op *op, struct rs_err *err)
	RS_MUST_CHECK;
/* Builds and queues an internal op whose arg is freed with arg_free
 * after the completion (or right away if queuing fails). */
int store__submit_owned(struct store *st, store_apply_fn *apply, void *arg,
                        void (*arg_free)(void *arg), size_t cost,
                        struct rs_exec *ex, store_done_fn *cb, void *cb_arg,
                        struct rs_err *err) RS_MUST_CHECK;

/* Sets err and returns code: reads return the RS_E* code itself, so a
 * caller without an rs_err can still tell RS_ENOTFOUND from RS_EIO. */
int store__fail(struct rs_err *err, int code, const char *fmt, ...)
	RS_PRINTF(3, 4);

/* ---- views: where a read looks ---- */

/* The writer's batch over the DB (t set), or the committed DB through ro
 * (a snapshot, or st->ropts when NULL). */
struct store_view {
	struct store                *st;
	struct store_txn            *t;
	const rocksdb_readoptions_t *ro;
};

static inline struct store_view
store__view_txn(struct store_txn *t)
{
	return (struct store_view){ t->st, t, NULL };
}

static inline struct store_view
store__view_db(struct store *st, const rocksdb_readoptions_t *ro)
{
	return (struct store_view){ st, NULL, ro };
}

/* 0 with *val_r (returns owned, free with free()) and *len_r; or
 * RS_ENOTFOUND / RS_EIO with err set. */
int store__get(const struct store_view *v, const uint8_t *key, size_t klen,
               uint8_t **val_r, size_t *len_r, struct rs_err *err)
	RS_MUST_CHECK;
void store__put(struct store_txn *t, const uint8_t *key, size_t klen,
                const void *val, size_t vlen);
void store__del(struct store_txn *t, const uint8_t *key, size_t klen);

/* ---- accounts and mailboxes (store_acct.c) ---- */

/* The mailboxes a new account gets, ids 1.. in this order. */
struct store_default_mbox {
	const char            *name;
	enum store_special_use use;
};
extern const struct store_default_mbox store__defaults[];
extern const size_t store__ndefaults;

/* Fills m with default mailbox i as a never-used account shows it:
 * uidvalidity 0 (assigned on first write), uidnext 1. */
void store__default_mbox(size_t i, struct store_mailbox *m);
/* The name the index uses: "INBOX" for NULL or any case of "INBOX". */
const char *store__index_name(const char *name);

/* 0, RS_ENOTFOUND (no state) or RS_EIO. */
int store__acct_load(const struct store_view *v, struct store_acct a,
                     struct store_rec_acct *r, struct rs_err *err)
	RS_MUST_CHECK;
void store__acct_save(struct store_txn *t, struct store_acct a,
                      const struct store_rec_acct *r);
/* Loads the state, creating the account with its default mailboxes if
 * it has none. 0 or RS_EIO. */
int store__acct_ensure(struct store_txn *t, struct store_acct a,
                       struct store_rec_acct *r, struct rs_err *err)
	RS_MUST_CHECK;
/* Mailbox id by name (store__index_name applied). 0, RS_ENOTFOUND, RS_EIO. */
int store__mbox_lookup(const struct store_view *v, struct store_acct a,
                       const char *name, uint32_t *id_r, struct rs_err *err)
	RS_MUST_CHECK;
/* 0, RS_ENOTFOUND or RS_EIO; m->id is set. */
int store__mbox_load(const struct store_view *v, struct store_acct a,
                     uint32_t id, struct store_mailbox *m, struct rs_err *err)
	RS_MUST_CHECK;
void store__mbox_save(struct store_txn *t, struct store_acct a,
                      const struct store_mailbox *m);
void store__change_put(struct store_txn *t, struct store_acct a,
                       uint64_t modseq, enum store_change_kind kind,
                       uint32_t mbox, uint32_t uid);

/* ---- blobs (store_blob.c) ---- */

/* Adds copies references to the blob hash of data in part, writing the
 * data only if the partition does not hold it yet. 0 or RS_EIO. */
int store__blob_ref(struct store_txn *t, uint32_t part,
                    const uint8_t hash[STORE_HASH_LEN], uint64_t copies,
                    const uint8_t *data, size_t len, struct rs_err *err)
	RS_MUST_CHECK;
/* Drops one reference; the last one deletes meta and chunks. A missing
 * blob is not an error: there is nothing left to free. 0 or RS_EIO. */
int store__blob_unref(struct store_txn *t, uint32_t part,
                      const uint8_t hash[STORE_HASH_LEN], struct rs_err *err)
	RS_MUST_CHECK;

/* RocksDB speaks char; keys and values here are octets. */
static inline const uint8_t *
store__iter_key(const rocksdb_iterator_t *it, size_t *len_r)
{
	return (const uint8_t *)rocksdb_iter_key(it, len_r);
}

static inline const uint8_t *
store__iter_val(const rocksdb_iterator_t *it, size_t *len_r)
{
	return (const uint8_t *)rocksdb_iter_value(it, len_r);
}

static inline uint64_t
store__sub_sat(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

#endif
