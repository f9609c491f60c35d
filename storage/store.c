/* store.c: opening and closing the store, the write queue and the single
 * writer thread that group-commits it. The operations themselves live in
 * store_deliver.c, store_modify.c and store_raw.c; reads in store_read.c
 * and store_blob.c. */
#include "storage/store_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "lib/rs_time.h"

#define STORE_DEFAULT_CACHE     ((size_t)64 << 20)
#define STORE_DEFAULT_OPS       512u
#define STORE_DEFAULT_BYTES     ((size_t)64 << 20)
/* A batch that grew past this is freed rather than cleared, so one big
 * delivery does not pin its size in the writer for ever. */
#define STORE_WB_KEEP           ((size_t)1 << 20)

static void *store_writer_main(void *arg);
static void store_free_sync(struct store *st);

int
store__fail(struct rs_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

static void
store_free_db(struct store *st)
{
	if (st->db != NULL)
		rocksdb_close(st->db);
	if (st->ropts != NULL)
		rocksdb_readoptions_destroy(st->ropts);
	if (st->wopts != NULL)
		rocksdb_writeoptions_destroy(st->wopts);
	if (st->wopts_group != NULL)
		rocksdb_writeoptions_destroy(st->wopts_group);
	if (st->dbopts != NULL)
		rocksdb_options_destroy(st->dbopts);
	if (st->tableopts != NULL)
		rocksdb_block_based_options_destroy(st->tableopts);
	if (st->cache != NULL)
		rocksdb_cache_destroy(st->cache);
	if (st->txn.wb != NULL)
		rocksdb_writebatch_wi_destroy(st->txn.wb);
	free(st->txn.touched);
	store__cache_free(&st->txn.cache);
	free(st->txn.idx);
}

/* RocksDB settings: sized for a mail store, where most values are small
 * records read by point lookups and a few are 256 KiB body chunks. */
/* Values from this size up are stored in blob files. Records stay well
 * below it; bodies of real mail are above it. */
#define STORE_BLOB_MIN 2048

static void
store_set_options(struct store *st, const struct store_opts *o)
{
	rocksdb_options_t *opt = rocksdb_options_create();
	rocksdb_block_based_table_options_t *t =
	    rocksdb_block_based_options_create();

	{
		/* Few shards: a shard is the largest block the cache can
		 * hold, and RocksDB's default (64 shards) makes it 1 MiB. */
		rocksdb_lru_cache_options_t *co =
		    rocksdb_lru_cache_options_create();

		rocksdb_lru_cache_options_set_capacity(
		    co, o->cache_bytes != 0 ? o->cache_bytes
		                            : STORE_DEFAULT_CACHE);
		rocksdb_lru_cache_options_set_num_shard_bits(co, 4);
		st->cache = rocksdb_cache_create_lru_opts(co);
		rocksdb_lru_cache_options_destroy(co);
	}
	rocksdb_block_based_options_set_block_cache(t, st->cache);
	/* Lookups of absent keys (a new account, a new blob) are common:
	 * a full bloom filter answers most without reading a block. */
	rocksdb_block_based_options_set_filter_policy(
	    t, rocksdb_filterpolicy_create_bloom_full(10));
	rocksdb_block_based_options_set_cache_index_and_filter_blocks(t, 1);
	rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(
	    t, 1);
	/* Index and filter blocks grow with the SST (hundreds of KiB for a
	 * compacted file); whole, they fall out of the cache and every
	 * lookup re-reads and decompresses one. Partitioned, each lookup
	 * touches a small block, and the top level stays pinned. */
	rocksdb_block_based_options_set_block_size(t, 16 * 1024);
	rocksdb_block_based_options_set_index_type(
	    t, rocksdb_block_based_table_index_type_two_level_index_search);
	rocksdb_block_based_options_set_partition_filters(t, 1);
	rocksdb_block_based_options_set_metadata_block_size(t, 4096);
	rocksdb_block_based_options_set_pin_top_level_index_and_filter(t, 1);
	rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(
	    t, 1);
	rocksdb_options_set_block_based_table_factory(opt, t);

	rocksdb_options_set_create_if_missing(opt, 1);
	rocksdb_options_set_write_buffer_size(
	    opt, o->write_buffer_bytes != 0 ? o->write_buffer_bytes
	                                    : (size_t)64 << 20);
	rocksdb_options_set_max_write_buffer_number(opt, 3);
	/* Each delivery looks up keys that do not exist yet (a new blob's
	 * reference count and meta); without a filter each such lookup
	 * walks the skip list of every memtable. */
	rocksdb_options_set_memtable_prefix_bloom_size_ratio(opt, 0.02);
	rocksdb_options_set_memtable_whole_key_filtering(opt, 1);
	rocksdb_options_set_level_compaction_dynamic_level_bytes(opt, 1);
	rocksdb_options_set_max_background_jobs(opt, 2);
	rocksdb_options_set_keep_log_file_num(opt, 5);
	/* Message bodies (records are a few hundred octets) go to blob
	 * files, so the SSTs hold only records: their index and filter
	 * blocks stay small enough to live in the cache, and compactions
	 * move records, not mail. Blob values go through the same WAL: an
	 * acknowledged write survives a crash all the same. */
	rocksdb_options_set_enable_blob_files(opt, 1);
	rocksdb_options_set_min_blob_size(opt, STORE_BLOB_MIN);
	rocksdb_options_set_enable_blob_gc(opt, 1);
	{
		/* Most keys of a delivery follow the previous key of their
		 * account and family (the next UID, the next modseq, a new
		 * version of the state): with a hint per 14-octet prefix
		 * (P 'a' acct tag) the memtable inserts them next to it
		 * instead of searching its whole skip list. The C API has no
		 * setter for this option. */
		rocksdb_options_t *o2 = rocksdb_options_create();
		char *e = NULL;

		rocksdb_get_options_from_string(
		    opt, "memtable_insert_with_hint_prefix_extractor="
		         "rocksdb.FixedPrefix.14", o2, &e);
		if (e == NULL) {
			rocksdb_options_destroy(opt);
			opt = o2;
		} else {
			rs_log(RS_LOG_WARN, "store.option_ignored",
			       "option=memtable_insert_with_hint error=\"%s\"",
			       e);
			free(e);
			rocksdb_options_destroy(o2);
		}
	}
	st->dbopts = opt;
	st->tableopts = t;

	st->ropts = rocksdb_readoptions_create();
	st->wopts = rocksdb_writeoptions_create();
	/* WAL stays on: it is what makes an acknowledged write survive a
	 * crash; sync makes it survive a power cut too. */
	rocksdb_writeoptions_set_sync(st->wopts, o->sync ? 1 : 0);
	/* Groups are synced by the syncer (store_commit.c), so that the
	 * writer applies the next group while the disk works. */
	st->wopts_group = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(st->wopts_group, 0);
	st->sync = o->sync;
	st->before_sync = o->before_sync;
	st->before_sync_arg = o->before_sync_arg;
	st->group_max_ops = o->group_max_ops != 0 ? o->group_max_ops
	                                          : STORE_DEFAULT_OPS;
	st->group_max_bytes = o->group_max_bytes != 0 ? o->group_max_bytes
	                                              : STORE_DEFAULT_BYTES;
	st->changes_keep = o->changes_keep != 0 ? o->changes_keep
	                                        : STORE_CHANGES_KEEP;
}

int
store_open(const struct store_opts *o, struct store **st_r,
           struct rs_err *err)
{
	struct store *st;
	char *e = NULL;
	int rc;

	*st_r = NULL;
	if (o == NULL || o->path == NULL || o->path[0] == '\0')
		return rs_err_set(err, RS_EINVAL, "store: no path");
	st = rs_xcalloc(1, sizeof(*st));
	store_set_options(st, o);
	st->db = rocksdb_open(st->dbopts, o->path, &e);
	if (e != NULL) {
		rs_err_set(err, RS_EIO, "store open %s: %s", o->path, e);
		free(e);
		st->db = NULL;
		store_free_db(st);
		free(st);
		return -1;
	}
	st->txn.st = st;
	st->txn.wb = rocksdb_writebatch_wi_create(0, 1);
	st->txn.cache = store__cache_new();
	if (store__idx_upgrade(st, err) != 0) {
		store_free_db(st);
		free(st);
		return -1;
	}
	st->tail = &st->head;
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cv, NULL);
	pthread_mutex_init(&st->sync_mu, NULL);
	pthread_cond_init(&st->sync_cv, NULL);
	pthread_mutex_init(&st->snap_mu, NULL);
	pthread_mutex_init(&st->stats_mu, NULL);
	if (store__syncer_start(st, err) != 0) {
		store_free_sync(st);
		return -1;
	}
	rc = pthread_create(&st->writer, NULL, store_writer_main, st);
	if (rc != 0) {
		store__syncer_stop(st);
		store_free_sync(st);
		return rs_err_set(err, RS_EIO, "store writer thread: %s",
		                  strerror(rc));
	}
	*st_r = st;
	return 0;
}

