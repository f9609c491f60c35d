/* Tests for node/imap/imap_search_text.c: SEARCH's text matching over
 * decoded, charset-converted text. */
#include <stdio.h>
#include <string.h>

#include "lib/rs_buf.h"
#include "node/imap/imap_search_text.h"
#include "tests/unit/test.h"

void
test_imap_search_text_find(void)
{
	static const struct {
		const char *hay, *needle;
		bool want;
	} cases[] = {
		{ "Hello World", "world", true },
		{ "Hello World", "WORLD", true },
		{ "Hello World", "worlds", false },
		{ "", "", true },
		{ "ab", "abc", false },
		{ "aaab", "aab", true },
		/* Latin-1 letters fold: É/é, Ü/ü; × and ÷ do not. */
		{ "caf\xc3\xa9", "CAF\xc3\x89", true },
		{ "CAF\xc3\x89", "caf\xc3\xa9", true },
		{ "M\xc3\x9c" "nchen", "m\xc3\xbc" "NCHEN", true },
		{ "\xc3\x97", "\xc3\xb7", false },
		/* A character never matches inside another one. */
		{ "\xc3\xa9", "\xc2\xa9", false },
		{ "\xc3\xa9", "\xa9", true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		TEST_ASSERT_IDX(imap_search_text_find(
			(const uint8_t *)cases[i].hay, strlen(cases[i].hay),
			cases[i].needle, strlen(cases[i].needle)) ==
			cases[i].want, i);
}

void
test_imap_search_text_header(void)
{
	static const char hdr[] =
		"From: =?iso-8859-1?q?Ren=E9?= <r@example.test>\r\n"
		"Subject: =?utf-8?b?w4l0w6k=?= news\r\n\r\n";
	const uint8_t *h = (const uint8_t *)hdr;

	TEST_ASSERT(imap_search_text_header(h, sizeof(hdr) - 1, "Subject",
	                                    "\xc3\xa9t\xc3\xa9 NEWS", 10));
	TEST_ASSERT(imap_search_text_header(h, sizeof(hdr) - 1, "FROM",
	                                    "REN\xc3\x89", 5));
	TEST_ASSERT(!imap_search_text_header(h, sizeof(hdr) - 1, "To",
	                                     "r", 1));
	TEST_ASSERT(imap_search_text_header(h, sizeof(hdr) - 1, NULL,
	                                    "subject: ", 9));
}

/* RFC 3501 6.4.4: FROM, TO, CC and BCC find an address however the
 * field writes it. */
void
test_imap_search_text_addr(void)
{
	static const struct {
		const char *hdr;
		const char *field;
		const char *needle;
		bool want;
	} cases[] = {
		{ "From: Joe <user-from@domain.org>\r\n", "From",
		  "user-from@domain.org", true },
		{ "From: user-from@domain.org (Joe)\r\n", "From",
		  "user-from@domain.org", true },
		{ "From: \"user-from\"@domain.org\r\n", "From",
		  "user-from@domain.org", true },
		{ "From: user-from(c)@domain.org\r\n", "From",
		  "user-from@domain.org", true },
		{ "From: Joe <user-from @ domain.org>\r\n", "From",
		  "user-from@domain.org", true },
		{ "From: Joe\r\n <user-from@\r\n domain.org>\r\n", "From",
		  "user-from@domain.org", true },
		{ "From: friends: a@b.c, user-from@domain.org;\r\n", "From",
		  "user-from@domain.org", true },
		{ "From: =?utf-8?q?J=C3=B6?= <USER-FROM@Domain.ORG>\r\n",
		  "from", "user-from@domain.org", true },
		{ "From: =?utf-8?q?J=C3=B6?= <x@domain.org>\r\n", "From",
		  "J\xc3\xb6 <x@", true },
		{ "Cc: \"Zed Q\" <zed@x.org>\r\n", "Cc", "zed q", true },
		{ "To: other@domain.org\r\n", "To", "user-from@domain.org",
		  false },
		{ "From: user-from@domain.org\r\n", "To",
		  "user-from@domain.org", false },
		/* Not an address field: as written. */
		{ "Subject: \"user-from\"@domain.org\r\n", "Subject",
		  "user-from@domain.org", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *h = cases[i].hdr;

		TEST_ASSERT_IDX(imap_search_text_header(
		    (const uint8_t *)h, strlen(h), cases[i].field,
		    cases[i].needle, strlen(cases[i].needle)) == cases[i].want,
		    i);
	}
}

static bool
imap_search_text_msg(const char *msg, const char *needle)
{
	struct rs_buf meta;
	struct mime_summary sum;
	bool found;

	rs_buf_init(&meta, 1 << 20);
	TEST_ASSERT(mime_parse((const uint8_t *)msg, strlen(msg), &meta,
	                       NULL) == 0);
	TEST_ASSERT(mime_summary_open(meta.data, meta.len, &sum) == 0);
	found = imap_search_text_body((const uint8_t *)msg, strlen(msg), &sum,
	                              needle, strlen(needle));
	rs_buf_free(&meta);
	return found;
}

void
test_imap_search_text_body(void)
{
	static const char latin_qp[] =
		"Content-Type: text/plain; charset=ISO-8859-1\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
		"un caf=E9=\r\n cr=E8me\r\n";
	static const char cp1252[] =
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
		"Content-Type: text/plain; charset=\"windows-1252\"\r\n\r\n"
		"\x93hi\x94\r\n--b\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n"
		"R3LDvMOfZQ==\r\n--b--\r\n";
	static const char unknown[] =
		"Content-Type: text/plain; charset=x-frob\r\n\r\n"
		"caf\xe9\r\n";
	static const char mixed[] =
		"Subject: x\r\n"
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n"
		"SGVsbG8gaGlkZGVuIHdvcmxk\r\n--b\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
		"soft=\r\n break\r\n--b--\r\n";
	static char big[200 * 1024];
	size_t n;

	TEST_ASSERT(imap_search_text_msg(latin_qp, "CAF\xc3\x89 cr\xc3\xa8me"));
	TEST_ASSERT(!imap_search_text_msg(latin_qp, "cafe"));
	TEST_ASSERT(imap_search_text_msg(cp1252, "\xe2\x80\x9chi\xe2\x80\x9d"));
	TEST_ASSERT(imap_search_text_msg(cp1252, "GR\xc3\x9c\xc3\x9f" "e"));
	TEST_ASSERT(imap_search_text_msg(mixed, "HIDDEN"));
	TEST_ASSERT(imap_search_text_msg(mixed, "soft break"));
	TEST_ASSERT(!imap_search_text_msg(mixed, "Subject"));
	/* Without a summary: the raw body. */
	TEST_ASSERT(imap_search_text_body((const uint8_t *)mixed,
	                                  sizeof(mixed) - 1, NULL, "SGVsbG8",
	                                  7));
	/* An unknown charset is searched as it is. */
	TEST_ASSERT(imap_search_text_msg(unknown, "caf\xe9"));
	/* A match across the 64 KB pieces, a Latin-1 é on each side. */
	n = (size_t)snprintf(big, sizeof(big),
	                     "Content-Type: text/plain; charset=latin1\r\n\r\n");
	memset(big + n, 'x', sizeof(big) - n - 1);
	memcpy(big + n + 64 * 1024 - 2, "\xe9y\xe9", 3);
	big[sizeof(big) - 1] = '\0';
	TEST_ASSERT(imap_search_text_msg(big, "x\xc3\xa9Y\xc3\xa9x"));
	TEST_ASSERT(!imap_search_text_msg(big, "xyx"));
}
