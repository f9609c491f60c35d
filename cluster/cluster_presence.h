/* cluster_presence.h: this node's liveness in the cluster: alive/<id>
 * (its address) on a lease of a few seconds that the node renews every
 * third of the TTL. A lease that is lost (etcd unreachable for longer
 * than the TTL, or a frozen process) is replaced by a new one and the key
 * put again. The controller election uses the same lease, so a node that
 * dies loses both at once. Loop thread only. */
#ifndef ROOST_CLUSTER_CLUSTER_PRESENCE_H
#define ROOST_CLUSTER_CLUSTER_PRESENCE_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster/cluster_rec.h"
#include "lib/rs_err.h"

struct coord;
struct cluster_presence;

/* Called when the node's lease changes (0: lost, else the new id). */
typedef void cluster_presence_fn(void *arg, int64_t lease);

/* self is copied; ttl in seconds (>= 2). Nothing happens before start. */
struct cluster_presence *cluster_presence_new(struct event_base *base,
                                              struct coord *c,
                                              const char *prefix,
                                              const struct cluster_alive *self,
                                              int64_t ttl,
                                              cluster_presence_fn *fn,
                                              void *arg);
/* Revokes nothing (see stop); NULL-safe. Free the coord first: it drops
 * the callbacks of requests in flight. */
void cluster_presence_free(struct cluster_presence **pp);

/* Grants the lease and puts alive/<id>; cb(arg, rc, err) once the key is
 * there (rc 0) or the first attempt failed (the node refuses to start
 * then). Renewal goes on by itself afterwards. */
typedef void cluster_presence_done_fn(void *arg, int rc,
                                      const struct rs_err *err);
int cluster_presence_start(struct cluster_presence *p,
                           cluster_presence_done_fn *cb, void *arg,
                           struct rs_err *err) RS_MUST_CHECK;
/* Revokes the lease (alive/<id> and anything else on it goes at once);
 * cb runs when etcd answered or gave up. */
void cluster_presence_stop(struct cluster_presence *p,
                           cluster_presence_done_fn *cb, void *arg);

/* Replaces what alive/<id> says of the node (its store failed, say) and
 * puts it again at the next renewal. */
void cluster_presence_update(struct cluster_presence *p,
                             const struct cluster_alive *self);

/* The current lease id, 0 if none. */
int64_t cluster_presence_lease(const struct cluster_presence *p);
/* Whether the lease was renewed recently enough that it cannot have
 * expired yet (with a margin for clock rate): what a primary checks
 * before it acknowledges a write. */
bool cluster_presence_fresh(const struct cluster_presence *p);

#endif
