/* test_mime_parts.c: the part table (sections in order, where each
 * BODY[section], .MIME, .HEADER and .TEXT lie) and the sort keys. */
#include <stdio.h>
#include <stdlib.h>

#include "node/mime/mime.h"
#include "tests/unit/test.h"

static const char msg_rfc822[] = "From: x@y.org\r\n"
	"Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n"
	"--o\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
	"--o\r\nContent-Type: message/rfc822\r\n\r\n"
	"From: Inner <in@ner.org>\r\nSubject: inner\r\n"
	"Content-Type: multipart/alternative; boundary=i\r\n\r\n"
	"--i\r\n\r\nalt 1\r\n--i\r\n\r\nalt 2\r\n--i--\r\n"
	"--o--\r\n";

/* sections in walk order, "|" after each, with the body of each. */
static const struct {
	const char *msg;
	const char *want_walk;
} walks[] = {
	{ "Subject: s\r\n\r\nbody", "1=body|" },
	{ msg_rfc822, "=--o\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
	  "--o\r\nContent-Type: message/rfc822\r\n\r\n"
	  "From: Inner <in@ner.org>\r\nSubject: inner\r\n"
	  "Content-Type: multipart/alternative; boundary=i\r\n\r\n"
	  "--i\r\n\r\nalt 1\r\n--i\r\n\r\nalt 2\r\n--i--\r\n--o--\r\n|"
	  "1=see below|2=From: Inner <in@ner.org>\r\nSubject: inner\r\n"
	  "Content-Type: multipart/alternative; boundary=i\r\n\r\n"
	  "--i\r\n\r\nalt 1\r\n--i\r\n\r\nalt 2\r\n--i--|2.1=alt 1|2.2=alt 2|" },
	{ "Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nbody",
	  "1=Subject: in\r\n\r\nbody|1.1=body|" },
	{ "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n\r\n"
	  "one\r\n--a\r\nContent-Type: multipart/related; boundary=b\r\n\r\n"
	  "--b\r\n\r\ntwo.one\r\n--b\r\n\r\ntwo.two\r\n--b--\r\n--a--",
	  "=--a\r\n\r\none\r\n--a\r\nContent-Type: multipart/related; "
	  "boundary=b\r\n\r\n--b\r\n\r\ntwo.one\r\n--b\r\n\r\ntwo.two\r\n"
	  "--b--\r\n--a--|1=one|2=--b\r\n\r\ntwo.one\r\n--b\r\n\r\ntwo.two\r\n"
	  "--b--|2.1=two.one|2.2=two.two|" },
	/* Empty parts, a delimiter with trailing blanks, no close. */
	{ "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n--a  \r\n"
	  "\r\nx\r\n--a\r\n\r\nlast\r\n", "=--a\r\n--a  \r\n\r\nx\r\n--a\r\n"
	  "\r\nlast\r\n|1=|2=x|3=last\r\n|" },
	/* Junk after a close delimiter; a boundary that is a prefix. */
	{ "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n\r\nx\r\n"
	  "--ab\r\n--a--junk\r\n--a\r\n\r\nafter\r\n",
	  "=--a\r\n\r\nx\r\n--ab\r\n--a--junk\r\n--a\r\n\r\nafter\r\n|"
	  "1=x\r\n--ab|" },
};

static int
open_msg(const char *msg, struct rs_buf *meta, struct mime_summary *s)
{
	memset(s, 0, sizeof(*s));
	rs_buf_init(meta, RS_BUF_UNLIMITED);
	if (mime_parse((const uint8_t *)msg, strlen(msg), meta, NULL) != 0)
		return -1;
	return mime_summary_open(meta->data, meta->len, s);
}

void
test_mime_parts_walk(void)
{
	for (size_t i = 0; i < sizeof(walks) / sizeof(walks[0]); i++) {
		struct rs_buf meta, got;
		struct mime_summary s;
		struct mime_part_iter it;
		struct mime_part p, q;

		TEST_ASSERT_IDX(open_msg(walks[i].msg, &meta, &s) == 0, i);
		rs_buf_init(&got, RS_BUF_UNLIMITED);
		mime_summary_iter_init(&it, &s);
		while (mime_summary_iter_next(&it, &p) == 1) {
			TEST_ASSERT_IDX(rs_buf_printf(&got, "%s=%.*s|", p.section,
			                (int)p.body_len,
			                walks[i].msg + p.body_off) == 0, i);
			TEST_ASSERT_IDX(p.body_off == p.hdr_off + p.hdr_len, i);
			TEST_ASSERT_IDX(mime_summary_part(&s, p.section, &q) == 0,
			                i);
			TEST_ASSERT_IDX(q.body_off == p.body_off &&
			                q.body_len == p.body_len, i);
		}
		if (strcmp((char *)got.data, walks[i].want_walk) != 0)
			test_fail(__FILE__, __LINE__, "case %zu: got %s", i,
			          (char *)got.data);
		rs_buf_free(&got);
		rs_buf_free(&meta);
	}
}

