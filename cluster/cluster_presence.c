/* cluster_presence.c: the node's lease and alive/<id>. One request at a
 * time; a timer every third of the TTL renews the lease, or replaces it
 * when it is gone. Freshness counts from when a renewal was SENT, since
 * etcd restarts the TTL when it handles the request, which is later. */
#include "cluster/cluster_presence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/coord.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "lib/rs_time.h"

struct cluster_presence {
	struct event_base       *base;
	struct coord            *coord;
	char                    *key;        /* owns: alive/<id> */
	struct cluster_alive     self;       /* what the key says */
	char                     id[CLUSTER_ID_MAX + 1];
	int64_t                  ttl;        /* seconds */
	int64_t                  lease;      /* 0: none */
	uint64_t                 fresh_until; /* rs_mono_ms */
	uint64_t                 sent_ms;    /* the request in flight */
	struct event            *tick;       /* owns */
	cluster_presence_fn     *fn;
	void                    *arg;
	cluster_presence_done_fn *start_cb;  /* until the first put */
	void                    *start_arg;
	bool                     busy;       /* a request in flight */
	bool                     stopped;
	bool                     lost_logged;
	bool                     dirty;      /* value changed: put again */
};

static void cp_tick(evutil_socket_t fd, short what, void *arg);

struct cluster_presence *
cluster_presence_new(struct event_base *base, struct coord *c,
                     const char *prefix, const struct cluster_alive *self,
                     int64_t ttl, cluster_presence_fn *fn, void *arg)
{
	struct cluster_presence *p = rs_xcalloc(1, sizeof(*p));

	p->base = base;
	p->coord = c;
	p->key = cluster_rec_key(prefix, "alive", self->id);
	p->self = *self;
	snprintf(p->id, sizeof(p->id), "%s", self->id);
	p->ttl = ttl < 2 ? 2 : ttl;
	p->fn = fn;
	p->arg = arg;
	p->tick = evtimer_new(base, cp_tick, p);
	return p;
}

static void
cp_destroy(struct cluster_presence *p)
{
	event_free(p->tick);
	free(p->key);
	free(p);
}

void
cluster_presence_free(struct cluster_presence **pp)
{
	struct cluster_presence *p = *pp;

	if (p == NULL)
		return;
	*pp = NULL;
	cp_destroy(p);
}

static void
cp_schedule(struct cluster_presence *p, uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	if (!p->stopped)
		evtimer_add(p->tick, &tv);
}

/* The renewal period: a third of the TTL, so two may fail in a row. */
static uint64_t
cp_period(const struct cluster_presence *p)
{
	return (uint64_t)p->ttl * 1000 / 3;
}

static void
cp_start_done(struct cluster_presence *p, int rc, const struct rs_err *err)
{
	cluster_presence_done_fn *cb = p->start_cb;

	if (cb == NULL)
		return;
	p->start_cb = NULL;
	cb(p->start_arg, rc, err);
}

static void
cp_lost(struct cluster_presence *p, const char *why)
{
	if (p->lease == 0)
		return;
	rs_log(RS_LOG_WARN, "cluster.lease_lost", "node=%s lease=%lld why=%s",
	       p->id, (long long)p->lease, why);
	p->lease = 0;
	p->fresh_until = 0;
	if (p->fn != NULL)
		p->fn(p->arg, 0);
}

static void
cp_on_put(void *arg, int rc, const struct rs_err *err, int64_t rev)
{
	struct cluster_presence *p = arg;

	(void)rev;
	p->busy = false;
	if (rc != 0) {
		if (!p->lost_logged)
			rs_log(RS_LOG_WARN, "cluster.alive_failed", "error=\"%s\"",
			       err != NULL ? err->msg : rs_err_name(rc));
		p->lost_logged = true;
		cp_start_done(p, rc, err);
		cp_schedule(p, 500);
		return;
	}
	p->lost_logged = false;
	rs_log(RS_LOG_INFO, "cluster.alive", "node=%s lease=%lld ttl=%lld",
	       p->id, (long long)p->lease, (long long)p->ttl);
	if (p->fn != NULL)
		p->fn(p->arg, p->lease);
	cp_start_done(p, 0, NULL);
	cp_schedule(p, cp_period(p));
}

static void
cp_put(struct cluster_presence *p)
{
	char *json;
	struct coord_op op = {
		.type = COORD_OP_PUT,
		.key = p->key,
		.lease = p->lease,
	};
	struct rs_err err;

	/* The key names its lease: the controller revokes it when the
	 * process is found gone (controller.c). */
	p->self.lease = p->lease;
	json = cluster_alive_json(&p->self);
	op.value = json;
	op.len = strlen(json);
	p->busy = true;
	if (coord_txn(p->coord, NULL, 0, &op, 1, cp_on_put, p, &err) != 0)
		cp_on_put(p, err.code, &err, 0);
	free(json);
}

