/* store_raw.c: raw key access (store_raw.h) and the primitive reads and
 * writes every operation goes through: through the writer's batch inside
 * an apply function, or against the committed DB from any thread; range
 * iterators and walks over the batch. RocksDB's error strings become an
 * rs_err here and are freed at once. */
#include "storage/store_int.h"
#include "storage/store_repl_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "storage/store_keys.h"

int
store__get(const struct store_view *v, const uint8_t *key, size_t klen,
           uint8_t **val_r, size_t *len_r, struct rs_err *err)
{
	char *e = NULL, *val;
	size_t len = 0;

	if (v->t != NULL) {
		/* The writer: its batch over everything written so far. */
		int rc = store__cache_get(v->t->cache, key, klen, val_r, len_r);

		if (rc == 0)
			return 0;
		if (rc == RS_ENOTFOUND)
			return store__fail(err, RS_ENOTFOUND, "no such key");
		val = rocksdb_writebatch_wi_get_from_batch_and_db(
		    v->t->wb, v->st->db, v->st->ropts, (const char *)key, klen,
		    &len, &e);
		if (e == NULL)
			store__cache_fill(v->t->cache, key, klen,
			                  (const uint8_t *)val, len);
	} else if (v->ro != NULL) {
		val = rocksdb_get(v->st->db, v->ro, (const char *)key, klen,
		                  &len, &e);
	} else {
		struct store_snap *sn = store__snap_get_key(v->st, key, klen);

		val = rocksdb_get(v->st->db, sn->ro, (const char *)key, klen,
		                  &len, &e);
		store__snap_put(v->st, sn);
	}
	*val_r = NULL;
	*len_r = 0;
	if (e != NULL) {
		store__fail(err, RS_EIO, "store get: %s", e);
		free(e);
		free(val);
		return RS_EIO;
	}
	if (val == NULL)
		return store__fail(err, RS_ENOTFOUND, "no such key");
	*val_r = (uint8_t *)val;
	*len_r = len;
	return 0;
}

void
store__put(struct store_txn *t, const uint8_t *key, size_t klen,
           const void *val, size_t vlen)
{
	rocksdb_writebatch_wi_put(t->wb, (const char *)key, klen,
	                          (const char *)val, vlen);
	store__cache_write(t->cache, key, klen, val, vlen);
	store__repl_write(t, key, klen, val != NULL ? val : "", vlen);
}

void
store__del(struct store_txn *t, const uint8_t *key, size_t klen)
{
	rocksdb_writebatch_wi_delete(t->wb, (const char *)key, klen);
	store__cache_write(t->cache, key, klen, NULL, 0);
	store__repl_write(t, key, klen, NULL, 0);
}

int
store__exists(const struct store_view *v, const uint8_t *key, size_t klen,
              struct rs_err *err)
{
	uint8_t *val;
	size_t len;
	int rc = store__get(v, key, klen, &val, &len, err);

	free(val);
	if (rc == RS_ENOTFOUND)
		return 0;
	return rc == 0 ? 1 : rc;
}

/* ---- ranges ---- */

void
store__range_open(struct store *st, struct store_range *r,
                  const uint8_t *prefix, size_t plen, const uint8_t *seek,
                  size_t slen, const rocksdb_snapshot_t *snap)
{
	size_t elen = store_keys_prefix_end(prefix, plen, r->end);

	r->st = st;
	r->hold = NULL;
	r->ro = rocksdb_readoptions_create();
	r->plen = plen;
	if (snap == NULL) {
		/* Readers see the durable state only (store_commit.c). */
		r->hold = store__snap_get_key(st, prefix, plen);
		snap = r->hold->snap;
	}
	rocksdb_readoptions_set_snapshot(r->ro, snap);
	/* Every prefix here holds a tag letter after the partition, so
	 * it is never all 0xff and elen > 0. */
	rocksdb_readoptions_set_iterate_upper_bound(r->ro, (char *)r->end,
	                                            elen);
	r->it = rocksdb_create_iterator(st->db, r->ro);
	rocksdb_iter_seek(r->it, (const char *)seek, slen);
}

void
store__range_close(struct store_range *r)
{
	if (r->it != NULL)
		rocksdb_iter_destroy(r->it);
	if (r->ro != NULL)
		rocksdb_readoptions_destroy(r->ro);
	if (r->hold != NULL)
		store__snap_put(r->st, r->hold);
	r->it = NULL;
	r->ro = NULL;
	r->hold = NULL;
}

