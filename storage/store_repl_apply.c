/* store_repl_apply.c: a follower's writes: entries shipped by its
 * primary, applied as they are (never re-run: the primary's apply read
 * its clock and gave out UIDs), and the copy of a whole partition for a
 * follower that cannot catch up from the log (export on the primary;
 * begin, chunks and end on the follower, written into an SST file that
 * store_repl_import.c ingests). Every batch is checked before a byte of
 * it is written: it parses, every key lies in the partition, and an
 * entry carries the position it claims. */
#include "storage/store_repl_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"

/* RocksDB's write batch header: sequence (8) and count (4). */
#define STORE_WB_HEADER 12

enum store_apply_kind {
	STORE_APPLY_ENTRY,
	STORE_APPLY_IMPORT,
	STORE_APPLY_BEGIN,
	STORE_APPLY_END,
};

struct store_apply {
	enum store_apply_kind kind;
	uint32_t              part;
	int64_t               epoch;     /* ENTRY: the shipping primary's */
	struct store_pos      pos;
	uint8_t              *data;      /* owns */
	size_t                len;
};

/* Walking a shipped batch into the writer's, or a chunk into its copy. */
struct store_apply_walk {
	struct store_txn    *t;
	struct store_import *im;         /* a chunk: its copy */
	uint32_t             part;
	bool                 entry;      /* must hold its position */
	struct store_pos     want;
	bool                 bad, pos_seen;
	bool                 failed;     /* the copy's file refused a key */
	size_t               n;
};

static bool
store_apply_key_ok(struct store_apply_walk *w, const char *k, size_t klen)
{
	if (klen < 5 || store_keys_get32((const uint8_t *)k) != w->part) {
		w->bad = true;
		return false;
	}
	return true;
}

static void
store_apply_put(void *arg, const char *k, size_t klen, const char *v,
                size_t vlen)
{
	struct store_apply_walk *w = arg;

	w->n++;
	if (w->bad || !store_apply_key_ok(w, k, klen))
		return;
	if (klen == STORE_POS_KEY_LEN && k[4] == STORE_KEYS_POS) {
		struct store_pos p = store__pos_dec((const uint8_t *)v, vlen);

		if (!w->entry || p.epoch != w->want.epoch ||
		    p.lsn != w->want.lsn) {
			w->bad = true;
			return;
		}
		w->pos_seen = true;
	}
	if (w->im != NULL) {
		w->bad = w->failed = !store__import_put(w->im, k, klen, v,
		                                        vlen);
	} else
		store__put(w->t, (const uint8_t *)k, klen, v, vlen);
}

static void
store_apply_del(void *arg, const char *k, size_t klen)
{
	struct store_apply_walk *w = arg;

	w->n++;
	if (w->bad || !store_apply_key_ok(w, k, klen))
		return;
	/* A copy holds what exists: a delete in it is a malformed chunk. */
	if (w->im != NULL)
		w->bad = true;
	else
		store__del(w->t, (const uint8_t *)k, klen);
}

/* Checks a shipped batch or a copy's chunk and writes it: an entry into
 * the group's batch (it becomes part of this node's log and position);
 * a chunk into its partition's copy, which the END ingests. */
static int
store_apply_batch(struct store_txn *t, const struct store_apply *a,
                  struct rs_err *err)
{
	bool import = a->kind == STORE_APPLY_IMPORT;
	struct store_apply_walk w = { .t = t, .part = a->part,
	                              .entry = a->kind == STORE_APPLY_ENTRY,
	                              .want = a->pos };
	rocksdb_writebatch_t *wb;
	int count, rc = 0;

	if (a->len < STORE_WB_HEADER)
		return rs_err_set(err, RS_EINVAL, "entry too short");
	if (import && (w.im = store__import_get(t, a->part)) == NULL)
		return rs_err_set(err, RS_ECONFLICT, "partition %u: no copy "
		                  "was begun", a->part);
	wb = rocksdb_writebatch_create_from((const char *)a->data, a->len);
	count = rocksdb_writebatch_count(wb);
	rocksdb_writebatch_iterate(wb, &w, store_apply_put, store_apply_del);
	/* A record kind we do not write, or a batch cut short, stops the
	 * walk early: the counts then differ. A chunk may have reached the
	 * copy's file in part: the copy is forgotten. */
	if (w.failed)
		rc = rs_err_set(err, RS_EINVAL, "copy of partition %u: a key "
		                "out of order, or the file could not be written",
		                a->part);
	else if (w.bad || count < 0 || w.n != (size_t)count ||
	         (w.entry && !w.pos_seen))
		rc = rs_err_set(err, RS_EINVAL, "entry of partition %u does "
		                "not parse, strays out of it or lacks its "
		                "position", a->part);
	if (rc != 0 && import)
		store__import_abort(t, a->part);
	rocksdb_writebatch_destroy(wb);
	return rc;
}

