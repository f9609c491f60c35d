/* imap_bench_conn.c: one IMAP client connection of imap_bench on a
 * libevent bufferevent. Sessions mode: connect, LOGIN, SELECT, UID FETCH
 * of a window of messages, UID STORE on it, UID SEARCH, LOGOUT, then the
 * next session on a new connection until none is left. Idle mode:
 * connect, LOGIN, SELECT, IDLE (RFC 2177), hold; DONE and LOGOUT at the
 * stop. One command in flight at a time, no TLS, no reconnect within a
 * session. Never prints passwords or message data. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_buf.h"
#include "lib/rs_err.h"
#include "lib/rs_mem.h"
#include "tools/bench/imap_bench.h"

enum ibench_state {
	IBENCH_ST_UNSTARTED,       /* idle mode: not opened yet */
	IBENCH_ST_CONNECTING,
	IBENCH_ST_GREETING,
	IBENCH_ST_CMD,             /* c->cmd is in flight */
	IBENCH_ST_IDLING,          /* idle mode: "+" seen, holding */
	IBENCH_ST_CLOSED,
};

/* Which of the idle-mode counters this connection is part of. */
enum ibench_counted {
	IBENCH_CNT_NONE,
	IBENCH_CNT_OPENING,
	IBENCH_CNT_IDLING,
};

struct ibench_conn {
	struct ibench      *b;         /* borrowed */
	struct bufferevent *bev;       /* owns */
	unsigned            id;
	enum ibench_state   state;
	enum ibench_counted counted;
	enum ibench_cmd     cmd;       /* in flight, with state CMD */
	struct ibench_resp  resp;
	unsigned            user;      /* index into b->users */
	unsigned            tagn;
	char                tag[16];   /* of the command in flight */
	bool                in_session;
	bool                failed;    /* a command of this session failed */
	bool                done_sent; /* idle mode: DONE written */
	uint64_t            t_connect_us;
	uint64_t            t_cmd_us;
	uint64_t            exists, uidnext;   /* from SELECT */
	uint64_t            lo, hi;    /* the UID window; hi 0 = none */
};

static void ibench_conn_finish(struct ibench_conn *c, const char *why);

static void
ibench_conn_send(struct ibench_conn *c, enum ibench_cmd cmd,
                 const char *fmt, ...) RS_PRINTF(3, 4);

/* Starts command cmd: a new tag, the clock, "TAG " written; returns the
 * output buffer for the rest of the line. */
static struct evbuffer *
ibench_conn_cmd(struct ibench_conn *c, enum ibench_cmd cmd)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	snprintf(c->tag, sizeof(c->tag), "a%u", ++c->tagn);
	c->state = IBENCH_ST_CMD;
	c->cmd = cmd;
	c->t_cmd_us = bench_common_now_us();
	c->b->cmd[cmd].sent++;
	evbuffer_add_printf(out, "%s ", c->tag);
	return out;
}

