/* cluster.c: joining a cluster at start-up (configuration, view,
 * presence, controller) and the placement questions the node asks. */
#include "cluster/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_presence.h"
#include "cluster/controller.h"
#include "cluster/coord.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "lib/rs_time.h"

struct cluster {
	struct event_base       *base;
	struct coord            *coord;       /* borrowed */
	char                     name[CLUSTER_NAME_MAX + 1];
	char                     self[CLUSTER_ID_MAX + 1];
	char                    *prefix;      /* owns */
	struct cluster_alive     alive;
	int64_t                  ttl;
	struct cluster_config    config;
	struct cluster_view     *view;        /* owns */
	struct cluster_presence *presence;    /* owns */
	struct controller       *ctl;         /* owns */
	cluster_done_fn         *open_cb;
	void                    *open_arg;
	bool                     opening;     /* open_cb not yet called */
	int64_t                 *served;      /* owns [partitions]: the epoch
	                                       * this node serves p at, 0 */
	cluster_lost_fn         *lost_fn;
	void                    *lost_arg;
	/* A new data directory: what the records credit this node with
	 * is given up before it joins (cluster_disown_step). */
	bool                     disowning;
	unsigned                 disown_pending; /* CAS txns in flight */
	struct event            *disown_retry;   /* owns */
};

static void cluster_join(struct cluster *c);
static void cluster_disown_step(struct cluster *c);

static void
cluster_opened(struct cluster *c, int rc, const struct rs_err *err)
{
	if (!c->opening)
		return;
	c->opening = false;
	c->open_cb(c->open_arg, rc, err);
}

static void
cluster_on_lease(void *arg, int64_t lease)
{
	struct cluster *c = arg;

	if (c->ctl != NULL)
		controller_set_lease(c->ctl, lease);
}

/* Logs this node's role changes: a partition it starts or stops serving
 * (the controller logs the assignment itself, on its node). */
static void
cluster_on_view_change(void *arg)
{
	struct cluster *c = arg;

	for (uint32_t p = 0; p < c->config.partitions; p++) {
		const struct cluster_part *rec =
			&cluster_view_part(c->view, p)->rec;
		int64_t now = strcmp(rec->primary, c->self) == 0 ? rec->epoch : 0;

		if (now == c->served[p])
			continue;
		if (now != 0)
			rs_log(RS_LOG_INFO, "cluster.serving", "partition=%u "
			       "epoch=%lld", p, (long long)now);
		else
			rs_log(RS_LOG_INFO, "cluster.not_serving", "partition=%u "
			       "epoch=%lld primary=%s", p, (long long)rec->epoch,
			       rec->primary[0] ? rec->primary : "-");
		if (c->served[p] != 0 && c->lost_fn != NULL)
			c->lost_fn(c->lost_arg, p);
		c->served[p] = now;
	}
	if (c->disowning)
		cluster_disown_step(c);
}

static void
cluster_on_alive(void *arg, int rc, const struct rs_err *err)
{
	struct cluster *c = arg;

	if (rc != 0) {
		cluster_opened(c, rc, err);
		return;
	}
	rs_log(RS_LOG_INFO, "cluster.joined", "cluster=%s node=%s partitions=%u",
	       c->name, c->self, c->config.partitions);
	cluster_opened(c, 0, NULL);
}

/* ---- a new data directory ----
 *
 * A node that starts on a new data directory under an id the records
 * already name (a disk replaced or wiped) holds none of what they credit
 * it with. Before it is alive, and once the lease of its last run has
 * run out, it leaves every replica set in which another node is in
 * sync, one CAS each (the controller adds it back, out of sync, once it
 * is alive; its primary then copies it the partition), and waits until
 * the partitions it led have failed over to one of those nodes.
 * Otherwise it could be promoted while empty, be counted for
 * acknowledgements, or lead a partition it does not hold and copy that
 * emptiness over the good replicas. A partition without another in-sync
 * replica is left alone: nothing better exists. */

/* Whether another node than this one is in rec's in-sync set. */
static bool
cluster_other_in_sync(const struct cluster *c, const struct cluster_part *rec)
{
	for (size_t i = 0; i < rec->nin_sync; i++)
		if (strcmp(rec->in_sync[i], c->self) != 0)
			return true;
	return false;
}

static void
cluster_on_disowned(void *arg, int rc, const struct rs_err *err, int64_t rev)
{
	struct cluster *c = arg;
	struct timeval tv = { 1, 0 };

	(void)rev;
	c->disown_pending--;
	if (rc != 0 && rc != RS_ECONFLICT) {
		/* A conflict brings the news through the watch; anything
		 * else is tried again in a while. */
		rs_log(RS_LOG_WARN, "cluster.disown_failed", "error=\"%s\"",
		       err != NULL ? err->msg : rs_err_name(rc));
		evtimer_add(c->disown_retry, &tv);
		return;
	}
	cluster_disown_step(c);
}

