/* test_store_append.c: store_append (storage/store_append.c): APPEND and
 * MULTIAPPEND all or none (RFC 3502), the client's internal dates, flags
 * and keywords, APPENDUID results, [TRYCREATE], quota and limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/storage/test_store_util.h"
#include "tests/unit/test.h"

static int
test_append_run(struct tsu *t, struct store_append *ap)
{
	struct tsu_done d = { 0 };
	struct rs_err e;

	return tsu_wait(t, store_append(t->st, ap, &t->ex.base, tsu_done_cb,
	                                &d, &e), &d, &e);
}

static const uint8_t test_meta[] = { 9, 8, 7 };

/* Three messages: dates, flags, keywords and a meta of their own. */
static void
test_append_msgs(struct store_append_msg *m)
{
	static const char *const kw[] = { "$Forwarded", "Todo" };
	static const char *const bodies[] = { "first", "second!", "third" };

	memset(m, 0, 3 * sizeof(*m));
	for (size_t i = 0; i < 3; i++) {
		m[i].msg.data = (const uint8_t *)bodies[i];
		m[i].msg.len = strlen(bodies[i]);
		m[i].msg.internal_date = 1600000000 + (int64_t)i;
	}
	m[0].flags = STORE_FLAG_SEEN | STORE_FLAG_DRAFT;
	m[1].keywords = kw;
	m[1].nkeywords = 2;
	m[1].msg.meta = test_meta;
	m[1].msg.meta_len = sizeof(test_meta);
}

static void
test_append_check(struct tsu *t, struct store_acct a, uint32_t mbox)
{
	struct store_msg m;
	struct store_msg_buf b;
	struct store_mailbox mb;

	TEST_ASSERT(store_msg_get(t->st, a, mbox, 2, &m, &b, NULL) == 0);
	TEST_ASSERT(m.internal_date == 1600000001 && m.size == 7 &&
	            m.nkeywords == 2 && m.flags == 0 &&
	            m.meta_len == sizeof(test_meta) &&
	            memcmp(m.meta, test_meta, sizeof(test_meta)) == 0);
	store_msg_buf_free(&b);
	TEST_ASSERT(store_msg_get(t->st, a, mbox, 1, &m, &b, NULL) == 0);
	TEST_ASSERT(m.flags == (STORE_FLAG_SEEN | STORE_FLAG_DRAFT) &&
	            m.meta == NULL && m.meta_len == 0);
	store_msg_buf_free(&b);
	TEST_ASSERT(store_mailbox_find(t->st, a, "Sent", &mb, NULL) == 0);
	TEST_ASSERT(mb.messages == 3 && mb.unseen == 2 && mb.bytes == 17 &&
	            mb.uidnext == 4 && mb.highestmodseq == 3 &&
	            mb.nkeywords == 2);
}

/* Iterating with STORE_ITER_META reads each body's meta; without, none. */
static void
test_append_iter(struct tsu *t, struct store_acct a, uint32_t mbox)
{
	for (unsigned opts = 0; opts <= STORE_ITER_META; opts++) {
		struct store_msg_iter *it = store_msg_iter_open(t->st, a, mbox,
		                                                1, opts);
		struct store_msg m;
		size_t n = 0, with = 0;

		while (store_msg_iter_next(it, &m, NULL) == 1) {
			n++;
			if (m.meta != NULL && m.uid == 2 &&
			    m.meta_len == sizeof(test_meta) &&
			    memcmp(m.meta, test_meta, sizeof(test_meta)) == 0)
				with++;
			else
				TEST_ASSERT_IDX(m.meta == NULL, opts);
		}
		store_msg_iter_free(&it);
		TEST_ASSERT_IDX(n == 3 && with == opts, opts);
	}
}

void
test_store_append_multi(void)
{
	struct tsu t;
	struct store_acct a = { 1, 1 };
	struct store_append_msg m[3];
	struct store_append ap = { .acct = a, .mailbox = "Sent", .msgs = m,
	                           .n = 3 };
	struct store_change ch[4];
	size_t n;

	tsu_open(&t, false, 0);
	test_append_msgs(m);
	/* The account has no state yet: the append creates it. */
	TEST_ASSERT(test_append_run(&t, &ap) == 0);
	TEST_ASSERT(ap.mailbox_id == 2 && ap.uid_first == 1 &&
	            ap.uidvalidity > 0);
	test_append_check(&t, a, ap.mailbox_id);
	test_append_iter(&t, a, ap.mailbox_id);
	TEST_ASSERT(store_changes_since(t.st, a, 0, ch, 4, &n, NULL) == 0 &&
	            n == 3 && ch[2].kind == STORE_CHANGE_APPEND &&
	            ch[2].uid == 3 && ch[2].mailbox == 2);
	/* APPEND of one more: APPENDUID continues. */
	ap.n = 1;
	ap.mailbox = NULL;
	TEST_ASSERT(test_append_run(&t, &ap) == 0 && ap.mailbox_id == 1 &&
	            ap.uid_first == 1);
	tsu_close(&t);
}

void
test_store_append_all_or_none(void)
{
	static char names[STORE_MAILBOX_KEYWORDS_MAX + 1][8];
	static const char *kw[STORE_MAILBOX_KEYWORDS_MAX + 1];
	struct tsu t;
	struct store_acct a = { 2, 1 };
	struct store_append_msg m[5];
	struct store_append ap = { .acct = a, .mailbox = "Nope", .msgs = m,
	                           .n = 3 };
	struct store_account_info ai;

	tsu_open(&t, false, 0);
	test_append_msgs(m);
	TEST_ASSERT(test_append_run(&t, &ap) == RS_ENOTFOUND);  /* TRYCREATE */
	ap.mailbox = "INBOX";
	ap.enforce_quota = true;
	ap.quota.bytes = 16;            /* the three take 17 */
	TEST_ASSERT(test_append_run(&t, &ap) == RS_EQUOTA);
	ap.quota.bytes = 0;
	ap.quota.messages = 2;
	TEST_ASSERT(test_append_run(&t, &ap) == RS_EQUOTA);
	/* The fifth message would bring the mailbox's 257th keyword. */
	for (size_t i = 0; i <= STORE_MAILBOX_KEYWORDS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "k%zu", i);
		kw[i] = names[i];
	}
	memcpy(&m[3], &m[0], sizeof(m[0]));
	memcpy(&m[4], &m[0], sizeof(m[0]));
	for (size_t i = 0; i < 5; i++) {
		m[i].keywords = &kw[i * STORE_KEYWORDS_MAX];
		m[i].nkeywords = i < 4 ? STORE_KEYWORDS_MAX : 1;
	}
	ap.quota.messages = 0;
	ap.n = 5;
	TEST_ASSERT(test_append_run(&t, &ap) == RS_ETOOBIG);
	/* Nothing of the failed appends was stored. */
	TEST_ASSERT(store_account_get(t.st, a, &ai, NULL) == 0 &&
	            ai.messages == 0 && ai.modseq == 0);
	ap.n = 4;
	TEST_ASSERT(test_append_run(&t, &ap) == 0 && ap.uid_first == 1);
	m[0].flags = 1u << 9;
	TEST_ASSERT(test_append_run(&t, &ap) == RS_EINVAL);
	m[0].flags = 0;
	ap.n = 0;
	TEST_ASSERT(test_append_run(&t, &ap) == RS_EINVAL);
	tsu_close(&t);
}
