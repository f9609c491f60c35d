/* Tests for node/imap/imap_search.c: SEARCH programs parsed from real
 * command lines (through imap_parser), their evaluation against
 * hand-made messages, laziness of the text callbacks, and SORT
 * criteria. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "node/imap/imap_search.h"
#include "storage/store.h"
#include "tests/unit/test.h"

/* Parses "t SEARCH <prog>" and hands the arguments to imap_search_parse
 * (sort: "t SORT <crit> <charset> <keys>"). */
static int
t_search(const char *prog, struct imap_search **p_r, struct rs_err *err)
{
	struct imap_parser_limits lim;
	struct imap_parser *ps;
	struct imap_event ev;
	static char line[8192];
	size_t used;
	int n, rc = -2;

	imap_parser_default_limits(&lim);
	lim.max_depth = IMAP_DEPTH_HARD_MAX;
	ps = imap_parser_new(&lim);
	n = snprintf(line, sizeof(line), "t SEARCH %s\r\n", prog);
	*p_r = NULL;
	rs_err_clear(err);
	if (imap_parser_feed(ps, (const uint8_t *)line, (size_t)n, &used, &ev,
	                     err) == 1 && ev.type == IMAP_EV_COMMAND)
		rc = imap_search_parse(ev.cmd.args, ev.cmd.nargs, p_r, err);
	imap_parser_free(&ps);
	return rc;
}

void
test_imap_search_parse(void)
{
	static const struct {
		const char *prog;
		int want_rc, want_code;
		unsigned want_ret, want_needs;
	} cases[] = {
		{ "ALL", 0, 0, 0, 0 },
		{ "1:* UNSEEN", 0, 0, 0, 0 },
		{ "RETURN () ALL", 0, 0, IMAP_SEARCH_RET_ALL, 0 },
		{ "RETURN (MIN COUNT SAVE) CHARSET utf-8 FROM x", 0, 0,
		  IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_COUNT |
		  IMAP_SEARCH_RET_SAVE, IMAP_SEARCH_NEED_HEADER },
		{ "CHARSET US-ASCII BODY x", 0, 0, 0, IMAP_SEARCH_NEED_BODY },
		{ "OR SENTON 1-Jan-2020 TEXT {1}", -2, 0, 0, 0 },
		{ "OR SENTON 1-Jan-2020 TEXT \"a b\"", 0, 0, 0,
		  IMAP_SEARCH_NEED_META | IMAP_SEARCH_NEED_HEADER |
		  IMAP_SEARCH_NEED_BODY },
		{ "HEADER X-Spam \"\" NOT KEYWORD $Junk", 0, 0, 0,
		  IMAP_SEARCH_NEED_HEADER },
		{ "(SEEN (FLAGGED)) NEW OLD UID $ $", 0, 0, 0, 0 },
		{ "MODSEQ \"/flags/\\\\draft\" all 620162338", 0, 0, 0, 0 },
		{ "MODSEQ 5", 0, 0, 0, 0 },
		{ "LARGER 100 SMALLER 2000 BEFORE \"1-Feb-1994\"", 0, 0, 0, 0 },
		/* Errors. */
		{ "", -1, RS_EINVAL, 0, 0 },
		{ "CHARSET KOI8-R ALL", -1, IMAP_SEARCH_EBADCHARSET, 0, 0 },
		{ "FOO", -1, RS_EINVAL, 0, 0 },
		{ "FROM", -1, RS_EINVAL, 0, 0 },
		{ "OR ALL", -1, RS_EINVAL, 0, 0 },
		{ "NOT", -1, RS_EINVAL, 0, 0 },
		{ "()", -1, RS_EINVAL, 0, 0 },
		{ "0", -1, RS_EINVAL, 0, 0 },
		{ "1:", -1, RS_EINVAL, 0, 0 },
		{ "UID *:*x", -1, RS_EINVAL, 0, 0 },
		{ "ON 31-Feb-2020", -1, RS_EINVAL, 0, 0 },
		{ "LARGER -1", -1, RS_EINVAL, 0, 0 },
		{ "LARGER (1)", -1, RS_EINVAL, 0, 0 },
		{ "KEYWORD \\Seen", -1, RS_EINVAL, 0, 0 },
		{ "RETURN (FOO) ALL", -1, RS_EINVAL, 0, 0 },
		{ "RETURN ALL", -1, RS_EINVAL, 0, 0 },
		{ "MODSEQ \"/flags/\\\\draft\" other 5", -1, RS_EINVAL, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imap_search *p;
		struct rs_err err;
		int rc = t_search(cases[i].prog, &p, &err);

		TEST_ASSERT_IDX(rc == cases[i].want_rc, i);
		if (rc == -1)
			TEST_ASSERT_IDX(err.code == cases[i].want_code, i);
		if (rc != 0) {
			TEST_ASSERT_IDX(p == NULL, i);
			continue;
		}
		TEST_ASSERT_IDX(p->ret == cases[i].want_ret, i);
		TEST_ASSERT_IDX(p->esearch == (cases[i].want_ret != 0), i);
		TEST_ASSERT_IDX(imap_search_needs(p) == cases[i].want_needs, i);
		imap_search_free(&p);
		TEST_ASSERT_IDX(p == NULL, i);
	}
}

void
test_imap_search_limits(void)
{
	static char prog[4096];
	struct imap_search *p;
	struct rs_err err;
	size_t n = 0;

	/* NOT NOT ... ALL: flat in the tree, deep in the program. */
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(prog + n, sizeof(prog) - n, "NOT ");
	snprintf(prog + n, sizeof(prog) - n, "ALL");
	TEST_ASSERT(t_search(prog, &p, &err) == -1 &&
	            err.code == RS_ETOOBIG);
	n = 0;
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(prog + n, sizeof(prog) - n, "(");
	n += (size_t)snprintf(prog + n, sizeof(prog) - n, "ALL");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(prog + n, sizeof(prog) - n, ")");
	TEST_ASSERT(t_search(prog, &p, &err) == -1 &&
	            err.code == RS_ETOOBIG);
	n = 0;
	for (int i = 0; i < IMAP_SEARCH_NODES_MAX + 1; i++)
		n += (size_t)snprintf(prog + n, sizeof(prog) - n, "ALL ");
	TEST_ASSERT(t_search(prog, &p, &err) == -1 &&
	            err.code == RS_ETOOBIG);
}

struct t_msg {
	const char *header, *body;
	int         calls;
};

static bool
t_has(const char *hay, const char *needle, size_t nlen)
{
	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, nlen) == 0)
			return true;
	return nlen == 0;
}

