/* Tests for node/imap/imap_fetch_items.c: FETCH items and modifiers from
 * a hand-built argument tree. */
#include <stdlib.h>
#include <string.h>

#include "node/imap/imap_fetch_items.h"
#include "tests/unit/test.h"

/* Builds "(a b c)" (list true) or the atoms alone, then the optional
 * modifier list "(m1 m2)". */
static size_t
test_imap_fetch_args(struct imap_arg *v, const char *const *items, size_t n,
                     bool list, const char *const *mods, size_t nmods)
{
	size_t k = 0;

	memset(v, 0, sizeof(*v) * (n + nmods + 2));
	if (list) {
		v[k].type = IMAP_ARG_LIST;
		v[k].skip = (uint32_t)n + 1;
		v[k].nchildren = (uint32_t)n;
		k++;
	}
	for (size_t i = 0; i < n; i++, k++) {
		v[k].type = IMAP_ARG_ATOM;
		v[k].skip = 1;
		v[k].str = rs_str_cstr(items[i]);
	}
	if (nmods > 0) {
		v[k].type = IMAP_ARG_LIST;
		v[k].skip = (uint32_t)nmods + 1;
		v[k].nchildren = (uint32_t)nmods;
		k++;
		for (size_t i = 0; i < nmods; i++, k++) {
			v[k].type = IMAP_ARG_ATOM;
			v[k].skip = 1;
			v[k].str = rs_str_cstr(mods[i]);
		}
	}
	return (list || n == 1 ? 1 : n) + (nmods > 0 ? 1 : 0);
}

