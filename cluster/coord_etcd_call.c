/* coord_etcd_call.c: one request to etcd as its caller sees it. It goes
 * to the preferred endpoint, then to each other one; when a whole round
 * found nobody answering it waits a backoff (100 ms doubling to 5 s) and
 * goes again, until request_timeout_ms has passed since it began. A txn
 * without compares is never resent once its bytes went out: it may have
 * been applied. Also here: etcd's authentication token and the coord's
 * UP/DOWN state, which is logged when it changes. */
#include "cluster/coord_etcd_int.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "lib/rs_time.h"

static void ce_call_xfer_done(struct ce_xfer *x, CURLcode cc);
static void ce_call_on_retry(int fd, short what, void *arg);

void
coord_etcd__call_init(struct coord_etcd *c, struct ce_call *k,
                      const char *path, enum ce_retry retry, ce_call_fn *fn,
                      void (*free_fn)(struct ce_call *))
{
	k->x.c = c;
	k->x.done = ce_call_xfer_done;
	rs_buf_init(&k->x.resp, CE_BODY_MAX);
	k->path = path;
	k->retry = retry;
	k->state = CE_CALL_IDLE;
	k->fn = fn;
	k->free_fn = free_fn;
	k->retry_ev = coord_etcd__timer_new(c, ce_call_on_retry, k);
	k->prev = NULL;
	k->next = c->calls;
	if (c->calls != NULL)
		c->calls->prev = k;
	c->calls = k;
}

void
coord_etcd__call_free(struct ce_call *k)
{
	struct coord_etcd *c = k->x.c;

	if (k->prev != NULL)
		k->prev->next = k->next;
	else
		c->calls = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	if (c->auth == k)
		c->auth = NULL;
	coord_etcd__xfer_stop(&k->x);
	rs_buf_free(&k->x.resp);
	event_free(k->retry_ev);
	if (k->noauth && k->body != NULL)     /* it holds the password */
		explicit_bzero(k->body, strlen(k->body));
	free(k->body);
	k->free_fn(k);
}

/* ---- state ---- */

void
coord_etcd__set_up(struct coord_etcd *c, size_t ep)
{
	c->cur = ep;
	if (c->state == COORD_UP && c->state_seen)
		return;
	c->state = COORD_UP;
	c->state_seen = true;
	rs_log(RS_LOG_INFO, "coord.etcd_up", "endpoint=%s", c->eps[ep]);
}

void
coord_etcd__set_down(struct coord_etcd *c, const char *why)
{
	char v[160];

	if (c->state == COORD_DOWN && c->state_seen)
		return;
	c->state = COORD_DOWN;
	c->state_seen = true;
	rs_log(RS_LOG_WARN, "coord.etcd_down", "endpoints=%zu reason=%s",
	       c->neps, rs_log_val(v, sizeof(v), why, strlen(why)));
}

void
coord_etcd__endpoint_failed(struct coord_etcd *c, size_t ep)
{
	if (c->cur == ep)
		c->cur = (ep + 1) % c->neps;
}

unsigned
coord_etcd__backoff_next(unsigned *backoff_ms)
{
	unsigned d = *backoff_ms < CE_BACKOFF_MIN_MS ? CE_BACKOFF_MIN_MS
	                                              : *backoff_ms;

	*backoff_ms = d * 2 < CE_BACKOFF_MAX_MS ? d * 2 : CE_BACKOFF_MAX_MS;
	return d;
}

/* ---- attempts ---- */

static void
ce_call_complete(struct ce_call *k, int rc, const struct rs_err *err,
                 json_t *res)
{
	k->state = CE_CALL_IDLE;
	k->fn(k, rc, err, res);
}

static int
ce_call_attempt(struct ce_call *k, struct rs_err *err)
{
	struct coord_etcd *c = k->x.c;

	if (!k->noauth && c->user != NULL && c->token == NULL) {
		k->state = CE_CALL_AUTH;
		return coord_etcd__auth_need(c, err);
	}
	k->token_gen = c->token_gen;
	if (coord_etcd__xfer_start(&k->x, k->ep, k->path, k->body,
	                           k->noauth ? CE_XFER_NOAUTH : 0, err) != 0)
		return -1;
	k->state = CE_CALL_RUNNING;
	return 0;
}

