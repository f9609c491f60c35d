/* Tests for node/imap/imap_seqset.c: parsing, normalizing, "*" resolution,
 * membership, iteration, formatting and QRESYNC pairs. */
#include <stdlib.h>
#include <string.h>

#include "node/imap/imap_seqset.h"
#include "tests/unit/test.h"

void
test_imap_seqset_parse(void)
{
	static const struct {
		const char *in;
		uint32_t max;           /* resolve against; 0: don't */
		int want_rc;
		int want_code;
		const char *want;       /* formatted after parse/resolve */
	} cases[] = {
		{ "1", 0, 0, 0, "1" },
		{ "1:*", 0, 0, 0, "1:*" },
		{ "1:*", 7, 0, 0, "1:7" },
		{ "5,3,1:2", 0, 0, 0, "1:3,5" },
		{ "7:9,1:3,5,4", 0, 0, 0, "1:5,7:9" },
		{ "9:7", 0, 0, 0, "7:9" },
		{ "*", 0, 0, 0, "*" },
		{ "*", 4, 0, 0, "4" },
		{ "*:3", 10, 0, 0, "3:10" },
		{ "10:*", 5, 0, 0, "5:10" },
		{ "1:*,*", 0, 0, 0, "1:*" },
		{ "2,*", 0, 0, 0, "2,*" },
		/* Only "*" is the last message: the largest number is not
		 * (a UID search past UIDNEXT finds nothing). */
		{ "4294967294:4294967295", 0, 0, 0, "4294967294" },
		{ "3:4294967295", 2, 0, 0, "3:4294967294" },
		{ "3:*", 2, 0, 0, "2:3" },
		{ "$", 0, 0, 0, "$" },
		{ "0", 0, -1, RS_EINVAL, NULL },
		{ "1:0", 0, -1, RS_EINVAL, NULL },
		{ "1:", 0, -1, RS_EINVAL, NULL },
		{ ":1", 0, -1, RS_EINVAL, NULL },
		{ "*:*x", 0, -1, RS_EINVAL, NULL },
		{ "1,,2", 0, -1, RS_EINVAL, NULL },
		{ "1,", 0, -1, RS_EINVAL, NULL },
		{ "", 0, -1, RS_EINVAL, NULL },
		{ "01", 0, -1, RS_EINVAL, NULL },
		{ "4294967296", 0, -1, RS_EINVAL, NULL },
		{ "$,1", 0, -1, RS_EINVAL, NULL },
		{ "1:2:3", 0, -1, RS_EINVAL, NULL },
		{ "1 2", 0, -1, RS_EINVAL, NULL },
		{ "1,2,3,4,5", 0, -1, RS_ETOOBIG, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imap_seqset set;
		struct rs_err err;
		struct rs_buf b;
		int rc;

		rs_err_clear(&err);
		rc = imap_seqset_parse(rs_str_cstr(cases[i].in), 4, &set, &err);
		TEST_ASSERT_IDX(rc == cases[i].want_rc, i);
		if (rc != 0) {
			TEST_ASSERT_IDX(err.code == cases[i].want_code, i);
			TEST_ASSERT_IDX(set.r == NULL && set.n == 0, i);
			continue;
		}
		if (cases[i].max > 0)
			imap_seqset_resolve(&set, cases[i].max);
		rs_buf_init(&b, 1024);
		TEST_ASSERT_IDX(imap_seqset_format(&b, &set) == 0, i);
		TEST_ASSERT_STREQ((const char *)b.data, cases[i].want);
		rs_buf_free(&b);
		imap_seqset_free(&set);
	}
}

void
test_imap_seqset_members(void)
{
	struct imap_seqset set;
	struct imap_seqset_iter it;
	struct rs_err err;
	uint32_t v, got[16] = { 0 };
	size_t n = 0;

	TEST_ASSERT(imap_seqset_parse(rs_str_cstr("2:4,9,11:*"), 0, &set,
	                              &err) == 0);
	TEST_ASSERT(imap_seqset_contains(&set, 3));
	TEST_ASSERT(imap_seqset_contains(&set, 4000000));
	TEST_ASSERT(!imap_seqset_contains(&set, 10));
	imap_seqset_resolve(&set, 12);
	TEST_ASSERT(!imap_seqset_contains(&set, 13));
	TEST_ASSERT(!imap_seqset_contains(&set, 1));
	TEST_ASSERT(imap_seqset_contains(&set, 12));
	TEST_ASSERT_INTEQ(imap_seqset_count(&set), 6);
	TEST_ASSERT_INTEQ(imap_seqset_max(&set), 12);
	imap_seqset_iter_init(&it, &set);
	while (n < 16 && imap_seqset_iter_next(&it, &v))
		got[n++] = v;
	TEST_ASSERT_INTEQ(n, 6);
	TEST_ASSERT(n == 6 && got[0] == 2 && got[2] == 4 && got[3] == 9 &&
	            got[4] == 11 && got[5] == 12);
	imap_seqset_free(&set);
}

void
test_imap_seqset_empty(void)
{
	struct imap_seqset set;
	struct imap_seqset_iter it;
	struct rs_err err;
	uint32_t v;

	/* An empty mailbox: "*" names nothing. */
	TEST_ASSERT(imap_seqset_parse(rs_str_cstr("1:*"), 0, &set, &err) == 0);
	imap_seqset_resolve(&set, 0);
	TEST_ASSERT(set.n == 0 && !imap_seqset_contains(&set, 1));
	imap_seqset_iter_init(&it, &set);
	TEST_ASSERT(!imap_seqset_iter_next(&it, &v));
	imap_seqset_free(&set);
	imap_seqset_free(NULL);
}

void
test_imap_seqset_format_uids(void)
{
	static const uint32_t a[] = { 1, 2, 3, 5, 9, 10, 4294967295u };
	struct rs_buf b;

	rs_buf_init(&b, 64);
	TEST_ASSERT(imap_seqset_format_uids(&b, a, 0) == 0 && b.len == 0);
	TEST_ASSERT(imap_seqset_format_uids(&b, a, 6) == 0);
	TEST_ASSERT_STREQ((const char *)b.data, "1:3,5,9:10");
	rs_buf_free(&b);
	rs_buf_init(&b, 5);
	TEST_ASSERT(imap_seqset_format_uids(&b, a, 6) == RS_ETOOBIG);
	rs_buf_free(&b);
}

void
test_imap_seqset_pairs(void)
{
	uint32_t *s, *u;
	size_t n;
	struct rs_err err;

	TEST_ASSERT(imap_seqset_match_pairs(rs_str_cstr("1:3,7"),
	            rs_str_cstr("10,20,30:31"), 100, &s, &u, &n, &err) == 0);
	TEST_ASSERT(n == 4 && s[3] == 7 && u[0] == 10 && u[3] == 31);
	free(s);
	free(u);
	TEST_ASSERT(imap_seqset_match_pairs(rs_str_cstr("1:3"),
	            rs_str_cstr("10"), 100, &s, &u, &n, &err) == -1);
	TEST_ASSERT(s == NULL && u == NULL);
	TEST_ASSERT(imap_seqset_match_pairs(rs_str_cstr("1:*"),
	            rs_str_cstr("10"), 100, &s, &u, &n, &err) == -1);
	TEST_ASSERT(imap_seqset_match_pairs(rs_str_cstr("1:1000"),
	            rs_str_cstr("1:1000"), 100, &s, &u, &n, &err) == -1);
	TEST_ASSERT(err.code == RS_ETOOBIG);
}
