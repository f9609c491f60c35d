/* test_coord_etcd_util.h: what the etcd backend's tests share: a real
 * etcd with a coord on a fresh event_base, a bounded loop runner, calls
 * made synchronous, and a watch recorder that writes what it got as text
 * ("@5 P:/w/a=1 D:/w/b @6 …") so a test compares one string. */
#ifndef ROOST_TESTS_UNIT_CLUSTER_TEST_COORD_ETCD_UTIL_H
#define ROOST_TESTS_UNIT_CLUSTER_TEST_COORD_ETCD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/coord.h"
#include "cluster/coord_etcd.h"
#include "lib/rs_buf.h"
#include "tests/unit/cluster/test_etcd_harness.h"

#define T_WAIT_MS 20000u           /* no wait in these tests is longer */

struct t_env {
	struct event_base  *base;
	struct etcd_harness h;
	struct coord       *coord;
};

/* The result of one call, copied out of its callback. */
struct t_res {
	bool          done;
	int           rc;
	struct rs_err err;
	int64_t       rev, id, ttl;
	size_t        n;
	char        **keys;            /* owns */
	char        **vals;            /* owns */
	int64_t      *mods;            /* owns */
	int64_t      *creates;         /* owns */
};

struct t_watch {
	struct rs_buf log;             /* owns: "@rev P:key=value D:key …" */
	struct rs_buf resets;          /* owns: "@rev key=value …" per reset */
	size_t        events, nresets;
	int64_t       last_rev;
	bool          ordered;         /* revisions only ever grew */
};

/* Starts etcd and a coord on it (opts may be NULL: defaults with a 1 s
 * request timeout). false after recording a failure. */
bool t_env_open(struct t_env *e, bool tls, const struct coord_etcd_opts *o);
void t_env_close(struct t_env *e);
/* Runs base until cond(arg) or ms passed; whether cond came true. */
bool t_run(struct event_base *base, bool (*cond)(void *), void *arg,
           unsigned ms);
bool t_res_done(void *arg);
void t_res_free(struct t_res *r);

void t_range_cb(void *arg, int rc, const struct rs_err *err,
                const struct coord_kv *kvs, size_t n, int64_t rev);
void t_txn_cb(void *arg, int rc, const struct rs_err *err, int64_t rev);
void t_lease_cb(void *arg, int rc, const struct rs_err *err, int64_t id,
                int64_t ttl);

/* Synchronous calls: the callback's rc (or the synchronous failure). */
int t_get(struct event_base *b, struct coord *c, const char *key,
          struct t_res *r);
int t_range(struct event_base *b, struct coord *c, const char *prefix,
            struct t_res *r);
int t_txn(struct event_base *b, struct coord *c, const struct coord_cmp *cmps,
          size_t ncmp, const struct coord_op *ops, size_t nops,
          int64_t *rev_r);
/* A txn putting key=value (lease 0: none), no compares. */
int t_put(struct event_base *b, struct coord *c, const char *key,
          const char *value, int64_t lease, int64_t *rev_r);

void t_watch_init(struct t_watch *w);
void t_watch_free(struct t_watch *w);
void t_watch_cb(void *arg, const struct coord_event *evs, size_t n,
                int64_t rev);
void t_reset_cb(void *arg, const struct coord_kv *kvs, size_t n,
                int64_t rev);
/* Waits until the watch saw an event of revision >= rev. */
bool t_watch_until(struct event_base *b, struct t_watch *w, int64_t rev);
/* The log as a C string. */
const char *t_watch_log(const struct t_watch *w);

#endif
