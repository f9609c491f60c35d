/* pop3_server.c: the POP3 listener: configuration, admission control,
 * the per-account maildrop locks, graceful shutdown and teardown (the
 * shared parts through node/core/proto_server.h). The protocol itself is
 * in pop3_session.c and the command files. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cluster/rpc.h"
#include "lib/rs_log.h"
#include "lib/rs_map.h"
#include "lib/rs_mem.h"
#include "node/core/node_ctx.h"
#include "node/core/proto_server.h"
#include "node/pop3/pop3_int.h"

static int
pop3_server_config(struct pop3_server *srv, const struct rs_config *c,
                   struct proto_listen *pl, struct rs_err *err)
{
	/* RFC 1939 section 3 wants the autologout at 10 minutes or more;
	 * shorter values are allowed for tests and hostile networks. */
	if (proto_server_cfg_timeout(c, "pop3", (uint64_t)600 * 1000,
	                             &srv->limits.timeout_ms, err) != 0 ||
	    proto_server_cfg_u32(c, "pop3.max_errors", 20, 1, 1000000,
	                         &srv->limits.max_errors, err) != 0 ||
	    proto_server_cfg_u32(c, "pop3.max_auth_failures", 3, 1, 1000,
	                         &srv->limits.max_auth_failures, err) != 0)
		return -1;
	pl->timeout_ms = srv->limits.timeout_ms;
	return proto_server_cfg_conns(c, "pop3", 10000, 100, pl, err);
}

int
pop3_server_new(struct node_ctx *n, struct pop3_server **r,
                struct rs_err *err)
{
	struct pop3_server *srv = rs_xcalloc(1, sizeof(*srv));
	struct proto_listen pl = {
		.host = n->bind,
		.port = n->port_base + NODE_PORT_POP3,
		.busy = "-ERR [SYS/TEMP] Too many connections\r\n",
		.proxy_from = n->proxy_from,
	};

	srv->node = n;
	if (pop3_server_config(srv, n->cfg, &pl, err) != 0 ||
	    proto_server_new(n->base, &pop3_session__ops, srv, &pl, &srv->ps,
	                     err) != 0) {
		free(srv);
		return -1;
	}
	srv->locks = rs_map_new();
	/* Sessions that clients of other nodes open here (pop3_proxy.c). */
	if (n->rpc != NULL)
		rpc_handle(n->rpc, RPC_METHOD_POP3_SESSION, pop3_proxy__serve,
		           srv);
	rs_log(RS_LOG_INFO, "pop3.listen", "addr=%s:%u timeout_ms=%" PRIu64
	       " max_connections=%u max_connections_per_ip=%u", n->bind,
	       pl.port, srv->limits.timeout_ms, pl.max_total, pl.max_ip);
	*r = srv;
	return 0;
}

int
pop3_server__lock(struct pop3_server *srv, struct pop3_session *s)
{
	char key[sizeof(s->lock_key)];

	/* RFC 1939 section 8 / RFC 2449 section 8.1.1 (IN-USE): one
	 * session per maildrop. The account id is unique in the cluster.
	 * XXX(pop3): the lock is node-local; once sessions are proxied to
	 * the account's primary it must be taken there. */
	snprintf(key, sizeof(key), "%" PRIu64, s->acct.id);
	if (rs_map_get(srv->locks, key) != NULL)
		return RS_ECONFLICT;
	rs_map_put(srv->locks, key, s);
	snprintf(s->lock_key, sizeof(s->lock_key), "%s", key);
	return 0;
}

void
pop3_server__unlock(struct pop3_server *srv, struct pop3_session *s)
{
	if (s->lock_key[0] == '\0')
		return;
	if (rs_map_get(srv->locks, s->lock_key) == s)
		rs_map_del(srv->locks, s->lock_key);
	s->lock_key[0] = '\0';
}

void
pop3_server_shutdown(struct pop3_server *srv, unsigned grace_ms,
                     void (*done)(void *arg), void *arg)
{
	proto_server_shutdown(srv->ps, grace_ms, done, arg);
}

void
pop3_server_free(struct pop3_server **pp)
{
	/* Releasing a session unlocks its maildrop: locks go after. */
	if (*pp != NULL) {
		if ((*pp)->node->rpc != NULL)
			rpc_handle((*pp)->node->rpc, RPC_METHOD_POP3_SESSION,
			           NULL, NULL);
		proto_server_free(&(*pp)->ps);
		rs_map_free(&(*pp)->locks);
	}
	RS_FREE(pp);
}

unsigned
pop3_server_sessions(const struct pop3_server *srv)
{
	return proto_server_sessions(srv->ps);
}

static void
pop3_server_lost_one(void *sess, void *arg)
{
	struct pop3_session *s = sess;
	const uint32_t *part = arg;

	if (s->lock_key[0] == '\0' || s->acct.part != *part ||
	    s->state == POP3_STATE_PROXY)
		return;
	pop3_session__unavailable(s);
}

void
pop3_server_partition_lost(struct pop3_server *srv, uint32_t part)
{
	proto_server_foreach(srv->ps, pop3_server_lost_one, &part);
}
