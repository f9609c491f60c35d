/* fuzz_addr.c: libFuzzer target for lib/rs_addr.c. The first byte's low
 * three bits are the flags; the rest is parsed as a path and as a
 * mailbox. Checks the round trips SMTP and the directory rely on: an
 * accepted address, formatted, parses again (as a path and as a mailbox)
 * to the same key, local part and domain, and formats to the same text;
 * the key is the lowercase of local@domain; no 8-bit octet is accepted
 * without RS_ADDR_UTF8; the lengths stay within RFC 5321 4.5.3.1. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_addr.h"

static void
fuzz_check(const struct rs_addr *a, unsigned flags)
{
	char fmt[RS_ADDR_TEXT_MAX], fmt2[RS_ADDR_TEXT_MAX];
	char path[RS_ADDR_TEXT_MAX + 2], k1[RS_ADDR_TEXT_MAX];
	char k2[RS_ADDR_TEXT_MAX];
	struct rs_addr b;
	struct rs_err err;
	size_t used, n, kl;

	if (strlen(a->local) > RS_ADDR_LOCAL_MAX ||
	    strlen(a->domain) > RS_ADDR_DOMAIN_MAX)
		abort();
	if (!(flags & RS_ADDR_UTF8)) {
		for (const char *p = a->local; *p != '\0'; p++)
			if ((unsigned char)*p >= 0x80)
				abort();
		for (const char *p = a->domain; *p != '\0'; p++)
			if ((unsigned char)*p >= 0x80)
				abort();
	}
	kl = rs_addr_key(a, k1, sizeof(k1));
	if (kl != strlen(k1))
		abort();
	if (!a->null) {
		char want[RS_ADDR_TEXT_MAX];

		snprintf(want, sizeof(want), "%s@%s", a->local, a->domain);
		for (char *p = want; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		if (strcmp(want, k1) != 0)
			abort();
	}
	n = rs_addr_format(a, fmt, sizeof(fmt));
	if (n != strlen(fmt))
		abort();
	if (n + 2 > RS_ADDR_PATH_MAX)
		abort();         /* every mailbox has a path form */
	snprintf(path, sizeof(path), "<%s>", fmt);
	if (rs_addr_parse_path(path, strlen(path), flags | RS_ADDR_ALLOW_NULL,
	                       &b, &used, &err) != 0 || used != strlen(path))
		abort();
	rs_addr_key(&b, k2, sizeof(k2));
	rs_addr_format(&b, fmt2, sizeof(fmt2));
	if (strcmp(k1, k2) != 0 || strcmp(fmt, fmt2) != 0 ||
	    strcmp(a->local, b.local) != 0 || strcmp(a->domain, b.domain) != 0 ||
	    a->null != b.null || a->utf8 != b.utf8)
		abort();
	if (a->null)
		return;
	if (rs_addr_parse_mailbox(fmt, n, flags, &b, &err) != 0)
		abort();
	rs_addr_key(&b, k2, sizeof(k2));
	if (strcmp(k1, k2) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_addr a;
	struct rs_err err;
	const char *s = (const char *)data + 1;
	unsigned flags;
	size_t len, used = 0;

	if (size < 1)
		return 0;
	flags = data[0] & 7u;
	len = size - 1;
	if (rs_addr_parse_path(s, len, flags, &a, &used, &err) == 0) {
		if (used < 2 || used > len || used > RS_ADDR_PATH_MAX ||
		    s[0] != '<' || s[used - 1] != '>')
			abort();
		if (a.null && !(flags & RS_ADDR_ALLOW_NULL))
			abort();
		fuzz_check(&a, flags);
	} else if (err.code != RS_EINVAL && err.code != RS_ETOOBIG) {
		abort();
	}
	if (rs_addr_parse_mailbox(s, len, flags, &a, &err) == 0) {
		if (a.null || memchr(s, '\0', len) != NULL)
			abort();
		fuzz_check(&a, flags);
	}
	for (size_t i = 0; i < len; i++) {
		size_t n = rs_utf8_seq_len((const unsigned char *)s + i, len - i);

		if (n > 4 || n > len - i)
			abort();
	}
	(void)rs_addr_domain_ok(s, len, flags & RS_ADDR_UTF8);
	return 0;
}
