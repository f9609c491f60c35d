/* mime.h: the message parser (RFC 5322, RFC 2045-2049, RFC 2231) and the
 * reader of its result. A message is parsed once, at delivery or APPEND;
 * mime_parse() turns it into a summary, opaque bytes stored with the
 * message (struct store_message.meta), which hold, ready to send, its IMAP
 * ENVELOPE, BODYSTRUCTURE and BODY (RFC 9051 section 7.5.2), a table of its
 * parts (where each BODY[section] lies in the stored message) and its SORT
 * and THREAD keys (RFC 5256, RFC 5957). FETCH never parses a body again.
 *
 * Pure: no I/O. Fuzzed by tests/fuzz/fuzz_mime.c. Decoders for FETCH
 * BINARY and SEARCH are in mime_decode.h, header lookup in mime_header.h.
 *
 * Malformed mail never fails the parse: it is summarised as well as it
 * can be (a multipart without a usable boundary is text/plain, a missing
 * field is NIL), so that mail stored as received still answers FETCH. */
#ifndef ROOST_NODE_MIME_MIME_H
#define ROOST_NODE_MIME_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_buf.h"
#include "lib/rs_err.h"

#define MIME_DEPTH_MAX   32      /* nesting of multiparts and messages */
#define MIME_PARTS_MAX   10000   /* parts of one message, all levels */
#define MIME_SECTION_MAX 200     /* octets of the longest "n.n.n" */

/* Content-Transfer-Encoding (RFC 2045 section 6.1), for FETCH BINARY. */
enum mime_cte {
	MIME_CTE_7BIT = 0,       /* also when the field is absent */
	MIME_CTE_8BIT,
	MIME_CTE_BINARY,
	MIME_CTE_BASE64,
	MIME_CTE_QP,             /* quoted-printable */
	MIME_CTE_UNKNOWN,        /* anything else: BINARY answers UNKNOWN-CTE */
};

enum mime_part_kind {
	MIME_PART_LEAF = 0,      /* a body that holds no parts */
	MIME_PART_MULTIPART,     /* children are its parts */
	MIME_PART_MESSAGE,       /* message/rfc822 or message/global */
};

enum mime_summary_flags {
	MIME_SUMMARY_TRUNCATED = 1 << 0, /* a limit cut the structure or a
	                                  * field: see mime_parse() */
	MIME_SUMMARY_BARE_LF = 1 << 1,   /* some line ends in LF alone */
	MIME_SUMMARY_NUL = 1 << 2,       /* the message holds a NUL octet */
};

/* Parses the whole message msg[0..len) (header and body; lines may end in
 * CRLF or in LF alone) and appends its summary to meta_out.
 *
 * Never fails on malformed input. Limits: MIME_DEPTH_MAX levels,
 * MIME_PARTS_MAX parts (the rest of the message then belongs to the body
 * of the last part), fields read from the first 1 MiB of each header and
 * at most 256 KiB of each field. The summary stays under STORE_META_MAX:
 * if it would not, the message is summarised again with lower limits
 * (1000 parts and 8 KiB fields, then 64 parts and 1 KiB fields, then as
 * one text/plain part with 256-octet fields), so the result is the same
 * for the same bytes. MIME_SUMMARY_TRUNCATED tells that a limit applied.
 *
 * 0, or RS_ETOOBIG (meta_out unchanged) if meta_out cannot take the
 * summary, which is then at most STORE_META_MAX octets. */
int mime_parse(const uint8_t *msg, size_t len, struct rs_buf *meta_out,
               struct rs_err *err) RS_MUST_CHECK;

/* The SORT and THREAD keys of a message. Strings are borrowed from the
 * summary's meta, not NUL-terminated, empty when absent. */
struct mime_sort_keys {
	int64_t sent_date;          /* Date: as seconds since the epoch, UTC;
	                             * 0 if absent or unparseable (RFC 5256
	                             * 2.2: SORT then uses INTERNALDATE) */
	int32_t sent_tz;            /* its zone, minutes east of UTC */
	bool    subject_reply;      /* base subject extraction removed a
	                             * "Re:", "Fwd:", "(fwd)" or "[fwd: ]" */
	struct rs_str base_subject; /* RFC 5256 2.1, decoded to UTF-8 */
	struct rs_str from_mailbox; /* addr-mailbox of the first From
	                             * address, ASCII-lowercased (RFC 5256) */
	struct rs_str from_display; /* RFC 5957 section 3 DISPLAY value of the
	                             * first From address, UTF-8 */
	struct rs_str to_mailbox, to_display;
	struct rs_str cc_mailbox, cc_display;
	struct rs_str message_id;   /* first "<...>" of Message-ID */
	struct rs_str in_reply_to;  /* first "<...>" of In-Reply-To */
	struct rs_str references;   /* "<...>" of References, space-separated */
};

