/* coord_etcd_watch.c: one HTTP stream per watch: POST /v3/watch with a
 * create request from the last delivered revision + 1; etcd answers
 * with newline-separated JSON objects, first "created", then events.
 * A stream that ends resumes after a backoff (trying the next endpoints
 * first if it never got going); a start revision etcd compacted away
 * becomes a range of the whole prefix handed to reset. Events of one
 * revision go to the callback together. No progress notifications. */
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/coord_etcd_int.h"
#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "lib/rs_time.h"

enum ce_watch_state {
	CE_W_WAIT,          /* the timer will (re)connect, or a token */
	CE_W_STREAM,        /* the stream runs */
	CE_W_RESET,         /* the prefix is being read after a compaction */
};

struct ce_watch {
	struct ce_xfer      x;          /* first: cast from the transfer */
	char               *prefix;     /* owns */
	uint8_t             end[CE_RKEY_MAX];
	size_t              endlen;
	char               *body;       /* owns: the create request */
	coord_watch_fn     *cb;
	coord_reset_fn     *reset;
	void               *arg;
	int64_t             last_rev;   /* delivered up to here */
	enum ce_watch_state state;
	bool                created;    /* etcd confirmed this stream */
	bool                lost;       /* a stream broke; logged once */
	bool                need_reset; /* read the prefix before streaming */
	bool                auth_wait;  /* waits for a token */
	size_t              ep, tried;  /* endpoint, tried in this round */
	unsigned            backoff_ms;
	uint64_t            created_ms; /* when etcd confirmed the stream */
	unsigned            token_gen;
	struct event       *timer;      /* owns: backoff or created deadline */
	struct ce_watch    *next;       /* in c->watches */
};

static void ce_watch_connect(struct ce_watch *w);

/* why: NULL for none. */
static void
ce_watch_log(const struct ce_watch *w, enum rs_log_level lvl,
             const char *event, const char *why)
{
	char p[128], v[160];

	rs_log(lvl, event, "prefix=%s rev=%" PRId64 "%s%s",
	       rs_log_val(p, sizeof(p), w->prefix, strlen(w->prefix)),
	       w->last_rev, why != NULL ? " reason=" : "",
	       why != NULL ? rs_log_val(v, sizeof(v), why, strlen(why)) : "");
}

/* Stops the stream; the timer connects again after delay_ms. */
static void
ce_watch_later(struct ce_watch *w, unsigned delay_ms)
{
	coord_etcd__xfer_stop(&w->x);
	w->state = CE_W_WAIT;
	w->created = false;
	coord_etcd__timer_arm(w->timer, delay_ms);
}

/* The stream ended or etcd refused it. endpoint: this endpoint failed
 * (move on to the next); else the same round goes on after a pause. */
static void
ce_watch_retry(struct ce_watch *w, bool endpoint, const char *why)
{
	struct coord_etcd *c = w->x.c;

	if (w->created) {
		/* An established stream broke (etcd restarted?): resume
		 * from the last revision, soon if it had lived a while; one
		 * that keeps breaking at once backs off further each time. */
		if (!w->lost)
			ce_watch_log(w, RS_LOG_WARN, "coord.etcd_watch_lost",
			             why);
		w->lost = true;
		if (rs_mono_ms() - w->created_ms >= CE_BACKOFF_MAX_MS)
			w->backoff_ms = 0;
		w->tried = 0;
		ce_watch_later(w, coord_etcd__backoff_next(&w->backoff_ms));
		return;
	}
	if (endpoint) {
		coord_etcd__endpoint_failed(c, w->ep);
		if (++w->tried < c->neps) {
			w->ep = (w->ep + 1) % c->neps;
			ce_watch_later(w, 0);
			return;
		}
		coord_etcd__set_down(c, why);
	}
	w->tried = 0;
	w->ep = c->cur;
	ce_watch_later(w, coord_etcd__backoff_next(&w->backoff_ms));
}

