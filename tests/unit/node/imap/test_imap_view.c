/* test_imap_view.c: the selected-mailbox view without a store: change
 * lists applied to a view, the untagged responses they produce under
 * each rule (expunges held back, VANISHED, MODSEQ), sequence numbers
 * staying consistent, and sequence-set resolution. */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>

#include "node/imap/imap_view.h"
#include "tests/unit/test.h"

/* Emits into a string (owned by the caller's buffer). */
static const char *
view_emit(struct imap_view *v, bool allow_expunge, bool vanished,
          bool modseq, char *buf, size_t size)
{
	struct imap_view_emit_opts o = {
		.allow_expunge = allow_expunge,
		.vanished = vanished,
		.modseq = modseq,
	};
	struct evbuffer *out = evbuffer_new();
	size_t n;

	(void)imap_view_emit(v, &o, out);
	n = evbuffer_get_length(out);
	if (n >= size)
		n = size - 1;
	evbuffer_remove(out, buf, n);
	buf[n] = '\0';
	evbuffer_free(out);
	return buf;
}

/* A view of UIDs 10, 20, 30, 40, 50 at modseq 100. */
static struct imap_view *
view_five(void)
{
	struct store_acct a = { .part = 1, .id = 7 };
	struct imap_view *v = imap_view_new(a, 3, 0);

	for (uint32_t i = 1; i <= 5; i++)
		imap_view_add_known(v, i * 10, i == 1 ? STORE_FLAG_SEEN : 0,
		                    90 + i);
	v->modseq = 100;
	return v;
}

void
test_imap_view_map(void)
{
	struct imap_view *v = view_five();
	char buf[256];

	TEST_ASSERT_INTEQ(v->n, 5);
	TEST_ASSERT_INTEQ(v->exists, 5);
	TEST_ASSERT_INTEQ(v->uidnext, 51);
	TEST_ASSERT_INTEQ(imap_view_seq(v, 30), 3);
	TEST_ASSERT_INTEQ(imap_view_seq(v, 31), 0);
	TEST_ASSERT_INTEQ(imap_view_seq(v, 5), 0);
	TEST_ASSERT_INTEQ(imap_view_uid(v, 1), 10);
	TEST_ASSERT_INTEQ(imap_view_uid(v, 5), 50);
	TEST_ASSERT_INTEQ(imap_view_uid(v, 0), 0);
	TEST_ASSERT_INTEQ(imap_view_uid(v, 6), 0);
	/* Nothing owed. */
	TEST_ASSERT_STREQ(view_emit(v, true, false, false, buf, sizeof(buf)),
	                  "");
	imap_view_free(&v);
	TEST_ASSERT(v == NULL);
	imap_view_free(&v);
}

