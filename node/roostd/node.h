/* node.h: one Roost node: configuration, the store, coordination, the
 * directory, and the protocol servers on one event loop. roostd's main()
 * is node_new + node_run. */
#ifndef ROOST_NODE_ROOSTD_NODE_H
#define ROOST_NODE_ROOSTD_NODE_H

#include "lib/rs_config.h"
#include "lib/rs_err.h"

struct node;

/* Takes cfg. Validates the configuration and opens the data directory;
 * nothing listens yet. 0 or -1 with err. */
int node_new(struct rs_config *cfg, struct node **r, struct rs_err *err)
	RS_MUST_CHECK;
/* Serves until SIGTERM or SIGINT, then stops gracefully. Returns the
 * process exit status (0 after a clean stop). */
int node_run(struct node *n);
void node_free(struct node **pp);

#endif
