/* store.h: the information store API. Protocol code calls only this; it
 * never sees RocksDB. One store per node holds every partition the node
 * replicates; every key starts with the 4-byte partition number, so a
 * partition is one key range (storage/store_keys.h).
 *
 * Threads: reads are synchronous and may be called from any thread (they
 * may touch the disk on a block-cache miss) and see only durable state.
 * Writes are asynchronous: each is queued to the store's single writer
 * thread, which applies queued operations into one WriteBatch and writes
 * it; a sync thread then syncs the WAL for all groups written meanwhile
 * (group commit), makes them visible to reads and posts each operation's
 * completion through the rs_exec it was given. A completion with rc 0
 * means the change is on disk.
 *
 * An account's data is created on first use: a delivery or append to an
 * account without state creates it with the default mailboxes. Reads of an
 * account that has no state yet see an empty account.
 *
 * This header declares the core; the IMAP-facing operations are split
 * into storage/store_mailbox.h (mailbox management, the mailbox index,
 * QRESYNC reads) and storage/store_message.h (STORE, COPY/MOVE,
 * MULTIAPPEND), both included at the end: include this one. */
#ifndef ROOST_STORAGE_STORE_H
#define ROOST_STORAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_buf.h"
#include "lib/rs_err.h"
#include "lib/rs_exec.h"

struct store;

/* Partitions 0..STORE_PART_MAX; the value 0xffffffff is reserved for the
 * node-local range (coordination backend, node state). */
#define STORE_PART_MAX      0xfffffffeu
#define STORE_PART_LOCAL    0xffffffffu
#define STORE_HASH_LEN      32          /* SHA-256 of a blob */
#define STORE_MAILBOX_NAME_MAX 1024
#define STORE_KEYWORD_MAX   128         /* octets in one keyword */
#define STORE_KEYWORDS_MAX  64          /* keywords on one message */
#define STORE_META_MAX      (1024 * 1024) /* opaque parsed-message data */
/* Distinct keywords a client may bring into one mailbox (the set behind
 * FLAGS and PERMANENTFLAGS); COPY and MOVE may go past it, since they
 * create no keyword the account did not have. */
#define STORE_MAILBOX_KEYWORDS_MAX 256
/* Idempotency keys of deliveries (store_message.idem). */
#define STORE_IDEM_MAX      32
#define STORE_IDEM_DAYS     7
/* Change-log entries kept per account by default (store_opts). */
#define STORE_CHANGES_KEEP  100000

struct store_opts {
	const char *path;             /* RocksDB directory; created if missing */
	size_t      cache_bytes;      /* block cache; 0 = default (64 MB) */
	unsigned    group_max_ops;    /* ops per commit; 0 = default (512) */
	size_t      group_max_bytes;  /* bytes per commit; 0 = default (64 MB) */
	bool        sync;             /* fsync each commit; tests may disable */
	size_t      write_buffer_bytes; /* memtable size; 0 = default (64 MB) */
	/* Change-log retention: an account keeps at least its newest
	 * changes_keep entries; the writes that add entries trim older ones
	 * in steps (see store_account_info.changes_floor). 0 = default
	 * (STORE_CHANGES_KEEP). */
	uint64_t    changes_keep;
	/* Called on the sync thread before each WAL sync, after the groups
	 * it covers were written; NULL in production. Tests block in it to
	 * look at the store between a write and its sync. */
	void      (*before_sync)(void *arg);
	void       *before_sync_arg;
	/* Free-space reserve of the file system under path, in octets
	 * (store_health): while less is free, deliveries and appends fail
	 * with RS_ENOSPC before they are written, so that RocksDB keeps
	 * room to flush, compact and take the writes that free space.
	 * 0 = no reserve. */
	uint64_t    min_free;
	/* Test-only fault injection; NULL in production. Called on the
	 * store's threads before each write of a group, or the
	 * ingestion of a follower's copy (STORE_FAULT_WRITE)
	 * and each WAL sync (STORE_FAULT_SYNC): non-zero makes that step
	 * fail as if the disk had, without running it. */
	int       (*test_fault)(void *arg, int fault);
	/* Test-only: replaces statvfs; 0 with *free_r set, or -1. */
	int       (*test_free)(void *arg, uint64_t *free_r);
	void       *test_arg;     /* for test_fault and test_free */
};
#define STORE_FAULT_WRITE 1
#define STORE_FAULT_SYNC  2

