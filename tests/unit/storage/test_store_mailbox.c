/* test_store_mailbox.c: CREATE, DELETE, SUBSCRIBE and the reads behind
 * LSUB and FLAGS (storage/store_mailbox.c, store_mbox_read.c): ids never
 * reused, UIDVALIDITY never repeated, the change-log entries each write
 * leaves, and what a never-used account shows. */
#include <stdlib.h>
#include <string.h>

#include "storage/store_keys.h"
#include "tests/unit/storage/test_store_util.h"
#include "tests/unit/test.h"

static void
test_deliver_kw(struct tsu *t, struct store_acct a, const char *mbox,
                const char *body, const char *const *kw, size_t nkw)
{
	struct store_rcpt r = tsu_rcpt(a.part, a.id, mbox);

	r.keywords = kw;
	r.nkeywords = nkw;
	TEST_ASSERT(tsu_deliver(t, body, strlen(body), &r, 1) == 0 &&
	            r.rc == 0);
}

/* The whole account log must be want[0..n), in order. */
static void
test_log_is(struct tsu *t, struct store_acct a, uint64_t since,
            const struct store_change *want, size_t n)
{
	struct store_change ch[32];
	size_t got;

	TEST_ASSERT(store_changes_since(t->st, a, since, ch, 32, &got, NULL) ==
	            0);
	TEST_ASSERT_INTEQ(got, n);
	for (size_t i = 0; i < got && i < n; i++) {
		TEST_ASSERT_IDX(ch[i].modseq == want[i].modseq, i);
		TEST_ASSERT_IDX(ch[i].kind == want[i].kind, i);
		TEST_ASSERT_IDX(ch[i].mailbox == want[i].mailbox, i);
		TEST_ASSERT_IDX(ch[i].uid == want[i].uid, i);
	}
}

static void
test_create_bad(struct tsu *t, struct store_acct a)
{
	static const char *const bad[] = { "", "a\xff", "\xc0\xaf" };
	struct tsu_done d = { 0 };
	struct rs_err e;
	char *longname = calloc(1, STORE_MAILBOX_NAME_MAX + 2);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TEST_ASSERT_IDX(tsu_create(t, a, bad[i], NULL) == RS_EINVAL, i);
	memset(longname, 'x', STORE_MAILBOX_NAME_MAX + 1);
	TEST_ASSERT(tsu_create(t, a, longname, NULL) == RS_EINVAL);
	free(longname);
	TEST_ASSERT(store_mailbox_create(t->st, a, "x", STORE_USE_INBOX, NULL,
	                                 &t->ex.base, tsu_done_cb, &d,
	                                 &e) == -1 && e.code == RS_EINVAL);
	TEST_ASSERT(d.n == 0);
}

void
test_store_mailbox_create(void)
{
	struct tsu t;
	struct store_acct a = { 1, 1 };
	struct store_mailbox mb, inbox, *l;
	struct store_account_info ai;
	struct store_change want[] = { { 1, STORE_CHANGE_MAILBOX, 7, 0 },
	                               { 2, STORE_CHANGE_MAILBOX, 8, 0 } };
	size_t n;

	tsu_open(&t, false, 0);
	memset(&mb, 0, sizeof(mb));
	TEST_ASSERT(tsu_create(&t, a, "Lists", &mb) == 0);
	TEST_ASSERT(mb.id == 7 && mb.uidnext == 1 && mb.uidvalidity > 0 &&
	            mb.highestmodseq == 1 && !mb.subscribed &&
	            mb.use == STORE_USE_NONE && mb.messages == 0);
	TEST_ASSERT_STREQ(mb.name, "Lists");
	TEST_ASSERT(store_mailbox_find(t.st, a, "INBOX", &inbox, NULL) == 0);
	TEST_ASSERT(mb.uidvalidity > inbox.uidvalidity);
	TEST_ASSERT(tsu_create(&t, a, "Lists", NULL) == RS_ECONFLICT);
	TEST_ASSERT(tsu_create(&t, a, "inbox", NULL) == RS_ECONFLICT);
	TEST_ASSERT(tsu_create(&t, a, "lists", NULL) == 0);
	test_create_bad(&t, a);
	test_log_is(&t, a, 0, want, 2);
	TEST_ASSERT(store_mailbox_list(t.st, a, &l, &n, NULL) == 0 && n == 8);
	free(l);
	TEST_ASSERT(store_account_get(t.st, a, &ai, NULL) == 0 &&
	            ai.mailboxes == 8 && ai.modseq == 2);
	TEST_ASSERT(store_mailbox_find(t.st, a, "lists", &mb, NULL) == 0 &&
	            mb.id == 8 && mb.highestmodseq == 2);
	tsu_close(&t);
}

