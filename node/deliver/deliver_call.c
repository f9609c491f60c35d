/* deliver_call.c: one group's copies sent to their primary as one
 * Deliver call (proto/deliver.proto), and its reply mapped back onto the
 * group's rcpts; and the AccountInfo call of deliver_account_info. */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/rpc.h"
#include "lib/rs_mem.h"
#include "node/core/node_ctx.h"
#include "node/deliver/deliver_int.h"
#include "proto/deliver.pb-c.h"

static void
deliver_call_done(void *arg, int rc, const struct rs_err *err,
                  const uint8_t *resp, size_t len)
{
	struct deliver_group *g = arg;
	Roost__DeliverReply *rep;

	(void)err;
	if (rc != 0) {
		deliver__group_done(g, rc);
		return;
	}
	rep = roost__deliver_reply__unpack(NULL, len, resp);
	if (rep == NULL || rep->n_results != g->n) {
		if (rep != NULL)
			roost__deliver_reply__free_unpacked(rep, NULL);
		deliver__group_done(g, RS_EIO);
		return;
	}
	for (size_t i = 0; i < g->n; i++) {
		const Roost__DeliverResult *res = rep->results[i];

		g->rcpts[i].rc = res->rc;
		g->rcpts[i].mailbox_id = res->mailbox_id;
		g->rcpts[i].uidvalidity = res->uidvalidity;
		g->rcpts[i].uid = res->uid;
	}
	roost__deliver_reply__free_unpacked(rep, NULL);
	deliver__group_done(g, 0);
}

int
deliver__call(struct deliver_group *g)
{
	struct deliver_job *j = g->job;
	struct node_ctx *n = j->d->node;
	const char *id, *host;
	unsigned base;
	Roost__DeliverRequest req = ROOST__DELIVER_REQUEST__INIT;
	Roost__DeliverRcpt *rs = rs_xcalloc(g->n, sizeof(*rs));
	Roost__DeliverRcpt **rp = rs_xcalloc(g->n,
	                                     sizeof(Roost__DeliverRcpt *));
	uint8_t *buf;
	size_t len;
	struct rs_err err;
	int rc;

	if (cluster_primary(n->cluster, g->rcpts[0].acct.part, &id, &host,
	                    &base) != 0 || strcmp(id, g->node) != 0) {
		free(rs);
		free(rp);
		return -1;
	}
	req.message.data = (uint8_t *)j->msg->data;
	req.message.len = j->msg->len;
	req.internal_date = j->msg->internal_date;
	req.meta.data = (uint8_t *)j->msg->meta;
	req.meta.len = j->msg->meta != NULL ? j->msg->meta_len : 0;
	req.idem.data = (uint8_t *)j->msg->idem;
	req.idem.len = j->msg->idem != NULL ? j->msg->idem_len : 0;
	req.txn_id = j->txn_id;
	for (size_t i = 0; i < g->n; i++) {
		const struct store_rcpt *r = &g->rcpts[i];

		roost__deliver_rcpt__init(&rs[i]);
		rs[i].partition = r->acct.part;
		rs[i].account = r->acct.id;
		rs[i].epoch = g->epochs[i];
		rs[i].mailbox = (char *)(r->mailbox != NULL ? r->mailbox : "");
		rs[i].flags = r->flags;
		rs[i].keywords = (char **)r->keywords;
		rs[i].n_keywords = r->nkeywords;
		rs[i].enforce_quota = r->enforce_quota;
		rs[i].quota = r->quota;
		rs[i].quota_messages = r->quota_messages;
		rp[i] = &rs[i];
	}
	req.rcpts = rp;
	req.n_rcpts = g->n;
	len = roost__deliver_request__get_packed_size(&req);
	buf = rs_xmalloc(len > 0 ? len : 1);
	roost__deliver_request__pack(&req, buf);
	rc = rpc_call(n->rpc, host, base + NODE_PORT_PEER, RPC_METHOD_DELIVER,
	              buf, len, j->d->timeout_ms, deliver_call_done, g, &err);
	free(buf);
	free(rs);
	free(rp);
	return rc;
}

