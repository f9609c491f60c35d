/* test_store_deliver.c: store_deliver: uids and counters, one blob per
 * partition whatever the number of copies, quota and unknown mailboxes,
 * argument checks, and what a never-used account looks like. */
#include <stdlib.h>
#include <string.h>

#include "storage/store_keys.h"
#include "tests/unit/storage/test_store_util.h"
#include "tests/unit/test.h"

static const char test_body[] =
    "From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nhello\r\n";

static const uint8_t test_meta[] = { 1, 2, 3, 0, 5 };

/* After two deliveries: counters of the mailbox and the account. */
static void
test_deliver_one_counts(struct tsu *t, struct store_acct a)
{
	struct store_account_info ai;
	struct store_mailbox mb;

	TEST_ASSERT(store_mailbox_find(t->st, a, "inbox", &mb, NULL) == 0);
	TEST_ASSERT(mb.id == 1 && mb.uidnext == 3 && mb.messages == 2 &&
	            mb.unseen == 2 && mb.bytes == sizeof(test_body) - 1 + 10 &&
	            mb.highestmodseq == 2 && mb.use == STORE_USE_INBOX);
	TEST_ASSERT(store_account_get(t->st, a, &ai, NULL) == 0);
	TEST_ASSERT(ai.exists && ai.modseq == 2 && ai.messages == 2 &&
	            ai.mailboxes == 6 && ai.bytes == mb.bytes);
}

/* Every field of the first message as stored, and its body. */
static void
test_deliver_one_msg(struct tsu *t, struct store_acct a)
{
	struct store_msg m;
	struct store_msg_buf mbuf;
	uint8_t hash[STORE_HASH_LEN];
	char got[256];
	size_t n;

	TEST_ASSERT(store_msg_get(t->st, a, 1, 1, &m, &mbuf, NULL) == 0);
	tsu_sha256(test_body, sizeof(test_body) - 1, hash);
	TEST_ASSERT(m.mailbox == 1 && m.uid == 1 && m.modseq == 1 &&
	            m.flags == STORE_FLAG_FLAGGED &&
	            m.internal_date == 1700000123 &&
	            m.size == sizeof(test_body) - 1);
	TEST_ASSERT(memcmp(m.blob, hash, sizeof(hash)) == 0);
	TEST_ASSERT(m.nkeywords == 2);
	if (m.nkeywords == 2) {
		TEST_ASSERT_STREQ(m.keywords[0], "$Forwarded");
		TEST_ASSERT_STREQ(m.keywords[1], "project-x");
	}
	TEST_ASSERT(m.meta_len == sizeof(test_meta) &&
	            memcmp(m.meta, test_meta, sizeof(test_meta)) == 0);
	store_msg_buf_free(&mbuf);
	TEST_ASSERT(mbuf.raw == NULL);
	TEST_ASSERT(store_msg_get(t->st, a, 1, 3, &m, &mbuf, NULL) ==
	            RS_ENOTFOUND);
	store_msg_buf_free(&mbuf);

	TEST_ASSERT(store_blob_read(t->st, 1, hash, 0, got, sizeof(got), &n,
	                            NULL) == 0);
	TEST_ASSERT(n == sizeof(test_body) - 1 &&
	            memcmp(got, test_body, n) == 0);
}

