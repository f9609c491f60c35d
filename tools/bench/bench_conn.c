/* bench_conn.c: one SMTP client connection of smtp_bench on a libevent
 * bufferevent: greeting, EHLO, then transactions until the run's messages
 * are handed out, then QUIT (or, in idle mode, hold after EHLO). Replies
 * are matched to commands through a small queue, which is what makes
 * PIPELINING (RFC 2920) work. Does not reconnect. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_buf.h"
#include "lib/rs_mem.h"
#include "tools/bench/bench_common.h"
#include "tools/bench/bench_int.h"

/* A reply line longer than this is a protocol error (RFC 5321 4.5.3.1.5
 * says 512; leave room for long EHLO keywords). */
#define BENCH_CONN_MAX_LINE 4096

enum bench_conn_state {
	BENCH_CONN_CONNECTING,
	BENCH_CONN_GREETING,
	BENCH_CONN_EHLO,
	BENCH_CONN_SEND,           /* transactions */
	BENCH_CONN_IDLE,           /* idle mode: holding after EHLO */
	BENCH_CONN_QUIT,
	BENCH_CONN_CLOSED,
};

/* What the next reply answers. */
enum bench_conn_expect {
	BENCH_EXP_MAIL,
	BENCH_EXP_RCPT,
	BENCH_EXP_DATA,
	BENCH_EXP_DOT,
	BENCH_EXP_RSET,
};

enum bench_conn_txn {
	BENCH_TXN_NONE,
	BENCH_TXN_ACTIVE,          /* MAIL sent, not finished */
	BENCH_TXN_RSET,            /* failed; RSET sent */
};

#define BENCH_CONN_QMAX 4

struct bench_conn {
	struct bench          *b;        /* borrowed */
	struct bufferevent    *bev;      /* owns */
	unsigned               id;
	enum bench_conn_state  state;
	enum bench_conn_txn    txn;
	bool                   pipelining;   /* advertised and wanted */
	bool                   failed;       /* this transaction */
	uint64_t               msg;          /* current message index */
	uint64_t               t_mail_us;
	uint64_t               t_dot_us;     /* data written */
	enum bench_conn_expect q[BENCH_CONN_QMAX];
	unsigned               qhead, qlen;
};

static void
bench_conn_push(struct bench_conn *c, enum bench_conn_expect e)
{
	c->q[(c->qhead + c->qlen++) % BENCH_CONN_QMAX] = e;
}

static enum bench_conn_expect
bench_conn_pop(struct bench_conn *c)
{
	enum bench_conn_expect e = c->q[c->qhead];

	c->qhead = (c->qhead + 1) % BENCH_CONN_QMAX;
	c->qlen--;
	return e;
}

static void
bench_conn_code(struct bench *b, int code)
{
	if (code >= 0 && code < BENCH_NCODES)
		b->codes[code]++;
}

/* The one place a connection ends; the struct stays until
 * bench_conn_free() so that the run's array never dangles. */
static void
bench_conn_close(struct bench_conn *c, const char *why)
{
	struct bench *b = c->b;

	if (c->state == BENCH_CONN_CLOSED)
		return;
	if (why != NULL) {
		b->conn_errors++;
		if (b->conn_errors <= 10)
			fprintf(stderr, "smtp_bench: conn %u: %s\n", c->id, why);
	}
	if (c->txn == BENCH_TXN_ACTIVE)
		b->lost++;
	c->txn = BENCH_TXN_NONE;
	if (c->state == BENCH_CONN_IDLE && b->ready > 0)
		b->ready--;
	c->state = BENCH_CONN_CLOSED;
	bufferevent_free(c->bev);
	c->bev = NULL;
	if (--b->live == 0)
		event_base_loopexit(b->base, NULL);
}

static struct evbuffer *
bench_conn_out(struct bench_conn *c)
{
	return bufferevent_get_output(c->bev);
}

static void
bench_conn_rcpt(struct bench_conn *c)
{
	evbuffer_add_printf(bench_conn_out(c), "RCPT TO:<user%u@%s>\r\n",
	                    bench_msg_user(c->b->opt, c->msg),
	                    c->b->opt->domain);
}

