/* store_repl_int.h: replication inside the store, shared by
 * store_repl.c (roles, capture, positions, acks, visibility),
 * store_repl_apply.c (follower apply, partition copy) and the writer and
 * syncer that call into them. See store_repl.h for the contract. */
#ifndef ROOST_STORAGE_STORE_REPL_INT_H
#define ROOST_STORAGE_STORE_REPL_INT_H

#include "storage/store_int.h"
#include "storage/store_repl.h"

/* Partitions a cluster may have (cluster/cluster_rec.h CLUSTER_PARTS_MAX). */
#define STORE_REPL_PARTS     4096u
/* P 'L' -> epoch(8) lsn(8): the partition's log position. */
#define STORE_KEYS_POS       'L'
#define STORE_POS_KEY_LEN    5
#define STORE_POS_VAL_LEN    16

/* A write an op must wait for: part's entry at lsn, written as primary
 * at epoch. */
struct store_rreq {
	uint32_t part;
	uint64_t lsn;
	int64_t  epoch;
};

/* The group's writes of one partition, captured for shipping (writer
 * thread). */
struct store_rcap {
	uint32_t              part;
	enum store_role       role;     /* as the group started it */
	int64_t               epoch;
	rocksdb_writebatch_t *wb;       /* owns: the group's writes of part */
	bool                  marked;   /* a save point for the running op */
};

/* A group's entry of one partition, written; shipped once synced. */
struct store_rentry {
	uint32_t         part;
	struct store_pos pos;
	uint8_t         *data;          /* owns */
	size_t           len;
};

/* What the writer's txn keeps for replication. */
struct store_rtxn {
	struct store_rcap *caps;        /* owns */
	size_t             ncaps, capcap;
	/* The running op: the partitions it wrote (for its store_rreq), and
	 * whether it wrote one it may not. */
	uint32_t           opparts[8];
	size_t             nopparts;
	bool               opmany;      /* more partitions than opparts */
	bool               forbidden;
	uint32_t           forbidden_part;
	/* A follower's apply op: the partition it may write. */
	bool               applying;
	uint32_t           apply_part;
	/* Copies of whole partitions being received (store_repl_import.c). */
	struct store_import *imports;   /* owns; a list */
};

/* An entry synced here and not yet acked by the followers. */
struct store_pend {
	uint64_t            lsn;
	struct store_snap  *before;    /* owns a reference: readers' view */
	struct store_touch *touched;   /* owns: hook calls held back */
	size_t              ntouched;
	struct store_pend  *next;
};

struct store_rpart {
	enum store_role    role;
	int64_t            epoch;
	bool               wait;
	bool               loaded;     /* lsn and last_epoch read */
	uint64_t           lsn;        /* the last entry written */
	int64_t            last_epoch; /* its epoch */
	uint64_t           acked;
	struct store_pend *pend;       /* owns, oldest first */
	struct store_pend **pend_tail;
	/* owns a reference, or NULL: what readers see of a partition this
	 * node led until its role went (fenced) while writes its followers
	 * may lack were durable here, until the node leads it again or
	 * another epoch begins (store__repl_pin). */
	struct store_snap *pinned;
};

/* Owned by struct store (st->repl); NULL on a standalone store. */
struct store_repl {
	pthread_mutex_t    mu;
	struct store_rpart parts[STORE_REPL_PARTS];
	store_ship_fn     *ship;
	void              *ship_arg;
	struct store_op   *held;       /* owns: answers waiting for acks */
};

/* ---- store_repl.c ---- */

/* Reads part's durable position into its state; called locked, once per
 * partition. 0 or -1 with err. */
int store__repl_load(struct store *st, uint32_t part, struct rs_err *err)
	RS_MUST_CHECK;

/* Writer: notes a put (val set) or delete (val NULL) of key; does
 * nothing on a standalone store. */
void store__repl_write(struct store_txn *t, const uint8_t *key, size_t klen,
                       const void *val, size_t vlen);
/* Writer: around each op. op_end with ok false takes the op's captured
 * writes back; it returns RS_EUNAVAIL (with err set) when the op wrote a
 * partition this node may not write, which the caller then rolls back. */
void store__repl_op_begin(struct store_txn *t);
int store__repl_op_end(struct store_txn *t, struct store_op *op, bool ok,
                       struct rs_err *err);
/* Writer: the group is applied: gives each captured partition its next
 * position (written into the batch), turns the ops' partitions into
 * store_rreqs and the captures into entries of c. */
void store__repl_group_end(struct store_txn *t, struct store_op *ops,
                           struct store_commit *c);
/* Writer: the group was not written: forget its captures. */
void store__repl_group_drop(struct store_txn *t);
void store__repl_txn_free(struct store_txn *t);

/* Syncer: c's group is durable: partitions that wait get the state
 * before it as their readers' view, and touches of those partitions are
 * held back with their entry. Before c->snap is published. */
void store__repl_synced(struct store *st, struct store_commit *c);
/* Syncer, after the group's state is published: hands each entry to the
 * ship hook (and frees its data). */
void store__repl_ship(struct store *st, struct store_commit *c);
/* Syncer: keeps op (and returns true) when it waits for acks: it is then
 * answered by store_repl_acked or a role change. An op whose entry was
 * neither acked nor is its partition's primary's any more (the role went
 * while the group was synced) gets RS_EUNAVAIL: its outcome is unknown. */
bool store__repl_hold_if_waiting(struct store *st, struct store_op *op);

/* Called locked: readers of part keep seeing sn (a reference is taken)
 * instead of writes answered "unknown" on losing the primary role, since
 * another primary may never have them: a client must not see a UID that
 * a failover gives to another message. No-op when already pinned. */
void store__repl_pin(struct store *st, struct store_rpart *rp,
                     struct store_snap *sn);

/* The snapshot readers of part see (one reference). */
struct store_snap *store__repl_snap_get(struct store *st, uint32_t part);

/* Encodes/decodes a position value. */
void store__pos_enc(uint8_t out[STORE_POS_VAL_LEN], struct store_pos p);
struct store_pos store__pos_dec(const uint8_t *v, size_t len);
size_t store__pos_key(uint8_t *k, uint32_t part);

void store__repl_free(struct store *st);

/* ---- store_repl_import.c: a partition's copy as an ingested SST ---- */
struct store_import;

/* Writer: starts part's copy (a previous one is forgotten): a new file
 * whose first record deletes the whole partition. 0 or -1 with err. */
int store__import_begin(struct store_txn *t, uint32_t part,
                        struct rs_err *err) RS_MUST_CHECK;
/* part's open copy, or NULL. */
struct store_import *store__import_get(struct store_txn *t, uint32_t part);
/* Adds a key of the copy; false if the file refused it (out of order,
 * a write error). */
bool store__import_put(struct store_import *im, const char *k, size_t klen,
                       const char *v, size_t vlen);
/* Forgets part's copy (a chunk was refused). */
void store__import_abort(struct store_txn *t, uint32_t part);
/* Finishes part's file and ingests it: the partition then holds the
 * copy and no position. 0, or -1 with err (the copy is forgotten). */
int store__import_end(struct store_txn *t, uint32_t part,
                      struct rs_err *err) RS_MUST_CHECK;
void store__import_free_all(struct store_rtxn *rt);
/* Removes copies' files a crash left behind. Before the first write. */
void store__import_sweep(struct store *st);

#endif