static void
ibench_conn_send(struct ibench_conn *c, enum ibench_cmd cmd,
                 const char *fmt, ...)
{
	struct evbuffer *out = ibench_conn_cmd(c, cmd);
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

/* RFC 9051 section 4.3: a quoted string, with '"' and '\' escaped. The
 * names come from our own options or user file, never with CR or LF. */
static void
ibench_conn_quoted(struct evbuffer *out, const char *s)
{
	evbuffer_add(out, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			evbuffer_add(out, "\\", 1);
		evbuffer_add(out, s, 1);
	}
	evbuffer_add(out, "\"", 1);
}

static void
ibench_conn_login(struct ibench_conn *c)
{
	const struct ibench_user *u = &c->b->users[c->user];
	struct evbuffer *out = ibench_conn_cmd(c, IBENCH_CMD_LOGIN);

	evbuffer_add(out, "LOGIN ", 6);
	ibench_conn_quoted(out, u->name);
	evbuffer_add(out, " ", 1);
	ibench_conn_quoted(out, u->pass);
	evbuffer_add(out, "\r\n", 2);
}

static void
ibench_conn_select(struct ibench_conn *c)
{
	struct evbuffer *out;

	c->exists = 0;
	c->uidnext = 0;
	out = ibench_conn_cmd(c, IBENCH_CMD_SELECT);
	evbuffer_add(out, "SELECT ", 7);
	ibench_conn_quoted(out, c->b->opt->mailbox);
	evbuffer_add(out, "\r\n", 2);
}

/* The UID window of this session: opt->window UIDs at random, or the
 * next ones of this user (--window seq), or all when the mailbox holds
 * fewer. UIDs are taken as 1..UIDNEXT-1 (EXISTS without UIDNEXT). */
static void
ibench_conn_window(struct ibench_conn *c)
{
	struct ibench *b = c->b;
	uint64_t max = c->uidnext > 1 ? c->uidnext - 1 : c->exists;
	uint64_t m = b->opt->window;

	c->lo = c->hi = 0;
	if (max == 0) {
		b->empty_mailboxes++;
		return;
	}
	if (m >= max) {
		c->lo = 1;
		c->hi = max;
		return;
	}
	if (b->opt->window_seq) {
		struct ibench_user *u = &b->users[c->user];

		c->lo = u->next_uid;
		if (c->lo < 1 || c->lo + m - 1 > max)
			c->lo = 1;
		u->next_uid = (uint32_t)(c->lo + m);
	} else
		c->lo = 1 + ibench_rand(b, max - m + 1);
	c->hi = c->lo + m - 1;
}

/* Sends the command that follows a successful done. */
static void
ibench_conn_next(struct ibench_conn *c, enum ibench_cmd done)
{
	const struct ibench_opts *o = c->b->opt;

	if (done == IBENCH_CMD_LOGIN) {
		ibench_conn_select(c);
		return;
	}
	if (done == IBENCH_CMD_SELECT && o->idle > 0) {
		c->done_sent = false;
		ibench_conn_send(c, IBENCH_CMD_IDLE, "IDLE");
		return;
	}
	if (done == IBENCH_CMD_SELECT) {
		ibench_conn_window(c);
		if (c->hi > 0 && o->fetch_items[0] != '\0') {
			ibench_conn_send(c, IBENCH_CMD_FETCH, "UID FETCH %"
			                 PRIu64 ":%" PRIu64 " %s", c->lo, c->hi,
			                 o->fetch_items);
			return;
		}
		done = IBENCH_CMD_FETCH;
	}
	if (done == IBENCH_CMD_FETCH) {
		if (c->hi > 0 && o->store_items[0] != '\0') {
			ibench_conn_send(c, IBENCH_CMD_STORE, "UID STORE %"
			                 PRIu64 ":%" PRIu64 " %s", c->lo, c->hi,
			                 o->store_items);
			return;
		}
		done = IBENCH_CMD_STORE;
	}
	if (done == IBENCH_CMD_STORE && o->search[0] != '\0') {
		ibench_conn_send(c, IBENCH_CMD_SEARCH, "UID SEARCH %s",
		                 o->search);
		return;
	}
	ibench_conn_send(c, IBENCH_CMD_LOGOUT, "LOGOUT");
}

/* Parses a decimal number at *s (advancing it); false if none. */
static bool
ibench_conn_num(struct rs_str *s, uint64_t *v_r)
{
	size_t i = 0;
	uint64_t v = 0;

	while (i < s->len && i < 19 && s->p[i] >= '0' && s->p[i] <= '9')
		v = v * 10 + (uint64_t)(s->p[i++] - '0');
	if (i == 0)
		return false;
	s->p += i;
	s->len -= i;
	*v_r = v;
	return true;
}

/* Counts the numbers of "SEARCH 1 2 3" (RFC 9051 7.3.1, RFC 3501 7.2.5). */
static uint64_t
ibench_conn_search_hits(struct rs_str s)
{
	uint64_t n = 0;
	bool in_num = false;

	for (size_t i = 6; i < s.len; i++) {
		bool digit = s.p[i] >= '0' && s.p[i] <= '9';

		if (digit && !in_num)
			n++;
		in_num = digit;
	}
	return n;
}

/* "* ..." with the "* " already gone. Returns -1 when the connection
 * was finished. */
static int
ibench_conn_untagged(struct ibench_conn *c, struct rs_str s)
{
	struct ibench *b = c->b;
	uint64_t n;

	if (rs_str_istarts(s, "BYE")) {
		/* RFC 9051 7.1.5: sent before LOGOUT's OK, or when the
		 * server is about to close the connection. */
		if (c->state == IBENCH_ST_CMD && c->cmd == IBENCH_CMD_LOGOUT)
			return 0;
		ibench_conn_finish(c, "BYE from server");
		return -1;
	}
	if (c->state != IBENCH_ST_CMD)
		return 0;                /* e.g. EXISTS while idling */
	if (c->cmd == IBENCH_CMD_SEARCH && rs_str_istarts(s, "SEARCH")) {
		b->search_hits += ibench_conn_search_hits(s);
		return 0;
	}
	if (c->cmd == IBENCH_CMD_SELECT &&
	    rs_str_istarts(s, "OK [UIDNEXT ")) {
		s.p += 12;
		s.len -= 12;
		if (ibench_conn_num(&s, &n))
			c->uidnext = n;
		return 0;
	}
	if (!ibench_conn_num(&s, &n))
		return 0;
	if (c->cmd == IBENCH_CMD_SELECT && rs_str_ieq_cstr(s, " EXISTS"))
		c->exists = n;
	else if (c->cmd == IBENCH_CMD_FETCH && rs_str_istarts(s, " FETCH")) {
		b->fetched++;
		b->fetch_literal_bytes += c->resp.literal_bytes;
	}
	return 0;
}

/* The tagged completion of the command in flight. Returns -1 when the
 * connection was finished. */
static int
ibench_conn_tagged(struct ibench_conn *c, struct rs_str s)
{
	struct ibench_cmd_stats *st = &c->b->cmd[c->cmd];
	size_t tl = strlen(c->tag);
	struct rs_str status;

	if (c->state != IBENCH_ST_CMD || s.len <= tl || s.p[tl] != ' ' ||
	    memcmp(s.p, c->tag, tl) != 0) {
		ibench_conn_finish(c, "unexpected tagged response");
		return -1;
	}
	status = rs_str_make(s.p + tl + 1, s.len - tl - 1);
	if (rs_str_istarts(status, "OK")) {
		/* IDLE's statistics were taken at its "+". */
		if (c->cmd != IBENCH_CMD_IDLE) {
			st->ok++;
			ibench_lat_add(&st->lat,
			               bench_common_now_us() - c->t_cmd_us);
		}
	} else if (rs_str_istarts(status, "NO")) {
		st->no++;
		c->failed = true;
	} else if (rs_str_istarts(status, "BAD")) {
		st->bad++;
		c->failed = true;
	} else {
		ibench_conn_finish(c, "malformed tagged response");
		return -1;
	}
	if (c->cmd == IBENCH_CMD_LOGOUT) {
		ibench_conn_finish(c, NULL);
		return -1;
	}
	if (c->failed || c->cmd == IBENCH_CMD_IDLE)
		ibench_conn_send(c, IBENCH_CMD_LOGOUT, "LOGOUT");
	else
		ibench_conn_next(c, c->cmd);
	return 0;
}

/* RFC 2177: the "+" that answers IDLE. */
static int
ibench_conn_continuation(struct ibench_conn *c)
{
	struct ibench *b = c->b;
	struct ibench_cmd_stats *st = &b->cmd[IBENCH_CMD_IDLE];

	if (c->state != IBENCH_ST_CMD || c->cmd != IBENCH_CMD_IDLE ||
	    c->done_sent) {
		ibench_conn_finish(c, "unexpected continuation request");
		return -1;
	}
	st->ok++;
	ibench_lat_add(&st->lat, bench_common_now_us() - c->t_cmd_us);
	c->state = IBENCH_ST_IDLING;
	c->counted = IBENCH_CNT_IDLING;
	b->opening--;
	b->idling++;
	/* An idle connection waits as long as it is told to: the server's
	 * own inactivity limit is part of what idle mode shows. */
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	if (!b->stopping)
		ibench_idle_ramp(b);
	return 0;
}

/* One whole response in c->resp. Returns -1 when the connection was
 * finished (its bufferevent may be gone). */
static int
ibench_conn_response(struct ibench_conn *c)
{
	struct rs_str s = rs_str_make(c->resp.line, c->resp.line_len);

	if (c->state == IBENCH_ST_GREETING) {
		/* RFC 9051 7.1: the greeting is OK, PREAUTH or BYE. */
		if (!rs_str_istarts(s, "* OK")) {
			ibench_conn_finish(c, "greeting is not OK");
			return -1;
		}
		ibench_lat_add(&c->b->cmd[IBENCH_CMD_CONNECT].lat,
		               bench_common_now_us() - c->t_connect_us);
		c->b->cmd[IBENCH_CMD_CONNECT].ok++;
		ibench_conn_login(c);
		return 0;
	}
	if (s.len >= 1 && s.p[0] == '+')
		return ibench_conn_continuation(c);
	if (s.len >= 2 && s.p[0] == '*' && s.p[1] == ' ')
		return ibench_conn_untagged(c, rs_str_make(s.p + 2, s.len - 2));
	return ibench_conn_tagged(c, s);
}

static void
ibench_conn_on_read(struct bufferevent *bev, void *arg)
{
	struct ibench_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (;;) {
		int rc = ibench_resp_read(&c->resp, in, &c->b->bytes_in);

		if (rc == 0)
			return;
		if (rc < 0) {
			ibench_conn_finish(c, "response line or literal too "
			                   "long");
			return;
		}
		rc = ibench_conn_response(c);
		ibench_resp_reset(&c->resp);
		if (rc < 0)
			return;
	}
}

static void
ibench_conn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct ibench_conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		bench_common_nodelay(bev);
		c->state = IBENCH_ST_GREETING;
		return;
	}
	if ((what & BEV_EVENT_EOF) && c->state == IBENCH_ST_CMD &&
	    c->cmd == IBENCH_CMD_LOGOUT) {
		/* Closed after LOGOUT, before or instead of its OK. */
		ibench_conn_finish(c, NULL);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		c->b->timeouts++;
	ibench_conn_finish(c, bench_common_why(what,
	                                       c->state == IBENCH_ST_CONNECTING));
}