static void
check_slice(const char *msg, uint64_t off, uint64_t len, const char *want,
            int line)
{
	if (strlen(want) != len || memcmp(msg + off, want, len) != 0)
		test_fail(__FILE__, line, "got \"%.*s\" want \"%s\"", (int)len,
		          msg + off, want);
}

static void
lookup_errors(const struct mime_summary *s)
{
	static const struct {
		const char *sec;
		int want;
	} cases[] = {
		{ "3", RS_ENOTFOUND }, { "2.3", RS_ENOTFOUND },
		{ "1.1", RS_ENOTFOUND }, { "0", RS_EINVAL }, { "1.", RS_EINVAL },
		{ ".1", RS_EINVAL }, { "1.MIME", RS_EINVAL }, { "01", RS_EINVAL },
		{ "1..2", RS_EINVAL },
	};
	struct mime_part p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		TEST_ASSERT_IDX(mime_summary_part(s, cases[i].sec, &p) ==
		                cases[i].want, i);
}

void
test_mime_parts_lookup(void)
{
	struct rs_buf meta;
	struct mime_summary s;
	struct mime_part p;
	const char *m = msg_rfc822;

	TEST_ASSERT(open_msg(m, &meta, &s) == 0);
	TEST_ASSERT(mime_summary_part(&s, "", &p) == 0);
	TEST_ASSERT(p.kind == MIME_PART_MULTIPART);
	check_slice(m, p.msg_hdr_off, p.msg_hdr_len, "From: x@y.org\r\n"
	            "Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n",
	            __LINE__);
	TEST_ASSERT(p.msg_text_off + p.msg_text_len == strlen(m));
	TEST_ASSERT(mime_summary_part(&s, "2", &p) == 0);
	TEST_ASSERT(p.kind == MIME_PART_MESSAGE);
	check_slice(m, p.hdr_off, p.hdr_len,
	            "Content-Type: message/rfc822\r\n\r\n", __LINE__);
	check_slice(m, p.msg_hdr_off, p.msg_hdr_len,
	            "From: Inner <in@ner.org>\r\nSubject: inner\r\n"
	            "Content-Type: multipart/alternative; boundary=i\r\n\r\n",
	            __LINE__);
	check_slice(m, p.msg_text_off, p.msg_text_len,
	            "--i\r\n\r\nalt 1\r\n--i\r\n\r\nalt 2\r\n--i--", __LINE__);
	TEST_ASSERT(p.lines == 10);
	TEST_ASSERT(mime_summary_part(&s, "2.2", &p) == 0);
	check_slice(m, p.hdr_off, p.hdr_len, "\r\n", __LINE__);
	TEST_ASSERT(p.kind == MIME_PART_LEAF && p.msg_hdr_len == 0);
	TEST_ASSERT(mime_summary_part(&s, "1", &p) == 0);
	TEST_ASSERT(p.cte == MIME_CTE_7BIT);
	lookup_errors(&s);
	rs_buf_free(&meta);
}

static void
key_eq(struct rs_str got, const char *want, int line)
{
	if (got.len != strlen(want) || memcmp(got.p, want, got.len) != 0)
		test_fail(__FILE__, line, "got \"%.*s\" want \"%s\"",
		          (int)got.len, got.p, want);
}

