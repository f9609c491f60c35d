/* repl.h: synchronous replication of the partitions a node holds
 * (PacificA / Kafka's in-sync replicas, ../shared/ARCHITECTURE.md).
 *
 * From the cluster's view each partition this node replicates gets its
 * store role (storage/store_repl.h): the primary at the record's epoch,
 * or a follower. A primary ships each of the partition's log entries to
 * its followers as soon as it is durable locally (pipelined, batched
 * when several wait), keeps recent entries in memory for a follower that
 * falls behind, and tells its store an entry is acknowledged once every
 * follower in the partition's in-sync set has it durably. A follower
 * that does not answer within replication.timeout is taken out of the
 * in-sync set by a CAS on the partition's record first; one that caught
 * up (from the log, or from a copy of the whole partition when the log
 * no longer reaches back) is put back the same way.
 *
 * A primary whose lease is not fresh (cluster_fresh: etcd unreachable,
 * or the process was frozen) acknowledges nothing of a partition that
 * has other replicas and refuses its writes, so that no write is
 * answered after another node may have been promoted. Loop thread. */
#ifndef ROOST_CLUSTER_REPL_H
#define ROOST_CLUSTER_REPL_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_exec.h"

struct repl;
struct rpc;
struct cluster;
struct store;

struct repl_opts {
	struct event_base *base;
	struct rpc        *rpc;
	struct cluster    *cluster;
	struct store      *store;
	struct rs_exec    *exec;        /* posts onto base */
	unsigned           timeout_ms;  /* replication.timeout; 0: 2000 */
	size_t             log_bytes;   /* entries kept for catch-up, all
	                                 * partitions together; 0: 64M */
	/* Runs work(arg) on another thread, then done(arg) on the loop:
	 * each chunk of a partition's copy is read there (a megabyte of
	 * RocksDB reads, blobs included, would hold the node's sessions).
	 * NULL: both run at once, on the loop. */
	void             (*offload)(void *ctx, rs_task_fn *work,
	                            rs_task_fn *done, void *arg);
	void              *offload_ctx;
};

/* Enables the store's roles (store_repl_enable), registers the RPC
 * handlers and follows the cluster's view from now on. */
struct repl *repl_new(const struct repl_opts *o);
/* Stops replicating (copies in progress end, nothing more is sent or
 * answered): before the store closes. */
void repl_stop(struct repl *r);
/* After the store closed and the loop ran what it posted. NULL-safe. */
void repl_free(struct repl **pp);

/* One follower of a partition this node leads, for status. */
struct repl_follower_stat {
	char     node[64];
	uint64_t lsn;                  /* what it has acknowledged */
	uint64_t behind;               /* entries */
	double   behind_s;             /* age of its oldest missing entry */
	bool     in_sync;
	const char *state;             /* "streaming", "copying", … */
};
/* The partition's position here and, when this node leads it, its
 * followers. Returns how many were written to out (at most max). */
size_t repl_part_status(struct repl *r, uint32_t part, uint64_t *lsn_r,
                        struct repl_follower_stat *out, size_t max);

#endif
