/* store_int.h: what the store's files share; nothing outside storage/
 * includes it. The writer thread and its queue (store.c), the txn, the
 * view that reads go through and key-range walks (store_raw.c), account
 * and mailbox records (store_acct.c), the change log and its retention
 * (store_changes.c), message records and keyword sets (store_msg.c),
 * copies between mailboxes (store_copy.c) and blob references
 * (store_blob.c). */
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
#include "storage/store_health_int.h"
#include "storage/store_keys.h"
#include "storage/store_mailbox.h"
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
	bool             grows;       /* brings a body: refused under the
	                               * free-space reserve */
	uint64_t         t_submit;    /* rs_mono_us() when queued */
	int              rc;          /* result, set by the writer */
	/* Replication (store_repl_int.h): the partitions the op wrote,
	 * then the entries its answer waits for. */
	uint32_t        *rparts;      /* owns */
	size_t           nrparts;
	bool             rall;        /* wrote more: waits for every entry */
	struct store_rreq *reqs;      /* owns */
	size_t           nreqs;
	struct store_op *next;
};

struct store_rreq;
struct store_rtxn;
struct store_rentry;
struct store_repl;

/* An account changed by the group, for the commit hook. */
struct store_touch {
	struct store_acct a;
	uint64_t          modseq;
	size_t            seq;         /* order of the touch in the group */
};

/* UIDs per key of the mailbox index (store_idx.c). */
#define STORE_IDX_CHUNK 64u

/* One chunk of a mailbox index, decoded, while an operation changes it. */
struct store_idx_chunk {
	struct store_acct        a;
	uint32_t                 mbox;
	uint32_t                 chunk;       /* uid / STORE_IDX_CHUNK */
	uint32_t                 n;
	struct store_index_entry e[STORE_IDX_CHUNK]; /* ascending uid */
};

struct store_txn {
	struct store            *st;
	rocksdb_writebatch_wi_t *wb;           /* owns */
	struct store_touch      *touched;      /* owns */
	size_t                   ntouched, cap;
	/* The current operation's index chunks (store_idx.c). */
	struct store_idx_chunk  *idx;          /* owns */
	size_t                   nidx, idxcap;
	bool                     idx_failed;   /* a chunk was unreadable */
	struct store_cache      *cache;        /* owns (store_cache.c) */
	struct store_rtxn       *repl;         /* owns; NULL: standalone */
};

/* A state of the store that readers may see: one whose WAL is synced,
 * so nothing read from it can vanish in a crash (a UID seen by a client
 * is never handed out again). Shared by readers; freed with the last
 * reference. */
struct store_snap {
	const rocksdb_snapshot_t *snap;  /* owns */
	rocksdb_readoptions_t    *ro;    /* owns; reads at snap */
	unsigned                  refs;  /* under store.snap_mu */
};

/* A written group waiting for the WAL sync that makes it durable. */
struct store_commit {
	struct store_op     *ops;       /* owns, in queue order */
	struct store_snap   *snap;      /* owns a reference; NULL if the
	                                 * group wrote nothing */
	struct store_touch  *touched;   /* owns; accounts for the hook */
	size_t               ntouched;
	struct store_rentry *entries;   /* owns: replicated partitions' */
	size_t               nentries;
	struct store_commit *next;
};

struct store {
	rocksdb_t                           *db;        /* owns */
	rocksdb_options_t                   *dbopts;    /* owns */
	rocksdb_block_based_table_options_t *tableopts; /* owns */
	rocksdb_cache_t                     *cache;     /* owns */
	rocksdb_readoptions_t               *ropts;     /* owns; the writer's
	                                                 * reads (latest) */
	rocksdb_writeoptions_t              *wopts;     /* owns; sync as
	                                                 * configured */
	rocksdb_writeoptions_t              *wopts_group; /* owns; writer:
	                                                   * no sync */
	bool                                 sync;
	struct store_repl                   *repl;      /* owns; NULL:
	                                                 * standalone */
	unsigned                             group_max_ops;
	size_t                               group_max_bytes;
	uint64_t                             changes_keep;

	pthread_mutex_t                      mu;
	pthread_cond_t                       cv;
	struct store_op                     *head;      /* owns; FIFO */
	struct store_op                    **tail;
	bool                                 closing;
	store_commit_hook_fn                *hook;
	void                                *hook_arg;

	pthread_t                            writer;
	struct store_txn                     txn;       /* writer only */

