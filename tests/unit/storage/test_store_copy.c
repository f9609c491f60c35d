/* test_store_copy.c: store_copy (storage/store_copy.c): COPY and MOVE
 * with their UIDPLUS results, what carries over to the copy, blob
 * references, counters on both sides, the change log, [TRYCREATE] and
 * quota for COPY. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/storage/test_store_util.h"
#include "tests/unit/test.h"

static int
test_copy_run(struct tsu *t, struct store_copy *c)
{
	struct tsu_done d = { 0 };
	struct rs_err e;

	return tsu_wait(t, store_copy(t->st, c, &t->ex.base, tsu_done_cb, &d,
	                              &e), &d, &e);
}

/* Three messages in INBOX: "aaa" flagged with a keyword, "bb" seen,
 * "c"; and an empty mailbox Dest. */
static void
test_copy_setup(struct tsu *t, struct store_acct a, struct store_mailbox *dst)
{
	static const char *const kw[] = { "Project" };
	static const char *const bodies[] = { "aaa", "bb", "c" };

	for (size_t i = 0; i < 3; i++) {
		struct store_rcpt r = tsu_rcpt(a.part, a.id, NULL);

		r.flags = i == 0 ? STORE_FLAG_FLAGGED :
		          i == 1 ? STORE_FLAG_SEEN : 0;
		r.keywords = i == 0 ? kw : NULL;
		r.nkeywords = i == 0 ? 1 : 0;
		TEST_ASSERT_IDX(tsu_deliver(t, bodies[i], strlen(bodies[i]), &r,
		                            1) == 0 && r.rc == 0, i);
	}
	TEST_ASSERT(tsu_create(t, a, "Dest", dst) == 0);
}

/* The copy of uid 1 carries flags, keywords, date and body. */
static void
test_copy_first(struct tsu *t, struct store_acct a, uint32_t dst, uint32_t uid)
{
	struct store_msg m, o;
	struct store_msg_buf b, ob;

	TEST_ASSERT(store_msg_get(t->st, a, dst, uid, &m, &b, NULL) == 0);
	TEST_ASSERT(store_msg_get(t->st, a, 1, 1, &o, &ob, NULL) == 0);
	TEST_ASSERT(m.flags == STORE_FLAG_FLAGGED && m.nkeywords == 1 &&
	            m.internal_date == o.internal_date && m.size == 3 &&
	            memcmp(m.blob, o.blob, STORE_HASH_LEN) == 0);
	if (m.nkeywords == 1)
		TEST_ASSERT_STREQ(m.keywords[0], "Project");
	store_msg_buf_free(&b);
	store_msg_buf_free(&ob);
}

void
test_store_copy_uidplus(void)
{
	static const uint32_t uids[] = { 3, 1, 9, 3 };
	struct tsu t;
	struct store_acct a = { 1, 1 };
	struct store_mailbox dst, mb;
	struct store_account_info ai;
	struct store_copy c = { .acct = a, .src = 1, .dst = "Dest",
	                        .uids = uids, .n = 4 };
	struct store_change ch[4];
	uint8_t hash[STORE_HASH_LEN];
	size_t n;

	tsu_open(&t, false, 0);
	test_copy_setup(&t, a, &dst);
	TEST_ASSERT(test_copy_run(&t, &c) == 0);
	/* RFC 4315 COPYUID: source UIDs ascending, new UIDs in order. */
	TEST_ASSERT(c.ncopied == 2 && c.dst_id == dst.id &&
	            c.uidvalidity == dst.uidvalidity && !c.dst_missing);
	TEST_ASSERT(c.src_uids[0] == 1 && c.src_uids[1] == 3 &&
	            c.dst_uids[0] == 1 && c.dst_uids[1] == 2);
	store_copy_free(&c);
	test_copy_first(&t, a, dst.id, 1);
	tsu_sha256("aaa", 3, hash);
	TEST_ASSERT(tsu_blob_refs(&t, a.part, hash) == 2);
	TEST_ASSERT(store_mailbox_find(t.st, a, "Dest", &mb, NULL) == 0);
	TEST_ASSERT(mb.messages == 2 && mb.unseen == 2 && mb.bytes == 4 &&
	            mb.uidnext == 3 && mb.highestmodseq == 6 &&
	            mb.nkeywords == 1);
	TEST_ASSERT(store_account_get(t.st, a, &ai, NULL) == 0 &&
	            ai.messages == 5 && ai.bytes == 10 && ai.modseq == 6);
	TEST_ASSERT(store_mailbox_changes(t.st, a, dst.id, 4, ch, 4, &n,
	                                  NULL) == 0 && n == 2 &&
	            ch[0].kind == STORE_CHANGE_APPEND && ch[0].uid == 1);
	/* The source is untouched. */
	TEST_ASSERT(store_mailbox_find(t.st, a, "INBOX", &mb, NULL) == 0 &&
	            mb.messages == 3 && mb.highestmodseq == 3);
	tsu_close(&t);
}

