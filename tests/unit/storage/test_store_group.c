/* test_store_group.c: the writer thread: writes from several threads
 * sharing commits, a failing store_submit rolled back alone inside its
 * group, the commit hook, and store_close completing what was queued.
 * A "gate" op holds the writer so that later writes pile up into one
 * group deterministically. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "storage/store_keys.h"
#include "tests/unit/storage/test_store_util.h"
#include "tests/unit/test.h"

#define TEST_THREADS 4
#define TEST_PER_THREAD 60

/* The commit hook's calls, per account id (ids 0..7). */
struct test_hook {
	pthread_mutex_t mu;
	int             calls[8];
	uint64_t        modseq[8];
};

static void
test_hook_fn(void *arg, struct store_acct a, uint64_t modseq)
{
	struct test_hook *h = arg;

	pthread_mutex_lock(&h->mu);
	if (a.id < 8) {
		h->calls[a.id]++;
		h->modseq[a.id] = modseq;
	}
	pthread_mutex_unlock(&h->mu);
}

/* store_submit op: puts FFFFFFFF 'T' thread(1) seq(4) -> seq. */
struct test_put {
	uint8_t key[10];
};

static int
test_put_apply(struct store_txn *txn, void *arg, struct rs_err *err)
{
	struct test_put *p = arg;

	(void)err;
	store_txn_put(txn, p->key, sizeof(p->key), p->key + 6, 4);
	return 0;
}

struct test_worker {
	struct tsu           *t;
	struct tsu_done      *done;   /* shared; runs on the test thread */
	struct store_rcpt     rcpts[TEST_PER_THREAD];
	struct test_put       puts[TEST_PER_THREAD];
	int                   id;
	int                   refused;
};

static void *
test_worker_main(void *arg)
{
	struct test_worker *w = arg;
	struct store_message m = { (const uint8_t *)"group", 5, 0, NULL, 0, NULL, 0 };

	for (int i = 0; i < TEST_PER_THREAD; i++) {
		struct test_put *p = &w->puts[i];

		memset(p->key, 0xff, 4);
		p->key[4] = 'T';
		p->key[5] = (uint8_t)w->id;
		store_keys_put32(p->key + 6, (uint32_t)i);
		if (store_submit(w->t->st, test_put_apply, p, &w->t->ex.base,
		                 tsu_done_cb, w->done, NULL) != 0)
			w->refused++;
		w->rcpts[i] = tsu_rcpt(1, (uint64_t)(w->id % 2), NULL);
		if (store_deliver(w->t->st, &m, &w->rcpts[i], 1,
		                  &w->t->ex.base, tsu_done_cb, w->done,
		                  NULL) != 0)
			w->refused++;
	}
	return NULL;
}

/* All writes of test_group_round are there; gated, each account's
 * deliveries shared one commit. */
static void
test_group_check(struct tsu *t, struct test_hook *hook, bool gated)
{
	const uint8_t prefix[5] = { 0xff, 0xff, 0xff, 0xff, 'T' };
	struct store_account_info ai;

	TEST_ASSERT(tsu_count(t, prefix, sizeof(prefix)) ==
	            (size_t)TEST_THREADS * TEST_PER_THREAD);
	for (uint64_t id = 0; id < 2; id++) {
		struct store_acct a = { 1, id };
		uint64_t want = (uint64_t)TEST_THREADS / 2 * TEST_PER_THREAD;

		TEST_ASSERT(store_account_get(t->st, a, &ai, NULL) == 0);
		TEST_ASSERT_IDX(ai.messages == want && ai.modseq == want, id);
		TEST_ASSERT_IDX(hook->modseq[id] == want, id);
		/* Gated, the 480 writes fit one group (512 ops): one hook
		 * call per account proves they shared one commit. */
		if (gated)
			TEST_ASSERT_IDX(hook->calls[id] == 1, id);
		else
			TEST_ASSERT_IDX(hook->calls[id] >= 1, id);
	}
}

