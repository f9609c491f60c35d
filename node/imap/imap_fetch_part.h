/* imap_fetch_part.h: where FETCH finds BODY[section] and BINARY[section]
 * in a stored message (RFC 9051 6.4.5), from the message's MIME summary
 * (node/mime/mime.h), and the partial <origin.count> arithmetic. Pure: no
 * I/O; the FETCH engine reads the octets (imap_fetch.c). Internal to
 * node/imap. */
#ifndef ROOST_NODE_IMAP_FETCH_PART_H
#define ROOST_NODE_IMAP_FETCH_PART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/mime/mime.h"

/* The text after the part number of a section spec. */
enum imap_fetch_spec {
	IMAP_FETCH_SPEC_NONE = 0,    /* BODY[] or BODY[1.2] */
	IMAP_FETCH_SPEC_HEADER,
	IMAP_FETCH_SPEC_FIELDS,      /* HEADER.FIELDS (list) */
	IMAP_FETCH_SPEC_FIELDS_NOT,  /* HEADER.FIELDS.NOT (list) */
	IMAP_FETCH_SPEC_TEXT,
	IMAP_FETCH_SPEC_MIME,
};

/* A resolved section. */
struct imap_fetch_range {
	bool          found;         /* false: no such part: answer NIL */
	uint64_t      off, len;      /* octets of the stored message */
	enum mime_cte cte;           /* of the part's body (BINARY) */
	bool          filter;        /* HEADER.FIELDS(.NOT): off..len is a
	                              * header to filter */
};

/* A message without a usable summary (delivered before MIME parsing, or
 * too big to parse on the fly): one text/plain part whose header ends
 * after hdr_len octets. */
struct imap_fetch_plain {
	uint64_t size;               /* octets of the message */
	uint64_t hdr_len;            /* header and blank line */
};

/* True if section is "" or part numbers "1.2.3" (no zero, no spec). */
bool imap_fetch_part_section_ok(const char *section);

/* Resolves section ("" for the whole message, else "1.2.3") with spec.
 * p is the summary's record of that section (mime_summary_part), or NULL
 * when the message has no summary: then plain describes it as one
 * text/plain part. plain->size is the message size either way. 0, or
 * RS_EINVAL when section is malformed (the command is BAD). HEADER/TEXT
 * of a part that is not a message, or a part the plain message lacks,
 * leave r->found false (answer NIL). */
int imap_fetch_part_find(const struct mime_part *p,
                         const struct imap_fetch_plain *plain,
                         const char *section, enum imap_fetch_spec spec,
                         struct imap_fetch_range *r);

/* Applies a partial <origin.count> (RFC 9051 6.4.5) to an object of len
 * octets: the octets sent are [*off_r, *off_r + *len_r), empty when origin
 * is past the end. */
void imap_fetch_part_partial(uint64_t len, uint64_t origin, uint64_t count,
                             uint64_t *off_r, uint64_t *len_r);

/* Minimal structures for a message without a summary (plain). Each
 * writes into buf (size octets; 256 suffice) and returns buf. */
const char *imap_fetch_part_plain_bodystructure(
	const struct imap_fetch_plain *plain, bool extensible, char *buf,
	size_t size);
#define IMAP_FETCH_PART_NIL_ENVELOPE \
	"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"

#endif
