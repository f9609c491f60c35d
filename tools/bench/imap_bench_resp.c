/* imap_bench_resp.c: reads one IMAP server response at a time from an
 * evbuffer (RFC 9051 section 7): its first line is kept for the caller,
 * a literal {n} at the end of a line is skipped by count (its octets may
 * hold anything, CRLF included) and the response goes on with the next
 * line. Literal data is never copied or printed. Does not interpret the
 * response: imap_bench_conn.c does. */
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "tools/bench/imap_bench.h"

void
ibench_resp_init(struct ibench_resp *r)
{
	memset(r, 0, sizeof(*r));
}

void
ibench_resp_reset(struct ibench_resp *r)
{
	RS_FREE(&r->line);
	r->line_len = 0;
	r->literal_left = 0;
	r->literal_bytes = 0;
	r->continuing = false;
}

void
ibench_resp_free(struct ibench_resp *r)
{
	ibench_resp_reset(r);
}

int64_t
ibench_resp_literal(const char *line, size_t len)
{
	size_t end, start;
	uint64_t v = 0;

	/* RFC 9051 section 4.3: literal = "{" number64 ["+"] "}" CRLF;
	 * literal8 (RFC 3516) has a "~" before the brace, which changes
	 * nothing here. */
	if (len < 3 || line[len - 1] != '}')
		return -1;
	end = len - 1;
	if (line[end - 1] == '+')
		end--;
	start = end;
	while (start > 0 && line[start - 1] >= '0' && line[start - 1] <= '9')
		start--;
	if (start == 0 || line[start - 1] != '{')
		return -1;
	if (start == end || end - start > 19)
		return -2;
	for (size_t i = start; i < end; i++)
		v = v * 10 + (uint64_t)(line[i] - '0');
	if (v > IBENCH_MAX_LITERAL)
		return -2;
	return (int64_t)v;
}

/* Skips what is available of the current literal; true once it is all
 * gone. */
static bool
ibench_resp_skip(struct ibench_resp *r, struct evbuffer *in,
                 uint64_t *bytes_r)
{
	size_t avail = evbuffer_get_length(in);
	size_t take = avail < r->literal_left ? avail
	                                      : (size_t)r->literal_left;

	if (take > 0) {
		evbuffer_drain(in, take);
		r->literal_left -= take;
		r->literal_bytes += take;
		*bytes_r += take;
	}
	return r->literal_left == 0;
}

int
ibench_resp_read(struct ibench_resp *r, struct evbuffer *in,
                 uint64_t *bytes_r)
{
	for (;;) {
		struct evbuffer_ptr eol;
		size_t eol_len = 0, len;
		char *line;
		int64_t lit;

		if (r->literal_left > 0 && !ibench_resp_skip(r, in, bytes_r))
			return 0;
		/* Check the size before consuming: the limit holds even when
		 * no line end has arrived yet. */
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
		if (eol.pos < 0)
			return evbuffer_get_length(in) > IBENCH_MAX_LINE ? -1 : 0;
		len = (size_t)eol.pos;
		if (len > IBENCH_MAX_LINE)
			return -1;
		line = rs_xmalloc(len + 1);
		evbuffer_remove(in, line, len);
		line[len] = '\0';
		evbuffer_drain(in, eol_len);
		*bytes_r += len + eol_len;
		lit = ibench_resp_literal(line, len);
		if (!r->continuing) {
			r->line = line;
			r->line_len = len;
		} else
			free(line);
		if (lit == -2)
			return -1;
		if (lit < 0) {
			r->continuing = false;
			return 1;
		}
		r->continuing = true;
		r->literal_left = (uint64_t)lit;
	}
}
