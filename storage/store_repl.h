/* store_repl.h: the store's side of replication (cluster/repl*.c drives
 * it; ../shared/ARCHITECTURE.md, "The store under replication").
 *
 * Once store_repl_enable has been called (a cluster node), a partition is
 * written only where it has a role:
 *   - PRIMARY at epoch E: writes are accepted. Every group gives each
 *     partition it wrote the partition's next log position (LSN) and puts
 *     the position {E, lsn} into the same batch, so data and position
 *     commit together. Once the group is durable here, the partition's
 *     part of it (the batch bytes, position included) goes to the ship
 *     hook. With waiting on, the writes' answers and their visibility to
 *     readers wait until store_repl_acked says the in-sync followers have
 *     that LSN durably; readers of the partition meanwhile see the state
 *     before it (so a UID a client saw can never be lost in a failover).
 *   - FOLLOWER at epoch E: only store_repl_apply writes it, with batches
 *     of epoch E in LSN order.
 *   - NONE: every write is refused (RS_EUNAVAIL).
 * Standalone (never enabled) nothing of this applies: no roles, no
 * positions, answers once durable, as before.
 *
 * Roles and acks may be changed from any thread; the hooks run on the
 * store's sync thread and must not block. */
#ifndef ROOST_STORAGE_STORE_REPL_H
#define ROOST_STORAGE_STORE_REPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_err.h"
#include "lib/rs_exec.h"

struct store;

enum store_role {
	STORE_ROLE_NONE = 0,
	STORE_ROLE_PRIMARY,
	STORE_ROLE_FOLLOWER,
};

/* A partition's log position: its last entry's epoch and LSN (0, 0: it
 * has none). */
struct store_pos {
	int64_t  epoch;
	uint64_t lsn;
};

/* A group's entry for one partition, durable on this node: data[0..len)
 * is a RocksDB write batch (its own position key included), malloc'd
 * and the callee's to free (handed over, not copied: the copy was a
 * tenth of a primary's sync thread). Sync thread. */
typedef void store_ship_fn(void *arg, uint32_t part, struct store_pos pos,
                           uint8_t *data, size_t len);

/* Turns roles on. ship may be NULL (nothing is shipped). Before the
 * first write; once. */
void store_repl_enable(struct store *st, store_ship_fn *ship, void *arg);

/* Sets part's role. A primary with wait answers writes only after
 * store_repl_acked covers them; switching wait off (no follower is in
 * sync) releases every waiting write at once. Leaving the primary role
 * (or changing its epoch) fails the writes still waiting with
 * RS_EUNAVAIL: their outcome is unknown (they are durable here, and may
 * be on followers). 0, or -1 with err (RS_EIO: the position could not
 * be read). */
int store_repl_set_role(struct store *st, uint32_t part, enum store_role role,
                        int64_t epoch, bool wait, struct rs_err *err)
	RS_MUST_CHECK;
enum store_role store_repl_role(struct store *st, uint32_t part,
                                int64_t *epoch_r);

/* Every entry of part up to lsn is durable on each in-sync follower. */
void store_repl_acked(struct store *st, uint32_t part, uint64_t lsn);

/* The position durable on this node (what a follower reports, what a
 * new primary continues from). */
struct store_pos store_repl_position(struct store *st, uint32_t part);

/* Follower: applies an entry shipped by the primary of epoch (store_ship_
 * fn's bytes, written at pos.epoch <= epoch: a promoted primary ships
 * what it kept of its predecessors' entries too) as one write op:
 * refused with RS_EUNAVAIL unless part's role is FOLLOWER at epoch and
 * pos.epoch <= epoch, RS_ECONFLICT unless pos.lsn is the next LSN,
 * RS_EINVAL if a key of the batch lies outside part or the batch does not
 * parse. cb(arg, rc) once it is durable here. */
int store_repl_apply(struct store *st, uint32_t part, int64_t epoch,
                     struct store_pos pos, const uint8_t *data, size_t len,
                     struct rs_exec *ex, void (*cb)(void *arg, int rc),
                     void *arg, struct rs_err *err) RS_MUST_CHECK;

/* ---- a whole partition, for a replica that cannot catch up from the
 * log: the primary exports it from one snapshot, chunk by chunk; the
 * follower builds the copy aside and puts it in place at the end. ---- */

struct store_export;
/* A snapshot of part on the primary, and its position. Every key of the
 * partition but its position is exported. */
struct store_export *store_repl_export_open(struct store *st, uint32_t part,
                                            struct store_pos *pos_r);
/* The next keys (at least one, about max octets, in key order) as a
 * RocksDB write batch of puts into *data_r (owned, free()). 1: a chunk;
 * 0: the end; -1: err. */
int store_repl_export_next(struct store_export *x, size_t max,
                           uint8_t **data_r, size_t *len_r,
                           struct rs_err *err) RS_MUST_CHECK;
void store_repl_export_close(struct store_export **pp);

/* Follower: starts a copy of part (forgetting one begun before), as one
 * write op. Nothing of the partition changes on disk until
 * store_repl_import_end; its position here reads (0, 0) meanwhile. */
int store_repl_import_begin(struct store *st, uint32_t part,
                            struct rs_exec *ex,
                            void (*cb)(void *arg, int rc), void *arg,
                            struct rs_err *err) RS_MUST_CHECK;
/* Follower: adds one exported chunk to the copy: RS_ECONFLICT if none
 * was begun; RS_EINVAL (the copy is then forgotten) if the chunk does
 * not parse, strays out of part or does not follow the previous one. */
int store_repl_import(struct store *st, uint32_t part, const uint8_t *data,
                      size_t len, struct rs_exec *ex,
                      void (*cb)(void *arg, int rc), void *arg,
                      struct rs_err *err) RS_MUST_CHECK;
/* Follower: the copy is complete at pos (the export's): it replaces every
 * key part had, at once, the position is written, and entries after it
 * may be applied. A crash before this leaves the partition as it was; one
 * during it, with no position (so the copy is taken again). */
int store_repl_import_end(struct store *st, uint32_t part,
                          struct store_pos pos, struct rs_exec *ex,
                          void (*cb)(void *arg, int rc), void *arg,
                          struct rs_err *err) RS_MUST_CHECK;

/* ---- comparing replicas ---- */

struct store_digest {
	struct store_pos pos;           /* the position key's value */
	uint64_t         keys;
	uint8_t          sha256[32];
};
/* SHA-256 over every key and value of part (each preceded by both
 * lengths, 8 octets BE each, in key order), its position key included,
 * from one snapshot of the durable state. Any thread; it reads the whole
 * partition, so not on an event loop. 0, or -1 with err. */
int store_repl_digest(struct store *st, uint32_t part,
                      struct store_digest *d_r, struct rs_err *err)
	RS_MUST_CHECK;

#endif
