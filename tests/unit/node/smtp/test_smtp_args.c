/* test_smtp_args.c: MAIL, RCPT, BDAT and HELO arguments with their reply
 * codes. */
#include <stdio.h>

#include "node/smtp/smtp_args.h"
#include "tests/unit/test.h"

void
test_smtp_args_mail(void)
{
	static const struct {
		const char *in;
		unsigned want_code;       /* 0: accepted */
		const char *want_status;
		const char *want_key;     /* lookup key of the path */
		bool want_null;
		bool want_has_size;
		uint64_t want_size;
		enum smtp_body want_body;
		bool want_utf8;
	} cases[] = {
		{ .in = "FROM:<alice@example.test>",
		  .want_key = "alice@example.test" },
		{ .in = "from:<Alice@Example.test>",
		  .want_key = "alice@example.test" },
		/* The common client form with a space after the colon. */
		{ .in = "FROM: <alice@example.test>",
		  .want_key = "alice@example.test" },
		{ .in = "FROM:<>", .want_key = "", .want_null = true },
		{ .in = "FROM:<> SIZE=1000", .want_key = "", .want_null = true,
		  .want_has_size = true, .want_size = 1000 },
		{ .in = "FROM:<a@b.test> SIZE=10 BODY=8BITMIME SMTPUTF8",
		  .want_key = "a@b.test", .want_has_size = true, .want_size = 10,
		  .want_body = SMTP_BODY_8BITMIME, .want_utf8 = true },
		{ .in = "FROM:<a@b.test>  body=7bit  ", .want_key = "a@b.test",
		  .want_body = SMTP_BODY_7BIT },
		{ .in = "FROM:<a@b.test> size=0", .want_key = "a@b.test",
		  .want_has_size = true },
		{ .in = "FROM:<a@b.test> SIZE=18446744073709551615",
		  .want_key = "a@b.test", .want_has_size = true,
		  .want_size = UINT64_MAX },
		{ .in = "FROM:<\"a b\"@example.test>",
		  .want_key = "a b@example.test" },
		{ .in = "FROM:<\"a>b\"@example.test> SIZE=1",
		  .want_key = "a>b@example.test", .want_has_size = true,
		  .want_size = 1 },
		{ .in = "FROM:<@relay.test:a@b.test>", .want_key = "a@b.test" },
		{ .in = "FROM:<j\xc3\xb6rg@example.test> SMTPUTF8",
		  .want_key = "j\xc3\xb6rg@example.test", .want_utf8 = true },
		{ .in = "FROM:<a@b.test> SIZE=99999999999999999999",
		  .want_code = 501, .want_status = "5.5.4" },
		{ .in = "FROM:<a@b.test> SIZE=abc", .want_code = 501,
		  .want_status = "5.5.4" },
		{ .in = "FROM:<a@b.test> SIZE=", .want_code = 501,
		  .want_status = "5.5.4" },
		{ .in = "FROM:<a@b.test> SIZE", .want_code = 501,
		  .want_status = "5.5.4" },
		{ .in = "FROM:<a@b.test> SIZE=1 SIZE=2", .want_code = 501,
		  .want_status = "5.5.4" },
		{ .in = "FROM:<a@b.test> BODY=BINARYMIME", .want_code = 501,
		  .want_status = "5.5.4" },
		{ .in = "FROM:<a@b.test> BODY=7BIT BODY=7BIT", .want_code = 501,
		  .want_status = "5.5.4" },
		{ .in = "FROM:<a@b.test> SMTPUTF8=yes", .want_code = 501,
		  .want_status = "5.5.4" },
		{ .in = "FROM:<a@b.test> SMTPUTF8 SMTPUTF8", .want_code = 501,
		  .want_status = "5.5.4" },
		{ .in = "FROM:<a@b.test>SIZE=1", .want_code = 501,
		  .want_status = "5.5.4" },
		{ .in = "FROM:<a@b.test> =x", .want_code = 501,
		  .want_status = "5.5.4" },
		{ .in = "FROM:<a@b.test> -X", .want_code = 501,
		  .want_status = "5.5.4" },
		{ .in = "FROM:<a@b.test> X=a=b", .want_code = 501,
		  .want_status = "5.5.4" },
		{ .in = "FROM:<a@b.test> X=\x01", .want_code = 501,
		  .want_status = "5.5.4" },
		{ .in = "FROM:<a@b.test> FOO=bar", .want_code = 555,
		  .want_status = "5.5.4" },
		{ .in = "FROM:<a@b.test> X-Y", .want_code = 555,
		  .want_status = "5.5.4" },
		{ .in = "FROM:<a@b.test> AUTH=<>", .want_code = 555,
		  .want_status = "5.5.4" },
		{ .in = "FROM:a@b.test", .want_code = 501,
		  .want_status = "5.1.7" },
		{ .in = "FROM:<a@b.test", .want_code = 501,
		  .want_status = "5.1.7" },
		{ .in = "FROM:<a@@b.test>", .want_code = 501,
		  .want_status = "5.1.7" },
		{ .in = "FROM:<a..b@b.test>", .want_code = 501,
		  .want_status = "5.1.7" },
		{ .in = "FROM:<a@b.test\r>", .want_code = 501,
		  .want_status = "5.1.7" },
		{ .in = "FROM:<j\xc3rg@example.test> SMTPUTF8", .want_code = 501,
		  .want_status = "5.1.7" },
		{ .in = "FROM:", .want_code = 501, .want_status = "5.5.4" },
		{ .in = "FROM: ", .want_code = 501, .want_status = "5.5.4" },
		{ .in = "FROM", .want_code = 501, .want_status = "5.5.4" },
		{ .in = "", .want_code = 501, .want_status = "5.5.4" },
		{ .in = "TO:<a@b.test>", .want_code = 501,
		  .want_status = "5.5.4" },
		{ .in = "FROM <a@b.test>", .want_code = 501,
		  .want_status = "5.5.4" },
		/* RFC 6531: UTF-8 without SMTPUTF8. */
		{ .in = "FROM:<j\xc3\xb6rg@example.test>", .want_code = 553,
		  .want_status = "5.6.7" },
		{ .in = "FROM:<a@b\xc3\xb6.test> SIZE=1", .want_code = 553,
		  .want_status = "5.6.7" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtp_mail m;
		struct smtp_reject rej = { 0 };
		char key[RS_ADDR_TEXT_MAX];
		int rc = smtp_args_mail(rs_str_cstr(cases[i].in), &m, &rej);

		if (cases[i].want_code != 0) {
			TEST_ASSERT_IDX(rc == -1, i);
			TEST_ASSERT_IDX(rej.code == cases[i].want_code, i);
			TEST_ASSERT_IDX(rej.status != NULL &&
			                strcmp(rej.status, cases[i].want_status) == 0,
			                i);
			TEST_ASSERT_IDX(rej.text != NULL && rej.reason != NULL, i);
			continue;
		}
		TEST_ASSERT_IDX(rc == 0, i);
		if (rc != 0)
			continue;
		rs_addr_key(&m.from, key, sizeof(key));
		TEST_ASSERT_IDX(strcmp(key, cases[i].want_key) == 0, i);
		TEST_ASSERT_IDX(m.from.null == cases[i].want_null, i);
		TEST_ASSERT_IDX(m.has_size == cases[i].want_has_size, i);
		TEST_ASSERT_IDX(m.size == cases[i].want_size, i);
		TEST_ASSERT_IDX(m.body == cases[i].want_body, i);
		TEST_ASSERT_IDX(m.smtputf8 == cases[i].want_utf8, i);
		TEST_ASSERT_IDX(m.has_params == (strchr(cases[i].in, '=') != NULL ||
		                                 cases[i].want_utf8), i);
	}
}

void
test_smtp_args_rcpt(void)
{
	static const struct {
		const char *in;
		bool utf8;
		unsigned want_code;
		const char *want_status;
		const char *want_key;
		bool want_postmaster;
	} cases[] = {
		{ .in = "TO:<bob@example.test>",
		  .want_key = "bob@example.test" },
		{ .in = "to: <Bob@Example.TEST>",
		  .want_key = "bob@example.test" },
		{ .in = "TO:<bob+tag@example.test>",
		  .want_key = "bob+tag@example.test" },
		{ .in = "TO:<bob@example.test>  ",
		  .want_key = "bob@example.test" },
		{ .in = "TO:<Postmaster>", .want_key = "postmaster@",
		  .want_postmaster = true },
		{ .in = "TO:<postmaster>", .want_key = "postmaster@",
		  .want_postmaster = true },
		{ .in = "TO:<j\xc3\xb6rg@example.test>", .utf8 = true,
		  .want_key = "j\xc3\xb6rg@example.test" },
		{ .in = "TO:<j\xc3\xb6rg@example.test>", .want_code = 553,
		  .want_status = "5.6.7" },
		{ .in = "TO:<>", .want_code = 501, .want_status = "5.1.3" },
		{ .in = "TO:bob@example.test", .want_code = 501,
		  .want_status = "5.1.3" },
		{ .in = "TO:<bob>", .want_code = 501, .want_status = "5.1.3" },
		{ .in = "TO:<bob@example.test", .want_code = 501,
		  .want_status = "5.1.3" },
		{ .in = "TO:<bob@example.test> NOTIFY=NEVER", .want_code = 555,
		  .want_status = "5.5.4" },
		{ .in = "TO:<bob@example.test>x", .want_code = 501,
		  .want_status = "5.5.4" },
		{ .in = "TO:", .want_code = 501, .want_status = "5.5.4" },
		{ .in = "FROM:<bob@example.test>", .want_code = 501,
		  .want_status = "5.5.4" },
		{ .in = "", .want_code = 501, .want_status = "5.5.4" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtp_rcpt r;
		struct smtp_reject rej = { 0 };
		char key[RS_ADDR_TEXT_MAX];
		int rc = smtp_args_rcpt(rs_str_cstr(cases[i].in), cases[i].utf8,
		                        &r, &rej);

		if (cases[i].want_code != 0) {
			TEST_ASSERT_IDX(rc == -1, i);
			TEST_ASSERT_IDX(rej.code == cases[i].want_code, i);
			TEST_ASSERT_IDX(rej.status != NULL &&
			                strcmp(rej.status, cases[i].want_status) == 0,
			                i);
			continue;
		}
		TEST_ASSERT_IDX(rc == 0, i);
		if (rc != 0)
			continue;
		rs_addr_key(&r.to, key, sizeof(key));
		TEST_ASSERT_IDX(strcmp(key, cases[i].want_key) == 0, i);
		TEST_ASSERT_IDX(r.postmaster == cases[i].want_postmaster, i);
	}
}

void
test_smtp_args_bdat_helo(void)
{
	static const struct {
		const char *in;
		int want_rc;
		uint64_t want_size;
		bool want_last;
	} bdat[] = {
		{ .in = "0 LAST", .want_last = true },
		{ .in = "100", .want_size = 100 },
		{ .in = "100 last", .want_size = 100, .want_last = true },
		{ .in = "7  LAST", .want_size = 7, .want_last = true },
		{ .in = "9999999999999999999",
		  .want_size = 9999999999999999999u },
		{ .in = "99999999999999999999", .want_rc = -1 },
		{ .in = "", .want_rc = -1 },
		{ .in = "abc", .want_rc = -1 },
		{ .in = "-1", .want_rc = -1 },
		{ .in = "10 LASTX", .want_rc = -1 },
		{ .in = "10 FOO", .want_rc = -1 },
		{ .in = "10LAST", .want_rc = -1 },
		{ .in = "10 LAST x", .want_rc = -1 },
		{ .in = "10 ", .want_rc = -1 },
		{ .in = " 10", .want_rc = -1 },
	};
	static const struct {
		const char *in;
		unsigned want_code;
	} helo[] = {
		{ .in = "client.example" },
		{ .in = "[127.0.0.1]" },
		{ .in = "[IPv6:::1]" },
		{ .in = "DESKTOP-X_1" },
		{ .in = "", .want_code = 501 },
		{ .in = "a b", .want_code = 501 },
		{ .in = "a(b", .want_code = 501 },
		{ .in = "a;b", .want_code = 501 },
		{ .in = "<a>", .want_code = 501 },
		{ .in = "a\x7f", .want_code = 501 },
		{ .in = "\xc3\xb6", .want_code = 501 },
	};
	char longname[300];

	for (size_t i = 0; i < sizeof(bdat) / sizeof(bdat[0]); i++) {
		uint64_t size = 1234;
		bool last = false;
		int rc = smtp_args_bdat(rs_str_cstr(bdat[i].in), &size, &last);

		TEST_ASSERT_IDX(rc == bdat[i].want_rc, i);
		if (rc != 0)
			continue;
		TEST_ASSERT_IDX(size == bdat[i].want_size, i);
		TEST_ASSERT_IDX(last == bdat[i].want_last, i);
	}
	for (size_t i = 0; i < sizeof(helo) / sizeof(helo[0]); i++) {
		struct smtp_reject rej = { 0 };
		int rc = smtp_args_helo(rs_str_cstr(helo[i].in), &rej);

		TEST_ASSERT_IDX(rc == (helo[i].want_code ? -1 : 0), i);
		if (rc != 0)
			TEST_ASSERT_IDX(rej.code == helo[i].want_code, i);
	}
	memset(longname, 'a', sizeof(longname));
	{
		struct smtp_reject rej = { 0 };

		TEST_ASSERT(smtp_args_helo(rs_str_make(longname, SMTP_HELO_MAX),
		                           &rej) == 0);
		TEST_ASSERT(smtp_args_helo(rs_str_make(longname,
		                                       SMTP_HELO_MAX + 1),
		                           &rej) == -1);
		TEST_ASSERT(rej.code == 501);
	}
}
