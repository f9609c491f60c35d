/* controller_promote.c: which in-sync follower a failover promotes.
 * Every in-sync follower holds every acknowledged entry, so any of them
 * may lead; but one that is behind another makes that one discard the
 * entries it lacks (never acknowledged) and take a copy of the whole
 * partition. So before the CAS the controller asks each live in-sync
 * follower its durable position, all at once with a short deadline, and
 * promotes the furthest. The question never stalls a failover: a
 * follower that does not answer in time is passed over, and with no
 * answer at all the first live in-sync follower is promoted. The CAS
 * compares the record as planned, so a change meanwhile (another
 * controller's move) makes this one fail and be planned anew. */
#include "cluster/controller_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_view.h"
#include "cluster/rpc.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "proto/repl.pb-c.h"

/* A follower that is up answers within milliseconds; the deadline is
 * what a failover waits at most for one that is not (frozen, cut off),
 * and keeps it well under 2 s (it takes about half a second). */
#define CT_PROMOTE_MS  300

struct ct_promote;

/* One candidate's question: its call's argument. */
struct ct_ask {
	struct ct_promote *pr;
	size_t             i;
};

/* A failover waiting for its candidates' positions. */
struct ct_promote {
	struct controller      *ct;
	struct controller_move  m;          /* the failover as planned */
	int64_t                 epoch;      /* the record's before it */
	struct controller_cand  cands[CLUSTER_REPLICAS_MAX];
	struct ct_ask           asks[CLUSTER_REPLICAS_MAX];
	size_t                  ncands;
	size_t                  waiting;    /* calls not answered yet */
	struct ct_promote      *next;       /* ct->promotes */
};

/* Whether a's position is past b's: a later epoch's entries supersede
 * an earlier one's, whatever their numbers (Raft's "more up to date"). */
static bool
ct_pos_after(const struct controller_cand *a, const struct controller_cand *b)
{
	return a->epoch > b->epoch || (a->epoch == b->epoch && a->lsn > b->lsn);
}

size_t
controller_promote_pick(const struct controller_cand *c, size_t n)
{
	size_t best = n, first = n;

	for (size_t i = 0; i < n; i++) {
		if (!c[i].live)
			continue;
		if (first == n)
			first = i;
		if (c[i].answered && (best == n || ct_pos_after(&c[i], &c[best])))
			best = i;
	}
	return best != n ? best : first;
}

static void
ct_pos_text(char *buf, size_t size, const struct controller_cand *c)
{
	if (c->answered)
		snprintf(buf, size, "%lld/%llu", (long long)c->epoch,
		         (unsigned long long)c->lsn);
	else
		snprintf(buf, size, "-");
}

/* The choice, with every candidate's position ("-": no answer). */
static void
ct_promote_log(const struct ct_promote *pr, size_t k)
{
	char pos[48], others[CLUSTER_REPLICAS_MAX * (CLUSTER_ID_MAX + 50)];
	size_t len = 0;

	others[0] = '\0';
	for (size_t i = 0; i < pr->ncands && len < sizeof(others); i++) {
		int w;

		if (i == k)
			continue;
		ct_pos_text(pos, sizeof(pos), &pr->cands[i]);
		w = snprintf(others + len, sizeof(others) - len, "%s%s:%s",
		             len > 0 ? "," : "", pr->cands[i].id, pos);
		if (w > 0)
			len += (size_t)w;
	}
	ct_pos_text(pos, sizeof(pos), &pr->cands[k]);
	rs_log(RS_LOG_INFO, "cluster.promote",
	       "partition=%u epoch=%lld primary=%s pos=%s others=%s",
	       pr->m.part, (long long)pr->m.rec.epoch, pr->cands[k].id, pos,
	       len > 0 ? others : "-");
}

static void
ct_promote_unlink(struct ct_promote *pr)
{
	struct ct_promote **pp = &pr->ct->promotes;

	while (*pp != pr)
		pp = &(*pp)->next;
	*pp = pr->next;
}

/* Why the failover pr asked about is no longer this controller's to
 * make as planned, or NULL: it lost the election, the record changed
 * (the move would fail its CAS), or no candidate may lead any more. */
static const char *
ct_promote_stale(const struct ct_promote *pr, size_t k)
{
	const struct controller *ct = pr->ct;

	if (!controller_elected(ct))
		return "not_elected";
	if (cluster_view_part(ct->view, pr->m.part)->mod_rev != pr->m.mod_rev)
		return "record_changed";
	if (k == pr->ncands)
		return "no_candidate";
	return NULL;
}