/* ---- reset after a compaction ---- */

static void
ce_watch_reset_done(void *arg, int rc, const struct rs_err *err,
                    const struct coord_kv *kvs, size_t n, int64_t rev)
{
	struct ce_watch *w = arg;

	if (rc != 0) {
		w->state = CE_W_WAIT;
		ce_watch_retry(w, false, err != NULL ? err->msg : "range failed");
		return;
	}
	w->need_reset = false;
	w->last_rev = rev;
	ce_watch_log(w, RS_LOG_INFO, "coord.etcd_watch_reset", NULL);
	w->reset(w->arg, kvs, n, rev);
	ce_watch_later(w, 0);
}

static void
ce_watch_reset_start(struct ce_watch *w)
{
	struct rs_err err;

	rs_err_clear(&err);
	w->state = CE_W_RESET;
	if (coord_etcd__range(w->x.c, w->prefix, false, ce_watch_reset_done, w,
	                      &err) != 0) {
		w->state = CE_W_WAIT;
		ce_watch_retry(w, false, err.msg);
	}
}

static void
ce_watch_compacted(struct ce_watch *w, int64_t compact_rev)
{
	coord_etcd__xfer_stop(&w->x);
	evtimer_del(w->timer);
	w->created = false;
	if (w->reset == NULL) {
		/* Nobody can resync: carry on from what etcd still has. */
		ce_watch_log(w, RS_LOG_ERR, "coord.etcd_watch_gap",
		             "compacted, no reset callback");
		w->last_rev = compact_rev - 1;
		ce_watch_later(w, 0);
		return;
	}
	w->need_reset = true;
	ce_watch_reset_start(w);
}

/* ---- the stream's messages ---- */

static int
ce_watch_event(const json_t *j, struct coord_event *ev, struct rs_err *err)
{
	const char *type = json_string_value(json_object_get(j, "type"));

	if (coord_etcd__kv_parse(json_object_get(j, "kv"), &ev->kv, err) != 0)
		return -1;
	/* PUT is the enum's zero value: the gateway leaves it out. */
	ev->type = COORD_EVENT_PUT;
	if (type != NULL && strcmp(type, "DELETE") == 0) {
		ev->type = COORD_EVENT_DELETE;
		free((uint8_t *)ev->kv.value);
		ev->kv.value = NULL;
		ev->kv.len = 0;
	} else if (type != NULL && strcmp(type, "PUT") != 0) {
		coord_etcd__kv_free(&ev->kv);
		return rs_err_set(err, RS_EIO, "etcd watch: event type %s",
		                  type);
	}
	return 0;
}

/* Delivers one answer's events, one callback per revision. */
static void
ce_watch_events(struct ce_watch *w, const json_t *events)
{
	struct coord_etcd *c = w->x.c;
	size_t n = json_array_size(events), got = 0, i = 0;
	struct coord_event *evs = rs_xcalloc(n, sizeof(*evs));
	struct rs_err err;

	rs_err_clear(&err);
	while (got < n && ce_watch_event(json_array_get(events, got),
	                                 &evs[got], &err) == 0)
		got++;
	while (got == n && i < n && !c->destroyed) {
		int64_t rev = evs[i].kv.mod_rev;
		size_t j = i;

		while (j < n && evs[j].kv.mod_rev == rev)
			j++;
		if (rev > w->last_rev) {       /* else seen before a resume */
			w->last_rev = rev;
			w->cb(w->arg, &evs[i], j - i, rev);
		}
		i = j;
	}
	for (i = 0; i < got; i++)
		coord_etcd__kv_free(&evs[i].kv);
	free(evs);
	if (got < n)
		ce_watch_retry(w, true, err.msg);
}

static void
ce_watch_created(struct ce_watch *w)
{
	if (w->created)
		return;
	w->created = true;
	w->created_ms = rs_mono_ms();
	w->tried = 0;
	evtimer_del(w->timer);
	coord_etcd__set_up(w->x.c, w->ep);
	if (w->lost)
		ce_watch_log(w, RS_LOG_INFO, "coord.etcd_watch_resumed", NULL);
	w->lost = false;
}

