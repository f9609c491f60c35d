/* test_store_rename.c: RENAME (storage/store_rename.c): inferiors move
 * with their parent and keep ids, UIDVALIDITY and messages; targets are
 * checked before anything moves; INBOX's messages move into a new
 * mailbox while INBOX stays (RFC 9051 6.3.6). */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/storage/test_store_util.h"
#include "tests/unit/test.h"

static void
test_deliver_to(struct tsu *t, struct store_acct a, const char *mbox,
                const char *body, uint32_t flags)
{
	struct store_rcpt r = tsu_rcpt(a.part, a.id, mbox);
	static const char *const kw[] = { "Later" };

	r.flags = flags;
	r.keywords = kw;
	r.nkeywords = 1;
	TEST_ASSERT(tsu_deliver(t, body, strlen(body), &r, 1) == 0 &&
	            r.rc == 0);
}

/* After renaming "a" to "x": the tree moved, "ab" did not. */
static void
test_rename_tree_after(struct tsu *t, struct store_acct a,
                       const struct store_mailbox *before, uint64_t modseq)
{
	static const char *const want[] = { "x", "x/b", "x/b/c" };
	struct store_change ch[8];
	struct store_mailbox mb;
	size_t n;

	for (size_t i = 0; i < 3; i++) {
		TEST_ASSERT_IDX(store_mailbox_find(t->st, a, want[i], &mb,
		                                   NULL) == 0, i);
		TEST_ASSERT_IDX(mb.id == before[i].id &&
		                mb.uidvalidity == before[i].uidvalidity &&
		                mb.messages == before[i].messages &&
		                mb.highestmodseq > modseq, i);
	}
	TEST_ASSERT(tsu_mbox_id(t, a, "a") == 0 &&
	            tsu_mbox_id(t, a, "a/b") == 0 &&
	            tsu_mbox_id(t, a, "ab") == before[3].id);
	/* Subscriptions are names: "a/b" stays, and "x/b" is not one. */
	TEST_ASSERT(store_mailbox_find(t->st, a, "x/b", &mb, NULL) == 0 &&
	            !mb.subscribed);
	TEST_ASSERT(store_changes_since(t->st, a, modseq, ch, 8, &n, NULL) ==
	            0 && n == 3);
	for (size_t i = 0; i < n; i++)
		TEST_ASSERT_IDX(ch[i].kind == STORE_CHANGE_MAILBOX &&
		                ch[i].mailbox == before[i].id, i);
}

void
test_store_rename_tree(void)
{
	static const char *const names[] = { "a", "a/b", "a/b/c", "ab" };
	struct tsu t;
	struct store_acct a = { 1, 1 };
	struct store_mailbox before[4];
	struct store_account_info ai;
	char **subs;
	size_t n;
	bool found = false;

	tsu_open(&t, false, 0);
	for (size_t i = 0; i < 4; i++)
		TEST_ASSERT_IDX(tsu_create(&t, a, names[i], NULL) == 0, i);
	test_deliver_to(&t, a, "a/b", "in a/b", 0);
	TEST_ASSERT(tsu_subscribe(&t, a, "a/b", true) == 0);
	for (size_t i = 0; i < 4; i++)
		TEST_ASSERT_IDX(store_mailbox_find(t.st, a, names[i],
		                                   &before[i], NULL) == 0, i);
	TEST_ASSERT(store_account_get(t.st, a, &ai, NULL) == 0);
	TEST_ASSERT(tsu_rename(&t, a, "a", "x") == 0);
	test_rename_tree_after(&t, a, before, ai.modseq);
	TEST_ASSERT(store_mailbox_subscriptions(t.st, a, &subs, &n, NULL) == 0);
	for (size_t i = 0; i < n; i++)
		found = found || strcmp(subs[i], "a/b") == 0;
	TEST_ASSERT(found);
	free(subs);
	tsu_close(&t);
}

