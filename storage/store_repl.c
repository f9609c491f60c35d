/* store_repl.c: partition roles, log positions and the wait for
 * followers (store_repl.h). The writer captures each primary partition's
 * writes of a group into a batch of their own and gives the partition
 * its next position in the same batch; once the group is synced the
 * syncer ships those batches and, for partitions that wait, keeps their
 * answers and the readers' view back until store_repl_acked covers them.
 * Locking: repl->mu guards roles, positions, acks, the held ops and the
 * pending entries; it is taken before snap_mu, never after. */
#include "storage/store_repl_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"

/* ---- positions ---- */

size_t
store__pos_key(uint8_t *k, uint32_t part)
{
	store_keys_put32(k, part);
	k[4] = STORE_KEYS_POS;
	return STORE_POS_KEY_LEN;
}

void
store__pos_enc(uint8_t out[STORE_POS_VAL_LEN], struct store_pos p)
{
	store_keys_put64(out, (uint64_t)p.epoch);
	store_keys_put64(out + 8, p.lsn);
}

struct store_pos
store__pos_dec(const uint8_t *v, size_t len)
{
	struct store_pos p = { 0, 0 };

	if (v != NULL && len == STORE_POS_VAL_LEN) {
		p.epoch = (int64_t)store_keys_get64(v);
		p.lsn = store_keys_get64(v + 8);
	}
	return p;
}

int
store__repl_load(struct store *st, uint32_t part, struct rs_err *err)
{
	struct store_rpart *rp = &st->repl->parts[part];
	struct store_snap *sn = store__snap_get(st);
	struct store_view v = store__view_db(st, sn->ro);
	uint8_t k[STORE_POS_KEY_LEN], *val = NULL;
	size_t len = 0;
	int rc = store__get(&v, k, store__pos_key(k, part), &val, &len, err);
	struct store_pos p;

	store__snap_put(st, sn);
	if (rc != 0 && rc != RS_ENOTFOUND)
		return -1;
	p = store__pos_dec(val, len);
	free(val);
	rp->lsn = p.lsn;
	rp->last_epoch = p.epoch;
	rp->acked = p.lsn;
	rp->loaded = true;
	return 0;
}

void
store_repl_enable(struct store *st, store_ship_fn *ship, void *arg)
{
	struct store_repl *r = rs_xcalloc(1, sizeof(*r));

	pthread_mutex_init(&r->mu, NULL);
	for (uint32_t i = 0; i < STORE_REPL_PARTS; i++)
		r->parts[i].pend_tail = &r->parts[i].pend;
	r->ship = ship;
	r->ship_arg = arg;
	st->txn.repl = rs_xcalloc(1, sizeof(*st->txn.repl));
	st->repl = r;
	store__import_sweep(st);
}

void
store__repl_free(struct store *st)
{
	struct store_repl *r = st->repl;

	store__repl_txn_free(&st->txn);
	if (r == NULL)
		return;
	/* Closing: nothing acks any more; what waited has no answer but
	 * "unknown" (its caller's exec is still alive: store_close). */
	while (r->held != NULL) {
		struct store_op *op = r->held;

		r->held = op->next;
		op->rc = RS_EUNAVAIL;
		store__op_complete(st, op);
	}
	for (uint32_t i = 0; i < STORE_REPL_PARTS; i++) {
		while (r->parts[i].pend != NULL) {
			struct store_pend *p = r->parts[i].pend;

			r->parts[i].pend = p->next;
			store__snap_put(st, p->before);
			free(p->touched);
			free(p);
		}
		if (r->parts[i].pinned != NULL)
			store__snap_put(st, r->parts[i].pinned);
	}
	pthread_mutex_destroy(&r->mu);
	free(r);
	st->repl = NULL;
}

struct store_pos
store_repl_position(struct store *st, uint32_t part)
{
	struct store_repl *r = st->repl;
	struct store_pos p = { 0, 0 };

	if (r == NULL || part >= STORE_REPL_PARTS)
		return p;
	pthread_mutex_lock(&r->mu);
	if (r->parts[part].loaded ||
	    store__repl_load(st, part, NULL) == 0) {
		p.epoch = r->parts[part].last_epoch;
		p.lsn = r->parts[part].lsn;
	}
	pthread_mutex_unlock(&r->mu);
	return p;
}

