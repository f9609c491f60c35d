/* test_store_counters.c: a seeded random mix of every write (deliver,
 * append, copy, move, expunge, STORE, rename, delete, create), then the
 * invariants recomputed from the messages themselves: each mailbox's
 * STATUS counters, the account's totals, blob reference counts, keyword
 * sets, and the change log (one entry per modseq, a twin in every
 * existing mailbox's index, HIGHESTMODSEQ its newest entry). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tests/unit/storage/test_store_util.h"
#include "tests/unit/test.h"

#define TEST_MIX_STEPS  400
#define TEST_MIX_BODIES 5

static const char *const test_bodies[TEST_MIX_BODIES] = {
	"a", "bb", "ccc", "dddd", "eeeee",
};
static const char *const test_kws[] = { "Alpha", "beta", "$Junk" };

struct test_mix {
	struct tsu       *t;
	struct store_acct a;
	uint32_t          rnd;
	const char       *names[3];   /* INBOX, A or A2, B or NULL */
};

static uint32_t
test_rand(struct test_mix *x, uint32_t n)
{
	x->rnd ^= x->rnd << 13;
	x->rnd ^= x->rnd >> 17;
	x->rnd ^= x->rnd << 5;
	return x->rnd % n;
}

static const char *
test_mix_name(struct test_mix *x)
{
	const char *n = x->names[test_rand(x, 3)];

	return n != NULL ? n : "INBOX";
}

static uint32_t
test_mix_flags(struct test_mix *x)
{
	static const uint32_t f[] = { 0, STORE_FLAG_SEEN, STORE_FLAG_DELETED,
	                              STORE_FLAG_SEEN | STORE_FLAG_DELETED };

	return f[test_rand(x, 4)];
}

static void
test_mix_deliver(struct test_mix *x)
{
	const char *body = test_bodies[test_rand(x, TEST_MIX_BODIES)];
	struct store_rcpt r = tsu_rcpt(x->a.part, x->a.id, test_mix_name(x));

	r.flags = test_mix_flags(x);
	r.keywords = &test_kws[test_rand(x, 3)];
	r.nkeywords = test_rand(x, 2);
	TEST_ASSERT(tsu_deliver(x->t, body, strlen(body), &r, 1) == 0);
}

static void
test_mix_append(struct test_mix *x)
{
	struct store_append_msg m[3];
	struct store_append ap = { .acct = x->a, .mailbox = test_mix_name(x),
	                           .msgs = m, .n = 1 + test_rand(x, 3) };
	struct tsu_done d = { 0 };
	struct rs_err e;

	memset(m, 0, sizeof(m));
	for (size_t i = 0; i < ap.n; i++) {
		const char *body = test_bodies[test_rand(x, TEST_MIX_BODIES)];

		m[i].msg.data = (const uint8_t *)body;
		m[i].msg.len = strlen(body);
		m[i].flags = test_mix_flags(x);
		m[i].keywords = &test_kws[test_rand(x, 2)];
		m[i].nkeywords = test_rand(x, 2);
	}
	TEST_ASSERT(tsu_wait(x->t, store_append(x->t->st, &ap, &x->t->ex.base,
	                                        tsu_done_cb, &d, &e), &d,
	                     &e) == 0);
}

/* Up to 4 UIDs below the mailbox's uidnext, some long gone. */
static size_t
test_mix_uids(struct test_mix *x, const char *name, uint32_t *mbox_r,
              uint32_t uids[4])
{
	struct store_mailbox mb;
	size_t n = 1 + test_rand(x, 4);

	if (store_mailbox_find(x->t->st, x->a, name, &mb, NULL) != 0 ||
	    mb.uidnext <= 1)
		return 0;
	*mbox_r = mb.id;
	for (size_t i = 0; i < n; i++)
		uids[i] = 1 + test_rand(x, mb.uidnext - 1);
	return n;
}

static void
test_mix_copy(struct test_mix *x, bool move)
{
	struct store_copy c = { .acct = x->a, .dst = test_mix_name(x),
	                        .move = move };
	uint32_t uids[4];
	struct tsu_done d = { 0 };
	struct rs_err e;

	c.n = test_mix_uids(x, test_mix_name(x), &c.src, uids);
	c.uids = uids;
	if (c.n == 0)
		return;

	TEST_ASSERT(tsu_wait(x->t, store_copy(x->t->st, &c, &x->t->ex.base,
	                                      tsu_done_cb, &d, &e), &d,
	                     &e) == 0);
	store_copy_free(&c);
}

