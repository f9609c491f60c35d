/* fuzz_imap_parser.c: libFuzzer target for node/imap/imap_parser.c.
 * The first input byte picks chunk sizes and a literal policy (accept,
 * refuse, LITERAL-), so lines and literals split at arbitrary places; a
 * command named LINE switches to line mode as AUTHENTICATE does. Checks
 * the parser's promises: consumption, NUL-ended values, tree shape,
 * atoms made of the astring and list-mailbox characters only, and the
 * grammar's order among them (imap_arg.c: an astring is a list-mailbox,
 * a string is both). test_imap_arg.c goes through every octet. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/imap/imap_parser.h"

/* RFC 9051 9: an atom outside a section is ASTRING-CHARs and
 * list-wildcards (a flag may start with one '\\'); nothing else may
 * come out of the lexer as an atom. */
static void
fuzz_check_atom(struct rs_str s)
{
	static const char specials[] = "(){ \"\\";

	if (s.len == 0 || memchr(s.p, '[', s.len) != NULL)
		return;                 /* sections have their own rules */
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (i == 0 && c == '\\' && s.len > 1)
			continue;
		if (c <= 0x20 || c >= 0x7f || strchr(specials, c) != NULL)
			abort();
	}
}

static size_t
fuzz_check_args(const struct imap_arg *a, size_t n, unsigned depth)
{
	size_t total = 0;

	if (depth > IMAP_DEPTH_HARD_MAX)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (a->skip == 0)
			abort();
		if (a->type == IMAP_ARG_LIST) {
			if (fuzz_check_args(a + 1, a->nchildren, depth + 1) + 1 !=
			    a->skip)
				abort();
		} else if (a->skip != 1) {
			abort();
		}
		if (a->str.p == NULL || a->str.p[a->str.len] != '\0')
			abort();
		if (a->type == IMAP_ARG_ATOM)
			fuzz_check_atom(a->str);
		if (imap_arg_is_astring(a) && !imap_arg_is_list_mailbox(a))
			abort();
		if (a->type != IMAP_ARG_ATOM && imap_arg_is_string(a) &&
		    !imap_arg_is_astring(a))
			abort();
		if (a->type == IMAP_ARG_LITERAL &&
		    (a->flags & IMAP_ARG_F_STREAMED) == 0 &&
		    a->str.len != a->size)
			abort();
		total += a->skip;
		a = imap_arg_next(a);
	}
	return total;
}

/* Checks one event and reacts as a session would. */
static void
fuzz_event(struct imap_parser *p, const struct imap_event *ev,
           const struct imap_parser_limits *lim, unsigned policy)
{
	switch (ev->type) {
	case IMAP_EV_COMMAND:
		if (ev->cmd.tag.len == 0 || ev->cmd.name.len == 0 ||
		    ev->cmd.tag.p[ev->cmd.tag.len] != '\0' ||
		    ev->cmd.name.p[ev->cmd.name.len] != '\0')
			abort();
		if (fuzz_check_args(ev->cmd.args, ev->cmd.nargs, 0) >
		    lim->max_args)
			abort();
		if (rs_str_ieq_cstr(ev->cmd.name, "LINE"))
			imap_parser_line_mode(p);
		if (rs_str_ieq_cstr(ev->cmd.name, "LOGIN"))
			imap_parser_wipe(p);
		if (!imap_parser_idle(p))
			abort();
		break;
	case IMAP_EV_LITERAL:
		if (ev->lit_size > lim->max_literal ||
		    (ev->lit_streamed != (ev->lit_size > lim->inline_max)))
			abort();
		if (policy == 1 || (policy == 2 && ev->lit_size % 2))
			imap_parser_refuse(p);
		break;
	case IMAP_EV_DATA:
		if (ev->data.len == 0)
			abort();
		break;
	case IMAP_EV_LINE:
		if (ev->data.len > lim->max_line ||
		    memchr(ev->data.p, '\n', ev->data.len) != NULL ||
		    ev->data.p[ev->data.len] != '\0')
			abort();
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser_limits lim;
	struct imap_parser *p;
	size_t pos = 1;
	unsigned policy;
	uint32_t seed;

	if (size == 0)
		return 0;
	policy = data[0] & 3;
	seed = data[0];
	imap_parser_default_limits(&lim);
	lim.max_line = 512;
	lim.max_command = 2048;
	lim.inline_max = 64;
	lim.max_literal = 4096;
	lim.max_args = 200;
	lim.max_depth = 16;
	lim.max_literals = 8;
	p = imap_parser_new(&lim);
	if (policy == 3)
		imap_parser_set_nonsync_max(p, 16);
	while (pos < size) {
		size_t n, used = 0;
		struct imap_event ev;
		struct rs_err err;
		int rc;

		seed = seed * 1103515245u + 12345u;
		n = 1 + (seed >> 16) % 97;
		if (n > size - pos)
			n = size - pos;
		rs_err_clear(&err);
		rc = imap_parser_feed(p, data + pos, n, &used, &ev, &err);
		if (used > n || (rc == 0 && used == 0 && n > 0))
			abort();
		pos += used;
		if (rc < 0) {
			if (err.msg[0] == '\0' || ev.cmd.tag.p == NULL ||
			    ev.cmd.tag.p[ev.cmd.tag.len] != '\0')
				abort();
			continue;
		}
		if (rc == 0)
			continue;
		fuzz_event(p, &ev, &lim, policy);
	}
	imap_parser_free(&p);
	return 0;
}
