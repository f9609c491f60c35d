/* test_store_repl.c: the store's side of replication between two stores
 * in one process: roles refuse writes, a primary's groups become entries
 * with positions, answers and readers wait for acks, a follower applies
 * entries in order only and checks them (older epochs' entries too, when
 * the primary it follows now ships them), and a whole partition is copied
 * by export, drop and import. The shipping is done by hand here; the
 * cluster's replication does it over peer RPC. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/rs_mem.h"
#include "storage/store.h"
#include "storage/store_int.h"
#include "tests/unit/storage/test_store_util.h"
#include "tests/unit/test.h"

struct tsr_entry {
	uint32_t         part;
	struct store_pos pos;
	uint8_t         *data;
	size_t           len;
};

/* What the primary shipped, in order. */
struct tsr_log {
	pthread_mutex_t  mu;
	struct tsr_entry e[64];
	size_t           n;
};

static void
tsr_ship(void *arg, uint32_t part, struct store_pos pos, uint8_t *data,
         size_t len)
{
	struct tsr_log *l = arg;

	pthread_mutex_lock(&l->mu);
	if (l->n < 64) {
		l->e[l->n] = (struct tsr_entry){ part, pos, data, len };
		l->n++;
	} else {
		free(data);
	}
	pthread_mutex_unlock(&l->mu);
}

static size_t
tsr_count(struct tsr_log *l)
{
	size_t n;

	pthread_mutex_lock(&l->mu);
	n = l->n;
	pthread_mutex_unlock(&l->mu);
	return n;
}

static void
tsr_log_free(struct tsr_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].data);
	pthread_mutex_destroy(&l->mu);
}

static const char tsr_body[] = "From: a@b\r\nSubject: repl\r\n\r\nhello\r\n";

/* e as the primary of epoch ships it. */
static int
tsr_apply_from(struct tsu *t, int64_t epoch, const struct tsr_entry *e)
{
	struct tsu_done d = { 0 };
	struct rs_err err;

	return tsu_wait(t, store_repl_apply(t->st, e->part, epoch, e->pos,
	                                    e->data, e->len, &t->ex.base,
	                                    tsu_done_cb, &d, &err), &d, &err);
}

/* e as the primary that wrote it ships it. */
static int
tsr_apply(struct tsu *t, const struct tsr_entry *e)
{
	return tsr_apply_from(t, e->pos.epoch, e);
}

static uint64_t
tsr_messages(struct tsu *t, struct store_acct a)
{
	struct store_account_info info;
	struct rs_err err;

	if (store_account_get(t->st, a, &info, &err) != 0)
		return (uint64_t)-1;
	return info.messages;
}

/* Roles: a cluster store writes only partitions it is primary of. */
void
test_store_repl_roles(void)
{
	struct tsu p;
	struct tsr_log log = { .n = 0 };
	struct store_rcpt r = tsu_rcpt(3, 30, NULL);
	struct store_pos pos;
	struct rs_err err;

	pthread_mutex_init(&log.mu, NULL);
	tsu_open(&p, false, 0);
	store_repl_enable(p.st, tsr_ship, &log);
	TEST_ASSERT_INTEQ(tsu_deliver(&p, tsr_body, sizeof(tsr_body) - 1, &r, 1),
	                  RS_EUNAVAIL);
	TEST_ASSERT(store_repl_set_role(p.st, 3, STORE_ROLE_FOLLOWER, 1, false,
	                                &err) == 0);
	TEST_ASSERT_INTEQ(tsu_deliver(&p, tsr_body, sizeof(tsr_body) - 1, &r, 1),
	                  RS_EUNAVAIL);
	TEST_ASSERT(store_repl_set_role(p.st, 3, STORE_ROLE_PRIMARY, 1, false,
	                                &err) == 0);
	TEST_ASSERT_INTEQ(tsu_deliver(&p, tsr_body, sizeof(tsr_body) - 1, &r, 1),
	                  0);
	TEST_ASSERT(r.rc == 0 && r.uid == 1);
	TEST_ASSERT(tsu_deliver(&p, tsr_body, sizeof(tsr_body) - 1, &r, 1) == 0);
	pos = store_repl_position(p.st, 3);
	TEST_ASSERT(pos.epoch == 1 && pos.lsn == 2);
	TEST_ASSERT_INTEQ(tsr_count(&log), 2);
	TEST_ASSERT(log.e[1].pos.lsn == 2 && log.e[1].part == 3);
	/* A partition with no role stays refused beside it. */
	r = tsu_rcpt(4, 40, NULL);
	TEST_ASSERT_INTEQ(tsu_deliver(&p, tsr_body, sizeof(tsr_body) - 1, &r, 1),
	                  RS_EUNAVAIL);
	/* The position survives a restart. */
	tsu_reopen(&p);
	store_repl_enable(p.st, tsr_ship, &log);
	pos = store_repl_position(p.st, 3);
	TEST_ASSERT(pos.epoch == 1 && pos.lsn == 2);
	tsu_close(&p);
	tsr_log_free(&log);
}