static void
test_mix_store(struct test_mix *x, bool expunge)
{
	struct store_flags f = { .acct = x->a,
	                         .op = (enum store_flag_op)test_rand(x, 3),
	                         .flags = test_mix_flags(x),
	                         .keywords = &test_kws[test_rand(x, 2)],
	                         .nkeywords = test_rand(x, 3) };
	uint32_t uids[4];
	struct tsu_done d = { 0 };
	struct rs_err e;

	f.n = test_mix_uids(x, test_mix_name(x), &f.mailbox, uids);
	f.uids = uids;
	if (f.n == 0)
		return;
	if (expunge) {
		TEST_ASSERT(tsu_expunge(x->t, x->a, f.mailbox, uids, f.n) == 0);
		return;
	}
	TEST_ASSERT(tsu_wait(x->t, store_flags_update(x->t->st, &f,
	                                              &x->t->ex.base,
	                                              tsu_done_cb, &d, &e),
	                     &d, &e) == 0);
	store_flags_free(&f);
}

static void
test_mix_mailboxes(struct test_mix *x)
{
	const char *a = x->names[1], *to = strcmp(a, "A") == 0 ? "A2" : "A";

	if (test_rand(x, 2) == 0) {
		TEST_ASSERT(tsu_rename(x->t, x->a, a, to) == 0);
		x->names[1] = to;
	} else if (x->names[2] != NULL) {
		TEST_ASSERT(tsu_mdelete(x->t, x->a, "B") == 0);
		x->names[2] = NULL;
	} else {
		TEST_ASSERT(tsu_create(x->t, x->a, "B", NULL) == 0);
		x->names[2] = "B";
	}
}

static void
test_mix_step(struct test_mix *x)
{
	uint32_t r = test_rand(x, 40);

	if (r < 12)
		test_mix_deliver(x);
	else if (r < 16)
		test_mix_append(x);
	else if (r < 21)
		test_mix_copy(x, false);
	else if (r < 25)
		test_mix_copy(x, true);
	else if (r < 29)
		test_mix_store(x, true);
	else if (r < 38)
		test_mix_store(x, false);
	else
		test_mix_mailboxes(x);
}

/* ---- checking ---- */

struct test_sums {
	uint64_t messages, bytes;
	uint64_t refs[TEST_MIX_BODIES];
	uint8_t  hash[TEST_MIX_BODIES][STORE_HASH_LEN];
};

static bool
test_kw_in(char **kw, size_t n, const char *k)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(kw[i], k) == 0)
			return true;
	return false;
}

/* One mailbox's counters and keyword set from its messages. */
static void
test_check_mailbox(struct test_mix *x, const struct store_mailbox *mb,
                   struct test_sums *s)
{
	struct store_msg_iter *it = store_msg_iter_open(x->t->st, x->a, mb->id,
	                                                1, 0);
	struct store_mailbox c;
	struct store_msg m;
	struct store_index ix;
	char **kw;
	size_t nkw, i = 0;
	uint32_t last = 0;

	memset(&c, 0, sizeof(c));
	TEST_ASSERT(store_mailbox_keywords(x->t->st, x->a, mb->id, &kw, &nkw,
	                                   NULL) == 0);
	TEST_ASSERT_INTEQ(nkw, mb->nkeywords);
	/* The compact index SELECT reads agrees with the records. */
	TEST_ASSERT(store_mailbox_index(x->t->st, x->a, mb->id, 0, &ix,
	                                NULL) == 0);
	TEST_ASSERT_INTEQ(ix.n, mb->messages);
	while (store_msg_iter_next(it, &m, NULL) == 1) {
		TEST_ASSERT(i < ix.n && ix.v[i].uid == m.uid &&
		            ix.v[i].flags == m.flags &&
		            ix.v[i].modseq == m.modseq);
		i++;
		c.messages++;
		c.bytes += m.size;
		c.unseen += (m.flags & STORE_FLAG_SEEN) == 0;
		c.deleted += (m.flags & STORE_FLAG_DELETED) != 0;
		c.deleted_bytes += (m.flags & STORE_FLAG_DELETED) ? m.size : 0;
		TEST_ASSERT(m.uid > last && m.uid < mb->uidnext &&
		            m.modseq <= mb->highestmodseq && m.meta == NULL);
		last = m.uid;
		for (size_t k = 0; k < m.nkeywords; k++)
			TEST_ASSERT(test_kw_in(kw, nkw, m.keywords[k]));
		for (size_t b = 0; b < TEST_MIX_BODIES; b++)
			s->refs[b] += memcmp(m.blob, s->hash[b],
			                     STORE_HASH_LEN) == 0;
	}
	store_msg_iter_free(&it);
	store_index_free(&ix);
	free(kw);
	TEST_ASSERT_INTEQ(c.messages, mb->messages);
	TEST_ASSERT_INTEQ(c.bytes, mb->bytes);
	TEST_ASSERT_INTEQ(c.unseen, mb->unseen);
	TEST_ASSERT_INTEQ(c.deleted, mb->deleted);
	TEST_ASSERT_INTEQ(c.deleted_bytes, mb->deleted_bytes);
	s->messages += c.messages;
	s->bytes += c.bytes;
}

