/* repl_primary.c: a primary's followers. Each is probed for its
 * position, then either streamed the entries it misses from the log (at
 * the end of the loop's round, one call per follower node for all the
 * partitions: a call per partition and group cost each message a frame,
 * a TLS record and an answer per follower), or
 * sent a copy of the whole partition when the log does not reach back
 * (or its log diverges from ours: entries of a deposed primary that were
 * never acknowledged). Acknowledgements move what the store may answer;
 * a follower that lags past replication.timeout leaves the in-sync set,
 * and one that caught up joins it again, each by a CAS on the record. */
#include "cluster/repl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/coord.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "lib/rs_time.h"
#include "proto/repl.pb-c.h"

/* A call's context: finds its follower again, or learns it is gone. */
struct repl_call {
	struct repl *r;
	uint32_t     part;
	char         id[CLUSTER_ID_MAX + 1];
	uint64_t     gen;
	uint64_t     last;                 /* Append: the last LSN sent */
};

static struct repl_call *
repl_call_new(struct repl_fol *f)
{
	struct repl_call *c = rs_xcalloc(1, sizeof(*c));

	c->r = f->rp->r;
	c->part = f->rp->id;
	snprintf(c->id, sizeof(c->id), "%s", f->id);
	c->gen = f->gen;
	return c;
}

/* The follower a call was for, if it is still the same one. */
static struct repl_fol *
repl_call_fol(const struct repl_call *c)
{
	struct repl_part *rp = &c->r->parts[c->part];

	if (rp->role != STORE_ROLE_PRIMARY)
		return NULL;
	for (size_t i = 0; i < rp->nfols; i++)
		if (strcmp(rp->fols[i].id, c->id) == 0 &&
		    rp->fols[i].gen == c->gen)
			return &rp->fols[i];
	return NULL;
}

/* A one-at-a-time call (copy, probe) was answered: frees it; its
 * follower, if still the same one, has nothing in flight any more. */
static struct repl_fol *
repl_call_answered(struct repl_call *c)
{
	struct repl_fol *f = repl_call_fol(c);

	free(c);
	if (f != NULL)
		f->inflight = 0;
	return f;
}

static void repl_stream(struct repl_fol *f);
static void repl_copy_next(struct repl_fol *f);

/* f holds our entries up to lsn: it is streamed the rest, and writes
 * that waited for it are answered now, not when the next write comes. */
static void
repl_fol_stream_from(struct repl_fol *f, uint64_t lsn)
{
	f->matched = f->sent = lsn;
	f->state = REPL_F_STREAM;
	repl__primary_ack(f->rp);
	repl_stream(f);
}

/* A call failed: the follower is left alone for a while. */
static void
repl_fol_fail(struct repl_fol *f, const char *what, int rc)
{
	if (f->state != REPL_F_WAIT)
		rs_log(RS_LOG_INFO, "repl.follower_lost", "partition=%u node=%s "
		       "what=%s error=%s", f->rp->id, f->id, what,
		       rs_err_name(rc));
	f->gen++;                      /* what is still out is stale */
	f->inflight = 0;
	f->failed = true;
	store_repl_export_close(&f->export);
	f->state = REPL_F_WAIT;
	f->backoff_ms = f->backoff_ms ? f->backoff_ms * 2 : 200;
	if (f->backoff_ms > 5000)
		f->backoff_ms = 5000;
	f->retry_at = rs_mono_ms() + f->backoff_ms;
	repl__fol_check(f, rs_mono_ms());
}

static bool
repl_pos_parse(const uint8_t *p, size_t len, struct store_pos *pos)
{
	Roost__ReplPos *m = roost__repl_pos__unpack(NULL, len, p);

	if (m == NULL)
		return false;
	pos->epoch = m->epoch;
	pos->lsn = m->lsn;
	roost__repl_pos__free_unpacked(m, NULL);
	return true;
}

/* ---- streaming ---- */

/* An append's answer for the part c sent: rc, or the follower's
 * position pos. */
