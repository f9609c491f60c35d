/* controller.c: election on the node's lease, and placement of
 * partitions by compare-and-swap (controller.h says the rules). Work is
 * debounced: a burst of watch events gives one pass; at most one CAS (or
 * a failover's position question, controller_promote.c) per partition is
 * in flight, and a pass runs again after each completes. */
#include "cluster/controller_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_view.h"
#include "cluster/coord.h"
#include "cluster/liveness.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"

static void ct_on_pass(evutil_socket_t fd, short what, void *arg);

void
controller__schedule(struct controller *ct, unsigned ms)
{
	struct timeval tv = { 0, (suseconds_t)ms * 1000 };

	if (ms >= 1000) {
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	}
	if (!evtimer_pending(ct->pass, NULL))
		evtimer_add(ct->pass, &tv);
}

static void
ct_on_view(void *arg)
{
	controller__schedule(arg, CT_DEBOUNCE_MS);
}

struct controller *
controller_new(struct event_base *base, struct coord *c,
               struct cluster_view *v, const char *self, uint32_t replicas)
{
	struct controller *ct = rs_xcalloc(1, sizeof(*ct));

	ct->replicas = replicas > 0 ? replicas : 1;
	ct->base = base;
	ct->coord = c;
	ct->view = v;
	snprintf(ct->self, sizeof(ct->self), "%s", self);
	ct->key = rs_xasprintf("%scontroller", cluster_view_prefix(v));
	ct->pass = evtimer_new(base, ct_on_pass, ct);
	ct->inflight = rs_xcalloc(cluster_view_npartitions(v) + 1,
	                          sizeof(*ct->inflight));
	cluster_view_listen(v, ct_on_view, ct);
	ct->lv = liveness_new(base, c, v, self);
	return ct;
}

static void
ct_destroy(struct controller *ct)
{
	controller__promote_free_all(ct);
	liveness_free(&ct->lv);
	event_free(ct->pass);
	free(ct->inflight);
	free(ct->key);
	free(ct);
}

void
controller_free(struct controller **pp)
{
	struct controller *ct = *pp;

	if (ct == NULL)
		return;
	*pp = NULL;
	ct_destroy(ct);
}

void
controller_set_lease(struct controller *ct, int64_t lease)
{
	ct->lease = lease;
	if (lease == 0)
		liveness_set_active(ct->lv, false);
	controller__schedule(ct, 0);
}

void
controller_set_rpc(struct controller *ct, struct rpc *rpc)
{
	ct->rpc = rpc;
}

bool
controller_elected(const struct controller *ct)
{
	return ct->lease != 0 &&
	       strcmp(cluster_view_controller(ct->view), ct->self) == 0;
}

/* ---- planning (pure) ---- */

struct ct_node {
	const char *id;
	const char *zone;
	size_t      primaries;        /* partitions it leads */
	size_t      replicas;         /* partitions it holds a copy of */
};

bool
controller__live(const struct cluster_view *v, const char *id)
{
	const struct cluster_member *m = cluster_view_member(v, id);
	const struct cluster_alive *a = cluster_view_alive(v, id);

	return m != NULL && m->state == CLUSTER_MEMBER_ACTIVE && a != NULL &&
	       !a->store_failed;
}

/* Live active members, in id order. */
static size_t
ct_eligible(const struct cluster_view *v, struct ct_node **nodes_r)
{
	const struct cluster_member *const *m;
	size_t nm = cluster_view_members(v, &m), n = 0;
	struct ct_node *nodes = rs_xcalloc(nm + 1, sizeof(*nodes));

	for (size_t i = 0; i < nm; i++) {
		if (controller__live(v, m[i]->id)) {
			nodes[n].id = m[i]->id;
			nodes[n++].zone = m[i]->zone;
		}
	}
	*nodes_r = nodes;
	return n;
}

static struct ct_node *
ct_find(struct ct_node *nodes, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(nodes[i].id, id) == 0)
			return &nodes[i];
	return NULL;
}

static struct ct_node *
ct_emptiest(struct ct_node *nodes, size_t n)
{
	struct ct_node *best = &nodes[0];

	for (size_t i = 1; i < n; i++)
		if (nodes[i].primaries < best->primaries)
			best = &nodes[i];
	return best;
}

static bool
ct_has(const char ids[][CLUSTER_ID_MAX + 1], size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return true;
	return false;
}

