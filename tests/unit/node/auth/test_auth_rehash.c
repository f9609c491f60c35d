/* test_auth_rehash.c: a login that verifies an imported password hash
 * turns it into scrypt, and a password changed meanwhile wins. A real
 * directory on the embedded backend, a worker pool, the auth module. */
#include <stdlib.h>
#include <unistd.h>

#include "lib/rs_config.h"
#include "node/auth/auth.h"
#include "node/auth/passwd.h"
#include "node/core/node_ctx.h"
#include "node/core/worker.h"
#include "tests/unit/node/dir/dir_test_env.h"
#include "tests/unit/test.h"

#define SSHA512_SECRET "{SSHA512}KO8EsMPQTwZrxxbOkDAOOXEeVCc2grMQg1pnZwZhC" \
	"1bBQLby8zCmFn7qTZRvoTd+yQdROQQNYHWpTUST4zjTdQECAwQFBgcI"

struct auth_env {
	struct dir_env      de;
	struct rs_config   *cfg;
	struct worker_pool *wp;
	struct node_ctx     n;
	struct auth        *auth;
};

struct login {
	int done;
	int rc;
};

static void
login_done(void *arg, int rc, const struct auth_result *r)
{
	struct login *l = arg;

	(void)r;
	l->done = 1;
	l->rc = rc;
}

static void
auth_env_open(struct auth_env *e)
{
	dir_env_open(&e->de, test_tmpdir());
	e->cfg = rs_config_new();
	rs_config_put(e->cfg, "password_scrypt_ln", "10");
	rs_config_put(e->cfg, "auth.failure_delay", "0");
	e->wp = worker_pool_new(1);
	e->n = (struct node_ctx){
		.base = e->de.base, .exec = loop_exec_exec(e->de.le),
		.store = e->de.st, .dir = e->de.dir, .cfg = e->cfg,
	};
	e->auth = auth_new(&e->n, e->wp);
	TEST_ASSERT(DIR_DO(&e->de, dir_domain_add(e->de.dir, "a.test", cb_,
	                                          arg_, &err_)) == 0);
}

static void
auth_env_close(struct auth_env *e)
{
	auth_free(&e->auth);
	worker_pool_free(&e->wp);
	dir_env_close(&e->de);
	rs_config_free(&e->cfg);
}

static int
login(struct auth_env *e, const char *user, const char *pw)
{
	struct login l = { 0 };
	struct rs_err err;

	TEST_ASSERT(auth_check_password(e->auth, user, pw, strlen(pw),
	                                "192.0.2.1", login_done, &l, &err) == 0);
	while (!l.done)
		event_base_loop(e->de.base, EVLOOP_ONCE);
	return l.rc;
}

/* Runs the loop until the account's password has the scheme want. */
static void
wait_scheme(struct auth_env *e, const char *addr, const char *want)
{
	struct dir_account a;

	for (int i = 0; i < 2000; i++) {
		if (dir_account_get(e->de.dir, addr, &a) == 0 &&
		    strcmp(passwd_scheme(a.password), want) == 0)
			return;
		event_base_loop(e->de.base, EVLOOP_NONBLOCK | EVLOOP_ONCE);
		usleep(1000);
	}
	test_fail(__FILE__, __LINE__, "%s: scheme is not %s", addr, want);
}

void
test_auth_rehash(void)
{
	struct auth_env e;
	struct dir_account a;

	auth_env_open(&e);
	TEST_ASSERT(DIR_DO(&e.de, dir_account_add(e.de.dir, "x@a.test", NULL,
	                   0, SSHA512_SECRET, cb_, arg_, &err_)) == 0);
	TEST_ASSERT_INTEQ(login(&e, "x@a.test", "wrong"), RS_EPERM);
	TEST_ASSERT(dir_account_get(e.de.dir, "x@a.test", &a) == 0);
	TEST_ASSERT_STREQ(a.password, SSHA512_SECRET);
	TEST_ASSERT_INTEQ(login(&e, "X@a.test", "secret"), 0);
	wait_scheme(&e, "x@a.test", "scrypt");
	/* The new hash holds the same password, and only that. */
	TEST_ASSERT_INTEQ(login(&e, "x@a.test", "secret"), 0);
	TEST_ASSERT_INTEQ(login(&e, "x@a.test", "secreT"), RS_EPERM);
	TEST_ASSERT(dir_account_get(e.de.dir, "x@a.test", &a) == 0);
	TEST_ASSERT(passwd_verify(a.password, "secret", 6));
	auth_env_close(&e);
}

void
test_auth_rehash_loses(void)
{
	struct auth_env e;
	struct dir_account a;
	struct login l = { 0 };
	struct rs_err err;

	auth_env_open(&e);
	TEST_ASSERT(DIR_DO(&e.de, dir_account_add(e.de.dir, "y@a.test", NULL,
	                   0, "{PLAIN}secret", cb_, arg_, &err_)) == 0);
	/* The login reads the record; an admin changes the password before
	 * the login's rewrite: the admin's password stays. */
	TEST_ASSERT(auth_check_password(e.auth, "y@a.test", "secret", 6,
	                                "192.0.2.1", login_done, &l, &err) == 0);
	TEST_ASSERT(DIR_DO(&e.de, dir_account_set_password(e.de.dir,
	                   "y@a.test", "{PLAIN}admin", 0, cb_, arg_,
	                   &err_)) == 0);
	while (!l.done)
		event_base_loop(e.de.base, EVLOOP_ONCE);
	TEST_ASSERT_INTEQ(l.rc, 0);
	for (int i = 0; i < 50; i++) {
		event_base_loop(e.de.base, EVLOOP_NONBLOCK | EVLOOP_ONCE);
		usleep(1000);
	}
	TEST_ASSERT(dir_account_get(e.de.dir, "y@a.test", &a) == 0);
	TEST_ASSERT_STREQ(a.password, "{PLAIN}admin");
	TEST_ASSERT_INTEQ(login(&e, "y@a.test", "admin"), 0);
	wait_scheme(&e, "y@a.test", "scrypt");
	auth_env_close(&e);
}
