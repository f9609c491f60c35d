/* smtp_bench.c: SMTP load generator. One libevent loop drives C
 * connections that share N messages; reports accepted messages/s,
 * per-message latency and errors, and with --wait-stored the time until a
 * command counts them all stored. --idle N holds N sessions open after
 * EHLO instead, for measuring a server's memory per connection.
 * Plain SMTP to one host, on one port or spread over several (--port
 * P1,P2,...): no TLS, no AUTH, no reconnects. */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/rs_buf.h"
#include "lib/rs_mem.h"
#include "tools/bench/bench_common.h"
#include "tools/bench/bench_int.h"

/* --port takes at most this many ports. */
#define SMTP_BENCH_MAX_PORTS 64

static const char smtp_bench_usage[] =
"usage: smtp_bench [--host H] [--port P[,P...]] [-n N] [-s SIZE] [-c C]\n"
"                  [-u U] [--domain D] [--from ADDR] [--pipelining]\n"
"                  [--wait-stored CMD] [--json] [--timeout SEC]\n"
"       smtp_bench --idle N [--hold SEC] [--host H] [--port P[,P...]]\n"
"\n"
"  --host H           server address (127.0.0.1)\n"
"  --port P[,P...]    server port (25); with a list of k ports,\n"
"                     connection i connects to the (i mod k)-th (to\n"
"                     spread the load over several servers on H)\n"
"  -n, --messages N   messages to send (1000)\n"
"  -s, --size SIZE    bytes per message, headers included; K or M suffix\n"
"                     allowed (4K)\n"
"  -c, --conns C      concurrent connections (10)\n"
"  -u, --users U      recipients user1..userU@D, round-robin (100)\n"
"  --domain D         recipient domain (bench.test)\n"
"  --from ADDR        envelope and header sender (loadgen@bench.example)\n"
"  --helo NAME        EHLO name (localhost)\n"
"  --pipelining       send MAIL, RCPT and DATA together (RFC 2920) when\n"
"                     the server advertises PIPELINING\n"
"  --wait-stored CMD  after sending, run the shell command CMD every 100 ms\n"
"                     until the number it prints has grown by the number\n"
"                     of accepted messages; report the time from the start\n"
"  --wait-timeout SEC give up waiting for stored messages (600)\n"
"  --timeout SEC      per-reply timeout (120)\n"
"  --json             also print the result as one JSON line\n"
"  --idle N           open N sessions, EHLO, print a 'ready' line, hold\n"
"  --hold SEC         idle mode: hold SEC seconds, else until SIGTERM\n"
"\n"
"Exit status: 0 all messages accepted (and stored), 1 some were not, 2 usage.\n";

enum {
	SMTP_BENCH_OPT_FROM = BENCH_COMMON_OPT_TOOL,
	SMTP_BENCH_OPT_HELO,
	SMTP_BENCH_OPT_PIPELINING,
	SMTP_BENCH_OPT_WAIT,
	SMTP_BENCH_OPT_WAIT_TIMEOUT,
};

static const struct option smtp_bench_longopts[] = {
	BENCH_COMMON_LONGOPTS,
	{ "messages", required_argument, NULL, 'n' },
	{ "size", required_argument, NULL, 's' },
	{ "from", required_argument, NULL, SMTP_BENCH_OPT_FROM },
	{ "helo", required_argument, NULL, SMTP_BENCH_OPT_HELO },
	{ "pipelining", no_argument, NULL, SMTP_BENCH_OPT_PIPELINING },
	{ "wait-stored", required_argument, NULL, SMTP_BENCH_OPT_WAIT },
	{ "wait-timeout", required_argument, NULL,
	  SMTP_BENCH_OPT_WAIT_TIMEOUT },
	{ NULL, 0, NULL, 0 },
};

/* The numeric options and their ranges. */
static const struct bench_common_opt smtp_bench_numopts[] = {
	BENCH_COMMON_OPT('n', "-n", 1, UINT32_MAX, false, struct bench_opts,
	                 messages),
	BENCH_COMMON_OPT('s', "-s", 1, 1u << 30, true, struct bench_opts, size),
	BENCH_COMMON_OPT('c', "-c", 1, 100000, false, struct bench_opts, conns),
	BENCH_COMMON_OPT('u', "-u", 1, 10000000, false, struct bench_opts,
	                 users),
	BENCH_COMMON_OPT(BENCH_COMMON_OPT_IDLE, "--idle", 1, 100000, false,
	                 struct bench_opts, idle),
	BENCH_COMMON_OPT(BENCH_COMMON_OPT_HOLD, "--hold", 0, 86400, false,
	                 struct bench_opts, hold_s),
	BENCH_COMMON_OPT(BENCH_COMMON_OPT_TIMEOUT, "--timeout", 1, 86400, false,
	                 struct bench_opts, timeout_s),
	BENCH_COMMON_OPT(SMTP_BENCH_OPT_WAIT_TIMEOUT, "--wait-timeout", 1,
	                 86400, false, struct bench_opts, wait_timeout_s),
	{ 0 },
};

