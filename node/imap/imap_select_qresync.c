/* imap_select_qresync.c: SELECT's and EXAMINE's parameters (RFC 7162
 * 3.1.8 CONDSTORE, 3.2.5 QRESYNC) and the QRESYNC answer: VANISHED
 * (EARLIER) from the change log, or from the gaps between the messages
 * present when the log was trimmed past the client's modseq, narrowed
 * by known-uids and seq-match-data; then the changed messages' FETCH. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/imap/imap_int.h"
#include "node/imap/imap_seqset.h"

/* Most seq-match pairs taken: clients send a few dozen (RFC 7162 3.2.5.2
 * suggests exponentially spaced samples). */
#define IMAP_SELECT_MATCH_MAX 1024

void
imap_select__qresync_free(struct imap_select_qresync *q)
{
	imap_seqset_free(&q->known);
	free(q->mseq);
	free(q->muid);
}

static bool
imap_select_num(const struct imap_arg *a, uint64_t max, uint64_t *v_r)
{
	return a->type == IMAP_ARG_ATOM &&
	       rs_str_to_u64(a->str, max, v_r) == 0;
}

int
imap_select__params(struct imap_session *s, const struct imap_arg *l,
                   struct imap_select_qresync *q)
{
	const struct imap_arg *a = l + 1;
	struct rs_err err;

	for (uint32_t i = 0; i < l->nchildren; i++, a = imap_arg_next(a)) {
		const struct imap_arg *p, *x;
		uint64_t v;

		if (imap_arg_is_atom(a, "CONDSTORE")) {
			/* RFC 7162 3.1.8: enables CONDSTORE. */
			s->enabled |= IMAP_EXT_CONDSTORE;
			continue;
		}
		if (!imap_arg_is_atom(a, "QRESYNC") || i + 1 >= l->nchildren ||
		    (s->enabled & IMAP_EXT_QRESYNC) == 0 || q->on)
			goto bad;
		p = imap_arg_next(a);
		i++;
		if (p->type != IMAP_ARG_LIST || p->nchildren < 2 ||
		    p->nchildren > 4)
			goto bad;
		x = p + 1;
		if (!imap_select_num(x, UINT32_MAX, &v) || v == 0)
			goto bad;
		q->uidvalidity = (uint32_t)v;
		x = imap_arg_next(x);
		if (!imap_select_num(x, INT64_MAX, &q->modseq))
			goto bad;
		if (p->nchildren >= 3) {
			x = imap_arg_next(x);
			if (x->type != IMAP_ARG_ATOM ||
			    imap_seqset_parse(x->str, 0, &q->known, &err) != 0 ||
			    q->known.saved)
				goto bad;
			q->has_known = true;
		}
		if (p->nchildren == 4) {
			const struct imap_arg *m = imap_arg_next(x);

			if (m->type != IMAP_ARG_LIST || m->nchildren != 2 ||
			    m[1].type != IMAP_ARG_ATOM ||
			    imap_arg_next(m + 1)->type != IMAP_ARG_ATOM ||
			    imap_seqset_match_pairs(
			        m[1].str, imap_arg_next(m + 1)->str,
			        IMAP_SELECT_MATCH_MAX, &q->mseq, &q->muid,
			        &q->nmatch, &err) != 0)
				goto bad;
		}
		q->on = true;
		a = p;
	}
	return 0;
bad:
	imap_reply(s, IMAP_BAD, "Invalid SELECT parameters");
	return -1;
}

/* Writes "* VANISHED (EARLIER) set" from ascending uids. */
static void
imap_select_write_vanished(struct imap_session *s, const uint32_t *uids,
                           size_t n)
{
	struct rs_buf b;

	if (n == 0)
		return;
	rs_buf_init(&b, RS_BUF_UNLIMITED);
	if (imap_seqset_format_uids(&b, uids, n) == 0)
		imap_untagged(s, "VANISHED (EARLIER) %s", (const char *)b.data);
	rs_buf_free(&b);
}

/* The lowest UID that can have vanished, from seq-match-data: if the
 * client's message number s was UID u and still is, no message below u
 * that the client knew is gone (numbers are dense and new messages only
 * come above), whatever the other pairs say. */
