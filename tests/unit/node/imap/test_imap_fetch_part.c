/* Tests for node/imap/imap_fetch_part.c: section lookup and
 * partials. */
#include <stdlib.h>
#include <string.h>

#include "node/imap/imap_fetch_part.h"
#include "tests/unit/test.h"

void
test_imap_fetch_part_plain(void)
{
	static const char msg[] = "Subject: hi\r\nTo: a@b\r\n\r\nbody\r\n";
	struct imap_fetch_plain pl = { sizeof(msg) - 1, 0 };
	static const struct {
		const char *section;
		enum imap_fetch_spec spec;
		int want_rc;
		bool want_found;
		uint64_t want_off, want_len;
	} cases[] = {
		{ "", IMAP_FETCH_SPEC_NONE, 0, true, 0, 30 },
		{ "", IMAP_FETCH_SPEC_HEADER, 0, true, 0, 24 },
		{ "", IMAP_FETCH_SPEC_TEXT, 0, true, 24, 6 },
		{ "1", IMAP_FETCH_SPEC_NONE, 0, true, 24, 6 },
		{ "1", IMAP_FETCH_SPEC_MIME, 0, true, 0, 24 },
		{ "2", IMAP_FETCH_SPEC_NONE, 0, false, 0, 0 },
		{ "1", IMAP_FETCH_SPEC_TEXT, 0, false, 0, 0 },
		{ "", IMAP_FETCH_SPEC_MIME, RS_EINVAL, false, 0, 0 },
		{ "0", IMAP_FETCH_SPEC_NONE, RS_EINVAL, false, 0, 0 },
		{ "1.", IMAP_FETCH_SPEC_NONE, RS_EINVAL, false, 0, 0 },
		{ "1..2", IMAP_FETCH_SPEC_NONE, RS_EINVAL, false, 0, 0 },
		{ "x", IMAP_FETCH_SPEC_NONE, RS_EINVAL, false, 0, 0 },
	};

	pl.hdr_len = 24;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imap_fetch_range r;
		int rc = imap_fetch_part_find(NULL, &pl, cases[i].section,
		                              cases[i].spec, &r);

		TEST_ASSERT_IDX(rc == cases[i].want_rc, i);
		TEST_ASSERT_IDX(r.found == cases[i].want_found, i);
		if (r.found) {
			TEST_ASSERT_IDX(r.off == cases[i].want_off, i);
			TEST_ASSERT_IDX(r.len == cases[i].want_len, i);
		}
	}
}

void
test_imap_fetch_part_summary(void)
{
	struct imap_fetch_plain pl = { 1000, 0 };
	struct mime_part p;
	struct imap_fetch_range r;

	memset(&p, 0, sizeof(p));
	p.kind = MIME_PART_MESSAGE;
	p.cte = MIME_CTE_7BIT;
	p.hdr_off = 100;
	p.hdr_len = 50;
	p.body_off = 150;
	p.body_len = 300;
	p.msg_hdr_off = 150;
	p.msg_hdr_len = 80;
	p.msg_text_off = 230;
	p.msg_text_len = 220;
	TEST_ASSERT(imap_fetch_part_find(&p, &pl, "2", IMAP_FETCH_SPEC_NONE,
	                                 &r) == 0);
	TEST_ASSERT(r.found && r.off == 150 && r.len == 300);
	TEST_ASSERT(imap_fetch_part_find(&p, &pl, "2", IMAP_FETCH_SPEC_MIME,
	                                 &r) == 0);
	TEST_ASSERT(r.found && r.off == 100 && r.len == 50);
	TEST_ASSERT(imap_fetch_part_find(&p, &pl, "2", IMAP_FETCH_SPEC_HEADER,
	                                 &r) == 0);
	TEST_ASSERT(r.found && r.off == 150 && r.len == 80 && !r.filter);
	TEST_ASSERT(imap_fetch_part_find(&p, &pl, "2", IMAP_FETCH_SPEC_FIELDS,
	                                 &r) == 0);
	TEST_ASSERT(r.found && r.filter);
	TEST_ASSERT(imap_fetch_part_find(&p, &pl, "2", IMAP_FETCH_SPEC_TEXT,
	                                 &r) == 0);
	TEST_ASSERT(r.found && r.off == 230 && r.len == 220);
	p.kind = MIME_PART_LEAF;
	TEST_ASSERT(imap_fetch_part_find(&p, &pl, "2", IMAP_FETCH_SPEC_TEXT,
	                                 &r) == 0);
	TEST_ASSERT(!r.found);
	/* A damaged table never points past the message. */
	p.body_len = 5000;
	TEST_ASSERT(imap_fetch_part_find(&p, &pl, "2", IMAP_FETCH_SPEC_NONE,
	                                 &r) == 0);
	TEST_ASSERT(!r.found);
}

void
test_imap_fetch_part_partial(void)
{
	static const struct {
		uint64_t len, origin, count, want_off, want_len;
	} cases[] = {
		{ 100, 0, 10, 0, 10 },
		{ 100, 95, 10, 95, 5 },
		{ 100, 100, 10, 100, 0 },
		{ 100, 500, 10, 100, 0 },
		{ 0, 0, 1, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t off, len;

		imap_fetch_part_partial(cases[i].len, cases[i].origin,
		                        cases[i].count, &off, &len);
		TEST_ASSERT_IDX(off == cases[i].want_off, i);
		TEST_ASSERT_IDX(len == cases[i].want_len, i);
	}
}