/* An attempt from the loop: a failure to even start ends the call. */
static void
ce_call_attempt_async(struct ce_call *k)
{
	struct rs_err err;

	rs_err_clear(&err);
	if (ce_call_attempt(k, &err) != 0)
		ce_call_complete(k, err.code, &err, NULL);
}

int
coord_etcd__call_start(struct ce_call *k, struct rs_err *err)
{
	struct coord_etcd *c = k->x.c;

	k->start_ms = rs_mono_ms();
	k->ep = c->cur;
	k->tried = 0;
	k->backoff_ms = 0;
	k->reauthed = false;
	k->resent = false;
	return ce_call_attempt(k, err);
}

static void
ce_call_on_retry(int fd, short what, void *arg)
{
	struct ce_call *k = arg;
	struct coord_etcd *c = k->x.c;

	(void)fd;
	(void)what;
	coord_etcd__enter(c);
	k->ep = c->cur;
	k->tried = 0;
	ce_call_attempt_async(k);
	coord_etcd__leave(c);
}

/* The endpoint did not answer (or answered as no etcd would). */
static void ce_call_failed(struct ce_call *k, bool sent, const char *fmt,
                           ...) RS_PRINTF(3, 4);

static void
ce_call_failed(struct ce_call *k, bool sent, const char *fmt, ...)
{
	struct coord_etcd *c = k->x.c;
	struct rs_err err;
	char why[200];
	uint64_t spent;
	unsigned delay;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	coord_etcd__endpoint_failed(c, k->ep);
	if (sent && k->retry == CE_RETRY_UNSENT) {
		rs_err_set(&err, RS_EUNAVAIL, "etcd %s %s: outcome unknown: %s",
		           c->eps[k->ep], k->path, why);
		ce_call_complete(k, err.code, &err, NULL);
		return;
	}
	k->resent |= sent;
	if (++k->tried < c->neps) {
		k->ep = (k->ep + 1) % c->neps;
		ce_call_attempt_async(k);
		return;
	}
	coord_etcd__set_down(c, why);
	spent = rs_mono_ms() - k->start_ms;
	if (spent >= c->timeout_ms) {
		rs_err_set(&err, RS_EUNAVAIL, "etcd %s: no endpoint answered: %s",
		           k->path, why);
		ce_call_complete(k, err.code, &err, NULL);
		return;
	}
	delay = coord_etcd__backoff_next(&k->backoff_ms);
	if (delay > c->timeout_ms - spent)
		delay = (unsigned)(c->timeout_ms - spent);
	k->state = CE_CALL_BACKOFF;
	coord_etcd__timer_arm(k->retry_ev, delay);
}

/* etcd answered with a gRPC status. */
static void
ce_call_etcd_error(struct ce_call *k, int code, const char *msg)
{
	struct coord_etcd *c = k->x.c;
	struct rs_err err;
	int rc;

	if (code == CE_GRPC_UNAVAILABLE) {      /* e.g. no leader here */
		ce_call_failed(k, true, "%s", msg);
		return;
	}
	coord_etcd__set_up(c, k->ep);
	if (code == CE_GRPC_UNAUTHENTICATED && !k->noauth &&
	    c->user != NULL && !k->reauthed) {
		/* The token expired (etcd forgets idle ones): get another. */
		k->reauthed = true;
		coord_etcd__auth_stale(c, k->token_gen);
		ce_call_attempt_async(k);
		return;
	}
	rc = coord_etcd__grpc_rc(code, msg);
	rs_err_set(&err, rc, "etcd %s: %s", k->path, msg);
	ce_call_complete(k, rc, &err, NULL);
}

/* The answer of a streaming method ({"result": …}) is its result. */
static json_t *
ce_call_result(json_t *root)
{
	json_t *r = json_object_get(root, "result");

	return json_is_object(r) ? r : root;
}

