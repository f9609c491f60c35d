/* test_coord_etcd_util.c: shared helpers of the etcd backend's tests. */
#include "tests/unit/cluster/test_coord_etcd_util.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "lib/rs_time.h"
#include "tests/unit/test.h"

bool
t_env_open(struct t_env *e, bool tls, const struct coord_etcd_opts *o)
{
	const char *eps[1];
	struct coord_etcd_opts def = { 0 };
	struct rs_err err;

	memset(e, 0, sizeof(*e));
	e->base = event_base_new();
	if (!etcd_harness_start(&e->h, tls, 0))
		return false;
	if (o == NULL) {
		eps[0] = e->h.url;
		def.endpoints = eps;
		def.nendpoints = 1;
		def.request_timeout_ms = 1000;
		o = &def;
	}
	if (coord_etcd_new(e->base, o, &e->coord, &err) != 0) {
		test_fail(__FILE__, __LINE__, "coord_etcd_new: %s", err.msg);
		return false;
	}
	return true;
}

void
t_env_close(struct t_env *e)
{
	coord_free(&e->coord);
	etcd_harness_stop(&e->h, false);
	if (e->base != NULL)
		event_base_free(e->base);
	e->base = NULL;
}

static void
t_tick(int fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

bool
t_run(struct event_base *base, bool (*cond)(void *), void *arg, unsigned ms)
{
	uint64_t end = rs_mono_ms() + ms;
	struct event *tick = evtimer_new(base, t_tick, NULL);
	struct timeval tv = { 0, 20000 };
	bool ok;

	while (!(ok = cond(arg)) && rs_mono_ms() < end) {
		evtimer_add(tick, &tv);         /* wakes the loop to look */
		event_base_loop(base, EVLOOP_ONCE);
	}
	event_free(tick);
	return ok;
}

bool
t_res_done(void *arg)
{
	return ((struct t_res *)arg)->done;
}

void
t_res_free(struct t_res *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->keys[i]);
		free(r->vals[i]);
	}
	free(r->keys);
	free(r->vals);
	free(r->mods);
	free(r->creates);
	memset(r, 0, sizeof(*r));
}

static void
t_res_set(struct t_res *r, int rc, const struct rs_err *err)
{
	r->done = true;
	r->rc = rc;
	rs_err_clear(&r->err);
	if (err != NULL)
		r->err = *err;
}

void
t_range_cb(void *arg, int rc, const struct rs_err *err,
           const struct coord_kv *kvs, size_t n, int64_t rev)
{
	struct t_res *r = arg;

	t_res_set(r, rc, err);
	r->rev = rev;
	r->n = n;
	r->keys = rs_xcalloc(n + 1, sizeof(*r->keys));
	r->vals = rs_xcalloc(n + 1, sizeof(*r->vals));
	r->mods = rs_xcalloc(n + 1, sizeof(*r->mods));
	r->creates = rs_xcalloc(n + 1, sizeof(*r->creates));
	for (size_t i = 0; i < n; i++) {
		r->keys[i] = rs_xstrdup(kvs[i].key);
		r->vals[i] = rs_xmemdup(kvs[i].value, kvs[i].len);
		r->mods[i] = kvs[i].mod_rev;
		r->creates[i] = kvs[i].create_rev;
	}
}

void
t_txn_cb(void *arg, int rc, const struct rs_err *err, int64_t rev)
{
	struct t_res *r = arg;

	t_res_set(r, rc, err);
	r->rev = rev;
}

void
t_lease_cb(void *arg, int rc, const struct rs_err *err, int64_t id,
           int64_t ttl)
{
	struct t_res *r = arg;

	t_res_set(r, rc, err);
	r->id = id;
	r->ttl = ttl;
}

static int
t_wait(struct event_base *b, struct t_res *r)
{
	if (!t_run(b, t_res_done, r, T_WAIT_MS)) {
		test_fail(__FILE__, __LINE__, "no callback in %u ms", T_WAIT_MS);
		return RS_ETIMEDOUT;
	}
	return r->rc;
}

