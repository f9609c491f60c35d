/* test_coord_etcd_fake.c: the etcd backend against a fake HTTP server on
 * the test's own loop that answers 5xx, garbage, gRPC errors, half an
 * answer, or nothing: each gives a clear error, never a crash, and a txn
 * without compares is not sent twice. */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/coord_etcd.h"
#include "tests/unit/cluster/test_coord_etcd_util.h"
#include "tests/unit/test.h"

#define FAKE_CONNS 64

struct fake_conn;

struct t_fake {
	struct evconnlistener *l;
	int                    port;
	char                   url[64];
	const char            *one;      /* replies when there is one */
	const char *const     *replies;  /* per request, the last repeats;
	                                  * NULL: read and never answer */
	size_t                 nreplies;
	size_t                 drip;     /* > 0: write so many bytes a ms */
	size_t                 nreq;
	struct rs_buf          bodies;   /* owns: request bodies, "\n"-ended */
	struct fake_conn      *conns[FAKE_CONNS];
};

struct fake_conn {
	struct t_fake      *f;
	struct bufferevent *bev;           /* owns */
	struct event       *tm;            /* owns: the drip */
	const char         *rest;          /* what is left to drip */
};

static void
fake_close(struct fake_conn *fc)
{
	for (size_t i = 0; i < FAKE_CONNS; i++)
		if (fc->f->conns[i] == fc)
			fc->f->conns[i] = NULL;
	bufferevent_free(fc->bev);
	event_free(fc->tm);
	free(fc);
}

static void
fake_written(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		fake_close(arg);
}

static void
fake_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		fake_close(arg);
}

static void
fake_drip(int fd, short what, void *arg)
{
	struct fake_conn *fc = arg;
	size_t n = strlen(fc->rest);
	struct timeval ms = { 0, 1000 };

	(void)fd;
	(void)what;
	if (fc->f->drip > 0 && n > fc->f->drip)
		n = fc->f->drip;
	bufferevent_write(fc->bev, fc->rest, n);
	fc->rest += n;
	if (*fc->rest == '\0')         /* all out: close once flushed */
		bufferevent_setcb(fc->bev, NULL, fake_written, fake_event, fc);
	else
		evtimer_add(fc->tm, &ms);
}

/* Reads one whole request (headers and Content-Length body). */
static void
fake_read(struct bufferevent *bev, void *arg)
{
	struct fake_conn *fc = arg;
	struct t_fake *f = fc->f;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	char hdr[4096];
	const char *cl;
	size_t hlen, blen = 0;

	if (p.pos < 0 || (size_t)p.pos + 4 >= sizeof(hdr))
		return;
	hlen = (size_t)p.pos + 4;
	evbuffer_copyout(in, hdr, hlen);
	hdr[hlen] = '\0';
	cl = strcasestr(hdr, "content-length:");
	if (cl != NULL)
		blen = strtoul(cl + 15, NULL, 10);
	if (evbuffer_get_length(in) < hlen + blen)
		return;
	evbuffer_drain(in, hlen);
	TEST_ASSERT(rs_buf_reserve(&f->bodies, blen + 1) == 0);
	evbuffer_remove(in, f->bodies.data + f->bodies.len, blen);
	f->bodies.len += blen;
	TEST_ASSERT(rs_buf_append(&f->bodies, "\n", 1) == 0);
	fc->rest = f->replies[f->nreq < f->nreplies ? f->nreq
	                                            : f->nreplies - 1];
	f->nreq++;
	if (fc->rest != NULL)
		fake_drip(-1, 0, fc);
}

static void
fake_accept(struct evconnlistener *l, evutil_socket_t fd,
            struct sockaddr *sa, int len, void *arg)
{
	struct t_fake *f = arg;
	struct event_base *base = evconnlistener_get_base(l);
	struct fake_conn *fc = calloc(1, sizeof(*fc));

	(void)sa;
	(void)len;
	fc->f = f;
	fc->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	fc->tm = evtimer_new(base, fake_drip, fc);
	for (size_t i = 0; i < FAKE_CONNS; i++) {
		if (f->conns[i] == NULL) {
			f->conns[i] = fc;
			bufferevent_setcb(fc->bev, fake_read, NULL, fake_event,
			                  fc);
			bufferevent_enable(fc->bev, EV_READ | EV_WRITE);
			return;
		}
	}
	fake_close(fc);
}

