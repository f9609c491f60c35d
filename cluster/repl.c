/* repl.c: which partitions this node replicates and how (the store's
 * roles, from the cluster's view), the primary's in-memory log of recent
 * entries, the lease fence, and the periodic tick. The followers of a
 * partition this node leads are repl_primary.c's; the follower's side of
 * the protocol is repl_follower.c's. */
#include "cluster/repl_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "lib/rs_time.h"

/* ---- the log ---- */

const struct repl_entry *
repl__log_first(const struct repl_part *rp)
{
	return rp->log;
}

const struct repl_entry *
repl__log_find(const struct repl_part *rp, uint64_t lsn)
{
	const struct repl_entry *e;

	if (rp->log == NULL || lsn < rp->log->lsn || lsn > rp->log_tail->lsn)
		return NULL;
	/* Entries are consecutive; a follower in step asks for the newest
	 * ones, so the walk starts at the nearer end (a walk from the
	 * oldest was 4 % of a node's CPU under intake with 1 MB logs). */
	if (lsn - rp->log->lsn <= rp->log_tail->lsn - lsn) {
		for (e = rp->log; e->lsn != lsn; e = e->next)
			;
	} else {
		for (e = rp->log_tail; e->lsn != lsn; e = e->prev)
			;
	}
	return e;
}

static void
repl_log_trim(struct repl_part *rp, size_t max)
{
	while (rp->log != NULL && rp->log_bytes > max &&
	       rp->log != rp->log_tail) {
		struct repl_entry *e = rp->log;

		rp->log = e->next;
		rp->log->prev = NULL;
		rp->log_bytes -= e->len;
		free(e->data);
		free(e);
	}
}

void
repl__log_append(struct repl_part *rp, struct repl_entry *e)
{
	if (rp->log_tail != NULL && e->lsn != rp->log_tail->lsn + 1)
		repl__log_clear(rp);
	e->next = NULL;
	e->prev = rp->log_tail;
	if (rp->log_tail != NULL)
		rp->log_tail->next = e;
	else
		rp->log = e;
	rp->log_tail = e;
	rp->log_bytes += e->len;
	repl_log_trim(rp, rp->r->log_max);
}

void
repl__log_clear(struct repl_part *rp)
{
	repl_log_trim(rp, 0);
	if (rp->log != NULL) {
		free(rp->log->data);
		free(rp->log);
	}
	rp->log = rp->log_tail = NULL;
	rp->log_bytes = 0;
}

/* ---- entries from the store (its sync thread) to the loop ---- */

struct repl_shipped {
	struct repl       *r;
	uint32_t           part;
	struct repl_entry *e;           /* owns */
};

static void
repl_on_shipped(void *arg)
{
	struct repl_shipped *s = arg;
	struct repl_part *rp = &s->r->parts[s->part];
	struct repl_entry *e = s->e;

	free(s);
	if (rp->r->stopped || rp->role != STORE_ROLE_PRIMARY ||
	    e->epoch != rp->epoch ||
	    e->lsn != rp->lsn + 1) {
		/* Written under a role this node no longer has: its fate is
		 * the new primary's (the store answered it "unknown"). */
		free(e->data);
		free(e);
		return;
	}
	rp->lsn = e->lsn;
	rp->last_epoch = e->epoch;
	repl__log_append(rp, e);
	repl__primary_entry(rp, e);
	repl__primary_ack(rp);
}

static void
repl_ship(void *arg, uint32_t part, struct store_pos pos, uint8_t *data,
          size_t len)
{
	struct repl *r = arg;
	struct repl_shipped *s;

	if (part >= r->nparts) {
		free(data);
		return;
	}
	s = rs_xcalloc(1, sizeof(*s));
	s->r = r;
	s->part = part;
	s->e = rs_xcalloc(1, sizeof(*s->e));
	s->e->lsn = pos.lsn;
	s->e->epoch = pos.epoch;
	s->e->data = data;
	s->e->len = len;
	s->e->at_ms = rs_mono_ms();
	rs_exec_post(r->o.exec, repl_on_shipped, s);
}

/* ---- roles ---- */

int
repl__addr(const struct repl *r, const char *id, const char **host_r,
           unsigned *port_r)
{
	unsigned base;
	int rc = cluster_view_node_addr(cluster_view(r->o.cluster), id, host_r,
	                                &base);

	if (rc == 0)
		*port_r = base + CLUSTER_PEER_PORT;
	return rc;
}

/* A follower becoming primary keeps the entries it applied when they
 * end where its store does, so that the other followers continue from
 * them instead of taking a copy of the partition. Their clocks restart:
 * a follower's lag is counted from the promotion. */
static void
repl_log_adopt(struct repl_part *rp, struct store_pos pos)
{
	uint64_t now = rs_mono_ms();

	if (rp->log_tail == NULL || rp->log_tail->lsn != pos.lsn ||
	    rp->log_tail->epoch != pos.epoch) {
		repl__log_clear(rp);
		return;
	}
	for (struct repl_entry *e = rp->log; e != NULL; e = e->next)
		e->at_ms = now;
}

/* What part's record asks of this node. */
static enum store_role
repl_want(const struct repl *r, const struct cluster_part *rec)
{
	const char *self = cluster_self(r->o.cluster);

	if (rec->primary[0] != '\0' && strcmp(rec->primary, self) == 0)
		return STORE_ROLE_PRIMARY;
	if (cluster_part_has_replica(rec, self))
		return STORE_ROLE_FOLLOWER;
	return STORE_ROLE_NONE;
}