/* A waiting primary: the answer and the readers' view wait for the ack;
 * the follower applies the entries in order only. */
void
test_store_repl_wait_and_apply(void)
{
	struct tsu p, f;
	struct tsr_log log = { .n = 0 };
	struct store_rcpt r = tsu_rcpt(3, 30, NULL);
	struct store_message msg = { (const uint8_t *)tsr_body,
	                             sizeof(tsr_body) - 1, 1700000000, NULL, 0,
	                             NULL, 0 };
	struct tsu_done d = { 0 };
	struct rs_err err;
	struct tsr_entry bad;

	pthread_mutex_init(&log.mu, NULL);
	tsu_open(&p, false, 0);
	tsu_open(&f, false, 0);
	store_repl_enable(p.st, tsr_ship, &log);
	store_repl_enable(f.st, NULL, NULL);
	TEST_ASSERT(store_repl_set_role(p.st, 3, STORE_ROLE_PRIMARY, 2, true,
	                                &err) == 0);
	TEST_ASSERT(store_repl_set_role(f.st, 3, STORE_ROLE_FOLLOWER, 2, false,
	                                &err) == 0);
	TEST_ASSERT(store_deliver(p.st, &msg, &r, 1, &p.ex.base, tsu_done_cb, &d,
	                          &err) == 0);
	/* Shipped, durable here, but neither answered nor visible. */
	for (int i = 0; i < 200 && tsr_count(&log) == 0; i++)
		usleep(5000);
	TEST_ASSERT_INTEQ(tsr_count(&log), 1);
	usleep(20000);
	tsu_run_pending(&p.ex);
	TEST_ASSERT_INTEQ(d.n, 0);
	TEST_ASSERT_INTEQ(tsr_messages(&p, r.acct), 0);
	/* The follower applies it; out of order and forged ones fail. */
	bad = log.e[0];
	bad.pos.lsn = 2;
	TEST_ASSERT_INTEQ(tsr_apply(&f, &bad), RS_ECONFLICT);
	bad.pos.lsn = 1;
	bad.pos.epoch = 1;
	TEST_ASSERT_INTEQ(tsr_apply(&f, &bad), RS_EUNAVAIL);
	bad = log.e[0];
	bad.part = 4;              /* keys of partition 3 as 4's */
	TEST_ASSERT(store_repl_set_role(f.st, 4, STORE_ROLE_FOLLOWER, 2, false,
	                                &err) == 0);
	TEST_ASSERT_INTEQ(tsr_apply(&f, &bad), RS_EINVAL);
	TEST_ASSERT_INTEQ(tsr_apply(&f, &log.e[0]), 0);
	TEST_ASSERT_INTEQ(tsr_messages(&f, r.acct), 1);
	TEST_ASSERT(store_repl_position(f.st, 3).lsn == 1);
	TEST_ASSERT_INTEQ(tsr_apply(&f, &log.e[0]), RS_ECONFLICT);
	/* The ack releases the answer and the view. */
	store_repl_acked(p.st, 3, 1);
	tsu_run(&p.ex, &d.n, 1);
	TEST_ASSERT(d.rc == 0 && r.rc == 0 && r.uid == 1);
	TEST_ASSERT_INTEQ(tsr_messages(&p, r.acct), 1);
	/* No follower in sync any more: nothing waits. */
	TEST_ASSERT(store_repl_set_role(p.st, 3, STORE_ROLE_PRIMARY, 2, false,
	                                &err) == 0);
	TEST_ASSERT(tsu_deliver(&p, tsr_body, sizeof(tsr_body) - 1, &r, 1) == 0);
	TEST_ASSERT(r.uid == 2);
	tsu_close(&p);
	tsu_close(&f);
	tsr_log_free(&log);
}

/* A primary promoted at epoch 2 ships the entries of epoch 1 it kept:
 * its followers apply them; the deposed primary of epoch 1 and an entry
 * from an epoch the follower does not know yet are refused. */
