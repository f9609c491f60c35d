/* imap_parser.c: the incremental IMAP command parser of imap_parser.h.
 * Each line is copied whole into one capped buffer and tokenized in one
 * pass when its LF arrives; literal data follows its line in the buffer
 * (inline) or goes to the caller (streamed). Knows no command grammar. */
#include "node/imap/imap_parser.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"

#define IMAP_PARSER_TAIL    32      /* bytes kept of a skipped line */
#define IMAP_PARSER_KEEP    4096    /* wipe frees buffers above this */

enum imap_pstate {
	IMAP_PS_LINE = 0,       /* reading a line into buf */
	IMAP_PS_LITERAL,        /* reading a literal's data */
	IMAP_PS_SKIP_LINE,      /* error: skipping to LF, watching {n+} */
	IMAP_PS_SKIP_LIT,       /* error: skipping a {n+} literal's data */
	IMAP_PS_SKIP_RAW,       /* line mode error: skipping to LF */
};

enum imap_phase {
	IMAP_PH_TAG = 0,
	IMAP_PH_ARGS,           /* tag and name read */
};

enum imap_tok {
	IMAP_TOK_DONE = 0,      /* line ended */
	IMAP_TOK_LITERAL,       /* line ended with a literal announcement */
	IMAP_TOK_ERROR,
};

struct imap_parser {
	struct imap_parser_limits lim;
	uint64_t          nonsync_max;  /* LITERAL-: 0 = max_literal */
	enum imap_pstate  state;
	bool              line_mode;
	bool              reset_pending; /* last event's data still lent */

	struct rs_buf     buf;          /* owns: the command's lines and
	                                 * inline literals */
	size_t            line_start;   /* offset of the current line */

	enum imap_phase   phase;
	bool              need_sep;     /* a token ended: SP, ) or EOL next */
	bool              uid;
	size_t            tag_off, tag_len, name_off, name_len;

	struct imap_arg  *args;         /* owns; pre-order nodes */
	size_t           *offs;         /* owns; value offsets in buf */
	size_t            nalloc, nnodes, ntop;
	uint32_t          stack[IMAP_DEPTH_HARD_MAX]; /* open lists */
	unsigned          depth;
	unsigned          nliterals;
	uint32_t          nstreamed;

	uint64_t          lit_left;     /* LITERAL, SKIP_LIT: octets to go */
	size_t            lit_node;
	bool              lit_streamed, lit_binary;

	uint8_t           tail[IMAP_PARSER_TAIL];
	size_t            tail_len;
};

void
imap_parser_default_limits(struct imap_parser_limits *lim)
{
	lim->max_line = 64 * 1024;
	lim->max_command = 1024 * 1024;
	lim->max_literal = 64ull * 1024 * 1024;
	lim->inline_max = 64 * 1024;
	lim->max_args = 4096;
	lim->max_depth = 32;
	lim->max_literals = 256;
}

bool
imap_arg_is_nil(const struct imap_arg *a)
{
	return imap_arg_is_atom(a, "NIL");
}

bool
imap_arg_is_atom(const struct imap_arg *a, const char *word)
{
	return a->type == IMAP_ARG_ATOM && rs_str_ieq_cstr(a->str, word);
}

/* ATOM-CHAR plus '%', '*', ']' and '[' (RFC 9051 section 9): printable
 * ASCII but for atom-specials and quoted-specials. */
static inline bool
imap_parser_atom_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' &&
	       c != '"' && c != '\\';
}

/* tag = 1*<any ASTRING-CHAR except "+"> */
static inline bool
imap_parser_tag_char(uint8_t c)
{
	return imap_parser_atom_char(c) && c != '+' && c != '%' && c != '*';
}

static void
imap_parser_cmd_reset(struct imap_parser *p)
{
	rs_buf_reset(&p->buf);
	p->line_start = 0;
	p->phase = IMAP_PH_TAG;
	p->need_sep = false;
	p->uid = false;
	p->tag_off = p->tag_len = p->name_off = p->name_len = 0;
	p->nnodes = p->ntop = 0;
	p->depth = 0;
	p->nliterals = 0;
	p->nstreamed = 0;
	p->reset_pending = false;
}