/* 0, 1 after --help, -1 after a usage message. */
static int
smtp_bench_opts(struct bench_opts *o, int argc, char **argv)
{
	int ch;

	*o = (struct bench_opts){
		.host = "127.0.0.1", .port = "25", .domain = "bench.test",
		.from = "loadgen@bench.example", .helo = "localhost",
		.messages = 1000, .size = 4096, .conns = 10, .users = 100,
		.timeout_s = 120, .wait_timeout_s = 600,
	};
	while ((ch = getopt_long(argc, argv, "n:s:c:u:h", smtp_bench_longopts,
	                         NULL)) != -1) {
		switch (ch) {
		case BENCH_COMMON_OPT_HOST: o->host = optarg; break;
		case BENCH_COMMON_OPT_PORT: o->port = optarg; break;
		case BENCH_COMMON_OPT_DOMAIN: o->domain = optarg; break;
		case SMTP_BENCH_OPT_FROM: o->from = optarg; break;
		case SMTP_BENCH_OPT_HELO: o->helo = optarg; break;
		case SMTP_BENCH_OPT_WAIT: o->wait_cmd = optarg; break;
		case SMTP_BENCH_OPT_PIPELINING: o->pipelining = true; break;
		case BENCH_COMMON_OPT_JSON: o->json = true; break;
		case 'h':
			fputs(smtp_bench_usage, stdout);
			return 1;
		case '?':
			fputs(smtp_bench_usage, stderr);
			return -1;
		default:
			if (bench_common_opt_num("smtp_bench", smtp_bench_numopts,
			                         o, ch, optarg) != 0)
				return -1;
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "smtp_bench: unexpected argument '%s'\n",
		        argv[optind]);
		return -1;
	}
	return 0;
}

/* Runs the shell command and parses the first number it prints; -1 if it
 * failed or printed none. */
static int64_t
smtp_bench_count(const char *cmd)
{
	char line[128];
	FILE *p = popen(cmd, "r");
	int64_t v = -1;

	if (p == NULL)
		return -1;
	if (fgets(line, sizeof(line), p) != NULL) {
		char *end;
		unsigned long long n;

		errno = 0;
		n = strtoull(line, &end, 10);
		if (errno == 0 && end != line && n <= INT64_MAX)
			v = (int64_t)n;
	}
	while (fgets(line, sizeof(line), p) != NULL)
		;
	if (pclose(p) != 0)
		v = -1;
	return v;
}

static void
smtp_bench_sleep_until(uint64_t t_us)
{
	uint64_t now = bench_common_now_us();
	struct timespec ts;

	if (t_us <= now)
		return;
	ts.tv_sec = (time_t)((t_us - now) / 1000000u);
	ts.tv_nsec = (long)((t_us - now) % 1000000u) * 1000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* --wait-stored: polls every 100 ms until the count has grown by the
 * accepted messages. The time kept is when the successful poll started,
 * so it is late by at most one poll interval plus the command's run. */
static void
smtp_bench_wait_stored(struct bench *b)
{
	uint64_t deadline = bench_common_now_us() +
	    (uint64_t)b->opt->wait_timeout_s * 1000000u;
	uint64_t target = b->stored.baseline + b->accepted;
	bool warned = false;

	for (;;) {
		uint64_t t = bench_common_now_us();
		int64_t v = smtp_bench_count(b->opt->wait_cmd);

		if (v < 0 && !warned) {
			fprintf(stderr, "smtp_bench: --wait-stored command "
			        "failed or printed no number\n");
			warned = true;
		}
		if (v >= 0) {
			b->stored.count = (uint64_t)v > b->stored.baseline ?
			    (uint64_t)v - b->stored.baseline : 0;
			b->stored.elapsed_us = t - b->t_start_us;
			if ((uint64_t)v >= target) {
				b->stored.done = true;
				return;
			}
		}
		if (b->stopping || t >= deadline)
			return;
		smtp_bench_sleep_until(t + 100000u);
	}
}

static void
smtp_bench_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct bench *b = arg;

	(void)sig;
	(void)what;
	if (b->stopping) {
		event_base_loopbreak(b->base);
		return;
	}
	b->stopping = true;
	if (b->opt->idle > 0) {
		struct timeval grace = { 5, 0 };

		b->held = b->ready;
		for (unsigned i = 0; i < b->nconns; i++)
			bench_conn_quit(b->conns[i]);
		event_base_loopexit(b->base, &grace);
	}
	/* Sending: every connection QUITs after its current message. */
}

