/* imap_auth.c: the not-authenticated state's logins: LOGIN (RFC 9051
 * 6.2.3) and AUTHENTICATE PLAIN (RFC 9051 6.2.2, RFC 4616, RFC 4959
 * SASL-IR). Passwords are checked by node/auth off the loop while the
 * session reads nothing. Passwords and SASL payloads are never logged;
 * the parser is wiped after each attempt. */
#include <stdlib.h>
#include <string.h>

#include "lib/rs_base64.h"
#include "lib/rs_mem.h"
#include "node/auth/auth.h"
#include "node/core/node_ctx.h"
#include "node/dir/dir.h"
#include "node/imap/imap_int.h"

#define IMAP_SASL_B64_MAX  2048                     /* one response line */
#define IMAP_PLAIN_MAX     (IMAP_SASL_B64_MAX / 4 * 3)
#define IMAP_USER_MAX      320

/* The login in flight: what the completion needs. */
struct imap_auth_state {
	const char *method;           /* "LOGIN" or "PLAIN": static */
	char        user[IMAP_USER_MAX + 1];
};

/* RFC 5530 [AUTHENTICATIONFAILED]; after imap.max_auth_failures, BYE. */
static void
imap_auth_failed(struct imap_session *s, const char *user, size_t ulen,
                 const char *method, const char *reason)
{
	char v[96];

	s->auth_failures++;
	rs_logc(&s->log, RS_LOG_INFO, "imap.login_failed", "user=%s "
	        "method=%s reason=%s failures=%u",
	        user != NULL ? rs_log_val(v, sizeof(v), user, ulen) : "-",
	        method, reason, s->auth_failures);
	imap_reply(s, IMAP_NO, "[AUTHENTICATIONFAILED] Authentication failed");
	if (s->auth_failures >= s->srv->limits.max_auth_failures)
		imap_session_bye(s, "too-many-auth-failures",
		                 "Too many authentication failures");
}

/* The account's state exists: AUTH state and the tagged OK. */
static void
imap_auth_entered(struct imap_session *s, const char *method)
{
	struct dir_account da;
	struct evbuffer *caps;
	char v[96];

	memset(&s->quota, 0, sizeof(s->quota));
	if (dir_account_get(s->srv->node->dir, s->addr, &da) == 0)
		s->quota.bytes = da.quota;
	explicit_bzero(da.password, sizeof(da.password));
	s->state = IMAP_STATE_AUTH;
	rs_logc(&s->log, RS_LOG_INFO, "imap.login", "user=%s method=%s",
	        rs_log_val(v, sizeof(v), s->addr, strlen(s->addr)), method);
	/* RFC 9051 6.2.3: the capabilities may change after login. */
	caps = evbuffer_new();
	if (caps == NULL) {
		imap_reply(s, IMAP_OK, "Logged in");
		return;
	}
	imap_misc__capability(s, caps);
	evbuffer_add(caps, "", 1);
	imap_reply(s, IMAP_OK, "[%s] Logged in",
	           (const char *)evbuffer_pullup(caps, -1));
	evbuffer_free(caps);
}

/* A login waiting for its account's state to be created. */
struct imap_auth_ensure {
	struct imap_session *s;
	char                 method[32];
};

static void
imap_auth_ensured(void *arg, int rc)
{
	struct imap_auth_ensure *e = arg;
	struct imap_session *s = e->s;

	if (!imap_session_closed(s)) {
		if (rc == 0) {
			imap_auth_entered(s, e->method);
		} else {
			rs_logc(&s->log, RS_LOG_WARN, "imap.login_failed",
			        "method=%s reason=unavailable error=%s", e->method,
			        rs_err_name(rc));
			imap_reply(s, IMAP_NO, "[UNAVAILABLE] Mailbox temporarily "
			           "unavailable");
		}
		imap_cmd_finish(s);
	}
	imap_session_unref(s);
	free(e);
}