void
test_store_deliver_one(void)
{
	static const char *const kw[] = { "$Forwarded", "project-x" };
	struct tsu t;
	struct store_rcpt r = tsu_rcpt(1, 100, NULL);
	struct store_rcpt r2 = tsu_rcpt(1, 100, "INBOX");
	struct store_message msg = { (const uint8_t *)test_body,
	                             sizeof(test_body) - 1, 1700000123,
	                             test_meta, sizeof(test_meta), NULL, 0 };
	struct tsu_done d = { 0 };

	tsu_open(&t, true, 0);
	r.flags = STORE_FLAG_FLAGGED;
	r.keywords = kw;
	r.nkeywords = 2;
	TEST_ASSERT(store_deliver(t.st, &msg, &r, 1, &t.ex.base, tsu_done_cb,
	                          &d, NULL) == 0);
	tsu_run(&t.ex, &d.n, 1);
	TEST_ASSERT(d.rc == 0 && r.rc == 0);
	TEST_ASSERT(r.mailbox_id == 1 && r.uid == 1 && r.uidvalidity > 0);

	TEST_ASSERT(tsu_deliver(&t, test_body, 10, &r2, 1) == 0);
	TEST_ASSERT(r2.rc == 0 && r2.uid == 2 &&
	            r2.uidvalidity == r.uidvalidity);
	test_deliver_one_counts(&t, r.acct);
	test_deliver_one_msg(&t, r.acct);
	tsu_close(&t);
}

/* Three copies in partition 1 and two in partition 2 from one call, then
 * two more deliveries: the body exists once per partition. */
void
test_store_deliver_dedupe(void)
{
	struct tsu t;
	struct store_rcpt r[5] = {
		tsu_rcpt(1, 10, NULL), tsu_rcpt(2, 20, NULL),
		tsu_rcpt(1, 11, NULL), tsu_rcpt(1, 12, "Archive"),
		tsu_rcpt(2, 21, NULL),
	};
	struct store_rcpt again = tsu_rcpt(1, 10, NULL);
	struct store_rcpt p3 = tsu_rcpt(3, 30, NULL);
	uint8_t hash[STORE_HASH_LEN], bprefix[5] = { 0, 0, 0, 1, 'b' };

	tsu_open(&t, false, 0);
	tsu_sha256(test_body, sizeof(test_body) - 1, hash);
	TEST_ASSERT(tsu_deliver(&t, test_body, sizeof(test_body) - 1, r, 5) ==
	            0);
	for (size_t i = 0; i < 5; i++) {
		TEST_ASSERT_IDX(r[i].rc == 0 && r[i].uid == 1, i);
		TEST_ASSERT_IDX(r[i].mailbox_id == (i == 3 ? 6u : 1u), i);
	}
	TEST_ASSERT(tsu_blob_refs(&t, 1, hash) == 3);
	TEST_ASSERT(tsu_blob_refs(&t, 2, hash) == 2);
	TEST_ASSERT(tsu_blob_refs(&t, 3, hash) == 0);
	/* Meta and one chunk in partition 1, nothing else. */
	TEST_ASSERT(tsu_count(&t, bprefix, sizeof(bprefix)) == 2);

	TEST_ASSERT(tsu_deliver(&t, test_body, sizeof(test_body) - 1, &again,
	                        1) == 0);
	TEST_ASSERT(again.rc == 0 && again.uid == 2);
	TEST_ASSERT(tsu_deliver(&t, test_body, sizeof(test_body) - 1, &p3, 1) ==
	            0);
	TEST_ASSERT(tsu_blob_refs(&t, 1, hash) == 4);
	TEST_ASSERT(tsu_blob_refs(&t, 3, hash) == 1);
	TEST_ASSERT(tsu_count(&t, bprefix, sizeof(bprefix)) == 2);
	tsu_close(&t);
}

/* One recipient refused, one stored: only one blob reference. */
static void
test_deliver_quota_mixed(struct tsu *t, const char *body, size_t len)
{
	struct store_rcpt two[2] = { tsu_rcpt(4, 1, NULL),
	                             tsu_rcpt(4, 2, NULL) };
	struct store_account_info ai;
	uint8_t hash[STORE_HASH_LEN];

	tsu_sha256(body, len, hash);
	two[0].enforce_quota = two[1].enforce_quota = true;
	two[0].quota = two[1].quota = 100;
	TEST_ASSERT(tsu_deliver(t, body, len, two, 2) == 0);
	TEST_ASSERT(two[0].rc == RS_EQUOTA && two[1].rc == 0);
	TEST_ASSERT(tsu_blob_refs(t, 4, hash) == 2);
	TEST_ASSERT(store_account_get(t->st, two[0].acct, &ai, NULL) == 0);
	TEST_ASSERT(ai.bytes == 100 && ai.messages == 2 && ai.modseq == 2);
}