/* A fake answering every request with replies[i] (the last repeats). */
static bool
fake_open_seq(struct t_fake *f, struct event_base *base,
              const char *const *replies, size_t n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sa);

	memset(f, 0, sizeof(*f));
	f->replies = replies;
	f->nreplies = n;
	rs_buf_init(&f->bodies, RS_BUF_UNLIMITED);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->l = evconnlistener_new_bind(base, fake_accept, f,
	                               LEV_OPT_CLOSE_ON_FREE |
	                               LEV_OPT_REUSEABLE, 16,
	                               (struct sockaddr *)&sa, sizeof(sa));
	if (f->l == NULL ||
	    getsockname(evconnlistener_get_fd(f->l), (struct sockaddr *)&sa,
	                &slen) != 0)
		return false;
	f->port = ntohs(sa.sin_port);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", f->port);
	return true;
}

static bool
fake_open(struct t_fake *f, struct event_base *base, const char *reply)
{
	bool ok = fake_open_seq(f, base, NULL, 1);

	f->one = reply;
	f->replies = &f->one;
	return ok;
}

static void
fake_close_all(struct t_fake *f)
{
	for (size_t i = 0; i < FAKE_CONNS; i++)
		if (f->conns[i] != NULL)
			fake_close(f->conns[i]);
	if (f->l != NULL)
		evconnlistener_free(f->l);
	rs_buf_free(&f->bodies);
	memset(f, 0, sizeof(*f));
}

static struct coord *
fake_coord(struct event_base *base, const struct t_fake *f, size_t neps,
           unsigned page_size)
{
	const char *eps[2] = { f->url, f->url };
	struct coord_etcd_opts o = { 0 };
	struct coord *c = NULL;

	o.endpoints = eps;
	o.nendpoints = neps;
	o.page_size = page_size;
	o.request_timeout_ms = 300;
	TEST_ASSERT(coord_etcd_new(base, &o, &c, NULL) == 0);
	return c;
}

#define HTTP_OK "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"

static const struct {
	const char *status;     /* NULL: silence */
	const char *body;
	bool        truncated;  /* announce more than sent, then close */
	int         want_rc;
} fake_cases[] = {
	{ "500 Internal Server Error", "oops!", false, RS_EUNAVAIL },
	{ "503 Service Unavailable", "", false, RS_EUNAVAIL },
	{ "200 OK", "not json!", false, RS_EIO },
	{ "200 OK", "[1,2]", false, RS_EIO },
	{ "404 Not Found", "404 page not found", false, RS_EIO },
	{ "400 Bad Request",
	  "{\"error\":\"etcdserver: bad\",\"message\":\"etcdserver: bad\","
	  "\"code\":3}", false, RS_EINVAL },
	{ "503 Service Unavailable",
	  "{\"error\":\"etcdserver: no leader\",\"code\":14}", false,
	  RS_EUNAVAIL },
	{ "200 OK", "{\"header\":{\"revision\":\"x\"}}", false, RS_EIO },
	{ "200 OK", "{\"header\":{\"revision\":\"5\"},\"kvs\":{\"a\":1}}",
	  false, RS_EIO },
	{ "200 OK", "{\"header\":{\"revision\":\"5\"},\"kvs\":[{\"key\":"
	  "\"%%%%\"}]}", false, RS_EIO },
	{ "200 OK", "{\"header\":{\"revision\":\"5\"},\"kvs\":[{\"key\":"
	  "\"L2c=\",\"value\":7}]}", false, RS_EIO },
	{ "200 OK", "{\"header\":{\"rev", true, RS_EUNAVAIL },
	{ NULL, NULL, false, RS_EUNAVAIL },
	/* The fake itself works: a well-formed answer is taken. */
	{ "200 OK", "{\"header\":{\"revision\":\"5\"},\"kvs\":[{\"key\":"
	  "\"L2c=\",\"value\":\"MQ==\",\"mod_revision\":\"5\"}]}", false, 0 },
};

