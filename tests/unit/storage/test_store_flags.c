/* test_store_flags.c: store_flags_update (storage/store_flags.c): STORE
 * on flags and keywords, one modseq per changed message, the results
 * handed back (status, flags, keywords), UNCHANGEDSINCE and MODIFIED
 * (RFC 7162 3.1.3), and the keyword limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/storage/test_store_util.h"
#include "tests/unit/test.h"

/* Runs f (inputs set) and returns cb's rc; results stay in f. */
static int
test_flags_run(struct tsu *t, struct store_flags *f)
{
	struct tsu_done d = { 0 };
	struct rs_err e;

	return tsu_wait(t, store_flags_update(t->st, f, &t->ex.base,
	                                      tsu_done_cb, &d, &e), &d, &e);
}

static void
test_flags_setup(struct tsu *t, struct store_acct a, int n)
{
	for (int i = 0; i < n; i++) {
		struct store_rcpt r = tsu_rcpt(a.part, a.id, NULL);

		TEST_ASSERT(tsu_deliver(t, "body", 4, &r, 1) == 0 && r.rc == 0);
	}
}

/* The keywords of results item i, joined by spaces into out. */
static const char *
test_flags_kw(const struct store_flags *f, size_t i, char *out, size_t cap)
{
	const struct store_flags_item *it = &f->items[i];

	out[0] = '\0';
	for (uint32_t k = 0; k < it->nkw; k++) {
		if (k > 0)
			strncat(out, " ", cap - strlen(out) - 1);
		strncat(out, f->kw[it->kw_first + k], cap - strlen(out) - 1);
	}
	return out;
}

/* After ADD and SET on uids 1 and 3 of 3. */
static void
test_flags_remove(struct tsu *t, struct store_flags *f)
{
	static const char *const kw[] = { "DONE" };
	struct store_mailbox mb;

	/* The mailbox counts them, and its keyword set kept them all. */
	TEST_ASSERT(store_mailbox_find(t->st, f->acct, NULL, &mb, NULL) == 0);
	TEST_ASSERT(mb.unseen == 3 && mb.deleted == 2 &&
	            mb.deleted_bytes == 8 && mb.nkeywords == 3 &&
	            mb.highestmodseq == 7);
	/* REMOVE of a keyword the message has, in another spelling. */
	f->op = STORE_FLAGS_REMOVE;
	f->flags = 0;
	f->keywords = kw;
	TEST_ASSERT(test_flags_run(t, f) == 0);
	TEST_ASSERT(f->nitems == 2 && f->items[0].nkw == 0 &&
	            f->items[0].status == STORE_FLAGS_CHANGED);
	store_flags_free(f);
}

void
test_store_flags_keywords(void)
{
	static const char *const add[] = { "Project", "$Forwarded" };
	static const char *const again[] = { "project" };
	static const char *const set[] = { "Done" };
	static const uint32_t uids[] = { 3, 1, 3, 9 };
	struct tsu t;
	struct store_acct a = { 1, 1 };
	struct store_flags f = { .acct = a, .mailbox = 1, .uids = uids,
	                         .n = 4, .op = STORE_FLAGS_ADD,
	                         .flags = STORE_FLAG_SEEN, .keywords = add,
	                         .nkeywords = 2 };
	char buf[128];

	tsu_open(&t, false, 0);
	test_flags_setup(&t, a, 3);
	TEST_ASSERT(test_flags_run(&t, &f) == 0);
	/* UIDs 1 and 3, ascending; 9 does not exist. */
	TEST_ASSERT(f.nitems == 2 && f.items[0].uid == 1 &&
	            f.items[1].uid == 3);
	TEST_ASSERT(f.items[0].status == STORE_FLAGS_CHANGED &&
	            f.items[0].modseq == 4 && f.items[1].modseq == 5 &&
	            f.items[0].flags == STORE_FLAG_SEEN);
	TEST_ASSERT_STREQ(test_flags_kw(&f, 1, buf, sizeof(buf)),
	                  "Project $Forwarded");
	store_flags_free(&f);
	/* Another spelling of a keyword it has: nothing changes. */
	f.keywords = again;
	f.nkeywords = 1;
	TEST_ASSERT(test_flags_run(&t, &f) == 0);
	TEST_ASSERT(f.nitems == 2 && f.items[0].status == STORE_FLAGS_SAME &&
	            f.items[0].modseq == 4);
	store_flags_free(&f);
	/* SET replaces flags and keywords alike. */
	f.op = STORE_FLAGS_SET;
	f.flags = STORE_FLAG_DELETED;
	f.keywords = set;
	TEST_ASSERT(test_flags_run(&t, &f) == 0);
	TEST_ASSERT(f.nitems == 2 && f.items[1].modseq == 7 &&
	            f.items[1].flags == STORE_FLAG_DELETED);
	TEST_ASSERT_STREQ(test_flags_kw(&f, 1, buf, sizeof(buf)), "Done");
	store_flags_free(&f);
	test_flags_remove(&t, &f);
	tsu_close(&t);
}

