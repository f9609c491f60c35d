/* test_store_index.c: store_mailbox_index, the read behind SELECT
 * (storage/store_mbox_read.c): UIDs, flags and modseqs from the compact
 * mailbox index (storage/store_idx.c), CHANGEDSINCE, the index built for a
 * store written before it existed, and the time it takes for a mailbox
 * of 100,000 messages (printed; the CPU time of the read must stay under
 * 50 ms in builds without sanitizers, 500 ms with them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/rs_mem.h"
#include "storage/store_int.h"
#include "storage/store_keys.h"
#include "storage/store_rec.h"
#include "tests/unit/storage/test_store_util.h"
#include "tests/unit/test.h"

void
test_store_index_basic(void)
{
	struct tsu t;
	struct store_acct a = { 1, 1 }, never = { 1, 2 };
	struct store_index ix;
	uint32_t two = 2;
	int rc;

	tsu_open(&t, false, 0);
	for (int i = 0; i < 3; i++) {
		struct store_rcpt r = tsu_rcpt(a.part, a.id, NULL);

		TEST_ASSERT(tsu_deliver(&t, "m", 1, &r, 1) == 0 && r.rc == 0);
	}
	TEST_ASSERT(tsu_flags(&t, a, 1, &two, 1, STORE_FLAGS_ADD,
	                      STORE_FLAG_SEEN | STORE_FLAG_DELETED) == 0);
	TEST_ASSERT(store_mailbox_index(t.st, a, 1, 0, &ix, NULL) == 0);
	TEST_ASSERT(ix.n == 3 && ix.mb.messages == 3 && ix.mb.uidnext == 4 &&
	            ix.mb.highestmodseq == 4 && ix.mb.unseen == 2 &&
	            ix.mb.deleted == 1 && ix.mb.deleted_bytes == 1);
	for (size_t i = 0; i < ix.n && i < 3; i++) {
		TEST_ASSERT_IDX(ix.v[i].uid == i + 1, i);
		TEST_ASSERT_IDX(ix.v[i].modseq == (i == 1 ? 4 : i + 1), i);
		TEST_ASSERT_IDX(ix.v[i].flags == (i == 1 ? STORE_FLAG_SEEN |
		                                  STORE_FLAG_DELETED : 0u), i);
	}
	store_index_free(&ix);
	/* CHANGEDSINCE: only what changed after modseq 2; the mailbox is
	 * still described whole. */
	TEST_ASSERT(store_mailbox_index(t.st, a, 1, 2, &ix, NULL) == 0);
	TEST_ASSERT(ix.n == 2 && ix.v[0].uid == 2 && ix.v[1].uid == 3 &&
	            ix.mb.messages == 3);
	store_index_free(&ix);
	rc = store_mailbox_index(t.st, a, 99, 0, &ix, NULL);
	TEST_ASSERT(rc == RS_ENOTFOUND && ix.n == 0 && ix.v == NULL);
	store_index_free(&ix);
	/* A never-used account's INBOX is there, empty. */
	TEST_ASSERT(store_mailbox_index(t.st, never, 1, 0, &ix, NULL) == 0 &&
	            ix.n == 0 && ix.mb.uidnext == 1);
	store_index_free(&ix);
	store_index_free(NULL);
	tsu_close(&t);
}

/* ---- a store written before the index existed ---- */

#define TEST_UPGRADE_N 150u

/* Forgets the index: every 'I' key of the account and the marker. */
static int
test_forget_apply(struct store_txn *txn, void *arg, struct rs_err *err)
{
	const struct store_acct *a = arg;
	uint8_t key[STORE_KEYS_IDX_LEN];

	(void)err;
	for (uint32_t mbox = 1; mbox <= 8; mbox++)
		for (uint32_t c = 0; c <= TEST_UPGRADE_N / STORE_IDX_CHUNK; c++)
			store_txn_del(txn, key, store_keys_idx(key, *a, mbox, c));
	store_txn_del(txn, store__idx_marker, sizeof(store__idx_marker));
	return 0;
}

static void
test_index_same(const struct store_index *x, const struct store_index *y)
{
	TEST_ASSERT_INTEQ(x->n, y->n);
	for (size_t i = 0; i < x->n && i < y->n; i++)
		TEST_ASSERT_IDX(x->v[i].uid == y->v[i].uid &&
		                x->v[i].flags == y->v[i].flags &&
		                x->v[i].modseq == y->v[i].modseq, i);
}