struct imap_parser *
imap_parser_new(const struct imap_parser_limits *lim)
{
	struct imap_parser *p = rs_xcalloc(1, sizeof(*p));

	p->lim = *lim;
	if (p->lim.max_depth > IMAP_DEPTH_HARD_MAX)
		p->lim.max_depth = IMAP_DEPTH_HARD_MAX;
	if (p->lim.max_args == 0)
		p->lim.max_args = 1;
	rs_buf_init(&p->buf, p->lim.max_command);
	imap_parser_cmd_reset(p);
	return p;
}

void
imap_parser_free(struct imap_parser **pp)
{
	struct imap_parser *p = *pp;

	if (p == NULL)
		return;
	if (p->buf.data != NULL)
		memset(p->buf.data, 0, p->buf.cap);
	rs_buf_free(&p->buf);
	free(p->args);
	free(p->offs);
	memset(p->tail, 0, sizeof(p->tail));
	free(p);
	*pp = NULL;
}

void
imap_parser_set_nonsync_max(struct imap_parser *p, uint64_t max)
{
	p->nonsync_max = max;
}

void
imap_parser_refuse(struct imap_parser *p)
{
	if (p->state != IMAP_PS_LITERAL)
		return;
	p->reset_pending = true;
	if (p->args[p->lit_node].flags & IMAP_ARG_F_NONSYNC) {
		/* RFC 7888: the octets come whatever we answer. */
		p->state = IMAP_PS_SKIP_LIT;
	} else {
		p->state = IMAP_PS_LINE;
	}
}

void
imap_parser_line_mode(struct imap_parser *p)
{
	p->line_mode = true;
}

void
imap_parser_wipe(struct imap_parser *p)
{
	if (p->buf.data != NULL)
		memset(p->buf.data, 0, p->buf.cap);
	if (p->buf.cap > IMAP_PARSER_KEEP)
		rs_buf_free(&p->buf);
	memset(p->tail, 0, sizeof(p->tail));
	p->tail_len = 0;
	if (p->nalloc > 256) {
		RS_FREE(&p->args);
		RS_FREE(&p->offs);
		p->nalloc = 0;
	}
	if (p->state == IMAP_PS_LINE)
		imap_parser_cmd_reset(p);
}

bool
imap_parser_idle(const struct imap_parser *p)
{
	return p->state == IMAP_PS_LINE &&
	       (p->reset_pending || p->buf.len == 0);
}

/* Remembers the last bytes of a line being skipped. */
static void
imap_parser_tail_push(struct imap_parser *p, const uint8_t *s, size_t n)
{
	if (n >= IMAP_PARSER_TAIL) {
		memcpy(p->tail, s + n - IMAP_PARSER_TAIL, IMAP_PARSER_TAIL);
		p->tail_len = IMAP_PARSER_TAIL;
		return;
	}
	if (p->tail_len + n > IMAP_PARSER_TAIL) {
		size_t drop = p->tail_len + n - IMAP_PARSER_TAIL;

		memmove(p->tail, p->tail + drop, p->tail_len - drop);
		p->tail_len -= drop;
	}
	memcpy(p->tail + p->tail_len, s, n);
	p->tail_len += n;
}

/* Does the line [s, e) (no LF) end with a non-synchronizing literal
 * "{n+}" or "~{n+}"? Then *n_r is its size. */
static bool
imap_parser_tail_nonsync(const uint8_t *s, const uint8_t *e, uint64_t *n_r)
{
	const uint8_t *d;
	uint64_t n = 0;

	if (e > s && e[-1] == '\r')
		e--;
	while (e > s && e[-1] == ' ')
		e--;
	if (e - s < 4 || e[-1] != '}' || e[-2] != '+')
		return false;
	d = e - 2;
	while (d > s && d[-1] >= '0' && d[-1] <= '9')
		d--;
	if (d == e - 2 || d == s || d[-1] != '{' || e - 2 - d > 20)
		return false;
	for (; d < e - 2; d++) {
		if (n > (UINT64_MAX - 9) / 10)
			return false;
		n = n * 10 + (uint64_t)(*d - '0');
	}
	*n_r = n;
	return true;
}

/* Fills the event's tag, name and uid; with all, the arguments too.
 * Values get their NUL now that their delimiters have been read. */
