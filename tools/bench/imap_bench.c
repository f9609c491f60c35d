/* imap_bench.c: IMAP load generator. One libevent loop drives C
 * connections that run S sessions in all (LOGIN, SELECT, UID FETCH of a
 * window of messages, UID STORE, UID SEARCH, LOGOUT) and reports
 * sessions/s, fetched messages/s, bytes/s and latency per command.
 * --idle N holds N connections in IDLE instead, for measuring a server's
 * memory per idle client. Plain IMAP on one address only: no TLS, no
 * STARTTLS, no AUTHENTICATE. */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_buf.h"
#include "lib/rs_mem.h"
#include "lib/rs_rand.h"
#include "tools/bench/imap_bench.h"

static const char ibench_usage[] =
"usage: imap_bench [--host H] [--port P] [-S SESSIONS] [-c C] [-u U]\n"
"                  [--domain D] [--pass PW | --user-file FILE]\n"
"                  [-m M] [--window-order random|seq] [--fetch ITEMS]\n"
"                  [--store ITEMS] [--search CRITERIA] [--mailbox NAME]\n"
"                  [--seed N] [--timeout SEC] [--json]\n"
"       imap_bench --idle N [--hold SEC] [--ramp R] [--host H] [--port P]\n"
"                  [-u U] [--domain D] [--pass PW | --user-file FILE]\n"
"\n"
"  --host H            server address (127.0.0.1)\n"
"  --port P            server port (143)\n"
"  -S, --sessions N    sessions to run in all (1000)\n"
"  -c, --conns C       concurrent connections (20)\n"
"  -u, --users U       log in as user1..userU@D, round-robin (100)\n"
"  --domain D          the users' domain (bench.test)\n"
"  --pass PW           every user's password (bench)\n"
"  --user-file FILE    users instead, one 'name [password]' a line\n"
"  -m, --window M      messages per FETCH (50)\n"
"  --window-order O    random (default): a random window of M UIDs;\n"
"                      seq: each user's next M UIDs, wrapping\n"
"  --fetch ITEMS       UID FETCH items ('(UID FLAGS RFC822.SIZE\n"
"                      BODY.PEEK[])'); '' skips FETCH\n"
"  --store ITEMS       UID STORE items ('+FLAGS (\\Seen)'); '' skips\n"
"  --search CRITERIA   UID SEARCH criteria ('UNSEEN'); '' skips\n"
"  --mailbox NAME      mailbox to SELECT (INBOX)\n"
"  --seed N            seed of the random windows (random)\n"
"  --timeout SEC       per-response timeout (60)\n"
"  --json              also print the result as one JSON line\n"
"  --idle N            open N connections, LOGIN, SELECT, IDLE; print a\n"
"                      line once all are idling, then hold\n"
"  --hold SEC          idle mode: hold SEC seconds, else until SIGTERM\n"
"  --ramp R            idle mode: at most R connections opening at once\n"
"                      (200)\n"
"\n"
"Exit status: 0 every session succeeded (every connection idled), 1 not,\n"
"2 usage.\n";

enum {
	IBENCH_OPT_PASS = BENCH_COMMON_OPT_TOOL,
	IBENCH_OPT_USER_FILE,
	IBENCH_OPT_ORDER,
	IBENCH_OPT_FETCH,
	IBENCH_OPT_STORE,
	IBENCH_OPT_SEARCH,
	IBENCH_OPT_MAILBOX,
	IBENCH_OPT_SEED,
	IBENCH_OPT_RAMP,
};