static void
repl_append_part_done(struct repl_call *c, int rc, struct store_pos pos)
{
	struct repl_fol *f = repl_call_fol(c);

	free(c);
	if (f == NULL)
		return;
	if (rc != 0) {
		repl_fol_fail(f, "append", rc);
		return;
	}
	f->inflight--;
	if (pos.lsn > f->matched)
		f->matched = pos.lsn;
	f->backoff_ms = 0;
	f->failed = false;
	repl__primary_ack(f->rp);
	repl_stream(f);
}

/* One call to a follower node: the parts it carries. */
struct repl_multi_call {
	size_t            n;
	struct repl_call *calls[];      /* owns until answered */
};

static void
repl_multi_done(void *arg, int rc, const struct rs_err *err,
                const uint8_t *resp, size_t len)
{
	struct repl_multi_call *mc = arg;
	Roost__ReplAppendMultiReply *rep = NULL;

	(void)err;
	if (rc == 0) {
		rep = roost__repl_append_multi_reply__unpack(NULL, len, resp);
		if (rep == NULL || rep->n_results != mc->n)
			rc = RS_EIO;
	}
	for (size_t i = 0; i < mc->n; i++) {
		struct store_pos pos = { 0, 0 };
		int prc = rc;

		if (prc == 0) {
			const Roost__ReplPartResult *pr = rep->results[i];

			prc = pr->code;
			if (prc == 0 && pr->pos == NULL)
				prc = RS_EIO;
			if (prc == 0) {
				pos.epoch = pr->pos->epoch;
				pos.lsn = pr->pos->lsn;
			}
		}
		repl_append_part_done(mc->calls[i], prc, pos);
	}
	if (rep != NULL)
		roost__repl_append_multi_reply__free_unpacked(rep, NULL);
	free(mc);
}

/* Marks f to be sent its missing entries in this round's flush. */
static void
repl_stream(struct repl_fol *f)
{
	if (f->state != REPL_F_STREAM || f->sent >= f->rp->lsn ||
	    f->inflight >= REPL_INFLIGHT_MAX || f->rp->r->stopped)
		return;
	f->dirty = true;
	event_active(f->rp->r->flush, EV_TIMEOUT, 1);
}

#define REPL_PART_ENTRIES 64        /* entries in one part */
#define REPL_CALL_PARTS   64        /* parts in one call */
#define REPL_CALL_NODES   8         /* calls built in one round */

/* One part of a call, in one allocation: protobuf-c packs it from
 * pointers, the entries' data stays the log's. */
struct repl_part_msg {
	Roost__ReplAppend  req;
	Roost__ReplEntry  *ptrs[REPL_PART_ENTRIES];
	Roost__ReplEntry   ents[REPL_PART_ENTRIES];
};

/* The parts of one follower node's call being built. */
struct repl_multi_build {
	const char           *id;       /* borrowed: a follower's */
	struct repl_part_msg *parts[REPL_CALL_PARTS];  /* owns */
	struct repl_call     *calls[REPL_CALL_PARTS];  /* owns */
	size_t                n, bytes;
};

/* Adds f's next entries (up to a batch) to b; false when there is
 * nothing to add or b is full. */
static bool
repl_build_part(struct repl_multi_build *b, struct repl_fol *f)
{
	struct repl_part *rp = f->rp;
	const struct repl_entry *e;
	struct repl_part_msg *pm;
	size_t n = 0, bytes = 0;

	if (b->n == REPL_CALL_PARTS || b->bytes >= REPL_BATCH_BYTES ||
	    f->state != REPL_F_STREAM || f->sent >= rp->lsn ||
	    f->inflight >= REPL_INFLIGHT_MAX)
		return false;
	e = repl__log_find(rp, f->sent + 1);
	if (e == NULL) {
		/* The log moved on without it: a copy. */
		f->state = REPL_F_PROBE;
		repl__fol_probe(f);
		return false;
	}
	pm = rs_xcalloc(1, sizeof(*pm));
	roost__repl_append__init(&pm->req);
	for (; e != NULL && n < REPL_PART_ENTRIES &&
	       (n == 0 || bytes < REPL_BATCH_BYTES); e = e->next, n++) {
		roost__repl_entry__init(&pm->ents[n]);
		pm->ents[n].lsn = e->lsn;
		pm->ents[n].epoch = e->epoch;
		pm->ents[n].data.data = e->data;
		pm->ents[n].data.len = e->len;
		pm->ptrs[n] = &pm->ents[n];
		bytes += e->len;
	}
	pm->req.partition = rp->id;
	pm->req.epoch = rp->epoch;
	pm->req.entries = pm->ptrs;
	pm->req.n_entries = n;
	b->parts[b->n] = pm;
	b->calls[b->n] = repl_call_new(f);
	b->calls[b->n]->last = pm->ents[n - 1].lsn;
	b->n++;
	b->bytes += bytes;
	f->inflight++;
	f->sent = pm->ents[n - 1].lsn;
	return true;
}

