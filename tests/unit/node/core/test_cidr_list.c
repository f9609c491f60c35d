/* test_cidr_list.c: parsing of network lists (and their errors), and
 * matching IPv4, IPv6 and IPv4-mapped peers against them. */
#include <stdio.h>

#include "node/core/cidr_list.h"
#include "node/core/netaddr.h"
#include "tests/unit/test.h"

void
test_cidr_list_parse(void)
{
	static const struct {
		const char *text;
		int         want_rc;
		size_t      want_n;
	} cases[] = {
		{ "", 0, 0 },
		{ "   ", 0, 0 },
		{ "127.0.0.2/32", 0, 1 },
		{ "127.0.0.2", 0, 1 },
		{ " 10.0.0.0/8 , 192.0.2.0/24,2001:db8::/32 ", 0, 3 },
		{ "0.0.0.0/0,::/0", 0, 2 },
		{ "::1", 0, 1 },
		{ "10.0.0.1/8", -1, 0 },          /* host bits */
		{ "2001:db8::1/32", -1, 0 },
		{ "10.0.0.0/33", -1, 0 },
		{ "10.0.0.0/08", -1, 0 },
		{ "10.0.0.0/", -1, 0 },
		{ "10.0.0.0/-1", -1, 0 },
		{ "::/129", -1, 0 },
		{ "10.0.0", -1, 0 },
		{ "example.com", -1, 0 },
		{ "10.0.0.0/8,", -1, 0 },
		{ ",10.0.0.0/8", -1, 0 },
		{ "10.0.0.0/8,,::1", -1, 0 },
		{ "10.0.0.0/8 192.0.2.0/24", -1, 0 },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
		  "ffff:ffff:ffff", -1, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr_list *l = NULL;
		struct rs_err err = { 0 };
		int rc = cidr_list_parse(cases[i].text, &l, &err);

		TEST_ASSERT_IDX(rc == cases[i].want_rc, i);
		TEST_ASSERT_IDX(rc == 0 || (l == NULL && err.msg[0] != '\0'), i);
		TEST_ASSERT_IDX(cidr_list_count(l) == cases[i].want_n, i);
		cidr_list_free(&l);
	}
}

void
test_cidr_list_match(void)
{
	static const struct {
		const char *ip;
		bool        want;
	} cases[] = {
		{ "127.0.0.2", true },
		{ "127.0.0.1", false },
		{ "10.1.2.3", true },
		{ "11.0.0.0", false },
		{ "192.0.2.128", true },
		{ "192.0.2.127", false },
		{ "2001:db8:1::5", true },
		{ "2001:db9::", false },
		{ "::ffff:10.9.9.9", true },      /* IPv4 on a v6 socket */
		{ "::ffff:127.0.0.1", false },
		{ "::1", false },
	};
	struct cidr_list *l = NULL;
	struct rs_err err;

	TEST_ASSERT(cidr_list_parse("127.0.0.2/32,10.0.0.0/8,"
	                            "192.0.2.128/25,2001:db8::/32", &l,
	                            &err) == 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t len;

		TEST_ASSERT_IDX(netaddr_parse(cases[i].ip, 25, &ss, &len) == 0,
		                i);
		TEST_ASSERT_IDX(cidr_list_match(l, (struct sockaddr *)&ss) ==
		                cases[i].want, i);
	}
	cidr_list_free(&l);
	TEST_ASSERT(l == NULL);
	cidr_list_free(&l);
	/* Nobody: NULL and empty lists. */
	{
		struct sockaddr_storage ss;
		socklen_t len;

		TEST_ASSERT(netaddr_parse("127.0.0.2", 1, &ss, &len) == 0);
		TEST_ASSERT(!cidr_list_match(NULL, (struct sockaddr *)&ss));
		TEST_ASSERT(cidr_list_parse("", &l, &err) == 0);
		TEST_ASSERT(!cidr_list_match(l, (struct sockaddr *)&ss));
		cidr_list_free(&l);
		TEST_ASSERT(cidr_list_parse("0.0.0.0/0", &l, &err) == 0);
		TEST_ASSERT(cidr_list_match(l, (struct sockaddr *)&ss));
		cidr_list_free(&l);
	}
}
