/* store_repl_wait.c: after a group is synced on a primary: shipping its
 * entries, and holding back the answers and the readers' view of the
 * partitions that wait for their followers until store_repl_acked (or a
 * role change) releases them. store_repl.c has the roles and the
 * writer's side. */
#include "storage/store_repl_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"

/* What a release collected under the lock, handled after it. */
struct store_release {
	struct store_op   *ops;         /* answer */
	struct store_pend *pends;       /* run their touches, free */
};

static void
store_release_run(struct store *st, struct store_release *rel)
{
	while (rel->pends != NULL) {
		struct store_pend *p = rel->pends;

		rel->pends = p->next;
		store__run_hook(st, p->touched, p->ntouched);
		store__snap_put(st, p->before);
		free(p->touched);
		free(p);
	}
	while (rel->ops != NULL) {
		struct store_op *op = rel->ops;

		rel->ops = op->next;
		store__op_complete(st, op);
	}
}

/* Called locked: takes part's pending entries up to acked, and the held
 * ops that no longer wait for anything, into rel. fail: instead, every
 * held op of part fails (RS_EUNAVAIL) and every pending entry goes. */
static void
store_release_collect(struct store_repl *r, uint32_t part, bool fail,
                      struct store_release *rel)
{
	struct store_rpart *rp = (&r->parts[part]);
	struct store_op **pop = (&r->held);

	while (rp->pend != NULL && (fail || rp->pend->lsn <= rp->acked)) {
		struct store_pend *p = rp->pend;

		rp->pend = p->next;
		if (rp->pend == NULL)
			rp->pend_tail = &rp->pend;
		p->next = rel->pends;
		rel->pends = p;
	}
	while (*pop != NULL) {
		struct store_op *op = *pop;
		bool mine = false, ready = true, lost = false;

		for (size_t i = 0; i < op->nreqs; i++) {
			const struct store_rpart *q =
				&r->parts[op->reqs[i].part];
			bool acked = q->acked >= op->reqs[i].lsn;

			if (op->reqs[i].part == part) {
				mine = true;
				lost |= fail && !acked;
			}
			if (q->role == STORE_ROLE_PRIMARY && q->wait && !acked)
				ready = false;
		}
		if (!mine || (!ready && !lost)) {
			pop = &op->next;
			continue;
		}
		*pop = op->next;
		if (lost)
			op->rc = RS_EUNAVAIL;
		op->next = rel->ops;
		rel->ops = op;
	}
}

void
store_repl_acked(struct store *st, uint32_t part, uint64_t lsn)
{
	struct store_repl *r = st->repl;
	struct store_release rel = { NULL, NULL };

	if (r == NULL || part >= STORE_REPL_PARTS)
		return;
	pthread_mutex_lock(&r->mu);
	if (lsn > (&r->parts[part])->acked)
		(&r->parts[part])->acked = lsn;
	store_release_collect(r, part, false, &rel);
	pthread_mutex_unlock(&r->mu);
	store_release_run(st, &rel);
}

int
store_repl_set_role(struct store *st, uint32_t part, enum store_role role,
                    int64_t epoch, bool wait, struct rs_err *err)
{
	struct store_repl *r = st->repl;
	struct store_release rel = { NULL, NULL };
	struct store_rpart *rp;
	int64_t was;
	bool same;

	if (r == NULL)
		return rs_err_set(err, RS_EINVAL, "replication is not enabled");
	if (part >= STORE_REPL_PARTS)
		return rs_err_set(err, RS_EINVAL, "partition %u out of range",
		                  part);
	pthread_mutex_lock(&r->mu);
	rp = (&r->parts[part]);
	if (!rp->loaded && store__repl_load(st, part, err) != 0) {
		pthread_mutex_unlock(&r->mu);
		return -1;
	}
	same = rp->role == STORE_ROLE_PRIMARY && role == STORE_ROLE_PRIMARY &&
	       rp->epoch == epoch;
	was = rp->epoch;
	/* Fenced (the role goes, the epoch stays): this node may still
	 * serve reads of the partition, but not of what waited. */
	if (!same && rp->pend != NULL && role != STORE_ROLE_PRIMARY &&
	    epoch == was)
		store__repl_pin(st, rp, rp->pend->before);
	/* Leading it again, its writes go out before any answer; another
	 * epoch: another node serves it, and this one is streamed or copied
	 * what that one has. */
	if (rp->pinned != NULL &&
	    (role == STORE_ROLE_PRIMARY || epoch != was)) {
		store__snap_put(st, rp->pinned);
		rp->pinned = NULL;
	}
	rp->role = role;
	rp->epoch = epoch;
	rp->wait = role == STORE_ROLE_PRIMARY && wait;
	if (!same) {
		/* Whatever still waited was written under another role: its
		 * outcome is decided by whoever is primary now. */
		store_release_collect(r, part, true, &rel);
	} else if (!rp->wait) {
		/* Nobody to wait for any more: everything written is in. */
		rp->acked = rp->lsn;
		store_release_collect(r, part, false, &rel);
	}
	pthread_mutex_unlock(&r->mu);
	store_release_run(st, &rel);
	return 0;
}