static void
imap_parser_fill(struct imap_parser *p, struct imap_event *ev, bool all)
{
	char *b = (char *)p->buf.data;

	if (b == NULL) {
		ev->cmd.tag = rs_str_make("", 0);
		ev->cmd.name = rs_str_make("", 0);
		return;
	}
	b[p->tag_off + p->tag_len] = '\0';
	ev->cmd.tag = rs_str_make(b + p->tag_off, p->tag_len);
	if (p->phase != IMAP_PH_ARGS) {
		ev->cmd.name = rs_str_make("", 0);
		return;
	}
	b[p->name_off + p->name_len] = '\0';
	ev->cmd.name = rs_str_make(b + p->name_off, p->name_len);
	ev->cmd.uid = p->uid;
	if (!all)
		return;
	for (size_t i = 0; i < p->nnodes; i++) {
		struct imap_arg *a = &p->args[i];

		if (a->type == IMAP_ARG_LIST ||
		    (a->flags & IMAP_ARG_F_STREAMED) != 0) {
			a->str = rs_str_make("", 0);
			continue;
		}
		b[p->offs[i] + a->str.len] = '\0';
		a->str.p = b + p->offs[i];
	}
	ev->cmd.args = p->args;
	ev->cmd.nargs = p->ntop;
	ev->cmd.nstreamed = p->nstreamed;
}

/* The tag of a first line that never got tokenized (too long). */
static void
imap_parser_guess_tag(struct imap_parser *p)
{
	size_t i = 0;

	if (p->phase != IMAP_PH_TAG || p->buf.len == 0)
		return;
	while (i < p->buf.len && imap_parser_tag_char(p->buf.data[i]))
		i++;
	if (i > 0 && i < p->buf.len && p->buf.data[i] == ' ')
		p->tag_len = i;
}

static int
imap_parser_error(struct imap_parser *p, struct imap_event *ev,
                  struct rs_err *err, int code, const char *msg)
{
	if (p->phase == IMAP_PH_TAG && p->tag_len == 0)
		imap_parser_guess_tag(p);
	imap_parser_fill(p, ev, false);
	p->reset_pending = true;
	return rs_err_set(err, code, "%s", msg);
}

/* Appends a node under the open list (or at the top level). */
static struct imap_arg *
imap_parser_node(struct imap_parser *p, enum imap_arg_type type, size_t off)
{
	struct imap_arg *a;

	if (p->nnodes >= p->lim.max_args)
		return NULL;
	if (p->nnodes == p->nalloc) {
		size_t n = p->nalloc == 0 ? 16 : p->nalloc * 2;

		if (n > p->lim.max_args)
			n = p->lim.max_args;
		p->args = rs_xreallocarray(p->args, n, sizeof(*p->args));
		p->offs = rs_xreallocarray(p->offs, n, sizeof(*p->offs));
		p->nalloc = n;
	}
	a = &p->args[p->nnodes];
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->skip = 1;
	p->offs[p->nnodes] = off;
	if (p->depth > 0)
		p->args[p->stack[p->depth - 1]].nchildren++;
	else
		p->ntop++;
	p->nnodes++;
	return a;
}

/* Is the UTF-8 sequence at *s (lead c >= 0x80) valid? Advances *s. */
static bool
imap_parser_utf8(const uint8_t **sp, const uint8_t *e)
{
	const uint8_t *s = *sp;
	uint8_t c = *s;
	uint32_t cp;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1fu;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0fu;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07u;
	} else {
		return false;
	}
	if ((size_t)(e - s) <= n)
		return false;
	for (size_t i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return false;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	*sp = s + n + 1;
	return true;
}

/* A quoted string from the '"' at *sp; unescaped in place once its end is
 * known, so an error leaves the line as it came. */