/* A zone already among rec's replicas (members without a zone share
 * none). */
static bool
ct_zone_taken(const struct cluster_view *v, const struct cluster_part *rec,
              const char *zone)
{
	if (zone[0] == '\0')
		return false;
	for (size_t i = 0; i < rec->nreplicas; i++) {
		const struct cluster_member *m =
			cluster_view_member(v, rec->replicas[i]);

		if (m != NULL && strcmp(m->zone, zone) == 0)
			return true;
	}
	return false;
}

/* The best node to hold one more copy of rec: not holding one, in a zone
 * not yet used if possible, with the fewest copies. NULL: none left. */
static struct ct_node *
ct_pick_follower(const struct cluster_view *v, struct ct_node *nodes,
                 size_t n, const struct cluster_part *rec)
{
	struct ct_node *best = NULL;
	bool best_new_zone = false;

	for (size_t i = 0; i < n; i++) {
		bool new_zone;

		/* Never its own primary: one that left the replicas (a new
		 * data directory, cluster.c) waits for a failover. */
		if (ct_has(rec->replicas, rec->nreplicas, nodes[i].id) ||
		    strcmp(rec->primary, nodes[i].id) == 0)
			continue;
		new_zone = !ct_zone_taken(v, rec, nodes[i].zone);
		if (best == NULL || (new_zone && !best_new_zone) ||
		    (new_zone == best_new_zone &&
		     nodes[i].replicas < best->replicas)) {
			best = &nodes[i];
			best_new_zone = new_zone;
		}
	}
	return best;
}

static void
ct_add_replica(struct cluster_part *rec, const char *id, bool in_sync)
{
	if (rec->nreplicas == CLUSTER_REPLICAS_MAX)
		return;
	snprintf(rec->replicas[rec->nreplicas++], CLUSTER_ID_MAX + 1, "%s", id);
	if (in_sync)
		snprintf(rec->in_sync[rec->nin_sync++], CLUSTER_ID_MAX + 1, "%s",
		         id);
}

/* A fresh record for a partition without data: primary to, and
 * followers up to r, all in sync (there is nothing to copy). */
static void
ct_fresh(const struct cluster_view *v, struct ct_node *nodes, size_t n,
         struct ct_node *to, uint32_t r, int64_t epoch,
         struct cluster_part *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->epoch = epoch;
	snprintf(rec->primary, sizeof(rec->primary), "%s", to->id);
	ct_add_replica(rec, to->id, true);
	to->primaries++;
	to->replicas++;
	while (rec->nreplicas < r) {
		struct ct_node *f = ct_pick_follower(v, nodes, n, rec);

		if (f == NULL)
			break;
		ct_add_replica(rec, f->id, true);
		f->replicas++;
	}
}

/* A failover: a live in-sync follower takes over at epoch + 1; the
 * others stay in sync (every acknowledged entry is on each). The plan
 * names the first; acting on it, the controller asks them all their
 * positions and may name another (controller_promote.c). */
static bool
ct_failover(struct ct_node *nodes, size_t n, struct cluster_part *rec)
{
	struct ct_node *to = NULL;
	size_t k = 0;

	for (size_t i = 0; i < rec->nin_sync && to == NULL; i++)
		if (strcmp(rec->in_sync[i], rec->primary) != 0)
			to = ct_find(nodes, n, rec->in_sync[i]);
	if (to == NULL)
		return false;
	for (size_t i = 0; i < rec->nin_sync; i++)
		if (strcmp(rec->in_sync[i], rec->primary) != 0)
			memmove(rec->in_sync[k++], rec->in_sync[i],
			        CLUSTER_ID_MAX + 1);
	rec->nin_sync = k;
	snprintf(rec->primary, sizeof(rec->primary), "%s", to->id);
	rec->epoch++;
	return true;
}

/* Replica upkeep of a partition led by a live member: copies on nodes
 * that left are dropped, missing copies added (not in sync: they catch
 * up first). True if rec changed. */
