/* store_commit.c: the second half of a group commit. The writer writes
 * each group without waiting for the disk and hands it here; the syncer
 * thread syncs the WAL once for every group written meanwhile (while the
 * writer applies the next ones), then publishes the state as the one
 * readers see, runs the commit hook and posts the completions, in queue
 * order. Readers only ever see synced state (store__snap_get): a message
 * shown to a client survives a crash, and its UID is never reused. It
 * also keeps the commit counters of store_stats_get. */
#include "storage/store_int.h"
#include "storage/store_repl_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "lib/rs_time.h"

struct store_snap *
store__snap_new(struct store *st)
{
	struct store_snap *s = rs_xcalloc(1, sizeof(*s));

	s->snap = rocksdb_create_snapshot(st->db);
	s->ro = rocksdb_readoptions_create();
	rocksdb_readoptions_set_snapshot(s->ro, s->snap);
	s->refs = 1;
	return s;
}

struct store_snap *
store__snap_get(struct store *st)
{
	struct store_snap *s;

	pthread_mutex_lock(&st->snap_mu);
	s = st->snap;
	s->refs++;
	pthread_mutex_unlock(&st->snap_mu);
	return s;
}

struct store_snap *
store__snap_ref(struct store *st, struct store_snap *s)
{
	pthread_mutex_lock(&st->snap_mu);
	s->refs++;
	pthread_mutex_unlock(&st->snap_mu);
	return s;
}

struct store_snap *
store__snap_get_part(struct store *st, uint32_t part)
{
	if (st->repl == NULL || part > STORE_PART_MAX)
		return store__snap_get(st);
	return store__repl_snap_get(st, part);
}

struct store_snap *
store__snap_get_key(struct store *st, const void *key, size_t klen)
{
	if (st->repl == NULL || klen < 4)
		return store__snap_get(st);
	return store__snap_get_part(st, store_keys_get32(key));
}

void
store__snap_put(struct store *st, struct store_snap *s)
{
	bool last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&st->snap_mu);
	last = --s->refs == 0;
	pthread_mutex_unlock(&st->snap_mu);
	if (!last)
		return;
	rocksdb_readoptions_destroy(s->ro);
	rocksdb_release_snapshot(st->db, s->snap);
	free(s);
}

/* Makes s (taking the caller's reference) the state readers get. */
static void
store_snap_publish(struct store *st, struct store_snap *s)
{
	struct store_snap *old;

	pthread_mutex_lock(&st->snap_mu);
	old = st->snap;
	st->snap = s;
	pthread_mutex_unlock(&st->snap_mu);
	store__snap_put(st, old);
}