static const char *
imap_parser_quoted(struct imap_parser *p, const uint8_t **sp,
                   const uint8_t *e)
{
	uint8_t *b = p->buf.data;
	const uint8_t *s = *sp + 1, *start = s;
	bool esc = false;
	struct imap_arg *a;

	for (;;) {
		if (s == e)
			return "Unterminated quoted string";
		if (*s == '"')
			break;
		if (*s == '\\') {
			if (s + 1 == e || (s[1] != '"' && s[1] != '\\'))
				return "Invalid escape in quoted string";
			esc = true;
			s += 2;
		} else if (*s >= 0x80) {
			if (!imap_parser_utf8(&s, e))
				return "Invalid UTF-8 in quoted string";
		} else if (*s == '\0' || *s == '\r' || *s == '\n') {
			return "Invalid character in quoted string";
		} else {
			s++;
		}
	}
	a = imap_parser_node(p, IMAP_ARG_QUOTED, (size_t)(start - b));
	if (a == NULL)
		return NULL;
	if (esc) {
		uint8_t *w = (uint8_t *)start;

		for (const uint8_t *r = start; r < s; r++) {
			if (*r == '\\')
				r++;
			*w++ = *r;
		}
		a->str.len = (size_t)(w - start);
	} else {
		a->str.len = (size_t)(s - start);
	}
	*sp = s + 1;
	return "";
}

/* The section of BODY[...] and friends: to its ']', spaces, parentheses
 * and quoted strings included. */
static const char *
imap_parser_section(const uint8_t **sp, const uint8_t *e)
{
	const uint8_t *s = *sp + 1;
	bool q = false;

	for (; s < e; s++) {
		if (*s < 0x20 || *s >= 0x7f || (!q && *s == '{'))
			return "Invalid character in section";
		if (q && *s == '\\' && s + 1 < e) {
			s++;
		} else if (*s == '"') {
			q = !q;
		} else if (!q && *s == ']') {
			*sp = s + 1;
			return "";
		}
	}
	return "Unterminated section";
}

