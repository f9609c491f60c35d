/* bev_flush.c: deferred direct writes for bufferevents (see the header). */
#include "node/core/bev_flush.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdlib.h>

#include "lib/rs_mem.h"

struct bev_flush {
	struct bufferevent          *bev;     /* borrowed */
	struct event                *ev;      /* owns: the deferred write */
	struct evbuffer_cb_entry    *cbe;     /* on the output buffer */
	bev_flush_drained_fn        *drained;
	void                        *arg;
};

static void
bev_flush_write(evutil_socket_t fd, short what, void *arg)
{
	struct bev_flush *f = arg;
	struct evbuffer *out = bufferevent_get_output(f->bev);
	int n;

	(void)fd;
	(void)what;
	if ((bufferevent_get_enabled(f->bev) & EV_WRITE) != 0 ||
	    evbuffer_get_length(out) == 0)
		return;                 /* the bufferevent is writing already */
	/* A socket bufferevent freezes the front of its output so that only
	 * it drains it; it thaws it the same way around its own writes. */
	evbuffer_unfreeze(out, 1);
	n = evbuffer_write(out, bufferevent_getfd(f->bev));
	evbuffer_freeze(out, 1);
	if (evbuffer_get_length(out) > 0 || n < 0) {
		/* Socket full, or an error: the bufferevent carries on and
		 * reports errors through its event callback as usual. */
		bufferevent_enable(f->bev, EV_WRITE);
		return;
	}
	f->drained(f->arg);
}

/* Output grew: write it once the running callback is done. */
static void
bev_flush_on_add(struct evbuffer *buf, const struct evbuffer_cb_info *info,
                 void *arg)
{
	struct bev_flush *f = arg;

	(void)buf;
	/* Activating an active event again is harmless: it runs once. */
	if (info->n_added > 0 &&
	    (bufferevent_get_enabled(f->bev) & EV_WRITE) == 0)
		event_active(f->ev, EV_TIMEOUT, 0);
}

struct bev_flush *
bev_flush_new(struct event_base *base, struct bufferevent *bev,
              bev_flush_drained_fn *drained, void *arg)
{
	struct bev_flush *f = rs_xcalloc(1, sizeof(*f));

	f->bev = bev;
	f->drained = drained;
	f->arg = arg;
	f->ev = event_new(base, -1, 0, bev_flush_write, f);
	if (f->ev == NULL)
		abort();
	f->cbe = evbuffer_add_cb(bufferevent_get_output(bev), bev_flush_on_add,
	                         f);
	if (f->cbe == NULL)
		abort();
	bufferevent_disable(bev, EV_WRITE);
	return f;
}

void
bev_flush_set_drained(struct bev_flush *f, bev_flush_drained_fn *drained,
                      void *arg)
{
	f->drained = drained;
	f->arg = arg;
}

void
bev_flush_on_write(struct bev_flush *f)
{
	if (evbuffer_get_length(bufferevent_get_output(f->bev)) == 0)
		bufferevent_disable(f->bev, EV_WRITE);
}

void
bev_flush_free(struct bev_flush **pp)
{
	struct bev_flush *f = *pp;

	if (f == NULL)
		return;
	evbuffer_remove_cb_entry(bufferevent_get_output(f->bev), f->cbe);
	event_free(f->ev);
	free(f);
	*pp = NULL;
}
