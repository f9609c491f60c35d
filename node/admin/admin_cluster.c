/* admin_cluster.c: the cluster's part of the admin API: /api/v1/nodes
 * (node add, node list) and the cluster fields of /api/v1/status (nodes,
 * partitions). Every node answers from its view of the cluster (fed by
 * etcd's watch); node add writes members/<id> with a compare-and-swap. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/cluster.h"
#include "cluster/controller.h"
#include "cluster/repl.h"
#include "cluster/coord.h"
#include "lib/rs_mem.h"
#include "node/admin/admin_int.h"
#include "node/core/node_ctx.h"

/* One node as status and node list show it. */
static json_t *
admin_node_json(const struct cluster_view *v, const char *id)
{
	const struct cluster_member *m = cluster_view_member(v, id);
	const struct cluster_alive *a = cluster_view_alive(v, id);
	json_int_t primaries = 0, replicas = 0;
	json_t *o;

	for (uint32_t p = 0; p < cluster_view_npartitions(v); p++) {
		const struct cluster_part *rec = &cluster_view_part(v, p)->rec;

		if (strcmp(rec->primary, id) == 0)
			primaries++;
		if (cluster_part_has_replica(rec, id))
			replicas++;
	}
	o = json_pack("{s:s,s:b,s:s,s:I,s:I,s:s}", "id", id, "alive", a != NULL,
	              "state", m != NULL ? cluster_member_state_name(m->state)
	                                 : "standby",
	              "primaries", primaries, "replicas", replicas,
	              "zone", m != NULL ? m->zone : "");
	if (a != NULL) {
		char addr[CLUSTER_HOST_MAX + 16];

		snprintf(addr, sizeof(addr), "%s:%u", a->host, a->port_base);
		json_object_set_new(o, "addr", json_string(addr));
		json_object_set_new(o, "host", json_string(a->host));
		json_object_set_new(o, "port_base", json_integer(a->port_base));
		json_object_set_new(o, "version", json_string(a->version));
	} else {
		json_object_set_new(o, "addr", json_null());
	}
	return o;
}

/* Members and live non-members, in id order. */
static json_t *
admin_nodes_json(const struct cluster_view *v)
{
	const struct cluster_member *const *m;
	const struct cluster_alive *const *a;
	size_t nm = cluster_view_members(v, &m), na = cluster_view_alives(v, &a);
	size_t i = 0, j = 0;
	json_t *arr = json_array();

	while (i < nm || j < na) {
		int c = i == nm ? 1 : j == na ? -1 : strcmp(m[i]->id, a[j]->id);
		const char *id = c <= 0 ? m[i]->id : a[j]->id;

		json_array_append_new(arr, admin_node_json(v, id));
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	return arr;
}

static json_t *
admin_ids(const char ids[][CLUSTER_ID_MAX + 1], size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(ids[i]));
	return a;
}

/* This node's replication of p: its log position and, when it leads p,
 * how far behind each follower is (entries, and the age of the oldest
 * entry it lacks). */
static void
admin_part_repl(struct repl *r, uint32_t p, json_t *o)
{
	struct repl_follower_stat fs[CLUSTER_REPLICAS_MAX];
	uint64_t lsn;
	size_t n;
	json_t *lag;

	if (r == NULL)
		return;
	n = repl_part_status(r, p, &lsn, fs, CLUSTER_REPLICAS_MAX);
	json_object_set_new(o, "lsn", json_integer((json_int_t)lsn));
	if (n == 0)
		return;
	lag = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(lag, json_pack("{s:s,s:I,s:I,s:f,s:b,s:s}",
		    "node", fs[i].node, "lsn", (json_int_t)fs[i].lsn,
		    "behind", (json_int_t)fs[i].behind, "behind_s",
		    fs[i].behind_s, "in_sync", fs[i].in_sync, "state",
		    fs[i].state));
	json_object_set_new(o, "followers", lag);
}

static json_t *
admin_parts_json(const struct cluster_view *v, struct repl *r)
{
	json_t *arr = json_array();

	for (uint32_t p = 0; p < cluster_view_npartitions(v); p++) {
		const struct cluster_view_part *vp = cluster_view_part(v, p);
		const char *pr = vp->rec.primary;
		json_t *o = json_pack("{s:I,s:I,s:o,s:o,s:o,s:b,s:b}",
		    "id", (json_int_t)p, "epoch", (json_int_t)vp->rec.epoch,
		    "primary", pr[0] ? json_string(pr) : json_null(),
		    "replicas", admin_ids(vp->rec.replicas, vp->rec.nreplicas),
		    "in_sync", admin_ids(vp->rec.in_sync, vp->rec.nin_sync),
		    "primary_alive", pr[0] && cluster_view_alive(v, pr) != NULL,
		    "used", vp->used_rev != 0);

		admin_part_repl(r, p, o);
		json_array_append_new(arr, o);
	}
	return arr;
}

