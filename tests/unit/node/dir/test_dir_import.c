/* test_dir_import.c: bulk account creation (dir_accounts_import): the
 * outcome of each account, batches, domains created on the way, a batch
 * that loses a compare, the cluster's placement guard; and the password
 * rewrite against the record a reader saw (dir_account_set_password). */
#include <stdio.h>
#include <stdlib.h>

#include "cluster/coord.h"
#include "tests/unit/node/dir/dir_test_env.h"
#include "tests/unit/test.h"

#define NGEN 100

/* Runs one import to the end; returns how many accounts it created. */
static size_t
import_run(struct dir_env *e, struct dir_import *v, size_t n, bool create)
{
	struct dir_wait w = { e->base, 0, 0 };
	struct rs_err err;
	size_t created = 0;

	for (size_t i = 0; i < n; i++)
		v[i].rc = 1;            /* every outcome must be written */
	TEST_ASSERT(dir_accounts_import(e->dir, v, n, create, dir_wait_cb, &w,
	                                &err) == 0);
	TEST_ASSERT(dir_wait_run(e, &w) == 0);
	for (size_t i = 0; i < n; i++) {
		TEST_ASSERT_IDX(v[i].rc <= 0, i);
		TEST_ASSERT_IDX(v[i].rc == 0 || v[i].err.msg[0] != '\0', i);
		created += v[i].rc == 0;
	}
	return created;
}

void
test_dir_import(void)
{
	static char addrs[NGEN][32];
	struct dir_import v[NGEN + 6] = {
		{ .addr = "Bob@A.test", .password_hash = "{PLAIN}x" },
		{ .addr = "carol@a.test", .name = "Carol", .quota = 1000,
		  .password_hash = "$6$x$y" },
		{ .addr = "alice@a.test", .password_hash = "{PLAIN}taken" },
		{ .addr = "bad address", .password_hash = "{PLAIN}x" },
		{ .addr = "x@nodomain.test", .password_hash = "{PLAIN}x" },
		{ .addr = "BOB@a.test", .password_hash = "{PLAIN}twice" },
	};
	struct dir_account a;
	struct dir_env e;

	dir_env_open(&e, test_tmpdir());
	TEST_ASSERT(DIR_DO(&e, dir_domain_add(e.dir, "a.test", cb_, arg_,
	                                      &err_)) == 0);
	TEST_ASSERT(DIR_DO(&e, dir_account_add(e.dir, "alice@a.test", NULL, 0,
	                                       "", cb_, arg_, &err_)) == 0);
	/* Enough accounts for several transactions. */
	for (size_t i = 0; i < NGEN; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "user%zu@a.test", i);
		v[6 + i] = (struct dir_import){ .addr = addrs[i],
		                                .password_hash = "{SHA}abc" };
	}
	TEST_ASSERT_INTEQ(import_run(&e, v, NGEN + 6, false), NGEN + 2);
	TEST_ASSERT_INTEQ(v[0].rc, 0);
	TEST_ASSERT_INTEQ(v[1].rc, 0);
	TEST_ASSERT_INTEQ(v[2].rc, RS_ECONFLICT);
	TEST_ASSERT(strstr(v[2].err.msg, "exists already") != NULL);
	TEST_ASSERT_INTEQ(v[3].rc, RS_EINVAL);
	TEST_ASSERT_INTEQ(v[4].rc, RS_ENOTFOUND);
	TEST_ASSERT(strstr(v[4].err.msg, "no domain nodomain.test") != NULL);
	TEST_ASSERT_INTEQ(v[5].rc, RS_ECONFLICT);
	TEST_ASSERT(strstr(v[5].err.msg, "listed twice") != NULL);
	TEST_ASSERT(dir_account_get(e.dir, "bob@a.test", &a) == 0);
	TEST_ASSERT_STREQ(a.password, "{PLAIN}x");
	TEST_ASSERT(dir_account_get(e.dir, "carol@a.test", &a) == 0);
	TEST_ASSERT_STREQ(a.name, "Carol");
	TEST_ASSERT_INTEQ(a.quota, 1000);
	TEST_ASSERT(a.acct.part < 8 && a.acct.id != 0);
	/* The existing account was skipped, not overwritten. */
	TEST_ASSERT(dir_account_get(e.dir, "alice@a.test", &a) == 0);
	TEST_ASSERT_STREQ(a.password, "");
	TEST_ASSERT_INTEQ(dir_count_accounts(e.dir), NGEN + 3);

	/* Importing the same again creates nothing. */
	TEST_ASSERT_INTEQ(import_run(&e, v + 6, NGEN, false), 0);
	for (size_t i = 0; i < NGEN; i++)
		TEST_ASSERT_IDX(v[6 + i].rc == RS_ECONFLICT, i);
	dir_env_close(&e);

	dir_env_open(&e, e.path);
	TEST_ASSERT_INTEQ(dir_count_accounts(e.dir), NGEN + 3);
	TEST_ASSERT(dir_account_get(e.dir, "user99@a.test", &a) == 0);
	TEST_ASSERT_STREQ(a.password, "{SHA}abc");
	dir_env_close(&e);
}