	/* The syncer: syncs the WAL for the groups written meanwhile,
	 * then publishes their state and completes their ops. */
	pthread_mutex_t                      sync_mu;
	pthread_cond_t                       sync_cv;
	struct store_commit                 *sync_head; /* owns; FIFO */
	struct store_commit                **sync_tail;
	bool                                 sync_closing;
	/* store_opts.before_sync: a test's hold on the syncer. */
	void                               (*before_sync)(void *arg);
	void                                *before_sync_arg;
	pthread_t                            syncer;
	/* Held by the writer around each write and by the syncer around
	 * each sync, so that neither starts on a WAL that has seen an error
	 * (RocksDB asserts on it): the failed flag is checked under it. */
	pthread_mutex_t                      wal_mu;
	struct store_hstate                  health;

	pthread_mutex_t                      snap_mu;
	struct store_snap                   *snap;      /* owns a reference:
	                                                 * the durable state */

	/* store_stats_get's counters; queued is under mu, the rest under
	 * stats_mu. */
	uint64_t                             nqueued;
	pthread_mutex_t                      stats_mu;
	struct store_stats                   stats;
};

/* ---- the writer's record cache (store_cache.c) ---- */
struct store_cache;
#define STORE_CACHE_MISS 1
struct store_cache *store__cache_new(void);
void store__cache_free(struct store_cache **pp);
void store__cache_clear(struct store_cache *c);
/* 0 with *val_r (owned) and *len_r, RS_ENOTFOUND when the key is known
 * to be absent, or STORE_CACHE_MISS. */
int store__cache_get(struct store_cache *c, const uint8_t *key, size_t klen,
                     uint8_t **val_r, size_t *len_r);
/* Notes what a miss read from the batch and DB (val NULL: absent). */
void store__cache_fill(struct store_cache *c, const uint8_t *key,
                       size_t klen, const uint8_t *val, size_t vlen);
/* Notes a put (val set) or delete (val NULL) of the running op. */
void store__cache_write(struct store_cache *c, const uint8_t *key,
                        size_t klen, const void *val, size_t vlen);
/* Ends an op: keeps its writes, or (ok false) takes them back. */
void store__cache_op_done(struct store_cache *c, bool ok);
/* Ends a group; one that failed to write empties the cache. */
void store__cache_group_done(struct store_cache *c, bool ok);

/* The syncer thread (store_commit.c): started after the store is open,
 * stopped after the writer, which hands it every written group. */
int store__syncer_start(struct store *st, struct rs_err *err) RS_MUST_CHECK;
void store__syncer_stop(struct store *st);
void store__commit_queue(struct store *st, struct store_commit *c);
/* A snapshot of the current state, one reference. */
struct store_snap *store__snap_new(struct store *st);
/* The durable state for a read, held until store__snap_put. Never
 * NULL. Any thread. */
struct store_snap *store__snap_get(struct store *st);
/* The state readers of part may see: the durable one, or on a primary
 * that waits for its followers, the last one they all hold
 * (store_repl.h). store__snap_get_key reads the partition off a key or
 * prefix (the node-local range: the durable state). */
struct store_snap *store__snap_get_part(struct store *st, uint32_t part);
struct store_snap *store__snap_get_key(struct store *st, const void *key,
                                       size_t klen);
/* One more reference to s. */
struct store_snap *store__snap_ref(struct store *st, struct store_snap *s);
void store__snap_put(struct store *st, struct store_snap *s);
/* Calls the commit hook for touched accounts (store_commit.c). */
void store__run_hook(struct store *st, struct store_touch *touched,
                     size_t n);
/* Counts op and posts its completion (store_commit.c). */
void store__op_complete(struct store *st, struct store_op *op);

/* Queues op (taking it) or returns -1 with RS_EUNAVAIL when closing, the
 * op untouched and still the caller's. */
int store__enqueue(struct store *st, struct store_op *op, struct rs_err *err)
	RS_MUST_CHECK;
/* Builds and queues an internal op whose arg is freed with arg_free
 * after the completion (or right away if queuing fails). With grows (a
 * delivery or append: cost is its body) the writer refuses it with
 * RS_ENOSPC under the free-space reserve. */
int store__submit_owned(struct store *st, store_apply_fn *apply, void *arg,
                        void (*arg_free)(void *arg), size_t cost,
                        struct rs_exec *ex, store_done_fn *cb, void *cb_arg,
                        struct rs_err *err) RS_MUST_CHECK;
int store__submit_grow(struct store *st, store_apply_fn *apply, void *arg,
                       void (*arg_free)(void *arg), size_t cost,
                       struct rs_exec *ex, store_done_fn *cb, void *cb_arg,
                       struct rs_err *err) RS_MUST_CHECK;
