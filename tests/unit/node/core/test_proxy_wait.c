/* test_proxy_wait.c: connections waiting for a PROXY header, over socket
 * pairs on a real event loop: the header may come in pieces, the bytes
 * after it stay in the socket, LOCAL keeps the socket's peer, and bad
 * headers, silence, a full waiting room and a stop close the socket. */
#include <event2/event.h>
#include <event2/util.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node/core/netaddr.h"
#include "node/core/proxy_wait.h"
#include "tests/unit/test.h"

struct pw_env {
	struct event_base *base;
	struct proxy_wait *pw;
	int                calls;
	evutil_socket_t    fd;          /* handed over by done */
	char               addr[NETADDR_TEXT_MAX];
	struct sockaddr_storage peer;   /* the "proxy" */
};

static void
pw_done(void *arg, evutil_socket_t fd, const struct sockaddr *sa)
{
	struct pw_env *e = arg;

	e->calls++;
	e->fd = fd;
	netaddr_format(sa, e->addr, sizeof(e->addr));
}

static void
pw_env_init(struct pw_env *e, unsigned max, uint64_t timeout_ms)
{
	socklen_t len;

	memset(e, 0, sizeof(*e));
	e->fd = -1;
	e->base = event_base_new();
	e->pw = proxy_wait_new(e->base, "test", max, timeout_ms, pw_done, e);
	TEST_ASSERT(netaddr_parse("127.0.0.2", 40000, &e->peer, &len) == 0);
}

static void
pw_env_free(struct pw_env *e)
{
	proxy_wait_free(&e->pw);
	TEST_ASSERT(e->pw == NULL);
	if (e->fd >= 0)
		close(e->fd);
	event_base_free(e->base);
}

/* A connection: our end goes to proxy_wait, the client's is returned. */
static int
pw_connect(struct pw_env *e)
{
	int sv[2];

	TEST_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	TEST_ASSERT(evutil_make_socket_nonblocking(sv[0]) == 0);
	proxy_wait_add(e->pw, sv[0], (const struct sockaddr *)&e->peer);
	return sv[1];
}

static void
pw_spin(struct pw_env *e)
{
	for (int i = 0; i < 5; i++)
		event_base_loop(e->base, EVLOOP_NONBLOCK);
}

static void
pw_send(int fd, const void *p, size_t n)
{
	TEST_ASSERT(write(fd, p, n) == (ssize_t)n);
}

/* Whether the other end was closed (EOF, or a reset). */
static bool
pw_closed(int fd)
{
	char c;

	return read(fd, &c, 1) <= 0;
}

void
test_proxy_wait_header(void)
{
	struct pw_env e;
	char buf[64];
	int cl;

	pw_env_init(&e, 10, 5000);
	cl = pw_connect(&e);
	pw_send(cl, "PROXY TCP4 192.0.2.1 198.51.", 28);
	pw_spin(&e);
	TEST_ASSERT(e.calls == 0 && proxy_wait_count(e.pw) == 1);
	/* The rest of the header and a pipelined command in one write. */
	pw_send(cl, "100.2 5 25\r\nEHLO x\r\n", 20);
	pw_spin(&e);
	TEST_ASSERT(e.calls == 1 && proxy_wait_count(e.pw) == 0);
	TEST_ASSERT_STREQ(e.addr, "192.0.2.1:5");
	/* Exactly the header was taken: the command is still there. */
	memset(buf, 0, sizeof(buf));
	TEST_ASSERT(read(e.fd, buf, sizeof(buf) - 1) == 8);
	TEST_ASSERT_STREQ(buf, "EHLO x\r\n");
	close(cl);
	pw_env_free(&e);
}

void
test_proxy_wait_local(void)
{
	static const uint8_t v2_local[] = {
		0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49,
		0x54, 0x0A, 0x20, 0x00, 0x00, 0x00, 'Q',
	};
	struct pw_env e;
	char c;
	int cl;

	pw_env_init(&e, 10, 5000);
	cl = pw_connect(&e);
	pw_send(cl, v2_local, sizeof(v2_local));
	pw_spin(&e);
	TEST_ASSERT(e.calls == 1);
	TEST_ASSERT_STREQ(e.addr, "127.0.0.2:40000");
	TEST_ASSERT(read(e.fd, &c, 1) == 1 && c == 'Q');
	close(cl);
	pw_env_free(&e);
}

void
test_proxy_wait_refused(void)
{
	struct pw_env e;
	int bad, quiet, full, eof, stop;

	/* A bad header, and a full waiting room (max 2). */
	pw_env_init(&e, 2, 5000);
	bad = pw_connect(&e);
	pw_send(bad, "EHLO x\r\n", 8);
	pw_spin(&e);
	TEST_ASSERT(pw_closed(bad) && proxy_wait_count(e.pw) == 0);
	eof = pw_connect(&e);
	shutdown(eof, SHUT_WR);
	pw_spin(&e);
	TEST_ASSERT(pw_closed(eof) && proxy_wait_count(e.pw) == 0);
	quiet = pw_connect(&e);
	stop = pw_connect(&e);
	full = pw_connect(&e);
	TEST_ASSERT(proxy_wait_count(e.pw) == 2);
	TEST_ASSERT(pw_closed(full));
	/* A stop closes those still waiting, without calling done. */
	pw_env_free(&e);
	TEST_ASSERT(pw_closed(quiet) && pw_closed(stop) && e.calls == 0);
	close(bad);
	close(eof);
	close(quiet);
	close(stop);
	close(full);
}

void
test_proxy_wait_timeout(void)
{
	struct pw_env e;
	int cl;

	pw_env_init(&e, 10, 50);
	cl = pw_connect(&e);
	pw_send(cl, "PROXY ", 6);       /* then silence */
	pw_spin(&e);
	TEST_ASSERT(proxy_wait_count(e.pw) == 1);
	event_base_loop(e.base, EVLOOP_ONCE);
	TEST_ASSERT(proxy_wait_count(e.pw) == 0 && e.calls == 0);
	TEST_ASSERT(pw_closed(cl));
	close(cl);
	pw_env_free(&e);
}