/* Writes rec without this node among its replicas and in-sync ones. */
static void
cluster_disown_part(struct cluster *c, const struct cluster_view_part *vp)
{
	struct cluster_part rec = vp->rec;
	struct coord_op op = { .type = COORD_OP_PUT };
	struct coord_cmp cmp;
	struct rs_err err;
	size_t k = 0, s = 0;
	char *key, *json;

	for (size_t i = 0; i < rec.nreplicas; i++)
		if (strcmp(rec.replicas[i], c->self) != 0)
			memmove(rec.replicas[k++], rec.replicas[i],
			        CLUSTER_ID_MAX + 1);
	rec.nreplicas = k;
	for (size_t i = 0; i < rec.nin_sync; i++)
		if (strcmp(rec.in_sync[i], c->self) != 0)
			memmove(rec.in_sync[s++], rec.in_sync[i],
			        CLUSTER_ID_MAX + 1);
	rec.nin_sync = s;
	key = cluster_rec_part_key(c->prefix, rec.id);
	json = cluster_part_json(&rec);
	cmp = (struct coord_cmp){ key, vp->mod_rev };
	op.key = key;
	op.value = json;
	op.len = strlen(json);
	if (coord_txn(c->coord, &cmp, 1, &op, 1, cluster_on_disowned, c,
	              &err) == 0) {
		c->disown_pending++;
		rs_log(RS_LOG_INFO, "cluster.disown", "partition=%u epoch=%lld "
		       "primary=%s", rec.id, (long long)rec.epoch,
		       rec.primary[0] ? rec.primary : "-");
	}
	free(key);
	free(json);
}

static void
cluster_disown_step(struct cluster *c)
{
	struct cluster_view *v = c->view;
	bool waiting = false;

	if (!c->disowning || c->disown_pending > 0)
		return;
	/* The last run's lease may not have run out yet: until it has, the
	 * controller takes this node for alive and would add it back. */
	if (cluster_view_alive(v, c->self) != NULL)
		return;
	for (uint32_t p = 0; p < cluster_view_npartitions(v); p++) {
		const struct cluster_view_part *vp = cluster_view_part(v, p);

		if (!cluster_other_in_sync(c, &vp->rec))
			continue;
		if (cluster_part_has_replica(&vp->rec, c->self)) {
			cluster_disown_part(c, vp);
			waiting = true;
		} else if (strcmp(vp->rec.primary, c->self) == 0) {
			waiting = true;        /* until it fails over */
		}
	}
	if (waiting || c->disown_pending > 0)
		return;
	c->disowning = false;
	rs_log(RS_LOG_INFO, "cluster.disowned", "node=%s", c->self);
	cluster_join(c);
}

static void
cluster_on_disown_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	cluster_disown_step(arg);
}

/* The controller, and the node's presence: it is alive from now on. */
static void
cluster_join(struct cluster *c)
{
	struct rs_err perr;

	c->ctl = controller_new(c->base, c->coord, c->view, c->self,
	                        c->config.replicas);
	c->presence = cluster_presence_new(c->base, c->coord, c->prefix,
	                                   &c->alive, c->ttl, cluster_on_lease,
	                                   c);
	if (cluster_presence_start(c->presence, cluster_on_alive, c,
	                           &perr) != 0)
		cluster_opened(c, perr.code, &perr);
}

static void
cluster_on_view(void *arg, int rc, const struct rs_err *err)
{
	struct cluster *c = arg;
	bool disowning;

	if (rc != 0) {
		cluster_opened(c, rc, err);
		return;
	}
	c->served = rs_xcalloc(c->config.partitions, sizeof(*c->served));
	cluster_view_listen(c->view, cluster_on_view_change, c);
	disowning = c->disowning;
	if (disowning) {
		rs_log(RS_LOG_INFO, "cluster.new_data_dir", "node=%s",
		       c->self);
		c->disown_retry = evtimer_new(c->base, cluster_on_disown_retry,
		                              c);
	}
	cluster_on_view_change(c);
	/* A node giving things up joins when done (cluster_disown_step),
	 * which may have been just now: joining again would leave a second
	 * lease and controller behind, the controller key on one lease and
	 * alive/<id> on the other (so revoking the dead node's lease would
	 * not end its election). */
	if (!disowning)
		cluster_join(c);
}

static void
cluster_on_config(void *arg, int rc, const struct rs_err *err,
                  const struct coord_kv *kvs, size_t n, int64_t rev)
{
	struct cluster *c = arg;
	struct rs_err cerr;

	(void)rev;
	rs_err_clear(&cerr);
	if (rc != 0) {
		rs_err_set(&cerr, rc, "etcd: %s",
		           err != NULL ? err->msg : rs_err_name(rc));
		cluster_opened(c, rc, &cerr);
		return;
	}
	if (n == 0) {
		rs_err_set(&cerr, RS_ENOTFOUND, "cluster %s is not initialised "
		           "(roostctl cluster init)", c->name);
		cluster_opened(c, RS_ENOTFOUND, &cerr);
		return;
	}
	if (cluster_config_parse(kvs[0].value, kvs[0].len, &c->config,
	                         &cerr) != 0) {
		cluster_opened(c, RS_EINVAL, &cerr);
		return;
	}
	c->view = cluster_view_new(c->coord, c->prefix, c->config.partitions);
	if (cluster_view_start(c->view, cluster_on_view, c, &cerr) != 0)
		cluster_opened(c, cerr.code, &cerr);
}