static const struct option ibench_longopts[] = {
	BENCH_COMMON_LONGOPTS,
	{ "sessions", required_argument, NULL, 'S' },
	{ "pass", required_argument, NULL, IBENCH_OPT_PASS },
	{ "user-file", required_argument, NULL, IBENCH_OPT_USER_FILE },
	{ "window", required_argument, NULL, 'm' },
	{ "window-order", required_argument, NULL, IBENCH_OPT_ORDER },
	{ "fetch", required_argument, NULL, IBENCH_OPT_FETCH },
	{ "store", required_argument, NULL, IBENCH_OPT_STORE },
	{ "search", required_argument, NULL, IBENCH_OPT_SEARCH },
	{ "mailbox", required_argument, NULL, IBENCH_OPT_MAILBOX },
	{ "seed", required_argument, NULL, IBENCH_OPT_SEED },
	{ "ramp", required_argument, NULL, IBENCH_OPT_RAMP },
	{ NULL, 0, NULL, 0 },
};

uint64_t
ibench_rand(struct ibench *b, uint64_t n)
{
	uint64_t x = b->rnd;

	/* xorshift64: reproducible with --seed, and cheap. */
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	b->rnd = x;
	return x % n;
}

/* The numeric options and their ranges. */
static const struct bench_common_opt ibench_numopts[] = {
	BENCH_COMMON_OPT('S', "-S", 1, UINT32_MAX, false, struct ibench_opts,
	                 sessions),
	BENCH_COMMON_OPT('c', "-c", 1, 100000, false, struct ibench_opts,
	                 conns),
	BENCH_COMMON_OPT('u', "-u", 1, 10000000, false, struct ibench_opts,
	                 users),
	BENCH_COMMON_OPT('m', "-m", 1, 10000000, false, struct ibench_opts,
	                 window),
	BENCH_COMMON_OPT(IBENCH_OPT_SEED, "--seed", 1, UINT64_MAX, false,
	                 struct ibench_opts, seed),
	BENCH_COMMON_OPT(BENCH_COMMON_OPT_IDLE, "--idle", 1, 1000000, false,
	                 struct ibench_opts, idle),
	BENCH_COMMON_OPT(BENCH_COMMON_OPT_HOLD, "--hold", 0, 86400 * 7, false,
	                 struct ibench_opts, hold_s),
	BENCH_COMMON_OPT(IBENCH_OPT_RAMP, "--ramp", 1, 1000000, false,
	                 struct ibench_opts, ramp),
	BENCH_COMMON_OPT(BENCH_COMMON_OPT_TIMEOUT, "--timeout", 1, 86400, false,
	                 struct ibench_opts, timeout_s),
	{ 0 },
};

/* The string options; true if ch was one. */
static bool
ibench_opt_str(struct ibench_opts *o, int ch, const char *arg)
{
	switch (ch) {
	case BENCH_COMMON_OPT_HOST: o->host = arg; return true;
	case BENCH_COMMON_OPT_PORT: o->port = arg; return true;
	case BENCH_COMMON_OPT_DOMAIN: o->domain = arg; return true;
	case IBENCH_OPT_PASS: o->pass = arg; return true;
	case IBENCH_OPT_USER_FILE: o->user_file = arg; return true;
	case IBENCH_OPT_FETCH: o->fetch_items = arg; return true;
	case IBENCH_OPT_STORE: o->store_items = arg; return true;
	case IBENCH_OPT_SEARCH: o->search = arg; return true;
	case IBENCH_OPT_MAILBOX: o->mailbox = arg; return true;
	case BENCH_COMMON_OPT_JSON: o->json = true; return true;
	default: return false;
	}
}

/* Command text goes into the protocol as it is: no CR or LF in it. */
static int
ibench_opts_check(const struct ibench_opts *o)
{
	const char *const s[] = { o->fetch_items, o->store_items, o->search,
	                          o->mailbox, o->pass, o->domain };

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		if (strpbrk(s[i], "\r\n") != NULL) {
			fprintf(stderr, "imap_bench: options must not hold "
			        "CR or LF\n");
			return -1;
		}
	}
	return 0;
}

