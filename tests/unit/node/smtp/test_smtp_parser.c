/* test_smtp_parser.c: the SMTP command-line parser, fed byte by byte and
 * whole (same transcript both ways). */
#include <stdio.h>
#include <stdlib.h>

#include "lib/rs_buf.h"
#include "node/smtp/smtp_parser.h"
#include "tests/unit/test.h"

/* Feeds in, chunk bytes at a time (0: all at once), and writes one line
 * per result into out: "VERB|args" or "ERR|message". */
static void
parse_transcript(const char *in, size_t len, size_t max_line, size_t chunk,
                 struct rs_buf *out)
{
	struct smtp_parser *p = smtp_parser_new(max_line);
	size_t off = 0;

	rs_buf_reset(out);
	while (off < len) {
		size_t n = chunk == 0 || chunk > len - off ? len - off : chunk;
		size_t pos = 0;

		while (pos < n) {
			struct smtp_line l;
			struct rs_err err;
			size_t used = 99999;
			int rc = smtp_parser_feed(p, (const uint8_t *)in + off + pos,
			                          n - pos, &used, &l, &err);

			TEST_ASSERT(used <= n - pos);
			pos += used;
			if (rc > 0)
				TEST_ASSERT(rs_buf_printf(out, "%s|%.*s\n",
				    smtp_verb_name(l.verb), (int)l.args.len,
				    l.args.p) == 0);
			else if (rc < 0)
				TEST_ASSERT(rs_buf_printf(out, "ERR|%s\n",
				                          err.msg) == 0);
			else
				TEST_ASSERT(pos == n);
		}
		off += n;
	}
	smtp_parser_free(&p);
	TEST_ASSERT(p == NULL);
}

void
test_smtp_parser_lines(void)
{
	static const struct {
		const char *in;
		size_t len;               /* 0: strlen */
		const char *want;
	} cases[] = {
		{ "EHLO client.example\r\n", 0, "EHLO|client.example\n" },
		{ "ehlo   client  \r\n", 0, "EHLO|client\n" },
		{ "HeLo x\r\n", 0, "HELO|x\n" },
		{ "MAIL FROM:<a@b.test> SIZE=10\r\n", 0,
		  "MAIL|FROM:<a@b.test> SIZE=10\n" },
		{ "rcpt to:<a@b.test>\r\n", 0, "RCPT|to:<a@b.test>\n" },
		{ "DATA\r\nBDAT 10 LAST\r\n", 0, "DATA|\nBDAT|10 LAST\n" },
		{ "RSET\r\nNOOP hello\r\nQUIT\r\n", 0,
		  "RSET|\nNOOP|hello\nQUIT|\n" },
		{ "HELP\r\nVRFY bob\r\nEXPN staff\r\n", 0,
		  "HELP|\nVRFY|bob\nEXPN|staff\n" },
		/* A bare LF ends a command line (not a DATA line). */
		{ "QUIT\n", 0, "QUIT|\n" },
		{ "FOO bar\r\n", 0, "?|FOO bar\n" },
		{ "MAILX FROM:<a@b>\r\n", 0, "?|MAILX FROM:<a@b>\n" },
		{ "MAI\r\n", 0, "?|MAI\n" },
		{ "\r\n", 0, "?|\n" },
		{ "\n\n", 0, "?|\n?|\n" },
		{ " NOOP\r\n", 0, "?| NOOP\n" },
		{ "MAIL\tFROM:<a@b>\r\n", 0, "?|MAIL\tFROM:<a@b>\n" },
		{ "NOOP\tx\r\n", 0, "?|NOOP\tx\n" },
		{ "NOOP", 0, "" },
		{ "NOOP\r", 0, "" },
		{ "NO\rOP\r\nNOOP\r\n", 0, "ERR|Bare CR in command\nNOOP|\n" },
		{ "NOOP\r\r\n", 0, "ERR|Bare CR in command\n" },
		{ "NOOP\rQUIT\n", 0, "ERR|Bare CR in command\n" },
		{ "NO\0OP\r\nQUIT\r\n", 13, "ERR|NUL byte in command\nQUIT|\n" },
		{ "RCPT TO:<j\xc3\xb6rg@example.test>\r\n", 0,
		  "RCPT|TO:<j\xc3\xb6rg@example.test>\n" },
		{ "\xff\xfe\r\n", 0, "?|\xff\xfe\n" },
	};
	struct rs_buf a, b;

	rs_buf_init(&a, RS_BUF_UNLIMITED);
	rs_buf_init(&b, RS_BUF_UNLIMITED);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);

		parse_transcript(cases[i].in, len, 2048, 0, &a);
		parse_transcript(cases[i].in, len, 2048, 1, &b);
		TEST_ASSERT_IDX(strcmp((char *)(a.data ? a.data : (uint8_t *)""),
		                       cases[i].want) == 0, i);
		TEST_ASSERT_IDX(a.len == b.len &&
		                (a.len == 0 || memcmp(a.data, b.data, a.len) == 0),
		                i);
	}
	rs_buf_free(&a);
	rs_buf_free(&b);
}

