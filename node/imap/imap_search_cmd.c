/* imap_search_cmd.c: SEARCH and UID SEARCH (RFC 9051 6.4.4), ESEARCH
 * RETURN options (RFC 4731), MODSEQ (RFC 7162 3.1.5); and the walk over
 * the selected mailbox that SORT shares. Records come from one store
 * iterator (no summaries, no bodies unless a key needs them: a program
 * on flags, dates, sizes or sets reads only the small message records);
 * header and body text are read per message, on demand, through the
 * evaluator's callbacks. A SEARCH whose program reads headers or bodies
 * runs on the IMAP search pool (imap_search_job.c, which SORT uses too);
 * the others run on the loop as the command runs.
 * RETURN (SAVE) keeps the UIDs found in the session for "$" (RFC 5182). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_fetch_meta.h"
#include "node/imap/imap_fetch_util.h"
#include "node/imap/imap_search_job.h"
#include "node/imap/imap_search_text.h"
#include "node/imap/imap_seqset.h"
#include "node/mime/mime_header.h"

#define IMAP_SEARCH_BODY_MAX ((uint64_t)64 * 1024 * 1024) /* read whole */

/* The current message while the program is evaluated. */
struct imap_search_cur {
	struct store *st;              /* borrowed: reads are thread-safe */
	uint32_t part;
	const struct store_msg *m;
	struct imap_fetch_meta *fm;
	bool     meta_ok;              /* fm loaded */
	uint8_t *hdr;                  /* owns: the header, when read */
	size_t   hdr_len;
	uint8_t *all;                  /* owns: the message, when read */
	size_t   all_len;
};

static int
imap_search_load_meta(struct imap_search_cur *c)
{
	struct rs_err err;

	if (c->meta_ok)
		return 0;
	rs_err_clear(&err);
	if (imap_fetch_meta_load(c->fm, c->st, c->part,
	                         c->m->blob, c->m->size, c->m->meta,
	                         c->m->meta != NULL ? c->m->meta_len : 0,
	                         &err) != 0)
		return -1;
	c->meta_ok = true;
	return 0;
}

static int
imap_search_read(struct imap_search_cur *c, uint64_t len, uint8_t **out_r,
                 size_t *got_r)
{
	struct rs_err err;
	uint8_t *d;

	if (len > IMAP_SEARCH_BODY_MAX)
		len = IMAP_SEARCH_BODY_MAX;
	d = rs_xmalloc((size_t)len + 1);
	rs_err_clear(&err);
	if (store_blob_read(c->st, c->part, c->m->blob, 0,
	                    d, (size_t)len, got_r, &err) != 0) {
		free(d);
		return -1;
	}
	*out_r = d;
	return 0;
}

static int
imap_search_header(void *arg, const char *field, const char *needle,
                   size_t nlen)
{
	struct imap_search_cur *c = arg;

	if (c->hdr == NULL) {
		uint64_t want = c->m->size;
		uint8_t *d;
		size_t got;

		if (want > IMAP_FETCH_HEAD_MAX)
			want = IMAP_FETCH_HEAD_MAX;
		if (imap_search_read(c, want, &d, &got) != 0)
			return -1;
		c->hdr = d;
		c->hdr_len = mime_header_len(d, got);
	}
	return imap_search_text_header(c->hdr, c->hdr_len, field, needle,
	                               nlen) ? 1 : 0;
}

static int
imap_search_body(void *arg, bool text, const char *needle, size_t nlen)
{
	struct imap_search_cur *c = arg;

	if (text && imap_search_header(arg, NULL, needle, nlen) == 1)
		return 1;
	if (imap_search_load_meta(c) != 0)
		return -1;
	if (c->all == NULL && imap_search_read(c, c->m->size, &c->all,
	                                       &c->all_len) != 0)
		return -1;
	return imap_search_text_body(c->all, c->all_len,
	                             c->fm->have ? &c->fm->sum : NULL, needle,
	                             nlen) ? 1 : 0;
}

int
imap_search_walk__one(struct store *st, uint32_t part,
                      const struct imap_search *prog, unsigned needs,
                      const struct store_msg *m, uint32_t seq, bool recent,
                      struct imap_fetch_meta *fm, bool want_meta)
{
	struct imap_search_cur c = { .st = st, .part = part, .m = m,
	                             .fm = fm };
	struct imap_search_msg sm;
	int rc;