void
test_dir_import_domains(void)
{
	struct dir_import v[] = {
		{ .addr = "a@new1.test", .password_hash = "{PLAIN}x" },
		{ .addr = "b@NEW1.test", .password_hash = "{PLAIN}x" },
		{ .addr = "c@new2.test", .password_hash = "{PLAIN}x" },
	};
	struct dir_env e;

	dir_env_open(&e, test_tmpdir());
	TEST_ASSERT_INTEQ(import_run(&e, v, 3, false), 0);
	TEST_ASSERT_INTEQ(dir_count_domains(e.dir), 0);
	TEST_ASSERT_INTEQ(import_run(&e, v, 3, true), 3);
	TEST_ASSERT(dir_domain_exists(e.dir, "new1.test"));
	TEST_ASSERT(dir_domain_exists(e.dir, "new2.test"));
	TEST_ASSERT_INTEQ(dir_count_accounts(e.dir), 3);
	dir_env_close(&e);
}

static void
raw_txn_done(void *arg, int rc, const struct rs_err *err, int64_t rev)
{
	int *rc_r = arg;

	(void)err;
	(void)rev;
	*rc_r = rc;
}

/* Another writer creates an account the copy does not show yet: the
 * batch holding it loses its compare, and is redone one account at a
 * time, so only that address fails. */
void
test_dir_import_conflict(void)
{
	static char addrs[40][32];
	struct dir_import v[40];
	static const char rec[] = "{\"created\":1,\"id\":\"00000000000000aa\","
	                          "\"name\":\"\",\"partition\":1,\"password\":\"\","
	                          "\"quota\":0}";
	struct coord_op op = { COORD_OP_PUT, "/roost/t/dir/accounts/u7@a.test",
	                       rec, sizeof(rec) - 1, 0 };
	struct dir_account a;
	struct dir_env e;
	struct rs_err err;
	int raw_rc = 1;

	dir_env_open(&e, test_tmpdir());
	TEST_ASSERT(DIR_DO(&e, dir_domain_add(e.dir, "a.test", cb_, arg_,
	                                      &err_)) == 0);
	for (size_t i = 0; i < 40; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "u%zu@a.test", i);
		v[i] = (struct dir_import){ .addr = addrs[i],
		                            .password_hash = "{PLAIN}x" };
	}
	/* Queued before the import; the loop has not run, so the copy does
	 * not know u7 when the import plans its first batch. */
	TEST_ASSERT(coord_txn(e.coord, NULL, 0, &op, 1, raw_txn_done, &raw_rc,
	                      &err) == 0);
	TEST_ASSERT_INTEQ(import_run(&e, v, 40, false), 39);
	TEST_ASSERT_INTEQ(raw_rc, 0);
	TEST_ASSERT_INTEQ(v[7].rc, RS_ECONFLICT);
	TEST_ASSERT(dir_account_get(e.dir, "u7@a.test", &a) == 0);
	TEST_ASSERT_INTEQ(a.acct.id, 0xaa);
	TEST_ASSERT_INTEQ(dir_count_accounts(e.dir), 40);
	dir_env_close(&e);
}

/* A fake cluster guard: the compare that partitions/<p> is absent, the
 * put of used/<p>; counts its calls. */