/* Opens (creating if needed) and starts the writer and sync threads.
 * 0 or -1. */
int store_open(const struct store_opts *o, struct store **st_r,
               struct rs_err *err) RS_MUST_CHECK;
/* Stops accepting writes, lets every queued write complete (their
 * completions are posted as usual), joins the writer and closes the DB.
 * The caller must keep each rs_exec alive until its completions ran.
 * NULL-safe; sets *pp to NULL. */
void store_close(struct store **pp);

/* An account lives in one partition; its id is unique in the cluster. */
struct store_acct {
	uint32_t part;
	uint64_t id;
};

enum store_special_use {
	STORE_USE_NONE = 0,
	STORE_USE_INBOX,              /* not an RFC 6154 attribute: INBOX */
	STORE_USE_SENT,
	STORE_USE_DRAFTS,
	STORE_USE_TRASH,
	STORE_USE_JUNK,
	STORE_USE_ARCHIVE,
};

/* System flags, RFC 9051 2.3.2. \Recent does not exist in IMAP4rev2. */
enum store_flag {
	STORE_FLAG_SEEN = 1u << 0,
	STORE_FLAG_ANSWERED = 1u << 1,
	STORE_FLAG_FLAGGED = 1u << 2,
	STORE_FLAG_DELETED = 1u << 3,
	STORE_FLAG_DRAFT = 1u << 4,
};

struct store_account_info {
	uint64_t modseq;              /* highest modseq of the account */
	uint64_t bytes;               /* quota usage: sum of message sizes */
	uint64_t messages;
	uint32_t mailboxes;
	bool     exists;              /* false: no state yet (all zero) */
	/* The change log holds every entry with a modseq above this, in
	 * every mailbox; entries at or below it were trimmed. A QRESYNC or
	 * changes query from an older modseq is incomplete: the client has
	 * to resynchronise (RFC 7162 3.2.5.2 lets the server answer
	 * VANISHED (EARLIER) from the client's known UIDs instead). */
	uint64_t changes_floor;
};

/* A mailbox and its STATUS counters (RFC 9051 6.3.11, RFC 9208 4.2),
 * kept up to date by every write. */
struct store_mailbox {
	uint32_t id;                  /* stable within the account, never
	                               * reused; a rename keeps it */
	char     name[STORE_MAILBOX_NAME_MAX + 1]; /* UTF-8, '/' separates */
	enum store_special_use use;
	bool     subscribed;          /* its name is in the subscriptions */
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint32_t messages;
	uint32_t unseen;
	uint64_t bytes;               /* STATUS SIZE */
	uint64_t highestmodseq;
	uint32_t deleted;             /* messages flagged \Deleted */
	uint64_t deleted_bytes;       /* their octets (DELETED-STORAGE) */
	uint32_t nkeywords;           /* keywords ever used in it */
};

/* A message as stored. Strings and meta are borrowed from the iterator or
 * from the struct store_msg_buf they were read into. */
struct store_msg {
	uint32_t mailbox;
	uint32_t uid;
	uint64_t modseq;
	uint32_t flags;               /* enum store_flag bits */
	int64_t  internal_date;       /* seconds since the epoch */
	uint64_t size;                /* octets of the stored message */
	uint8_t  blob[STORE_HASH_LEN];
	const char *keywords[STORE_KEYWORDS_MAX];
	size_t   nkeywords;
	const uint8_t *meta;          /* opaque parse result, see store_message */
	size_t   meta_len;
};

/* Holds the storage behind one struct store_msg read by store_msg_get. */
struct store_msg_buf {
	char  *raw;                   /* owns */
	size_t len;
};
void store_msg_buf_free(struct store_msg_buf *b);

