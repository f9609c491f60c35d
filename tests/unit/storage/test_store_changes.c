/* test_store_changes.c: the change log (storage/store_changes.c): every
 * modseq in the account log and its mailbox's index, what
 * store_mailbox_vanished reads, and retention: trimming in steps, the
 * floor, and incomplete answers below it. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/storage/test_store_util.h"
#include "tests/unit/test.h"

static void
test_changes_deliver(struct tsu *t, struct store_acct a, const char *mbox,
                     int n)
{
	for (int i = 0; i < n; i++) {
		struct store_rcpt r = tsu_rcpt(a.part, a.id, mbox);

		TEST_ASSERT(tsu_deliver(t, "c", 1, &r, 1) == 0 && r.rc == 0);
	}
}

void
test_store_changes_mailbox(void)
{
	struct tsu t;
	struct store_acct a = { 1, 1 };
	struct store_change ch[8];
	uint32_t uids[] = { 2, 1 }, *gone;
	size_t n;
	bool complete;

	tsu_open(&t, false, 0);
	test_changes_deliver(&t, a, NULL, 3);          /* 1..3 */
	test_changes_deliver(&t, a, "Sent", 1);        /* 4 */
	TEST_ASSERT(tsu_expunge(&t, a, 1, uids, 2) == 0);   /* 5, 6 */
	TEST_ASSERT(store_mailbox_changes(t.st, a, 1, 0, ch, 8, &n, NULL) ==
	            0 && n == 5);
	/* store_expunge takes the UIDs in the order given. */
	TEST_ASSERT(ch[3].modseq == 5 && ch[3].kind == STORE_CHANGE_EXPUNGE &&
	            ch[3].uid == 2 && ch[4].uid == 1);
	TEST_ASSERT(store_mailbox_changes(t.st, a, 2, 0, ch, 8, &n, NULL) ==
	            0 && n == 1 && ch[0].modseq == 4);
	TEST_ASSERT(store_mailbox_changes(t.st, a, 1, 3, ch, 1, &n, NULL) ==
	            0 && n == 1 && ch[0].modseq == 5);
	TEST_ASSERT(store_mailbox_vanished(t.st, a, 1, 0, &gone, &n, &complete,
	                                   NULL) == 0);
	TEST_ASSERT(n == 2 && gone[0] == 1 && gone[1] == 2 && complete);
	free(gone);
	TEST_ASSERT(store_mailbox_vanished(t.st, a, 1, 5, &gone, &n, &complete,
	                                   NULL) == 0 && n == 1 &&
	            gone[0] == 1);
	free(gone);
	TEST_ASSERT(store_mailbox_vanished(t.st, a, 2, 0, &gone, &n, &complete,
	                                   NULL) == 0 && n == 0);
	free(gone);
	tsu_close(&t);
}

/* With changes_keep 8 (a step of 2), after 11 modseqs: 1..3 trimmed. */
static void
test_changes_trimmed(struct tsu *t, struct store_acct a)
{
	struct store_account_info ai;
	struct store_change ch[16];
	uint32_t *gone;
	size_t n;
	bool complete;

	TEST_ASSERT(store_account_get(t->st, a, &ai, NULL) == 0 &&
	            ai.modseq == 11 && ai.changes_floor == 3);
	TEST_ASSERT(store_changes_since(t->st, a, 0, ch, 16, &n, NULL) == 0 &&
	            n == 8 && ch[0].modseq == 4);
	TEST_ASSERT(store_mailbox_changes(t->st, a, 1, 0, ch, 16, &n, NULL) ==
	            0 && n == 8 && ch[0].modseq == 4);
	/* The expunge at modseq 5 is kept; one below the floor is lost,
	 * and the answer says so. */
	TEST_ASSERT(store_mailbox_vanished(t->st, a, 1, 2, &gone, &n,
	                                   &complete, NULL) == 0);
	TEST_ASSERT(n == 1 && gone[0] == 1 && !complete);
	free(gone);
	TEST_ASSERT(store_mailbox_vanished(t->st, a, 1, 3, &gone, &n,
	                                   &complete, NULL) == 0 && complete);
	free(gone);
}

void
test_store_changes_trim(void)
{
	struct tsu t;
	struct store_acct a = { 2, 1 };
	struct store_account_info ai;
	uint32_t one = 1;

	tsu_open(&t, false, 0);
	t.o.changes_keep = 8;
	tsu_reopen(&t);
	test_changes_deliver(&t, a, NULL, 4);          /* 1..4 */
	TEST_ASSERT(tsu_expunge(&t, a, 1, &one, 1) == 0);   /* 5 */
	test_changes_deliver(&t, a, NULL, 5);          /* 6..10: 10 kept */
	TEST_ASSERT(store_account_get(t.st, a, &ai, NULL) == 0 &&
	            ai.changes_floor == 0);
	test_changes_deliver(&t, a, NULL, 1);          /* 11: trims */
	test_changes_trimmed(&t, a);
	/* The next trim comes a step later. */
	test_changes_deliver(&t, a, NULL, 3);          /* 12..14 */
	TEST_ASSERT(store_account_get(t.st, a, &ai, NULL) == 0 &&
	            ai.changes_floor == 6);
	tsu_close(&t);
}
