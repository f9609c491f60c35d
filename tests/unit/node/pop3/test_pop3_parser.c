/* test_pop3_parser.c: POP3 command lines, fed whole, byte by byte and in
 * odd-sized pieces; every way must give the same transcript. */
#include <stdio.h>
#include <stdlib.h>

#include "node/pop3/pop3_parser.h"
#include "tests/unit/test.h"

/* Appends "VERB arg arg" or "VERB|rest" or "!error" lines to out. */
static void
pop3_transcript(struct pop3_parser *p, const char *in, size_t len,
                size_t step, char *out, size_t size)
{
	size_t pos = 0, o = strlen(out);

	while (pos < len) {
		size_t n = len - pos < step ? len - pos : step, off = 0;

		while (off < n) {
			struct pop3_cmd cmd;
			struct rs_err err;
			size_t used = 0;
			int rc = pop3_parser_feed(p, (const uint8_t *)in + pos +
			                          off, n - off, &used, &cmd,
			                          &err);

			TEST_ASSERT(used <= n - off);
			TEST_ASSERT(rc != 0 || used == n - off);
			off += used;
			if (rc == 1) {
				o += (size_t)snprintf(out + o, size - o, "%s%s",
				    o > 0 ? "\n" : "",
				    pop3_verb_name(cmd.verb));
				if (cmd.verb == POP3_VERB_PASS ||
				    cmd.verb == POP3_VERB_SASL) {
					o += (size_t)snprintf(out + o, size - o,
					    "|%.*s", (int)cmd.rest.len,
					    cmd.rest.p);
				} else {
					for (size_t a = 0; a < cmd.nargs; a++)
						o += (size_t)snprintf(out + o,
						    size - o, " %.*s",
						    (int)cmd.args[a].len,
						    cmd.args[a].p);
				}
			} else if (rc < 0) {
				o += (size_t)snprintf(out + o, size - o,
				    "%s!%s", o > 0 ? "\n" : "", err.msg);
			}
			if (used == 0)
				break;
			TEST_ASSERT(o < size);
		}
		pos += n;
	}
}

static char *
pop3_repeat(const char *head, char c, size_t n, const char *tail)
{
	size_t h = strlen(head), t = strlen(tail);
	char *s = malloc(h + n + t + 1);

	memcpy(s, head, h);
	memset(s + h, c, n);
	memcpy(s + h + n, tail, t + 1);
	return s;
}

void
test_pop3_parser_lines(void)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
		{ "USER alice@example.test\r\n", "USER alice@example.test" },
		{ "user alice\n", "USER alice" },
		{ "PASS  secret with spaces \r\n",
		  "PASS| secret with spaces " },
		{ "STAT\r\nLIST\r\nlist 2\r\nUidl 3\r\n",
		  "STAT\nLIST\nLIST 2\nUIDL 3" },
		{ "TOP 1 10\r\n", "TOP 1 10" },
		{ "TOP  1   10  \r\n", "TOP 1 10" },
		{ "TOP 1\r\n", "!Missing argument" },
		{ "RETR 1 2\r\n", "!Too many arguments" },
		{ "STAT 1\r\n", "!Too many arguments" },
		{ "DELE\r\n", "!Missing argument" },
		{ "FOO\r\nNOOP\r\n", "!Unknown command\nNOOP" },
		{ "STLS\r\nAPOP a b\r\n",
		  "!Unknown command\n!Unknown command" },
		{ "\r\n", "!Empty command line" },
		{ "ST\r\n", "!Unknown command" },
		{ "STATS\r\n", "!Unknown command" },
		{ "  STAT\r\n", "!Unknown command" },
		{ "STAT \r\n", "STAT" },
		{ "NO0P\r\n", "!Unknown command" },
		{ "NOOP\0x\r\nNOOP\r\n", "!NUL byte in command line\nNOOP" },
		{ "RETR 1\rX\r\nRSET\r\n", "!Syntax error: bare CR\nRSET" },
		{ "PASS\r\nPASS \r\n", "!Missing argument\n!Missing argument" },
		{ "AUTH PLAIN dGVzdA==\r\n", "AUTH PLAIN dGVzdA==" },
		{ "AUTH\r\n", "AUTH" },
		{ "AUTH PLAIN x y\r\n", "!Too many arguments" },
		{ "CAPA\r\nQUIT\r\n", "CAPA\nQUIT" },
		{ "QUIT", "" },                 /* no LF yet: nothing */
	};
	size_t steps[] = { 100000, 1, 2, 3, 7 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Inputs with a NUL inside: measure up to the last LF. */
		size_t len = strlen(cases[i].in);

		if (strstr(cases[i].want, "NUL byte") != NULL)
			len = strlen(cases[i].in) + 1 +
			      strlen(cases[i].in + strlen(cases[i].in) + 1);
		for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			struct pop3_parser *p = pop3_parser_new();
			char out[1024] = "";

			pop3_transcript(p, cases[i].in, len, steps[k], out,
			                sizeof(out));
			if (strcmp(out, cases[i].want) != 0)
				test_fail(__FILE__, __LINE__, "case %zu step "
				          "%zu: \"%s\" != \"%s\"", i, steps[k],
				          out, cases[i].want);
			pop3_parser_free(&p);
			TEST_ASSERT(p == NULL);
		}
	}
}

