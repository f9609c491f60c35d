/* repl_insync.c: a primary's follower set and its in-sync set: which
 * followers exist (from the partition's record), what the store may
 * acknowledge (the lowest position among the in-sync followers), and
 * the CAS that takes a lagging follower out of the set, or puts a
 * caught-up one back. */
#include "cluster/repl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/coord.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "lib/rs_time.h"

static const struct cluster_part *
repl_rec(const struct repl_part *rp)
{
	return &cluster_view_part(cluster_view(rp->r->o.cluster), rp->id)->rec;
}

static const struct cluster_view_part *
repl_vpart(const struct repl_part *rp)
{
	return cluster_view_part(cluster_view(rp->r->o.cluster), rp->id);
}

static struct repl_fol *
repl_fol_find(struct repl_part *rp, const char *id)
{
	for (size_t i = 0; i < rp->nfols; i++)
		if (strcmp(rp->fols[i].id, id) == 0)
			return &rp->fols[i];
	return NULL;
}

static bool
repl_in_sync(const struct cluster_part *rec, const char *id)
{
	for (size_t i = 0; i < rec->nin_sync; i++)
		if (strcmp(rec->in_sync[i], id) == 0)
			return true;
	return false;
}

void
repl__primary_ack(struct repl_part *rp)
{
	const struct cluster_part *rec = repl_rec(rp);
	const char *self = cluster_self(rp->r->o.cluster);
	uint64_t ack = rp->lsn;

	/* Nothing is answered with a lease that may have run out: asked
	 * now, not as the last tick saw it (a process that was frozen runs
	 * what queued up before its next tick). A partition with no other
	 * copy cannot be taken over, so it goes on without etcd. */
	if (rp->fenced || (repl_rec(rp)->nreplicas > 1 &&
	                   !cluster_fresh(rp->r->o.cluster)))
		return;
	for (size_t i = 0; i < rec->nin_sync; i++) {
		struct repl_fol *f;

		if (strcmp(rec->in_sync[i], self) == 0)
			continue;
		f = repl_fol_find(rp, rec->in_sync[i]);
		if (f == NULL || f->matched < ack)
			ack = f != NULL ? f->matched : 0;
	}
	if (ack > rp->acked) {
		rp->acked = ack;
		store_repl_acked(rp->r->o.store, rp->id, ack);
	}
}

static void
repl_fol_add(struct repl_part *rp, const char *id)
{
	struct repl_fol *f;

	rp->fols = rs_xreallocarray(rp->fols, rp->nfols + 1, sizeof(*rp->fols));
	f = &rp->fols[rp->nfols++];
	memset(f, 0, sizeof(*f));
	f->rp = rp;
	snprintf(f->id, sizeof(f->id), "%s", id);
	f->state = REPL_F_WAIT;         /* probed by the next tick */
	f->retry_at = 0;
}

/* A follower's node that is alive on a new lease has restarted: probe
 * it at the next tick, not when a backoff grown while it was down
 * (up to 5 s) runs out, which was most of a short outage's catch-up. */
static void
repl_fol_returned(struct repl_fol *f)
{
	const struct cluster_alive *a =
		cluster_view_alive(cluster_view(f->rp->r->o.cluster), f->id);

	if (a == NULL || a->lease == f->lease)
		return;
	f->lease = a->lease;
	if (f->state == REPL_F_WAIT) {
		f->backoff_ms = 0;
		f->retry_at = 0;
	}
}

static void
repl_fol_drop(struct repl_part *rp, size_t i)
{
	store_repl_export_close(&rp->fols[i].export);
	rp->fols[i] = rp->fols[--rp->nfols];
	/* Calls out for it find no follower of that generation. */
}

void
repl__primary_sync_members(struct repl_part *rp)
{
	const struct cluster_part *rec = repl_rec(rp);
	const char *self = cluster_self(rp->r->o.cluster);

	for (size_t i = 0; i < rp->nfols;)
		if (!cluster_part_has_replica(rec, rp->fols[i].id))
			repl_fol_drop(rp, i);
		else
			i++;
	for (size_t i = 0; i < rec->nreplicas; i++)
		if (strcmp(rec->replicas[i], self) != 0 &&
		    repl_fol_find(rp, rec->replicas[i]) == NULL)
			repl_fol_add(rp, rec->replicas[i]);
	/* A follower array that moved invalidates nothing: calls find
	 * their follower by id and generation. */
	for (size_t i = 0; i < rp->nfols; i++) {
		rp->fols[i].rp = rp;
		repl_fol_returned(&rp->fols[i]);
	}
	repl__primary_ack(rp);
}

void
repl__primary_start(struct repl_part *rp)
{
	rp->fols = NULL;
	rp->nfols = 0;
	repl__primary_sync_members(rp);
}

void
repl__primary_stop(struct repl_part *rp)
{
	while (rp->nfols > 0)
		repl_fol_drop(rp, rp->nfols - 1);
	free(rp->fols);
	rp->fols = NULL;
	repl__log_clear(rp);
}

/* ---- in-sync changes ---- */

struct repl_cas {
	struct repl *r;
	uint32_t     part;
	char         id[CLUSTER_ID_MAX + 1];
	bool         add;
};

static void
repl_cas_done(void *arg, int rc, const struct rs_err *err, int64_t rev)
{
	struct repl_cas *c = arg;
	struct repl_part *rp = &c->r->parts[c->part];
	struct repl_fol *f;

	(void)rev;
	if (rp->role == STORE_ROLE_PRIMARY &&
	    (f = repl_fol_find(rp, c->id)) != NULL)
		f->cas = false;
	if (rc == 0)
		rs_log(RS_LOG_INFO, c->add ? "repl.in_sync_added"
		                           : "repl.in_sync_removed",
		       "partition=%u node=%s", c->part, c->id);
	else if (rc != RS_ECONFLICT)
		rs_log(RS_LOG_WARN, "repl.in_sync_change_failed", "partition=%u "
		       "node=%s error=\"%s\"", c->part, c->id,
		       err != NULL ? err->msg : rs_err_name(rc));
	free(c);
}