/* An opened summary. Fields are read-only; strings are borrowed from meta,
 * which the caller keeps alive and unchanged while it is used. */
struct mime_summary {
	const uint8_t *meta;        /* borrowed */
	size_t         len;
	unsigned       flags;       /* enum mime_summary_flags */
	uint64_t       msg_size;    /* octets of the parsed message */
	uint32_t       nparts;      /* records in the part table */
	struct rs_str  envelope;    /* "(date subject ... message-id)" */
	struct rs_str  bodystructure; /* "(...)", extensible form */
	struct rs_str  body;        /* "(...)", non-extensible form */
	struct mime_sort_keys keys;
	size_t         table_off;   /* the part table in meta */
};

/* Opens meta[0..len) as stored by mime_parse(). 0, or RS_EIO if it is not
 * a summary of this version or is damaged: every length and offset is
 * checked here, so no accessor reads outside meta or the message. */
int mime_summary_open(const uint8_t *meta, size_t len,
                      struct mime_summary *s) RS_MUST_CHECK;

/* The texts to send after "ENVELOPE ", "BODYSTRUCTURE " and "BODY ". They
 * may hold literals ("{n}\r\n..."): 8-bit, CR, LF or NUL octets never go
 * in a quoted string, so they are valid without UTF8=ACCEPT. */
struct rs_str mime_summary_envelope(const struct mime_summary *s);
struct rs_str mime_summary_bodystructure(const struct mime_summary *s);
struct rs_str mime_summary_body(const struct mime_summary *s);
const struct mime_sort_keys *mime_summary_keys(const struct mime_summary *s);

/* Where one BODY[section] lies: offsets are octets of the stored message.
 *  - [section]        body_off, body_len;
 *  - [section.MIME]   hdr_off, hdr_len (the blank line included);
 *  - the whole part   hdr_off .. body_off + body_len (body_off is
 *                     hdr_off + hdr_len);
 *  - [section.HEADER], [section.TEXT]: msg_hdr_*, msg_text_*, only when
 *    kind is MIME_PART_MESSAGE or for the section "" (the message itself:
 *    its HEADER and TEXT); zero otherwise.
 * For a single-part message, part "1" is the message's body and its MIME
 * header is the message header (RFC 9051 section 6.4.5). */
struct mime_part {
	char     section[MIME_SECTION_MAX + 1]; /* "2.1.3", "" */
	enum mime_part_kind kind;
	enum mime_cte cte;          /* how the body is encoded */
	uint64_t hdr_off, hdr_len;
	uint64_t body_off, body_len;
	uint64_t lines;             /* LF octets in the body of a "text" or
	                             * "message" part (0 for the others) */
	uint64_t msg_hdr_off, msg_hdr_len;
	uint64_t msg_text_off, msg_text_len;
};

/* Looks up a section: "" (the whole message) or numbers joined by dots,
 * without a trailing specifier (".HEADER", ".MIME"... are the caller's).
 * 0, RS_ENOTFOUND if there is no such part, RS_EINVAL if section is not
 * of that form. */
int mime_summary_part(const struct mime_summary *s, const char *section,
                      struct mime_part *p) RS_MUST_CHECK;

/* Walks every part that has a section number, in order ("1", "1.1",
 * "1.2", "2"...), then stops; a multipart message's first record ("") is
 * included. Not part of the walk: a multipart directly inside a message
 * part, which has no number (its body is [n.TEXT]). */
struct mime_part_iter {
	const struct mime_summary *s; /* borrowed */
	size_t   off;               /* next record */
	uint32_t idx;               /* its index */
	uint32_t depth;
	struct {
		uint32_t end;       /* index after the node's subtree */
		uint32_t child;     /* children numbered so far */
		uint16_t seclen;    /* length of the node's section */
		uint8_t  kind;
	} st[MIME_DEPTH_MAX + 1];
	char     sec[MIME_SECTION_MAX + 8];
};

void mime_summary_iter_init(struct mime_part_iter *it,
                            const struct mime_summary *s);
/* 1: *p is the next part; 0: no more. */
int mime_summary_iter_next(struct mime_part_iter *it, struct mime_part *p);

/* The whole part (header and body), derived from p. */
static inline uint64_t
mime_part_whole_len(const struct mime_part *p)
{
	return p->hdr_len + p->body_len;
}

/* An address list (a From, To, Cc... field value, raw) as plain text
 * for SEARCH (RFC 3501 6.4.4): "name <local@domain>, group: ..." with
 * display names unquoted and RFC 2047-decoded, and each addr-spec
 * without quotes, comments or folding, so that a search for
 * "user@example.org" finds it in any form the field wrote it. At most
 * MIME_ADDR_TEXT_MAX addresses. Appends to out: 0 or RS_ETOOBIG. */
#define MIME_ADDR_TEXT_MAX 1000
int mime_addr_text(const char *p, size_t n, struct rs_buf *out)
	RS_MUST_CHECK;

#endif
