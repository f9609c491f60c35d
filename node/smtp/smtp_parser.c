/* smtp_parser.c: splits SMTP command lines into verb and arguments. Bytes
 * are copied into one fixed buffer until the LF, so the caller can feed
 * whatever the socket delivered; the length limit is enforced before
 * copying. No I/O and no allocation after smtp_parser_new(). */
#include "node/smtp/smtp_parser.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/rs_mem.h"

enum smtp_parse_state {
	SMTP_PARSE_LINE,       /* copying a line */
	SMTP_PARSE_DISCARD,    /* after "too long": skipping to the next LF */
};

struct smtp_parser {
	enum smtp_parse_state state;
	size_t  max;            /* octets before the LF: max_line - 1 */
	size_t  len;            /* octets in buf */
	uint8_t buf[];          /* max octets */
};

static const char *const smtp_verb_names[SMTP_VERB_COUNT] = {
	[SMTP_VERB_HELO] = "HELO",
	[SMTP_VERB_EHLO] = "EHLO",
	[SMTP_VERB_MAIL] = "MAIL",
	[SMTP_VERB_RCPT] = "RCPT",
	[SMTP_VERB_DATA] = "DATA",
	[SMTP_VERB_BDAT] = "BDAT",
	[SMTP_VERB_RSET] = "RSET",
	[SMTP_VERB_NOOP] = "NOOP",
	[SMTP_VERB_QUIT] = "QUIT",
	[SMTP_VERB_HELP] = "HELP",
	[SMTP_VERB_VRFY] = "VRFY",
	[SMTP_VERB_EXPN] = "EXPN",
};

struct smtp_parser *
smtp_parser_new(size_t max_line)
{
	struct smtp_parser *p;

	if (max_line < SMTP_LINE_MIN)
		max_line = SMTP_LINE_MIN;
	if (max_line > SMTP_LINE_MAX)
		max_line = SMTP_LINE_MAX;
	/* The LF is never stored; a CR before it is, then dropped. */
	p = rs_xcalloc(1, sizeof(*p) + max_line - 1);
	p->max = max_line - 1;
	return p;
}

void
smtp_parser_free(struct smtp_parser **pp)
{
	RS_FREE(pp);
}

const char *
smtp_verb_name(enum smtp_verb v)
{
	if ((unsigned)v >= SMTP_VERB_COUNT || smtp_verb_names[v] == NULL)
		return "?";
	return smtp_verb_names[v];
}

/* RFC 5321 section 2.4: verbs are case-insensitive. All of ours are four
 * letters, so a token of another length is unknown at once. */
static enum smtp_verb
smtp_verb_find(const uint8_t *s, size_t len)
{
	if (len != 4)
		return SMTP_VERB_UNKNOWN;
	for (unsigned v = 1; v < SMTP_VERB_COUNT; v++)
		if (strncasecmp((const char *)s, smtp_verb_names[v], 4) == 0)
			return (enum smtp_verb)v;
	return SMTP_VERB_UNKNOWN;
}

/* A whole line is in buf: checks it and splits it. */
static int
smtp_parser_line(struct smtp_parser *p, struct smtp_line *line_r,
                 struct rs_err *err)
{
	size_t n = p->len, k = 0;
	struct rs_str args;

	p->len = 0;                     /* the next line starts over */
	if (n > 0 && p->buf[n - 1] == '\r')
		n--;
	if (memchr(p->buf, '\0', n) != NULL)
		return rs_err_set(err, RS_EINVAL, "NUL byte in command");
	/* RFC 5321 section 2.3.8: CR only as part of CRLF. */
	if (memchr(p->buf, '\r', n) != NULL)
		return rs_err_set(err, RS_EINVAL, "Bare CR in command");
	while (k < n && p->buf[k] != ' ')
		k++;
	line_r->verb = smtp_verb_find(p->buf, k);
	if (line_r->verb == SMTP_VERB_UNKNOWN) {
		line_r->args = rs_str_make((const char *)p->buf, n);
		return 1;
	}
	args = rs_str_make((const char *)p->buf + k, n - k);
	line_r->args = rs_str_trim(args);
	return 1;
}

int
smtp_parser_feed(struct smtp_parser *p, const uint8_t *in, size_t len,
                 size_t *used_r, struct smtp_line *line_r,
                 struct rs_err *err)
{
	size_t i = 0;

	while (i < len) {
		const uint8_t *nl = memchr(in + i, '\n', len - i);
		size_t run = nl != NULL ? (size_t)(nl - (in + i)) : len - i;

		if (p->state == SMTP_PARSE_DISCARD) {
			if (nl == NULL)
				break;
			i += run + 1;
			p->state = SMTP_PARSE_LINE;
			p->len = 0;
			continue;
		}
		if (run > p->max - p->len) {
			/* Too long, whether or not its LF has arrived:
			 * answer now and drop the rest of the line. */
			p->len = 0;
			if (nl != NULL) {
				i += run + 1;
			} else {
				i = len;
				p->state = SMTP_PARSE_DISCARD;
			}
			*used_r = i;
			return rs_err_set(err, RS_ETOOBIG, "Line too long");
		}
		memcpy(p->buf + p->len, in + i, run);
		p->len += run;
		i += run;
		if (nl == NULL)
			break;
		*used_r = i + 1;            /* the LF */
		return smtp_parser_line(p, line_r, err);
	}
	*used_r = len;
	return 0;
}
