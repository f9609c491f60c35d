/* Tests for node/imap/imap_parser.c: every input is fed whole, byte by
 * byte and split at every position, and each run must give the same
 * transcript of events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_buf.h"
#include "node/imap/imap_parser.h"
#include "tests/unit/test.h"

#define T_OUT 4096

struct t_run {
	char   out[T_OUT];
	size_t len;
	char   data[T_OUT];         /* streamed octets not yet printed */
	size_t dlen;
	bool   refuse;              /* refuse every literal */
};

static void
t_put(struct t_run *r, const char *s, size_t n)
{
	if (n > sizeof(r->out) - 1 - r->len)
		n = sizeof(r->out) - 1 - r->len;
	memcpy(r->out + r->len, s, n);
	r->len += n;
	r->out[r->len] = '\0';
}

static void
t_puts(struct t_run *r, const char *s)
{
	t_put(r, s, strlen(s));
}

static void
t_flush_data(struct t_run *r)
{
	char b[32];

	if (r->dlen == 0)
		return;
	snprintf(b, sizeof(b), "DATA%zu:", r->dlen);
	t_puts(r, b);
	t_put(r, r->data, r->dlen);
	t_puts(r, "|");
	r->dlen = 0;
}

static void
t_args(struct t_run *r, const struct imap_arg *a, size_t n)
{
	char b[64];

	for (size_t i = 0; i < n; i++, a = imap_arg_next(a)) {
		if (i > 0)
			t_puts(r, " ");
		switch (a->type) {
		case IMAP_ARG_ATOM:
			TEST_ASSERT(a->str.p[a->str.len] == '\0');
			t_put(r, a->str.p, a->str.len);
			break;
		case IMAP_ARG_QUOTED:
			TEST_ASSERT(a->str.p[a->str.len] == '\0');
			t_puts(r, "\"");
			t_put(r, a->str.p, a->str.len);
			t_puts(r, "\"");
			break;
		case IMAP_ARG_LITERAL:
			snprintf(b, sizeof(b), "%s{%llu%s}",
			         (a->flags & IMAP_ARG_F_BINARY) ? "~" : "",
			         (unsigned long long)a->size,
			         (a->flags & IMAP_ARG_F_NONSYNC) ? "+" : "");
			t_puts(r, b);
			if (a->flags & IMAP_ARG_F_STREAMED) {
				snprintf(b, sizeof(b), "S%u",
				         (unsigned)a->stream_idx);
				t_puts(r, b);
			} else {
				TEST_ASSERT(a->str.len == a->size);
				t_put(r, a->str.p, a->str.len);
			}
			break;
		case IMAP_ARG_LIST:
			TEST_ASSERT(a->str.p != NULL && a->str.len == 0);
			t_puts(r, "(");
			t_args(r, a + 1, a->nchildren);
			t_puts(r, ")");
			break;
		}
	}
}

static void
t_event(struct t_run *r, struct imap_parser *p, const struct imap_event *ev)
{
	char b[128];

	if (ev->type != IMAP_EV_DATA)
		t_flush_data(r);
	switch (ev->type) {
	case IMAP_EV_COMMAND:
		t_puts(r, "CMD ");
		t_put(r, ev->cmd.tag.p, ev->cmd.tag.len);
		t_puts(r, ev->cmd.uid ? " UID " : " ");
		t_put(r, ev->cmd.name.p, ev->cmd.name.len);
		t_puts(r, " [");
		t_args(r, ev->cmd.args, ev->cmd.nargs);
		t_puts(r, "]|");
		break;
	case IMAP_EV_LITERAL:
		snprintf(b, sizeof(b), "LIT %s %llu%s%s%s|", ev->cmd.tag.p,
		         (unsigned long long)ev->lit_size,
		         ev->lit_sync ? " sync" : "",
		         ev->lit_binary ? " bin" : "",
		         ev->lit_streamed ? " stream" : "");
		t_puts(r, b);
		if (r->refuse)
			imap_parser_refuse(p);
		break;
	case IMAP_EV_DATA:
		if (ev->data.len > sizeof(r->data) - r->dlen)
			break;
		memcpy(r->data + r->dlen, ev->data.p, ev->data.len);
		r->dlen += ev->data.len;
		break;
	case IMAP_EV_LINE:
		TEST_ASSERT(ev->data.p[ev->data.len] == '\0');
		t_puts(r, "LINE ");
		t_put(r, ev->data.p, ev->data.len);
		t_puts(r, "|");
		break;
	}
}

