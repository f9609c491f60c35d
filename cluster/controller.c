/* controller.c: election on the node's lease, and placement of
 * partitions by compare-and-swap (controller.h says the rules). Work is
 * debounced: a burst of watch events gives one pass; at most one CAS per
 * partition is in flight, and a pass runs again after each completes. */
#include "cluster/controller.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_view.h"
#include "cluster/coord.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"

#define CT_DEBOUNCE_MS  50
#define CT_RETRY_MS     1000

struct controller {
	struct event_base   *base;
	struct coord        *coord;
	struct cluster_view *view;
	char                 self[CLUSTER_ID_MAX + 1];
	char                *key;        /* owns: the controller key */
	int64_t              lease;
	bool                 electing;   /* a campaign txn in flight */
	bool                 was_elected;
	struct event        *pass;       /* owns: the debounced pass */
	bool                *inflight;   /* owns [npartitions] */
	unsigned             pending;    /* txns in flight */
};

static void ct_on_pass(evutil_socket_t fd, short what, void *arg);

static void
ct_schedule(struct controller *ct, unsigned ms)
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
	ct_schedule(arg, CT_DEBOUNCE_MS);
}

struct controller *
controller_new(struct event_base *base, struct coord *c,
               struct cluster_view *v, const char *self)
{
	struct controller *ct = rs_xcalloc(1, sizeof(*ct));

	ct->base = base;
	ct->coord = c;
	ct->view = v;
	snprintf(ct->self, sizeof(ct->self), "%s", self);
	ct->key = rs_xasprintf("%scontroller", cluster_view_prefix(v));
	ct->pass = evtimer_new(base, ct_on_pass, ct);
	ct->inflight = rs_xcalloc(cluster_view_npartitions(v) + 1,
	                          sizeof(*ct->inflight));
	cluster_view_listen(v, ct_on_view, ct);
	return ct;
}

static void
ct_destroy(struct controller *ct)
{
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
	ct_schedule(ct, 0);
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
	size_t      count;            /* partitions it is primary of */
};

/* Live active members, in id order. */
static size_t
ct_eligible(const struct cluster_view *v, struct ct_node **nodes_r)
{
	const struct cluster_member *const *m;
	size_t nm = cluster_view_members(v, &m), n = 0;
	struct ct_node *nodes = rs_xcalloc(nm + 1, sizeof(*nodes));

	for (size_t i = 0; i < nm; i++)
		if (m[i]->state == CLUSTER_MEMBER_ACTIVE &&
		    cluster_view_alive(v, m[i]->id) != NULL)
			nodes[n++].id = m[i]->id;
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
		if (nodes[i].count < best->count)
			best = &nodes[i];
	return best;
}

size_t
controller_plan(const struct cluster_view *v, struct controller_move *moves,
                size_t max)
{
	uint32_t np = cluster_view_npartitions(v);
	struct ct_node *nodes;
	size_t n = ct_eligible(v, &nodes), nm = 0;

	if (n == 0) {
		free(nodes);
		return 0;
	}
	for (uint32_t p = 0; p < np; p++) {
		struct ct_node *o = ct_find(nodes, n,
		                            cluster_view_part(v, p)->rec.primary);

		if (o != NULL)
			o->count++;
	}
	for (uint32_t p = 0; p < np && nm < max; p++) {
		const struct cluster_view_part *vp = cluster_view_part(v, p);
		struct ct_node *o = NULL, *to = ct_emptiest(nodes, n);

		if (vp->rec.primary[0] != '\0') {
			if (vp->used_rev != 0)
				continue;          /* its data lives there */
			o = ct_find(nodes, n, vp->rec.primary);
			/* Balanced enough, or already on the emptiest. */
			if (o != NULL && o->count <= to->count + 1)
				continue;
		}
		if (o != NULL)
			o->count--;
		to->count++;
		moves[nm].part = p;
		snprintf(moves[nm].to, sizeof(moves[nm].to), "%s", to->id);
		nm++;
	}
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
		rs_log(RS_LOG_INFO, "cluster.partition_assigned",
		       "partition=%u epoch=%lld primary=%s from=%s", t->part,
		       (long long)t->epoch, t->to, t->from[0] ? t->from : "-");
	else if (rc != RS_ECONFLICT)
		rs_log(RS_LOG_WARN, "cluster.partition_assign_failed",
		       "partition=%u error=\"%s\"", t->part,
		       err != NULL ? err->msg : rs_err_name(rc));
	free(t);
	/* A conflict means the view is behind: the watch brings the news
	 * and schedules the next pass; anything else is retried later. */
	ct_schedule(ct, rc == 0 || rc == RS_ECONFLICT ? CT_DEBOUNCE_MS
	                                               : CT_RETRY_MS);
}

static void
ct_move(struct controller *ct, const struct controller_move *m)
{
	const char *prefix = cluster_view_prefix(ct->view);
	const struct cluster_view_part *vp = cluster_view_part(ct->view, m->part);
	struct cluster_part rec = { 0 };
	struct ct_txn *t = rs_xcalloc(1, sizeof(*t));
	char *pkey = cluster_rec_part_key(prefix, m->part);
	char *ukey = rs_xasprintf("%sused/%u", prefix, m->part);
	char *json;
	struct coord_cmp cmps[2] = { { pkey, vp->mod_rev }, { ukey, 0 } };
	struct coord_op op = { .type = COORD_OP_PUT, .key = pkey };
	struct rs_err err;

	rec.id = m->part;
	rec.epoch = vp->rec.epoch + 1;
	snprintf(rec.primary, sizeof(rec.primary), "%s", m->to);
	memcpy(rec.replicas[0], rec.primary, sizeof(rec.primary));
	memcpy(rec.in_sync[0], rec.primary, sizeof(rec.primary));
	rec.nreplicas = rec.nin_sync = 1;
	json = cluster_part_json(&rec);
	op.value = json;
	op.len = strlen(json);
	t->ct = ct;
	t->part = m->part;
	t->epoch = rec.epoch;
	snprintf(t->from, sizeof(t->from), "%s", vp->rec.primary);
	snprintf(t->to, sizeof(t->to), "%s", m->to);
	/* Moving an assigned partition is only safe while it holds no
	 * account: used/<p> must still be absent when the move commits (the
	 * directory creates it in the account's own transaction). An
	 * unassigned partition goes wherever it can. */
	if (coord_txn(ct->coord, cmps, vp->rec.primary[0] ? 2 : 1, &op, 1,
	              ct_on_moved, t, &err) != 0) {
		rs_log(RS_LOG_WARN, "cluster.partition_assign_failed",
		       "partition=%u error=\"%s\"", m->part, err.msg);
		free(t);
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
	ct_schedule(ct, rc == 0 || rc == RS_ECONFLICT ? CT_DEBOUNCE_MS
	                                               : CT_RETRY_MS);
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
		ct_schedule(ct, CT_RETRY_MS);
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
		return;
	}
	ct->was_elected = true;
	n = controller_plan(ct->view, moves, sizeof(moves) / sizeof(moves[0]));
	for (size_t i = 0; i < n; i++)
		if (!ct->inflight[moves[i].part])
			ct_move(ct, &moves[i]);
}
