/* controller.h: the cluster's controller. Every node runs one; at most
 * one at a time is elected, by creating the "controller" key on its lease
 * (a node that dies loses it with its lease, and another takes over).
 * The elected one reconciles placement toward the membership in
 * partitions/<p>, each change one compare-and-swap on the partition's
 * key with its epoch + 1:
 *   - a partition without a primary gets the live active member holding
 *     the fewest;
 *   - a partition that holds no account yet (used/<p> absent, compared
 *     in the same transaction) moves freely: off a member that is gone,
 *     dead or draining, and from the fullest member to the emptiest
 *     until they differ by at most one;
 *   - a partition that holds accounts stays where its data is (moving
 *     data is replication's and rebalancing's work);
 *   - a partition whose primary is no longer live goes to the live
 *     in-sync follower with the highest log position: each is asked its
 *     position first (RPC_METHOD_REPL_POSITION, all at once, a short
 *     deadline), so that the others need not discard entries the new
 *     primary lacks and take a copy of the partition.
 * Loop thread only. */
#ifndef ROOST_CLUSTER_CONTROLLER_H
#define ROOST_CLUSTER_CONTROLLER_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster/cluster_rec.h"

struct coord;
struct cluster_view;
struct controller;
struct rpc;

/* self is this node's id (copied); replicas the cluster's R. Watches the
 * view from creation. */
struct controller *controller_new(struct event_base *base, struct coord *c,
                                  struct cluster_view *v, const char *self,
                                  uint32_t replicas);
/* NULL-safe. Free the coord and the rpc first: they drop the callbacks
 * of the transactions and calls in flight. */
void controller_free(struct controller **pp);

/* The peer RPC (borrowed) through which a failover asks the candidates
 * their positions; NULL: none (a failover then promotes the first live
 * in-sync follower). */
void controller_set_rpc(struct controller *ct, struct rpc *rpc);

/* The node's lease changed (0: lost: the node stops controlling). */
void controller_set_lease(struct controller *ct, int64_t lease);
/* Whether this node is the elected controller now. */
bool controller_elected(const struct controller *ct);

/* The plan, pure, for tests and status: which partitions change, and
 * their new records. */
struct controller_move {
	uint32_t            part;
	struct cluster_part rec;
	int64_t             mod_rev;  /* the record's, compared by the CAS */
	bool                unused;   /* placed afresh: compare used/<p> */
	bool                failover; /* rec.primary is the first live
	                               * in-sync follower: the controller
	                               * may pick another of them */
};
/* Fills up to max moves from the view's state for a cluster of r copies
 * a partition; returns how many. */
size_t controller_plan(const struct cluster_view *v, uint32_t r,
                       struct controller_move *moves, size_t max);

/* A follower that may take over at a failover, and what it answered. */
struct controller_cand {
	char     id[CLUSTER_ID_MAX + 1];
	bool     live;                /* still may lead */
	bool     answered;            /* told its position in time */
	int64_t  epoch;               /* its position: its last entry's */
	uint64_t lsn;                 /* epoch and number */
};
/* Which of n candidates (in in-sync order) to promote: of the live ones,
 * the one that answered with the highest (epoch, lsn), the first of
 * equals; the first live one when none of those answered; n when none
 * is live. Pure. */
size_t controller_promote_pick(const struct controller_cand *c, size_t n);

#endif
