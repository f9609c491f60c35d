/* coord_etcd_http.c: libcurl's multi interface driven by the owner's
 * libevent loop: one event per socket curl asks about, one timer, and
 * curl_multi_socket_action from their callbacks. Finished transfers and
 * streamed data reach their owners after curl returns, never from inside
 * a curl callback (libcurl refuses re-entrant calls, and owners start new
 * requests from their callbacks). Knows nothing of etcd's JSON. */
#include "cluster/coord_etcd_int.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

struct ce_sock {
	struct coord_etcd *c;
	curl_socket_t      fd;
	struct event      *ev;          /* owns */
	struct ce_sock    *prev, *next; /* in c->socks */
};

static pthread_once_t ce_curl_once = PTHREAD_ONCE_INIT;
static CURLcode ce_curl_init_rc;

static void
ce_curl_global_init(void)
{
	ce_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
coord_etcd__enter(struct coord_etcd *c)
{
	c->busy++;
}

/* The coord's memory is released here and only here once destroyed, so
 * that a callback may destroy it while our frames are still running. */
static void
ce_free(struct coord_etcd *c)
{
	while (c->calls != NULL)
		coord_etcd__call_free(c->calls);
	coord_etcd__watch_free_all(c);
	coord_etcd__http_free(c);
	for (size_t i = 0; i < c->neps; i++)
		free(c->eps[i]);
	free(c->eps);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->user);
	if (c->password != NULL)
		explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	free(c->token);
	free(c);
}

bool
coord_etcd__leave(struct coord_etcd *c)
{
	if (--c->busy > 0 || !c->destroyed)
		return false;
	ce_free(c);
	return true;
}

struct event *
coord_etcd__timer_new(struct coord_etcd *c, void (*fn)(int, short, void *),
                      void *arg)
{
	struct event *ev = evtimer_new(c->evb, fn, arg);

	if (ev == NULL)
		abort();                /* libevent fails only without memory */
	return ev;
}

void
coord_etcd__timer_arm(struct event *ev, unsigned ms)
{
	struct timeval tv = { ms / 1000, (long)(ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

/* ---- finished transfers ---- */

/* Records what the owner needs from the easy handle, then drops it. */
static void
ce_xfer_finish(struct ce_xfer *x)
{
	long reqsize = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &reqsize);
	x->sent = reqsize > 0;
	curl_multi_remove_handle(x->c->multi, x->easy);
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
}

/* After curl did I/O: stream data first, then the transfers that ended. */
static void
ce_after(struct coord_etcd *c)
{
	CURLMsg *m;
	int left;

	coord_etcd__watch_drain(c);
	while (!c->destroyed &&
	       (m = curl_multi_info_read(c->multi, &left)) != NULL) {
		char *priv = NULL;
		struct ce_xfer *x;
		CURLcode cc = m->data.result;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		x = (struct ce_xfer *)(void *)priv;
		ce_xfer_finish(x);      /* m is invalid from here */
		x->done(x, cc);
	}
}

static void
ce_on_timer(int fd, short what, void *arg)
{
	struct coord_etcd *c = arg;
	int running;

	(void)fd;
	(void)what;
	coord_etcd__enter(c);
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	ce_after(c);
	coord_etcd__leave(c);
}

static void
ce_on_socket(int fd, short what, void *arg)
{
	struct ce_sock *sk = arg;
	struct coord_etcd *c = sk->c;  /* sk may be freed by socket_action */
	int flags = 0, running;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	coord_etcd__enter(c);
	curl_multi_socket_action(c->multi, fd, flags, &running);
	ce_after(c);
	coord_etcd__leave(c);
}

/* ---- curl's callbacks: they only (re)arm events ---- */

static void
ce_sock_free(struct coord_etcd *c, struct ce_sock *sk)
{
	if (sk->prev != NULL)
		sk->prev->next = sk->next;
	else
		c->socks = sk->next;
	if (sk->next != NULL)
		sk->next->prev = sk->prev;
	event_free(sk->ev);
	free(sk);
}

static int
ce_curl_socket(CURL *e, curl_socket_t fd, int what, void *userp,
               void *sockp)
{
	struct coord_etcd *c = userp;
	struct ce_sock *sk = sockp;
	short evs = EV_PERSIST;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (sk != NULL)
			ce_sock_free(c, sk);
		return 0;
	}
	if (sk == NULL) {
		sk = rs_xcalloc(1, sizeof(*sk));
		sk->c = c;
		sk->fd = fd;
		sk->next = c->socks;
		if (c->socks != NULL)
			c->socks->prev = sk;
		c->socks = sk;
		curl_multi_assign(c->multi, fd, sk);
	} else {
		event_free(sk->ev);
	}
	if (what & CURL_POLL_IN)
		evs |= EV_READ;
	if (what & CURL_POLL_OUT)
		evs |= EV_WRITE;
	sk->ev = event_new(c->evb, fd, evs, ce_on_socket, sk);
	if (sk->ev == NULL)
		abort();                /* libevent fails only without memory */
	event_add(sk->ev, NULL);
	return 0;
}

static int
ce_curl_timer(CURLM *m, long ms, void *userp)
{
	struct coord_etcd *c = userp;

	(void)m;
	if (ms < 0)
		evtimer_del(c->timer);
	else
		coord_etcd__timer_arm(c->timer, (unsigned)ms);
	return 0;
}

static size_t
ce_curl_write(char *p, size_t size, size_t n, void *arg)
{
	struct ce_xfer *x = arg;

	/* Returning less than given aborts the transfer (CURLE_WRITE_ERROR). */
	if (rs_buf_append(&x->resp, p, size * n) != 0) {
		x->overflow = true;
		return 0;
	}
	return size * n;
}

int
coord_etcd__http_init(struct coord_etcd *c, struct rs_err *err)
{
	pthread_once(&ce_curl_once, ce_curl_global_init);
	if (ce_curl_init_rc != CURLE_OK)
		return rs_err_set(err, RS_EIO, "curl_global_init: %s",
		                  curl_easy_strerror(ce_curl_init_rc));
	c->multi = curl_multi_init();
	if (c->multi == NULL)
		return rs_err_set(err, RS_EIO, "curl_multi_init failed");
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, ce_curl_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, ce_curl_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	c->timer = coord_etcd__timer_new(c, ce_on_timer, c);
	return 0;
}

/* Runs after every transfer was stopped. */
void
coord_etcd__http_free(struct coord_etcd *c)
{
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	c->multi = NULL;
	while (c->socks != NULL) {      /* curl_multi_cleanup left them */
		struct ce_sock *sk = c->socks;

		c->socks = sk->next;
		event_free(sk->ev);
		free(sk);
	}
	if (c->timer != NULL)
		event_free(c->timer);
	c->timer = NULL;
}

/* ---- starting and stopping ---- */

static struct curl_slist *
ce_headers(const struct coord_etcd *c, bool auth)
{
	struct curl_slist *h = NULL;

	h = curl_slist_append(h, "Content-Type: application/json");
	/* No "Expect: 100-continue" round trip before a large body. */
	h = curl_slist_append(h, "Expect:");
	if (auth && c->token != NULL && c->token[0] != '\0') {
		char *line = rs_xasprintf("Authorization: %s", c->token);

		h = curl_slist_append(h, line);
		free(line);
	}
	return h;
}

static void
ce_easy_tls(const struct coord_etcd *c, CURL *e)
{
	if (c->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	if (c->cert_file != NULL)
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert_file);
	if (c->key_file != NULL)
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->key_file);
}

