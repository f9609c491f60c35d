/* rpc_stream.c: byte streams over a peer connection. Each end is
 *
 *   user end (filter, owned by the user) - upair ~ inner (ours)
 *
 * where upair ~ inner is a bufferevent pair. The octets themselves skip
 * the pair: the user end's output filter frames what the user writes
 * straight into the connection as STREAM_DATA within the credit the far
 * end granted (whole frames at once, the tail when the running callback
 * is done, as a socket's writer would), and arriving data is added by
 * reference to the user end's input while it reads. Each hop through
 * the pair cost a round of deferred callbacks, a lock and a chain move
 * per piece, which on a relayed IMAP session was most of what proxying
 * cost the primary.
 * The pair stays for what it does well: the filter layer over it is
 * there because libevent 2.1.12 tells a pair nothing when its partner is
 * freed; the filter's free_context does, and lets us rescue what the
 * user wrote but the window held back (sent through the pair). EOF and
 * errors reach the user end by bufferevent_trigger_event. Credit goes
 * back as the user drains its input, so a stream that is not read stalls
 * only its own writer. */
#include <stdlib.h>

#include "cluster/rpc_int.h"
#include "lib/rs_mem.h"

struct rpc_stream {
	unsigned            refs;       /* the connection's, the user's */
	struct rpc_conn    *conn;       /* borrowed; NULL once detached */
	uint64_t            id;
	struct bufferevent *inner;      /* owns: our end of the pair */
	struct bufferevent *upair;      /* borrowed: under the user end */
	struct bufferevent *user;       /* borrowed: NULL once freed */
	struct evbuffer_cb_entry *in_cb; /* on the user end's input */
	struct event       *flush_ev;   /* owns: frames the output's tail */
	size_t              tx_credit;  /* octets we may still send */
	size_t              rx_window;  /* ours */
	size_t              rx_held;    /* received, not drained by user */
	size_t              rx_done;    /* drained, not credited yet */
	bool                tx_fin;     /* user finished: END when sent */
	bool                end_sent, end_recv;
	bool                eof_given;  /* BEV_EVENT_EOF triggered */
	bool                user_gone;
};

static void
stream_unref(struct rpc_stream *s)
{
	if (--s->refs == 0) {
		event_free(s->flush_ev);
		free(s);
	}
}

static void
stream_send(struct rpc_stream *s, Roost__RpcFrame__Kind kind,
            const uint8_t *data, size_t len, size_t window)
{
	rpc_frame f = ROOST__RPC_FRAME__INIT;

	f.kind = kind;
	f.id = s->id;
	f.payload.data = (uint8_t *)data;
	f.payload.len = len;
	f.window = (uint32_t)window;
	rpc_conn__send_ctl(s->conn, &f);
}

/* Raises what on the user end, from the loop. Not on an end the user
 * freed and libevent has not destroyed yet (its free_context still to
 * come): bufferevent_free cleared its callbacks, and touching it would
 * finalize it twice. An end without an event callback has nobody to
 * tell anyway. */
static void
stream_tell(struct rpc_stream *s, short what)
{
	bufferevent_event_cb eventcb = NULL;

	if (s->user == NULL)
		return;
	bufferevent_getcb(s->user, NULL, NULL, &eventcb, NULL);
	if (eventcb != NULL)
		bufferevent_trigger_event(s->user, what,
		                          BEV_TRIG_DEFER_CALLBACKS);
}

/* Ends our side of s: off the connection, the pair freed; the user end
 * gets an error event if asked. The user's reference may keep s. */
static void
stream_close(struct rpc_stream *s, bool error)
{
	struct rpc_conn *c = s->conn;

	if (c == NULL)
		return;
	rs_map_deln(c->streams, &s->id, sizeof(s->id));
	c->rpc->stats.streams--;
	s->conn = NULL;
	if (error)
		stream_tell(s, BEV_EVENT_ERROR | BEV_EVENT_READING);
	bufferevent_free(s->inner);
	s->inner = NULL;
	stream_unref(s);
}

/* Both ways ended and the user told (or gone): nothing left to do. */
static void
stream_maybe_done(struct rpc_stream *s)
{
	if (s->conn != NULL && s->end_sent && s->end_recv &&
	    (s->eof_given || s->user_gone))
		stream_close(s, false);
}

/* The far end finished and everything it sent sits in the user end's
 * input: tell the user, as a socket would. */
