/* coord_local.h: the embedded coordination backend for a standalone node:
 * the same data model as etcd, kept in the node's own store under the
 * node-local key range and written through the store's writer (durable,
 * group-committed). */
#ifndef ROOST_CLUSTER_COORD_LOCAL_H
#define ROOST_CLUSTER_COORD_LOCAL_H

#include "cluster/coord.h"
#include "lib/rs_exec.h"

struct store;

/* Never fails at creation (reads happen on first use). ex runs callbacks
 * on the owner's loop; st and ex must outlive the coord. */
struct coord *coord_local_new(struct store *st, struct rs_exec *ex);

#endif
