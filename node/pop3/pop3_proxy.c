/* pop3_proxy.c: POP3 sessions served on the account's primary (see
 * node/backend/backend.h). The front end checked the password; the
 * primary opens the maildrop and answers the login ("+OK Logged in" or
 * "-ERR [IN-USE]"), so the maildrop lock is taken where the account
 * lives, for all of the cluster's POP3 clients at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "node/auth/auth.h"
#include "node/backend/backend.h"
#include "node/core/bev_pump.h"
#include "node/core/node_ctx.h"
#include "node/pop3/pop3_int.h"

bool
pop3_proxy__needed(const struct pop3_session *s, const struct auth_result *r)
{
	return backend_remote(s->srv->node, r->acct);
}

void
pop3_proxy__end(struct pop3_session *s)
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
pop3_proxy_done(void *arg, enum bev_pump_side side, short what)
{
	struct pop3_session *s = arg;

	if (side == BEV_PUMP_A) {
		pop3_session__close(s, (what & BEV_EVENT_EOF) ? "eof"
		                       : (what & BEV_EVENT_TIMEOUT) ? "timeout"
		                       : "io-error");
		return;
	}
	pop3_session__flush_close(s, (what & BEV_EVENT_EOF) ? "proxy-eof"
	                                                    : "proxy-error");
}

struct pop3_proxy_open {
	struct pop3_session *s;       /* holds a reference */
	char                 node[64];
};

static void
pop3_proxy_opened(void *arg, int rc, const struct rs_err *err,
                  struct bufferevent *bev, const uint8_t *resp, size_t len)
{
	struct pop3_proxy_open *o = arg;
	struct pop3_session *s = o->s;

	(void)resp;
	(void)len;
	if (s->state != POP3_STATE_WAIT) {
		if (bev != NULL)
			bufferevent_free(bev);
	} else if (rc != 0) {
		rs_logc(&s->log, RS_LOG_WARN, "pop3.proxy_failed", "node=%s "
		        "error=\"%s\"", o->node,
		        err != NULL ? err->msg : rs_err_name(rc));
		pop3_session__set_state(s, POP3_STATE_AUTH);
		pop3_session__printf(s, "-ERR [SYS/TEMP] Mailbox temporarily "
		                     "unavailable\r\n");
		pop3_session__resume(s);
	} else {
		struct timeval tv = {
			(time_t)(s->srv->limits.timeout_ms / 1000 + 60), 0 };

		rs_logc(&s->log, RS_LOG_INFO, "pop3.proxy", "node=%s", o->node);
		s->peer = bev;
		s->state = POP3_STATE_PROXY;
		/* The primary keeps the autologout timer. */
		bufferevent_set_timeouts(s->bev, &tv, NULL);
		s->pump = bev_pump_new(s->bev, proto_conn_flush(&s->conn),
		                       s->peer, POP3_OUT_HIGH,
		                       pop3_proxy_done, s);
	}
	pop3_session__unref(s);
	free(o);
}

int
pop3_proxy__login(struct pop3_session *s, const struct auth_result *r)
{
	struct backend_login l = {
		.user = r->addr, .acct = r->acct, .client_ip = s->ip,
		.session_id = s->log.sid, .tag = "", .method = s->method,
		.plaintext_ok = s->plaintext_ok,
	};
	struct pop3_proxy_open *o = rs_xcalloc(1, sizeof(*o));
	struct rs_err err;

	snprintf(s->addr, sizeof(s->addr), "%s", r->addr);
	o->s = s;
	if (backend_open(s->srv->node, RPC_METHOD_POP3_SESSION, &l,
	                 pop3_proxy_opened, o, o->node, &err) != 0) {
		rs_logc(&s->log, RS_LOG_WARN, "pop3.proxy_failed", "node=%s "
		        "error=\"%s\"", o->node, err.msg);
		free(o);
		s->addr[0] = '\0';
		pop3_session__printf(s, "-ERR [SYS/TEMP] Mailbox temporarily "
		                     "unavailable\r\n");
		return -1;
	}
	pop3_session__ref(s);
	pop3_session__set_state(s, POP3_STATE_WAIT);
	return 0;
}

void
pop3_proxy__serve(void *arg, struct rpc_call *call, const uint8_t *p,
                  size_t len)
{
	struct pop3_server *srv = arg;
	struct backend_session bs;
	struct auth_result ar;
	struct bufferevent *bev;
	struct pop3_session *s;

	bev = backend_accept(srv->node, call, p, len, &bs);
	if (bev == NULL)
		return;
	s = pop3_session__adopt(srv, bev, bs.client_ip, bs.peer,
	                        bs.plaintext_ok);
	if (s == NULL)
		return;
	rs_logc(&s->log, RS_LOG_INFO, "pop3.connect", "proxied=yes front=%s",
	        bs.session_id);
	/* pop3_maildrop__open logs the method: a static string. */
	s->method = strcmp(bs.method, "PLAIN") == 0 ? "PLAIN" : "USER";
	memset(&ar, 0, sizeof(ar));
	snprintf(ar.addr, sizeof(ar.addr), "%s", bs.account.addr);
	ar.acct = bs.account.acct;
	pop3_maildrop__open(s, &ar);
}