void
test_store_repl_apply_older_epoch(void)
{
	struct tsu p, f;
	struct tsr_log log = { .n = 0 };
	struct store_rcpt r = tsu_rcpt(3, 30, NULL);
	struct tsr_entry future;
	struct store_pos pos;
	struct rs_err err;

	pthread_mutex_init(&log.mu, NULL);
	tsu_open(&p, false, 0);
	tsu_open(&f, false, 0);
	store_repl_enable(p.st, tsr_ship, &log);
	store_repl_enable(f.st, NULL, NULL);
	TEST_ASSERT(store_repl_set_role(p.st, 3, STORE_ROLE_PRIMARY, 1, false,
	                                &err) == 0);
	TEST_ASSERT(tsu_deliver(&p, tsr_body, sizeof(tsr_body) - 1, &r, 1) == 0);
	TEST_ASSERT(tsu_deliver(&p, tsr_body, sizeof(tsr_body) - 1, &r, 1) == 0);
	TEST_ASSERT_INTEQ(tsr_count(&log), 2);
	TEST_ASSERT(store_repl_set_role(f.st, 3, STORE_ROLE_FOLLOWER, 2, false,
	                                &err) == 0);
	TEST_ASSERT_INTEQ(tsr_apply_from(&f, 2, &log.e[0]), 0);
	TEST_ASSERT_INTEQ(tsr_apply_from(&f, 1, &log.e[1]), RS_EUNAVAIL);
	future = log.e[1];
	future.pos.epoch = 3;
	TEST_ASSERT_INTEQ(tsr_apply_from(&f, 2, &future), RS_EUNAVAIL);
	TEST_ASSERT_INTEQ(tsr_apply_from(&f, 2, &log.e[1]), 0);
	pos = store_repl_position(f.st, 3);
	TEST_ASSERT(pos.epoch == 1 && pos.lsn == 2);
	TEST_ASSERT_INTEQ(tsr_messages(&f, r.acct), 2);
	tsu_close(&p);
	tsu_close(&f);
	tsr_log_free(&log);
}

/* lead delivers a message to r's account at epoch, with fol following
 * it, and fol applies the entry lead shipped; returns the UID. */
static uint32_t
tsr_lead_one(struct tsu *lead, struct tsr_log *log, struct tsu *fol,
             int64_t epoch, struct store_rcpt *r)
{
	size_t n = tsr_count(log);
	struct rs_err err;

	TEST_ASSERT(store_repl_set_role(lead->st, 3, STORE_ROLE_PRIMARY, epoch,
	                                false, &err) == 0);
	TEST_ASSERT(store_repl_set_role(fol->st, 3, STORE_ROLE_FOLLOWER, epoch,
	                                false, &err) == 0);
	TEST_ASSERT(tsu_deliver(lead, tsr_body, sizeof(tsr_body) - 1, r, 1) == 0);
	TEST_ASSERT_INTEQ(tsr_count(log), n + 1);
	if (tsr_count(log) == n + 1)
		TEST_ASSERT_INTEQ(tsr_apply(fol, &log->e[n]), 0);
	return r->uid;
}

/* A store that leads, follows and leads again goes on from what the
 * entries it applied as a follower wrote, not from what its writer's
 * cache remembered of its own writes: the UIDs continue after the other
 * primary's. (Fails when an applied entry leaves the writer's cache as
 * it was: the third message then takes UID 2 again.) */
void
test_store_repl_lead_follow_lead(void)
{
	struct tsu x, y;
	struct tsr_log lx = { .n = 0 }, ly = { .n = 0 };
	struct store_rcpt r = tsu_rcpt(3, 30, NULL);

	pthread_mutex_init(&lx.mu, NULL);
	pthread_mutex_init(&ly.mu, NULL);
	tsu_open(&x, false, 0);
	tsu_open(&y, false, 0);
	store_repl_enable(x.st, tsr_ship, &lx);
	store_repl_enable(y.st, tsr_ship, &ly);
	TEST_ASSERT_INTEQ(tsr_lead_one(&x, &lx, &y, 1, &r), 1);
	TEST_ASSERT_INTEQ(tsr_lead_one(&y, &ly, &x, 2, &r), 2);
	TEST_ASSERT_INTEQ(tsr_lead_one(&x, &lx, &y, 3, &r), 3);
	TEST_ASSERT_INTEQ(tsr_messages(&x, r.acct), 3);
	TEST_ASSERT_INTEQ(tsr_messages(&y, r.acct), 3);
	tsu_close(&x);
	tsu_close(&y);
	tsr_log_free(&lx);
	tsr_log_free(&ly);
}