void
test_store_deliver_quota(void)
{
	struct tsu t;
	struct store_rcpt r = tsu_rcpt(4, 1, NULL);
	char body[60];

	tsu_open(&t, false, 0);
	memset(body, 'q', sizeof(body));
	r.enforce_quota = true;
	r.quota = 100;
	TEST_ASSERT(tsu_deliver(&t, body, sizeof(body), &r, 1) == 0);
	TEST_ASSERT(r.rc == 0 && r.uid == 1);
	TEST_ASSERT(tsu_deliver(&t, body, sizeof(body), &r, 1) == 0);
	TEST_ASSERT(r.rc == RS_EQUOTA && r.uid == 0);
	/* Exactly at the quota is allowed. */
	TEST_ASSERT(tsu_deliver(&t, body, 40, &r, 1) == 0);
	TEST_ASSERT(r.rc == 0 && r.uid == 2);
	test_deliver_quota_mixed(&t, body, sizeof(body));

	/* Not enforced (a bounce, say), or unlimited: stored over quota. */
	r.enforce_quota = false;
	TEST_ASSERT(tsu_deliver(&t, body, sizeof(body), &r, 1) == 0);
	TEST_ASSERT(r.rc == 0 && r.uid == 3);
	r.enforce_quota = true;
	r.quota = 0;
	TEST_ASSERT(tsu_deliver(&t, body, sizeof(body), &r, 1) == 0);
	TEST_ASSERT(r.rc == 0 && r.uid == 4);
	tsu_close(&t);
}

void
test_store_deliver_mailbox(void)
{
	static const struct {
		const char *name;
		int want_rc;
		uint32_t want_id;
	} cases[] = {
		{ NULL, 0, 1 }, { "INBOX", 0, 1 }, { "inbox", 0, 1 },
		{ "InBoX", 0, 1 }, { "Sent", 0, 2 }, { "Drafts", 0, 3 },
		{ "Trash", 0, 4 }, { "Junk", 0, 5 }, { "Archive", 0, 6 },
		{ "sent", RS_ENOTFOUND, 0 }, { "NoSuch", RS_ENOTFOUND, 0 },
		{ "", RS_ENOTFOUND, 0 }, { "INBOX/sub", RS_ENOTFOUND, 0 },
	};
	struct tsu t;
	uint8_t hash[STORE_HASH_LEN];
	uint64_t stored = 0;

	tsu_open(&t, false, 0);
	tsu_sha256(test_body, 5, hash);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct store_rcpt r = tsu_rcpt(0, 7, cases[i].name);

		TEST_ASSERT_IDX(tsu_deliver(&t, test_body, 5, &r, 1) == 0, i);
		TEST_ASSERT_IDX(r.rc == cases[i].want_rc, i);
		TEST_ASSERT_IDX(r.mailbox_id == cases[i].want_id, i);
		stored += r.rc == 0;
	}
	TEST_ASSERT(tsu_blob_refs(&t, 0, hash) == stored);
	tsu_close(&t);
}