/* Starts the next transaction, or QUITs when all messages are handed out. */
static void
bench_conn_next(struct bench_conn *c)
{
	struct bench *b = c->b;

	if (b->next_msg >= b->opt->messages || b->stopping) {
		c->state = BENCH_CONN_QUIT;
		c->txn = BENCH_TXN_NONE;
		evbuffer_add(bench_conn_out(c), "QUIT\r\n", 6);
		return;
	}
	c->msg = b->next_msg++;
	c->txn = BENCH_TXN_ACTIVE;
	c->failed = false;
	c->t_mail_us = bench_common_now_us();
	evbuffer_add_printf(bench_conn_out(c), "MAIL FROM:<%s>\r\n",
	                    b->opt->from);
	bench_conn_push(c, BENCH_EXP_MAIL);
	if (!c->pipelining)
		return;
	/* RFC 2920 3.1: RCPT and DATA may follow MAIL without waiting;
	 * DATA is the last command of the group. */
	bench_conn_rcpt(c);
	evbuffer_add(bench_conn_out(c), "DATA\r\n", 6);
	bench_conn_push(c, BENCH_EXP_RCPT);
	bench_conn_push(c, BENCH_EXP_DATA);
}

/* A latency sample, clamped to what the sample arrays hold. */
static uint32_t
bench_conn_us32(uint64_t us)
{
	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void
bench_conn_fail(struct bench_conn *c, int code)
{
	bench_conn_code(c->b, code);
	c->failed = true;
}

/* A reply to a transaction command. */
static void
bench_conn_txn_reply(struct bench_conn *c, int code)
{
	struct bench *b = c->b;
	bool ok = code / 100 == 2;

	switch (bench_conn_pop(c)) {
	case BENCH_EXP_MAIL:
		if (!ok)
			bench_conn_fail(c, code);
		else if (!c->pipelining) {
			bench_conn_rcpt(c);
			bench_conn_push(c, BENCH_EXP_RCPT);
		}
		break;
	case BENCH_EXP_RCPT:
		if (!ok)
			bench_conn_fail(c, code);
		else if (!c->pipelining) {
			evbuffer_add(bench_conn_out(c), "DATA\r\n", 6);
			bench_conn_push(c, BENCH_EXP_DATA);
		}
		break;
	case BENCH_EXP_DATA:
		/* Even after a refused RCPT, a 354 means the server now
		 * reads data, so the body must follow. */
		if (code == 354) {
			bench_msg_write(&b->msg, b->opt, c->msg,
			                bufferevent_get_output(c->bev));
			c->t_dot_us = bench_common_now_us();
			bench_conn_push(c, BENCH_EXP_DOT);
		} else
			bench_conn_fail(c, code);
		break;
	case BENCH_EXP_DOT:
		if (ok && !c->failed) {
			uint64_t now = bench_common_now_us();

			b->dot_us[b->accepted] = bench_conn_us32(now -
			                                         c->t_dot_us);
			b->lat_us[b->accepted++] = bench_conn_us32(now -
			                                           c->t_mail_us);
			b->t_last_ok_us = now;
			b->port_accepted[c->id % b->naddrs]++;
			c->txn = BENCH_TXN_NONE;
		} else if (!ok)
			bench_conn_fail(c, code);
		else
			c->failed = true;
		break;
	case BENCH_EXP_RSET:
		if (!ok)
			bench_conn_code(b, code);
		c->txn = BENCH_TXN_NONE;
		break;
	}
	if (c->qlen > 0)
		return;
	if (c->txn == BENCH_TXN_ACTIVE) {
		/* Only a failure leaves the transaction open with nothing
		 * outstanding: count it and reset the server's state. */
		b->refused++;
		c->txn = BENCH_TXN_RSET;
		evbuffer_add(bench_conn_out(c), "RSET\r\n", 6);
		bench_conn_push(c, BENCH_EXP_RSET);
		return;
	}
	bench_conn_next(c);
}

/* EHLO answered: note PIPELINING (RFC 2920 2), then start working. */
static void
bench_conn_ehlo_done(struct bench_conn *c, int code, bool pipelining)
{
	struct bench *b = c->b;

	if (code != 250) {
		bench_conn_code(b, code);
		bench_conn_close(c, "EHLO refused");
		return;
	}
	c->pipelining = pipelining && b->opt->pipelining;
	if (c->pipelining)
		b->pipelined_conns++;
	if (b->opt->idle > 0) {
		c->state = BENCH_CONN_IDLE;
		b->ready++;
		return;
	}
	c->state = BENCH_CONN_SEND;
	bench_conn_next(c);
}

/* One complete reply. Returns -1 when the connection was closed. */
static int
bench_conn_reply(struct bench_conn *c, int code, bool pipelining)
{
	if (code == 421 && c->state != BENCH_CONN_QUIT) {
		/* RFC 5321 3.8: the server is closing the channel; whatever
		 * was in flight is refused. */
		bench_conn_code(c->b, code);
		if (c->txn == BENCH_TXN_ACTIVE) {
			c->b->refused++;
			c->txn = BENCH_TXN_NONE;
		}
		bench_conn_close(c, "421 from server");
		return -1;
	}
	switch (c->state) {
	case BENCH_CONN_GREETING:
		if (code != 220) {
			bench_conn_code(c->b, code);
			bench_conn_close(c, "greeting refused");
			return -1;
		}
		c->state = BENCH_CONN_EHLO;
		evbuffer_add_printf(bench_conn_out(c), "EHLO %s\r\n",
		                    c->b->opt->helo);
		return 0;
	case BENCH_CONN_EHLO:
		bench_conn_ehlo_done(c, code, pipelining);
		return c->state == BENCH_CONN_CLOSED ? -1 : 0;
	case BENCH_CONN_SEND:
		if (c->qlen == 0) {
			bench_conn_code(c->b, code);
			bench_conn_close(c, "unexpected reply");
			return -1;
		}
		bench_conn_txn_reply(c, code);
		return 0;
	case BENCH_CONN_QUIT:
		bench_conn_close(c, NULL);
		return -1;
	case BENCH_CONN_IDLE:
		bench_conn_code(c->b, code);
		bench_conn_close(c, "reply while idle");
		return -1;
	case BENCH_CONN_CONNECTING:
	case BENCH_CONN_CLOSED:
		break;
	}
	return -1;
}

/* "250-…" continues a reply, "250 …" or "250" ends it (RFC 5321 4.2.1).
 * Returns the code, or -1 for a malformed line. */
static int
bench_conn_parse(const char *line, size_t n, bool *last_r)
{
	if (n < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '9' || line[2] < '0' || line[2] > '9')
		return -1;
	if (n > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	*last_r = n == 3 || line[3] == ' ';
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

static void
bench_conn_on_read(struct bufferevent *bev, void *arg)
{
	struct bench_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	bool pipelining = false;

	for (;;) {
		size_t n;
		char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
		bool last = false;
		int code;

		if (line == NULL) {
			if (evbuffer_get_length(in) > BENCH_CONN_MAX_LINE)
				bench_conn_close(c, "reply line too long");
			return;
		}
		code = bench_conn_parse(line, n, &last);
		if (code > 0 && c->state == BENCH_CONN_EHLO && n > 4 &&
		    rs_str_ieq_cstr(rs_str_trim(rs_str_make(line + 4, n - 4)),
		                    "PIPELINING"))
			pipelining = true;
		free(line);
		if (code < 0) {
			bench_conn_close(c, "malformed reply");
			return;
		}
		if (!last)
			continue;
		if (bench_conn_reply(c, code, pipelining) < 0)
			return;
		pipelining = false;
	}
}

static void
bench_conn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct bench_conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		/* Not even a DATA tail waits for a delayed ACK. */
		bench_common_nodelay(bev);
		c->state = BENCH_CONN_GREETING;
		return;
	}
	if ((what & BEV_EVENT_EOF) && c->state == BENCH_CONN_QUIT &&
	    c->qlen == 0) {
		bench_conn_close(c, NULL);
		return;
	}
	bench_conn_close(c, bench_common_why(what,
	                                     c->state == BENCH_CONN_CONNECTING));
}

struct bench_conn *
bench_conn_new(struct bench *b, unsigned id)
{
	struct bench_conn *c = rs_xcalloc(1, sizeof(*c));
	struct timeval tv = { .tv_sec = b->opt->timeout_s, .tv_usec = 0 };
	const struct bench_common_addr *addr;

	c->b = b;
	c->id = id;
	c->state = BENCH_CONN_CONNECTING;
	b->live++;
	/* Idle sessions wait as long as they are told to; the server's own
	 * idle timeout is part of what idle mode shows. */
	c->bev = bench_common_bev(b->base, bench_conn_on_read,
	                          bench_conn_on_event, c,
	                          b->opt->idle > 0 ? NULL : &tv);
	if (c->bev == NULL) {
		c->state = BENCH_CONN_CLOSED;
		b->live--;
		b->conn_errors++;
		return c;
	}
	/* Several --port entries: connection i goes to the (i mod k)-th,
	 * so C connections spread evenly over k servers. */
	addr = &b->addrs[id % b->naddrs];
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&addr->ss,
	                               (int)addr->len) < 0)
		bench_conn_close(c, "connect failed");
	return c;
}

void
bench_conn_quit(struct bench_conn *c)
{
	if (c->state == BENCH_CONN_IDLE) {
		c->b->ready--;
		c->state = BENCH_CONN_QUIT;
		evbuffer_add(bench_conn_out(c), "QUIT\r\n", 6);
	} else if (c->state != BENCH_CONN_QUIT)
		bench_conn_close(c, NULL);
}

void
bench_conn_free(struct bench_conn **cp)
{
	struct bench_conn *c = *cp;

	if (c == NULL)
		return;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	free(c);
	*cp = NULL;
}
