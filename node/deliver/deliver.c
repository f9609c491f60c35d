/* deliver.c: routing a message's copies to the primaries of their
 * partitions and collecting the outcome (deliver.h). Recipients are
 * grouped by node: the local group is one store_deliver, each remote
 * group one Deliver call. A job ends when all its groups have. */
#include "node/deliver/deliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/rpc.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "node/core/node_ctx.h"
#include "node/deliver/deliver_int.h"
#include "proto/deliver.pb-c.h"

struct deliver *
deliver_new(struct node_ctx *n)
{
	struct deliver *d = rs_xcalloc(1, sizeof(*d));
	uint64_t ms;

	d->node = n;
	if (rs_config_get_ms(n->cfg, "cluster.rpc_timeout", 30000, &ms,
	                     NULL) != 0)
		ms = 30000;
	d->timeout_ms = (unsigned)ms;
	if (n->rpc != NULL)
		deliver__serve_init(d);
	return d;
}

static void deliver_job_end(struct deliver_job *j);

void
deliver_free(struct deliver **pp)
{
	struct deliver *d = *pp;

	if (d == NULL)
		return;
	*pp = NULL;
	/* Calls still out will never answer (the RPC layer goes next and
	 * drops them): their jobs fail now, so that nobody waits. */
	while (d->jobs != NULL) {
		struct deliver_job *j = d->jobs;

		for (size_t g = 0; g < j->ngroups; g++)
			if (!j->groups[g].local && !j->groups[g].done) {
				j->groups[g].done = true;
				j->rc = RS_EUNAVAIL;
				j->pending--;
			}
		if (j->pending > 0) {
			/* Local writes finish when the store closes, which
			 * happened before: this cannot be, but never hang. */
			j->pending = 0;
		}
		deliver_job_end(j);
	}
	free(d);
}

enum deliver_where
deliver_route(const struct deliver *d, struct store_acct a)
{
	const struct cluster *c = d->node->cluster;
	const char *id, *host;
	unsigned base;

	if (c == NULL || cluster_serves(c, a.part, NULL))
		return DELIVER_LOCAL;
	if (cluster_primary(c, a.part, &id, &host, &base) != 0)
		return DELIVER_NOWHERE;
	return DELIVER_REMOTE;
}

static void
deliver_job_end(struct deliver_job *j)
{
	struct deliver *d = j->d;

	/* Unlink, then answer: the callback may start another job. */
	for (struct deliver_job **pj = &d->jobs; *pj != NULL;
	     pj = &(*pj)->next)
		if (*pj == j) {
			*pj = j->next;
			break;
		}
	j->cb(j->arg, j->rc);
	for (size_t g = 0; g < j->ngroups; g++) {
		free(j->groups[g].idx);
		free(j->groups[g].rcpts);
		free(j->groups[g].epochs);
	}
	free(j->groups);
	free(j);
}

static void
deliver_job_end_task(void *arg)
{
	deliver_job_end(arg);
}

/* A group is done: its results go back to the caller's rcpts. */
void
deliver__group_done(struct deliver_group *g, int rc)
{
	struct deliver_job *j = g->job;

	if (g->done)
		return;                  /* failed already at deliver_free */
	g->done = true;
	for (size_t i = 0; i < g->n; i++) {
		struct store_rcpt *r = &j->rcpts[g->idx[i]];

		if (rc != 0) {
			r->rc = rc == RS_EUNAVAIL || rc == RS_ETIMEDOUT
			        ? RS_EUNAVAIL : rc;
			continue;
		}
		r->rc = g->rcpts[i].rc;
		r->mailbox_id = g->rcpts[i].mailbox_id;
		r->uidvalidity = g->rcpts[i].uidvalidity;
		r->uid = g->rcpts[i].uid;
	}
	if (rc != 0) {
		rs_log(RS_LOG_WARN, "deliver.copy_failed", "id=%s node=%s "
		       "rcpts=%zu error=%s", j->txn_id, g->local ? "local"
		       : g->node, g->n, rs_err_name(rc));
		j->rc = RS_EUNAVAIL;
	}
	if (--j->pending == 0)
		deliver_job_end(j);
}