struct fake_guard {
	char     cmp_key[64], op_key[64];
	unsigned calls;
};

static int
fake_guard_part(void *arg, uint32_t part, struct coord_cmp *cmp_r,
                struct coord_op *op_r, struct rs_err *err)
{
	struct fake_guard *g = arg;

	(void)err;
	g->calls++;
	snprintf(g->cmp_key, sizeof(g->cmp_key), "/roost/t/partitions/%u", part);
	snprintf(g->op_key, sizeof(g->op_key), "/roost/t/used/%u", part);
	*cmp_r = (struct coord_cmp){ g->cmp_key, 0 };
	*op_r = (struct coord_op){ COORD_OP_PUT, g->op_key, "{}", 2, 0 };
	return 0;
}

static void
count_used(void *arg, int rc, const struct rs_err *err,
           const struct coord_kv *kvs, size_t n, int64_t rev)
{
	int *n_r = arg;

	(void)rc;
	(void)err;
	(void)kvs;
	(void)rev;
	*n_r = (int)n;
}

void
test_dir_import_guard(void)
{
	static char addrs[60][32];
	struct dir_import v[60];
	struct fake_guard fg = { 0 };
	struct dir_guard g = { fake_guard_part, &fg };
	struct dir_env e;
	struct rs_err err;
	int used = -1;

	dir_env_open(&e, test_tmpdir());
	dir_set_guard(e.dir, &g);
	TEST_ASSERT(DIR_DO(&e, dir_domain_add(e.dir, "a.test", cb_, arg_,
	                                      &err_)) == 0);
	for (size_t i = 0; i < 60; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "g%zu@a.test", i);
		v[i] = (struct dir_import){ .addr = addrs[i],
		                            .password_hash = "{PLAIN}x" };
	}
	TEST_ASSERT_INTEQ(import_run(&e, v, 60, false), 60);
	/* Once per partition and transaction: 60 accounts, 8 partitions, at
	 * most 15 accounts (60 compares) a transaction. */
	TEST_ASSERT(fg.calls >= 8 && fg.calls <= 8 * 5);
	TEST_ASSERT(coord_range(e.coord, "/roost/t/used/", count_used, &used,
	                        &err) == 0);
	while (used < 0)
		event_base_loop(e.base, EVLOOP_ONCE);
	TEST_ASSERT_INTEQ(used, 8);
	dir_env_close(&e);
}

/* A rewrite against the record a reader saw loses to a change made
 * since. */
void
test_dir_set_password_rev(void)
{
	struct dir_account a, b;
	struct dir_env e;

	dir_env_open(&e, test_tmpdir());
	TEST_ASSERT(DIR_DO(&e, dir_domain_add(e.dir, "a.test", cb_, arg_,
	                                      &err_)) == 0);
	TEST_ASSERT(DIR_DO(&e, dir_account_add(e.dir, "x@a.test", NULL, 0,
	                                       "{PLAIN}old", cb_, arg_,
	                                       &err_)) == 0);
	TEST_ASSERT(dir_account_get(e.dir, "x@a.test", &a) == 0);
	TEST_ASSERT(a.rev > 0);
	TEST_ASSERT(DIR_DO(&e, dir_account_set_password(e.dir, "x@a.test",
	                   "{PLAIN}admin", 0, cb_, arg_, &err_)) == 0);
	TEST_ASSERT(DIR_DO(&e, dir_account_set_password(e.dir, "x@a.test",
	                   "$scrypt$late", a.rev, cb_, arg_, &err_)) ==
	            RS_ECONFLICT);
	TEST_ASSERT(dir_account_get(e.dir, "x@a.test", &b) == 0);
	TEST_ASSERT_STREQ(b.password, "{PLAIN}admin");
	TEST_ASSERT(DIR_DO(&e, dir_account_set_password(e.dir, "x@a.test",
	                   "$scrypt$now", b.rev, cb_, arg_, &err_)) == 0);
	TEST_ASSERT(dir_account_get(e.dir, "x@a.test", &b) == 0);
	TEST_ASSERT_STREQ(b.password, "$scrypt$now");
	dir_env_close(&e);
}
