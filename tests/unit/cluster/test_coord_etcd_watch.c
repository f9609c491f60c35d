/* test_coord_etcd_watch.c: the etcd backend's watches and failures
 * against a real etcd: changes in order and batched per revision, etcd
 * killed and restarted mid-watch, compaction while a watch is away,
 * a dead first endpoint, and the UP/DOWN state. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/coord_etcd.h"
#include "tests/unit/cluster/test_coord_etcd_util.h"
#include "tests/unit/test.h"

static void
t_idle(struct event_base *b, unsigned ms)
{
	struct t_res never = { 0 };

	t_run(b, t_res_done, &never, ms);
}

void
test_coord_etcd_watch(void)
{
	struct coord_op two[2] = {
		{ COORD_OP_PUT, "/w/b", "2", 1, 0 },
		{ COORD_OP_PUT, "/w/c", "3", 1, 0 },
	};
	struct coord_op dels[2] = {
		{ COORD_OP_DELETE, "/w/a", NULL, 0, 0 },
		{ COORD_OP_DELETE, "/w/none", NULL, 0, 0 },
	};
	struct t_env e;
	struct t_watch w, hist, all;
	int64_t r0 = 0, r1 = 0, r2 = 0, r3 = 0, r4 = 0, r5 = 0;
	char want[256];

	t_watch_init(&w);
	t_watch_init(&hist);
	t_watch_init(&all);
	if (!t_env_open(&e, false, NULL))
		goto out;
	TEST_ASSERT(t_put(e.base, e.coord, "/x/before", "0", 0, &r0) == 0);
	TEST_ASSERT(coord_watch(e.coord, "/w/", r0, t_watch_cb, t_reset_cb, &w,
	                        NULL) == 0);
	TEST_ASSERT(coord_watch(e.coord, "", r0, t_watch_cb, NULL, &all,
	                        NULL) == 0);
	TEST_ASSERT(t_put(e.base, e.coord, "/w/a", "1", 0, &r1) == 0);
	TEST_ASSERT(t_txn(e.base, e.coord, NULL, 0, two, 2, &r2) == 0);
	TEST_ASSERT(t_put(e.base, e.coord, "/x/out", "9", 0, &r3) == 0);
	TEST_ASSERT(t_txn(e.base, e.coord, NULL, 0, dels, 2, &r4) == 0);
	TEST_ASSERT(t_put(e.base, e.coord, "/w/a", "4", 0, &r5) == 0);
	TEST_ASSERT(t_watch_until(e.base, &w, r5));
	TEST_ASSERT(t_watch_until(e.base, &all, r5));
	snprintf(want, sizeof(want),
	         "@%lld P:/w/a=1 @%lld P:/w/b=2 P:/w/c=3 @%lld D:/w/a "
	         "@%lld P:/w/a=4", (long long)r1, (long long)r2,
	         (long long)r4, (long long)r5);
	TEST_ASSERT_STREQ(t_watch_log(&w), want);
	TEST_ASSERT(w.ordered && w.nresets == 0);
	TEST_ASSERT(strstr(t_watch_log(&all), " P:/x/out=9 ") != NULL);
	TEST_ASSERT(strstr(t_watch_log(&all), "/x/before") == NULL);

	/* From the start: etcd sends the history in one answer; it still
	 * arrives one revision per callback. */
	TEST_ASSERT(coord_watch(e.coord, "/w/", 0, t_watch_cb, t_reset_cb,
	                        &hist, NULL) == 0);
	TEST_ASSERT(t_watch_until(e.base, &hist, r5));
	TEST_ASSERT_STREQ(t_watch_log(&hist), want);
	TEST_ASSERT(hist.ordered);
out:
	t_env_close(&e);
	t_watch_free(&w);
	t_watch_free(&hist);
	t_watch_free(&all);
}

/* etcd killed mid-watch: calls fail, the state goes DOWN; restarted,
 * the watch resumes with what was written while it was away, once. */