/* Feeds in at the given split points (chunk 0: whole). A line starting
 * "L!" in the transcript puts the parser in line mode after a command
 * named LINEMODE. */
static void
t_feed(struct t_run *r, const struct imap_parser_limits *lim,
       const char *in, size_t len, size_t chunk, size_t split)
{
	struct imap_parser *p = imap_parser_new(lim);
	size_t pos = 0, guard = 0;

	r->len = r->dlen = 0;
	r->out[0] = '\0';
	while (pos < len && guard++ < 100000) {
		size_t n = len - pos;
		struct imap_event ev;
		struct rs_err err;
		size_t used = 99999;
		int rc;

		if (chunk > 0 && n > chunk)
			n = chunk;
		if (split > 0 && pos < split && pos + n > split)
			n = split - pos;
		rs_err_clear(&err);
		rc = imap_parser_feed(p, (const uint8_t *)in + pos, n, &used,
		                      &ev, &err);
		TEST_ASSERT(used <= n);
		if (rc == 1) {
			t_event(r, p, &ev);
			if (ev.type == IMAP_EV_COMMAND &&
			    rs_str_ieq_cstr(ev.cmd.name, "LINEMODE"))
				imap_parser_line_mode(p);
		} else if (rc < 0) {
			char b[300];

			t_flush_data(r);
			TEST_ASSERT(err.msg[0] != '\0');
			snprintf(b, sizeof(b), "ERR %s %s %s|",
			         ev.cmd.tag.p != NULL ? ev.cmd.tag.p : "",
			         err.code == RS_ETOOBIG ? "TOOBIG" : "BAD",
			         err.msg);
			t_puts(r, b);
		} else {
			TEST_ASSERT(used > 0 || n == 0);
		}
		pos += used;
	}
	TEST_ASSERT(guard < 100000);
	t_flush_data(r);
	if (!imap_parser_idle(p))
		t_puts(r, "BUSY");
	imap_parser_free(&p);
	TEST_ASSERT(p == NULL);
}

static void
t_limits(struct imap_parser_limits *lim)
{
	imap_parser_default_limits(lim);
	lim->max_line = 200;
	lim->max_command = 400;
	lim->inline_max = 16;
	lim->max_literal = 1000;
	lim->max_args = 40;
	lim->max_depth = 8;
	lim->max_literals = 4;
}

#define S(x) x, sizeof(x) - 1