static int
t_header(void *arg, const char *field, const char *needle, size_t nlen)
{
	struct t_msg *t = arg;
	char want[64];
	const char *f;

	t->calls++;
	if (field == NULL)
		return t_has(t->header, needle, nlen);
	snprintf(want, sizeof(want), "%s: ", field);
	f = strcasestr(t->header, want);
	if (f == NULL)
		return 0;
	f += strlen(want);
	return strncasecmp(f, needle, nlen) == 0 ||
	       t_has(f, needle, nlen);
}

static int
t_body(void *arg, bool text, const char *needle, size_t nlen)
{
	struct t_msg *t = arg;

	t->calls++;
	if (t->body == NULL)
		return -1;
	return t_has(t->body, needle, nlen) ||
	       (text && t_has(t->header, needle, nlen));
}

void
test_imap_search_eval(void)
{
	static const char *const kw[] = { "$Junk", "work" };
	static const struct {
		const char *prog;
		int want;
		int want_calls;
	} cases[] = {
		{ "ALL", 1, 0 },
		{ "SEEN", 1, 0 },
		{ "UNSEEN", 0, 0 },
		{ "FLAGGED", 0, 0 },
		{ "NEW", 0, 0 },
		{ "OLD", 1, 0 },
		{ "KEYWORD WORK", 1, 0 },
		{ "UNKEYWORD $junk", 0, 0 },
		{ "7", 1, 0 },
		{ "1:6", 0, 0 },
		{ "*", 0, 0 },
		{ "5:*", 1, 0 },
		{ "20:*", 0, 0 },
		{ "UID 70", 1, 0 },
		{ "UID *", 1, 0 },
		{ "$", 1, 0 },
		{ "UID $", 1, 0 },
		{ "LARGER 499 SMALLER 501", 1, 0 },
		{ "LARGER 500", 0, 0 },
		{ "ON 15-Mar-2024", 1, 0 },
		{ "BEFORE 15-Mar-2024", 0, 0 },
		{ "SINCE 15-Mar-2024 BEFORE 16-Mar-2024", 1, 0 },
		/* Sent 2024-03-14 23:30 -0500, 04:30 on the 15th in UTC. */
		{ "SENTON 14-Mar-2024", 1, 0 },
		{ "SENTSINCE 15-Mar-2024", 0, 0 },
		{ "MODSEQ 41", 1, 0 },
		{ "MODSEQ 43", 0, 0 },
		{ "FROM alice", 1, 1 },
		{ "FROM bob", 0, 1 },
		{ "SUBJECT HELLO", 1, 1 },
		{ "HEADER X-Missing \"\"", 0, 1 },
		{ "BODY world", 1, 1 },
		{ "TEXT alice", 1, 1 },
		/* Laziness: a cheap mismatch first, text never read. */
		{ "BODY world FLAGGED", 0, 0 },
		{ "(BODY world) (OR UNSEEN DRAFT)", 0, 0 },
		{ "OR BODY world SEEN", 1, 0 },
		{ "NOT FROM alice", 0, 1 },
		{ "OR FROM bob TO carol", 1, 2 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct t_msg t = {
			"From: Alice <alice@example.com>\r\nTo: carol@x\r\n"
			"Subject: hello there\r\n", "Hello World\r\n", 0
		};
		struct imap_search_msg m = {
			.seq = 7, .uid = 70, .flags = STORE_FLAG_SEEN,
			.recent = false, .keywords = kw, .nkeywords = 2,
			.modseq = 42, .internal_date = 1710460800 + 3600,
			.size = 500, .sent_date = 1710477000,
			.sent_tz = -300, .header = t_header, .body = t_body,
			.arg = &t,
		};
		struct imap_seqset saved;
		struct imap_search *p;
		struct rs_err err;

		TEST_ASSERT(imap_seqset_parse(rs_str_cstr("60:80"), 0, &saved,
		                              &err) == 0);
		if (t_search(cases[i].prog, &p, &err) != 0) {
			test_fail(__FILE__, __LINE__, "case %zu: %s", i,
			          err.msg);
			imap_seqset_free(&saved);
			continue;
		}
		imap_search_resolve(p, 10, 70, &saved);
		TEST_ASSERT_IDX(imap_search_eval(p, &m) == cases[i].want, i);
		TEST_ASSERT_IDX(t.calls == cases[i].want_calls, i);
		imap_search_free(&p);
		imap_seqset_free(&saved);
	}
}

void
test_imap_search_eval_errors(void)
{
	struct t_msg t = { "From: a\r\n", NULL, 0 };
	struct imap_search_msg m = { .seq = 1, .uid = 1, .header = t_header,
	                             .body = t_body, .arg = &t };
	struct imap_search *p;
	struct rs_err err;

	TEST_ASSERT(t_search("BODY x", &p, &err) == 0);
	imap_search_resolve(p, 1, 1, NULL);
	TEST_ASSERT(imap_search_eval(p, &m) == -1);
	imap_search_free(&p);
	/* A known answer makes the failed read irrelevant. */
	TEST_ASSERT(t_search("OR BODY x ALL", &p, &err) == 0);
	TEST_ASSERT(imap_search_eval(p, &m) == 1);
	imap_search_free(&p);
	TEST_ASSERT(t_search("BODY x DRAFT", &p, &err) == 0);
	TEST_ASSERT(imap_search_eval(p, &m) == 0);
	imap_search_free(&p);
	/* "$" with nothing saved matches nothing. */
	TEST_ASSERT(t_search("$", &p, &err) == 0 && p->uses_saved);
	imap_search_resolve(p, 1, 1, NULL);
	TEST_ASSERT(imap_search_eval(p, &m) == 0);
	imap_search_free(&p);
	imap_search_free(&p);
}

void
test_imap_search_sort(void)
{
	static const struct {
		const char *line;
		int want_rc;
		size_t want_n;
		enum imap_fetch_sort_key want_key0;
		bool want_rev0;
	} cases[] = {
		{ "t SORT (ARRIVAL) UTF-8 ALL\r\n", 0, 1,
		  IMAP_FETCH_SORT_ARRIVAL, false },
		{ "t SORT (REVERSE date subject) UTF-8 ALL\r\n", 0, 2,
		  IMAP_FETCH_SORT_DATE, true },
		{ "t SORT (DISPLAYFROM REVERSE DISPLAYTO) UTF-8 ALL\r\n", 0, 2,
		  IMAP_FETCH_SORT_DISPLAYFROM, false },
		{ "t SORT () UTF-8 ALL\r\n", -1, 0, 0, false },
		{ "t SORT (REVERSE) UTF-8 ALL\r\n", -1, 0, 0, false },
		{ "t SORT (REVERSE REVERSE SIZE) UTF-8 ALL\r\n", -1, 0, 0,
		  false },
		{ "t SORT (FOO) UTF-8 ALL\r\n", -1, 0, 0, false },
		{ "t SORT (SIZE SIZE SIZE) UTF-8 ALL\r\n", -1, 0, 0, false },
		{ "t SORT ARRIVAL UTF-8 ALL\r\n", -1, 0, 0, false },
	};
	struct imap_parser_limits lim;

	imap_parser_default_limits(&lim);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imap_parser *ps = imap_parser_new(&lim);
		struct imap_fetch_sort_crit crit[2];
		struct imap_search *p = NULL;
		struct imap_event ev;
		struct rs_err err;
		size_t used, n = 99;
		int rc;

		rc = imap_parser_feed(ps, (const uint8_t *)cases[i].line,
		                      strlen(cases[i].line), &used, &ev, &err);
		TEST_ASSERT_IDX(rc == 1 && ev.cmd.nargs == 3, i);
		rc = imap_search_sort_parse(ev.cmd.args, crit, 2, &n, &err);
		TEST_ASSERT_IDX(rc == cases[i].want_rc, i);
		if (rc == 0) {
			TEST_ASSERT_IDX(n == cases[i].want_n, i);
			TEST_ASSERT_IDX(crit[0].key == cases[i].want_key0, i);
			TEST_ASSERT_IDX(crit[0].reverse == cases[i].want_rev0,
			                i);
			TEST_ASSERT_IDX(imap_search_parse_charset_keys(
			                imap_arg_next(ev.cmd.args), 2, &p, &err) ==
			                0, i);
			imap_search_free(&p);
		}
		imap_parser_free(&ps);
	}
}
