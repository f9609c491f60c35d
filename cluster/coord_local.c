/* coord_local.c: etcd's data model on the node's own store. Keys live in
 * the node-local range as  FFFFFFFF 'K' <key>  -> create_rev(8) mod_rev(8)
 * value, and the store revision as  FFFFFFFF 'V' -> rev(8). A transaction
 * is one store_submit operation: its compares and writes run on the
 * store's writer thread inside the group's batch, so they are atomic and
 * durable before the callback runs. Watchers are served on the loop from
 * the transaction's completion, in commit order. A standalone node has
 * nobody to outlive: its leases never expire, and a key put with one is
 * an ordinary key. */
#include "cluster/coord_local.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_buf.h"
#include "lib/rs_mem.h"
#include "storage/store.h"
#include "storage/store_raw.h"

#define CL_KEY_PREFIX_LEN 5
static const uint8_t cl_key_prefix[CL_KEY_PREFIX_LEN] = {
	0xff, 0xff, 0xff, 0xff, 'K' };
static const uint8_t cl_rev_key[CL_KEY_PREFIX_LEN] = {
	0xff, 0xff, 0xff, 0xff, 'V' };
#define CL_HDR 16                  /* create_rev + mod_rev */

struct cl_watch {
	char            *prefix;       /* owns */
	int64_t          after_rev;
	coord_watch_fn  *cb;
	void            *arg;
	struct cl_watch *next;
};

struct coord_local {
	struct coord     base;         /* first: cast from struct coord */
	struct store    *st;
	struct rs_exec  *ex;
	struct cl_watch *watches;      /* owns */
	unsigned         pending;      /* operations not yet completed */
	int64_t          next_lease;   /* the last lease id granted */
	bool             destroyed;    /* freed once pending reaches 0 */
};

static void
cl_put64(uint8_t *p, int64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static int64_t
cl_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

/* Builds the store key of a coordination key into buf. */
static size_t
cl_key(uint8_t *buf, const char *key, size_t klen)
{
	memcpy(buf, cl_key_prefix, CL_KEY_PREFIX_LEN);
	memcpy(buf + CL_KEY_PREFIX_LEN, key, klen);
	return CL_KEY_PREFIX_LEN + klen;
}

static void
cl_maybe_free(struct coord_local *cl)
{
	if (!cl->destroyed || cl->pending > 0)
		return;
	while (cl->watches != NULL) {
		struct cl_watch *w = cl->watches;

		cl->watches = w->next;
		free(w->prefix);
		free(w);
	}
	free(cl);
}

/* ---- range ---- */

struct cl_range {
	struct coord_local *cl;
	coord_range_fn     *cb;
	void               *arg;
	struct coord_kv    *kvs;       /* owns (keys and values too) */
	size_t              n, cap;
	int64_t             rev;
	int                 rc;
	struct rs_err       err;
	const char         *exact;     /* borrowed: get's key, or NULL */
};

static int
cl_range_collect(void *arg, const uint8_t *key, size_t klen,
                 const uint8_t *val, size_t vlen)
{
	struct cl_range *r = arg;
	struct coord_kv *kv;

	if (vlen < CL_HDR)
		return 0;                   /* not ours to judge: skip */
	if (r->exact != NULL &&
	    (klen - CL_KEY_PREFIX_LEN != strlen(r->exact) ||
	     memcmp(key + CL_KEY_PREFIX_LEN, r->exact,
	            klen - CL_KEY_PREFIX_LEN) != 0))
		return 0;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->kvs = rs_xreallocarray(r->kvs, r->cap, sizeof(*r->kvs));
	}
	kv = &r->kvs[r->n++];
	kv->key = rs_xstrndup((const char *)key + CL_KEY_PREFIX_LEN,
	                      klen - CL_KEY_PREFIX_LEN);
	kv->create_rev = cl_get64(val);
	kv->mod_rev = cl_get64(val + 8);
	kv->len = vlen - CL_HDR;
	kv->value = rs_xmemdup(val + CL_HDR, kv->len);
	return 0;
}

static void
cl_range_done(void *arg)
{
	struct cl_range *r = arg;
	struct coord_local *cl = r->cl;

	cl->pending--;
	if (!cl->destroyed)
		r->cb(r->arg, r->rc, &r->err, r->kvs, r->n, r->rev);
	for (size_t i = 0; i < r->n; i++) {
		free((char *)r->kvs[i].key);
		free((uint8_t *)r->kvs[i].value);
	}
	free(r->kvs);
	rs_mem_trim_after(r->n);
	free(r);
	cl_maybe_free(cl);
}