int
imap_auth__enter(struct imap_session *s, const char *addr,
                 struct store_acct acct, const char *method)
{
	struct store_account_info ai;
	struct imap_auth_ensure *e;
	struct rs_err err;

	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	s->acct = acct;
	/* A never-used account's mailboxes get their state (and with it a
	 * UIDVALIDITY) before the client can select one: otherwise SELECT
	 * shows UIDVALIDITY 0 and the first delivery changes it under the
	 * session, whose view then misses that message. */
	if (store_account_get(imap_store(s), acct, &ai, NULL) == 0 &&
	    ai.exists) {
		imap_auth_entered(s, method);
		return IMAP_RUN_DONE;
	}
	e = rs_xcalloc(1, sizeof(*e));
	e->s = s;
	snprintf(e->method, sizeof(e->method), "%s", method);
	imap_session_ref(s);
	if (store_account_ensure(imap_store(s), acct, imap_exec(s),
	                         imap_auth_ensured, e, &err) != 0) {
		imap_session_unref(s);
		free(e);
		imap_auth_entered(s, method);
		return IMAP_RUN_DONE;
	}
	return IMAP_RUN_ASYNC;
}

/* Completion of auth_check_password; may run after the client left. */
static void
imap_auth_done(void *arg, int rc, const struct auth_result *r)
{
	struct imap_session *s = arg;
	struct imap_auth_state *st = s->cmd.state;

	if (imap_session_closed(s) || st == NULL) {
		imap_session_unref(s);
		return;
	}
	if (rc == 0 && imap_proxy__needed(s, r)) {
		/* Served by the account's primary: the login's answer comes
		 * from there (imap_proxy.c); this command ends with the
		 * stream's opening. */
		if (imap_proxy__login(s, r, st->method) == IMAP_RUN_ASYNC) {
			imap_session_unref(s);
			return;
		}
	} else if (rc == 0) {
		if (imap_auth__enter(s, r->addr, r->acct, st->method) ==
		    IMAP_RUN_ASYNC) {
			imap_session_unref(s);
			return;
		}
	} else if (rc == RS_EPERM) {
		imap_auth_failed(s, st->user, strlen(st->user), st->method,
		                 "bad_credentials");
	} else {
		rs_logc(&s->log, RS_LOG_WARN, "imap.login_failed", "method=%s "
		        "reason=unavailable error=%s", st->method,
		        rs_err_name(rc));
		imap_reply(s, IMAP_NO, "[UNAVAILABLE] Authentication "
		           "temporarily unavailable");
	}
	imap_cmd_finish(s);
	imap_session_unref(s);
}

/* Starts the password check; the caller wipes pw. IMAP_RUN_*. */
static int
imap_auth_start(struct imap_session *s, const char *method, const char *user,
                size_t ulen, const char *pw, size_t pwlen)
{
	struct imap_auth_state *st;
	struct rs_err err;

	if (ulen == 0 || ulen > IMAP_USER_MAX || memchr(user, '\0', ulen)) {
		imap_auth_failed(s, user, ulen, method, "invalid");
		return IMAP_RUN_DONE;
	}
	st = rs_xcalloc(1, sizeof(*st));
	st->method = method;
	memcpy(st->user, user, ulen);
	rs_err_clear(&err);
	if (auth_check_password(s->srv->node->auth, st->user, pw, pwlen,
	                        s->ip, imap_auth_done, s, &err) != 0) {
		/* Empty or oversized: refused like a wrong password. */
		imap_auth_failed(s, user, ulen, method, "invalid");
		free(st);
		return IMAP_RUN_DONE;
	}
	free(s->cmd.state);
	s->cmd.state = st;
	imap_session_ref(s);
	return IMAP_RUN_ASYNC;
}

/* RFC 9051 6.2.3 and 7.1: no password in the clear from elsewhere. */
static bool
imap_auth_plaintext_refused(struct imap_session *s)
{
	if (s->plaintext_ok)
		return false;
	imap_reply(s, IMAP_NO, "[PRIVACYREQUIRED] Plaintext authentication "
	           "disallowed on non-secure connections");
	return true;
}

int
imap_auth__login(struct imap_session *s, const struct imap_cmd *cmd)
{
	const struct imap_arg *u = cmd->args, *p;
	int rc;

	if (cmd->nargs != 2 || !imap_arg_is_string(u) ||
	    !imap_arg_is_string(p = imap_arg_next(u))) {
		imap_reply(s, IMAP_BAD, "LOGIN needs a user name and a "
		           "password");
		imap_parser_wipe(s->parser);
		return IMAP_RUN_DONE;
	}
	if (imap_auth_plaintext_refused(s)) {
		imap_parser_wipe(s->parser);
		return IMAP_RUN_DONE;
	}
	rc = imap_auth_start(s, "LOGIN", u->str.p, u->str.len, p->str.p,
	                     p->str.len);
	imap_parser_wipe(s->parser);
	return rc;
}

