/* cluster_view.h: a node's in-memory copy of the cluster's state in the
 * coordination store: members, who is alive, the controller, partitions
 * and which partitions hold accounts. Loaded once, then kept current by
 * watches, so routing a message or a session never waits on etcd. Loop
 * thread only. Records that do not parse are logged and skipped (the key
 * reads as absent). */
#ifndef ROOST_CLUSTER_CLUSTER_VIEW_H
#define ROOST_CLUSTER_CLUSTER_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/cluster_rec.h"
#include "lib/rs_err.h"

struct coord;
struct cluster_view;

/* A partition as the view knows it. */
struct cluster_view_part {
	struct cluster_part rec;      /* rec.epoch 0: no record (unassigned) */
	int64_t             mod_rev;  /* of partitions/<p>; 0: absent */
	int64_t             used_rev; /* of used/<p>; 0: holds no account */
};

/* Never returns NULL. prefix is "/roost/<cluster>/" (copied). */
struct cluster_view *cluster_view_new(struct coord *c, const char *prefix,
                                      uint32_t npartitions);
void cluster_view_free(struct cluster_view **pp);

typedef void cluster_view_done_fn(void *arg, int rc,
                                  const struct rs_err *err);
/* Loads everything and starts the watches; cb runs once, when the copy
 * is complete (rc 0) or a load failed. */
int cluster_view_start(struct cluster_view *v, cluster_view_done_fn *cb,
                       void *arg, struct rs_err *err) RS_MUST_CHECK;

/* Called after each batch of changes has been applied. At most
 * CLUSTER_VIEW_LISTENERS. */
#define CLUSTER_VIEW_LISTENERS 8
typedef void cluster_view_changed_fn(void *arg);
void cluster_view_listen(struct cluster_view *v, cluster_view_changed_fn *fn,
                         void *arg);

uint32_t cluster_view_npartitions(const struct cluster_view *v);
const char *cluster_view_prefix(const struct cluster_view *v);
/* NULL if part >= npartitions. */
const struct cluster_view_part *cluster_view_part(const struct cluster_view *v,
                                                  uint32_t part);
/* NULL if absent. Borrowed until the next change. */
const struct cluster_member *cluster_view_member(const struct cluster_view *v,
                                                 const char *id);
const struct cluster_alive *cluster_view_alive(const struct cluster_view *v,
                                               const char *id);
/* The elected controller's id, or "" while there is none. */
const char *cluster_view_controller(const struct cluster_view *v);

/* Members in id order (borrowed array of borrowed pointers, valid until
 * the next change). */
size_t cluster_view_members(const struct cluster_view *v,
                            const struct cluster_member *const **list_r);
/* Nodes that are alive (members or not), in id order; same lifetime. */
size_t cluster_view_alives(const struct cluster_view *v,
                           const struct cluster_alive *const **list_r);

/* A node's peer RPC port is its port base plus this (the port
 * convention's B+99; node/core/node_ctx.h NODE_PORT_PEER). */
#define CLUSTER_PEER_PORT 99u

/* Where a live node serves: host and port base. 0, or RS_EUNAVAIL when
 * the node is not alive. */
int cluster_view_node_addr(const struct cluster_view *v, const char *id,
                           const char **host_r, unsigned *port_base_r);

#endif
