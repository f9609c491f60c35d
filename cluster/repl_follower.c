/* repl_follower.c: a follower's side: entries from its primary applied
 * in order (each request's entries submitted to the store at once, so a
 * pipeline of requests stays in order; a primary sends the entries of
 * every partition this node follows for it in one request, each part
 * checked and answered on its own), its position on request, and a
 * whole partition received. Every request that writes must come from the
 * node this node's view names as the partition's primary, at the view's
 * epoch: a deposed primary's entries are refused (fencing). The position
 * is told to any peer at the view's epoch: the controller asks it of
 * each in-sync follower at a failover. */
#include "cluster/repl_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "lib/rs_time.h"
#include "proto/repl.pb-c.h"

/* 0 when this node follows part at epoch in its view and, if
 * from_primary, peer is the partition's primary there; else the error
 * code, with *why. */
static int
repl_follower_check(struct repl *r, const char *peer, uint32_t part,
                    int64_t epoch, bool from_primary, const char **why)
{
	const struct cluster_view_part *vp;

	if (part >= r->nparts) {
		*why = "no such partition";
		return RS_EINVAL;
	}
	vp = cluster_view_part(cluster_view(r->o.cluster), part);
	if (vp->rec.epoch != epoch ||
	    (from_primary && strcmp(vp->rec.primary, peer) != 0) ||
	    r->parts[part].role != STORE_ROLE_FOLLOWER) {
		*why = "not a follower of that primary at that epoch";
		return RS_EUNAVAIL;
	}
	return 0;
}

/* 0 when the check passes; else the call is answered. */
static int
repl_check_follower(struct repl *r, struct rpc_call *call, uint32_t part,
                    int64_t epoch, bool from_primary)
{
	const char *why = NULL;
	int rc = repl_follower_check(r, rpc_call_peer(call), part, epoch,
	                             from_primary, &why);

	if (rc != 0)
		rpc_reply(call, rc, why, NULL, 0);
	return rc != 0 ? -1 : 0;
}

static int
repl_check_primary(struct repl *r, struct rpc_call *call, uint32_t part,
                   int64_t epoch)
{
	return repl_check_follower(r, call, part, epoch, true);
}

static void
repl_reply_pos(struct rpc_call *call, struct store_pos pos)
{
	Roost__ReplPos rep = ROOST__REPL_POS__INIT;
	uint8_t buf[32];

	rep.epoch = pos.epoch;
	rep.lsn = pos.lsn;
	rpc_reply(call, 0, NULL, buf, roost__repl_pos__pack(&rep, buf));
}

struct repl_multi;

/* One part of an Append: its entries applied, the part answered after
 * the last. */
struct repl_apply {
	struct repl       *r;
	struct repl_multi *m;           /* its request, part idx */
	size_t             idx;
	uint32_t           part;
	size_t             pending;
	int                rc;
};

/* An Append (every partition this node follows for its primary):
 * answered once every part is. */
struct repl_multi {
	struct rpc_call         *call;
	size_t                   n, pending;
	Roost__ReplPartResult   *res;   /* owns [n] */
	Roost__ReplPartResult  **resp;  /* owns [n] */
	Roost__ReplPos          *pos;   /* owns [n] */
};

static void repl_multi_release(struct repl_multi *m);

static void
repl_multi_part_done(struct repl_multi *m, size_t i, int rc,
                     struct store_pos pos)
{
	m->res[i].code = rc;
	m->pos[i].epoch = pos.epoch;
	m->pos[i].lsn = pos.lsn;
	repl_multi_release(m);
}

static void
repl_multi_release(struct repl_multi *m)
{
	Roost__ReplAppendMultiReply rep = ROOST__REPL_APPEND_MULTI_REPLY__INIT;
	size_t len;
	uint8_t *buf;

	if (--m->pending > 0)
		return;
	rep.results = m->resp;
	rep.n_results = m->n;
	len = roost__repl_append_multi_reply__get_packed_size(&rep);
	buf = rs_xmalloc(len + 1);
	roost__repl_append_multi_reply__pack(&rep, buf);
	rpc_reply(m->call, 0, NULL, buf, len);
	free(buf);
	free(m->res);
	free(m->resp);
	free(m->pos);
	free(m);
}

