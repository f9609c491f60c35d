/* coord_etcd.c: the coord ops over etcd's v3 JSON gateway: range (paged,
 * every page at the first page's revision), get, txn (compares on
 * mod_revision, 0 = absent), leases, and the coord's creation and end.
 * Requests, retries and authentication are coord_etcd_call.c's; watches
 * are coord_etcd_watch.c's. */
#include "cluster/coord_etcd.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/coord_etcd_int.h"
#include "lib/rs_mem.h"

/* A range whose pinned revision keeps being compacted gives up. */
#define CE_RANGE_RESTARTS 5

/* ---- range and get ---- */

struct ce_range {
	struct ce_call   k;             /* first: cast from the call */
	coord_range_fn  *cb;
	void            *arg;
	char            *prefix;        /* owns: where a restart begins */
	uint8_t          start[CE_RKEY_MAX];   /* the next page's first key */
	size_t           startlen;
	uint8_t          end[CE_RKEY_MAX];
	size_t           endlen;        /* 0: one key (a get) */
	int64_t          rev;           /* 0 until the first page answered */
	struct coord_kv *kvs;           /* owns (keys and values too) */
	size_t           n, cap;
	unsigned         restarts;
};

static void
ce_range_reset(struct ce_range *r)
{
	for (size_t i = 0; i < r->n; i++)
		coord_etcd__kv_free(&r->kvs[i]);
	r->n = 0;
	r->rev = 0;
	r->startlen = strlen(r->prefix);
	memcpy(r->start, r->prefix, r->startlen);
	if (r->startlen == 0 && r->endlen > 0)
		r->start[r->startlen++] = '\0';   /* "" is every key */
}

static void
ce_range_free(struct ce_call *k)
{
	struct ce_range *r = (struct ce_range *)k;

	ce_range_reset(r);
	free(r->kvs);
	free(r->prefix);
	free(r);
}

static void
ce_range_body(struct ce_range *r)
{
	struct coord_etcd *c = r->k.x.c;
	json_t *o = json_object();

	json_object_set_new(o, "key", coord_etcd__b64(r->start, r->startlen));
	if (r->endlen > 0) {
		json_object_set_new(o, "range_end",
		                    coord_etcd__b64(r->end, r->endlen));
		json_object_set_new(o, "limit",
		                    coord_etcd__i64_new(c->page_size));
	}
	if (r->rev > 0)
		json_object_set_new(o, "revision", coord_etcd__i64_new(r->rev));
	free(r->k.body);
	r->k.body = coord_etcd__dump(o);
}

/* Takes one page; *more_r: another page follows (start is set). */
static int
ce_range_page(struct ce_range *r, const json_t *res, bool *more_r,
              struct rs_err *err)
{
	const json_t *kvs = json_object_get(res, "kvs");
	size_t m = json_array_size(kvs);
	int64_t rev;

	*more_r = false;
	if (coord_etcd__i64(json_object_get(res, "header"), "revision",
	                    &rev) != 0 || rev <= 0)
		return rs_err_set(err, RS_EIO, "etcd range: no revision");
	if (kvs != NULL && !json_is_array(kvs))
		return rs_err_set(err, RS_EIO, "etcd range: kvs not an array");
	if (r->rev == 0)
		r->rev = rev;
	if (r->n + m > r->cap) {
		r->cap = r->n + m > 2 * r->cap ? r->n + m : 2 * r->cap;
		r->kvs = rs_xreallocarray(r->kvs, r->cap, sizeof(*r->kvs));
	}
	for (size_t i = 0; i < m; i++) {
		if (coord_etcd__kv_parse(json_array_get(kvs, i),
		                         &r->kvs[r->n], err) != 0)
			return -1;
		r->n++;
	}
	if (m > 0 && r->endlen > 0 && json_is_true(json_object_get(res,
	                                                           "more"))) {
		/* The next page starts right after the last key. */
		const char *last = r->kvs[r->n - 1].key;

		r->startlen = strlen(last) + 1;
		memcpy(r->start, last, r->startlen);      /* with its NUL */
		*more_r = true;
	}
	return 0;
}

static void
ce_range_done(struct ce_call *k, int rc, const struct rs_err *err,
              json_t *res)
{
	struct ce_range *r = (struct ce_range *)k;
	struct rs_err e;
	bool more = false;

	rs_err_clear(&e);
	if (rc == 0 && ce_range_page(r, res, &more, &e) != 0) {
		rc = e.code;
		err = &e;
	} else if (rc == RS_EINVAL && r->rev > 0 && err != NULL &&
	           strstr(err->msg, "compacted") != NULL &&
	           r->restarts < CE_RANGE_RESTARTS) {
		/* The revision the pages were pinned at is gone: again. */
		r->restarts++;
		ce_range_reset(r);
		more = true;
		rc = 0;
	}
	if (rc == 0 && more) {
		ce_range_body(r);
		if (coord_etcd__call_start(k, &e) == 0)
			return;
		rc = e.code;
		err = &e;
	}
	if (rc == 0)
		r->cb(r->arg, 0, NULL, r->kvs, r->n, r->rev);
	else
		r->cb(r->arg, rc, err, NULL, 0, 0);
	{
		size_t n = r->n;

		coord_etcd__call_free(k);
		rs_mem_trim_after(n);
	}
}

