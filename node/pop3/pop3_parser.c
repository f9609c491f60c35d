/* pop3_parser.c: splits POP3 command lines into verb and arguments. Bytes
 * are copied into one fixed buffer until the LF, so the caller can feed
 * whatever the socket delivered; the limits are enforced while copying.
 * No I/O and no allocation after pop3_parser_new(). */
#include "node/pop3/pop3_parser.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

/* Content octets (CRLF excluded) of the longest lines. USER and AUTH get
 * a keyword, two long arguments and a few spaces. */
#define POP3_SHORT_CONTENT  (POP3_LINE_MAX - 2)
#define POP3_LONG_CONTENT   (4 + 1 + POP3_LONG_ARG_MAX + 1 + \
                             POP3_LONG_ARG_MAX + 8)
#define POP3_PASS_CONTENT   (5 + POP3_PASS_MAX)
#define POP3_BUF_MAX        POP3_SASL_LINE_MAX

_Static_assert(POP3_LONG_CONTENT <= POP3_BUF_MAX, "buffer too small");
_Static_assert(POP3_PASS_CONTENT <= POP3_BUF_MAX, "buffer too small");

enum pop3_parse_state {
	POP3_PARSE_LINE,       /* copying a line */
	POP3_PARSE_DISCARD,    /* after an error: skipping to the next LF */
};

struct pop3_parser {
	enum pop3_parse_state state;
	bool    sasl;           /* the current line is a SASL response */
	size_t  len;            /* octets in buf, a final CR included */
	size_t  limit;          /* content octets allowed on this line */
	uint8_t buf[POP3_BUF_MAX + 1]; /* +1: the CR before the LF */
};

/* One row per verb: the RFC 1939 / 2449 / 5034 syntax of its arguments. */
struct pop3_verb_def {
	const char    *name;
	enum pop3_verb verb;
	unsigned char  min_args, max_args;
	unsigned short arg_max;        /* octets in one argument */
	unsigned short content_max;    /* octets in the line, CRLF excluded */
	bool           rest;           /* the argument is the rest of line */
};

static const struct pop3_verb_def pop3_verbs[] = {
	/* RFC 1939 section 7, RFC 2449 section 4: long names, see header. */
	{ "USER", POP3_VERB_USER, 1, 1, POP3_LONG_ARG_MAX, POP3_LONG_CONTENT,
	  false },
	/* RFC 1939 section 7: spaces may be part of the password. */
	{ "PASS", POP3_VERB_PASS, 1, 1, POP3_PASS_MAX, POP3_PASS_CONTENT,
	  true },
	/* RFC 5034 section 4: AUTH mechanism [initial-response]. No
	 * argument: the RFC 1734-era mechanism listing some clients use. */
	{ "AUTH", POP3_VERB_AUTH, 0, 2, POP3_LONG_ARG_MAX, POP3_LONG_CONTENT,
	  false },
	{ "CAPA", POP3_VERB_CAPA, 0, 0, 0, POP3_SHORT_CONTENT, false },
	{ "STAT", POP3_VERB_STAT, 0, 0, 0, POP3_SHORT_CONTENT, false },
	{ "LIST", POP3_VERB_LIST, 0, 1, POP3_ARG_MAX, POP3_SHORT_CONTENT,
	  false },
	{ "RETR", POP3_VERB_RETR, 1, 1, POP3_ARG_MAX, POP3_SHORT_CONTENT,
	  false },
	{ "DELE", POP3_VERB_DELE, 1, 1, POP3_ARG_MAX, POP3_SHORT_CONTENT,
	  false },
	{ "NOOP", POP3_VERB_NOOP, 0, 0, 0, POP3_SHORT_CONTENT, false },
	{ "RSET", POP3_VERB_RSET, 0, 0, 0, POP3_SHORT_CONTENT, false },
	{ "QUIT", POP3_VERB_QUIT, 0, 0, 0, POP3_SHORT_CONTENT, false },
	{ "TOP", POP3_VERB_TOP, 2, 2, POP3_ARG_MAX, POP3_SHORT_CONTENT,
	  false },
	{ "UIDL", POP3_VERB_UIDL, 0, 1, POP3_ARG_MAX, POP3_SHORT_CONTENT,
	  false },
};

#define POP3_NVERBS (sizeof(pop3_verbs) / sizeof(pop3_verbs[0]))

struct pop3_parser *
pop3_parser_new(void)
{
	struct pop3_parser *p = rs_xcalloc(1, sizeof(*p));

	p->limit = POP3_SHORT_CONTENT;
	return p;
}

void
pop3_parser_free(struct pop3_parser **pp)
{
	if (*pp == NULL)
		return;
	pop3_parser_wipe(*pp);
	RS_FREE(pp);
}

void
pop3_parser_set_sasl(struct pop3_parser *p)
{
	p->sasl = true;
	p->limit = POP3_SASL_LINE_MAX;
}

void
pop3_parser_wipe(struct pop3_parser *p)
{
	explicit_bzero(p->buf, sizeof(p->buf));
}

const char *
pop3_verb_name(enum pop3_verb v)
{
	if (v == POP3_VERB_SASL)
		return "SASL";
	for (size_t i = 0; i < POP3_NVERBS; i++)
		if (pop3_verbs[i].verb == v)
			return pop3_verbs[i].name;
	return "?";
}