static void
repl_applied(void *arg, int rc)
{
	struct repl_apply *a = arg;
	struct store_pos none = { 0, 0 };

	if (rc != 0 && a->rc == 0)
		a->rc = rc;
	if (--a->pending > 0)
		return;
	repl_multi_part_done(a->m, a->idx, a->rc, a->rc != 0 ? none
	                     : store_repl_position(a->r->o.store, a->part));
	free(a);
}

/* One entry of an Append being applied; once durable it joins the
 * partition's log, which this node serves from if it becomes primary. */
struct repl_applying {
	struct repl_apply *a;
	struct repl_entry *e;           /* owns until logged */
};

static void
repl_entry_applied(void *arg, int rc)
{
	struct repl_applying *x = arg;
	struct repl_apply *a = x->a;
	struct repl_part *rp = &a->r->parts[a->part];

	if (rc == 0 && rp->role == STORE_ROLE_FOLLOWER && !a->r->stopped) {
		x->e->at_ms = rs_mono_ms();
		repl__log_append(rp, x->e);
	} else {
		free(x->e->data);
		free(x->e);
	}
	free(x);
	repl_applied(a, rc);
}

/* Submits part a's entries (its pending held until all are). */
static void
repl_append_start(struct repl_apply *a, const Roost__ReplAppend *req)
{
	struct repl *r = a->r;

	a->pending = 1;                  /* held until all are queued */
	for (size_t i = 0; i < req->n_entries; i++) {
		const Roost__ReplEntry *e = req->entries[i];
		struct store_pos pos = { e->epoch, e->lsn };
		struct repl_applying *x = rs_xcalloc(1, sizeof(*x));
		struct rs_err err;

		x->a = a;
		x->e = rs_xcalloc(1, sizeof(*x->e));
		x->e->lsn = e->lsn;
		x->e->epoch = e->epoch;
		x->e->data = rs_xmemdup(e->data.data, e->data.len);
		x->e->len = e->data.len;
		a->pending++;
		if (store_repl_apply(r->o.store, req->partition, req->epoch,
		                     pos, x->e->data, x->e->len, r->o.exec,
		                     repl_entry_applied, x, &err) != 0) {
			free(x->e->data);
			free(x->e);
			free(x);
			a->pending--;
			if (a->rc == 0)
				a->rc = err.code != 0 ? err.code : RS_EIO;
			break;
		}
	}
	repl_applied(a, 0);
}

static void
repl_on_append_multi(void *arg, struct rpc_call *call, const uint8_t *p,
                     size_t len)
{
	struct repl *r = arg;
	Roost__ReplAppendMulti *req =
		roost__repl_append_multi__unpack(NULL, len, p);
	struct repl_multi *m;
	size_t n;

	if (req == NULL || req->n_parts == 0) {
		if (req != NULL)
			roost__repl_append_multi__free_unpacked(req, NULL);
		rpc_reply(call, RS_EINVAL, "bad append", NULL, 0);
		return;
	}
	n = req->n_parts;
	m = rs_xcalloc(1, sizeof(*m));
	m->call = call;
	m->n = n;
	m->pending = n + 1;             /* held until all are started */
	m->res = rs_xcalloc(n, sizeof(*m->res));
	m->resp = rs_xcalloc(n, sizeof(*m->resp)); // NOLINT(bugprone-sizeof-expression)
	m->pos = rs_xcalloc(n, sizeof(*m->pos));
	/* Refused parts are answered before any part is started: a part
	 * that completes at once then never releases the last hold. */
	for (size_t i = 0; i < n; i++) {
		const Roost__ReplAppend *pa = req->parts[i];
		const char *why = NULL;

		roost__repl_part_result__init(&m->res[i]);
		roost__repl_pos__init(&m->pos[i]);
		m->res[i].pos = &m->pos[i];
		m->resp[i] = &m->res[i];
		m->res[i].code = pa->n_entries == 0 ? RS_EINVAL
		     : repl_follower_check(r, rpc_call_peer(call),
		                           pa->partition, pa->epoch, true,
		                           &why);
		if (m->res[i].code != 0)
			m->pending--;           /* answered: the hold keeps m */
	}
	for (size_t i = 0; i < n; i++) {
		struct repl_apply *a;

		if (m->res[i].code != 0)
			continue;
		a = rs_xcalloc(1, sizeof(*a));
		a->r = r;
		a->m = m;
		a->idx = i;
		a->part = req->parts[i]->partition;
		repl_append_start(a, req->parts[i]);
	}
	roost__repl_append_multi__free_unpacked(req, NULL);
	repl_multi_release(m);             /* the hold */
}