/* 0, 1 after --help, -1 after a usage message. */
static int
ibench_opts(struct ibench_opts *o, int argc, char **argv)
{
	int ch;

	*o = (struct ibench_opts){
		.host = "127.0.0.1", .port = "143", .domain = "bench.test",
		.pass = "bench", .mailbox = "INBOX",
		.fetch_items = "(UID FLAGS RFC822.SIZE BODY.PEEK[])",
		.store_items = "+FLAGS (\\Seen)", .search = "UNSEEN",
		.sessions = 1000, .conns = 20, .users = 100, .window = 50,
		.ramp = 200, .timeout_s = 60,
	};
	while ((ch = getopt_long(argc, argv, "S:c:u:m:h", ibench_longopts,
	                         NULL)) != -1) {
		if (ibench_opt_str(o, ch, optarg))
			continue;
		if (ch == 'h') {
			fputs(ibench_usage, stdout);
			return 1;
		}
		if (ch == '?') {
			fputs(ibench_usage, stderr);
			return -1;
		}
		if (ch == IBENCH_OPT_ORDER) {
			if (strcmp(optarg, "seq") != 0 &&
			    strcmp(optarg, "random") != 0) {
				fprintf(stderr, "imap_bench: --window-order: "
				        "random or seq\n");
				return -1;
			}
			o->window_seq = strcmp(optarg, "seq") == 0;
			continue;
		}
		if (bench_common_opt_num("imap_bench", ibench_numopts, o, ch,
		                         optarg) != 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "imap_bench: unexpected argument '%s'\n",
		        argv[optind]);
		return -1;
	}
	if (o->seed == 0)
		o->seed = rs_rand_u64() | 1;
	return ibench_opts_check(o);
}

/* One "name [password]" line of --user-file; false if it holds none. */
static bool
ibench_user_line(char *line, const char *pass, struct ibench_user *u)
{
	char *name, *pw, *save = NULL;

	line[strcspn(line, "\r\n")] = '\0';
	name = strtok_r(line, " \t", &save);
	if (name == NULL || name[0] == '#')
		return false;
	pw = strtok_r(NULL, " \t", &save);
	u->name = rs_xstrdup(name);
	u->pass = rs_xstrdup(pw != NULL ? pw : pass);
	u->next_uid = 1;
	return true;
}

static int
ibench_users_file(struct ibench *b, struct ibench_opts *o)
{
	FILE *f = fopen(o->user_file, "r");
	char line[1024];
	size_t cap = 0, n = 0;

	if (f == NULL) {
		fprintf(stderr, "imap_bench: %s: %s\n", o->user_file,
		        strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fprintf(stderr, "imap_bench: %s: line %zu too long\n",
			        o->user_file, n + 1);
			fclose(f);
			return -1;
		}
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			b->users = rs_xreallocarray(b->users, cap,
			                            sizeof(*b->users));
		}
		if (ibench_user_line(line, o->pass, &b->users[n]))
			n++;
		if (n >= 10000000)
			break;
	}
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "imap_bench: %s: no users\n", o->user_file);
		return -1;
	}
	o->users = (unsigned)n;
	return 0;
}

static int
ibench_users(struct ibench *b, struct ibench_opts *o)
{
	if (o->user_file != NULL)
		return ibench_users_file(b, o);
	b->users = rs_xreallocarray(NULL, o->users, sizeof(*b->users));
	for (unsigned i = 0; i < o->users; i++) {
		b->users[i].name = rs_xasprintf("user%u@%s", i + 1, o->domain);
		b->users[i].pass = rs_xstrdup(o->pass);
		b->users[i].next_uid = 1;
	}
	return 0;
}

static void
ibench_users_free(struct ibench *b)
{
	for (unsigned i = 0; b->users != NULL && i < b->opt->users; i++) {
		RS_FREE(&b->users[i].name);
		RS_FREE(&b->users[i].pass);
	}
	RS_FREE(&b->users);
}

/* Each connection is a descriptor: take all the hard limit allows, and
 * say so when that is too few for idle mode. */
static void
ibench_rlimit(const struct ibench_opts *o)
{
	uint64_t lim = bench_common_rlimit();

	if (o->idle > 0 && lim != 0 && lim < (uint64_t)o->idle + 16)
		fprintf(stderr, "imap_bench: RLIMIT_NOFILE is %llu: not "
		        "enough for %u connections\n", (unsigned long long)lim,
		        o->idle);
}

