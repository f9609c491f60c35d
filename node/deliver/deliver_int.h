/* deliver_int.h: shared by node/deliver's files: the job of one message
 * (deliver.c), its call to a remote primary (deliver_call.c) and the
 * primary's side of that call (deliver_serve.c). */
#ifndef ROOST_NODE_DELIVER_DELIVER_INT_H
#define ROOST_NODE_DELIVER_DELIVER_INT_H

#include <stdbool.h>

#include "node/deliver/deliver.h"

struct deliver_job;

/* The copies that go to one node. */
struct deliver_group {
	struct deliver_job *job;        /* borrowed: the owner */
	bool                local;
	bool                done;
	char                node[64];   /* remote: the primary's id */
	size_t             *idx;        /* owns: indices into job->rcpts */
	struct store_rcpt  *rcpts;      /* owns: copies, results after */
	int64_t            *epochs;     /* owns: the epoch routed by */
	size_t              n;
};

struct deliver_job {
	struct deliver           *d;
	const struct store_message *msg;   /* borrowed until cb */
	struct store_rcpt        *rcpts;   /* borrowed until cb */
	size_t                    n;
	char                      txn_id[64];
	deliver_done_fn          *cb;
	void                     *arg;
	struct deliver_group     *groups;  /* owns [n at most] */
	size_t                    ngroups;
	unsigned                  pending; /* groups not done */
	int                       rc;
	struct deliver_job       *next;    /* in d->jobs */
};

struct deliver {
	struct node_ctx    *node;
	unsigned            timeout_ms;    /* per call */
	struct deliver_job *jobs;          /* live jobs */
};

/* Ends a group with rc (0: its rcpts hold their results). */
void deliver__group_done(struct deliver_group *g, int rc);
/* Sends the group's copies to its node. 0, or -1 (nothing sent). */
int deliver__call(struct deliver_group *g);
/* Registers the primary's handlers on the node's RPC. */
void deliver__serve_init(struct deliver *d);

#endif
