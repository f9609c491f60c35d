/* test_mime_decode.c: base64 and quoted-printable decoders fed whole,
 * byte by byte and split at every position (same output each way), the
 * decoded size, charsets and RFC 2047 encoded-words. */
#include <stdlib.h>

#include "node/mime/mime_decode.h"
#include "tests/unit/test.h"

/* Decodes in with the first chunk of split octets, then step octets. */
static size_t
decode_all(enum mime_cte cte, const char *in, size_t len, size_t split,
           size_t step, uint8_t *out)
{
	struct mime_decoder d;
	size_t pos = 0, o = 0;

	mime_decoder_init(&d, cte);
	while (pos < len) {
		size_t n = pos < split ? split - pos : step, w;

		if (n > len - pos)
			n = len - pos;
		w = mime_decoder_run(&d, (const uint8_t *)in + pos, n, out + o);
		TEST_ASSERT(w <= mime_decoder_bound(n));
		o += w;
		pos += n;
	}
	o += mime_decoder_finish(&d, out + o);
	return o;
}

void
test_mime_decode_cases(void)
{
	static const struct {
		enum mime_cte cte;
		const char *in, *want;
	} cases[] = {
		{ MIME_CTE_BASE64, "SGVsbG8gV29ybGQ=", "Hello World" },
		{ MIME_CTE_BASE64, "SGVs\r\nbG8g\r\nV29y\r\nbGQh\r\n", "Hello World!" },
		{ MIME_CTE_BASE64, "SG Vs*bG8", "Hello" },
		{ MIME_CTE_BASE64, "SGk=SGk=", "HiHi" },
		{ MIME_CTE_BASE64, "SGVsbA", "Hell" },
		{ MIME_CTE_BASE64, "", "" },
		{ MIME_CTE_QP, "a=3Db", "a=b" },
		{ MIME_CTE_QP, "soft=\r\nbreak", "softbreak" },
		{ MIME_CTE_QP, "soft=\nbreak", "softbreak" },
		{ MIME_CTE_QP, "x= \t\r\ny", "xy" },
		{ MIME_CTE_QP, "trail  \r\nx", "trail\r\nx" },
		{ MIME_CTE_QP, "trail \t\nx", "trail\nx" },
		{ MIME_CTE_QP, "in side", "in side" },
		{ MIME_CTE_QP, "a  ", "a" },
		{ MIME_CTE_QP, "bad=ZZ", "bad=ZZ" },
		{ MIME_CTE_QP, "bad=4Z", "bad=4Z" },
		{ MIME_CTE_QP, "end=4", "end=4" },
		{ MIME_CTE_QP, "end=", "end=" },
		{ MIME_CTE_QP, "caf=e9=C3=A9", "caf\xe9\xc3\xa9" },
		{ MIME_CTE_QP, "cr\ronly", "cr\ronly" },
		{ MIME_CTE_QP, "= x", "= x" },
		{ MIME_CTE_7BIT, "as\r\nis =3D", "as\r\nis =3D" },
		{ MIME_CTE_UNKNOWN, "x", "x" },
	};
	uint8_t whole[256], part[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].in), wl = strlen(cases[i].want);
		size_t n = decode_all(cases[i].cte, cases[i].in, len, len, 1,
		                      whole);

		if (n != wl || memcmp(whole, cases[i].want, wl) != 0)
			test_fail(__FILE__, __LINE__, "case %zu: got \"%.*s\"",
			          i, (int)n, whole);
		TEST_ASSERT_IDX(mime_decoded_size(cases[i].cte,
		                (const uint8_t *)cases[i].in, len) == wl, i);
		for (size_t split = 0; split <= len; split++) {
			size_t m = decode_all(cases[i].cte, cases[i].in, len,
			                      split, 1, part);

			TEST_ASSERT_IDX(m == n && memcmp(part, whole, n) == 0, i);
		}
	}
}

/* A large body decoded in 256 KiB chunks into an rs_buf equals the
 * decoding in one go and mime_decoded_size(). */
void
test_mime_decode_big(void)
{
	size_t n = 3 * 1024 * 1024, o = 0;
	char *in = malloc(n);
	struct mime_decoder d;
	struct rs_buf out;
	static const char line[] = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n";

	while (o + sizeof(line) - 1 <= n) {
		memcpy(in + o, line, sizeof(line) - 1);
		o += sizeof(line) - 1;
	}
	rs_buf_init(&out, 4 * 1024 * 1024);
	mime_decoder_init(&d, MIME_CTE_BASE64);
	for (size_t off = 0; off < o; off += 256 * 1024) {
		size_t k = o - off < 256 * 1024 ? o - off : 256 * 1024;

		TEST_ASSERT(mime_decoder_feed(&d, (uint8_t *)in + off, k, &out) ==
		            0);
	}
	TEST_ASSERT(mime_decoder_end(&d, &out) == 0);
	TEST_ASSERT(out.len == o / (sizeof(line) - 1) * 26);
	TEST_ASSERT(memcmp(out.data, "ABCDEFGHIJKLMNOPQRSTUVWXYZABC", 29) == 0);
	TEST_ASSERT(mime_decoded_size(MIME_CTE_BASE64, (uint8_t *)in, o) ==
	            out.len);
	rs_buf_free(&out);
	/* A cap too small: RS_ETOOBIG. */
	rs_buf_init(&out, 100);
	mime_decoder_init(&d, MIME_CTE_BASE64);
	TEST_ASSERT(mime_decoder_feed(&d, (uint8_t *)in, o, &out) == RS_ETOOBIG);
	rs_buf_free(&out);
	free(in);
}