/* Sends b as one call; on failure each part fails its follower. */
static void
repl_build_send(struct repl *r, struct repl_multi_build *b)
{
	Roost__ReplAppendMulti req = ROOST__REPL_APPEND_MULTI__INIT;
	Roost__ReplAppend *parts[REPL_CALL_PARTS];
	struct repl_multi_call *mc;
	const char *host;
	unsigned port;
	struct rs_err err;
	uint8_t *buf;
	size_t len;
	int rc;

	if (b->n == 0)
		return;
	mc = rs_xcalloc(1, sizeof(*mc) + b->n * sizeof(mc->calls[0])); // NOLINT(bugprone-sizeof-expression)
	mc->n = b->n;
	memcpy(mc->calls, b->calls, b->n * sizeof(b->calls[0])); // NOLINT(bugprone-sizeof-expression)
	for (size_t i = 0; i < b->n; i++)
		parts[i] = &b->parts[i]->req;
	req.parts = parts;
	req.n_parts = b->n;
	len = roost__repl_append_multi__get_packed_size(&req);
	buf = rs_xmalloc(len);
	roost__repl_append_multi__pack(&req, buf);
	for (size_t i = 0; i < b->n; i++)
		free(b->parts[i]);
	b->n = 0;
	rc = repl__addr(r, mc->calls[0]->id, &host, &port);
	if (rc == 0)
		rc = rpc_call(r->o.rpc, host, port,
		              RPC_METHOD_REPL_APPEND_MULTI, buf, len,
		              r->o.timeout_ms, repl_multi_done, mc, &err) != 0
		     ? (err.code != 0 ? err.code : RS_EIO) : 0;
	free(buf);
	if (rc != 0)
		repl_multi_done(mc, rc, NULL, NULL, 0);
}

/* The call being built for f's node in b[0..*nb), a new one if there
 * is room; NULL when there is none this round. */
static struct repl_multi_build *
repl_build_for(struct repl_multi_build *b, size_t *nb,
               const struct repl_fol *f)
{
	for (size_t k = 0; k < *nb; k++)
		if (strcmp(b[k].id, f->id) == 0)
			return &b[k];
	if (*nb == REPL_CALL_NODES)
		return NULL;
	memset(&b[*nb], 0, sizeof(b[*nb]));
	b[*nb].id = f->id;
	return &b[(*nb)++];
}

void
repl__primary_flush(evutil_socket_t fd, short what, void *arg)
{
	struct repl *r = arg;
	struct repl_multi_build b[REPL_CALL_NODES];
	size_t nb = 0;

	(void)fd;
	(void)what;
	if (r->stopped)
		return;
	for (uint32_t p = 0; p < r->nparts; p++) {
		struct repl_part *rp = &r->parts[p];

		for (size_t i = 0; rp->role == STORE_ROLE_PRIMARY &&
		                   i < rp->nfols; i++) {
			struct repl_fol *f = &rp->fols[i];
			struct repl_multi_build *mb;

			if (!f->dirty)
				continue;
			f->dirty = false;
			mb = repl_build_for(b, &nb, f);
			while (mb != NULL && repl_build_part(mb, f))
				;
			/* What did not fit goes in the next round. */
			repl_stream(f);
		}
	}
	for (size_t k = 0; k < nb; k++)
		repl_build_send(r, &b[k]);
}