/* Every question is answered or past its deadline: promote the pick. */
static void
ct_promote_decide(struct ct_promote *pr)
{
	struct controller *ct = pr->ct;
	const char *stale;
	size_t k;

	ct_promote_unlink(pr);
	ct->pending--;
	ct->inflight[pr->m.part] = false;
	/* The view moved on while we asked: a candidate may have died. */
	for (size_t i = 0; i < pr->ncands; i++)
		pr->cands[i].live = controller__live(ct->view, pr->cands[i].id);
	k = controller_promote_pick(pr->cands, pr->ncands);
	stale = ct_promote_stale(pr, k);
	if (stale != NULL) {
		rs_log(RS_LOG_INFO, "cluster.promote_dropped",
		       "partition=%u reason=%s", pr->m.part, stale);
		controller__schedule(ct, CT_DEBOUNCE_MS);   /* plan anew */
	} else {
		snprintf(pr->m.rec.primary, sizeof(pr->m.rec.primary), "%s",
		         pr->cands[k].id);
		ct_promote_log(pr, k);
		controller__move(ct, &pr->m);
	}
	free(pr);
}

static void
ct_promote_answered(struct ct_promote *pr)
{
	if (--pr->waiting == 0)
		ct_promote_decide(pr);
}

static void
ct_on_pos(void *arg, int rc, const struct rs_err *err, const uint8_t *resp,
          size_t len)
{
	struct ct_ask *a = arg;
	struct controller_cand *c = &a->pr->cands[a->i];
	Roost__ReplPos *pos = NULL;

	(void)err;                      /* "-" in the log says enough */
	if (rc == 0)
		pos = roost__repl_pos__unpack(NULL, len, resp);
	if (pos != NULL) {
		c->answered = true;
		c->epoch = pos->epoch;
		c->lsn = pos->lsn;
		roost__repl_pos__free_unpacked(pos, NULL);
	}
	ct_promote_answered(a->pr);
}

/* Asks candidate i its position in the partition, at the record's
 * epoch (the follower answers only at the epoch it knows too). One it
 * cannot be asked stays unanswered. */
static void
ct_ask(struct ct_promote *pr, size_t i)
{
	Roost__ReplPositionRequest req = ROOST__REPL_POSITION_REQUEST__INIT;
	struct ct_ask *a = &pr->asks[i];
	const char *host;
	unsigned base;
	uint8_t buf[32];
	size_t len;
	struct rs_err err;

	if (cluster_view_node_addr(pr->ct->view, pr->cands[i].id, &host,
	                           &base) != 0)
		return;
	req.partition = pr->m.part;
	req.epoch = pr->epoch;
	len = roost__repl_position_request__pack(&req, buf);
	a->pr = pr;
	a->i = i;
	if (rpc_call(pr->ct->rpc, host, base + CLUSTER_PEER_PORT,
	             RPC_METHOD_REPL_POSITION, buf, len, CT_PROMOTE_MS,
	             ct_on_pos, a, &err) == 0)
		pr->waiting++;
}

void
controller__promote(struct controller *ct, const struct controller_move *m)
{
	struct ct_promote *pr = rs_xcalloc(1, sizeof(*pr));

	pr->ct = ct;
	pr->m = *m;
	pr->epoch = cluster_view_part(ct->view, m->part)->rec.epoch;
	/* The plan took the failed primary out of the in-sync set. */
	for (size_t i = 0; i < m->rec.nin_sync; i++) {
		struct controller_cand *c = &pr->cands[pr->ncands];

		if (!controller__live(ct->view, m->rec.in_sync[i]))
			continue;
		snprintf(c->id, sizeof(c->id), "%s", m->rec.in_sync[i]);
		c->live = true;
		pr->ncands++;
	}
	pr->next = ct->promotes;
	ct->promotes = pr;
	ct->pending++;
	ct->inflight[m->part] = true;
	pr->waiting = 1;                /* held until every call is made */
	/* One candidate leaves nothing to choose: no need to ask. */
	if (pr->ncands > 1 && ct->rpc != NULL)
		for (size_t i = 0; i < pr->ncands; i++)
			ct_ask(pr, i);
	ct_promote_answered(pr);
}

void
controller__promote_free_all(struct controller *ct)
{
	while (ct->promotes != NULL) {
		struct ct_promote *pr = ct->promotes;

		ct->promotes = pr->next;
		free(pr);
	}
}
