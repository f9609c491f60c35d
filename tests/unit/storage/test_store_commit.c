/* test_store_commit.c: the sync stage of a group commit. While a written
 * group waits for its WAL sync (held here in store_opts.before_sync),
 * no read sees it and its writer has no answer yet: a client is never
 * shown a message, or told it was stored, before a crash could no longer
 * take it back. And the commit counters of store_stats_get. */
#include <stdbool.h>

#include "tests/unit/storage/test_store_util.h"
#include "tests/unit/test.h"

/* What readers see of account a: messages in the account and in INBOX,
 * and whether UID 2 of INBOX can be read. */
static void
test_hold_expect(struct tsu *t, struct store_acct a, uint32_t inbox,
                 uint64_t messages)
{
	struct store_account_info ai;
	struct store_mailbox mb;
	struct store_msg m;
	struct store_msg_buf buf = { 0 };
	struct rs_err err;
	int rc;

	TEST_ASSERT(store_account_get(t->st, a, &ai, NULL) == 0);
	TEST_ASSERT(ai.messages == messages && ai.modseq == messages);
	TEST_ASSERT(store_mailbox_find(t->st, a, "INBOX", &mb, NULL) == 0);
	TEST_ASSERT(mb.messages == messages && mb.uidnext == messages + 1);
	rc = store_msg_get(t->st, a, inbox, 2, &m, &buf, &err);
	TEST_ASSERT(messages >= 2 ? rc == 0 : rc == RS_ENOTFOUND);
	store_msg_buf_free(&buf);
}

void
test_store_sync_before_visible(void)
{
	static const char body1[] = "Subject: one\r\n\r\nfirst\r\n";
	static const char body2[] = "Subject: two\r\n\r\nsecond\r\n";
	struct tsu_hold hold = { 0 };
	struct store_acct a = { 1, 7 };
	struct store_rcpt r1 = tsu_rcpt(1, 7, NULL), r2 = tsu_rcpt(1, 7, NULL);
	struct store_message m = { .data = (const uint8_t *)body2,
	                           .len = sizeof(body2) - 1,
	                           .internal_date = 1700000000 };
	struct tsu_done d = { 0 };
	struct rs_err err;
	struct tsu t;
	uint32_t inbox;

	tsu_gate_init(&hold.gate);
	tsu_open(&t, true, 0);
	t.o.before_sync = tsu_hold_before_sync;
	t.o.before_sync_arg = &hold;
	tsu_reopen(&t);
	TEST_ASSERT(tsu_deliver(&t, body1, sizeof(body1) - 1, &r1, 1) == 0);
	inbox = tsu_mbox_id(&t, a, "INBOX");
	TEST_ASSERT(inbox != 0);
	test_hold_expect(&t, a, inbox, 1);

	/* The second delivery is written, and its sync held. */
	__atomic_store_n(&hold.armed, true, __ATOMIC_RELEASE);
	TEST_ASSERT(store_deliver(t.st, &m, &r2, 1, &t.ex.base, tsu_done_cb,
	                          &d, &err) == 0);
	tsu_gate_wait_entered(&hold.gate);
	test_hold_expect(&t, a, inbox, 1);
	tsu_run_pending(&t.ex);
	TEST_ASSERT(d.n == 0);

	/* Synced: answered and visible. */
	tsu_gate_open(&hold.gate);
	tsu_run(&t.ex, &d.n, 1);
	TEST_ASSERT(d.rc == 0 && r2.rc == 0 && r2.uid == 2);
	test_hold_expect(&t, a, inbox, 2);
	tsu_close(&t);
	tsu_gate_destroy(&hold.gate);
}

/* An op that fails without writing. */
static int
test_fail_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	(void)t;
	(void)arg;
	return rs_err_set(err, RS_EINVAL, "refused by the test");
}

void
test_store_stats_count(void)
{
	static const char body[] = "Subject: s\r\n\r\nstats\r\n";
	struct store_rcpt r = tsu_rcpt(1, 9, NULL);
	struct store_message m = { .data = (const uint8_t *)body,
	                           .len = sizeof(body) - 1,
	                           .internal_date = 1700000000 };
	struct store_stats s;
	struct tsu_gate gate;
	struct tsu_done g = { 0 }, d = { 0 };
	struct rs_err err;
	struct tsu t;

	tsu_gate_init(&gate);
	tsu_open(&t, true, 0);
	store_stats_get(t.st, &s);
	TEST_ASSERT(s.ops == 0 && s.groups == 0 && s.syncs == 0 &&
	            s.queued == 0 && s.commit_us == 0);

	for (int i = 0; i < 3; i++) {
		r = tsu_rcpt(1, 9, NULL);
		TEST_ASSERT(tsu_deliver(&t, body, sizeof(body) - 1, &r, 1) == 0);
	}
	TEST_ASSERT(tsu_submit(&t, test_fail_apply, NULL) == RS_EINVAL);
	store_stats_get(t.st, &s);
	TEST_ASSERT(s.ops == 4 && s.ops_failed == 1 && s.queued == 0);
	/* One at a time: a group each; every written group was synced. */
	TEST_ASSERT(s.groups == 4 && s.syncs >= 3 && s.sync_errors == 0);
	TEST_ASSERT(s.sync_us_max <= s.sync_us);
	TEST_ASSERT(s.commit_us_max <= s.commit_us);
	/* An op is answered only after the sync that covers it. */
	TEST_ASSERT(s.commit_us >= s.sync_us);

	/* With the writer held, a delivery waits in the queue. */
	tsu_gate_queue(&t, &gate, &g);
	r = tsu_rcpt(1, 9, NULL);
	TEST_ASSERT(store_deliver(t.st, &m, &r, 1, &t.ex.base, tsu_done_cb,
	                          &d, &err) == 0);
	store_stats_get(t.st, &s);
	TEST_ASSERT(s.queued == 1);
	tsu_gate_open(&gate);
	tsu_run(&t.ex, &d.n, 1);
	tsu_run(&t.ex, &g.n, 1);
	TEST_ASSERT(d.rc == 0 && r.rc == 0 && r.uid == 4);
	store_stats_get(t.st, &s);
	TEST_ASSERT(s.ops == 6 && s.queued == 0);
	tsu_close(&t);
	tsu_gate_destroy(&gate);

	/* Without sync: counted all the same, with no syncs. */
	tsu_open(&t, false, 0);
	r = tsu_rcpt(1, 9, NULL);
	TEST_ASSERT(tsu_deliver(&t, body, sizeof(body) - 1, &r, 1) == 0);
	store_stats_get(t.st, &s);
	TEST_ASSERT(s.ops == 1 && s.groups == 1 && s.syncs == 0);
	tsu_close(&t);
}