static void
ce_watch_message(struct ce_watch *w, const json_t *root)
{
	const json_t *res = json_object_get(root, "result");
	const char *msg;
	int64_t compact;
	int code;

	if (root != NULL && coord_etcd__grpc_error(root, &code, &msg)) {
		if (code == CE_GRPC_UNAUTHENTICATED)
			coord_etcd__auth_stale(w->x.c, w->token_gen);
		ce_watch_retry(w, true, msg);
		return;
	}
	if (!json_is_object(res) ||
	    coord_etcd__i64(res, "compact_revision", &compact) != 0) {
		ce_watch_retry(w, true, "etcd watch: malformed answer");
		return;
	}
	if (compact > 0) {
		ce_watch_compacted(w, compact);
		return;
	}
	if (json_is_true(json_object_get(res, "canceled"))) {
		msg = json_string_value(json_object_get(res, "cancel_reason"));
		if (msg == NULL)
			msg = "canceled";
		if (strstr(msg, "Unauthenticated") != NULL)
			coord_etcd__auth_stale(w->x.c, w->token_gen);
		w->created = false;     /* never established */
		ce_watch_retry(w, false, msg);
		return;
	}
	if (json_is_true(json_object_get(res, "created")))
		ce_watch_created(w);
	if (json_array_size(json_object_get(res, "events")) > 0)
		ce_watch_events(w, json_object_get(res, "events"));
}

/* Handles the complete lines received; at the end (final) the rest too. */
static void
ce_watch_lines(struct ce_watch *w, bool final)
{
	struct coord_etcd *c = w->x.c;
	size_t pos = 0;

	while (w->state == CE_W_STREAM && !c->destroyed &&
	       pos < w->x.resp.len) {
		const char *p = (const char *)w->x.resp.data + pos;
		size_t left = w->x.resp.len - pos, n;
		const char *nl = memchr(p, '\n', left);
		json_t *root;

		if (nl == NULL && !final)
			break;
		n = nl != NULL ? (size_t)(nl - p) : left;
		pos += nl != NULL ? n + 1 : n;
		if (strspn(p, " \t\r") >= n)
			continue;               /* an empty line */
		root = json_loadb(p, n, 0, NULL);
		ce_watch_message(w, root);
		json_decref(root);
	}
	/* Nothing restarts the stream from here (reconnects go through the
	 * timer), so resp still holds the bytes pos counted. */
	if (w->state == CE_W_STREAM)
		rs_buf_consume(&w->x.resp, pos);
	else
		rs_buf_reset(&w->x.resp);
}

void
coord_etcd__watch_drain(struct coord_etcd *c)
{
	struct ce_watch *w, *next;

	for (w = c->watches; w != NULL && !c->destroyed; w = next) {
		next = w->next;
		if (w->state == CE_W_STREAM && w->x.resp.len > 0)
			ce_watch_lines(w, false);
	}
}

static void
ce_watch_xfer_done(struct ce_xfer *x, CURLcode cc)
{
	struct ce_watch *w = (struct ce_watch *)x;
	char ended[64];
	const char *why = ended;

	ce_watch_lines(w, true);
	if (w->state != CE_W_STREAM || x->c->destroyed)
		return;
	snprintf(ended, sizeof(ended), "stream ended (HTTP %ld)", x->status);
	if (cc != CURLE_OK)
		why = x->overflow ? "answer over the stream buffer"
		      : x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc);
	ce_watch_retry(w, true, why);
}

/* ---- connecting ---- */