/* The touches of c that belong to part, moved out of c into an owned
 * array (c keeps the others, for the hook that runs now). */
static struct store_touch *
store_take_touches(struct store_commit *c, uint32_t part, size_t *n_r)
{
	struct store_touch *out = NULL;
	size_t n = 0, keep = 0;

	for (size_t i = 0; i < c->ntouched; i++) {
		if (c->touched[i].a.part != part) {
			c->touched[keep++] = c->touched[i];
			continue;
		}
		out = rs_xreallocarray(out, n + 1, sizeof(*out));
		out[n++] = c->touched[i];
	}
	c->ntouched = keep;
	*n_r = n;
	return out;
}

void
store__repl_synced(struct store *st, struct store_commit *c)
{
	struct store_repl *r = st->repl;

	if (r == NULL || c->nentries == 0)
		return;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < c->nentries; i++) {
		struct store_rentry *e = &c->entries[i];
		struct store_rpart *rp = &r->parts[e->part];
		struct store_pend *p;

		if (rp->role != STORE_ROLE_PRIMARY ||
		    rp->epoch != e->pos.epoch) {
			/* Its ops fail (hold_if_waiting); when the role went
			 * by a fence, readers stay before it. */
			if (rp->epoch == e->pos.epoch &&
			    e->pos.lsn > rp->acked) {
				struct store_snap *sn = store__snap_get(st);

				store__repl_pin(st, rp, sn);
				store__snap_put(st, sn);
			}
			continue;
		}
		if (!rp->wait) {
			if (e->pos.lsn > rp->acked)
				rp->acked = e->pos.lsn;
			continue;
		}
		/* Readers of the partition keep seeing the state before this
		 * group until the followers have it. */
		p = rs_xcalloc(1, sizeof(*p));
		p->lsn = e->pos.lsn;
		p->before = store__snap_get(st);
		p->touched = store_take_touches(c, e->part, &p->ntouched);
		*rp->pend_tail = p;
		rp->pend_tail = &p->next;
	}
	pthread_mutex_unlock(&r->mu);
}

void
store__repl_ship(struct store *st, struct store_commit *c)
{
	struct store_repl *r = st->repl;

	if (r == NULL)
		return;
	for (size_t i = 0; i < c->nentries; i++) {
		struct store_rentry *e = &c->entries[i];

		if (r->ship != NULL)
			r->ship(r->ship_arg, e->part, e->pos, e->data, e->len);
		else
			free(e->data);
		e->data = NULL;
	}
}

bool
store__repl_hold_if_waiting(struct store *st, struct store_op *op)
{
	struct store_repl *r = st->repl;
	bool wait = false, lost = false;

	if (r == NULL || op->nreqs == 0 || op->rc != 0)
		return false;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < op->nreqs && !lost; i++) {
		const struct store_rpart *q = &r->parts[op->reqs[i].part];

		if (q->acked >= op->reqs[i].lsn)
			continue;
		/* Written as primary, synced after the role went (a fence,
		 * a failover seen while the group was written): unknown,
		 * like the writes a role change found waiting. */
		if (q->role != STORE_ROLE_PRIMARY ||
		    q->epoch != op->reqs[i].epoch)
			lost = true;
		else if (q->wait)
			wait = true;
	}
	if (lost) {
		op->rc = RS_EUNAVAIL;
		wait = false;
	} else if (wait) {
		op->next = *(&r->held);
		*(&r->held) = op;
	}
	pthread_mutex_unlock(&r->mu);
	return wait;
}

void
store__repl_pin(struct store *st, struct store_rpart *rp,
                struct store_snap *sn)
{
	if (rp->pinned == NULL)
		rp->pinned = store__snap_ref(st, sn);
}

struct store_snap *
store__repl_snap_get(struct store *st, uint32_t part)
{
	struct store_repl *r = st->repl;
	struct store_snap *s = NULL;

	if (r == NULL || part >= STORE_REPL_PARTS)
		return store__snap_get(st);
	pthread_mutex_lock(&r->mu);
	if ((&r->parts[part])->pend != NULL)
		s = store__snap_ref(st, (&r->parts[part])->pend->before);
	else if ((&r->parts[part])->pinned != NULL)
		s = store__snap_ref(st, (&r->parts[part])->pinned);
	pthread_mutex_unlock(&r->mu);
	return s != NULL ? s : store__snap_get(st);
}