static void
stream_maybe_eof(struct rpc_stream *s)
{
	if (!s->end_recv || s->eof_given || s->user == NULL ||
	    s->inner == NULL ||
	    evbuffer_get_length(bufferevent_get_output(s->inner)) > 0 ||
	    evbuffer_get_length(bufferevent_get_input(s->upair)) > 0)
		return;
	s->eof_given = true;
	stream_tell(s, BEV_EVENT_EOF | BEV_EVENT_READING);
	stream_maybe_done(s);
}

/* Frames the front of src, within the credit, in frames of at most
 * RPC_STREAM_CHUNK; all of it, or (whole) only whole frames. Returns the
 * octets sent. */
static size_t
stream_send_from(struct rpc_stream *s, struct evbuffer *src, bool whole)
{
	size_t len, n, sent = 0;

	while (s->tx_credit > 0 && (len = evbuffer_get_length(src)) > 0) {
		n = len < s->tx_credit ? len : s->tx_credit;
		if (n > RPC_STREAM_CHUNK)
			n = RPC_STREAM_CHUNK;
		if (whole && n == len && n < RPC_STREAM_CHUNK)
			break;
		/* Copied once, from the user's chains into the frame. */
		rpc_conn__send_data(s->conn, s->id, src, n);
		s->tx_credit -= n;
		sent += n;
	}
	return sent;
}

/* The user end's output filter: what the user writes goes out as frames
 * from here, not through the pair. libevent runs it on every addition
 * to the output (a reply may be many small ones), so in normal mode it
 * sends whole frames only and leaves the tail to stream_on_flush, after
 * the running callback; a flush (stream_push) sends everything. Octets
 * without credit stay in the user's output, which holds its writer back
 * as a full socket would. */
static enum bufferevent_filter_result
stream_out_filter(struct evbuffer *src, struct evbuffer *dst,
                  ev_ssize_t limit, enum bufferevent_flush_mode mode,
                  void *arg)
{
	struct rpc_stream *s = arg;

	(void)dst;
	(void)limit;
	if (s->conn == NULL || s->end_sent) {
		/* Closed, or ended: nowhere to go, as after a reset. */
		evbuffer_drain(src, evbuffer_get_length(src));
		return BEV_OK;
	}
	if (s->conn->state != RPC_CONN_READY)
		return BEV_NEED_MORE;
	if (stream_send_from(s, src, mode == BEV_NORMAL) > 0)
		return BEV_OK;
	if (mode == BEV_NORMAL && s->tx_credit > 0 &&
	    evbuffer_get_length(src) > 0)
		event_active(s->flush_ev, EV_TIMEOUT, 0);
	/* BEV_OK with octets left would have libevent call again at once. */
	return BEV_NEED_MORE;
}

/* Runs the output filter in flush mode: everything the credit allows. */
static void
stream_push(struct rpc_stream *s)
{
	if (s->user != NULL &&
	    evbuffer_get_length(bufferevent_get_output(s->user)) > 0)
		(void)bufferevent_flush(s->user, EV_WRITE, BEV_FLUSH);
}

static void
stream_on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	stream_push(arg);
}

/* Sends what reached the pair (what the user wrote after the credit
 * ran out and then freed its end), within the credit; END once
 * finished and the user's own output is out too. */
static void
stream_pump(struct rpc_stream *s)
{
	struct evbuffer *in;

	if (s->conn == NULL || s->conn->state != RPC_CONN_READY)
		return;
	stream_push(s);
	in = bufferevent_get_input(s->inner);
	if (!s->end_sent)
		(void)stream_send_from(s, in, false);
	if (s->end_sent)        /* written after the end: nowhere to go */
		evbuffer_drain(in, evbuffer_get_length(in));
	/* No credit: stop taking from the pair, so the user's output stops
	 * draining at about the window. */
	if (s->tx_credit == 0)
		bufferevent_disable(s->inner, EV_READ);
	else if (!(bufferevent_get_enabled(s->inner) & EV_READ))
		bufferevent_enable(s->inner, EV_READ);
	if (s->tx_fin && !s->end_sent && evbuffer_get_length(in) == 0 &&
	    (s->user == NULL ||
	     evbuffer_get_length(bufferevent_get_output(s->user)) == 0)) {
		stream_send(s, ROOST__RPC_FRAME__KIND__STREAM_END, NULL, 0, 0);
		s->end_sent = true;
	}
	stream_maybe_done(s);          /* last: may free s */
}

static void
stream_on_inner_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	stream_pump(arg);
}

static void
stream_on_inner_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	stream_maybe_eof(arg);
}