static void
ce_watch_connect(struct ce_watch *w)
{
	struct coord_etcd *c = w->x.c;
	struct rs_err err;
	json_t *req;

	rs_err_clear(&err);
	if (w->need_reset) {
		ce_watch_reset_start(w);
		return;
	}
	if (c->user != NULL && c->token == NULL) {
		w->auth_wait = true;
		if (coord_etcd__auth_need(c, &err) != 0) {
			w->auth_wait = false;
			ce_watch_retry(w, false, err.msg);
		}
		return;
	}
	/* The empty prefix is every key: from "\0" to "\0". */
	req = json_pack("{s:o, s:o, s:o}",
	                "key", w->prefix[0] != '\0'
	                    ? coord_etcd__b64(w->prefix, strlen(w->prefix))
	                    : coord_etcd__b64(w->end, w->endlen),
	                "range_end", coord_etcd__b64(w->end, w->endlen),
	                "start_revision", coord_etcd__i64_new(w->last_rev + 1));
	free(w->body);
	w->body = coord_etcd__dump(json_pack("{s:o}", "create_request", req));
	w->token_gen = c->token_gen;
	w->created = false;
	if (coord_etcd__xfer_start(&w->x, w->ep, "/v3/watch", w->body,
	                           CE_XFER_STREAM, &err) != 0) {
		ce_watch_retry(w, false, err.msg);
		return;
	}
	w->state = CE_W_STREAM;
	/* etcd answers "created" at once; silence means a dead endpoint. */
	coord_etcd__timer_arm(w->timer, c->timeout_ms);
}

static void
ce_watch_on_timer(int fd, short what, void *arg)
{
	struct ce_watch *w = arg;
	struct coord_etcd *c = w->x.c;

	(void)fd;
	(void)what;
	coord_etcd__enter(c);
	if (w->state == CE_W_STREAM && !w->created)
		ce_watch_retry(w, true, "no answer to the watch request");
	else if (w->state == CE_W_WAIT && !w->auth_wait)
		ce_watch_connect(w);
	coord_etcd__leave(c);
}

void
coord_etcd__watch_auth_done(struct coord_etcd *c, int rc)
{
	for (struct ce_watch *w = c->watches; w != NULL; w = w->next) {
		if (!w->auth_wait)
			continue;
		w->auth_wait = false;
		if (rc == 0)
			ce_watch_later(w, 0);
		else
			ce_watch_retry(w, false, "etcd authentication failed");
	}
}

int
coord_etcd__watch(struct coord *cc, const char *prefix, int64_t after_rev,
                  coord_watch_fn *cb, coord_reset_fn *reset, void *arg,
                  struct rs_err *err)
{
	struct coord_etcd *c = (struct coord_etcd *)cc;
	struct ce_watch *w;

	if (strlen(prefix) > COORD_KEY_MAX)
		return rs_err_set(err, RS_ETOOBIG, "prefix over %d bytes",
		                  COORD_KEY_MAX);
	if (after_rev < 0)
		return rs_err_set(err, RS_EINVAL, "negative revision");
	w = rs_xcalloc(1, sizeof(*w));
	w->x.c = c;
	w->x.done = ce_watch_xfer_done;
	rs_buf_init(&w->x.resp, CE_STREAM_MAX);
	w->prefix = rs_xstrdup(prefix);
	w->endlen = coord_etcd__prefix_end(prefix, w->end);
	w->cb = cb;
	w->reset = reset;
	w->arg = arg;
	w->last_rev = after_rev;
	w->ep = c->cur;
	w->timer = coord_etcd__timer_new(c, ce_watch_on_timer, w);
	w->next = c->watches;
	c->watches = w;
	ce_watch_later(w, 0);           /* no I/O from the caller's frame */
	return 0;
}

void
coord_etcd__watch_free_all(struct coord_etcd *c)
{
	while (c->watches != NULL) {
		struct ce_watch *w = c->watches;

		c->watches = w->next;
		coord_etcd__xfer_stop(&w->x);
		rs_buf_free(&w->x.resp);
		event_free(w->timer);
		free(w->body);
		free(w->prefix);
		free(w);
	}
}
