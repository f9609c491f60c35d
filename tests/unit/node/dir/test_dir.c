/* test_dir.c: the directory on the embedded coordination backend and a
 * real store: changes, conflicts, recipient resolution, reload. */
#include <stdlib.h>

#include "tests/unit/node/dir/dir_test_env.h"
#include "tests/unit/test.h"

static int
resolve(struct dir_env *e, const char *addr, const char *want)
{
	struct dir_account *out = NULL;
	size_t n = 0, cap = 0;
	struct rs_err err;
	char got[1024] = "";
	int rc = dir_resolve(e->dir, addr, &out, &n, &cap, &err);

	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strcat(got, ",");
		strcat(got, out[i].addr);
	}
	free(out);
	if (rc == 0 && strcmp(got, want) != 0) {
		test_fail(__FILE__, __LINE__, "resolve %s: got %s want %s", addr,
		          got, want);
		return -100;
	}
	return rc == 0 ? 0 : err.code;
}

static void
dir_setup(struct dir_env *e)
{
	static const char *const team[] = { "alice@a.test", "staff@a.test",
	                                    "bob@a.test" };
	static const char *const staff[] = { "carol@a.test", "team@a.test",
	                                     "friend@elsewhere.test" };
	static const char *const info[] = { "team@a.test", "alice@a.test" };

	TEST_ASSERT(DIR_DO(e, dir_domain_add(e->dir, "A.test", cb_, arg_,
	                                     &err_)) == 0);
	TEST_ASSERT(DIR_DO(e, dir_domain_add(e->dir, "b.test", cb_, arg_,
	                                     &err_)) == 0);
	TEST_ASSERT(DIR_DO(e, dir_account_add(e->dir, "Alice@a.test", "Alice",
	                                      0, "", cb_, arg_, &err_)) == 0);
	TEST_ASSERT(DIR_DO(e, dir_account_add(e->dir, "bob@a.test", NULL, 1000,
	                                      "", cb_, arg_, &err_)) == 0);
	TEST_ASSERT(DIR_DO(e, dir_account_add(e->dir, "carol@a.test", NULL, 0,
	                                      "", cb_, arg_, &err_)) == 0);
	TEST_ASSERT(DIR_DO(e, dir_group_add(e->dir, "team@a.test", "Team", team,
	                                    3, cb_, arg_, &err_)) == 0);
	TEST_ASSERT(DIR_DO(e, dir_group_add(e->dir, "staff@a.test", NULL, staff,
	                                    3, cb_, arg_, &err_)) == 0);
	TEST_ASSERT(DIR_DO(e, dir_alias_add(e->dir, "info@a.test", info, 2, cb_,
	                                    arg_, &err_)) == 0);
}