/* Runs the workers; with a gate, every write lands in one group. */
static void
test_group_round(bool gated)
{
	static struct test_worker w[TEST_THREADS];
	struct test_hook hook = { .mu = PTHREAD_MUTEX_INITIALIZER };
	pthread_t th[TEST_THREADS];
	struct tsu_done done = { 0 }, gd = { 0 };
	struct tsu_gate g;
	struct tsu t;

	tsu_open(&t, true, 0);
	store_set_commit_hook(t.st, test_hook_fn, &hook);
	tsu_gate_init(&g);
	if (gated)
		tsu_gate_queue(&t, &g, &gd);
	for (int i = 0; i < TEST_THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].t = &t;
		w[i].id = i;
		w[i].done = &done;
		pthread_create(&th[i], NULL, test_worker_main, &w[i]);
	}
	for (int i = 0; i < TEST_THREADS; i++) {
		pthread_join(th[i], NULL);
		TEST_ASSERT_IDX(w[i].refused == 0, i);
	}
	tsu_gate_open(&g);
	tsu_run(&t.ex, &done.n, TEST_THREADS * TEST_PER_THREAD * 2);
	if (gated)
		tsu_run(&t.ex, &gd.n, 1);
	TEST_ASSERT(done.failed == 0);
	test_group_check(&t, &hook, gated);
	tsu_gate_destroy(&g);
	tsu_close(&t);
}

void
test_store_group_commit(void)
{
	test_group_round(true);
	test_group_round(false);
}

/* ---- rollback of one op inside a group ---- */

struct test_step {
	const char *put;              /* key to put, or NULL */
	int         many;             /* also put put/0 .. put/many-1 */
	const char *get;              /* key to read first, or NULL */
	int         fail;             /* return this code after the put */
	bool        touch;            /* touch account 3 */
	int         got;              /* store_txn_get's rc */
	int         rc;               /* completion's rc */
	int         n;
};

/* Keys of the local partition, or (test_step_records) shaped like an
 * account's mailbox records, which the writer caches (store_cache.c):
 * a rolled-back put must leave the cache as well as the batch. */
static bool test_step_records;

static size_t
test_step_key(uint8_t *k, const char *name)
{
	size_t n = 0, off = 4;

	memset(k, 0xff, 4);
	if (test_step_records) {
		store_keys_put32(k, 1);
		k[4] = 'a';
		memset(k + 5, 0, 8);
		k[12] = 3;
		k[13] = 'X';
		off = 14;
	}
	for (; name[n] != '\0'; n++)
		k[off + n] = (uint8_t)name[n];
	return off + n;
}

static int
test_step_apply(struct store_txn *txn, void *arg, struct rs_err *err)
{
	struct test_step *s = arg;
	uint8_t k[32];
	struct rs_buf b;

	if (s->get != NULL) {
		rs_buf_init(&b, 64);
		s->got = store_txn_get(txn, k, test_step_key(k, s->get), &b,
		                       NULL);
		rs_buf_free(&b);
	}
	if (s->put != NULL)
		store_txn_put(txn, k, test_step_key(k, s->put), "v", 1);
	for (int i = 0; i < s->many; i++) {
		char name[24];

		/* Enough new keys to grow the writer's cache mid-op. */
		snprintf(name, sizeof(name), "%s/%d", s->put, i);
		store_txn_put(txn, k, test_step_key(k, name), "v", 1);
	}
	if (s->touch)
		store_txn_touch(txn, (struct store_acct){ 1, 3 }, 99);
	if (s->fail != 0)
		return rs_err_set(err, s->fail, "step refused");
	return 0;
}

static void
test_step_done(void *arg, int rc)
{
	struct test_step *s = arg;

	s->rc = rc;
	s->n++;
}

static void
test_rollback_round(void)
{
	struct test_step steps[] = {
		{ .put = "k1" },
		{ .put = "k2", .fail = RS_ECONFLICT, .touch = true },
		{ .get = "k1", .put = "k3" },
		{ .get = "k2" },
		{ .get = "k4", .put = "k4", .fail = RS_EQUOTA },
		{ .get = "k3" },
		{ .get = "k4" },
		{ .get = "k1", .put = "k5", .many = 3000, .fail = RS_EIO },
		{ .get = "k5/2999" },
		{ .get = "k5" },
	};
	static const int want_rc[] = { 0, RS_ECONFLICT, 0, 0, RS_EQUOTA, 0, 0,
	                               RS_EIO, 0, 0 };
	static const int want_got[] = { 0, 0, 0, RS_ENOTFOUND, RS_ENOTFOUND,
	                                0, RS_ENOTFOUND, 0, RS_ENOTFOUND,
	                                RS_ENOTFOUND };
	static const char *const present[] = { "k1", "k3" };
	static const char *const absent[] = { "k2", "k4", "k5", "k5/0" };
	struct test_hook hook = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct tsu_done gd = { 0 };
	struct tsu_gate g;
	struct tsu t;
	struct rs_buf b;
	uint8_t k[32];
	size_t ns = sizeof(steps) / sizeof(steps[0]);

	tsu_open(&t, false, 0);
	store_set_commit_hook(t.st, test_hook_fn, &hook);
	tsu_gate_init(&g);
	tsu_gate_queue(&t, &g, &gd);
	for (size_t i = 0; i < ns; i++)
		TEST_ASSERT_IDX(store_submit(t.st, test_step_apply, &steps[i],
		                             &t.ex.base, test_step_done,
		                             &steps[i], NULL) == 0, i);
	tsu_gate_open(&g);
	tsu_run(&t.ex, &steps[ns - 1].n, 1);
	tsu_run_pending(&t.ex);
	for (size_t i = 0; i < ns; i++) {
		TEST_ASSERT_IDX(steps[i].n == 1, i);
		TEST_ASSERT_IDX(steps[i].rc == want_rc[i], i);
		TEST_ASSERT_IDX(steps[i].got == want_got[i], i);
	}
	rs_buf_init(&b, 64);
	for (size_t i = 0; i < 2; i++)
		TEST_ASSERT_IDX(store_raw_get(t.st, k, test_step_key(k,
		                present[i]), &b, NULL) == 0, i);
	for (size_t i = 0; i < 4; i++)
		TEST_ASSERT_IDX(store_raw_get(t.st, k, test_step_key(k,
		                absent[i]), &b, NULL) == RS_ENOTFOUND, i);
	rs_buf_free(&b);
	/* The rolled-back op's touch never reached the hook. */
	TEST_ASSERT(hook.calls[3] == 0);
	tsu_gate_destroy(&g);
	tsu_close(&t);
}

