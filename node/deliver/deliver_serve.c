/* deliver_serve.c: the primary's side of Deliver and AccountInfo. A copy
 * is stored only when this node serves the recipient's partition at the
 * epoch the sender routed by (a stale sender gets RS_EUNAVAIL for it and
 * retries after its view caught up); the others are stored in one
 * store_deliver, so the request is one atomic batch here. */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/rpc.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "node/core/node_ctx.h"
#include "node/deliver/deliver_int.h"
#include "proto/deliver.pb-c.h"

/* One Deliver request being stored. */
struct deliver_serve {
	struct rpc_call       *call;
	Roost__DeliverRequest *req;      /* owns (unpacked) */
	struct store_message   msg;      /* borrows req */
	struct store_rcpt     *rcpts;    /* owns [req->n_rcpts] */
	size_t                *idx;      /* owns: stored rcpts -> req index */
	int                   *rc;       /* owns: per req rcpt */
	size_t                 nstore;
};

static void
deliver_serve_free(struct deliver_serve *s)
{
	roost__deliver_request__free_unpacked(s->req, NULL);
	free(s->rcpts);
	free(s->idx);
	free(s->rc);
	free(s);
}

static void
deliver_serve_reply(struct deliver_serve *s)
{
	size_t n = s->req->n_rcpts, len;
	Roost__DeliverReply rep = ROOST__DELIVER_REPLY__INIT;
	Roost__DeliverResult *res = rs_xcalloc(n, sizeof(*res));
	Roost__DeliverResult **rp = rs_xcalloc(n,
	                                       sizeof(Roost__DeliverResult *));
	uint8_t *buf;

	for (size_t i = 0; i < n; i++) {
		roost__deliver_result__init(&res[i]);
		res[i].rc = s->rc[i];
		rp[i] = &res[i];
	}
	for (size_t k = 0; k < s->nstore; k++) {
		Roost__DeliverResult *r = &res[s->idx[k]];

		r->rc = s->rcpts[k].rc;
		r->mailbox_id = s->rcpts[k].mailbox_id;
		r->uidvalidity = s->rcpts[k].uidvalidity;
		r->uid = s->rcpts[k].uid;
	}
	rep.results = rp;
	rep.n_results = n;
	len = roost__deliver_reply__get_packed_size(&rep);
	buf = rs_xmalloc(len > 0 ? len : 1);
	roost__deliver_reply__pack(&rep, buf);
	rpc_reply(s->call, 0, NULL, buf, len);
	free(buf);
	free(res);
	free(rp);
	deliver_serve_free(s);
}

static void
deliver_serve_stored(void *arg, int rc)
{
	struct deliver_serve *s = arg;

	if (rc != 0) {
		rs_log(RS_LOG_ERR, "deliver.store_failed", "id=%s error=%s",
		       s->req->txn_id, rs_err_name(rc));
		rpc_reply(s->call, rc, "store failed", NULL, 0);
		deliver_serve_free(s);
		return;
	}
	deliver_serve_reply(s);
}

/* Whether this node may store a copy for r now. */
static bool
deliver_serve_ours(const struct node_ctx *n, const Roost__DeliverRcpt *r)
{
	int64_t epoch;

	if (r->partition > STORE_PART_MAX ||
	    !cluster_serves(n->cluster, r->partition, &epoch))
		return false;
	return r->epoch == 0 || r->epoch == epoch;
}

