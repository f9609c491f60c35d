/* store_writer.c: the store's single writer thread. It takes groups of
 * queued operations, applies them into one WriteBatch and writes it
 * without waiting for the disk; store_commit.c syncs and answers. Here
 * too the two things that refuse writes: the failed state (nothing is
 * applied or written any more) and the free-space reserve (bodies are
 * refused before they are written, so RocksDB never runs out of disk). */
#include "storage/store_int.h"
#include "storage/store_repl_int.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"

/* A batch that grew past this is freed rather than cleared, so one big
 * delivery does not pin its size in the writer for ever. */
#define STORE_WB_KEEP           ((size_t)1 << 20)
/* How often an idle writer looks at the free space, so that low_space
 * ends by itself when nothing is written. */
#define STORE_SPACE_IDLE_S      1

/* Detaches the next group from the queue: at least one op, then more
 * while they fit group_max_ops and group_max_bytes. Called locked. */
static struct store_op *
store_take_group(struct store *st)
{
	struct store_op *first = st->head, *last = first, *op;
	unsigned n = 1;
	size_t bytes = first->cost;

	for (op = first->next; op != NULL; op = op->next) {
		if (n >= st->group_max_ops || op->cost > st->group_max_bytes ||
		    bytes > st->group_max_bytes - op->cost)
			break;
		bytes += op->cost;
		n++;
		last = op;
	}
	st->head = last->next;
	if (st->head == NULL)
		st->tail = &st->head;
	last->next = NULL;
	st->nqueued -= n;
	return first;
}

/* Runs one op inside the batch under its own save point, so a failing
 * op is rolled back alone. Returns false if the rollback itself failed
 * and the batch can no longer be trusted. */
static bool
store_apply_one(struct store_txn *t, struct store_op *op)
{
	size_t mark = t->ntouched;
	struct rs_err err;
	char *e = NULL;

	rs_err_clear(&err);
	rocksdb_writebatch_wi_set_save_point(t->wb);
	store__repl_op_begin(t);
	if (op->apply(t, op->apply_arg, &err) == 0 &&
	    store__idx_flush(t, &err) == 0 &&
	    store__repl_op_end(t, op, true, &err) == 0) {
		op->rc = 0;
		store__cache_op_done(t->cache, true);
		return true;
	}
	/* (A refusal by repl_op_end has already taken its captures back.) */
	(void)store__repl_op_end(t, op, false, NULL);
	store__idx_discard(t);
	store__cache_op_done(t->cache, false);
	op->rc = err.code < 0 ? err.code : RS_EIO;
	t->ntouched = mark;
	rocksdb_writebatch_wi_rollback_to_save_point(t->wb, &e);
	if (e != NULL) {
		rs_log(RS_LOG_ERR, "store.rollback_failed", "error=\"%s\"", e);
		free(e);
		return false;
	}
	return true;
}

/* Resets the batch for the next group, dropping it if it grew large. */
static void
store_reset_batch(struct store_txn *t)
{
	size_t size = 0;

	(void)rocksdb_writebatch_wi_data(t->wb, &size);
	if (size > STORE_WB_KEEP) {
		rocksdb_writebatch_wi_destroy(t->wb);
		t->wb = rocksdb_writebatch_wi_create(0, 1);
	} else {
		rocksdb_writebatch_wi_clear(t->wb);
	}
	t->ntouched = 0;
}

/* Writes the group's batch. A failure of any kind fails the store: the
 * WAL may hold part of the batch, and RocksDB's writer of it refuses
 * (or, built with assertions, aborts on) any later append or sync. */
static bool
store_write(struct store *st, struct store_txn *t, unsigned n)
{
	char *e = NULL;
	bool ok;

	pthread_mutex_lock(&st->wal_mu);
	if (store__failed(st))
		e = rs_xstrdup("the store failed before");
	else if (store__fault(st, STORE_FAULT_WRITE))
		e = rs_xstrdup("injected fault (test)");
	else
		rocksdb_write_writebatch_wi(st->db, st->wopts_group, t->wb, &e);
	if (e != NULL) {
		rs_log(RS_LOG_ERR, "store.write_failed", "batch=group ops=%u "
		       "error=\"%s\"", n, e);
		store__fail_stop(st, "write", e);
	}
	pthread_mutex_unlock(&st->wal_mu);
	ok = e == NULL;
	free(e);
	return ok;
}

/* Applies the ops of a group into the batch: none once the store failed
 * (RS_EIO), no body under the free-space reserve (RS_ENOSPC). Returns
 * false if the batch must not be written. */
static bool
store_apply_group(struct store *st, struct store_op *group, unsigned *n_r)
{
	struct store_txn *t = &st->txn;
	uint64_t budget = store__space_refresh(st);
	bool ok = !store__failed(st);
	struct store_op *op;
	unsigned n = 0;

	for (op = group; op != NULL; op = op->next, n++) {
		if (!ok)
			op->rc = RS_EIO;
		else if (op->grows && !store__space_take(st, &budget, op->cost))
			op->rc = RS_ENOSPC;
		else
			ok = store_apply_one(t, op);
	}
	*n_r = n;
	return ok;
}

/* Applies a group into one batch and writes it without waiting for the
 * disk, then hands it to the syncer with its state and the accounts it
 * changed: the sync, the hook and the completions happen there. */
static void
store_commit_group(struct store *st, struct store_op *group)
{
	struct store_txn *t = &st->txn;
	struct store_commit *c = rs_xcalloc(1, sizeof(*c));
	struct store_op *op;
	unsigned n;
	bool ok = store_apply_group(st, group, &n);

	/* Replicated partitions get their positions into the batch, and
	 * their parts of it become the group's entries (store_repl.c). */
	if (ok)
		store__repl_group_end(t, group, c);
	else
		store__repl_group_drop(t);
	if (ok && rocksdb_writebatch_wi_count(t->wb) > 0) {
		ok = store_write(st, t, n);
		if (ok) {
			/* The writer is the only writer: this is exactly the
			 * state after the group. */
			c->snap = store__snap_new(st);
			c->touched = t->touched;
			c->ntouched = t->ntouched;
			t->touched = NULL;
			t->cap = 0;
		}
	}
	for (op = group; op != NULL; op = op->next)
		if (!ok)
			op->rc = op->rc != 0 ? op->rc : RS_EIO;
	store__cache_group_done(t->cache, ok);
	store_reset_batch(t);
	c->ops = group;
	store__commit_queue(st, c);
}

/* Waits for work; every STORE_SPACE_IDLE_S without any, looks at the
 * free space. Called locked; returns locked. */
static void
store_writer_wait(struct store *st)
{
	while (st->head == NULL && !st->closing) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += STORE_SPACE_IDLE_S;
		if (pthread_cond_timedwait(&st->cv, &st->mu, &ts) != ETIMEDOUT ||
		    st->head != NULL || st->closing)
			continue;
		pthread_mutex_unlock(&st->mu);
		(void)store__space_refresh(st);
		pthread_mutex_lock(&st->mu);
	}
}

void *
store__writer_main(void *arg)
{
	struct store *st = arg;

	/* Named so that top -H and perf tell it from the loop. */
	pthread_setname_np(pthread_self(), "store-writer");
	for (;;) {
		struct store_op *group;

		pthread_mutex_lock(&st->mu);
		store_writer_wait(st);
		if (st->head == NULL) {
			/* Closing, and everything queued has committed. */
			pthread_mutex_unlock(&st->mu);
			break;
		}
		group = store_take_group(st);
		pthread_mutex_unlock(&st->mu);
		store_commit_group(st, group);
	}
	return NULL;
}