static void
repl_on_position(void *arg, struct rpc_call *call, const uint8_t *p,
                 size_t len)
{
	struct repl *r = arg;
	Roost__ReplPositionRequest *req;
	uint32_t part;
	int64_t epoch;

	req = roost__repl_position_request__unpack(NULL, len, p);
	if (req == NULL) {
		rpc_reply(call, RS_EINVAL, "bad position request", NULL, 0);
		return;
	}
	part = req->partition;
	epoch = req->epoch;
	roost__repl_position_request__free_unpacked(req, NULL);
	/* Reading the position changes nothing, so any peer may ask: the
	 * primary before it streams, the controller choosing whom to
	 * promote (its view names the failed primary still). */
	if (repl_check_follower(r, call, part, epoch, false) != 0)
		return;
	repl_reply_pos(call, store_repl_position(r->o.store, part));
}

struct repl_copy {
	struct repl     *r;
	struct rpc_call *call;
	uint32_t         part;
};

static void
repl_copied(void *arg, int rc)
{
	struct repl_copy *c = arg;

	if (rc != 0)
		rpc_reply(c->call, rc, "copy failed", NULL, 0);
	else
		repl_reply_pos(c->call, store_repl_position(c->r->o.store,
		                                            c->part));
	free(c);
}

static void
repl_on_copy(void *arg, struct rpc_call *call, const uint8_t *p, size_t len)
{
	struct repl *r = arg;
	Roost__ReplCopy *req = roost__repl_copy__unpack(NULL, len, p);
	struct repl_copy *c;
	struct store_pos pos = { 0, 0 };
	struct rs_err err;
	int rc;

	if (req == NULL) {
		rpc_reply(call, RS_EINVAL, "bad copy", NULL, 0);
		return;
	}
	if (repl_check_primary(r, call, req->partition, req->epoch) != 0) {
		roost__repl_copy__free_unpacked(req, NULL);
		return;
	}
	c = rs_xcalloc(1, sizeof(*c));
	c->r = r;
	c->call = call;
	c->part = req->partition;
	if (req->pos != NULL) {
		pos.epoch = req->pos->epoch;
		pos.lsn = req->pos->lsn;
	}
	switch (req->step) {
	case ROOST__REPL_COPY__STEP__BEGIN:
		rs_log(RS_LOG_INFO, "repl.copy_receiving", "partition=%u from=%s",
		       c->part, rpc_call_peer(call));
		repl__log_clear(&r->parts[c->part]);
		rc = store_repl_import_begin(r->o.store, c->part, r->o.exec, repl_copied,
		                     c, &err);
		break;
	case ROOST__REPL_COPY__STEP__CHUNK:
		rc = store_repl_import(r->o.store, c->part, req->data.data,
		                       req->data.len, r->o.exec, repl_copied, c,
		                       &err);
		break;
	case ROOST__REPL_COPY__STEP__END:
		rc = store_repl_import_end(r->o.store, c->part, pos, r->o.exec,
		                           repl_copied, c, &err);
		break;
	default:
		rc = rs_err_set(&err, RS_EINVAL, "bad copy step");
		break;
	}
	roost__repl_copy__free_unpacked(req, NULL);
	if (rc != 0) {
		rpc_reply(call, err.code != 0 ? err.code : RS_EIO, err.msg, NULL,
		          0);
		free(c);
	}
}

void
repl__follower_init(struct repl *r)
{
	rpc_handle(r->o.rpc, RPC_METHOD_REPL_POSITION, repl_on_position, r);
	rpc_handle(r->o.rpc, RPC_METHOD_REPL_COPY, repl_on_copy, r);
	rpc_handle(r->o.rpc, RPC_METHOD_REPL_APPEND_MULTI,
	           repl_on_append_multi, r);
}