/* ---- reads (synchronous) ---- */

int store_account_get(struct store *st, struct store_acct a,
                      struct store_account_info *r, struct rs_err *err)
	RS_MUST_CHECK;

/* Mailboxes of an account in name order, into a returned owned array
 * (free with free()). A never-used account returns the default set as it
 * would be created, so clients see INBOX at once. */
int store_mailbox_list(struct store *st, struct store_acct a,
                       struct store_mailbox **list_r, size_t *n_r,
                       struct rs_err *err) RS_MUST_CHECK;
/* Finds a mailbox by exact name ("INBOX" is case-insensitive); RS_ENOTFOUND. */
int store_mailbox_find(struct store *st, struct store_acct a,
                       const char *name, struct store_mailbox *r,
                       struct rs_err *err) RS_MUST_CHECK;

/* One message by UID, its meta included; RS_ENOTFOUND if gone. *buf
 * must be freed with store_msg_buf_free (also after an error). */
int store_msg_get(struct store *st, struct store_acct a, uint32_t mailbox,
                  uint32_t uid, struct store_msg *m, struct store_msg_buf *buf,
                  struct rs_err *err) RS_MUST_CHECK;

/* The meta stored with the body of hash (what store_message.meta was
 * when the body first came with one) into meta, replacing its content;
 * empty if none. 0, RS_ETOOBIG (meta->max) or RS_EIO. */
int store_msg_meta(struct store *st, uint32_t part,
                   const uint8_t hash[STORE_HASH_LEN], struct rs_buf *meta,
                   struct rs_err *err) RS_MUST_CHECK;

/* Iterates a mailbox's messages in UID order starting at from_uid, reading
 * from a consistent snapshot; memory stays bounded whatever the count.
 * Without STORE_ITER_META, m->meta is NULL and the walk reads only the
 * small message records, with no allocation per message (what FETCH
 * FLAGS, SEARCH on flags and POP3 need); with it, each message costs
 * one more lookup. store_msg_iter_new is open(..., STORE_ITER_META). */
struct store_msg_iter;
enum store_iter_opt {
	STORE_ITER_META = 1u << 0,
};
struct store_msg_iter *store_msg_iter_open(struct store *st,
                                           struct store_acct a,
                                           uint32_t mailbox,
                                           uint32_t from_uid, unsigned opts);
struct store_msg_iter *store_msg_iter_new(struct store *st,
                                          struct store_acct a,
                                          uint32_t mailbox,
                                          uint32_t from_uid);
/* 1: *m filled (borrowed until the next call); 0: end; -1: err set. */
int store_msg_iter_next(struct store_msg_iter *it, struct store_msg *m,
                        struct rs_err *err) RS_MUST_CHECK;
void store_msg_iter_free(struct store_msg_iter **pp);

/* Reads up to len octets of a message body from offset. *got_r < len only
 * at the end. RS_ENOTFOUND if the blob is gone (expunged meanwhile). */
int store_blob_read(struct store *st, uint32_t part,
                    const uint8_t hash[STORE_HASH_LEN], uint64_t offset,
                    void *buf, size_t len, size_t *got_r, struct rs_err *err)
	RS_MUST_CHECK;

/* Change log: entries with modseq > since, oldest first, at most max.
 * Every modseq of an account has exactly one entry (until trimmed, see
 * store_account_info.changes_floor). store_mailbox_changes reads one
 * mailbox's entries without the others'. */
enum store_change_kind {
	STORE_CHANGE_APPEND = 1,
	STORE_CHANGE_EXPUNGE,
	STORE_CHANGE_FLAGS,
	STORE_CHANGE_MAILBOX,         /* created, renamed, deleted, or
	                               * its subscription changed */
};
struct store_change {
	uint64_t modseq;
	enum store_change_kind kind;
	uint32_t mailbox;
	uint32_t uid;                 /* 0 for STORE_CHANGE_MAILBOX */
};
int store_changes_since(struct store *st, struct store_acct a, uint64_t since,
                        struct store_change *out, size_t max, size_t *n_r,
                        struct rs_err *err) RS_MUST_CHECK;