void
repl__primary_entry(struct repl_part *rp, const struct repl_entry *e)
{
	uint64_t now = rs_mono_ms();

	(void)e;
	for (size_t i = 0; i < rp->nfols; i++) {
		repl_stream(&rp->fols[i]);
		if (rp->fols[i].failed)
			repl__fol_check(&rp->fols[i], now);
	}
}

/* ---- the whole partition ---- */

static void
repl_copy_done(void *arg, int rc, const struct rs_err *err,
               const uint8_t *resp, size_t len)
{
	struct repl_fol *f = repl_call_answered(arg);
	struct store_pos pos;

	(void)err;
	if (f == NULL)
		return;
	if (rc != 0) {
		repl_fol_fail(f, "copy", rc);
		return;
	}
	if (f->export != NULL) {
		repl_copy_next(f);
		return;
	}
	/* END answered: the follower is at the copy's position. */
	if (!repl_pos_parse(resp, len, &pos) || pos.lsn != f->copy_pos.lsn) {
		repl_fol_fail(f, "copy", RS_EIO);
		return;
	}
	rs_log(RS_LOG_INFO, "repl.copied", "partition=%u node=%s lsn=%llu",
	       f->rp->id, f->id, (unsigned long long)pos.lsn);
	repl_fol_stream_from(f, pos.lsn);
}

static int
repl_copy_send(struct repl_fol *f, Roost__ReplCopy__Step step,
               const uint8_t *data, size_t dlen)
{
	struct repl_part *rp = f->rp;
	Roost__ReplCopy req = ROOST__REPL_COPY__INIT;
	Roost__ReplPos pos = ROOST__REPL_POS__INIT;
	struct repl_call *c;
	struct rs_err err;
	const char *host;
	unsigned port;
	uint8_t *buf;
	size_t len;
	int rc;

	if (repl__addr(rp->r, f->id, &host, &port) != 0)
		return RS_EUNAVAIL;
	req.partition = rp->id;
	req.epoch = rp->epoch;
	req.step = step;
	req.data.data = (uint8_t *)data;
	req.data.len = dlen;
	pos.epoch = f->copy_pos.epoch;
	pos.lsn = f->copy_pos.lsn;
	req.pos = &pos;
	len = roost__repl_copy__get_packed_size(&req);
	buf = rs_xmalloc(len);
	roost__repl_copy__pack(&req, buf);
	c = repl_call_new(f);
	rc = rpc_call(rp->r->o.rpc, host, port, RPC_METHOD_REPL_COPY, buf, len,
	              rp->r->o.timeout_ms * 5, repl_copy_done, c, &err);
	free(buf);
	if (rc != 0) {
		free(c);
		return err.code != 0 ? err.code : RS_EIO;
	}
	f->inflight = 1;
	return 0;
}

/* Reading a chunk of the export, off the loop. The job owns the export
 * while it is out (f->export is NULL meanwhile), so nothing closes it
 * under the reader; c says whether f is still the follower it was for. */
struct repl_export_job {
	struct repl_call    *c;
	struct store_export *x;
	uint8_t             *chunk;
	size_t               len;
	int                  rc;
	struct rs_err        err;
};

static void
repl_export_work(void *arg)
{
	struct repl_export_job *j = arg;

	j->rc = store_repl_export_next(j->x, REPL_COPY_CHUNK, &j->chunk,
	                               &j->len, &j->err);
}

/* Sends the chunk read, or END after the last. */
static void
repl_export_done(void *arg)
{
	struct repl_export_job *j = arg;
	bool stopped = j->c->r->stopped;
	struct repl_fol *f = repl_call_answered(j->c);

	if (f == NULL || stopped || f->state != REPL_F_COPY) {
		store_repl_export_close(&j->x);     /* the copy ended */
	} else if (j->rc < 0) {
		store_repl_export_close(&j->x);
		repl_fol_fail(f, "export", j->err.code);
	} else {
		int rc;

		if (j->rc == 0) {
			store_repl_export_close(&j->x);
			rc = repl_copy_send(f, ROOST__REPL_COPY__STEP__END, NULL,
			                    0);
		} else {
			f->export = j->x;
			rc = repl_copy_send(f, ROOST__REPL_COPY__STEP__CHUNK,
			                    j->chunk, j->len);
		}
		if (rc != 0)
			repl_fol_fail(f, "copy", rc);
	}
	free(j->chunk);
	free(j);
}

