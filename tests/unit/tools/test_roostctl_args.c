/* test_roostctl_args.c: roostctl's pure command-line unit: option
 * parsing, sizes both ways, --node checks, token-line trimming. */
#include <stdio.h>
#include <string.h>

#include "tests/unit/test.h"
#include "tools/roostctl/roostctl_args.h"

static const struct roostctl_optspec test_spec[] = {
	{ "json", ROOSTCTL_OPT_FLAG, false, false },
	{ "name", ROOSTCTL_OPT_STR, false, false },
	{ "member", ROOSTCTL_OPT_STR, true, false },
	{ "quota", ROOSTCTL_OPT_SIZE, false, false },
};
static const struct roostctl_optspec test_spec_req[] = {
	{ "member", ROOSTCTL_OPT_STR, true, true },
};

void
test_roostctl_args_parse(void)
{
	static const struct {
		const char *argv[8];
		size_t      want_npos;
		const char *want_pos0, *want_name, *want_member1;
		uint64_t    want_quota;         /* 0: not given */
		const char *want_err;           /* substring */
		int         want_rc;
		bool        want_json;
	} cases[] = {
		{ { "a@b" }, 1, "a@b", NULL, NULL, 0, NULL, 0, false },
		{ { "--json", "x" }, 1, "x", NULL, NULL, 0, NULL, 0, true },
		{ { "--name", "-dash name", "x" },
		  1, "x", "-dash name", NULL, 0, NULL, 0, false },
		{ { "--name=Al=ice" },
		  0, NULL, "Al=ice", NULL, 0, NULL, 0, false },
		{ { "--member", "m0", "--member=m1" },
		  0, NULL, NULL, "m1", 0, NULL, 0, false },
		{ { "--quota", "2G" },
		  0, NULL, NULL, NULL, 2ull << 30, NULL, 0, false },
		{ { "--quota=500M" },
		  0, NULL, NULL, NULL, 500ull << 20, NULL, 0, false },
		{ { "--", "--json", "-" },
		  2, "--json", NULL, NULL, 0, NULL, 0, false },
		{ { "-" }, 1, "-", NULL, NULL, 0, NULL, 0, false },
		{ { "x", "--help" }, 0, NULL, NULL, NULL, 0, NULL, 1, false },
		{ { "-h" }, 0, NULL, NULL, NULL, 0, NULL, 1, false },
		{ { "--frob" }, 0, NULL, NULL, NULL, 0, "'--frob'", -1, false },
		{ { "--frob=1" },
		  0, NULL, NULL, NULL, 0, "'--frob'", -1, false },
		{ { "-x" }, 0, NULL, NULL, NULL, 0, "'-x'", -1, false },
		{ { "--name" }, 0, NULL, NULL, NULL, 0, "needs", -1, false },
		{ { "--json=yes" },
		  0, NULL, NULL, NULL, 0, "no value", -1, false },
		{ { "--name", "a", "--name", "b" },
		  0, NULL, NULL, NULL, 0, "twice", -1, false },
		{ { "--quota", "12X" },
		  0, NULL, NULL, NULL, 0, "bad --quota '12X'", -1, false },
		{ { "--quota=" },
		  0, NULL, NULL, NULL, 0, "bad --quota", -1, false },
		{ { "--js" }, 0, NULL, NULL, NULL, 0, "'--js'", -1, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const size_t nspec = sizeof(test_spec) / sizeof(test_spec[0]);
		struct roostctl_args a;
		struct rs_err err = { 0 };
		const char *name, *m1;
		uint64_t q = 0;
		bool has_q;
		int argc = 0, rc;

		while (argc < 8 && cases[i].argv[argc] != NULL)
			argc++;
		rc = roostctl_args_parse(&a, test_spec, nspec, argc,
		                         (char *const *)cases[i].argv, &err);
		TEST_ASSERT_IDX(rc == cases[i].want_rc, i);
		if (rc < 0)
			TEST_ASSERT_IDX(strstr(err.msg, cases[i].want_err), i);
		if (rc != 0) {
			roostctl_args_free(&a);
			continue;
		}
		name = roostctl_args_get(&a, "name");
		m1 = roostctl_args_get_nth(&a, "member", 1);
		has_q = roostctl_args_get_size(&a, "quota", &q);
		TEST_ASSERT_IDX(a.npos == cases[i].want_npos, i);
		TEST_ASSERT_IDX(cases[i].want_pos0 == NULL ||
		                strcmp(a.pos[0], cases[i].want_pos0) == 0, i);
		TEST_ASSERT_IDX(roostctl_args_has(&a, "json") ==
		                cases[i].want_json, i);
		TEST_ASSERT_IDX(cases[i].want_name == NULL ||
		                strcmp(name, cases[i].want_name) == 0, i);
		TEST_ASSERT_IDX(cases[i].want_member1 == NULL ||
		                strcmp(m1, cases[i].want_member1) == 0, i);
		TEST_ASSERT_IDX(has_q == (cases[i].want_quota != 0), i);
		TEST_ASSERT_IDX(q == cases[i].want_quota, i);
		roostctl_args_free(&a);
	}
}

void
test_roostctl_args_required(void)
{
	const char *none[] = { "g@x" }, *two[] = { "--member", "a", "g@x",
	                                           "--member", "b" };
	struct roostctl_args a;
	struct rs_err err;

	TEST_ASSERT(roostctl_args_parse(&a, test_spec_req, 1, 1,
	                                (char *const *)none, &err) == -1);
	TEST_ASSERT_STREQ(err.msg, "missing --member");
	roostctl_args_free(&a);
	TEST_ASSERT(roostctl_args_parse(&a, test_spec_req, 1, 5,
	                                (char *const *)two, &err) == 0);
	TEST_ASSERT(roostctl_args_count(&a, "member") == 2);
	TEST_ASSERT_STREQ(roostctl_args_get_nth(&a, "member", 1), "b");
	TEST_ASSERT(roostctl_args_get_nth(&a, "member", 2) == NULL);
	TEST_ASSERT(a.npos == 1);
	roostctl_args_free(&a);
	/* No words at all. */
	TEST_ASSERT(roostctl_args_parse(&a, test_spec, 1, 0, NULL, &err) == 0);
	TEST_ASSERT(a.npos == 0 && !roostctl_args_has(&a, "json"));
	roostctl_args_free(&a);
}

void
test_roostctl_args_size(void)
{
	static const struct {
		const char *in;
		int         want_rc;
		uint64_t    want;
	} parse[] = {
		{ "0", 0, 0 }, { "1048576", 0, 1048576 },
		{ "500M", 0, 500ull << 20 }, { "2G", 0, 2ull << 30 },
		{ "2g", 0, 2ull << 30 }, { "1k", 0, 1024 },
		{ "9223372036854775807", 0, INT64_MAX },
		{ "9223372036854775808", RS_EINVAL, 0 },
		{ "8589934592G", RS_EINVAL, 0 }, { "", RS_EINVAL, 0 },
		{ "M", RS_EINVAL, 0 }, { "12X", RS_EINVAL, 0 },
		{ "-1", RS_EINVAL, 0 }, { "1.5G", RS_EINVAL, 0 },
		{ " 1M", RS_EINVAL, 0 }, { "1MB", RS_EINVAL, 0 },
	};
	static const struct {
		uint64_t    in;
		const char *want;
	} fmt[] = {
		{ 0, "0" }, { 1, "1" }, { 1023, "1023" }, { 1024, "1K" },
		{ 1536, "1.5K" }, { 1572864, "1.5M" }, { 500ull << 20, "500M" },
		{ 2ull << 30, "2G" }, { 10 * 1024 + 700, "11K" },
		{ 10199, "10K" },                      /* 9.96K rounds up */
		{ 1048575, "1.0M" },                   /* 1023.999K */
		{ (5ull << 40) + 1, "5.0T" }, { UINT64_MAX, "16E" },
	};

	for (size_t i = 0; i < sizeof(parse) / sizeof(parse[0]); i++) {
		uint64_t v = 0;

		TEST_ASSERT_IDX(roostctl_args_size(parse[i].in, &v) ==
		                parse[i].want_rc, i);
		TEST_ASSERT_IDX(v == parse[i].want, i);
	}
	for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		char buf[16];

		roostctl_args_size_str(fmt[i].in, buf, sizeof(buf));
		if (strcmp(buf, fmt[i].want) != 0)
			test_fail(__FILE__, __LINE__,
			          "case %zu: \"%s\" != \"%s\"", i, buf,
			          fmt[i].want);
	}
}

