/* test_store_health.c: a store that stops before it lies, and the
 * free-space reserve (store.h, store_health). Faults come from the test
 * hooks of store_opts: test_fault fails the next writes or syncs as a
 * disk would, test_free stands in for statvfs. */
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/storage/test_store_util.h"
#include "tests/unit/test.h"

/* Counts the steps the store took and fails the armed ones. */
struct test_faults {
	int      fail_writes, fail_syncs;   /* atomic: still to fail */
	int      writes, syncs;             /* atomic: steps seen */
	uint64_t free;                      /* atomic: what statvfs says */
};

static int
test_fault_hook(void *arg, int fault)
{
	struct test_faults *f = arg;
	int *left = fault == STORE_FAULT_WRITE ? &f->fail_writes
	                                       : &f->fail_syncs;

	__atomic_add_fetch(fault == STORE_FAULT_WRITE ? &f->writes : &f->syncs,
	                   1, __ATOMIC_SEQ_CST);
	for (;;) {
		int n = __atomic_load_n(left, __ATOMIC_SEQ_CST);

		if (n <= 0)
			return 0;
		if (__atomic_compare_exchange_n(left, &n, n - 1, false,
		                                __ATOMIC_SEQ_CST,
		                                __ATOMIC_SEQ_CST))
			return 1;
	}
}

static int
test_free_hook(void *arg, uint64_t *free_r)
{
	struct test_faults *f = arg;

	*free_r = __atomic_load_n(&f->free, __ATOMIC_SEQ_CST);
	return 0;
}

static void
test_open(struct tsu *t, struct test_faults *f, uint64_t min_free)
{
	tsu_open(t, true, 0);
	t->o.test_fault = test_fault_hook;
	t->o.test_free = test_free_hook;
	t->o.test_arg = f;
	t->o.min_free = min_free;
	tsu_reopen(t);
}

/* Delivers body to account (1, id) under an idempotency key (the
 * body's first octets) and returns the rc; *uid_r gets its UID. */
static int
test_deliver(struct tsu *t, uint64_t id, const char *body, uint32_t *uid_r)
{
	struct store_rcpt r = tsu_rcpt(1, id, NULL);
	struct store_message m = { .data = (const uint8_t *)body,
	                           .len = strlen(body),
	                           .internal_date = 1700000000,
	                           .idem = (const uint8_t *)body,
	                           .idem_len = 16 };
	struct tsu_done d = { 0 };
	struct rs_err e;
	int rc = tsu_wait(t, store_deliver(t->st, &m, &r, 1, &t->ex.base,
	                                   tsu_done_cb, &d, &e), &d, &e);

	if (uid_r != NULL)
		*uid_r = rc == 0 ? r.uid : 0;
	return rc != 0 ? rc : r.rc;
}

static uint64_t
test_messages(struct tsu *t, uint64_t id)
{
	struct store_account_info ai;

	TEST_ASSERT(store_account_get(t->st, (struct store_acct){ 1, id },
	                              &ai, NULL) == 0);
	return ai.messages;
}

static const char body1[] = "Message-ID: <1@t>\r\n\r\nacknowledged\r\n";
static const char body2[] = "Message-ID: <2@t>\r\n\r\nits sync fails\r\n";
static const char body3[] = "Message-ID: <3@t>\r\n\r\nafter the fault\r\n";