void
test_store_submit_rollback(void)
{
	test_step_records = false;
	test_rollback_round();
	test_step_records = true;
	test_rollback_round();
}

/* ---- store_close drains the queue ---- */

struct test_prober {
	struct tsu      *t;
	struct store    *st;          /* store_close NULLs t->st at once */
	struct tsu_gate *g;
	struct tsu_done *done;
	struct test_put  puts[4096];
	int              queued;
	int              unavail;
};

/* Submits until the store says it is closing, then lets the writer go:
 * the store stays valid meanwhile, since close waits for the writer. */
static void *
test_prober_main(void *arg)
{
	struct test_prober *p = arg;
	struct rs_err err;

	for (int i = 0; i < 4096; i++) {
		struct test_put *x = &p->puts[i];

		memset(x->key, 0xff, 4);
		x->key[4] = 'P';
		x->key[5] = 0;
		store_keys_put32(x->key + 6, (uint32_t)i);
		if (store_submit(p->st, test_put_apply, x, &p->t->ex.base,
		                 tsu_done_cb, p->done, &err) != 0) {
			p->unavail = err.code == RS_EUNAVAIL;
			break;
		}
		p->queued++;
		if (i % 64 == 63)
			sched_yield();
	}
	tsu_gate_open(p->g);
	return NULL;
}

void
test_store_close_drains(void)
{
	static struct test_prober p;
	struct tsu t;
	struct tsu_gate g;
	struct tsu_done gd = { 0 }, done = { 0 }, dd = { 0 };
	struct store_rcpt r[50];
	struct store_message m = { (const uint8_t *)"drain", 5, 0, NULL, 0, NULL, 0 };
	const uint8_t prefix[5] = { 0xff, 0xff, 0xff, 0xff, 'P' };
	struct store_account_info ai;
	struct store_acct a = { 2, 5 };
	pthread_t th;

	tsu_open(&t, true, 8);
	tsu_gate_init(&g);
	tsu_gate_queue(&t, &g, &gd);
	for (int i = 0; i < 50; i++) {
		r[i] = tsu_rcpt(a.part, a.id, NULL);
		TEST_ASSERT(store_deliver(t.st, &m, &r[i], 1, &t.ex.base,
		                          tsu_done_cb, &dd, NULL) == 0);
	}
	memset(&p, 0, sizeof(p));
	p.t = &t;
	p.st = t.st;
	p.g = &g;
	p.done = &done;
	pthread_create(&th, NULL, test_prober_main, &p);
	store_close(&t.st);
	pthread_join(th, NULL);
	TEST_ASSERT(p.unavail);
	/* Every queued write completed, successfully, after close. */
	tsu_run_pending(&t.ex);
	TEST_ASSERT(gd.n == 1 && dd.n == 50 && dd.failed == 0);
	TEST_ASSERT(done.n == p.queued && done.failed == 0);
	TEST_ASSERT(r[49].uid == 50);

	tsu_reopen(&t);
	TEST_ASSERT(tsu_count(&t, prefix, sizeof(prefix)) == (size_t)p.queued);
	TEST_ASSERT(store_account_get(t.st, a, &ai, NULL) == 0 &&
	            ai.messages == 50);
	tsu_gate_destroy(&g);
	tsu_close(&t);
}