/* An inferior's new name would be too long: nothing moves. */
static void
test_rename_too_long(struct tsu *t, struct store_acct a)
{
	char *deep = calloc(1, STORE_MAILBOX_NAME_MAX + 1);
	struct store_account_info ai, ai2;

	memset(deep, 'd', STORE_MAILBOX_NAME_MAX);
	memcpy(deep, "m/", 2);
	TEST_ASSERT(tsu_create(t, a, "m", NULL) == 0);
	TEST_ASSERT(tsu_create(t, a, deep, NULL) == 0);
	TEST_ASSERT(store_account_get(t->st, a, &ai, NULL) == 0);
	TEST_ASSERT(tsu_rename(t, a, "m", "mm") == RS_ETOOBIG);
	TEST_ASSERT(tsu_mbox_id(t, a, "m") != 0 &&
	            tsu_mbox_id(t, a, deep) != 0);
	TEST_ASSERT(store_account_get(t->st, a, &ai2, NULL) == 0 &&
	            ai2.modseq == ai.modseq);
	free(deep);
}

void
test_store_rename_errors(void)
{
	struct tsu t;
	struct store_acct a = { 2, 1 };

	tsu_open(&t, false, 0);
	TEST_ASSERT(tsu_create(&t, a, "x", NULL) == 0);
	TEST_ASSERT(tsu_create(&t, a, "x/b", NULL) == 0);
	TEST_ASSERT(tsu_create(&t, a, "y", NULL) == 0);
	TEST_ASSERT(tsu_rename(&t, a, "x", "x/y") == RS_EINVAL);
	TEST_ASSERT(tsu_rename(&t, a, "x", "") == RS_EINVAL);
	TEST_ASSERT(tsu_rename(&t, a, "nope", "z") == RS_ENOTFOUND);
	TEST_ASSERT(tsu_rename(&t, a, "x", "y") == RS_ECONFLICT);
	TEST_ASSERT(tsu_rename(&t, a, "y", "x/b") == RS_ECONFLICT);
	TEST_ASSERT(tsu_rename(&t, a, "y", "inbox") == RS_ECONFLICT);
	/* "z" is free, but "x" has an inferior whose new name is not. */
	TEST_ASSERT(tsu_create(&t, a, "z/b", NULL) == 0);
	TEST_ASSERT(tsu_rename(&t, a, "x", "z") == RS_ECONFLICT);
	TEST_ASSERT(tsu_mbox_id(&t, a, "x") != 0 &&
	            tsu_mbox_id(&t, a, "x/b") != 0 &&
	            tsu_mbox_id(&t, a, "z") == 0);
	test_rename_too_long(&t, a);
	tsu_close(&t);
}

/* After renaming INBOX (3 messages, one seen) to Old. */
static void
test_rename_inbox_after(struct tsu *t, struct store_acct a,
                        const struct store_mailbox *in0, uint64_t modseq)
{
	struct store_mailbox in, old;
	struct store_change ch[16];
	struct store_msg m;
	struct store_msg_buf b;
	uint32_t *uids;
	size_t n;
	bool complete;

	TEST_ASSERT(store_mailbox_find(t->st, a, "INBOX", &in, NULL) == 0);
	TEST_ASSERT(in.id == 1 && in.uidvalidity == in0->uidvalidity &&
	            in.messages == 0 && in.unseen == 0 && in.bytes == 0 &&
	            in.uidnext == 4 && in.use == STORE_USE_INBOX);
	TEST_ASSERT(store_mailbox_find(t->st, a, "Old", &old, NULL) == 0);
	TEST_ASSERT(old.id > 6 && old.messages == 3 && old.unseen == 2 &&
	            old.bytes == in0->bytes && old.uidnext == 4 &&
	            old.nkeywords == 1 && old.use == STORE_USE_NONE);
	TEST_ASSERT(store_msg_get(t->st, a, old.id, 2, &m, &b, NULL) == 0 &&
	            m.flags == STORE_FLAG_SEEN && m.nkeywords == 1);
	store_msg_buf_free(&b);
	/* One MAILBOX entry, then an EXPUNGE and an APPEND per message. */
	TEST_ASSERT(store_changes_since(t->st, a, modseq, ch, 16, &n, NULL) ==
	            0 && n == 7);
	TEST_ASSERT(ch[0].kind == STORE_CHANGE_MAILBOX &&
	            ch[0].mailbox == old.id);
	TEST_ASSERT(store_mailbox_vanished(t->st, a, 1, modseq, &uids, &n,
	                                   &complete, NULL) == 0);
	TEST_ASSERT(n == 3 && complete && uids[0] == 1 && uids[2] == 3);
	free(uids);
	TEST_ASSERT(store_mailbox_changes(t->st, a, old.id, 0, ch, 16, &n,
	                                  NULL) == 0 && n == 4);
}

