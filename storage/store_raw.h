/* store_raw.h: custom write operations and raw key access, for modules
 * that keep their own records in the node-local range (the embedded
 * coordination backend, node state) and for the store's own operations.
 * Protocol code never includes this: it uses store.h.
 *
 * An apply function runs on the writer thread inside the current group's
 * batch. Reads through the txn see the batch's earlier writes (a
 * WriteBatchWithIndex). If apply returns -1, its writes are rolled back and
 * its completion gets err->code; other operations in the group commit. */
#ifndef ROOST_STORAGE_STORE_RAW_H
#define ROOST_STORAGE_STORE_RAW_H

#include <stddef.h>
#include <stdint.h>

#include "lib/rs_buf.h"
#include "lib/rs_err.h"
#include "storage/store.h"

struct store_txn;

/* 0: keep the writes; -1 (err set): roll them back. */
typedef int store_apply_fn(struct store_txn *t, void *arg,
                           struct rs_err *err);

/* Queues apply(t, apply_arg) for the next group; cb(cb_arg, rc) is posted
 * through ex after the commit (rc 0) or the rollback (rc < 0). Returns 0
 * once queued or -1 (RS_EUNAVAIL when closing) without calling cb. */
int store_submit(struct store *st, store_apply_fn *apply, void *apply_arg,
                 struct rs_exec *ex, store_done_fn *cb, void *cb_arg,
                 struct rs_err *err) RS_MUST_CHECK;

/* Inside apply: value into val (replacing its content); RS_ENOTFOUND. */
int store_txn_get(struct store_txn *t, const void *key, size_t klen,
                  struct rs_buf *val, struct rs_err *err) RS_MUST_CHECK;
void store_txn_put(struct store_txn *t, const void *key, size_t klen,
                   const void *val, size_t vlen);
void store_txn_del(struct store_txn *t, const void *key, size_t klen);
/* Records that account a changed at modseq, for the commit hook. */
void store_txn_touch(struct store_txn *t, struct store_acct a,
                     uint64_t modseq);

/* Committed reads, from any thread. */
int store_raw_get(struct store *st, const void *key, size_t klen,
                  struct rs_buf *val, struct rs_err *err) RS_MUST_CHECK;
/* Calls fn for each key starting with prefix, in key order; fn returns 0
 * to go on or non-zero to stop (that value is returned). The blocks read
 * do not go into the block cache: scans read a range once. */
typedef int store_scan_fn(void *arg, const uint8_t *key, size_t klen,
                          const uint8_t *val, size_t vlen);
int store_raw_scan(struct store *st, const void *prefix, size_t plen,
                   store_scan_fn *fn, void *arg, struct rs_err *err);

#endif