/* Work had two messages with keywords: nothing of it is left. */
static void
test_delete_gone(struct tsu *t, struct store_acct a, uint32_t id,
                 const uint8_t hash[STORE_HASH_LEN])
{
	struct store_account_info ai;
	struct store_mailbox mb;
	struct store_change ch[4];
	uint8_t prefix[STORE_KEYS_MBOX_LEN];
	char **kw;
	size_t n;

	TEST_ASSERT(store_mailbox_find(t->st, a, "Work", &mb, NULL) ==
	            RS_ENOTFOUND);
	TEST_ASSERT(store_account_get(t->st, a, &ai, NULL) == 0 &&
	            ai.messages == 1 && ai.mailboxes == 6);
	TEST_ASSERT(tsu_blob_refs(t, a.part, hash) == 0);
	TEST_ASSERT(store_mailbox_keywords(t->st, a, id, &kw, &n, NULL) == 0 &&
	            n == 0);
	free(kw);
	TEST_ASSERT(store_mailbox_changes(t->st, a, id, 0, ch, 4, &n, NULL) ==
	            0 && n == 0);
	TEST_ASSERT(tsu_count(t, prefix, store_keys_mbox_tag(
	                      prefix, a, STORE_KEYS_MSG, id)) == 0);
	TEST_ASSERT(tsu_count(t, prefix, store_keys_mbox_tag(
	                      prefix, a, STORE_KEYS_IDX, id)) == 0);
	TEST_ASSERT(tsu_count(t, prefix, store_keys_mbox(prefix, a, id)) == 0);
	/* The last entry of the account log says the mailbox went. */
	TEST_ASSERT(store_changes_since(t->st, a, ai.modseq - 1, ch, 4, &n,
	                                NULL) == 0 && n == 1);
	TEST_ASSERT(ch[0].kind == STORE_CHANGE_MAILBOX && ch[0].mailbox == id);
}

void
test_store_mailbox_delete(void)
{
	static const char *const kw[] = { "Project" };
	struct tsu t;
	struct store_acct a = { 2, 1 }, never = { 2, 2 };
	struct store_mailbox mb, again;
	uint8_t hash[STORE_HASH_LEN];

	tsu_open(&t, false, 0);
	TEST_ASSERT(tsu_create(&t, a, "Work", &mb) == 0);
	test_deliver_kw(&t, a, "Work", "work body", kw, 1);
	test_deliver_kw(&t, a, "Work", "work body", NULL, 0);
	test_deliver_kw(&t, a, NULL, "inbox body", NULL, 0);
	tsu_sha256("work body", 9, hash);
	TEST_ASSERT(tsu_blob_refs(&t, a.part, hash) == 2);
	TEST_ASSERT(store_mailbox_get(t.st, a, mb.id, &again, NULL) == 0);
	TEST_ASSERT(again.id == mb.id && again.messages == 2 &&
	            strcmp(again.name, "Work") == 0);
	TEST_ASSERT(tsu_mdelete(&t, a, "Work") == 0);
	test_delete_gone(&t, a, mb.id, hash);
	TEST_ASSERT(store_mailbox_get(t.st, a, mb.id, &again, NULL) ==
	            RS_ENOTFOUND);
	TEST_ASSERT(tsu_mdelete(&t, a, "Work") == RS_ENOTFOUND);
	TEST_ASSERT(tsu_mdelete(&t, a, "inbox") == RS_EPERM);
	TEST_ASSERT(tsu_mdelete(&t, a, "\xff") == RS_EINVAL);
	/* A new mailbox of the same name is another mailbox. */
	TEST_ASSERT(tsu_create(&t, a, "Work", &again) == 0);
	TEST_ASSERT(again.id == mb.id + 1 &&
	            again.uidvalidity > mb.uidvalidity && again.uidnext == 1);
	/* A never-used account's defaults can go, INBOX not. */
	TEST_ASSERT(tsu_mdelete(&t, never, "Junk") == 0);
	TEST_ASSERT(tsu_mbox_id(&t, never, "Junk") == 0);
	TEST_ASSERT(tsu_mdelete(&t, never, "INBOX") == RS_EPERM);
	tsu_close(&t);
}

/* Subscribed names, compared to want. */
static void
test_subs_are(struct tsu *t, struct store_acct a, const char *const *want,
              size_t n)
{
	char **names;
	size_t got;

	TEST_ASSERT(store_mailbox_subscriptions(t->st, a, &names, &got,
	                                        NULL) == 0);
	TEST_ASSERT_INTEQ(got, n);
	for (size_t i = 0; i < got && i < n; i++)
		TEST_ASSERT_STREQ(names[i], want[i]);
	free(names);
}