/* ---- writes (asynchronous, group-committed) ----
 * Each returns 0 once queued, then cb(arg, rc) runs later through ex;
 * or returns -1 (err set: RS_EUNAVAIL when closing, RS_EINVAL for bad
 * arguments, RS_ETOOBIG) and never calls cb. */
typedef void store_done_fn(void *arg, int rc);

/* What is stored for one message. Borrowed until the completion runs.
 * The meta is the parse of the octets (MIME summary), so it is stored
 * once per partition with the body: a later message with the same octets
 * shares the first meta given for them. */
struct store_message {
	const uint8_t *data;          /* the complete message octets */
	size_t         len;
	int64_t        internal_date; /* seconds since the epoch */
	const uint8_t *meta;          /* opaque parse result (may be NULL) */
	size_t         meta_len;      /* <= STORE_META_MAX */
	/* An idempotency key (may be NULL): a recipient account that got
	 * a copy under the same key within STORE_IDEM_DAYS gets none again,
	 * and its rcpt reports the first copy (rc 0, same uid). What lets
	 * a sender retry a delivery whose outcome it did not learn. */
	const uint8_t *idem;
	size_t         idem_len;      /* <= STORE_IDEM_MAX */
};

/* RFC 9208 resources; 0 = unlimited. */
struct store_quota {
	uint64_t bytes;               /* STORAGE, in octets */
	uint64_t messages;            /* MESSAGE */
};

/* One copy of a delivery. Inputs, then results filled before cb runs. */
struct store_rcpt {
	struct store_acct acct;
	const char *mailbox;          /* NULL or "INBOX": the inbox */
	uint32_t    flags;            /* initial enum store_flag bits */
	const char *const *keywords;  /* initial keywords (may be NULL) */
	size_t      nkeywords;
	bool        enforce_quota;    /* refuse with RS_EQUOTA if over */
	uint64_t    quota;            /* bytes; 0 = unlimited */
	uint64_t    quota_messages;   /* messages; 0 = unlimited */
	/* results */
	int         rc;               /* 0, RS_EQUOTA, RS_ENOTFOUND (mailbox),
	                               * RS_ETOOBIG (UIDs used up) */
	uint32_t    mailbox_id;
	uint32_t    uidvalidity;
	uint32_t    uid;
};

/* Stores one message for n recipients in one atomic, synced batch. The
 * body is written once per partition, whatever the number of copies.
 * Duplicate accounts in rcpts get one copy each time they appear: the
 * caller dedupes. cb's rc is 0 when the batch committed (look at each
 * rcpt->rc), or an error when nothing was stored. Keywords must be IMAP
 * atoms (RS_EINVAL otherwise); they join the mailbox's keyword set even
 * past STORE_MAILBOX_KEYWORDS_MAX (a delivery is not refused for it).
 * IMAP APPEND of one message may use this (internal date, flags,
 * keywords, RS_ENOTFOUND for [TRYCREATE]) or store_append. */
int store_deliver(struct store *st, const struct store_message *msg,
                  struct store_rcpt *rcpts, size_t n, struct rs_exec *ex,
                  store_done_fn *cb, void *arg, struct rs_err *err)
	RS_MUST_CHECK;

/* Removes messages (missing UIDs are skipped) in one batch, freeing each
 * blob when its last reference goes. */
int store_expunge(struct store *st, struct store_acct a, uint32_t mailbox,
                  const uint32_t *uids, size_t n, struct rs_exec *ex,
                  store_done_fn *cb, void *arg, struct rs_err *err)
	RS_MUST_CHECK;

enum store_flag_op {
	STORE_FLAGS_SET,              /* replace */
	STORE_FLAGS_ADD,
	STORE_FLAGS_REMOVE,
};
/* Changes system flags on messages, leaving keywords alone (SET replaces
 * the system flags only); each changed message gets a new modseq. A thin
 * wrapper of store_flags_update. */