int
coord_etcd__range(struct coord_etcd *c, const char *prefix, bool exact,
                  coord_range_fn *cb, void *arg, struct rs_err *err)
{
	size_t plen = strlen(prefix);
	struct ce_range *r;

	if (plen > COORD_KEY_MAX)
		return rs_err_set(err, RS_ETOOBIG, "key over %d bytes",
		                  COORD_KEY_MAX);
	if (exact && plen == 0)
		return rs_err_set(err, RS_EINVAL, "empty key");
	r = rs_xcalloc(1, sizeof(*r));
	coord_etcd__call_init(c, &r->k, "/v3/kv/range", CE_RETRY_SAFE,
	                      ce_range_done, ce_range_free);
	r->cb = cb;
	r->arg = arg;
	r->prefix = rs_xstrdup(prefix);
	if (!exact)
		r->endlen = coord_etcd__prefix_end(prefix, r->end);
	ce_range_reset(r);
	ce_range_body(r);
	if (coord_etcd__call_start(&r->k, err) != 0) {
		coord_etcd__call_free(&r->k);
		return -1;
	}
	return 0;
}

static int
ce_range_op(struct coord *cc, const char *prefix, coord_range_fn *cb,
            void *arg, struct rs_err *err)
{
	return coord_etcd__range((struct coord_etcd *)cc, prefix, false, cb,
	                         arg, err);
}

static int
ce_get_op(struct coord *cc, const char *key, coord_range_fn *cb, void *arg,
          struct rs_err *err)
{
	return coord_etcd__range((struct coord_etcd *)cc, key, true, cb, arg,
	                         err);
}

/* ---- txn, and lease calls that answer like one ---- */

struct ce_txn {
	struct ce_call  k;              /* first: cast from the call */
	coord_txn_fn   *cb;
	coord_lease_fn *lease_cb;
	void           *arg;
	int64_t         id;             /* a lease call's lease */
};

static void
ce_txn_free(struct ce_call *k)
{
	free(k);
}

static struct ce_txn *
ce_txn_new(struct coord_etcd *c, const char *path, enum ce_retry retry,
           ce_call_fn *fn, void *arg)
{
	struct ce_txn *t = rs_xcalloc(1, sizeof(*t));

	coord_etcd__call_init(c, &t->k, path, retry, fn, ce_txn_free);
	t->arg = arg;
	return t;
}

static int
ce_txn_send(struct ce_txn *t, json_t *body, struct rs_err *err)
{
	t->k.body = coord_etcd__dump(body);
	if (coord_etcd__call_start(&t->k, err) != 0) {
		coord_etcd__call_free(&t->k);
		return -1;
	}
	return 0;
}

static void
ce_txn_done(struct ce_call *k, int rc, const struct rs_err *err,
            json_t *res)
{
	struct ce_txn *t = (struct ce_txn *)k;
	struct rs_err e;
	int64_t rev = 0;

	rs_err_clear(&e);
	if (rc == 0 && (coord_etcd__i64(json_object_get(res, "header"),
	                                "revision", &rev) != 0 || rev <= 0)) {
		rc = RS_EIO;
		rs_err_set(&e, rc, "etcd txn: no revision");
	} else if (rc == 0 &&
	           !json_is_true(json_object_get(res, "succeeded"))) {
		rc = RS_ECONFLICT;
		rs_err_set(&e, rc, "etcd txn: a compare failed");
	}
	if (rc != 0 && e.code != 0)
		err = &e;
	t->cb(t->arg, rc, rc == 0 ? NULL : err, rc == 0 ? rev : 0);
	coord_etcd__call_free(k);
}

static int
ce_txn_check(const struct coord_cmp *cmps, size_t ncmp,
             const struct coord_op *ops, size_t nops, struct rs_err *err)
{
	if (ncmp > COORD_TXN_MAX || nops > COORD_TXN_MAX || nops == 0)
		return rs_err_set(err, RS_EINVAL, "bad transaction size");
	for (size_t i = 0; i < ncmp; i++)
		if (strlen(cmps[i].key) > COORD_KEY_MAX)
			return rs_err_set(err, RS_ETOOBIG, "key over %d bytes",
			                  COORD_KEY_MAX);
	for (size_t i = 0; i < nops; i++) {
		if (strlen(ops[i].key) > COORD_KEY_MAX)
			return rs_err_set(err, RS_ETOOBIG, "key over %d bytes",
			                  COORD_KEY_MAX);
		if (ops[i].key[0] == '\0')
			return rs_err_set(err, RS_EINVAL, "empty key");
		if (ops[i].type == COORD_OP_PUT && ops[i].len > COORD_VALUE_MAX)
			return rs_err_set(err, RS_ETOOBIG, "value over %d bytes",
			                  COORD_VALUE_MAX);
	}
	return 0;
}