void
test_store_deliver_args(void)
{
	static const char *const long_kw[] = { "x" };
	struct tsu t;
	struct store_rcpt r = tsu_rcpt(1, 1, NULL);
	struct store_message msg = { (const uint8_t *)"x", 1, 0, NULL, 0, NULL, 0 };
	struct tsu_done d = { 0 };
	struct rs_err e;
	char big[STORE_KEYWORD_MAX + 2];
	const char *kws[1] = { big };

	tsu_open(&t, false, 0);
	TEST_ASSERT(store_deliver(t.st, &msg, &r, 0, &t.ex.base, tsu_done_cb,
	                          &d, &e) == -1 && e.code == RS_EINVAL);
	r.acct.part = STORE_PART_LOCAL;
	TEST_ASSERT(store_deliver(t.st, &msg, &r, 1, &t.ex.base, tsu_done_cb,
	                          &d, &e) == -1 && e.code == RS_EINVAL);
	r.acct.part = 1;
	r.flags = 1u << 7;
	TEST_ASSERT(store_deliver(t.st, &msg, &r, 1, &t.ex.base, tsu_done_cb,
	                          &d, &e) == -1 && e.code == RS_EINVAL);
	r.flags = 0;
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	r.keywords = kws;
	r.nkeywords = 1;
	TEST_ASSERT(store_deliver(t.st, &msg, &r, 1, &t.ex.base, tsu_done_cb,
	                          &d, &e) == -1 && e.code == RS_EINVAL);
	r.keywords = long_kw;
	r.nkeywords = STORE_KEYWORDS_MAX + 1;
	TEST_ASSERT(store_deliver(t.st, &msg, &r, 1, &t.ex.base, tsu_done_cb,
	                          &d, &e) == -1 && e.code == RS_EINVAL);
	r.nkeywords = 0;
	msg.meta = (const uint8_t *)"m";
	msg.meta_len = STORE_META_MAX + 1;
	TEST_ASSERT(store_deliver(t.st, &msg, &r, 1, &t.ex.base, tsu_done_cb,
	                          &d, &e) == -1 && e.code == RS_ETOOBIG);
	TEST_ASSERT(store_set_flags(t.st, r.acct, 1, NULL, 0, STORE_FLAGS_ADD,
	                            1u << 9, &t.ex.base, tsu_done_cb, &d,
	                            &e) == -1 && e.code == RS_EINVAL);
	/* An empty body is a message too. */
	msg.meta_len = 0;
	msg.len = 0;
	TEST_ASSERT(tsu_deliver(&t, NULL, 0, &r, 1) == 0 && r.rc == 0);
	tsu_run_pending(&t.ex);
	TEST_ASSERT(d.n == 0);          /* refused calls never call back */
	tsu_close(&t);
}

/* The mailbox list in name order; created says whether the first write
 * happened (real UIDVALIDITY, one message in Drafts). */
static void
test_defaults_list(struct tsu *t, struct store_acct a, bool created)
{
	static const char *const want[] = { "Archive", "Drafts", "INBOX",
	                                    "Junk", "Sent", "Trash" };
	static const uint32_t want_id[] = { 6, 3, 1, 5, 2, 4 };
	struct store_mailbox *l = NULL, mb;
	size_t n = 0;

	TEST_ASSERT(store_mailbox_list(t->st, a, &l, &n, NULL) == 0);
	TEST_ASSERT(n == 6);
	for (size_t i = 0; i < n && i < 6; i++) {
		bool drafts = l[i].id == 3;

		TEST_ASSERT_IDX(strcmp(l[i].name, want[i]) == 0, i);
		TEST_ASSERT_IDX(l[i].id == want_id[i], i);
		TEST_ASSERT_IDX(l[i].uidnext == (created && drafts ? 2u : 1u),
		                i);
		TEST_ASSERT_IDX((l[i].uidvalidity != 0) == created, i);
		TEST_ASSERT_IDX(l[i].subscribed, i);
	}
	free(l);
	TEST_ASSERT(store_mailbox_find(t->st, a, "Junk", &mb, NULL) == 0);
	TEST_ASSERT(mb.id == 5 && mb.use == STORE_USE_JUNK);
	TEST_ASSERT(store_mailbox_find(t->st, a, "Nope", &mb, NULL) ==
	            RS_ENOTFOUND);
}

