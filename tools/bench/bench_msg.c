/* bench_msg.c: the text of a benchmark message. Headers are formatted per
 * message (unique Message-ID); the body is a prefix of one filler text
 * built at start, added by reference so that sending copies nothing.
 * Does no I/O. */
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/rs_mem.h"
#include "lib/rs_rand.h"
#include "lib/rs_time.h"
#include "tools/bench/bench_int.h"

/* RFC 5322 2.1.1: lines SHOULD be at most 78 characters without CRLF. */
#define BENCH_MSG_LINE_MAX 78
#define BENCH_MSG_LINE_MIN 40

static const char *const bench_msg_words[] = {
	"the", "quarterly", "report", "is", "attached", "and", "please",
	"review", "before", "meeting", "on", "Thursday", "we", "need",
	"to", "agree", "budget", "for", "next", "year", "team", "project",
	"schedule", "has", "moved", "by", "two", "weeks", "because", "of",
	"supplier", "delays", "let", "me", "know", "if", "you", "have",
	"questions", "about", "numbers", "in", "section", "three", "thanks",
	"regards", "customer", "feedback", "was", "positive", "overall",
	"although", "some", "issues", "remain", "with", "delivery", "times",
	"a", "summary", "follows", "below", "our", "office", "will", "be",
	"closed", "Monday", "all", "invoices", "must", "approved", "by",
	"Friday", "noon", "new", "policy", "applies", "from", "first", "day",
};

/* xorshift64: deterministic, so every run sends the same filler. */
static uint64_t
bench_msg_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/* Appends one line of words (no leading '.', so never dot-stuffed) of at
 * most BENCH_MSG_LINE_MAX characters, plus CRLF. */
static void
bench_msg_line(struct bench_msg *m, size_t *cap, uint64_t *rnd)
{
	size_t want = BENCH_MSG_LINE_MIN +
	    bench_msg_rand(rnd) % (BENCH_MSG_LINE_MAX - BENCH_MSG_LINE_MIN + 1);
	size_t nw = sizeof(bench_msg_words) / sizeof(bench_msg_words[0]);
	size_t len = 0;

	if (m->filler_len + BENCH_MSG_LINE_MAX + 2 > *cap) {
		*cap *= 2;
		m->filler = rs_xrealloc(m->filler, *cap);
	}
	for (;;) {
		const char *w = bench_msg_words[bench_msg_rand(rnd) % nw];
		size_t wl = strlen(w);
		size_t add = (len > 0 ? 1 : 0) + wl;

		if (len + add > want)
			break;
		if (len > 0)
			m->filler[m->filler_len + len++] = ' ';
		memcpy(m->filler + m->filler_len + len, w, wl);
		len += wl;
	}
	memcpy(m->filler + m->filler_len + len, "\r\n", 2);
	m->filler_len += len + 2;
}

void
bench_msg_init(struct bench_msg *m, size_t size)
{
	size_t cap = 4096, lcap = 64;
	uint64_t rnd = 0x9e3779b97f4a7c15u;

	memset(m, 0, sizeof(*m));
	m->filler = rs_xmalloc(cap);
	m->line_end = rs_xreallocarray(NULL, lcap, sizeof(*m->line_end));
	while (m->filler_len < size) {
		bench_msg_line(m, &cap, &rnd);
		if (m->nlines == lcap) {
			lcap *= 2;
			m->line_end = rs_xreallocarray(m->line_end, lcap,
			                               sizeof(*m->line_end));
		}
		m->line_end[m->nlines++] = m->filler_len;
	}
	rs_rand_hex(m->tag, sizeof(m->tag));
}

void
bench_msg_free(struct bench_msg *m)
{
	RS_FREE(&m->filler);
	RS_FREE(&m->line_end);
	m->filler_len = 0;
	m->nlines = 0;
}

unsigned
bench_msg_user(const struct bench_opts *opt, uint64_t seq)
{
	return 1 + (unsigned)(seq % opt->users);
}

/* Number of whole filler lines that fit in budget bytes. */
static size_t
bench_msg_fit(const struct bench_msg *m, size_t budget)
{
	size_t lo = 0, hi = m->nlines;

	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;

		if (m->line_end[mid - 1] <= budget)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

void
bench_msg_write(const struct bench_msg *m, const struct bench_opts *opt,
                uint64_t seq, struct evbuffer *out)
{
	size_t before = evbuffer_get_length(out), head, budget, k, used, rem;
	char date[40];

	rs_time_rfc5322(date, sizeof(date), time(NULL));
	evbuffer_add_printf(out,
	    "From: smtp_bench <%s>\r\n"
	    "To: <user%u@%s>\r\n"
	    "Subject: smtp_bench message %" PRIu64 "\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <%" PRIu64 ".%s@smtp-bench.%s>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "\r\n",
	    opt->from, bench_msg_user(opt, seq), opt->domain, seq + 1, date,
	    seq + 1, m->tag, opt->domain);
	head = evbuffer_get_length(out) - before;

	/* Whole filler lines, then one shorter line taken from the start of
	 * the next, so that the message is S bytes (S - 1 when only one byte
	 * is left, since a line needs its CRLF). */
	budget = opt->size > head ? opt->size - head : 0;
	k = bench_msg_fit(m, budget);
	used = k > 0 ? m->line_end[k - 1] : 0;
	if (used > 0)
		evbuffer_add_reference(out, m->filler, used, NULL, NULL);
	rem = budget - used;
	if (rem >= 3 && k < m->nlines) {
		evbuffer_add_reference(out, m->filler + used, rem - 2, NULL,
		                       NULL);
		evbuffer_add(out, "\r\n", 2);
	}
	/* RFC 5321 4.1.1.4: the end of mail data. */
	evbuffer_add(out, ".\r\n", 3);
}