/* Opens a connection; false (counted) if that failed at once. */
static bool
ibench_conn_connect(struct ibench_conn *c)
{
	struct ibench *b = c->b;
	struct timeval tv = { .tv_sec = b->opt->timeout_s, .tv_usec = 0 };

	c->bev = bench_common_bev(b->base, ibench_conn_on_read,
	                          ibench_conn_on_event, c, &tv);
	if (c->bev == NULL) {
		b->conn_errors++;
		return false;
	}
	c->tagn = 0;
	c->failed = false;
	c->t_connect_us = bench_common_now_us();
	c->state = IBENCH_ST_CONNECTING;
	/* FETCH answers are large: read them in big pieces. */
	if (b->opt->idle == 0)
		(void)bufferevent_set_max_single_read(c->bev, 65536);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&b->addr,
	                               (int)b->addrlen) < 0) {
		bufferevent_free(c->bev);
		c->bev = NULL;
		c->state = IBENCH_ST_CLOSED;
		b->conn_errors++;
		return false;
	}
	return true;
}

/* Sessions mode: starts the next session on this connection; false when
 * none is left (or the run is stopping). */
static bool
ibench_conn_begin(struct ibench_conn *c)
{
	struct ibench *b = c->b;

	while (!b->stopping && b->next_session < b->opt->sessions) {
		uint64_t s = b->next_session++;

		c->user = (unsigned)(s % b->opt->users);
		c->in_session = true;
		if (ibench_conn_connect(c))
			return true;
		c->in_session = false;
		b->sessions_failed++;
	}
	return false;
}