int store_set_flags(struct store *st, struct store_acct a, uint32_t mailbox,
                    const uint32_t *uids, size_t n, enum store_flag_op op,
                    uint32_t flags, struct rs_exec *ex, store_done_fn *cb,
                    void *arg, struct rs_err *err) RS_MUST_CHECK;

/* Creates the account's state (its default mailboxes, each with a real
 * UIDVALIDITY) if it has none yet; nothing when it has. A session calls
 * it before it shows mailboxes: a never-used account's defaults have no
 * UIDVALIDITY until they exist, and the first delivery would give them
 * one under a client that already selected INBOX. */
int store_account_ensure(struct store *st, struct store_acct a,
                         struct rs_exec *ex, store_done_fn *cb, void *arg,
                         struct rs_err *err) RS_MUST_CHECK;

/* Deletes every trace of an account: messages (dropping blob references),
 * mailboxes, change log, state. */
int store_account_delete(struct store *st, struct store_acct a,
                         struct rs_exec *ex, store_done_fn *cb, void *arg,
                         struct rs_err *err) RS_MUST_CHECK;

/* ---- notification hook ----
 * Called on the store's sync thread once a commit is durable and
 * visible to readers, once per account that changed, with the account's
 * new highest modseq. Must not block; the
 * node forwards it to its loop. Set before the first write. */
typedef void store_commit_hook_fn(void *arg, struct store_acct a,
                                  uint64_t modseq);
void store_set_commit_hook(struct store *st, store_commit_hook_fn *fn,
                           void *arg);

/* ---- commit statistics ----
 * Counters since the store opened, for status and monitoring. They are
 * totals (plus two maxima), so that whoever reads them twice derives
 * rates and averages for the interval in between. */
struct store_stats {
	uint64_t ops;           /* write operations completed */
	uint64_t ops_failed;    /* ... of which with an error */
	uint64_t queued;        /* waiting for the writer right now */
	uint64_t groups;        /* batches written (group commits) */
	uint64_t syncs;         /* WAL syncs, each for every group before */
	uint64_t sync_errors;
	uint64_t sync_us;       /* time spent in those syncs */
	uint64_t sync_us_max;
	uint64_t commit_us;     /* sum over ops: submitted to answered */
	uint64_t commit_us_max;
};
void store_stats_get(struct store *st, struct store_stats *out);

/* ---- health ----
 * The store stops before it lies. A failed WAL write or sync puts it in
 * STORE_STATE_FAILED for good: every write queued then or later
 * completes with RS_EIO and nothing is written or synced any more, and
 * readers keep the last state that was synced, so nothing written after
 * the last good sync is ever shown or acknowledged. Only closing and
 * opening the store again (a restart) leaves it. What RocksDB finds in
 * its WAL at that open may include groups written but never synced,
 * which were answered RS_EIO: never acknowledged, so not a lie, but a
 * client that retries them stores them twice unless the write carries
 * an idempotency key (store_message.idem, which SMTP sets).
 *
 * STORE_STATE_LOW_SPACE: the file system has less than min_free
 * available; deliveries and appends get RS_ENOSPC, every other write
 * goes on. Measured by the writer thread before each group and every
 * second while idle, so it ends by itself once space is back. */
enum store_state {
	STORE_STATE_OK = 0,
	STORE_STATE_LOW_SPACE,
	STORE_STATE_FAILED,
};
#define STORE_REASON_MAX 200
struct store_health {
	enum store_state state;
	char     reason[STORE_REASON_MAX]; /* "" when ok */
	int64_t  since;         /* wall clock, ms: when the state began */
	uint64_t free_bytes;    /* available at the last look; UINT64_MAX
	                         * if it could not be measured */
	uint64_t min_free;
};
/* Cheap (a lock, no system call): fit for the event loop. */
void store_health_get(struct store *st, struct store_health *h);
enum store_state store_health_state(struct store *st);
/* "ok", "low_space" or "failed". */
const char *store_state_name(enum store_state s);

#include "storage/store_mailbox.h"
#include "storage/store_message.h"
#include "storage/store_repl.h"

#endif