/* The writer thread (store_writer.c). */
void *store__writer_main(void *arg);

/* Sets err and returns code: reads return the RS_E* code itself, so a
 * caller without an rs_err can still tell RS_ENOTFOUND from RS_EIO. */
int store__fail(struct rs_err *err, int code, const char *fmt, ...)
	RS_PRINTF(3, 4);

/* ---- views: where a read looks ---- */

/* The writer's batch over the DB (t set), or the committed DB through ro
 * (a snapshot; when NULL, the durable state of each read). */
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
/* 1 if key exists (through the view), 0 if not, or RS_EIO. */
int store__exists(const struct store_view *v, const uint8_t *key,
                  size_t klen, struct rs_err *err) RS_MUST_CHECK;

/* An iterator over [prefix, prefix_end) of the committed DB, at snap (or,
 * when NULL, at the durable state, held until store__range_close). The bound lives in the struct because
 * RocksDB keeps a pointer to it. */
struct store_range {
	struct store          *st;
	struct store_snap     *hold;  /* owns a reference, when opened
	                               * without a snapshot */
	rocksdb_readoptions_t *ro;    /* owns */
	rocksdb_iterator_t    *it;    /* owns */
	uint8_t                end[STORE_KEYS_MAX_RANGE];
	size_t                 plen;
};
/* prefix holds a tag letter after the partition (never all 0xff) and is
 * at most STORE_KEYS_MAX_RANGE octets; the iterator starts at seek. */
void store__range_open(struct store *st, struct store_range *r,
                       const uint8_t *prefix, size_t plen,
                       const uint8_t *seek, size_t slen,
                       const rocksdb_snapshot_t *snap);
void store__range_close(struct store_range *r);
/* 0 at the end of the range, or RS_EIO if the iterator failed. */
int store__range_status(struct store_range *r, struct rs_err *err)
	RS_MUST_CHECK;

/* Visits the keys starting with prefix from key from on, in key order,
 * through the writer's batch (so an earlier op of the group is seen).
 * Keys are read STORE_WALK_STEP at a time before fn sees them, so fn may
 * write to the batch, and memory stays bounded. fn returns 0 to go on, 1
 * to stop, or -1 (err set) to fail; store__walk returns 0 or -1. */
typedef int store__walk_fn(struct store_txn *t, void *arg,
                           const uint8_t *key, size_t klen,
                           const uint8_t *val, size_t vlen,
                           struct rs_err *err);
int store__walk(struct store_txn *t, const uint8_t *prefix, size_t plen,
                const uint8_t *from, size_t flen, store__walk_fn *fn,
                void *arg, struct rs_err *err) RS_MUST_CHECK;

/* ---- idempotency keys of deliveries (store_idem.c) ---- */

/* Days since the epoch, the unit of the keys' lifetime. */
uint32_t store__idem_today(void);
/* 1 with r's results filled when a in the last STORE_IDEM_DAYS got a
 * copy under idem (the key is then written again, unchanged: the answer
 * waits for the followers like a write's); 0 if not; -1 with err. */
int store__idem_find(struct store_txn *t, struct store_acct a,
                     const uint8_t *idem, size_t len, uint32_t today,
                     struct store_rcpt *r, struct rs_err *err) RS_MUST_CHECK;
/* Records that r's copy was stored under idem today. */
void store__idem_put(struct store_txn *t, struct store_acct a,
                     const uint8_t *idem, size_t len, uint32_t today,
                     const struct store_rcpt *r);
/* Deletes a's keys older than the window, once a day (acct->idem_day,
 * which the caller saves). 0 or -1. */
int store__idem_trim(struct store_txn *t, struct store_acct a,
                     struct store_rec_acct *acct, uint32_t today,
                     struct rs_err *err) RS_MUST_CHECK;

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
/* The name index: name (already store__index_name'd) -> id. */
void store__name_put(struct store_txn *t, struct store_acct a,
                     const char *name, uint32_t id);
void store__name_del(struct store_txn *t, struct store_acct a,
                     const char *name);
/* The partition's next UIDVALIDITY, recorded in the batch. 0 or RS_EIO. */
int store__next_uidvalidity(struct store_txn *t, uint32_t part,
                            uint32_t *uidv_r, struct rs_err *err)
	RS_MUST_CHECK;
/* 0 if name is a mailbox name the store takes (1..NAME_MAX octets of
 * well-formed UTF-8), else -1 with RS_EINVAL. */
