/* smtp_server.c: the SMTP listener: configuration, admission control,
 * graceful shutdown and teardown (the shared parts through
 * node/core/proto_server.h). The protocol is in smtp_session.c and the
 * command files; recipient and delivery policy in smtp_policy.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "node/core/node_ctx.h"
#include "node/core/proto_server.h"
#include "node/smtp/smtp_int.h"

#define SMTP_MESSAGE_MAX_CAP ((uint64_t)1 << 30) /* held in memory */

static int
smtp_server_config(struct smtp_server *srv, const struct rs_config *c,
                   struct proto_listen *pl, struct rs_err *err)
{
	struct smtp_limits *l = &srv->limits;
	uint64_t v;

	/* RFC 5321 section 4.5.3.1.4: at least 512 octets a line. */
	if (rs_config_get_u64(c, "smtp.max_line", 2048, SMTP_LINE_MIN,
	                      SMTP_LINE_MAX, &v, err) != 0)
		return -1;
	l->max_line = (size_t)v;
	/* The message is held in memory until the store has it. */
	if (rs_config_get_u64(c, "smtp.max_message_size", (uint64_t)50 << 20, 1024,
	                      SMTP_MESSAGE_MAX_CAP, &l->max_message, err) != 0)
		return -1;
	/* RFC 5321 section 4.5.3.2.7 suggests 5 minutes for commands and
	 * 10 for DATA blocks; one setting serves both. */
	if (proto_server_cfg_timeout(c, "smtp", (uint64_t)300 * 1000,
	                             &l->timeout_ms, err) != 0)
		return -1;
	/* smtp.timeout is per read: a client that drips a byte now and
	 * then would hold a transaction open for ever. This bounds the
	 * whole message, DATA or BDAT; a 50 MB message at 1 Mbit/s takes
	 * under 7 minutes. */
	if (rs_config_get_ms(c, "smtp.data_timeout", (uint64_t)15 * 60 * 1000,
	                     &l->data_timeout_ms, err) != 0)
		return -1;
	if (l->data_timeout_ms < 1000)
		return rs_err_set(err, RS_EINVAL, "smtp.data_timeout: at least "
		                  "1s");
	/* RFC 5321 section 4.5.3.1.8: at least 100 recipients. */
	if (proto_server_cfg_u32(c, "smtp.max_recipients", 1000, 100,
	                         UINT32_MAX, &l->max_recipients, err) != 0 ||
	    proto_server_cfg_u32(c, "smtp.max_errors", 10, 1, UINT32_MAX,
	                         &l->max_errors, err) != 0 ||
	    proto_server_cfg_u32(c, "smtp.max_junk_commands", 100, 1,
	                         UINT32_MAX, &l->max_junk, err) != 0)
		return -1;
	pl->timeout_ms = l->timeout_ms;
	return proto_server_cfg_conns(c, "smtp", 10000, 100, pl, err);
}

int
smtp_server_new(struct node_ctx *n, struct smtp_server **r,
                struct rs_err *err)
{
	struct smtp_server *srv = rs_xcalloc(1, sizeof(*srv));
	struct proto_listen pl = {
		.host = n->bind,
		.port = n->port_base + NODE_PORT_SMTP,
		.proxy_from = n->proxy_from,
	};
	char busy[320];

	srv->node = n;
	/* An empty name would make the banner and Received: malformed. */
	srv->hostname = n->hostname != NULL && n->hostname[0] != '\0'
	                ? n->hostname : "localhost";
	if (smtp_server_config(srv, n->cfg, &pl, err) != 0) {
		free(srv);
		return -1;
	}
	/* RFC 5321 section 3.8: 421 at greeting time. */
	snprintf(busy, sizeof(busy), "421 4.7.0 %s Too many connections\r\n",
	         srv->hostname);
	pl.busy = busy;
	if (proto_server_new(n->base, &smtp_session__ops, srv, &pl, &srv->ps,
	                     err) != 0) {
		free(srv);
		return -1;
	}
	srv->policy = smtp_policy_new(n);
	srv->hooks = &smtp_policy_hooks;
	srv->hooks_ctx = srv->policy;
	rs_log(RS_LOG_INFO, "smtp.listen", "addr=%s:%u max_message_size=%"
	       PRIu64 " timeout_ms=%" PRIu64 " max_connections=%u "
	       "max_connections_per_ip=%u", n->bind, pl.port,
	       srv->limits.max_message, srv->limits.timeout_ms, pl.max_total,
	       pl.max_ip);
	*r = srv;
	return 0;
}

void
smtp_server_shutdown(struct smtp_server *srv, unsigned grace_ms,
                     void (*done)(void *arg), void *arg)
{
	proto_server_shutdown(srv->ps, grace_ms, done, arg);
}

void
smtp_server_free(struct smtp_server **pp)
{
	/* Sessions waiting for the store stay allocated (they hold a
	 * reference) and are freed when the completion runs; the policy
	 * outlives the releases, which call its on_reset. */
	if (*pp != NULL) {
		proto_server_free(&(*pp)->ps);
		smtp_policy_free(&(*pp)->policy);
	}
	RS_FREE(pp);
}

unsigned
smtp_server_sessions(const struct smtp_server *srv)
{
	return proto_server_sessions(srv->ps);
}