/* A never-used account shows the default mailboxes (uidvalidity 0); the
 * first write gives them the same ids and a real UIDVALIDITY. */
void
test_store_mailbox_defaults(void)
{
	struct tsu t;
	struct store_acct a = { 5, 55 };
	struct store_rcpt r = tsu_rcpt(5, 55, "Drafts");
	struct store_account_info ai;

	tsu_open(&t, false, 0);
	TEST_ASSERT(store_account_get(t.st, a, &ai, NULL) == 0 && !ai.exists &&
	            ai.modseq == 0 && ai.messages == 0);
	test_defaults_list(&t, a, false);
	TEST_ASSERT(tsu_deliver(&t, "x", 1, &r, 1) == 0);
	TEST_ASSERT(r.rc == 0 && r.mailbox_id == 3);
	test_defaults_list(&t, a, true);
	tsu_close(&t);
}

/* A delivery retried under the same idempotency key stores nothing for
 * the recipients that have their copy and reports the first copy; a new
 * recipient in the retry gets its copy; another key is another message;
 * keys of a day past the window are trimmed. */
void
test_store_deliver_idem(void)
{
	static const uint8_t key1[16] = "0123456789abcdef";
	static const uint8_t key2[16] = "fedcba9876543210";
	struct tsu t;
	struct store_rcpt r[2] = { tsu_rcpt(1, 10, NULL), tsu_rcpt(2, 20, NULL) };
	struct store_rcpt again[3] = {
		tsu_rcpt(1, 10, NULL), tsu_rcpt(2, 20, NULL),
		tsu_rcpt(1, 11, NULL),
	};
	struct store_message msg = { (const uint8_t *)test_body,
	                             sizeof(test_body) - 1, 1700000123, NULL, 0,
	                             key1, sizeof(key1) };
	struct store_account_info info;
	uint8_t hash[STORE_HASH_LEN];
	struct tsu_done d = { 0 };
	struct rs_err err;

	tsu_open(&t, false, 0);
	tsu_sha256(test_body, sizeof(test_body) - 1, hash);
	TEST_ASSERT(store_deliver(t.st, &msg, r, 2, &t.ex.base, tsu_done_cb, &d,
	                          NULL) == 0);
	tsu_run(&t.ex, &d.n, 1);
	TEST_ASSERT(d.rc == 0 && r[0].rc == 0 && r[0].uid == 1 &&
	            r[1].uid == 1);
	TEST_ASSERT(store_deliver(t.st, &msg, again, 3, &t.ex.base, tsu_done_cb,
	                          &d, NULL) == 0);
	tsu_run(&t.ex, &d.n, 2);
	TEST_ASSERT(d.rc == 0);
	for (size_t i = 0; i < 3; i++)
		TEST_ASSERT_IDX(again[i].rc == 0 && again[i].uid == 1, i);
	TEST_ASSERT(again[0].uidvalidity == r[0].uidvalidity &&
	            again[0].mailbox_id == r[0].mailbox_id);
	TEST_ASSERT(store_account_get(t.st, r[0].acct, &info, &err) == 0);
	TEST_ASSERT(info.messages == 1);
	TEST_ASSERT(tsu_blob_refs(&t, 1, hash) == 2);    /* 10 and 11 */
	TEST_ASSERT(tsu_blob_refs(&t, 2, hash) == 1);

	msg.idem = key2;
	TEST_ASSERT(store_deliver(t.st, &msg, r, 1, &t.ex.base, tsu_done_cb, &d,
	                          NULL) == 0);
	tsu_run(&t.ex, &d.n, 3);
	TEST_ASSERT(r[0].rc == 0 && r[0].uid == 2);
	msg.idem_len = STORE_IDEM_MAX + 1;
	TEST_ASSERT(store_deliver(t.st, &msg, r, 1, &t.ex.base, tsu_done_cb, &d,
	                          &err) != 0 && err.code == RS_EINVAL);
	tsu_close(&t);
}