int store__name_check(const char *name, struct rs_err *err) RS_MUST_CHECK;

/* ---- mailbox operations (store_mailbox.c, store_rename.c) ---- */

/* 1 if name is in the subscriptions (through the batch), 0, or RS_EIO. */
int store__subscribed(struct store_txn *t, struct store_acct a,
                      const char *name, struct rs_err *err) RS_MUST_CHECK;
/* Creates mailbox name (checked, index-named, known not to exist) in
 * acct: the next id, a new UIDVALIDITY, a STORE_CHANGE_MAILBOX entry;
 * record and name index written, acct counted (the caller ends it with
 * store__acct_done). 0, RS_ETOOBIG (ids used up) or -1. */
int store__mbox_new(struct store_txn *t, struct store_acct a,
                    struct store_rec_acct *acct, const char *name,
                    enum store_special_use use, struct store_mailbox *mb,
                    struct rs_err *err) RS_MUST_CHECK;

/* ---- \Recent marks (store_recent.c) ---- */

/* Deletes mailbox's mark (the mailbox is being deleted). 0. */
int store__recent_drop(struct store_txn *t, struct store_acct a,
                       uint32_t mailbox) RS_MUST_CHECK;

/* ---- the change log (store_changes.c) ---- */

/* Gives the account its next modseq and logs kind for (mbox, uid) under
 * it, in the account log and, when mbox is not 0, in the mailbox's
 * index. Every modseq gets exactly one entry: trimming relies on it.
 * Returns the modseq. */
uint64_t store__change_add(struct store_txn *t, struct store_acct a,
                           struct store_rec_acct *acct,
                           enum store_change_kind kind, uint32_t mbox,
                           uint32_t uid);
/* The same, in the account log only (a deleted mailbox has no index). */
uint64_t store__change_add_acct(struct store_txn *t, struct store_acct a,
                                struct store_rec_acct *acct,
                                enum store_change_kind kind, uint32_t mbox);
/* Ends an operation's changes to an account: trims the change log when
 * it is due, saves the state and touches the account for the hook.
 * 0 or -1. */
int store__acct_done(struct store_txn *t, struct store_acct a,
                     struct store_rec_acct *acct, struct rs_err *err)
	RS_MUST_CHECK;

/* ---- messages and keyword sets (store_msg.c) ---- */

/* A sorted copy of uids without duplicates (returns owned; never NULL,
 * even for n 0), its length in *n_r. */
uint32_t *store__uids_sorted(const uint32_t *uids, size_t n, size_t *n_r);

/* Counts a message of flags and size into (dir 1) or out of (dir -1)
 * mb's counters. */
void store__mbox_count(struct store_mailbox *mb, uint32_t flags,
                       uint64_t size, int dir);
/* Moves a message of size from flags old to nf in mb's counters. */
void store__mbox_reflag(struct store_mailbox *mb, uint32_t old, uint32_t nf,
                        uint64_t size);
/* ---- the mailbox index (store_idx.c) ---- */

/* Records m's (uid, flags, modseq) in its mailbox's index; store__msg_put
 * calls it, so every record write is indexed. */
void store__idx_set(struct store_txn *t, struct store_acct a,
                    const struct store_msg *m);
/* Removes uid from mbox's index (the record is being deleted). */
void store__idx_del(struct store_txn *t, struct store_acct a, uint32_t mbox,
                    uint32_t uid);
/* After an operation succeeded: writes the chunks it changed into the
 * batch. 0, or -1 (RS_EIO) when a chunk could not be read: the
 * operation must then be rolled back. */
int store__idx_flush(struct store_txn *t, struct rs_err *err)
	RS_MUST_CHECK;
/* After an operation failed: forgets its chunks. */
void store__idx_discard(struct store_txn *t);
/* Decodes one chunk's value (key chunk number chunk) into e (room for
 * STORE_IDX_CHUNK). 0 or -1 if damaged. */
int store__idx_val_dec(const uint8_t *val, size_t vlen, uint32_t chunk,
                       struct store_index_entry *e, size_t *n_r)
	RS_MUST_CHECK;
/* The node-local key whose presence says every message is indexed. */
#define STORE_IDX_MARKER_LEN 13
extern const uint8_t store__idx_marker[STORE_IDX_MARKER_LEN];
/* At open, before the writer runs: builds the index from the message
 * records if this store was written before the index existed. */
int store__idx_upgrade(struct store *st, struct rs_err *err) RS_MUST_CHECK;