static uint32_t
imap_select_match_floor(const struct imap_view *v,
                        const struct imap_select_qresync *q)
{
	uint32_t lo = 1;

	for (size_t i = 0; i < q->nmatch; i++)
		if (q->muid[i] >= lo && imap_view_seq(v, q->muid[i]) == q->mseq[i])
			lo = q->muid[i] + 1;
	return lo;
}

/* Appends "lo" or "lo:hi" to a comma-separated set. 0 or RS_ETOOBIG. */
static int
imap_select_range(struct rs_buf *b, uint32_t lo, uint32_t hi)
{
	if (lo == hi)
		return rs_buf_printf(b, "%s%" PRIu32, b->len > 0 ? "," : "",
		                     lo);
	return rs_buf_printf(b, "%s%" PRIu32 ":%" PRIu32,
	                     b->len > 0 ? "," : "", lo, hi);
}

/* Appends [lo, hi] intersected with the known-uids set (if any). Gaps
 * come in ascending order: *ki skips the known ranges left behind. */
static int
imap_select_gap(struct rs_buf *b, const struct imap_select_qresync *q,
                size_t *ki, uint32_t lo, uint32_t hi)
{
	if (!q->has_known)
		return imap_select_range(b, lo, hi);
	while (*ki < q->known.n && q->known.r[*ki].hi < lo)
		(*ki)++;
	for (size_t i = *ki; i < q->known.n && q->known.r[i].lo <= hi; i++) {
		uint32_t a = q->known.r[i].lo > lo ? q->known.r[i].lo : lo;
		uint32_t z = q->known.r[i].hi < hi ? q->known.r[i].hi : hi;

		if (imap_select_range(b, a, z) != 0)
			return -1;
	}
	return 0;
}

/* The change log no longer reaches back to the client's modseq: every
 * UID below UIDNEXT that is not here may have vanished. Sent as the gaps
 * between the messages present (so its size follows the mailbox, not
 * UIDNEXT), narrowed by known-uids and seq-match-data. */
static void
imap_select_vanished_gaps(struct imap_session *s,
                          const struct imap_select_qresync *q)
{
	const struct imap_view *v = s->view;
	uint32_t lo = imap_select_match_floor(v, q);
	size_t ki = 0;
	struct rs_buf b;

	rs_buf_init(&b, RS_BUF_UNLIMITED);
	for (uint32_t i = 0; i <= v->n; i++) {
		uint32_t next = i < v->n ? v->uids[i] : v->uidnext;

		if (next > lo && imap_select_gap(&b, q, &ki, lo, next - 1) != 0)
			break;
		if (next >= lo)
			lo = next + 1;
		if (lo == 0)            /* wrapped past UINT32_MAX */
			break;
	}
	if (b.len > 0)
		imap_untagged(s, "VANISHED (EARLIER) %s", (const char *)b.data);
	rs_buf_free(&b);
}

void
imap_select__qresync(struct imap_session *s, const struct imap_select_qresync *q)
{
	struct imap_view *v = s->view;
	uint32_t *uids = NULL;
	size_t n = 0;
	bool complete = false;
	struct rs_err err;

	if (q->uidvalidity != v->uidvalidity)
		return;                 /* the client resynchronises fully */
	if (store_mailbox_vanished(imap_store(s), s->acct, v->mailbox,
	                           q->modseq, &uids, &n, &complete,
	                           &err) != 0) {
		rs_logc(&s->log, RS_LOG_WARN, "imap.qresync_failed",
		        "error=\"%s\"", err.msg);
		return;
	}
	if (!complete) {
		free(uids);
		imap_select_vanished_gaps(s, q);
		uids = NULL;
		n = 0;
	} else if (q->has_known) {
		size_t w = 0;

		for (size_t i = 0; i < n; i++)
			if (imap_seqset_contains(&q->known, uids[i]))
				uids[w++] = uids[i];
		n = w;
	}
	imap_select_write_vanished(s, uids, n);
	free(uids);
	for (uint32_t i = 0; i < v->n; i++)
		if (v->modseqs[i] > q->modseq) {
			v->flags[i] |= IMAP_VIEW_F_DIRTY;
			v->ndirty++;
		}
	(void)imap_view_sync(s, true);
}