/* The mailbox's own log: twins of the account's entries, the newest
 * being its HIGHESTMODSEQ. Returns how many it holds. */
static size_t
test_check_log(struct test_mix *x, const struct store_mailbox *mb,
               const struct store_change *all, size_t nall)
{
	struct store_change *ch = calloc(nall + 1, sizeof(*ch));
	size_t n = 0;

	TEST_ASSERT(store_mailbox_changes(x->t->st, x->a, mb->id, 0, ch,
	                                  nall + 1, &n, NULL) == 0);
	TEST_ASSERT_INTEQ(n > 0 ? ch[n - 1].modseq : 0, mb->highestmodseq);
	for (size_t i = 0; i < n; i++) {
		const struct store_change *w;

		TEST_ASSERT_IDX(ch[i].modseq >= 1 && ch[i].modseq <= nall, i);
		if (ch[i].modseq < 1 || ch[i].modseq > nall)
			continue;
		w = &all[ch[i].modseq - 1];
		TEST_ASSERT_IDX(w->kind == ch[i].kind && w->mailbox == mb->id &&
		                w->uid == ch[i].uid, i);
	}
	free(ch);
	return n;
}

/* The account log: one entry per modseq, 1..modseq. Returns owned. */
static struct store_change *
test_check_account_log(struct test_mix *x, uint64_t modseq, size_t *n_r)
{
	struct store_change *all = calloc(modseq + 1, sizeof(*all));

	TEST_ASSERT(store_changes_since(x->t->st, x->a, 0, all, modseq + 1,
	                                n_r, NULL) == 0);
	TEST_ASSERT_INTEQ(*n_r, modseq);
	for (size_t i = 0; i < *n_r; i++)
		TEST_ASSERT_IDX(all[i].modseq == i + 1, i);
	return all;
}

static void
test_check_all(struct test_mix *x)
{
	struct store_account_info ai;
	struct store_mailbox *l;
	struct store_change *all;
	struct test_sums s;
	size_t n, nall, twins = 0, want_twins = 0;

	memset(&s, 0, sizeof(s));
	for (size_t b = 0; b < TEST_MIX_BODIES; b++)
		tsu_sha256(test_bodies[b], strlen(test_bodies[b]), s.hash[b]);
	TEST_ASSERT(store_account_get(x->t->st, x->a, &ai, NULL) == 0);
	all = test_check_account_log(x, ai.modseq, &nall);
	TEST_ASSERT(store_mailbox_list(x->t->st, x->a, &l, &n, NULL) == 0);
	TEST_ASSERT_INTEQ(n, ai.mailboxes);
	for (size_t i = 0; i < n; i++) {
		test_check_mailbox(x, &l[i], &s);
		twins += test_check_log(x, &l[i], all, nall);
		for (size_t k = 0; k < nall; k++)
			want_twins += all[k].mailbox == l[i].id;
	}
	TEST_ASSERT_INTEQ(twins, want_twins);
	TEST_ASSERT_INTEQ(s.messages, ai.messages);
	TEST_ASSERT_INTEQ(s.bytes, ai.bytes);
	for (size_t b = 0; b < TEST_MIX_BODIES; b++)
		TEST_ASSERT_IDX(s.refs[b] == tsu_blob_refs(x->t, x->a.part,
		                                           s.hash[b]), b);
	free(l);
	free(all);
}

void
test_store_counters_mix(void)
{
	struct tsu t;
	struct test_mix x = { .t = &t, .a = { 5, 1 }, .rnd = 0x2545f491,
	                      .names = { "INBOX", "A", "B" } };

	tsu_open(&t, false, 0);
	TEST_ASSERT(tsu_create(&t, x.a, "A", NULL) == 0);
	TEST_ASSERT(tsu_create(&t, x.a, "B", NULL) == 0);
	for (int i = 0; i < TEST_MIX_STEPS; i++) {
		test_mix_step(&x);
		if (i % 100 == 99)
			test_check_all(&x);
	}
	tsu_close(&t);
}