/* Writes the record with id added to (or taken from) in_sync. */
static void
repl_cas(struct repl_part *rp, struct repl_fol *f, bool add)
{
	const struct cluster_view_part *vp = repl_vpart(rp);
	struct cluster_part rec = vp->rec;
	struct repl_cas *c;
	char *key, *json;
	struct coord_cmp cmp;
	struct coord_op op = { .type = COORD_OP_PUT };
	struct rs_err err;
	size_t n = 0;

	if (rec.epoch != rp->epoch)
		return;                    /* the view is ahead of us */
	if (add) {
		if (rec.nin_sync == CLUSTER_REPLICAS_MAX)
			return;
		snprintf(rec.in_sync[rec.nin_sync++], CLUSTER_ID_MAX + 1, "%s",
		         f->id);
	} else {
		for (size_t i = 0; i < rec.nin_sync; i++)
			if (strcmp(rec.in_sync[i], f->id) != 0)
				memmove(rec.in_sync[n++], rec.in_sync[i],
				        CLUSTER_ID_MAX + 1);
		rec.nin_sync = n;
	}
	key = cluster_rec_part_key(cluster_prefix(rp->r->o.cluster), rp->id);
	json = cluster_part_json(&rec);
	cmp = (struct coord_cmp){ key, vp->mod_rev };
	op.key = key;
	op.value = json;
	op.len = strlen(json);
	c = rs_xcalloc(1, sizeof(*c));
	c->r = rp->r;
	c->part = rp->id;
	c->add = add;
	snprintf(c->id, sizeof(c->id), "%s", f->id);
	if (coord_txn(cluster_coord(rp->r->o.cluster), &cmp, 1, &op, 1,
	              repl_cas_done, c, &err) != 0)
		free(c);
	else
		f->cas = true;
	free(key);
	free(json);
}

/* The oldest entry f lacks that this node still holds, or NULL when it
 * lacks none. When the entry after its position is not in the log (the
 * log began after it: this node became primary since, or trimmed it),
 * the log's first entry: f lacks that one too, and every entry an
 * answer waits for is in the log (those before it count as acked). */
static const struct repl_entry *
repl_oldest_missing(const struct repl_part *rp, const struct repl_fol *f)
{
	const struct repl_entry *e;

	if (f->matched >= rp->lsn)
		return NULL;
	e = repl__log_find(rp, f->matched + 1);
	return e != NULL ? e : repl__log_first(rp);
}

void
repl__fol_check(struct repl_fol *f, uint64_t now)
{
	struct repl_part *rp = f->rp;
	bool in = repl_in_sync(repl_rec(rp), f->id);
	const struct repl_entry *e;

	if (f->cas || rp->fenced || rp->role != STORE_ROLE_PRIMARY)
		return;
	e = repl_oldest_missing(rp, f);
	/* Out when writes wait for it and it lags past the timeout, or at
	 * once when its calls failed (its process or link is gone: waiting
	 * would hold every write of the partition for the timeout). */
	if (in && e != NULL && (f->failed ||
	                        e->at_ms + rp->r->o.timeout_ms <= now)) {
		rs_log(RS_LOG_WARN, "repl.follower_lagging", "partition=%u "
		       "node=%s lsn=%llu behind=%llu failed=%s", rp->id, f->id,
		       (unsigned long long)f->matched,
		       (unsigned long long)(rp->lsn - f->matched),
		       f->failed ? "yes" : "no");
		repl_cas(rp, f, false);
	} else if (!in && f->state == REPL_F_STREAM && f->matched == rp->lsn) {
		repl_cas(rp, f, true);
	}
}

void
repl__primary_tick(struct repl_part *rp, uint64_t now)
{
	for (size_t i = 0; i < rp->nfols; i++) {
		struct repl_fol *f = &rp->fols[i];

		if (f->state == REPL_F_WAIT && now >= f->retry_at)
			repl__fol_probe(f);
		repl__fol_check(f, now);
	}
}

size_t
repl_part_status(struct repl *r, uint32_t part, uint64_t *lsn_r,
                 struct repl_follower_stat *out, size_t max)
{
	static const char *const names[] = { "probing", "copying", "streaming",
	                                     "waiting" };
	struct repl_part *rp;
	uint64_t now = rs_mono_ms();
	size_t n = 0;

	if (part >= r->nparts) {
		*lsn_r = 0;
		return 0;
	}
	rp = &r->parts[part];
	*lsn_r = rp->role == STORE_ROLE_PRIMARY
	         ? rp->lsn : store_repl_position(r->o.store, part).lsn;
	if (rp->role != STORE_ROLE_PRIMARY)
		return 0;
	for (size_t i = 0; i < rp->nfols && n < max; i++, n++) {
		const struct repl_fol *f = &rp->fols[i];
		const struct repl_entry *e = repl_oldest_missing(rp, f);

		snprintf(out[n].node, sizeof(out[n].node), "%s", f->id);
		out[n].lsn = f->matched;
		out[n].behind = rp->lsn > f->matched ? rp->lsn - f->matched : 0;
		out[n].behind_s = e != NULL && now > e->at_ms
		                  ? (double)(now - e->at_ms) / 1000.0 : 0.0;
		out[n].in_sync = repl_in_sync(repl_rec(rp), f->id);
		out[n].state = names[f->state];
	}
	return n;
}