/* Writer: checks the role and position under the lock; for an entry,
 * claims the next position when it applies. */
static int
store_apply_run(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct store_apply *a = arg;
	struct store_repl *r = t->st->repl;
	struct store_rpart *rp;
	uint8_t k[STORE_POS_KEY_LEN], v[STORE_POS_VAL_LEN];
	int rc = 0;

	if (r == NULL || a->part >= STORE_REPL_PARTS)
		return rs_err_set(err, RS_EINVAL, "replication is not enabled");
	rp = &r->parts[a->part];
	pthread_mutex_lock(&r->mu);
	/* An entry comes from the primary this node follows now: one of
	 * its own epoch, or an older one it kept in its log from before it
	 * was promoted (the same LSN and epoch are the same entry on every
	 * replica). An entry whose primary was deposed while it waited for
	 * the writer is refused here. */
	if (rp->role != STORE_ROLE_FOLLOWER ||
	    (a->kind == STORE_APPLY_ENTRY &&
	     (rp->epoch != a->epoch || a->pos.epoch > a->epoch)))
		rc = rs_err_set(err, RS_EUNAVAIL, "not a follower of partition "
		                "%u at epoch %lld", a->part,
		                (long long)a->epoch);
	else if (a->kind == STORE_APPLY_ENTRY && a->pos.lsn != rp->lsn + 1)
		rc = rs_err_set(err, RS_ECONFLICT, "partition %u is at %llu, "
		                "not before %llu", a->part,
		                (unsigned long long)rp->lsn,
		                (unsigned long long)a->pos.lsn);
	pthread_mutex_unlock(&r->mu);
	if (rc != 0)
		return -1;
	t->repl->applying = true;
	t->repl->apply_part = a->part;
	switch (a->kind) {
	case STORE_APPLY_ENTRY:
	case STORE_APPLY_IMPORT:
		rc = store_apply_batch(t, a, err);
		break;
	case STORE_APPLY_BEGIN:
		rc = store__import_begin(t, a->part, err);
		break;
	case STORE_APPLY_END:
		rc = store__import_end(t, a->part, err);
		/* The writer's cache may hold the partition's records, absent
		 * ones too. */
		store__cache_clear(t->cache);
		if (rc != 0)
			break;
		store__pos_enc(v, a->pos);
		store__put(t, k, store__pos_key(k, a->part), v, sizeof(v));
		break;
	}
	t->repl->applying = false;
	if (rc != 0)
		return -1;
	pthread_mutex_lock(&r->mu);
	if (a->kind != STORE_APPLY_IMPORT) {
		/* The position the op leaves (a begun copy: none yet). */
		rp->lsn = a->kind == STORE_APPLY_BEGIN ? 0 : a->pos.lsn;
		rp->last_epoch = a->kind == STORE_APPLY_BEGIN ? 0 : a->pos.epoch;
		rp->acked = rp->lsn;
	}
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static void
store_apply_free(void *arg)
{
	struct store_apply *a = arg;

	free(a->data);
	free(a);
}

static int
store_apply_submit(struct store *st, enum store_apply_kind kind,
                   uint32_t part, int64_t epoch, struct store_pos pos,
                   const uint8_t *data,
                   size_t len, struct rs_exec *ex,
                   void (*cb)(void *arg, int rc), void *arg,
                   struct rs_err *err)
{
	struct store_apply *a;

	if (st->repl == NULL || part >= STORE_REPL_PARTS)
		return rs_err_set(err, RS_EINVAL, "partition %u cannot be "
		                  "replicated here", part);
	a = rs_xcalloc(1, sizeof(*a));
	a->kind = kind;
	a->part = part;
	a->epoch = epoch;
	a->pos = pos;
	a->data = len > 0 ? rs_xmemdup(data, len) : NULL;
	a->len = len;
	return store__submit_owned(st, store_apply_run, a, store_apply_free,
	                           len, ex, cb, arg, err);
}

int
store_repl_apply(struct store *st, uint32_t part, int64_t epoch,
                 struct store_pos pos, const uint8_t *data, size_t len,
                 struct rs_exec *ex, void (*cb)(void *arg, int rc),
                 void *arg, struct rs_err *err)
{
	return store_apply_submit(st, STORE_APPLY_ENTRY, part, epoch, pos,
	                          data, len, ex, cb, arg, err);
}

int
store_repl_import_begin(struct store *st, uint32_t part, struct rs_exec *ex,
                        void (*cb)(void *arg, int rc), void *arg,
                        struct rs_err *err)
{
	struct store_pos none = { 0, 0 };

	return store_apply_submit(st, STORE_APPLY_BEGIN, part, 0, none, NULL, 0,
	                          ex, cb, arg, err);
}

int
store_repl_import(struct store *st, uint32_t part, const uint8_t *data,
                  size_t len, struct rs_exec *ex,
                  void (*cb)(void *arg, int rc), void *arg,
                  struct rs_err *err)
{
	struct store_pos none = { 0, 0 };

	return store_apply_submit(st, STORE_APPLY_IMPORT, part, 0, none, data,
	                          len, ex, cb, arg, err);
}

int
store_repl_import_end(struct store *st, uint32_t part, struct store_pos pos,
                      struct rs_exec *ex, void (*cb)(void *arg, int rc),
                      void *arg, struct rs_err *err)
{
	return store_apply_submit(st, STORE_APPLY_END, part, 0, pos, NULL, 0,
	                          ex, cb, arg, err);
}

/* ---- export ---- */

struct store_export {
	struct store      *st;
	uint32_t           part;
	struct store_snap *snap;         /* owns a reference */
	struct store_range r;
};

struct store_export *
store_repl_export_open(struct store *st, uint32_t part,
                       struct store_pos *pos_r)
{
	struct store_export *x = rs_xcalloc(1, sizeof(*x));
	struct store_view v;
	uint8_t prefix[4], k[STORE_POS_KEY_LEN], *val = NULL;
	size_t len = 0;

	x->st = st;
	x->part = part;
	x->snap = store__snap_get(st);
	v = store__view_db(st, x->snap->ro);
	if (store__get(&v, k, store__pos_key(k, part), &val, &len, NULL) != 0)
		val = NULL;
	*pos_r = store__pos_dec(val, len);
	free(val);
	store_keys_put32(prefix, part);
	store__range_open(st, &x->r, prefix, sizeof(prefix), prefix,
	                  sizeof(prefix), x->snap->snap);
	return x;
}

int
store_repl_export_next(struct store_export *x, size_t max, uint8_t **data_r,
                       size_t *len_r, struct rs_err *err)
{
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	const char *data;
	size_t bytes = 0, len;

	*data_r = NULL;
	*len_r = 0;
	while (rocksdb_iter_valid(x->r.it) && (bytes == 0 || bytes < max)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(x->r.it, &klen);
		const char *v = rocksdb_iter_value(x->r.it, &vlen);

		/* The position is the follower's to write, last. */
		if (!(klen == STORE_POS_KEY_LEN && k[4] == STORE_KEYS_POS)) {
			rocksdb_writebatch_put(wb, k, klen, v, vlen);
			bytes += klen + vlen;
		}
		rocksdb_iter_next(x->r.it);
	}
	if (store__range_status(&x->r, err) != 0) {
		rocksdb_writebatch_destroy(wb);
		return -1;
	}
	if (rocksdb_writebatch_count(wb) == 0) {
		rocksdb_writebatch_destroy(wb);
		return 0;
	}
	data = rocksdb_writebatch_data(wb, &len);
	*data_r = rs_xmemdup(data, len);
	*len_r = len;
	rocksdb_writebatch_destroy(wb);
	return 1;
}

void
store_repl_export_close(struct store_export **pp)
{
	struct store_export *x = *pp;

	if (x == NULL)
		return;
	store__range_close(&x->r);
	store__snap_put(x->st, x->snap);
	free(x);
	*pp = NULL;
}
