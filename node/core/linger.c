/* linger.c: see linger.h. Draining uses recv with MSG_TRUNC, which on a
 * Linux TCP socket discards the data without copying it anywhere. */
#include "node/core/linger.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "lib/rs_mem.h"
#include "lib/rs_time.h"

/* Octets one recv may discard, and recvs per wake-up. */
#define LINGER_RECV  ((size_t)1 << 20)
#define LINGER_READS 8

struct linger_sock {
	LIST_ENTRY(linger_sock) link;
	struct linger_set      *ls;       /* borrowed */
	struct event           *ev;       /* owns */
	evutil_socket_t         fd;       /* owns */
	uint64_t                deadline; /* rs_mono_ms() */
};

struct linger_set {
	struct event_base *base;          /* borrowed */
	unsigned           max, n;
	LIST_HEAD(linger_list, linger_sock) socks;
};

struct linger_set *
linger_set_new(struct event_base *base, unsigned max)
{
	struct linger_set *ls = rs_xcalloc(1, sizeof(*ls));

	ls->base = base;
	ls->max = max;
	LIST_INIT(&ls->socks);
	return ls;
}

/* Discards what fd has received. Returns true once the socket is done
 * with (the client closed, or an error), false while the client may
 * still send. A few reads per call: a client sending at full speed must
 * not keep the loop from its other sessions. */
static bool
linger_drain(evutil_socket_t fd)
{
	for (int i = 0; i < LINGER_READS; i++) {
		ssize_t n = recv(fd, NULL, LINGER_RECV, MSG_TRUNC |
		                 MSG_DONTWAIT);

		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
	}
	return false;
}

static void
linger_sock_close(struct linger_sock *s)
{
	event_free(s->ev);
	evutil_closesocket(s->fd);
	free(s);
}

/* Done lingering: out of the set, closed. */
static void
linger_sock_done(struct linger_sock *s)
{
	LIST_REMOVE(s, link);
	s->ls->n--;
	linger_sock_close(s);
}

/* Waits for more input, or for the rest of the deadline. */
static void
linger_sock_wait(struct linger_sock *s)
{
	uint64_t now = rs_mono_ms();
	uint64_t left = s->deadline > now ? s->deadline - now : 0;
	struct timeval tv = {
		.tv_sec = (time_t)(left / 1000),
		.tv_usec = (suseconds_t)(left % 1000) * 1000,
	};

	event_add(s->ev, &tv);
}

static void
linger_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct linger_sock *s = arg;

	if ((what & EV_TIMEOUT) != 0 || linger_drain(fd) ||
	    rs_mono_ms() >= s->deadline) {
		linger_sock_done(s);
		return;
	}
	linger_sock_wait(s);
}

void
linger_close(struct linger_set *ls, evutil_socket_t fd)
{
	struct linger_sock *s;

	/* A failed shutdown means the peer is gone already: nothing to
	 * protect. */
	if (ls->n >= ls->max || shutdown(fd, SHUT_WR) != 0 ||
	    linger_drain(fd)) {
		evutil_closesocket(fd);
		return;
	}
	s = rs_xcalloc(1, sizeof(*s));
	s->ev = event_new(ls->base, fd, EV_READ, linger_on_read, s);
	if (s->ev == NULL) {
		free(s);
		evutil_closesocket(fd);
		return;
	}
	s->ls = ls;
	s->fd = fd;
	s->deadline = rs_mono_ms() + LINGER_MS;
	LIST_INSERT_HEAD(&ls->socks, s, link);
	ls->n++;
	linger_sock_wait(s);
}

void
linger_set_free(struct linger_set **pp)
{
	struct linger_set *ls = *pp;
	struct linger_sock *s, *next;

	if (ls == NULL)
		return;
	for (s = LIST_FIRST(&ls->socks); s != NULL; s = next) {
		next = LIST_NEXT(s, link);
		linger_sock_close(s);
	}
	free(ls);
	*pp = NULL;
}
