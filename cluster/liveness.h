/* liveness.h: the check that nodes' processes are still there (the
 * elected controller checks every node, the others the controller),
 * revoking the lease of one found gone (liveness.c says when that is
 * safe). Loop thread only. */
#ifndef ROOST_CLUSTER_LIVENESS_H
#define ROOST_CLUSTER_LIVENESS_H

#include <event2/event.h>
#include <stdbool.h>

struct coord;
struct cluster_view;
struct liveness;

/* Probes every half second while active. self (copied) is skipped. */
struct liveness *liveness_new(struct event_base *base, struct coord *c,
                              struct cluster_view *v, const char *self);
/* On: this node is the elected controller and checks every node; off:
 * it checks the controller only. */
void liveness_set_active(struct liveness *lv, bool on);
/* NULL-safe. */
void liveness_free(struct liveness **pp);

#endif
