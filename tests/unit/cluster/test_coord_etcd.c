/* test_coord_etcd.c: the etcd backend's calls against a real etcd: put,
 * get and range (paged), txn compares, leases (keepalive, revoke,
 * expiry), and etcd over TLS with authentication. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/coord_etcd.h"
#include "lib/rs_mem.h"
#include "tests/unit/cluster/test_coord_etcd_util.h"
#include "tests/unit/test.h"

void
test_coord_etcd_put_get(void)
{
	static const uint8_t bin[] = { 0, 1, 2, 0xff, '\n', 0 };
	struct t_env e;
	struct t_res r;
	struct coord_op op = { COORD_OP_PUT, "/g/bin", bin, sizeof(bin), 0 };
	char *big = rs_xcalloc(1, COORD_VALUE_MAX + 2);
	char longkey[COORD_KEY_MAX + 2];
	int64_t rev1 = 0, rev2 = 0, rev3 = 0;

	if (!t_env_open(&e, false, NULL))
		goto out;
	TEST_ASSERT(coord_state(e.coord) == COORD_DOWN);  /* nothing asked */
	TEST_ASSERT(t_put(e.base, e.coord, "/g/a", "1", 0, &rev1) == 0);
	TEST_ASSERT(coord_state(e.coord) == COORD_UP);
	TEST_ASSERT(t_put(e.base, e.coord, "/g/b", "", 0, &rev2) == 0);
	TEST_ASSERT(t_txn(e.base, e.coord, NULL, 0, &op, 1, &rev3) == 0);
	TEST_ASSERT(rev1 > 0 && rev2 == rev1 + 1 && rev3 == rev2 + 1);
	TEST_ASSERT(t_put(e.base, e.coord, "/h/other", "x", 0, NULL) == 0);

	TEST_ASSERT(t_get(e.base, e.coord, "/g/a", &r) == 0);
	TEST_ASSERT_INTEQ(r.n, 1);
	if (r.n == 1) {
		TEST_ASSERT_STREQ(r.keys[0], "/g/a");
		TEST_ASSERT_STREQ(r.vals[0], "1");
		TEST_ASSERT_INTEQ(r.mods[0], rev1);
		TEST_ASSERT_INTEQ(r.creates[0], rev1);
	}
	TEST_ASSERT_INTEQ(r.rev, rev3 + 1);
	t_res_free(&r);
	TEST_ASSERT(t_get(e.base, e.coord, "/g/missing", &r) == 0);
	TEST_ASSERT_INTEQ(r.n, 0);
	t_res_free(&r);
	TEST_ASSERT(t_get(e.base, e.coord, "/g", &r) == 0);   /* not a prefix */
	TEST_ASSERT_INTEQ(r.n, 0);
	t_res_free(&r);

	TEST_ASSERT(t_range(e.base, e.coord, "/g/", &r) == 0);
	TEST_ASSERT_INTEQ(r.n, 3);
	if (r.n == 3) {
		TEST_ASSERT_STREQ(r.keys[0], "/g/a");
		TEST_ASSERT_STREQ(r.keys[1], "/g/b");
		TEST_ASSERT_STREQ(r.vals[1], "");
		TEST_ASSERT_STREQ(r.keys[2], "/g/bin");
		TEST_ASSERT(memcmp(r.vals[2], bin, sizeof(bin)) == 0);
	}
	t_res_free(&r);
	TEST_ASSERT(t_range(e.base, e.coord, "", &r) == 0);   /* everything */
	TEST_ASSERT_INTEQ(r.n, 4);
	t_res_free(&r);

	/* Refused before any request. */
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	TEST_ASSERT(t_get(e.base, e.coord, longkey, &r) == RS_ETOOBIG);
	TEST_ASSERT(t_put(e.base, e.coord, longkey, "v", 0, NULL) ==
	            RS_ETOOBIG);
	memset(big, 'v', COORD_VALUE_MAX + 1);
	TEST_ASSERT(t_put(e.base, e.coord, "/g/big", big, 0, NULL) ==
	            RS_ETOOBIG);
	TEST_ASSERT(t_get(e.base, e.coord, "", &r) == RS_EINVAL);
	/* The largest value goes through. */
	big[COORD_VALUE_MAX] = '\0';
	TEST_ASSERT(t_put(e.base, e.coord, "/g/big", big, 0, NULL) == 0);
	TEST_ASSERT(t_get(e.base, e.coord, "/g/big", &r) == 0);
	TEST_ASSERT(r.n == 1 && strlen(r.vals[0]) == COORD_VALUE_MAX);
	t_res_free(&r);