/* BEV_EVENT_EOF: the user flushed BEV_FINISHED (all its output is in
 * inner's input by now). */
static void
stream_on_inner_event(struct bufferevent *bev, short what, void *arg)
{
	struct rpc_stream *s = arg;

	(void)bev;
	if (what & BEV_EVENT_EOF) {
		s->tx_fin = true;
		stream_pump(s);
	}
}

static void
stream_credit(struct rpc_stream *s, size_t n)
{
	s->rx_done += n;
	/* In halves of the window: no frame per small read, and the writer
	 * still has half a window to send while this credit travels. A
	 * quarter cost twice the frames, each a wake-up and a write on
	 * both nodes, for a session relaying a few hundred KiB. */
	if (s->rx_done >= s->rx_window / 2) {
		stream_send(s, ROOST__RPC_FRAME__KIND__STREAM_WINDOW, NULL, 0,
		            s->rx_done);
		s->rx_done = 0;
	}
}

/* The user end's input changed: drained octets are credit; arrivals may
 * complete what an EOF waits for. */
static void
stream_on_user_input(struct evbuffer *buf, const struct evbuffer_cb_info *info,
                     void *arg)
{
	struct rpc_stream *s = arg;
	size_t n = info->n_deleted;

	(void)buf;
	if (s->conn == NULL || s->conn->state != RPC_CONN_READY)
		return;
	if (n > 0 && s->rx_held > 0) {
		if (n > s->rx_held)
			n = s->rx_held;
		s->rx_held -= n;
		stream_credit(s, n);
	}
	stream_maybe_eof(s);
}

/* The filter's free_context: the user freed its end (called from the
 * loop while the end is being destroyed, its buffers still there). What
 * it wrote goes out, then END, as after BEV_FINISHED. */
static void
stream_on_user_free(void *arg)
{
	struct rpc_stream *s = arg;
	struct bufferevent *user = s->user;
	struct evbuffer *uout;

	evbuffer_remove_cb_entry(bufferevent_get_input(user), s->in_cb);
	s->in_cb = NULL;
	s->user = NULL;
	s->user_gone = true;
	if (s->conn == NULL) {
		stream_unref(s);
		return;
	}
	/* The pair end under the user's is still linked to inner until the
	 * user end is gone; its callbacks point at the filter being freed. */
	bufferevent_setcb(s->upair, NULL, NULL, NULL, NULL);
	uout = bufferevent_get_output(s->upair);
	evbuffer_add_buffer(uout, bufferevent_get_output(user));
	(void)bufferevent_flush(s->upair, EV_WRITE, BEV_FINISHED);
	s->upair = NULL;
	/* Nobody reads what arrives any more: give its credit back so the
	 * far writer is not stuck before it sees our END. */
	evbuffer_drain(bufferevent_get_output(s->inner),
	               evbuffer_get_length(bufferevent_get_output(s->inner)));
	if (s->conn->state == RPC_CONN_READY && s->rx_held + s->rx_done > 0)
		stream_send(s, ROOST__RPC_FRAME__KIND__STREAM_WINDOW, NULL, 0,
		            s->rx_held + s->rx_done);
	s->rx_held = s->rx_done = 0;
	s->tx_fin = true;
	s->refs--;              /* the user's; the connection's keeps s */
	stream_pump(s);         /* last: may free s */
}

struct rpc_stream *
rpc_stream__new(struct rpc_conn *c, uint64_t id, uint32_t peer_window,
                struct bufferevent **user_r)
{
	struct rpc_stream *s = rs_xcalloc(1, sizeof(*s));
	struct bufferevent *pair[2];