static int
cl_read_rev(struct store *st, int64_t *rev_r, struct rs_err *err)
{
	struct rs_buf b;
	int rc;

	rs_buf_init(&b, 64);
	rc = store_raw_get(st, cl_rev_key, sizeof(cl_rev_key), &b, err);
	if (rc == 0 && b.len == 8)
		*rev_r = cl_get64(b.data);
	else if (rc == 0 || err == NULL || err->code == RS_ENOTFOUND)
		*rev_r = 0, rc = 0;
	rs_buf_free(&b);
	return rc;
}

static int
cl_scan(struct coord *c, const char *prefix, bool exact, coord_range_fn *cb,
        void *arg, struct rs_err *err)
{
	struct coord_local *cl = (struct coord_local *)c;
	size_t plen = strlen(prefix);
	uint8_t key[CL_KEY_PREFIX_LEN + COORD_KEY_MAX];
	struct cl_range *r;
	struct rs_err rerr;

	if (plen > COORD_KEY_MAX)
		return rs_err_set(err, RS_EINVAL, "prefix too long");
	r = rs_xcalloc(1, sizeof(*r));
	r->cl = cl;
	r->cb = cb;
	r->arg = arg;
	r->exact = exact ? prefix : NULL;
	rs_err_clear(&r->err);
	/* Revision first: a change committing during the scan then shows in
	 * both the scan and the watch, never in neither. */
	rs_err_clear(&rerr);
	if (cl_read_rev(cl->st, &r->rev, &rerr) != 0 ||
	    store_raw_scan(cl->st, key, cl_key(key, prefix, plen),
	                   cl_range_collect, r, &rerr) < 0) {
		r->rc = rerr.code != 0 ? rerr.code : RS_EIO;
		r->err = rerr;
	}
	r->exact = NULL;                /* only the scan reads it */
	cl->pending++;
	rs_exec_post(cl->ex, cl_range_done, r);
	return 0;
}

static int
cl_range(struct coord *c, const char *prefix, coord_range_fn *cb, void *arg,
         struct rs_err *err)
{
	return cl_scan(c, prefix, false, cb, arg, err);
}

static int
cl_get(struct coord *c, const char *key, coord_range_fn *cb, void *arg,
       struct rs_err *err)
{
	return cl_scan(c, key, true, cb, arg, err);
}

/* ---- transactions ---- */

struct cl_txn {
	struct coord_local *cl;
	coord_txn_fn       *cb;
	void               *arg;
	struct coord_cmp   *cmps;      /* owns keys */
	size_t              ncmp;
	struct coord_op    *ops;       /* owns keys and values */
	size_t              nops;
	struct coord_event *evs;       /* owns (borrows ops' keys/values) */
	size_t              nevs;
	int64_t             rev;
	struct rs_err       err;
};

/* The mod and create revisions of key inside the batch; 0 if absent. */
static int
cl_txn_revs(struct store_txn *t, const char *key, int64_t *create_r,
            int64_t *mod_r, struct rs_err *err)
{
	uint8_t k[CL_KEY_PREFIX_LEN + COORD_KEY_MAX];
	struct rs_buf b;
	int rc;

	rs_buf_init(&b, RS_BUF_UNLIMITED);
	rc = store_txn_get(t, k, cl_key(k, key, strlen(key)), &b, err);
	*create_r = *mod_r = 0;
	if (rc == 0 && b.len >= CL_HDR) {
		*create_r = cl_get64(b.data);
		*mod_r = cl_get64(b.data + 8);
	} else if (rc != 0 && err != NULL && err->code == RS_ENOTFOUND) {
		rc = 0;
	}
	rs_buf_free(&b);
	return rc;
}