void
test_store_fail_sync(void)
{
	struct test_faults f = { .free = UINT64_MAX / 4 };
	struct store_acct a = { 1, 5 };
	struct store_health h;
	struct store_stats ss;
	uint32_t uid = 0, inbox, one = 1;
	struct tsu t;

	test_open(&t, &f, 0);
	store_health_get(t.st, &h);
	TEST_ASSERT(h.state == STORE_STATE_OK && h.reason[0] == '\0');
	TEST_ASSERT_STREQ(store_state_name(h.state), "ok");
	TEST_ASSERT(test_deliver(&t, 5, body1, &uid) == 0 && uid == 1);
	inbox = tsu_mbox_id(&t, a, "INBOX");

	/* The sync of the second delivery fails: answered EIO, never shown. */
	__atomic_store_n(&f.fail_syncs, 1, __ATOMIC_SEQ_CST);
	TEST_ASSERT(test_deliver(&t, 5, body2, NULL) == RS_EIO);
	store_health_get(t.st, &h);
	TEST_ASSERT(h.state == STORE_STATE_FAILED && h.since > 0);
	TEST_ASSERT(strstr(h.reason, "sync failed") != NULL);
	TEST_ASSERT_STREQ(store_state_name(store_health_state(t.st)),
	                  "failed");
	TEST_ASSERT(test_messages(&t, 5) == 1);

	/* The disk is fine again; the store still refuses, and neither
	 * writes nor syncs any more. */
	store_stats_get(t.st, &ss);
	TEST_ASSERT(ss.sync_errors == 1);
	TEST_ASSERT(test_deliver(&t, 5, body3, NULL) == RS_EIO);
	TEST_ASSERT(tsu_expunge(&t, a, inbox, &one, 1) == RS_EIO);
	TEST_ASSERT(tsu_flags(&t, a, inbox, &one, 1, STORE_FLAGS_ADD,
	                      STORE_FLAG_SEEN) == RS_EIO);
	TEST_ASSERT(__atomic_load_n(&f.writes, __ATOMIC_SEQ_CST) == 2);
	TEST_ASSERT(__atomic_load_n(&f.syncs, __ATOMIC_SEQ_CST) == 2);
	store_stats_get(t.st, &ss);
	TEST_ASSERT(ss.syncs == 2 && ss.sync_errors == 1);
	/* Reads go on, at the last synced state. */
	TEST_ASSERT(test_messages(&t, 5) == 1);
	TEST_ASSERT(tsu_mbox_id(&t, a, "INBOX") == inbox);

	/* A restart recovers. The acknowledged message is there; the one
	 * refused after the failure was never written. The failed group
	 * was written, only its sync failed: RocksDB replays it from the
	 * WAL (it reached the file), although it was answered EIO. Never
	 * acknowledged, so not a lie; and the sender's retry under the
	 * same idempotency key finds it instead of storing it twice. */
	tsu_reopen(&t);
	store_health_get(t.st, &h);
	TEST_ASSERT(h.state == STORE_STATE_OK);
	TEST_ASSERT(test_messages(&t, 5) <= 2);
	TEST_ASSERT(test_deliver(&t, 5, body2, &uid) == 0 && uid == 2);
	TEST_ASSERT(test_messages(&t, 5) == 2);
	TEST_ASSERT(test_deliver(&t, 5, body3, &uid) == 0 && uid == 3);
	TEST_ASSERT(test_messages(&t, 5) == 3);
	tsu_close(&t);
}

void
test_store_fail_write(void)
{
	struct test_faults f = { .free = UINT64_MAX / 4 };
	struct store_health h;
	uint32_t uid = 0;
	struct tsu t;

	test_open(&t, &f, 0);
	TEST_ASSERT(test_deliver(&t, 6, body1, &uid) == 0 && uid == 1);
	__atomic_store_n(&f.fail_writes, 1, __ATOMIC_SEQ_CST);
	TEST_ASSERT(test_deliver(&t, 6, body2, NULL) == RS_EIO);
	store_health_get(t.st, &h);
	TEST_ASSERT(h.state == STORE_STATE_FAILED);
	TEST_ASSERT(strstr(h.reason, "write failed") != NULL);
	/* After a failed write nothing is synced: RocksDB's WAL writer
	 * would refuse (or assert). */
	TEST_ASSERT(__atomic_load_n(&f.syncs, __ATOMIC_SEQ_CST) == 1);
	TEST_ASSERT(test_deliver(&t, 6, body3, NULL) == RS_EIO);
	TEST_ASSERT(__atomic_load_n(&f.writes, __ATOMIC_SEQ_CST) == 2);
	TEST_ASSERT(__atomic_load_n(&f.syncs, __ATOMIC_SEQ_CST) == 1);
	TEST_ASSERT(test_messages(&t, 6) == 1);

	/* Neither refused delivery was written: after a restart UID 2 is
	 * free, and the acknowledged one is there. */
	tsu_reopen(&t);
	TEST_ASSERT(test_messages(&t, 6) == 1);
	TEST_ASSERT(test_deliver(&t, 6, body3, &uid) == 0 && uid == 2);
	tsu_close(&t);
}

/* The syncer, held before its sync until the gate opens. */
struct test_hold {
	struct tsu_gate gate;
	int             armed;       /* atomic */
};

static void
test_hold_hook(void *arg)
{
	struct test_hold *h = arg;

	if (__atomic_exchange_n(&h->armed, 0, __ATOMIC_SEQ_CST))
		tsu_gate_enter(&h->gate);
}

/* Groups written while the failing sync ran (and after) are answered
 * EIO too, and never published: not even a later successful sync may
 * show them, so there is none. */
