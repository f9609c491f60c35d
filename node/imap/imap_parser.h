/* imap_parser.h: incremental IMAP command parser (RFC 9051 section 9, and
 * RFC 3501 for IMAP4rev1 clients): tag, command name (with the UID
 * prefix), and the arguments as a tree of atoms, quoted strings, literals
 * ({n}, {n+} of RFC 7888 LITERAL+, ~{n} literal8 of RFC 3516) and
 * parenthesised lists. Command grammar (sequence sets, FETCH attributes,
 * SEARCH programs) is left to imap_seqset.h, imap_fetchatt.h and
 * imap_search.h, which read the tree. Pure: no I/O. Fuzzed by
 * tests/fuzz/fuzz_imap_parser.c.
 *
 * Lexical choices, where RFC 9051 is strict and clients are not:
 *  - runs of spaces separate arguments; spaces before CRLF are ignored;
 *  - a bare LF ends a line like CRLF (IMAP has no data phase to smuggle
 *    into: literal data is counted, never scanned for an end);
 *  - atoms are 1*ATOM-CHAR plus '%', '*' and ']' (list wildcards,
 *    sequence sets, astring's resp-specials) and may start with '\'
 *    (flags); an octet >= 0x80 in an atom is an error;
 *  - after BODY, BODY.PEEK, BINARY, BINARY.PEEK or BINARY.SIZE a '['
 *    opens a section that runs to its ']' with spaces, parentheses and
 *    quoted strings inside, so "BODY[HEADER.FIELDS (To)]<0.10>" is one
 *    atom for imap_fetchatt.h;
 *  - quoted strings take the escapes \" and \\ only and valid UTF-8
 *    (RFC 9051 utf8-quoted); NUL, CR and LF end them with an error;
 *  - a literal's data may hold any octet but NUL, except in literal8.
 *
 * Literals. A synchronizing literal {n} is reported (IMAP_EV_LITERAL)
 * once its announcement line has ended, before any of its data: the
 * caller answers "+ " or refuses it with imap_parser_refuse() and a
 * tagged reply; the client then never sends it. Literals up to
 * limits.inline_max octets are kept in the parser with the rest of the
 * command; larger ones are handed to the caller as IMAP_EV_DATA slices
 * of the input (the caller streams them into its own capped buffer) and
 * their node carries IMAP_ARG_F_STREAMED.
 *
 * Errors. After a syntax error the parser skips the rest of the command
 * by itself: to the end of the line, and if that line ends with a
 * non-synchronizing literal {n+}, over its n octets and on to the end of
 * the next line, and so on (the client sends those octets whatever we
 * answer, and they must never be read as commands). A line ending with a
 * synchronizing literal ends the command: the client waits for a "+ "
 * that never comes. */
#ifndef ROOST_NODE_IMAP_PARSER_H
#define ROOST_NODE_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_buf.h"
#include "lib/rs_err.h"

#define IMAP_DEPTH_HARD_MAX 64     /* the most max_depth may be */

struct imap_parser_limits {
	size_t   max_line;          /* octets of one line, CRLF included */
	size_t   max_command;       /* octets the parser holds for one
	                             * command: text and inline literals */
	uint64_t max_literal;       /* octets of one literal */
	size_t   inline_max;        /* larger literals are streamed */
	unsigned max_args;          /* argument nodes (lists count) */
	unsigned max_depth;         /* list nesting, <= IMAP_DEPTH_HARD_MAX */
	unsigned max_literals;      /* literals in one command */
};

/* Defaults: 64 KiB lines, 1 MiB commands, 64 MiB literals, 64 KiB
 * inline, 4096 nodes, depth 32, 256 literals. */
void imap_parser_default_limits(struct imap_parser_limits *lim);

enum imap_arg_type {
	IMAP_ARG_ATOM = 1,          /* also numbers, NIL, flags, sets */
	IMAP_ARG_QUOTED,
	IMAP_ARG_LITERAL,
	IMAP_ARG_LIST,
};

#define IMAP_ARG_F_NONSYNC   0x01   /* literal: {n+} */
#define IMAP_ARG_F_BINARY    0x02   /* literal8: ~{n} */
#define IMAP_ARG_F_STREAMED  0x04   /* data went to the caller: no str */

/* Arguments are stored in pre-order: a list's children follow it, and
 * a + a->skip is the next sibling of a. */
struct imap_arg {
	enum imap_arg_type type;
	uint8_t       flags;        /* IMAP_ARG_F_* */
	uint32_t      skip;         /* 1 + number of descendants */
	uint32_t      nchildren;    /* LIST: direct children, from a + 1 */
	/* ATOM, QUOTED (unescaped), inline LITERAL: the value, NUL-ended
	 * (a literal8 may hold NULs); borrowed: valid until the next feed.
	 * Empty for LIST and streamed literals. */
	struct rs_str str;
	uint64_t      size;         /* LITERAL: octets */
	uint32_t      stream_idx;   /* STREAMED: 0, 1… in this command */
};