void
test_coord_etcd_restart(void)
{
	struct t_env e;
	struct t_res r;
	struct t_watch w;
	int64_t r1 = 0, r2, r3 = 0, r4;
	char want[256];

	t_watch_init(&w);
	if (!t_env_open(&e, false, NULL))
		goto out;
	TEST_ASSERT(coord_watch(e.coord, "/r/", 0, t_watch_cb, t_reset_cb, &w,
	                        NULL) == 0);
	TEST_ASSERT(t_put(e.base, e.coord, "/r/1", "1", 0, &r1) == 0);
	TEST_ASSERT(t_watch_until(e.base, &w, r1));

	etcd_harness_stop(&e.h, true);
	TEST_ASSERT(t_get(e.base, e.coord, "/r/1", &r) == RS_EUNAVAIL);
	TEST_ASSERT(r.err.msg[0] != '\0');
	TEST_ASSERT(coord_state(e.coord) == COORD_DOWN);
	t_res_free(&r);
	t_idle(e.base, 300);            /* the watch retries meanwhile */

	if (!etcd_harness_restart(&e.h))
		goto out;
	r2 = etcd_harness_put(&e.h, "/r/2", "2");  /* before it is back */
	TEST_ASSERT(r2 == r1 + 1);
	TEST_ASSERT(t_put(e.base, e.coord, "/r/3", "3", 0, &r3) == 0);
	TEST_ASSERT(coord_state(e.coord) == COORD_UP);
	TEST_ASSERT(t_watch_until(e.base, &w, r3));

	/* Once more, gently this time. */
	etcd_harness_stop(&e.h, false);
	t_idle(e.base, 200);
	if (!etcd_harness_restart(&e.h))
		goto out;
	r4 = etcd_harness_put(&e.h, "/r/4", "4");
	TEST_ASSERT(t_watch_until(e.base, &w, r4));
	snprintf(want, sizeof(want), "@%lld P:/r/1=1 @%lld P:/r/2=2 "
	         "@%lld P:/r/3=3 @%lld P:/r/4=4", (long long)r1, (long long)r2,
	         (long long)r3, (long long)r4);
	TEST_ASSERT_STREQ(t_watch_log(&w), want);
	TEST_ASSERT(w.ordered && w.nresets == 0);
out:
	t_env_close(&e);
	t_watch_free(&w);
}

static bool
t_reset_seen(void *arg)
{
	return ((struct t_watch *)arg)->nresets > 0;
}

/* Compaction while the watch is away: it cannot resume, so it reads the
 * prefix whole, hands it to reset, and streams from there. */