static void
ibench_conn_finish_idle(struct ibench_conn *c, const char *why)
{
	struct ibench *b = c->b;

	if (c->counted == IBENCH_CNT_IDLING) {
		b->idling--;
		if (why != NULL)
			b->dropped++;
	} else if (c->counted == IBENCH_CNT_OPENING) {
		b->opening--;
		if (!b->stopping)
			b->idle_failed++;
	}
	c->counted = IBENCH_CNT_NONE;
	c->state = IBENCH_ST_CLOSED;
	if (--b->live == 0 && (b->next_idle >= b->opt->idle || b->stopping))
		event_base_loopexit(b->base, NULL);
	else if (!b->stopping)
		ibench_idle_ramp(b);
}

/* The one place a connection ends. Sessions mode then starts the next
 * session on a new connection, so c stays in use. */
static void
ibench_conn_finish(struct ibench_conn *c, const char *why)
{
	struct ibench *b = c->b;

	if (c->state == IBENCH_ST_CLOSED)
		return;
	if (why != NULL) {
		b->conn_errors++;
		if (b->conn_errors <= 10)
			fprintf(stderr, "imap_bench: conn %u: %s\n", c->id, why);
	}
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	ibench_resp_reset(&c->resp);
	if (b->opt->idle > 0) {
		ibench_conn_finish_idle(c, why);
		return;
	}
	if (c->in_session) {
		uint64_t now = bench_common_now_us();

		c->in_session = false;
		if (why != NULL || c->failed)
			b->sessions_failed++;
		else {
			b->sessions_ok++;
			b->t_last_us = now;
			b->cmd[IBENCH_CMD_SESSION].ok++;
			ibench_lat_add(&b->cmd[IBENCH_CMD_SESSION].lat,
			               now - c->t_connect_us);
		}
	}
	c->state = IBENCH_ST_CLOSED;
	if (ibench_conn_begin(c))
		return;
	if (--b->live == 0)
		event_base_loopexit(b->base, NULL);
}