static inline const struct imap_arg *
imap_arg_next(const struct imap_arg *a)
{
	return a + a->skip;
}

/* True for an atom, quoted string or inline literal: an astring. */
static inline bool
imap_arg_is_string(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_QUOTED ||
	       (a->type == IMAP_ARG_LITERAL &&
	        (a->flags & IMAP_ARG_F_STREAMED) == 0);
}

/* RFC 9051 9 astring: a string, or an atom of ASTRING-CHARs (ATOM-CHAR
 * and "]"): none of the list-wildcards, no leading "\\", no section
 * (imap_arg.c). A mailbox name must be one. */
bool imap_arg_is_astring(const struct imap_arg *a);
/* RFC 9051 9 list-mailbox: a string, or an atom of list-chars (the
 * ASTRING-CHARs and the list-wildcards "%" and "*"). LIST's pattern. */
bool imap_arg_is_list_mailbox(const struct imap_arg *a);

/* True for the atom NIL (any case); a quoted "NIL" is a string. */
bool imap_arg_is_nil(const struct imap_arg *a);
/* True for an atom equal to word, ASCII case-insensitive. */
bool imap_arg_is_atom(const struct imap_arg *a, const char *word);

struct imap_cmd {
	struct rs_str          tag;     /* borrowed, NUL-ended (all four) */
	struct rs_str          name;    /* as sent; after UID, the command */
	bool                   uid;     /* "UID FETCH" and the like */
	const struct imap_arg *args;    /* top-level arguments */
	size_t                 nargs;
	uint32_t               nstreamed; /* streamed literals */
};

enum imap_event_type {
	IMAP_EV_COMMAND = 1,        /* cmd is complete */
	IMAP_EV_LITERAL,            /* a literal was announced */
	IMAP_EV_DATA,               /* octets of a streamed literal */
	IMAP_EV_LINE,               /* line mode: one whole line */
};

struct imap_event {
	enum imap_event_type type;
	/* COMMAND: everything. LITERAL: tag, name, uid. Errors: tag (empty
	 * when the line had none yet). */
	struct imap_cmd cmd;
	/* LITERAL */
	uint64_t lit_size;
	bool     lit_sync;          /* {n}: the caller sends "+ " or refuses */
	bool     lit_binary;        /* literal8 */
	bool     lit_streamed;      /* data will come as IMAP_EV_DATA */
	/* DATA: the next octets, borrowed from the input. LINE: the line
	 * without its CRLF, borrowed until the next feed. */
	struct rs_str data;
};

struct imap_parser;                   /* opaque */

/* Never returns NULL. The limits are copied. */
struct imap_parser *imap_parser_new(const struct imap_parser_limits *lim);
/* Wipes and frees *pp, sets it to NULL; NULL-safe. */
void imap_parser_free(struct imap_parser **pp);

/* Feeds bytes. 1: *ev_r holds an event; 0: all of in was consumed and
 * more is needed; -1: the command is bad, err->msg says why (a short
 * reply text), err->code is RS_ETOOBIG for a limit (answer [TOOBIG]) or
 * RS_EINVAL, and ev_r->cmd.tag names the command if known. The parser
 * then skips the rest of the command itself (see above), so the caller
 * answers once and keeps feeding. *used_r is the octets consumed (may be
 * 0 after -1: feed the same octets again). 0 is also returned, with
 * octets left unread, where the skipped rest of a bad or refused command
 * ends: the parser is idle there; feed the rest. */
int imap_parser_feed(struct imap_parser *p, const uint8_t *in, size_t len,
                     size_t *used_r, struct imap_event *ev_r,
                     struct rs_err *err) RS_MUST_CHECK;

/* Right after IMAP_EV_LITERAL: the caller refuses the literal (and so the
 * command) with a tagged reply of its own. A synchronizing literal is
 * never sent and the next octets start a new command; a non-synchronizing
 * one is skipped with the rest of its command. */
void imap_parser_refuse(struct imap_parser *p);

/* RFC 7888 LITERAL-: non-synchronizing literals of more than max octets
 * (4096 for LITERAL-) are refused with RS_ETOOBIG and skipped. 0 (the
 * default) allows them up to limits.max_literal. */
void imap_parser_set_nonsync_max(struct imap_parser *p, uint64_t max);

/* The next line is not a command: it is returned whole as IMAP_EV_LINE
 * (an AUTHENTICATE response, IDLE's DONE), up to max_line octets. One
 * line only; then command parsing resumes. Call between commands. */
void imap_parser_line_mode(struct imap_parser *p);

/* Zeroes what the parser holds (after LOGIN and AUTHENTICATE, so that no
 * password stays in memory) and releases large buffers. Invalidates the
 * slices of the last event. Call between commands. */
void imap_parser_wipe(struct imap_parser *p);

/* True between commands: nothing of a next command was read yet. */
bool imap_parser_idle(const struct imap_parser *p);

#endif
