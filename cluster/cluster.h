/* cluster.h: a node's membership in a cluster: the cluster's
 * configuration (read once at start), the view of members, liveness and
 * placement (cluster_view.h), this node's presence on its lease
 * (cluster_presence.h) and its controller (controller.h). What the node's
 * components ask: where does partition p live, do I serve it.
 * Loop thread only. */
#ifndef ROOST_CLUSTER_CLUSTER_H
#define ROOST_CLUSTER_CLUSTER_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster/cluster_rec.h"
#include "cluster/cluster_view.h"
#include "lib/rs_err.h"

struct coord;
struct cluster;
struct rpc;

struct cluster_opts {
	const char *name;             /* the cluster (cluster init's --name) */
	const char *node_id;
	const char *host;             /* where peers reach this node */
	unsigned    port_base;
	int64_t     lease_ttl;        /* seconds; 0: 5 */
	/* The data directory is new: before it is alive, the node leaves
	 * the in-sync sets the records name it in (where another node is
	 * in sync) and waits for the partitions it led to fail over. */
	bool        new_data_dir;
};

typedef void cluster_done_fn(void *arg, int rc, const struct rs_err *err);

/* Reads "/roost/<name>/config" (RS_ENOTFOUND: not initialised;
 * RS_EUNAVAIL: etcd unreachable), loads the view, (with new_data_dir:
 * gives up what the records credit this node with), puts alive/<id>,
 * starts the controller; cb(arg, rc, err) once ready or failed. *c_r is set at
 * once and must be freed either way. */
int cluster_open(struct event_base *base, struct coord *c,
                 const struct cluster_opts *o, cluster_done_fn *cb,
                 void *arg, struct cluster **c_r, struct rs_err *err)
	RS_MUST_CHECK;
/* Revokes the node's lease (it leaves at once rather than after the
 * TTL); cb runs when done. */
void cluster_leave(struct cluster *c, cluster_done_fn *cb, void *arg);
/* NULL-safe. Free the coord first: it drops the callbacks of requests
 * in flight, which would otherwise find the cluster gone. */
void cluster_free(struct cluster **pp);

/* Valid once cluster_open's cb ran with 0. */
const struct cluster_config *cluster_config(const struct cluster *c);
struct cluster_view *cluster_view(const struct cluster *c);
struct coord *cluster_coord(const struct cluster *c);
const char *cluster_self(const struct cluster *c);
const char *cluster_name(const struct cluster *c);
/* "/roost/<name>/" */
const char *cluster_prefix(const struct cluster *c);

/* Called when this node stops serving partition part as its primary (it
 * moved, or another node was promoted): sessions on its accounts must go
 * (their clients reconnect and reach the new primary). */
typedef void cluster_lost_fn(void *arg, uint32_t part);
void cluster_on_lost(struct cluster *c, cluster_lost_fn *fn, void *arg);

/* Where partition part is served: its primary's id, host and port base.
 * 0; RS_EUNAVAIL (no primary, or the primary is not alive); RS_EINVAL
 * (no such partition). */
int cluster_primary(const struct cluster *c, uint32_t part,
                    const char **id_r, const char **host_r,
                    unsigned *port_base_r);
/* Whether this node is part's primary now, and at which epoch. */
bool cluster_serves(const struct cluster *c, uint32_t part,
                    int64_t *epoch_r);
/* This node's store failed: alive/<id> says so, and the controller
 * moves its partitions' leadership to other copies. Once; a restart
 * clears it. */
void cluster_report_store_failed(struct cluster *c);

/* Whether this node's lease is fresh (see cluster_presence_fresh). */
bool cluster_fresh(const struct cluster *c);
bool cluster_is_controller(const struct cluster *c);
/* The peer RPC (borrowed) the controller asks followers' positions
 * through at a failover; NULL before freeing it. Once cluster_open's cb
 * ran with 0. */
void cluster_set_rpc(struct cluster *c, struct rpc *rpc);

#endif