int
t_get(struct event_base *b, struct coord *c, const char *key,
      struct t_res *r)
{
	memset(r, 0, sizeof(*r));
	if (coord_get(c, key, t_range_cb, r, &r->err) != 0)
		return r->err.code;
	return t_wait(b, r);
}

int
t_range(struct event_base *b, struct coord *c, const char *prefix,
        struct t_res *r)
{
	memset(r, 0, sizeof(*r));
	if (coord_range(c, prefix, t_range_cb, r, &r->err) != 0)
		return r->err.code;
	return t_wait(b, r);
}

int
t_txn(struct event_base *b, struct coord *c, const struct coord_cmp *cmps,
      size_t ncmp, const struct coord_op *ops, size_t nops, int64_t *rev_r)
{
	struct t_res r = { 0 };
	int rc;

	if (coord_txn(c, cmps, ncmp, ops, nops, t_txn_cb, &r, &r.err) != 0)
		return r.err.code;
	rc = t_wait(b, &r);
	if (rev_r != NULL)
		*rev_r = r.rev;
	return rc;
}

int
t_put(struct event_base *b, struct coord *c, const char *key,
      const char *value, int64_t lease, int64_t *rev_r)
{
	struct coord_op op = { COORD_OP_PUT, key, value, strlen(value), lease };

	return t_txn(b, c, NULL, 0, &op, 1, rev_r);
}

void
t_watch_init(struct t_watch *w)
{
	memset(w, 0, sizeof(*w));
	rs_buf_init(&w->log, RS_BUF_UNLIMITED);
	rs_buf_init(&w->resets, RS_BUF_UNLIMITED);
	w->ordered = true;
}

void
t_watch_free(struct t_watch *w)
{
	rs_buf_free(&w->log);
	rs_buf_free(&w->resets);
}

void
t_watch_cb(void *arg, const struct coord_event *evs, size_t n, int64_t rev)
{
	struct t_watch *w = arg;
	int rc;

	if (rev <= w->last_rev)
		w->ordered = false;
	w->last_rev = rev;
	rc = rs_buf_printf(&w->log, "%s@%lld", w->log.len ? " " : "",
	                   (long long)rev);
	for (size_t i = 0; i < n; i++) {
		const struct coord_kv *kv = &evs[i].kv;

		if (kv->mod_rev != rev)
			w->ordered = false;
		if (evs[i].type == COORD_EVENT_PUT)
			rc |= rs_buf_printf(&w->log, " P:%s=%.*s", kv->key,
			                    (int)kv->len, (const char *)kv->value);
		else
			rc |= rs_buf_printf(&w->log, " D:%s", kv->key);
		w->events++;
	}
	TEST_ASSERT(rc == 0);
}

void
t_reset_cb(void *arg, const struct coord_kv *kvs, size_t n, int64_t rev)
{
	struct t_watch *w = arg;
	int rc;

	w->nresets++;
	w->last_rev = rev;
	rc = rs_buf_printf(&w->resets, "%s@%lld", w->resets.len ? " " : "",
	                   (long long)rev);
	for (size_t i = 0; i < n; i++)
		rc |= rs_buf_printf(&w->resets, " %s=%.*s", kvs[i].key,
		                    (int)kvs[i].len, (const char *)kvs[i].value);
	TEST_ASSERT(rc == 0);
}

struct t_watch_wait {
	struct t_watch *w;
	int64_t         rev;
};

static bool
t_watch_reached(void *arg)
{
	struct t_watch_wait *ww = arg;

	return ww->w->last_rev >= ww->rev;
}

bool
t_watch_until(struct event_base *b, struct t_watch *w, int64_t rev)
{
	struct t_watch_wait ww = { w, rev };

	return t_run(b, t_watch_reached, &ww, T_WAIT_MS);
}

const char *
t_watch_log(const struct t_watch *w)
{
	return w->log.data != NULL ? (const char *)w->log.data : "";
}