void
admin__cluster_status(struct admin *adm, json_t *st)
{
	struct cluster *c = adm->node->cluster;
	const struct cluster_view *v;

	if (c == NULL)
		return;
	v = cluster_view(c);
	json_object_set_new(st, "cluster", json_string(cluster_name(c)));
	json_object_set_new(st, "controller",
	                    json_string(cluster_view_controller(v)));
	json_object_set_new(st, "replication_factor",
	                    json_integer(cluster_config(c)->replicas));
	json_object_set_new(st, "nodes", admin_nodes_json(v));
	{
		/* Whether the controller (whichever node it is) would change
		 * nothing now: cluster wait waits for it. */
		struct controller_move m;

		json_object_set_new(st, "settled",
		                    json_boolean(controller_plan(v,
		                        cluster_config(c)->replicas, &m, 1) == 0));
	}
	json_object_set_new(st, "partitions",
	                    admin_parts_json(v, adm->node->repl));
}

/* ---- node add ---- */

static void
admin_node_added(void *arg, int rc, const struct rs_err *err, int64_t rev)
{
	struct admin_req *r = arg;

	(void)rev;
	if (rc == RS_ECONFLICT) {
		admin__reply_error(r, 409, "node %s is a member already",
		                   r->addr);
		return;
	}
	if (rc != 0) {
		admin__reply_rc(r, rc, err);
		return;
	}
	admin__reply_json(r, 201, json_pack("{s:s}", "id", r->addr));
}

static void
admin_node_add(struct admin_req *r)
{
	struct cluster *c = r->adm->node->cluster;
	const struct cluster_view *v = cluster_view(c);
	const char *id = admin__str(r, "id"), *zone = admin__str(r, "zone");
	struct cluster_member m = { .state = CLUSTER_MEMBER_ACTIVE };
	struct coord_cmp cmp;
	struct coord_op op = { .type = COORD_OP_PUT };
	struct rs_err err;
	char *key, *json;

	if (id == NULL || !cluster_rec_name_ok(id, CLUSTER_ID_MAX)) {
		admin__reply_error(r, 400, "id: a node id (a-z, 0-9, '.', '_', "
		                   "'-') is required");
		return;
	}
	if (zone != NULL && zone[0] != '\0' &&
	    !cluster_rec_name_ok(zone, CLUSTER_ZONE_MAX)) {
		admin__reply_error(r, 400, "zone: a-z, 0-9, '.', '_', '-'");
		return;
	}
	if (cluster_view_member(v, id) != NULL) {
		admin__reply_error(r, 409, "node %s is a member already", id);
		return;
	}
	if (cluster_view_alive(v, id) == NULL) {
		admin__reply_error(r, 404, "node %s is not running (start it "
		                   "with --node-id %s first)", id, id);
		return;
	}
	snprintf(r->addr, sizeof(r->addr), "%s", id);
	snprintf(m.id, sizeof(m.id), "%s", id);
	snprintf(m.zone, sizeof(m.zone), "%s", zone != NULL ? zone : "");
	m.added = (int64_t)time(NULL);
	key = cluster_rec_key(cluster_prefix(c), "members", id);
	json = cluster_member_json(&m);
	cmp = (struct coord_cmp){ key, 0 };
	op.key = key;
	op.value = json;
	op.len = strlen(json);
	if (coord_txn(cluster_coord(c), &cmp, 1, &op, 1, admin_node_added, r,
	              &err) != 0)
		admin__reply_rc(r, err.code, &err);
	free(key);
	free(json);
}

void
admin__nodes(struct admin_req *r)
{
	struct cluster *c = r->adm->node->cluster;

	if (c == NULL) {
		admin__reply_error(r, 404, "not a cluster: this node runs "
		                   "standalone");
		return;
	}
	if (r->nseg == 1 && r->method == EVHTTP_REQ_GET) {
		admin__reply_json(r, 200, json_pack("{s:o}", "nodes",
		                  admin_nodes_json(cluster_view(c))));
		return;
	}
	if (r->nseg == 1 && r->method == EVHTTP_REQ_POST) {
		admin_node_add(r);
		return;
	}
	admin__reply_error(r, r->nseg == 1 ? 405 : 404, "%s",
	                   r->nseg == 1 ? "method not allowed"
	                                : "no such resource");
}
