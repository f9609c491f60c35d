/* node_cluster.c: the cluster half of a node's wiring: its settings,
 * the etcd client, joining the cluster before anything serves, the
 * directory's placement guard, and leaving on a clean stop. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "cluster/coord_etcd.h"
#include "cluster/repl.h"
#include "cluster/rpc.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "node/admin/admin_api.h"
#include "node/core/worker.h"
#include "node/deliver/deliver.h"
#include "node/dir/dir.h"
#include "node/roostd/node_int.h"
#include "storage/store.h"

/* The cluster finds peers where the node listens for them. */
_Static_assert(CLUSTER_PEER_PORT == NODE_PORT_PEER,
               "the peer port offset differs between cluster/ and node/");

int
node_cluster_config(struct node *n, struct rs_err *err)
{
	const struct rs_config *c = n->cfg;
	struct node_cluster_cfg *cc = &n->ccfg;
	char *save = NULL, *tok;

	cc->name = rs_config_get(c, "cluster");
	if (cc->name == NULL || cc->name[0] == '\0')
		return rs_err_set(err, RS_EINVAL, "run with --standalone, or "
		                  "join a cluster with --cluster NAME --etcd URL "
		                  "--node-id ID");
	cc->enabled = true;
	cc->node_id = rs_config_get(c, "node_id");
	if (cc->node_id == NULL || !cluster_rec_name_ok(cc->node_id,
	                                               CLUSTER_ID_MAX))
		return rs_err_set(err, RS_EINVAL, "node_id (--node-id): a name "
		                  "of a-z, 0-9, '.', '_', '-' is required");
	if (!cluster_rec_name_ok(cc->name, CLUSTER_NAME_MAX))
		return rs_err_set(err, RS_EINVAL, "cluster: a name of a-z, 0-9, "
		                  "'.', '_', '-'");
	cc->advertise = rs_config_get_str(c, "advertise",
	                                  rs_config_get_str(c, "bind",
	                                                    "127.0.0.1"));
	if (strcmp(cc->advertise, "0.0.0.0") == 0 ||
	    strcmp(cc->advertise, "::") == 0)
		return rs_err_set(err, RS_EINVAL, "advertise (--advertise): the "
		                  "address peers reach this node at is needed "
		                  "when binding to all addresses");
	cc->etcd = rs_xstrdup(rs_config_get_str(c, "etcd", ""));
	for (tok = strtok_r(cc->etcd, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (cc->nendpoints == sizeof(cc->endpoints) /
		                         sizeof(cc->endpoints[0]))
			return rs_err_set(err, RS_EINVAL, "etcd: at most 8 URLs");
		cc->endpoints[cc->nendpoints++] = tok;
	}
	if (cc->nendpoints == 0)
		return rs_err_set(err, RS_EINVAL, "etcd (--etcd): the URL of "
		                  "etcd is required, e.g. http://127.0.0.1:2379");
	if (rs_config_get_u64(c, "cluster.lease_ttl", 5, 2, 60, &cc->lease_ttl,
	                      err) != 0 ||
	    rs_config_get_ms(c, "etcd.timeout", 5000, &cc->etcd_timeout_ms,
	                              err) != 0 ||
	    rs_config_get_ms(c, "replication.timeout", 2000,
	                     &cc->repl_timeout_ms, err) != 0 ||
	    /* Each node keeps this much of the recent entries of all its
	     * partitions in memory (split evenly): a follower away for
	     * less than what the load writes into them catches up from
	     * them; one away longer takes a copy of each partition, which
	     * costs the whole partition however little it missed. */
	    rs_config_get_u64(c, "replication.log_size", (uint64_t)64 << 20,
	                      (uint64_t)1 << 20, (uint64_t)64 << 30,
	                      &cc->repl_log_bytes, err) != 0)
		return -1;
	if (cc->repl_timeout_ms < 100 || cc->repl_timeout_ms > 600000)
		return rs_err_set(err, RS_EINVAL, "replication.timeout: from "
		                  "100ms to 10m");
	return 0;
}

/* Reads a secret from a file (first line), or "" if path is NULL. */
static int
node_read_secret(const char *path, char *buf, size_t size,
                 struct rs_err *err)
{
	ssize_t n;
	int fd;

	buf[0] = '\0';
	if (path == NULL)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return rs_err_set(err, RS_EIO, "%s: %s", path, strerror(errno));
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return rs_err_set(err, RS_EIO, "%s: %s", path, strerror(errno));
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* The directory's guard (dir.h): the partition must have a primary and
 * stay where it is until the account's transaction commits. */
static int
node_guard_part(void *arg, uint32_t part, struct coord_cmp *cmp_r,
                struct coord_op *op_r, struct rs_err *err)
{
	struct node *n = arg;
	const struct cluster_view_part *vp =
		cluster_view_part(cluster_view(n->cluster), part);

	if (vp == NULL || vp->rec.primary[0] == '\0')
		return rs_err_set(err, RS_EUNAVAIL, "partition %u has no primary "
		                  "yet: add nodes (roostctl node add)", part);
	snprintf(n->guard_pkey, sizeof(n->guard_pkey), "%spartitions/%u",
	         cluster_prefix(n->cluster), part);
	snprintf(n->guard_ukey, sizeof(n->guard_ukey), "%sused/%u",
	         cluster_prefix(n->cluster), part);
	*cmp_r = (struct coord_cmp){ n->guard_pkey, vp->mod_rev };
	*op_r = (struct coord_op){ .type = COORD_OP_PUT, .key = n->guard_ukey,
	                           .value = "{}", .len = 2 };
	return 0;
}

struct node_cluster_start {
	struct node *n;
	void       (*ready)(struct node *n);
};

static void
node_cluster_fail(struct node *n, const char *what, const struct rs_err *err,
                  int rc)
{
	const char *why = err != NULL && err->msg[0] ? err->msg : rs_err_name(rc);

	rs_log(RS_LOG_ERR, "node.cluster_failed", "what=%s error=\"%s\"", what,
	       why);
	fprintf(stderr, "roostd: %s: %s\n", what, why);
	n->exit_code = 1;
	event_base_loopexit(n->ctx.base, NULL);
}

/* The peer listener (B+99) and client, keyed by the cluster's key. */
static int
node_rpc_start(struct node *n, const struct cluster_config *cc,
               struct rs_err *err)
{
	struct rpc_opts o = {
		.base = n->ctx.base,
		.bind = n->bind,
		.port = n->ctx.port_base + NODE_PORT_PEER,
		.psk = cc->peer_key,
		.identity = n->ccfg.name,
		.node_id = n->ccfg.node_id,
	};

	return rpc_new(&o, &n->ctx.rpc, err);
}

/* A failed store (fail-stop) is told to the cluster, which moves the
 * leadership of this node's partitions to their other copies. */
static void
node_health_tick(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	struct timeval tv = { 1, 0 };

	(void)fd;
	(void)what;
	if (store_health_state(n->ctx.store) == STORE_STATE_FAILED) {
		cluster_report_store_failed(n->cluster);
		return;                     /* for good: a restart clears it */
	}
	evtimer_add(n->health_tick, &tv);
}

/* repl_opts.offload: a copy's chunk is read on the copy thread. */
static void
node_repl_offload(void *ctx, rs_task_fn *work, rs_task_fn *done, void *arg)
{
	struct node *n = ctx;

	if (n->copy_workers == NULL) {  /* stopping: on the loop */
		work(arg);
		done(arg);
		return;
	}
	worker_pool_run(n->copy_workers, work, done, arg, n->ctx.exec);
}

/* Synchronous replication of the partitions this node holds. */
static void
node_repl_start(struct node *n)
{
	struct repl_opts o = {
		.base = n->ctx.base,
		.rpc = n->ctx.rpc,
		.cluster = n->cluster,
		.store = n->ctx.store,
		.exec = n->ctx.exec,
		.timeout_ms = (unsigned)n->ccfg.repl_timeout_ms,
		.log_bytes = (size_t)n->ccfg.repl_log_bytes,
		.offload = node_repl_offload,
		.offload_ctx = n,
	};

	n->copy_workers = worker_pool_new(1);
	n->repl = repl_new(&o);
	n->ctx.repl = n->repl;
	n->health_tick = evtimer_new(n->ctx.base, node_health_tick, n);
	node_health_tick(-1, 0, n);
}

static void
node_cluster_opened(void *arg, int rc, const struct rs_err *err)
{
	struct node_cluster_start *s = arg;
	struct node *n = s->n;
	const struct cluster_config *cc;
	struct dir_guard g = { node_guard_part, n };
	struct rs_err rerr;

	if (rc != 0) {
		char what[256];

		if (rc == RS_EUNAVAIL || rc == RS_ETIMEDOUT)
			snprintf(what, sizeof(what), "etcd unreachable at %s",
			         rs_config_get_str(n->cfg, "etcd", ""));
		else
			snprintf(what, sizeof(what), "cannot join cluster %s",
			         n->ccfg.name);
		node_cluster_fail(n, what, err, rc);
		free(s);
		return;
	}
	cc = cluster_config(n->cluster);
	n->ctx.cluster = n->cluster;
	n->ctx.dir = dir_new(n->coord, cluster_prefix(n->cluster),
	                     cc->partitions);
	dir_set_guard(n->ctx.dir, &g);
	admin_set_token_sha256(n->admin, cc->token_sha256);
	if (node_rpc_start(n, cc, &rerr) != 0) {
		node_cluster_fail(n, "peer RPC", &rerr, rerr.code);
		free(s);
		return;
	}
	cluster_set_rpc(n->cluster, n->ctx.rpc);
	n->ctx.deliver = deliver_new(&n->ctx);
	node_repl_start(n);
	s->ready(n);
	free(s);
}

int
node_cluster_start(struct node *n, void (*ready)(struct node *n),
                   struct rs_err *err)
{
	const struct rs_config *c = n->cfg;
	struct node_cluster_cfg *cc = &n->ccfg;
	struct coord_etcd_opts eo = {
		.endpoints = cc->endpoints,
		.nendpoints = cc->nendpoints,
		.ca_file = rs_config_get(c, "etcd.ca_file"),
		.cert_file = rs_config_get(c, "etcd.cert_file"),
		.key_file = rs_config_get(c, "etcd.key_file"),
		.user = rs_config_get(c, "etcd.user"),
		.request_timeout_ms = (unsigned)cc->etcd_timeout_ms,
	};
	struct cluster_opts co = {
		.name = cc->name,
		.node_id = cc->node_id,
		.host = cc->advertise,
		.port_base = n->ctx.port_base,
		.lease_ttl = (int64_t)cc->lease_ttl,
		.new_data_dir = cc->new_data_dir,
	};
	struct node_cluster_start *s;
	char password[256];
	int rc;

	if (node_read_secret(rs_config_get(c, "etcd.password_file"), password,
	                     sizeof(password), err) != 0)
		return -1;
	eo.password = password[0] != '\0' ? password : NULL;
	rc = coord_etcd_new(n->ctx.base, &eo, &n->coord, err);
	memset(password, 0, sizeof(password));
	if (rc != 0)
		return -1;
	s = rs_xcalloc(1, sizeof(*s));
	s->n = n;
	s->ready = ready;
	if (cluster_open(n->ctx.base, n->coord, &co, node_cluster_opened, s,
	                 &n->cluster, err) != 0) {
		free(s);
		return -1;
	}
	return 0;
}

struct node_cluster_leave {
	struct node *n;
	void       (*done)(struct node *n);
};

static void
node_cluster_left(void *arg, int rc, const struct rs_err *err)
{
	struct node_cluster_leave *l = arg;

	if (rc != 0)
		rs_log(RS_LOG_WARN, "node.leave_failed", "error=\"%s\"",
		       err != NULL ? err->msg : rs_err_name(rc));
	else
		rs_log(RS_LOG_INFO, "node.left", "cluster=%s", l->n->ccfg.name);
	l->done(l->n);
	free(l);
}

void
node_cluster_leave(struct node *n, void (*done)(struct node *n))
{
	struct node_cluster_leave *l;

	if (n->cluster == NULL) {
		done(n);
		return;
	}
	l = rs_xcalloc(1, sizeof(*l));
	l->n = n;
	l->done = done;
	cluster_leave(n->cluster, node_cluster_left, l);
}

void
node_cluster_stop(struct node *n)
{
	if (n->health_tick != NULL) {
		event_free(n->health_tick);
		n->health_tick = NULL;
	}
	repl_stop(n->repl);
}

void
node_cluster_free(struct node *n)
{
	/* Deliveries still waiting on a peer fail, then the peers go. */
	deliver_free(&n->ctx.deliver);
	if (n->cluster != NULL && n->ctx.rpc != NULL)
		cluster_set_rpc(n->cluster, NULL);
	rpc_free(&n->ctx.rpc);
	n->ctx.repl = NULL;
	repl_free(&n->repl);
	coord_free(&n->coord);          /* first: drops callbacks in flight */
	n->ctx.cluster = NULL;
	cluster_free(&n->cluster);
	free(n->ccfg.etcd);
	n->ccfg.etcd = NULL;
}