void
test_imap_view_changes(void)
{
	static const struct {
		struct imap_view_update u[4];
		size_t n;
		bool allow_expunge, vanished, modseq;
		const char *want;
		uint32_t want_n;             /* view size afterwards */
	} cases[] = {
		/* A delivery: EXISTS. */
		{ { { 60, false, 0, 101 } }, 1, true, false, false,
		  "* 6 EXISTS\r\n", 6 },
		/* Flags: FETCH, with UID and MODSEQ under CONDSTORE (RFC
		 * 7162 3.1), UID under QRESYNC. */
		{ { { 20, false, STORE_FLAG_SEEN | STORE_FLAG_FLAGGED, 101 } },
		  1, true, false, false,
		  "* 2 FETCH (FLAGS (\\Seen \\Flagged))\r\n", 5 },
		{ { { 20, false, 0, 101 } }, 1, true, false, true,
		  "* 2 FETCH (UID 20 FLAGS () MODSEQ (101))\r\n", 5 },
		{ { { 30, false, STORE_FLAG_DELETED, 101 } }, 1, true, true, true,
		  "* 3 FETCH (UID 30 FLAGS (\\Deleted) MODSEQ (101))\r\n", 5 },
		/* Expunges, descending so each number holds when read. */
		{ { { 20, true, 0, 101 }, { 40, true, 0, 102 } }, 2, true, false,
		  false, "* 4 EXPUNGE\r\n* 2 EXPUNGE\r\n", 3 },
		/* Held back during FETCH/STORE/SEARCH: nothing moves. */
		{ { { 20, true, 0, 101 } }, 1, false, false, false, "", 5 },
		/* ... but a delivery still says EXISTS, counting it. */
		{ { { 20, true, 0, 101 }, { 70, false, 0, 102 } }, 2, false,
		  false, false, "* 6 EXISTS\r\n", 6 },
		/* QRESYNC: one VANISHED with ranges. */
		{ { { 10, true, 0, 101 }, { 20, true, 0, 102 },
		    { 30, true, 0, 103 }, { 50, true, 0, 104 } }, 4, true, true,
		  false, "* VANISHED 10,20,30,50\r\n", 1 },
		/* Came and went between two looks: never existed. */
		{ { { 60, false, 0, 101 }, { 60, true, 0, 102 } }, 2, true,
		  false, false, "", 5 },
		/* Expunge and delivery together: EXPUNGE first, then the new
		 * count. */
		{ { { 50, true, 0, 101 }, { 60, false, 0, 102 } }, 2, true,
		  false, false, "* 5 EXPUNGE\r\n* 5 EXISTS\r\n", 5 },
		/* An unknown old UID (came and went) is ignored. */
		{ { { 15, true, 0, 101 }, { 15, false, 0, 101 } }, 2, true,
		  false, false, "", 5 },
		/* Same flags and modseq: nothing owed. */
		{ { { 10, false, STORE_FLAG_SEEN, 91 } }, 1, true, false, true,
		  "", 5 },
	};
	char buf[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imap_view *v = view_five();

		imap_view_update(v, cases[i].u, cases[i].n, 110);
		TEST_ASSERT_IDX(v->modseq == 110, i);
		view_emit(v, cases[i].allow_expunge, cases[i].vanished,
		          cases[i].modseq, buf, sizeof(buf));
		TEST_ASSERT_IDX(strcmp(buf, cases[i].want) == 0, i);
		if (strcmp(buf, cases[i].want) != 0)
			test_fail(__FILE__, __LINE__, "case %zu: got \"%s\"", i,
			          buf);
		TEST_ASSERT_IDX(v->n == cases[i].want_n, i);
		TEST_ASSERT_IDX(v->exists == v->n || !cases[i].allow_expunge,
		                i);
		/* A second emit owes nothing more (expunges allowed now
		 * report what was held back). */
		view_emit(v, cases[i].allow_expunge, cases[i].vanished,
		          cases[i].modseq, buf, sizeof(buf));
		TEST_ASSERT_IDX(buf[0] == '\0', i);
		imap_view_free(&v);
	}
}

void
test_imap_view_held_expunge(void)
{
	struct imap_view *v = view_five();
	struct imap_view_update u[] = {
		{ 20, true, 0, 101 },
		{ 60, false, 0, 102 },
		{ 40, false, STORE_FLAG_ANSWERED, 103 },
	};
	char buf[512];

	imap_view_update(v, u, 3, 103);
	/* During FETCH: EXISTS and the flags, numbers unchanged. */
	TEST_ASSERT_STREQ(view_emit(v, false, false, false, buf, sizeof(buf)),
	                  "* 6 EXISTS\r\n* 4 FETCH (FLAGS (\\Answered))\r\n");
	TEST_ASSERT(imap_view_is_expunged(v, 2));
	TEST_ASSERT(!imap_view_is_expunged(v, 3));
	TEST_ASSERT_INTEQ(imap_view_seq(v, 40), 4);
	/* At NOOP: the EXPUNGE, and the numbers shift. */
	TEST_ASSERT_STREQ(view_emit(v, true, false, false, buf, sizeof(buf)),
	                  "* 2 EXPUNGE\r\n");
	TEST_ASSERT_INTEQ(v->n, 5);
	TEST_ASSERT_INTEQ(v->exists, 5);
	TEST_ASSERT_INTEQ(imap_view_seq(v, 40), 3);
	TEST_ASSERT_INTEQ(imap_view_seq(v, 60), 5);
	TEST_ASSERT(!imap_view_is_expunged(v, 2));
	imap_view_free(&v);
}

