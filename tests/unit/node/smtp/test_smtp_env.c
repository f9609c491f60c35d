/* test_smtp_env.c: the SMTP engine test harness (smtp_test_env.h). No
 * tests of its own; the name follows the unit glob (test_*.c). */
#include <errno.h>
#include <signal.h>
#include <event2/buffer.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/rs_time.h"
#include "tests/unit/node/smtp/smtp_test_env.h"
#include "tests/unit/test.h"

static int
t_on_rcpt(void *ctx, struct smtp_session *s, const struct smtp_mail *m,
          const struct smtp_rcpt *r)
{
	(void)ctx;
	(void)m;
	if (strcmp(r->to.local, "unknown") == 0) {
		smtp_reply__reject(s, 550, "5.1.1", "no_such_user",
		                   "User unknown in local recipient table");
		return -1;
	}
	if (strcmp(r->to.domain, "relay.test") == 0) {
		smtp_reply__reject(s, 554, "5.7.1", "relay_denied",
		                   "Relay access denied");
		return -1;
	}
	return 1;
}

static void
t_on_complete(evutil_socket_t fd, short what, void *arg)
{
	struct t_env *e = arg;
	struct smtp_session *s = e->pending;

	(void)fd;
	(void)what;
	e->pending = NULL;
	smtp_session__hook_done(s, 1);
	smtp_session__unref(s);
}

static int
t_on_data_end(void *ctx, struct smtp_session *s, const uint8_t *msg,
              size_t len)
{
	struct t_env *e = ctx;
	struct timeval tv = { 0, (suseconds_t)e->delay_ms * 1000 };

	rs_buf_reset(&e->stored);
	TEST_ASSERT(rs_buf_append(&e->stored, msg, len) == 0);
	e->ndelivered++;
	if (!e->async)
		return 1;
	TEST_ASSERT(e->pending == NULL);
	e->pending = s;
	smtp_session__ref(s);
	evtimer_add(e->complete, &tv);
	return 0;
}

static void
t_on_reset(void *ctx, struct smtp_session *s)
{
	struct t_env *e = ctx;

	(void)s;
	e->resets++;
}

static const struct smtp_hooks t_hooks = {
	.on_rcpt = t_on_rcpt,
	.on_data_end = t_on_data_end,
	.on_reset = t_on_reset,
};

void
t_env_done(void *arg)
{
	struct t_env *e = arg;

	e->done_calls++;
}

void
t_env_init(struct t_env *e)
{
	memset(e, 0, sizeof(*e));
	/* Replies to a client that hung up must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	e->base = event_base_new();
	TEST_ASSERT(e->base != NULL);
	e->srv.hostname = "mx.test";
	e->srv.hooks = &t_hooks;
	e->srv.hooks_ctx = e;
	/* No listener and no admission caps: sessions come from t_connect. */
	TEST_ASSERT(proto_server_new(e->base, &smtp_session__ops, &e->srv,
	                             &(struct proto_listen){ .busy = "" },
	                             &e->srv.ps, NULL) == 0);
	e->srv.limits = (struct smtp_limits){
		.max_line = 2048,
		.max_message = 10240,
		.timeout_ms = 5000,
		.data_timeout_ms = 60000,
		.max_recipients = 1000,
		.max_errors = 10,
		.max_junk = 100,
	};
	e->complete = evtimer_new(e->base, t_on_complete, e);
	e->delay_ms = 20;
	rs_buf_init(&e->stored, RS_BUF_UNLIMITED);
}

void
t_env_free(struct t_env *e)
{
	/* Closes and releases every session. */
	proto_server_free(&e->srv.ps);
	if (e->pending != NULL)
		t_on_complete(-1, 0, e);
	event_base_loop(e->base, EVLOOP_NONBLOCK);
	event_free(e->complete);
	event_base_free(e->base);
	rs_buf_free(&e->stored);
}

void
t_connect(struct t_env *e, struct t_client *c)
{
	struct sockaddr_in sin;
	int sv[2];

	memset(c, 0, sizeof(*c));
	c->env = e;
	rs_buf_init(&c->got, RS_BUF_UNLIMITED);
	TEST_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	evutil_make_socket_nonblocking(sv[0]);
	evutil_make_socket_nonblocking(sv[1]);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(4242);
	sin.sin_addr.s_addr = htonl(0x7f000001);
	TEST_ASSERT(smtp_session__new(&e->srv, sv[0], (struct sockaddr *)&sin,
	                              "127.0.0.1") == 0);
	c->fd = sv[1];
}

