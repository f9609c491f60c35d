/* pop3_auth.c: the AUTHORIZATION state's logins: USER/PASS (RFC 1939
 * section 7) and AUTH PLAIN (RFC 5034, RFC 4616). Passwords are checked
 * by node/auth off the loop; the session waits with reading disabled.
 * Passwords and AUTH payloads are never logged and are wiped after use.
 * The maildrop is opened by pop3_maildrop.c once the check succeeds. */
#include <stdlib.h>
#include <string.h>

#include "lib/rs_base64.h"
#include "lib/rs_mem.h"
#include "node/auth/auth.h"
#include "node/core/node_ctx.h"
#include "node/pop3/pop3_int.h"

/* Decoded SASL PLAIN message: authzid NUL authcid NUL passwd. */
#define POP3_PLAIN_MAX (POP3_SASL_LINE_MAX / 4 * 3)

/* A failed login: RFC 2449 section 8.1.2 [AUTH] (credentials, not a
 * temporary problem); after pop3.max_auth_failures the session ends. */
static void
pop3_auth_failed(struct pop3_session *s, const char *user, size_t ulen,
                 const char *reason)
{
	char v[96];

	s->auth_failures++;
	rs_logc(&s->log, RS_LOG_INFO, "pop3.login_failed", "user=%s "
	        "method=%s reason=%s failures=%u",
	        user != NULL ? rs_log_val(v, sizeof(v), user, ulen) : "-",
	        s->method, reason, s->auth_failures);
	pop3_session__printf(s, "-ERR [AUTH] Authentication failed\r\n");
	if (s->auth_failures >= s->srv->limits.max_auth_failures)
		pop3_session__finish(s, "too-many-auth-failures");
}

/* Completion of auth_check_password; may run after the client left. */
static void
pop3_auth_done(void *arg, int rc, const struct auth_result *r)
{
	struct pop3_session *s = arg;

	if (s->state != POP3_STATE_WAIT) {
		/* Closed, or told to go by a shutdown, meanwhile. */
		pop3_session__unref(s);
		return;
	}
	pop3_session__set_state(s, POP3_STATE_AUTH);
	if (rc == 0 && pop3_proxy__needed(s, r)) {
		/* Served by the account's primary, which answers the login
		 * once the stream is open (pop3_proxy.c). */
		if (pop3_proxy__login(s, r) == 0) {
			RS_FREE(&s->user);
			pop3_session__unref(s);
			return;
		}
	} else if (rc == 0) {
		pop3_maildrop__open(s, r);
	} else if (rc == RS_EPERM) {
		pop3_auth_failed(s, s->user, strlen(s->user),
		                 "bad_credentials");
	} else {
		rs_logc(&s->log, RS_LOG_WARN, "pop3.login_failed", "method=%s "
		        "reason=unavailable error=%s", s->method,
		        rs_err_name(rc));
		pop3_session__printf(s, "-ERR [SYS/TEMP] Authentication "
		                     "temporarily unavailable\r\n");
	}
	RS_FREE(&s->user);
	pop3_session__resume(s);
	pop3_session__unref(s);
}

/* Starts the password check for s->user; the caller wipes pw. */
static void
pop3_auth_start(struct pop3_session *s, const char *pw, size_t pwlen)
{
	struct rs_err err;

	rs_err_clear(&err);
	if (auth_check_password(s->srv->node->auth, s->user, pw, pwlen, s->ip,
	                        pop3_auth_done, s, &err) != 0) {
		/* Empty or oversized: refused like a wrong password. */
		pop3_auth_failed(s, s->user, strlen(s->user), "invalid");
		RS_FREE(&s->user);
		return;
	}
	pop3_session__ref(s);
	pop3_session__set_state(s, POP3_STATE_WAIT);
}

void
pop3_auth__user(struct pop3_session *s, const struct pop3_cmd *c)
{
	/* RFC 1939 section 7: never tell whether the mailbox exists. A
	 * second USER replaces the first. */
	free(s->user);
	s->user = rs_str_dup(c->args[0]);
	pop3_session__ok(s, "Send PASS");
}