/* Losing the primary role answers the writes that waited "unknown". */
void
test_store_repl_role_lost(void)
{
	struct tsu p;
	struct tsr_log log = { .n = 0 };
	struct store_rcpt r = tsu_rcpt(5, 50, NULL);
	struct store_message msg = { (const uint8_t *)tsr_body,
	                             sizeof(tsr_body) - 1, 1700000000, NULL, 0,
	                             NULL, 0 };
	struct tsu_done d = { 0 };
	struct rs_err err;

	pthread_mutex_init(&log.mu, NULL);
	tsu_open(&p, false, 0);
	store_repl_enable(p.st, tsr_ship, &log);
	TEST_ASSERT(store_repl_set_role(p.st, 5, STORE_ROLE_PRIMARY, 1, true,
	                                &err) == 0);
	TEST_ASSERT(store_deliver(p.st, &msg, &r, 1, &p.ex.base, tsu_done_cb, &d,
	                          &err) == 0);
	for (int i = 0; i < 200 && tsr_count(&log) == 0; i++)
		usleep(5000);
	usleep(20000);
	tsu_run_pending(&p.ex);
	TEST_ASSERT_INTEQ(d.n, 0);
	TEST_ASSERT(store_repl_set_role(p.st, 5, STORE_ROLE_FOLLOWER, 2, false,
	                                &err) == 0);
	tsu_run(&p.ex, &d.n, 1);
	TEST_ASSERT_INTEQ(d.rc, RS_EUNAVAIL);
	tsu_close(&p);
	tsr_log_free(&log);
}

/* A fenced primary (its role gone, its epoch the same) may go on serving
 * reads: they never show what waited for the followers, until it leads
 * the partition again (its writes then go out first) or another epoch
 * begins (another node serves it). */
