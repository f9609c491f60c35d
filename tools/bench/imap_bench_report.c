/* imap_bench_report.c: imap_bench's summary: sessions/s, fetched
 * messages/s, bytes/s, latency per command type (nearest rank over every
 * sample, no sampling), errors, the generator's own CPU time; a human
 * block and, with --json, one JSON line after it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "lib/rs_mem.h"
#include "tools/bench/imap_bench.h"

static const char *const ibench_report_names[IBENCH_NCMD] = {
	[IBENCH_CMD_CONNECT] = "connect",
	[IBENCH_CMD_LOGIN] = "login",
	[IBENCH_CMD_SELECT] = "select",
	[IBENCH_CMD_FETCH] = "fetch",
	[IBENCH_CMD_STORE] = "store",
	[IBENCH_CMD_SEARCH] = "search",
	[IBENCH_CMD_LOGOUT] = "logout",
	[IBENCH_CMD_IDLE] = "idle",
	[IBENCH_CMD_SESSION] = "session",
};

void
ibench_lat_add(struct ibench_lat *l, uint64_t us)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 1024 : l->cap * 2;
		l->us = rs_xreallocarray(l->us, l->cap, sizeof(*l->us));
	}
	l->us[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

void
ibench_lat_free(struct ibench_lat *l)
{
	RS_FREE(&l->us);
	l->n = l->cap = 0;
}

static void
ibench_report_cpu(double *user_r, double *sys_r)
{
	struct rusage ru;

	*user_r = *sys_r = 0.0;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return;
	*user_r = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	*sys_r = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Whether a command type shows up in this mode's table. */
static bool
ibench_report_shown(const struct ibench *b, int i)
{
	if (b->opt->idle > 0)
		return i != IBENCH_CMD_FETCH && i != IBENCH_CMD_STORE &&
		       i != IBENCH_CMD_SEARCH && i != IBENCH_CMD_SESSION;
	return i != IBENCH_CMD_IDLE;
}

static void
ibench_report_table(struct ibench *b, struct bench_common_lat *l)
{
	printf("  latency ms          n      p50      p90      p99      max"
	       "     no    bad\n");
	for (int i = 0; i < IBENCH_NCMD; i++) {
		const struct ibench_cmd_stats *st = &b->cmd[i];

		l[i] = bench_common_lat(b->cmd[i].lat.us, b->cmd[i].lat.n);
		if (!ibench_report_shown(b, i))
			continue;
		printf("    %-8s %9zu %8.2f %8.2f %8.2f %8.2f %6" PRIu64
		       " %6" PRIu64 "\n", ibench_report_names[i], st->lat.n,
		       l[i].p50, l[i].p90, l[i].p99, l[i].max, st->no,
		       st->bad);
	}
}

static void
ibench_report_json_cmds(const struct ibench *b,
                        const struct bench_common_lat *l)
{
	const char *sep = "";

	printf("\"commands\":{");
	for (int i = 0; i < IBENCH_NCMD; i++) {
		const struct ibench_cmd_stats *st = &b->cmd[i];

		if (!ibench_report_shown(b, i))
			continue;
		printf("%s\"%s\":{\"sent\":%" PRIu64 ",\"ok\":%zu,\"no\":%"
		       PRIu64 ",\"bad\":%" PRIu64 ",\"p50\":%.2f,\"p90\":%.2f,"
		       "\"p99\":%.2f,\"max\":%.2f}", sep,
		       ibench_report_names[i], st->sent, st->lat.n, st->no,
		       st->bad, l[i].p50, l[i].p90, l[i].p99, l[i].max);
		sep = ",";
	}
	printf("}");
}

