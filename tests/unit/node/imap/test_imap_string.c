/* Tests for node/imap/imap_string.c: string forms, flag lists, dates,
 * modified UTF-7 and LIST patterns. */
#include <event2/buffer.h>
#include <string.h>

#include "node/imap/imap_string.h"
#include "storage/store.h"
#include "tests/unit/test.h"

void
test_imap_string_forms(void)
{
	static const struct {
		const char *in;
		size_t len;
		unsigned flags;
		const char *want_q, *want_a;
	} cases[] = {
		{ "INBOX", 5, 0, "\"INBOX\"", "INBOX" },
		{ "", 0, 0, "\"\"", "\"\"" },
		{ "nil", 3, 0, "\"nil\"", "\"nil\"" },
		{ "a b", 3, 0, "\"a b\"", "\"a b\"" },
		{ "a\"b\\c", 5, 0, "\"a\\\"b\\\\c\"", "\"a\\\"b\\\\c\"" },
		{ "x]y", 3, 0, "\"x]y\"", "x]y" },
		{ "50%", 3, 0, "\"50%\"", "\"50%\"" },
		{ "caf\xc3\xa9", 5, 0, "{5}\r\ncaf\xc3\xa9", "{5}\r\ncaf\xc3\xa9" },
		{ "caf\xc3\xa9", 5, IMAP_STRING_F_UTF8, "\"caf\xc3\xa9\"",
		  "\"caf\xc3\xa9\"" },
		{ "bad\xc3", 4, IMAP_STRING_F_UTF8, "{4}\r\nbad\xc3",
		  "{4}\r\nbad\xc3" },
		{ "a\r\nb", 4, IMAP_STRING_F_UTF8, "{4}\r\na\r\nb",
		  "{4}\r\na\r\nb" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rs_buf b;
		struct rs_str s = rs_str_make(cases[i].in, cases[i].len);

		rs_buf_init(&b, 256);
		TEST_ASSERT_IDX(imap_string_quote(&b, s, cases[i].flags) == 0,
		                i);
		TEST_ASSERT_STREQ((const char *)b.data, cases[i].want_q);
		rs_buf_reset(&b);
		TEST_ASSERT_IDX(imap_string_astring(&b, s, cases[i].flags) ==
		                0, i);
		TEST_ASSERT_STREQ((const char *)b.data, cases[i].want_a);
		rs_buf_free(&b);
	}
}

void
test_imap_string_flags(void)
{
	static const char *const kw[] = { "$Junk", "work" };
	struct rs_buf b;

	rs_buf_init(&b, 256);
	TEST_ASSERT(imap_string_flags(&b, 0, false, NULL, 0) == 0);
	TEST_ASSERT_STREQ((const char *)b.data, "()");
	rs_buf_reset(&b);
	TEST_ASSERT(imap_string_flags(&b, STORE_FLAG_SEEN | STORE_FLAG_DRAFT,
	                              true, kw, 2) == 0);
	TEST_ASSERT_STREQ((const char *)b.data,
	                  "(\\Seen \\Draft \\Recent $Junk work)");
	rs_buf_reset(&b);
	TEST_ASSERT(imap_string_nstring(&b, rs_str_make(NULL, 0), 0) == 0);
	TEST_ASSERT_STREQ((const char *)b.data, "NIL");
	rs_buf_free(&b);
	TEST_ASSERT(imap_string_flag_bit(rs_str_cstr("\\fLaGgEd")) ==
	            STORE_FLAG_FLAGGED);
	TEST_ASSERT(imap_string_flag_bit(rs_str_cstr("\\Recent")) == 0);
	TEST_ASSERT_STREQ(imap_string_flag_name(STORE_FLAG_DELETED),
	                  "\\Deleted");
}

void
test_imap_string_dates(void)
{
	char buf[IMAP_STRING_DATETIME_LEN];
	int64_t t;
	int32_t tz;

	TEST_ASSERT_STREQ(imap_string_datetime(buf, 0, 0),
	                  " 1-Jan-1970 00:00:00 +0000");
	TEST_ASSERT_STREQ(imap_string_datetime(buf, 1795842000, -330),
	                  "27-Nov-2026 23:30:00 -0530");
	TEST_ASSERT(imap_string_datetime_parse(
	            rs_str_cstr("27-Nov-2026 23:30:00 -0530"), &t, &tz) == 0);
	TEST_ASSERT(t == 1795842000 && tz == -330);
	TEST_ASSERT(imap_string_datetime_parse(
	            rs_str_cstr(" 1-Jan-1970 01:00:00 +0100"), &t, &tz) == 0);
	TEST_ASSERT(t == 0 && tz == 60);
	TEST_ASSERT(imap_string_datetime_parse(
	            rs_str_cstr("29-Feb-2023 00:00:00 +0000"), &t, &tz) != 0);
	TEST_ASSERT(imap_string_datetime_parse(
	            rs_str_cstr("01-Jan-2023 24:00:00 +0000"), &t, &tz) != 0);
	TEST_ASSERT(imap_string_datetime_parse(
	            rs_str_cstr("01-Jan-2023 00:00:00 0000"), &t, &tz) != 0);
	TEST_ASSERT(imap_string_date_parse(rs_str_cstr("1-feb-2000"), &t) ==
	            0 && t == 949363200);
	TEST_ASSERT(imap_string_date_parse(rs_str_cstr("29-Feb-2000"), &t) ==
	            0);
	TEST_ASSERT(imap_string_date_parse(rs_str_cstr("32-Jan-2000"), &t) !=
	            0);
	TEST_ASSERT(imap_string_date_parse(rs_str_cstr("1-Foo-2000"), &t) !=
	            0);
	TEST_ASSERT(imap_string_date_parse(rs_str_cstr("1-Jan-2000x"), &t) !=
	            0);
	TEST_ASSERT(imap_string_date_parse(rs_str_cstr(""), &t) != 0);
}

#define T_E10 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" \
	"\xc3\xa9\xc3\xa9\xc3\xa9"

void
test_imap_string_mutf7(void)
{
	static const struct {
		const char *utf8, *mutf7;
	} ok[] = {
		{ "INBOX", "INBOX" },
		{ "A&B", "A&-B" },
		{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac"
		  "\xe8\xaa\x9e", "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
		{ "Entw\xc3\xbc" "rfe", "Entw&APw-rfe" },
		{ "\xf0\x9f\x98\x80", "&2D3eAA-" },
		{ T_E10 T_E10, "&AOkA6QDpAOkA6QDpAOkA6QDpAOkA6QDpAOkA6QDpAOkA6QDp"
		  "AOkA6Q-" },
	};
	static const char *const bad[] = {
		"&", "&Jjo", "&Jjo!", "&AGE-", "&U,BTFw-&ZeVnLIqe-", "\xc3\xa9",
		"&2D0-", "&AP-",
	};
	struct rs_buf b;

	rs_buf_init(&b, 1024);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		rs_buf_reset(&b);
		TEST_ASSERT_IDX(imap_string_mutf7_encode(&b,
		                rs_str_cstr(ok[i].utf8)) == 0, i);
		TEST_ASSERT_STREQ((const char *)b.data, ok[i].mutf7);
		rs_buf_reset(&b);
		TEST_ASSERT_IDX(imap_string_mutf7_decode(&b,
		                rs_str_cstr(ok[i].mutf7)) == 0, i);
		TEST_ASSERT_STREQ((const char *)b.data, ok[i].utf8);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rs_buf_reset(&b);
		TEST_ASSERT_IDX(imap_string_mutf7_decode(&b,
		                rs_str_cstr(bad[i])) != 0, i);
	}
	rs_buf_free(&b);
}

void
test_imap_string_list_match(void)
{
	static const struct {
		const char *pat, *name;
		bool want;
	} cases[] = {
		{ "*", "a/b/c", true },
		{ "%", "a/b", false },
		{ "%", "abc", true },
		{ "a/%", "a/b", true },
		{ "a/%", "a/b/c", false },
		{ "a/*", "a/b/c", true },
		{ "a*c", "abbbc", true },
		{ "a*c", "abbbd", false },
		{ "%/%/c", "a/b/c", true },
		{ "INBOX", "INBOX", true },
		{ "", "", true },
		{ "", "a", false },
		{ "a%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%b", "aaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac",
		  false },
		{ "*a*a*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac",
		  false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		TEST_ASSERT_IDX(imap_string_list_match(
		                rs_str_cstr(cases[i].pat),
		                rs_str_cstr(cases[i].name), '/') ==
		                cases[i].want, i);
}

void
test_imap_string_evbuffer(void)
{
	struct evbuffer *out = evbuffer_new();
	char got[128];
	size_t n;

	imap_string_astring_ev(out, rs_str_cstr("INBOX"), 0);
	evbuffer_add(out, " ", 1);
	imap_string_quote_ev(out, rs_str_cstr("a\"b"), 0);
	evbuffer_add(out, " ", 1);
	imap_string_nstring_ev(out, rs_str_make(NULL, 0), 0);
	evbuffer_add(out, " ", 1);
	imap_string_nstring_ev(out, rs_str_cstr("x\r\ny"), 0);
	n = evbuffer_remove(out, got, sizeof(got) - 1);
	got[n] = '\0';
	TEST_ASSERT_STREQ(got, "INBOX \"a\\\"b\" NIL {4}\r\nx\r\ny");
	evbuffer_free(out);
}