int
store__range_status(struct store_range *r, struct rs_err *err)
{
	char *e = NULL;

	rocksdb_iter_get_error(r->it, &e);
	if (e == NULL)
		return 0;
	store__fail(err, RS_EIO, "store scan: %s", e);
	free(e);
	return RS_EIO;
}

/* ---- walks through the batch ---- */

/* Keys a walk reads before handing them over: a batch must not change
 * under an iterator that reads it, and memory stays bounded. */
#define STORE_WALK_STEP 1024

struct store_walk_item {
	uint8_t *key;                 /* owns; the value follows the key */
	size_t   klen;
	size_t   vlen;
};

/* Copies up to STORE_WALK_STEP keys and values from "from" on. Returns
 * the count, or -1 with err set. */
static int
store_walk_collect(struct store_txn *t, const uint8_t *prefix, size_t plen,
                   const uint8_t *from, size_t flen,
                   struct store_walk_item *items, struct rs_err *err)
{
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	uint8_t end[STORE_KEYS_MAX_RANGE];
	size_t elen = store_keys_prefix_end(prefix, plen, end);
	rocksdb_iterator_t *base, *it;
	char *e = NULL;
	int n = 0, rc = 0;

	/* The bound keeps the base from reading tombstones past the
	 * range; the batch's own entries are checked by prefix below. */
	rocksdb_readoptions_set_iterate_upper_bound(ro, (char *)end, elen);
	base = rocksdb_create_iterator(t->st->db, ro);
	/* Takes base. */
	it = rocksdb_writebatch_wi_create_iterator_with_base(t->wb, base);
	for (rocksdb_iter_seek(it, (const char *)from, flen);
	     rocksdb_iter_valid(it) && n < STORE_WALK_STEP;
	     rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const uint8_t *k = store__iter_key(it, &klen);
		const uint8_t *v = store__iter_val(it, &vlen);
		struct store_walk_item *w = &items[n++];

		if (klen < plen || memcmp(k, prefix, plen) != 0) {
			n--;
			break;
		}
		w->key = rs_xmalloc(klen + vlen + 1);
		memcpy(w->key, k, klen);
		if (vlen > 0)
			memcpy(w->key + klen, v, vlen);
		w->klen = klen;
		w->vlen = vlen;
	}
	rocksdb_iter_get_error(it, &e);
	if (e != NULL) {
		rc = store__fail(err, RS_EIO, "store walk: %s", e);
		free(e);
	}
	rocksdb_iter_destroy(it);
	rocksdb_readoptions_destroy(ro);
	if (rc != 0) {
		while (n > 0)
			free(items[--n].key);
		return -1;
	}
	return n;
}

int
store__walk(struct store_txn *t, const uint8_t *prefix, size_t plen,
            const uint8_t *from, size_t flen, store__walk_fn *fn, void *arg,
            struct rs_err *err)
{
	struct store_walk_item *items = rs_xcalloc(STORE_WALK_STEP,
	                                           sizeof(*items));
	uint8_t *cur = rs_xmemdup(from, flen);
	size_t clen = flen;
	int n, rc = 0;

	do {
		n = store_walk_collect(t, prefix, plen, cur, clen, items, err);
		if (n < 0) {
			rc = -1;
			break;
		}
		for (int i = 0; i < n && rc == 0; i++)
			rc = fn(t, arg, items[i].key, items[i].klen,
			        items[i].key + items[i].klen, items[i].vlen,
			        err);
		if (n > 0) {
			/* The next round starts just after the last key. */
			free(cur);
			clen = items[n - 1].klen + 1;
			cur = rs_xcalloc(1, clen);
			memcpy(cur, items[n - 1].key, clen - 1);
		}
		for (int i = 0; i < n; i++)
			free(items[i].key);
	} while (rc == 0 && n == STORE_WALK_STEP);
	free(cur);
	free(items);
	return rc < 0 ? -1 : 0;
}

/* ---- store_raw.h ---- */

int
store_submit(struct store *st, store_apply_fn *apply, void *apply_arg,
             struct rs_exec *ex, store_done_fn *cb, void *cb_arg,
             struct rs_err *err)
{
	if (apply == NULL || ex == NULL || cb == NULL)
		return rs_err_set(err, RS_EINVAL, "store_submit: missing "
		                  "function");
	return store__submit_owned(st, apply, apply_arg, NULL, 0, ex, cb,
	                           cb_arg, err);
}