static void
ce_call_xfer_done(struct ce_xfer *x, CURLcode cc)
{
	struct ce_call *k = (struct ce_call *)x;
	struct rs_err err;
	json_error_t jerr;
	const char *msg;
	json_t *root;
	int code;

	if (cc != CURLE_OK && x->overflow) {
		rs_err_set(&err, RS_EIO, "etcd %s: answer over %zu bytes",
		           k->path, x->resp.max);
		ce_call_complete(k, err.code, &err, NULL);
		return;
	}
	if (cc != CURLE_OK) {
		ce_call_failed(k, x->sent, "%s",
		               x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
		return;
	}
	root = json_loadb((const char *)x->resp.data, x->resp.len, 0, &jerr);
	if (root != NULL && coord_etcd__grpc_error(root, &code, &msg)) {
		ce_call_etcd_error(k, code, msg);
	} else if (x->status >= 500) {
		ce_call_failed(k, x->sent, "HTTP %ld", x->status);
	} else if (x->status != 200 || !json_is_object(root)) {
		rs_err_set(&err, RS_EIO, "etcd %s %s: HTTP %ld, %s", k->path,
		           x->c->eps[k->ep], x->status,
		           root == NULL ? jerr.text : "not a JSON object");
		ce_call_complete(k, err.code, &err, NULL);
	} else {
		coord_etcd__set_up(x->c, k->ep);
		ce_call_complete(k, 0, NULL, ce_call_result(root));
	}
	json_decref(root);
}

/* ---- authentication ---- */

void
coord_etcd__auth_stale(struct coord_etcd *c, unsigned gen)
{
	if (c->token != NULL && c->token_gen == gen) {
		free(c->token);
		c->token = NULL;
	}
}

/* Resumes (rc 0) or fails everything that waited for a token. */
static void
ce_auth_wake(struct coord_etcd *c, int rc, const struct rs_err *err)
{
	struct ce_call *k, *next;

	for (k = c->calls; k != NULL && !c->destroyed; k = next) {
		next = k->next;
		if (k->state != CE_CALL_AUTH)
			continue;
		if (rc == 0)
			ce_call_attempt_async(k);
		else
			ce_call_complete(k, rc, err, NULL);
	}
	if (!c->destroyed)
		coord_etcd__watch_auth_done(c, rc);
}

static void
ce_auth_done(struct ce_call *k, int rc, const struct rs_err *err,
             json_t *res)
{
	struct coord_etcd *c = k->x.c;
	const char *token = NULL;
	struct rs_err e;

	rs_err_clear(&e);
	if (rc == 0) {
		token = json_string_value(json_object_get(res, "token"));
		if (token == NULL) {
			rs_err_set(&e, RS_EIO, "etcd: no token in the "
			           "authenticate answer");
			rc = RS_EIO;
		}
	} else if (err != NULL &&
	           strstr(err->msg, "authentication is not enabled") != NULL) {
		token = "";             /* etcd without auth: send none */
		rc = 0;
	} else if (err != NULL) {
		e = *err;
	}
	if (rc == 0) {
		free(c->token);
		c->token = rs_xstrdup(token);
		c->token_gen++;
	}
	coord_etcd__call_free(k);
	ce_auth_wake(c, rc, &e);
}

static void
ce_auth_free(struct ce_call *k)
{
	free(k);
}

int
coord_etcd__auth_need(struct coord_etcd *c, struct rs_err *err)
{
	struct ce_call *k;

	if (c->auth != NULL || c->token != NULL)
		return 0;
	k = rs_xcalloc(1, sizeof(*k));
	coord_etcd__call_init(c, k, "/v3/auth/authenticate", CE_RETRY_SAFE,
	                      ce_auth_done, ce_auth_free);
	k->noauth = true;
	k->body = coord_etcd__dump(json_pack("{s:s, s:s}", "name", c->user,
	                                     "password", c->password));
	c->auth = k;
	if (coord_etcd__call_start(k, err) != 0) {
		coord_etcd__call_free(k);
		return -1;
	}
	return 0;
}