static void
deliver_local_done(void *arg, int rc)
{
	deliver__group_done(arg, rc);
}

/* Finds or adds the group of node (NULL: local). */
static struct deliver_group *
deliver_group_of(struct deliver_job *j, const char *node, size_t cap)
{
	for (size_t g = 0; g < j->ngroups; g++)
		if (node == NULL ? j->groups[g].local
		                 : strcmp(j->groups[g].node, node) == 0)
			return &j->groups[g];
	j->groups[j->ngroups].job = j;
	j->groups[j->ngroups].local = node == NULL;
	snprintf(j->groups[j->ngroups].node, sizeof(j->groups[0].node), "%s",
	         node != NULL ? node : "");
	j->groups[j->ngroups].idx = rs_xcalloc(cap, sizeof(size_t));
	j->groups[j->ngroups].rcpts = rs_xcalloc(cap,
	                                         sizeof(struct store_rcpt));
	j->groups[j->ngroups].epochs = rs_xcalloc(cap, sizeof(int64_t));
	return &j->groups[j->ngroups++];
}

/* Sorts rcpts into groups; those with no reachable primary fail now. */
static void
deliver_plan(struct deliver_job *j)
{
	const struct cluster *c = j->d->node->cluster;

	for (size_t i = 0; i < j->n; i++) {
		struct store_rcpt *r = &j->rcpts[i];
		const char *id = NULL, *host;
		unsigned base;
		int64_t epoch = 0;
		struct deliver_group *g;

		if (c != NULL && !cluster_serves(c, r->acct.part, &epoch) &&
		    cluster_primary(c, r->acct.part, &id, &host, &base) != 0) {
			r->rc = RS_EUNAVAIL;
			j->rc = RS_EUNAVAIL;
			continue;
		}
		if (c != NULL && id != NULL)
			epoch = cluster_view_part(cluster_view(c),
			                          r->acct.part)->rec.epoch;
		g = deliver_group_of(j, id, j->n);
		g->idx[g->n] = i;
		g->rcpts[g->n] = *r;
		g->rcpts[g->n].rc = 0;
		g->epochs[g->n] = epoch;
		g->n++;
	}
}

int
deliver_message(struct deliver *d, const struct store_message *msg,
                struct store_rcpt *rcpts, size_t n, const char *txn_id,
                deliver_done_fn *cb, void *arg, struct rs_err *err)
{
	struct deliver_job *j;

	if (n == 0 || msg == NULL || cb == NULL)
		return rs_err_set(err, RS_EINVAL, "deliver: bad arguments");
	j = rs_xcalloc(1, sizeof(*j));
	j->d = d;
	j->msg = msg;
	j->rcpts = rcpts;
	j->n = n;
	j->cb = cb;
	j->arg = arg;
	snprintf(j->txn_id, sizeof(j->txn_id), "%s", txn_id);
	j->groups = rs_xcalloc(n, sizeof(*j->groups));
	deliver_plan(j);
	j->next = d->jobs;
	d->jobs = j;
	j->pending = j->ngroups + 1;        /* held until all started */
	for (size_t g = 0; g < j->ngroups; g++) {
		struct deliver_group *gr = &j->groups[g];
		struct rs_err e;

		if (gr->local) {
			if (store_deliver(d->node->store, msg, gr->rcpts, gr->n,
			                  d->node->exec, deliver_local_done, gr,
			                  &e) != 0)
				deliver__group_done(gr, e.code ? e.code : RS_EIO);
		} else if (deliver__call(gr) != 0) {
			deliver__group_done(gr, RS_EUNAVAIL);
		}
	}
	if (--j->pending == 0) {
		/* Every copy failed before anything went out (no live
		 * primary, a call that could not start): the answer still
		 * comes later, never before this returns, as the caller
		 * takes its references after. Out of d->jobs meanwhile, so
		 * that deliver_free does not end it twice. */
		for (struct deliver_job **pj = &d->jobs; *pj != NULL;
		     pj = &(*pj)->next)
			if (*pj == j) {
				*pj = j->next;
				break;
			}
		rs_exec_post(d->node->exec, deliver_job_end_task, j);
	}
	return 0;
}