void
test_imap_fetch_items_parse(void)
{
	static const struct {
		const char *items[4];
		size_t n;
		bool list;
		bool uid;
		int want_rc;
		size_t want_n;
		const char *want_name0;     /* first non-UID item's name */
		bool want_meta, want_seen;
	} cases[] = {
		{ { "FLAGS" }, 1, false, false, 0, 1, "FLAGS", false, false },
		{ { "flags", "uid" }, 2, true, false, 0, 2, "FLAGS", false,
		  false },
		{ { "FAST" }, 1, false, false, 0, 3, "FLAGS", false, false },
		{ { "ALL" }, 1, false, false, 0, 4, "FLAGS", true, false },
		{ { "FULL" }, 1, false, false, 0, 5, "FLAGS", true, false },
		{ { "BODY[]" }, 1, false, false, 0, 1, "BODY[]", false, true },
		{ { "BODY.PEEK[]" }, 1, false, true, 0, 2, "BODY[]", false,
		  false },
		{ { "BODY.PEEK[HEADER.FIELDS (Subject From)]<0.10>" }, 1, false,
		  false, 0, 1, "BODY[HEADER.FIELDS (Subject From)]<0>", true,
		  false },
		{ { "BODY[1.2.MIME]" }, 1, false, false, 0, 1,
		  "BODY[1.2.MIME]", true, true },
		{ { "BINARY.PEEK[1]" }, 1, false, false, 0, 1, "BINARY[1]",
		  true, false },
		{ { "BINARY.SIZE[2]" }, 1, false, false, 0, 1,
		  "BINARY.SIZE[2]", true, false },
		{ { "rfc822" }, 1, false, false, 0, 1, "RFC822", false, true },
		{ { "RFC822.HEADER" }, 1, false, false, 0, 1, "RFC822.HEADER",
		  true, false },
		{ { "BODYSTRUCTURE", "ENVELOPE" }, 2, true, false, 0, 2,
		  "BODYSTRUCTURE", true, false },
		{ { "ALL", "FLAGS" }, 2, true, false, RS_EINVAL, 0, NULL, false,
		  false },
		{ { "BODY[MIME]" }, 1, false, false, RS_EINVAL, 0, NULL, false,
		  false },
		{ { "BINARY[HEADER]" }, 1, false, false, RS_EINVAL, 0, NULL,
		  false, false },
		{ { "BODY[1TEXT]" }, 1, false, false, RS_EINVAL, 0, NULL, false,
		  false },
		{ { "BODY[]<5.0>" }, 1, false, false, RS_EINVAL, 0, NULL, false,
		  false },
		{ { "BODY[HEADER.FIELDS ()]" }, 1, false, false, RS_EINVAL, 0,
		  NULL, false, false },
		{ { "BODY[0]" }, 1, false, false, RS_EINVAL, 0, NULL, false,
		  false },
		{ { "NOPE" }, 1, false, false, RS_EINVAL, 0, NULL, false, false },
		{ { "BODY[" }, 1, false, false, RS_EINVAL, 0, NULL, false,
		  false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imap_arg v[16];
		struct imap_fetch_req r;
		const char *why;
		size_t na = test_imap_fetch_args(v, cases[i].items, cases[i].n,
		                                 cases[i].list, NULL, 0);
		int rc = imap_fetch_items_parse(v, na, cases[i].uid, &r, &why);

		TEST_ASSERT_IDX(rc == cases[i].want_rc, i);
		if (rc == 0) {
			const struct imap_fetch_item *it =
				&r.items[cases[i].uid ? 1 : 0];

			TEST_ASSERT_IDX(r.n == cases[i].want_n, i);
			TEST_ASSERT_IDX(strcmp(it->name,
			                       cases[i].want_name0) == 0, i);
			TEST_ASSERT_IDX(r.need_meta == cases[i].want_meta, i);
			TEST_ASSERT_IDX(r.set_seen == cases[i].want_seen, i);
		}
		imap_fetch_items_free(&r);
	}
}

void
test_imap_fetch_items_details(void)
{
	static const char *const one[] = {
		"BODY.PEEK[2.1.HEADER.FIELDS.NOT (\"X-A\" Received)]<7.20>"
	};
	static const char *const mods[] = { "CHANGEDSINCE", "12345",
	                                    "VANISHED" };
	static const char *const bad_mods[] = { "VANISHED" };
	struct imap_arg v[16];
	struct imap_fetch_req r;
	const struct imap_fetch_item *it;
	const char *why;
	size_t na;

	na = test_imap_fetch_args(v, one, 1, false, mods, 3);
	TEST_ASSERT(imap_fetch_items_parse(v, na, true, &r, &why) == 0);
	/* UID, the section, MODSEQ (implied by CHANGEDSINCE). */
	TEST_ASSERT_INTEQ(r.n, 3);
	it = &r.items[1];
	TEST_ASSERT_INTEQ(it->kind, IMAP_FETCH_SECTION);
	TEST_ASSERT_STREQ(it->section, "2.1");
	TEST_ASSERT_INTEQ(it->spec, IMAP_FETCH_SPEC_FIELDS_NOT);
	TEST_ASSERT_INTEQ(it->nfields, 2);
	TEST_ASSERT_STREQ(it->fields[0], "X-A");
	TEST_ASSERT_STREQ(it->fields[1], "Received");
	TEST_ASSERT(imap_fetch_items_field_match(it, "received", 8));
	TEST_ASSERT(!imap_fetch_items_field_match(it, "X-B", 3));
	TEST_ASSERT(it->partial && it->origin == 7 && it->count == 20);
	TEST_ASSERT(it->peek);
	TEST_ASSERT(r.changedsince_set && r.changedsince == 12345);
	TEST_ASSERT(r.vanished);
	TEST_ASSERT_INTEQ(r.items[2].kind, IMAP_FETCH_MODSEQ);
	imap_fetch_items_free(&r);

	/* VANISHED without CHANGEDSINCE. */
	na = test_imap_fetch_args(v, one, 1, false, bad_mods, 1);
	TEST_ASSERT(imap_fetch_items_parse(v, na, true, &r, &why) != 0);
	imap_fetch_items_free(&r);
}
