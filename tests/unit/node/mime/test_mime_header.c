/* test_mime_header.c: header field iteration, lookup, unfolding and the
 * BODY[HEADER.FIELDS] / [HEADER.FIELDS.NOT] answers. */
#include "node/mime/mime_header.h"
#include "tests/unit/test.h"

static const char hdr[] = "A: 1\r\nB: 2\r\n\tcont \r\nnot a field\r\n"
	" orphan\r\nSubject : s\r\nc:3\r\n\r\nbody: no\r\n";

void
test_mime_header_iter(void)
{
	struct mime_header_iter it;
	struct mime_header_field f;
	const char *names[] = { "A", "B", "Subject", "c" };
	size_t n = 0;

	mime_header_iter_init(&it, (const uint8_t *)hdr, sizeof(hdr) - 1);
	while (mime_header_iter_next(&it, &f) == 1) {
		TEST_ASSERT_IDX(n < 4 && rs_str_eq(f.name, rs_str_cstr(names[n])),
		                n);
		n++;
	}
	TEST_ASSERT(n == 4);
	TEST_ASSERT(mime_header_iter_end(&it) ==
	            (size_t)(strstr(hdr, "body") - hdr));
	TEST_ASSERT(mime_header_len((const uint8_t *)hdr, sizeof(hdr) - 1) ==
	            (size_t)(strstr(hdr, "body") - hdr));
	TEST_ASSERT(mime_header_len((const uint8_t *)"A: 1", 4) == 4);
	TEST_ASSERT(mime_header_len((const uint8_t *)"\nx", 2) == 1);
	TEST_ASSERT(mime_header_len((const uint8_t *)"", 0) == 0);
}

void
test_mime_header_find(void)
{
	struct mime_header_field f;
	struct rs_buf b;

	rs_buf_init(&b, 64);
	TEST_ASSERT(mime_header_find((const uint8_t *)hdr, sizeof(hdr) - 1, "b",
	                             &f) == 0);
	TEST_ASSERT(rs_str_eq(f.value, RS_STR_LIT(" 2\r\n\tcont ")));
	TEST_ASSERT(rs_str_eq(f.raw, RS_STR_LIT("B: 2\r\n\tcont \r\n")));
	TEST_ASSERT(mime_header_unfold(f.value, &b) == 0);
	TEST_ASSERT_STREQ((char *)b.data, "2\tcont");
	TEST_ASSERT(mime_header_find((const uint8_t *)hdr, sizeof(hdr) - 1,
	                             "SUBJECT", &f) == 0);
	TEST_ASSERT(rs_str_eq(f.value, RS_STR_LIT(" s")));
	TEST_ASSERT(mime_header_find((const uint8_t *)hdr, sizeof(hdr) - 1,
	                             "body", &f) == RS_ENOTFOUND);
	TEST_ASSERT(mime_header_find((const uint8_t *)hdr, sizeof(hdr) - 1,
	                             "not a field", &f) == RS_ENOTFOUND);
	rs_buf_free(&b);
}

void
test_mime_header_fields(void)
{
	static const struct {
		const char *h;
		const char *names;   /* space-separated */
		bool negate;
		const char *want;
	} cases[] = {
		{ hdr, "a C", false, "A: 1\r\nc:3\r\n\r\n" },
		{ hdr, "b", false, "B: 2\r\n\tcont \r\n\r\n" },
		{ hdr, "a b", true, "Subject : s\r\nc:3\r\n\r\n" },
		{ hdr, "x", false, "\r\n" },
		{ "A: 1", "a", false, "A: 1\r\n\r\n" },
		{ "A: 1\nA: 2\n\n", "a", false, "A: 1\nA: 2\n\r\n" },
		{ "", "a", true, "\r\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rs_str names[4];
		size_t n = 0;
		const char *p = cases[i].names;
		struct rs_buf b;

		while (*p != '\0' && n < 4) {
			size_t l = strcspn(p, " ");

			names[n++] = rs_str_make(p, l);
			p += l + (p[l] == ' ');
		}
		rs_buf_init(&b, 256);
		TEST_ASSERT_IDX(mime_header_fields((const uint8_t *)cases[i].h,
		                strlen(cases[i].h), names, n, cases[i].negate,
		                &b) == 0, i);
		TEST_ASSERT_IDX(b.len == strlen(cases[i].want) &&
		                memcmp(b.data, cases[i].want, b.len) == 0, i);
		rs_buf_free(&b);
		rs_buf_init(&b, 3);
		TEST_ASSERT_IDX(mime_header_fields((const uint8_t *)cases[i].h,
		                strlen(cases[i].h), names, n, cases[i].negate,
		                &b) == (strlen(cases[i].want) > 3 ? RS_ETOOBIG : 0),
		                i);
		rs_buf_free(&b);
	}
}