/* The store's role for the partition; a fenced primary writes nothing. */
static void
repl_set_store_role(struct repl_part *rp, enum store_role role,
                    int64_t epoch)
{
	struct rs_err err;
	enum store_role srole = rp->fenced ? STORE_ROLE_NONE : role;

	if (store_repl_set_role(rp->r->o.store, rp->id, srole, epoch, true,
	                        &err) != 0)
		rs_log(RS_LOG_ERR, "repl.role_failed", "partition=%u error=\"%s\"",
		       rp->id, err.msg);
}

static void
repl_reconcile_part(struct repl *r, struct repl_part *rp)
{
	const struct cluster_part *rec =
		&cluster_view_part(cluster_view(r->o.cluster), rp->id)->rec;
	enum store_role want = repl_want(r, rec);
	bool fenced = want == STORE_ROLE_PRIMARY && !r->fresh &&
	              rec->nreplicas > 1;

	if (want == rp->role && rec->epoch == rp->epoch &&
	    fenced == rp->fenced) {
		if (want == STORE_ROLE_PRIMARY)
			repl__primary_sync_members(rp);
		return;
	}
	if (rp->role == STORE_ROLE_PRIMARY)
		repl__primary_stop(rp);
	else if (want != STORE_ROLE_PRIMARY && want != STORE_ROLE_FOLLOWER)
		repl__log_clear(rp);
	if (want != rp->role || rec->epoch != rp->epoch)
		rs_log(RS_LOG_INFO, "repl.role", "partition=%u role=%s epoch=%lld",
		       rp->id, want == STORE_ROLE_PRIMARY ? "primary"
		       : want == STORE_ROLE_FOLLOWER ? "follower" : "none",
		       (long long)rec->epoch);
	if (fenced != rp->fenced)
		rs_log(fenced ? RS_LOG_WARN : RS_LOG_INFO, fenced
		       ? "repl.fenced" : "repl.unfenced",
		       "partition=%u epoch=%lld", rp->id, (long long)rec->epoch);
	rp->role = want;
	rp->epoch = rec->epoch;
	rp->fenced = fenced;
	repl_set_store_role(rp, want, rec->epoch);
	if (want == STORE_ROLE_PRIMARY) {
		struct store_pos pos = store_repl_position(r->o.store, rp->id);

		rp->lsn = pos.lsn;
		rp->last_epoch = pos.epoch;
		rp->acked = pos.lsn;
		repl_log_adopt(rp, pos);
		repl__primary_start(rp);
	}
}

static void
repl_on_view(void *arg)
{
	struct repl *r = arg;

	if (r->stopped)
		return;
	for (uint32_t p = 0; p < r->nparts; p++)
		repl_reconcile_part(r, &r->parts[p]);
}

static void
repl_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct repl *r = arg;
	struct timeval tv = { 0, REPL_TICK_MS * 1000 };
	uint64_t now = rs_mono_ms();
	bool fresh = cluster_fresh(r->o.cluster);

	(void)fd;
	(void)what;
	if (fresh != r->fresh) {
		r->fresh = fresh;
		repl_on_view(r);          /* fences, or lifts them */
	}
	for (uint32_t p = 0; p < r->nparts; p++)
		if (r->parts[p].role == STORE_ROLE_PRIMARY && !r->parts[p].fenced)
			repl__primary_tick(&r->parts[p], now);
	evtimer_add(r->tick, &tv);
}

struct repl *
repl_new(const struct repl_opts *o)
{
	struct repl *r = rs_xcalloc(1, sizeof(*r));
	struct timeval tv = { 0, REPL_TICK_MS * 1000 };

	r->o = *o;
	if (r->o.timeout_ms == 0)
		r->o.timeout_ms = 2000;
	if (r->o.log_bytes == 0)
		r->o.log_bytes = (size_t)64 << 20;
	r->nparts = cluster_config(o->cluster)->partitions;
	r->log_max = r->o.log_bytes / (r->nparts ? r->nparts : 1);
	if (r->log_max < ((size_t)1 << 20))
		r->log_max = (size_t)1 << 20;
	r->parts = rs_xcalloc(r->nparts, sizeof(*r->parts));
	for (uint32_t p = 0; p < r->nparts; p++) {
		r->parts[p].r = r;
		r->parts[p].id = p;
	}
	r->fresh = cluster_fresh(o->cluster);
	store_repl_enable(o->store, repl_ship, r);
	repl__follower_init(r);
	cluster_view_listen(cluster_view(o->cluster), repl_on_view, r);
	repl_on_view(r);
	r->tick = evtimer_new(o->base, repl_on_tick, r);
	r->flush = event_new(o->base, -1, 0, repl__primary_flush, r);
	evtimer_add(r->tick, &tv);
	return r;
}

void
repl_stop(struct repl *r)
{
	if (r == NULL || r->stopped)
		return;
	r->stopped = true;
	evtimer_del(r->tick);
	event_del(r->flush);
	rpc_handle(r->o.rpc, RPC_METHOD_REPL_POSITION, NULL, NULL);
	rpc_handle(r->o.rpc, RPC_METHOD_REPL_COPY, NULL, NULL);
	rpc_handle(r->o.rpc, RPC_METHOD_REPL_APPEND_MULTI, NULL, NULL);
	/* Exports hold the store's snapshots and iterators. */
	for (uint32_t p = 0; p < r->nparts; p++)
		if (r->parts[p].role == STORE_ROLE_PRIMARY)
			repl__primary_stop(&r->parts[p]);
}

void
repl_free(struct repl **pp)
{
	struct repl *r = *pp;

	if (r == NULL)
		return;
	*pp = NULL;
	repl_stop(r);
	event_free(r->tick);
	event_free(r->flush);
	free(r->parts);
	free(r);
}