void
t_client_close(struct t_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	rs_buf_free(&c->got);
}

struct smtp_session *
t_session(struct t_env *e)
{
	return proto_server_newest(e->srv.ps);
}

static void
t_read(struct t_client *c)
{
	char buf[65536];
	ssize_t n;

	while (c->fd >= 0 && !c->eof) {
		n = read(c->fd, buf, sizeof(buf));
		if (n > 0) {
			TEST_ASSERT(rs_buf_append(&c->got, buf, (size_t)n) == 0);
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			c->eof = true;
		break;
	}
}

void
t_pump(struct t_client *c, unsigned ms)
{
	uint64_t end = rs_mono_ms() + ms;

	do {
		event_base_loop(c->env->base, EVLOOP_NONBLOCK);
		t_read(c);
		usleep(1000);
	} while (rs_mono_ms() < end);
	event_base_loop(c->env->base, EVLOOP_NONBLOCK);
	t_read(c);
}

void
t_send(struct t_client *c, const void *p, size_t n)
{
	const char *s = p;
	uint64_t end = rs_mono_ms() + 5000;

	while (n > 0 && rs_mono_ms() < end) {
		ssize_t w = write(c->fd, s, n);

		if (w > 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		TEST_ASSERT(errno == EAGAIN);
		if (errno != EAGAIN)
			return;
		event_base_loop(c->env->base, EVLOOP_NONBLOCK);
		t_read(c);
	}
	TEST_ASSERT(n == 0);
	event_base_loop(c->env->base, EVLOOP_NONBLOCK);
}

void
t_sends(struct t_client *c, const char *s)
{
	t_send(c, s, strlen(s));
}

/* Runs the loop until cond(c) or 5 s. */
static void
t_wait(struct t_client *c, bool (*cond)(const struct t_client *, size_t),
       size_t arg)
{
	uint64_t end = rs_mono_ms() + 5000;

	while (!cond(c, arg) && !c->eof && rs_mono_ms() < end) {
		event_base_loop(c->env->base, EVLOOP_NONBLOCK);
		t_read(c);
		if (!cond(c, arg))
			usleep(500);
	}
}

static bool
t_have(const struct t_client *c, size_t n)
{
	return c->got.len >= n;
}

static bool
t_have_line(const struct t_client *c, size_t unused)
{
	(void)unused;
	return c->got.len > 0 && memchr(c->got.data, '\n', c->got.len) != NULL;
}

static bool
t_check(struct t_client *c, const char *want, size_t n, int line)
{
	if (c->got.len >= n && memcmp(c->got.data, want, n) == 0) {
		rs_buf_consume(&c->got, n);
		return true;
	}
	fprintf(stderr, "line %d: wanted \"%.*s\", got \"%.*s\"\n", line,
	        (int)n, want, (int)(c->got.len < 400 ? c->got.len : 400),
	        c->got.data != NULL ? (char *)c->got.data : "");
	return false;
}

bool
t_expect(struct t_client *c, const char *want, int line)
{
	size_t n = strlen(want);

	t_wait(c, t_have, n);
	return t_check(c, want, n, line);
}

bool
t_expect_prefix(struct t_client *c, const char *prefix, int line)
{
	const uint8_t *nl;

	t_wait(c, t_have_line, 0);
	if (!t_check(c, prefix, strlen(prefix), line))
		return false;
	nl = c->got.len > 0 ? memchr(c->got.data, '\n', c->got.len) : NULL;
	if (nl == NULL)
		return false;
	rs_buf_consume(&c->got, (size_t)(nl - c->got.data) + 1);
	return true;
}

bool
t_expect_eof(struct t_client *c, int line)
{
	uint64_t end = rs_mono_ms() + 5000;

	while (!c->eof && rs_mono_ms() < end) {
		event_base_loop(c->env->base, EVLOOP_NONBLOCK);
		t_read(c);
		usleep(500);
	}
	if (c->eof && c->got.len == 0)
		return true;
	fprintf(stderr, "line %d: wanted EOF, got %s \"%.*s\"\n", line,
	        c->eof ? "EOF after" : "no EOF,", (int)c->got.len,
	        c->got.data != NULL ? (char *)c->got.data : "");
	return false;
}