void
test_store_flags_unchangedsince(void)
{
	static const uint32_t uids[] = { 1, 2, 3 };
	struct tsu t;
	struct store_acct a = { 2, 1 };
	struct store_flags f = { .acct = a, .mailbox = 1, .uids = uids,
	                         .n = 3, .op = STORE_FLAGS_ADD,
	                         .flags = STORE_FLAG_FLAGGED };
	uint32_t two = 2;

	tsu_open(&t, false, 0);
	test_flags_setup(&t, a, 3);
	/* uid 2 changes at modseq 4, after the client's 3. */
	TEST_ASSERT(tsu_flags(&t, a, 1, &two, 1, STORE_FLAGS_ADD,
	                      STORE_FLAG_SEEN) == 0);
	f.conditional = true;
	f.unchangedsince = 3;
	TEST_ASSERT(test_flags_run(&t, &f) == 0);
	TEST_ASSERT(f.nitems == 3);
	if (f.nitems == 3) {
		TEST_ASSERT(f.items[0].status == STORE_FLAGS_CHANGED &&
		            f.items[0].modseq == 5);
		TEST_ASSERT(f.items[1].status == STORE_FLAGS_MODIFIED &&
		            f.items[1].modseq == 4 &&
		            f.items[1].flags == STORE_FLAG_SEEN);
		TEST_ASSERT(f.items[2].status == STORE_FLAGS_CHANGED &&
		            f.items[2].modseq == 6);
	}
	store_flags_free(&f);
	/* UNCHANGEDSINCE 0 fails every message that exists. */
	f.unchangedsince = 0;
	TEST_ASSERT(test_flags_run(&t, &f) == 0);
	TEST_ASSERT(f.nitems == 3 && f.items[0].status == STORE_FLAGS_MODIFIED);
	store_flags_free(&f);
	tsu_close(&t);
}

/* Queue errors, and a mailbox that does not exist. */
static void
test_flags_bad(struct tsu *t, struct store_flags *f)
{
	static const char *const bad[] = { "\\Seen" };
	struct rs_err e;
	struct tsu_done d = { 0 };

	/* A system flag as a keyword, an unknown flag. */
	f->keywords = bad;
	f->nkeywords = 1;
	TEST_ASSERT(store_flags_update(t->st, f, &t->ex.base, tsu_done_cb, &d,
	                               &e) == -1 && e.code == RS_EINVAL);
	f->keywords = NULL;
	f->nkeywords = 0;
	f->flags = 1u << 7;
	TEST_ASSERT(store_flags_update(t->st, f, &t->ex.base, tsu_done_cb, &d,
	                               &e) == -1 && e.code == RS_EINVAL);
	TEST_ASSERT(d.n == 0);
	f->flags = 0;
	f->mailbox = 42;
	TEST_ASSERT(test_flags_run(t, f) == RS_ENOTFOUND);
	store_flags_free(f);
}

void
test_store_flags_limits(void)
{
	static char names[STORE_MAILBOX_KEYWORDS_MAX + 1][16];
	static const char *kw[STORE_MAILBOX_KEYWORDS_MAX + 1];
	uint32_t uids[5] = { 1, 2, 3, 4, 5 };
	struct tsu t;
	struct store_acct a = { 3, 1 };
	struct store_flags f = { .acct = a, .mailbox = 1, .uids = uids,
	                         .n = 1, .op = STORE_FLAGS_ADD };
	struct store_mailbox mb;

	tsu_open(&t, false, 0);
	test_flags_setup(&t, a, 5);
	for (size_t i = 0; i <= STORE_MAILBOX_KEYWORDS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "k%zu", i);
		kw[i] = names[i];
	}
	/* 64 keywords per message: uids 1..4 take 256 between them. */
	for (size_t i = 0; i < 4; i++) {
		f.uids = &uids[i];
		f.keywords = &kw[i * STORE_KEYWORDS_MAX];
		f.nkeywords = STORE_KEYWORDS_MAX;
		TEST_ASSERT_IDX(test_flags_run(&t, &f) == 0, i);
		store_flags_free(&f);
	}
	/* A 65th on a message, or a 257th in the mailbox: [LIMIT]. */
	f.keywords = &kw[0];
	f.nkeywords = 1;
	TEST_ASSERT(test_flags_run(&t, &f) == RS_ETOOBIG);
	store_flags_free(&f);
	f.uids = &uids[4];
	f.keywords = &kw[STORE_MAILBOX_KEYWORDS_MAX];
	TEST_ASSERT(test_flags_run(&t, &f) == RS_ETOOBIG);
	store_flags_free(&f);
	f.keywords = &kw[7];            /* one the mailbox knows: fine */
	TEST_ASSERT(test_flags_run(&t, &f) == 0);
	store_flags_free(&f);
	TEST_ASSERT(store_mailbox_find(t.st, a, NULL, &mb, NULL) == 0 &&
	            mb.nkeywords == STORE_MAILBOX_KEYWORDS_MAX);
	test_flags_bad(&t, &f);
	tsu_close(&t);
}