void
test_smtp_parser_limits(void)
{
	struct rs_buf a, b, in;
	struct smtp_parser *p;
	struct smtp_line l;
	struct rs_err err;
	size_t used;

	rs_buf_init(&a, RS_BUF_UNLIMITED);
	rs_buf_init(&b, RS_BUF_UNLIMITED);
	rs_buf_init(&in, RS_BUF_UNLIMITED);
	/* 512 octets with the CRLF is the limit for max_line 512. */
	TEST_ASSERT(rs_buf_append_str(&in, "NOOP ") == 0);
	while (in.len < 510)
		TEST_ASSERT(rs_buf_append(&in, "x", 1) == 0);
	TEST_ASSERT(rs_buf_append_str(&in, "\r\n") == 0);
	parse_transcript((char *)in.data, in.len, 512, 0, &a);
	TEST_ASSERT(strncmp((char *)a.data, "NOOP|xxx", 8) == 0);
	/* 511 before a bare LF: still 512 in all. */
	in.len = 511;
	TEST_ASSERT(rs_buf_append_str(&in, "\n") == 0);
	parse_transcript((char *)in.data, in.len, 512, 1, &a);
	TEST_ASSERT(strncmp((char *)a.data, "NOOP|xxx", 8) == 0);
	/* One more: too long, reported once; the next line is fine. */
	in.len = 511;
	TEST_ASSERT(rs_buf_append_str(&in, "yy\r\nQUIT\r\n") == 0);
	parse_transcript((char *)in.data, in.len, 512, 0, &a);
	parse_transcript((char *)in.data, in.len, 512, 1, &b);
	TEST_ASSERT_STREQ((char *)a.data, "ERR|Line too long\nQUIT|\n");
	TEST_ASSERT_STREQ((char *)b.data, "ERR|Line too long\nQUIT|\n");
	/* A line far past the limit, fed in odd chunks, is one error. */
	rs_buf_reset(&in);
	for (int i = 0; i < 10000; i++)
		TEST_ASSERT(rs_buf_append(&in, "A", 1) == 0);
	TEST_ASSERT(rs_buf_append_str(&in, "\r\nNOOP\r\n") == 0);
	parse_transcript((char *)in.data, in.len, 2048, 7, &a);
	parse_transcript((char *)in.data, in.len, 2048, 1000, &b);
	TEST_ASSERT_STREQ((char *)a.data, "ERR|Line too long\nNOOP|\n");
	TEST_ASSERT_STREQ((char *)b.data, "ERR|Line too long\nNOOP|\n");
	/* The limit is clamped to the RFC minimum: 400 octets pass. */
	parse_transcript((char *)in.data + 10000 - 400, 400 + 8, 10, 0, &a);
	TEST_ASSERT(a.len == 2 + 400 + 1 + 6);
	TEST_ASSERT(strncmp((char *)a.data, "?|AAAA", 6) == 0);
	TEST_ASSERT_STREQ((char *)a.data + 2 + 400, "\nNOOP|\n");
	/* The parser never consumes past the LF of a complete line: DATA's
	 * body stays in the caller's buffer. */
	p = smtp_parser_new(2048);
	TEST_ASSERT(smtp_parser_feed(p, (const uint8_t *)"DATA\r\n.\r\n", 9,
	                             &used, &l, &err) == 1);
	TEST_ASSERT(used == 6);
	TEST_ASSERT(l.verb == SMTP_VERB_DATA);
	TEST_ASSERT(smtp_parser_feed(p, (const uint8_t *)"", 0, &used, &l,
	                             &err) == 0);
	TEST_ASSERT(used == 0);
	smtp_parser_free(&p);
	TEST_ASSERT_STREQ(smtp_verb_name(SMTP_VERB_UNKNOWN), "?");
	TEST_ASSERT_STREQ(smtp_verb_name(SMTP_VERB_COUNT), "?");
	TEST_ASSERT_STREQ(smtp_verb_name(SMTP_VERB_BDAT), "BDAT");
	rs_buf_free(&a);
	rs_buf_free(&b);
	rs_buf_free(&in);
}