void
test_mime_sort_keys(void)
{
	static const struct {
		const char *subject;
		const char *want;
		bool reply;
	} subjects[] = {
		{ "Saying Hello", "Saying Hello", false },
		{ "Re: [list] Fwd: hi (fwd)", "hi", true },
		{ "RE:  re: Re:hello  there ", "hello there", true },
		{ "[fwd: forwarded]", "forwarded", true },
		{ "[PATCH] fix", "fix", false },
		{ "[only-blob]", "[only-blob]", false },
		{ "=?ISO-8859-1?Q?Caf=E9?= =?UTF-8?B?w6k=?=", "Caf\xc3\xa9\xc3\xa9",
		  false },
		{ "=?windows-1252?q?=80uro?= x =?x-unknown?q?a?=",
		  "\xe2\x82\xacuro x =?x-unknown?q?a?=", false },
		{ "Fw: [a][b] Re: x", "x", true },
		{ "RE: [EXT] FW: meeting", "meeting", true },
		{ "=?UTF-8?Q?Quarterly_report_=E2=80=93_draft?=",
		  "Quarterly report \xe2\x80\x93 draft", false },
		{ "[a][b][c]", "[c]", false },
		/* RFC 5256 2.1: a blob inside the reply marker, trailers
		 * in any case and repeated, folding, "[fwd: ...]" again. */
		{ "re [2]: hi", "hi", true },
		{ "Hi (FWD) (fwd)", "Hi", true },
		{ "Re:\r\n\t hello\t\tworld", "hello world", true },
		{ "[fwd: Re: [x] y (fwd)]", "y", true },
		{ "[a[b] x", "[a[b] x", false },
		{ "=?utf-8?q?Re=3A?= =?utf-8?q?_egg?=", "egg", true },
		{ "", "", false },
	};
	char msg[512];

	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		struct rs_buf meta;
		struct mime_summary s;

		snprintf(msg, sizeof(msg), "Subject: %s\r\n\r\n",
		         subjects[i].subject);
		TEST_ASSERT_IDX(open_msg(msg, &meta, &s) == 0, i);
		key_eq(s.keys.base_subject, subjects[i].want, __LINE__);
		TEST_ASSERT_IDX(s.keys.subject_reply == subjects[i].reply, i);
		rs_buf_free(&meta);
	}
}

void
test_mime_sort_keys_addr(void)
{
	static const char m[] =
		"From: =?utf-8?q?J=C3=B6rg?= <Joerg.X@Example.DE>\r\n"
		"To: group: <Bob@b.org>;\r\n"
		"Cc: \"Carl\" (comment) <carl@c.org>, d@d.org\r\n"
		"Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
		"Message-ID: junk <id1@x> <id2@x>\r\n"
		"In-Reply-To: <p@x>\r\nReferences: <r1@x>\r\n <r2@x>  <r3@x>\r\n\r\n";
	struct rs_buf meta;
	struct mime_summary s;
	const struct mime_sort_keys *k;

	TEST_ASSERT(open_msg(m, &meta, &s) == 0);
	k = mime_summary_keys(&s);
	TEST_ASSERT_INTEQ(k->sent_date, 880127706);
	TEST_ASSERT_INTEQ(k->sent_tz, -360);
	key_eq(k->from_mailbox, "joerg.x", __LINE__);
	key_eq(k->from_display, "J\xc3\xb6rg", __LINE__);
	key_eq(k->to_mailbox, "bob", __LINE__);
	key_eq(k->to_display, "Bob@b.org", __LINE__);
	key_eq(k->cc_mailbox, "carl", __LINE__);
	key_eq(k->cc_display, "Carl", __LINE__);
	key_eq(k->message_id, "<id1@x>", __LINE__);
	key_eq(k->in_reply_to, "<p@x>", __LINE__);
	key_eq(k->references, "<r1@x> <r2@x> <r3@x>", __LINE__);
	rs_buf_free(&meta);
}

void
test_mime_dates(void)
{
	static const struct {
		const char *date;
		int64_t want;
		int32_t tz;
	} dates[] = {
		{ "Fri, 21 Nov 1997 09:55:06 -0600", 880127706, -360 },
		{ "21 Nov 97 09:55:06 GMT", 880106106, 0 },
		{ "Thu, 13 Feb 1969 23:32 -0330 (Newfoundland Time)",
		  -27723480, -210 },
		{ "1 Jan 2000 00:00:00 +0100", 946681200, 60 },
		{ "Mon, 29 Feb 2044 12:00:00 PST", 2340388800, -480 },
		{ "garbage", 0, 0 },
		{ "32 Jan 2000 00:00:00 +0000", 0, 0 },
		{ "1 Foo 2000 00:00:00 +0000", 0, 0 },
	};
	char msg[256];

	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		struct rs_buf meta;
		struct mime_summary s;

		snprintf(msg, sizeof(msg), "Date: %s\r\n\r\n", dates[i].date);
		TEST_ASSERT_IDX(open_msg(msg, &meta, &s) == 0, i);
		if (s.keys.sent_date != dates[i].want)
			test_fail(__FILE__, __LINE__, "case %zu: %lld", i,
			          (long long)s.keys.sent_date);
		TEST_ASSERT_IDX(s.keys.sent_tz == dates[i].tz, i);
		rs_buf_free(&meta);
	}
}