void
test_coord_etcd_compact(void)
{
	struct t_env e;
	struct t_watch w, noreset;
	int64_t r2 = 0, r3 = 0, r4 = 0, r7, r8;
	char want[256];

	t_watch_init(&w);
	t_watch_init(&noreset);
	if (!t_env_open(&e, false, NULL))
		goto out;
	TEST_ASSERT(coord_watch(e.coord, "/c/", 0, t_watch_cb, t_reset_cb, &w,
	                        NULL) == 0);
	TEST_ASSERT(coord_watch(e.coord, "/c/", 0, t_watch_cb, NULL, &noreset,
	                        NULL) == 0);
	TEST_ASSERT(t_put(e.base, e.coord, "/c/a", "a", 0, &r2) == 0);
	TEST_ASSERT(t_put(e.base, e.coord, "/c/b", "b", 0, &r3) == 0);
	TEST_ASSERT(t_put(e.base, e.coord, "/c/x", "x", 0, &r4) == 0);
	TEST_ASSERT(t_watch_until(e.base, &w, r4));
	TEST_ASSERT(t_watch_until(e.base, &noreset, r4));

	/* The loop does not run from here until the compaction is done. */
	etcd_harness_stop(&e.h, true);
	if (!etcd_harness_restart(&e.h))
		goto out;
	TEST_ASSERT(etcd_harness_put(&e.h, "/c/d", "d") == r4 + 1);
	TEST_ASSERT(etcd_harness_del(&e.h, "/c/a") == r4 + 2);
	r7 = etcd_harness_put(&e.h, "/o/ther", "o");
	TEST_ASSERT(r7 == r4 + 3);
	TEST_ASSERT(etcd_harness_compact(&e.h, r7));

	TEST_ASSERT(t_run(e.base, t_reset_seen, &w, T_WAIT_MS));
	snprintf(want, sizeof(want), "@%lld /c/b=b /c/d=d /c/x=x",
	         (long long)r7);
	TEST_ASSERT_STREQ((const char *)w.resets.data, want);
	r8 = etcd_harness_put(&e.h, "/c/e", "e");
	TEST_ASSERT(t_watch_until(e.base, &w, r8));
	TEST_ASSERT(t_watch_until(e.base, &noreset, r8));
	snprintf(want, sizeof(want), "@%lld P:/c/a=a @%lld P:/c/b=b "
	         "@%lld P:/c/x=x @%lld P:/c/e=e", (long long)r2, (long long)r3,
	         (long long)r4, (long long)r8);
	TEST_ASSERT_STREQ(t_watch_log(&w), want);
	TEST_ASSERT_INTEQ(w.nresets, 1);
	/* Without reset: a gap (logged), then on from what etcd kept. */
	TEST_ASSERT_STREQ(t_watch_log(&noreset), want);
out:
	t_env_close(&e);
	t_watch_free(&w);
	t_watch_free(&noreset);
}

/* The first endpoint is dead: everything goes to the second. */
void
test_coord_etcd_failover(void)
{
	struct coord_etcd_opts o = { 0 };
	struct t_env e;
	struct t_res r;
	struct t_watch w;
	char dead[64];
	const char *eps[2];
	int64_t rev = 0, rev2 = 0;

	t_watch_init(&w);
	memset(&e, 0, sizeof(e));
	e.base = event_base_new();
	if (!etcd_harness_start(&e.h, false, 0))
		goto out;
	snprintf(dead, sizeof(dead), "http://127.0.0.1:%d",
	         etcd_harness_free_port());
	eps[0] = dead;
	eps[1] = e.h.url;
	o.endpoints = eps;
	o.nendpoints = 2;
	o.request_timeout_ms = 1000;
	TEST_ASSERT(coord_etcd_new(e.base, &o, &e.coord, NULL) == 0);
	TEST_ASSERT(coord_watch(e.coord, "/f/", 0, t_watch_cb, t_reset_cb, &w,
	                        NULL) == 0);
	/* No compares, but refused connections sent nothing: retried. */
	TEST_ASSERT(t_put(e.base, e.coord, "/f/a", "1", 0, &rev) == 0);
	TEST_ASSERT(coord_state(e.coord) == COORD_UP);
	TEST_ASSERT(t_get(e.base, e.coord, "/f/a", &r) == 0);
	TEST_ASSERT(r.n == 1 && strcmp(r.vals[0], "1") == 0);
	t_res_free(&r);
	TEST_ASSERT(t_put(e.base, e.coord, "/f/b", "2", 0, &rev2) == 0);
	TEST_ASSERT(t_watch_until(e.base, &w, rev2));
	TEST_ASSERT(w.events == 2 && w.ordered);

	/* Both dead: DOWN; one back: UP. */
	etcd_harness_stop(&e.h, true);
	TEST_ASSERT(t_get(e.base, e.coord, "/f/a", &r) == RS_EUNAVAIL);
	TEST_ASSERT(coord_state(e.coord) == COORD_DOWN);
	t_res_free(&r);
	if (!etcd_harness_restart(&e.h))
		goto out;
	TEST_ASSERT(t_get(e.base, e.coord, "/f/b", &r) == 0);
	TEST_ASSERT(coord_state(e.coord) == COORD_UP);
	t_res_free(&r);
out:
	t_env_close(&e);
	t_watch_free(&w);
}