void
test_roostctl_args_node(void)
{
	static const struct {
		const char *in;
		int         want_rc;
	} cases[] = {
		{ "127.0.0.1:10180", 0 }, { "mail.example.test:1", 0 },
		{ "[::1]:65535", 0 }, { "localhost", -1 }, { ":80", -1 },
		{ "host:", -1 }, { "host:0", -1 }, { "host:65536", -1 },
		{ "host:8x", -1 }, { "::1:80", -1 }, { "[::1]", -1 },
		{ "[]:80", -1 }, { "host:80/x", -1 }, { "a b:80", -1 },
		{ "user@host:80", -1 }, { "", -1 },
	};
	static const struct {
		const char *in, *want;
	} lines[] = {
		{ "tok\n", "tok" }, { "  tok \r\nsecond\n", "tok" },
		{ "tok", "tok" }, { "", "" }, { "\n", "" }, { "\t \n", "" },
		{ "a b\n", "a b" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rs_err err;

		TEST_ASSERT_IDX(roostctl_args_node(cases[i].in, &err) ==
		                cases[i].want_rc, i);
	}
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char buf[32];
		size_t n;

		snprintf(buf, sizeof(buf), "%s", lines[i].in);
		n = roostctl_args_first_line(buf, strlen(buf));
		TEST_ASSERT_IDX(strcmp(buf, lines[i].want) == 0, i);
		TEST_ASSERT_IDX(n == strlen(lines[i].want), i);
	}
}
