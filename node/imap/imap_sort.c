/* imap_sort.c: SORT and UID SORT (RFC 5256 with RFC 5957 DISPLAYFROM and
 * DISPLAYTO): the messages that match the program, ordered by the sort
 * keys of their MIME summaries (imap_fetch_sort.c), ties by sequence
 * number. Answers "* SORT ..." in one piece. Every SORT reads the
 * summaries, so every SORT runs on the IMAP search pool
 * (imap_search_job.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_fetch_sort.h"
#include "node/imap/imap_fetch_util.h"
#include "node/imap/imap_search_job.h"

struct imap_sort_res {
	struct imap_fetch_sort_rec *v;    /* owns */
	char   **pool;                     /* owns: each record's strings */
	size_t   n, cap;
	/* On the search pool: the criteria, and UID SORT or not. */
	struct imap_fetch_sort_crit crit[IMAP_FETCH_SORT_CRIT_MAX];
	size_t   ncrit;
	bool     uid;
	bool     modseq;                   /* MODSEQ in the program */
};

/* Copies the six strings of a record into one allocation. */
static void
imap_sort_keep(struct imap_sort_res *r, struct imap_fetch_sort_rec *rec)
{
	struct rs_str *f[] = { &rec->subject, &rec->from, &rec->to, &rec->cc,
	                       &rec->dfrom, &rec->dto };
	size_t len = 1, off = 0;
	char *p;

	for (size_t i = 0; i < 6; i++)
		len += f[i]->len;
	p = rs_xmalloc(len);
	for (size_t i = 0; i < 6; i++) {
		if (f[i]->len > 0)
			memcpy(p + off, f[i]->p, f[i]->len);
		f[i]->p = p + off;
		off += f[i]->len;
	}
	r->pool[r->n] = p;
}

static void
imap_sort_hit(void *arg, const struct store_msg *m, uint32_t seq,
              struct imap_fetch_meta *fm)
{
	struct imap_sort_res *r = arg;
	struct imap_fetch_sort_rec *rec;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->v = rs_xreallocarray(r->v, r->cap, sizeof(*r->v));
		r->pool = rs_xreallocarray(r->pool, r->cap, sizeof(*r->pool));
	}
	rec = &r->v[r->n];
	memset(rec, 0, sizeof(*rec));
	rec->seq = seq;
	rec->uid = m->uid;
	rec->modseq = m->modseq;
	rec->size = m->size;
	rec->arrival = m->internal_date;
	rec->date = m->internal_date;
	if (fm != NULL && fm->have) {
		const struct mime_sort_keys *k = mime_summary_keys(&fm->sum);

		/* RFC 5256 2.2: no usable Date: sorts by INTERNALDATE. */
		if (k->sent_date != 0)
			rec->date = k->sent_date;
		rec->subject = k->base_subject;
		rec->from = k->from_mailbox;
		rec->to = k->to_mailbox;
		rec->cc = k->cc_mailbox;
		/* RFC 5957 3: the mailbox when there is no display name. */
		rec->dfrom = k->from_display.len ? k->from_display :
		             k->from_mailbox;
		rec->dto = k->to_display.len ? k->to_display : k->to_mailbox;
	}
	imap_sort_keep(r, rec);
	r->n++;
}

static void
imap_sort_free(struct imap_sort_res *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->pool[i]);
	free(r->pool);
	free(r->v);
}

/* Back on the loop: "* SORT ..." and the tagged reply; sequence numbers
 * come from the view as it is now (a message expunged meanwhile drops
 * out). */
static void
imap_sort_done(struct imap_session *s, void *arg, int rc,
               const struct rs_err *err)
{
	struct imap_sort_res *r = arg;
	struct evbuffer *out = imap_out(s);
	uint64_t hi = 0;

	if (rc != 0) {
		rs_logc(&s->log, RS_LOG_WARN, "imap.sort_failed",
		        "error=\"%s\"", err->msg);
		imap_reply(s, IMAP_NO, "[SERVERBUG] SORT failed");
		return;
	}
	evbuffer_add(out, "* SORT", 6);
	for (size_t i = 0; i < r->n; i++) {
		uint32_t seq = imap_view_seq(s->view, r->v[i].uid);

		if (seq == 0)
			continue;
		evbuffer_add_printf(out, " %" PRIu32, r->uid ? r->v[i].uid :
		                    seq);
		if (r->v[i].modseq > hi)
			hi = r->v[i].modseq;
	}
	/* RFC 7162 3.1.5 (sort-data): with a MODSEQ key, the highest
	 * modseq of the messages listed. */
	if (r->modseq && hi > 0)
		evbuffer_add_printf(out, " (MODSEQ %" PRIu64 ")", hi);
	evbuffer_add(out, "\r\n", 2);
	imap_reply(s, IMAP_OK, "%sSORT completed", r->uid ? "UID " : "");
}

/* On the search pool, after the walk. */
static void
imap_sort_end(void *arg)
{
	struct imap_sort_res *r = arg;

	imap_fetch_sort(r->v, r->n, r->crit, r->ncrit);
}

static void
imap_sort_release(void *arg)
{
	imap_sort_free(arg);
	free(arg);
}

int
imap_sort__run(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct imap_sort_res *r = rs_xcalloc(1, sizeof(*r));
	struct imap_search *prog = NULL;
	struct rs_err err;

	rs_err_clear(&err);
	r->uid = cmd->uid;
	if (cmd->nargs < 3 || cmd->args[0].type != IMAP_ARG_LIST ||
	    imap_search_sort_parse(&cmd->args[0], r->crit,
	                           IMAP_FETCH_SORT_CRIT_MAX, &r->ncrit,
	                           &err) != 0) {
		imap_reply(s, IMAP_BAD, "%s", err.msg[0] != '\0' ? err.msg :
		           "SORT takes criteria, a charset and a program");
		free(r);
		return IMAP_RUN_DONE;
	}
	if (imap_search_parse_charset_keys(imap_arg_next(&cmd->args[0]),
	                                   cmd->nargs - 1, &prog, &err) != 0) {
		imap_search_free(&prog);
		imap_search_walk__bad(s, &err);
		free(r);
		return IMAP_RUN_DONE;
	}
	r->modseq = prog->uses_modseq;
	if (prog->uses_modseq)
		imap_misc__condstore_on(s);           /* RFC 7162 3.1 */
	/* The sort keys come from every match's summary: off the loop. */
	imap_search_job_start(s, prog, true, imap_sort_hit, imap_sort_end,
	                      imap_sort_done, imap_sort_release, r);
	return IMAP_RUN_ASYNC;
}
