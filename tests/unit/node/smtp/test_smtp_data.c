/* test_smtp_data.c: the DATA decoder: terminator, dot-unstuffing, the
 * SMTP smuggling forms, size limits; fed byte by byte, whole, and split
 * at every point, with the same results. */
#include <stdio.h>
#include <stdlib.h>

#include "node/smtp/smtp_data.h"
#include "tests/unit/test.h"

struct data_result {
	int    rc;
	size_t used;                 /* octets consumed in all */
	bool   bare, too_big;
};

/* Decodes in, split at the given chunk size (0: whole), into out. */
static struct data_result
data_run(const char *in, size_t len, size_t chunk, size_t max,
         struct rs_buf *out)
{
	struct smtp_data d;
	struct data_result r = { 0, 0, false, false };
	size_t off = 0;

	rs_buf_free(out);
	rs_buf_init(out, max);
	smtp_data_init(&d, out);
	while (off < len && r.rc == 0) {
		size_t n = chunk == 0 || chunk > len - off ? len - off : chunk;
		size_t used = 0;

		r.rc = smtp_data_feed(&d, (const uint8_t *)in + off, n, &used);
		TEST_ASSERT(used <= n);
		TEST_ASSERT(r.rc == 1 || used == n);
		off += used;
	}
	r.used = off;
	r.bare = d.bare;
	r.too_big = d.too_big;
	TEST_ASSERT(d.received == off);
	return r;
}

static bool
data_same(const struct rs_buf *a, const char *want, size_t want_len)
{
	return a->len == want_len &&
	       (want_len == 0 || memcmp(a->data, want, want_len) == 0);
}

void
test_smtp_data_cases(void)
{
	static const struct {
		const char *in;
		size_t len;              /* 0: strlen */
		int want_rc;
		const char *want_out;
		size_t want_used;        /* when want_rc is 1 */
		bool want_bare;
	} cases[] = {
		{ ".\r\n", 0, 1, "", 3, false },
		{ "Hello\r\n.\r\n", 0, 1, "Hello\r\n", 10, false },
		{ "Hello\r\n.\r\nNOOP\r\n", 0, 1, "Hello\r\n", 10, false },
		{ "\r\n\r\n.\r\n", 0, 1, "\r\n\r\n", 7, false },
		/* RFC 5321 section 4.5.2 dot-unstuffing. */
		{ "..dot\r\n.\r\n", 0, 1, ".dot\r\n", 10, false },
		{ "..\r\n.\r\n", 0, 1, ".\r\n", 7, false },
		{ "...\r\n.\r\n", 0, 1, "..\r\n", 8, false },
		{ ". \r\n.\r\n", 0, 1, " \r\n", 7, false },
		{ "a\r\n.x\r\n.\r\n", 0, 1, "a\r\nx\r\n", 10, false },
		{ "a.\r\n.\r\n", 0, 1, "a.\r\n", 7, false },
		{ "a\r\n..\r\n.\r\n", 0, 1, "a\r\n.\r\n", 10, false },
		/* Not the end: "\r\n." followed by anything but CRLF. */
		{ "a\r\n.a\r\n.\r\n", 0, 1, "a\r\na\r\n", 10, false },
		/* 8-bit and binary octets pass. */
		{ "\xff\xfe\x80\r\n.\r\n", 0, 1, "\xff\xfe\x80\r\n", 8, false },
		/* SMTP smuggling: none of these end the message. */
		{ "a\n.\nb\r\n.\r\n", 0, 1, "a\n.\nb\r\n", 10, true },
		{ "a\r.\rb\r\n.\r\n", 0, 1, "a\r.\rb\r\n", 10, true },
		{ "a\r\n.\nb\r\n.\r\n", 0, 1, "a\r\n\nb\r\n", 11, true },
		{ "a\n.\r\nb\r\n.\r\n", 0, 1, "a\n.\r\nb\r\n", 11, true },
		{ "a\r\n.\rb\r\n.\r\n", 0, 1, "a\r\n\rb\r\n", 11, true },
		{ "a\r\n.\r\r\nx\r\n.\r\n", 0, 1, "a\r\n\r\r\nx\r\n", 13, true },
		{ "\n.\r\nx\r\n.\r\n", 0, 1, "\n.\r\nx\r\n", 10, true },
		{ "\r.\r\n.\r\n", 0, 1, "\r.\r\n", 7, true },
		{ "a\r\r\n.\r\n", 0, 1, "a\r\r\n", 7, true },
		{ "a\n\r\n.\r\n", 0, 1, "a\n\r\n", 7, true },
		{ "\n", 0, 0, "\n", 0, true },
		{ "a\n.\n", 0, 0, "a\n.\n", 0, true },
		{ "a\r.\r", 0, 0, "a\r.", 0, true },
		{ "a\r\n.\n", 0, 0, "a\r\n\n", 0, true },
		{ "a\n.\r\n", 0, 0, "a\n.\r\n", 0, true },
		{ "a\r\n.\r", 0, 0, "a\r\n", 0, false },
		{ "a\r\n.\r\r\n", 0, 0, "a\r\n\r\r\n", 0, true },
		{ "a\r\n.", 0, 0, "a\r\n", 0, false },
		{ "a\r\n", 0, 0, "a\r\n", 0, false },
		{ "a\r", 0, 0, "a", 0, false },
		{ "", 0, 0, "", 0, false },
		/* A message ends at the first terminator only. */
		{ "a\r\n.\r\n.\r\n", 0, 1, "a\r\n", 6, false },
	};
	struct rs_buf a, b;

	rs_buf_init(&a, RS_BUF_UNLIMITED);
	rs_buf_init(&b, RS_BUF_UNLIMITED);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		size_t olen = strlen(cases[i].want_out);
		struct data_result whole, r;

		whole = data_run(cases[i].in, len, 0, RS_BUF_UNLIMITED, &a);
		TEST_ASSERT_IDX(whole.rc == cases[i].want_rc, i);
		TEST_ASSERT_IDX(whole.bare == cases[i].want_bare, i);
		TEST_ASSERT_IDX(!whole.too_big, i);
		if (cases[i].want_rc == 1)
			TEST_ASSERT_IDX(whole.used == cases[i].want_used, i);
		else
			TEST_ASSERT_IDX(whole.used == len, i);
		TEST_ASSERT_IDX(data_same(&a, cases[i].want_out, olen), i);
		/* Every chunk size gives the same. */
		for (size_t chunk = 1; chunk < len; chunk++) {
			r = data_run(cases[i].in, len, chunk, RS_BUF_UNLIMITED, &b);
			TEST_ASSERT_IDX(r.rc == whole.rc && r.used == whole.used &&
			                r.bare == whole.bare, i);
			TEST_ASSERT_IDX(data_same(&b, (const char *)a.data, a.len),
			                i);
		}
	}
	rs_buf_free(&a);
	rs_buf_free(&b);
}