static void
cp_on_grant(void *arg, int rc, const struct rs_err *err, int64_t id,
            int64_t ttl)
{
	struct cluster_presence *p = arg;

	(void)ttl;
	p->busy = false;
	if (rc != 0) {
		if (!p->lost_logged)
			rs_log(RS_LOG_WARN, "cluster.lease_failed", "error=\"%s\"",
			       err != NULL ? err->msg : rs_err_name(rc));
		p->lost_logged = true;
		cp_start_done(p, rc, err);
		cp_schedule(p, 500);
		return;
	}
	p->lease = id;
	p->fresh_until = p->sent_ms + (uint64_t)p->ttl * 1000;
	cp_put(p);
}

static void
cp_on_keepalive(void *arg, int rc, const struct rs_err *err, int64_t id,
                int64_t ttl)
{
	struct cluster_presence *p = arg;

	(void)id;
	(void)ttl;
	p->busy = false;
	if (rc == 0) {
		p->fresh_until = p->sent_ms + (uint64_t)p->ttl * 1000;
		p->lost_logged = false;
		cp_schedule(p, cp_period(p));
		return;
	}
	if (rc == RS_ENOTFOUND) {
		cp_lost(p, "expired");
		cp_schedule(p, 0);
		return;
	}
	if (!p->lost_logged)
		rs_log(RS_LOG_WARN, "cluster.keepalive_failed", "error=\"%s\"",
		       err != NULL ? err->msg : rs_err_name(rc));
	p->lost_logged = true;
	if (rs_mono_ms() >= p->fresh_until)
		cp_lost(p, "not_renewed");
	cp_schedule(p, 500);
}

static void
cp_tick(evutil_socket_t fd, short what, void *arg)
{
	struct cluster_presence *p = arg;
	struct rs_err err;

	(void)fd;
	(void)what;
	if (p->busy || p->stopped)
		return;
	p->sent_ms = rs_mono_ms();
	if (p->lease != 0 && p->sent_ms >= p->fresh_until)
		cp_lost(p, "not_renewed");
	p->busy = true;
	if (p->lease == 0) {
		if (coord_lease_grant(p->coord, p->ttl, cp_on_grant, p,
		                      &err) != 0)
			cp_on_grant(p, err.code, &err, 0, 0);
		return;
	}
	if (p->dirty) {
		p->dirty = false;
		cp_put(p);              /* on the same lease */
		return;
	}
	if (coord_lease_keepalive(p->coord, p->lease, cp_on_keepalive, p,
	                          &err) != 0)
		cp_on_keepalive(p, err.code, &err, 0, 0);
}

int
cluster_presence_start(struct cluster_presence *p,
                       cluster_presence_done_fn *cb, void *arg,
                       struct rs_err *err)
{
	(void)err;
	p->start_cb = cb;
	p->start_arg = arg;
	cp_schedule(p, 0);
	return 0;
}

struct cp_stop {
	cluster_presence_done_fn *cb;
	void                     *arg;
};

static void
cp_on_revoked(void *arg, int rc, const struct rs_err *err, int64_t rev)
{
	struct cp_stop *s = arg;

	(void)rev;
	s->cb(s->arg, rc, err);
	free(s);
}

void
cluster_presence_stop(struct cluster_presence *p,
                      cluster_presence_done_fn *cb, void *arg)
{
	struct cp_stop *s = rs_xcalloc(1, sizeof(*s));
	struct rs_err err;

	p->stopped = true;
	evtimer_del(p->tick);
	s->cb = cb;
	s->arg = arg;
	if (p->lease == 0 ||
	    coord_lease_revoke(p->coord, p->lease, cp_on_revoked, s,
	                       &err) != 0) {
		free(s);
		cb(arg, 0, NULL);
		return;
	}
	p->lease = 0;
	p->fresh_until = 0;
}

void
cluster_presence_update(struct cluster_presence *p,
                        const struct cluster_alive *self)
{
	p->self = *self;
	p->dirty = true;
	cp_schedule(p, 0);
}

int64_t
cluster_presence_lease(const struct cluster_presence *p)
{
	return p->lease;
}

bool
cluster_presence_fresh(const struct cluster_presence *p)
{
	/* A second of margin: our clock may run slower than etcd's. */
	return p->lease != 0 && rs_mono_ms() + 1000 < p->fresh_until;
}