/* Runs on the store's writer thread. */
static int
cl_txn_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct cl_txn *x = arg;
	struct rs_buf b;
	int64_t rev = 0, cr, mr;
	uint8_t revbuf[8];

	for (size_t i = 0; i < x->ncmp; i++) {
		if (cl_txn_revs(t, x->cmps[i].key, &cr, &mr, err) != 0)
			return -1;
		if (mr != x->cmps[i].mod_rev)
			return rs_err_set(err, RS_ECONFLICT, "%s changed",
			                  x->cmps[i].key);
	}
	rs_buf_init(&b, 64);
	if (store_txn_get(t, cl_rev_key, sizeof(cl_rev_key), &b, err) == 0 &&
	    b.len == 8)
		rev = cl_get64(b.data);
	else if (err != NULL && err->code != RS_ENOTFOUND) {
		rs_buf_free(&b);
		return -1;
	}
	rs_buf_free(&b);
	x->rev = ++rev;
	x->nevs = 0;
	for (size_t i = 0; i < x->nops; i++) {
		const struct coord_op *op = &x->ops[i];
		uint8_t k[CL_KEY_PREFIX_LEN + COORD_KEY_MAX];
		size_t klen = cl_key(k, op->key, strlen(op->key));
		struct coord_event *ev = &x->evs[x->nevs];

		if (cl_txn_revs(t, op->key, &cr, &mr, err) != 0)
			return -1;
		if (op->type == COORD_OP_DELETE) {
			if (mr == 0)
				continue;   /* deleting nothing: no event */
			store_txn_del(t, k, klen);
			ev->type = COORD_EVENT_DELETE;
			ev->kv.value = NULL;
			ev->kv.len = 0;
		} else {
			uint8_t *v = rs_xmalloc(CL_HDR + op->len);

			if (cr == 0)
				cr = rev;
			cl_put64(v, cr);
			cl_put64(v + 8, rev);
			if (op->len > 0)
				memcpy(v + CL_HDR, op->value, op->len);
			store_txn_put(t, k, klen, v, CL_HDR + op->len);
			free(v);
			ev->type = COORD_EVENT_PUT;
			ev->kv.value = op->value;
			ev->kv.len = op->len;
		}
		ev->kv.key = op->key;
		ev->kv.create_rev = cr;
		ev->kv.mod_rev = rev;
		x->nevs++;
	}
	cl_put64(revbuf, rev);
	store_txn_put(t, cl_rev_key, sizeof(cl_rev_key), revbuf, 8);
	return 0;
}

static bool
cl_has_prefix(const char *key, const char *prefix)
{
	return strncmp(key, prefix, strlen(prefix)) == 0;
}

/* Delivers a committed transaction's events to matching watchers. */
static void
cl_notify(struct coord_local *cl, const struct coord_event *evs, size_t n,
          int64_t rev)
{
	struct coord_event *sel = rs_xcalloc(n, sizeof(*sel));

	for (struct cl_watch *w = cl->watches; w != NULL; w = w->next) {
		size_t m = 0;

		if (rev <= w->after_rev)
			continue;
		for (size_t i = 0; i < n; i++)
			if (cl_has_prefix(evs[i].kv.key, w->prefix))
				sel[m++] = evs[i];
		if (m > 0)
			w->cb(w->arg, sel, m, rev);
	}
	free(sel);
}

static void
cl_txn_free(struct cl_txn *x)
{
	for (size_t i = 0; i < x->ncmp; i++)
		free((char *)x->cmps[i].key);
	for (size_t i = 0; i < x->nops; i++) {
		free((char *)x->ops[i].key);
		free((void *)x->ops[i].value);
	}
	free(x->cmps);
	free(x->ops);
	free(x->evs);
	free(x);
}

static void
cl_txn_done(void *arg, int rc)
{
	struct cl_txn *x = arg;
	struct coord_local *cl = x->cl;

	cl->pending--;
	if (!cl->destroyed) {
		if (rc == 0)
			cl_notify(cl, x->evs, x->nevs, x->rev);
		if (rc != 0 && x->err.code == 0)
			rs_err_set(&x->err, rc, "store write failed");
		x->cb(x->arg, rc, &x->err, rc == 0 ? x->rev : 0);
	}
	cl_txn_free(x);
	cl_maybe_free(cl);
}

/* store_submit's apply gets no way to hand back a message; keep it here. */
static int
cl_txn_apply_err(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct cl_txn *x = arg;
	int rc = cl_txn_apply(t, arg, err);

	if (rc != 0 && err != NULL)
		x->err = *err;
	return rc;
}

static int
cl_txn(struct coord *c, const struct coord_cmp *cmps, size_t ncmp,
       const struct coord_op *ops, size_t nops, coord_txn_fn *cb, void *arg,
       struct rs_err *err)
{
	struct coord_local *cl = (struct coord_local *)c;
	struct cl_txn *x;

	if (ncmp > COORD_TXN_MAX || nops > COORD_TXN_MAX || nops == 0)
		return rs_err_set(err, RS_EINVAL, "bad transaction size");
	for (size_t i = 0; i < ncmp; i++)
		if (strlen(cmps[i].key) > COORD_KEY_MAX)
			return rs_err_set(err, RS_EINVAL, "key too long");
	for (size_t i = 0; i < nops; i++)
		if (strlen(ops[i].key) > COORD_KEY_MAX ||
		    ops[i].len > COORD_VALUE_MAX)
			return rs_err_set(err, RS_ETOOBIG, "key or value too long");
	x = rs_xcalloc(1, sizeof(*x));
	x->cl = cl;
	x->cb = cb;
	x->arg = arg;
	x->cmps = rs_xcalloc(ncmp, sizeof(*x->cmps));
	x->ops = rs_xcalloc(nops, sizeof(*x->ops));
	x->evs = rs_xcalloc(nops, sizeof(*x->evs));
	for (size_t i = 0; i < ncmp; i++) {
		x->cmps[i].key = rs_xstrdup(cmps[i].key);
		x->cmps[i].mod_rev = cmps[i].mod_rev;
	}
	for (size_t i = 0; i < nops; i++) {
		x->ops[i].type = ops[i].type;
		x->ops[i].key = rs_xstrdup(ops[i].key);
		x->ops[i].len = ops[i].type == COORD_OP_PUT ? ops[i].len : 0;
		x->ops[i].value = x->ops[i].len > 0
		                      ? rs_xmemdup(ops[i].value, ops[i].len) : NULL;
	}
	x->ncmp = ncmp;
	x->nops = nops;
	if (store_submit(cl->st, cl_txn_apply_err, x, cl->ex, cl_txn_done, x,
	                 err) != 0) {
		cl_txn_free(x);
		return -1;
	}
	cl->pending++;
	return 0;
}