void
test_mime_decode_2047(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "plain text", "plain text" },
		{ "=?utf-8?q?caf=C3=A9?=", "caf\xc3\xa9" },
		{ "=?UTF-8?B?Y2Fmw6k=?=", "caf\xc3\xa9" },
		{ "=?iso-8859-1?q?a?= =?iso-8859-1?q?b?=", "ab" },
		{ "=?iso-8859-1?q?a?=\r\n =?utf-8?q?b?=", "ab" },
		{ "=?iso-8859-1?q?a?= x =?iso-8859-1?q?b?=", "a x b" },
		{ "x =?iso-8859-1?q?a_b?= y", "x a b y" },
		/* A UTF-8 character split over two words. */
		{ "=?utf-8?b?ww==?= =?utf-8?b?qQ==?=", "\xc3\xa9" },
		{ "=?utf-8?q?=C3?= =?utf-8?q?=A9?=", "\xc3\xa9" },
		{ "=?koi8-r?q?x?=", "=?koi8-r?q?x?=" },
		{ "=?utf-8*en?q?x?=", "x" },
		{ "=?utf-8?x?abc?=", "=?utf-8?x?abc?=" },
		{ "=?utf-8?q?no end", "=?utf-8?q?no end" },
		{ "=?utf-8?q?sp ace?=", "=?utf-8?q?sp ace?=" },
		{ "=?windows-1252?q?=93q=94?=", "\xe2\x80\x9cq\xe2\x80\x9d" },
		{ "=?us-ascii?q?=FF?=", "\xef\xbf\xbd" },
		{ "=?utf-8?q?=FF?=", "\xef\xbf\xbd" },
		{ "folded\r\n line", "folded line" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rs_buf out;

		rs_buf_init(&out, 1024);
		TEST_ASSERT_IDX(mime_decode_2047(cases[i].in, strlen(cases[i].in),
		                                 &out) == 0, i);
		if (out.len != strlen(cases[i].want) ||
		    (out.len > 0 && memcmp(out.data, cases[i].want, out.len) != 0))
			test_fail(__FILE__, __LINE__, "case %zu: got \"%.*s\"", i,
			          (int)out.len, out.data);
		rs_buf_free(&out);
	}
}

void
test_mime_charsets(void)
{
	struct rs_buf out;

	TEST_ASSERT(mime_charset_lookup("UTF-8", 5) == MIME_CHARSET_UTF8);
	TEST_ASSERT(mime_charset_lookup("Latin1", 6) == MIME_CHARSET_LATIN1);
	TEST_ASSERT(mime_charset_lookup("CP1252", 6) == MIME_CHARSET_CP1252);
	TEST_ASSERT(mime_charset_lookup("us-ascii*en", 11) == MIME_CHARSET_ASCII);
	TEST_ASSERT(mime_charset_lookup("big5", 4) == MIME_CHARSET_UNKNOWN);
	rs_buf_init(&out, 64);
	TEST_ASSERT(mime_charset_to_utf8(MIME_CHARSET_LATIN1,
	            (const uint8_t *)"\xe9\xff", 2, &out) == 0);
	TEST_ASSERT(out.len == 4 && memcmp(out.data, "\xc3\xa9\xc3\xbf", 4) == 0);
	rs_buf_reset(&out);
	TEST_ASSERT(mime_charset_to_utf8(MIME_CHARSET_CP1252,
	            (const uint8_t *)"\x80\x81", 2, &out) == 0);
	TEST_ASSERT(out.len == 5 &&
	            memcmp(out.data, "\xe2\x82\xac\xc2\x81", 5) == 0);
	rs_buf_reset(&out);
	TEST_ASSERT(mime_charset_to_utf8(MIME_CHARSET_UTF8,
	            (const uint8_t *)"a\xc3(\xed\xa0\x80", 6, &out) == 0);
	TEST_ASSERT(out.len == 14);
	TEST_ASSERT(mime_charset_to_utf8(MIME_CHARSET_UNKNOWN,
	            (const uint8_t *)"a", 1, &out) == RS_EINVAL);
	rs_buf_free(&out);
}