/* Idle mode, every 100 ms: announce once every live session is past
 * EHLO (scripts wait for this line), then start the --hold timer. */
static void
smtp_bench_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;

	(void)fd;
	(void)what;
	if (b->held > 0 || b->stopping || b->ready < b->live)
		return;
	b->held = b->ready;
	printf("smtp_bench: idle: %u connections ready (%u failed)\n",
	       b->ready, b->opt->idle - b->ready);
	fflush(stdout);
	if (b->opt->hold_s > 0) {
		struct timeval hold = { (time_t)b->opt->hold_s, 0 };

		event_base_once(b->base, -1, EV_TIMEOUT, smtp_bench_on_signal,
		                b, &hold);
	}
}

static int
smtp_bench_run(struct bench *b)
{
	const struct bench_opts *o = b->opt;
	struct bench_common_loop loop;
	int rc;

	if (bench_common_loop_open(&loop, "smtp_bench", smtp_bench_on_signal,
	                           smtp_bench_on_tick, b, o->idle > 0) < 0)
		return -1;
	b->base = loop.base;
	b->nconns = o->idle > 0 ? o->idle : o->conns;
	/* An array of pointers: sizeof(struct bench_conn *) is meant. */
	b->conns = rs_xreallocarray(NULL, b->nconns,
	                            sizeof(*b->conns)); /* NOLINT */
	b->t_start_us = bench_common_now_us();
	for (unsigned i = 0; i < b->nconns; i++)
		b->conns[i] = bench_conn_new(b, i);
	rc = b->live > 0 ? event_base_dispatch(b->base) : 0;
	b->t_end_us = bench_common_now_us();

	for (unsigned i = 0; i < b->nconns; i++)
		bench_conn_free(&b->conns[i]);
	RS_FREE(&b->conns);
	bench_common_loop_close(&loop);
	b->base = NULL;
	return rc < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct bench_opts opt;
	struct bench b = { 0 };
	int rc = smtp_bench_opts(&opt, argc, argv);

	if (rc != 0)
		return rc > 0 ? 0 : 2;
	b.opt = &opt;
	if (bench_common_resolve_ports("smtp_bench", opt.host, opt.port,
	                               SMTP_BENCH_MAX_PORTS, &b.addrs,
	                               &b.naddrs) < 0)
		return 2;
	b.port_accepted = rs_xcalloc(b.naddrs, sizeof(*b.port_accepted));
	signal(SIGPIPE, SIG_IGN);
	(void)bench_common_rlimit();
	bench_msg_init(&b.msg, opt.size);
	b.lat_us = rs_xreallocarray(NULL, opt.messages, sizeof(*b.lat_us));
	b.dot_us = rs_xreallocarray(NULL, opt.messages, sizeof(*b.dot_us));
	if (opt.wait_cmd != NULL && opt.idle == 0) {
		int64_t v = smtp_bench_count(opt.wait_cmd);

		b.stored.baseline = v > 0 ? (uint64_t)v : 0;
	}

	rc = smtp_bench_run(&b);
	if (rc == 0 && opt.idle > 0)
		bench_report_idle(&b);
	else if (rc == 0) {
		if (opt.wait_cmd != NULL && b.accepted > 0)
			smtp_bench_wait_stored(&b);
		bench_report_print(&b);
	}
	bench_msg_free(&b.msg);
	RS_FREE(&b.lat_us);
	RS_FREE(&b.dot_us);
	RS_FREE(&b.addrs);
	RS_FREE(&b.port_accepted);
	if (rc < 0)
		return 1;
	if (opt.idle > 0)
		return b.held == opt.idle ? 0 : 1;
	return b.accepted == opt.messages &&
	       (opt.wait_cmd == NULL || b.stored.done) ? 0 : 1;
}