int
store_txn_get(struct store_txn *t, const void *key, size_t klen,
              struct rs_buf *val, struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	uint8_t *p;
	size_t len;
	int rc;

	rs_buf_reset(val);
	rc = store__get(&v, key, klen, &p, &len, err);
	if (rc != 0)
		return rc;
	rc = rs_buf_append(val, p, len);
	free(p);
	if (rc != 0)
		return store__fail(err, rc, "value of %zu octets too big", len);
	return 0;
}

void
store_txn_put(struct store_txn *t, const void *key, size_t klen,
              const void *val, size_t vlen)
{
	store__put(t, key, klen, val, vlen);
}

void
store_txn_del(struct store_txn *t, const void *key, size_t klen)
{
	store__del(t, key, klen);
}

void
store_txn_touch(struct store_txn *t, struct store_acct a, uint64_t modseq)
{
	struct store_touch *x;

	if (t->ntouched == t->cap) {
		t->cap = t->cap != 0 ? t->cap * 2 : 64;
		t->touched = rs_xreallocarray(t->touched, t->cap,
		                              sizeof(*t->touched));
	}
	x = &t->touched[t->ntouched];
	x->a = a;
	x->modseq = modseq;
	x->seq = t->ntouched++;
}

int
store_raw_get(struct store *st, const void *key, size_t klen,
              struct rs_buf *val, struct rs_err *err)
{
	struct store_snap *sn = store__snap_get_key(st, key, klen);
	rocksdb_pinnableslice_t *ps;
	const char *p;
	char *e = NULL;
	size_t len = 0;
	int rc;

	rs_buf_reset(val);
	ps = rocksdb_get_pinned(st->db, sn->ro, key, klen, &e);
	store__snap_put(st, sn);
	if (e != NULL) {
		store__fail(err, RS_EIO, "store get: %s", e);
		free(e);
		rocksdb_pinnableslice_destroy(ps);
		return RS_EIO;
	}
	if (ps == NULL)
		return store__fail(err, RS_ENOTFOUND, "no such key");
	p = rocksdb_pinnableslice_value(ps, &len);
	rc = rs_buf_append(val, p, len);
	rocksdb_pinnableslice_destroy(ps);
	if (rc != 0)
		return store__fail(err, rc, "value of %zu octets too big", len);
	return 0;
}

int
store_raw_scan(struct store *st, const void *prefix, size_t plen,
               store_scan_fn *fn, void *arg, struct rs_err *err)
{
	struct store_snap *sn = store__snap_get_key(st, prefix, plen);
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	uint8_t *end = rs_xmalloc(plen + 1);
	size_t elen = store_keys_prefix_end(prefix, plen, end);
	rocksdb_iterator_t *it;
	char *e = NULL;
	int rc = 0;

	rocksdb_readoptions_set_snapshot(ro, sn->snap);
	/* A scan reads its range once (the coordination store's prefixes,
	 * the whole directory at start): keep its blocks out of the block
	 * cache, which serves the mail path and would otherwise hold tens
	 * of megabytes of directory records nobody reads again. */
	rocksdb_readoptions_set_fill_cache(ro, 0);
	/* The bound keeps the iterator from reading past the range (and
	 * over tombstones beyond it); the prefix test covers an all-0xff
	 * prefix, which has no bound. */
	if (elen > 0)
		rocksdb_readoptions_set_iterate_upper_bound(ro, (char *)end,
		                                            elen);
	it = rocksdb_create_iterator(st->db, ro);
	for (rocksdb_iter_seek(it, prefix, plen); rocksdb_iter_valid(it);
	     rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const char *val = rocksdb_iter_value(it, &vlen);

		if (klen < plen || memcmp(k, prefix, plen) != 0)
			break;
		rc = fn(arg, (const uint8_t *)k, klen, (const uint8_t *)val,
		        vlen);
		if (rc != 0)
			break;
	}
	if (rc == 0) {
		rocksdb_iter_get_error(it, &e);
		if (e != NULL) {
			rc = store__fail(err, RS_EIO, "store scan: %s", e);
			free(e);
		}
	}
	rocksdb_iter_destroy(it);
	rocksdb_readoptions_destroy(ro);
	store__snap_put(st, sn);
	free(end);
	return rc;
}