/* ---- account usage ---- */

struct deliver_info {
	deliver_info_fn *cb;
	void            *arg;
};

static void
deliver_info_done(void *arg, int rc, const struct rs_err *err,
                  const uint8_t *resp, size_t len)
{
	struct deliver_info *di = arg;
	struct store_account_info info = { 0 };
	Roost__AccountInfoReply *rep = NULL;

	(void)err;
	if (rc == 0 &&
	    (rep = roost__account_info_reply__unpack(NULL, len, resp)) == NULL)
		rc = RS_EIO;
	if (rc == 0) {
		info.bytes = rep->bytes;
		info.messages = rep->messages;
		info.mailboxes = rep->mailboxes;
		info.exists = true;
		roost__account_info_reply__free_unpacked(rep, NULL);
	}
	di->cb(di->arg, rc == 0 ? 0 : RS_EUNAVAIL, &info);
	free(di);
}

/* ---- account deletion ---- */

struct deliver_del {
	store_done_fn *cb;
	void          *arg;
};

static void
deliver_del_done(void *arg, int rc, const struct rs_err *err,
                 const uint8_t *resp, size_t len)
{
	struct deliver_del *dd = arg;

	(void)err;
	(void)resp;
	(void)len;
	dd->cb(dd->arg, rc == 0 ? 0 : rc == RS_ETIMEDOUT ? RS_EUNAVAIL : rc);
	free(dd);
}

/* Calls method (an AccountInfoRequest for a) on a's primary. */
static int
deliver_account_call(struct deliver *d, struct store_acct a, uint32_t method,
                     rpc_done_fn *done, void *ctx, struct rs_err *err)
{
	struct node_ctx *n = d->node;
	Roost__AccountInfoRequest req = ROOST__ACCOUNT_INFO_REQUEST__INIT;
	const char *id, *host;
	unsigned base;
	uint8_t buf[32];

	if (cluster_primary(n->cluster, a.part, &id, &host, &base) != 0)
		return rs_err_set(err, RS_EUNAVAIL, "partition %u has no live "
		                  "primary", a.part);
	req.partition = a.part;
	req.account = a.id;
	return rpc_call(n->rpc, host, base + NODE_PORT_PEER, method, buf,
	                roost__account_info_request__pack(&req, buf),
	                d->timeout_ms, done, ctx, err);
}

int
deliver_account_delete(struct deliver *d, struct store_acct a,
                       store_done_fn *cb, void *arg, struct rs_err *err)
{
	struct node_ctx *n = d->node;
	struct deliver_del *dd;

	if (n->cluster == NULL || cluster_serves(n->cluster, a.part, NULL))
		return store_account_delete(n->store, a, n->exec, cb, arg, err);
	dd = rs_xcalloc(1, sizeof(*dd));
	dd->cb = cb;
	dd->arg = arg;
	if (deliver_account_call(d, a, RPC_METHOD_ACCOUNT_DELETE,
	                         deliver_del_done, dd, err) != 0) {
		free(dd);
		return -1;
	}
	return 0;
}

int
deliver_account_info(struct deliver *d, struct store_acct a,
                     deliver_info_fn *cb, void *arg, struct rs_err *err)
{
	struct node_ctx *n = d->node;
	struct deliver_info *di;

	if (n->cluster == NULL || cluster_serves(n->cluster, a.part, NULL)) {
		struct store_account_info info;

		if (store_account_get(n->store, a, &info, err) != 0)
			return -1;
		cb(arg, 0, &info);
		return 0;
	}
	di = rs_xcalloc(1, sizeof(*di));
	di->cb = cb;
	di->arg = arg;
	if (deliver_account_call(d, a, RPC_METHOD_ACCOUNT_INFO,
	                         deliver_info_done, di, err) != 0) {
		free(di);
		return -1;
	}
	return 0;
}