out:
	free(big);
	t_env_close(&e);
}

/* 5,000 keys in pages of 100: all of them, in order, at one revision. */
void
test_coord_etcd_range_pages(void)
{
	enum { NKEYS = 5000, BATCH = COORD_TXN_MAX };
	struct coord_etcd_opts o = { 0 };
	struct t_env e;
	struct t_res r, txns[NKEYS / BATCH + 1];
	struct coord_op ops[BATCH];
	char keys[BATCH][32];
	const char *eps[1];
	size_t ntx = 0;
	bool ok = true;

	memset(txns, 0, sizeof(txns));
	memset(&e, 0, sizeof(e));
	e.base = event_base_new();
	o.endpoints = eps;
	o.nendpoints = 1;
	o.page_size = 100;
	if (!etcd_harness_start(&e.h, false, 0))
		goto out;
	eps[0] = e.h.url;
	TEST_ASSERT(coord_etcd_new(e.base, &o, &e.coord, NULL) == 0);
	/* Every batch in flight at once: the multi handle runs them. */
	for (int k = 0; k < NKEYS; ntx++) {
		size_t n = 0;

		for (; n < BATCH && k < NKEYS; n++, k++) {
			snprintf(keys[n], sizeof(keys[n]), "/p/%05d", k);
			ops[n] = (struct coord_op){ COORD_OP_PUT, keys[n], keys[n],
			                            strlen(keys[n]), 0 };
		}
		TEST_ASSERT(coord_txn(e.coord, NULL, 0, ops, n, t_txn_cb,
		                      &txns[ntx], NULL) == 0);
	}
	for (size_t i = 0; i < ntx; i++) {
		TEST_ASSERT(t_run(e.base, t_res_done, &txns[i], T_WAIT_MS));
		TEST_ASSERT_IDX(txns[i].rc == 0, i);
	}
	TEST_ASSERT(t_put(e.base, e.coord, "/p0", "outside", 0, NULL) == 0);
	TEST_ASSERT(t_range(e.base, e.coord, "/p/", &r) == 0);
	TEST_ASSERT_INTEQ(r.n, NKEYS);
	for (size_t i = 0; i < r.n && ok; i++) {
		char want[32];

		snprintf(want, sizeof(want), "/p/%05zu", i);
		ok = strcmp(r.keys[i], want) == 0 && strcmp(r.vals[i], want) == 0;
		TEST_ASSERT_IDX(ok, i);
	}
	TEST_ASSERT_INTEQ(r.rev, (int64_t)ntx + 2);
	t_res_free(&r);
out:
	t_env_close(&e);
}

