/* bench_report.c: smtp_bench's summary: rates, latency percentiles
 * (nearest rank over every accepted message, no sampling), errors per
 * reply code; a human block and, with --json, one JSON line after it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "tools/bench/bench_int.h"

static double
bench_report_secs(uint64_t us)
{
	return us / 1e6;
}

/* Messages never handed to a connection (all connections died). */
static uint64_t
bench_report_unsent(const struct bench *b)
{
	return b->opt->messages - b->next_msg;
}

static uint64_t
bench_report_nerrors(const struct bench *b)
{
	uint64_t n = b->conn_errors;

	for (int code = 0; code < BENCH_NCODES; code++)
		n += b->codes[code];
	return n;
}

static void
bench_report_errors(const struct bench *b, FILE *f, bool json)
{
	const char *sep = "";

	for (int code = 0; code < BENCH_NCODES; code++) {
		if (b->codes[code] == 0)
			continue;
		fprintf(f, json ? "%s\"%d\":%" PRIu64 : "%s%d=%" PRIu64, sep,
		        code, b->codes[code]);
		sep = json ? "," : " ";
	}
	if (b->conn_errors > 0)
		fprintf(f, json ? "%s\"conn\":%" PRIu64 : "%sconn=%" PRIu64,
		        sep, b->conn_errors);
}

static void
bench_report_json(const struct bench *b, const struct bench_common_lat *l)
{
	const struct bench_opts *o = b->opt;
	uint64_t el = b->accepted > 0 ? b->t_last_ok_us - b->t_start_us : 0;

	printf("{\"host\":\"%s\",\"port\":\"%s\",\"messages\":%" PRIu64
	       ",\"size\":%zu,\"connections\":%u,\"users\":%u,"
	       "\"pipelining\":%s,\"pipelined_connections\":%" PRIu64 ","
	       "\"accepted\":%" PRIu64 ",\"refused\":%" PRIu64
	       ",\"lost\":%" PRIu64 ",\"unsent\":%" PRIu64 ","
	       "\"elapsed_s\":%.3f,\"accepted_per_s\":%.1f,"
	       "\"latency_ms\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,"
	       "\"max\":%.2f},\"errors\":{",
	       o->host, o->port, o->messages, o->size, o->conns, o->users,
	       o->pipelining ? "true" : "false", b->pipelined_conns,
	       b->accepted, b->refused, b->lost, bench_report_unsent(b),
	       bench_report_secs(el), bench_common_rate(b->accepted, el),
	       l->p50, l->p90, l->p99, l->max);
	bench_report_errors(b, stdout, true);
	printf("}");
	if (b->naddrs > 1) {
		printf(",\"accepted_per_port\":[");
		for (unsigned i = 0; i < b->naddrs; i++)
			printf("%s%" PRIu64, i > 0 ? "," : "",
			       b->port_accepted[i]);
		printf("]");
	}
	printf(",\"stored\":");
	if (o->wait_cmd == NULL)
		printf("null");
	else
		printf("{\"complete\":%s,\"count\":%" PRIu64 ",\"baseline\":%"
		       PRIu64 ",\"elapsed_s\":%.3f,\"stored_per_s\":%.1f}",
		       b->stored.done ? "true" : "false", b->stored.count,
		       b->stored.baseline,
		       bench_report_secs(b->stored.elapsed_us),
		       b->stored.done ? bench_common_rate(b->stored.count,
		                                          b->stored.elapsed_us)
		                      : 0.0);
	printf("}\n");
}

void
bench_report_print(struct bench *b)
{
	const struct bench_opts *o = b->opt;
	struct bench_common_lat l = bench_common_lat(b->lat_us, b->accepted);
	struct bench_common_lat d = bench_common_lat(b->dot_us, b->accepted);
	uint64_t el = b->accepted > 0 ? b->t_last_ok_us - b->t_start_us : 0;

	printf("smtp_bench: %s:%s, %" PRIu64 " messages of %zu bytes, "
	       "%u connections, %u users\n", o->host, o->port, o->messages,
	       o->size, o->conns, o->users);
	printf("  pipelining   %s", o->pipelining ? "requested" : "off");
	if (o->pipelining)
		printf(", used on %" PRIu64 " of %u connections",
		       b->pipelined_conns, o->conns);
	printf("\n  accepted     %" PRIu64 " in %.3f s: %.1f msg/s\n",
	       b->accepted, bench_report_secs(el),
	       bench_common_rate(b->accepted, el));
	if (b->naddrs > 1) {
		printf("  per port    ");
		for (unsigned i = 0; i < b->naddrs; i++)
			printf(" %" PRIu64, b->port_accepted[i]);
		printf(" accepted (in --port's order)\n");
	}
	printf("  refused      %" PRIu64 " (lost with a connection: %" PRIu64
	       ", never sent: %" PRIu64 ")\n", b->refused, b->lost,
	       bench_report_unsent(b));
	printf("  latency ms   p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
	       l.p50, l.p90, l.p99, l.max);
	printf("  end of data  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f "
	       "(ms from the final dot to its reply)\n",
	       d.p50, d.p90, d.p99, d.max);
	printf("  errors       ");
	bench_report_errors(b, stdout, false);
	printf("%s\n", bench_report_nerrors(b) == 0 ? "none" : "");
	if (o->wait_cmd != NULL) {
		if (b->stored.done)
			printf("  stored       %" PRIu64 " in %.3f s: %.1f "
			       "msg/s\n", b->stored.count,
			       bench_report_secs(b->stored.elapsed_us),
			       bench_common_rate(b->stored.count,
			                         b->stored.elapsed_us));
		else
			printf("  stored       incomplete: %" PRIu64 " after "
			       "%.3f s\n", b->stored.count,
			       bench_report_secs(b->stored.elapsed_us));
	}
	if (o->json)
		bench_report_json(b, &l);
	fflush(stdout);
}

void
bench_report_idle(struct bench *b)
{
	const struct bench_opts *o = b->opt;

	if (o->json)
		printf("{\"host\":\"%s\",\"port\":\"%s\",\"idle\":%u,"
		       "\"held\":%u,\"conn_errors\":%" PRIu64 "}\n", o->host,
		       o->port, o->idle, b->held, b->conn_errors);
	else
		printf("smtp_bench: idle: %u of %u connections held, %" PRIu64
		       " connection errors\n", b->held, o->idle,
		       b->conn_errors);
	fflush(stdout);
}
