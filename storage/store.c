/* store.c: opening and closing the store and its write queue; the
 * writer thread that group-commits it is store_writer.c, the syncer
 * store_commit.c. The operations themselves live in store_deliver.c,
 * store_modify.c and store_raw.c; reads in store_read.c and
 * store_blob.c. */
#include "storage/store_int.h"
#include "storage/store_repl_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "lib/rs_time.h"

#define STORE_DEFAULT_CACHE     ((size_t)64 << 20)
#define STORE_DEFAULT_OPS       512u
#define STORE_DEFAULT_BYTES     ((size_t)64 << 20)
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
	store__health_destroy(&st->health);
}

/* RocksDB settings: sized for a mail store, where most values are small
 * records read by point lookups and a few are 256 KiB body chunks. */
/* Values from this size up are stored in blob files. Records stay well
 * below it; bodies of real mail are above it. */
#define STORE_BLOB_MIN 2048
/* rocksdb::InfoLogLevel::HEADER_LEVEL */
#define STORE_ROCKSDB_LOG_LEVEL 5

/* Applies an option the C API has no setter for; returns the options
 * to use from then on (opt itself if the string was refused). */
static rocksdb_options_t *
store_options_string(rocksdb_options_t *opt, const char *s)
{
	rocksdb_options_t *o2 = rocksdb_options_create();
	char *e = NULL;

	rocksdb_get_options_from_string(opt, s, o2, &e);
	if (e == NULL) {
		rocksdb_options_destroy(opt);
		return o2;
	}
	rs_log(RS_LOG_WARN, "store.option_ignored", "option=\"%s\" "
	       "error=\"%s\"", s, e);
	free(e);
	rocksdb_options_destroy(o2);
	return opt;
}

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
	/* Most keys of a delivery follow the previous key of their account
	 * and family (the next UID, the next modseq, a new version of the
	 * state): with a hint per 14-octet prefix (P 'a' acct tag) the
	 * memtable inserts them next to it instead of searching its whole
	 * skip list. */
	opt = store_options_string(opt, "memtable_insert_with_hint_prefix_"
	                           "extractor=rocksdb.FixedPrefix.14");
	/* Recovery keeps what it replays from the WAL in the memtable
	 * instead of writing it out at once: a store whose disk is full
	 * still opens, and serves reads and expunges. */
	opt = store_options_string(opt, "avoid_flush_during_recovery=true");
	/* No preallocation: a new WAL (1.1 write buffers) or MANIFEST
	 * (4 MiB) would take what is left of a nearly full disk, and ext4
	 * keeps the blocks of a fallocate that failed; every other write
	 * would then fail. Without it RocksDB takes what it writes, which
	 * is what store_health measures. A WAL sync costs the same here
	 * either way. */
	opt = store_options_string(opt, "allow_fallocate=false");
	/* RocksDB's LOG goes through the same file writer as its WAL,
	 * which aborts (Debian builds it with assertions) on a write after
	 * a failed one: at INFO, the second line logged on a full disk
	 * would kill the node. Header lines only, at open. */
	rocksdb_options_set_info_log_level(opt, STORE_ROCKSDB_LOG_LEVEL);
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
	store__health_init(&st->health, o);
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
	/* Before the first write, so that a store opened on a full disk
	 * says so at once. */
	(void)store__space_refresh(st);
	st->tail = &st->head;
	pthread_mutex_init(&st->mu, NULL);
	{
		/* The writer's idle wake-up measures time, not the date. */
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&st->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	pthread_mutex_init(&st->wal_mu, NULL);
	pthread_mutex_init(&st->sync_mu, NULL);
	pthread_cond_init(&st->sync_cv, NULL);
	pthread_mutex_init(&st->snap_mu, NULL);
	pthread_mutex_init(&st->stats_mu, NULL);
	if (store__syncer_start(st, err) != 0) {
		store_free_sync(st);
		return -1;
	}
	rc = pthread_create(&st->writer, NULL, store__writer_main, st);
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
	pthread_mutex_destroy(&st->wal_mu);
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
	/* Answers still waiting for followers get "unknown" now. */
	store__repl_free(st);
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

static int
store_submit_op(struct store *st, store_apply_fn *apply, void *arg,
                void (*arg_free)(void *arg), size_t cost, bool grows,
                struct rs_exec *ex, store_done_fn *cb, void *cb_arg,
                struct rs_err *err)
{
	struct store_op *op = rs_xcalloc(1, sizeof(*op));

	op->grows = grows;
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

int
store__submit_owned(struct store *st, store_apply_fn *apply, void *arg,
                    void (*arg_free)(void *arg), size_t cost,
                    struct rs_exec *ex, store_done_fn *cb, void *cb_arg,
                    struct rs_err *err)
{
	return store_submit_op(st, apply, arg, arg_free, cost, false, ex, cb,
	                       cb_arg, err);
}

int
store__submit_grow(struct store *st, store_apply_fn *apply, void *arg,
                   void (*arg_free)(void *arg), size_t cost,
                   struct rs_exec *ex, store_done_fn *cb, void *cb_arg,
                   struct rs_err *err)
{
	return store_submit_op(st, apply, arg, arg_free, cost, true, ex, cb,
	                       cb_arg, err);
}