enum store_role
store_repl_role(struct store *st, uint32_t part, int64_t *epoch_r)
{
	struct store_repl *r = st->repl;
	enum store_role role;

	if (r == NULL || part >= STORE_REPL_PARTS)
		return STORE_ROLE_NONE;
	pthread_mutex_lock(&r->mu);
	role = r->parts[part].role;
	if (epoch_r != NULL)
		*epoch_r = r->parts[part].epoch;
	pthread_mutex_unlock(&r->mu);
	return role;
}

/* ---- the writer's capture ---- */

static struct store_rcap *
store_repl_cap(struct store_txn *t, uint32_t part)
{
	struct store_rtxn *rt = t->repl;
	struct store_repl *r = t->st->repl;
	struct store_rcap *c;

	for (size_t i = 0; i < rt->ncaps; i++)
		if (rt->caps[i].part == part)
			return &rt->caps[i];
	if (rt->ncaps == rt->capcap) {
		rt->capcap = rt->capcap ? rt->capcap * 2 : 8;
		rt->caps = rs_xreallocarray(rt->caps, rt->capcap,
		                            sizeof(*rt->caps));
	}
	c = &rt->caps[rt->ncaps++];
	memset(c, 0, sizeof(*c));
	c->part = part;
	if (part < STORE_REPL_PARTS) {
		/* The role as this group finds it: a change applies from the
		 * next group on. */
		pthread_mutex_lock(&r->mu);
		c->role = r->parts[part].role;
		c->epoch = r->parts[part].epoch;
		pthread_mutex_unlock(&r->mu);
	}
	if (c->role == STORE_ROLE_PRIMARY)
		c->wb = rocksdb_writebatch_create();
	return c;
}

static void
store_repl_note_part(struct store_rtxn *rt, uint32_t part)
{
	for (size_t i = 0; i < rt->nopparts; i++)
		if (rt->opparts[i] == part)
			return;
	if (rt->nopparts == sizeof(rt->opparts) / sizeof(rt->opparts[0]))
		rt->opmany = true;
	else
		rt->opparts[rt->nopparts++] = part;
}

void
store__repl_write(struct store_txn *t, const uint8_t *key, size_t klen,
                  const void *val, size_t vlen)
{
	struct store_rtxn *rt = t->repl;
	struct store_rcap *c;
	uint32_t part;

	if (rt == NULL || klen < 4)
		return;
	part = store_keys_get32(key);
	if (part == STORE_PART_LOCAL)
		return;
	if (rt->applying) {
		/* A follower writes what its primary shipped, nothing more. */
		if (part != rt->apply_part && !rt->forbidden) {
			rt->forbidden = true;
			rt->forbidden_part = part;
		}
		return;
	}
	store_repl_note_part(rt, part);
	c = store_repl_cap(t, part);
	if (c->role != STORE_ROLE_PRIMARY) {
		if (!rt->forbidden) {
			rt->forbidden = true;
			rt->forbidden_part = part;
		}
		return;
	}
	if (!c->marked) {
		rocksdb_writebatch_set_save_point(c->wb);
		c->marked = true;
	}
	if (val != NULL)
		rocksdb_writebatch_put(c->wb, (const char *)key, klen,
		                       (const char *)val, vlen);
	else
		rocksdb_writebatch_delete(c->wb, (const char *)key, klen);
}

void
store__repl_op_begin(struct store_txn *t)
{
	struct store_rtxn *rt = t->repl;

	if (rt == NULL)
		return;
	rt->nopparts = 0;
	rt->opmany = false;
	rt->forbidden = false;
	for (size_t i = 0; i < rt->ncaps; i++)
		rt->caps[i].marked = false;
}

/* Records the partitions op wrote, for its wait at the group's end. */
static void
store_repl_op_parts(struct store_rtxn *rt, struct store_op *op)
{
	free(op->rparts);
	op->rparts = NULL;
	op->nrparts = 0;
	op->rall = rt->opmany;
	if (rt->nopparts == 0 || rt->applying)
		return;
	op->rparts = rs_xcalloc(rt->nopparts, sizeof(*op->rparts));
	memcpy(op->rparts, rt->opparts, rt->nopparts * sizeof(uint32_t));
	op->nrparts = rt->nopparts;
}