struct ibench_conn *
ibench_conn_new(struct ibench *b, unsigned id)
{
	struct ibench_conn *c = rs_xcalloc(1, sizeof(*c));

	c->b = b;
	c->id = id;
	c->state = IBENCH_ST_UNSTARTED;
	ibench_resp_init(&c->resp);
	if (b->opt->idle > 0)
		return c;
	b->live++;
	if (!ibench_conn_begin(c)) {
		c->state = IBENCH_ST_CLOSED;
		b->live--;
	}
	return c;
}

void
ibench_conn_start(struct ibench_conn *c)
{
	struct ibench *b = c->b;

	c->user = c->id % b->opt->users;
	if (!ibench_conn_connect(c)) {
		b->idle_failed++;
		return;
	}
	b->live++;
	b->opening++;
	c->counted = IBENCH_CNT_OPENING;
}

void
ibench_idle_ramp(struct ibench *b)
{
	while (!b->stopping && b->next_idle < b->opt->idle &&
	       b->opening < b->opt->ramp)
		ibench_conn_start(b->conns[b->next_idle++]);
}

void
ibench_conn_stop(struct ibench_conn *c)
{
	struct ibench *b = c->b;
	struct timeval tv = { .tv_sec = b->opt->timeout_s, .tv_usec = 0 };

	if (b->opt->idle == 0 || c->state == IBENCH_ST_UNSTARTED ||
	    c->state == IBENCH_ST_CLOSED)
		return;               /* sessions end after their LOGOUT */
	if (c->state != IBENCH_ST_IDLING) {
		ibench_conn_finish(c, NULL);
		return;
	}
	/* RFC 2177: DONE ends the IDLE; its tagged OK leads to LOGOUT. */
	b->idling--;
	c->counted = IBENCH_CNT_NONE;
	c->state = IBENCH_ST_CMD;
	c->done_sent = true;
	bufferevent_set_timeouts(c->bev, &tv, NULL);
	evbuffer_add(bufferevent_get_output(c->bev), "DONE\r\n", 6);
}

void
ibench_conn_free(struct ibench_conn **cp)
{
	struct ibench_conn *c = *cp;

	if (c == NULL)
		return;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	ibench_resp_free(&c->resp);
	free(c);
	*cp = NULL;
}