void
test_store_fail_queued(void)
{
	struct test_faults f = { .free = UINT64_MAX / 4 };
	struct test_hold hold = { .armed = 0 };
	struct store_rcpt r1 = tsu_rcpt(1, 7, NULL), r2 = tsu_rcpt(1, 7, NULL);
	struct store_message m1 = { .data = (const uint8_t *)body1,
	                            .len = sizeof(body1) - 1 };
	struct store_message m2 = { .data = (const uint8_t *)body2,
	                            .len = sizeof(body2) - 1 };
	struct tsu_done d1 = { 0 }, d2 = { 0 };
	struct store_stats ss;
	struct rs_err e;
	struct tsu t;

	tsu_gate_init(&hold.gate);
	tsu_open(&t, true, 0);
	t.o.test_fault = test_fault_hook;
	t.o.test_arg = &f;
	t.o.before_sync = test_hold_hook;
	t.o.before_sync_arg = &hold;
	tsu_reopen(&t);

	__atomic_store_n(&hold.armed, 1, __ATOMIC_SEQ_CST);
	TEST_ASSERT(store_deliver(t.st, &m1, &r1, 1, &t.ex.base, tsu_done_cb,
	                          &d1, &e) == 0);
	tsu_gate_wait_entered(&hold.gate);
	TEST_ASSERT(store_deliver(t.st, &m2, &r2, 1, &t.ex.base, tsu_done_cb,
	                          &d2, &e) == 0);
	/* The second group is written while the first waits for its sync. */
	while (__atomic_load_n(&f.writes, __ATOMIC_SEQ_CST) < 2)
		usleep(1000);
	__atomic_store_n(&f.fail_syncs, 1, __ATOMIC_SEQ_CST);
	tsu_gate_open(&hold.gate);
	tsu_run(&t.ex, &d1.n, 1);
	tsu_run(&t.ex, &d2.n, 1);
	TEST_ASSERT(d1.rc == RS_EIO && d2.rc == RS_EIO);
	TEST_ASSERT(__atomic_load_n(&f.syncs, __ATOMIC_SEQ_CST) == 1);
	store_stats_get(t.st, &ss);
	TEST_ASSERT(ss.syncs == 1 && ss.sync_errors == 1 && ss.ops == 2 &&
	            ss.ops_failed == 2);
	TEST_ASSERT(test_messages(&t, 7) == 0);
	TEST_ASSERT(store_health_state(t.st) == STORE_STATE_FAILED);
	tsu_close(&t);
	tsu_gate_destroy(&hold.gate);
}

/* Waits up to 5 s for the store to reach state by itself. */
static bool
test_wait_state(struct tsu *t, enum store_state state)
{
	for (int i = 0; i < 500; i++) {
		if (store_health_state(t->st) == state)
			return true;
		usleep(10000);
	}
	return false;
}

void
test_store_low_space(void)
{
	const uint64_t mb = 1024 * 1024;
	struct test_faults f = { .free = 100 * mb };
	struct store_acct a = { 1, 8 };
	struct store_health h;
	uint32_t uid = 0, inbox, one = 1;
	struct tsu t;
	char big[4096];

	memset(big, 'x', sizeof(big) - 1);
	memcpy(big, "Message-ID: <9@t>\r\n\r\n", 21);
	big[sizeof(big) - 1] = '\0';
	test_open(&t, &f, mb);
	TEST_ASSERT(test_deliver(&t, 8, body1, &uid) == 0 && uid == 1);
	TEST_ASSERT(test_deliver(&t, 8, body2, &uid) == 0 && uid == 2);
	inbox = tsu_mbox_id(&t, a, "INBOX");
	store_health_get(t.st, &h);
	TEST_ASSERT(h.state == STORE_STATE_OK && h.free_bytes == 100 * mb &&
	            h.min_free == mb);

	/* Under the reserve: bodies are refused, the rest goes on. */
	__atomic_store_n(&f.free, mb / 2, __ATOMIC_SEQ_CST);
	TEST_ASSERT(test_deliver(&t, 8, body3, NULL) == RS_ENOSPC);
	store_health_get(t.st, &h);
	TEST_ASSERT(h.state == STORE_STATE_LOW_SPACE && h.free_bytes == mb / 2);
	TEST_ASSERT(strstr(h.reason, "reserve") != NULL);
	TEST_ASSERT_STREQ(store_state_name(h.state), "low_space");
	TEST_ASSERT(tsu_flags(&t, a, inbox, &one, 1, STORE_FLAGS_ADD,
	                      STORE_FLAG_DELETED) == 0);
	TEST_ASSERT(tsu_expunge(&t, a, inbox, &one, 1) == 0);
	TEST_ASSERT(test_messages(&t, 8) == 1);
	/* Just over the reserve is not enough to leave low_space. */
	__atomic_store_n(&f.free, mb + mb / 16, __ATOMIC_SEQ_CST);
	TEST_ASSERT(test_deliver(&t, 8, body3, NULL) == RS_ENOSPC);

	/* Space is back: low_space ends without any write. */
	__atomic_store_n(&f.free, 100 * mb, __ATOMIC_SEQ_CST);
	TEST_ASSERT(test_wait_state(&t, STORE_STATE_OK));
	TEST_ASSERT(test_deliver(&t, 8, body3, &uid) == 0 && uid == 3);

	/* Over the reserve, but a body needs twice its size above it. */
	__atomic_store_n(&f.free, mb + sizeof(big), __ATOMIC_SEQ_CST);
	TEST_ASSERT(test_deliver(&t, 8, big, NULL) == RS_ENOSPC);
	TEST_ASSERT(store_health_state(t.st) == STORE_STATE_OK);
	__atomic_store_n(&f.free, mb + 3 * sizeof(big), __ATOMIC_SEQ_CST);
	TEST_ASSERT(test_deliver(&t, 8, big, &uid) == 0 && uid == 4);
	tsu_close(&t);
}
