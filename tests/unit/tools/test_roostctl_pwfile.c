/* test_roostctl_pwfile.c: passwd-file lines for "roostctl user import". */
#include <stdio.h>

#include "tests/unit/test.h"
#include "tools/roostctl/roostctl_pwfile.h"

void
test_roostctl_pwfile(void)
{
	static const struct {
		const char *line;
		int         want_rc;
		const char *want_addr, *want_hash, *want_name;
		int         want_has_quota;
		uint64_t    want_quota;
		const char *want_err;
	} cases[] = {
		{ "", 0, NULL, NULL, NULL, 0, 0, NULL },
		{ "   \r\n", 0, NULL, NULL, NULL, 0, 0, NULL },
		{ "# a comment:with:colons", 0, NULL, NULL, NULL, 0, 0, NULL },
		{ "a@b.test:{PLAIN}x", 1, "a@b.test", "{PLAIN}x", NULL, 0, 0,
		  NULL },
		{ "a@b.test:$6$s$h::::::\n", 1, "a@b.test", "$6$s$h", NULL, 0, 0,
		  NULL },
		{ "a@b.test:{SSHA}x:1000:1000:Ann Smith:/home/a:/bin/false:"
		  "userdb_quota_rule=*:storage=1G other=1", 1, "a@b.test",
		  "{SSHA}x", "Ann Smith", 1, 1ull << 30, NULL },
		{ "a@b.test:{SSHA}x::::::quota_rule=*:storage=2048", 1,
		  "a@b.test", "{SSHA}x", NULL, 1, 2048 * 1024, NULL },
		{ "a@b.test:{SSHA}x::::::userdb_quota_rule=*:bytes=5000", 1,
		  "a@b.test", "{SSHA}x", NULL, 1, 5000, NULL },
		{ "a@b.test:{SSHA}x::::::userdb_quota_rule=*:storage=+10%", 1,
		  "a@b.test", "{SSHA}x", NULL, 0, 0, NULL },
		{ "a@b.test:{SSHA}x::::::userdb_quota_rule=Trash:storage=1G", 1,
		  "a@b.test", "{SSHA}x", NULL, 0, 0, NULL },
		{ "alice:{PLAIN}x", -1, NULL, NULL, NULL, 0, 0, "not an address" },
		{ "@b.test:{PLAIN}x", -1, NULL, NULL, NULL, 0, 0,
		  "not an address" },
		{ "a@b.test", -1, NULL, NULL, NULL, 0, 0, "no password hash" },
		{ "a@b.test::1:1", -1, NULL, NULL, NULL, 0, 0,
		  "no password hash" },
		{ "a@b.test:secret", -1, NULL, NULL, NULL, 0, 0, "is no hash" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[256];
		struct roostctl_pwent e;
		struct rs_err err = { 0 };
		int rc;

		snprintf(line, sizeof(line), "%s", cases[i].line);
		rc = roostctl_pwfile_parse(line, &e, &err);
		TEST_ASSERT_IDX(rc == cases[i].want_rc, i);
		if (rc < 0) {
			TEST_ASSERT_IDX(strstr(err.msg, cases[i].want_err) != NULL,
			                i);
			continue;
		}
		if (rc == 0)
			continue;
		TEST_ASSERT_IDX(strcmp(e.addr, cases[i].want_addr) == 0, i);
		TEST_ASSERT_IDX(strcmp(e.hash, cases[i].want_hash) == 0, i);
		TEST_ASSERT_IDX(cases[i].want_name == NULL ? e.name == NULL :
		                e.name != NULL &&
		                strcmp(e.name, cases[i].want_name) == 0, i);
		TEST_ASSERT_IDX(e.has_quota == (cases[i].want_has_quota != 0), i);
		TEST_ASSERT_IDX(e.quota == cases[i].want_quota, i);
	}
}