static bool
ct_upkeep(const struct cluster_view *v, struct ct_node *nodes, size_t n,
          uint32_t r, struct cluster_part *rec)
{
	size_t k = 0, s = 0, want = r < n ? r : n;
	bool changed = false;

	for (size_t i = 0; i < rec->nreplicas; i++) {
		const struct cluster_member *m =
			cluster_view_member(v, rec->replicas[i]);

		if (strcmp(rec->replicas[i], rec->primary) != 0 &&
		    (m == NULL || m->state != CLUSTER_MEMBER_ACTIVE)) {
			changed = true;
			continue;
		}
		memmove(rec->replicas[k++], rec->replicas[i], CLUSTER_ID_MAX + 1);
	}
	rec->nreplicas = k;
	for (size_t i = 0; i < rec->nin_sync; i++)
		if (ct_has(rec->replicas, rec->nreplicas, rec->in_sync[i]))
			memmove(rec->in_sync[s++], rec->in_sync[i],
			        CLUSTER_ID_MAX + 1);
	rec->nin_sync = s;
	while (rec->nreplicas < want) {
		struct ct_node *f = ct_pick_follower(v, nodes, n, rec);

		if (f == NULL)
			break;
		ct_add_replica(rec, f->id, false);
		f->replicas++;
		changed = true;
	}
	return changed;
}

/* The change one partition needs, if any, into *m. */
static bool
ct_plan_part(const struct cluster_view *v, struct ct_node *nodes, size_t n,
             uint32_t r, uint32_t p, struct controller_move *m)
{
	const struct cluster_view_part *vp = cluster_view_part(v, p);
	struct ct_node *o = ct_find(nodes, n, vp->rec.primary);
	struct ct_node *to = ct_emptiest(nodes, n);

	m->part = p;
	m->rec = vp->rec;
	m->mod_rev = vp->mod_rev;
	m->unused = vp->rec.primary[0] != '\0' && vp->used_rev == 0;
	m->failover = false;
	if (vp->rec.primary[0] == '\0' ||
	    (m->unused && (o == NULL || o->primaries > to->primaries + 1))) {
		/* Nothing to keep: place it afresh. */
		if (o != NULL)
			o->primaries--;
		ct_fresh(v, nodes, n, to, r, vp->rec.epoch + 1, &m->rec);
		return true;
	}
	if (o == NULL) {
		m->failover = ct_failover(nodes, n, &m->rec);
		return m->failover;
	}
	return ct_upkeep(v, nodes, n, r, &m->rec);
}

size_t
controller_plan(const struct cluster_view *v, uint32_t r,
                struct controller_move *moves, size_t max)
{
	uint32_t np = cluster_view_npartitions(v);
	struct ct_node *nodes;
	size_t n = ct_eligible(v, &nodes), nm = 0;

	if (n == 0) {
		free(nodes);
		return 0;
	}
	for (uint32_t p = 0; p < np; p++) {
		const struct cluster_part *rec = &cluster_view_part(v, p)->rec;
		struct ct_node *o = ct_find(nodes, n, rec->primary);

		if (o != NULL)
			o->primaries++;
		for (size_t i = 0; i < rec->nreplicas; i++)
			if ((o = ct_find(nodes, n, rec->replicas[i])) != NULL)
				o->replicas++;
	}
	for (uint32_t p = 0; p < np && nm < max; p++)
		if (ct_plan_part(v, nodes, n, r, p, &moves[nm]))
			nm++;
	free(nodes);
	return nm;
}

/* ---- acting ---- */

struct ct_txn {
	struct controller *ct;
	uint32_t           part;
	char               from[CLUSTER_ID_MAX + 1];
	char               to[CLUSTER_ID_MAX + 1];
	int64_t            epoch;
};

static void
ct_on_moved(void *arg, int rc, const struct rs_err *err, int64_t rev)
{
	struct ct_txn *t = arg;
	struct controller *ct = t->ct;

	(void)rev;
	ct->pending--;
	ct->inflight[t->part] = false;
	if (rc == 0)
		rs_log(RS_LOG_INFO, "cluster.partition_changed",
		       "partition=%u epoch=%lld primary=%s was=%s", t->part,
		       (long long)t->epoch, t->to, t->from[0] ? t->from : "-");
	else if (rc != RS_ECONFLICT)
		rs_log(RS_LOG_WARN, "cluster.partition_assign_failed",
		       "partition=%u error=\"%s\"", t->part,
		       err != NULL ? err->msg : rs_err_name(rc));
	free(t);
	/* A conflict means the view is behind: the watch brings the news
	 * and schedules the next pass; anything else is retried later. */
	controller__schedule(ct, rc == 0 || rc == RS_ECONFLICT
	                         ? CT_DEBOUNCE_MS : CT_RETRY_MS);
}

