/* bench_common.c: the pieces smtp_bench and imap_bench had each written
 * for themselves (see bench_common.h). Error messages carry the calling
 * program's name so that each tool still says who complains. */
#include "tools/bench/bench_common.h"

#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "lib/rs_buf.h"
#include "lib/rs_mem.h"

/* Microseconds, where lib/rs_time.h's rs_mono_ms is too coarse for
 * sub-millisecond replies. */
uint64_t
bench_common_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int
bench_common_num(const char *prog, const char *name, const char *s,
                 uint64_t min, uint64_t max, bool scaled, uint64_t *v_r)
{
	struct rs_str str = rs_str_cstr(s);
	uint64_t mul = 1;

	if (scaled && str.len > 1) {
		char last = str.p[str.len - 1];

		if (last == 'k' || last == 'K')
			mul = 1024;
		else if (last == 'm' || last == 'M')
			mul = (uint64_t)1024 * 1024;
		if (mul > 1)
			str.len--;
	}
	if (rs_str_to_u64(str, max / mul, v_r) != 0 || *v_r * mul < min) {
		fprintf(stderr, "%s: %s: '%s' is not a number from "
		        "%" PRIu64 " to %" PRIu64 "\n", prog, name, s, min, max);
		return -1;
	}
	*v_r *= mul;
	return 0;
}

int
bench_common_opt_num(const char *prog, const struct bench_common_opt *table,
                     void *opts, int ch, const char *arg)
{
	const struct bench_common_opt *o = table;
	uint64_t v;

	while (o->ch != 0 && o->ch != ch)
		o++;
	if (o->ch == 0)
		return 1;
	if (bench_common_num(prog, o->name, arg, o->min, o->max, o->scaled,
	                     &v) != 0)
		return -1;
	/* Fields are 32 or 64 bits wide; max was checked to fit. */
	if (o->size == sizeof(uint32_t)) {
		uint32_t v32 = (uint32_t)v;

		memcpy((char *)opts + o->off, &v32, sizeof(v32));
	} else
		memcpy((char *)opts + o->off, &v, sizeof(v));
	return 0;
}

int
bench_common_resolve(const char *prog, const char *host, const char *port,
                     struct sockaddr_storage *addr_r, socklen_t *len_r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	int rc = getaddrinfo(host, port, &hints, &ai);

	if (rc != 0) {
		fprintf(stderr, "%s: %s:%s: %s\n", prog, host, port,
		        gai_strerror(rc));
		return -1;
	}
	memcpy(addr_r, ai->ai_addr, ai->ai_addrlen);
	*len_r = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

int
bench_common_resolve_ports(const char *prog, const char *host,
                           const char *ports, unsigned max,
                           struct bench_common_addr **addrs_r, unsigned *n_r)
{
	struct bench_common_addr *a = NULL;
	const char *p = ports;
	unsigned n = 0;

	for (;;) {
		size_t len = strcspn(p, ",");
		char *port;
		int rc;

		if (len == 0 || n == max) {
			fprintf(stderr, "%s: --port: '%s' is not a list of 1 to "
			        "%u ports separated by commas\n", prog, ports,
			        max);
			free(a);
			return -1;
		}
		a = rs_xreallocarray(a, n + 1, sizeof(*a));
		port = rs_xstrndup(p, len);
		rc = bench_common_resolve(prog, host, port, &a[n].ss,
		                          &a[n].len);
		free(port);
		if (rc < 0) {
			free(a);
			return -1;
		}
		n++;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	*addrs_r = a;
	*n_r = n;
	return 0;
}

uint64_t
bench_common_rlimit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	return (uint64_t)rl.rlim_cur;
}

static int
bench_common_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of n (> 0) sorted samples, in ms. */
static double
bench_common_pct(const uint32_t *v, size_t n, unsigned pct)
{
	size_t rank = (n * pct + 99) / 100;

	return v[rank > 0 ? rank - 1 : 0] / 1000.0;
}

struct bench_common_lat
bench_common_lat(uint32_t *us, size_t n)
{
	struct bench_common_lat l = { 0 };

	if (n == 0)
		return l;
	qsort(us, n, sizeof(*us), bench_common_cmp);
	l.p50 = bench_common_pct(us, n, 50);
	l.p90 = bench_common_pct(us, n, 90);
	l.p99 = bench_common_pct(us, n, 99);
	l.max = us[n - 1] / 1000.0;
	return l;
}

double
bench_common_rate(uint64_t count, uint64_t us)
{
	return us > 0 ? count / (us / 1e6) : 0.0;
}

struct bufferevent *
bench_common_bev(struct event_base *base, bufferevent_data_cb on_read,
                 bufferevent_event_cb on_event, void *arg,
                 const struct timeval *tv)
{
	struct bufferevent *bev;

	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return NULL;
	bufferevent_setcb(bev, on_read, NULL, on_event, arg);
	bufferevent_set_timeouts(bev, tv, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return bev;
}

void
bench_common_nodelay(struct bufferevent *bev)
{
	int one = 1;

	(void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY,
	                 &one, sizeof(one));
}

const char *
bench_common_why(short what, bool connecting)
{
	if (what & BEV_EVENT_TIMEOUT)
		return "timeout";
	if (what & BEV_EVENT_EOF)
		return "closed by server";
	return connecting ? "connect failed" : "I/O error";
}

int
bench_common_loop_open(struct bench_common_loop *l, const char *prog,
                       event_callback_fn on_signal,
                       event_callback_fn on_tick, void *arg, bool ticking)
{
	struct timeval tick_tv = { 0, 100000 };

	memset(l, 0, sizeof(*l));
	l->base = event_base_new();
	if (l->base == NULL) {
		fprintf(stderr, "%s: event_base_new failed\n", prog);
		return -1;
	}
	l->sigint = evsignal_new(l->base, SIGINT, on_signal, arg);
	l->sigterm = evsignal_new(l->base, SIGTERM, on_signal, arg);
	l->tick = event_new(l->base, -1, EV_PERSIST, on_tick, arg);
	evsignal_add(l->sigint, NULL);
	evsignal_add(l->sigterm, NULL);
	if (ticking)
		evtimer_add(l->tick, &tick_tv);
	return 0;
}

void
bench_common_loop_close(struct bench_common_loop *l)
{
	event_free(l->tick);
	event_free(l->sigint);
	event_free(l->sigterm);
	event_base_free(l->base);
	memset(l, 0, sizeof(*l));
}