int
cluster_open(struct event_base *base, struct coord *co,
             const struct cluster_opts *o, cluster_done_fn *cb, void *arg,
             struct cluster **c_r, struct rs_err *err)
{
	struct cluster *c = rs_xcalloc(1, sizeof(*c));
	char *key;
	int rc;

	*c_r = c;
	c->base = base;
	c->coord = co;
	c->open_cb = cb;
	c->open_arg = arg;
	c->ttl = o->lease_ttl > 0 ? o->lease_ttl : 5;
	c->disowning = o->new_data_dir;
	if (!cluster_rec_name_ok(o->name, CLUSTER_NAME_MAX))
		return rs_err_set(err, RS_EINVAL, "bad cluster name %s (a-z, "
		                  "0-9, '.', '_', '-')", o->name);
	if (!cluster_rec_name_ok(o->node_id, CLUSTER_ID_MAX))
		return rs_err_set(err, RS_EINVAL, "bad node id %s (a-z, 0-9, "
		                  "'.', '_', '-')", o->node_id);
	if (strlen(o->host) > CLUSTER_HOST_MAX || o->host[0] == '\0')
		return rs_err_set(err, RS_EINVAL, "bad advertised host");
	snprintf(c->name, sizeof(c->name), "%s", o->name);
	snprintf(c->self, sizeof(c->self), "%s", o->node_id);
	c->prefix = rs_xasprintf("/roost/%s/", o->name);
	snprintf(c->alive.id, sizeof(c->alive.id), "%s", o->node_id);
	snprintf(c->alive.host, sizeof(c->alive.host), "%s", o->host);
	c->alive.port_base = o->port_base;
	c->alive.started = rs_wall_ms() / 1000;
	snprintf(c->alive.version, sizeof(c->alive.version), "%s",
	         ROOST_VERSION);
	key = rs_xasprintf("%sconfig", c->prefix);
	rc = coord_get(co, key, cluster_on_config, c, err);
	free(key);
	if (rc != 0)
		return -1;
	c->opening = true;
	return 0;
}

void
cluster_leave(struct cluster *c, cluster_done_fn *cb, void *arg)
{
	if (c->presence == NULL) {
		cb(arg, 0, NULL);
		return;
	}
	cluster_presence_stop(c->presence, cb, arg);
}

void
cluster_free(struct cluster **pp)
{
	struct cluster *c = *pp;

	if (c == NULL)
		return;
	*pp = NULL;
	controller_free(&c->ctl);
	cluster_presence_free(&c->presence);
	if (c->disown_retry != NULL)
		event_free(c->disown_retry);
	cluster_view_free(&c->view);
	free(c->served);
	free(c->prefix);
	free(c);
}

void
cluster_on_lost(struct cluster *c, cluster_lost_fn *fn, void *arg)
{
	c->lost_fn = fn;
	c->lost_arg = arg;
}

const struct cluster_config *
cluster_config(const struct cluster *c)
{
	return &c->config;
}

struct cluster_view *
cluster_view(const struct cluster *c)
{
	return c->view;
}

struct coord *
cluster_coord(const struct cluster *c)
{
	return c->coord;
}

const char *
cluster_self(const struct cluster *c)
{
	return c->self;
}

const char *
cluster_name(const struct cluster *c)
{
	return c->name;
}

const char *
cluster_prefix(const struct cluster *c)
{
	return c->prefix;
}

int
cluster_primary(const struct cluster *c, uint32_t part, const char **id_r,
                const char **host_r, unsigned *port_base_r)
{
	const struct cluster_view_part *vp = cluster_view_part(c->view, part);

	if (vp == NULL)
		return RS_EINVAL;
	if (vp->rec.primary[0] == '\0')
		return RS_EUNAVAIL;
	*id_r = vp->rec.primary;
	return cluster_view_node_addr(c->view, vp->rec.primary, host_r,
	                              port_base_r);
}

bool
cluster_serves(const struct cluster *c, uint32_t part, int64_t *epoch_r)
{
	const struct cluster_view_part *vp = cluster_view_part(c->view, part);

	if (vp == NULL || strcmp(vp->rec.primary, c->self) != 0)
		return false;
	if (epoch_r != NULL)
		*epoch_r = vp->rec.epoch;
	return true;
}

void
cluster_report_store_failed(struct cluster *c)
{
	if (c->alive.store_failed || c->presence == NULL)
		return;
	c->alive.store_failed = true;
	rs_log(RS_LOG_ERR, "cluster.store_failed_reported", "node=%s", c->self);
	cluster_presence_update(c->presence, &c->alive);
}

bool
cluster_fresh(const struct cluster *c)
{
	return c->presence != NULL && cluster_presence_fresh(c->presence);
}

void
cluster_set_rpc(struct cluster *c, struct rpc *rpc)
{
	controller_set_rpc(c->ctl, rpc);
}

bool
cluster_is_controller(const struct cluster *c)
{
	return c->ctl != NULL && controller_elected(c->ctl);
}