/* Frees what store_open made after the DB: the locks, the DB, st. */
static void
store_free_sync(struct store *st)
{
	pthread_mutex_destroy(&st->stats_mu);
	pthread_mutex_destroy(&st->snap_mu);
	pthread_cond_destroy(&st->sync_cv);
	pthread_mutex_destroy(&st->sync_mu);
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->mu);
	store_free_db(st);
	free(st);
}

void
store_close(struct store **pp)
{
	struct store *st = *pp;

	if (st == NULL)
		return;
	*pp = NULL;
	pthread_mutex_lock(&st->mu);
	st->closing = true;
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
	/* The writer drains the queue before it sees closing and exits;
	 * then the syncer completes what the writer handed it. */
	pthread_join(st->writer, NULL);
	store__syncer_stop(st);
	store_free_sync(st);
}

void
store_set_commit_hook(struct store *st, store_commit_hook_fn *fn, void *arg)
{
	pthread_mutex_lock(&st->mu);
	st->hook = fn;
	st->hook_arg = arg;
	pthread_mutex_unlock(&st->mu);
}

int
store__enqueue(struct store *st, struct store_op *op, struct rs_err *err)
{
	op->t_submit = rs_mono_us();        /* outside the writer's lock */
	pthread_mutex_lock(&st->mu);
	if (st->closing) {
		pthread_mutex_unlock(&st->mu);
		return rs_err_set(err, RS_EUNAVAIL, "store is closing");
	}
	op->next = NULL;
	*st->tail = op;
	st->tail = &op->next;
	st->nqueued++;
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
	return 0;
}

