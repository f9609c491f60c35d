/* Tests for node/imap/imap_fetch_text.c: SEARCH's text matching. */
#include <string.h>

#include "lib/rs_buf.h"
#include "node/imap/imap_fetch_text.h"
#include "tests/unit/test.h"

void
test_imap_fetch_text_find(void)
{
	static const struct {
		const char *hay, *needle;
		bool want;
	} cases[] = {
		{ "Hello World", "world", true },
		{ "Hello World", "WORLD", true },
		{ "Hello World", "worlds", false },
		{ "", "", true },
		{ "abc", "", true },
		{ "ab", "abc", false },
		{ "caf\xc3\xa9", "CAF\xc3\xa9", true },
		{ "caf\xc3\xa9", "caf\xc3\x89", false },
		{ "aaab", "aab", true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		TEST_ASSERT_IDX(imap_fetch_text_find(
			(const uint8_t *)cases[i].hay, strlen(cases[i].hay),
			cases[i].needle, strlen(cases[i].needle)) ==
			cases[i].want, i);
}

void
test_imap_fetch_text_header(void)
{
	static const char hdr[] =
		"From: Alice <alice@example.test>\r\n"
		"Subject: =?utf-8?q?caf=C3=A9?= and\r\n more\r\n"
		"To: bob@example.test\r\n"
		"\r\n";
	static const struct {
		const char *field, *needle;
		bool want;
	} cases[] = {
		{ "Subject", "CAF\xc3\xa9", true },
		{ "subject", "and more", true },
		{ "Subject", "alice", false },
		{ "From", "alice@", true },
		{ "Cc", "", false },
		{ "To", "", true },
		{ NULL, "bob@example", true },
		{ NULL, "subject: ", true },
		{ NULL, "nowhere", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		TEST_ASSERT_IDX(imap_fetch_text_header(
			(const uint8_t *)hdr, sizeof(hdr) - 1, cases[i].field,
			cases[i].needle, strlen(cases[i].needle)) ==
			cases[i].want, i);
}

void
test_imap_fetch_text_body(void)
{
	static const char msg[] =
		"Subject: x\r\n"
		"Content-Type: multipart/mixed; boundary=b\r\n"
		"\r\n"
		"--b\r\n"
		"Content-Transfer-Encoding: base64\r\n"
		"\r\n"
		"SGVsbG8gaGlkZGVuIHdvcmxk\r\n"
		"--b\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n"
		"\r\n"
		"soft=\r\n break\r\n"
		"--b--\r\n";
	struct rs_buf meta;
	struct mime_summary sum;

	rs_buf_init(&meta, 1 << 20);
	TEST_ASSERT(mime_parse((const uint8_t *)msg, sizeof(msg) - 1, &meta,
	                       NULL) == 0);
	TEST_ASSERT(mime_summary_open(meta.data, meta.len, &sum) == 0);
	TEST_ASSERT(imap_fetch_text_body((const uint8_t *)msg,
	                                 sizeof(msg) - 1, &sum, "HIDDEN", 6));
	TEST_ASSERT(imap_fetch_text_body((const uint8_t *)msg,
	                                 sizeof(msg) - 1, &sum, "soft break",
	                                 10));
	TEST_ASSERT(!imap_fetch_text_body((const uint8_t *)msg,
	                                  sizeof(msg) - 1, &sum, "Subject", 7));
	/* Without a summary: the raw body. */
	TEST_ASSERT(imap_fetch_text_body((const uint8_t *)msg,
	                                 sizeof(msg) - 1, NULL, "SGVsbG8", 7));
	TEST_ASSERT(!imap_fetch_text_body((const uint8_t *)msg,
	                                  sizeof(msg) - 1, NULL, "hidden", 6));
	rs_buf_free(&meta);
}