void
test_coord_etcd_txn(void)
{
	struct t_env e;
	struct t_res r;
	struct coord_op put_a = { COORD_OP_PUT, "/t/a", "1", 1, 0 };
	struct coord_op two[2] = {
		{ COORD_OP_PUT, "/t/a", "2", 1, 0 },
		{ COORD_OP_PUT, "/t/b", "2", 1, 0 },
	};
	struct coord_op del[2] = {
		{ COORD_OP_DELETE, "/t/a", NULL, 0, 0 },
		{ COORD_OP_DELETE, "/t/nothing", NULL, 0, 0 },
	};
	struct coord_op many[COORD_TXN_MAX + 1];
	struct coord_cmp absent = { "/t/a", 0 }, cmp;
	int64_t rev1 = 0, rev2 = 0, rev3 = 0, rev = 0;

	if (!t_env_open(&e, false, NULL))
		goto out;
	TEST_ASSERT(t_txn(e.base, e.coord, &absent, 1, &put_a, 1, &rev1) == 0);
	TEST_ASSERT(rev1 > 0);
	/* Created only once: the second create conflicts. */
	TEST_ASSERT(t_txn(e.base, e.coord, &absent, 1, &put_a, 1, &rev) ==
	            RS_ECONFLICT);
	TEST_ASSERT_INTEQ(rev, 0);
	cmp = (struct coord_cmp){ "/t/a", rev1 + 100 };
	TEST_ASSERT(t_txn(e.base, e.coord, &cmp, 1, two, 2, NULL) ==
	            RS_ECONFLICT);
	cmp.mod_rev = rev1;
	TEST_ASSERT(t_txn(e.base, e.coord, &cmp, 1, two, 2, &rev2) == 0);
	TEST_ASSERT_INTEQ(rev2, rev1 + 1);
	TEST_ASSERT(t_range(e.base, e.coord, "/t/", &r) == 0);
	TEST_ASSERT(r.n == 2 && r.mods[0] == rev2 && r.mods[1] == rev2 &&
	            r.creates[0] == rev1 && r.creates[1] == rev2);
	TEST_ASSERT(r.n == 2 && strcmp(r.vals[0], "2") == 0);
	t_res_free(&r);
	/* The old revision no longer matches; the new one deletes. */
	TEST_ASSERT(t_txn(e.base, e.coord, &cmp, 1, del, 2, NULL) ==
	            RS_ECONFLICT);
	cmp.mod_rev = rev2;
	TEST_ASSERT(t_txn(e.base, e.coord, &cmp, 1, del, 2, &rev3) == 0);
	TEST_ASSERT_INTEQ(rev3, rev2 + 1);
	TEST_ASSERT(t_get(e.base, e.coord, "/t/a", &r) == 0);
	TEST_ASSERT_INTEQ(r.n, 0);
	t_res_free(&r);
	/* Sizes refused synchronously. */
	for (size_t i = 0; i < COORD_TXN_MAX + 1; i++)
		many[i] = put_a;
	TEST_ASSERT(t_txn(e.base, e.coord, NULL, 0, many, COORD_TXN_MAX + 1,
	                  NULL) == RS_EINVAL);
	TEST_ASSERT(t_txn(e.base, e.coord, NULL, 0, many, 0, NULL) ==
	            RS_EINVAL);
	/* etcd refuses a key twice in one txn: its error comes through. */
	TEST_ASSERT(t_txn(e.base, e.coord, NULL, 0, many, 2, NULL) ==
	            RS_EINVAL);
out:
	t_env_close(&e);
}

static int
t_lease(struct t_env *e, int what, int64_t arg, struct t_res *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if (what == 0)
		rc = coord_lease_grant(e->coord, arg, t_lease_cb, r, &r->err);
	else if (what == 1)
		rc = coord_lease_keepalive(e->coord, arg, t_lease_cb, r, &r->err);
	else
		rc = coord_lease_revoke(e->coord, arg, t_txn_cb, r, &r->err);
	if (rc != 0)
		return r->err.code;
	TEST_ASSERT(t_run(e->base, t_res_done, r, T_WAIT_MS));
	return r->rc;
}