int
store__repl_op_end(struct store_txn *t, struct store_op *op, bool ok,
                   struct rs_err *err)
{
	struct store_rtxn *rt = t->repl;
	int rc = 0;

	if (rt == NULL)
		return 0;
	if (ok && rt->forbidden) {
		rc = rs_err_set(err, RS_EUNAVAIL, "partition %u is not served "
		                "here", rt->forbidden_part);
		ok = false;
	}
	for (size_t i = 0; i < rt->ncaps; i++) {
		struct store_rcap *c = &rt->caps[i];
		char *e = NULL;

		if (!c->marked)
			continue;
		if (ok)
			rocksdb_writebatch_pop_save_point(c->wb, &e);
		else
			rocksdb_writebatch_rollback_to_save_point(c->wb, &e);
		free(e);          /* a save point was set: cannot fail */
		c->marked = false;
	}
	if (ok)
		store_repl_op_parts(rt, op);
	return rc;
}

static void
store_repl_caps_clear(struct store_rtxn *rt)
{
	for (size_t i = 0; i < rt->ncaps; i++)
		if (rt->caps[i].wb != NULL)
			rocksdb_writebatch_destroy(rt->caps[i].wb);
	rt->ncaps = 0;
}

/* The entry of part in c, or NULL. */
static const struct store_rentry *
store_repl_entry_of(const struct store_commit *c, uint32_t part)
{
	for (size_t i = 0; i < c->nentries; i++)
		if (c->entries[i].part == part)
			return &c->entries[i];
	return NULL;
}

void
store__repl_group_end(struct store_txn *t, struct store_op *ops,
                      struct store_commit *c)
{
	struct store_repl *r = t->st->repl;
	struct store_rtxn *rt = t->repl;
	struct store_op *op;

	if (rt == NULL)
		return;
	c->entries = rs_xcalloc(rt->ncaps + 1, sizeof(*c->entries));
	for (size_t i = 0; i < rt->ncaps; i++) {
		struct store_rcap *cap = &rt->caps[i];
		struct store_rpart *rp = &r->parts[cap->part];
		struct store_rentry *e = &c->entries[c->nentries];
		uint8_t k[STORE_POS_KEY_LEN], v[STORE_POS_VAL_LEN];
		const char *data;
		size_t klen = store__pos_key(k, cap->part), len;

		if (cap->wb == NULL || rocksdb_writebatch_count(cap->wb) == 0)
			continue;
		pthread_mutex_lock(&r->mu);
		/* A primary's position was loaded when the role was set. */
		e->part = cap->part;
		e->pos.epoch = cap->epoch;
		e->pos.lsn = ++rp->lsn;
		rp->last_epoch = cap->epoch;
		pthread_mutex_unlock(&r->mu);
		store__pos_enc(v, e->pos);
		rocksdb_writebatch_wi_put(t->wb, (const char *)k, klen,
		                          (const char *)v, sizeof(v));
		store__cache_write(t->cache, k, klen, v, sizeof(v));
		rocksdb_writebatch_put(cap->wb, (const char *)k, klen,
		                       (const char *)v, sizeof(v));
		data = rocksdb_writebatch_data(cap->wb, &len);
		e->data = rs_xmemdup(data, len);
		e->len = len;
		c->nentries++;
	}
	for (op = ops; op != NULL; op = op->next) {
		size_t n = op->rall ? c->nentries : op->nrparts;

		op->nreqs = 0;
		if (op->rc != 0 || n == 0)
			continue;
		op->reqs = rs_xcalloc(n, sizeof(*op->reqs));
		for (size_t i = 0; i < n; i++) {
			uint32_t p = op->rall ? c->entries[i].part
			                      : op->rparts[i];
			const struct store_rentry *e =
				store_repl_entry_of(c, p);

			if (e != NULL)
				op->reqs[op->nreqs++] = (struct store_rreq){
					p, e->pos.lsn, e->pos.epoch };
		}
	}
	store_repl_caps_clear(rt);
}

void
store__repl_group_drop(struct store_txn *t)
{
	if (t->repl != NULL)
		store_repl_caps_clear(t->repl);
}

void
store__repl_txn_free(struct store_txn *t)
{
	if (t->repl == NULL)
		return;
	store_repl_caps_clear(t->repl);
	store__import_free_all(t->repl);
	free(t->repl->caps);
	free(t->repl);
	t->repl = NULL;
}
