/* backend.c: opening a session on the account's primary (front end) and
 * accepting one (back end); see backend.h. */
#include "node/backend/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "lib/rs_mem.h"
#include "node/core/node_ctx.h"
#include "proto/session.pb-c.h"

bool
backend_remote(const struct node_ctx *n, struct store_acct acct)
{
	return n->cluster != NULL && n->rpc != NULL &&
	       !cluster_serves(n->cluster, acct.part, NULL);
}

int
backend_open(struct node_ctx *n, uint32_t method,
             const struct backend_login *l, rpc_stream_fn *cb, void *arg,
             char *node_r, struct rs_err *err)
{
	Roost__SessionOpen req = ROOST__SESSION_OPEN__INIT;
	const char *id, *host;
	unsigned base;
	uint8_t *buf;
	size_t len;
	int rc;

	snprintf(node_r, 64, "-");
	if (cluster_primary(n->cluster, l->acct.part, &id, &host, &base) != 0)
		return rs_err_set(err, RS_EUNAVAIL, "partition %u has no live "
		                  "primary", l->acct.part);
	snprintf(node_r, 64, "%s", id);
	req.user = (char *)l->user;
	req.partition = l->acct.part;
	req.account = l->acct.id;
	req.epoch = cluster_view_part(cluster_view(n->cluster),
	                              l->acct.part)->rec.epoch;
	req.client_ip = (char *)l->client_ip;
	req.session_id = (char *)l->session_id;
	req.tag = (char *)l->tag;
	req.method = (char *)l->method;
	req.plaintext_ok = l->plaintext_ok;
	len = roost__session_open__get_packed_size(&req);
	buf = rs_xmalloc(len > 0 ? len : 1);
	roost__session_open__pack(&req, buf);
	rc = rpc_stream_open(n->rpc, host, base + NODE_PORT_PEER, method, buf,
	                     len, BACKEND_OPEN_MS, cb, arg, err);
	free(buf);
	return rc;
}

/* 0 when this node may serve the session o asks for. */
static int
backend_check(const struct node_ctx *n, const Roost__SessionOpen *o,
              struct dir_account *da, const char **why_r)
{
	int64_t epoch;

	if (o->partition > STORE_PART_MAX ||
	    !cluster_serves(n->cluster, o->partition, &epoch) ||
	    (o->epoch != 0 && o->epoch != epoch)) {
		*why_r = "not the partition's primary";
		return RS_EUNAVAIL;
	}
	if (dir_account_get(n->dir, o->user, da) != 0 ||
	    da->acct.id != o->account || da->acct.part != o->partition) {
		*why_r = "no such account";
		return RS_ENOTFOUND;
	}
	if (strlen(o->tag) > BACKEND_TAG_MAX ||
	    strlen(o->client_ip) >= NETADDR_TEXT_MAX ||
	    strlen(o->method) >= sizeof(((struct backend_session *)0)->method)) {
		*why_r = "bad session request";
		return RS_EINVAL;
	}
	return 0;
}

struct bufferevent *
backend_accept(struct node_ctx *n, struct rpc_call *call, const uint8_t *p,
               size_t len, struct backend_session *bs)
{
	Roost__SessionOpen *o = roost__session_open__unpack(NULL, len, p);
	Roost__SessionOpenReply rep = ROOST__SESSION_OPEN_REPLY__INIT;
	struct bufferevent *bev;
	const char *why = "bad session request";
	uint8_t buf[128];
	int rc = RS_EINVAL;

	memset(bs, 0, sizeof(*bs));
	if (o == NULL || (rc = backend_check(n, o, &bs->account, &why)) != 0) {
		rpc_reply(call, rc, why, NULL, 0);
		if (o != NULL)
			roost__session_open__free_unpacked(o, NULL);
		explicit_bzero(&bs->account, sizeof(bs->account));
		return NULL;
	}
	/* The back end never needs the hash: the front end checked. */
	explicit_bzero(bs->account.password, sizeof(bs->account.password));
	snprintf(bs->client_ip, sizeof(bs->client_ip), "%s", o->client_ip);
	snprintf(bs->peer, sizeof(bs->peer), "%s/via=%s", o->client_ip,
	         rpc_call_peer(call));
	snprintf(bs->session_id, sizeof(bs->session_id), "%s", o->session_id);
	snprintf(bs->tag, sizeof(bs->tag), "%s", o->tag);
	snprintf(bs->method, sizeof(bs->method), "%s", o->method);
	bs->plaintext_ok = o->plaintext_ok;
	roost__session_open__free_unpacked(o, NULL);
	rep.node_id = (char *)n->node_id;
	bev = rpc_stream_accept(call, buf,
	                        roost__session_open_reply__pack(&rep, buf));
	return bev;
}
