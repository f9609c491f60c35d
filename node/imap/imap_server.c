/* imap_server.c: the IMAP listener: configuration, admission control,
 * graceful shutdown and teardown (the shared parts through
 * node/core/proto_server.h). The protocol itself is in imap_session.c and
 * the command files. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cluster/rpc.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "node/core/node_ctx.h"
#include "node/core/proto_server.h"
#include "node/core/worker.h"
#include "node/imap/imap_int.h"

static int
imap_server_parser_config(struct imap_limits *l, const struct rs_config *c,
                          struct rs_err *err)
{
	uint64_t v = 0;

	imap_parser_default_limits(&l->parser);
	if (rs_config_get_u64(c, "imap.max_line", 64 * 1024, 1024,
	                      16 * 1024 * 1024, &v, err) != 0)
		return -1;
	l->parser.max_line = (size_t)v;
	if (l->parser.max_command < l->parser.max_line)
		l->parser.max_command = l->parser.max_line;
	if (rs_config_get_u64(c, "imap.max_literal", (uint64_t)64 << 20, 1024,
	                      (uint64_t)1 << 32, &v, err) != 0)
		return -1;
	l->parser.max_literal = v;
	/* APPENDLIMIT (RFC 7889): what SMTP would accept, within a literal. */
	if (rs_config_get_u64(c, "smtp.max_message_size", (uint64_t)50 << 20,
	                      1024, UINT64_MAX, &v, err) != 0)
		return -1;
	l->max_message = v < l->parser.max_literal ? v : l->parser.max_literal;
	return 0;
}

static int
imap_server_config(struct imap_server *srv, const struct rs_config *c,
                   struct proto_listen *pl, struct rs_err *err)
{
	/* RFC 9051 section 5.4: the autologout timer is at least 30
	 * minutes; shorter values are allowed for tests. */
	if (proto_server_cfg_timeout(c, "imap", (uint64_t)1800 * 1000,
	                             &srv->limits.timeout_ms, err) != 0 ||
	    proto_server_cfg_u32(c, "imap.max_errors", 20, 1, 1000000,
	                         &srv->limits.max_errors, err) != 0 ||
	    proto_server_cfg_u32(c, "imap.max_auth_failures", 3, 1, 1000,
	                         &srv->limits.max_auth_failures, err) != 0 ||
	    proto_server_cfg_u32(c, "imap.search_threads", 2, 1, 2,
	                         &srv->limits.search_threads, err) != 0 ||
	    /* IDLE keeps a connection per client and folder watched. */
	    proto_server_cfg_conns(c, "imap", 20000, 1000, pl, err) != 0)
		return -1;
	pl->timeout_ms = srv->limits.timeout_ms;
	return imap_server_parser_config(&srv->limits, c, err);
}

int
imap_server_new(struct node_ctx *n, struct imap_server **r,
                struct rs_err *err)
{
	struct imap_server *srv = rs_xcalloc(1, sizeof(*srv));
	struct proto_listen pl = {
		.host = n->bind,
		.port = n->port_base + NODE_PORT_IMAP,
		/* RFC 9051 7.1.5: BYE as the greeting refuses it. */
		.busy = "* BYE [UNAVAILABLE] Too many connections\r\n",
		.proxy_from = n->proxy_from,
	};

	srv->node = n;
	if (imap_server_config(srv, n->cfg, &pl, err) != 0 ||
	    proto_server_new(n->base, &imap_session__ops, srv, &pl, &srv->ps,
	                     err) != 0) {
		free(srv);
		return -1;
	}
	srv->search_pool = worker_pool_new(srv->limits.search_threads);
	/* Sessions that clients of other nodes open here (imap_proxy.c). */
	if (n->rpc != NULL)
		rpc_handle(n->rpc, RPC_METHOD_IMAP_SESSION, imap_proxy__serve,
		           srv);
	rs_log(RS_LOG_INFO, "imap.listen", "addr=%s:%u timeout_ms=%" PRIu64
	       " max_connections=%u max_connections_per_ip=%u max_line=%zu "
	       "max_literal=%" PRIu64, n->bind, pl.port, srv->limits.timeout_ms,
	       pl.max_total, pl.max_ip, srv->limits.parser.max_line,
	       srv->limits.parser.max_literal);
	*r = srv;
	return 0;
}

void
imap_server_shutdown(struct imap_server *srv, unsigned grace_ms,
                     void (*done)(void *arg), void *arg)
{
	proto_server_shutdown(srv->ps, grace_ms, done, arg);
}

void
imap_server_free(struct imap_server **pp)
{
	if (*pp != NULL) {
		if ((*pp)->node->rpc != NULL)
			rpc_handle((*pp)->node->rpc, RPC_METHOD_IMAP_SESSION,
			           NULL, NULL);
		/* Searches end; their completions, posted to the loop, run
		 * (and release their sessions' refs) while the server is. */
		worker_pool_free(&(*pp)->search_pool);
		event_base_loop((*pp)->node->base, EVLOOP_NONBLOCK);
		proto_server_free(&(*pp)->ps);
	}
	RS_FREE(pp);
}

unsigned
imap_server_sessions(const struct imap_server *srv)
{
	return proto_server_sessions(srv->ps);
}

static void
imap_server_lost_one(void *sess, void *arg)
{
	struct imap_session *s = sess;
	const uint32_t *part = arg;

	/* A relayed session's primary ends it (and the relay follows). */
	if ((s->state & IMAP_STATES_AUTHED) == 0 || s->io == IMAP_IO_PROXY ||
	    s->acct.part != *part)
		return;
	imap_session__unavailable(s);
}

void
imap_server_partition_lost(struct imap_server *srv, uint32_t part)
{
	proto_server_foreach(srv->ps, imap_server_lost_one, &part);
}