void
test_imap_view_resolve(void)
{
	static const struct {
		struct imap_view_range r[3];
		size_t n;
		bool uid;
		int want_rc;
		const char *want;            /* UIDs, comma-separated */
	} cases[] = {
		{ { { 1, 1 } }, 1, false, 0, "10" },
		{ { { 2, 4 } }, 1, false, 0, "20,30,40" },
		{ { { 4, 2 } }, 1, false, 0, "20,30,40" },
		{ { { 1, IMAP_VIEW_STAR } }, 1, false, 0, "10,20,30,40,50" },
		{ { { IMAP_VIEW_STAR, IMAP_VIEW_STAR } }, 1, false, 0, "50" },
		{ { { 1, 2 }, { 2, 3 }, { 5, 5 } }, 3, false, 0, "10,20,30,50" },
		{ { { 6, 6 } }, 1, false, -1, "" },
		{ { { 0, 2 } }, 1, false, -1, "" },
		{ { { 15, 35 } }, 1, true, 0, "20,30" },
		{ { { 30, 30 } }, 1, true, 0, "30" },
		{ { { 31, 31 } }, 1, true, 0, "" },
		/* "UID 900:*" names the last message (RFC 9051 6.4.9). */
		{ { { 900, IMAP_VIEW_STAR } }, 1, true, 0, "50" },
		{ { { 1, UINT32_MAX - 1 } }, 1, true, 0, "10,20,30,40,50" },
		{ { { 40, 10 }, { 50, 50 } }, 2, true, 0, "10,20,30,40,50" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imap_view *v = view_five();
		uint32_t *uids = NULL;
		size_t n = 0;
		struct rs_err err;
		char got[128] = "";
		size_t o = 0;
		int rc;

		rs_err_clear(&err);
		rc = imap_view_resolve(v, cases[i].r, cases[i].n, cases[i].uid,
		                       &uids, &n, &err);
		TEST_ASSERT_IDX(rc == cases[i].want_rc, i);
		for (size_t k = 0; k < n; k++)
			o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%u",
			                      k ? "," : "",
			                      (unsigned)uids[k]);
		TEST_ASSERT_IDX(strcmp(got, cases[i].want) == 0, i);
		TEST_ASSERT_IDX((uids == NULL) == (n == 0), i);
		free(uids);
		imap_view_free(&v);
	}
}

void
test_imap_view_empty(void)
{
	struct store_acct a = { .part = 1, .id = 7 };
	struct imap_view *v = imap_view_new(a, 3, 0);
	struct imap_view_range all = { 1, IMAP_VIEW_STAR };
	struct imap_view_update u = { 1, false, 0, 5 };
	uint32_t *uids = NULL;
	size_t n = 7;
	struct rs_err err;
	char buf[128];

	rs_err_clear(&err);
	TEST_ASSERT(imap_view_resolve(v, &all, 1, false, &uids, &n, &err) < 0);
	TEST_ASSERT(imap_view_resolve(v, &all, 1, true, &uids, &n, &err) == 0);
	TEST_ASSERT(n == 0 && uids == NULL);
	imap_view_update(v, &u, 1, 5);
	TEST_ASSERT_STREQ(view_emit(v, true, false, false, buf, sizeof(buf)),
	                  "* 1 EXISTS\r\n");
	/* Many at once grow the arrays. */
	for (uint32_t i = 2; i <= 1000; i++) {
		u.uid = i;
		imap_view_update(v, &u, 1, 5 + i);
	}
	TEST_ASSERT_STREQ(view_emit(v, true, false, false, buf, sizeof(buf)),
	                  "* 1000 EXISTS\r\n");
	TEST_ASSERT_INTEQ(imap_view_seq(v, 777), 777);
	imap_view_free(&v);
}

/* RFC 3501 2.3.2, 7.3.2: \Recent bits survive flag changes, show in
 * FETCH FLAGS, and RECENT goes out when first asked, with every EXISTS
 * and whenever the count changed. */
void
test_imap_view_recent(void)
{
	struct imap_view_emit_opts o = { .allow_expunge = true,
	                                 .recent = true };
	struct imap_view_update flag = { 40, false, STORE_FLAG_SEEN, 120 };
	struct imap_view_update gone = { 50, true, 0, 121 };
	struct imap_view_update add = { 60, false, 0, 122 };
	struct imap_view *v = view_five();
	struct evbuffer *out = evbuffer_new();
	char buf[256];
	size_t n;

#define T_EMIT(want) do {                                             \
		(void)imap_view_emit(v, &o, out);                     \
		n = evbuffer_remove(out, buf, sizeof(buf) - 1);       \
		buf[n] = '\0';                                        \
		TEST_ASSERT_STREQ(buf, want);                         \
	} while (0)

	imap_view_set_recent(v, 35, 60);
	TEST_ASSERT_INTEQ(imap_view_recent_count(v), 2);
	T_EMIT("* 2 RECENT\r\n");
	T_EMIT("");
	imap_view_update(v, &flag, 1, 120);
	T_EMIT("* 4 FETCH (FLAGS (\\Seen \\Recent))\r\n");
	imap_view_update(v, &gone, 1, 121);
	T_EMIT("* 5 EXPUNGE\r\n* 1 RECENT\r\n");
	imap_view_update(v, &add, 1, 122);
	T_EMIT("* 5 EXISTS\r\n* 1 RECENT\r\n");
	imap_view_set_recent(v, 60, 61);
	T_EMIT("* 2 RECENT\r\n");
#undef T_EMIT
	evbuffer_free(out);
	imap_view_free(&v);
}