static int
store_touch_cmp(const void *x, const void *y)
{
	const struct store_touch *a = x, *b = y;

	if (a->a.part != b->a.part)
		return a->a.part < b->a.part ? -1 : 1;
	if (a->a.id != b->a.id)
		return a->a.id < b->a.id ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Calls the hook once per changed account with its last modseq of the
 * group (the last touch wins: a delete after a delivery reports 0). */
void
store__run_hook(struct store *st, struct store_touch *touched, size_t n)
{
	store_commit_hook_fn *hook;
	void *arg;

	pthread_mutex_lock(&st->mu);
	hook = st->hook;
	arg = st->hook_arg;
	pthread_mutex_unlock(&st->mu);
	if (hook == NULL || n == 0)
		return;
	qsort(touched, n, sizeof(*touched), store_touch_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct store_touch *x = &touched[i];

		if (i + 1 < n && x->a.part == x[1].a.part &&
		    x->a.id == x[1].a.id)
			continue;
		hook(arg, x->a, x->modseq);
	}
}

static void
store_op_done(void *arg)
{
	struct store_op *op = arg;

	op->cb(op->cb_arg, op->rc);
	if (op->arg_free != NULL)
		op->arg_free(op->apply_arg);
	free(op->rparts);
	free(op->reqs);
	free(op);
}

/* Counts op, about to be answered at now, into d. Before the answer is
 * posted: after that, op belongs to the caller's thread. */
static void
store_stats_op(struct store_stats *d, const struct store_op *op,
               uint64_t now)
{
	uint64_t us = now > op->t_submit ? now - op->t_submit : 0;

	d->ops++;
	if (op->rc != 0)
		d->ops_failed++;
	d->commit_us += us;
	if (us > d->commit_us_max)
		d->commit_us_max = us;
}

/* Adds what one thread counted (d) to the store's totals. */
static void
store_stats_add(struct store *st, const struct store_stats *d)
{
	struct store_stats *s = &st->stats;

	pthread_mutex_lock(&st->stats_mu);
	s->ops += d->ops;
	s->ops_failed += d->ops_failed;
	s->groups += d->groups;
	s->syncs += d->syncs;
	s->sync_errors += d->sync_errors;
	s->sync_us += d->sync_us;
	if (d->sync_us_max > s->sync_us_max)
		s->sync_us_max = d->sync_us_max;
	s->commit_us += d->commit_us;
	if (d->commit_us_max > s->commit_us_max)
		s->commit_us_max = d->commit_us_max;
	pthread_mutex_unlock(&st->stats_mu);
}

void
store_stats_get(struct store *st, struct store_stats *out)
{
	pthread_mutex_lock(&st->stats_mu);
	*out = st->stats;
	pthread_mutex_unlock(&st->stats_mu);
	pthread_mutex_lock(&st->mu);
	out->queued = st->nqueued;
	pthread_mutex_unlock(&st->mu);
}

/* Completes the commits of list in order. When the sync failed, their
 * state is never published and every op that had succeeded gets EIO. */
static void
store_commit_finish(struct store *st, struct store_commit *list, bool synced)
{
	struct store_commit *c, *cnext;
	struct store_op *op, *next;
	uint64_t now = rs_mono_us();

	for (c = list; c != NULL; c = cnext) {
		struct store_stats d = { .groups = 1 };
		struct store_op *now_ops = NULL, **tail = &now_ops;

		cnext = c->next;
		if (synced && c->snap != NULL) {
			/* Replicated partitions first: held back from readers
			 * where followers must have them; shipped once the
			 * state is published, since an entry's ack (at once
			 * with no follower) runs its hook, and a notified
			 * reader must find the write. */
			store__repl_synced(st, c);
			store_snap_publish(st, c->snap);
			store__repl_ship(st, c);
			store__run_hook(st, c->touched, c->ntouched);
		} else {
			store__snap_put(st, c->snap);
		}
		for (op = c->ops; op != NULL; op = next) {
			next = op->next;
			if (!synced && op->rc == 0)
				op->rc = RS_EIO;
			/* An answer that waits for followers is held. */
			if (synced && store__repl_hold_if_waiting(st, op))
				continue;
			*tail = op;
			tail = &op->next;
		}
		*tail = NULL;
		/* Counted before any answer goes out, so that a caller who
		 * has its answer also finds it in the counters. */
		for (op = now_ops; op != NULL; op = op->next)
			store_stats_op(&d, op, now);
		store_stats_add(st, &d);
		for (op = now_ops; op != NULL; op = next) {
			next = op->next;
			rs_exec_post(op->ex, store_op_done, op);
		}
		for (size_t i = 0; i < c->nentries; i++)
			free(c->entries[i].data);
		free(c->entries);
		free(c->touched);
		free(c);
	}
}

void
store__op_complete(struct store *st, struct store_op *op)
{
	struct store_stats d = { 0 };

	store_stats_op(&d, op, rs_mono_us());
	store_stats_add(st, &d);
	rs_exec_post(op->ex, store_op_done, op);
}

void
store__commit_queue(struct store *st, struct store_commit *c)
{
	c->next = NULL;
	if (!st->sync) {
		store_commit_finish(st, c, true);
		return;
	}
	pthread_mutex_lock(&st->sync_mu);
	*st->sync_tail = c;
	st->sync_tail = &c->next;
	pthread_cond_signal(&st->sync_cv);
	pthread_mutex_unlock(&st->sync_mu);
}

/* Syncs the WAL for every group written before the call (one sync
 * covers them all). True if they are durable. Once the store failed it
 * syncs nothing: after a failed write or sync, RocksDB may still hold
 * WAL data that a later sync would make durable behind the answers
 * already given, and its WAL writer asserts on a sync that follows a
 * failed write. So the failed state is checked under wal_mu, which the
 * writer holds around each write; while the disk is near full, where a
 * write fails for want of space, the sync runs under it too, so that no
 * write can fail between the check and the sync. Elsewhere writes go on
 * during the sync (the overlap is worth about a tenth of the store's
 * throughput at 32 deliveries in flight, measured on this machine), and
 * only a write failing with EIO in the microseconds between the check
 * and RocksDB's own could still abort the process: a crash, not a lie. */
static bool
store_sync(struct store *st)
{
	struct store_stats d = { 0 };
	uint64_t t0;
	char *e = NULL;
	bool failed, hold;

	pthread_mutex_lock(&st->wal_mu);
	failed = store__failed(st);
	hold = store__space_careful(st);
	if (!hold)
		pthread_mutex_unlock(&st->wal_mu);
	if (!failed) {
		t0 = rs_mono_us();
		if (store__fault(st, STORE_FAULT_SYNC))
			e = rs_xstrdup("injected fault (test)");
		else
			rocksdb_flush_wal(st->db, 1, &e);
		d.syncs = 1;
		d.sync_us = d.sync_us_max = rs_mono_us() - t0;
		d.sync_errors = e != NULL;
	}
	if (e != NULL) {
		if (!hold)
			pthread_mutex_lock(&st->wal_mu);
		rs_log(RS_LOG_ERR, "store.sync_failed", "error=\"%s\"", e);
		store__fail_stop(st, "sync", e);
		free(e);
		hold = true;
	}
	if (hold)
		pthread_mutex_unlock(&st->wal_mu);
	if (!failed)
		store_stats_add(st, &d);
	return !failed && d.sync_errors == 0;
}

static void *
store_syncer_main(void *arg)
{
	struct store *st = arg;

	pthread_setname_np(pthread_self(), "store-sync");
	for (;;) {
		struct store_commit *list;

		pthread_mutex_lock(&st->sync_mu);
		while (st->sync_head == NULL && !st->sync_closing)
			pthread_cond_wait(&st->sync_cv, &st->sync_mu);
		list = st->sync_head;
		st->sync_head = NULL;
		st->sync_tail = &st->sync_head;
		pthread_mutex_unlock(&st->sync_mu);
		if (list == NULL)
			break;          /* closing, and all synced */
		if (st->before_sync != NULL)
			st->before_sync(st->before_sync_arg);
		store_commit_finish(st, list, store_sync(st));
	}
	return NULL;
}

int
store__syncer_start(struct store *st, struct rs_err *err)
{
	int rc;

	st->sync_tail = &st->sync_head;
	st->snap = store__snap_new(st);
	rc = pthread_create(&st->syncer, NULL, store_syncer_main, st);
	if (rc != 0) {
		store__snap_put(st, st->snap);
		st->snap = NULL;
		return rs_err_set(err, RS_EIO, "store sync thread: %s",
		                  strerror(rc));
	}
	return 0;
}

void
store__syncer_stop(struct store *st)
{
	pthread_mutex_lock(&st->sync_mu);
	st->sync_closing = true;
	pthread_cond_signal(&st->sync_cv);
	pthread_mutex_unlock(&st->sync_mu);
	pthread_join(st->syncer, NULL);
	store__snap_put(st, st->snap);
	st->snap = NULL;
}
