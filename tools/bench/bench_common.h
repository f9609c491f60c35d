/* bench_common.h: what the load generators (smtp_bench, imap_bench)
 * share: option numbers, the server address, the descriptor limit, the
 * clock, latency percentiles, a client connection's bufferevent and the
 * run loop's signal and tick events. Nothing about either protocol or
 * either report's layout. Nothing outside tools/bench/ includes this. */
#ifndef ROOST_TOOLS_BENCH_COMMON_H
#define ROOST_TOOLS_BENCH_COMMON_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Monotonic microseconds. */
uint64_t bench_common_now_us(void);

/* The options both tools take, with the same meaning (their ranges and
 * defaults are each tool's). getopt_long values; a tool numbers its own
 * from BENCH_COMMON_OPT_TOOL. */
enum {
	BENCH_COMMON_OPT_HOST = 256,
	BENCH_COMMON_OPT_PORT,
	BENCH_COMMON_OPT_DOMAIN,
	BENCH_COMMON_OPT_TIMEOUT,
	BENCH_COMMON_OPT_JSON,
	BENCH_COMMON_OPT_IDLE,
	BENCH_COMMON_OPT_HOLD,
	BENCH_COMMON_OPT_TOOL,
};
/* Their struct option entries (<getopt.h>), to open a tool's table. */
#define BENCH_COMMON_LONGOPTS                                               \
	{ "host", required_argument, NULL, BENCH_COMMON_OPT_HOST },         \
	{ "port", required_argument, NULL, BENCH_COMMON_OPT_PORT },         \
	{ "conns", required_argument, NULL, 'c' },                          \
	{ "users", required_argument, NULL, 'u' },                          \
	{ "domain", required_argument, NULL, BENCH_COMMON_OPT_DOMAIN },     \
	{ "timeout", required_argument, NULL, BENCH_COMMON_OPT_TIMEOUT },   \
	{ "json", no_argument, NULL, BENCH_COMMON_OPT_JSON },               \
	{ "idle", required_argument, NULL, BENCH_COMMON_OPT_IDLE },         \
	{ "hold", required_argument, NULL, BENCH_COMMON_OPT_HOLD },         \
	{ "help", no_argument, NULL, 'h' }

/* A whole decimal number in [min, max], with an optional K or M suffix
 * (powers of 1024) when scaled. 0, or -1 after "<prog>: <name>: '<s>' is
 * not a number from <min> to <max>" on stderr. */
int bench_common_num(const char *prog, const char *name, const char *s,
                     uint64_t min, uint64_t max, bool scaled,
                     uint64_t *v_r);

/* A numeric option and the field of the tool's options struct it sets
 * (an unsigned, uint64_t or size_t): tables of these replace a switch. */
struct bench_common_opt {
	int         ch;               /* getopt_long's value; 0 ends a table */
	const char *name;             /* for messages: "-n", "--idle" */
	uint64_t    min, max;         /* max fits the field */
	bool        scaled;           /* K and M suffixes allowed */
	size_t      off, size;        /* the field */
};
#define BENCH_COMMON_OPT(ch, name, min, max, scaled, type, field)         \
	{ (ch), (name), (min), (max), (scaled), offsetof(type, field),    \
	  sizeof(((type *)NULL)->field) }

/* Sets the field of opts that ch's entry in table names from arg. 0; -1
 * after bench_common_num's message; 1 if ch is not in table. */
int bench_common_opt_num(const char *prog,
                         const struct bench_common_opt *table, void *opts,
                         int ch, const char *arg);

/* The first address of host:port. 0, or -1 after "<prog>: host:port:
 * <why>" on stderr. */
int bench_common_resolve(const char *prog, const char *host,
                         const char *port, struct sockaddr_storage *addr_r,
                         socklen_t *len_r);

/* One server address (bench_common_resolve's result). */
struct bench_common_addr {
	struct sockaddr_storage ss;
	socklen_t               len;
};

/* host with each port of the comma-separated list ports ("25", or
 * "30125,30225,30325" to spread connections over several servers): the
 * first address of each, in the list's order. Returns owned in *addrs_r
 * (the caller frees it) and their number (1 to max) in *n_r. 0, or -1
 * after a message on stderr (an empty entry, more than max entries, or
 * bench_common_resolve's). */
int bench_common_resolve_ports(const char *prog, const char *host,
                               const char *ports, unsigned max,
                               struct bench_common_addr **addrs_r,
                               unsigned *n_r);

/* Each connection is a descriptor: raises the soft RLIMIT_NOFILE to the
 * hard one. Returns the soft limit now, or 0 if it cannot be read. */
uint64_t bench_common_rlimit(void);

/* Nearest-rank percentiles (over every sample, no sampling), in ms. */
struct bench_common_lat {
	double p50, p90, p99, max;
};

/* Sorts the n samples (microseconds) in place; all 0 when n is 0. */
struct bench_common_lat bench_common_lat(uint32_t *us, size_t n);
/* count per second over us microseconds; 0 when us is 0. */
double bench_common_rate(uint64_t count, uint64_t us);

/* A client connection's bufferevent (its socket closed when freed),
 * reading and writing, with read timeout tv (NULL: none). NULL if
 * libevent failed. The caller connects (bufferevent_socket_connect) and
 * decides what a failure means. */
struct bufferevent *bench_common_bev(struct event_base *base,
                                     bufferevent_data_cb on_read,
                                     bufferevent_event_cb on_event,
                                     void *arg, const struct timeval *tv);
/* On BEV_EVENT_CONNECTED: commands are written whole, so Nagle must not
 * hold one back waiting for a delayed ACK. */
void bench_common_nodelay(struct bufferevent *bev);

/* Why a connection ended, from its bufferevent event flags: "timeout",
 * "closed by server", "connect failed" (while connecting) or "I/O error".
 * Static strings. */
const char *bench_common_why(short what, bool connecting);

/* The run loop with SIGINT and SIGTERM going to on_signal and, when
 * ticking, on_tick every 100 ms (idle mode's progress check). */
struct bench_common_loop {
	struct event_base *base;      /* owns */
	struct event      *sigint, *sigterm, *tick; /* owns */
};

/* 0, or -1 after "<prog>: event_base_new failed" on stderr. */
int bench_common_loop_open(struct bench_common_loop *l, const char *prog,
                           event_callback_fn on_signal,
                           event_callback_fn on_tick, void *arg,
                           bool ticking);
/* Frees the events and the base; l is zeroed. */
void bench_common_loop_close(struct bench_common_loop *l);

#endif