static const struct {
	const char *in;
	size_t      inlen;
	const char *want;
	size_t      wantlen;
	bool        refuse;
} t_cases[] = {
	{ S("a1 NOOP\r\n"), S("CMD a1 NOOP []|"), false },
	{ S("a1 noop\n"), S("CMD a1 noop []|"), false },
	{ S("\r\n  \r\na2 CAPABILITY   \r\n"), S("CMD a2 CAPABILITY []|"),
	  false },
	{ S("A3 UID FETCH 1:* (FLAGS UID)\r\n"),
	  S("CMD A3 UID FETCH [1:* (FLAGS UID)]|"), false },
	{ S("A4 FETCH 1 (BODY.PEEK[HEADER.FIELDS (To \"From\")]<0.10> "
	    "RFC822)\r\n"),
	  S("CMD A4 FETCH [1 (BODY.PEEK[HEADER.FIELDS (To \"From\")]<0.10> "
	    "RFC822)]|"), false },
	{ S("A5 STORE 1 +FLAGS (\\Seen \\*)\r\n"),
	  S("CMD A5 STORE [1 +FLAGS (\\Seen \\*)]|"), false },
	{ S("A6 LOGIN \"us\\\"er\" \"p\\\\w\"\r\n"),
	  S("CMD A6 LOGIN [\"us\"er\" \"p\\w\"]|"), false },
	{ S("A7 LIST \"\" %\r\n"), S("CMD A7 LIST [\"\" %]|"), false },
	{ S("A8 X (()) ((a) b)\r\n"), S("CMD A8 X [(()) ((a) b)]|"), false },
	{ S("A9 LOGIN {4}\r\nuser {3}\r\npwd\r\n"),
	  S("LIT A9 4 sync|LIT A9 3 sync|CMD A9 LOGIN [{4}user {3}pwd]|"),
	  false },
	{ S("B1 APPEND box (\\Seen) {20+}\r\n01234567890123456789\r\n"),
	  S("LIT B1 20 stream|DATA20:01234567890123456789|"
	    "CMD B1 APPEND [box (\\Seen) {20+}S0]|"), false },
	{ S("B2 APPEND box ~{3}\r\na\0b\r\n"),
	  S("LIT B2 3 sync bin|CMD B2 APPEND [box ~{3}a\0b]|"), false },
	{ S("B3 X ({0}\r\n)\r\n"), S("LIT B3 0 sync|CMD B3 X [({0})]|"),
	  false },
	{ S("B4 X \"caf\xc3\xa9\"\r\n"), S("CMD B4 X [\"caf\xc3\xa9\"]|"),
	  false },
	/* Errors, and the command after each one. */
	{ S("B5 X \"caf\xc3\"\r\nB6 NOOP\r\n"),
	  S("ERR B5 BAD Invalid UTF-8 in quoted string|CMD B6 NOOP []|"),
	  false },
	{ S("B7 X ab\xe9\r\nB8 NOOP\r\n"),
	  S("ERR B7 BAD 8-bit octet in atom|CMD B8 NOOP []|"), false },
	{ S("B9 X (a\r\nC1 X a)\r\n"),
	  S("ERR B9 BAD Unbalanced parentheses|ERR C1 BAD Unbalanced "
	    "parentheses|"), false },
	{ S("C2 X {-1}\r\nC3 NOOP\r\n"),
	  S("ERR C2 BAD Invalid literal|CMD C3 NOOP []|"), false },
	{ S("C4 X {99999999999999999999}\r\nC5 NOOP\r\n"),
	  S("ERR C4 TOOBIG Literal too large|CMD C5 NOOP []|"), false },
	{ S("C6 X {1001+}\r\n"), S("ERR C6 TOOBIG Literal too large|BUSY"),
	  false },
	{ S("C7 X (\"a\" {5+}\r\nC8 NO)\r\nC9 NOOP\r\n"),
	  S("LIT C7 5|CMD C7 X [(\"a\" {5+}C8 NO)]|CMD C9 NOOP []|"), false },
	{ S("D1 X \"bad\\x\" {5+}\r\nD2 NO)\r\nD3 NOOP\r\n"),
	  S("ERR D1 BAD Invalid escape in quoted string|CMD D3 NOOP []|"),
	  false },
	{ S("D4 X \"bad\\x\" {5+}\r\nD2 NO {2+}\r\nab\r\nD5 NOOP\r\n"),
	  S("ERR D4 BAD Invalid escape in quoted string|CMD D5 NOOP []|"),
	  false },
	{ S("D6 X {5}\r\nD7 NOOP\r\n"), S("LIT D6 5 sync|CMD D7 NOOP []|"),
	  true },
	{ S("D7 X a{5}\r\n"),
	  S("ERR D7 BAD Missing space between arguments|"), false },
	{ S("D8 X {5}x\r\n"), S("ERR D8 BAD Literal must end the line|"),
	  false },
	{ S("D9 X a\"b\"\r\n"),
	  S("ERR D9 BAD Missing space between arguments|"), false },
	{ S("E1 X ((((((((((a))))))))))\r\nE2 NOOP\r\n"),
	  S("ERR E1 TOOBIG Lists nested too deeply|CMD E2 NOOP []|"), false },
	{ S("E3 X )\r\n"), S("ERR E3 BAD Unbalanced parentheses|"), false },
	{ S("E4\r\n"), S("ERR E4 BAD Missing or invalid command name|"),
	  false },
	{ S("E5 UID\r\n"), S("ERR E5 BAD Missing or invalid command name|"),
	  false },
	{ S("+E6 NOOP\r\n"), S("ERR  BAD Invalid tag|"), false },
	{ S("E7 X \"a\0b\"\r\n"),
	  S("ERR E7 BAD Invalid character in quoted string|"), false },
	{ S("E8 X {3}\r\na\0b\r\nE9 NOOP\r\n"),
	  S("LIT E8 3 sync|ERR E8 BAD NUL octet in literal|CMD E9 NOOP []|"),
	  false },
	{ S("F1 X a b c d e f g h i j k l m n o p q r s t u v w x y z "
	    "a b c d e f g h i j k l m n o p\r\nF2 NOOP\r\n"),
	  S("ERR F1 TOOBIG Too many arguments|CMD F2 NOOP []|"), false },
	{ S("F3 X {1}\r\na {1}\r\nb {1}\r\nc {1}\r\nd {1}\r\n"),
	  S("LIT F3 1 sync|LIT F3 1 sync|LIT F3 1 sync|LIT F3 1 sync|"
	    "ERR F3 TOOBIG Too many literals|"), false },
	{ S("F4 X BODY[TEXT\r\n"), S("ERR F4 BAD Unterminated section|"),
	  false },
	{ S("F5 LINEMODE\r\nsecret line\r\nF6 NOOP\r\n"),
	  S("CMD F5 LINEMODE []|LINE secret line|CMD F6 NOOP []|"), false },
	{ S("F7 LINEMODE\r\n\r\n"), S("CMD F7 LINEMODE []|LINE |"), false },
	{ S("F8 X {17+}\r\nabcdefghijklmnopq\r\n"),
	  S("LIT F8 17 stream|DATA17:abcdefghijklmnopq|CMD F8 X [{17+}S0]|"),
	  false },
	{ S("F9 X {17+}\r\nabcdefghijklmnopq\r\nG1 NOOP\r\n"),
	  S("LIT F9 17 stream|CMD G1 NOOP []|"), true },
	{ S("G2 X ~{2+}\r\nab\r\n"),
	  S("LIT G2 2 bin|CMD G2 X [~{2+}ab]|"), false },
	{ S("G3 X abc\\ \r\n"),
	  S("ERR G3 BAD Missing space between arguments|"), false },
	{ S("G4 X \\\r\n"), S("ERR G4 BAD Invalid character|"), false },
	{ S("G5 LIST \"\" ~peter/%\r\n"), S("CMD G5 LIST [\"\" ~peter/%]|"),
	  false },
	{ S("G6 X ({17}\r\nabcdefghijklmnopq {17+}\r\nABCDEFGHIJKLMNOPQ)\r\n"),
	  S("LIT G6 17 sync stream|DATA17:abcdefghijklmnopq|LIT G6 17 stream|"
	    "DATA17:ABCDEFGHIJKLMNOPQ|CMD G6 X [({17}S0 {17+}S1)]|"), false },
	{ S("G7 X {2}\r\nab\r\nG8 X\r\n"),
	  S("LIT G7 2 sync|CMD G7 X [{2}ab]|CMD G8 X []|"), false },
	/* RFC 9051 9: every ATOM-CHAR, and resp-specials, make one
	 * astring; list-wildcards join them in a list-mailbox. */
	{ S("H1 SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}\r\n"),
	  S("CMD H1 SELECT [!#$&'+,-.0123456789:;<=>?@^_`|[}]|"), false },
	{ S("H2 LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*\r\n"),
	  S("CMD H2 LIST [\"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*]|"),
	  false },
	{ S("H3 SELECT ]a[b]~\r\nH4 NOOP\r\n"),
	  S("CMD H3 SELECT []a[b]~]|CMD H4 NOOP []|"), false },
	{ S("H5] STATUS a}b (MESSAGES)\r\n"),
	  S("CMD H5] STATUS [a}b (MESSAGES)]|"), false },
};

