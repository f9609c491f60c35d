/* Tests for node/imap/imap_arg.c: every octet inside a mailbox atom, run
 * through the parser, is an astring and a list-mailbox exactly when the
 * RFC 9051 section 9 rules, written out again here, say so. */
#include <stdio.h>
#include <string.h>

#include "node/imap/imap_parser.h"
#include "tests/unit/test.h"

/* The grammar's character classes, from the ABNF and not from the
 * code under test. */
static bool
t_atom_char(unsigned c)
{
	static const char specials[] = "(){ %*\"\\]";

	return c >= 0x21 && c <= 0x7e && strchr(specials, (int)c) == NULL;
}

static bool
t_astring_char(unsigned c)
{
	return t_atom_char(c) || c == ']';
}

static bool
t_list_char(unsigned c)
{
	return t_astring_char(c) || c == '%' || c == '*';
}

/* Parses "T SELECT <arg>\r\n": 1 with *astring_r and *list_r set when
 * it gave one argument, spelled as sent; 0 if not (split, error). */
static int
t_one(const char *arg, size_t len, bool *astring_r, bool *list_r)
{
	struct imap_parser_limits lim;
	struct imap_parser *p;
	struct imap_event ev;
	struct rs_err err;
	char line[64];
	size_t n, used = 0, at = 0;
	int rc = 0, got = 0;

	imap_parser_default_limits(&lim);
	p = imap_parser_new(&lim);
	n = (size_t)snprintf(line, sizeof(line), "T SELECT ");
	memcpy(line + n, arg, len);
	memcpy(line + n + len, "\r\n", 2);
	n += len + 2;
	while (at < n) {
		rs_err_clear(&err);
		rc = imap_parser_feed(p, (const uint8_t *)line + at, n - at,
		                      &used, &ev, &err);
		at += used;
		if (rc < 0 || used == 0)
			break;
		if (rc == 1 && ev.type == IMAP_EV_COMMAND) {
			const struct imap_arg *a = ev.cmd.args;

			if (ev.cmd.nargs == 1 && a->type != IMAP_ARG_LIST &&
			    a->str.len == len && memcmp(a->str.p, arg, len) == 0) {
				*astring_r = imap_arg_is_astring(a);
				*list_r = imap_arg_is_list_mailbox(a);
				got = 1;
			}
			break;
		}
	}
	imap_parser_free(&p);
	return got;
}

void
test_imap_arg_grammar(void)
{
	for (unsigned c = 0; c < 256; c++) {
		char arg[3] = { 'a', (char)c, 'b' };
		bool as = false, ls = false;
		int one = t_one(arg, 3, &as, &ls);

		if ((one && as) != t_astring_char(c))
			test_fail(__FILE__, __LINE__, "0x%02x: astring %d",
			          c, one && as);
		if ((one && ls) != t_list_char(c))
			test_fail(__FILE__, __LINE__, "0x%02x: list-mailbox %d",
			          c, one && ls);
	}
}

void
test_imap_arg_forms(void)
{
	static const struct {
		const char *arg;     /* as sent */
		const char *value;   /* as parsed */
		bool want_astring, want_list;
	} cases[] = {
		{ "!#$&'+,-.0123456789:;<=>?@^_`|[}", NULL, true, true },
		{ "!#$&'+,-.0123456789:;<=>?@^_`|[}%*", NULL, false, true },
		{ "]", NULL, true, true },
		{ "\\Seen", NULL, false, false },   /* a flag, not a name */
		{ "\"a%b\"", "a%b", true, true },  /* strings are both */
		{ "\"\"", "", true, true },
		{ "{3+}\r\na*b", "a*b", true, true },
		{ "INBOX", NULL, true, true },
		{ "%", NULL, false, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *v = cases[i].value != NULL ? cases[i].value :
		                cases[i].arg;
		struct imap_parser_limits lim;
		struct imap_parser *p;
		struct imap_event ev;
		struct rs_err err;
		char line[128];
		size_t n, at = 0, used = 0;
		bool done = false;

		imap_parser_default_limits(&lim);
		p = imap_parser_new(&lim);
		n = (size_t)snprintf(line, sizeof(line), "T LIST \"\" %s\r\n",
		                     cases[i].arg);
		while (at < n && !done) {
			int rc;

			rs_err_clear(&err);
			rc = imap_parser_feed(p, (const uint8_t *)line + at,
			                      n - at, &used, &ev, &err);
			at += used;
			TEST_ASSERT_IDX(rc >= 0 && used > 0, i);
			if (rc == 1 && ev.type == IMAP_EV_COMMAND) {
				const struct imap_arg *a =
					imap_arg_next(ev.cmd.args);

				TEST_ASSERT_IDX(ev.cmd.nargs == 2, i);
				TEST_ASSERT_IDX(strcmp(a->str.p, v) == 0, i);
				TEST_ASSERT_IDX(imap_arg_is_astring(a) ==
				                cases[i].want_astring, i);
				TEST_ASSERT_IDX(imap_arg_is_list_mailbox(a) ==
				                cases[i].want_list, i);
				done = true;
			}
		}
		TEST_ASSERT_IDX(done, i);
		imap_parser_free(&p);
	}
}