static void
ibench_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct ibench *b = arg;

	(void)sig;
	(void)what;
	if (b->stopping) {
		event_base_loopbreak(b->base);
		return;
	}
	b->stopping = true;
	if (b->opt->idle > 0) {
		struct timeval grace = { 30, 0 };

		if (!b->announced)
			b->held = b->idling;
		for (unsigned i = 0; i < b->nconns; i++)
			ibench_conn_stop(b->conns[i]);
		if (b->live == 0)
			event_base_loopexit(b->base, NULL);
		else
			event_base_loopexit(b->base, &grace);
	}
	/* Sessions: every connection ends after its current session. */
}

/* Idle mode, every 100 ms: once every connection is idling or has
 * failed, announce it (scripts wait for this line), then start the
 * --hold timer. */
static void
ibench_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct ibench *b = arg;

	(void)fd;
	(void)what;
	if (b->announced || b->stopping || b->opening > 0 ||
	    b->next_idle < b->opt->idle)
		return;
	b->announced = true;
	b->held = b->idling;
	b->t_all_idle_us = bench_common_now_us();
	printf("imap_bench: idle: %u connections idling (%u failed) after "
	       "%.1f s\n", b->idling, b->opt->idle - b->idling,
	       (b->t_all_idle_us - b->t_start_us) / 1e6);
	fflush(stdout);
	if (b->opt->hold_s > 0) {
		struct timeval hold = { (time_t)b->opt->hold_s, 0 };

		event_base_once(b->base, -1, EV_TIMEOUT, ibench_on_signal, b,
		                &hold);
	}
}

static int
ibench_run(struct ibench *b)
{
	const struct ibench_opts *o = b->opt;
	struct bench_common_loop loop;
	int rc;

	if (bench_common_loop_open(&loop, "imap_bench", ibench_on_signal,
	                           ibench_on_tick, b, o->idle > 0) < 0)
		return -1;
	b->base = loop.base;
	b->nconns = o->idle > 0 ? o->idle : o->conns;
	/* An array of pointers: sizeof(struct ibench_conn *) is meant. */
	b->conns = rs_xreallocarray(NULL, b->nconns,
	                            sizeof(*b->conns)); /* NOLINT */
	b->t_start_us = bench_common_now_us();
	for (unsigned i = 0; i < b->nconns; i++)
		b->conns[i] = ibench_conn_new(b, i);
	if (o->idle > 0)
		ibench_idle_ramp(b);
	rc = b->live > 0 || o->idle > 0 ? event_base_dispatch(b->base) : 0;
	b->t_end_us = bench_common_now_us();

	for (unsigned i = 0; i < b->nconns; i++)
		ibench_conn_free(&b->conns[i]);
	RS_FREE(&b->conns);
	bench_common_loop_close(&loop);
	b->base = NULL;
	return rc < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct ibench_opts opt;
	struct ibench b = { 0 };
	int rc = ibench_opts(&opt, argc, argv);

	if (rc != 0)
		return rc > 0 ? 0 : 2;
	b.opt = &opt;
	b.rnd = opt.seed;
	if (ibench_users(&b, &opt) < 0 ||
	    bench_common_resolve("imap_bench", opt.host, opt.port, &b.addr,
	                         &b.addrlen) < 0) {
		ibench_users_free(&b);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	ibench_rlimit(&opt);

	rc = ibench_run(&b);
	if (rc == 0 && opt.idle > 0)
		ibench_report_idle(&b);
	else if (rc == 0)
		ibench_report_print(&b);
	for (int i = 0; i < IBENCH_NCMD; i++)
		ibench_lat_free(&b.cmd[i].lat);
	ibench_users_free(&b);
	if (rc < 0)
		return 1;
	if (opt.idle > 0)
		return b.held == opt.idle && b.dropped == 0 ? 0 : 1;
	return b.sessions_ok == opt.sessions ? 0 : 1;
}