void
test_store_index_upgrade(void)
{
	struct tsu t;
	struct store_acct a = { 3, 7 };
	struct store_index before, after, old;
	struct store_mailbox mb;
	uint32_t uids[TEST_UPGRADE_N / 3];
	uint8_t prefix[STORE_KEYS_MBOX_LEN];
	size_t n = 0;

	tsu_open(&t, false, 0);
	for (uint32_t i = 0; i < TEST_UPGRADE_N; i++) {
		struct store_rcpt r = tsu_rcpt(a.part, a.id, NULL);

		TEST_ASSERT(tsu_deliver(&t, "m", 1, &r, 1) == 0 && r.rc == 0);
		if (i % 3 == 1)
			uids[n++] = r.uid;
	}
	TEST_ASSERT(tsu_flags(&t, a, 1, uids, n / 2, STORE_FLAGS_ADD,
	                      STORE_FLAG_FLAGGED) == 0);
	TEST_ASSERT(tsu_expunge(&t, a, 1, uids + n / 2, n - n / 2) == 0);
	TEST_ASSERT(store_mailbox_index(t.st, a, 1, 0, &before, NULL) == 0);
	TEST_ASSERT_INTEQ(before.n, TEST_UPGRADE_N - (n - n / 2));
	TEST_ASSERT(tsu_submit(&t, test_forget_apply, &a) == 0);
	TEST_ASSERT(tsu_count(&t, prefix, store_keys_mbox_tag(
	                      prefix, a, STORE_KEYS_IDX, 1)) == 0);
	/* Reopened, the store sees no marker and rebuilds the index from
	 * the message records. */
	tsu_reopen(&t);
	TEST_ASSERT(store_mailbox_index(t.st, a, 1, 0, &after, NULL) == 0);
	test_index_same(&before, &after);
	store_index_free(&after);
	/* Renaming INBOX moves its messages: the index follows them. */
	TEST_ASSERT(tsu_rename(&t, a, "INBOX", "Old") == 0);
	TEST_ASSERT(store_mailbox_find(t.st, a, "Old", &mb, NULL) == 0);
	TEST_ASSERT(store_mailbox_index(t.st, a, 1, 0, &after, NULL) == 0 &&
	            after.n == 0);
	store_index_free(&after);
	TEST_ASSERT(store_mailbox_index(t.st, a, mb.id, 0, &old, NULL) == 0);
	TEST_ASSERT_INTEQ(old.n, before.n);
	for (size_t i = 0; i < old.n && i < before.n; i++)
		TEST_ASSERT_IDX(old.v[i].flags == before.v[i].flags, i);
	store_index_free(&old);
	store_index_free(&before);
	tsu_close(&t);
}

/* ---- 100,000 messages ---- */

#define TEST_INDEX_N     100000u
#define TEST_INDEX_STEP  10000u

/* Writes messages [first, first + STEP) of INBOX as the store would:
 * records and their index entries only (SELECT reads nothing else). */
struct test_bulk {
	struct store_acct a;
	uint32_t          first;
	uint8_t           blob[STORE_HASH_LEN];
};

static int
test_bulk_apply(struct store_txn *txn, void *arg, struct rs_err *err)
{
	struct test_bulk *b = arg;
	static const char *const kw[] = { "$Forwarded", "Project" };
	struct store_msg m;
	uint8_t key[STORE_KEYS_MSG_LEN], val[256];

	(void)err;
	memset(&m, 0, sizeof(m));
	memcpy(m.blob, b->blob, sizeof(m.blob));
	m.size = 4000;
	m.internal_date = 1700000000;
	m.keywords[0] = kw[0];
	m.keywords[1] = kw[1];
	for (uint32_t uid = b->first; uid < b->first + TEST_INDEX_STEP; uid++) {
		m.modseq = uid + 1;
		m.flags = uid % 3 == 0 ? 0 : STORE_FLAG_SEEN;
		m.nkeywords = uid % 5 == 0 ? 2 : 0;
		m.mailbox = 1;
		m.uid = uid;
		store_txn_put(txn, key, store_keys_msg(key, b->a, 1, uid), val,
		              store_rec_msg_enc(val, &m));
		store__idx_set(txn, b->a, &m);
	}
	return 0;
}