void
test_store_mailbox_subscribe(void)
{
	static const char *const defaults[] = { "Archive", "Drafts", "INBOX",
	                                        "Junk", "Sent", "Trash" };
	static const char *const after[] = { "Archive", "Drafts", "Ghost",
	                                     "INBOX", "Sent", "Trash" };
	struct tsu t;
	struct store_acct a = { 3, 1 };
	struct store_account_info ai;
	struct store_mailbox mb;
	struct store_change want = { 1, STORE_CHANGE_MAILBOX, 5, 0 };

	tsu_open(&t, false, 0);
	test_subs_are(&t, a, defaults, 6);
	/* Names need no mailbox; no mailbox, no change-log entry. */
	TEST_ASSERT(store_mailbox_find(t.st, a, "INBOX", &mb, NULL) == 0 &&
	            mb.uidvalidity == 0);
	TEST_ASSERT(tsu_subscribe(&t, a, "Ghost", true) == 0);
	TEST_ASSERT(store_account_get(t.st, a, &ai, NULL) == 0 && ai.exists &&
	            ai.modseq == 0);
	/* Any write creates the account: INBOX has a real UIDVALIDITY. */
	TEST_ASSERT(store_mailbox_find(t.st, a, "INBOX", &mb, NULL) == 0 &&
	            mb.uidvalidity > 0);
	TEST_ASSERT(tsu_subscribe(&t, a, "Junk", false) == 0);
	TEST_ASSERT(store_mailbox_find(t.st, a, "Junk", &mb, NULL) == 0 &&
	            !mb.subscribed && mb.highestmodseq == 1);
	test_log_is(&t, a, 0, &want, 1);
	/* Idempotent: nothing changes, nothing is logged. */
	TEST_ASSERT(tsu_subscribe(&t, a, "Junk", false) == 0);
	TEST_ASSERT(tsu_subscribe(&t, a, "inbox", true) == 0);
	TEST_ASSERT(store_account_get(t.st, a, &ai, NULL) == 0 &&
	            ai.modseq == 1);
	test_subs_are(&t, a, after, 6);
	/* A mailbox created under a subscribed name is subscribed. */
	TEST_ASSERT(tsu_create(&t, a, "Ghost", &mb) == 0 && mb.subscribed);
	/* Deleting a mailbox leaves its subscription. */
	TEST_ASSERT(tsu_mdelete(&t, a, "Ghost") == 0);
	test_subs_are(&t, a, after, 6);
	tsu_close(&t);
}

void
test_store_mailbox_keywords(void)
{
	static const char *const kw1[] = { "Project", "$Junk" };
	static const char *const kw2[] = { "project", "Alpha", "$junk" };
	static const char *const want[] = { "$Junk", "Alpha", "Project" };
	struct tsu t;
	struct store_acct a = { 4, 1 };
	struct store_mailbox mb;
	char **kw;
	size_t n;

	tsu_open(&t, false, 0);
	TEST_ASSERT(store_mailbox_keywords(t.st, a, 1, &kw, &n, NULL) == 0 &&
	            n == 0);
	free(kw);
	test_deliver_kw(&t, a, NULL, "one", kw1, 2);
	test_deliver_kw(&t, a, NULL, "two", kw2, 3);
	/* First spellings, in case-insensitive order. */
	TEST_ASSERT(store_mailbox_keywords(t.st, a, 1, &kw, &n, NULL) == 0);
	TEST_ASSERT_INTEQ(n, 3);
	for (size_t i = 0; i < n && i < 3; i++)
		TEST_ASSERT_STREQ(kw[i], want[i]);
	free(kw);
	TEST_ASSERT(store_mailbox_find(t.st, a, NULL, &mb, NULL) == 0 &&
	            mb.nkeywords == 3);
	/* Another mailbox's set is its own. */
	TEST_ASSERT(store_mailbox_keywords(t.st, a, 2, &kw, &n, NULL) == 0 &&
	            n == 0);
	free(kw);
	TEST_ASSERT(store_keyword_valid("$Forwarded") &&
	            store_keyword_valid("a") && !store_keyword_valid("") &&
	            !store_keyword_valid("\\Seen") &&
	            !store_keyword_valid("a b") && !store_keyword_valid("a]") &&
	            !store_keyword_valid("caf\xc3\xa9"));
	tsu_close(&t);
}
