/* imap_fetch_items.h: the FETCH request as the FETCH engine executes it:
 * data items (RFC 9051 6.4.5, RFC 3516 BINARY) and modifiers (RFC 7162
 * CHANGEDSINCE, VANISHED), read from the parser's argument tree. Pure:
 * no I/O. Internal to node/imap. */
#ifndef ROOST_NODE_IMAP_FETCH_ITEMS_H
#define ROOST_NODE_IMAP_FETCH_ITEMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/imap/imap_fetch_part.h"
#include "node/imap/imap_parser.h"

#define IMAP_FETCH_ITEMS_MAX   64   /* items in one FETCH */
#define IMAP_FETCH_FIELDS_MAX  128  /* names in one HEADER.FIELDS */

enum imap_fetch_kind {
	IMAP_FETCH_FLAGS = 1,
	IMAP_FETCH_UID,
	IMAP_FETCH_MODSEQ,
	IMAP_FETCH_INTERNALDATE,
	IMAP_FETCH_SIZE,             /* RFC822.SIZE */
	IMAP_FETCH_ENVELOPE,
	IMAP_FETCH_BODY,             /* BODY without a section */
	IMAP_FETCH_BODYSTRUCTURE,
	IMAP_FETCH_SECTION,          /* BODY[], BINARY[], RFC822(.HEADER,
	                              * .TEXT) */
	IMAP_FETCH_BINARY_SIZE,
};

struct imap_fetch_item {
	enum imap_fetch_kind kind;
	char    *name;               /* owns: the response's item name,
	                              * "BODY[1.MIME]<0>", "RFC822" */
	char     section[MIME_SECTION_MAX + 1]; /* "" or "1.2" */
	enum imap_fetch_spec spec;
	char   **fields;             /* owns: HEADER.FIELDS names */
	size_t   nfields;
	bool     binary;             /* BINARY[...] or BINARY.SIZE */
	bool     peek;               /* no implicit \Seen */
	bool     partial;            /* <origin.count> */
	uint64_t origin, count;
};

struct imap_fetch_req {
	struct imap_fetch_item items[IMAP_FETCH_ITEMS_MAX];
	size_t   n;
	bool     need_record;        /* FLAGS (keywords), dates, size or a
	                              * body: the message record */
	bool     need_meta;          /* ENVELOPE, BODY(STRUCTURE), sections */
	bool     set_seen;           /* a non-PEEK body item (6.4.5) */
	bool     has_flags;          /* FLAGS requested */
	bool     changedsince_set;   /* RFC 7162 CHANGEDSINCE */
	uint64_t changedsince;
	bool     vanished;           /* RFC 7162 3.2.6 VANISHED */
};

/* Parses FETCH's arguments after the sequence set: args[0..n) are the
 * item (a macro, an item, or a list) and the optional modifier list.
 * uid: UID FETCH (adds the UID item, RFC 9051 6.4.9). 0, or RS_EINVAL
 * with *why_r a short text for the BAD reply. Free with
 * imap_fetch_items_free, also after an error. */
int imap_fetch_items_parse(const struct imap_arg *args, size_t n, bool uid,
                           struct imap_fetch_req *r, const char **why_r)
	RS_MUST_CHECK;
void imap_fetch_items_free(struct imap_fetch_req *r);

/* True if the field named name[0..len) is one of it's HEADER.FIELDS. */
bool imap_fetch_items_field_match(const struct imap_fetch_item *it,
                                  const char *name, size_t len);

#endif