void
test_coord_etcd_lease(void)
{
	struct t_env e;
	struct t_res r;
	struct t_watch w;
	int64_t l1, l2, rev = 0;

	t_watch_init(&w);
	if (!t_env_open(&e, false, NULL))
		goto out;
	TEST_ASSERT(t_lease(&e, 0, 0, &r) == RS_EINVAL);
	TEST_ASSERT(t_lease(&e, 0, 2, &r) == 0);
	l1 = r.id;
	TEST_ASSERT(l1 > 0 && r.ttl >= 2);
	TEST_ASSERT(t_lease(&e, 0, 60, &r) == 0);
	l2 = r.id;
	TEST_ASSERT(l2 > 0 && l2 != l1 && r.ttl >= 60);
	TEST_ASSERT(t_put(e.base, e.coord, "/l/short", "1", l1, &rev) == 0);
	TEST_ASSERT(t_put(e.base, e.coord, "/l/long", "2", l2, NULL) == 0);
	TEST_ASSERT(t_lease(&e, 1, l2, &r) == 0);
	TEST_ASSERT(r.id == l2 && r.ttl > 50);
	/* A put with a lease that does not exist is etcd's error. */
	TEST_ASSERT(t_put(e.base, e.coord, "/l/x", "1", 12345, NULL) ==
	            RS_ENOTFOUND);

	/* Revoke deletes its key; then the lease is gone. */
	TEST_ASSERT(t_lease(&e, 2, l2, &r) == 0);
	TEST_ASSERT(t_get(e.base, e.coord, "/l/long", &r) == 0);
	TEST_ASSERT_INTEQ(r.n, 0);
	t_res_free(&r);
	TEST_ASSERT(t_lease(&e, 1, l2, &r) == RS_ENOTFOUND);
	TEST_ASSERT(t_lease(&e, 2, l2, &r) == RS_ENOTFOUND);

	/* Unrenewed, the 2 s lease expires and takes its key along. */
	TEST_ASSERT(coord_watch(e.coord, "/l/short", rev, t_watch_cb, NULL, &w,
	                        NULL) == 0);
	TEST_ASSERT(t_watch_until(e.base, &w, rev + 1));
	TEST_ASSERT(w.events == 1 && strstr(t_watch_log(&w), " D:/l/short"));
	TEST_ASSERT(t_lease(&e, 1, l1, &r) == RS_ENOTFOUND);
out:
	t_env_close(&e);
	t_watch_free(&w);
}

/* https with a client certificate, etcd's users, and a token that
 * expires between two calls. */
void
test_coord_etcd_tls_auth(void)
{
	struct coord_etcd_opts o = { 0 };
	struct t_env e;
	struct t_res r;
	struct t_watch w;
	struct coord *bad = NULL;
	const char *eps[1];
	char want[64];
	int64_t rev = 0;

	t_watch_init(&w);
	memset(&e, 0, sizeof(e));
	e.base = event_base_new();
	if (!etcd_harness_start(&e.h, true, 1))
		goto out;
	TEST_ASSERT(etcd_harness_auth_enable(&e.h, "s3cret"));
	eps[0] = e.h.url;
	o.endpoints = eps;
	o.nendpoints = 1;
	o.ca_file = e.h.ca;
	o.cert_file = e.h.client_cert;
	o.key_file = e.h.client_key;
	o.user = "root";
	o.password = "s3cret";
	o.request_timeout_ms = 2000;
	TEST_ASSERT(coord_etcd_new(e.base, &o, &e.coord, NULL) == 0);
	TEST_ASSERT(t_put(e.base, e.coord, "/a/k", "v", 0, &rev) == 0);
	TEST_ASSERT(coord_watch(e.coord, "/a/", rev, t_watch_cb, t_reset_cb,
	                        &w, NULL) == 0);
	TEST_ASSERT(t_get(e.base, e.coord, "/a/k", &r) == 0);
	TEST_ASSERT(r.n == 1 && strcmp(r.vals[0], "v") == 0);
	t_res_free(&r);

	/* --auth-token-ttl 1: the token dies while idle; a new one is got. */
	{
		struct t_res idle = { 0 };

		t_run(e.base, t_res_done, &idle, 2500);
	}
	TEST_ASSERT(t_put(e.base, e.coord, "/a/k", "w", 0, &rev) == 0);
	TEST_ASSERT(t_watch_until(e.base, &w, rev));
	snprintf(want, sizeof(want), "@%lld P:/a/k=w", (long long)rev);
	TEST_ASSERT_STREQ(t_watch_log(&w), want);

	o.password = "wrong";
	TEST_ASSERT(coord_etcd_new(e.base, &o, &bad, NULL) == 0);
	TEST_ASSERT(t_get(e.base, bad, "/a/k", &r) == RS_EPERM);
	t_res_free(&r);
out:
	coord_free(&bad);
	t_env_close(&e);
	t_watch_free(&w);
}