void
test_smtp_data_limits(void)
{
	struct rs_buf in, out;
	struct data_result r;
	struct smtp_data d;
	size_t used;

	rs_buf_init(&in, RS_BUF_UNLIMITED);
	rs_buf_init(&out, RS_BUF_UNLIMITED);
	/* A 998-octet line (RFC 5322 section 2.1.1) and one starting with
	 * a dot pass unchanged (after unstuffing). */
	for (int i = 0; i < 998; i++)
		TEST_ASSERT(rs_buf_append(&in, "x", 1) == 0);
	TEST_ASSERT(rs_buf_append_str(&in, "\r\n..y\r\n.\r\n") == 0);
	r = data_run((char *)in.data, in.len, 0, RS_BUF_UNLIMITED, &out);
	TEST_ASSERT(r.rc == 1 && !r.bare);
	TEST_ASSERT(out.len == 998 + 2 + 4);
	TEST_ASSERT(memcmp(out.data + 1000, ".y\r\n", 4) == 0);
	r = data_run((char *)in.data, in.len, 1, RS_BUF_UNLIMITED, &out);
	TEST_ASSERT(r.rc == 1 && out.len == 1004);
	/* Past the cap nothing is stored, but the end is still found. */
	r = data_run((char *)in.data, in.len, 0, 500, &out);
	TEST_ASSERT(r.rc == 1 && r.too_big && r.used == in.len);
	TEST_ASSERT(out.len <= 500);
	r = data_run((char *)in.data, in.len, 3, 1003, &out);
	TEST_ASSERT(r.rc == 1 && r.too_big);
	r = data_run((char *)in.data, in.len, 3, 1004, &out);
	TEST_ASSERT(r.rc == 1 && !r.too_big && out.len == 1004);
	/* A NUL is no bare anything. */
	r = data_run("a\0b\r\n.\r\n", 8, 1, RS_BUF_UNLIMITED, &out);
	TEST_ASSERT(r.rc == 1 && !r.bare && data_same(&out, "a\0b\r\n", 5));
	/* After the end, feeding consumes nothing more. */
	rs_buf_free(&out);
	rs_buf_init(&out, RS_BUF_UNLIMITED);
	smtp_data_init(&d, &out);
	TEST_ASSERT(smtp_data_feed(&d, (const uint8_t *)".\r\nQUIT\r\n", 9,
	                           &used) == 1);
	TEST_ASSERT(used == 3);
	TEST_ASSERT(smtp_data_feed(&d, (const uint8_t *)"QUIT\r\n", 6,
	                           &used) == 1);
	TEST_ASSERT(used == 0);
	TEST_ASSERT(d.received == 3);
	rs_buf_free(&in);
	rs_buf_free(&out);
}