static json_t *
ce_txn_op(const struct coord_op *op)
{
	json_t *o = json_object();
	json_t *key = coord_etcd__b64(op->key, strlen(op->key));

	if (op->type == COORD_OP_DELETE) {
		json_object_set_new(o, "request_delete_range",
		                    json_pack("{s:o}", "key", key));
		return o;
	}
	json_object_set_new(o, "request_put",
	                    json_pack("{s:o, s:o}", "key", key, "value",
	                              coord_etcd__b64(op->value, op->len)));
	if (op->lease != 0)
		json_object_set_new(json_object_get(o, "request_put"), "lease",
		                    coord_etcd__i64_new(op->lease));
	return o;
}

static int
ce_txn_op_call(struct coord *cc, const struct coord_cmp *cmps, size_t ncmp,
               const struct coord_op *ops, size_t nops, coord_txn_fn *cb,
               void *arg, struct rs_err *err)
{
	struct coord_etcd *c = (struct coord_etcd *)cc;
	json_t *cmp = json_array(), *succ = json_array();
	struct ce_txn *t;

	if (ce_txn_check(cmps, ncmp, ops, nops, err) != 0) {
		json_decref(cmp);
		json_decref(succ);
		return -1;
	}
	for (size_t i = 0; i < ncmp; i++)
		json_array_append_new(cmp, json_pack(
			"{s:o, s:s, s:s, s:o}",
			"key", coord_etcd__b64(cmps[i].key, strlen(cmps[i].key)),
			"target", "MOD", "result", "EQUAL",
			"mod_revision", coord_etcd__i64_new(cmps[i].mod_rev)));
	for (size_t i = 0; i < nops; i++)
		json_array_append_new(succ, ce_txn_op(&ops[i]));
	/* With compares, a retry of an applied txn fails them and the
	 * caller re-reads; without, a retry could apply it twice. */
	t = ce_txn_new(c, "/v3/kv/txn",
	               ncmp > 0 ? CE_RETRY_SAFE : CE_RETRY_UNSENT, ce_txn_done,
	               arg);
	t->cb = cb;
	return ce_txn_send(t, json_pack("{s:o, s:o}", "compare", cmp,
	                                "success", succ), err);
}

/* ---- leases ---- */

static void
ce_lease_done(struct ce_call *k, int rc, const struct rs_err *err,
              json_t *res)
{
	struct ce_txn *t = (struct ce_txn *)k;
	struct rs_err e;
	const char *msg;
	int64_t id = 0, ttl = 0;

	rs_err_clear(&e);
	if (rc == 0 && (coord_etcd__i64(res, "ID", &id) != 0 ||
	                coord_etcd__i64(res, "TTL", &ttl) != 0 ||
	                (t->id == 0 && id <= 0))) {
		rc = RS_EIO;
		rs_err_set(&e, RS_EIO, "etcd %s: malformed answer", k->path);
	} else if (rc == 0 && (msg = json_string_value(json_object_get(
	                           res, "error"))) != NULL && msg[0] != '\0') {
		rc = RS_EIO;
		rs_err_set(&e, RS_EIO, "etcd %s: %s", k->path, msg);
	} else if (rc == 0 && ttl <= 0) {
		/* A keepalive of a lease etcd no longer has: TTL 0. */
		rc = RS_ENOTFOUND;
		rs_err_set(&e, RS_ENOTFOUND, "etcd lease %lld not found",
		           (long long)t->id);
	}
	if (rc != 0 && e.code != 0)
		err = &e;
	if (rc == 0)
		t->lease_cb(t->arg, 0, NULL, t->id != 0 ? t->id : id, ttl);
	else
		t->lease_cb(t->arg, rc, err, t->id, 0);
	coord_etcd__call_free(k);
}

static int
ce_lease_grant(struct coord *cc, int64_t ttl, coord_lease_fn *cb, void *arg,
               struct rs_err *err)
{
	struct ce_txn *t;

	if (ttl <= 0)
		return rs_err_set(err, RS_EINVAL, "lease TTL must be positive");
	/* A retried grant may leave a lease behind; it expires unused. */
	t = ce_txn_new((struct coord_etcd *)cc, "/v3/lease/grant",
	               CE_RETRY_SAFE, ce_lease_done, arg);
	t->lease_cb = cb;
	return ce_txn_send(t, json_pack("{s:o}", "TTL",
	                                coord_etcd__i64_new(ttl)), err);
}