struct t_destroy {
	struct coord **cp;             /* frees *cp from its callback */
	int            calls;
};

static void
t_destroy_range_cb(void *arg, int rc, const struct rs_err *err,
                   const struct coord_kv *kvs, size_t n, int64_t rev)
{
	struct t_destroy *d = arg;

	(void)rc, (void)err, (void)kvs, (void)n, (void)rev;
	d->calls++;
	coord_free(d->cp);
}

static void
t_destroy_watch_cb(void *arg, const struct coord_event *evs, size_t n,
                   int64_t rev)
{
	struct t_destroy *d = arg;

	(void)evs, (void)n, (void)rev;
	d->calls++;
	coord_free(d->cp);
}

static bool
t_destroy_called(void *arg)
{
	return ((struct t_destroy *)arg)->calls > 0;
}

/* coord_free drops pending callbacks, also when called from one. */
void
test_coord_etcd_destroy(void)
{
	struct coord_op two[2] = {
		{ COORD_OP_PUT, "/d/a", "1", 1, 0 },
		{ COORD_OP_PUT, "/d/b", "2", 1, 0 },
	};
	struct coord_etcd_opts o = { 0 };
	struct t_env e;
	struct t_res get = { 0 }, txn = { 0 }, lease = { 0 }, later = { 0 };
	struct t_watch w;
	struct t_destroy d = { &e.coord, 0 };
	const char *eps[1];

	t_watch_init(&w);
	if (!t_env_open(&e, false, NULL))
		goto out;
	eps[0] = e.h.url;
	o.endpoints = eps;
	o.nendpoints = 1;
	/* Freed with everything in flight: nothing is called. */
	TEST_ASSERT(coord_get(e.coord, "/d/a", t_range_cb, &get, NULL) == 0);
	TEST_ASSERT(coord_txn(e.coord, NULL, 0, two, 2, t_txn_cb, &txn,
	                      NULL) == 0);
	TEST_ASSERT(coord_lease_grant(e.coord, 5, t_lease_cb, &lease,
	                              NULL) == 0);
	TEST_ASSERT(coord_watch(e.coord, "/d/", 0, t_watch_cb, t_reset_cb, &w,
	                        NULL) == 0);
	coord_free(&e.coord);
	t_run(e.base, t_res_done, &later, 300);
	TEST_ASSERT(!get.done && !txn.done && !lease.done && w.events == 0);

	/* Freed from a range's callback while others are pending (they
	 * race: whichever answers first frees the coord). */
	TEST_ASSERT(coord_etcd_new(e.base, &o, &e.coord, NULL) == 0);
	for (int i = 0; i < 4; i++)
		TEST_ASSERT(coord_range(e.coord, "/", t_destroy_range_cb, &d,
		                        NULL) == 0);
	TEST_ASSERT(t_run(e.base, t_destroy_called, &d, T_WAIT_MS));
	t_run(e.base, t_res_done, &later, 300);
	TEST_ASSERT(e.coord == NULL && d.calls == 1);

	/* Freed from a watch's first batch: the second never comes. */
	d.calls = 0;
	TEST_ASSERT(coord_etcd_new(e.base, &o, &e.coord, NULL) == 0);
	TEST_ASSERT(coord_watch(e.coord, "/d/", 0, t_destroy_watch_cb, NULL,
	                        &d, NULL) == 0);
	TEST_ASSERT(etcd_harness_put(&e.h, "/d/a", "1") > 0);
	TEST_ASSERT(etcd_harness_put(&e.h, "/d/b", "2") > 0);
	TEST_ASSERT(t_run(e.base, t_destroy_called, &d, T_WAIT_MS));
	t_run(e.base, t_res_done, &later, 300);
	TEST_ASSERT(e.coord == NULL && d.calls == 1);
out:
	t_res_free(&get);
	t_res_free(&later);
	t_env_close(&e);
	t_watch_free(&w);
}
