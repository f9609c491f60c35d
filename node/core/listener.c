/* listener.c: evconnlistener wrapper. Accept errors such as EMFILE are
 * logged and the listener backs off for a moment instead of spinning. */
#include "node/core/listener.h"

#include <errno.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "node/core/netaddr.h"

struct listener {
	struct evconnlistener *evl;     /* owns */
	struct event          *backoff; /* owns */
	listener_accept_fn    *cb;
	void                  *arg;
	char                   name[NETADDR_TEXT_MAX];
};

static void
listener_on_accept(struct evconnlistener *evl, evutil_socket_t fd,
                   struct sockaddr *sa, int salen, void *arg)
{
	struct listener *l = arg;

	(void)evl;
	l->cb(l->arg, fd, sa, salen);
}

static void
listener_on_backoff(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(l->evl);
}

static void
listener_on_error(struct evconnlistener *evl, void *arg)
{
	struct listener *l = arg;
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { 0, 100 * 1000 };

	(void)evl;
	rs_log(RS_LOG_WARN, "listener.accept_error", "listen=%s error=\"%s\"",
	       l->name, strerror(e));
	/* Out of descriptors: pause so that closing sessions free some. */
	evconnlistener_disable(l->evl);
	evtimer_add(l->backoff, &tv);
}

int
listener_open(struct event_base *base, const char *host, unsigned port,
              listener_accept_fn *cb, void *arg, struct listener **l_r,
              struct rs_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct listener *l;

	if (netaddr_parse(host, port, &ss, &len) != 0)
		return rs_err_set(err, RS_EINVAL, "bad listen address %s", host);
	l = rs_xcalloc(1, sizeof(*l));
	l->cb = cb;
	l->arg = arg;
	netaddr_format((struct sockaddr *)&ss, l->name, sizeof(l->name));
	l->evl = evconnlistener_new_bind(base, listener_on_accept, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
	    1024, (struct sockaddr *)&ss, (int)len);
	if (l->evl == NULL) {
		int e = errno;

		free(l);
		return rs_err_set(err, RS_EIO, "listen %s:%u: %s", host, port,
		                  strerror(e));
	}
	evconnlistener_set_error_cb(l->evl, listener_on_error);
	l->backoff = evtimer_new(base, listener_on_backoff, l);
	*l_r = l;
	return 0;
}

void
listener_pause(struct listener *l)
{
	evconnlistener_disable(l->evl);
	evtimer_del(l->backoff);
}

void
listener_free(struct listener **pp)
{
	struct listener *l = *pp;

	if (l == NULL)
		return;
	evconnlistener_free(l->evl);
	event_free(l->backoff);
	free(l);
	*pp = NULL;
}