void
test_pop3_parser_limits(void)
{
	struct {
		char *in;                  /* owned */
		const char *want;
	} cases[] = {
		/* RFC 2449: 255 octets with CRLF is the most; 256 is not. */
		{ pop3_repeat("NOOP", ' ', 249, "\r\nNOOP\r\n"),
		  "NOOP\nNOOP" },
		{ pop3_repeat("NOOP", ' ', 250, "\r\nNOOP\r\n"),
		  "!Line too long\nNOOP" },
		{ pop3_repeat("LIST ", 'x', 300, "\r\nNOOP\r\n"),
		  "!Line too long\nNOOP" },
		{ pop3_repeat("LIST ", '1', 40, "\r\n"), NULL },
		{ pop3_repeat("LIST ", '1', 41, "\r\n"),
		  "!Argument too long" },
		/* Long addresses in USER: 320 octets. */
		{ pop3_repeat("USER ", 'a', 320, "\r\n"), NULL },
		{ pop3_repeat("USER ", 'a', 321, "\r\n"),
		  "!Argument too long" },
		{ pop3_repeat("AUTH PLAIN ", 'A', 320, "\r\n"), NULL },
		{ pop3_repeat("PASS ", 'p', POP3_PASS_MAX, "\r\n"), NULL },
		{ pop3_repeat("PASS ", 'p', POP3_PASS_MAX + 1, "\r\nSTAT\r\n"),
		  "!Line too long\nSTAT" },
		/* No LF ever: one error, then everything is skipped. */
		{ pop3_repeat("", 'X', 5000, ""), "!Line too long" },
		{ pop3_repeat("USER ", 'a', 3000, "\nQUIT\n"),
		  "!Line too long\nQUIT" },
	};
	size_t steps[] = { 100000, 1, 5, 64 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			struct pop3_parser *p = pop3_parser_new();
			char out[4096] = "";
			const char *want = cases[i].want;

			pop3_transcript(p, cases[i].in, strlen(cases[i].in),
			                steps[k], out, sizeof(out));
			if (want == NULL) {
				/* Accepted: the line comes back unchanged. */
				size_t n = strlen(cases[i].in) - 2;

				TEST_ASSERT_IDX(strncmp(out, cases[i].in, 4)
				                == 0, i);
				TEST_ASSERT_IDX(strlen(out) == n ||
				                (out[4] == '|' &&
				                 strlen(out) == n), i);
			} else if (strcmp(out, want) != 0) {
				test_fail(__FILE__, __LINE__, "case %zu step "
				          "%zu: \"%.60s\" != \"%s\"", i,
				          steps[k], out, want);
			}
			pop3_parser_free(&p);
		}
		free(cases[i].in);
	}
}

void
test_pop3_parser_sasl(void)
{
	size_t steps[] = { 100000, 1, 3 };

	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		struct pop3_parser *p = pop3_parser_new();
		char out[8192] = "";
		char *big;

		pop3_transcript(p, "AUTH PLAIN\r\n", 12, steps[k], out,
		                sizeof(out));
		pop3_parser_set_sasl(p);
		/* The response line is returned whole, even "AUTH x y". */
		pop3_transcript(p, "AUTH a b c\r\nNOOP\r\n", 18, steps[k], out,
		                sizeof(out));
		pop3_parser_set_sasl(p);
		pop3_transcript(p, "*\r\n", 3, steps[k], out, sizeof(out));
		pop3_parser_set_sasl(p);
		pop3_transcript(p, "\r\n", 2, steps[k], out, sizeof(out));
		TEST_ASSERT_STREQ(out, "AUTH PLAIN\nSASL|AUTH a b c\nNOOP\n"
		                  "SASL|*\nSASL|");
		/* 2048 octets is the most; past it, "Line too long" and
		 * the next line is a command again. */
		big = pop3_repeat("", 'A', POP3_SASL_LINE_MAX, "\r\n");
		pop3_parser_set_sasl(p);
		out[0] = '\0';
		pop3_transcript(p, big, strlen(big), steps[k], out,
		                sizeof(out));
		TEST_ASSERT(strlen(out) == 5 + POP3_SASL_LINE_MAX);
		free(big);
		big = pop3_repeat("", 'A', POP3_SASL_LINE_MAX + 1,
		                  "\r\nSTAT\r\n");
		pop3_parser_set_sasl(p);
		out[0] = '\0';
		pop3_transcript(p, big, strlen(big), steps[k], out,
		                sizeof(out));
		TEST_ASSERT_STREQ(out, "!Line too long\nSTAT");
		free(big);
		pop3_parser_free(&p);
	}
}

void
test_pop3_parser_wipe(void)
{
	struct pop3_parser *p = pop3_parser_new();
	char out[256] = "";

	pop3_transcript(p, "PASS hunter2\r\n", 14, 100, out, sizeof(out));
	TEST_ASSERT_STREQ(out, "PASS|hunter2");
	pop3_parser_wipe(p);
	/* The parser still works after a wipe. */
	out[0] = '\0';
	pop3_transcript(p, "STAT\r\n", 6, 1, out, sizeof(out));
	TEST_ASSERT_STREQ(out, "STAT");
	TEST_ASSERT_STREQ(pop3_verb_name(POP3_VERB_TOP), "TOP");
	TEST_ASSERT_STREQ(pop3_verb_name(POP3_VERB_NONE), "?");
	pop3_parser_free(&p);
	pop3_parser_free(&p);              /* NULL-safe */
}
