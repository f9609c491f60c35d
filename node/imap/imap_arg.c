/* imap_arg.c: the RFC 9051 section 9 rules an argument's words are held
 * to once the lexer made it an atom: astring and list-mailbox. The lexer
 * is lenient on purpose (imap_parser.h: one atom kind serves flags,
 * sequence sets, sections and patterns); the commands ask here. */
#include <string.h>

#include "node/imap/imap_parser.h"

/* Whether every octet of an atom is a list-char, "%" and "*" allowed or
 * not. The lexer already keeps out atom-specials but for the wildcards,
 * "]" and a leading "\\"; a section ("BODY[...]") may hold spaces,
 * parentheses and quotes. */
static bool
imap_arg_atom_ok(struct rs_str s, bool wildcards)
{
	if (s.len == 0 || s.p[0] == '\\')
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c <= 0x20 || c >= 0x7f || c == '(' || c == ')' ||
		    c == '{' || c == '"' || c == '\\')
			return false;
		if (!wildcards && (c == '%' || c == '*'))
			return false;
	}
	return true;
}

bool
imap_arg_is_astring(const struct imap_arg *a)
{
	if (a->type == IMAP_ARG_ATOM)
		return imap_arg_atom_ok(a->str, false);
	return imap_arg_is_string(a);
}

bool
imap_arg_is_list_mailbox(const struct imap_arg *a)
{
	if (a->type == IMAP_ARG_ATOM)
		return imap_arg_atom_ok(a->str, true);
	return imap_arg_is_string(a);
}