	memset(&sm, 0, sizeof(sm));
	sm.seq = seq;
	sm.uid = m->uid;
	sm.flags = m->flags;
	sm.recent = recent;             /* RFC 3501 2.3.2: this session's */
	sm.keywords = m->keywords;
	sm.nkeywords = m->nkeywords;
	sm.modseq = m->modseq;
	sm.internal_date = m->internal_date;
	sm.size = m->size;
	sm.header = imap_search_header;
	sm.body = imap_search_body;
	sm.arg = &c;
	if ((needs & IMAP_SEARCH_NEED_META) != 0 &&
	    imap_search_load_meta(&c) == 0 && fm->have) {
		sm.sent_date = fm->sum.keys.sent_date;
		sm.sent_tz = fm->sum.keys.sent_tz;
	}
	rc = imap_search_eval(prog, &sm);
	/* SORT reads the keys of the messages found. */
	if (rc == 1 && want_meta && imap_search_load_meta(&c) != 0)
		rc = -1;
	free(c.hdr);
	free(c.all);
	return rc;
}

int
imap_search_walk__run(struct imap_session *s, struct imap_search *prog,
                      bool want_meta, imap_search_walk_fn *fn, void *arg,
                      struct rs_err *err)
{
	unsigned needs = imap_search_needs(prog);
	struct imap_view *v = s->view;
	struct imap_fetch_meta fm;
	struct store_msg_iter *it;
	struct store_msg m;
	int rc;

	imap_search_resolve(prog, v->n, v->n > 0 ? v->uids[v->n - 1] : 0,
	                    &s->saved);
	if (want_meta)
		needs |= IMAP_SEARCH_NEED_META;
	imap_fetch_meta_init(&fm);
	it = store_msg_iter_open(imap_store(s), s->acct, v->mailbox, 1,
	                         needs != 0 ? STORE_ITER_META : 0);
	while ((rc = store_msg_iter_next(it, &m, err)) == 1) {
		uint32_t seq = imap_view_seq(v, m.uid);
		int r;

		/* Messages the client has not been told of yet are not
		 * numbered: they are not searched (RFC 9051 7.5.1). */
		if (seq == 0)
			continue;
		r = imap_search_walk__one(imap_store(s), s->acct.part, prog,
		                          needs,
		                    &m, seq, imap_recent__is(s, seq), &fm,
		                    want_meta);
		if (r < 0) {
			rc = rs_err_set(err, RS_EIO, "message %" PRIu32
			                " unreadable", m.uid);
			break;
		}
		if (r == 1)
			fn(arg, &m, seq, want_meta ? &fm : NULL);
	}
	store_msg_iter_free(&it);
	imap_fetch_meta_free(&fm);
	return rc < 0 ? -1 : 0;
}

/* ---- SEARCH ---- */

struct imap_search_res {
	bool      uid;
	uint32_t *v;                   /* owns: seqs or UIDs, ascending */
	uint32_t *u;                   /* owns: their UIDs (for SAVE) */
	uint64_t *m;                   /* owns: their modseqs */
	size_t    n, cap;
};

static void
imap_search_hit(void *arg, const struct store_msg *m, uint32_t seq,
                struct imap_fetch_meta *fm)
{
	struct imap_search_res *r = arg;

	(void)fm;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->v = rs_xreallocarray(r->v, r->cap, sizeof(*r->v));
		r->u = rs_xreallocarray(r->u, r->cap, sizeof(*r->u));
		r->m = rs_xreallocarray(r->m, r->cap, sizeof(*r->m));
	}
	r->u[r->n] = m->uid;
	r->m[r->n] = m->modseq;
	r->v[r->n++] = r->uid ? m->uid : seq;
}

/* The MODSEQ a result reports: the highest of the messages it returns
 * (RFC 7162 3.1.5), which with MIN and/or MAX but neither ALL nor COUNT
 * are those one or two alone (RFC 4731 3.2). */