void
test_coord_etcd_bad_server(void)
{
	struct event_base *base = event_base_new();

	for (size_t i = 0; i < sizeof(fake_cases) / sizeof(fake_cases[0]);
	     i++) {
		char reply[1024];
		struct t_fake f;
		struct coord *c;
		struct t_res r;
		size_t blen;

		if (fake_cases[i].status != NULL) {
			blen = strlen(fake_cases[i].body);
			snprintf(reply, sizeof(reply), "HTTP/1.1 %s\r\n"
			         "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			         fake_cases[i].status,
			         blen + (fake_cases[i].truncated ? 100 : 0),
			         fake_cases[i].body);
		}
		TEST_ASSERT_IDX(fake_open(&f, base, fake_cases[i].status != NULL
		                                        ? reply : NULL), i);
		c = fake_coord(base, &f, 1, 0);
		TEST_ASSERT_IDX(t_get(base, c, "/g", &r) == fake_cases[i].want_rc,
		                i);
		TEST_ASSERT_IDX(r.rc == 0 ? r.n == 1 : r.err.msg[0] != '\0', i);
		if (fake_cases[i].want_rc == RS_EUNAVAIL)
			TEST_ASSERT_IDX(coord_state(c) == COORD_DOWN, i);
		if (fake_cases[i].want_rc == 0)
			TEST_ASSERT_IDX(coord_state(c) == COORD_UP, i);
		t_res_free(&r);
		coord_free(&c);
		fake_close_all(&f);
	}
	event_base_free(base);
}

/* A txn whose answer never came may have been applied: without compares
 * it is not sent again; with compares it is (a repeat would conflict). */
void
test_coord_etcd_txn_unknown(void)
{
	struct event_base *base = event_base_new();
	struct coord_op op = { COORD_OP_PUT, "/u/k", "v", 1, 0 };
	struct coord_cmp cmp = { "/u/k", 0 };
	struct t_fake f;
	struct coord *c;

	TEST_ASSERT(fake_open(&f, base, NULL));
	c = fake_coord(base, &f, 2, 0);
	TEST_ASSERT(t_txn(base, c, NULL, 0, &op, 1, NULL) == RS_EUNAVAIL);
	TEST_ASSERT_INTEQ(f.nreq, 1);
	f.nreq = 0;
	TEST_ASSERT(t_txn(base, c, &cmp, 1, &op, 1, NULL) == RS_EUNAVAIL);
	TEST_ASSERT_INTEQ(f.nreq, 2);
	coord_free(&c);
	fake_close_all(&f);
	event_base_free(base);
}

static bool
fake_asked_twice(void *arg)
{
	return ((struct t_fake *)arg)->nreq >= 2;
}

static bool
fake_asked_thrice(void *arg)
{
	return ((struct t_fake *)arg)->nreq >= 3;
}

/* A watch stream of garbage or errors: retried, never delivered. */
void
test_coord_etcd_watch_garbage(void)
{
	static const char *const replies[] = {
		HTTP_OK "\r\n{\"result\":{\"created\":true}}\nnot json\n",
		HTTP_OK "\r\n{\"result\":{\"created\":true}}\n{\"result\":"
		"{\"events\":[{\"kv\":{\"key\":\"!!\"}}]}}\n",
		HTTP_OK "\r\n{\"result\":{\"created\":true}}\n{\"result\":"
		"{\"events\":[{\"type\":\"BOOM\",\"kv\":{\"key\":\"L3cvYQ==\","
		"\"mod_revision\":\"3\"}}]}}\n",
		HTTP_OK "\r\n{\"error\":{\"grpc_code\":14,\"message\":\"x\"}}\n",
		"HTTP/1.1 500 Oops\r\nContent-Length: 3\r\n\r\nbad",
		HTTP_OK "\r\n{\"result\":{\"created\":true,\"canceled\":true,"
		"\"cancel_reason\":\"no\"}}\n",
		NULL,
	};
	struct event_base *base = event_base_new();

	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		struct t_watch w;
		struct t_fake f;
		struct coord *c;
		struct t_res never = { 0 };

		t_watch_init(&w);
		TEST_ASSERT_IDX(fake_open(&f, base, replies[i]), i);
		c = fake_coord(base, &f, 1, 0);
		TEST_ASSERT_IDX(coord_watch(c, "/w/", 0, t_watch_cb, t_reset_cb,
		                            &w, NULL) == 0, i);
		/* It keeps trying, and delivers nothing. */
		TEST_ASSERT_IDX(t_run(base, fake_asked_twice, &f, T_WAIT_MS), i);
		t_run(base, t_res_done, &never, 100);
		TEST_ASSERT_IDX(w.events == 0 && w.nresets == 0, i);
		coord_free(&c);
		fake_close_all(&f);
		t_watch_free(&w);
	}
	event_base_free(base);
}

/* The revision a range's pages were pinned at is compacted between two
 * pages: the range starts over and pins the new first page's revision. */
