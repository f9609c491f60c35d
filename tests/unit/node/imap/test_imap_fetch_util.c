/* Tests for node/imap/imap_fetch_util.c: flag lists in and out, UID sets,
 * membership. */
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "node/imap/imap_fetch_util.h"
#include "tests/unit/test.h"

/* "(a b c)" as an argument tree, or the atoms alone. */
static size_t
test_imap_fetch_util_args(struct imap_arg *v, const char *const *atoms,
                          size_t n, bool list)
{
	size_t k = 0;

	memset(v, 0, sizeof(*v) * (n + 1));
	if (list) {
		v[0].type = IMAP_ARG_LIST;
		v[0].skip = (uint32_t)n + 1;
		v[0].nchildren = (uint32_t)n;
		k = 1;
	}
	for (size_t i = 0; i < n; i++, k++) {
		v[k].type = IMAP_ARG_ATOM;
		v[k].skip = 1;
		v[k].str = rs_str_cstr(atoms[i]);
	}
	return k;
}

void
test_imap_fetch_util_flags(void)
{
	static const struct {
		const char *atoms[4];
		size_t n;
		bool list;
		int want_rc;
		uint32_t want_flags;
		size_t want_nkw;
	} cases[] = {
		{ { "\\Seen", "\\flagged" }, 2, true, 0,
		  STORE_FLAG_SEEN | STORE_FLAG_FLAGGED, 0 },
		{ { "\\Deleted", "$Junk", "$junk" }, 3, true, 0,
		  STORE_FLAG_DELETED, 1 },
		{ { "\\Draft", "\\Answered" }, 2, false, 0,
		  STORE_FLAG_DRAFT | STORE_FLAG_ANSWERED, 0 },
		{ { "\\Recent" }, 1, true, 0, 0, 0 },
		{ { 0 }, 0, true, 0, 0, 0 },
		{ { "\\Bogus" }, 1, true, RS_EINVAL, 0, 0 },
		{ { "bad%kw" }, 1, true, RS_EINVAL, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imap_arg v[8];
		struct imap_fetch_util_flags f;
		const char *why;
		size_t k = test_imap_fetch_util_args(v, cases[i].atoms,
		                                     cases[i].n, cases[i].list);
		int rc = imap_fetch_util_flags_parse(v, v + k, &f, &why);

		TEST_ASSERT_IDX(rc == cases[i].want_rc, i);
		if (rc == 0) {
			TEST_ASSERT_IDX(f.flags == cases[i].want_flags, i);
			TEST_ASSERT_IDX(f.nkw == cases[i].want_nkw, i);
		}
	}
}

void
test_imap_fetch_util_out(void)
{
	static const char *const kw[] = { "$Junk", "$Forwarded" };
	static const uint32_t uids[] = { 1, 2, 3, 5, 9, 10 };
	struct evbuffer *b = evbuffer_new();
	char got[128];
	size_t n;

	imap_fetch_util_flags_out(b, STORE_FLAG_SEEN | STORE_FLAG_DELETED,
	                          false, kw, 2);
	n = evbuffer_remove(b, got, sizeof(got) - 1);
	got[n] = '\0';
	TEST_ASSERT_STREQ(got, "(\\Seen \\Deleted $Junk $Forwarded)");
	imap_fetch_util_flags_out(b, 0, false, NULL, 0);
	n = evbuffer_remove(b, got, sizeof(got) - 1);
	got[n] = '\0';
	TEST_ASSERT_STREQ(got, "()");
	/* RFC 3501 2.3.2: \Recent after the stored system flags. */
	imap_fetch_util_flags_out(b, STORE_FLAG_SEEN, true, kw, 1);
	n = evbuffer_remove(b, got, sizeof(got) - 1);
	got[n] = '\0';
	TEST_ASSERT_STREQ(got, "(\\Seen \\Recent $Junk)");
	imap_fetch_util_flags_out(b, 0, true, NULL, 0);
	n = evbuffer_remove(b, got, sizeof(got) - 1);
	got[n] = '\0';
	TEST_ASSERT_STREQ(got, "(\\Recent)");
	imap_fetch_util_uidset(b, uids, 6);
	n = evbuffer_remove(b, got, sizeof(got) - 1);
	got[n] = '\0';
	TEST_ASSERT_STREQ(got, "1:3,5,9:10");
	TEST_ASSERT(imap_fetch_util_has(uids, 6, 9));
	TEST_ASSERT(!imap_fetch_util_has(uids, 6, 4));
	TEST_ASSERT(!imap_fetch_util_has(uids, 0, 1));
	evbuffer_free(b);
}