static uint64_t
imap_search_res_modseq(unsigned ret, const struct imap_search_res *r)
{
	uint64_t hi = 0;

	if (r->n == 0)
		return 0;
	if ((ret & (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT)) == 0 &&
	    (ret & (IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX)) != 0) {
		if ((ret & IMAP_SEARCH_RET_MIN) != 0)
			hi = r->m[0];
		if ((ret & IMAP_SEARCH_RET_MAX) != 0 && r->m[r->n - 1] > hi)
			hi = r->m[r->n - 1];
		return hi;
	}
	for (size_t i = 0; i < r->n; i++)
		if (r->m[i] > hi)
			hi = r->m[i];
	return hi;
}

/* "* ESEARCH (TAG "t") UID MIN 1 MAX 9 COUNT 3 ALL 1,5,9" (RFC 4731). */
static void
imap_search_esearch(struct imap_session *s, const struct imap_search *prog,
                    const struct imap_search_res *r)
{
	struct evbuffer *out = imap_out(s);
	unsigned ret = prog->ret != 0 ? prog->ret : IMAP_SEARCH_RET_ALL;

	evbuffer_add_printf(out, "* ESEARCH (TAG \"%s\")%s", s->cmd.tag,
	                    r->uid ? " UID" : "");
	if ((ret & IMAP_SEARCH_RET_MIN) != 0 && r->n > 0)
		evbuffer_add_printf(out, " MIN %" PRIu32, r->v[0]);
	if ((ret & IMAP_SEARCH_RET_MAX) != 0 && r->n > 0)
		evbuffer_add_printf(out, " MAX %" PRIu32, r->v[r->n - 1]);
	if ((ret & IMAP_SEARCH_RET_COUNT) != 0)
		evbuffer_add_printf(out, " COUNT %zu", r->n);
	if ((ret & IMAP_SEARCH_RET_ALL) != 0 && r->n > 0) {
		evbuffer_add(out, " ALL ", 5);
		imap_fetch_util_uidset(out, r->v, r->n);
	}
	if (prog->uses_modseq && r->n > 0)
		evbuffer_add_printf(out, " MODSEQ %" PRIu64,
		                    imap_search_res_modseq(ret, r));
	evbuffer_add(out, "\r\n", 2);
}

static void
imap_search_plain(struct imap_session *s, const struct imap_search *prog,
                  const struct imap_search_res *r)
{
	struct evbuffer *out = imap_out(s);

	evbuffer_add(out, "* SEARCH", 8);
	for (size_t i = 0; i < r->n; i++)
		evbuffer_add_printf(out, " %" PRIu32, r->v[i]);
	/* RFC 7162 3.1.5: the highest modseq of the messages found. */
	if (prog->uses_modseq && r->n > 0)
		evbuffer_add_printf(out, " (MODSEQ %" PRIu64 ")",
		                    imap_search_res_modseq(IMAP_SEARCH_RET_ALL,
		                                           r));
	evbuffer_add(out, "\r\n", 2);
}

/* RFC 5182 2.4: SAVE keeps what the other return options name: only the
 * MIN and MAX messages when they alone are asked for, else every one. */
static void
imap_search_save(struct imap_session *s, unsigned ret,
                 const struct imap_search_res *r)
{
	uint32_t pick[2];
	const uint32_t *u = r->u;
	size_t n = r->n, np = 0;

	imap_seqset_free(&s->saved);
	if ((ret & (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT)) == 0 &&
	    (ret & (IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX)) != 0 &&
	    n > 0) {
		if ((ret & IMAP_SEARCH_RET_MIN) != 0)
			pick[np++] = u[0];
		if ((ret & IMAP_SEARCH_RET_MAX) != 0 && (np == 0 ||
		    u[n - 1] != pick[0]))
			pick[np++] = u[n - 1];
		u = pick;
		n = np;
	}
	/* UIDs come ascending: one range per run of consecutive ones. */
	for (size_t i = 0; i < n; i++) {
		if (s->saved.n > 0 &&
		    s->saved.r[s->saved.n - 1].hi + 1 == u[i]) {
			s->saved.r[s->saved.n - 1].hi = u[i];
			continue;
		}
		s->saved.r = rs_xreallocarray(s->saved.r, s->saved.n + 1,
		                              sizeof(*s->saved.r));
		s->saved.r[s->saved.n].lo = u[i];
		s->saved.r[s->saved.n++].hi = u[i];
	}
}