static void
t_check(const struct imap_parser_limits *lim, const char *in, size_t len,
        const char *want, size_t wlen, bool refuse, size_t idx)
{
	static struct t_run r;
	size_t chunks[] = { 0, 1, 2, 3, 7 };

	r.refuse = refuse;
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		t_feed(&r, lim, in, len, chunks[c], 0);
		if (r.len != wlen || memcmp(r.out, want, wlen) != 0)
			test_fail(__FILE__, __LINE__,
			          "case %zu chunk %zu: got \"%s\"", idx,
			          chunks[c], r.out);
	}
	for (size_t split = 1; split < len; split++) {
		t_feed(&r, lim, in, len, 0, split);
		if (r.len != wlen || memcmp(r.out, want, wlen) != 0)
			test_fail(__FILE__, __LINE__,
			          "case %zu split %zu: got \"%s\"", idx,
			          split, r.out);
	}
}

void
test_imap_parser_cases(void)
{
	struct imap_parser_limits lim;

	t_limits(&lim);
	for (size_t i = 0; i < sizeof(t_cases) / sizeof(t_cases[0]); i++)
		t_check(&lim, t_cases[i].in, t_cases[i].inlen, t_cases[i].want,
		        t_cases[i].wantlen, t_cases[i].refuse, i);
}