/* The INBOX record made to describe the bulk messages. */
static int
test_bulk_mbox(struct store_txn *txn, void *arg, struct rs_err *err)
{
	struct store_mailbox *mb = arg;
	uint8_t key[STORE_KEYS_MBOX_LEN], val[STORE_REC_MBOX_MAX];
	struct store_acct a = { 2, 1 };

	(void)err;
	store_txn_put(txn, key, store_keys_mbox(key, a, 1), val,
	              store_rec_mbox_enc(val, mb));
	return 0;
}

static double
test_ms(const struct timespec *t0, const struct timespec *t1)
{
	return (double)(t1->tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t1->tv_nsec - t0->tv_nsec) / 1e6;
}

/* Wall time in *wall_r; returns the calling thread's CPU time, which is
 * what the read costs (it runs on the caller's thread) whatever else the
 * machine is busy with. */
static double
test_index_ms(struct tsu *t, struct store_acct a, struct store_index *ix,
              double *wall_r)
{
	struct timespec w0, w1, c0, c1;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &w0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	rc = store_mailbox_index(t->st, a, 1, 0, ix, NULL);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	clock_gettime(CLOCK_MONOTONIC, &w1);
	TEST_ASSERT(rc == 0);
	*wall_r = test_ms(&w0, &w1);
	return test_ms(&c0, &c1);
}

static void
test_index_build(struct tsu *t, struct store_acct a)
{
	struct store_rcpt r = tsu_rcpt(a.part, a.id, NULL);
	struct store_mailbox mb;
	struct test_bulk b = { .a = a };

	/* One real delivery creates the account, INBOX and the blob. */
	TEST_ASSERT(tsu_deliver(t, "x", 1, &r, 1) == 0 && r.rc == 0);
	tsu_sha256("x", 1, b.blob);
	for (b.first = 1; b.first <= TEST_INDEX_N; b.first += TEST_INDEX_STEP)
		TEST_ASSERT(tsu_submit(t, test_bulk_apply, &b) == 0);
	TEST_ASSERT(store_mailbox_find(t->st, a, NULL, &mb, NULL) == 0);
	mb.messages = TEST_INDEX_N;
	mb.uidnext = TEST_INDEX_N + 1;
	mb.highestmodseq = TEST_INDEX_N + 1;
	TEST_ASSERT(tsu_submit(t, test_bulk_mbox, &mb) == 0);
	/* Reopened, the records are read from table files, not from the
	 * memtable they were written to. */
	tsu_reopen(t);
}

void
test_store_index_100k(void)
{
	struct tsu t;
	struct store_acct a = { 2, 1 };
	struct store_index ix;
	double cpu, wall, best = 1e9, best_wall = 1e9;
	size_t bad = 0;

	tsu_open(&t, false, 0);
	test_index_build(&t, a);
	for (int run = 0; run < 3; run++) {
		cpu = test_index_ms(&t, a, &ix, &wall);
		if (run == 0)
			printf("store_mailbox_index %u messages: first %.1f ms "
			       "(cpu %.1f)", TEST_INDEX_N, wall, cpu);
		best = cpu < best ? cpu : best;
		best_wall = wall < best_wall ? wall : best_wall;
		if (run < 2)
			store_index_free(&ix);
	}
	printf(", best of 3 %.1f ms (cpu %.1f)\n", best_wall, best);
	TEST_ASSERT(ix.n == TEST_INDEX_N && ix.mb.messages == TEST_INDEX_N);
	for (size_t i = 0; i < ix.n; i++) {
		uint32_t uid = (uint32_t)i + 1;

		bad += ix.v[i].uid != uid || ix.v[i].modseq != uid + 1 ||
		       ix.v[i].flags != (uid % 3 == 0 ? 0u : STORE_FLAG_SEEN);
	}
	TEST_ASSERT_INTEQ(bad, 0);
	store_index_free(&ix);
#if defined(__SANITIZE_ADDRESS__)
	TEST_ASSERT(best < 500.0);
#else
	TEST_ASSERT(best < 50.0);
#endif
	tsu_close(&t);
}