void
test_coord_etcd_range_compacted(void)
{
	static const char *const bodies[] = {
		"{\"header\":{\"revision\":\"5\"},\"kvs\":[{\"key\":\"L3IvYQ==\","
		"\"value\":\"MQ==\",\"mod_revision\":\"3\"}],\"more\":true}",
		"{\"error\":\"etcdserver: mvcc: required revision has been "
		"compacted\",\"code\":11}",
		"{\"header\":{\"revision\":\"9\"},\"kvs\":[{\"key\":\"L3IvYQ==\","
		"\"value\":\"Mg==\",\"mod_revision\":\"8\"}],\"more\":true}",
		"{\"header\":{\"revision\":\"9\"},\"kvs\":[{\"key\":\"L3IvYg==\","
		"\"value\":\"Mw==\",\"mod_revision\":\"9\"}]}",
	};
	struct event_base *base = event_base_new();
	char replies[4][512];
	const char *seq[4];
	struct t_fake f;
	struct coord *c;
	struct t_res r;

	for (size_t i = 0; i < 4; i++) {
		snprintf(replies[i], sizeof(replies[i]), "HTTP/1.1 %s\r\n"
		         "Content-Length: %zu\r\n\r\n%s",
		         i == 1 ? "400 Bad Request" : "200 OK",
		         strlen(bodies[i]), bodies[i]);
		seq[i] = replies[i];
	}
	TEST_ASSERT(fake_open_seq(&f, base, seq, 4));
	c = fake_coord(base, &f, 1, 1);
	TEST_ASSERT(t_range(base, c, "/r/", &r) == 0);
	TEST_ASSERT(r.n == 2 && r.rev == 9);
	TEST_ASSERT(r.n == 2 && strcmp(r.keys[0], "/r/a") == 0 &&
	            strcmp(r.vals[0], "2") == 0 && strcmp(r.keys[1], "/r/b") == 0);
	TEST_ASSERT_INTEQ(f.nreq, 4);
	/* Page 2 asked after "/r/a\0" at 5; the last page the same at 9. */
	TEST_ASSERT(strstr((const char *)f.bodies.data, "\"key\":\"L3IvYQA=\","
	                   "\"range_end\":\"L3Iw\",\"limit\":\"1\","
	                   "\"revision\":\"5\"}") != NULL);
	TEST_ASSERT(strstr((const char *)f.bodies.data, "\"revision\":\"9\"}")
	            != NULL);
	t_res_free(&r);
	coord_free(&c);
	fake_close_all(&f);
	event_base_free(base);
}

/* A watch stream dripping in a few bytes at a time, with an empty
 * progress answer, then closed: events whole and once, even though the
 * reconnect gets the same answer again. */
void
test_coord_etcd_watch_split(void)
{
	static const char reply[] = HTTP_OK "Connection: close\r\n\r\n"
		"{\"result\":{\"header\":{\"revision\":\"2\"},\"created\":true}}\n"
		"{\"result\":{\"header\":{\"revision\":\"4\"}}}\n"
		"{\"result\":{\"header\":{\"revision\":\"4\"},\"events\":["
		"{\"kv\":{\"key\":\"L3cvYQ==\",\"create_revision\":\"3\","
		"\"mod_revision\":\"3\",\"value\":\"MQ==\"}},"
		"{\"kv\":{\"key\":\"L3cvYg==\",\"create_revision\":\"3\","
		"\"mod_revision\":\"3\",\"value\":\"Mg==\"}},"
		"{\"type\":\"DELETE\",\"kv\":{\"key\":\"L3cvYQ==\","
		"\"mod_revision\":\"4\"}}]}}\n";
	struct event_base *base = event_base_new();
	struct t_watch w;
	struct t_fake f;
	struct coord *c;

	t_watch_init(&w);
	TEST_ASSERT(fake_open(&f, base, reply));
	f.drip = 5;
	c = fake_coord(base, &f, 1, 0);
	TEST_ASSERT(coord_watch(c, "/w/", 1, t_watch_cb, t_reset_cb, &w,
	                        NULL) == 0);
	/* A third request: the second answer was read to its end. */
	TEST_ASSERT(t_run(base, fake_asked_thrice, &f, T_WAIT_MS));
	TEST_ASSERT_STREQ(t_watch_log(&w), "@3 P:/w/a=1 P:/w/b=2 @4 D:/w/a");
	TEST_ASSERT(w.ordered);
	TEST_ASSERT(strstr((const char *)f.bodies.data,
	                   "\"start_revision\":\"2\"") != NULL);
	TEST_ASSERT(strstr((const char *)f.bodies.data,
	                   "\"start_revision\":\"5\"") != NULL);
	coord_free(&c);
	fake_close_all(&f);
	t_watch_free(&w);
	event_base_free(base);
}
