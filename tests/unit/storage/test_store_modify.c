/* test_store_modify.c: expunge, set_flags and account_delete, the modseqs
 * and change log they leave, and damaged records read as RS_EIO. */
#include <stdlib.h>
#include <string.h>

#include "storage/store_keys.h"
#include "storage/store_rec.h"
#include "tests/unit/storage/test_store_util.h"
#include "tests/unit/test.h"

static void
test_deliver_n(struct tsu *t, struct store_acct a, const char *mbox,
               const char *body, int n)
{
	for (int i = 0; i < n; i++) {
		struct store_rcpt r = tsu_rcpt(a.part, a.id, mbox);

		TEST_ASSERT(tsu_deliver(t, body, strlen(body), &r, 1) == 0 &&
		            r.rc == 0);
	}
}

/* The whole log after test_store_changes' writes, oldest first. */
static void
test_changes_all(struct tsu *t, struct store_acct a)
{
	static const struct {
		uint64_t modseq;
		enum store_change_kind kind;
		uint32_t mailbox, uid;
	} want[] = {
		{ 1, STORE_CHANGE_APPEND, 1, 1 },
		{ 2, STORE_CHANGE_APPEND, 1, 2 },
		{ 3, STORE_CHANGE_APPEND, 2, 1 },
		/* A flag change takes the listed UIDs in ascending order,
		 * whatever order the caller gave. */
		{ 4, STORE_CHANGE_FLAGS, 1, 1 },
		{ 5, STORE_CHANGE_FLAGS, 1, 2 },
		{ 6, STORE_CHANGE_EXPUNGE, 1, 1 },
	};
	struct store_change ch[10];
	size_t n;

	TEST_ASSERT(store_changes_since(t->st, a, 0, ch, 10, &n, NULL) == 0);
	TEST_ASSERT(n == 6);
	for (size_t i = 0; i < n && i < 6; i++) {
		TEST_ASSERT_IDX(ch[i].modseq == want[i].modseq, i);
		TEST_ASSERT_IDX(ch[i].kind == want[i].kind, i);
		TEST_ASSERT_IDX(ch[i].mailbox == want[i].mailbox, i);
		TEST_ASSERT_IDX(ch[i].uid == want[i].uid, i);
	}
}

void
test_store_changes(void)
{
	struct tsu t;
	struct store_acct a = { 1, 1 };
	struct store_change ch[10];
	uint32_t uids[] = { 2, 1 }, one = 1;
	size_t n;

	tsu_open(&t, false, 0);
	test_deliver_n(&t, a, NULL, "m1", 2);
	test_deliver_n(&t, a, "Sent", "m2", 1);
	TEST_ASSERT(tsu_flags(&t, a, 1, uids, 2, STORE_FLAGS_ADD,
	                      STORE_FLAG_SEEN) == 0);
	TEST_ASSERT(tsu_expunge(&t, a, 1, &one, 1) == 0);
	test_changes_all(&t, a);
	TEST_ASSERT(store_changes_since(t.st, a, 3, ch, 10, &n, NULL) == 0);
	TEST_ASSERT(n == 3 && ch[0].modseq == 4);
	TEST_ASSERT(store_changes_since(t.st, a, 1, ch, 2, &n, NULL) == 0);
	TEST_ASSERT(n == 2 && ch[0].modseq == 2 && ch[1].modseq == 3);
	TEST_ASSERT(store_changes_since(t.st, a, 6, ch, 10, &n, NULL) == 0);
	TEST_ASSERT(n == 0);
	/* Another account's log is its own. */
	a.id = 2;
	TEST_ASSERT(store_changes_since(t.st, a, 0, ch, 10, &n, NULL) == 0);
	TEST_ASSERT(n == 0);
	tsu_close(&t);
}

/* After expunging uid 1 of a: the shared blob lives on for b. */
static void
test_expunge_first(struct tsu *t, struct store_acct a,
                   const uint8_t hash[STORE_HASH_LEN])
{
	struct store_mailbox mb;
	struct store_account_info ai;
	char buf[16];
	size_t got;

	TEST_ASSERT(tsu_blob_refs(t, 2, hash) == 1);
	TEST_ASSERT(store_blob_read(t->st, 2, hash, 0, buf, sizeof(buf), &got,
	                            NULL) == 0 && got == 6);
	TEST_ASSERT(store_mailbox_find(t->st, a, NULL, &mb, NULL) == 0);
	TEST_ASSERT(mb.messages == 1 && mb.unseen == 1 && mb.bytes == 5 &&
	            mb.uidnext == 3 && mb.highestmodseq == 3);
	TEST_ASSERT(store_account_get(t->st, a, &ai, NULL) == 0);
	TEST_ASSERT(ai.messages == 1 && ai.bytes == 5 && ai.modseq == 3);
}

