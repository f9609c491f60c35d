/* fuzz_smtp_parser.c: libFuzzer target for node/smtp/smtp_parser.c and
 * smtp_args.c. The first byte picks a chunk size; the rest is a command
 * stream. Checks that chunking does not change the lines or errors, that
 * nothing is consumed past a line's LF, and runs the MAIL, RCPT, BDAT
 * and HELO argument parsers on every line, checking their results: a
 * refusal has a code the session knows; an accepted path formats and
 * re-parses to the same key; no 8-bit address without SMTPUTF8. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_buf.h"
#include "node/smtp/smtp_args.h"
#include "node/smtp/smtp_parser.h"

static void
fuzz_check_reject(const struct smtp_reject *r)
{
	if (r->code != 501 && r->code != 553 && r->code != 555)
		abort();
	if (r->status == NULL || r->reason == NULL || r->text == NULL ||
	    strchr(r->text, '\r') != NULL || strchr(r->text, '\n') != NULL)
		abort();
}

/* A parsed address formats back to a path that parses to the same key. */
static void
fuzz_check_addr(const struct rs_addr *a, unsigned flags)
{
	char fmt[RS_ADDR_TEXT_MAX], path[RS_ADDR_TEXT_MAX + 2];
	char k1[RS_ADDR_TEXT_MAX], k2[RS_ADDR_TEXT_MAX];
	struct rs_addr b;
	struct rs_err err;
	size_t used;

	if (a->utf8 && !(flags & RS_ADDR_UTF8))
		abort();
	rs_addr_format(a, fmt, sizeof(fmt));
	snprintf(path, sizeof(path), "<%s>", fmt);
	if (rs_addr_parse_path(path, strlen(path), flags | RS_ADDR_ALLOW_NULL,
	                       &b, &used, &err) != 0 || used != strlen(path))
		abort();
	rs_addr_key(a, k1, sizeof(k1));
	rs_addr_key(&b, k2, sizeof(k2));
	if (strcmp(k1, k2) != 0 || a->null != b.null)
		abort();
}

static void
fuzz_args(const struct smtp_line *l)
{
	struct smtp_reject rej;
	struct smtp_mail m;
	struct smtp_rcpt r;
	uint64_t size;
	bool last;

	switch (l->verb) {
	case SMTP_VERB_MAIL:
		if (smtp_args_mail(l->args, &m, &rej) != 0) {
			fuzz_check_reject(&rej);
			break;
		}
		if (m.body > SMTP_BODY_8BITMIME || (m.size != 0 && !m.has_size))
			abort();
		fuzz_check_addr(&m.from, m.smtputf8 ? RS_ADDR_UTF8 : 0);
		break;
	case SMTP_VERB_RCPT:
		for (int utf8 = 0; utf8 < 2; utf8++) {
			if (smtp_args_rcpt(l->args, utf8, &r, &rej) != 0) {
				fuzz_check_reject(&rej);
				continue;
			}
			if (r.to.null)
				abort();
			if (!r.postmaster)
				fuzz_check_addr(&r.to, utf8 ? RS_ADDR_UTF8 : 0);
		}
		break;
	case SMTP_VERB_BDAT:
		if (smtp_args_bdat(l->args, &size, &last) == 0 &&
		    (l->args.len == 0 || l->args.p[0] < '0' || l->args.p[0] > '9'))
			abort();
		break;
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
		if (smtp_args_helo(l->args, &rej) != 0)
			fuzz_check_reject(&rej);
		else if (memchr(l->args.p, ' ', l->args.len) != NULL ||
		         l->args.len > SMTP_HELO_MAX)
			abort();
		break;
	default:
		break;
	}
}

static void
fuzz_run(const uint8_t *in, size_t len, size_t step, size_t max_line,
         struct rs_buf *out, bool args)
{
	struct smtp_parser *p = smtp_parser_new(max_line);
	size_t off = 0;

	while (off < len) {
		size_t n = len - off < step ? len - off : step, pos = 0;

		while (pos < n) {
			struct smtp_line l;
			struct rs_err err;
			size_t used = 0;
			int rc = smtp_parser_feed(p, in + off + pos, n - pos, &used,
			                          &l, &err);

			if (used > n - pos)
				abort();
			/* Never past the LF of a complete line. */
			if (rc == 1 && in[off + pos + used - 1] != '\n')
				abort();
			pos += used;
			if (rc == 0 && pos != n)
				abort();
			if (rc == 1) {
				if (l.args.len > max_line ||
				    memchr(l.args.p, '\r', l.args.len) != NULL ||
				    memchr(l.args.p, '\n', l.args.len) != NULL)
					abort();
				if (rs_buf_printf(out, "%d|", (int)l.verb) != 0 ||
				    rs_buf_append(out, l.args.p, l.args.len) != 0 ||
				    rs_buf_append(out, "\n", 1) != 0)
					abort();
				if (args)
					fuzz_args(&l);
			} else if (rc < 0 &&
			           rs_buf_printf(out, "E|%s\n", err.msg) != 0) {
				abort();
			}
		}
		off += n;
	}
	smtp_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_buf a, b;

	if (size < 1)
		return 0;
	rs_buf_init(&a, RS_BUF_UNLIMITED);
	rs_buf_init(&b, RS_BUF_UNLIMITED);
	/* The smallest line limit, so that "too long" is reachable. */
	fuzz_run(data + 1, size - 1, size, SMTP_LINE_MIN, &a, true);
	fuzz_run(data + 1, size - 1, (size_t)data[0] + 1, SMTP_LINE_MIN, &b,
	         false);
	if (a.len != b.len || (a.len > 0 && memcmp(a.data, b.data, a.len) != 0))
		abort();
	rs_buf_free(&a);
	rs_buf_free(&b);
	return 0;
}
