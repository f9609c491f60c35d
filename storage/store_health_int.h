/* store_health_int.h: the store's health inside storage/ (store.h has
 * the public part): the failed state that stops every write and sync,
 * the free-space reserve the writer measures, and the test hooks. Only
 * storage/ includes it, through store_int.h. */
#ifndef ROOST_STORAGE_STORE_HEALTH_INT_H
#define ROOST_STORAGE_STORE_HEALTH_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "storage/store.h"

struct store_hstate {
	pthread_mutex_t  mu;
	/* Under mu; state is also read without it (atomically). */
	enum store_state state;
	char             reason[STORE_REASON_MAX];
	int64_t          since;
	uint64_t         free_bytes;
	/* Set once, under mu, and read by the writer and the syncer
	 * without it (atomically). */
	bool             failed;
	/* Set by the writer while the disk is near full: then the syncer
	 * holds wal_mu through each sync (store_commit.c). Atomic. */
	bool             careful;
	uint64_t         min_free;
	char            *path;           /* owns: what statvfs looks at */
	bool             statvfs_warned; /* writer only */
	int            (*test_fault)(void *arg, int fault);
	int            (*test_free)(void *arg, uint64_t *free_r);
	void            *test_arg;
};

void store__health_init(struct store_hstate *h, const struct store_opts *o);
void store__health_destroy(struct store_hstate *h);

/* True once the store failed. Any thread. */
bool store__failed(struct store *st);
/* Enters the failed state (the first call only: later ones keep the
 * first reason) and logs store.failed once. where is "write" or
 * "sync", why RocksDB's message. Called with st->wal_mu held, so that
 * no write or sync starts on a WAL that has seen an error. */
void store__fail_stop(struct store *st, const char *where, const char *why);
/* The test hook test_fault: true if this step must fail. */
bool store__fault(struct store *st, int fault);

/* Writer thread: measures the free space, moves between ok and
 * low_space, and returns what growing writes may add now (UINT64_MAX
 * without a reserve or when it cannot be measured). */
uint64_t store__space_refresh(struct store *st);
/* Writer thread: whether a growing op of cost octets fits in *budget,
 * which it then lowers. The WAL and the blob file each hold the body
 * until the memtable is flushed, so an op counts twice its cost. */
bool store__space_take(struct store *st, uint64_t *budget, size_t cost);
/* True while a WAL write may well fail for want of space: less than
 * twice the reserve plus STORE_CAREFUL_BYTES free, or not measurable.
 * Any thread. */
bool store__space_careful(struct store *st);

#endif