void
test_store_expunge(void)
{
	struct tsu t;
	struct store_acct a = { 2, 1 }, b = { 2, 2 }, never = { 2, 3 };
	uint8_t hash[STORE_HASH_LEN], bprefix[5] = { 0, 0, 0, 2, 'b' };
	uint32_t uids[] = { 1, 7, 1 }, uid2 = 2;
	struct store_rcpt r[2] = { tsu_rcpt(2, 1, NULL), tsu_rcpt(2, 2, NULL) };
	struct store_account_info ai;
	char buf[16];
	size_t got;

	tsu_open(&t, false, 0);
	tsu_sha256("shared", 6, hash);
	TEST_ASSERT(tsu_deliver(&t, "shared", 6, r, 2) == 0);
	test_deliver_n(&t, a, NULL, "alone", 1);
	TEST_ASSERT(tsu_blob_refs(&t, 2, hash) == 2);
	/* uid 7 does not exist, uid 1 is listed twice: both skipped. */
	TEST_ASSERT(tsu_expunge(&t, a, 1, uids, 3) == 0);
	test_expunge_first(&t, a, hash);

	TEST_ASSERT(tsu_expunge(&t, b, 1, &uids[0], 1) == 0);
	TEST_ASSERT(tsu_blob_refs(&t, 2, hash) == 0);
	TEST_ASSERT(store_blob_read(t.st, 2, hash, 0, buf, sizeof(buf), &got,
	                            NULL) == RS_ENOTFOUND);
	TEST_ASSERT(tsu_expunge(&t, a, 1, &uid2, 1) == 0);
	TEST_ASSERT(tsu_count(&t, bprefix, sizeof(bprefix)) == 0);

	TEST_ASSERT(tsu_expunge(&t, a, 99, &uid2, 1) == RS_ENOTFOUND);
	TEST_ASSERT(tsu_expunge(&t, never, 1, &uid2, 1) == 0);
	TEST_ASSERT(store_account_get(t.st, never, &ai, NULL) == 0 &&
	            !ai.exists);
	tsu_close(&t);
}

void
test_store_flags(void)
{
	enum {
		SEEN = STORE_FLAG_SEEN, FLAG = STORE_FLAG_FLAGGED,
		DRAFT = STORE_FLAG_DRAFT, DEL = STORE_FLAG_DELETED,
	};
	static const struct {
		enum store_flag_op op;
		uint32_t flags;
		uint32_t want_flags;
		bool want_change;
		uint32_t want_unseen;
	} cases[] = {
		{ STORE_FLAGS_ADD, SEEN, SEEN, true, 0 },
		{ STORE_FLAGS_ADD, SEEN, SEEN, false, 0 },
		{ STORE_FLAGS_ADD, FLAG, SEEN | FLAG, true, 0 },
		{ STORE_FLAGS_REMOVE, SEEN, FLAG, true, 1 },
		{ STORE_FLAGS_REMOVE, DRAFT, FLAG, false, 1 },
		{ STORE_FLAGS_SET, FLAG, FLAG, false, 1 },
		{ STORE_FLAGS_SET, SEEN | DEL, SEEN | DEL, true, 0 },
		{ STORE_FLAGS_SET, 0, 0, true, 1 },
	};
	struct tsu t;
	struct store_acct a = { 3, 9 };
	uint32_t uid = 1, missing = 5;
	uint64_t modseq;

	tsu_open(&t, false, 0);
	test_deliver_n(&t, a, NULL, "flags", 2);
	modseq = 2;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct store_msg m;
		struct store_msg_buf mb;
		struct store_mailbox box;
		struct store_account_info ai;
		int rc;

		TEST_ASSERT_IDX(tsu_flags(&t, a, 1, &uid, 1, cases[i].op,
		                          cases[i].flags) == 0, i);
		if (cases[i].want_change)
			modseq++;
		rc = store_msg_get(t.st, a, 1, 1, &m, &mb, NULL);
		TEST_ASSERT_IDX(rc == 0, i);
		TEST_ASSERT_IDX(m.flags == cases[i].want_flags, i);
		/* Only message 1 changes, so its modseq is the account's. */
		TEST_ASSERT_IDX(m.modseq == modseq, i);
		store_msg_buf_free(&mb);
		TEST_ASSERT_IDX(store_mailbox_find(t.st, a, NULL, &box, NULL) ==
		                0, i);
		/* The other message stays unseen all along. */
		TEST_ASSERT_IDX(box.unseen == cases[i].want_unseen + 1, i);
		TEST_ASSERT_IDX(box.highestmodseq == modseq, i);
		TEST_ASSERT_IDX(store_account_get(t.st, a, &ai, NULL) == 0 &&
		                ai.modseq == modseq, i);
	}
	TEST_ASSERT(tsu_flags(&t, a, 1, &missing, 1, STORE_FLAGS_ADD,
	                      STORE_FLAG_SEEN) == 0);
	TEST_ASSERT(tsu_flags(&t, a, 42, &uid, 1, STORE_FLAGS_ADD,
	                      STORE_FLAG_SEEN) == RS_ENOTFOUND);
	tsu_close(&t);
}