void
controller__move(struct controller *ct, const struct controller_move *m)
{
	const char *prefix = cluster_view_prefix(ct->view);
	const struct cluster_view_part *vp = cluster_view_part(ct->view, m->part);
	struct ct_txn *t = rs_xcalloc(1, sizeof(*t));
	char *pkey = cluster_rec_part_key(prefix, m->part);
	char *ukey = rs_xasprintf("%sused/%u", prefix, m->part);
	char *json = cluster_part_json(&m->rec);
	struct coord_cmp cmps[2] = { { pkey, m->mod_rev }, { ukey, 0 } };
	struct coord_op op = { .type = COORD_OP_PUT, .key = pkey,
	                       .value = json, .len = strlen(json) };
	struct rs_err err;

	t->ct = ct;
	t->part = m->part;
	t->epoch = m->rec.epoch;
	snprintf(t->from, sizeof(t->from), "%s", vp->rec.primary);
	snprintf(t->to, sizeof(t->to), "%s", m->rec.primary);
	/* Placing afresh a partition that had a primary is only safe while
	 * it holds no account: used/<p> must still be absent when the move
	 * commits (the directory creates it in the account's own
	 * transaction). Everything else compares the record alone. */
	if (coord_txn(ct->coord, cmps, m->unused ? 2 : 1, &op, 1, ct_on_moved,
	              t, &err) != 0) {
		rs_log(RS_LOG_WARN, "cluster.partition_assign_failed",
		       "partition=%u error=\"%s\"", m->part, err.msg);
		free(t);
		/* A move made after a failover's question ends no pass: no
		 * view change may come to plan it again. */
		controller__schedule(ct, CT_RETRY_MS);
	} else {
		ct->pending++;
		ct->inflight[m->part] = true;
	}
	free(json);
	free(pkey);
	free(ukey);
}

static void
ct_on_campaign(void *arg, int rc, const struct rs_err *err, int64_t rev)
{
	struct controller *ct = arg;

	(void)rev;
	ct->electing = false;
	if (rc == 0)
		rs_log(RS_LOG_INFO, "cluster.controller_elected", "node=%s",
		       ct->self);
	else if (rc != RS_ECONFLICT)
		rs_log(RS_LOG_WARN, "cluster.controller_campaign_failed",
		       "error=\"%s\"", err != NULL ? err->msg : rs_err_name(rc));
	controller__schedule(ct, rc == 0 || rc == RS_ECONFLICT
	                         ? CT_DEBOUNCE_MS : CT_RETRY_MS);
}

static void
ct_campaign(struct controller *ct)
{
	char *json = rs_xasprintf("{\"id\":\"%s\"}", ct->self);
	struct coord_cmp cmp = { ct->key, 0 };
	struct coord_op op = {
		.type = COORD_OP_PUT, .key = ct->key, .value = json,
		.len = strlen(json), .lease = ct->lease,
	};
	struct rs_err err;

	ct->electing = true;
	if (coord_txn(ct->coord, &cmp, 1, &op, 1, ct_on_campaign, ct,
	              &err) != 0) {
		ct->electing = false;
		controller__schedule(ct, CT_RETRY_MS);
	}
	free(json);
}

static void
ct_on_pass(evutil_socket_t fd, short what, void *arg)
{
	struct controller *ct = arg;
	struct controller_move moves[64];
	size_t n;

	(void)fd;
	(void)what;
	/* One pass at a time: the plan counts from the view, which learns
	 * of the last pass's moves only through the watch. */
	if (ct->lease == 0 || ct->electing || ct->pending > 0)
		return;
	if (cluster_view_controller(ct->view)[0] == '\0') {
		ct_campaign(ct);
		return;
	}
	if (!controller_elected(ct)) {
		if (ct->was_elected)
			rs_log(RS_LOG_INFO, "cluster.controller_resigned",
			       "node=%s", ct->self);
		ct->was_elected = false;
		liveness_set_active(ct->lv, false);
		return;
	}
	ct->was_elected = true;
	liveness_set_active(ct->lv, true);
	n = controller_plan(ct->view, ct->replicas, moves,
	                    sizeof(moves) / sizeof(moves[0]));
	for (size_t i = 0; i < n; i++) {
		if (ct->inflight[moves[i].part])
			continue;
		if (moves[i].failover)
			controller__promote(ct, &moves[i]);
		else
			controller__move(ct, &moves[i]);
	}
}