/* Writes m's record under (m->mailbox, m->uid) and indexes it. */
void store__msg_put(struct store_txn *t, struct store_acct a,
                    const struct store_msg *m);
/* Reads a message record: 0 with *val_r (returns owned) and m decoded
 * from it (keywords borrowed from *val_r), RS_ENOTFOUND, or RS_EIO. */
int store__msg_load(const struct store_view *v, struct store_acct a,
                    uint32_t mbox, uint32_t uid, struct store_msg *m,
                    uint8_t **val_r, struct rs_err *err) RS_MUST_CHECK;
/* Adds m to mailbox mb: assigns m->mailbox, m->uid and m->modseq, writes
 * the record, logs STORE_CHANGE_APPEND and counts it in mb and acct (the
 * caller saves both). Keywords join mb's set (never refused here: see
 * store__kwset_add). The blob reference is the caller's. 0, RS_ETOOBIG
 * (UIDs used up; nothing written) or -1. */
int store__msg_add(struct store_txn *t, struct store_acct a,
                   struct store_rec_acct *acct, struct store_mailbox *mb,
                   struct store_msg *m, struct rs_err *err) RS_MUST_CHECK;
/* Adds keywords to mb's set (mb->nkeywords counts; the caller saves mb).
 * With cap, RS_ETOOBIG (nothing written) if the set would pass
 * STORE_MAILBOX_KEYWORDS_MAX. 0, RS_ETOOBIG or -1. */
int store__kwset_add(struct store_txn *t, struct store_acct a,
                     struct store_mailbox *mb, const char *const *kws,
                     size_t n, bool cap, struct rs_err *err) RS_MUST_CHECK;

/* ---- copies between mailboxes (store_copy.c) ---- */

/* One COPY or MOVE in progress inside an apply function. */
struct store_xfer {
	struct store_acct      a;
	struct store_rec_acct *acct;  /* borrowed; saved by the caller */
	struct store_mailbox  *src;   /* borrowed; saved by the caller */
	struct store_mailbox  *dst;   /* borrowed; saved by the caller */
	bool                   move;
	uint64_t               bytes; /* octets added to the account */
	uint32_t              *src_uids; /* owns; NULL: not recorded */
	uint32_t              *dst_uids; /* owns; NULL: not recorded */
	size_t                 n, cap;
};
/* Copies (or moves) the source message m (decoded, m->uid set) into
 * x->dst. 0, RS_ETOOBIG (UIDs used up) or -1. */
int store__xfer_one(struct store_txn *t, struct store_xfer *x,
                    const struct store_msg *m, struct rs_err *err)
	RS_MUST_CHECK;

/* ---- blobs (store_blob.c) ---- */

/* SHA-256 of a body: run on the writer thread (a 50 MB body would stall
 * an event loop). 0 or -1. */
int store__blob_hash(const uint8_t *data, size_t len,
                     uint8_t hash[STORE_HASH_LEN], struct rs_err *err)
	RS_MUST_CHECK;

/* Adds copies references to the blob hash of data in part, writing the
 * data only if the partition does not hold it yet (then *created_r is
 * true). 0 or RS_EIO. */
int store__blob_ref(struct store_txn *t, uint32_t part,
                    const uint8_t hash[STORE_HASH_LEN], uint64_t copies,
                    const uint8_t *data, size_t len, bool *created_r,
                    struct rs_err *err) RS_MUST_CHECK;
/* One more reference to a blob that exists (a copy of a message).
 * 0 or RS_EIO (also when the blob is missing: a damaged store). */
int store__blob_addref(struct store_txn *t, uint32_t part,
                       const uint8_t hash[STORE_HASH_LEN], struct rs_err *err)
	RS_MUST_CHECK;
/* Drops one reference; the last one deletes meta, parsed meta and
 * chunks. A missing blob is not an error: there is nothing left to free.
 * 0 or RS_EIO. */
int store__blob_unref(struct store_txn *t, uint32_t part,
                      const uint8_t hash[STORE_HASH_LEN], struct rs_err *err)
	RS_MUST_CHECK;
/* Stores meta as the parsed meta of blob hash unless it has one. Called
 * after store__blob_ref, with what it said in created (a blob it just
 * created has no meta: no lookup needed). 0 or RS_EIO. */
int store__blob_meta_put(struct store_txn *t, uint32_t part,
                         const uint8_t hash[STORE_HASH_LEN],
                         const uint8_t *meta, size_t len, bool created,
                         struct rs_err *err) RS_MUST_CHECK;

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