void
test_dir_changes(void)
{
	struct dir_env e;
	struct dir_account a;
	static const char *const t[] = { "alice@a.test" };

	dir_env_open(&e, test_tmpdir());
	dir_setup(&e);
	TEST_ASSERT(dir_domain_exists(e.dir, "a.test"));
	TEST_ASSERT(dir_account_get(e.dir, "alice@a.test", &a) == 0);
	TEST_ASSERT_STREQ(a.name, "Alice");
	TEST_ASSERT(a.acct.part < 8 && a.acct.id != 0);
	/* One address, one thing; domains must exist and be free to go. */
	TEST_ASSERT(DIR_DO(&e, dir_account_add(e.dir, "info@a.test", NULL, 0,
	                   "", cb_, arg_, &err_)) == RS_ECONFLICT);
	TEST_ASSERT(DIR_DO(&e, dir_alias_add(e.dir, "alice@a.test", t, 1, cb_,
	                   arg_, &err_)) == RS_ECONFLICT);
	TEST_ASSERT(DIR_DO(&e, dir_account_add(e.dir, "x@c.test", NULL, 0, "",
	                   cb_, arg_, &err_)) == RS_ENOTFOUND);
	TEST_ASSERT(DIR_DO(&e, dir_account_add(e.dir, "bad address", NULL, 0,
	                   "", cb_, arg_, &err_)) == RS_EINVAL);
	TEST_ASSERT(DIR_DO(&e, dir_domain_add(e.dir, "a.test", cb_, arg_,
	                   &err_)) == RS_ECONFLICT);
	TEST_ASSERT(DIR_DO(&e, dir_domain_del(e.dir, "a.test", cb_, arg_,
	                   &err_)) == RS_ECONFLICT);
	TEST_ASSERT(DIR_DO(&e, dir_domain_del(e.dir, "b.test", cb_, arg_,
	                   &err_)) == 0);
	TEST_ASSERT(!dir_domain_exists(e.dir, "b.test"));
	TEST_ASSERT(DIR_DO(&e, dir_account_set_password(e.dir, "carol@a.test",
	                   "$scrypt$x", 0, cb_, arg_, &err_)) == 0);
	TEST_ASSERT(dir_account_get(e.dir, "carol@a.test", &a) == 0);
	TEST_ASSERT_STREQ(a.password, "$scrypt$x");
	TEST_ASSERT(DIR_DO(&e, dir_account_del(e.dir, "carol@a.test", cb_, arg_,
	                   &err_)) == 0);
	TEST_ASSERT(dir_account_get(e.dir, "carol@a.test", &a) == RS_ENOTFOUND);
	TEST_ASSERT(dir_count_accounts(e.dir) == 2);
	dir_env_close(&e);

	/* Everything committed is there after reopening. */
	dir_env_open(&e, e.path);
	TEST_ASSERT(dir_count_domains(e.dir) == 1);
	TEST_ASSERT(dir_count_accounts(e.dir) == 2);
	TEST_ASSERT(dir_account_get(e.dir, "alice@a.test", &a) == 0);
	dir_env_close(&e);
}

void
test_dir_resolve(void)
{
	struct dir_env e;
	static const char *const all[] = { "bob@a.test" };
	struct dir_account *out = NULL;
	size_t n = 0, cap = 0;
	struct rs_err err;

	dir_env_open(&e, test_tmpdir());
	dir_setup(&e);
	TEST_ASSERT(resolve(&e, "alice@a.test", "alice@a.test") == 0);
	TEST_ASSERT(resolve(&e, "alice+news@a.test", "alice@a.test") == 0);
	TEST_ASSERT(resolve(&e, "nobody@a.test", "") == RS_ENOTFOUND);
	TEST_ASSERT(resolve(&e, "alice@elsewhere.test", "") == RS_EPERM);
	/* team -> alice, staff -> (carol, team: cycle, foreign), bob. */
	TEST_ASSERT(resolve(&e, "team@a.test",
	                    "alice@a.test,carol@a.test,bob@a.test") == 0);
	TEST_ASSERT(resolve(&e, "staff@a.test",
	                    "carol@a.test,alice@a.test,bob@a.test") == 0);
	TEST_ASSERT(resolve(&e, "info+x@a.test",
	                    "alice@a.test,carol@a.test,bob@a.test") == 0);
	/* One list per transaction: later recipients add only new accounts. */
	TEST_ASSERT(dir_resolve(e.dir, "bob@a.test", &out, &n, &cap, &err) == 0);
	TEST_ASSERT(dir_resolve(e.dir, "team@a.test", &out, &n, &cap,
	                        &err) == 0);
	TEST_ASSERT(n == 3);
	free(out);
	/* The catch-all takes what nothing else does. */
	TEST_ASSERT(DIR_DO(&e, dir_alias_add(e.dir, "@a.test", all, 1, cb_, arg_,
	                   &err_)) == 0);
	TEST_ASSERT(resolve(&e, "nobody@a.test", "bob@a.test") == 0);
	TEST_ASSERT(resolve(&e, "alice@a.test", "alice@a.test") == 0);
	dir_env_close(&e);
}
