/* test_cluster.c: the cluster's records, and the control plane (view,
 * presence, election, placement) on the embedded coordination backend:
 * what etcd adds (expiry, several processes) is covered by the
 * integration tests against a real etcd. */
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "cluster/cluster_rec.h"
#include "cluster/controller.h"
#include "cluster/coord_local.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "node/core/loop_exec.h"
#include "storage/store.h"
#include "tests/unit/test.h"

void
test_cluster_rec(void)
{
	static const struct {
		const char *json;
		int         want_rc;
		int64_t     want_epoch;
		const char *want_primary;
		size_t      want_nreplicas;
	} cases[] = {
		{ "{\"epoch\":3,\"primary\":\"n1\",\"replicas\":[\"n1\",\"n2\"],"
		  "\"in_sync\":[\"n1\"]}", 0, 3, "n1", 2 },
		{ "{\"epoch\":1,\"primary\":\"\"}", 0, 1, "", 0 },
		{ "{\"epoch\":0,\"primary\":\"n1\"}", -1, 0, "", 0 },
		{ "{\"primary\":\"n1\"}", -1, 0, "", 0 },
		{ "{\"epoch\":1,\"primary\":\"N1\"}", -1, 0, "", 0 },
		{ "{\"epoch\":1,\"primary\":\"n1\",\"replicas\":\"n1\"}", -1, 0,
		  "", 0 },
		{ "{\"epoch\":1,\"primary\":\"n1\",\"replicas\":[1]}", -1, 0, "",
		  0 },
		{ "[1,2]", -1, 0, "", 0 },
		{ "{\"epoch\":1,\"epoch\":2}", -1, 0, "", 0 },
		{ "not json", -1, 0, "", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cluster_part p;
		struct rs_err err;
		int rc = cluster_part_parse(7, (const uint8_t *)cases[i].json,
		                            strlen(cases[i].json), &p, &err);

		TEST_ASSERT_IDX(rc == cases[i].want_rc, i);
		if (rc != 0)
			continue;
		TEST_ASSERT_IDX(p.id == 7, i);
		TEST_ASSERT_IDX(p.epoch == cases[i].want_epoch, i);
		TEST_ASSERT_IDX(strcmp(p.primary, cases[i].want_primary) == 0, i);
		TEST_ASSERT_IDX(p.nreplicas == cases[i].want_nreplicas, i);
		{
			/* What is written reads back the same. */
			char *j = cluster_part_json(&p);
			struct cluster_part q;

			TEST_ASSERT_IDX(cluster_part_parse(7, (const uint8_t *)j,
			                                   strlen(j), &q,
			                                   &err) == 0, i);
			TEST_ASSERT_IDX(memcmp(&p, &q, sizeof(p)) == 0, i);
			free(j);
		}
	}
	{
		struct cluster_config c = { .partitions = 64, .replicas = 3,
		                            .created = 5 }, d;
		struct rs_err err;
		char *j;

		memset(c.token_sha256, 'a', 64);
		for (int i = 0; i < CLUSTER_KEY_LEN; i++)
			c.peer_key[i] = (uint8_t)(i * 7);
		j = cluster_config_json(&c);
		TEST_ASSERT(cluster_config_parse((const uint8_t *)j, strlen(j), &d,
		                                 &err) == 0);
		TEST_ASSERT(memcmp(&c, &d, sizeof(c)) == 0);
		free(j);
	}
	TEST_ASSERT(cluster_rec_name_ok("node-1.a_b", CLUSTER_ID_MAX));
	TEST_ASSERT(!cluster_rec_name_ok("-node", CLUSTER_ID_MAX));
	TEST_ASSERT(!cluster_rec_name_ok("Node", CLUSTER_ID_MAX));
	TEST_ASSERT(!cluster_rec_name_ok("", CLUSTER_ID_MAX));
	TEST_ASSERT(!cluster_rec_name_ok("a/b", CLUSTER_ID_MAX));
	TEST_ASSERT_STREQ(cluster_rec_key_name("/roost/c/", "alive",
	                                       "/roost/c/alive/n1"), "n1");
	TEST_ASSERT(cluster_rec_key_name("/roost/c/", "alive",
	                                 "/roost/c/alive/") == NULL);
	TEST_ASSERT(cluster_rec_key_name("/roost/c/", "alive",
	                                 "/roost/c/aliveX/n1") == NULL);
}

/* ---- the control plane on coord_local ---- */

struct cl_env {
	struct event_base *base;
	struct loop_exec  *le;
	struct store      *st;
	struct coord      *coord;
};

struct cl_wait {
	int done, rc;
};

static void
cl_done(void *arg, int rc, const struct rs_err *err)
{
	struct cl_wait *w = arg;

	(void)err;
	w->done = 1;
	w->rc = rc;
}

static void
cl_txn_done(void *arg, int rc, const struct rs_err *err, int64_t rev)
{
	(void)rev;
	cl_done(arg, rc, err);
}

/* Runs the loop until *flag or about ms milliseconds passed. */
static void
cl_run(struct cl_env *e, const int *flag, int ms)
{
	struct timeval tv = { 0, 10000 };

	for (int i = 0; i < ms / 10 && !*flag; i++) {
		event_base_loopexit(e->base, &tv);
		event_base_dispatch(e->base);
	}
}

static void
cl_env_open(struct cl_env *e)
{
	struct store_opts so = { .path = test_tmpdir(), .sync = false };
	struct rs_err err;

	evthread_use_pthreads();
	e->base = event_base_new();
	e->le = loop_exec_new(e->base);
	if (store_open(&so, &e->st, &err) != 0) {
		test_fail(__FILE__, __LINE__, "store_open: %s", err.msg);
		abort();
	}
	e->coord = coord_local_new(e->st, loop_exec_exec(e->le));
}

static void
cl_env_close(struct cl_env *e)
{
	coord_free(&e->coord);
	store_close(&e->st);
	event_base_loop(e->base, EVLOOP_NONBLOCK);
	loop_exec_free(&e->le);
	event_base_free(e->base);
}

static int
cl_put(struct cl_env *e, const char *key, const char *value)
{
	struct coord_op op = { .type = COORD_OP_PUT, .key = key,
	                       .value = value, .len = strlen(value) };
	struct cl_wait w = { 0 };
	struct rs_err err;

	if (coord_txn(e->coord, NULL, 0, &op, 1, cl_txn_done, &w, &err) != 0)
		return -1;
	cl_run(e, &w.done, 2000);
	return w.done ? w.rc : -1;
}

static void
cl_init(struct cl_env *e, uint32_t parts)
{
	struct cluster_config c = { .partitions = parts, .replicas = 1 };
	char *j;

	memset(c.token_sha256, '0', 64);
	j = cluster_config_json(&c);
	TEST_ASSERT(cl_put(e, "/roost/t/config", j) == 0);
	free(j);
}

/* How many partitions node id is primary of. */
static unsigned
cl_count(struct cluster *c, const char *id)
{
	struct cluster_view *v = cluster_view(c);
	unsigned n = 0;

	for (uint32_t p = 0; p < cluster_view_npartitions(v); p++)
		if (strcmp(cluster_view_part(v, p)->rec.primary, id) == 0)
			n++;
	return n;
}

static struct cluster *
cl_open_opts(struct cl_env *e, const struct cluster_opts *o, int *rc_r)
{
	struct cluster *c;
	struct cl_wait w = { 0 };
	struct rs_err err;

	if (cluster_open(e->base, e->coord, o, cl_done, &w, &c, &err) != 0) {
		*rc_r = err.code;
		return c;
	}
	cl_run(e, &w.done, 3000);
	*rc_r = w.done ? w.rc : RS_ETIMEDOUT;
	return c;
}

static struct cluster *
cl_open(struct cl_env *e, const char *id, unsigned base, int *rc_r)
{
	struct cluster_opts o = { .name = "t", .node_id = id,
	                          .host = "127.0.0.1", .port_base = base };

	return cl_open_opts(e, &o, rc_r);
}

void
test_cluster_open_uninitialised(void)
{
	struct cl_env e;
	struct cluster *c;
	int rc;

	cl_env_open(&e);
	c = cl_open(&e, "n1", 20000, &rc);
	TEST_ASSERT_INTEQ(rc, RS_ENOTFOUND);
	cluster_free(&c);
	c = cl_open(&e, "Bad Id", 20000, &rc);
	TEST_ASSERT_INTEQ(rc, RS_EINVAL);
	cluster_free(&c);
	cl_env_close(&e);
}

/* Two nodes on one coordination store: election, placement on node add,
 * rebalancing of empty partitions, used partitions staying put. */
void
test_cluster_placement(void)
{
	struct cl_env e;
	struct cluster *a, *b;
	int rc, never = 0;
	char *m;

	cl_env_open(&e);
	cl_init(&e, 16);
	a = cl_open(&e, "n1", 20000, &rc);
	TEST_ASSERT_INTEQ(rc, 0);
	b = cl_open(&e, "n2", 20100, &rc);
	TEST_ASSERT_INTEQ(rc, 0);
	cl_run(&e, &never, 200);
	/* Elected, but nobody is a member yet: nothing is placed. */
	TEST_ASSERT(cluster_is_controller(a) != cluster_is_controller(b));
	TEST_ASSERT_INTEQ(cl_count(a, "n1"), 0);
	TEST_ASSERT(cluster_view_alive(cluster_view(b), "n1") != NULL);
	{
		const char *id, *host;
		unsigned pb;

		TEST_ASSERT_INTEQ(cluster_primary(a, 3, &id, &host, &pb),
		                  RS_EUNAVAIL);
	}

	m = rs_xstrdup("{\"state\":\"active\"}");
	TEST_ASSERT(cl_put(&e, "/roost/t/members/n1", m) == 0);
	cl_run(&e, &never, 300);
	TEST_ASSERT_INTEQ(cl_count(a, "n1"), 16);
	TEST_ASSERT_INTEQ(cl_count(b, "n1"), 16);
	TEST_ASSERT(cluster_serves(a, 5, NULL));
	TEST_ASSERT(!cluster_serves(b, 5, NULL));
	{
		const char *id, *host;
		unsigned pb;

		TEST_ASSERT_INTEQ(cluster_primary(b, 5, &id, &host, &pb), 0);
		TEST_ASSERT_STREQ(id, "n1");
		TEST_ASSERT_INTEQ(pb, 20000);
	}
	/* Partitions 0 and 1 get accounts: they stay on n1. */
	TEST_ASSERT(cl_put(&e, "/roost/t/used/0", "{}") == 0);
	TEST_ASSERT(cl_put(&e, "/roost/t/used/1", "{}") == 0);
	TEST_ASSERT(cl_put(&e, "/roost/t/members/n2", m) == 0);
	cl_run(&e, &never, 300);
	TEST_ASSERT_INTEQ(cl_count(a, "n1"), 8);
	TEST_ASSERT_INTEQ(cl_count(a, "n2"), 8);
	TEST_ASSERT(cluster_serves(a, 0, NULL));
	TEST_ASSERT(cluster_serves(a, 1, NULL));
	{
		int64_t epoch = 0;

		for (uint32_t p = 2; p < 16; p++)
			if (cluster_serves(b, p, &epoch))
				break;
		TEST_ASSERT_INTEQ(epoch, 2);        /* assigned, then moved */
	}
	/* A draining member hands over its empty partitions. */
	TEST_ASSERT(cl_put(&e, "/roost/t/members/n2",
	                   "{\"state\":\"draining\"}") == 0);
	cl_run(&e, &never, 300);
	TEST_ASSERT_INTEQ(cl_count(a, "n1"), 16);
	free(m);
	coord_free(&e.coord);           /* first: drops callbacks in flight */
	cluster_free(&a);
	cluster_free(&b);
	cl_env_close(&e);
}

static void
cl_init_r(struct cl_env *e, uint32_t parts, uint32_t r)
{
	struct cluster_config c = { .partitions = parts, .replicas = r };
	char *j;

	memset(c.token_sha256, '0', 64);
	j = cluster_config_json(&c);
	TEST_ASSERT(cl_put(e, "/roost/t/config", j) == 0);
	free(j);
}

static int
cl_del(struct cl_env *e, const char *key)
{
	struct coord_op op = { .type = COORD_OP_DELETE, .key = key };
	struct cl_wait w = { 0 };
	struct rs_err err;

	if (coord_txn(e->coord, NULL, 0, &op, 1, cl_txn_done, &w, &err) != 0)
		return -1;
	cl_run(e, &w.done, 2000);
	return w.done ? w.rc : -1;
}

/* R = 3 on three members: three copies of each partition, all in sync;
 * a primary that dies hands its used partitions to an in-sync follower
 * at epoch + 1, and its empty ones are placed afresh. */
void
test_cluster_replicas_failover(void)
{
	struct cl_env e;
	struct cluster *c[3];
	const char *ids[3] = { "n1", "n2", "n3" };
	int rc, never = 0;
	struct cluster_view *v;
	int64_t before[8];
	bool led[8];
	size_t nled = 0;

	cl_env_open(&e);
	cl_init_r(&e, 8, 3);
	for (int i = 0; i < 3; i++) {
		char key[64];

		c[i] = cl_open(&e, ids[i], 20000 + 100 * (unsigned)i, &rc);
		TEST_ASSERT_INTEQ(rc, 0);
		snprintf(key, sizeof(key), "/roost/t/members/%s", ids[i]);
		TEST_ASSERT(cl_put(&e, key, "{\"zone\":\"\"}") == 0);
	}
	cl_run(&e, &never, 600);
	v = cluster_view(c[0]);
	for (uint32_t p = 0; p < 8; p++) {
		const struct cluster_part *rec = &cluster_view_part(v, p)->rec;

		TEST_ASSERT_IDX(rec->nreplicas == 3 && rec->nin_sync == 3, p);
		TEST_ASSERT_IDX(cluster_part_has_replica(rec, rec->primary), p);
	}
	/* Partitions 0..3 hold accounts; n2 then dies. */
	for (uint32_t p = 0; p < 4; p++) {
		char key[64];

		snprintf(key, sizeof(key), "/roost/t/used/%u", p);
		TEST_ASSERT(cl_put(&e, key, "{}") == 0);
	}
	for (uint32_t p = 0; p < 8; p++) {
		before[p] = cluster_view_part(v, p)->rec.epoch;
		led[p] = strcmp(cluster_view_part(v, p)->rec.primary, "n2") == 0;
		nled += led[p] && p < 4;
	}
	TEST_ASSERT(nled > 0);                 /* n2 leads a used one */
	TEST_ASSERT(cl_del(&e, "/roost/t/alive/n2") == 0);
	cl_run(&e, &never, 600);
	for (uint32_t p = 0; p < 8; p++) {
		const struct cluster_part *rec = &cluster_view_part(v, p)->rec;

		TEST_ASSERT_IDX(strcmp(rec->primary, "n2") != 0, p);
		if (p < 4 && led[p]) {
			/* Failed over: an in-sync follower leads at epoch + 1,
			 * n2 stays a replica but out of the in-sync set. */
			size_t k;

			TEST_ASSERT_IDX(rec->epoch == before[p] + 1, p);
			TEST_ASSERT_IDX(rec->nreplicas == 3, p);
			TEST_ASSERT_IDX(rec->nin_sync == 2, p);
			for (k = 0; k < rec->nin_sync; k++)
				TEST_ASSERT_IDX(strcmp(rec->in_sync[k], "n2") != 0,
				                p);
		} else if (p < 4) {
			TEST_ASSERT_IDX(rec->epoch == before[p], p);
		}
	}
	coord_free(&e.coord);
	for (int i = 0; i < 3; i++)
		cluster_free(&c[i]);
	cl_env_close(&e);
}

/* A node on a new data directory with nothing to give up joins once:
 * one lease and one controller (twice left the controller key and
 * alive/<id> on different leases, so that revoking a dead node's lease
 * did not end its election). Counted from the log. */
void
test_cluster_new_data_dir_joins_once(void)
{
	struct cluster_opts o = { .name = "t", .node_id = "n1",
	                          .host = "127.0.0.1", .port_base = 20000,
	                          .new_data_dir = true };
	char path[512], line[512];
	struct cl_env e;
	struct cluster *c;
	int rc, fd, never = 0, alive = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/log", test_tmpdir());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	TEST_ASSERT(fd >= 0);
	cl_env_open(&e);
	cl_init(&e, 4);
	rs_log_setup(RS_LOG_INFO, fd);
	c = cl_open_opts(&e, &o, &rc);
	TEST_ASSERT_INTEQ(rc, 0);
	cl_run(&e, &never, 300);
	rs_log_setup(RS_LOG_INFO, 2);
	close(fd);
	TEST_ASSERT(cluster_is_controller(c));
	f = fopen(path, "r");
	TEST_ASSERT(f != NULL);
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		alive += strstr(line, " cluster.alive node=n1 ") != NULL;
	if (f != NULL)
		fclose(f);
	TEST_ASSERT_INTEQ(alive, 1);
	coord_free(&e.coord);
	cluster_free(&c);
	cl_env_close(&e);
}