void
test_store_rename_inbox(void)
{
	struct tsu t;
	struct store_acct a = { 3, 1 };
	struct store_mailbox in0;
	struct store_account_info ai, ai2;
	uint8_t hash[STORE_HASH_LEN];

	tsu_open(&t, false, 0);
	test_deliver_to(&t, a, NULL, "one", 0);
	test_deliver_to(&t, a, NULL, "two", STORE_FLAG_SEEN);
	test_deliver_to(&t, a, NULL, "three", 0);
	TEST_ASSERT(tsu_create(&t, a, "INBOX/keep", NULL) == 0);
	TEST_ASSERT(store_mailbox_find(t.st, a, "INBOX", &in0, NULL) == 0);
	TEST_ASSERT(store_account_get(t.st, a, &ai, NULL) == 0);
	TEST_ASSERT(tsu_rename(&t, a, "inbox", "Sent") == RS_ECONFLICT);
	TEST_ASSERT(tsu_rename(&t, a, "inbox", "Old") == 0);
	test_rename_inbox_after(&t, a, &in0, ai.modseq);
	/* Inferiors of INBOX stay; the bodies were moved, not copied. */
	TEST_ASSERT(tsu_mbox_id(&t, a, "INBOX/keep") != 0);
	tsu_sha256("two", 3, hash);
	TEST_ASSERT(tsu_blob_refs(&t, a.part, hash) == 1);
	TEST_ASSERT(store_account_get(t.st, a, &ai2, NULL) == 0 &&
	            ai2.messages == 3 && ai2.bytes == ai.bytes &&
	            ai2.mailboxes == ai.mailboxes + 1);
	/* INBOX takes new mail, with UIDs after the moved ones. */
	test_deliver_to(&t, a, NULL, "four", 0);
	TEST_ASSERT(store_mailbox_find(t.st, a, "INBOX", &in0, NULL) == 0 &&
	            in0.messages == 1 && in0.uidnext == 5);
	tsu_close(&t);
}

/* More messages than a walk reads at a time (1,024): all move, then all
 * go with the mailbox, and the shared body with them. */
void
test_store_rename_inbox_big(void)
{
	enum { N = 2500 };
	struct tsu t;
	struct store_acct a = { 4, 1 };
	struct store_rcpt *r = calloc(N, sizeof(*r));
	struct store_message msg = { (const uint8_t *)"big", 3, 0, NULL, 0, NULL, 0 };
	struct tsu_done d = { 0 };
	struct store_mailbox mb;
	struct store_account_info ai;
	uint8_t hash[STORE_HASH_LEN];

	tsu_open(&t, false, 0);
	for (int i = 0; i < N; i++) {
		r[i] = tsu_rcpt(a.part, a.id, NULL);
		TEST_ASSERT(store_deliver(t.st, &msg, &r[i], 1, &t.ex.base,
		                          tsu_done_cb, &d, NULL) == 0);
	}
	tsu_run(&t.ex, &d.n, N);
	TEST_ASSERT(d.failed == 0);
	TEST_ASSERT(tsu_rename(&t, a, "INBOX", "Old") == 0);
	TEST_ASSERT(store_mailbox_find(t.st, a, "Old", &mb, NULL) == 0 &&
	            mb.messages == N && mb.uidnext == N + 1);
	TEST_ASSERT(store_mailbox_find(t.st, a, "INBOX", &mb, NULL) == 0 &&
	            mb.messages == 0 && mb.uidnext == N + 1);
	tsu_sha256("big", 3, hash);
	TEST_ASSERT(tsu_blob_refs(&t, a.part, hash) == N);
	TEST_ASSERT(tsu_mdelete(&t, a, "Old") == 0);
	TEST_ASSERT(tsu_blob_refs(&t, a.part, hash) == 0);
	TEST_ASSERT(store_account_get(t.st, a, &ai, NULL) == 0 &&
	            ai.messages == 0 && ai.bytes == 0);
	free(r);
	tsu_close(&t);
}