static void
deliver_serve_deliver(void *arg, struct rpc_call *call, const uint8_t *p,
                      size_t len)
{
	struct deliver *d = arg;
	struct node_ctx *n = d->node;
	struct deliver_serve *s;
	Roost__DeliverRequest *req;
	struct rs_err err;

	req = roost__deliver_request__unpack(NULL, len, p);
	if (req == NULL || req->n_rcpts == 0 ||
	    req->idem.len > STORE_IDEM_MAX) {
		if (req != NULL)
			roost__deliver_request__free_unpacked(req, NULL);
		rpc_reply(call, RS_EINVAL, "bad Deliver request", NULL, 0);
		return;
	}
	s = rs_xcalloc(1, sizeof(*s));
	s->call = call;
	s->req = req;
	s->rcpts = rs_xcalloc(req->n_rcpts, sizeof(*s->rcpts));
	s->idx = rs_xcalloc(req->n_rcpts, sizeof(*s->idx));
	s->rc = rs_xcalloc(req->n_rcpts, sizeof(*s->rc));
	s->msg.data = req->message.data;
	s->msg.len = req->message.len;
	s->msg.internal_date = req->internal_date;
	s->msg.meta = req->meta.len > 0 ? req->meta.data : NULL;
	s->msg.meta_len = req->meta.len;
	s->msg.idem = req->idem.len > 0 ? req->idem.data : NULL;
	s->msg.idem_len = req->idem.len;
	for (size_t i = 0; i < req->n_rcpts; i++) {
		const Roost__DeliverRcpt *r = req->rcpts[i];
		struct store_rcpt *sr = &s->rcpts[s->nstore];

		if (!deliver_serve_ours(n, r)) {
			s->rc[i] = RS_EUNAVAIL;
			continue;
		}
		sr->acct.part = r->partition;
		sr->acct.id = r->account;
		sr->mailbox = r->mailbox[0] != '\0' ? r->mailbox : NULL;
		sr->flags = r->flags;
		sr->keywords = (const char *const *)r->keywords;
		sr->nkeywords = r->n_keywords;
		sr->enforce_quota = r->enforce_quota;
		sr->quota = r->quota;
		sr->quota_messages = r->quota_messages;
		s->idx[s->nstore++] = i;
	}
	if (s->nstore == 0) {
		deliver_serve_reply(s);
		return;
	}
	if (store_deliver(n->store, &s->msg, s->rcpts, s->nstore, n->exec,
	                  deliver_serve_stored, s, &err) != 0) {
		rpc_reply(call, err.code ? err.code : RS_EIO, err.msg, NULL, 0);
		deliver_serve_free(s);
	}
}

/* The account an AccountInfoRequest names, if this node serves it; else
 * the call is answered and -1 returned. */
static int
deliver_serve_acct(const struct node_ctx *n, struct rpc_call *call,
                   const uint8_t *p, size_t len, struct store_acct *a)
{
	Roost__AccountInfoRequest *req;

	req = roost__account_info_request__unpack(NULL, len, p);
	if (req == NULL) {
		rpc_reply(call, RS_EINVAL, "bad account request", NULL, 0);
		return -1;
	}
	a->part = req->partition;
	a->id = req->account;
	roost__account_info_request__free_unpacked(req, NULL);
	if (a->part > STORE_PART_MAX || !cluster_serves(n->cluster, a->part,
	                                                NULL)) {
		rpc_reply(call, RS_EUNAVAIL, "not the partition's primary",
		          NULL, 0);
		return -1;
	}
	return 0;
}

static void
deliver_serve_info(void *arg, struct rpc_call *call, const uint8_t *p,
                   size_t len)
{
	struct deliver *d = arg;
	Roost__AccountInfoReply rep = ROOST__ACCOUNT_INFO_REPLY__INIT;
	struct store_account_info info;
	struct store_acct a;
	struct rs_err err;
	uint8_t buf[64];

	if (deliver_serve_acct(d->node, call, p, len, &a) != 0)
		return;
	if (store_account_get(d->node->store, a, &info, &err) != 0) {
		rpc_reply(call, err.code, err.msg, NULL, 0);
		return;
	}
	rep.bytes = info.bytes;
	rep.messages = info.messages;
	rep.mailboxes = info.mailboxes;
	rpc_reply(call, 0, NULL, buf, roost__account_info_reply__pack(&rep,
	                                                              buf));
}

static void
deliver_serve_deleted(void *arg, int rc)
{
	rpc_reply(arg, rc, rc != 0 ? "delete failed" : NULL, NULL, 0);
}

static void
deliver_serve_delete(void *arg, struct rpc_call *call, const uint8_t *p,
                     size_t len)
{
	struct deliver *d = arg;
	struct node_ctx *n = d->node;
	struct store_acct a;
	struct rs_err err;

	if (deliver_serve_acct(n, call, p, len, &a) != 0)
		return;
	rs_log(RS_LOG_INFO, "deliver.account_delete", "partition=%u "
	       "account=%016llx from=%s", a.part, (unsigned long long)a.id,
	       rpc_call_peer(call));
	if (store_account_delete(n->store, a, n->exec, deliver_serve_deleted,
	                         call, &err) != 0)
		rpc_reply(call, err.code, err.msg, NULL, 0);
}

void
deliver__serve_init(struct deliver *d)
{
	rpc_handle(d->node->rpc, RPC_METHOD_ACCOUNT_DELETE, deliver_serve_delete,
	           d);
	rpc_handle(d->node->rpc, RPC_METHOD_DELIVER, deliver_serve_deliver, d);
	rpc_handle(d->node->rpc, RPC_METHOD_ACCOUNT_INFO, deliver_serve_info,
	           d);
}