/* ---- watch ---- */

/* The local store keeps every revision's effect (nothing is compacted),
 * so a watch always resumes: reset is never called. */
static int
cl_watch(struct coord *c, const char *prefix, int64_t after_rev,
         coord_watch_fn *cb, coord_reset_fn *reset, void *arg,
         struct rs_err *err)
{
	struct coord_local *cl = (struct coord_local *)c;
	struct cl_watch *w;

	(void)reset;
	if (strlen(prefix) > COORD_KEY_MAX)
		return rs_err_set(err, RS_EINVAL, "prefix too long");
	w = rs_xcalloc(1, sizeof(*w));
	w->prefix = rs_xstrdup(prefix);
	w->after_rev = after_rev;
	w->cb = cb;
	w->arg = arg;
	w->next = cl->watches;
	cl->watches = w;
	return 0;
}

/* ---- leases: granted, never expiring ---- */

struct cl_lease {
	struct coord_local *cl;
	coord_lease_fn     *cb;
	coord_txn_fn       *txn_cb;
	void               *arg;
	int64_t             id;
};

#define CL_LEASE_TTL 3600          /* what a keepalive reports left */

static void
cl_lease_done(void *arg)
{
	struct cl_lease *l = arg;
	struct coord_local *cl = l->cl;

	cl->pending--;
	if (!cl->destroyed) {
		if (l->cb != NULL)
			l->cb(l->arg, 0, NULL, l->id, CL_LEASE_TTL);
		else
			l->txn_cb(l->arg, 0, NULL, 0);
	}
	free(l);
	cl_maybe_free(cl);
}

static int
cl_lease_post(struct coord_local *cl, int64_t id, coord_lease_fn *cb,
              coord_txn_fn *txn_cb, void *arg)
{
	struct cl_lease *l = rs_xcalloc(1, sizeof(*l));

	l->cl = cl;
	l->cb = cb;
	l->txn_cb = txn_cb;
	l->arg = arg;
	l->id = id;
	cl->pending++;
	rs_exec_post(cl->ex, cl_lease_done, l);
	return 0;
}

static int
cl_lease_grant(struct coord *c, int64_t ttl, coord_lease_fn *cb, void *arg,
               struct rs_err *err)
{
	struct coord_local *cl = (struct coord_local *)c;

	if (ttl <= 0)
		return rs_err_set(err, RS_EINVAL, "lease TTL must be positive");
	return cl_lease_post(cl, ++cl->next_lease, cb, NULL, arg);
}

static int
cl_lease_keepalive(struct coord *c, int64_t id, coord_lease_fn *cb,
                   void *arg, struct rs_err *err)
{
	(void)err;
	return cl_lease_post((struct coord_local *)c, id, cb, NULL, arg);
}

static int
cl_lease_revoke(struct coord *c, int64_t id, coord_txn_fn *cb, void *arg,
                struct rs_err *err)
{
	(void)err;
	return cl_lease_post((struct coord_local *)c, id, NULL, cb, arg);
}

static enum coord_state
cl_state(const struct coord *c)
{
	(void)c;
	return COORD_UP;
}

static void
cl_destroy(struct coord *c)
{
	struct coord_local *cl = (struct coord_local *)c;

	cl->destroyed = true;
	cl_maybe_free(cl);
}

static const struct coord_ops coord_local_ops = {
	.range = cl_range,
	.get = cl_get,
	.txn = cl_txn,
	.watch = cl_watch,
	.lease_grant = cl_lease_grant,
	.lease_keepalive = cl_lease_keepalive,
	.lease_revoke = cl_lease_revoke,
	.state = cl_state,
	.destroy = cl_destroy,
};

struct coord *
coord_local_new(struct store *st, struct rs_exec *ex)
{
	struct coord_local *cl = rs_xcalloc(1, sizeof(*cl));

	cl->base.ops = &coord_local_ops;
	cl->st = st;
	cl->ex = ex;
	return &cl->base;
}
