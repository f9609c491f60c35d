/* imap_proxy.c: IMAP sessions served on the account's primary. The node
 * the client reached checks the password (every node holds the
 * directory); when another node serves the account's partition, it opens
 * a peer stream there (cluster/rpc.h, proto/session.proto) and from then
 * on only relays octets both ways (node/core/bev_pump.h). The primary
 * runs the session as if the client had logged in there: it answers the
 * login itself, so the client sees one server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/auth/auth.h"
#include "node/backend/backend.h"
#include "node/core/bev_pump.h"
#include "node/core/node_ctx.h"
#include "node/imap/imap_int.h"

bool
imap_proxy__needed(const struct imap_session *s, const struct auth_result *r)
{
	return backend_remote(s->srv->node, r->acct);
}

void
imap_proxy__end(struct imap_session *s)
{
	if (s->pump != NULL) {
		bev_pump_free(&s->pump);
		/* The pump had the direct writer's callback; the rest of
		 * the session (its last flush) lets the bufferevent write. */
		proto_conn_plain_writes(&s->conn, s->bev);
	}
	if (s->peer != NULL) {
		bufferevent_free(s->peer);
		s->peer = NULL;
	}
}

static void
imap_proxy_done(void *arg, enum bev_pump_side side, short what)
{
	struct imap_session *s = arg;

	if (side == BEV_PUMP_A) {
		imap_session_close(s, (what & BEV_EVENT_EOF) ? "eof"
		                      : (what & BEV_EVENT_TIMEOUT) ? "timeout"
		                      : "io-error");
		return;
	}
	/* The primary ended (LOGOUT, its autologout, or it went away):
	 * the client gets what it sent, then the connection closes. */
	imap_session__flush_close(s, (what & BEV_EVENT_EOF) ? "proxy-eof"
	                                                    : "proxy-error");
}

/* The login in flight while the stream opens. */
struct imap_proxy_open {
	struct imap_session *s;       /* holds a reference */
	char                 node[64];
};

static void
imap_proxy_unavailable(struct imap_session *s)
{
	imap_reply(s, IMAP_NO, "[UNAVAILABLE] Mailbox temporarily "
	           "unavailable, try again later");
	imap_cmd_finish(s);
}

static void
imap_proxy_opened(void *arg, int rc, const struct rs_err *err,
                  struct bufferevent *bev, const uint8_t *resp, size_t len)
{
	struct imap_proxy_open *o = arg;
	struct imap_session *s = o->s;
	uint64_t ms;

	(void)resp;
	(void)len;
	if (imap_session_closed(s)) {
		if (bev != NULL)
			bufferevent_free(bev);
	} else if (rc != 0) {
		rs_logc(&s->log, RS_LOG_WARN, "imap.proxy_failed", "node=%s "
		        "error=\"%s\"", o->node,
		        err != NULL ? err->msg : rs_err_name(rc));
		imap_proxy_unavailable(s);
	} else {
		struct timeval tv;

		rs_logc(&s->log, RS_LOG_INFO, "imap.proxy", "node=%s", o->node);
		s->peer = bev;
		s->state = IMAP_STATE_AUTH;
		imap_session__cmd_reset(s);    /* the login ends here */
		s->io = IMAP_IO_PROXY;
		/* The primary's session keeps the autologout timer and says
		 * BYE; ours only catches a relay that went silent for good. */
		ms = s->srv->limits.timeout_ms + 60000;
		tv.tv_sec = (time_t)(ms / 1000);
		tv.tv_usec = 0;
		bufferevent_set_timeouts(s->bev, &tv, NULL);
		s->pump = bev_pump_new(s->bev, proto_conn_flush(&s->conn),
		                       s->peer, IMAP_OUT_HIGH,
		                       imap_proxy_done, s);
	}
	imap_session_unref(s);
	free(o);
}

int
imap_proxy__login(struct imap_session *s, const struct auth_result *r,
                  const char *method)
{
	struct backend_login l = {
		.user = r->addr, .acct = r->acct, .client_ip = s->ip,
		.session_id = s->log.sid, .tag = s->cmd.tag, .method = method,
		.plaintext_ok = s->plaintext_ok,
	};
	struct imap_proxy_open *o = rs_xcalloc(1, sizeof(*o));
	struct rs_err err;

	snprintf(s->addr, sizeof(s->addr), "%s", r->addr);
	o->s = s;
	if (backend_open(s->srv->node, RPC_METHOD_IMAP_SESSION, &l,
	                 imap_proxy_opened, o, o->node, &err) != 0) {
		rs_logc(&s->log, RS_LOG_WARN, "imap.proxy_failed", "node=%s "
		        "error=\"%s\"", o->node, err.msg);
		free(o);
		imap_reply(s, IMAP_NO, "[UNAVAILABLE] Mailbox temporarily "
		           "unavailable, try again later");
		return IMAP_RUN_DONE;
	}
	imap_session_ref(s);
	return IMAP_RUN_ASYNC;
}

/* ---- the primary's side ---- */

void
imap_proxy__serve(void *arg, struct rpc_call *call, const uint8_t *p,
                  size_t len)
{
	struct imap_server *srv = arg;
	struct backend_session bs;
	struct bufferevent *bev;
	struct imap_session *s;

	bev = backend_accept(srv->node, call, p, len, &bs);
	if (bev == NULL)
		return;
	s = imap_session__adopt(srv, bev, bs.client_ip, bs.peer,
	                        bs.plaintext_ok);
	if (s == NULL)
		return;
	rs_logc(&s->log, RS_LOG_INFO, "imap.connect", "proxied=yes front=%s",
	        bs.session_id);
	/* The login's answer, with the front end's tag. */
	snprintf(s->cmd.tag, sizeof(s->cmd.tag), "%s", bs.tag);
	if (imap_auth__enter(s, bs.account.addr, bs.account.acct,
	                     bs.method) == IMAP_RUN_ASYNC)
		/* No input until imap_cmd_finish ends the login. */
		imap_session__set_io(s, IMAP_IO_CMD);
	else
		imap_session__cmd_reset(s);
}