/* Parse errors: NO [BADCHARSET], BAD otherwise. */
void
imap_search_walk__bad(struct imap_session *s, const struct rs_err *err)
{
	if (err->code == IMAP_SEARCH_EBADCHARSET)
		imap_reply(s, IMAP_NO, "[BADCHARSET (UTF-8 US-ASCII)] "
		           "Unsupported charset");
	else
		imap_reply(s, IMAP_BAD, "%s", err->msg[0] != '\0' ? err->msg :
		           "Invalid search program");
}

/* The reply to SEARCH once the walk ran (rc 0) or failed (-1, err). */
static void
imap_search_answer(struct imap_session *s, bool uid,
                   const struct imap_search *prog,
                   const struct imap_search_res *r, int rc,
                   const struct rs_err *err)
{
	if (rc != 0) {
		rs_logc(&s->log, RS_LOG_WARN, "imap.search_failed",
		        "error=\"%s\"", err->msg);
		/* RFC 5182 2.1: a failed SAVE leaves "$" empty. */
		if ((prog->ret & IMAP_SEARCH_RET_SAVE) != 0)
			imap_seqset_free(&s->saved);
		imap_reply(s, IMAP_NO, "[SERVERBUG] SEARCH failed");
		return;
	}
	if ((prog->ret & IMAP_SEARCH_RET_SAVE) != 0)
		imap_search_save(s, prog->ret, r);
	/* SAVE alone answers nothing but the tagged OK (RFC 5182 2.4);
	 * IMAP4rev2 answers ESEARCH only (RFC 9051 7.3.4). */
	if (prog->ret != IMAP_SEARCH_RET_SAVE) {
		if (prog->esearch || (s->enabled & IMAP_EXT_REV2) != 0)
			imap_search_esearch(s, prog, r);
		else
			imap_search_plain(s, prog, r);
	}
	imap_reply(s, IMAP_OK, "%sSEARCH completed", uid ? "UID " : "");
}

/* SEARCH's part: the job found UIDs; number them with the view as it is
 * now (a message expunged meanwhile drops out). */
struct imap_search_async {
	struct imap_search_res r;      /* first: imap_search_hit's arg */
	struct imap_search *prog;      /* borrowed: the job's */
	bool uid;
};

static void
imap_search_async_done(struct imap_session *s, void *arg, int rc,
                       const struct rs_err *err)
{
	struct imap_search_async *a = arg;
	struct imap_search_res *r = &a->r;
	size_t k = 0;

	for (size_t i = 0; i < r->n; i++) {
		uint32_t seq = imap_view_seq(s->view, r->u[i]);

		if (seq == 0)
			continue;
		r->u[k] = r->u[i];
		r->m[k] = r->m[i];
		r->v[k++] = a->uid ? r->u[i] : seq;
	}
	r->n = k;
	imap_search_answer(s, a->uid, a->prog, r, rc, err);
}

static void
imap_search_async_free(void *arg)
{
	struct imap_search_async *a = arg;

	free(a->r.v);
	free(a->r.u);
	free(a->r.m);
	free(a);
}

int
imap_search_cmd__run(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct imap_search_res r = { .uid = cmd->uid };
	struct imap_search *prog = NULL;
	struct rs_err err;
	int rc;

	rs_err_clear(&err);
	if (imap_search_parse(cmd->args, cmd->nargs, &prog, &err) != 0) {
		imap_search_free(&prog);
		imap_search_walk__bad(s, &err);
		return IMAP_RUN_DONE;
	}
	if (prog->uses_modseq)
		imap_misc__condstore_on(s);           /* RFC 7162 3.1 */
	if ((imap_search_needs(prog) & (IMAP_SEARCH_NEED_HEADER |
	                                IMAP_SEARCH_NEED_BODY)) != 0) {
		struct imap_search_async *a = rs_xcalloc(1, sizeof(*a));

		a->prog = prog;
		a->uid = cmd->uid;
		imap_search_job_start(s, prog, false, imap_search_hit, NULL,
		                      imap_search_async_done,
		                      imap_search_async_free, a);
		return IMAP_RUN_ASYNC;
	}
	rc = imap_search_walk__run(s, prog, false, imap_search_hit, &r, &err);
	imap_search_answer(s, cmd->uid, prog, &r, rc, &err);
	free(r.v);
	free(r.u);
	free(r.m);
	imap_search_free(&prog);
	return IMAP_RUN_DONE;
}