int
store__submit_owned(struct store *st, store_apply_fn *apply, void *arg,
                    void (*arg_free)(void *arg), size_t cost,
                    struct rs_exec *ex, store_done_fn *cb, void *cb_arg,
                    struct rs_err *err)
{
	struct store_op *op = rs_xcalloc(1, sizeof(*op));

	op->apply = apply;
	op->apply_arg = arg;
	op->arg_free = arg_free;
	op->cost = cost;
	op->ex = ex;
	op->cb = cb;
	op->cb_arg = cb_arg;
	if (store__enqueue(st, op, err) != 0) {
		if (arg_free != NULL)
			arg_free(arg);
		free(op);
		return -1;
	}
	return 0;
}

/* ---- the writer thread ---- */

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
	if (op->apply(t, op->apply_arg, &err) == 0 &&
	    store__idx_flush(t, &err) == 0) {
		op->rc = 0;
		store__cache_op_done(t->cache, true);
		return true;
	}
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

/* Applies a group into one batch and writes it without waiting for the
 * disk, then hands it to the syncer with its state and the accounts it
 * changed: the sync, the hook and the completions happen there. */
static void
store_commit_group(struct store *st, struct store_op *group)
{
	struct store_txn *t = &st->txn;
	struct store_commit *c = rs_xcalloc(1, sizeof(*c));
	struct store_op *op;
	bool ok = true;
	unsigned n = 0;

	for (op = group; op != NULL; op = op->next, n++)
		if (ok)
			ok = store_apply_one(t, op);
		else
			op->rc = RS_EIO;
	/* XXX(storage): replication will need this batch's bytes
	 * (rocksdb_writebatch_wi_data) and a per-partition LSN written in
	 * the same batch; neither exists yet. */
	if (ok && rocksdb_writebatch_wi_count(t->wb) > 0) {
		char *e = NULL;

		rocksdb_write_writebatch_wi(st->db, st->wopts_group, t->wb, &e);
		if (e != NULL) {
			/* Nobody else sees this: each caller only gets EIO. */
			rs_log(RS_LOG_ERR, "store.write_failed",
			       "ops=%u error=\"%s\"", n, e);
			free(e);
			ok = false;
		} else {
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

static void *
store_writer_main(void *arg)
{
	struct store *st = arg;

	/* Named so that top -H and perf tell it from the loop. */
	pthread_setname_np(pthread_self(), "store-writer");
	for (;;) {
		struct store_op *group;

		pthread_mutex_lock(&st->mu);
		while (st->head == NULL && !st->closing)
			pthread_cond_wait(&st->cv, &st->mu);
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