	s->refs = 2;
	s->conn = c;
	s->id = id;
	s->tx_credit = peer_window < RPC_WINDOW_MAX ? peer_window
	                                            : RPC_WINDOW_MAX;
	s->rx_window = c->rpc->stream_window;
	if (bufferevent_pair_new(c->rpc->base, BEV_OPT_DEFER_CALLBACKS,
	                         pair) != 0)
		abort();                        /* out of memory */
	s->inner = pair[0];
	s->upair = pair[1];
	bufferevent_setcb(s->inner, stream_on_inner_read, stream_on_inner_write,
	                  stream_on_inner_event, s);
	/* Bounded steps between the user's buffers and the frames, so that
	 * what is held back stays in the user's own output; a few frames a
	 * step, since every step is a round of deferred callbacks through
	 * the filter and the pair. */
	bufferevent_setwatermark(s->inner, EV_READ, 0, RPC_STREAM_STEP);
	bufferevent_setwatermark(s->upair, EV_WRITE, 0, RPC_STREAM_STEP);
	bufferevent_enable(s->inner, EV_READ | EV_WRITE);
	s->flush_ev = event_new(c->rpc->base, -1, 0, stream_on_flush, s);
	if (s->flush_ev == NULL)
		abort();
	s->user = bufferevent_filter_new(s->upair, NULL, stream_out_filter,
	                                 BEV_OPT_CLOSE_ON_FREE |
	                                 BEV_OPT_DEFER_CALLBACKS,
	                                 stream_on_user_free, s);
	if (s->user == NULL)
		abort();
	s->in_cb = evbuffer_add_cb(bufferevent_get_input(s->user),
	                           stream_on_user_input, s);
	if (s->in_cb == NULL)
		abort();
	rs_map_putn(c->streams, &s->id, sizeof(s->id), s);
	c->rpc->stats.streams++;
	*user_r = s->user;
	if (s->tx_credit == 0)
		bufferevent_disable(s->inner, EV_READ);
	return s;
}

static void
stream_free_payload(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

/* Arrivals go straight to the user end's input while it reads and the
 * pair holds nothing from before (their order). While it does not, they
 * wait in the pair: enabling the user end moves them on and raises its
 * read callback, as a socket's readability would, which octets added to
 * its input behind its back would not. */
static bool
stream_reads_direct(struct rpc_stream *s)
{
	return (bufferevent_get_enabled(s->user) & EV_READ) != 0 &&
	       evbuffer_get_length(bufferevent_get_output(s->inner)) == 0 &&
	       evbuffer_get_length(bufferevent_get_input(s->upair)) == 0;
}

/* The payload moves on by reference, taken from f (protobuf-c allocated
 * it with rs_xmalloc, rpc_frame.c): it reaches the user's input, and a
 * relay's client socket, without another copy. */
static int
stream_on_data(struct rpc_stream *s, rpc_frame *f)
{
	size_t n = f->payload.len;
	bool direct;

	if (s->end_recv || n > s->rx_window || s->rx_held > s->rx_window - n)
		return -1;                      /* past its credit */
	if (n == 0)
		return 0;
	if (s->user_gone) {                   /* dropped: credit at once */
		stream_send(s, ROOST__RPC_FRAME__KIND__STREAM_WINDOW, NULL, 0,
		            n);
		return 0;
	}
	s->rx_held += n;
	direct = stream_reads_direct(s);
	if (evbuffer_add_reference(direct ? bufferevent_get_input(s->user)
	                                  : bufferevent_get_output(s->inner),
	                           f->payload.data, n, stream_free_payload,
	                           NULL) != 0)
		abort();                        /* out of memory */
	f->payload.data = NULL;
	f->payload.len = 0;
	/* The read callback once this callback is done: one for all the
	 * frames of a read. */
	if (direct)
		bufferevent_trigger(s->user, EV_READ,
		                    BEV_TRIG_DEFER_CALLBACKS);
	return 0;
}

int
rpc_stream__on_frame(struct rpc_conn *c, rpc_frame *f)
{
	struct rpc_stream *s = rs_map_getn(c->streams, &f->id, sizeof(f->id));

	if (s == NULL)
		return 0;          /* closed here already: frames in flight */
	switch (f->kind) {
	case ROOST__RPC_FRAME__KIND__STREAM_DATA:
		return stream_on_data(s, f);
	case ROOST__RPC_FRAME__KIND__STREAM_WINDOW:
		if (f->window == 0 ||
		    s->tx_credit + f->window > RPC_WINDOW_MAX)
			return -1;
		s->tx_credit += f->window;
		stream_pump(s);
		return 0;
	case ROOST__RPC_FRAME__KIND__STREAM_END:
		if (s->end_recv)
			return -1;
		s->end_recv = true;
		if (s->user_gone)
			stream_maybe_done(s);
		else
			stream_maybe_eof(s);
		return 0;
	case ROOST__RPC_FRAME__KIND__STREAM_RESET:
		stream_close(s, true);
		return 0;
	default:
		return -1;
	}
}

void
rpc_stream__detach_all(struct rpc_conn *c)
{
	size_t pos = 0;
	const char *key;
	void *v;

	/* stream_close takes each off the table: start over every time. */
	while (pos = 0, rs_map_next(c->streams, &pos, &key, &v) == 1)
		stream_close(v, true);
}