static bool
pop3_is_alpha(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* The keyword at the start of s (up to the first space), or NULL. */
static const struct pop3_verb_def *
pop3_verb_find(const uint8_t *s, size_t len)
{
	size_t k = 0;

	while (k < len && s[k] != ' ')
		k++;
	/* RFC 2449 section 4: keywords are 3 or 4 printable characters;
	 * all of ours are letters. */
	if (k < 3 || k > 4)
		return NULL;
	for (size_t i = 0; i < k; i++)
		if (!pop3_is_alpha(s[i]))
			return NULL;
	for (size_t i = 0; i < POP3_NVERBS; i++) {
		const struct pop3_verb_def *d = &pop3_verbs[i];

		if (strlen(d->name) == k &&
		    rs_str_ieq_cstr(rs_str_make((const char *)s, k), d->name))
			return d;
	}
	return NULL;
}

/* Line ended at octet len: the limit of a long verb once it is known. */
static size_t
pop3_line_limit(const struct pop3_parser *p)
{
	const struct pop3_verb_def *d;

	if (p->sasl)
		return POP3_SASL_LINE_MAX;
	d = pop3_verb_find(p->buf, p->len);
	return d != NULL ? d->content_max : POP3_SHORT_CONTENT;
}

static int
pop3_parse_args(const struct pop3_verb_def *d, const uint8_t *s, size_t len,
                struct pop3_cmd *cmd, struct rs_err *err)
{
	size_t i = strlen(d->name);

	if (d->rest) {
		/* RFC 1939 section 7: exactly one space, then the argument. */
		if (i + 1 >= len)
			return rs_err_set(err, RS_EINVAL, "Missing argument");
		cmd->rest = rs_str_make((const char *)s + i + 1, len - i - 1);
		cmd->args[0] = cmd->rest;
		cmd->nargs = 1;
		if (cmd->rest.len > d->arg_max)
			return rs_err_set(err, RS_EINVAL, "Argument too long");
		return 0;
	}
	for (;;) {
		size_t start;

		while (i < len && s[i] == ' ')
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && s[i] != ' ')
			i++;
		if (cmd->nargs == d->max_args)
			return rs_err_set(err, RS_EINVAL, "Too many arguments");
		if (i - start > d->arg_max)
			return rs_err_set(err, RS_EINVAL, "Argument too long");
		cmd->args[cmd->nargs++] =
			rs_str_make((const char *)s + start, i - start);
	}
	if (cmd->nargs < d->min_args)
		return rs_err_set(err, RS_EINVAL, "Missing argument");
	return 0;
}

/* A whole line (CR and LF removed) into *cmd. 1 or -1. */
static int
pop3_parse_line(const uint8_t *s, size_t len, bool sasl,
                struct pop3_cmd *cmd, struct rs_err *err)
{
	const struct pop3_verb_def *d;

	memset(cmd, 0, sizeof(*cmd));
	if (memchr(s, '\r', len) != NULL)
		return rs_err_set(err, RS_EINVAL, "Syntax error: bare CR");
	if (sasl) {
		cmd->verb = POP3_VERB_SASL;
		cmd->rest = rs_str_make((const char *)s, len);
		return 1;
	}
	if (len == 0)
		return rs_err_set(err, RS_EINVAL, "Empty command line");
	if ((d = pop3_verb_find(s, len)) == NULL)
		return rs_err_set(err, RS_EINVAL, "Unknown command");
	if (len > d->content_max)
		return rs_err_set(err, RS_ETOOBIG, "Line too long");
	if (pop3_parse_args(d, s, len, cmd, err) != 0)
		return -1;
	cmd->verb = d->verb;
	return 1;
}

/* Starts the next line in command mode. */
static void
pop3_parser_next(struct pop3_parser *p)
{
	p->state = POP3_PARSE_LINE;
	p->sasl = false;
	p->len = 0;
	p->limit = POP3_SHORT_CONTENT;
}

int
pop3_parser_feed(struct pop3_parser *p, const uint8_t *in, size_t len,
                 size_t *used_r, struct pop3_cmd *cmd_r, struct rs_err *err)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = in[i++];

		if (p->state == POP3_PARSE_DISCARD) {
			if (c == '\n')
				pop3_parser_next(p);
			continue;
		}
		if (c == '\n') {
			size_t n = p->len;
			bool sasl = p->sasl;

			if (n > 0 && p->buf[n - 1] == '\r')
				n--;
			pop3_parser_next(p);
			*used_r = i;
			return pop3_parse_line(p->buf, n, sasl, cmd_r, err);
		}
		if (c == '\0') {
			p->state = POP3_PARSE_DISCARD;
			*used_r = i;
			return rs_err_set(err, RS_EINVAL, "NUL byte in command "
			                  "line");
		}
		/* Check the size before storing: one octet more than the
		 * limit is allowed only for the CR of the CRLF. */
		if (p->len >= p->limit && p->limit == POP3_SHORT_CONTENT)
			p->limit = pop3_line_limit(p);
		if (p->len > p->limit || (p->len == p->limit && c != '\r')) {
			p->state = POP3_PARSE_DISCARD;
			*used_r = i;
			return rs_err_set(err, RS_ETOOBIG, "Line too long");
		}
		p->buf[p->len++] = c;
	}
	*used_r = i;
	return 0;
}