void
test_imap_parser_limits(void)
{
	struct imap_parser_limits lim;
	static char in[2048], want[256];
	size_t n;

	t_limits(&lim);
	/* A line past max_line, with the tag found however it is split. */
	n = (size_t)snprintf(in, sizeof(in), "H1 X %0300d\r\nH2 NOOP\r\n", 7);
	t_check(&lim, in, n, want, (size_t)snprintf(want, sizeof(want),
	        "ERR H1 TOOBIG Line too long|CMD H2 NOOP []|"), false, 100);
	/* The same, ending in {n+}: its octets are skipped too. */
	n = (size_t)snprintf(in, sizeof(in),
	                     "H3 X %0300d {4+}\r\nH4 X\r\n\r\nH5 NOOP\r\n", 7);
	t_check(&lim, in, n, want, (size_t)snprintf(want, sizeof(want),
	        "ERR H3 TOOBIG Line too long|CMD H5 NOOP []|"), false, 101);
	/* A command past max_command over several lines. */
	n = (size_t)snprintf(in, sizeof(in), "H6 X {1}\r\na %0150d {1}\r\n"
	                     "b %0150d {1}\r\nc %0150d\r\nH7 NOOP\r\n", 1, 2,
	                     3);
	t_check(&lim, in, n, want, (size_t)snprintf(want, sizeof(want),
	        "LIT H6 1 sync|LIT H6 1 sync|LIT H6 1 sync|ERR H6 TOOBIG "
	        "Command too long|CMD H7 NOOP []|"), false, 102);
	/* Line mode: a line past max_line is an error, then commands. */
	n = (size_t)snprintf(in, sizeof(in), "H8 LINEMODE\r\n%0300d\r\n"
	                     "H9 NOOP\r\n", 5);
	t_check(&lim, in, n, want, (size_t)snprintf(want, sizeof(want),
	        "CMD H8 LINEMODE []|ERR  TOOBIG Line too long|"
	        "CMD H9 NOOP []|"), false, 103);
}