/* RFC 4616 section 2: message = [authzid] NUL authcid NUL passwd.
 * IMAP_RUN_*. */
static int
imap_auth_plain(struct imap_session *s, struct rs_str b64)
{
	uint8_t msg[IMAP_PLAIN_MAX + 3];
	const uint8_t *nul1, *nul2;
	size_t n = 0, zlen, clen;
	int rc = IMAP_RUN_DONE;

	if (b64.len > IMAP_SASL_B64_MAX ||
	    rs_base64_decode(b64.p, b64.len, msg, &n) != 0) {
		/* RFC 9051 6.2.2: an undecodable response is BAD. */
		imap_reply(s, IMAP_BAD, "Invalid base64 response");
		goto out;
	}
	nul1 = memchr(msg, '\0', n);
	nul2 = nul1 != NULL ? memchr(nul1 + 1, '\0', n - (size_t)(nul1 + 1 -
	                             msg)) : NULL;
	if (nul2 == NULL ||
	    memchr(nul2 + 1, '\0', n - (size_t)(nul2 + 1 - msg)) != NULL) {
		imap_auth_failed(s, NULL, 0, "PLAIN", "malformed");
		goto out;
	}
	zlen = (size_t)(nul1 - msg);
	clen = (size_t)(nul2 - nul1 - 1);
	/* No proxy authorization: authzid is empty or the same account. */
	if (zlen != 0 && !rs_str_ieq(rs_str_make((const char *)msg, zlen),
	                             rs_str_make((const char *)nul1 + 1,
	                                         clen))) {
		imap_auth_failed(s, (const char *)nul1 + 1, clen, "PLAIN",
		                 "authzid_mismatch");
		goto out;
	}
	rc = imap_auth_start(s, "PLAIN", (const char *)nul1 + 1, clen,
	                     (const char *)nul2 + 1,
	                     n - (size_t)(nul2 + 1 - msg));
out:
	explicit_bzero(msg, sizeof(msg));
	return rc;
}

/* The client's response line after "+ ". */
static void
imap_auth_sasl_line(struct imap_session *s, struct rs_str line)
{
	int rc;

	if (line.p == NULL) {
		imap_reply(s, IMAP_BAD, "Response too long");
		rc = IMAP_RUN_DONE;
	} else if (line.len == 1 && line.p[0] == '*') {
		/* RFC 9051 6.2.2: "*" cancels, with BAD. */
		imap_reply(s, IMAP_BAD, "Authentication cancelled");
		rc = IMAP_RUN_DONE;
	} else {
		rc = imap_auth_plain(s, line);
	}
	imap_parser_wipe(s->parser);
	if (rc == IMAP_RUN_DONE)
		imap_cmd_finish(s);
}

int
imap_auth__authenticate(struct imap_session *s, const struct imap_cmd *cmd)
{
	const struct imap_arg *m = cmd->args, *ir;
	int rc;

	if (cmd->nargs < 1 || cmd->nargs > 2 || m->type != IMAP_ARG_ATOM) {
		imap_reply(s, IMAP_BAD, "AUTHENTICATE needs a mechanism");
		imap_parser_wipe(s->parser);
		return IMAP_RUN_DONE;
	}
	if (!imap_arg_is_atom(m, "PLAIN")) {
		imap_reply(s, IMAP_NO, "Unsupported authentication mechanism");
		imap_parser_wipe(s->parser);
		return IMAP_RUN_DONE;
	}
	if (imap_auth_plaintext_refused(s)) {
		imap_parser_wipe(s->parser);
		return IMAP_RUN_DONE;
	}
	if (cmd->nargs == 2) {
		/* RFC 4959 3: SASL-IR; "=" is an empty initial response. */
		ir = imap_arg_next(m);
		if (!imap_arg_is_string(ir)) {
			imap_reply(s, IMAP_BAD, "Invalid initial response");
			imap_parser_wipe(s->parser);
			return IMAP_RUN_DONE;
		}
		if (ir->str.len == 1 && ir->str.p[0] == '=')
			rc = imap_auth_plain(s, rs_str_make("", 0));
		else
			rc = imap_auth_plain(s, ir->str);
		imap_parser_wipe(s->parser);
		return rc;
	}
	/* RFC 4616: PLAIN starts with an empty challenge. */
	imap_continue(s, "");
	imap_cmd_line(s, imap_auth_sasl_line);
	return IMAP_RUN_ASYNC;
}