void
test_store_repl_fenced_reads(void)
{
	static const struct {
		enum store_role role;
		int64_t         epoch;
		uint64_t        want_messages;
	} cases[] = {
		{ STORE_ROLE_NONE, 1, 0 },         /* still fenced */
		{ STORE_ROLE_PRIMARY, 1, 1 },
		{ STORE_ROLE_FOLLOWER, 2, 1 },
		{ STORE_ROLE_NONE, 2, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tsu p;
		struct tsr_log log = { .n = 0 };
		struct store_rcpt r = tsu_rcpt(5, 52, NULL);
		struct store_message msg = { (const uint8_t *)tsr_body,
		                             sizeof(tsr_body) - 1, 1700000000,
		                             NULL, 0, NULL, 0 };
		struct tsu_done d = { 0 };
		struct rs_err err;

		pthread_mutex_init(&log.mu, NULL);
		tsu_open(&p, false, 0);
		store_repl_enable(p.st, tsr_ship, &log);
		TEST_ASSERT(store_repl_set_role(p.st, 5, STORE_ROLE_PRIMARY, 1,
		                                true, &err) == 0);
		TEST_ASSERT(store_deliver(p.st, &msg, &r, 1, &p.ex.base,
		                          tsu_done_cb, &d, &err) == 0);
		for (int k = 0; k < 200 && tsr_count(&log) == 0; k++)
			usleep(5000);
		TEST_ASSERT(store_repl_set_role(p.st, 5, STORE_ROLE_NONE, 1,
		                                false, &err) == 0);
		tsu_run(&p.ex, &d.n, 1);
		TEST_ASSERT_INTEQ(d.rc, RS_EUNAVAIL);
		TEST_ASSERT_INTEQ(tsr_messages(&p, r.acct), 0);
		TEST_ASSERT(store_repl_set_role(p.st, 5, cases[i].role,
		                                cases[i].epoch, false,
		                                &err) == 0);
		TEST_ASSERT_IDX(tsr_messages(&p, r.acct) ==
		                cases[i].want_messages, i);
		tsu_close(&p);
		tsr_log_free(&log);
	}
}

/* A write made as primary whose group is synced only after the role
 * went (a fence, a failover) is not answered as stored: its followers
 * may never get it. */
void
test_store_repl_role_lost_before_sync(void)
{
	struct tsu_hold hold = { 0 };
	struct tsu p;
	struct tsr_log log = { .n = 0 };
	struct store_rcpt r = tsu_rcpt(5, 51, NULL);
	struct store_message msg = { (const uint8_t *)tsr_body,
	                             sizeof(tsr_body) - 1, 1700000000, NULL, 0,
	                             NULL, 0 };
	struct tsu_done d = { 0 };
	struct rs_err err;

	pthread_mutex_init(&log.mu, NULL);
	tsu_gate_init(&hold.gate);
	tsu_open(&p, true, 0);
	p.o.before_sync = tsu_hold_before_sync;
	p.o.before_sync_arg = &hold;
	tsu_reopen(&p);
	store_repl_enable(p.st, tsr_ship, &log);
	TEST_ASSERT(store_repl_set_role(p.st, 5, STORE_ROLE_PRIMARY, 1, true,
	                                &err) == 0);
	__atomic_store_n(&hold.armed, true, __ATOMIC_RELEASE);
	TEST_ASSERT(store_deliver(p.st, &msg, &r, 1, &p.ex.base, tsu_done_cb,
	                          &d, &err) == 0);
	tsu_gate_wait_entered(&hold.gate);
	TEST_ASSERT(store_repl_set_role(p.st, 5, STORE_ROLE_NONE, 1, false,
	                                &err) == 0);
	tsu_gate_open(&hold.gate);
	tsu_run(&p.ex, &d.n, 1);
	TEST_ASSERT_INTEQ(d.rc, RS_EUNAVAIL);
	TEST_ASSERT_INTEQ(tsr_messages(&p, r.acct), 0);
	tsu_close(&p);
	tsu_gate_destroy(&hold.gate);
	tsr_log_free(&log);
}

/* A retry found by its idempotency key is answered like a write: held
 * until the followers have the first copy, and refused where this node
 * may not write the partition (a fenced primary's copy may never reach
 * the next one). */
void
test_store_repl_idem_retry(void)
{
	static const uint8_t idem[32] = { 1, 2, 3 };
	struct tsu p;
	struct tsr_log log = { .n = 0 };
	struct store_rcpt r1 = tsu_rcpt(6, 60, NULL), r2 = r1, r3 = r1;
	struct store_message msg = { (const uint8_t *)tsr_body,
	                             sizeof(tsr_body) - 1, 1700000000, NULL, 0,
	                             idem, sizeof(idem) };
	struct tsu_done d1 = { 0 }, d2 = { 0 }, d3 = { 0 };
	struct rs_err err;

	pthread_mutex_init(&log.mu, NULL);
	tsu_open(&p, false, 0);
	store_repl_enable(p.st, tsr_ship, &log);
	TEST_ASSERT(store_repl_set_role(p.st, 6, STORE_ROLE_PRIMARY, 1, true,
	                                &err) == 0);
	TEST_ASSERT(store_deliver(p.st, &msg, &r1, 1, &p.ex.base, tsu_done_cb,
	                          &d1, &err) == 0);
	for (int i = 0; i < 200 && tsr_count(&log) < 1; i++)
		usleep(5000);
	TEST_ASSERT(store_deliver(p.st, &msg, &r2, 1, &p.ex.base, tsu_done_cb,
	                          &d2, &err) == 0);
	for (int i = 0; i < 200 && tsr_count(&log) < 2; i++)
		usleep(5000);
	TEST_ASSERT_INTEQ(tsr_count(&log), 2);
	usleep(20000);
	tsu_run_pending(&p.ex);
	TEST_ASSERT(d1.n == 0 && d2.n == 0);
	/* The first copy acked, not yet the retry's entry: still held. */
	store_repl_acked(p.st, 6, 1);
	tsu_run(&p.ex, &d1.n, 1);
	usleep(20000);
	tsu_run_pending(&p.ex);
	TEST_ASSERT_INTEQ(d2.n, 0);
	store_repl_acked(p.st, 6, 2);
	tsu_run(&p.ex, &d2.n, 1);
	TEST_ASSERT(d1.rc == 0 && d2.rc == 0 && r1.rc == 0 && r2.rc == 0);
	TEST_ASSERT(r1.uid == 1 && r2.uid == 1);
	TEST_ASSERT_INTEQ(tsr_messages(&p, r1.acct), 1);
	/* Fenced: no role, so no answer from the copy either. */
	TEST_ASSERT(store_repl_set_role(p.st, 6, STORE_ROLE_NONE, 1, false,
	                                &err) == 0);
	TEST_ASSERT_INTEQ(tsu_wait(&p, store_deliver(p.st, &msg, &r3, 1,
	                                             &p.ex.base, tsu_done_cb,
	                                             &d3, &err), &d3, &err),
	                  RS_EUNAVAIL);
	tsu_close(&p);
	tsr_log_free(&log);
}

/* The copy and the primary hash alike (positions included), an empty
 * partition too; an entry the follower lacks makes them differ. */
static void
tsr_digests(struct tsu *p, struct tsu *f)
{
	struct store_rcpt r = tsu_rcpt(7, 70, NULL);
	struct store_digest dp, df;
	struct rs_err err;

	TEST_ASSERT(store_repl_digest(p->st, 7, &dp, &err) == 0);
	TEST_ASSERT(store_repl_digest(f->st, 7, &df, &err) == 0);
	TEST_ASSERT(dp.pos.epoch == 3 && dp.pos.lsn == 6);
	TEST_ASSERT(df.pos.epoch == 3 && df.pos.lsn == 6);
	TEST_ASSERT(dp.keys > 10 && dp.keys == df.keys);
	TEST_ASSERT(memcmp(dp.sha256, df.sha256, sizeof(dp.sha256)) == 0);
	TEST_ASSERT(store_repl_digest(p->st, 8, &dp, &err) == 0);
	TEST_ASSERT(store_repl_digest(f->st, 8, &df, &err) == 0);
	TEST_ASSERT(dp.keys == 0 && dp.pos.lsn == 0);
	TEST_ASSERT(memcmp(dp.sha256, df.sha256, sizeof(dp.sha256)) == 0);
	TEST_ASSERT(tsu_deliver(p, tsr_body, sizeof(tsr_body) - 1, &r, 1) == 0);
	TEST_ASSERT(store_repl_digest(p->st, 7, &dp, &err) == 0);
	TEST_ASSERT(store_repl_digest(f->st, 7, &df, &err) == 0);
	TEST_ASSERT(dp.pos.lsn == 7 && df.pos.lsn == 6);
	TEST_ASSERT(memcmp(dp.sha256, df.sha256, sizeof(dp.sha256)) != 0);
	TEST_ASSERT(store_repl_digest(p->st, STORE_PART_LOCAL, &dp,
	                              &err) != 0 && err.code == RS_EINVAL);
}

/* A whole partition copied: export at a snapshot, drop, import, end; the
 * copies' digests then agree. */
void
test_store_repl_copy(void)
{
	struct tsu p, f;
	struct tsr_log log = { .n = 0 };
	struct store_rcpt r[3] = { tsu_rcpt(7, 70, NULL), tsu_rcpt(7, 71, NULL),
	                           tsu_rcpt(7, 72, "Archive") };
	struct store_rcpt old = tsu_rcpt(7, 99, NULL);
	struct store_export *x;
	struct store_pos pos;
	struct tsu_done d = { 0 };
	struct rs_err err;
	uint8_t *chunk;
	size_t len;
	int rc, chunks = 0;

	pthread_mutex_init(&log.mu, NULL);
	tsu_open(&p, false, 0);
	tsu_open(&f, false, 0);
	store_repl_enable(p.st, tsr_ship, &log);
	store_repl_enable(f.st, NULL, NULL);
	TEST_ASSERT(store_repl_set_role(p.st, 7, STORE_ROLE_PRIMARY, 3, false,
	                                &err) == 0);
	for (int i = 0; i < 5; i++)
		TEST_ASSERT(tsu_deliver(&p, tsr_body, sizeof(tsr_body) - 1, r,
		                        3) == 0);
	/* The follower had something else in the partition. */
	TEST_ASSERT(store_repl_set_role(f.st, 7, STORE_ROLE_PRIMARY, 1, false,
	                                &err) == 0);
	TEST_ASSERT(tsu_deliver(&f, tsr_body, 3, &old, 1) == 0);
	TEST_ASSERT(store_repl_set_role(f.st, 7, STORE_ROLE_FOLLOWER, 3, false,
	                                &err) == 0);
	x = store_repl_export_open(p.st, 7, &pos);
	TEST_ASSERT(pos.epoch == 3 && pos.lsn == 5);
	TEST_ASSERT(tsu_wait(&f, store_repl_import_begin(f.st, 7, &f.ex.base,
	                                         tsu_done_cb, &d, &err), &d,
	                     &err) == 0);
	TEST_ASSERT(store_repl_position(f.st, 7).lsn == 0);
	while ((rc = store_repl_export_next(x, 512, &chunk, &len, &err)) == 1) {
		struct tsu_done d2 = { 0 };

		chunks++;
		TEST_ASSERT(tsu_wait(&f, store_repl_import(f.st, 7, chunk, len,
		                                           &f.ex.base,
		                                           tsu_done_cb, &d2,
		                                           &err), &d2,
		                     &err) == 0);
		free(chunk);
	}
	TEST_ASSERT_INTEQ(rc, 0);
	TEST_ASSERT(chunks > 1);
	store_repl_export_close(&x);
	{
		struct tsu_done d3 = { 0 };

		TEST_ASSERT(tsu_wait(&f, store_repl_import_end(f.st, 7, pos,
		                                               &f.ex.base,
		                                               tsu_done_cb, &d3,
		                                               &err), &d3,
		                     &err) == 0);
	}
	TEST_ASSERT(store_repl_position(f.st, 7).lsn == 5);
	TEST_ASSERT_INTEQ(tsr_messages(&f, r[0].acct), 5);
	TEST_ASSERT_INTEQ(tsr_messages(&f, r[2].acct), 5);
	TEST_ASSERT_INTEQ(tsr_messages(&f, old.acct), 0);
	/* The copy's range deletion shares the ingested file's sequence
	 * number: a compaction keeps the copy's keys and drops the old. */
	rocksdb_compact_range(f.st->db, NULL, 0, NULL, 0);
	TEST_ASSERT_INTEQ(tsr_messages(&f, r[0].acct), 5);
	TEST_ASSERT_INTEQ(tsr_messages(&f, old.acct), 0);
	/* And the log continues from there. */
	TEST_ASSERT(tsu_deliver(&p, tsr_body, sizeof(tsr_body) - 1, r, 1) == 0);
	TEST_ASSERT_INTEQ(tsr_apply(&f, &log.e[log.n - 1]), 0);
	TEST_ASSERT_INTEQ(tsr_messages(&f, r[0].acct), 6);
	tsr_digests(&p, &f);
	tsu_close(&p);
	tsu_close(&f);
	tsr_log_free(&log);
}

/* One chunk of a copy, through the writer; its completion's rc. */
static int
tsr_import(struct tsu *f, uint32_t part, const uint8_t *chunk, size_t len)
{
	struct tsu_done d = { 0 };
	struct rs_err err;

	return tsu_wait(f, store_repl_import(f->st, part, chunk, len,
	                                     &f->ex.base, tsu_done_cb, &d,
	                                     &err), &d, &err);
}

/* A copy is all or nothing: a chunk without a begun copy, or one whose
 * keys go back, is refused, and a refused or unfinished copy changes
 * nothing of what the follower held (its position included, after a
 * restart). */
void
test_store_repl_copy_refused(void)
{
	struct tsu p, f;
	struct store_rcpt r = tsu_rcpt(7, 70, NULL);
	struct store_rcpt old = tsu_rcpt(7, 99, NULL);
	struct store_export *x;
	struct store_pos pos, had;
	struct tsu_done d = { 0 };
	struct rs_err err;
	uint8_t *c1, *c2;
	size_t l1, l2;

	tsu_open(&p, false, 0);
	tsu_open(&f, false, 0);
	store_repl_enable(p.st, NULL, NULL);
	store_repl_enable(f.st, NULL, NULL);
	TEST_ASSERT(store_repl_set_role(p.st, 7, STORE_ROLE_PRIMARY, 3, false,
	                                &err) == 0);
	for (int i = 0; i < 5; i++)
		TEST_ASSERT(tsu_deliver(&p, tsr_body, sizeof(tsr_body) - 1, &r,
		                        1) == 0);
	TEST_ASSERT(store_repl_set_role(f.st, 7, STORE_ROLE_PRIMARY, 1, false,
	                                &err) == 0);
	TEST_ASSERT(tsu_deliver(&f, tsr_body, 3, &old, 1) == 0);
	had = store_repl_position(f.st, 7);
	TEST_ASSERT(had.epoch == 1 && had.lsn == 1);
	TEST_ASSERT(store_repl_set_role(f.st, 7, STORE_ROLE_FOLLOWER, 3, false,
	                                &err) == 0);
	x = store_repl_export_open(p.st, 7, &pos);
	TEST_ASSERT(store_repl_export_next(x, 256, &c1, &l1, &err) == 1);
	TEST_ASSERT(store_repl_export_next(x, 256, &c2, &l2, &err) == 1);
	store_repl_export_close(&x);
	/* No copy begun. */
	TEST_ASSERT_INTEQ(tsr_import(&f, 7, c1, l1), RS_ECONFLICT);
	/* Keys that go back: the copy is forgotten, its END refused. */
	TEST_ASSERT(tsu_wait(&f, store_repl_import_begin(f.st, 7, &f.ex.base,
	                                         tsu_done_cb, &d, &err), &d,
	                     &err) == 0);
	TEST_ASSERT_INTEQ(tsr_import(&f, 7, c2, l2), 0);
	TEST_ASSERT_INTEQ(tsr_import(&f, 7, c1, l1), RS_EINVAL);
	{
		struct tsu_done d2 = { 0 };

		TEST_ASSERT_INTEQ(tsu_wait(&f, store_repl_import_end(
		                                   f.st, 7, pos, &f.ex.base,
		                                   tsu_done_cb, &d2, &err),
		                           &d2, &err), RS_ECONFLICT);
	}
	TEST_ASSERT_INTEQ(tsr_messages(&f, old.acct), 1);
	TEST_ASSERT_INTEQ(tsr_messages(&f, r.acct), 0);
	/* Begun and cut short by a restart: the old state, whole. */
	{
		struct tsu_done d3 = { 0 };

		TEST_ASSERT(tsu_wait(&f, store_repl_import_begin(f.st, 7, &f.ex.base,
		                                         tsu_done_cb, &d3,
		                                         &err), &d3,
		                     &err) == 0);
	}
	TEST_ASSERT_INTEQ(tsr_import(&f, 7, c1, l1), 0);
	{
		char file[200];

		snprintf(file, sizeof(file), "%s/roost-import-7.sst", f.o.path);
		TEST_ASSERT(access(file, F_OK) == 0);
		tsu_reopen(&f);
		store_repl_enable(f.st, NULL, NULL);
		/* The unfinished copy's file is swept. */
		TEST_ASSERT(access(file, F_OK) != 0);
	}
	pos = store_repl_position(f.st, 7);
	TEST_ASSERT(pos.epoch == had.epoch && pos.lsn == had.lsn);
	TEST_ASSERT_INTEQ(tsr_messages(&f, old.acct), 1);
	TEST_ASSERT_INTEQ(tsr_messages(&f, r.acct), 0);
	free(c1);
	free(c2);
	tsu_close(&p);
	tsu_close(&f);
}

/* STORE_FAULT_WRITEs still to fail (the writer thread takes them). */
static int tsr_fail_writes;

static int
tsr_fault(void *arg, int fault)
{
	(void)arg;
	if (fault != STORE_FAULT_WRITE)
		return 0;
	for (;;) {
		int n = __atomic_load_n(&tsr_fail_writes, __ATOMIC_SEQ_CST);

		if (n <= 0)
			return 0;
		if (__atomic_compare_exchange_n(&tsr_fail_writes, &n, n - 1,
		                                false, __ATOMIC_SEQ_CST,
		                                __ATOMIC_SEQ_CST))
			return 1;
	}
}

/* A whole copy into f (begin, every chunk of part 7's export, end);
 * the END's rc. */
static int
tsr_copy(struct tsu *p, struct tsu *f, bool fail_ingest)
{
	struct store_export *x;
	struct store_pos pos;
	struct tsu_done d = { 0 }, d2 = { 0 };
	struct rs_err err;
	uint8_t *chunk;
	size_t len;

	TEST_ASSERT(tsu_wait(f, store_repl_import_begin(f->st, 7, &f->ex.base,
	                                                tsu_done_cb, &d, &err),
	                     &d, &err) == 0);
	x = store_repl_export_open(p->st, 7, &pos);
	while (store_repl_export_next(x, 512, &chunk, &len, &err) == 1) {
		TEST_ASSERT_INTEQ(tsr_import(f, 7, chunk, len), 0);
		free(chunk);
	}
	store_repl_export_close(&x);
	if (fail_ingest)
		__atomic_store_n(&tsr_fail_writes, 1, __ATOMIC_SEQ_CST);
	return tsu_wait(f, store_repl_import_end(f->st, 7, pos, &f->ex.base,
	                                         tsu_done_cb, &d2, &err),
	                &d2, &err);
}

/* A failed ingestion fails the copy, not the store: the follower keeps
 * what it held, and the next copy goes through. */
void
test_store_repl_copy_ingest_fails(void)
{
	struct tsu p, f;
	struct store_rcpt r = tsu_rcpt(7, 70, NULL);
	struct store_rcpt old = tsu_rcpt(7, 99, NULL);
	struct rs_err err;

	tsu_open(&p, false, 0);
	tsu_open(&f, false, 0);
	f.o.test_fault = tsr_fault;
	tsu_reopen(&f);
	store_repl_enable(p.st, NULL, NULL);
	store_repl_enable(f.st, NULL, NULL);
	TEST_ASSERT(store_repl_set_role(p.st, 7, STORE_ROLE_PRIMARY, 3, false,
	                                &err) == 0);
	for (int i = 0; i < 5; i++)
		TEST_ASSERT(tsu_deliver(&p, tsr_body, sizeof(tsr_body) - 1, &r,
		                        1) == 0);
	TEST_ASSERT(store_repl_set_role(f.st, 7, STORE_ROLE_PRIMARY, 1, false,
	                                &err) == 0);
	TEST_ASSERT(tsu_deliver(&f, tsr_body, 3, &old, 1) == 0);
	TEST_ASSERT(store_repl_set_role(f.st, 7, STORE_ROLE_FOLLOWER, 3, false,
	                                &err) == 0);
	TEST_ASSERT_INTEQ(tsr_copy(&p, &f, true), RS_EIO);
	TEST_ASSERT_INTEQ(tsr_messages(&f, old.acct), 1);
	TEST_ASSERT_INTEQ(tsr_messages(&f, r.acct), 0);
	TEST_ASSERT_INTEQ(tsr_copy(&p, &f, false), 0);
	TEST_ASSERT(store_repl_position(f.st, 7).lsn == 5);
	TEST_ASSERT_INTEQ(tsr_messages(&f, old.acct), 0);
	TEST_ASSERT_INTEQ(tsr_messages(&f, r.acct), 5);
	tsu_close(&p);
	tsu_close(&f);
}
