/* test_rs_addr.c: RFC 5321 path and mailbox parsing. */
#include "lib/rs_addr.h"
#include "tests/unit/test.h"

void
test_rs_addr_path(void)
{
	static const struct {
		const char *in;
		unsigned flags;
		int want_rc;
		const char *want_key;     /* lookup key */
		const char *want_fmt;     /* formatted back */
		size_t want_used;
	} cases[] = {
		{ "<alice@example.test>", 0, 0, "alice@example.test",
		  "alice@example.test", 20 },
		{ "<Alice@Example.TEST> SIZE=10", 0, 0, "alice@example.test",
		  "Alice@Example.TEST", 20 },
		{ "<>", RS_ADDR_ALLOW_NULL, 0, "", "", 2 },
		{ "<>", 0, -1, NULL, NULL, 0 },
		{ "<@relay.test,@b.test:bob@example.test>", 0, 0,
		  "bob@example.test", "bob@example.test", 38 },
		{ "<\"john doe\"@example.test>", 0, 0, "john doe@example.test",
		  "\"john doe\"@example.test", 25 },
		{ "<\"a\\\"b\"@example.test>", 0, 0, "a\"b@example.test",
		  "\"a\\\"b\"@example.test", 21 },
		{ "<a..b@example.test>", 0, -1, NULL, NULL, 0 },
		{ "<.a@example.test>", 0, -1, NULL, NULL, 0 },
		{ "<a@example..test>", 0, -1, NULL, NULL, 0 },
		{ "<a@-example.test>", 0, -1, NULL, NULL, 0 },
		{ "<a@example.test", 0, -1, NULL, NULL, 0 },
		{ "alice@example.test", 0, -1, NULL, NULL, 0 },
		{ "<a@[127.0.0.1]>", 0, 0, "a@[127.0.0.1]", "a@[127.0.0.1]", 15 },
		{ "<a@[127.0.0.1]>", RS_ADDR_NO_LITERAL, -1, NULL, NULL, 0 },
		{ "<j\xc3\xb6rg@example.test>", 0, -1, NULL, NULL, 0 },
		{ "<j\xc3\xb6rg@example.test>", RS_ADDR_UTF8, 0,
		  "j\xc3\xb6rg@example.test", "j\xc3\xb6rg@example.test", 20 },
		{ "<j\xc3rg@example.test>", RS_ADDR_UTF8, -1, NULL, NULL, 0 },
		{ "<a@b>", 0, 0, "a@b", "a@b", 5 },
		{ "<a b@example.test>", 0, -1, NULL, NULL, 0 },
		{ "<a@example.test\r>", 0, -1, NULL, NULL, 0 },
		{ "<a@[IPv6:::1]>", 0, 0, "a@[ipv6:::1]", "a@[IPv6:::1]", 14 },
		{ "<a@[x-tag:stuff]>", 0, 0, "a@[x-tag:stuff]", "a@[x-tag:stuff]",
		  17 },
		{ "<a@[>1]>", 0, -1, NULL, NULL, 0 },
		{ "<a@[\"1]>", 0, -1, NULL, NULL, 0 },
		{ "<a@[1.2.3.999]>", 0, -1, NULL, NULL, 0 },
		{ "<a@[IPv6:zz]>", 0, -1, NULL, NULL, 0 },
		{ "<@a b:c@d.test>", 0, -1, NULL, NULL, 0 },
		{ "<@:c@d.test>", 0, -1, NULL, NULL, 0 },
		{ "<@\"x:a@[\"1]>", 0, -1, NULL, NULL, 0 },
		{ "<\"\"@d.test>", 0, -1, NULL, NULL, 0 },
		{ "<\"a>b\"@d.test>", 0, 0, "a>b@d.test", "\"a>b\"@d.test", 14 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rs_addr a;
		struct rs_err err;
		size_t used = 0;
		char buf[RS_ADDR_TEXT_MAX];
		int rc = rs_addr_parse_path(cases[i].in, strlen(cases[i].in),
		                            cases[i].flags, &a, &used, &err);

		TEST_ASSERT_IDX(rc == cases[i].want_rc, i);
		if (rc != 0 || cases[i].want_rc != 0)
			continue;
		TEST_ASSERT_IDX(used == cases[i].want_used, i);
		rs_addr_key(&a, buf, sizeof(buf));
		TEST_ASSERT_IDX(strcmp(buf, cases[i].want_key) == 0, i);
		rs_addr_format(&a, buf, sizeof(buf));
		TEST_ASSERT_IDX(strcmp(buf, cases[i].want_fmt) == 0, i);
	}
}

void
test_rs_addr_limits(void)
{
	char in[600];
	struct rs_addr a;
	struct rs_err err;
	size_t used;

	/* A 64-octet local part is the limit; 65 is too long. */
	memset(in, 'a', sizeof(in));
	in[0] = '<';
	memcpy(in + 65, "@x.test>", 8);
	TEST_ASSERT(rs_addr_parse_path(in, 73, 0, &a, &used, &err) == 0);
	in[65] = 'a';
	memcpy(in + 66, "@x.test>", 8);
	TEST_ASSERT(rs_addr_parse_path(in, 74, 0, &a, &used, &err) != 0);
	TEST_ASSERT(err.code == RS_ETOOBIG);
	/* A path longer than 256 octets never parses, closed or not. */
	memset(in, 'a', sizeof(in));
	in[0] = '<';
	in[1] = 'b';
	in[2] = '@';
	TEST_ASSERT(rs_addr_parse_path(in, sizeof(in), 0, &a, &used, &err) != 0);
	TEST_ASSERT(err.code == RS_ETOOBIG);
	/* A label over 63 octets is not a domain. */
	memset(in, 'a', 64);
	TEST_ASSERT(!rs_addr_domain_ok(in, 64, false));
	TEST_ASSERT(rs_addr_domain_ok(in, 63, false));
}

void
test_rs_addr_mailbox(void)
{
	struct rs_addr a;
	struct rs_err err;

	TEST_ASSERT(rs_addr_parse_mailbox("bob+tag@example.test", 20, 0, &a,
	                                  &err) == 0);
	TEST_ASSERT_STREQ(a.local, "bob+tag");
	TEST_ASSERT_STREQ(a.domain, "example.test");
	TEST_ASSERT(rs_addr_parse_mailbox("bob", 3, 0, &a, &err) != 0);
	TEST_ASSERT(rs_addr_parse_mailbox("@example.test", 13, 0, &a,
	                                  &err) != 0);
	TEST_ASSERT(rs_addr_parse_mailbox("bob@", 4, 0, &a, &err) != 0);
	TEST_ASSERT(rs_utf8_seq_len((const unsigned char *)"\xed\xa0\x80", 3)
	            == 0);               /* surrogate */
	TEST_ASSERT(rs_utf8_seq_len((const unsigned char *)"\xc0\xaf", 2)
	            == 0);               /* overlong */
}
