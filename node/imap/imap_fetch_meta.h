/* imap_fetch_meta.h: a message's MIME summary as FETCH uses it: the
 * stored meta (struct store_msg.meta), or a summary parsed on the fly for
 * a message stored without one (up to IMAP_FETCH_PARSE_MAX octets), or,
 * past that, a minimal one-part description. Internal to node/imap. */
#ifndef ROOST_NODE_IMAP_FETCH_META_H
#define ROOST_NODE_IMAP_FETCH_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_buf.h"
#include "node/imap/imap_fetch_part.h"
#include "node/mime/mime.h"
#include "storage/store.h"

/* Messages without meta up to this size are parsed on the fly. */
#define IMAP_FETCH_PARSE_MAX ((size_t)4 * 1024 * 1024)
/* Octets read to find the header of a bigger one. */
#define IMAP_FETCH_HEAD_MAX  ((size_t)256 * 1024)

struct imap_fetch_meta {
	struct rs_buf       buf;      /* owns: the summary octets */
	bool                have;     /* sum is open */
	struct mime_summary sum;      /* borrows buf */
	struct imap_fetch_plain plain; /* size always; hdr_len without sum */
	char                tmp[256]; /* minimal BODYSTRUCTURE text */
};

void imap_fetch_meta_init(struct imap_fetch_meta *fm);
void imap_fetch_meta_free(struct imap_fetch_meta *fm);

/* Loads the summary of a message of size octets with body blob of
 * partition part: meta[0..meta_len) if not empty, else parsed from the
 * body. 0, or the store's error with err (RS_ENOTFOUND: the body is
 * gone). */
int imap_fetch_meta_load(struct imap_fetch_meta *fm, struct store *st,
                         uint32_t part, const uint8_t blob[STORE_HASH_LEN],
                         uint64_t size, const uint8_t *meta,
                         size_t meta_len, struct rs_err *err) RS_MUST_CHECK;

/* The MIME summary of a message being stored (APPEND), appended to out;
 * left empty if it cannot be made (the message is stored without one and
 * FETCH parses it when asked). */
void imap_fetch_meta_parse(const uint8_t *msg, size_t len,
                           struct rs_buf *out);

/* imap_fetch_part_find over the loaded summary. */
int imap_fetch_meta_find(const struct imap_fetch_meta *fm,
                         const char *section, enum imap_fetch_spec spec,
                         struct imap_fetch_range *r) RS_MUST_CHECK;

/* The ENVELOPE, BODYSTRUCTURE (extensible) or BODY text to send;
 * borrowed from fm. */
struct rs_str imap_fetch_meta_envelope(struct imap_fetch_meta *fm);
struct rs_str imap_fetch_meta_structure(struct imap_fetch_meta *fm,
                                        bool extensible);

#endif
