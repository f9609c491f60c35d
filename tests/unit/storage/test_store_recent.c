/* test_store_recent.c: \Recent claims (storage/store_recent.c): each UID
 * is claimed once whatever the order of the claims, a claim never passes
 * UIDNEXT, EXAMINE's read sees the mark, a deleted mailbox has none, and
 * the mark survives a reopen. */
#include <string.h>

#include "storage/store_keys.h"
#include "tests/unit/storage/test_store_util.h"
#include "tests/unit/test.h"

static int
test_claim(struct tsu *t, struct store_acct a, uint32_t mbox, uint32_t upto,
           uint32_t *first_r)
{
	struct store_recent r = { .acct = a, .mailbox = mbox, .upto = upto };
	struct tsu_done d = { 0 };
	struct rs_err e;
	int rc;

	rc = tsu_wait(t, store_recent_claim(t->st, &r, &t->ex.base,
	                                    tsu_done_cb, &d, &e), &d, &e);
	*first_r = r.first;
	return rc;
}

static void
test_put(struct tsu *t, struct store_acct a, const char *mbox)
{
	struct store_rcpt r = tsu_rcpt(a.part, a.id, mbox);

	TEST_ASSERT(tsu_deliver(t, "x\r\n", 3, &r, 1) == 0 && r.rc == 0);
}

void
test_store_recent(void)
{
	static const struct {
		uint32_t upto;          /* claim below this */
		uint32_t want_first;    /* what the claim got: [first, upto) */
		uint32_t want_mark;     /* store_recent_first afterwards */
	} steps[] = {
		{ 4, 1, 4 },            /* three messages: all new */
		{ 4, 4, 4 },            /* claimed already: nothing */
		{ 2, 4, 4 },            /* a stale session's claim: nothing */
		{ 99, 4, 4 },           /* past UIDNEXT: capped */
	};
	struct tsu t;
	struct store_acct a = { 3, 9 };
	uint32_t id, first, mark;
	uint8_t key[STORE_KEYS_MBOX_LEN];

	tsu_open(&t, false, 0);
	TEST_ASSERT(tsu_create(&t, a, "Box", NULL) == 0);
	id = tsu_mbox_id(&t, a, "Box");
	TEST_ASSERT(store_recent_first(t.st, a, id, &mark, NULL) == 0 &&
	            mark == 1);
	for (int i = 0; i < 3; i++)
		test_put(&t, a, "Box");
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		TEST_ASSERT_IDX(test_claim(&t, a, id, steps[i].upto,
		                           &first) == 0, i);
		TEST_ASSERT_IDX(first == steps[i].want_first, i);
		TEST_ASSERT_IDX(store_recent_first(t.st, a, id, &mark,
		                                   NULL) == 0 &&
		                mark == steps[i].want_mark, i);
	}
	/* A new message: the next claim gets it alone. */
	test_put(&t, a, "Box");
	TEST_ASSERT(test_claim(&t, a, id, 5, &first) == 0 && first == 4);
	tsu_reopen(&t);
	TEST_ASSERT(store_recent_first(t.st, a, id, &mark, NULL) == 0 &&
	            mark == 5);
	/* Deleted: no claim, and no mark left behind. */
	TEST_ASSERT(tsu_mdelete(&t, a, "Box") == 0);
	TEST_ASSERT(test_claim(&t, a, id, 5, &first) == RS_ENOTFOUND);
	TEST_ASSERT(tsu_count(&t, key, store_keys_mbox_tag(key, a,
	            STORE_KEYS_RECENT, id)) == 0);
	TEST_ASSERT(test_claim(&t, (struct store_acct){ 3, 9 }, 0, 5,
	                       &first) == RS_EINVAL);
	tsu_close(&t);
}
