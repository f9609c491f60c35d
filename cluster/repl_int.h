/* repl_int.h: shared by cluster/repl*.c: the roles and the log
 * (repl.c), the primary's followers (repl_primary.c), the follower's
 * handlers (repl_follower.c). */
#ifndef ROOST_CLUSTER_REPL_INT_H
#define ROOST_CLUSTER_REPL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/cluster.h"
#include "cluster/repl.h"
#include "cluster/rpc.h"
#include "storage/store.h"

#define REPL_INFLIGHT_MAX   32      /* Append calls out per follower */
#define REPL_BATCH_BYTES    ((size_t)1 << 20) /* entries per Append */
#define REPL_COPY_CHUNK     ((size_t)1 << 20)
#define REPL_TICK_MS        200

/* One log entry, kept by a primary for followers that lag, and by a
 * follower for the followers it may lead after a failover. */
struct repl_entry {
	uint64_t           lsn;
	int64_t            epoch;
	uint8_t           *data;        /* owns */
	size_t             len;
	uint64_t           at_ms;       /* rs_mono_ms when durable here */
	struct repl_entry *next;
	struct repl_entry *prev;
};

enum repl_fstate {
	REPL_F_PROBE,                   /* asking its position */
	REPL_F_COPY,                    /* sending the whole partition */
	REPL_F_STREAM,                  /* sending entries as they come */
	REPL_F_WAIT,                    /* failed; probing again later */
};

struct repl_part;

/* A follower of a partition this node leads. */
struct repl_fol {
	struct repl_part  *rp;          /* borrowed: its partition */
	char               id[CLUSTER_ID_MAX + 1];
	enum repl_fstate   state;
	uint64_t           matched;     /* durable there (acknowledged) */
	uint64_t           sent;        /* sent (acknowledged or in flight) */
	unsigned           inflight;
	uint64_t           gen;         /* bumps when its calls go stale */
	uint64_t           retry_at;    /* WAIT: rs_mono_ms to probe again */
	unsigned           backoff_ms;
	int64_t            lease;       /* its node's alive lease, last seen */
	bool               cas;         /* an in-sync change in flight */
	bool               failed;      /* its last call failed */
	bool               dirty;       /* has entries to send this round */
	struct store_export *export;    /* owns while COPY */
	struct store_pos   copy_pos;
};

/* A partition this node replicates. */
struct repl_part {
	struct repl       *r;
	uint32_t           id;
	enum store_role    role;        /* as set into the store */
	int64_t            epoch;
	bool               fenced;      /* primary with a stale lease */
	/* primary */
	uint64_t           lsn;         /* last entry durable here */
	int64_t            last_epoch;
	struct repl_entry *log;         /* owns, oldest first */
	struct repl_entry *log_tail;
	size_t             log_bytes;
	struct repl_fol   *fols;        /* owns */
	size_t             nfols;
	uint64_t           acked;       /* told to the store */
};

struct repl {
	struct repl_opts   o;
	struct repl_part  *parts;       /* owns [npartitions] */
	uint32_t           nparts;
	struct event      *tick;        /* owns */
	struct event      *flush;       /* owns: sends the round's appends */
	bool               fresh;       /* the lease, as last seen */
	bool               stopped;     /* repl_stop: nothing more */
	size_t             log_max;     /* bytes per partition's log */
};

/* ---- repl.c ---- */
/* Frees the partition's log. */
void repl__log_clear(struct repl_part *rp);
/* Appends e (taken) after the log's last entry; a log e does not follow
 * is dropped first. Trims the log to its size. */
void repl__log_append(struct repl_part *rp, struct repl_entry *e);
/* The log entry at lsn, or NULL (not kept). */
const struct repl_entry *repl__log_find(const struct repl_part *rp,
                                        uint64_t lsn);
/* The first entry kept, or NULL. */
const struct repl_entry *repl__log_first(const struct repl_part *rp);
/* Where a node serves: "host", peer port; 0 or RS_EUNAVAIL. */
int repl__addr(const struct repl *r, const char *id, const char **host_r,
               unsigned *port_r);

/* ---- repl_primary.c ---- */
/* The flush event: one append call per follower node for every
 * partition with entries to send. */
void repl__primary_flush(evutil_socket_t fd, short what, void *arg);
/* The partition became this node's to lead (rp->lsn set): followers from
 * the record, each probed. */
void repl__primary_start(struct repl_part *rp);
/* Leading ended: followers and the log go. */
void repl__primary_stop(struct repl_part *rp);
/* The record changed while leading: followers added or dropped. */
void repl__primary_sync_members(struct repl_part *rp);
/* A new entry is durable here: send it where it can go. */
void repl__primary_entry(struct repl_part *rp, const struct repl_entry *e);
/* Recomputes what the store may acknowledge, and tells it. */
void repl__primary_ack(struct repl_part *rp);
/* Asks the follower's position, then streams or copies. */
void repl__fol_probe(struct repl_fol *f);
/* Takes f out of the in-sync set when writes wait for it and it lags
 * past the timeout or its calls failed; puts it back once caught up. */
void repl__fol_check(struct repl_fol *f, uint64_t now);
/* Periodic work: timeouts, retries, in-sync changes. */
void repl__primary_tick(struct repl_part *rp, uint64_t now);

/* ---- repl_follower.c ---- */
void repl__follower_init(struct repl *r);

#endif
