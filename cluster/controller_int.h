/* controller_int.h: shared by cluster/controller*.c: the controller's
 * state, the CAS that applies a move (controller.c), and the question
 * of a failover's candidates before it (controller_promote.c). */
#ifndef ROOST_CLUSTER_CONTROLLER_INT_H
#define ROOST_CLUSTER_CONTROLLER_INT_H

#include "cluster/controller.h"

struct ct_promote;

struct controller {
	struct event_base   *base;
	struct coord        *coord;
	struct cluster_view *view;
	struct rpc          *rpc;        /* borrowed; NULL: none yet */
	char                 self[CLUSTER_ID_MAX + 1];
	uint32_t             replicas;   /* the cluster's R */
	char                *key;        /* owns: the controller key */
	int64_t              lease;
	bool                 electing;   /* a campaign txn in flight */
	bool                 was_elected;
	struct event        *pass;       /* owns: the debounced pass */
	bool                *inflight;   /* owns [npartitions]: a CAS or a
	                                  * position question in flight */
	struct liveness     *lv;         /* owns */
	unsigned             pending;    /* txns and questions in flight */
	struct ct_promote   *promotes;   /* owns: questions in flight */
};

#define CT_DEBOUNCE_MS  50
#define CT_RETRY_MS     1000

/* ---- controller.c ---- */
/* Runs a pass in ms (unless one is due already). */
void controller__schedule(struct controller *ct, unsigned ms);
/* A live active member whose store works: one that may lead. */
bool controller__live(const struct cluster_view *v, const char *id);
/* The CAS that makes m's record the partition's (m->mod_rev compared). */
void controller__move(struct controller *ct, const struct controller_move *m);

/* ---- controller_promote.c ---- */
/* A failover m (m->rec.primary the first live in-sync follower): asks
 * each candidate its position, then moves with the furthest as primary
 * (controller_promote_pick). Holds the partition in flight meanwhile. */
void controller__promote(struct controller *ct,
                         const struct controller_move *m);
/* Frees the questions in flight (their calls' callbacks must be gone:
 * the rpc freed or never set). */
void controller__promote_free_all(struct controller *ct);

#endif