/* After deleting a: nothing of it left, b's references intact. */
static void
test_delete_after(struct tsu *t, struct store_acct a, struct store_acct b,
                  const uint8_t shared[STORE_HASH_LEN],
                  const uint8_t own[STORE_HASH_LEN])
{
	uint8_t aprefix[16], bprefix[5] = { 0, 0, 0, 6, 'b' };
	struct store_account_info ai;
	struct store_mailbox *l;
	size_t n;

	TEST_ASSERT(tsu_count(t, aprefix, store_keys_acct(aprefix, a)) == 0);
	TEST_ASSERT(tsu_blob_refs(t, 6, shared) == 1);
	TEST_ASSERT(tsu_blob_refs(t, 6, own) == 0);
	/* b's blob: meta and one chunk are all that is left. */
	TEST_ASSERT(tsu_count(t, bprefix, sizeof(bprefix)) == 2);
	TEST_ASSERT(store_account_get(t->st, a, &ai, NULL) == 0 && !ai.exists);
	TEST_ASSERT(store_account_get(t->st, b, &ai, NULL) == 0 &&
	            ai.exists && ai.messages == 1);
	TEST_ASSERT(store_mailbox_list(t->st, a, &l, &n, NULL) == 0 && n == 6);
	free(l);
}

void
test_store_account_delete(void)
{
	struct tsu t;
	struct store_acct a = { 6, 1 }, b = { 6, 2 };
	struct store_rcpt r[2] = { tsu_rcpt(6, 1, NULL), tsu_rcpt(6, 2, NULL) };
	struct store_rcpt again = tsu_rcpt(6, 1, NULL);
	uint8_t shared[STORE_HASH_LEN], own[STORE_HASH_LEN], aprefix[16];
	uint32_t old_uidv;

	tsu_open(&t, false, 0);
	tsu_sha256("shared body", 11, shared);
	tsu_sha256("own body", 8, own);
	TEST_ASSERT(tsu_deliver(&t, "shared body", 11, r, 2) == 0);
	old_uidv = r[0].uidvalidity;
	test_deliver_n(&t, a, NULL, "own body", 3);
	test_deliver_n(&t, a, "Trash", "own body", 2);
	test_deliver_n(&t, a, "Sent", "shared body", 1);
	TEST_ASSERT(tsu_blob_refs(&t, 6, shared) == 3);
	TEST_ASSERT(tsu_blob_refs(&t, 6, own) == 5);
	TEST_ASSERT(tsu_count(&t, aprefix, store_keys_acct(aprefix, a)) > 20);

	TEST_ASSERT(tsu_delete(&t, a) == 0);
	test_delete_after(&t, a, b, shared, own);
	/* Deleting nothing is fine; so is deleting twice. */
	TEST_ASSERT(tsu_delete(&t, a) == 0);
	/* Re-created: fresh uids, and a UIDVALIDITY it never had. */
	TEST_ASSERT(tsu_deliver(&t, "again", 5, &again, 1) == 0);
	TEST_ASSERT(again.rc == 0 && again.uid == 1);
	TEST_ASSERT(again.uidvalidity > old_uidv);
	tsu_close(&t);
}