void
pop3_auth__pass(struct pop3_session *s, const struct pop3_cmd *c)
{
	if (s->user == NULL) {
		pop3_session__err(s, "No username given (send USER first)");
		return;
	}
	s->method = "USER";
	pop3_auth_start(s, c->rest.p, c->rest.len);
}

/* RFC 4616 section 2: message = [authzid] NUL authcid NUL passwd. */
static void
pop3_auth_plain(struct pop3_session *s, struct rs_str b64)
{
	uint8_t msg[POP3_PLAIN_MAX + 3];
	const uint8_t *nul1, *nul2;
	size_t n = 0, zlen, clen;

	s->method = "PLAIN";
	/* RFC 5034 section 4: an undecodable response fails the AUTH. */
	if (b64.len == 0 || b64.len > POP3_SASL_LINE_MAX ||
	    rs_base64_decode(b64.p, b64.len, msg, &n) != 0) {
		pop3_auth_failed(s, NULL, 0, "malformed");
		goto out;
	}
	nul1 = memchr(msg, '\0', n);
	nul2 = nul1 != NULL ? memchr(nul1 + 1, '\0', n - (size_t)(nul1 + 1 -
	                             msg)) : NULL;
	if (nul2 == NULL ||
	    memchr(nul2 + 1, '\0', n - (size_t)(nul2 + 1 - msg)) != NULL) {
		pop3_auth_failed(s, NULL, 0, "malformed");
		goto out;
	}
	zlen = (size_t)(nul1 - msg);
	clen = (size_t)(nul2 - nul1 - 1);
	if (clen == 0 || clen > POP3_LONG_ARG_MAX) {
		pop3_auth_failed(s, NULL, 0, "malformed");
		goto out;
	}
	/* No proxy authorization: authzid is empty or the same account. */
	if (zlen != 0 && !rs_str_ieq(rs_str_make((const char *)msg, zlen),
	                             rs_str_make((const char *)nul1 + 1,
	                                         clen))) {
		pop3_auth_failed(s, (const char *)nul1 + 1, clen,
		                 "authzid_mismatch");
		goto out;
	}
	free(s->user);
	s->user = rs_xstrndup((const char *)nul1 + 1, clen);
	pop3_auth_start(s, (const char *)nul2 + 1,
	                n - (size_t)(nul2 + 1 - msg));
out:
	explicit_bzero(msg, sizeof(msg));
}

void
pop3_auth__auth(struct pop3_session *s, const struct pop3_cmd *c)
{
	struct rs_str ir;

	if (c->nargs == 0) {
		/* The RFC 1734 mechanism list that older clients ask for. */
		pop3_session__printf(s, "+OK\r\nPLAIN\r\n.\r\n");
		return;
	}
	if (!rs_str_ieq_cstr(c->args[0], "PLAIN")) {
		pop3_session__err(s, "Unsupported authentication mechanism");
		return;
	}
	if (c->nargs == 2) {
		/* RFC 5034 section 4: "=" is an empty initial response. */
		ir = c->args[1];
		if (ir.len == 1 && ir.p[0] == '=')
			ir.len = 0;
		pop3_auth_plain(s, ir);
		return;
	}
	/* RFC 5034 section 4: an empty challenge, "+" and a space. */
	pop3_session__printf(s, "+ \r\n");
	pop3_parser_set_sasl(s->parser);
	pop3_session__set_state(s, POP3_STATE_SASL);
}

void
pop3_auth__sasl(struct pop3_session *s, const struct pop3_cmd *c)
{
	pop3_session__set_state(s, POP3_STATE_AUTH);
	/* RFC 5034 section 4: "*" cancels the exchange with -ERR. */
	if (c->rest.len == 1 && c->rest.p[0] == '*') {
		pop3_session__err(s, "Authentication cancelled");
		return;
	}
	pop3_auth_plain(s, c->rest);
}