static int
ce_lease_keepalive(struct coord *cc, int64_t id, coord_lease_fn *cb,
                   void *arg, struct rs_err *err)
{
	struct ce_txn *t;

	t = ce_txn_new((struct coord_etcd *)cc, "/v3/lease/keepalive",
	               CE_RETRY_SAFE, ce_lease_done, arg);
	t->lease_cb = cb;
	t->id = id;
	return ce_txn_send(t, json_pack("{s:o}", "ID",
	                                coord_etcd__i64_new(id)), err);
}

static void
ce_revoke_done(struct ce_call *k, int rc, const struct rs_err *err,
               json_t *res)
{
	struct ce_txn *t = (struct ce_txn *)k;

	(void)res;
	/* An earlier attempt that went out and got no answer revoked it. */
	if (rc == RS_ENOTFOUND && k->resent)
		rc = 0;
	t->cb(t->arg, rc, rc == 0 ? NULL : err, 0);
	coord_etcd__call_free(k);
}

static int
ce_lease_revoke(struct coord *cc, int64_t id, coord_txn_fn *cb, void *arg,
                struct rs_err *err)
{
	struct ce_txn *t;

	t = ce_txn_new((struct coord_etcd *)cc, "/v3/lease/revoke",
	               CE_RETRY_SAFE, ce_revoke_done, arg);
	t->cb = cb;
	t->id = id;
	return ce_txn_send(t, json_pack("{s:o}", "ID",
	                                coord_etcd__i64_new(id)), err);
}

/* ---- the coord ---- */

static enum coord_state
ce_state(const struct coord *cc)
{
	return ((const struct coord_etcd *)cc)->state;
}

static void
ce_destroy(struct coord *cc)
{
	struct coord_etcd *c = (struct coord_etcd *)cc;

	/* Inside one of our callbacks the outermost frame frees it. */
	coord_etcd__enter(c);
	c->destroyed = true;
	coord_etcd__leave(c);
}

static const struct coord_ops coord_etcd_ops = {
	.range = ce_range_op,
	.get = ce_get_op,
	.txn = ce_txn_op_call,
	.watch = coord_etcd__watch,
	.lease_grant = ce_lease_grant,
	.lease_keepalive = ce_lease_keepalive,
	.lease_revoke = ce_lease_revoke,
	.state = ce_state,
	.destroy = ce_destroy,
};

static char *
ce_opt_dup(const char *s)
{
	return s != NULL && s[0] != '\0' ? rs_xstrdup(s) : NULL;
}

static int
ce_endpoints(struct coord_etcd *c, const struct coord_etcd_opts *o,
             struct rs_err *err)
{
	if (o->nendpoints == 0)
		return rs_err_set(err, RS_EINVAL, "etcd: no endpoint");
	c->eps = rs_xcalloc(o->nendpoints, sizeof(*c->eps));
	for (size_t i = 0; i < o->nendpoints; i++) {
		const char *ep = o->endpoints[i];
		size_t n = strlen(ep);

		if (strncmp(ep, "http://", 7) != 0 &&
		    strncmp(ep, "https://", 8) != 0)
			return rs_err_set(err, RS_EINVAL, "etcd endpoint %s: "
			                  "not http:// or https://", ep);
		while (n > 0 && ep[n - 1] == '/')
			n--;
		c->eps[c->neps++] = rs_xstrndup(ep, n);
	}
	return 0;
}

int
coord_etcd_new(struct event_base *base, const struct coord_etcd_opts *o,
               struct coord **c_r, struct rs_err *err)
{
	struct coord_etcd *c = rs_xcalloc(1, sizeof(*c));

	c->base.ops = &coord_etcd_ops;
	c->evb = base;
	c->state = COORD_DOWN;          /* until etcd answers */
	c->timeout_ms = o->request_timeout_ms ? o->request_timeout_ms
	                                      : CE_TIMEOUT_MS;
	c->page_size = o->page_size ? o->page_size : CE_PAGE_SIZE;
	c->ca_file = ce_opt_dup(o->ca_file);
	c->cert_file = ce_opt_dup(o->cert_file);
	c->key_file = ce_opt_dup(o->key_file);
	c->user = ce_opt_dup(o->user);
	c->password = rs_xstrdup(o->password != NULL ? o->password : "");
	if (ce_endpoints(c, o, err) != 0 ||
	    coord_etcd__http_init(c, err) != 0) {
		coord_etcd__enter(c);
		c->destroyed = true;
		coord_etcd__leave(c);
		return -1;
	}
	*c_r = &c->base;
	return 0;
}