void
test_store_copy_move(void)
{
	static const uint32_t uids[] = { 2, 1 };
	struct tsu t;
	struct store_acct a = { 2, 1 };
	struct store_mailbox dst, mb;
	struct store_account_info ai;
	struct store_copy c = { .acct = a, .src = 1, .dst = "Dest",
	                        .uids = uids, .n = 2, .move = true,
	                        .quota = { .bytes = 1 } };
	uint32_t *gone;
	size_t n;
	bool complete;
	uint8_t hash[STORE_HASH_LEN];

	tsu_open(&t, false, 0);
	test_copy_setup(&t, a, &dst);
	/* MOVE adds nothing to the account: quota does not apply. */
	TEST_ASSERT(test_copy_run(&t, &c) == 0);
	TEST_ASSERT(c.ncopied == 2 && c.dst_uids[0] == 1 &&
	            c.src_uids[1] == 2);
	store_copy_free(&c);
	/* Per message: its APPEND in Dest, then its EXPUNGE in INBOX. */
	TEST_ASSERT(store_mailbox_find(t.st, a, "INBOX", &mb, NULL) == 0);
	TEST_ASSERT(mb.messages == 1 && mb.unseen == 1 && mb.bytes == 1 &&
	            mb.highestmodseq == 8);
	TEST_ASSERT(store_mailbox_find(t.st, a, "Dest", &mb, NULL) == 0);
	TEST_ASSERT(mb.messages == 2 && mb.unseen == 1 && mb.bytes == 5 &&
	            mb.highestmodseq == 7 && mb.nkeywords == 1);
	TEST_ASSERT(store_account_get(t.st, a, &ai, NULL) == 0 &&
	            ai.messages == 3 && ai.bytes == 6 && ai.modseq == 8);
	tsu_sha256("aaa", 3, hash);
	TEST_ASSERT(tsu_blob_refs(&t, a.part, hash) == 1);
	TEST_ASSERT(store_mailbox_vanished(t.st, a, 1, 4, &gone, &n, &complete,
	                                   NULL) == 0);
	TEST_ASSERT(n == 2 && gone[0] == 1 && gone[1] == 2 && complete);
	free(gone);
	tsu_close(&t);
}

void
test_store_copy_errors(void)
{
	static const uint32_t uids[] = { 1, 2 };
	struct tsu t;
	struct store_acct a = { 3, 1 };
	struct store_mailbox dst;
	struct store_account_info ai;
	struct store_copy c = { .acct = a, .src = 1, .dst = "Nope",
	                        .uids = uids, .n = 2 };

	tsu_open(&t, false, 0);
	test_copy_setup(&t, a, &dst);
	TEST_ASSERT(test_copy_run(&t, &c) == RS_ENOTFOUND && c.dst_missing);
	store_copy_free(&c);
	c.dst = "Dest";
	c.src = 77;
	TEST_ASSERT(test_copy_run(&t, &c) == RS_ENOTFOUND && !c.dst_missing);
	store_copy_free(&c);
	/* 6 octets stored; copying 5 more passes 10: nothing copied. */
	c.src = 1;
	c.quota.bytes = 10;
	TEST_ASSERT(test_copy_run(&t, &c) == RS_EQUOTA);
	store_copy_free(&c);
	c.quota.bytes = 0;
	c.quota.messages = 4;
	TEST_ASSERT(test_copy_run(&t, &c) == RS_EQUOTA);
	store_copy_free(&c);
	TEST_ASSERT(store_account_get(t.st, a, &ai, NULL) == 0 &&
	            ai.messages == 3 && ai.bytes == 6);
	c.quota.messages = 5;
	TEST_ASSERT(test_copy_run(&t, &c) == 0 && c.ncopied == 2);
	store_copy_free(&c);
	c.dst = "\xff";
	TEST_ASSERT(test_copy_run(&t, &c) == RS_EINVAL);
	tsu_close(&t);
}