/* Overwrites one key with garbage through a custom write. */
struct test_smash {
	uint8_t key[STORE_KEYS_MAX];
	size_t  klen;
	uint8_t val[8];
	size_t  vlen;
};

static int
test_smash_apply(struct store_txn *txn, void *arg, struct rs_err *err)
{
	struct test_smash *s = arg;

	(void)err;
	store_txn_put(txn, s->key, s->klen, s->val, s->vlen);
	return 0;
}

/* A damaged message record: reads and writes that touch it say EIO. */
static void
test_corrupt_msg(struct tsu *t, struct store_acct a, struct test_smash *s)
{
	struct store_msg m;
	struct store_msg_buf mb;
	struct store_msg_iter *it;
	struct rs_err err;
	uint32_t uid = 2;

	s->klen = store_keys_msg(s->key, a, 1, 2);
	TEST_ASSERT(tsu_submit(t, test_smash_apply, s) == 0);
	TEST_ASSERT(store_msg_get(t->st, a, 1, 2, &m, &mb, &err) == RS_EIO);
	TEST_ASSERT(err.code == RS_EIO);
	store_msg_buf_free(&mb);
	it = store_msg_iter_new(t->st, a, 1, 1);
	TEST_ASSERT(store_msg_iter_next(it, &m, NULL) == 1 && m.uid == 1);
	TEST_ASSERT(store_msg_iter_next(it, &m, &err) == -1 &&
	            err.code == RS_EIO);
	TEST_ASSERT(store_msg_iter_next(it, &m, &err) == -1);
	store_msg_iter_free(&it);
	TEST_ASSERT(it == NULL);
	TEST_ASSERT(tsu_flags(t, a, 1, &uid, 1, STORE_FLAGS_ADD,
	                      STORE_FLAG_SEEN) == RS_EIO);
	TEST_ASSERT(tsu_expunge(t, a, 1, &uid, 1) == RS_EIO);
	TEST_ASSERT(tsu_delete(t, a) == RS_EIO);
	/* Uid 3 is intact and the failed writes left nothing behind. */
	TEST_ASSERT(store_msg_get(t->st, a, 1, 3, &m, &mb, NULL) == 0);
	store_msg_buf_free(&mb);
}

void
test_store_corrupt(void)
{
	struct tsu t;
	struct store_acct a = { 7, 1 };
	struct test_smash s = { .val = { 1, 0x80, 0x80 }, .vlen = 3 };
	struct store_rcpt r = tsu_rcpt(7, 1, NULL);
	struct store_account_info ai;
	struct store_mailbox box, *l;
	struct store_change ch[4];
	struct rs_err err;
	size_t n;

	tsu_open(&t, false, 0);
	test_deliver_n(&t, a, NULL, "body", 3);
	test_corrupt_msg(&t, a, &s);
	s.klen = store_keys_change(s.key, a, 2);
	TEST_ASSERT(tsu_submit(&t, test_smash_apply, &s) == 0);
	TEST_ASSERT(store_changes_since(t.st, a, 0, ch, 4, &n, &err) ==
	            RS_EIO);
	s.klen = store_keys_mbox(s.key, a, 2);
	TEST_ASSERT(tsu_submit(&t, test_smash_apply, &s) == 0);
	TEST_ASSERT(store_mailbox_find(t.st, a, "Sent", &box, &err) == RS_EIO);
	TEST_ASSERT(store_mailbox_list(t.st, a, &l, &n, &err) == RS_EIO);
	s.klen = store_keys_acct_tag(s.key, a, STORE_KEYS_STATE);
	s.vlen = 0;
	TEST_ASSERT(tsu_submit(&t, test_smash_apply, &s) == 0);
	TEST_ASSERT(store_account_get(t.st, a, &ai, &err) == RS_EIO);
	TEST_ASSERT(tsu_deliver(&t, "x", 1, &r, 1) == RS_EIO);
	/* A name index entry of the wrong size. */
	s.klen = store_keys_name(s.key, a, "Junk", 4);
	s.vlen = 2;
	TEST_ASSERT(tsu_submit(&t, test_smash_apply, &s) == 0);
	TEST_ASSERT(store_mailbox_find(t.st, a, "Junk", &box, &err) == RS_EIO);
	tsu_close(&t);
}
