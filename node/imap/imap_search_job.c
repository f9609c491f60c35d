/* imap_search_job.c: a SEARCH or SORT walk on the IMAP search pool
 * (imap_search_job.h): the job copies what it reads from the session,
 * evaluates the program with imap_search_walk__one (imap_search_cmd.c)
 * off the loop, and hands the matches back on it. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/core/worker.h"
#include "node/imap/imap_fetch_meta.h"
#include "node/imap/imap_search_job.h"
#include "node/imap/imap_seqset.h"

/* A program that reads headers or bodies runs on srv->search_pool: the
 * job owns copies of all it reads (the view's UIDs, "$", the program)
 * and the store handle (reads are thread-safe); it returns the UIDs that
 * matched. Back on the loop they are numbered with the session's view as
 * it is then: a message expunged meanwhile drops out. Programs on flags,
 * dates, sizes and sets stay on the loop: they read only the small
 * records, one iterator, no blobs. */
struct imap_search_job {
	struct imap_session *s;        /* ref held; touched on the loop only */
	struct store *st;              /* borrowed */
	struct store_acct acct;
	uint32_t mailbox;
	struct imap_view snap;         /* uids and flags (owned) and n
	                                * only: the view's numbering and
	                                * \Recent bits when it started */
	struct imap_seqset saved;      /* owns: a copy of "$" */
	struct imap_search *prog;      /* owns */
	bool want_meta;
	imap_search_walk_fn *fn;
	imap_search_job_end_fn *end;
	imap_search_job_done_fn *done;
	void (*free_fn)(void *arg);
	void *arg;
	int rc;
	struct rs_err err;
};

/* On a pool thread: no session, no loop. */
static void
imap_search_job_work(void *arg)
{
	struct imap_search_job *j = arg;
	unsigned needs = imap_search_needs(j->prog);
	struct imap_fetch_meta fm;
	struct store_msg_iter *it;
	struct store_msg m;
	int rc;

	if (j->want_meta)
		needs |= IMAP_SEARCH_NEED_META;
	imap_fetch_meta_init(&fm);
	it = store_msg_iter_open(j->st, j->acct, j->mailbox, 1,
	                         STORE_ITER_META);
	while ((rc = store_msg_iter_next(it, &m, &j->err)) == 1) {
		uint32_t seq = imap_view_seq(&j->snap, m.uid);
		int r;

		if (seq == 0)
			continue;
		r = imap_search_walk__one(j->st, j->acct.part, j->prog,
		                          needs, &m,
		                    seq, (j->snap.flags[seq - 1] &
		                          IMAP_VIEW_F_RECENT) != 0, &fm,
		                    j->want_meta);
		if (r < 0) {
			rc = rs_err_set(&j->err, RS_EIO, "message %" PRIu32
			                " unreadable", m.uid);
			break;
		}
		if (r == 1)
			j->fn(j->arg, &m, seq, j->want_meta ? &fm : NULL);
	}
	store_msg_iter_free(&it);
	imap_fetch_meta_free(&fm);
	j->rc = rc < 0 ? -1 : 0;
	if (j->rc == 0 && j->end != NULL)
		j->end(j->arg);
}

/* Back on the loop; may run after the client left. */
static void
imap_search_job_done(void *arg)
{
	struct imap_search_job *j = arg;
	struct imap_session *s = j->s;

	if (!imap_session_closed(s)) {
		j->done(s, j->arg, j->rc, &j->err);
		imap_cmd_finish(s);
	}
	j->free_fn(j->arg);
	free(j->snap.uids);
	free(j->snap.flags);
	imap_seqset_free(&j->saved);
	imap_search_free(&j->prog);
	free(j);
	imap_session_unref(s);
}

void
imap_search_job_start(struct imap_session *s, struct imap_search *prog,
                      bool want_meta, imap_search_walk_fn *fn,
                      imap_search_job_end_fn *end,
                      imap_search_job_done_fn *done,
                      void (*free_fn)(void *arg), void *arg)
{
	struct imap_search_job *j = rs_xcalloc(1, sizeof(*j));
	const struct imap_view *v = s->view;

	j->s = s;
	j->st = imap_store(s);
	j->acct = s->acct;
	j->mailbox = v->mailbox;
	j->snap.n = v->n;
	j->snap.uids = rs_xreallocarray(NULL, v->n > 0 ? v->n : 1,
	                                sizeof(*j->snap.uids));
	j->snap.flags = rs_xcalloc(v->n > 0 ? v->n : 1,
	                           sizeof(*j->snap.flags));
	if (v->n > 0) {
		memcpy(j->snap.uids, v->uids, v->n * sizeof(*v->uids));
		if (v->recent_on)
			memcpy(j->snap.flags, v->flags,
			       v->n * sizeof(*v->flags));
	}
	if (s->saved.n > 0) {
		j->saved.r = rs_xreallocarray(NULL, s->saved.n,
		                              sizeof(*j->saved.r));
		memcpy(j->saved.r, s->saved.r,
		       s->saved.n * sizeof(*j->saved.r));
		j->saved.n = s->saved.n;
	}
	j->prog = prog;
	j->want_meta = want_meta;
	j->fn = fn;
	j->end = end;
	j->done = done;
	j->free_fn = free_fn;
	j->arg = arg;
	rs_err_clear(&j->err);
	imap_search_resolve(prog, v->n, v->n > 0 ? v->uids[v->n - 1] : 0,
	                    &j->saved);
	imap_session_ref(s);
	worker_pool_run(s->srv->search_pool, imap_search_job_work,
	                imap_search_job_done, j, imap_exec(s));
}