void
test_imap_parser_literal_minus(void)
{
	struct imap_parser_limits lim;
	struct imap_parser *p;
	struct imap_event ev;
	struct rs_err err;
	size_t used;
	static const char in[] = "I1 X {5+}\r\nabcde\r\nI2 X {6+}\r\nabcdef\r\n"
	                         "I3 NOOP\r\n";
	size_t pos = 0;
	int rc;

	t_limits(&lim);
	p = imap_parser_new(&lim);
	imap_parser_set_nonsync_max(p, 5);
	rc = imap_parser_feed(p, (const uint8_t *)in, sizeof(in) - 1, &used,
	                      &ev, &err);
	TEST_ASSERT(rc == 1 && ev.type == IMAP_EV_LITERAL && !ev.lit_sync);
	pos += used;
	rc = imap_parser_feed(p, (const uint8_t *)in + pos,
	                      sizeof(in) - 1 - pos, &used, &ev, &err);
	TEST_ASSERT(rc == 1 && ev.type == IMAP_EV_COMMAND);
	TEST_ASSERT(imap_parser_idle(p));
	pos += used;
	rc = imap_parser_feed(p, (const uint8_t *)in + pos,
	                      sizeof(in) - 1 - pos, &used, &ev, &err);
	TEST_ASSERT(rc == -1 && err.code == RS_ETOOBIG);
	TEST_ASSERT_STREQ(ev.cmd.tag.p, "I2");
	TEST_ASSERT(!imap_parser_idle(p));
	pos += used;
	rc = imap_parser_feed(p, (const uint8_t *)in + pos,
	                      sizeof(in) - 1 - pos, &used, &ev, &err);
	TEST_ASSERT(rc == 0 && imap_parser_idle(p));
	pos += used;
	rc = imap_parser_feed(p, (const uint8_t *)in + pos,
	                      sizeof(in) - 1 - pos, &used, &ev, &err);
	TEST_ASSERT(rc == 1 && ev.type == IMAP_EV_COMMAND);
	TEST_ASSERT_STREQ(ev.cmd.tag.p, "I3");
	TEST_ASSERT(pos + used == sizeof(in) - 1);
	imap_parser_free(&p);
	imap_parser_free(&p);
}

void
test_imap_parser_wipe(void)
{
	struct imap_parser_limits lim;
	struct imap_parser *p;
	struct imap_event ev;
	struct rs_err err;
	size_t used;
	int rc;

	t_limits(&lim);
	p = imap_parser_new(&lim);
	rc = imap_parser_feed(p, (const uint8_t *)"I0 LOGIN u {2}\r\n", 16,
	                      &used, &ev, &err);
	TEST_ASSERT(rc == 1 && used == 16 && ev.type == IMAP_EV_LITERAL);
	TEST_ASSERT(!imap_parser_idle(p));
	rc = imap_parser_feed(p, (const uint8_t *)"pw\r\n", 4, &used, &ev,
	                      &err);
	TEST_ASSERT(rc == 1 && ev.type == IMAP_EV_COMMAND && used == 4);
	TEST_ASSERT(ev.cmd.nargs == 2);
	TEST_ASSERT_STREQ(ev.cmd.args[1].str.p, "pw");
	/* Wipe leaves no byte of the last command behind. */
	imap_parser_wipe(p);
	TEST_ASSERT(imap_parser_idle(p));
	rc = imap_parser_feed(p, (const uint8_t *)"I4 NOOP\r\n", 9, &used,
	                      &ev, &err);
	TEST_ASSERT(rc == 1 && used == 9);
	TEST_ASSERT_STREQ(ev.cmd.name.p, "NOOP");
	imap_parser_free(&p);
}
