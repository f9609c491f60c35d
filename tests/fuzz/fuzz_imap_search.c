/* fuzz_imap_search.c: libFuzzer target for the IMAP command grammar on top
 * of the parser: SEARCH programs (parse, resolve, evaluate), SORT
 * criteria, FETCH items (imap_fetch_items.c), sequence sets, and the
 * string helpers of imap_string.c run on the arguments, with round trips
 * checked (modified UTF-7, date-time). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/imap/imap_fetch_items.h"
#include "node/imap/imap_parser.h"
#include "node/imap/imap_search.h"
#include "node/imap/imap_seqset.h"
#include "node/imap/imap_string.h"

static int
fuzz_header(void *arg, const char *field, const char *needle, size_t nlen)
{
	(void)arg;
	if (needle == NULL || (field != NULL && field[0] == '\0'))
		abort();
	return nlen % 3 == 0 ? -1 : (int)(nlen % 2);
}

static int
fuzz_body(void *arg, bool text, const char *needle, size_t nlen)
{
	(void)arg;
	(void)text;
	if (needle == NULL)
		abort();
	return nlen % 4 == 0 ? -1 : (int)(nlen % 2);
}

/* A code no call sets: an error left like this was never explained. */
#define FUZZ_ERR_POISON 12345

/* err as a caller that did not clear it would pass it. */
static void
fuzz_err_poison(struct rs_err *err)
{
	err->code = FUZZ_ERR_POISON;
	err->msg[0] = '\0';
}

static bool
fuzz_err_explained(const struct rs_err *err)
{
	return err->code != FUZZ_ERR_POISON && err->msg[0] != '\0';
}

static void
fuzz_search(const struct imap_cmd *cmd)
{
	static const char *const kw[] = { "$Junk", "a" };
	struct imap_search_msg m = {
		.seq = 3, .uid = 30, .flags = 5, .keywords = kw, .nkeywords = 2,
		.modseq = 9, .internal_date = 1700000000, .size = 1234,
		.sent_date = 1690000000, .sent_tz = -120,
		.header = fuzz_header, .body = fuzz_body,
	};
	struct imap_fetch_sort_crit crit[IMAP_FETCH_SORT_CRIT_MAX];
	struct imap_search *p = NULL;
	struct imap_seqset saved;
	struct rs_err err;
	size_t n;
	int r;

	fuzz_err_poison(&err);
	if (imap_search_parse(cmd->args, cmd->nargs, &p, &err) == 0) {
		if (imap_seqset_parse(rs_str_cstr("1:5,30"), 0, &saved,
		                      &err) != 0)
			abort();
		imap_search_resolve(p, 10, 100, &saved);
		r = imap_search_eval(p, &m);
		if (r < -1 || r > 1)
			abort();
		imap_search_resolve(p, 0, 0, NULL);
		(void)imap_search_eval(p, &m);
		imap_seqset_free(&saved);
		imap_search_free(&p);
	} else if (p != NULL || !fuzz_err_explained(&err)) {
		abort();
	}
	if (cmd->nargs >= 2 && imap_search_sort_parse(cmd->args, crit,
	    IMAP_FETCH_SORT_CRIT_MAX, &n, &err) == 0) {
		if (n == 0 || n > IMAP_FETCH_SORT_CRIT_MAX)
			abort();
		fuzz_err_poison(&err);
		if (imap_search_parse_charset_keys(imap_arg_next(cmd->args),
		                                   cmd->nargs - 1, &p, &err) == 0)
			imap_search_free(&p);
		else if (p != NULL || !fuzz_err_explained(&err))
			abort();
	}
}

static void
fuzz_fetch(const struct imap_cmd *cmd)
{
	struct imap_fetch_req *r;
	const char *why = NULL;

	if (cmd->nargs < 2)
		return;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return;
	if (imap_fetch_items_parse(imap_arg_next(cmd->args), cmd->nargs - 1,
	                           cmd->uid, r, &why) != 0 && why == NULL)
		abort();
	imap_fetch_items_free(r);
	free(r);
}

/* a: an argument; next: the one after it, or NULL. */
static void
fuzz_strings(const struct imap_arg *a, const struct imap_arg *next)
{
	struct rs_buf b, c;
	struct imap_seqset set;
	struct rs_err err;
	char dt[IMAP_STRING_DATETIME_LEN];
	int64_t t, t2;
	int32_t tz, tz2;

	if (!imap_arg_is_string(a))
		return;
	if (imap_seqset_parse(a->str, 16, &set, &err) == 0) {
		imap_seqset_resolve(&set, 50);
		rs_buf_init(&b, 4096);
		if (imap_seqset_format(&b, &set) != 0)
			abort();
		rs_buf_free(&b);
		imap_seqset_free(&set);
	}
	rs_buf_init(&b, 8192);
	rs_buf_init(&c, 8192);
	if (imap_string_mutf7_decode(&b, a->str) == 0 &&
	    imap_string_mutf7_encode(&c, rs_str_make((const char *)b.data,
	                                             b.len)) == 0 &&
	    (c.len != a->str.len ||
	     (c.len != 0 && memcmp(c.data, a->str.p, c.len) != 0)))
		abort();
	rs_buf_reset(&b);
	if (imap_string_astring(&b, a->str, a->str.len % 2) != 0)
		abort();
	rs_buf_free(&b);
	rs_buf_free(&c);
	if (imap_string_datetime_parse(a->str, &t, &tz) == 0) {
		imap_string_datetime(dt, t, tz);
		if (imap_string_datetime_parse(rs_str_cstr(dt), &t2, &tz2) != 0 ||
		    t2 != t || tz2 != tz)
			abort();
	}
	if (imap_string_date_parse(a->str, &t) == 0 && t % 86400 != 0)
		abort();
	if (next != NULL && imap_arg_is_string(next))
		(void)imap_string_list_match(a->str, next->str, '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser_limits lim;
	struct imap_parser *p;
	size_t pos = 0;

	imap_parser_default_limits(&lim);
	lim.max_line = 8192;
	lim.max_command = 16384;
	lim.max_depth = IMAP_DEPTH_HARD_MAX;
	p = imap_parser_new(&lim);
	while (pos < size) {
		struct imap_event ev;
		struct rs_err err;
		size_t used = 0;
		int rc = imap_parser_feed(p, data + pos, size - pos, &used, &ev,
		                          &err);

		pos += used;
		if (rc != 1 || ev.type != IMAP_EV_COMMAND)
			continue;
		fuzz_search(&ev.cmd);
		fuzz_fetch(&ev.cmd);
		if (ev.cmd.nargs > 0)
			fuzz_strings(ev.cmd.args, ev.cmd.nargs > 1 ?
			             imap_arg_next(ev.cmd.args) : NULL);
		if (ev.cmd.nargs > 1)
			fuzz_strings(imap_arg_next(ev.cmd.args), NULL);
	}
	imap_parser_free(&p);
	return 0;
}
