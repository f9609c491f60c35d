/* bev_pump.c: moving octets between two bufferevents (see the header).
 * evbuffer_add_buffer moves the chains without copying. */
#include "node/core/bev_pump.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lib/rs_mem.h"
#include "node/core/bev_flush.h"

struct bev_pump {
	struct bufferevent *bev[2];      /* borrowed */
	struct bev_flush   *flush;       /* borrowed: a's direct writer */
	size_t              high;
	bev_pump_done_fn   *done;
	void               *arg;
	bool                ended;
};

static void bp_on_read(struct bufferevent *bev, void *arg);
static void bp_on_write(struct bufferevent *bev, void *arg);
static void bp_on_event(struct bufferevent *bev, short what, void *arg);

static int
bp_side(const struct bev_pump *p, const struct bufferevent *bev)
{
	return bev == p->bev[0] ? 0 : 1;
}

/* Moves what side i read to the other side's output, then reads on
 * only while that output has room. */
static void
bp_move(struct bev_pump *p, int i)
{
	struct bufferevent *from = p->bev[i], *to = p->bev[!i];
	struct evbuffer *out = bufferevent_get_output(to);

	evbuffer_add_buffer(out, bufferevent_get_input(from));
	if (evbuffer_get_length(out) > p->high)
		bufferevent_disable(from, EV_READ);
	else
		bufferevent_enable(from, EV_READ);
}

static void
bp_on_read(struct bufferevent *bev, void *arg)
{
	struct bev_pump *p = arg;

	if (!p->ended)
		bp_move(p, bp_side(p, bev));
}

/* Side i's output drained below the mark: the other side reads again. */
static void
bp_resume(struct bev_pump *p, int i)
{
	if (!p->ended &&
	    evbuffer_get_length(bufferevent_get_output(p->bev[i])) <=
	    p->high / 2)
		bufferevent_enable(p->bev[!i], EV_READ);
}

static void
bp_on_write(struct bufferevent *bev, void *arg)
{
	struct bev_pump *p = arg;
	int i = bp_side(p, bev);

	/* The socket was full and the bufferevent wrote the rest: direct
	 * writes again once it is empty. */
	if (i == 0 && p->flush != NULL)
		bev_flush_on_write(p->flush);
	bp_resume(p, i);
}

/* A direct write emptied a's output (bev_flush_drained_fn). */
static void
bp_on_drained(void *arg)
{
	bp_resume(arg, 0);
}

static void
bp_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct bev_pump *p = arg;
	int i = bp_side(p, bev);

	if (p->ended || (what & BEV_EVENT_CONNECTED) != 0)
		return;
	/* What the ending side read before it ended still goes across. */
	evbuffer_add_buffer(bufferevent_get_output(p->bev[!i]),
	                    bufferevent_get_input(bev));
	p->ended = true;
	p->done(p->arg, i == 0 ? BEV_PUMP_A : BEV_PUMP_B, what);
}

struct bev_pump *
bev_pump_new(struct bufferevent *a, struct bev_flush *a_flush,
             struct bufferevent *b, size_t high, bev_pump_done_fn *done,
             void *arg)
{
	struct bev_pump *p = rs_xcalloc(1, sizeof(*p));

	p->bev[0] = a;
	p->bev[1] = b;
	p->flush = a_flush;
	p->high = high;
	p->done = done;
	p->arg = arg;
	for (int i = 0; i < 2; i++) {
		bufferevent_setcb(p->bev[i], bp_on_read, bp_on_write,
		                  bp_on_event, p);
		/* The write callback when the output falls to half the mark. */
		bufferevent_setwatermark(p->bev[i], EV_WRITE, high / 2, 0);
		/* A side written directly has EV_WRITE off while its socket
		 * takes everything (bev_flush.h). */
		bufferevent_enable(p->bev[i], i == 0 && a_flush != NULL
		                   ? EV_READ : EV_READ | EV_WRITE);
	}
	if (a_flush != NULL)
		bev_flush_set_drained(a_flush, bp_on_drained, p);
	/* Octets already read before the pump started. */
	for (int i = 0; i < 2; i++)
		if (evbuffer_get_length(bufferevent_get_input(p->bev[i])) > 0)
			bp_move(p, i);
	return p;
}

void
bev_pump_free(struct bev_pump **pp)
{
	struct bev_pump *p = *pp;

	if (p == NULL)
		return;
	for (int i = 0; i < 2; i++)
		bufferevent_setcb(p->bev[i], NULL, NULL, NULL, NULL);
	free(p);
	*pp = NULL;
}