static bool
imap_parser_section_word(const uint8_t *s, size_t n)
{
	static const char *const words[] = {
		"BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE",
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (rs_str_ieq_cstr(rs_str_make((const char *)s, n), words[i]))
			return true;
	return false;
}

/* An atom (or flag, or FETCH item with its section) from *sp. */
static const char *
imap_parser_atom(struct imap_parser *p, const uint8_t **sp, const uint8_t *e)
{
	const uint8_t *start = *sp, *s = start;
	struct imap_arg *a;

	if (*s == '\\')
		s++;
	for (;;) {
		while (s < e && imap_parser_atom_char(*s) && *s != '[')
			s++;
		if (s == e || *s != '[')
			break;
		if (imap_parser_section_word(start, (size_t)(s - start))) {
			const char *why = imap_parser_section(&s, e);

			if (*why != '\0')
				return why;
		} else {
			s++;
		}
	}
	if (s == start || (*start == '\\' && s == start + 1))
		return s < e && *s >= 0x80 ? "8-bit octet in atom" :
		       "Invalid character";
	if (s < e && *s >= 0x80)
		return "8-bit octet in atom";
	a = imap_parser_node(p, IMAP_ARG_ATOM, (size_t)(start - p->buf.data));
	if (a == NULL)
		return NULL;
	a->str.len = (size_t)(s - start);
	*sp = s;
	return "";
}

/* A literal announcement "{n}", "{n+}", "~{n}" at *sp: it must end the
 * line. Checks the limits and makes the node. */
static const char *
imap_parser_literal(struct imap_parser *p, const uint8_t **sp,
                    const uint8_t *e, int *code_r)
{
	const uint8_t *s = *sp;
	bool binary = false, nonsync = false;
	uint64_t n = 0;
	size_t digits = 0;
	struct imap_arg *a;

	if (*s == '~') {
		binary = true;
		s++;
		if (s == e || *s != '{')
			return "Invalid literal8";
	}
	for (s++; s < e && *s >= '0' && *s <= '9'; s++, digits++) {
		if (n > (UINT64_MAX - 9) / 10) {
			*code_r = RS_ETOOBIG;
			return "Literal too large";
		}
		n = n * 10 + (uint64_t)(*s - '0');
	}
	if (s < e && *s == '+') {
		nonsync = true;
		s++;
	}
	if (digits == 0 || s == e || *s != '}')
		return "Invalid literal";
	if (s + 1 != e)
		return "Literal must end the line";
	*code_r = RS_ETOOBIG;
	if (p->nliterals >= p->lim.max_literals)
		return "Too many literals";
	if (n > p->lim.max_literal)
		return "Literal too large";
	if (nonsync && p->nonsync_max > 0 && n > p->nonsync_max)
		return "Non-synchronizing literal too large";
	if (n <= p->lim.inline_max && n + 1 > p->lim.max_command - p->buf.len)
		return "Command too long";
	a = imap_parser_node(p, IMAP_ARG_LITERAL, p->buf.len);
	if (a == NULL)
		return "Too many arguments";
	*code_r = RS_EINVAL;
	a->size = n;
	a->flags = (uint8_t)((nonsync ? IMAP_ARG_F_NONSYNC : 0) |
	                     (binary ? IMAP_ARG_F_BINARY : 0));
	if (n > p->lim.inline_max) {
		a->flags |= IMAP_ARG_F_STREAMED;
		a->stream_idx = p->nstreamed++;
	} else {
		a->str.len = (size_t)n;
	}
	p->nliterals++;
	p->lit_node = p->nnodes - 1;
	p->lit_left = n;
	p->lit_streamed = (a->flags & IMAP_ARG_F_STREAMED) != 0;
	p->lit_binary = binary;
	*sp = e;
	return "";
}

/* Tag, command name and the UID prefix of a first line. */
static const char *
imap_parser_head(struct imap_parser *p, const uint8_t **sp, const uint8_t *e)
{
	const uint8_t *b = p->buf.data, *s = *sp, *n;

	while (s < e && imap_parser_tag_char(*s))
		s++;
	if (s == *sp || (s < e && *s != ' '))
		return "Invalid tag";
	p->tag_off = (size_t)(*sp - b);
	p->tag_len = (size_t)(s - *sp);
	for (int word = 0; word < 2; word++) {
		while (s < e && *s == ' ')
			s++;
		n = s;
		while (s < e && imap_parser_atom_char(*s))
			s++;
		if (s == n || (s < e && *s != ' '))
			return "Missing or invalid command name";
		p->name_off = (size_t)(n - b);
		p->name_len = (size_t)(s - n);
		if (word == 1 || !rs_str_ieq_cstr(
		    rs_str_make((const char *)n, p->name_len), "UID"))
			break;
		p->uid = true;
	}
	p->phase = IMAP_PH_ARGS;
	*sp = s;
	return "";
}

/* Tokenizes the line [s, e) of buf (no CRLF). */
static enum imap_tok
imap_parser_tokenize(struct imap_parser *p, const uint8_t *s,
                     const uint8_t *e, const char **why_r, int *code_r)
{
	const char *why = "";

	*code_r = RS_EINVAL;
	while (e > s && e[-1] == ' ')
		e--;
	if (p->phase == IMAP_PH_TAG) {
		why = imap_parser_head(p, &s, e);
		p->need_sep = true;
	}
	while (*why == '\0' && s < e) {
		uint8_t c = *s;

		if (c == ' ') {
			while (s < e && *s == ' ')
				s++;
			p->need_sep = false;
			continue;
		}
		if (c == ')') {
			if (p->depth == 0) {
				why = "Unbalanced parentheses";
				break;
			}
			struct imap_arg *l = &p->args[p->stack[--p->depth]];

			l->skip = (uint32_t)(p->nnodes - p->stack[p->depth]);
			s++;
			p->need_sep = true;
			continue;
		}
		if (p->need_sep) {
			why = "Missing space between arguments";
			break;
		}
		p->need_sep = true;
		if (c == '(') {
			if (p->depth >= p->lim.max_depth) {
				*code_r = RS_ETOOBIG;
				why = "Lists nested too deeply";
				break;
			}
			if (imap_parser_node(p, IMAP_ARG_LIST, 0) == NULL)
				why = NULL;
			else
				p->stack[p->depth++] = (uint32_t)(p->nnodes - 1);
			s++;
			p->need_sep = false;
		} else if (c == '"') {
			why = imap_parser_quoted(p, &s, e);
		} else if (c == '{' || (c == '~' && s + 1 < e && s[1] == '{')) {
			/* "~" alone starts an atom: "~peter/mail". */
			why = imap_parser_literal(p, &s, e, code_r);
			if (why != NULL && *why == '\0')
				return IMAP_TOK_LITERAL;
		} else {
			why = imap_parser_atom(p, &s, e);
		}
		if (why == NULL) {
			*code_r = RS_ETOOBIG;
			why = "Too many arguments";
		}
	}
	if (*why != '\0') {
		*why_r = why;
		return IMAP_TOK_ERROR;
	}
	return IMAP_TOK_DONE;
}

/* A whole line is in buf at [line_start, len), LF included. */
static int
imap_parser_line(struct imap_parser *p, struct imap_event *ev,
                 struct rs_err *err)
{
	const uint8_t *s = p->buf.data + p->line_start;
	const uint8_t *e = p->buf.data + p->buf.len - 1;    /* at LF */
	const char *why = "";
	int code = RS_EINVAL;
	uint64_t n;

	if (e > s && e[-1] == '\r')
		e--;
	if (p->line_mode) {
		p->line_mode = false;
		p->buf.data[e - p->buf.data] = '\0';
		ev->type = IMAP_EV_LINE;
		ev->data = rs_str_make((const char *)s, (size_t)(e - s));
		p->reset_pending = true;
		return 1;
	}
	if (p->phase == IMAP_PH_TAG) {
		const uint8_t *t = s;

		while (t < e && *t == ' ')
			t++;
		if (t == e) {                   /* an empty line: ignored */
			imap_parser_cmd_reset(p);
			return 0;
		}
	}
	switch (imap_parser_tokenize(p, s, e, &why, &code)) {
	case IMAP_TOK_LITERAL:
		imap_parser_fill(p, ev, false);
		ev->type = IMAP_EV_LITERAL;
		ev->lit_size = p->lit_left;
		ev->lit_sync = (p->args[p->lit_node].flags &
		                IMAP_ARG_F_NONSYNC) == 0;
		ev->lit_binary = p->lit_binary;
		ev->lit_streamed = p->lit_streamed;
		p->state = IMAP_PS_LITERAL;
		return 1;
	case IMAP_TOK_DONE:
		if (p->depth > 0) {
			why = "Unbalanced parentheses";
			break;
		}
		imap_parser_fill(p, ev, true);
		ev->type = IMAP_EV_COMMAND;
		p->reset_pending = true;
		return 1;
	case IMAP_TOK_ERROR:
		break;
	}
	/* Before the error writes its NULs into the line. */
	if (imap_parser_tail_nonsync(s, e, &n)) {
		p->lit_left = n;
		p->state = IMAP_PS_SKIP_LIT;
	}
	return imap_parser_error(p, ev, err, code, why);
}

/* IMAP_PS_LINE: copies up to the LF into buf. */
static int
imap_parser_read_line(struct imap_parser *p, const uint8_t *in, size_t len,
                      size_t *pos, struct imap_event *ev, struct rs_err *err)
{
	const uint8_t *lf = memchr(in + *pos, '\n', len - *pos);
	size_t n = lf != NULL ? (size_t)(lf - in) + 1 - *pos : len - *pos;
	size_t have = p->buf.len - p->line_start;
	size_t room = p->lim.max_line - have;      /* have <= max_line */
	const char *why = NULL;

	if (n > room)
		why = "Line too long";
	if (p->lim.max_command - p->buf.len < room)
		room = p->lim.max_command - p->buf.len;
	if (n > room && why == NULL)
		why = "Command too long";
	if (why != NULL) {
		size_t keep;

		p->tail_len = 0;
		if (p->line_mode) {
			/* Not a command: no tag to find in it. */
			p->line_mode = false;
			p->state = IMAP_PS_SKIP_RAW;
			rs_buf_reset(&p->buf);
			return imap_parser_error(p, ev, err, RS_ETOOBIG, why);
		}
		/* What fits is kept, so the tag is known however the line
		 * was split. */
		if (rs_buf_append(&p->buf, in + *pos, room) == 0)
			*pos += room;
		have = p->buf.len - p->line_start;
		keep = have < IMAP_PARSER_TAIL ? have : IMAP_PARSER_TAIL;
		imap_parser_tail_push(p, p->buf.data + p->buf.len - keep, keep);
		p->state = IMAP_PS_SKIP_LINE;
		return imap_parser_error(p, ev, err, RS_ETOOBIG, why);
	}
	if (rs_buf_append(&p->buf, in + *pos, n) != 0)
		return imap_parser_error(p, ev, err, RS_ETOOBIG,
		                         "Command too long");
	*pos += n;
	if (lf == NULL)
		return 0;
	return imap_parser_line(p, ev, err);
}

/* IMAP_PS_LITERAL: the data of an accepted literal. */
static int
imap_parser_read_literal(struct imap_parser *p, const uint8_t *in,
                         size_t len, size_t *pos, struct imap_event *ev,
                         struct rs_err *err)
{
	size_t n = len - *pos;
	const uint8_t *d = in + *pos;

	if (n > p->lit_left)
		n = (size_t)p->lit_left;
	if (!p->lit_binary && n > 0 && memchr(d, '\0', n) != NULL) {
		p->lit_left -= n;
		*pos += n;
		p->state = IMAP_PS_SKIP_LIT;
		return imap_parser_error(p, ev, err, RS_EINVAL,
		                         "NUL octet in literal");
	}
	p->lit_left -= n;
	*pos += n;
	if (p->lit_left == 0) {
		p->state = IMAP_PS_LINE;
		p->line_start = p->buf.len + (p->lit_streamed ? 0 : n);
		p->need_sep = true;
	}
	if (p->lit_streamed) {
		if (n == 0 && p->lit_left > 0)
			return 0;
		imap_parser_fill(p, ev, false);
		ev->type = IMAP_EV_DATA;
		ev->data = rs_str_make((const char *)d, n);
		return n > 0 ? 1 : 0;
	}
	/* Room was checked when the literal was announced. */
	if (rs_buf_append(&p->buf, d, n) != 0)
		return imap_parser_error(p, ev, err, RS_ETOOBIG,
		                         "Command too long");
	return 0;
}

/* IMAP_PS_SKIP_*: the rest of a refused or bad command. 1 when the
 * command's end was reached. */
static int
imap_parser_skip(struct imap_parser *p, const uint8_t *in, size_t len,
                 size_t *pos)
{
	const uint8_t *lf;
	uint64_t n;

	if (p->state == IMAP_PS_SKIP_LIT) {
		size_t k = len - *pos;

		if (k > p->lit_left)
			k = (size_t)p->lit_left;
		*pos += k;
		p->lit_left -= k;
		if (p->lit_left > 0)
			return 0;
		p->state = IMAP_PS_SKIP_LINE;
		p->tail_len = 0;
		return 0;
	}
	lf = memchr(in + *pos, '\n', len - *pos);
	if (lf == NULL) {
		if (p->state == IMAP_PS_SKIP_LINE)
			imap_parser_tail_push(p, in + *pos, len - *pos);
		*pos = len;
		return 0;
	}
	if (p->state == IMAP_PS_SKIP_LINE) {
		imap_parser_tail_push(p, in + *pos, (size_t)(lf - in) - *pos);
		if (imap_parser_tail_nonsync(p->tail, p->tail + p->tail_len,
		                             &n)) {
			*pos = (size_t)(lf - in) + 1;
			p->lit_left = n;
			p->state = IMAP_PS_SKIP_LIT;
			return 0;
		}
	}
	*pos = (size_t)(lf - in) + 1;
	p->state = IMAP_PS_LINE;
	p->tail_len = 0;
	p->reset_pending = true;
	return 1;
}

int
imap_parser_feed(struct imap_parser *p, const uint8_t *in, size_t len,
                 size_t *used_r, struct imap_event *ev_r, struct rs_err *err)
{
	size_t pos = 0;
	int rc = 0;

	memset(ev_r, 0, sizeof(*ev_r));
	if (p->reset_pending)
		imap_parser_cmd_reset(p);
	while (pos < len || (p->state == IMAP_PS_LITERAL && p->lit_left == 0)) {
		switch (p->state) {
		case IMAP_PS_LINE:
			rc = imap_parser_read_line(p, in, len, &pos, ev_r, err);
			break;
		case IMAP_PS_LITERAL:
			rc = imap_parser_read_literal(p, in, len, &pos, ev_r,
			                              err);
			break;
		case IMAP_PS_SKIP_LINE:
		case IMAP_PS_SKIP_LIT:
		case IMAP_PS_SKIP_RAW:
			/* A skipped command's end is a place to stop, so the
			 * caller sees the parser idle before the next one. */
			if (imap_parser_skip(p, in, len, &pos) > 0) {
				*used_r = pos;
				return 0;
			}
			rc = 0;
			break;
		}
		if (rc != 0)
			break;
	}
	*used_r = pos;
	return rc;
}