static void
ibench_report_json(const struct ibench *b, const struct bench_common_lat *l,
                   uint64_t el)
{
	const struct ibench_opts *o = b->opt;
	double cu, cs;

	ibench_report_cpu(&cu, &cs);
	printf("{\"mode\":\"sessions\",\"host\":\"%s\",\"port\":\"%s\","
	       "\"sessions\":%" PRIu64 ",\"connections\":%u,\"users\":%u,"
	       "\"window\":%u,\"window_order\":\"%s\",\"sessions_ok\":%"
	       PRIu64 ",\"sessions_failed\":%" PRIu64 ",\"elapsed_s\":%.3f,"
	       "\"sessions_per_s\":%.1f,\"fetched\":%" PRIu64
	       ",\"fetched_per_s\":%.1f,\"literal_bytes\":%" PRIu64
	       ",\"literal_bytes_per_s\":%.0f,\"bytes_in\":%" PRIu64
	       ",\"bytes_in_per_s\":%.0f,\"search_hits\":%" PRIu64
	       ",\"empty_mailboxes\":%" PRIu64 ",",
	       o->host, o->port, o->sessions, o->conns, o->users, o->window,
	       o->window_seq ? "seq" : "random", b->sessions_ok,
	       b->sessions_failed, el / 1e6,
	       bench_common_rate(b->sessions_ok, el), b->fetched,
	       bench_common_rate(b->fetched, el), b->fetch_literal_bytes,
	       bench_common_rate(b->fetch_literal_bytes, el), b->bytes_in,
	       bench_common_rate(b->bytes_in, el), b->search_hits,
	       b->empty_mailboxes);
	ibench_report_json_cmds(b, l);
	printf(",\"conn_errors\":%" PRIu64 ",\"timeouts\":%" PRIu64
	       ",\"cpu_s\":{\"user\":%.2f,\"sys\":%.2f}}\n", b->conn_errors,
	       b->timeouts, cu, cs);
}

/* Tagged NO and BAD over all commands, then connection errors. */
static void
ibench_report_errors(const struct ibench *b)
{
	uint64_t no = 0, bad = 0;

	for (int i = 0; i < IBENCH_NCMD; i++) {
		no += b->cmd[i].no;
		bad += b->cmd[i].bad;
	}
	if (no == 0 && bad == 0 && b->conn_errors == 0) {
		printf("  errors       none\n");
		return;
	}
	printf("  errors       NO=%" PRIu64 " BAD=%" PRIu64 " conn=%" PRIu64
	       " (timeouts %" PRIu64 ")\n", no, bad, b->conn_errors,
	       b->timeouts);
}

void
ibench_report_print(struct ibench *b)
{
	const struct ibench_opts *o = b->opt;
	struct bench_common_lat l[IBENCH_NCMD];
	uint64_t el = b->sessions_ok > 0 ? b->t_last_us - b->t_start_us : 0;
	double cu, cs;

	printf("imap_bench: %s:%s, %" PRIu64 " sessions, %u connections, "
	       "%u users, window %u (%s)\n", o->host, o->port, o->sessions,
	       o->conns, o->users, o->window,
	       o->window_seq ? "seq" : "random");
	printf("  sessions     %" PRIu64 " ok, %" PRIu64 " failed in %.3f s: "
	       "%.1f sessions/s\n", b->sessions_ok, b->sessions_failed,
	       el / 1e6, bench_common_rate(b->sessions_ok, el));
	printf("  fetched      %" PRIu64 " messages: %.1f msg/s; literals "
	       "%.1f MB: %.1f MB/s; all input %.1f MB/s\n", b->fetched,
	       bench_common_rate(b->fetched, el),
	       b->fetch_literal_bytes / 1e6,
	       bench_common_rate(b->fetch_literal_bytes, el) / 1e6,
	       bench_common_rate(b->bytes_in, el) / 1e6);
	printf("  search       %" PRIu64 " hits; %" PRIu64 " empty "
	       "mailboxes\n", b->search_hits, b->empty_mailboxes);
	ibench_report_table(b, l);
	ibench_report_errors(b);
	ibench_report_cpu(&cu, &cs);
	printf("  cpu          imap_bench itself: user %.2f s, sys %.2f s\n",
	       cu, cs);
	if (o->json)
		ibench_report_json(b, l, el);
	fflush(stdout);
}

void
ibench_report_idle(struct ibench *b)
{
	const struct ibench_opts *o = b->opt;
	struct bench_common_lat l[IBENCH_NCMD];
	uint64_t ramp = b->announced ? b->t_all_idle_us - b->t_start_us : 0;

	printf("imap_bench: idle: %u of %u connections held, %u failed "
	       "before idling, %u dropped by the server while idling, "
	       "%" PRIu64 " connection errors; all idling after %.1f s\n",
	       b->held, o->idle, b->idle_failed, b->dropped, b->conn_errors,
	       ramp / 1e6);
	ibench_report_table(b, l);
	if (o->json) {
		printf("{\"mode\":\"idle\",\"host\":\"%s\",\"port\":\"%s\","
		       "\"idle\":%u,\"held\":%u,\"failed\":%u,\"dropped\":%u,"
		       "\"conn_errors\":%" PRIu64 ",\"ramp_s\":%.1f,",
		       o->host, o->port, o->idle, b->held, b->idle_failed,
		       b->dropped, b->conn_errors, ramp / 1e6);
		ibench_report_json_cmds(b, l);
		printf("}\n");
	}
	fflush(stdout);
}
