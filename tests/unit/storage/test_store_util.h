/* test_store_util.h: scaffolding for the store's unit tests (prefix tsu_):
 * a store in a fresh test_tmpdir(), a synchronous-queue rs_exec whose
 * tasks run on the test thread, and blocking wrappers around the
 * asynchronous writes. Not a test itself; no TEST() in it. */
#ifndef ROOST_TESTS_UNIT_STORAGE_TEST_STORE_UTIL_H
#define ROOST_TESTS_UNIT_STORAGE_TEST_STORE_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_exec.h"
#include "storage/store.h"
#include "storage/store_raw.h"

struct tsu_task;

/* post() appends to a list; tsu_run() pops and runs on the test thread. */
struct tsu_exec {
	struct rs_exec   base;        /* first: cast from struct rs_exec */
	pthread_mutex_t  mu;
	pthread_cond_t   cv;
	struct tsu_task *head;        /* owns */
	struct tsu_task **tail;
	size_t           posted;
};

struct tsu {
	struct store     *st;
	struct tsu_exec   ex;
	char              dir[128];
	struct store_opts o;
};

/* A completion counter for one or many writes. */
struct tsu_done {
	int n;                        /* completions run */
	int rc;                       /* last rc */
	int failed;                   /* completions with rc != 0 */
};
void tsu_done_cb(void *arg, int rc);

/* Opens a store in a new directory; group limits 0 mean the defaults. */
void tsu_open(struct tsu *t, bool sync, unsigned group_max_ops);
void tsu_reopen(struct tsu *t);
/* Closes the store and runs completions still queued. */
void tsu_close(struct tsu *t);
void tsu_exec_init(struct tsu_exec *ex);
void tsu_exec_destroy(struct tsu_exec *ex);
/* Runs posted tasks until *counter >= want; aborts the test binary after
 * 120 s so that a lost completion fails instead of hanging. */
void tsu_run(struct tsu_exec *ex, const int *counter, int want);
/* Runs whatever is queued now, without waiting. */
void tsu_run_pending(struct tsu_exec *ex);

/* Blocking wrappers: queue, run completions until done, return cb's rc
 * (or the synchronous error). tsu_wait does it for any write: qrc is
 * what queuing returned, e the rs_err it was given. */
int tsu_wait(struct tsu *t, int qrc, struct tsu_done *d,
             const struct rs_err *e);
int tsu_create(struct tsu *t, struct store_acct a, const char *name,
               struct store_mailbox *r);
int tsu_mdelete(struct tsu *t, struct store_acct a, const char *name);
int tsu_rename(struct tsu *t, struct store_acct a, const char *from,
               const char *to);
int tsu_subscribe(struct tsu *t, struct store_acct a, const char *name,
                  bool on);
/* The id of a mailbox by name, 0 if there is none. */
uint32_t tsu_mbox_id(struct tsu *t, struct store_acct a, const char *name);
int tsu_deliver(struct tsu *t, const void *body, size_t len,
                struct store_rcpt *r, size_t n);
int tsu_expunge(struct tsu *t, struct store_acct a, uint32_t mbox,
                const uint32_t *uids, size_t n);
int tsu_flags(struct tsu *t, struct store_acct a, uint32_t mbox,
              const uint32_t *uids, size_t n, enum store_flag_op op,
              uint32_t flags);
int tsu_delete(struct tsu *t, struct store_acct a);
int tsu_submit(struct tsu *t, store_apply_fn *apply, void *arg);

/* A recipient with everything but account and mailbox zero. */
struct store_rcpt tsu_rcpt(uint32_t part, uint64_t id, const char *mbox);
void tsu_sha256(const void *data, size_t len, uint8_t out[STORE_HASH_LEN]);
/* Reference count of a blob, 0 if it has no meta record. */
uint64_t tsu_blob_refs(struct tsu *t, uint32_t part,
                       const uint8_t hash[STORE_HASH_LEN]);
/* Committed keys starting with prefix. */
size_t tsu_count(struct tsu *t, const void *prefix, size_t plen);
/* Fills buf with deterministic pseudo-random octets. */
void tsu_fill(void *buf, size_t len, uint32_t seed);

/* An op that blocks the writer thread until tsu_gate_open(), so that
 * later writes pile up into one group. */
struct tsu_gate {
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	bool            entered, open;
};
void tsu_gate_init(struct tsu_gate *g);
void tsu_gate_destroy(struct tsu_gate *g);
/* Queues the gate op (its completion counts into d) and waits until the
 * writer is inside it. */
void tsu_gate_queue(struct tsu *t, struct tsu_gate *g, struct tsu_done *d);
void tsu_gate_open(struct tsu_gate *g);
/* Blocks the calling thread in g (a struct tsu_gate *) until
 * tsu_gate_open(); void * so that it fits store_opts.before_sync. */
void tsu_gate_enter(void *g);
/* Waits until a thread is inside g. */
void tsu_gate_wait_entered(struct tsu_gate *g);

/* A hold on the syncer: once armed, every sync waits in gate until it
 * opens (store_opts.before_sync = tsu_hold_before_sync). */
struct tsu_hold {
	bool            armed;        /* atomic */
	struct tsu_gate gate;
};
/* arg: a struct tsu_hold *. */
void tsu_hold_before_sync(void *arg);

#endif