/* Reads the next chunk (off the loop when the node gives a thread). */
static void
repl_copy_next(struct repl_fol *f)
{
	struct repl *r = f->rp->r;
	struct repl_export_job *j = rs_xcalloc(1, sizeof(*j));

	j->c = repl_call_new(f);
	j->x = f->export;
	f->export = NULL;
	f->inflight = 1;
	if (r->o.offload == NULL) {
		repl_export_work(j);
		repl_export_done(j);
		return;
	}
	r->o.offload(r->o.offload_ctx, repl_export_work, repl_export_done, j);
}

static void
repl_copy_start(struct repl_fol *f)
{
	int rc;

	rs_log(RS_LOG_INFO, "repl.copying", "partition=%u node=%s", f->rp->id,
	       f->id);
	f->state = REPL_F_COPY;
	f->export = store_repl_export_open(f->rp->r->o.store, f->rp->id,
	                                   &f->copy_pos);
	rc = repl_copy_send(f, ROOST__REPL_COPY__STEP__BEGIN, NULL, 0);
	if (rc != 0)
		repl_fol_fail(f, "copy", rc);
}

/* ---- probing ---- */

/* Whether f at pos can continue from our log: its last entry is one we
 * have (same LSN, same epoch), and the log holds what comes after. */
static bool
repl_can_stream(const struct repl_part *rp, struct store_pos pos)
{
	const struct repl_entry *e;

	if (pos.lsn > rp->lsn)
		return false;              /* ahead: entries never acked */
	if (pos.lsn == rp->lsn)
		return pos.epoch == rp->last_epoch;
	e = repl__log_find(rp, pos.lsn);
	if (e != NULL)
		return e->epoch == pos.epoch && e->next != NULL;
	/* Just before the log starts: only an empty follower of an empty
	 * start, which has nothing to disagree about. */
	e = repl__log_first(rp);
	return pos.lsn == 0 && e != NULL && e->lsn == 1;
}

static void
repl_probe_done(void *arg, int rc, const struct rs_err *err,
                const uint8_t *resp, size_t len)
{
	struct repl_fol *f = repl_call_answered(arg);
	struct store_pos pos;

	(void)err;
	if (f == NULL)
		return;
	if (rc != 0 || !repl_pos_parse(resp, len, &pos)) {
		repl_fol_fail(f, "probe", rc != 0 ? rc : RS_EIO);
		return;
	}
	f->failed = false;
	if (!repl_can_stream(f->rp, pos)) {
		repl_copy_start(f);
		return;
	}
	repl_fol_stream_from(f, pos.lsn);
}

void
repl__fol_probe(struct repl_fol *f)
{
	struct repl_part *rp = f->rp;
	Roost__ReplPositionRequest req = ROOST__REPL_POSITION_REQUEST__INIT;
	struct repl_call *c;
	struct rs_err err;
	const char *host;
	unsigned port;
	uint8_t buf[32];
	size_t len;

	f->state = REPL_F_PROBE;
	f->gen++;
	f->inflight = 0;
	store_repl_export_close(&f->export);
	if (repl__addr(rp->r, f->id, &host, &port) != 0) {
		repl_fol_fail(f, "address", RS_EUNAVAIL);
		return;
	}
	req.partition = rp->id;
	req.epoch = rp->epoch;
	len = roost__repl_position_request__pack(&req, buf);
	c = repl_call_new(f);
	if (rpc_call(rp->r->o.rpc, host, port, RPC_METHOD_REPL_POSITION, buf,
	             len, rp->r->o.timeout_ms, repl_probe_done, c, &err) != 0) {
		free(c);
		repl_fol_fail(f, "probe", err.code);
		return;
	}
	f->inflight = 1;
}