static void
ce_easy_setup(struct ce_xfer *x, CURL *e, const char *body, bool stream)
{
	const struct coord_etcd *c = x->c;

	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* etcd is cluster-internal: never through an environment proxy. */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	                 (curl_off_t)strlen(body));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, ce_curl_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	if (stream) {
		/* A watch lives on; a dead peer shows by keepalive. */
		curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 10L);
		curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 5L);
	} else {
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	}
	ce_easy_tls(c, e);
}

int
coord_etcd__xfer_start(struct ce_xfer *x, size_t ep, const char *path,
                       const char *body, unsigned flags, struct rs_err *err)
{
	bool stream = (flags & CE_XFER_STREAM) != 0;
	struct coord_etcd *c = x->c;
	CURL *e;
	char *url;
	CURLMcode mc;

	e = curl_easy_init();
	if (e == NULL)
		return rs_err_set(err, RS_EIO, "curl_easy_init failed");
	rs_buf_free(&x->resp);
	rs_buf_init(&x->resp, stream ? CE_STREAM_MAX : CE_BODY_MAX);
	x->overflow = false;
	x->sent = false;
	x->status = 0;
	x->errbuf[0] = '\0';
	x->hdrs = ce_headers(c, (flags & CE_XFER_NOAUTH) == 0);
	url = rs_xasprintf("%s%s", c->eps[ep], path);
	curl_easy_setopt(e, CURLOPT_URL, url);   /* curl copies it */
	free(url);
	ce_easy_setup(x, e, body, stream);
	mc = curl_multi_add_handle(c->multi, e);
	if (mc != CURLM_OK) {
		curl_easy_cleanup(e);
		curl_slist_free_all(x->hdrs);
		x->hdrs = NULL;
		return rs_err_set(err, RS_EIO, "curl_multi_add_handle: %s",
		                  curl_multi_strerror(mc));
	}
	x->easy = e;
	return 0;
}

void
coord_etcd__xfer_stop(struct ce_xfer *x)
{
	if (x->easy == NULL)
		return;
	curl_multi_remove_handle(x->c->multi, x->easy);
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
}
